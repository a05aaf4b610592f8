"""The store opens usefully in Datasette: views of the current data, claims and receipts by month in
pounds, and the allocation table of every month, current after a load."""

import asyncio
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import copy_store
from tests.cli_helpers import ok

METADATA = Path(__file__).resolve().parent.parent / "docs" / "datasette.json"


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
    assert december == "900.00"  # the worked example: 9 days at £700 a week
    october = json.loads(ok("allocations", "--month", "2020-10", "--json", "--db", store))
    with sqlite3.connect(store) as con:
        stored = con.execute("SELECT SUM(amount_pence) FROM allocation_rows WHERE month = '2020-10'").fetchone()[0]
    assert Decimal(stored) / 100 == sum(Decimal(r["amount"]) for r in october)


def test_datasette_shows_the_views_with_titles(store):
    datasette = pytest.importorskip("datasette.app")

    async def fetch():
        ds = datasette.Datasette([str(store)], metadata=json.loads(METADATA.read_text()))
        claims = await ds.client.get("/hds/claims_by_month.json?_shape=array")
        page = await ds.client.get("/hds/allocations_by_month")
        return claims, page

    claims, page = asyncio.run(fetch())
    assert claims.status_code == 200
    (october,) = claims.json()
    assert october["month"] == "2020-10" and october["total"] == "662653.14"
    assert page.status_code == 200 and "Days and money by month, funder and scheme" in page.text


def test_the_metadata_describes_views_that_exist(store):
    with sqlite3.connect(store) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    described = set(json.loads(METADATA.read_text())["databases"]["hds"]["tables"])
    assert described <= names
