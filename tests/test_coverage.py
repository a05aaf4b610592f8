"""Coverage: every rule decides days in some scenario, paragraphs from the rules that fired, and
the coverage and comparison of allocation tables."""

from decimal import Decimal

import numpy as np
import pytest

from claims.allocate import BLOCK_RULE, allocations, empty_allocation
from claims.scenarios import BLOCK_PARAGRAPHS, run_scenarios
from hds.data import MemorySource
from hds.days import month_end, month_number, month_start
from hds.load import read_data
from hds.table import Table
from rules import SCENARIO_DIR
from rules.compare import CompareError, compare
from rules.coverage import coverage, unfired
from rules.export import export_rules
from rules.library import load_library


@pytest.fixture(scope="module")
def results(library):
    return run_scenarios(SCENARIO_DIR, library)


def test_every_rule_of_every_shipped_rulebook_fires_in_some_scenario(library, results):
    fired = {rule for r in results for rule in r.fired}
    for name, book in library.books.items():
        missing = [rule.id for rule in book.rules if rule.id not in fired]
        assert missing == [], f"rulebook {name}: no scenario has a day decided by {missing}; add one"


def test_a_rule_no_scenario_fires_is_found(library, results):
    """The check above can fail: leave out the scenarios in which `restart` fired and it is reported."""
    without = [r for r in results if "restart" not in r.fired]
    left_out = {rule for r in results if "restart" in r.fired for rule in r.fired}
    assert len(without) < len(results)
    missing = unfired(library, {rule for r in without for rule in r.fired})
    assert "restart" in missing and set(missing) <= left_out
    assert unfired(library, {rule for r in results for rule in r.fired}) == []
    assert "after-free-period-assessed" not in unfired(library, {"week7-assessed"})  # old ids count as their new one


def test_every_cited_paragraph_is_shown_by_a_rule_that_fired(library, results):
    """Paragraph coverage from the rules that decided days in the scenarios, not from what files declare."""
    cited = {c for rule in library.all_rules() for c in rule.cites} | set(BLOCK_PARAGRAPHS)
    shown = {c for r in results for c in r.paragraphs}
    assert cited - shown == set()
    declared_only = {c for r in results for c in r.cites} - shown
    assert declared_only == set()


def test_every_scheme_has_a_scenario_after_its_free_period(library, results):
    """The rules after the free period fire for every scheme, whatever its free period."""
    import yaml

    paid_after = {}
    for r in results:
        discharge = yaml.safe_load(open(r.path))["discharge"]
        scheme = library.scheme_for(discharge)
        if scheme and any(rule.startswith("after-free-period-") for rule in r.fired):
            paid_after.setdefault(scheme.name, set()).update(r.fired)
    assert set(paid_after) == {s.name for s in library.schemes}


# ---- rules.coverage over allocation tables ------------------------------------------------

def table(rows):
    t = Table.from_rows(["rule", "days", "amount_pence"], rows, {"days": np.int64, "amount_pence": np.int64})
    return t


def test_coverage_counts_a_joined_cell_for_each_of_its_rules(library):
    rows = [("free-period", 10, 1000), ("free-period", 5, 500), ("before-discharge+after-death", 7, 700),
            ("after-death", 2, 200), ("week7-assessed", 3, 300), (BLOCK_RULE, 31, 9999)]
    cov = coverage(table(rows), library, {BLOCK_RULE: BLOCK_PARAGRAPHS})
    assert (cov.rows, cov.days, cov.amount_pence) == (6, 58, 12699)
    free = cov.rule("free-period")
    assert (free.rows, free.days, free.amount_pence, free.sole_days, free.sole_amount_pence) == (2, 15, 1500, 15, 1500)
    death = cov.rule("after-death")
    assert (death.rows, death.days, death.amount_pence, death.sole_days, death.sole_amount_pence) == (2, 9, 900, 2, 200)
    before = cov.rule("before-discharge")
    assert (before.days, before.sole_days) == (7, 0)
    assessed = cov.rule("after-free-period-assessed")
    assert (assessed.days, assessed.renamed_from) == (3, ("week7-assessed",))
    block = cov.rule(BLOCK_RULE)
    assert (block.in_library, block.cites, block.days, block.amount_pence) == (False, BLOCK_PARAGRAPHS, 31, 9999)
    # 1.5 is cited by free-period and by before-discharge: the joined row counts once
    assert (cov.paragraph("1.5").rows, cov.paragraph("1.5").days) == (3, 22)
    assert cov.paragraph("4.5").days == 9 and cov.paragraph("4.13").days == 3 and cov.paragraph("4.12").days == 31
    assert cov.paragraph("4.9").days == 0 and "admission-avoidance" in cov.unused
    sole = sum(r.sole_days for r in cov.rules)
    assert sole == cov.days - 7  # every day but those of the joined row
    as_json = cov.to_dict()
    assert as_json["total"] == {"rows": 6, "days": 58, "amount": "126.99"}
    assert [p["paragraph"] for p in as_json["paragraphs"]][:4] == ["1.5", "1.6", "2.1", "4.3"]
    assert [p["paragraph"] for p in as_json["paragraphs"]][-2:] == ["4.13", "5.5.2"]


