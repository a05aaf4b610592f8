"""Issued invoices between the partners: stored, numbered in sequence, chained by hash and kept by
triggers as issued, like the submissions; every read of them and their verification.

An invoice's lines chain from the previous invoice's hash (``hds.chain.GENESIS`` for the first); its
header's hash closes the chain and covers the hash of the submission whose recharge it states. Each
issued invoice's hash is also appended to the anchor file, beside the submissions'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from claims.ledger.hashing import chain_link, closing_hash
from hds.chain import GENESIS
from hds.errors import HdsError
from hds.money import pounds
from hds.store import Store, now_utc, user_name

HEADER = ["id", "number", "month", "issued_at", "issued_by", "from_partner", "to_partner", "owed_by", "total_pence",
          "line_count", "submission_id", "submission_hash", "prev_hash"]
LINE = ["invoice_id", "line_no", "for_month", "part", "description", "amount_pence"]


def kept(store: Store) -> bool:
    """Whether the store has the invoices' tables: a store of an earlier hds, read without migrating
    (hds.store readable_without), has none, and so no invoice was issued from it."""
    return store.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'invoices'").fetchone() is not None


def invoices(store: Store) -> list[dict]:
    """Every issued invoice's header, in the order issued."""
    return store.query("SELECT * FROM invoices ORDER BY id") if kept(store) else []


def invoice_of(store: Store, month: str) -> dict | None:
    """The invoice issued for a month (its header, with its `lines`), if one was."""
    found = store.query("SELECT * FROM invoices WHERE month = ?", [month]) if kept(store) else []
    if not found:
        return None
    return {**found[0], "lines": invoice_lines(store, found[0]["id"])}


def invoice_lines(store: Store, invoice_id: int) -> list[dict]:
    return store.query("SELECT * FROM invoice_lines WHERE invoice_id = ? ORDER BY line_no", [invoice_id])


def invoiced_by_month(store: Store) -> dict[str, int]:
    """For each month any issued invoice carried money for: what the CCG was invoiced to pay the council
    for it, over all invoices (negative: the council was invoiced to pay the CCG)."""
    if not kept(store):
        return {}
    return dict(store.execute(
        "SELECT l.for_month, SUM(CASE i.owed_by WHEN 'ccg' THEN l.amount_pence ELSE -l.amount_pence END) "
        "FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id GROUP BY l.for_month ORDER BY l.for_month"))


def _header_hash(header: dict, last: str) -> str:
    return closing_hash([header[f] for f in HEADER], last)


def issue(store: Store, month: str, prefix: str, build: Callable[[], dict], anchor: Path | None = None) -> dict:
    """Store the invoice for `month` under the write lock: `build()` computes it there (a dict with
    from_partner, to_partner, owed_by and lines of (for_month, part, description, pence)); it is
    numbered `prefix` and the next number in sequence. Refused when the month is not submitted or
    already has an invoice. The stored header (with its lines) is returned. An anchor that could not
    be appended to is refused before anything is stored; an append that fails after the commit is
    reported as such (the invoice is issued; `hds anchor --repair` writes the line later)."""
    from claims.ledger.anchor import check_anchor

    if anchor is not None:
        check_anchor(anchor, "no invoice was issued")
    with store.write():
        _check_can_issue(store, month)
        built = build()
        number = store.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM invoices").fetchone()[0]
        previous = store.execute("SELECT hash FROM invoices ORDER BY id DESC LIMIT 1").fetchone()
        submission = store.query("SELECT id, hash FROM submissions WHERE month = ?", [month])[0]
        header = {"id": number, "number": f"{prefix}{number:04d}", "month": month, "issued_at": now_utc(),
                  "issued_by": user_name(), "from_partner": built["from_partner"], "to_partner": built["to_partner"],
                  "owed_by": built["owed_by"], "total_pence": sum(line[3] for line in built["lines"]),
                  "line_count": len(built["lines"]), "submission_id": submission["id"],
                  "submission_hash": submission["hash"], "prev_hash": previous[0] if previous else GENESIS}
        rows, chain = [], header["prev_hash"]
        for line_no, line in enumerate(built["lines"], start=1):
            row = (number, line_no, *line)
            chain = chain_link(chain, row)
            rows.append(row + (chain,))
        header["hash"] = _header_hash(header, chain)
        store.execute(f"INSERT INTO invoices ({', '.join(header)}) VALUES ({', '.join('?' * len(header))})",
                      list(header.values()))
        store.conn.executemany(f"INSERT INTO invoice_lines ({', '.join(LINE)}, line_hash) VALUES "
                               f"({', '.join('?' * (len(LINE) + 1))})", rows)
    if anchor is not None:
        _anchored(anchor, header)
    return invoice_of(store, month)


