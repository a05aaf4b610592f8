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
