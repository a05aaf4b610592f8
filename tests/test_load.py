"""Bad input: every kind of error names file, row and column, and nothing lands."""

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner

import cli
from hds.days import to_date
from hds.errors import LoadError
from hds.load import parse_nhs_number, read
from hds.money import parse_money
from hds.store import StoreSource, open_store

SCHEMES = ("HDS1", "HDS2", "HDS3", "HDS4")


def read_dataset(path):
    return read(path, SCHEMES)


def stored(store):
    """Everything current in a store, as plain rows, for before/after comparisons."""
    data = StoreSource(store).everything()
    return {name: getattr(data, name).records() for name in ("discharges", "episodes", "events", "block_costs")}

GOOD = {
    "discharges": "discharge_id,patient_id,discharge_date,kind,nhs_number\n"
                  "D1,P1,2020-10-05,hospital,9990000026\n"
                  "D2,P2,06/10/2020,admission_avoidance,\n",
    "episodes": "episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation,restart,bau_commissioned\n"
                "E1,D1,interim_bed,2020-10-05,,700,OCC,no,no\n"
                "E2,D2,home_care,2020-10-06,2020-10-31,\"£1,234.50\",OCCG,,\n",
    "events": "event_id,discharge_id,event,date,outcome\n"
              "V1,D1,chc_checklist,2020-10-20,positive\n"
              "V2,D1,care_act_assessment,2020-12-10,\n",
    "block_costs": "block_id,description,scheme,organisation,start_date,end_date,amount\n"
                   "B1,18 beds,HDS2,OCC,2020-11-05,2021-01-27,248300.00\n",
}


def folder(tmp_path, **changes):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for table, text in {**GOOD, **changes}.items():
        if text is not None:
            (data / f"{table}.csv").write_text(text)
    return data


def replace_row(table, row, new):
    lines = GOOD[table].splitlines()
    lines[row - 1] = new
    return "\n".join(lines) + "\n"


CASES = [
    # (table, row, new line, column, message fragment)
    ("episodes", 3, "E2,D9,home_care,2020-10-06,2020-10-31,100,OCCG,,", "discharge_id", "unknown discharge 'D9'"),
    ("events", 2, "V1,D7,death,2020-10-20,", "discharge_id", "unknown discharge 'D7'"),
    ("discharges", 2, "D1,P1,2020-13-05,hospital,", "discharge_date", "'2020-13-05' is not a date; expected YYYY-MM-DD or DD/MM/YYYY"),
    ("episodes", 2, "E1,D1,interim_bed,5 Oct 2020,,700,OCC,no,no", "start_date", "'5 Oct 2020' is not a date"),
    ("episodes", 3, "E2,D2,home_care,2020-10-06,2020-10-01,100,OCCG,,", "end_date", "end date 2020-10-01 is before start date 2020-10-06"),
    ("block_costs", 2, "B1,beds,HDS2,OCC,2020-11-05,2020-11-01,10", "end_date", "end date 2020-11-01 is before start date 2020-11-05"),
    ("episodes", 2, "E1,D1,interim_bed,2020-10-05,,-700,OCC,no,no", "weekly_cost", "'-700' is negative"),
    ("episodes", 2, "E1,D1,interim_bed,2020-10-05,,700.123,OCC,no,no", "weekly_cost", "'700.123' is not an amount"),
    ("block_costs", 2, "B1,beds,HDS2,OCC,2020-11-05,2020-11-30,ten pounds", "amount", "'ten pounds' is not an amount"),
    ("episodes", 2, "E1,D1,care_home,2020-10-05,,700,OCC,no,no", "service", "'care_home' is not allowed; expected one of interim_bed"),
    ("events", 2, "V1,D1,chc_review,2020-10-20,", "event", "'chc_review' is not allowed; expected one of care_act_assessment"),
    ("events", 2, "V1,D1,chc_checklist,2020-10-20,maybe", "outcome", "'maybe' is not an outcome of chc_checklist; expected one of positive, negative"),
    ("events", 2, "V1,D1,chc_decision,2020-10-20,", "outcome", "blank is not an outcome of chc_decision"),
    ("discharges", 3, "D1,P2,2020-10-06,hospital,", "discharge_id", "duplicate id 'D1'; it is already used at row 2"),
    ("discharges", 2, "D1,P1,2020-10-05,hospital,9990000027", "nhs_number", "fails the NHS number check digit (modulus 11)"),
    ("discharges", 2, "D1,P1,2020-10-05,hospital,12345", "nhs_number", "'**345' is not an NHS number; expected 10 digits (the number is masked)"),
    ("discharges", 2, "D1,P1,2020-10-05,ambulance,", "kind", "'ambulance' is not allowed"),
    ("episodes", 2, "E1,D1,interim_bed,2020-10-05,,700,OCC,maybe,no", "restart", "'maybe' is not a yes/no value"),
    ("discharges", 2, "D1,,2020-10-05,hospital,", "patient_id", "is empty; a value is required"),
]


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory):
    """A store holding the good data, to show that a bad load leaves it as it was."""
    base = tmp_path_factory.mktemp("good")
    db = base / "hds.db"
    assert CliRunner().invoke(cli.main, ["load", str(folder(base)), "--db", str(db)]).exit_code == 0
    return db


