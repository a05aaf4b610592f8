"""A month's figures decided once at the load and reused: what the commands read from the store is
what deciding again gives, figure for figure; a follow-up load re-decides only what it changed; the
checks read only what they need and find the same."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from claims import figures
from claims.allocate import allocations
from claims.checks import Stored, run_checks
from claims.commands.session import reading
from fixtures.generate import generate, write
from hds.month import Month
from tests.conftest import copy_store, corrected
from tests.cli_helpers import ok as hds


def _same(a, b) -> bool:
    return len(a) == len(b) and a.names == b.names and all((a[n] == b[n]).all() for n in a.names)


def _decided(source, library, first, last):
    first, last = Month(first), Month(last)
    return figures.totals_of(allocations(source.period(first.first_day, last.last_day), library, first.number,
                                         last.number))


@pytest.mark.parametrize("first, last", [("2020-03", "2022-07"), ("2020-10", "2020-10"), ("2021-02", "2021-04"),
                                         ("2019-01", "2020-04")])
def test_the_stored_totals_are_what_deciding_the_months_again_gives(sample_store, library, first, last):
    with reading(sample_store) as r:
        assert figures.is_current(r.source, library)
        stored = figures.stored_totals(r.source, library, Month(first), Month(last))
        assert len(stored) and _same(stored, _decided(r.source, library, first, last))
        f, l = Month(first), Month(last)
        assert _same(figures.decided_totals(r.source.period(f.first_day, l.last_day), library, f.number, l.number),
                     stored)


def _outputs(db: Path) -> dict[str, str]:
    return {" ".join(args): hds(*args, "--db", db) for args in (
        ("status", "--json"), ("claim", "--from", "2020-04", "--to", "2021-06", "--json"),
        ("recharge", "--month", "2020-10", "--json"), ("reconcile", "--month", "2020-10", "--json"),
        ("invoice", "--month", "2020-10", "--json"), ("check", "--month", "2020-11", "--csv"),
        ("claim", "--month", "2020-11", "--json"), ("memorandum", "--year", "2020", "--json"),
        ("memorandum", "--year", "2021", "--json"))}


def test_every_output_is_the_same_from_the_stored_figures_and_from_deciding_again(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    stored = _outputs(db)
    with sqlite3.connect(db) as con:  # as a store written before the table existed: decided again
        con.execute("DELETE FROM derived WHERE name = ?", [figures.TOTALS])
    con.close()
    assert _outputs(db) == stored


def test_stale_figures_are_not_read(tmp_path, sample_store, library):
    db = copy_store(sample_store, tmp_path / "hds.db")
    with sqlite3.connect(db) as con:  # figures that would be wrong, if they were read
        con.execute(f"UPDATE {figures.TOTALS} SET amount_pence = amount_pence + 1")
        con.execute("UPDATE derived SET rulebook_version = 'another' WHERE name = ?", [figures.TOTALS])
    con.close()
    with reading(db) as r:
        assert not figures.is_current(r.source, library)
        assert _same(figures.month_totals(r.source, library, "2020-10", "2020-10"),
                     _decided(r.source, library, "2020-10", "2020-10"))
    with reading(db, as_of=1) as r:
        assert figures.stored_totals(r.source, library, Month("2020-10"), Month("2020-10")) is None


def _changed(tables: dict) -> dict:
    """A follow-up extract: costs corrected, assessments added on the discharge day, a block cost
    corrected; the months of the data stay as they were."""
    tables = corrected(tables, 37, 41)
    tables["block_costs"][0]["amount"] = "12345.67"
    return tables


def test_a_follow_up_load_re_decides_only_the_discharges_it_changed(tmp_path, monkeypatch, library):
    from claims import analysts

    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 0)  # as a national store: the totals alone
    done = []
    refresh = figures.refresh_totals
    monkeypatch.setattr(figures, "refresh_totals", lambda *a, **k: done.append(refresh(*a, **k)) or done[-1])
    tables = generate(seed=4, per_month=12)
    db = tmp_path / "hds.db"
    hds("load", write(tables, tmp_path / "one"), "--db", db)
    with reading(db) as r:  # decided from the files just read
        first, last = Month.of_day(r.source.first_day()), Month.of_day(r.source.latest_day())
        assert _same(figures.stored_totals(r.source, library, first, last), _decided(r.source, library, first, last))
    hds("load", write(_changed(tables), tmp_path / "two"), "--db", db)
    from fixtures import SAMPLE_DIR

    hds("load", SAMPLE_DIR.parent / "receipts", "--db", db)  # no discharge changed: nothing re-decided
    assert done == ["all", "changed", "changed"]
    with reading(db) as r:
        assert figures.stamp(r.store) == (3, library.version)
        with r.store.read():
            assert figures.changed_discharges(r.store, 3) == []
            changed = figures.changed_discharges(r.store, 2)
        assert 0 < len(changed) < len(r.source.everything().discharges)
        first, last = Month.of_day(r.source.first_day()), Month.of_day(r.source.latest_day())
        assert _same(figures.stored_totals(r.source, library, Month("2019-01"), Month("2023-12")),
                     _decided(r.source, library, first, last))


@pytest.mark.parametrize("month", ["2020-04", "2020-10", "2020-11", "2021-02", "2021-06", "2022-01"])
def test_the_checks_find_the_same_reading_only_what_they_need(sample_store, library, month):
    with reading(sample_store) as r:
        assert run_checks(month, Stored(r.source), library) == run_checks(month, r.source.everything(), library)


@pytest.mark.parametrize("month", ["2020-10", "2021-02"])
def test_the_checks_read_of_a_store_what_they_would_keep_of_every_row(sample_store, library, month):
    from claims.checks import Context

    with reading(sample_store) as r:
        everything = r.source.everything()
        stored, whole = Context(month, Stored(r.source), library), Context(month, everything, library)
        for name in ("discharges", "episodes", "events"):  # the month's discharges whole, linked alike
            mine, theirs = getattr(stored.sub, name), getattr(whole.sub, name)
            assert sorted(mine.names) == sorted(theirs.names) and len(mine) > 0
            assert all(mine[c].tolist() == theirs[c].tolist() for c in theirs.names)
        registers = stored.register, whole.register
        assert len({tuple(sorted(zip(g.discharge_ids, g.patient_ids, g.patients[g.patient].tolist(),
                                     np.where(g.number >= 0, g.numbers[np.maximum(g.number, 0)], "").tolist())))
                    for g in registers}) == 1
        weekly = [{k: sorted(v.tolist()) for k, v in costs.items() if len(v)}
                  for costs in (stored.weekly_costs, whole.weekly_costs)]
        assert weekly[0] == weekly[1]


def test_texts_read_a_value_holding_the_separator_row_by_row(tmp_path, sample_store):
    db = copy_store(sample_store, tmp_path / "hds.db")
    with sqlite3.connect(db) as con:  # a row no load would write: its patient id holds a unit separator
        con.execute("INSERT INTO discharges (discharge_id, patient_id, discharge_date, kind, nhs_number, _load) "
                    "VALUES ('DX', 'P\x1fX', '2020-10-01', 'hospital', NULL, 1)")
    con.close()
    with reading(db) as r:
        read = r.source.texts("discharges", ["discharge_id", "patient_id", "nhs_number"])
        rows = r.store.execute("SELECT discharge_id, patient_id, COALESCE(nhs_number, '') FROM discharges "
                               "WHERE _until_load IS NULL").fetchall()
    assert sorted(zip(*read)) == sorted(rows) and ("DX", "P\x1fX", "") in rows


@pytest.mark.parametrize("first, last", [("2020-03", "2022-07"), ("2020-09", "2021-03"), ("2021-11", "2021-11")])
def test_the_overview_is_the_same_from_the_stored_figures(tmp_path, sample_store, library, first, last):
    from claims.overview import overview

    db = copy_store(sample_store, tmp_path / "hds.db")
    with reading(db) as r:
        assert figures.is_current(r.source, library)
        stored = overview(r.source, library, first, last, r.store)
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM derived WHERE name = ?", [figures.TOTALS])
    con.close()
    with reading(db) as r:
        assert not figures.is_current(r.source, library)
        decided = overview(r.source, library, first, last, r.store)
    assert stored.days_to_assessment and stored.days_to_chc_decision
    assert stored == decided


def test_the_checks_find_the_same_as_of_an_earlier_load(tmp_path, library):
    tables = generate(seed=5, per_month=12)
    db = tmp_path / "hds.db"
    hds("load", write(tables, tmp_path / "one"), "--db", db)
    hds("load", write(_changed(tables), tmp_path / "two"), "--db", db)
    for as_of in (1, 2, None):
        with reading(db, as_of=as_of) as r:
            for month in ("2020-10", "2021-01"):
                assert run_checks(month, Stored(r.source), library) == run_checks(month, r.source.everything(), library)


def _extract(folder: Path, discharges: list[tuple]) -> Path:
    """A small extract: the discharges (id, patient id, date, NHS number), each with four weeks of home care."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "discharges.csv").write_text("discharge_id,patient_id,discharge_date,kind,nhs_number\n" + "".join(
        f"{d},{p},{day},hospital,{n}\n" for d, p, day, n in discharges))
    (folder / "episodes.csv").write_text("episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation\n"
                                         + "".join(f"E{d},{d},home_care,{day},,350.00,OCC\n" for d, _, day, _ in discharges))
    (folder / "events.csv").write_text("event_id,discharge_id,event,date,outcome\n")
    return folder


