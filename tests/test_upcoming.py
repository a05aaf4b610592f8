"""`hds upcoming`: the worklist of people whose free care ends soon, with the day the scheme stops paying
as the rules decide it, for every scheme and the events that end free care early."""

import datetime as dt
import json

import pytest

from claims.upcoming import upcoming
from hds.contract import Discharge, Episode, Event
from hds.data import Data, MemorySource
from hds.days import day_number, iso
from tests.cli_helpers import hds, ok

D = dt.date


def day(text: str) -> int:
    return day_number(D.fromisoformat(text))


def person(did, discharged, *episodes, events=(), kind="hospital"):
    """A discharge with its episodes (service, start, end, weekly pounds, restart) and events (kind, date, outcome)."""
    discharge = Discharge(did, "P" + did[1:], D.fromisoformat(discharged), kind)
    eps = [Episode(f"E{did[1:]}{i}", did, service, D.fromisoformat(start), D.fromisoformat(end) if end else None,
                   weekly * 100, "OCC", restart) for i, (service, start, end, weekly, restart) in enumerate(episodes)]
    evs = [Event(f"V{did[1:]}{i}", did, event, D.fromisoformat(date), outcome)
           for i, (event, date, outcome) in enumerate(events)]
    return discharge, eps, evs


def home(start, end=None, weekly=700, restart=False, service="home_care"):
    return (service, start, end, weekly, restart)


def worklist(library, people, as_of, days):
    data = Data.from_records(discharges=[p[0] for p in people], episodes=[e for p in people for e in p[1]],
                             events=[v for p in people for v in p[2]])
    return {p.discharge_id: p for p in upcoming(MemorySource(data), library, day(as_of), days).people}


def test_the_free_period_ends_and_the_council_pays_while_the_assessment_is_outstanding(library):
    # HDS2, discharged 1 October 2020: 42 days free, so others pay from 12 November
    people = [person("D1", "2020-10-01", home("2020-10-01"))]
    found = worklist(library, people, "2020-11-05", 7)
    p = found["D1"]
    assert (iso(p.pays_from), p.next_funder, p.weekly_pence, p.outstanding, p.scheme) == \
        ("2020-11-12", "council", 70000, "Care Act assessment", "HDS2")
    assert worklist(library, people, "2020-11-05", 6) == {}  # the 12th is 7 days on


def test_an_episode_simply_ending_is_not_a_change_of_funder(library):
    # the package ends on 8 November, but the scheme still pays to the end of the free period: not listed at 3 days
    people = [person("D1", "2020-10-01", home("2020-10-01", "2020-11-08"))]
    assert worklist(library, people, "2020-11-05", 3) == {}
    assert iso(worklist(library, people, "2020-11-05", 7)["D1"].pays_from) == "2020-11-12"


def test_each_scheme_has_its_own_free_period(library):
    people = [
        person("D1", "2020-06-01", home("2020-06-01")),  # HDS1: until assessed, at the latest 31 March 2021
        person("D2", "2021-04-10", home("2021-04-10")),  # HDS3: 42 days
        person("D3", "2021-08-10", home("2021-08-10")),  # HDS4: 28 days
    ]
    hds1 = worklist(library, people, "2021-03-28", 7)
    assert {k: (iso(p.pays_from), p.scheme, p.next_funder) for k, p in hds1.items()} == \
        {"D1": ("2021-04-01", "HDS1", "council")}
    assert {k: (iso(p.pays_from), p.scheme) for k, p in worklist(library, people, "2021-05-18", 7).items()} == \
        {"D2": ("2021-05-22", "HDS3")}
    assert {k: (iso(p.pays_from), p.scheme) for k, p in worklist(library, people, "2021-09-03", 7).items()} == \
        {"D3": ("2021-09-07", "HDS4")}


def test_an_assessment_booked_after_the_as_of_date_ends_free_care_on_its_day(library):
    people = [person("D1", "2020-10-01", home("2020-10-01"), events=[("care_act_assessment", "2020-10-20", "")])]
    p = worklist(library, people, "2020-10-15", 7)["D1"]
    assert (iso(p.pays_from), p.next_funder, p.outstanding) == \
        ("2020-10-20", "bau", "Care Act assessment dated 2020-10-20")


def test_self_funder_charge_date(library):
    people = [person("D1", "2020-10-01", home("2020-10-01"), events=[("self_funder_charge_from", "2020-10-18", "")])]
    p = worklist(library, people, "2020-10-15", 7)["D1"]
    assert (iso(p.pays_from), p.next_funder) == ("2020-10-18", "bau")
    assert worklist(library, people, "2020-10-15", 2) == {}
    assert worklist(library, people, "2020-10-18", 7) == {}  # from the charge date the scheme no longer pays


def test_chc_checklist_sends_the_person_to_the_ccg_until_the_decision(library):
    positive = [person("D1", "2020-10-01", home("2020-10-01"), events=[("chc_checklist", "2020-10-10", "positive")])]
    p = worklist(library, positive, "2020-11-05", 7)["D1"]
    assert (iso(p.pays_from), p.next_funder, p.outstanding) == \
        ("2020-11-12", "ccg", "Care Act assessment; CHC decision")
    negative = [person("D1", "2020-10-01", home("2020-10-01"), events=[("chc_checklist", "2020-10-10", "negative")])]
    assert worklist(library, negative, "2020-11-05", 7)["D1"].next_funder == "council"
    eligible = [person("D1", "2020-10-01", home("2020-10-01"),
                       events=[("chc_checklist", "2020-10-10", "positive"), ("chc_decision", "2020-10-20", "chc")])]
    p = worklist(library, eligible, "2020-10-15", 7)["D1"]
    assert (iso(p.pays_from), p.next_funder) == ("2020-10-20", "bau")


