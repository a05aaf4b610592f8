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

import importlib
import sys
import types

# where each of the package's names is defined: a part is imported when one of its names is first used
# (PEP 562), so that reading a patient's lines (``hds trace``) does not import the claim computation
_PARTS = {
    "anchor": ("anchor_path", "append_anchor", "read_anchor", "repair_anchor"),
    "hashing": ("header_hash", "line_hash", "rows_hash"),
    "log": ("log_lines",),
    "read": ("claimed_in", "findings_of", "holds_submissions", "patient_findings", "patient_history",
             "stored_findings", "stored_lines", "submission_of", "submissions"),
    "state": ("LedgerState", "ledger_state"),
    "store": ("migrate", "open_store"),
    "stored": ("carried_claim", "claim_for", "replay", "stored_claim"),
    "submit": ("Submitted", "draft_fingerprint", "submit"),
    "verify": ("verify", "verify_store"),
}
_HOME = {name: part for part, names in _PARTS.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    part = _HOME.get(name)
    if part is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{part}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Two parts are named after their function (``submit``, ``verify``): importing such a part must not
    make ``claims.ledger.submit`` the module, as Python does for a part imported after its package; the
    name stays the function's (``importlib.import_module`` gives the module)."""

    def __setattr__(self, name: str, value) -> None:
        if not (isinstance(value, types.ModuleType) and name in _HOME):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
