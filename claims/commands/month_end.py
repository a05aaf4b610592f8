"""A month's claim and its month-end pack, each part computed once.

`hds claim --month M` shows the claim; with `-o pack.xlsx` the pack adds the
reconciliation (once submitted), the recharge (when hds.toml names the
partners) and the findings. The claim
is built once and handed to the recharge, which also reuses the month's
allocation the claim computed and the reconciliation; the findings are
those stored with the submission, or the checks run now on a draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from claims.commands.session import Reading


@dataclass(frozen=True)
class MonthClaim:
    """What `hds claim --month M` shows: the claim, and for the pack everything else on it."""

    claim: object  # claims.claim.Claim
    config: object  # hds.config.Config
    warnings: tuple[str, ...] = ()  # the ledger's quick verification, printed at the top of the pack
    reconciliation: object | None = None  # claims.reconcile.Reconciliation, once submitted
    recharge: object | None = None  # claims.recharge.Recharge
    findings: list | None = None  # claims.checks.Finding; None: the pack has no Findings sheet
    invoice: object | None = None  # claims.invoice.Invoice: the one issued, or the draft
    memorandum: tuple = ()  # claims.memorandum.MemoRow: the month's column of the memorandum note
    fingerprint: str | None = None  # the figures' fingerprint: what submit stores (a draft) or stored


def month_claim(r: Reading, lib, month, config, as_of: int | None = None, as_submitted: bool = False,
                pack: bool = False, warnings: tuple[str, ...] = ()) -> MonthClaim:
    """The claim for `month` from what `r` reads (a store, or files with --data); with `pack`, the
    rest of the month-end pack."""
    from hds import progress

    if not as_submitted:
        within_data(r.source, month)
    with progress.step(f"Computing the claim for {month}"):
        claim = _claim(r, lib, month, as_of, as_submitted)
    if not pack or as_submitted:
        return MonthClaim(claim, config, warnings)
    from claims.memorandum import memo_rows

    memo = memo_rows({month: claim.lines}, config)
    if r.store is None:
        return MonthClaim(claim, config, warnings, findings=month_findings(r, lib, month, None), memorandum=memo)
    from claims.invoice import invoice
    from claims.ledger import submission_of
    from claims.recharge import recharge
    from claims.reconcile import reconcile

    with progress.step(f"Reconciling and recharging {month}"):
        rec = reconcile(r.store, month, config) if submission_of(r.store, month) else None
        reuse = as_of is None  # the recharge states the month as the data stands now
        rc = inv = None  # the recharge and its invoice are left out until hds.toml names the partners
        if config.has_partners:
            rc = recharge(r.store, lib, month, config, claim=claim if reuse else None, reconciliation=rec)
            inv = invoice(r.store, lib, month, config, claim if reuse else None, rec, rc if reuse else None)
    return MonthClaim(claim, config, warnings, rec, rc, month_findings(r, lib, month, claim.submission, config),
                      inv, memo, _fingerprint(r.store, lib, claim, as_of))


def _fingerprint(store, lib, claim, as_of: int | None) -> str | None:
    """The fingerprint of the claim's figures: the one submit would print for a draft of the latest
    data, or the stored submission's."""
    from claims.ledger.submit import draft_fingerprint, fingerprint_of
    from rules.library import library_snapshot

    if claim.submission is not None:
        return fingerprint_of(store, claim.submission)
    return draft_fingerprint(store, claim, library_snapshot(lib)) if as_of is None else None


def _claim(r: Reading, lib, month, as_of: int | None, as_submitted: bool):
    if r.store is None:
        from claims.claim import build_claim

        return build_claim(r.source, lib, month)
    if as_submitted:
        from claims.ledger import replay

        return replay(r.store, month)
    from claims.ledger import claim_for

    return claim_for(r.store, lib, month, as_of)


def month_findings(r: Reading, lib, month, submission: dict | None = None, config=None) -> list:
    """The findings of a month: those stored with its submission when given, else those its checks
    found on the store's latest load (``claims.checked``), else the checks run now (with the
    thresholds of `config`, or the defaults)."""
    if submission is not None:
        from claims.ledger import findings_of

        return findings_of(r.store, submission["id"])
    from claims.checked import month_findings as found
    from claims.checks import Thresholds
    from hds import progress

    within_data(r.source, month)
    thresholds = Thresholds.from_mapping(config.checks) if config is not None else Thresholds()
    with progress.step(f"Running the checks on {month}"):
        return found(r.source, r.store, lib, month, thresholds)


def within_data(source, month) -> None:
    """Refuse a month outside the data: a claim or checks for it would only restate the months before it
    (a month after the data would claim every unsubmitted month as an adjustment)."""
    from claims.report.labels import month_text
    from hds.errors import HdsError
    from hds.month import Month

    last = Month.of_day(source.latest_day())
    if month <= last and source.discharged_by(Month(month).last_day):  # not before the first discharge
        return
    first = Month.of_day(source.first_day())
    if month > last:
        raise HdsError(f"{month} is after the data, which ends in {month_text(last)}; give a month from "
                       f"{first} to {last}")
    if month < first:
        raise HdsError(f"{month} is before the data, which starts in {month_text(first)}; give a month from "
                       f"{first} to {last}")
