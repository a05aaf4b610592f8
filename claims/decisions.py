"""Each discharge's decisions, kept in the store for its trace.

Every load decides every discharge once (``claims.figures.refresh_totals``, ``claims.analysts.refresh``)
and keeps, beside the month's figures, what the trace of a patient shows of each discharge: its
timeline (``hds.timeline``) and its segments up to the horizon (the end of the latest month in the
data), each with its rule. A discharge's decisions are 16-bit numbers: ``RECORD``, and four per
segment. A day is kept as the days after the discharge date D (NEVER as ``LATER``, PASSED as
``EARLIER``); a discharge with a number that does not fit (a day 90 years from its discharge) is
not kept, and its trace decides.

- how many segments and episodes it has, and the place of its scheme among the schemes (-1: none);
- P, the first of each kind of event (A, K, C, F, X) and E; the outcome of the CHC decision (its
  place in ``OUTCOMES``), why free care ended early (``hds.facts.ENDED_BY``) and whether a CHC
  decision was pending at P (1 or 0);
- per segment: the episode's place among the discharge's episodes (by start date, then id, as a
  trace lists them), the segment's first and last day, and its rule's place among the rules.

They are kept in buckets, so that a load writes a few thousand rows, not one per discharge: a
discharge's bucket is the CRC-32 of its id (UTF-8) modulo the number of buckets (about one per
``PER_BUCKET`` discharges). A row of ``decided_discharges`` holds a bucket: `discharges`, the JSON
list of its discharges' ids, and `decided`, their numbers (little-endian, one after another): each
discharge's RECORD, in that order, then each one's segments. The table ``decided_library`` keeps
what the numbers refer to: the rules (id, funder, paragraphs, reason), the schemes (name, title,
terms), the horizon, the number of buckets, the format (``FORMAT``) and the texts of the library's
files (so that a trace can tell they are the shipped ones without hashing them). The row of
``decided_discharges`` in ``derived`` says which load and rulebook version they were decided from.
A follow-up load rewrites the buckets of the discharges it changed (when the months of the data did
not move; otherwise everything is decided again).

Reading them (``kept``, ``stored_discharges``) needs the standard library only, so a trace from
them imports neither numpy nor the rules engine (``claims.trace``).
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from typing import NamedTuple

from hds.contract import OUTCOMES as CONTRACT_OUTCOMES
from hds.days import NEVER, PASSED
from hds.schemes import Scheme, Term

TABLE = "decided_discharges"  # the stored table, and its name in `derived`
RECORD = ("segments", "episodes", "scheme", "P", "A", "K", "C", "C_outcome", "F", "X", "E", "ended_by",
          "chc_pending_at_P")
SEGMENT = 4  # numbers per segment: episode place, first day, last day, rule place
PER_BUCKET = 64
FORMAT = 1  # of the numbers and of decided_library: decisions kept in another are not read (decided again)
DAYS = ("P", "A", "K", "C", "F", "X", "E")  # kept as days after the discharge date D
LATER, EARLIER = 2 ** 15 - 1, -2 ** 15  # NEVER and PASSED, as 16-bit numbers
OUTCOMES = ("",) + CONTRACT_OUTCOMES["chc_decision"]  # C_outcome's text by its number (-1: another, not kept)


class StoredRule(NamedTuple):
    """What a trace shows of a rule (``rules.language.Rule`` has the same fields)."""

    id: str
    funder: str
    cites: tuple[str, ...]
    reason: str


class Kept(NamedTuple):
    """What the stored decisions refer to."""

    rules: list[StoredRule]  # by their place in the segments
    schemes: list[Scheme]  # by their place in the timelines
    horizon: int  # the day they were decided to (open-ended episodes are followed to it)
    buckets: int


def bucket_of(discharge_id: str, buckets: int) -> int:
    return zlib.crc32(discharge_id.encode("utf-8")) % buckets


# --- written at the load (the columnar core: numpy) ------------------------------------------------

def library_rules(library) -> list:
    """The library's distinct rules, in rulebook order: their places in the stored segments."""
    return list({_shown(rule): rule for book in library.books.values() for rule in book.rules}.values())


