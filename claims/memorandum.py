"""The memorandum note of the pooled budget (agreement 6.1, 6.2, 6.6 and 5.2): the scheme's costs of a
financial year (April to March), one row per service line and organisation that incurred them, care
for individuals and block purchases apart, month by month, with the year to date, the forecast to the
year end and the outturn.

A month's amount is the month's own claim as `hds claim --month M` shows it: the submitted lines of a
submitted month, the lines later submissions carried for a month skipped over, and for any other month
the draft as the data stands. So every month's rows add up to that claim's `totals.current`.

The months up to the data's latest complete month are the year to date; each later month of the year
not yet submitted is forecast by `forecast_lines`: the same claim engine on the data as it stands, open
episodes running on to the year end (people and block costs known now, nobody new).

Service lines come from hds.toml's [service_lines] (service code = the pool's service line); a service
mapped to no line is shown under its own code as a new cost (6.2). Block purchases have the service
code `block`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hds.month import Month
from hds.table import Table


@dataclass
class MemoRow:
    service_line: str
    new: bool  # a service mapped to no service line: a new cost (6.2)
    organisation: str  # who incurred the cost (6.6)
    individual: bool  # care for an individual, or a block purchase (5.2)
    months: dict[str, int] = field(default_factory=dict)  # month -> pence


@dataclass(frozen=True)
class Memorandum:
    year: int
    months: tuple[Month, ...]  # April to March
    forecast_months: frozenset[str]  # the months forecast: after the latest complete month, not submitted
    rows: tuple[MemoRow, ...]

    def to_date(self, row: MemoRow) -> int:
        return sum(p for m, p in row.months.items() if m not in self.forecast_months)

    def forecast(self, row: MemoRow) -> int:
        return sum(p for m, p in row.months.items() if m in self.forecast_months)

    def outturn(self, row: MemoRow) -> int:
        return sum(row.months.values())


def financial_year(year: int) -> tuple[Month, ...]:
    """April of `year` to March of the next."""
    return tuple(Month.span(Month(f"{year}-04"), Month(f"{year + 1}-03")))


def year_of(month: str) -> int:
    """The financial year a month falls in (its April's calendar year)."""
    return int(month[:4]) if int(month[5:]) >= 4 else int(month[:4]) - 1


def latest_complete_month(latest_day: int) -> Month:
    """The last month the data covers in full: the month of its latest date if that is the month's last
    day, else the month before."""
    month = Month.of_day(latest_day)
    return month if latest_day == month.last_day else month.previous()


def forecast_lines(source, library, first: Month, last: Month) -> Table:
    """The claim lines of months `first`..`last` forecast from the data as it stands: the claim engine
    with open episodes running on (the people and block costs known now). The one place the
    memorandum's forecast is made; ``hds forecast``'s figure for known people may stand in for it."""
    return own_lines(source, library, first, last)


def own_lines(source, library, first: Month, last: Month) -> Table:
    """The months' own claim lines as drafts: the scheme's rows of their allocation."""
    from claims.allocate import allocations
    from claims.claim import claim_lines

    rows = allocations(source.period(first.first_day, last.last_day), library, first.number, last.number)
    return claim_lines(rows, {})


def actual_lines(source, library, first: Month, last: Month) -> Table:
    """The months' own claim lines as drafts, as the memorandum sums them (service, organisation, kind,
    pence): from the figures stored at the load when they are current (``claims.figures``), else decided."""
    from claims.figures import stored_totals

    totals = stored_totals(source, library, first, last)
    if totals is None:
        return own_lines(source, library, first, last)
    totals = totals.take(totals["funder"] == "hds")
    block = totals["service"] == "block"  # block costs' rows: episodes' services are never "block"
    return Table({"claim_month": totals["month"], "service": totals["service"], "organisation": totals["organisation"],
                  "kind": np.where(block, "block", "individual").astype(object), "amount_pence": totals["amount_pence"]})


def memorandum(source, library, year: int, config, store=None) -> Memorandum:
    """The memorandum note of the financial year starting April `year`."""
    months = financial_year(year)
    cut = latest_complete_month(source.latest_day())
    submitted = _stored_lines(store, library, months) if store is not None else {}
    actual = [m for m in months if m <= cut and m not in submitted]
    ahead = [m for m in months if m > cut and m not in submitted]
    lines = dict(submitted)
    if actual:
        lines |= _by_month(actual_lines(source, library, actual[0], actual[-1]), actual)
    if ahead:
        lines |= _by_month(forecast_lines(source, library, ahead[0], ahead[-1]), ahead)
    rows = memo_rows({m: lines.get(m) for m in months}, config)
    return Memorandum(year, months, frozenset(ahead), rows)


def _stored_lines(store, library, months) -> dict[str, Table]:
    """The own lines of the months the ledger holds: submitted, or carried by a later submission."""
    from claims.ledger import claim_for, claimed_in, submission_of

    found = {}
    for month in months:
        if submission_of(store, month) is not None or claimed_in(store, month) is not None:
            found[month] = claim_for(store, library, month).lines
    return found


def _by_month(lines: Table, months: list[Month]) -> dict[str, Table]:
    return {m: lines.take(lines["claim_month"] == m) for m in months}


def memo_rows(lines_by_month: dict[str, Table | None], config) -> tuple[MemoRow, ...]:
    """Claim lines of some months grouped into the memorandum's rows: service line, organisation,
    individual or block; each month's pence."""
    mapped = config.service_lines
    rows: dict[tuple, MemoRow] = {}
    for month, lines in lines_by_month.items():
        if lines is None or not len(lines):
            continue
        keys = zip(lines["service"].tolist(), lines["organisation"].tolist(), (lines["kind"] == "individual").tolist())
        sums: dict[tuple, int] = {}
        for key, pence in zip(keys, lines["amount_pence"].astype(np.int64).tolist()):
            sums[key] = sums.get(key, 0) + pence
        for (service, organisation, individual), pence in sums.items():
            line = mapped.get(service)
            key = (line or service, line is None, organisation, individual)
            row = rows.setdefault(key, MemoRow(*key))
            row.months[month] = row.months.get(month, 0) + pence
    return tuple(rows[k] for k in sorted(rows, key=lambda k: (k[1], k[0], k[2], not k[3])))
