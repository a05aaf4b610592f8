"""Progress on long work (loading, claiming, checking, reporting), shown on a terminal.

A step shows a spinner, what it is doing and the time it has taken on
stderr, redrawn in place and removed when it ends, so the output on stdout
is untouched. Nothing is shown when stderr is not a terminal (a pipe, a file,
a test) or after `quiet()` (`hds --quiet`). Steps nest: an inner step
replaces the outer one's text while it runs.

    with progress.step("Reading the extract"):
        ...
"""

from __future__ import annotations

import contextlib
import sys

_state = {"quiet": False, "live": None, "stack": []}


def quiet(on: bool = True) -> None:
    """Show no progress in this process (hds --quiet)."""
    _state["quiet"] = on


def enabled() -> bool:
    """True when progress is shown: not quiet, and stderr is a terminal."""
    stream = sys.stderr
    return not _state["quiet"] and hasattr(stream, "isatty") and stream.isatty()


@contextlib.contextmanager
def step(description: str):
    """Show `description` with a spinner and the time taken while the block runs (on a terminal only)."""
    if not enabled():
        yield
        return
    outer = _state["live"] is None
    if outer:
        _start(description)
    _state["stack"].append(description)
    _show(description)
    try:
        yield
    finally:
        _state["stack"].pop()
        if outer:
            _stop()
        elif _state["stack"]:
            _show(_state["stack"][-1])


def _start(description: str) -> None:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    live = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=Console(file=sys.stderr, force_terminal=True), transient=True, redirect_stdout=False,
                    redirect_stderr=False)
    _state["live"] = (live, live.add_task(description, total=None))
    live.start()


def _show(description: str) -> None:
    live, task = _state["live"]
    live.update(task, description=description, refresh=True)


def _stop() -> None:
    live, _task = _state["live"]
    live.stop()
    _state["live"] = None
