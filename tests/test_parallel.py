"""Partitions of discharges on worker processes or a Dask cluster give the single process's table."""

import pytest

from claims.allocate import allocations
from claims.parallel import DaskRunner, PoolRunner, partitions
from claims.allocate import RUNNER
from fixtures.generate import generate, write
from hds.data import MemorySource
from hds.days import month_end, month_number, month_start
from hds.load import read_data

SCHEMES = ("HDS1", "HDS2", "HDS3", "HDS4")


@pytest.fixture(scope="module")
def period(tmp_path_factory):
    """A year of a small county, linked, as a claim reads it."""
    folder = write(generate(seed=4, per_month=40, episodes=1.8), tmp_path_factory.mktemp("data"))
    data, _ = read_data(folder, SCHEMES)
    first, last = month_number("2020-06"), month_number("2021-05")
    return MemorySource(data).period(month_start(first), month_end(last)), first, last


def table(period, library, runner=None):
    data, first, last = period
    token = RUNNER.set(runner)
    try:
        rows = allocations(data, library, first, last)
    finally:
        RUNNER.reset(token)
    return [tuple(row) for row in rows.rows()]


def test_partitions_are_whole_discharges_in_order(period):
    data = period[0]
    parts = partitions(data, 5)
    assert len(parts) == 5
    assert sum(len(p.discharges) for p in parts) == len(data.discharges)
    assert [i for p in parts for i in p.episodes["episode_id"].tolist()] == data.episodes["episode_id"].tolist()
    for p in parts:
        assert set(p.episodes["discharge_id"].tolist()) <= set(p.discharges["discharge_id"].tolist())


def test_a_process_pool_gives_the_same_table(period, library):
    single = table(period, library)
    assert len(single) > 1000
    assert table(period, library, PoolRunner(workers=2, minimum=0)) == single


def test_dask_on_a_two_worker_local_cluster_gives_the_same_table(period, library):
    distributed = pytest.importorskip("dask.distributed")
    single = table(period, library)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert table(period, library, DaskRunner(client, partitions=4)) == single