def test_the_checks_link_people_from_a_store_as_from_every_row_at_each_load(tmp_path, library):
    from tests.test_checks import nhs

    a, b, c = nhs(1), nhs(2), nhs(3)
    first = [("D1", "P1", "2020-10-01", a), ("D2", "P2", "2020-10-03", a),  # P1 and P2 share a: one person
             ("D3", "P3", "2020-10-05", b), ("D4", "P3", "2020-10-07", b),  # P3 twice: links nobody
             ("D5", "P4", "2020-10-02", c), ("D6", "P5", "2020-03-01", c),  # P5, before the month, links P4 ...
             ("D7", "P5", "2020-10-09", ""), ("D8", a, "2020-10-11", "")]  # ... to P5 now; an id that is a number
    second = [row if row[0] != "D2" else ("D2", "P2", "2020-10-03", b) for row in first]  # P2 joins P3 instead
    db = tmp_path / "hds.db"
    hds("load", _extract(tmp_path / "first", first), "--db", db)
    hds("load", _extract(tmp_path / "second", second), "--db", db)
    found = {}
    for as_of in (1, 2):
        with reading(db, as_of=as_of) as r:
            for month in ("2020-03", "2020-10"):
                stored = run_checks(month, Stored(r.source), library)
                assert stored == run_checks(month, r.source.everything(), library)
                found[as_of, month] = stored
    october = {n: {f.subject for f in found[n, "2020-10"]} for n in (1, 2)}
    assert "D1+D2" in october[1] and "D1+D2" not in october[2]  # double funding of one person, then not
    assert "D2+D3" in october[2] or "D2+D4" in october[2]
    assert {"P1+P2", "P4+P5"} <= october[1] and "P2+P3" in october[2]  # shared numbers (HDS-DUP-NHS)
    assert all(a not in f.message for n in (1, 2) for f in found[n, "2020-10"])  # the id that is a number, masked
    assert any("[NHS number removed]" in f.message for f in found[2, "2020-10"])


