"""Dated parameters: schemes derived from data, values by discharge date, snapshots, renamed ids, wording."""

import datetime as dt
import json
import re
import textwrap
import time

import numpy as np
import pytest

from claims.allocate import allocations
from claims.claim import build_claim
from claims.trace import build_trace, render_trace
from hds.contract import Discharge, Episode, Event
from hds.data import Data, MemorySource
from hds.days import day_number, month_end, month_number, month_start
from hds.errors import HdsError
from hds.load import read_data
from hds.schemes import Scheme, describe_free_period, free_period_wording, locate
from rules import PARAMETER_DIR
from rules.export import export_rules
from rules.language import RulebookError
from rules.library import library_from_snapshot, library_snapshot, load_library, renamed_rules
from tests import reference

D = dt.date


def exported(tmp_path, name="rules"):
    folder = tmp_path / name
    export_rules(folder)
    return folder


def add_value(folder, scheme_file, parameter, applies_from, value, reference="A change made for this test"):
    """Append a dated value to a parameter (it is the last one in the shipped files that this test edits)."""
    path = folder / "parameters" / scheme_file
    text = path.read_text()
    assert text.rstrip().endswith("reference: " + text.rstrip().rsplit("reference: ", 1)[1])
    assert list(re.finditer(r"^(\w+):$", text, re.M))[-1].group(1) == parameter
    path.write_text(text.rstrip() + f"\n    {applies_from}:\n      value: {value}\n      reference: {reference}\n")


HDS5 = """
    # A fifth scheme, added as data only: no Python, no rulebook of its own.
    scheme: HDS5
    description: Hospital Discharge Scheme 5 (a test scheme, discharges April to September 2022)
    first_discharge:
      description: First discharge date the scheme covers
      unit: date
      values:
        2022-04-01: {value: 2022-04-01, reference: A test of adding a scheme}
    last_discharge:
      description: Last discharge date the scheme covers
      unit: date
      values:
        2022-04-01: {value: 2022-09-30, reference: A test of adding a scheme}
    free_period_days:
      description: Longest free period in days
      unit: day
      values:
        2022-04-01: {value: 14, reference: A test of adding a scheme}
    """


# ---- the shipped parameters -------------------------------------------------

def test_the_parameters_agree_with_the_independent_reading(library):
    """tests/reference.py types the windows in by hand; the parameter files must say the same."""
    assert [s.name for s in library.schemes] == [name for name, *_ in reference.SCHEMES]
    for name, first, last, days in reference.SCHEMES:
        scheme = library.scheme_named(name)
        assert (scheme.first_discharge, scheme.last_discharge) == (first, last)
        assert len(scheme.terms) == 1
        assert scheme.terms[0].free_period_days == days
    day, end = D(2020, 3, 1), D(2022, 5, 31)
    while day <= end:  # every discharge date: same scheme, same first paid day
        name, P = reference.scheme_of(day)
        ours = library.scheme_for(day)
        assert (ours.name if ours else None) == name, day
        if ours:
            assert ours.first_day_after_free_period(day) == P, day
        day += dt.timedelta(days=1)


def test_every_parameter_has_description_unit_and_dated_referenced_values(library):
    for scheme in library.schemes:
        for parameter in library.parameters[scheme.name].parameters.values():
            assert parameter.description and parameter.unit in ("date", "day")
            for dated in parameter.values:
                assert isinstance(dated.applies_from, dt.date) and len(dated.reference) > 20


def test_schemes_are_derived_from_the_parameter_files(library):
    """No Python lists the schemes: one parameter file each, named inside the file."""
    files = sorted(p.name for p in PARAMETER_DIR.glob("*.yaml"))
    assert files == ["hds1.yaml", "hds2.yaml", "hds3.yaml", "hds4.yaml"]
    assert list(library.books) == ["common", "HDS1", "HDS2", "HDS3", "HDS4"]
    assert library.books["HDS4"].rules == library.books["common"].rules
    assert library.books["HDS4"].parameters["free_period_days"].value == "28"
    assert library.scheme_named("HDS1").terms[0].free_period_ends_on == D(2021, 3, 31)


