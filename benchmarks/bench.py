"""Wall time and peak memory of hds's main jobs from 6 thousand to a million discharges.

Every figure is the median of several fresh `hds` processes (3 unless --runs
says otherwise), timed from outside, with the child's peak resident set
size from GNU time (os.wait4 where it is absent). The machine's cores and load average are
printed before and after. Side by side in the same run: a naive per-day loop
over the same month (benchmarks/naive_month.py, standard library and
tests/reference.py, no engine), whose month total must equal hds's.

    python benchmarks/bench.py                      # every size (takes a while)
    python benchmarks/bench.py --sizes 6k,60k       # a quick look
    python benchmarks/bench.py --sizes 300k --only month-end   # the month end's ratios alone
    python benchmarks/bench.py --sizes 300k --only month-end --random-nhs-numbers   # the checks' stress case

The month end (issue 23) is measured step by step in the same run, each step beside what it
should cost: the load beside a pandas read_csv of the same files (every column text, the floor of
any load), check, status, the pack, submit and the next month's claim beside the claim (check
timed on a copy of the store without the findings a command keeps, so that its checks run; then
again, reading what it kept, as the pack after it does; the pack is also timed without them, for a
pack made before any check; submit always runs its own checks), a
follow-up load of the same extract with a few hundred rows changed beside the first load, the
trace beside `hds --version`; each ratio is printed with its target and whether it meets it.

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
import sqlite3
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
    "6k": None, "60k": (2430, None), "300k": (12150, None), "575k": (23300, None), "1M": (40500, None),
    "1M x1.8": (40500, 1.82),
}
TARGETS = {"claim": (4.0, 1536), "adjust": (8.0, 2048), "load": (30.0, 3072)}


# the month end's targets (issue 23): (what, most or least, bound)
RATIO_TARGETS = {
    "month end (load, claim, check, pack, submit) / read_csv": ("at most", 15.0),
    "load / read_csv": ("at most", 4.0),
    "follow-up load (a few hundred rows changed) / first load": ("at most", 0.5),
    "naive loop / claim": ("at least", 10.0),
    "check / claim": ("at most", 1.5),
    "status / claim": ("at most", 2.0),
    "pack / claim": ("at most", 3.0),
    "submit / claim": ("at most", 2.0),
    "next month's claim, with adjustments / claim": ("at most", 1.5),
    "trace / --version": ("at most", 1.5),
}
READ_CSV = ("import sys, pandas\n"
            "for name in sys.argv[1:]:\n"
            "    pandas.read_csv(name, dtype=str, keep_default_na=False)\n")
PAIRS = 9  # pairs of the trace and --version
CHANGED_ROWS = 300  # episodes whose weekly cost a follow-up extract changes

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
        self.found: dict[str, dict[str, tuple[float, str]]] = {}

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


    def pairs(self, size: str, label: str, command: list[str], base_label: str, base: list[str]) -> float:
        """`command` and `base` in turn, PAIRS times each (after one of each to warm the file cache): the
        median of the pairs' ratios, which holds while the machine's speed drifts (a command of a tenth
        of a second is otherwise at the mercy of whatever else the machine runs)."""
        measure(command), measure(base)
        pairs = [(measure(command), measure(base)) for _ in range(PAIRS)]
        for name, results in ((label, [p[0] for p in pairs]), (base_label, [p[1] for p in pairs])):
            walls = sorted(r[0] for r in results)
            median, peak = statistics.median(walls), max(r[1] for r in results)
            self.rows.append((size, name, median, walls[0], walls[-1], peak, ""))
            print(f"  {name:<58} {median:7.2f} s  ({walls[0]:.2f}-{walls[-1]:.2f})  {peak:7.0f} MiB", flush=True)
        return statistics.median(a[0] / b[0] for a, b in pairs)

    def ratios(self, size: str, found: dict[str, float]) -> None:
        """Each ratio beside its target: meets or MISSES."""
        print(f"  {'ratio (medians of the same run)':<58} {'found':>7}   target", flush=True)
        for label, (bound, target) in RATIO_TARGETS.items():
            if label in found:
                ratio = found[label]
                meets = ratio <= target if bound == "at most" else ratio >= target
                verdict = "meets" if meets else "MISSES"
                self.found.setdefault(size, {})[label] = (ratio, verdict)
                print(f"  {label:<58} {ratio:6.2f}x   {bound} {target:g}x: {verdict}", flush=True)

    def table(self) -> None:
        """The ratios of every size as one Markdown table (the README's)."""
        if not self.found:
            return
        sizes = list(self.found)
        print("\n| ratio | target | " + " | ".join(sizes) + " |")
        print("|---|---|" + "---|" * len(sizes))
        for label, (bound, target) in RATIO_TARGETS.items():
            cells = [f"{self.found[s][label][0]:.2f}x {self.found[s][label][1]}" if label in self.found[s] else ""
                     for s in sizes]
            print(f"| {label} | {bound} {target:g}x | " + " | ".join(cells) + " |")


def month_end(report: Report, size: str, data: Path, stores: Path, load: float, claim: float) -> dict[str, float]:
    """The month end's steps on the store `load` made (stores/hds.db), each timed in fresh processes;
    their ratios to the read floor, the claim and the first load."""
    db = stores / "hds.db"
    files = [str(p) for p in sorted(data.glob("*.csv"))]
    read = report.time(size, "pandas read_csv of the same files (all columns text)",
                       [sys.executable, "-c", READ_CSV, *files])
    on = ["--db", str(db)]
    check = report.time(size, f"hds check --month {MONTH} (its checks run)", lambda n: HDS + [
        "check", "--month", MONTH, "--db", str(fresh(db, stores / "checked.db", forget_findings=True))])
    report.time(size, f"hds check --month {MONTH} again (what it found kept)",
                HDS + ["check", "--month", MONTH] + on)  # the first run keeps them in hds.db
    status = report.time(size, "hds status", HDS + ["status"] + on)
    pack = report.time(size, f"hds claim --month {MONTH} -o pack.xlsx (the month's pack)",
                       HDS + ["claim", "--month", MONTH, "-o", str(stores / "pack.xlsx")] + on)
    report.time(size, "the same pack with its checks run (no check before it)", lambda n: HDS + [
        "claim", "--month", MONTH, "-o", str(stores / "pack.xlsx"),
        "--db", str(fresh(db, stores / "packed.db", forget_findings=True))])
    acknowledged = acknowledgements(db, MONTH, stores)
    submit = report.time(size, f"hds submit --month {MONTH} (errors acknowledged)", lambda n: HDS + [
        "submit", "--month", MONTH, "--acknowledgements", str(acknowledged),
        "--db", str(fresh(db, stores / "submitted.db"))])
    changed = few_changed(data, stores / "changed", CHANGED_ROWS)
    follow = report.time(size, f"follow-up load, {CHANGED_ROWS} episodes changed (October submitted)", lambda n: HDS + [
        "load", str(changed), "--db", str(fresh(stores / "submitted.db", stores / "followed.db"))])
    after = report.time(size, "hds claim --month 2020-11 (October's adjustments in it)",
                        HDS + ["claim", "--month", "2020-11", "--db", str(stores / "followed.db")])
    return {"month end (load, claim, check, pack, submit) / read_csv": (load + claim + check + pack + submit) / read,
            "load / read_csv": load / read, "check / claim": check / claim, "status / claim": status / claim,
            "pack / claim": pack / claim, "submit / claim": submit / claim,
            "follow-up load (a few hundred rows changed) / first load": follow / load,
            "next month's claim, with adjustments / claim": after / claim}


def fresh(source: Path, target: Path, forget_findings: bool = False) -> Path:
    """A copy of the store `source` at `target` (its write-ahead log folded in first), whose page check
    hds already remembers, as it would after the user's own load: the step is timed, not the check.
    `forget_findings`: without the findings any command kept (claims.checked), so its checks run."""
    subprocess.run(HDS + ["log", "--db", str(source)], check=True, capture_output=True, cwd=ROOT)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, target)
    if forget_findings:
        with sqlite3.connect(target) as conn:
            conn.execute("DELETE FROM checked_findings")
        conn.close()
    subprocess.run(HDS + ["log", "--db", str(target)], check=True, capture_output=True, cwd=ROOT)
    return target


