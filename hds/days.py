"""Dates as integer day numbers, the form the columnar core computes with.

Day 0 is 1970-01-01. A date that is missing is one of two sentinels chosen
so that plain comparisons say the right thing without a special case:

- ``NEVER``: an event that has not happened (no assessment, no death): every
  real day is before it;
- ``PASSED``: a free period that never was (a discharge outside every
  scheme): every real day is after it.

Months are numbered from 1970-01 (month 0), so a month's number is
``year * 12 + month - 1 - 1970 * 12``.

The month functions take numpy arrays (the columnar core) or plain ints (one
patient's trace, which imports no numpy); numpy is imported only for arrays.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

EPOCH = dt.date(1970, 1, 1).toordinal()
NEVER = 1_000_000_000
PASSED = -NEVER


def day_number(day: dt.date) -> int:
    return day.toordinal() - EPOCH


def to_date(number: int) -> dt.date:
    return dt.date.fromordinal(int(number) + EPOCH)


def iso_day(text: str | None) -> int:
    """The day number of one ISO date (text as the store keeps it); blank or None gives NEVER."""
    return day_number(dt.date.fromisoformat(text)) if text else NEVER


def iso(number: int) -> str:
    return to_date(number).isoformat()


def month_index(days):
    """The month number of each day number; of an int (a date's), an int."""
    if isinstance(days, int) and _DATES[0] <= days <= _DATES[1]:
        day = to_date(days)
        return _month_of(day.year, day.month)
    import numpy as np

    index = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return index if np.ndim(days) else int(index)


def month_start(months):
    """The day number of the first day of each month number; of an int (a date's), an int."""
    if isinstance(months, int) and _MONTHS[0] <= months < _MONTHS[1]:
        year, mon = divmod(months, 12)
        return day_number(dt.date(1970 + year, mon + 1, 1))
    import numpy as np

    start = np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return start if np.ndim(months) else int(start)


def month_end(months):
    """The day number of the last day of each month number; of an int (a date's), an int."""
    if isinstance(months, int) and _MONTHS[0] <= months < _MONTHS[1]:
        return month_start(months + 1) - 1
    import numpy as np

    return month_start(np.asarray(months) + 1) - 1


def _month_of(year: int, mon: int) -> int:
    return (year - 1970) * 12 + mon - 1


_DATES = (dt.date.min.toordinal() - EPOCH, dt.date.max.toordinal() - EPOCH)  # the day numbers of dates
_MONTHS = (_month_of(dt.MINYEAR, 1), _month_of(dt.MAXYEAR, 12))  # the month numbers whose next month is a date's too


def month_number(month: str) -> int:
    """'2020-10' -> its month number."""
    year, mon = (int(p) for p in month.split("-"))
    return _month_of(year, mon)


def month_name(number: int) -> str:
    year, mon = divmod(int(number), 12)
    return f"{1970 + year:04d}-{mon + 1:02d}"


def month_names(numbers: np.ndarray) -> np.ndarray:
    """'YYYY-MM' text for an array of month numbers, made once per distinct month."""
    import numpy as np

    numbers = np.asarray(numbers, dtype=np.int64)
    if not len(numbers):
        return np.empty(0, dtype=object)
    distinct, inverse = np.unique(numbers, return_inverse=True)
    names = np.array([month_name(m) for m in distinct.tolist()], dtype=object)
    return names[inverse]