# ---- a value that changes within a scheme -------------------------------------

def test_a_free_period_changed_from_a_date_gives_p_by_the_value_in_force(tmp_path):
    folder = exported(tmp_path)
    add_value(folder, "hds2.yaml", "free_period_days", "2020-12-01", 28)
    library = load_library(folder)
    scheme = library.scheme_named("HDS2")
    assert [(t.first_discharge, t.last_discharge, t.free_period_days) for t in scheme.terms] == [
        (D(2020, 9, 1), D(2020, 11, 30), 42), (D(2020, 12, 1), D(2021, 3, 31), 28)]
    assert library.books["HDS2"].parameters["free_period_days"].value == "42 from 2020-09-01; 28 from 2020-12-01"
    days = np.arange(day_number(D(2020, 8, 25)), day_number(D(2021, 4, 5)), dtype=np.int64)
    index, P = locate(library.schemes, days)
    hds2 = [s.name for s in library.schemes].index("HDS2")
    change, end = day_number(D(2020, 12, 1)), day_number(D(2021, 3, 31))
    inside = (days >= day_number(D(2020, 9, 1))) & (days <= end)
    assert (index[inside] == hds2).all() and (index[~inside] != hds2).all()
    assert (P[inside & (days < change)] == days[inside & (days < change)] + 42).all()
    assert (P[inside & (days >= change)] == days[inside & (days >= change)] + 28).all()
    assert P[days == change - 1][0] - (change - 1) == 42 and P[days == change][0] - change == 28


def test_locate_is_vectorised_over_a_million_discharges(tmp_path, library):
    folder = exported(tmp_path)
    add_value(folder, "hds2.yaml", "free_period_days", "2020-12-01", 28)
    changed = load_library(folder)
    rng = np.random.default_rng(5)
    days = rng.integers(day_number(D(2020, 1, 1)), day_number(D(2022, 6, 30)), size=1_000_000)
    started = time.perf_counter()
    index, P = locate(changed.schemes, days)
    assert time.perf_counter() - started < 5
    for k in rng.choice(len(days), 3000, replace=False).tolist():  # against the scalar reading of the terms
        day = D.fromordinal(int(days[k]) + D(1970, 1, 1).toordinal())
        scheme = changed.scheme_for(day)
        assert index[k] == (changed.schemes.index(scheme) if scheme else -1)
        if scheme:
            assert P[k] == day_number(scheme.first_day_after_free_period(day))
    unchanged = locate(library.schemes, days)
    moved = index >= 0
    assert (unchanged[1][moved] - P[moved] >= 0).all() and ((unchanged[1] - P)[moved] == 14).sum() > 100_000


def test_a_changed_free_period_is_applied_end_to_end(tmp_path):
    folder = exported(tmp_path)
    add_value(folder, "hds2.yaml", "free_period_days", "2020-12-01", 28)
    library = load_library(folder)
    discharges = (Discharge("D1", "P1", D(2020, 11, 30)), Discharge("D2", "P2", D(2020, 12, 1)))
    episodes = (Episode("E1", "D1", "interim_bed", D(2020, 11, 30), None, 70000, "OCC"),
                Episode("E2", "D2", "interim_bed", D(2020, 12, 1), None, 70000, "OCC"))
    data = Data.from_records(discharges=discharges, episodes=episodes)
    m = month_number("2021-01")
    rows = allocations(data.linked(), library, month_number("2020-11"), m)
    hds = {e: 0 for e in ("E1", "E2")}
    for episode, funder, days in rows.rows(["episode_id", "funder", "days"]):
        hds[episode] += days if funder == "hds" else 0
    assert hds == {"E1": 42, "E2": 28}
    source = MemorySource(data)
    assert "Scheme HDS2: free period 42 days, 2020-11-30 .. 2021-01-10; the partners pay from 2021-01-11 (day 43)" \
        in render_trace(build_trace(source, library, "P1", "2021-01"))
    assert "Scheme HDS2: free period 28 days, 2020-12-01 .. 2020-12-28; the partners pay from 2020-12-29 (day 29)" \
        in render_trace(build_trace(source, library, "P2", "2021-01"))


