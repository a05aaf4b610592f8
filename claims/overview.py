"""Months side by side: what each month's care cost and who paid, what was claimed, submitted and
received. One decision over the whole period feeds `hds status`, `hds claim --from/--to` and the
HTML report, so a year costs about what a month does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from claims.figures import decided_totals, stored_totals
from hds.days import NEVER
from hds.month import Month
from hds.table import Table
from hds.timeline import timelines


@dataclass
class MonthOverview:
    """One month's figures in an overview."""

    month: Month
    days_by_funder: dict[str, int] = field(default_factory=dict)
    amount_by_funder: dict[str, int] = field(default_factory=dict)
    draft_by_scheme: dict[str, int] = field(default_factory=dict)  # the month's own hds money, recomputed now
    submission: dict | None = None  # the header, when submitted
    claimed_by_scheme: dict[str, int] = field(default_factory=dict)  # submitted own lines by scheme
    adjustments_pence: int = 0  # submitted adjustments for earlier months, carried in this month's claim
    adjustments_by_scheme: dict[str, int] = field(default_factory=dict)
    carried_in: tuple[int, str] | None = None  # never submitted: claimed as adjustments in that submission
    received_by_scheme: dict[str, int] = field(default_factory=dict)
    received_any: bool = False
    amount_by_funder_and_organisation: dict[tuple[str, str], int] = field(default_factory=dict)
    submitted_by_organisation: dict[str, int] = field(default_factory=dict)  # own lines and adjustments
    council_shortfall_pence: int = 0  # the council's share of an under-payment (5.4), once reconciled
    first_submitted: str | None = None  # the first month the ledger holds a submission for (any month's)

    @property
    def state(self) -> str:
        """One of MONTH_STATES: what became, or will become, of this month's claim."""
        return month_state(self.month, self.submission is not None, self.carried_in is not None,
                           self.first_submitted, bool(self.draft_by_scheme) or bool(self.claimed_by_scheme))

    @property
    def claimed_pence(self) -> int:
        """The month's own claim: submitted lines, or the draft recomputed now."""
        return sum((self.claimed_by_scheme if self.submission else self.draft_by_scheme).values())

    @property
    def total_pence(self) -> int:
        return self.claimed_pence + (self.adjustments_pence if self.submission else 0)

    @property
    def received_pence(self) -> int:
        return sum(self.received_by_scheme.values())

    @property
    def payment(self) -> str:
        from claims.reconcile import status_of

        return status_of(self.total_pence, self.received_pence, self.received_any)


MONTH_STATES = {
    "submitted": "submitted to NHS England and stored for good",
    "claimed later": "never submitted on its own: a later submission claimed it as adjustments",
    "not claimed": "before the first month submitted: claimed outside hds, and hds never claims it",
    "draft": "not submitted yet: figures recomputed from the data as it stands",
    "nothing to claim": "no care the scheme pays for",
}


def month_state(month: str, submitted: bool, carried: bool, first_submitted: str | None, anything: bool) -> str:
    """The state of a month's claim, in the one vocabulary of MONTH_STATES."""
    if submitted:
        return "submitted"
    if carried:
        return "claimed later"
    if first_submitted is not None and month < first_submitted:
        return "not claimed"
    return "draft" if anything else "nothing to claim"


@dataclass
class Overview:
    first: str
    last: str
    months: list[MonthOverview]
    days_to_assessment: list[int] | None  # one per discharge of the span with an assessment; None: not asked for
    days_to_chc_decision: list[int] | None
    load_id: int | None


def recharge_net(month: MonthOverview, config) -> int | None:
    """What the CCG owes the council for a submitted month (negative: the council owes the CCG), as
    `hds recharge` states it; None for a month not submitted, or when hds.toml names no partners."""
    if month.submission is None or not config.has_partners:
        return None
    from claims.recharge import net_owed_by_ccg

    by = month.amount_by_funder_and_organisation
    return net_owed_by_ccg({"scheme_costs": month.submitted_by_organisation.get(config.council, 0),
                            "ccg_days": by.get(("ccg", config.council), 0),
                            "council_days": by.get(("council", config.ccg), 0),
                            "shortfall": month.council_shortfall_pence})


def months_between(first: str, last: str) -> list[Month]:
    return Month.span(first, last)


