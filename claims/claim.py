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
from typing import TYPE_CHECKING

import numpy as np

from claims.allocate import allocations
from hds.month import Month
from hds.table import Table

if TYPE_CHECKING:
    from claims.ledger.state import LedgerState

LINE_FIELDS = ["claim_month", "kind", "patient_id", "discharge_id", "episode_id", "block_id", "description",
               "scheme", "service", "organisation", "days", "amount_pence", "reason"]
LINE_TYPES = {"days": np.int64, "amount_pence": np.int64}


def empty_lines() -> Table:
    return Table.empty({f: LINE_TYPES.get(f, object) for f in LINE_FIELDS})


def line_keys(lines: Table) -> list[tuple[str, str, str]]:
    """(claim month, kind, episode or block id): what identifies a line across submissions."""
    ids = np.where(lines["episode_id"] != "", lines["episode_id"], lines["block_id"])
    return list(zip(lines["claim_month"].tolist(), lines["kind"].tolist(), ids.tolist()))


class NoLedger:
    """What earlier submissions claimed when there are none (files, or a store before its first
    submission): nothing. ``claims.ledger.state.LedgerState`` is the state of a ledger that holds
    submissions; both offer these attributes and methods to the claim computation."""

    first_month: str | None = None  # the first month the ledger holds a submission for
    settled: tuple[str, int, str] | None = None  # the last submission's (month, load, rulebook version)

    def claimed(self, touched: list[str] | None) -> Table:
        """Per key of earlier months: days and money summed, and `first` (the row id of its first line)."""
        return Table.empty({"claim_month": object, "kind": object, "episode_id": object, "block_id": object,
                            "days": np.int64, "amount_pence": np.int64, "first": np.int64})

    def explain(self, lines: Table, claimed_before: np.ndarray) -> list[str]:
        return [""] * len(lines)

    def template(self, firsts: np.ndarray) -> Table:
        """Whole lines by their `first`."""
        return empty_lines()


NO_LEDGER = NoLedger()


@dataclass
class Claim:
    month: str
    lines: Table
    adjustments: Table
    rulebook_version: str
    load_id: int | None = None
    submission: dict | None = None  # the stored header, when this month is already submitted
    notes: list[str] = field(default_factory=list)
    carried_in: tuple[int, str] | None = None  # a month skipped over: the submission that claimed it
    carrier: dict | None = None  # that submission's header
    computed: Table | None = None  # the allocation rows (every funder) this claim was computed from, if it was
    first_submitted: str | None = None  # the ledger's first submitted month: a month before it is not claimed

    @property
    def allocation(self) -> Table | None:
        """The month's own allocation rows, every funder, when this claim computed them (the recharge
        reuses them); filtered only when asked, so a plain claim pays nothing for it."""
        if self.computed is None:
            return None
        return self.computed.take(self.computed["month"] == self.month)

    @property
    def status(self) -> str:
        """submitted, carried (claimed later, as adjustments), not claimed (before the first submitted
        month: hds never claims it) or draft."""
        if self.submission:
            return "submitted"
        if self.carried_in:
            return "carried"
        return "not claimed" if self.first_submitted is not None and self.month < self.first_submitted else "draft"

    def _lines(self, which: str) -> Table:
        if which == "all":
            return Table.concat([self.lines, self.adjustments]) if len(self.adjustments) else self.lines
        return {"current": self.lines, "adjustments": self.adjustments}[which]

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
        """Money by each value of `column` (as text), values in order."""
        lines = self._lines(which)
        keys = list(map(str, lines[column].tolist()))
        distinct = sorted(set(keys))
        code = {key: i for i, key in enumerate(distinct)}
        sums = np.zeros(len(distinct), dtype=np.int64)
        np.add.at(sums, np.fromiter(map(code.__getitem__, keys), np.int64, len(keys)), lines["amount_pence"])
        return dict(zip(distinct, sums.tolist()))

    def total_of_kind(self, kind: str, which: str = "current") -> int:
        lines = self._lines(which)
        return int(lines["amount_pence"][lines["kind"] == kind].sum())


