"""The memorandum note: each month's rows add up to that month's claim to the penny; services under their
service lines or as new costs; organisations as in the data; individual care and block purchases apart;
the year to date, the forecast and the outturn."""

import json
from decimal import Decimal

import pytest

from hds.month import Month
from tests.cli_helpers import hds, ok
from tests.conftest import copy_store

SERVICE_LINES = '''[service_lines]
residential = "Residential care"
nursing = "Nursing care"
block = "Block-purchased beds"
'''


def as_json(*args):
    result = hds(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def year_2020(tmp_path_factory, october_store):
    """October 2020 submitted, the other months drafts; the memorandum of 2020-21 and each month's claim."""
    db = copy_store(october_store, tmp_path_factory.mktemp("memorandum") / "hds.db")
    (db.parent / "hds.toml").write_text(SERVICE_LINES)
    memo = as_json("memorandum", "--year", "2020", "--format", "json", "--db", db)
    claims = {m: as_json("claim", "--month", m, "--format", "json", "--db", db)
              for m in Month.span(Month("2020-04"), Month("2021-03"))}
    return memo, claims


def test_every_month_s_rows_add_up_to_its_claim(year_2020):
    memo, claims = year_2020
    assert memo["year"] == 2020
    for month, claim in claims.items():
        assert sum(Decimal(r["months"][month]) for r in memo["rows"]) == Decimal(claim["totals"]["current"]), month
    assert claims["2020-10"]["submission"] == 1  # a submitted month among them, its stored lines


def test_individual_care_and_block_purchases_apart_and_organisations_as_in_the_data(year_2020):
    memo, claims = year_2020
    for month, claim in claims.items():
        block = sum(Decimal(r["months"][month]) for r in memo["rows"] if not r["individual"])
        assert block == Decimal(claim["totals"]["block"]), month
        for organisation, amount in claim["totals"]["by_organisation"].items():
            if not claim["adjustments"]:  # by_organisation covers the whole claim: compare months without any
                assert sum(Decimal(r["months"][month]) for r in memo["rows"]
                           if r["organisation"] == organisation) == Decimal(amount)
    assert {r["organisation"] for r in memo["rows"]} == {"OCC", "OCCG"}


def test_mapped_services_under_their_lines_unmapped_ones_as_new_costs(year_2020):
    memo, claims = year_2020
    lines = {(r["service_line"], r["new"]) for r in memo["rows"]}
    assert {("Residential care", False), ("Nursing care", False), ("Block-purchased beds", False)} <= lines
    assert ("home_care", True) in lines and ("interim_bed", True) in lines
    assert not any(r["service_line"] in ("residential", "nursing", "block") for r in memo["rows"])
    assert all(not r["individual"] for r in memo["rows"] if r["service_line"] == "Block-purchased beds")
    nursing = sum(Decimal(r["months"]["2020-11"]) for r in memo["rows"] if r["service_line"] == "Nursing care")
    assert nursing == Decimal(claims["2020-11"]["totals"]["by_service"]["nursing"])


def test_a_past_year_is_all_to_date(year_2020):
    memo, _ = year_2020
    for r in memo["rows"]:
        assert set(r) == {"service_line", "new", "organisation", "individual", "months", "to_date", "forecast",
                          "outturn"}
        assert list(r["months"]) == [str(m) for m in Month.span(Month("2020-04"), Month("2021-03"))]
        assert Decimal(r["forecast"]) == 0
        assert Decimal(r["to_date"]) == Decimal(r["outturn"]) == sum(Decimal(v) for v in r["months"].values())


FORECAST = {
    "discharges.csv": "discharge_id,patient_id,discharge_date\nD1,P1,2021-02-10\nD2,P2,2020-10-01\n",
    "episodes.csv": "episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation\n"
                    "E1,D1,interim_bed,2021-02-10,,700,OCC\n"
                    "E2,D2,home_care,2020-10-01,2020-10-31,350,OCCG\n",
}


@pytest.fixture
def forecast_store(tmp_path):
    """Data whose latest date is 10 February 2021: January is its latest complete month; an open episode
    from then on is free for 42 days, to 23 March."""
    folder = tmp_path / "extract"
    folder.mkdir()
    for name, text in FORECAST.items():
        (folder / name).write_text(text)
    db = tmp_path / "hds.db"
    ok("load", folder, "--db", db)
    (tmp_path / "hds.toml").write_text('[service_lines]\ninterim_bed = "Interim beds"\n')
    return db


def test_the_months_after_the_latest_complete_month_are_forecast(forecast_store):
    memo = as_json("memorandum", "--year", "2020", "--json", "--db", forecast_store)
    rows = {(r["service_line"], r["new"], r["organisation"], r["individual"]): r for r in memo["rows"]}
    interim = rows[("Interim beds", False, "OCC", True)]
    assert (interim["months"]["2021-02"], interim["months"]["2021-03"]) == ("1900.00", "2300.00")  # 19 and 23 days
    assert (interim["to_date"], interim["forecast"], interim["outturn"]) == ("0.00", "4200.00", "4200.00")
    home = rows[("home_care", True, "OCCG", True)]
    assert (home["months"]["2020-10"], home["to_date"], home["forecast"], home["outturn"]) == \
        ("1550.00", "1550.00", "0.00", "1550.00")
    for month in ("2020-10", "2021-02"):
        claim = as_json("claim", "--month", month, "--json", "--db", forecast_store)
        assert sum(Decimal(r["months"][month]) for r in memo["rows"]) == Decimal(claim["totals"]["current"])
    # March is after the data, so there is no claim of it yet: the forecast's known people stand for it
    ahead = as_json("forecast", "--to", "2021-03", "--json", "--db", forecast_store)
    march = next(m for m in ahead["months"] if m["month"] == "2021-03")
    assert sum(Decimal(r["months"]["2021-03"]) for r in memo["rows"]) == Decimal(march["known"]["hds"]["amount"])


def test_the_forecast_is_made_in_one_place(forecast_store, monkeypatch):
    """`forecast_lines` is the seam another forecast (hds forecast's known people) can stand in at."""
    from claims import memorandum
    from claims.claim import empty_lines

    monkeypatch.setattr(memorandum, "forecast_lines", lambda source, library, first, last: empty_lines())
    memo = as_json("memorandum", "--year", "2020", "--json", "--db", forecast_store)
    assert all(Decimal(r["forecast"]) == 0 for r in memo["rows"])
    assert sum(Decimal(r["outturn"]) for r in memo["rows"]) == Decimal("1550.00")


def test_the_table_and_the_workbook(forecast_store, tmp_path):
    out = ok("memorandum", "--year", "2020", "--db", forecast_store)
    assert out.startswith("Memorandum note of the pooled budget: Hospital Discharge Scheme costs, financial year "
                          "2020-21 (April 2020 to March 2021)")
    assert "Feb 2021  forecast" in out and "Jan 2021  claim" in out
    assert "Outturn for the year: £5,750.00" in out
    import openpyxl

    book = tmp_path / "memo.xlsx"
    ok("memorandum", "--year", "2020", "-o", book, "--db", forecast_store)
    ws = openpyxl.load_workbook(book)["Memorandum"]
    headings = [c.value for c in ws[2]]
    assert headings[:5] == ["Service line", "New cost", "Organisation", "Individual or block", "Apr 2020"]
    assert "Feb 2021 (forecast)" in headings and headings[-3:] == ["To date", "Forecast", "Outturn"]


def test_a_year_before_and_a_wrong_year_are_handled(forecast_store):
    memo = as_json("memorandum", "--year", "2019", "--json", "--db", forecast_store)
    assert memo == {"year": 2019, "rows": []}
    result = hds("memorandum", "--year", "20", "--db", forecast_store)
    assert result.exit_code == 2 and "--year" in result.output


def test_the_month_end_pack_has_the_invoice_and_the_month_s_memorandum_column(tmp_path, october_store):
    import openpyxl

    db = copy_store(october_store, tmp_path / "hds.db")
    (tmp_path / "hds.toml").write_text('[partners]\ncouncil = "OCC"\nccg = "OCCG"\n\n' + SERVICE_LINES)
    pack = tmp_path / "pack.xlsx"
    ok("claim", "--month", "2020-10", "-o", pack, "--db", db)
    book = openpyxl.load_workbook(pack)
    assert book.sheetnames[-2:] == ["Invoice", "Memorandum"]
    memo = [[c.value for c in row] for row in book["Memorandum"].iter_rows()]
    header = next(i for i, row in enumerate(memo) if row[0] == "Service line")
    assert memo[header] == ["Service line", "New cost", "Organisation", "Individual or block", "Amount"]
    body = [row for row in memo[header + 1:] if row[0] not in (None, "Total") and isinstance(row[4], (int, float))]
    current = as_json("claim", "--month", "2020-10", "--json", "--db", db)["totals"]["current"]
    assert round(sum(Decimal(str(row[4])) for row in body), 2) == Decimal(current)
    invoice = [[c.value for c in row] for row in book["Invoice"].iter_rows()]
    assert invoice[0][0] == "Draft invoice DRAFT-2020-10: not issued (hds invoice --month 2020-10 --issue issues it)"
    net = as_json("recharge", "--month", "2020-10", "--json", "--db", db)["net"]
    total = next(row for row in invoice if row[0] == f"Total due from {net['owed_by']} to {net['owed_to']}")
    assert Decimal(str(total[-1])).quantize(Decimal("0.01")) == Decimal(net["amount"])


def test_the_html_report_ends_with_the_memorandum_note_of_the_year_of_its_last_month(forecast_store, tmp_path):
    out = tmp_path / "report.html"
    ok("report", "--from", "2020-10", "--to", "2021-03", "-o", out, "--db", forecast_store)
    html = out.read_text()
    table = html[html.index('<table id="table-memorandum">'):]
    table = table[:table.index("</table>")]
    assert "Memorandum note of the pooled budget: Hospital Discharge Scheme costs, financial year 2020-21" in html
    assert "Feb 2021 (forecast)" in table and "Jan 2021 (forecast)" not in table
    assert 'home_care <span class="note">(new cost)</span>' in table and ">Interim beds</th>" in table
    footer = table[table.index("<tfoot>"):]
    assert footer.count("£5,750.00") == 1 and "£1,550.00" in footer and "£4,200.00" in footer


def test_a_service_line_for_an_unknown_service_code_is_refused(tmp_path):
    from hds.config import load_config
    from hds.errors import HdsError

    (tmp_path / "hds.toml").write_text('[service_lines]\nresidental = "Residential care"\n')
    with pytest.raises(HdsError, match=r"\[service_lines\] 'residental' is not a service code; the codes are "
                                       r"interim_bed, residential, "):
        load_config(tmp_path / "hds.toml")
    (tmp_path / "hds.toml").write_text('[service_lines]\nresidential = 3\n')
    with pytest.raises(HdsError, match=r"\[service_lines\] residential must be a text value"):
        load_config(tmp_path / "hds.toml")
