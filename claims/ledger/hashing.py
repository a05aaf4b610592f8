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
    """The hash of ``json.dumps([list(r) for r in rows])``, the rows' JSON written a row at a time
    (``json_rows``)."""
    return hashlib.sha256(f"[{', '.join(json_rows(rows))}]".encode()).hexdigest()


def chain_link(previous: str, values) -> str:
    """A line's hash: the previous link, then the line's values (the chain of a submission or an invoice)."""
    return hashlib.sha256((previous + json.dumps(list(values))).encode()).hexdigest()


def chain_links(previous: str, rows: list[tuple]) -> list[str]:
    """Each row's link in turn, chained from `previous`: exactly ``chain_link`` of each, with the JSON
    of the rows written a column at a time (``json_rows``)."""
    sha256 = hashlib.sha256
    links = []
    for text in json_rows(rows):
        previous = sha256((previous + text).encode()).hexdigest()
        links.append(previous)
    return links


def json_rows(rows: list[tuple]) -> list[str]:
    """``json.dumps(list(row))`` of each row, several times faster for many rows: a column of str or of
    int (not bool) is written by the same encoder json.dumps uses for them; any other is left to
    json.dumps, value by value."""
    from json.encoder import encode_basestring_ascii

    if not rows or len(set(map(len, rows))) != 1 or not rows[0]:
        return [json.dumps(list(row)) for row in rows]  # rows of differing (or no) length, one by one
    columns = []
    for column in zip(*rows):
        kinds = set(map(type, column))
        columns.append(map(encode_basestring_ascii, column) if kinds == {str}
                       else map(int.__repr__, column) if kinds == {int} else map(json.dumps, column))
    return [f"[{text}]" for text in map(", ".join, zip(*columns))]


def json_ids(ids: dict) -> str:
    """``json.dumps(ids)`` of a finding's ids (kind -> a list of ids), several times faster for a
    national month's tens of thousands of findings: keys and ids written by the encoder json.dumps
    uses for text; anything but text keys and lists of text is left to json.dumps."""
    from json.encoder import encode_basestring_ascii as text

    if not all(type(k) is str and type(v) is list and all(type(i) is str for i in v) for k, v in ids.items()):
        return json.dumps(ids)
    return "{" + ", ".join(f"{text(k)}: [{', '.join(map(text, v))}]" for k, v in ids.items()) + "}"


def closing_hash(values, last_link: str) -> str:
    """A header's hash: its values, then the last line's link, which closes the chain."""
    return hashlib.sha256((json.dumps(list(values)) + last_link).encode()).hexdigest()


def line_hash(previous: str, row) -> str:
    """`row`: (submission_id, line_no, *LINE_FIELDS, current), as a tuple or a stored row's dict."""
    if isinstance(row, dict):
        row = [row[f] for f in ["submission_id", "line_no", *LINE_FIELDS, "current"]]
    return chain_link(previous, row)


def header_hash(header: dict, last_line_hash: str) -> str:
    fields = HEADER_FIELDS_V2 if header.get("hash_version") == 2 else HEADER_FIELDS
    return closing_hash([header[f] for f in fields], last_line_hash)


FINGERPRINT_FIELDS = ["id", "month", "load_id", "load_hash", "rulebook_version", "rules_hash", "prev_hash",
                      "current_pence", "adjustments_pence", "total_pence", "line_count"]


def figures_fingerprint(header: dict, last_line_hash: str) -> str | None:
    """The fingerprint of a submission's figures: its place in the chain, the load and the rules it was
    computed from, its totals and every line (through the last line's chained hash), but not when or
    by whom it was made nor the findings acknowledged with it; so the draft pack of a month shows the
    fingerprint that `hds submit` then prints, when nothing changed in between. None for a
    submission made before hds kept the load's hash and the rules with it."""
    if header.get("hash_version") != 2:
        return None
    return hashlib.sha256((json.dumps([header[f] for f in FINGERPRINT_FIELDS]) + last_line_hash).encode()).hexdigest()
