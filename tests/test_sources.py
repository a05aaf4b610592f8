"""The reading layer: files in, raw tables or exact problems out, never a traceback."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import zipfile

import numpy as np
import openpyxl
import pytest

from hds.errors import HdsError, Problem
from hds.sources import (
    FORMULA_NO_VALUE, MAX_CELL_CHARS, MAX_PROBLEMS_PER_KIND, NO_TABLE, TABLES, RawTable, Source,
    _parse_csv_fast, _parse_csv_slow, _Problems, read_source,
)

LONG_ROW = "the row has {} values but the header names {} columns; check for a stray comma or a missing header"
EPISODES = "episode_id,discharge_id,weekly_cost\r\nE1,D1,700\r\nE2,D2,\"£1,234.50\"\r\n"


def folder(tmp_path, **files: bytes | str):
    """A folder holding the given files (name -> bytes, or text written as UTF-8)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for name, content in files.items():
        name = name.replace("__", ".")
        (data / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return data


def one(tmp_path, content: bytes | str, name="episodes.csv") -> tuple[Source, RawTable | None]:
    source = read_source(folder(tmp_path, **{name.replace(".", "__"): content}))
    return source, source.tables.get("episodes")


def cells(table: RawTable) -> list[list]:
    return table.frame.to_numpy().tolist()


def book(tmp_path, sheets: dict[str, list[list]], name="extract.xlsx", hidden=()):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if title in hidden:
            ws.sheet_state = "hidden"
    path = tmp_path / name
    wb.save(path)
    return path


def patch_sheet(path, change, sheet="xl/worksheets/sheet1.xml"):
    """Rewrite one sheet's XML inside a saved workbook, as another program might have written it."""
    with zipfile.ZipFile(path) as z:
        members = {info.filename: z.read(info.filename) for info in z.infolist()}
    members[sheet] = change(members[sheet].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, data)


# --------------------------------------------------------------------------- 1. table names

def test_table_names_are_found_whatever_their_case_and_other_files_are_named(tmp_path):
    data = folder(tmp_path, **{"Episodes__CSV": EPISODES, "DISCHARGES__csv": "discharge_id\nD1\n",
                               "notes__csv": "x\n1\n", "README__txt": "hello", "events__txt": "x"})
    source = read_source(data)
    assert source.kind == "folder" and source.path == data
    assert sorted(source.tables) == ["discharges", "episodes"]
    assert source.tables["episodes"].name == "episodes"
    assert source.tables["episodes"].source == "Episodes.CSV"
    assert source.tables["discharges"].source == "DISCHARGES.csv"
    assert source.problems == []
    assert source.notes == [
        "README.txt: not a table; not loaded",
        "events.txt: not a CSV file; not loaded (to load it as the table events, save it as events.csv)",
        "notes.csv: not a table of the data contract; not loaded",
    ]


def test_two_files_for_one_table_is_a_problem_naming_both(tmp_path):
    data = folder(tmp_path, **{"Episodes__CSV": EPISODES, "episodes__csv": EPISODES})
    source = read_source(data)
    assert source.problems == [Problem(str(data), None, None,
                                       "two files hold the table episodes: Episodes.CSV and episodes.csv; keep one")]
    assert set(source.files) == {"Episodes.CSV", "episodes.csv"}


def test_table_names_can_be_given(tmp_path):
    data = folder(tmp_path, **{"wards__csv": "ward\nW1\n", "episodes__csv": EPISODES})
    source = read_source(data, tables=("wards",))
    assert list(source.tables) == ["wards"]
    assert source.notes == ["episodes.csv: not a table of the data contract; not loaded"]
    assert TABLES == ("discharges", "episodes", "events", "block_costs", "receipts")


def test_sheets_are_found_case_insensitively_with_spaces_around_their_names(tmp_path):
    path = book(tmp_path, {" Episodes ": [["episode_id"], ["E1"]], "Notes": [["x"]], "EVENTS": [["event_id"]]})
    source = read_source(path)
    assert source.kind == "workbook"
    assert sorted(source.tables) == ["episodes", "events"]
    assert source.tables["episodes"].source == "extract.xlsx sheet  Episodes "
    assert cells(source.tables["episodes"]) == [["E1"]]
    assert source.notes == ["extract.xlsx sheet Notes: not a table of the data contract; not loaded"]


def test_two_sheets_for_one_table_is_a_problem_naming_both(tmp_path):
    path = book(tmp_path, {"episodes": [["episode_id"], ["E1"]], "Episodes ": [["episode_id"], ["E2"]]})
    source = read_source(path)
    assert source.problems == [Problem("extract.xlsx", None, None, "two sheets hold the table episodes: "
                                                                   "'episodes' and 'Episodes '; keep one")]


# --------------------------------------------------------------------------- 2. encodings

@pytest.mark.parametrize("encoded, note", [
    (EPISODES.encode("utf-8"), None),
    (b"\xef\xbb\xbf" + EPISODES.encode("utf-8"), None),
    (b"\xff\xfe" + EPISODES.encode("utf-16-le"), "episodes.csv: read as UTF-16"),
    (b"\xfe\xff" + EPISODES.encode("utf-16-be"), "episodes.csv: read as UTF-16"),
    (EPISODES.encode("utf-16-le"), "episodes.csv: read as UTF-16 (the file has no byte-order mark)"),
    (EPISODES.encode("utf-16-be"), "episodes.csv: read as UTF-16 (the file has no byte-order mark)"),
    (EPISODES.encode("cp1252"), "episodes.csv: read as Windows-1252 (the file is not UTF-8); "
                                "check that characters such as £ read right"),
])
def test_encodings_read_right(tmp_path, encoded, note):
    source, table = one(tmp_path, encoded)
    assert table.header == ["episode_id", "discharge_id", "weekly_cost"]
    assert cells(table) == [["E1", "D1", "700"], ["E2", "D2", "£1,234.50"]]
    assert source.notes == ([note] if note else [])
    assert source.problems == table.problems == []


def test_windows_1252_punctuation_is_not_read_as_control_characters(tmp_path):
    source, table = one(tmp_path, "id,description\nB1,\u201c18 beds\u201d \u2013 \u20ac5\n".encode("cp1252"))
    assert cells(table) == [["B1", "\u201c18 beds\u201d \u2013 \u20ac5"]]
    assert table.problems == []


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_a_problem_with_row_and_column(tmp_path):
    source, table = one(tmp_path, b"id,amount,note\nR1,\xa3100,ok\nR2,\xa3200,bad \x81 byte\n")
    assert table.problems == [Problem("episodes.csv", 3, "note", "holds bytes that cannot be read as UTF-8 or "
                                      "Windows-1252 text; save the file as CSV UTF-8 (comma delimited) and "
                                      "check this cell")]
    assert cells(table)[0] == ["R1", "£100", "ok"]


def test_a_stray_byte_in_a_utf8_file_is_not_read_as_windows_1252(tmp_path):
    source, table = one(tmp_path, "id,amount\nR1,£100\nR2,".encode() + b"\xa3200\n")
    assert cells(table)[0] == ["R1", "£100"]  # not "Â£100"
    assert source.notes == []
    assert [(p.row, p.column) for p in table.problems] == [(3, "amount")]
    assert "cannot be read as UTF-8 text (the rest of the file is UTF-8)" in table.problems[0].message


def test_binary_files_are_refused_whole(tmp_path):
    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(5000))
    data = folder(tmp_path, episodes__csv=junk, events__csv=b"PK\x03\x04" + junk,
                  discharges__csv=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + junk)
    source = read_source(data)
    assert source.tables == {}
    assert source.problems == [
        Problem("discharges.csv", None, None, "is an Excel 97-2003 (.xls) or other Office file with a .csv name, "
                                              "not CSV text; save the sheet as CSV (comma delimited)"),
        Problem("episodes.csv", None, None, "is not a text file (it holds binary data); save the table as CSV "
                                            "(comma delimited)"),
        Problem("events.csv", None, None, "is a zip file (perhaps an Excel workbook) with a .csv name, not CSV "
                                          "text; save the sheet as CSV (comma delimited), or load the workbook "
                                          "itself"),
    ]
    assert set(source.files) == {"episodes.csv", "events.csv", "discharges.csv"}