# ---- a new scheme as data only ---------------------------------------------------

def write_dataset(folder, block_scheme):
    folder.mkdir()
    (folder / "discharges.csv").write_text("discharge_id,patient_id,discharge_date,kind\nD1,P1,2022-05-02,hospital\n")
    (folder / "episodes.csv").write_text("episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation\n"
                                         "E1,D1,interim_bed,2022-05-02,,700.00,OCC\n")
    (folder / "events.csv").write_text("event_id,discharge_id,event,date,outcome\nV1,D1,care_act_assessment,2022-06-10,\n")
    (folder / "block_costs.csv").write_text("block_id,description,scheme,organisation,start_date,end_date,amount\n"
                                            f"B1,Beds kept free,{block_scheme},OCC,2022-05-01,2022-05-31,3100.00\n")
    return folder


def test_a_new_scheme_added_as_data_only_works_end_to_end(tmp_path, library):
    folder = exported(tmp_path)
    (folder / "parameters" / "hds5.yaml").write_text(textwrap.dedent(HDS5).lstrip())
    with_hds5 = load_library(folder)
    assert [s.name for s in with_hds5.schemes] == ["HDS1", "HDS2", "HDS3", "HDS4", "HDS5"]
    assert with_hds5.books["HDS5"].rules == with_hds5.books["common"].rules
    names = tuple(s.name for s in with_hds5.schemes)
    data_folder = write_dataset(tmp_path / "data", "HDS5")
    with pytest.raises(HdsError, match="HDS5"):  # the shipped library knows no HDS5: the block cost is refused
        read_data(data_folder, tuple(s.name for s in library.schemes))
    data, _ = read_data(data_folder, names)
    source = MemorySource(data)
    may, june = month_number("2022-05"), month_number("2022-06")
    rows = allocations(source.period(month_start(may), month_end(june)), with_hds5, may, june)
    assert sorted(rows.rows(["episode_id", "block_id", "scheme", "month", "funder", "days", "amount_pence", "rule"])) == [
        ("", "B1", "HDS5", "2022-05", "hds", 31, 310000, "block-cost"),
        ("E1", "", "HDS5", "2022-05", "council", 16, 160000, "after-free-period-assessment-pending"),
        ("E1", "", "HDS5", "2022-05", "hds", 14, 140000, "free-period"),
        ("E1", "", "HDS5", "2022-06", "bau", 21, 210000, "after-free-period-assessed"),
        ("E1", "", "HDS5", "2022-06", "council", 9, 90000, "after-free-period-assessment-pending"),
    ]
    claim = build_claim(source, with_hds5, "2022-05")
    assert claim.totals_by("scheme") == {"HDS5": 450000}
    text = render_trace(build_trace(source, with_hds5, "P1", "2022-06"))
    assert "Scheme HDS5: free period 14 days, 2022-05-02 .. 2022-05-15; the partners pay from 2022-05-16 (day 15)" in text
    assert "rule after-free-period-assessment-pending" in text
    shipped_rows = allocations(source.period(month_start(may), month_end(may)), library, may, may)
    assert set(shipped_rows["rule"].tolist()) == {"outside-schemes", "block-cost"}


# ---- errors in parameter files ---------------------------------------------------

