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
  other); the one thing it may write is a cache of what it derived
  (``write_aside``: a month's findings), on a connection of its own, only
  when it can without waiting;
- a command that writes takes the write lock first (``BEGIN IMMEDIATE``)
  and does everything in one transaction: the store holds the state before
  it or after it, never a mixture;
- a command reads only what it needs: the episodes overlapping a period
  with their discharges and events, or one patient's rows, through indexes.

The schema is built by sqlite-utils migration sets, recorded in ``_sqlite_migrations``: the
data layer's (``hds.schema``) and those of what keeps its tables beside the data (the claims
ledger's), which the caller names when it opens the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from hds.contract import CONTRACT, SPEC
from hds.days import NEVER, iso_day
from hds.errors import HdsError
from hds.integrity import check_pages, remember_own_write

if TYPE_CHECKING:  # imported where columns are read: opening a store, or reading plain rows, needs no numpy
    import numpy as np

    from hds.data import Data
    from hds.table import Table

BUSY_WAIT_S = 600  # how long a command waits for another one's write to finish

_SQLITE_CONFIG_MULTITHREAD, _SQLITE_CONFIG_MEMSTATUS = 2, 9  # sqlite3_config's options (sqlite3.h)


def _lighter_sqlite() -> bool:
    """Configure the SQLite library this process's sqlite3 module uses, before it opens its first
    connection, to do the same work with less bookkeeping: no count of the memory it holds
    (SQLITE_CONFIG_MEMSTATUS off: a lock taken on every allocation) and no lock of its own around each
    call on a connection (SQLITE_CONFIG_MULTITHREAD: Python's sqlite3 already refuses to use a
    connection from a thread other than the one that opened it, and hds opens one per thread). A
    load binds some twenty million values: about a fifth quicker to insert. What is stored and read
    is the same either way.

    Python offers no call for this, so it is made through ctypes on the very library file the sqlite3
    module loaded (as the process's memory map names it; nothing is done where there is no such file,
    as where the module carries SQLite inside it), and only while SQLite counts its memory and holds
    none (no connection open: the library may only be configured then; once configured here it counts
    none, so this is done once). Whatever fails leaves SQLite as it was.
    Whether it was done: True or False."""
    try:
        import ctypes

        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            files = {line.split(None, 5)[-1].strip() for line in maps if "libsqlite3" in line}
        if len(files) != 1:
            return False
        lib = ctypes.CDLL(files.pop())
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        lib.sqlite3_malloc.restype = ctypes.c_void_p
        lib.sqlite3_free.argtypes = [ctypes.c_void_p]
        if lib.sqlite3_libversion_number() != sqlite3.sqlite_version_info[0] * 1_000_000 + \
                sqlite3.sqlite_version_info[1] * 1_000 + sqlite3.sqlite_version_info[2]:
            return False
        probe = lib.sqlite3_malloc(64)  # memory counted (else, as once configured here, nothing can be told)
        counted = probe is not None and lib.sqlite3_memory_used() >= 64
        lib.sqlite3_free(probe)
        if not counted or lib.sqlite3_memory_used() != 0 or lib.sqlite3_shutdown() != 0:
            return False
        lib.sqlite3_config(_SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0))  # (each refused alone: the default stays)
        lib.sqlite3_config(_SQLITE_CONFIG_MULTITHREAD)
        return lib.sqlite3_initialize() == 0
    except (OSError, AttributeError, ValueError):
        return False


LIGHTER_SQLITE = _lighter_sqlite()  # once, as the store's module is first imported


class StoreError(HdsError):
    """The store file cannot be used as it is."""


# --- schema ------------------------------------------------------------------------

def pounds_sql(column: str) -> str:
    """Pence as pounds in SQL, a number (-248.38) that sorts, sums and compares as money does: the
    analysts' views give money this way. hds itself never reads these views; it reads pence."""
    return f"ROUND({column} / 100.0, 2)"


def replace_views(conn: sqlite3.Connection, views: dict[str, str]) -> None:
    """Drop each named view and create it again from its SQL (a migration that changes views only)."""
    for name, sql in views.items():
        conn.execute(f"DROP VIEW IF EXISTS [{name}]")
        conn.execute(sql)


@dataclass(frozen=True)
class Schema:
    """One sqlite-utils migration set kept in the store, known without importing it (sqlite-utils
    is slow to import, and every command opens the store): its name; each of its migrations'
    names, in order, with the number of the earlier hds's migration that did its work (None for
    one made since); and `load`, which imports the set itself to build or change a store."""

    name: str
    earlier: dict[str, int | None]
    load: Callable[[], object]
    readable_without: frozenset[str] = frozenset()  # migrations a reader can do without (views; tables read as empty)


def _data_migrations():
    from hds.schema import migrations

    return migrations


DATA = Schema("hds-data", {"data_tables": 1, "data_indexes": 3, "data_integrity": 4, "data_views": 5,
                           "data_money_as_numbers": None, "data_input_mapping": None, "data_allocation_totals": None,
                           "data_decisions": None, "data_checked_findings": None, "data_loads_read_with": None,
                           "data_shared_numbers_index": None},
              _data_migrations, frozenset({"data_money_as_numbers", "data_input_mapping", "data_allocation_totals",
                                           "data_decisions", "data_checked_findings", "data_loads_read_with",
                                           "data_shared_numbers_index"}))
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' record of the migrations applied, by set
# The earlier hds numbered its migrations 1 to 5 in a table `migrations`. A store this hds builds or
# changes records FENCE there, so an earlier hds refuses it ("written by a newer version of hds").
EARLIER_TABLE, FENCE = "migrations", 6


# --- opening -------------------------------------------------------------------------

def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def user_name() -> str:
    """Who is running hds, as kept with each load and submission (free text: hds.text)."""
    import getpass

    from hds.text import free_text_problem

    try:
        name = getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"
    problem = free_text_problem(name)
    if problem:
        raise HdsError(f"the user name (from the environment's LOGNAME or USER) {problem}; set it to your name, "
                       "which is kept with what you load or submit; nothing was stored")
    return name


class Store:
    """An open store file. ``read()`` and ``write()`` are its transactions."""

    def __init__(self, path: Path, conn: sqlite3.Connection, writable: bool):
        self.path, self.conn, self.writable = path, conn, writable
        self.migrated: list[str] = []  # the migrations applied when it was opened
        self.checked = False  # its pages passed hds.integrity's check when it was opened
        self.wrote_aside = False  # a reading command kept something in it (``write_aside``)
        self.writing_aside: list = []  # the threads of ``write_aside(..., behind=True)`` still writing
        self.aside_failure: BaseException | None = None  # what one of them raised, raised again by close()

    def close(self) -> None:
        for thread in self.writing_aside:  # what a reading command keeps is written before it ends
            thread.join()
        self.writing_aside.clear()
        self.conn.close()
        if self.writable and self.checked:
            remember_own_write(self.path)
        elif self.wrote_aside:
            _fold(self.path)
        failure, self.aside_failure = self.aside_failure, None
        if failure is not None:  # as it would have been, written in the command's own thread
            raise failure

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


def open_store(path: Path | str, write: bool = False, create: bool = False, extra: tuple[Schema, ...] = ()) -> Store:
    """Open a store. Reading never creates or changes a file; writing migrates it to this
    version's schema: the data's and the `extra` migration sets (of what keeps tables beside the
    data, e.g. the claims ledger); `create` makes a new store (readable by its owner only).
    A store in a folder (or a file) the user cannot write is read as an immutable file, with no
    write-ahead log or lock files; a write to it is refused naming the permission. Every store is
    checked page by page (SQLite's quick_check, ``hds.integrity``) when opened: a damaged one is
    refused."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder; --db takes the store's file, e.g. {path / 'hds.db'}")
    if write:
        check_writable(path, create)
    if not path.exists():
        if not create:
            raise StoreError(f"no store at {path}: run 'hds load DIR' first")
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    elif path.stat().st_size and not _looks_like_sqlite(path):
        raise StoreError(f"{path} is not an hds store (it is not an SQLite database)")
    told, deadline = False, time.monotonic() + BUSY_WAIT_S
    while True:
        store = None
        try:
            store = Store(path, _connect(path, write), write)
            check_pages(store.conn, path)
            store.checked = True
            _check(store, write, (DATA, *extra))
            if write:
                ensure_wal(store.conn, path)  # a first load that could not switch back (_journal_for_first_load)
            return store
        except BaseException as exc:
            if store is not None:
                store.close()
            if not isinstance(exc, sqlite3.DatabaseError):
                raise
            kind = _refusal(exc, path)
            if kind == "busy" and time.monotonic() < deadline:
                # a first load holds the store while it writes (_journal_for_first_load): wait for it
                if not told:
                    print(f"Waiting: another hds process is writing to {path} ...", file=sys.stderr, flush=True)
                    told = True
                time.sleep(0.2)
                continue
            raise _unreadable(path, exc, kind) from None


def _refusal(exc: sqlite3.DatabaseError, path: Path) -> str | None:
    """Why SQLite refused a store: "busy" (another process holds its lock), "cut off" (a write was cut off
    half way and its journal is left, which only a connection that may write undoes), or None. Python
    before 3.11 gives no error name: the message says as much."""
    name, text = getattr(exc, "sqlite_errorname", ""), str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or (not name and ("locked" in text or "busy" in text)):
        return "busy"
    journal = Path(f"{path}-journal")
    if name == "SQLITE_READONLY_ROLLBACK" or (not name and "readonly" in text and journal.exists()
                                              and journal.stat().st_size > 0):
        return "cut off"
    return None


def _unreadable(path: Path, exc: sqlite3.DatabaseError, kind: str | None) -> StoreError:
    """What a store SQLite refused to open is, in words the user can act on."""
    if kind == "busy":
        return StoreError(f"{path} stayed locked by another hds process for {BUSY_WAIT_S} s; try again when it "
                          "has finished")
    if kind == "cut off":
        return StoreError(f"a load into {path} was cut off before it finished, and SQLite undoes it only when the "
                          "store is next opened by a command that writes it: run 'hds load' again (if you cannot "
                          "write the store, ask its owner to), which first puts the store back as it was before "
                          "that load")
    return StoreError(f"{path} cannot be read as an hds store ({exc}); it may be damaged or truncated: "
                      "restore it from a backup")


def check_writable(path: Path, create: bool = False) -> None:
    """Refuse, naming the permission, a store (or its first load) that cannot be written: SQLite
    needs to write the file and, for its write-ahead log, its folder."""
    folder = path.parent
    if not path.exists():
        if not create:
            return  # open_store says there is no store
        if not folder.is_dir():
            raise StoreError(f"the folder {folder} does not exist; create it first or choose another --db")
        if not _writable(folder):
            raise StoreError(f"the folder {folder} cannot be written (permission denied), so no store can be made "
                             "there; choose another --db in a folder you can write")
        return
    for what, where in (("file", path), ("folder", folder)):
        if not _writable(where):
            raise StoreError(f"{path} cannot be changed: permission denied (the {what} {where} is read-only for you); "
                             "commands that only read it still work; ask its owner, or copy it to a folder you "
                             "can write")


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def _read_mode(path: Path) -> str:
    """How SQLite opens a store to read it: read-only; immutable (no lock or write-ahead log files)
    when the user cannot write it, unless its write-ahead log still holds changes, which an
    immutable store would silently leave out."""
    if not read_only_for_me(path):
        return "mode=ro"
    journal = Path(f"{path}-journal")
    if journal.exists() and journal.stat().st_size:  # a first load writing it, or one cut off: not immutable
        return "mode=ro"  # SQLite's locks: it waits for the one, and refuses the other (``_refusal``)
    wal = Path(f"{path}-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return "immutable=1"
    if Path(f"{path}-shm").exists():
        return "mode=ro"  # SQLite reads the log through its existing index
    raise StoreError(f"{wal} holds changes not yet folded into {path}, and without its index file ({path}-shm) they "
                     "cannot be read from a folder you cannot write; copy the store with its -wal file to a folder "
                     "you can write, or ask the store's owner to run any hds command on it first")


def read_only_for_me(path: Path) -> bool:
    """The store or its folder cannot be written by this user: it is read as an immutable file."""
    return not (_writable(path) and _writable(path.parent))


def write_aside(store: Store, write: Callable[[sqlite3.Connection], None], behind: bool = False) -> bool:
    """Let a command that only reads `store` keep something derived in it (a cache such as
    ``claims.checked``): `write(conn)` runs in a write transaction of a connection of its own,
    only when this user can write the store and no other process is writing it at that moment.
    It never waits, never migrates and never fails the command: whether it was written. `behind`:
    written by a thread of its own while the command goes on (SQLite writes without holding Python's
    lock), which closing the store waits for; True when it was started."""
    if read_only_for_me(store.path):
        return False
    if behind:
        import threading

        def aside() -> None:
            try:
                write_aside(store, write)  # SQLite's errors are caught there: nothing kept, nothing said
            except BaseException as exc:  # noqa: BLE001 - a fault of hds: raised by close(), not printed here
                store.aside_failure = exc

        thread = threading.Thread(target=aside, name="hds-write-aside", daemon=True)
        store.writing_aside.append(thread)
        thread.start()
        return True
    try:
        conn = sqlite3.connect(store.path, isolation_level=None, timeout=0)
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                conn.execute("PRAGMA synchronous = NORMAL")  # a crash may lose what it wrote, never damage the store
            conn.execute("BEGIN IMMEDIATE")
            write(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    store.wrote_aside = True
    remember_own_write(store.path)  # its pages passed when it was opened; only hds wrote since
    return True


def _fold(path: Path) -> None:
    """Fold what a reading command wrote aside into the store file, as closing a write leaves every
    store (its write-ahead log empty), once the command's own reading is closed. Nothing is said when
    it cannot (another process is using the store): the next write folds it."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return
    if busy:
        return
    remember_own_write(path)


