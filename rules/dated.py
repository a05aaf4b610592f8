"""Dated parameters: scheme windows and free periods as data, in the style of OpenFisca.

One YAML file per scheme, ``parameters/<scheme>.yaml``. A scheme is what a
finance officer reasons about and what a new round of guidance adds, so
adding a scheme is adding one file (and no Python). Each file names its
scheme and gives its parameters; each parameter has a description, a unit
and its **values keyed by the discharge date from which they apply**, each
value with the guidance or agreement paragraph it comes from::

    scheme: HDS2
    description: Hospital Discharge Scheme 2 (discharges 1 September 2020 to 31 March 2021)
    free_period_days:
      description: Length of the free period; the discharge day is day 1
      unit: day
      values:
        2020-09-01:
          value: 42
          reference: Variation paragraphs 1.5 and 4.1, up to six weeks of free care

A value applies to discharges from its date until the next value's date; a
discharge before a parameter's first date has no value for it. ``value:
null`` ends an optional parameter from that date. The known parameters and
their units are in ``PARAMETERS``: the window (``first_discharge``,
``last_discharge``, required) and the free period (``free_period_days``,
``free_period_ends_on``, at least one in force for every discharge the
scheme covers; with both, the free period ends at whichever comes first).

``derive_scheme`` turns a file into an ``hds.schemes.Scheme``: the dates on
which any value changes cut the scheme's window into terms, each with the
free period then in force. Every error names the file and the line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from hds.schemes import Scheme, Term
from rules.language import RulebookError


class ParameterError(RulebookError):
    """A parameter file that cannot be used; names the file and line."""


MAX_DAYS = 3_650  # the longest number of days a parameter may give (ten years; the schemes ran two)


@dataclass(frozen=True)
class Kind:
    unit: str
    required: bool
    meaning: str


PARAMETERS: dict[str, Kind] = {
    "first_discharge": Kind("date", True, "the first discharge date the scheme covers"),
    "last_discharge": Kind("date", True, "the last discharge date the scheme covers"),
    "free_period_days": Kind("day", False, "the length of the free period in days, the discharge day being day 1"),
    "free_period_ends_on": Kind("date", False, "a fixed last free day, whatever the discharge date"),
}
FILE_KEYS = ("scheme", "description")
SCHEME_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
RESERVED = {"common"}


@dataclass(frozen=True)
class DatedValue:
    applies_from: dt.date  # the first discharge date it applies to
    value: object  # int (unit day), date (unit date) or None (no longer in force)
    reference: str
    line: int


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    unit: str
    values: tuple[DatedValue, ...]  # by applies_from
    path: str
    line: int

    def at(self, discharge: dt.date):
        """The value in force for a discharge on this date (None before the first value)."""
        found = None
        for dated in self.values:
            if dated.applies_from > discharge:
                break
            found = dated.value
        return found

    @property
    def value(self) -> str:
        """The values as text, for display: '42', or '42 from 2020-09-01; 28 from 2020-12-01'."""
        if len(self.values) == 1:
            return _text(self.values[0].value)
        return "; ".join(f"{_text(v.value)} from {v.applies_from}" for v in self.values)

    @property
    def source(self) -> str:
        if len(self.values) == 1:
            return self.values[0].reference
        return "; ".join(f"from {v.applies_from}: {v.reference}" for v in self.values)


@dataclass(frozen=True)
class SchemeParameters:
    """One parameter file: a scheme's name, description and parameters."""

    scheme: str
    description: str
    parameters: dict[str, Parameter]
    path: str
    line: int  # of the scheme's name


def _text(value) -> str:
    return "none" if value is None else str(value)


