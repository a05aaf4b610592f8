"""Schemes: which window a discharge falls in, and when its free period ends.

Nothing here knows a scheme's name or dates: schemes are built by
``rules.dated`` from the dated parameters in ``rules/parameters/*.yaml``.

A scheme is a run of **terms**. Within a term every parameter of the scheme
has one value; a new term starts on each discharge date from which some
parameter takes a new value (say, a free period of 42 days for discharges
before a date and 28 days from it). For a discharge D in a term:

- the free period starts on D, which is day 1;
- P, the first day after it, is the earlier of D + ``free_period_days``
  (when the term has a length) and the day after ``free_period_ends_on``
  (when it has a fixed last day). A term has at least one of the two;
  Scheme 1 is simply a term with a fixed last day and no length.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hds.days import NEVER, PASSED, day_number, to_date

if TYPE_CHECKING:  # imported where discharges are located in columns: a scheme's wording needs no numpy
    import numpy as np

_NO_LIMIT = 2 * NEVER  # later than any P a real limit gives


@dataclass(frozen=True)
class Term:
    """Discharge dates first_discharge..last_discharge (inclusive) of one scheme, with the free period in force."""

    first_discharge: dt.date
    last_discharge: dt.date
    free_period_days: int | None = None  # None: no limit by length
    free_period_ends_on: dt.date | None = None  # None: no fixed last free day

    def covers(self, discharge: dt.date) -> bool:
        return self.first_discharge <= discharge <= self.last_discharge

    def first_day_after_free_period(self, discharge: dt.date) -> dt.date:
        limits = []
        if self.free_period_days is not None:
            limits.append(discharge + dt.timedelta(days=self.free_period_days))
        if self.free_period_ends_on is not None:
            limits.append(self.free_period_ends_on + dt.timedelta(days=1))
        if not limits:
            raise ValueError("a term needs free_period_days or free_period_ends_on")
        return min(limits)


@dataclass(frozen=True)
class Scheme:
    name: str
    terms: tuple[Term, ...]
    title: str = ""

    def __post_init__(self):
        if not self.terms:
            raise ValueError(f"scheme {self.name} covers no discharge date")
        object.__setattr__(self, "terms", tuple(sorted(self.terms, key=lambda t: t.first_discharge)))

    @classmethod
    def single(cls, name: str, first_discharge: dt.date, last_discharge: dt.date, free_period_days: int | None = None,
               free_period_ends_on: dt.date | None = None, title: str = "") -> "Scheme":
        """A scheme whose parameters never change within its window."""
        return cls(name, (Term(first_discharge, last_discharge, free_period_days, free_period_ends_on),), title)

    @property
    def first_discharge(self) -> dt.date:
        return self.terms[0].first_discharge

    @property
    def last_discharge(self) -> dt.date:
        return self.terms[-1].last_discharge

    def term_for(self, discharge: dt.date) -> Term | None:
        return next((t for t in self.terms if t.covers(discharge)), None)

    def covers(self, discharge: dt.date) -> bool:
        return self.term_for(discharge) is not None

    def first_day_after_free_period(self, discharge: dt.date) -> dt.date:
        """P: the discharge day is day 1 of the free period."""
        term = self.term_for(discharge)
        if term is None:
            raise ValueError(f"{discharge} is outside scheme {self.name}")
        return term.first_day_after_free_period(discharge)


def locate(schemes: list[Scheme], D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For discharge days D: the index of each one's scheme in `schemes` (-1 for
    none) and P, its first day after the free period (PASSED for none), by the
    parameters in force on each discharge date.

    Vectorised over D: the terms of all schemes, sorted by first discharge,
    are found by one binary search (terms never overlap)."""
    import numpy as np

    D = np.asarray(D, dtype=np.int64)
    terms = sorted(((day_number(t.first_discharge), day_number(t.last_discharge), i, t)
                    for i, s in enumerate(schemes) for t in s.terms), key=lambda x: x[0])
    if not terms or not len(D):
        return np.full(len(D), -1, dtype=np.int64), np.full(len(D), PASSED, dtype=np.int64)
    first = np.array([x[0] for x in terms], dtype=np.int64)
    last = np.array([x[1] for x in terms], dtype=np.int64)
    owner = np.array([x[2] for x in terms], dtype=np.int64)
    length = np.array([_NO_LIMIT if x[3].free_period_days is None else x[3].free_period_days for x in terms],
                      dtype=np.int64)
    after_end = np.array([_NO_LIMIT if x[3].free_period_ends_on is None else day_number(x[3].free_period_ends_on) + 1
                          for x in terms], dtype=np.int64)
    at = np.searchsorted(first, D, side="right") - 1
    safe = np.maximum(at, 0)
    inside = (at >= 0) & (D <= last[safe])
    index = np.where(inside, owner[safe], -1)
    P = np.where(inside, np.minimum(D + length[safe], after_end[safe]), PASSED)
    return index.astype(np.int64), P.astype(np.int64)


def free_period_wording(scheme: Scheme, discharge: dt.date) -> str:
    """The free period of a discharge in words, from the parameters in force on its date, e.g.
    'free period 28 days, 2021-08-02 .. 2021-08-29; the partners pay from 2021-08-30 (day 29)'."""
    term = scheme.term_for(discharge)
    if term is None:
        raise ValueError(f"{discharge} is outside scheme {scheme.name}")
    P = term.first_day_after_free_period(discharge)
    last_free = P - dt.timedelta(days=1)
    paid_from = f"the partners pay from {P.isoformat()} (day {(P - discharge).days + 1})"
    if term.free_period_days is None:
        return (f"free until assessment, at the latest {term.free_period_ends_on.isoformat()} "
                f"({discharge.isoformat()} .. {last_free.isoformat()}); {paid_from}")
    days = (P - discharge).days
    cut = "" if days == term.free_period_days else \
        f" (of {term.free_period_days}, cut short by the fixed last free day {term.free_period_ends_on.isoformat()})"
    return f"free period {days} days{cut}, {discharge.isoformat()} .. {last_free.isoformat()}; {paid_from}"


def describe_free_period(scheme: Scheme | None, discharge_day: int, first_paid_day: int) -> str:
    """A discharge's free period in words, e.g. 'free period 28 days, 2021-08-02 .. 2021-08-29; the partners
    pay from 2021-08-30 (day 29)', by the parameters of `scheme` (the scheme that decided the discharge;
    day numbers, as in ``hds.timeline``). Falls back to the length alone when the scheme's parameters do
    not give that first paid day (or there is no scheme)."""
    D, P = to_date(discharge_day), to_date(first_paid_day)
    if scheme is not None and scheme.covers(D) and scheme.first_day_after_free_period(D) == P:
        return free_period_wording(scheme, D)
    days = (P - D).days
    return (f"free period {days} days, {D.isoformat()} .. {(P - dt.timedelta(days=1)).isoformat()}; "
            f"the partners pay from {P.isoformat()} (day {days + 1})")
