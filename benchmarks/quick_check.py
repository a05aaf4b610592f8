"""What SQLite's quick_check costs every command, which runs it when it opens a store.

For each size: a store is loaded from a generated extract (the sample for 6k), then, in fresh
processes, the time of `PRAGMA quick_check` alone, and of `hds trace P000000` (the quickest command
that reads a store, so the one the check weighs on most) when the store changed since its last
check (an empty cache: the check runs) and when it did not (the check remembered, not run); the
median of --runs each, with the store's size and the machine's load. Usage:

    python benchmarks/quick_check.py --size 6k --size 60k --size 300k
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench import SIZES, generated  # noqa: E402
from fixtures import SAMPLE_DIR  # noqa: E402

CHECK = ("import sqlite3, sys, time; c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True); "
         "t = time.perf_counter(); c.execute('PRAGMA quick_check(3)').fetchall(); print(time.perf_counter() - t)")


def store_of(size: str, work: Path) -> Path:
    db = work / size / "hds.db"
    if db.exists():
        return db
    db.parent.mkdir(parents=True, exist_ok=True)
    source = SAMPLE_DIR
    if SIZES[size] is not None:
        source = work / size / "extract"
        generated(source, 7, *SIZES[size])
    subprocess.run([sys.executable, "-m", "cli", "load", str(source), "--db", str(db)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return db


def median_of(runs: int, command: list[str], inner: bool = False, fresh_cache: bool = False) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, XDG_CACHE_HOME=cache) if fresh_cache else None
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, env=env)
            times.append(float(done.stdout.strip()) if inner else time.perf_counter() - start)
    return statistics.median(times)


@click.command()
@click.option("--size", "sizes", multiple=True, type=click.Choice(list(SIZES)), default=["6k"])
@click.option("--runs", default=5, show_default=True)
@click.option("--work", type=click.Path(path_type=Path), default=Path(tempfile.gettempdir()) / "hds-quick-check")
def main(sizes, runs, work):
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| size | store | quick_check alone | hds trace, store changed (checked) | hds trace, check remembered |")
    print("|---|---|---|---|---|")
    for size in sizes:
        db = store_of(size, work)
        check = median_of(runs, [sys.executable, "-c", CHECK, str(db)], inner=True)
        trace = [sys.executable, "-m", "cli", "trace", "P000000", "--db", str(db)]
        checked = median_of(runs, trace, fresh_cache=True)
        median_of(1, trace)  # the check passed once in the cache this process shares
        remembered = median_of(runs, trace)
        print(f"| {size} | {db.stat().st_size / 2 ** 20:.0f} MiB | {check * 1000:.0f} ms | {checked:.2f} s | "
              f"{remembered:.2f} s |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
