"""The anchor: the chain's head, recorded outside the store (a line per submission).

The anchor is checked before a submission is stored (`check_anchor`): its folder must exist and be
writable, and the anchor must be a plain file (or not exist yet), never a folder or a symbolic
link, so that a submission is refused up front rather than stored and left unanchored. An append
that still fails after the commit (a share that went away in between, a full disk) is reported
with the submission it concerns, and `repair_anchor` (``hds anchor --repair``) writes the missing
lines once the anchor can be written again.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from hds.errors import HdsError

REPAIR = "hds anchor --repair"


def anchor_path(db: Path, configured: Path | None) -> Path:
    """hds.toml's [ledger] anchor, or <store>.anchor beside the store."""
    return configured if configured is not None else Path(f"{db}.anchor")


def anchor_unusable(path: Path) -> str | None:
    """Why `path` cannot be the anchor (None when it can be read and appended to)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"the anchor {path} cannot be examined ({exc.strerror})"
    if mode is not None and stat.S_ISLNK(mode):
        return (f"the anchor {path} is a symbolic link; hds does not write through links: name the real file in "
                "hds.toml [ledger] anchor")
    if mode is not None and stat.S_ISDIR(mode):
        return f"the anchor {path} is a folder; name a file in it in hds.toml [ledger] anchor, e.g. {path / 'hds.anchor'}"
    if mode is not None and not stat.S_ISREG(mode):
        return f"the anchor {path} is not a plain file"
    if not path.parent.is_dir():
        return (f"the anchor's folder {path.parent} does not exist (is the share mounted?); hds.toml [ledger] anchor "
                "names it")
    return None


def check_anchor(path: Path, refused: str) -> None:
    """Refuse, before anything is stored, an anchor that could not be appended to; `refused` says
    what was therefore not done."""
    problem = anchor_unusable(path)
    if problem is None and not _writable(path if path.exists() else path.parent):
        problem = f"the anchor {path} cannot be written: permission denied"
    if problem is not None:
        raise HdsError(f"{problem}; {refused}")


def _writable(path: Path) -> bool:
    effective = os.access in os.supports_effective_ids
    return os.access(path, os.W_OK, effective_ids=effective)


def anchor_line(header: dict) -> str:
    return f"{header['submitted_at']} submission {header['id']} {header['month']} {header['hash']}\n"


def append_anchor(path: Path, header: dict) -> None:
    append_lines(path, [anchor_line(header)])


def append_lines(path: Path, lines: list[str]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write("".join(lines))
        handle.flush()
        os.fsync(handle.fileno())


def read_anchor(path: Path) -> list[tuple[int, str, str]]:
    """(submission id, month, hash) of each submission's line of an anchor file."""
    problem = anchor_unusable(path)
    if problem is not None:
        raise HdsError(problem)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HdsError(f"the anchor {path} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if len(parts) == 5 and parts[1] == "invoice":  # an issued invoice's hash (claims.ledger.invoices)
            continue
        if len(parts) != 5 or parts[1] != "submission" or not parts[2].isdigit():
            raise HdsError(f"{path} line {number} is not an anchor line (time, 'submission', id, month, hash)")
        entries.append((int(parts[2]), parts[3], parts[4]))
    return entries


@dataclass(frozen=True)
class AnchorRepair:
    path: Path
    written: list[dict]  # the submissions whose lines were appended
    anchored: int  # the submissions the anchor held already
    invoices: int = 0  # the issued invoices whose lines were appended


def repair_anchor(store, path: Path) -> AnchorRepair:
    """Append to the anchor the lines of the submissions it lacks (a submit whose append failed after
    its commit), once the store itself verifies and every line the anchor holds matches the store."""
    from claims.ledger.read import submissions
    from claims.ledger.verify import verify

    check_anchor(path, "the anchor was not repaired")
    problems = verify(store, None)
    if problems:
        raise HdsError("the anchor is not repaired: the store itself fails verification ('hds verify' lists why), "
                       f"e.g. {problems[0]}")
    headers = {h["id"]: h for h in submissions(store)}
    entries = read_anchor(path) if path.exists() else []
    for number, month, digest in entries:
        if number not in headers or headers[number]["hash"] != digest:
            raise HdsError(f"the anchor is not repaired: its line for submission {number} ({month}) does not match "
                           "the store; 'hds verify' explains why. Lines are only ever added, never rewritten")
    anchored = {number for number, _, _ in entries}
    missing = [h for number, h in sorted(headers.items()) if number not in anchored]
    invoices = _unanchored_invoices(store, path)
    if missing or invoices:
        append_lines(path, [anchor_line(h) for h in missing] + invoices)
    return AnchorRepair(path, missing, len(anchored), len(invoices))


def _unanchored_invoices(store, path: Path) -> list[str]:
    """The anchor lines of issued invoices the anchor lacks (an issue whose append failed)."""
    from claims.ledger.invoices import anchored_invoices, invoice_anchor_line, invoices

    held = anchored_invoices(path)
    return [invoice_anchor_line(row) for row in invoices(store) if row["number"] not in held]


def anchor_report(store, path: Path, repair: bool) -> list[str]:
    """What `hds anchor` prints: each submission and whether the anchor holds it; with `repair`, the
    missing lines appended first."""
    from claims.ledger.read import submissions

    done = repair_anchor(store, path) if repair else None
    headers = submissions(store)
    held = {number: digest for number, _, digest in read_anchor(path)} if path.exists() else {}
    lines = [f"Anchor {path}: {len(held)} of {len(headers)} submission(s)"]
    for h in headers:
        state = "anchored" if held.get(h["id"]) == h["hash"] else (
            "MISSING" if h["id"] not in held else "DIFFERS (run 'hds verify')")
        lines.append(f"  {h['id']:>3}  {h['month']}  {h['hash']}  {state}")
    if done is not None:
        count = len(done.written) + done.invoices
        lines.append(f"Repaired: appended {count} line(s)" if count else "Nothing to repair")
    elif len(held) < len(headers):
        lines.append(f"Run '{REPAIR}' to append the missing line(s)")
    return lines
