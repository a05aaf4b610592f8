"""Pre-submit checks: coded findings to resolve or acknowledge before a month is claimed.

Each check is one small unit in ``CHECKS``: a stable code (``HDS-...``), a
severity (``error`` stops a submission until it is resolved or accepted,
``warning`` asks for a look), the paragraph of the agreement it protects and a
``run(context)`` that returns its findings. ``run_checks`` builds the shared
``Context`` once and runs them all.

The context works in columns. Of the whole dataset it keeps the discharges that
link people, those whose NHS number two or more patient ids carry (the
``Register``), to know each one's person (a person being a patient id, joined
to every other patient id that shares an NHS number with it, through any
chain) and the NHS numbers shared; and, whole, only
the discharges with care in the claim month, linked with all their episodes and
events, whose segments it decides up to the end of the month with the shipped
rules (``claims.allocate.decide``). No other discharge can take part in a
finding about the month's days or money, and each discharge is decided by its
own facts alone. Every check then reads the same segments, timelines and
per-episode day counts, so what a finding says always agrees with the allocation
table and the claim. Python loops run over findings and over the few candidates
a group-by has flagged, never over every row.

A finding belongs to the month when the records it names have days or money in
it; for a finding about the data alone (a shared NHS number), when one of the
discharges involved has care in the month. ``docs/checks.md`` explains every
code for a finance officer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Callable, Iterable, NamedTuple

import numpy as np

from claims.allocate import FUNDER_CODE, _distinct, allocate, block_allocation, decide
from hds.contract import SERVICES
from hds.data import Data
from hds.days import NEVER, PASSED, day_number, iso
from hds.errors import HdsError
from hds.money import cost_of_days, format_pounds
from hds.month import Month
from hds.table import Table, group_starts

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)
ID_KINDS = ("patient", "discharge", "episode", "block", "event")
_ID_KINDS = frozenset(ID_KINDS)

HDS, CCG, COUNCIL, EXCLUDED = (FUNDER_CODE[f] for f in ("hds", "ccg", "council", "excluded"))


# --- what a check reports ---------------------------------------------------------------------

class Finding(NamedTuple):
    """One finding (immutable). A named tuple, not a dataclass: a month can hold tens of thousands,
    made by the checks or read back whole (``claims.checked``), and a tuple is made several times
    faster."""

    code: str  # stable, e.g. "HDS-DUP-NHS"
    severity: str  # "error" or "warning"
    paragraph: str  # the agreement paragraph the check protects
    subject: str  # what a finance officer accepts it by: CODE:SUBJECT
    ids: dict[str, list[str]]  # the records involved, by kind (ID_KINDS)
    amount_pence: int  # the scheme money of the month in doubt (0 if none)
    message: str  # one plain sentence; never an NHS number
    acknowledged: str = ""  # stored with a submission: who accepted it and why ("" when nobody did)

    @property
    def key(self) -> str:
        """CODE:SUBJECT, the token `hds submit --accept` takes."""
        return f"{self.code}:{self.subject}"

    def as_dict(self) -> dict:
        """Plain values, for JSON or a table row."""
        return {"code": self.code, "severity": self.severity, "paragraph": self.paragraph,
                "subject": self.subject, "ids": {k: list(v) for k, v in self.ids.items()},
                "amount_pence": self.amount_pence, "message": self.message}


# --- thresholds ------------------------------------------------------------------------------------

_KINDS = {  # kind -> what is accepted, as the error message says it
    "days": "a whole number of days, 0 or more",
    "count": "a whole number, 2 or more",
    "factor": "a number greater than 0",
    "fraction": "a number from 0 up to (not including) 1",
    "services": f"a list of services, each one of {', '.join(SERVICES)}",
}


@dataclass(frozen=True)
class Thresholds:
    """Every threshold of the checks, with its default. In ``hds.toml``:

        [checks]
        outlier_k = 3.5
        late_start_days = 28
    """

    outlier_k: float = field(default=3.5, metadata={"kind": "factor"})
    outlier_min_group: int = field(default=20, metadata={"kind": "count"})
    outlier_spread_floor: float = field(default=0.05, metadata={"kind": "fraction"})
    late_start_days: int = field(default=28, metadata={"kind": "days"})
    cutoff_grace_days: int = field(default=7, metadata={"kind": "days"})
    outstanding_days: int = field(default=28, metadata={"kind": "days"})
    bed_services: tuple[str, ...] = field(default=("interim_bed", "residential", "nursing"),
                                          metadata={"kind": "services"})

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _threshold(f.name, getattr(self, f.name), "Thresholds"))

    @classmethod
    def from_mapping(cls, values: dict, where: str = "hds.toml [checks]") -> "Thresholds":
        """Thresholds from a mapping (a TOML table): unknown keys and bad values are refused by name."""
        if not isinstance(values, dict):
            raise HdsError(f"{where}: expected a table of thresholds, not {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        for key in values:
            if key not in known:
                raise HdsError(f"{where}: unknown threshold '{key}'; the thresholds are {', '.join(sorted(known))}")
        return cls(**{key: _threshold(key, value, where) for key, value in values.items()})

    @staticmethod
    def describe() -> list[tuple[str, object, str]]:
        """(name, default, what is accepted) of every threshold."""
        return [(f.name, f.default, _KINDS[f.metadata["kind"]]) for f in fields(Thresholds)]


def _threshold(name: str, value, where: str):
    kind = next(f.metadata["kind"] for f in fields(Thresholds) if f.name == name)
    bad = HdsError(f"{where}: {name} = {value!r} is not accepted; expected {_KINDS[kind]}")
    if kind == "services":
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise bad
        if not value or any(not isinstance(s, str) or s not in SERVICES for s in value):
            raise bad
        return tuple(dict.fromkeys(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if kind in ("days", "count"):
        if isinstance(value, float) and not value.is_integer():
            raise bad
        value = int(value)
        if value < (0 if kind == "days" else 2):
            raise bad
        return value
    value = float(value)
    if not math.isfinite(value) or value < 0 or (kind == "factor" and value == 0) or (kind == "fraction"
                                                                                      and value >= 1):
        raise bad
    return value


# --- the registry ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    paragraph: str
    title: str
    run: Callable[["Context"], list[Finding]]


_REGISTRY: list[Check] = []


def _check(code: str, severity: str, paragraph: str, title: str):
    """Register a check whose function yields (subject, ids, amount_pence, message) for each finding."""
    assert severity in SEVERITIES and code.startswith("HDS-") and code == code.upper()

    def register(raw: Callable[["Context"], Iterable[tuple]]):
        def run(ctx: "Context") -> list[Finding]:
            found = []
            for subject, ids, amount, message in raw(ctx):
                clean = {k: (v if len(v) == 1 else sorted(set(v))) for k, v in ids.items() if v}
                assert clean.keys() <= _ID_KINDS, clean
                found.append(Finding(code, severity, paragraph, subject, clean, int(amount), message))
            return found

        run.__name__ = raw.__name__
        run.__doc__ = raw.__doc__
        _REGISTRY.append(Check(code, severity, paragraph, title, run))
        return raw

    return register


# --- the shared context ---------------------------------------------------------------------------

class Context:
    """What the checks share for one claim month, each part computed on first use.

    `data` is the whole dataset (current rows, not linked), or what the checks read of a store
    (``Stored``). `sub` is the linked dataset of the discharges with care in the month, with all
    their episodes and events, decided up to the end of the month."""

    def __init__(self, month: str, data: "Data | Stored", library, thresholds: Thresholds = Thresholds()):
        self.month = Month(month)
        self.month_no = self.month.number
        self.first, self.last = self.month.days
        self.data = data
        self.library = library
        self.thresholds = thresholds

    # --- the whole dataset -----------------------------------------------------------------------

    @cached_property
    def register(self) -> "Register":
        """Every discharge of the whole dataset, coded for linking people and finding shared NHS numbers."""
        d = self.data
        return d.register() if isinstance(d, Stored) else Register.of(*(d.discharges[name] for name in REGISTERED))

    @cached_property
    def person(self) -> np.ndarray:
        """Per patient id of the register (by its rank): a number for the person, the same for every
        patient id linked to another through a shared NHS number (directly or through a chain); below
        the number of patient ids in the register."""
        r = self.register
        person = np.zeros(len(r.patients), dtype=np.int64)
        person[r.patient] = _person_labels(r.patient, r.number)
        return person

    @cached_property
    def weekly_costs(self) -> dict[str, np.ndarray]:
        """Service -> the weekly cost in pence of each of its episodes in the whole dataset."""
        d = self.data
        return d.weekly_costs() if isinstance(d, Stored) else _weekly_costs(d.episodes)

    # --- the discharges with care in the month ----------------------------------------------------

    @cached_property
    def _with_care(self) -> Data:
        """The discharges with an episode that has a day in the month, with all their episodes and events:
        linked, in discharge id order."""
        d = self.data
        if isinstance(d, Stored):
            return d.with_care(self.first, self.last)
        e = d.episodes
        touching = (e["start_date"] <= self.last) & (e["end_date"] >= self.first)
        chosen = np.zeros(len(d.discharges), dtype=bool)
        at = self._discharge_positions(e["discharge_id"])
        chosen[at[touching]] = True
        ep, ev = chosen[at], chosen[self._discharge_positions(d.events["discharge_id"])]
        return d.replace(discharges=d.discharges.take(chosen), episodes=e.take(ep), events=d.events.take(ev)).linked()

    @cached_property
    def _discharge_index(self) -> dict[str, int]:
        ids = self.data.discharges["discharge_id"].tolist()
        return dict(zip(ids, range(len(ids))))

    def _discharge_positions(self, discharge_ids: np.ndarray) -> np.ndarray:
        """Positions in data.discharges (the whole dataset's) of some discharge ids (every one must exist)."""
        try:
            return np.fromiter(map(self._discharge_index.__getitem__, discharge_ids.tolist()), dtype=np.int64,
                               count=len(discharge_ids))
        except KeyError:
            raise HdsError("some episodes or events follow a discharge that is not in the data; load the data "
                           "again") from None

    @cached_property
    def sub(self) -> Data:
        """The discharges with care in the month, whole, each with its person (``_person``)."""
        month = self._with_care
        patient_ids = _text(month.discharges["patient_id"])
        linked = self.register.patient_ranks(patient_ids)  # -1: a patient id linked to no other
        alone = len(self.register.patients) + _codes(patient_ids)
        person = np.where(linked >= 0, self.person[np.maximum(linked, 0)] if len(self.person) else alone, alone)
        return month.replace(discharges=month.discharges.with_columns(_person=person))

    @cached_property
    def month_numbers(self) -> np.ndarray:
        """Per NHS number of the register: one of the discharges with care in the month has it."""
        numbers = self.sub.discharges["nhs_number"]
        ranks = self.register.ranks(numbers[numbers != ""])
        flag = np.zeros(len(self.register.numbers), dtype=bool)
        flag[ranks[ranks >= 0]] = True
        return flag

    @cached_property
    def decided(self):
        """`sub`'s segments, decided up to the end of the month (from the discharges before their
        persons are known: deciding needs none, and a store's register is read meanwhile)."""
        d = self.data
        kept = d.decided_to(self.last) if isinstance(d, Stored) else None
        if kept is not None and kept.data.episodes is self._with_care.episodes:
            return kept
        return decide(self._with_care, self.library, self.last)

    @property
    def timelines(self):
        return self.decided.timelines

    @property
    def segments(self):
        return self.decided.segments

    @cached_property
    def services(self) -> np.ndarray:
        """Per episode of `sub`: its service, as numpy text."""
        return _text(self.sub.episodes["service"])

    @cached_property
    def service_codes(self) -> np.ndarray:
        """Per episode of `sub`: its service's rank among the services of `sub`."""
        return _codes(self.services)

    @cached_property
    def _segment_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per episode of `sub`: the slice of its segments (segments are in episode order)."""
        n = len(self.sub.episodes)
        episode = self.segments.episode
        return np.searchsorted(episode, np.arange(n)), np.searchsorted(episode, np.arange(n), side="right")

    @cached_property
    def _episode_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per discharge of `sub`: the slice of its episodes (episodes are in discharge order)."""
        n = len(self.sub.discharges)
        d = self.sub.episodes["d"]
        return np.searchsorted(d, np.arange(n)), np.searchsorted(d, np.arange(n), side="right")

    def episodes_of(self, discharge: int) -> range:
        lo, hi = self._episode_range
        return range(int(lo[discharge]), int(hi[discharge]))

    @cached_property
    def month_days(self) -> np.ndarray:
        """Days in the month per (funder, episode of `sub`): exactly the allocation's days."""
        s = self.segments
        days = np.clip(np.minimum(s.last, self.last) - np.maximum(s.first, self.first) + 1, 0, None)
        out = np.zeros((len(FUNDER_CODE), len(self.sub.episodes)), dtype=np.int64)
        np.add.at(out, (self.decided.funder.astype(np.int64), s.episode), days)
        return out

    def month_pence(self, funder: int = HDS) -> np.ndarray:
        """Money in the month per episode of `sub` for one funder: the allocation's amounts."""
        return _pence(self.sub.episodes["weekly_pence"], self.month_days[funder])

    @cached_property
    def hds_days_to_date(self) -> np.ndarray:
        """Scheme-funded days per episode of `sub`, from its start to the end of the month."""
        s = self.segments
        out = np.zeros(len(self.sub.episodes), dtype=np.int64)
        hds = self.decided.funder == HDS
        np.add.at(out, s.episode[hds], s.days[hds])
        return out

    @cached_property
    def by_discharge(self) -> dict[str, np.ndarray]:
        """Per discharge of `sub`: days and money in the month by funder, summed over its episodes."""
        d = self.sub.episodes["d"]
        n = len(self.sub.discharges)
        out = {}
        for name, code in (("hds", HDS), ("ccg", CCG), ("council", COUNCIL)):
            days = np.zeros(n, dtype=np.int64)
            pence = np.zeros(n, dtype=np.int64)
            np.add.at(days, d, self.month_days[code])
            np.add.at(pence, d, self.month_pence(code))
            out[f"{name}_days"], out[f"{name}_pence"] = days, pence
        return out

    @cached_property
    def package_start(self) -> np.ndarray:
        """Per episode of `sub`: the first day of the run of care it belongs to, a run being the
        discharge's episodes that overlap or follow one another without a day's gap."""
        e = self.sub.episodes
        n = len(e)
        if not n:
            return np.zeros(0, dtype=np.int64)
        d, start = e["d"], e["start_date"]
        end = np.minimum(e["end_date"], 1 << 30)
        reach = np.maximum.accumulate((d << 31) + end) - (d << 31)  # furthest end so far, per discharge
        new = np.ones(n, dtype=bool)
        new[1:] = (d[1:] != d[:-1]) | (start[1:] > reach[:-1] + 1)
        return start[new][np.cumsum(new) - 1]

    @cached_property
    def allocation(self) -> Table:
        """The month's allocation table (episodes of `sub`, then block costs)."""
        return Table.concat([allocate(self.decided, self.month_no, self.month_no),
                             block_allocation(self.data.block_costs, self.month_no, self.month_no)])

    def nhs_numbers_in(self, messages: list[str]) -> set[str]:
        """The NHS numbers of the whole dataset that some messages hold (``numbers_in``)."""
        d = self.data
        if isinstance(d, Stored):
            return d.nhs_numbers_in(messages)
        return numbers_in(messages, set(d.discharges["nhs_number"].tolist()).intersection)

    # --- per-finding helpers ------------------------------------------------------------------------

    def hds_intervals(self, episode: int, lo: int = -NEVER, hi: int = NEVER) -> list[tuple[int, int]]:
        """The episode's scheme-funded days within lo..hi, as (first, last) runs."""
        a, b = (int(x[episode]) for x in self._segment_range)
        s = self.segments
        runs = []
        for first, last, funder in zip(s.first[a:b].tolist(), s.last[a:b].tolist(),
                                       self.decided.funder[a:b].tolist()):
            first, last = max(first, lo), min(last, hi)
            if funder == HDS and first <= last:
                if runs and runs[-1][1] + 1 == first:
                    runs[-1] = (runs[-1][0], last)
                else:
                    runs.append((first, last))
        return runs

    def hds_days(self, episode: int, lo: int, hi: int) -> int:
        return sum(last - first + 1 for first, last in self.hds_intervals(episode, lo, hi))

    def episode_pence(self, episode: int, days: int) -> int:
        return int(_pence(self.sub.episodes["weekly_pence"][episode], days))

    def patient_ids(self, discharges) -> list[str]:
        patient_ids = self.sub.discharges["patient_id"]
        return [patient_ids[d] for d in discharges]

    def ids_of(self, discharge: int, episodes) -> dict[str, list[str]]:
        """The ids a finding about one discharge names: its patient, the discharge, and some of its
        episodes (positions in sub.episodes)."""
        episode_ids = self.sub.episodes["episode_id"]
        return {"patient": [self.sub.discharges["patient_id"][discharge]],
                "discharge": [self.sub.discharges["discharge_id"][discharge]],
                "episode": [episode_ids[e] for e in episodes]}

    @cached_property
    def _event_order(self) -> tuple[np.ndarray, np.ndarray]:
        d = self.sub.events["d"]
        order = np.argsort(d, kind="stable")
        return order, d[order]

    def event_ids(self, discharge: int, kinds: tuple[str, ...], outcome: str | None = None) -> list[str]:
        """Ids of a discharge's events of some kinds (and one outcome)."""
        order, d = self._event_order
        v = self.sub.events
        mine = order[np.searchsorted(d, discharge):np.searchsorted(d, discharge, side="right")]
        return [i for i, kind, out in zip(v["event_id"][mine].tolist(), v["event"][mine].tolist(),
                                          v["outcome"][mine].tolist())
                if kind in kinds and (outcome is None or out == outcome)]


# --- the checks -----------------------------------------------------------------------------------------

@_check("HDS-DOUBLE-FREE", ERROR, "4.4", "Two free periods of one person running at once, both claimed")
def double_free_periods(ctx: Context):
    """Two discharges of one person whose free periods (D .. P-1) overlap, both funded by the scheme
    at the same time: from the later discharge to the earlier one's last scheme-funded day. A later
    discharge whose care starts after the earlier one's funded care stopped (a readmission) is not
    double funding, however long the earlier free period could have run; a month is touched only
    when the doubly funded days fall in it."""
    t, dis = ctx.timelines, ctx.sub.discharges
    # a discharge can only take part through its scheme-funded days, all of them before P: each one's
    # span runs from D to the earlier of P-1 and its last scheme-funded day
    last_hds = np.full(len(dis), PASSED, dtype=np.int64)
    funded = ctx.decided.funder == HDS
    np.maximum.at(last_hds, ctx.sub.episodes["d"][ctx.segments.episode[funded]], ctx.segments.last[funded])
    span_end = np.minimum(t.P - 1, last_hds)
    inside = np.flatnonzero(t.in_scheme & (span_end >= t.D))
    if len(inside) < 2:
        return
    person, D, P, end = dis["_person"][inside], t.D[inside], t.P[inside], span_end[inside]
    order = np.lexsort((_text(dis["discharge_id"][inside]), D, person))
    person, D, P, end, at = person[order], D[order], P[order], end[order], inside[order]
    reach = np.maximum.accumulate((person << 32) + end) - (person << 32)  # latest span end so far, per person
    flagged = np.flatnonzero((person[1:] == person[:-1]) & (D[1:] <= reach[:-1])) + 1
    for k in flagged.tolist():
        j = k - 1  # walk back only while an earlier span can still reach D[k]
        while j >= 0 and person[j] == person[k] and reach[j] >= D[k]:
            if end[j] >= D[k]:
                yield from _double_free(ctx, int(at[j]), int(at[k]), int(D[k]), int(min(end[j], P[k] - 1)))
            j -= 1


def _double_free(ctx: Context, earlier: int, later: int, lo: int, hi: int):
    def days(discharge: int, a: int, b: int) -> int:
        return sum(ctx.hds_days(e, a, b) for e in ctx.episodes_of(discharge))

    if not days(earlier, lo, hi) or not days(later, lo, hi):
        return
    m_lo, m_hi = max(lo, ctx.first), min(hi, ctx.last)
    if m_lo > m_hi or not (days(earlier, m_lo, m_hi) and days(later, m_lo, m_hi)):
        return
    amount = sum(ctx.episode_pence(e, ctx.hds_days(e, m_lo, m_hi)) for e in ctx.episodes_of(later))
    dis = ctx.sub.discharges
    first_id, second_id = dis["discharge_id"][earlier], dis["discharge_id"][later]
    patients = sorted(set(ctx.patient_ids([earlier, later])))
    who = ("the same patient" if len(patients) == 1
           else f"patients {' and '.join(patients)}, linked by NHS number")
    episodes = list(ctx.episodes_of(earlier)) + list(ctx.episodes_of(later))
    yield ("+".join(sorted([first_id, second_id])),
           {"patient": patients, "discharge": [first_id, second_id],
            "episode": ctx.sub.episodes["episode_id"][episodes].tolist()},
           amount,
           f"Discharges {first_id} ({iso(dis['discharge_date'][earlier])}) and {second_id} "
           f"({iso(dis['discharge_date'][later])}) of {who} have free periods that overlap, and both are "
           f"claimed as scheme-funded from {iso(lo)} to {iso(hi)}: the scheme would pay twice for those days, so "
           f"end the earlier package where the later one starts, or withdraw one claim.")


@_check("HDS-EPISODE-OVERLAP", ERROR, "6.5", "Overlapping episodes of one service, both claimed")
def overlapping_episodes(ctx: Context):
    """Two episodes of the same service after one discharge that run on the same days, both
    scheme-funded on some of them: the same care claimed twice."""
    e = ctx.sub.episodes
    if len(e) < 2:
        return
    d, service, start = e["d"], ctx.service_codes, e["start_date"]
    end = np.minimum(e["end_date"], ctx.last)
    order = np.lexsort((_text(e["episode_id"]), start, service, d))
    group = np.cumsum(group_starts(d[order], service[order]))
    reach = np.maximum.accumulate((group << 31) + np.minimum(end[order], 1 << 30)) - (group << 31)
    flagged = np.flatnonzero((group[1:] == group[:-1]) & (start[order][1:] <= reach[:-1])) + 1
    for k in flagged.tolist():
        j = k - 1
        while j >= 0 and group[j] == group[k] and reach[j] >= start[order[k]]:
            a, b = int(order[j]), int(order[k])
            if end[a] >= start[b]:
                yield from _overlap(ctx, a, b, int(start[b]), int(min(end[a], end[b])))
            j -= 1


def _overlap(ctx: Context, a: int, b: int, lo: int, hi: int):
    both = _intersect(ctx.hds_intervals(a, lo, hi), ctx.hds_intervals(b, lo, hi))
    in_month = [(max(f, ctx.first), min(l, ctx.last)) for f, l in both if f <= ctx.last and l >= ctx.first]
    days = sum(l - f + 1 for f, l in in_month)
    if not days:
        return
    e = ctx.sub.episodes
    first_id, second_id = e["episode_id"][a], e["episode_id"][b]
    discharge = int(e["d"][a])
    yield ("+".join(sorted([first_id, second_id])),
           ctx.ids_of(discharge, [a, b]),
           ctx.episode_pence(b, days),
           f"Episodes {first_id} and {second_id} are both {e['service'][a]} for discharge "
           f"{ctx.sub.discharges['discharge_id'][discharge]} and both claim the same {days} day(s) of "
           f"{ctx.month} ({_runs_text(in_month)}): the same care would be paid twice, so end one where the other "
           f"starts or remove the duplicate.")


@_check("HDS-BEFORE-DISCHARGE", WARNING, "1.5", "Care dated before its discharge")
def care_before_discharge(ctx: Context):
    """Days of an episode in the month that fall before its discharge: the allocation excludes
    them (nobody pays), and the dates are probably wrong."""
    yield from _excluded(ctx, before=True)


@_check("HDS-AFTER-DEATH", WARNING, "4.5", "Care dated after the person's death")
def care_after_death(ctx: Context):
    """Days of an episode in the month after the person's recorded death: excluded from every
    funder; the end date or the death date needs correcting."""
    yield from _excluded(ctx, before=False)


def _excluded(ctx: Context, before: bool):
    s, t, e = ctx.segments, ctx.timelines, ctx.sub.episodes
    d = e["d"][s.episode]
    kind = s.last < t.D[d] if before else s.first > t.X[d]
    mask = (ctx.decided.funder == EXCLUDED) & kind
    days = np.clip(np.minimum(s.last, ctx.last) - np.maximum(s.first, ctx.first) + 1, 0, None) * mask
    per_episode = np.zeros(len(e), dtype=np.int64)
    np.add.at(per_episode, s.episode, days)
    for episode in np.flatnonzero(per_episode).tolist():
        discharge = int(e["d"][episode])
        count = int(per_episode[episode])
        value = format_pounds(ctx.episode_pence(episode, count))
        episode_id, discharge_id = e["episode_id"][episode], ctx.sub.discharges["discharge_id"][discharge]
        ids = ctx.ids_of(discharge, [episode])
        if before:
            message = (f"Episode {episode_id} has {count} day(s) in {ctx.month} before its discharge {discharge_id} "
                       f"on {iso(t.D[discharge])}; nobody is charged for them ({value} of care), so correct the "
                       f"episode's start date or the discharge it belongs to.")
        else:
            ids["event"] = ctx.event_ids(discharge, ("death",))
            message = (f"Episode {episode_id} has {count} day(s) in {ctx.month} after the death recorded on "
                       f"{iso(t.X[discharge])}; nobody is charged for them ({value} of care), so correct the "
                       f"episode's end date or the date of death.")
        yield episode_id, ids, 0, message


@_check("HDS-COST-OUTLIER", WARNING, "6.3", "Weekly cost far from what the service usually costs")
def cost_outliers(ctx: Context):
    """A weekly cost far from the median of its service over the whole dataset, measured in
    robust spreads (1.4826 x the median absolute deviation), for episodes with days in the month."""
    th = ctx.thresholds
    bands = _cost_bands(ctx.weekly_costs, th)
    e = ctx.sub.episodes
    service, weekly = ctx.services, e["weekly_pence"]
    low = np.full(len(e), -np.inf)
    high = np.full(len(e), np.inf)
    for name, (_, lowest, highest) in bands.items():
        low[service == name], high[service == name] = lowest, highest
    outside = ((weekly < low) | (weekly > high)) & (ctx.month_days.sum(axis=0) > 0)
    hds_pence = ctx.month_pence(HDS)
    for episode in np.flatnonzero(outside).tolist():
        median, lowest, highest = bands[str(service[episode])]
        discharge = int(e["d"][episode])
        episode_id = e["episode_id"][episode]
        yield (episode_id,
               ctx.ids_of(discharge, [episode]),
               int(hds_pence[episode]),
               f"Episode {episode_id} costs {format_pounds(int(weekly[episode]))} a week, far from the usual "
               f"{format_pounds(round(median))} for {service[episode]} (the check expects "
               f"{format_pounds(max(math.ceil(lowest), 0))} to {format_pounds(math.floor(highest))}): check the "
               f"weekly cost against the invoice.")


def _weekly_costs(episodes: Table) -> dict[str, np.ndarray]:
    """Service -> the weekly cost in pence of each of its episodes."""
    services = _text(episodes["service"])
    return {name: episodes["weekly_pence"][services == name] for name in SERVICES}


def _cost_bands(weekly: dict[str, np.ndarray], th: Thresholds) -> dict[str, tuple[float, float, float]]:
    """Per service with enough episodes (`weekly`: service -> the weekly cost of each of them): (median,
    lowest and highest weekly cost in pence not flagged)."""
    bands = {}
    for name in SERVICES:
        costs = weekly.get(name, np.zeros(0, dtype=np.int64)).astype(np.float64)
        if len(costs) < th.outlier_min_group:
            continue
        median = _median(costs)
        spread = max(1.4826 * _median(np.abs(costs - median)), th.outlier_spread_floor * median)
        bands[name] = (median, median - th.outlier_k * spread, median + th.outlier_k * spread)
    return bands


@_check("HDS-FREE-DAYS-OVER", WARNING, "4.4", "More scheme days than the free period for one service")
def free_days_over(ctx: Context):
    """A discharge's episodes of one service that together claim more scheme-funded days, to the end
    of the month, than its free period has days (split or duplicated packages)."""
    e, t = ctx.sub.episodes, ctx.timelines
    if not len(e):
        return
    d, service = e["d"], ctx.service_codes
    order = np.lexsort((service, d))
    starts = np.flatnonzero(group_starts(d[order], service[order]))
    total = np.add.reduceat(ctx.hds_days_to_date[order], starts)
    month = np.add.reduceat(ctx.month_days[HDS][order], starts)
    gd = d[order][starts]
    limit = np.where(t.in_scheme[gd], t.P[gd] - t.D[gd], np.iinfo(np.int64).max)
    ends = np.append(starts[1:], len(order))
    pence = ctx.month_pence(HDS)
    for g in np.flatnonzero((total > limit) & (month > 0)).tolist():
        members = order[starts[g]:ends[g]]
        discharge = int(gd[g])
        service_name = e["service"][members[0]]
        discharge_id = ctx.sub.discharges["discharge_id"][discharge]
        episode_ids = e["episode_id"][members].tolist()
        yield (f"{discharge_id}/{service_name}",
               ctx.ids_of(discharge, members),
               int(pence[members].sum()),
               f"The {service_name} episodes of discharge {discharge_id} ({', '.join(episode_ids)}) claim "
               f"{int(total[g])} scheme-funded days up to the end of {ctx.month}, more than the {int(limit[g])} "
               f"days of its free period: look for a package entered twice or split into overlapping parts.")


@_check("HDS-AFTER-CUTOFF", WARNING, "7.1", "Package starting after its scheme had closed")
def package_after_cutoff(ctx: Context):
    """Scheme-funded days in the month from a run of care that began more than `cutoff_grace_days`
    after the last discharge day of the discharge's scheme."""
    e, t = ctx.sub.episodes, ctx.timelines
    if not len(e):
        return
    cutoffs = np.array([day_number(s.last_discharge) for s in ctx.library.schemes] + [NEVER], dtype=np.int64)
    scheme = t.scheme[e["d"]]
    late = ctx.package_start - cutoffs[scheme]
    grace = ctx.thresholds.cutoff_grace_days
    pence = ctx.month_pence(HDS)
    for episode in np.flatnonzero((scheme >= 0) & (late > grace) & (ctx.month_days[HDS] > 0)).tolist():
        discharge = int(e["d"][episode])
        name = ctx.decided.scheme_names[int(scheme[episode])]
        episode_id = e["episode_id"][episode]
        started = int(ctx.package_start[episode])
        yield (episode_id,
               ctx.ids_of(discharge, [episode]),
               int(pence[episode]),
               f"Episode {episode_id} belongs to care that started on {iso(started)}, {int(late[episode])} days after "
               f"{name} closed to new discharges on {iso(cutoffs[scheme[episode]])}, yet claims "
               f"{format_pounds(int(pence[episode]))} from {name} in {ctx.month}: confirm the package was agreed "
               f"under the scheme before it closed.")


@_check("HDS-LATE-START", WARNING, "1.5", "Care starting long after the discharge")
def late_start(ctx: Context):
    """Scheme-funded days in the month from a run of care that began more than `late_start_days`
    after its discharge, with no care in between."""
    e, t = ctx.sub.episodes, ctx.timelines
    if not len(e):
        return
    gap = ctx.package_start - t.D[e["d"]]
    pence = ctx.month_pence(HDS)
    for episode in np.flatnonzero((gap > ctx.thresholds.late_start_days) & (ctx.month_days[HDS] > 0)).tolist():
        discharge = int(e["d"][episode])
        episode_id, discharge_id = e["episode_id"][episode], ctx.sub.discharges["discharge_id"][discharge]
        yield (episode_id,
               ctx.ids_of(discharge, [episode]),
               int(pence[episode]),
               f"Episode {episode_id} belongs to care that started on {iso(ctx.package_start[episode])}, "
               f"{int(gap[episode])} days after discharge {discharge_id} on {iso(t.D[discharge])} with no care in "
               f"between: check that it really follows that discharge before claiming "
               f"{format_pounds(int(pence[episode]))} for it.")


@_check("HDS-CARE-ACT-OUTSTANDING", WARNING, "4.13", "Care Act assessment long overdue, council paying")
def care_act_outstanding(ctx: Context):
    """The council pays days in the month while the Care Act assessment is still not done at the
    month's end, `outstanding_days` or more after the free period ended."""
    yield from _outstanding(ctx, "council", ctx.timelines.A)


@_check("HDS-CHC-OUTSTANDING", WARNING, "4.13", "CHC decision long overdue, CCG paying")
def chc_outstanding(ctx: Context):
    """The CCG pays days in the month while the CHC/FNC decision is still not made at the month's
    end, `outstanding_days` or more after the free period ended."""
    yield from _outstanding(ctx, "ccg", ctx.timelines.C)


def _outstanding(ctx: Context, partner: str, done: np.ndarray):
    t, totals = ctx.timelines, ctx.by_discharge
    after = ctx.last - t.P + 1  # days from the end of the free period to the end of the month
    code = {"council": COUNCIL, "ccg": CCG}[partner]
    mask = (totals[f"{partner}_days"] > 0) & (done > ctx.last) & t.in_scheme & (after >= ctx.thresholds.outstanding_days)
    what = "Care Act assessment" if partner == "council" else "CHC/FNC decision"
    payer = "the council" if partner == "council" else "the CCG"
    for discharge in np.flatnonzero(mask).tolist():
        discharge_id = ctx.sub.discharges["discharge_id"][discharge]
        episodes = [e for e in ctx.episodes_of(discharge) if ctx.month_days[code][e]]
        ids = ctx.ids_of(discharge, episodes)
        if partner == "ccg":
            ids["event"] = ctx.event_ids(discharge, ("chc_checklist",), "positive")
        yield (discharge_id, ids, 0,
               f"The {what} for discharge {discharge_id} was still outstanding at the end of {ctx.month}, "
               f"{int(after[discharge])} days after its free period ended on {iso(t.P[discharge] - 1)}, and "
               f"{payer} pays {format_pounds(int(totals[f'{partner}_pence'][discharge]))} for "
               f"{int(totals[f'{partner}_days'][discharge])} day(s) of it this month: chase the assessment, or "
               f"load its date if it has been done.")


@_check("HDS-BLOCK-BEDS", WARNING, "5.5.2", "Block-booked beds and individual beds of one organisation")
def block_and_bed_claims(ctx: Context):
    """A block cost in the month and scheme-funded bed episodes of the same organisation on days of
    the block's period: the same beds may be claimed twice."""
    blocks = ctx.data.block_costs
    if not len(blocks):
        return
    month_rows = block_allocation(blocks, ctx.month_no, ctx.month_no)
    block_pence = dict(zip(month_rows["block_id"].tolist(), month_rows["amount_pence"].tolist()))
    s, e = ctx.segments, ctx.sub.episodes
    beds = np.isin(ctx.services, list(ctx.thresholds.bed_services))
    hds = ctx.decided.funder == HDS
    for block_id, organisation, start, end in blocks.select(
            ["block_id", "organisation", "start_date", "end_date"]).rows():
        if block_id not in block_pence:
            continue
        lo, hi = max(start, ctx.first), min(end, ctx.last)
        mine = beds & (e["organisation"] == organisation)
        days = np.clip(np.minimum(s.last, hi) - np.maximum(s.first, lo) + 1, 0, None) * (hds & mine[s.episode])
        per_episode = np.bincount(s.episode, weights=days, minlength=len(e)).astype(np.int64)
        found = np.flatnonzero(per_episode)
        if not len(found):
            continue
        beds_pence = int(_pence(e["weekly_pence"][found], per_episode[found]).sum())
        amount = min(int(block_pence[block_id]), beds_pence)
        discharges = _distinct(e["d"][found])[0]  # np.unique, without importing numpy.ma
        yield (block_id,
               {"block": [block_id], "episode": e["episode_id"][found].tolist(),
                "discharge": ctx.sub.discharges["discharge_id"][discharges].tolist(),
                "patient": ctx.patient_ids(discharges.tolist())},
               amount,
               f"Block cost {block_id} of {organisation} covers {iso(lo)} to {iso(hi)} "
               f"({format_pounds(int(block_pence[block_id]))} this month), and {len(found)} bed episode(s) of "
               f"{organisation} claim {format_pounds(beds_pence)} individually on those days: confirm those people "
               f"were not in the block-booked beds.")


@_check("HDS-DUP-NHS", WARNING, "3.5", "One NHS number under several patient ids")
def shared_nhs_number(ctx: Context):
    """An NHS number recorded under two or more patient ids: one person may be counted as two."""
    r = ctx.register
    rows = np.flatnonzero(r.number >= 0)
    rows = rows[ctx.month_numbers[r.number[rows]]]  # the discharges of the numbers that touch the month
    if not len(rows):
        return
    numbers, patients = r.number[rows], r.patient[rows]
    order = np.lexsort((patients, numbers))
    numbers, patients, rows = numbers[order], patients[order], rows[order]
    starts = np.flatnonzero(group_starts(numbers))
    ends = np.append(starts[1:], len(rows))
    distinct = np.add.reduceat(group_starts(numbers, patients).astype(np.int64), starts)
    patient_ids, discharge_ids, rows = r.patient_ids, r.discharge_ids, rows.tolist()
    for first, last in zip(starts[distinct > 1].tolist(), ends[distinct > 1].tolist()):
        group = rows[first:last]
        ids = sorted({patient_ids[i] for i in group})
        yield ("+".join(ids), {"patient": ids, "discharge": [discharge_ids[i] for i in group]}, 0,
               f"Patient ids {', '.join(ids)} carry the same NHS number: if they are one person, merge the ids "
               f"so that free periods and double funding are checked across them; if not, correct the number.")


@_check("HDS-NO-NHS", WARNING, "3.5", "Claimed care with no NHS number")
def claimed_without_nhs_number(ctx: Context):
    """A discharge with scheme-funded days in the month but no NHS number: the claim cannot be
    traced to a person outside this system."""
    dis = ctx.sub.discharges
    totals = ctx.by_discharge
    found = np.flatnonzero((dis["nhs_number"] == "") & (totals["hds_days"] > 0))
    if not len(found):
        return
    lo, hi = (bound[found].tolist() for bound in ctx._episode_range)
    claimed, episode_ids = ctx.month_days[HDS].tolist(), ctx.sub.episodes["episode_id"]
    for discharge_id, patient_id, amount, first, last in zip(
            dis["discharge_id"][found].tolist(), dis["patient_id"][found].tolist(),
            totals["hds_pence"][found].tolist(), lo, hi):
        episodes = [episode_ids[e] for e in range(first, last) if claimed[e]]
        yield (discharge_id,
               {"patient": [patient_id], "discharge": [discharge_id], "episode": episodes},
               amount,
               f"Discharge {discharge_id} of patient {patient_id} has no NHS number, yet "
               f"{len(episodes)} line(s) claim {format_pounds(amount)} for it in {ctx.month}: add the NHS number "
               f"so the claim can be traced to the person.")


CHECKS: tuple[Check, ...] = tuple(_REGISTRY)
CHECK_BY_CODE: dict[str, Check] = {c.code: c for c in CHECKS}
assert len(CHECK_BY_CODE) == len(CHECKS)


# --- what they read ------------------------------------------------------------------------------------

REGISTERED = ("discharge_id", "patient_id", "nhs_number")  # what the register keeps of every discharge


@dataclass(frozen=True)
class Register:
    """The discharges of the whole dataset that link people: those whose NHS number two or more patient
    ids carry (no other discharge joins one patient id to another, nor shares its number), in no
    particular order: their ids, and their patient id and NHS number as ranks among the distinct ones."""

    discharge_ids: list[str]  # per discharge
    patient_ids: list[str]  # per discharge
    patients: np.ndarray  # the distinct patient ids, sorted (numpy text)
    patient: np.ndarray  # per discharge: the rank of its patient id in `patients`
    numbers: np.ndarray  # the distinct NHS numbers, sorted: as int64 when all are ten ASCII digits, else text
    number: np.ndarray  # per discharge: the rank of its NHS number in `numbers`

    @classmethod
    def of(cls, discharge_ids, patient_ids, nhs_numbers) -> "Register":
        """From the three columns REGISTERED of some discharges (arrays or lists of str, "" for no NHS
        number): those of them whose NHS number another patient id among them carries too."""
        nhs_numbers = _text(nhs_numbers)
        has = np.flatnonzero(nhs_numbers != "")
        numbers, number = _ranked(_as_numbers(nhs_numbers[has]))
        patient = _ranked(_text(patient_ids)[has])[1]
        lowest = np.full(len(numbers), np.iinfo(np.int64).max, dtype=np.int64)
        highest = np.full(len(numbers), -1, dtype=np.int64)
        np.minimum.at(lowest, number, patient)
        np.maximum.at(highest, number, patient)
        rows = (has[(lowest < highest)[number]] if len(has) else has).tolist()
        ids, pids = _listed(discharge_ids), _listed(patient_ids)
        return cls.linked([ids[i] for i in rows], [pids[i] for i in rows], nhs_numbers[rows])

    @classmethod
    def linked(cls, discharge_ids, patient_ids, nhs_numbers) -> "Register":
        """From the three columns REGISTERED of the discharges that link people (found already)."""
        patients, patient = _ranked(patient_ids)
        numbers, number = _ranked(_as_numbers(_text(nhs_numbers)))
        return cls(_listed(discharge_ids), _listed(patient_ids), patients, patient, numbers, number)

    def ranks(self, nhs_numbers) -> np.ndarray:
        """The rank in `numbers` of each of some NHS numbers (text), -1 for one not among them."""
        text = _text(nhs_numbers)
        if self.numbers.dtype.kind == "i" and len(text):
            values = _as_numbers(text)
            if values.dtype.kind != "i":  # not all ten ASCII digits: those that are not cannot be among them
                values = np.fromiter((int(t) if len(t) == 10 and t.isascii() and t.isdigit() else -1
                                      for t in text.tolist()), dtype=np.int64, count=len(text))
        else:
            values = text
        return _rank_in(self.numbers, values)

    def patient_ranks(self, patient_ids) -> np.ndarray:
        """The rank in `patients` of each of some patient ids, -1 for one not among them."""
        return _rank_in(self.patients, _text(patient_ids))


def _rank_in(distinct: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The position of each of `values` in `distinct` (sorted, no repeats), -1 for one not in it."""
    if not len(distinct) or not len(values):
        return np.full(len(values), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(distinct, values), len(distinct) - 1)
    return np.where(distinct[at] == values, at, -1)


def numbers_in(messages: list[str], known: Callable[[list[str]], set[str]]) -> set[str]:
    """The NHS numbers of the data that some messages hold, each as a run of exactly ten digits, asking
    `known` which of the runs found are. Messages without ten ASCII digits together and without any other
    digit (nearly always) are seen to hold none at the speed of bytes, not searched character by
    character."""
    text = "\n".join(messages)
    if (b"0" * 10 not in text.encode().translate(_DIGITS_AS_ZERO)
            and not any(c.isdigit() for c in set(_NOT_ASCII.findall(text)))):
        return set()
    runs = sorted(set(_DIGIT_RUN.findall(text)))
    return known(runs) if runs else set()


class Stored:
    """The whole data as the checks read it from a store (``hds.store.StoreSource``): the discharges
    that link people (``register``), the weekly costs of every episode by service (``weekly_costs``),
    the block costs; and, whole, the discharges with care in the month (``with_care``). The same
    findings as from every row of every table (``StoreSource.everything()``), for a fraction of the
    reading. The register is read alongside (``StoreSource.read_beside``) while the checks read the
    month's discharges, and the weekly costs once they have them, while they decide them (three
    readings at once on two cores would only slow the month's); the NHS numbers a message might hold
    are looked up when one holds ten digits together (``nhs_numbers_in``)."""

    def __init__(self, source, month: str | None = None):
        self.source = source
        self.block_costs = source.block_costs()
        self._register = source.read_beside(_register)
        self._weekly_costs = None  # read alongside once the month's discharges are read (_month_read)
        self._decided = None  # (the day, what the claim decided of the month's discharges to that day)
        self._month = None  # with `month`: (its first and last days, its discharges read alongside too)
        if month is not None:
            first, last = Month(month).days
            self._month = (first, last, source.read_beside(lambda other: other.with_care(first, last)))

    def register(self) -> Register:
        return self._register()

    def weekly_costs(self) -> dict[str, np.ndarray]:
        self._month_read()
        return self._weekly_costs()

    def _month_read(self) -> None:
        """The month's discharges are read: start reading the weekly costs alongside."""
        if self._weekly_costs is None:
            self._weekly_costs = self.source.read_beside(_stored_weekly_costs)

    def nhs_numbers_in(self, messages: list[str]) -> set[str]:
        return numbers_in(messages, self.source.nhs_numbers_among)

    def decided_with_claim(self, decided, horizon: int) -> None:
        """Keep what the claim decided of `month_with_care` up to `horizon` (``build_claim``'s `keep`): the
        checks of that month take it instead of deciding the same discharges again (the order of their
        events, which ``with_care`` sorts, decides nothing: a timeline takes the earliest of each kind and
        breaks ties by event id)."""
        self._decided = (horizon, decided)

    def decided_to(self, horizon: int):
        """What the claim decided of the month's discharges up to `horizon`, or None."""
        return self._decided[1] if self._decided is not None and self._decided[0] == horizon else None

    def month_with_care(self) -> Data:
        """The discharges with care in the month given, as the store reads them (``StoreSource.with_care``:
        events in discharge and date order), with the block costs: what a claim of the month alone reads."""
        if self._month is None:
            raise HdsError("internal error: the discharges of no month were read")
        read = self._month[2]()
        self._month_read()
        return read.replace(block_costs=self.block_costs)

    def with_care(self, first: int, last: int) -> Data:
        """The discharges with care in first..last with all their episodes and events, linked as
        ``Data.linked`` links them (the store reads them so), events in event id order (as the whole
        data has them)."""
        ahead = self._month
        read = ahead[2]() if ahead is not None and ahead[:2] == (first, last) else self.source.with_care(first, last)
        self._month_read()
        events = read.events.take(np.argsort(_text(read.events["event_id"]), kind="stable"))
        return read.replace(events=events, block_costs=self.block_costs)


def _register(source) -> Register:
    """The discharges of a store that link people (``StoreSource.shared_nhs_numbers`` finds them)."""
    return Register.linked(*source.shared_nhs_numbers())


def _stored_weekly_costs(source) -> dict[str, np.ndarray]:
    """Service -> the weekly cost in pence of each episode of a store."""
    return source.grouped_values("episodes", "weekly_pence", "service")


def checked_data(source, month: str | None = None) -> "Data | Stored":
    """What the checks read from a source: a store's, as ``Stored`` (with `month`, its discharges read
    alongside from now, for a caller with other work meanwhile); files' (``--data``), everything."""
    from hds.store import StoreSource

    return Stored(source, month) if isinstance(source, StoreSource) else source.everything()


# --- running them ---------------------------------------------------------------------------------------

def run_checks(month: str, data: "Data | Stored", library, thresholds: Thresholds = Thresholds()) -> list[Finding]:
    """Every check over `data` (the current rows of every table, NOT linked; as StoreSource.everything()
    or MemorySource.data gives them; or a store's ``Stored``) for the claim month; findings sorted by
    severity (errors first), code, subject."""
    ctx = Context(month, data, library, thresholds)
    found = [finding for check in CHECKS for finding in check.run(ctx)]
    numbers = ctx.nhs_numbers_in([f.message for f in found])
    return sort_findings([_without_numbers(f, numbers) for f in found] if numbers else found)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.code, f.subject))