@pytest.mark.parametrize("table, row, line, column, fragment", CASES, ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_each_error_names_file_row_and_column_and_lands_nothing(tmp_path, loaded_store, table, row, line, column, fragment):
    data = folder(tmp_path, **{table: replace_row(table, row, line)})
    db = tmp_path / "hds.db"
    db.write_bytes(loaded_store.read_bytes())
    before = stored(open_store(db)), open_store(db).execute("SELECT COUNT(*) FROM loads").fetchone()
    result = CliRunner().invoke(cli.main, ["load", str(data), "--db", str(db)])
    assert result.exit_code == 1
    messages = [m.strip() for m in result.output.splitlines()[1:]]
    assert any(m.startswith(f"{table}.csv row {row}, column {column}: ") and fragment in m for m in messages), messages
    assert (stored(open_store(db)), open_store(db).execute("SELECT COUNT(*) FROM loads").fetchone()) == before


def test_missing_required_column(tmp_path):
    text = "episode_id,discharge_id,service,start_date,end_date,organisation\nE1,D1,interim_bed,2020-10-05,,OCC\n"
    with pytest.raises(LoadError) as err:
        read_dataset(folder(tmp_path, episodes=text))
    assert str(err.value.problems[0]).startswith("episodes.csv row 1, column weekly_cost: required column is missing")


def test_missing_required_file(tmp_path):
    with pytest.raises(LoadError) as err:
        read_dataset(folder(tmp_path, episodes=None))
    assert "the required table 'episodes' is missing" in str(err.value)


def test_every_error_is_listed_not_just_the_first(tmp_path):
    episodes = GOOD["episodes"] + "E3,D1,spa,2020-13-01,,-1,OCC,,\n"
    with pytest.raises(LoadError) as err:
        read_dataset(folder(tmp_path, episodes=episodes))
    columns = [p.column for p in err.value.problems]
    assert columns == ["service", "start_date", "weekly_cost"]
    assert str(err.value).splitlines()[0] == "3 problem(s) in the input; nothing was loaded:"


def test_links_to_the_extracts_discharges_left_to_the_writer_say_what_reading_says(tmp_path):
    """A load leaves its episodes' and events' links to its own discharges to be checked while it is
    written (hds.store.save_load, beside the first table's indexes): the problems, their words and rows,
    are what reading would have raised, and a refused first load leaves no store behind, nor a load in
    an empty store."""
    from hds.load import check_references

    bad = folder(tmp_path, episodes=replace_row("episodes", 3, "E2,D9,home_care,2020-10-06,,100,OCCG,,"),
                 events=GOOD["events"] + "V3,D7,death,2020-10-20,\n")
    with pytest.raises(LoadError) as err:
        read_dataset(bad)
    expected = [str(p) for p in err.value.problems]
    assert len(expected) == 2
    later = read(bad, SCHEMES, references_later=True)
    assert later.references_later and [str(p) for p in check_references(later)] == expected
    (tmp_path / "good").mkdir()
    assert check_references(read(folder(tmp_path / "good"), SCHEMES, references_later=True)) == []
    db = tmp_path / "new" / "hds.db"
    db.parent.mkdir()
    said = CliRunner().invoke(cli.main, ["load", str(bad), "--db", str(db)])
    assert said.exit_code == 1
    assert said.output.splitlines()[1:] == [f"  {p}" for p in expected]
    assert list(db.parent.iterdir()) == []
    empty = tmp_path / "empty" / "hds.db"
    empty.parent.mkdir()
    open_store(empty, write=True, create=True).close()
    said = CliRunner().invoke(cli.main, ["load", str(bad), "--db", str(empty)])
    assert said.exit_code == 1 and said.output.splitlines()[1:] == [f"  {p}" for p in expected]
    store = open_store(empty)
    try:
        assert store.execute("SELECT COUNT(*) FROM loads").fetchone()[0] == 0
    finally:
        store.close()


def test_a_failed_load_lands_nothing_and_keeps_the_previous_data(tmp_path):
    db = tmp_path / "hds.db"
    runner = CliRunner()
    first = runner.invoke(cli.main, ["load", str(folder(tmp_path)), "--db", str(db)])
    assert first.exit_code == 0, first.output
    before = stored(open_store(db))
    bad = folder(tmp_path, episodes=replace_row("episodes", 3, "E2,D9,home_care,2020-10-06,,100,OCCG,,"))
    (bad / "discharges.csv").write_text(GOOD["discharges"] + "D3,P3,2020-11-01,hospital,\n")
    second = runner.invoke(cli.main, ["load", str(bad), "--db", str(db)])
    assert second.exit_code == 1
    assert "episodes.csv row 3, column discharge_id: unknown discharge 'D9'" in second.output
    after = stored(open_store(db))
    assert after == before
    assert [d["discharge_id"] for d in after["discharges"]] == ["D1", "D2"]


def test_a_good_load_keeps_every_value(tmp_path):
    dataset = read_dataset(folder(tmp_path)).data()
    e2 = dataset.episodes.records()[1]
    assert (e2["weekly_pence"], to_date(e2["start_date"]), to_date(e2["end_date"])) == (
        123450, dt.date(2020, 10, 6), dt.date(2020, 10, 31))
    assert to_date(dataset.discharges["discharge_date"][1]) == dt.date(2020, 10, 6)


def test_store_file_is_readable_by_its_owner_only(tmp_path):
    open_store(tmp_path / "new.db", write=True, create=True)
    assert (tmp_path / "new.db").stat().st_mode & 0o777 == 0o600


def workbook(tmp_path, mutate=None):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table, text in GOOD.items():
        sheet = book.create_sheet(table)
        for line in text.splitlines():
            sheet.append(line.replace('"£1,234.50"', "1234.5").split(","))
    sheet = book["discharges"]
    sheet["C2"] = dt.datetime(2020, 10, 5)  # a real Excel date cell
    book["episodes"]["F2"] = 700  # a number cell
    if mutate:
        mutate(book)
    path = tmp_path / "data.xlsx"
    book.save(path)
    return path


def test_workbook_loads_with_date_and_number_cells(tmp_path):
    dataset = read_dataset(workbook(tmp_path)).data()
    assert to_date(dataset.discharges["discharge_date"][0]) == dt.date(2020, 10, 5)
    assert dataset.episodes["weekly_pence"].tolist() == [70000, 123450]


def test_workbook_errors_name_sheet_row_and_column(tmp_path):
    path = workbook(tmp_path, lambda book: book["episodes"].__setitem__("D3", "someday"))
    with pytest.raises(LoadError) as err:
        read_dataset(path)
    assert [str(p) for p in err.value.problems] == [
        "data.xlsx sheet episodes row 3, column start_date: 'someday' is not a date; expected YYYY-MM-DD or DD/MM/YYYY"]


@pytest.mark.parametrize("text, pence", [("700", 70000), ("£1,234.50", 123450), ("0.5", 50), (12.3, 1230), ("£ 10", 1000)])
def test_money_forms(text, pence):
    assert parse_money(text) == pence


@pytest.mark.parametrize("number", ["9990000026", "999 000 0026", "9993982598"])
def test_valid_nhs_numbers(number):
    assert parse_nhs_number(number) == number.replace(" ", "")


def test_a_row_longer_than_the_header_is_an_error(tmp_path):
    with pytest.raises(LoadError) as err:
        read_dataset(folder(tmp_path, discharges=GOOD["discharges"] + "D3,P3,2020-10-07,hospital,,extra\n"))
    assert str(err.value.problems[0]) == ("discharges.csv row 4: the row has 6 values but the header names 5 columns; "
                                          "check for a stray comma or a missing header")


def test_a_repeated_header_is_an_error(tmp_path):
    text = "discharge_id,patient_id,discharge_date,patient_id\nD1,P1,2020-10-05,P9\nD2,P2,2020-10-06,P2\n"
    with pytest.raises(LoadError) as err:
        read_dataset(folder(tmp_path, discharges=text))
    assert str(err.value.problems[0]) == ("discharges.csv row 1, column patient_id: the column appears more than once "
                                          "in the header; keep one")


def test_blank_rows_are_reported_not_silently_skipped(tmp_path):
    lines = GOOD["events"].splitlines()
    result = read_dataset(folder(tmp_path, events="\n".join(lines[:2] + [",,,,"] + lines[2:]) + "\n"))
    assert result.notes == ["events.csv: 1 blank row(s) ignored"]
    assert len(result.tables["events"]) == 2


def test_repeated_ids_are_found_alike_whether_the_ids_come_in_order_or_not():
    import random

    import numpy as np
    import pandas as pd

    from hds.load import _duplicated

    chance = random.Random(3)
    for _ in range(200):
        ids = [chance.choice(["", "E1", "E2", "E10", "E3", "e1", None]) for _ in range(chance.randrange(0, 8))]
        if chance.random() < 0.5:
            ids = sorted({i for i in ids if i is not None})  # in increasing order, repeats or not
            ids += ids[-1:] * chance.randrange(0, 2)
        key = np.array(ids, dtype=object)
        series = pd.Series(key, dtype=object)
        assert _duplicated(key).tolist() == (series.duplicated(keep="first") & (series != "")).tolist()


def test_nhs_numbers_read_a_column_at_once_pass_or_fail_as_each_read_alone():
    import random

    import numpy as np

    from hds.load import _nhs_numbers

    def valid(text):
        if len(text) != 10 or not all("0" <= c <= "9" for c in text):
            return False
        check = 11 - sum(int(c) * w for c, w in zip(text[:9], range(10, 1, -1))) % 11
        return (0 if check == 11 else check) == int(text[9]) and check != 10

    chance = random.Random(11)
    for _ in range(300):
        cells = []
        for _ in range(chance.randrange(0, 12)):
            digits = "".join(chance.choice("0123456789") for _ in range(chance.choice([9, 10, 10, 10, 11])))
            if chance.random() < 0.2 and digits:  # a letter, a space or a character past ASCII in it
                at = chance.randrange(len(digits))
                digits = digits[:at] + chance.choice("x ١é") + digits[at + 1:]
            cells.append(digits if chance.random() < 0.9 else "")
        found = _nhs_numbers(np.array(cells, dtype=object)).tolist()
        assert found == [valid(c) for c in cells], cells
