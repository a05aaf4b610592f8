"""The monthly statement between the council and the CCG (agreement 5.3, 5.5.4, 6.6).

- scheme costs the council paid, which the CCG reimburses out of the NHSE money;
- week-7 days the council paid for while the CCG was responsible (funder ccg);
- days the CCG paid for while the council was responsible (funder council).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from claims.allocate import allocations
from claims.ledger import claim_for
from hds.config import Config
from hds.days import month_end, month_number, month_start
from hds.store import Store, StoreSource
from hds.table import Table


@dataclass(frozen=True)
class RechargeItem:
    description: str
    payer: str  # "ccg" or "council": who owes this amount
    pence: int
    lines: int


@dataclass(frozen=True)
class Recharge:
    month: str
    council: str
    ccg: str
    items: list[RechargeItem]
    claim_source: str

    @property
    def ccg_owes_council(self) -> int:
        return sum(i.pence if i.payer == "ccg" else -i.pence for i in self.items)


def recharge(db: Store, library, month: str, config: Config) -> Recharge:
    config.check_partners(StoreSource(db).organisations())
    claim = claim_for(db, library, month)
    source = (f"submission {claim.submission['id']}" if claim.submission else "draft, not yet submitted")
    lines = Table.concat([claim.lines, claim.adjustments])
    scheme_lines = lines["organisation"] == config.council
    m = month_number(month)
    rows = allocations(StoreSource(db).period(month_start(m), month_end(m)), library, m, m)
    ccg_days = (rows["funder"] == "ccg") & (rows["organisation"] == config.council)
    council_days = (rows["funder"] == "council") & (rows["organisation"] == config.ccg)

    def total(table: Table, mask: np.ndarray) -> tuple[int, int]:
        return int(table["amount_pence"][mask].sum()), int(mask.sum())

    items = [
        RechargeItem(f"Scheme costs paid by {config.council} in the claim for {month} ({source})", "ccg",
                     *total(lines, scheme_lines)),
        RechargeItem(f"Days after the free period the CCG is responsible for, paid by {config.council} (4.13)", "ccg",
                     *total(rows, ccg_days)),
        RechargeItem(f"Days after the free period the council is responsible for, paid by {config.ccg} (4.13)",
                     "council", *total(rows, council_days)),
    ]
    if claim.submission:  # what NHS England did not pay is shared as reconcile splits it (5.4)
        from claims.reconcile import reconcile

        shares = [s for s in reconcile(db, month, config).schemes if s.split]
        if shares:
            items.append(RechargeItem(
                f"{config.council}'s share of NHS England's shortfall on the claim for {month} (5.4)", "council",
                sum(s.split["council"] for s in shares), len(shares)))
    return Recharge(month, config.council, config.ccg, items, source)
