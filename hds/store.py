"""The embedded SQLite store.

Every data table keeps its history: a row is a version of a record, valid
from the load that brought it (``_load``) until the load that changed or
removed it (``_until_load``, blank while current), so the data as known at
any load can be rebuilt (``as_of``). Dates are ISO text, money integer
pence, flags 0/1; extra input columns are kept as JSON in ``_extra`` and the
spreadsheet row each version came from in ``_row``.

Reading and writing:

- a command that only reads opens the file read-only and reads inside one
  transaction, so it sees one consistent state even while a load runs
  (the store is in WAL mode: readers and the writer do not block each
  other);
- a command that writes takes the write lock first (``BEGIN IMMEDIATE``)
  and does everything in one transaction: the store holds the state before
  it or after it, never a mixture;
- a command reads only what it needs: the episodes overlapping a period
  with their discharges and events, or one patient's rows, through indexes.

The schema is built by numbered migrations, recorded in ``migrations``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from hds.contract import CONTRACT, SPEC
from hds.data import Data, dtypes, empty
from hds.days import NEVER, iso_days
from hds.errors import HdsError
from hds.table import Table, group_starts

BUSY_WAIT_S = 600  # how long a command waits for another one's write to finish
VERSION_COLUMNS = ("_extra", "_row", "_load", "_until_load")

HEADER_FIELDS = ["id", "month", "submitted_at", "submitted_by", "load_id", "rulebook_version",
                 "current_pence", "adjustments_pence", "total_pence", "line_count", "prev_hash"]
LINE_COLUMNS = {"claim_month": str, "kind": str, "patient_id": str, "discharge_id": str, "episode_id": str,
                "block_id": str, "description": str, "scheme": str, "service": str, "organisation": str,
                "days": int, "amount_pence": int, "reason": str}
PROTECTED = ("submissions", "submission_lines")


class StoreError(HdsError):
    """The store file cannot be used as it is."""


# --- schema ------------------------------------------------------------------------

def _sql_type(kind: str) -> type:
    return int if kind in ("money", "flag") else str


def _migration_1(db) -> None:
    """Versioned data tables and the load log."""
    for spec in CONTRACT:
        columns = {c.field: _sql_type(c.kind) for c in spec.columns} | {"_extra": str, "_load": int, "_until_load": int}
        db[spec.name].create(columns, pk=(spec.key, "_load"))
        db[spec.name].create_index(["_until_load"], index_name=f"{spec.name}_current")
        if "discharge_id" in columns and spec.key != "discharge_id":
            db[spec.name].create_index(["discharge_id"], index_name=f"{spec.name}_discharge")
    db["loads"].create({"id": int, "loaded_at": str, "loaded_by": str, "source": str,
                        "files": str, "rows": str, "changes": str}, pk="id")


def _migration_2(db) -> None:
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


def _migration_3(db) -> None:
    """Read only what is needed: indexes for periods, patients and NHS numbers (and none on
    `_until_load` alone, which would lead SQLite to scan every current row); the source row of
    each version; the latest date in the data after each load."""
    for spec in CONTRACT:
        db.execute(f"ALTER TABLE [{spec.name}] ADD COLUMN _row INTEGER")
        db.execute(f"DROP INDEX IF EXISTS [{spec.name}_current]")
    db.execute("CREATE INDEX episodes_period ON episodes (_until_load, start_date, end_date)")
    db.execute("CREATE INDEX discharges_patient ON discharges (patient_id)")
    db.execute("CREATE INDEX discharges_nhs_number ON discharges (nhs_number)")
    db.execute("CREATE INDEX submission_lines_key ON submission_lines (claim_month, kind, episode_id, block_id)")
    db.execute("CREATE INDEX submission_lines_discharge ON submission_lines (discharge_id)")
    db.execute("ALTER TABLE loads ADD COLUMN latest_day TEXT")
    # the discharges each load touched (recorded once the ledger holds a submission), so that a claim
    # recomputes past months only for what changed since they were settled
    db.execute("ALTER TABLE loads ADD COLUMN touched_recorded INTEGER")
    db.execute("CREATE TABLE load_discharges (load_id INTEGER NOT NULL, discharge_id TEXT NOT NULL, "
               "PRIMARY KEY (load_id, discharge_id)) WITHOUT ROWID")
    latest = db.execute("SELECT MAX(id) FROM loads").fetchone()[0]
    if latest is not None:
        db.execute("UPDATE loads SET latest_day = ? WHERE id = ?", [_latest_day_sql(db.conn), latest])


def _migration_4(db) -> None:
    """Integrity: the loads log chained, each load with a digest of the data it wrote; triggers
    on the loads log and the data history; submission headers tied to their load, and tables
    for the findings and the rules each submission carries."""
    from hds import chain

    conn = db.conn
    for column in ("digest", "prev_hash", "hash"):
        conn.execute(f"ALTER TABLE loads ADD COLUMN {column} TEXT")
    for column in ("load_hash", "findings_hash", "rules_hash"):
        conn.execute(f"ALTER TABLE submissions ADD COLUMN {column} TEXT")
    conn.execute("ALTER TABLE submissions ADD COLUMN hash_version INTEGER")
    conn.execute("CREATE TABLE submission_findings (submission_id INTEGER NOT NULL REFERENCES submissions(id), "
                 "n INTEGER NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL, paragraph TEXT NOT NULL, "
                 "subject TEXT NOT NULL, ids TEXT NOT NULL, amount_pence INTEGER NOT NULL, message TEXT NOT NULL, "
                 "acknowledged TEXT NOT NULL, PRIMARY KEY (submission_id, n))")
    conn.execute("CREATE TABLE submission_rules (submission_id INTEGER NOT NULL REFERENCES submissions(id), "
                 "path TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (submission_id, path))")
    previous = chain.GENESIS
    names = [c[1] for c in conn.execute("PRAGMA table_info(loads)")]
    for values in conn.execute("SELECT * FROM loads ORDER BY id").fetchall():
        entry = dict(zip(names, values))
        entry["digest"] = chain.digest_parts(*chain.stored_versions(conn, entry["id"]))
        entry["hash"] = chain.load_hash(entry, previous)
        conn.execute("UPDATE loads SET digest = ?, prev_hash = ?, hash = ? WHERE id = ?",
                     [entry["digest"], previous, entry["hash"], entry["id"]])
        previous = entry["hash"]
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for name, sql in chain.triggers().items():
        if name not in present:
            conn.execute(sql)


def _pounds_sql(column: str) -> str:
    """Pence as exact pounds text in SQL, e.g. -248.38."""
    return (f"(CASE WHEN {column} < 0 THEN '-' ELSE '' END || (abs({column}) / 100) || '.' || "
            f"printf('%02d', abs({column}) % 100))")


def _migration_5(db) -> None:
    """For analysts (and Datasette): views of the current data, the claims and receipts by month in
    pounds, and the allocation table of every month, kept in a table the engine refreshes."""
    conn = db.conn
    for spec in CONTRACT:
        fields = []
        for column in spec.columns:
            if column.kind == "money":
                fields.append(f"{_pounds_sql(column.field)} AS [{column.name}]")
            else:
                fields.append(f"[{column.field}]")
        conn.execute(f"CREATE VIEW current_{spec.name} AS SELECT {', '.join(fields)}, _load AS loaded_in "
                     f"FROM [{spec.name}] WHERE _until_load IS NULL")
    conn.execute(f"CREATE VIEW claims_by_month AS SELECT month, id AS submission, submitted_at, submitted_by, "
                 f"load_id, {_pounds_sql('current_pence')} AS current, {_pounds_sql('adjustments_pence')} AS adjustments, "
                 f"{_pounds_sql('total_pence')} AS total, line_count AS lines, hash FROM submissions")
    conn.execute(f"CREATE VIEW receipts_by_month AS SELECT claim_month, scheme, {_pounds_sql('SUM(amount_pence)')} "
                 "AS received, COUNT(*) AS receipts FROM receipts WHERE _until_load IS NULL GROUP BY claim_month, scheme")
    conn.execute(f"CREATE VIEW claim_lines AS SELECT l.submission_id AS submission, s.month AS submitted_for, "
                 f"l.claim_month, CASE l.current WHEN 1 THEN 'claimed' ELSE 'adjustment' END AS kind_of_line, "
                 f"l.kind, l.patient_id, l.discharge_id, l.episode_id, l.block_id, l.description, l.scheme, l.service, "
                 f"l.organisation, l.days, {_pounds_sql('l.amount_pence')} AS amount, l.reason "
                 f"FROM submission_lines l JOIN submissions s ON s.id = l.submission_id")
    conn.execute("CREATE TABLE allocation_rows (patient_id TEXT, discharge_id TEXT, episode_id TEXT, block_id TEXT, "
                 "scheme TEXT, month TEXT, funder TEXT, days INTEGER, amount_pence INTEGER, rule TEXT, service TEXT, "
                 "organisation TEXT)")
    conn.execute("CREATE INDEX allocation_rows_month ON allocation_rows (month, funder)")
    conn.execute("CREATE INDEX allocation_rows_patient ON allocation_rows (patient_id)")
    conn.execute("CREATE TABLE derived (name TEXT PRIMARY KEY, load_id INTEGER, rulebook_version TEXT, "
                 "computed_at TEXT, rows INTEGER)")
    conn.execute(f"CREATE VIEW allocations AS SELECT patient_id, discharge_id, episode_id, block_id, scheme, month, "
                 f"funder, days, {_pounds_sql('amount_pence')} AS amount, rule, service, organisation FROM allocation_rows")
    conn.execute(f"CREATE VIEW allocations_by_month AS SELECT month, funder, scheme, SUM(days) AS days, "
                 f"{_pounds_sql('SUM(amount_pence)')} AS amount FROM allocation_rows GROUP BY month, funder, scheme")
    conn.execute("CREATE VIEW allocations_status AS SELECT d.load_id AS computed_from_load, "
                 "(SELECT MAX(id) FROM loads) AS latest_load, d.computed_at, d.rows, d.rulebook_version, "
                 "CASE WHEN d.load_id = (SELECT MAX(id) FROM loads) THEN 'current' ELSE 'out of date: run hds refresh' "
                 "END AS state FROM derived d WHERE d.name = 'allocations'")


MIGRATIONS = [(1, "versioned data tables and load log", _migration_1),
              (2, "claims ledger: submissions and submission lines", _migration_2),
              (3, "indexes for periods, patients and NHS numbers; source rows; latest date per load", _migration_3),
              (4, "integrity: loads chained with data digests; triggers on the loads log and the data history; "
                  "submissions tied to their load, findings and rules", _migration_4),
              (5, "views for analysts and the allocation table of every month", _migration_5)]
SCHEMA = max(m[0] for m in MIGRATIONS)


# --- opening -------------------------------------------------------------------------

def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


class Store:
    """An open store file. ``read()`` and ``write()`` are its transactions."""

    def __init__(self, path: Path, conn: sqlite3.Connection, writable: bool):
        self.path, self.conn, self.writable = path, conn, writable

    def close(self) -> None:
        self.conn.close()

    def execute(self, sql: str, params=()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params=()) -> list[dict]:
        cursor = self.conn.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    @contextlib.contextmanager
    def read(self):
        """One read transaction: every SELECT inside sees the same state of the store."""
        if self.conn.in_transaction:
            yield self
            return
        _wait_for(self, "BEGIN")
        try:
            yield self
        finally:
            self.conn.execute("COMMIT" if self.conn.in_transaction else "SELECT 1")

    @contextlib.contextmanager
    def write(self):
        """BEGIN IMMEDIATE: the write lock first, so writers queue; all or nothing on any error or kill."""
        if not self.writable:
            raise HdsError("internal error: a write on a store opened for reading")
        if self.conn.in_transaction:
            raise HdsError("internal error: a write transaction is already open")
        _wait_for(self, "BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- what the store holds -----------------------------------------------------

    def migrations(self) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT id FROM migrations")}

    def latest_load(self) -> int | None:
        return self.conn.execute("SELECT MAX(id) FROM loads").fetchone()[0]

    def loads(self) -> list[dict]:
        """The loads log, oldest first."""
        return self.query("SELECT * FROM loads ORDER BY id")

    def check_load(self, as_of: int | None) -> None:
        if as_of is not None and not self.conn.execute("SELECT 1 FROM loads WHERE id = ?", [as_of]).fetchone():
            raise HdsError(f"there is no load {as_of}; 'hds log' lists the loads")


def _wait_for(store: Store, begin: str) -> None:
    """Begin a transaction; while another process holds the lock, say so once and wait."""
    told = False
    deadline = time.monotonic() + BUSY_WAIT_S
    while True:
        try:
            store.conn.execute(begin)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise StoreError(f"{store.path}: {exc}") from None
            if time.monotonic() > deadline:
                raise StoreError(f"{store.path} stayed locked by another hds process for {BUSY_WAIT_S} s; "
                                 "try again when it has finished") from None
            if not told:
                print(f"Waiting: another hds process is writing to {store.path} ...", file=sys.stderr, flush=True)
                told = True
            time.sleep(0.2)


def open_store(path: Path | str, write: bool = False, create: bool = False) -> Store:
    """Open a store. Reading never creates or changes a file; writing migrates it to this
    version's schema; `create` makes a new store (readable by its owner only)."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder; --db takes the store's file, e.g. {path / 'hds.db'}")
    if not path.exists():
        if not create:
            raise StoreError(f"no store at {path}: run 'hds load DIR' first")
        if not path.parent.exists():
            raise StoreError(f"the folder {path.parent} does not exist; create it first or choose another --db")
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    elif path.stat().st_size and not _looks_like_sqlite(path):
        raise StoreError(f"{path} is not an hds store (it is not an SQLite database)")
    try:
        if write:
            conn = sqlite3.connect(path, isolation_level=None, timeout=0.1)
        else:
            conn = sqlite3.connect(f"file:{_uri_path(path)}?mode=ro", uri=True, isolation_level=None, timeout=0.1)
        store = Store(path, conn, write)
        _check(store, write)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} cannot be read as an hds store ({exc}); it may be damaged or truncated: "
                         "restore it from a backup") from None
    return store


