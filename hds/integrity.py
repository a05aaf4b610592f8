"""Is the store's file whole? SQLite's quick_check of every page, run when a store is opened.

The check reads the whole file, so it grows with the store (benchmarks/quick_check.py measures
it). Once a store has passed, the file's identity (device, inode, size, and the times of its last
change, including the change time no user can set back) and its write-ahead log's (its size, the
time of its last write and its header, whose salts change whenever the log starts again) are
remembered, owner-only, in the user's cache folder; while they stay the same the store has not been
written since and is not checked again. Any write, by hds or anything else, changes them, so a
store that was written to is checked on its next open; `hds verify` checks every time.

What reading leaves behind does not count: a reader running as root hands SQLite's write-ahead log
to the store's owner each time it opens it, which moves the log's change time, so the log's change
time is not part of the identity, nor is an empty log, which the first reader makes. And a store
hds itself wrote, having checked it when it opened it, is remembered as it is when hds closes it
(`remember_own_write`): what changed it was SQLite committing hds's own transactions, so the next
command does not read every page again.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from hds.errors import HdsError

REMEMBERED = 64  # stores whose last passed check is remembered


class DamagedStore(HdsError):
    """SQLite's check of the store's pages found faults."""


def check_pages(conn: sqlite3.Connection, path: Path, always: bool = False) -> None:
    """Refuse a store whose pages are damaged; unless `always`, a store unchanged since it last
    passed is not read again."""
    identity = _identity(path)
    if not always and identity is not None and _remembered().get(identity[0]) == identity[1]:
        return
    found = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    if found != ["ok"]:
        said = [line for row in found for line in str(row).splitlines() if line and not line.startswith("***")]
        raise DamagedStore(f"{path} is damaged: SQLite's check of its pages found faults, the first "
                           f"'{said[0] if said else found[0]}'; hds does not use a damaged store: restore it from a "
                           "backup (or the last copy 'hds verify' passed)")
    if identity is not None:
        _remember(*identity)


def remember_own_write(path: Path) -> None:
    """A store hds opened for writing (its pages passed then) and has closed: remember it as it is now."""
    identity = _identity(path)
    if identity is not None:
        _remember(*identity)


WAL_HEADER = 32  # bytes: magic, version, page size, checkpoint sequence, salts, checksum


def _identity(path: Path) -> tuple[str, str] | None:
    """(the store's real path, what identifies the state of its file and write-ahead log)."""
    try:
        s = path.stat()
        parts = [f"{s.st_dev}:{s.st_ino}:{s.st_size}:{s.st_mtime_ns}:{s.st_ctime_ns}"]
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size:  # an empty log (the first reader makes one) holds nothing
            with wal.open("rb") as handle:
                w = os.fstat(handle.fileno())
                header = handle.read(WAL_HEADER).hex()
            parts.append(f"{w.st_dev}:{w.st_ino}:{w.st_size}:{w.st_mtime_ns}:{header}")
        return str(path.resolve()), "|".join(parts)
    except OSError:
        return None


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hds" / "checked-stores.json"


def _remembered() -> dict[str, str]:
    try:
        found = json.loads(_cache().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _remember(store: str, state: str) -> None:
    """Remember a passed check (best effort: a cache that cannot be written only costs a check)."""
    from hds.files import write_private

    known = _remembered()
    known.pop(store, None)
    known[store] = state
    kept = dict(list(known.items())[-REMEMBERED:])
    cache = _cache()
    try:
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = cache.with_name(f"{cache.name}.{os.getpid()}")
        write_private(partial, json.dumps(kept).encode("utf-8"))
        os.replace(partial, cache)
    except (OSError, HdsError):
        pass
