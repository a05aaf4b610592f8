"""What `hds load` costs against reading the same files with pandas: a first load into a new store and a
follow-up load of the same extract with a few hundred rows changed, each also without the analysts'
refresh that `hds load` ends with (the library's load alone, as `hds load` calls it).

Every figure is the median of several fresh processes (3 unless --runs says otherwise), wall time and
CPU time (user + system) from GNU time, with the peak resident memory of the slowest; the machine's
cores and load average are printed before and after. The floor is pandas' `read_csv` of every CSV file
of the extract, all columns as text, timed inside its own fresh process (the read alone, and the whole
process with Python and pandas starting). Targets (issue 23): the first load at most 4x the read; the
follow-up at most 0.5x the first load.

    python benchmarks/load.py                                   # the 300k extract of bench.py's cache
    python benchmarks/load.py --data /tmp/hds-bench/300k --runs 3 --work /tmp/load-bench
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
TIME = shutil.which("time") or "/usr/bin/time"
PANDAS_READ = ("import sys, time, glob; import pandas as pd; start = time.perf_counter(); "
               "[pd.read_csv(f, dtype=str, keep_default_na=False) for f in sorted(glob.glob(sys.argv[1] + '/*.csv'))]; "
               "print(time.perf_counter() - start)")
LOAD_ONLY = ("import sys; from pathlib import Path; from claims.commands.session import load; "
             "load(Path(sys.argv[1]), Path(sys.argv[2]))")
READ_TARGET, FOLLOW_UP_TARGET = 4.0, 0.5


def measure(command: list[str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak MiB, standard output) of one fresh process, from GNU time, run in
    the checkout of the hds timed (its virtual environment's parent)."""
    checkout = Path(command[0]).parent.parent.parent if Path(command[0]).name in ("hds", "python") else ROOT
    with tempfile.NamedTemporaryFile("r") as out:
        done = subprocess.run([TIME, "-f", "%e %U %S %M", "-o", out.name, *command], cwd=checkout,
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
        wall, user, system, kib = out.read().split()[-4:]
    return float(wall), float(user) + float(system), int(kib) / 1024, done.stdout


def median_of(runs: int, command, prepare=None) -> tuple[float, float, float]:
    """(median wall, median CPU, peak MiB) of `runs` fresh processes; `prepare(n)` runs untimed before each."""
    results = []
    for n in range(runs):
        if prepare:
            prepare(n)
        results.append(measure(command(n) if callable(command) else command))
    return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
            max(r[2] for r in results))


