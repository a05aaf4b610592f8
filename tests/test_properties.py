"""Properties over random timelines, and agreement with an independent reading of RULES.md."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.allocate import allocate, decide
from claims.claim import build_claim
from hds.contract import SERVICES, Discharge, Episode, Event
from hds.data import Data, MemorySource
from tests.scalar_reference import month_last_day
from hds.days import day_number, month_index, to_date
from tests import reference

# 300 examples for these properties, set on each test: a profile loaded here (settings.load_profile) was the
# default of every Hypothesis test of the session once this module was collected, not of these alone
PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

EVENT_OUTCOMES = {
    "care_act_assessment": [""], "death": [""], "self_funder_charge_from": [""],
    "chc_checklist": ["positive", "negative"], "chc_decision": ["chc", "fnc", "not_eligible"],
}


@st.composite
def discharges(draw, discharge_id="D1", patient_id="P1"):
    D = draw(st.dates(dt.date(2020, 3, 1), dt.date(2022, 5, 31)))
    discharge = Discharge(discharge_id, patient_id, D, draw(st.sampled_from(["hospital", "admission_avoidance"])))
    episodes = []
    for n in range(draw(st.integers(1, 3))):
        start = D + dt.timedelta(days=draw(st.integers(-5, 60)))
        length = draw(st.one_of(st.none(), st.integers(1, 150)))
        episodes.append(Episode(
            f"{discharge_id}-E{n}", discharge_id, draw(st.sampled_from(SERVICES)), start,
            None if length is None else start + dt.timedelta(days=length - 1),
            draw(st.integers(0, 250_000)), draw(st.sampled_from(["OCC", "OCCG"])),
            draw(st.integers(0, 5)) == 0,
            draw(st.integers(0, 9)) == 0,
        ))
    events = []
    for kind, outcomes in EVENT_OUTCOMES.items():
        for n in range(draw(st.integers(0, 2))):
            day = D + dt.timedelta(days=draw(st.integers(-10, 130)))
            events.append(Event(f"{discharge_id}-{kind}-{n}", discharge_id, kind, day, draw(st.sampled_from(outcomes))))
    months_on = draw(st.integers(0, 6))
    horizon_day = D + dt.timedelta(days=31 * months_on)
    horizon = month_last_day(f"{horizon_day.year:04d}-{horizon_day.month:02d}")
    return discharge, tuple(episodes), tuple(events), horizon


def decided_case(library, case):
    discharge, episodes, events, horizon = case
    data = Data.from_records(discharges=(discharge,), episodes=episodes, events=events).linked()
    return decide(data, library, day_number(horizon))


# Three properties of one discharge, checked on the same 300 generated discharges: generating a discharge costs
# twice what deciding it does, so one test draws each and decides it once, then holds it to all three (they were
# three tests, each drawing and deciding its own 300; each property still sees 300 discharges of the same strategy).

@PROPERTIES
@given(discharges())
def test_one_discharge_agrees_with_rules_md_lands_every_day_once_and_keeps_the_free_period(library, case):
    decided = decided_case(library, case)
    every_day_lands_in_exactly_one_funder(case, decided)
    free_period_limits_and_assessment(case, decided)
    agrees_with_independent_reading_of_rules(case, decided)


def agrees_with_independent_reading_of_rules(case, decided):
    discharge, episodes, events, horizon = case
    rows = allocate(decided, 0, int(month_index([day_number(horizon)])[0]))
    ours = {(e, m, f): (d, a) for e, m, f, d, a in rows.rows(["episode_id", "month", "funder", "days", "amount_pence"])}
    theirs = {k: (days, int(amount * 100)) for k, (days, amount) in
              reference.allocate(discharge, episodes, events, horizon).items()}
    assert ours == theirs


def every_day_lands_in_exactly_one_funder(case, decided):
    _, episodes, _, horizon = case
    s, e = decided.segments, decided.data.episodes
    for i in range(len(e)):
        mine = s.episode == i
        last = min(e["end_date"][i], day_number(horizon))
        assert int(s.days[mine].sum()) == max(0, last - e["start_date"][i] + 1)
        assert (s.first[mine][1:] == s.last[mine][:-1] + 1).all()


def free_period_limits_and_assessment(case, decided):
    discharge, _, _, _ = case
    t, s, e = decided.timelines, decided.segments, decided.data.episodes
    limit = {"HDS2": 42, "HDS3": 42, "HDS4": 28}
    scheme = decided.scheme_of_discharge()[0]
    for k in range(len(s)):
        if decided.rules[decided.rule[k]].funder != "hds":
            continue
        if scheme in limit:
            assert to_date(s.last[k]) < discharge.discharge_date + dt.timedelta(days=limit[scheme])
        if s.last[k] >= t.A[0]:
            assert e["service"][s.episode[k]] == "isolation"


# 150 examples, as the columnar-core test below draws from the same list strategy: each example is a claim over
# one to six discharges, and the three sums are checked over every line of it (300 examples took 2.5 s, three
# fifths of it drawing the discharges).
@settings(PROPERTIES, max_examples=150)
@given(st.lists(discharges(), min_size=1, max_size=6), st.sampled_from(["2020-10", "2021-01", "2021-08"]))
def test_claim_total_is_the_sum_of_its_lines(library, cases, month):
    dataset = Data.from_records(**combined(cases))
    claim = build_claim(MemorySource(dataset), library, month)
    assert claim.total_pence == int(claim.lines["amount_pence"].sum())
    assert sum(claim.totals_by("scheme").values()) == claim.total_pence
    assert sum(claim.totals_by("organisation").values()) == claim.total_pence


def combined(cases) -> dict:
    """Several generated discharges as one dataset's records, ids made distinct."""
    return {
        "discharges": tuple(Discharge(f"D{i}", f"P{i % 2}", c[0].discharge_date, c[0].kind) for i, c in enumerate(cases)),
        "episodes": tuple(e.__class__(**{**e.__dict__, "episode_id": f"{i}-{e.episode_id}", "discharge_id": f"D{i}"})
                          for i, c in enumerate(cases) for e in c[1]),
        "events": tuple(v.__class__(**{**v.__dict__, "event_id": f"{i}-{v.event_id}", "discharge_id": f"D{i}"})
                        for i, c in enumerate(cases) for v in c[2]),
    }


@settings(PROPERTIES, max_examples=150)
@given(st.lists(discharges(), min_size=1, max_size=8))
def test_columnar_core_agrees_with_the_scalar_engine_to_the_segment_and_rule(library, cases):
    """The columnar core against the one-record-at-a-time engine it replaced (tests/scalar_reference.py):
    the same segments, each decided by the same rule, for many discharges at once."""
    from rules.engine import engine_for
    from tests import scalar_reference as scalar

    records = combined(cases)
    horizon = max(c[3] for c in cases)
    decided = decide(Data.from_records(**records).linked(), library, day_number(horizon))
    s, e = decided.segments, decided.data.episodes
    ours = [(e["episode_id"][s.episode[k]], to_date(s.first[k]), to_date(s.last[k]), decided.rules[decided.rule[k]].id)
            for k in range(len(s))]
    allocator = scalar.Allocator(scalar.Dataset(records["discharges"], records["episodes"], records["events"]), library,
                                 engine_for(library))
    theirs = [(episode.episode_id, d.segment.first, d.segment.last, d.rule.id)
              for decision in allocator.decide(sorted(r.discharge_id for r in records["discharges"]), horizon)
              for episode, cut in decision.episodes for d in cut]
    assert ours == theirs
