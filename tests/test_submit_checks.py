"""The checks stand between a month and its submission: errors refused unless acknowledged, every
finding kept with the submission inside its hash chain, and shown where an auditor looks."""

import json
import sqlite3

import openpyxl
import pytest

from tests.conftest import copy_store
from tests.cli_helpers import hds, ok


@pytest.fixture()
def store(tmp_path, october_store):
    """The sample loaded and October submitted (a copy of the session's prepared store)."""
    return copy_store(october_store, tmp_path / "hds.db")


def errors_of(db, month):
    found = json.loads(ok("check", "--month", month, "--json", "--db", db))
    assert set(found) == {"month", "findings", "totals"} and found["month"] == month
    for f in found["findings"]:
        assert set(f) >= {"code", "severity", "paragraph", "ids", "amount", "message"}
    return [f"{f['code']}:{f['subject']}" for f in found["findings"] if f["severity"] == "error"]


def test_an_unacknowledged_error_stops_the_submission_and_lists_it(store):
    errors = errors_of(store, "2020-11")
    assert errors and all(e.startswith("HDS-DOUBLE-FREE:") for e in errors)
    result = hds("submit", "--month", "2020-11", "--db", store)
    assert result.exit_code == 1
    assert f"2020-11 has {len(errors)} error finding(s)" in result.output and "nothing was submitted" in result.output
    assert all(e in result.output for e in errors)
    with sqlite3.connect(store) as con:
        assert con.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1


def test_acknowledged_errors_go_through_are_stored_and_shown(store):
    errors = errors_of(store, "2020-11")
    args = [a for e in errors for a in ("--accept", e, "--because", f"checked with the provider ({e[-5:]})")]
    out = ok("submit", "--month", "2020-11", *args, "--db", store)
    assert f"({len(errors)} acknowledged)" in out
    assert ok("verify", "--db", store).startswith("ok:")
    log = ok("log", "--db", store)
    assert f"{errors[0]} accepted by" in log and "checked with the provider" in log
    with sqlite3.connect(store) as con:
        patient = json.loads(con.execute("SELECT ids FROM submission_findings WHERE severity = 'error'")
                             .fetchone()[0])["patient"][0]
    trace = ok("trace", patient, "--db", store)
    assert "Findings of the checks stored with those submissions:" in trace and "HDS-DOUBLE-FREE" in trace
    assert json.loads(ok("trace", patient, "--json", "--db", store))["findings"]


def test_editing_a_stored_acknowledgement_is_found_by_verify(store):
    errors = errors_of(store, "2020-11")
    ok("submit", "--month", "2020-11", *[a for e in errors for a in ("--accept", e)], "--because", "agreed", "--db", store)
    with sqlite3.connect(store) as con:
        con.execute("DROP TRIGGER submission_findings_no_update")
        con.execute("UPDATE submission_findings SET acknowledged = 'accepted by nobody: no reason' "
                    "WHERE acknowledged != ''")
    result = hds("verify", "--db", store)
    assert result.exit_code == 1
    assert "submission 2 (2020-11): its findings were changed after submission" in result.output


def test_an_acknowledgement_that_matches_nothing_is_refused(store):
    result = hds("submit", "--month", "2020-11", "--accept", "HDS-DOUBLE-FREE:D9+D8", "--because", "x", "--db", store)
    assert result.exit_code == 1 and "matches no finding of 2020-11" in result.output
    assert hds("submit", "--month", "2020-11", "--accept", "HDS-DOUBLE-FREE:D9+D8", "--db", store).exit_code == 2


def test_the_pack_of_a_draft_carries_its_findings(store, tmp_path):
    ok("claim", "--month", "2020-11", "-o", tmp_path / "pack.xlsx", "--db", store)
    rows = list(openpyxl.load_workbook(tmp_path / "pack.xlsx")["Findings"].iter_rows(values_only=True))
    assert sum("HDS-DOUBLE-FREE" in str(row) for row in rows) == len(errors_of(store, "2020-11"))


def test_an_audit_sample_is_reproducible(store, tmp_path):
    first = ok("audit", "sample", "--month", "2020-10", "--size", "5", "--seed", "7", "-o", tmp_path / "a", "--db", store)
    second = ok("audit", "sample", "--month", "2020-10", "--size", "5", "--seed", "7", "-o", tmp_path / "b", "--db", store)
    assert "Sampled 5 of" in first and first.split("with seed")[0] == second.split("with seed")[0]
    sample = [row for row in openpyxl.load_workbook(tmp_path / "a" / "sample.xlsx")["Sample"].iter_rows(values_only=True)]
    again = [row for row in openpyxl.load_workbook(tmp_path / "b" / "sample.xlsx")["Sample"].iter_rows(values_only=True)]
    assert sample == again
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700 and list((tmp_path / "a" / "traces").iterdir())