def test_coverage_of_an_empty_table(library):
    cov = coverage(empty_allocation(), library)
    assert cov.days == 0 and len(cov.unused) == len(library.all_rules())


def test_coverage_of_a_month_of_the_sample(library, sample_month):
    base = sample_month(library)
    cov = coverage(base, library, {BLOCK_RULE: BLOCK_PARAGRAPHS})
    assert cov.days == int(base["days"].sum()) and cov.amount_pence == int(base["amount_pence"].sum())
    joined = base.take(np.array(["+" in r for r in base["rule"].tolist()], dtype=bool))
    assert sum(r.sole_days for r in cov.rules) == cov.days - int(joined["days"].sum())
    assert cov.rule("free-period").days > 0
    hds = int(base["amount_pence"][base["funder"] == "hds"].sum())
    assert sum(r.amount_pence for r in cov.rules if r.funder == "hds" or r.rule == BLOCK_RULE) >= hds


# ---- rules.compare -----------------------------------------------------------------------------

MONTH = "2020-12"


@pytest.fixture(scope="module")
def sample_month(library):
    data, _ = read_data("fixtures/sample", tuple(s.name for s in library.schemes))
    m = month_number(MONTH)
    period = MemorySource(data).period(month_start(m), month_end(m))
    return lambda lib: allocations(period, lib, m, m)


@pytest.fixture(scope="module")
def hds2_in_28_days(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alternative") / "rules"
    export_rules(folder)
    path = folder / "parameters" / "hds2.yaml"
    text = path.read_text()
    assert text.count("value: 42") == 1
    path.write_text(text.replace("value: 42", "value: 28"))
    return load_library(folder)


def test_identical_rules_give_no_difference(library, sample_month):
    base = sample_month(library)
    result = compare(base, sample_month(library), MONTH)
    assert result["lines"] == [] and result["episodes_changed"] == 0
    assert result["base"] == result["alternative"]
    assert all(d == {"days": 0, "amount": "0.00"} for d in result["difference"].values())
    assert result["base"]["total"]["days"] == int(base["days"].sum())


def test_a_shorter_free_period_moves_days_away_from_the_scheme(library, hds2_in_28_days, sample_month):
    base, alternative = sample_month(library), sample_month(hds2_in_28_days)
    result = compare(base, alternative, MONTH)
    assert result["month"] == MONTH
    difference = result["difference"]
    assert difference["hds"]["days"] < 0 and Decimal(difference["hds"]["amount"]) < 0
    assert sum(d["days"] for d in difference.values()) == 0  # days are conserved
    assert Decimal(result["alternative"]["funders"]["hds"]["amount"]) < Decimal(result["base"]["funders"]["hds"]["amount"])
    assert result["base"]["total"]["days"] == result["alternative"]["total"]["days"]
    hds2 = (result["base"]["schemes"]["HDS2"]["hds"], result["alternative"]["schemes"]["HDS2"]["hds"])
    assert hds2[1]["days"] < hds2[0]["days"]
    assert result["base"]["schemes"]["HDS1"] == result["alternative"]["schemes"]["HDS1"]  # other schemes untouched
    lines = result["lines"]
    assert lines and {line["base_scheme"] or line["alternative_scheme"] for line in lines} == {"HDS2"}
    per_episode = {}
    for line in lines:
        per_episode[line["episode_id"]] = per_episode.get(line["episode_id"], 0) + line["days_moved"]
    assert set(per_episode.values()) == {0}
    moved_off = [line for line in lines if line["funder"] == "hds" and line["days_moved"] < 0]
    assert moved_off and all(rule.funder == "hds" for line in moved_off for rule in library.rules_of(line["base_rule"]))
    assert any(line["base_rule"] == "free-period" for line in moved_off)
    assert any(line["alternative_rule"].startswith("after-free-period-") for line in lines)
    assert sum(Decimal(line["amount_moved"]) for line in lines if line["funder"] == "hds") == \
        Decimal(difference["hds"]["amount"])
    import json
    assert json.loads(json.dumps(result)) == result


def test_tables_of_different_data_cannot_be_compared(library, sample_month):
    base = sample_month(library)
    fewer = base.take(np.arange(1, len(base)))
    with pytest.raises(CompareError, match="rules can only move days between funders"):
        compare(base, fewer, MONTH)
    with pytest.raises(CompareError, match="give the month to compare"):
        compare(empty_allocation(), empty_allocation())
    assert compare(base, base)["month"] == MONTH
