"""Submitting a month: the checks, the acknowledgements, the ledger, and what to tell the user."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from claims.commands.session import config_beside, opened, writing


def submit_month(db: Path, lib, month, skip_months: bool, accepted: dict[str, str], dry_run: bool = False):
    """Check and store the claim for `month` under the write lock (``claims.ledger.submit``), with the
    findings acknowledged in `accepted` (CODE:SUBJECT -> why); the ``Submitted`` result. `dry_run`:
    the same checks and figures from the store opened for reading, nothing stored."""
    from claims.checks import Thresholds, checked_data, review, run_checks
    from claims.ledger import anchor_path, submit
    from hds.store import user_name
    from rules.library import library_snapshot

    config = config_beside(db)
    thresholds = Thresholds.from_mapping(config.checks)

    def checked(source):
        # always the checks run now, never the findings a command kept (claims.checked): what the ledger
        # records is computed from the data it is stored against, as the claim is; what they read is
        # read alongside, the claim takes the month's discharges they read (and what it decided of
        # them), and they run here once it is built
        data = checked_data(source, month)
        return lambda: review(month, run_checks(month, data, lib, thresholds), accepted, user_name()), data

    with (opened(db) if dry_run else writing(db)) as store:
        return submit(store, lib, month, skip_months, anchor_path(db, config.anchor), review=checked,
                      rules=library_snapshot(lib), dry_run=dry_run)


def submitted_lines(done, month) -> list[str]:
    """What `hds submit` says it did: the claim's totals, the findings kept, the hash and the anchor."""
    from hds.money import format_pounds

    acknowledged = [f for f in done.findings if f["acknowledged"]]
    c = done.claim
    figures = (f"{len(c.lines)} lines {format_pounds(c.current_pence)}, {len(c.adjustments)} adjustments "
               f"{format_pounds(c.adjustments_pence)}, total {format_pounds(c.total_pence)}")
    if done.dry_run:
        return [f"Dry run: {month} would be submitted as submission {done.id}: {figures}",
                f"Findings that would be stored with it: {len(done.findings)} ({len(acknowledged)} acknowledged)",
                f"Fingerprint of the figures: {done.fingerprint}",
                f"Anchor: {done.anchor}",
                "Nothing was stored: run the same command without --dry-run to submit"]
    lines = [f"Submitted {month} as submission {done.id}: {figures}",
             f"Findings stored with it: {len(done.findings)} ({len(acknowledged)} acknowledged)",
             f"Fingerprint of the figures: {done.fingerprint} (the draft pack of {month} shows it)",
             f"Submission hash: {done.hash}"]
    return lines + ([] if done.anchor_error else [f"Anchored in {done.anchor}"])


def anchor_failure(done, month) -> str | None:
    """What to say when the submission was stored but its hash could not be anchored."""
    if not done.anchor_error:
        return None
    from claims.ledger.anchor import REPAIR

    return (f"submission {done.id} ({month}) IS stored, with the hash above, but the hash could not be appended "
            f"to the anchor ({done.anchor_error}); keep the hash, and when the anchor can be written again run "
            f"'{REPAIR}' to write the missing line ('hds verify' reports it until then)")


def open_warnings(done, month, each: int = 3, all_up_to: int = 20) -> list[str]:
    """The warnings a submission stored and nobody acknowledged: all of them when few, else the first
    few of each check and a count of the rest, so that a national month's hundreds of warnings do not
    bury the result."""
    findings = [f for f in done.findings if f["severity"] == "warning" and not f["acknowledged"]]
    by_code = defaultdict(list)
    for finding in findings:
        by_code[finding["code"]].append(finding)
    out = []
    for code, found in by_code.items():
        shown = found if len(findings) <= all_up_to else found[:each]
        out += [f"{code}:{finding['subject']} {finding['message']}" for finding in shown]
        if len(found) > len(shown):
            out.append(f"... and {len(found) - len(shown)} more {code} warning(s); "
                       f"'hds check --month {month} --csv' lists them all")
    return out