def changed_copy(source: Path, target: Path) -> int:
    """The same extract with 300 rows changed: 150 episodes cost a pound a week more, 50 discharges change
    kind, 100 Care Act assessments are added. The rows changed."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    rng = random.Random(5)

    def rewrite(name: str, column: str, change, count: int) -> None:
        with (source / name).open(newline="") as handle:
            rows = list(csv.reader(handle))
        j = rows[0].index(column)
        for i in rng.sample(range(1, len(rows)), count):
            rows[i][j] = change(rows[i][j])
        with (target / name).open("w", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)

    rewrite("episodes.csv", "weekly_cost", lambda cost: f"{float(cost) + 1:.2f}", 150)
    rewrite("discharges.csv", "kind", lambda kind: "hospital" if kind == "admission_avoidance" else "admission_avoidance",
            50)
    with (source / "discharges.csv").open(newline="") as handle:
        discharges = [row["discharge_id"] for row in csv.DictReader(handle)]
    with (target / "events.csv").open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for n, discharge in enumerate(rng.sample(discharges, 100)):
            writer.writerow([f"VB{n:07d}", discharge, "care_act_assessment", "2021-01-05", ""])
    return 300


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def line(label: str, figures: tuple[float, float, float], note: str = "") -> None:
    wall, cpu, peak = figures
    print(f"  {label:<44} {wall:6.2f} s wall {cpu:6.2f} s CPU {peak:6.0f} MiB  {note}", flush=True)


@click.command()
@click.option("--data", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default=Path("/tmp/hds-bench/300k"), show_default=True, help="The extract (bench.py's cache).")
@click.option("--runs", type=int, default=3, show_default=True, help="Fresh processes per figure.")
@click.option("--work", type=click.Path(path_type=Path), default=Path("/tmp/hds-load-bench"), show_default=True,
              help="Where the stores are made (emptied first).")
@click.option("--hds", "hds", default=str(Path(sys.executable).parent / "hds"), show_default=True,
              help="The hds to time (another checkout's, to compare).")
def main(data, runs, work, hds):
    """Time hds load, first and follow-up, against a pandas read of the same files."""
    python = str(Path(hds).parent / "python")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    counts = {p.stem: sum(1 for _ in p.open()) - 1 for p in sorted(data.glob("*.csv"))}
    print(f"hds load benchmark, Python {sys.version.split()[0]}, {machine()}")
    print(f"{data}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()), flush=True)
    reads = [measure([python, "-c", PANDAS_READ, str(data)]) for _ in range(runs)]
    read = statistics.median(float(r[3]) for r in reads)
    process = tuple(statistics.median(r[k] for r in reads) for k in range(2)) + (max(r[2] for r in reads),)
    line("pandas read_csv, all columns text (process)", process, f"the read alone: {read:.2f} s")
    first, bare = first_loads(data, runs, work, hds, python, read, process[0])
    follow_ups(data, runs, work, hds, python, first, bare)
    print(f"after: {machine()}")
    shutil.rmtree(work, ignore_errors=True)


def first_loads(data: Path, runs: int, work: Path, hds: str, python: str, read: float, process: float):
    """`hds load` into new stores, and the load alone; (each one's figures). Leaves work/first.db."""
    def fresh(n):
        for suffix in ("", "-wal", "-shm", ".datasette.json"):
            Path(f"{work / f'new{n}.db'}{suffix}").unlink(missing_ok=True)

    first = median_of(runs, lambda n: [hds, "load", str(data), "--db", str(work / f"new{n}.db")], fresh)
    line("hds load, new store", first, f"{first[0] / read:.2f}x the read, {first[0] / process:.2f}x the whole "
         f"pandas process (target <= {READ_TARGET:g}x)")
    bare = median_of(runs, lambda n: [python, "-c", LOAD_ONLY, str(data), str(work / f"new{n}.db")], fresh)
    line("  the load alone, without the analysts' refresh", bare,
         f"{bare[0] / read:.2f}x the read, {bare[0] / process:.2f}x the whole pandas process")
    shutil.copy(work / "new0.db", work / "first.db")
    return first, bare


def follow_ups(data: Path, runs: int, work: Path, hds: str, python: str, first: tuple, bare: tuple) -> None:
    """The changed extract loaded over copies of work/first.db: by `hds load`, and by the load alone."""
    changed = changed_copy(data, work / "changed")

    def copy(n):
        for suffix in ("-wal", "-shm"):
            Path(f"{work / f'again{n}.db'}{suffix}").unlink(missing_ok=True)
        shutil.copy(work / "first.db", work / f"again{n}.db")

    again = median_of(runs, lambda n: [hds, "load", str(work / "changed"), "--db", str(work / f"again{n}.db")], copy)
    line(f"hds load, follow-up ({changed} rows changed)", again,
         f"{again[0] / first[0]:.2f}x the first load, CPU {again[1] / first[1]:.2f}x (target <= {FOLLOW_UP_TARGET:g}x)")
    again_bare = median_of(runs, lambda n: [python, "-c", LOAD_ONLY, str(work / "changed"), str(work / f"again{n}.db")],
                           copy)
    line("  the load alone, without the analysts' refresh", again_bare,
         f"{again_bare[0] / bare[0]:.2f}x the first load alone, CPU {again_bare[1] / bare[1]:.2f}x")


if __name__ == "__main__":
    main()