def split_accepted(findings: Iterable[Finding], accepted: Iterable[str]) -> tuple[list[Finding], list[Finding],
                                                                                   list[str]]:
    """(findings still open, findings accepted, accept tokens that matched nothing). A token is
    CODE:SUBJECT, matched exactly (the code case-insensitively); the subject is everything after
    the first colon."""
    wanted = {}
    for token in accepted:
        code, colon, subject = token.strip().partition(":")
        wanted[(code.strip().upper(), subject.strip())] = token
    still, taken, used = [], [], set()
    for finding in findings:
        key = (finding.code, finding.subject)
        if key in wanted:
            taken.append(finding)
            used.add(key)
        else:
            still.append(finding)
    return still, taken, [token for key, token in wanted.items() if key not in used]


_DIGIT_RUN = re.compile(r"(?<!\d)\d{10}(?!\d)")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


def _without_numbers(finding: Finding, numbers: set[str]) -> Finding:
    """The finding with any NHS number of the data masked out of its message (a safeguard: no
    check writes one, but ids chosen by a data supplier might contain one)."""
    def mask(match: re.Match) -> str:
        return "[NHS number removed]" if match.group(0) in numbers else match.group(0)

    message = _DIGIT_RUN.sub(mask, finding.message)
    if message == finding.message:
        return finding
    return Finding(finding.code, finding.severity, finding.paragraph, finding.subject, finding.ids,
                   finding.amount_pence, message)