def few_changed(source: Path, target: Path, rows: int) -> Path:
    """The same extract with the weekly cost of `rows` episodes that run in MONTH raised by £1."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    with (source / "episodes.csv").open(newline="") as handle:
        episodes = list(csv.reader(handle))
    head, body = episodes[0], episodes[1:]
    start, end, cost = head.index("start_date"), head.index("end_date"), head.index("weekly_cost")
    running = [n for n, row in enumerate(body) if row[start][:7] <= MONTH and (not row[end] or row[end][:7] >= MONTH)]
    for n in random.Random(23).sample(running, min(rows, len(running))):
        body[n][cost] = f"{float(body[n][cost].replace(',', '').lstrip('£')) + 1:.2f}"
    with (target / "episodes.csv").open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([head] + body)
    return target


def dataset(cache: Path, size: str, random_nhs_numbers: bool = False) -> Path:
    """The generated extract of `size`, kept in `cache` and made again when the generator has changed
    since (its source's SHA-256 is kept beside it, in NAME.generator). `random_nhs_numbers`: the
    generator's stress case (a random NHS number for every discharge, shared by chance), kept apart."""
    if SIZES[size] is None:
        return SAMPLE_DIR
    folder = cache / (size.replace(" ", "") + ("-random-nhs" if random_nhs_numbers else ""))
    stamp = cache / f"{folder.name}.generator"  # beside the extract, not in it (a load would note it)
    if not (folder / "episodes.csv").exists() or not stamp.exists() or stamp.read_text() != _generator():
        print(f"  generating {size}{' (random NHS numbers)' if random_nhs_numbers else ''} ...", flush=True)
        stamp.unlink(missing_ok=True)  # stamped again only once it is whole
        shutil.rmtree(folder, ignore_errors=True)
        generated(folder, 7, *SIZES[size], random_nhs_numbers=random_nhs_numbers)
        stamp.write_text(_generator())
    return folder


def _generator() -> str:
    import hashlib

    return hashlib.sha256((ROOT / "fixtures" / "generate.py").read_bytes()).hexdigest()


def generated(folder: Path, seed: int, per_month: int, episodes: float | None, random_nhs_numbers: bool = False) -> None:
    """The generator in a process of its own, so that this one stays small: a child's peak memory
    counts the parent's pages it was forked with."""
    command = [sys.executable, "-m", "fixtures.generate", "--out", str(folder), "--seed", str(seed),
               "--per-month", str(per_month)] + (["--episodes", str(episodes)] if episodes else [])
    command += ["--random-nhs-numbers"] if random_nhs_numbers else []
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
@click.option("--only", type=click.Choice(["all", "month-end"]), default="all", show_default=True,
              help="month-end: the month end's steps and ratios only, not the adjustments' stress cases.")
@click.option("--random-nhs-numbers", is_flag=True,
              help="Extracts whose every discharge has a random NHS number (the generator's stress case for the "
                   "checks: numbers shared by chance), not one a patient.")
def main(sizes, runs, cache, only, random_nhs_numbers):
    """Print the figures of the columnar core's targets, size by size."""
    compileall.compile_dir(ROOT / "hds", quiet=1)
    compileall.compile_dir(ROOT / "rules", quiet=1)
    compileall.compile_dir(ROOT / "claims", quiet=1)
    compileall.compile_file(ROOT / "cli.py", quiet=1)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"hds benchmark, {time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, {machine()}")
    report = Report(runs)
    for size in [s.strip() for s in sizes.split(",")]:
        one_size(report, cache, size, only, random_nhs_numbers)
    print(f"\nafter: {machine()}")
    report.table()


