"""The claims ledger: submitted claims that nothing may change.

A submission stores the claim exactly as `hds claim` shows it: a header
(month, time, load used, rulebook version, totals) and every line, current
and adjustment. SQLite triggers refuse any UPDATE or DELETE of them. Each
line's hash chains the previous one, starting from the previous submission's
hash, and the header's hash closes the chain; `verify` recomputes it all, so
an edit made behind the triggers' back is found and named.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

import sqlite_utils

from claims.claim import Claim, ClaimLine, LedgerState, build_claim, sum_lines
from hds.errors import HdsError
from hds.money import pounds
from hds.store import HEADER_FIELDS, PROTECTED, RECORDS, now_utc, latest_load, read_dataset, user_name, version_filter, write_transaction
from rules.library import RuleLibrary

GENESIS = "0" * 64
LINE_FIELDS = [f.name for f in dataclasses.fields(ClaimLine)]
INPUT_NAMES = {"weekly_pence": "weekly_cost", "amount_pence": "amount"}  # store column -> input column


# --- what has been claimed -------------------------------------------------

def submissions(db: sqlite_utils.Database, up_to_load: int | None = None) -> list[dict]:
    where, params = ("WHERE load_id <= ?", [up_to_load]) if up_to_load is not None else ("", [])
    return list(db.query(f"SELECT * FROM submissions {where} ORDER BY id", params))


def stored_lines(db: sqlite_utils.Database, submission_ids: list[int], where: str = "", params=()) -> list[dict]:
    if not submission_ids:
        return []
    marks = ",".join("?" * len(submission_ids))
    return list(db.query(
        f"SELECT * FROM submission_lines WHERE submission_id IN ({marks}) {where} ORDER BY submission_id, line_no",
        list(submission_ids) + list(params)))


def _claim_line(row: dict) -> ClaimLine:
    return ClaimLine(**{f: row[f] for f in LINE_FIELDS})


def ledger_state(db: sqlite_utils.Database, library: RuleLibrary, up_to_load: int | None = None) -> LedgerState:
    subs = submissions(db, up_to_load)
    if not subs:
        return LedgerState(None, {})
    by_id = {s["id"]: s for s in subs}
    rows = stored_lines(db, list(by_id))  # ordered by submission, so later ones win below
    lines = [_claim_line(r) for r in rows]
    claimed_months = {line.claim_month for line in lines} | {s["month"] for s in subs}
    last_for_month = {}
    for s in subs:
        last_for_month[s["month"]] = s
    for row in rows:
        if by_id[row["submission_id"]]["id"] >= last_for_month.get(row["claim_month"], {"id": 0})["id"]:
            last_for_month[row["claim_month"]] = by_id[row["submission_id"]]

    def explain(line: ClaimLine, claimed_before: bool) -> str:
        if line.claim_month not in claimed_months:
            return f"{line.claim_month} was not claimed before"
        sub = last_for_month[line.claim_month]
        reasons = changes_since(db, line, sub["load_id"])
        if not reasons and sub["rulebook_version"] != library.version:
            reasons = [f"the rulebook changed since submission {sub['id']}"]
        if not claimed_before and not reasons:
            reasons = [f"not claimed in submission {sub['id']}"]
        return "; ".join(reasons)

    return LedgerState(min(s["month"] for s in subs), sum_lines(lines), explain)


def changes_since(db: sqlite_utils.Database, line: ClaimLine, since_load: int) -> list[str]:
    """What loads after `since_load` changed about this line's discharge or block cost."""
    if line.kind == "block":
        targets = [("block_costs", "block_id", line.block_id)]
    else:
        targets = [("discharges", "discharge_id", line.discharge_id), ("episodes", "discharge_id", line.discharge_id),
                   ("events", "discharge_id", line.discharge_id)]
    reasons = []
    for table, column, value in targets:
        key = RECORDS[table][1]
        rows = list(db.query(
            f"SELECT * FROM [{table}] WHERE [{column}] = ? AND (_load > ? OR _until_load > ?) ORDER BY [{key}], _load",
            [value, since_load, since_load]))
        before = {r[key]: r for r in db.query(
            f"SELECT * FROM [{table}] WHERE [{column}] = ? AND {version_filter(since_load)[0]}",
            [value] + version_filter(since_load)[1])}
        for row in rows:
            if row["_load"] <= since_load:  # the old version, closed by a later load
                if not any(r[key] == row[key] and r["_load"] > since_load for r in rows):
                    reasons.append(f"{_describe(table, row)} removed in load {row['_until_load']}")
                continue
            old = before.get(row[key])
            if old is None:
                reasons.append(f"{_describe(table, row)} loaded in load {row['_load']}")
            else:
                changed = [_change(c, old[c], row[c]) for c in row if not c.startswith("_") and old[c] != row[c]]
                reasons.append(f"{table[:-1].replace('_', ' ')} {row[key]}: {', '.join(changed)} in load {row['_load']}")
            before[row[key]] = row
    return reasons


