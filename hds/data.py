"""The dataset in columns: the contract's tables as ``Table`` values.

Column types follow the contract (``hds.contract``): dates are int64 day
numbers (a blank end date is ``NEVER``), money int64 pence, flags bool, text
an object array of str. A linked dataset has its discharges in the order
the caller wants them reported and, on episodes and events, a column ``d``:
the position of their discharge. Episodes are then in (discharge, start
date, episode id) order, which is the order of the allocation table.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields

import numpy as np

from hds.contract import CONTRACT, SPEC
from hds.days import NEVER, day_number
from hds.table import Table

DTYPES = {"date": np.int64, "money": np.int64, "flag": bool}


def dtypes(table: str) -> dict[str, object]:
    return {c.field: DTYPES.get(c.kind, object) for c in SPEC[table].columns}


def empty(table: str) -> Table:
    return Table.empty(dtypes(table))


@dataclass(frozen=True)
class Data:
    discharges: Table
    episodes: Table
    events: Table
    block_costs: Table
    receipts: Table

    @classmethod
    def empty(cls) -> "Data":
        return cls(*(empty(t.name) for t in CONTRACT))

    @classmethod
    def from_records(cls, **tables) -> "Data":
        """A dataset from row records (``hds.contract.Discharge`` ...), for scenarios and tests."""
        built = {}
        for spec in CONTRACT:
            rows = list(tables.get(spec.name, ()))
            columns = {}
            for column in spec.columns:
                values = [getattr(r, column.field) for r in rows]
                if column.kind == "date":
                    values = [NEVER if v is None else day_number(v) for v in values]
                columns[column.field] = values
            built[spec.name] = Table({n: np.asarray(v, dtype=t) if t is not object else _objects(v)
                                      for (n, t), v in zip(dtypes(spec.name).items(), columns.values())},
                                     length=len(rows))
        return cls(**built)

    def replace(self, **tables) -> "Data":
        return Data(**{f.name: tables.get(f.name, getattr(self, f.name)) for f in fields(self)})

    def linked(self, by_date: bool = False) -> "Data":
        """Discharges sorted by id (or by date then id) and episodes and events pointing at them."""
        d = self.discharges
        keys = (d["discharge_id"], d["discharge_date"]) if by_date else (d["discharge_id"],)
        d = d.take(np.lexsort(keys)) if len(d) else d
        position = dict(zip(d["discharge_id"].tolist(), range(len(d))))
        episodes = _point(self.episodes, position)
        episodes = episodes.take(np.lexsort((episodes["episode_id"], episodes["start_date"], episodes["d"])))
        events = _point(self.events, position)
        return self.replace(discharges=d, episodes=episodes, events=events)

    def for_period(self, first: int, last: int) -> "Data":
        """The episodes with a day in first..last, their discharges and those discharges' events."""
        e = self.episodes
        return self._for_episodes(e.take((e["start_date"] <= last) & (e["end_date"] >= first)))

    def known_on(self, day: int) -> "Data":
        """The dataset as it was known on `day` (a day number), unlinked: discharges dated on or before
        it; their episodes started on or before it, an end date after it not yet known (open); their
        events dated on or before it; block costs started and receipts received on or before it."""
        d = self.discharges
        kept = d["discharge_date"] <= day
        e, v = self.episodes, self.events
        e = e.take((e["start_date"] <= day) & _follows(e, kept, d))
        e = e.with_columns(end_date=np.where(e["end_date"] > day, NEVER, e["end_date"]))
        v = v.take((v["date"] <= day) & _follows(v, kept, d))
        b, r = self.block_costs, self.receipts
        return Data(d.take(kept), e, v, b.take(b["start_date"] <= day), r.take(r["received_date"] <= day))

    def for_patient(self, patient_id: str) -> "Data":
        d = self.discharges
        discharges = d.take(d["patient_id"] == patient_id)
        ids = set(discharges["discharge_id"].tolist())
        return self.replace(discharges=discharges,
                            episodes=self.episodes.take(_member(self.episodes["discharge_id"], ids)),
                            events=self.events.take(_member(self.events["discharge_id"], ids)))

    def _for_episodes(self, episodes: Table) -> "Data":
        ids = set(episodes["discharge_id"].tolist())
        return self.replace(discharges=self.discharges.take(_member(self.discharges["discharge_id"], ids)),
                            episodes=episodes, events=self.events.take(_member(self.events["discharge_id"], ids)))


def _objects(values) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _member(values: np.ndarray, wanted: set) -> np.ndarray:
    return np.fromiter((v in wanted for v in values.tolist()), dtype=bool, count=len(values))


def _follows(table: Table, kept: np.ndarray, discharges: Table) -> np.ndarray:
    """Which rows of episodes or events follow a kept discharge (by the link `d` when there is one)."""
    if "d" in table:
        return kept[table["d"]]
    return _member(table["discharge_id"], set(discharges["discharge_id"][kept].tolist()))


def _point(table: Table, position: dict) -> Table:
    d = np.fromiter(map(position.get, table["discharge_id"].tolist(), itertools.repeat(-1)), dtype=np.int64,
                    count=len(table))
    if (d < 0).any():
        missing = table["discharge_id"][d < 0][0]
        raise ValueError(f"internal error: a row follows discharge {missing!r}, which is not in the dataset")
    return table.with_columns(d=d)


class MemorySource:
    """A dataset held in memory (read straight from files with --data), offering what commands read."""

    load_id = None

    def __init__(self, data: Data):
        self.data = data

    def period(self, first: int, last: int) -> Data:
        return self.data.for_period(first, last).linked()

    def patient(self, patient_id: str) -> Data:
        return self.data.for_patient(patient_id).linked(by_date=True)

    def patients_with_nhs_number(self, nhs_number: str) -> list[str]:
        d = self.data.discharges
        return sorted(set(d["patient_id"][d["nhs_number"] == nhs_number].tolist()))

    def everything(self) -> Data:
        return self.data

    def block_costs(self) -> Table:
        return self.data.block_costs

    def receipts(self) -> Table:
        return self.data.receipts

    def first_day(self) -> int:
        return int(self.data.discharges["discharge_date"].min())

    def discharged_by(self, day: int) -> bool:
        """Whether a discharge is dated `day` or before (first_day() <= day)."""
        return bool((self.data.discharges["discharge_date"] <= day).any())

    def latest_day(self) -> int:
        e, d, v = self.data.episodes, self.data.discharges, self.data.events
        ends = e["end_date"][e["end_date"] != NEVER]
        days = [a.max() for a in (d["discharge_date"], e["start_date"], ends, v["date"]) if len(a)]
        return int(max(days))
