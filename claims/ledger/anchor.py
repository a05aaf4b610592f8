"""The anchor: the chain's head, recorded outside the store (a line per submission)."""

from __future__ import annotations

import os
from pathlib import Path

from hds.errors import HdsError


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
    """(submission id, month, hash) of each submission's line of an anchor file."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if len(parts) == 5 and parts[1] == "invoice":  # an issued invoice's hash (claims.ledger.invoices)
            continue
        if len(parts) != 5 or parts[1] != "submission" or not parts[2].isdigit():
            raise HdsError(f"{path} line {number} is not an anchor line (time, 'submission', id, month, hash)")
        entries.append((int(parts[2]), parts[3], parts[4]))
    return entries
