"""The `hds` command: a thin click layer over the library.

Each command parses its options, calls one library function and prints the
result; a domain error (HdsError) becomes a clear message and exit code 1,
a usage error exit code 2. Modules are imported inside the commands that
need them, so `hds --version` or `hds trace` does not pay for pandas or
openpyxl.
"""

from __future__ import annotations

import functools
import gc
from pathlib import Path

import click

from hds.errors import HdsError


def domain_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HdsError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _month(ctx, param, value):
    from hds.dates import month_arg

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
                        help="Compute straight from this folder of CSV files or .xlsx workbook, without a store.")(func)
    return store_option(func)


def parallel_options(func):
    """--workers and --scheduler: allocate partitions of discharges in parallel."""
    func = click.option("--scheduler", metavar="local|ADDRESS",
                        help="Run the partitions on Dask: 'local' starts a cluster of --workers processes; an "
                             "address (tcp://host:8786) uses a running one. Needs pip install -e \".[dask]\".")(func)
    return click.option("--workers", type=click.IntRange(min=1), metavar="N",
                        help="Allocate partitions of discharges on N processes (worth it from about 100,000 "
                             "discharges in the period).")(func)


def running(workers, scheduler):
    from claims.parallel import running as run_in_parallel

    return run_in_parallel(workers, scheduler)


def format_option(choices):
    return click.option("--format", "fmt", type=click.Choice(choices), default="table", show_default=True)


out_option = click.option("--out", type=click.Path(path_type=Path), help="Write to this file instead of the screen.")


def note(text: str) -> None:
    click.echo(f"note: {text}", err=True)


def reading(db, data=None, as_of=None):
    from claims.service import reading as open_reading

    return open_reading(db, data, as_of, note)


def library():
    from claims.service import library as shipped

    return shipped()


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
    gc.freeze()  # the objects of start-up are never garbage: keep the collector off them


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--allow-removals", is_flag=True,
              help="Accept a load that removes more than half of a table's rows from the store.")
@store_option
@domain_errors
def load(source, allow_removals, db):
    """Validate SOURCE (a folder of CSV files or an .xlsx workbook) and load it into the store.

    The tables in SOURCE become the current truth; earlier versions of changed
    or removed rows are kept (see --as-of-load)."""
    from claims.service import load as load_into

    loaded, summary = load_into(source, db, allow_removals)
    for text in loaded.notes:
        note(text)
    click.echo(f"Load {summary.load_id} into {db}:")
    for table, c in summary.changes.items():
        click.echo(f"  {table:<12} {c['added']} added, {c['changed']} changed, {c['removed']} removed, "
                   f"{c['unchanged']} unchanged")


@main.command()
@store_option
@domain_errors
def migrate(db):
    """Bring a store written by an earlier version of hds up to this version's schema."""
    from hds.store import migrate as migrate_store

    applied = migrate_store(db)
    click.echo(f"{db}: " + ("; ".join(f"applied {name}" for name in applied) if applied else "already up to date"))


@main.command()
@month_option()
@format_option(["table", "csv", "json"])
@out_option
@data_options
@parallel_options
@domain_errors
def allocations(month, fmt, out, db, data, as_of, workers, scheduler):
    """The allocation table of a month: days and money per episode, month and funder."""
    from claims import export
    from claims.allocate import allocations as allocate
    from hds.days import month_end, month_number, month_start

    m = month_number(month)
    with reading(db, data, as_of) as r, running(workers, scheduler):
        rows = allocate(r.source.period(month_start(m), month_end(m)), library(), m, m)
    records = export.allocation_records(rows)
    text = {"table": export.to_table, "csv": export.to_csv}.get(fmt)
    emit(text(records, export.ALLOCATION_COLUMNS) if text else export.to_json(records), out)


@main.command()
@month_option()
@format_option(["table", "csv", "json", "xlsx"])
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file (xlsx: default claim-YYYY-MM.xlsx).")
@data_options
@parallel_options
@domain_errors
def claim(month, fmt, out, db, data, as_of, workers, scheduler):
    """The claim to NHS England for a month: its lines, adjustments for earlier months, and totals.

    A month already submitted shows what was submitted."""
    from claims import export

    with reading(db, data, as_of) as r, running(workers, scheduler):
        if r.store is None:
            from claims.claim import build_claim

            result = build_claim(r.source, library(), month)
            reconciliation = None
        else:
            from claims.ledger import claim_for

            result = claim_for(r.store, library(), month, as_of)
            reconciliation = _reconciliation_or_none(r.store, month, config_beside(db)) if fmt == "xlsx" else None
    emit_report(fmt, out or (Path(f"claim-{month}.xlsx") if fmt == "xlsx" else None), {
        "table": lambda: export.claim_table(result), "csv": lambda: export.claim_csv(result),
        "json": lambda: export.claim_json(result)},
        lambda path: export.claim_workbook(result, path, reconciliation))


def _reconciliation_or_none(store, month, config):
    from claims.reconcile import reconcile

    if not store.execute("SELECT 1 FROM submissions WHERE month = ?", [month]).fetchone():
        return None
    return reconcile(store, month, config)


def config_beside(db: Path):
    """hds.toml in the store's folder: the partners' codes and the shortfall rule."""
    from hds.config import load_config

    return load_config(db.parent / "hds.toml")


@main.command()
@click.argument("patient")
@month_option(required=False, help="YYYY-MM: follow open episodes to the end of this month")
@data_options
@domain_errors
def trace(patient, month, db, data, as_of):
    """Every discharge, episode and segment of a patient, who pays and why, and what was claimed.

    PATIENT is a patient id, or an NHS number."""
    from claims.trace import build_trace, find_patient, patient_history, render_trace

    with reading(db, data, as_of) as r:
        patient_id = find_patient(r.source, patient)
        history = patient_history(r.store, patient_id) if r.store is not None else []
        click.echo(render_trace(build_trace(r.source, library(), patient_id, month, history)))


