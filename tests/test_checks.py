"""Pre-submit checks: each check finds what is planted and stays silent on the near-misses."""

import datetime as dt
import re
import time
from pathlib import Path

import numpy as np
import pytest

from claims.allocate import allocations
from claims.checks import (CHECK_BY_CODE, CHECKS, Context, Finding, Register, Thresholds, _median, _person_labels,
                           numbers_in, run_checks, split_accepted)
from fixtures import SAMPLE_DIR
from hds.contract import BlockCost, Discharge, Episode, Event
from hds.data import Data, MemorySource
from hds.days import month_end, month_number, month_start
from hds.errors import HdsError

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = ("HDS1", "HDS2", "HDS3", "HDS4")


# --- building data --------------------------------------------------------------------------------

def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def nhs(n: int) -> str:
    """A valid test-range NHS number (999...), different for each n."""
    while True:
        digits = f"999{n:06d}"
        check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return digits + str(check)
        n += 1_000_000  # try another number


def discharge(did, pid, date, number="", kind="hospital"):
    return Discharge(discharge_id=did, patient_id=pid, discharge_date=day(date), kind=kind, nhs_number=number)


def episode(eid, did, service, start, end, weekly, organisation="OCC", restart=False, bau=False):
    return Episode(episode_id=eid, discharge_id=did, service=service, start_date=day(start),
                   end_date=day(end) if end else None, weekly_pence=round(weekly * 100), organisation=organisation,
                   restart=restart, bau_commissioned=bau)


def event(vid, did, kind, date, outcome=""):
    return Event(event_id=vid, discharge_id=did, event=kind, date=day(date), outcome=outcome)


def block(bid, organisation, start, end, amount, scheme="HDS2"):
    return BlockCost(block_id=bid, description="beds", scheme=scheme, organisation=organisation,
                     start_date=day(start), end_date=day(end), amount_pence=round(amount * 100))


def data(discharges=(), episodes=(), events=(), blocks=()):
    return Data.from_records(discharges=discharges, episodes=episodes, events=events, block_costs=blocks)


def findings(library, month, dataset, code=None, thresholds=Thresholds()):
    """Findings of one check (run through the registry) or of all of them (run_checks)."""
    if code is None:
        return run_checks(month, dataset, library, thresholds)
    return CHECK_BY_CODE[code].run(Context(month, dataset, library, thresholds))


def subjects(found):
    return sorted(f.subject for f in found)


def pence(weekly_pounds, days):
    """weekly x days / 7, half-up, in pence: the allocation's rounding."""
    return (2 * round(weekly_pounds * 100) * days + 7) // 14


# --- the registry and thresholds -------------------------------------------------------------------------

def test_the_registry_has_stable_documented_codes():
    codes = [c.code for c in CHECKS]
    assert len(codes) == len(set(codes)) >= 12
    docs = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    for check in CHECKS:
        assert re.fullmatch(r"HDS-[A-Z0-9-]+", check.code)
        assert check.severity in ("error", "warning")
        assert re.fullmatch(r"\d+(\.\d+)*", check.paragraph)
        assert check.title and callable(check.run)
        # the docs give every code its severity and paragraph
        row = next((line for line in docs.splitlines() if line.startswith(f"| `{check.code}`")), None)
        assert row is not None, f"{check.code} is not in the table of docs/checks.md"
        assert f"| {check.severity} |" in row and f"| {check.paragraph} |" in row, row
        assert f"### `{check.code}`" in docs
    for name, default, _ in Thresholds.describe():
        assert f"`{name}`" in docs and str(default if not isinstance(default, tuple) else default[0]) in docs


def test_thresholds_defaults_and_mapping():
    assert Thresholds() == Thresholds.from_mapping({})
    th = Thresholds.from_mapping({"outlier_k": 5, "late_start_days": 14, "bed_services": ["nursing"],
                                  "outlier_spread_floor": 0})
    assert (th.outlier_k, th.late_start_days, th.bed_services, th.outlier_spread_floor) == (5.0, 14, ("nursing",), 0.0)
    assert Thresholds(outstanding_days=10.0).outstanding_days == 10


@pytest.mark.parametrize("values, named, accepted", [
    ({"late_start": 28}, "late_start", "late_start_days"),
    ({"late_start_days": -1}, "late_start_days", "whole number of days, 0 or more"),
    ({"late_start_days": 2.5}, "late_start_days", "whole number of days"),
    ({"outstanding_days": True}, "outstanding_days", "whole number of days"),
    ({"outstanding_days": "28"}, "outstanding_days", "whole number of days"),
    ({"outlier_k": 0}, "outlier_k", "greater than 0"),
    ({"outlier_k": float("nan")}, "outlier_k", "greater than 0"),
    ({"outlier_min_group": 1}, "outlier_min_group", "2 or more"),
    ({"outlier_spread_floor": 1}, "outlier_spread_floor", "from 0 up to"),
    ({"bed_services": ["interim_bed", "beds"]}, "bed_services", "interim_bed"),
    ({"bed_services": "nursing"}, "bed_services", "list of services"),
    ({"bed_services": []}, "bed_services", "list of services"),
])
def test_thresholds_refuse_unknown_keys_and_bad_values(values, named, accepted):
    with pytest.raises(HdsError) as error:
        Thresholds.from_mapping(values, where="my.toml [checks]")
    text = str(error.value)
    assert text.startswith("my.toml [checks]: ") and named in text and accepted in text


