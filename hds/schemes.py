"""Schemes: which window a discharge falls in, and when its free period ends.

Windows and free-period lengths are parameters of the rulebooks, read from
the rule files; nothing here hard-codes a scheme date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pendulum

from rules.language import Rulebook, RulebookError


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


def scheme_from_rulebook(book: Rulebook) -> Scheme:
    params = {name: p.value for name, p in book.parameters.items()}
    for needed in ("first_discharge", "last_discharge"):
        if needed not in params:
            raise RulebookError(book.path, 1, f"scheme {book.name} needs parameter {needed}")
    lengths = [name for name in ("free_period_days", "free_period_ends_on") if name in params]
    if len(lengths) != 1:
        raise RulebookError(
            book.path, 1, f"scheme {book.name} needs exactly one of free_period_days and free_period_ends_on"
        )
    if params["last_discharge"] < params["first_discharge"]:
        line = book.parameters["last_discharge"].line
        raise RulebookError(book.path, line, "last_discharge is before first_discharge")
    return Scheme(
        book.name,
        params["first_discharge"],
        params["last_discharge"],
        params.get("free_period_days"),
        params.get("free_period_ends_on"),
    )


def scheme_for(discharge: dt.date, schemes: list[Scheme]) -> Scheme | None:
    for scheme in schemes:
        if scheme.covers(discharge):
            return scheme
    return None


def check_windows(schemes: list[Scheme], paths: dict[str, str]) -> None:
    """Two schemes may not claim the same discharge date."""
    ordered = sorted(schemes, key=lambda s: s.first_discharge)
    for before, after in zip(ordered, ordered[1:]):
        if after.first_discharge <= before.last_discharge:
            raise RulebookError(
                paths[after.name], 1, f"scheme {after.name} overlaps scheme {before.name} (discharge windows)"
            )
