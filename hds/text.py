"""Free text that hds keeps for good (hashed into the ledger or the loads chain): a reason, a user
name, a source's name. It may hold no control characters but tab, and is at most MAX_FREE_TEXT
characters long, so nothing kept forever can hide, recolour or overwrite what an auditor reads, or
bury a ledger under megabytes of one field."""

from __future__ import annotations

import re

MAX_FREE_TEXT = 2_000
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def free_text_problem(text: str) -> str | None:
    """Why `text` cannot be kept (None when it can)."""
    if len(text) > MAX_FREE_TEXT:
        return f"is {len(text):,} characters long; at most {MAX_FREE_TEXT:,} are kept"
    found = _CONTROL.search(text)
    if found:
        return (f"holds the control character U+{ord(found.group()):04X} at character {found.start() + 1}; only "
                "printable text and tabs are kept")
    return None
