"""The ledger's place in the store: its tables' fields, the triggers that keep what was
submitted as it was submitted, its migration set (``claims.ledger.schema``, imported only
to build or change a store) and the store opened with it beside the data."""

from __future__ import annotations

from pathlib import Path

from hds import store as data_store
from hds.store import Schema, Store

HEADER_FIELDS = ["id", "month", "submitted_at", "submitted_by", "load_id", "rulebook_version",
                 "current_pence", "adjustments_pence", "total_pence", "line_count", "prev_hash"]
PROTECTED = ("submissions", "submission_lines")  # the tables of the earlier hds's first ledger
LEDGER_TABLES = PROTECTED + ("submission_findings", "submission_rules")
INVOICE_TABLES = ("invoices", "invoice_lines")  # issued invoices (migration ledger_invoices)
MESSAGE = "submitted claims cannot be changed: correct a past month through an adjustment in the next claim"
INVOICE_MESSAGE = "issued invoices cannot be changed: a change of the figures goes into the next invoice as its own line"


def triggers(tables: tuple[str, ...] = LEDGER_TABLES + INVOICE_TABLES) -> dict[str, str]:
    """Every trigger of the ledger (or of some of its tables), by name, with its exact SQL: no UPDATE
    or DELETE of what was submitted or issued."""
    from hds.chain import raise_sql

    found = {}
    for table in tables:
        message = INVOICE_MESSAGE if table in INVOICE_TABLES else MESSAGE
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_no_{action.lower()}"
            found[name] = f"CREATE TRIGGER {name} BEFORE {action} ON {table} BEGIN {raise_sql(message)} END"
    return found


def _migrations():
    from claims.ledger.schema import migrations

    return migrations


LEDGER = Schema("hds-ledger", {"ledger_tables": 2, "ledger_indexes": 3, "ledger_integrity": 4, "ledger_views": 5,
                               "ledger_money_as_numbers": None, "ledger_invoices": None},
                _migrations, frozenset({"ledger_money_as_numbers", "ledger_invoices"}))  # no invoices: none issued


def open_store(path: Path | str, write: bool = False, create: bool = False) -> Store:
    """The store with the ledger's schema beside the data's (``hds.store.open_store``)."""
    return data_store.open_store(path, write, create, extra=(LEDGER,))


def migrate(path: Path | str) -> list[str]:
    """Bring a store, data and ledger, to this version's schema; the migrations applied."""
    return data_store.migrate(path, extra=(LEDGER,))
