"""Shared, expensive things built once per session: the rule library, its engine, and stores of the sample.

Tests that need a store of the sample copy a prepared file (`copy_store`) instead of loading the
sample again: loading it is the same work every time, and the tests that are about loading still load.
"""

import shutil
import sqlite3
from pathlib import Path

import pytest

from fixtures import SAMPLE_DIR
from rules.engine import Engine
from rules.library import load_library


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """hds's cache of stores that passed their page check (hds.integrity) kept apart from the user's."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True, scope="session")
def wide_terminal():
    """Tests read hds's terminal output as a wide terminal shows it (a line a record), so that what they
    pin is the content; tests of the fitting itself set COLUMNS (80, 60 ...) for their call."""
    import os

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "250"
    yield
    if before is None:
        del os.environ["COLUMNS"]
    else:
        os.environ["COLUMNS"] = before


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture(scope="session")
def engine(library):
    return Engine(library.books)


def copy_store(source: Path, target: Path) -> Path:
    """A private copy of a store at `target` (its folder is made), for a test to change as it likes:
    the store file, what lives beside it under its name (the ledger's anchor, `<store>.anchor`) and
    the hds.toml beside it (unless the target's folder has one)."""
    assert not Path(f"{source}-wal").exists() or Path(f"{source}-wal").stat().st_size == 0, \
        "the prepared store still has a write-ahead log"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    settings = source.parent / "hds.toml"  # the partners (and any mapping) the store was made with
    if settings.exists() and not (target.parent / "hds.toml").exists():
        shutil.copyfile(settings, target.parent / "hds.toml")
    for companion in source.parent.glob(f"{source.name}.*"):
        shutil.copyfile(companion, target.parent / (target.name + companion.name[len(source.name):]))
    return target


def _checkpointed(db: Path) -> Path:
    """`db` with its write-ahead log folded in, so that copying the one file copies the whole store."""
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return db


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> Path:
    """The sample loaded once, as `hds load fixtures/sample` leaves it. Never change it: copy it."""
    from tests.cli_helpers import ok

    db = tmp_path_factory.mktemp("sample-store") / "hds.db"
    shutil.copyfile(SAMPLE_DIR / "hds.toml", db.parent / "hds.toml")  # Oxfordshire's partners, beside the store
    ok("load", SAMPLE_DIR, "--db", db)
    return _checkpointed(db)


@pytest.fixture(scope="session")
def october_store(tmp_path_factory, sample_store) -> Path:
    """The sample loaded and October 2020 submitted. Never change it: copy it."""
    from tests.cli_helpers import ok

    db = copy_store(sample_store, tmp_path_factory.mktemp("october-store") / "hds.db")
    ok("submit", "--month", "2020-10", "--db", db)
    return _checkpointed(db)


@pytest.fixture(scope="session")
def sample_data(library):
    """The sample as read from its CSV files (hds.load.read_data), shared: nothing may change it."""
    from hds.load import read_data

    return read_data(SAMPLE_DIR, tuple(s.name for s in library.schemes))[0]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session's browser tests (each page still opens in a fresh context)."""
    from tests import browser

    browser.require_chromium()
    with browser.session() as started:
        yield started


@pytest.fixture(scope="session")
def paid_store(tmp_path_factory, october_store) -> Path:
    """October 2020 submitted and NHS England's receipts for it loaded (under-paid by £2,846.82). Copy it."""
    from tests.cli_helpers import ok

    db = copy_store(october_store, tmp_path_factory.mktemp("paid-store") / "hds.db")
    ok("load", SAMPLE_DIR.parent / "receipts", "--db", db)
    return _checkpointed(db)


def corrected(tables: dict, costs_every: int, assessed_every: int) -> dict:
    """A copy of an extract's rows (table -> list of dicts) as a follow-up extract: every `costs_every`-th
    episode's weekly cost corrected by £11, and a Care Act assessment added on the discharge day of every
    `assessed_every`-th discharge from the sixth; the months of the data stay as they were."""
    tables = {name: [dict(row) for row in rows] for name, rows in tables.items()}
    for row in tables["episodes"][::costs_every]:
        row["weekly_cost"] = f"{float(row['weekly_cost']) + 11:.2f}"
    for i, discharge in enumerate(tables["discharges"][5::assessed_every]):
        tables["events"].append({"event_id": f"VZ{i}", "discharge_id": discharge["discharge_id"],
                                 "event": "care_act_assessment", "date": discharge["discharge_date"], "outcome": ""})
    return tables
