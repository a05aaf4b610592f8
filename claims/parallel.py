"""Beyond one process: partitions of discharges on a process pool or a Dask cluster.

Discharges are independent: a discharge's days depend only on its own
episodes and events. So the episodes are cut into partitions of whole
discharges, and in two rounds:

1. each partition computes its timelines and segments and returns the
   distinct (rulebook, facts) keys it met, a few hundred at most;
2. the driver has durable-rules decide each distinct key once, and sends the
   small table of decisions back; each partition then allocates its days
   and money and returns its rows.

The partitions' rows, joined in order, are the table one process would have
made, row for row (a test holds the two to it). Block costs are spread by
the driver.

``--workers N`` uses a pool of N local processes; ``--scheduler local``
starts a Dask LocalCluster, and ``--scheduler tcp://HOST:8786`` uses a Dask
cluster already running (``pip install -e ".[dask]"``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from claims.allocate import RUNNER, Decisions, allocate, apply, cut_keys, decide_keys, rulebooks
from hds.data import Data
from hds.days import month_end
from hds.errors import HdsError
from hds.table import Table


def partitions(data: Data, count: int) -> list[Data]:
    """`data` (linked) cut into about `count` parts of whole discharges, in order, each linked."""
    n = len(data.discharges)
    count = max(1, min(count, n))
    bounds = np.linspace(0, n, count + 1).astype(np.int64)
    parts = []
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if a == b:
            continue
        episodes = data.episodes.take((data.episodes["d"] >= a) & (data.episodes["d"] < b))
        events = data.events.take((data.events["d"] >= a) & (data.events["d"] < b))
        parts.append(Data(discharges=data.discharges.take(np.arange(a, b)),
                          episodes=episodes.with_columns(d=episodes["d"] - a),
                          events=events.with_columns(d=events["d"] - a),
                          block_costs=data.block_costs.take(np.zeros(0, dtype=np.int64)),
                          receipts=data.receipts.take(np.zeros(0, dtype=np.int64))))
    return parts


# --- the two rounds, as plain functions a worker can run ------------------------------

def part_keys(part: Data, schemes, books: tuple[str, ...], horizon: int) -> np.ndarray:
    """Round 1: the distinct segment keys of a partition."""
    keys = cut_keys(part, schemes, books, horizon).keys
    return np.unique(keys)


def part_rows(part: Data, schemes, books: tuple[str, ...], horizon: int, decisions: Decisions,
              first_month: int, last_month: int) -> Table:
    """Round 2: a partition's allocation rows, its segments decided from the driver's decisions."""
    return allocate(apply(cut_keys(part, schemes, books, horizon), decisions), first_month, last_month)


@dataclass
class PoolRunner:
    """Partitions on a pool of local worker processes."""

    workers: int
    minimum: int = 2_000  # fewer discharges than this are not worth the processes

    def allocate(self, data: Data, library, first_month: int, last_month: int) -> Table:
        from concurrent.futures import ProcessPoolExecutor
        import multiprocessing

        parts = partitions(data, self.workers * 2)
        books, schemes, horizon = rulebooks(library), library.schemes, month_end(last_month)
        with ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork")) as pool:
            keys = list(pool.map(part_keys, parts, *_same(len(parts), schemes, books, horizon)))
            decisions = decide_keys(np.concatenate(keys) if keys else np.zeros(0, np.int64), books, library)
            rows = list(pool.map(part_rows, parts, *_same(len(parts), schemes, books, horizon, decisions,
                                                        first_month, last_month)))
        return Table.concat(rows) if rows else allocate_nothing(data, library, first_month, last_month)


@dataclass
class DaskRunner:
    """Partitions on a Dask cluster, through dask.bag's map_partitions; the partitions stay on
    the workers between the two rounds."""

    client: object
    partitions: int
    minimum: int = 0

    def allocate(self, data: Data, library, first_month: int, last_month: int) -> Table:
        import dask
        import dask.bag as db

        parts = partitions(data, self.partitions)
        books, schemes, horizon = rulebooks(library), library.schemes, month_end(last_month)
        scattered = self.client.scatter(parts)  # the partitions go to the workers once
        bag = db.from_delayed([dask.delayed(_as_list)(f) for f in scattered])
        keys = bag.map_partitions(lambda ps: [part_keys(p, schemes, books, horizon) for p in ps]).compute()
        decisions = decide_keys(np.concatenate(keys) if keys else np.zeros(0, np.int64), books, library)
        rows = bag.map_partitions(lambda ps: [part_rows(p, schemes, books, horizon, decisions, first_month,
                                                        last_month) for p in ps]).compute()
        return Table.concat(rows) if rows else allocate_nothing(data, library, first_month, last_month)


def _as_list(part: Data) -> list[Data]:
    return [part]


def allocate_nothing(data: Data, library, first_month: int, last_month: int) -> Table:
    from claims.allocate import decide

    return allocate(decide(data, library, month_end(last_month)), first_month, last_month)


def _same(n: int, *values):
    return [[value] * n for value in values]


@contextlib.contextmanager
def running(workers: int | None = None, scheduler: str | None = None):
    """Allocate in partitions inside this block: on `workers` processes, or on a Dask cluster
    (`scheduler` "local" for a LocalCluster of `workers` processes, or a scheduler's address)."""
    if scheduler is None and not workers or workers == 1 and scheduler is None:
        yield None
        return
    if workers is not None and workers < 1:
        raise HdsError("--workers takes a number of processes, 1 or more")
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            runner = PoolRunner(workers)
        else:
            runner = DaskRunner(stack.enter_context(_dask_client(scheduler, workers or 2)), (workers or 2) * 2)
        token = RUNNER.set(runner)
        try:
            yield runner
        finally:
            RUNNER.reset(token)


@contextlib.contextmanager
def _dask_client(scheduler: str, workers: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise HdsError("--scheduler needs Dask: pip install -e \".[dask]\" (or pip install \"dask[distributed]\")") \
            from None
    if scheduler == "local":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as exc:
        raise HdsError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with 'dask scheduler' "
                       "or use --scheduler local") from None
    with client:
        yield client
