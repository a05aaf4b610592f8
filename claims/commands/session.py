"""What a command works on: the store, read inside one read transaction or written under the write
lock, or files (--data); the rule library, parsed and checked once per process; and the load.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hds.errors import HdsError


@dataclass
class Reading:
    """The source a command reads (``StoreSource`` or ``MemorySource``) and the store, when there is one."""

    source: object
    store: object | None


@contextlib.contextmanager
def reading(db: Path, data: Path | None = None, as_of: int | None = None,
            note: Callable[[str], None] = lambda text: None, data_option: bool = False, rules_library=None):
    """Open what a read-only command reads: files straight into columns with `data`, otherwise the
    store, read-only and inside one read transaction (a snapshot). `data_option`: the command
    offers --data, so a missing store's message may suggest it."""
    if data is not None:
        if as_of is not None:
            raise HdsError("--as-of-load reads a store's history; it cannot be used with --data")
        from hds.data import MemorySource
        from hds.load import read_data

        dataset, notes = read_data(data, scheme_names(rules_library or library()), config_beside(db).input)
        for text in notes:
            note(text)
        yield Reading(MemorySource(dataset), None)
        return
    from claims.ledger.store import open_store
    from hds.store import StoreError, StoreSource, is_empty

    try:
        store = open_store(db)
    except StoreError as exc:
        if data_option and not db.exists():
            raise StoreError(f"{exc}, or pass --data DIR to compute from files") from None
        raise
    try:
        with store.read():
            if is_empty(store):
                raise HdsError(f"the store {db} holds no data: run 'hds load DIR' first")
            yield Reading(StoreSource(store, as_of), store)
    finally:
        store.close()


@contextlib.contextmanager
def opened(db: Path):
    """The store opened for reading, without a transaction (the caller opens its own)."""
    from claims.ledger.store import open_store

    store = open_store(db)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def writing(db: Path, create: bool = False):
    """The store opened for writing (migrated to this version's schema; created if asked)."""
    from claims.ledger.store import open_store

    store = open_store(db, write=True, create=create)
    try:
        yield store
    finally:
        store.close()


_LIBRARIES: dict = {}


def library(directory: Path | None = None):
    """The shipped rule library, or the one exported to `directory` (``hds rules export``), parsed and
    checked (every rulebook total, every rule reachable, parameters valid) once per process."""
    key = str(Path(directory).resolve()) if directory is not None else None
    if key not in _LIBRARIES:
        from rules.library import load_library

        _LIBRARIES[key] = load_library(directory)
    return _LIBRARIES[key]


def scheme_names(lib) -> tuple[str, ...]:
    return tuple(s.name for s in lib.schemes)


def load(source: Path, db: Path, allow_removals: bool = False, lib=None, figures: bool = False):
    """Validate SOURCE and record it in the store; a refused first load leaves no store behind. With
    `figures`, a first load too large for the analysts' whole table stores its month's figures just
    after it, decided while it is written (``claims.analysts.decided_with_load``)."""
    from hds.load import read
    from claims.analysts import decided_with_load
    from claims.ledger.read import holds_submissions
    from claims.ledger.store import open_store
    from hds.store import check_writable, is_empty, known_discharges, read_before, save_load

    from hds import progress

    lib = lib or library()
    mapping = config_beside(db).input  # hds.toml's [input]: how the extract reads as the contract
    new = not db.exists()
    check_writable(db, create=new)  # before the files are read: a read-only folder is refused at once
    if new:
        with progress.step(f"Reading and checking {source}"):
            loaded = read(source, scheme_names(lib), mapping=mapping, references_later=True)  # before any file is made
        store, first = open_store(db, write=True, create=True), True
    else:
        store = open_store(db, write=True)
        first = is_empty(store)
        with progress.step(f"Reading and checking {source}"):
            loaded = read(source, scheme_names(lib), None if first else known_discharges(store), first_load=first,
                          references_later=first,  # checked while the first table's indexes grow
                          mapping=mapping, read_before=None if first else read_before(store, mapping.text()))
    beside = decided_with_load(loaded, lib, first) if figures else None
    try:
        try:
            with progress.step(f"Writing the load into {db}"):
                summary = save_load(store, loaded, allow_removals, record_touched=holds_submissions,
                                    hashed=None if beside is None else beside.hashed,
                                    references=None if beside is None else beside.references)
        except BaseException:
            if new:
                store.close()
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            raise
        if beside is not None:
            _store_figures(beside, store, summary.load_id, db)
        return loaded, summary
    finally:  # the copies stopped and reaped, whatever they still had to send
        if beside is not None:
            beside.cancel()
        if getattr(loaded, "read_beside", None) is not None:
            loaded.read_beside.cancel()
        store.close()


def _store_figures(beside, store, load_id: int, db: Path) -> None:
    """The figures decided beside a first load (``claims.analysts.FiguresBeside``), stored once the
    load is committed; an interrupt while they are awaited says that the load itself was recorded.
    Should storing them fail otherwise, they are left to the refresh after the load
    (``claims.analysts.refresh_after_load``), which decides them again and says what goes wrong, once
    the load has been reported."""
    from hds import progress

    try:
        with progress.step("Storing the figures of every month"):
            beside.store(store, load_id)
    except KeyboardInterrupt:
        raise HdsError(f"interrupted after load {load_id} was recorded in {db}: the figures of its months were "
                       "not stored, and are decided when a command next needs them") from None
    except Exception:  # noqa: BLE001 - not stored: the refresh decides them (a store whose figures are
        pass  # not current is always decided again), and reports any fault as the load's own


def start_settings(source: Path, db: Path, force: bool = False, lib=None):
    """`hds init`: a starting hds.toml beside the store for the extract SOURCE (hds.starter.Started)."""
    from hds.starter import start

    return start(source, db.parent / "hds.toml", force, scheme_names(lib or library()))


def config_beside(db: Path):
    """hds.toml in the store's folder: partners, shortfall rule, anchor, check thresholds, input mapping."""
    from hds.config import load_config

    return load_config(db.parent / "hds.toml")


def ledger_problems(store, db: Path, config=None) -> tuple[str, ...]:
    """The reports' quick look at the ledger: one warning when it fails verification, else none.
    `config`: the hds.toml the command already read (else it is read here, for its anchor)."""
    from claims.ledger import anchor_path, verify

    problems = verify(store, anchor_path(db, (config or config_beside(db)).anchor), full=False)
    if problems:
        return (f"the ledger fails verification ({len(problems)} problem(s), e.g. {problems[0]}); "
                "run 'hds verify' before relying on this report",)
    return ()

