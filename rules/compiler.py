"""Compile a checked rulebook into a durable-rules ruleset definition.

First-match-wins order is not something durable-rules offers, so each rule is
compiled to its own condition AND NOT every earlier rule's condition. The
compiled conditions are then mutually exclusive and exactly one rule fires
per segment, whatever order the engine tries them in. Negations are pushed
down to the facts (every fact is posted as true or false), so the engine
only ever tests a field for equality with a constant: no cross-fact
comparison, no date, nothing that trips the engine's known faults.
"""

from __future__ import annotations

from rules.check import check_rulebook
from rules.language import Condition, Rulebook

UNMATCHED = "__unmatched__"
TRUE, FALSE = ("always",), ("never",)


def compile_rulebook(book: Rulebook) -> dict:
    """A durable-rules definition: {rule id: {"all": [{"m": ...}]}} without actions."""
    check_rulebook(book)
    definition = {}
    earlier: list[Condition] = []
    for rule in book.rules:
        exclusive = ("and", [rule.condition] + [("not", c) for c in earlier])
        definition[rule.id] = {"all": [{"m": _to_json(_normal(exclusive, True))}]}
        earlier.append(rule.condition)
    leftover = _normal(("and", [("not", c) for c in earlier]), True)
    if leftover != FALSE:
        definition[UNMATCHED] = {"all": [{"m": _to_json(leftover)}]}
    return definition


def _normal(condition: Condition, positive: bool) -> Condition:
    """Negation normal form, with constants folded away."""
    kind = condition[0]
    if kind == "always":
        return TRUE if positive else FALSE
    if kind == "never":
        return FALSE if positive else TRUE
    if kind == "fact":
        return ("is", condition[1], positive)
    if kind == "not":
        return _normal(condition[1], not positive)
    is_and = (kind == "and") == positive
    parts = [_normal(part, positive) for part in condition[1]]
    absorbing, neutral = (FALSE, TRUE) if is_and else (TRUE, FALSE)
    if absorbing in parts:
        return absorbing
    parts = [p for p in parts if p != neutral]
    if not parts:
        return neutral
    if len(parts) == 1:
        return parts[0]
    return ("and" if is_and else "or", parts)


def _to_json(condition: Condition) -> dict:
    """Every posted segment carries kind=segment, which makes TRUE expressible."""
    segment = {"kind": "segment"}
    if condition == TRUE:
        return segment
    return {"$and": [segment, _json_part(condition)]}


def _json_part(condition: Condition) -> dict:
    kind = condition[0]
    if kind == "is":
        return {condition[1]: condition[2]}
    key = "$and" if kind == "and" else "$or"
    return {key: [_json_part(part) for part in condition[1]]}