# --- double funding across discharges ---------------------------------------------------------------------

def test_two_overlapping_free_periods_of_one_patient_are_an_error(library):
    dataset = data([discharge("D1", "P1", "2020-10-01", nhs(1)), discharge("D2", "P1", "2020-10-20", nhs(1))],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-11-30", 350),
                    episode("E2", "D2", "interim_bed", "2020-10-20", "2020-11-30", 700)])
    (found,) = findings(library, "2020-10", dataset, "HDS-DOUBLE-FREE")
    assert (found.severity, found.paragraph, found.subject) == ("error", "4.4", "D1+D2")
    assert found.ids == {"patient": ["P1"], "discharge": ["D1", "D2"], "episode": ["E1", "E2"]}
    assert found.amount_pence == pence(700, 12)  # the later discharge's scheme days of October: 20th..31st
    assert "scheme-funded from 2020-10-20 to 2020-10-31" in found.message  # as far as the month shows
    # November: D1's free period runs to 11 November, so the overlap still touches the month
    (november,) = findings(library, "2020-11", dataset, "HDS-DOUBLE-FREE")
    assert november.amount_pence == pence(700, 11)


def test_double_funding_is_found_across_patient_ids_linked_by_nhs_numbers(library):
    # P1 and P2 share one number, P2 and P3 another: P1 and P3 are one person through P2
    dataset = data([discharge("D1", "P1", "2020-10-01", nhs(1)), discharge("D2", "P2", "2020-03-25", nhs(1)),
                    discharge("D3", "P2", "2020-03-26", nhs(2)), discharge("D4", "P3", "2020-10-15", nhs(2))],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-10-31", 350),
                    episode("E4", "D4", "home_care", "2020-10-15", "2020-10-31", 350)],
                   [event("V2", "D2", "care_act_assessment", "2020-03-25"),
                    event("V3", "D3", "care_act_assessment", "2020-03-26")])
    found = findings(library, "2020-10", dataset, "HDS-DOUBLE-FREE")
    assert subjects(found) == ["D1+D4"]
    assert found[0].ids["patient"] == ["P1", "P3"] and "linked by NHS number" in found[0].message
    assert nhs(1) not in found[0].message and nhs(2) not in found[0].message


def test_person_labels_follow_chains_of_shared_numbers():
    patients = np.array([0, 1, 1, 2, 3, 4, 4])
    numbers = np.array([0, 0, 1, 1, -1, 2, -1])
    labels = _person_labels(patients, numbers)
    assert labels.tolist() == [0, 0, 0, 0, 3, 4, 4]


def test_the_median_is_numpys():
    rng = np.random.default_rng(7)
    for size in (1, 2, 3, 10, 11, 1000, 1001):
        values = rng.integers(0, 50_000, size).astype(np.float64)
        assert _median(values) == float(np.median(values))


def test_the_nhs_numbers_a_message_holds_are_found_and_only_they():
    asked = []

    def known(runs):
        asked.append(runs)
        return {nhs(1)} & set(runs)

    assert numbers_in([f"ids {nhs(1)} and {nhs(2)}", "none"], known) == {nhs(1)}
    assert asked == [sorted([nhs(1), nhs(2)])]
    assert numbers_in([f"one digit more: 1{nhs(1)}", "£5 and 123456789"], known) == set()
    assert len(asked) == 1  # no ten ASCII digits together, no other digit: nothing to ask
    arabic = nhs(1).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert numbers_in([f"in other digits {arabic}, £5"], known) == set()
    assert asked[-1] == [arabic]  # asked, and not known
    assert numbers_in([f"in other digits {arabic}"], lambda runs: set(runs)) == {arabic}


def test_the_register_keeps_only_the_discharges_that_link_people():
    register = Register.of(["D1", "D2", "D3", "D4", "D5"], ["P1", "P2", "P3", "P3", "P4"],
                           [nhs(1), nhs(1), nhs(2), nhs(2), ""])
    assert sorted(zip(register.discharge_ids, register.patient_ids)) == [("D1", "P1"), ("D2", "P2")]
    assert register.ranks([nhs(1), nhs(2), "", "12345"]).tolist() == [0, -1, -1, -1]
    assert register.patient_ranks(["P2", "P3"]).tolist() == [1, -1]
    assert Register.of([], [], []).ranks([nhs(1)]).tolist() == [-1]


