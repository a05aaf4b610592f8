"""The audit sample: monetary-unit sampling, and the evidence pack written from a store."""

import csv
import hashlib
import json
import re
import shutil
import sqlite3
import stat
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from claims.audit import _trace_names, monetary_unit_sample, select, write_evidence_pack
from claims.ledger import claim_for, submit
from claims.commands.session import load, writing
from claims.ledger import patient_history
from claims.trace import build_trace, render_trace
from fixtures.generate import generate, write
from hds.errors import HdsError
from hds.store import StoreSource, open_store


# --- the sampler -----------------------------------------------------------------------------------------

POPULATION = [(n * 7919) % 50_000 + 100 for n in range(200)]  # 200 lines of £1 to £501, none dominant


def test_the_same_seed_gives_the_same_sample_and_another_seed_another():
    first = monetary_unit_sample(POPULATION, 12, seed=1)
    assert first == monetary_unit_sample(list(POPULATION), 12, seed=1)
    assert first == sorted(set(first)) and len(first) == 12
    others = [monetary_unit_sample(POPULATION, 12, seed=s) for s in range(2, 7)]
    assert all(other != first for other in others)


def test_lines_at_least_the_interval_are_certain_even_after_the_first_ones_are_taken():
    # total £100.00, 5 lines wanted: interval £20, so 5000 is certain; then £50 over 4 lines gives
    # an interval of £12.50 and 1500 becomes certain too; the other 3 come from the walk over 35 x 100
    amounts = [5000, 1500] + [100] * 35
    for seed in range(60):
        chosen = select(amounts, 5, seed)
        assert chosen.positions[:2] == [0, 1] and len(chosen.positions) == 5
        assert chosen.certain[0] and chosen.certain[1] and not any(chosen.certain[p] for p in chosen.positions[2:])
        assert chosen.interval == Fraction(3500, 3)


def test_a_line_exactly_the_interval_is_certain():
    amounts = [250, 250, 250, 100, 150]  # total 1000 over 4: interval 250
    for seed in range(30):
        assert monetary_unit_sample(amounts, 4, seed)[:3] == [0, 1, 2]


def test_zero_and_negative_lines_are_never_chosen():
    amounts = [0, 500, -300, 0, 200, -1, 700, 0, 100]
    for seed in range(200):
        chosen = monetary_unit_sample(amounts, 2, seed)
        assert len(chosen) == 2 and all(amounts[p] > 0 for p in chosen)
    assert monetary_unit_sample(amounts, 4, 3) == [1, 4, 6, 8]  # every line with money
    assert monetary_unit_sample(amounts, 10, 3) == [1, 4, 6, 8]
    assert monetary_unit_sample(amounts, 0, 3) == []
    assert monetary_unit_sample([0, -5], 3, 3) == [] and monetary_unit_sample([], 3, 3) == []


def test_selection_frequency_is_proportional_to_amount():
    amounts = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000] * 3  # total 16,500; none certain with 6
    size, runs = 6, 3000
    counts = np.zeros(len(amounts))
    for seed in range(runs):
        chosen = monetary_unit_sample(amounts, size, seed)
        assert len(chosen) == size
        counts[chosen] += 1
    expected = np.array(amounts) * size / sum(amounts)
    sigma = np.sqrt(expected * (1 - expected) / runs)
    assert (np.abs(counts / runs - expected) < 4.5 * sigma).all(), (counts / runs, expected)
    # and the big lines really are picked more often than the small ones
    assert counts[9] > 5 * counts[0]


def test_huge_amounts_do_not_overflow():
    amounts = [2 ** 70, 3 * 2 ** 60, 5, 7, 2 ** 61]  # the first certain, then 3/5 and 2/5 of the rest
    picks = [monetary_unit_sample(amounts, 2, seed) for seed in range(100)]
    assert {tuple(p) for p in picks} == {(0, 1), (0, 4)}
    assert 40 < sum(p == [0, 1] for p in picks) < 80
    assert len(monetary_unit_sample([10 ** 15 + n for n in range(50)], 20, 2)) == 20


@pytest.mark.parametrize("amounts, size", [([100, 2.5], 1), ([100, True], 1), ([100], -1), ([100], 1.5)])
def test_bad_input_is_refused(amounts, size):
    with pytest.raises(ValueError):
        monetary_unit_sample(amounts, size, 1)


# --- the evidence pack -------------------------------------------------------------------------------------

SIZE, SEED = 6, 11


