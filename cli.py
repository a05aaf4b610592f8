"""The `hds` command: a thin click layer over the library.

Each command parses its options, calls one library function and prints or
writes the result. A domain error (HdsError) becomes a clear message and
exit code 1, a usage error exit code 2; anything unexpected is reported in
one line, never as a traceback (set HDS_DEBUG=1 to see one). Modules are
imported inside the commands that need them, so `hds --version` or
`hds trace` does not pay for pandas or the Excel writer.
"""

from __future__ import annotations

import functools
import gc
import os
import sqlite3
from pathlib import Path

import click

from hds.errors import HdsError

# hds does no linear algebra: numpy's OpenBLAS need not start a thread per core, which costs every
# command about 50 ms of CPU when numpy is imported (a setting of the user's own is kept)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# nor ask Linux for huge pages for its large arrays: hds makes many that live a moment, and where the
# kernel compacts memory to find huge pages (its default for pages asked for) that cost a load of
# 575,000 discharges 0.2 to 1 s of CPU (see the README)
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


class Hds(click.Group):
    """The group that turns what goes wrong into one clear line, and takes --quiet anywhere."""

    def parse_args(self, ctx, args):
        """--quiet (or -q) before or after the command: no progress shown (hds.progress)."""
        if "--" in args:
            head, tail = args[:args.index("--")], args[args.index("--"):]
        else:
            head, tail = args, []
        if any(a in ("--quiet", "-q") for a in head):
            from hds import progress

            progress.quiet()
            args = [a for a in head if a not in ("--quiet", "-q")] + tail
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader went away (hds log | head -1): stop quietly, as git does
            _quiet_exit_on_closed_pipe()
        except sqlite3.DatabaseError as exc:
            if os.environ.get("HDS_DEBUG"):
                raise
            raise click.ClickException(_store_failure(exc)) from exc
        except Exception as exc:  # a fault of hds itself: say so, and claim nothing about what was stored
            if os.environ.get("HDS_DEBUG"):
                raise
            raise click.ClickException(
                f"internal error ({type(exc).__name__}: {exc}); a load or a submission is stored whole or not at all "
                "('hds log' shows what the store holds). Please report it with the command you ran; HDS_DEBUG=1 "
                "shows the details") from exc

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except BrokenPipeError:  # raised while click printed an error or the version
            _quiet_exit_on_closed_pipe()


def _quiet_exit_on_closed_pipe():
    """Exit as a program killed by SIGPIPE does (141), with nothing more written: what was stored
    stays stored, and Python's flush at exit must not complain either."""
    import sys

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor behind stdout (a test's runner)
        pass
    raise SystemExit(141)


def _store_failure(exc) -> str:
    """A store SQLite could not use, in words: damaged, read-only, or busy."""
    text = str(exc)
    if "malformed" in text or "not a database" in text:
        return f"the store is damaged ({text}); hds does not use a damaged store: restore it from a backup"
    if "readonly" in text or "read-only" in text:
        return f"the store cannot be changed: permission denied ({text}); commands that only read it still work"
    return (f"the store could not be used ({text}); if another hds command is writing to it, wait for it to "
            "finish and try again")


def domain_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from claims.report.output import FormatError

        try:
            return func(*args, **kwargs)
        except FormatError as exc:
            raise click.UsageError(str(exc)) from exc
        except HdsError as exc:
            from claims.report.safe import printable

            raise click.ClickException(printable(str(exc))) from exc

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
    return click.option("--db", "db", type=click.Path(path_type=Path, dir_okay=False), default="hds.db",
                        envvar="HDS_DB", show_default=True, help="The SQLite store (or set HDS_DB).")(func)


def data_options(func):
    """--db, --data and --as-of-load, shared by the commands that read data."""
    func = click.option("--as-of-load", "as_of", type=click.IntRange(min=1), metavar="N",
                        help="Use the data as it stood just after load N ('hds log' lists them).")(func)
    func = click.option("--data", "data", type=click.Path(path_type=Path, exists=True),
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


def output_options(choices):
    """--format (or the --csv / --json shortcuts) and -o/--out; the format follows the file's extension."""
    def decorate(func):
        func = click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False),
                            help="Write to this file instead of the screen (its extension sets the format).")(func)
        if "json" in choices:
            func = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")(func)
        if "csv" in choices:
            func = click.option("--csv", "as_csv", is_flag=True, help="Shortcut for --format csv.")(func)
        return click.option("--format", "fmt", type=click.Choice(choices), default=None,
                            help=f"One of {', '.join(choices)} (default: from --out's extension, else table).")(func)
    return decorate


def chosen_format(fmt, out, as_csv=False, as_json=False, choices=("table", "csv", "json", "xlsx")):
    from claims.report.output import choose_format

    shortcuts = [f for f, on in (("csv", as_csv), ("json", as_json)) if on]
    if len(shortcuts) + (fmt is not None) > 1:
        raise click.UsageError("give one of --format, --csv and --json")
    return choose_format(shortcuts[0] if shortcuts else fmt, out, list(choices))


def note(text: str) -> None:
    click.echo(f"note: {text}", err=True)


def warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


