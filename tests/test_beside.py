"""Work done beside the process (hds.background): a forked copy computes what this process would, and
a load whose reading and deciding are done by copies stores exactly what one done in the process
itself stores, and says the same."""

import os
import sqlite3

import pytest
from click.testing import CliRunner

import cli
from fixtures.generate import generate, write
from hds import background
from tests.cli_helpers import ok as hds


def _twice(values):
    return [2 * v for v in values]


def _fails(message):
    raise ValueError(message)


def test_a_copy_computes_what_this_process_would():
    pending = background.start(_twice, list(range(100_000)))
    assert pending._pid is not None  # a copy of the process computes it
    assert pending.result() == _twice(range(100_000))
    assert pending.result() == _twice(range(100_000))  # asked again: the same value, no second copy


def test_small_work_is_done_here_when_asked_for():
    done = []
    pending = background.start(lambda: done.append(1) or "here", beside=False)
    assert pending._pid is None and done == []
    assert pending.result() == "here" and done == [1]


def test_a_failure_in_the_copy_is_raised_as_this_process_raises_it():
    with pytest.raises(ValueError, match="no such month"):
        background.start(_fails, "no such month").result()


def test_a_cancelled_copy_is_stopped_and_reaped():
    pending = background.start(_twice, list(range(10)))
    pid = pending._pid
    pending.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def _stored(db):
    """What a store holds: every data version, the loads' digests and counts, the figures."""
    with sqlite3.connect(db) as conn:
        return {query: conn.execute(query).fetchall() for query in (
            "SELECT id, rows, changes, latest_day, digest, touched_recorded FROM loads ORDER BY id",
            "SELECT * FROM discharges ORDER BY rowid", "SELECT * FROM episodes ORDER BY rowid",
            "SELECT * FROM events ORDER BY rowid", "SELECT * FROM block_costs ORDER BY rowid",
            "SELECT * FROM allocation_totals ORDER BY month, funder, scheme, organisation, service",
            "SELECT name, load_id, rulebook_version, rows FROM derived ORDER BY name",
            "SELECT * FROM load_discharges ORDER BY 1, 2")}


def _loads(tmp_path, name):
    tables = generate(seed=7, per_month=40)
    db = tmp_path / name / "hds.db"
    db.parent.mkdir()
    said = [hds("load", write(tables, tmp_path / name / "one"), "--db", db)]
    for row in tables["episodes"][::23]:
        row["weekly_cost"] = f"{float(row['weekly_cost']) + 3:.2f}"
    said.append(hds("load", write(tables, tmp_path / name / "two"), "--db", db))
    return [text.replace(str(tmp_path / name), "HERE") for text in said], _stored(db)


def test_a_load_done_beside_the_process_stores_and_says_what_one_done_in_it_does(tmp_path, monkeypatch):
    from claims import analysts
    from hds import load

    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 0)  # as a national store: the figures decided with the load
    monkeypatch.setattr(load, "READ_BESIDE_BYTES", 1 << 40)
    monkeypatch.setattr(background, "start", lambda function, *args, beside=True: background.Pending(
        function, args, beside=False))
    here = _loads(tmp_path, "here")
    monkeypatch.undo()
    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 0)
    monkeypatch.setattr(load, "READ_BESIDE_BYTES", 0)  # every table after the first read by a copy
    forked = []
    monkeypatch.setattr(background.Pending, "_fork", lambda self, fork=background.Pending._fork: (
        forked.append(getattr(self._function, "__name__", "")), fork(self)))
    beside = _loads(tmp_path, "beside")
    assert {"_read_pieces", "_hashed_then_decided"} <= set(forked)
    assert beside == here


def test_a_first_load_hashed_by_the_deciding_copy_records_what_hashing_here_records(tmp_path, monkeypatch):
    from claims import analysts

    source = write(generate(seed=11, per_month=30), tmp_path / "extract")
    forked, digests = [], {}
    monkeypatch.setattr(background.Pending, "_fork", lambda self, fork=background.Pending._fork: (
        forked.append(getattr(self._function, "__name__", "")), fork(self)))
    def copy_gives_none(loaded, lib):  # as a copy that hashed nothing and decided nothing
        yield {}
        yield None

    for name, at_load, beside in (("here", 10**9, None), ("copy", 0, None), ("none", 0, copy_gives_none)):
        monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", at_load)  # 0: as a national store
        if beside is not None:
            monkeypatch.setattr(analysts, "_hashed_then_decided", beside)
        db = tmp_path / name / "hds.db"
        db.parent.mkdir()
        hds("load", source, "--db", db)
        assert "verified" in hds("verify", "--db", db)
        with sqlite3.connect(db) as conn:
            digests[name] = conn.execute("SELECT digest FROM loads").fetchall()
    assert forked.count("_hashed_then_decided") == 1  # the copy's own digests were used once
    assert digests["copy"] == digests["here"] == digests["none"]


def test_a_copy_whose_result_was_being_read_when_interrupted_is_still_stopped_and_reaped(monkeypatch):
    import time

    pending = background.start(time.sleep, 30)
    pid = pending._pid

    class Interrupted:
        def __init__(self, fd, mode):
            os.close(fd)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, *size):
            raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr(background.os, "fdopen", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        pending.result()
    pending.cancel()  # no error about a closed pipe, and the copy does not linger
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def test_a_first_load_with_links_to_no_discharge_stops_before_the_deciding_is_waited_for(tmp_path, monkeypatch):
    from claims import analysts

    tables = generate(seed=5, per_month=20)
    tables["episodes"][3]["discharge_id"] = "NOWHERE"
    source = write(tables, tmp_path / "extract")
    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 0)  # as a national store: deciding beside the load
    monkeypatch.setattr(background, "start_in_turn", lambda function, *args, beside=True: background.Pending(
        function, args, beside=False, in_turn=True))  # done here, when its result is first asked for
    asked = []

    def hashed_then_decided(loaded, lib):
        asked.append(1)
        yield {}
        yield None

    monkeypatch.setattr(analysts, "_hashed_then_decided", hashed_then_decided)
    db = tmp_path / "store" / "hds.db"
    db.parent.mkdir()
    result = CliRunner().invoke(cli.main, ["load", str(source), "--db", str(db)])
    assert result.exit_code == 1 and "unknown discharge 'NOWHERE'" in result.output
    assert asked == [] and not db.exists()


def test_when_no_copy_can_be_made_the_work_is_done_here(monkeypatch):
    def refused():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    pending = background.start(_twice, [1, 2])
    assert pending._pid is None and pending.result() == [2, 4]