BAD = [  # (file, old text, new text, marker of the line the error names, message)
    ("hds2.yaml", "free_period_days:\n", "free_period_weeks: 6\nfree_period_days:\n", "free_period_weeks",
     "unknown key 'free_period_weeks'"),
    ("hds2.yaml", "  unit: day\n", "  unit: week\n", "unit: week", "the unit of free_period_days is 'day', not 'week'"),
    ("hds2.yaml", "      value: 42\n", "      value: 0\n", "value: 0", "'0' is not a number of days"),
    ("hds2.yaml", "      value: 42\n", "      value: six weeks\n", "value: six weeks", "is not a number of days"),
    ("hds2.yaml", "      value: 2021-03-31\n", "      value: null\n", "value: null", "cannot be ended with null"),
    ("hds2.yaml", "    2020-09-01:\n      value: 42\n", "    2020-09-01:\n      value: 42\n    2020-09-01:  # again\n      value: 40\n",
     "# again", "has '2020-09-01' twice"),
    ("hds2.yaml", "      value: 42\n      reference: Variation paragraphs 1.5 and 4.1, at most six weeks of free care after "
                  "discharge\n", "      value: 42\n", "value: 42", "needs 'reference'"),
    ("hds2.yaml", "    2020-09-01:\n      value: 2020-09-01\n", "    September 2020:\n      value: 2020-09-01\n",
     "September 2020:", "'September 2020' is not a date"),
    ("hds2.yaml", "    2020-09-01:\n      value: 2020-09-01\n", "    2020-09-05:\n      value: 2020-09-01\n",
     "value: 2020-09-01", "first_discharge 2020-09-01 applies only from 2020-09-05"),
    ("hds2.yaml", "    2020-09-01:\n      value: 2020-09-01\n", "    2020-08-01:\n      value: 2020-08-01\n",
     "value: 2020-08-01", "last_discharge has no value for discharges from 2020-08-01"),
    ("hds3.yaml", "scheme: HDS3\n", "scheme: HDS2\n", "scheme: HDS2", "scheme HDS2 already has parameters"),
    ("hds3.yaml", "scheme: HDS3\n", "scheme: common\n", "scheme: common", "'common' is not a scheme name"),
    ("hds1.yaml", "      value: 2021-03-31\n", "      value: 2020-06-30\n", "value: 2020-06-30",
     "free_period_ends_on 2020-06-30 is before discharge dates it applies to (up to 2020-08-31)"),
    ("hds4.yaml", "last_discharge:\n", "old_last_discharge:\n", "old_last_discharge", "unknown key 'old_last_discharge'"),
]


@pytest.mark.parametrize("file, old, new, marker, message", BAD, ids=[b[4][:40] for b in BAD])
def test_a_bad_parameter_file_is_refused_naming_file_and_line(tmp_path, file, old, new, marker, message):
    folder = exported(tmp_path)
    path = folder / "parameters" / file
    text = path.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if marker in row)
    with pytest.raises(RulebookError) as err:
        load_library(folder)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path} line {line}: "), str(err.value)


def test_overlapping_windows_are_refused_naming_both_schemes(tmp_path):
    folder = exported(tmp_path)
    hds1, hds2 = folder / "parameters" / "hds1.yaml", folder / "parameters" / "hds2.yaml"
    hds1.write_text(hds1.read_text().replace("value: 2020-08-31", "value: 2020-09-10"))
    line = next(i for i, row in enumerate(hds2.read_text().splitlines(), start=1) if row == "first_discharge:")
    with pytest.raises(RulebookError) as err:
        load_library(folder)
    assert str(err.value) == (f"{hds2} line {line}: scheme HDS2 overlaps scheme HDS1 (in {hds1}): both cover "
                              "discharges on 2020-09-01; a discharge date belongs to one scheme at most")


def test_a_scheme_without_a_window_or_a_free_period_is_refused(tmp_path):
    folder = exported(tmp_path)
    path = folder / "parameters" / "hds4.yaml"
    text = path.read_text()
    path.write_text(text[:text.index("free_period_days:")])
    with pytest.raises(RulebookError, match="scheme HDS4 needs free_period_days or free_period_ends_on"):
        load_library(folder)
    add = folder / "parameters" / "hds4.yaml"
    add.write_text(text)
    add_value(folder, "hds4.yaml", "free_period_days", "2021-10-01", "null")
    with pytest.raises(RulebookError, match="no free period in force for discharges from 2021-10-01"):
        load_library(folder)


def test_a_rulebook_for_a_scheme_without_parameters_is_refused(tmp_path):
    folder = exported(tmp_path)
    (folder / "rulebooks" / "hds9.rules").write_text("scheme HDS9\ninclude common.rules\n")
    with pytest.raises(RulebookError, match="rulebook HDS9 names no scheme: add parameters/hds9.yaml"):
        load_library(folder)


