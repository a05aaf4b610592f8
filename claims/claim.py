"""The claim to NHS England for one month: its own `hds` lines, plus adjustments.

Adjustments correct earlier months without touching what was submitted
(agreement 6.5): for every earlier month E from the first month the ledger
holds, the amount E should have claimed, recomputed now, minus everything
claimed for E so far, line by line (episode or block cost). The earlier
months are recomputed from the episodes that overlap them only, deciding
each discharge once for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from claims.allocate import allocations
from hds.days import month_end, month_number, month_start
from hds.table import Table

LINE_FIELDS = ["claim_month", "kind", "patient_id", "discharge_id", "episode_id", "block_id", "description",
               "scheme", "service", "organisation", "days", "amount_pence", "reason"]
LINE_TYPES = {"days": np.int64, "amount_pence": np.int64}


def empty_lines() -> Table:
    return Table.empty({f: LINE_TYPES.get(f, object) for f in LINE_FIELDS})


def line_keys(lines: Table) -> list[tuple[str, str, str]]:
    """(claim month, kind, episode or block id): what identifies a line across submissions."""
    ids = np.where(lines["episode_id"] != "", lines["episode_id"], lines["block_id"])
    return list(zip(lines["claim_month"].tolist(), lines["kind"].tolist(), ids.tolist()))


@dataclass(frozen=True)
class LedgerState:
    """What earlier submissions claimed, as the claim computation needs it."""

    first_month: str | None  # the first month the ledger holds a submission for
    claimed: Table  # one line per key of the months before the claim month: days and money summed
    explain: Callable[[Table, np.ndarray], list[str]] = lambda lines, claimed_before: [""] * len(lines)


NO_LEDGER = LedgerState(None, empty_lines())


@dataclass
class Claim:
    month: str
    lines: Table
    adjustments: Table
    rulebook_version: str
    load_id: int | None = None
    submission: dict | None = None  # the stored header, when this month is already submitted
    notes: list[str] = field(default_factory=list)

    def _lines(self, which: str) -> Table:
        return {"current": self.lines, "adjustments": self.adjustments,
                "all": Table.concat([self.lines, self.adjustments])}[which]

    @property
    def current_pence(self) -> int:
        return int(self.lines["amount_pence"].sum())

    @property
    def adjustments_pence(self) -> int:
        return int(self.adjustments["amount_pence"].sum())

    @property
    def total_pence(self) -> int:
        return self.current_pence + self.adjustments_pence

    def totals_by(self, column: str, which: str = "all") -> dict[str, int]:
        lines = self._lines(which)
        totals: dict[str, int] = {}
        if len(lines):
            keys, inverse = np.unique(lines[column].astype(str), return_inverse=True)
            sums = np.bincount(inverse, weights=None, minlength=len(keys)) * 0
            sums = np.zeros(len(keys), dtype=np.int64)
            np.add.at(sums, inverse, lines["amount_pence"])
            totals = {str(k): int(v) for k, v in zip(keys.tolist(), sums.tolist())}
        return totals

    def total_of_kind(self, kind: str, which: str = "current") -> int:
        lines = self._lines(which)
        return int(lines["amount_pence"][lines["kind"] == kind].sum())


def claim_lines(rows: Table, descriptions: dict[str, str]) -> Table:
    """The `hds` rows of an allocation table as claim lines."""
    rows = rows.take(rows["funder"] == "hds")
    n = len(rows)
    block = rows["block_id"] != ""
    return Table({
        "claim_month": rows["month"], "kind": np.where(block, "block", "individual").astype(object),
        "patient_id": rows["patient_id"], "discharge_id": rows["discharge_id"], "episode_id": rows["episode_id"],
        "block_id": rows["block_id"],
        "description": _objects([descriptions.get(b, "") for b in rows["block_id"].tolist()]),
        "scheme": rows["scheme"], "service": rows["service"], "organisation": rows["organisation"],
        "days": rows["days"], "amount_pence": rows["amount_pence"], "reason": _objects([""] * n),
    }, length=n)


def build_claim(source, library, month: str, ledger: LedgerState = NO_LEDGER, load_id: int | None = None) -> Claim:
    """The claim for `month` from a data source (``hds.store.StoreSource`` or ``hds.data.MemorySource``)."""
    last = month_number(month)
    first = last if ledger.first_month is None or ledger.first_month >= month else month_number(ledger.first_month)
    data = source.period(month_start(first), month_end(last))
    blocks = data.block_costs
    descriptions = dict(zip(blocks["block_id"].tolist(), blocks["description"].tolist()))
    lines = claim_lines(allocations(data, library, first, last), descriptions)
    current = lines.take(lines["claim_month"] == month)
    if first == last:
        return Claim(month, current, empty_lines(), library.version, load_id)
    recomputed = lines.take(lines["claim_month"] < month)
    return Claim(month, current, adjustments(recomputed, ledger.claimed, ledger.explain), library.version, load_id)


def adjustments(recomputed: Table, claimed: Table, explain) -> Table:
    """Recomputed minus claimed so far, for every line key of the earlier months, in key order."""
    claimed_at = {key: i for i, key in enumerate(line_keys(claimed))}
    now_keys = line_keys(recomputed)
    match = np.fromiter((claimed_at.pop(k, -1) for k in now_keys), dtype=np.int64, count=len(now_keys))
    matched = match >= 0
    claimed_days = np.where(matched, claimed["days"][np.maximum(match, 0)] if len(claimed) else 0, 0)
    claimed_pence = np.where(matched, claimed["amount_pence"][np.maximum(match, 0)] if len(claimed) else 0, 0)
    days = recomputed["days"] - claimed_days
    pence = recomputed["amount_pence"] - claimed_pence
    changed = (days != 0) | (pence != 0)
    gone = np.array(sorted(claimed_at.values()), dtype=np.int64)  # claimed, no longer recomputed
    gone = gone[(claimed["days"][gone] != 0) | (claimed["amount_pence"][gone] != 0)] if len(gone) else gone
    result = Table.concat([
        recomputed.take(changed).with_columns(days=days[changed], amount_pence=pence[changed]),
        claimed.take(gone).with_columns(days=-claimed["days"][gone], amount_pence=-claimed["amount_pence"][gone]),
    ])
    if not len(result):
        return empty_lines()
    before = np.concatenate([matched[changed], np.ones(len(gone), dtype=bool)])
    order = sorted(range(len(result)), key=line_keys(result).__getitem__)
    result, before = result.take(np.array(order, dtype=np.int64)), before[order]
    return result.with_columns(reason=_objects(explain(result.with_columns(reason=_objects([""] * len(result))),
                                                       before)))


def _objects(values) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array
