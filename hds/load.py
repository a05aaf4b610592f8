"""Load: read a folder of CSV files or a workbook and validate it against the data contract.

Validation works a column at a time (a million rows in seconds) and falls
back to checking a row at a time only for the rows a column check flags, so
every problem is reported exactly as a row check words it: file, row,
column, what is wrong and what would be accepted. Every problem is
returned at once; a load with any problem lands nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hds.contract import CONTRACT, OUTCOMES, Column, TableSpec
from hds.data import Data, dtypes, empty
from hds.dates import parse_date, parse_month
from hds.days import NEVER, day_number
from hds.errors import LoadError, Problem
from hds.money import parse_money
from hds.table import Table

MAX_POUNDS = {"weekly_cost": 100_000}  # a sane upper bound per money column, in pounds
MAX_POUNDS_DEFAULT = 1_000_000_000


# --- reading one cell: the exact rules and messages ------------------------------------

def _text(value) -> str:
    from hds.sources import cell_text

    return cell_text(value)


def _choice(allowed: tuple[str, ...]) -> Callable:
    def parse(value):
        text = _text(value)
        if text not in allowed:
            raise ValueError(f"'{text}' is not allowed; expected one of {', '.join(allowed)}")
        return text

    return parse


_FLAGS = {"true": True, "yes": True, "y": True, "1": True, "false": False, "no": False, "n": False, "0": False, "": False}


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _FLAGS:
        return _FLAGS[text]
    raise ValueError(f"'{text}' is not a yes/no value; expected true/false, yes/no, y/n or 1/0")


def parse_nhs_number(value) -> str:
    text = _text(value).replace(" ", "")
    if not (len(text) == 10 and text.isdigit()):
        raise ValueError(f"'{_masked(text)}' is not an NHS number; expected 10 digits (the number is masked)")
    total = sum(int(digit) * weight for digit, weight in zip(text[:9], range(10, 1, -1)))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(text[9]):
        raise ValueError(f"'{_masked(text)}' fails the NHS number check digit (modulus 11); check the number (masked here)")
    return text


def _masked(text: str) -> str:
    """An NHS-number-like value with all but its last three characters hidden."""
    return text if len(text) <= 4 else "*" * (len(text) - 3) + text[-3:]


def _money(column: Column) -> Callable:
    limit = MAX_POUNDS.get(column.name, MAX_POUNDS_DEFAULT)

    def parse(value):
        pence = parse_money(value)
        if pence > limit * 100:
            raise ValueError(f"'{_text(value)}' is more than £{limit:,}, the most this column accepts; check the amount")
        return pence

    return parse


def cell_parser(column: Column, schemes: tuple[str, ...]) -> Callable:
    return {
        "id": _text, "text": _text, "choice": _choice(column.choices), "scheme": _choice(schemes),
        "date": parse_date, "month": lambda v: parse_month(_text(v)), "money": _money(column),
        "flag": parse_bool, "nhs_number": parse_nhs_number,
    }[column.kind]


# --- reading a column at once ----------------------------------------------------------

def _characters(cells: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The text cells as a matrix of character codes (n x width) and each one's length; a cell
    longer than `width` has length width + 1 (it fits no fast rule)."""
    text = cells.astype(f"U{width + 1}")
    codes = text.view(np.uint32).reshape(len(cells), width + 1)
    return codes[:, :width].astype(np.int64), np.strings.str_len(text)


def _digits(codes: np.ndarray) -> np.ndarray:
    return (codes >= 48) & (codes <= 57)