PAGE_BYTES = 8192  # the page size of a new store: a first load of 575,000 discharges writes half as many
# pages as at SQLite's 4,096 and takes about 5% less time; a store keeps the size it was made with


def _connect(path: Path, write: bool) -> sqlite3.Connection:
    if write:
        new = path.stat().st_size == 0  # made empty by open_store: nothing written in it yet
        conn = sqlite3.connect(path, isolation_level=None, timeout=0.1)
        if new:
            conn.execute(f"PRAGMA page_size = {PAGE_BYTES}")
    else:
        conn = sqlite3.connect(f"file:{_uri_path(path)}?{_read_mode(path)}", uri=True, isolation_level=None,
                               timeout=0.1)
    conn.execute("PRAGMA temp_store = MEMORY")  # set before anything uses temporary storage (it cannot change after)
    return conn


def _looks_like_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _uri_path(path: Path) -> str:
    from urllib.parse import quote
    return quote(str(path.resolve()))


def _check(store: Store, write: bool, schema: tuple[Schema, ...]) -> None:
    """An hds store of a schema this version knows: migrate it when writing, refuse otherwise."""
    conn = store.conn
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {EARLIER_TABLE, MIGRATIONS_TABLE} & tables:
        if tables:
            raise StoreError(f"{store.path} is an SQLite database but not an hds store (it has no migrations table)")
        if not write:
            raise StoreError(f"the store {store.path} is empty: run 'hds load DIR' first")
    else:
        earlier = _earlier(conn)
        if earlier and max(earlier) > FENCE:
            raise StoreError(f"{store.path} was written by a newer version of hds (schema {max(earlier)}; this version "
                             f"knows {FENCE}); upgrade hds to use it")
        pending = []
        for part in schema:
            applied = _applied(conn, part, earlier)
            unknown = [name for name in applied if name not in part.earlier]
            if unknown:
                raise StoreError(f"{store.path} was written by a newer version of hds (its migration {part.name} "
                                 f"{unknown[0]} is unknown to this version); upgrade hds to use it")
            pending += [f"{part.name} {name}" for name in part.earlier
                        if name not in applied and (write or name not in part.readable_without)]
        if not pending and (not write or FENCE in earlier):
            conn.execute("PRAGMA busy_timeout = 100")
            return
        if pending and not write:
            raise StoreError(f"{store.path} was written by an older version of hds (its schema lacks "
                             f"{', '.join(pending)}); run 'hds migrate --db {store.path}' to bring it up to date")
    store.migrated = _migrate(store, schema)


def _earlier(conn: sqlite3.Connection) -> set[int]:
    """The numbered migrations the earlier hds recorded (and FENCE, once this hds changed the store)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [EARLIER_TABLE]).fetchone():
        return set()
    return {row[0] for row in conn.execute(f"SELECT id FROM [{EARLIER_TABLE}]")}


def _applied(conn: sqlite3.Connection, part: Schema, earlier: set[int]) -> list[str]:
    """The migrations of `part` the store holds: those recorded for its set or, for a store of the
    earlier hds that none are recorded for yet, those that do the work of its numbered migrations."""
    recorded = []
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [MIGRATIONS_TABLE]).fetchone():
        recorded = [row[0] for row in conn.execute(
            f"SELECT name FROM [{MIGRATIONS_TABLE}] WHERE migration_set = ? ORDER BY rowid", [part.name])]
    return recorded or [name for name, number in part.earlier.items() if number in earlier]


def _migrate(store: Store, schema: tuple[Schema, ...]) -> list[str]:
    """Adopt a store of the earlier hds and apply the migrations it lacks, under the write lock so
    two processes opening a new store cannot both apply one; the migrations applied."""
    from hds.migrating import load_sqlite_utils  # only when a schema is built or changed

    conn = store.conn
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    applied = []
    with store.write():
        db = load_sqlite_utils().Database(conn)
        earlier = _earlier(conn)
        for part in schema:
            migrations = part.load()
            _adopt(db, part, migrations, earlier)
            pending = [m.name for m in migrations.pending(db)]
            migrations.apply(db)
            applied += [f"{part.name} {name}" for name in pending]
        if not db[EARLIER_TABLE].exists():
            db[EARLIER_TABLE].create({"id": int, "name": str, "applied_at": str}, pk="id")
        if FENCE not in earlier:
            conn.execute(f"INSERT INTO [{EARLIER_TABLE}] (id, name, applied_at) VALUES (?, ?, ?)",
                         [FENCE, f"the schema is kept by sqlite-utils migration sets in {MIGRATIONS_TABLE}", now_utc()])
    return applied


def _adopt(db, part: Schema, migrations, earlier: set[int]) -> None:
    """A store of the earlier hds: record as applied the migrations of `part` whose work its numbered
    migrations did, once (the store then holds them, and only the others are applied)."""
    migrations.ensure_migrations_table(db)
    if not earlier or db.execute(f"SELECT 1 FROM [{MIGRATIONS_TABLE}] WHERE migration_set = ?",
                                 [part.name]).fetchone():
        return
    adopted = [name for name, number in part.earlier.items() if number in earlier]
    db[MIGRATIONS_TABLE].insert_all([{"migration_set": part.name, "name": name, "applied_at": now_utc()}
                                     for name in adopted])


def migrate(path: Path | str, extra: tuple[Schema, ...] = ()) -> list[str]:
    """Bring an existing store to this version's schema (the data's and the `extra` sets); the
    migrations applied."""
    store = open_store(path, write=True, extra=extra)
    store.close()
    return store.migrated


def schema_problems(conn: sqlite3.Connection, extra: tuple[Schema, ...] = ()) -> list[str]:
    """Every table, view and trigger of the store that this version's schema (the data's and the
    `extra` migration sets) does not make, and every column a table has that it should not (or
    lacks): a change of the store's shape made without a migration."""
    expected, present = _shape(_built_schema(extra)), _shape(conn)
    problems = []
    for (kind, name), columns in sorted(present.items()):
        if (kind, name) not in expected:
            problems.append(f"the store holds a {kind} '{name}' that hds does not make: it was added without hds")
        elif kind == "table" and set(columns) != set(expected[(kind, name)]):
            added = [c for c in columns if c not in expected[(kind, name)]]
            lost = [c for c in expected[(kind, name)] if c not in columns]
            said = "; ".join(part for part in (f"column(s) {', '.join(added)} added" if added else "",
                                               f"column(s) {', '.join(lost)} removed" if lost else "") if part)
            problems.append(f"the table '{name}' does not have the columns hds made ({said})")
    for kind, name in sorted(set(expected) - set(present)):
        if kind == "trigger":
            continue  # a missing trigger is named by the triggers' own check (hds.chain.trigger_problems)
        problems.append(f"the store lacks the {kind} '{name}' that hds makes: it was removed")
    return problems


def _shape(conn: sqlite3.Connection) -> dict[tuple[str, str], list[str]]:
    """(kind, name) -> columns (tables) of every table, view and trigger but SQLite's own."""
    found = conn.execute("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') "
                         "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").fetchall()
    return {(kind, name): ([c[1] for c in conn.execute(f"PRAGMA table_info([{name}])")] if kind == "table" else [])
            for kind, name in found}


