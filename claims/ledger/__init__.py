"""The claims ledger: submitted claims that nothing may change.

A submission stores the claim exactly as `hds claim` shows it: a header
(month, time, load used, rulebook version, totals) and every line, current
and adjustment. SQLite triggers refuse any UPDATE or DELETE of them. Each
line's hash chains the previous one, starting from the previous submission's
hash, and the header's hash closes the chain; `verify` recomputes it all, so
an edit made behind the triggers' back is found and named.

The ledger owns its storage: its tables, triggers and views (``store``, and
the migration set ``schema``), its state as the claim computation needs it
(``state``), the claims it holds (``stored``), submitting (``submit``),
hashing, the anchor file, verifying, the log, and every read of a
submission, a line, a finding or a stored rulebook (``read``). No SQL on the
``submission*`` tables lives outside this package.
"""

from claims.ledger.anchor import anchor_path, append_anchor, read_anchor, repair_anchor
from claims.ledger.hashing import header_hash, line_hash, rows_hash
from claims.ledger.log import log_lines
from claims.ledger.read import (claimed_in, findings_of, holds_submissions, patient_findings, patient_history,
                                stored_findings, stored_lines, submission_of, submissions)
from claims.ledger.state import LedgerState, ledger_state
from claims.ledger.store import migrate, open_store
from claims.ledger.stored import carried_claim, claim_for, replay, stored_claim
from claims.ledger.submit import Submitted, draft_fingerprint, submit
from claims.ledger.verify import verify, verify_store

__all__ = ["LedgerState", "Submitted", "anchor_path", "append_anchor", "carried_claim", "claim_for", "claimed_in",
           "findings_of", "header_hash", "holds_submissions", "ledger_state", "line_hash", "log_lines", "migrate",
           "open_store", "patient_findings", "patient_history", "read_anchor", "repair_anchor", "replay", "rows_hash",
           "stored_claim", "stored_findings", "stored_lines", "submission_of", "submissions", "submit", "verify",
           "verify_store", "draft_fingerprint"]
