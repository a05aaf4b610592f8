"""A month-range report as one self-contained HTML page, for a finance officer to mail.

The page holds its charts as inline SVG drawn by matplotlib, its tables as
HTML and its style as one inline stylesheet: it loads nothing, runs no
script, and prints on A4. Money arrives in integer pence and is shown in the
tables with `format_pounds`; only chart geometry uses pounds as floats.

matplotlib is imported inside `render_report`, so importing this module costs
the CLI nothing. The charts are `Figure` objects on the Agg canvas, never
pyplot, so no global backend is chosen or changed.
"""

from __future__ import annotations

import html
import math
import re
import statistics
from dataclasses import dataclass

from hds.dates import MONTH_NAMES
from hds.errors import HdsError
from hds.facts import FUNDER_NAMES as FUNDERS
from hds.money import format_pounds
from claims.report.labels import partner_text, when_text

__all__ = ["MonthFigures", "ReportData", "render_report"]


@dataclass(frozen=True)
class MonthFigures:
    month: str                          # "YYYY-MM"
    claimed_by_scheme: dict[str, int]   # pence claimed for this month's own care, by scheme
    adjustments_pence: int              # signed pence: corrections for earlier months in this month's claim
    received_pence: int | None          # pence received from NHS England for this claim month; None = nothing yet
    submitted: bool                     # True when the month's claim is submitted; False = draft figures
    days_by_funder: dict[str, int]      # care days in the month by funder
    amount_by_funder: dict[str, int]    # pence of those days by funder
    state: str = ""                     # claims.overview.MONTH_STATES ("": submitted or draft, from `submitted`)

    @property
    def shown_state(self) -> str:
        """submitted, draft, not claimed, claimed later or nothing to claim."""
        return self.state or ("submitted" if self.submitted else "draft")


@dataclass(frozen=True)
class ReportData:
    title: str
    council: tuple[str, str]            # (code, name)
    ccg: tuple[str, str]                # (code, name)
    first_month: str
    last_month: str
    generated_at: str                   # ISO timestamp
    data_note: str                      # provenance line
    months: list[MonthFigures]          # one per month, first_month..last_month, in order
    days_to_assessment: list[int]       # days from discharge to Care Act assessment, one per discharge
    days_to_chc_decision: list[int]     # days from discharge to CHC decision, one per discharge
    warnings: tuple[str, ...] = ()      # shown as a banner at the top
    memorandum: "MemoTable | None" = None  # the memorandum note of a financial year, as a table
    forecast: object | None = None      # claims.report.forecast_page.ForecastSeries: drawn after the other charts


@dataclass(frozen=True)
class MemoRow:
    service_line: str
    new: bool                           # a service mapped to no service line: a new cost
    organisation: str
    individual: bool                    # individual care, or a block purchase
    pence: tuple[int, ...]              # one per month of the MemoTable
    to_date: int
    forecast: int
    outturn: int


@dataclass(frozen=True)
class MemoTable:
    heading: str
    months: tuple[str, ...]             # "YYYY-MM", April to March
    forecast: frozenset[str]            # the months forecast
    rows: tuple[MemoRow, ...]
    note: str = ""


# --- vocabulary and colours -------------------------------------------------------

FUNDER_LABELS = {
    "hds": "Scheme (NHS England)",
    "ccg": "CCG",
    "council": "Council",
    "bau": "Normal funding",
    "excluded": "Excluded",
}
FUNDER_COLOURS = {
    "hds": "#1f3f77",
    "ccg": "#2a9d8f",
    "council": "#8c3b6e",
    "bau": "#9aa5b1",
    "excluded": "#d3d8de",
}
# schemes take these in name order (schemes are data: the rule library names them, not this module)
SCHEME_PALETTE = ("#0072b2", "#e69f00", "#56b4e9", "#cc79a7", "#d55e00", "#b5a300", "#6d6d6d", "#332288", "#88ccee",
                  "#44aa99", "#999933", "#aa4499")
CLAIMED_COLOUR = "#8496a9"
RECEIVED_COLOUR = "#1b7837"
AWAITING_COLOUR = "#6b7480"
POSITION_COLOUR = "#b2182b"
ADJUST_UP_COLOUR = "#4575b4"
ADJUST_DOWN_COLOUR = "#d73027"
ASSESSMENT_COLOUR = "#4e79a7"
CHC_COLOUR = "#7f6a9f"
INK = "#1d2530"
MUTED = "#5a6570"

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
STATES = ("submitted", "draft", "not claimed", "claimed later", "nothing to claim")
STATE_WORDS = {"submitted": "Submitted", "draft": "Draft", "not claimed": "Not claimed",
               "claimed later": "Claimed later", "nothing to claim": "Nothing to claim"}


# --- checking the input -----------------------------------------------------------