def test_a_scheme_may_have_a_rulebook_of_its_own(tmp_path, library):
    folder = exported(tmp_path)
    common = (folder / "rulebooks" / "common.rules").read_text()
    own = common.replace("scheme common", "scheme HDS4").replace("title Rules common to every scheme", "title Scheme 4")
    own = own.replace("  when restart\n  funder bau", "  when restart\n  funder hds")  # Scheme 4 paying restarts
    (folder / "rulebooks" / "hds4.rules").write_text(own)
    changed = load_library(folder)
    assert changed.books["HDS4"].rule("restart").funder == "hds"
    assert changed.books["HDS3"].rule("restart").funder == "bau"
    assert changed.books["HDS4"].parameters["free_period_days"].value == "28"


# ---- export, snapshot, version ----------------------------------------------------

def test_an_exported_folder_and_a_snapshot_give_the_same_library(tmp_path, library):
    folder = exported(tmp_path)
    snapshot = library_snapshot(library)
    assert set(snapshot) == {"rulebooks/common.rules", "renamed.yaml"} | {
        f"parameters/hds{i}.yaml" for i in range(1, 5)}
    assert load_library(folder).version == library.version
    again = library_from_snapshot(json.loads(json.dumps(snapshot)))
    assert again.version == library.version and again.schemes == library.schemes
    assert [r.id for r in again.all_rules()] == [r.id for r in library.all_rules()]
    assert again.rule("week7-assessed").id == "after-free-period-assessed"
    data, _ = read_data("fixtures/sample", tuple(s.name for s in library.schemes))
    m = month_number("2020-12")
    period = MemorySource(data).period(month_start(m), month_end(m))
    ours, theirs = allocations(period, library, m, m), allocations(period, again, m, m)
    assert ours.records() == theirs.records() and len(ours) > 100


def test_the_version_is_a_hash_of_every_rule_and_parameter_text(tmp_path, library):
    snapshot = library_snapshot(library)
    changed = dict(snapshot)
    changed["parameters/hds3.yaml"] = changed["parameters/hds3.yaml"].replace("six weeks of free care",
                                                                              "six weeks of care free of charge")
    assert library_from_snapshot(changed).version != library.version
    renamed = dict(snapshot)
    renamed["renamed.yaml"] += "\n"
    assert library_from_snapshot(renamed).version != library.version


@pytest.mark.parametrize("name", ["../common.rules", "/rulebooks/x.rules", "rulebooks/a/b.rules", "notes.txt",
                                  "rulebooks/./common.rules"])
def test_a_snapshot_holds_only_library_files(library, name):
    snapshot = library_snapshot(library) | {name: "scheme x\n"}
    with pytest.raises(RulebookError, match="is not a library file"):
        library_from_snapshot(snapshot)


@pytest.mark.parametrize("include", ["../../elsewhere.rules", "../renamed.yaml", "missing.rules"])
def test_a_rulebook_cannot_include_what_the_library_lacks(library, include):
    snapshot = library_snapshot(library)
    snapshot["rulebooks/common.rules"] = f"scheme common\ninclude {include}\n"
    with pytest.raises(RulebookError, match="not a rulebook of this library"):
        library_from_snapshot(snapshot)


def test_a_folder_without_rulebooks_or_schemes_is_refused(tmp_path):
    from rules import RULEBOOK_DIR

    with pytest.raises(RulebookError, match=r"no rulebooks: expected rulebooks/\*.rules"):
        load_library(RULEBOOK_DIR)  # the folder of rulebooks is not a library: its parent is
    folder = exported(tmp_path)
    for path in (folder / "parameters").iterdir():
        path.unlink()
    with pytest.raises(RulebookError, match=r"no schemes: expected parameters/\*.yaml"):
        load_library(folder)


