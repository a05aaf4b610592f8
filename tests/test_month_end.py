"""Month end as a finance officer sees it: status, months side by side, the HTML report."""

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

import cli
from tests.conftest import copy_store
from tests.cli_helpers import ok
from tests import browser

RECEIPTS = ("receipt_id,claim_month,scheme,amount,received_date\n"
            "R1,2020-10,HDS1,169806.32,2020-11-20\nR2,2020-10,HDS2,490000.00,2020-11-20\n")


@pytest.fixture(scope="module")
def store(tmp_path_factory, october_store):
    """The sample with October and November submitted and October (under-)paid."""
    base = tmp_path_factory.mktemp("month-end")
    db = copy_store(october_store, base / "hds.db")  # the sample loaded, October submitted
    # November's double funding in the synthetic sample, acknowledged as a finance officer would: the
    # findings of 'hds check --csv' with a column 'because' added for the errors
    rows = list(csv.DictReader(io.StringIO(ok("check", "--month", "2020-11", "--csv", "--db", db))))
    for row in rows:
        row["because"] = "synthetic sample: the packages were agreed to run together" if row["severity"] == "error" else ""
    with (base / "acknowledged.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = ok("submit", "--month", "2020-11", "--acknowledgements", base / "acknowledged.csv", "--db", db)
    assert "(5 acknowledged)" in out
    receipts = base / "receipts"
    receipts.mkdir()
    (receipts / "receipts.csv").write_text(RECEIPTS)
    ok("load", receipts, "--db", db)
    return db


def test_status_lists_every_month_and_what_to_do_next(store):
    status = json.loads(ok("status", "--json", "--db", store))
    months = {m["month"]: m for m in status["months"]}
    assert status["first_month"] == "2020-03" and list(months)[-1] == status["last_month"]
    assert months["2020-10"]["state"] == "submitted" and months["2020-10"]["payment"] == "under-paid"
    assert months["2020-11"]["payment"] == "awaiting" and months["2020-12"]["state"] == "draft"
    assert any(step.startswith("check and submit 2020-12") for step in status["next"])
    assert any("2020-10: under-paid by £2,846.82" in step for step in status["next"])
    # months before the first submission are not claimed: never drafts
    assert {months[m]["state"] for m in months if m < "2020-10"} == {"not claimed"}
    assert all(months[m]["submitted"] is None and months[m]["recharge"] is None and months[m]["payment"] is None
               for m in months if m < "2020-10")
    october = months["2020-10"]["submitted"]
    assert set(october) == {"id", "at", "hash"} and october["id"] == 1 and len(october["hash"]) == 64
    # the recharge it states is the recharge statement's own net: who owes whom how much
    for month in ("2020-10", "2020-11"):
        statement = json.loads(ok("recharge", "--month", month, "--json", "--db", store))
        assert months[month]["recharge"] == statement["net"]
    assert months["2020-12"]["recharge"] is None
    table = ok("status", "--db", store, env={"COLUMNS": "100"})
    assert max(len(line) for line in table.splitlines()) <= 100


def test_months_side_by_side_agree_with_reconcile(store):
    months = json.loads(ok("claim", "--from", "2020-09", "--to", "2020-11", "--json", "--db", store))["months"]
    october = [m for m in months if m["month"] == "2020-10"]
    reconciled = json.loads(ok("reconcile", "--month", "2020-10", "--json", "--db", store))["schemes"]
    assert {m["scheme"]: (m["received"], m["difference"]) for m in october} == {
        r["scheme"]: (r["received"], r["difference"]) for r in reconciled}
    assert {m["month"] for m in months} == {"2020-09", "2020-10", "2020-11"}
    assert {m["state"] for m in months if m["month"] == "2020-09"} == {"not claimed"}


def test_claim_needs_a_month_or_a_range(store):
    result = CliRunner().invoke(cli.main, ["claim", "--from", "2020-10", "--db", str(store)])
    assert result.exit_code == 2 and "give --month M, or --from M1 and --to M2" in result.output


def test_the_report_opens_in_a_real_browser_with_every_chart_drawn(store, tmp_path, chromium):
    browser.require_chromium()
    out = tmp_path / "report.html"
    ok("report", "--from", "2020-09", "--to", "2021-03", "-o", out, "--db", store)
    page = out.read_text()
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # nothing from the network
    assert out.stat().st_mode & 0o777 == 0o600
    with browser.open_file(out, chromium, width=1280, height=900) as view:
        assert view.errors() == []
        charts = view.evaluate("""() => [...document.querySelectorAll('figure.chart')].map(f => {
            const svg = f.querySelector('svg');
            return {id: f.id, marks: svg ? svg.querySelectorAll('path, rect, use').length : -1,
                    empty: f.querySelector('p.empty') ? f.querySelector('p.empty').textContent : null}; })""")
        drawn = [c for c in charts if c["marks"] >= 0]
        assert len(charts) == 8 and len(drawn) >= 7, charts  # the seven of the months, and the forecast
        assert [c for c in charts if c["id"] == "chart-forecast" and c["marks"] >= 12], charts
        assert all(c["marks"] >= 12 for c in drawn), charts  # no chart is drawn empty
        assert all(c["empty"] for c in charts if c["marks"] < 0), charts  # a chart with nothing says so
        view.screenshot(tmp_path / "report.png")
    assert browser.distinct_colours(tmp_path / "report.png") > 64


def test_every_command_has_help_with_an_example():
    def commands(group, prefix=()):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, prefix + (name,))
            else:
                yield prefix + (name,)

    for path in commands(cli.main):
        text = ok(*path, "--help")
        assert "Example" in text, path


