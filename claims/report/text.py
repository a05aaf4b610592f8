"""Text for the terminal: tables laid out by rich, fitted to the width; long output paged.

The width is ``COLUMNS`` when set, else the terminal's, else 80 (a pipe or a
file gets what an 80-column terminal would). Every table fits it: text
columns wrap at spaces (an id too long for its column folds onto the next
line, it is never shortened), while numbers and money are never wrapped or
cut. Lines of prose wider than the terminal are wrapped under their own
indent (`fit`). On a terminal, output taller than the screen goes through a
pager (``$PAGER``, else ``less -FRX``, as git does); piped, it is printed
plainly, without colour or control codes.

rich lays out a table of up to RICH_ROWS rows in which something wraps or a
character is wider than a column (`_as_rich`). A national month's claim can
list a hundred thousand lines, which rich would take minutes over (about 80
microseconds a cell), so a longer table, and any other, is written by
`_plain` with the same look and the same rules: widths from the longest value
and the longest word, text columns narrowed widest first, rows that fit
written with one format, and the cells that wrap cut into lines a column at a
time (`_wrap_many`), as `_wrap` would cut them one by one.
"""

from __future__ import annotations

import io
import itertools
import operator
import os
import re
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
        import shutil  # only for a terminal: shutil brings bz2 and lzma with it

        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


@dataclass
class Shown:
    """A column of a terminal table as it is shown: a heading over values already made text."""

    heading: str
    values: list  # plain values; money already as text (hds.money.format_pounds)
    align: str = "left"  # or "right": numbers and money, never wrapped
    width: int = field(default=0, init=False)

    def natural(self) -> int:
        return max(len(self.heading), max(map(len, self.values), default=0))

    def least(self) -> int:
        """The narrowest this column may be: all of each number (its heading may wrap at spaces); a text
        column's longest word, at most FOLD."""
        words = max((len(w) for w in self.heading.split()), default=1)
        if self.align == "right":
            return max(words, max(map(len, self.values), default=0))
        text = " ".join(self.values)
        longest = FOLD if _LONG_WORD.search(text) else max(map(len, text.split()), default=0)  # FOLD stands for longer
        return max(1, min(FOLD, max(words, longest)))


_LONG_WORD = re.compile(rf"\S{{{FOLD}}}")  # a word of FOLD characters or more: found sooner than the words are split


def table(columns: list[Shown], width: int | None = None) -> str:
    """The columns side by side under their headings, fitted to `width` (default: the terminal's). A
    table that cannot fit without cutting a number is shown a row at a time, a field to a line."""
    width = width or terminal_width()
    for column in columns:
        column.values = _texts(column.values)
        column.width = column.natural()
    if not _fit(columns, width):
        return _stacked(columns, width)
    rows = len(columns[0].values) if columns else 0
    return _plain(columns, width) if rows > RICH_ROWS or _as_rich(columns) else _rich(columns, width)


def _texts(values) -> list[str]:
    """Each value as text, "" for None."""
    values = values if isinstance(values, list) else list(values)
    texts = list(map(str, values))
    if "None" in texts:  # a None among them (or the text itself): looked at one by one
        texts = ["" if v is None else str(v) for v in values]
    return texts


# characters a terminal shows one column wide, as rich measures them: printable ASCII, and £
_NARROW = re.compile("[ -~£]*")


def _as_rich(columns: list[Shown]) -> bool:
    """True when `_plain` writes the table exactly as rich would: every heading within its column, every
    character one column wide, no value with a space at either end (rich and `_plain` place those
    differently), and every value wider than its column one that rich and textwrap cut into the same
    lines (`_wraps_as_rich`)."""
    return (bool(columns) and all(len(c.heading) <= c.width for c in columns)
            and _NARROW.fullmatch("".join(c.heading + "".join(c.values) for c in columns)) is not None
            and not any(value[:1] == " " or value[-1:] == " " for c in columns for value in c.values)
            and all(_wraps_as_rich(c) for c in columns))