@pytest.mark.parametrize("month", ["2020-10", "2021-02"])
def test_submit_decides_the_month_once_for_its_claim_and_its_checks_and_finds_the_same(sample_store, library, month,
                                                                                         monkeypatch):
    import claims.checks as checks
    from claims.claim import build_claim
    from claims.ledger.state import ledger_state

    with reading(sample_store) as r:
        state = ledger_state(r.store, library, month)
        read = checks.checked_data(r.source, month)  # as submit reads: the month's discharges alongside
        claim = build_claim(r.source, library, month, state, r.source.load_id, read.month_with_care,
                            read.decided_with_claim)
        decided = []
        monkeypatch.setattr(checks, "decide", lambda *args: decided.append(args) or pytest.fail("decided again"))
        found = run_checks(month, read, library)
        monkeypatch.undo()
        assert not decided and found == run_checks(month, r.source.everything(), library)
        alone = build_claim(r.source, library, month, state, r.source.load_id)  # the month read on its own
        assert _same(claim.lines, alone.lines) and _same(claim.adjustments, alone.adjustments)


@pytest.mark.parametrize("as_of", [None, 1])
def test_the_months_events_read_beside_are_those_read_on_one_connection(sample_store, monkeypatch, as_of):
    from hds.store import StoreSource

    first, last = Month("2020-10").days
    with reading(sample_store, as_of=as_of) as r:
        beside = r.source.with_care(first, last)  # its events through a second connection
        with monkeypatch.context() as m:  # no second connection to be had: read on this one, all the same
            m.setattr(StoreSource, "read_beside", lambda self, read: (lambda: read(self)))
            here = r.source.with_care(first, last)
        everything = r.source.everything()
    assert len(beside.events) > 0 and _same(beside.events, here.events) and _same(beside.discharges, here.discharges)
    month = set(beside.discharges["discharge_id"].tolist())
    assert sorted(beside.events["event_id"].tolist()) == sorted(
        e for e, d in zip(everything.events["event_id"].tolist(), everything.events["discharge_id"].tolist())
        if d in month)
