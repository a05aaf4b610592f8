"""What looking forward costs beside the claim of one month: `hds forecast` (six months from an as-of date in
the middle of October 2020, with and without --backtest) and `hds upcoming`, each against
`hds claim --month 2020-10`, on generated data of the sizes of benchmarks/bench.py.

Each command and the claim run in turn, A B A B ..., as fresh processes on one store; each pair gives a
ratio, and the median of the ratios is the figure to quote (it holds when the machine's speed drifts
during the run). Printed per command: median wall time and peak memory of both, and that ratio. The
target is a forecast at most 3 times the claim at 1M discharges.

    python benchmarks/forecast.py                      # 60k discharges, 5 pairs each
    python benchmarks/forecast.py --sizes 6k,60k,300k --runs 3
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench import HDS, dataset, machine, measure  # noqa: E402

BASE = ["claim", "--month", "2020-10"]
COMMANDS = {
    "forecast --as-of 2020-10-15 --to 2021-03": ["forecast", "--as-of", "2020-10-15", "--to", "2021-03"],
    "forecast ... --backtest": ["forecast", "--as-of", "2020-10-15", "--to", "2021-03", "--backtest"],
    "upcoming --as-of 2020-10-15 --days 14": ["upcoming", "--as-of", "2020-10-15", "--days", "14"],
}


def _pairs(args: list[str], db: Path, runs: int) -> list[tuple]:
    command, base = HDS + args + ["--db", str(db)], HDS + BASE + ["--db", str(db)]
    measure(command), measure(base)  # warm the file cache
    return [(measure(command), measure(base)) for _ in range(runs)]


def _line(label: str, pairs: list[tuple]) -> str:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ratio = statistics.median(x[0] / y[0] for x, y in pairs)
    return (f"  {label:<42} {statistics.median(r[0] for r in a):>7.2f}s {max(r[1] for r in a):>6.0f}   "
            f"{statistics.median(r[0] for r in b):>7.2f}s {max(r[1] for r in b):>6.0f}   {ratio:>6.2f}x")


@click.command()
@click.option("--sizes", default="60k", show_default=True, help="Comma-separated sizes of benchmarks/bench.py.")
@click.option("--runs", default=5, show_default=True, help="Pairs of fresh processes per command.")
@click.option("--cache", type=click.Path(path_type=Path, file_okay=False), default=Path(tempfile.gettempdir()) /
              "hds-bench", show_default=True, help="Where generated datasets are kept between runs.")
def main(sizes: str, runs: int, cache: Path) -> None:
    compileall.compile_dir(ROOT, quiet=1, legacy=False)
    print(f"{machine()} before; {runs} pairs each")
    for size in sizes.split(","):
        source = dataset(cache, size)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "hds.db"
            subprocess.run(HDS + ["load", str(source), "--db", str(db)], check=True, capture_output=True)
            print(f"{size}: {'command':<40} {'wall':>8} {'MiB':>6}   {'claim':>8} {'MiB':>6}   {'ratio':>7}")
            for label, args in COMMANDS.items():
                print(_line(label, _pairs(args, db, runs)), flush=True)
    print(f"{machine()} after")


if __name__ == "__main__":
    main()
