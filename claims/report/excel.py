"""Excel workbooks that are fit to print, sign and send.

`claim_pack_bytes` writes the month-end claim pack: a Summary a finance
officer signs, the month's lines, the adjustments for earlier months, the
block costs, the reconciliation, the recharge between the partners and the
findings of the checks. `table_workbook_bytes` writes any other export as
plain, printable tables.

The caller hands over values already computed (money as Decimal pounds).
Nothing here computes money: every total in a workbook is an Excel formula
(`=SUM`, `=SUMIFS`, or `=SUMPRODUCT` where SUMIFS would misread a label)
over the cells it totals, so a checker can click it and follow it.

Every piece of text that comes from data goes through
`claims.report.safe.neutralise` and is written as a string whatever it looks
like (an error code such as #N/A stays text), so the only formulas in a
workbook are the totals written here. Formulas go out without a cached
result, so Excel and LibreOffice calculate them on opening.

Workbooks are written with XlsxWriter (openpyxl only reads the input
workbooks), row by row: column widths, row heights and merges are decided as
a sheet's rows are written, and each sheet's layout is worked out first so
the Summary can point at rows not yet written.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from operator import attrgetter
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence
from zipfile import ZipInfo

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_cell_to_rowcol, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from claims.report.columns import KINDS, Column, columns
from claims.report.deliver import Report
from claims.report.labels import partner_text, service_text, user_text
from claims.report.safe import FORMULA_LEADERS, FULL_WIDTH_LEADERS, neutralise
from hds.dates import MONTH_NAMES


# --- the values handed over -------------------------------------------------------

@dataclass(frozen=True)
class Partner:
    code: str
    name: str


@dataclass(frozen=True)
class PackLine:
    claim_month: str
    kind: str  # "individual" | "block"
    patient_id: str
    discharge_id: str
    episode_id: str
    block_id: str
    description: str
    scheme: str
    service: str
    organisation: str
    days: int
    amount: Decimal  # pounds, 2 dp, may be negative (adjustments)
    reason: str = ""  # adjustments only


PACK_LINE_FIELDS = tuple(PackLine.__dataclass_fields__)


class PackLines(Sequence):
    """A pack's lines kept as a list per field of PackLine (in its order): a national month's lines are
    handed over and written a column at a time, never made into objects one by one. Read as a sequence
    it gives each line as a PackLine."""

    def __init__(self, columns: dict[str, list]):
        if list(columns) != list(PACK_LINE_FIELDS):
            raise ValueError(f"pack lines need the columns {', '.join(PACK_LINE_FIELDS)}")
        self.columns = columns
        self.count = len(columns["kind"])
        if any(len(values) != self.count for values in columns.values()):
            raise ValueError("pack lines' columns differ in length")

    @classmethod
    def of(cls, lines: Iterable[PackLine]) -> PackLines:
        if isinstance(lines, PackLines):
            return lines
        lines = list(lines)
        return cls({key: [getattr(line, key) for line in lines] for key in PACK_LINE_FIELDS})

    def column(self, key: str) -> list:
        return self.columns[key]

    def where(self, key: str, value) -> PackLines:
        """The lines whose `key` is `value`, in order."""
        picked = [n for n, v in enumerate(self.columns[key]) if v == value]
        return PackLines({k: [values[n] for n in picked] for k, values in self.columns.items()})

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return PackLines({k: values[index] for k, values in self.columns.items()})
        return PackLine(*(values[index] for values in self.columns.values()))

    def __iter__(self):
        return map(PackLine, *self.columns.values())

    def __add__(self, other) -> PackLines:
        other = PackLines.of(other)
        return PackLines({k: values + other.columns[k] for k, values in self.columns.items()})

    def __radd__(self, other) -> PackLines:
        return PackLines.of(other) + self

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and list(self) == list(other)

    __hash__ = None


@dataclass(frozen=True)
class Submission:
    id: int
    submitted_at: str
    submitted_by: str
    hash: str
    load_id: int
    rulebook_version: str


@dataclass(frozen=True)
class ClaimPack:
    month: str
    status: str  # "draft" | "submitted" | "not claimed" (before the first submitted month: hds never claims it)
    council: Partner
    ccg: Partner
    generated_at: str
    load_id: int | None
    rulebook_version: str
    submission: Submission | None
    lines: PackLines  # the month's own lines, individual and block (any sequence of PackLine is taken as them)
    adjustments: PackLines  # corrections for earlier months (claim_month < month)
    reconciliation: Report | None = None  # hds reconcile's report: per scheme, the running position in `more`
    recharge: Report | None = None  # hds recharge's report: its items, the net in data["net"]
    findings: Report | None = None  # the checks' findings (FINDING_COLUMNS, with subject and acknowledged);
    # None: not run, no rows: nothing found
    warnings: tuple[str, ...] = ()  # shown in red on the Summary
    invoice: Report | None = None  # the invoice's lines; data: its heading lines, the total's label and total
    memorandum: Report | None = None  # the month's column of the memorandum note (MEMO_COLUMNS)
    # The fingerprint of the figures (claims.ledger.hashing.figures_fingerprint): for a draft, the one
    # `hds submit` will print if it stores these figures; for a submission, the one it stored.
    fingerprint: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "lines", PackLines.of(self.lines))
        object.__setattr__(self, "adjustments", PackLines.of(self.adjustments))


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict, ...]
    total: bool = False  # a total row: =SUM over each money column
    heading: str = ""  # a title line above the table


# --- formats and styles ---------------------------------------------------------------

MONEY_FORMAT = "£#,##0.00;-£#,##0.00"
INT_FORMAT = "#,##0"
DATE_FORMAT = "dd mmm yyyy"
DATETIME_FORMAT = "d mmmm yyyy, hh:mm"  # 3 December 2026, 21:14
UTC_FORMAT = 'd mmmm yyyy, hh:mm "UTC"'
MONTH_FORMAT = "mmm yyyy"
LONG_MONTH_FORMAT = "mmmm yyyy"

FONT = "Arial"  # metric twin of Liberation Sans, so widths hold in Excel and LibreOffice alike
MONO = "Courier New"
SIZE = 10
SMALL = 8  # the certificate's list of errors when it is long: more to a page
SMALL_LINE = 10.5  # points per line of 8pt text
LINE_HEIGHT = 13.0  # points per line of 10pt text
ROW_HEIGHT = 12.8  # a row of one line, as LibreOffice and Excel draw Arial 10
CHARS_PER_UNIT = 1.1  # characters of ordinary text per unit of column width (a unit is one digit), erring low
A4 = 9  # paperSize code
BUILTIN_FORMATS = {"#,##0": 3}  # number formats Excel knows by number, stored by number ("0" XlsxWriter does itself)
EXCEL_ROWS = 1_048_576
TEXT_CAP = 40  # widest a text column gets, unless the page has room to spare; longer text wraps
TEXT_WIDEST = 90  # widest a text column gets with room to spare
PAGE_WIDTH = 140  # column-width units that print across a landscape A4 page at 100%
RED = "C00000"
MARGIN_SIDE, MARGIN_TOP, MARGIN_HEADER = 0.4, 0.6, 0.25  # inches
PAGE_HEIGHT = 595.0 - 2 * MARGIN_TOP * 72  # points of rows on a landscape A4 page at 100%

THIN, DOUBLE = 1, 6  # XlsxWriter's border styles
BLACK, GRID_GREY = "#000000", "#A6A6A6"


def _font(size: float = SIZE, *, bold: bool = False, italic: bool = False, color: str = "", name: str = FONT) -> dict:
    parts = dict(font_name=name, font_size=size, bold=bold, italic=italic)
    if color:
        parts["font_color"] = "#" + color
    return parts


def _fill(color: str) -> dict:
    return dict(pattern=1, bg_color="#" + color)  # a solid fill


def _align(horizontal: str = "", vertical: str = "", wrap: bool = False, indent: int = 0) -> dict:
    parts: dict = {}
    if horizontal:
        parts["align"] = horizontal
    if vertical:
        parts["valign"] = {"center": "vcenter"}.get(vertical, vertical)
    if wrap:
        parts["text_wrap"] = True
    if indent:
        parts["indent"] = indent
    return parts


def _border(top=None, bottom=None, left=None, right=None) -> dict:
    """Each side (style, colour) or None; the colour "" for the automatic one."""
    parts: dict = {}
    for side, spec in (("top", top), ("bottom", bottom), ("left", left), ("right", right)):
        if spec is not None:
            parts[side] = spec[0]
            if spec[1]:
                parts[side + "_color"] = spec[1]
    return parts


_BOX = (THIN, BLACK)
_BOXED = _border(_BOX, _BOX, _BOX, _BOX)
_TOP_BOX = _border(top=_BOX)
_TOP_DOUBLE = _border(top=_BOX, bottom=(DOUBLE, ""))
_HEAD = {**_font(bold=True), **_fill("D9D9D9"), **_border(bottom=_BOX)}
_SECTION = {**_font(11, bold=True), **_fill("DDEBF7"), **_border(bottom=_BOX)}
_SIGN = {**_BOXED, **_fill("F2F2F2")}
_LEFT_TOP = _align("left", "top")

# name -> the style's parts (XlsxWriter format properties); data cells use the "<kind>" and "<kind>/top" variants
_STYLES: dict[str, dict] = {
    "text/top": _align(vertical="top"),
    "text/wrap": _align("left", "top", wrap=True, indent=1),
    "money": dict(num_format=MONEY_FORMAT),
    "money/top": dict(num_format=MONEY_FORMAT, **_align(vertical="top")),
    "int": dict(num_format=INT_FORMAT),
    "int/top": dict(num_format=INT_FORMAT, **_align(vertical="top")),
    "date": dict(num_format=DATE_FORMAT, **_align("left")),
    "date/top": dict(num_format=DATE_FORMAT, **_LEFT_TOP),
    "datetime": dict(num_format=DATETIME_FORMAT, **_align("left")),
    "datetime/top": dict(num_format=DATETIME_FORMAT, **_LEFT_TOP),
    "utc": dict(num_format=UTC_FORMAT, **_align("left")),
    "utc/top": dict(num_format=UTC_FORMAT, **_LEFT_TOP),
    "month": dict(num_format=MONTH_FORMAT, **_align("left")),
    "month/top": dict(num_format=MONTH_FORMAT, **_LEFT_TOP),
    "th": {**_HEAD, **_align(vertical="center", wrap=True)},
    "th/right": {**_HEAD, **_align("right", "center", wrap=True)},
    "total": {**_font(bold=True), **_TOP_BOX},
    "total/int": {**_font(bold=True), **_TOP_BOX, "num_format": INT_FORMAT},
    "total/money": {**_font(bold=True), **_TOP_BOX, "num_format": MONEY_FORMAT},
    "grand/label": {**_font(12, bold=True), **_TOP_DOUBLE},
    "grand/money": {**_font(12, bold=True), **_TOP_DOUBLE, "num_format": MONEY_FORMAT},
    "title": {**_font(16, bold=True), **_align(vertical="center")},
    "heading": {**_font(12, bold=True), **_align(vertical="center", wrap=True)},
    "subheading": _font(bold=True),
    "section": _SECTION,
    "section/right": {**_SECTION, **_align("right")},
    "section/pad": {**_SECTION, **_align("left", indent=1)},
    "banner/draft": {**_font(14, bold=True, color=RED), **_fill("FDE9E9"), **_border(_BOX, _BOX),
                     **_align("center", "center")},
    "banner/submitted": {**_font(12, bold=True, color="375623"), **_fill("E2EFDA"), **_border(_BOX, _BOX),
                         **_align("center", "center")},
    "label": {**_font(bold=True), **_align(vertical="top")},
    "value": _align("left", "top", wrap=True),
    "value/int": dict(num_format="0", **_LEFT_TOP),
    "value/month": dict(num_format=LONG_MONTH_FORMAT, **_LEFT_TOP),
    "value/datetime": dict(num_format=DATETIME_FORMAT, **_LEFT_TOP),
    "value/utc": dict(num_format=UTC_FORMAT, **_LEFT_TOP),
    "value/draft": {**_font(bold=True, color=RED), **_LEFT_TOP},
    "hash": {**_font(name=MONO), **_align("left", "top", wrap=True)},
    "warning": {**_font(bold=True, color=RED), **_align(vertical="top", wrap=True)},
    "note": {**_font(italic=True, color="595959"), **_align(vertical="top", wrap=True)},
    "small": {**_font(SMALL), **_align("left", "top", wrap=True)},
    "small/pad": {**_font(SMALL), **_align("left", "top", wrap=True, indent=1)},
    "value/pad": _align("left", "top", wrap=True, indent=1),
    "small/money": {**_font(SMALL), "num_format": MONEY_FORMAT, **_align(vertical="top")},
    "net/label": {**_font(11, bold=True), **_TOP_DOUBLE, **_align(vertical="center", wrap=True)},
    "net/money": {**_font(11, bold=True), **_TOP_DOUBLE, "num_format": MONEY_FORMAT, **_align(vertical="center")},
    "net/blank": _TOP_DOUBLE,
    "sign/head": {**_font(bold=True), **_SIGN, **_align("center", "center")},
    "sign/role": {**_font(11, bold=True), **_SIGN, **_align(vertical="center")},
    "sign/box": _BOXED,
}


_GRID = (THIN, GRID_GREY)


def _style_parts(name: str) -> dict:
    """A named style's parts; "<name>+box" is the same style in a cell with a thin box round it."""
    if not name.endswith("+box"):
        return _STYLES[name]
    parts = dict(_STYLES[name[:-4]]) if name[:-4] else {}
    top = (parts["top"], parts.get("top_color", "")) if parts.get("top") else _GRID
    parts.update(_border(top, _GRID, _GRID, _GRID))
    return parts