def table_rows(ws) -> list[dict]:
    """A sheet written by table_workbook_bytes with a heading line: its data rows as dicts."""
    rows = list(ws.iter_rows(values_only=True))
    header = rows[1]
    out = []
    for row in rows[2:]:
        if row[0] in (None, "Total", "No rows"):
            continue
        out.append(dict(zip(header, row)))
    return out


def current_at(db: Path, table: str, column: str, values: list[str], load: int) -> list[dict]:
    """The versions of a table's rows valid at a load, read straight from SQLite."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        marks = ", ".join("?" * len(values))
        return [dict(r) for r in conn.execute(
            f"SELECT * FROM {table} WHERE {column} IN ({marks}) AND _load <= ? AND (_until_load IS NULL "
            f"OR _until_load > ?)", values + [load, load])]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def store_with_october_submitted(tmp_path_factory, library):
    """A store loaded from a small generated extract, October 2020 submitted, then a second load that
    changes the weekly cost of one episode the October sample will pick."""
    root = tmp_path_factory.mktemp("audit")
    first = write(generate(seed=4, per_month=12), root / "extract1")
    db = root / "hds.db"
    load(first, db)
    with writing(db) as store:
        submitted = submit(store, library, "2020-10")
    lines = submitted.claim.lines
    positions = monetary_unit_sample(lines["amount_pence"].tolist(), SIZE, SEED)
    changed = next(lines["episode_id"][p] for p in positions if lines["episode_id"][p])
    second = root / "extract2"
    shutil.copytree(first, second)
    text = (second / "episodes.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    for row in rows:
        if row["episode_id"] == changed:
            row["weekly_cost"] = f"{Decimal(row['weekly_cost']) + 10:.2f}"
    with (second / "episodes.csv").open("w", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    load(second, db)
    return db, first, second, changed


def test_the_evidence_pack_of_a_submitted_month(store_with_october_submitted, library, tmp_path):
    db, first, second, changed = store_with_october_submitted
    store = open_store(db)  # read-only: the pack cannot write to the store
    try:
        pack = write_evidence_pack(store, library, "2020-10", SIZE, SEED, tmp_path / "pack")
        submitted_lines = store.query("SELECT * FROM submission_lines WHERE submission_id = 1 ORDER BY line_no")
        loads = {r["id"]: json.loads(r["files"]) for r in store.query("SELECT id, files FROM loads")}
        expected_traces = {}
        for patient in {l["patient_id"] for l in pack.lines if l["patient_id"]}:
            trace = build_trace(StoreSource(store, 1), library, patient, month="2020-10",
                                submitted=patient_history(store, patient))
            expected_traces[patient] = render_trace(trace)
    finally:
        store.close()
    assert (pack.status, pack.submission_id, pack.load_id) == ("submitted", 1, 1)

    # the sample: the submission's lines picked by the sampler, by line number
    amounts = [l["amount_pence"] for l in submitted_lines]
    positions = monetary_unit_sample(amounts, SIZE, SEED)
    book = openpyxl.load_workbook(pack.workbook)
    assert book.sheetnames == ["Sample", "Discharges", "Episodes", "Events", "Block costs", "Files"]
    sample = table_rows(book["Sample"])
    assert len(sample) == len(pack.lines) == SIZE
    assert [r["Claim line"] for r in sample] == [p + 1 for p in positions]
    for row in sample:
        line = submitted_lines[row["Claim line"] - 1]
        assert (row["Episode"] or None, row["Block"] or None) == (line["episode_id"] or None, line["block_id"] or None)
        assert Decimal(str(row["Amount"])) == Decimal(line["amount_pence"]) / 100
        assert row["Why picked"].startswith(("certain", "by amount"))
        for tick in ("Assessment date seen", "Package start seen", "Invoice seen", "Checked by", "Notes"):
            assert row[tick] is None
    assert book["Sample"].cell(1, 1).value.startswith("Audit sample of the claim for October 2020 (submission 1")

    # the source rows: exactly those of the sampled discharges as at load 1, with their files' hashes
    discharges = sorted({r["Discharge"] for r in sample if r["Discharge"]})
    blocks = sorted({r["Block"] for r in sample if r["Block"]})
    sheets = {"Discharges": ("discharges", "discharge_id", discharges),
              "Episodes": ("episodes", "discharge_id", discharges),
              "Events": ("events", "discharge_id", discharges),
              "Block costs": ("block_costs", "block_id", blocks)}
    for title, (table, column, values) in sheets.items():
        rows = table_rows(book[title])
        expected = current_at(db, table, column, values, 1) if values else []
        key = "event_id" if table == "events" else column if table != "episodes" else "episode_id"
        assert sorted(r[key] for r in rows) == sorted(r[key] for r in expected), title
        originals = list(csv.reader((first / f"{table}.csv").read_text().splitlines()))
        digest = hashlib.sha256((first / f"{table}.csv").read_bytes()).hexdigest()
        for row in rows:
            assert (row["Load"], row["Source file"]) == (1, f"{table}.csv")
            assert row["File SHA-256"] == loads[1][f"{table}.csv"] == digest
            assert originals[row["Spreadsheet row"] - 1][0] == row[key]  # the header is row 1
    episodes = {r["episode_id"]: r for r in table_rows(book["Episodes"])}
    assert changed in episodes  # the version claimed, not the later one
    original = next(r for r in csv.DictReader((first / "episodes.csv").read_text().splitlines())
                    if r["episode_id"] == changed)
    assert Decimal(str(episodes[changed]["weekly_cost"])) == Decimal(original["weekly_cost"])
    assert episodes[changed]["Load"] == 1
    nhs_numbers = [r["nhs_number"] for r in table_rows(book["Discharges"]) if r["nhs_number"]]
    assert nhs_numbers and all(re.fullmatch(r"999\d{7}", n) for n in nhs_numbers)  # the rows an auditor checks
    files = table_rows(book["Files"])
    assert {(r["File"], r["SHA-256"]) for r in files} == set(loads[1].items())

    # the traces, and nothing readable by anyone else
    assert set(pack.traces) == {r["Patient"] for r in sample if r["Patient"]}
    for patient, path in pack.traces.items():
        assert path.read_text() == expected_traces[patient] + "\n"
        assert "submission 1 (2020-10) claimed" in path.read_text()
        assert mode(path) == 0o600 and not any(n in path.name for n in nhs_numbers)
    assert {r["Trace file"] for r in sample if r["Patient"]} == {f"traces/{p.name}" for p in pack.traces.values()}
    assert mode(pack.directory) == 0o700 and mode(pack.directory / "traces") == 0o700
    assert mode(pack.workbook) == 0o600
    assert sorted(p.name for p in pack.directory.iterdir()) == ["sample.xlsx", "traces"]


def test_the_evidence_pack_of_a_draft_month_reads_the_latest_load(store_with_october_submitted, library, tmp_path):
    db, first, second, changed = store_with_october_submitted
    store = open_store(db)
    try:
        pack = write_evidence_pack(store, library, "2020-11", 4, 2, tmp_path / "draft")
        claim = claim_for(store, library, "2020-11")
        with pytest.raises(HdsError, match="not an empty folder"):
            write_evidence_pack(store, library, "2020-11", 4, 2, tmp_path / "draft")
    finally:
        store.close()
    assert (pack.status, pack.submission_id, pack.load_id) == ("draft", None, 2)
    assert pack.population_lines == len(claim.lines) + len(claim.adjustments)
    assert pack.population_pence == sum(a for a in claim.lines["amount_pence"].tolist() if a > 0) + sum(
        a for a in claim.adjustments["amount_pence"].tolist() if a > 0)
    book = openpyxl.load_workbook(pack.workbook)
    assert "draft, not submitted" in book["Sample"].cell(1, 1).value
    episodes = table_rows(book["Episodes"])
    second_hash = hashlib.sha256((second / "episodes.csv").read_bytes()).hexdigest()
    first_hash = hashlib.sha256((first / "episodes.csv").read_bytes()).hexdigest()
    for row in episodes:  # unchanged rows still come from load 1's file; the changed one from load 2's
        assert (row["Load"], row["File SHA-256"]) in ((1, first_hash), (2, second_hash))
        assert (row["Load"] == 2) == (row["episode_id"] == changed)
    assert len(table_rows(book["Sample"])) == len(pack.lines) == 4


def test_trace_file_names_are_safe_and_never_an_nhs_number():
    names = _trace_names(["P1", "../etc/passwd", "9990000026", "999 000 0026", "p1", "P 1", "P_1"])
    assert names == {"P1": "P1.txt", "../etc/passwd": "_etc_passwd.txt", "9990000026": "patient-0003.txt",
                     "999 000 0026": "patient-0004.txt", "p1": "p1-2.txt", "P 1": "P_1.txt", "P_1": "P_1-2.txt"}
