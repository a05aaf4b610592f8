"""Small commands import only what they use: no pandas, matplotlib or Dask to trace a patient, list the
log or print the version; status draws no chart; a trace read from the decisions the load kept
starts neither numpy, nor the rules engine, nor the YAML parser. Checked in a fresh process, by what
it imported."""

import json
import subprocess
import sys

import pytest

from tests.conftest import copy_store

HEAVY = ("pandas", "matplotlib", "dask", "distributed")
RUN = ("import sys, json, cli\n"
       "try:\n"
       "    cli.main(sys.argv[1:], prog_name='hds')\n"
       "except SystemExit as end:\n"
       "    code = end.code\n"
       "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in {heavy})]))\n")


def imported(*args, heavy: tuple[str, ...] = HEAVY) -> tuple[int, list[str]]:
    """(exit code, the `heavy` packages imported) of `hds ARGS` in a fresh Python."""
    done = subprocess.run([sys.executable, "-c", RUN.format(heavy=set(heavy)), *map(str, args)],
                          capture_output=True, text=True, check=True)
    code, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return code, sorted({m.split(".")[0] for m in modules})


@pytest.mark.parametrize("args", [("--version",), ("trace", "P000445"), ("log",), ("verify",), ("status",)])
def test_small_commands_import_no_pandas_matplotlib_or_dask(tmp_path, october_store, args):
    db = copy_store(october_store, tmp_path / "hds.db")
    code, heavy = imported(*args, *(("--db", db) if args[0] != "--version" else ()))
    assert code in (0, None) and heavy == []


def test_submitting_with_an_acknowledgements_file_imports_no_pandas(tmp_path, october_store):
    """Reading a small CSV of acknowledgements needs the csv module, not the load's table parser."""
    db = copy_store(october_store, tmp_path / "hds.db")
    acknowledged = tmp_path / "acknowledged.csv"
    acknowledged.write_text("finding,because\n")
    code, heavy = imported("submit", "--month", "2020-10", "--dry-run", "--acknowledgements", acknowledged,
                           "--db", db)
    assert code in (0, 1, None) and heavy == []


@pytest.mark.parametrize("args", [(), ("--month", "2020-12"), ("9990000026",), ("--json",), ("--csv",)])
def test_a_trace_from_the_stored_decisions_imports_no_numpy_rules_engine_or_yaml(tmp_path, october_store, args):
    db = copy_store(october_store, tmp_path / "hds.db")
    patient = () if args[:1] == ("9990000026",) else ("P000445",)
    code, heavy = imported("trace", *patient, *args, "--db", db, heavy=("numpy", "durable", "yaml", *HEAVY))
    assert code in (0, None) and heavy == []
