"""A large CSV file read alone is read in two halves at once (hds.sources.csv_cut, Folder.read_half,
hds.load._read_half): what the load holds and says is exactly what reading the whole file gives, and a
file that cannot be cut surely, or a half that finds anything, is read whole."""

import numpy as np
import pytest

from hds import load as loading
from hds import sources
from hds.errors import LoadError
from hds.load import read
from hds.sources import csv_cut, csv_half

SCHEMES = ("HDS1", "HDS2", "HDS3", "HDS4")
HEAD = "episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation,restart,bau_commissioned"
DISCHARGES = "discharge_id,patient_id,discharge_date\n" + "".join(f"D{i},P{i},2020-10-05\n" for i in range(40))


def _episodes(n: int, end: str = "\n", extra: str = "") -> str:
    lines = [HEAD + extra] + [f"E{i},D{i % 40},home_care,2020-10-{1 + i % 28:02d},,{100 + i},OCC,no,no"
                              + ("," + f"x{i}" if extra else "") for i in range(n)]
    return end.join(lines) + end


def _read(tmp_path, name, episodes, halves: bool, monkeypatch, encoding="utf-8"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "discharges.csv").write_text(DISCHARGES)
    (folder / "episodes.csv").write_bytes(episodes.encode(encoding))
    monkeypatch.setattr(loading, "READ_BESIDE_BYTES", 1 << 40)  # no table read beside: one read alone
    monkeypatch.setattr(sources, "SPLIT_BYTES", 1 if halves else 1 << 40)
    halved = []
    read_half = sources.Folder.read_half
    monkeypatch.setattr(sources.Folder, "read_half", lambda self, table, half: (
        halved.append((table, half)), read_half(self, table, half))[1])
    try:
        loaded = read(folder, SCHEMES)
    except LoadError as exc:
        return ("refused", [str(p) for p in exc.problems]), halved
    tables = {name: {column: table[column].tolist() for column in table.names} for name, table in loaded.tables.items()}
    return (tables, loaded.notes, loaded.sources, loaded.spans, loaded.files), halved


@pytest.mark.parametrize("episodes", [
    _episodes(60),
    _episodes(61, end="\r\n"),
    _episodes(60, extra=",memo"),  # a column not in the contract: kept in _extra
    _episodes(60).rstrip("\n"),  # no line end after the last row
    _episodes(60) + "\n\n",  # blank lines after the last row
    _episodes(60).replace("E45,", "E3,"),  # an id in both halves
    _episodes(60).replace("E50,D10,home_care,2020-10-23", "E50,D10,home_care,2020-13-23"),  # a bad date
    _episodes(60).replace("E5,D5,", "E5,D5,,").replace(HEAD, HEAD + ",x"),  # an unnamed column's cells
    _episodes(60).replace("E40,D0,home_care", "\nE40,D0,home_care"),  # a blank row inside
    _episodes(60).replace("E7,D7,home_care", '"E7",D7,home_care'),  # a quote: not cut at all
    _episodes(60).replace("E12,D12,home_care", "E12,D12,hôme_care"),  # UTF-8 past ASCII
])
def test_a_file_read_in_halves_gives_what_reading_it_whole_gives(tmp_path, monkeypatch, episodes):
    whole, _ = _read(tmp_path, "whole", episodes, False, monkeypatch)
    halves, halved = _read(tmp_path, "halves", episodes, True, monkeypatch)
    assert halves == whole
    assert (("episodes", 0) in halved) == ('"' not in episodes)  # a quoted file is not cut at all


def test_a_plain_file_is_read_in_halves_and_its_rows_keep_their_numbers(tmp_path, monkeypatch):
    joined, join = [], loading._joined
    monkeypatch.setattr(loading, "_joined", lambda *args: joined.append(join(*args)) or joined[-1])
    (tables, *_), _ = _read(tmp_path, "halves", _episodes(60), True, monkeypatch)
    assert len(joined) == 1 and joined[0] is not None  # the halves were read, and joined
    assert tables["episodes"]["_row"] == list(range(2, 62))
    assert tables["episodes"]["episode_id"] == [f"E{i}" for i in range(60)]


def test_the_halves_of_a_file_read_as_it_does(monkeypatch):
    monkeypatch.setattr(sources, "SPLIT_BYTES", 1)
    data = _episodes(99, end="\r\n").encode()
    cut = csv_cut(data)
    first, rest, before = csv_half(data, cut, 0), csv_half(data, cut, 1), cut[2]
    head = data[:data.index(b"\n") + 1]
    assert first + rest[len(head):] == data and rest.startswith(head)
    assert before == first.count(b"\n") - 1 and 40 < before < 60
    assert first.endswith(b"\r\n")


@pytest.mark.parametrize("data", [
    b'a,b\n"1",2\n' * 10,  # a quote: a cell may hold a line end
    b"a,b\r1,2\r" * 10,  # line ends of old Macs
    b"\xef\xbb\xbfa,b\n1,2\n" * 10,  # a byte-order mark
    b"a,b\n1,\x002\n" * 10,  # NUL bytes: not plain text
    b"a,b\n",  # a header alone
])
def test_a_file_that_cannot_be_cut_surely_is_not(monkeypatch, data):
    monkeypatch.setattr(sources, "SPLIT_BYTES", 1)
    assert csv_cut(data) is None


def test_a_small_file_is_not_cut():
    assert csv_cut(_episodes(60).encode()) is None  # under SPLIT_BYTES


def test_halves_found_to_hold_an_id_twice_are_read_whole_for_the_exact_problem(tmp_path, monkeypatch):
    (refused, problems), halved = _read(tmp_path, "halves", _episodes(60).replace("E45,", "E3,"), True, monkeypatch)
    assert refused == "refused" and ("episodes", 0) in halved
    assert problems == ["episodes.csv row 47, column episode_id: duplicate id 'E3'; it is already used at row 5"]
    assert np.all([p.startswith("episodes.csv") for p in problems])


def test_a_file_that_cannot_be_cut_is_read_whole_with_no_copy_made(tmp_path, monkeypatch):
    from hds import background

    started, start = [], background.start_in_turn
    monkeypatch.setattr(background, "start_in_turn", lambda function, *args, **kw: (
        started.append(args[1]), start(function, *args, **kw))[1])
    quoted = _episodes(60).replace("E7,D7,home_care", '"E7",D7,home_care')
    _read(tmp_path, "quoted", quoted, True, monkeypatch)
    assert started == []  # nothing to read beside: the quoted file whole, here
    _read(tmp_path, "plain", _episodes(60), True, monkeypatch)
    assert started == [[("episodes", 1)]]
