"""The column-at-a-time readers agree with the row-at-a-time ones they stand in for."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hds.contract import SPEC
from hds.dates import parse_date
from hds.days import day_number
from hds.load import _fast_column, cell_parser

SCHEMES = ("HDS1", "HDS2", "HDS3", "HDS4")


def agree(column, texts):
    """Every cell the fast path accepts gets the value the row check would give it."""
    cells = np.array(texts, dtype=object)
    values, ok = _fast_column(column, cells, SCHEMES)
    parse = cell_parser(column, SCHEMES)
    for text, value, accepted in zip(texts, values.tolist(), ok.tolist()):
        if not accepted or text == "":
            continue
        expected = parse(text)
        if column.kind == "date":
            expected = day_number(expected)
        assert value == expected, (text, value, expected)
    return ok


money_text = st.text(alphabet="0123456789.,£- ", min_size=0, max_size=17)
date_text = st.one_of(st.dates().map(lambda d: d.isoformat()),
                      st.text(alphabet="0123456789-/", min_size=0, max_size=12))


@settings(max_examples=200, deadline=None)
@given(st.lists(money_text, min_size=1, max_size=40))
def test_money_columns(texts):
    agree(SPEC["episodes"].column("weekly_cost"), texts)
    agree(SPEC["block_costs"].column("amount"), texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(date_text, min_size=1, max_size=40))
def test_date_columns(texts):
    agree(SPEC["episodes"].column("start_date"), texts)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789 ", min_size=9, max_size=11), min_size=1, max_size=40))
def test_nhs_number_columns(texts):
    agree(SPEC["discharges"].column("nhs_number"), texts)


def test_the_fast_path_takes_the_plain_forms():
    ok = agree(SPEC["episodes"].column("weekly_cost"), ["700", "700.5", "700.55", "0.01", "£700", "1,000.00", "7.000"])
    assert ok.tolist() == [True, True, True, True, False, False, False]
    ok = agree(SPEC["episodes"].column("start_date"), ["2020-10-05", "2020-02-29", "2021-02-29", "05/10/2020", "2020-1-05"])
    assert ok.tolist() == [True, True, False, False, False]
    assert parse_date("05/10/2020").isoformat() == "2020-10-05"


pounds_text = st.one_of(st.integers(0, 10 ** 9).map(lambda p: f"£{p // 100:,}.{p % 100:02d}"),
                        st.integers(0, 10 ** 7).map(lambda p: f"{p // 100:,}.{p % 10}"), money_text)


@settings(max_examples=100, deadline=None)
@given(st.lists(pounds_text, min_size=65, max_size=120))
def test_money_with_pound_signs_and_thousands_commas(texts):
    """Past 64 cells not in plain pounds, £ and thousands commas are read a column at a time too."""
    agree(SPEC["episodes"].column("weekly_cost"), texts)
    agree(SPEC["block_costs"].column("amount"), texts)


def test_pounds_as_people_write_them_are_read_a_column_at_a_time():
    texts = [f"£{p * 7919 % 10 ** 7 // 100:,}.{p % 100:02d}" for p in range(100)] + ["£1,000", "12,345.60"]
    ok = agree(SPEC["episodes"].column("weekly_cost"), texts)
    assert ok.all()
    wrong = ["£1,00.00", "1,2345", "£ 12", "1234,567", "0000,000"]  # the row check refuses each, and says why
    cells = np.array(texts + wrong, dtype=object)
    assert _fast_column(SPEC["episodes"].column("weekly_cost"), cells, SCHEMES)[1][-5:].tolist() == [False] * 5


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.dates().map(lambda d: d.strftime("%d-%b-%Y")), date_text), min_size=1, max_size=40))
def test_dates_in_a_mapped_format(texts):
    """A mapping's date_format: the column reader agrees with the row check, and reads every date in it."""
    column = SPEC["episodes"].column("start_date")
    cells = np.array(texts, dtype=object)
    values, ok = _fast_column(column, cells, SCHEMES, "%d-%b-%Y")
    parse = cell_parser(column, SCHEMES, ("[input.episodes]", "%d-%b-%Y"))
    for text, value, accepted in zip(texts, values.tolist(), ok.tolist()):
        if accepted and text:
            assert value == day_number(parse(text)), text
    assert all(ok[i] for i, t in enumerate(texts) if len(t) == 11 and t[2] == "-" and t[6] == "-")


def test_a_csv_files_empty_cells_found_as_it_is_cleaned_are_the_ones_a_fresh_look_finds(tmp_path):
    """A CSV file's raw table carries which of its cells are empty (found while they were stripped), and
    the checks use that: they read exactly what they read when they look at every cell again."""
    from hds.load import _check_table
    from hds.sources import open_source

    text = ("episode_id, discharge_id ,service,start_date,end_date,weekly_cost,organisation,restart,extra\n"
            "E1,D1,home_care,2020-10-05,,700,OCC,,x\n"
            "\n"  # a blank row: the frame keeps the rows with data
            "E2, ,home_care,2020-10-06, 2020-10-30 ,  ,OCC,yes,\n"
            ",D3,nonsense,2020-13-01,,£1,234.5,,maybe,\n"
            "E4,D4,reablement,2020-10-06,,12.5,,no,y\n")
    (tmp_path / "episodes.csv").write_text(text)
    raw = open_source(tmp_path).read_table("episodes").tables["episodes"]
    assert raw.blank is not None and raw.blank["discharge_id"].tolist() == [False, True, False, False]
    found_with_masks, found_afresh = [], []
    table = _check_table(SPEC["episodes"], raw, SCHEMES, found_with_masks)
    raw.blank = None  # as a workbook's: every cell looked at again
    afresh = _check_table(SPEC["episodes"], raw, SCHEMES, found_afresh)
    assert [str(p[-1]) for p in found_with_masks] == [str(p[-1]) for p in found_afresh] and found_with_masks
    for name in table.names:
        assert table[name].tolist() == afresh[name].tolist(), name
