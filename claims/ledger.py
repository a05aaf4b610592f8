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
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from claims.claim import LINE_FIELDS, LINE_TYPES, NO_LEDGER, Claim, LedgerState, build_claim, empty_lines
from hds.contract import SPEC
from hds.errors import HdsError
from hds.money import pounds
from hds.store import HEADER_FIELDS, Store, StoreSource, now_utc, user_name, version_filter
from hds.table import Table

GENESIS = "0" * 64
INPUT_NAMES = {"weekly_pence": "weekly_cost", "amount_pence": "amount"}  # store column -> input column


# --- what has been claimed -------------------------------------------------

def submissions(store: Store, up_to_load: int | None = None, before: int | None = None) -> list[dict]:
    """The submissions made from loads up to `up_to_load`, and (with `before`) before that submission."""
    where, params = ["1"], []
    if up_to_load is not None:
        where.append("load_id <= ?")
        params.append(up_to_load)
    if before is not None:
        where.append("id < ?")
        params.append(before)
    return store.query(f"SELECT * FROM submissions WHERE {' AND '.join(where)} ORDER BY id", params)


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


def ledger_state(store: Store, library, month: str, up_to_load: int | None = None,
                 before: int | None = None) -> LedgerState:
    """What the submissions (made from loads up to `up_to_load`, and before submission `before`)
    claimed for the months before `month`."""
    subs = submissions(store, up_to_load, before)
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
    """The stored submission of `month` if there is one; for a month skipped over, the lines later
    submissions claimed for it; otherwise the draft claim with adjustments."""
    header = submission_of(store, month)
    if header and as_of is None:
        return stored_claim(store, header["id"])
    if as_of is None and (carried := claimed_in(store, month)) is not None:
        return carried_claim(store, month, carried)
    source = StoreSource(store, as_of)
    state = ledger_state(store, library, month, up_to_load=as_of)
    return build_claim(source, library, month, state, source.load_id)


def replay(store: Store, month: str) -> Claim:
    """A submitted month recomputed under the rules pinned to its submission, from the data of the
    load it was made from and the ledger as it stood then: what an auditor gets to compare, line
    for line, with what was submitted, whatever the rules are now."""
    from rules.library import library_from_snapshot

    header = submission_of(store, month)
    if header is None:
        raise HdsError(f"{month} has not been submitted: --as-submitted replays a submission")
    texts = dict(store.execute("SELECT path, text FROM submission_rules WHERE submission_id = ?", [header["id"]]))
    if not texts:
        raise HdsError(f"submission {header['id']} ({month}) was made before hds kept the rules with each "
                       "submission, so it cannot be replayed under its own rules")
    library = library_from_snapshot(texts)
    source = StoreSource(store, header["load_id"])
    state = ledger_state(store, library, month, up_to_load=header["load_id"], before=header["id"])
    claim = build_claim(source, library, month, state, header["load_id"])
    same = (claim.total_pence == header["total_pence"]
            and len(claim.lines) + len(claim.adjustments) == header["line_count"])
    claim.notes.append(f"{month} replayed under the rules pinned to submission {header['id']} (version "
                       f"{library.version[:12]}) from load {header['load_id']}: "
                       + ("the same lines and total as submitted." if same else
                          f"DIFFERENT from what was submitted ({pounds(header['total_pence'])})."))
    return claim


def carried_claim(store: Store, month: str, carried: tuple[int, str]) -> Claim:
    """A month that was never submitted on its own: what later submissions claimed for it, as
    adjustments, is what it was claimed (reports agree on where its money went)."""
    rows = store.execute(f"SELECT {', '.join(LINE_FIELDS)} FROM submission_lines WHERE claim_month = ? "
                         "ORDER BY submission_id, line_no", [month]).fetchall()
    lines = _lines_table(rows)
    header = store.query("SELECT * FROM submissions WHERE id = ?", [carried[0]])[0]
    claim = Claim(month, lines, empty_lines(), header["rulebook_version"], header["load_id"], carried_in=carried,
                  carrier=header)
    claim.notes.append(f"{month} was not submitted on its own: its money was claimed as adjustments in submission "
                       f"{carried[0]} ({carried[1]}) and any later ones; these are those lines.")
    return claim


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
    anchor: Path | None = None  # the anchor file the hash was appended to
    findings: list = ()  # the findings stored with it


HEADER_FIELDS_V2 = HEADER_FIELDS + ["load_hash", "findings_hash", "rules_hash"]


