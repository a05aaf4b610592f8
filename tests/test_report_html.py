"""The month-range HTML report: content, money, escaping, self-containment, and a real browser."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from claims.report.html import MonthFigures, ReportData, render_report
from hds.errors import HdsError
from hds.money import format_pounds
from tests import browser

CHART_IDS = ["chart-claimed", "chart-days", "chart-adjustments", "chart-received",
             "chart-assessment", "chart-chc", "chart-partners"]


def month(name, claimed, adjustments, received, submitted=True, days=None, amounts=None):
    days = days if days is not None else {"hds": 310, "ccg": 40, "council": 25, "bau": 60, "excluded": 3}
    amounts = amounts if amounts is not None else {f: d * 10_000 for f, d in days.items()}
    return MonthFigures(name, claimed, adjustments, received, submitted, days, amounts)


def small_report(**changes) -> ReportData:
    months = [
        # matched
        month("2020-10", {"HDS1": 1_234_567, "HDS2": 5_000_000}, 0, 6_234_567),
        # under-paid, with money taken off earlier months
        month("2020-11", {"HDS2": 4_000_000}, -24_838, 3_900_000),
        # no claims for its own care at all, and nothing received yet
        month("2020-12", {}, 1_000, None, days={"bau": 12}, amounts={"bau": 50_000}),
        # over-paid; a scheme outside HDS1..HDS4 whose name needs escaping
        month("2021-01", {"HDS2": 2_000_000, "X<b>9": 100}, 0, 2_000_200),
        # draft, nothing received
        month("2021-02", {"HDS2": 1_500_000}, -500, None, submitted=False),
    ]
    data = ReportData(
        title="Hospital Discharge Scheme claims, 2020-10 to 2021-02",
        council=("OCC", "Oxford <script>alert(1)</script> Council"),
        ccg=("O&C<i>", "NHS Test CCG"),
        first_month="2020-10",
        last_month="2021-02",
        generated_at="2026-11-23T10:00:00+00:00",
        data_note="store hds.db, load 3 (2026-11-20), rulebooks 3f2a",
        months=months,
        days_to_assessment=[0, 2, 3, 3, 5, 8, 13, 21, 34],
        days_to_chc_decision=[10, 12, 15, 15, 28, 40],
        warnings=("the ledger fails verification: <submission 2>",),
    )
    return dataclasses.replace(data, **changes)


@pytest.fixture(scope="module")
def data() -> ReportData:
    return small_report()


@pytest.fixture(scope="module")
def page(data) -> str:
    return render_report(data)


# --- reading the page back ----------------------------------------------------------

class _Tables(HTMLParser):
    """Each table by id: {"head"|"body"|"foot": [[cell text, ...], ...]}."""

    def __init__(self):
        super().__init__()
        self.tables, self._table, self._section, self._row, self._cell = {}, None, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), {"head": [], "body": [], "foot": []})
        elif tag in ("thead", "tbody", "tfoot") and self._table is not None:
            self._section = {"thead": "head", "tbody": "body", "tfoot": "foot"}[tag]
        elif tag == "tr" and self._section:
            self._row = []
            self._table[self._section].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = self._section = None

    def handle_data(self, text):
        if self._cell is not None:
            self._cell.append(text)


def tables(html_text: str) -> dict:
    parser = _Tables()
    parser.feed(html_text)
    return parser.tables


def as_dicts(table: dict, section: str) -> list[dict[str, str]]:
    header = table["head"][0]
    return [dict(zip(header, row)) for row in table[section]]


def figure(html_text: str, chart_id: str) -> str:
    match = re.search(rf'<figure class="chart" id="{chart_id}">(.*?)</figure>', html_text, flags=re.S)
    assert match, f"{chart_id} missing"
    return match.group(1)


# --- content ------------------------------------------------------------------------

def test_every_chart_is_drawn_with_heading_and_caption(page):
    for chart_id in CHART_IDS:
        body = figure(page, chart_id)
        assert body.count("<svg") == 1, chart_id
        assert re.search(r"<h3>[^<]+</h3>", body), chart_id
        assert re.search(r"<figcaption>[^<]{40,}</figcaption>", body), chart_id
    assert page.count("<svg") == len(CHART_IDS)


def test_key_figures_sum_the_months(page, data):
    key = re.search(r'<dl class="key" id="key-figures">(.*?)</dl>', page, flags=re.S).group(1)
    cards = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)", key))
    submitted = [m for m in data.months if m.submitted]  # a draft is not claimed yet
    claimed = sum(sum(m.claimed_by_scheme.values()) + m.adjustments_pence for m in submitted)
    received = sum(m.received_pence or 0 for m in data.months)
    assert cards["Total claimed"] == format_pounds(claimed)
    assert cards["Received from NHS England"] == format_pounds(received)
    assert cards["Running position"] == format_pounds(received - claimed)
    awaiting = [m for m in submitted if m.received_pence is None]
    assert cards["Awaiting payment"] == format_pounds(sum(sum(m.claimed_by_scheme.values()) + m.adjustments_pence
                                                          for m in awaiting))
    assert cards["Fell to the CCG"] == format_pounds(sum(m.amount_by_funder.get("ccg", 0) for m in data.months))
    drafts = [m for m in data.months if not m.submitted]
    assert cards["Drafts, not submitted"] == format_pounds(sum(sum(m.claimed_by_scheme.values()) + m.adjustments_pence
                                                               for m in drafts))
    assert "Not claimed by hds" not in cards  # no month before the first submission in this period


def test_header_names_partners_period_provenance_and_warning(page):
    assert "Hospital Discharge Scheme claims, 2020-10 to 2021-02" in page
    assert "October 2020 to February 2021 (5 months)" in page
    assert "NHS Test CCG" in page and "(OCC)" in page
    assert '<time datetime="2026-11-23T10:00:00+00:00">23 November 2026, 10:00</time>' in page
    assert "store hds.db, load 3 (2026-11-20), rulebooks 3f2a" in page
    banner = re.search(r'<div class="warnings" role="alert">(.*?)</div>', page, flags=re.S)
    assert banner and "the ledger fails verification: &lt;submission 2&gt;" in banner.group(1)


def test_no_warning_banner_without_warnings():
    assert 'class="warnings"' not in render_report(small_report(warnings=()))


def test_claims_table_rows_and_totals_equal_the_inputs(page, data):
    table = tables(page)["table-claims"]
    assert table["head"][0][:3] == ["Month", "HDS1", "HDS2"]
    assert "X<b>9" in table["head"][0]
    rows = as_dicts(table, "body")
    assert [r["Month"] for r in rows] == ["Oct 2020", "Nov 2020", "Dec 2020", "Jan 2021", "Feb 2021"]
    for row, m in zip(rows, data.months):
        total = sum(m.claimed_by_scheme.values()) + m.adjustments_pence
        for scheme in ("HDS1", "HDS2", "X<b>9"):
            assert row[scheme] == format_pounds(m.claimed_by_scheme.get(scheme, 0))
        assert row["Adjustments"] == format_pounds(m.adjustments_pence)
        assert row["Total claimed"] == format_pounds(total)
        if m.received_pence is None:
            assert row["Received"] == row["Difference"] == "—"
        else:
            assert row["Received"] == format_pounds(m.received_pence)
            assert row["Difference"] == format_pounds(m.received_pence - total)
    assert [r["Status"] for r in rows] == ["Matched", "Under-paid", "Awaiting", "Over-paid", "Draft"]

    foot, drafts = as_dicts(table, "foot")  # the total claimed counts submitted months only; drafts apart
    assert foot["Month"] == "Total claimed" and drafts["Month"] == "Drafts, not submitted"
    assert foot["HDS2"] == format_pounds(5_000_000 + 4_000_000 + 2_000_000)
    assert (drafts["HDS2"], drafts["Total claimed"]) == (format_pounds(1_500_000), format_pounds(1_500_000 - 500))
    assert foot["Adjustments"] == format_pounds(-24_838 + 1_000)
    claimed = sum(sum(m.claimed_by_scheme.values()) + m.adjustments_pence for m in data.months if m.submitted)
    assert foot["Total claimed"] == format_pounds(claimed)
    received = sum(m.received_pence for m in data.months if m.received_pence is not None)
    assert foot["Received"] == format_pounds(received)
    paid = [m for m in data.months if m.received_pence is not None]
    assert foot["Difference"] == format_pounds(
        sum(m.received_pence - sum(m.claimed_by_scheme.values()) - m.adjustments_pence for m in paid))


def test_care_table_rows_and_totals_equal_the_inputs(page, data):
    table = tables(page)["table-care"]
    rows, [foot] = as_dicts(table, "body"), as_dicts(table, "foot")
    header = table["head"][0]
    days_columns = dict(zip(["hds", "ccg", "council", "bau", "excluded"], header[1:6]))
    for row, m in zip(rows, data.months):
        for funder, column in days_columns.items():
            assert row[column] == f"{m.days_by_funder.get(funder, 0):,}"
        assert row["All days"] == f"{sum(m.days_by_funder.values()):,}"
        assert row["CCG paid"] == format_pounds(m.amount_by_funder.get("ccg", 0))
        assert row["Council paid"] == format_pounds(m.amount_by_funder.get("council", 0))
    assert foot["All days"] == f"{sum(sum(m.days_by_funder.values()) for m in data.months):,}"
    assert foot["CCG paid"] == format_pounds(sum(m.amount_by_funder.get("ccg", 0) for m in data.months))
    assert foot["Council paid"] == format_pounds(sum(m.amount_by_funder.get("council", 0) for m in data.months))


def test_negative_money_is_shown_with_a_leading_minus(page):
    nov = next(r for r in as_dicts(tables(page)["table-claims"], "body") if r["Month"] == "Nov 2020")
    assert nov["Adjustments"] == "-£248.38"
    assert nov["Difference"] == "-£751.62"
    assert '<td class="num neg">-£248.38</td>' in page
    assert "£-" not in page


def test_money_cells_are_right_aligned_in_one_format(page):
    for cell in re.findall(r'<td class="([^"]*)">(-?£[^<]*)</td>', page):
        css, text = cell
        assert "num" in css.split(), text
        assert re.fullmatch(r"-?£\d{1,3}(,\d{3})*\.\d\d", text), text


def test_charts_mark_draft_and_awaiting_months_and_state_the_median(page):
    received = figure(page, "chart-received")
    assert 'id="received-awaiting-2020-12"' in received and 'id="received-draft-2021-02"' in received
    assert 'id="received-awaiting-2021-02"' not in received  # a draft awaits nothing: it is not claimed yet
    assert ">draft</text>" in figure(page, "chart-claimed")
    assert ">none</text>" in figure(page, "chart-claimed")   # December claimed nothing for its own care
    assert "the median is 5 days" in figure(page, "chart-assessment")
    assert ">median 5 days</text>" in figure(page, "chart-assessment")
    assert "the median is 15 days" in figure(page, "chart-chc")


def test_charts_use_the_same_colour_for_a_funder_everywhere(page):
    ccg_colour = "#2a9d8f"
    assert f"fill: {ccg_colour}" in figure(page, "chart-days")
    assert f"fill: {ccg_colour}" in figure(page, "chart-partners")
    assert f"background:{ccg_colour}" in page   # the table's swatch


# --- safety and self-containment --------------------------------------------------

def test_loads_nothing_from_the_network(page):
    assert not re.search(r"""\b(src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", page, re.I)
    assert "@import" not in page
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed"):
        assert tag not in page.lower(), tag
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_text_from_data_is_escaped(page):
    assert "<script>" not in page
    assert "Oxford &lt;script&gt;alert(1)&lt;/script&gt; Council" in page
    assert "<i>" not in page and "<b>9" not in page
    assert "O&amp;C&lt;i&gt;" in page            # in the header and in the chart legend
    assert "X&lt;b&gt;9" in page


def test_ids_are_unique_and_every_reference_resolves(page):
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    references = set(re.findall(r"url\(#([^)]+)\)", page)) | set(re.findall(r'href="#([^"]+)"', page))
    assert references and references <= set(ids)


def test_output_is_deterministic_apart_from_generated_at(data, page):
    again = render_report(dataclasses.replace(data, generated_at="2027-01-01T00:00:00+00:00"))
    assert again.replace("2027-01-01T00:00:00+00:00", "2026-11-23T10:00:00+00:00").replace(
        "1 January 2027, 00:00", "23 November 2026, 10:00") == page


# --- empty cases -------------------------------------------------------------------

def test_empty_distributions_say_so_instead_of_a_chart():
    page = render_report(small_report(days_to_assessment=[], days_to_chc_decision=[]))
    assessment, chc = figure(page, "chart-assessment"), figure(page, "chart-chc")
    assert "<svg" not in assessment and "No Care Act assessments in the period." in assessment
    assert "<svg" not in chc and "No CHC decisions in the period." in chc
    assert page.count("<svg") == len(CHART_IDS) - 2


def test_nothing_received_at_all():
    base = small_report()
    months = [dataclasses.replace(m, received_pence=None) for m in base.months]
    page = render_report(dataclasses.replace(base, months=months))
    rows = as_dicts(tables(page)["table-claims"], "body")
    assert [r["Status"] for r in rows] == ["Awaiting"] * 4 + ["Draft"]
    foot = as_dicts(tables(page)["table-claims"], "foot")[0]
    assert foot["Received"] == "£0.00" and foot["Difference"] == "£0.00"
    assert len(re.findall(r'id="received-awaiting-\d{4}-\d\d"', figure(page, "chart-received"))) == 4


def test_a_period_with_nothing_in_it_renders_messages_not_charts():
    empty = [month(m, {}, 0, None, days={}, amounts={}) for m in ("2021-03", "2021-04")]
    page = render_report(small_report(first_month="2021-03", last_month="2021-04", months=empty,
                                      days_to_assessment=[], days_to_chc_decision=[], warnings=()))
    assert "<svg" not in page
    for chart_id in CHART_IDS:
        assert '<p class="empty">' in figure(page, chart_id)
    foot = as_dicts(tables(page)["table-claims"], "foot")[0]
    assert foot["Total claimed"] == "£0.00"


def test_a_single_month_report():
    one = small_report(first_month="2020-10", last_month="2020-10", months=small_report().months[:1])
    page = render_report(one)
    assert "October 2020 (1 month)" in page
    assert len(as_dicts(tables(page)["table-claims"], "body")) == 1


# --- bad input ---------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    ({"months": list(reversed(small_report().months))}, "months must run in order"),
    ({"months": small_report().months[:4]}, "expected 5 months"),
    ({"first_month": "2021-03"}, "after last_month"),
    ({"last_month": "2021-13"}, "not a month"),
    ({"months": [dataclasses.replace(small_report().months[0], adjustments_pence=1.5)]
      + small_report().months[1:]}, "whole pence"),
    ({"months": [dataclasses.replace(small_report().months[0], days_by_funder={"nhs": 3})]
      + small_report().months[1:]}, "funder 'nhs'"),
    ({"days_to_assessment": [1, 2.5]}, "whole numbers of days"),
    ({"council": ("OCC",)}, "(code, name) pair"),
])
def test_bad_input_is_a_clear_hds_error(changes, message):
    with pytest.raises(HdsError, match=re.escape(message)):
        render_report(small_report(**changes))