def reading(db, data=None, as_of=None, rules_dir=None):
    """The source a command reads (``claims.commands.session.reading``). The rules of --rules are loaded
    first, so that a folder that cannot be used is named before anything is read; the shipped rules
    when the command needs them (a trace from the decisions the load kept needs none)."""
    from claims.commands.session import reading as open_reading

    rules = library(rules_dir) if rules_dir is not None else None
    return open_reading(db, data, as_of, note, data_option=True, rules_library=rules)


def reading_store(db):
    from claims.commands.session import reading as open_reading

    return open_reading(db, note=note)


def running(workers, scheduler):
    from claims.parallel import running as run_in_parallel

    return run_in_parallel(workers, scheduler)


def library(rules_dir: Path | None = None):
    from claims.commands.session import library as load

    return load(rules_dir)


def rules_option(func):
    return click.option("--rules", "rules_dir", type=click.Path(path_type=Path, exists=True, file_okay=False),
                        help="Decide with the rulebooks and parameters in this folder ('hds rules export' writes "
                             "one) instead of the shipped ones.")(func)


def config_beside(db: Path):
    from claims.commands.session import config_beside as beside

    return beside(db)


def ledger_warnings(store, db: Path, config=None) -> tuple[str, ...]:
    """The reports' quick look at the ledger, printed as a warning; the warnings, for the report's top.
    `config`: the command's hds.toml, when it has read it already."""
    from claims.commands.session import ledger_problems

    problems = ledger_problems(store, db, config)
    for text in problems:
        warn(text)
    return problems


@click.group(cls=Hds, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hds")
@click.option("-q", "--quiet", is_flag=True, expose_value=False,
              help="Show no progress on long work (given anywhere on the line; piped output never shows it).")
def main():
    """hds: claims engine for the NHS COVID-19 Hospital Discharge Scheme.

    \b
    Month end:  hds load DIR; hds claim --month 2020-10; hds submit --month 2020-10;
                hds reconcile --month 2020-10; hds recharge --month 2020-10; hds verify
    Auditors:   hds trace P000123 (or an NHS number); hds log
    Forward:    hds forecast --to 2021-03; hds upcoming --days 14; hds notices -o letters
    """
    # hds makes few reference cycles and its processes are short: the cyclic collector only costs
    # (loading a million discharges took 42 s with it and 28 s without; see the README)
    gc.disable()


@main.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--allow-removals", is_flag=True,
              help="Accept a load that removes more than half of a table's rows from the store.")
@store_option
@rules_option
@domain_errors
def load(source, allow_removals, db, rules_dir):
    """Validate SOURCE (a folder of CSV files or an .xlsx workbook) and load it into the store.

    The tables in SOURCE become the current truth; earlier versions of changed
    or removed rows are kept (see --as-of-load). A load with any problem lands
    nothing and lists every problem with its file, row and column. An extract
    in a council's own shape is read through the [input] mapping of the
    hds.toml beside the store (hds init writes a first one).

    \b
    Example: hds load extracts/2020-11 --db hds.db
    """
    from claims.commands.session import load as load_into

    from claims.analysts import refresh_after_load

    loaded, summary = load_into(source, db, allow_removals, library(rules_dir), figures=True)
    for text in loaded.notes:
        note(text)
    click.echo(f"Load {summary.load_id} into {db}:")
    for table, c in summary.changes.items():
        click.echo(f"  {table:<12} {c['added']} added, {c['changed']} changed, {c['removed']} removed, "
                   f"{c['unchanged']} unchanged")
    rows, discharges = refresh_after_load(db, library(rules_dir), loaded, summary)
    if rows is None:
        note(f"{discharges:,} discharges: the analysts' allocation table was left as it was; "
             f"run 'hds refresh --db {db}' to bring it up to date")


@main.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--force", is_flag=True, help="Replace an hds.toml that is already there.")
@store_option
@rules_option
@domain_errors
def init(source, force, db, rules_dir):
    """Write a starting hds.toml for an extract in your council's own shape.

    Looks at SOURCE (a folder of CSV files or an .xlsx workbook) and writes
    hds.toml beside the store: the file of each table, the heading of each
    column (close matches marked as guesses), every label of each coded column
    to map, the date format, and the organisation codes found, for [partners].
    Never replaces an existing hds.toml unless --force is given.

    \b
    Example: hds init extracts/2020-11, then edit hds.toml and run hds load extracts/2020-11
    """
    from claims.commands.session import start_settings

    for line in start_settings(source, db, force, library(rules_dir)).summary():
        click.echo(line)


@main.command()
@store_option
@domain_errors
def refresh(db):
    """Recompute the allocation table of every month into the store, for analysts (view allocations).

    A load does this itself for stores of up to 200,000 discharges; every load
    stores the month's figures (the table summed, which status and the reports read).

    \b
    Example: hds refresh --db hds.db; then datasette hds.db --metadata hds.db.datasette.json
    """
    from claims.analysts import refresh as refresh_table, write_metadata
    from claims.commands.session import writing

    with writing(db) as store:
        rows = refresh_table(store)
    click.echo(f"{db}: the allocation table holds {rows:,} rows, every month of the data; "
               f"Datasette's titles in {write_metadata(db)}")


