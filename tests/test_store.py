"""The store: migrations, versions kept across loads, the data as at any load."""

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from hds.store import StoreSource, open_store


def read_dataset(store, as_of=None):
    return StoreSource(store, as_of).everything()

DISCHARGES = "discharge_id,patient_id,discharge_date\nD1,P1,2020-10-05\nD2,P2,2020-10-06\n"
EPISODES = ("episode_id,discharge_id,service,start_date,end_date,weekly_cost,organisation\n"
            "E1,D1,interim_bed,2020-10-05,,700,OCC\nE2,D2,home_care,2020-10-06,,350,OCC\n")


def load(tmp_path, name, db, exit_code=0, **files):
    folder = tmp_path / name
    folder.mkdir()
    for table, text in files.items():
        (folder / f"{table}.csv").write_text(text)
    result = CliRunner().invoke(cli.main, ["load", str(folder), "--db", str(db)])
    assert result.exit_code == exit_code, result.output
    return result.output


def test_migrations_are_recorded_once(tmp_path):
    from claims.ledger import open_store as open_with_ledger
    from claims.ledger.store import LEDGER
    from hds.store import DATA

    expected = [(part.name, name) for part in (DATA, LEDGER) for name in part.earlier]
    db = open_with_ledger(tmp_path / "hds.db", write=True, create=True)
    recorded = "SELECT migration_set, name FROM _sqlite_migrations ORDER BY id"
    assert db.execute(recorded).fetchall() == expected
    again = open_with_ledger(tmp_path / "hds.db", write=True)
    assert again.execute(recorded).fetchall() == expected


def test_each_schema_names_its_migrations_as_its_set_does():
    import sqlite_utils

    from claims.ledger.store import LEDGER
    from hds.store import DATA

    for part in (DATA, LEDGER):
        migrations = part.load()
        assert migrations.name == part.name
        assert [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))] == list(part.earlier)


def test_a_later_load_keeps_old_versions_and_the_past_can_be_rebuilt(tmp_path):
    db_path = tmp_path / "hds.db"
    load(tmp_path, "one", db_path, discharges=DISCHARGES, episodes=EPISODES)
    changed = EPISODES.replace(",700,", ",770,").replace("E2,D2,home_care,2020-10-06,,350,OCC\n", "")
    out = load(tmp_path, "two", db_path, discharges=DISCHARGES, episodes=changed,
               events="event_id,discharge_id,event,date,outcome\nV1,D1,care_act_assessment,2020-10-20,\n")
    assert "  episodes     0 added, 1 changed, 1 removed, 0 unchanged" in out
    db = open_store(db_path)

    def episodes(as_of=None):
        return list(read_dataset(db, as_of).episodes.rows(["episode_id", "weekly_pence"]))

    assert episodes() == [("E1", 77000)]
    assert episodes(as_of=1) == [("E1", 70000), ("E2", 35000)]
    assert len(read_dataset(db, as_of=1).events) == 0
    assert db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 3  # E1 twice, E2 once: nothing is deleted


def test_allocations_as_of_an_earlier_load(tmp_path):
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    first = CliRunner().invoke(cli.main, ["allocations", "--month", "2020-10", "--format", "json", "--db", str(db)]).output
    load(tmp_path, "two", db, events="event_id,discharge_id,event,date,outcome\nV1,D1,care_act_assessment,2020-10-20,\n")
    now = CliRunner().invoke(cli.main, ["allocations", "--month", "2020-10", "--format", "json", "--db", str(db)]).output
    then = CliRunner().invoke(cli.main, ["allocations", "--month", "2020-10", "--format", "json",
                                         "--as-of-load", "1", "--db", str(db)]).output
    assert then == first != now
    assert {r["funder"] for r in json.loads(now) if r["episode_id"] == "E1"} == {"hds", "bau"}


def test_an_unknown_load_is_a_clear_error(tmp_path):
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    result = CliRunner().invoke(cli.main, ["claim", "--month", "2020-10", "--as-of-load", "7", "--db", str(db)])
    assert result.exit_code == 1
    assert result.output == "Error: there is no load 7; 'hds log' lists the loads\n"


def test_an_extract_that_orphans_kept_episodes_is_refused(tmp_path):
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "discharges.csv").write_text("discharge_id,patient_id,discharge_date\nD1,P1,2020-10-05\n")
    result = CliRunner().invoke(cli.main, ["load", str(folder), "--db", str(db)])
    assert result.exit_code == 1
    assert ("episodes in the store (load 1), column discharge_id: E2 follows discharge 'D2', which is not in the "
            "store after this load") in result.output
    assert read_dataset(open_store(db)).discharges["discharge_id"].tolist() == ["D1", "D2"]


def test_the_ledger_table_has_a_column_for_every_field_of_a_claim_line():
    from claims.claim import LINE_FIELDS
    from claims.ledger.schema import LINE_COLUMNS

    assert list(LINE_COLUMNS) == LINE_FIELDS


# --- stores written by the earlier hds (numbered migrations in a table `migrations`) --------------

OLD_STORES = Path(__file__).parent / "old_stores"


