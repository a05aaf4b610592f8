"""Domain errors. The CLI turns each into a clear message and a non-zero exit."""

from __future__ import annotations

from dataclasses import dataclass


class HdsError(Exception):
    """An error a finance officer can act on; its text is the whole message."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell (or row, or file) of the input."""

    source: str  # file name, or "workbook.xlsx sheet episodes"
    row: int | None  # spreadsheet row number: the header is row 1
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class LoadError(HdsError):
    """Raised with every problem found, so one run lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the input; nothing was loaded:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))