def _shown(rule) -> StoredRule:
    return StoredRule(rule.id, rule.funder, tuple(rule.cites), rule.reason)


def save(store, library, decided, horizon: int, replace: list[str] | None = None) -> None:
    """Keep the decisions of `decided` (``claims.allocate.Decided`` of discharges of the store's latest
    load, to day `horizon`) inside the caller's write transaction: all of them, in place of the table
    (`replace` None), or in place of those of the discharges `replace` names (a follow-up load's
    change set; unless the decisions were current at the load before, with the same library and
    horizon, they are left as they were, and so not current)."""
    if replace is None:
        write(store, library, prepare(library, decided, horizon))
        return
    load_id = store.latest_load()
    before = kept(store, load_id - 1, library.version)
    if before is None or before.horizon != horizon:
        return
    ids, records, segments = _fitting(library, decided)
    count = store.execute("SELECT rows FROM derived WHERE name = ?", [TABLE]).fetchone()[0]
    ends = records[:, 0].cumsum().tolist()
    new = {i: (record, segments[end - record[0]:end].tolist())
           for i, record, end in zip(ids.tolist(), records.tolist(), ends)}
    _stamp(store, library, load_id, count + _replace(store, new, replace, before.buckets))


@dataclass(frozen=True)
class Prepared:
    """Every discharge's decisions as the table holds them, and the library's part: made wherever the
    deciding ran (a load's copy of the process hands it back), written by ``write``."""

    library: dict  # decided_library's name -> value
    rows: list  # (bucket, discharge ids as JSON, numbers) of every bucket
    count: int  # discharges kept


