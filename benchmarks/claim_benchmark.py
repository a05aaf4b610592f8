"""Wall time and peak memory of `hds claim --month 2020-10`, on the sample and on 10x data.

Each run is a fresh `hds` process, measured with os.wait4 (wall clock and the
child's peak resident set size). Run: python benchmarks/claim_benchmark.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures import SAMPLE_DIR  # noqa: E402
from fixtures.generate import generate, write  # noqa: E402

HDS = [sys.executable, str(ROOT / "cli.py")]
REPEATS = 3


def measure(args: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB) of one run of hds with these arguments."""
    start = time.perf_counter()
    process = subprocess.Popen(HDS + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"hds {' '.join(args)} failed: {process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def report(label: str, args) -> None:
    """`args` is a list, or a function of the repeat number giving one (a fresh store per load)."""
    runs = [measure(args(n) if callable(args) else args) for n in range(REPEATS)]
    seconds = statistics.median(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    print(f"{label:<52} {seconds:>8.2f} s {peak:>9.0f} MiB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = write(generate(seed=10, per_month=2500), Path(tmp) / "big")
        counts = {p.stem: sum(1 for _ in p.open()) - 1 for p in big.glob("*.csv")}
        sample_db, big_db = Path(tmp) / "sample.db", Path(tmp) / "big.db"
        print(f"10x dataset: {counts}")
        print(f"{'run (median of ' + str(REPEATS) + ')':<52} {'wall':>10} {'peak RSS':>13}")
        report("load sample into a new store",
               lambda n: ["load", str(SAMPLE_DIR), "--db", str(sample_db if n == 0 else Path(tmp) / f"s{n}.db")])
        report("claim --month 2020-10 --db (sample)", ["claim", "--month", "2020-10", "--db", str(sample_db)])
        report("claim --month 2020-10 --data fixtures/sample", ["claim", "--month", "2020-10", "--data", str(SAMPLE_DIR)])
        report("load 10x into a new store",
               lambda n: ["load", str(big), "--db", str(big_db if n == 0 else Path(tmp) / f"b{n}.db")])
        report("claim --month 2020-10 --db (10x)", ["claim", "--month", "2020-10", "--db", str(big_db)])
        report("claim --month 2020-10 --data (10x)", ["claim", "--month", "2020-10", "--data", str(big)])
        print("with a ledger: 2020-10 submitted, so later claims recompute every earlier month")
        subprocess.run(HDS + ["submit", "--month", "2020-10", "--db", str(sample_db)], check=True, capture_output=True)
        subprocess.run(HDS + ["submit", "--month", "2020-10", "--db", str(big_db)], check=True, capture_output=True)
        report("claim --month 2021-03 --db (sample, 5 months adjusted)", ["claim", "--month", "2021-03", "--db", str(sample_db)])
        report("claim --month 2021-03 --db (10x, 5 months adjusted)", ["claim", "--month", "2021-03", "--db", str(big_db)])


if __name__ == "__main__":
    main()
