"""Try to lose or double-claim money the way a busy office (or an attacker) would, and count what held.

Four trials on copies of a store of the bundled sample, each repeated many times with random timing:

- kill -9 a load at a random moment: the store must be exactly as before or exactly as after,
  and `hds verify` must pass;
- kill -9 a submit at a random moment: no submission, or one whole submission; verify passes;
- 2 to 8 submits started together, of the same month or of different months (with --skip-months):
  every month's money is claimed exactly once, whoever wins, and verify passes;
- readers (`hds claim --json`) running while a long load replaces every table: each reader sees
  the data wholly before or wholly after the load, and none dies.

    python benchmarks/stress.py                  # about ten minutes on two cores
    python benchmarks/stress.py --rounds 5       # a quick look

It prints one line per trial: rounds run, rounds that held. It exits 1 if any round did not hold.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures import SAMPLE_DIR  # noqa: E402

HDS = [sys.executable, str(ROOT / "cli.py")]
MONTHS = ["2020-10", "2020-11", "2020-12", "2021-01"]  # 2020-09 is submitted in the template


def hds(*args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(HDS + [str(a) for a in args], capture_output=True, text=True, cwd=ROOT)
    if check and result.returncode != 0:
        raise SystemExit(f"hds {' '.join(map(str, args))} failed: {result.stdout}{result.stderr}")
    return result


def started(*args) -> subprocess.Popen:
    return subprocess.Popen(HDS + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)


def state(db: Path) -> tuple:
    with sqlite3.connect(db) as con:
        return tuple(con.execute(q).fetchone()[0] for q in (
            "SELECT COUNT(*) FROM loads", "SELECT COUNT(*) FROM episodes WHERE _until_load IS NULL",
            "SELECT COUNT(*) FROM submissions", "SELECT COUNT(*) FROM submission_lines"))


def verified(db: Path) -> bool:
    return hds("verify", "--db", db, check=False).stdout.startswith("ok:")


def claimed_by_month(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT claim_month, SUM(amount_pence) FROM submission_lines GROUP BY claim_month"))


class Trials:
    def __init__(self, work: Path, rounds: int, seed: int):
        self.work, self.rounds, self.rng = work, rounds, random.Random(seed)
        self.half = work / "half"  # October's episodes only: a later load of the sample changes every table
        self.half.mkdir()
        for table in ("discharges", "events", "block_costs"):
            shutil.copy(SAMPLE_DIR / f"{table}.csv", self.half)
        with (SAMPLE_DIR / "episodes.csv").open() as source, (self.half / "episodes.csv").open("w") as target:
            lines = source.readlines()
            target.writelines(lines[:1] + [line for line in lines[1:] if ",2020-10-" in line])
        self.empty = work / "empty.db"
        hds("load", self.half, "--db", self.empty)
        self.full = work / "full.db"
        hds("load", SAMPLE_DIR, "--db", self.full)
        self.acknowledged = {m: self._acknowledgements(m) for m in ["2020-09"] + MONTHS}
        hds("submit", "--month", "2020-09", "--db", self.full, "--acknowledgements", self.acknowledged["2020-09"])
        self.owed = self._owed()

    def _acknowledgements(self, month: str) -> Path:
        """The month's error findings (the sample's repeat patients funded twice) acknowledged."""
        path = self.work / f"acknowledged-{month}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["finding", "because"])
            for row in csv.DictReader(hds("check", "--month", month, "--csv", "--db", self.full,
                                          check=False).stdout.splitlines()):
                if row["severity"] == "error":
                    writer.writerow([f"{row['code']}:{row['subject'].lstrip(chr(39))}", "stress test"])
        return path

    def _owed(self) -> dict[str, int]:
        """Each month's money in pence, from submitting the months one after another on a copy."""
        db = self.copy(self.full, "reference.db")
        for month in MONTHS:
            hds("submit", "--month", month, "--db", db, "--acknowledgements", self.acknowledged[month])
        return claimed_by_month(db)

    def copy(self, template: Path, name: str) -> Path:
        db = self.work / name
        for old in self.work.glob(name + "*"):
            old.unlink()
        shutil.copy(template, db)
        if Path(f"{template}.anchor").exists():  # the anchor beside the store goes with it
            shutil.copy(f"{template}.anchor", f"{db}.anchor")
        return db

    def killed_loads(self) -> tuple[int, int, str]:
        held = landed = 0
        for n in range(self.rounds):
            db = self.copy(self.empty, "kill-load.db")
            before = state(db)
            process = started("load", SAMPLE_DIR, "--db", db, "--allow-removals")
            time.sleep(self.rng.uniform(0.05, 1.6))
            process.send_signal(signal.SIGKILL)
            process.wait()
            after = state(db)
            landed += after != before
            held += after in (before, (before[0] + 1, state(self.full)[1], 0, 0)) and verified(db)
        return self.rounds, held, f"{landed} killed after the load had landed, {self.rounds - landed} before"

    def killed_submits(self) -> tuple[int, int, str]:
        held = landed = 0
        for n in range(self.rounds):
            db = self.copy(self.full, "kill-submit.db")
            before = state(db)
            process = started("submit", "--month", "2020-10", "--db", db, "--acknowledgements",
                              self.acknowledged["2020-10"])
            time.sleep(self.rng.uniform(0.05, 0.7))
            process.send_signal(signal.SIGKILL)
            process.wait()
            after = state(db)
            whole = after == before or (after[:3] == (before[0], before[1], before[2] + 1)
                                        and claimed_by_month(db).get("2020-10") == self.owed["2020-10"])
            landed += after != before
            held += whole and verified(db)
        return self.rounds, held, f"{landed} killed after the submission had landed, {self.rounds - landed} before"

    def simultaneous_submits(self) -> tuple[int, int, str]:
        held = processes = won = 0
        for n in range(self.rounds):
            db = self.copy(self.full, "race.db")
            months = [self.rng.choice(MONTHS) for _ in range(self.rng.randint(2, 8))]
            runs = [started("submit", "--month", m, "--skip-months", "--db", db,
                            "--acknowledgements", self.acknowledged[m]) for m in months]
            codes = [p.wait(timeout=300) for p in runs]
            processes += len(runs)
            won += codes.count(0)
            claimed = claimed_by_month(db)
            once = all(claimed.get(m) == self.owed[m] for m in claimed)  # each month claimed once, net
            latest = max(m for m, code in zip(months, codes) if code == 0) if 0 in codes else None
            covered = latest is None or all(claimed.get(m) == self.owed[m] for m in self.owed if m <= latest)
            held += once and covered and verified(db) and all(c in (0, 1) for c in codes)
        return self.rounds, held, f"{processes} submits, {won} accepted, {processes - won} refused"

    def readers_during_loads(self) -> tuple[int, int, str]:
        held = readers = deaths = 0
        for n in range(max(1, self.rounds // 4)):
            db = self.copy(self.empty, "read.db")
            before = json.loads(hds("claim", "--month", "2020-10", "--json", "--db", db).stdout)["totals"]["claim"]
            load = started("load", SAMPLE_DIR, "--db", db, "--allow-removals")
            seen, died = set(), 0
            while load.poll() is None:
                reader = hds("claim", "--month", "2020-10", "--json", "--db", db, check=False)
                readers += 1
                if reader.returncode != 0 or "Traceback" in reader.stderr:
                    died += 1
                else:
                    seen.add(json.loads(reader.stdout)["totals"]["claim"])
            after = json.loads(hds("claim", "--month", "2020-10", "--json", "--db", db).stdout)["totals"]["claim"]
            deaths += died
            held += load.returncode == 0 and not died and seen <= {before, after}
        return max(1, self.rounds // 4), held, f"{readers} readers, {deaths} died"


@click.command()
@click.option("--rounds", type=int, default=40, show_default=True, help="Rounds of each trial.")
@click.option("--seed", type=int, default=1, show_default=True)
def main(rounds, seed):
    """Kill, race and read hds's store, and print how many rounds held."""
    with tempfile.TemporaryDirectory() as work:
        started_at = time.perf_counter()
        trials = Trials(Path(work), rounds, seed)
        results = {
            "load killed at a random moment (kill -9)": trials.killed_loads(),
            "submit killed at a random moment (kill -9)": trials.killed_submits(),
            "2 to 8 submits of random months started together": trials.simultaneous_submits(),
            "readers running through a load that replaces every table": trials.readers_during_loads(),
        }
        failed = False
        for label, (run, held, *more) in results.items():
            extra = f"  ({more[0]})" if more else ""
            print(f"{label:<60} {held}/{run} rounds held{extra}")
            failed |= held != run
        print(f"{time.perf_counter() - started_at:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