def test_the_deceased_are_not_listed(library):
    people = [person("D1", "2020-10-01", home("2020-10-01"), events=[("death", "2020-11-05", "")]),
              person("D2", "2020-10-01", home("2020-10-01"), events=[("death", "2020-11-01", "")]),
              person("D3", "2020-10-01", home("2020-10-01"))]
    assert set(worklist(library, people, "2020-11-05", 7)) == {"D3"}


def test_restarts_are_never_the_scheme_s_so_only_new_care_counts(library):
    restart_only = [person("D1", "2020-10-01", home("2020-10-01", restart=True))]
    assert worklist(library, restart_only, "2020-11-05", 7) == {}
    both = [person("D1", "2020-10-01", home("2020-10-01", restart=True, weekly=300), home("2020-10-01", weekly=500))]
    p = worklist(library, both, "2020-11-05", 7)["D1"]
    assert (iso(p.pays_from), p.weekly_pence) == ("2020-11-12", 50000)  # the restart's cost is not the scheme's


def test_pays_from_is_the_latest_over_the_episodes(library):
    # after the assessment on 20 October the home care goes to normal funding; isolation stays free to the
    # free period's end (12 November), so the scheme pays for this person until then
    people = [person("D1", "2020-10-01", home("2020-10-01"), home("2020-10-01", service="isolation", weekly=900),
                     events=[("care_act_assessment", "2020-10-20", "")])]
    p = worklist(library, people, "2020-10-15", 30)["D1"]
    assert (iso(p.pays_from), p.next_funder, p.weekly_pence) == ("2020-11-12", "bau", 160000)
    p = worklist(library, people, "2020-10-25", 30)["D1"]
    assert (iso(p.pays_from), p.weekly_pence) == ("2020-11-12", 90000)  # only the isolation is the scheme's now


def test_discharges_after_the_as_of_date_are_not_known(library):
    people = [person("D1", "2020-11-06", home("2020-11-06"), events=[("self_funder_charge_from", "2020-11-08", "")])]
    assert worklist(library, people, "2020-11-05", 7) == {}


@pytest.fixture(scope="module")
def sample_json(sample_store):
    return json.loads(ok("upcoming", "--as-of", "2020-11-15", "--days", "7", "--json", "--db", sample_store))


def test_json_is_as_of_days_and_people_sorted_by_pays_from(sample_json):
    assert set(sample_json) == {"as_of", "days", "people"}
    assert (sample_json["as_of"], sample_json["days"]) == ("2020-11-15", 7)
    people = sample_json["people"]
    assert people and all(set(p) == {"discharge_id", "patient_id", "scheme", "pays_from", "next_funder",
                                     "weekly_cost", "outstanding"} for p in people)
    days = [p["pays_from"] for p in people]
    assert days == sorted(days) and "2020-11-16" <= days[0] and days[-1] <= "2020-11-22"
    assert all(isinstance(p["weekly_cost"], str) and "." in p["weekly_cost"] for p in people)


def test_table_and_csv_carry_the_same_people(sample_store, sample_json):
    table = ok("upcoming", "--as-of", "2020-11-15", "--days", "7", "--db", sample_store)
    assert table.splitlines()[0] == (f"Free care ending: {len(sample_json['people'])} people the scheme pays for on "
                                     "2020-11-15 whose scheme payment stops by 2020-11-22")
    csv = ok("upcoming", "--as-of", "2020-11-15", "--days", "7", "--csv", "--db", sample_store).splitlines()
    assert csv[0] == "discharge_id,patient_id,scheme,pays_from,next_funder,weekly_cost,outstanding"
    assert [line.split(",")[0] for line in csv[1:] if line] == [p["discharge_id"] for p in sample_json["people"]]


def test_a_bad_date_is_a_usage_error(sample_store):
    result = hds("upcoming", "--as-of", "2020-02-30", "--db", sample_store)
    assert result.exit_code == 2 and "is not a date" in result.output


def test_status_counts_the_people_whose_free_care_ends_in_the_next_14_days(tmp_path):
    folder = tmp_path / "extract"
    folder.mkdir()
    (folder / "discharges.csv").write_text("discharge_id,patient_id,discharge_date\nD1,P1,2020-10-01\n"
                                           "D2,P2,2020-10-20\nD3,P3,2020-10-01\n")
    (folder / "episodes.csv").write_text(
        "episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation\n"
        "E1,D1,home_care,2020-10-01,,700,OCC\nE2,D2,home_care,2020-10-20,,700,OCC\n"
        "E3,D3,home_care,2020-10-01,,700,OCC\n")
    (folder / "events.csv").write_text("event_id,discharge_id,event,date,outcome\nV1,D3,death,2020-10-31,\n"
                                       "V2,D1,chc_checklist,2020-11-01,negative\n")
    db = tmp_path / "hds.db"
    ok("load", folder, "--db", db)
    # the latest date in the data is 1 November; D1's free period ends on 11 November, D2's on 30 November
    status = json.loads(ok("status", "--json", "--db", db))
    assert status["free_care_ending"] == {"as_of": "2020-11-01", "days": 14, "people": 1}
    table = " ".join(ok("status", "--db", db, env={"COLUMNS": "200"}).split())
    assert ("Free care ending within 14 days of 2020-11-01 (the latest date in the data): 1 person; "
            "hds upcoming --as-of 2020-11-01 --days 14 lists them") in table
