"""A patient's trace as data for auditors: JSON (schema ``hds.trace.v1``), CSV and Excel.

The JSON shape, version 1 (fields are added, never renamed, within a version):

    {"schema": "hds.trace.v1", "patient_id", "horizon", "horizon_reason",
     "discharges": [{"discharge_id", "kind", "discharge_date", "scheme",
                     "free_period": {"first_day", "last_day", "first_paid_day"} | null,
                     "dates": {"care_act_assessment", "positive_chc_checklist", "chc_decision",
                               "chc_outcome", "self_funder_charged_from", "death"},
                     "ended_early_on", "ended_early_by", "chc_pending_at_free_period_end",
                     "episodes": [{"episode_id", "service", "organisation", "weekly_cost",
                                   "start_date", "end_date", "restart", "bau_commissioned",
                                   "segments": [{"first_day", "last_day", "days", "funder",
                                                 "rule", "paragraphs", "reason"}]}]}],
     "money_by_month": [{"month", "episode_id", "funder", "days", "amount", "rule", "claimed"}],
     "submitted": [{"claim_month", "submission_id", "submission_month", "kind", "episode_id",
                    "block_id", "days", "amount", "reason"}],
     "source_rows": {"discharges": [...], "episodes": [...], "events": [...]},
     "findings": [{"submission_id", "month", "code", "severity", "paragraph", "subject", "ids",
                   "amount", "message", "acknowledged"}]}

Dates are ISO text, money decimal strings in pounds, an open end date null.
Each source row carries the load that brought that version of it
(`_load`), its spreadsheet row (`_row`), and the file and SHA-256 it came
from, so an auditor can find it in the extract.
"""

from __future__ import annotations

from claims.report.deliver import Report
from hds.days import NEVER, iso
from hds.facts import ENDED_BY

SCHEMA = "hds.trace.v1"


def _day(value) -> str | None:
    return None if value == NEVER else iso(int(value))


def _episode_record(e) -> dict:
    """An episode of the trace (``claims.trace.Episode``), with its segments: who paid which days, by which rule."""
    from claims.report.formats import pounds_text

    segments = [{"first_day": iso(s.first), "last_day": iso(s.last), "days": s.last - s.first + 1,
                 "funder": s.rule.funder, "rule": s.rule.id, "paragraphs": list(s.rule.cites), "reason": s.rule.reason}
                for s in e.segments]
    return {"episode_id": e.episode_id, "service": e.service, "organisation": e.organisation,
            "weekly_cost": pounds_text(e.weekly_pence), "start_date": iso(e.start_date), "end_date": _day(e.end_date),
            "restart": e.restart, "bau_commissioned": e.bau_commissioned, "segments": segments}


def trace_record(trace, source_rows: dict | None = None) -> dict:
    from claims.report.formats import pounds_text

    discharges = []
    for d in trace.discharges:
        scheme = d.scheme.name if d.scheme is not None else ""
        discharges.append({
            "discharge_id": d.discharge_id, "kind": d.kind, "discharge_date": iso(d.D), "scheme": scheme,
            "free_period": ({"first_day": iso(d.D), "last_day": iso(d.P - 1), "first_paid_day": iso(d.P)}
                            if scheme else None),
            "dates": {"care_act_assessment": _day(d.A), "positive_chc_checklist": _day(d.K),
                      "chc_decision": _day(d.C), "chc_outcome": d.C_outcome or None,
                      "self_funder_charged_from": _day(d.F), "death": _day(d.X)},
            "ended_early_on": _day(d.E) if d.ended_by else None,
            "ended_early_by": ENDED_BY.get(d.ended_by),
            "chc_pending_at_free_period_end": d.chc_pending_at_P,
            "episodes": [_episode_record(e) for e in d.episodes]})
    money = [{"month": r["month"], "episode_id": r["episode_id"], "funder": r["funder"], "days": r["days"],
              "amount": pounds_text(r["amount_pence"]), "rule": r["rule"], "claimed": r["funder"] == "hds"}
             for r in trace.money]
    submitted = [{"claim_month": r["claim_month"], "submission_id": r["submission_id"],
                  "submission_month": r["submission_month"], "kind": "claimed" if r["current"] else "adjustment",
                  "episode_id": r["episode_id"], "block_id": r["block_id"], "days": r["days"],
                  "amount": pounds_text(r["amount_pence"]), "reason": r["reason"]} for r in trace.submitted]
    return {"schema": SCHEMA, "patient_id": trace.patient_id, "horizon": iso(trace.horizon),
            "horizon_reason": trace.horizon_reason, "discharges": discharges, "money_by_month": money,
            "submitted": submitted, "source_rows": source_rows or {},
            "findings": [{"submission_id": f["submission_id"], "month": f["month"], "code": f["code"],
                          "severity": f["severity"], "paragraph": f["paragraph"], "subject": f["subject"],
                          "ids": f["ids"], "amount": pounds_text(f["amount_pence"]), "message": f["message"],
                          "acknowledged": f["acknowledged"]} for f in trace.findings]}


