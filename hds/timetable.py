"""The submission timetable: NHS England's deadline for each month's claim (`[timetable]` in hds.toml)
and the day the information is due to the CCG, two working days earlier (agreement 5.5.3 and 6.5).

Working days are Monday to Friday except England's bank holidays (the `holidays` package); the
date arithmetic is pendulum's. For a deadline of Tuesday 29 December 2020 the information is due
on Wednesday 23 December: Monday 28 December (the Boxing Day holiday, moved), the weekend and
Christmas Day are not working days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays
import pendulum

DAYS_BEFORE_DEADLINE = 2  # the information reaches the CCG two working days before the deadline (5.5.3, 6.5)
REMIND_WITHIN = 3  # working days: a month due this soon and not submitted is the first thing status says


@lru_cache(maxsize=None)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: dt.date) -> bool:
    return pendulum.Date(day.year, day.month, day.day).isoweekday() < 6 and day not in _bank_holidays(day.year)


def working_days_before(day: dt.date, count: int) -> dt.date:
    """The working day `count` working days before `day`."""
    current = pendulum.Date(day.year, day.month, day.day)
    while count:
        current = current.subtract(days=1)
        count -= is_working_day(current)
    return dt.date(current.year, current.month, current.day)


def due_to_ccg(deadline: dt.date) -> dt.date:
    """The day a month's information is due to the CCG: two working days before NHS England's deadline."""
    return working_days_before(deadline, DAYS_BEFORE_DEADLINE)


def working_days_until(today: dt.date, day: dt.date) -> int:
    """Working days after `today` up to and including `day` (0: `day` is today or the next working day
    is after it; negative: that many working days ago)."""
    start, end = pendulum.Date(today.year, today.month, today.day), pendulum.Date(day.year, day.month, day.day)
    sign = 1 if end >= start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    return sign * sum(is_working_day(d) for d in pendulum.interval(lo.add(days=1), hi).range("days")) \
        if lo < hi else 0


def today() -> dt.date:
    """Today, as pendulum sees it (tests set another day by replacing this function)."""
    now = pendulum.today()
    return dt.date(now.year, now.month, now.day)


def spoken(day: dt.date, form: str = "dddd D MMMM YYYY") -> str:
    """'Wednesday 23 December 2020' (in English whatever the locale)."""
    return pendulum.Date(day.year, day.month, day.day).format(form, locale="en")


@dataclass(frozen=True)
class Deadline:
    month: str
    deadline: dt.date
    due: dt.date  # due to the CCG

    def reminder(self, on: dt.date) -> str | None:
        """What to say on day `on` if this month is not submitted: None unless it is due to the CCG
        within REMIND_WITHIN working days (or was due and NHS England's deadline has not passed)."""
        if on > self.deadline:
            return None
        left = working_days_until(on, self.due)
        if left > REMIND_WITHIN:
            return None
        when = ("today" if self.due == on else f"on {spoken(self.due)}" if self.due < on
                else f"in {left} working day{'s' if left != 1 else ''}, on {spoken(self.due)}")
        verb = "was due" if self.due < on else "is due"
        return (f"{self.month} is not submitted and its information {verb} to the CCG {when} (NHS England's "
                f"deadline: {spoken(self.deadline)}): hds check --month {self.month}; hds submit --month {self.month}")


def deadlines(timetable: dict) -> dict[str, Deadline]:
    """Each month of a timetable (month -> deadline) with the day it is due to the CCG."""
    return {month: Deadline(month, deadline, due_to_ccg(deadline)) for month, deadline in timetable.items()}