def _looks_like_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _uri_path(path: Path) -> str:
    from urllib.parse import quote
    return quote(str(path.resolve()))


def _check(store: Store, write: bool) -> None:
    """An hds store of a schema this version knows: migrate it when writing, refuse otherwise."""
    conn = store.conn
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "migrations" not in tables:
        if tables:
            raise StoreError(f"{store.path} is an SQLite database but not an hds store (it has no migrations table)")
        if not write:
            raise StoreError(f"the store {store.path} is empty: run 'hds load DIR' first")
    else:
        done = store.migrations()
        newer = done - {m[0] for m in MIGRATIONS}
        if newer:
            raise StoreError(f"{store.path} was written by a newer version of hds (schema {max(done)}; this version "
                             f"knows {SCHEMA}); upgrade hds to use it")
        if done == {m[0] for m in MIGRATIONS}:
            conn.execute("PRAGMA busy_timeout = 100")
            return
        if not write:
            raise StoreError(f"{store.path} was written by an older version of hds (schema {max(done)}, this version "
                             f"uses {SCHEMA}); run 'hds migrate --db {store.path}' to bring it up to date")
    _migrate(store)


def _migrate(store: Store) -> None:
    """Apply the migrations this store lacks, under the write lock so two processes
    opening a new store cannot both apply one."""
    import sqlite_utils  # only when a schema is built or changed

    conn = store.conn
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    with store.write():
        db = sqlite_utils.Database(conn)
        if not db["migrations"].exists():
            db["migrations"].create({"id": int, "name": str, "applied_at": str}, pk="id")
        done = store.migrations()
        for number, name, apply in MIGRATIONS:
            if number not in done:
                apply(db)
                conn.execute("INSERT INTO migrations (id, name, applied_at) VALUES (?, ?, ?)", [number, name, now_utc()])


