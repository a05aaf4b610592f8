"""One report vocabulary: a `Report` value, and the one `deliver` that renders it and prints or writes it.

A Report is a table of records (its columns are field names, defined once in
``claims.report.columns``) with a title and notes. `deliver` renders it in the
format asked for: the terminal table, CSV, JSON, an Excel workbook or HTML.
The generic renderings are:

- table: the title, the rows under their headings, each further table (`more`)
  under its own title, then the notes; fitted to the terminal's width (80 when
  not known) and paged when longer than the screen (``claims.report.text``);
- csv: the rows' columns, field names as the header;
- json: `data` (the JSON value, when it carries more than the rows), else the rows;
- xlsx: a sheet per table (the report and each of `more`), with readable headings.

An output drawn its own way (the claim pack, the trace's JSON, the HTML period
report, a table laid out differently) is a renderer in `render`, keyed by format;
it is called only when that format is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from hds.errors import HdsError


@dataclass(frozen=True)
class Report:
    title: str  # the first line of the table ("" for none); the sheet's heading unless `heading` says otherwise
    columns: tuple[str, ...]  # field names (claims.report.columns.FIELDS)
    rows: Sequence[dict] = ()  # records: text, numbers, money as pounds (Pounds text or Decimal)
    notes: tuple[str, ...] = ()  # lines under the table
    data: Any = None  # the JSON value, when it is more than the rows
    more: tuple["Report", ...] = ()  # further tables: below this one, or sheets after it
    sheet: str = "Report"  # the workbook sheet's name
    heading: str | None = None  # the sheet's heading line (None: the title)
    total: bool = False  # the sheet gets a =SUM row under its money columns
    render: Mapping[str, Callable[[], str | bytes]] = field(default_factory=dict)  # format -> own renderer
    shown: tuple[str, ...] | None = None  # the columns the terminal table shows (None: all); the others are
    # said once in the title (a reconciliation's month), or are for programs


def render(report: Report, fmt: str) -> str | bytes:
    """The report in `fmt`: text for table, csv, json and html; bytes for xlsx."""
    if fmt in report.render:
        return report.render[fmt]()
    if fmt == "table":
        return _text(report)
    if fmt == "csv":
        from claims.report.formats import to_csv

        return to_csv(list(report.rows), list(report.columns))
    if fmt == "json":
        from claims.report.formats import to_json

        return to_json(report.data if report.data is not None else list(report.rows))
    if fmt == "xlsx":
        from claims.report.pack import sheet, workbook_bytes

        return workbook_bytes([sheet(r.sheet, list(r.rows), list(r.columns), r.title if r.heading is None
                                     else r.heading, total=r.total) for r in (report, *report.more)])
    raise HdsError(f"this report cannot be written as {fmt}")


def _text(report: Report) -> str:
    from claims.report.views import to_table

    parts = [report.title, ""] if report.title else []
    parts.append(to_table(list(report.rows), list(report.shown or report.columns)))
    for more in report.more:
        parts += ["", more.title, to_table(list(more.rows), list(more.shown or more.columns))]
    for note in report.notes:
        parts += ["", note]
    return "\n".join(parts)


@dataclass(frozen=True)
class LaidOut:
    """A report rendered for where it goes (``lay_out``), to be printed or written (``send``)."""

    content: str | bytes
    fmt: str
    out: Path | None


def deliver(report: Report, fmt: str, out: Path | None, default_out: Path | None = None) -> None:
    """Print the report in `fmt`, or write it to `out` (owner-only); xlsx and pdf need a file
    (`default_out` when given). 'Wrote FILE' goes to stderr."""
    send(lay_out(report, fmt, out, default_out))


def lay_out(report: Report, fmt: str, out: Path | None, default_out: Path | None = None) -> LaidOut:
    """`deliver`'s first half: the report rendered in `fmt` for `out` (or the screen), nothing printed
    or written yet (a command may lay out while its store is still open, and print once it is closed)."""
    from hds import progress

    out = out or (default_out if fmt in ("xlsx", "pdf") else None)
    with progress.step(f"Writing {out}" if out is not None else "Laying out the report"):
        content = render(report, fmt)
    if fmt == "table":
        content = _for_screen(content, fmt)
    return LaidOut(content, fmt, out)


def send(laid: LaidOut) -> None:
    """`deliver`'s second half: print what `lay_out` made, paged when long, or write it to its file."""
    import click

    from claims.report.output import write_output
    from claims.report.text import fit, show

    content, fmt, out = laid.content, laid.fmt, laid.out
    if out is None:
        if isinstance(content, bytes):
            raise HdsError(f"--format {fmt} writes a file: give --out FILE")
        if fmt == "table":
            show(content)  # fitted to the terminal, paged when long; plain when piped
        else:
            click.echo(_for_screen(content, fmt))
        return
    if fmt == "table":
        content = fit(content)
    write_output(out, content if isinstance(content, bytes) or content.endswith("\n") else content + "\n")
    click.echo(f"Wrote {out}", err=True)


def _for_screen(content: str, fmt: str) -> str:
    """What is printed: a table (and anything else going to a terminal) with the control characters of
    stored text escaped, so that none can recolour, hide or overwrite what is read; CSV or JSON piped
    on to a program as it is."""
    import sys

    from claims.report.safe import printable

    return printable(content) if fmt == "table" or sys.stdout.isatty() else content