def trace_json(trace, source_rows: dict | None = None) -> str:
    from claims.report.formats import to_json

    return to_json(trace_record(trace, source_rows))


SEGMENT_COLUMNS = ["patient_id", "discharge_id", "scheme", "episode_id", "service", "organisation", "first_day",
                   "last_day", "days", "funder", "rule", "paragraphs", "reason"]


def segment_records(record: dict) -> list[dict]:
    """One row per segment: who paid for which days, by which rule and paragraph."""
    rows = []
    for discharge in record["discharges"]:
        for episode in discharge["episodes"]:
            for segment in episode["segments"]:
                rows.append({"patient_id": record["patient_id"], "discharge_id": discharge["discharge_id"],
                             "scheme": discharge["scheme"], "episode_id": episode["episode_id"],
                             "service": episode["service"], "organisation": episode["organisation"],
                             **{k: segment[k] for k in ("first_day", "last_day", "days", "funder", "rule", "reason")},
                             "paragraphs": ", ".join(segment["paragraphs"])})
    return rows


def trace_csv(trace) -> str:
    from claims.report.formats import to_csv

    return to_csv(segment_records(trace_record(trace)), SEGMENT_COLUMNS)


def trace_workbook(trace, source_rows: dict | None = None) -> bytes:
    from claims.report import excel
    from claims.report.columns import Column, columns

    record = trace_record(trace, source_rows)
    sheets = [
        excel.Sheet("Segments", columns(*[c for c in SEGMENT_COLUMNS if c != "patient_id"]),
                    tuple(segment_records(record)), heading=f"Trace of patient {record['patient_id']} to "
                                                            f"{record['horizon']} ({record['horizon_reason']})"),
        excel.Sheet("Money by month", columns("month", "episode_id", "funder", "days", "amount", "rule"),
                    tuple({**r, "amount": _decimal(r["amount"])} for r in record["money_by_month"]), total=True),
        excel.Sheet("Submitted", columns("claim_month", "submission_id", "submission_month", "kind", "episode_id",
                                         "days", "amount", "reason"),
                    tuple({**r, "amount": _decimal(r["amount"])} for r in record["submitted"]), total=True),
    ]
    for table, rows in (record["source_rows"] or {}).items():
        if rows:
            typed = [_source_column(table, k) for k in rows[0]]
            sheets.append(excel.Sheet(f"Source {table}", tuple(Column(k, h, kind) for k, h, kind, _ in typed),
                                      tuple({k: convert(r[k]) for k, _, _, convert in typed} for r in rows),
                                      heading=f"The {table} rows as loaded, with the file and load each came from"))
    return excel.table_workbook_bytes(sheets)


SOURCE_HEADINGS = {"_load": "Load", "_row": "Row in its file", "_file": "File", "_sha256": "File SHA-256"}
CONTRACT_HEADINGS = {"nhs_number": "NHS number", "bau_commissioned": "Normally commissioned", "discharge_id": "Discharge",
                     "patient_id": "Patient", "episode_id": "Episode", "event_id": "Event id"}


def _source_column(table: str, key: str) -> tuple:
    """(key, heading, kind, convert) of a source row's field: the contract's heading and kind (dates as dates,
    money in pounds, flags as yes/no), the provenance fields under readable names."""
    from decimal import Decimal

    from hds.contract import SPEC

    if key in SOURCE_HEADINGS:
        return key, SOURCE_HEADINGS[key], "int" if key in ("_load", "_row") else "text", _plain
    try:
        column = SPEC[table].column(key)
    except (KeyError, StopIteration):
        return key, key.replace("_", " ").capitalize(), "text", _plain
    heading = CONTRACT_HEADINGS.get(column.name, column.name.replace("_", " ").capitalize())
    if column.kind == "date":
        return key, heading, "date", lambda v: v or None
    if column.kind == "money":
        return key, f"{heading} (£)", "money", lambda v: None if v is None else Decimal(int(v)) / 100
    if column.kind == "flag":
        return key, heading, "text", lambda v: "yes" if v else "no"
    return key, heading, "text", _plain


def _plain(value):
    return None if value is None else value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _decimal(text: str):
    from decimal import Decimal

    return Decimal(text)


def trace_report(trace, source_rows: dict | None = None) -> Report:
    """`hds trace`: the story for the terminal, the record as JSON, a row per segment as CSV, a workbook."""
    from claims.trace import render_trace

    return Report(f"Trace of patient {trace.patient_id}", tuple(SEGMENT_COLUMNS), sheet="Segments", render={
        "table": lambda: render_trace(trace), "json": lambda: trace_json(trace, source_rows),
        "csv": lambda: trace_csv(trace), "xlsx": lambda: trace_workbook(trace, source_rows)})