def _wraps_as_rich(column: Shown) -> bool:
    """The values wider than `column` (none, mostly) break only at spaces, as both rich and textwrap
    break them, line by line alike: words apart by single spaces, no word wider than the column (which
    rich and textwrap would cut differently), in a column aligned left."""
    over = _over(column)
    return not over or column.align != "right" and all(
        not _UNUSUAL_SPACE.search(value) and max(map(len, value.split(" "))) <= column.width
        for value in map(column.values.__getitem__, over))


def _rich(columns: list[Shown], width: int) -> str:
    """rich draws the table in the widths `_fit` chose."""
    from rich import box
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP // 2),
                 collapse_padding=True, header_style="", expand=False)
    for c in columns:
        right = c.align == "right"
        grid.add_column(c.heading, justify="right" if right else "left", no_wrap=False, overflow="fold",
                        min_width=c.width, max_width=c.width)  # the widths _fit chose
    for row in zip(*(c.values for c in columns)):
        grid.add_row(*row)
    return render_text(grid, width)


def _stacked(columns: list[Shown], width: int) -> str:
    """Each row as 'Heading: value' lines, rows apart: for a table too wide for the terminal."""
    label = max(len(c.heading) for c in columns) + 2
    out = []
    for i in range(len(columns[0].values) if columns else 0):
        out += [""] if i else []
        for c in columns:
            out.append(fit(f"{(c.heading + ':').ljust(label)}{c.values[i]}".rstrip(), width))
    return "\n".join(out)


