"""What if, and what then: other rules from a folder, compared side by side, and a submission
replayed under the rules it was made with."""

import json
import re
from decimal import Decimal

import pytest

from tests.conftest import copy_store
from tests.cli_helpers import ok


@pytest.fixture(scope="module")
def folders(tmp_path_factory, sample_store):
    base = tmp_path_factory.mktemp("what-if")
    same, shorter = base / "same", base / "shorter"
    ok("rules", "export", same)
    ok("rules", "export", shorter)
    path = shorter / "parameters" / "hds2.yaml"
    text = path.read_text()
    assert "value: 42" in text
    path.write_text(text.replace("value: 42", "value: 28"))
    db = copy_store(sample_store, base / "hds.db")  # the sample loaded
    return db, same, shorter


def test_the_same_rules_show_no_difference(folders):
    db, same, _ = folders
    result = json.loads(ok("compare", "--month", "2020-10", "--rules", same, "--json", "--db", db))
    assert result["lines"] == [] and all(d["days"] == 0 and Decimal(d["amount"]) == 0
                                         for d in result["difference"].values())
    assert result["base"] == result["alternative"]


def test_a_shorter_free_period_moves_days_and_conserves_them(folders):
    db, _, shorter = folders
    result = json.loads(ok("compare", "--month", "2020-10", "--rules", shorter, "--json", "--db", db))
    assert set(result) >= {"month", "base", "alternative", "difference", "lines"}
    assert Decimal(result["difference"]["hds"]["amount"]) < 0  # the scheme pays less
    assert sum(d["days"] for d in result["difference"].values()) == 0  # days only move
    assert result["lines"] and all(l["base_rule"] or l["alternative_rule"] for l in result["lines"])
    table = ok("compare", "--month", "2020-10", "--rules", shorter, "--db", db)
    assert "Days moved between funders add up to +0" in table


def test_every_deciding_command_takes_other_rules(folders):
    db, _, shorter = folders
    shipped = json.loads(ok("claim", "--month", "2020-10", "--json", "--db", db))["totals"]["claim"]
    other = json.loads(ok("claim", "--month", "2020-10", "--json", "--db", db, "--rules", shorter))["totals"]["claim"]
    assert Decimal(other) < Decimal(shipped)
    trace = ok("trace", "P000000", "--month", "2020-12", "--db", db, "--rules", shorter)
    assert "free period 28 days, 2020-10-05 .. 2020-11-01" in trace
    assert ok("rules", "check", "--rules", shorter).startswith(f"{shorter}: ok:")


def test_coverage_on_real_data(folders):
    db, _, _ = folders
    result = json.loads(ok("rules", "coverage", "--month", "2020-10", "--json", "--db", db))
    by_rule = {r["rule"]: r for r in result["rules"]}
    assert by_rule["free-period"]["days"] > 0 and Decimal(by_rule["free-period"]["amount"]) > 0
    assert {p["paragraph"] for p in result["paragraphs"] if p["days"]} >= {"1.5", "4.4", "4.13"}
    assert "block-cost" in by_rule  # block costs count for their paragraphs too


def test_a_submission_replays_to_the_penny_under_its_pinned_rules(folders, tmp_path):
    db, _, shorter = folders
    store = tmp_path / "hds.db"
    store.write_bytes(db.read_bytes())
    ok("submit", "--month", "2020-10", "--rules", shorter, "--db", store)  # made under other rules than shipped
    submitted = json.loads(ok("claim", "--month", "2020-10", "--json", "--db", store))
    replayed = json.loads(ok("claim", "--month", "2020-10", "--as-submitted", "--json", "--db", store))
    assert replayed["lines"] == submitted["lines"] and replayed["totals"] == submitted["totals"]
    shipped = json.loads(ok("claim", "--month", "2020-10", "--as-of-load", "1", "--json", "--db", store))
    assert shipped["totals"]["claim"] != submitted["totals"]["claim"]  # today's rules would claim otherwise
    text = ok("claim", "--month", "2020-10", "--as-submitted", "--db", store)
    assert re.search(r"replayed under the rules pinned to submission 1 .* the same lines and total as submitted", text)
