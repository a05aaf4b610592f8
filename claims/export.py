"""Write allocations and claims as a readable table, CSV, JSON or an Excel workbook.

Money leaves the program as pounds with two decimals: a Decimal in Excel
cells, a decimal string in JSON, plain text in CSV.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from tabulate import tabulate

from claims.allocation import Allocation
from claims.claim import Claim
from hds.money import pounds

ALLOCATION_COLUMNS = ["patient_id", "discharge_id", "episode_id", "block_id", "scheme", "month",
                      "funder", "days", "amount", "rule"]
CLAIM_COLUMNS = ["kind", "patient_id", "discharge_id", "episode_id", "block_id", "description",
                 "scheme", "service", "organisation", "days", "amount"]
MONEY_FORMAT = "#,##0.00"


def allocation_records(rows: list[Allocation]) -> list[dict]:
    return [{**{c: getattr(r, c) for c in ALLOCATION_COLUMNS if c != "amount"}, "amount": pounds(r.amount_pence)}
            for r in rows]


def claim_records(claim: Claim) -> list[dict]:
    records = claim.lines.to_dict("records")
    for r in records:
        r["amount"] = pounds(int(r.pop("amount_pence")))
        r["days"] = int(r["days"])
    return records


def claim_totals(claim: Claim) -> dict:
    return {
        "claim": pounds(claim.total_pence),
        "individual": pounds(claim.total_of_kind("individual")),
        "block": pounds(claim.total_of_kind("block")),
        "by_scheme": {k: pounds(v) for k, v in claim.totals_by("scheme").items()},
        "by_service": {k: pounds(v) for k, v in claim.totals_by("service").items()},
        "by_organisation": {k: pounds(v) for k, v in claim.totals_by("organisation").items()},
    }


def to_csv(records: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def to_json(value) -> str:
    return json.dumps(value, indent=2, default=str)


def to_table(records: list[dict], columns: list[str]) -> str:
    return tabulate([[r[c] for c in columns] for r in records], headers=columns,
                    disable_numparse=True, colalign=_align(columns))


def _align(columns):
    return ["right" if c in ("days", "amount") else "left" for c in columns]


def claim_json(claim: Claim) -> str:
    return to_json({"month": claim.month, "rulebook_version": claim.rulebook_version,
                    "lines": claim_records(claim), "totals": claim_totals(claim)})


def claim_table(claim: Claim) -> str:
    totals = claim_totals(claim)
    records = claim_records(claim)
    parts = [f"Draft claim to NHS England for {claim.month}: {len(records)} line(s)", ""]
    if records:
        parts += [to_table(records, [c for c in CLAIM_COLUMNS if c != "description"]), ""]
    for title, key in (("By scheme", "by_scheme"), ("By service", "by_service"), ("By organisation", "by_organisation")):
        rows = [[k, f"{v:,}"] for k, v in totals[key].items()]
        parts += [title, tabulate(rows, headers=["", "amount"], disable_numparse=True, colalign=["left", "right"]), ""]
    parts.append(f"Individual lines: £{totals['individual']:,}   Block lines: £{totals['block']:,}")
    parts.append(f"Total claim for {claim.month}: £{totals['claim']:,}")
    return "\n".join(parts)


def claim_workbook(claim: Claim, path: Path | str) -> None:
    """A workbook a finance officer can check by hand: Summary and Lines."""
    totals = claim_totals(claim)
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(["Draft claim to NHS England", claim.month])
    summary["A1"].font = Font(bold=True)
    summary.append(["Rulebook version", claim.rulebook_version])
    summary.append([])
    for title, key in (("Scheme", "by_scheme"), ("Service", "by_service"), ("Organisation", "by_organisation")):
        summary.append([title, "Amount"])
        summary.cell(summary.max_row, 1).font = Font(bold=True)
        for name, amount in totals[key].items():
            summary.append([name, amount])
        summary.append([])
    summary.append(["Individual lines", totals["individual"]])
    summary.append(["Block lines", totals["block"]])
    summary.append(["Total claim", totals["claim"]])
    summary.cell(summary.max_row, 1).font = Font(bold=True)
    _money_format(summary, 2)
    lines = book.create_sheet("Lines")
    lines.append(CLAIM_COLUMNS)
    for cell in lines[1]:
        cell.font = Font(bold=True)
    for record in claim_records(claim):
        lines.append([record[c] for c in CLAIM_COLUMNS])
    if lines.max_row > 1:
        lines.append(["Total"] + [""] * (len(CLAIM_COLUMNS) - 2) + [f"=SUM(K2:K{lines.max_row})"])
    _money_format(lines, CLAIM_COLUMNS.index("amount") + 1)
    lines.freeze_panes = "A2"
    book.save(path)


def _money_format(sheet, column: int) -> None:
    for (cell,) in sheet.iter_rows(min_col=column, max_col=column):
        cell.number_format = MONEY_FORMAT
