"""How long the month's pack takes to write, for a month of many lines.

A pack of N current lines (and N/10 adjustments, and as many findings as a national month has, one in
thirty lines) is made from synthetic values and written by `claims.report.excel.claim_pack_bytes` in a
fresh process; printed: the wall and CPU time of the writing alone (the values are made first, outside the
timing), the workbook's size and the process's peak memory. What the pack costs with its data read and
its claim computed is measured by benchmarks/bench.py.

    python benchmarks/pack.py                    # 30,000 and 300,000 lines
    python benchmarks/pack.py --lines 300000
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVICES = ["interim_bed", "residential", "nursing", "home_care", "reablement", "isolation"]


def pack_of(lines: int):
    """A draft pack for 2020-10 with `lines` current lines (a few of them block costs)."""
    from claims.report import excel
    from claims.report.deliver import Report

    chance = random.Random(23)

    def line(n: int, month: str, reason: str = "") -> excel.PackLine:
        block = n % 5000 == 4999
        pence = chance.randrange(100, 500_000) * (-1 if reason and n % 3 == 0 else 1)
        return excel.PackLine(month, "block" if block else "individual", "" if block else f"P{n // 2:06d}",
                              "" if block else f"D{n // 2:07d}", "" if block else f"E{n:07d}",
                              f"B{n:05d}" if block else "", "Designated beds, Oxford" if block else "",
                              chance.choice(["HDS1", "HDS2"]), chance.choice(SERVICES),
                              chance.choice(["OCC", "OXCCG", "BOB"]), chance.randrange(1, 32),
                              Decimal(pence).scaleb(-2), reason)

    current = tuple(line(n, "2020-10") for n in range(lines))
    adjustments = tuple(line(n, "2020-09", "weekly cost changed in load 2") for n in range(lines // 10))
    findings = Report("Findings", tuple(c.key for c in excel.FINDING_COLUMNS), tuple(
        {"code": "HDS-LATE-ASSESSMENT", "severity": "warning", "paragraph": "4.4", "subject": f"D{n:07d}",
         "ids": f"discharge D{n:07d}", "amount": Decimal(chance.randrange(100, 90_000)).scaleb(-2),
         "message": f"The Care Act assessment of discharge D{n:07d} came {n % 40 + 1} days after the free "
                    "period ended: check that the council was told in time."} for n in range(lines // 30)))
    return excel.ClaimPack("2020-10", "draft", excel.Partner("OCC", "Oxfordshire County Council"),
                           excel.Partner("OXCCG", "Oxfordshire CCG"), "2026-12-06T04:00:00+00:00", 3, "2026.1",
                           None, current, adjustments, findings=findings)


def write_one(lines: int) -> None:
    """In this process: make the values, then time the writing."""
    from claims.report import excel

    pack = pack_of(lines)
    start, cpu = time.perf_counter(), time.process_time()
    data = excel.claim_pack_bytes(pack)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{lines:>9,} lines  {seconds:7.2f} s to write ({cpu:.2f} s of CPU)  {len(data) / 2**20:6.1f} MiB  "
          f"peak {peak:5.0f} MiB", flush=True)


@click.command()
@click.option("--lines", "sizes", multiple=True, type=int, default=(30_000, 300_000), show_default=True)
@click.option("--one", type=int, hidden=True)
def main(sizes, one):
    if one:
        return write_one(one)
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    for lines in sizes:
        subprocess.run([sys.executable, __file__, "--one", str(lines)], check=True)
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
