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


def _verified_digests(source, db) -> list:
    """The loads' digests of a new store `db` that `source` was loaded into, once `hds verify` passed."""
    db.parent.mkdir()
    hds("load", source, "--db", db)
    assert "verified" in hds("verify", "--db", db)
    with sqlite3.connect(db) as conn:
        digests = conn.execute("SELECT digest FROM loads").fetchall()
    conn.close()
    return digests


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
    assert {"_read_then_hashed", "_checked_then_decided"} <= set(forked)
    assert beside == here


def test_a_first_load_hashed_by_the_deciding_copy_records_what_hashing_here_records(tmp_path, monkeypatch):
    from claims import analysts

    source = write(generate(seed=11, per_month=30), tmp_path / "extract")
    forked, digests = [], {}
    monkeypatch.setattr(background.Pending, "_fork", lambda self, fork=background.Pending._fork: (
        forked.append(getattr(self._function, "__name__", "")), fork(self)))
    def copy_gives_none(loaded, lib):  # as a copy that hashed nothing and decided nothing
        yield {}, []
        yield None

    for name, at_load, beside in (("here", 10**9, None), ("copy", 0, None), ("none", 0, copy_gives_none)):
        monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", at_load)  # 0: as a national store
        if beside is not None:
            monkeypatch.setattr(analysts, "_checked_then_decided", beside)
        digests[name] = _verified_digests(source, tmp_path / name / "hds.db")
    assert forked.count("_checked_then_decided") == 1  # the copy's own digests were used once
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


@pytest.mark.parametrize("beside", [False, True])
def test_a_first_load_with_links_to_no_discharge_is_refused_without_the_deciding_being_waited_for(
        tmp_path, monkeypatch, beside):
    from claims import analysts

    tables = generate(seed=5, per_month=20)
    tables["episodes"][3]["discharge_id"] = "NOWHERE"
    source = write(tables, tmp_path / "extract")
    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 0)  # as a national store: its links found by the copy
    monkeypatch.setattr(background, "start_in_turn", lambda function, *args, beside=True, here=not beside: (
        background.Pending(function, args, beside=not here, in_turn=True)))  # or here, as each is asked for
    made, real = [], analysts._checked_then_decided

    def recorded(loaded, lib):
        for value in real(loaded, lib):
            made.append(value)
            yield value

    monkeypatch.setattr(analysts, "_checked_then_decided", recorded)
    db = tmp_path / "store" / "hds.db"
    db.parent.mkdir()
    result = CliRunner().invoke(cli.main, ["load", str(source), "--db", str(db)])
    assert result.exit_code == 1 and "unknown discharge 'NOWHERE'" in result.output
    assert "episodes.csv row 5" in result.output  # worded as the load's own check words it
    assert not db.exists()
    if not beside:
        assert len(made) == 1  # the links checked; the deciding never asked for


def test_when_no_copy_can_be_made_the_work_is_done_here(monkeypatch):
    def refused():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    pending = background.start(_twice, [1, 2])
    assert pending._pid is None and pending.result() == [2, 4]


def test_the_copy_that_reads_a_table_also_hashes_it_as_written_and_its_digest_is_the_one_recorded(
        tmp_path, monkeypatch):
    from claims import analysts
    from hds import load, store

    source = write(generate(seed=13, per_month=30), tmp_path / "extract")
    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 10**9)  # no deciding copy: only the reading one
    monkeypatch.setattr(load, "READ_BESIDE_BYTES", 0)  # the largest table read beside
    hashed_here, digests = [], {}
    real = store.written_digest
    monkeypatch.setattr(store, "written_digest", lambda spec, table: hashed_here.append(spec.name) or real(spec, table))
    for name, beside in (("copy", True), ("here", False)):
        if not beside:
            monkeypatch.setattr(background, "start_in_turn", lambda function, *args, beside=True: background.Pending(
                function, args, beside=False, in_turn=True))
        digests[name] = _verified_digests(source, tmp_path / name / "hds.db")
        if beside:
            assert hashed_here == []  # its digest came from the copy
    assert hashed_here == ["episodes"]  # made here, by the same function, when no copy could be made
    assert digests["copy"] == digests["here"]


def test_an_interrupt_while_a_first_loads_figures_are_awaited_says_the_load_was_recorded(tmp_path, monkeypatch):
    from claims import analysts

    source = write(generate(seed=17, per_month=20), tmp_path / "extract")
    monkeypatch.setattr(analysts, "REFRESH_AT_LOAD", 0)  # as a national store: the figures decided beside

    def interrupted(self, store, load_id):
        raise KeyboardInterrupt

    monkeypatch.setattr(analysts.FiguresBeside, "store", interrupted)
    db = tmp_path / "store" / "hds.db"
    db.parent.mkdir()
    result = CliRunner().invoke(cli.main, ["load", str(source), "--db", str(db)])
    assert result.exit_code == 1
    assert f"interrupted after load 1 was recorded in {db}" in result.output
    assert "Traceback" not in result.output
    monkeypatch.undo()
    assert "verified" in hds("verify", "--db", db)  # the load is whole
    with sqlite3.connect(db) as conn:  # the load whole, its figures not stored
        assert conn.execute("SELECT COUNT(*) FROM loads").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM derived WHERE name = 'allocation_totals'").fetchone()[0] == 0
    conn.close()
    status = hds("status", "--db", db)  # decided when asked for
    assert "2020-10" in status


def _sent_then_died(marker):
    yield "first"
    os._exit(3)  # the copy dies before its second value
    yield "second"  # noqa: F821 - never reached in the copy


def _made_twice(log):
    log.append("started")
    yield "first"
    yield "second"


def test_a_copy_that_dies_after_its_first_value_gives_none_or_runs_again_here_as_asked():
    pending = background.start_in_turn(_sent_then_died, None)
    pid = pending._pid
    assert pid is not None and pending.result(0) == "first"
    assert pending.result(1, again=False) is None  # not made here from the start again
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # the copy reaped once found dead

    log = []
    here = background.Pending(_made_twice, (log,), beside=False, in_turn=True)
    assert here.result(0) == "first" and here.result(1, again=False) == "second" and log == ["started"]
