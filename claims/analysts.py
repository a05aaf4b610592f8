"""The analysts' allocation table: every month of the data, materialised in the store (table
``allocation_rows``, view ``allocations``) for SQL and Datasette.
"""

from __future__ import annotations

from pathlib import Path

from claims.commands.session import library, writing

METADATA = Path(__file__).with_name("datasette.json")  # the titles of the views and tables, for any store name
REFRESH_AT_LOAD = 200_000  # discharges: up to this many, a load refreshes the analysts' allocation table itself


def refresh(store, lib=None) -> int:
    """Recompute the allocation table of every month in the data into the store (table
    allocation_rows, view allocations) for analysts, its totals (``claims.figures``) and each
    discharge's decisions for the trace (``claims.decisions``); the rows written."""
    from functools import partial

    from claims.allocate import allocations
    from claims.decisions import save as keep
    from claims.figures import refresh_totals
    from hds.month import Month
    from hds.store import StoreSource, now_utc

    lib = lib or library()
    with store.write():
        source = StoreSource(store)
        first, last = Month.of_day(source.first_day()), Month.of_day(source.latest_day())
        rows = allocations(source.period(first.first_day, last.last_day), lib, first.number, last.number,
                           partial(keep, store, lib))
        store.execute("DELETE FROM allocation_rows")
        names = ["patient_id", "discharge_id", "episode_id", "block_id", "scheme", "month", "funder", "days",
                 "amount_pence", "rule", "service", "organisation"]
        store.conn.executemany(f"INSERT INTO allocation_rows ({', '.join(names)}) VALUES ({', '.join('?' * 12)})",
                               rows.rows(names))
        store.execute("INSERT OR REPLACE INTO derived VALUES ('allocations', ?, ?, ?, ?)",
                      [source.load_id, lib.version, now_utc(), len(rows)])
        refresh_totals(store, lib, rows)
    return len(rows)


def decided_with_load(loaded, lib, first: bool) -> "FiguresBeside | None":
    """The month's figures of a first load too large for the analysts' whole table at once
    (REFRESH_AT_LOAD), decided from `loaded` (``hds.load.Loaded``) by a copy of this process
    (``hds.background``) while this one writes the load (``FiguresBeside``), or None for any other load."""
    if not first or len(loaded.tables.get("discharges", ())) <= REFRESH_AT_LOAD:
        return None
    return FiguresBeside(loaded, lib)


class FiguresBeside:
    """A first load's figures of every month, the digests of its tables as written
    (``hds.store.written_whole``) and the problems of its links to its own discharges
    (``hds.load.check_references``), computed by a copy of this process while this one writes the load:
    the digests and the links first, which the load records or refuses (``hashed`` and ``references``,
    given to ``hds.store.save_load``), so that this process's indexing is not shared with that work; then
    the figures, which ``store`` keeps in a transaction of their own once the load is committed, so that
    the commit's writing is not kept waiting for the deciding. When the copy cannot be made or dies, all
    is done here when first asked for; should the deciding fail, nothing is stored, and the refresh
    after the load decides again and says why."""

    def __init__(self, loaded, lib):
        from hds.background import start_in_turn

        self.lib = lib
        self._pending = start_in_turn(_checked_then_decided, loaded, lib)

    def hashed(self) -> dict[str, str]:
        return self._pending.result(0)[0]

    def references(self) -> list:
        return self._pending.result(0)[1]

    def cancel(self) -> None:
        """The load failed, or its figures are not wanted: the copy stopped."""
        self._pending.cancel()

    def store(self, store, load_id: int) -> bool:
        """The figures stored, in a write transaction of their own, if the store's latest load is still
        `load_id` (another load may have come in since it was committed: its own refresh decides). Whether
        they were: a store whose figures are not current decides them when they are next asked for."""
        from claims.figures import refresh_totals

        decided = self._pending.result(1)
        if decided is None:  # the refresh after the load decides again and reports it
            return False
        with store.write():
            if store.latest_load() != load_id:
                return False
            refresh_totals(store, self.lib, decided=decided)
        return True


def _checked_then_decided(loaded, lib):
    """What a first load's copy computes while the load is written, in turn: the digest of each table
    as written (``hds.store.written_whole``) with the problems of the links of its episodes and events
    to its discharges (none when each follows one: linking them for the deciding finds that, and the
    problems are only worded when it does not); then the figures of every month
    (``claims.figures.every_month``; None when deciding fails)."""
    from claims.figures import every_month
    from hds.load import check_references
    from hds.store import written_whole

    data = loaded.data()
    try:
        linked = data.linked()
    except ValueError:  # a row follows no discharge of the load
        linked = None
    hashed = written_whole(loaded, but=getattr(loaded, "hashed_when_read", ()))  # (the others: by their reader)
    yield hashed, [] if linked is not None else check_references(loaded)
    try:
        decided = None if linked is None else every_month(data, lib, linked)
    except Exception:  # noqa: BLE001 - the refresh after the load decides again and says why
        decided = None
    yield decided


def refresh_after_load(db: Path, lib=None, loaded=None, summary=None) -> tuple[int | None, int]:
    """After a load: the month's figures decided once and stored (``claims.figures``), unless they were
    stored with it (``decided_with_load``): from `loaded` (``hds.load.Loaded``) itself after a first
    load, else re-deciding only the discharges the load changed when it can (those its `summary`,
    ``hds.store.LoadSummary``, says it touched, else those the store says); and the analysts' whole
    table too when the store is small enough to do it at once. (Rows written or None, discharges in
    the store.) The Datasette metadata is written beside it."""
    from claims.figures import changed_discharges, refresh_totals, stamp
    from hds import progress

    write_metadata(db)
    lib = lib or library()
    with writing(db) as store:
        count = store.execute("SELECT COUNT(*) FROM discharges WHERE _until_load IS NULL").fetchone()[0]
        if count > REFRESH_AT_LOAD:
            if stamp(store) == (store.latest_load(), lib.version):
                return None, count  # stored with the load
            with progress.step("Deciding every month once and storing its figures"), store.write():
                latest = store.latest_load()
                if latest == 1 and loaded is not None:
                    refresh_totals(store, lib, data=loaded.data())
                else:
                    refresh_totals(store, lib, changed=sorted(summary.touched) if summary is not None else
                                   changed_discharges(store, latest))
            return None, count
        with progress.step("Refreshing the analysts' allocation table"):
            return refresh(store, lib), count


def metadata_path(db: Path) -> Path:
    return Path(f"{db}.datasette.json")


def write_metadata(db: Path) -> Path:
    """`<store>.datasette.json`: Datasette's titles and descriptions, keyed by the name Datasette gives
    this store (its file name without the extension), views first and the tables behind them hidden."""
    import json

    from claims.report.output import write_output

    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    metadata["databases"] = {Path(db).stem: metadata["databases"].pop("STORE")}
    path = metadata_path(db)
    write_output(path, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return path
