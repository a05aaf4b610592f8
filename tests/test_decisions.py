"""Each discharge's decisions kept at the load for its trace (claims.decisions): a trace read from them is
the trace decided again, byte for byte; they are read only while current; a follow-up load rewrites only
the buckets of the discharges it changed."""

import sqlite3
from pathlib import Path

import pytest

from claims import decisions
from claims.allocate import allocate, decide
from claims.commands.session import reading
from claims.report.trace_export import trace_record
from claims.trace import _decided_discharges, build_trace, money_by_month, render_trace, stored_trace, trace_patient
from fixtures.generate import generate, write
from hds.days import month_index
from hds.month import Month
from tests.conftest import copy_store, corrected
from tests.cli_helpers import hds as run, ok as hds

MONTHS = (None, "2020-03", "2020-10", "2021-06", "2022-07")


def _patients(source, step: int = 1) -> list[str]:
    return [r[0] for r in source.store.execute(
        "SELECT DISTINCT patient_id FROM discharges WHERE _until_load IS NULL ORDER BY 1")][::step]


def _both_ways(source, library, patient: str, month=None) -> tuple:
    stored = stored_trace(source, patient, month)
    decided = build_trace(source, library, patient, month)
    return stored, decided


def _same(stored, decided) -> bool:
    return (stored is not None and render_trace(stored) == render_trace(decided)
            and trace_record(stored) == trace_record(decided))


@pytest.mark.parametrize("month", MONTHS)
def test_a_trace_from_the_stored_decisions_is_the_trace_decided_again(sample_store, library, month):
    with reading(sample_store) as r:
        assert decisions.kept(r.store, r.source.load_id, library.version) is not None
        for patient in _patients(r.source, 3 if month is None else 17):
            stored, decided = _both_ways(r.source, library, patient, month)
            assert _same(stored, decided), patient


def test_every_discharge_is_kept_as_deciding_it_again_gives(sample_store, library):
    with reading(sample_store) as r:
        kept = decisions.kept(r.store, r.source.load_id, library.version)
        data = r.source.everything().linked()
        decided = _decided_discharges(decide(data, library, kept.horizon))
        stored = decisions.stored_discharges(r.store, kept, {d.discharge_id: d.D for d in decided})
        assert len(stored) == len(decided) == r.store.execute(
            "SELECT rows FROM derived WHERE name = ?", [decisions.TABLE]).fetchone()[0]
        for discharge in decided:
            found = stored[discharge.discharge_id]
            assert found["scheme"] == (-1 if discharge.scheme is None else kept.schemes.index(discharge.scheme))
            assert {k: found[k] for k in ("P", "A", "K", "C", "C_outcome", "F", "X", "E", "ended_by")} == {
                k: getattr(discharge, k) for k in ("P", "A", "K", "C", "C_outcome", "F", "X", "E", "ended_by")}
            assert [(first, last, kept.rules[rule]) for _, first, last, rule in found["segments"]] == [
                (s.first, s.last, decisions.StoredRule(s.rule.id, s.rule.funder, s.rule.cites, s.rule.reason))
                for e in discharge.episodes for s in e.segments]


def test_the_money_by_month_is_the_allocation_of_the_patients_episodes(sample_store, library):
    fields = ("month", "episode_id", "funder", "days", "amount_pence", "rule")
    with reading(sample_store) as r:
        for patient in _patients(r.source, 5):
            for month in ("2020-10", "2021-03", "2022-07"):
                decided = decide(r.source.patient(patient), library, Month(month).last_day)
                allocated = [{k: row[k] for k in fields} for row in allocate(decided, 0, Month(month).number).records()]
                assert money_by_month(_decided_discharges(decided), month_index(Month(month).last_day)) == allocated


def _traces(db: Path, patients: list[str]) -> dict[str, str]:
    found = {}
    for patient in patients:
        for args in ((), ("--json",), ("--csv",), ("--month", "2020-11"), ("--month", "2020-11", "--json")):
            found[" ".join((patient, *args))] = hds("trace", patient, *args, "--db", db)
    return found


def test_every_output_of_the_trace_is_the_same_from_the_stored_decisions_and_from_deciding_again(tmp_path,
                                                                                                 october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    patients = ["P000000", "P000445", "P000017", "9990000026"]
    stored = _traces(db, patients)
    book = tmp_path / "stored.xlsx"
    hds("trace", "P000445", "-o", book, "--db", db)
    with sqlite3.connect(db) as con:  # as a store written before they were kept: decided again
        con.execute("DELETE FROM derived WHERE name = ?", [decisions.TABLE])
    con.close()
    assert _traces(db, patients) == stored
    again = tmp_path / "decided.xlsx"
    hds("trace", "P000445", "-o", again, "--db", db)
    assert _cells(book) == _cells(again)


def _cells(path: Path) -> dict:
    import openpyxl

    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in openpyxl.load_workbook(path)}