# --------------------------------------------------------------------------- 3. CSV parsing

def test_short_rows_are_padded_and_cells_stripped(tmp_path):
    source, table = one(tmp_path, "a, b ,c\n 1 ,\t2\n\"  quoted  \",\"x\ny\",\n")
    assert table.header == ["a", "b", "c"]
    assert cells(table) == [["1", "2", ""], ["quoted", "x\ny", ""]]
    assert table.rows.tolist() == [2, 3] and table.rows.dtype == np.int64
    assert all(table.frame[c].dtype == object for c in table.frame)
    assert table.problems == []


def test_rows_longer_than_the_header(tmp_path):
    source, table = one(tmp_path, "a,b,c\n1,2,3\n1,2,3,,\n4,5,6,7\n8,9,10,,11\n")
    assert table.problems == [Problem("episodes.csv", 4, None, LONG_ROW.format(4, 3)),
                              Problem("episodes.csv", 5, None, LONG_ROW.format(5, 3))]
    assert cells(table) == [["1", "2", "3"], ["1", "2", "3"], ["4", "5", "6"], ["8", "9", "10"]]


def test_trailing_commas_on_every_row_are_not_a_problem(tmp_path):
    source, table = one(tmp_path, "a,b\n" + "1,2,,\n" * 50)
    assert table.problems == [] and len(table.frame) == 50