def migrate(path: Path | str) -> list[str]:
    """Bring an existing store to this version's schema; the names of the migrations applied."""
    path = Path(path)
    before = set()
    if path.exists() and _looks_like_sqlite(path):
        with contextlib.closing(sqlite3.connect(f"file:{_uri_path(path)}?mode=ro", uri=True)) as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'migrations'").fetchone():
                before = {r[0] for r in conn.execute("SELECT id FROM migrations")}
    store = open_store(path, write=True)
    store.close()
    return [name for number, name, _ in MIGRATIONS if number not in before]


# --- reading data ----------------------------------------------------------------------

def version_filter(as_of: int | None, alias: str = "", indexed: bool = False) -> tuple[str, list]:
    """The rows current now, or as at load `as_of`. Unless `indexed`, the filter is kept away from
    indexes (a unary +), so SQLite looks rows up by the query's other, sharper terms."""
    prefix = ("" if indexed else "+") + (f"{alias}." if alias else "")
    if as_of is None:
        return f"{prefix}_until_load IS NULL", []
    return f"{prefix}_load <= ? AND ({prefix}_until_load IS NULL OR {prefix}_until_load > ?)", [as_of, as_of]


def _columns(table: str, alias: str) -> str:
    """The SELECT list of a table's contract fields in the dataset's types: dates as day numbers
    (julianday in SQL, NEVER for none), text never NULL."""
    parts = []
    for column in SPEC[table].columns:
        name = f"{alias}.[{column.field}]"
        if column.kind == "date":
            parts.append(f"COALESCE(CAST(julianday({name}) - 2440587.5 AS INTEGER), {NEVER})")
        elif column.kind in ("money", "flag"):
            parts.append(name)
        else:
            parts.append(f"COALESCE({name}, '')")
    return ", ".join(parts)