def old_store(tmp_path, schema: int) -> Path:
    """A store the earlier hds wrote at that schema: October and November loaded and submitted."""
    db = tmp_path / f"schema{schema}.db"
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.executescript((OLD_STORES / f"schema{schema}.sql").read_text())
    anchor = OLD_STORES / f"schema{schema}.anchor"
    if anchor.exists():
        Path(f"{db}.anchor").write_text(anchor.read_text())
    return db


def hds(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def test_a_store_of_the_earlier_schema_5_is_left_as_it_is_until_migrated_and_adopted(tmp_path):
    """The earlier hds's last schema lacks only what this hds added since (the ledger's invoices):
    reading it refuses, naming that, and changes nothing; 'hds migrate' adds it and adopts the store."""
    from claims.ledger.store import LEDGER
    from hds.store import DATA

    db = old_store(tmp_path, 5)
    claim = hds("claim", "--month", "2020-11", "--db", db)
    assert claim.exit_code == 0 and "Total claim for 2020-11: £2,770.00" in claim.output
    with contextlib.closing(sqlite3.connect(db)) as con:  # reading changed nothing
        assert con.execute("SELECT name FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchone() is None
    result = hds("migrate", "--db", db)  # adopted; only what this hds added since (and reading did without) is applied
    assert result.output == (f"{db}: applied hds-data data_money_as_numbers; applied hds-data data_input_mapping; "
                             "applied hds-data data_allocation_totals; applied hds-data data_decisions; "
                             "applied hds-data data_checked_findings; applied hds-data data_loads_read_with; "
                             "applied hds-data data_shared_numbers_index; "
                             "applied hds-ledger ledger_money_as_numbers; applied hds-ledger ledger_invoices\n")
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert sorted(con.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()) == sorted(
            (part.name, name) for part in (DATA, LEDGER) for name in part.earlier)
        assert [r[0] for r in con.execute("SELECT id FROM migrations ORDER BY id")] == [1, 2, 3, 4, 5, 6]
    assert hds("verify", "--db", db).output.startswith("ok: 2 submission(s) and 2 load(s) verified")
    assert "Total claim for 2020-11: £2,770.00" in hds("claim", "--month", "2020-11", "--db", db).output


def test_a_store_of_the_earlier_schema_3_is_migrated_and_its_first_hashes_still_verify(tmp_path):
    from claims.ledger import open_store as open_with_ledger, verify

    db = old_store(tmp_path, 3)
    refused = hds("claim", "--month", "2020-11", "--db", db)
    assert refused.exit_code == 1
    assert (f"{db} was written by an older version of hds (its schema lacks hds-data data_integrity, hds-data "
            f"data_views, hds-ledger ledger_integrity, hds-ledger ledger_views); run 'hds migrate --db {db}'") in refused.output
    result = hds("migrate", "--db", db)
    assert result.output == (f"{db}: applied hds-data data_integrity; applied hds-data data_views; "
                             "applied hds-data data_money_as_numbers; applied hds-data data_input_mapping; "
                             "applied hds-data data_allocation_totals; applied hds-data data_decisions; "
                             "applied hds-data data_checked_findings; applied hds-data data_loads_read_with; "
                             "applied hds-data data_shared_numbers_index; applied hds-ledger ledger_integrity; "
                             "applied hds-ledger ledger_views; applied hds-ledger ledger_money_as_numbers; "
                             "applied hds-ledger ledger_invoices\n")
    store = open_with_ledger(db)
    with store.read():
        assert [s["hash_version"] for s in store.query("SELECT * FROM submissions")] == [None, None]
        assert verify(store) == []  # hash version 1: the header's first fields only
    store.close()
    assert "Total claim for 2020-11: £2,770.00" in hds("claim", "--month", "2020-11", "--db", db).output
    assert hds("migrate", "--db", db).output == f"{db}: already up to date\n"


def test_an_earlier_hds_refuses_a_store_this_one_wrote(tmp_path):
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    with contextlib.closing(sqlite3.connect(db)) as con:  # what the earlier hds checks: its numbered migrations
        assert max(r[0] for r in con.execute("SELECT id FROM migrations")) == 6


def test_a_store_with_a_migration_this_hds_does_not_know_is_refused(tmp_path):
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                    "VALUES ('hds-ledger', 'from_the_future', '2030-01-01')")
        con.commit()
    result = hds("claim", "--month", "2020-10", "--db", db)
    assert result.exit_code == 1
    assert ("was written by a newer version of hds (its migration hds-ledger from_the_future is unknown to this "
            "version); upgrade hds to use it") in result.output


def test_a_load_says_which_discharges_it_touched(tmp_path):
    """A follow-up load names the discharges whose facts it changed (their row, an episode or an event
    added, changed or removed) and writes nothing for the rest; a first load names every discharge."""
    from claims.commands.session import load as load_into

    def folder(name, **files):
        path = tmp_path / name
        path.mkdir()
        for table, text in files.items():
            (path / f"{table}.csv").write_text(text)
        return path

    db = tmp_path / "hds.db"
    three = DISCHARGES + "D3,P3,2020-10-07\n"
    _, first = load_into(folder("one", discharges=three, episodes=EPISODES), db)
    assert first.touched == {"D1", "D2", "D3"}
    _, same = load_into(folder("same", discharges=three, episodes=EPISODES), db)
    assert same.touched == frozenset() and same.changes["episodes"]["unchanged"] == 2
    changed = EPISODES.replace("E2,D2,home_care,2020-10-06,,350,OCC\n", "E2,D2,home_care,2020-10-06,,351,OCC\n")
    _, later = load_into(folder("two", discharges=DISCHARGES, episodes=changed,
                                events="event_id,discharge_id,event,date,outcome\nV1,D1,death,2020-10-20,\n"), db)
    assert later.touched == {"D1", "D2", "D3"}  # D1 an event added, D2 an episode changed, D3 removed
    assert later.changes["discharges"] == {"added": 0, "changed": 0, "removed": 1, "unchanged": 2}
    store = open_store(db)
    versions = store.execute("SELECT episode_id, _load, _until_load FROM episodes ORDER BY episode_id, _load").fetchall()
    assert versions == [("E1", 1, None), ("E2", 1, 3), ("E2", 3, None)]  # E1 kept as it was, not written again
    from hds import chain

    assert chain.load_problems(store.conn) == []


def test_a_table_read_from_the_files_its_last_load_read_is_not_diffed(tmp_path, monkeypatch):
    """A table whose files (names and SHA-256) and input mapping are those the last load of it read holds
    what they hold: nothing of it is written or closed, exactly as diffing it would find, and the digests
    are those of a load that diffs every table."""
    from hds import store as data_store

    events = "event_id,discharge_id,event,date,outcome\nV1,D1,death,2020-10-20,\n"
    diffed = []
    replace_versions = data_store._replace_versions
    monkeypatch.setattr(data_store, "_replace_versions", lambda conn, spec, *rest: (
        diffed.append(spec.name), replace_versions(conn, spec, *rest))[1])

    def loads(name):
        db = tmp_path / name / "hds.db"
        db.parent.mkdir()
        load(db.parent, "one", db, discharges=DISCHARGES, episodes=EPISODES)
        load(db.parent, "events", db, events=events)  # the last load of discharges and episodes stays the first
        load(db.parent, "same", db, discharges=DISCHARGES, episodes=EPISODES)
        load(db.parent, "changed", db, discharges=DISCHARGES, episodes=EPISODES.replace(",350,", ",351,"))
        with sqlite3.connect(db) as conn:
            return [conn.execute(q).fetchall() for q in (
                "SELECT id, rows, changes, digest FROM loads ORDER BY id", "SELECT * FROM discharges ORDER BY rowid",
                "SELECT * FROM episodes ORDER BY rowid")]

    skipped = loads("skipped")
    assert diffed == ["episodes"]  # the third load diffed nothing, the fourth only the episodes that changed
    assert json.loads(skipped[0][2][2]) == {t: {"added": 0, "changed": 0, "removed": 0, "unchanged": 2}
                                            for t in ("discharges", "episodes")}
    from hds import chain

    assert skipped[0][2][3] == chain.combine({})
    monkeypatch.setattr(data_store, "_as_last_loaded", lambda conn, loaded: set())
    assert loads("diffed") == skipped


def test_files_the_last_load_of_their_table_read_are_not_read_again(tmp_path, monkeypatch):
    """A follow-up load does not read or check a file byte for byte the one the last load of its table
    read (the store holds what it says), and says so; everything it records is what reading it again
    records. Episodes and events are read whenever discharges are; block costs always (their scheme
    column is checked against the rules in use)."""
    from hds import load as loading
    from hds import store as data_store

    blocks = "block_id,description,scheme,organisation,start_date,end_date,amount\nB1,beds,HDS2,OCC,2020-10-01,2020-10-31,100\n"
    events = "event_id,discharge_id,event,date,outcome\nV1,D1,death,2020-10-20,\n"
    read_tables = []
    read_table = loading._read_table
    monkeypatch.setattr(loading, "_read_table", lambda folder, name, *rest: (
        folder.found.get(name) and read_tables.append(name), read_table(folder, name, *rest))[1])

    def loads(name):
        db = tmp_path / name / "hds.db"
        db.parent.mkdir()
        said = [load(db.parent, "one", db, discharges=DISCHARGES, episodes=EPISODES, events=events, block_costs=blocks),
                load(db.parent, "episodes", db, discharges=DISCHARGES, episodes=EPISODES.replace(",350,", ",351,"),
                     events=events, block_costs=blocks),
                load(db.parent, "discharges", db, discharges=DISCHARGES.replace("2020-10-06", "2020-10-07"),
                     episodes=EPISODES.replace(",350,", ",351,"), events=events, block_costs=blocks)]
        with sqlite3.connect(db) as conn:
            return said, [conn.execute(q).fetchall() for q in (
                "SELECT id, files, rows, changes, latest_day, digest FROM loads ORDER BY id",
                "SELECT * FROM discharges ORDER BY rowid", "SELECT * FROM episodes ORDER BY rowid",
                "SELECT * FROM events ORDER BY rowid")]

    said, kept = loads("kept")
    tables = ["discharges", "episodes", "events", "block_costs"]
    assert read_tables == tables + ["episodes", "block_costs"] + tables
    assert said[1].splitlines()[:2] == [
        "note: discharges.csv: the very file the store's last load of discharges read (the same SHA-256): the store "
        "holds its 2 rows, so it was not read again",
        "note: events.csv: the very file the store's last load of events read (the same SHA-256): the store holds its "
        "1 row, so it was not read again"]
    assert "  discharges   0 added, 0 changed, 0 removed, 2 unchanged" in said[1].splitlines()
    assert "  episodes     0 added, 1 changed, 0 removed, 1 unchanged" in said[1].splitlines()
    assert "not read again" not in said[2]
    monkeypatch.setattr(data_store, "read_before", lambda store, mapping: lambda table, hashed: None)
    read_tables.clear()
    again, every = loads("every")
    assert read_tables == tables * 3
    assert every == kept  # the same loads log (files, rows, changes, latest day, digests) and versions
    assert [line.replace("kept", "every") for line in said[1].splitlines() if "not read again" not in line] == \
        again[1].splitlines()


def test_the_latest_dates_of_tables_a_load_keeps_are_read_beside_it_as_its_own_connection_reads_them(
        tmp_path, monkeypatch):
    import hashlib

    from hds import store as data_store
    from hds.store import _latest_day, _latest_kept, read_before

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    store = open_store(db, write=True)
    try:
        kept = _latest_kept(store, {})()
        assert kept == {(table, column): store.execute(f"SELECT MAX([{column}]) FROM [{table}] "
                                                       "WHERE _until_load IS NULL").fetchone()[0]
                        for table, column in data_store.DATED}
        assert kept[("discharges", "discharge_date")] == "2020-10-06"
        assert _latest_day(store.conn, {}, kept) == _latest_day(store.conn, {})
        assert data_store._counting_beside(store, ["discharges", "episodes"])() == {"discharges": 2, "episodes": 2}

        def refused(*args):
            raise sqlite3.OperationalError("unable to open database file")

        monkeypatch.setattr(data_store, "_connect", refused)
        assert _latest_kept(store, {})() == {}  # then the load's own connection reads them
        assert data_store._counting_beside(store, ["discharges"])() == {}  # and counts them
        files = {"discharges.csv": hashlib.sha256(DISCHARGES.encode()).hexdigest()}
        assert read_before(store, None)("discharges", lambda: files) == (2, files)  # counted here
    finally:
        store.close()


def test_files_hashed_ahead_give_their_sha256_while_this_thread_does_something_else(tmp_path):
    import hashlib

    from hds.sources import open_source

    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "discharges.csv").write_text(DISCHARGES)
    (folder / "episodes.csv").write_text(EPISODES)
    opened, done = open_source(folder), []
    opened.hash_ahead(["discharges", "episodes"], lambda: done.append(1))
    assert done == [1]
    assert opened.hashes("episodes") == {"episodes.csv": hashlib.sha256(EPISODES.encode()).hexdigest()}


