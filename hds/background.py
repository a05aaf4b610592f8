"""Work done beside this process: a pure computation on what the process holds in memory, made by a
forked copy of it on another core while this process goes on (a load hashes and decides what it
writes while SQLite writes it; the GIL would make a thread wait its turn).

The copy sends its result back pickled through a pipe and leaves at once, running none of this
process's exit handlers and touching none of its files (an open store included). A computation may
also be a generator of several values, each sent back as soon as it is made (``start_in_turn``), so
that this process can use the first while the copy works on the next. Where a process cannot fork or
may run on one core only, for work too small to be worth a process, or when the copy fails in any
way, the work is done here when its result is asked for, so an error is raised as this process would
raise it.
"""

from __future__ import annotations

import os
import pickle
from typing import Callable

_LENGTH = 8  # bytes giving the length of each value sent back, before its pickle


class Pending:
    """The result of `function(*args)`, being computed beside this process (or, failing that, here);
    with `in_turn`, `function` is a generator and its values are the results, in turn (``result(k)``)."""

    def __init__(self, function: Callable, args: tuple, beside: bool = True, in_turn: bool = False):
        self._function, self._args, self._in_turn = function, args, in_turn
        self._pid: int | None = None
        self._pipe: int | None = None
        self._reading = None  # the pipe as a file, once this process reads from it
        self._values: list = []
        self._here = None  # the generator run in this process, once a value is made here
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
                with os.fdopen(write, "wb") as out:
                    values = self._function(*self._args)
                    for value in values if self._in_turn else [values]:
                        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                        out.write(len(payload).to_bytes(_LENGTH, "little") + payload)
                        out.flush()
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._pid, self._pipe = pid, read

    def result(self, turn: int = 0, again: bool = True):
        """The value (of a computation `in_turn`: its `turn`-th value), waiting for the copy to send it.
        Where there is no copy, or it failed, the value is made here, when first asked for (in turn: the
        generator run here as far as that value). A copy that failed after sending earlier values has
        the generator run here again from its start, making those again, unless not `again`: then the
        value is None (for a generator whose first steps read files, which may have changed since)."""
        while len(self._values) <= turn:
            value = self._collect()
            if value is None and not again and self._here is None and self._values:
                return None
            self._values.append(value[0] if value is not None else self._made_here())
            if not self._in_turn:
                self._finish()
        return self._values[turn]

    def _made_here(self):
        """The next value, made in this process."""
        if not self._in_turn:
            return self._function(*self._args)
        if self._here is None:
            self._here = self._function(*self._args)
            for _ in self._values:  # (sent by a copy that then failed: made again)
                next(self._here)
        return next(self._here)

    def _finish(self) -> None:
        self._function, self._args, self._here = None, (), None
        self._reap()

    def _collect(self) -> tuple | None:
        """(the copy's next value,), or None when there is no copy, it failed or has sent every value."""
        if self._pid is None:
            return None
        if self._reading is None:
            pipe, self._pipe = self._pipe, None  # the file object owns it, and closes it whatever happens
            self._reading = os.fdopen(pipe, "rb")
        head = self._reading.read(_LENGTH)
        length = int.from_bytes(head, "little") if len(head) == _LENGTH else 0
        payload = self._reading.read(length) if length else b""
        if not length or len(payload) != length:  # the copy ended without sending it whole: it failed
            self._reap()
            return None
        return (pickle.loads(payload),)

    def _reap(self) -> None:
        """The pipe closed and the copy waited for (a copy whose exit says it failed is only reaped)."""
        reading, self._reading = self._reading, None
        try:
            if reading is not None:
                reading.close()
        finally:
            if self._pid is not None:
                pid, self._pid = self._pid, None
                os.waitpid(pid, 0)

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
                self._pipe = None
            self._reap()
        self._function, self._args, self._here = None, (), None

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


def start_in_turn(function: Callable, *args, beside: bool = True) -> Pending:
    """As ``start``, for a generator `function`: its values are sent back each as soon as it is made,
    and ``result(k)`` gives the k-th (waiting for it, and only for it)."""
    return Pending(function, args, beside, in_turn=True)
