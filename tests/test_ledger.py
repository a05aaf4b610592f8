"""The claims ledger: submit, adjust, reconcile, recharge, verify; and what must never happen."""

import contextlib
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures import SAMPLE_DIR
from tests.cli_helpers import PARTNERS, hds, ok
from tests.conftest import copy_store

ROOT = Path(__file__).resolve().parent.parent

OCTOBER = {
    "discharges.csv": "discharge_id,patient_id,discharge_date\nD1,P1,2020-10-05\nD2,P2,2020-10-01\n",
    "episodes.csv": "episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation\n"
                    "E1,D1,interim_bed,2020-10-05,,700,OCC\n"
                    "E2,D2,home_care,2020-10-01,2020-12-31,350,OCCG\n",
    "events.csv": "event_id,discharge_id,event,date,outcome\n",
    "block_costs.csv": "block_id,description,scheme,organisation,start_date,end_date,amount\n"
                       "B1,Unoccupied beds,HDS2,OCC,2020-10-01,2020-11-30,6100.00\n",
}
# November's extract: a backdated Care Act assessment for D1 and a corrected weekly cost for E2
NOVEMBER = OCTOBER | {
    "episodes.csv": OCTOBER["episodes.csv"].replace("2020-12-31,350,OCCG", "2020-12-31,420,OCCG"),
    "events.csv": OCTOBER["events.csv"] + "V1,D1,care_act_assessment,2020-10-20,\n",
}
RECEIPTS = {"receipts.csv": "receipt_id,claim_month,scheme,amount,received_date\n"
                            "R1,2020-10,HDS2,7400.00,2020-11-20\n"
                            "R2,2020-11,HDS2,1000.00,2020-12-18\n"}


def extract(tmp_path, name, files):
    folder = tmp_path / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def claim_json(db, month):
    import json
    return json.loads(ok("claim", "--month", month, "--format", "json", "--db", db))


def hds_total(db, month):
    import json
    rows = json.loads(ok("allocations", "--month", month, "--format", "json", "--db", db))
    return sum(Decimal(r["amount"]) for r in rows if r["funder"] == "hds")


def october_and_november_submitted(tmp_path):
    """A store where October was submitted, then November with the corrections of NOVEMBER."""
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    ok("load", extract(tmp_path, "nov", NOVEMBER), "--db", db)
    ok("submit", "--month", "2020-11", "--db", db)
    return db


def test_three_months_of_claims(tmp_path):
    db = tmp_path / "hds.db"
    (tmp_path / "hds.toml").write_text(PARTNERS)
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    october = claim_json(db, "2020-10")
    # E1 27 days at £700/week, E2 31 days at £350/week, B1 31/61 of £6,100
    assert [(l["episode_id"] or l["block_id"], l["amount"]) for l in october["lines"]] == [
        ("E1", "2700.00"), ("E2", "1550.00"), ("B1", "3100.00")]
    assert october["adjustments"] == [] and october["totals"]["claim"] == "7350.00"
    assert "Submitted 2020-10 as submission 1" in ok("submit", "--month", "2020-10", "--db", db)

    ok("load", extract(tmp_path, "nov", NOVEMBER), "--db", db)
    november = claim_json(db, "2020-11")
    adjustments = {a["episode_id"]: a for a in november["adjustments"]}
    assert {a["claim_month"] for a in november["adjustments"]} == {"2020-10"}
    assert adjustments["E1"]["amount"] == "-1200.00"  # free only until 2020-10-19 now
    assert adjustments["E1"]["reason"] == "care act assessment dated 2020-10-20 loaded in load 2"
    assert adjustments["E2"]["amount"] == "310.00"  # 31 days at £420 instead of £350
    assert adjustments["E2"]["reason"] == "episode E2: weekly_cost 350.00 -> 420.00 in load 2"
    recomputed_october = hds_total(db, "2020-10")
    assert sum(Decimal(a["amount"]) for a in november["adjustments"]) == recomputed_october - Decimal("7350.00")
    assert Decimal(november["totals"]["claim"]) == (Decimal(november["totals"]["current"])
                                                     + Decimal(november["totals"]["adjustments"]))
    ok("submit", "--month", "2020-11", "--db", db)
    # After submitting, every earlier month has been claimed exactly its recomputed amount
    import sqlite3 as sq
    with sq.connect(db) as con:
        claimed_october = con.execute(
            "SELECT SUM(amount_pence) FROM submission_lines WHERE claim_month = '2020-10'").fetchone()[0]
    assert Decimal(claimed_october) / 100 == recomputed_october

    ok("load", extract(tmp_path, "receipts", RECEIPTS), "--db", db)
    october_rec = ok("reconcile", "--month", "2020-10", "--format", "csv", "--db", db)
    assert october_rec.splitlines()[1] == "2020-10,HDS2,7350.00,7400.00,50.00,over-paid,,"
    import json
    nov_rec = json.loads(ok("reconcile", "--month", "2020-11", "--format", "json", "--db", db))
    (hds2,) = nov_rec["schemes"]
    claimed = Decimal(hds2["claimed"])
    assert hds2["status"] == "under-paid" and hds2["received"] == "1000.00"
    assert Decimal(hds2["council_share"]) + Decimal(hds2["ccg_share"]) == claimed - Decimal("1000.00")
    assert [p["month"] for p in nov_rec["running"]] == ["2020-10", "2020-11"]
    assert ok("verify", "--db", db).startswith("ok: 2 submission(s) and 3 load(s) verified")