def _built_schema(extra: tuple[Schema, ...]) -> sqlite3.Connection:
    """An empty store of this version's schema, in memory, to compare a store's shape with."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _migrate(Store(Path(":memory:"), conn, True), (DATA, *extra))
    return conn


# --- reading data ----------------------------------------------------------------------

def version_filter(as_of: int | None, alias: str = "", indexed: bool = False) -> tuple[str, list]:
    """The rows current now, or as at load `as_of`. Unless `indexed`, the filter is kept away from
    indexes (a unary +), so SQLite looks rows up by the query's other, sharper terms."""
    prefix = ("" if indexed else "+") + (f"{alias}." if alias else "")
    if as_of is None:
        return f"{prefix}_until_load IS NULL", []
    return f"{prefix}_load <= ? AND ({prefix}_until_load IS NULL OR {prefix}_until_load > ?)", [as_of, as_of]


def _columns(table: str, alias: str, chosen: bool = False, iso: bool = False) -> str:
    """The SELECT list of a table's contract fields in the dataset's types: dates as day numbers
    (`_day`), or as the store keeps them with `iso` (for `_read`, which counts the days itself), text
    never NULL; with `chosen`, the discharge's position in temp.chosen in place of its id (`_read`
    puts the id back)."""
    return ", ".join("c.rowid - 1" if chosen and column.field == "discharge_id" else _column(column, alias, iso)
                     for column in SPEC[table].columns)


def _column(column, alias: str, iso: bool = False) -> str:
    name = f"{alias}.[{column.field}]"
    if column.kind == "date":
        return name if iso else _day(name)
    if column.kind in ("money", "flag"):
        return name
    return f"COALESCE({name}, '')"


def _day(date: str) -> str:
    """SQL: the day number of a stored date (julianday), NEVER for none (or text that is not a date)."""
    return f"COALESCE(CAST(julianday({date}) - 2440587.5 AS INTEGER), {NEVER})"


def _read(store: Store, table: str, sql: str, params: list, linked: bool = False,
          chosen: np.ndarray | None = None, iso: bool = False) -> Table:
    """Rows of `table` from `sql` (which selects `d`, the discharge's position, first when `linked`;
    its position in place of the discharge id when the `chosen` ids are given: no text to read twice,
    and the rows come in the order of the positions; dates as stored with `iso`), read a column at a
    time: SQLite joins each column's values, in the query's order, into one text that numpy splits, so
    no Python object is made for a number nor a tuple for a row. (SQLite keeps a subquery's ORDER BY
    under an aggregate other than count, min and max, so group_concat takes the rows in order.) Text
    is joined with the unit separator, which loading refuses in any cell; ISO dates are joined as they
    are and numpy counts their days. A column that does not split into one value a row is read row by
    row instead."""
    import numpy as np

    from hds.data import dtypes
    from hds.table import Table

    types = ({"d": np.int64} if linked else {}) | dtypes(table)
    if chosen is not None:
        types["discharge_id"] = np.int64
    dates = {c.field for c in SPEC[table].columns if c.kind == "date"} if iso else set()
    names = ", ".join(f"[{name}]" for name in types)
    joined = ", ".join(f"group_concat(ifnull([{name}], '{_NO_DATE}'), '')" if name in dates else
                       f"group_concat([{name}], {_TEXT_SEPARATOR if kind is object else _NUMBER_SEPARATOR})"
                       for name, kind in types.items())
    n, *texts = store.conn.execute(f"WITH q({names}) AS ({sql}) SELECT count(*), {joined} FROM q", params).fetchone()
    if not n:
        return Table.empty(types | {"discharge_id": object} if chosen is not None else types)
    columns = {name: _iso_days(text, n) if name in dates else _split(text, kind, n)
               for (name, kind), text in zip(types.items(), texts)}
    if any(values is None for values in columns.values()):
        columns = _read_rows(store, types, dates, f"WITH q({names}) AS ({sql})", params)
    if chosen is not None:
        at = columns["discharge_id"]
        if (at[1:] < at[:-1]).any():  # they come in temp.chosen's order, which SQL does not promise
            order = np.argsort(at, kind="stable")
            columns = {name: values[order] for name, values in columns.items()}
        columns["discharge_id"] = chosen[columns["discharge_id"]]
    return Table(columns, length=n)


_TEXT_SEPARATOR, _NUMBER_SEPARATOR = "'\x1f'", "','"  # SQL literals of the characters (char(31) is a call a row)
_NO_DATE = "-" * 10  # a date that is not there, as wide as one that is


def _read_rows(store: Store, types: dict[str, object], dates: set[str], rows: str, params: list) -> dict:
    """`_read`'s columns of the query `rows` (a WITH clause naming q), read a row at a time."""
    import numpy as np

    selected = ", ".join(_day(f"[{name}]") if name in dates else f"[{name}]" for name in types)
    found = store.conn.execute(f"{rows} SELECT {selected} FROM q", params).fetchall()
    return {name: _objects(values) if kind is object else np.asarray(values, dtype=kind)
            for (name, kind), values in zip(types.items(), zip(*found))}


