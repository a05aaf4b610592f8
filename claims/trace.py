"""The audit trace of one patient: why each day was, or was not, claimed.

It reads that patient's rows only, so it takes as long on a national store
as on the sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from claims.allocate import Decided, allocate, decide
from claims.report.labels import service_text
from hds.days import NEVER, iso
from hds.errors import HdsError
from hds.facts import ENDED_BY
from hds.money import format_pounds
from hds.month import Month
from hds.schemes import describe_free_period
from hds.table import Table

@dataclass(frozen=True)
class Trace:
    patient_id: str
    horizon: int  # day number: open-ended episodes are followed to it
    horizon_reason: str
    decided: Decided
    rows: Table  # the allocation rows of every month up to the horizon
    submitted: list[dict] = ()  # submission lines for the patient, with their submission's month
    findings: list[dict] = ()  # findings stored with submissions that name the patient


def looks_like_nhs_number(text: str) -> bool:
    return bool(re.fullmatch(r"\d{10}", text.replace(" ", "")))


def find_patient(source, key: str) -> str:
    """A patient id, from the id itself or from an NHS number."""
    if not looks_like_nhs_number(key):
        return key
    found = source.patients_with_nhs_number(key.replace(" ", ""))
    if len(found) == 1:
        return found[0]
    if not found:
        raise HdsError("no patient has that NHS number in the data; check it, or trace by patient id")
    raise HdsError(f"that NHS number belongs to {len(found)} patient ids ({', '.join(found)}); trace each by its id "
                   "(and see 'hds check': one person under two ids is a finding)")


def build_trace(source, library, patient_id: str, month: str | None = None, submitted: list[dict] = (),
                findings: list[dict] = ()) -> Trace:
    data = source.patient(patient_id)
    if not len(data.discharges):
        raise HdsError(f"no discharges for patient '{patient_id}'; check the id (patient ids are case-sensitive)")
    if month:
        horizon, why = Month(month).last_day, f"--month {month}"
    else:
        horizon, why = Month.of_day(source.latest_day()).last_day, "the end of the latest month in the data"
    decided = decide(data, library, horizon)
    rows = allocate(decided, 0, Month.of_day(horizon).number)
    return Trace(patient_id, horizon, why, decided, rows, list(submitted), list(findings))


def render_trace(trace: Trace) -> str:
    out = [f"Patient {trace.patient_id}",
           f"Open-ended episodes are followed to {iso(trace.horizon)} ({trace.horizon_reason})."]
    for d in range(len(trace.decided.data.discharges)):
        out += [""] + _discharge_lines(trace.decided, d)
    out += ["", f"Money by month, to {iso(trace.horizon)}:"]
    total = 0
    for r in trace.rows.records():
        claimed = "claimed from NHSE" if r["funder"] == "hds" else "not claimed"
        out.append(f"  {r['month']}  {r['episode_id']:<10} {r['funder']:<8} {r['days']:>3} days "
                   f"{format_pounds(r['amount_pence']):>12}  {claimed}  ({r['rule']})")
        total += r["amount_pence"] if r["funder"] == "hds" else 0
    out.append(f"  Claimed from NHSE to {iso(trace.horizon)}: {format_pounds(total)}")
    out += ["", "Submitted to NHSE (the ledger):"] + _submitted_lines(trace.submitted)
    if trace.findings:
        out += ["", "Findings of the checks stored with those submissions:"]
        for f in trace.findings:
            out.append(f"  submission {f['submission_id']} ({f['month']}): {f['code']}:{f['subject']} {f['severity']} "
                       f"(paragraph {f['paragraph']}): {f['message']}")
            if f["acknowledged"]:
                out.append(f"    {f['acknowledged']}")
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


def _discharge_lines(decided: Decided, d: int) -> list[str]:
    data, t = decided.data, decided.timelines
    discharge = {name: data.discharges[name][d] for name in data.discharges.names}
    kind = ("A&E attendance, admission avoided (4.9)" if discharge["kind"] == "admission_avoidance"
            else "hospital discharge")
    lines = [f"Discharge {discharge['discharge_id']}: {kind} on {iso(t.D[d])}"]
    if t.scheme[d] >= 0:
        scheme = decided.scheme_of(d)
        lines.append(f"  Scheme {scheme.name}: {describe_free_period(scheme, int(t.D[d]), int(t.P[d]))}")
    else:
        lines.append("  No scheme: the discharge date is outside every scheme window")
    for label, day in (("Care Act assessment (A)", t.A[d]), ("positive CHC checklist (K)", t.K[d]),
                       (f"CHC decision '{t.C_outcome[d]}' (C)", t.C[d]), ("self-funder charged from (F)", t.F[d]),
                       ("death (X)", t.X[d])):
        if day != NEVER:
            lines.append(f"  {label}: {iso(day)}")
    if t.ended_by[d]:
        lines.append(f"  Free care ended early on {iso(t.E[d])} by the {ENDED_BY[int(t.ended_by[d])]}")
    if t.chc_pending_at_P[d]:
        lines.append("  At the end of the free period a CHC assessment was pending (4.13)")
    e, s = data.episodes, decided.segments
    for i in np.flatnonzero(e["d"] == d).tolist():
        end = iso(e["end_date"][i]) if e["end_date"][i] != NEVER else "open"
        restart = ", restart of an existing package" if e["restart"][i] else ""
        bau = ", business-as-usual commissioned" if e["bau_commissioned"][i] else ""
        lines.append(f"  Episode {e['episode_id'][i]}: {service_text(e['service'][i])}, {e['organisation'][i]}, "
                     f"{format_pounds(int(e['weekly_pence'][i]))}/week, {iso(e['start_date'][i])} .. {end}"
                     f"{restart}{bau}")
        mine = np.flatnonzero(s.episode == i)
        if not len(mine):
            lines.append("    no days up to the horizon")
        for k in mine.tolist():
            rule = decided.rules[decided.rule[k]]
            days = int(s.last[k] - s.first[k] + 1)
            lines.append(f"    {iso(s.first[k])} .. {iso(s.last[k])}  {days:>3} days  {rule.funder:<8} rule {rule.id} "
                         f"(paragraph {', '.join(rule.cites)})")
            lines.append(f"      {rule.reason}")
    return lines



