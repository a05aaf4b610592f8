"""A month's findings, found once per load and kept for the rest of the month end.

A month end runs the checks of one month three times over the same data: `hds check`, the
month's pack (`hds claim -o pack.xlsx`) and `hds submit`. The first of them to run the checks on
the store's latest load keeps what they found in the store's table ``checked_findings``: one row
per month, with the load they were found on, what they were found under (the code of the checks
and of the deciding they read, the rulebook version and the thresholds) and the findings as JSON
(a list per field, which reads back faster than a list per finding). The others read them back
while all of that is unchanged; a new load, other rules or thresholds, or changed checks make the
checks run again. A month's row is replaced when its checks run again, and the rows of an earlier
load are dropped when one of a later load is kept, so the table holds at most the months checked
since the last load.

Keeping them is a cache, not a record: the findings a submission stores go into the ledger with
it, as always. A command that only reads the store (`check`, the pack) keeps them on a connection
of its own, only when this user can write the store, it already has the table and no other hds
process is writing it at that moment (it never waits and never migrates the store); otherwise it
keeps nothing, and the next command runs the checks again. The findings are the same either way:
they are exactly what ``claims.checks.run_checks`` returns, stored and read back whole.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from claims.checks import Finding, Thresholds, checked_data, run_checks

TABLE = "checked_findings"
KEPT = ("code", "severity", "paragraph", "subject", "ids", "amount_pence", "message")  # Finding's fields, a list each


def month_findings(source, store, library, month: str, thresholds: Thresholds) -> list[Finding]:
    """The findings of `month` in what `source` reads: those kept when current, else the checks run
    now (and kept, when `source` reads the store's latest load)."""
    kept = kept_findings(source, store, library, month, thresholds)
    if kept is not None:
        return kept
    findings = run_checks(month, checked_data(source), library, thresholds)
    if store is not None and source.load_id == store.latest_load():
        keep(store, month, source.load_id, found_under(library, thresholds), findings)
    return findings


def kept_findings(source, store, library, month: str, thresholds: Thresholds) -> list[Finding] | None:
    """The findings kept for `month` when they are current for what `source` reads (the store's latest
    load), else None."""
    if store is None or source.load_id != store.latest_load():
        return None
    return _kept(store, month, source.load_id, found_under(library, thresholds))


def found_under(library, thresholds: Thresholds) -> str:
    """What findings depend on besides the data: the code of the checks and of the deciding they read
    (a digest of their text), the rulebook version (a digest of every rule file) and the thresholds."""
    from claims import allocate, checks

    code = hashlib.sha256()
    for module in (checks, allocate):  # the checks, and the deciding they read
        code.update(Path(module.__file__).read_bytes())
    return json.dumps({"code": code.hexdigest(), "rules": library.version, "thresholds": asdict(thresholds)},
                      sort_keys=True)


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
    Whether they were kept."""
    from hds.store import write_aside

    if not _has_table(store):
        return False
    text = json.dumps([[getattr(f, name) for f in findings] for name in KEPT], ensure_ascii=False)

    def write(conn) -> None:
        conn.execute(f"DELETE FROM {TABLE} WHERE month = ? OR load_id != ?", [month, load_id])
        conn.execute(f"INSERT INTO {TABLE} (month, load_id, found_under, findings) VALUES (?, ?, ?, ?)",
                     [month, load_id, under, text])

    if store.writable and store.conn.in_transaction:
        write(store.conn)
        return True
    return write_aside(store, write)


def _has_table(store) -> bool:
    return store.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [TABLE]).fetchone() is not None
