"""Any council's extract: the input mapping of hds.toml, hds init, and no council built in.

`fixtures/elsewhere` is the sample's synthetic people in another council's shape (fixtures/elsewhere.py):
other file names (episodes in two files), headings, labels in any case, dates as 05-Oct-2020, money as
£1,234.50, extra columns and other organisation codes. Read through its hds.toml it must claim exactly
what the sample claims, month by month.
"""

import re
import json
import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest

from fixtures import SAMPLE_DIR
from fixtures.elsewhere import ORGANISATIONS
from tests.cli_helpers import hds, ok

ELSEWHERE = SAMPLE_DIR.parent / "elsewhere"
MAPPING = (ELSEWHERE / "hds.toml").read_text()
ROOT = SAMPLE_DIR.parent.parent


def schemes(library):
    return tuple(s.name for s in library.schemes)


def beside(tmp_path: Path, text: str = MAPPING) -> Path:
    """A store's path in `tmp_path` with `text` as the hds.toml beside it."""
    (tmp_path / "hds.toml").write_text(text)
    return tmp_path / "hds.db"


def loads(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT id, hash FROM loads ORDER BY id").fetchall()
    con.close()
    return rows


@pytest.fixture(scope="module")
def elsewhere_data(library):
    from hds.config import load_config
    from hds.load import read_data

    return read_data(ELSEWHERE, schemes(library), load_config(ELSEWHERE / "hds.toml").input)[0]


def _lines(claim) -> list[tuple]:
    names = ["claim_month", "kind", "discharge_id", "episode_id", "block_id", "scheme", "service", "organisation",
             "days", "amount_pence"]
    return sorted(claim.lines.rows(names), key=lambda r: tuple(map(str, r)))


def test_the_foreign_extract_claims_what_the_sample_claims_month_by_month(library, sample_data, elsewhere_data):
    from claims.claim import build_claim
    from hds.data import MemorySource
    from hds.month import Month

    here, there = MemorySource(sample_data), MemorySource(elsewhere_data)
    months = Month.span("2020-03", "2022-03")
    assert len(months) == 25
    for month in months:
        ours, theirs = build_claim(here, library, str(month)), build_claim(there, library, str(month))
        expected = [(*r[:7], ORGANISATIONS[r[7]], *r[8:]) for r in _lines(ours)]
        assert _lines(theirs) == expected, month
    october = build_claim(there, library, "2020-10")
    assert int(october.lines["amount_pence"].sum()) == 66265314


def test_the_foreign_extract_loads_through_its_mapping_and_the_mapping_is_kept_with_the_load(tmp_path):
    db = beside(tmp_path)
    result = hds("load", ELSEWHERE, "--db", db)
    assert result.exit_code == 0, result.output
    assert ("note: episodes (Care Packages 2020-21.csv and Care Packages 2021-22.csv): columns not in the mapping, "
            "not read: Provider, Care Manager Team") in result.output.splitlines()
    assert sum("columns not in the mapping" in line for line in result.output.splitlines()) == 3  # one per table
    assert "  episodes     6962 added, 0 changed, 0 removed, 0 unchanged" in result.output
    assert "Total claim for 2020-10: £662,653.14" in ok("claim", "--month", "2020-10", "--db", db)
    with sqlite3.connect(db) as con:
        (stored,) = con.execute("SELECT mapping FROM loads").fetchone()
        extras = {row[0] for row in con.execute("SELECT _extra FROM discharges")}
        files = {row[0] for row in con.execute("SELECT _extra FROM episodes")}
    con.close()
    from hds.config import load_config

    assert stored == load_config(ELSEWHERE / "hds.toml").input.text() and '"Deceased":"death"' in stored
    assert extras == {"{}"}  # their own columns are not read, so not kept
    assert files == {'{"file": "Care Packages 2020-21.csv"}', '{"file": "Care Packages 2021-22.csv"}'}
    from claims.ledger.store import open_store
    from hds.store import StoreSource

    store = open_store(db)
    with store.read():  # the evidence of a row names its own file and that file's hash
        episodes = StoreSource(store).source_rows(["D0002522"])["episodes"]  # one package in each file
    store.close()
    assert [(e["episode_id"], e["_file"], e["_row"]) for e in episodes] == [
        ("E0002850", "Care Packages 2020-21.csv", 2851), ("E0002851", "Care Packages 2021-22.csv", 2)]
    assert ok("verify", "--db", db).startswith("ok:")


def test_the_mapping_is_hashed_into_the_chain_of_loads(tmp_path):
    from hds import chain

    db = beside(tmp_path)
    ok("load", ELSEWHERE, "--db", db)
    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row
        entry = dict(con.execute("SELECT * FROM loads").fetchone())
    con.close()
    assert chain.load_hash(entry, entry["prev_hash"]) == entry["hash"]
    assert chain.load_hash(entry | {"mapping": entry["mapping"].replace("death", "chc_decision")},
                           entry["prev_hash"]) != entry["hash"]


def test_a_mapped_heading_the_file_lacks_is_one_line_and_nothing_lands(tmp_path):
    db = beside(tmp_path)
    ok("load", ELSEWHERE, "--db", db)
    before = loads(db)
    beside(tmp_path, MAPPING.replace('weekly_cost = "Weekly Cost (GBP)"', 'weekly_cost = "Weekly Cost"'))
    result = hds("load", ELSEWHERE, "--db", db)
    assert result.exit_code == 1
    headings = ("Package ID, Discharge Ref, Service Type, Provider, Package Start, Package End, Weekly Cost (GBP), "
                "Funding Organisation, Restart of Existing Package, Commissioned as BAU, Care Manager Team")
    assert result.output.splitlines()[1:] == [
        f"  Care Packages {period}.csv row 1: [input.episodes.columns] weekly_cost expects the heading 'Weekly Cost', "
        f"which the file does not have; its headings are {headings}" for period in ("2020-21", "2021-22")]
    assert "Traceback" not in result.output and loads(db) == before


def test_an_unmapped_label_is_one_line_per_label_and_nothing_lands(tmp_path):
    db = beside(tmp_path, MAPPING.replace('"Deceased" = "death"\n', ""))
    result = hds("load", ELSEWHERE, "--db", db)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: 1 problem(s) in the input; nothing was loaded:",
        "  Assessments and Outcomes.csv row 4, column Event Type: 'Deceased' has no mapping in "
        "[input.events.values.event] (267 rows hold it, the first here); add \"Deceased\" = one of "
        "care_act_assessment, chc_checklist, chc_decision, self_funder_charge_from, death"]
    assert not db.exists()  # a refused first load leaves no store behind


