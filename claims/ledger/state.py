"""The ledger's state: what earlier submissions claimed, as the claim computation needs it."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from claims.claim import LINE_FIELDS, NO_LEDGER, NoLedger
from claims.ledger.read import lines_table, submissions
from hds.contract import SPEC
from hds.money import pounds
from hds.store import Store, version_filter
from hds.table import Table

INPUT_NAMES = {"weekly_pence": "weekly_cost", "amount_pence": "amount"}  # store column -> input column
SUMS = "claim_month, kind, episode_id, block_id, SUM(days), SUM(amount_pence), MIN(l.rowid)"
GROUP = "GROUP BY claim_month, kind, episode_id, block_id"


def ledger_state(store: Store, library, month: str, up_to_load: int | None = None,
                 before: int | None = None) -> LedgerState | NoLedger:
    """What the submissions (made from loads up to `up_to_load`, and before submission `before`)
    claimed for the months before `month`."""
    subs = submissions(store, up_to_load, before)
    return LedgerState(store, library, month, subs) if subs else NO_LEDGER


class LedgerState:
    """What earlier submissions claimed, as the claim computation needs it.

    After each submission, every month from the first one up to the submitted month has been
    claimed exactly what the data and rules of that submission gave it (its own lines, and
    adjustments for the others). So a later claim need recompute those months only for the
    discharges that loads since then touched, and for the block costs: `settled` is that last
    submission's (month, load, rulebook version)."""

    def __init__(self, store: Store, library, month: str, subs: list[dict]):
        self.store, self.library, self.month = store, library, month
        self.first_month = min(s["month"] for s in subs)  # the first month the ledger holds a submission for
        last = subs[-1]
        self.settled = (last["month"], last["load_id"], last["rulebook_version"])
        by_id = {s["id"]: s for s in subs}
        self._ids = ", ".join(str(i) for i in by_id)
        self._last_for_month = {}  # claim month -> the last submission that claimed it
        for s in subs:
            self._last_for_month[s["month"]] = s
        for claim_month, latest in store.execute(
                f"SELECT claim_month, MAX(submission_id) FROM submission_lines WHERE submission_id IN ({self._ids}) "
                "GROUP BY claim_month"):
            if latest >= self._last_for_month.get(claim_month, {"id": 0})["id"]:
                self._last_for_month[claim_month] = by_id[latest]

    def claimed(self, touched: list[str] | None) -> Table:
        """Every key's days and money over all submissions, for the months before `month`: all keys, or
        those of block costs and of the `touched` discharges. A key's other fields (from its first line)
        are fetched only for the keys that need them: see `template`."""
        store, month = self.store, self.month
        mine = f"l.submission_id IN ({self._ids}) AND l.claim_month < ?"
        if touched is None:
            rows = store.execute(f"SELECT {SUMS} FROM submission_lines l WHERE {mine} {GROUP}", [month]).fetchall()
        else:
            rows = store.execute(f"SELECT {SUMS} FROM submission_lines l WHERE {mine} AND l.kind = 'block' {GROUP}",
                                 [month]).fetchall()
            store.execute("DROP TABLE IF EXISTS temp.touched")
            store.execute("CREATE TEMP TABLE touched (discharge_id TEXT PRIMARY KEY)")
            store.conn.executemany("INSERT INTO temp.touched VALUES (?)", ((i,) for i in touched))
            rows += store.execute(f"SELECT {SUMS} FROM temp.touched t CROSS JOIN submission_lines l "
                                  f"ON l.discharge_id = t.discharge_id WHERE {mine} {GROUP}", [month]).fetchall()
            store.execute("DROP TABLE temp.touched")
        return Table.from_rows(["claim_month", "kind", "episode_id", "block_id", "days", "amount_pence", "first"],
                               rows, {"days": np.int64, "amount_pence": np.int64, "first": np.int64})

    def template(self, firsts: np.ndarray) -> Table:
        """The whole first line of each of some keys (by row id), in the given order."""
        found = {}
        wanted = firsts.tolist()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for row in self.store.execute(f"SELECT rowid, {', '.join(LINE_FIELDS)} FROM submission_lines WHERE rowid IN "
                                          f"({', '.join('?' * len(chunk))})", chunk):
                found[row[0]] = row[1:]
        return lines_table([found[f] for f in wanted])

    def explain(self, lines: Table, claimed_before: np.ndarray) -> list[str]:
        """Why each adjustment: what changed since the submission that last claimed its month."""
        last_for_month = self._last_for_month
        since = [last_for_month[m]["load_id"] if m in last_for_month else None for m in lines["claim_month"].tolist()]
        changes = _changes(self.store, lines, since)
        reasons = []
        for i, (claim_month, before) in enumerate(zip(lines["claim_month"].tolist(), claimed_before.tolist())):
            if claim_month not in last_for_month:
                reasons.append(f"{claim_month} was not claimed before")
                continue
            sub = last_for_month[claim_month]
            found = changes[i]
            if not found and sub["rulebook_version"] != self.library.version:
                found = [f"the rulebook changed since submission {sub['id']}"]
            if not before and not found:
                found = [f"not claimed in submission {sub['id']}"]
            reasons.append("; ".join(found))
        return reasons


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
