"""The scalar, one-record-at-a-time engine that hds used before its columnar core.

Kept only as a test reference: it builds one timeline per discharge, cuts
each episode into segments with per-day fact dictionaries and asks the same
rulebooks for a rule per segment. The columnar core must agree with it to
the segment and the rule id (tests/test_columnar.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import pendulum

from hds.contract import BlockCost, Discharge, Episode, Event
from hds.dates import month_of
from hds.facts import FUNDERS
from hds.schemes import Scheme
from hds.money import cost_of_days, divide_half_up
from rules.engine import Engine
from rules.language import Rule

BLOCK_RULE = "block-cost"


@dataclass(frozen=True)
class Dataset:
    """Rows of each table, as records."""

    discharges: tuple = ()
    episodes: tuple = ()
    events: tuple = ()
    block_costs: tuple = ()

ONE_DAY = dt.timedelta(days=1)
FUNDER_ORDER = {name: i for i, name in enumerate(FUNDERS)}
@dataclass(frozen=True)
class Timeline:
    """The dates that decide a discharge, named as in RULES.md."""

    discharge: Discharge
    scheme: Scheme | None
    P: dt.date | None  # first day after the free period
    A: dt.date | None  # Care Act assessment
    K: dt.date | None  # positive CHC checklist
    C: dt.date | None  # CHC/FNC decision
    C_outcome: str
    F: dt.date | None  # self-funder charge date
    X: dt.date | None  # death
    E: dt.date | None  # earliest of P, A, Cchc, F: the end of free care
    ended_early_by: str | None  # "assessment", "chc" or "charge_date" when E < P

    @property
    def D(self) -> dt.date:
        return self.discharge.discharge_date

    @property
    def Cchc(self) -> dt.date | None:
        return self.C if self.C_outcome == "chc" else None

    @property
    def chc_pending_at_free_period_end(self) -> bool:
        return bool(self.K and self.P and self.K < self.P and (self.C is None or self.C >= self.P))


@dataclass(frozen=True)
class Segment:
    episode: Episode
    first: dt.date
    last: dt.date
    facts: tuple[tuple[str, bool], ...]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def fact_dict(self) -> dict[str, bool]:
        return dict(self.facts)


def earliest_events(events: list[Event]) -> dict[str, Event]:
    """The earliest event of each kind; only positive checklists count."""
    earliest: dict[str, Event] = {}
    for event in sorted(events, key=lambda e: (e.date, e.event_id)):
        if event.event == "chc_checklist" and event.outcome != "positive":
            continue
        earliest.setdefault(event.event, event)
    return earliest


def build_timeline(discharge: Discharge, events: list[Event], scheme: Scheme | None) -> Timeline:
    first = earliest_events(events)

    def date_of(kind):
        return first[kind].date if kind in first else None

    A, K, C, F, X = (date_of(k) for k in
                     ("care_act_assessment", "chc_checklist", "chc_decision", "self_funder_charge_from", "death"))
    C_outcome = first["chc_decision"].outcome if C else ""
    P = scheme.first_day_after_free_period(discharge.discharge_date) if scheme else None
    E, ended_early_by = None, None
    if P:
        # ties go to the first listed: an assessment, then CHC, then a charge date
        enders = [(d, why) for d, why in ((A, "assessment"), (C if C_outcome == "chc" else None, "chc"),
                                          (F, "charge_date")) if d]
        E = min([P] + [d for d, _ in enders])
        if E < P:
            ended_early_by = next(why for d, why in enders if d == E)
    return Timeline(discharge, scheme, P, A, K, C, C_outcome, F, X, E, ended_early_by)


def facts_on(timeline: Timeline, episode: Episode, day: dt.date) -> dict[str, bool]:
    t = timeline
    facts = {
        "before_discharge": day < t.D,
        "after_death": bool(t.X and day > t.X),
        "outside_schemes": t.scheme is None,
        "bau_commissioned": episode.bau_commissioned,
        "isolation_service": episode.service == "isolation",
        "restart": episode.restart,
        "admission_avoidance": t.discharge.kind == "admission_avoidance",
        "within_free_period": bool(t.P and day < t.P),
        "free_care_continues": bool(t.E and day < t.E),
        "ended_early_by_assessment": t.ended_early_by == "assessment",
        "ended_early_by_chc": t.ended_early_by == "chc",
        "ended_early_by_charge_date": t.ended_early_by == "charge_date",
        "chc_pending_at_free_period_end": t.chc_pending_at_free_period_end,
        "self_funder_charging": bool(t.F and day >= t.F),
        "chc_decision_pending": t.C is None or day < t.C,
        "chc_eligible": t.C_outcome == "chc",
        "care_act_assessment_pending": t.A is None or day < t.A,
        "chc_funding_started": bool(t.Cchc and day >= t.Cchc),
    }
    return facts


def change_days(timeline: Timeline) -> set[dt.date]:
    """Days on which some fact may change value."""
    t = timeline
    days = {t.D, t.P, t.E, t.A, t.C, t.Cchc, t.F, t.X + ONE_DAY if t.X else None}
    return {d for d in days if d}


def episode_last_day(episode: Episode, horizon: dt.date) -> dt.date:
    """An open-ended episode runs to the horizon (the last day being computed)."""
    return min(episode.end_date, horizon) if episode.end_date else horizon


def segments(timeline: Timeline, episode: Episode, horizon: dt.date) -> list[Segment]:
    first, last = episode.start_date, episode_last_day(episode, horizon)
    if last < first:
        return []
    cuts = sorted(d for d in change_days(timeline) if first < d <= last)
    starts = [first] + cuts
    ends = [c - ONE_DAY for c in cuts] + [last]
    result: list[Segment] = []
    for start, end in zip(starts, ends):
        facts = tuple(facts_on(timeline, episode, start).items())
        if result and result[-1].facts == facts:
            result[-1] = Segment(episode, result[-1].first, end, facts)
        else:
            result.append(Segment(episode, start, end, facts))
    return result
@dataclass(frozen=True)
class Decided:
    segment: Segment
    rule: Rule

    @property
    def funder(self) -> str:
        return self.rule.funder


@dataclass
class DischargeDecision:
    timeline: Timeline
    episodes: list[tuple[Episode, list[Decided]]] = field(default_factory=list)


@dataclass(frozen=True)
class Allocation:
    """A row of the allocation table."""

    patient_id: str
    discharge_id: str
    episode_id: str
    block_id: str
    scheme: str
    month: str
    funder: str
    days: int
    amount_pence: int
    rule: str
    service: str
    organisation: str


class Allocator:
    """Holds one engine for a run, so each distinct set of facts is decided once."""

    def __init__(self, dataset: Dataset, library, engine: Engine | None = None):
        self.dataset, self.library = dataset, library
        self.engine = engine or Engine(library.books)
        self.discharges = {d.discharge_id: d for d in dataset.discharges}
        self.episodes_of: dict[str, list[Episode]] = defaultdict(list)
        for episode in dataset.episodes:
            self.episodes_of[episode.discharge_id].append(episode)
        self.events_of = defaultdict(list)
        for event in dataset.events:
            self.events_of[event.discharge_id].append(event)

    def timeline(self, discharge: Discharge) -> Timeline:
        scheme = self.library.scheme_for(discharge.discharge_date)
        return build_timeline(discharge, self.events_of[discharge.discharge_id], scheme)

    def decide(self, discharge_ids, horizon: dt.date) -> list[DischargeDecision]:
        """Segments of every episode of these discharges up to `horizon`, each with its rule."""
        decisions, pending = [], []
        for discharge_id in discharge_ids:
            decisions.append(self._cut(discharge_id, horizon, pending))
        by_book = defaultdict(list)
        for timeline, segment in pending:
            by_book[self.library.rulebook_for(timeline.scheme).name].append(segment)
        rules = {}
        for book, cut in by_book.items():
            for segment, rule in zip(cut, self.engine.decide(book, [s.fact_dict() for s in cut])):
                rules[id(segment)] = rule
        for decision in decisions:
            decision.episodes = [(e, [Decided(s, rules[id(s)]) for s in cut]) for e, cut in decision.episodes]
        return decisions

    def _cut(self, discharge_id: str, horizon: dt.date, pending: list) -> DischargeDecision:
        """The timeline of one discharge and its episodes' segments, queued in `pending` for the engine."""
        timeline = self.timeline(self.discharges[discharge_id])
        decision = DischargeDecision(timeline)
        for episode in sorted(self.episodes_of[discharge_id], key=lambda e: (e.start_date, e.episode_id)):
            cut = segments(timeline, episode, horizon)
            decision.episodes.append((episode, cut))
            pending.extend((timeline, s) for s in cut)
        return decision

    def discharges_active_in(self, month: str) -> list[str]:
        first, last = month_first_day(month), month_last_day(month)
        active = {
            e.discharge_id for e in self.dataset.episodes
            if e.start_date <= last and episode_last_day(e, last) >= first
        }
        return sorted(active)

    def allocations_through(self, month: str) -> list[Allocation]:
        """Every allocation row of every month up to and including `month`."""
        horizon = month_last_day(month)
        decisions = self.decide(sorted(self.discharges), horizon)
        rows = [r for r in episode_allocations(decisions) if r.month <= month]
        return rows + [r for r in block_allocations(self.dataset.block_costs) if r.month <= month]

    def month_allocations(self, month: str) -> list[Allocation]:
        """The allocation table of one month: episodes then block costs."""
        decisions = self.decide(self.discharges_active_in(month), month_last_day(month))
        rows = [r for r in episode_allocations(decisions) if r.month == month]
        rows += [r for r in block_allocations(self.dataset.block_costs) if r.month == month]
        return rows


