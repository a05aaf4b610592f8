"""A month's figures decided once, stored, and reused.

Every load decides every month of the data once (``refresh_totals``) and keeps
the allocation table summed by (month, funder, scheme, organisation, service) in the
store's table ``allocation_totals``: rows, days and pence of each group, a few
thousand rows at any size. The stamp in ``derived`` says which load and which
rulebook version they were computed from. ``month_totals`` gives the totals
of some months: the stored ones while they are current (the store's latest
data, the shipped rules or the rules they were computed with), otherwise one
``decide`` of those months there and then (``--rules``, ``--as-of-load`` an
earlier load, ``--data`` files, a store written before the table existed).
Both give the same figures: the allocation of a month does not depend on the
months decided with it.

``changed_discharges`` names the discharges a load changed (their own row,
an episode or an event written or closed by it): the change set a follow-up
load's refresh needs. ``refresh_totals`` re-decides only those when the
months of the data did not move, subtracting what they had before and adding
what they have now.
"""

from __future__ import annotations

import numpy as np

from hds.month import Month
from hds.table import Table

TOTALS = "allocation_totals"  # the stored table, and its name in `derived`
KEYS = ("month", "funder", "scheme", "organisation", "service")
SUMS = ("rows", "days", "amount_pence")
TYPES = {"month": object, "funder": object, "scheme": object, "organisation": object, "service": object,
         "rows": np.int64, "days": np.int64, "amount_pence": np.int64}


def empty_totals() -> Table:
    return Table.empty(TYPES)


def _codes(values: np.ndarray) -> tuple[np.ndarray, list]:
    """Each value's code (in order of first appearance) and the distinct values: a dict, not a sort,
    since the key columns hold a handful of distinct texts among a million rows."""
    listed = values.tolist()
    seen = list(dict.fromkeys(listed))
    code = dict(zip(seen, range(len(seen))))
    return np.fromiter(map(code.__getitem__, listed), dtype=np.int64, count=len(listed)), seen


def totals_of(rows: Table) -> Table:
    """An allocation table summed by KEYS (rows, days, pence of each group), in KEYS order."""
    if not len(rows):
        return empty_totals()
    coded = [_codes(rows[k]) for k in KEYS]
    key = np.zeros(len(rows), dtype=np.int64)
    for codes, values in coded:
        key = key * len(values) + codes
    distinct, inverse = np.unique(key, return_inverse=True)
    sums = {"rows": np.bincount(inverse, minlength=len(distinct)).astype(np.int64)}
    for name in ("days", "amount_pence"):
        sums[name] = np.zeros(len(distinct), dtype=np.int64)
        np.add.at(sums[name], inverse, rows[name].astype(np.int64))
    columns, rest = {}, distinct
    for name, (codes, values) in reversed(list(zip(KEYS, coded))):
        columns[name] = np.array(values + [None], dtype=object)[:-1][rest % len(values)]
        rest = rest // len(values)
    table = Table({name: columns[name] for name in KEYS} | sums)
    return _sorted(table)