def prepare(library, decided, horizon: int) -> Prepared:
    """The rows that keep every discharge of `decided` (to day `horizon`), ready to write."""
    ids, records, segments = _fitting(library, decided)
    buckets = max(1, -(-len(ids) // PER_BUCKET))
    return Prepared(_library_values(library, decided.schemes, horizon, buckets),
                    _bucket_rows(ids, records, segments, buckets), len(ids))


def write(store, library, prepared: Prepared) -> None:
    """Every discharge's decisions (``prepare``), in place of the table, inside the caller's write
    transaction, stamped with the store's latest load."""
    store.execute(f"DELETE FROM {TABLE}")
    store.execute("DELETE FROM decided_library")
    store.conn.executemany("INSERT INTO decided_library (name, value) VALUES (?, ?)",
                           [(name, json.dumps(value)) for name, value in prepared.library.items()])
    store.conn.executemany(f"INSERT INTO {TABLE} (bucket, discharges, decided) VALUES (?, ?, ?)", prepared.rows)
    _stamp(store, library, store.latest_load(), prepared.count)


def _stamp(store, library, load_id: int, count: int) -> None:
    from hds.store import now_utc

    store.execute("INSERT OR REPLACE INTO derived VALUES (?, ?, ?, ?, ?)",
                  [TABLE, load_id, library.version, now_utc(), count])


def _library_values(library, schemes, horizon: int, buckets: int) -> dict:
    def day(value):
        return value.isoformat() if value is not None else None

    return {"rules": [list(rule) for rule in map(_shown, library_rules(library))],
            "schemes": [[s.name, s.title, [[day(t.first_discharge), day(t.last_discharge), t.free_period_days,
                                            day(t.free_period_ends_on)] for t in s.terms]] for s in schemes],
            "horizon": horizon, "buckets": buckets, "format": FORMAT, "files": library.files}


def _fitting(library, decided) -> tuple:
    """(ids, RECORD rows, segment rows) of the discharges of `decided` whose numbers fit (``_numbers``)."""
    records, segments, fits = _numbers(library, decided)
    return decided.data.discharges["discharge_id"][fits], records[fits], segments[fits.repeat(records[:, 0])]


def _numbers(library, decided) -> tuple:
    """The numbers of the discharges of `decided`: RECORD of each (an int64 row per discharge), their
    segments (a row of four each, discharge after discharge), and which discharges' numbers fit.
    A linked dataset's episodes are in (discharge, start date, id) order and its segments in episode
    then day order (``hds.data``, ``hds.timeline``): an episode's place is its position after its
    discharge's first episode's."""
    import numpy as np

    data, t, s = decided.data, decided.timelines, decided.segments
    d, n = data.episodes["d"], len(data.discharges)
    place = np.arange(len(d)) - np.searchsorted(d, d)
    number = {_shown(rule): i for i, rule in enumerate(library_rules(library))}
    rules = np.array([number[_shown(rule)] for rule in decided.rules] or [0], dtype=np.int64)
    outcome = np.full(n, -1, dtype=np.int64)
    for code, text in enumerate(OUTCOMES):
        outcome[t.C_outcome == text] = code
    owner = d[s.episode]
    columns = {name: getattr(t, name) for name in RECORD[2:]} | {
        "segments": np.bincount(owner, minlength=n), "episodes": np.bincount(d, minlength=n), "C_outcome": outcome}
    fits = outcome >= 0
    for name in RECORD:
        values = columns[name].astype(np.int64)
        missing = (values == NEVER) | (values == PASSED) if name in DAYS else np.zeros(n, dtype=bool)
        values = values - t.D if name in DAYS else values
        fits &= missing | ((EARLIER < values) & (values < LATER))
        columns[name] = np.where(missing, np.where(columns[name] == NEVER, LATER, EARLIER), values)
    records = np.stack([columns[name] for name in RECORD], axis=1)
    segments = np.stack([place[s.episode], s.first - t.D[owner], s.last - t.D[owner], rules[decided.rule]], axis=1)
    fits[owner[~((EARLIER < segments) & (segments < LATER)).all(axis=1)]] = False
    return records, segments, fits


def _bucket_rows(ids, records, segments, buckets: int) -> list[tuple]:
    """Every bucket's row, whole."""
    import numpy as np

    bucket = np.fromiter(map(zlib.crc32, map(str.encode, ids.tolist())), dtype=np.int64, count=len(ids)) % buckets
    order = np.argsort(bucket, kind="stable")
    count = records[order, 0]
    ends = np.cumsum(count)
    gather = np.repeat(np.cumsum(records[:, 0])[order] - ends, count) + np.arange(int(ends[-1]) if len(ends) else 0)
    fixed = records[order].astype("<i2").tobytes()
    cut = segments[gather].astype("<i2").tobytes()
    size, part = 2 * len(RECORD), 2 * SEGMENT
    last = np.searchsorted(bucket[order], np.arange(buckets), side="right").tolist()  # of each bucket's discharges
    cuts = [0] + ends.tolist()
    ordered = ids[order].tolist()
    rows, first = [], 0
    for b, end in enumerate(last):
        if end > first:
            rows.append((b, json.dumps(ordered[first:end]),
                         fixed[size * first:size * end] + cut[part * cuts[first]:part * cuts[end]]))
        first = end
    return rows


def _replace(store, new: dict[str, tuple[list[int], list[list[int]]]], replace: list[str], buckets: int) -> int:
    """Rewrite the buckets of the discharges `replace` names: theirs removed, `new` (id -> RECORD and
    segments) added. The change in the number of discharges kept. The others' numbers are moved as
    the bytes they are stored as, not read."""
    touched = sorted({bucket_of(i, buckets) for i in [*replace, *new]})
    held = {b: {} for b in touched}
    marks = ", ".join("?" * len(touched))
    for b, discharges, blob in store.execute(f"SELECT bucket, discharges, decided FROM {TABLE} WHERE bucket IN "
                                             f"({marks})", touched):
        held[b] = _stored_bytes(discharges, blob)
    before = sum(map(len, held.values()))
    for discharge_id in replace:
        held[bucket_of(discharge_id, buckets)].pop(discharge_id, None)
    for discharge_id, (record, segments) in new.items():
        held[bucket_of(discharge_id, buckets)][discharge_id] = (
            _packed(record), _packed([v for segment in segments for v in segment]))
    for b, found in held.items():
        store.execute(f"DELETE FROM {TABLE} WHERE bucket = ?", [b])
        if found:
            blob = b"".join(record for record, _ in found.values()) + b"".join(s for _, s in found.values())
            store.execute(f"INSERT INTO {TABLE} (bucket, discharges, decided) VALUES (?, ?, ?)",
                          [b, json.dumps(list(found)), blob])
    return sum(map(len, held.values())) - before


def _packed(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}h", *values)


def _stored_bytes(discharges: str, blob: bytes) -> dict[str, tuple[bytes, bytes]]:
    """A bucket's discharges as ``_decode`` reads them, each kept as its bytes: id -> (RECORD, segments)."""
    ids = json.loads(discharges)
    width = 2 * len(RECORD)
    counts = struct.unpack_from(f"<{len(RECORD) * len(ids)}h", blob)[::len(RECORD)]  # each one's segments
    found, at = {}, width * len(ids)
    for k, (discharge_id, count) in enumerate(zip(ids, counts)):
        found[discharge_id] = (blob[width * k:width * (k + 1)], blob[at:at + 2 * SEGMENT * count])
        at += 2 * SEGMENT * count
    return found


# --- read by a trace (the standard library only) ---------------------------------------------------

def kept(store, load_id: int | None, version: str | None = None, files: dict[str, str] | None = None) -> Kept | None:
    """What the stored decisions refer to, when they were decided from load `load_id` under the library
    of version `version`, or of the files `files` (path -> text: the same, without hashing them); None
    otherwise (or in a store without them)."""
    from hds.store import derived_stamp

    stamp = derived_stamp(store, TABLE)
    if stamp is None or stamp[0] != load_id or (files is None and stamp[1] != version):
        return None
    values = {name: json.loads(text) for name, text in store.execute("SELECT name, value FROM decided_library")}
    if values.get("format") != FORMAT or (files is not None and values["files"] != files):
        return None
    return Kept([StoredRule(i, funder, tuple(cites), reason) for i, funder, cites, reason in values["rules"]],
                [Scheme(name, tuple(_term(*t) for t in terms), title) for name, title, terms in values["schemes"]],
                values["horizon"], values["buckets"])


def _term(first: str, last: str, days: int | None, ends_on: str | None) -> Term:
    import datetime as dt

    return Term(dt.date.fromisoformat(first), dt.date.fromisoformat(last), days,
                dt.date.fromisoformat(ends_on) if ends_on else None)


def _decode(discharges: str, blob: bytes) -> dict[str, tuple[tuple[int, ...], list[tuple[int, ...]]]]:
    """A bucket's discharges: id -> (RECORD, segments)."""
    ids = json.loads(discharges)
    numbers = struct.unpack(f"<{len(blob) // 2}h", blob)
    found, at = {}, len(RECORD) * len(ids)
    for k, discharge_id in enumerate(ids):
        record = numbers[len(RECORD) * k:len(RECORD) * (k + 1)]
        found[discharge_id] = (record, [numbers[i:i + SEGMENT] for i in range(at, at + SEGMENT * record[0], SEGMENT)])
        at += SEGMENT * record[0]
    return found


def stored_discharges(store, refers: Kept, discharge_days: dict[str, int]) -> dict[str, dict]:
    """The stored decisions of some discharges (id -> its discharge date D), by id (one without them
    is missing): RECORD by name (days as day numbers, the outcome of the CHC decision as text) and
    `segments`, a list of (episode place, first day, last day, rule place)."""
    def day(value: int, D: int) -> int:
        return NEVER if value == LATER else PASSED if value == EARLIER else D + value

    touched = sorted({bucket_of(i, refers.buckets) for i in discharge_days})
    found = {}
    for discharges, blob in store.execute(f"SELECT discharges, decided FROM {TABLE} WHERE bucket IN "
                                          f"({', '.join('?' * len(touched))})", touched):
        for discharge_id, (numbers, segments) in _decode(discharges, blob).items():
            D = discharge_days.get(discharge_id)
            if D is not None:
                record = dict(zip(RECORD, numbers))
                found[discharge_id] = record | {name: day(record[name], D) for name in DAYS} | {
                    "C_outcome": OUTCOMES[record["C_outcome"]],
                    "segments": [(place, D + first, D + last, rule) for place, first, last, rule in segments]}
    return found
