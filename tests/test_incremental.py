"""Adjustments recompute settled months only for what changed, and that gives what a full
recomputation gives, line for line and reason for reason."""

import csv
import random

import pytest

from fixtures.generate import generate, write
from tests.cli_helpers import ok as hds


def changed_extract(tables: dict, seed: int) -> dict:
    """A later extract: costs corrected, assessments backdated, episodes removed or moved to
    another discharge, a discharge's events changed, a block cost corrected."""
    rng = random.Random(seed)
    tables = {name: [dict(row) for row in rows] for name, rows in tables.items()}
    episodes, events, discharges = tables["episodes"], tables["events"], tables["discharges"]
    for row in rng.sample(episodes, 12):
        row["weekly_cost"] = f"{float(row['weekly_cost']) + rng.randint(1, 90):.2f}"
    gone = {row["episode_id"] for row in rng.sample(episodes, 4)}
    tables["episodes"] = [row for row in episodes if row["episode_id"] not in gone]
    for row in rng.sample(tables["episodes"], 3):
        row["discharge_id"] = rng.choice(discharges)["discharge_id"]
    for i, discharge in enumerate(rng.sample(discharges, 10)):
        events.append({"event_id": f"VZ{seed}{i}", "discharge_id": discharge["discharge_id"],
                       "event": "care_act_assessment", "date": discharge["discharge_date"], "outcome": ""})
    tables["events"] = [row for row in events if rng.random() > 0.01]
    tables["block_costs"][0]["amount"] = "12345.67"
    return tables


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_adjustments_equal_a_full_recomputation(tmp_path, monkeypatch, seed):
    from hds.store import StoreSource

    tables = generate(seed=seed, per_month=12)
    db = tmp_path / "hds.db"
    hds("load", write(tables, tmp_path / "one"), "--db", db)
    for month in ("2020-09", "2020-10", "2020-11"):
        hds("submit", "--month", month, "--db", db)
    hds("load", write(changed_extract(tables, seed), tmp_path / "two"), "--db", db)
    incremental = hds("claim", "--month", "2021-01", "--format", "csv", "--db", db)
    monkeypatch.setattr(StoreSource, "touched_since", lambda self, load: None)  # recompute everything
    full = hds("claim", "--month", "2021-01", "--format", "csv", "--db", db)
    assert incremental == full
    adjustments = [row for row in csv.DictReader(incremental.splitlines()) if row["claim_month"] < "2021-01"]
    assert {row["claim_month"] for row in adjustments} >= {"2020-10", "2020-12"}  # corrections, and a month skipped
    assert any("loaded in load 2" in row["reason"] or "in load 2" in row["reason"] for row in adjustments)