def _anchored(anchor: Path, header: dict) -> None:
    from claims.ledger.anchor import REPAIR, append_lines

    try:
        append_lines(anchor, [invoice_anchor_line(header)])
    except OSError as exc:
        raise HdsError(f"invoice {header['number']} ({header['month']}) IS issued and stored (hash {header['hash']}), "
                       f"but its hash could not be appended to the anchor ({anchor}: {exc.strerror or exc}); when "
                       f"the anchor can be written again run '{REPAIR}' to write the missing line") from None


def _check_can_issue(store: Store, month: str) -> None:
    done = store.query("SELECT number, issued_at FROM invoices WHERE month = ?", [month])
    if done:
        raise HdsError(f"the invoice for {month} was already issued: {done[0]['number']} on "
                       f"{done[0]['issued_at'][:10]}; an issued invoice is never changed or issued again, and a "
                       "change of its figures goes into the next invoice as its own line")
    if not store.execute("SELECT 1 FROM submissions WHERE month = ?", [month]).fetchone():
        raise HdsError(f"{month} has not been submitted: an invoice states the recharge of a submitted claim; "
                       f"submit it first (hds submit --month {month}), or leave out --issue to see the draft")


def invoice_anchor_line(header: dict) -> str:
    return f"{header['issued_at']} invoice {header['number']} {header['month']} {header['hash']}\n"


def anchored_invoices(path: Path | None) -> dict[str, str]:
    """Invoice number -> hash, from the anchor file's invoice lines."""
    if path is None or not path.exists():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[1] == "invoice":
            found[parts[2]] = parts[4]
    return found


def invoice_problems(store: Store, anchor: Path | None = None) -> list[str]:
    """Every way the issued invoices differ from what hds wrote: the chain, each line, the totals, the
    submission each states, and the anchor."""
    if not kept(store):
        return []
    problems, previous = [], GENESIS
    submitted = dict(store.execute("SELECT id, hash FROM submissions"))
    headers = invoices(store)
    for header in headers:
        name = f"invoice {header['number']} ({header['month']})"
        if header["prev_hash"] != previous:
            problems.append(f"{name}: does not follow the previous invoice (its chain hash differs)")
        if submitted.get(header["submission_id"]) != header["submission_hash"]:
            problems.append(f"{name}: the submission it states (submission {header['submission_id']}) is not the "
                            "one recorded with it")
        problems += _line_problems(store, header, name)
        previous = header["hash"]
    for orphan in store.execute("SELECT DISTINCT invoice_id FROM invoice_lines WHERE invoice_id NOT IN "
                                "(SELECT id FROM invoices)"):
        problems.append(f"invoice {orphan[0]}: its header was deleted, its lines remain")
    anchored = anchored_invoices(anchor)
    stored = {h["number"]: h["hash"] for h in headers}
    for number, digest in anchored.items():
        if number not in stored:
            problems.append(f"invoice {number} is in the anchor file {anchor} but not in the store: it was deleted")
        elif stored[number] != digest:
            problems.append(f"invoice {number}: its hash in the store differs from the anchor file {anchor}")
    missing = [number for number in stored if number not in anchored]
    if missing and anchor is not None and anchor.exists():
        problems.append(f"invoice(s) {', '.join(missing)} are not in the anchor file {anchor}; if an issue was "
                        "interrupted, compare with the invoice it wrote")
    return problems


def _line_problems(store: Store, header: dict, name: str) -> list[str]:
    problems, link = [], header["prev_hash"]
    rows = invoice_lines(store, header["id"])
    for expected, row in enumerate(rows, start=1):
        if row["line_no"] != expected:
            problems.append(f"{name}: line {expected} is missing")
            break
        link = chain_link(link, [row[f] for f in LINE])
        if link != row["line_hash"]:
            problems.append(f"{name} line {expected}: its contents were changed after issue (amount now "
                            f"{pounds(row['amount_pence'])})")
            link = row["line_hash"]
    if len(rows) != header["line_count"]:
        problems.append(f"{name}: holds {len(rows)} lines, but {header['line_count']} were issued")
    if sum(r["amount_pence"] for r in rows) != header["total_pence"]:
        problems.append(f"{name}: its lines no longer add up to the issued total {pounds(header['total_pence'])}")
    if _header_hash(header, link) != header["hash"]:
        problems.append(f"{name}: its header was changed after issue")
    return problems