def test_stale_decisions_are_not_read(tmp_path, sample_store, library):
    db = copy_store(sample_store, tmp_path / "hds.db")
    with reading(db) as r:
        assert stored_trace(r.source, "P000000") is not None
        assert stored_trace(r.source, "P000000", "2099-01") is None  # beyond the horizon they were decided to
    with sqlite3.connect(db) as con:  # kept in another format (by another version of hds)
        con.execute("UPDATE decided_library SET value = '0' WHERE name = 'format'")
    con.close()
    with reading(db) as r:
        assert stored_trace(r.source, "P000000") is None
    with sqlite3.connect(db) as con:  # decided under other rules: decisions that would be wrong, if they were read
        con.execute("UPDATE decided_library SET value = ? WHERE name = 'format'", [str(decisions.FORMAT)])
        con.execute("UPDATE decided_library SET value = json_set(value, '$.\"rulebooks/common.rules\"', 'other') "
                    "WHERE name = 'files'")
    con.close()
    with reading(db) as r:
        assert stored_trace(r.source, "P000000") is None
        asked = []
        trace = trace_patient(r.source, lambda: asked.append(1) or library, "P000000")
        assert asked and render_trace(trace) == render_trace(build_trace(r.source, library, "P000000"))


def test_the_shipped_rules_only_and_the_latest_load_only(tmp_path, sample_store, library):
    db = copy_store(sample_store, tmp_path / "hds.db")
    hds("load", Path(__file__).parent.parent / "fixtures" / "receipts", "--db", db)
    with reading(db) as r:
        assert stored_trace(r.source, "P000000") is not None
        asked = []
        trace_patient(r.source, lambda: asked.append(1) or library, "P000000", shipped=False)  # --rules
        assert asked
    with reading(db, as_of=1) as r:
        assert stored_trace(r.source, "P000000") is None
    without = tmp_path / "old.db"
    with sqlite3.connect(db) as con, sqlite3.connect(without) as copy:
        con.backup(copy)
        copy.execute("DROP TABLE decided_discharges")
    with reading(without) as r:
        assert stored_trace(r.source, "P000000") is None
        assert render_trace(trace_patient(r.source, lambda: library, "P000000")) == \
            render_trace(build_trace(r.source, library, "P000000"))


def _changed(tables: dict) -> dict:
    """A follow-up extract: costs corrected, assessments added, a discharge and its care removed; the
    months of the data stay as they were."""
    tables = corrected(tables, 29, 31)
    gone = tables["discharges"].pop(7)["discharge_id"]
    for name in ("episodes", "events"):
        tables[name] = [row for row in tables[name] if row["discharge_id"] != gone]
    return tables


def _buckets(db: Path) -> dict[int, tuple]:
    with sqlite3.connect(db) as con:
        found = {row[0]: row[1:] for row in con.execute("SELECT bucket, discharges, decided FROM decided_discharges")}
    con.close()
    return found


def test_a_follow_up_load_rewrites_only_the_buckets_of_the_discharges_it_changed(tmp_path, monkeypatch, library):
    from claims import analysts

    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 0)  # as a national store: the figures alone
    monkeypatch.setattr(decisions, "PER_BUCKET", 4)  # buckets enough that a change leaves most as they were
    saved = []
    save = decisions.save
    monkeypatch.setattr(decisions, "save", lambda *a, replace=None: saved.append(replace) or save(*a, replace=replace))
    whole = decisions.write  # a first load's, decided with its figures (claims.figures.every_month)
    monkeypatch.setattr(decisions, "write", lambda *a: saved.append(None) or whole(*a))
    tables = generate(seed=5, per_month=12)
    db = tmp_path / "hds.db"
    hds("load", write(tables, tmp_path / "one"), "--db", db)
    before = _buckets(db)
    hds("load", write(_changed(tables), tmp_path / "two"), "--db", db)
    after = _buckets(db)
    with reading(db) as r:
        kept = decisions.kept(r.store, 2, library.version)
        assert kept is not None
        with r.store.read():
            changed = [r[0] for r in r.store.execute(
                "SELECT DISTINCT discharge_id FROM discharges WHERE _load = 2 OR _until_load = 2 UNION "
                "SELECT discharge_id FROM episodes WHERE _load = 2 OR _until_load = 2 UNION "
                "SELECT discharge_id FROM events WHERE _load = 2 OR _until_load = 2")]
        touched = {decisions.bucket_of(i, kept.buckets) for i in changed}
        assert 0 < len(touched) < len(before)
        assert {b: v for b, v in after.items() if b not in touched} == {
            b: v for b, v in before.items() if b not in touched}
        assert saved[0] is None and sorted(saved[1]) == sorted(changed)  # all, then the change set
        assert r.store.execute("SELECT rows FROM derived WHERE name = ?", [decisions.TABLE]).fetchone()[0] == len(
            r.source.everything().discharges) == len(tables["discharges"]) - 1
        for patient in _patients(r.source):
            assert _same(*_both_ways(r.source, library, patient)), patient


def test_a_discharge_whose_days_do_not_fit_is_decided_by_its_trace(tmp_path, library):
    tables = generate(seed=6, per_month=6)
    far = tables["episodes"][3]
    far["end_date"] = "2120-01-31"  # a century of care: its days after the discharge do not fit 16 bits
    db = tmp_path / "hds.db"
    hds("load", write(tables, tmp_path / "one"), "--db", db)
    with reading(db) as r:
        patient = r.store.execute("SELECT patient_id FROM discharges WHERE discharge_id = ?",
                                  [far["discharge_id"]]).fetchone()[0]
        assert stored_trace(r.source, patient) is None
        kept = r.store.execute("SELECT rows FROM derived WHERE name = ?", [decisions.TABLE]).fetchone()[0]
        assert 0 < kept < len(tables["discharges"])
        assert "2120-01-31" in render_trace(trace_patient(r.source, lambda: library, patient))
    assert run("trace", patient, "--db", db).exit_code == 0