def test_a_column_with_values_needs_a_name(tmp_path):
    source, table = one(tmp_path, "a,,c,\n1,,3,\n4,5,6,\n")
    assert table.header == ["a", "", "c", ""]
    assert list(table.frame) == ["a", "c"]
    assert table.problems == [Problem("episodes.csv", 1, "B", "the column has values (the first in row 3) "
                                                              "but no name in row 1; name it or delete it")]


def test_an_empty_first_row_is_one_problem(tmp_path):
    source, table = one(tmp_path, "\n1,2\n3,4\n")
    assert table.problems == [Problem("episodes.csv", 1, None, "row 1 is empty; it must hold the column names")]


@pytest.mark.parametrize("text, said", [
    ("episode_id;discharge_id\nE1;D1\n", "semicolons (;)"),
    ("episode_id\tdischarge_id\nE1\tD1\n", "tabs"),
    ("sep=;\nepisode_id;discharge_id\n", "semicolons (;)"),
])
def test_other_separators_are_refused(tmp_path, text, said):
    source, table = one(tmp_path, text)
    assert table is None
    assert source.problems == [Problem("episodes.csv", 1, None, f"the columns are separated by {said}, not "
                                                                "commas; save the file as CSV (comma delimited)")]


@pytest.mark.parametrize("text, header", [("", []), ("\r\n", []), ("a,b\r\n", ["a", "b"]),
                                          ("\ufeffa,b", ["a", "b"])])
def test_empty_files_and_header_only_files_are_empty_tables(tmp_path, text, header):
    source, table = one(tmp_path, text)
    assert table.header == header
    assert len(table.frame) == 0 and len(table.rows) == 0
    assert table.problems == source.problems == []


def test_nul_bytes_and_control_characters_are_problems_with_row_and_column(tmp_path):
    text = "id,name,note\nE1,Ann\x00,ok\nE2,Bob,tab\tis fine\nE3,Cy\x07,x\nE4,Di,\u0085\n"
    source, table = one(tmp_path, text)
    assert table.problems == [
        Problem("episodes.csv", 2, "name", "holds a NUL byte (code 0), so the file may be damaged or not CSV text; "
                                           "remove it"),
        Problem("episodes.csv", 4, "name", "holds the invisible control character U+0007; delete it and type "
                                           "the value again"),
        Problem("episodes.csv", 5, "note", "holds the invisible control character U+0085; delete it and type "
                                           "the value again"),
    ]
    assert cells(table)[1] == ["E2", "Bob", "tab\tis fine"]