def test_trace_shows_the_money_history(tmp_path):
    db = october_and_november_submitted(tmp_path)
    out = ok("trace", "P1", "--db", db)
    assert "    submission 1 (2020-10) claimed E1:  27 days £2,700.00" in out
    assert ("    submission 2 (2020-11) adjusted E1: -12 days -£1,200.00  because care act assessment dated "
            "2020-10-20 loaded in load 2") in out
    assert "    claimed for 2020-10 so far: £1,500.00" in out
    # as known at load 1, before the assessment arrived
    assert "rule free-period" in ok("trace", "P1", "--month", "2020-10", "--as-of-load", "1", "--db", db)
    assert "Care Act assessment (A)" not in ok("trace", "P1", "--as-of-load", "1", "--db", db)


def test_a_skipped_month_is_claimed_in_full_as_an_adjustment(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    december = claim_json(db, "2020-12")
    november = [a for a in december["adjustments"] if a["claim_month"] == "2020-11"]
    assert sum(Decimal(a["amount"]) for a in november) == hds_total(db, "2020-11")
    assert {a["reason"] for a in november} == {"2020-11 was not claimed before"}


def test_submitting_twice_or_out_of_order_is_refused(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-11", "--db", db)
    again = hds("submit", "--month", "2020-11", "--db", db)
    assert again.exit_code == 1
    assert "2020-11 was already submitted (submission 1" in again.output
    earlier = hds("submit", "--month", "2020-10", "--db", db)
    assert earlier.exit_code == 1
    assert ("2020-10 is before 2020-11, the first month hds claimed: months before it were claimed outside hds, "
            "and hds does not claim them") in earlier.output


def test_months_are_submitted_in_order_unless_skipping_is_asked_for(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    gap = hds("submit", "--month", "2020-12", "--db", db)
    assert gap.exit_code == 1
    assert ("2020-11 has not been submitted yet; submit the months in order (2020-11 next), or pass --skip-months to "
            "claim every month from 2020-11 inside 2020-12's claim as adjustments") in gap.output
    ok("submit", "--month", "2020-12", "--skip-months", "--db", db)
    late = hds("submit", "--month", "2020-11", "--db", db)
    assert late.exit_code == 1
    assert ("2020-11 cannot be submitted on its own any more: 2020-12 is already submitted and its money was claimed "
            "as adjustments in submission 2 (2020-12)") in late.output
    # every report agrees where November's money went: its claim is what December carried for it
    november = claim_json(db, "2020-11")
    assert november["submission"] is None and november["lines"] and november["adjustments"] == []
    carried = [a for a in claim_json(db, "2020-12")["adjustments"] if a["claim_month"] == "2020-11"]
    assert sum(Decimal(a["amount"]) for a in carried) == Decimal(november["totals"]["claim"]) == hds_total(db, "2020-11")
    assert "was not submitted on its own: its money was claimed as adjustments in submission 2" in ok(
        "claim", "--month", "2020-11", "--db", db)


def test_a_submitted_claim_shows_as_submitted_even_after_new_data(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    before = claim_json(db, "2020-10")
    ok("submit", "--month", "2020-10", "--db", db)
    ok("load", extract(tmp_path, "nov", NOVEMBER), "--db", db)
    after = claim_json(db, "2020-10")
    assert after["lines"] == before["lines"] and after["submission"] == 1


def test_the_store_refuses_to_change_a_submission(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    with sqlite3.connect(db) as con:
        for sql in ("UPDATE submission_lines SET amount_pence = 1", "DELETE FROM submission_lines",
                    "UPDATE submissions SET total_pence = 1", "DELETE FROM submissions"):
            with pytest.raises(sqlite3.IntegrityError, match="submitted claims cannot be changed"):
                con.execute(sql)


def test_verify_names_a_line_edited_behind_the_triggers(tmp_path):
    db = october_and_november_submitted(tmp_path)
    with sqlite3.connect(db) as con:
        for name in ("submission_lines_no_update", "submission_lines_no_delete"):
            con.execute(f"DROP TRIGGER {name}")
        con.execute("UPDATE submission_lines SET amount_pence = 270001 WHERE submission_id = 1 AND line_no = 1")
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert ("submission 1 (2020-10) line 1: its contents were changed after submission (E1, 2020-10, "
            "amount now 2700.01)") in result.output
    assert "the trigger submission_lines_no_update that protects the store is missing" in result.output


def test_verify_finds_a_deleted_line(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    with sqlite3.connect(db) as con:
        con.execute("DROP TRIGGER submission_lines_no_delete")
        con.execute("DELETE FROM submission_lines WHERE line_no = 3")
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert "submission 1 (2020-10): holds 2 lines, but 3 were submitted" in result.output


def test_recharge_statement(tmp_path):
    db = tmp_path / "hds.db"
    (tmp_path / "hds.toml").write_text(PARTNERS)
    files = OCTOBER | {"episodes.csv": OCTOBER["episodes.csv"] + "E3,D1,home_care,2020-10-05,,70,OCCG\n"}
    ok("load", extract(tmp_path, "oct", files), "--db", db)
    import json
    r = json.loads(ok("recharge", "--month", "2020-12", "--format", "json", "--db", db))
    items = {i["item"].split(" (")[0]: i for i in r["items"]}
    # December: D1 (discharged 2020-10-05) is in week 7, Care Act pending: funder council
    # E1 paid by OCC: no recharge. Paid by OCCG for council days: E3 31 days x £10 = £310.00 and
    # E2 (D2, discharged 2020-10-01, also Care Act pending) 31 days x £50 = £1,550.00
    council_days = items["Days after the free period the council is responsible for, paid by OCCG"]
    assert (council_days["owed_by"], council_days["owed_to"], council_days["amount"]) == ("OCC", "OCCG", "1860.00")
    assert council_days["lines"] == 2
    assert items["Scheme costs paid by OCC in the claim for 2020-12"]["amount"] == "0.00"
    assert r["net"] == {"owed_by": "OCC", "owed_to": "OCCG", "amount": "1860.00"}


def test_log_lists_loads_and_submissions(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    out = ok("log", "--db", db)
    assert "discharges +2 ~0 -0" in out and "discharges.csv sha256 " in out
    assert "  2020-10  " in out and "£7,350.00  (3 lines)" in out


def run_hds(*args):
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_submits_at_once_exactly_one_wins(tmp_path, sample_store):
    db = copy_store(sample_store, tmp_path / "hds.db")  # the sample loaded
    first, second = run_hds("submit", "--month", "2020-10", "--db", db), run_hds("submit", "--month", "2020-10", "--db", db)
    results = [(p.wait(timeout=120), p.stdout.read() + p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    loser = next(out for code, out in results if code == 1)
    assert "2020-10 was already submitted (submission 1" in loser
    assert ok("verify", "--db", db).startswith("ok: 1 submission(s) and 1 load(s) verified")


def store_state(db):
    with contextlib.closing(sqlite3.connect(db)) as con:  # closed at once: an open connection keeps the log
        return (con.execute("SELECT COUNT(*) FROM loads").fetchone()[0],
                con.execute("SELECT COUNT(*) FROM discharges WHERE _until_load IS NULL").fetchone()[0],
                con.execute("SELECT COUNT(*) FROM submissions").fetchone()[0],
                con.execute("SELECT COUNT(*) FROM submission_lines").fetchone()[0])


# Where a kill -9 lands, chosen rather than drawn at random: each writing command is watched through the store's
# write-ahead log (hds.db-wal), and killed at the n-th change it makes to it, counting 1 the log appearing (the store
# opened, the extract being read or the claim computed), 2 frames being written into it (a transaction committing:
# the torn write), 3 the log removed (the store closed), 4 the log again, 5 frames again (a load writes twice),
# and so on; `None` would let the command finish. A random sleep hit the torn write in about one run of twenty.
# Not run, as they leave the store as a point that is run does: a load's point 4 (nothing is written since point 3)
# and either command finishing (point 3 finds the store as the finished command leaves it: "after").
LOAD_POINTS = (1, 2, 3, 5)
SUBMIT_POINTS = (1, 2, 3)
ALWAYS_REACHED = (1, 2)  # every command that writes opens the store and writes frames before it ends


def kill_at_point(process, db, point):
    """SIGKILL `process` at the `point`-th change of the store's write-ahead log (see above), or once it has
    ended when `point` is None or it makes fewer changes. Whether the kill found it running."""
    wal = Path(f"{db}-wal")

    def phase():  # 0: no log, 1: an empty log (a header at most), 2: frames in the log
        try:
            return 1 + (wal.stat().st_size > 32)
        except FileNotFoundError:
            return 0

    seen, changes = phase(), 0
    while process.poll() is None and (point is None or changes < point):
        now = phase()
        changes += (now - seen) % 3  # a phase skipped between two looks still counts
        seen = now
        time.sleep(0.0005)
    if point is None:
        process.wait()
    process.send_signal(signal.SIGKILL)
    return process.wait() == -signal.SIGKILL


@pytest.mark.parametrize("point", LOAD_POINTS)
def test_killing_load_midway_leaves_the_store_before_or_after(tmp_path, point):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    before = store_state(db)
    process = run_hds("load", SAMPLE_DIR, "--db", db, "--allow-removals")
    killed = kill_at_point(process, db, point)
    assert killed or point not in ALWAYS_REACHED, f"load ended before point {point}"
    after = store_state(db)
    assert after in (before, (before[0] + 1, 6177, 0, 0)), after  # the sample replaces every table
    assert ok("verify", "--db", db).startswith("ok:")


@pytest.mark.parametrize("point", SUBMIT_POINTS)
def test_killing_submit_midway_leaves_the_store_before_or_after(tmp_path, sample_store, point):
    db = copy_store(sample_store, tmp_path / "hds.db")
    before = store_state(db)
    process = run_hds("submit", "--month", "2020-10", "--db", db)
    killed = kill_at_point(process, db, point)
    assert killed or point not in ALWAYS_REACHED, f"submit ended before point {point}"
    after = store_state(db)
    if after != before:
        with sqlite3.connect(db) as con:
            submitted = con.execute("SELECT line_count FROM submissions").fetchone()[0]
        assert after[:3] == (before[0], before[1], 1) and after[3] == submitted > 0
    verified = hds("verify", "--db", db)
    if verified.exit_code != 0 and after != before:
        # killed after the commit, before the hash was appended to hds.db.anchor (claims/ledger.submit does the
        # one, then the other): the submission is whole, and verify names the lagging anchor and nothing else
        problems = verified.output.splitlines()[1:]
        assert verified.output.startswith("Error: the store was changed after hds wrote it:"), verified.output
        assert len(problems) == 1 and ("anchor file" in problems[0] and (
            "is missing" in problems[0] or "submission(s) 1 are not in the anchor file" in problems[0])), problems
    else:
        assert verified.exit_code == 0 and verified.output.startswith("ok:"), verified.output


def test_shortfall_split_follows_hds_toml_beside_the_store(tmp_path):
    import json
    db = tmp_path / "hds.db"
    (tmp_path / "hds.toml").write_text(PARTNERS)
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    receipts = {"receipts.csv": "receipt_id,claim_month,scheme,amount,received_date\nR1,2020-10,HDS2,7000.00,2020-11-20\n"}
    ok("load", extract(tmp_path, "receipts", receipts), "--db", db)
    # cost share: OCC incurred 2700 + 3100 of 7350, OCCG 1550; shortfall 350.00
    (line,) = json.loads(ok("reconcile", "--month", "2020-10", "--format", "json", "--db", db))["schemes"]
    assert (line["council_share"], line["ccg_share"]) == ("276.19", "73.81")
    (tmp_path / "hds.toml").write_text('[reconcile]\nshortfall_split = "fixed"\ncouncil_share = "0.6"\n')
    (line,) = json.loads(ok("reconcile", "--month", "2020-10", "--format", "json", "--db", db))["schemes"]
    assert (line["council_share"], line["ccg_share"]) == ("210.00", "140.00")
    (tmp_path / "hds.toml").write_text('[reconcile]\nshortfall_split = "halves"\n')
    bad = hds("reconcile", "--month", "2020-10", "--db", db)
    assert bad.exit_code == 1 and "shortfall_split = 'halves' is not known; expected one of cost_share, fixed" in bad.output


def test_a_submitted_month_recomputed_as_of_its_load_matches_the_submission(tmp_path):
    import json
    db = october_and_november_submitted(tmp_path)
    submitted = claim_json(db, "2020-10")
    again = json.loads(ok("claim", "--month", "2020-10", "--as-of-load", "1", "--format", "json", "--db", db))
    assert again["submission"] is None and again["adjustments"] == []
    assert again["lines"] == submitted["lines"]


def test_verify_finds_a_deleted_submission(tmp_path):
    db = tmp_path / "hds.db"
    ok("load", extract(tmp_path, "oct", OCTOBER), "--db", db)
    ok("submit", "--month", "2020-10", "--db", db)
    ok("submit", "--month", "2020-11", "--db", db)
    with sqlite3.connect(db) as con:
        con.execute("DROP TRIGGER submissions_no_delete")
        con.execute("DELETE FROM submissions WHERE id = 1")
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert "submission 2 (2020-11): does not follow the previous submission" in result.output
    assert "submission 1: its header was deleted, its lines remain" in result.output


def test_the_lines_chain_is_written_exactly_as_json_dumps_writes_each_line():
    """The submission's line hashes are chained from each line's JSON written a column at a time; that
    text must be json.dumps's, byte for byte, or stored hashes would no longer verify."""
    import json
    import random

    import hashlib

    from claims.ledger.hashing import chain_link, chain_links, json_rows, rows_hash

    rng = random.Random(23)
    texts = ["", "plain", 'quote " and \\ back', "£ é ü 漢字 \U0001f600", "tab\there\nnew", "\x1f\x7f", "'lead"]
    rows = [(7, n, rng.choice(texts), rng.choice(texts), rng.randint(-10**12, 10**12), 0, 1) for n in range(300)]
    rows += [(1, 2, None, True, 2.5, "x", -1), (3, 4, "a", False, 1e21, None, 0)]  # other kinds: json.dumps each
    rows += [(5, 6, None, None, 0.1, "", 9)]
    assert json_rows(rows) == [json.dumps(list(r)) for r in rows]
    expected, link = [], "0" * 64
    for r in rows:
        link = chain_link(link, r)
        expected.append(link)
    assert chain_links("0" * 64, rows) == expected
    assert chain_links("0" * 64, []) == [] and json_rows([]) == []
    for uneven in ([(1, 2), (3,)], [()], [(), ()]):  # rows of differing or no length: still json.dumps's
        assert json_rows(uneven) == [json.dumps(list(r)) for r in uneven]
    for some in (rows, rows[:1], []):
        assert rows_hash(some) == hashlib.sha256(json.dumps([list(r) for r in some]).encode()).hexdigest()


def test_a_findings_ids_are_written_exactly_as_json_dumps_writes_them():
    """The findings' ids are stored as JSON and hashed into the submission (findings_hash): written
    by their own encoder, the text must be json.dumps's, byte for byte."""
    import json
    import random

    from claims.ledger.hashing import json_ids

    rng = random.Random(5)
    texts = ["P1", "", 'quote " and \\ back', "£ é 漢字 \U0001f600", "tab\there\nnew", "\x1f\x7f", "'=lead"]
    cases = [{}, {"patient": []}, {"patient": ["P1"], "discharge": ["D1", "D2"]}]
    cases += [{rng.choice(texts): [rng.choice(texts) for _ in range(rng.randint(0, 4))]
               for _ in range(rng.randint(1, 5))} for _ in range(200)]
    cases += [{"patient": ["P1", 2]}, {"episode": ("E1",)}, {3: ["x"]}, {"block": None}]  # others: json.dumps's
    for ids in cases:
        assert json_ids(ids) == json.dumps(ids)