class _Styles:
    """Each named style made once per workbook, as an XlsxWriter Format."""

    def __init__(self, book: Workbook):
        self.book = book
        self._formats: dict[str, Format] = {}

    def format(self, name: str) -> Format:
        if name not in self._formats:
            parts = _style_parts(name)
            if parts.get("num_format") in BUILTIN_FORMATS:
                parts = {**parts, "num_format": BUILTIN_FORMATS[parts["num_format"]]}
            self._formats[name] = self.book.add_format(parts)
        return self._formats[name]


COMPRESS_LEVEL = 1  # zlib's fastest: a national month's lines zipped in a quarter of the default's time, a third larger


class _FastZipInfo(ZipInfo):
    """A member of the workbook's zip, compressed at COMPRESS_LEVEL."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._compresslevel = COMPRESS_LEVEL


class _Book(Workbook):
    """XlsxWriter's workbook, zipped with zlib's fastest compression (XlsxWriter offers no setting)."""

    def _store_workbook(self) -> None:
        import xlsxwriter.workbook as module

        module.ZipInfo, before = _FastZipInfo, module.ZipInfo
        try:
            super()._store_workbook()
        finally:
            module.ZipInfo = before


def _new_book() -> Workbook:
    """A workbook written in memory; `_save` returns its bytes."""
    # Arial 10 as the workbook's own font, so unstyled cells, column widths and
    # row heights all measure the same in Excel and in LibreOffice (where
    # Calibri is usually missing and replaced by a wider font).
    book = _Book(io.BytesIO(), {
        "in_memory": True,
        # font_scheme none: the font is Arial itself, not the theme's body font standing in for it
        "default_format_properties": {"font_name": FONT, "font_size": SIZE, "font_scheme": "none"},
        # every cell is written with its type; a string never becomes a formula, a number or a link
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
    })
    book.set_properties({"author": "hds"})
    book.worksheet_class = _Sheet  # every sheet writes its tables' rows as prepared XML (`_Sheet.rows`)
    return book


# --- cell values --------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # what XML 1.0 cannot hold
_PLAIN_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _clean(value: Any) -> str | None:
    """Data as the text a cell shows: characters XML cannot hold replaced, formula leaders neutralised."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if not text:
        return None
    if not text.isprintable() and ILLEGAL_CHARACTERS_RE.search(text):  # what it finds is never printable
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    return neutralise(text)


def _money(value: Any) -> Decimal | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"money must be a Decimal (pounds), not {type(value).__name__} {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{value} is not an amount")
    return value


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"expected a whole number, not {type(value).__name__} {value!r}")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"{value} is not a whole number")
        return int(value)
    return value


def _when(value: Any) -> tuple[date | datetime | None, str]:
    """A date or a date and time, and the style that shows it ("date", "datetime" or "utc")."""
    if value is None or value == "":
        return None, "date"
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date") from None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None), "utc"
        return value, "datetime"
    if isinstance(value, date):
        return value, "date"
    raise TypeError(f"expected a date, not {type(value).__name__} {value!r}")


def _date_value(value: Any):
    when, style = _when(value)
    return None if when is None else (when, style)