def test_a_follow_up_load_checks_the_links_to_its_discharges_before_it_writes(tmp_path, monkeypatch):
    """Only a first load leaves the links of its episodes and events to its own discharges to be
    checked while its first table's indexes grow; a follow-up load writes no table whole, so it checks
    them as it reads, and a refused one writes nothing."""
    from hds import store as data_store

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    saved, save_load = [], data_store.save_load
    monkeypatch.setattr(data_store, "save_load", lambda *args, **kw: saved.append(1) or save_load(*args, **kw))
    said = load(tmp_path, "two", db, 1, discharges=DISCHARGES.replace("2020-10-06", "2020-10-07"),
                episodes=EPISODES.replace("E2,D2,", "E2,D9,"))
    assert "unknown discharge 'D9'; expected a discharge_id of discharges.csv" in said and saved == []


def test_a_follow_up_load_reads_each_file_once_and_says_which_it_could_not(tmp_path, monkeypatch):
    """A follow-up load reads and hashes every file ahead, at once, and reads from those very bytes the
    tables it must read: no file is read twice. One it cannot read is a problem of that file, as in a
    first load."""
    from pathlib import Path

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    opened, read_bytes = [], Path.read_bytes

    def reading(path):
        if path.suffix == ".csv":
            opened.append(path.name)
            if path.parent.name == "three" and path.name == "episodes.csv":
                raise PermissionError(13, "Permission denied")
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", reading)
    said = load(tmp_path, "two", db, discharges=DISCHARGES, episodes=EPISODES.replace(",350,", ",351,"))
    assert "discharges.csv: the very file" in said and "1 changed" in said
    assert sorted(opened) == ["discharges.csv", "episodes.csv"]
    said = load(tmp_path, "three", db, 1, discharges=DISCHARGES, episodes=EPISODES)
    assert "episodes.csv: cannot be read (Permission denied)" in said
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM loads").fetchone()[0] == 2


