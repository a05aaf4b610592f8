"""Read a data folder or workbook and validate it against the data contract.

Validation returns every problem at once, each naming its file, row and
column, and what would have been accepted. A dataset is produced only when
there are no problems, so a load lands whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl

from hds.dates import parse_date, parse_month
from hds.errors import HdsError, LoadError, Problem
from hds.money import parse_money
from hds.records import (
    DISCHARGE_KINDS, EVENT_KINDS, OUTCOMES, SCHEME_NAMES, SERVICES,
    BlockCost, Dataset, Discharge, Episode, Event, Receipt,
)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _choice(allowed: tuple[str, ...]) -> Callable:
    def parse(value):
        text = _text(value)
        if text not in allowed:
            raise ValueError(f"'{text}' is not allowed; expected one of {', '.join(allowed)}")
        return text

    return parse


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("true", "yes", "y", "1"):
        return True
    if text in ("false", "no", "n", "0", ""):
        return False
    raise ValueError(f"'{text}' is not a yes/no value; expected true/false, yes/no, y/n or 1/0")


def parse_nhs_number(value) -> str:
    text = _text(value).replace(" ", "")
    if not (len(text) == 10 and text.isdigit()):
        raise ValueError(f"'{text}' is not an NHS number; expected 10 digits")
    total = sum(int(digit) * weight for digit, weight in zip(text[:9], range(10, 1, -1)))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(text[9]):
        raise ValueError(f"'{text}' fails the NHS number check digit (modulus 11); check the number")
    return text


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    parse: Callable
    field: str | None = None  # record field, when named otherwise
    default: object = ""


@dataclass(frozen=True)
class Table:
    name: str
    key: str
    record: type
    columns: tuple[Column, ...]
    required: bool


TABLES = (
    Table("discharges", "discharge_id", Discharge, (
        Column("discharge_id", True, _text),
        Column("patient_id", True, _text),
        Column("discharge_date", True, parse_date),
        Column("kind", False, _choice(DISCHARGE_KINDS), default="hospital"),
        Column("nhs_number", False, parse_nhs_number),
    ), required=True),
    Table("episodes", "episode_id", Episode, (
        Column("episode_id", True, _text),
        Column("discharge_id", True, _text),
        Column("service", True, _choice(SERVICES)),
        Column("start_date", True, parse_date),
        Column("end_date", False, parse_date, default=None),
        Column("weekly_cost", True, parse_money, field="weekly_pence"),
        Column("organisation", True, _text),
        Column("restart", False, parse_bool, default=False),
        Column("bau_commissioned", False, parse_bool, default=False),
    ), required=True),
    Table("events", "event_id", Event, (
        Column("event_id", True, _text),
        Column("discharge_id", True, _text),
        Column("event", True, _choice(EVENT_KINDS)),
        Column("date", True, parse_date),
        Column("outcome", False, _text),
    ), required=False),
    Table("block_costs", "block_id", BlockCost, (
        Column("block_id", True, _text),
        Column("description", True, _text),
        Column("scheme", True, _choice(SCHEME_NAMES)),
        Column("organisation", True, _text),
        Column("start_date", True, parse_date),
        Column("end_date", True, parse_date),
        Column("amount", True, parse_money, field="amount_pence"),
    ), required=False),
    Table("receipts", "receipt_id", Receipt, (
        Column("receipt_id", True, _text),
        Column("claim_month", True, lambda v: parse_month(_text(v))),
        Column("scheme", True, _choice(SCHEME_NAMES)),
        Column("amount", True, parse_money, field="amount_pence"),
        Column("received_date", True, parse_date),
    ), required=False),
)
TABLE_BY_NAME = {t.name: t for t in TABLES}


@dataclass
class RawTable:
    source: str  # how messages name it: "episodes.csv" or "data.xlsx sheet episodes"
    header: list[str]
    rows: list[tuple[int, dict]]  # (spreadsheet row number, {column: cell})
    blank_rows: int = 0
    problems: list[Problem] = field(default_factory=list)  # the table's shape: header and row lengths


@dataclass
class LoadResult:
    dataset: Dataset
    sources: dict[str, RawTable]
    notes: list[str]


def read_dataset(path: Path | str, known_discharges: set[str] | None = None) -> LoadResult:
    """Read and validate a folder of CSV files or one .xlsx workbook.

    Without `known_discharges` the files must be a whole dataset. With it (the
    discharges already in the store), an extract may hold any of the tables,
    and episodes and events may follow those discharges.
    """
    path = Path(path)
    if not path.exists():
        raise HdsError(f"{path}: no such file or folder; give a folder of CSV files or an .xlsx workbook")
    if path.is_dir():
        raw, notes = _read_folder(path)
    elif path.suffix.lower() == ".xlsx":
        raw, notes = _read_workbook(path)
    else:
        raise HdsError(f"{path}: expected a folder of CSV files or an .xlsx workbook")
    missing = [
        Problem(str(path), None, None, f"the required table '{t.name}' is missing (file {t.name}.csv or sheet {t.name})")
        for t in TABLES if t.required and t.name not in raw and known_discharges is None
    ]
    if not raw:
        missing = [Problem(str(path), None, None, "no table of the data contract found; expected files such as "
                           "discharges.csv and episodes.csv, or sheets of those names")]
    dataset, problems = validate(raw, known_discharges or set())
    if missing or problems:
        raise LoadError(missing + problems)
    for table in raw.values():
        if table.blank_rows:
            notes.append(f"{table.source}: {table.blank_rows} blank row(s) ignored")
    return LoadResult(dataset, raw, notes)


def _read_folder(folder: Path) -> tuple[dict[str, RawTable], list[str]]:
    raw, notes = {}, []
    for file in sorted(folder.iterdir()):
        if file.suffix.lower() != ".csv":
            continue
        if file.stem not in TABLE_BY_NAME:
            notes.append(f"{file.name}: not a table of the data contract; ignored")
            continue
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            raw[file.stem] = _raw_table(file.name, header, enumerate(reader, start=2))
    return raw, notes


def _read_workbook(path: Path) -> tuple[dict[str, RawTable], list[str]]:
    raw, notes = {}, []
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a bad file
        raise HdsError(f"{path}: cannot open as an Excel workbook ({exc})") from exc
    for sheet in book.worksheets:
        if sheet.title not in TABLE_BY_NAME:
            notes.append(f"{path.name} sheet {sheet.title}: not a table of the data contract; ignored")
            continue
        rows = sheet.iter_rows(values_only=True)
        header = [_text(h) for h in next(rows, ())]
        raw[sheet.title] = _raw_table(f"{path.name} sheet {sheet.title}", header, enumerate(rows, start=2))
    book.close()
    return raw, notes


def _raw_table(source: str, header: list[str], numbered_rows) -> RawTable:
    table = RawTable(source, header, [])
    for name in sorted({h for h in header if h and header.count(h) > 1}):
        table.problems.append(Problem(source, 1, name, "the column appears more than once in the header; keep one"))
    for number, cells in numbered_rows:
        cells = [c.strip() if isinstance(c, str) else c for c in cells]
        if all(c is None or c == "" for c in cells):
            table.blank_rows += 1
            continue
        if any(c not in (None, "") for c in cells[len(header):]):
            table.problems.append(Problem(source, number, None, f"the row has {len(cells)} values but the header "
                                          f"names {len(header)} columns; check for a stray comma or a missing header"))
        padded = list(cells) + [""] * (len(header) - len(cells))
        table.rows.append((number, {name: padded[i] for i, name in enumerate(header) if name}))
    return table


def validate(raw: dict[str, RawTable], known_discharges: set[str] = frozenset()) -> tuple[Dataset, list[Problem]]:
    problems: list[Problem] = []
    records: dict[str, list] = {}
    extras: dict[str, dict] = {}
    for table in TABLES:
        if table.name in raw:
            problems.extend(raw[table.name].problems)
            records[table.name], extras[table.name] = _validate_table(table, raw[table.name], problems)
        else:
            records[table.name], extras[table.name] = [], {}
    _check_references(raw, known_discharges, problems)
    dataset = Dataset(**{name: tuple(r for _, r in rows) for name, rows in records.items()}, extras=extras)
    return dataset, problems


def _validate_table(table: Table, raw: RawTable, problems: list[Problem]):
    known = {c.name for c in table.columns}
    for column in table.columns:
        if column.required and column.name not in raw.header:
            problems.append(Problem(raw.source, 1, column.name,
                                    f"required column is missing; the header has {', '.join(h for h in raw.header if h) or 'nothing'}"))
    extra_columns = [h for h in raw.header if h and h not in known]
    records, extras, first_seen = [], {}, {}
    for number, cells in raw.rows:
        values, row_problems = _parse_row(table, raw.source, number, cells)
        row_problems += _check_row(table, raw.source, number, values)
        key = values.get(table.key)
        if key:
            if key in first_seen:
                row_problems.append(Problem(raw.source, number, table.key,
                                            f"duplicate id '{key}'; it is already used at row {first_seen[key]}"))
            else:
                first_seen[key] = number
        problems.extend(row_problems)
        if not row_problems:
            fields = {(c.field or c.name): values[c.name] for c in table.columns}
            records.append((number, table.record(**fields)))
            if extra_columns:
                extras[key] = {h: _text(cells.get(h)) for h in extra_columns}
    return records, extras


def _parse_row(table: Table, source: str, number: int, cells: dict):
    values, problems = {}, []
    for column in table.columns:
        cell = cells.get(column.name)
        if cell is None or cell == "":
            if column.required and column.name in cells:
                problems.append(Problem(source, number, column.name, "is empty; a value is required"))
            values[column.name] = column.default
            continue
        try:
            values[column.name] = column.parse(cell)
        except ValueError as exc:
            problems.append(Problem(source, number, column.name, str(exc)))
            values[column.name] = None
    return values, problems


def _check_row(table: Table, source: str, number: int, values: dict) -> list[Problem]:
    problems = []
    start, end = values.get("start_date"), values.get("end_date")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        problems.append(Problem(source, number, "end_date",
                                f"end date {end} is before start date {start}; expected a date on or after the start"))
    if table.name == "events" and values.get("event"):
        allowed = OUTCOMES.get(values["event"])
        outcome = values.get("outcome") or ""
        if allowed and outcome not in allowed:
            shown = f"'{outcome}'" if outcome else "blank"
            problems.append(Problem(source, number, "outcome",
                                    f"{shown} is not an outcome of {values['event']}; expected one of {', '.join(allowed)}"))
        if not allowed and outcome:
            problems.append(Problem(source, number, "outcome",
                                    f"'{outcome}' given, but {values['event']} has no outcome; leave it blank"))
    return problems


def _check_references(raw: dict[str, RawTable], known_discharges: set[str], problems: list[Problem]) -> None:
    """An episode or event must follow a discharge of the extract (or, without one, of the store)."""
    if "discharges" in raw:
        known = {_text(cells.get("discharge_id")) for _, cells in raw["discharges"].rows}
        where = raw["discharges"].source
    else:
        known, where = known_discharges, "the store"
    for name in ("episodes", "events"):
        if name not in raw:
            continue
        for number, cells in raw[name].rows:
            ref = _text(cells.get("discharge_id"))
            if ref and ref not in known:
                problems.append(Problem(raw[name].source, number, "discharge_id",
                                        f"unknown discharge '{ref}'; expected a discharge_id of {where}"))
