"""The ledger's hashes: each line chains the previous one, from the previous submission's hash
(``hds.chain.GENESIS`` for the first), and the header's hash closes the chain.

Submissions made before hds kept findings, rules and the load's hash with each one (hash version
1, in stores of the earlier hds's schema 3 and before) hash the header's first fields only."""

from __future__ import annotations

import hashlib
import json

from claims.claim import LINE_FIELDS
from claims.ledger.store import HEADER_FIELDS

HEADER_FIELDS_V2 = HEADER_FIELDS + ["load_hash", "findings_hash", "rules_hash"]


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
