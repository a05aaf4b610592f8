"""The month-end pack and the other workbooks, from the claims layer's values.

Turns a Claim, its reconciliation, the recharge and the findings of the
checks into the plain values ``claims.report.excel`` prints (money as Decimal
pounds), and reports of tables into ``Sheet`` values with readable headings.
"""

from __future__ import annotations

from decimal import Decimal

from claims.report import columns as fields
from claims.report import excel
from claims.report.formats import ids_cell
from hds.money import pounds
from hds.store import now_utc
from hds.table import Table


def _lines(lines: Table) -> tuple[excel.PackLine, ...]:
    names = ["claim_month", "kind", "patient_id", "discharge_id", "episode_id", "block_id", "description", "scheme",
             "service", "organisation", "days", "amount_pence", "reason"]
    out = []
    for values in lines.rows(names):
        *text, days, pence, reason = values
        out.append(excel.PackLine(*text, days, pounds(pence), reason))
    return tuple(out)


def reconciliation(rec) -> excel.Reconciliation | None:
    if rec is None:
        return None
    rows = tuple(excel.ReconRow(s.scheme, pounds(s.claimed_pence), pounds(s.received_pence),
                                pounds(s.received_pence - s.claimed_pence) if s.status != "awaiting" else None,
                                s.status, pounds(s.split["council"]) if s.split else None,
                                pounds(s.split["ccg"]) if s.split else None) for s in rec.schemes)
    running = tuple(excel.RunningRow(p.month, pounds(p.claimed_pence), pounds(p.received_pence),
                                     pounds(p.received_pence - p.claimed_pence) if p.status != "awaiting" else None,
                                     p.status) for p in rec.running)
    return excel.Reconciliation(rows, running, rec.split_rule)


def recharge(rc) -> excel.Recharge | None:
    if rc is None:
        return None
    items = tuple(excel.RechargeItem(i.description, rc.ccg if i.payer == "ccg" else rc.council,
                                     rc.council if i.payer == "ccg" else rc.ccg, i.lines, pounds(i.pence))
                  for i in rc.items)
    net = rc.ccg_owes_council
    return excel.Recharge(items, rc.ccg if net >= 0 else rc.council, rc.council if net >= 0 else rc.ccg,
                          pounds(abs(net)))


def findings(found) -> tuple[excel.Finding, ...] | None:
    if found is None:
        return None
    return tuple(excel.Finding(f.code, f.severity, f.paragraph,
                               "; ".join(f"{k} {ids_cell(v, ', ')}" for k, v in f.ids.items() if v),
                               pounds(f.amount_pence) if f.amount_pence else None, f.message) for f in found)


def claim_pack(claim, config, rec=None, rc=None, found=None, warnings: tuple[str, ...] = ()) -> excel.ClaimPack:
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
        claim.month, "submitted" if header else "draft",
        excel.Partner(config.council, config.council_label), excel.Partner(config.ccg, config.ccg_label),
        now_utc(), claim.load_id, claim.rulebook_version, submission, _lines(claim.lines), _lines(claim.adjustments),
        reconciliation(rec), recharge(rc), findings(found), tuple(warnings))


def claim_pack_bytes(claim, config, rec=None, rc=None, found=None, warnings: tuple[str, ...] = ()) -> bytes:
    return excel.claim_pack_bytes(claim_pack(claim, config, rec, rc, found, warnings))


def sheet(title: str, records: list[dict], keys: list[str], heading: str = "", total: bool = False) -> excel.Sheet:
    """A table of records as a printable sheet: readable headings, money as money."""
    def value(record, key):
        v = record.get(key)
        if fields.kind(key) == "money" and v not in (None, ""):
            return Decimal(v)
        return v

    columns = tuple(excel.Column(k, fields.heading(k), fields.kind(k)) for k in keys)
    return excel.Sheet(title, columns, tuple({k: value(r, k) for k in keys} for r in records), total, heading)


def workbook_bytes(sheets: list[excel.Sheet]) -> bytes:
    return excel.table_workbook_bytes(sheets)
