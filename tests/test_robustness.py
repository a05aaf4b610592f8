"""Nothing lost, nothing double-claimed: what a careless user or an attacker does, and what hds does then."""

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from fixtures import SAMPLE_DIR
from tests.cli_helpers import PARTNERS, hds, ok
from tests.conftest import copy_store

ROOT = Path(__file__).resolve().parent.parent
DISCHARGES = "discharge_id,patient_id,discharge_date,nhs_number\nD1,P1,2020-10-05,9990000026\nD2,P2,2020-10-01,\n"
EPISODES = ("episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation\n"
            "E1,D1,interim_bed,2020-10-05,,700,OCC\nE2,D2,home_care,2020-10-01,2020-12-31,350,OCCG\n")


def folder(tmp_path, name="data", **tables):
    path = tmp_path / name
    path.mkdir()
    for table, text in tables.items():
        (path / f"{table}.csv").write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def loaded(tmp_path, **tables):
    db = tmp_path / "hds.db"
    ok("load", folder(tmp_path, "first", discharges=DISCHARGES, episodes=EPISODES, **tables), "--db", db)
    return db


def state(db):
    with sqlite3.connect(db) as con:
        return (con.execute("SELECT COUNT(*) FROM loads").fetchone()[0],
                con.execute("SELECT COUNT(*) FROM episodes WHERE _until_load IS NULL").fetchone()[0])


# --- input read right or refused ---------------------------------------------------------

def test_a_first_load_needs_every_required_table(tmp_path):
    result = hds("load", folder(tmp_path, discharges=DISCHARGES), "--db", tmp_path / "hds.db")
    assert result.exit_code == 1
    assert "the required table 'episodes' is missing" in result.output
    assert not (tmp_path / "hds.db").exists()  # a refused first load leaves no store behind


def test_an_extract_cut_down_to_its_header_asks_before_removing_everything(tmp_path):
    db = loaded(tmp_path)
    header_only = folder(tmp_path, "cut", episodes=EPISODES.splitlines()[0] + "\n")
    result = hds("load", header_only, "--db", db)
    assert result.exit_code == 1
    assert "this load would remove 2 of the 2 episodes in the store (100%)" in result.output
    assert "--allow-removals" in result.output
    assert state(db) == (1, 2)
    ok("load", header_only, "--db", db, "--allow-removals")
    assert state(db) == (2, 0)


def test_table_names_are_matched_whatever_their_case_and_every_file_is_hashed(tmp_path):
    data = folder(tmp_path, discharges=DISCHARGES)
    (data / "Episodes.CSV").write_text(EPISODES)
    db = tmp_path / "hds.db"
    ok("load", data, "--db", db)
    assert state(db) == (1, 2)
    with sqlite3.connect(db) as con:
        files = json.loads(con.execute("SELECT files FROM loads").fetchone()[0])
    assert set(files) == {"discharges.csv", "Episodes.CSV"}


def test_a_windows_excel_csv_reads_right(tmp_path):
    episodes = EPISODES.replace(",700,", ',"£1,234.50",').encode("cp1252")
    db = tmp_path / "hds.db"
    out = ok("load", folder(tmp_path, discharges=DISCHARGES, episodes=episodes), "--db", db)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT weekly_pence FROM episodes WHERE episode_id = 'E1'").fetchone()[0] == 123450
    assert "Windows-1252" in out


@pytest.mark.parametrize("amount, message", [
    ("99999999999999999999", "is more than £100,000, the most this column accepts"),
    ("100000.01", "is more than £100,000, the most this column accepts"),
])
def test_money_has_a_sane_upper_bound(tmp_path, amount, message):
    episodes = EPISODES.replace(",700,", f",{amount},")
    result = hds("load", folder(tmp_path, discharges=DISCHARGES, episodes=episodes), "--db", tmp_path / "hds.db")
    assert result.exit_code == 1
    assert f"episodes.csv row 2, column weekly_cost: '{amount}' {message}" in result.output
    assert "Traceback" not in result.output


