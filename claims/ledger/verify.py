"""Verifying: every way the store differs from what hds wrote, the ledger's chain and anchor
with the data layer's triggers and chain of loads."""

from __future__ import annotations

from pathlib import Path

from claims.ledger.anchor import read_anchor
from claims.ledger.hashing import header_hash, line_hash, rows_hash
from claims.ledger.invoices import invoice_problems
from claims.ledger.read import kept_rows, line_rows, line_summary, orphan_lines, submissions
from claims.ledger.store import triggers
from hds import chain
from hds.money import pounds
from hds.store import Store


def verify(store: Store, anchor: Path | None = None, expect: str | None = None, full: bool = True) -> list[str]:
    """Every way the store differs from what hds wrote; empty when intact. `full` re-hashes every
    submitted line, finding and rule file and every load's data; without it (the check reports make
    before they print, which must stay quick with hundreds of thousands of findings) the headers,
    the chains, the line counts and totals, the triggers and the anchor are checked."""
    problems = (chain.trigger_problems(store.conn, triggers() | chain.triggers())
                + chain.load_problems(store.conn, digests=full))
    loads = {row["id"]: row["hash"] for row in store.query("SELECT id, hash FROM loads")}
    previous = chain.GENESIS
    headers = submissions(store)
    for header in headers:
        name = f"submission {header['id']} ({header['month']})"
        if header["prev_hash"] != previous:
            problems.append(f"{name}: does not follow the previous submission (its chain hash differs)")
        if header.get("hash_version") == 2:
            if header["load_hash"] != loads.get(header["load_id"]):
                problems.append(f"{name}: the load it was computed from (load {header['load_id']}) is not the one "
                                "recorded with it")
            for table, rows in kept_rows(store, header["id"]).items() if full else ():
                if rows_hash(rows) != header[f"{table}_hash"]:
                    problems.append(f"{name}: its {table} were changed after submission")
        problems += _line_problems(store, header, name, full)
        previous = header["hash"]
    for orphan in orphan_lines(store):
        problems.append(f"submission {orphan}: its header was deleted, its lines remain")
    problems += _anchor_problems(headers, anchor, expect)
    return problems + invoice_problems(store, anchor)


def _line_problems(store: Store, header: dict, name: str, full: bool) -> list[str]:
    problems = []
    if full:
        rows = line_rows(store, header["id"])
        link = header["prev_hash"]
        for expected_no, row in enumerate(rows, start=1):
            link = line_hash(link, row)
            if row["line_no"] != expected_no:
                problems.append(f"{name}: line {expected_no} is missing")
                break
            if link != row["line_hash"]:
                problems.append(f"{name} line {row['line_no']}: its contents were changed after submission "
                                f"({row['episode_id'] or row['block_id']}, {row['claim_month']}, "
                                f"amount now {pounds(row['amount_pence'])})")
                link = row["line_hash"]
        count, total = len(rows), sum(r["amount_pence"] for r in rows)
    else:
        count, total, link = line_summary(store, header["id"])
        link = link or header["prev_hash"]
    if count != header["line_count"]:
        problems.append(f"{name}: holds {count} lines, but {header['line_count']} were submitted")
    if total != header["total_pence"]:
        problems.append(f"{name}: its lines no longer add up to the submitted total {pounds(header['total_pence'])}")
    if header_hash(header, link) != header["hash"]:
        problems.append(f"{name}: its header was changed after submission")
    return problems


def _anchor_problems(headers: list[dict], anchor: Path | None, expect: str | None) -> list[str]:
    problems = []
    stored = {h["id"]: h for h in headers}
    head = headers[-1]["hash"] if headers else chain.GENESIS
    if expect is not None:
        expect = expect.strip().lower()
        at = next((h for h in headers if h["hash"] == expect), None)
        if at is None:
            problems.append(f"no submission in the ledger has the expected hash {expect[:16]}...: the ledger was "
                            "rewritten, or that hash belongs to another store")
        elif at["hash"] != head:
            later = [h["id"] for h in headers if h["id"] > at["id"]]
            problems.append(f"the expected hash is submission {at['id']} ({at['month']}), but {len(later)} "
                            f"submission(s) follow it (up to {later[-1]}); give the latest recorded hash")
    if anchor is None or not anchor.exists():
        if headers and anchor is not None:
            problems.append(f"the anchor file {anchor} is missing: it should hold the hash of every submission")
        return problems
    entries = read_anchor(anchor)
    for number, month, digest in entries:
        header = stored.get(number)
        if header is None:
            problems.append(f"submission {number} ({month}) is in the anchor file {anchor} but not in the store: "
                            "it was deleted")
        elif header["hash"] != digest:
            problems.append(f"submission {number} ({month}): its hash in the store differs from the anchor file "
                            f"{anchor}: the ledger was rewritten")
    anchored = {number for number, _, _ in entries}
    missing = [h["id"] for h in headers if h["id"] not in anchored]
    if missing:
        problems.append(f"submission(s) {', '.join(map(str, missing))} are not in the anchor file {anchor}; if a "
                        "submit was interrupted, compare with the hash it printed")
    return problems
