"""What `hds forecast` and `hds upcoming` show: a table, CSV, JSON, a workbook, and for the forecast an
HTML page with its chart. Money leaves as pounds from integer pence (``Pounds``); dates as ISO text."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from claims.forecast import Forecast, errors
from claims.report.deliver import Report
from claims.report.formats import Pounds
from claims.upcoming import FIELDS as PEOPLE_FIELDS, Upcoming
from hds.days import iso
from hds.facts import FUNDER_NAMES
from hds.money import format_pounds

FORECAST_COLUMNS = ("month", "funder", "known_days", "known", "new_days", "new", "new_low", "new_high", "forecast")
BACKTEST_COLUMNS = ("actual_days", "actual", "error")
COMMITMENT_COLUMNS = ("funder", "people", "weekly_cost", "full_year_cost", "moving_after_as_of")


# --- upcoming ---------------------------------------------------------------------

def people_records(up: Upcoming) -> list[dict]:
    return [{"discharge_id": p.discharge_id, "patient_id": p.patient_id, "scheme": p.scheme,
             "pays_from": iso(p.pays_from), "next_funder": p.next_funder, "weekly_cost": Pounds.of(p.weekly_pence),
             "outstanding": p.outstanding} for p in up.people]


def upcoming_report(up: Upcoming) -> Report:
    """`hds upcoming`: the worklist, sorted by the day the scheme stops paying."""
    records = people_records(up)
    who = "1 person" if len(records) == 1 else f"{len(records)} people"
    title = (f"Free care ending: {who} the scheme pays for on {iso(up.as_of)} whose scheme payment stops by "
             f"{iso(up.as_of + up.days)}")
    notes = () if records else (f"No one the scheme pays for on {iso(up.as_of)} stops being paid for by it by "
                                f"{iso(up.as_of + up.days)}.",)
    return Report(title, PEOPLE_FIELDS, records, notes, data={"as_of": iso(up.as_of), "days": up.days,
                                                              "people": records}, sheet="Free care ending")


# --- forecast ---------------------------------------------------------------------

def forecast_rows(fc: Forecast) -> list[dict]:
    """One row per month and funder: known, new (central, low, high), their sum and, with a backtest, actual."""
    wrong = errors(fc) if fc.actual is not None else None
    rows = []
    for m in fc.months:
        known, new = fc.known[m], fc.new[m]
        for f in FUNDER_NAMES:
            row = {"month": m, "funder": f, "known_days": known.days[f], "known": Pounds.of(known.pence[f]),
                   "new_days": new.days[f], "new": Pounds.of(new.pence[f]), "new_low": Pounds.of(new.low[f]),
                   "new_high": Pounds.of(new.high[f]), "forecast": Pounds.of(known.pence[f] + new.pence[f])}
            if wrong is not None:
                row.update(actual_days=fc.actual[m].days[f], actual=Pounds.of(fc.actual[m].pence[f]),
                           error=Pounds.of(wrong[m][f]))
            rows.append(row)
    return rows


def forecast_json(fc: Forecast) -> dict:
    """{"as_of", "months": [{"month", "known", "new", "actual"}], "commitments", "assumptions"} (+ "backtest")."""
    wrong = errors(fc) if fc.actual is not None else None
    months = []
    for m in fc.months:
        known, new = fc.known[m], fc.new[m]
        entry = {"month": m,
                 "known": {f: {"days": known.days[f], "amount": Pounds.of(known.pence[f])} for f in FUNDER_NAMES},
                 "new": {f: {"days": new.days[f], "amount": Pounds.of(new.pence[f]), "low": Pounds.of(new.low[f]),
                             "high": Pounds.of(new.high[f])} for f in FUNDER_NAMES}}
        if wrong is not None:
            entry["actual"] = {f: {"days": fc.actual[m].days[f], "amount": Pounds.of(fc.actual[m].pence[f]),
                                   "error": Pounds.of(wrong[m][f]),
                                   "error_percent": percent(wrong[m][f], fc.actual[m].pence[f])}
                               for f in FUNDER_NAMES}
        months.append(entry)
    value = {"as_of": iso(fc.as_of), "months": months, "commitments": commitments_json(fc),
             "assumptions": assumptions(fc)}
    if wrong is not None:
        value["backtest"] = backtest_summary(fc)
    return value


def percent(part: int, whole: int) -> str | None:
    """part / whole as a percentage with one decimal ('12.5'), None when whole is nothing."""
    if whole == 0:
        return None
    return str((Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1")))


def backtest_summary(fc: Forecast) -> dict:
    """The error over all the months, per funder and in all, against what actually happened."""
    wrong = errors(fc)
    summary = {}
    for f in (*FUNDER_NAMES, "all"):
        pick = FUNDER_NAMES if f == "all" else (f,)
        forecast = sum(fc.known[m].pence[g] + fc.new[m].pence[g] for m in fc.months for g in pick)
        actual = sum(fc.actual[m].pence[g] for m in fc.months for g in pick)
        error = sum(wrong[m][g] for m in fc.months for g in pick)
        summary[f] = {"forecast": Pounds.of(forecast), "actual": Pounds.of(actual), "error": Pounds.of(error),
                      "error_percent": percent(error, actual)}
    return summary


def commitments_json(fc: Forecast) -> dict:
    return {f: {"people": c.people, "weekly_cost": Pounds.of(c.weekly_pence),
                "full_year_cost": Pounds.of(c.full_year_pence), "moving_after_as_of": c.moving_after_as_of}
            for f, c in fc.commitments.items()}


def assumptions(fc: Forecast) -> dict:
    """The window, the rates and the cost of a discharge by week since discharge, and every assumption in words."""
    trend = fc.trend
    rates = trend.rates()
    per_week = []
    for week in range(trend.week_pence.shape[1]):
        per_week.append({"week": week + 1, **{f: Pounds.of(_per_discharge(trend.week_pence[i, week], trend.discharges))
                                              for i, f in enumerate(FUNDER_NAMES)}})
    return {
        "window": {"first": iso(trend.first), "last": iso(trend.last), "days": trend.days},
        "discharges_in_window": trend.discharges,
        "discharges_by_week": list(trend.weekly_counts),
        "discharges_per_day": {k: str(_decimal(v, "0.01")) for k, v in rates.items()},
        "cost_by_week_since_discharge": per_week,
        "statements": statements(fc),
    }


def _per_discharge(week_pence_times_7: int, discharges: int) -> int:
    if not discharges:
        return 0
    value = Fraction(int(week_pence_times_7), 7 * discharges)
    return int((2 * value.numerator + value.denominator) // (2 * value.denominator))


def _decimal(value: Fraction, places: str) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(places))


def statements(fc: Forecast) -> list[str]:
    trend, as_of = fc.trend, iso(fc.as_of)
    return [
        f"As of {as_of}: discharges dated on or before it; episodes started by then, an end after it not yet "
        "known (still running); events dated on or before it; block costs started by then.",
        "Known people: decided day by day by the claim's rules; each open episode runs on at its weekly cost; "
        "nothing more is learned (no assessment, CHC decision, death or charge date not yet known), so each free "
        "period ends as the rules say and the funder after it pays on.",
        f"New people: discharged after {as_of}, on each day a scheme admits discharges, at the rate of the "
        f"{trend.days} days {iso(trend.first)} to {iso(trend.last)} ({trend.discharges} discharges); each costs "
        "what the window's discharges cost on average, by week since discharge, their care as known on the as-of "
        "date run on by the same rules.",
        "Low and high: the same, at the discharges per day of the window's quietest and busiest weeks.",
        "Commitments: known people the scheme paid for whose care the CCG or council pays on the last day of "
        f"{fc.months[-1]}; a full year is 365 days at their weekly cost.",
    ]


def commitments_report(fc: Forecast) -> Report:
    rows = [{"funder": f, "people": c["people"], "weekly_cost": c["weekly_cost"], "full_year_cost": c["full_year_cost"],
             "moving_after_as_of": c["moving_after_as_of"]} for f, c in commitments_json(fc).items()]
    return Report(f"Commitments to the pool on {fc.months[-1]}'s last day", COMMITMENT_COLUMNS, rows,
                  sheet="Commitments")


def forecast_report(fc: Forecast) -> Report:
    """`hds forecast`: per month and funder; the commitments below (or on their own sheet); the assumptions as notes."""
    columns = FORECAST_COLUMNS + (BACKTEST_COLUMNS if fc.actual is not None else ())
    title = f"Forecast as of {iso(fc.as_of)}, {fc.months[0]} to {fc.months[-1]}, per funder"
    notes = tuple(statements(fc))
    if fc.actual is not None:
        overall = backtest_summary(fc)["all"]
        shown = {k: format_pounds(int(Decimal(overall[k]) * 100)) for k in ("forecast", "actual", "error")}
        notes += (f"Backtest, every funder: forecast {shown['forecast']}, actual {shown['actual']} (the data as it "
                  f"stands now), error {shown['error']} ({overall['error_percent'] or '-'}% of actual).",)
    from claims.report.forecast_page import forecast_page

    return Report(title, columns, forecast_rows(fc), notes, data=forecast_json(fc), more=(commitments_report(fc),),
                  sheet="Forecast", render={"html": lambda: forecast_page(fc, title, notes)})