def claim_lines(rows: Table, descriptions: dict[str, str]) -> Table:
    """The `hds` rows of an allocation table as claim lines."""
    rows = rows.take(rows["funder"] == "hds")
    n = len(rows)
    block = rows["block_id"] != ""
    return Table({
        "claim_month": rows["month"], "kind": _objects(["individual", "block"])[block.view(np.int8)],
        "patient_id": rows["patient_id"], "discharge_id": rows["discharge_id"], "episode_id": rows["episode_id"],
        "block_id": rows["block_id"],
        "description": _descriptions(rows["block_id"], block, descriptions),
        "scheme": rows["scheme"], "service": rows["service"], "organisation": rows["organisation"],
        "days": rows["days"], "amount_pence": rows["amount_pence"], "reason": _objects([""] * n),
    }, length=n)


def _descriptions(block_ids: np.ndarray, block: np.ndarray, descriptions: dict[str, str]) -> np.ndarray:
    """Each line's block cost's description ("" for a person's line)."""
    found = _objects([""] * len(block_ids))
    found[block] = [descriptions.get(b, "") for b in block_ids[block].tolist()]
    return found


def build_claim(source, library, month: str, ledger: LedgerState | NoLedger = NO_LEDGER, load_id: int | None = None,
                with_care=None, keep=None) -> Claim:
    """The claim for `month` from a data source (``hds.store.StoreSource`` or ``hds.data.MemorySource``).
    `with_care`: a function giving the discharges with care in the month with all their episodes and
    events, linked, with the block costs (read already for the checks, ``claims.checks.Stored``); the
    claim takes them in place of reading the month when the month is all it reads (no earlier month
    to recompute): their other episodes have no day in it, and each episode is decided by its own
    discharge's facts, so the claim is the same. `keep` is then given what it decided, and the day it
    decided to (``claims.allocate.allocations``), for the checks of the same discharges."""
    month = Month(month)
    first = month if ledger.first_month is None or ledger.first_month >= month else Month(ledger.first_month)
    touched = _touched(source, library, ledger, month)
    alone = first == month if touched is None else (not touched and Month(ledger.settled[0]).next() == month)
    shared = with_care is not None and alone
    keep = keep if shared else None  # only what is decided of the checks' own discharges is theirs
    if shared:
        data = with_care()
    elif touched is None:  # recompute every earlier month in full
        data = source.period(first.first_day, month.last_day)
    else:  # the months after the settled one in full; the settled ones for the touched discharges
        settled = Month(ledger.settled[0])
        data = source.period(settled.next().first_day, month.last_day,
                             also=(touched, first.first_day, settled.last_day))
    blocks = data.block_costs
    descriptions = dict(zip(blocks["block_id"].tolist(), blocks["description"].tolist()))
    rows = allocations(data, library, first.number, month.number, keep)
    lines = claim_lines(rows, descriptions)
    in_month = lines["claim_month"] == month
    current = lines if in_month.all() else lines.take(in_month)
    if first == month:
        return Claim(month, current, empty_lines(), library.version, load_id, computed=rows)
    earlier = lines["claim_month"] < month
    if touched is not None:  # of the settled months, only the touched discharges' lines and the block costs
        unsettled = lines["claim_month"] > ledger.settled[0]
        earlier &= unsettled | (lines["kind"] == "block") | _member(lines["discharge_id"], set(touched))
    return Claim(month, current, adjustments(lines.take(earlier), ledger.claimed(touched), ledger), library.version,
                 load_id, computed=rows)


def _touched(source, library, ledger: LedgerState | NoLedger, month: str) -> list[str] | None:
    """The discharges to recompute in the settled months, or None to recompute all of them."""
    if ledger.settled is None or not hasattr(source, "touched_since"):
        return None
    settled_month, settled_load, rulebook = ledger.settled
    if rulebook != library.version or settled_month >= month:
        return None
    return source.touched_since(settled_load)


def _member(values: np.ndarray, wanted: set) -> np.ndarray:
    return np.fromiter((v in wanted for v in values.tolist()), dtype=bool, count=len(values))


def adjustments(recomputed: Table, claimed: Table, ledger: LedgerState | NoLedger) -> Table:
    """Recomputed minus claimed so far, for every line key of the earlier months, in key order."""
    explain = ledger.explain
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
        ledger.template(claimed["first"][gone]).with_columns(days=-claimed["days"][gone],
                                                             amount_pence=-claimed["amount_pence"][gone]),
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