def submit(store: Store, library, month: str, skip_months: bool = False, anchor: Path | None = None,
           review=None, rules: dict[str, str] | None = None) -> Submitted:
    """Compute the month's claim and store it, both inside one write transaction: the claim is
    computed from exactly the data and ledger it is stored against. `review(source)` gives the
    findings to store with it (and may refuse the submission); the rules' texts are pinned to it.
    The submission's hash is then appended to the `anchor` file, a record of the chain kept outside
    the store."""
    with store.write():
        _check_can_submit(store, month, skip_months)
        load_id = store.latest_load()
        if load_id is None:
            raise HdsError("the store holds no data: run 'hds load DIR' first")
        findings = review(StoreSource(store)) if review is not None else []
        claim = build_claim(StoreSource(store), library, month, ledger_state(store, library, month), load_id)
        previous = store.execute("SELECT hash FROM submissions ORDER BY id DESC LIMIT 1").fetchone()
        number = store.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM submissions").fetchone()[0]
        finding_rows = [(number, n, f["code"], f["severity"], f["paragraph"], f["subject"], json.dumps(f["ids"]),
                         f["amount_pence"], f["message"], f.get("acknowledged", "")) for n, f in enumerate(findings, 1)]
        rule_rows = [(number, path, text) for path, text in sorted((rules or {}).items())]
        header = {
            "id": number, "month": month, "submitted_at": now_utc(), "submitted_by": user_name(), "load_id": load_id,
            "rulebook_version": library.version, "current_pence": claim.current_pence,
            "adjustments_pence": claim.adjustments_pence, "total_pence": claim.total_pence,
            "line_count": len(claim.lines) + len(claim.adjustments),
            "prev_hash": previous[0] if previous else GENESIS,
            "load_hash": store.execute("SELECT hash FROM loads WHERE id = ?", [load_id]).fetchone()[0],
            "findings_hash": rows_hash(finding_rows), "rules_hash": rows_hash(rule_rows), "hash_version": 2,
        }
        rows, chain = [], header["prev_hash"]
        lines = Table.concat([claim.lines, claim.adjustments])
        current = [1] * len(claim.lines) + [0] * len(claim.adjustments)
        for line_no, (values, is_current) in enumerate(zip(lines.rows(LINE_FIELDS), current), start=1):
            row = (header["id"], line_no, *values, is_current)
            chain = line_hash(chain, row)
            rows.append(row + (chain,))
        header["hash"] = header_hash(header, chain)
        names = list(header)
        store.execute(f"INSERT INTO submissions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                      [header[n] for n in names])
        columns = ["submission_id", "line_no", *LINE_FIELDS, "current", "line_hash"]
        store.conn.executemany(f"INSERT INTO submission_lines ({', '.join(columns)}) "
                               f"VALUES ({', '.join('?' * len(columns))})", rows)
        store.conn.executemany("INSERT INTO submission_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", finding_rows)
        store.conn.executemany("INSERT INTO submission_rules VALUES (?, ?, ?)", rule_rows)
    if anchor is not None:
        append_anchor(anchor, header)
    return Submitted(header["id"], claim, header["hash"], anchor, list(findings))


def _check_can_submit(store: Store, month: str, skip_months: bool) -> None:
    """A month is submitted once, in order: the one after the last submitted month (or, with
    `skip_months`, a later one, whose claim then carries the months skipped as adjustments)."""
    same = submission_of(store, month)
    if same:
        raise HdsError(f"{month} was already submitted (submission {same['id']}, {same['submitted_at']}); a "
                       f"submission cannot be changed: corrections go into the next month's claim as adjustments")
    first, last = store.execute("SELECT MIN(month), MAX(month) FROM submissions").fetchone()
    if last is None:
        return
    if month < first:
        raise HdsError(f"{month} is before {first}, the first month hds claimed: months before it were claimed "
                       f"outside hds, and hds does not claim them")
    if month < last:
        carried = claimed_in(store, month)
        where = (f"its money was claimed as adjustments in submission {carried[0]} ({carried[1]})" if carried
                 else "it was skipped")
        raise HdsError(f"{month} cannot be submitted on its own any more: {last} is already submitted and {where}; "
                       f"any correction to {month} goes into the next claim as an adjustment")
    expected = next_month(last)
    if month > expected and not skip_months:
        raise HdsError(f"{expected} has not been submitted yet; submit the months in order ({expected} next), or pass "
                       f"--skip-months to claim every month from {expected} inside {month}'s claim as adjustments")


def submission_of(store: Store, month: str) -> dict | None:
    """The submission (its header) of a month, if it was submitted."""
    found = store.query("SELECT * FROM submissions WHERE month = ?", [month])
    return found[0] if found else None


def next_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def claimed_in(store: Store, month: str) -> tuple[int, str] | None:
    """The first submission that claimed an unsubmitted month's money as adjustments."""
    row = store.execute("SELECT s.id, s.month FROM submission_lines l JOIN submissions s ON s.id = l.submission_id "
                        "WHERE l.claim_month = ? AND l.current = 0 ORDER BY s.id LIMIT 1", [month]).fetchone()
    return (row[0], row[1]) if row else None


def rows_hash(rows: list[tuple]) -> str:
    return hashlib.sha256(json.dumps([list(r) for r in rows]).encode()).hexdigest()


def line_hash(previous: str, row) -> str:
    """`row`: (submission_id, line_no, *LINE_FIELDS, current), as a tuple or a stored row's dict."""
    if isinstance(row, dict):
        row = [row[f] for f in ["submission_id", "line_no", *LINE_FIELDS, "current"]]
    return hashlib.sha256((previous + json.dumps(list(row))).encode()).hexdigest()


def header_hash(header: dict, last_line_hash: str) -> str:
    fields = HEADER_FIELDS_V2 if header.get("hash_version") == 2 else HEADER_FIELDS
    return hashlib.sha256((json.dumps([header[f] for f in fields]) + last_line_hash).encode()).hexdigest()


# --- the anchor: the chain's head, recorded outside the store ----------------------

def anchor_path(db: Path, configured: Path | None) -> Path:
    """hds.toml's [ledger] anchor, or <store>.anchor beside the store."""
    return configured if configured is not None else Path(f"{db}.anchor")


def append_anchor(path: Path, header: dict) -> None:
    line = f"{header['submitted_at']} submission {header['id']} {header['month']} {header['hash']}\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def read_anchor(path: Path) -> list[tuple[int, str, str]]:
    """(submission id, month, hash) of each line of an anchor file."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if len(parts) != 5 or parts[1] != "submission" or not parts[2].isdigit():
            raise HdsError(f"{path} line {number} is not an anchor line (time, 'submission', id, month, hash)")
        entries.append((int(parts[2]), parts[3], parts[4]))
    return entries


# --- verifying ----------------------------------------------------------------

def verify(store: Store, anchor: Path | None = None, expect: str | None = None, full: bool = True) -> list[str]:
    """Every way the store differs from what hds wrote; empty when intact. `full` re-hashes every
    submitted line, finding and rule file and every load's data; without it (the check reports make
    before they print, which must stay quick with hundreds of thousands of findings) the headers,
    the chains, the line counts and totals, the triggers and the anchor are checked."""
    from hds import chain

    problems = chain.trigger_problems(store.conn) + chain.load_problems(store.conn, digests=full)
    loads = {row["id"]: row["hash"] for row in store.query("SELECT id, hash FROM loads")}
    previous = GENESIS
    headers = store.query("SELECT * FROM submissions ORDER BY id")
    for header in headers:
        name = f"submission {header['id']} ({header['month']})"
        if header["prev_hash"] != previous:
            problems.append(f"{name}: does not follow the previous submission (its chain hash differs)")
        if header.get("hash_version") == 2:
            if header["load_hash"] != loads.get(header["load_id"]):
                problems.append(f"{name}: the load it was computed from (load {header['load_id']}) is not the one "
                                "recorded with it")
            contents = (
                ("findings", "findings_hash", "SELECT * FROM submission_findings WHERE submission_id = ? ORDER BY n"),
                ("rules", "rules_hash", "SELECT * FROM submission_rules WHERE submission_id = ? ORDER BY path"))
            for table, column, sql in contents if full else ():
                if rows_hash(store.execute(sql, [header["id"]]).fetchall()) != header[column]:
                    problems.append(f"{name}: its {table} were changed after submission")
        problems += _line_problems(store, header, name, full)
        previous = header["hash"]
    for (orphan,) in store.execute("SELECT DISTINCT submission_id FROM submission_lines WHERE submission_id NOT IN "
                                   "(SELECT id FROM submissions)"):
        problems.append(f"submission {orphan}: its header was deleted, its lines remain")
    problems += _anchor_problems(headers, anchor, expect)
    return problems


def _line_problems(store: Store, header: dict, name: str, full: bool) -> list[str]:
    problems = []
    if full:
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
        count, total = len(rows), sum(r["amount_pence"] for r in rows)
    else:
        count, total, chain = store.execute(
            "SELECT COUNT(*), COALESCE(SUM(amount_pence), 0), (SELECT line_hash FROM submission_lines WHERE "
            "submission_id = ?1 ORDER BY line_no DESC LIMIT 1) FROM submission_lines WHERE submission_id = ?1",
            [header["id"]]).fetchone()
        chain = chain or header["prev_hash"]
    if count != header["line_count"]:
        problems.append(f"{name}: holds {count} lines, but {header['line_count']} were submitted")
    if total != header["total_pence"]:
        problems.append(f"{name}: its lines no longer add up to the submitted total {pounds(header['total_pence'])}")
    if header_hash(header, chain) != header["hash"]:
        problems.append(f"{name}: its header was changed after submission")
    return problems


def _anchor_problems(headers: list[dict], anchor: Path | None, expect: str | None) -> list[str]:
    problems = []
    stored = {h["id"]: h for h in headers}
    head = headers[-1]["hash"] if headers else GENESIS
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


def stored_findings(store: Store, submission_id: int | None = None) -> list[dict]:
    """Findings stored with submissions: all of them, or one submission's."""
    rows = store.query("SELECT f.*, s.month FROM submission_findings f JOIN submissions s ON s.id = f.submission_id "
                       + ("WHERE f.submission_id = ? " if submission_id is not None else "")
                       + "ORDER BY f.submission_id, f.n", [submission_id] if submission_id is not None else [])
    for row in rows:
        row["ids"] = json.loads(row["ids"])
    return rows
