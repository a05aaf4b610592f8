"""The data contract: every input table and column, defined once.

Loading (what is accepted and the messages), the store's schema, the
columnar dataset's types and the row records all derive from ``CONTRACT``.
A column's ``kind`` says how a cell is read:

- ``id``: text that identifies something; no control characters;
- ``text``: free text;
- ``choice``: one of ``choices``;
- ``scheme``: the name of a scheme defined by the rulebooks;
- ``date``: YYYY-MM-DD or DD/MM/YYYY, or an Excel date cell;
- ``month``: YYYY-MM;
- ``money``: pounds with at most two decimals, kept as integer pence in
  the field ``<name>_pence`` (``weekly_cost`` is kept as ``weekly_pence``);
- ``flag``: true/false, yes/no, y/n, 1/0; blank is false;
- ``nhs_number``: ten digits passing the modulus 11 check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

SERVICES = ("interim_bed", "residential", "nursing", "home_care", "live_in",
            "reablement", "isolation", "one_to_one", "other")
SERVICE_NAMES = {"interim_bed": "Interim bed", "residential": "Residential care", "nursing": "Nursing care",
                 "home_care": "Home care", "live_in": "Live-in care", "reablement": "Reablement",
                 "isolation": "Isolation care", "one_to_one": "One-to-one care", "other": "Other care"}
DISCHARGE_KINDS = ("hospital", "admission_avoidance")
EVENT_KINDS = ("care_act_assessment", "chc_checklist", "chc_decision", "self_funder_charge_from", "death")
OUTCOMES = {"chc_checklist": ("positive", "negative"), "chc_decision": ("chc", "fnc", "not_eligible")}


@dataclass(frozen=True)
class Column:
    name: str  # the heading in the input file
    kind: str
    required: bool
    meaning: str
    choices: tuple[str, ...] = ()
    default: object = None  # value of a blank optional cell (None: blank)
    coded: bool = False  # holds codes that an extract may write as its own labels (hds.mapping)

    @property
    def field(self) -> str:
        """The name in the store and in the columnar dataset."""
        if self.kind == "money":
            return {"weekly_cost": "weekly_pence"}.get(self.name, f"{self.name}_pence")
        return self.name


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: str
    required: bool  # must be in a first load
    meaning: str
    columns: tuple[Column, ...]

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name or c.field == name)


CONTRACT: tuple[TableSpec, ...] = (
    TableSpec("discharges", "discharge_id", True, "one row per hospital discharge or avoided admission", (
        Column("discharge_id", "id", True, "unique id of the discharge"),
        Column("patient_id", "id", True, "pseudonymous id of the person"),
        Column("discharge_date", "date", True, "day of discharge, or of the A&E attendance when admission was avoided"),
        Column("kind", "choice", False, "hospital discharge or avoided admission (4.9)", DISCHARGE_KINDS, "hospital",
               coded=True),
        Column("nhs_number", "nhs_number", False, "the person's NHS number", default=""),
    )),
    TableSpec("episodes", "episode_id", True, "one row per line of care after a discharge", (
        Column("episode_id", "id", True, "unique id of the episode"),
        Column("discharge_id", "id", True, "the discharge it follows"),
        Column("service", "choice", True, "the kind of care", SERVICES, coded=True),
        Column("start_date", "date", True, "first day of care"),
        Column("end_date", "date", False, "last day of care; blank while it is still running"),
        Column("weekly_cost", "money", True, "cost per week"),
        Column("organisation", "id", True, "code of the organisation that pays the provider, e.g. the council's",
               coded=True),
        Column("restart", "flag", False, "the person's existing package restarting (4.8)", default=False, coded=True),
        Column("bau_commissioned", "flag", False, "normal commissioned activity (1.6)", default=False, coded=True),
    )),
    TableSpec("events", "event_id", False, "assessments and other dated facts of a discharge", (
        Column("event_id", "id", True, "unique id of the event"),
        Column("discharge_id", "id", True, "the discharge it belongs to"),
        Column("event", "choice", True, "what happened", EVENT_KINDS, coded=True),
        Column("date", "date", True, "when it happened"),
        Column("outcome", "text", False, "checklist positive/negative; decision chc/fnc/not_eligible",
               tuple(dict.fromkeys(o for outcomes in OUTCOMES.values() for o in outcomes)), "", coded=True),
    )),
    TableSpec("block_costs", "block_id", False, "costs of beds not attributable to a person (2.1, 4.12)", (
        Column("block_id", "id", True, "unique id of the block cost"),
        Column("description", "text", True, "what was bought, e.g. 18 designated beds, 12 weeks"),
        Column("scheme", "scheme", True, "the scheme that pays for it", coded=True),
        Column("organisation", "id", True, "code of the organisation that incurred it", coded=True),
        Column("start_date", "date", True, "first day covered"),
        Column("end_date", "date", True, "last day covered"),
        Column("amount", "money", True, "total cost of the period"),
    )),
    TableSpec("receipts", "receipt_id", False, "money received from NHS England, for reconciliation", (
        Column("receipt_id", "id", True, "unique id of the receipt"),
        Column("claim_month", "month", True, "the claim month being paid, YYYY-MM"),
        Column("scheme", "scheme", True, "the scheme paid for", coded=True),
        Column("amount", "money", True, "amount received"),
        Column("received_date", "date", True, "day the money arrived"),
    )),
)
SPEC: dict[str, TableSpec] = {t.name: t for t in CONTRACT}

_PYTHON_TYPES = {"date": dt.date, "money": int, "flag": bool}


def _record_type(spec: TableSpec) -> type:
    """A small immutable row type for a table (used where rows are built one at a time:
    scenarios, tests, the trace)."""
    fields = []
    trailing = True  # only optional columns after the last required one get a default
    for column in reversed(spec.columns):
        kind = _PYTHON_TYPES.get(column.kind, str)
        if column.kind == "date" and not column.required:
            kind = dt.date | None
        trailing = trailing and not column.required
        if trailing:
            fields.append((column.field, kind, dataclasses.field(default=column.default)))
        else:
            fields.append((column.field, kind))
    fields.reverse()
    name = next(n for n, table in _RECORD_NAMES.items() if table == spec.name)
    record = dataclasses.make_dataclass(name, fields, frozen=True)
    record.__module__ = __name__
    return record


_RECORD_NAMES = {"Discharge": "discharges", "Episode": "episodes", "Event": "events",
                 "BlockCost": "block_costs", "Receipt": "receipts"}


def __getattr__(name: str):
    """The row types (Discharge, Episode, ...), made on first use: most commands never need them."""
    if name in _RECORD_NAMES:
        record = globals()[name] = _record_type(SPEC[_RECORD_NAMES[name]])
        return record
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
