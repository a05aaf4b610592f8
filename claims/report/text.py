"""Tables for the terminal: aligned, money right-aligned in one format, fitted to the width.

The width is the terminal's (or ``COLUMNS``); output that goes to a file or
a pipe is not cut unless ``COLUMNS`` is set. When a table is too wide, its
long text columns are narrowed: text is wrapped where a column asks for it
(reasons) and otherwise shortened with an ellipsis; numbers and money are
never cut. A hundred thousand rows format in well under a second.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from dataclasses import dataclass, field

GAP = "  "
ELLIPSIS = "…"
MIN_TEXT = 8  # a text column is never narrowed below this


def terminal_width() -> int | None:
    """COLUMNS if set; the terminal's width when writing to one; otherwise no limit."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    return None


@dataclass
class Shown:
    """A column of a terminal table as it is shown: a heading over values already made text."""

    heading: str
    values: list  # plain values; money already as text (hds.money.format_pounds)
    align: str = "left"  # or "right"
    wrap: bool = False  # too long: wrap over several lines (otherwise: shorten)
    width: int = field(default=0, init=False)

    def natural(self) -> int:
        return max([len(self.heading)] + [len(v) for v in self.values]) if self.values else len(self.heading)


def table(columns: list[Shown], width: int | None = None) -> str:
    """The columns side by side under their headings, fitted to `width` (None: no limit)."""
    for column in columns:
        column.values = ["" if v is None else str(v) for v in column.values]
        column.width = column.natural()
    if width is not None:
        _fit(columns, width)
    rows = len(columns[0].values) if columns else 0
    lines = [_line([c.heading for c in columns], columns), _line(["-" * c.width for c in columns], columns)]
    if not any(c.wrap and any(len(v) > c.width for v in c.values) for c in columns) and all(
            c.natural() <= c.width for c in columns):
        template = GAP.join(f"{{:{'>' if c.align == 'right' else '<'}{c.width}}}" for c in columns)
        lines += [template.format(*row).rstrip() for row in zip(*(c.values for c in columns))]
    else:
        for i in range(rows):
            lines += _cells([c.values[i] for c in columns], columns)
    return "\n".join(lines)


def _fit(columns: list[Shown], width: int) -> None:
    """Narrow the widest text columns until the table fits (or they reach MIN_TEXT)."""
    total = sum(c.width for c in columns) + len(GAP) * (len(columns) - 1)
    while total > width:
        text = [c for c in columns if c.align == "left" and c.width > max(MIN_TEXT, len(c.heading))]
        if not text:
            return
        widest = max(text, key=lambda c: c.width)
        cut = min(total - width, widest.width - max(MIN_TEXT, len(widest.heading)))
        others = sorted((c.width for c in text if c is not widest), reverse=True)
        if others and widest.width - cut < others[0]:
            cut = max(1, widest.width - others[0])
        widest.width -= cut
        total -= cut


def _line(cells: list[str], columns: list[Shown]) -> str:
    return GAP.join(cell.rjust(c.width) if c.align == "right" else cell.ljust(c.width)
                    for cell, c in zip(cells, columns)).rstrip()


def _cells(values: list[str], columns: list[Shown]) -> list[str]:
    parts = []
    for value, column in zip(values, columns):
        if len(value) <= column.width:
            parts.append([value])
        elif column.wrap:
            parts.append(textwrap.wrap(value, column.width) or [""])
        else:
            parts.append([value[:column.width - 1] + ELLIPSIS])
    height = max(len(p) for p in parts)
    return [_line([p[i] if i < len(p) else "" for p in parts], columns) for i in range(height)]
