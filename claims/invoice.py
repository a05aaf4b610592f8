"""The invoice for a month's recharge (agreement 5.3): from the partner owed to the partner owing.

Its lines are the parts of the recharge (``claims.recharge``): the scheme costs the council paid in
the month's claim, the corrections of earlier months that claim carries (its adjustments), the days
after the free period one partner paid for the other, and the council's share of a shortfall (5.4).
Its total is the recharge's net to the penny. When the recharge of a month already invoiced has
changed since (days recomputed, a shortfall once NHS England paid), the next invoice carries the
difference as a line of its own: an issued invoice is never changed or issued again.

Before it is issued an invoice is a draft, numbered DRAFT-<month>; `issue_invoice` stores it in the
ledger (``claims.ledger.invoices``), numbered in sequence after hds.toml's [invoice] prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claims.recharge import OWED_BY, Recharge, recharge
from hds.config import Config


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    address: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    pence: int  # owed by the invoice's `to` partner; negative: a credit to it
    for_month: str  # the month whose recharge this money belongs to
    part: str  # a key of claims.recharge.OWED_BY, "scheme_adjustments", or "change" (since an earlier invoice)


@dataclass(frozen=True)
class Invoice:
    number: str
    month: str
    issued: str | None  # ISO date of issue; None for a draft
    owed_by: str  # "ccg" or "council": the role of the partner it is addressed to
    from_party: Party
    to_party: Party
    lines: tuple[InvoiceLine, ...]
    source: str = ""  # what it states: "submission 3", or a draft claim

    @property
    def total_pence(self) -> int:
        return sum(line.pence for line in self.lines)

    @property
    def draft(self) -> bool:
        return self.issued is None


def parties(config: Config) -> dict[str, Party]:
    """The partners by role, with their names and addresses from hds.toml."""
    return {"council": Party(config.council, config.council_label, config.council_address),
            "ccg": Party(config.ccg, config.ccg_label, config.ccg_address)}


def draft_number(month: str) -> str:
    return f"DRAFT-{month}"


def invoice(store, library, month: str, config: Config, claim=None, reconciliation=None,
            statement: Recharge | None = None) -> Invoice:
    """The month's invoice: the one issued, or the draft as the data stands. `claim`, `reconciliation`
    and the recharge `statement` are reused when the caller has them (the month-end pack)."""
    from claims.ledger.invoices import invoice_of

    stored = invoice_of(store, month)
    if stored is not None:
        return stored_invoice(stored, config)
    parts = _parts(store, library, month, config, claim, reconciliation, statement)
    return _invoice(draft_number(month), month, None, parts, config)


def issue_invoice(store, library, month: str, config: Config, anchor: Path | None) -> Invoice:
    """Compute the month's invoice under the ledger's write lock and store it, numbered in sequence."""
    from claims.ledger.invoices import issue

    def build() -> dict:
        drafted = _invoice("", month, None, _parts(store, library, month, config), config)
        return {"from_partner": drafted.from_party.code, "to_partner": drafted.to_party.code,
                "owed_by": drafted.owed_by,
                "lines": [(line.for_month, line.part, line.description, line.pence) for line in drafted.lines]}

    return stored_invoice(issue(store, month, config.invoice_prefix, build, anchor), config)


def stored_invoice(stored: dict, config: Config) -> Invoice:
    """An issued invoice as the ledger holds it (names and addresses as hds.toml gives them now)."""
    by_code = {p.code: p for p in parties(config).values()}
    lines = tuple(InvoiceLine(r["description"], r["amount_pence"], r["for_month"], r["part"]) for r in stored["lines"])
    return Invoice(stored["number"], stored["month"], stored["issued_at"][:10], stored["owed_by"],
                   by_code.get(stored["from_partner"], Party(stored["from_partner"], stored["from_partner"])),
                   by_code.get(stored["to_partner"], Party(stored["to_partner"], stored["to_partner"])), lines,
                   f"submission {stored['submission_id']}")


def _invoice(number: str, month: str, issued: str | None, parts: tuple[list, str], config: Config) -> Invoice:
    """`parts` (description, pence the CCG owes the council, for month, part) made into an invoice from
    the partner owed to the partner owing; lines of nothing are left out (one is kept when all are)."""
    items, source = parts
    owed_by = "ccg" if sum(item[1] for item in items) >= 0 else "council"
    sign = 1 if owed_by == "ccg" else -1
    lines = [InvoiceLine(text, sign * pence, for_month, part) for text, pence, for_month, part in items]
    lines = [line for line in lines if line.pence] or lines[:1]
    who = parties(config)
    owed = "council" if owed_by == "ccg" else "ccg"
    return Invoice(number, month, issued, owed_by, who[owed], who[owed_by], tuple(lines), source)


def _parts(store, library, month: str, config: Config, claim=None, reconciliation=None,
           statement: Recharge | None = None) -> tuple[list, str]:
    """The month's recharge, part by part, and the changes since earlier invoices: (description, pence
    the CCG owes the council, for month, part), and what the recharge states."""
    from claims.ledger import claim_for

    claim = claim if claim is not None else claim_for(store, library, month)
    rc = statement or recharge(store, library, month, config, claim=claim, reconciliation=reconciliation)
    return recharge_parts(rc, claim, config) + changes_since_invoiced(store, library, month, config), rc.claim_source


def recharge_parts(rc: Recharge, claim, config: Config) -> list[tuple]:
    """Each part of a recharge as invoice items; the scheme costs split into the month's own and the
    corrections of earlier months its claim carries."""
    items = []
    for item in rc.items:
        signed = item.pence if OWED_BY[item.part] == "ccg" else -item.pence
        if item.part != "scheme_costs":
            items.append((item.description, signed, rc.month, item.part))
            continue
        own = int(claim.lines["amount_pence"][claim.lines["organisation"] == config.council].sum())
        items.append((f"Scheme costs paid by {config.council} for care in {rc.month}, in the claim to NHS England "
                      f"({rc.claim_source}) (5.3)", own, rc.month, "scheme_costs"))
        items.append((f"Corrections of earlier months' scheme costs paid by {config.council}, carried as adjustments "
                      f"in the claim for {rc.month} (6.5)", signed - own, rc.month, "scheme_adjustments"))
    return items


def changes_since_invoiced(store, library, month: str, config: Config) -> list[tuple]:
    """For each other month already invoiced whose recharge, as the data stands, differs from what the
    invoices so far carried for it: the difference, as an item of its own."""
    from claims.ledger.invoices import invoiced_by_month, invoices

    so_far = {m: pence for m, pence in invoiced_by_month(store).items() if m != month}
    if not so_far:
        return []
    now = recharge_nets(store, library, sorted(so_far), config)
    numbers = {h["month"]: (h["number"], h["issued_at"][:10]) for h in invoices(store)}
    items = []
    for earlier, invoiced in so_far.items():
        if now[earlier] != invoiced:
            number, issued = numbers.get(earlier, ("", ""))
            items.append((f"Change to the recharge for {earlier} since invoice {number} of {issued}: the days "
                          "after the free period or the shortfall as they now stand", now[earlier] - invoiced,
                          earlier, "change"))
    return items


def recharge_nets(store, library, months: list[str], config: Config) -> dict[str, int]:
    """What the CCG owes the council for each of some submitted months, as `hds recharge` states it now,
    from one overview of their span."""
    from claims.overview import overview, recharge_net
    from hds.store import StoreSource

    ov = overview(StoreSource(store), library, months[0], months[-1], store, config, event_days=False)
    wanted = set(months)
    return {m.month: recharge_net(m, config) for m in ov.months if m.month in wanted}
