"""The ledger's schema: the sqlite-utils migration set ``hds-ledger``.

Submission headers and lines, the findings and rules kept with each
submission, the triggers that refuse any change to them, and the analysts'
views of them. Imported only when a store is built or changed;
``claims.ledger.store.LEDGER`` names these migrations for the checks made on
every open.
"""

from __future__ import annotations

from claims.claim import LINE_FIELDS, LINE_TYPES
from claims.ledger.store import HEADER_FIELDS, INVOICE_TABLES, LEDGER_TABLES, PROTECTED, triggers
from hds.migrating import load_sqlite_utils
from hds.store import pounds_sql, replace_views

Migrations = load_sqlite_utils().Migrations

migrations = Migrations("hds-ledger")
LINE_COLUMNS = {f: (int if f in LINE_TYPES else str) for f in LINE_FIELDS}  # a stored line's columns


@migrations()
def ledger_tables(db) -> None:
    """The claims ledger: submission headers and lines, which triggers keep as submitted (the earlier
    hds's migration 2)."""
    db["submissions"].create(
        {f: (int if f in ("id", "load_id", "line_count") or f.endswith("_pence") else str) for f in HEADER_FIELDS}
        | {"hash": str}, pk="id")
    db["submissions"].create_index(["month"], unique=True)
    db["submission_lines"].create(
        {"submission_id": int, "line_no": int} | LINE_COLUMNS | {"current": int, "line_hash": str},
        pk=("submission_id", "line_no"), foreign_keys=[("submission_id", "submissions", "id")])
    db["submission_lines"].create_index(["patient_id"])
    db["submission_lines"].create_index(["claim_month"])
    for name, sql in triggers().items():
        if name.startswith(tuple(f"{table}_no_" for table in PROTECTED)):
            db.execute(sql)


@migrations()
def ledger_indexes(db) -> None:
    """Lines looked up by their key and by discharge (the ledger's part of the earlier hds's migration 3)."""
    db.execute("CREATE INDEX submission_lines_key ON submission_lines (claim_month, kind, episode_id, block_id)")
    db.execute("CREATE INDEX submission_lines_discharge ON submission_lines (discharge_id)")


@migrations()
def ledger_integrity(db) -> None:
    """Submission headers tied to their load, and tables for the findings and the rules each
    submission carries, kept by triggers too (the ledger's part of the earlier hds's migration 4)."""
    conn = db.conn
    for column in ("load_hash", "findings_hash", "rules_hash"):
        conn.execute(f"ALTER TABLE submissions ADD COLUMN {column} TEXT")
    conn.execute("ALTER TABLE submissions ADD COLUMN hash_version INTEGER")
    conn.execute("CREATE TABLE submission_findings (submission_id INTEGER NOT NULL REFERENCES submissions(id), "
                 "n INTEGER NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL, paragraph TEXT NOT NULL, "
                 "subject TEXT NOT NULL, ids TEXT NOT NULL, amount_pence INTEGER NOT NULL, message TEXT NOT NULL, "
                 "acknowledged TEXT NOT NULL, PRIMARY KEY (submission_id, n))")
    conn.execute("CREATE TABLE submission_rules (submission_id INTEGER NOT NULL REFERENCES submissions(id), "
                 "path TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (submission_id, path))")
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for name, sql in triggers(LEDGER_TABLES).items():
        if name not in present:
            conn.execute(sql)


@migrations()
def ledger_views(db) -> None:
    """For analysts (and Datasette): the claims by month in pounds and every claim line (the ledger's
    part of the earlier hds's migration 5)."""
    for sql in money_views().values():
        db.conn.execute(sql)


def money_views() -> dict[str, str]:
    """The ledger's views for analysts, by name, with their SQL: money in pounds as numbers."""
    return {
        "claims_by_month": (
            f"CREATE VIEW claims_by_month AS SELECT month, id AS submission, submitted_at, submitted_by, load_id, "
            f"{pounds_sql('current_pence')} AS current, {pounds_sql('adjustments_pence')} AS adjustments, "
            f"{pounds_sql('total_pence')} AS total, line_count AS lines, hash FROM submissions"),
        "claim_lines": (
            f"CREATE VIEW claim_lines AS SELECT l.submission_id AS submission, s.month AS submitted_for, "
            f"l.claim_month, CASE l.current WHEN 1 THEN 'claimed' ELSE 'adjustment' END AS kind_of_line, "
            f"l.kind, l.patient_id, l.discharge_id, l.episode_id, l.block_id, l.description, l.scheme, l.service, "
            f"l.organisation, l.days, {pounds_sql('l.amount_pence')} AS amount, l.reason "
            f"FROM submission_lines l JOIN submissions s ON s.id = l.submission_id"),
    }


@migrations()
def ledger_money_as_numbers(db) -> None:
    """The ledger's views give money as numbers in pounds (they gave exact text)."""
    replace_views(db.conn, money_views())


@migrations()
def ledger_invoices(db) -> None:
    """Invoices between the partners (agreement 5.3): each issued one with its lines, numbered in
    sequence, chained by hash like the submissions and kept by triggers as issued."""
    conn = db.conn
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, "
                 "month TEXT NOT NULL UNIQUE, issued_at TEXT NOT NULL, issued_by TEXT NOT NULL, "
                 "from_partner TEXT NOT NULL, to_partner TEXT NOT NULL, owed_by TEXT NOT NULL, total_pence INTEGER NOT NULL, "
                 "line_count INTEGER NOT NULL, submission_id INTEGER NOT NULL REFERENCES submissions(id), "
                 "submission_hash TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)")
    conn.execute("CREATE TABLE invoice_lines (invoice_id INTEGER NOT NULL REFERENCES invoices(id), "
                 "line_no INTEGER NOT NULL, for_month TEXT NOT NULL, part TEXT NOT NULL, description TEXT NOT NULL, "
                 "amount_pence INTEGER NOT NULL, line_hash TEXT NOT NULL, PRIMARY KEY (invoice_id, line_no))")
    for sql in triggers(INVOICE_TABLES).values():
        conn.execute(sql)
