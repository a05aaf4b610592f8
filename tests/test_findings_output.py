"""The fast writers of a national month's outputs write what the plain ones write: the findings' CSV a
column at a time (views.findings_csv) as to_csv writes their records, and to_json as json.dumps(indent=2,
default=str) writes any value."""

import datetime
import json
import random
from decimal import Decimal

from claims.checks import Finding
from claims.report import views
from claims.report.formats import IDS_IN_A_CELL, Pounds, ids_cell, to_csv, to_json


def tricky_findings() -> list[Finding]:
    """Findings whose text starts like a formula, holds commas, quotes and newlines, or is not ASCII; no
    ids, a few, or more than fit in a cell; amounts negative, zero and large."""
    leaders = ["", "=", "+", "-", "@", "\t", "\uff1d", "'"]
    texts = ["plain", 'said "no", then left', "two\nlines", "é漢字 £1", "", "a,b;c"]
    chance = random.Random(23)
    found = []
    for i in range(200):
        ids = {kind: [chance.choice(leaders) + f"{kind[0]}{n:07d}" for n in range(chance.choice([1, 2, 100, 101]))]
               for kind in chance.sample(["patient", "discharge", "episode", "block", "event"], chance.randrange(0, 4))}
        found.append(Finding(chance.choice(["HDS-DUP-NHS", "=HDS-X"]), chance.choice(["error", "warning"]),
                             chance.choice(["4.4", "-1", ""]), chance.choice(leaders) + chance.choice(texts), ids,
                             chance.choice([0, 1, -1, -248_38, 123_456_789_01, i]),
                             chance.choice(leaders) + chance.choice(texts), chance.choice(["", "=ok by me"])))
    return found


def test_the_findings_csv_is_their_records_written_by_to_csv():
    findings = tricky_findings()
    assert any(len(ids) > IDS_IN_A_CELL for f in findings for ids in f.ids.values())
    kinds = ("patient", "discharge", "episode", "block", "event")
    assert views.finding_records(findings) == [
        {"code": f.code, "severity": f.severity, "paragraph": f.paragraph, "subject": f.subject,
         **{kind: ids_cell(f.ids.get(kind, [])) for kind in kinds}, "amount": Pounds.of(f.amount_pence),
         "message": f.message} for f in findings]  # the records as they were made a finding at a time
    expected = to_csv(views.finding_records(findings), views.FINDING_COLUMNS)
    assert views.findings_csv(findings) == expected
    assert views.findings_csv([]) == to_csv([], views.FINDING_COLUMNS)


def test_to_json_writes_what_json_dumps_writes():
    chance = random.Random(23)
    scalars = [None, True, False, 0, -7, 2**70, 1.5, float("nan"), "", "plain", 'q"uote\\', "é漢字\n\t\x01",
               Pounds.of(-24838), Decimal("12.50"), datetime.date(2020, 10, 31)]
    keys = ["code", "ids", "amount", "é", 'k"', ""]

    def value(depth):
        kind = chance.random() if depth < 4 else 0
        if kind < 0.4:
            return chance.choice(scalars)
        if kind < 0.55:
            return [chance.choice(scalars[8:12]) for _ in range(chance.randrange(0, 4))]  # text only
        if kind < 0.75:  # records: the same keys, or not; scalars, or nested values
            names = chance.sample(keys, chance.randrange(0, 4))
            return [{k: value(depth + 1) for k in (names if chance.random() < 0.8 else chance.sample(keys, 2))}
                    for _ in range(chance.randrange(0, 4))]
        if kind < 0.9:
            return {k: value(depth + 1) for k in chance.sample(keys, chance.randrange(0, 4))}
        return tuple(value(depth + 1) for _ in range(chance.randrange(0, 3)))

    for _ in range(3_000):
        data = value(0)
        assert to_json(data) == json.dumps(data, indent=2, default=str), data


def test_the_findings_json_is_json_dumps_of_their_data():
    from claims.checks import totals

    findings = tricky_findings()
    report = views.findings_report(findings, "2020-10", totals(findings))
    data = {"month": "2020-10", "findings": views.finding_json(findings),
            "totals": views.finding_totals(totals(findings))}
    assert report.render["json"]() == json.dumps(data, indent=2, default=str)


def test_json_keys_that_are_equal_but_not_alike_are_each_written_as_they_are():
    """1 == True: a record's key names are reused only among records whose keys are all text."""
    from claims.report.formats import to_json

    text = to_json([{1: []}, {True: []}])
    assert '"1"' in text and '"True"' in text
