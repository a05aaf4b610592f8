"""The data layer's schema: the sqlite-utils migration set ``hds-data``.

The versioned data tables, the loads log and what is built on them (indexes,
the chain of loads and its triggers, the analysts' views and allocation
table). Imported only when a store is built or changed (sqlite-utils is slow
to import); ``hds.store.DATA`` names these migrations for the checks made on
every open. The ledger keeps its own set beside this one
(``claims.ledger.schema``).
"""

from __future__ import annotations

from hds import chain
from hds.contract import CONTRACT
from hds.migrating import load_sqlite_utils
from hds.store import _latest_day_sql, pounds_sql, replace_views

Migrations = load_sqlite_utils().Migrations

migrations = Migrations("hds-data")


def _sql_type(kind: str) -> type:
    return int if kind in ("money", "flag") else str


@migrations()
def data_tables(db) -> None:
    """Versioned data tables and the load log (the earlier hds's migration 1)."""
    for spec in CONTRACT:
        columns = {c.field: _sql_type(c.kind) for c in spec.columns} | {"_extra": str, "_load": int, "_until_load": int}
        db[spec.name].create(columns, pk=(spec.key, "_load"))
        db[spec.name].create_index(["_until_load"], index_name=f"{spec.name}_current")
        if "discharge_id" in columns and spec.key != "discharge_id":
            db[spec.name].create_index(["discharge_id"], index_name=f"{spec.name}_discharge")
    db["loads"].create({"id": int, "loaded_at": str, "loaded_by": str, "source": str,
                        "files": str, "rows": str, "changes": str}, pk="id")


@migrations()
def data_indexes(db) -> None:
    """Read only what is needed: indexes for periods, patients and NHS numbers (and none on
    `_until_load` alone, which would lead SQLite to scan every current row); the source row of
    each version; the latest date in the data after each load (the earlier hds's migration 3)."""
    for spec in CONTRACT:
        db.execute(f"ALTER TABLE [{spec.name}] ADD COLUMN _row INTEGER")
        db.execute(f"DROP INDEX IF EXISTS [{spec.name}_current]")
    db.execute("CREATE INDEX episodes_period ON episodes (_until_load, start_date, end_date)")
    db.execute("CREATE INDEX discharges_patient ON discharges (patient_id)")
    db.execute("CREATE INDEX discharges_nhs_number ON discharges (nhs_number)")
    db.execute("ALTER TABLE loads ADD COLUMN latest_day TEXT")
    # the discharges each load touched (recorded once the ledger holds a submission), so that a claim
    # recomputes past months only for what changed since they were settled
    db.execute("ALTER TABLE loads ADD COLUMN touched_recorded INTEGER")
    db.execute("CREATE TABLE load_discharges (load_id INTEGER NOT NULL, discharge_id TEXT NOT NULL, "
               "PRIMARY KEY (load_id, discharge_id)) WITHOUT ROWID")
    latest = db.execute("SELECT MAX(id) FROM loads").fetchone()[0]
    if latest is not None:
        db.execute("UPDATE loads SET latest_day = ? WHERE id = ?", [_latest_day_sql(db.conn), latest])


@migrations()
def data_integrity(db) -> None:
    """Integrity: the loads log chained, each load with a digest of the data it wrote; triggers
    on the loads log and the data history (the earlier hds's migration 4, but for the ledger's part)."""
    conn = db.conn
    for column in ("digest", "prev_hash", "hash"):
        conn.execute(f"ALTER TABLE loads ADD COLUMN {column} TEXT")
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


@migrations()
def data_views(db) -> None:
    """For analysts (and Datasette): views of the current data and the receipts by month in pounds,
    and the allocation table of every month, kept in a table the engine refreshes (the earlier hds's
    migration 5, but for the ledger's views)."""
    conn = db.conn
    conn.execute("CREATE TABLE allocation_rows (patient_id TEXT, discharge_id TEXT, episode_id TEXT, block_id TEXT, "
                 "scheme TEXT, month TEXT, funder TEXT, days INTEGER, amount_pence INTEGER, rule TEXT, service TEXT, "
                 "organisation TEXT)")
    conn.execute("CREATE INDEX allocation_rows_month ON allocation_rows (month, funder)")
    conn.execute("CREATE INDEX allocation_rows_patient ON allocation_rows (patient_id)")
    conn.execute("CREATE TABLE derived (name TEXT PRIMARY KEY, load_id INTEGER, rulebook_version TEXT, "
                 "computed_at TEXT, rows INTEGER)")
    for sql in money_views().values():
        conn.execute(sql)
    conn.execute("CREATE VIEW allocations_status AS SELECT d.load_id AS computed_from_load, "
                 "(SELECT MAX(id) FROM loads) AS latest_load, d.computed_at, d.rows, d.rulebook_version, "
                 "CASE WHEN d.load_id = (SELECT MAX(id) FROM loads) THEN 'current' ELSE 'out of date: run hds refresh' "
                 "END AS state FROM derived d WHERE d.name = 'allocations'")