def _read(store: Store, table: str, sql: str, params: list, linked: bool = False) -> Table:
    """Rows of `table` from `sql` (which selects `d`, the discharge's position, first when `linked`)."""
    rows = store.conn.execute(sql, params).fetchall()
    types = dtypes(table)
    names = (["d"] if linked else []) + list(types)
    if not rows:
        return Table.empty(({"d": np.int64} if linked else {}) | types)
    columns = {}
    for name, values in zip(names, zip(*rows)):
        kind = np.int64 if name == "d" else types[name]
        columns[name] = _objects(values) if kind is object else np.asarray(values, dtype=kind)
    return Table(columns, length=len(rows))


def _objects(values) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class StoreSource:
    """The data of a store as a command needs it, inside one read transaction, optionally as at a load."""

    def __init__(self, store: Store, as_of: int | None = None):
        store.check_load(as_of)
        self.store, self.as_of = store, as_of
        self.load_id = as_of if as_of is not None else store.latest_load()

    def _where(self, alias: str = "", indexed: bool = False) -> tuple[str, list]:
        return version_filter(self.as_of, alias, indexed)

    def _linked(self, episodes: Table | None, choose: str = "", params: list = ()) -> Data:
        """Discharges with their episodes and events, linked by discharge position, looked up in SQL.
        Either `episodes` (read already, in discharge id order) name the discharges, or the query
        `choose` does (in the order it gives) and all their episodes are read."""
        conn = self.store.conn
        conn.execute("DROP TABLE IF EXISTS temp.chosen")
        conn.execute("CREATE TEMP TABLE chosen (discharge_id TEXT PRIMARY KEY)")
        version, vparams = self._where("x")
        if episodes is not None:
            ids = episodes["discharge_id"]
            starts = group_starts(ids)
            conn.executemany("INSERT INTO temp.chosen (discharge_id) VALUES (?)", ((i,) for i in ids[starts].tolist()))
            episodes = episodes.with_columns(d=np.cumsum(starts) - 1)
        else:
            conn.execute(f"INSERT INTO temp.chosen (discharge_id) {choose}", list(params))
            episodes = _read(self.store, "episodes",
                             f"SELECT c.rowid - 1, {_columns('episodes', 'x')} FROM temp.chosen c CROSS JOIN episodes x "
                             f"ON x.discharge_id = c.discharge_id AND {version} ORDER BY c.rowid, x.start_date, "
                             "x.episode_id", vparams, linked=True)
        data = Data(
            discharges=_read(self.store, "discharges",
                             f"SELECT {_columns('discharges', 'x')} FROM temp.chosen c CROSS JOIN discharges x "
                             f"ON x.discharge_id = c.discharge_id AND {version} ORDER BY c.rowid", vparams),
            episodes=episodes,
            events=_read(self.store, "events",
                         f"SELECT c.rowid - 1, {_columns('events', 'x')} FROM temp.chosen c CROSS JOIN events x "
                         f"ON x.discharge_id = c.discharge_id AND {version} ORDER BY c.rowid, x.date, x.event_id",
                         vparams, linked=True),
            block_costs=empty("block_costs"), receipts=empty("receipts"))
        conn.execute("DROP TABLE temp.chosen")
        return data

    def period(self, first: int, last: int, also: tuple[list[str], int, int] | None = None) -> Data:
        """Episodes with a day in first..last (day numbers), their discharges and their events; linked.
        `also` = (discharge ids, first, last) adds those discharges' episodes with a day in that period."""
        current, params = self._where("x", indexed=True)
        overlap = f"{current} AND x.start_date <= ? AND (x.end_date IS NULL OR x.end_date >= ?)"
        sql = f"SELECT {_columns('episodes', 'x')} FROM episodes x WHERE {overlap}"
        values = params + [_iso(last), _iso(first)]
        if also is not None and also[0]:
            ids, also_first, also_last = also
            self.store.execute("DROP TABLE IF EXISTS temp.also")
            self.store.execute("CREATE TEMP TABLE also (discharge_id TEXT PRIMARY KEY)")
            self.store.conn.executemany("INSERT INTO temp.also VALUES (?)", ((i,) for i in ids))
            version, _ = self._where("x")  # looked up by discharge: keep the period index out of it
            sql += (f" UNION SELECT {_columns('episodes', 'x')} FROM temp.also a CROSS JOIN episodes x "
                    f"ON x.discharge_id = a.discharge_id WHERE {version} AND +x.start_date <= ? "
                    "AND (+x.end_date IS NULL OR +x.end_date >= ?)")
            values += params + [_iso(also_last), _iso(also_first)]
        episodes = _read(self.store, "episodes", f"{sql} ORDER BY 2, 4, 1", values)
        if also is not None and also[0]:
            self.store.execute("DROP TABLE temp.also")
        return self._linked(episodes).replace(block_costs=self.block_costs())

    def touched_since(self, load: int) -> list[str] | None:
        """The discharges whose rows loads after `load` (up to this source's load) changed, or None
        when one of those loads did not record them."""
        loads = self.store.execute("SELECT id, touched_recorded FROM loads WHERE id > ? AND id <= ?",
                                   [load, self.load_id]).fetchall()
        if any(not recorded for _, recorded in loads):
            return None
        return [r[0] for r in self.store.execute(
            "SELECT DISTINCT discharge_id FROM load_discharges WHERE load_id > ? AND load_id <= ? ORDER BY 1",
            [load, self.load_id])]

    def patient(self, patient_id: str) -> Data:
        """One patient's discharges, episodes and events; discharges in date order."""
        version, params = self._where("x")
        return self._linked(None, f"SELECT x.discharge_id FROM discharges x WHERE x.patient_id = ? AND {version} "
                                  "ORDER BY x.discharge_date, x.discharge_id", [patient_id] + params)

    def patients_with_nhs_number(self, nhs_number: str) -> list[str]:
        version, params = self._where()
        return [r[0] for r in self.store.execute(
            f"SELECT DISTINCT patient_id FROM discharges WHERE nhs_number = ? AND {version} ORDER BY patient_id",
            [nhs_number] + params)]

    def everything(self) -> Data:
        version, params = self._where("x")
        return Data(**{spec.name: _read(self.store, spec.name, f"SELECT {_columns(spec.name, 'x')} FROM [{spec.name}] x "
                                        f"WHERE {version} ORDER BY x.[{spec.key}]", params)
                       for spec in CONTRACT})

    def block_costs(self) -> Table:
        return self._table("block_costs")

    def source_rows(self, discharge_ids: list[str], mask_nhs_numbers: bool = True) -> dict[str, list[dict]]:
        """The stored versions behind some discharges (as at this source's load), each with the load
        that brought it, its spreadsheet row, and the file and SHA-256 it came from."""
        import json

        version, params = self._where()
        files = {row[0]: json.loads(row[1]) for row in self.store.execute("SELECT id, files FROM loads")}
        marks = ", ".join("?" * len(discharge_ids))
        found = {}
        for spec in CONTRACT[:3]:  # discharges, episodes, events
            rows = self.store.query(f"SELECT {', '.join(f'[{f}]' for f in spec.fields)}, _load, _row FROM [{spec.name}] "
                                    f"WHERE discharge_id IN ({marks}) AND {version} ORDER BY [{spec.key}]",
                                    list(discharge_ids) + params)
            for row in rows:
                name, digest = source_file(files.get(row["_load"], {}), spec.name)
                row.update(_file=name, _sha256=digest)
                if mask_nhs_numbers and row.get("nhs_number"):
                    row["nhs_number"] = "*" * 7 + row["nhs_number"][-3:]
            found[spec.name] = rows
        return found

    def organisations(self) -> set[str]:
        """Every organisation code in the episodes and block costs."""
        version, params = self._where()
        return {r[0] for r in self.store.execute(
            f"SELECT DISTINCT organisation FROM episodes WHERE {version} UNION "
            f"SELECT DISTINCT organisation FROM block_costs WHERE {version}", params + params)}

    def receipts(self) -> Table:
        return self._table("receipts")

    def _table(self, name: str) -> Table:
        version, params = self._where("x")
        return _read(self.store, name, f"SELECT {_columns(name, 'x')} FROM [{name}] x WHERE {version} "
                                       f"ORDER BY x.[{SPEC[name].key}]", params)

    def first_day(self) -> int:
        """The earliest discharge date in the data."""
        version, params = self._where()
        first = self.store.execute(f"SELECT MIN(discharge_date) FROM discharges WHERE {version}", params).fetchone()[0]
        return int(iso_days([first])[0])

    def latest_day(self) -> int:
        """The latest date anywhere in the data (for following open-ended episodes)."""
        row = self.store.execute("SELECT latest_day FROM loads WHERE id = ?", [self.load_id]).fetchone()
        if row and row[0]:
            return int(iso_days([row[0]])[0])
        return int(iso_days([_latest_day_sql(self.store.conn, self.as_of)])[0])


