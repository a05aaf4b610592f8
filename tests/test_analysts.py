"""The store opens usefully in Datasette: views of the current data, claims and receipts by month in
pounds, and the allocation table of every month, current after a load."""

import asyncio
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from hds.store import pounds_sql
from tests.conftest import copy_store
from tests.cli_helpers import ok



@pytest.fixture(scope="module")
def store(tmp_path_factory, october_store):
    """The sample loaded and October submitted (a copy of the session's prepared store)."""
    return copy_store(october_store, tmp_path_factory.mktemp("analysts") / "hds.db")


def test_the_allocation_table_of_every_month_is_in_the_store_after_a_load(store):
    with sqlite3.connect(store) as con:
        state = con.execute("SELECT state, computed_from_load FROM allocations_status").fetchone()
        months = [r[0] for r in con.execute("SELECT DISTINCT month FROM allocations ORDER BY month")]
        december = con.execute("SELECT amount FROM allocations WHERE episode_id = 'E0000000' AND month = '2020-12' "
                               "AND funder = 'council'").fetchone()[0]
    assert state == ("current", 1)
    assert months[0] == "2020-03" and months[-1] == "2022-07" and len(months) == 29
    assert december == 900.0  # the worked example: 9 days at £700 a week
    october = json.loads(ok("allocations", "--month", "2020-10", "--json", "--db", store))
    with sqlite3.connect(store) as con:
        stored = con.execute("SELECT SUM(amount_pence) FROM allocation_rows WHERE month = '2020-10'").fetchone()[0]
    assert Decimal(stored) / 100 == sum(Decimal(r["amount"]) for r in october)


def test_the_views_give_money_as_numbers_in_pounds(store):
    with sqlite3.connect(store) as con:
        for view, column in (("claim_lines", "amount"), ("allocations", "amount"), ("claims_by_month", "total"),
                             ("receipts_by_month", "received"), ("allocations_by_month", "amount"),
                             ("current_episodes", "weekly_cost")):
            kinds = {r[0] for r in con.execute(f"SELECT DISTINCT typeof({column}) FROM {view}")}
            assert kinds <= {"real", "integer"}, (view, kinds)
        top = con.execute("SELECT amount FROM allocations ORDER BY amount DESC LIMIT 1").fetchone()[0]
        biggest = con.execute("SELECT MAX(amount_pence) FROM allocation_rows").fetchone()[0]
        negative = con.execute(f"SELECT {pounds_sql('-24838')}").fetchone()[0]
    assert top == biggest / 100 and top > 10_000  # sorted as money, not as text ('998.70' > '13892.89')
    assert negative == -248.38


def test_datasette_shows_the_views_first_with_titles_whatever_the_store_is_called(store, tmp_path):
    datasette = pytest.importorskip("datasette.app")
    db = copy_store(store, tmp_path / "claims.db")
    ok("refresh", "--db", db)
    metadata = json.loads(Path(f"{db}.datasette.json").read_text())
    assert list(metadata["databases"]) == ["claims"]

    async def fetch():
        ds = datasette.Datasette([str(db)], metadata=metadata)
        claims = await ds.client.get("/claims/claims_by_month.json?_shape=array")
        page = await ds.client.get("/claims/allocations_by_month")
        index = await ds.client.get("/claims.json")
        return claims, page, index

    claims, page, index = asyncio.run(fetch())
    assert claims.status_code == 200
    (october,) = claims.json()
    assert october["month"] == "2020-10" and october["total"] == 662653.14
    assert page.status_code == 200 and "Days and money by month, funder and scheme" in page.text
    shown = [t["name"] for t in index.json()["tables"] if not t["hidden"]]
    assert shown == []  # every table is behind a view: the database page lists the views alone
    assert {v["name"] for v in index.json()["views"]} >= {"claims_by_month", "claim_lines", "allocations"}


def test_the_metadata_describes_views_and_tables_that_exist(store):
    from claims.analysts import METADATA

    with sqlite3.connect(store) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        views = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    described = json.loads(METADATA.read_text())["databases"]["STORE"]["tables"]
    assert set(described) <= names
    first = list(described)[:len(views)]
    assert set(first) == views and not any(described[v].get("hidden") for v in views)