@pytest.mark.parametrize("second, events", [
    ("2020-11-12", []),  # D1's free period is 2020-10-01 .. 2020-11-11: the second one only touches it
    ("2020-10-20", [("care_act_assessment", "2020-10-15")]),  # D1's free care ended before D2
])
def test_free_periods_that_touch_or_whose_funding_stopped_are_no_finding(library, second, events):
    dataset = data([discharge("D1", "P1", "2020-10-01"), discharge("D2", "P1", second)],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-12-31", 350),
                    episode("E2", "D2", "interim_bed", second, "2020-12-31", 700)],
                   [event(f"V{i}", "D1", kind, date) for i, (kind, date) in enumerate(events)])
    for month in ("2020-10", "2020-11", "2020-12"):
        assert findings(library, month, dataset, "HDS-DOUBLE-FREE") == []


def test_different_people_and_other_months_are_no_double_funding(library):
    dataset = data([discharge("D1", "P1", "2020-09-01", nhs(1)), discharge("D2", "P2", "2020-09-05", nhs(2)),
                    discharge("D3", "P3", "2020-09-01"), discharge("D4", "P3", "2020-09-10")],
                   [episode("E1", "D1", "home_care", "2020-09-01", "2020-10-31", 350),
                    episode("E2", "D2", "home_care", "2020-09-05", "2020-10-31", 350),
                    episode("E3", "D3", "home_care", "2020-09-01", "2020-09-30", 350),
                    episode("E4", "D4", "home_care", "2020-09-10", "2020-09-30", 350)])
    assert subjects(findings(library, "2020-09", dataset, "HDS-DOUBLE-FREE")) == ["D3+D4"]
    assert findings(library, "2020-10", dataset, "HDS-DOUBLE-FREE") == []  # P3's care ended in September


# --- overlapping episodes ---------------------------------------------------------------------------------

def test_overlapping_episodes_of_one_service_are_an_error(library):
    dataset = data([discharge("D1", "P1", "2020-10-01")],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-10-31", 350),
                    episode("E2", "D1", "home_care", "2020-10-15", "2020-10-31", 280)])
    (found,) = findings(library, "2020-10", dataset, "HDS-EPISODE-OVERLAP")
    assert (found.severity, found.paragraph, found.subject) == ("error", "6.5", "E1+E2")
    assert found.ids == {"patient": ["P1"], "discharge": ["D1"], "episode": ["E1", "E2"]}
    assert found.amount_pence == pence(280, 17) and "17 day(s)" in found.message


@pytest.mark.parametrize("first_end, second", [
    ("2020-12-31", episode("E2", "D1", "one_to_one", "2020-10-15", "2020-10-31", 280)),  # another service
    ("2020-10-31", episode("E2", "D1", "home_care", "2020-11-01", "2020-11-30", 280)),  # follows on: touching
    ("2020-12-31", episode("E2", "D1", "home_care", "2020-10-15", "2020-10-31", 280, restart=True)),  # not claimed
    ("2020-12-31", episode("E2", "D1", "home_care", "2020-11-20", "2020-12-31", 280)),  # after the free period
])
def test_episodes_that_do_not_double_claim_are_no_overlap_finding(library, first_end, second):
    dataset = data([discharge("D1", "P1", "2020-10-01")],
                   [episode("E1", "D1", "home_care", "2020-10-01", first_end, 350), second])
    for month in ("2020-10", "2020-11", "2020-12"):
        assert findings(library, month, dataset, "HDS-EPISODE-OVERLAP") == []


def test_an_overlap_belongs_to_the_months_of_its_doubled_days(library):
    dataset = data([discharge("D1", "P1", "2020-09-01")],
                   [episode("E1", "D1", "home_care", "2020-09-01", "2020-09-30", 350),
                    episode("E2", "D1", "home_care", "2020-09-15", "2020-10-31", 350)])
    assert subjects(findings(library, "2020-09", dataset, "HDS-EPISODE-OVERLAP")) == ["E1+E2"]
    assert findings(library, "2020-10", dataset, "HDS-EPISODE-OVERLAP") == []
    # ... but October still claims E2's days beyond six weeks of home care in total
    (over,) = findings(library, "2020-10", dataset, "HDS-FREE-DAYS-OVER")
    assert over.subject == "D1/home_care" and over.ids["episode"] == ["E1", "E2"]
    assert "58 scheme-funded days" in over.message and "42 days" in over.message  # 30 + 16 + 12
    assert over.amount_pence == pence(350, 12)  # E2's October days, 1st..12th


# --- free days per service -----------------------------------------------------------------------------

def test_split_episodes_within_the_free_period_are_no_finding(library):
    dataset = data([discharge("D1", "P1", "2020-10-01"), discharge("D2", "P2", "2021-08-02")],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-10-20", 350),
                    episode("E2", "D1", "home_care", "2020-10-21", "2020-11-30", 300),
                    episode("E3", "D2", "home_care", "2021-08-02", "2021-08-31", 300),
                    episode("E4", "D2", "home_care", "2021-08-10", "2021-08-31", 300)])
    assert findings(library, "2020-11", dataset, "HDS-FREE-DAYS-OVER") == []  # exactly 42 days
    (hds4,) = findings(library, "2021-08", dataset, "HDS-FREE-DAYS-OVER")  # Scheme 4: 28 days
    assert hds4.subject == "D2/home_care" and "28 days of its free period" in hds4.message