def read_parameters(path: Path | str, text: str) -> SchemeParameters:
    """Parse and check one parameter file (its text; `path` names it in errors)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when PyYAML has it: faster
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParameterError(path, mark.line + 1 if mark else 1, f"not valid YAML: {exc}") from None
    try:
        return _Reader(path, loader).file(root)
    finally:
        loader.dispose()


class _Reader:
    def __init__(self, path, loader: yaml.SafeLoader):
        self.path, self.loader = str(path), loader

    def fail(self, node, message):
        raise ParameterError(self.path, node.start_mark.line + 1 if node is not None else 1, message)

    def scalar(self, node):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, "expected a single value here")
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.fail(node, f"cannot read this value ({exc.problem if hasattr(exc, 'problem') else exc})")

    def text(self, node, what) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            self.fail(node, f"{what} must be some text")
        return " ".join(value.split())

    def mapping(self, node, what) -> list[tuple[object, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping of keys to values")
        entries, seen = [], {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if key in seen:
                self.fail(key_node, f"{what} has '{key}' twice (first at line {seen[key]})")
            seen[key] = key_node.start_mark.line + 1
            entries.append((key, key_node, value_node))
        return entries

    def file(self, root) -> SchemeParameters:
        if root is None:
            self.fail(None, "the file is empty; expected scheme, description and the scheme's parameters")
        entries = self.mapping(root, "a parameter file")
        found = {key: (key_node, value_node) for key, key_node, value_node in entries}
        for key, key_node, _ in entries:
            if key not in FILE_KEYS and key not in PARAMETERS:
                self.fail(key_node, f"unknown key '{key}'; expected {', '.join(FILE_KEYS)} or a parameter: "
                                    f"{', '.join(PARAMETERS)}")
        for key in FILE_KEYS:
            if key not in found:
                self.fail(root, f"the file needs '{key}'")
        name_node = found["scheme"][1]
        name = self.scalar(name_node)
        if not isinstance(name, str) or not SCHEME_NAME.fullmatch(name) or name.lower() in RESERVED:
            self.fail(name_node, f"'{name}' is not a scheme name: one word of letters, digits, '-' or '_', "
                                 "starting with a letter, and not 'common'")
        description = self.text(found["description"][1], "description")
        parameters = {key: self.parameter(key, key_node, value_node)
                      for key, key_node, value_node in entries if key in PARAMETERS}
        for key, kind in PARAMETERS.items():
            if kind.required and key not in parameters:
                self.fail(root, f"scheme {name} needs parameter {key} ({kind.meaning})")
        if "free_period_days" not in parameters and "free_period_ends_on" not in parameters:
            self.fail(root, f"scheme {name} needs free_period_days or free_period_ends_on (or both)")
        return SchemeParameters(name, description, parameters, self.path, name_node.start_mark.line + 1)

    def parameter(self, name: str, key_node, node) -> Parameter:
        kind = PARAMETERS[name]
        listed = self.mapping(node, f"parameter {name}")
        for key, inner_key, _ in listed:
            if key not in ("description", "unit", "values"):
                self.fail(inner_key, f"unknown key '{key}' in parameter {name}; expected description, unit, values")
        entries = {key: value for key, _, value in listed}
        for key in ("description", "unit", "values"):
            if key not in entries:
                self.fail(node, f"parameter {name} needs '{key}'")
        description = self.text(entries["description"], f"the description of {name}")
        unit = self.scalar(entries["unit"])
        if unit != kind.unit:
            self.fail(entries["unit"], f"the unit of {name} is '{kind.unit}', not '{unit}'")
        values = []
        for applies_from, date_node, value_node in self.mapping(entries["values"], f"the values of {name}"):
            if not isinstance(applies_from, dt.date) or isinstance(applies_from, dt.datetime):
                self.fail(date_node, f"'{applies_from}' is not a date: key each value of {name} by the discharge "
                                     "date from which it applies, as YYYY-MM-DD")
            values.append(self.dated(name, kind, applies_from, value_node))
        if not values:
            self.fail(entries["values"], f"parameter {name} has no values")
        values.sort(key=lambda v: v.applies_from)
        return Parameter(name, description, unit, tuple(values), self.path, key_node.start_mark.line + 1)

    def dated(self, name: str, kind: Kind, applies_from: dt.date, node) -> DatedValue:
        entries = {key: value for key, _, value in self.mapping(node, f"the value of {name} from {applies_from}")}
        unknown = set(entries) - {"value", "reference"}
        if unknown:
            self.fail(node, f"unknown key '{sorted(unknown)[0]}' in the value of {name} from {applies_from}; "
                            "expected value and reference")
        for key in ("value", "reference"):
            if key not in entries:
                self.fail(node, f"the value of {name} from {applies_from} needs '{key}'")
        value = self.scalar(entries["value"])
        line = entries["value"].start_mark.line + 1
        if value is None:
            if kind.required:
                self.fail(entries["value"], f"{name} cannot be ended with null: a scheme always has a window")
        elif kind.unit == "date":
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                self.fail(entries["value"], f"'{value}' is not a date (YYYY-MM-DD) for {name}")
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
            self.fail(entries["value"], f"'{value}' is not a number of days (a whole number from 1 to {MAX_DAYS:,}) "
                                        f"for {name}")
        reference = self.text(entries["reference"], f"the reference of {name} from {applies_from}")
        return DatedValue(applies_from, value, reference, line)


def derive_scheme(sp: SchemeParameters) -> Scheme:
    """The scheme a parameter file describes: its window cut into terms at each date a value changes."""
    p = sp.parameters
    for dated in p["first_discharge"].values:
        if dated.value < dated.applies_from:
            raise ParameterError(sp.path, dated.line, (
                f"first_discharge {dated.value} applies only from {dated.applies_from}, so discharges from "
                f"{dated.value} to the day before would not be covered: key it by {dated.value} or earlier"))
    changes = sorted({v.applies_from for parameter in p.values() for v in parameter.values})
    terms: list[Term] = []
    for i, start in enumerate(changes):
        end = changes[i + 1] - dt.timedelta(days=1) if i + 1 < len(changes) else dt.date.max
        first, last = p["first_discharge"].at(start), p["last_discharge"].at(start)
        if first is not None and last is None and end >= first:
            dated = next(v for v in reversed(p["first_discharge"].values) if v.applies_from <= start)
            raise ParameterError(sp.path, dated.line, (
                f"last_discharge has no value for discharges from {max(start, first)}, which first_discharge "
                f"{first} says the scheme covers: key a last_discharge value by {max(start, first)} or earlier"))
        if first is None or last is None:
            continue
        lo, hi = max(start, first), min(end, last)
        if lo > hi:
            continue
        days = p["free_period_days"].at(start) if "free_period_days" in p else None
        ends = p["free_period_ends_on"].at(start) if "free_period_ends_on" in p else None
        if days is None and ends is None:
            raise ParameterError(sp.path, sp.line, f"scheme {sp.scheme} has no free period in force for discharges "
                                                   f"from {lo}: give free_period_days or free_period_ends_on a value "
                                                   "that applies from then")
        if ends is not None and ends < hi:
            dated = next(v for v in reversed(p["free_period_ends_on"].values) if v.applies_from <= start)
            raise ParameterError(sp.path, dated.line, f"free_period_ends_on {ends} is before discharge dates it "
                                                      f"applies to (up to {hi}): no day of their care would be free")
        term = Term(lo, hi, days, ends)
        previous = terms[-1] if terms else None
        if previous and previous.last_discharge + dt.timedelta(days=1) == lo and \
                (previous.free_period_days, previous.free_period_ends_on) == (days, ends):
            terms[-1] = Term(previous.first_discharge, hi, days, ends)
        else:
            terms.append(term)
    if not terms:
        raise ParameterError(sp.path, sp.line, f"scheme {sp.scheme} covers no discharge date: its last_discharge is "
                                               "before its first_discharge wherever both apply")
    return Scheme(sp.scheme, tuple(terms), sp.description)


def check_windows(schemes: list[Scheme], files: dict[str, SchemeParameters]) -> None:
    """Two schemes may not cover the same discharge date."""
    spans = sorted(((t.first_discharge, t.last_discharge, s.name) for s in schemes for t in s.terms))
    for (_, before_last, before), (after_first, _, after) in zip(spans, spans[1:]):
        if after_first <= before_last and before != after:
            sp = files[after]
            raise ParameterError(sp.path, sp.parameters["first_discharge"].line, (
                f"scheme {after} overlaps scheme {before} (in {files[before].path}): both cover discharges on "
                f"{after_first}; a discharge date belongs to one scheme at most"))
