"""The month-end pack and the other workbooks, from the claims layer's values.

Turns a Claim into the lines ``claims.report.excel`` prints (money as Decimal
pounds); its reconciliation and recharge go in as the same Reports that
`hds reconcile` and `hds recharge` deliver, the findings as a Report of one row
each. Tables of records become ``Sheet`` values with the headings of
``claims.report.columns``.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from claims.report import columns as fields
from claims.report import excel, views
from claims.report.deliver import Report
from claims.report.formats import ids_cell
from hds.money import pounds
from hds.store import now_utc
from hds.table import Table


def _lines(lines: Table) -> excel.PackLines:
    """The claim's lines as the pack's, a column at a time: pence as pounds (each amount converted once)."""
    columns = {key: lines[key].tolist() for key in excel.PACK_LINE_FIELDS if key != "amount"}
    amounts, at = np.unique(lines["amount_pence"], return_inverse=True)
    as_pounds = [pounds(pence) for pence in amounts.tolist()]
    columns["amount"] = [as_pounds[n] for n in at.tolist()]
    return excel.PackLines({key: columns[key] for key in excel.PACK_LINE_FIELDS})


def findings(found) -> Report | None:
    """The findings as the pack lists them: the ids of each in one cell."""
    if found is None:
        return None
    return Report("Findings", tuple(c.key for c in excel.FINDING_COLUMNS), tuple(
        {"code": f.code, "severity": f.severity, "paragraph": f.paragraph, "subject": f.subject,
         "ids": "; ".join(f"{k} {ids_cell(v, ', ')}" for k, v in f.ids.items() if v),
         "amount": pounds(f.amount_pence) if f.amount_pence else None, "message": f.message,
         "acknowledged": f.acknowledged} for f in found))


def claim_pack(result) -> excel.ClaimPack:
    """The pack's values from what `hds claim -o pack.xlsx` assembled (claims.commands.month_end.MonthClaim):
    its invoice and the month's memorandum rows become the Invoice and Memorandum sheets, its
    fingerprint the figures' fingerprint on page 1."""
    from claims.report.invoice_doc import pack_report
    from claims.report.memorandum_doc import month_column

    claim, config, warnings = result.claim, result.config, result.warnings
    rec, rc, invoice, memorandum = result.reconciliation, result.recharge, result.invoice, result.memorandum
    submission = None
    header = claim.submission or claim.carrier
    if claim.carried_in:
        warnings = tuple(warnings) + (f"{claim.month} was not submitted on its own: its money was claimed as "
                                      f"adjustments in submission {claim.carried_in[0]} ({claim.carried_in[1]}).",)
    if header:
        s = header
        submission = excel.Submission(s["id"], s["submitted_at"], s["submitted_by"], s["hash"], s["load_id"],
                                      s["rulebook_version"])
    return excel.ClaimPack(
        claim.month, "submitted" if header else ("not claimed" if claim.status == "not claimed" else "draft"),
        excel.Partner(config.council or "", config.council_label), excel.Partner(config.ccg or "", config.ccg_label),
        now_utc(), claim.load_id, claim.rulebook_version, submission, _lines(claim.lines), _lines(claim.adjustments),
        None if rec is None else views.reconciliation_report(rec), None if rc is None else views.recharge_report(rc),
        findings(result.findings), tuple(warnings), None if invoice is None else pack_report(invoice),
        month_column(memorandum, claim.month) if memorandum else None, result.fingerprint)


def claim_pack_bytes(result) -> bytes:
    """The month-end pack's workbook, from a ``MonthClaim``."""
    return excel.claim_pack_bytes(claim_pack(result))


def sheet(title: str, records: list[dict], keys: list[str], heading: str = "", total: bool = False) -> excel.Sheet:
    """A table of records as a printable sheet: readable headings, money as money."""
    def value(record, key):
        v = record.get(key)
        if fields.kind(key) == "money" and v not in (None, ""):
            return Decimal(v)
        return v

    return excel.Sheet(title, fields.columns(*keys), tuple({k: value(r, k) for k in keys} for r in records), total,
                       heading)


def workbook_bytes(sheets: list[excel.Sheet]) -> bytes:
    return excel.table_workbook_bytes(sheets)