# --- excluded days ---------------------------------------------------------------------------------------

def test_care_before_discharge_and_after_death_are_found_with_their_ids(library):
    dataset = data([discharge("D1", "P1", "2020-10-05"), discharge("D2", "P2", "2020-10-01"),
                    discharge("D3", "P3", "2020-10-05"), discharge("D4", "P4", "2020-10-01")],
                   [episode("E1", "D1", "home_care", "2020-10-03", "2020-10-31", 350),
                    episode("E2", "D2", "interim_bed", "2020-10-01", "2020-10-31", 700),
                    episode("E3", "D3", "home_care", "2020-10-05", "2020-10-31", 350),
                    episode("E4", "D4", "interim_bed", "2020-10-01", "2020-10-10", 700)],
                   [event("V2", "D2", "death", "2020-10-10"), event("V4", "D4", "death", "2020-10-10")])
    (before,) = findings(library, "2020-10", dataset, "HDS-BEFORE-DISCHARGE")
    assert (before.subject, before.severity, before.paragraph, before.amount_pence) == ("E1", "warning", "1.5", 0)
    assert before.ids == {"patient": ["P1"], "discharge": ["D1"], "episode": ["E1"]}
    assert "2 day(s)" in before.message and pence(350, 2) == 10000 and "£100.00" in before.message
    (after,) = findings(library, "2020-10", dataset, "HDS-AFTER-DEATH")  # E4 ends on the day of death
    assert (after.subject, after.paragraph) == ("E2", "4.5")
    assert after.ids == {"patient": ["P2"], "discharge": ["D2"], "episode": ["E2"], "event": ["V2"]}
    assert "21 day(s)" in after.message
    assert findings(library, "2020-11", dataset, "HDS-AFTER-DEATH") == []


# --- weekly cost outliers ----------------------------------------------------------------------------------

def outlier_data(extra=()):
    """44 home-care episodes in October: 20 at £280, 20 at £320 and four probes around the band.
    Median £300, MAD £20: with k = 3.5 the band is 300 ± 3.5 x 1.4826 x 20 = £196.218 .. £403.782."""
    costs = [280] * 20 + [320] * 20 + [196.22, 196.21, 403.78, 403.79]
    ds, es = [], []
    for n, cost in enumerate(costs):
        ds.append(discharge(f"D{n:02d}", f"P{n:02d}", "2020-10-01"))
        es.append(episode(f"E{n:02d}", f"D{n:02d}", "home_care", "2020-10-01", "2020-10-31", cost))
    for n, cost in enumerate(extra):  # a small service: too few episodes for a band
        ds.append(discharge(f"L{n}", f"Q{n}", "2020-10-01"))
        es.append(episode(f"F{n}", f"L{n}", "live_in", "2020-10-01", "2020-10-31", cost))
    return data(ds, es)


def test_weekly_costs_outside_the_robust_band_are_found(library):
    dataset = outlier_data(extra=[800, 850, 900, 10_000])
    found = findings(library, "2020-10", dataset, "HDS-COST-OUTLIER")
    assert subjects(found) == ["E41", "E43"]  # £196.21 and £403.79; £196.22 and £403.78 are just inside
    low = next(f for f in found if f.subject == "E41")
    assert low.amount_pence == pence(196.21, 31) and low.paragraph == "6.3"
    assert "£196.21 a week" in low.message and "£300.00" in low.message and "£196.22 to £403.78" in low.message
    # a wider band, or a bigger minimum group, and nothing is found
    assert findings(library, "2020-10", dataset, "HDS-COST-OUTLIER", Thresholds(outlier_k=3.6)) == []
    assert findings(library, "2020-10", dataset, "HDS-COST-OUTLIER", Thresholds(outlier_min_group=45)) == []
    assert findings(library, "2020-11", dataset, "HDS-COST-OUTLIER") == []  # no days in November


def test_a_zero_spread_falls_back_to_the_floor(library):
    ds = [discharge(f"D{n}", f"P{n}", "2020-10-01") for n in range(25)]
    es = [episode(f"E{n}", f"D{n}", "home_care", "2020-10-01", "2020-10-31", 300) for n in range(23)]
    es += [episode("E23", "D23", "home_care", "2020-10-01", "2020-10-31", 352),  # 300 + 3.5 x 15 = 352.50
           episode("E24", "D24", "home_care", "2020-10-01", "2020-10-31", 353)]
    found = findings(library, "2020-10", data(ds, es), "HDS-COST-OUTLIER")
    assert subjects(found) == ["E24"]