def episode_allocations(decisions: list[DischargeDecision]) -> list[Allocation]:
    rows = []
    for decision in decisions:
        t = decision.timeline
        scheme = t.scheme.name if t.scheme else ""
        for episode, decided in decision.episodes:
            days: dict[tuple[str, str], int] = defaultdict(int)
            rules: dict[tuple[str, str], list[str]] = defaultdict(list)
            for d in decided:
                for month, first, last in months_between(d.segment.first, d.segment.last):
                    key = (month, d.funder)
                    days[key] += (last - first).days + 1
                    if d.rule.id not in rules[key]:
                        rules[key].append(d.rule.id)
            for (month, funder), n in sorted(days.items(), key=lambda kv: (kv[0][0], FUNDER_ORDER[kv[0][1]])):
                rows.append(Allocation(
                    t.discharge.patient_id, t.discharge.discharge_id, episode.episode_id, "", scheme, month,
                    funder, n, cost_of_days(episode.weekly_pence, n), "+".join(rules[(month, funder)]),
                    episode.service, episode.organisation,
                ))
    return rows


def block_allocations(blocks) -> list[Allocation]:
    rows = []
    for block in blocks:
        for month, days, pence in spread_block(block):
            rows.append(Allocation("", "", "", block.block_id, block.scheme, month, "hds", days, pence,
                                   BLOCK_RULE, "block", block.organisation))
    return rows