# --- small columnar helpers ------------------------------------------------------------------------------

def _text(values) -> np.ndarray:
    """An object array (or a list) of str as fixed-width numpy text, which sorts and compares fast."""
    return np.asarray(values, dtype=str) if len(values) else np.zeros(0, dtype="<U1")


def _ranked(values) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (sorted; numpy text, or int64 for int64 values) and each value's rank among them:
    equal values, equal ranks."""
    if not len(values):
        return np.zeros(0, dtype="<U1"), np.zeros(0, dtype=np.int64)
    whole = isinstance(values, np.ndarray) and values.dtype.kind == "i"
    distinct, rank = np.unique(values if whole else _text(values), return_inverse=True)
    return distinct, rank.reshape(-1).astype(np.int64)


def _as_numbers(text: np.ndarray) -> np.ndarray:
    """Numpy texts each of exactly ten ASCII digits (as NHS numbers are) as the int64 numbers they write,
    which sort and compare as the texts do, several times faster; any other texts as they are."""
    if not len(text):
        return np.zeros(0, dtype=np.int64)
    if text.dtype != np.dtype("U10"):
        return text
    digits = text.view(np.uint32).reshape(-1, 10) - np.uint32(ord("0"))  # below "0" wraps round: not a digit
    if not (digits <= 9).all():
        return text
    numbers = np.zeros(len(text), dtype=np.int64)
    for place in range(10):
        numbers = numbers * 10 + digits[:, place]
    return numbers


def _codes(values: np.ndarray) -> np.ndarray:
    """Each value's rank among the distinct values: equal values, equal codes."""
    return _ranked(values)[1]