def decided_totals(data, library, first: int, last: int, keep=None) -> Table:
    """The totals of months first..last (month numbers) of a linked dataset, decided now: what
    ``totals_of(allocations(...))`` gives, without making the allocation table's rows. `keep`: called
    with the episodes' ``Decided`` and the day they were decided to, when they are decided here."""
    from claims.allocate import RUNNER, allocations, block_allocation, decide, groups
    from hds.days import month_end, month_names
    from hds.facts import FUNDER_NAMES

    runner = RUNNER.get()
    if runner is not None and len(data.discharges) >= runner.minimum:  # on the workers (--workers, Dask)
        return totals_of(allocations(data, library, first, last))
    decided = decide(data, library, month_end(last))
    if keep is not None:
        keep(decided, month_end(last))
    g = groups(decided, first, last)
    if not len(g.episode):
        return totals_of(block_allocation(data.block_costs, first, last))
    names = decided.scheme_names + [""]  # a discharge outside every scheme (-1) takes the last
    organisation, organisations = _codes(data.episodes["organisation"])
    service, services = _codes(data.episodes["service"])
    parts = [(g.month - first, last - first + 1), (g.funder.astype(np.int64), len(FUNDER_NAMES)),
             (decided.timelines.scheme[data.episodes["d"][g.episode]] % len(names), len(names)),
             (organisation[g.episode], len(organisations)), (service[g.episode], len(services))]
    key = np.zeros(len(g.episode), dtype=np.int64)
    for codes, size in parts:
        key = key * size + codes
    distinct, inverse = np.unique(key, return_inverse=True)
    sums = {"rows": np.bincount(inverse, minlength=len(distinct)).astype(np.int64)}
    for name, values in (("days", g.days), ("amount_pence", g.pence)):
        sums[name] = np.zeros(len(distinct), dtype=np.int64)
        np.add.at(sums[name], inverse, values.astype(np.int64))
    decoded, rest = [], distinct
    for codes, size in reversed(parts):
        decoded.append(rest % size)
        rest = rest // size
    kind, org, scheme, funder, month = decoded
    episodes = Table({"month": month_names(month + first), "funder": np.array(FUNDER_NAMES, dtype=object)[funder],
                      "scheme": np.array(names, dtype=object)[scheme],
                      "organisation": np.array(organisations + [None], dtype=object)[:-1][org],
                      "service": np.array(services + [None], dtype=object)[:-1][kind]} | sums)
    return combine((episodes, 1), (totals_of(block_allocation(data.block_costs, first, last)), 1))


def _sorted(table: Table) -> Table:
    order = sorted(range(len(table)), key=lambda i: tuple(table[k][i] for k in KEYS))
    return table.take(np.array(order, dtype=np.int64))


def combine(*parts: tuple[Table, int]) -> Table:
    """Totals added up, each part with a sign (+1 or -1); groups that come to nothing are dropped."""
    sums: dict[tuple, list[int]] = {}
    for table, sign in parts:
        for row in table.rows(list(KEYS) + list(SUMS)):
            into = sums.setdefault(row[:len(KEYS)], [0, 0, 0])
            for i in range(3):
                into[i] += sign * row[len(KEYS) + i]
    kept = [key + tuple(values) for key, values in sums.items() if values[0]]
    if not kept:
        return empty_totals()
    return _sorted(Table.from_rows(list(KEYS) + list(SUMS), kept, TYPES))


# --- stored --------------------------------------------------------------------------------------

def stamp(store) -> tuple[int, str] | None:
    """(load, rulebook version) the stored totals were computed from, or None (never, or no table)."""
    from hds.store import derived_stamp

    return derived_stamp(store, TOTALS)


def is_current(source, library) -> bool:
    """The stored totals are those of what `source` reads under `library`."""
    store = getattr(source, "store", None)
    if store is None or getattr(source, "load_id", None) != store.latest_load():
        return False
    return stamp(store) == (source.load_id, library.version)


def stored_totals(source, library, first: Month, last: Month) -> Table | None:
    """The stored totals of months first..last, or None when they are not current."""
    if not is_current(source, library):
        return None
    rows = source.store.execute(f"SELECT {', '.join(KEYS + SUMS)} FROM {TOTALS} WHERE month BETWEEN ? AND ? "
                                f"ORDER BY {', '.join(KEYS)}", [str(first), str(last)]).fetchall()
    return Table.from_rows(list(KEYS + SUMS), rows, TYPES)


def month_totals(source, library, first, last) -> Table:
    """The totals of months first..last: stored when current, else decided now from `source`."""
    first, last = Month(first), Month(last)
    stored = stored_totals(source, library, first, last)
    if stored is not None:
        return stored
    return decided_totals(source.period(first.first_day, last.last_day), library, first.number, last.number)


def _save(store, library, totals: Table, load_id: int) -> None:
    from hds.store import now_utc

    store.execute(f"DELETE FROM {TOTALS}")
    store.conn.executemany(f"INSERT INTO {TOTALS} ({', '.join(KEYS + SUMS)}) VALUES ({', '.join('?' * len(KEYS + SUMS))})",
                           totals.rows(list(KEYS + SUMS)))
    store.execute("INSERT OR REPLACE INTO derived VALUES (?, ?, ?, ?, ?)",
                  [TOTALS, load_id, library.version, now_utc(), len(totals)])