def test_many_problems_of_a_kind_are_counted_not_all_listed(tmp_path):
    source, table = one(tmp_path, "a,b\n" + "x\x01,y\x02\n" * 150)
    assert len(table.problems) == MAX_PROBLEMS_PER_KIND + 1
    assert [(p.row, p.column) for p in table.problems[:3]] == [(2, "a"), (2, "b"), (3, "a")]
    assert table.problems[-1] == Problem("episodes.csv", None, None, "200 more cells holding control characters; "
                                                                     "only the first 100 are listed")


def test_a_ten_megabyte_cell_is_a_problem_not_a_crash(tmp_path):
    source, table = one(tmp_path, "a,b\n1,2\n3," + "x" * 10_000_000 + "\n5,6\n")
    assert table.problems == [Problem("episodes.csv", 3, "b", "the cell holds 10,000,000 characters, more than "
                                                              f"the {MAX_CELL_CHARS:,} allowed; a missing closing "
                                                              "quote can run many rows into one cell")]
    assert cells(table)[2] == ["5", "6"]


@pytest.mark.parametrize("header", ["a,b", '"a' + "x" * 200_000 + '",b'])  # the second is read slowly only
def test_an_unclosed_quote_is_named(tmp_path, header):
    source, table = one(tmp_path, header + '\n1,2\n3,"oops\n5,6\n7,8\n')
    unclosed = Problem("episodes.csv", 3, None, "a double quote (\") opens a cell on this row that is never closed, "
                                                "so the rest of the file reads as one cell; check for a stray or "
                                                "missing quote")
    long_header = [(1, "A")] if len(header) > 10 else []
    assert [(p.row, p.column) for p in table.problems[:-1]] == long_header
    assert table.problems[-1] == unclosed
    assert cells(table)[1] == ["3", "oops\n5,6\n7,8"]


def test_blank_rows_are_dropped_counted_and_keep_the_numbering(tmp_path):
    source, table = one(tmp_path, "a,b\n\n1,2\n,\n  ,  \n3,4\n\n\n")
    assert cells(table) == [["1", "2"], ["3", "4"]]
    assert table.rows.tolist() == [3, 6]
    assert table.blank_rows == 3  # rows 2, 4 and 5; the blank lines after the data are not rows of it


def test_fast_and_slow_csv_readers_agree(tmp_path):
    text = ('h1,h2,h3\r\n"a ""q"" b",2,3\r\n\r\n4,"5\r\n6",\r\nx"y,z,w\r\n"e"f,g,h\r\n,,,\r\nlast,row,"end"')
    utf8 = text.encode()
    first = ["h1", "h2", "h3"]
    fast, unclosed = _parse_csv_fast(utf8, first)
    slow, counts = _parse_csv_slow(utf8, _Problems("t"), None)
    assert unclosed is False
    assert [c.tolist() for c in fast] == [c.tolist() for c in slow]
    assert counts.tolist() == [3, 3, 0, 3, 3, 3, 4, 3]


def test_a_row_with_thousands_of_cells_is_one_problem_not_a_huge_table(tmp_path):
    source, table = one(tmp_path, "a,b\n1,2\n3,4" + ",x" * 200_000 + "\n5,6\n")
    assert table.problems == [Problem("episodes.csv", 3, None, LONG_ROW.format(200_002, 2))]
    assert cells(table) == [["1", "2"], ["3", "4"], ["5", "6"]]


def test_a_header_wider_than_a_sheet_is_refused(tmp_path):
    source, table = one(tmp_path, ",".join(f"c{i}" for i in range(20_000)) + "\n1,2\n")
    assert table is None
    assert source.problems == [Problem("episodes.csv", 1, None, "the header has 20,000 columns, more than the "
                                                                "16,384 a sheet can have; check that the file is a "
                                                                "table of the data contract")]


def test_a_file_too_big_to_hold_is_refused(tmp_path, monkeypatch):
    from hds import sources

    monkeypatch.setattr(sources, "MAX_CELLS", 50)
    source, table = one(tmp_path, "a,b,c\n" + "1,2,3\n" * 20)
    assert table is None
    assert source.problems == [Problem("episodes.csv", None, None, "holds about 22 rows of 3 columns, more than "
                                                                   "the 50 cells a table may have; split the file")]


