"""Wall time and peak memory of hds's main jobs from 6 thousand to a million discharges.

Every figure is the median of several fresh `hds` processes (3 unless --runs
says otherwise), timed from outside, with the child's peak resident set
size from GNU time (os.wait4 where it is absent). The machine's cores and load average are
printed before and after. Side by side in the same run: a naive per-day loop
over the same month (benchmarks/naive_month.py, standard library and
tests/reference.py, no engine), whose month total must equal hds's.

    python benchmarks/bench.py                      # every size (takes a while)
    python benchmarks/bench.py --sizes 6k,60k       # a quick look

The datasets come from the project's generator and are kept in --cache
(default /tmp/hds-bench) between runs. The project's modules are byte-compiled
first, as they are after any ordinary first run.
"""

from __future__ import annotations

import compileall
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures import SAMPLE_DIR  # noqa: E402

HDS = [str(Path(sys.executable).parent / "hds")]
NAIVE = [sys.executable, str(ROOT / "benchmarks" / "naive_month.py")]
MONTH = "2020-10"
SUBMITTED = ["2020-04", "2020-05", "2020-06", "2020-07", "2020-08", "2020-09"]
SIZES = {  # name: (discharges a month, mean episodes per discharge or None for the generator's own)
    "6k": None, "60k": (2430, None), "300k": (12150, None), "1M": (40500, None), "1M x1.8": (40500, 1.82),
}
TARGETS = {"claim": (4.0, 1536), "adjust": (8.0, 2048), "load": (30.0, 3072)}


TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def measure(command: list[str], out=subprocess.DEVNULL) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit status) of one fresh process.

    The peak comes from GNU time where the machine has it: a child forked straight from this process
    would count this process's pages as its own (Linux keeps the high-water mark across exec), and this
    process grows as it reads the datasets. Without GNU time, os.wait4's figure is used and may be a
    few MiB high."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as peak:
        wrapped = [TIME, "-f", "%M", "-o", peak.name, *command] if TIME else command
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, stdout=out, stderr=errors, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        if status != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed: {errors.read().decode()[-2000:]}")
        kib = int(peak.read().split()[-1]) if TIME else usage.ru_maxrss
    return seconds, kib / 1024, status


class Report:
    def __init__(self, runs: int):
        self.runs = runs
        self.rows: list[tuple] = []

    def time(self, size: str, label: str, command, target: str | None = None) -> float:
        """Median wall of `runs` fresh processes; `command` may be a function of the run number."""
        results = [measure(command(n) if callable(command) else command) for n in range(self.runs)]
        walls = sorted(r[0] for r in results)
        median, peak = statistics.median(walls), max(r[1] for r in results)
        verdict = ""
        if target:
            seconds, mib = TARGETS[target]
            verdict = "meets" if median <= seconds and peak <= mib else "MISSES"
            verdict += f" (<= {seconds:g} s, {mib / 1024:g} GB)"
        self.rows.append((size, label, median, walls[0], walls[-1], peak, verdict))
        print(f"  {label:<58} {median:7.2f} s  ({walls[0]:.2f}-{walls[-1]:.2f})  {peak:7.0f} MiB  {verdict}",
              flush=True)
        return median


def dataset(cache: Path, size: str) -> Path:
    if SIZES[size] is None:
        return SAMPLE_DIR
    folder = cache / size.replace(" ", "")
    if not (folder / "episodes.csv").exists():
        print(f"  generating {size} ...", flush=True)
        generated(folder, 7, *SIZES[size])
    return folder


def generated(folder: Path, seed: int, per_month: int, episodes: float | None) -> None:
    """The generator in a process of its own, so that this one stays small: a child's peak memory
    counts the parent's pages it was forked with."""
    command = [sys.executable, "-m", "fixtures.generate", "--out", str(folder), "--seed", str(seed),
               "--per-month", str(per_month)] + (["--episodes", str(episodes)] if episodes else [])
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)


