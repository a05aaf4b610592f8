"""The input records, small and immutable. Money is integer pence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SERVICES = (
    "interim_bed", "residential", "nursing", "home_care", "live_in",
    "reablement", "isolation", "one_to_one", "other",
)
DISCHARGE_KINDS = ("hospital", "admission_avoidance")
EVENT_KINDS = ("care_act_assessment", "chc_checklist", "chc_decision", "self_funder_charge_from", "death")
OUTCOMES = {"chc_checklist": ("positive", "negative"), "chc_decision": ("chc", "fnc", "not_eligible")}
SCHEME_NAMES = ("HDS1", "HDS2", "HDS3", "HDS4")


@dataclass(frozen=True)
class Discharge:
    discharge_id: str
    patient_id: str
    discharge_date: dt.date
    kind: str = "hospital"
    nhs_number: str = ""


@dataclass(frozen=True)
class Episode:
    episode_id: str
    discharge_id: str
    service: str
    start_date: dt.date
    end_date: dt.date | None
    weekly_pence: int
    organisation: str
    restart: bool = False
    bau_commissioned: bool = False


@dataclass(frozen=True)
class Event:
    event_id: str
    discharge_id: str
    event: str
    date: dt.date
    outcome: str = ""


@dataclass(frozen=True)
class BlockCost:
    block_id: str
    description: str
    scheme: str
    organisation: str
    start_date: dt.date
    end_date: dt.date
    amount_pence: int


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    claim_month: str
    scheme: str
    amount_pence: int
    received_date: dt.date


@dataclass(frozen=True)
class Dataset:
    discharges: tuple[Discharge, ...] = ()
    episodes: tuple[Episode, ...] = ()
    events: tuple[Event, ...] = ()
    block_costs: tuple[BlockCost, ...] = ()
    receipts: tuple[Receipt, ...] = ()
    extras: dict = field(default_factory=dict, compare=False)  # table -> {id: {column: value}}
