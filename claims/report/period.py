"""The HTML report's figures, from the months' overview."""

from __future__ import annotations

from claims.overview import Overview
from claims.report.deliver import Report
from claims.report.html import MonthFigures, ReportData, render_report
from hds.store import now_utc


def report_data(ov: Overview, config, note: str, warnings: tuple[str, ...] = ()) -> ReportData:
    months = []
    for m in ov.months:
        claimed = m.claimed_by_scheme if m.submission else m.draft_by_scheme
        months.append(MonthFigures(
            m.month, dict(claimed), m.adjustments_pence if m.submission else 0,
            m.received_pence if m.received_any else None, m.submission is not None,
            dict(m.days_by_funder), dict(m.amount_by_funder)))
    return ReportData(
        f"Hospital Discharge Scheme claims, {ov.first} to {ov.last}", (config.council or "", config.council_label),
        (config.ccg or "", config.ccg_label), ov.first, ov.last, now_utc(), note, months,
        [d for d in ov.days_to_assessment if d >= 0], [d for d in ov.days_to_chc_decision if d >= 0], tuple(warnings))


def report_html(ov: Overview, config, note: str, warnings: tuple[str, ...] = ()) -> str:
    return render_report(report_data(ov, config, note, warnings))


def period_report(ov: Overview, config, note: str, warnings: tuple[str, ...] = ()) -> Report:
    """`hds report`: the months as one self-contained HTML page."""
    return Report(f"Hospital Discharge Scheme claims, {ov.first} to {ov.last}", (), sheet="Report",
                  render={"html": lambda: report_html(ov, config, note, warnings)})