@main.command()
@month_option()
@store_option
@domain_errors
def submit(month, db):
    """Store the claim for a month, exactly as 'hds claim' shows it; it can never change afterwards."""
    from claims.ledger import submit as submit_claim
    from claims.service import writing
    from hds.money import format_pounds

    with writing(db) as store:
        done = submit_claim(store, library(), month)
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
    from claims.ledger import verify as verify_ledger

    with reading(db) as r:
        problems = verify_ledger(r.store)
        count = r.store.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    if problems:
        raise HdsError("the ledger was changed after submission:\n" + "\n".join(f"  {p}" for p in problems))
    click.echo(f"ok: {count} submission(s) verified, every line and hash intact")


@ledger_report
def reconcile(month, fmt, out, db):
    """Compare what was claimed for a month with what NHS England paid, per scheme."""
    from claims import export
    from claims.reconcile import reconcile as build_reconciliation

    with reading(db) as r:
        rec = build_reconciliation(r.store, month, config_beside(db))
    emit_report(fmt, out, {
        "table": lambda: export.reconciliation_table(rec),
        "csv": lambda: export.to_csv(export.reconciliation_records(rec), export.RECONCILE_COLUMNS),
        "json": lambda: export.reconciliation_json(rec)},
        lambda path: export.write_workbook(path, [export.reconciliation_sheet(rec, month)]))


@ledger_report
def recharge(month, fmt, out, db):
    """The statement between the council and the CCG for a month, and the net amount due."""
    from claims import export
    from claims.recharge import recharge as build_recharge

    with reading(db) as r:
        rc = build_recharge(r.store, library(), month, config_beside(db))
    records = export.recharge_records(rc)
    emit_report(fmt, out, {
        "table": lambda: export.recharge_table(rc),
        "csv": lambda: export.to_csv(records, export.RECHARGE_COLUMNS),
        "json": lambda: export.recharge_json(rc)},
        lambda path: export.write_workbook(path, [("Recharge", export.RECHARGE_COLUMNS,
                                                   [[x[c] for c in export.RECHARGE_COLUMNS] for x in records]
                                                   + [[], [export.recharge_net(rc)]])]))


@main.command()
@store_option
@domain_errors
def log(db):
    """The loads and submissions, oldest first."""
    import json

    from hds.money import format_pounds

    with reading(db) as r:
        loads = r.store.query("SELECT * FROM loads ORDER BY id")
        subs = r.store.query("SELECT * FROM submissions ORDER BY id")
    click.echo("Loads")
    for row in loads:
        changes = json.loads(row["changes"])
        summary = ", ".join(f"{t} +{c['added']} ~{c['changed']} -{c['removed']}" for t, c in changes.items())
        click.echo(f"  {row['id']:>3}  {row['loaded_at']}  {row['loaded_by']}  {row['source']}  ({summary})")
        for name, digest in json.loads(row["files"]).items():
            click.echo(f"         {name} sha256 {digest}")
    click.echo("Submissions")
    for row in subs:
        click.echo(f"  {row['id']:>3}  {row['month']}  {row['submitted_at']}  {row['submitted_by']}  load {row['load_id']}  "
                   f"{format_pounds(row['total_pence'])}  ({row['line_count']} lines)  hash {row['hash'][:16]}")


@main.group()
def rules():
    """List, show, check and test the rulebooks."""


@rules.command("list")
@domain_errors
def rules_list():
    """Every rule with its funder and the paragraphs it cites."""
    from claims import export

    lib = library()
    for name, book in lib.books.items():
        params = ", ".join(f"{p.name}={p.value}" for p in book.parameters.values())
        click.echo(f"{name}: {book.title}" + (f" [{params}]" if params else ""))
    click.echo("")
    click.echo(export.to_table(
        [{"rule": r.id, "funder": r.funder, "cites": ", ".join(r.cites), "when": r.when}
         for r in lib.books["common"].rules], ["rule", "funder", "cites", "when"]))


@rules.command("show")
@click.argument("scheme")
@domain_errors
def rules_show(scheme):
    """Print one rulebook (HDS1..HDS4 or common), with its included rules."""
    lib = library()
    if scheme not in lib.books:
        raise HdsError(f"no rulebook '{scheme}'; rulebooks: {', '.join(lib.books)}")
    book = lib.books[scheme]
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
    from rules import RULEBOOK_DIR
    from rules.check import check_rulebook
    from rules.language import parse_rulebook

    paths = list(files) or sorted(RULEBOOK_DIR.glob("*.rules"))
    for path in paths:
        report = check_rulebook(parse_rulebook(path))
        click.echo(f"{path}: ok: {report.rules} rules decide all {report.combinations:,} combinations of facts, "
                   "each rule reachable")
    if not files:
        library()


@rules.command("test")
@click.option("--scenarios", type=click.Path(path_type=Path), default=None,
              help="Folder of scenario files (default: the shipped ones).")
@domain_errors
def rules_test(scenarios):
    """Run the rulebooks' scenario tests."""
    from claims.scenarios import run_scenarios
    from rules import SCENARIO_DIR

    results = run_scenarios(scenarios or SCENARIO_DIR, library())
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
    from hds.facts import FACTS

    for name, meaning in FACTS.items():
        click.echo(f"{name:<32} {meaning}")


if __name__ == "__main__":
    main()
