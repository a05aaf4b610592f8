"""Schemes: which window a discharge falls in, and when its free period ends.

Windows and free-period lengths are parameters of the rulebooks, read from
the rule files by ``rules.library``; nothing here hard-codes a scheme date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pendulum



@dataclass(frozen=True)
class Scheme:
    name: str
    first_discharge: dt.date
    last_discharge: dt.date
    free_period_days: int | None = None
    free_period_ends_on: dt.date | None = None

    def covers(self, discharge: dt.date) -> bool:
        return self.first_discharge <= discharge <= self.last_discharge

    def first_day_after_free_period(self, discharge: dt.date) -> dt.date:
        """P of RULES.md: the discharge day is day 1 of the free period."""
        if self.free_period_days is not None:
            return pendulum.Date(discharge.year, discharge.month, discharge.day).add(days=self.free_period_days)
        return pendulum.Date(
            self.free_period_ends_on.year, self.free_period_ends_on.month, self.free_period_ends_on.day
        ).add(days=1)


def scheme_for(discharge: dt.date, schemes: list[Scheme]) -> Scheme | None:
    for scheme in schemes:
        if scheme.covers(discharge):
            return scheme
    return None
