"""The embedded SQLite store, through sqlite-utils.

Dates are ISO text, money integer pence, flags 0/1. Extra input columns are
kept beside the contract's columns. A load replaces the data tables inside
one transaction, so the store holds either the old data or the new, whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import hashlib
import os
from pathlib import Path

import sqlite_utils

from hds.load import LoadResult
from hds.records import BlockCost, Dataset, Discharge, Episode, Event, Receipt

RECORDS = {
    "discharges": (Discharge, "discharge_id"),
    "episodes": (Episode, "episode_id"),
    "events": (Event, "event_id"),
    "block_costs": (BlockCost, "block_id"),
    "receipts": (Receipt, "receipt_id"),
}
_DATE_FIELDS = {"discharge_date", "start_date", "end_date", "date", "received_date"}


def open_store(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) a store file readable by its owner only."""
    path = Path(path)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    db = sqlite_utils.Database(path)
    _ensure_schema(db)
    return db


def memory_store() -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    _ensure_schema(db)
    return db


def _ensure_schema(db: sqlite_utils.Database) -> None:
    for table, (record, key) in RECORDS.items():
        if not db[table].exists():
            columns = {f.name: _column_type(f) for f in dataclasses.fields(record)}
            db[table].create(columns, pk=key)
    if not db["loads"].exists():
        db["loads"].create(
            {"id": int, "loaded_at": str, "loaded_by": str, "source": str, "files": str, "rows": str},
            pk="id",
        )


def _column_type(field: dataclasses.Field) -> type:
    if field.name.endswith("_pence"):
        return int
    if field.type in ("bool",):
        return int
    return str


def _row(record) -> dict:
    row = {}
    for name, value in dataclasses.asdict(record).items():
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        row[name] = value
    return row


def save_dataset(db: sqlite_utils.Database, result: LoadResult, source: Path | str) -> int:
    """Replace the data tables with a validated dataset; returns the load id."""
    dataset = result.dataset
    files = {}
    source = Path(source)
    for path in ([source] if source.is_file() else sorted(source.glob("*.csv"))):
        files[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    counts = {}
    with db.atomic():
        for table, (_, key) in RECORDS.items():
            records = getattr(dataset, table)
            extras = dataset.extras.get(table, {})
            db.execute(f"DELETE FROM [{table}]")
            rows = [dict(_row(r), **extras.get(getattr(r, key), {})) for r in records]
            if rows:
                db[table].insert_all(rows, alter=True, batch_size=1000)
            counts[table] = len(rows)
        load_id = db["loads"].insert({
            "loaded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "loaded_by": _user(),
            "source": str(source),
            "files": repr(files),
            "rows": repr(counts),
        }).last_pk
    return load_id


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def read_dataset(db: sqlite_utils.Database) -> Dataset:
    tables = {}
    for table, (record, key) in RECORDS.items():
        fields = dataclasses.fields(record)
        rows = db.execute(
            f"SELECT {', '.join(f'[{f.name}]' for f in fields)} FROM [{table}] ORDER BY [{key}]"
        ).fetchall()
        tables[table] = tuple(record(*(_value(f, v) for f, v in zip(fields, row))) for row in rows)
    return Dataset(**tables)


def _value(field: dataclasses.Field, value):
    if field.name in _DATE_FIELDS:
        return dt.date.fromisoformat(value) if value else None
    if field.type == "bool":
        return bool(value)
    if value is None and field.type == "str":
        return ""
    return value


def is_empty(db: sqlite_utils.Database) -> bool:
    return db["discharges"].count == 0 and db["block_costs"].count == 0