def workbook(tmp_path, weekly, formula=None):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table, text in (("discharges", DISCHARGES), ("episodes", EPISODES)):
        sheet = book.create_sheet(table)
        for line in text.splitlines():
            sheet.append(line.split(","))
    book["episodes"]["F2"] = weekly
    if formula:
        book["episodes"]["E2"] = formula
    path = tmp_path / "extract.xlsx"
    book.save(path)
    return path


def test_excel_money_is_read_to_the_penny_it_shows(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", workbook(tmp_path, 700.6999999999999), "--db", db)  # Excel shows 700.70
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT weekly_pence FROM episodes WHERE episode_id = 'E1'").fetchone()[0] == 70070


def test_excel_money_beyond_the_penny_is_refused(tmp_path):
    result = hds("load", workbook(tmp_path, 700.123), "--db", tmp_path / "hds.db")
    assert result.exit_code == 1
    assert "extract.xlsx sheet episodes row 2, column weekly_cost: 700.123 has more than two decimal places" in result.output


def test_a_formula_without_a_saved_value_is_refused_not_read_as_blank(tmp_path):
    result = hds("load", workbook(tmp_path, 700, formula="=DATE(2020,11,30)"), "--db", tmp_path / "hds.db")
    assert result.exit_code == 1
    assert "sheet episodes" in result.output and "row 2" in result.output and "end_date" in result.output
    assert "formula with no saved value" in result.output
    assert not (tmp_path / "hds.db").exists()


def test_a_nul_byte_in_an_organisation_code_is_refused(tmp_path):
    episodes = EPISODES.replace(",OCC\n", ",OC\x00C\n")
    result = hds("load", folder(tmp_path, discharges=DISCHARGES, episodes=episodes), "--db", tmp_path / "hds.db")
    assert result.exit_code == 1
    assert "episodes.csv row 2, column organisation" in result.output and "NUL" in result.output


# --- the store is what it claims to be -----------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("discharge_id\nD1\n"), "is not an hds store (it is not an SQLite database)"),
    (lambda p: p.mkdir(), "is a directory"),
])
def test_a_store_that_is_not_one_is_one_clear_line(tmp_path, make, message):
    db = tmp_path / "hds.db"
    make(db)
    result = hds("claim", "--month", "2020-10", "--db", db)
    assert result.exit_code in (1, 2)
    assert message in result.output and "Traceback" not in result.output


