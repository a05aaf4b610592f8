"""Prove that a rulebook decides every segment, and that every rule can fire.

The facts are yes/no values, so the space of possible segments is finite:
2**n combinations of the n facts. Each condition is turned into its truth
table, held as one big integer whose bit k says whether the condition holds
for combination k. Walking the rules in order, a rule whose table adds no
bit to those already covered can never fire (unreachable); bits left
uncovered at the end are segments no rule decides (a gap). The check is over
every combination, not only those a real timeline produces, so a rulebook
passes only if each of its branches ends with a catch-all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from hds.facts import FACTS
from rules.language import Condition, Rule, Rulebook, RulebookError

FACT_NAMES = tuple(FACTS)
SIZE = 1 << len(FACT_NAMES)
EVERY = (1 << SIZE) - 1


@lru_cache(maxsize=None)
def _fact_table(index: int) -> int:
    """Bit k is set when fact `index` is true in combination k."""
    run = 1 << index  # combinations come in runs of this length
    pattern = ((1 << run) - 1) << run
    width = run * 2
    while width < SIZE:
        pattern |= pattern << width
        width *= 2
    return pattern


def truth_table(condition: Condition) -> int:
    kind = condition[0]
    if kind == "always":
        return EVERY
    if kind == "fact":
        return _fact_table(FACT_NAMES.index(condition[1]))
    if kind == "not":
        return EVERY & ~truth_table(condition[1])
    tables = [truth_table(part) for part in condition[1]]
    result = tables[0]
    for table in tables[1:]:
        result = result & table if kind == "and" else result | table
    return result


def combination(bit: int) -> dict[str, bool]:
    return {name: bool(bit >> i & 1) for i, name in enumerate(FACT_NAMES)}


def describe(facts: dict[str, bool]) -> str:
    true = [name for name, value in facts.items() if value]
    return "facts true: " + (", ".join(true) if true else "none")


@dataclass(frozen=True)
class CheckReport:
    rulebook: str
    rules: int
    combinations: int


def check_rulebook(book: Rulebook) -> CheckReport:
    """Raise RulebookError on the first unreachable rule or on a gap."""
    if not book.rules:
        raise RulebookError(book.path, 1, "the rulebook has no rules")
    covered = 0
    for rule in book.rules:
        table = truth_table(rule.condition)
        if table & ~covered == 0:
            raise RulebookError(rule.path, rule.line, _unreachable_message(book, rule, table))
        covered |= table
    gap = EVERY & ~covered
    if gap:
        lowest = (gap & -gap).bit_length() - 1
        last = book.rules[-1]
        raise RulebookError(
            last.path,
            last.line,
            f"gap in rulebook {book.name}: no rule decides a segment with {describe(combination(lowest))}. "
            "Add a rule for it, or end the rulebook with a catch-all rule ('when always').",
        )
    return CheckReport(book.name, len(book.rules), SIZE)


def _unreachable_message(book: Rulebook, rule: Rule, table: int) -> str:
    if table == 0:
        return f"rule {rule.id} is unreachable: its condition '{rule.when}' can never hold"
    earlier = [r.id for r in book.rules[: book.rules.index(rule)] if truth_table(r.condition) & table]
    return (
        f"rule {rule.id} is unreachable: every segment it matches is already decided by "
        f"earlier rule(s) {', '.join(earlier)}"
    )


def check_file(path) -> str:
    """Check one file: a rulebook (every combination of facts decided, every rule reachable) or a
    scheme's parameter file (.yaml: every value of its kind and within bounds, the scheme derived);
    what `hds rules check FILE` prints when it is right (RulebookError names the line when not)."""
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        from rules.dated import derive_scheme, read_parameters

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RulebookError(str(path), 1, f"cannot be read ({exc})") from None
        parameters = read_parameters(path, text)
        scheme = derive_scheme(parameters)
        return f"{path}: ok: the parameters of {scheme.name} ({len(parameters.parameters)} of them) are valid"
    from rules.language import parse_rulebook

    report = check_rulebook(parse_rulebook(path))
    return f"{path}: ok: {report.rules} rules decide all {report.combinations:,} combinations of facts, each rule reachable"
