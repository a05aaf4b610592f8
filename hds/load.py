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

from hds.contract import CONTRACT, OUTCOMES, SPEC, Column, TableSpec
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
FLAG_WORDS = tuple(_FLAGS)  # what a yes/no cell may say, any case


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


def cell_parser(column: Column, schemes: tuple[str, ...], date_format: str | None = None) -> Callable:
    """How a cell of `column` is read one at a time. `date_format` is a mapping's: the section that
    set it and the format, ("[input.episodes]", "%d-%b-%Y"), or None for the contract's dates."""
    if column.kind == "date" and date_format:
        from hds.mapping import date_parser

        return date_parser(date_format[1], date_format[0])
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
    codes, length = _characters(cells, 15)
    return _pence(codes, length, limit)


def _pence(codes: np.ndarray, length: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Pence of text as character codes (n x 15) written as plain pounds, and which rows read."""
    width = 15
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


def _pounds_money(cells: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Pence of the cells written with a leading £ and thousands commas (£1,234.50), and which read:
    the £ and the commas dropped, where every comma separates a group of three digits."""
    width = 20
    codes, length = _characters(cells, width)
    position = np.arange(width)
    inside = position < length[:, None]
    pound = (codes[:, 0] == 163) & (length > 0)
    comma = (codes == 44) & inside
    dot = (codes == 46) & inside
    end = np.where(dot.any(axis=1), dot.argmax(axis=1), length)  # where the whole pounds end
    first = pound.astype(np.int64)  # where their first digit is
    placed = (((end[:, None] - position) % 4 == 0) & (position > first[:, None]) & (position < end[:, None]))
    lead = np.where(comma.any(axis=1), comma.argmax(axis=1) - first, 1)  # digits before the first comma
    commas_ok = ~(comma & ~placed).any(axis=1) & (lead <= 3) & (
        ~comma.any(axis=1) | (comma.sum(axis=1) == (end - first - 1) // 4))
    keep = inside & ~comma & ~((position == 0) & pound[:, None])
    order = np.argsort(~keep, axis=1, kind="stable")
    compact = np.take_along_axis(np.where(keep, codes, 0), order, axis=1)[:, :15]
    pence, ok = _pence(compact, keep.sum(axis=1), limit)
    return pence, ok & commas_ok & (length <= width)


def _nhs_numbers(cells: np.ndarray) -> np.ndarray:
    """Which cells (text) are ten digits passing the modulus 11 check: those of ten characters read as
    one run of ASCII bytes, ten a row (a third of the time of a matrix of characters), unless one of them
    is not ASCII."""
    ten = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells)) == 10
    try:
        ascii_ = "".join(cells[ten].tolist()).encode("ascii")
    except UnicodeEncodeError:
        codes, length = _characters(cells, 10)
        return _check_digit(codes, (length == 10) & _digits(codes).all(axis=1))
    codes = np.frombuffer(ascii_, dtype=np.uint8).reshape(-1, 10).astype(np.int64)
    ok = np.zeros(len(cells), dtype=bool)
    ok[ten] = _check_digit(codes, _digits(codes).all(axis=1))
    return ok


def _check_digit(codes: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Which rows of ten character codes, `ok` so far (ten digits), pass the modulus 11 check."""
    value = codes - 48
    check = 11 - (value[:, :9] @ np.arange(10, 1, -1)) % 11
    check[check == 11] = 0
    return ok & (check != 10) & (check == value[:, 9])


def _fast_column(column: Column, cells: np.ndarray, schemes: tuple[str, ...], date_format: str | None = None,
                 blank: np.ndarray | None = None):
    """(values, ok) for a column of text cells, a column at a time; `ok` is False where the
    row-at-a-time check must look (and word the problem). `date_format`: the mapping's, for dates.
    `blank`: which cells are empty, when already known."""
    import pandas as pd

    n = len(cells)
    blank = cells == "" if blank is None else blank
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
    if kind in ("date", "money"):  # a few thousand distinct days or amounts among many rows: each read once
        codes, distinct = pd.factorize(cells)
        values, ok = _distinct_values(column, np.asarray(distinct, dtype=object), codes, date_format)
        return values[codes], ok[codes] | blank
    if kind == "nhs_number":
        return cells, _nhs_numbers(cells) | blank
    return cells, np.zeros(n, dtype=bool)  # month: the row check reads each


def _distinct_values(column: Column, distinct: np.ndarray, codes: np.ndarray, date_format: str | None):
    """(values, ok) of the distinct cells of a date or money column (`codes`: each row's distinct cell)."""
    if column.kind == "date":
        if date_format:
            from hds.mapping import dates_in_format

            return dates_in_format(distinct, date_format)
        return _iso_dates(distinct)
    limit = MAX_POUNDS.get(column.name, MAX_POUNDS_DEFAULT) * 100
    values, ok = _plain_money(distinct, limit)
    rest = ~ok & (distinct != "")
    if np.count_nonzero(rest[codes]) > 64:  # £ signs and thousands commas, a column at a time too
        where = np.flatnonzero(rest)
        values[where], ok[where] = _pounds_money(distinct[where], limit)
    return values, ok


# --- a table ---------------------------------------------------------------------------

@dataclass
class _Reading:
    """How one file of a table is read: where messages point, the headings they show for contract
    columns (their own, through a mapping), and the mapping of the table (None: the contract's names)."""

    source: str
    shown: dict[str, str]
    mapping: object | None = None  # hds.mapping.TableInput
    unmapped: list = field(default_factory=list)  # hds.mapping.Unmapped: labels the mapping lacks, all files
    unread: list[str] = field(default_factory=list)  # their headings the mapping does not name

    def heading(self, column: str) -> str:
        return self.shown.get(column, column)


def _check_table(spec: TableSpec, raw, schemes: tuple[str, ...], found: list, reading: _Reading | None = None) -> Table:
    """Validate one raw table; problems go into `found` as (row, phase, column index, Problem)."""
    reading = reading or _Reading(raw.source, {})
    frame, rows = raw.frame, np.asarray(raw.rows, dtype=np.int64)
    header = [h for h in raw.header if h]
    n = len(rows)
    for index, column in enumerate(spec.columns):
        if column.required and column.name not in header:
            found.append((1, 0, index, Problem(reading.source, 1, reading.heading(column.name),
                                               _missing_column(spec, column, header, reading))))
    types = dtypes(spec.name)
    values: dict[str, np.ndarray] = {}
    failed: dict[str, np.ndarray] = {}
    for index, column in enumerate(spec.columns):
        if column.name not in frame.columns:
            values[column.field] = _default_column(column, types[column.field], n)
            failed[column.field] = np.zeros(n, dtype=bool)
            continue
        cells = frame[column.name].to_numpy(dtype=object)
        values[column.field], failed[column.field] = _check_column(
            column, cells, rows, index, schemes, reading, types[column.field], found,
            text=raw.blank is not None, blank=None if raw.blank is None else raw.blank.get(column.name))
    _check_rows(spec, reading, rows, values, failed, found)
    extra = [h for h in header if h not in {c.name for c in spec.columns}]
    if extra:
        cells = [frame[h].to_numpy(dtype=object).tolist() for h in extra]
        extras = [json.dumps({h: _text(v) for h, v in zip(extra, row)}, sort_keys=True) for row in zip(*cells)]
    else:
        extras = ["{}"] * n
    return Table(values | {"_extra": _objects(extras), "_row": rows}, length=n)


def _missing_column(spec: TableSpec, column: Column, header: list[str], reading: _Reading) -> str:
    if reading.mapping is None:
        return f"required column is missing; the header has {', '.join(header) or 'nothing'}"
    return (f"required column is missing: no heading is mapped to it; add {column.name} = \"<their heading>\" to "
            f"[input.{spec.name}.columns] (the file's headings not mapped: {', '.join(reading.unread) or 'none'})")


def _check_column(column: Column, cells: np.ndarray, rows: np.ndarray, index: int, schemes: tuple[str, ...],
                  reading: _Reading, dtype, found: list, text: bool = False,
                  blank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One column's values in the dataset's type, and the rows that failed (their problems into `found`).
    `text`: the cells are all str, as a CSV file's are (else they may be other values, as a workbook's);
    `blank`: which of them are empty, when that is known already."""
    n, heading = len(cells), reading.heading(column.name)
    reported = np.zeros(n, dtype=bool)
    fmt = reading.mapping.date_format if reading.mapping is not None and column.kind == "date" else None
    if reading.mapping is not None and column.coded:
        from hds.mapping import translate

        translated = translate(reading.mapping, column, cells, rows, reading.source, heading, schemes)
        cells, reported = translated.cells, translated.unmapped
        reading.unmapped += translated.labels  # described once for the table, in _check_files
        text, blank = False, None  # the codes it gave are looked at afresh
    if text or _all_text(cells):
        blank = cells == "" if blank is None else blank
        column_values, ok = _fast_column(column, cells, schemes, fmt, blank)
    else:  # cells of a workbook: numbers, dates, None: each read by the row check
        column_values, ok = _objects([_blank_value(column, dtype)] * n), np.zeros(n, dtype=bool)
        blank = np.array([c is None or c == "" for c in cells.tolist()], dtype=bool)
    column_values = _with_defaults(column, column_values, blank, dtype)
    bad = reported.copy()
    if column.required:
        for i in np.flatnonzero(blank).tolist():
            found.append((int(rows[i]), 0, index, Problem(reading.source, int(rows[i]), heading,
                                                           "is empty; a value is required")))
            bad[i] = True
    parse = cell_parser(column, schemes, (reading.mapping.section(), fmt) if fmt else None)
    for i in np.flatnonzero(~ok & ~blank & ~reported).tolist():  # the row-at-a-time check: the value, or the words
        try:
            value = parse(cells[i])
            column_values[i] = NEVER if value is None else (day_number(value) if column.kind == "date" else value)
        except ValueError as exc:
            found.append((int(rows[i]), 0, index, Problem(reading.source, int(rows[i]), heading, str(exc))))
            bad[i] = True
    return _typed(column_values, dtype), bad


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


def _check_rows(spec: TableSpec, reading: _Reading, rows: np.ndarray, values: dict, failed: dict, found: list) -> None:
    """What a row's values say together: dates in order, outcomes that fit the event, unique ids."""
    from hds.days import iso

    n_columns, source = len(spec.columns), reading.source
    if "start_date" in values and "end_date" in values:
        start, end = values["start_date"], values["end_date"]
        wrong = (end < start) & ~failed["start_date"] & ~failed["end_date"] & (end != NEVER)
        for i in np.flatnonzero(wrong).tolist():
            found.append((int(rows[i]), 1, n_columns, Problem(
                source, int(rows[i]), reading.heading("end_date"),
                f"end date {iso(end[i])} is before start date {iso(start[i])}; expected a date on or after the start")))
    if spec.name == "events":
        _check_outcomes(reading, rows, values, failed, found, n_columns)
    key = values[spec.key]
    first_seen: dict[str, int] = {}
    duplicates = _duplicated(key)
    if duplicates.any():
        for i, k in enumerate(key.tolist()):
            if k and k not in first_seen:
                first_seen[k] = int(rows[i])
        for i in np.flatnonzero(duplicates).tolist():
            found.append((int(rows[i]), 2, n_columns, Problem(
                source, int(rows[i]), reading.heading(spec.key),
                f"duplicate id '{key[i]}'; it is already used at row {first_seen[key[i]]}")))


def _check_outcomes(reading: _Reading, rows: np.ndarray, values: dict, failed: dict, found: list,
                    n_columns: int) -> None:
    """An outcome that fits its event: each distinct pair of event and outcome judged once."""
    import pandas as pd

    source, heading = reading.source, reading.heading("outcome")
    event, outcome = values["event"], values["outcome"]
    events, kinds = pd.factorize(event)
    outcomes, results = pd.factorize(outcome)
    pairs, first = np.unique(events * (len(results) + 1) + outcomes, return_inverse=True)
    said = []
    for pair in pairs.tolist():
        kind, result = kinds[pair // (len(results) + 1)], results[pair % (len(results) + 1)]
        said.append(_outcome_problem(kind, result))
    bad = np.array([text is not None for text in said] + [False])[first] & ~(failed["event"] | failed["outcome"])
    for i in np.flatnonzero(bad).tolist():
        found.append((int(rows[i]), 1, n_columns, Problem(source, int(rows[i]), heading, said[first[i]])))


def _outcome_problem(kind: str, result: str) -> str | None:
    if not kind:
        return None
    allowed = OUTCOMES.get(kind)
    if allowed and result not in allowed:
        shown = f"'{result}'" if result else "blank"
        return f"{shown} is not an outcome of {kind}; expected one of {', '.join(allowed)}"
    if not allowed and result:
        return f"'{result}' given, but {kind} has no outcome; leave it blank"
    return None


def _duplicated(key: np.ndarray) -> np.ndarray:
    """Which keys repeat one before them (a blank key never does)."""
    import pandas as pd

    if len(key) > 1:  # ids in strictly increasing order, as an extract sorted by them has: none repeats
        try:  # (a tenth of the time of hashing them all)
            if (key[1:] > key[:-1]).all():
                return np.zeros(len(key), dtype=bool)
        except TypeError:  # not all text: hashed
            pass
    series = pd.Series(key, dtype=object)
    return (series.duplicated(keep="first") & (series != "")).to_numpy()


# --- the whole load --------------------------------------------------------------------

@dataclass
class Loaded:
    """A validated load: the tables it contains, in the dataset's column types."""

    path: Path
    tables: dict[str, Table]  # contract fields plus _extra and _row
    sources: dict[str, str]  # table -> how messages name its file or sheet (files joined by "and")
    files: dict[str, str]  # file name -> SHA-256
    notes: list[str] = field(default_factory=list)
    mapping: str | None = None  # the input mapping it was read through (hds.mapping.InputMapping.text)
    kept: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)  # table -> (rows, its files' SHA-256)
    # of the tables whose files are the very ones the store's last load of each read: not read again
    linked_when_written: tuple[str, ...] = ()  # episodes or events whose links to the store's discharges are
    # checked as they are written, for the rows that differ from the store's (``link_problems``)
    kept_as_of: int | None = None  # the store's latest load when the `kept` tables were found as their files
    references_later: bool = False  # its episodes' and events' links to its own discharges are checked by
    # whoever writes it, as it writes them (``check_references``), not by ``read``
    spans: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # table -> (file, rows) of each file
    headings: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> contract column -> their heading
    hashed_when_read: tuple[str, ...] = ()  # tables whose digests as written whole (hds.store.written_digest)
    read_beside: object = None  # the copy of the process that read them computes: its second result (name ->
    # digest; ``hds.background.Pending``), once it has sent the tables it read

    def data(self) -> Data:
        """The load as a dataset (tables it does not contain are empty)."""
        return Data(**{spec.name: (self.tables[spec.name].select(spec.fields) if spec.name in self.tables
                                   else empty(spec.name)) for spec in CONTRACT})

    def source_of(self, table: str, i: int) -> str:
        """The file (or sheet) row `i` of a table came from."""
        for name, rows in self.spans[table]:
            if i < rows:
                return name
            i -= rows
        return self.sources[table]


def read(path: Path | str, schemes: tuple[str, ...], known_discharges: Callable[[np.ndarray], np.ndarray] | None = None,
         first_load: bool = True, mapping=None,
         read_before: Callable[[str, Callable], tuple[int, dict[str, str]] | None] | None = None,
         references_later: bool = False) -> Loaded:
    """Read and validate a folder of CSV files or one .xlsx workbook.

    `known_discharges(ids)` says which of `ids` the store already holds (a mask): with it,
    an extract may leave out discharges and its episodes and events may follow
    the store's. A first load must contain every required table. `mapping`
    (``hds.mapping.InputMapping``, hds.toml's [input]) says how an extract in
    a council's own shape reads as the contract. `read_before(table, hashed)`
    (``hds.store.read_before``) gives the rows and files of a table whose files
    (`hashed()`: name -> SHA-256) are the very ones the store's last load of it
    read, else None: those files of a folder are not read again (``_not_read_again``).
    `references_later`: an extract with discharges and no other problem comes back without its
    episodes' and events' links to them checked (``Loaded.references_later``): its writer checks them
    (``check_references``, as ``hds.store.save_load`` does while SQLite builds indexes)."""
    from hds.mapping import InputMapping

    mapping = mapping or InputMapping()
    source, checked, kept, copy = _read_tables(path, schemes, mapping, read_before, hashed=first_load)
    problems = list(source.problems)
    found: list = []
    loaded = Loaded(source.path, {}, {}, source.files, list(source.notes), mapping.text(), kept=kept,
                    kept_as_of=getattr(read_before, "as_of", None) if kept else None)
    if copy is not None and copy.hashes:
        loaded.hashed_when_read, loaded.read_beside = copy.hashes, copy.pending
    for name, (_, files) in kept.items():
        loaded.sources[name] = " and ".join(files)
    for order, spec in enumerate(CONTRACT):
        if spec.name not in checked:
            if spec.required and first_load and source.tables:
                problems.append(Problem(str(source.path), None, None, _missing_table(spec.name, mapping)))
            continue
        table, table_found = checked[spec.name].into(loaded, spec.name)
        if table is not None:
            loaded.tables[spec.name] = table
        found += [(order, *entry) for entry in table_found]
    problems += [entry[-1] for entry in sorted(found, key=lambda e: e[:4])]
    if "discharges" in loaded.tables or "discharges" not in source.tables:  # else its mapping failed: no ids to check
        if references_later and "discharges" in loaded.tables and not problems:
            loaded.references_later = True
        elif "discharges" in loaded.tables or problems or known_discharges is None:
            problems += _check_references(loaded, known_discharges)
        else:  # the store's discharges, which this load leaves as they are: its current episodes and events
            # follow them already, so only the rows the load writes need looking at (hds.store.save_load)
            loaded.linked_when_written = tuple(name for name in ("episodes", "events") if name in loaded.tables)
    if problems:
        if copy is not None:  # its digests are not wanted
            copy.pending.cancel()
        raise LoadError(problems)
    loaded.notes += [f"{raw.source}: {raw.blank_rows} blank row(s) ignored" for name, raw in source.tables.items()
                     for raw in [raw, *source.parts.get(name, [])] if raw.blank_rows]
    return loaded


READ_BESIDE_BYTES = 4 << 20  # a table of a folder whose files hold this many bytes or more is read beside,
# when the others hold as many (else this process would only wait for the copy and take its table back)


@dataclass
class _Checked:
    """What checking one table's files found, as ``_check_files`` leaves it in a Loaded."""

    table: Table | None
    found: list  # (row, phase, column index, Problem)
    source: str
    spans: list[tuple[str, int]]
    headings: dict[str, str]
    notes: list[str]

    def into(self, loaded: Loaded, name: str) -> tuple[Table | None, list]:
        """Into `loaded` as the table `name`'s: (the table, what was found)."""
        loaded.sources[name], loaded.spans[name], loaded.headings[name] = self.source, self.spans, self.headings
        loaded.notes += self.notes
        return self.table, self.found


def _checked(spec: TableSpec, source, schemes: tuple[str, ...], mapping) -> _Checked | None:
    """The files of one table of a source (``hds.sources.Source``) checked, or None when it has none."""
    raws = [source.tables[spec.name], *source.parts.get(spec.name, [])] if spec.name in source.tables else []
    if not raws:
        return None
    into, found = Loaded(source.path, {}, {}, {}), []
    table = _check_files(spec, raws, schemes, found, mapping.get(spec.name), into)
    return _Checked(table, found, into.sources[spec.name], into.spans[spec.name], into.headings[spec.name], into.notes)


def _read_tables(path: Path | str, schemes: tuple[str, ...], mapping, read_before=None, hashed: bool = False):
    """The extract read (``hds.sources.Source``, its raw tables' cells let go once checked), each table
    that has files checked (name -> _Checked), and the tables not read again (``_not_read_again``).
    The tables of a folder are read and checked each on its own and added in order, on both cores when
    large: the largest, when not alone, by a copy of this process (``hds.background``) while this one
    reads the others (one copy: on two cores a second would only share them, and sending a table back
    costs a good part of reading it); a large table read alone (as by a follow-up load that finds the
    other files as the store's last load read them), in two halves at once, the second by the copy
    (``_read_half``). pandas is imported first, so that the copy finds it imported."""
    from hds.background import can_fork, start_in_turn
    from hds.sources import SPLIT_BYTES, Folder, open_source

    opened = open_source(path, files=mapping.files(), reads=mapping.readers())
    if not isinstance(opened, Folder):
        return opened, {spec.name: checked for spec in CONTRACT
                        if (checked := _checked(spec, opened, schemes, mapping)) is not None}, {}, None
    kept = _not_read_again(opened, read_before) if read_before is not None else {}
    sizes = {name: opened.size(name) for name in opened.wanted if name not in kept}
    large = [(size, name) for name, size in sizes.items() if size >= READ_BESIDE_BYTES]
    beside = max(large)[1] if large and sum(sizes.values()) - max(large)[0] >= READ_BESIDE_BYTES else None
    ours = [name for name in sizes if name != beside]
    halved = max(ours, key=sizes.get, default=None) if beside is None else None  # one large table, as after
    if halved is not None and (sizes[halved] < SPLIT_BYTES or halved not in SPEC  # a follow-up load's few
                               or not can_fork() or not opened.halvable(halved)):  # changes: its very bytes
        halved = None
    if beside is not None and not opened.ahead:  # (a follow-up load read and hashed its files already)
        opened.hash_ahead(ours, _import_pandas)  # this process's files hashed while pandas is imported
    if beside is not None or halved is not None:
        import pandas  # noqa: F401  (once, not in this process and again in the copy)
    theirs = [(beside, None)] * (beside is not None) + [(halved, 1)] * (halved is not None)
    copy = start_in_turn(_read_then_hashed, opened, theirs, schemes, mapping, hashed) if theirs else None
    if beside is not None:
        opened.forget(beside)  # its bytes, read ahead, are the copy's to read
    pieces = [(name, None) for name in ours if name != halved] + [(halved, 0)] * (halved is not None)
    try:
        done = dict(zip(pieces, _read_pieces(opened, pieces, schemes, mapping)))
        if copy is not None:  # this process's own tables were read first, the copy's awaited last
            done.update(zip(theirs, copy.result(0)))
    except BaseException:
        if copy is not None:  # a table of this process failed: the copy's reading is not wanted
            copy.cancel()
        raise
    if halved is not None:
        done[(halved, None)] = _joined(SPEC[halved], done.pop((halved, 0)), done.pop((halved, 1))) \
            or _read_table(opened, halved, schemes, mapping)  # the whole file says exactly what it holds
    checked = {}  # all go in in order
    for name in opened.wanted:
        if name in kept:
            rows, files = kept[name]
            several = len(files) > 1
            opened.add(opened.unread(files, f"{' and '.join(files)}: the very file{'s' * several} the store's "
                                            f"last load of {name} read (the same SHA-256): the store holds "
                                            f"{'their' if several else 'its'} {rows:,} row{'s' * (rows != 1)}, "
                                            f"so {'they were' if several else 'it was'} not read again"))
            continue
        part, checked[name] = done[(name, None)]
        opened.add(part)
    whole = tuple(name for name, half in theirs if hashed and half is None and (name, None) in done and name in checked)
    return opened.source, {name: found for name, found in checked.items() if found is not None}, kept, \
        None if copy is None else _ReadBeside(copy, whole)


@dataclass(frozen=True)
class _ReadBeside:
    """The copy of the process that read some tables of a folder (``_read_then_hashed``) and the tables
    it read whole, whose digests it sends next."""

    pending: object  # hds.background.Pending
    hashes: tuple[str, ...]


def _read_then_hashed(folder, pieces: list[tuple[str, int | None]], schemes: tuple[str, ...], mapping,
                      hashed: bool = True):
    """What a copy of the process reading beside it computes, in turn: the pieces (``_read_pieces``); then,
    when `hashed` (a first load, which writes each table whole), the digest as written whole
    (``hds.store.written_digest``) of each table it read whole and found nothing wrong with, which this
    process need not hash (name -> digest)."""
    from hds.store import written_digest

    done = _read_pieces(folder, pieces, schemes, mapping)
    yield done
    yield {name: written_digest(SPEC[name], checked.table) for (name, half), (_, checked) in zip(pieces, done)
           if hashed and half is None and name in SPEC and checked is not None and checked.table is not None
           and not checked.found}


def _read_pieces(folder, pieces: list[tuple[str, int | None]], schemes: tuple[str, ...], mapping) -> list:
    """Each (table, half) of a folder read and checked in turn: the whole table (half None:
    ``_read_table``) or a half of its file (``_read_half``)."""
    return [_read_table(folder, name, schemes, mapping) if half is None else
            _read_half(folder, name, half, schemes, mapping) for name, half in pieces]


def _read_half(folder, name: str, half: int, schemes: tuple[str, ...], mapping):
    """Half of a table's file read and checked (``hds.sources.Folder.read_half``): (what it adds to the
    folder's source, its cells let go; _Checked), or None when the half cannot be read on its own."""
    part = folder.read_half(name, half)
    return None if part is None else _let_go(part, _checked(SPEC[name], part, schemes, mapping))


def _joined(spec: TableSpec, first, rest):
    """The two halves of a table's file, each read and checked (``_read_half``), as the whole file read
    and checked gives it: (its part of the folder's source, _Checked). None when the whole file must be
    read to say exactly what it holds: a half could not be read alone, or found anything (a problem,
    an id in both halves)."""
    if first is None or rest is None or first[1] is None or rest[1] is None:
        return None
    (part, one), (_, two) = first, rest
    if one.found or two.found or one.table is None or two.table is None or (one.notes, one.headings, one.source) \
            != (two.notes, two.headings, two.source):
        return None
    table = Table.concat([one.table, two.table])
    if _duplicated(table[spec.key]).any():
        return None
    return part, _Checked(table, [], one.source, [(one.source, len(table))], one.headings, one.notes)


def _not_read_again(folder, read_before) -> dict[str, tuple[int, dict[str, str]]]:
    """The tables of a follow-up load's folder whose files are the very ones the store's last load of
    each read (``hds.store.read_before``), through the same input mapping, by the same hds: the store
    holds what they say, so they are not read or checked again (table -> (rows, files)). Not the
    tables with a scheme column, whose check depends on the rules in use; and episodes and events only
    when discharges are not read either, since theirs must then be checked against the extract's."""
    kept: dict[str, tuple[int, dict[str, str]]] = {}
    folder.hash_ahead([name for name in folder.wanted if name in SPEC], _import_pandas)  # each file read once
    for name in folder.wanted:
        spec = SPEC.get(name)
        if spec is None or any(column.kind == "scheme" for column in spec.columns):
            continue
        if "discharge_id" in spec.fields and name != "discharges" and folder.found.get("discharges") \
                and "discharges" not in kept:
            continue
        found = read_before(name, lambda: folder.hashes(name))
        if found is not None:
            kept[name] = found
            folder.forget(name)
    return kept


def _import_pandas() -> None:
    """pandas imported (as reading a CSV file needs it), while threads read and hash the files."""
    import pandas  # noqa: F401


def _read_table(folder, name: str, schemes: tuple[str, ...], mapping):
    """One table of a folder (``hds.sources.Folder``) read and checked: (what reading it adds to the
    folder's source, its cells let go; _Checked or None)."""
    part = folder.read_table(name)
    return _let_go(part, _checked(SPEC[name], part, schemes, mapping) if name in SPEC else None)


def _let_go(part, checked):
    """(`part`, what reading added to a folder's source, with its raw tables' cells let go; `checked`)."""
    from dataclasses import replace

    part.tables = {table: replace(raw, frame=None, rows=None, blank=None) for table, raw in part.tables.items()}
    part.parts = {table: [replace(raw, frame=None, rows=None, blank=None) for raw in raws]
                  for table, raws in part.parts.items()}
    return part, checked


def _missing_table(table: str, mapping) -> str:
    mapped = mapping.get(table)
    if mapped is not None and mapped.file:
        return (f"the required table '{table}' is missing: no file matches [input.{table}] file = \"{mapped.file}\" "
                "of hds.toml")
    return f"the required table '{table}' is missing (file {table}.csv or sheet {table})"


def _check_files(spec: TableSpec, raws: list, schemes: tuple[str, ...], found: list, mapping,
                 loaded: Loaded) -> Table | None:
    """Validate the file(s) of one table and make them one table (None when no file could be checked);
    a mapped heading a file lacks stops the check of that file (its columns cannot be told apart)."""
    parts, unread, unmapped = [], {}, []
    for raw in raws:
        found += [(-1, 0, 0, p) for p in raw.problems]
        reading = _Reading(raw.source, {}, unmapped=unmapped)
        if mapping is not None:
            from hds.mapping import rename

            missing, unused, reading.shown = rename(raw, mapping)
            reading.mapping, reading.unread = mapping, unused
            unread.update(dict.fromkeys(unused))
            if missing:
                found += [(1, 0, 0, p) for p in missing]
                continue
        parts.append((raw.source, _check_table(spec, raw, schemes, found, reading)))
    loaded.sources[spec.name] = " and ".join(name for name, _ in parts) or raws[0].source
    loaded.spans[spec.name] = [(name, len(table)) for name, table in parts]
    if len(parts) > 1:
        _duplicates_across(spec, parts, found, reading.heading(spec.key))
    loaded.headings[spec.name] = reading.shown
    if unmapped:
        from hds.mapping import unmapped_problems

        columns = [c.name for c in spec.columns]
        found += [(p.row, 0, columns.index(column), p)
                  for column, p in unmapped_problems(mapping, unmapped, [r.source for r in raws], schemes)]
    if unread:  # listed once for the table, however many files it came in
        loaded.notes.append(f"{spec.name} ({loaded.sources[spec.name]}): columns not in the mapping, not read: "
                            f"{', '.join(unread)}")
    if len(parts) <= 1:
        return parts[0][1] if parts else None
    # several files: each row keeps the file it came from (their own columns are not read, so _extra is free)
    return Table.concat([t.with_columns(_extra=_objects([json.dumps({"file": name})] * len(t))) for name, t in parts])


def _duplicates_across(spec: TableSpec, parts: list[tuple[str, Table]], found: list, heading: str) -> None:
    """An id used in two files of one table (duplicates within a file are already reported)."""
    keys = np.concatenate([t[spec.key] for _, t in parts])
    rows = np.concatenate([t["_row"] for _, t in parts])
    part = np.repeat(np.arange(len(parts)), [len(t) for _, t in parts])
    first: dict[str, int] = {}
    for i in np.flatnonzero(_duplicated(keys)).tolist():
        if not first:
            for j, k in enumerate(keys.tolist()):
                first.setdefault(k, j)
        j = first[keys[i]]
        if part[j] != part[i]:
            found.append((int(rows[i]), 2, len(spec.columns), Problem(
                parts[part[i]][0], int(rows[i]), heading,
                f"duplicate id '{keys[i]}'; it is already used at {parts[part[j]][0]} row {int(rows[j])}")))


def check_references(loaded: Loaded) -> list[Problem]:
    """The links of a load's episodes and events to its discharges, when ``read`` left them to its writer
    (``Loaded.references_later``): the problems ``read`` would have raised (none when it checked them)."""
    return _check_references(loaded, None) if loaded.references_later else []


def _check_references(loaded: Loaded, known: Callable | None) -> list[Problem]:
    """An episode or event must follow a discharge of the extract (or, without one, of the store)."""
    problems, tables, ids = [], loaded.tables, None
    for name in ("episodes", "events"):
        if name not in tables:
            continue
        refs = tables[name]["discharge_id"]
        if "discharges" in tables:  # which references are among the extract's discharges (a set's lookups:
            # quicker than pandas' isin, which hashes the discharges again for each table)
            ids = set(tables["discharges"]["discharge_id"].tolist()) if ids is None else ids
            follows = np.fromiter(map(ids.__contains__, refs.tolist()), dtype=bool, count=len(refs))
            problems += _unknown(loaded, name, np.arange(len(refs)), follows)
        else:
            problems += link_problems(loaded, name, np.arange(len(refs)), known)
    return problems


def link_problems(loaded: Loaded, name: str, rows: np.ndarray, known: Callable | None) -> list[Problem]:
    """The rows `rows` (positions) of the loaded episodes or events that follow no discharge of the store
    (`known`: ``hds.store.known_discharges``; None: the store holds none), as a load words them."""
    refs = loaded.tables[name]["discharge_id"][rows]
    return _unknown(loaded, name, rows, known(refs) if known else np.zeros(len(refs), dtype=bool))


def _unknown(loaded: Loaded, name: str, rows: np.ndarray, follows: np.ndarray) -> list[Problem]:
    table = loaded.tables[name]
    where = loaded.sources["discharges"] if "discharges" in loaded.tables or "discharges" in loaded.kept else "the store"
    heading = loaded.headings.get(name, {}).get("discharge_id", "discharge_id")
    problems = []
    for i in rows[~follows & (table["discharge_id"][rows] != "")].tolist():
        problems.append(Problem(loaded.source_of(name, i), int(table["_row"][i]), heading,
                                f"unknown discharge '{table['discharge_id'][i]}'; expected a discharge_id of {where}"))
    return problems


def read_data(path: Path | str, schemes: tuple[str, ...], mapping=None) -> tuple[Data, list[str]]:
    """A whole dataset straight from files into columns (the --data option): (dataset, notes)."""
    loaded = read(path, schemes, mapping=mapping)
    return loaded.data(), loaded.notes
