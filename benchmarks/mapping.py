"""What reading an extract through the input mapping costs: `hds load` of the same data in hds's own
shape and in Wessex's shape (fixtures/elsewhere.py: other file names, episodes in two files, headings,
labels in any case, dates as 05-Oct-2020, money as £1,234.50, extra columns) through its hds.toml.

Each figure is the median of several fresh `hds load` processes into a new store: wall time, CPU time
(user + system, which other people's work on a shared machine disturbs far less than the wall) and peak
memory, all from GNU time; the machine's load average is printed before and after. The target: the
mapping costs at most 15% more at a million discharges.

    python benchmarks/mapping.py --sizes 60k,300k      # sizes as in bench.py: 6k, 60k, 300k, 1M
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import HDS, ROOT, SIZES, TIME, dataset, machine  # noqa: E402

TARGET = 0.15  # the most the mapping may add, as a share of the load in hds's own shape


def their_shape(own: Path, cache: Path, size: str) -> Path:
    """The dataset in Wessex's shape, made once (in a process of its own) and kept in the cache."""
    folder = cache / f"{size.replace(' ', '')}-elsewhere"
    if not (folder / "Block Beds.csv").exists():
        print(f"  converting {size} to Wessex's shape ...", flush=True)
        subprocess.run([sys.executable, "-m", "fixtures.elsewhere", "--source", str(own), "--out", str(folder)],
                       cwd=ROOT, check=True, capture_output=True)
    return folder


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MiB) of one fresh process, from GNU time."""
    if not TIME:
        raise SystemExit("GNU time is needed (apt-get install time)")
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run([TIME, "-f", "%e %U %S %M", "-o", out.name, *command], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, user, system, kib = out.read().split()[-4:]
    return float(wall), float(user) + float(system), int(kib) / 1024


READ_FILES = ("import sys; from hds.config import load_config; from hds.mapping import InputMapping; "
              "from hds.sources import read_source; "
              "m = load_config(sys.argv[2]).input if sys.argv[2:] else InputMapping(); "
              "read_source(sys.argv[1], files=m.files(), reads=m.readers())")


def reads(source: Path, runs: int, settings: Path | None) -> tuple[float, float, float, float]:
    """As `loads`, for reading the files into raw columns only (hds.sources, before any mapping or check):
    what the bytes of the extract cost, whatever its shape."""
    command = [sys.executable, "-c", READ_FILES, str(source), *([str(settings)] if settings else [])]
    results = [measure(command) for _ in range(runs)]
    return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
            max(r[2] for r in results), max(r[0] for r in results))


def loads(source: Path, work: Path, runs: int, settings: Path | None) -> tuple[float, float, float, float]:
    """(median wall, median CPU seconds, peak MiB, slowest wall) of `runs` loads of `source` into new
    stores, each with `settings` as the hds.toml beside it (None: none)."""
    results = []
    for n in range(runs):
        folder = work / f"run-{n}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if settings is not None:
            shutil.copyfile(settings, folder / "hds.toml")
        results.append(measure([*HDS, "load", str(source), "--db", str(folder / "hds.db")]))
        shutil.rmtree(folder)
    return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
            max(r[2] for r in results), max(r[0] for r in results))


@click.command()
@click.option("--sizes", default="60k,300k", show_default=True, help="Comma-separated sizes (bench.py's).")
@click.option("--runs", type=int, default=3, show_default=True, help="Fresh processes per figure.")
@click.option("--cache", type=click.Path(path_type=Path), default=Path("/tmp/hds-bench"), show_default=True)
def main(sizes, runs, cache):
    """Time hds load in hds's own shape and in another council's shape through its mapping."""
    print(f"before: {machine()}", flush=True)
    settings = ROOT / "fixtures" / "elsewhere" / "hds.toml"
    rows = []
    for size in [s.strip() for s in sizes.split(",") if s.strip()]:
        if size not in SIZES:
            raise SystemExit(f"unknown size {size}; one of {', '.join(SIZES)}")
        own = dataset(cache, size)
        theirs = their_shape(own, cache, size)
        work = cache / "mapping-work"
        plain = loads(own, work / "own", runs, None)
        mapped = loads(theirs, work / "theirs", runs, settings)
        wall, cpu = mapped[0] / plain[0] - 1, mapped[1] / plain[1] - 1
        print(f"  {size:>6}  own shape {plain[0]:6.2f} s wall {plain[1]:6.2f} s CPU {plain[2]:5.0f} MiB   "
              f"mapped {mapped[0]:6.2f} s wall {mapped[1]:6.2f} s CPU {mapped[2]:5.0f} MiB   "
              f"extra {wall:+.1%} wall, {cpu:+.1%} CPU", flush=True)
        read_own, read_theirs = reads(own, runs, None), reads(theirs, runs, settings)
        bytes_own, bytes_theirs = (sum(f.stat().st_size for f in d.iterdir() if f.suffix == ".csv") for d in (own, theirs))
        mapping = (mapped[1] - plain[1]) - (read_theirs[1] - read_own[1])  # CPU beyond reading more bytes
        print(f"          reading the files alone: own {read_own[1]:6.2f} s CPU ({bytes_own / 2 ** 20:,.0f} MiB), theirs "
              f"{read_theirs[1]:6.2f} s CPU ({bytes_theirs / 2 ** 20:,.0f} MiB); the mapping's own work "
              f"{mapping:+.2f} s CPU = {mapping / plain[1]:+.1%} of the load: "
              f"{'meets' if mapping / plain[1] <= TARGET else 'MISSES'} (<= {TARGET:.0%})", flush=True)
        rows.append((size, plain, mapped, read_own, read_theirs))
    print(f"after: {machine()}")


if __name__ == "__main__":
    main()