# --------------------------------------------------------------------------- 4. workbooks

@pytest.mark.parametrize("content, message", [
    (EPISODES.encode(), "is a text file (perhaps CSV) with an Excel name, not a workbook; load it as a CSV file "
                        "in a folder, or save it from Excel as Excel Workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "is an Excel 97-2003 workbook (.xls) or a "
                                                        "password-protected workbook; open it in Excel and save it "
                                                        "as Excel Workbook (.xlsx) without a password"),
    (b"", "is empty, not an Excel workbook"),
])
def test_files_that_are_not_workbooks_are_a_problem(tmp_path, content, message):
    path = tmp_path / "extract.xlsx"
    path.write_bytes(content)
    source = read_source(path)
    assert source.problems == [Problem("extract.xlsx", None, None, message)]
    assert source.files == {"extract.xlsx": hashlib.sha256(content).hexdigest()}


def test_a_zip_that_is_not_a_workbook_is_a_problem(tmp_path):
    path = tmp_path / "extract.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    source = read_source(path)
    assert len(source.problems) == 1
    assert source.problems[0].source == "extract.xlsx"
    assert source.problems[0].message.startswith("cannot be opened as an Excel workbook (")


def test_an_old_xls_file_is_a_problem(tmp_path):
    path = tmp_path / "extract.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert read_source(path).problems[0].message.startswith("is an Excel 97-2003 workbook (.xls)")


def test_workbook_values_keep_their_types(tmp_path):
    rows = [["id", "cost", "when", "day", "flag", "note"],
            ["E1", 700, dt.datetime(2020, 10, 5, 9, 30), dt.date(2020, 10, 6), True, "  padded  "],
            ["E2", 1234.5, None, None, False, None]]
    source = read_source(book(tmp_path, {"episodes": rows}, name="extract.xlsm"))
    table = source.tables["episodes"]
    assert table.header == ["id", "cost", "when", "day", "flag", "note"]
    got = cells(table)
    assert got[0] == ["E1", 700, dt.datetime(2020, 10, 5, 9, 30), dt.datetime(2020, 10, 6), True, "padded"]
    assert got[1] == ["E2", 1234.5, None, None, False, None]
    assert type(got[0][1]) is int and type(got[1][1]) is float
    assert table.rows.tolist() == [2, 3] and table.problems == source.problems == []


def test_a_formula_with_no_saved_value_is_a_problem(tmp_path):
    path = book(tmp_path, {"episodes": [["id", "days", "cost"], ["E1", 7, "=B2*100"], ["E2", 3, 300]]})
    table = read_source(path).tables["episodes"]
    assert table.problems == [Problem("extract.xlsx sheet episodes", 2, "cost", FORMULA_NO_VALUE)]
    assert FORMULA_NO_VALUE == "a formula with no saved value; open and save the file in Excel, or paste values"


def test_a_formula_with_a_saved_value_reads_the_value(tmp_path):
    path = book(tmp_path, {"episodes": [["id", "days", "cost", "label"], ["E1", 7, "=B2*100", '=IF(B2>9,"x","")']]})
    # openpyxl writes an empty value as <v /> or, with lxml installed (docxtpl brings it), as <v></v>
    patch_sheet(path, lambda xml: re.sub(r"<f>B2\*100</f><v ?/>|<f>B2\*100</f><v></v>", "<f>B2*100</f><v>700</v>", xml)
                .replace('<c r="D2">', '<c r="D2" t="str">'))
    source = read_source(path)
    table = source.tables["episodes"]
    assert cells(table) == [["E1", 7, 700, None]]
    assert table.problems == []
    assert source.notes == ["extract.xlsx sheet episodes: 2 cell(s) hold formulas; their saved values were read"]


