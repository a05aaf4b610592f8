"""Timelines and segments, for every discharge and episode at once.

All date arithmetic of the rules happens here, in columns, before the
engine sees anything:

- ``timelines``: per discharge, its scheme and the dates that decide it
  (D, P, A, K, C, Cchc, F, X, E) and why free care ended early, if it did;
- ``cut``: every episode cut into segments at the days on which some fact
  (``hds.facts``) can change, the facts of each segment packed into one
  integer, and neighbouring segments with equal facts merged. One rule
  decides all the days of a segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hds.contract import EVENT_KINDS
from hds.data import Data
from hds.days import NEVER, PASSED
from hds.facts import BY_ASSESSMENT, BY_CHARGE_DATE, BY_CHC, CHANGE_DATES, NOT_EARLY, pack
from hds.schemes import Scheme, locate
from hds.table import group_starts

EVENT_SYMBOL = {"care_act_assessment": "A", "chc_checklist": "K", "chc_decision": "C",
                "self_funder_charge_from": "F", "death": "X"}
assert set(EVENT_SYMBOL) == set(EVENT_KINDS)


@dataclass(frozen=True)
class Timelines:
    """One entry per discharge of a linked dataset; dates are day numbers."""

    scheme: np.ndarray  # index into the scheme list, -1 outside every scheme
    D: np.ndarray
    P: np.ndarray  # first day after the free period; PASSED outside every scheme
    A: np.ndarray  # the missing ones are NEVER
    K: np.ndarray
    C: np.ndarray
    Cchc: np.ndarray
    F: np.ndarray
    X: np.ndarray
    E: np.ndarray  # earliest of P, A, Cchc, F
    C_outcome: np.ndarray  # object: outcome of the earliest CHC decision, "" without one
    ended_by: np.ndarray  # hds.facts.NOT_EARLY / BY_ASSESSMENT / BY_CHC / BY_CHARGE_DATE
    admission_avoidance: np.ndarray

    @property
    def X_next(self) -> np.ndarray:
        return np.where(self.X == NEVER, NEVER, self.X + 1)

    @property
    def in_scheme(self) -> np.ndarray:
        return self.scheme >= 0

    @property
    def C_is_chc(self) -> np.ndarray:
        return self.C_outcome == "chc"

    @property
    def chc_pending_at_P(self) -> np.ndarray:
        return (self.K < self.P) & (self.C >= self.P)

    def date(self, name: str) -> np.ndarray:
        return getattr(self, name)


def timelines(data: Data, schemes: list[Scheme]) -> Timelines:
    """The timeline of every discharge of a linked dataset."""
    n = len(data.discharges)
    D = data.discharges["discharge_date"]
    scheme, P = locate(schemes, D)
    ev = data.events
    dates = {}
    for kind, symbol in EVENT_SYMBOL.items():
        mask = ev["event"] == kind
        if kind == "chc_checklist":
            mask &= ev["outcome"] == "positive"  # a negative checklist has no effect
        earliest = np.full(n, NEVER, dtype=np.int64)
        np.minimum.at(earliest, ev["d"][mask], ev["date"][mask])
        dates[symbol] = earliest
    C_outcome = np.full(n, "", dtype=object)
    decisions = ev.take(ev["event"] == "chc_decision")
    if len(decisions):
        # the earliest decision, and among decisions of one day the lowest event id, gives the outcome
        order = np.lexsort((decisions["event_id"], decisions["date"], decisions["d"]))
        first = order[group_starts(decisions["d"][order])]
        C_outcome[decisions["d"][first]] = decisions["outcome"][first]
    A, C, F = dates["A"], dates["C"], dates["F"]
    Cchc = np.where(C_outcome == "chc", C, NEVER)
    E = np.minimum.reduce([P, A, Cchc, F])
    early = E < P
    # when two events end free care on one day, the assessment is named first, then CHC, then the charge date
    ended_by = np.select([early & (A == E), early & (Cchc == E), early & (F == E)],
                         [BY_ASSESSMENT, BY_CHC, BY_CHARGE_DATE], NOT_EARLY).astype(np.int8)
    E = np.where(scheme >= 0, E, PASSED)
    return Timelines(scheme, D, P, A, dates["K"], C, Cchc, F, dates["X"], E, C_outcome, ended_by,
                     data.discharges["kind"] == "admission_avoidance")


@dataclass(frozen=True)
class Segments:
    """Runs of days of one episode over which every fact is constant, in episode then day order."""

    episode: np.ndarray  # position in the linked dataset's episodes
    first: np.ndarray
    last: np.ndarray
    facts: np.ndarray  # packed, one bit per fact of hds.facts.FACT_TABLE

    def __len__(self) -> int:
        return len(self.episode)

    @property
    def days(self) -> np.ndarray:
        return self.last - self.first + 1


class _Situation:
    """What the facts' definitions read: each segment seen through its timeline and episode."""

    def __init__(self, t: Timelines, data: Data, episode: np.ndarray, day: np.ndarray):
        d = data.episodes["d"][episode]
        self.day = day
        for name in ("D", "P", "A", "K", "C", "Cchc", "F", "X", "E", "ended_by", "admission_avoidance",
                     "in_scheme", "C_is_chc", "chc_pending_at_P"):
            setattr(self, name, getattr(t, name)[d])
        e = data.episodes
        self.bau_commissioned = e["bau_commissioned"][episode]
        self.restart = e["restart"][episode]
        self.isolation = e["service"][episode] == "isolation"


def cut(data: Data, t: Timelines, horizon: int) -> Segments:
    """Every episode of a linked dataset cut into segments, up to the day `horizon`
    (an episode with no end date runs to it)."""
    e = data.episodes
    start = e["start_date"]
    last = np.minimum(e["end_date"], horizon)
    live = np.flatnonzero(last >= start)
    if not len(live):
        nothing = np.zeros(0, dtype=np.int64)
        return Segments(nothing, nothing, nothing, nothing)
    start, last = start[live], last[live]
    d = e["d"][live]
    # candidate cut days: a fact may change on each of these; keep those inside (start, last]
    candidates = np.stack([t.date(name)[d] for name in CHANGE_DATES], axis=1)
    inside = (candidates > start[:, None]) & (candidates <= last[:, None])
    candidates = np.where(inside, candidates, NEVER)
    starts = np.sort(np.concatenate([start[:, None], candidates], axis=1), axis=1)
    keep = starts < NEVER
    keep[:, 1:] &= starts[:, 1:] != starts[:, :-1]
    row, column = np.nonzero(keep)
    first = starts[row, column]
    episode = live[row]
    next_same = np.zeros(len(first), dtype=bool)
    next_same[:-1] = row[1:] == row[:-1]
    seg_last = np.where(next_same, np.roll(first, -1) - 1, last[row])
    facts = pack(_Situation(t, data, episode, first))
    # neighbours with equal facts are one segment
    merged = group_starts(episode, facts)
    keep_at = np.flatnonzero(merged)
    ends = np.append(keep_at[1:] - 1, len(first) - 1)
    return Segments(episode[keep_at], first[keep_at], seg_last[ends], facts[keep_at])