# --- late and post-cut-off packages -------------------------------------------------------------------------

def test_a_package_starting_after_its_scheme_closed_is_found(library):
    dataset = data([discharge("D1", "P1", "2021-03-30"), discharge("D2", "P2", "2021-03-30"),
                    discharge("D3", "P3", "2021-03-30")],
                   [episode("E1", "D1", "home_care", "2021-04-08", "2021-05-31", 300),  # 8 days after 31 March
                    episode("E2", "D2", "home_care", "2021-04-07", "2021-05-31", 300),  # 7 days: inside the grace
                    episode("E3", "D3", "interim_bed", "2021-03-30", "2021-04-09", 700),  # one run of care
                    episode("E4", "D3", "home_care", "2021-04-10", "2021-05-31", 300)])
    (found,) = findings(library, "2021-04", dataset, "HDS-AFTER-CUTOFF")
    assert (found.subject, found.paragraph) == ("E1", "7.1")
    assert found.amount_pence == pence(300, 23)  # 8 .. 30 April
    assert "HDS2" in found.message and "2021-03-31" in found.message
    assert subjects(findings(library, "2021-04", dataset, "HDS-AFTER-CUTOFF",
                             Thresholds(cutoff_grace_days=6))) == ["E1", "E2"]
    assert findings(library, "2021-04", dataset, "HDS-LATE-START") == []


def test_care_starting_long_after_its_discharge_is_found(library):
    dataset = data([discharge("D1", "P1", "2020-06-01"), discharge("D2", "P2", "2020-06-01"),
                    discharge("D3", "P3", "2020-06-01"), discharge("D4", "P4", "2020-09-01")],
                   [episode("E1", "D1", "home_care", "2020-07-01", "2020-07-31", 300),  # 30 days later
                    episode("E2", "D2", "home_care", "2020-06-29", "2020-07-31", 300),  # 28 days: not late
                    episode("E3", "D3", "interim_bed", "2020-06-01", "2020-06-30", 700),  # one run of care
                    episode("E5", "D3", "home_care", "2020-07-01", "2020-07-31", 300),
                    episode("E4", "D4", "home_care", "2020-10-25", "2020-11-30", 300)])  # late, after P
    (found,) = findings(library, "2020-07", dataset, "HDS-LATE-START")
    assert (found.subject, found.paragraph, found.amount_pence) == ("E1", "1.5", pence(300, 31))
    assert "30 days after discharge D1" in found.message
    assert findings(library, "2020-10", dataset, "HDS-LATE-START") == []  # E4 has no scheme days
    assert subjects(findings(library, "2020-07", dataset, "HDS-LATE-START",
                             Thresholds(late_start_days=27))) == ["E1", "E2"]


# --- assessments outstanding --------------------------------------------------------------------------------

def test_an_outstanding_care_act_assessment_is_found_from_the_threshold_on(library):
    # free period 2020-09-01 .. 2020-10-12: by 31 October 19 days have passed since it ended
    dataset = data([discharge("D1", "P1", "2020-09-01"), discharge("D2", "P2", "2020-09-01"),
                    discharge("D3", "P3", "2020-09-01")],
                   [episode("E1", "D1", "interim_bed", "2020-09-01", None, 700),
                    episode("E2", "D2", "interim_bed", "2020-09-01", None, 700),
                    episode("E3", "D3", "interim_bed", "2020-09-01", None, 700)],
                   [event("V2", "D2", "care_act_assessment", "2020-11-20"),
                    event("V3", "D3", "care_act_assessment", "2020-12-05")])
    assert findings(library, "2020-10", dataset, "HDS-CARE-ACT-OUTSTANDING", Thresholds(outstanding_days=20)) == []
    found = findings(library, "2020-10", dataset, "HDS-CARE-ACT-OUTSTANDING", Thresholds(outstanding_days=19))
    assert subjects(found) == ["D1", "D2", "D3"]
    assert found[0].amount_pence == 0 and found[0].paragraph == "4.13"
    assert "19 days after its free period ended on 2020-10-12" in found[0].message
    assert f"pays {'£1,900.00'} for 19 day(s)" in found[0].message
    # by the end of November D2 has been assessed; D3's assessment came after the month
    assert subjects(findings(library, "2020-11", dataset, "HDS-CARE-ACT-OUTSTANDING")) == ["D1", "D3"]
    assert findings(library, "2020-11", dataset, "HDS-CHC-OUTSTANDING") == []