def _listed(values) -> list:
    """The values (of an array or a list) as a list."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _median(values: np.ndarray) -> float:
    """np.median of some (one or more, not NaN) float64 values, computed as it computes it (the middle
    value, or the mean of the middle two) but without importing numpy.ma as np.median does (~7 ms)."""
    middle = len(values) // 2
    if len(values) % 2:
        return float(np.partition(values, middle)[middle])
    ordered = np.partition(values, [middle - 1, middle])  # those two in their sorted places
    return float(np.mean(ordered[middle - 1:middle + 1]))


def _pence(weekly, days):
    """What `days` of care cost at `weekly` (pence arrays), as the allocation prices them."""
    return cost_of_days(np.asarray(weekly, dtype=np.int64), np.asarray(days, dtype=np.int64))


def _person_labels(patient: np.ndarray, number: np.ndarray) -> np.ndarray:
    """Per row: the smallest patient code of the person it belongs to, patient codes being joined
    when they share an NHS number code (-1: none), through any chain of such links."""
    if not len(patient):
        return np.zeros(0, dtype=np.int64)
    label = np.arange(int(patient.max()) + 1, dtype=np.int64)
    has = number >= 0
    if not has.any():
        return label[patient]
    number, linked = number[has], patient[has]
    while True:
        lowest = np.full(int(number.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, number, label[linked])
        new = label.copy()
        np.minimum.at(new, linked, lowest[number])
        new = new[new]  # follow the links found so far
        if (new == label).all():
            return label[patient]
        label = new


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The days in both of two sorted lists of (first, last) runs."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        first, last = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if first <= last:
            out.append((first, last))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _runs_text(runs: list[tuple[int, int]]) -> str:
    return ", ".join(iso(f) if f == l else f"{iso(f)} to {iso(l)}" for f, l in runs)


# --- before a submission ---------------------------------------------------------------------------------

class OpenErrors(HdsError):
    """A submission with error findings nobody has acknowledged."""


def review(month: str, findings: list[Finding], accepted: dict[str, str], user: str) -> list[dict]:
    """The findings a submission stores: every finding of the month (`findings`, as ``run_checks``
    gives them), each acknowledged one with who accepted it and why. Refused (OpenErrors, listing them)
    while an error is not acknowledged; an acknowledgement that matches no finding is refused too, so a
    typing slip is not taken as done."""
    still, taken, unmatched = split_accepted(findings, accepted)
    if unmatched:
        raise HdsError(f"--accept {', '.join(unmatched)} matches no finding of {month}; 'hds check --month {month}' "
                       "lists them as CODE:SUBJECT")
    errors = [f for f in still if f.severity == ERROR]
    if errors:
        listed = "\n".join(f"  {f.key}  ({f.paragraph}) {f.message}" for f in errors)
        raise OpenErrors(f"{month} has {len(errors)} error finding(s) that would go to NHS England unexplained; "
                         f"nothing was submitted:\n{listed}\nCorrect the data and load it again, or acknowledge each "
                         f"with --accept CODE:SUBJECT --because \"why it is right\" (see 'hds check --month {month}')")
    reasons = {}
    for token, reason in accepted.items():
        code, _, subject = token.strip().partition(":")
        reasons[(code.strip().upper(), subject.strip())] = reason
    return [{**f._asdict(), "acknowledged": (f"accepted by {user}: {reasons[(f.code, f.subject)]}"
                                             if (f.code, f.subject) in reasons else "")}
            for f in findings]


def totals(findings: list[Finding]) -> dict:
    by_code: dict[str, int] = {}
    for f in findings:
        by_code[f.code] = by_code.get(f.code, 0) + 1
    return {"errors": sum(f.severity == ERROR for f in findings), "warnings": sum(f.severity == WARNING for f in findings),
            "amount_at_stake_pence": sum(f.amount_pence for f in findings), "by_code": by_code}


def acknowledgements(accepts, reasons, path) -> dict[str, str]:
    """CODE:SUBJECT -> why, from --accept/--because pairs (one --because for all, or one each) and a
    file (``read_acknowledgements``). A reason is kept in the ledger for good: one holding control
    characters or longer than hds.text.MAX_FREE_TEXT is refused, naming the option or the row."""
    from claims.report.safe import unneutralise
    from hds.text import free_text_problem

    accepted = {}
    for i, token in enumerate(accepts):
        reason = reasons[i] if len(reasons) > 1 else reasons[0]
        for what, text in (("--accept", token), ("--because", reason)):
            problem = free_text_problem(text)
            if problem:
                raise HdsError(f"{what} (for --accept {token[:60]!r}) {problem}; nothing was submitted")
        code, _, subject = token.partition(":")
        accepted[f"{code}:{unneutralise(subject.strip())}"] = reason  # a subject copied from hds's CSV
    if path is not None:
        accepted.update(read_acknowledgements(path))
    return accepted


def read_acknowledgements(path) -> dict[str, str]:
    """CODE:SUBJECT -> why, from a file read as a load reads its files (CSV in UTF-8, UTF-16 or
    Windows-1252, or an .xlsx workbook): 'hds check --csv' (or -o .xlsx) output with a column
    'because' added, or columns finding and because. A warning row left without a reason is not an
    acknowledgement; an error row without one, a row naming no finding, and a reason too long or
    holding control characters are refused, every such row named in one message."""
    from hds.sources import read_records

    records, _ = read_records(path)
    start, header = _acknowledgement_header(path, records)
    accepted, problems = {}, []
    for number, cells in records[start + 1:]:
        row = dict(zip(header, cells))
        if not any(cells):
            continue
        token, reason, problem = _acknowledgement(row)
        if problem:
            problems.append(f"  {path} row {number}: {problem}")
        elif token:
            accepted[token] = reason
    if problems:
        raise HdsError(f"{len(problems)} row(s) of the acknowledgements cannot be used; nothing was submitted:\n"
                       + "\n".join(problems))
    return accepted


def _acknowledgement_header(path, records) -> tuple[int, list[str]]:
    """Where the header is (a workbook may have a title above it) and its names, lower case."""
    for index, (_, cells) in enumerate(records[:10]):
        names = [c.strip().lower() for c in cells]
        if "finding" in names or {"code", "subject"} <= set(names):
            return index, names
    raise HdsError(f"{path}: no header with the columns finding (CODE:SUBJECT), or code and subject, as 'hds check "
                   "--csv' writes them, and a column because added")


def _acknowledgement(row: dict) -> tuple[str | None, str, str | None]:
    """(CODE:SUBJECT or None for a row that acknowledges nothing, the reason, what is wrong with it)."""
    from claims.report.safe import unneutralise
    from hds.text import free_text_problem

    code, subject = unneutralise(row.get("code") or ""), unneutralise(row.get("subject") or "")
    finding = unneutralise(row.get("finding") or "") or (f"{code}:{subject}" if code and subject else "")
    if ":" in finding:
        finding_code, _, finding_subject = finding.partition(":")
        finding = f"{finding_code}:{unneutralise(finding_subject)}"
    reason = row.get("because") or ""
    if not reason and (row.get("severity") or "error").lower() != "error":
        return None, "", None  # a warning left without a reason (as 'hds check --csv' lists it)
    if not finding or ":" not in finding:
        return None, "", ("names no finding (a column finding, CODE:SUBJECT, or columns code and subject, as "
                          "'hds check --csv' writes)")
    if not reason:
        return None, "", f"the error {finding} has no reason in the column because"
    for column, text in (("because", reason), ("finding", finding)):
        problem = free_text_problem(text)
        if problem:
            return None, "", f"column {column} {problem}"
    return finding, reason, None
