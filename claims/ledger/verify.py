"""Verifying: every way the store differs from what hds wrote, the ledger's chain and anchor
with the data layer's triggers and chain of loads."""

from __future__ import annotations

from pathlib import Path

from dataclasses import dataclass

from claims.ledger.anchor import REPAIR, anchor_unusable, read_anchor
from claims.ledger.hashing import header_hash, line_hash, rows_hash
from claims.ledger.invoices import invoice_problems, invoices
from claims.ledger.read import kept_rows, line_rows, line_summary, orphan_lines, submissions
from claims.ledger.store import LEDGER, triggers
from hds import chain
from hds.money import pounds
from hds.store import Store, schema_problems

MIN_PREFIX = 8  # the fewest characters of a hash --expect takes as its prefix


@dataclass(frozen=True)
class Verified:
    """What `hds verify` found: the ways the store was changed after hds wrote it, and, apart from
    them, whether the hash the user expected is the chain's head."""

    problems: list[str]
    expected: str | None  # what is wrong with --expect (a typo is not a change to the store)
    submissions: int
    loads: int
    invoices: int = 0


def verify_store(store: Store, anchor: Path | None, expect: str | None) -> Verified:
    """`hds verify`: every page of the store checked again (not only when it changed), then the ledger."""
    from hds.integrity import check_pages

    check_pages(store.conn, store.path, always=True)
    headers = submissions(store)
    return Verified(verify(store, anchor), expect_problem(headers, expect) if expect is not None else None,
                    len(headers), len(store.loads()), len(invoices(store)))


def verify(store: Store, anchor: Path | None = None, full: bool = True) -> list[str]:
    """Every way the store differs from what hds wrote; empty when intact. `full` re-hashes every
    submitted line, finding and rule file and every load's data, and compares the store's tables,
    columns, views and triggers with the schema; without it (the check reports make before they
    print, which must stay quick with hundreds of thousands of findings) the headers, the chains,
    the line counts and totals, the triggers and the anchor are checked."""
    problems = (chain.trigger_problems(store.conn, triggers() | chain.triggers())
                + chain.load_problems(store.conn, digests=full))
    if full:
        problems += schema_problems(store.conn, (LEDGER,))
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
    problems += _anchor_problems(headers, anchor)
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


def expect_problem(headers: list[dict], expect: str) -> str | None:
    """Why the chain's head is not the `expect`ed hash (or a unique prefix of it of MIN_PREFIX or more
    characters); None when it is. A hash no submission has is most often a copying slip: the closest
    one is suggested, and nothing is said about the store having changed."""
    from difflib import get_close_matches

    expect = expect.strip().lower()
    head = headers[-1]["hash"] if headers else None
    matches = [h for h in headers if h["hash"] == expect or (len(expect) >= MIN_PREFIX and h["hash"].startswith(expect))]
    if len(matches) > 1:
        return (f"--expect {expect} is the start of the hashes of submissions "
                f"{', '.join(str(h['id']) for h in matches)}; give more of it")
    if not matches:
        close = get_close_matches(expect, [h["hash"] for h in headers], n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"no submission has this hash: {expect}{hint}; 'hds log' shows each submission's full hash"
    at = matches[0]
    if at["hash"] != head:
        later = [h["id"] for h in headers if h["id"] > at["id"]]
        return (f"the expected hash is submission {at['id']} ({at['month']}), but {len(later)} submission(s) "
                f"follow it (up to {later[-1]}); give the latest recorded hash")
    return None


def _anchor_problems(headers: list[dict], anchor: Path | None) -> list[str]:
    if anchor is None:
        return []
    unusable = anchor_unusable(anchor)
    if unusable is not None and (anchor.exists() or anchor.is_symlink() or headers):
        return [unusable]
    if not anchor.exists():
        return [f"the anchor file {anchor} is missing: it should hold the hash of every submission; if it was never "
                f"written (a submit that could not reach it), '{REPAIR}' writes it"] if headers else []
    stored = {h["id"]: h for h in headers}
    problems = []
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
        problems.append(f"submission(s) {', '.join(map(str, missing))} are not in the anchor file {anchor}: a submit "
                        "could not append to it, or was interrupted after storing; compare with the hash it printed, "
                        f"then '{REPAIR}' appends the missing line(s)")
    return problems