def test_export_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(HdsError, match="is not empty"):
        export_rules(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_export_writes_a_pinned_library(tmp_path, library):
    snapshot = library_snapshot(library)
    snapshot["parameters/hds4.yaml"] = snapshot["parameters/hds4.yaml"].replace("value: 28", "value: 21")
    pinned = library_from_snapshot(snapshot)
    export_rules(tmp_path / "pinned", pinned)
    assert load_library(tmp_path / "pinned").version == pinned.version != library.version
    assert load_library(tmp_path / "pinned").scheme_named("HDS4").terms[0].free_period_days == 21


# ---- renamed rule ids ---------------------------------------------------------------

OLD_IDS = ["week7-chc-self-funder", "week7-chc-pending", "week7-chc-eligible", "week7-chc-not-eligible",
           "week7-chc-then-assessed", "week7-self-funder", "week7-chc-funded", "week7-assessment-pending",
           "week7-assessed"]


def test_every_old_id_explains_itself_by_its_new_rule(library):
    mapping = renamed_rules()
    assert sorted(mapping) == sorted(OLD_IDS)
    for old, new in mapping.items():
        rule = library.rule(old)
        assert rule.id == new == old.replace("week7-", "after-free-period-")
        assert rule is library.rule(new)
    assert [r.id for r in library.rules_of("free-period+week7-chc-pending")] == ["free-period",
                                                                                "after-free-period-chc-pending"]
    with pytest.raises(KeyError):
        library.rule("week8-assessed")


@pytest.mark.parametrize("text, message", [
    ("renamed:\n  old-rule: no-such-rule\n", "'old-rule' is renamed to 'no-such-rule', which is not a rule"),
    ("renamed:\n  free-period: restart\n", "'free-period' is renamed but is still the id of a rule"),
    ("renamed:\n  a: b\n  b: a\n", "renamed ids go round in a circle"),
    ("renamed: [a, b]\n", "expected 'renamed:' mapping"),
])
def test_a_bad_renaming_is_refused(library, text, message):
    snapshot = library_snapshot(library) | {"renamed.yaml": text}
    with pytest.raises(RulebookError, match=re.escape(message)):
        library_from_snapshot(snapshot)


def test_renamings_follow_chains(library):
    snapshot = library_snapshot(library) | {"renamed.yaml": "renamed:\n  oldest: older\n  older: free-period\n"}
    chained = library_from_snapshot(snapshot)
    assert chained.renamed == {"oldest": "free-period", "older": "free-period"}


# ---- wording true for every scheme ----------------------------------------------------

def scheme_trace(library, scheme):
    """A discharge 3 days into the scheme, with a CHC assessment pending when its free period ends."""
    day = scheme.first_discharge + dt.timedelta(days=3)
    P = scheme.first_day_after_free_period(day)
    events = (Event("V1", "D1", "chc_checklist", day + dt.timedelta(days=1), "positive"),
              Event("V2", "D1", "chc_decision", P + dt.timedelta(days=5), "not_eligible"),
              Event("V3", "D1", "care_act_assessment", P + dt.timedelta(days=10)))
    episodes = (Episode("E1", "D1", "interim_bed", day, None, 70000, "OCC"),
                Episode("E2", "D1", "isolation", day, day + dt.timedelta(days=13), 70000, "OCC"))
    data = Data.from_records(discharges=(Discharge("D1", "P1", day),), episodes=episodes, events=events)
    until = P + dt.timedelta(days=40)
    return day, P, render_trace(build_trace(MemorySource(data), library, "P1", f"{until:%Y-%m}"))


@pytest.mark.parametrize("name", ["HDS1", "HDS2", "HDS3", "HDS4"])
def test_no_trace_mentions_a_week_or_day_that_is_not_its_schemes(library, name):
    scheme = library.scheme_named(name)
    day, P, text = scheme_trace(library, scheme)
    first_paid = (P - day).days + 1
    assert not re.search(r"week\s*-?\d|weeks|\bweek\b(?<!/week)", text.replace("/week", "")), text
    assert {int(n) for n in re.findall(r"\bday (\d+)", text)} == {first_paid}
    term = scheme.term_for(day)
    if term.free_period_days:
        header = (f"Scheme {name}: free period {term.free_period_days} days, {day} .. {P - dt.timedelta(days=1)}; "
                  f"the partners pay from {P} (day {first_paid})")
    else:
        header = (f"Scheme {name}: free until assessment, at the latest {term.free_period_ends_on} "
                  f"({day} .. {P - dt.timedelta(days=1)}); the partners pay from {P} (day {first_paid})")
    assert header in text
    for rule in ("free-period", "isolation", "after-free-period-chc-pending", "after-free-period-chc-not-eligible",
                 "after-free-period-chc-then-assessed"):
        assert f"rule {rule} " in text


def test_the_trace_header_of_the_issue_examples(library):
    schemes = {s.name: s for s in library.schemes}
    assert describe_free_period(schemes["HDS4"], day_number(D(2021, 8, 2)), day_number(D(2021, 8, 30))) == (
        "free period 28 days, 2021-08-02 .. 2021-08-29; the partners pay from 2021-08-30 (day 29)")
    assert describe_free_period(schemes["HDS1"], day_number(D(2020, 6, 1)), day_number(D(2021, 4, 1))) == (
        "free until assessment, at the latest 2021-03-31 (2020-06-01 .. 2021-03-31); "
        "the partners pay from 2021-04-01 (day 305)")
    # no scheme, or one whose parameters do not give that first paid day: the wording falls back to the dates
    assert describe_free_period(schemes["HDS4"], day_number(D(2021, 8, 2)), day_number(D(2021, 8, 12))) == (
        "free period 10 days, 2021-08-02 .. 2021-08-11; the partners pay from 2021-08-12 (day 11)")
    assert describe_free_period(None, day_number(D(2021, 8, 2)), day_number(D(2021, 8, 12))) == (
        "free period 10 days, 2021-08-02 .. 2021-08-11; the partners pay from 2021-08-12 (day 11)")


def test_a_free_period_cut_short_by_a_fixed_last_day_says_so():
    scheme = Scheme.single("X", D(2021, 1, 1), D(2021, 3, 31), 42, D(2021, 3, 31))
    assert free_period_wording(scheme, D(2021, 1, 5)) == (
        "free period 42 days, 2021-01-05 .. 2021-02-15; the partners pay from 2021-02-16 (day 43)")
    assert free_period_wording(scheme, D(2021, 3, 1)) == (
        "free period 31 days (of 42, cut short by the fixed last free day 2021-03-31), 2021-03-01 .. 2021-03-31; "
        "the partners pay from 2021-04-01 (day 32)")
    index, P = locate([scheme], np.array([day_number(D(2021, 1, 5)), day_number(D(2021, 3, 1))]))
    assert P.tolist() == [day_number(D(2021, 2, 16)), day_number(D(2021, 4, 1))] and index.tolist() == [0, 0]


# ---- the reference for readers --------------------------------------------------------

def test_the_rules_document_is_up_to_date(library):
    """docs/rules.md's tables are written from the rule files (python -m rules.docs docs/rules.md)."""
    from pathlib import Path

    from rules.docs import update_document

    text = Path("docs/rules.md").read_text(encoding="utf-8")
    assert update_document(text, library) == text
    for rule in library.books["common"].rules:
        assert f"**`{rule.id}`** → `{rule.funder}`" in text and rule.explains.split(". ")[0] in text
    assert "| HDS4 | 2021-07-01 .. 2022-03-31 | 28 days (discharge day = day 1) | day 29 |" in text
    assert "| `week7-chc-pending` | `after-free-period-chc-pending` |" in text


def test_the_rules_document_goes_stale_when_a_parameter_changes(library):
    from pathlib import Path

    from rules.docs import update_document

    snapshot = library_snapshot(library)
    snapshot["parameters/hds4.yaml"] = snapshot["parameters/hds4.yaml"].replace("value: 28", "value: 21")
    text = Path("docs/rules.md").read_text(encoding="utf-8")
    updated = update_document(text, library_from_snapshot(snapshot))
    assert updated != text and "| HDS4 | `free_period_days` | 21 | 2021-07-01 | day |" in updated
