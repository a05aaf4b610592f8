"""The monthly statement between the council and the CCG (agreement 5.3, 5.5.4, 6.6).

- scheme costs the council paid, which the CCG reimburses out of the NHSE money;
- week-7 days the council paid for while the CCG was responsible (funder ccg);
- days the CCG paid for while the council was responsible (funder council).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from claims.figures import month_totals
from claims.ledger import claim_for
from hds.config import Config
from hds.store import Store, StoreSource
from hds.table import Table


# The parts of the statement and who owes each: the one place the net's signs are set.
OWED_BY = {
    "scheme_costs": "ccg",  # scheme costs the council paid, reimbursed out of the NHSE money (5.3)
    "ccg_days": "ccg",  # days after the free period the CCG is responsible for, paid by the council (4.13)
    "council_days": "council",  # days after the free period the council is responsible for, paid by the CCG (4.13)
    "shortfall": "council",  # the council's share of what NHS England did not pay (5.4)
}


def net_owed_by_ccg(pence_by_part: dict[str, int]) -> int:
    """What the CCG owes the council for these parts of a statement (negative: the council owes the CCG)."""
    return sum(pence if OWED_BY[part] == "ccg" else -pence for part, pence in pence_by_part.items())


@dataclass(frozen=True)
class RechargeItem:
    description: str
    payer: str  # "ccg" or "council": who owes this amount
    pence: int
    lines: int
    part: str = ""  # the key of OWED_BY


@dataclass(frozen=True)
class Recharge:
    month: str
    council: str
    ccg: str
    items: list[RechargeItem]
    claim_source: str

    @property
    def ccg_owes_council(self) -> int:
        return net_owed_by_ccg({i.part: i.pence for i in self.items})


def recharge(db: Store, library, month: str, config: Config, claim=None, reconciliation=None) -> Recharge:
    """The statement for `month`. `claim` (the month's claim, as ``claims.ledger.claim_for`` gives it)
    and `reconciliation` are reused when the caller has them already, so a month-end pack computes
    each once."""
    config.check_partners(StoreSource(db).organisations())
    claim = claim if claim is not None else claim_for(db, library, month)
    source = (f"submission {claim.submission['id']}" if claim.submission else "draft, not yet submitted")
    lines = Table.concat([claim.lines, claim.adjustments])
    scheme_lines = lines["organisation"] == config.council
    rows = claim.allocation
    if rows is None:  # a stored claim: the month's days as the data stands now, summed once at the load
        rows = month_totals(StoreSource(db), library, month, month)
    ccg_days = (rows["funder"] == "ccg") & (rows["organisation"] == config.council)
    council_days = (rows["funder"] == "council") & (rows["organisation"] == config.ccg)

    def item(part: str, description: str, table: Table, mask: np.ndarray) -> RechargeItem:
        lines = int(table["rows"][mask].sum()) if "rows" in table else int(mask.sum())
        return RechargeItem(description, OWED_BY[part], int(table["amount_pence"][mask].sum()), lines, part)

    items = [
        item("scheme_costs", f"Scheme costs paid by {config.council} in the claim for {month} ({source})",
             lines, scheme_lines),
        item("ccg_days", f"Days after the free period the CCG is responsible for, paid by {config.council} (4.13)",
             rows, ccg_days),
        item("council_days", f"Days after the free period the council is responsible for, paid by {config.ccg} "
             "(4.13)", rows, council_days),
    ]
    if claim.submission:  # what NHS England did not pay is shared as reconcile splits it (5.4)
        from claims.reconcile import reconcile

        rec = reconciliation if reconciliation is not None else reconcile(db, month, config)
        shares = [s for s in rec.schemes if s.split]
        if shares:
            items.append(RechargeItem(
                f"{config.council}'s share of NHS England's shortfall on the claim for {month} (5.4)", "council",
                sum(s.split["council"] for s in shares), len(shares), "shortfall"))
    return Recharge(month, config.council, config.ccg, items, source)