@main.command()
@store_option
@domain_errors
def migrate(db):
    """Bring a store written by an earlier version of hds up to this version's schema.

    \b
    Example: hds migrate --db hds.db
    """
    from claims.ledger import migrate as migrate_store

    applied = migrate_store(db)
    click.echo(f"{db}: " + ("; ".join(f"applied {name}" for name in applied) if applied else "already up to date"))


@main.command()
@month_option()
@output_options(["table", "csv", "json"])
@data_options
@parallel_options
@rules_option
@domain_errors
def allocations(month, fmt, as_csv, as_json, out, db, data, as_of, workers, scheduler, rules_dir):
    """The allocation table of a month: days and money per episode, month and funder.

    \b
    Example: hds allocations --month 2020-12 --csv -o allocations-2020-12.csv
    """
    from claims.report.deliver import deliver
    from claims.report import views
    from claims.allocate import month_allocations

    fmt = chosen_format(fmt, out, as_csv, as_json, ("table", "csv", "json"))
    with reading(db, data, as_of, rules_dir) as r, running(workers, scheduler):
        rows = month_allocations(r.source.period(*month.days), month, library(rules_dir))
    deliver(views.allocations_report(rows), fmt, out)


@main.command()
@month_option(required=False)
@click.option("--from", "first", callback=_month, metavar="YYYY-MM", help="With --to: the months side by side.")
@click.option("--to", "last", callback=_month, metavar="YYYY-MM", help="The last month of --from.")
@click.option("--as-submitted", is_flag=True,
              help="Recompute a submitted month under the rules pinned to its submission, from the data it used.")
@click.option("--summary", is_flag=True, help="In the terminal, only the totals (by scheme, month, service, "
                                              "organisation), not every line.")
@output_options(["table", "csv", "json", "xlsx"])
@data_options
@parallel_options
@rules_option
@domain_errors
def claim(month, first, last, as_submitted, summary, fmt, as_csv, as_json, out, db, data, as_of, workers, scheduler,
          rules_dir):
    """The claim to NHS England for a month: its lines, adjustments for earlier months, and totals.

    A month already submitted shows what was submitted. With --format xlsx
    (or -o claim.xlsx) it writes the month-end pack to print and sign. With
    --from and --to instead of --month: per month and scheme, what was
    claimed, adjusted and received, and the difference.

    \b
    Examples: hds claim --month 2020-10 -o claim-2020-10.xlsx
              hds claim --from 2020-09 --to 2021-03
    """
    from claims.commands.month_end import month_claim
    from claims.report import views
    from claims.report.deliver import deliver

    if bool(month) == bool(first or last) or bool(first) != bool(last):
        raise click.UsageError("give --month M, or --from M1 and --to M2")
    if first:
        return _months(first, last, fmt, as_csv, as_json, out, db, data, as_of, rules_dir)
    if as_submitted and (data is not None or as_of is not None or rules_dir is not None):
        raise click.UsageError("--as-submitted uses the submission's own data and rules: leave out --data, "
                               "--as-of-load and --rules")
    fmt = chosen_format(fmt, out, as_csv, as_json)
    pack = fmt == "xlsx"
    with reading(db, data, as_of, rules_dir) as r, running(workers, scheduler):
        warnings = ledger_warnings(r.store, db) if r.store is not None and not as_submitted else ()
        result = month_claim(r, library(rules_dir), month, config_beside(db) if pack else None, as_of, as_submitted,
                             pack, warnings)
    deliver(views.claim_report(result.claim, lambda: _claim_pack(result), summary), fmt, out,
            default_out=Path(f"claim-{month}.xlsx"))


def _months(first, last, fmt, as_csv, as_json, out, db, data, as_of, rules_dir):
    from claims.report.deliver import deliver
    from claims.overview import overview
    from claims.report import status

    if last < first:
        raise click.UsageError(f"--to {last} is before --from {first}")
    fmt = chosen_format(fmt, out, as_csv, as_json)
    with reading(db, data, as_of, rules_dir) as r:
        if r.store is not None:
            ledger_warnings(r.store, db)
        ov = overview(r.source, library(rules_dir), first, last, r.store)
    deliver(status.months_report(ov), fmt, out)


def _claim_pack(result) -> bytes:
    from claims.report.pack import claim_pack_bytes

    return claim_pack_bytes(result)


@main.command()
@click.argument("patient")
@month_option(required=False, help="YYYY-MM: follow open episodes to the end of this month")
@output_options(["table", "json", "csv", "xlsx"])
@data_options
@rules_option
@domain_errors
def trace(patient, month, fmt, as_csv, as_json, out, db, data, as_of, rules_dir):
    """Every discharge, episode and segment of a patient, who pays and why, and what was claimed.

    PATIENT is a patient id, or an NHS number. --json writes the trace as
    data (schema hds.trace.v1, with the source rows and the file each came
    from); --csv one row per segment; -o trace.xlsx a workbook.

    \b
    Examples: hds trace P000123 --month 2020-12
              hds trace 9990000026 --json -o P000000.json
    """
    from claims.ledger import patient_findings, patient_history
    from claims.report.deliver import deliver
    from claims.trace import find_patient, trace_patient

    fmt = chosen_format(fmt, out, as_csv, as_json, ("table", "json", "csv", "xlsx"))
    with reading(db, data, as_of, rules_dir) as r:
        patient_id = find_patient(r.source, patient)
        history, found = [], []
        if r.store is not None:
            history, found = patient_history(r.store, patient_id), patient_findings(r.store, patient_id)
        result = trace_patient(r.source, lambda: library(rules_dir), patient_id, month, history, found,
                               shipped=rules_dir is None)
        rows = (r.source.source_rows(result.discharge_ids)
                if r.store is not None and fmt in ("json", "xlsx") else None)
    from claims.report.trace_export import trace_report

    deliver(trace_report(result, rows), fmt, out)


