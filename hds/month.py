"""A calendar month, the unit of claiming.

People, the data and the store write a month as 'YYYY-MM'; inside hds a
month is a `Month`: that text (so it keys dictionaries and matches the
`claim_month` columns the store keeps as text) together with its
arithmetic, so that no module converts months by hand. It is made from
text once, at the edge (a command's option, a cell, a stored row), and
from then on asked for what it means:

    >>> m = Month.parse("2020-10")
    >>> m.next(), m.days_in, m.last_day - m.first_day
    (Month('2020-11'), 31, 30)

Month numbers (months since 1970-01) and day numbers (days since
1970-01-01) are the columnar core's forms, as in ``hds.days``.
"""

from __future__ import annotations

import re

from hds.days import month_end, month_index, month_name, month_number, month_start

_TEXT = re.compile(r"(\d{4})-(\d{2})")


class Month(str):
    """A month: its 'YYYY-MM' text with what it means in days and months."""

    __slots__ = ()

    def __new__(cls, value: "str | int | Month") -> "Month":
        if isinstance(value, Month):
            return value
        if isinstance(value, int):
            return super().__new__(cls, month_name(value))
        match = _TEXT.fullmatch(str(value).strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"'{value}' is not a month; expected YYYY-MM, e.g. 2020-10")
        return super().__new__(cls, match.group(0))

    @classmethod
    def parse(cls, text: str) -> "Month":
        """A month from text at the edge (an option, a cell): 'YYYY-MM', else ValueError."""
        return cls(text)

    @classmethod
    def of_day(cls, day: int) -> "Month":
        """The month a day number falls in."""
        return cls(month_index(int(day)))

    @classmethod
    def span(cls, first: "Month", last: "Month") -> list["Month"]:
        """Every month from `first` to `last`, both included."""
        return [cls(n) for n in range(Month(first).number, Month(last).number + 1)]

    @property
    def number(self) -> int:
        """Months since 1970-01, as the columnar core numbers them."""
        return month_number(self)

    @property
    def first_day(self) -> int:
        """Day number of the month's first day."""
        return month_start(self.number)

    @property
    def last_day(self) -> int:
        """Day number of the month's last day."""
        return month_end(self.number)

    @property
    def days(self) -> tuple[int, int]:
        """(first day, last day), as ``source.period`` takes them."""
        return self.first_day, self.last_day

    @property
    def days_in(self) -> int:
        return self.last_day - self.first_day + 1

    def next(self) -> "Month":
        return Month(self.number + 1)

    def previous(self) -> "Month":
        return Month(self.number - 1)

    def __repr__(self) -> str:
        return f"Month('{self}')"