def test_a_load_not_reading_a_file_again_counts_its_rows_once_when_no_load_came_in(tmp_path, monkeypatch):
    """The tables a follow-up load keeps as they are were counted when found so (beside, through a
    second connection); under the write lock, with no load since, they are not counted again."""
    from hds import store as data_store
    from hds.load import read
    from hds.store import known_discharges, read_before, save_load

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "discharges.csv").write_text(DISCHARGES)
    (folder / "episodes.csv").write_text(EPISODES.replace(",350,", ",351,"))
    counts, counting = [], data_store._counting_beside
    monkeypatch.setattr(data_store, "_counting_beside", lambda store, tables: (
        counts.append(sorted(tables)), counting(store, tables))[1])
    store = open_store(db, write=True)
    try:
        said = []
        store.conn.set_trace_callback(said.append)
        loaded = read(folder, ("HDS2",), known_discharges(store), first_load=False,
                      read_before=read_before(store, None))
        assert set(loaded.kept) == {"discharges"} and loaded.kept_as_of == 1
        save_load(store, loaded)
        assert counts == [["discharges", "episodes"]]  # when found as their files, and not again
        assert not [q for q in said if q.startswith("SELECT COUNT(*) FROM [discharges]")]
        assert store.execute("SELECT changes FROM loads WHERE id = 2").fetchone()[0].count('"changed": 1') == 1
    finally:
        store.close()