@main.command()
@month_option()
@click.option("--skip-months", is_flag=True,
              help="Submit a month after an unsubmitted one; the months skipped are claimed in it as adjustments.")
@click.option("--accept", "accepts", multiple=True, metavar="CODE:SUBJECT",
              help="Acknowledge a finding of 'hds check' (repeatable; each with its --because).")
@click.option("--because", "reasons", multiple=True, metavar="TEXT",
              help="Why the finding before it is right (one per --accept, or one for all).")
@click.option("--acknowledgements", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A file of acknowledgements (CSV in UTF-8 or Windows-1252, or .xlsx): 'hds check --csv' output "
                   "with a column 'because' added (or columns finding, CODE:SUBJECT, and because).")
@click.option("--dry-run", is_flag=True,
              help="Check and compute everything submit would store, and show it; store nothing.")
@store_option
@rules_option
@domain_errors
def submit(month, skip_months, accepts, reasons, acknowledgements, dry_run, db, rules_dir):
    """Store the claim for a month, exactly as 'hds claim' shows it; it can never change afterwards.

    Months are submitted in order. The checks of 'hds check' run first: an
    error finding stops the submission unless acknowledged with --accept and
    --because; every finding is stored with the submission, inside its hash
    chain. The submission's hash is printed and appended to the anchor file
    (hds.toml [ledger] anchor; by default <store>.anchor): keep a copy of it
    away from the store.

    \b
    Examples: hds submit --month 2020-10 --dry-run
              hds submit --month 2020-10
              hds submit --month 2020-10 --accept HDS-EPISODE-OVERLAP:E1+E2 --because "two carers, agreed by the council"
    """
    from claims.commands.submitting import anchor_failure, open_warnings, submit_month, submitted_lines
    accepted = _acknowledgements(accepts, reasons, acknowledgements)
    done = submit_month(db, library(rules_dir), month, skip_months, accepted, dry_run)
    for text in open_warnings(done, month):
        warn(text)
    for line in submitted_lines(done, month):
        click.echo(line)
    failure = anchor_failure(done, month)
    if failure:
        raise HdsError(failure)


def _acknowledgements(accepts, reasons, path) -> dict[str, str]:
    """CODE:SUBJECT -> the reason given for it, from --accept/--because pairs and a file."""
    from claims.checks import acknowledgements

    if reasons and len(reasons) not in (1, len(accepts)):
        raise click.UsageError("give one --because for every --accept (or one for them all)")
    if accepts and not reasons:
        raise click.UsageError("--accept needs --because: say why the finding is right")
    for token, reason in zip(accepts, reasons * len(accepts) if len(reasons) == 1 else reasons):
        if ":" not in token:
            raise click.UsageError(f"--accept {token}: write the finding as CODE:SUBJECT, as 'hds check' shows it")
        if not reason.strip():
            raise click.UsageError(f"--accept {token}: the reason (--because) is empty")
    return acknowledgements(accepts, reasons, path)


@main.command()
@click.option("--expect", metavar="HASH", help="The chain's head must be this hash (recorded when it was submitted; "
                                               "its first 8 or more characters will do when they are unique).")
@store_option
@domain_errors
def verify(expect, db):
    """Check that nothing submitted or loaded was changed: every line, hash, trigger, load, the store's
    tables and columns, and the anchor.

    \b
    Example: hds verify --expect 3aa085b181ca...  (the hash 'hds submit' printed)
    """
    from claims.ledger import anchor_path, verify_store

    with reading_store(db) as r:
        found = verify_store(r.store, anchor_path(db, config_beside(db).anchor), expect)
    if found.problems:
        raise HdsError("the store was changed after hds wrote it:\n" + "\n".join(f"  {p}" for p in found.problems)
                       + (f"\nand {found.expected}" if found.expected else ""))
    if found.expected:
        raise HdsError(f"{found.expected}. The store itself verifies: nothing in it was found changed")
    click.echo(f"ok: {found.submissions} submission(s) and {found.loads} load(s) verified, every line, hash, "
               "trigger and table intact" + (f"; {found.invoices} issued invoice(s) too" if found.invoices else "")
               + ("; the chain's head is the expected hash" if expect else ""))


@main.command()
@click.option("--repair", is_flag=True,
              help="Append the lines of submissions the anchor lacks (after a submit could not reach it).")
@store_option
@domain_errors
def anchor(repair, db):
    """The anchor file: which submissions it records; with --repair, append the ones it lacks.

    A submit whose anchor could not be written after the submission was stored
    (a share that went away) says so; once the anchor can be written again,
    --repair appends the missing lines, provided the store verifies and every
    line the anchor holds matches it.

    \b
    Example: hds anchor --repair
    """
    from claims.ledger import anchor_path
    from claims.ledger.anchor import anchor_report

    path = anchor_path(db, config_beside(db).anchor)
    with reading_store(db) as r:
        lines = anchor_report(r.store, path, repair)
    click.echo("\n".join(lines))


