"""The embedded SQLite store, through sqlite-utils.

Every data table keeps its history: a row is a version of a record, valid
from the load that brought it (`_load`) until the load that changed or
removed it (`_until_load`, blank while current). The data as known at any
load can therefore be rebuilt (`as_of`). Dates are ISO text, money integer
pence, flags 0/1; extra input columns are kept as JSON in `_extra`.

A load is one transaction: the store holds the data before it or after it,
never a mixture. The schema is built by numbered migrations, recorded in
the `migrations` table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from hds.errors import HdsError, LoadError, Problem
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
BUSY_TIMEOUT_MS = 30_000


def _record_columns(record) -> dict:
    columns = {}
    for f in dataclasses.fields(record):
        columns[f.name] = int if (f.name.endswith("_pence") or f.type == "bool") else str
    return columns


def _migration_1(db: sqlite_utils.Database) -> None:
    """Versioned data tables and the load log."""
    for table, (record, key) in RECORDS.items():
        columns = _record_columns(record) | {"_extra": str, "_load": int, "_until_load": int}
        db[table].create(columns, pk=(key, "_load"))
        db[table].create_index(["_until_load"], index_name=f"{table}_current")
        if "discharge_id" in columns and key != "discharge_id":
            db[table].create_index(["discharge_id"], index_name=f"{table}_discharge")
    db["loads"].create({"id": int, "loaded_at": str, "loaded_by": str, "source": str,
                        "files": str, "rows": str, "changes": str}, pk="id")


HEADER_FIELDS = ["id", "month", "submitted_at", "submitted_by", "load_id", "rulebook_version",
                 "current_pence", "adjustments_pence", "total_pence", "line_count", "prev_hash"]
LINE_COLUMNS = {"claim_month": str, "kind": str, "patient_id": str, "discharge_id": str, "episode_id": str,
                "block_id": str, "description": str, "scheme": str, "service": str, "organisation": str,
                "days": int, "amount_pence": int, "reason": str}
PROTECTED = ("submissions", "submission_lines")


def _migration_2(db: sqlite_utils.Database) -> None:
    """The claims ledger: submission headers and lines, which triggers keep as submitted."""
    db["submissions"].create(
        {f: (int if f in ("id", "load_id", "line_count") or f.endswith("_pence") else str) for f in HEADER_FIELDS}
        | {"hash": str}, pk="id")
    db["submissions"].create_index(["month"], unique=True)
    db["submission_lines"].create(
        {"submission_id": int, "line_no": int} | LINE_COLUMNS | {"current": int, "line_hash": str},
        pk=("submission_id", "line_no"), foreign_keys=[("submission_id", "submissions", "id")])
    db["submission_lines"].create_index(["patient_id"])
    db["submission_lines"].create_index(["claim_month"])
    for table in PROTECTED:
        for action in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: "
                f"correct a past month through an adjustment in the next claim'); END")


MIGRATIONS = [(1, "versioned data tables and load log", _migration_1),
              (2, "claims ledger: submissions and submission lines", _migration_2)]


def _migrate(db: sqlite_utils.Database) -> None:
    """Apply the migrations this store lacks, under the write lock so two processes
    opening a new store cannot both apply one."""
    if db["migrations"].exists() and {r["id"] for r in db["migrations"].rows} >= {m[0] for m in MIGRATIONS}:
        return
    with write_transaction(db):
        if not db["migrations"].exists():
            db["migrations"].create({"id": int, "name": str, "applied_at": str}, pk="id")
        done = {row["id"] for row in db["migrations"].rows}
        for number, name, apply in MIGRATIONS:
            if number not in done:
                apply(db)
                db["migrations"].insert({"id": number, "name": name, "applied_at": now_utc()})


def open_store(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) a store file readable by its owner only."""
    path = Path(path)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _migrate(db)
    return db


def memory_store() -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    _migrate(db)
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """BEGIN IMMEDIATE: take the write lock first, so two writers queue instead of
    both reading and then one failing; all or nothing on any error or kill."""
    if db.conn.in_transaction:
        raise HdsError("internal error: a write transaction is already open")
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _row(record) -> dict:
    row = {}
    for name, value in dataclasses.asdict(record).items():
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        row[name] = value
    return row


@dataclass(frozen=True)
class LoadSummary:
    load_id: int
    changes: dict  # table -> {"added": n, "changed": n, "removed": n, "unchanged": n}