def test_a_load_not_reading_a_file_again_is_refused_when_another_load_of_its_table_came_in(tmp_path):
    """Another load of a table between a follow-up load's reading and its writing: the files it did not
    read are no longer what the store holds, and nothing is loaded."""
    import pytest

    from hds.errors import HdsError
    from hds.load import read
    from hds.store import known_discharges, read_before, save_load

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    folder = tmp_path / "one"
    store = open_store(db, write=True)
    try:
        loaded = read(folder, ("HDS2",), known_discharges(store), first_load=False,
                      read_before=read_before(store, None))
        assert set(loaded.kept) == {"discharges", "episodes"} and not loaded.tables
        load(tmp_path, "between", db, discharges=DISCHARGES.replace("2020-10-06", "2020-10-07"))
        with pytest.raises(HdsError, match="another load of discharges came in"):
            save_load(store, loaded)
        assert store.execute("SELECT COUNT(*) FROM loads").fetchone()[0] == 2
    finally:
        store.close()


def test_a_load_that_leaves_the_discharges_as_they_are_checks_the_links_of_the_rows_it_writes(tmp_path):
    """Without discharges, or with the very file the last load of them read, the store's episodes and
    events follow its discharges already: the rows the load writes are looked up, and an unknown
    discharge is refused with the words and row a whole check gives, nothing loaded; with any other
    problem in the extract, every row is looked up at once, so that every problem is listed together."""
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)

    def refused(name, **files):
        output = load(tmp_path, name, db, exit_code=1, **files)
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM loads").fetchone()[0] == 1
        conn.close()
        return [line.strip() for line in output.splitlines()]

    alone = refused("alone", episodes=EPISODES.replace("E2,D2,", "E2,D9,"))
    assert alone[:2] == ["Error: 1 problem(s) in the input; nothing was loaded:",
                         "episodes.csv row 3, column discharge_id: unknown discharge 'D9'; expected a discharge_id "
                         "of the store"]
    kept = refused("kept", discharges=DISCHARGES, episodes=EPISODES + "E3,D8,home_care,2020-10-07,,350,OCC\n")
    assert "episodes.csv row 4, column discharge_id: unknown discharge 'D8'; expected a discharge_id of " \
           "discharges.csv" in kept
    both = refused("both", episodes=EPISODES.replace(",700,", ",lots,").replace("E2,D2,", "E2,D9,"))
    assert both[0] == "Error: 2 problem(s) in the input; nothing was loaded:"
    assert "episodes.csv row 3, column discharge_id: unknown discharge 'D9'; expected a discharge_id of the store" \
           in both
    cut = refused("cut", episodes=EPISODES.splitlines()[0] + "\nE9,D9,home_care,2020-10-06,,350,OCC\n")
    assert cut[:2] == ["Error: 1 problem(s) in the input; nothing was loaded:",  # as reading every row: the link
                       "episodes.csv row 2, column discharge_id: unknown discharge 'D9'; expected a discharge_id "
                       "of the store"]  # only, not yet the removal of every episode


def test_a_file_read_by_another_hds_is_read_again(tmp_path, monkeypatch):
    """A file the store's last load of its table read is taken unread only when this very hds read it (an
    upgrade may check more): another hds's load, or one from before hds kept which hds read it, is read."""
    from hds import code

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT read_with FROM loads").fetchone()[0] == code.code_digest("hds")
    conn.close()
    monkeypatch.setattr(code, "code_digest", lambda *packages: "another hds")
    assert "not read again" not in load(tmp_path, "two", db, discharges=DISCHARGES, episodes=EPISODES)
    assert "not read again" in load(tmp_path, "three", db, discharges=DISCHARGES, episodes=EPISODES)
    monkeypatch.setattr(code, "code_digest", lambda *packages: None)  # its own code could not be read
    assert "not read again" not in load(tmp_path, "four", db, discharges=DISCHARGES, episodes=EPISODES)