def test_an_outstanding_chc_decision_is_found_with_its_checklist(library):
    dataset = data([discharge("D1", "P1", "2020-09-01"), discharge("D2", "P2", "2020-09-01")],
                   [episode("E1", "D1", "nursing", "2020-09-01", None, 900),
                    episode("E2", "D2", "nursing", "2020-09-01", None, 900)],
                   [event("K1", "D1", "chc_checklist", "2020-09-10", "positive"),
                    event("K2", "D2", "chc_checklist", "2020-09-10", "positive"),
                    event("C2", "D2", "chc_decision", "2020-11-05", "not_eligible")])
    (chc,) = findings(library, "2020-11", dataset, "HDS-CHC-OUTSTANDING")
    assert chc.subject == "D1" and chc.ids["event"] == ["K1"] and "the CCG pays" in chc.message
    # D2's decision came (not eligible): the council pays while the Care Act assessment is outstanding
    assert subjects(findings(library, "2020-11", dataset, "HDS-CARE-ACT-OUTSTANDING")) == ["D2"]


# --- block-booked beds ----------------------------------------------------------------------------------------

def test_block_beds_and_individual_beds_of_one_organisation_are_found(library):
    dataset = data([discharge(f"D{n}", f"P{n}", "2020-10-01") for n in range(1, 6)],
                   [episode("E1", "D1", "interim_bed", "2020-10-01", "2020-11-30", 700),
                    episode("E2", "D2", "home_care", "2020-10-01", "2020-10-31", 700),  # not a bed
                    episode("E3", "D3", "interim_bed", "2020-10-01", "2020-10-31", 700, organisation="OCCG"),
                    episode("E4", "D4", "nursing", "2020-10-01", "2020-10-31", 900, bau=True),  # not claimed
                    episode("E5", "D5", "nursing", "2020-10-01", "2020-11-30", 70)],
                   blocks=[block("B1", "OCC", "2020-10-11", "2020-12-31", 82000),
                           block("B2", "OCC", "2020-11-01", "2020-11-30", 300)])
    (found,) = findings(library, "2020-10", dataset, "HDS-BLOCK-BEDS")
    assert (found.subject, found.paragraph) == ("B1", "5.5.2")
    assert found.ids["block"] == ["B1"] and found.ids["episode"] == ["E1", "E5"]
    beds = pence(700, 21) + pence(70, 21)  # 11 .. 31 October
    block_october = (2 * 8_200_000 * 21 + 82) // (2 * 82)  # 21 of the block's 82 days
    assert found.amount_pence == min(beds, block_october) == beds == 231_000
    assert "(£21,000.00 this month)" in found.message and "claim £2,310.00" in found.message
    # E1 and E5 leave the free period on 12 November; B2 overlaps only those days
    (november_b1, november_b2) = findings(library, "2020-11", dataset, "HDS-BLOCK-BEDS")
    assert november_b2.subject == "B2" and november_b2.ids["episode"] == ["E1", "E5"]
    assert november_b2.amount_pence == 30_000  # the block's £300 is less than the beds' 11 days
    assert findings(library, "2020-11", dataset, "HDS-BLOCK-BEDS", Thresholds(bed_services=("residential",))) == []


# --- identity --------------------------------------------------------------------------------------------------

def test_one_nhs_number_under_two_patient_ids_is_found_without_the_number(library):
    dataset = data([discharge("D1", "P1", "2020-10-01", nhs(7)), discharge("D2", "P2", "2020-06-01", nhs(7)),
                    discharge("D3", "P3", "2020-10-01", nhs(8)), discharge("D4", "P3", "2020-06-01", nhs(8)),
                    discharge("D5", "P5", "2020-06-01", nhs(9)), discharge("D6", "P6", "2020-06-01", nhs(9))],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-10-31", 300),
                    episode("E3", "D3", "home_care", "2020-10-01", "2020-10-31", 300),
                    episode("E5", "D5", "home_care", "2020-06-01", "2020-06-30", 300),
                    episode("E6", "D6", "home_care", "2020-06-01", "2020-06-30", 300)],
                   [event(f"V{n}", f"D{n}", "care_act_assessment", "2020-06-01") for n in (2, 4)])
    (found,) = findings(library, "2020-10", dataset, "HDS-DUP-NHS")  # P3 reuses its own number; P5+P6 not in Oct
    assert (found.subject, found.severity, found.amount_pence) == ("P1+P2", "warning", 0)
    assert found.ids == {"patient": ["P1", "P2"], "discharge": ["D1", "D2"]}
    assert nhs(7) not in found.message and not re.search(r"\d{10}", found.message)
    assert subjects(findings(library, "2020-06", dataset, "HDS-DUP-NHS")) == ["P5+P6"]


def test_claimed_care_without_an_nhs_number_is_found(library):
    dataset = data([discharge("D1", "P1", "2020-10-01"), discharge("D2", "P2", "2020-10-01", nhs(2)),
                    discharge("D3", "P3", "2020-10-01")],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-10-31", 350),
                    episode("E1b", "D1", "one_to_one", "2020-10-10", "2020-10-19", 140),
                    episode("E2", "D2", "home_care", "2020-10-01", "2020-10-31", 350),
                    episode("E3", "D3", "home_care", "2020-10-01", "2020-10-31", 350, restart=True)])
    (found,) = findings(library, "2020-10", dataset, "HDS-NO-NHS")
    assert found.subject == "D1" and found.ids["episode"] == ["E1", "E1b"]
    assert found.amount_pence == pence(350, 31) + pence(140, 10) and "2 line(s)" in found.message


