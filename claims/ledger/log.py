"""The log: the loads, the submissions and the issued invoices, oldest first, as lines to print."""

from __future__ import annotations

import json

from claims.ledger.invoices import invoices
from claims.ledger.read import stored_findings, submissions
from claims.report.safe import printable_line
from claims.report.labels import user_text, when_text
from hds.money import format_pounds
from hds.store import Store


def log_lines(store: Store) -> list[str]:
    """Each load with its changes, files, input mapping and hash; each submission with its total, full hash (to give
    'hds verify --expect') and findings; each issued invoice. Stored text is shown with its control
    characters escaped."""
    issued = invoices(store)
    lines = ["Loads"] + [line for row in store.loads() for line in _load_lines(row)] + ["Submissions"] + [
        line for row, kept in _with_findings(store) for line in _submission_lines(row, kept)] + (
        ["Invoices"] + [_invoice_line(row) for row in issued] if issued else [])
    return [printable_line(line) for line in lines]


def _invoice_line(row: dict) -> str:
    owed = (f"{row['to_partner']} owes {row['from_partner']} {format_pounds(row['total_pence'])}" if row["total_pence"]
            else "nothing due either way")
    return (f"  {row['number']}  {row['month']}  {row['issued_at']}  {row['issued_by']}  {owed}  ({row['line_count']} "
            f"lines, submission {row['submission_id']})  hash {row['hash']}")


def _load_lines(row: dict) -> list[str]:
    changes = json.loads(row["changes"])
    summary = ", ".join(f"{t} +{c['added']} ~{c['changed']} -{c['removed']}" for t, c in changes.items())
    lines = [f"  {row['id']:>3}  {when_text(row['loaded_at'])}  {user_text(row['loaded_by'])}  {row['source']}  ({summary})"]
    lines += [f"         {name} sha256 {digest}" for name, digest in json.loads(row["files"]).items()]
    if row.get("mapping"):  # read through hds.toml's [input]: what each table was read from
        lines += [f"         read as {table} through [input.{table}]: file {m['file'] or table + '.csv'}, "
                  f"{len(m['columns'])} heading(s) and {sum(map(len, m['values'].values()))} label(s) mapped"
                  f"{', dates ' + m['date_format'] if m['date_format'] else ''}"
                  for table, m in json.loads(row["mapping"]).items()]
    if row.get("hash"):
        lines.append(f"         load hash {row['hash']}")
    return lines


def _with_findings(store: Store) -> list[tuple[dict, list[dict]]]:
    found = stored_findings(store)
    return [(row, [f for f in found if f["submission_id"] == row["id"]]) for row in submissions(store)]


def _submission_lines(row: dict, kept: list[dict]) -> list[str]:
    lines = [f"  {row['id']:>3}  {row['month']}  {when_text(row['submitted_at'])}  {user_text(row['submitted_by'])}  "
             f"load {row['load_id']}  {format_pounds(row['total_pence'])}  ({row['line_count']} lines)",
             f"         hash {row['hash']}"]
    if kept:
        errors = sum(f["severity"] == "error" for f in kept)
        lines.append(f"         findings: {errors} error(s), {len(kept) - errors} warning(s)")
        lines += [f"         {f['code']}:{f['subject']} {f['acknowledged']}" for f in kept if f["acknowledged"]]
    return lines