def changed_discharges(store, load_id: int) -> list[str]:
    """The discharges load `load_id` changed: their own row, or one of their episodes or events, written
    or closed by it."""
    parts = " UNION ".join(f"SELECT discharge_id FROM [{table}] WHERE _load = :load OR _until_load = :load"
                           for table in ("discharges", "episodes", "events"))
    return [r[0] for r in store.execute(f"{parts} ORDER BY 1", {"load": load_id})]


def _months(source) -> tuple[Month, Month]:
    """The first and last months of a source's data (``hds.store.StoreSource``, ``hds.data.MemorySource``)."""
    return Month.of_day(source.first_day()), Month.of_day(source.latest_day())


def _months_before(store, before, first: Month) -> tuple[Month, Month]:
    """``_months`` of `before`, the store as of the load before its latest, whose first month is `first`:
    the discharges the latest has, when it wrote and closed none of them (its changes, as the loads log
    keeps them), so that they are not read again for their first day."""
    import json

    (changes,) = store.execute("SELECT changes FROM loads WHERE id = ?", [before.load_id + 1]).fetchone()
    if changes is None:  # not recorded: read them
        return _months(before)
    counts = json.loads(changes).get("discharges", {})
    if not any(counts.get(kind) for kind in ("added", "changed", "removed")):
        return first, Month.of_day(before.latest_day())
    return _months(before)


def every_month(data, library, linked=None) -> tuple[Table, object]:
    """The totals of every month of a whole dataset in memory (``hds.data.Data``; `linked`: it linked
    already, ``Data.linked``), decided now, and the decisions a trace reads, made ready to store
    (``claims.decisions.prepare``; None when the deciding ran on workers): what a load's copy of the
    process hands back (``claims.analysts``)."""
    from claims.decisions import prepare
    from hds.data import MemorySource

    first, last = _months(MemorySource(data))
    kept = []
    totals = decided_totals(data.linked() if linked is None else linked, library, first.number, last.number,
                            lambda decided, horizon: kept.append(prepare(library, decided, horizon)))
    return totals, (kept[0] if kept else None)


def refresh_totals(store, library, rows: Table | None = None, changed: list[str] | None = None,
                   data=None, decided: tuple[Table, object] | None = None) -> str:
    """Bring the stored totals up to the store's latest load under `library`, inside the caller's write
    transaction: from `decided` (``every_month`` of all the store holds, decided already), from `rows`
    (the allocation table of every month, when the caller has it), by re-deciding only the `changed`
    discharges (when the totals were current at the load before and the months of the data did not
    move), or by deciding every month, from `data` (``hds.data.Data``, all the store holds, when the
    caller has it in memory) or read from the store. What it decides, it also keeps for the trace
    (``claims.decisions``: all of them, or in place of the `changed` ones'). Says which it did: "all" or
    "changed"."""
    from functools import partial

    from claims.decisions import save as keep
    from claims.decisions import write
    from hds.store import StoreSource

    source = StoreSource(store)
    if decided is None and data is not None and rows is None:
        decided = every_month(data, library)
    if decided is not None:
        totals, prepared = decided
        if prepared is not None:
            write(store, library, prepared)
        _save(store, library, totals, source.load_id)
        return "all"
    first, last = _months(source)
    if rows is None and changed is not None and stamp(store) == (source.load_id - 1, library.version):
        before = StoreSource(store, source.load_id - 1)
        if _months_before(store, before, first) == (first, last):
            parts = [(_stored(store), 1)]
            for sign, version in ((-1, before), (1, source)):
                data = version.discharges_data(changed).replace(block_costs=version.block_costs())
                kept = partial(keep, store, library, replace=changed) if version is source else None
                parts.append((decided_totals(data, library, first.number, last.number, kept), sign))
            _save(store, library, combine(*parts), source.load_id)
            return "changed"
    if rows is not None:
        totals = totals_of(rows)
    else:  # every discharge of the data, linked (what the period of every month reads, give or take
        # discharges with no episode, which allocate nothing)
        totals = decided_totals(source.period(first.first_day, last.last_day), library, first.number, last.number,
                                partial(keep, store, library))
    _save(store, library, totals, source.load_id)
    return "all"


def _stored(store) -> Table:
    rows = store.execute(f"SELECT {', '.join(KEYS + SUMS)} FROM {TOTALS}").fetchall()
    return Table.from_rows(list(KEYS + SUMS), rows, TYPES)
