"""Claims as the ledger sees them: a submitted month as submitted, a month skipped over as the
later submissions carried it, a draft with its adjustments, a submission replayed."""

from __future__ import annotations

from claims.claim import Claim, build_claim, empty_lines
from claims.ledger.read import claimed_in, lines_for_month, months_submitted, rules_of, stored_lines, submission, submission_of
from claims.ledger.state import ledger_state
from hds.errors import HdsError
from hds.money import pounds
from hds.store import Store, StoreSource


def claim_for(store: Store, library, month: str, as_of: int | None = None) -> Claim:
    """The stored submission of `month` if there is one; for a month skipped over, the lines later
    submissions claimed for it; otherwise the draft claim with adjustments."""
    header = submission_of(store, month)
    if header and as_of is None:
        return stored_claim(store, header["id"])
    if as_of is None and (carried := claimed_in(store, month)) is not None:
        return carried_claim(store, month, carried)
    source = StoreSource(store, as_of)
    state = ledger_state(store, library, month, up_to_load=as_of)
    claim = build_claim(source, library, month, state, source.load_id)
    claim.first_submitted = months_submitted(store)[0]
    return claim


def replay(store: Store, month: str) -> Claim:
    """A submitted month recomputed under the rules pinned to its submission, from the data of the
    load it was made from and the ledger as it stood then: what an auditor gets to compare, line
    for line, with what was submitted, whatever the rules are now."""
    from rules.library import library_from_snapshot

    header = submission_of(store, month)
    if header is None:
        raise HdsError(f"{month} has not been submitted: --as-submitted replays a submission")
    texts = rules_of(store, header["id"])
    if not texts:
        raise HdsError(f"submission {header['id']} ({month}) was made before hds kept the rules with each "
                       "submission, so it cannot be replayed under its own rules")
    library = library_from_snapshot(texts)
    source = StoreSource(store, header["load_id"])
    state = ledger_state(store, library, month, up_to_load=header["load_id"], before=header["id"])
    claim = build_claim(source, library, month, state, header["load_id"])
    same = (claim.total_pence == header["total_pence"]
            and len(claim.lines) + len(claim.adjustments) == header["line_count"])
    claim.notes.append(f"{month} replayed under the rules pinned to submission {header['id']} (version "
                       f"{library.version[:12]}) from load {header['load_id']}: "
                       + ("the same lines and total as submitted." if same else
                          f"DIFFERENT from what was submitted ({pounds(header['total_pence'])})."))
    return claim


def carried_claim(store: Store, month: str, carried: tuple[int, str]) -> Claim:
    """A month that was never submitted on its own: what later submissions claimed for it, as
    adjustments, is what it was claimed (reports agree on where its money went)."""
    lines = lines_for_month(store, month)
    header = submission(store, carried[0])
    claim = Claim(month, lines, empty_lines(), header["rulebook_version"], header["load_id"], carried_in=carried,
                  carrier=header)
    claim.notes.append(f"{month} was not submitted on its own: its money was claimed as adjustments in submission "
                       f"{carried[0]} ({carried[1]}) and any later ones; these are those lines.")
    return claim


def stored_claim(store: Store, submission_id: int) -> Claim:
    header = submission(store, submission_id)
    lines, current = stored_lines(store, submission_id)
    claim = Claim(header["month"], lines.take(current), lines.take(~current), header["rulebook_version"],
                  header["load_id"], submission=header)
    from claims.report.labels import user_text, when_text

    claim.notes.append(f"{header['month']} was submitted as submission {header['id']} on "
                       f"{when_text(header['submitted_at'])} by {user_text(header['submitted_by'])} from load "
                       f"{header['load_id']}; this is what was claimed.")
    return claim