def spread_block(block: BlockCost) -> list[tuple[str, int, int]]:
    """(month, days, pence): in proportion to days, half-up, the last month takes the rest."""
    total_days = (block.end_date - block.start_date).days + 1
    months = [(m, (last - first).days + 1) for m, first, last in months_between(block.start_date, block.end_date)]
    result, spent = [], 0
    for i, (month, days) in enumerate(months):
        if i == len(months) - 1:
            pence = block.amount_pence - spent
        else:
            pence = divide_half_up(block.amount_pence * days, total_days)
        spent += pence
        result.append((month, days, pence))
    return result


# --- the month arithmetic the scalar engine used --------------------------------------

def month_first_day(month: str) -> dt.date:
    year, mon = (int(p) for p in month.split("-"))
    return dt.date(year, mon, 1)


def month_last_day(month: str) -> dt.date:
    first = pendulum.Date(*(int(p) for p in month.split("-")), 1)
    return first.end_of("month")


def months_between(first: dt.date, last: dt.date):
    """(month, first day, last day) of each calendar month touching first..last."""
    day = dt.date(first.year, first.month, 1)
    while day <= last:
        month = month_of(day)
        end = month_last_day(month)
        yield month, max(day, first), min(end, last)
        day = end + dt.timedelta(days=1)


def plus_days(day: dt.date, days: int) -> dt.date:
    return pendulum.Date(day.year, day.month, day.day).add(days=days)
