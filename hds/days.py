"""Dates as integer day numbers, the form the columnar core computes with.

Day 0 is 1970-01-01. A date that is missing is one of two sentinels chosen
so that plain comparisons say the right thing without a special case:

- ``NEVER``: an event that has not happened (no assessment, no death): every
  real day is before it;
- ``PASSED``: a free period that never was (a discharge outside every
  scheme): every real day is after it.

Months are numbered from 1970-01 (month 0), so a month's number is
``year * 12 + month - 1 - 1970 * 12``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1).toordinal()
NEVER = 1_000_000_000
PASSED = -NEVER


def day_number(day: dt.date) -> int:
    return day.toordinal() - EPOCH


def to_date(number: int) -> dt.date:
    return dt.date.fromordinal(int(number) + EPOCH)


def iso_days(values) -> np.ndarray:
    """Day numbers of ISO dates (text as the store keeps them); blank or None gives NEVER."""
    array = np.asarray(values, dtype=object)
    blank = np.array([v is None or v == "" for v in array.tolist()], dtype=bool) if len(array) else np.zeros(0, bool)
    if blank.any():
        array = array.copy()
        array[blank] = "1970-01-01"
    days = array.astype("datetime64[D]").astype(np.int64) if len(array) else np.zeros(0, np.int64)
    days[blank] = NEVER
    return days


def iso(number: int) -> str:
    return to_date(number).isoformat()


def month_index(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start(months) -> np.ndarray | int:
    start = np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return start if np.ndim(months) else int(start)


def month_end(months) -> np.ndarray | int:
    return month_start(np.asarray(months) + 1) - 1


def month_number(month: str) -> int:
    """'2020-10' -> its month number."""
    year, mon = (int(p) for p in month.split("-"))
    return (year - 1970) * 12 + mon - 1


def month_name(number: int) -> str:
    year, mon = divmod(int(number), 12)
    return f"{1970 + year:04d}-{mon + 1:02d}"


def month_names(numbers: np.ndarray) -> np.ndarray:
    """'YYYY-MM' text for an array of month numbers, made once per distinct month."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if not len(numbers):
        return np.empty(0, dtype=object)
    distinct, inverse = np.unique(numbers, return_inverse=True)
    names = np.array([month_name(m) for m in distinct.tolist()], dtype=object)
    return names[inverse]