def test_merged_cells_in_the_table_are_a_problem(tmp_path):
    path = tmp_path / "extract.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "episodes"
    for row in (["id", "organisation"], ["E1", "OCC"], ["E2", None], ["E3", None]):
        ws.append(row)
    ws.merge_cells("B2:B4")
    ws.merge_cells("F20:G20")  # outside the table: holds nothing
    wb.save(path)
    table = read_source(path).tables["episodes"]
    assert table.problems == [Problem("extract.xlsx sheet episodes", 2, None, "cells B2:B4 are merged (rows 2 to "
                                                                              "4); merged cells are not allowed; "
                                                                              "unmerge and fill each row")]


@pytest.mark.parametrize("prefix, chunk", [("", None), ("x:", None), ("", 333), ("x:", 4096)])
def test_sheet_xml_scan_finds_every_formula_and_merge_across_chunks(tmp_path, monkeypatch, prefix, chunk):
    """Formulas and merges are found by streaming the sheet's XML, however large, whatever its prefix."""
    from hds import sources
    from hds.sources import _scan_sheet_xml

    if chunk:
        monkeypatch.setattr(sources, "_XML_CHUNK", chunk)

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    p = prefix
    rows, expected = [], []
    for r in range(1, 40_001):
        cells = f'<{p}c r="A{r}" t="s"><{p}v>0</{p}v></{p}c>'
        if r % 7 == 0:  # no saved value
            cells += f'<{p}c r="B{r}"><{p}f>A{r}*2</{p}f><{p}v/></{p}c>'
            expected.append((r, 2, False))
        elif r % 11 == 0:  # saved value
            cells += f'<{p}c r="C{r}" s="1"><{p}f t="shared" si="0"/><{p}v>{r}</{p}v></{p}c>'
            expected.append((r, 3, True))
        elif r % 13 == 0:  # saved empty text
            cells += f'<{p}c r="AA{r}" t="str"><{p}f>IF(A1,"","")</{p}f><{p}v></{p}v></{p}c>'
            expected.append((r, 27, True))
        rows.append(f'<{p}row r="{r}">{cells}</{p}row>')
    xmlns = f'xmlns:{p[:-1]}="{ns}"' if p else f'xmlns="{ns}"'
    xml = (f'<?xml version="1.0"?><{p}worksheet {xmlns}><{p}sheetData>{"".join(rows)}</{p}sheetData>'
           f'<{p}mergeCells count="2"><{p}mergeCell ref="A2:A3"/><{p}mergeCell ref="C5:D5"/></{p}mergeCells>'
           f'</{p}worksheet>')
    assert len(xml) > 2 * (1 << 20)  # several chunks of the reader
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(path) as z:
        scan = _scan_sheet_xml(z, "/xl/worksheets/sheet1.xml")
    assert scan.formulas == expected
    assert scan.merges == [("A2:A3", (1, 2, 1, 3)), ("C5:D5", (3, 5, 4, 5))]


def test_excel_error_cells_are_problems(tmp_path):
    path = book(tmp_path, {"episodes": [["id", "cost"], ["E1", "#N/A"], ["E2", "#DIV/0!"], ["E3", 5]]})
    table = read_source(path).tables["episodes"]
    assert table.problems == [
        Problem("extract.xlsx sheet episodes", 2, "cost", "holds the Excel error #N/A; correct the formula or "
                                                          "type the value"),
        Problem("extract.xlsx sheet episodes", 3, "cost", "holds the Excel error #DIV/0!; correct the formula "
                                                          "or type the value"),
    ]


def test_hidden_sheets_are_read_with_a_note(tmp_path):
    path = book(tmp_path, {"episodes": [["id"], ["E1"]], "events": [["id"], ["V1"]], "Lists": [["x"]]},
                hidden=("events", "Lists"))
    source = read_source(path)
    assert cells(source.tables["events"]) == [["V1"]]
    assert source.notes == ["extract.xlsx sheet Lists: not a table of the data contract (a hidden sheet); "
                            "not loaded", "extract.xlsx sheet events: the sheet is hidden; read all the same"]


