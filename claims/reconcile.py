"""Reconcile what was claimed with what NHS England paid (agreement 5.2, 5.4).

Per scheme, the submission for a month is compared with the receipts for
that claim month: matched, under-paid, over-paid or awaiting. A shortfall is
split between the partners (5.4): by default in proportion to the costs
each organisation incurred in that claim, or by a fixed share from hds.toml.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from claims.ledger import stored_claim, submission_of
from claims.ledger.read import submitted_up_to
from hds.config import Config
from hds.errors import HdsError
from hds.money import divide_half_up
from hds.store import Store, StoreSource
from hds.table import Table


@dataclass(frozen=True)
class SchemeLine:
    scheme: str
    claimed_pence: int
    received_pence: int
    status: str
    split: dict  # partner -> pence of the shortfall


@dataclass(frozen=True)
class Position:
    month: str
    claimed_pence: int
    received_pence: int
    status: str


@dataclass(frozen=True)
class Reconciliation:
    month: str
    submission_id: int
    schemes: list[SchemeLine]
    running: list[Position]
    split_rule: str


def status_of(claimed: int, received: int, any_receipt: bool) -> str:
    if not any_receipt:
        return "awaiting"
    if received == claimed:
        return "matched"
    return "under-paid" if received < claimed else "over-paid"


def reconcile(db: Store, month: str, config: Config) -> Reconciliation:
    header = submission_of(db, month)
    if not header:
        raise HdsError(f"{month} has not been submitted; reconcile compares a submission with the money received "
                       f"(run 'hds submit --month {month}' first)")
    if config.has_partners:  # without them the shortfall is shown, not split
        config.check_partners(StoreSource(db).organisations())
    receipts = StoreSource(db).receipts()
    received, has_receipt = defaultdict(int), set()
    for claim_month, scheme, pence in receipts.rows(["claim_month", "scheme", "amount_pence"]):
        received[(claim_month, scheme)] += pence
        has_receipt.add(claim_month)
    claim = stored_claim(db, header["id"])
    by_scheme_org = defaultdict(lambda: defaultdict(int))
    for scheme, organisation, pence in Table.concat([claim.lines, claim.adjustments]).rows(
            ["scheme", "organisation", "amount_pence"]):
        by_scheme_org[scheme][organisation] += pence
    schemes = []
    for scheme in sorted(set(by_scheme_org) | {s for (m, s) in received if m == month}):
        claimed = sum(by_scheme_org[scheme].values())
        got = received[(month, scheme)]
        status = status_of(claimed, got, month in has_receipt)
        split = split_shortfall(claimed - got, by_scheme_org[scheme], config) if status == "under-paid" else {}
        schemes.append(SchemeLine(scheme, claimed, got, status, split))
    running = []
    for sub in submitted_up_to(db, month):
        got = sum(v for (m, _), v in received.items() if m == sub["month"])
        running.append(Position(sub["month"], sub["total_pence"], got,
                                status_of(sub["total_pence"], got, sub["month"] in has_receipt)))
    rule = ("in proportion to the costs each organisation incurred in the claim" if config.shortfall_split == "cost_share"
            else f"fixed: council {config.council_share}, CCG {1 - config.council_share}")
    if config.shortfall_split == "cost_share" and not config.has_partners:
        rule = "only once hds.toml names the [partners] (it names none, so the council's costs are not known)"
    return Reconciliation(month, header["id"], schemes, running, rule)


def split_shortfall(shortfall: int, costs_by_org: dict[str, int], config: Config) -> dict[str, int]:
    """Pence of the shortfall each partner bears; the CCG's share takes the rounding remainder. In
    proportion to costs, it needs the partners: without them, nothing is split."""
    if config.shortfall_split == "fixed":
        council = int((config.council_share * shortfall).to_integral_value(rounding="ROUND_HALF_UP"))
        return {"council": council, "ccg": shortfall - council}
    if not config.has_partners:
        return {}
    council_costs = costs_by_org.get(config.council, 0)
    total = sum(costs_by_org.values())
    council = divide_half_up(shortfall * council_costs, total) if total > 0 else 0
    return {"council": council, "ccg": shortfall - council}
