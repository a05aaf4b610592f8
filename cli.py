"""The `hds` command: a thin click layer over the library.

Each command parses its options, calls one library function and prints the
result; a domain error (HdsError) becomes a clear message and exit code 1.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from claims import export
from claims.allocation import Allocator
from claims.claim import build_claim
from claims.trace import build_trace, render_trace
from hds.dates import month_arg
from hds.errors import HdsError
from hds.facts import FACTS
from hds.load import read_dataset
from hds.store import is_empty, memory_store, open_store, read_dataset as dataset_from_store, save_dataset
from rules import RULEBOOK_DIR, SCENARIO_DIR
from rules.check import check_rulebook
from rules.language import parse_rulebook
from rules.library import load_library
from rules.scenarios import run_scenarios


def domain_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HdsError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def data_options(func):
    """--db and --data, shared by every command that reads data."""
    func = click.option("--data", "data", type=click.Path(path_type=Path),
                        help="Compute from this folder of CSV files or .xlsx workbook, in a throwaway in-memory store.")(func)
    func = click.option("--db", "db", type=click.Path(path_type=Path), default="hds.db", show_default=True,
                        help="The SQLite store.")(func)
    return func


def get_dataset(db: Path, data: Path | None):
    if data is not None:
        result = read_dataset(data)
        store = memory_store()
        save_dataset(store, result, data)
        return dataset_from_store(store)
    if not db.exists():
        raise HdsError(f"no store at {db}: run 'hds load DIR' first, or pass --data DIR to compute from files")
    store = open_store(db)
    if is_empty(store):
        raise HdsError(f"the store {db} holds no data: run 'hds load DIR' first")
    return dataset_from_store(store)


def emit(text: str, out: Path | None) -> None:
    if out:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"Wrote {out}", err=True)
    else:
        click.echo(text)


@click.group()
@click.version_option(package_name="hds")
def main():
    """hds: claims engine for the NHS COVID-19 Hospital Discharge Scheme."""


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--db", type=click.Path(path_type=Path), default="hds.db", show_default=True, help="The SQLite store.")
@domain_errors
def load(source, db):
    """Validate SOURCE (a folder of CSV files or an .xlsx workbook) and load it into the store."""
    result = read_dataset(source)
    load_id = save_dataset(open_store(db), result, source)
    d = result.dataset
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"Load {load_id} into {db}: {len(d.discharges)} discharges, {len(d.episodes)} episodes, "
               f"{len(d.events)} events, {len(d.block_costs)} block costs, {len(d.receipts)} receipts")


@main.command()
@click.option("--month", required=True, callback=lambda c, p, v: _month(v), help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file instead of the screen.")
@data_options
@domain_errors
def allocations(month, fmt, out, db, data):
    """The allocation table of a month: days and money per episode, month and funder."""
    rows = Allocator(get_dataset(db, data), load_library()).month_allocations(month)
    records = export.allocation_records(rows)
    text = {"table": export.to_table, "csv": export.to_csv}.get(fmt)
    emit(text(records, export.ALLOCATION_COLUMNS) if text else export.to_json(records), out)


@main.command()
@click.option("--month", required=True, callback=lambda c, p, v: _month(v), help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx"]), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file (xlsx: default claim-YYYY-MM.xlsx).")
@data_options
@domain_errors
def claim(month, fmt, out, db, data):
    """The draft claim to NHS England for a month, with totals by scheme, service and organisation."""
    result = build_claim(get_dataset(db, data), load_library(), month)
    if fmt == "xlsx":
        out = out or Path(f"claim-{month}.xlsx")
        export.claim_workbook(result, out)
        click.echo(f"Wrote {out}", err=True)
    elif fmt == "csv":
        emit(export.to_csv(export.claim_records(result), export.CLAIM_COLUMNS), out)
    elif fmt == "json":
        emit(export.claim_json(result), out)
    else:
        emit(export.claim_table(result), out)


@main.command()
@click.argument("patient_id")
@click.option("--month", callback=lambda c, p, v: _month(v) if v else None, help="YYYY-MM: follow open episodes to this month and show its money")
@data_options
@domain_errors
def trace(patient_id, month, db, data):
    """Every discharge, episode and segment of a patient, who pays for it and why."""
    click.echo(render_trace(build_trace(get_dataset(db, data), load_library(), patient_id, month)))


@main.group()
def rules():
    """List, show, check and test the rulebooks."""


@rules.command("list")
@domain_errors
def rules_list():
    """Every rule with its funder and the paragraphs it cites."""
    library = load_library()
    common = library.books["common"]
    for name, book in library.books.items():
        params = ", ".join(f"{p.name}={p.value}" for p in book.parameters.values())
        click.echo(f"{name}: {book.title}" + (f" [{params}]" if params else ""))
    click.echo("")
    click.echo(export.to_table(
        [{"rule": r.id, "funder": r.funder, "cites": ", ".join(r.cites), "when": r.when} for r in common.rules],
        ["rule", "funder", "cites", "when"]))


@rules.command("show")
@click.argument("scheme")
@domain_errors
def rules_show(scheme):
    """Print one rulebook (HDS1..HDS4 or common), with its included rules."""
    library = load_library()
    if scheme not in library.books:
        raise HdsError(f"no rulebook '{scheme}'; rulebooks: {', '.join(library.books)}")
    book = library.books[scheme]
    click.echo(f"{book.name}: {book.title}  ({book.path})")
    for p in book.parameters.values():
        click.echo(f"  parameter {p.name} = {p.value}   source: {p.source}")
    for i, r in enumerate(book.rules, start=1):
        click.echo(f"\n{i:>2}. {r.id} -> {r.funder}   (paragraph {', '.join(r.cites)}; {Path(r.path).name} line {r.line})")
        click.echo(f"    when {r.when}")
        click.echo(f"    {r.reason}")


@rules.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@domain_errors
def rules_check(files):
    """Check rulebooks for gaps and unreachable rules (default: the shipped ones)."""
    paths = list(files) or sorted(RULEBOOK_DIR.glob("*.rules"))
    for path in paths:
        report = check_rulebook(parse_rulebook(path))
        click.echo(f"{path}: ok: {report.rules} rules decide all {report.combinations:,} combinations of facts, "
                   "each rule reachable")
    if not files:
        load_library()


@rules.command("test")
@click.option("--scenarios", type=click.Path(path_type=Path), default=SCENARIO_DIR, show_default=False,
              help="Folder of scenario files (default: the shipped ones).")
@domain_errors
def rules_test(scenarios):
    """Run the rulebooks' scenario tests."""
    results = run_scenarios(scenarios, load_library())
    failed = [r for r in results if not r.passed]
    for r in results:
        click.echo(f"{'ok  ' if r.passed else 'FAIL'} {r.name}")
        for line in r.differences:
            click.echo(f"       {line}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise SystemExit(1)


@rules.command("facts")
def rules_facts():
    """The facts a rule's condition may use."""
    for name, meaning in FACTS.items():
        click.echo(f"{name:<32} {meaning}")


def _month(value):
    try:
        return month_arg(value)
    except HdsError as exc:
        raise click.BadParameter(str(exc)) from exc


if __name__ == "__main__":
    main()
