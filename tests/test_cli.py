"""The commands, as a finance officer runs them: exit codes and output."""

import json
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner

import cli
from fixtures import SAMPLE_DIR
from tests.conftest import copy_store

SAMPLE = ["--data", str(SAMPLE_DIR)]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, sample_store):
    """The sample loaded (a copy of the session's prepared store; test_load_reports_counts loads it itself)."""
    return copy_store(sample_store, tmp_path_factory.mktemp("store") / "hds.db")


def run(*args):
    result = CliRunner().invoke(cli.main, list(args))
    return result


def test_load_reports_counts(tmp_path):
    result = run("load", str(SAMPLE_DIR), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == [f"Load 1 into {tmp_path / 'x.db'}:",
                                              "  discharges   6177 added, 0 changed, 0 removed, 0 unchanged"]


def test_claim_json_totals_equal_the_sum_of_lines(sample_db):
    result = run("claim", "--month", "2020-10", "--format", "json", "--db", str(sample_db))
    assert result.exit_code == 0, result.output
    claim = json.loads(result.output)
    assert claim["month"] == "2020-10"
    amounts = [Decimal(line["amount"]) for line in claim["lines"]]
    assert Decimal(claim["totals"]["claim"]) == sum(amounts) > 0
    assert Decimal(claim["totals"]["claim"]) == sum(Decimal(v) for v in claim["totals"]["by_scheme"].values())
    assert {line["kind"] for line in claim["lines"]} == {"individual", "block"}


def test_claim_from_data_equals_claim_from_store(sample_db):
    from_store = run("claim", "--month", "2020-11", "--format", "csv", "--db", str(sample_db)).output
    from_data = run("claim", "--month", "2020-11", "--format", "csv", *SAMPLE).output
    assert from_store == from_data
    assert from_store.splitlines()[0] == ("claim_month,kind,patient_id,discharge_id,episode_id,block_id,description,"
                                          "scheme,service,organisation,days,amount,reason")


def test_claim_table_ends_with_the_total(sample_db):
    result = run("claim", "--month", "2020-10", "--db", str(sample_db))
    claim = json.loads(run("claim", "--month", "2020-10", "--format", "json", "--db", str(sample_db)).output)
    total = Decimal(claim["totals"]["claim"])
    assert result.output.rstrip().splitlines()[-1] == f"Total claim for 2020-10: £{total:,}"


def test_claim_workbook_is_the_month_end_pack(sample_db, tmp_path):
    out = tmp_path / "claim.xlsx"
    result = run("claim", "--month", "2020-10", "-o", str(out), "--db", str(sample_db))
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "Current lines", "Adjustments", "Block costs", "Reconciliation", "Recharge",
                               "Findings", "Invoice", "Memorandum"]
    sheet = book["Current lines"]
    header_row = next(i for i, row in enumerate(sheet.iter_rows(values_only=True), 1) if "Amount" in row)
    amount_col = [c for c in sheet[header_row] if c.value == "Amount"][0].column
    amounts = [sheet.cell(r, amount_col).value for r in range(header_row + 1, sheet.max_row + 1)]
    lines = [a for a in amounts if isinstance(a, (int, float, Decimal))]
    claim = json.loads(run("claim", "--month", "2020-10", "--json", "--db", str(sample_db)).output)
    assert len(lines) == len(claim["lines"])
    assert round(sum(Decimal(str(a)) for a in lines), 2) == Decimal(claim["totals"]["claim"]) > 0
    formulas = [c.value for row in book["Summary"].iter_rows() for c in row if c.data_type == "f"]
    assert any("Current lines" in f and f.startswith("=SUM") for f in formulas)
    line_formulas = [c.value for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert line_formulas and all(f.startswith("=SUM(") for f in line_formulas)  # totals only: no data cell is a formula


def test_allocations_csv_has_the_contract_columns(sample_db):
    result = run("allocations", "--month", "2020-12", "--format", "csv", "--db", str(sample_db))
    lines = result.output.splitlines()
    assert lines[0] == "patient_id,discharge_id,episode_id,block_id,scheme,month,funder,days,amount,rule"
    assert "P000000,D0000000,E0000000,,HDS2,2020-12,council,9,900.00,after-free-period-chc-not-eligible" in lines
    assert "P000000,D0000000,E0000000,,HDS2,2020-12,bau,22,2200.00,after-free-period-chc-then-assessed" in lines


def test_trace_of_the_worked_example(sample_db):
    result = run("trace", "P000000", "--month", "2020-12", "--db", str(sample_db))
    assert result.exit_code == 0, result.output
    segments = [line.strip() for line in result.output.splitlines() if " days  " in line and "rule" in line]
    assert segments == [
        "2020-10-05 .. 2020-11-15   42 days  hds      rule free-period (paragraph 1.5, 4.4)",
        "2020-11-16 .. 2020-11-30   15 days  ccg      rule after-free-period-chc-pending (paragraph 4.13)",
        "2020-12-01 .. 2020-12-09    9 days  council  rule after-free-period-chc-not-eligible (paragraph 4.13)",
        "2020-12-10 .. 2020-12-31   22 days  bau      rule after-free-period-chc-then-assessed (paragraph 4.13)",
    ]
    assert "The CHC/FNC assessment was still pending when the free period ended" in result.output
    assert "Claimed from NHSE to 2020-12-31: £4,200.00" in result.output


def test_trace_of_an_unknown_patient(sample_db):
    result = run("trace", "P999999", "--db", str(sample_db))
    assert result.exit_code == 1
    assert result.output == "Error: no discharges for patient 'P999999'; check the id (patient ids are case-sensitive)\n"


def test_a_bad_month_is_refused():
    result = run("claim", "--month", "2020-13", *SAMPLE)
    assert result.exit_code == 2
    assert "'2020-13' is not a month; expected YYYY-MM" in result.output


def test_no_store_says_what_to_do(tmp_path):
    result = run("claim", "--month", "2020-10", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 1
    assert result.output == (f"Error: no store at {tmp_path / 'none.db'}: run 'hds load DIR' first, "
                             "or pass --data DIR to compute from files\n")


def test_rules_test_command_runs_every_scenario():
    result = run("rules", "test")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(" passed, 0 failed")


def test_rules_list_shows_citations():
    result = run("rules", "list")
    assert result.exit_code == 0
    assert "after-free-period-chc-pending" in result.output and "4.13" in result.output


def test_rules_show_unknown_rulebook_is_a_usage_error():
    result = run("rules", "show", "HDS9")
    assert result.exit_code == 2
    assert "Invalid value for 'SCHEME': no rulebook 'HDS9'; rulebooks: common, HDS1, HDS2, HDS3, HDS4" in result.output