def save_dataset(db: sqlite_utils.Database, result: LoadResult, source: Path | str) -> LoadSummary:
    """Record a load: the tables it contains become the current truth, old versions are kept."""
    source = Path(source)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in ([source] if source.is_file() else sorted(source.glob("*.csv")))}
    with write_transaction(db):
        load_id = (db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM loads").fetchone()[0])
        changes = {}
        for table in (t for t in RECORDS if t in result.sources):
            changes[table] = _replace_table(db, table, getattr(result.dataset, table),
                                            result.dataset.extras.get(table, {}), load_id)
        _check_store_references(db, result)
        db["loads"].insert({
            "id": load_id, "loaded_at": now_utc(), "loaded_by": user_name(), "source": str(source),
            "files": json.dumps(files), "rows": json.dumps({t: len(getattr(result.dataset, t)) for t in result.sources}),
            "changes": json.dumps(changes),
        })
    return LoadSummary(load_id, changes)


def _replace_table(db, table: str, records, extras: dict, load_id: int) -> dict:
    record_type, key = RECORDS[table]
    current = {row[key]: row for row in db.query(f"SELECT * FROM [{table}] WHERE _until_load IS NULL")}
    counts = {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}
    new_rows = []
    seen = set()
    for record in records:
        row = _row(record) | {"_extra": json.dumps(extras.get(getattr(record, key), {}), sort_keys=True)}
        seen.add(row[key])
        old = current.get(row[key])
        if old is not None and all(old[c] == row[c] for c in row):
            counts["unchanged"] += 1
            continue
        counts["changed" if old is not None else "added"] += 1
        if old is not None:
            _close(db, table, key, row[key], load_id)
        new_rows.append(row | {"_load": load_id, "_until_load": None})
    for gone in set(current) - seen:
        _close(db, table, key, gone, load_id)
        counts["removed"] += 1
    if new_rows:
        db[table].insert_all(new_rows, batch_size=1000)
    return counts


def _close(db, table: str, key: str, value: str, load_id: int) -> None:
    db.execute(f"UPDATE [{table}] SET _until_load = ? WHERE [{key}] = ? AND _until_load IS NULL", [load_id, value])


def _check_store_references(db, result: LoadResult) -> None:
    """Episodes and events kept from earlier loads must still have their discharge."""
    problems = []
    for table in ("episodes", "events"):
        rows = db.query(
            f"SELECT t.[{RECORDS[table][1]}] AS id, t.discharge_id, t._load FROM [{table}] t "
            "WHERE t._until_load IS NULL AND NOT EXISTS (SELECT 1 FROM discharges d "
            "WHERE d.discharge_id = t.discharge_id AND d._until_load IS NULL)")
        for row in rows:
            problems.append(Problem(
                f"{table} in the store (load {row['_load']})", None, "discharge_id",
                f"{row['id']} follows discharge '{row['discharge_id']}', which is not in the store after this load; "
                f"include {table} in the extract, or keep the discharge"))
    if problems:
        raise LoadError(problems)


def read_dataset(db: sqlite_utils.Database, as_of: int | None = None) -> Dataset:
    """The data as it stands now, or as it stood just after load `as_of`."""
    if as_of is not None and not db.execute("SELECT 1 FROM loads WHERE id = ?", [as_of]).fetchone():
        raise HdsError(f"there is no load {as_of}; 'hds log' lists the loads")
    tables = {}
    for table, (record, key) in RECORDS.items():
        fields = dataclasses.fields(record)
        where, params = version_filter(as_of)
        rows = db.execute(
            f"SELECT {', '.join(f'[{f.name}]' for f in fields)} FROM [{table}] WHERE {where} ORDER BY [{key}]", params
        ).fetchall()
        tables[table] = tuple(record(*(_value(f, v) for f, v in zip(fields, row))) for row in rows)
    return Dataset(**tables)


def version_filter(as_of: int | None, alias: str = "") -> tuple[str, list]:
    prefix = f"{alias}." if alias else ""
    if as_of is None:
        return f"{prefix}_until_load IS NULL", []
    return f"{prefix}_load <= ? AND ({prefix}_until_load IS NULL OR {prefix}_until_load > ?)", [as_of, as_of]


def _value(field: dataclasses.Field, value):
    if field.name in _DATE_FIELDS:
        return dt.date.fromisoformat(value) if value else None
    if field.type == "bool":
        return bool(value)
    if value is None and field.type == "str":
        return ""
    return value


def latest_load(db: sqlite_utils.Database) -> int | None:
    return db.execute("SELECT MAX(id) FROM loads").fetchone()[0]


def is_empty(db: sqlite_utils.Database) -> bool:
    return latest_load(db) is None
