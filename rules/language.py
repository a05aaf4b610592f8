"""Parse rulebook files.

A rulebook is plain text a commissioner can read. Statements start at the
left margin; their attributes are indented beneath them; ``#`` starts a
comment. Example::

    scheme common
    title Rules common to every scheme

    # 1.5 and 4.4: new care after a discharge is free from the discharge day
    # until the free period ends, unless something ends it sooner.
    rule free-period
      cites 1.5, 4.4
      when free_care_continues
      funder hds
      reason New care is free from the discharge day until the free period ends.

The block of comment lines directly above a rule (no blank line between) is
the rule's **explanation**: the requirement of the agreement it carries out,
in plain words. It is kept with the rule (``Rule.explains``) for the
documentation and the trace, so the rulebook reads as the policy.

Conditions combine fact names (see ``hds.facts``) with ``and``, ``or``,
``not`` and parentheses; ``always`` matches every segment.

Parameters (scheme windows, free-period lengths) are not written in
rulebooks: they are dated data, ``parameters/*.yaml`` (see ``rules.dated``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hds.errors import HdsError
from hds.facts import FACTS, FUNDERS


class RulebookError(HdsError):
    """A rulebook or parameter file that cannot be used; names the file and line."""

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
    explains: str = ""  # the comment block above the rule: the policy it carries out, in plain words


@dataclass
class Rulebook:
    name: str
    path: str
    title: str = ""
    parameters: dict = field(default_factory=dict)  # name -> rules.dated.Parameter, filled in by rules.library
    rules: list[Rule] = field(default_factory=list)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


RULE_ATTRIBUTES = ("cites", "when", "funder", "reason")


def read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulebookError(path, 1, f"cannot read rulebook ({exc.strerror})") from exc


def parse_rulebook(path: Path | str, read: Callable[[Path], str] = read_file) -> Rulebook:
    """Parse a rulebook file and the files it includes; `read` gives a file's text (by default from disk,
    ``rules.library`` passes one that reads a snapshot)."""
    path = Path(path)
    book = Rulebook(name=path.stem, path=str(path))
    _parse_into(book, path, read, seen=set(), top=True)
    _check_ids(book)
    return book


def _parse_into(book: Rulebook, path: Path, read: Callable[[Path], str], seen: set[str], top: bool = False) -> None:
    """Read one file into `book`; an included file adds its rules, while its
    own scheme and title lines name only itself."""
    key = _normal_path(path)
    if key in seen:
        raise RulebookError(path, 1, "this file includes itself")
    seen = seen | {key}
    text = read(path)
    for head, attributes, comment in _statements(path, text):
        lineno, keyword, rest = head
        if keyword == "scheme":
            name = _one_word(path, lineno, keyword, rest)
            book.name = name if top else book.name
        elif keyword == "title":
            book.title = rest if top else book.title
        elif keyword == "parameter":
            raise RulebookError(path, lineno, "parameters are dated data now, not rulebook statements: give them "
                                              "in parameters/<scheme>.yaml with the date from which each value applies")
        elif keyword == "include":
            _parse_into(book, path.parent / _one_word(path, lineno, keyword, rest), read, seen)
        elif keyword == "rule":
            book.rules.append(_rule(path, lineno, rest, attributes, comment))
        else:
            raise RulebookError(path, lineno, f"unknown statement '{keyword}'; expected scheme, title, include or rule")


def _normal_path(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path)


def _statements(path: Path, text: str):
    """Group lines into (head, attributes, comment): a head at the margin, its attributes
    indented, and the comment block directly above the head."""
    statement = None
    comment: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") and raw[:1] == "#":
            comment.append(stripped[1:].strip())
            continue
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            if not stripped:
                comment = []  # a blank line parts a comment from what follows
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
            statement = (entry, [], _paragraphs(comment))
        comment = []
    if statement is not None:
        yield statement


def _paragraphs(lines: list[str]) -> str:
    """Comment lines as text: lines joined with spaces, an empty comment line starting a new paragraph."""
    paragraphs, current = [], []
    for line in lines + [""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)


def _one_word(path, lineno, keyword, rest) -> str:
    if not rest or " " in rest:
        raise RulebookError(path, lineno, f"'{keyword}' takes exactly one word")
    return rest


def _rule(path: Path, lineno: int, rest: str, attributes, explains: str = "") -> Rule:
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
    return Rule(rule_id, cites, condition, when, funder, found["reason"][1], str(path), lineno, explains)


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
