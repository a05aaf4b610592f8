"""Who comes off the scheme soon: the social workers' worklist (`hds upcoming`).

A discharge is on the worklist when one of its episodes is paid by the
scheme on the as-of date and the scheme stops paying for all of them within
the next N days. When it stops comes from the rules, never from an episode's
end date: every episode running on the as-of date is run on with no end and
decided day by day by the same engine as the claim, so the first day the
scheme no longer pays is the day a rule hands the care to another funder
(the free period's end, a Care Act assessment, a CHC decision, a
self-funder's charge date). The data is taken as it stands: an assessment or
charge date already recorded for a day after the as-of date (a date agreed
or booked) counts; a discharge dated after the as-of date does not, nor does
anyone who died on or before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from claims.allocate import HDS, decide
from hds.data import Data, empty
from hds.days import NEVER, iso
from hds.facts import FUNDER_NAMES

FIELDS = ("discharge_id", "patient_id", "scheme", "pays_from", "next_funder", "weekly_cost", "outstanding")


@dataclass(frozen=True)
class Person:
    """One line of the worklist; `pays_from` is a day number, `weekly_pence` the weekly cost of the episodes
    the scheme pays on the as-of date."""

    discharge_id: str
    patient_id: str
    scheme: str
    pays_from: int
    next_funder: str
    weekly_pence: int
    outstanding: str
    discharge_date: int  # day number


@dataclass(frozen=True)
class Upcoming:
    as_of: int  # day number
    days: int
    people: list[Person]  # by pays_from, then discharge id


def running_on(data: Data, day: int) -> Data:
    """Of a linked dataset, the episodes running on `day` of the discharges dated on or before it, each
    run on with no end date, with those discharges and their events; linked."""
    d = data.discharges
    kept = d["discharge_date"] <= day
    e = data.episodes
    e = e.take((e["start_date"] <= day) & (e["end_date"] >= day) & kept[e["d"]])
    e = e.with_columns(end_date=np.full(len(e), NEVER, dtype=np.int64))
    events = data.events.take(kept[data.events["d"]])
    return Data(d.take(kept), e, events, empty("block_costs"), empty("receipts")).linked()


def upcoming(source, library, as_of: int, days: int) -> Upcoming:
    """The worklist as of day `as_of`: the discharges the scheme stops paying for within `days` days."""
    decided = decide(running_on(source.period(as_of, as_of), as_of), library, as_of + days)
    return Upcoming(as_of, days, people_of(decided, as_of))


def people_of(decided, as_of: int) -> list[Person]:
    """The discharges of a decided dataset (episodes run on to the horizon) that the scheme pays for on
    `as_of` and stops paying for by the horizon."""
    s, funder = decided.segments, decided.funder
    paid = np.unique(s.episode[(s.first <= as_of) & (s.last >= as_of) & (funder == HDS)])
    stop = _first_other_funder(s, funder, as_of)
    t, e = decided.timelines, decided.data.episodes
    by_discharge: dict[int, list[int]] = defaultdict(list)
    for episode in paid.tolist():
        by_discharge[int(e["d"][episode])].append(episode)
    schemes = decided.scheme_of_discharge()
    people = []
    for d, episodes in by_discharge.items():
        stops = [stop.get(episode) for episode in episodes]
        if None in stops or t.X[d] <= as_of:  # still paid at the horizon, or died
            continue
        pays_from = max(day for day, _ in stops)
        next_funder = "+".join(sorted({FUNDER_NAMES[f] for day, f in stops if day == pays_from}))
        discharges = decided.data.discharges
        people.append(Person(discharges["discharge_id"][d], discharges["patient_id"][d], schemes[d], pays_from,
                             next_funder, int(e["weekly_pence"][episodes].sum()), _outstanding(t, d, as_of),
                             int(t.D[d])))
    return sorted(people, key=lambda p: (p.pays_from, p.discharge_id))


def _first_other_funder(s, funder: np.ndarray, as_of: int) -> dict[int, tuple[int, int]]:
    """Per episode: the first day after `as_of` on which another funder than the scheme pays, and which."""
    later = np.flatnonzero((s.first > as_of) & (funder != HDS))
    if not len(later):
        return {}
    episode = s.episode[later]
    first = later[np.r_[True, episode[1:] != episode[:-1]]]  # segments are in episode, then day, order
    return dict(zip(s.episode[first].tolist(), zip(s.first[first].tolist(), funder[first].tolist())))


def _outstanding(t, d: int, as_of: int) -> str:
    """What is not done by the as-of date that would decide where the care goes next."""
    missing = []
    if t.A[d] > as_of:
        missing.append("Care Act assessment" + _dated(t.A[d]))
    if t.K[d] <= as_of and t.C[d] > as_of:
        missing.append("CHC decision" + _dated(t.C[d]))
    return "; ".join(missing)


def _dated(day: int) -> str:
    """' dated YYYY-MM-DD' for a date already recorded for a later day (booked), '' for none."""
    return "" if day == NEVER else f" dated {iso(int(day))}"
