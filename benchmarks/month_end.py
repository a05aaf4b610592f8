"""What each month-end command costs beside the claim itself, on the bundled sample.

The sample is loaded into a fresh store once (and, for the submitted case,
October 2020 submitted); then each command and `hds claim --month 2020-10`
run in turn, A B A B ..., as fresh processes, and each pair gives a ratio.
Printed per command: the median wall time and peak memory of both, and the
median of the pairwise ratios (the figure to quote: it holds when the
machine's speed drifts during the run). The load average is printed before
and after.

    python benchmarks/month_end.py               # 7 pairs of each
    python benchmarks/month_end.py --runs 11
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench import HDS, measure  # noqa: E402
from fixtures import SAMPLE_DIR  # noqa: E402

MONTH = "2020-10"
BASE = ["claim", "--month", MONTH]
COMMANDS = {  # label: (arguments, the store has October submitted)
    "claim -o pack.xlsx (draft)": (["claim", "--month", MONTH, "-o", "{dir}/pack.xlsx"], False),
    "claim -o pack.xlsx (submitted)": (["claim", "--month", MONTH, "-o", "{dir}/pack.xlsx"], True),
    "check": (["check", "--month", MONTH], False),
    "recharge": (["recharge", "--month", MONTH], True),
    "reconcile": (["reconcile", "--month", MONTH], True),
    "invoice": (["invoice", "--month", MONTH], True),
    "memorandum --year 2020": (["memorandum", "--year", MONTH[:4]], True),
    "status": (["status"], True),
}


def _run(args: list[str], db: Path) -> tuple[float, float, int]:
    return measure(HDS + [a.replace("{dir}", str(db.parent)) for a in args] + ["--db", str(db)])


def _store(folder: Path, submitted: bool) -> Path:
    db = folder / ("submitted.db" if submitted else "draft.db")
    subprocess.run(HDS + ["load", str(SAMPLE_DIR), "--db", str(db)], check=True, capture_output=True)
    if submitted:
        subprocess.run(HDS + ["submit", "--month", MONTH, "--db", str(db)], check=True, capture_output=True)
    return db


@click.command()
@click.option("--runs", default=7, show_default=True, help="Pairs of fresh processes per command.")
def main(runs: int) -> None:
    compileall.compile_dir(ROOT, quiet=1, legacy=False)
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}; {runs} pairs each; sample data")
    with tempfile.TemporaryDirectory() as tmp:
        stores = {submitted: _store(Path(tmp), submitted) for submitted in (False, True)}
        print(f"{'command':<34} {'wall':>8} {'MiB':>6}   {'claim':>8} {'MiB':>6}   {'ratio (median of pairs)':>24}")
        for label, (args, submitted) in COMMANDS.items():
            db = stores[submitted]
            _run(args, db), _run(BASE, db)  # warm the file cache
            pairs = [(_run(args, db), _run(BASE, db)) for _ in range(runs)]
            a = [p[0] for p in pairs]
            b = [p[1] for p in pairs]
            ratio = statistics.median(x[0] / y[0] for x, y in pairs)
            print(f"{label:<34} {statistics.median(r[0] for r in a):>7.3f}s {max(r[1] for r in a):>6.0f}   "
                  f"{statistics.median(r[0] for r in b):>7.3f}s {max(r[1] for r in b):>6.0f}   {ratio:>23.2f}x")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
