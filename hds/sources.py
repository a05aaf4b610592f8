"""Turn the files a finance officer gives us into raw tables, or say exactly why not.

An extract is a folder of CSV files or one Excel workbook with a sheet per
table. This module only reads: it finds the tables, decodes the text, splits
rows and cells, and reports every problem of shape (a stray comma, a merged
cell, a formula Excel never calculated, bytes that are not text ...) naming
file, row and column. Types, dates, money and references are checked later,
on the tables built here.

`read_source` raises only `HdsError`, and only when the path itself is
unusable; everything wrong inside the files comes back as `Problem`s so that
one run lists them all.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a table is parsed: reading a small file (read_records) needs none
    import pandas as pd

from hds.errors import HdsError, Problem

TABLES = ("discharges", "episodes", "events", "block_costs", "receipts")

MAX_CELL_CHARS = 1_000  # a longer cell is almost always rows swallowed by a stray quote
MAX_PROBLEMS_PER_KIND = 100  # per table and kind of problem; the rest are counted in one line
MAX_WORKBOOK_UNPACKED = 2 * 1024 ** 3  # bytes a workbook may unpack to
MAX_CELLS = 100_000_000  # rows x columns one table may have (ten times a million rows of nine columns)
EXCEL_MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384  # as many as an Excel sheet has
_SPARE_COLUMNS = 64  # cells beyond the header kept one by one; past these a row's extra cells are summed up
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
SETTINGS = "hds.toml"  # the settings file; in a folder it is never a table

EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!",
})

# Control characters a cell may not hold: C0 except TAB, LF and CR; DEL; C1.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # and lone surrogates
_CONTROL_OR_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20)) + b"\x7f"
_C1_IN_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"

_LABELS = {  # how the count of problems beyond the cap describes them
    "nul": "cells holding a NUL byte",
    "control": "cells holding control characters",
    "undecodable": "cells holding bytes that are not text",
    "long_cell": f"cells longer than {MAX_CELL_CHARS:,} characters",
    "long_row": "rows longer than the header",
    "unnamed": "columns with values but no name",
    "formula": "formulas with no saved value",
    "error": "cells holding an Excel error",
    "merged": "merged ranges",
}

FORMULA_NO_VALUE = "a formula with no saved value; open and save the file in Excel, or paste values"
DUPLICATE_COLUMN = "the column appears more than once in the header; keep one"
NO_TABLE = ("no table of the data contract found; expected files such as discharges.csv and episodes.csv, "
            "or sheets of those names; an extract under other names is read through [input] in hds.toml beside "
            "the store ('hds init' writes a first one)")


@dataclass
class RawTable:
    name: str  # the contract name, e.g. "episodes"
    source: str  # how messages name it: "Episodes.CSV" or "extract.xlsx sheet episodes"
    header: list[str]  # stripped header names as in the file
    frame: pd.DataFrame  # one object column per non-empty header name (first occurrence)
    rows: np.ndarray  # int64 spreadsheet row of each frame row; the header is row 1
    blank_rows: int = 0  # blank rows between the header and the last row with data
    problems: list[Problem] = field(default_factory=list)  # shape problems
    # a CSV file's: its frame's cells are all str, and which of each column's are empty (frame column
    # name -> mask over the frame's rows), found as its cells were cleaned; None for a workbook's
    blank: dict[str, np.ndarray] | None = None


@dataclass
class Source:
    path: Path
    kind: str  # "folder" or "workbook"
    tables: dict[str, RawTable] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256 of every file read
    parts: dict[str, list[RawTable]] = field(default_factory=dict)  # a table's further files (a mapped glob)
    notes: list[str] = field(default_factory=list)  # worth telling the user; not errors
    problems: list[Problem] = field(default_factory=list)  # file-level problems


def read_source(path: Path | str, tables: tuple[str, ...] = TABLES, files: dict[str, str] | None = None,
                reads: dict[str, Callable[[str], bool]] | None = None) -> Source:
    """Read a folder of CSV files or one .xlsx/.xlsm workbook into raw tables (``open_source``, each
    table of a folder read in turn)."""
    opened = open_source(path, tables, files, reads)
    if isinstance(opened, Folder):
        for table in opened.wanted:
            opened.add(opened.read_table(table))
        return opened.source
    return opened


def open_source(path: Path | str, tables: tuple[str, ...] = TABLES, files: dict[str, str] | None = None,
                reads: dict[str, Callable[[str], bool]] | None = None) -> Source | Folder:
    """Read a folder of CSV files or one .xlsx/.xlsm workbook into raw tables.

    `files` names, for some tables, their own file: a glob in the folder (any
    case; several files matched are read as one table, in `parts`) or a sheet
    name of the workbook (the mapping's ``[input.<table>] file``); the others
    are found by their contract name. `reads` says, for some tables, which of
    a CSV file's headings are read at all (the mapping's): the cells of the
    others are not kept, checked or stripped.

    Raises HdsError only when `path` is not something we can read at all.
    Tables found but not readable as a table at all (binary data, the wrong
    separator, a sheet that cannot be parsed) are left out of `tables`, with
    a problem in `problems`.

    A folder comes back listed but not yet read (a ``Folder``: each table's
    files are read on their own, in any order or at once, and added in the
    order of `tables`); a workbook comes back read.
    """
    path = Path(path)
    wanted = tuple(t.lower() for t in tables)
    files = files or {}
    try:
        if not path.exists():
            raise HdsError(f"{path}: no such file or folder; give a folder of CSV files or an .xlsx workbook")
        if path.is_dir():
            return _list_folder(path, wanted, files, reads or {})
    except OSError as exc:
        raise HdsError(f"{path}: cannot be read ({exc.strerror or exc}); check the path and its permissions") from None
    if path.suffix.lower() in WORKBOOK_SUFFIXES + (".xls",):
        return _read_workbook(path, wanted, files)
    hint = "; give the folder that holds it" if path.suffix.lower() == ".csv" else ""
    raise HdsError(f"{path}: expected a folder of CSV files or an .xlsx workbook{hint}")


# --------------------------------------------------------------------------- folder of CSV files

@dataclass
class Folder:
    """A folder of CSV files listed, its files not yet read: `source` holds what the listing found (notes
    on entries that are not tables, problems); each table's files are read by ``read_table`` into a
    Source of their own and added to it by ``add``, in the order of `wanted`."""

    source: Source
    wanted: tuple[str, ...]
    found: dict[str, list[Path]]  # table -> its files
    globs: frozenset[str]  # the tables whose file is a mapped glob
    reads: dict[str, Callable[[str], bool]]
    # files read and hashed ahead (``hash_ahead``): path -> what reading it gives (its bytes and SHA-256, or
    # the OSError), kept until the table is read or found not to need reading
    ahead: dict[Path, object] = field(default_factory=dict)
    cuts: dict[Path, tuple[int, int, int] | None] = field(default_factory=dict)  # csv_cut of a file read ahead

    def read_table(self, table: str) -> Source:
        """The files of one table read (hashed, decoded, split into a raw table): what reading the
        folder adds for it."""
        part = Source(self.source.path, "folder")
        files = self.found.get(table, [])
        _read_table_files(table, files, self.source.path, part, table in self.globs, self.reads.get(table),
                          {file: self.ahead.pop(file) for file in files if file in self.ahead})
        return part

    def hash_ahead(self, tables, meanwhile: Callable[[], object] | None = None) -> None:
        """Read and hash the files of `tables` now, on threads at once (hashing lets Python's lock go), for
        ``hashes`` to give and ``read_table`` to read without reading or hashing them again; this thread
        does `meanwhile()` as they work."""
        from concurrent.futures import ThreadPoolExecutor

        files = [file for table in tables if self._hashable(table) for file in self.found[table]]
        with ThreadPoolExecutor(min(len(files), 4) or 1) as pool:
            read = pool.map(_bytes_and_hash, files)
            if meanwhile is not None:
                meanwhile()
            self.ahead.update(zip(files, read))

    def read_ahead(self, table: str) -> None:
        """Read the files of `table` now, unhashed (for a copy of the process to find the very bytes)."""
        for file in self.found.get(table, []):
            if file not in self.ahead:
                self.ahead[file] = _bytes_and_hash(file, hashed=False)

    def hashes(self, table: str) -> dict[str, str] | None:
        """The SHA-256 of each file of a table, as reading it records them (None when there are none,
        when one cannot be read, or when a table that takes one file has several: reading says why)."""
        if not self._hashable(table):
            return None
        read = [_bytes_and_hash_once(file, self.ahead) for file in self.found[table]]
        if any(isinstance(got, OSError) for got in read):
            return None
        return {file.name: digest for file, (_, digest) in zip(self.found[table], read)}

    def halvable(self, table: str) -> bool:
        """Whether a table's file may be read in two halves (``read_half``): one file, not a mapped
        glob, that ``csv_cut`` can cut; its bytes are read now, for both halves to read."""
        files = self.found.get(table, [])
        if len(files) != 1 or table in self.globs:
            return False
        self.read_ahead(table)
        got = self.ahead[files[0]]
        if not isinstance(got, OSError) and files[0] not in self.cuts:
            self.cuts[files[0]] = csv_cut(got[0])
        return self.cuts.get(files[0]) is not None

    def read_half(self, table: str, half: int) -> Source | None:
        """Half of a table's one large CSV file (``csv_cut``) read as a file of its own: its first lines
        (`half` 0) or its header over the rest (1), each row numbered as in the whole file: what reading
        the folder adds for it (the whole file's SHA-256 with the first half). None when the file cannot
        be cut so, or a half reads as anything but plain rows (a problem, a note, a blank row): then only
        reading the whole file says exactly what it holds."""
        if not self.halvable(table):
            return None
        file = self.found[table][0]
        got, cut = self.ahead[file], self.cuts[file]
        before = cut[2]
        part = Source(self.source.path, "folder", files={file.name: _hashed(got)[1]} if half == 0 else {})
        try:
            raw, problem = _read_csv(table, file.name, csv_half(got[0], cut, half), part.notes, self.reads.get(table))
        except Exception:  # noqa: BLE001 - the whole file is read, and says what it holds
            return None
        if problem or raw is None or raw.problems or raw.blank_rows or part.notes or not len(raw.rows) \
                or (half == 0 and raw.rows[-1] != before + 1):  # the first half's last line holds data
            return None
        if half:
            raw.rows = raw.rows + before
        part.tables[table] = raw
        return part

    def forget(self, table: str) -> None:
        """The files of a table read ahead are let go (the table is not read here after all)."""
        for file in self.found.get(table, []):
            self.ahead.pop(file, None)

    def _hashable(self, table: str) -> bool:
        files = self.found.get(table, [])
        return bool(files) and (len(files) == 1 or table in self.globs)

    def unread(self, files: dict[str, str], note: str) -> Source:
        """What a table adds to the folder's source when its files are not read again (hashed only)."""
        return Source(self.source.path, "folder", files=dict(files), notes=[note])

    def size(self, table: str) -> int:
        """The bytes of a table's files."""
        try:
            return sum(path.stat().st_size for path in self.found.get(table, []))
        except OSError:
            return 0

    def add(self, part: Source) -> None:
        """A table's files, as read by ``read_table``, into the folder's source."""
        source = self.source
        source.tables.update(part.tables)
        source.files.update(part.files)
        source.parts.update(part.parts)
        source.notes += part.notes
        source.problems += part.problems


def _list_folder(folder: Path, wanted: tuple[str, ...], files: dict[str, str],
                 reads: dict[str, Callable[[str], bool]]) -> Folder:
    source = Source(folder, "folder")
    found = _csv_files_by_table(folder, wanted, source.notes, files, source.problems)
    if not found and not source.problems:
        source.problems.append(Problem(str(folder), None, None, NO_TABLE))
    return Folder(source, wanted, found, frozenset(files), reads)


def _mapped_table(name: str, files: dict[str, str], problems: list[Problem]) -> str | None:
    """The table whose mapped glob matches the file `name` (any case); a file two globs match is a problem."""
    from hds.files import name_matches

    tables = [t for t, glob in files.items() if name_matches(name, glob)]
    if len(tables) > 1:
        problems.append(Problem(name, None, None, f"the file of {_and(f'[input.{t}]' for t in tables)} in hds.toml "
                                                  "(their file globs both match it); make each glob match one table"))
    return tables[0] if tables else None


def _csv_files_by_table(folder: Path, wanted: tuple[str, ...], notes: list[str], files: dict[str, str],
                        problems: list[Problem]) -> dict[str, list[Path]]:
    """The folder's CSV files of each wanted table; every other entry gets a note saying it is not loaded."""
    found: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        stem = entry.stem.strip().lower()
        mapped = _mapped_table(name, files, problems) if files and not entry.is_dir() else None
        if mapped is not None:
            if mapped in wanted:
                found.setdefault(mapped, []).append(entry)
        elif name == SETTINGS:
            pass  # hds's own settings kept with an extract (as the bundled ones are): not data, nothing to say
        elif entry.is_dir():
            notes.append(f"{name}: a folder; not loaded")
        elif entry.suffix.lower() == ".csv":
            if stem in wanted and stem not in files:
                found.setdefault(stem, []).append(entry)
            else:
                notes.append(f"{name}: not a table of the data contract; not loaded")
        elif entry.suffix.lower() in WORKBOOK_SUFFIXES + (".xls",):
            notes.append(f"{name}: a workbook inside the folder; not loaded "
                         "(give the workbook itself, or save its sheets as CSV files)")
        elif stem in wanted:
            notes.append(f"{name}: not a CSV file; not loaded (to load it as the table {stem}, "
                         f"save it as {stem}.csv)")
        else:
            notes.append(f"{name}: not a table; not loaded")
    return found


SPLIT_BYTES = 8 << 20  # a CSV file this large may be read in two halves at once (``Folder.read_half``)


def csv_cut(data: bytes) -> tuple[int, int, int] | None:
    """Where a large CSV file's bytes may be cut into two files that read as it does, row for row: the
    end of its header line, a line end near the middle, and the data rows before it. None for a file
    that cannot be cut so surely: one with a quote (a quoted cell may hold a line end), with line ends
    other than LF or CRLF, starting with a byte-order mark or holding NUL bytes (not plain UTF-8 or
    ASCII), or holding more cells than a table may (whose reading refuses it whole)."""
    if len(data) < SPLIT_BYTES or b'"' in data or b"\x00" in data or data.startswith(codecs.BOM_UTF8):
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    header = data.find(b"\n") + 1
    cut = data.find(b"\n", len(data) // 2) + 1
    if header <= 0 or cut <= header or cut >= len(data):
        return None
    lines = data.count(b"\n") + 1
    if lines * (data.count(b",", 0, header) + 1) > MAX_CELLS:
        return None
    return header, cut, data.count(b"\n", 0, cut) - 1


def csv_half(data: bytes, cut: tuple[int, int, int], half: int) -> bytes:
    """One of the two files ``csv_cut`` cuts a CSV file's bytes into: its first lines (`half` 0), or its
    header line over the rest (1)."""
    header, middle, _ = cut
    return data[:header] + data[middle:] if half else data[:middle]


def _bytes_and_hash(file: Path, hashed: bool = True) -> tuple[bytes, str | None] | OSError:
    """A file's bytes and their SHA-256 (None unless `hashed`), or the OSError that reading it raised."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        return exc
    return data, hashlib.sha256(data).hexdigest() if hashed else None


def _bytes_and_hash_once(file: Path, ahead: dict):
    """``_bytes_and_hash`` of a file, from what was read of it ahead when it was."""
    return _hashed(ahead.get(file)) or _bytes_and_hash(file)


def _hashed(got):
    """What ``_bytes_and_hash`` gave, hashed when it was not."""
    if isinstance(got, tuple) and got[1] is None:
        return got[0], hashlib.sha256(got[0]).hexdigest()
    return got


def _read_table_files(table: str, files: list[Path], folder: Path, source: Source, glob: bool = False,
                      reads: Callable[[str], bool] | None = None, ahead: dict | None = None) -> None:
    """Hash every file found for a table and read the first into `source`; with a mapped `glob`, every
    file it matched (the further ones into `source.parts`). `ahead`: files read and hashed already
    (``_bytes_and_hash``)."""
    if len(files) > 1 and not glob:
        source.problems.append(Problem(str(folder), None, None, f"two files hold the table {table}: "
                                       f"{_and(f.name for f in files)}; keep one"))
    for number, file in enumerate(files):
        got = _bytes_and_hash_once(file, ahead or {})
        if isinstance(got, OSError):
            source.problems.append(Problem(file.name, None, None, f"cannot be read ({got.strerror or got})"))
            continue
        data, source.files[file.name] = got
        if number and not glob:  # a second file for the table: hashed, named in the problem above, not parsed
            continue
        try:
            raw, problem = _read_csv(table, file.name, data, source.notes, reads)
        except Exception as exc:  # a bug of ours must not hide the other files' problems
            raw, problem = None, _unexpected(file.name, exc)
        if problem:
            source.problems.append(problem)
        if raw is not None and table in source.tables:
            source.parts.setdefault(table, []).append(raw)
        elif raw is not None:
            source.tables[table] = raw


def _read_csv(table: str, name: str, data: bytes, notes: list[str],
              reads: Callable[[str], bool] | None = None) -> tuple[RawTable | None, Problem | None]:
    decoded = _decode(name, data)
    if decoded.problem:
        return None, decoded.problem
    notes.extend(decoded.notes)
    utf8 = decoded.utf8
    problems = _Problems(name)
    if not utf8[:65536].strip(b" \t\r\n") and not utf8.strip(b" \t\r\n"):
        return _empty_table(table, name), None
    first = _first_record(utf8)
    if first is not None and len(first) == 1:
        for char, said in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "bars (|)")):
            if char in first[0]:
                return None, Problem(name, 1, None, f"the columns are separated by {said}, not commas; "
                                                    "save the file as CSV (comma delimited)")
    if first is not None and len(first) > MAX_COLUMNS:
        return None, _too_wide(name, len(first))
    lines, columns_named = max(utf8.count(b"\n"), utf8.count(b"\r")) + 1, max(len(first or []), 1)
    if lines * columns_named > MAX_CELLS:
        return None, Problem(name, None, None, f"holds about {lines:,} rows of {columns_named:,} columns, more than "
                                               f"the {MAX_CELLS:,} cells a table may have; split the file")
    skip = frozenset(j for j, h in enumerate(first or []) if reads and h.strip() and not reads(h.strip()))
    columns, unclosed = _parse_csv_fast(utf8, first, skip)
    counts = None
    if columns is None:
        columns, counts = _parse_csv_slow(utf8, problems, unclosed)
    if decoded.bad is not None:
        scan, bad = _CONTROL_OR_BAD, decoded.bad
    elif len(utf8.translate(None, _CONTROL_BYTES)) != len(utf8) or (
            not utf8.isascii() and _C1_IN_UTF8.search(utf8)):
        scan, bad = _CONTROL, None
    else:
        scan, bad = None, None
    header_len = int(counts[0]) if counts is not None and len(counts) else len(first or [])
    if header_len > MAX_COLUMNS:
        return None, _too_wide(name, header_len)
    raw = _shape(table, name, columns, header_len, problems, scan=scan, bad=bad, counts=counts,
                 text=_Text.of(utf8, slow=counts is not None), skip=skip)
    raw.problems = problems.finish()
    return raw, None


def _too_wide(name: str, columns: int) -> Problem:
    return Problem(name, 1, None, f"the header has {columns:,} columns, more than the {MAX_COLUMNS:,} a sheet can "
                                  "have; check that the file is a table of the data contract")


@dataclass
class _Decoded:
    utf8: bytes = b""
    notes: list[str] = field(default_factory=list)
    bad: str | None = None  # set when undecodable bytes were replaced by U+FFFD: what they are not
    problem: Problem | None = None


def _decode(name: str, data: bytes) -> _Decoded:
    """Decode a CSV file's bytes and return them as UTF-8, with what was done."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode_utf8_bom(data[len(codecs.BOM_UTF8):])
    utf16 = _decode_utf16(name, data)
    if utf16 is not None:
        return utf16
    binary = _binary_kind(data)
    if binary:
        return _Decoded(problem=Problem(name, None, None, binary))
    if data.isascii():
        return _Decoded(data)
    return _decode_utf8_or_cp1252(name, data)


def _decode_utf8_bom(body: bytes) -> _Decoded:
    """A file that began with a UTF-8 byte-order mark (`body` is what follows it)."""
    try:
        body.decode("utf-8")
        return _Decoded(_drop_boms(body))
    except UnicodeDecodeError:
        return _Decoded(_drop_boms(body.decode("utf-8", "replace").encode("utf-8")),
                        bad="UTF-8 text (the file says it is UTF-8)")


def _decode_utf16(name: str, data: bytes) -> _Decoded | None:
    """The file read as UTF-16, with or without a byte-order mark; None if it is not UTF-16."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        utf16 = "utf-16-le" if data[:2] == codecs.BOM_UTF16_LE else "utf-16-be"
        body, note = data[2:], f"{name}: read as UTF-16"
    else:
        utf16 = _utf16_without_bom(data)
        body, note = data, f"{name}: read as UTF-16 (the file has no byte-order mark)"
    if not utf16:
        return None
    try:
        text, bad = body.decode(utf16), None
    except UnicodeDecodeError:
        text, bad = body.decode(utf16, "replace"), "UTF-16 text"
    return _Decoded(_drop_boms(text.encode("utf-8")), [note], bad=bad)


def _decode_utf8_or_cp1252(name: str, data: bytes) -> _Decoded:
    """A file with no byte-order mark and some non-ASCII bytes: UTF-8 if it can be, else Windows-1252."""
    try:
        data.decode("utf-8")
        return _Decoded(data)
    except UnicodeDecodeError:
        pass
    as_utf8 = data.decode("utf-8", "replace")
    if not as_utf8.replace("\ufffd", "").isascii():
        # Real UTF-8 characters elsewhere: mostly UTF-8 with a few bad bytes. Reading
        # it as Windows-1252 would turn every £ into "Â£" without a word.
        return _Decoded(as_utf8.encode("utf-8"), bad="UTF-8 text (the rest of the file is UTF-8)")
    note = f"{name}: read as Windows-1252 (the file is not UTF-8); check that characters such as £ read right"
    try:
        return _Decoded(data.decode("cp1252").encode("utf-8"), [note])
    except UnicodeDecodeError:
        return _Decoded(data.decode("cp1252", "replace").encode("utf-8"), [note],
                        bad="UTF-8 or Windows-1252 text")


def _drop_boms(utf8: bytes) -> bytes:
    while utf8.startswith(codecs.BOM_UTF8):  # a second mark, left by tools that add one blindly
        utf8 = utf8[len(codecs.BOM_UTF8):]
    return utf8


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    even_zero, odd_zero = sample[0:2 * half:2].count(0), sample[1:2 * half:2].count(0)
    if odd_zero >= 0.4 * half and even_zero <= 0.05 * half:
        return "utf-16-le"
    if even_zero >= 0.4 * half and odd_zero <= 0.05 * half:
        return "utf-16-be"
    return None


def _binary_kind(data: bytes) -> str | None:
    """Why the file is not CSV text at all, or None if it may be."""
    if data.startswith(b"PK\x03\x04"):
        return ("is a zip file (perhaps an Excel workbook) with a .csv name, not CSV text; save the sheet as "
                "CSV (comma delimited), or load the workbook itself")
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return ("is an Excel 97-2003 (.xls) or other Office file with a .csv name, not CSV text; save the sheet "
                "as CSV (comma delimited)")
    sample = data[:65536]
    odd = len(sample) - len(sample.translate(None, _CONTROL_BYTES + _CP1252_UNDEFINED))
    if b"\x00" in sample and odd > 0.1 * len(sample):  # text never holds NULs; binary data is full of them
        return "is not a text file (it holds binary data); save the table as CSV (comma delimited)"
    return None


def _first_record(utf8: bytes) -> list[str] | None:
    """The header record, as Python's csv module reads it; None if it cannot."""
    prefix = utf8[:1 << 20].decode("utf-8", "ignore")
    try:
        return next(csv.reader(io.StringIO(prefix, newline="")), [])
    except csv.Error:
        return None


_WIDER = re.compile(r"Expected (\d+) fields in line \d+, saw (\d+)")


def _parse_csv_fast(utf8: bytes, first: list[str] | None,
                    skip: frozenset = frozenset()) -> tuple[list[np.ndarray] | None, bool | None]:
    """Split with pandas' C parser.

    Returns the columns, or None when pandas cannot be trusted with this file,
    and whether a quote is left open at the end (None if not known). The
    columns in `skip` (not read) come back as their header cell over blanks.
    """
    if first is None:
        return None, None
    import pandas as pd

    width = max(len(first), 1)
    for _ in range(5):  # each retry widens to the longest row seen so far
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = pd.read_csv(
                    io.BytesIO(utf8), header=None, names=range(width), dtype=object, engine="c",
                    usecols=[j for j in range(width) if j not in skip] if skip else None,
                    encoding="utf-8", keep_default_na=False, na_filter=False, skip_blank_lines=False,
                    quotechar='"', doublequote=True, escapechar=None)
        except pd.errors.ParserError as exc:
            if "EOF inside string" in str(exc):
                return None, True
            wider = _WIDER.search(str(exc))
            if not wider or int(wider.group(2)) <= width:
                return None, None
            width = int(wider.group(2))
            if width > len(first) + _SPARE_COLUMNS:
                return None, None  # a very long row: the slow reader sums its extra cells up
            continue
        except Exception:
            return None, None
        if not isinstance(frame.index, pd.RangeIndex) or frame.shape[1] != width - len(skip) or not len(frame):
            return None, None
        columns = [frame[j].to_numpy(dtype=object) if j not in skip else _header_only(first[j], len(frame))
                   for j in range(width)]
        # pandas and the csv module must agree on the header, or pandas may have
        # taken leading cells for an index: then trust neither and go slow.
        if [c[0] for c in columns] != first + [""] * (width - len(first)):
            return None, None
        return columns, False
    return None, None


def _header_only(heading: str, n: int) -> np.ndarray:
    column = np.full(n, "", dtype=object)
    column[0] = heading
    return column


def _parse_csv_slow(utf8: bytes, problems: _Problems, unclosed: bool | None):
    """Python's csv module: slower, but it reads anything and counts each row's cells."""
    text = utf8.decode("utf-8", "replace")
    limit = csv.field_size_limit()
    csv.field_size_limit(2 ** 31 - 1)  # long cells are reported, not refused here
    try:
        records, error = _csv_records(text, strict=False)
        if unclosed is None:  # pandas did not say: a strict reader fails at the end on an open quote
            strict = _csv_records(text, strict=True)[1]
            unclosed = strict is not None and "unexpected end of data" in str(strict)
    finally:
        csv.field_size_limit(limit)
    if error is not None:
        problems.add(None, len(records) + 1, None, f"cannot be read as CSV from here ({error}); "
                                                   "check the quotes and commas on this row")
    if unclosed and records:
        problems.add(None, len(records), None, "a double quote (\") opens a cell on this row that is never "
                                               "closed, so the rest of the file reads as one cell; check for "
                                               "a stray or missing quote")
    counts = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
    return _grid(records, len(records[0]) if records else 0, ""), counts


def _grid(records: list, keep: int, empty) -> list[np.ndarray]:
    """Rows of cells as column arrays, padded with `empty`.

    Beyond `keep` columns and a few spare ones, a row's extra cells are summed up
    as its first non-empty one, so that one stray cell far to the right cannot
    make every row that wide.
    """
    n = len(records)
    width = max(map(len, records), default=0)
    collapse = width > keep + _SPARE_COLUMNS
    dense = keep + 1 if collapse else width
    grid = np.empty((n, dense), dtype=object)
    grid.fill(empty)
    for i, record in enumerate(records):
        if collapse and len(record) > keep:
            grid[i, :keep] = record[:keep]
            grid[i, keep] = next((v for v in record[keep:] if v is not None and v != ""), empty)
        else:
            grid[i, :len(record)] = record
    return [grid[:, j].copy() for j in range(dense)]


def _csv_records(text: str, strict: bool) -> tuple[list[list[str]], csv.Error | None]:
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), strict=strict):
            records.append(record)
    except csv.Error as exc:
        return records, exc
    return records, None


# --------------------------------------------------------------------------- workbook

def _read_workbook(path: Path, wanted: tuple[str, ...], files: dict[str, str]) -> Source:
    source = Source(path, "workbook")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HdsError(f"{path}: cannot be read ({exc.strerror or exc}); check the path and its permissions") from None
    source.files[path.name] = hashlib.sha256(data).hexdigest()
    try:
        _read_sheets(path.name, data, wanted, source, files)
    except Exception as exc:
        source.problems.append(_unexpected(path.name, exc))
    if not source.tables and not source.problems:
        source.problems.append(Problem(str(path), None, None, NO_TABLE))
    return source


def _not_a_workbook(data: bytes) -> str | None:
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return ("is an Excel 97-2003 workbook (.xls) or a password-protected workbook; open it in Excel and "
                "save it as Excel Workbook (.xlsx) without a password")
    if not data.startswith(b"PK"):
        if not data:
            return "is empty, not an Excel workbook"
        if _binary_kind(data) is None:
            return ("is a text file (perhaps CSV) with an Excel name, not a workbook; load it as a CSV file in a "
                    "folder, or save it from Excel as Excel Workbook (.xlsx)")
        return "is not an Excel workbook; save it from Excel as Excel Workbook (.xlsx)"
    return None


def _read_sheets(book_name: str, data: bytes, wanted: tuple[str, ...], source: Source, files: dict[str, str]) -> None:
    import openpyxl  # only workbooks need it

    archive = _open_archive(book_name, data, source)
    if archive is None:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of features it drops; none matter here
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        source.problems.append(Problem(book_name, None, None, f"cannot be opened as an Excel workbook "
                                                              f"({type(exc).__name__}: {exc}); save it again "
                                                              "from Excel as Excel Workbook (.xlsx)"))
        return
    try:
        found = _sheets_by_table(book_name, book, wanted, source.notes, files)
        for table in wanted:
            _read_table_sheet(table, found.get(table, []), book_name, archive, source, table in files)
    finally:
        book.close()
        archive.close()


def _open_archive(book_name: str, data: bytes, source: Source) -> zipfile.ZipFile | None:
    """The workbook as a zip archive; None, with a problem, if it is not one or unpacks too big."""
    reason = _not_a_workbook(data)
    if reason:
        source.problems.append(Problem(book_name, None, None, reason))
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        source.problems.append(Problem(book_name, None, None, f"is damaged or not an Excel workbook ({exc}); "
                                                              "save it again from Excel as Excel Workbook (.xlsx)"))
        return None
    if unpacked > MAX_WORKBOOK_UNPACKED:
        source.problems.append(Problem(book_name, None, None, f"unpacks to {unpacked:,} bytes, more than the "
                                                              f"{MAX_WORKBOOK_UNPACKED:,} allowed; split the workbook "
                                                              "or send CSV files"))
        return None
    return archive


def _sheets_by_table(book_name: str, book, wanted: tuple[str, ...], notes: list[str],
                     files: dict[str, str]) -> dict[str, list]:
    """The workbook's sheets of each wanted table (by the mapping's sheet name or glob, else the table's own
    name); every other sheet gets a note saying it is not loaded."""
    found: dict[str, list] = {}
    named = {sheet.strip().casefold(): table for table, sheet in files.items()}
    for sheet in book.worksheets:
        key = named.get(sheet.title.strip().casefold()) or (
            _mapped_table(sheet.title.strip(), files, []) if files else None)
        key = key or (sheet.title.strip().lower() if sheet.title.strip().lower() not in files else None)
        if key in wanted:
            found.setdefault(key, []).append(sheet)
        else:
            hidden = " (a hidden sheet)" if sheet.sheet_state != "visible" else ""
            notes.append(f"{book_name} sheet {sheet.title}: not a table of the data contract{hidden}; "
                         "not loaded")
    for chart in getattr(book, "chartsheets", []):
        notes.append(f"{book_name} sheet {chart.title}: a chart, not a table; not loaded")
    return found


def _read_table_sheet(table: str, sheets: list, book_name: str, archive: zipfile.ZipFile, source: Source,
                      glob: bool = False) -> None:
    """Read the first sheet found for a table into `source`; with a mapped `glob`, every sheet it matched
    (the further ones into `source.parts`)."""
    if len(sheets) > 1 and not glob:
        names = _and(f"'{s.title}'" for s in sheets)
        source.problems.append(Problem(book_name, None, None, f"two sheets hold the table {table}: "
                                                              f"{names}; keep one"))
    for sheet in sheets if glob else sheets[:1]:
        _read_one_sheet(table, sheet, book_name, archive, source)


def _read_one_sheet(table: str, sheet, book_name: str, archive: zipfile.ZipFile, source: Source) -> None:
    where = f"{book_name} sheet {sheet.title}"
    if sheet.sheet_state != "visible":
        source.notes.append(f"{where}: the sheet is hidden; read all the same")
    try:
        raw = _read_sheet(table, where, sheet, archive, source.notes)
    except _Unreadable as exc:
        source.problems.append(Problem(where, None, None, str(exc)))
        return
    except Exception as exc:
        source.problems.append(Problem(where, None, None, f"cannot be read ({type(exc).__name__}: "
                                                          f"{exc}); open and save the file in Excel"))
        return
    if table in source.tables:
        source.parts.setdefault(table, []).append(raw)
    else:
        source.tables[table] = raw


class _Unreadable(Exception):
    """A sheet that cannot be read as a table; the text says why."""


def _read_sheet(table: str, where: str, sheet, archive: zipfile.ZipFile, notes: list[str]) -> RawTable:
    records = _sheet_records(sheet)
    if len(records) > EXCEL_MAX_ROWS:
        raise _Unreadable(f"has rows past row {EXCEL_MAX_ROWS:,}, the last Excel allows; the file is damaged")
    header = [cell_text(v) for v in records[0]] if records else []
    header_len = max((j + 1 for j, h in enumerate(header) if h), default=0)
    width = min(max(map(len, records), default=0), header_len + _SPARE_COLUMNS + 1)
    if len(records) * width > MAX_CELLS:
        raise _Unreadable(f"holds {len(records):,} rows of {width:,} columns, more than the {MAX_CELLS:,} cells "
                          "a table may have; split the sheet")
    columns = _grid(records, header_len, None)
    counts = np.fromiter((max((j + 1 for j, v in enumerate(r) if _filled(v)), default=0) for r in records),
                         dtype=np.int64, count=len(records))
    problems = _Problems(where)
    raw = _shape(table, where, columns, header_len, problems, scan=_CONTROL_XLSX, bad=None, counts=counts, text=None)
    # The data area, for merged ranges: rows and columns that hold anything.
    last_row = int(raw.rows.max()) if len(raw.rows) else (1 if header_len else 0)
    last_col = max([header_len] + [j + 1 for j, c in enumerate(columns) if any(_filled(v) for v in c)])
    _check_sheet_xml(where, sheet, archive, raw.header, (last_row, last_col), problems, notes)
    raw.problems = problems.finish()
    return raw


def _sheet_records(sheet) -> list[list]:
    """The sheet's rows of values, Excel's _xHHHH_ escapes undone; one past the last row Excel allows at most."""
    sheet.reset_dimensions()  # a wrong <dimension> in the file would cut rows or columns short
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = sheet.iter_rows(min_row=1, values_only=True)
        # openpyxl fills gaps between rows with empty ones: a damaged row number could go on for ever
        return [[_unescape(v) if isinstance(v, str) and "_x" in v else v for v in r]
                for r in itertools.islice(rows, EXCEL_MAX_ROWS + 1)]


def _check_sheet_xml(where: str, sheet, archive: zipfile.ZipFile, header: list[str], last: tuple[int, int],
                     problems: _Problems, notes: list[str]) -> None:
    """Report formulas with no saved value and merged ranges within the data area (last row, last column)."""
    path = getattr(sheet, "_worksheet_path", None)
    scan = _scan_sheet_xml(archive, path) if path else None
    if scan is None:
        notes.append(f"{where}: could not check the sheet for formulas and merged cells")
        return
    saved = 0
    for row, col, has_value in scan.formulas:
        if has_value:
            saved += 1
        else:
            label = _label(col - 1, header, row) if col else None
            problems.add("formula", row or None, label, FORMULA_NO_VALUE, col or 0)
    if saved:
        notes.append(f"{where}: {saved:,} cell(s) hold formulas; their saved values were read")
    last_row, last_col = last
    for ref, (c1, r1, c2, r2) in scan.merges:
        if (r1, c1) == (r2, c2) or r1 > last_row or c1 > last_col:
            continue  # one cell, or wholly outside the table: holds nothing that is read
        rows = f"row {r1}" if r1 == r2 else f"rows {r1} to {r2}"
        problems.add("merged", r1, None, f"cells {ref} are merged ({rows}); merged cells are not allowed; "
                                         "unmerge and fill each row", c1)


@dataclass
class _SheetScan:
    formulas: list  # (row, column, has a saved value); row and column 0 when the cell has no reference
    merges: list  # (ref, (min_col, min_row, max_col, max_row))


_XML_CHUNK = 1 << 20
_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?worksheet[\s>]")
_REF = re.compile(rb'\br="([A-Za-z]{1,3})(\d+)"')
_TYPE = re.compile(rb'\bt="([^"]*)"')


def _scan_sheet_xml(archive: zipfile.ZipFile, member: str) -> _SheetScan | None:
    """Find formula cells (and whether Excel saved their value) and merged ranges.

    Read-only openpyxl shows neither: with data_only a formula never calculated
    reads as an empty cell, and merged ranges are not parsed at all. The sheet's
    XML is streamed and searched for the few elements that matter.
    """
    member = member.lstrip("/")
    try:
        handle = archive.open(member)
    except KeyError:
        return None
    scan, seen_merges = _SheetScan([], []), set()
    with handle:
        buf, patterns, pos = b"", None, 0
        while True:
            chunk = handle.read(_XML_CHUNK)
            final = not chunk
            buf += chunk
            if patterns is None:
                root = _ROOT.search(buf)
                if root is None and not final and len(buf) < 1 << 16:
                    continue
                patterns = _SheetPatterns.of(root)
            # Everything before `safe` is searched this round; the rest, and a cell cut
            # off by the end of the buffer (`pending`), waits for the next chunk.
            safe = len(buf) if final else max(len(buf) - 4096, 0)
            pos, pending = _scan_formulas(buf, pos, safe, final, patterns, scan.formulas)
            limit = safe if pending is None else pending
            _scan_merges(buf, limit, patterns.merge_tag, seen_merges, scan.merges)
            if final:
                break
            pos = max(pos, limit)
            cut = max(limit - 4096, 0)  # keep enough before `pos` to find the start of the next cell
            buf, pos = buf[cut:], pos - cut
    return scan


@dataclass
class _SheetPatterns:
    """What `_scan_sheet_xml` searches for, in the namespace prefix the sheet's XML uses."""

    formula_tag: re.Pattern
    cell_tag: re.Pattern
    cell_end: bytes
    value_tag: re.Pattern
    merge_tag: re.Pattern

    @classmethod
    def of(cls, root: re.Match | None) -> _SheetPatterns:
        prefix = (root.group(1) + b":") if root and root.group(1) else b""
        p = re.escape(prefix)
        return cls(
            re.compile(b"<" + p + rb"f[\s/>]"),
            re.compile(b"<" + p + rb"c[\s>]"),
            b"</" + prefix + b"c>",
            re.compile(b"<" + p + rb"v(?:\s[^>]*)?(?:/>|>(.*?)</" + p + rb"v>)", re.S),
            re.compile(b"<" + p + rb'mergeCell\s[^>]*?\bref="([^"]+)"'),
        )


def _scan_formulas(buf: bytes, pos: int, safe: int, final: bool, patterns: _SheetPatterns,
                   formulas: list) -> tuple[int, int | None]:
    """Add the formula cells that start in buf[pos:safe] to `formulas`.

    Returns where the next search starts, and where a cell cut off by the end
    of the buffer starts (None if there is none).
    """
    while True:
        hit = patterns.formula_tag.search(buf, pos)
        if hit is None or hit.start() >= safe:
            return pos, None
        starts = [m.start() for m in patterns.cell_tag.finditer(buf, max(hit.start() - 4096, 0), hit.start())]
        end = buf.find(patterns.cell_end, hit.end())
        if end < 0 and not final:
            return pos, hit.start()
        pos = hit.end()
        if not starts or end < 0:
            continue  # not inside a cell we can see: malformed, nothing to say
        formulas.append(_formula_cell(buf[starts[-1]:end], patterns.value_tag))
        pos = end


def _formula_cell(cell: bytes, value_tag: re.Pattern) -> tuple[int, int, bool]:
    """A formula cell's (row, column, has a saved value); row and column 0 when it has no reference."""
    from openpyxl.utils.cell import column_index_from_string

    opening = cell[:cell.find(b">") + 1]
    ref, kind = _REF.search(opening), _TYPE.search(opening)
    row = int(ref.group(2)) if ref else 0
    col = column_index_from_string(ref.group(1).decode()) if ref else 0
    value = value_tag.search(cell)
    has_value = value is not None and (
        bool(value.group(1)) or (kind is not None and kind.group(1) == b"str"))
    return row, col, has_value


def _scan_merges(buf: bytes, limit: int, merge_tag: re.Pattern, seen: set, merges: list) -> None:
    """Add the merged ranges in buf[:limit] not seen before to `merges`."""
    from openpyxl.utils.cell import range_boundaries

    for merge in merge_tag.finditer(buf, 0, limit):
        ref = merge.group(1).decode("ascii", "replace")
        if ref not in seen:
            seen.add(ref)
            try:
                merges.append((ref, range_boundaries(ref)))
            except (ValueError, TypeError):
                pass


# --------------------------------------------------------------------------- shape, shared

class _Problems:
    """Problems of one table. Every problem is counted; of each kind only the first
    MAX_PROBLEMS_PER_KIND (by row) are listed, then one line counts the rest."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[tuple] = []
        self.counts: dict[str, int] = {}
        self.stored: dict[tuple, int] = {}

    def add(self, kind: str | None, row: int | None, column: str | None, message: str, order: int = 0) -> None:
        row = int(row) if row is not None else None
        if kind is not None:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            key = (kind, order)  # callers go down each column in row order, so keep its first ones
            if self.stored.get(key, 0) >= MAX_PROBLEMS_PER_KIND:
                return
            self.stored[key] = self.stored.get(key, 0) + 1
        self.items.append((kind, row or 0, order, Problem(self.source, row, column, message)))

    def more(self, kind: str, count: int) -> None:
        """Count problems of a kind without describing them (there are enough listed already)."""
        self.counts[kind] = self.counts.get(kind, 0) + count

    def finish(self) -> list[Problem]:
        kept, shown = [], {}
        for kind, row, order, problem in sorted(self.items, key=lambda item: (item[1], item[2])):
            if kind is not None:
                shown[kind] = shown.get(kind, 0) + 1
                if shown[kind] > MAX_PROBLEMS_PER_KIND:
                    continue
            kept.append(problem)
        for kind, count in self.counts.items():
            if count > MAX_PROBLEMS_PER_KIND:
                kept.append(Problem(self.source, None, None, f"{count - MAX_PROBLEMS_PER_KIND:,} more "
                                                             f"{_LABELS[kind]}; only the first "
                                                             f"{MAX_PROBLEMS_PER_KIND} are listed"))
        return kept


@dataclass
class _Text:
    """What the bytes of a CSV file allow us to skip (each check errs towards doing the work)."""

    strip: bool  # some cell may begin or end with whitespace
    long: bool  # some cell may be longer than MAX_CELL_CHARS

    @classmethod
    def of(cls, utf8: bytes, slow: bool) -> _Text:
        # The slow reader is for files already in trouble (an unclosed quote, say): check everything.
        return cls(slow or _may_need_strip(utf8), slow or _may_hold_long_cells(utf8))


# the characters other than ASCII that str.strip() removes, in UTF-8 (NEL, no-break space, the Unicode spaces)
_UNICODE_SPACE_LEADS = (b"\xc2\x85", b"\xc2\xa0", b"\xe1\x9a", b"\xe2\x80", b"\xe2\x81", b"\xe3\x80")  # quick to look for
_UNICODE_SPACE = re.compile(rb"\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80")


def _may_need_strip(utf8: bytes) -> bool:
    if not utf8.isascii() and any(lead in utf8 for lead in _UNICODE_SPACE_LEADS) and _UNICODE_SPACE.search(utf8):
        return True  # non-ASCII spaces (no-break space and the like) are stripped too
    if utf8[:1] in _SPACES or utf8[-1:] in _SPACES:
        return True
    if _space_at_an_edge(utf8):
        return True
    return b'"' in utf8 and any(pair in utf8 for pair in (b'"\n', b'\n"', b'"\r', b'\r"'))


_SPACES = b" \t\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.strip() removes in ASCII
_EDGE_BYTES = np.zeros(256, dtype=bool)
_EDGE_BYTES[list(b',"\r\n')] = True


def _space_at_an_edge(utf8: bytes, chunk: int = 1 << 24) -> bool:
    """Whether a space (of those str.strip() removes in ASCII) stands next to a comma, a quote or a line
    end anywhere: only the kinds of space the bytes hold are looked for, a chunk at a time (each
    overlapping the next by a byte), and the neighbours of each one found looked at."""
    present = [space for space in _SPACES if bytes([space]) in utf8]  # most files hold one kind, or none
    if not present:
        return False
    data = np.frombuffer(utf8, dtype=np.uint8)
    for start in range(0, max(len(data) - 1, 1), chunk):
        part = data[start:start + chunk + 1]
        for space in present:
            where = np.flatnonzero(part == space)
            if (_EDGE_BYTES[part[where[where > 0] - 1]].any()
                    or _EDGE_BYTES[part[where[where < len(part) - 1] + 1]].any()):
                return True
    return False


def _may_hold_long_cells(utf8: bytes) -> bool:
    if len(utf8) <= MAX_CELL_CHARS:
        return False
    if b'"' in utf8:
        return True  # a quoted cell may run over many lines
    ends = np.flatnonzero(np.frombuffer(utf8, dtype=np.uint8) == 10)  # without quotes a cell is within a line
    edges = np.concatenate(([-1], ends, [len(utf8)]))
    return bool(np.diff(edges).max() > MAX_CELL_CHARS)


def _shape(table: str, source: str, columns: list[np.ndarray], header_len: int, problems: _Problems, *,
           scan: re.Pattern | None, bad: str | None, counts: np.ndarray | None, text: _Text | None,
           skip: frozenset = frozenset()) -> RawTable:
    """Check cells, strip them, drop blank rows and build the RawTable (problems not yet finished).

    `text` is given for CSV files, whose cells are all str; workbook cells are Python values. The
    columns in `skip` are not read: their cells are neither checked nor kept, and hold nothing.
    """
    n = len(columns[0]) if columns else 0
    if n == 0:
        return _empty_table(table, source)
    width = len(columns)
    header = [cell_text(columns[j][0]) for j in range(min(header_len, width))]
    header += [""] * (header_len - len(header))
    filled = []
    for j in range(width):
        if j in skip:
            columns[j] = _header_only(columns[j][0], n)
            filled.append(np.zeros(n, dtype=bool))
            continue
        if scan is not None:
            _scan_cells(columns[j], j, header, scan, bad, problems)
        columns[j], nonempty = _clean_column(columns[j], j, n, header, problems, text)
        filled.append(nonempty)
    used = np.logical_or.reduce(filled) if filled else np.zeros(n, dtype=bool)
    used[0] = False  # the header is not data
    data_rows = np.flatnonzero(used)
    last = int(data_rows[-1]) if len(data_rows) else 0
    blank_rows = last - len(data_rows) if last else 0
    if not any(header):
        if len(data_rows):
            problems.add(None, 1, None, "row 1 is empty; it must hold the column names")
    else:
        _report_long_rows(filled, n, header_len, counts, problems)
        _report_unnamed(header, filled, problems)
    for name in sorted(h for h, times in Counter(header).items() if h and times > 1):
        problems.add(None, 1, name, DUPLICATE_COLUMN, header.index(name))
    frame = _frame(columns, header, used, len(data_rows))
    blank = None if text is None else _frame_blanks(filled, header, used, len(data_rows))
    return RawTable(table, source, header, frame, (data_rows + 1).astype(np.int64), blank_rows, [], blank)


def _frame_blanks(filled: list[np.ndarray], header: list[str], used: np.ndarray, data_rows: int) -> dict:
    """Which cells of each column of the frame (``_frame``) are empty, from the columns' nonempty cells."""
    return {name: ~_data_rows(filled[j], used, data_rows) for name, j in _first_of_each(header, len(filled)).items()}


def _clean_column(column: np.ndarray, j: int, n: int, header: list[str], problems: _Problems,
                  text: _Text | None) -> tuple[np.ndarray, np.ndarray]:
    """Strip column j's cells and report Excel errors and over-long cells.

    Returns the stripped column and which of its cells hold anything.
    """
    if text is not None:
        column, lengths_ok, nonempty = _clean_text_column(column, n, text)
    else:
        column, lengths_ok, nonempty = _clean_value_column(column, j, n, header, problems)
    if not lengths_ok:
        _report_long_cells(column, j, header, problems)
    return column, nonempty


def _clean_text_column(column: np.ndarray, n: int, text: _Text) -> tuple[np.ndarray, bool, np.ndarray]:
    """A CSV column (all str): stripped, whether no cell is too long, and which cells are not empty."""
    if text.strip:
        stripped = column
        column = np.empty(n, dtype=object)
        column[:] = [v.strip() for v in stripped]
    lengths_ok = not text.long or max(map(len, column)) <= MAX_CELL_CHARS
    nonempty = column != ""
    return column, lengths_ok, nonempty


def _clean_value_column(column: np.ndarray, j: int, n: int, header: list[str],
                        problems: _Problems) -> tuple[np.ndarray, bool, np.ndarray]:
    """A workbook column (Python values): as `_clean_text_column`, and its Excel errors reported."""
    column = np.fromiter((v.strip() if isinstance(v, str) else v for v in column), dtype=object, count=n)
    lengths_ok = not any(isinstance(v, str) and len(v) > MAX_CELL_CHARS for v in column)
    nonempty = np.fromiter((_filled(v) for v in column), dtype=bool, count=n)
    for i in np.flatnonzero(np.fromiter((isinstance(v, str) and v in EXCEL_ERRORS for v in column),
                                        dtype=bool, count=n)):
        problems.add("error", i + 1, _label(j, header, i + 1), f"holds the Excel error {column[i]}; "
                                                               "correct the formula or type the value", j)
    return column, lengths_ok, nonempty


def _report_long_cells(column: np.ndarray, j: int, header: list[str], problems: _Problems) -> None:
    for i, v in enumerate(column):
        if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
            problems.add("long_cell", i + 1, _label(j, header, i + 1),
                         f"the cell holds {len(v):,} characters, more than the {MAX_CELL_CHARS:,} "
                         "allowed; a missing closing quote can run many rows into one cell", j)


def _report_long_rows(filled: list[np.ndarray], n: int, header_len: int, counts: np.ndarray | None,
                      problems: _Problems) -> None:
    """Report rows with values beyond the header's last column (`filled`: each column's non-empty cells)."""
    width = len(filled)
    extra = np.logical_or.reduce(filled[header_len:]) if width > header_len else np.zeros(n, dtype=bool)
    extra[0] = False
    for k, i in enumerate(np.flatnonzero(extra)):
        if k >= MAX_PROBLEMS_PER_KIND:
            problems.more("long_row", int(extra.sum()) - k)
            break
        values = int(counts[i]) if counts is not None else max(j for j in range(width) if filled[j][i]) + 1
        problems.add("long_row", i + 1, None, f"the row has {values} values but the header names {header_len} "
                                              "columns; check for a stray comma or a missing header")


def _report_unnamed(header: list[str], filled: list[np.ndarray], problems: _Problems) -> None:
    """Report columns with values below an empty header cell."""
    for j, name in enumerate(header):
        if not name and filled[j][1:].any():
            first = int(np.flatnonzero(filled[j][1:])[0]) + 2
            problems.add("unnamed", 1, _label(j, header, 1), f"the column has values (the first in row {first}) "
                                                             "but no name in row 1; name it or delete it", j)


def _frame(columns: list[np.ndarray], header: list[str], used: np.ndarray, data_rows: int) -> pd.DataFrame:
    """The data rows (`used`) of the first column of each header name."""
    import pandas as pd

    return pd.DataFrame({name: _data_rows(columns[j], used, data_rows) for name, j in _first_of_each(header).items()},
                        index=pd.RangeIndex(data_rows), dtype=object, copy=False)


def _first_of_each(header: list[str], width: int | None = None) -> dict[str, int]:
    """Each header name's first column (of the first `width`, when given)."""
    chosen: dict[str, int] = {}
    for j, name in enumerate(header[:width]):
        if name and name not in chosen:
            chosen[name] = j
    return chosen


def _data_rows(column: np.ndarray, used: np.ndarray, data_rows: int) -> np.ndarray:
    """A column's data rows (`used`): a view when no row between them is blank."""
    return column[1:] if data_rows == len(used) - 1 else column[used]


def _scan_cells(column: np.ndarray, j: int, header: list[str], pattern: re.Pattern, bad: str | None,
                problems: _Problems) -> None:
    for i, v in enumerate(column):
        if not isinstance(v, str):
            continue
        hit = pattern.search(v)
        if hit is None:
            continue
        char = hit.group()
        label = _label(j, header, i + 1)
        if char == "\ufffd" and bad is not None:
            kind, message = "undecodable", (f"holds bytes that cannot be read as {bad}; save the file as CSV UTF-8 "
                                            "(comma delimited) and check this cell")
        elif "\x00" in v:
            kind, message = "nul", "holds a NUL byte (code 0), so the file may be damaged or not CSV text; remove it"
        else:
            kind, message = "control", (f"holds the invisible control character U+{ord(char):04X}; "
                                        "delete it and type the value again")
        problems.add(kind, i + 1, label, message, j)


def _empty_table(table: str, source: str) -> RawTable:
    import pandas as pd

    return RawTable(table, source, [], pd.DataFrame(index=pd.RangeIndex(0), dtype=object),
                    np.zeros(0, dtype=np.int64), 0, [])


_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Undo Excel's _xHHHH_ escapes (how it stores characters XML cannot hold); openpyxl leaves them."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _filled(value) -> bool:
    return value is not None and value != ""


def cell_text(value) -> str:
    """A cell as text: blank for none, 12 for a whole-number 12.0 (as Excel stores it), trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _label(j: int, header: list[str], row: int | None) -> str:
    """A column as messages name it: its header name, or its spreadsheet letter."""
    from openpyxl.utils import get_column_letter

    if row != 1 and j < len(header) and header[j]:
        return header[j]
    return get_column_letter(j + 1) if j < 18278 else f"number {j + 1}"


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _unexpected(source: str, exc: Exception) -> Problem:
    return Problem(source, None, None, f"could not be read: unexpected {type(exc).__name__} ({exc}); "
                                       "please report this with the file")


# --------------------------------------------------------------------------- one table a person gave

def read_records(path: Path | str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """The rows of one table a person gave us, read as a load reads its files: a CSV file in UTF-8
    (with or without a byte-order mark), UTF-16 or Windows-1252, or the first sheet of an .xlsx
    workbook. Each row comes with its row number as a spreadsheet shows it, its cells as text (no
    cell is too long to read: the caller limits what it keeps); and the notes worth telling."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HdsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if path.suffix.lower() in WORKBOOK_SUFFIXES + (".xls",) or data.startswith(b"PK\x03\x04"):
        return _workbook_records(path, data), []
    decoded = _decode(path.name, data)
    if decoded.problem:
        raise HdsError(f"{path}: {decoded.problem.message}")
    if decoded.bad is not None:
        raise HdsError(f"{path}: holds bytes that are not {decoded.bad}; save it again as CSV (UTF-8) or CSV from Excel")
    limit = csv.field_size_limit()
    csv.field_size_limit(max(len(decoded.utf8), limit))  # any cell is read whole; its length is judged after
    try:
        text = decoded.utf8.decode("utf-8")
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise HdsError(f"{path}: not a CSV table ({exc}); save it again as CSV") from None
    finally:
        csv.field_size_limit(limit)
    return [(n, [cell.strip() for cell in r]) for n, r in enumerate(records, start=1)], decoded.notes


def _workbook_records(path: Path, data: bytes) -> list[tuple[int, list[str]]]:
    import openpyxl

    reason = _not_a_workbook(data)
    if reason:
        raise HdsError(f"{path}: {reason}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise HdsError(f"{path}: cannot be opened as an Excel workbook ({type(exc).__name__}); save it again from "
                       "Excel as Excel Workbook (.xlsx)") from None
    try:
        records = _sheet_records(book.worksheets[0])
    finally:
        book.close()
    return [(n, [cell_text(v) for v in r]) for n, r in enumerate(records, start=1)]