def source_file(files: dict[str, str], table: str) -> tuple[str, str]:
    """The file of a load that held `table` and its SHA-256: its CSV file (any case), or the load's
    workbook and the sheet."""
    for name, digest in files.items():
        if Path(name).suffix.lower() == ".csv" and Path(name).stem.strip().lower() == table:
            return name, digest
    for name, digest in files.items():
        if Path(name).suffix.lower() in (".xlsx", ".xlsm"):
            return f"{name}, sheet {table}", digest
    return "", ""


def _latest_day(conn: sqlite3.Connection, loaded: dict[str, Table]) -> str | None:
    """The latest date in the data after a load: the loaded tables' own, the store's for the others."""
    dates = []
    for table, column in DATED:
        if table in loaded:
            days = loaded[table][column]
            days = days[days != NEVER]
            if len(days):
                dates.append(_iso(int(days.max())))
        else:
            dates.append(conn.execute(f"SELECT MAX([{column}]) FROM [{table}] WHERE _until_load IS NULL").fetchone()[0])
    dates = [d for d in dates if d]
    return max(dates) if dates else None


DATED = (("discharges", "discharge_date"), ("episodes", "start_date"), ("episodes", "end_date"), ("events", "date"))


def _latest_day_sql(conn: sqlite3.Connection, as_of: int | None = None) -> str | None:
    where, params = version_filter(as_of)
    dates = [conn.execute(f"SELECT MAX([{column}]) FROM [{table}] WHERE {where}", params).fetchone()[0]
             for table, column in (("discharges", "discharge_date"), ("episodes", "start_date"),
                                   ("episodes", "end_date"), ("events", "date"))]
    dates = [d for d in dates if d]
    return max(dates) if dates else None


