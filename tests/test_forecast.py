"""`hds forecast`: the known people equal the claim engine on the data cut to the as-of date, to the day and
the penny; the new people follow the trend exactly as stated; the backtest sets the data as it stands now
beside it."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from claims.allocate import month_allocations
from claims.claim import build_claim
from claims.forecast import by_month, forecast
from hds.contract import Discharge, Episode
from hds.data import Data, MemorySource
from hds.days import day_number
from hds.facts import FUNDER_NAMES
from hds.month import Month
from tests.cli_helpers import hds, ok

AS_OF = "2020-11-15"


def day(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


def pence(amount: str) -> int:
    return int(Decimal(amount) * 100)


@pytest.fixture(scope="module")
def backtest(sample_store):
    return json.loads(ok("forecast", "--as-of", AS_OF, "--to", "2021-04", "--backtest", "--json", "--db", sample_store))


@pytest.mark.parametrize("as_of, last", [(AS_OF, "2021-04"), ("2021-03-20", "2021-06")])
def test_known_people_equal_the_claim_engine_on_the_data_cut_to_the_as_of_date(sample_store, sample_data, library,
                                                                               as_of, last):
    result = json.loads(ok("forecast", "--as-of", as_of, "--to", last, "--json", "--db", sample_store))
    assert set(result) == {"as_of", "months", "commitments", "assumptions"}
    cut = MemorySource(sample_data.known_on(day(as_of)).linked())
    months = Month.span(Month.of_day(day(as_of)), Month(last))
    assert [m["month"] for m in result["months"]] == months
    for entry, month in zip(result["months"], months):
        assert set(entry) == {"month", "known", "new"}
        claimed = by_month(month_allocations(cut.period(*month.days), month, library), [month])[month]
        assert {f: (v["days"], pence(v["amount"])) for f, v in entry["known"].items()} == \
            {f: (claimed.days[f], claimed.pence[f]) for f in FUNDER_NAMES}
        assert pence(entry["known"]["hds"]["amount"]) == build_claim(cut, library, month).current_pence


def test_the_cut_keeps_only_what_was_known(sample_data):
    as_of = day(AS_OF)
    cut = sample_data.known_on(as_of)
    assert cut.discharges["discharge_date"].max() <= as_of and cut.events["date"].max() <= as_of
    assert cut.episodes["start_date"].max() <= as_of and cut.block_costs["start_date"].max() <= as_of
    later = sample_data.episodes["end_date"] > as_of
    assert (cut.episodes["end_date"] <= as_of).sum() == ((sample_data.episodes["start_date"] <= as_of) & ~later).sum()


def test_backtest_sets_the_data_as_it_stands_beside_the_forecast(backtest, sample_data, library):
    now = MemorySource(sample_data)
    for entry in backtest["months"]:
        month = Month(entry["month"])
        actual = by_month(month_allocations(now.period(*month.days), month, library), [month])[month]
        for f in FUNDER_NAMES:
            assert (entry["actual"][f]["days"], pence(entry["actual"][f]["amount"])) == (actual.days[f], actual.pence[f])
            forecast_pence = pence(entry["known"][f]["amount"]) + pence(entry["new"][f]["amount"])
            assert pence(entry["actual"][f]["error"]) == forecast_pence - actual.pence[f]
    total = backtest["backtest"]["all"]
    assert pence(total["error"]) == pence(total["forecast"]) - pence(total["actual"])
    assert total["error_percent"] == str((Decimal(total["error"]) * 100 / Decimal(total["actual"])).quantize(Decimal("0.1")))


def test_new_people_have_a_low_and_a_high_figure_and_stated_assumptions(backtest):
    for entry in backtest["months"]:
        for figures in entry["new"].values():
            assert pence(figures["low"]) <= pence(figures["amount"]) <= pence(figures["high"])
    assert pence(backtest["months"][1]["new"]["hds"]["amount"]) > 0
    a = backtest["assumptions"]
    assert a["window"] == {"first": "2020-09-21", "last": AS_OF, "days": 56}
    assert sum(a["discharges_by_week"]) == a["discharges_in_window"] and len(a["discharges_by_week"]) == 8
    assert Decimal(a["discharges_per_day"]["low"]) <= Decimal(a["discharges_per_day"]["central"]) \
        <= Decimal(a["discharges_per_day"]["high"])
    assert len(a["statements"]) >= 4 and all(isinstance(s, str) for s in a["statements"])


def _steady(library, days=14):
    """One HDS2 discharge a day for `days` days, each with home care at £700 a week that runs on."""
    start = dt.date(2020, 10, 1)
    discharges = [Discharge(f"D{i}", f"P{i}", start + dt.timedelta(days=i)) for i in range(days)]
    episodes = [Episode(f"E{i}", f"D{i}", "home_care", start + dt.timedelta(days=i), None, 70000, "OCC")
                for i in range(days)]
    return MemorySource(Data.from_records(discharges=discharges, episodes=episodes))


def test_new_people_follow_the_trend_exactly(library):
    # a discharge a day, each costing £100 a day: the scheme's for 42 days, then the council's (no assessment)
    fc = forecast(_steady(library), library, day("2020-10-14"), Month("2021-01"), window_days=14)
    assert fc.trend.discharges == 14 and fc.trend.weekly_counts == (7, 7)
    as_of = day("2020-10-14")
    for month in fc.months:
        expected = {"hds": 0, "council": 0}
        for u in range(max(month.first_day, as_of + 1), month.last_day + 1):
            arrived = u - as_of  # new people on day u, one a day since the 15th
            expected["hds"] += min(arrived, 42) * 10000
            expected["council"] += max(arrived - 42, 0) * 10000
        new = fc.new[month]
        assert (new.pence["hds"], new.pence["council"]) == (expected["hds"], expected["council"])
        assert new.low == new.pence == new.high  # every week of the window was the same
        assert new.days["hds"] * 10000 == expected["hds"]


def test_no_new_people_after_the_last_scheme(sample_store):
    result = json.loads(ok("forecast", "--as-of", "2022-03-31", "--to", "2022-05", "--json", "--db", sample_store))
    april = result["months"][1]["new"]
    assert all(v["amount"] == "0.00" for v in april.values())


def test_commitments_are_the_people_the_pool_pays_on_the_horizon(library):
    fc = forecast(_steady(library), library, day("2020-10-14"), Month("2021-01"), window_days=14)
    council = fc.commitments["council"]
    assert (council.people, council.weekly_pence, council.moving_after_as_of) == (14, 14 * 70000, 14)
    assert council.full_year_pence == 14 * 3650000
    assert fc.commitments["ccg"].people == 0


def test_forecast_refuses_a_horizon_before_the_as_of_date(sample_store):
    result = hds("forecast", "--as-of", AS_OF, "--to", "2020-10", "--db", sample_store)
    assert result.exit_code == 1 and "--to 2020-10 is before the as-of date 2020-11-15" in result.output


def test_forecast_table_and_csv(sample_store):
    table = ok("forecast", "--as-of", AS_OF, "--to", "2020-12", "--db", sample_store)
    assert table.splitlines()[0] == "Forecast as of 2020-11-15, 2020-11 to 2020-12, per funder"
    assert "Commitments to the pool on 2020-12's last day" in table and "New people:" in table
    csv = ok("forecast", "--as-of", AS_OF, "--to", "2020-12", "--csv", "--db", sample_store).split()
    assert csv[0] == "month,funder,known_days,known,new_days,new,new_low,new_high,forecast"
    assert len([line for line in csv[1:] if line]) == 2 * len(FUNDER_NAMES)


def test_the_html_report_and_the_forecast_page_draw_the_forecast(sample_store, tmp_path):
    import re

    ok("report", "--from", "2020-09", "--to", "2021-03", "-o", tmp_path / "report.html", "--db", sample_store)
    page = (tmp_path / "report.html").read_text()
    figure = re.search(r'<figure class="chart" id="chart-forecast">(.*?)</figure>', page, flags=re.S).group(1)
    assert "<h3>Forecast as of 2021-03-31: the pool's money by month</h3>" in figure
    assert figure.count("<svg") == 1 and ">Actual</text>" in figure and ">New people (central)</text>" in figure
    ok("forecast", "--as-of", AS_OF, "--to", "2021-01", "--backtest", "-o", tmp_path / "forecast.html",
       "--db", sample_store)
    own = (tmp_path / "forecast.html").read_text()
    assert own.count('id="chart-forecast"') == 1 and "<h2>Assumptions</h2>" in own and "Backtest, every funder" in own


def test_the_forecast_workbook_has_the_commitments_sheet(sample_store, tmp_path):
    import openpyxl

    ok("forecast", "--as-of", AS_OF, "--to", "2020-12", "-o", tmp_path / "forecast.xlsx", "--db", sample_store)
    book = openpyxl.load_workbook(tmp_path / "forecast.xlsx")
    assert book.sheetnames == ["Forecast", "Commitments"]


def test_an_as_of_date_before_the_data_is_refused(sample_store):
    result = hds("forecast", "--as-of", "2019-01-01", "--to", "2019-03", "--db", sample_store)
    assert result.exit_code == 1
    assert "the as-of date 2019-01-01 is before the first discharge in the data (2020-03-10)" in result.output


def test_the_forecast_page_opens_in_a_real_browser(sample_store, tmp_path, chromium):
    from tests import browser

    browser.require_chromium()
    out = tmp_path / "forecast.html"
    ok("forecast", "--as-of", AS_OF, "--to", "2021-02", "--backtest", "-o", out, "--db", sample_store)
    assert out.stat().st_mode & 0o777 == 0o600
    with browser.open_file(out, chromium, width=1100, height=900) as view:
        assert view.errors() == []
        marks = view.evaluate("() => document.querySelector('#chart-forecast svg').querySelectorAll('path, rect, use')"
                              ".length")
        assert marks >= 12
        view.screenshot(tmp_path / "forecast.png")
    assert browser.distinct_colours(tmp_path / "forecast.png") > 16