def test_a_truncated_store_is_one_clear_line(tmp_path):
    db = loaded(tmp_path)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    result = hds("claim", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "damaged" in result.output or "truncated" in result.output or "malformed" in result.output


def test_a_store_written_by_a_newer_hds_is_refused(tmp_path):
    db = loaded(tmp_path)
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO migrations (id, name, applied_at) VALUES (99, 'from the future', '2030-01-01')")
    result = hds("claim", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1
    assert "was written by a newer version of hds (schema 99" in result.output


def test_a_command_that_only_reads_creates_nothing(tmp_path):
    for args in (["claim", "--month", "2020-10"], ["trace", "P1"], ["log"], ["verify"]):
        result = hds(*args, "--db", tmp_path / "none.db")
        assert result.exit_code == 1
        assert not (tmp_path / "none.db").exists()
    assert "no store at" in hds("log", "--db", tmp_path / "none.db").output
    assert "--data" not in hds("log", "--db", tmp_path / "none.db").output  # log has no --data to offer
    assert "--data" in hds("claim", "--month", "2020-10", "--db", tmp_path / "none.db").output


def test_load_into_a_missing_folder_and_a_missing_source_are_clear(tmp_path):
    result = hds("load", SAMPLE_DIR, "--db", tmp_path / "nowhere" / "hds.db")
    assert result.exit_code == 1 and "the folder" in result.output and "does not exist" in result.output
    missing = hds("load", tmp_path / "no-such-folder", "--db", tmp_path / "hds.db")
    assert missing.exit_code == 2  # a usage error


def test_a_reader_during_a_long_load_sees_one_state_and_never_dies(tmp_path):
    db = loaded(tmp_path)
    before = hds("claim", "--month", "2020-10", "--json", "--db", db)
    load = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "load", str(SAMPLE_DIR), "--db", str(db),
                             "--allow-removals"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    totals = set()
    while load.poll() is None:
        reader = subprocess.run([sys.executable, str(ROOT / "cli.py"), "claim", "--month", "2020-10", "--json",
                                 "--db", str(db)], capture_output=True, text=True)
        assert reader.returncode == 0, reader.stderr
        totals.add(json.loads(reader.stdout)["totals"]["claim"])
    assert load.returncode == 0
    after = json.loads(hds("claim", "--month", "2020-10", "--json", "--db", db).output)["totals"]["claim"]
    assert totals <= {json.loads(before.output)["totals"]["claim"], after}


# --- money never claimed twice ----------------------------------------------------------------

def test_concurrent_submits_of_different_months_claim_each_month_once(tmp_path, sample_store):
    db = copy_store(sample_store, tmp_path / "hds.db")  # the sample loaded
    ok("submit", "--month", "2020-09", "--db", db)
    october = Decimal(json.loads(ok("claim", "--month", "2020-10", "--json", "--db", db))["totals"]["claim"])
    runs = [subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "submit", "--month", month, "--db", str(db),
                              *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for month, extra in (("2020-10", []), ("2020-12", ["--skip-months"]))]
    codes = sorted(p.wait(timeout=120) for p in runs)
    assert codes in ([0, 0], [0, 1])
    with sqlite3.connect(db) as con:
        claimed = con.execute("SELECT SUM(amount_pence) FROM submission_lines WHERE claim_month = '2020-10'").fetchone()[0]
    assert Decimal(claimed) / 100 == october  # once, whichever won
    assert ok("verify", "--db", db).startswith("ok:")


# --- exports ----------------------------------------------------------------------------------

HOSTILE = ("discharge_id,patient_id,discharge_date\nD1,=HYPERLINK(\"http://x\"),2020-10-05\nD2,@SUM(1+1),2020-10-01\n")
HOSTILE_EPISODES = EPISODES.replace(",OCCG\n", ",+OCCG\n").replace(",OCC\n", ",-OCC\n")


def test_no_exported_cell_is_a_live_formula(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", folder(tmp_path, discharges=HOSTILE, episodes=HOSTILE_EPISODES), "--db", db)
    (tmp_path / "hds.toml").write_text('[partners]\ncouncil = "-OCC"\nccg = "+OCCG"\ncouncil_name = "=1+1"\n')
    text = ok("claim", "--month", "2020-10", "--csv", "--db", db)
    for row in csv.reader(io.StringIO(text)):
        assert all(not cell or cell[0] not in "=+@" for cell in row), row
        assert all(not cell.startswith("-") or cell.replace(".", "").lstrip("-").isdigit() for cell in row), row
    ok("claim", "--month", "2020-10", "-o", tmp_path / "pack.xlsx", "--db", db)
    book = openpyxl.load_workbook(tmp_path / "pack.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert str(cell.value).startswith("=SUM"), (sheet.title, cell.coordinate, cell.value)
                elif isinstance(cell.value, str):
                    assert cell.value[:1] not in ("=", "+", "@") and not cell.value.startswith("-O"), cell.value


def test_output_files_are_owner_only_whatever_the_umask(tmp_path):
    db = loaded(tmp_path)
    previous = os.umask(0)
    try:
        for name in ("claim.csv", "claim.json", "claim.xlsx", "claim.txt"):
            ok("claim", "--month", "2020-10", "-o", tmp_path / name, "--db", db)
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    finally:
        os.umask(previous)


def test_out_never_follows_a_symbolic_link(tmp_path):
    db = loaded(tmp_path)
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "link.csv").symlink_to(target)
    result = hds("claim", "--month", "2020-10", "-o", tmp_path / "link.csv", "--db", db)
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert target.read_text() == "keep me"


def test_the_format_follows_the_extension_and_a_contradiction_is_refused(tmp_path):
    db = loaded(tmp_path)
    ok("claim", "--month", "2020-10", "-o", tmp_path / "c.xlsx", "--db", db)
    assert (tmp_path / "c.xlsx").read_bytes()[:2] == b"PK"  # a real workbook, not text
    wrong = hds("claim", "--month", "2020-10", "--format", "table", "-o", tmp_path / "t.xlsx", "--db", db)
    assert wrong.exit_code == 2 and "does not match" in wrong.output
    assert not (tmp_path / "t.xlsx").exists()
    missing = hds("claim", "--month", "2020-10", "-o", tmp_path / "no" / "c.csv", "--db", db)
    assert missing.exit_code == 1 and "does not exist" in missing.output


# --- the ledger, anchored outside the store -----------------------------------------------------

def submitted(tmp_path, months=("2020-10", "2020-11")):
    db = loaded(tmp_path)
    hashes = []
    for month in months:
        out = ok("submit", "--month", month, "--db", db)
        hashes.append(out.split("Submission hash: ")[1].split()[0])
    return db, hashes


def tamper(db, *sql):
    with sqlite3.connect(db) as con:
        for name in [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]:
            con.execute(f"DROP TRIGGER {name}")
        for statement in sql:
            con.execute(statement)


def test_the_anchor_holds_every_submission_and_verify_expects_a_hash(tmp_path):
    db, hashes = submitted(tmp_path)
    anchor = Path(f"{db}.anchor").read_text().splitlines()
    assert [line.split()[-1] for line in anchor] == hashes
    assert ok("verify", "--expect", hashes[-1], "--db", db).startswith("ok:")
    wrong = hds("verify", "--expect", "0" * 64, "--db", db)
    assert wrong.exit_code == 1 and "no submission has this hash" in wrong.output
    assert "changed after" not in wrong.output


def test_deleting_the_last_submission_is_found(tmp_path):
    db, hashes = submitted(tmp_path)
    tamper(db, "DELETE FROM submission_lines WHERE submission_id = 2", "DELETE FROM submissions WHERE id = 2")
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert "submission 2 (2020-11) is in the anchor file" in result.output and "it was deleted" in result.output
    assert "no submission has this hash" in hds("verify", "--expect", hashes[-1], "--db", db).output


def test_a_chain_recomputed_after_an_edit_is_found(tmp_path):
    from claims.ledger import header_hash, line_hash

    db, _ = submitted(tmp_path, ("2020-10",))
    tamper(db, "UPDATE submission_lines SET amount_pence = amount_pence + 100000 WHERE line_no = 1")
    with sqlite3.connect(db) as con:  # recompute every hash so the store agrees with itself
        con.row_factory = sqlite3.Row
        header = dict(con.execute("SELECT * FROM submissions WHERE id = 1").fetchone())
        chain = header["prev_hash"]
        for row in [dict(r) for r in con.execute("SELECT * FROM submission_lines ORDER BY line_no")]:
            chain = line_hash(chain, row)
            con.execute("UPDATE submission_lines SET line_hash = ? WHERE line_no = ?", [chain, row["line_no"]])
        total = con.execute("SELECT SUM(amount_pence) FROM submission_lines").fetchone()[0]
        header.update(total_pence=total, current_pence=total)
        con.execute("UPDATE submissions SET total_pence = ?, current_pence = ?, hash = ?",
                    [total, total, header_hash(header, chain)])
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert "its hash in the store differs from the anchor file" in result.output


def test_triggers_are_checked_by_their_sql_not_their_names(tmp_path):
    db, _ = submitted(tmp_path, ("2020-10",))
    with sqlite3.connect(db) as con:
        con.execute("DROP TRIGGER submission_lines_no_update")
        con.execute("CREATE TRIGGER submission_lines_no_update BEFORE UPDATE ON submission_lines BEGIN SELECT 1; END")
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert "the trigger submission_lines_no_update was altered" in result.output


def test_the_loads_log_and_the_data_history_are_in_the_chain(tmp_path):
    db, _ = submitted(tmp_path, ("2020-10",))
    tamper(db, "UPDATE loads SET files = '{}' WHERE id = 1")
    assert "load 1: its entry in the loads log was changed after the load" in hds("verify", "--db", db).output
    second = tmp_path / "second"
    second.mkdir()
    db2, _ = submitted(second, ("2020-10",))
    tamper(db2, "UPDATE episodes SET weekly_pence = 1 WHERE episode_id = 'E1'")
    assert "load 1: the data it loaded was changed afterwards" in hds("verify", "--db", db2).output


def test_the_store_refuses_to_rewrite_the_loads_log_or_the_data_history(tmp_path):
    db = loaded(tmp_path)
    with sqlite3.connect(db) as con:
        for sql in ("UPDATE loads SET source = 'x'", "DELETE FROM loads", "DELETE FROM episodes",
                    "UPDATE episodes SET weekly_pence = 1", "UPDATE episodes SET _until_load = NULL"):
            with pytest.raises(sqlite3.IntegrityError):
                con.execute(sql)


def test_reports_warn_when_the_ledger_fails_verification(tmp_path):
    db, _ = submitted(tmp_path, ("2020-10",))
    tamper(db, "UPDATE submission_lines SET amount_pence = 1 WHERE line_no = 1")
    result = hds("claim", "--month", "2020-11", "--db", db)
    assert result.exit_code == 0
    assert "warning: the ledger fails verification" in result.output


# --- configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize("toml, message", [
    ('[partners]\ncouncil = "OXC"\nccg = "OCCG"\n', "[partners] council = 'OXC' is an organisation code that appears in no episode"),
    ('[partners]\ncouncil = "OCC"\n', "[partners] council and ccg must be two different organisation codes"),
    ('[reconcile]\nshortfall_split = "fixed"\n', 'shortfall_split = "fixed" needs council_share'),
    ('[partners]\ncouncill = "OCC"\n', "unknown key 'councill' in [partners]"),
    ('[partner]\ncouncil = "OCC"\n', "unknown section [partner]"),
])
def test_configuration_is_checked_not_guessed(tmp_path, toml, message):
    db, _ = submitted(tmp_path, ("2020-10",))
    (tmp_path / "hds.toml").write_text(toml)
    result = hds("recharge", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1
    assert message in result.output


def test_the_recharge_carries_the_shortfall_split_reconcile_decided(tmp_path):
    db, _ = submitted(tmp_path, ("2020-10",))
    receipts = "receipt_id,claim_month,scheme,amount,received_date\nR1,2020-10,HDS2,1000.00,2020-11-20\n"
    ok("load", folder(tmp_path, "receipts", receipts=receipts), "--db", db)
    (tmp_path / "hds.toml").write_text(PARTNERS + '[reconcile]\nshortfall_split = "fixed"\ncouncil_share = "0.25"\n')
    rec = json.loads(ok("reconcile", "--month", "2020-10", "--json", "--db", db))
    council_share = sum(Decimal(s["council_share"]) for s in rec["schemes"] if s["council_share"])
    recharge = json.loads(ok("recharge", "--month", "2020-10", "--json", "--db", db))
    shortfall = [i for i in recharge["items"] if "shortfall" in i["item"]]
    assert [Decimal(i["amount"]) for i in shortfall] == [council_share] and council_share > 0


def test_an_unexpected_fault_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    db = loaded(tmp_path)
    import claims.ledger

    monkeypatch.setattr(claims.ledger, "claim_for", lambda *a: 1 / 0)
    result = hds("claim", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1
    assert result.output.startswith("Error: internal error (ZeroDivisionError")
    assert "Traceback" not in result.output


def test_a_writer_that_must_wait_says_so_and_then_goes_on(tmp_path):
    db = loaded(tmp_path)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    submit = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "submit", "--month", "2020-10", "--db", str(db)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waiting = submit.stderr.readline()  # what it says when it finds the store locked: read as soon as it is said
    assert "Waiting: another hds process is writing to" in waiting
    time.sleep(0.5)  # and it keeps waiting, past its next tries (each a 0.1 s busy wait and a 0.2 s pause)
    assert submit.poll() is None  # still waiting, not dead
    holder.execute("COMMIT")
    holder.close()
    out, err = submit.communicate(timeout=60)
    assert submit.returncode == 0, waiting + err
    assert "Submitted 2020-10" in out and "Traceback" not in err
