"""Money leaves hds as a number wherever a program reads it: every amount in every CSV output is a
plain number (negatives too), while text cells stay neutralised against formulas."""

import csv
import io
from decimal import Decimal

import pytest

from claims.report.columns import kind
from claims.report.formats import to_csv
from tests.cli_helpers import ok


@pytest.fixture(scope="module")
def whatif(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whatif") / "rules"
    ok("rules", "export", folder)
    path = folder / "parameters" / "hds2.yaml"
    path.write_text(path.read_text().replace("value: 42", "value: 28"))
    return folder


def amounts(text: str) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    return [row[c] for row in rows for c in row if kind(c) == "money" and row[c] != ""]


@pytest.mark.parametrize("args", [
    ("claim", "--from", "2020-09", "--to", "2020-12"), ("claim", "--month", "2020-11"),
    ("reconcile", "--month", "2020-10"), ("recharge", "--month", "2020-10"), ("check", "--month", "2020-10"),
    ("allocations", "--month", "2020-10"), ("rules", "coverage", "--month", "2020-10"), ("trace", "P000000")])
def test_every_amount_in_a_csv_output_is_a_plain_number(paid_store, args):
    values = amounts(ok(*args, "--csv", "--db", paid_store))
    for value in values:
        Decimal(value)  # a number, not '-2846.82 or £1.00
        assert not value.startswith("'")


def test_the_under_payment_is_a_negative_number_in_claim_from_to(paid_store):
    rows = list(csv.DictReader(io.StringIO(ok("claim", "--from", "2020-09", "--to", "2020-12", "--csv",
                                              "--db", paid_store))))
    october = [r for r in rows if r["month"] == "2020-10" and r["scheme"] == "HDS2"]
    assert october[0]["difference"] == "-2846.82"


def test_compare_writes_amounts_moved_as_numbers(paid_store, whatif):
    text = ok("compare", "--month", "2020-10", "--rules", whatif, "--csv", "--db", paid_store)
    rows = list(csv.DictReader(io.StringIO(text)))
    negative = [r["amount_moved"] for r in rows if r["amount_moved"].startswith("-")]
    assert negative and all(Decimal(v) < 0 for v in negative)
    assert all(Decimal(r["days_moved"]) == int(r["days_moved"]) for r in rows)


def test_text_is_still_neutralised_but_numbers_never():
    text = to_csv([{"patient_id": "-P1", "amount": "-12.50", "reason": "=SUM(A1)", "days": -3}],
                  ["patient_id", "amount", "reason", "days"])
    assert text.splitlines()[1] == "'-P1,-12.50,'=SUM(A1),-3"
    assert to_csv([{"amount": "=1+1"}], ["amount"]).splitlines()[1] == "'=1+1"  # not a number: text, neutralised


def test_a_column_of_amounts_reads_as_each_amount_does():
    import numpy as np

    from hds.money import format_pounds, format_pounds_each

    pence = np.array([0, 1, -1, 99, -100, 100_000, -248_38, 123_456_789_01, -99_999_999_999]
                     + list(np.random.default_rng(23).integers(-10**9, 10**11, 1_000)), dtype=np.int64)
    assert format_pounds_each(pence) == [format_pounds(p) for p in pence.tolist()]
    assert format_pounds_each(np.zeros(0, dtype=np.int64)) == []