def _describe(table: str, row: dict) -> str:
    if table == "events":
        outcome = f" ({row['outcome']})" if row["outcome"] else ""
        return f"{row['event'].replace('_', ' ')}{outcome} dated {row['date']}"
    if table == "episodes":
        return f"episode {row['episode_id']}"
    if table == "block_costs":
        return f"block cost {row['block_id']}"
    return f"discharge {row['discharge_id']}"


def _change(column: str, old, new) -> str:
    if column == "nhs_number":  # an identifier has no place in a claim's reasons
        return "nhs_number changed"
    return f"{INPUT_NAMES.get(column, column)} {_show(column, old)} -> {_show(column, new)}"


def _show(column: str, value) -> str:
    if column.endswith("_pence") and value is not None:
        return str(pounds(value))
    return "blank" if value in (None, "") else str(value)


# --- claims as the ledger sees them ----------------------------------------

def claim_for(db: sqlite_utils.Database, library: RuleLibrary, month: str, as_of: int | None = None) -> Claim:
    """The stored submission of `month` if there is one, otherwise the draft claim with adjustments."""
    header = db.execute("SELECT id FROM submissions WHERE month = ?", [month]).fetchone()
    if header and as_of is None:
        return stored_claim(db, header[0])
    load_id = as_of if as_of is not None else latest_load(db)
    state = ledger_state(db, library, up_to_load=as_of)
    return build_claim(read_dataset(db, as_of), library, month, state, load_id)


def stored_claim(db: sqlite_utils.Database, submission_id: int) -> Claim:
    header = db["submissions"].get(submission_id)
    rows = stored_lines(db, [submission_id])
    claim = Claim(header["month"], [_claim_line(r) for r in rows if r["current"]],
                  [_claim_line(r) for r in rows if not r["current"]], header["rulebook_version"], header["load_id"],
                  submission=header)
    claim.notes.append(f"{header['month']} was submitted as submission {header['id']} on {header['submitted_at']} "
                       f"by {header['submitted_by']} from load {header['load_id']}; this is what was claimed.")
    return claim


def patient_history(db: sqlite_utils.Database, patient_id: str) -> list[dict]:
    """Every submitted line for a patient, original and adjustments, in order."""
    return list(db.query(
        "SELECT l.*, s.month AS submission_month FROM submission_lines l JOIN submissions s ON s.id = l.submission_id "
        "WHERE l.patient_id = ? ORDER BY l.claim_month, l.submission_id, l.line_no", [patient_id]))


# --- submitting --------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    id: int
    claim: Claim
    hash: str


