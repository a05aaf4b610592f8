"""What people read is named as they name it: dates in words, partners by name, services by name; a month
outside the data is refused; the trace workbook is typed under readable headings."""

import pytest
from openpyxl import load_workbook

from claims.report.labels import partner_text, service_text, user_text, when_text
from tests.cli_helpers import hds, ok


def test_dates_partners_services_and_users_in_words():
    assert when_text("2026-12-03T21:14:13+00:00") == "3 December 2026, 21:14"
    assert when_text("2026-12-03T21:14:13+00:00", time=False) == "3 December 2026"
    assert partner_text("OCC", "Oxfordshire County Council") == "Oxfordshire County Council (OCC)"
    assert partner_text("OCC", "OCC", "council") == partner_text("OCC", "", "council") == "the council OCC"
    assert service_text("interim_bed") == "Interim bed" and service_text("block") == "Block costs"
    assert service_text("unheard_of") == "unheard_of"
    assert user_text("root") in ("root", "root (root)") and user_text("") == ""


@pytest.mark.parametrize("args, words", [
    (("claim", "--month", "2030-01"), "2030-01 is after the data, which ends in July 2022; give a month from 2020-03 "
                                      "to 2022-07"),
    (("check", "--month", "2019-12"), "2019-12 is before the data, which starts in March 2020"),
])
def test_a_month_outside_the_data_is_refused(paid_store, args, words):
    result = hds(*args, "--db", paid_store)
    assert result.exit_code == 1 and words in result.output


def test_a_claim_says_when_and_by_whom_it_was_submitted(paid_store):
    text = ok("claim", "--month", "2020-10", "--summary", "--db", paid_store)
    assert "was submitted as submission 1 on " in text and "T" not in text.split(" on ")[1].split(" by ")[0]


def test_the_trace_workbook_is_typed_under_readable_headings(paid_store, tmp_path):
    out = tmp_path / "trace.xlsx"
    ok("trace", "P000000", "-o", out, "--db", paid_store)
    wb = load_workbook(out)
    episodes = wb["Source episodes"]
    headings = [c.value for c in episodes[2]]
    assert headings[:6] == ["Episode", "Discharge", "Service", "Start date", "End date", "Weekly cost (£)"]
    assert "File SHA-256" in headings and "_sha256" not in headings
    row = {h: c for h, c in zip(headings, episodes[3])}
    assert row["Start date"].is_date and row["Weekly cost (£)"].value == 700 and row["Load"].value == 1
    assert row["Restart"].value == "no"
    segments = wb["Segments"]
    assert [c.value for c in segments[2]][5:8] == ["From", "To", "Days"] and segments["F3"].is_date
