"""A month's findings are found once per load and kept (claims.checked): the pack and submit read what
`hds check` found, the same findings the checks give, and anything they depend on changing makes the
checks run again."""

import json
import sqlite3

import pytest

from claims.checked import TABLE, month_findings
from claims.checks import Thresholds, run_checks, checked_data
from fixtures import SAMPLE_DIR
from tests.cli_helpers import hds, ok
from tests.conftest import copy_store


@pytest.fixture()
def store(tmp_path, sample_store):
    return copy_store(sample_store, tmp_path / "hds.db")


def kept_rows(db):
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT month, load_id, findings FROM {TABLE} ORDER BY month").fetchall()


def mark_kept(db, month):
    """Change every kept message of a month, so that a command that reads them shows it."""
    with sqlite3.connect(db) as conn:
        (text,) = conn.execute(f"SELECT findings FROM {TABLE} WHERE month = ?", [month]).fetchone()
        found = json.loads(text)
        found[6] = ["KEPT " + message for message in found[6]]  # the messages (a list per field)
        conn.execute(f"UPDATE {TABLE} SET findings = ? WHERE month = ?", [json.dumps(found), month])


def test_check_keeps_exactly_what_the_checks_find(store, library):
    assert kept_rows(store) == []
    first = ok("check", "--month", "2020-11", "--json", "--db", store)
    wal = store.parent / f"{store.name}-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # folded into the store file, as after any write
    [(month, load_id, text)] = kept_rows(store)
    assert (month, load_id) == ("2020-11", 1)
    from claims.commands.session import reading

    with reading(store) as r:
        found = run_checks("2020-11", checked_data(r.source), library, Thresholds())
        assert found and month_findings(r.source, r.store, library, "2020-11", Thresholds()) == found
    assert ok("check", "--month", "2020-11", "--json", "--db", store) == first


def test_the_pack_and_submit_read_what_check_kept(store, tmp_path):
    ok("check", "--month", "2020-11", "--db", store)
    mark_kept(store, "2020-11")
    assert "KEPT " in ok("check", "--month", "2020-11", "--db", store)
    import openpyxl

    ok("claim", "--month", "2020-11", "-o", tmp_path / "pack.xlsx", "--db", store)
    sheet = openpyxl.load_workbook(tmp_path / "pack.xlsx")["Findings"]
    assert any("KEPT " in str(cell.value) for row in sheet.iter_rows() for cell in row)
    result = hds("submit", "--month", "2020-11", "--dry-run", "--db", store)
    assert "KEPT " in result.output  # the refusal lists the errors as kept


def test_a_change_of_data_or_thresholds_makes_the_checks_run_again(store):
    ok("check", "--month", "2020-11", "--db", store)
    mark_kept(store, "2020-11")
    (store.parent / "hds.toml").write_text("[checks]\nlate_start_days = 27\n")
    assert "KEPT " not in ok("check", "--month", "2020-11", "--db", store)
    mark_kept(store, "2020-11")
    ok("check", "--month", "2020-10", "--db", store)
    assert [r[0] for r in kept_rows(store)] == ["2020-10", "2020-11"]
    ok("load", SAMPLE_DIR.parent / "receipts", "--db", store)  # a load: the kept findings are of the last one
    assert "KEPT " not in ok("check", "--month", "2020-11", "--db", store)
    assert [r[:2] for r in kept_rows(store)] == [("2020-11", 2)]  # the earlier load's rows dropped


def test_a_store_another_process_is_writing_keeps_nothing_and_says_the_same(store):
    expected = ok("check", "--month", "2020-11", "--db", store)
    with sqlite3.connect(store) as conn:
        conn.execute(f"DELETE FROM {TABLE}")
    writer = sqlite3.connect(store, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert ok("check", "--month", "2020-11", "--db", store) == expected
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert kept_rows(store) == []


def test_submit_keeps_the_findings_it_stores(store):
    ok("submit", "--month", "2020-10", "--db", store)
    assert [r[0] for r in kept_rows(store)] == ["2020-10"]
    stored = json.loads(ok("check", "--month", "2020-10", "--json", "--db", store))
    kept = json.loads(kept_rows(store)[0][2])
    assert [f["subject"] for f in stored["findings"]] == kept[3]


def test_the_whole_data_is_read_beside_the_month_and_from_the_same_load(store):
    """The checks read the register and weekly costs through a second connection in a thread
    (StoreSource.read_beside): the same data as the first connection's snapshot, read there instead
    when a load was written since that snapshot began."""
    from claims.commands.session import reading

    def which(source):
        return source.store, source.load_id, len(source.texts("discharges", ["discharge_id"])[0])

    with reading(store) as r:
        other, load_id, count = r.source.read_beside(which)()
        assert other is not r.store and load_id == 1 and count == len(r.source.texts("discharges", ["discharge_id"])[0])
        ok("load", SAMPLE_DIR.parent / "receipts", "--db", store)  # written while the snapshot is open
        assert r.source.read_beside(which)() == (r.store, 1, count)  # the later load is not read


def test_the_checks_are_the_same_read_beside_or_here(store, library, monkeypatch):
    from claims.commands.session import reading
    from hds.store import StoreSource

    with reading(store) as r:
        beside = run_checks("2020-11", checked_data(r.source), library)
        monkeypatch.setattr(StoreSource, "read_beside", lambda self, read: lambda: read(self))
        assert run_checks("2020-11", checked_data(r.source), library) == beside and beside