def test_labels_match_whatever_their_case_and_spaces(tmp_path, library):
    from hds.config import load_config
    from hds.load import read

    text = MAPPING.replace('"Deceased" = "death"', '"  deceased  " = "death"')
    loaded = read(ELSEWHERE, schemes(library), mapping=load_config(Path(beside(tmp_path, text)).parent / "hds.toml").input)
    events = loaded.tables["events"]
    assert int((events["event"] == "death").sum()) == 267  # 'Deceased', 'DECEASED' and 'deceased' alike


def test_dates_not_in_the_mapped_format_name_the_format(tmp_path):
    extract = tmp_path / "extract"
    shutil.copytree(ELSEWHERE, extract)
    blocks = extract / "Block Beds.csv"
    blocks.write_text(blocks.read_text().replace("05-Nov-2020", "05/11/2020", 1))
    result = hds("load", extract, "--db", beside(tmp_path))
    assert result.exit_code == 1
    assert ("  Block Beds.csv row 2, column Period Start: '05/11/2020' is not a date written as [input.block_costs] "
            "date_format = \"%d-%b-%Y\" says (e.g. 05-Oct-2020), nor YYYY-MM-DD") in result.output.splitlines()


@pytest.mark.parametrize("change, message", [
    (('[input.events]', '[input.event]'), "unknown section [input.event]; the tables are discharges, episodes, events"),
    (('file = "Block Beds.csv"', 'files = "Block Beds.csv"'), "unknown key 'files' in [input.block_costs]; it takes "
                                                              "file, date_format, columns, values"),
    (('event_id = "Record ID"', 'event_ref = "Record ID"'), "[input.events.columns] event_ref is not a column of events"),
    (('"Deceased" = "death"', '"Deceased" = "died"'), '[input.events.values.event] "Deceased" = "died": not a code of '
                                                     'event; expected one of care_act_assessment'),
    (('[input.events.values.outcome]', '[input.events.values.date]'), "[input.events.values.date]: date is not a coded "
                                                                      "column of events"),
    (('date_format = "%d-%b-%Y"', 'date_format = "%d-%b"'), 'date_format = "%d-%b" does not name a day, a month and a year'),
])
def test_what_the_mapping_says_is_checked(tmp_path, change, message):
    db = beside(tmp_path, MAPPING.replace(*change, 1))
    result = hds("load", ELSEWHERE, "--db", db)
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1
    assert message in result.output and "Traceback" not in result.output and not db.exists()


