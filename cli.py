"""The `hds` command: a thin click layer over the library.

Each command parses its options, calls one library function and prints the
result; a domain error (HdsError) becomes a clear message and exit code 1.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from claims import export, ledger
from claims.allocation import Allocator
from claims.recharge import recharge as build_recharge
from claims.reconcile import reconcile as build_reconciliation
from claims.trace import build_trace, render_trace
from hds.config import load_config
from hds.dates import month_arg
from hds.errors import HdsError
from hds.facts import FACTS
from hds.load import read_dataset as read_files
from hds.money import format_pounds
from hds.store import is_empty, memory_store, open_store, read_dataset, save_dataset
from rules import RULEBOOK_DIR, SCENARIO_DIR
from rules.check import check_rulebook
from rules.language import parse_rulebook
from rules.library import load_library
from claims.scenarios import run_scenarios


def domain_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HdsError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _month(ctx, param, value):
    try:
        return month_arg(value) if value else None
    except HdsError as exc:
        raise click.BadParameter(str(exc)) from exc


def month_option(required=True, help="YYYY-MM"):
    return click.option("--month", required=required, callback=_month, help=help)


def store_option(func):
    return click.option("--db", "db", type=click.Path(path_type=Path), default="hds.db", show_default=True,
                        help="The SQLite store.")(func)


def data_options(func):
    """--db, --data and --as-of-load, shared by the commands that read data."""
    func = click.option("--as-of-load", "as_of", type=int,
                        help="Use the data as it stood just after this load ('hds log' lists them).")(func)
    func = click.option("--data", "data", type=click.Path(path_type=Path),
                        help="Compute from this folder of CSV files or .xlsx workbook, in a throwaway in-memory store.")(func)
    return store_option(func)


def format_option(choices):
    return click.option("--format", "fmt", type=click.Choice(choices), default="table", show_default=True)


out_option = click.option("--out", type=click.Path(path_type=Path), help="Write to this file instead of the screen.")


def get_store(db: Path, data: Path | None = None):
    """The store to read: the file, or an in-memory one filled from --data."""
    if data is not None:
        store = memory_store()
        result = read_files(data)
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        save_dataset(store, result, data)
        return store
    if not db.exists():
        raise HdsError(f"no store at {db}: run 'hds load DIR' first, or pass --data DIR to compute from files")
    store = open_store(db)
    if is_empty(store):
        raise HdsError(f"the store {db} holds no data: run 'hds load DIR' first")
    return store


def emit(text: str, out: Path | None) -> None:
    if out:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"Wrote {out}", err=True)
    else:
        click.echo(text)


def emit_report(fmt: str, out: Path | None, renderers: dict, workbook) -> None:
    """table/csv/json through `renderers`; xlsx through `workbook(path)`."""
    if fmt == "xlsx":
        if out is None:
            raise HdsError("--format xlsx needs --out FILE.xlsx")
        workbook(out)
        click.echo(f"Wrote {out}", err=True)
    else:
        emit(renderers[fmt](), out)


def ledger_report(func):
    """A month's report from the store's ledger: --month, --format, --out and --db."""
    for decorate in (domain_errors, store_option, out_option, format_option(["table", "csv", "json", "xlsx"]),
                     month_option(), main.command()):
        func = decorate(func)
    return func


@click.group()
@click.version_option(package_name="hds")
def main():
    """hds: claims engine for the NHS COVID-19 Hospital Discharge Scheme."""


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@store_option
@domain_errors
def load(source, db):
    """Validate SOURCE (a folder of CSV files or an .xlsx workbook) and load it into the store.

    The tables in SOURCE become the current truth; earlier versions of changed
    or removed rows are kept (see --as-of-load)."""
    store = open_store(db)
    known = {row[0] for row in store.execute("SELECT discharge_id FROM discharges WHERE _until_load IS NULL")}
    result = read_files(source, known_discharges=known)
    summary = save_dataset(store, result, source)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"Load {summary.load_id} into {db}:")
    for table, c in summary.changes.items():
        click.echo(f"  {table:<12} {c['added']} added, {c['changed']} changed, {c['removed']} removed, "
                   f"{c['unchanged']} unchanged")


@main.command()
@month_option()
@format_option(["table", "csv", "json"])
@out_option
@data_options
@domain_errors
def allocations(month, fmt, out, db, data, as_of):
    """The allocation table of a month: days and money per episode, month and funder."""
    dataset = read_dataset(get_store(db, data), as_of)
    records = export.allocation_records(Allocator(dataset, load_library()).month_allocations(month))
    text = {"table": export.to_table, "csv": export.to_csv}.get(fmt)
    emit(text(records, export.ALLOCATION_COLUMNS) if text else export.to_json(records), out)


@main.command()
@month_option()
@format_option(["table", "csv", "json", "xlsx"])
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file (xlsx: default claim-YYYY-MM.xlsx).")
@data_options
@domain_errors
def claim(month, fmt, out, db, data, as_of):
    """The claim to NHS England for a month: its lines, adjustments for earlier months, and totals.

    A month already submitted shows what was submitted."""
    store = get_store(db, data)
    result = ledger.claim_for(store, load_library(), month, as_of)
    reconciliation = _reconciliation_or_none(store, month, config_beside(db)) if fmt == "xlsx" else None
    emit_report(fmt, out or (Path(f"claim-{month}.xlsx") if fmt == "xlsx" else None), {
        "table": lambda: export.claim_table(result), "csv": lambda: export.claim_csv(result),
        "json": lambda: export.claim_json(result)},
        lambda path: export.claim_workbook(result, path, reconciliation))


def _reconciliation_or_none(store, month, config):
    if not store.execute("SELECT 1 FROM submissions WHERE month = ?", [month]).fetchone():
        return None
    return build_reconciliation(store, month, config)


def config_beside(db: Path):
    """hds.toml in the store's folder: the partners' codes and the shortfall rule."""
    return load_config(db.parent / "hds.toml")


@main.command()
@click.argument("patient_id")
@month_option(required=False, help="YYYY-MM: follow open episodes to the end of this month")
@data_options
@domain_errors
def trace(patient_id, month, db, data, as_of):
    """Every discharge, episode and segment of a patient, who pays and why, and what was claimed."""
    store = get_store(db, data)
    history = ledger.patient_history(store, patient_id)
    click.echo(render_trace(build_trace(read_dataset(store, as_of), load_library(), patient_id, month, history)))


@main.command()
@month_option()
@store_option
@domain_errors
def submit(month, db):
    """Store the claim for a month, exactly as 'hds claim' shows it; it can never change afterwards."""
    done = ledger.submit(get_store(db), load_library(), month)
    c = done.claim
    click.echo(f"Submitted {month} as submission {done.id}: {len(c.lines)} lines {format_pounds(c.current_pence)}, "
               f"{len(c.adjustments)} adjustments {format_pounds(c.adjustments_pence)}, "
               f"total {format_pounds(c.total_pence)}")
    click.echo(f"Submission hash: {done.hash}")


@main.command()
@store_option
@domain_errors
def verify(db):
    """Check that no submitted claim was changed since it was submitted."""
    store = get_store(db)
    problems = ledger.verify(store)
    count = store.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    if problems:
        raise HdsError("the ledger was changed after submission:\n" + "\n".join(f"  {p}" for p in problems))
    click.echo(f"ok: {count} submission(s) verified, every line and hash intact")


@ledger_report
def reconcile(month, fmt, out, db):
    """Compare what was claimed for a month with what NHS England paid, per scheme."""
    rec = build_reconciliation(get_store(db), month, config_beside(db))
    emit_report(fmt, out, {
        "table": lambda: export.reconciliation_table(rec),
        "csv": lambda: export.to_csv(export.reconciliation_records(rec), export.RECONCILE_COLUMNS),
        "json": lambda: export.reconciliation_json(rec)},
        lambda path: export.write_workbook(path, [export.reconciliation_sheet(rec, month)]))


@ledger_report
def recharge(month, fmt, out, db):
    """The statement between the council and the CCG for a month, and the net amount due."""
    r = build_recharge(get_store(db), load_library(), month, config_beside(db))
    records = export.recharge_records(r)
    emit_report(fmt, out, {
        "table": lambda: export.recharge_table(r),
        "csv": lambda: export.to_csv(records, export.RECHARGE_COLUMNS),
        "json": lambda: export.recharge_json(r)},
        lambda path: export.write_workbook(path, [("Recharge", export.RECHARGE_COLUMNS,
                                                   [[x[c] for c in export.RECHARGE_COLUMNS] for x in records]
                                                   + [[], [export.recharge_net(r)]])]))


@main.command()
@store_option
@domain_errors
def log(db):
    """The loads and submissions, oldest first."""
    store = get_store(db)
    click.echo("Loads")
    for row in store.query("SELECT * FROM loads ORDER BY id"):
        changes = json.loads(row["changes"])
        summary = ", ".join(f"{t} +{c['added']} ~{c['changed']} -{c['removed']}" for t, c in changes.items())
        click.echo(f"  {row['id']:>3}  {row['loaded_at']}  {row['loaded_by']}  {row['source']}  ({summary})")
        for name, digest in json.loads(row["files"]).items():
            click.echo(f"         {name} sha256 {digest}")
    click.echo("Submissions")
    for row in store.query("SELECT * FROM submissions ORDER BY id"):
        click.echo(f"  {row['id']:>3}  {row['month']}  {row['submitted_at']}  {row['submitted_by']}  load {row['load_id']}  "
                   f"{format_pounds(row['total_pence'])}  ({row['line_count']} lines)  hash {row['hash'][:16]}")


@main.group()
def rules():
    """List, show, check and test the rulebooks."""


@rules.command("list")
@domain_errors
def rules_list():
    """Every rule with its funder and the paragraphs it cites."""
    library = load_library()
    for name, book in library.books.items():
        params = ", ".join(f"{p.name}={p.value}" for p in book.parameters.values())
        click.echo(f"{name}: {book.title}" + (f" [{params}]" if params else ""))
    click.echo("")
    click.echo(export.to_table(
        [{"rule": r.id, "funder": r.funder, "cites": ", ".join(r.cites), "when": r.when}
         for r in library.books["common"].rules], ["rule", "funder", "cites", "when"]))


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
@click.option("--scenarios", type=click.Path(path_type=Path), default=SCENARIO_DIR,
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


if __name__ == "__main__":
    main()
