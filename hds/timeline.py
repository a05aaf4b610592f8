"""Timelines: the dates of a discharge, and episodes cut into segments.

All date arithmetic of the rules happens here, before the engine. A segment
is a run of days of one episode over which every fact of ``hds.facts`` is
constant, so one rule decides all its days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hds.dates import plus_days
from hds.records import Discharge, Episode, Event
from hds.schemes import Scheme

ONE_DAY = dt.timedelta(days=1)


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
    days = {t.D, t.P, t.E, t.A, t.C, t.Cchc, t.F, plus_days(t.X, 1) if t.X else None}
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
