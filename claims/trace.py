"""The audit trace of one patient: why each day was, or was not, claimed.

It reads that patient's rows only, so it takes as long on a national store
as on the sample. A trace is made one of two ways, with the same result:

- from the decisions the load kept in the store (``claims.decisions``), while
  they are current (the store's latest load, decided by the shipped rules, and
  a horizon they reach): with the standard library only, so that a trace costs
  little more than starting hds;
- otherwise by deciding the patient's rows now (``claims.allocate.decide``):
  ``--rules``, ``--as-of-load`` an earlier load, ``--data`` files, a ``--month``
  after the data's latest month, or a store written before they were kept.

Either way the trace is plain values (``Trace``; named tuples, quicker than
dataclasses to define, which counts in a command this short), which ``render_trace`` and
``claims.report.trace_export`` show.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from claims.report.labels import service_text
from hds.days import NEVER, iso, month_end, month_index, month_name, month_start
from hds.errors import HdsError
from hds.facts import ENDED_BY, FUNDER_NAMES
from hds.money import cost_of_days, format_pounds
from hds.month import Month
from hds.schemes import describe_free_period

LATEST = "the end of the latest month in the data"  # why the trace follows open episodes to its horizon


class Segment(NamedTuple):
    first: int
    last: int
    rule: object  # what a trace shows of its rule: id, funder, cites, reason


class Episode(NamedTuple):
    episode_id: str
    service: str
    organisation: str
    weekly_pence: int
    start_date: int
    end_date: int  # NEVER while open
    restart: bool
    bau_commissioned: bool
    segments: tuple[Segment, ...]  # its days up to the horizon, in order


class Discharge(NamedTuple):
    """A discharge with its timeline (``hds.timeline``; days are day numbers, NEVER for none) and episodes."""

    discharge_id: str
    kind: str
    D: int
    scheme: object  # the scheme that decided it (``hds.schemes.Scheme``), None outside every scheme
    P: int
    A: int
    K: int
    C: int
    C_outcome: str
    F: int
    X: int
    E: int
    ended_by: int  # hds.facts.NOT_EARLY ... BY_CHARGE_DATE
    chc_pending_at_P: bool
    episodes: tuple[Episode, ...]


class Trace(NamedTuple):
    patient_id: str
    horizon: int  # day number: open-ended episodes are followed to it
    horizon_reason: str
    discharges: tuple[Discharge, ...]  # in date order
    money: list[dict]  # the allocation rows of every month up to the horizon (``money_by_month``)
    submitted: list[dict] = ()  # submission lines for the patient, with their submission's month
    findings: list[dict] = ()  # findings stored with submissions that name the patient

    @property
    def discharge_ids(self) -> list[str]:
        return [d.discharge_id for d in self.discharges]


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


def _no_discharges(patient_id: str) -> HdsError:
    return HdsError(f"no discharges for patient '{patient_id}'; check the id (patient ids are case-sensitive)")


def trace_patient(source, library, patient_id: str, month: str | None = None, submitted: list[dict] = (),
                  findings: list[dict] = (), shipped: bool = True) -> Trace:
    """The trace of a patient: from the stored decisions while they are current, else decided now.
    `library`: a function giving the rule library (called only to decide); `shipped`: it gives the
    shipped rules (not --rules)."""
    stored = stored_trace(source, patient_id, month, submitted, findings) if shipped else None
    return stored or build_trace(source, library(), patient_id, month, submitted, findings)


def build_trace(source, library, patient_id: str, month: str | None = None, submitted: list[dict] = (),
                findings: list[dict] = ()) -> Trace:
    """The trace of a patient, deciding the patient's rows now."""
    from claims.allocate import decide

    data = source.patient(patient_id)
    if not len(data.discharges):
        raise _no_discharges(patient_id)
    if month:
        horizon, why = Month(month).last_day, f"--month {month}"
    else:
        horizon, why = Month.of_day(source.latest_day()).last_day, LATEST
    discharges = _decided_discharges(decide(data, library, horizon))
    return Trace(patient_id, horizon, why, discharges, money_by_month(discharges, month_index(horizon)),
                 list(submitted), list(findings))