@main.command()
@month_option()
@output_options(["table", "csv", "json", "xlsx"])
@store_option
@domain_errors
def reconcile(month, fmt, as_csv, as_json, out, db):
    """Compare what was claimed for a month with what NHS England paid, per scheme.

    \b
    Example: hds reconcile --month 2020-10
    """
    from claims.report.deliver import deliver
    from claims.report import views
    from claims.reconcile import reconcile as build_reconciliation

    fmt = chosen_format(fmt, out, as_csv, as_json)
    config = config_beside(db)
    with reading_store(db) as r:
        ledger_warnings(r.store, db, config)
        rec = build_reconciliation(r.store, month, config)
    deliver(views.reconciliation_report(rec), fmt, out)


@main.command()
@month_option()
@output_options(["table", "csv", "json", "xlsx"])
@store_option
@rules_option
@domain_errors
def recharge(month, fmt, as_csv, as_json, out, db, rules_dir):
    """The statement between the council and the CCG for a month, and the net amount due.

    \b
    Example: hds recharge --month 2020-10 -o recharge-2020-10.xlsx
    """
    from claims.report.deliver import deliver
    from claims.report import views
    from claims.recharge import recharge as build_recharge

    fmt = chosen_format(fmt, out, as_csv, as_json)
    config = config_beside(db)
    with reading_store(db) as r:
        ledger_warnings(r.store, db, config)
        rc = build_recharge(r.store, library(rules_dir), month, config)
    deliver(views.recharge_report(rc), fmt, out)


@main.command()
@month_option()
@click.option("--issue", is_flag=True,
              help="Issue it: store it in the ledger, numbered in sequence, for good (the month must be submitted).")
@output_options(["table", "json", "xlsx", "pdf"])
@store_option
@rules_option
@domain_errors
def invoice(month, issue, fmt, as_json, out, db, rules_dir):
    """The invoice for a month's recharge, from the partner owed to the partner owing (agreement 5.3).

    Its lines are the parts of the recharge; its total is the recharge's net.
    Until issued it is a draft (number DRAFT-YYYY-MM). --issue numbers it in
    sequence after hds.toml's [invoice] prefix and keeps it in the ledger;
    a later change of its figures goes into the next invoice as its own line.
    -o invoice.xlsx or -o invoice.pdf: one A4 page to send.

    \b
    Examples: hds invoice --month 2020-10
              hds invoice --month 2020-10 --issue -o invoice-2020-10.pdf
    """
    from claims.commands.invoicing import month_invoice
    from claims.report.deliver import deliver
    from claims.report.invoice_doc import invoice_report, issued_line

    fmt = chosen_format(fmt, out, False, as_json, ("table", "json", "xlsx", "pdf"))
    result = month_invoice(db, library(rules_dir), month, issue)
    if issue:
        click.echo(issued_line(result), err=True)
    deliver(invoice_report(result), fmt, out, default_out=Path(f"invoice-{month}.{fmt}"))


@main.command()
@click.option("--year", type=click.IntRange(2000, 2100), required=True, metavar="YYYY",
              help="The financial year starting in April of YYYY (2020: April 2020 to March 2021).")
@output_options(["table", "json", "xlsx"])
@data_options
@rules_option
@domain_errors
def memorandum(year, fmt, as_json, out, db, data, as_of, rules_dir):
    """The memorandum note of the pooled budget for a financial year (agreement 6.1-6.6).

    One row per service line and organisation that incurred the cost, care
    for individuals and block purchases apart (5.2): each month's own claim,
    the year to date, the forecast to the year end and the outturn. Service
    lines come from hds.toml [service_lines]; an unmapped service is a new cost.

    \b
    Example: hds memorandum --year 2020 -o memorandum-2020-21.xlsx
    """
    from claims.memorandum import memorandum as build
    from claims.report.deliver import deliver
    from claims.report.memorandum_doc import memorandum_report

    fmt = chosen_format(fmt, out, False, as_json, ("table", "json", "xlsx"))
    with reading(db, data, as_of, rules_dir) as r:
        memo = build(r.source, library(rules_dir), year, config_beside(db), r.store if as_of is None else None)
    deliver(memorandum_report(memo), fmt, out, default_out=Path(f"memorandum-{year}-{str(year + 1)[2:]}.xlsx"))


@main.command()
@store_option
@domain_errors
def log(db):
    """The loads and submissions, oldest first.

    \b
    Example: hds log --db hds.db
    """
    from claims.ledger import log_lines
    from claims.report.deliver import Report, deliver

    with reading_store(db) as r:
        ledger_warnings(r.store, db)
        lines = log_lines(r.store)
    deliver(Report("", (), render={"table": lambda: "\n".join(lines)}), "table", None)