def changed_copy(source: Path, target: Path, share: float) -> Path:
    """A later extract of the same data where `share` of the discharges have a new Care Act assessment."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    rng = random.Random(3)
    with (source / "discharges.csv").open() as handle:
        discharges = [(r["discharge_id"], r["discharge_date"]) for r in csv.DictReader(handle)
                      if "2020-04" <= r["discharge_date"][:7] <= "2020-09"]
    with (target / "events.csv").open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for n, (discharge_id, day) in enumerate(rng.sample(discharges, int(len(discharges) * share))):
            writer.writerow([f"VB{n:07d}", discharge_id, "care_act_assessment", day, ""])
    return target


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


@click.command()
@click.option("--sizes", default=",".join(SIZES), show_default=True, help="Comma-separated sizes to run.")
@click.option("--runs", type=int, default=3, show_default=True, help="Fresh processes per figure.")
@click.option("--cache", type=click.Path(path_type=Path), default=Path("/tmp/hds-bench"), show_default=True)
def main(sizes, runs, cache):
    """Print the figures of the columnar core's targets, size by size."""
    compileall.compile_dir(ROOT / "hds", quiet=1)
    compileall.compile_dir(ROOT / "rules", quiet=1)
    compileall.compile_dir(ROOT / "claims", quiet=1)
    compileall.compile_file(ROOT / "cli.py", quiet=1)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"hds benchmark, {time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, {machine()}")
    report = Report(runs)
    for size in [s.strip() for s in sizes.split(",")]:
        data = dataset(cache, size)
        counts = {p.stem: sum(1 for _ in p.open()) - 1 for p in sorted(data.glob("*.csv"))}
        print(f"\n{size}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()) + f"  [{machine()}]", flush=True)
        stores = cache / f"stores-{size.replace(' ', '')}"
        shutil.rmtree(stores, ignore_errors=True)
        stores.mkdir()
        db = stores / "hds.db"
        big = counts.get("discharges", 0) >= 900_000
        report.time(size, "hds load (into a new store)",
                    lambda n: HDS + ["load", str(data), "--db", str(db if n == 0 else stores / f"load{n}.db")],
                    "load" if big else None)
        claim = report.time(size, f"hds claim --month {MONTH}", HDS + ["claim", "--month", MONTH, "--db", str(db)],
                            "claim" if big else None)
        naive = report.time(size, "naive per-day loop, same month (stdlib + tests/reference.py)",
                            NAIVE + [str(db), MONTH])
        _check_totals(db, MONTH)
        print(f"  -> the naive loop takes {naive / claim:.1f}x as long as hds claim", flush=True)
        version = report.time(size, "hds --version", HDS + ["--version"])
        trace = report.time(size, "hds trace P000000", HDS + ["trace", "P000000", "--db", str(db)])
        print(f"  -> trace takes {trace / version:.2f}x hds --version", flush=True)
        ledger = stores / "ledger.db"
        shutil.copy(db, ledger)
        for month in SUBMITTED:
            submitted(ledger, month, stores)
        report.time(size, f"claim {MONTH}, six months submitted, nothing loaded since",
                    HDS + ["claim", "--month", MONTH, "--db", str(ledger)], "adjust" if big else None)
        changed = changed_copy(data, cache / "changed", 0.01)
        measure(HDS + ["load", str(changed), "--db", str(ledger)])
        report.time(size, f"claim {MONTH}, six submitted, then 1% of them re-assessed",
                    HDS + ["claim", "--month", MONTH, "--db", str(ledger)], "adjust" if big else None)
        different = cache / "different"
        shutil.rmtree(different, ignore_errors=True)
        generated(different, 99, *(SIZES[size] or (250, None)))
        measure(HDS + ["load", str(different), "--db", str(ledger), "--allow-removals"])
        report.time(size, f"claim {MONTH}, six submitted, then a wholly new extract",  # a stress case: every
                    HDS + ["claim", "--month", MONTH, "--db", str(ledger)])  # past line re-explained; no target
        shutil.rmtree(stores, ignore_errors=True)
    print(f"\nafter: {machine()}")


def submitted(db: Path, month: str, folder: Path) -> None:
    """Submit a month as a finance officer would: the findings of the checks listed, the errors
    (the generator's repeat patients are sometimes funded twice) acknowledged, then submitted."""
    findings = subprocess.run(HDS + ["check", "--month", month, "--csv", "--db", str(db)], capture_output=True,
                              text=True, check=True, cwd=ROOT).stdout
    rows = list(csv.DictReader(findings.splitlines()))
    acknowledged = folder / f"acknowledged-{month}.csv"
    with acknowledged.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["finding", "because"])
        for row in rows:
            if row["severity"] == "error":
                writer.writerow([f"{row['code']}:{row['subject'].lstrip(chr(39))}", "benchmark: synthetic data"])
    measure(HDS + ["submit", "--month", month, "--db", str(db), "--acknowledgements", str(acknowledged)])


def _check_totals(db: Path, month: str) -> None:
    """The naive loop and hds must agree on the month's individual total."""
    naive = subprocess.run(NAIVE + [str(db), month], capture_output=True, text=True, check=True).stdout
    naive_total = naive.strip().splitlines()[-1].split()[-1]
    claim = subprocess.run(HDS + ["claim", "--month", month, "--db", str(db), "--format", "json"],
                           capture_output=True, text=True, check=True).stdout
    import json

    hds_total = json.loads(claim)["totals"]["individual"]
    if naive_total != hds_total:
        raise SystemExit(f"the naive loop says {naive_total}, hds says {hds_total}")
    print(f"  -> both give the month's individual lines as £{hds_total}", flush=True)


if __name__ == "__main__":
    main()
