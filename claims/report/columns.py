"""What every field of a report is called where people read it, and what kind of value it holds.

CSV and JSON keep the field names (they are read by programs); terminal
tables and workbooks show these headings. One definition for all of them:
a workbook's columns are `Column`s made here from FIELDS.
"""

from __future__ import annotations

from dataclasses import dataclass

# field -> (heading, kind); kind: text | money | int | date | month
FIELDS: dict[str, tuple[str, str]] = {
    "patient_id": ("Patient", "text"),
    "discharge_id": ("Discharge", "text"),
    "episode_id": ("Episode", "text"),
    "block_id": ("Block", "text"),
    "kind": ("Kind", "text"),
    "description": ("Description", "text"),
    "scheme": ("Scheme", "text"),
    "service": ("Service", "text"),
    "organisation": ("Organisation", "text"),
    "month": ("Month", "month"),
    "claim_month": ("For month", "month"),
    "funder": ("Funder", "text"),
    "days": ("Days", "int"),
    "amount": ("Amount", "money"),
    "rule": ("Rule", "text"),
    "reason": ("Reason", "text"),
    "claimed": ("Claimed", "money"),
    "received": ("Received", "money"),
    "difference": ("Difference", "money"),
    "status": ("Status", "text"),
    "council_share": ("Council's share", "money"),
    "ccg_share": ("CCG's share", "money"),
    "item": ("Item", "text"),
    "owed_by": ("Owed by", "text"),
    "owed_to": ("Owed to", "text"),
    "lines": ("Lines", "int"),
    "when": ("When", "text"),
    "cites": ("Paragraphs", "text"),
    "code": ("Code", "text"),
    "severity": ("Severity", "text"),
    "paragraph": ("Paragraph", "text"),
    "subject": ("Subject", "text"),
    "patient": ("Patient", "text"),
    "discharge": ("Discharge", "text"),
    "episode": ("Episode", "text"),
    "block": ("Block", "text"),
    "event": ("Event", "text"),
    "message": ("What it means", "text"),
    "ids": ("IDs", "text"),
    "first_day": ("From", "date"),
    "last_day": ("To", "date"),
    "paragraphs": ("Paragraphs", "text"),
    "submission_id": ("Submission", "int"),
    "submission_month": ("Submitted in", "month"),
    "service_line": ("Service line", "text"),
    "new_cost": ("New cost", "text"),
    "new": ("New", "money"),
    "individual": ("Individual or block", "text"),
    "to_date": ("To date", "money"),
    "forecast": ("Forecast", "money"),
    "outturn": ("Outturn", "money"),
    "pays_from": ("Others pay from", "date"),
    "next_funder": ("Next funder", "text"),
    "weekly_cost": ("Weekly cost", "money"),
    "outstanding": ("Outstanding", "text"),
    "known_days": ("Known days", "int"),
    "known": ("Known", "money"),
    "new_days": ("New days", "int"),
    "new_low": ("New, low", "money"),
    "new_high": ("New, high", "money"),
    "actual_days": ("Actual days", "int"),
    "actual": ("Actual", "money"),
    "error": ("Error", "money"),
    "people": ("People", "int"),
    "full_year_cost": ("Full year", "money"),
    "moving_after_as_of": ("Moving after as-of", "int"),
    "adjustments": ("Adjustments", "money"),
    "base_days": ("Base days", "int"),
    "base_amount": ("Base amount", "money"),
    "alternative_days": ("Alternative days", "int"),
    "alternative_amount": ("Alternative amount", "money"),
    "days_moved": ("Days moved", "int"),
    "amount_moved": ("Amount moved", "money"),
    "sole_days": ("Days decided alone", "int"),
    "sole_amount": ("Amount decided alone", "money"),
    "rows": ("Rows", "int"),
    "claim": ("Claim", "money"),
    "to_partners": ("To partners", "money"),
}

KINDS = ("text", "money", "int", "date", "month")


def heading(field: str) -> str:
    return FIELDS.get(field, (field.replace("_", " ").capitalize(), "text"))[0]


def kind(field: str) -> str:
    return FIELDS.get(field, ("", "text"))[1]


@dataclass(frozen=True)
class Column:
    """A column of a report as a workbook shows it: its field, heading and kind."""

    key: str
    heading: str
    kind: str  # one of KINDS


def columns(*keys: str) -> tuple[Column, ...]:
    """The columns of these fields, as FIELDS defines them."""
    return tuple(Column(k, heading(k), kind(k)) for k in keys)