def test_workbook_blank_rows_control_characters_long_cells_and_long_rows(tmp_path):
    rows = [["id", "note"], ["E1", "_x0007_bell"], [], ["E3", "x" * (MAX_CELL_CHARS + 1)], ["E4", "ok", "extra"]]
    path = book(tmp_path, {"episodes": rows})
    patch_sheet(path, lambda xml: xml.replace('<dimension ref="A1:C5" />', '<dimension ref="A1:A2" />'))
    table = read_source(path).tables["episodes"]
    where = "extract.xlsx sheet episodes"
    assert table.problems == [
        Problem(where, 2, "note", "holds the invisible control character U+0007; delete it and type the value again"),
        Problem(where, 4, "note", f"the cell holds {MAX_CELL_CHARS + 1:,} characters, more than the "
                                  f"{MAX_CELL_CHARS:,} allowed; a missing closing quote can run many rows into "
                                  "one cell"),
        Problem(where, 5, None, LONG_ROW.format(3, 2)),
    ]
    assert table.rows.tolist() == [2, 4, 5] and table.blank_rows == 1


def test_a_stray_cell_far_to_the_right_is_one_problem(tmp_path):
    path = tmp_path / "extract.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "episodes"
    for row in (["id", "cost"], ["E1", 1], ["E2", 2]):
        ws.append(row)
    ws["XFD3"] = "oops"
    wb.save(path)
    table = read_source(path).tables["episodes"]
    assert table.problems == [Problem("extract.xlsx sheet episodes", 3, None, LONG_ROW.format(16384, 2))]
    assert cells(table) == [["E1", 1], ["E2", 2]]


def test_a_row_number_past_excels_last_is_a_problem(tmp_path):
    path = book(tmp_path, {"episodes": [["id"], ["E1"], ["E2"]]})
    patch_sheet(path, lambda xml: xml.replace('<row r="3">', '<row r="9999999">').replace('r="A3"', 'r="A9999999"'))
    source = read_source(path)
    assert "episodes" not in source.tables
    assert source.problems == [Problem("extract.xlsx sheet episodes", None, None, "has rows past row 1,048,576, "
                                                                                  "the last Excel allows; the file "
                                                                                  "is damaged")]


def test_a_damaged_sheet_is_a_problem_not_a_traceback(tmp_path):
    path = book(tmp_path, {"episodes": [["id"], ["E1"]]})
    patch_sheet(path, lambda xml: xml.replace("<sheetData>", "<sheetData><row r=").replace("</sheetData>", ""))
    source = read_source(path)
    assert "episodes" not in source.tables
    assert source.problems[0].source == "extract.xlsx sheet episodes"
    assert source.problems[0].message.startswith("cannot be read (")


# --------------------------------------------------------------------------- 5. header

def test_duplicate_header_names(tmp_path):
    source, table = one(tmp_path, "id, cost ,id,cost,x\n1,2,3,4,5\n")
    assert table.header == ["id", "cost", "id", "cost", "x"]
    assert list(table.frame) == ["id", "cost", "x"]
    assert cells(table) == [["1", "2", "5"]]
    message = "the column appears more than once in the header; keep one"
    assert table.problems == [Problem("episodes.csv", 1, "id", message), Problem("episodes.csv", 1, "cost", message)]


def test_workbook_header_cells_become_text(tmp_path):
    path = book(tmp_path, {"episodes": [["id", 2021, 3.0, None, 4.5], ["E1", 1, 2, None, 3]]})
    table = read_source(path).tables["episodes"]
    assert table.header == ["id", "2021", "3", "", "4.5"]
    assert list(table.frame) == ["id", "2021", "3", "4.5"]
    assert table.problems == []


# --------------------------------------------------------------------------- 6, 7. hashes, paths

def test_every_file_read_is_hashed_even_with_problems(tmp_path):
    good, bad = EPISODES.encode(), b"id;x\n1;2\n"
    data = folder(tmp_path, episodes__csv=good, events__csv=bad, other__csv=b"x\n")
    source = read_source(data)
    assert source.files == {"episodes.csv": hashlib.sha256(good).hexdigest(),
                            "events.csv": hashlib.sha256(bad).hexdigest()}