def test_a_workbook_sheet_is_named_by_the_mapping_or_a_glob_of_sheets(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Clients Discharged"
    book.active.append(["Ref", "Person", "Discharged"])
    book.active.append(["D1", "P1", "05-Oct-2020"])
    for n, (episode, day) in enumerate([("E1", "05-Oct-2020"), ("E2", "01-Nov-2020")], start=1):
        packages = book.create_sheet(f"Packages {n}")
        packages.append(["Ref", "Package", "Type", "From", "To", "Cost", "Org"])
        packages.append(["D1", episode, "Interim Bed", day, "31-Oct-2020" if n == 1 else None, 700, "XCC"])
    events = book.create_sheet("Assessments")
    events.append(["Id", "Ref", "What", "When", "Result"])
    events.append(["V1", "D1", "Checklist", "20-Oct-2020", "Positive"])
    events.append(["V2", "D1", "Care Act", "20-Nov-2020", None])  # an empty cell needs no mapping
    book.save(tmp_path / "extract.xlsx")
    db = beside(tmp_path, "\n".join([
        '[input.discharges]', 'file = "Clients Discharged"', 'date_format = "%d-%b-%Y"',
        '[input.discharges.columns]', 'discharge_id = "Ref"', 'patient_id = "Person"', 'discharge_date = "Discharged"',
        '[input.episodes]', 'file = "packages*"', 'date_format = "%d-%b-%Y"',
        '[input.episodes.columns]', 'discharge_id = "Ref"', 'episode_id = "Package"', 'service = "Type"',
        'start_date = "From"', 'end_date = "To"', 'weekly_cost = "Cost"', 'organisation = "Org"',
        '[input.episodes.values.service]', '"interim bed" = "interim_bed"',
        '[input.events]', 'file = "Assessments"', 'date_format = "%d-%b-%Y"',
        '[input.events.columns]', 'event_id = "Id"', 'discharge_id = "Ref"', 'event = "What"', 'date = "When"',
        'outcome = "Result"',
        '[input.events.values.event]', '"Checklist" = "chc_checklist"', '"Care Act" = "care_act_assessment"',
        '[input.events.values.outcome]', '"Positive" = "positive"', '']))
    out = ok("load", tmp_path / "extract.xlsx", "--db", db)
    assert "  episodes     2 added, 0 changed, 0 removed, 0 unchanged" in out
    assert "Total claim for 2020-10: £2,700.00" in ok("claim", "--month", "2020-10", "--db", db)


# --- no council built in ---------------------------------------------------------------------------

def test_without_partners_the_pack_works_and_the_recharge_names_partners(tmp_path, sample_store):
    db = tmp_path / "hds.db"
    shutil.copyfile(sample_store, db)  # the store alone: no hds.toml beside it
    pack = hds("claim", "--month", "2020-10", "-o", tmp_path / "pack.xlsx", "--db", db)
    assert pack.exit_code == 0 and (tmp_path / "pack.xlsx").stat().st_size > 0
    recharge = hds("recharge", "--month", "2020-10", "--db", db)
    assert recharge.exit_code == 1 and "Traceback" not in recharge.output
    assert recharge.output == (
        f"Error: the recharge needs to know which organisation is the council and which the CCG: name them in "
        f"[partners] of {tmp_path / 'hds.toml'} beside the store (council = \"...\", ccg = \"...\"); the data's "
        "organisation codes are OCC, OCCG\n")
    status = hds("status", "--json", "--db", db)
    assert status.exit_code == 0
    assert any("[partners]" in step for step in json.loads(status.stdout)["next"])
    for command in (["check", "--month", "2020-10"], ["trace", "P000000"],
                    ["report", "--from", "2020-09", "--to", "2020-11", "-o", tmp_path / "report.html"]):
        assert hds(*command, "--db", db).exit_code == 0, command


def test_no_product_code_or_message_names_oxfordshire():
    """Only the sample's own hds.toml (and what describes it) may name OCC or OCCG."""
    named = []
    for folder in ("hds", "claims", "rules"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".rules", ".yaml", ".md", ".toml") and \
                    re.search(r"\bOCCG?\b", path.read_text(encoding="utf-8")):
                named.append(str(path.relative_to(ROOT)))
    assert re.search(r"\bOCCG?\b", (ROOT / "cli.py").read_text()) is None
    assert named == []


# --- hds init ---------------------------------------------------------------------------------------

def test_init_writes_a_starting_mapping_that_parses_and_never_overwrites(tmp_path):
    from hds.config import load_config

    db = tmp_path / "hds.db"
    out = ok("init", ELSEWHERE, "--db", db)
    assert out.splitlines()[0] == f"Wrote {tmp_path / 'hds.toml'}:"
    text = (tmp_path / "hds.toml").read_text()
    settings = tomllib.loads(text)
    assert set(settings["input"]) == {"discharges", "episodes", "events", "block_costs"}
    assert settings["input"]["episodes"]["file"] == "Care Packages 202*.csv"
    assert settings["input"]["episodes"]["date_format"] == "%d-%b-%Y"
    assert settings["input"]["episodes"]["columns"]["weekly_cost"] == "Weekly Cost (GBP)"
    assert settings["input"]["episodes"]["values"]["service"]["Residential Care - Older People"] == "residential"
    assert '# "Deceased" = ""   # to map (267 rows): one of' in text
    assert '# council = "WCC"   # guess' in text and "#   WCC (6,289 rows), WCCG (678 rows)" in text
    assert "partners" not in settings
    load_config(tmp_path / "hds.toml")  # hds reads what it wrote
    again = hds("init", ELSEWHERE, "--db", db)
    assert again.exit_code == 1 and "already exists; hds init never overwrites it" in again.output
    (tmp_path / "hds.toml").write_text("# mine\n")
    assert hds("init", ELSEWHERE, "--db", db).exit_code == 1 and (tmp_path / "hds.toml").read_text() == "# mine\n"
    ok("init", ELSEWHERE, "--force", "--db", db)
    assert (tmp_path / "hds.toml").read_text() == text


def test_after_init_the_load_names_each_label_still_to_map(tmp_path):
    db = tmp_path / "hds.db"
    ok("init", ELSEWHERE, "--db", db)
    result = hds("load", ELSEWHERE, "--db", db)
    assert result.exit_code == 1
    labels = re.findall(r"'([^']+)' has no mapping in (\S+)", result.output)
    assert labels == [("Admission Avoided (A&E)", "[input.discharges.values.kind]"),
                      ("New Package", "[input.episodes.values.restart]"),
                      ("Existing Package Restarted", "[input.episodes.values.restart]"),
                      ("1:1 Support", "[input.episodes.values.service]"),
                      ("Deceased", "[input.events.values.event]"),
                      ("Self Funder - Charges From", "[input.events.values.event]")]


# --- the README ---------------------------------------------------------------------------------------

def test_the_readmes_own_extract_section_runs_as_written(tmp_path, monkeypatch):
    """Every command of "Your own extract", run as written from a copy of the project's folder: the
    first load is refused (labels still to map), everything else succeeds, and the claim is the sample's."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Your own extract", 1)[1].split("\n## ", 1)[0]
    commands = [part.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)
                for line in block.splitlines() if line.strip()
                for part in line.split("#")[0].split("&&") if part.strip()]
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    monkeypatch.chdir(tmp_path)
    outputs, loads_run = [], 0
    for command in commands:
        words = command.split()
        if words[0] == "mkdir":
            Path(words[1]).mkdir()
        elif words[0] == "cd":
            monkeypatch.chdir(words[1])
        elif words[0] == "cp":
            shutil.copy(words[1], words[2])
        else:
            assert words[0] == "hds", command
            result = hds(*words[1:])
            outputs.append(result.output)
            expected = 1 if words[1] == "load" and not loads_run else 0  # the first load: labels to map
            loads_run += words[1] == "load"
            assert result.exit_code == expected, (command, result.output)
    assert [c.split()[:2] for c in commands if c.startswith("hds")][:2] == [["hds", "init"], ["hds", "load"]]
    assert "has no mapping in [input.events.values.event]" in outputs[1]
    assert "Total claim for 2020-10: £662,653.14" in "".join(outputs)
    assert Path("pack.xlsx").exists() and "Net for 2020-10: WCCG owes WCC" in outputs[-1]


def test_a_glob_that_matches_no_file_and_an_id_in_two_files_are_named(tmp_path):
    db = beside(tmp_path, MAPPING.replace('file = "Care Packages*.csv"', 'file = "Packages*.csv"'))
    result = hds("load", ELSEWHERE, "--db", db)
    assert result.exit_code == 1
    assert (f"  {ELSEWHERE}: the required table 'episodes' is missing: no file matches [input.episodes] file = "
            "\"Packages*.csv\" of hds.toml") in result.output.splitlines()
    extract = tmp_path / "extract"
    shutil.copytree(ELSEWHERE, extract)
    later = extract / "Care Packages 2021-22.csv"
    first_id = (extract / "Care Packages 2020-21.csv").read_text().splitlines()[1].split(",")[0]
    lines = later.read_text().splitlines()
    lines[3] = first_id + lines[3][len(lines[3].split(",")[0]):]
    later.write_text("\n".join(lines) + "\n")
    result = hds("load", extract, "--db", beside(tmp_path))
    assert result.exit_code == 1
    assert (f"  Care Packages 2021-22.csv row 4, column Package ID: duplicate id '{first_id}'; it is already used at "
            "Care Packages 2020-21.csv row 2") in result.output.splitlines()


def test_a_required_column_the_mapping_leaves_out_says_what_to_add(tmp_path):
    db = beside(tmp_path, MAPPING.replace('weekly_cost = "Weekly Cost (GBP)"\n', ""))
    result = hds("load", ELSEWHERE, "--db", db)
    assert result.exit_code == 1
    assert ("  Care Packages 2020-21.csv row 1, column weekly_cost: required column is missing: no heading is mapped "
            "to it; add weekly_cost = \"<their heading>\" to [input.episodes.columns] (the file's headings not "
            "mapped: Provider, Weekly Cost (GBP), Care Manager Team)") in result.output.splitlines()


def test_organisation_codes_map_too_and_then_every_code_must(tmp_path, library):
    from hds.config import load_config
    from hds.errors import LoadError
    from hds.load import read

    def mapping(labels: str):
        text = MAPPING.replace('[input.episodes.values.restart]', f'[input.episodes.values.organisation]\n{labels}\n'
                                                                  '[input.episodes.values.restart]')
        return load_config(beside(tmp_path, text).parent / "hds.toml").input

    with pytest.raises(LoadError) as refused:
        read(ELSEWHERE, schemes(library), mapping=mapping('"wcc" = "XCC"'))
    assert [str(p) for p in refused.value.problems] == [
        "Care Packages 2020-21.csv row 8, column Funding Organisation: 'WCCG' has no mapping in "
        "[input.episodes.values.organisation] (677 rows hold it, the first here); add \"WCCG\" = one of XCC"]
    loaded = read(ELSEWHERE, schemes(library), mapping=mapping('"wcc" = "XCC"\n"WCCG" = "XCCG"'))
    assert set(loaded.tables["episodes"]["organisation"].tolist()) == {"XCC", "XCCG"}


def test_their_unread_columns_are_not_checked(tmp_path, library):
    """A column the mapping does not name is not read: a control character in it is nobody's problem."""
    from hds.config import load_config
    from hds.load import read

    extract = tmp_path / "extract"
    shutil.copytree(ELSEWHERE, extract)
    discharges = extract / "Hospital Discharges.csv"
    discharges.write_text(discharges.read_text().replace(",Ward 1\n", ",Ward\x011\n", 1))
    loaded = read(extract, schemes(library), mapping=load_config(ELSEWHERE / "hds.toml").input)
    assert len(loaded.tables["discharges"]) == 6177
    assert ("discharges (Hospital Discharges.csv): columns not in the mapping, not read: Locality, Ward"
            in loaded.notes)