def money_views() -> dict[str, str]:
    """The analysts' views that show money, by name, with their SQL: money in pounds as numbers."""
    views = {}
    for spec in CONTRACT:
        fields = [f"{pounds_sql(c.field)} AS [{c.name}]" if c.kind == "money" else f"[{c.field}]" for c in spec.columns]
        views[f"current_{spec.name}"] = (f"CREATE VIEW current_{spec.name} AS SELECT {', '.join(fields)}, "
                                         f"_load AS loaded_in FROM [{spec.name}] WHERE _until_load IS NULL")
    views["receipts_by_month"] = (
        f"CREATE VIEW receipts_by_month AS SELECT claim_month, scheme, {pounds_sql('SUM(amount_pence)')} AS received, "
        "COUNT(*) AS receipts FROM receipts WHERE _until_load IS NULL GROUP BY claim_month, scheme")
    views["allocations"] = (
        f"CREATE VIEW allocations AS SELECT patient_id, discharge_id, episode_id, block_id, scheme, month, "
        f"funder, days, {pounds_sql('amount_pence')} AS amount, rule, service, organisation FROM allocation_rows")
    views["allocations_by_month"] = (
        f"CREATE VIEW allocations_by_month AS SELECT month, funder, scheme, SUM(days) AS days, "
        f"{pounds_sql('SUM(amount_pence)')} AS amount FROM allocation_rows GROUP BY month, funder, scheme")
    return views


@migrations()
def data_money_as_numbers(db) -> None:
    """The views give money as numbers in pounds (they gave exact text, which sorted and summed as text)."""
    replace_views(db.conn, money_views())


@migrations()
def data_input_mapping(db) -> None:
    """The input mapping (hds.toml's [input]) each load was read through, kept with the load and
    hashed into the chain of loads; blank for a load read by the contract's own names."""
    db.execute("ALTER TABLE loads ADD COLUMN mapping TEXT")


@migrations()
def data_allocation_totals(db) -> None:
    """The month's figures decided once: the allocation table summed by month, funder, scheme,
    organisation and service (rows, days, pence), computed at every load and stamped in `derived` with the load
    and rulebook version it came from; a reader of a store without it decides instead."""
    db.conn.execute("CREATE TABLE allocation_totals (month TEXT NOT NULL, funder TEXT NOT NULL, scheme TEXT NOT NULL, "
                    "organisation TEXT NOT NULL, service TEXT NOT NULL, rows INTEGER NOT NULL, days INTEGER NOT NULL, "
                    "amount_pence INTEGER NOT NULL, PRIMARY KEY (month, funder, scheme, organisation, service)) "
                    "WITHOUT ROWID")


@migrations()
def data_decisions(db) -> None:
    """Each discharge's decisions kept for its trace (``claims.decisions``): its timeline and its segments
    with their rules, in buckets of discharges, computed at every load and stamped in `derived` with the
    load and rulebook version they came from; beside them, the rules and schemes they refer to, the day
    they were decided to and the number of buckets. A trace of a store without them decides instead."""
    db.conn.execute("CREATE TABLE decided_discharges (bucket INTEGER PRIMARY KEY, discharges TEXT NOT NULL, "
                    "decided BLOB NOT NULL)")
    db.conn.execute("CREATE TABLE decided_library (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")


@migrations()
def data_checked_findings(db) -> None:
    """A month's findings kept by the first command that ran its checks on the latest load
    (``claims.checked``), with the load and what they were found under, so the pack and the
    submission of that month read them instead of running the checks again."""
    db.conn.execute("CREATE TABLE checked_findings (month TEXT PRIMARY KEY, load_id INTEGER NOT NULL, "
                    "found_under TEXT NOT NULL, findings TEXT NOT NULL)")


@migrations()
def data_loads_read_with(db) -> None:
    """Which hds read each load's files (``hds.code``: a digest of its modules): a follow-up load takes a
    file the store's last load of its table read without reading it again only when this very hds
    read it (``hds.store.read_before``), so a check an upgrade adds or tightens reads every file once.
    It is not part of the load's hash: it says nothing of the data, only when a file must be read."""
    db.execute("ALTER TABLE loads ADD COLUMN read_with TEXT")


@migrations()
def data_shared_numbers_index(db) -> None:
    """The index on NHS numbers holds each discharge's patient id, versions and id too, so that the checks
    find the NHS numbers carried by more than one patient id from the index alone, without visiting a
    row, however many there are (``hds.store.StoreSource.shared_nhs_numbers``); it still finds a number's
    discharges as before."""
    db.execute("DROP INDEX IF EXISTS discharges_nhs_number")
    db.execute("CREATE INDEX discharges_nhs_number ON discharges (nhs_number, patient_id, _until_load, _load, "
               "discharge_id)")