def test_importing_the_module_does_not_import_matplotlib():
    code = "import sys, claims.report.html; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- in a real browser -------------------------------------------------------------

def test_report_in_headless_chromium(tmp_path, page, chromium):
    browser.require_chromium()
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    with browser.open_file(path, chromium, width=1280, height=900) as view:
        assert view.errors() == []
        charts = view.evaluate("""() => [...document.querySelectorAll('figure.chart')].map(f => {
            const svg = f.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
            return {id: f.id, svgs: f.querySelectorAll('svg').length,
                    marks: svg ? svg.querySelectorAll('path, rect, use').length : 0,
                    texts: svg ? svg.querySelectorAll('text').length : 0,
                    width: box.width, height: box.height};
        })""")
        assert [c["id"] for c in charts] == CHART_IDS
        for chart in charts:
            assert chart["svgs"] == 1, chart
            assert chart["marks"] >= 12, chart
            assert chart["texts"] >= 5, chart
            assert chart["width"] > 600 and chart["height"] > 150, chart
        layout = view.evaluate("""() => ({
            pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
            tables: [...document.querySelectorAll('.table-wrap')].map(w => w.scrollWidth - w.clientWidth),
            banner: document.querySelector('.warnings').getBoundingClientRect().height})""")
        assert layout["pageWidth"] <= layout["viewport"]   # nothing sticks out sideways on a laptop
        assert layout["tables"] == [0, 0]
        assert layout["banner"] > 20
        overlaps = view.evaluate("""() => {
            const found = [];
            for (const svg of document.querySelectorAll('figure.chart svg')) {
                const boxes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
                    .map(t => [t.textContent, t.getBoundingClientRect()]);
                for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                    const [a, p] = boxes[i], [b, q] = boxes[j];
                    const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
                    const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
                    if (w > 1 && h > 1) found.push(`${svg.closest('figure').id}: "${a}" over "${b}"`);
                }
            }
            return found;
        }""")
        assert overlaps == []                                # no label drawn over another
        screenshot = view.screenshot(tmp_path / "report.png")
    assert screenshot.stat().st_size > 20_000
    assert browser.distinct_colours(screenshot) > 64
    from PIL import Image
    with Image.open(screenshot) as image:
        pixels = image.convert("RGB").getcolors(maxcolors=1 << 24)
    counts = {colour: n for n, colour in pixels}
    hds2_orange, ccg_teal = (0xe6, 0x9f, 0x00), (0x2a, 0x9d, 0x8f)
    assert counts.get(hds2_orange, 0) > 2_000   # the scheme bars were painted
    assert counts.get(ccg_teal, 0) > 500        # and the funder bars
