"""The input mapping: how a council's own extract reads as the data contract.

Every council's case and finance systems write the same facts their own way:
other file names, other headings, other labels for the codes, dates such as
05-Oct-2020. ``[input.<table>]`` in hds.toml says, per table of the
contract, which file (a glob in the folder, or a sheet of the workbook) holds
it, how its dates are written, which of its headings is which contract column
and which of its labels is which code:

    [input.episodes]
    file = "Care Packages*.csv"
    date_format = "%d-%b-%Y"
    [input.episodes.columns]                 # contract column = their heading
    episode_id = "Package ID"
    [input.episodes.values.service]          # their label = contract code
    "Residential Care - Older People" = "residential"

This module is all the mapping knows: what it may say (``parse_input``), the
text stored with a load (``InputMapping.text``), finding their headings
(``rename``), turning their labels into codes a column at a time
(``translate``) and reading their dates (``dates_in_format``). Labels match
whatever their case and spacing; a cell that already is a code passes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np

from hds.contract import SPEC, Column
from hds.errors import HdsError, Problem

TABLE_KEYS = ("file", "date_format", "columns", "values")
FLAG_CODES = ("true", "false")
_EXAMPLE_DAY = dt.date(2020, 10, 5)


def fold(label: str) -> str:
    """A label as matched: case and runs of spaces ignored, surrounding spaces trimmed."""
    return " ".join(str(label).split()).casefold()


@dataclass(frozen=True)
class TableInput:
    """The mapping of one table of the contract."""

    table: str
    file: str | None = None  # a glob in the folder, or a sheet name of the workbook
    date_format: str | None = None  # strftime directives
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> their heading
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # contract column -> {their label: code}

    def section(self, part: str = "") -> str:
        return f"[input.{self.table}{'.' + part if part else ''}]"

    def heading(self, column: str) -> str:
        """Their heading for a contract column (the contract's own name when not mapped)."""
        return self.columns.get(column, column)

    def codes(self, column: str) -> dict[str, str]:
        """Their labels of a column, folded, with the code each stands for."""
        return {fold(label): code for label, code in self.values.get(column, {}).items()}

    def reads(self, heading: str) -> bool:
        """Whether a heading of their file is read at all: one the mapping names, or a contract column's
        own name (for the columns it does not map), whatever its case and spaces."""
        named = set(map(fold, self.columns.values())) | {fold(c.name) for c in SPEC[self.table].columns
                                                          if c.name not in self.columns}
        return fold(heading) in named

    def as_dict(self) -> dict:
        return {"file": self.file, "date_format": self.date_format, "columns": dict(sorted(self.columns.items())),
                "values": {c: dict(sorted(v.items())) for c, v in sorted(self.values.items())}}


@dataclass(frozen=True)
class InputMapping:
    """Every ``[input.<table>]`` of hds.toml; `where` names the file for messages."""

    tables: dict[str, TableInput] = field(default_factory=dict)
    where: str = "hds.toml"

    def get(self, table: str) -> TableInput | None:
        return self.tables.get(table)

    def readers(self) -> dict:
        """For each mapped table, which of its headings are read (``TableInput.reads``)."""
        return {name: t.reads for name, t in self.tables.items()}

    def files(self) -> dict[str, str]:
        """The file (glob or sheet) each mapped table names."""
        return {name: t.file for name, t in self.tables.items() if t.file}

    def text(self) -> str | None:
        """The mapping as stored with a load (canonical JSON); None when nothing is mapped."""
        if not self.tables:
            return None
        return json.dumps({name: self.tables[name].as_dict() for name in sorted(self.tables)}, sort_keys=True,
                          separators=(",", ":"))


# --- what hds.toml may say ------------------------------------------------------------------

def parse_input(section, where: str) -> InputMapping:
    """[input] of hds.toml, checked: an unknown table, key or column, a heading used twice, a date
    format that does not read back, and a label mapped to something that is not a code are errors."""
    if not isinstance(section, dict):
        raise HdsError(f"{where}: input must be a section, [input.<table>]")
    tables = {}
    for name, body in section.items():
        if name not in SPEC:
            raise HdsError(f"{where}: unknown section [input.{name}]; the tables are {', '.join(SPEC)}")
        if not isinstance(body, dict):
            raise HdsError(f"{where}: input.{name} must be a section, [input.{name}]")
        tables[name] = _table_input(name, body, where)
    return InputMapping(tables, where)


def _table_input(name: str, body: dict, where: str) -> TableInput:
    unknown = [key for key in body if key not in TABLE_KEYS]
    if unknown:
        raise HdsError(f"{where}: unknown key '{unknown[0]}' in [input.{name}]; it takes {', '.join(TABLE_KEYS)}")
    for key in ("file", "date_format"):
        if key in body and (not isinstance(body[key], str) or not body[key].strip()):
            raise HdsError(f"{where}: [input.{name}] {key} must be a text value, e.g. {key} = \"...\"")
    fmt = body.get("date_format")
    if fmt is not None:
        _check_date_format(fmt, f"{where}: [input.{name}] date_format = \"{fmt}\"")
    columns = _columns(name, body.get("columns", {}), where)
    values = _values(name, body.get("values", {}), where)
    return TableInput(name, body.get("file"), fmt, columns, values)


def _check_date_format(fmt: str, said: str) -> None:
    try:
        written = _EXAMPLE_DAY.strftime(fmt)
        back = dt.datetime.strptime(written, fmt).date()
    except ValueError as exc:
        raise HdsError(f"{said} is not a date format ({exc}); write it with strftime codes, e.g. %d-%b-%Y") from None
    if back != _EXAMPLE_DAY:
        raise HdsError(f"{said} does not name a day, a month and a year (5 October 2020 reads back as {back}); "
                       "write it with strftime codes, e.g. %d-%b-%Y")


def _columns(name: str, columns, where: str) -> dict[str, str]:
    section = f"[input.{name}.columns]"
    if not isinstance(columns, dict):
        raise HdsError(f"{where}: input.{name}.columns must be a section, {section}")
    known = [c.name for c in SPEC[name].columns]
    seen: dict[str, str] = {}
    for column, heading in columns.items():
        if column not in known:
            raise HdsError(f"{where}: {section} {column} is not a column of {name}; its columns are "
                           f"{', '.join(known)}")
        if not isinstance(heading, str) or not heading.strip():
            raise HdsError(f"{where}: {section} {column} must be their heading as text, e.g. {column} = \"...\"")
        if fold(heading) in seen:
            raise HdsError(f"{where}: {section} {column} and {seen[fold(heading)]} both read the heading "
                           f"'{heading.strip()}'; each heading is one column")
        seen[fold(heading)] = column
    return {column: heading.strip() for column, heading in columns.items()}


def _values(name: str, values, where: str) -> dict[str, dict[str, str]]:
    if not isinstance(values, dict):
        raise HdsError(f"{where}: input.{name}.values must hold sections, [input.{name}.values.<column>]")
    coded = [c.name for c in SPEC[name].columns if c.coded]
    out = {}
    for column, labels in values.items():
        section = f"[input.{name}.values.{column}]"
        if column not in coded:
            raise HdsError(f"{where}: {section}: {column} is not a coded column of {name}; labels map for "
                           f"{', '.join(coded)}")
        if not isinstance(labels, dict):
            raise HdsError(f"{where}: input.{name}.values.{column} must be a section, {section}")
        out[column] = _labels(SPEC[name].column(column), labels, section, where)
    return out


def _labels(column: Column, labels: dict, section: str, where: str) -> dict[str, str]:
    allowed = allowed_codes(column)
    folded: dict[str, str] = {}
    for label, code in labels.items():
        if not isinstance(code, str):
            raise HdsError(f"{where}: {section} \"{label}\" must be mapped to a code as text, e.g. \"{label}\" = \"...\"")
        code = code.strip()
        if allowed is not None and code not in allowed and not (code == "" and not column.required):
            raise HdsError(f"{where}: {section} \"{label}\" = \"{code}\": not a code of {column.name}; expected one "
                           f"of {', '.join(allowed)}")
        if fold(label) in folded and folded[fold(label)] != code:
            raise HdsError(f"{where}: {section} \"{label}\" is mapped twice (labels match whatever their case and "
                           "spaces); keep one")
        folded[fold(label)] = code
    return {label.strip(): code.strip() for label, code in labels.items()}


def allowed_codes(column: Column) -> tuple[str, ...] | None:
    """The codes a coded column may hold; None when any code will do (organisations) or the rules say
    (schemes, checked when the data is read)."""
    if column.kind == "flag":
        return FLAG_CODES
    if column.choices:
        return column.choices
    return None


# --- reading an extract through the mapping ------------------------------------------------

def rename(raw, mapping: TableInput) -> tuple[list[Problem], list[str], dict[str, str]]:
    """Give `raw` (a sources.RawTable) the contract's column names: (problems, their headings the
    mapping leaves unread, the heading of each contract column found). Headings match exactly, else
    whatever their case and spaces. A mapped heading the file lacks is a problem naming the mapping's key."""
    present = [h for h in raw.header if h]
    by_fold: dict[str, str] = {}
    for heading in present:
        by_fold.setdefault(fold(heading), heading)
    problems, names = [], {}
    for column in SPEC[mapping.table].columns:
        wanted = mapping.heading(column.name)
        found = wanted if wanted in present else by_fold.get(fold(wanted))
        if found is not None and found not in names:
            names[found] = column.name
        elif column.name in mapping.columns:
            problems.append(Problem(raw.source, 1, None, f"{mapping.section('columns')} {column.name} expects the "
                                                         f"heading '{wanted}', which the file does not have; its "
                                                         f"headings are {', '.join(present) or 'none'}"))
    unused = [h for h in present if h not in names]
    raw.frame = raw.frame[[h for h in names if h in raw.frame.columns]].rename(columns=names)
    if raw.blank is not None:
        raw.blank = {names[h]: mask for h, mask in raw.blank.items() if h in names}
    raw.header = [names[h] for h in present if h in names]
    return problems, unused, {column: heading for heading, column in names.items()}


@dataclass(frozen=True)
class Unmapped:
    """A label of a coded column that the mapping does not know, in one file."""

    column: str
    heading: str  # their heading of the column
    value: str
    source: str
    row: int  # its first row in the file
    rows: int  # how many rows of the file hold it


@dataclass
class Translated:
    cells: np.ndarray  # the column with their labels turned into codes
    unmapped: np.ndarray  # rows whose label has no mapping (described in `labels`)
    labels: list[Unmapped]


def translate(mapping: TableInput, column: Column, cells: np.ndarray, rows: np.ndarray, source: str,
              heading: str, schemes: tuple[str, ...]) -> Translated:
    """Their labels of a coded column as codes, judging each distinct value once. A value that is
    neither a mapped label nor a code is described once, with its first row and how many rows hold it."""
    import pandas as pd

    from hds.sources import cell_text

    index, distinct = pd.factorize(cells, use_na_sentinel=False)
    labels = mapping.codes(column.name)
    valid = _valid(column, labels, schemes)
    out = np.empty(len(distinct), dtype=object)
    missing = np.zeros(len(distinct), dtype=bool)
    for k, value in enumerate(distinct.tolist()):
        if value is None or value != value:  # an empty workbook cell (factorize makes None a NaN)
            value = None
        text = cell_text(value)
        code = labels.get(fold(text))
        if code is not None:
            out[k] = code
        elif text == "" or valid is None or (text.lower() if column.kind == "flag" else text) in valid:
            out[k] = value
        else:
            missing[k] = True
            out[k] = value
    found = []
    if missing.any():
        counts = np.bincount(index, minlength=len(distinct))
        first = np.full(len(distinct), len(index), dtype=np.int64)
        np.minimum.at(first, index, np.arange(len(index)))
        found = [Unmapped(column.name, heading, cell_text(distinct[k]), source, int(rows[first[k]]), int(counts[k]))
                 for k in np.flatnonzero(missing).tolist()]
    return Translated(out[index] if len(distinct) else cells, missing[index], found)


def _valid(column: Column, labels: dict[str, str], schemes: tuple[str, ...]) -> frozenset | None:
    """What passes unmapped: the column's codes (None: anything, an organisation column with no labels)."""
    if column.kind == "flag":
        from hds.load import FLAG_WORDS

        return frozenset(FLAG_WORDS)
    if column.kind == "scheme":
        return frozenset(schemes)
    if column.choices:
        return frozenset(column.choices)
    return frozenset(labels.values()) if labels else None


def unmapped_problems(mapping: TableInput, found: list[Unmapped], order: list[str],
                      schemes: tuple[str, ...]) -> list[tuple[str, Problem]]:
    """(contract column, problem): one problem per label the mapping lacks, whatever its case and spacing and however many files of
    the table hold it: the first file (in `order`) and row, and how many rows in all."""
    groups: dict[tuple[str, str], list[Unmapped]] = {}
    for u in sorted(found, key=lambda u: (order.index(u.source), u.row)):
        groups.setdefault((u.column, fold(u.value)), []).append(u)
    problems = []
    for (column, _), items in groups.items():
        first, n = items[0], sum(u.rows for u in items)
        spec_column = SPEC[mapping.table].column(column)
        choices = allowed_codes(spec_column) or (schemes if spec_column.kind == "scheme" else ())
        if not choices and spec_column.kind != "scheme":
            choices = tuple(sorted(set(mapping.values.get(column, {}).values())))
        hint = f" = one of {', '.join(choices)}" if choices else ' = "<code>"'
        problems.append((column, Problem(first.source, first.row, first.heading,
                                f"'{first.value}' has no mapping in {mapping.section(f'values.{column}')} ({n:,} "
                                f"row{'s hold' if n != 1 else ' holds'} it, the first here); add "
                                f"\"{first.value}\"{hint}")))
    return problems


# --- dates in their format --------------------------------------------------------------------

def example(fmt: str) -> str:
    return _EXAMPLE_DAY.strftime(fmt)


def dates_in_format(cells: np.ndarray, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers (days since 1970-01-01) of text cells written in `fmt`, each distinct text read
    once, and which cells were read; the others are left to the row-at-a-time check."""
    import pandas as pd

    from hds.days import NEVER

    index, distinct = pd.factorize(cells, use_na_sentinel=False)
    epoch = dt.date(1970, 1, 1)
    days = np.full(len(distinct) + 1, NEVER, dtype=np.int64)
    ok = np.zeros(len(distinct) + 1, dtype=bool)
    for k, text in enumerate(distinct.tolist()):
        try:
            days[k] = (dt.datetime.strptime(text, fmt).date() - epoch).days
            ok[k] = True
        except (ValueError, TypeError):
            pass
    return days[index], ok[index]


def date_parser(fmt: str, section: str):
    """The row-at-a-time reading of a date cell under a date format: their format, YYYY-MM-DD (which
    cannot be misread) or an Excel date cell; else the message."""
    from hds.dates import parse_date

    def parse(value) -> dt.date:
        if not isinstance(value, str):
            return parse_date(value)  # an Excel date cell
        text = value.strip()
        for reading in (lambda: dt.datetime.strptime(text, fmt).date(), lambda: _iso(text)):
            try:
                return reading()
            except ValueError:
                pass
        raise ValueError(f"'{text}' is not a date written as {section} date_format = \"{fmt}\" says "
                         f"(e.g. {example(fmt)}), nor YYYY-MM-DD")

    return parse


def _iso(text: str) -> dt.date:
    if len(text) != 10 or text[4] != "-":
        raise ValueError(text)
    return dt.date.fromisoformat(text)