def test_a_trace_exports_as_versioned_data_with_its_source_rows(store, tmp_path):
    trace = json.loads(ok("trace", "9990000026", "--month", "2020-12", "--json", "--db", store))
    assert trace["schema"] == "hds.trace.v1" and trace["patient_id"] == "P000000"
    (discharge,) = trace["discharges"]
    assert discharge["free_period"] == {"first_day": "2020-10-05", "last_day": "2020-11-15",
                                        "first_paid_day": "2020-11-16"}
    segments = discharge["episodes"][0]["segments"]
    assert [(s["first_day"], s["days"], s["funder"]) for s in segments] == [
        ("2020-10-05", 42, "hds"), ("2020-11-16", 15, "ccg"), ("2020-12-01", 9, "council"), ("2020-12-10", 22, "bau")]
    assert all(s["paragraphs"] and s["reason"] for s in segments)
    assert [m["amount"] for m in trace["money_by_month"] if m["month"] == "2020-10"] == ["2700.00"]
    assert {s["submission_id"] for s in trace["submitted"]} == {1, 2}
    (row,) = trace["source_rows"]["discharges"]
    assert row["_file"] == "discharges.csv" and len(row["_sha256"]) == 64 and row["_load"] == 1
    assert row["nhs_number"] == "*******026"  # masked in exports
    text = ok("trace", "P000000", "--csv", "--db", store)
    assert text.splitlines()[0].startswith("patient_id,discharge_id,scheme,episode_id")
    ok("trace", "P000000", "-o", tmp_path / "trace.xlsx", "--db", store)
    assert (tmp_path / "trace.xlsx").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("month", ["2020-10", "2020-11", "2020-12"])
def test_the_packs_recharge_from_the_claim_it_reuses_equals_the_recharge_on_its_own(october_store, library, month):
    """The pack hands the recharge its claim and that claim's allocation; the statement must be the one
    'hds recharge' computes from scratch: a submitted month, a draft with adjustments, a skipped-to draft."""
    from claims.commands.session import reading
    from claims.ledger import claim_for
    from claims.recharge import recharge
    from fixtures import SAMPLE_DIR
    from hds.config import load_config

    OXFORDSHIRE = load_config(SAMPLE_DIR / "hds.toml")  # the sample's partners
    with reading(october_store) as r:
        claim = claim_for(r.store, library, month)
        assert (claim.allocation is None) == bool(claim.submission)
        reused = recharge(r.store, library, month, OXFORDSHIRE, claim=claim)
        alone = recharge(r.store, library, month, OXFORDSHIRE)
    assert reused == alone
    assert all(i.pence > 0 and i.lines > 0 for i in reused.items)  # every part has money to get wrong
