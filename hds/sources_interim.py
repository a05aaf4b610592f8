"""Interim reader (to be replaced by hds.sources): today's CSV and workbook reading, as raw tables."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hds.contract import TABLE_NAMES
from hds.errors import HdsError, Problem


@dataclass
class RawTable:
    name: str
    source: str
    header: list[str]
    frame: object
    rows: np.ndarray
    blank_rows: int = 0
    problems: list = field(default_factory=list)


@dataclass
class Source:
    path: Path
    kind: str
    tables: dict
    files: dict
    notes: list
    problems: list


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_source(path, tables=TABLE_NAMES) -> Source:
    path = Path(path)
    if not path.exists():
        raise HdsError(f"{path}: no such file or folder; give a folder of CSV files or an .xlsx workbook")
    if path.is_dir():
        raw, notes, files = {}, [], {}
        for file in sorted(path.iterdir()):
            if file.suffix.lower() != ".csv":
                continue
            if file.stem not in tables:
                notes.append(f"{file.name}: not a table of the data contract; ignored")
                continue
            files[file.name] = hashlib.sha256(file.read_bytes()).hexdigest()
            with file.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header = [h.strip() for h in next(reader, [])]
                raw[file.stem] = _raw_table(file.stem, file.name, header, enumerate(reader, start=2))
        kind = "folder"
    elif path.suffix.lower() == ".xlsx":
        import openpyxl
        raw, notes = {}, []
        files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise HdsError(f"{path}: cannot open as an Excel workbook ({exc})") from exc
        for sheet in book.worksheets:
            if sheet.title not in tables:
                notes.append(f"{path.name} sheet {sheet.title}: not a table of the data contract; ignored")
                continue
            rows = sheet.iter_rows(values_only=True)
            header = [_text(h) for h in next(rows, ())]
            raw[sheet.title] = _raw_table(sheet.title, f"{path.name} sheet {sheet.title}", header,
                                          enumerate(rows, start=2))
        book.close()
        kind = "workbook"
    else:
        raise HdsError(f"{path}: expected a folder of CSV files or an .xlsx workbook")
    problems = []
    if not raw:
        problems.append(Problem(str(path), None, None, "no table of the data contract found; expected files such as "
                                "discharges.csv and episodes.csv, or sheets of those names"))
    return Source(path, kind, raw, files, notes, problems)


def _raw_table(name, source, header, numbered_rows) -> RawTable:
    import pandas as pd
    problems, numbers, data, blank = [], [], [], 0
    for col in sorted({h for h in header if h and header.count(h) > 1}):
        problems.append(Problem(source, 1, col, "the column appears more than once in the header; keep one"))
    for number, cells in numbered_rows:
        cells = [c.strip() if isinstance(c, str) else c for c in cells]
        if all(c is None or c == "" for c in cells):
            blank += 1
            continue
        if any(c not in (None, "") for c in cells[len(header):]):
            problems.append(Problem(source, number, None, f"the row has {len(cells)} values but the header "
                                    f"names {len(header)} columns; check for a stray comma or a missing header"))
        padded = list(cells) + [""] * (len(header) - len(cells))
        numbers.append(number)
        data.append(padded[:len(header)])
    names = list(dict.fromkeys(h for h in header if h))
    idx = {h: header.index(h) for h in names}
    frame = pd.DataFrame({h: pd.Series([row[idx[h]] for row in data], dtype=object) for h in names})
    return RawTable(name, source, header, frame, np.asarray(numbers, dtype=np.int64), blank, problems)
