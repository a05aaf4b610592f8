"""The store's own integrity: triggers known by their SQL, and a hash chain through the loads.

Each load's entry in the loads log carries a digest of the data versions it
wrote and closed, and a hash over its whole entry (time, user, source, the
SHA-256 of every file, row counts, changes, digest) chained to the previous
load's (with the input mapping of hds.toml it was read through, when there was one). Each submission's header carries the hash of the load it was
computed from (``claims.ledger``), so a claim is tied to the exact data
behind it. Triggers refuse any change to the loads log and to the data
history other than a later load closing a version (the ledger keeps its own,
``claims.ledger.store``); `hds verify` compares each trigger's SQL with what
hds created, so a trigger dropped, renamed or emptied is found.
"""

from __future__ import annotations

import hashlib
import json

from hds.contract import CONTRACT

GENESIS = "0" * 64  # what the first link of a chain (of loads, of submissions) follows
LOAD_FIELDS = ["id", "loaded_at", "loaded_by", "source", "files", "rows", "changes", "latest_day", "digest"]


def raise_sql(message: str) -> str:
    return f"SELECT RAISE(ABORT, '{message}');"


def triggers() -> dict[str, str]:
    """Every trigger of the data layer (the loads log and the data history), by name, with its exact SQL."""
    found = {}
    for action in ("UPDATE", "DELETE"):
        name = f"loads_no_{action.lower()}"
        found[name] = (f"CREATE TRIGGER {name} BEFORE {action} ON loads "
                       f"BEGIN {raise_sql('the loads log cannot be changed')} END")
    for spec in CONTRACT:
        fields = spec.fields + ["_extra", "_row", "_load"]
        changed = " OR ".join(f"NEW.[{f}] IS NOT OLD.[{f}]" for f in fields)
        found[f"{spec.name}_history_update"] = (
            f"CREATE TRIGGER {spec.name}_history_update BEFORE UPDATE ON [{spec.name}] "
            f"WHEN OLD._until_load IS NOT NULL OR NEW._until_load IS NULL OR NEW._until_load <= OLD._load OR {changed} "
            f"BEGIN {raise_sql('the data history cannot be changed: load a corrected extract instead')} END")
        found[f"{spec.name}_history_delete"] = (
            f"CREATE TRIGGER {spec.name}_history_delete BEFORE DELETE ON [{spec.name}] "
            f"BEGIN {raise_sql('the data history cannot be changed: load a corrected extract instead')} END")
    return found


def trigger_problems(conn, expected: dict[str, str]) -> list[str]:
    """Each expected trigger (name -> SQL; the data layer's and those of what keeps tables in the
    store beside it) present with its exact SQL, and no other trigger."""
    present = {name: sql for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
    problems = []
    for name, sql in expected.items():
        if name not in present:
            problems.append(f"the trigger {name} that protects the store is missing")
        elif " ".join(present[name].split()) != " ".join(sql.split()):
            problems.append(f"the trigger {name} was altered: it no longer refuses changes as hds made it")
    for name in sorted(set(present) - set(expected)):
        problems.append(f"an unknown trigger {name} is in the store; hds did not create it")
    return problems


# --- the data a load wrote --------------------------------------------------------------

def table_digest(written: list, closed: list, plain: bool = False) -> str:
    """SHA-256 over the versions a load wrote in one table (rows of contract fields, _extra, _row,
    in the order written) and closed ([key, _load] in key order), each part as compact JSON.

    `plain`: the caller vouches that the rows hold only text, whole numbers and None (a load's own
    rows, ``hds.store._store_rows``), so they may be encoded by orjson, five times quicker than the
    standard library, wherever that gives the very same bytes; what `hds verify` reads back from the
    store, which anyone may have edited, is always encoded by the standard library."""
    digest = hashlib.sha256()
    encode = _compact_plain if plain else _compact
    for start in range(0, len(written), 100_000):
        digest.update(encode(written[start:start + 100_000]))
    digest.update(b"\n" + _compact(closed))
    return digest.hexdigest()


def _compact(values: list) -> bytes:
    """Compact JSON as the standard library writes it (every character past ~ escaped as \\uXXXX)."""
    return json.dumps(values, separators=(",", ":")).encode()


def _compact_plain(values: list) -> bytes:
    """_compact's bytes for lists of text, whole numbers and None: orjson's, where they cannot differ.
    The two write such values alike but for the characters past ~ (DEL and beyond), which orjson
    leaves as they are and the standard library escapes, and for numbers past 64 bits, which orjson
    refuses: for those the standard library writes the chunk (tests/test_chain.py compares them)."""
    import orjson

    try:
        encoded = orjson.dumps(values)
    except orjson.JSONEncodeError:
        return _compact(values)
    return encoded if encoded.isascii() and b"\x7f" not in encoded else _compact(values)


def combine(parts: dict[str, str]) -> str:
    """A load's digest: its tables' digests in contract order (a table it left alone counts empty)."""
    empty = table_digest([], [])
    return hashlib.sha256("\n".join(f"{spec.name} {parts.get(spec.name, empty)}" for spec in CONTRACT)
                          .encode()).hexdigest()


def digest_parts(written: dict[str, list], closed: dict[str, list]) -> str:
    return combine({name: table_digest(written.get(name, []), closed.get(name, []))
                    for name in set(written) | set(closed)})


def stored_versions(conn, load_id: int) -> tuple[dict, dict]:
    """What load `load_id` wrote and closed, read back from the data tables."""
    written, closed = {}, {}
    for spec in CONTRACT:
        columns = ", ".join(f"[{f}]" for f in spec.fields + ["_extra", "_row"])
        written[spec.name] = [list(r) for r in conn.execute(
            f"SELECT {columns} FROM [{spec.name}] WHERE _load = ? ORDER BY rowid", [load_id])]
        closed[spec.name] = [list(r) for r in conn.execute(
            f"SELECT [{spec.key}], _load FROM [{spec.name}] WHERE _until_load = ? ORDER BY [{spec.key}], _load",
            [load_id])]
    return written, closed


def load_hash(entry: dict, previous: str) -> str:
    """The load's link in the chain: its entry's fields, and the input mapping it was read through when
    there was one (a load read by the contract's own names hashes as loads always have)."""
    fields = [entry[f] for f in LOAD_FIELDS]
    if entry.get("mapping") is not None:
        fields.append(entry["mapping"])
    return hashlib.sha256((previous + json.dumps(fields)).encode()).hexdigest()


def load_problems(conn, digests: bool = True) -> list[str]:
    """The chain through the loads log, and (with `digests`) each load's data against its digest."""
    problems = []
    previous = GENESIS
    names = [c[1] for c in conn.execute("PRAGMA table_info(loads)")]
    expected_id = 1
    for values in conn.execute("SELECT * FROM loads ORDER BY id").fetchall():
        entry = dict(zip(names, values))
        name = f"load {entry['id']}"
        if entry["id"] != expected_id:
            problems.append(f"load {expected_id} is missing from the loads log")
        expected_id = entry["id"] + 1
        if entry.get("hash") is None:
            problems.append(f"{name}: has no hash in the loads log")
            continue
        if entry["prev_hash"] != previous:
            problems.append(f"{name}: does not follow the previous load (its chain hash differs)")
        if load_hash(entry, entry["prev_hash"]) != entry["hash"]:
            problems.append(f"{name}: its entry in the loads log was changed after the load")
        if digests and digest_parts(*stored_versions(conn, entry["id"])) != entry["digest"]:
            problems.append(f"{name}: the data it loaded was changed afterwards (its digest differs)")
        previous = entry["hash"]
    return problems

