"""The submission timetable: deadlines from hds.toml, the day due to the CCG two working days before,
across Christmas and Easter, and the reminder `hds status` gives first."""

import datetime as dt
import json

import pytest

from hds.config import load_config
from hds.errors import HdsError
from hds.timetable import deadlines, due_to_ccg, is_working_day, working_days_until
from tests.cli_helpers import hds, ok
from tests.conftest import copy_store

TIMETABLE = '[timetable]\n"2020-12" = "2020-12-29"\n"2021-03" = 2021-04-06\n"2020-10" = "2020-11-13"\n'


@pytest.mark.parametrize("deadline, due", [
    ("2020-12-29", "2020-12-23"),  # Christmas: 28 Dec (Boxing Day moved), the weekend and 25 Dec are not working days
    ("2021-04-06", "2021-03-31"),  # Easter: Easter Monday, the weekend and Good Friday
    ("2020-11-13", "2020-11-11"),  # an ordinary Friday: the Wednesday
    ("2020-11-16", "2020-11-12"),  # a Monday: back over the weekend to Thursday
    ("2021-05-04", "2021-04-29"),  # the day after the early May bank holiday
])
def test_due_to_ccg_two_working_days_before_the_deadline(deadline, due):
    assert due_to_ccg(dt.date.fromisoformat(deadline)) == dt.date.fromisoformat(due)


def test_working_days():
    assert not is_working_day(dt.date(2020, 12, 28)) and not is_working_day(dt.date(2020, 12, 26))
    assert is_working_day(dt.date(2020, 12, 24))
    assert working_days_until(dt.date(2020, 12, 18), dt.date(2020, 12, 23)) == 3  # Mon, Tue, Wed
    assert working_days_until(dt.date(2020, 12, 23), dt.date(2020, 12, 23)) == 0
    assert working_days_until(dt.date(2020, 12, 24), dt.date(2020, 12, 23)) == -1


def test_timetable_read_from_hds_toml(tmp_path):
    (tmp_path / "hds.toml").write_text(TIMETABLE)
    config = load_config(tmp_path / "hds.toml")
    assert config.timetable == {"2020-10": dt.date(2020, 11, 13), "2020-12": dt.date(2020, 12, 29),
                                "2021-03": dt.date(2021, 4, 6)}
    assert deadlines(config.timetable)["2021-03"].due == dt.date(2021, 3, 31)


@pytest.mark.parametrize("text, message", [
    ('"2020-13" = "2020-12-29"', "[timetable] '2020-13' is not a month"),
    ('"2020-12" = "29/12/2020"', "[timetable] \"2020-12\" = '29/12/2020' is not a date; expected YYYY-MM-DD"),
    ('"2020-12" = 5', "[timetable] \"2020-12\" must be a date"),
    ('"2020-12" = "2020-11-30"', "is before the month it is the deadline of"),
])
def test_a_wrong_timetable_is_refused_naming_the_key(tmp_path, text, message):
    (tmp_path / "hds.toml").write_text(f"[timetable]\n{text}\n")
    with pytest.raises(HdsError, match="hds.toml: ") as caught:
        load_config(tmp_path / "hds.toml")
    assert message in str(caught.value)


def on(monkeypatch, *day):
    """`hds status` run as if today were this day."""
    monkeypatch.setattr("hds.timetable.today", lambda: dt.date(*day))


@pytest.fixture
def timed_store(tmp_path, sample_store):
    db = copy_store(sample_store, tmp_path / "hds.db")
    (tmp_path / "hds.toml").write_text(TIMETABLE)
    return db


def test_status_json_gives_deadline_and_due_to_ccg(timed_store):
    months = {m["month"]: m for m in json.loads(ok("status", "--json", "--db", timed_store))["months"]}
    assert (months["2020-12"]["deadline"], months["2020-12"]["due_to_ccg"]) == ("2020-12-29", "2020-12-23")
    assert (months["2021-03"]["deadline"], months["2021-03"]["due_to_ccg"]) == ("2021-04-06", "2021-03-31")
    assert (months["2020-11"]["deadline"], months["2020-11"]["due_to_ccg"]) == (None, None)


def test_a_month_due_within_three_working_days_is_the_first_thing_status_says(timed_store, monkeypatch):
    on(monkeypatch, 2020, 12, 18)
    out = ok("status", "--db", timed_store)
    steps = json.loads(ok("status", "--json", "--db", timed_store))["next"]
    first = out.splitlines()[0]
    assert first == ("Due: 2020-12 is not submitted and its information is due to the CCG in 3 working days, on "
                     "Wednesday 23 December 2020 (NHS England's deadline: Tuesday 29 December 2020): hds check "
                     "--month 2020-12; hds submit --month 2020-12")
    assert steps[0] == first[len("Due: "):]
    assert "Tue 29 Dec 2020" in out and "Wed 23 Dec 2020" in out


def test_no_reminder_four_working_days_before_or_once_the_deadline_passed(timed_store, monkeypatch):
    for day in (17, 30):
        on(monkeypatch, 2020, 12, day)
        out = ok("status", "--db", timed_store)
        assert not out.startswith("Due:") and "2020-12 is not submitted" not in out


def test_a_submitted_month_is_not_reminded(tmp_path, october_store, monkeypatch):
    db = copy_store(october_store, tmp_path / "hds.db")
    (tmp_path / "hds.toml").write_text(TIMETABLE)
    on(monkeypatch, 2020, 11, 10)
    assert ok("status", "--db", db).startswith("Month-end status")
    (tmp_path / "hds.toml").write_text('[timetable]\n"2020-11" = "2020-12-14"\n')
    on(monkeypatch, 2020, 12, 11)  # Friday; it was due on Thursday 10th
    out = ok("status", "--db", db)
    assert out.startswith("Due: 2020-11 is not submitted and its information was due to the CCG on Thursday "
                          "10 December 2020")


def test_status_lists_the_months_of_the_timetable_beyond_the_data(tmp_path, sample_store):
    db = copy_store(sample_store, tmp_path / "hds.db")
    (tmp_path / "hds.toml").write_text('[timetable]\n"2022-09" = "2022-10-14"\n')
    months = {m["month"]: m for m in json.loads(ok("status", "--json", "--db", db))["months"]}
    assert months["2022-09"]["due_to_ccg"] == "2022-10-12" and months["2022-09"]["state"] == "nothing to claim"
    assert hds("status", "--db", db).exit_code == 0
