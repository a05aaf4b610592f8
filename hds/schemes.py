"""Schemes: which window a discharge falls in, and when its free period ends.

Windows and free-period lengths are parameters of the rulebooks, read from
the rule files by ``rules.library``; nothing here hard-codes a scheme date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from hds.days import PASSED, day_number


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
        """P: the discharge day is day 1 of the free period."""
        if self.free_period_days is not None:
            return discharge + dt.timedelta(days=self.free_period_days)
        return self.free_period_ends_on + dt.timedelta(days=1)


def locate(schemes: list[Scheme], D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For discharge days D: the index of each one's scheme in `schemes` (-1 for
    none) and P, its first day after the free period (PASSED for none)."""
    index = np.full(len(D), -1, dtype=np.int64)
    P = np.full(len(D), PASSED, dtype=np.int64)
    for i, scheme in enumerate(schemes):
        inside = (D >= day_number(scheme.first_discharge)) & (D <= day_number(scheme.last_discharge))
        index[inside] = i
        if scheme.free_period_days is not None:
            P[inside] = D[inside] + scheme.free_period_days
        else:
            P[inside] = day_number(scheme.free_period_ends_on) + 1
    return index, P