def one_size(report: Report, cache: Path, size: str, only: str, random_nhs_numbers: bool = False) -> None:
    """Every figure of one size: the claim against the naive loop, the trace against start-up, the month
    end's steps and ratios, then (unless `only` says month-end) the claim's adjustments' cases."""
    data = dataset(cache, size, random_nhs_numbers)
    label = f"{size}, random NHS numbers" if random_nhs_numbers else size  # as its figures are labelled
    counts = {p.stem: sum(1 for _ in p.open()) - 1 for p in sorted(data.glob("*.csv"))}
    print(f"\n{label}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()) + f"  [{machine()}]", flush=True)
    stores = cache / f"stores-{size.replace(' ', '')}{'-random-nhs' if random_nhs_numbers else ''}"
    shutil.rmtree(stores, ignore_errors=True)
    stores.mkdir()
    db = stores / "hds.db"
    big = counts.get("discharges", 0) >= 900_000
    load = report.time(label, "hds load (into a new store)",
                       lambda n: HDS + ["load", str(data), "--db", str(db if n == 0 else stores / f"load{n}.db")],
                       "load" if big else None)
    claim = report.time(label, f"hds claim --month {MONTH}", HDS + ["claim", "--month", MONTH, "--db", str(db)],
                        "claim" if big else None)
    naive = report.time(label, "naive per-day loop, same month (stdlib + tests/reference.py)", NAIVE + [str(db), MONTH])
    _check_totals(db, MONTH)
    print(f"  -> the naive loop takes {naive / claim:.1f}x as long as hds claim", flush=True)
    traced = report.pairs(label, "hds trace P000000", HDS + ["trace", "P000000", "--db", str(db)],
                          "hds --version", HDS + ["--version"])
    print(f"  -> trace takes {traced:.2f}x hds --version (the median of {PAIRS} pairs' ratios)", flush=True)
    ratios = {"naive loop / claim": naive / claim, "trace / --version": traced}
    ratios.update(month_end(report, label, data, stores, load, claim))
    report.ratios(label, ratios)
    if only != "month-end":
        adjustments(report, label, data, stores, cache, big, SIZES[size])
    shutil.rmtree(stores, ignore_errors=True)


def adjustments(report: Report, size: str, data: Path, stores: Path, cache: Path, big: bool, shape) -> None:
    """The claim with six months submitted: nothing loaded since, 1% re-assessed, a wholly new extract."""
    ledger = stores / "ledger.db"
    shutil.copy(stores / "hds.db", ledger)
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
    generated(different, 99, *(shape or (250, None)))
    measure(HDS + ["load", str(different), "--db", str(ledger), "--allow-removals"])
    report.time(size, f"claim {MONTH}, six submitted, then a wholly new extract",  # a stress case: every
                HDS + ["claim", "--month", MONTH, "--db", str(ledger)])  # past line re-explained; no target


def submitted(db: Path, month: str, folder: Path) -> None:
    """Submit a month as a finance officer would: the findings of the checks listed, the errors
    (the generator's repeat patients are sometimes funded twice) acknowledged, then submitted."""
    measure(HDS + ["submit", "--month", month, "--db", str(db), "--acknowledgements",
                   str(acknowledgements(db, month, folder))])


def acknowledgements(db: Path, month: str, folder: Path) -> Path:
    """A file acknowledging every error finding of `month` (the generator's repeat patients are
    sometimes funded twice), as a finance officer would after reading them."""
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
    return acknowledged


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