@main.command()
@output_options(["table", "json"])
@store_option
@rules_option
@domain_errors
def status(fmt, as_json, out, db, rules_dir):
    """The month-end checklist for every month in the data: claim, submission, payment, recharge, next steps.

    \b
    Example: hds status
    """
    from claims.report.deliver import deliver
    from claims.overview import free_care_ending, overview
    from claims.report import status as report
    from hds import timetable

    fmt = chosen_format(fmt, out, False, as_json, ("table", "json"))
    config, on = config_beside(db), timetable.today()
    with reading_store(db) as r:
        warnings = ledger_warnings(r.store, db, config)
        ov = overview(r.source, library(rules_dir), *report.status_span(r.source, config), r.store, config,
                      event_days=False)
        ending = free_care_ending(r.source, library(rules_dir))
        load = r.store.loads()[-1]
    due_now = report.deadline_reminders(ov, config, on)
    steps = report.next_steps(ov, warnings, reminders=due_now,
                              partners_named=config.has_partners)
    deliver(report.status_report(ov, config, steps, report.load_note(load), due_now, ending), fmt, out)


@main.command()
@click.option("--from", "first", callback=_month, required=True, metavar="YYYY-MM", help="First month.")
@click.option("--to", "last", callback=_month, required=True, metavar="YYYY-MM", help="Last month.")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The HTML file to write.")
@data_options
@rules_option
@domain_errors
def report(first, last, out, db, data, as_of, rules_dir):
    """A self-contained HTML report of a range of months, with charts, to mail or print.

    It ends with the memorandum note of the financial year that --to falls in.

    \b
    Example: hds report --from 2020-09 --to 2021-03 -o report.html
    """
    from claims.report.deliver import deliver
    from claims.overview import overview
    from claims.report.output import choose_format
    from claims.report.period import period_report
    from claims.forecast import for_report

    if last < first:
        raise click.UsageError(f"--to {last} is before --from {first}")
    from hds.config import Config

    choose_format("html", out, ["html"], "html")
    config = config_beside(db) if data is None else Config()
    warnings: tuple[str, ...] = ()
    from claims.memorandum import memorandum, year_of

    with reading(db, data, as_of, rules_dir) as r:
        if r.store is not None:
            warnings = ledger_warnings(r.store, db, config)
        ov = overview(r.source, library(rules_dir), first, last, r.store, config if r.store is not None else None)
        memo = memorandum(r.source, library(rules_dir), year_of(last), config if data is None else config_beside(db),
                          r.store if as_of is None else None)
        forecast = for_report(r.source, library(rules_dir), last)
    where = f"store {db}, load {ov.load_id}" if data is None else f"files {data}"
    deliver(period_report(ov, config, f"{where}; rulebooks {library(rules_dir).version[:12]}", warnings, memo,
                          forecast),
            "html", out)


@main.command()
@month_option()
@click.option("--summary", is_flag=True, help="In the terminal, only the findings by code, not every finding.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default=None,
              help="Exit with code 1 when there is a finding of this severity or worse (for scripts).")
@output_options(["table", "csv", "json", "xlsx"])
@data_options
@rules_option
@domain_errors
def check(month, summary, fail_on, fmt, as_csv, as_json, out, db, data, as_of, rules_dir):
    """The checks to run before submitting a month: coded findings, each citing the paragraph it protects.

    Errors (double funding) stop 'hds submit' until corrected or acknowledged;
    warnings are stored with the submission. docs/checks.md explains every code.

    \b
    Examples: hds check --month 2020-10 --json -o findings-2020-10.json
              hds check --month 2020-10 --summary --fail-on error   (exit 1 on an error: for scripts)
    """
    from claims.report.deliver import lay_out, send
    from claims.report import views
    from claims.checks import totals
    from claims.commands.month_end import month_findings

    fmt = chosen_format(fmt, out, as_csv, as_json)
    config = config_beside(db) if data is None else None  # with --data: the default thresholds
    with reading(db, data, as_of, rules_dir) as r:  # laid out while what it found is kept; shown once closed
        findings = month_findings(r, library(rules_dir), month, config=config)
        laid = lay_out(views.findings_report(findings, month, totals(findings), summary), fmt, out)
    send(laid)
    failing = views.failing(findings, fail_on)
    if failing:
        raise HdsError(failing)


@main.group()
def audit():
    """Evidence for auditors."""


@audit.command("sample")
@month_option()
@click.option("--size", type=click.IntRange(min=1), required=True, help="How many claimed lines to sample.")
@click.option("--seed", type=int, required=True, help="The seed that makes the sample reproducible.")
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The folder to write the evidence pack to (default: audit-YYYY-MM-seed-S).")
@store_option
@domain_errors
def audit_sample(month, size, seed, out, db):
    """A reproducible monetary-unit sample of a month's claimed lines, as an evidence pack.

    Lines are chosen with probability proportional to their amount. The pack
    holds sample.xlsx (the lines, why each was picked, their source rows with
    the load and file SHA-256 they came from, and a checklist) and a trace per
    sampled patient. It is personal data: keep it as such.

    \b
    Example: hds audit sample --month 2020-10 --size 25 --seed 2021 -o evidence-2020-10
    """
    from claims.audit import write_evidence_pack

    out = out or Path(f"audit-{month}-seed-{seed}")
    with reading_store(db) as r:
        pack = write_evidence_pack(r.store, library(), month, size, seed, out)
    click.echo(f"Sampled {len(pack.lines)} of {pack.population_lines:,} claimed lines of {month} ({pack.status}) "
               f"with seed {seed}; wrote {pack.workbook} and {len(pack.traces)} trace(s) in {pack.directory}")