def _iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def is_empty(store: Store) -> bool:
    return store.latest_load() is None


# --- writing a load ---------------------------------------------------------------------

@dataclass(frozen=True)
class LoadSummary:
    load_id: int
    changes: dict  # table -> {"added": n, "changed": n, "removed": n, "unchanged": n}
    hash: str = ""  # the load's hash in the chain of loads


REMOVAL_SHARE = 0.5  # a load that would remove more than this share of a table's rows must be allowed


def save_load(store: Store, loaded, allow_removals: bool = False) -> LoadSummary:
    """Record a validated load (``hds.load.Loaded``): the tables it contains become the current
    truth, old versions are kept; all in one transaction."""
    from hds.errors import LoadError

    with store.write():
        conn = store.conn
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MB of pages while the indexes grow
        conn.execute("PRAGMA threads = 2")  # the index sorts may use a second core (about 10% quicker)
        load_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM loads").fetchone()[0]
        record = conn.execute("SELECT 1 FROM submissions LIMIT 1").fetchone() is not None
        changes, before, written = {}, {}, {}
        from concurrent.futures import ThreadPoolExecutor

        from hds import chain

        with ThreadPoolExecutor(1) as hashing:  # hashing what was written overlaps the next table and indexes
            for spec in CONTRACT:
                if spec.name in loaded.tables:
                    changes[spec.name], before[spec.name], written[spec.name] = _replace_table(
                        conn, spec, loaded.tables[spec.name], load_id, record, hashing)
            parts = {name: future.result() for name, future in written.items() if future is not None}
        staged = [name for name, future in written.items() if future is None]
        if staged:
            stored, closed = chain.stored_versions(conn, load_id)
            parts.update({name: chain.table_digest(stored[name], closed[name]) for name in staged})
        digest = chain.combine(parts)
        problems = [] if allow_removals else _removal_problems(loaded, changes, before)
        if "discharges" in loaded.tables:  # episodes and events kept from earlier loads need their discharge
            problems += _orphans(conn, [t for t in ("episodes", "events") if t not in loaded.tables])
        if problems:
            raise LoadError(problems)
        import json

        from hds import chain

        previous = conn.execute("SELECT hash FROM loads ORDER BY id DESC LIMIT 1").fetchone()
        entry = {"id": load_id, "loaded_at": now_utc(), "loaded_by": user_name(), "source": str(loaded.path),
                 "files": json.dumps(loaded.files), "rows": json.dumps({t: len(loaded.tables[t]) for t in loaded.tables}),
                 "changes": json.dumps(changes), "latest_day": _latest_day(conn, loaded.tables),
                 "digest": digest, "touched_recorded": int(record),
                 "prev_hash": previous[0] if previous and previous[0] else chain.GENESIS}
        entry["hash"] = chain.load_hash(entry, entry["prev_hash"])
        conn.execute(f"INSERT INTO loads ({', '.join(entry)}) VALUES ({', '.join('?' * len(entry))})", list(entry.values()))
    return LoadSummary(load_id, changes, entry["hash"])


