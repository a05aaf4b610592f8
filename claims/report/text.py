"""Text for the terminal: tables laid out by rich, fitted to the width; long output paged.

The width is ``COLUMNS`` when set, else the terminal's, else 80 (a pipe or a
file gets what an 80-column terminal would). Every table fits it: text
columns wrap at spaces (an id too long for its column folds onto the next
line, it is never shortened), while numbers and money are never wrapped or
cut. Lines of prose wider than the terminal are wrapped under their own
indent (`fit`). On a terminal, output taller than the screen goes through a
pager (``$PAGER``, else ``less -FRX``, as git does); piped, it is printed
plainly, without colour or control codes.

rich lays out every table up to RICH_ROWS rows. A national month's claim can
list a hundred thousand lines, which rich would take minutes over (about 80
microseconds a cell), so a longer table is written by `_plain` with the same
look and the same rules: widths from the longest value and the longest word,
text columns narrowed widest first, rows that fit written with one format.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import textwrap
from dataclasses import dataclass, field

DEFAULT_WIDTH = 80
RICH_ROWS = 2_000  # tables longer than this are laid out by _plain
GAP = 2  # spaces between columns
RULE = "─"
FOLD = 12  # a text column is narrowed to its longest word, or to this when that word is longer (it then folds)


def terminal_width() -> int:
    """COLUMNS if set; the terminal's width when writing to one; otherwise 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


@dataclass
class Shown:
    """A column of a terminal table as it is shown: a heading over values already made text."""

    heading: str
    values: list  # plain values; money already as text (hds.money.format_pounds)
    align: str = "left"  # or "right": numbers and money, never wrapped
    wrap: bool = True  # kept for callers; every text column wraps when the table is too wide
    width: int = field(default=0, init=False)

    def natural(self) -> int:
        return max([len(self.heading)] + [len(v) for v in self.values]) if self.values else len(self.heading)

    def least(self) -> int:
        """The narrowest this column may be: all of a number; a text column's longest word, at most FOLD."""
        if self.align == "right":
            return self.natural()
        return max(1, min(FOLD, max((len(w) for v in [self.heading, *self.values] for w in v.split()), default=1)))


def table(columns: list[Shown], width: int | None = None) -> str:
    """The columns side by side under their headings, fitted to `width` (default: the terminal's)."""
    width = width or terminal_width()
    for column in columns:
        column.values = ["" if v is None else str(v) for v in column.values]
    rows = len(columns[0].values) if columns else 0
    if rows > RICH_ROWS:
        return _plain(columns, width)
    return _rich(columns, width)


def _rich(columns: list[Shown], width: int) -> str:
    from rich import box
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP // 2),
                 collapse_padding=True, header_style="", expand=False)
    for c in columns:
        right = c.align == "right"
        grid.add_column(c.heading, justify="right" if right else "left", no_wrap=right, overflow="fold",
                        min_width=c.natural() if right else None)
    for row in zip(*(c.values for c in columns)):
        grid.add_row(*row)
    return render_text(grid, width)


def render_text(renderable, width: int) -> str:
    """A rich renderable as plain text at `width` (no colour, no control codes), trailing spaces trimmed."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                      legacy_windows=False, highlight=False, emoji=False, markup=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.file.getvalue().rstrip("\n").split("\n"))


def _plain(columns: list[Shown], width: int) -> str:
    """A long table in rich's look, fast: one format for the rows that fit, wrapping for the rest."""
    for column in columns:
        column.width = column.natural()
    _fit(columns, width)
    total = sum(c.width for c in columns) + GAP * (len(columns) - 1)
    lines = _cells([c.heading for c in columns], columns) + [RULE * total]
    template = (" " * GAP).join(f"{{:{'>' if c.align == 'right' else '<'}{c.width}}}" for c in columns)
    widths = [c.width for c in columns]
    for row in zip(*(c.values for c in columns)):
        if all(len(v) <= w for v, w in zip(row, widths)):
            lines.append(template.format(*row).rstrip())
        else:
            lines += _cells(list(row), columns)
    return "\n".join(lines)


def _fit(columns: list[Shown], width: int) -> None:
    """Narrow the widest text columns until the table fits (or each reaches its least width)."""
    total = sum(c.width for c in columns) + GAP * (len(columns) - 1)
    while total > width:
        text = [c for c in columns if c.align != "right" and c.width > c.least()]
        if not text:
            return
        widest = max(text, key=lambda c: c.width)
        others = sorted((c.width for c in text if c is not widest), reverse=True)
        cut = min(total - width, widest.width - widest.least())
        if others and widest.width - cut < others[0]:
            cut = max(1, widest.width - others[0])
        widest.width -= cut
        total -= cut


def _wrap(value: str, width: int) -> list[str]:
    if len(value) <= width:
        return [value]
    return textwrap.wrap(value, width, break_long_words=True, break_on_hyphens=False) or [""]


def _cells(values: list[str], columns: list[Shown]) -> list[str]:
    parts = [_wrap(v, c.width) if c.align != "right" else [v] for v, c in zip(values, columns)]
    height = max(len(p) for p in parts)
    out = []
    for i in range(height):
        cells = [p[i] if i < len(p) else "" for p in parts]
        out.append((" " * GAP).join(cell.rjust(c.width) if c.align == "right" else cell.ljust(c.width)
                                    for cell, c in zip(cells, columns)).rstrip())
    return out


def fit(text: str, width: int | None = None) -> str:
    """Every line of `text` within `width`: a longer line wraps at spaces under its own indent (two more
    for a continued list item); words are never cut, so neither is an amount or an id."""
    width = width or terminal_width()
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip(" "))
        more = indent + (2 if line.lstrip(" ").startswith(("- ", "* ")) else 4 if indent else 2)
        out += textwrap.wrap(line, width, initial_indent="", subsequent_indent=" " * min(more, width // 2),
                             break_long_words=False, break_on_hyphens=False, drop_whitespace=True) or [""]
    return "\n".join(out)


def show(text: str) -> None:
    """Print `text` to the terminal: fitted to its width, paged when it is taller than the screen (on a
    terminal only), plain when piped."""
    import click

    text = fit(text)
    if sys.stdout.isatty() and text.count("\n") + 1 > shutil.get_terminal_size((DEFAULT_WIDTH, 24)).lines - 1:
        os.environ.setdefault("LESS", "FRX")  # as git does: quit if it fits, keep colours, leave the screen
        click.echo_via_pager(text)
        return
    click.echo(text)