@main.group()
def rules():
    """List, show, check and test the rulebooks."""


@rules.command("list")
@rules_option
@domain_errors
def rules_list(rules_dir):
    """Every rule with its funder and the paragraphs it cites.

    \b
    Example: hds rules list
    """
    from claims.report import views
    from claims.report.text import show

    lib = library(rules_dir)
    lines = []
    for name, book in lib.books.items():
        params = ", ".join(f"{p.name}={p.value}" for p in book.parameters.values())
        lines.append(f"{name}: {book.title}" + (f" [{params}]" if params else ""))
    show("\n".join(lines + ["", views.to_table(
        [{"rule": r.id, "funder": r.funder, "cites": ", ".join(r.cites), "when": r.when}
         for r in lib.books["common"].rules], ["rule", "funder", "cites", "when"])]))


def _rulebook(ctx, param, value):
    books = library(ctx.params.get("rules_dir")).books
    if value not in books:
        raise click.BadParameter(f"no rulebook '{value}'; rulebooks: {', '.join(books)}")
    return value


@rules.command("show")
@rules_option
@click.argument("scheme", callback=_rulebook)
@domain_errors
def rules_show(rules_dir, scheme):
    """Print one rulebook (HDS1..HDS4 or common), with its included rules.

    \b
    Example: hds rules show HDS2
    """
    book = library(rules_dir).books[scheme]
    click.echo(f"{book.name}: {book.title}  ({book.path})")
    for p in book.parameters.values():
        click.echo(f"  parameter {p.name} = {p.value}   source: {p.source}")
    for i, r in enumerate(book.rules, start=1):
        click.echo(f"\n{i:>2}. {r.id} -> {r.funder}   (paragraph {', '.join(r.cites)}; {Path(r.path).name} line {r.line})")
        click.echo(f"    when {r.when}")
        click.echo(f"    {r.reason}")


@rules.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@rules_option
@domain_errors
def rules_check(files, rules_dir):
    """Check rulebooks for gaps and unreachable rules (default: the shipped ones).

    A .yaml FILE is checked as a scheme's parameter file. With --rules DIR,
    the whole folder: every rulebook and parameter file.

    \b
    Examples: hds rules check my-rules/rulebooks/common.rules
              hds rules check --rules my-rules
    """
    if rules_dir is not None:
        lib = library(rules_dir)
        schemes = ", ".join(s.name for s in lib.schemes)
        click.echo(f"{rules_dir}: ok: {len(lib.books)} rulebook(s) total and every rule reachable; schemes {schemes}")
        return
    from rules import RULEBOOK_DIR
    from rules.check import check_file

    for path in list(files) or sorted(RULEBOOK_DIR.glob("*.rules")):
        click.echo(check_file(path))
    if not files:
        library()


@rules.command("test")
@click.option("--scenarios", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Folder of scenario files (default: the shipped ones).")
@rules_option
@domain_errors
def rules_test(scenarios, rules_dir):
    """Run the rulebooks' scenario tests.

    \b
    Example: hds rules test
    """
    from claims.scenarios import run_scenarios
    from rules import SCENARIO_DIR

    results = run_scenarios(scenarios or SCENARIO_DIR, library(rules_dir))
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
    """The facts a rule's condition may use.

    \b
    Example: hds rules facts
    """
    from hds.facts import FACTS

    for name, meaning in FACTS.items():
        click.echo(f"{name:<32} {meaning}")


@rules.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@domain_errors
def rules_export(directory):
    """Write the shipped rulebooks and parameters to DIRECTORY, to change and use with --rules.

    \b
    Example: hds rules export my-rules   (then edit my-rules/parameters/hds2.yaml;
             hds compare --month 2020-10 --rules my-rules)
    """
    from rules.export import export_rules

    written = export_rules(directory)
    click.echo(f"Wrote {len(written)} files to {directory}: rulebooks, parameters and the rule renames")


@rules.command("coverage")
@month_option()
@output_options(["table", "csv", "json"])
@data_options
@rules_option
@domain_errors
def rules_coverage(month, fmt, as_csv, as_json, out, db, data, as_of, rules_dir):
    """Days and money each rule and each paragraph decided in a month of real data.

    \b
    Example: hds rules coverage --month 2020-10
    """
    from claims.report.deliver import deliver
    from claims.report import views
    from claims.allocate import BLOCK_PARAGRAPHS, BLOCK_RULE, month_allocations
    from rules.coverage import coverage

    fmt = chosen_format(fmt, out, as_csv, as_json, ("table", "csv", "json"))
    lib = library(rules_dir)
    with reading(db, data, as_of, rules_dir) as r:
        rows = month_allocations(r.source.period(*month.days), month, lib)
    result = coverage(rows, lib, {BLOCK_RULE: BLOCK_PARAGRAPHS}).to_dict()
    deliver(views.coverage_report(result, month), fmt, out)


@main.command()
@month_option()
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="The alternative rules: a folder written by 'hds rules export' and changed.")
@output_options(["table", "csv", "json"])
@data_options
@domain_errors
def compare(month, rules_dir, fmt, as_csv, as_json, out, db, data, as_of):
    """A month under the shipped rules and under --rules DIR, side by side: totals, lines changed,
    days moved between funders (which add up to zero).

    \b
    Example: hds rules export what-if; (set HDS2's free period to 28 days in what-if/parameters/hds2.yaml)
             hds compare --month 2020-10 --rules what-if
    """
    from claims.report.deliver import deliver
    from claims.report import views
    from claims.allocate import month_allocations
    from rules.compare import compare as compare_tables

    fmt = chosen_format(fmt, out, as_csv, as_json, ("table", "csv", "json"))
    with reading(db, data, as_of, rules_dir) as r:
        tables = month_allocations(r.source.period(*month.days), month, library(), library(rules_dir))
    result = compare_tables(*tables, month)
    deliver(views.comparison_report(result, rules_dir), fmt, out)


