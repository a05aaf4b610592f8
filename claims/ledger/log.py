"""The log: the loads and the submissions, oldest first, as lines to print."""

from __future__ import annotations

import json

from claims.ledger.read import stored_findings, submissions
from hds.money import format_pounds
from hds.store import Store


def log_lines(store: Store) -> list[str]:
    """Each load with its changes, files, input mapping and hash; each submission with its total, hash and findings."""
    return ["Loads"] + [line for row in store.loads() for line in _load_lines(row)] + ["Submissions"] + [
        line for row, kept in _with_findings(store) for line in _submission_lines(row, kept)]


def _load_lines(row: dict) -> list[str]:
    changes = json.loads(row["changes"])
    summary = ", ".join(f"{t} +{c['added']} ~{c['changed']} -{c['removed']}" for t, c in changes.items())
    lines = [f"  {row['id']:>3}  {row['loaded_at']}  {row['loaded_by']}  {row['source']}  ({summary})"]
    lines += [f"         {name} sha256 {digest}" for name, digest in json.loads(row["files"]).items()]
    if row.get("mapping"):  # read through hds.toml's [input]: what each table was read from
        lines += [f"         read as {table} through [input.{table}]: file {m['file'] or table + '.csv'}, "
                  f"{len(m['columns'])} heading(s) and {sum(map(len, m['values'].values()))} label(s) mapped"
                  f"{', dates ' + m['date_format'] if m['date_format'] else ''}"
                  for table, m in json.loads(row["mapping"]).items()]
    if row.get("hash"):
        lines.append(f"         load hash {row['hash'][:16]}")
    return lines


def _with_findings(store: Store) -> list[tuple[dict, list[dict]]]:
    found = stored_findings(store)
    return [(row, [f for f in found if f["submission_id"] == row["id"]]) for row in submissions(store)]


def _submission_lines(row: dict, kept: list[dict]) -> list[str]:
    lines = [f"  {row['id']:>3}  {row['month']}  {row['submitted_at']}  {row['submitted_by']}  load {row['load_id']}  "
             f"{format_pounds(row['total_pence'])}  ({row['line_count']} lines)  hash {row['hash'][:16]}"]
    if kept:
        errors = sum(f["severity"] == "error" for f in kept)
        lines.append(f"         findings: {errors} error(s), {len(kept) - errors} warning(s)")
        lines += [f"         {f['code']}:{f['subject']} {f['acknowledged']}" for f in kept if f["acknowledged"]]
    return lines
