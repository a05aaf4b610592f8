"""The shipped rulebooks, loaded together: one per scheme plus the common one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from hds.schemes import Scheme
from rules import RULEBOOK_DIR
from rules.check import check_rulebook
from rules.language import Rulebook, RulebookError, parse_rulebook

COMMON = "common"


@dataclass
class RuleLibrary:
    books: dict[str, Rulebook]  # by scheme name, plus "common"
    schemes: list[Scheme]
    version: str  # SHA-256 of the rule files, to record what decided a claim

    def rulebook_for(self, scheme: Scheme | None) -> Rulebook:
        return self.books[scheme.name if scheme else COMMON]

    def scheme_for(self, discharge_date) -> Scheme | None:
        return next((s for s in self.schemes if s.covers(discharge_date)), None)


def load_library(directory: Path | str = RULEBOOK_DIR) -> RuleLibrary:
    directory = Path(directory)
    files = sorted(directory.glob("*.rules"))
    if not files:
        raise RulebookError(directory, 1, "no *.rules files in this folder")
    books: dict[str, Rulebook] = {}
    for path in files:
        book = parse_rulebook(path)
        check_rulebook(book)
        if book.name in books:
            raise RulebookError(path, 1, f"scheme {book.name} is already defined in {books[book.name].path}")
        books[book.name] = book
    if COMMON not in books:
        raise RulebookError(directory, 1, "a rulebook with 'scheme common' is needed for discharges outside all schemes")
    schemes = [scheme_from_rulebook(b) for name, b in books.items() if name != COMMON]
    check_windows(schemes, {name: b.path for name, b in books.items()})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return RuleLibrary(books, sorted(schemes, key=lambda s: s.first_discharge), digest.hexdigest())


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


def check_windows(schemes: list[Scheme], paths: dict[str, str]) -> None:
    """Two schemes may not claim the same discharge date."""
    ordered = sorted(schemes, key=lambda s: s.first_discharge)
    for before, after in zip(ordered, ordered[1:]):
        if after.first_discharge <= before.last_discharge:
            raise RulebookError(
                paths[after.name], 1, f"scheme {after.name} overlaps scheme {before.name} (discharge windows)"
            )