# --- looking forward ---------------------------------------------------------------

def _date(ctx, param, value):
    from hds.dates import parse_date
    from hds.days import day_number

    try:
        return day_number(parse_date(value)) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def as_of_option(func):
    return click.option("--as-of", "as_of_day", callback=_date, metavar="DATE",
                        help="What was known on this day, YYYY-MM-DD (default: the latest date in the data).")(func)


@main.command()
@as_of_option
@click.option("--to", "last", callback=_month, required=True, metavar="YYYY-MM", help="The last month (the horizon).")
@click.option("--from", "first", callback=_month, metavar="YYYY-MM", help="The first month (default: the as-of month).")
@click.option("--backtest", is_flag=True,
              help="Set what actually happened (the data as it stands now) beside the forecast, with the error.")
@output_options(["table", "csv", "json", "xlsx", "html"])
@data_options
@rules_option
@domain_errors
def forecast(as_of_day, last, first, backtest, fmt, as_csv, as_json, out, db, data, as_of, rules_dir):
    """Months ahead per funder: the people known on the as-of date, new people from the recent trend, and the
    commitments to the pool.

    The known people's figures are the claim's own rules and engine on the data
    as it stood on the as-of date; the new people's come from the discharges
    and costs of the eight weeks before it, with a low and a high figure. Every
    assumption is stated in the output.

    \b
    Examples: hds forecast --as-of 2020-11-15 --to 2021-03
              hds forecast --as-of 2020-11-15 --to 2021-03 --backtest --json
              hds forecast --to 2021-06 -o forecast.html
    """
    from claims.commands.forward import forecast_report
    from claims.report.deliver import deliver

    fmt = chosen_format(fmt, out, as_csv, as_json, ("table", "csv", "json", "xlsx", "html"))
    with reading(db, data, as_of, rules_dir) as r:
        report = forecast_report(r, library(rules_dir), as_of_day, last, first, backtest)
    deliver(report, fmt, out)


@main.command()
@as_of_option
@click.option("--days", type=click.IntRange(min=0), default=14, show_default=True,
              help="List the people whose scheme payment stops within this many days.")
@output_options(["table", "csv", "json", "xlsx"])
@data_options
@rules_option
@domain_errors
def upcoming(as_of_day, days, fmt, as_csv, as_json, out, db, data, as_of, rules_dir):
    """The worklist: people the scheme pays for whose free care ends soon, the day it ends, who pays next
    and what is outstanding.

    \b
    Example: hds upcoming --as-of 2020-11-15 --days 14 --csv -o worklist.csv
    """
    from claims.commands.forward import worklist
    from claims.report.deliver import deliver
    from claims.report.forward import upcoming_report

    fmt = chosen_format(fmt, out, as_csv, as_json, ("table", "csv", "json", "xlsx"))
    with reading(db, data, as_of, rules_dir) as r:
        up = worklist(r, library(rules_dir), as_of_day, days)
    deliver(upcoming_report(up), fmt, out)


@main.command()
@as_of_option
@click.option("--days", type=click.IntRange(min=0), default=14, show_default=True,
              help="Write to the people whose scheme payment stops within this many days.")
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="The folder for the letters (made owner-only).")
@click.option("--force", is_flag=True, help="Write into a folder that already holds files.")
@data_options
@rules_option
@domain_errors
def notices(as_of_day, days, out, force, db, data, as_of, rules_dir):
    """One letter per person of 'hds upcoming': when the free care ends, who pays then, the weekly cost and
    what happens next; .docx, PDF where LibreOffice is installed, and notices.csv for a mail merge.

    The letter is hds.toml's [notices] template (a .docx with docxtpl fields),
    or the one hds ships. Letters are personal data: the folder and its files
    are readable by their owner only.

    \b
    Example: hds notices --as-of 2020-11-15 --days 14 -o letters-2020-11-15
    """
    from claims.commands.forward import notices as write_letters

    with reading(db, data, as_of, rules_dir) as r:
        written = write_letters(r, library(rules_dir), as_of_day, days, out, config_beside(db), force)
    if written.pdf_note:
        note(written.pdf_note)
    click.echo(f"Wrote {len(written.letters)} letter(s) ({len(written.pdfs)} as PDF) and {written.csv.name} "
               f"to {written.folder}")


if __name__ == "__main__":
    main()