def render_text(renderable, width: int) -> str:
    """A rich renderable as plain text at `width` (no colour, no control codes), trailing spaces trimmed."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                      legacy_windows=False, highlight=False, emoji=False, markup=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.file.getvalue().rstrip("\n").split("\n"))


def _plain(columns: list[Shown], width: int) -> str:
    """A long table in rich's look, fast, in the widths `_fit` chose: the rows between those that wrap
    formatted by `map` with one format (no Python step per row or cell); the others wrapped (`_wrapped`)."""
    total = sum(c.width for c in columns) + GAP * (len(columns) - 1)
    template = _template(columns)
    lines = _cells([c.heading for c in columns], columns, template) + [RULE * total]
    values = [c.values for c in columns]
    wrapped = _wrapped(columns, template)
    start = 0
    for i in [*wrapped, len(values[0])]:
        if start < i:
            lines += map(str.rstrip, map(template.__mod__, zip(*(v[start:i] for v in values))))
        if i < len(values[0]):
            lines.append(wrapped[i])
        start = i + 1
    return "\n".join(lines)


def _wrapping(columns: list[Shown]) -> list[int]:
    """The rows, in order, with a value wider than its column."""
    return sorted(set().union(*map(_over, columns)))


def _over(column: Shown) -> list[int]:
    """The rows whose value in `column` is wider than it."""
    if max(map(len, column.values), default=0) <= column.width:
        return []
    return [i for i, v in enumerate(column.values) if len(v) > column.width]


def _wrapped(columns: list[Shown], template: str) -> dict[int, str]:
    """The rows with a value wider than its column, in order, each as its lines (one text) as `_cells`
    lays them out, made a column at a time where they can be: each column's wide values cut into lines
    together (`_wrap_many`), then the rows put together (`_joined`). The rows left over go a row at a
    time through `_cells`."""
    values = [c.values for c in columns]
    over = [_over(c) for c in columns]
    cut = [_wrap_many(c, rows) for c, rows in zip(columns, over)]
    done = _joined(columns, over, cut) if len(columns) > 1 and cut[-1] else {}
    for i in set().union(*over).difference(done):
        done[i] = "\n".join(_cells([v[i] for v in values], columns, template))
    return {i: done[i] for i in sorted(done)}


def _joined(columns: list[Shown], over: list[list[int]], cut: list[dict[int, str]]) -> dict[int, str]:
    """The rows whose last column `cut` holds, as `_cells` lays them out, all at once: the other columns'
    first lines and the last column's first line; then, when another column wraps, its second line
    and the last column's second; then the last column's further lines, each under a blank margin.
    Left out: a row where another column wraps that `cut` could not cut, or that takes three lines."""
    head = "".join(_format(c) + " " * GAP for c in columns[:-1])  # a line's columns before the last
    margin = "\n" + head % (("",) * (len(columns) - 1))
    parts = [{i: lines.partition("\n") for i, lines in column.items()} for column in cut[:-1]]
    left = set().union(*(rows for rows, lines in zip(over[:-1], cut[:-1]) if rows and not lines))
    left.update(i for split in parts for i, (_, _, more) in split.items() if "\n" in more)
    rows = [i for i in cut[-1] if i not in left]
    firsts = zip(*([split[i][0] if i in split else c.values[i] for i in rows] for c, split in zip(columns, parts)))
    seconds = zip(*([split[i][2] if i in split else "" for i in rows] for split in parts))
    last = map(str.replace, [cut[-1][i] for i in rows], itertools.repeat("\n"), itertools.repeat(margin))
    last = map(str.replace, last, itertools.repeat(margin), ("\n" + head % cells for cells in seconds),
               itertools.repeat(1))  # the second line after the other columns' second lines (a margin when none)
    return dict(zip(rows, map(operator.add, map(head.__mod__, firsts), last)))


def _fit(columns: list[Shown], width: int) -> bool:
    """Narrow the widest text columns (and headings wider than their values) until the table fits
    `width`; False when it cannot without cutting a number or a word longer than FOLD."""
    total = sum(c.width for c in columns) + GAP * (len(columns) - 1)
    least = [c.least() for c in columns] if total > width else []  # each column's words counted once
    while total > width:
        narrower = [(c, low) for c, low in zip(columns, least) if c.width > low]
        if not narrower:
            return False
        widest, low = max(narrower, key=lambda pair: (pair[0].align != "right", pair[0].width))
        others = sorted((c.width for c, _ in narrower if c is not widest), reverse=True)
        cut = min(total - width, widest.width - low)
        if others and widest.width - cut < others[0]:
            cut = max(1, widest.width - others[0])
        widest.width -= cut
        total -= cut
    return True


def _wrap(value: str, width: int) -> list[str]:
    """`value` in lines of at most `width`, exactly as textwrap.wrap(value, width, break_long_words=True,
    break_on_hyphens=False) makes them: text whose only spaces are single, inner spaces (nearly all text)
    by `_wrap_words`, in steps of a line rather than a word; any other text by textwrap itself."""
    if len(value) <= width:
        return [value]
    if _UNUSUAL_SPACE.search(value):
        return textwrap.wrap(value, width, break_long_words=True, break_on_hyphens=False) or [""]
    return _wrap_words(value, width)


# whitespace other than a space, two spaces together, or a space at either end: wrapped by textwrap itself
_UNUSUAL_SPACE = re.compile(r"[^\S ]|  |^ | $")


def _wrap_words(text: str, width: int) -> list[str]:
    """textwrap's greedy lines for words apart by single spaces: a line ends before the word that would
    pass `width`; a word longer than `width` starts on the line it follows (when room is left) and is cut
    at the line's end, as textwrap cuts it."""
    n, p, lines = len(text), 0, []
    while n - p > width:
        limit = p + width
        if text[limit] == " ":  # a word ends exactly at the line's end
            lines.append(text[p:limit])
            p = limit + 1
            continue
        space = text.rfind(" ", p, limit)
        end = text.find(" ", space + 1) if space >= 0 else -1
        if space < 0 or (n if end < 0 else end) - space - 1 > width:  # the word goes on: cut at the line's end
            lines.append(text[p:limit])
            p = limit
        else:
            lines.append(text[p:space])
            p = space + 1
    lines.append(text[p:])
    return lines


