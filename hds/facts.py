"""The facts a timeline states about each segment of an episode: defined once, here.

Each fact is one row of ``FACT_TABLE``: its name (the word rules use), what
it means, how it is computed from the timeline's columns, and the dates on
which it can change value. Everything else derives from this table:

- ``FACTS`` (name -> meaning) is the rulebooks' vocabulary and what
  ``hds rules facts`` prints;
- a fact's position in the table is its bit in the packed integer that
  carries a segment's facts to the engine;
- the days on which episodes are cut into segments are the union of the
  facts' change dates, so a fact added here is cut for automatically.

Every fact is a yes/no answer that is constant over a segment, so rules
never compare dates. The symbols are those of the agreed interpretation: D
discharge, P the first day after the free period, A Care Act assessment, K
positive CHC checklist, C CHC decision, Cchc a decision of CHC eligibility,
F self-funder charge date, X death, E the earliest of P, A, Cchc and F (the
end of free care). A missing date is ``hds.days.NEVER``; a discharge outside
every scheme has P = E = ``hds.days.PASSED``.

A fact's ``value`` receives ``s``, the segments seen through their
timelines: ``s.day`` is the segment's first day, ``s.D``, ``s.P`` ... the
timeline's dates, and the per-discharge and per-episode flags named below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # imported where the facts are packed: ENDED_BY and FUNDER_NAMES need no numpy
    import numpy as np

# why free care ended before P (timeline column ``ended_by``)
NOT_EARLY, BY_ASSESSMENT, BY_CHC, BY_CHARGE_DATE = 0, 1, 2, 3
ENDED_BY = {BY_ASSESSMENT: "assessment", BY_CHC: "chc", BY_CHARGE_DATE: "charge date"}  # as the trace words it


@dataclass(frozen=True)
class Fact:
    name: str
    meaning: str
    value: Callable[[object], np.ndarray]
    changes_on: tuple[str, ...] = ()  # timeline dates on which the value can change (the day it first differs)


FACT_TABLE: tuple[Fact, ...] = (
    Fact("before_discharge", "the day is before the discharge date D",
         lambda s: s.day < s.D, ("D",)),
    Fact("after_death", "the person died before this day (after X)",
         lambda s: s.day > s.X, ("X_next",)),
    Fact("outside_schemes", "the discharge date falls in no scheme's window",
         lambda s: ~s.in_scheme),
    Fact("bau_commissioned", "the episode is business-as-usual commissioned activity",
         lambda s: s.bau_commissioned),
    Fact("isolation_service", "the episode is a COVID-19 isolation service",
         lambda s: s.isolation),
    Fact("restart", "the episode restarts the person's existing package",
         lambda s: s.restart),
    Fact("admission_avoidance", "the discharge is an A&E attendance where admission was avoided",
         lambda s: s.admission_avoidance),
    Fact("within_free_period", "the day is before P, the first day after the free period",
         lambda s: s.day < s.P, ("P",)),
    Fact("free_care_continues", "the day is before E: nothing has ended the free care yet",
         lambda s: s.day < s.E, ("E",)),
    Fact("ended_early_by_assessment", "a Care Act assessment ended the free care before P",
         lambda s: s.ended_by == BY_ASSESSMENT),
    Fact("ended_early_by_chc", "a decision of CHC eligibility ended the free care before P",
         lambda s: s.ended_by == BY_CHC),
    Fact("ended_early_by_charge_date", "a self-funder's agreed charge date ended the free care before P",
         lambda s: s.ended_by == BY_CHARGE_DATE),
    Fact("chc_pending_at_free_period_end",
         "a positive checklist came before P and the CHC decision was not made before P",
         lambda s: s.chc_pending_at_P),
    Fact("self_funder_charging", "the day is on or after the self-funder's agreed charge date F",
         lambda s: s.day >= s.F, ("F",)),
    Fact("chc_decision_pending", "the CHC/FNC decision C has not been made by this day",
         lambda s: s.day < s.C, ("C",)),
    Fact("chc_eligible", "the CHC decision found the person eligible for CHC",
         lambda s: s.C_is_chc),
    Fact("care_act_assessment_pending", "the Care Act assessment A has not been completed by this day",
         lambda s: s.day < s.A, ("A",)),
    Fact("chc_funding_started", "the day is on or after a decision of CHC eligibility",
         lambda s: s.day >= s.Cchc, ("Cchc",)),
)

FACTS: dict[str, str] = {fact.name: fact.meaning for fact in FACT_TABLE}
FACT_NAMES: tuple[str, ...] = tuple(FACTS)
FACT_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(FACT_NAMES)}
CHANGE_DATES: tuple[str, ...] = tuple(dict.fromkeys(d for fact in FACT_TABLE for d in fact.changes_on))

FUNDERS: dict[str, str] = {
    "hds": "the discharge scheme (claimed from NHS England)",
    "ccg": "the CCG, while a CHC/FNC assessment is pending after the free period",
    "council": "the council, while a Care Act assessment is pending after the free period",
    "bau": "normal funding routes",
    "excluded": "nobody: a day that should not be paid (a data-quality finding)",
}
FUNDER_NAMES: tuple[str, ...] = tuple(FUNDERS)


def pack(situation) -> np.ndarray:
    """Every fact of every segment, one bit per fact, in one unsigned integer per segment."""
    import numpy as np

    bits = np.zeros(len(situation.day), dtype=np.int64)
    for i, fact in enumerate(FACT_TABLE):
        bits |= np.asarray(fact.value(situation), dtype=np.int64) << i
    return bits


def unpack(bits: int) -> dict[str, bool]:
    return {name: bool(bits >> i & 1) for i, name in enumerate(FACT_NAMES)}