def _store_rows(spec, table: Table) -> list[tuple]:
    """A validated table as rows for SQLite: ISO dates (NULL for none), 0/1 flags."""
    columns = []
    for column in spec.columns:
        values = table[column.field]
        if column.kind == "date":  # a few thousand distinct days among a million rows: each written once
            days, where = np.unique(values, return_inverse=True)
            text = days.astype("datetime64[D]").astype(str).astype(object)
            text[days == NEVER] = None
            columns.append(text[where].tolist())
        elif column.kind == "flag":
            columns.append(values.astype(np.int64).tolist())
        else:
            columns.append(values.tolist())
    columns += [table["_extra"].tolist(), table["_row"].tolist()]
    return list(zip(*columns))


def _replace_table(conn: sqlite3.Connection, spec, table: Table, load_id: int, record: bool, hashing):
    """Write a table's new versions and close the old ones, the version diff done in SQL:
    (counts of added, changed, removed and unchanged rows; rows current before; when every row was
    written into an empty table, the future digest of them, hashed on `hashing` while the indexes
    are built; else None). With `record`, the discharges whose rows changed go into load_discharges."""
    name, key = spec.name, spec.key
    fields = spec.fields + ["_extra", "_row"]
    names = ", ".join(f"[{f}]" for f in fields)
    marks = ", ".join("?" * len(fields))
    rows = _store_rows(spec, table)
    current = conn.execute(f"SELECT COUNT(*) FROM [{name}] WHERE _until_load IS NULL").fetchone()[0]
    if current == 0:
        empty = conn.execute(f"SELECT 1 FROM [{name}] LIMIT 1").fetchone() is None
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                               "AND sql IS NOT NULL", [name]).fetchall() if empty else []
        for index, _ in indexes:  # into an empty table: build the indexes once, after the rows
            conn.execute(f"DROP INDEX [{index}]")
        conn.executemany(f"INSERT INTO [{name}] ({names}, _load) VALUES ({marks}, {load_id})", rows)
        from hds import chain

        digest = hashing.submit(chain.table_digest, rows, []) if empty else None
        for _, sql in indexes:
            conn.execute(sql)
        if record and "discharge_id" in spec.fields:
            conn.execute(f"INSERT OR IGNORE INTO load_discharges SELECT {load_id}, discharge_id FROM [{name}] "
                         f"WHERE _load = {load_id}")
        return {"added": len(rows), "changed": 0, "removed": 0, "unchanged": 0}, 0, digest
    conn.execute("DROP TABLE IF EXISTS temp.incoming")
    conn.execute("DROP TABLE IF EXISTS temp.same")
    conn.execute(f"CREATE TEMP TABLE incoming AS SELECT {names} FROM [{name}] WHERE 0")
    conn.executemany(f"INSERT INTO temp.incoming ({names}) VALUES ({marks})", rows)
    conn.execute(f"CREATE UNIQUE INDEX temp.incoming_key ON incoming ([{key}])")
    equal = " AND ".join(f"c.[{f}] IS i.[{f}]" for f in spec.fields + ["_extra"])
    conn.execute(f"CREATE TEMP TABLE same AS SELECT i.[{key}] AS k FROM temp.incoming i JOIN [{name}] c "
                 f"ON c.[{key}] = i.[{key}] AND c._until_load IS NULL AND {equal}")
    conn.execute("CREATE UNIQUE INDEX temp.same_key ON same (k)")
    unchanged = conn.execute("SELECT COUNT(*) FROM temp.same").fetchone()[0]
    kept = conn.execute(f"SELECT COUNT(*) FROM temp.incoming i JOIN [{name}] c ON c.[{key}] = i.[{key}] "
                        "AND c._until_load IS NULL").fetchone()[0]
    if record and "discharge_id" in spec.fields:
        not_same = f"[{key}] NOT IN (SELECT k FROM temp.same)"
        for versions in (f"[{name}] WHERE _until_load IS NULL AND {not_same}",  # the ones this load closes
                         f"temp.incoming WHERE {not_same}"):  # and the ones it writes
            conn.execute(f"INSERT OR IGNORE INTO load_discharges SELECT {load_id}, discharge_id FROM {versions}")
    conn.execute(f"UPDATE [{name}] SET _until_load = ? WHERE _until_load IS NULL "
                 f"AND [{key}] NOT IN (SELECT k FROM temp.same)", [load_id])
    conn.execute(f"INSERT INTO [{name}] ({names}, _load) SELECT {names}, {load_id} FROM temp.incoming "
                 f"WHERE [{key}] NOT IN (SELECT k FROM temp.same)")
    conn.execute("DROP TABLE temp.incoming")
    conn.execute("DROP TABLE temp.same")
    return ({"added": len(rows) - kept, "changed": kept - unchanged, "removed": current - kept,
             "unchanged": unchanged}, current, None)


