"""The forecast as a chart: a page of its own (`hds forecast -o forecast.html`) and a figure of the HTML
report (`hds report`). Money arrives in pence; only the chart's geometry uses pounds as floats.

The chart shows, per month, the money through the pooled budget (the scheme, the CCG and the council,
the funders the pool pays or claims for): the known people's part, the new people's part above it,
the low-to-high band of the new people, and what actually happened where that is known.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from hds.days import iso
from hds.money import format_pounds

POOL_FUNDERS = ("hds", "ccg", "council")
KNOWN_COLOUR, NEW_COLOUR, BAND_COLOUR, ACTUAL_COLOUR = "#1f3f77", "#8fb3e0", "#5a6570", "#b2182b"


@dataclass(frozen=True)
class ForecastSeries:
    """Per month, pence through the pool: known, new (central, low, high), and actual (None: not known)."""

    as_of: str
    months: list[str]
    known: list[int]
    new: list[int]
    low: list[int]
    high: list[int]
    actual: list[int | None]


def series_of(fc, known_until: int | None = None) -> ForecastSeries:
    """The chart's series of a forecast; actual figures (a backtest's) for the months that ended by
    `known_until` (a day number; None: every month)."""
    def pool(figures: dict) -> int:
        return sum(figures[f] for f in POOL_FUNDERS)

    actual = {}
    if fc.actual is not None:
        actual = {m: pool(fc.actual[m].pence) for m in fc.months if known_until is None or m.last_day <= known_until}
    return ForecastSeries(iso(fc.as_of), list(fc.months), [pool(fc.known[m].pence) for m in fc.months],
                          [pool(fc.new[m].pence) for m in fc.months], [pool(fc.new[m].low) for m in fc.months],
                          [pool(fc.new[m].high) for m in fc.months], [actual.get(m) for m in fc.months])


def chart_svg(series: ForecastSeries, key: str = "forecast") -> str:
    """The chart as inline SVG, drawn as the report's other charts are."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    import matplotlib

    from claims.report.html import _RC, _inline_svg

    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"hds-report-{key}"}):
        figure = Figure(figsize=(9.0, 3.4), layout="constrained", facecolor="white")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        _draw(axes, series)
        figure.legend(loc="outside upper center", ncols=4, frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _inline_svg(buffer.getvalue(), key, "Forecast of the money through the pool, by month")


def _draw(axes, series: ForecastSeries) -> None:
    x = list(range(len(series.months)))
    known = [p / 100 for p in series.known]
    new = [p / 100 for p in series.new]
    axes.bar(x, known, 0.7, color=KNOWN_COLOUR, label="Known people")
    axes.bar(x, new, 0.7, bottom=known, color=NEW_COLOUR, label="New people (central)")
    low = [k + p / 100 for k, p in zip(known, series.low)]
    high = [k + p / 100 for k, p in zip(known, series.high)]
    axes.vlines(x, low, high, color=BAND_COLOUR, linewidth=2.2, label="New people, low to high")
    axes.hlines(low + high, [i - 0.18 for i in x] * 2, [i + 0.18 for i in x] * 2, color=BAND_COLOUR, linewidth=1.2)
    shown = [(i, a / 100) for i, a in zip(x, series.actual) if a is not None]
    if shown:
        axes.plot([i for i, _ in shown], [a for _, a in shown], "o-", color=ACTUAL_COLOUR, label="Actual")
    axes.set_xticks(x, [m for m in series.months], rotation=0 if len(x) <= 12 else 90)
    axes.yaxis.set_major_formatter(lambda value, _position: f"£{value / 1000:,.0f}k")
    axes.set_ylabel("Scheme, CCG and council")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#e3e7eb", linewidth=0.8)
    axes.set_axisbelow(True)


def caption(series: ForecastSeries) -> str:
    total = sum(series.known) + sum(series.new)
    text = (f"Forecast as of {series.as_of}: the money for care the scheme, the CCG and the council pay, "
            f"{format_pounds(total)} over {series.months[0]} to {series.months[-1]} (known people "
            f"{format_pounds(sum(series.known))}, new people {format_pounds(sum(series.new))}, between "
            f"{format_pounds(sum(series.low))} and {format_pounds(sum(series.high))}).")
    if any(a is not None for a in series.actual):
        text += " The red line is what the data as it stands now says happened."
    return text


def forecast_figure(series: ForecastSeries) -> str:
    """The chart as a figure of a page (the report's and the forecast's own)."""
    from claims.report.html import _e

    return (f'<figure class="chart" id="chart-forecast"><h3>Forecast as of {_e(series.as_of)}: the pool\'s money '
            'by month</h3>\n'
            f"{chart_svg(series)}\n<figcaption>{_e(caption(series))}</figcaption></figure>")


def forecast_page(fc, title: str, notes: tuple[str, ...]) -> str:
    """`hds forecast -o forecast.html`: the chart, the figures per month and funder, and the assumptions."""
    from claims.report.forward import FORECAST_COLUMNS, BACKTEST_COLUMNS, forecast_rows
    from claims.report.columns import heading, kind
    from claims.report.html import _e, _head

    columns = FORECAST_COLUMNS + (BACKTEST_COLUMNS if fc.actual is not None else ())
    css = {c: "num" if kind(c) in ("money", "int") else "text" for c in columns}
    head = "".join(f'<th class="{css[c]}">{_e(heading(c))}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f'<td class="{css[c]}" style="white-space: nowrap">{_e(_cell(row[c]))}</td>'
                                    for c in columns) + "</tr>" for row in forecast_rows(fc))
    return "\n".join([
        *_head(title), "<body>", "<main>", f"<h1>{_e(title)}</h1>", forecast_figure(series_of(fc)),
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>',
        "<h2>Assumptions</h2>", "<ul>", *(f"<li>{_e(n)}</li>" for n in notes), "</ul>",
        "</main>", "</body>", "</html>", ""])


def _cell(value) -> str:
    from decimal import Decimal

    from claims.report.formats import Pounds

    return format_pounds(int(Decimal(value) * 100)) if isinstance(value, Pounds) else str(value)
