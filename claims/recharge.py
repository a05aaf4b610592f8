"""The monthly statement between the council and the CCG (agreement 5.3, 5.5.4, 6.6).

- scheme costs the council paid, which the CCG reimburses out of the NHSE money;
- week-7 days the council paid for while the CCG was responsible (funder ccg);
- days the CCG paid for while the council was responsible (funder council).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from claims.allocation import Allocator
from claims.ledger import claim_for
from hds.config import Config
from hds.store import read_dataset
from rules.library import RuleLibrary


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


def recharge(db: sqlite_utils.Database, library: RuleLibrary, month: str, config: Config) -> Recharge:
    claim = claim_for(db, library, month)
    source = (f"submission {claim.submission['id']}" if claim.submission else "draft, not yet submitted")
    scheme_lines = [line for line in claim.lines + claim.adjustments if line.organisation == config.council]
    rows = Allocator(read_dataset(db), library).month_allocations(month)
    ccg_days = [r for r in rows if r.funder == "ccg" and r.organisation == config.council]
    council_days = [r for r in rows if r.funder == "council" and r.organisation == config.ccg]
    items = [
        RechargeItem(f"Scheme costs paid by {config.council} in the claim for {month} ({source})", "ccg",
                     sum(line.amount_pence for line in scheme_lines), len(scheme_lines)),
        RechargeItem(f"Week-7 days the CCG is responsible for, paid by {config.council} (4.13)", "ccg",
                     sum(r.amount_pence for r in ccg_days), len(ccg_days)),
        RechargeItem(f"Week-7 days the council is responsible for, paid by {config.ccg} (4.13)", "council",
                     sum(r.amount_pence for r in council_days), len(council_days)),
    ]
    return Recharge(month, config.council, config.ccg, items, source)
