"""The memorandum note as people read it: JSON, the terminal, a workbook of one sheet (the whole
year, month by month) and the month's column for the month-end pack."""

from __future__ import annotations

from claims.memorandum import Memorandum, MemoRow
from claims.report import columns as fields
from claims.report.columns import Column
from claims.report.deliver import Report
from hds.dates import MONTH_NAMES
from hds.money import format_pounds, pounds

KIND = {True: "individual care", False: "block purchase"}


def short_month(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:]) - 1][:3]} {month[:4]}"


def memorandum_json(memo: Memorandum) -> dict:
    return {"year": memo.year, "rows": [
        {"service_line": row.service_line, "new": row.new, "organisation": row.organisation,
         "individual": row.individual, "months": {m: pounds(row.months.get(m, 0)) for m in memo.months},
         "to_date": pounds(memo.to_date(row)), "forecast": pounds(memo.forecast(row)),
         "outturn": pounds(memo.outturn(row))} for row in memo.rows]}


def title(memo: Memorandum) -> str:
    return (f"Memorandum note of the pooled budget: Hospital Discharge Scheme costs, financial year "
            f"{memo.year}-{str(memo.year + 1)[2:]} (April {memo.year} to March {memo.year + 1})")


def basis(memo: Memorandum) -> str:
    """How the months were made, in one sentence."""
    ahead = sorted(memo.forecast_months)
    forecast = (f"{short_month(ahead[0])} to {short_month(ahead[-1])} are forecast from the data as it stands "
                "(open episodes running on)" if ahead else "no month is forecast")
    return (f"Each month is its own claim to NHS England (submitted, or the draft as the data stands); {forecast}. "
            "A service mapped to no service line in hds.toml [service_lines] is a new cost (6.2).")


def _label(row: MemoRow) -> dict:
    return {"service_line": row.service_line, "new_cost": "new" if row.new else "", "organisation": row.organisation,
            "individual": KIND[row.individual]}


def memorandum_table(memo: Memorandum) -> str:
    from claims.report.text import Shown, table, terminal_width

    rows = memo.rows
    money = [("to_date", memo.to_date, "To date"), ("forecast", memo.forecast, "Forecast"),
             ("outturn", memo.outturn, "Outturn")]
    summary = table([Shown("Service line", [r.service_line for r in rows]),
                     Shown("New", ["new" if r.new else "" for r in rows]),
                     Shown("Organisation", [r.organisation for r in rows]),
                     Shown("Individual or block", [KIND[r.individual] for r in rows])]
                    + [Shown(heading, [format_pounds(f(r)) for r in rows], "right") for _, f, heading in money],
                    terminal_width())
    months = table([Shown("Month", [short_month(m) for m in memo.months]),
                    Shown("Basis", ["forecast" if m in memo.forecast_months else "claim" for m in memo.months]),
                    Shown("Individual care", [format_pounds(sum(r.months.get(m, 0) for r in rows if r.individual))
                                              for m in memo.months], "right"),
                    Shown("Block purchases", [format_pounds(sum(r.months.get(m, 0) for r in rows if not r.individual))
                                              for m in memo.months], "right"),
                    Shown("Total", [format_pounds(sum(r.months.get(m, 0) for r in rows)) for m in memo.months],
                          "right")], terminal_width())
    outturn = sum(memo.outturn(r) for r in rows)
    return "\n".join([title(memo), "", summary, "", "By month (each row's months: --json or -o memorandum.xlsx)",
                      months, "", f"Outturn for the year: {format_pounds(outturn)}", basis(memo)])


def memorandum_sheet(memo: Memorandum):
    """The year as one printable sheet: a row per service line, organisation and kind; a column a month."""
    from claims.report.excel import Sheet

    columns = (*fields.columns("service_line", "new_cost", "organisation", "individual"),
               *(Column(m, short_month(m) + (" (forecast)" if m in memo.forecast_months else ""), "money")
                 for m in memo.months), *fields.columns("to_date", "forecast", "outturn"))
    rows = tuple({**_label(r), **{m: pounds(r.months.get(m, 0)) for m in memo.months},
                  "to_date": pounds(memo.to_date(r)), "forecast": pounds(memo.forecast(r)),
                  "outturn": pounds(memo.outturn(r))} for r in memo.rows)
    ahead = sorted(memo.forecast_months)
    forecast = f"forecast from {short_month(ahead[0])}" if ahead else "no month forecast"
    return Sheet("Memorandum", columns, rows, total=True, heading=f"{title(memo)}; {forecast}")


def memorandum_report(memo: Memorandum) -> Report:
    """`hds memorandum --year YYYY`."""
    from claims.report.excel import table_workbook_bytes

    return Report(title(memo), ("service_line", "new_cost", "organisation", "individual"),
                  tuple(_label(r) for r in memo.rows), (basis(memo),), memorandum_json(memo), sheet="Memorandum",
                  render={"table": lambda: memorandum_table(memo), "xlsx": lambda: table_workbook_bytes([memorandum_sheet(memo)])})


def month_column(rows: tuple[MemoRow, ...], month: str) -> Report:
    """The month-end pack's Memorandum sheet: the month's column of the memorandum note."""
    records = tuple({**_label(r), "amount": pounds(r.months.get(month, 0))} for r in rows)
    return Report(f"Memorandum note: the scheme's costs of {short_month(month)} by service line and organisation",
                  ("service_line", "new_cost", "organisation", "individual", "amount"), records, sheet="Memorandum")
