"""Progress on long work: shown on a screen (stderr), never when piped or with --quiet, never on stdout."""

import io
import sys

import pytest

from hds import progress
from tests.cli_helpers import hds


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def screen(monkeypatch):
    """A terminal as stderr; patched in the test's own body (pytest sets sys.stderr again as each phase starts)."""
    monkeypatch.setitem(progress._state, "quiet", False)
    return Terminal()


def test_a_step_is_shown_on_a_terminal_and_nested_steps_take_turns(screen, monkeypatch):
    monkeypatch.setattr(sys, "stderr", screen)
    with progress.step("Computing the claim for 2020-10"):
        with progress.step("Running the checks on 2020-10"):
            pass
    shown = screen.getvalue()
    assert "Computing the claim for 2020-10" in shown and "Running the checks on 2020-10" in shown, repr(shown)
    assert progress._state["live"] is None and progress._state["stack"] == []


def test_nothing_is_shown_when_quiet_or_piped(screen, monkeypatch):
    monkeypatch.setattr(sys, "stderr", screen)
    progress.quiet()
    with progress.step("Reading"):
        pass
    assert screen.getvalue() == ""
    progress.quiet(False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe
    assert not progress.enabled()


def test_quiet_is_taken_before_or_after_the_command(paid_store, monkeypatch):
    monkeypatch.setitem(progress._state, "quiet", False)
    before = hds("--quiet", "reconcile", "--month", "2020-10", "--db", paid_store)
    assert before.exit_code == 0 and progress._state["quiet"]
    monkeypatch.setitem(progress._state, "quiet", False)
    after = hds("reconcile", "--month", "2020-10", "-q", "--db", paid_store)
    assert after.exit_code == 0 and progress._state["quiet"] and after.output == before.output
