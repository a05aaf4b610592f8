"""The HTML report's figures, from the months' overview."""

from __future__ import annotations

from claims.overview import Overview
from claims.report.deliver import Report
from claims.report.html import MemoRow, MemoTable, MonthFigures, ReportData, render_report
from hds.store import now_utc


def memo_table(memo) -> MemoTable:
    """A ``claims.memorandum.Memorandum`` as the HTML report's table."""
    from claims.report.memorandum_doc import basis, title

    rows = tuple(MemoRow(r.service_line, r.new, r.organisation, r.individual,
                         tuple(r.months.get(m, 0) for m in memo.months), memo.to_date(r), memo.forecast(r),
                         memo.outturn(r)) for r in memo.rows)
    return MemoTable(title(memo), tuple(memo.months), memo.forecast_months, rows, basis(memo))


def report_data(ov: Overview, config, note: str, warnings: tuple[str, ...] = (), memo=None,
                forecast=None) -> ReportData:
    """The report's figures; `memo`: a ``claims.memorandum.Memorandum`` or None; `forecast`:
    (claims.forecast.Forecast, the latest date in the data), or None."""
    months = []
    for m in ov.months:
        claimed = m.claimed_by_scheme if m.submission else m.draft_by_scheme
        months.append(MonthFigures(
            m.month, dict(claimed), m.adjustments_pence if m.submission else 0,
            m.received_pence if m.received_any else None, m.submission is not None,
            dict(m.days_by_funder), dict(m.amount_by_funder), m.state))
    return ReportData(
        f"Hospital Discharge Scheme claims, {ov.first} to {ov.last}", (config.council or "", config.council_label),
        (config.ccg or "", config.ccg_label), ov.first, ov.last, now_utc(), note, months,
        [d for d in ov.days_to_assessment if d >= 0], [d for d in ov.days_to_chc_decision if d >= 0], tuple(warnings),
        memo_table(memo) if memo is not None else None, _series(forecast))


def _series(forecast):
    if forecast is None:
        return None
    from claims.report.forecast_page import series_of

    fc, latest = forecast
    return series_of(fc, latest)


def report_html(ov: Overview, config, note: str, warnings: tuple[str, ...] = (), memo=None, forecast=None) -> str:
    return render_report(report_data(ov, config, note, warnings, memo, forecast))


def period_report(ov: Overview, config, note: str, warnings: tuple[str, ...] = (), memo=None,
                  forecast=None) -> Report:
    """`hds report`: the months as one self-contained HTML page; with `memo` (a
    ``claims.memorandum.Memorandum``), its memorandum note as a table; with `forecast`, its chart."""
    return Report(f"Hospital Discharge Scheme claims, {ov.first} to {ov.last}", (), sheet="Report",
                  render={"html": lambda: report_html(ov, config, note, warnings, memo, forecast)})