def test_dates_read_whole_count_their_days_as_sqlite_does():
    """_read counts a column of ISO dates with numpy: the day numbers of SQLite's julianday, a day past the
    month's end included (2020-02-30 is 2020-03-01); anything else is left to SQLite (None)."""
    import random

    from hds.store import NEVER, _day, _iso_days

    chance = random.Random(23)
    dates = [f"{y:04d}-{m:02d}-{d:02d}" for y in (0, 4, 100, 1900, 1970, 2000, 2020, 2100, 9999)
             for m in range(1, 13) for d in range(1, 32)]
    dates += [f"{chance.randrange(10_000):04d}-{chance.randrange(1, 13):02d}-{chance.randrange(1, 32):02d}"
              for _ in range(2_000)]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE d (date TEXT)")
    conn.executemany("INSERT INTO d VALUES (?)", [(d,) for d in dates] + [(None,)])
    expected = [day for (day,) in conn.execute(f"SELECT {_day('date')} FROM d ORDER BY rowid")]
    assert _iso_days("".join(dates) + "-" * 10, len(dates) + 1).tolist() == expected
    assert expected[-1] == NEVER
    for odd in ("2020-13-01", "2020-10-00", "2020-10-32", "2020/10/01", " 020-10-01", "-020-10-01", "2020-10-1 "):
        assert _iso_days(odd, 1) is None, odd


def test_a_column_that_does_not_read_whole_is_read_row_by_row_the_same():
    """Text holding the separator, or a date SQLite reads but not as YYYY-MM-DD, sends _read to its row
    by row path, with the same values and types."""
    from hds.store import Store, _columns, _read

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE events (event_id, discharge_id, event, date, outcome)")
    rows = [("V1", "D1", "death", "2020-10-05", ""), ("V2", "D1", "chc_decision", "2020-02-30", "chc"),
            ("V3", "D2", "death", None, None)]
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    store = Store(Path(":memory:"), conn, False)
    whole = _read(store, "events", f"SELECT {_columns('events', 'x', iso=True)} FROM events x", [], iso=True)
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                     [("V4", "D3", "death", "2020-10-05 12:00", "a\x1fb"), ("V5", "D3", "death", "soon", "")])
    split = _read(store, "events", f"SELECT {_columns('events', 'x', iso=True)} FROM events x", [], iso=True)
    asked = _read(store, "events", f"SELECT {_columns('events', 'x')} FROM events x", [])
    assert whole["date"].tolist() == [18540, 18322, 1_000_000_000]  # 2020-02-30 is 2020-03-01, as julianday says
    assert {n: split[n].tolist() for n in split.names} == {n: asked[n].tolist() for n in asked.names}
    assert split["date"].tolist()[3:] == [18540, 1_000_000_000] and split["outcome"].tolist()[3] == "a\x1fb"
    assert [split[n].dtype for n in split.names] == [whole[n].dtype for n in whole.names]


def test_rows_read_by_their_discharges_position_come_in_that_order():
    """With the chosen ids, _read puts the rows in the order of their discharges in temp.chosen whatever
    order SQLite found them in (the CROSS JOINs scan temp.chosen in order, which SQL does not promise)."""
    import numpy as np

    from hds.store import Store, _columns, _read

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE discharges (discharge_id, patient_id, discharge_date, kind, nhs_number, _until_load)")
    conn.executemany("INSERT INTO discharges VALUES (?, ?, ?, 'hospital', '', NULL)",
                     [(f"D{i}", f"P{i}", f"2020-10-{i + 1:02d}") for i in range(5)])
    conn.execute("CREATE TEMP TABLE chosen (discharge_id TEXT)")
    chosen = np.array(["D3", "D0", "D4"], dtype=object)
    conn.executemany("INSERT INTO temp.chosen VALUES (?)", [(i,) for i in chosen])
    store = Store(Path(":memory:"), conn, False)
    read = _read(store, "discharges", f"SELECT {_columns('discharges', 'x', chosen=True, iso=True)} FROM temp.chosen c "
                                      "CROSS JOIN discharges x ON x.discharge_id = c.discharge_id ORDER BY c.rowid DESC",
                 [], chosen=chosen, iso=True)
    assert read["discharge_id"].tolist() == ["D3", "D0", "D4"] and read["patient_id"].tolist() == ["P3", "P0", "P4"]


def test_what_a_reading_command_keeps_behind_is_written_before_close_and_a_fault_in_it_is_raised(tmp_path,
                                                                                                 sample_store):
    from hds.store import write_aside
    from tests.conftest import copy_store

    db = copy_store(sample_store, tmp_path / "hds.db")

    def keep(conn):
        conn.execute("CREATE TABLE kept (n INTEGER)")
        conn.execute("INSERT INTO kept VALUES (7)")

    store = open_store(db)
    with store.read():
        assert write_aside(store, keep, behind=True)
    store.close()  # waits for it
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert con.execute("SELECT n FROM kept").fetchall() == [(7,)]
    store = open_store(db)
    with store.read():
        write_aside(store, lambda conn: conn.execute("CREATE TABLE kept (n INTEGER)"), behind=True)  # SQLite says no
    store.close()  # nothing kept, nothing said
    store = open_store(db)
    with store.read():
        write_aside(store, lambda conn: 1 / 0, behind=True)  # a fault of hds itself
    with pytest.raises(ZeroDivisionError):
        store.close()


