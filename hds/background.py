"""Work done beside this process: a pure computation on what the process holds in memory, made by a
forked copy of it on another core while this process goes on (a load hashes and decides what it
writes while SQLite writes it; the GIL would make a thread wait its turn).

The copy sends its result back pickled through a pipe and leaves at once, running none of this
process's exit handlers and touching none of its files (an open store included). Where a process
cannot fork or may run on one core only, for work too small to be worth a process, or when the copy
fails in any way, the work is done here when its result is asked for, so an error is raised as this
process would raise it.
"""

from __future__ import annotations

import os
import pickle
from typing import Callable


class Pending:
    """The result of `function(*args)`, being computed beside this process (or, failing that, here)."""

    def __init__(self, function: Callable, args: tuple, beside: bool = True):
        self._function, self._args = function, args
        self._pid: int | None = None
        self._pipe: int | None = None
        self._value = None
        self._done = False
        if beside and can_fork():
            self._fork()

    def _fork(self) -> None:
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to be had (a limit, memory): the work is done here
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the copy
            status = 1
            try:
                os.close(read)
                payload = pickle.dumps(self._function(*self._args), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._pid, self._pipe = pid, read

    def result(self):
        """The value (waiting for the copy to send it)."""
        if not self._done:
            value = self._collect()
            self._value = self._function(*self._args) if value is None else value[0]
            self._done, self._function, self._args = True, None, ()
        return self._value

    def _collect(self) -> tuple | None:
        """(the copy's value,), or None when there is no copy or it failed."""
        if self._pid is None:
            return None
        pipe, self._pipe = self._pipe, None  # the file object below owns it, and closes it whatever happens
        with os.fdopen(pipe, "rb") as reading:
            payload = reading.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if status != 0 or not payload:
            return None
        return (pickle.loads(payload),)

    def cancel(self) -> None:
        """Stop the copy and reap it (a load that failed does not want its result), also when asking
        for its result was cut short (an interrupt while its pipe was read)."""
        if self._pid is not None:
            import signal

            try:
                os.kill(self._pid, signal.SIGKILL)
            except OSError:
                pass
            if self._pipe is not None:
                os.close(self._pipe)
            os.waitpid(self._pid, 0)
            self._pid = self._pipe = None
        self._done, self._function, self._args = True, None, ()

    def __del__(self):
        if self._pid is not None:
            try:
                self.cancel()
            except Exception:  # at the interpreter's exit: the copy ends with it
                pass


def can_fork() -> bool:
    """Whether work may be done beside this process: it can fork, and has another core to run the copy on."""
    return hasattr(os, "fork") and _cores() > 1


def _cores() -> int:
    """The cores this process may run on (a copy on the only one would only wait its turn)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def start(function: Callable, *args, beside: bool = True) -> Pending:
    """`function(*args)` computed by a forked copy of this process (unless not `beside`: then here, when
    its result is asked for). `function` must only compute: it may not write files or the store."""
    return Pending(function, args, beside)