def _require(condition: bool, message: str) -> None:
    if not condition:
        raise HdsError(f"cannot write the HTML report: {message}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _month_index(text: str) -> int:
    year, month = _MONTH.fullmatch(text).groups()
    return int(year) * 12 + int(month) - 1


def _check_text(value, what: str) -> None:
    _require(isinstance(value, str), f"{what} must be text, not {value!r}")


def _check(data: ReportData) -> None:
    _require(isinstance(data, ReportData), f"expected ReportData, got {type(data).__name__}")
    _check_text(data.title, "the title")
    _check_text(data.generated_at, "generated_at")
    _check_text(data.data_note, "the data note")
    for role, partner in (("council", data.council), ("CCG", data.ccg)):
        _require(isinstance(partner, tuple) and len(partner) == 2 and all(isinstance(p, str) for p in partner),
                 f"the {role} must be a (code, name) pair of text, not {partner!r}")
    _require(isinstance(data.warnings, tuple) and all(isinstance(w, str) for w in data.warnings),
             "warnings must be a tuple of text")
    for name in ("first_month", "last_month"):
        value = getattr(data, name)
        _require(isinstance(value, str) and _MONTH.fullmatch(value) is not None,
                 f"{name} '{value}' is not a month; expected YYYY-MM, e.g. 2020-10")
    first, last = _month_index(data.first_month), _month_index(data.last_month)
    _require(first <= last, f"first_month {data.first_month} is after last_month {data.last_month}")
    months = list(data.months)
    _require(len(months) == last - first + 1,
             f"expected {last - first + 1} months from {data.first_month} to {data.last_month}, got {len(months)}")
    for position, figures in enumerate(months):
        _require(isinstance(figures, MonthFigures), f"months[{position}] is not MonthFigures")
        month = figures.month
        _require(isinstance(month, str) and _MONTH.fullmatch(month) is not None,
                 f"months[{position}] has month '{month}'; expected YYYY-MM")
        expected = _month_label_iso(first + position)
        _require(month == expected,
                 f"months must run in order from {data.first_month} to {data.last_month} with none missing: "
                 f"months[{position}] is {month}, expected {expected}")
        _check_figures(figures)
    for name in ("days_to_assessment", "days_to_chc_decision"):
        values = getattr(data, name)
        _require(isinstance(values, (list, tuple)) and all(_is_int(v) for v in values),
                 f"{name} must be a list of whole numbers of days")


def _check_figures(figures: MonthFigures) -> None:
    """One month's figures: whole pence, known funders, days not negative."""
    month = figures.month
    _require(isinstance(figures.claimed_by_scheme, dict), f"{month}: claimed_by_scheme must be a dict")
    for scheme, pence in figures.claimed_by_scheme.items():
        _require(isinstance(scheme, str) and scheme.strip() != "", f"{month}: scheme {scheme!r} must be a name")
        _require(_is_int(pence), f"{month}: claimed for {scheme} must be whole pence, not {pence!r}")
    _require(_is_int(figures.adjustments_pence),
             f"{month}: adjustments must be whole pence, not {figures.adjustments_pence!r}")
    _require(figures.received_pence is None or _is_int(figures.received_pence),
             f"{month}: received must be whole pence or None, not {figures.received_pence!r}")
    _require(isinstance(figures.submitted, bool), f"{month}: submitted must be True or False")
    _require(figures.shown_state in STATES, f"{month}: state {figures.state!r} is not one of {', '.join(STATES)}")
    _require(figures.submitted == (figures.shown_state == "submitted"), f"{month}: submitted and state disagree")
    for name, values in (("days_by_funder", figures.days_by_funder),
                         ("amount_by_funder", figures.amount_by_funder)):
        _require(isinstance(values, dict), f"{month}: {name} must be a dict")
        for funder, value in values.items():
            _require(funder in FUNDERS, f"{month}: {name} has funder {funder!r}; expected one of {', '.join(FUNDERS)}")
            _require(_is_int(value), f"{month}: {name}[{funder}] must be a whole number, not {value!r}")
    for funder, days in figures.days_by_funder.items():
        _require(days >= 0, f"{month}: days for {funder} is negative ({days})")


# --- small formatting helpers -----------------------------------------------------

def _month_label_iso(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_long(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


def _month_short(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1][:3]} {year}"


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _days_text(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _mpl_text(text: str) -> str:
    """Data text for a chart label: matplotlib reads '$' as maths and drops labels starting '_'."""
    text = text.replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def _schemes(months: list[MonthFigures]) -> list[str]:
    return sorted({scheme for m in months for scheme in m.claimed_by_scheme})


def _scheme_colours(schemes: list[str]) -> dict[str, str]:
    return {scheme: SCHEME_PALETTE[i % len(SCHEME_PALETTE)] for i, scheme in enumerate(schemes)}


# --- the numbers every part of the page shares ------------------------------------

@dataclass(frozen=True)
class _Row:
    figures: MonthFigures
    own_care: int        # pence claimed for the month's own care, all schemes
    total_claimed: int   # own care plus adjustments
    difference: int | None  # received minus total claimed; None while awaiting
    status: str          # matched / under-paid / over-paid / awaiting
    position: int        # cumulative received minus claimed up to and including this month


def _rows(months: list[MonthFigures]) -> list[_Row]:
    """Each month's payment status (as `hds reconcile` states it) and the running position."""
    from claims.reconcile import status_of

    rows, position = [], 0
    for figures in months:
        own = sum(figures.claimed_by_scheme.values())
        total = own + figures.adjustments_pence
        received = figures.received_pence
        difference = None if received is None else received - total
        status = status_of(total, received or 0, received is not None)
        # a draft is not claimed yet, and a month before the first submission was claimed outside hds:
        # neither moves the position
        if figures.submitted or (received is not None and figures.shown_state != "not claimed"):
            position += (received or 0) - total
        rows.append(_Row(figures, own, total, difference, status, position))
    return rows


# --- charts -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Chart:
    key: str
    heading: str
    caption: str
    svg: str | None      # None: nothing to draw, show `empty` instead
    empty: str = ""


_RC = {
    "svg.fonttype": "none",          # text stays text: small, sharp, searchable
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9.5,
    "axes.edgecolor": "#8a949e",
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "xtick.color": "#3c4650",
    "ytick.color": "#3c4650",
    "legend.fontsize": 9,
    "hatch.linewidth": 0.8,
    "path.simplify": True,
}

_NUMBER_ATTRS = re.compile(r'\b(d|x|y|x1|x2|y1|y2|width|height|transform|points)="([^"]*)"')
_LONG_DECIMAL = re.compile(r"(-?\d+\.\d\d)\d+")
_FONT_FAMILY = re.compile(r"font-family: [^;\"]*(; |(?=\"))")


def _inline_svg(svg: str, key: str, label: str) -> str:
    """matplotlib's SVG file made fit to sit in the page: no prolog or metadata, ids
    unique in the document, sized by CSS from its viewBox, coordinates to 1/100 pt."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{key}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{key}-{m.group(1)})", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{key}-{m.group(1)}"', svg)
    svg = _NUMBER_ATTRS.sub(lambda m: m.group(1) + '="' + _LONG_DECIMAL.sub(r"\1", m.group(2)) + '"', svg)
    svg = _FONT_FAMILY.sub("", svg)   # one font rule in the page's stylesheet instead
    svg = re.sub(r"[ \t]*\n[ \t]*", "\n", svg)
    svg = re.sub(r"(?<=[\d.z]) ?\n(?=[MLCQZz])", " ", svg)   # path data on one line
    root_end = svg.index(">")
    root = svg[:root_end]
    root = re.sub(r'\s(width|height)="[^"]*"', "", root)
    root += f' class="chart-svg" role="img" aria-label="{_e(label)}" preserveAspectRatio="xMidYMid meet"'
    return root + svg[root_end:].rstrip()


class _Plotter:
    """Draws the charts; holds the matplotlib modules imported on first use."""

    def __init__(self, data: ReportData, rows: list[_Row]):
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
        from matplotlib.lines import Line2D
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        self.matplotlib = matplotlib
        self.Figure, self.Canvas = Figure, FigureCanvasAgg
        self.Patch, self.Line2D = Patch, Line2D
        self.FuncFormatter, self.MaxNLocator = FuncFormatter, MaxNLocator
        self.data, self.rows = data, rows
        self.months = [r.figures for r in rows]
        self.n = len(rows)
        self.schemes = _schemes(self.months)
        self.scheme_colours = _scheme_colours(self.schemes)

    # -- shared pieces --

    def _figure(self, height: float = 3.3):
        figure = self.Figure(figsize=(9.0, height), layout="constrained", facecolor="white")
        self.Canvas(figure)
        axes = figure.add_subplot()
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.grid(axis="y", color="#e3e7eb", linewidth=0.8)
        axes.set_axisbelow(True)
        return figure, axes

    def _month_axis(self, axes) -> None:
        step = max(1, math.ceil(self.n / 24))
        positions, labels, last_year = [], [], None
        for i, figures in enumerate(self.months):
            if i % step:
                continue
            year, number = figures.month.split("-")
            label = MONTH_NAMES[int(number) - 1][:3]
            if year != last_year:
                label += f"\n{year}"
                last_year = year
            positions.append(i)
            labels.append(label)
        axes.set_xticks(positions, labels)
        axes.set_xlim(-0.6, self.n - 0.4)
        axes.tick_params(axis="x", length=0, pad=4)
        axes.set_xlabel("Month")

    def _pounds_axis(self, axes, label: str) -> None:
        def tick(value, _position):
            sign, size = ("-" if value < 0 else ""), abs(value)
            if size >= 1_000_000:
                text = f"{size / 1_000_000:.3g}m"
            elif size >= 1_000:
                text = f"{size / 1_000:.3g}k"
            else:
                text = f"{size:.3g}"
            return f"{sign}£{text}"
        axes.yaxis.set_major_formatter(self.FuncFormatter(tick))
        axes.yaxis.set_major_locator(self.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        axes.set_ylabel(label)

    def _count_axis(self, axes, label: str) -> None:
        axes.yaxis.set_major_formatter(self.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        axes.yaxis.set_major_locator(self.MaxNLocator(nbins=6, integer=True))
        axes.set_ylabel(label)

    def _legend(self, figure, handles, labels) -> None:
        figure.legend(handles, labels, loc="outside upper center", ncols=min(len(handles), 6),
                      frameon=False, handlelength=1.4, columnspacing=1.6)

    def _draft_marks(self, axes, tops: list[float]) -> None:
        """Months not submitted say what they are: draft, or not claimed (before the first submission)."""
        for i, figures in enumerate(self.months):
            if figures.shown_state in ("draft", "not claimed") and tops[i] > 0:
                axes.annotate(figures.shown_state, (i, max(tops[i], 0)), xytext=(0, 3), textcoords="offset points",
                              ha="center", va="bottom", fontsize=8, color=MUTED, style="italic", rotation=90)

    def _svg(self, figure, key: str, label: str) -> str:
        import io
        buffer = io.StringIO()
        with self.matplotlib.rc_context({"svg.hashsalt": f"hds-report-{key}"}):
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        return _inline_svg(buffer.getvalue(), key, label)

    def _stacked(self, axes, series: list[tuple[str, list[float], str]]) -> list[float]:
        """Bars stacked per month, positives up and negatives down; returns each month's top."""
        up, down = [0.0] * self.n, [0.0] * self.n
        x = list(range(self.n))
        for _label, values, colour in series:
            bottoms = [up[i] if v >= 0 else down[i] for i, v in enumerate(values)]
            axes.bar(x, values, 0.72, bottom=bottoms, color=colour, edgecolor="white", linewidth=0.4)
            for i, v in enumerate(values):
                if v >= 0:
                    up[i] += v
                else:
                    down[i] += v
        return up

    # -- the charts --

    def claimed_by_scheme(self) -> _Chart:
        heading = "Claimed from the scheme each month, by scheme"
        caption = ("What each month's claim asked NHS England to pay for that month's own care, "
                   "split by scheme; corrections to earlier months are shown separately below.")
        if not any(self.schemes) or all(r.own_care == 0 for r in self.rows):
            return _Chart("claimed", heading, caption, None, "No care was claimed in the period.")
        with self.matplotlib.rc_context(_RC):
            figure, axes = self._figure()
            series = [(s, [m.claimed_by_scheme.get(s, 0) / 100 for m in self.months], self.scheme_colours[s])
                      for s in self.schemes]
            tops = self._stacked(axes, series)
            self._draft_marks(axes, tops)
            axes.margins(y=0.3 if any(m.shown_state != "submitted" for m in self.months) else 0.05)
            for i, row in enumerate(self.rows):
                if row.own_care == 0:
                    axes.annotate("none", (i, 0), xytext=(0, 3), textcoords="offset points", ha="center",
                                  va="bottom", fontsize=8, color=MUTED, style="italic")
            self._month_axis(axes)
            self._pounds_axis(axes, "Claimed (£)")
            self._legend(figure, [self.Patch(color=c) for _s, _v, c in series], [_mpl_text(s) for s in self.schemes])
            return _Chart("claimed", heading, caption, self._svg(figure, "claimed", heading))

    def days_by_funder(self) -> _Chart:
        heading = "Care days each month, by who paid"
        caption = ("Days of care after discharge in each month, split by who paid for them: the scheme, "
                   "the CCG, the council, normal funding routes, or nobody (excluded).")
        funders = [f for f in FUNDERS if any(m.days_by_funder.get(f, 0) for m in self.months)]
        if not funders:
            return _Chart("days", heading, caption, None, "No care days in the period.")
        with self.matplotlib.rc_context(_RC):
            figure, axes = self._figure()
            series = [(f, [m.days_by_funder.get(f, 0) for m in self.months], FUNDER_COLOURS[f]) for f in funders]
            self._stacked(axes, series)
            self._month_axis(axes)
            self._count_axis(axes, "Care days")
            self._legend(figure, [self.Patch(facecolor=FUNDER_COLOURS[f], edgecolor="#b8bfc6", linewidth=0.5)
                                  for f in funders], [FUNDER_LABELS[f] for f in funders])
            return _Chart("days", heading, caption, self._svg(figure, "days", heading))

    def adjustments(self) -> _Chart:
        heading = "Adjustments to earlier months"
        caption = ("Corrections to earlier months' claims carried in each month's claim: above the line "
                   "adds to what was claimed before, below the line takes money back.")
        if all(m.adjustments_pence == 0 for m in self.months):
            return _Chart("adjustments", heading, caption, None, "No adjustments to earlier months in the period.")
        with self.matplotlib.rc_context(_RC):
            figure, axes = self._figure(height=2.8)
            values = [m.adjustments_pence / 100 for m in self.months]
            colours = [ADJUST_UP_COLOUR if v >= 0 else ADJUST_DOWN_COLOUR for v in values]
            axes.bar(range(self.n), values, 0.6, color=colours)
            axes.axhline(0, color="#4a545e", linewidth=0.9)
            self._month_axis(axes)
            self._pounds_axis(axes, "Adjustment (£)")
            self._legend(figure, [self.Patch(color=ADJUST_UP_COLOUR), self.Patch(color=ADJUST_DOWN_COLOUR)],
                         ["Added to earlier months", "Taken off earlier months"])
            return _Chart("adjustments", heading, caption, self._svg(figure, "adjustments", heading))

    def claimed_received(self) -> _Chart:
        heading = "Claimed versus received from NHS England"
        caption = ("Each submitted month's total claim (own care plus adjustments) beside what NHS England paid "
                   "for it; hatched outlines are submitted claims still awaiting payment, and dotted outlines are "
                   "drafts, not yet claimed. The red line, on its own scale at the right, is the running position: "
                   "everything received so far minus everything claimed.")
        if all(r.total_claimed == 0 and not r.figures.received_pence for r in self.rows):
            return _Chart("received", heading, caption, None, "Nothing was claimed or received in the period.")
        with self.matplotlib.rc_context(_RC):
            figure, axes = self._figure(height=3.5)
            self._claimed_bars(axes)
            axes.axhline(0, color="#4a545e", linewidth=0.9)
            axes.margins(y=0.12)
            self._month_axis(axes)
            self._pounds_axis(axes, "Amount (£)")
            position = axes.twinx()  # the running position is pounds of another size: its own axis
            position.spines["top"].set_visible(False)
            position.plot(range(self.n), [r.position / 100 for r in self.rows], color=POSITION_COLOUR,
                          linewidth=1.8, marker="o", markersize=3.5, zorder=4, gid="running-position")
            position.axhline(0, color=POSITION_COLOUR, linewidth=0.6, linestyle=(0, (2, 2)))
            position.margins(y=0.25)
            if not any(r.position for r in self.rows):  # nothing received or claimed yet: a flat line at £0, not a
                position.set_ylim(-1, 1)  # scale of rounding noise (1e-17)
            self._pounds_axis(position, "Running position (£)")
            position.yaxis.label.set_color(POSITION_COLOUR)
            handles = [self.Patch(color=CLAIMED_COLOUR), self.Patch(color=RECEIVED_COLOUR),
                       self.Patch(fill=False, hatch="///", edgecolor=AWAITING_COLOUR, linestyle=(0, (3, 2))),
                       self.Patch(fill=False, edgecolor=MUTED, linestyle=(0, (1, 1.5))),
                       self.Line2D([], [], color=POSITION_COLOUR, linewidth=1.8, marker="o", markersize=3.5)]
            labels = ["Claimed", "Received", "Awaiting payment", "Draft", "Running position"]
            self._legend(figure, handles, labels)
            return _Chart("received", heading, caption, self._svg(figure, "received", heading))

    def _claimed_bars(self, axes) -> None:
        """Submitted months: claimed, and received or awaiting; drafts: a dotted outline; months hds does
        not claim: nothing. Each bar's id names its kind and month (the browser test reads them)."""
        width = 0.38
        for i, row in enumerate(self.rows):
            state, claimed, received = row.figures.shown_state, row.total_claimed / 100, row.figures.received_pence
            month = row.figures.month
            if state == "submitted":
                axes.bar(i - width / 2, claimed, width, color=CLAIMED_COLOUR, gid=f"claimed-{month}")
                if received is None:
                    axes.bar(i + width / 2, claimed, width, fill=False, hatch="///", edgecolor=AWAITING_COLOUR,
                             linewidth=0.9, linestyle=(0, (3, 2)), gid=f"awaiting-{month}")
            elif state == "draft" and claimed:
                axes.bar(i - width / 2, claimed, width, fill=False, edgecolor=MUTED, linewidth=0.9,
                         linestyle=(0, (1, 1.5)), gid=f"draft-{month}")
            if received is not None:
                axes.bar(i + width / 2, received / 100, width, color=RECEIVED_COLOUR, gid=f"received-{month}")

    def distribution(self, key: str, values: list[int], what: str, colour: str) -> _Chart:
        heading = f"Days from discharge to {what}"
        if not values:
            return _Chart(key, heading, f"How long after discharge each {what} took place.", None,
                          f"No {what}s in the period.")
        median = statistics.median(values)
        caption = (f"How many days after discharge each {what} took place, for the "
                   f"{_plural(len(values), 'discharge')} in the period that had one; "
                   f"the median is {_days_text(median)} days.")
        low, high = min(values), max(values)
        span = high - low + 1
        width = 1
        for candidate in (1, 2, 5, 7, 14, 28, 56, 91, 182, 365):
            width = candidate
            if span / candidate <= 60:
                break
        else:
            width = math.ceil(span / 60)
        start = low - low % width
        edges = [start - 0.5 + k * width for k in range(math.ceil((high - start + 1) / width) + 1)]
        with self.matplotlib.rc_context(_RC):
            figure, axes = self._figure(height=2.9)
            axes.hist(values, bins=edges, color=colour, edgecolor="white", linewidth=0.5)
            axes.axvline(median, color=INK, linestyle=(0, (4, 2)), linewidth=1.2)
            axes.set_ylim(0, axes.get_ylim()[1] * 1.18)
            axes.annotate(f"median {_days_text(median)} days", (median, 1), xycoords=("data", "axes fraction"),
                          xytext=(5, -1), textcoords="offset points", ha="left", va="top", fontsize=8.5, color=INK,
                          bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none"})
            axes.xaxis.set_major_locator(self.MaxNLocator(nbins=12, integer=True))
            axes.set_xlabel(f"Days from discharge to {what}" + (f" ({width}-day bins)" if width > 1 else ""))
            self._count_axis(axes, "Discharges")
            self._legend(figure, [self.Patch(color=colour),
                                  self.Line2D([], [], color=INK, linestyle=(0, (4, 2)), linewidth=1.2)],
                         [f"Discharges by days to {what}", "Median"])
            return _Chart(key, heading, caption, self._svg(figure, key, heading))

    def partners(self) -> _Chart:
        heading = "Money that fell to the CCG and the council"
        caption = ("What the CCG and the council paid each month for care after the free periods ended, "
                   "as decided by the pooled-budget rules.")
        ccg = [m.amount_by_funder.get("ccg", 0) / 100 for m in self.months]
        council = [m.amount_by_funder.get("council", 0) / 100 for m in self.months]
        if not any(ccg) and not any(council):
            return _Chart("partners", heading, caption, None, "Nothing fell to the CCG or the council in the period.")
        with self.matplotlib.rc_context(_RC):
            figure, axes = self._figure(height=3.0)
            width = 0.38
            axes.bar([i - width / 2 for i in range(self.n)], ccg, width, color=FUNDER_COLOURS["ccg"])
            axes.bar([i + width / 2 for i in range(self.n)], council, width, color=FUNDER_COLOURS["council"])
            if any(v < 0 for v in ccg + council):
                axes.axhline(0, color="#4a545e", linewidth=0.9)
            self._month_axis(axes)
            self._pounds_axis(axes, "Paid (£)")
            ccg_code, council_code = self.data.ccg[0], self.data.council[0]
            self._legend(figure, [self.Patch(color=FUNDER_COLOURS["ccg"]), self.Patch(color=FUNDER_COLOURS["council"])],
                         [_mpl_text(f"CCG ({ccg_code})" if ccg_code else "CCG"),
                          _mpl_text(f"Council ({council_code})" if council_code else "Council")])
            return _Chart("partners", heading, caption, self._svg(figure, "partners", heading))

    def all(self) -> list[_Chart]:
        return [
            self.claimed_by_scheme(),
            self.days_by_funder(),
            self.adjustments(),
            self.claimed_received(),
            self.distribution("assessment", list(self.data.days_to_assessment), "Care Act assessment",
                              ASSESSMENT_COLOUR),
            self.distribution("chc", list(self.data.days_to_chc_decision), "CHC decision", CHC_COLOUR),
            self.partners(),
        ]


# --- the page ---------------------------------------------------------------------

_CSS = """
:root { --ink: #1d2530; --muted: #5a6570; --rule: #d5dbe1; --soft: #f3f5f7; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #e9edf1; color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; background: #fff; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .6rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .8rem; padding-bottom: .3rem; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.02rem; margin: 0 0 .2rem; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; font-size: .92rem; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; }
.code { font-variant-numeric: tabular-nums; color: var(--muted); }
.warnings { margin: 1.2rem 0; padding: .8rem 1rem; border: 2px solid #b42318; border-left-width: 8px;
  background: #fef3f2; color: #7a1a12; }
.warnings strong { display: block; font-size: 1.05rem; margin-bottom: .2rem; }
.warnings ul { margin: .2rem 0 0 1.1rem; padding: 0; }
.key { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: .7rem; margin: 1.2rem 0 0; }
.key div { background: var(--soft); border-left: 4px solid #8496a9; padding: .5rem .75rem; }
.key dt { font-size: .8rem; color: var(--muted); }
.key dd { margin: .1rem 0 0; font-size: 1.15rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.key .note { font-size: .78rem; font-weight: 400; color: var(--muted); }
figure.chart { margin: 0 0 1.6rem; padding: .9rem 0 .4rem; border-top: 1px solid var(--rule); }
h2 + figure.chart { border-top: none; padding-top: 0; }
figure.chart svg text { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
figure.chart svg { display: block; width: 100%; height: auto; margin: .3rem 0; }
figure.chart figcaption { font-size: .88rem; color: var(--muted); max-width: 62rem; }
.empty { margin: .5rem 0; padding: 1rem; background: var(--soft); color: var(--muted); font-style: italic; }
.table-block { margin-top: 1.4rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .8rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: .85rem; padding: 0 0 .4rem; }
th, td { padding: .28rem .34rem; border-bottom: 1px solid var(--rule); vertical-align: bottom; }
thead th { background: var(--soft); text-align: right; font-weight: 600; border-bottom: 2px solid #aab3bc; }
thead th.text, td.text, th[scope=row] { text-align: left; }
td.num { text-align: right; white-space: nowrap; }
th[scope=row] { font-weight: 600; white-space: nowrap; }
tfoot td, tfoot th { font-weight: 700; border-top: 2px solid var(--ink); border-bottom: none; }
td.neg { color: #9b1c1c; }
td.zero { color: #8a949e; }
tr.draft th[scope=row], tr.draft td { background: #fffbea; }
.swatch { display: inline-block; width: .7em; height: .7em; margin-right: .3em; vertical-align: baseline;
  border: 1px solid rgba(0,0,0,.15); }
.status { white-space: nowrap; }
.status.matched { color: #1b6b35; }
.status.under-paid { color: #9b1c1c; font-weight: 600; }
.status.over-paid { color: #8a5a00; font-weight: 600; }
.status.awaiting, .status.draft { color: var(--muted); font-style: italic; }
footer { margin-top: 2rem; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--rule); padding-top: .6rem; }
@page { size: A4 portrait; margin: 14mm 12mm 14mm; }
@page wide { size: A4 landscape; margin: 12mm 12mm 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: #fff; font-size: 9.5pt; }
  main { max-width: none; margin: 0; padding: 0; }
  h1 { font-size: 16pt; }
  h2 { font-size: 12.5pt; margin-top: 0; break-after: avoid; page-break-after: avoid; }
  section { break-before: auto; }
  section.tables { page: wide; break-before: page; page-break-before: always; }
  figure.chart { break-inside: avoid; page-break-inside: avoid; margin-bottom: 4mm; padding-top: 2mm; }
  figure.chart svg { max-height: 82mm; }
  .warnings, .key, .key div, tr, .table-block { break-inside: avoid; page-break-inside: avoid; }
  .key { grid-template-columns: repeat(4, 1fr); gap: 2.5mm; margin-bottom: 6mm; }
  .key dd { font-size: 11pt; }
  footer { page: wide; }
  .table-wrap { overflow: visible; }
  table { font-size: 8.2pt; }
  th, td { padding: 1.2mm 1mm; }
  thead { display: table-header-group; }
  tfoot { display: table-row-group; }
}
"""


def _money_cell(pence: int | None) -> str:
    if pence is None:
        return '<td class="num">—</td>'
    css = "num neg" if pence < 0 else ("num zero" if pence == 0 else "num")
    return f'<td class="{css}">{_e(format_pounds(pence))}</td>'


def _count_cell(count: int) -> str:
    return f'<td class="num">{count:,}</td>'


def _partner(code: str, name: str, role: str) -> str:
    """labels.partner_text, with the code muted: 'Kent County Council <span>(KCC)</span>'."""
    if code and name and name != code:
        return f'{_e(name)} <span class="code">({_e(code)})</span>'
    return _e(partner_text(code, name, role))


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{colour}" aria-hidden="true"></span>'


def _header(data: ReportData, rows: list[_Row]) -> str:
    council_code, council_name = data.council
    ccg_code, ccg_name = data.ccg
    n = len(rows)
    period = (f"{_month_long(data.first_month)} to {_month_long(data.last_month)} ({_plural(n, 'month')})"
              if n > 1 else f"{_month_long(data.first_month)} (1 month)")
    parts = [
        f"<h1>{_e(data.title)}</h1>",
        '<dl class="meta">',
        f"<dt>Partners</dt><dd>{_partner(council_code, council_name, 'council')} and "
        f"{_partner(ccg_code, ccg_name, 'CCG')}</dd>",
        f"<dt>Period</dt><dd>{_e(period)}</dd>",
        f'<dt>Generated</dt><dd><time datetime="{_e(data.generated_at)}">{_e(when_text(data.generated_at))}</time></dd>',
        f"<dt>Data</dt><dd>{_e(data.data_note)}</dd>",
        "</dl>",
    ]
    if data.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in data.warnings)
        parts.append(f'<div class="warnings" role="alert"><strong>Warning: check before relying on these figures'
                     f'</strong><ul>{items}</ul></div>')
    return "\n".join(parts)


def _key_figures(rows: list[_Row]) -> str:
    """The tiles: one 'total claimed' (submitted months only), drafts and months hds does not claim apart."""
    claimed = sum(r.total_claimed for r in rows if r.figures.submitted)
    received = sum(r.figures.received_pence for r in rows if r.figures.received_pence is not None)
    awaiting = [r for r in rows if r.status == "awaiting" and r.figures.submitted]
    drafts = [r for r in rows if r.figures.shown_state == "draft"]
    outside = [r for r in rows if r.figures.shown_state == "not claimed"]
    ccg = sum(r.figures.amount_by_funder.get("ccg", 0) for r in rows)
    council = sum(r.figures.amount_by_funder.get("council", 0) for r in rows)
    cards = [
        ("Total claimed", format_pounds(claimed), "submitted months: own care plus adjustments"),
        ("Received from NHS England", format_pounds(received), ""),
        ("Running position", format_pounds(rows[-1].position), "received minus claimed"),
        ("Awaiting payment", format_pounds(sum(r.total_claimed for r in awaiting)),
         _plural(len(awaiting), "month") if awaiting else "nothing outstanding"),
        ("Fell to the CCG", format_pounds(ccg), ""),
        ("Fell to the council", format_pounds(council), ""),
    ]
    if drafts:
        cards.append(("Drafts, not submitted", format_pounds(sum(r.total_claimed for r in drafts)),
                      f"{_plural(len(drafts), 'month')} still to claim"))
    if outside:
        cards.append(("Not claimed by hds", format_pounds(sum(r.total_claimed for r in outside)),
                      f"{_plural(len(outside), 'month')} before the first submission, claimed outside hds"))
    body = "".join(
        f'<div data-key="{_e(label)}"><dt>{_e(label)}</dt><dd>{_e(value)}'
        + (f'<br><span class="note">{_e(note)}</span>' if note else "")
        + "</dd></div>"
        for label, value, note in cards
    )
    return f'<dl class="key" id="key-figures">{body}</dl>'


def _chart_html(chart: _Chart) -> str:
    drawing = chart.svg if chart.svg is not None else f'<p class="empty">{_e(chart.empty)}</p>'
    return (f'<figure class="chart" id="chart-{chart.key}"><h3>{_e(chart.heading)}</h3>\n'
            f"{drawing}\n<figcaption>{_e(chart.caption)}</figcaption></figure>")


_STATUS_TEXT = {"matched": "Matched", "under-paid": "Under-paid", "over-paid": "Over-paid", "awaiting": "Awaiting"}


def _status_text(row: _Row) -> str:
    """Submitted months: how NHS England paid. Other months: their state, plus any payment already seen."""
    if row.figures.submitted:
        return _STATUS_TEXT[row.status]
    word = STATE_WORDS[row.figures.shown_state]
    return word if row.status == "awaiting" else f"{word}; {row.status}"


def _status_cell(row: _Row) -> str:
    css = row.status if row.figures.submitted else "draft"
    return f'<td class="text status {css}">{_e(_status_text(row))}</td>'


def _claims_table(rows: list[_Row], schemes: list[str], colours: dict[str, str]) -> str:
    head = ['<th scope="col" class="text">Month</th>']
    head += [f'<th scope="col">{_swatch(colours[s])}{_e(s)}</th>' for s in schemes]
    head += ['<th scope="col">Adjustments</th>', '<th scope="col">Total claimed</th>',
             '<th scope="col">Received</th>', '<th scope="col">Difference</th>',
             '<th scope="col" class="text">Status</th>']
    body = []
    for r in rows:
        m = r.figures
        cells = [f'<th scope="row">{_e(_month_short(m.month))}</th>']
        cells += [_money_cell(m.claimed_by_scheme.get(s, 0)) for s in schemes]
        cells += [_money_cell(m.adjustments_pence), _money_cell(r.total_claimed), _money_cell(m.received_pence),
                  _money_cell(r.difference),
                  _status_cell(r)]
        css = "" if m.submitted else ' class="draft"'
        body.append(f'<tr{css} data-month="{_e(m.month)}" data-state="{_e(m.shown_state)}">{"".join(cells)}</tr>')
    totals = [_claims_total(label, [r for r in rows if r.figures.shown_state == state], schemes)
              for state, label in (("submitted", "Total claimed"), ("draft", "Drafts, not submitted"),
                                   ("not claimed", "Not claimed by hds"))]
    totals = totals[:1] + [t for t in totals[1:] if t]
    return (
        '<div class="table-wrap"><table id="table-claims">'
        "<caption>Claims and payments by month. Difference is received minus total claimed, for months "
        "NHS England has paid; its total covers those months only. Status: matched, under-paid or over-paid "
        "once paid, awaiting until then; draft for a month not yet submitted; not claimed for a month before "
        "the first submission, which was claimed outside hds. Total claimed counts submitted months only; "
        "drafts and months not claimed are totalled apart.</caption>"
        f'<thead><tr>{"".join(head)}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody>'
        f'<tfoot>{"".join(totals)}</tfoot></table></div>'
    )


def _claims_total(label: str, rows: list[_Row], schemes: list[str]) -> str:
    """A footer row: the months of one state summed ('' for none, except the total claimed)."""
    if not rows and label != "Total claimed":
        return ""
    received = [r.figures.received_pence for r in rows if r.figures.received_pence is not None]
    cells = [f'<th scope="row">{_e(label)}</th>']
    cells += [_money_cell(sum(r.figures.claimed_by_scheme.get(s, 0) for r in rows)) for s in schemes]
    cells += [_money_cell(sum(r.figures.adjustments_pence for r in rows)), _money_cell(sum(r.total_claimed for r in rows)),
              _money_cell(sum(received)), _money_cell(sum(r.difference for r in rows if r.difference is not None)),
              "<td></td>"]
    return f'<tr data-total="{_e(label)}">{"".join(cells)}</tr>'


def _care_table(rows: list[_Row]) -> str:
    head = ['<th scope="col" class="text">Month</th>']
    head += [f'<th scope="col">{_swatch(FUNDER_COLOURS[f])}{_e(FUNDER_LABELS[f])} days</th>' for f in FUNDERS]
    head += ['<th scope="col">All days</th>',
             f'<th scope="col">{_swatch(FUNDER_COLOURS["ccg"])}CCG paid</th>',
             f'<th scope="col">{_swatch(FUNDER_COLOURS["council"])}Council paid</th>']
    body = []
    for r in rows:
        m = r.figures
        cells = [f'<th scope="row">{_e(_month_short(m.month))}</th>']
        cells += [_count_cell(m.days_by_funder.get(f, 0)) for f in FUNDERS]
        cells += [_count_cell(sum(m.days_by_funder.values())),
                  _money_cell(m.amount_by_funder.get("ccg", 0)), _money_cell(m.amount_by_funder.get("council", 0))]
        css = "" if m.submitted else ' class="draft"'
        body.append(f'<tr{css} data-month="{_e(m.month)}">{"".join(cells)}</tr>')
    total = ['<th scope="row">Total</th>']
    total += [_count_cell(sum(r.figures.days_by_funder.get(f, 0) for r in rows)) for f in FUNDERS]
    total += [_count_cell(sum(sum(r.figures.days_by_funder.values()) for r in rows)),
              _money_cell(sum(r.figures.amount_by_funder.get("ccg", 0) for r in rows)),
              _money_cell(sum(r.figures.amount_by_funder.get("council", 0) for r in rows))]
    return (
        '<div class="table-wrap"><table id="table-care">'
        "<caption>Care days by who paid, and the money that fell to the CCG and the council, by month.</caption>"
        f'<thead><tr>{"".join(head)}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody>'
        f'<tfoot><tr>{"".join(total)}</tr></tfoot></table></div>'
    )


def _memorandum_block(memo: MemoTable | None) -> list[str]:
    """The memorandum note of the pooled budget: a row per service line, organisation and kind, a
    column per month, the year to date, the forecast and the outturn."""
    if memo is None:
        return []
    head = ['<th scope="col" class="text">Service line</th>', '<th scope="col" class="text">Organisation</th>',
            '<th scope="col" class="text">Individual or block</th>']
    head += [f'<th scope="col">{_e(_month_short(m))}{" (forecast)" if m in memo.forecast else ""}</th>'
             for m in memo.months]
    head += ['<th scope="col">To date</th>', '<th scope="col">Forecast</th>', '<th scope="col">Outturn</th>']
    body = []
    for r in memo.rows:
        line = _e(r.service_line) + (' <span class="note">(new cost)</span>' if r.new else "")
        cells = [f'<th scope="row">{line}</th>', f'<td class="text">{_e(r.organisation)}</td>',
                 f'<td class="text">{"individual" if r.individual else "block"}</td>']
        cells += [_money_cell(p) for p in r.pence] + [_money_cell(r.to_date), _money_cell(r.forecast),
                                                        _money_cell(r.outturn)]
        body.append(f'<tr>{"".join(cells)}</tr>')
    total = ['<th scope="row">Total</th>', "<td></td>", "<td></td>"]
    total += [_money_cell(sum(r.pence[i] for r in memo.rows)) for i in range(len(memo.months))]
    total += [_money_cell(sum(getattr(r, k) for r in memo.rows)) for k in ("to_date", "forecast", "outturn")]
    return [f'<div class="table-block"><h3>{_e(memo.heading)}</h3>', f'<p class="note">{_e(memo.note)}</p>',
            '<div class="table-wrap"><table id="table-memorandum">'
            "<caption>Scheme costs by service line and the organisation that incurred them, month by "
            "month.</caption>"
            f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody>'
            f'<tfoot><tr>{"".join(total)}</tr></tfoot></table></div>', "</div>"]


def _head(title: str) -> list[str]:
    """The document's head: the title, the inline style, and a policy that lets the page load nothing."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="generator" content="hds">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
    ]


def _forecast_figure(data: ReportData) -> list[str]:
    if data.forecast is None:
        return []
    from claims.report.forecast_page import forecast_figure

    return [forecast_figure(data.forecast)]


def render_report(data: ReportData) -> str:
    """One self-contained HTML document (UTF-8 text)."""
    _check(data)
    rows = _rows(list(data.months))
    plotter = _Plotter(data, rows)
    charts = plotter.all()
    has_drafts = any(not r.figures.submitted for r in rows)
    draft_note = (" Rows shaded yellow are months not submitted: drafts, or months before the first submission "
                  "that hds does not claim." if has_drafts else "")
    page = [
        *_head(data.title),
        "<body>",
        "<main>",
        "<header>",
        _header(data, rows),
        _key_figures(rows),
        "</header>",
        '<section class="charts" id="charts">',
        "<h2>Charts</h2>",
        *(_chart_html(chart) for chart in charts),
        *_forecast_figure(data),
        "</section>",
        '<section class="tables" id="tables">',
        "<h2>Figures by month</h2>",
        f'<p class="note">Money is in pounds and pence as claimed; “—” means nothing received yet.{_e(draft_note)}</p>',
        '<div class="table-block"><h3>Claims and payments</h3>',
        _claims_table(rows, plotter.schemes, plotter.scheme_colours),
        "</div>",
        '<div class="table-block"><h3>Care days and who paid</h3>',
        _care_table(rows),
        "</div>",
        *_memorandum_block(data.memorandum),
        "</section>",
        f"<footer>{_e(data.title)} · generated {_e(when_text(data.generated_at))} · {_e(data.data_note)}</footer>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(page)
