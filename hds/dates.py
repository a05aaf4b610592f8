"""Dates and months as the data contract accepts them."""

from __future__ import annotations

import datetime as dt
import re

from hds.errors import HdsError
from hds.month import Month

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")

# the months' names as people read them (in English whatever the locale), for reports and packs
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def parse_date(value) -> dt.date:
    """A date from a cell: YYYY-MM-DD, DD/MM/YYYY, or an Excel date cell."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise ValueError(f"'{value}' has a time of day; expected a date")
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if _ISO.fullmatch(text):
            return dt.date.fromisoformat(text)
        match = _UK.fullmatch(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        pass
    raise ValueError(f"'{text}' is not a date; expected YYYY-MM-DD or DD/MM/YYYY")


def parse_month(text: str) -> Month:
    """A month from a cell or an option: YYYY-MM (ValueError otherwise)."""
    return Month.parse(text)


def month_arg(text: str) -> Month:
    """parse_month for command-line input: a HdsError a user can read."""
    try:
        return parse_month(text)
    except ValueError as exc:
        raise HdsError(str(exc)) from None


def month_of(day: dt.date) -> Month:
    return Month(f"{day.year:04d}-{day.month:02d}")
