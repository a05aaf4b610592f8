"""The claim to NHS England for one month: its own `hds` lines, plus adjustments.

Adjustments correct earlier months without touching what was submitted
(agreement 6.5): for every earlier month E from the first month the ledger
holds, the amount E should have claimed, recomputed now, minus everything
claimed for E so far, line by line (episode or block cost).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Callable

import pandas as pd

from claims.allocation import Allocation, Allocator
from hds.records import Dataset
from rules.library import RuleLibrary


@dataclass(frozen=True)
class ClaimLine:
    claim_month: str  # the month the money is for
    kind: str  # "individual" or "block"
    patient_id: str
    discharge_id: str
    episode_id: str
    block_id: str
    description: str
    scheme: str
    service: str
    organisation: str
    days: int
    amount_pence: int
    reason: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.claim_month, self.kind, self.episode_id or self.block_id)


@dataclass(frozen=True)
class LedgerState:
    """What earlier submissions claimed, as the claim computation needs it."""

    first_month: str | None  # the first month the ledger holds a submission for
    claimed: dict  # ClaimLine.key -> ClaimLine with days and amount summed over submissions
    explain: Callable[[ClaimLine, bool], str] = lambda line, claimed_before: ""


NO_LEDGER = LedgerState(None, {})


@dataclass
class Claim:
    month: str
    lines: list[ClaimLine]
    adjustments: list[ClaimLine]
    rulebook_version: str
    load_id: int | None = None
    submission: dict | None = None  # the stored header, when this month is already submitted
    notes: list[str] = field(default_factory=list)

    _frames: dict = field(default_factory=dict, repr=False, compare=False)

    def frame(self, which: str = "all") -> pd.DataFrame:
        """The lines as a table, built once per selection (totals ask for it repeatedly)."""
        if which not in self._frames:
            lines = {"current": self.lines, "adjustments": self.adjustments,
                     "all": self.lines + self.adjustments}[which]
            columns = list(ClaimLine.__dataclass_fields__)
            self._frames[which] = pd.DataFrame([line.__dict__ for line in lines], columns=columns).astype(
                {"days": "int64", "amount_pence": "int64"})
        return self._frames[which]

    @property
    def current_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)

    @property
    def adjustments_pence(self) -> int:
        return sum(line.amount_pence for line in self.adjustments)

    @property
    def total_pence(self) -> int:
        return self.current_pence + self.adjustments_pence

    def totals_by(self, column: str, which: str = "all") -> dict[str, int]:
        grouped = self.frame(which).groupby(column, sort=True)["amount_pence"].sum()
        return {str(k): int(v) for k, v in grouped.items()}

    def total_of_kind(self, kind: str, which: str = "current") -> int:
        frame = self.frame(which)
        return int(frame.loc[frame["kind"] == kind, "amount_pence"].sum())


def build_claim(dataset: Dataset, library: RuleLibrary, month: str, ledger: LedgerState = NO_LEDGER,
                load_id: int | None = None) -> Claim:
    allocator = Allocator(dataset, library)
    descriptions = {b.block_id: b.description for b in dataset.block_costs}
    if ledger.first_month is None or ledger.first_month >= month:
        current = [_line(a, descriptions) for a in allocator.month_allocations(month) if a.funder == "hds"]
        return Claim(month, current, [], library.version, load_id)
    rows = [a for a in allocator.allocations_through(month) if a.funder == "hds" and a.month >= ledger.first_month]
    lines = [_line(a, descriptions) for a in rows]
    current = [line for line in lines if line.claim_month == month]
    recomputed = {line.key: line for line in lines if line.claim_month < month}
    claimed = {key: line for key, line in ledger.claimed.items() if key[0] < month}
    return Claim(month, current, adjustments(recomputed, claimed, ledger.explain), library.version, load_id)


def adjustments(recomputed: dict, claimed: dict, explain) -> list[ClaimLine]:
    """Recomputed minus claimed so far, for every line key of the earlier months."""
    result = []
    for key in sorted(set(recomputed) | set(claimed)):
        now, before = recomputed.get(key), claimed.get(key)
        days = (now.days if now else 0) - (before.days if before else 0)
        pence = (now.amount_pence if now else 0) - (before.amount_pence if before else 0)
        if days == 0 and pence == 0:
            continue
        template = now or before
        line = replace(template, days=days, amount_pence=pence, reason="")
        result.append(replace(line, reason=explain(line, before is not None)))
    return result


def sum_lines(lines) -> dict:
    """ClaimLine.key -> one ClaimLine with the days and money of all `lines` with that key."""
    totals: dict = {}
    days, pence = defaultdict(int), defaultdict(int)
    for line in lines:
        totals.setdefault(line.key, line)
        days[line.key] += line.days
        pence[line.key] += line.amount_pence
    return {k: replace(v, days=days[k], amount_pence=pence[k], reason="") for k, v in totals.items()}


def _line(a: Allocation, descriptions: dict[str, str]) -> ClaimLine:
    return ClaimLine(
        a.month, "block" if a.block_id else "individual", a.patient_id, a.discharge_id, a.episode_id, a.block_id,
        descriptions.get(a.block_id, ""), a.scheme, a.service, a.organisation, a.days, a.amount_pence,
    )
