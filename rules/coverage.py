"""Rule and paragraph coverage of an allocation table: the days and money each rule decided.

Input: an allocation table (``hds.table.Table`` with at least the columns
``rule``, ``days`` and ``amount_pence``, as ``claims.allocate`` makes it)
and the rule library. A row's ``rule`` cell names the rule that decided its
days, or several joined with ``+`` when more than one rule decided days of
the same (episode, month, funder).

How days and money are attributed:

- **days / amount**: a row counts in full for *each* rule its cell names.
  A rule's figures are therefore "the rows this rule took part in", and the
  figures of all rules can add up to more than the table's total when some
  cells name several rules;
- **sole days / sole amount**: the rows a rule decided alone. These add up,
  over all rules, to the table's total less the rows with a ``+`` cell;
- **paragraphs**: a row counts in full, once, for each paragraph cited by
  any rule of its cell (a row whose two rules both cite 4.13 counts once
  for 4.13).

Rule ids an older library gave (``renamed.yaml``) are counted under the
current id. An id that is no rule of the library (a block cost's
``block-cost`` row, say) is listed with the paragraphs given for it in
`other_rules`, or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from hds.money import pounds
from hds.table import Table


@dataclass(frozen=True)
class RuleCoverage:
    rule: str  # the current id
    cites: tuple[str, ...]
    funder: str  # "" for an id that is no rule of the library
    in_library: bool
    rows: int
    days: int
    amount_pence: int
    sole_days: int
    sole_amount_pence: int
    renamed_from: tuple[str, ...] = ()  # old ids of the table counted under this one


@dataclass(frozen=True)
class ParagraphCoverage:
    paragraph: str
    rules: tuple[str, ...]  # the rules of the library citing it
    rows: int
    days: int
    amount_pence: int


@dataclass(frozen=True)
class Coverage:
    rules: tuple[RuleCoverage, ...]  # every rule of the library in rulebook order, then other ids
    paragraphs: tuple[ParagraphCoverage, ...]  # every paragraph cited, in paragraph order
    rows: int
    days: int
    amount_pence: int

    def rule(self, rule_id: str) -> RuleCoverage:
        return next(r for r in self.rules if r.rule == rule_id)

    def paragraph(self, number: str) -> ParagraphCoverage:
        return next(p for p in self.paragraphs if p.paragraph == number)

    @property
    def unused(self) -> tuple[str, ...]:
        """Rules of the library that decided no day of the table."""
        return tuple(r.rule for r in self.rules if r.in_library and r.rows == 0)

    def to_dict(self) -> dict:
        """JSON-able: money as decimal strings of pounds."""
        return {
            "total": {"rows": self.rows, "days": self.days, "amount": str(pounds(self.amount_pence))},
            "rules": [{"rule": r.rule, "cites": list(r.cites), "funder": r.funder, "in_library": r.in_library,
                       "rows": r.rows, "days": r.days, "amount": str(pounds(r.amount_pence)),
                       "sole_days": r.sole_days, "sole_amount": str(pounds(r.sole_amount_pence)),
                       "renamed_from": list(r.renamed_from)} for r in self.rules],
            "paragraphs": [{"paragraph": p.paragraph, "rules": list(p.rules), "rows": p.rows, "days": p.days,
                            "amount": str(pounds(p.amount_pence))} for p in self.paragraphs],
            "unused": list(self.unused),
        }


def paragraph_order(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def coverage(table: Table, library, other_rules: Mapping[str, Sequence[str]] | None = None) -> Coverage:
    """Days and money decided by each rule and each paragraph of `library` in an allocation table."""
    other_rules = dict(other_rules or {})
    cells, days, pence, rows = _by_cell(table)
    rules = {rule.id: rule for rule in library.all_rules()}
    figures: dict[str, list[int]] = {rid: [0, 0, 0, 0, 0] for rid in rules}  # rows, days, pence, sole days, pence
    cites: dict[str, tuple[str, ...]] = {rid: rule.cites for rid, rule in rules.items()}
    renamed: dict[str, list[str]] = {}
    by_paragraph: dict[str, list[int]] = {}
    for cell, d, p, n in zip(cells, days, pence, rows):
        ids = []
        for part in cell.split("+") if cell else [""]:
            current = library.current_id(part)
            if current != part:
                renamed.setdefault(current, [])
                if part not in renamed[current]:
                    renamed[current].append(part)
            if current not in figures:
                figures[current] = [0, 0, 0, 0, 0]
                cites[current] = tuple(other_rules.get(current, ()))
            if current not in ids:
                ids.append(current)
        for rid in ids:
            f = figures[rid]
            f[0] += n
            f[1] += d
            f[2] += p
            if len(ids) == 1:
                f[3] += d
                f[4] += p
        for paragraph in dict.fromkeys(c for rid in ids for c in cites[rid]):
            f = by_paragraph.setdefault(paragraph, [0, 0, 0])
            f[0] += n
            f[1] += d
            f[2] += p
    rule_rows = tuple(
        RuleCoverage(rid, cites[rid], rules[rid].funder if rid in rules else "", rid in rules, *figures[rid],
                     tuple(renamed.get(rid, ())))
        for rid in figures)
    citing: dict[str, list[str]] = {}
    for rid, rule in rules.items():
        for c in rule.cites:
            citing.setdefault(c, []).append(rid)
    for rid, numbers in other_rules.items():
        for c in numbers:
            citing.setdefault(c, [])
    paragraphs = tuple(
        ParagraphCoverage(c, tuple(citing.get(c, ())), *by_paragraph.get(c, [0, 0, 0]))
        for c in sorted(set(citing) | set(by_paragraph), key=paragraph_order))
    return Coverage(rule_rows, paragraphs, sum(rows), sum(days), sum(pence))


def _by_cell(table: Table) -> tuple[list[str], list[int], list[int], list[int]]:
    """Distinct rule cells with their days, pence and row counts (integers throughout, Python ints out)."""
    if not len(table):
        return [], [], [], []
    cells = np.asarray(table["rule"], dtype=object)
    keys, inverse = np.unique(cells.astype(str), return_inverse=True)
    days = np.zeros(len(keys), dtype=np.int64)
    pence = np.zeros(len(keys), dtype=np.int64)
    rows = np.zeros(len(keys), dtype=np.int64)
    np.add.at(days, inverse, np.asarray(table["days"], dtype=np.int64))
    np.add.at(pence, inverse, np.asarray(table["amount_pence"], dtype=np.int64))
    np.add.at(rows, inverse, 1)
    return keys.tolist(), days.tolist(), pence.tolist(), rows.tolist()


def unfired(library, fired: set[str] | Sequence[str]) -> list[str]:
    """Rules of the library (by current id) not among `fired` (ids, old ones resolved)."""
    fired = {library.current_id(rid) for rid in fired}
    return [rule.id for rule in library.all_rules() if rule.id not in fired]