def _wrap_many(column: Shown, rows: list[int]) -> dict[int, str]:
    """The values of `rows` in a text `column` (each wider than it) cut into lines as `_wrap` cuts them,
    each value's lines joined by newlines, made for all the rows at once: the values joined by
    newlines, cut into lines by one regular expression (`_line_of`), the lines joined by newlines and
    split back into values where a line begins with a newline. Empty (`_cells` then wraps them)
    for a column of numbers; when a value holds anything `_wrap` does not give to `_wrap_words`
    (whitespace other than single spaces between words); or when the lines do not account for every
    character, a single space between two lines of a value excepted (a word longer than the column
    among other words, which `_wrap_words` cuts where its line ends)."""
    if column.align == "right" or not rows:
        return {}
    texts = [column.values[i] for i in rows]
    joined = "\n".join(texts)
    spaced = " " in joined  # else every value is one word, cut every `width` characters
    if not all(map(str.isprintable, texts)) or spaced and ("  " in joined or " \n" in joined or joined[-1] == " "):
        return {}  # (a space that begins a value is taken by no line)
    found = _line_of(column.width, spaced).findall(joined)
    values = "\n".join(found).split("\n\n")
    between = len(joined) - sum(map(len, found))  # the characters no line took
    if len(values) != len(texts) or between != (len(found) - len(texts) if spaced else 0):
        return {}
    return dict(zip(rows, values))


def _line_of(width: int, spaced: bool) -> re.Pattern:
    """A line of `_wrap_many`: an optional newline (a new value), then at most `width` characters; with
    `spaced`, the longest such run, first not a space, that ends before a space, a newline or the end."""
    if spaced:
        return re.compile(rf"\n?[^ \n][^\n]{{0,{width - 1}}}(?![^ \n])")
    return re.compile(rf"\n?[^\n]{{1,{width}}}")


def _cells(values: list[str], columns: list[Shown], template: str | None = None) -> list[str]:
    """One row, each value wrapped to its column's width (a number only when it is wider), as lines;
    `template` is the row's format (`_template`) when the caller has it."""
    parts = [_wrap(v, c.width) if c.align != "right" or len(v) > c.width else [v] for v, c in zip(values, columns)]
    template = template or _template(columns)
    return [(template % cells).rstrip() for cells in itertools.zip_longest(*parts, fillvalue="")]


def _template(columns: list[Shown]) -> str:
    """The format of one line of a table (for `%` and a tuple of text: a third quicker than str.format): each
    column padded to its width, left or right, GAP apart."""
    return (" " * GAP).join(map(_format, columns))


def _format(column: Shown) -> str:
    """A column's part of `_template`: its text padded to its width, left or right."""
    return f"%{'' if column.align == 'right' else '-'}{column.width}s"


def fit(text: str, width: int | None = None) -> str:
    """Every line of `text` within `width`: a longer line wraps at spaces under its own indent (two more
    for a continued list item); words are never cut, so neither is an amount or an id. The longer lines
    are found by one regular expression, and only they are taken out and put back wrapped (a national
    month's table is a quarter of a million lines, all but its first within the width)."""
    width = width or terminal_width()
    first = text.find("\n") % (len(text) + 1)  # the first line's length (all of the text when one line)
    starts = ([0] if first > width else []) + [m.start() + 1 for m in re.finditer(rf"\n[^\n]{{{width + 1}}}", text)]
    if not starts:
        return text
    out, at = [], 0
    for start in starts:
        end = text.find("\n", start) % (len(text) + 1)  # the line's end (the text's, for the last line)
        out += [text[at:start], "\n".join(_fit_line(text[start:end], width))]
        at = end
    return "".join(out + [text[at:]])


def _fit_line(line: str, width: int) -> list[str]:
    """A line longer than `width` wrapped at spaces under its own indent, as `fit` wraps it."""
    indent = len(line) - len(line.lstrip(" "))
    more = indent + (2 if line.lstrip(" ").startswith(("- ", "* ")) else 4 if indent else 2)
    return textwrap.wrap(line, width, initial_indent="", subsequent_indent=" " * min(more, width // 2),
                         break_long_words=False, break_on_hyphens=False, drop_whitespace=True)


def show(text: str) -> None:
    """Print `text` to the terminal: fitted to its width, paged when it is taller than the screen (on a
    terminal only), plain when piped."""
    import click

    text = fit(text)
    if sys.stdout.isatty():
        import shutil

        if text.count("\n") + 1 > shutil.get_terminal_size((DEFAULT_WIDTH, 24)).lines - 1:
            os.environ.setdefault("LESS", "FRX")  # as git does: quit if it fits, keep colours, leave the screen
            click.echo_via_pager(text)
            return
    click.echo(text)