def _journal_mode(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_a_first_load_is_written_through_a_rollback_journal_and_leaves_the_store_in_wal_mode(tmp_path, monkeypatch):
    import hds.store

    modes = []
    real = hds.store._replace_table

    def watched(conn, *args, **kwargs):  # the mode while a table is written
        modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0])
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(hds.store, "_replace_table", watched)
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    assert modes and set(modes) == {"delete"}
    assert _journal_mode(db) == "wal" and not Path(f"{db}-journal").exists()
    modes.clear()
    load(tmp_path, "two", db, discharges=DISCHARGES.replace("2020-10-06", "2020-10-07"), episodes=EPISODES)
    assert modes and set(modes) == {"wal"}  # a later load: through the write-ahead log, as readers expect
    store = open_store(db)
    try:
        assert [r["id"] for r in store.loads()] == [1, 2]
        from datetime import date

        from hds.days import day_number

        assert read_dataset(store).discharges["discharge_date"].tolist()[1] == day_number(date(2020, 10, 7))
    finally:
        store.close()


def _empty_store_and_extract(tmp_path):
    """A new store holding no load, and an extract read and checked (``hds.load.Loaded``) to load into it."""
    from hds.load import read

    db = tmp_path / "hds.db"
    open_store(db, write=True, create=True).close()
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "discharges.csv").write_text(DISCHARGES)
    (folder / "episodes.csv").write_text(EPISODES)
    return db, read(folder, ("HDS1", "HDS2"))


def test_a_refused_first_load_into_an_empty_store_leaves_it_empty_and_in_wal_mode(tmp_path):
    from hds.store import save_load

    db, loaded = _empty_store_and_extract(tmp_path)

    def fails(store):  # after every table is written, inside the transaction
        assert store.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        raise RuntimeError("refused at the end")

    store = open_store(db, write=True)
    try:
        with pytest.raises(RuntimeError, match="refused at the end"):
            save_load(store, loaded, then=fails)
        assert store.execute("SELECT COUNT(*) FROM discharges").fetchone()[0] == 0
        assert store.latest_load() is None
    finally:
        store.close()
    assert _journal_mode(db) == "wal" and not Path(f"{db}-journal").exists()


def test_a_first_load_while_another_process_has_the_store_open_is_written_through_the_log(tmp_path, monkeypatch):
    import hds.store

    modes = []
    real = hds.store._replace_table
    monkeypatch.setattr(hds.store, "_replace_table", lambda conn, *args, **kwargs: (
        modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0]), real(conn, *args, **kwargs))[1])
    db = tmp_path / "hds.db"
    open_store(db, write=True, create=True).close()
    other = sqlite3.connect(db)  # holds the store open: its journal mode cannot change
    try:
        other.execute("SELECT COUNT(*) FROM loads").fetchone()
        load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
        assert other.execute("SELECT COUNT(*) FROM discharges WHERE _until_load IS NULL").fetchone()[0] == 2
        assert modes and set(modes) == {"wal"}
    finally:
        other.close()
    assert _journal_mode(db) == "wal"


def test_a_store_left_out_of_wal_mode_is_put_back_when_it_is_next_written(tmp_path):
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    assert _journal_mode(db) == "delete"
    open_store(db, write=True).close()
    assert _journal_mode(db) == "wal"


