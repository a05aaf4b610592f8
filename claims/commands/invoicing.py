"""Invoicing a month's recharge: the draft as the data stands, or issued into the ledger."""

from __future__ import annotations

from pathlib import Path

from claims.commands.session import config_beside, reading, writing


def month_invoice(db: Path, lib, month, issue: bool = False):
    """The month's invoice (``claims.invoice.Invoice``): the one issued, the draft, or with `issue`
    the draft issued now, under the write lock, its hash appended to the anchor file."""
    from claims.invoice import invoice, issue_invoice

    config = config_beside(db)
    if not issue:
        with reading(db) as r:
            return invoice(r.store, lib, month, config)
    from claims.ledger import anchor_path

    with writing(db) as store:
        return issue_invoice(store, lib, month, config, anchor_path(db, config.anchor))
