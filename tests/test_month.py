"""The Month value: made from text once at the edge, asked for its days and neighbours after."""

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from hds.days import day_number, to_date
from hds.month import Month


def test_a_month_is_its_text_and_matches_the_stores_text():
    m = Month.parse(" 2020-10 ")
    assert m == "2020-10" and str(m) == "2020-10" and repr(m) == "Month('2020-10')"
    assert {"2020-10": 1}[m] == 1 and m in ["2020-10"]
    assert Month(m) is m


@pytest.mark.parametrize("text", ["2020-13", "2020-00", "2020-1", "20-10", "October", "", "2020-10-01"])
def test_anything_else_is_refused_with_what_is_expected(text):
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        Month.parse(text)


def test_days_and_neighbours_across_a_year_end():
    december = Month("2020-12")
    assert to_date(december.first_day) == dt.date(2020, 12, 1)
    assert to_date(december.last_day) == dt.date(2020, 12, 31)
    assert december.days == (december.first_day, december.last_day) and december.days_in == 31
    assert december.next() == "2021-01" and Month("2021-01").previous() == "2020-12"
    assert Month("2020-02").days_in == 29 and Month("2021-02").days_in == 28
    assert Month.span("2020-11", "2021-02") == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert Month.span("2021-02", "2020-11") == []


@given(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_day_falls_in_the_month_the_calendar_says(day):
    m = Month.of_day(day_number(day))
    assert m == f"{day.year:04d}-{day.month:02d}"
    assert m.first_day <= day_number(day) <= m.last_day
    assert m.next().first_day == m.last_day + 1
    assert Month(m.number) == m