def _month(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    match = _MONTH.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a month (YYYY-MM)")
    return date(int(match[1]), int(match[2]), 1)


def month_name(month: str) -> str:
    """'2020-10' -> 'October 2020'."""
    first = _month(month)
    return f"{MONTH_NAMES[first.month - 1]} {first.year}"


def _when_text(value: Any) -> str:
    """A date and time for a page header or a sentence."""
    when, style = _when(value)
    if when is None:
        return ""
    if isinstance(when, datetime):
        return f"{when.day} {MONTH_NAMES[when.month - 1]} {when.year}, {when:%H:%M}" + (" UTC" if style == "utc" else "")
    return f"{when.day} {MONTH_NAMES[when.month - 1]} {when.year}"


def _hf(text: str) -> str:
    """Text for a page header or footer, where & starts a code."""
    return text.replace("&", "&&")


def _lines_needed(text: str, width: float) -> int:
    """Lines `text` takes when wrapped in a column `width` characters wide (erring on more)."""
    room = max(int(width * CHARS_PER_UNIT) - 2, 4)
    if "\n" not in text:
        return 1 if len(text) <= room else _paragraph_lines(text, room)
    return sum(_paragraph_lines(paragraph, room) for paragraph in text.split("\n"))


def _paragraph_lines(text: str, room: int) -> int:
    """Lines one paragraph takes, `room` characters to a line: wrapped at the spaces, as many words to a
    line as fit (one space between each), a word longer than a line cut across lines of its own and its
    last piece starting the next; spaces at the start of a line take no room. Found a line at a time."""
    end = len(text)
    start = end - len(text.lstrip(" ")) if text[:1] == " " else 0
    lines = 1
    while end - start > room:
        word_end = text.find(" ", start)
        if word_end < 0:
            word_end = end
        if word_end - start > room:  # a word too long for a line: its first pieces on lines of their own
            pieces = (word_end - start - 1) // room
            lines += pieces
            start += pieces * room
            if end - start <= room:
                break
        start = text.rfind(" ", start, start + room + 1) + 1  # the last word that fits ends the line
        lines += 1
        while start < end and text[start] == " ":
            start += 1
    return lines


def _height(lines: int) -> float:
    return round(lines * LINE_HEIGHT + 3, 1)


# --- tables ---------------------------------------------------------------------------

_CONVERT: dict[str, Callable[[Any], Any]] = {
    "text": _clean, "money": _money, "int": _int, "date": _date_value, "month": _month,
}


class _Records:
    """A table's values, converted, kept a list per column: its length is the number of rows."""

    def __init__(self, columns: list[Sequence]):
        self.columns = columns
        self.count = len(columns[0]) if columns else 0

    def __len__(self) -> int:
        return self.count

    def column(self, index: int) -> Sequence:
        return self.columns[index]


def _records(items: Sequence, columns: Sequence[Column], where: str, *, mapping: bool = False) -> _Records:
    """Each item's values in column order, converted for the columns' kinds:
    text cleaned and neutralised, money checked to be Decimal, dates parsed.
    Converted a column at a time: a column already as the cells show it (nearly every one) is taken
    as it is, after one look at the whole column."""
    for column in columns:
        if column.kind not in KINDS:
            raise ValueError(f"{where}: column {column.key!r} has unknown kind {column.kind!r}")
    keys = [c.key for c in columns]
    if isinstance(items, PackLines):
        raw = [items.column(k) for k in keys]
    elif mapping:
        raw = [[item.get(k) for item in items] for k in keys]
    else:
        raw = [list(values) for values in zip(*map(attrgetter(*keys), items))] if items else [[] for _ in keys]
        if len(keys) == 1:
            raw = [[getattr(item, keys[0]) for item in items]]
    try:
        converted = [_column(c.kind, values) for c, values in zip(columns, raw)]
    except (TypeError, ValueError):
        for n, values in enumerate(zip(*raw), 1):  # find the first bad cell, row by row, to say where it is
            for i, column in enumerate(columns):
                try:
                    _CONVERT[column.kind](values[i])
                except (TypeError, ValueError) as error:
                    raise type(error)(f"{where}, row {n}, {column.heading or column.key}: {error}") from None
        raise
    return _Records(converted)


# a formula leader (see claims.report.safe)
_FORMULA_LEADER = re.compile("[" + re.escape("".join(FORMULA_LEADERS + FULL_WIDTH_LEADERS)) + "]")


def _column(kind: str, values: list) -> list:
    """One column's values converted as `_CONVERT[kind]` converts each."""
    types = set(map(type, values))
    if kind == "text" and types <= {str, type(None)}:
        distinct = list(dict.fromkeys(values))  # each value checked once
        present = [v for v in distinct if v is not None] if type(None) in types else distinct
        # printable (so no line breaks) and none begins with a formula leader: `_clean` leaves each but "" as it is
        if " ".join(present).isprintable() and not _FORMULA_LEADER.search("".join([v[:1] for v in present])):
            return [v or None for v in values]
    elif kind == "int" and types <= {int, type(None)}:
        return values
    elif kind == "money" and types <= {Decimal, int, type(None)}:
        if all(v.is_finite() for v in values if type(v) is Decimal):
            return values
    elif kind in ("date", "month"):
        convert, seen = _CONVERT[kind], {}
        return [seen[v] if v in seen else seen.setdefault(v, convert(v)) for v in values]
    convert = _CONVERT[kind]
    return [convert(v) for v in values]


def _letter(column: int) -> str:
    """The letter of a column counted from 1: 1 -> A, 27 -> AA."""
    return xl_col_to_name(column - 1)


def _quote_sheet(title: str) -> str:
    """A sheet's name as a formula refers to it: always quoted, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


@dataclass
class _Table:
    """One table of a sheet, laid out: where its rows land."""

    columns: tuple[Column, ...]
    records: _Records  # the values, already converted
    total: bool
    empty_note: str
    no_total: tuple[str, ...] = ()  # money columns left out of the total row
    header_row: int = 0
    first_row: int = 0  # first data row (or the empty note's row)
    last_row: int = 0
    total_row: int = 0

    def letter(self, key: str) -> str:
        for index, column in enumerate(self.columns, 1):
            if column.key == key:
                return _letter(index)
        raise KeyError(key)

    def range(self, key: str, sheet: str) -> str:
        """The table's data cells in column `key`, absolute, as another sheet refers to them."""
        letter = self.letter(key)
        return f"{_quote_sheet(sheet)}!${letter}${self.first_row}:${letter}${self.last_row}"


class _SheetPlan:
    """A sheet as blocks (lines of text, tables, blank rows, a net line), laid
    out before it is written so other sheets can refer to its rows."""

    def __init__(self, title: str, boxed: bool = False):
        self.title = title
        self.boxed = boxed  # small tables drawn with boxes; otherwise the sheet prints its gridlines
        self.blocks: list[tuple[str, Any]] = []
        self.tables: list[_Table] = []

    def line(self, text: str, style: str = "heading") -> None:
        self.blocks.append(("line", (text, style)))

    def blank(self) -> None:
        self.blocks.append(("blank", None))

    def net(self, sentence: str, amount: Decimal, amount_key: str) -> None:
        self.blocks.append(("net", (sentence, amount, amount_key)))

    def table(self, columns: Sequence[Column], records: _Records, *, total: bool, empty_note: str,
              no_total: tuple[str, ...] = ()) -> _Table:
        table = _Table(tuple(columns), records, total and bool(records), empty_note, no_total)  # no "Total" under a note
        self.blocks.append(("table", table))
        self.tables.append(table)
        return table

    def layout(self) -> None:
        row = 0
        for kind, block in self.blocks:
            if kind == "table":
                block.header_row = row + 1
                block.first_row = row + 2
                block.last_row = block.first_row + max(len(block.records), 1) - 1
                block.total_row = block.last_row + 1 if block.total else 0
                row = block.total_row or block.last_row
            else:
                row += 1
        if row > EXCEL_ROWS:
            raise ValueError(f"sheet {self.title!r} needs {row:,} rows; a worksheet holds {EXCEL_ROWS:,}")

    @property
    def main(self) -> _Table | None:
        return self.tables[0] if self.tables else None


CAPITAL_EXTRA = 0.35  # how much wider than a digit a capital prints, in column units
_ASCII_CAPITALS = bytes(range(ord("A"), ord("Z") + 1))
_NO_ASCII = dict.fromkeys(range(128))


def _units(text: str) -> float:
    """Width of text in column units: capitals (codes such as HDS-AFTER-DEATH) print about a third
    wider than the digit a unit is measured by."""
    ascii_text = text.encode("ascii", "ignore")  # the capitals counted in C: those bytes deleted
    capitals = len(ascii_text) - len(ascii_text.translate(None, _ASCII_CAPITALS))
    if len(ascii_text) < len(text):  # and each other character asked in turn
        capitals += sum(c.isupper() for c in text.translate(_NO_ASCII))
    return len(text) + CAPITAL_EXTRA * capitals


def _widest(values: list) -> float:
    """The most `_units` of any of the values (None left out), 0 for none: for text of plain ASCII (nearly
    all), counted for the whole column at once."""
    present = [v for v in dict.fromkeys(values) if v is not None]  # each value measured once,
    lengths = list(map(len, present))
    longest = max(lengths, default=0)
    # and only those that could be the widest: none is wider than its length and CAPITAL_EXTRA of it again
    if min(lengths, default=0) * (1 + CAPITAL_EXTRA) + 1 < longest:
        present = [v for v, n in zip(present, lengths) if n * (1 + CAPITAL_EXTRA) + 1 >= longest]
    if len(present) < 64 or not all(map(str.isascii, present)):
        return max((_units(v) for v in present), default=0)
    import numpy as np

    lengths = np.fromiter(map(len, present), dtype=np.int64, count=len(present))
    text = np.frombuffer("".join(present).encode("ascii"), dtype=np.uint8)
    capital = ((text >= ord("A")) & (text <= ord("Z"))).astype(np.int64)
    ends = np.cumsum(lengths)
    counted = np.concatenate(([0], np.cumsum(capital)))
    capitals = counted[ends] - counted[ends - lengths]
    return float((lengths + CAPITAL_EXTRA * capitals).max())


def _widths(plan: _SheetPlan) -> tuple[list[float], list[bool]]:
    """Column widths (in characters) and which columns wrap, from headings and contents."""
    if not plan.tables:
        return [110.0], [True]
    count = max(len(t.columns) for t in plan.tables)
    widths = [6.0] * count
    wraps = [False] * count
    longest_text = [0] * count
    for table in plan.tables:
        for index, column in enumerate(table.columns):
            values = table.records.column(index)
            if column.kind == "text":
                longest = round(_widest(values))
                longest_text[index] = max(longest_text[index], longest)
                wide = float(min(longest, TEXT_CAP)) + 2
                if longest > TEXT_CAP:
                    wraps[index] = True
                    wide += 2  # the wrapped text's indent
            else:
                wide = _width_of(column.kind, values, table.total)
            word = max((len(part) for part in column.heading.split()), default=0)
            widths[index] = max(widths[index], wide, min(len(column.heading), 16) + 2, word + 3)
    # a page has room to spare: long text gets it before it wraps
    spare = PAGE_WIDTH - sum(widths)
    for index in range(count):
        if wraps[index] and spare > 0:
            wanted = min((longest_text[index] + 3) / CHARS_PER_UNIT + 1, TEXT_WIDEST)
            grow = max(min(spare, wanted - widths[index]), 0)
            widths[index] += grow
            spare -= grow
            wraps[index] = _lines_needed("x" * longest_text[index], widths[index]) > 1
    return widths, wraps


def _width_of(kind: str, values: list, total: bool) -> float:
    """The width a column of numbers, dates or months needs (in characters)."""
    if kind == "money":
        amounts = [abs(v) for v in values if v is not None]
        biggest = (sum(amounts) if total else max(amounts, default=0)) if amounts else 0
        digits = len(str(int(biggest)))
        return digits + (digits - 1) // 3 + 3 + 2 + 2  # digits, commas, pence, sign and £, room
    if kind == "int":
        return float(max((len(f"{v:,}") for v in values if v is not None), default=1)) + 3
    if kind == "date":
        return 19.0 if any(v is not None and v[1] != "date" for v in values) else 12.0
    return 10.0  # month


@dataclass(frozen=True)
class _Cell:
    """A value to write, its format, and whether it is text whatever it looks like."""

    value: Any
    format: Format | None = None
    text: bool = False


def _put(sheet, row: int, col: int, cell) -> None:
    """Write one cell (0-based) by its type: text as text, "=..." as a formula
    (unless it is text), Decimal as a number, dates as dates."""
    value, fmt, text = (cell.value, cell.format, cell.text) if isinstance(cell, _Cell) else (cell, None, False)
    if value is None:
        if fmt is not None:
            sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        if not text and value.startswith("=") and len(value) > 1:
            sheet.write_formula(row, col, value, fmt, "")  # no cached result: the reader calculates it
        else:
            sheet.write_string(row, col, value, fmt)
    elif isinstance(value, (date, datetime)):
        sheet.write_datetime(row, col, value, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    else:
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)


class _Sheet(Worksheet):
    """XlsxWriter's worksheet, whose tables' data rows are written as prepared XML.

    XlsxWriter keeps every cell as an object and writes each one's XML with several calls, a few
    microseconds a cell: a national month's lines, millions of cells, would take most of a minute. A
    table's rows are instead handed over as one block (`rows`) and written, when the workbook is
    saved, a column at a time in the very XML XlsxWriter writes for such cells (text in the shared
    strings, or, for a column of plain text of many values, in the cell as its constant-memory mode
    writes it). Everything else on the sheet (headings, totals, merges, print settings) is
    XlsxWriter's own."""

    CHUNK = 4096  # rows rendered at a time

    def __init__(self):
        super().__init__()
        self._blocks: list[tuple[int, int, Callable[[int, int], str]]] = []

    def rows(self, first: int, count: int, columns: int, render: Callable[[int, int], str]) -> None:
        """Rows `first` .. `first + count - 1` (0-based) of `columns` cells, written by `render(start, stop)`:
        the XML of the block's rows start .. stop - 1 (counted within the block)."""
        if count:
            self._check_dimensions(first, 0)
            self._check_dimensions(first + count - 1, columns - 1)
            self._blocks.append((first, count, render))

    def row_tail(self, row: int) -> str:
        """The <row> start tag XlsxWriter writes for `row` (0-based), after the row's number: its height
        when it has one."""
        ordinary = self.excel_version == 2007 and self.default_row_height == self.original_row_height
        info = self.row_info.get(row)
        if info is None and ordinary:
            return '">'
        fh, self.fh = self.fh, io.StringIO()
        try:
            self._write_row(row, None, info)
            return self.fh.getvalue().removeprefix(f'<row r="{row + 1}')
        finally:
            self.fh = fh

    def _write_rows(self) -> None:
        if not self._blocks:
            return super()._write_rows()
        low, high = self.dim_rowmin, self.dim_rowmax
        start = low
        try:
            for first, count, render in sorted(self._blocks, key=lambda block: block[0]):
                if start < first:  # XlsxWriter's own rows before the block
                    self.dim_rowmin, self.dim_rowmax = start, first - 1
                    super()._write_rows()
                for at in range(0, count, self.CHUNK):
                    self.fh.write(render(at, min(at + self.CHUNK, count)))
                start = first + count
            if start <= high:
                self.dim_rowmin, self.dim_rowmax = start, high
                super()._write_rows()
        finally:
            self.dim_rowmin, self.dim_rowmax = low, high


STRING_MAX = 32767  # UTF-16 units a cell holds (XlsxWriter cuts longer text)


PIXELS_PER_UNIT = 7  # XlsxWriter keeps column widths in pixels, 7 to a unit (a digit of the workbook's font)


def _set_width(sheet, column: int, width: float) -> None:
    """Column `column` (0-based) `width` units wide, as the file records it (to 1/256 of a unit)."""
    sheet.set_column_pixels(column, column, width * PIXELS_PER_UNIT)


class _Writer:
    """Writes the rows of one sheet in order, keeping count of where it is."""

    def __init__(self, sheet, styles: _Styles):
        self.sheet = sheet
        self.styles = styles
        self.row = 0
        self.height = 0.0  # points of rows written so far

    def cell(self, value: Any, style: str | None = None) -> _Cell:
        return _Cell(value, self.styles.format(style) if style else None)

    def text(self, value: str | None, style: str | None = None) -> _Cell:
        """A cell of (cleaned) text: always a string, never a formula or an error value."""
        return _Cell(value, self.styles.format(style) if style else None, text=True)

    def next_row(self, height: float | None = None) -> int:
        """Move to the next row (`height` points high, or the default); its 0-based number."""
        self.row += 1
        self.height += height or ROW_HEIGHT
        row = self.row - 1
        if height:
            self.sheet.set_row_pixels(row, height * 4 / 3)  # pixels of 3/4 point: the height exactly
        return row

    def append(self, cells: list, height: float | None = None, merge: str | None = None) -> int:
        row = self.next_row(height)
        if merge:
            span = merge.format(r=self.row)
            at = xl_cell_to_rowcol(span.split(":")[0])[1]
            first = cells[at] if at < len(cells) and isinstance(cells[at], _Cell) else _Cell(None)
            # the cells merged over take the first one's format (as Excel draws a merge); it is written below
            self.sheet.merge_range(span, "", first.format)
        for col, cell in enumerate(cells):
            _put(self.sheet, row, col, cell)
        return self.row


def _write_plan(plan: _SheetPlan, sheet, styles: _Styles) -> None:
    plan.layout()
    widths, wraps = _widths(plan)
    for index, width in enumerate(widths):
        _set_width(sheet, index, round(width, 1))
    main = plan.main
    if main is not None:
        sheet.freeze_panes(main.header_row, 0)
    writer = _Writer(sheet, styles)
    span = f"A{{r}}:{_letter(len(widths))}{{r}}" if len(widths) > 1 else None
    full = sum(widths)
    for kind, block in plan.blocks:
        if kind == "blank":
            writer.append([])
        elif kind == "line":
            text, style = block
            cleaned = _clean(text) or ""
            lines = _lines_needed(cleaned, full * (0.85 if style == "heading" else 1.0))
            height = _height(lines) + (4 if style == "heading" else 0)
            writer.append([writer.text(cleaned, style)], height=height, merge=span)
        elif kind == "net":
            sentence, amount, key = block
            table = plan.main
            at = [c.key for c in table.columns].index(key)
            cells = [writer.cell(None, "net/blank") for _ in table.columns]
            cells[0] = writer.text(_clean(sentence), "net/label")
            cells[at] = writer.cell(amount, "net/money")
            merge = f"A{{r}}:{_letter(at)}{{r}}" if at > 1 else None
            writer.append(cells, height=20, merge=merge)
        else:
            _write_table(writer, block, widths, wraps, plan.boxed)
    if main is not None:
        sheet.autofilter(f"A{main.header_row}:{_letter(len(main.columns))}{main.last_row}")
        sheet.repeat_rows(0, main.header_row - 1)
    else:
        sheet.repeat_rows(0)


def _write_table(writer: _Writer, table: _Table, widths: list[float], wraps: list[bool], boxed: bool) -> None:
    box = "+box" if boxed else ""
    columns = table.columns
    heads = [writer.cell(c.heading, ("th/right" if c.kind in ("money", "int") else "th") + box) for c in columns]
    lines = max(_lines_needed(c.heading, widths[i] + 1) for i, c in enumerate(columns))
    writer.append(heads, height=_height(lines) if lines > 1 else None)
    if not table.records:
        writer.append([writer.text(_clean(table.empty_note), "note")])
    _write_records(writer, table, widths, wraps, box)
    if table.total:
        _write_total(writer, table, box)


def _column_formats(styles: _Styles, kind: str, wrap: bool, box: str):
    """A data column's formats: (plain, top) for a row of one line and a taller row; for dates,
    those per style ("date", "datetime", "utc")."""
    if kind == "date":
        return {style: (styles.format(style + box), styles.format(style + "/top" + box))
                for style in ("date", "datetime", "utc")}
    if kind == "text":
        if wrap:
            return (styles.format("text/wrap" + box),) * 2
        return (styles.format(box) if box else None, styles.format("text/top" + box))
    return styles.format(kind + box), styles.format(kind + "/top" + box)  # money, int, month


def _write_records(writer: _Writer, table: _Table, widths: list[float], wraps: list[bool], box: str) -> None:
    """The table's data rows, each value written by its column's kind (as `_put` would write it), as one
    block of prepared XML (`_Sheet.rows`); a row taller than one line gets its height first."""
    sheet, columns, records = writer.sheet, table.columns, table.records
    if not records:
        return
    lines = [1] * len(records)
    for i, c in enumerate(columns):
        if c.kind == "text" and wraps[i]:
            room = widths[i] * CHARS_PER_UNIT - 2
            for n, value in enumerate(records.column(i)):
                if value is not None and len(value) > room:
                    lines[n] = max(lines[n], _lines_needed(value, widths[i]))
    first = writer.row
    heights = {count: _height(count) if count > 1 else None for count in set(lines)}
    for count in lines:
        writer.next_row(heights[count])
    tall = [count > 1 for count in lines]
    cells = [_column_cells(sheet, writer.styles, c, wraps[i], box, i, records.column(i)) for i, c in enumerate(columns)]
    tails: dict[int, str] = {}  # the rows' start tags after their numbers: rows of as many lines are set alike

    def render(start: int, stop: int) -> str:
        if not tails:
            tails.update({count: sheet.row_tail(first + lines.index(count)) for count in heights})
        numbers = list(map(str, range(first + start + 1, first + stop + 1)))  # each row's, counted from 1
        parts = [["<row r=\""] * (stop - start), numbers, [tails[count] for count in lines[start:stop]]]
        for i, cell in enumerate(cells):
            parts += cell(records.column(i)[start:stop], tall[start:stop], numbers)
        parts.append(["</row>"] * (stop - start))
        pieces = [""] * (len(parts) * (stop - start))  # row by row, each part's piece of the row in turn
        for at, part in enumerate(parts):
            pieces[at::len(parts)] = part
        return "".join(pieces)

    sheet.rows(first, len(records), len(columns), render)


def _date_cells(sheet: _Sheet, styled: dict[str, tuple[str, str]], letter: str, blank: str):
    """`_column_cells` for a date column: each (date, style) as its serial number in its style's format."""
    serial = {}

    def cells(values, tall, numbers):
        out = []
        for n, value, high in zip(numbers, values, tall):
            if value is None:
                out.append(blank.format(n))
                continue
            if value[0] not in serial:
                serial[value[0]] = sheet._convert_date_time(value[0])
            out.append(f'<c r="{letter}{n}"{styled[value[1]][high]}><v>{serial[value[0]]:.16G}</v></c>')
        return [out]
    return cells


def _cells(letter: str, flat: str, high: str, end: str, blank: str, texts: Callable[[list], list]):
    """`_column_cells` for cells written `<c r="` letter, row number, `flat` (a row of one line) or `high`
    (a taller row), the value's text, `end`: as pieces a part at a time when the rows alike have a value
    each (nearly always), else each cell made whole."""
    head = f'<c r="{letter}'

    def cells(values, tall, numbers):
        count = len(values)
        if None not in values and (True not in tall or False not in tall):
            return [[head] * count, numbers, [high if tall[0] else flat] * count, texts(values), [end] * count]
        return [[blank.format(n) if value is None else f"{head}{n}{high if t else flat}{text}{end}"
                 for n, value, t, text in zip(numbers, values, tall, texts(values))]]
    return cells


def _texts(text: Callable[[Any], str]) -> Callable[[list], list]:
    """A function of values to their texts (None's ""), each value's text made once."""
    made = {None: ""}

    def texts(values):
        new = set(values).difference(made)
        if new:
            made.update({value: text(value) for value in new})
        return list(map(made.__getitem__, values))
    return texts


def _text_cells(sheet: _Sheet, column: Sequence, letter: str, plain: str, top: str, blank: str):
    """`_column_cells` for a text column. A column of few distinct values (a kind, a scheme, a service),
    or one with any value that needs escaping or cutting, goes into the shared strings, each value once,
    exactly as XlsxWriter keeps all text (and escapes it when it writes them); any other is written in
    its cells as it is."""
    present = [v for v in column if v is not None]
    distinct = dict.fromkeys(present)  # in the order first seen
    if len(distinct) * 4 <= len(present) or not _plain_xml(list(distinct)):
        strings = sheet.str_table
        shared = {value: str(strings._get_shared_string_index(_cut(value))) for value in distinct}
        strings.count += len(present) - len(distinct)  # every cell counted, as XlsxWriter counts them
        shared[None] = ""
        return _cells(letter, f'"{plain} t="s"><v>', f'"{top} t="s"><v>', "</v></c>", blank,
                      lambda values: list(map(shared.__getitem__, values)))
    return _cells(letter, f'"{plain} t="inlineStr"><is><t>', f'"{top} t="inlineStr"><is><t>', "</t></is></c>",
                  blank, lambda values: values)  # none needs escaping: each as it is


def _cut(text: str) -> str:
    """Text as a cell holds it: cut, as XlsxWriter's write_string cuts it, to STRING_MAX UTF-16 units."""
    if len(text) > STRING_MAX // 2 and _utf16_len(text) > STRING_MAX:
        return _utf16_truncate(text, STRING_MAX)
    return text


_SPECIAL_CHARACTERS = re.compile(r'[\x00-\x08\x0b-\x1f"&<>\n\ufffe\uffff]')
_ESCAPE_LIKE = re.compile(r"_x[0-9a-fA-F]{4}_")
_SPACE = re.compile(r"\s")


def _plain_xml(values: list[str]) -> bool:
    """True when no value needs anything XlsxWriter does to text on its way into a cell: no character to
    escape, nothing that reads as an escape, no space at either end, none too long."""
    text = "".join(values)
    # printable text holds none of the special characters but these four
    special = any(c in text for c in '"&<>') if text.isprintable() else _SPECIAL_CHARACTERS.search(text)
    if special or ("_x" in text and _ESCAPE_LIKE.search(text)):
        return False
    if max(map(len, values), default=0) > STRING_MAX:
        return False
    return not _SPACE.search("".join([v[:1] for v in values]) + "".join([v[-1:] for v in values]))


def _column_cells(sheet: _Sheet, styles: _Styles, column: Column, wrap: bool, box: str, index: int, values: Sequence):
    """A function of (values, tall, their rows' numbers counted from 1, as text) that makes the column's
    cells' XML, as XlsxWriter writes them (text in the cell, numbers to 16 significant digits, dates as
    serial numbers, a blank written only when it has a format), as lists of pieces: row by row, the
    first list's piece, then the second's, and so on, make the cells."""
    letter = xl_col_to_name(index)
    formats = _column_formats(styles, column.kind, wrap, box)
    blank_format = styles.format(box) if box else None
    blank = f'<c r="{letter}{{}}" s="{blank_format._get_xf_index()}"/>' if blank_format is not None else ""

    def style(fmt: Format | None) -> str:
        return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""

    kind = column.kind
    if kind == "date":
        return _date_cells(sheet, {name: (style(plain), style(top)) for name, (plain, top) in formats.items()},
                           letter, blank)
    plain, top = style(formats[0]), style(formats[1])
    if kind == "text":
        return _text_cells(sheet, values, letter, plain, top, blank)
    if kind == "month":
        serial = {}

        def number(value):
            if value not in serial:
                serial[value] = sheet._convert_date_time(value)
            return serial[value]
    else:
        number = float  # money (Decimal pounds) and whole numbers, as XlsxWriter's write_number takes them
    # amounts, mostly each its own, each written as it comes; days and months, a handful of values, each once
    texts = _number_texts if kind == "money" else _texts(lambda value: f"{number(value):.16G}")
    return _cells(letter, f'"{plain}><v>', f'"{top}><v>', "</v></c>", blank, texts)


def _number_texts(values: list) -> list:
    """Numbers as XlsxWriter writes them, to 16 significant digits (None's "")."""
    return [f"{float(value):.16G}" if value is not None else "" for value in values]


def _write_total(writer: _Writer, table: _Table, box: str) -> None:
    """The total row: =SUM over each money column (but those in no_total), labelled Total."""
    columns = table.columns
    row: list = [writer.cell(None, "total" + box) for _ in columns]
    for i, column in enumerate(columns):
        if column.kind == "money" and column.key not in table.no_total:
            letter = _letter(i + 1)
            row[i] = writer.cell(f"=SUM({letter}{table.first_row}:{letter}{table.last_row})",
                                 "total/money" + box)
    if columns[0].kind != "money":
        row[0] = writer.cell("Total", "total" + box)
    writer.append(row)


# --- printing -------------------------------------------------------------------------

def _print_setup(sheet, *, centre: str, right: str = "", mark: str = "", footer_left: str = "",
                 footer_right: str = "", grid: bool = True) -> None:
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
    sheet.hide_gridlines(0 if grid else 2)  # gridlines on screen and printed, or neither
    sheet.set_margins(left=MARGIN_SIDE, right=MARGIN_SIDE, top=MARGIN_TOP, bottom=MARGIN_TOP)
    bold = f'&"{FONT},Bold"'
    if mark:  # DRAFT, NOT CLAIMED: in red at the top right of every page
        header_right = f"{bold}&14 &K{RED}{mark}"
    else:
        header_right = _hf(right) if right else None
    header = _header_footer(f"{bold}&A", _hf(centre), header_right)
    footer = _header_footer(_hf(footer_left), "Page &P of &N", _hf(footer_right))
    sheet.set_header(header, {"margin": MARGIN_HEADER})
    sheet.set_footer(footer, {"margin": MARGIN_HEADER})


def _header_footer(left: str | None, centre: str | None, right: str | None) -> str:
    """A page header or footer's three parts (None: left out) in Excel's &L &C &R codes."""
    return "".join(f"&{code}{part}" for code, part in zip("LCR", (left, centre, right)) if part is not None)


# --- the generic workbook ---------------------------------------------------------------

_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def _sheet_titles(titles: Iterable[str]) -> list[str]:
    """Titles Excel accepts: no []:*?/\\, at most 31 characters, no two alike (ignoring case)."""
    out: list[str] = []
    taken: set[str] = set()
    for title in titles:
        base = _BAD_TITLE.sub("-", ILLEGAL_CHARACTERS_RE.sub("", str(title))).strip("' ") or "Sheet"
        base = base[:31]
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def table_workbook_bytes(sheets: list[Sheet]) -> bytes:
    """An .xlsx of plain tables, one per sheet: readable headings, money as money,
    real dates, autofilter, frozen and repeated header row, a =SUM total row when
    asked, landscape A4 one page wide."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    book = _new_book()
    titles = _sheet_titles(s.title for s in sheets)
    plans = []
    for sheet, title in zip(sheets, titles):
        plan = _SheetPlan(title)
        if sheet.heading:
            plan.line(sheet.heading)
        records = _records(sheet.rows, sheet.columns, title, mapping=True)
        plan.table(sheet.columns, records, total=sheet.total, empty_note="No rows")
        plans.append((plan, sheet.heading or title))
    styles = _Styles(book)
    for plan, centre in plans:
        ws = book.add_worksheet(plan.title)
        _print_setup(ws, centre=centre)
        _write_plan(plan, ws, styles)
    return _save(book)


def _save(book: Workbook) -> bytes:
    book.close()
    return book.filename.getvalue()  # the BytesIO `_new_book` gave it


# --- the claim pack ----------------------------------------------------------------------

LINE_COLUMNS = columns("kind", "patient_id", "discharge_id", "episode_id", "block_id", "scheme", "service",
                       "organisation", "days", "amount")
ADJUSTMENT_COLUMNS = columns("claim_month") + LINE_COLUMNS + columns("reason")
BLOCK_COLUMNS = columns("block_id", "description", "scheme", "service", "organisation", "days", "amount")
RECON_COLUMNS = columns("scheme", "claimed", "received", "difference", "status", "council_share", "ccg_share")
RUNNING_COLUMNS = columns("month", "claimed", "received", "difference", "status")
RECHARGE_COLUMNS = columns("item", "owed_by", "owed_to", "lines", "amount")
FINDING_COLUMNS = columns("code", "severity", "paragraph", "ids", "amount", "message")
INVOICE_COLUMNS = columns("claim_month", "description", "amount")
MEMO_COLUMNS = columns("service_line", "new_cost", "organisation", "individual", "amount")

SUMMARY, CURRENT, ADJUSTMENTS, BLOCKS = "Summary", "Current lines", "Adjustments", "Block costs"
RECONCILIATION, RECHARGE, FINDINGS = "Reconciliation", "Recharge", "Findings"
TITLE = "Hospital Discharge Scheme claim to NHS England"
SIGNERS = ("Prepared by", "Checked by", "Approved by")
PACK_STATES = ("draft", "submitted", "not claimed")
PRINT_PAGES = 12  # the printed pack's most pages: longer line and finding sheets stay in the workbook, unprinted
DETAIL_SHEETS = (CURRENT, ADJUSTMENTS, BLOCKS, FINDINGS)


def _check(pack: ClaimPack) -> None:
    if pack.status not in PACK_STATES:
        raise ValueError(f"status must be one of {', '.join(PACK_STATES)}, not {pack.status!r}")
    _month(pack.month)
    for where, lines in (("lines", pack.lines), ("adjustments", pack.adjustments)):
        kinds = lines.column("kind")
        if not set(kinds) <= {"individual", "block"}:
            n, kind = next((n, kind) for n, kind in enumerate(kinds, 1) if kind not in ("individual", "block"))
            raise ValueError(f"{where} {n}: kind must be 'individual' or 'block', not {kind!r}")
    if pack.status == "submitted" and pack.submission is None:
        raise ValueError("a submitted pack needs its submission")


def claim_pack_bytes(pack: ClaimPack) -> bytes:
    """The month-end claim pack as .xlsx bytes (the caller writes them to disk): page 1 a certificate, the
    totals, the reconciliation and the recharge printed; every line and finding in the workbook, printed
    too when the whole pack still prints on PRINT_PAGES pages."""
    _check(pack)
    draft = pack.status != "submitted"
    month_text = month_name(pack.month)
    book = _new_book()
    summary_ws = book.add_worksheet(SUMMARY)
    styles = _Styles(book)
    plans, tables = _line_plans(pack, month_text)
    plans.append(_reconciliation_plan(pack, month_text))
    if pack.recharge is not None:
        plans.append(_recharge_plan(pack, month_text))
    if pack.findings is not None:
        plans.append(_findings_plan(pack.findings, month_text))
    plans += _paperwork_plans(pack)
    for plan in plans:
        plan.layout()
    printed = _pages(plans) + 2 + len(_errors(pack)) // 30 <= PRINT_PAGES
    hf = dict(mark=pack.status.upper() if draft else "", right="" if draft else f"Submission {pack.submission.id}",
              footer_left=f"Generated {_when_text(pack.generated_at)}",
              footer_right=f"{pack.council.code} / {pack.ccg.code}" if pack.council.code else "")
    _print_setup(summary_ws, centre=f"{TITLE}, {month_text}", grid=False, **hf)
    _write_summary(pack, summary_ws, styles, month_text, *tables, printed)
    for plan in plans:
        ws = book.add_worksheet(plan.title)
        _print_setup(ws, centre=f"{plan.title}, {month_text}", grid=not plan.boxed, **hf)
        _write_plan(plan, ws, styles)
        if (plan.title in DETAIL_SHEETS and not printed) or (plan.title == RECONCILIATION and pack.reconciliation is None):
            ws.hide()  # kept, with every line, but not printed: a hidden sheet is neither printed nor exported
    return _save(book)


def _pages(plans: list[_SheetPlan]) -> int:
    """About how many pages the sheets print on (rows of one line each; one page at least per sheet)."""
    rows_per_page = int(PAGE_HEIGHT // ROW_HEIGHT) - 2
    return sum(max(1, -(-sum(len(t.records) + 2 for t in plan.tables) // rows_per_page)) for plan in plans)


def _line_plans(pack: ClaimPack, month_text: str) -> tuple[list[_SheetPlan], tuple[_Table, _Table, _Table]]:
    """The current lines, the adjustments and the block costs: their sheets, and the tables the Summary sums."""
    current = _SheetPlan(CURRENT)
    blocks_in_month = pack.lines.where("kind", "block")
    individual = len(pack.lines) - len(blocks_in_month)
    current.line(f"Lines for {month_text}: {individual:,} individual, {len(blocks_in_month):,} block")
    current_table = current.table(LINE_COLUMNS, _records(pack.lines, LINE_COLUMNS, CURRENT), total=True,
                                  empty_note=f"No lines for {month_text}")
    adjust = _SheetPlan(ADJUSTMENTS)
    adjust.line(f"Adjustments: corrections to earlier months' claims, made in the claim for {month_text}")
    adjust_table = adjust.table(ADJUSTMENT_COLUMNS, _records(pack.adjustments, ADJUSTMENT_COLUMNS, ADJUSTMENTS),
                                total=True, empty_note="No adjustments to earlier months")
    blocks = _SheetPlan(BLOCKS)
    blocks.line(f"Block costs for {month_text} (also among the current lines)")
    block_table = blocks.table(BLOCK_COLUMNS, _records(blocks_in_month, BLOCK_COLUMNS, BLOCKS), total=True,
                               empty_note=f"No block costs for {month_text}")
    return [current, adjust, blocks], (current_table, adjust_table, block_table)


def _reconciliation_plan(pack: ClaimPack, month_text: str) -> _SheetPlan:
    plan = _SheetPlan(RECONCILIATION, boxed=True)
    rec = pack.reconciliation
    if rec is None:
        plan.line(f"No reconciliation for {month_text}: a month is reconciled once it has been submitted "
                  f"and NHS England has paid.")
        return plan
    plan.line(f"Reconciliation of the claim for {month_text} with the money received from NHS England")
    # a total of the differences would quietly leave out schemes still awaiting payment
    awaiting = ("difference",) if any(row.get("difference") in (None, "") for row in rec.rows) else ()
    plan.table(RECON_COLUMNS, _records(rec.rows, RECON_COLUMNS, RECONCILIATION, mapping=True), total=True,
               empty_note="No schemes", no_total=awaiting)
    plan.line("Difference: received less claimed, negative when under-paid; blank while payment is awaited.",
              "note")
    plan.blank()
    plan.line("Running position", "subheading")
    running = rec.more[0].rows if rec.more else ()
    running_awaiting = ("difference",) if any(row.get("difference") in (None, "") for row in running) else ()
    plan.table(RUNNING_COLUMNS, _records(running, RUNNING_COLUMNS, RECONCILIATION, mapping=True), total=True,
               empty_note="No months", no_total=running_awaiting)
    plan.blank()
    plan.line(f"Shortfalls are split between the partners {rec.data['shortfall_split']} (agreement 5.4).", "note")
    return plan


def _recharge_plan(pack: ClaimPack, month_text: str) -> _SheetPlan:
    recharge = pack.recharge
    plan = _SheetPlan(RECHARGE, boxed=True)
    plan.line(f"Recharges between {partner_text(pack.council.code, pack.council.name, 'council')} and "
              f"{partner_text(pack.ccg.code, pack.ccg.name, 'CCG')} for {month_text}")
    plan.table(RECHARGE_COLUMNS, _records(recharge.rows, RECHARGE_COLUMNS, RECHARGE, mapping=True), total=False,
               empty_note="No recharge items")
    plan.blank()
    net = recharge.data["net"]
    amount = _money(net["amount"])
    if amount is None or amount < 0:
        raise ValueError(f"the recharge's net amount must be zero or more, not {net['amount']!r}")
    if amount:
        sentence = f"Net: {net['owed_by']} owes {net['owed_to']}"
    else:
        sentence = "Net: nothing is due either way"
    plan.net(sentence, amount, "amount")
    return plan


def _paperwork_plans(pack: ClaimPack) -> list[_SheetPlan]:
    """The invoice between the partners and the month's column of the memorandum note, when given."""
    plans = []
    if pack.invoice is not None:
        plan = _SheetPlan("Invoice", boxed=True)
        for text in pack.invoice.data["heading"]:
            plan.line(text, "value")
        plan.blank()
        plan.table(INVOICE_COLUMNS, _records(pack.invoice.rows, INVOICE_COLUMNS, "Invoice", mapping=True),
                   total=False, empty_note="No lines")
        plan.blank()
        plan.net(pack.invoice.data["label"], _money(pack.invoice.data["total"]), "amount")
        plans.append(plan)
    if pack.memorandum is not None:
        plan = _SheetPlan("Memorandum", boxed=True)
        plan.line(pack.memorandum.title)
        plan.table(MEMO_COLUMNS, _records(pack.memorandum.rows, MEMO_COLUMNS, "Memorandum", mapping=True),
                   total=True, empty_note="No scheme costs this month")
        plan.line("Service lines as hds.toml [service_lines] maps the services; a service mapped to none is a new "
                  "cost (6.2). The rows add up to the month's own claim.", "note")
        plans.append(plan)
    return plans


def _findings_plan(report: Report, month_text: str) -> _SheetPlan:
    plan = _SheetPlan(FINDINGS, boxed=True)
    findings = report.rows
    if not findings:
        plan.line(f"No findings: the checks on the claim for {month_text} found nothing to report.")
        return plan
    plan.line(f"Findings of the checks on the claim for {month_text} ({len(findings):,})")
    plan.table(FINDING_COLUMNS, _records(findings, FINDING_COLUMNS, FINDINGS, mapping=True), total=False,
               empty_note="No findings")
    return plan


# The summary is laid out by hand on five columns.
SUMMARY_WIDTHS = {"A": 34.0, "B": 24.0, "C": 22.0, "D": 30.0, "E": 18.0}
SIGN_HEIGHT = 30.0


def _label_formula(sum_range: str, criteria_range: str, label: str | None, label_ref: str,
                   plain: bool) -> str:
    """The total of `sum_range` over the rows whose criteria cell holds exactly `label`.

    SUMIFS for an ordinary label (letters, digits, underscores); for anything
    SUMIFS could misread (wildcards, a leading = < >, TRUE, blanks, labels
    that differ only in case) an exact, case-sensitive SUMPRODUCT."""
    if label is None:
        return f'=SUMPRODUCT(--EXACT({criteria_range},""),{sum_range})'
    if plain:
        return f"=SUMIFS({sum_range},{criteria_range},{label_ref})"
    return f"=SUMPRODUCT(--EXACT({criteria_range},{label_ref}),{sum_range})"


def _plain_labels(labels: list[str | None]) -> set[str]:
    lowered: dict[str, int] = {}
    for label in labels:
        if label is not None:
            lowered[label.lower()] = lowered.get(label.lower(), 0) + 1
    return {label for label in labels if label is not None and _PLAIN_LABEL.match(label)
            and label.upper() not in ("TRUE", "FALSE") and lowered[label.lower()] == 1}


def _write_summary(pack: ClaimPack, ws, styles: _Styles, month_text: str, current: _Table, adjust: _Table,
                   blocks: _Table, printed: bool = True) -> None:
    """Page 1, a certificate: what is claimed, by whom, the totals, the sign-off and every error finding
    with its acknowledgement (continued overleaf when there are many), the findings by code and the
    adjustments by month; then a page of totals by scheme, service and organisation."""
    for index, width in enumerate(SUMMARY_WIDTHS.values()):
        _set_width(ws, index, width)
    w = _Writer(ws, styles)
    _summary_header(pack, w)
    _summary_warnings(pack, w)
    w.append([])
    _summary_totals(pack, w, month_text, current, adjust, blocks)
    moved = _summary_sign_off(ws, w, month_text + (" and the error findings below" if _errors(pack) else ""))
    _summary_errors(pack, w)
    _summary_findings_by_code(pack, w)
    _summary_adjustments_by_month(pack, w)
    if not printed:
        _summary_unprinted(pack, w, month_text)
    # the breakdowns start on a page of their own (or follow a sign-off moved to page 2)
    if moved:
        w.append([])
    else:
        ws.set_h_pagebreaks([w.row])  # a break below row w.row (counted from 1)
    _summary_breakdowns(pack, w, month_text, current, adjust)
    ws.repeat_rows(0)


class _Info:
    """The Summary's label-and-value rows (the value merged across B:E)."""

    def __init__(self, w: _Writer):
        self.w = w
        self.value_width = sum(SUMMARY_WIDTHS.values()) - SUMMARY_WIDTHS["A"]

    def __call__(self, label: str, value, style: str = "value", height: float | None = None) -> None:
        w = self.w
        cell = w.text(value, style) if isinstance(value, str) else w.cell(value, style)
        w.append([w.cell(label, "label"), cell], height=height, merge="B{r}:E{r}")

    def text(self, label: str, text: str | None, style: str = "value") -> None:
        cleaned = _clean(text) or ""
        lines = _lines_needed(cleaned, self.value_width)
        self(label, cleaned, style, _height(lines) if lines > 1 else None)

    def when(self, label: str, value) -> None:
        when, style = _when(value)
        self(label, when, "value/" + ("datetime" if style == "date" else style))


def _summary_header(pack: ClaimPack, w: _Writer) -> None:
    """The title, the draft or submitted banner, and what the claim is: month, partners, submission, checks."""
    draft = pack.status != "submitted"
    w.append([w.cell(TITLE, "title")], height=26, merge="A{r}:E{r}")
    if pack.status == "not claimed":
        w.append([w.cell("NOT CLAIMED: before the first month submitted; hds never claims it", "banner/draft")],
                 height=24, merge="A{r}:E{r}")
    elif draft:
        w.append([w.cell("DRAFT: not submitted to NHS England", "banner/draft")], height=24, merge="A{r}:E{r}")
    else:
        w.append([w.cell(f"SUBMITTED to NHS England as submission {pack.submission.id}", "banner/submitted")],
                 height=22, merge="A{r}:E{r}")
    w.append([], height=8)
    info = _Info(w)
    info("Claim month", _month(pack.month), "value/month")
    info("Status", {"draft": "DRAFT", "not claimed": "Not claimed"}.get(pack.status, "Submitted"),
         "value/draft" if draft else "value")
    for role, partner in (("Council", pack.council), ("CCG", pack.ccg)):
        info.text(role, partner_text(partner.code, partner.name, role.lower() if role == "Council" else role)
                  if partner.code else f"{partner.name} (not named: hds.toml has no [partners])")
    load, rulebook = _summary_submission(pack, info)
    info("Load", load if load is not None else "none", "value/int" if load is not None else "value")
    info.text("Rulebook version", rulebook)
    if pack.submission is not None and (pack.load_id, pack.rulebook_version) != (load, rulebook):
        info.text("This pack read", f"load {pack.load_id if pack.load_id is not None else 'none'}, "
                                    f"rulebook version {pack.rulebook_version}")
    info.when("Generated", pack.generated_at)
    if pack.fingerprint:
        shown = _hash_lines(pack.fingerprint)
        info("Fingerprint of the figures", _clean(shown), "hash", _height(shown.count("\n") + 1))
    if pack.findings is None:
        info.text("Checks", "Not run")
    elif not pack.findings.rows:
        info.text("Checks", "Run: no findings")
    else:
        errors = len(_errors(pack))
        info.text("Checks", f"{len(pack.findings.rows):,} finding(s): {errors:,} error(s), listed below with their "
                            f"acknowledgements; {len(pack.findings.rows) - errors:,} warning(s), counted by code below; "
                            "every finding on the Findings sheet")
    if pack.reconciliation is None:
        info.text("Reconciliation", "None yet: a month is reconciled once it has been submitted and NHS England "
                                    "has paid")


def _summary_submission(pack: ClaimPack, info: _Info) -> tuple[int | None, str]:
    """The submission's rows (or that there is none); the load and rulebook the claim stands on."""
    if pack.submission is None:
        info("Submission", "None: this is a draft" if pack.status == "draft" else "None: not claimed by hds",
             "value/draft")
        return pack.load_id, pack.rulebook_version
    sub = pack.submission
    info("Submission", sub.id, "value/int")
    info.when("Submitted at", sub.submitted_at)
    info.text("Submitted by", user_text(sub.submitted_by))
    shown = _hash_lines(sub.hash)
    info("Hash (SHA-256)", _clean(shown), "hash", _height(shown.count("\n") + 1))
    return sub.load_id, sub.rulebook_version


def _summary_warnings(pack: ClaimPack, w: _Writer) -> None:
    if pack.warnings:
        w.append([], height=8)
        for warning in pack.warnings:
            cleaned = _clean(f"Warning: {warning}")
            lines = _lines_needed(cleaned, sum(SUMMARY_WIDTHS.values()))
            w.append([w.text(cleaned, "warning")], height=_height(lines), merge="A{r}:E{r}")


def _summary_totals(pack: ClaimPack, w: _Writer, month_text: str, current: _Table, adjust: _Table,
                    blocks: _Table) -> None:
    """The claim's totals, each a formula over the line sheets."""
    cur_amount = current.range("amount", CURRENT)
    adj_amount = adjust.range("amount", ADJUSTMENTS)
    w.append([w.cell("Claim totals", "section"), w.cell(None, "section"), w.cell("Lines", "section/right"),
              w.cell("Amount (£)", "section/right"), w.cell(None, "section")])
    individual = pack.lines.column("kind").count("individual")
    w.append([f"Individual lines, {month_text}", None, w.cell(individual, "int"),
              w.cell(f'=SUMIFS({cur_amount},{current.range("kind", CURRENT)},"individual")', "money")])
    w.append([f"Block costs, {month_text}", None, w.cell(len(pack.lines) - individual, "int"),
              w.cell(f"=SUM({blocks.range('amount', BLOCKS)})", "money")])
    w.append([w.cell(f"Current month, {month_text}", "total"), w.cell(None, "total"),
              w.cell(len(pack.lines), "total/int"), w.cell(f"=SUM({cur_amount})", "total/money")])
    w.append(["Adjustments for earlier months", None, w.cell(len(pack.adjustments), "int"),
              w.cell(f"=SUM({adj_amount})", "money")])
    w.append([w.cell("Total claim", "grand/label"), w.cell(None, "grand/label"), w.cell(None, "grand/label"),
              w.cell(f"=SUM({cur_amount},{adj_amount})", "grand/money")], height=20)


def _summary_sign_off(ws, w: _Writer, month_text: str) -> bool:
    """Sign-off boxes to fill in by hand, kept whole on one page; True when they moved to page 2."""
    sign_off = ROW_HEIGHT * 2 + 18 + SIGN_HEIGHT * len(SIGNERS)
    moved = w.height + sign_off > PAGE_HEIGHT - 12
    if moved:
        ws.set_h_pagebreaks([w.row])
    else:
        w.append([])
    w.append([w.cell(f"Sign-off: the claim for {month_text}", "section")] + [w.cell(None, "section")] * 4)
    w.append([w.cell(None, "sign/head"), w.cell("Name", "sign/head"), w.cell("Role", "sign/head"),
              w.cell("Signature", "sign/head"), w.cell("Date", "sign/head")], height=18)
    for signer in SIGNERS:
        w.append([w.cell(signer, "sign/role")] + [w.cell(None, "sign/box") for _ in range(4)], height=SIGN_HEIGHT)
    return moved


def _summary_breakdowns(pack: ClaimPack, w: _Writer, month_text: str, current: _Table, adjust: _Table) -> None:
    """Totals by scheme, service and organisation: formulas over the line sheets, label by label."""
    w.append([w.cell("Totals by scheme, service and organisation: current month and adjustments", "heading")],
             height=20, merge="A{r}:E{r}")
    cur_amount = current.range("amount", CURRENT)
    adj_amount = adjust.range("amount", ADJUSTMENTS)
    for key, title in (("scheme", "Scheme"), ("service", "Service"), ("organisation", "Organisation")):
        w.append([])
        w.append([w.cell(f"By {title.lower()}", "section"), w.cell(f"{month_text} (£)", "section/right"),
                  w.cell("Adjustments (£)", "section/right"), w.cell("Total (£)", "section/right")])
        labels = sorted({_clean(value) for value in {*pack.lines.column(key), *pack.adjustments.column(key)}},
                        key=lambda label: (label is None, label or ""))
        plain = _plain_labels(labels)
        first = w.row + 1
        for label in labels:
            row = w.row + 1
            ref = f"$A{row}"
            if key == "service" and label is not None and service_text(label) != label:
                ref = '"' + label.replace('"', '""') + '"'  # the service by its name; the formula by its code
                label_cell = w.text(service_text(label))
            else:
                label_cell = w.text(label) if label is not None else w.cell("(blank)", "note")
            w.append([
                label_cell,
                w.cell(_label_formula(cur_amount, current.range(key, CURRENT), label, ref, label in plain), "money"),
                w.cell(_label_formula(adj_amount, adjust.range(key, ADJUSTMENTS), label, ref, label in plain),
                       "money"),
                w.cell(f"=SUM(B{row}:C{row})", "money"),
            ])
        if not labels:
            w.append([w.cell("No lines", "note")])
        last = w.row
        w.append([w.cell("Total", "total")] + [w.cell(f"=SUM({c}{first}:{c}{last})", "total/money") for c in "BCD"])


def _hash_lines(digest: str) -> str:
    """A long hash in groups of eight, four groups a line, so it prints whole and can be read aloud."""
    digest = digest.strip()
    groups = [digest[i:i + 8] for i in range(0, len(digest), 8)]
    return "\n".join(" ".join(groups[i:i + 4]) for i in range(0, len(groups), 4)) or "(none)"


ERROR_HEADINGS = ("Error finding (CODE:SUBJECT)", "At stake (£)", "Acknowledged by", "Reason")
SMALL_FROM = 20  # more error findings than this are listed in small print


def _errors(pack: ClaimPack) -> list[dict]:
    """The pack's error findings, as the Findings report lists them (with subject and acknowledged)."""
    return [f for f in (pack.findings.rows if pack.findings is not None else ()) if f.get("severity") == "error"]


def _acknowledgement(text: str | None, draft: bool) -> tuple[str, str]:
    """(who, why) from a stored acknowledgement, 'accepted by jsmith: two carers agreed'."""
    if not text:
        return ("not yet" if draft else "not acknowledged"), ""
    head, _, reason = text.partition(": ")
    return head.removeprefix("accepted by ").strip(), reason.strip()


def _summary_errors(pack: ClaimPack, w: _Writer) -> None:
    """Every error finding, each with its acknowledgement and reason in their own columns (in small print
    when there are many, so that a national month's errors take a few pages, not dozens)."""
    errors = _errors(pack)
    if pack.findings is None:
        return
    w.append([])
    w.append([w.cell(ERROR_HEADINGS[0], "section"), w.cell(ERROR_HEADINGS[1], "section/right"),
              w.cell(ERROR_HEADINGS[2], "section/pad"), w.cell(ERROR_HEADINGS[3], "section"), w.cell(None, "section")],
             merge="D{r}:E{r}")
    if not errors:
        w.append([w.cell("No error findings", "note")], merge="A{r}:E{r}")
        return
    small = len(errors) > SMALL_FROM
    text, money, scale = ("small", "small/money", SIZE / SMALL) if small else ("value", "money/top", 1.0)
    pad = text + "/pad"  # the acknowledgement a little away from the amount before it
    widths = [width * scale for width in SUMMARY_WIDTHS.values()]
    for f in errors:
        key = _clean(f"{f['code']}:{f.get('subject', '')}") or ""
        who, why = _acknowledgement(f.get("acknowledged"), pack.status != "submitted")
        lines = max(_lines_needed(key, widths[0]), _lines_needed(who, widths[2]), _lines_needed(why, widths[3] + widths[4]))
        height = round(lines * SMALL_LINE + 1, 1) if small else (_height(lines) if lines > 1 else None)
        w.append([w.text(key, text), w.cell(_money(f.get("amount")), money), w.text(_clean(who), pad),
                  w.text(_clean(why), text)], height=height, merge="D{r}:E{r}")


def _summary_unprinted(pack: ClaimPack, w: _Writer, month_text: str) -> None:
    """Where the lines and findings that are not printed are."""
    note = (f"Every line ({len(pack.lines):,} for {month_text}, {len(pack.adjustments):,} adjustments) and every "
            f"finding is in this workbook on the sheets {', '.join(DETAIL_SHEETS[:-1])} and {DETAIL_SHEETS[-1]}, "
            "which are not printed (too long to print): right-click a sheet tab and choose Unhide (Show Sheet).")
    w.append([], height=6)
    w.append([w.text(note, "note")], height=_height(_lines_needed(note, sum(SUMMARY_WIDTHS.values()))),
             merge="A{r}:E{r}")


def _summary_adjustments_by_month(pack: ClaimPack, w: _Writer) -> None:
    """The adjustments summed by the month they correct and by scheme (every line is on the Adjustments sheet)."""
    totals: dict[tuple[str, str], list] = {}
    for line in pack.adjustments:
        entry = totals.setdefault((line.claim_month, line.scheme), [0, Decimal(0)])
        entry[0] += 1
        entry[1] += line.amount
    w.append([])
    w.append([w.cell("Adjustments by month corrected", "section"), w.cell("Scheme", "section"),
              w.cell("Lines", "section/right"), w.cell("Amount (£)", "section/right"), w.cell(None, "section")])
    for (month, scheme), (count, amount) in sorted(totals.items()):
        w.append([w.cell(_month(month), "month"), w.text(_clean(scheme)), w.cell(count, "int"), w.cell(amount, "money")])
    if not totals:
        w.append([w.cell("No adjustments to earlier months", "note")])
        return
    w.append([w.cell("Total", "total"), w.cell(None, "total"), w.cell(len(pack.adjustments), "total/int"),
              w.cell(sum((a for _, a in totals.values()), Decimal(0)), "total/money")])


def _summary_findings_by_code(pack: ClaimPack, w: _Writer) -> None:
    """The findings counted by code, with the money at stake (every finding is on the Findings sheet)."""
    if pack.findings is None:
        return
    codes: dict[str, list] = {}
    for f in pack.findings.rows:
        entry = codes.setdefault(f["code"], [f["severity"], f["paragraph"], 0, Decimal(0)])
        entry[2] += 1
        entry[3] += _money(f.get("amount")) or Decimal(0)
    w.append([])
    w.append([w.cell("Findings by code", "section"), w.cell("Severity", "section"), w.cell("Paragraph", "section"),
              w.cell("Findings", "section/right"), w.cell("At stake (£)", "section/right")])
    for code, (severity, paragraph, count, amount) in sorted(codes.items(), key=lambda c: (c[1][0] != "error", c[0])):
        w.append([w.text(_clean(code)), w.text(_clean(severity)), w.text(_clean(paragraph)), w.cell(count, "int"),
                  w.cell(amount, "money")])
    if not codes:
        w.append([w.cell("No findings", "note")])
        return
    w.append([w.cell("Total", "total"), w.cell(None, "total"), w.cell(None, "total"),
              w.cell(len(pack.findings.rows), "total/int"),
              w.cell(sum((c[3] for c in codes.values()), Decimal(0)), "total/money")])
