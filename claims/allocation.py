"""Decide every segment and build the allocation table of DATA.md.

One row per (episode, month, funder) with at least one day, plus one row per
(block cost, month). Money is rounded once per row, half-up to the penny.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from hds.dates import month_first_day, month_last_day, months_between
from hds.facts import FUNDERS
from hds.money import cost_of_days, divide_half_up
from hds.progress import progress
from hds.records import BlockCost, Dataset, Discharge, Episode
from hds.timeline import Segment, Timeline, build_timeline, episode_last_day, segments
from rules.engine import Engine
from rules.language import Rule
from rules.library import RuleLibrary

BLOCK_RULE = "block-cost"  # block costs are hds by 2.1, 4.12 and 5.5.2, not by a rulebook rule
FUNDER_ORDER = {name: i for i, name in enumerate(FUNDERS)}


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

    def __init__(self, dataset: Dataset, library: RuleLibrary, engine: Engine | None = None):
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
        with progress(discharge_ids, "Deciding discharges") as ids:
            for discharge_id in ids:
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
