"""Looking forward (`hds forecast`): the months to a horizon, per funder, as known on a date.

*As of* a date means what was known that day, reconstructed from the data
(``hds.data.Data.known_on``): discharges dated on or before it, episodes
started by then with a later end treated as still running, events dated on
or before it, block costs started by then. Three parts:

- **known**: the people known on the as-of date, their care decided day by
  day by the claim's own engine (``claims.allocate``) up to the horizon.
  Nothing more is learned, so each free period ends as the rules say and
  each open episode runs on at its weekly cost. A month's figures are
  exactly the allocation, and so the claim, hds makes for that month from the
  data cut to the as-of date.
- **new**: the people not yet discharged, from the recent trend. Over a
  window of whole weeks before the as-of date: the discharges per day, and
  what a discharge of the window costs, per funder, by week since its
  discharge (its care as known on the as-of date, run on by the same
  engine). New discharges arrive every day after the as-of date on which a
  scheme admits discharges, at the window's rate (central), its quietest
  week's (low) and its busiest week's (high).
- **commitments**: per funder, the known people the scheme paid for whose care
  the CCG or the council pays on the horizon's last day: the commitment to
  the pool, with their weekly costs and the cost of a full year of that care.

With a backtest, the months' allocations from the data as it stands now
(what actually happened) are set beside the forecast, with the error.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from claims.allocate import FUNDER_CODE, HDS, allocate, allocations, block_allocation, decide
from hds.days import iso
from hds.errors import HdsError
from hds.facts import FUNDER_NAMES
from hds.money import cost_of_days
from hds.month import Month
from hds.schemes import locate
from hds.table import Table

WINDOW_DAYS = 56  # eight weeks
POOL = ("ccg", "council")


@dataclass(frozen=True)
class Figures:
    """Days and pence per funder of one month."""

    days: dict[str, int]
    pence: dict[str, int]

    @classmethod
    def zero(cls) -> "Figures":
        return cls({f: 0 for f in FUNDER_NAMES}, {f: 0 for f in FUNDER_NAMES})


@dataclass(frozen=True)
class Trend:
    """The window the new people are forecast from, and what its discharges cost by week since discharge."""

    first: int  # day numbers, both included
    last: int
    discharges: int
    weekly_counts: tuple[int, ...]  # discharges in each week of the window, oldest first
    week_pence: np.ndarray  # (funder, week since discharge): the window's discharges' pence x 7 in that week
    week_days: np.ndarray  # (funder, week since discharge): their days of care in that week

    @property
    def days(self) -> int:
        return self.last - self.first + 1

    def rates(self) -> dict[str, Fraction]:
        """Discharges per day: the window's (central), its quietest and busiest weeks' (low, high)."""
        if not self.discharges:
            return {"central": Fraction(0), "low": Fraction(0), "high": Fraction(0)}
        return {"central": Fraction(self.discharges, self.days), "low": Fraction(min(self.weekly_counts), 7),
                "high": Fraction(max(self.weekly_counts), 7)}


@dataclass(frozen=True)
class NewFigures:
    days: dict[str, int]
    pence: dict[str, int]  # central
    low: dict[str, int]
    high: dict[str, int]


@dataclass(frozen=True)
class Commitment:
    people: int
    weekly_pence: int
    full_year_pence: int
    moving_after_as_of: int  # of `people`, those whose care first passes to the funder after the as-of date


@dataclass(frozen=True)
class Forecast:
    as_of: int
    months: list[Month]
    known: dict[Month, Figures]
    new: dict[Month, NewFigures]
    commitments: dict[str, Commitment]
    trend: Trend
    actual: dict[Month, Figures] | None = None  # with a backtest: the months as the data stands now


def forecast(source, library, as_of: int | None, last: Month, first: Month | None = None,
             backtest: bool = False, window_days: int = WINDOW_DAYS) -> Forecast:
    """The forecast of months `first` (default: the as-of date's) to `last` as known on day `as_of`
    (default: the latest date in the data)."""
    as_of = source.latest_day() if as_of is None else as_of
    first = first or Month.of_day(as_of)
    if last < Month.of_day(as_of):
        raise HdsError(f"--to {last} is before the as-of date {iso(as_of)}: a forecast looks forward from it")
    if last < first:
        raise HdsError(f"--to {last} is before --from {first}")
    if as_of < source.first_day():
        raise HdsError(f"the as-of date {iso(as_of)} is before the first discharge in the data "
                       f"({iso(source.first_day())}): nothing was known then")
    window_first = max(as_of - window_days + 1, source.first_day())
    # what the cut keeps and the months need: episodes started by the as-of date that overlap the months or
    # the window; those running after it overlap the as-of date itself
    known = source.period(min(first.first_day, window_first), as_of).known_on(as_of).linked()
    decided = decide(known, library, last.last_day + 7)  # a week past the horizon: whole weeks of the trend
    rows = Table.concat([allocate(decided, first.number, last.number),
                         block_allocation(known.block_costs, first.number, last.number)])
    months = Month.span(first, last)
    trend = trend_of(decided, as_of, window_first, last.last_day - as_of)
    actual = None
    if backtest:
        actual = by_month(allocations(source.period(first.first_day, last.last_day), library, first.number,
                                      last.number), months)
    return Forecast(as_of, months, by_month(rows, months), new_people(trend, library.schemes, as_of, months),
                    commitments_of(decided, as_of, last.last_day), trend, actual)


def for_report(source, library, last: Month) -> tuple[Forecast, int] | None:
    """The forecast the HTML report draws: as known at the end of the report's last month (or on the
    latest date in the data, when that is earlier), at least three months long, with what actually
    happened; and the latest date in the data (later months' actual figures are not known yet). None for
    a report that ends before the first discharge."""
    latest = source.latest_day()
    as_of = min(latest, last.last_day)
    if as_of < source.first_day():
        return None  # a report of months before the data: nothing to look forward from
    horizon = max(last, Month(Month.of_day(as_of).number + 2))
    return forecast(source, library, as_of, horizon, backtest=True), latest


def by_month(rows: Table, months: list[Month]) -> dict[Month, Figures]:
    """An allocation table's days and pence per month and funder (every funder, zero when none)."""
    result = {m: Figures.zero() for m in months}
    for month, funder, days, pence in rows.rows(["month", "funder", "days", "amount_pence"]):
        figures = result[Month(month)]
        figures.days[funder] += days
        figures.pence[funder] += pence
    return result


def trend_of(decided, as_of: int, window_first: int, reach: int) -> Trend:
    """The window's discharges and their care per funder by week since discharge, for `reach` days on."""
    t, s = decided.timelines, decided.segments
    in_window = (t.D >= window_first) & (t.D <= as_of)
    weeks = -(-(as_of - window_first + 1) // 7)
    counts = np.bincount((as_of - t.D[in_window]) // 7, minlength=weeks)[::-1]
    span = -(-max(reach, 1) // 7) * 7
    e = decided.data.episodes
    d = e["d"][s.episode]
    keep = in_window[d]
    lo = np.maximum(s.first[keep] - t.D[d[keep]], 0)
    hi = np.minimum(s.last[keep] - t.D[d[keep]], span - 1)
    ok = lo <= hi
    lo, hi, funder = lo[ok], hi[ok], decided.funder[keep][ok]
    weekly = e["weekly_pence"][s.episode[keep][ok]]
    pence, days = np.zeros((len(FUNDER_NAMES), span + 1), np.int64), np.zeros((len(FUNDER_NAMES), span + 1), np.int64)
    for target, value in ((pence, weekly), (days, np.ones_like(weekly))):
        np.add.at(target, (funder, lo), value)
        np.add.at(target, (funder, hi + 1), -value)
    daily_pence, daily_days = np.cumsum(pence, axis=1)[:, :span], np.cumsum(days, axis=1)[:, :span]
    return Trend(window_first, as_of, int(in_window.sum()), tuple(int(c) for c in counts),
                 daily_pence.reshape(len(FUNDER_NAMES), -1, 7).sum(axis=2),
                 daily_days.reshape(len(FUNDER_NAMES), -1, 7).sum(axis=2))


def new_people(trend: Trend, schemes, as_of: int, months: list[Month]) -> dict[Month, NewFigures]:
    """The new discharges' days and money per month and funder, central, low and high."""
    result = {m: NewFigures(*({f: 0 for f in FUNDER_NAMES} for _ in range(4))) for m in months}
    reach = months[-1].last_day - as_of
    if trend.discharges == 0 or reach <= 0:
        return result
    arrivals = (locate(schemes, np.arange(as_of + 1, as_of + reach + 1))[0] >= 0).astype(np.int64)
    # each day of week k since discharge carries a seventh of the week's figure: x 7 below
    pence = [np.convolve(arrivals, np.repeat(row, 7))[:reach] for row in trend.week_pence]
    days = [np.convolve(arrivals, np.repeat(row, 7))[:reach] for row in trend.week_days]
    rates = trend.rates()
    for m in months:
        lo, hi = max(m.first_day, as_of + 1) - as_of - 1, m.last_day - as_of
        if hi <= lo:
            continue
        for f, name in enumerate(FUNDER_NAMES):
            total_pence, total_days = int(pence[f][lo:hi].sum()), int(days[f][lo:hi].sum())
            per = Fraction(1, trend.discharges * 7)
            result[m].days[name] = _half_up(rates["central"] * total_days * per)
            for target, rate in ((result[m].pence, "central"), (result[m].low, "low"), (result[m].high, "high")):
                target[name] = _half_up(rates[rate] * total_pence * per / 7)
    return result


def _half_up(value: Fraction) -> int:
    return int((2 * value.numerator + value.denominator) // (2 * value.denominator))


def commitments_of(decided, as_of: int, horizon: int) -> dict[str, Commitment]:
    """Per pool funder: the people the scheme paid for whose care it pays on the horizon's last day."""
    s, funder = decided.segments, decided.funder
    e = decided.data.episodes
    d = e["d"][s.episode]
    had_scheme = np.zeros(len(decided.data.discharges), dtype=bool)
    had_scheme[d[funder == HDS]] = True
    result = {}
    for name in POOL:
        code = FUNDER_CODE[name]
        mine = (funder == code) & had_scheme[d]
        first_day = np.full(len(had_scheme), np.iinfo(np.int64).max)
        np.minimum.at(first_day, d[mine], s.first[mine])
        on = mine & (s.first <= horizon) & (s.last >= horizon)
        weekly = np.zeros(len(had_scheme), dtype=np.int64)
        np.add.at(weekly, d[on], e["weekly_pence"][s.episode[on]])
        people = np.unique(d[on])
        result[name] = Commitment(len(people), int(weekly[people].sum()),
                                  int(cost_of_days(weekly[people], 365).sum()),
                                  int((first_day[people] > as_of).sum()))
    return result


def errors(fc: Forecast) -> dict[Month, dict[str, int]]:
    """Per month and funder, the forecast (known and new, central) less what actually happened, in pence."""
    return {m: {f: fc.known[m].pence[f] + fc.new[m].pence[f] - fc.actual[m].pence[f] for f in FUNDER_NAMES}
            for m in fc.months}