def _iso_dates(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of the cells written YYYY-MM-DD that are real days."""
    codes, length = _characters(cells, 10)
    digit = _digits(codes)
    shape = (length == 10) & (codes[:, 4] == 45) & (codes[:, 7] == 45) & digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1)
    value = codes - 48
    year = value[:, 0] * 1000 + value[:, 1] * 100 + value[:, 2] * 10 + value[:, 3]
    month = value[:, 5] * 10 + value[:, 6]
    day = value[:, 8] * 10 + value[:, 9]
    index = np.where(shape & (month >= 1) & (month <= 12), (year - 1970) * 12 + month - 1, 0)
    first = index.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    length_of_month = (index + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - first
    ok = shape & (month >= 1) & (month <= 12) & (day >= 1) & (day <= length_of_month)
    return np.where(ok, first + day - 1, NEVER), ok


def _plain_money(cells: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Pence of the cells written as plain pounds (digits, then . and one or two digits)."""
    width = 15
    codes, length = _characters(cells, width)
    position = np.arange(width)
    inside = position < length[:, None]
    digit = _digits(codes) & inside
    dot = (codes == 46) & inside
    dots = dot.sum(axis=1)
    where_dot = np.where(dots == 1, dot.argmax(axis=1), length)
    decimals = length - where_dot - 1
    ok = ((length >= 1) & (length <= width) & ((digit | dot).sum(axis=1) == length) & (dots <= 1)
          & (where_dot >= 1) & ((dots == 0) | (decimals == 1) | (decimals == 2)))
    decimals = np.where(dots == 1, decimals, 0)
    places = (length[:, None] - 1 - position) - (dot.any(axis=1)[:, None] & (position < where_dot[:, None]))
    places = places + (2 - decimals)[:, None]
    pence = np.where(digit & ok[:, None], (codes - 48) * 10 ** np.clip(places, 0, 18), 0).sum(axis=1)
    ok &= where_dot <= 12  # at most twelve digits of pounds
    return np.where(ok, pence, 0), ok & (pence <= limit)


def _nhs_numbers(cells: np.ndarray) -> np.ndarray:
    """Which cells are ten digits passing the modulus 11 check."""
    codes, length = _characters(cells, 10)
    ok = (length == 10) & _digits(codes).all(axis=1)
    value = codes - 48
    check = 11 - (value[:, :9] @ np.arange(10, 1, -1)) % 11
    check[check == 11] = 0
    return ok & (check != 10) & (check == value[:, 9])


def _fast_column(column: Column, cells: np.ndarray, schemes: tuple[str, ...]):
    """(values, ok) for a column of text cells, a column at a time; `ok` is False where the
    row-at-a-time check must look (and word the problem)."""
    import pandas as pd

    n = len(cells)
    blank = cells == ""
    kind = column.kind
    if kind in ("id", "text"):
        return cells, np.ones(n, dtype=bool)
    if kind in ("choice", "scheme", "flag"):
        codes, distinct = pd.factorize(cells)  # few distinct values: judge each once
        if kind == "flag":
            meaning = [_FLAGS.get(v.lower()) for v in distinct.tolist()]
            known = np.array([m is not None for m in meaning] + [False])
            values = np.array([bool(m) for m in meaning] + [False])
            return values[codes], known[codes]
        allowed = set(column.choices if kind == "choice" else schemes)
        known = np.array([v in allowed for v in distinct.tolist()] + [False])
        return cells, known[codes] | blank
    if kind == "date":
        values, ok = _iso_dates(cells)
        return values, ok | blank
    if kind == "money":
        values, ok = _plain_money(cells, MAX_POUNDS.get(column.name, MAX_POUNDS_DEFAULT) * 100)
        return values, ok | blank
    if kind == "nhs_number":
        return cells, _nhs_numbers(cells) | blank
    return cells, np.zeros(n, dtype=bool)  # month: the row check reads each


# --- a table ---------------------------------------------------------------------------

def _check_table(spec: TableSpec, raw, schemes: tuple[str, ...], found: list) -> Table:
    """Validate one raw table; problems go into `found` as (row, phase, column index, Problem)."""
    source, frame, rows = raw.source, raw.frame, np.asarray(raw.rows, dtype=np.int64)
    header = [h for h in raw.header if h]
    n = len(rows)
    for index, column in enumerate(spec.columns):
        if column.required and column.name not in header:
            found.append((1, 0, index, Problem(source, 1, column.name,
                          f"required column is missing; the header has {', '.join(header) or 'nothing'}")))
    types = dtypes(spec.name)
    values: dict[str, np.ndarray] = {}
    failed: dict[str, np.ndarray] = {}
    for index, column in enumerate(spec.columns):
        parse = cell_parser(column, schemes)
        if column.name not in frame.columns:
            values[column.field] = _default_column(column, types[column.field], n)
            failed[column.field] = np.zeros(n, dtype=bool)
            continue
        cells = frame[column.name].to_numpy(dtype=object)
        if _all_text(cells):
            column_values, ok = _fast_column(column, cells, schemes)
            blank = cells == ""
        else:  # cells of a workbook: numbers, dates, None: each read by the row check
            column_values, ok = _objects([_blank_value(column, types[column.field])] * n), np.zeros(n, dtype=bool)
            blank = np.array([c is None or c == "" for c in cells.tolist()], dtype=bool)
        column_values = _with_defaults(column, column_values, blank, types[column.field])
        bad = np.zeros(n, dtype=bool)
        if column.required:
            for i in np.flatnonzero(blank).tolist():
                found.append((int(rows[i]), 0, index, Problem(source, int(rows[i]), column.name,
                                                               "is empty; a value is required")))
                bad[i] = True
        for i in np.flatnonzero(~ok & ~blank).tolist():  # the row-at-a-time check: the value, or the words
            try:
                value = parse(cells[i])
                column_values[i] = NEVER if value is None else (day_number(value) if column.kind == "date" else value)
            except ValueError as exc:
                found.append((int(rows[i]), 0, index, Problem(source, int(rows[i]), column.name, str(exc))))
                bad[i] = True
        values[column.field] = _typed(column_values, types[column.field])
        failed[column.field] = bad
    _check_rows(spec, source, rows, values, failed, found)
    extra = [h for h in header if h not in {c.name for c in spec.columns}]
    if extra:
        cells = [frame[h].to_numpy(dtype=object).tolist() for h in extra]
        extras = [json.dumps({h: _text(v) for h, v in zip(extra, row)}, sort_keys=True) for row in zip(*cells)]
    else:
        extras = ["{}"] * n
    return Table(values | {"_extra": _objects(extras), "_row": rows}, length=n)


def _all_text(cells: np.ndarray) -> bool:
    from pandas.api.types import infer_dtype

    return not len(cells) or infer_dtype(cells, skipna=False) in ("string", "empty")


def _default_column(column: Column, dtype, n: int) -> np.ndarray:
    if dtype is object:
        return _objects([_blank_value(column, dtype)] * n)
    return np.full(n, _blank_value(column, dtype), dtype=dtype)


def _with_defaults(column: Column, values: np.ndarray, blank: np.ndarray, dtype) -> np.ndarray:
    """A writable copy of the column with blank cells given the column's default."""
    values = values.astype(object) if values.dtype != object and dtype is object else values.copy()
    values[blank] = _blank_value(column, dtype)
    return values


def _blank_value(column: Column, dtype):
    if column.kind == "date":
        return NEVER
    if column.default is not None:
        return column.default
    return "" if dtype is object else 0


def _typed(values: np.ndarray, dtype) -> np.ndarray:
    if dtype is object:
        return values if values.dtype == object else _objects(values.tolist())
    return np.asarray(values.tolist() if values.dtype == object else values, dtype=dtype)


def _objects(values) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _check_rows(spec: TableSpec, source: str, rows: np.ndarray, values: dict, failed: dict, found: list) -> None:
    """What a row's values say together: dates in order, outcomes that fit the event, unique ids."""
    from hds.days import iso

    n_columns = len(spec.columns)
    if "start_date" in values and "end_date" in values:
        start, end = values["start_date"], values["end_date"]
        wrong = (end < start) & ~failed["start_date"] & ~failed["end_date"] & (end != NEVER)
        for i in np.flatnonzero(wrong).tolist():
            found.append((int(rows[i]), 1, n_columns, Problem(
                source, int(rows[i]), "end_date",
                f"end date {iso(end[i])} is before start date {iso(start[i])}; expected a date on or after the start")))
    if spec.name == "events":
        event, outcome = values["event"], values["outcome"]
        for i, (kind, result, bad) in enumerate(zip(event.tolist(), outcome.tolist(), failed["event"].tolist())):
            if bad or not kind:
                continue
            allowed = OUTCOMES.get(kind)
            if allowed and result not in allowed:
                shown = f"'{result}'" if result else "blank"
                found.append((int(rows[i]), 1, n_columns, Problem(
                    source, int(rows[i]), "outcome",
                    f"{shown} is not an outcome of {kind}; expected one of {', '.join(allowed)}")))
            elif not allowed and result:
                found.append((int(rows[i]), 1, n_columns, Problem(
                    source, int(rows[i]), "outcome", f"'{result}' given, but {kind} has no outcome; leave it blank")))
    key = values[spec.key]
    first_seen: dict[str, int] = {}
    duplicates = _duplicated(key)
    if duplicates.any():
        for i, k in enumerate(key.tolist()):
            if k and k not in first_seen:
                first_seen[k] = int(rows[i])
        for i in np.flatnonzero(duplicates).tolist():
            found.append((int(rows[i]), 2, n_columns, Problem(
                source, int(rows[i]), spec.key, f"duplicate id '{key[i]}'; it is already used at row {first_seen[key[i]]}")))


def _duplicated(key: np.ndarray) -> np.ndarray:
    import pandas as pd

    series = pd.Series(key, dtype=object)
    return (series.duplicated(keep="first") & (series != "")).to_numpy()


# --- the whole load --------------------------------------------------------------------

@dataclass
class Loaded:
    """A validated load: the tables it contains, in the dataset's column types."""

    path: Path
    tables: dict[str, Table]  # contract fields plus _extra and _row
    sources: dict[str, str]  # table -> how messages name its file or sheet
    files: dict[str, str]  # file name -> SHA-256
    notes: list[str] = field(default_factory=list)

    def data(self) -> Data:
        """The load as a dataset (tables it does not contain are empty)."""
        return Data(**{spec.name: (self.tables[spec.name].select(spec.fields) if spec.name in self.tables
                                   else empty(spec.name)) for spec in CONTRACT})


def read(path: Path | str, schemes: tuple[str, ...], known_discharges: Callable[[set[str]], set[str]] | None = None,
         first_load: bool = True) -> Loaded:
    """Read and validate a folder of CSV files or one .xlsx workbook.

    `known_discharges(ids)` says which of `ids` the store already holds: with it,
    an extract may leave out discharges and its episodes and events may follow
    the store's. A first load must contain every required table."""
    from hds.sources import read_source

    source = read_source(path)
    problems = list(source.problems)
    found: list = []
    tables: dict[str, Table] = {}
    for order, spec in enumerate(CONTRACT):
        raw = source.tables.get(spec.name)
        if raw is None:
            if spec.required and first_load and source.tables:
                problems.append(Problem(str(source.path), None, None,
                                        f"the required table '{spec.name}' is missing (file {spec.name}.csv or sheet "
                                        f"{spec.name})"))
            continue
        table_found: list = [(-1, 0, 0, p) for p in raw.problems]
        tables[spec.name] = _check_table(spec, raw, schemes, table_found)
        found += [(order, *entry) for entry in table_found]
    problems += [entry[-1] for entry in sorted(found, key=lambda e: e[:4])]
    problems += _check_references(source, tables, known_discharges)
    if problems:
        raise LoadError(problems)
    notes = list(source.notes) + [f"{raw.source}: {raw.blank_rows} blank row(s) ignored"
                                  for raw in source.tables.values() if raw.blank_rows]
    return Loaded(source.path, tables, {name: raw.source for name, raw in source.tables.items()}, source.files, notes)


def _check_references(source, tables: dict[str, Table], known: Callable | None) -> list[Problem]:
    """An episode or event must follow a discharge of the extract (or, without one, of the store)."""
    problems = []
    if "discharges" in tables:
        ids = set(tables["discharges"]["discharge_id"].tolist())
        where = source.tables["discharges"].source

        def exists(refs):
            return refs & ids
    else:
        where = "the store"

        def exists(refs):
            return known(refs) if known else set()
    import pandas as pd

    for name in ("episodes", "events"):
        if name not in tables:
            continue
        refs = pd.Series(tables[name]["discharge_id"], dtype=object)
        wanted = set(refs.unique().tolist()) - {""}
        missing = wanted - exists(wanted)
        if not missing:
            continue
        unknown = refs.isin(list(missing)).to_numpy()
        for i in np.flatnonzero(unknown).tolist():
            problems.append(Problem(source.tables[name].source, int(tables[name]["_row"][i]), "discharge_id",
                                    f"unknown discharge '{refs[i]}'; expected a discharge_id of {where}"))
    return problems


def read_data(path: Path | str, schemes: tuple[str, ...]) -> tuple[Data, list[str]]:
    """A whole dataset straight from files into columns (the --data option): (dataset, notes)."""
    loaded = read(path, schemes)
    return loaded.data(), loaded.notes