def submit(db: sqlite_utils.Database, library: RuleLibrary, month: str) -> Submitted:
    _check_can_submit(db, month)
    load_id = latest_load(db)
    if load_id is None:
        raise HdsError("the store holds no data: run 'hds load DIR' first")
    claim = build_claim(read_dataset(db), library, month, ledger_state(db, library), load_id)
    with write_transaction(db):
        _check_can_submit(db, month)
        if latest_load(db) != load_id:
            raise HdsError("a load landed while the claim was being computed; run 'hds submit' again")
        previous = db.execute("SELECT hash FROM submissions ORDER BY id DESC LIMIT 1").fetchone()
        header = {
            "id": (db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM submissions").fetchone()[0]),
            "month": month, "submitted_at": now_utc(), "submitted_by": user_name(), "load_id": load_id,
            "rulebook_version": library.version, "current_pence": claim.current_pence,
            "adjustments_pence": claim.adjustments_pence, "total_pence": claim.total_pence,
            "line_count": len(claim.lines) + len(claim.adjustments),
            "prev_hash": previous[0] if previous else GENESIS,
        }
        rows, chain = [], header["prev_hash"]
        for number, (line, current) in enumerate(
                [(line, 1) for line in claim.lines] + [(line, 0) for line in claim.adjustments], start=1):
            row = {"submission_id": header["id"], "line_no": number, **line.__dict__, "current": current}
            chain = line_hash(chain, row)
            rows.append(row | {"line_hash": chain})
        header["hash"] = header_hash(header, chain)
        db["submissions"].insert(header)
        if rows:
            db["submission_lines"].insert_all(rows, batch_size=1000)
    return Submitted(header["id"], claim, header["hash"])


def _check_can_submit(db: sqlite_utils.Database, month: str) -> None:
    same = db.execute("SELECT id, submitted_at FROM submissions WHERE month = ?", [month]).fetchone()
    if same:
        raise HdsError(f"{month} was already submitted (submission {same[0]}, {same[1]}); a submission cannot be "
                       f"changed: corrections go into the next month's claim as adjustments")
    later = db.execute("SELECT MAX(month) FROM submissions").fetchone()[0]
    if later and later > month:
        raise HdsError(f"{later} is already submitted, so {month} can no longer be submitted on its own; "
                       f"submit the next month and {month} is claimed there as an adjustment")


def line_hash(previous: str, row: dict) -> str:
    fields = ["submission_id", "line_no", *LINE_FIELDS, "current"]
    return hashlib.sha256((previous + json.dumps([row[f] for f in fields])).encode()).hexdigest()


def header_hash(header: dict, last_line_hash: str) -> str:
    return hashlib.sha256((json.dumps([header[f] for f in HEADER_FIELDS]) + last_line_hash).encode()).hexdigest()


# --- verifying ----------------------------------------------------------------

def verify(db: sqlite_utils.Database) -> list[str]:
    """Every way the ledger differs from what was submitted; empty when intact."""
    problems = []
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table in PROTECTED:
        for action in ("update", "delete"):
            if f"{table}_no_{action}" not in names:
                problems.append(f"the trigger {table}_no_{action} that protects submitted claims is missing")
    previous = GENESIS
    for header in db.query("SELECT * FROM submissions ORDER BY id"):
        name = f"submission {header['id']} ({header['month']})"
        if header["prev_hash"] != previous:
            problems.append(f"{name}: does not follow the previous submission (its chain hash differs)")
        rows = stored_lines(db, [header["id"]])
        chain = header["prev_hash"]
        for expected_no, row in enumerate(rows, start=1):
            chain = line_hash(chain, row)
            if row["line_no"] != expected_no:
                problems.append(f"{name}: line {expected_no} is missing")
                break
            if chain != row["line_hash"]:
                problems.append(f"{name} line {row['line_no']}: its contents were changed after submission "
                                f"({row['episode_id'] or row['block_id']}, {row['claim_month']}, "
                                f"amount now {pounds(row['amount_pence'])})")
                chain = row["line_hash"]
        if len(rows) != header["line_count"]:
            problems.append(f"{name}: holds {len(rows)} lines, but {header['line_count']} were submitted")
        if sum(r["amount_pence"] for r in rows) != header["total_pence"]:
            problems.append(f"{name}: its lines no longer add up to the submitted total {pounds(header['total_pence'])}")
        if header_hash(header, chain) != header["hash"]:
            problems.append(f"{name}: its header was changed after submission")
        previous = header["hash"]
    for (orphan,) in db.execute("SELECT DISTINCT submission_id FROM submission_lines WHERE submission_id NOT IN "
                                "(SELECT id FROM submissions)"):
        problems.append(f"submission {orphan}: its header was deleted, its lines remain")
    return problems