def _removal_problems(loaded, changes: dict, before: dict) -> list:
    """A load that would remove most of a table is more often a cut-down extract than the truth."""
    from hds.errors import Problem

    problems = []
    for name, c in changes.items():
        if before[name] and c["removed"] > REMOVAL_SHARE * before[name]:
            problems.append(Problem(
                loaded.sources.get(name, name), None, None,
                f"this load would remove {c['removed']:,} of the {before[name]:,} {name} in the store "
                f"({c['removed'] / before[name]:.0%}); if the extract really is complete, load it again with "
                "--allow-removals"))
    return problems


def _orphans(conn: sqlite3.Connection, tables: list[str]) -> list:
    """Episodes and events kept from earlier loads must still have their discharge."""
    from hds.errors import Problem

    problems = []
    for table in tables:
        key = SPEC[table].key
        for row_id, discharge_id, load in conn.execute(
                f"SELECT t.[{key}], t.discharge_id, t._load FROM [{table}] t WHERE t._until_load IS NULL AND NOT "
                "EXISTS (SELECT 1 FROM discharges d WHERE d.discharge_id = t.discharge_id AND d._until_load IS NULL)"):
            problems.append(Problem(
                f"{table} in the store (load {load})", None, "discharge_id",
                f"{row_id} follows discharge '{discharge_id}', which is not in the store after this load; "
                f"include {table} in the extract, or keep the discharge"))
    return problems


def known_discharges(store: Store) -> "Callable[[set[str]], set[str]]":
    """Which of some discharge ids the store holds now (for validating an extract without discharges)."""
    def lookup(ids: set[str]) -> set[str]:
        found = set()
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found |= {r[0] for r in store.execute(
                f"SELECT discharge_id FROM discharges WHERE _until_load IS NULL AND discharge_id IN "
                f"({', '.join('?' * len(chunk))})", chunk)}
        return found
    return lookup
