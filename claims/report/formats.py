"""CSV and JSON text, fast enough for a national month (a hundred thousand lines or more).

- JSON is what ``json.dumps(value, indent=2, default=str)`` would write, byte
  for byte, but lists of flat records are written with one string join per
  record instead of the pure-Python encoder that ``indent`` falls back to.
- CSV goes through the standard ``csv`` writer; every text cell first goes
  through ``neutralise`` (``claims.report.safe``), so no cell can run as a
  spreadsheet formula. Numbers are written as numbers.
- Money is written from integer pence as pounds with two decimals, without
  a float or even a Decimal in between.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from json.encoder import encode_basestring_ascii

from claims.report.safe import FORMULA_LEADERS, FULL_WIDTH_LEADERS, neutralise


def pounds_text(pence: int) -> str:
    """'1234.50' for 123450 pence; '-12.00' for -1200."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


class Pounds(str):
    """Pounds written from pence, as text: JSON writes it quoted, CSV and tables as it is."""

    __slots__ = ()

    @classmethod
    def of(cls, pence: int) -> "Pounds":
        return cls(pounds_text(pence))


# --- JSON -----------------------------------------------------------------------------

def _scalar(value) -> str:
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json.dumps(value)
    return encode_basestring_ascii(str(value))  # Decimal, dates: as default=str gives them


_NESTED = (dict, list, tuple)
_TEXT, _RECORD = {str}, {dict}  # the kinds of a list of plain text, of a list of plain dicts


def _dumps(value, level: int) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        return _records([value], level)[0]
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = "\n" + "  " * (level + 1)
        kinds = set(map(type, value))
        if kinds == _TEXT:
            parts = list(map(encode_basestring_ascii, value))
        elif kinds == _RECORD and all(value):
            parts = _records(value, level + 1)
        else:
            parts = [_dumps(v, level + 1) for v in value]
        return "[" + inner + ("," + inner).join(parts) + "\n" + "  " * level + "]"
    return _scalar(value)


def _records(records: list[dict], level: int) -> list[str]:
    """Each record (a dict, not empty) as indent=2 JSON at `level`, keys encoded once per distinct key set;
    a value that is a scalar written directly, a list or a dict by `_dumps`."""
    inner = "\n" + "  " * (level + 1)
    close = "\n" + "  " * level + "}"
    prefixes: dict[tuple, list[str]] = {}
    out = []
    for record in records:
        keys = tuple(record)
        names = prefixes.get(keys)
        if names is None:
            names = [encode_basestring_ascii(str(k)) + ": " for k in keys]
            if all(type(k) is str for k in keys):  # other keys may be equal and not alike (1 and True)
                prefixes[keys] = names
        out.append("{" + inner + ("," + inner).join([n + (encode_basestring_ascii(v) if type(v) is str else _dumps(
            v, level + 1) if isinstance(v, _NESTED) else _scalar(v)) for n, v in zip(names, record.values())]) + close)
    return out


def to_json(value) -> str:
    """``json.dumps(value, indent=2, default=str)``, faster on big lists of records."""
    return _dumps(value, 0)


# --- CSV --------------------------------------------------------------------------------

def to_csv(records: list[dict], columns: list[str]) -> str:
    """A header and a row per record; text neutralised, numbers and pounds as they are.

    A column whose field is money or a count (``claims.report.columns``) holds numbers: its cells
    are written as plain numbers (-2846.82), never neutralised into text."""
    numeric = [not text for text in text_columns(columns)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_number(r.get(c, "")) if n else _cell(r.get(c, "")) for c, n in zip(columns, numeric)]
                      for r in records])
    return buffer.getvalue()


def text_columns(columns: list[str]) -> list[bool]:
    """For each field, whether its CSV cells are text (neutralised): all but money and counts."""
    from claims.report.columns import kind

    return [kind(c) not in ("money", "int") for c in columns]


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _cell(value):
    if isinstance(value, str) and not isinstance(value, Pounds):
        return neutralise(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _number(value):
    """A cell of a money or count column: a number as it is; anything else (a blank, a word) as text."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return value
    return _cell(value)


_LEADERS = tuple(FORMULA_LEADERS + FULL_WIDTH_LEADERS)


def neutral_column(values: list) -> list:
    """`neutralise` over a column of text, without a call per cell."""
    return [("'" + v) if v and v[0] in _LEADERS else v for v in values]


def columns_csv(headings: list[str], columns: list[list], text: list[bool]) -> str:
    """CSV from whole columns (lists of plain values); the `text` ones are neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headings)
    writer.writerows(zip(*(neutral_column(c) if t else c for c, t in zip(columns, text))))
    return buffer.getvalue()


def pounds_column(pence) -> list[str]:
    return [pounds_text(p) for p in pence]


IDS_IN_A_CELL = 100
"""At most this many ids are written into one cell of a CSV file, a workbook or the pack: a finding
about a whole organisation can name every episode of a month (hundreds of thousands at national
scale), far past what Excel keeps in a cell (32,767 characters) or Python's csv module reads back
(131,072). 'hds check --json' always lists every id."""


def ids_cell(ids, separator: str = " ") -> str:
    """Ids as the text of one cell: all of them, or the first IDS_IN_A_CELL and how many more."""
    ids = list(ids)
    if len(ids) <= IDS_IN_A_CELL:
        return separator.join(ids)
    return (separator.join(ids[:IDS_IN_A_CELL])
            + f"{separator}... and {len(ids) - IDS_IN_A_CELL:,} more ('hds check --json' lists them all)")


def ids_column(lists: list, separator: str = " ") -> list[str]:
    """`ids_cell` over a column of lists of ids: a short list joined inline, a longer one through `ids_cell`."""
    return [separator.join(ids) if len(ids) <= IDS_IN_A_CELL else ids_cell(ids, separator) for ids in lists]