def test_a_store_with_an_unfinished_write_in_a_folder_you_cannot_write_is_refused_clearly(tmp_path, monkeypatch):
    import hds.store
    from hds.errors import HdsError

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    Path(f"{db}-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(504))  # a journal's header
    monkeypatch.setattr(hds.store, "read_only_for_me", lambda path: True)
    with pytest.raises(HdsError, match="cut off before it finished"):
        open_store(db)


def test_a_command_opening_a_store_that_a_first_load_is_writing_waits_for_it_and_says_so(tmp_path, capsys,
                                                                                          monkeypatch):
    import threading
    import time

    import hds.store

    monkeypatch.setattr(hds.store, "BUSY_WAIT_S", 20)  # should the lock never go, the test fails, not hangs

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    writer = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode = DELETE")  # as a first load writes (hds.store._journal_for_first_load)
    writer.execute("BEGIN EXCLUSIVE")  # the lock it holds once its pages go into the file
    released = []

    def release() -> None:
        time.sleep(0.6)
        writer.execute("COMMIT")
        writer.execute("PRAGMA journal_mode = WAL")
        released.append(time.monotonic())
        writer.close()

    thread = threading.Thread(target=release)
    thread.start()
    try:
        store = open_store(db)  # waits; before, it was refused as "damaged or truncated"
        opened = time.monotonic()
        try:
            assert [r["id"] for r in store.loads()] == [1]
        finally:
            store.close()
    finally:
        thread.join()
    assert released and opened >= released[0]
    assert f"Waiting: another hds process is writing to {db} ..." in capsys.readouterr().err


def test_a_store_whose_load_was_cut_off_is_refused_by_readers_truthfully_and_put_back_by_the_next_writer(tmp_path):
    import subprocess
    import sys

    from hds.errors import HdsError

    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    before = read_dataset_of(db)
    cut_off = ("import os, sqlite3, sys\n"
               "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
               "conn.execute('PRAGMA journal_mode = DELETE')\n"
               "conn.execute('PRAGMA cache_size = 2')  # its pages go into the file before it commits\n"
               "conn.execute('BEGIN')\n"
               "conn.executemany('INSERT INTO discharges (discharge_id, _load) VALUES (?, 1)', "
               "(('X%06d' % i,) for i in range(20000)))\n"
               "os._exit(9)  # killed half way: no commit, no rollback\n")
    subprocess.run([sys.executable, "-c", cut_off, str(db)], check=False)
    assert Path(f"{db}-journal").stat().st_size > 0
    with pytest.raises(HdsError, match="was cut off before it finished.*run 'hds load' again"):
        open_store(db)
    open_store(db, write=True).close()  # SQLite undoes the cut-off write
    assert not Path(f"{db}-journal").exists() and _journal_mode(db) == "wal"
    assert read_dataset_of(db) == before


def read_dataset_of(db: Path):
    store = open_store(db)
    try:
        discharges = read_dataset(store).discharges
        return discharges["discharge_id"].tolist(), discharges["patient_id"].tolist()
    finally:
        store.close()


def _release_later(conn: sqlite3.Connection, seconds: float, then: str | None = None):
    """A thread that ends `conn`'s transaction after `seconds` (and runs `then`); started."""
    import threading
    import time

    def release() -> None:
        time.sleep(seconds)
        conn.execute("COMMIT")
        if then:
            conn.execute(then)
        conn.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_a_load_waits_for_another_processs_first_load_and_is_then_not_the_first(tmp_path, capsys, monkeypatch):
    import hds.store
    from hds.store import save_load

    monkeypatch.setattr(hds.store, "BUSY_WAIT_S", 20)  # should the lock never go, the test fails, not hangs
    db, loaded = _empty_store_and_extract(tmp_path)
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode = DELETE")  # another process's first load, writing
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO loads (id, hash) VALUES (1, 'the other load')")
    thread = _release_later(other, 0.6, "PRAGMA journal_mode = WAL")
    try:
        store = open_store(db, write=True)  # waits for the other load, saying so
        try:
            summary = save_load(store, loaded)
        finally:
            store.close()
    finally:
        thread.join()
    assert summary.load_id == 2  # the other load came first: this one is not a first load
    assert f"Waiting: another hds process is using {db} ..." in capsys.readouterr().err
    assert _journal_mode(db) == "wal"


def test_why_sqlite_refused_a_store_is_told_without_its_error_names(tmp_path):
    from hds.store import _refusal

    db = tmp_path / "hds.db"
    locked = sqlite3.OperationalError("database is locked")  # as Python before 3.11 gives it: no error name
    readonly = sqlite3.OperationalError("attempt to write a readonly database")
    assert _refusal(locked, db) == "busy"
    assert _refusal(readonly, db) is None  # no journal: not a cut-off write
    Path(f"{db}-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(504))
    assert _refusal(readonly, db) == "cut off"
    assert _refusal(sqlite3.DatabaseError("file is not a database"), db) is None


def test_a_store_left_out_of_wal_mode_waits_for_its_readers_to_be_put_back(tmp_path, capsys, monkeypatch):
    import hds.store

    monkeypatch.setattr(hds.store, "BUSY_WAIT_S", 20)
    db = tmp_path / "hds.db"
    load(tmp_path, "one", db, discharges=DISCHARGES, episodes=EPISODES)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    reader = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM discharges").fetchone()  # a read in progress
    thread = _release_later(reader, 2.5)
    try:
        open_store(db, write=True).close()
    finally:
        thread.join()
    assert _journal_mode(db) == "wal"
    assert f"Waiting: another hds process is using {db} ..." in capsys.readouterr().err


def test_the_digest_of_a_table_written_whole_is_that_of_its_rows_as_stored():
    from hds import chain
    from hds.contract import CONTRACT
    from hds.load import read
    from hds.store import _store_rows, written_digest

    loaded = read(Path(__file__).parent.parent / "fixtures" / "sample", ("HDS1", "HDS2", "HDS3", "HDS4"))
    for spec in CONTRACT:
        if spec.name in loaded.tables:
            table = loaded.tables[spec.name]
            assert written_digest(spec, table) == chain.table_digest(_store_rows(spec, table).tolist(), [])


def test_sqlite_is_configured_once_and_never_under_an_open_connection(tmp_path):
    import subprocess
    import sys

    from hds import store

    assert store._lighter_sqlite() is False  # done (or refused) when hds.store was imported: never again
    script = ("import sqlite3; c = sqlite3.connect(':memory:'); c.execute('CREATE TABLE t (a)'); "
              "import hds.store; c.execute('INSERT INTO t VALUES (1)'); "
              "print(hds.store.LIGHTER_SQLITE, c.execute('SELECT a FROM t').fetchone()[0])")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parent.parent)
    assert done.stdout.split() == ["False", "1"]  # a connection was open: left as it was, and it still works


def test_a_new_store_is_made_with_its_own_page_size(tmp_path):
    from hds.store import PAGE_BYTES

    db = tmp_path / "hds.db"
    hds("load", Path(__file__).parent.parent / "fixtures" / "sample", "--db", db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_BYTES
    conn.close()
