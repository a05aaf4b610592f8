"""Submitting: a month's claim computed and stored, with its findings and rules, in one write
transaction; its hash appended to the anchor file outside the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claims.claim import LINE_FIELDS, Claim, build_claim
from claims.ledger.anchor import append_anchor, check_anchor
from claims.ledger.hashing import chain_links, figures_fingerprint, header_hash, json_ids, rows_hash
from claims.ledger.read import chain_head, claimed_in, line_summary, months_submitted, submission_of
from claims.ledger.state import ledger_state
from hds.chain import GENESIS
from hds.errors import HdsError
from hds.month import Month
from hds.store import Store, StoreSource, insert_rows, now_utc, user_name
from hds.table import Table


@dataclass(frozen=True)
class Submitted:
    id: int
    claim: Claim
    hash: str
    anchor: Path | None = None  # the anchor file the hash was appended to (or was to be)
    findings: list = ()  # the findings stored with it
    anchor_error: str | None = None  # why the hash could not be appended after the commit (stored all the same)
    fingerprint: str = ""  # the figures' fingerprint (hashing.figures_fingerprint), as the draft pack shows it
    dry_run: bool = False  # True: everything was checked and computed, and nothing stored


@dataclass(frozen=True)
class Prepared:
    """A submission as it would be stored: its header, its lines (each with its chained hash), the
    findings and rule files kept with it."""

    header: dict
    lines: list[tuple]
    finding_rows: list[tuple]
    rule_rows: list[tuple]

    @property
    def fingerprint(self) -> str:
        return figures_fingerprint(self.header, self.lines[-1][-1] if self.lines else self.header["prev_hash"])


def submit(store: Store, library, month: str, skip_months: bool = False, anchor: Path | None = None,
           review=None, rules: dict[str, str] | None = None, dry_run: bool = False) -> Submitted:
    """Compute the month's claim and store it, both inside one write transaction: the claim is
    computed from exactly the data and ledger it is stored against. `review(source)` starts finding
    what to store with it and gives a function that returns those findings once the claim is built
    (and may refuse the submission), and what the checks read (``claims.checks.Stored``), or None:
    the claim may take the month's discharges with care from it and hand back what it decided of
    them (``build_claim``'s `with_care` and `keep`); the rules' texts are pinned to it.
    The submission's hash is then appended to the `anchor` file, a record of the chain kept outside
    the store: an anchor that could not be written is refused before anything is stored, and an
    append that fails after the commit is returned in `anchor_error` (the submission is stored).
    `dry_run`: everything checked and computed inside a read transaction, nothing stored."""
    if anchor is not None:
        check_anchor(anchor, "nothing was submitted" if not dry_run else "a submission would be refused")
    with (store.read() if dry_run else store.write()):
        _check_can_submit(store, month, skip_months)
        load_id = store.latest_load()
        if load_id is None:
            raise HdsError("the store holds no data: run 'hds load DIR' first")
        reviewed, checked = review(StoreSource(store)) if review is not None else (list, None)
        with_care, keep = (checked.month_with_care, checked.decided_with_claim) if checked is not None else (None, None)
        claim = build_claim(StoreSource(store), library, month, ledger_state(store, library, month), load_id,
                            with_care=with_care, keep=keep)
        findings = reviewed()
        prepared = prepare(store, claim, findings, rules or {})
        if not dry_run:
            _store(store, prepared)
    header = prepared.header
    error = None if dry_run else _anchored(anchor, header)
    return Submitted(header["id"], claim, header["hash"], anchor, list(findings), error, prepared.fingerprint, dry_run)


def prepare(store: Store, claim: Claim, findings: list, rules: dict[str, str]) -> Prepared:
    """The submission `claim` would be, stored next in the chain (inside the caller's transaction)."""
    previous, number = chain_head(store)
    finding_rows = [(number, n, f["code"], f["severity"], f["paragraph"], f["subject"], json_ids(f["ids"]),
                     f["amount_pence"], f["message"], f.get("acknowledged", "")) for n, f in enumerate(findings, 1)]
    rule_rows = [(number, path, text) for path, text in sorted(rules.items())]
    header = {
        "id": number, "month": claim.month, "submitted_at": now_utc(), "submitted_by": user_name(),
        "load_id": claim.load_id, "rulebook_version": claim.rulebook_version, "current_pence": claim.current_pence,
        "adjustments_pence": claim.adjustments_pence, "total_pence": claim.total_pence,
        "line_count": len(claim.lines) + len(claim.adjustments),
        "prev_hash": previous or GENESIS,
        "load_hash": store.execute("SELECT hash FROM loads WHERE id = ?", [claim.load_id]).fetchone()[0],
        "findings_hash": rows_hash(finding_rows), "rules_hash": rows_hash(rule_rows), "hash_version": 2,
    }
    lines = Table.concat([claim.lines, claim.adjustments])
    current = [1] * len(claim.lines) + [0] * len(claim.adjustments)
    rows = [(header["id"], line_no, *values, is_current)
            for line_no, (values, is_current) in enumerate(zip(lines.rows(LINE_FIELDS), current), start=1)]
    links = chain_links(header["prev_hash"], rows)  # each line's hash (line_hash), chained
    rows = [row + (link,) for row, link in zip(rows, links)]
    header["hash"] = header_hash(header, links[-1] if links else header["prev_hash"])
    return Prepared(header, rows, finding_rows, rule_rows)


def draft_fingerprint(store: Store, claim: Claim, rules: dict[str, str]) -> str | None:
    """The fingerprint of the figures a draft claim would be submitted with (None for a claim that is
    not a draft of the store's latest load: submit would compute another)."""
    if claim.status != "draft" or claim.load_id is None or claim.load_id != store.latest_load():
        return None
    return prepare(store, claim, [], rules).fingerprint


def fingerprint_of(store: Store, header: dict) -> str | None:
    """The figures' fingerprint of a stored submission, from its header and its last line's hash."""
    _, _, last = line_summary(store, header["id"])
    return figures_fingerprint(header, last or header["prev_hash"])


def _store(store: Store, prepared: Prepared) -> None:
    header = prepared.header
    names = list(header)
    store.execute(f"INSERT INTO submissions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                  [header[n] for n in names])
    columns = ["submission_id", "line_no", *LINE_FIELDS, "current", "line_hash"]
    insert_rows(store.conn, f"INSERT INTO submission_lines ({', '.join(columns)}) VALUES ",
                f"({', '.join('?' * len(columns))})", _rows(prepared.lines, len(columns)))
    insert_rows(store.conn, "INSERT INTO submission_findings VALUES ", "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _rows(prepared.finding_rows, 10))
    store.conn.executemany("INSERT INTO submission_rules VALUES (?, ?, ?)", prepared.rule_rows)


def _rows(rows: list[tuple], width: int):
    """Rows of values as a numpy array of objects, a row each, for ``hds.store.insert_rows``."""
    import numpy as np

    array = np.empty((len(rows), width), dtype=object)
    if rows:
        array[:] = rows
    return array


def _anchored(anchor: Path | None, header: dict) -> str | None:
    """Append the stored submission's hash to the anchor; what went wrong, if anything."""
    if anchor is None:
        return None
    try:
        append_anchor(anchor, header)
    except OSError as exc:
        return f"{anchor}: {exc.strerror or exc}"
    return None


def _check_can_submit(store: Store, month: str, skip_months: bool) -> None:
    """A month is submitted once, in order: the one after the last submitted month (or, with
    `skip_months`, a later one, whose claim then carries the months skipped as adjustments)."""
    same = submission_of(store, month)
    if same:
        raise HdsError(f"{month} was already submitted (submission {same['id']}, {same['submitted_at']}); a "
                       f"submission cannot be changed: corrections go into the next month's claim as adjustments")
    first, last = months_submitted(store)
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
    expected = Month(last).next()
    if month > expected and not skip_months:
        raise HdsError(f"{expected} has not been submitted yet; submit the months in order ({expected} next), or pass "
                       f"--skip-months to claim every month from {expected} inside {month}'s claim as adjustments")