def _decided_discharges(decided) -> tuple[Discharge, ...]:
    """The discharges of a ``claims.allocate.Decided``, as plain values."""
    data, t, s = decided.data, decided.timelines, decided.segments
    e = data.episodes
    episode_d, segment_episode = e["d"].tolist(), s.episode.tolist()
    segments = {}
    for k, i in enumerate(segment_episode):
        segments.setdefault(i, []).append(Segment(int(s.first[k]), int(s.last[k]), decided.rules[decided.rule[k]]))
    episodes = {}
    for i, d in enumerate(episode_d):
        episodes.setdefault(d, []).append(Episode(
            e["episode_id"][i], e["service"][i], e["organisation"][i], int(e["weekly_pence"][i]),
            int(e["start_date"][i]), int(e["end_date"][i]), bool(e["restart"][i]), bool(e["bau_commissioned"][i]),
            tuple(segments.get(i, ()))))
    return tuple(Discharge(
        data.discharges["discharge_id"][d], data.discharges["kind"][d], int(t.D[d]), decided.scheme_of(d),
        int(t.P[d]), int(t.A[d]), int(t.K[d]), int(t.C[d]), t.C_outcome[d], int(t.F[d]), int(t.X[d]), int(t.E[d]),
        int(t.ended_by[d]), bool(t.chc_pending_at_P[d]), tuple(episodes.get(d, ())))
        for d in range(len(data.discharges)))


def stored_trace(source, patient_id: str, month: str | None = None, submitted: list[dict] = (),
                 findings: list[dict] = ()) -> Trace | None:
    """The trace of a patient from the decisions kept in the store, when they are those of `source`'s
    data under the shipped rules, reach the horizon and cover each of the patient's discharges whole;
    None otherwise."""
    from claims import decisions
    from rules.files import shipped_files

    store = getattr(source, "store", None)
    if store is None or source.load_id != store.latest_load():
        return None
    kept = decisions.kept(store, source.load_id, files=shipped_files())
    if kept is None or kept.horizon != Month.of_day(source.latest_day()).last_day:
        return None
    horizon, why = (Month(month).last_day, f"--month {month}") if month else (kept.horizon, LATEST)
    if horizon > kept.horizon:
        return None
    discharge_rows, episode_rows = source.patient_rows(patient_id)
    if not discharge_rows:
        raise _no_discharges(patient_id)
    stored = decisions.stored_discharges(store, kept, {r["discharge_id"]: r["discharge_date"] for r in discharge_rows})
    by_discharge: dict[str, list[dict]] = {}
    for r in episode_rows:  # in their order: an episode's place is its position among its discharge's
        by_discharge.setdefault(r["discharge_id"], []).append(r)
    discharges = []
    for row in discharge_rows:
        mine = by_discharge.get(row["discharge_id"], [])
        decided = stored.get(row["discharge_id"])
        if decided is None or decided["episodes"] != len(mine):
            return None
        discharges.append(_stored_discharge(row, mine, decided, kept, horizon))
    discharges = tuple(discharges)
    return Trace(patient_id, horizon, why, discharges, money_by_month(discharges, month_index(horizon)),
                 list(submitted), list(findings))


def _stored_discharge(row: dict, episode_rows: list[dict], decided: dict, kept, horizon: int) -> Discharge:
    """A discharge from its rows and its stored decisions, its segments cut at `horizon` (which the
    decisions reach: a segment is the same up to any earlier horizon, only cut shorter)."""
    segments = {}
    for place, first, last, rule in decided["segments"]:
        if first <= horizon:
            segments.setdefault(place, []).append(Segment(first, min(last, horizon), kept.rules[rule]))
    episodes = tuple(Episode(r["episode_id"], r["service"], r["organisation"], r["weekly_pence"], r["start_date"],
                             r["end_date"], bool(r["restart"]), bool(r["bau_commissioned"]),
                             tuple(segments.get(place, ()))) for place, r in enumerate(episode_rows))
    scheme = kept.schemes[decided["scheme"]] if decided["scheme"] >= 0 else None
    return Discharge(row["discharge_id"], row["kind"], row["discharge_date"], scheme,
                     *(decided[name] for name in ("P", "A", "K", "C", "C_outcome", "F", "X", "E", "ended_by")),
                     bool(decided["chc_pending_at_P"]), episodes)