def test_a_folder_without_tables_is_a_problem(tmp_path):
    data = folder(tmp_path, README__txt="hello")
    source = read_source(data)
    assert source.problems == [Problem(str(data), None, None, NO_TABLE)]
    path = book(tmp_path, {"Sheet1": [["a"]]})
    assert read_source(path).problems == [Problem(str(path), None, None, NO_TABLE)]


def test_paths_that_cannot_be_read_raise_hds_error(tmp_path):
    with pytest.raises(HdsError, match="no such file or folder"):
        read_source(tmp_path / "missing")
    (tmp_path / "episodes.csv").write_text("a\n")
    with pytest.raises(HdsError, match="give the folder that holds it"):
        read_source(tmp_path / "episodes.csv")


def test_hostile_input_never_raises(tmp_path):
    rng = random.Random(2024)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(25)]
    samples += [b'"' * 7 + b"\n,\"", b"\x00" * 100, b"\xff\xfe\x00", b"\xfe\xff\xd8\x00", b"a,b\n\"\"\"\n\r\r\n",
                b"\xef\xbb\xbf\xff", b",,,\n" * 10, b"a\n" + b"," * 5000 + b"\n"]
    for i, sample in enumerate(samples):
        data = tmp_path / f"d{i}"
        data.mkdir()
        (data / "episodes.csv").write_bytes(sample)
        source = read_source(data)
        for problem in source.problems + [p for t in source.tables.values() for p in t.problems]:
            assert isinstance(problem, Problem) and problem.source
        (tmp_path / f"b{i}.xlsx").write_bytes(sample)
        read_source(tmp_path / f"b{i}.xlsx")
    # a real workbook with its sheet cut short
    path = book(tmp_path, {"episodes": [["id"], ["E1"]]})
    blob = path.read_bytes()
    for cut in (100, len(blob) // 2, len(blob) - 30):
        path.write_bytes(blob[:cut])
        assert read_source(path).problems


# --------------------------------------------------------------------------- properties

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

CELL = st.text(alphabet="ab ,\"\n\r\t£é\u00a0x", max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(1, 4), body=st.lists(st.lists(CELL, max_size=4), max_size=8), bom=st.booleans())
def test_what_excel_writes_reads_back(tmp_path_factory, width, body, bom):
    """Any cells written as Excel's CSV read back as the same (stripped) cells, row by row."""
    import csv as csvmodule
    import io

    header = [f"c{i}" for i in range(width)]
    rows = [row[:width] for row in body]
    out = io.StringIO()
    csvmodule.writer(out, lineterminator="\r\n").writerows([header] + rows)
    data = tmp_path_factory.mktemp("p") / "d"
    data.mkdir()
    (data / "episodes.csv").write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())
    source = read_source(data)
    table = source.tables["episodes"]
    expected, numbers = [], []
    for number, row in enumerate(rows, start=2):
        padded = [c.strip() for c in row] + [""] * (width - len(row))
        if any(padded):
            expected.append(padded)
            numbers.append(number)
    assert table.header == header
    assert cells(table) == expected
    assert table.rows.tolist() == numbers
    assert table.problems == [] and source.problems == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=600) | st.text(alphabet="a ,\"\n\r\x00\x07\x81é£;", max_size=300).map(
    lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_give_problems_not_tracebacks(tmp_path_factory, content):
    from hds import sources

    data = tmp_path_factory.mktemp("p") / "d"
    data.mkdir()
    (data / "episodes.csv").write_bytes(content)
    source = read_source(data)
    # the shortcuts taken from the bytes never change the result
    saved = sources._may_need_strip, sources._may_hold_long_cells
    sources._may_need_strip = sources._may_hold_long_cells = lambda utf8: True
    try:
        again = read_source(data)
    finally:
        sources._may_need_strip, sources._may_hold_long_cells = saved
    assert again.problems == source.problems
    if "episodes" in source.tables:
        a, b = source.tables["episodes"], again.tables["episodes"]
        assert (a.header, cells(a), a.rows.tolist(), a.blank_rows, a.problems) == \
               (b.header, cells(b), b.rows.tolist(), b.blank_rows, b.problems)