# --- running them all -------------------------------------------------------------------------------------------

def test_run_checks_sorts_errors_first_then_code_and_subject(library):
    dataset = data([discharge("D1", "P1", "2020-10-01"), discharge("D2", "P1", "2020-10-20"),
                    discharge("D3", "P3", "2020-10-05", nhs(3))],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-11-30", 350),
                    episode("E2", "D2", "interim_bed", "2020-10-20", "2020-11-30", 700),
                    episode("E3", "D3", "home_care", "2020-10-01", "2020-10-31", 350),
                    episode("E4", "D3", "home_care", "2020-10-10", "2020-10-31", 350)])
    found = run_checks("2020-10", dataset, library)
    assert [(f.severity, f.code, f.subject) for f in found] == [
        ("error", "HDS-DOUBLE-FREE", "D1+D2"),
        ("error", "HDS-EPISODE-OVERLAP", "E3+E4"),
        ("warning", "HDS-BEFORE-DISCHARGE", "E3"),
        ("warning", "HDS-FREE-DAYS-OVER", "D3/home_care"),
        ("warning", "HDS-NO-NHS", "D1"),
        ("warning", "HDS-NO-NHS", "D2"),
    ]
    assert all(isinstance(f, Finding) and f.message.endswith(".") for f in found)


def test_an_nhs_number_used_as_an_id_is_masked_in_messages(library):
    number = nhs(5)
    dataset = data([discharge("D1", number, "2020-10-01"), discharge("D2", "P2", "2020-10-01", number)],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-10-31", 350),
                    episode("E2", "D2", "home_care", "2020-10-01", "2020-10-31", 350)])
    found = run_checks("2020-10", dataset, library)
    assert found and all(number not in f.message for f in found)
    assert any("[NHS number removed]" in f.message for f in found)


def test_empty_data_and_a_month_without_care_give_no_findings(library):
    assert run_checks("2020-10", Data.empty(), library) == []
    dataset = data([discharge("D1", "P1", "2020-10-01")], [episode("E1", "D1", "home_care", "2020-10-01",
                                                                   "2020-10-31", 350)])
    assert run_checks("2021-10", dataset, library) == []


def test_accepting_findings_by_code_and_subject():
    one = Finding("HDS-NO-NHS", "warning", "3.5", "D1", {}, 0, "x.")
    two = Finding("HDS-DOUBLE-FREE", "error", "4.4", "D1+D2", {}, 0, "y.")
    still, taken, unknown = split_accepted([one, two], ["hds-double-free:D1+D2", "HDS-NO-NHS:D9"])
    assert (still, taken, unknown) == ([one], [two], ["HDS-NO-NHS:D9"])
    assert two.key == "HDS-DOUBLE-FREE:D1+D2" and two.as_dict()["subject"] == "D1+D2"


def test_a_finding_naming_many_records_fits_a_csv_cell_and_an_excel_cell():
    """A finding about a whole organisation names every episode (180,000 at national scale): the CSV and
    the pack show the first ids and how many more, in a cell csv and Excel can hold; JSON keeps all."""
    import csv
    import io

    from claims.report import views
    from claims.report.pack import findings as pack_findings

    episodes = [f"E{n:07d}" for n in range(20_000)]
    big = Finding("HDS-BLOCK-BEDS", "warning", "5.5.2", "B1", {"block": ["B1"], "episode": episodes}, 100, "z.")
    text = views.to_csv(views.finding_records([big]), views.FINDING_COLUMNS)
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["episode"].startswith("E0000000 E0000001 ") and "E0000100" not in row["episode"]
    assert row["episode"].endswith("... and 19,900 more ('hds check --json' lists them all)")
    assert row["block"] == "B1" and len(row["episode"]) < 32_767
    assert views.finding_json([big])[0]["ids"]["episode"] == episodes
    (cell,) = pack_findings([big]).rows
    assert cell["ids"].startswith("block B1; episode E0000000, E0000001, ") and len(cell["ids"]) < 32_767
    assert "19,900 more" in cell["ids"]
    few = Finding("HDS-BLOCK-BEDS", "warning", "5.5.2", "B1", {"episode": episodes[:100]}, 0, "z.")
    assert views.finding_records([few])[0]["episode"] == " ".join(episodes[:100])


# --- the generated sample ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    from hds.load import read_data
    return read_data(SAMPLE_DIR, SCHEMES)[0]


