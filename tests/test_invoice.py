"""The invoice between the partners: its total is the recharge's net, from the partner owed to the
partner owing; issued once, numbered in sequence, kept in the ledger and verified; a change after issue
goes into the next invoice as its own line; one A4 page as a workbook or a PDF."""

import json
import shutil
import sqlite3
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from fixtures import SAMPLE_DIR
from fixtures.generate import generate, write
from hds.month import Month
from tests.cli_helpers import hds, ok
from tests.conftest import copy_store

RECEIPTS = SAMPLE_DIR.parent / "receipts"
PARTNERS = '''[partners]
council = "OCC"
council_name = "Oxfordshire County Council"
council_address = "County Hall, New Road, Oxford OX1 1ND"
ccg = "OCCG"
ccg_name = "Oxfordshire Clinical Commissioning Group"
ccg_address = """Jubilee House
Oxford OX4 2LH"""

[invoice]
prefix = "OCC-HDS-"
'''


def as_json(*args):
    """A command's JSON (what it prints to stdout, without its notes on stderr)."""
    result = hds(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def submit(db, month):
    """Submit a month of the sample, its double-funding errors acknowledged."""
    findings = as_json("check", "--month", month, "--json", "--db", db)["findings"]
    accepts = [a for f in findings if f["severity"] == "error" for a in ("--accept", f"{f['code']}:{f['subject']}")]
    ok("submit", "--month", month, *accepts, *(["--because", "agreed by both partners"] if accepts else []),
       "--db", db)


def signed_net(recharge: dict) -> Decimal:
    """The recharge's net as the CCG owing the council (negative: the council owes the CCG)."""
    net = recharge["net"]
    return Decimal(net["amount"]) * (1 if net["owed_by"] == "OCCG" else -1)


def assert_invoice_states_the_recharge(db, month):
    invoice = as_json("invoice", "--month", month, "--json", "--db", db)
    recharge = as_json("recharge", "--month", month, "--json", "--db", db)
    assert set(invoice) == {"number", "month", "from", "to", "issued", "lines", "total"}
    assert Decimal(invoice["total"]) == Decimal(recharge["net"]["amount"]), month
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(invoice["total"])
    if Decimal(invoice["total"]):
        assert (invoice["from"], invoice["to"]) == (recharge["net"]["owed_to"], recharge["net"]["owed_by"]), month
    return invoice


def test_every_month_of_the_sample_invoices_its_recharge(october_store):
    first, last = Month("2020-03"), Month("2022-04")
    for month in Month.span(first, last):
        invoice = assert_invoice_states_the_recharge(october_store, month)
        assert (invoice["number"], invoice["issued"]) == (f"DRAFT-{month}", None)
        assert all(set(line) == {"description", "amount"} for line in invoice["lines"])


def test_every_month_of_generated_data_invoices_its_recharge(tmp_path):
    db = tmp_path / "hds.db"
    (tmp_path / "hds.toml").write_text(PARTNERS)  # the generator's partners are OCC and OCCG too
    ok("load", write(generate(seed=3, per_month=12), tmp_path / "data"), "--db", db)
    for month in ("2020-09", "2020-10"):
        ok("submit", "--month", month, "--db", db)
    for month in Month.span(Month("2020-08"), Month("2021-05")):
        assert_invoice_states_the_recharge(db, month)


@pytest.fixture
def partners_store(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    (tmp_path / "hds.toml").write_text(PARTNERS)
    return db


def test_issue_stores_it_numbered_and_a_second_issue_is_refused(partners_store):
    db = partners_store
    draft = as_json("invoice", "--month", "2020-10", "--json", "--db", db)
    result = hds("invoice", "--month", "2020-10", "--issue", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    issued = json.loads(result.stdout)
    assert issued["number"] == "OCC-HDS-0001" and issued["issued"] is not None
    assert (issued["lines"], issued["total"]) == (draft["lines"], draft["total"])
    assert as_json("invoice", "--month", "2020-10", "--json", "--db", db) == issued  # shown as issued from now on
    again = hds("invoice", "--month", "2020-10", "--issue", "--db", db)
    assert again.exit_code == 1
    assert f"the invoice for 2020-10 was already issued: OCC-HDS-0001 on {issued['issued']}" in again.output
    assert ok("verify", "--db", db).rstrip().endswith("; 1 issued invoice(s) too")
    assert " invoice OCC-HDS-0001 2020-10 " in (db.parent / "hds.db.anchor").read_text()
    log = ok("log", "--db", db)
    assert "\nInvoices\n  OCC-HDS-0001  2020-10  " in log and f"OCCG owes OCC £{Decimal(issued['total']):,}" in log


def test_an_unsubmitted_month_is_not_issued(partners_store):
    result = hds("invoice", "--month", "2020-11", "--issue", "--db", partners_store)
    assert result.exit_code == 1
    assert "2020-11 has not been submitted: an invoice states the recharge of a submitted claim" in result.output


def test_invoices_are_numbered_in_sequence_with_the_default_prefix(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    submit(db, "2020-11")
    numbers = [as_json("invoice", "--month", m, "--issue", "--json", "--db", db)["number"]
               for m in ("2020-11", "2020-10")]
    assert numbers == ["HDS-0001", "HDS-0002"]


def test_an_issued_invoice_cannot_be_changed_and_verify_finds_a_change(partners_store):
    db = partners_store
    ok("invoice", "--month", "2020-10", "--issue", "--db", db)
    with sqlite3.connect(db) as con:
        with pytest.raises(sqlite3.IntegrityError, match="issued invoices cannot be changed"):
            con.execute("UPDATE invoice_lines SET amount_pence = amount_pence + 100")
    con.close()
    with sqlite3.connect(db) as con:
        con.execute("DROP TRIGGER invoice_lines_no_update")
        con.execute("UPDATE invoice_lines SET amount_pence = amount_pence + 100 WHERE line_no = 1")
    con.close()
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert "the trigger invoice_lines_no_update that protects the store is missing" in result.output
    assert "invoice OCC-HDS-0001 (2020-10) line 1: its contents were changed after issue" in result.output
    assert "invoice OCC-HDS-0001 (2020-10): its lines no longer add up to the issued total" in result.output


def test_verify_finds_a_deleted_invoice_through_the_anchor(partners_store):
    db = partners_store
    ok("invoice", "--month", "2020-10", "--issue", "--db", db)
    with sqlite3.connect(db) as con:
        for table in ("invoices", "invoice_lines"):
            con.execute(f"DROP TRIGGER {table}_no_delete")
        con.execute("DELETE FROM invoice_lines")
        con.execute("DELETE FROM invoices")
        for table in ("invoices", "invoice_lines"):
            con.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, "
                        "'issued invoices cannot be changed: a change of the figures goes into the next invoice as "
                        "its own line'); END")
    con.close()
    result = hds("verify", "--db", db)
    assert result.exit_code == 1
    assert "invoice OCC-HDS-0001 is in the anchor file" in result.output and "it was deleted" in result.output


def test_a_change_after_issue_is_carried_by_the_next_invoice(partners_store):
    """October is invoiced; NHS England then under-pays it, so October's recharge gains the council's share
    of the shortfall. November's invoice carries that as a line of its own; December's has nothing more."""
    db = partners_store
    october = as_json("invoice", "--month", "2020-10", "--issue", "--json", "--db", db)
    ok("load", RECEIPTS, "--db", db)
    october_now = signed_net(as_json("recharge", "--month", "2020-10", "--json", "--db", db))
    change = october_now - Decimal(october["total"])
    assert change < 0  # the council's share of the shortfall, owed to the CCG
    assert as_json("invoice", "--month", "2020-10", "--json", "--db", db) == october  # never re-issued
    submit(db, "2020-11")
    november = as_json("invoice", "--month", "2020-11", "--issue", "--json", "--db", db)
    carried = [line for line in november["lines"] if line["description"].startswith("Change to the recharge for 2020-10")]
    assert [Decimal(line["amount"]) for line in carried] == [change]
    assert "since invoice OCC-HDS-0001 of" in carried[0]["description"]
    net = signed_net(as_json("recharge", "--month", "2020-11", "--json", "--db", db))
    assert Decimal(november["total"]) == net + change
    submit(db, "2020-12")
    december = as_json("invoice", "--month", "2020-12", "--json", "--db", db)
    assert not any(line["description"].startswith("Change to") for line in december["lines"])


def test_the_invoice_workbook_is_one_a4_page_with_both_partners(partners_store, tmp_path):
    out = tmp_path / "invoice.xlsx"
    ok("invoice", "--month", "2020-10", "-o", out, "--db", partners_store)
    ws = openpyxl.load_workbook(out)["Invoice"]
    # fit to one page: fitToPage on, and one page each way (1 is the default, which the file leaves out)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.paperSize == 9
    assert (ws.page_setup.fitToHeight or 1, ws.page_setup.fitToWidth or 1) == (1, 1)
    assert ws.page_setup.orientation == "portrait"
    text = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    for expected in ("DRAFT INVOICE", "DRAFT-2020-10", "Oxfordshire County Council (OCC)", "County Hall",
                     "Oxfordshire Clinical Commissioning Group (OCCG)", "Jubilee House", "Oxford OX4 2LH"):
        assert expected in text
    assert out.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext is not installed")
def test_the_invoice_pdf_is_one_a4_page_with_both_partners(partners_store, tmp_path):
    out = tmp_path / "invoice.pdf"
    ok("invoice", "--month", "2020-10", "--issue", "-o", out, "--db", partners_store)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("\f") == 1  # one page
    for expected in ("INVOICE", "OCC-HDS-0001", "Oxfordshire County Council (OCC)", "County Hall",
                     "Oxfordshire Clinical Commissioning Group (OCCG)", "Jubilee House", "Total due from OCCG to OCC"):
        assert expected in text
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "595.28 x 841.89 pts (A4)" in info


def test_the_invoice_table_says_who_owes_whom(partners_store):
    out = ok("invoice", "--month", "2020-10", "--db", partners_store)
    total = as_json("invoice", "--month", "2020-10", "--json", "--db", partners_store)["total"]
    assert out.startswith("Draft invoice DRAFT-2020-10: not issued (hds invoice --month 2020-10 --issue issues it)")
    assert "From: Oxfordshire County Council (OCC), County Hall, New Road, Oxford OX1 1ND" in out
    assert out.rstrip().endswith(f"Total due from OCCG to OCC: £{Decimal(total):,}")


def test_verify_finds_an_invoice_missing_from_the_anchor(partners_store):
    db = partners_store
    ok("invoice", "--month", "2020-10", "--issue", "--db", db)
    anchor = db.parent / "hds.db.anchor"
    anchor.write_text("".join(line for line in anchor.read_text().splitlines(keepends=True) if " invoice " not in line))
    result = hds("verify", "--db", db)
    assert result.exit_code == 1 and "invoice(s) OCC-HDS-0001 are not in the anchor file" in result.output


def test_an_invoice_whose_anchor_fails_after_the_commit_says_it_is_issued_and_is_repaired(partners_store,
                                                                                          monkeypatch):
    import claims.ledger.anchor as anchor_module

    db = partners_store
    anchor = db.parent / "hds.db.anchor"

    def unmounted(path, lines):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(anchor_module, "append_lines", unmounted)
    result = hds("invoice", "--month", "2020-10", "--issue", "--db", db)
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "invoice OCC-HDS-0001 (2020-10) IS issued and stored" in result.output
    assert "No such file or directory" in result.output and "hds anchor --repair" in result.output
    assert " invoice " not in anchor.read_text()
    failed = hds("verify", "--db", db)
    assert failed.exit_code == 1 and "OCC-HDS-0001 are not in the anchor file" in failed.output
    assert "Repaired: appended 1 line(s)" in ok("anchor", "--repair", "--db", db)
    assert " invoice OCC-HDS-0001 2020-10 " in anchor.read_text()
    assert ok("verify", "--db", db).rstrip().endswith("; 1 issued invoice(s) too")


def test_an_anchor_that_cannot_be_written_refuses_the_invoice_up_front(partners_store):
    db = partners_store
    anchor = db.parent / "hds.db.anchor"
    anchor.unlink()
    anchor.mkdir()
    result = hds("invoice", "--month", "2020-10", "--issue", "--db", db)
    assert result.exit_code == 1 and "is a folder" in result.output and "no invoice was issued" in result.output
    anchor.rmdir()
    anchor.write_text("")
    assert json.loads(hds("invoice", "--month", "2020-10", "--json", "--db", db).stdout)["issued"] is None


def test_without_partners_the_invoice_is_refused_naming_them(tmp_path, october_store):
    db = copy_store(october_store, tmp_path / "hds.db")
    (tmp_path / "hds.toml").unlink(missing_ok=True)
    result = hds("invoice", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1 and "[partners]" in result.output and "OCC, OCCG" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
