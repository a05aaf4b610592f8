"""A month's findings, found once per load and kept for the rest of the month end.

A month end shows one month's findings several times over the same data: `hds check` (often
more than once) and the month's pack (`hds claim -o pack.xlsx`). The first of them to run the
checks on the store's latest load keeps what they found in the store's table ``checked_findings``:
one row per month, with the load they were found on, what they were found under (this hds's code,
the rulebook version and the thresholds) and the findings as JSON (a list per field, which reads
back faster than a list per finding). The others read them back while all of that is unchanged; a
new load, other rules or thresholds, or another hds make the checks run again. A month's row is
replaced when its checks run again, and the rows of earlier loads are dropped when one of a later
load is kept, so the table holds at most the months checked since the last load.

Keeping them is a cache for what is shown, never a record: `hds submit` always runs the checks
itself, as it computes the claim itself, so the ledger records only findings computed from the data
they are stored against (a kept row edited behind hds's back cannot reach a submission). A command
that only reads the store keeps them on a connection of its own, only when this user can write the
store, it already has the table and no other hds process is writing it at that moment (it never
waits and never migrates the store); otherwise it keeps nothing, and the next command runs the
checks again. The findings are the same either way: exactly what ``claims.checks.run_checks``
returns, stored and read back whole.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import orjson

from claims.checks import Finding, Thresholds, checked_data, run_checks

TABLE = "checked_findings"
KEPT = tuple(name for name in Finding._fields if name != "acknowledged")  # a list each; acknowledging is submit's


def month_findings(source, store, library, month: str, thresholds: Thresholds) -> list[Finding]:
    """The findings of `month` in what `source` reads: those kept when current, else the checks run
    now (and kept, when `source` reads the store's latest load)."""
    latest = store is not None and source.load_id == store.latest_load()
    under = found_under(library, thresholds) if latest else None
    if under is not None:
        kept = _kept(store, month, source.load_id, under)
        if kept is not None:
            return kept
    findings = run_checks(month, checked_data(source), library, thresholds)
    if under is not None:
        keep(store, month, source.load_id, under, findings)
    return findings


def found_under(library, thresholds: Thresholds) -> str | None:
    """What findings depend on besides the data: this hds (a digest of the text of every module of hds,
    claims and rules, read once per process), the rulebook version (a digest of every rule file) and
    the thresholds; None when hds's code cannot be read (nothing is kept or read then)."""
    code = _code()
    if code is None:
        return None
    return json.dumps({"code": code, "rules": library.version, "thresholds": asdict(thresholds)}, sort_keys=True)


def _code() -> str | None:
    from hds.code import code_digest

    return code_digest("hds", "claims", "rules")


def _kept(store, month: str, load_id: int, under: str) -> list[Finding] | None:
    """The findings kept for `month` from load `load_id` under `under`, or None."""
    if not _has_table(store):
        return None
    row = store.execute(f"SELECT findings FROM {TABLE} WHERE month = ? AND load_id = ? AND found_under = ?",
                        [month, load_id, under]).fetchone()
    return None if row is None else list(map(Finding, *json.loads(row[0])))


def keep(store, month: str, load_id: int, under: str, findings: list[Finding]) -> bool:
    """Keep a month's findings: in the caller's write transaction when it holds one (``submit``),
    else on a connection of its own when the store can be written at once (``hds.store.write_aside``).
    Whether they were kept (or, aside, are being kept: written while the command shows them, and
    before its store is closed)."""
    from hds.store import write_aside

    if not _has_table(store):
        return False

    def write(conn) -> None:
        text = orjson.dumps([[getattr(f, name) for f in findings] for name in KEPT]).decode()  # JSON, as json reads it
        if conn.execute("SELECT MAX(id) FROM loads").fetchone()[0] != load_id:
            return  # a later load came in since these were found: they would never be read
        conn.execute(f"DELETE FROM {TABLE} WHERE month = ? OR load_id < ?", [month, load_id])
        conn.execute(f"INSERT INTO {TABLE} (month, load_id, found_under, findings) VALUES (?, ?, ?, ?)",
                     [month, load_id, under, text])

    if store.writable and store.conn.in_transaction:
        write(store.conn)
        return True
    return write_aside(store, write, behind=True)  # while the findings are shown; closing the store waits


def _has_table(store) -> bool:
    return store.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [TABLE]).fetchone() is not None