def overview(source, library, first: str, last: str, store=None, config=None, event_days: bool = True) -> Overview:
    """Every month from `first` to `last`: care by funder, the claim (draft or submitted), receipts;
    with `config`, each under-paid submitted month's shortfall split as reconcile splits it. The
    figures are the stored ones when current (``claims.figures``), else decided once here. Without
    `event_days` the days from discharge to assessment and CHC decision (the report draws them; the
    status does not) are not worked out, and are None."""
    from hds import progress

    first, last = Month(first), Month(last)
    with progress.step(f"Allocating every day of care, {first} to {last}"):
        totals, data = stored_totals(source, library, first, last), None
        if totals is None:
            data = source.period(first.first_day, last.last_day)
            totals = decided_totals(data, library, first.number, last.number)
        days = _days_to_events(source, data, library, first, last) if event_days else (None, None)
    months = {m: MonthOverview(m) for m in months_between(first, last)}
    _aggregate(totals, months)
    for claim_month, scheme, pence in source.receipts().rows(["claim_month", "scheme", "amount_pence"]):
        if claim_month in months:
            target = months[claim_month]
            target.received_by_scheme[scheme] = target.received_by_scheme.get(scheme, 0) + pence
            target.received_any = True
    if store is not None:
        with progress.step("Reading the ledger and reconciling"):
            _ledger(store, months)
        if config is not None:
            from claims.reconcile import reconcile

            for target in months.values():
                if target.submission is not None and target.received_any:
                    target.council_shortfall_pence = sum(s.split.get("council", 0) for s in
                                                         reconcile(store, target.month, config).schemes)
    return Overview(first, last, list(months.values()), *days, source.load_id)


def _days_to_events(source, data, library, first: Month, last: Month) -> tuple[list[int], list[int]]:
    """Days from discharge to Care Act assessment, and to CHC decision, of each discharge dated first..last
    with care in the span: from the store in SQL, or from the timelines of `data` the overview decided."""
    if data is None:
        return source.days_to_events(first.first_day, last.last_day, ("care_act_assessment", "chc_decision"))
    t = timelines(data, library.schemes)
    in_period = (t.D >= first.first_day) & (t.D <= last.last_day)
    return (t.A - t.D)[in_period & (t.A != NEVER)].tolist(), (t.C - t.D)[in_period & (t.C != NEVER)].tolist()


@dataclass(frozen=True)
class FreeCareEnding:
    """How many people the scheme pays for on `as_of` (the latest date in the data) whose scheme payment
    stops within `days` days (`hds upcoming`)."""

    as_of: int
    days: int
    people: int


def free_care_ending(source, library, days: int = 14) -> FreeCareEnding:
    from claims.upcoming import upcoming

    as_of = source.latest_day()
    return FreeCareEnding(as_of, days, len(upcoming(source, library, as_of, days).people))


def _aggregate(totals: Table, months: dict[str, MonthOverview]) -> None:
    """Days and money by month and funder, and the months' own hds money by scheme, from the
    allocation totals (``claims.figures``: a few hundred rows)."""
    days, pence, schemes, organisations = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(int)
    for month, funder, scheme, organisation, d, p in totals.rows(["month", "funder", "scheme", "organisation",
                                                                  "days", "amount_pence"]):
        days[(month, funder)] += d
        pence[(month, funder)] += p
        organisations[(month, funder, organisation)] += p
        if funder == "hds":
            schemes[(month, scheme)] += p
    for (month, funder), d in days.items():
        months[month].days_by_funder[funder] = d
        months[month].amount_by_funder[funder] = pence[(month, funder)]
    for (month, scheme), p in schemes.items():
        months[month].draft_by_scheme[scheme] = p
    for (month, funder, organisation), p in organisations.items():
        months[month].amount_by_funder_and_organisation[(funder, organisation)] = p


def _ledger(store, months: dict[str, MonthOverview]) -> None:
    from claims.ledger.read import claimed_in, months_submitted, submissions_of, sums_by_organisation, sums_by_scheme

    first_submitted = months_submitted(store)[0]
    for header in submissions_of(store, list(months)):
        target = months[header["month"]]
        target.submission = header
        target.adjustments_pence = header["adjustments_pence"]
        for scheme, current, pence in sums_by_scheme(store, header["id"]):
            (target.claimed_by_scheme if current else target.adjustments_by_scheme)[scheme] = pence
        for organisation, pence in sums_by_organisation(store, header["id"]):
            target.submitted_by_organisation[organisation] = pence
    for month, target in months.items():
        target.first_submitted = first_submitted
        if target.submission is None:
            target.carried_in = claimed_in(store, month)