def test_the_sample_for_october_2020(library, sample):
    started = time.perf_counter()
    found = run_checks("2020-10", sample, library)
    assert time.perf_counter() - started < 5  # about 40 ms; a generous bound for slow machines
    numbers = set(sample.discharges["nhs_number"].tolist()) - {""}
    assert all(not (set(re.findall(r"\d{10}", f.message)) & numbers) for f in found)
    assert not any(n in f.subject for f in found for n in numbers)
    codes = {f.code for f in found}
    assert {"HDS-AFTER-DEATH", "HDS-NO-NHS", "HDS-BLOCK-BEDS"} <= codes

    # the excluded days of the findings are exactly the allocation's excluded days of October
    month = month_number("2020-10")
    rows = allocations(MemorySource(sample).period(month_start(month), month_end(month)), library, month, month)
    excluded = rows.take(rows["funder"] == "excluded")
    ctx = Context("2020-10", sample, library)
    reported = {f.subject: int(re.search(r"has (\d+) day", f.message).group(1)) for f in found
                if f.code in ("HDS-BEFORE-DISCHARGE", "HDS-AFTER-DEATH")}
    assert reported == dict(zip(excluded["episode_id"].tolist(), excluded["days"].tolist()))
    assert "E0000667" in reported  # open-ended care after a death in July 2020

    # the context decides the same allocation as the claim does, and its scheme money agrees line by line
    def keyed(table):
        return sorted(zip(*(table[c].tolist() for c in ("episode_id", "block_id", "funder", "days", "amount_pence"))))
    assert keyed(ctx.allocation) == keyed(rows)
    hds = rows.take((rows["funder"] == "hds") & (rows["block_id"] == ""))
    mine = dict(zip(ctx.sub.episodes["episode_id"].tolist(), ctx.month_pence().tolist()))
    assert {k: v for k, v in mine.items() if v} == dict(zip(hds["episode_id"].tolist(), hds["amount_pence"].tolist()))
    no_nhs = {d for d, n in zip(sample.discharges["discharge_id"].tolist(), sample.discharges["nhs_number"].tolist())
              if not n}
    assert {f.subject for f in found if f.code == "HDS-NO-NHS"} == set(hds["discharge_id"].tolist()) & no_nhs
    assert sum(f.amount_pence for f in found if f.code == "HDS-NO-NHS") == int(
        hds["amount_pence"][np.isin(hds["discharge_id"], list(no_nhs))].sum())


def test_the_samples_early_episodes_are_found_in_november(library, sample):
    found = run_checks("2020-11", sample, library)
    assert {f.subject for f in found if f.code == "HDS-BEFORE-DISCHARGE"} == {"E0002229", "E0002339"}


def test_a_readmission_after_the_first_package_stopped_is_not_double_funding(library):
    """The free periods overlap, but the first discharge's funded care stopped before the second
    discharge: no day is funded twice."""
    dataset = data([discharge("D1", "P1", "2020-10-01", nhs(1)), discharge("D2", "P1", "2020-10-20", nhs(1))],
                   [episode("E1", "D1", "home_care", "2020-10-01", "2020-10-14", 350),
                    episode("E2", "D2", "interim_bed", "2020-10-20", "2020-11-30", 700)])
    assert findings(library, "2020-10", dataset, "HDS-DOUBLE-FREE") == []


def test_double_funding_belongs_to_the_months_of_the_doubly_funded_days(library):
    dataset = data([discharge("D1", "P1", "2020-09-01", nhs(1)), discharge("D2", "P1", "2020-09-20", nhs(1))],
                   [episode("E1", "D1", "home_care", "2020-09-01", "2020-09-30", 350),
                    episode("E2", "D2", "interim_bed", "2020-09-20", "2020-11-30", 700)])
    assert len(findings(library, "2020-09", dataset, "HDS-DOUBLE-FREE")) == 1
    assert findings(library, "2020-10", dataset, "HDS-DOUBLE-FREE") == []  # October funds one package only


def test_submit_lists_few_warnings_whole_and_many_as_a_sample_and_a_count():
    from types import SimpleNamespace

    from claims.commands.submitting import open_warnings

    def submitted(findings):
        return SimpleNamespace(findings=findings)

    few = [{"code": "HDS-NO-NHS", "subject": f"D{n:07d}", "message": "no number", "severity": "warning",
            "acknowledged": ""} for n in range(4)]
    assert [line.split()[0] for line in open_warnings(submitted(few), "2020-10")] == [
        f"HDS-NO-NHS:D{n:07d}" for n in range(4)]

    many = few * 10 + [{"code": "HDS-AFTER-DEATH", "subject": "E0000001", "message": "after death",
                        "severity": "warning", "acknowledged": ""}]
    shown = open_warnings(submitted(many), "2020-10")
    assert shown[:3] == [f"HDS-NO-NHS:D{n:07d} no number" for n in range(3)]
    assert shown[3] == ("... and 37 more HDS-NO-NHS warning(s); 'hds check --month 2020-10 --csv' lists them all")
    assert shown[4:] == ["HDS-AFTER-DEATH:E0000001 after death"]
    # acknowledged warnings and errors are not repeated as open warnings
    done = few + [{**few[0], "acknowledged": "accepted by x: reason"}, {**few[1], "severity": "error"}]
    assert len(open_warnings(submitted(done), "2020-10")) == 4