def money_by_month(discharges: tuple[Discharge, ...], last_month: int) -> list[dict]:
    """The allocation rows of the patient's episodes up to month `last_month` (``claims.allocate.allocate``
    for one patient, without columns): per episode, month and funder (in ``hds.facts.FUNDER_NAMES``
    order) the days, their cost (``hds.money.cost_of_days``) and the rules that decided them, each once,
    in the order they first decided a day."""
    rows = []
    for episode in (e for d in discharges for e in d.episodes):
        groups: dict[tuple[int, int], list] = {}
        for s in episode.segments:
            for month in range(month_index(s.first), min(month_index(s.last), last_month) + 1):
                days = min(s.last, month_end(month)) - max(s.first, month_start(month)) + 1
                group = groups.setdefault((month, FUNDER_NAMES.index(s.rule.funder)), [0, {}])
                group[0] += days
                group[1].setdefault(s.rule.id)
        for (month, funder), (days, rules) in sorted(groups.items()):
            rows.append({"month": month_name(month), "episode_id": episode.episode_id, "funder": FUNDER_NAMES[funder],
                         "days": days, "amount_pence": cost_of_days(episode.weekly_pence, days),
                         "rule": "+".join(rules)})
    return rows


def render_trace(trace: Trace) -> str:
    out = [f"Patient {trace.patient_id}",
           f"Open-ended episodes are followed to {iso(trace.horizon)} ({trace.horizon_reason})."]
    for discharge in trace.discharges:
        out += [""] + _discharge_lines(discharge)
    out += ["", f"Money by month, to {iso(trace.horizon)}:"]
    total = 0
    for r in trace.money:
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


def _discharge_lines(d: Discharge) -> list[str]:
    kind = "A&E attendance, admission avoided (4.9)" if d.kind == "admission_avoidance" else "hospital discharge"
    lines = [f"Discharge {d.discharge_id}: {kind} on {iso(d.D)}"]
    if d.scheme is not None:
        lines.append(f"  Scheme {d.scheme.name}: {describe_free_period(d.scheme, d.D, d.P)}")
    else:
        lines.append("  No scheme: the discharge date is outside every scheme window")
    for label, day in (("Care Act assessment (A)", d.A), ("positive CHC checklist (K)", d.K),
                       (f"CHC decision '{d.C_outcome}' (C)", d.C), ("self-funder charged from (F)", d.F),
                       ("death (X)", d.X)):
        if day != NEVER:
            lines.append(f"  {label}: {iso(day)}")
    if d.ended_by:
        lines.append(f"  Free care ended early on {iso(d.E)} by the {ENDED_BY[d.ended_by]}")
    if d.chc_pending_at_P:
        lines.append("  At the end of the free period a CHC assessment was pending (4.13)")
    for e in d.episodes:
        end = iso(e.end_date) if e.end_date != NEVER else "open"
        restart = ", restart of an existing package" if e.restart else ""
        bau = ", business-as-usual commissioned" if e.bau_commissioned else ""
        lines.append(f"  Episode {e.episode_id}: {service_text(e.service)}, {e.organisation}, "
                     f"{format_pounds(e.weekly_pence)}/week, {iso(e.start_date)} .. {end}{restart}{bau}")
        if not e.segments:
            lines.append("    no days up to the horizon")
        for s in e.segments:
            lines.append(f"    {iso(s.first)} .. {iso(s.last)}  {s.last - s.first + 1:>3} days  {s.rule.funder:<8} "
                         f"rule {s.rule.id} (paragraph {', '.join(s.rule.cites)})")
            lines.append(f"      {s.rule.reason}")
    return lines
