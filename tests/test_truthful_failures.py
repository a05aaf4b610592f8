"""Failures that tell the truth: the anchor never disagrees with the store in silence, every message
about a change is true, read-only stores are read, what goes into the chain forever is clean, and
each kind of bad input gets one plain line (issue 22; the acknowledgement round trip, verify
--expect, submit --dry-run and the figures' fingerprint of issue 21)."""

import contextlib
import csv
import errno
import io
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest

from fixtures import SAMPLE_DIR
from tests.cli_helpers import hds, ok
from tests.conftest import copy_store

ROOT = Path(__file__).resolve().parent.parent
HASH = re.compile(r"Submission hash: ([0-9a-f]{64})")
NOBODY = 65534


def submissions(db) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        return con.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]


def tamper(db, *sql):
    with contextlib.closing(sqlite3.connect(db)) as con:
        for name in [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]:
            con.execute(f"DROP TRIGGER {name}")
        for statement in sql:
            con.execute(statement)
        con.commit()


# --- the anchor ------------------------------------------------------------------------------------

def _anchor_elsewhere(tmp_path, db, anchor):
    (db.parent / "hds.toml").write_text(f'[ledger]\nanchor = "{anchor}"\n')


@pytest.mark.parametrize("make, said", [
    ("missing folder", "does not exist (is the share mounted?)"),
    ("link", "is a symbolic link"),
    ("folder", "is a folder"),
])
def test_an_anchor_that_cannot_be_written_refuses_the_submission_up_front(tmp_path, sample_store, make, said):
    db = copy_store(sample_store, tmp_path / "s" / "hds.db")
    if make == "missing folder":
        _anchor_elsewhere(tmp_path, db, tmp_path / "unmounted" / "anchor.txt")
    elif make == "link":
        (tmp_path / "real.txt").write_text("")
        Path(f"{db}.anchor").symlink_to(tmp_path / "real.txt")
    else:
        Path(f"{db}.anchor").mkdir()
    result = hds("submit", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1
    assert said in result.output and "nothing was submitted" in result.output
    assert submissions(db) == 0
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_an_append_that_fails_after_the_commit_says_what_was_stored_and_is_repaired(tmp_path, sample_store,
                                                                                     monkeypatch):
    import importlib

    submitting = importlib.import_module("claims.ledger.submit")  # the module (claims.ledger.submit is the function)
    db = copy_store(sample_store, tmp_path / "hds.db")

    def unmounted(path, header):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))

    monkeypatch.setattr(submitting, "append_anchor", unmounted)
    result = hds("submit", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1
    digest = HASH.search(result.output).group(1)
    assert "Submitted 2020-10 as submission 1" in result.output
    assert "submission 1 (2020-10) IS stored" in result.output and "No such file or directory" in result.output
    assert "hds anchor --repair" in result.output and "nothing was changed" not in result.output
    assert "Anchored in" not in result.output
    assert submissions(db) == 1
    monkeypatch.undo()

    again = hds("verify", "--db", db)
    assert again.exit_code == 1 and "is missing" in again.output and "hds anchor --repair" in again.output
    shown = ok("anchor", "--db", db)
    assert f"1  2020-10  {digest}  MISSING" in shown
    repaired = ok("anchor", "--repair", "--db", db)
    assert "Repaired: appended 1 line(s)" in repaired and f"{digest}  anchored" in repaired
    assert Path(f"{db}.anchor").read_text().split()[-1] == digest
    assert ok("verify", "--expect", digest, "--db", db).startswith("ok:")
    assert "Nothing to repair" in ok("anchor", "--repair", "--db", db)


def test_the_anchor_is_not_repaired_over_a_rewritten_line(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    anchor = Path(f"{db}.anchor")
    anchor.write_text(anchor.read_text().replace(anchor.read_text().split()[-1], "0" * 64))
    result = hds("anchor", "--repair", "--db", db)
    assert result.exit_code == 1 and "does not match the store" in result.output
    assert anchor.read_text().split()[-1] == "0" * 64


# --- messages about a change ----------------------------------------------------------------------

def test_a_closed_pipe_ends_quietly_and_the_load_is_stored(tmp_path):
    db = tmp_path / "hds.db"
    process = subprocess.Popen([sys.executable, "-m", "cli", "load", str(SAMPLE_DIR), "--db", str(db)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before hds prints anything (hds load ... | head -0)
    errors = process.stderr.read().decode()
    assert process.wait() in (0, 141)
    assert "Error" not in errors and "Traceback" not in errors and "BrokenPipe" not in errors
    assert "Load 1" in ok("log", "--db", db) or "  1  " in ok("log", "--db", db)


def test_an_internal_error_claims_nothing_about_what_was_stored(tmp_path, sample_store, monkeypatch):
    import claims.ledger

    db = copy_store(sample_store, tmp_path / "hds.db")
    monkeypatch.setattr(claims.ledger, "claim_for", lambda *a: 1 / 0)
    result = hds("claim", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1 and "nothing was changed" not in result.output


# --- read-only stores -----------------------------------------------------------------------------

READERS = [("claim", "--month", "2020-10"), ("verify",), ("log",), ("status",), ("trace", "P000445"),
           ("report", "--from", "2020-09", "--to", "2020-11", "-o", "{out}/report.html")]


@contextlib.contextmanager
def as_another_user(*owned):
    """Run as a user without root's override of permissions: root becomes nobody (who owns `owned`)
    for the block; any other user is one already."""
    if os.geteuid() != 0:
        yield
        return
    for path in owned:
        os.chown(path, NOBODY, NOBODY)
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def shared_folder():
    """A folder outside pytest's private one, which nobody could not enter."""
    path = Path(tempfile.mkdtemp(prefix="hds-readonly-"))
    path.chmod(0o755)
    yield path
    for inner in [path, *path.rglob("*")]:
        if inner.is_dir() and not inner.is_symlink():
            inner.chmod(0o755)
    shutil.rmtree(path)


def _run_readers(db, out):
    for args in READERS:
        result = hds(*[a.format(out=out) for a in args], "--db", db)
        assert result.exit_code == 0, (args, result.output)


@pytest.mark.parametrize("read_only", ["folder", "file"])
def test_a_store_that_cannot_be_written_is_read_and_writes_are_refused_naming_the_permission(
        october_store, shared_folder, read_only):
    rw = copy_store(october_store, shared_folder / "rw" / "hds.db")
    _run_readers(rw, shared_folder / "rw")  # in this process every module the readers import is now loaded
    db = copy_store(october_store, shared_folder / "ro" / "hds.db")
    out = shared_folder / "out"
    out.mkdir()
    owned = [db.parent, db, Path(f"{db}.anchor"), out]
    with as_another_user(*owned):
        (db.parent if read_only == "folder" else db).chmod(0o555 if read_only == "folder" else 0o444)
        _run_readers(db, out)
        for args in (("submit", "--month", "2020-11"), ("load", SAMPLE_DIR)):
            refused = hds(*args, "--db", db)
            assert refused.exit_code == 1 and "permission denied" in refused.output, refused.output
            assert "wait for it" not in refused.output and "backup" not in refused.output
    assert not [p.name for p in db.parent.iterdir() if p.name.endswith(("-wal", "-shm"))]  # no -wal or -shm
    assert submissions(db) == 1


@pytest.mark.parametrize("index", [True, False])
def test_a_read_only_store_with_changes_still_in_its_log_is_read_whole_or_refused(sample_store, shared_folder, index):
    db = copy_store(sample_store, shared_folder / "rw" / "hds.db")
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM loads").fetchone()  # holds its snapshot: the submit stays in the log
        ok("submit", "--month", "2020-10", "--db", db)
        copy = shared_folder / "ro"
        copy.mkdir()
        for suffix in ("", "-wal", ".anchor") + (("-shm",) if index else ()):
            shutil.copyfile(f"{db}{suffix}", copy / f"hds.db{suffix}")
    assert (copy / "hds.db-wal").stat().st_size > 0
    ok("log", "--db", db)
    with as_another_user(copy, *copy.iterdir()):
        copy.chmod(0o555)
        result = hds("log", "--db", copy / "hds.db")
    if index:
        assert result.exit_code == 0 and "2020-10" in result.output.split("Submissions")[1]
    else:
        assert result.exit_code == 1 and "holds changes not yet folded into" in result.output


def test_a_first_load_into_a_read_only_folder_is_refused_naming_the_permission(shared_folder):
    folder = shared_folder / "ro"
    folder.mkdir()
    with as_another_user(folder):
        folder.chmod(0o555)
        result = hds("load", SAMPLE_DIR, "--db", folder / "hds.db")
    assert result.exit_code == 1 and "cannot be written (permission denied)" in result.output
    assert list(folder.iterdir()) == []


# --- what goes into the chain ---------------------------------------------------------------------

@pytest.mark.parametrize("reason, said", [
    ("two carers\x00", "control character U+0000"),
    ("agreed \x1b[8mhidden", "control character U+001B"),
    ("x" * 2001, "is 2,001 characters long; at most 2,000"),
])
def test_a_reason_with_control_characters_or_too_long_is_refused(tmp_path, october_store, reason, said):
    db = copy_store(october_store, tmp_path / "hds.db")
    result = hds("submit", "--month", "2020-11", "--accept", "HDS-DOUBLE-FREE:D1+D2", "--because", reason, "--db", db)
    assert result.exit_code == 1 and "--because" in result.output and said in result.output
    assert submissions(db) == 1


def test_stored_control_characters_are_printed_escaped_by_log_and_trace(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    tamper(db, "UPDATE loads SET source = 'extract\x1b[2J\x1b[31m' WHERE id = 1",
           "UPDATE submission_findings SET message = 'fine\x1b]0;owned\x07\x9b31m' WHERE subject = 'D0000478'")
    log = hds("log", "--db", db).output
    assert "extract\\x1b[2J\\x1b[31m" in log and "\x1b" not in log
    trace = ok("trace", "P000445", "--db", db)
    assert "fine\\x1b]0;owned\\x07\\x9b31m" in trace and "\x1b" not in trace and "\x9b" not in trace


# --- acknowledgements read as a load reads (issue 21) -----------------------------------------------

def _findings_csv(db, month="2020-11") -> list[dict]:
    return list(csv.DictReader(io.StringIO(ok("check", "--month", month, "--csv", "--db", db))))


def _with_reasons(rows, reason="agreed with Zoë Brontë, £1,124.57 paid once"):
    return [{**r, "because": reason if r["severity"] == "error" else ""} for r in rows]


@pytest.mark.parametrize("form", ["cp1252", "utf-8-sig", "xlsx"])
def test_acknowledgements_saved_by_excel_are_accepted(tmp_path, october_store, form):
    db = copy_store(october_store, tmp_path / "hds.db")
    rows = _with_reasons(_findings_csv(db))
    path = tmp_path / ("acks.xlsx" if form == "xlsx" else "acks.csv")
    if form == "xlsx":
        book = openpyxl.Workbook()
        book.active.append(["Findings of the checks for 2020-11"])
        book.active.append([k.capitalize() for k in rows[0]])
        for r in rows:
            book.active.append(list(r.values()))
        book.save(path)
    else:
        with path.open("w", newline="", encoding=form) as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    out = ok("submit", "--month", "2020-11", "--acknowledgements", path, "--db", db)
    assert "Findings stored with it: 83 (5 acknowledged)" in out
    assert "accepted by" in ok("log", "--db", db) and "Zoë Brontë, £1,124.57" in ok("log", "--db", db)


def test_every_bad_acknowledgement_row_is_named_in_one_run(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    rows = _with_reasons(_findings_csv(db))
    rows[0]["because"], rows[2]["because"], rows[3]["because"] = "", "bell\x07", "y" * 52_428_800
    path = tmp_path / "acks.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = hds("submit", "--month", "2020-11", "--acknowledgements", path, "--db", db)
    assert result.exit_code == 1
    assert "3 row(s) of the acknowledgements cannot be used; nothing was submitted" in result.output
    assert f"{path} row 2: the error HDS-DOUBLE-FREE:{rows[0]['subject']} has no reason" in result.output
    assert f"{path} row 4: column because holds the control character U+0007" in result.output
    assert f"{path} row 5: column because is 52,428,800 characters long; at most 2,000" in result.output
    assert "field limit" not in result.output and submissions(db) == 1


@pytest.mark.parametrize("leader", ["+", "-", "=", "@"])
def test_a_subject_escaped_by_hds_own_csv_matches_its_finding(leader):
    from claims.checks import Finding, read_acknowledgements, split_accepted, totals
    from claims.report import views
    from claims.report.deliver import render

    finding = Finding("HDS-EPISODE-OVERLAP", "error", "4.4", f"{leader}E5+E6", {"episode": [f"{leader}E5", "E6"]},
                      100, "two episodes at once")
    text = render(views.findings_report([finding], "2020-10", totals([finding])), "csv")
    assert f"'{leader}E5+E6" in text  # hds's own CSV escaping, as written
    rows = list(csv.DictReader(io.StringIO(text)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "acks.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*rows[0], "because"])
            writer.writeheader()
            writer.writerow({**rows[0], "because": "one carer, two records"})
        accepted = read_acknowledgements(path)
    still, taken, unmatched = split_accepted([finding], accepted)
    assert taken == [finding] and not unmatched


# --- verify --expect, log's hashes, submit --dry-run and the fingerprint (issue 21) ----------------------

def test_a_typo_in_expect_is_not_reported_as_a_change_and_a_prefix_will_do(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    digest = Path(f"{db}.anchor").read_text().split()[-1]
    assert f"hash {digest}" in ok("log", "--db", db)
    typo = digest[:10] + ("0" if digest[10] != "0" else "1") + digest[11:]
    result = hds("verify", "--expect", typo, "--db", db)
    assert result.exit_code == 1
    assert f"no submission has this hash: {typo} (did you mean {digest}?)" in result.output
    assert "changed after" not in result.output and "nothing in it was found changed" in result.output
    assert ok("verify", "--expect", digest[:12], "--db", db).startswith("ok:")


def test_a_dry_run_stores_nothing_and_its_fingerprint_is_the_packs_and_the_submissions(tmp_path, sample_store):
    db = copy_store(sample_store, tmp_path / "hds.db")
    ok("claim", "--month", "2020-10", "--db", db, "-o", tmp_path / "draft.xlsx")
    summary = openpyxl.load_workbook(tmp_path / "draft.xlsx")["Summary"]
    shown = next(r[1] for r in summary.iter_rows(values_only=True) if r[0] == "Fingerprint of the figures")
    in_pack = re.sub(r"\s", "", shown)
    dry = ok("submit", "--month", "2020-10", "--dry-run", "--db", db)
    assert f"Fingerprint of the figures: {in_pack}" in dry and "Nothing was stored" in dry
    assert submissions(db) == 0 and not Path(f"{db}.anchor").exists()
    done = ok("submit", "--month", "2020-10", "--db", db)
    assert f"Fingerprint of the figures: {in_pack}" in done and submissions(db) == 1
    ok("claim", "--month", "2020-10", "--db", db, "-o", tmp_path / "submitted.xlsx")
    summary = openpyxl.load_workbook(tmp_path / "submitted.xlsx")["Summary"]
    assert in_pack == re.sub(r"\s", "", next(r[1] for r in summary.iter_rows(values_only=True)
                                             if r[0] == "Fingerprint of the figures"))
    refused = hds("submit", "--month", "2020-12", "--dry-run", "--db", db)
    assert refused.exit_code == 1 and "2020-11 has not been submitted yet" in refused.output
    # the next month, nothing loaded since: submit's claim is made from the month's discharges its checks
    # read (build_claim's with_care), the draft's from the month read on its own; the figures are the same
    ok("claim", "--month", "2020-11", "--db", db, "-o", tmp_path / "november.xlsx")
    summary = openpyxl.load_workbook(tmp_path / "november.xlsx")["Summary"]
    november = re.sub(r"\s", "", next(r[1] for r in summary.iter_rows(values_only=True)
                                      if r[0] == "Fingerprint of the figures"))
    errors = [row for row in csv.DictReader(io.StringIO(ok("check", "--month", "2020-11", "--csv", "--db", db)))
              if row["severity"] == "error"]
    accepted = [a for row in errors for a in ("--accept", f"{row['code']}:{row['subject']}")]
    dry = ok("submit", "--month", "2020-11", "--dry-run", *accepted, "--because", "a test", "--db", db)
    assert errors and november != in_pack and f"Fingerprint of the figures: {november}" in dry


# --- one plain line for each bad input ------------------------------------------------------------------

def _damaged(db: Path) -> None:
    with db.open("rb") as handle:
        size = int.from_bytes(handle.read(18)[16:18], "big")  # the page size, as the file's header gives it
    pages = db.stat().st_size // size
    chance = random.Random(22)
    with db.open("r+b") as handle:
        for page in chance.sample(range(2, pages), 29):
            handle.seek(page * size + chance.randrange(0, 3000))
            handle.write(bytes(chance.randrange(256) for _ in range(64)))


@pytest.mark.parametrize("args", [("claim", "--month", "2020-10"), ("verify",), ("log",), ("status",),
                                  ("trace", "P000445"), ("load", str(SAMPLE_DIR)),
                                  ("submit", "--month", "2020-11")])
def test_a_store_with_damaged_pages_is_refused_by_every_command(tmp_path, october_store, args):
    db = copy_store(october_store, tmp_path / "hds.db")
    _damaged(db)
    result = hds(*args, "--db", db)
    assert result.exit_code == 1
    assert "is damaged: SQLite's check of its pages found faults" in result.output
    assert "internal error" not in result.output and "Total" not in result.output
    assert result.output.count("\n") == 1


def test_a_store_written_since_its_last_check_is_checked_again_and_verify_always_checks(tmp_path, october_store):
    from hds import integrity

    db = copy_store(october_store, tmp_path / "hds.db")
    ok("log", "--db", db)
    assert str(db.resolve()) in integrity._remembered()  # passed: not read again while unchanged
    _damaged(db)  # a write changes the file's change time: the next command checks again
    assert "is damaged" in hds("claim", "--month", "2020-10", "--db", db).output
    integrity._remember(*integrity._identity(db))  # as if the damage had come silently, with no write
    skipped = hds("log", "--db", db)  # the check is skipped; what reads a damaged page still says so plainly
    assert "SQLite's check" not in skipped.output and "internal error" not in skipped.output
    result = hds("verify", "--db", db)
    assert result.exit_code == 1 and "is damaged" in result.output


def test_a_store_only_read_or_written_by_hds_is_not_checked_again(tmp_path, october_store):
    """Reading leaves the remembered state as it was (a reader running as root hands the write-ahead
    log to the store's owner, which moves only the log's change time); hds's own write is remembered."""
    from hds import integrity

    db = copy_store(october_store, tmp_path / "hds.db")

    def remembered_as_now() -> bool:
        store, state = integrity._identity(db)
        return integrity._remembered().get(store) == state

    ok("log", "--db", db)
    assert remembered_as_now()
    for _ in range(2):
        ok("trace", "P000445", "--db", db)
        assert remembered_as_now()  # the next command will not read every page again
    ok("load", SAMPLE_DIR, "--db", db)  # a write by hds: remembered as hds left it
    assert remembered_as_now()
    _damaged(db)  # anything but hds writing: checked again
    assert not remembered_as_now()
    assert "is damaged" in hds("log", "--db", db).output


@pytest.mark.parametrize("toml, said", [
    ('[reconcile]\nshortfall_split = "fixed"\ncouncil_share = "nan"\n', "council_share must be between 0 and 1"),
    ("a = " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
    ('[ledger]\nanchor = "."\n', "[ledger] anchor = '.' is a folder"),
])
@pytest.mark.parametrize("command", [("status",), ("claim", "--month", "2020-10"), ("recharge", "--month", "2020-10")])
def test_a_bad_hds_toml_is_one_plain_line(tmp_path, october_store, toml, said, command):
    db = copy_store(october_store, tmp_path / "hds.db")
    (tmp_path / "hds.toml").write_text(toml)
    result = hds(*command, "--db", db)
    assert result.exit_code == 1 and said in result.output
    assert "internal error" not in result.output and result.output.count("\n") == 1


def test_a_free_period_beyond_reason_is_refused_by_rules_check_and_claim(tmp_path, sample_store):
    ok("rules", "export", tmp_path / "what-if")
    params = tmp_path / "what-if" / "parameters" / "hds2.yaml"
    params.write_text(params.read_text().replace("value: 42", "value: 99999999999999999999999"))
    for args in (("rules", "check", "--rules", tmp_path / "what-if"), ("rules", "check", params),
                 ("claim", "--month", "2020-10", "--db", sample_store, "--rules", tmp_path / "what-if")):
        result = hds(*args)
        assert result.exit_code == 1 and "is not a number of days (a whole number from 1 to 3,650)" in result.output
        assert "hds2.yaml line" in result.output and "internal error" not in result.output


def test_rules_export_is_owner_only_under_any_umask_and_never_through_a_link(tmp_path):
    before = os.umask(0)
    try:
        ok("rules", "export", tmp_path / "mine")
    finally:
        os.umask(before)
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in [tmp_path / "mine",
                                                                                    *(tmp_path / "mine").rglob("*")]}
    assert modes["mine"] == 0o700 and modes["mine/parameters"] == 0o700 and modes["mine/rulebooks"] == 0o700
    assert all(mode == 0o600 for name, mode in modes.items() if "." in name)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    result = hds("rules", "export", tmp_path / "link")
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("sql, said", [
    ("CREATE TABLE notes (text TEXT)", "a table 'notes' that hds does not make"),
    ("ALTER TABLE submissions ADD COLUMN approved_by TEXT", "the table 'submissions' does not have the columns hds "
                                                            "made (column(s) approved_by added)"),
    ("CREATE VIEW totals AS SELECT 1", "a view 'totals' that hds does not make"),
    ("CREATE TRIGGER quiet AFTER INSERT ON loads BEGIN SELECT 1; END", "a trigger 'quiet' that hds does not make"),
])
def test_verify_flags_a_change_of_the_stores_shape(tmp_path, october_store, sql, said):
    db = copy_store(october_store, tmp_path / "hds.db")
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute(sql)
        con.commit()
    result = hds("verify", "--db", db)
    assert result.exit_code == 1 and said in result.output
