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


def test_the_pack_reads_what_check_kept_and_submit_never_does(store, tmp_path):
    ok("check", "--month", "2020-11", "--db", store)
    mark_kept(store, "2020-11")
    assert "KEPT " in ok("check", "--month", "2020-11", "--db", store)
    import openpyxl

    ok("claim", "--month", "2020-11", "-o", tmp_path / "pack.xlsx", "--db", store)
    sheet = openpyxl.load_workbook(tmp_path / "pack.xlsx")["Findings"]
    assert any("KEPT " in str(cell.value) for row in sheet.iter_rows() for cell in row)
    result = hds("submit", "--month", "2020-11", "--dry-run", "--db", store)  # refused: its own checks' errors
    assert result.exit_code == 1 and "HDS-DOUBLE-FREE:" in result.output and "KEPT " not in result.output


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


def test_submit_stores_the_findings_its_own_checks_find_and_keeps_none(store, library):
    ok("check", "--month", "2020-10", "--db", store)
    with sqlite3.connect(store) as conn:  # a kept row edited behind hds's back: an invented error
        (text,) = conn.execute(f"SELECT findings FROM {TABLE}").fetchone()
        found = json.loads(text)
        for column, value in zip(found, ["HDS-DOUBLE-FREE", "error", "4.4", "INVENTED", {}, 0, "Invented."]):
            column.append(value)
        conn.execute(f"UPDATE {TABLE} SET findings = ?", [json.dumps(found)])
    ok("submit", "--month", "2020-10", "--db", store)  # no invented error to acknowledge: its own checks ran
    from claims.commands.session import reading

    with reading(store, as_of=1) as r:
        expected = run_checks("2020-10", checked_data(r.source), library, Thresholds())
    with sqlite3.connect(store) as conn:
        stored = [r[0] for r in conn.execute("SELECT subject FROM submission_findings ORDER BY n")]
    assert stored == [f.subject for f in expected] and expected


def test_an_earlier_load_or_other_rules_never_read_nor_keep(store, tmp_path):
    ok("check", "--month", "2020-11", "--db", store)
    ok("load", SAMPLE_DIR.parent / "receipts", "--db", store)
    ok("check", "--month", "2020-11", "--db", store)
    mark_kept(store, "2020-11")
    assert [r[:2] for r in kept_rows(store)] == [("2020-11", 2)]
    assert "KEPT " not in ok("check", "--month", "2020-11", "--as-of-load", "1", "--db", store)
    assert [r[:2] for r in kept_rows(store)] == [("2020-11", 2)]  # nothing kept from load 1
    ok("rules", "export", tmp_path / "rules")
    assert "KEPT " in ok("check", "--month", "2020-11", "--rules", tmp_path / "rules", "--db", store)  # the same
    ok("rules", "export", tmp_path / "changed")
    with (tmp_path / "changed" / "parameters" / "hds2.yaml").open("a") as rules:  # rules: another version
        rules.write("# changed\n")
    assert "KEPT " not in ok("check", "--month", "2020-11", "--rules", tmp_path / "changed", "--db", store)
    assert "KEPT " not in ok("check", "--month", "2020-11", "--data", SAMPLE_DIR, "--db", store)


def test_findings_of_a_load_that_is_no_longer_the_latest_are_not_kept(store, library):
    from claims.checked import found_under, keep
    from claims.commands.session import reading

    ok("load", SAMPLE_DIR.parent / "receipts", "--db", store)
    with reading(store, as_of=1) as r:
        found = run_checks("2020-11", checked_data(r.source), library, Thresholds())
        keep(r.store, "2020-11", 1, found_under(library, Thresholds()), found)
    assert kept_rows(store) == []
