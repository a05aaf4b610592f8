"""The claims ledger: submitted claims that nothing may change.

A submission stores the claim exactly as `hds claim` shows it: a header
(month, time, load used, rulebook version, totals) and every line, current
and adjustment. SQLite triggers refuse any UPDATE or DELETE of them. Each
line's hash chains the previous one, starting from the previous submission's
hash, and the header's hash closes the chain; `verify` recomputes it all, so
an edit made behind the triggers' back is found and named.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from claims.claim import LINE_FIELDS, LINE_TYPES, NO_LEDGER, Claim, LedgerState, build_claim, empty_lines
from hds.contract import SPEC
from hds.errors import HdsError
from hds.money import pounds
from hds.store import HEADER_FIELDS, PROTECTED, Store, StoreSource, now_utc, user_name, version_filter
from hds.table import Table

GENESIS = "0" * 64
INPUT_NAMES = {"weekly_pence": "weekly_cost", "amount_pence": "amount"}  # store column -> input column


# --- what has been claimed -------------------------------------------------

def submissions(store: Store, up_to_load: int | None = None) -> list[dict]:
    where, params = ("WHERE load_id <= ?", [up_to_load]) if up_to_load is not None else ("", [])
    return store.query(f"SELECT * FROM submissions {where} ORDER BY id", params)


def _lines_table(rows: list[tuple]) -> Table:
    if not rows:
        return empty_lines()
    return Table.from_rows(LINE_FIELDS, rows, LINE_TYPES)


def stored_lines(store: Store, submission_id: int) -> tuple[Table, np.ndarray]:
    """A submission's lines in order, and which of them are the month's own (not adjustments)."""
    rows = store.execute(f"SELECT {', '.join(LINE_FIELDS)}, current FROM submission_lines WHERE submission_id = ? "
                         "ORDER BY line_no", [submission_id]).fetchall()
    current = np.array([r[-1] for r in rows], dtype=bool)
    return _lines_table([r[:-1] for r in rows]), current


def ledger_state(store: Store, library, month: str, up_to_load: int | None = None) -> LedgerState:
    """What the submissions (made from loads up to `up_to_load`) claimed for the months before `month`."""
    subs = submissions(store, up_to_load)
    if not subs:
        return NO_LEDGER
    by_id = {s["id"]: s for s in subs}
    ids = ", ".join(str(i) for i in by_id)
    last_for_month = {}
    for s in subs:
        last_for_month[s["month"]] = s
    for claim_month, latest in store.execute(
            f"SELECT claim_month, MAX(submission_id) FROM submission_lines WHERE submission_id IN ({ids}) "
            "GROUP BY claim_month"):
        if latest >= last_for_month.get(claim_month, {"id": 0})["id"]:
            last_for_month[claim_month] = by_id[latest]
    claimed_months = set(last_for_month)

    def claimed(touched: list[str] | None) -> Table:
        """Every key's days and money over all submissions, for the months before `month`: all keys, or
        those of block costs and of the `touched` discharges. A key's other fields (from its first line)
        are fetched only for the keys that need them: see `template`."""
        sums = "claim_month, kind, episode_id, block_id, SUM(days), SUM(amount_pence), MIN(l.rowid)"
        mine = f"l.submission_id IN ({ids}) AND l.claim_month < ?"
        group = "GROUP BY claim_month, kind, episode_id, block_id"
        if touched is None:
            rows = store.execute(f"SELECT {sums} FROM submission_lines l WHERE {mine} {group}", [month]).fetchall()
        else:
            rows = store.execute(f"SELECT {sums} FROM submission_lines l WHERE {mine} AND l.kind = 'block' {group}",
                                 [month]).fetchall()
            store.execute("DROP TABLE IF EXISTS temp.touched")
            store.execute("CREATE TEMP TABLE touched (discharge_id TEXT PRIMARY KEY)")
            store.conn.executemany("INSERT INTO temp.touched VALUES (?)", ((i,) for i in touched))
            rows += store.execute(f"SELECT {sums} FROM temp.touched t CROSS JOIN submission_lines l "
                                  f"ON l.discharge_id = t.discharge_id WHERE {mine} {group}", [month]).fetchall()
            store.execute("DROP TABLE temp.touched")
        return Table.from_rows(["claim_month", "kind", "episode_id", "block_id", "days", "amount_pence", "first"],
                               rows, {"days": np.int64, "amount_pence": np.int64, "first": np.int64})

    def template(firsts: np.ndarray) -> Table:
        """The whole first line of each of some keys (by row id), in the given order."""
        found = {}
        wanted = firsts.tolist()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for row in store.execute(f"SELECT rowid, {', '.join(LINE_FIELDS)} FROM submission_lines WHERE rowid IN "
                                     f"({', '.join('?' * len(chunk))})", chunk):
                found[row[0]] = row[1:]
        return _lines_table([found[f] for f in wanted])

    def explain(lines: Table, claimed_before: np.ndarray) -> list[str]:
        since = [last_for_month[m]["load_id"] if m in claimed_months else None for m in lines["claim_month"].tolist()]
        changes = _changes(store, lines, since)
        reasons = []
        for i, (claim_month, before) in enumerate(zip(lines["claim_month"].tolist(), claimed_before.tolist())):
            if claim_month not in claimed_months:
                reasons.append(f"{claim_month} was not claimed before")
                continue
            sub = last_for_month[claim_month]
            found = changes[i]
            if not found and sub["rulebook_version"] != library.version:
                found = [f"the rulebook changed since submission {sub['id']}"]
            if not before and not found:
                found = [f"not claimed in submission {sub['id']}"]
            reasons.append("; ".join(found))
        return reasons

    last = subs[-1]
    return LedgerState(min(s["month"] for s in subs), claimed, explain, template,
                       settled=(last["month"], last["load_id"], last["rulebook_version"]))


def _changes(store: Store, lines: Table, since: list[int | None]) -> list[list[str]]:
    """For each line: what loads after its `since` load changed about its discharge or block cost."""
    wanted = defaultdict(set)  # (load, table, column) -> values
    targets = []
    for kind, discharge_id, block_id, load in zip(lines["kind"].tolist(), lines["discharge_id"].tolist(),
                                                  lines["block_id"].tolist(), since):
        if load is None:
            targets.append([])
            continue
        if kind == "block":
            line_targets = [("block_costs", "block_id", block_id)]
        else:
            line_targets = [(t, "discharge_id", discharge_id) for t in ("discharges", "episodes", "events")]
        for table, column, value in line_targets:
            wanted[(load, table, column)].add(value)
        targets.append([(load, *t) for t in line_targets])
    reasons = {}
    for (load, table, column), values in wanted.items():
        reasons.update(_changes_in(store, table, column, sorted(values), load))
    return [[r for target in line for r in reasons.get(target, [])] for line in targets]


def _changes_in(store: Store, table: str, column: str, values: list[str], since_load: int) -> dict:
    """(load, table, column, value) -> reasons, for every value, from two queries a chunk."""
    key = SPEC[table].key
    result = {}
    version, params = version_filter(since_load)
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        later = defaultdict(list)
        for row in store.query(f"SELECT * FROM [{table}] WHERE [{column}] IN ({marks}) AND (_load > ? OR "
                               f"_until_load > ?) ORDER BY [{column}], [{key}], _load",
                               chunk + [since_load, since_load]):
            later[row[column]].append(row)
        before = defaultdict(dict)
        for row in store.query(f"SELECT * FROM [{table}] WHERE [{column}] IN ({marks}) AND {version}",
                               chunk + params):
            before[row[column]][row[key]] = row
        for value in chunk:
            result[(since_load, table, column, value)] = _reasons(table, key, later[value], before[value], since_load)
    return result


def _reasons(table: str, key: str, rows: list[dict], before: dict, since_load: int) -> list[str]:
    reasons = []
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

def claim_for(store: Store, library, month: str, as_of: int | None = None) -> Claim:
    """The stored submission of `month` if there is one, otherwise the draft claim with adjustments."""
    header = store.execute("SELECT id FROM submissions WHERE month = ?", [month]).fetchone()
    if header and as_of is None:
        return stored_claim(store, header[0])
    source = StoreSource(store, as_of)
    state = ledger_state(store, library, month, up_to_load=as_of)
    return build_claim(source, library, month, state, source.load_id)


def stored_claim(store: Store, submission_id: int) -> Claim:
    header = store.query("SELECT * FROM submissions WHERE id = ?", [submission_id])[0]
    lines, current = stored_lines(store, submission_id)
    claim = Claim(header["month"], lines.take(current), lines.take(~current), header["rulebook_version"],
                  header["load_id"], submission=header)
    claim.notes.append(f"{header['month']} was submitted as submission {header['id']} on {header['submitted_at']} "
                       f"by {header['submitted_by']} from load {header['load_id']}; this is what was claimed.")
    return claim


# --- submitting --------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    id: int
    claim: Claim
    hash: str


def submit(store: Store, library, month: str) -> Submitted:
    """Compute the month's claim and store it, both inside one write transaction: the claim is
    computed from exactly the data and ledger it is stored against."""
    with store.write():
        _check_can_submit(store, month)
        load_id = store.latest_load()
        if load_id is None:
            raise HdsError("the store holds no data: run 'hds load DIR' first")
        claim = build_claim(StoreSource(store), library, month, ledger_state(store, library, month), load_id)
        previous = store.execute("SELECT hash FROM submissions ORDER BY id DESC LIMIT 1").fetchone()
        header = {
            "id": store.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM submissions").fetchone()[0],
            "month": month, "submitted_at": now_utc(), "submitted_by": user_name(), "load_id": load_id,
            "rulebook_version": library.version, "current_pence": claim.current_pence,
            "adjustments_pence": claim.adjustments_pence, "total_pence": claim.total_pence,
            "line_count": len(claim.lines) + len(claim.adjustments),
            "prev_hash": previous[0] if previous else GENESIS,
        }
        rows, chain = [], header["prev_hash"]
        lines = Table.concat([claim.lines, claim.adjustments])
        current = [1] * len(claim.lines) + [0] * len(claim.adjustments)
        for number, (values, is_current) in enumerate(zip(lines.rows(LINE_FIELDS), current), start=1):
            row = (header["id"], number, *values, is_current)
            chain = line_hash(chain, row)
            rows.append(row + (chain,))
        header["hash"] = header_hash(header, chain)
        names = list(header)
        store.execute(f"INSERT INTO submissions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                      [header[n] for n in names])
        columns = ["submission_id", "line_no", *LINE_FIELDS, "current", "line_hash"]
        store.conn.executemany(f"INSERT INTO submission_lines ({', '.join(columns)}) "
                               f"VALUES ({', '.join('?' * len(columns))})", rows)
    return Submitted(header["id"], claim, header["hash"])


def _check_can_submit(store: Store, month: str) -> None:
    same = store.execute("SELECT id, submitted_at FROM submissions WHERE month = ?", [month]).fetchone()
    if same:
        raise HdsError(f"{month} was already submitted (submission {same[0]}, {same[1]}); a submission cannot be "
                       f"changed: corrections go into the next month's claim as adjustments")
    later = store.execute("SELECT MAX(month) FROM submissions").fetchone()[0]
    if later and later > month:
        raise HdsError(f"{later} is already submitted, so {month} can no longer be submitted on its own; "
                       f"submit the next month and {month} is claimed there as an adjustment")


def line_hash(previous: str, row) -> str:
    """`row`: (submission_id, line_no, *LINE_FIELDS, current), as a tuple or a stored row's dict."""
    if isinstance(row, dict):
        row = [row[f] for f in ["submission_id", "line_no", *LINE_FIELDS, "current"]]
    return hashlib.sha256((previous + json.dumps(list(row))).encode()).hexdigest()


def header_hash(header: dict, last_line_hash: str) -> str:
    return hashlib.sha256((json.dumps([header[f] for f in HEADER_FIELDS]) + last_line_hash).encode()).hexdigest()


# --- verifying ----------------------------------------------------------------

def verify(store: Store) -> list[str]:
    """Every way the ledger differs from what was submitted; empty when intact."""
    problems = []
    names = {row[0] for row in store.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table in PROTECTED:
        for action in ("update", "delete"):
            if f"{table}_no_{action}" not in names:
                problems.append(f"the trigger {table}_no_{action} that protects submitted claims is missing")
    previous = GENESIS
    for header in store.query("SELECT * FROM submissions ORDER BY id"):
        name = f"submission {header['id']} ({header['month']})"
        if header["prev_hash"] != previous:
            problems.append(f"{name}: does not follow the previous submission (its chain hash differs)")
        rows = store.query("SELECT * FROM submission_lines WHERE submission_id = ? ORDER BY line_no", [header["id"]])
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
    for (orphan,) in store.execute("SELECT DISTINCT submission_id FROM submission_lines WHERE submission_id NOT IN "
                                   "(SELECT id FROM submissions)"):
        problems.append(f"submission {orphan}: its header was deleted, its lines remain")
    return problems
