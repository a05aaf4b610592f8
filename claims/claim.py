"""The draft claim to NHS England for one month: every `hds` row, with totals."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from claims.allocation import Allocation, Allocator
from hds.records import Dataset
from rules.library import RuleLibrary

LINE_COLUMNS = [
    "kind", "patient_id", "discharge_id", "episode_id", "block_id", "description",
    "scheme", "service", "organisation", "days", "amount_pence",
]


@dataclass(frozen=True)
class Claim:
    month: str
    lines: pd.DataFrame  # LINE_COLUMNS; amounts in integer pence
    rulebook_version: str

    @property
    def total_pence(self) -> int:
        return int(self.lines["amount_pence"].sum())

    def totals_by(self, column: str) -> dict[str, int]:
        grouped = self.lines.groupby(column, sort=True)["amount_pence"].sum()
        return {str(k): int(v) for k, v in grouped.items()}

    def total_of_kind(self, kind: str) -> int:
        return int(self.lines.loc[self.lines["kind"] == kind, "amount_pence"].sum())


def build_claim(dataset: Dataset, library: RuleLibrary, month: str) -> Claim:
    allocations = Allocator(dataset, library).month_allocations(month)
    descriptions = {b.block_id: b.description for b in dataset.block_costs}
    rows = [_line(a, descriptions) for a in allocations if a.funder == "hds"]
    lines = pd.DataFrame(rows, columns=LINE_COLUMNS).astype({"days": "int64", "amount_pence": "int64"})
    return Claim(month, lines, library.version)


def _line(a: Allocation, descriptions: dict[str, str]) -> dict:
    kind = "block" if a.block_id else "individual"
    return {
        "kind": kind, "patient_id": a.patient_id, "discharge_id": a.discharge_id, "episode_id": a.episode_id,
        "block_id": a.block_id, "description": descriptions.get(a.block_id, ""), "scheme": a.scheme,
        "service": a.service, "organisation": a.organisation, "days": a.days, "amount_pence": a.amount_pence,
    }