def _iso_days(text: str | None, n: int) -> np.ndarray | None:
    """Day numbers of the `n` dates joined by `_read` (YYYY-MM-DD each; none: NEVER), counted as SQLite's
    julianday counts them (a day past the month's end, 2020-02-30, runs into the next month), or None
    when they are not all of that form (then SQLite counts them)."""
    import numpy as np

    if text is None or len(text) != 10 * n or not text.isascii():
        return None
    chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(n, 10) - np.uint8(ord("0"))
    dash = np.uint8(ord("-") - ord("0") + 256)  # the subtraction wraps
    blank = (chars == dash).all(axis=1)
    digit = chars.astype(np.int32)
    year = digit[:, 0] * 1000 + digit[:, 1] * 100 + digit[:, 2] * 10 + digit[:, 3]
    month, day = digit[:, 5] * 10 + digit[:, 6], digit[:, 8] * 10 + digit[:, 9]
    dated = ((np.delete(chars, [4, 7], axis=1) < 10).all(axis=1) & (chars[:, 4] == dash) & (chars[:, 7] == dash)
             & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31))
    if not (dated | blank).all():
        return None
    year = year - (month <= 2)  # days since 1970-01-01 in the proleptic Gregorian calendar (days_from_civil)
    era = year // 400
    of_era = year - era * 400
    days = (era * 146097 + of_era * 365 + of_era // 4 - of_era // 100
            + (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 719469).astype(np.int64)
    days[blank] = NEVER
    return days


def _split(text: str | None, kind, n: int) -> np.ndarray | None:
    """The `n` values of a column joined by `_read`, or None when they are not `n` of that kind."""
    import numpy as np

    if text is None:
        return None
    if kind is object:
        values = text.split("\x1f")
        return _objects(values) if len(values) == n else None
    try:
        numbers = np.fromstring(text, dtype=np.int64, sep=",")
    except ValueError:
        return None
    return numbers.astype(kind, copy=False) if len(numbers) == n else None


def _objects(values) -> np.ndarray:
    import numpy as np

    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _by_discharge(table: Table, day: str, key: str) -> Table:
    """Linked rows in (`d`, `day`, `key`) order (`_discharge_order`)."""
    return table.take(_discharge_order(table["d"], table[day], table[key]))


def _discharge_order(d: np.ndarray, days: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The positions of rows in (d, days, keys) order, as SQL's ORDER BY would give them, which SQLite
    sorts at twice the cost: numpy sorts the numbers, and the rows that tie on both (few) are put in
    `keys` order (Python's order of text is SQLite's)."""
    import numpy as np

    n = len(d)
    if n < 2:
        return np.arange(n)
    low, span = int(days.min()), int(days.max()) - int(days.min()) + 1
    if span * (int(d.max()) + 1) < 2**62:  # both numbers in one int64
        composite = d * span + (days - low)
        order = np.argsort(composite, kind="stable")
        tied = composite[order][1:] == composite[order][:-1]
    else:
        order = np.lexsort((days, d))
        tied = (d[order][1:] == d[order][:-1]) & (days[order][1:] == days[order][:-1])
    if tied.any():
        edges = np.flatnonzero(np.diff(np.concatenate(([False], tied, [False])).astype(np.int8)))
        for start, end in zip(edges[::2].tolist(), (edges[1::2] + 1).tolist()):
            order[start:end] = sorted(order[start:end].tolist(), key=keys.__getitem__)
    return order


class StoreSource:
    """The data of a store as a command needs it, inside one read transaction, optionally as at a load."""

    def __init__(self, store: Store, as_of: int | None = None):
        store.check_load(as_of)
        self.store, self.as_of = store, as_of
        self.load_id = as_of if as_of is not None else store.latest_load()

    def _where(self, alias: str = "", indexed: bool = False) -> tuple[str, list]:
        return version_filter(self.as_of, alias, indexed)

    def _linked(self, episodes: Table | None, choose: str = "", params: list = (), events_beside: bool = False) -> Data:
        """Discharges with their episodes and events, linked by discharge position, looked up in SQL.
        Either `episodes` (read already, in any order) name the discharges, in id order, or the query
        `choose` does (in the order it gives) and all their episodes are read. `events_beside`: the
        events are read through a second connection meanwhile (``read_beside``)."""
        import numpy as np

        from hds.data import Data, empty
        from hds.table import group_starts

        conn = self.store.conn
        conn.execute("DROP TABLE IF EXISTS temp.chosen")
        # no key to keep up as it is filled: its ids are distinct already, and it is only ever scanned, in
        # rowid order (each CROSS JOIN below keeps it the outer table)
        conn.execute("CREATE TEMP TABLE chosen (discharge_id TEXT)")
        version, vparams = self._where("x")
        events = None  # read here after the rest, unless `events_beside`
        if episodes is not None:  # sorted by numpy (numpy's order of text is SQLite's), faster than SQLite
            order = np.argsort(episodes["discharge_id"].astype(str), kind="stable")
            ids = episodes["discharge_id"][order]
            starts = group_starts(ids)
            chosen, d = ids[starts], np.cumsum(starts) - 1
            insert_ids(conn, "INSERT INTO temp.chosen (discharge_id) VALUES ", chosen.tolist())
            order = order[_discharge_order(d, episodes["start_date"][order], episodes["episode_id"][order])]
            episodes = episodes.take(order).with_columns(d=d)
        else:
            conn.execute(f"INSERT INTO temp.chosen (discharge_id) {choose}", list(params))
            chosen = _objects([r[0] for r in conn.execute("SELECT discharge_id FROM temp.chosen ORDER BY rowid")])
            events = self.read_beside(lambda other: other._chosen_events(chosen)) if events_beside else None
            episodes = self._chosen_rows("episodes", chosen, "start_date", "episode_id")
        data = Data(
            discharges=_read(self.store, "discharges",
                             f"SELECT {_columns('discharges', 'x', chosen=True, iso=True)} FROM temp.chosen c CROSS "
                             f"JOIN discharges x ON x.discharge_id = c.discharge_id AND {version}",
                             vparams, chosen=chosen, iso=True),
            episodes=episodes, events=events() if events is not None else self._chosen_rows("events", chosen, "date",
                                                                                                "event_id"),
            block_costs=empty("block_costs"), receipts=empty("receipts"))
        conn.execute("DROP TABLE temp.chosen")
        return data

    def _chosen_events(self, chosen: np.ndarray) -> Table:
        """The events of the discharges `chosen` (ids, in id order), linked: `_linked`'s, read through
        another connection (``read_beside``), or this one when that cannot be (a table of their own)."""
        conn = self.store.conn
        conn.execute("DROP TABLE IF EXISTS temp.chosen_events")
        conn.execute("CREATE TEMP TABLE chosen_events (discharge_id TEXT)")
        insert_ids(conn, "INSERT INTO temp.chosen_events (discharge_id) VALUES ", chosen.tolist())
        events = self._chosen_rows("events", chosen, "date", "event_id", "chosen_events")
        conn.execute("DROP TABLE temp.chosen_events")
        return events

    def _chosen_rows(self, table: str, chosen: np.ndarray, day: str, key: str, ids: str = "chosen") -> Table:
        """The rows of `table` (episodes or events) of the discharges in temp.chosen (or the temporary
        table `ids`: ids `chosen`, by position), linked, in (discharge, `day`, `key`) order."""
        version, params = self._where("x")
        return _by_discharge(_read(self.store, table, f"SELECT c.rowid - 1, {_columns(table, 'x', True, True)} "
                                                      f"FROM temp.[{ids}] c CROSS JOIN [{table}] x ON x.discharge_id = "
                                                      f"c.discharge_id AND {version}", params, linked=True,
                                   chosen=chosen, iso=True), day, key)

    def period(self, first: int, last: int, also: tuple[list[str], int, int] | None = None) -> Data:
        """Episodes with a day in first..last (day numbers), their discharges and their events; linked.
        `also` = (discharge ids, first, last) adds those discharges' episodes with a day in that period."""
        current, params = self._where("x", indexed=True)
        overlap = f"{current} AND x.start_date <= ? AND (x.end_date IS NULL OR x.end_date >= ?)"
        sql = f"SELECT {_columns('episodes', 'x', iso=True)} FROM episodes x WHERE {overlap}"
        values = params + [_iso(last), _iso(first)]
        if also is not None and also[0]:
            ids, also_first, also_last = also
            self.store.execute("DROP TABLE IF EXISTS temp.also")
            self.store.execute("CREATE TEMP TABLE also (discharge_id TEXT PRIMARY KEY)")
            insert_ids(self.store.conn, "INSERT INTO temp.also VALUES ", list(ids))
            version, _ = self._where("x")  # looked up by discharge: keep the period index out of it
            sql += (f" UNION SELECT {_columns('episodes', 'x', iso=True)} FROM temp.also a CROSS JOIN episodes x "
                    f"ON x.discharge_id = a.discharge_id WHERE {version} AND +x.start_date <= ? "
                    "AND (+x.end_date IS NULL OR +x.end_date >= ?)")
            values += params + [_iso(also_last), _iso(also_first)]
        episodes = _read(self.store, "episodes", sql, values, iso=True)
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
        return self._linked(None, *self._patient(patient_id, "x.discharge_id"))

    def _patient(self, patient_id: str, columns: str) -> tuple[str, list]:
        version, params = self._where("x")
        return (f"SELECT {columns} FROM discharges x WHERE x.patient_id = ? AND {version} "
                "ORDER BY x.discharge_date, x.discharge_id", [patient_id] + params)

    def patient_rows(self, patient_id: str) -> tuple[list[dict], list[dict]]:
        """One patient's discharges (in date order) and their episodes (by start date and id), as
        `patient` reads them (dates as day numbers) but in plain rows by field, for a caller that
        needs no columns."""
        fields = [c.field for c in SPEC["discharges"].columns]
        discharges = [dict(zip(fields, row)) for row in self.store.execute(
            *self._patient(patient_id, _columns("discharges", "x")))]
        version, params = self._where("x")
        marks = ", ".join("?" * len(discharges))
        fields = [c.field for c in SPEC["episodes"].columns]
        episodes = [dict(zip(fields, row)) for row in self.store.execute(
            f"SELECT {_columns('episodes', 'x')} FROM episodes x WHERE x.discharge_id IN ({marks}) AND {version} "
            "ORDER BY x.start_date, x.episode_id", [d["discharge_id"] for d in discharges] + params)]
        return discharges, episodes

    def discharges_data(self, discharge_ids: list[str]) -> Data:
        """Some discharges (those of the ids that this source holds) with all their episodes and events,
        in discharge id order; linked, without block costs."""
        self.store.execute("DROP TABLE IF EXISTS temp.wanted")
        self.store.execute("CREATE TEMP TABLE wanted (discharge_id TEXT PRIMARY KEY)")
        insert_ids(self.store.conn, "INSERT OR IGNORE INTO temp.wanted VALUES ", list(discharge_ids))
        version, params = self._where("x")
        data = self._linked(None, "SELECT x.discharge_id FROM temp.wanted w CROSS JOIN discharges x ON "
                                  f"x.discharge_id = w.discharge_id AND {version} ORDER BY x.discharge_id", params)
        self.store.execute("DROP TABLE temp.wanted")
        return data

    def days_to_events(self, first: int, last: int, kinds: tuple[str, ...]) -> tuple[list[int], ...]:
        """For each of `kinds`: the days from discharge to the earliest event of that kind, of every
        discharge dated first..last (day numbers) with an episode that has a day in that period and
        such an event, in discharge id order."""
        version, params = self._where("x")
        events, eparams = self._where("v")
        episodes, pparams = self._where("p")
        earliest = ", ".join("CAST(julianday(MIN(CASE WHEN v.event = ? THEN v.date END)) - julianday(x.discharge_date) "
                             "AS INTEGER)" for _ in kinds)
        rows = self.store.execute(
            f"SELECT {earliest} FROM discharges x JOIN events v ON v.discharge_id = x.discharge_id AND {events} "
            f"AND v.event IN ({', '.join('?' * len(kinds))}) WHERE {version} AND x.discharge_date BETWEEN ? AND ? "
            f"AND EXISTS (SELECT 1 FROM episodes p WHERE p.discharge_id = x.discharge_id AND {episodes} "
            "AND p.start_date <= ? AND (p.end_date IS NULL OR p.end_date >= ?)) "
            "GROUP BY x.discharge_id ORDER BY x.discharge_id",
            [*kinds, *eparams, *kinds, *params, _iso(first), _iso(last), *pparams, _iso(last), _iso(first)]).fetchall()
        return tuple([row[i] for row in rows if row[i] is not None] for i in range(len(kinds)))

    def texts(self, table: str, names: list[str]) -> list[list[str]]:
        """Some text columns of every row of a table (as at this source's load), a list each ("" for none), in
        no particular order (the table's own: reading them in key order would visit the rows through the
        key's index). Read as one text, the values between unit separators (a control character, which a
        load refuses in every cell), that SQLite hands over several times faster than a row at a time; a
        table with a value holding one is read row by row."""
        version, params = self._where("x")
        cells = [_column(SPEC[table].column(name), "x") for name in names]
        joined = f" || {_TEXT_SEPARATOR} || ".join(cells)
        count, text = self.store.execute(f"SELECT COUNT(*), group_concat({joined}, {_TEXT_SEPARATOR}) "
                                         f"FROM [{table}] x WHERE {version}", params).fetchone()
        parts = text.split("\x1f") if count else []
        if len(parts) == count * len(names):
            return [parts[i::len(names)] for i in range(len(names))]
        rows = self.store.execute(f"SELECT {', '.join(cells)} FROM [{table}] x WHERE {version}", params).fetchall()
        return [list(column) for column in zip(*rows)]  # a separator in a value (not from a load): row by row

    def read_beside(self, read: Callable[["StoreSource"], object]) -> Callable[[], object]:
        """Start `read(source)` of this source's data through a second read-only connection, in a thread,
        and go on: SQLite runs each query without holding Python's lock, so both connections read at
        once, on two cores. Gives a function that waits for its result. The second connection reads the
        same load (refusing to, when a load was written since this source's transaction began); when it
        cannot, or the store is not a file, `read(self)` runs here when the result is asked for."""
        import threading

        if not Path(self.store.path).is_file():
            return lambda: read(self)
        done: dict = {}

        def run() -> None:
            try:  # the store was opened and checked already: a second connection, read-only, nothing more
                other = Store(self.store.path, _connect(self.store.path, False), False)
                try:
                    with other.read():
                        if self.as_of is not None or other.latest_load() == self.load_id:
                            done["result"] = read(StoreSource(other, self.as_of))
                finally:
                    other.close()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, who reads here instead
                done["error"] = exc

        thread = threading.Thread(target=run, name="hds-read-beside", daemon=True)
        thread.start()

        def result():
            thread.join()
            return done["result"] if "result" in done else read(self)

        return result

    def with_care(self, first: int, last: int) -> Data:
        """The discharges with an episode that has a day in first..last (day numbers), with all their
        episodes (those outside the period too) and events, in discharge id order; linked, without
        block costs."""
        current, params = self._where("x", indexed=True)
        return self._linked(None, f"SELECT DISTINCT x.discharge_id FROM episodes x WHERE {current} AND "
                                  "x.start_date <= ? AND (x.end_date IS NULL OR x.end_date >= ?) ORDER BY 1",
                            params + [_iso(last), _iso(first)], events_beside=True)

    def grouped_values(self, table: str, column: str, by: str) -> dict[str, np.ndarray]:
        """The whole number in `column` (e.g. weekly_pence) of every row of a table (as at this source's
        load), grouped by the choice column `by` (e.g. service): choice -> values, in no particular order.
        Read as one text of numbers, each value times one more than the number of choices plus its
        choice's place, which SQLite hands over many times faster than a row at a time."""
        import numpy as np

        choices = SPEC[table].column(by).choices
        base = len(choices) + 1  # the last place: a value not among the choices
        place = " ".join(f"WHEN ? THEN {i}" for i in range(len(choices)))
        version, params = self._where("x")
        text = self.store.execute(f"SELECT group_concat(x.[{column}] * {base} + (CASE x.[{by}] {place} ELSE {base - 1} "
                                  f"END)) FROM [{table}] x WHERE {version}", [*choices, *params]).fetchone()[0]
        packed = np.fromstring(text or "", dtype=np.int64, sep=",")
        values, places = np.divmod(packed, base)
        return {choice: values[places == i] for i, choice in enumerate(choices)}

    def shared_nhs_numbers(self) -> tuple[list[str], list[str], list[str]]:
        """The discharges (as at this source's load) whose NHS number another patient id carries too: their
        ids, patient ids and NHS numbers, a list each, in no particular order. SQLite finds them in the
        index on (nhs_number, patient_id, _until_load, _load, discharge_id) alone, without visiting a
        row, and hands them over as one text (as ``texts`` does); a value holding the separator, which
        no load writes, is read row by row."""
        version, params = self._where("x")
        other, oparams = self._where("y")
        shared = (f"FROM discharges x WHERE x.nhs_number > '' AND {version} AND EXISTS (SELECT 1 FROM discharges y "
                  f"WHERE y.nhs_number = x.nhs_number AND COALESCE(y.patient_id, '') != COALESCE(x.patient_id, '') AND {other})")
        cells = ["x.discharge_id", "COALESCE(x.patient_id, '')", "x.nhs_number"]
        joined = f" || {_TEXT_SEPARATOR} || ".join(cells)
        count, text = self.store.execute(f"SELECT COUNT(*), group_concat({joined}, {_TEXT_SEPARATOR}) {shared}",
                                         params + oparams).fetchone()
        parts = text.split("\x1f") if count else []
        if len(parts) == 3 * count:
            return parts[0::3], parts[1::3], parts[2::3]
        rows = self.store.execute(f"SELECT {', '.join(cells)} {shared}", params + oparams).fetchall()
        return tuple(list(column) for column in zip(*rows)) or ([], [], [])

    def nhs_numbers_among(self, values: list[str]) -> set[str]:
        """Those of `values` that are the NHS number of a discharge (as at this source's load)."""
        version, params = self._where("x")
        found: set[str] = set()
        for start in range(0, len(values), BATCH):
            part = values[start:start + BATCH]
            found.update(r[0] for r in self.store.execute(
                f"SELECT DISTINCT x.nhs_number FROM discharges x WHERE x.nhs_number IN ({', '.join('?' * len(part))}) "
                f"AND {version}", part + params))
        return found

    def patients_with_nhs_number(self, nhs_number: str) -> list[str]:
        version, params = self._where()
        return [r[0] for r in self.store.execute(
            f"SELECT DISTINCT patient_id FROM discharges WHERE nhs_number = ? AND {version} ORDER BY patient_id",
            [nhs_number] + params)]

    def everything(self) -> Data:
        from hds.data import Data

        version, params = self._where("x")
        return Data(**{spec.name: _read(self.store, spec.name, f"SELECT {_columns(spec.name, 'x', iso=True)} FROM "
                                        f"[{spec.name}] x WHERE {version} ORDER BY x.[{spec.key}]", params, iso=True)
                       for spec in CONTRACT})

    def block_costs(self) -> Table:
        return self._table("block_costs")

    def source_rows(self, discharge_ids: list[str], mask_nhs_numbers: bool = True) -> dict[str, list[dict]]:
        """The stored versions behind some discharges (as at this source's load), each with the load
        that brought it, its spreadsheet row, and the file and SHA-256 it came from."""
        import json

        version, params = self._where()
        files = {row[0]: json.loads(row[1]) for row in self.store.execute("SELECT id, files FROM loads")}
        mapped = self._mapped_files()
        marks = ", ".join("?" * len(discharge_ids))
        found = {}
        for spec in CONTRACT[:3]:  # discharges, episodes, events
            rows = self.store.query(f"SELECT {', '.join(f'[{f}]' for f in spec.fields)}, _load, _row, _extra FROM "
                                    f"[{spec.name}] "
                                    f"WHERE discharge_id IN ({marks}) AND {version} ORDER BY [{spec.key}]",
                                    list(discharge_ids) + params)
            for row in rows:
                name, digest = source_file(files.get(row["_load"], {}), spec.name,
                                           mapped.get(row["_load"], {}).get(spec.name), row.pop("_extra"))
                row.update(_file=name, _sha256=digest)
                if mask_nhs_numbers and row.get("nhs_number"):
                    row["nhs_number"] = "*" * 7 + row["nhs_number"][-3:]
            found[spec.name] = rows
        return found

    def _mapped_files(self) -> dict[int, dict[str, str]]:
        """Load id -> table -> the file its input mapping named (a store not yet migrated has none)."""
        if "mapping" not in {r[1] for r in self.store.execute("PRAGMA table_info(loads)")}:
            return {}
        return {load: mapped_files(text)
                for load, text in self.store.execute("SELECT id, mapping FROM loads WHERE mapping IS NOT NULL")}

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
        return _read(self.store, name, f"SELECT {_columns(name, 'x', iso=True)} FROM [{name}] x WHERE {version} "
                                       f"ORDER BY x.[{SPEC[name].key}]", params, iso=True)

    def first_day(self) -> int:
        """The earliest discharge date in the data."""
        version, params = self._where()
        first = self.store.execute(f"SELECT MIN(discharge_date) FROM discharges WHERE {version}", params).fetchone()[0]
        return iso_day(first)

    def discharged_by(self, day: int) -> bool:
        """Whether a discharge is dated `day` (a day number) or before: first_day() <= day, asked without
        reading every discharge (the scan stops at the first such one)."""
        version, params = self._where()
        return bool(self.store.execute(f"SELECT EXISTS (SELECT 1 FROM discharges WHERE {version} AND "
                                       "discharge_date <= ?)", params + [_iso(day)]).fetchone()[0])

    def latest_day(self) -> int:
        """The latest date anywhere in the data (for following open-ended episodes)."""
        row = self.store.execute("SELECT latest_day FROM loads WHERE id = ?", [self.load_id]).fetchone()
        if row and row[0]:
            return iso_day(row[0])
        return iso_day(_latest_day_sql(self.store.conn, self.as_of))


def source_file(files: dict[str, str], table: str, mapped: str | None = None,
                extra: str | None = None) -> tuple[str, str]:
    """The file of a load that held `table` and its SHA-256: its CSV file (any case), or the load's
    workbook and the sheet; `mapped`, the file the load's input mapping named for the table (a glob
    that may have matched several files: then the row's `_extra` names its own)."""
    import json

    own = json.loads(extra).get("file") if extra and extra.startswith('{"file": ') else None
    if own in files:
        return own, files[own]
    if mapped:
        from hds.files import name_matches

        matched = [(n, d) for n, d in files.items() if name_matches(n, mapped)]
        if matched:
            return " or ".join(n for n, _ in matched), ", ".join(d for _, d in matched)
        for name, digest in files.items():
            if Path(name).suffix.lower() in (".xlsx", ".xlsm"):
                return f"{name}, sheet {mapped}", digest
    for name, digest in files.items():
        if Path(name).suffix.lower() == ".csv" and Path(name).stem.strip().lower() == table:
            return name, digest
    for name, digest in files.items():
        if Path(name).suffix.lower() in (".xlsx", ".xlsm"):
            return f"{name}, sheet {table}", digest
    return "", ""


def _latest_day(conn: sqlite3.Connection, loaded: dict[str, Table], kept: dict | None = None) -> str | None:
    """The latest date in the data after a load: the loaded tables' own, the store's for the others
    (`kept`: those already read, ``_latest_kept``)."""
    dates = []
    for table, column in DATED:
        if table in loaded:
            days = loaded[table][column]
            days = days[days != NEVER]
            if len(days):
                dates.append(_iso(int(days.max())))
        elif kept is not None and (table, column) in kept:
            dates.append(kept[table, column])
        else:
            dates.append(conn.execute(_LATEST.format(table=table, column=column)).fetchone()[0])
    dates = [d for d in dates if d]
    return max(dates) if dates else None


_LATEST = "SELECT MAX([{column}]) FROM [{table}] WHERE _until_load IS NULL"


def _latest_kept(store: Store, loaded: dict[str, Table]) -> Callable[[], dict]:
    """The latest dates of the tables a load leaves as they are (not in `loaded`), read beside the load
    as it is written (``_asked_beside``; the load writes none of them, and no other load can come in
    while it holds the write lock): a function giving them, {(table, column): date}, or {} when they
    could not be read so (the load's own connection reads them)."""
    wanted = [(table, column) for table, column in DATED if table not in loaded]
    return _asked_beside(store, {(table, column): _LATEST.format(table=table, column=column)
                                 for table, column in wanted})


def _asked_beside(store: Store, queries: dict) -> Callable[[], dict]:
    """Each of `queries` (key -> SQL giving one value) asked through a second, read-only connection in a
    thread while this one goes on (SQLite runs a query without holding Python's lock): a function giving
    {key: value}, or {} when they could not be asked so, or there are none."""
    import threading

    found: dict = {}
    if not queries or not Path(store.path).is_file():
        return lambda: found

    def run() -> None:
        try:
            other = _connect(Path(store.path), False)
            try:
                for key, sql in queries.items():
                    found[key] = other.execute(sql).fetchone()[0]
            finally:
                other.close()
        except Exception:  # noqa: BLE001 - the caller asks them through its own connection
            found.clear()

    thread = threading.Thread(target=run, name="hds-asked-beside", daemon=True)
    thread.start()

    def result() -> dict:
        thread.join()
        return found
    return result


DATED = (("discharges", "discharge_date"), ("episodes", "start_date"), ("episodes", "end_date"), ("events", "date"))


def _latest_day_sql(conn: sqlite3.Connection, as_of: int | None = None) -> str | None:
    where, params = version_filter(as_of)
    dates = [conn.execute(f"SELECT MAX([{column}]) FROM [{table}] WHERE {where}", params).fetchone()[0]
             for table, column in (("discharges", "discharge_date"), ("episodes", "start_date"),
                                   ("episodes", "end_date"), ("events", "date"))]
    dates = [d for d in dates if d]
    return max(dates) if dates else None


def _iso(day: int) -> str:
    import numpy as np

    return str(np.datetime64(int(day), "D"))


def is_empty(store: Store) -> bool:
    return store.latest_load() is None


def derived_stamp(store: Store, table: str) -> tuple[int, str] | None:
    """(load, rulebook version) a derived table (``allocation_totals``, ``decided_discharges``) was computed
    from, as its row in `derived` says; None when it never was, or the store has no such table yet."""
    if not store.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [table]).fetchone():
        return None
    row = store.execute("SELECT load_id, rulebook_version FROM derived WHERE name = ?", [table]).fetchone()
    return (row[0], row[1]) if row else None


# --- writing a load ---------------------------------------------------------------------

@dataclass(frozen=True)
class LoadSummary:
    load_id: int
    changes: dict  # table -> {"added": n, "changed": n, "removed": n, "unchanged": n}
    hash: str = ""  # the load's hash in the chain of loads
    touched_in: tuple = field(default=(), compare=False, repr=False)  # what ``touched`` is made of, when first
    # asked for: sets of discharge ids, and the discharge ids (an array, repeats and all) of each table
    # loaded whole into an empty table

    @functools.cached_property
    def touched(self) -> frozenset[str]:
        """The discharges whose facts this load changed: their discharge row, an episode or an event of
        theirs added, changed or removed (every discharge of a table loaded into an empty store)."""
        return frozenset().union(*(part if isinstance(part, set) else part.tolist() for part in self.touched_in))


REMOVAL_SHARE = 0.5  # a load that would remove more than this share of a table's rows must be allowed


def _source_name(path) -> str:
    """The loaded folder or workbook as the loads log keeps it (free text: hds.text)."""
    from hds.text import free_text_problem

    problem = free_text_problem(str(path))
    if problem:
        raise HdsError(f"the name of the source {path!r} {problem}; rename or move it and load it again; "
                       "nothing was loaded")
    return str(path)


def save_load(store: Store, loaded, allow_removals: bool = False,
              record_touched: Callable[[Store], bool] | None = None,
              then: Callable[[Store], None] | None = None,
              hashed: Callable[[], dict[str, str] | None] | None = None,
              references: Callable[[], list] | None = None) -> LoadSummary:
    """Record a validated load (``hds.load.Loaded``): the tables it contains become the current
    truth, old versions are kept; all in one transaction. `record_touched(store)`, asked inside it,
    says whether the load records the discharges it touched (the claims ledger's answer: once it
    holds a submission, so claims recompute settled months for those only); without it they are not.
    `then(store)` runs inside the transaction once the load is recorded (what is derived from the
    data and kept beside it, stored with the load). `hashed()`, when given, gives the digests of the
    tables as written whole into empty tables (``written_whole``, computed by a copy of the process
    while this one writes), which are then not hashed here; `references()`, when given, the problems of
    the load's links to its own discharges (``hds.load.check_references``, found by that copy too),
    asked once the tables are written, which are then not checked here."""
    from hds import chain
    from hds.errors import LoadError

    with _journal_for_first_load(store) as unlogged, store.write():
        conn = store.conn
        _tuned_for_load(conn, unlogged)
        load_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM loads").fetchone()[0]
        record = record_touched is not None and record_touched(store)
        changes, before, written, touched, at = {}, {}, {}, [], {}  # at: the rows written of the tables
        linked = getattr(loaded, "linked_when_written", ())  # whose links are checked after (_link_problems)
        same = _as_last_loaded(conn, loaded)
        kept = {name: rows for name, (rows, _) in getattr(loaded, "kept", {}).items()}  # their files not read again
        if kept:
            _still_as_read(store, loaded)
        latest_kept = _latest_kept(store, loaded.tables) if kept else dict
        in_turn = [spec for spec in CONTRACT if spec.name in loaded.tables]
        following = {spec.name: after for spec, after in zip(in_turn, in_turn[1:]) if after.name not in same}
        ready: dict[str, np.ndarray] = {}  # the rows of the next table, made while the last one's indexes grew
        unlinked: list = []  # what check_references finds, while the first table's indexes grow
        later = getattr(loaded, "references_later", False)
        checks = [_checking_references(loaded, unlinked)] if later and references is None else []
        for spec in CONTRACT:
            if spec.name in loaded.tables:
                after = following.get(spec.name)
                meanwhile = [] if after is None else [_making_rows(after, loaded.tables, ready)]
                changes[spec.name], before[spec.name], written[spec.name], ids = _replace_table(
                    conn, spec, loaded.tables[spec.name], load_id, record, spec.name in same,
                    at.setdefault(spec.name, []) if spec.name in linked else None, ready.pop(spec.name, None),
                    _in_turn(meanwhile, checks),
                    hashed_beside=hashed is not None or spec.name in _hashed_when_read(loaded))
                if unlinked:  # found beside this table's indexes: the rest is not written
                    raise LoadError(unlinked)
                touched.append(ids)
            elif spec.name in kept:  # as _replace_table finds a table that is the same as last loaded
                changes[spec.name] = {"added": 0, "changed": 0, "removed": 0, "unchanged": kept[spec.name]}
                before[spec.name], written[spec.name] = kept[spec.name], chain.table_digest([], [])
        _refuse_unlinked(unlinked, checks, references if later else None)
        if any(d is None for d in written.values()):
            _hashed_beside(written, hashed, loaded)
        digest = chain.combine(written)
        _refuse_what_it_breaks(store, loaded, at, changes, before, allow_removals)
        load_hash = _record_load(conn, loaded, load_id, changes, digest, record, latest_kept())
        if then is not None:
            then(store)
    return LoadSummary(load_id, changes, load_hash, tuple(touched))


def _refuse_unlinked(unlinked: list, checks: list, references: Callable[[], list] | None) -> None:
    """Refuse (LoadError) a load whose episodes or events follow none of its own discharges: what was
    found beside the first table's indexes (`unlinked`), the `checks` not done there (no table was
    written whole: another load came in), and what `references()` gives (the copy deciding a first load)."""
    from hds.errors import LoadError

    for check in checks:
        check()
    if references is not None:
        unlinked += references()
    if unlinked:
        raise LoadError(unlinked)


def _tuned_for_load(conn: sqlite3.Connection, unlogged: bool) -> None:
    """The connection's settings while a load is written (`unlogged`: its first, through the journal)."""
    if unlogged:  # a reader of the empty store may hold its lock a moment when the load's pages go in
        conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MB of pages while the indexes grow
    conn.execute("PRAGMA threads = 2")  # the index sorts may use a second core (about 10% quicker)


def _refuse_what_it_breaks(store: Store, loaded, at: dict, changes: dict, before: dict, allow_removals: bool) -> None:
    """A written load that leaves the store inconsistent is refused (LoadError): rows it wrote that
    follow no discharge, most of a table removed (unless `allow_removals`), or earlier episodes and
    events whose discharge it removed."""
    from hds.errors import LoadError

    problems = _link_problems(store, loaded, at)
    if problems:  # as reading every row would have stopped the load, before anything else is asked
        raise LoadError(problems)
    problems = [] if allow_removals else _removal_problems(loaded, changes, before)
    if "discharges" in loaded.tables:  # episodes and events kept from earlier loads need their discharge
        problems += _orphans(store.conn, [t for t in ("episodes", "events") if t not in loaded.tables])
    if problems:
        raise LoadError(problems)


def _hashed_beside(written: dict, hashed: Callable[[], dict[str, str] | None] | None, loaded) -> None:
    """The digests of the tables a load wrote whole and left to others (None in `written`): from the copy
    that read them (``_hashed_when_read``) or from `hashed()`, else computed here."""
    digests = dict(hashed() or {}) if hashed is not None else {}
    if _hashed_when_read(loaded):  # (None when that copy failed: hashed here, from the rows written)
        digests.update(loaded.read_beside.result(1, again=False) or {})
        loaded.read_beside.cancel()  # it has sent all it has
    for name, digest in written.items():
        if digest is None:
            written[name] = digests.get(name) or written_whole(loaded, name)[name]


def _hashed_when_read(loaded) -> tuple[str, ...]:
    """The tables of a load whose digests as written whole the copy of the process that read them
    computes (``hds.load.Loaded.read_beside``)."""
    return getattr(loaded, "hashed_when_read", ())


def written_whole(loaded, *names: str, but: tuple[str, ...] = ()) -> dict[str, str]:
    """The digest of each table of a load (``hds.load.Loaded``; or of those `names`; `but` those) as it
    is written whole into an empty table (``written_digest``): what ``save_load`` records for it."""
    return {spec.name: written_digest(spec, loaded.tables[spec.name]) for spec in CONTRACT
            if spec.name in loaded.tables and (not names or spec.name in names) and spec.name not in but}


def written_digest(spec, table: Table) -> str:
    """The digest of a validated table as it is written whole into an empty table (``_store_rows``;
    hds.chain.table_digest)."""
    from hds import chain

    columns = [c if isinstance(c, list) else c.tolist() for c in _store_columns(spec, table)]
    return chain.table_digest(list(zip(*columns)), [], plain=True)  # (a row as a tuple: the same JSON array)


def _record_load(conn: sqlite3.Connection, loaded, load_id: int, changes: dict, digest: str, record: bool,
                 kept: dict | None = None) -> str:
    """The load's entry in the loads log, chained to the last one's hash: its hash. `kept`: the latest
    dates of the tables it leaves as they are, when read already (``_latest_kept``)."""
    import json

    from hds import chain
    from hds.code import code_digest

    previous = conn.execute("SELECT hash FROM loads ORDER BY id DESC LIMIT 1").fetchone()
    entry = {"id": load_id, "loaded_at": now_utc(), "loaded_by": user_name(), "source": _source_name(loaded.path),
             "files": json.dumps(loaded.files), "rows": json.dumps(_rows(loaded)),
             "changes": json.dumps(changes), "latest_day": _latest_day(conn, loaded.tables, kept),
             "digest": digest, "touched_recorded": int(record), "mapping": getattr(loaded, "mapping", None),
             "read_with": code_digest("hds"),
             "prev_hash": previous[0] if previous and previous[0] else chain.GENESIS}
    entry["hash"] = chain.load_hash(entry, entry["prev_hash"])
    conn.execute(f"INSERT INTO loads ({', '.join(entry)}) VALUES ({', '.join('?' * len(entry))})", list(entry.values()))
    return entry["hash"]


@contextlib.contextmanager
def _journal_for_first_load(store: Store):
    """The first load into a store (no load recorded yet) is written through a rollback journal, not
    the write-ahead log: every page it writes is new, so the journal keeps next to nothing, and each
    page is written once, straight into the store, rather than into the log and then copied across
    (about 0.4 s of a load of 300,000 discharges). It is still all or nothing: SQLite rolls back from
    the journal a load that failed or was cut off. Afterwards the store is in WAL mode again, as every
    other write leaves it (``ensure_wal`` mends one left otherwise, the next time it is written).
    When the switch cannot be made (another process has the store open), the load is written as any
    other."""
    conn = store.conn
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        first = (conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
                 and conn.execute("SELECT 1 FROM loads LIMIT 1").fetchone() is None)
        switched = first and _journal_mode(conn, "DELETE") == "delete"
    except sqlite3.OperationalError:  # another process is writing its first load: this one waits for it
        switched = False  # (``Store.write``), and is then not the first
    try:
        yield switched
    finally:
        if switched:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            ensure_wal(conn, store.path)


def _journal_mode(conn: sqlite3.Connection, mode: str) -> str | None:
    """Set the journal mode: the mode the store is in afterwards, as SQLite says (another than `mode`
    where it cannot be had), or None while another process stands in the way."""
    try:
        return conn.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0].lower()
    except sqlite3.OperationalError:  # locked: another process has it open
        return None


