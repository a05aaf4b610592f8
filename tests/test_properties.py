"""Properties over random timelines, and agreement with an independent reading of RULES.md."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.allocation import Allocator, episode_allocations
from claims.claim import build_claim
from hds.dates import month_last_day
from hds.records import SERVICES, Dataset, Discharge, Episode, Event
from tests import reference

settings.register_profile("hds", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("hds")

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


def decide(library, engine, case):
    discharge, episodes, events, horizon = case
    dataset = Dataset((discharge,), episodes, events)
    return Allocator(dataset, library, engine).decide([discharge.discharge_id], horizon)


@given(discharges())
def test_agrees_with_independent_reading_of_rules(library, engine, case):
    discharge, episodes, events, horizon = case
    rows = episode_allocations(decide(library, engine, case))
    ours = {(r.episode_id, r.month, r.funder): (r.days, r.amount_pence) for r in rows}
    theirs = {k: (days, int(amount * 100)) for k, (days, amount) in
              reference.allocate(discharge, episodes, events, horizon).items()}
    assert ours == theirs


@given(discharges())
def test_every_day_lands_in_exactly_one_funder(library, engine, case):
    _, episodes, _, horizon = case
    (decision,) = decide(library, engine, case)
    for episode, decided in decision.episodes:
        last = min(episode.end_date, horizon) if episode.end_date else horizon
        expected = max(0, (last - episode.start_date).days + 1)
        assert sum(d.segment.days for d in decided) == expected
        for before, after in zip(decided, decided[1:]):
            assert after.segment.first == before.segment.last + dt.timedelta(days=1)


@given(discharges())
def test_free_period_limits_and_assessment(library, engine, case):
    discharge, _, _, _ = case
    (decision,) = decide(library, engine, case)
    t = decision.timeline
    limit = {"HDS2": 42, "HDS3": 42, "HDS4": 28}
    for episode, decided in decision.episodes:
        for d in decided:
            if d.funder != "hds":
                continue
            if t.scheme and t.scheme.name in limit:
                assert d.segment.last < discharge.discharge_date + dt.timedelta(days=limit[t.scheme.name])
            if t.A and d.segment.last >= t.A:
                assert episode.service == "isolation"


@given(st.lists(discharges(), min_size=1, max_size=6), st.sampled_from(["2020-10", "2021-01", "2021-08"]))
def test_claim_total_is_the_sum_of_its_lines(library, cases, month):
    dataset = Dataset(
        tuple(Discharge(f"D{i}", f"P{i % 2}", c[0].discharge_date, c[0].kind) for i, c in enumerate(cases)),
        tuple(e.__class__(**{**e.__dict__, "episode_id": f"{i}-{e.episode_id}", "discharge_id": f"D{i}"})
              for i, c in enumerate(cases) for e in c[1]),
        tuple(v.__class__(**{**v.__dict__, "event_id": f"{i}-{v.event_id}", "discharge_id": f"D{i}"})
              for i, c in enumerate(cases) for v in c[2]),
    )
    claim = build_claim(dataset, library, month)
    assert claim.total_pence == sum(line.amount_pence for line in claim.lines)
    assert sum(claim.totals_by("scheme").values()) == claim.total_pence
    assert sum(claim.totals_by("organisation").values()) == claim.total_pence
