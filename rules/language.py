"""Parse rulebook files.

A rulebook is plain text a commissioner can read. Statements start at the
left margin; their attributes are indented beneath them; ``#`` starts a
comment. Example::

    scheme HDS2
    parameter free_period_days 42
      source variation 1.5 and 4.1
    include common.rules

    rule free-period
      cites 1.5, 4.4
      when free_care_continues
      funder hds
      reason New care is free from the discharge day until the free period ends.

Conditions combine fact names (see ``hds.facts``) with ``and``, ``or``,
``not`` and parentheses; ``always`` matches every segment.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from hds.errors import HdsError
from hds.facts import FACTS, FUNDERS


class RulebookError(HdsError):
    """A rulebook that cannot be used; names the file and line."""

    def __init__(self, path: Path | str, line: int, message: str):
        self.path, self.line = str(path), line
        super().__init__(f"{path} line {line}: {message}")


# A condition is a small tree: ("fact", name) | ("not", c) | ("and", [c...])
# | ("or", [c...]) | ("always",)
Condition = tuple


@dataclass(frozen=True)
class Rule:
    id: str
    cites: tuple[str, ...]
    condition: Condition
    when: str  # the condition as written, for display
    funder: str
    reason: str
    path: str
    line: int


@dataclass(frozen=True)
class Parameter:
    name: str
    value: object
    source: str
    path: str
    line: int


@dataclass
class Rulebook:
    name: str
    path: str
    title: str = ""
    parameters: dict[str, Parameter] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


RULE_ATTRIBUTES = ("cites", "when", "funder", "reason")
PARAMETER_TYPES = {
    "first_discharge": "date",
    "last_discharge": "date",
    "free_period_days": "int",
    "free_period_ends_on": "date",
}


def parse_rulebook(path: Path | str) -> Rulebook:
    path = Path(path)
    book = Rulebook(name=path.stem, path=str(path))
    _parse_into(book, path, seen=set(), top=True)
    _check_ids(book)
    return book


def _parse_into(book: Rulebook, path: Path, seen: set[Path], top: bool = False) -> None:
    """Read one file into `book`; an included file adds its rules and
    parameters, while its own scheme and title lines name only itself."""
    resolved = path.resolve()
    if resolved in seen:
        raise RulebookError(path, 1, "this file includes itself")
    seen = seen | {resolved}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulebookError(path, 1, f"cannot read rulebook ({exc.strerror})") from exc
    for head, attributes in _statements(path, text):
        lineno, keyword, rest = head
        if keyword == "scheme":
            name = _one_word(path, lineno, keyword, rest)
            book.name = name if top else book.name
        elif keyword == "title":
            book.title = rest if top else book.title
        elif keyword == "parameter":
            parameter = _parameter(path, lineno, rest, attributes)
            book.parameters[parameter.name] = parameter
        elif keyword == "include":
            _parse_into(book, path.parent / _one_word(path, lineno, keyword, rest), seen)
        elif keyword == "rule":
            book.rules.append(_rule(path, lineno, rest, attributes))
        else:
            raise RulebookError(
                path, lineno, f"unknown statement '{keyword}'; expected scheme, title, parameter, include or rule"
            )


def _statements(path: Path, text: str):
    """Group lines into (head, attributes): a head at the margin, attributes indented."""
    statement = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        entry = (lineno, keyword, rest.strip())
        if line[0] in " \t":
            if statement is None:
                raise RulebookError(path, lineno, "indented line outside any statement")
            statement[1].append(entry)
        else:
            if statement is not None:
                yield statement
            statement = (entry, [])
    if statement is not None:
        yield statement


def _one_word(path, lineno, keyword, rest) -> str:
    if not rest or " " in rest:
        raise RulebookError(path, lineno, f"'{keyword}' takes exactly one word")
    return rest


def _parameter(path: Path, lineno: int, rest: str, attributes) -> Parameter:
    parts = rest.split()
    if len(parts) != 2:
        raise RulebookError(path, lineno, "write a parameter as: parameter NAME VALUE")
    name, raw = parts
    if name not in PARAMETER_TYPES:
        raise RulebookError(path, lineno, f"unknown parameter '{name}'; known: {', '.join(PARAMETER_TYPES)}")
    try:
        if PARAMETER_TYPES[name] == "date":
            value = dt.date.fromisoformat(raw)
        else:
            value = int(raw)
    except ValueError:
        raise RulebookError(path, lineno, f"'{raw}' is not a valid {PARAMETER_TYPES[name]} for {name}") from None
    source = ""
    for attr_line, key, text in attributes:
        if key != "source":
            raise RulebookError(path, attr_line, f"a parameter takes only 'source', not '{key}'")
        source = text
    if not source:
        raise RulebookError(path, lineno, f"parameter {name} needs a 'source' line saying where the value comes from")
    return Parameter(name, value, source, str(path), lineno)


def _rule(path: Path, lineno: int, rest: str, attributes) -> Rule:
    rule_id = _one_word(path, lineno, "rule", rest)
    found: dict[str, tuple[int, str]] = {}
    for attr_line, key, text in attributes:
        if key not in RULE_ATTRIBUTES:
            raise RulebookError(path, attr_line, f"unknown rule attribute '{key}'; expected {', '.join(RULE_ATTRIBUTES)}")
        if key in found:
            raise RulebookError(path, attr_line, f"rule {rule_id} has '{key}' twice")
        if not text:
            raise RulebookError(path, attr_line, f"'{key}' of rule {rule_id} is empty")
        found[key] = (attr_line, text)
    missing = [key for key in RULE_ATTRIBUTES if key not in found]
    if missing:
        raise RulebookError(path, lineno, f"rule {rule_id} is missing {', '.join(missing)}")
    funder_line, funder = found["funder"]
    if funder not in FUNDERS:
        raise RulebookError(path, funder_line, f"unknown funder '{funder}'; expected one of {', '.join(FUNDERS)}")
    cites = tuple(c.strip() for c in found["cites"][1].split(","))
    for cite in cites:
        if not re.fullmatch(r"\d+(\.\d+)*", cite):
            raise RulebookError(path, found["cites"][0], f"'{cite}' is not a paragraph number such as 4.13")
    when_line, when = found["when"]
    condition = parse_condition(when, path, when_line)
    return Rule(rule_id, cites, condition, when, funder, found["reason"][1], str(path), lineno)


def _check_ids(book: Rulebook) -> None:
    seen: dict[str, Rule] = {}
    for rule in book.rules:
        if rule.id in seen:
            first = seen[rule.id]
            raise RulebookError(rule.path, rule.line, f"rule id {rule.id} is already used at {first.path} line {first.line}")
        seen[rule.id] = rule


_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S)")


def parse_condition(text: str, path: Path | str = "<condition>", line: int = 1) -> Condition:
    tokens = _TOKEN.findall(text)
    parser = _ConditionParser(tokens, path, line)
    condition = parser.disjunction()
    if parser.position != len(tokens):
        parser.fail(f"unexpected '{tokens[parser.position]}'")
    return condition


class _ConditionParser:
    def __init__(self, tokens, path, line):
        self.tokens, self.position, self.path, self.line = tokens, 0, path, line

    def fail(self, message):
        raise RulebookError(self.path, self.line, f"in condition: {message}")

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self):
        token = self.peek()
        if token is None:
            self.fail("the condition ends too early")
        self.position += 1
        return token

    def disjunction(self):
        parts = [self.conjunction()]
        while self.peek() == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction(self):
        parts = [self.negation()]
        while self.peek() == "and":
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def negation(self):
        if self.peek() == "not":
            self.take()
            return ("not", self.negation())
        return self.atom()

    def atom(self):
        token = self.take()
        if token == "(":
            inner = self.disjunction()
            if self.take() != ")":
                self.fail("missing ')'")
            return inner
        if token == "always":
            return ("always",)
        if token in FACTS:
            return ("fact", token)
        if re.fullmatch(r"[A-Za-z_]\w*", token):
            self.fail(f"unknown fact '{token}'; known facts: {', '.join(FACTS)}")
        self.fail(f"unexpected '{token}'")