def ensure_wal(conn: sqlite3.Connection, path: Path | str = "the store") -> None:
    """The store in WAL mode (readers never wait for a writer, nor a writer for readers), waiting for
    the processes that stand in the way (a read is short; a first load may take a while), saying so."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 2000")
    try:
        deadline, told = time.monotonic() + BUSY_WAIT_S, False
        while _journal_mode(conn, "WAL") is None:  # (a file system without WAL gives another mode: kept)
            if time.monotonic() > deadline:
                raise StoreError(f"{path} stayed locked by another hds process for {BUSY_WAIT_S} s; try again "
                                 "when it has finished")
            if not told:
                print(f"Waiting: another hds process is using {path} ...", file=sys.stderr, flush=True)
                told = True
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _in_turn(doings: list[Callable[[], None]], checks: list[Callable[[], None]]) -> Callable[[], None] | None:
    """One thing to do beside the indexing of a table written whole (``_replace_table``'s `meanwhile`):
    the `doings`, and the `checks` not yet done (taken from the list when done)."""
    def both() -> None:
        for doing in doings:
            doing()
        while checks:
            checks.pop()()
    return both if doings or checks else None


def _checking_references(loaded, found: list) -> Callable[[], None]:
    """The check of a load's episodes' and events' links to its own discharges (hds.load.check_references)
    into `found`."""
    def check() -> None:
        from hds.load import check_references

        found.extend(check_references(loaded))
    return check


def _making_rows(spec, tables: dict, ready: dict) -> Callable[[], None]:
    """Make the rows of the table `spec` (``_store_rows``) into `ready`."""
    def make() -> None:
        ready[spec.name] = _store_rows(spec, tables[spec.name])
    return make


def _rows(loaded) -> dict[str, int]:
    """The rows of each table a load holds (read, or kept as the very files its last load read), in order."""
    kept = getattr(loaded, "kept", {})
    return {spec.name: len(loaded.tables[spec.name]) if spec.name in loaded.tables else kept[spec.name][0]
            for spec in CONTRACT if spec.name in loaded.tables or spec.name in kept}


def _still_as_read(store: Store, loaded) -> None:
    """The tables a load did not read again (the very files the store's last load of each read) are
    still so now that it holds the write lock: another load may have come in between (when none has,
    the store's latest load is the one it was when they were found so, and they are not counted again)."""
    as_of = getattr(loaded, "kept_as_of", None)
    if as_of is not None and store.latest_load() == as_of:
        return
    rows_read = read_before(store, getattr(loaded, "mapping", None))
    for name, (rows, files) in loaded.kept.items():
        if rows_read(name, lambda: files) != (rows, files):
            raise HdsError(f"another load of {name} came in while this one was being read; nothing was loaded: "
                           "load the extract again")


def _store_rows(spec, table: Table) -> np.ndarray:
    """A validated table as rows for SQLite, one row of objects each (rows x contract fields, _extra,
    _row): ISO dates (None for none), 0/1 flags, Python ints and str (``_store_columns``)."""
    import numpy as np

    columns = _store_columns(spec, table)
    rows = np.empty((len(table), len(columns)), dtype=object)
    for at, values in enumerate(columns):
        rows[:, at] = values
    return rows


def _store_columns(spec, table: Table) -> list:
    """The columns of ``_store_rows``: arrays of objects, or lists of Python ints."""
    import numpy as np

    columns: list = []
    for column in spec.columns:
        values = table[column.field]
        if column.kind == "date":  # a few thousand distinct days among a million rows: each written once
            days, where = np.unique(values, return_inverse=True)
            text = days.astype("datetime64[D]").astype(str).astype(object)
            text[days == NEVER] = None
            columns.append(text[where])
        elif values.dtype == object:
            columns.append(values)
        else:  # money and flags as Python ints
            columns.append(values.astype(np.int64).tolist())
    return columns + [table["_extra"], table["_row"].tolist()]


def _link_problems(store: Store, loaded, at: dict[str, list[int]]) -> list:
    """The links to the store's discharges of the episodes and events a load checks as it writes them
    (``hds.load.Loaded.linked_when_written``: the load leaves the discharges as they are, so the
    current rows follow them already): those of the rows it wrote (their positions, `at`)."""
    import numpy as np

    from hds.load import link_problems

    known = known_discharges(store)
    return [problem for name in getattr(loaded, "linked_when_written", ())
            for problem in link_problems(loaded, name, np.asarray(at.get(name, []), dtype=np.int64), known)]


def _replace_table(conn: sqlite3.Connection, spec, table: Table, load_id: int, record: bool, same: bool = False,
                   at: list[int] | None = None, rows: np.ndarray | None = None,
                   meanwhile: Callable[[], None] | None = None, hashed_beside: bool = False):
    """Write a table's new versions and close the old ones, the version diff done in SQL (none when the
    table is the `same` as the last load of it read: ``_as_last_loaded``):
    (counts of added, changed, removed and unchanged rows; rows current before; the digest of the
    versions it wrote and closed (hds.chain.table_digest, as `hds verify` recomputes it from the store);
    the discharges whose rows it wrote or closed: a set, or the ids of a table written whole, an array).
    With `record`, those discharges go into load_discharges;
    `at` is given the positions in `table` of the rows it wrote, in order. `rows`: the table as
    ``_store_rows`` makes it, when already made; `meanwhile()` is done by a thread while SQLite builds
    the indexes of a table written whole (the rows of the next table made ready). With `hashed_beside`,
    a table written whole is not hashed here: its digest is given as None, for ``save_load`` to fill in."""
    from hds import chain

    name = spec.name
    fields = spec.fields + ["_extra", "_row"]
    names = ", ".join(f"[{f}]" for f in fields)
    marks = ", ".join("?" * len(fields))
    current = conn.execute(f"SELECT COUNT(*) FROM [{name}] WHERE _until_load IS NULL").fetchone()[0]
    if same and current == len(table):  # its current versions are what these very files hold
        nothing = chain.table_digest([], [])  # it writes and closes nothing
        return {"added": 0, "changed": 0, "removed": 0, "unchanged": current}, current, nothing, set()
    rows = _store_rows(spec, table) if rows is None else rows
    if current == 0:
        empty = conn.execute(f"SELECT 1 FROM [{name}] LIMIT 1").fetchone() is None
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                               "AND sql IS NOT NULL", [name]).fetchall() if empty else []
        for index, _ in indexes:  # into an empty table: build the indexes once, after the rows
            conn.execute(f"DROP INDEX [{index}]")
        insert_rows(conn, f"INSERT INTO [{name}] ({names}, _load) VALUES ", f"({marks}, {load_id})", rows)
        touched = table["discharge_id"] if "discharge_id" in spec.fields else set()  # (made a set if asked for)

        def beside() -> None:  # what it wrote: while the indexes are built
            if at is not None:
                at.extend(range(len(rows)))
            if meanwhile is not None:
                meanwhile()

        digest = _while_indexing(conn, [sql for _, sql in indexes], None if hashed_beside else rows, beside)
        if record and "discharge_id" in spec.fields:
            conn.execute(f"INSERT OR IGNORE INTO load_discharges SELECT {load_id}, discharge_id FROM [{name}] "
                         f"WHERE _load = {load_id}")
        return {"added": len(rows), "changed": 0, "removed": 0, "unchanged": 0}, 0, digest, touched
    return _replace_versions(conn, spec, rows, load_id, current, record, at)


def _replace_versions(conn: sqlite3.Connection, spec, rows: np.ndarray, load_id: int, current: int, record: bool,
                      at: list[int] | None = None):
    """A table that holds current versions: the incoming rows (but their _row, which is not compared) go
    into a temporary table, each is looked up by its key among the current versions (the table's
    primary key), and only what differs is written: the versions closed (changed or removed) and the
    new ones (changed or added), in the extract's order."""
    import numpy as np

    from hds import chain

    name, key = spec.name, spec.key
    names = ", ".join(f"[{f}]" for f in spec.fields + ["_extra"])
    for temp in ("incoming", "closing"):
        conn.execute(f"DROP TABLE IF EXISTS temp.{temp}")
    conn.execute(f"CREATE TEMP TABLE incoming AS SELECT {names} FROM [{name}] WHERE 0")  # rowid: 1, 2, ... in order
    insert_rows(conn, f"INSERT INTO temp.incoming ({names}) VALUES ", f"({', '.join('?' * (len(spec.fields) + 1))})",
                rows[:, :-1])
    equal = " AND ".join(f"c.[{f}] IS i.[{f}]" for f in spec.fields + ["_extra"])
    # each incoming row, in order, looked up by key (the primary key); + keeps _until_load off the indexes:
    # those that differ (incoming rowid, and the current version's, None when added)
    differ = conn.execute(f"SELECT i.rowid, c.rowid FROM temp.incoming i LEFT JOIN [{name}] c "
                          f"ON c.[{key}] = i.[{key}] AND +c._until_load IS NULL "
                          f"WHERE c.rowid IS NULL OR NOT ({equal}) ORDER BY i.rowid").fetchall()
    changed = [version for _, version in differ if version is not None]
    kept = len(rows) - (len(differ) - len(changed))  # incoming rows with a current version
    conn.execute("CREATE TEMP TABLE closing (id INTEGER PRIMARY KEY)")
    insert_ids(conn, "INSERT INTO temp.closing VALUES ", changed)
    if current > kept:  # removed: current versions no incoming row matched
        conn.execute(f"INSERT INTO temp.closing SELECT c.rowid FROM [{name}] c WHERE +c._until_load IS NULL "
                     f"AND (c.[{key}] IS NULL OR c.[{key}] NOT IN (SELECT [{key}] FROM temp.incoming "
                     f"WHERE [{key}] IS NOT NULL))")  # as a join finds no match for a NULL key
    positions = [r - 1 for r, _ in differ]
    new = rows[np.array(positions, dtype=np.int64)]
    if at is not None:
        at.extend(positions)
    closed = [list(r) for r in conn.execute(f"SELECT [{key}], _load FROM [{name}] WHERE rowid IN "
                                            f"(SELECT id FROM temp.closing) ORDER BY [{key}], _load")]
    touched = _touched(conn, spec, new, load_id, record)
    conn.execute(f"UPDATE [{name}] SET _until_load = ? WHERE rowid IN (SELECT id FROM temp.closing)", [load_id])
    fields = ", ".join(f"[{f}]" for f in spec.fields + ["_extra", "_row"])
    insert_rows(conn, f"INSERT INTO [{name}] ({fields}, _load) VALUES ",
                f"({', '.join('?' * (len(spec.fields) + 2))}, {load_id})", new)
    for temp in ("incoming", "closing"):
        conn.execute(f"DROP TABLE temp.{temp}")
    return ({"added": len(rows) - kept, "changed": len(changed), "removed": current - kept,
             "unchanged": kept - len(changed)}, current, chain.table_digest(new.tolist(), closed, plain=True), touched)


def _touched(conn: sqlite3.Connection, spec, new: np.ndarray, load_id: int, record: bool) -> set[str]:
    """The discharges of the versions a load closes (temp.closing) and of those it writes (`new`);
    with `record`, kept in load_discharges."""
    if "discharge_id" not in spec.fields:
        return set()
    at = spec.fields.index("discharge_id")
    touched = {r[0] for r in conn.execute(f"SELECT discharge_id FROM [{spec.name}] WHERE rowid IN "
                                          "(SELECT id FROM temp.closing)")} | set(new[:, at].tolist())
    if record:
        conn.executemany("INSERT OR IGNORE INTO load_discharges VALUES (?, ?)", ((load_id, d) for d in touched))
    return touched


def _as_last_loaded(conn: sqlite3.Connection, loaded) -> set[str]:
    """The loaded tables read from the very files (their names and SHA-256) that the last load of each
    read it from, through the very input mapping: after that load the table's current versions are
    what those files hold (a load makes a table what its files say), so reading the same bytes the
    same way, this load changes none of them and their version diff is not needed."""
    mapping = getattr(loaded, "mapping", None)
    last = _last_loads(conn)
    return {name for name, table in loaded.tables.items()
            if name in last and last[name].rows == len(table) and last[name].read_from(loaded.files, name, mapping)}


def read_before(store: Store, mapping: str | None) -> "Callable[[str, Callable], tuple[int, dict] | None]":
    """Whether some files of a table are the very ones the store's last load of that table read: a
    function of the table and a function giving its files (name -> SHA-256, or None; asked only once
    the rest holds, as hashing costs a read of every byte) that gives the rows that load read from them
    and the files, or None when they differ, were read through another input mapping (`mapping`, as a
    load keeps it: hds.mapping.InputMapping.text) or by another hds (``hds.code``: an upgrade may check
    more), or the table's current versions are not those rows in number.
    A load makes a table what its files say and only a later load of the table changes it, so such
    files hold what the store holds now, and a follow-up load need not read them again."""
    from hds.code import code_digest

    this = code_digest("hds")
    last = _last_loads(store.conn)
    counting = _counting_beside(store, [table for table, before in last.items()
                                        if before.mapping == mapping and this is not None and before.read_with == this])

    def rows_read(table: str, hashed: Callable[[], dict[str, str] | None]) -> tuple[int, dict[str, str]] | None:
        before = last.get(table)
        if before is None or before.mapping != mapping or this is None or before.read_with != this:
            return None
        ours = hashed()
        if not ours or not before.read_from(ours, table, mapping):
            return None
        current = counting().get(table)
        if current is None:
            current = store.execute(_CURRENT_ROWS.format(table=table)).fetchone()[0]
        return (before.rows, ours) if current == before.rows else None

    rows_read.as_of = store.latest_load()  # the load the store's tables were found as (``_still_as_read``)
    return rows_read


@dataclass(frozen=True)
class _LastLoad:
    """What the last load of a table recorded of it: every file it read (name -> SHA-256), the input
    mapping it read them through, the table's rows, and the hds that read them (``hds.code``)."""

    files: dict[str, str]
    mapping: str | None
    rows: int
    read_with: str | None

    def read_from(self, files: dict[str, str], table: str, mapping: str | None) -> bool:
        """Whether `files` (name -> SHA-256) hold, through `mapping`, the very file(s) it read the table from."""
        ours = source_file(files, table, mapped_files(mapping).get(table))
        return mapping == self.mapping and bool(ours[1]) and ours == source_file(
            self.files, table, mapped_files(self.mapping).get(table))


_CURRENT_ROWS = "SELECT COUNT(*) FROM [{table}] WHERE _until_load IS NULL"


def _counting_beside(store: Store, tables: list[str]) -> Callable[[], dict[str, int]]:
    """The current rows of each of `tables`, counted beside while the files are hashed (``_asked_beside``):
    a function giving them, {} when they could not be counted so (the caller counts through its own
    connection). A load that comes in meanwhile is found by ``_still_as_read``, under the write lock."""
    return _asked_beside(store, {table: _CURRENT_ROWS.format(table=table) for table in tables})


def _last_loads(conn: sqlite3.Connection) -> dict[str, _LastLoad]:
    """Table -> what the last load of it recorded (``_LastLoad``), from the loads log."""
    import json

    last: dict[str, _LastLoad] = {}  # (read by a load, on a store migrated when it was opened for writing)
    for rows, files, mapped, hds in conn.execute("SELECT rows, files, mapping, read_with FROM loads ORDER BY id DESC"):
        for name, count in json.loads(rows or "{}").items():
            if name not in last:
                last[name] = _LastLoad(json.loads(files) if files else {}, mapped, count, hds)
    return last


def mapped_files(mapping: str | None) -> dict[str, str | None]:
    """Table -> the file an input mapping (as a load keeps it: hds.mapping.InputMapping.text) names for it."""
    import json

    return {table: m.get("file") for table, m in json.loads(mapping).items()} if mapping else {}


def _while_indexing(conn: sqlite3.Connection, indexes: list[str], rows: np.ndarray | None,
                    beside: Callable[[], None] | None = None) -> str | None:
    """Build the `indexes` (their SQL) while a thread hashes `rows`, the versions a table's load wrote
    whole (hds.chain.table_digest; given as None, they are not hashed here), and then does `beside()`:
    SQLite lets the GIL go while it builds an index, so the thread has it. Not while rows are inserted:
    binding each batch needs the GIL, and would wait its turn."""
    from concurrent.futures import ThreadPoolExecutor

    from hds import chain

    with ThreadPoolExecutor(1) as hashing:
        digest = hashing.submit(lambda: rows if rows is None else chain.table_digest(rows.tolist(), [], plain=True))
        done = hashing.submit(beside) if beside is not None else None
        for sql in indexes:
            conn.execute(sql)
        if done is not None:
            done.result()
        return digest.result()


BATCH = 64  # rows per INSERT statement: bound together, a third quicker than a row at a time
MOST_VALUES = 999  # the values one statement may bind in SQLite before 3.32 (SQLITE_MAX_VARIABLE_NUMBER)


def insert_rows(conn: sqlite3.Connection, head: str, values: str, rows: np.ndarray) -> None:
    """`head` (INSERT ... VALUES) with the `values` of each row (a row of objects each: ``_store_rows``), in
    order, BATCH rows a statement, or as many as SQLite before 3.32 binds in one (999 values) for wide rows."""
    batch = max(1, min(BATCH, MOST_VALUES // max(1, values.count("?"))))
    whole = len(rows) - len(rows) % batch
    if whole:
        conn.executemany(head + ", ".join([values] * batch),
                         (rows[start:start + batch].ravel().tolist() for start in range(0, whole, batch)))
    if whole < len(rows):
        conn.executemany(head + values, rows[whole:].tolist())


def insert_ids(conn: sqlite3.Connection, head: str, ids: list) -> None:
    """`head` (INSERT ... VALUES, into one column) with each of `ids`, in order, BATCH a statement as
    insert_rows does, without a tuple an id."""
    whole = len(ids) - len(ids) % BATCH
    if whole:
        conn.executemany(head + ", ".join(["(?)"] * BATCH),
                         (ids[start:start + BATCH] for start in range(0, whole, BATCH)))
    if whole < len(ids):
        conn.executemany(head + "(?)", ([i] for i in ids[whole:]))


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


LOOKED_UP = 20_000  # discharge ids: more than this are looked up by reading all the store's at once


def known_discharges(store: Store) -> "Callable[[np.ndarray], np.ndarray]":
    """Which of some discharge ids (an array, repeats and all) the store holds now, as a mask (for
    validating an extract without discharges, or whose discharges are not read again)."""
    every: list[str] = []  # all of them, once read

    def held(ids: np.ndarray) -> np.ndarray:
        import pandas as pd

        distinct = pd.unique(ids)
        if every or len(distinct) > LOOKED_UP:  # most of the store, at a guess: all of its ids at once, as one
            # text (a load refuses control characters, so char(31) parts them; the count says when it does not)
            if not every:
                count, joined = store.execute("SELECT COUNT(*), group_concat(discharge_id, char(31)) "
                                              "FROM discharges WHERE _until_load IS NULL").fetchone()
                every[:] = joined.split("\x1f") if count else []
                if len(every) != count:
                    every[:] = [r[0] for r in store.execute(
                        "SELECT discharge_id FROM discharges WHERE _until_load IS NULL")]
            found = every
        else:
            found, wanted = [], distinct.tolist()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found += [r[0] for r in store.execute(
                    f"SELECT discharge_id FROM discharges WHERE _until_load IS NULL AND discharge_id IN "
                    f"({', '.join('?' * len(chunk))})", chunk)]
        return pd.Series(ids, dtype=object).isin(found).to_numpy()
    return held
