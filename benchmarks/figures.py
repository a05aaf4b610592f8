"""The month end on a generated extract: each command beside `hds claim --month M`, and what deciding
every month once at each load (``claims.figures``) adds to the load.

    python -m fixtures.generate --out /tmp/hds-bench/300k --seed 7 --per-month 12150
    python benchmarks/figures.py /tmp/hds-bench/300k            # 3 fresh processes each
    python benchmarks/figures.py /tmp/hds-bench/300k --runs 5 --skip-load

The extract is loaded into a fresh store (timed), and a copy of it changed in a few hundred rows is
made for the follow-up load. Every command runs as a fresh process on a store of its own state
(a copy, so a submit never lands in the store the next run uses); the claim beside it runs on the
same copy, and pays the store's page check (``hds.integrity``) alike. `PYTHONPATH=DIR` runs another
checkout's hds (e.g. an archive of main, for a before and after). Printed:
the median wall time and the peak memory of each command, its ratio to the claim measured in the
same run (median of the pairs), the cores and the load average before and after.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench import HDS, measure  # noqa: E402

MONTH, NEXT = "2020-10", "2020-11"


def _hds(*args, out=subprocess.DEVNULL) -> None:
    subprocess.run(HDS + ["-q", *map(str, args)], check=True, stdout=out, stderr=subprocess.DEVNULL)


def changed_copy(extract: Path, folder: Path, rows: int = 300, seed: int = 3) -> Path:
    """A copy of the extract with `rows` episodes' weekly costs raised by £7 (a follow-up load)."""
    out = folder / "changed"
    shutil.copytree(extract, out)
    with (extract / "episodes.csv").open(newline="") as handle:
        table = list(csv.reader(handle))
    cost = table[0].index("weekly_cost")
    for row in random.Random(seed).sample(table[1:], rows):
        row[cost] = f"{float(row[cost].replace(',', '').replace('£', '')) + 7:.2f}"
    with (out / "episodes.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(table)
    return out


def acknowledged(db: Path, folder: Path) -> Path:
    """The month's findings as `hds check --csv` writes them, each error given a reason."""
    raw, out = folder / "findings.csv", folder / "acknowledged.csv"
    _hds("check", "--month", MONTH, "--csv", "-o", raw, "--db", db)
    with raw.open(newline="", encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    severity = table[0].index("severity")
    with out.open("w", newline="") as handle:
        csv.writer(handle).writerows([table[0] + ["because"]] + [
            r + (["checked with the provider"] if r[severity] == "error" else [""]) for r in table[1:]])
    return out


def _fresh(db: Path, to: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            shutil.copy(f"{db}{suffix}", f"{to}{suffix}")
    _hds("log", "--db", to)  # the page check of the copy, remembered
    return to


def _timed(args: list, db: Path, folder: Path, runs: int, claim: list) -> tuple[list, list]:
    """`runs` pairs (command, claim), each on a fresh copy of `db`."""
    pairs = []
    for i in range(runs):
        copy = _fresh(db, folder / f"run{i}.db")
        a = measure(HDS + ["-q", *map(str, args), "--db", str(copy)])
        b = measure(HDS + ["-q", *claim, "--db", str(copy)])
        pairs.append((a, b))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _line(label: str, a: list, b: list | None) -> None:
    wall = statistics.median(r[0] for r in a)
    text = f"{label:<44} {wall:>7.2f} s {max(r[1] for r in a):>6.0f} MiB"
    if b:
        ratio = statistics.median(x[0] / y[0] for x, y in zip(a, b))
        text += f"   claim {statistics.median(r[0] for r in b):>5.2f} s   {ratio:>5.2f}x"
    if any(r[2] for r in a):
        text += "   (FAILED)"
    print(text, flush=True)


REFRESH = """
import sys, time
from claims.commands.session import library, scheme_names
from claims.figures import decided_totals
from hds.data import MemorySource
from hds.load import read
from hds.month import Month
lib = library()
data = read(sys.argv[1], scheme_names(lib)).data()
start = time.perf_counter()
source = MemorySource(data)
first, last = Month.of_day(source.first_day()), Month.of_day(source.latest_day())
decided_totals(data.linked(), lib, first.number, last.number)
print(time.perf_counter() - start)
"""


def refresh_cost(extract: Path, runs: int) -> float:
    """What a first load spends deciding every month and summing the figures (the files already read):
    the median of `runs` fresh processes, in seconds."""
    times = [float(subprocess.run([sys.executable, "-c", REFRESH, str(extract)], check=True, capture_output=True,
                                  text=True, cwd=ROOT).stdout) for _ in range(runs)]
    return statistics.median(times)


@click.command()
@click.argument("extract", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--runs", default=3, show_default=True, help="Fresh processes per command.")
@click.option("--skip-load", is_flag=True, help="Time the commands only (the store is still loaded once).")
def main(extract: Path, runs: int, skip_load: bool) -> None:
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}; {runs} runs each; {extract}")
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        folder = Path(tmp)
        changed = changed_copy(extract, folder)
        db = folder / "hds.db"
        loads = []
        for i in range(1 if skip_load else runs):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            loads.append(measure(HDS + ["-q", "load", str(extract), "--db", str(db)]))
        _line("hds load (a new store)", loads, None)
        print(f"  of which deciding every month once and summing its figures: {refresh_cost(extract, runs):.2f} s")
        base = _fresh(db, folder / "base.db")
        follow = [measure(HDS + ["-q", "load", str(changed), "--db", str(_fresh(base, folder / f"f{i}.db"))])
                  for i in range(runs)]
        _line("a follow-up load, 300 rows changed", follow, None)
        print(f"  follow-up / first load: {statistics.median(r[0] for r in follow) / statistics.median(r[0] for r in loads):.2f}x")
        claim = ["claim", "--month", MONTH]
        ack = acknowledged(base, folder)
        submitted = _fresh(base, folder / "submitted.db")
        _hds("submit", "--month", MONTH, "--acknowledgements", ack, "--db", submitted)
        _hds("load", changed, "--db", submitted)
        for label, args, store in (
                ("hds claim --month (itself)", claim, base),
                ("hds check --month", ["check", "--month", MONTH, "--csv"], base),
                ("hds status", ["status", "--json"], base),
                ("hds claim --month -o pack.xlsx (draft)", claim + ["-o", folder / "pack.xlsx"], base),
                ("hds submit --month (errors acknowledged)", ["submit", "--month", MONTH, "--acknowledgements", ack],
                 base),
                ("hds claim --month NEXT (adjustments, after a load)", ["claim", "--month", NEXT, "--json"],
                 submitted),
                ("hds recharge --month (submitted)", ["recharge", "--month", MONTH, "--json"], submitted),
                ("hds reconcile --month (submitted)", ["reconcile", "--month", MONTH, "--json"], submitted),
                ("hds status (a month submitted)", ["status", "--json"], submitted)):
            _line(label, *_timed(args, store, folder, runs, claim))
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
