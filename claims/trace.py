"""The audit trace of one patient: why each day was, or was not, claimed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from claims.allocation import Allocator, DischargeDecision, episode_allocations
from hds.dates import month_last_day
from hds.errors import HdsError
from hds.money import format_pounds
from hds.records import Dataset
from rules.library import RuleLibrary


@dataclass(frozen=True)
class Trace:
    patient_id: str
    horizon: dt.date
    horizon_reason: str
    decisions: list[DischargeDecision]
    submitted: list[dict] = ()  # submission lines for the patient, with their submission's month


def build_trace(dataset: Dataset, library: RuleLibrary, patient_id: str, month: str | None = None,
                submitted: list[dict] = ()) -> Trace:
    discharge_ids = sorted(
        (d.discharge_date, d.discharge_id) for d in dataset.discharges if d.patient_id == patient_id
    )
    if not discharge_ids:
        raise HdsError(f"no discharges for patient '{patient_id}'; check the id (patient ids are case-sensitive)")
    if month:
        horizon, why = month_last_day(month), f"--month {month}"
    else:
        horizon, why = latest_month_end(dataset), "the end of the latest month in the data"
    decisions = Allocator(dataset, library).decide([i for _, i in discharge_ids], horizon)
    return Trace(patient_id, horizon, why, decisions, list(submitted))


def latest_month_end(dataset: Dataset) -> dt.date:
    dates = [d.discharge_date for d in dataset.discharges]
    for e in dataset.episodes:
        dates += [e.start_date] + ([e.end_date] if e.end_date else [])
    dates += [e.date for e in dataset.events]
    last = max(dates)
    return month_last_day(f"{last.year:04d}-{last.month:02d}")


def render_trace(trace: Trace) -> str:
    out = [f"Patient {trace.patient_id}",
           f"Open-ended episodes are followed to {trace.horizon} ({trace.horizon_reason})."]
    for decision in trace.decisions:
        out += [""] + _discharge_lines(decision)
    rows = episode_allocations(trace.decisions)
    out += ["", f"Money by month, to {trace.horizon}:"]
    for r in rows:
        claimed = "claimed from NHSE" if r.funder == "hds" else "not claimed"
        out.append(f"  {r.month}  {r.episode_id:<10} {r.funder:<8} {r.days:>3} days {format_pounds(r.amount_pence):>12}"
                   f"  {claimed}  ({r.rule})")
    total = sum(r.amount_pence for r in rows if r.funder == "hds")
    out.append(f"  Claimed from NHSE to {trace.horizon}: {format_pounds(total)}")
    out += ["", "Submitted to NHSE (the ledger):"] + _submitted_lines(trace.submitted)
    return "\n".join(out)


def _submitted_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return ["  nothing submitted for this patient yet"]
    out = []
    for month in sorted({r["claim_month"] for r in rows}):
        total = 0
        out.append(f"  {month}:")
        for r in (r for r in rows if r["claim_month"] == month):
            what = "claimed" if r["current"] else "adjusted"
            reason = f"  because {r['reason']}" if r["reason"] else ""
            out.append(f"    submission {r['submission_id']} ({r['submission_month']}) {what} {r['episode_id']}: "
                       f"{r['days']:>3} days {format_pounds(r['amount_pence'])}{reason}")
            total += r["amount_pence"]
        out.append(f"    claimed for {month} so far: {format_pounds(total)}")
    return out


def _discharge_lines(decision: DischargeDecision) -> list[str]:
    t = decision.timeline
    kind = "A&E attendance, admission avoided (4.9)" if t.discharge.kind == "admission_avoidance" else "hospital discharge"
    lines = [f"Discharge {t.discharge.discharge_id}: {kind} on {t.D}"]
    if t.scheme:
        last_free = t.P - dt.timedelta(days=1)
        lines.append(f"  Scheme {t.scheme.name}: free period {t.D} .. {last_free} at most; week 7 from {t.P}")
    else:
        lines.append("  No scheme: the discharge date is outside every scheme window")
    for label, day in (("Care Act assessment (A)", t.A), ("positive CHC checklist (K)", t.K),
                       (f"CHC decision '{t.C_outcome}' (C)", t.C), ("self-funder charged from (F)", t.F),
                       ("death (X)", t.X)):
        if day:
            lines.append(f"  {label}: {day}")
    if t.ended_early_by:
        lines.append(f"  Free care ended early on {t.E} by the {t.ended_early_by.replace('_', ' ')}")
    if t.chc_pending_at_free_period_end:
        lines.append("  At the end of the free period a CHC assessment was pending (4.13)")
    for episode, decided in decision.episodes:
        end = str(episode.end_date) if episode.end_date else "open"
        restart = ", restart of an existing package" if episode.restart else ""
        bau = ", business-as-usual commissioned" if episode.bau_commissioned else ""
        lines.append(f"  Episode {episode.episode_id}: {episode.service}, {episode.organisation}, "
                     f"{format_pounds(episode.weekly_pence)}/week, {episode.start_date} .. {end}{restart}{bau}")
        if not decided:
            lines.append("    no days up to the horizon")
        for d in decided:
            s = d.segment
            lines.append(f"    {s.first} .. {s.last}  {s.days:>3} days  {d.funder:<8} rule {d.rule.id} "
                         f"(paragraph {', '.join(d.rule.cites)})")
            lines.append(f"      {d.rule.reason}")
    return lines
