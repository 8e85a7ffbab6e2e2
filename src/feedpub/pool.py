"""Work on untrusted files in child processes, each item under a wall-clock budget.

Parsing an article (front matter, Markdown, raw HTML) costs time linear in its size by
design. As a safety net behind that design, the work runs in worker processes: a worker that
spends longer than the budget on one item is killed (SIGKILL, not a check between stages)
and replaced, the item is reported as failed, and every other item goes on. A worker that
dies (a crash in a C library, the kernel's OOM killer) is handled the same way. The parent
only waits on pipes, so a daemon's server threads keep answering while workers parse.

Workers die with their parent: each asks the kernel for SIGKILL when its parent goes
(``PR_SET_PDEATHSIG``), and an idle one exits when its pipe closes. So a ``kill -9`` of a
build leaves no process behind.

Two ways to start workers: ``fork`` (cheap, for a single-threaded process such as a one-shot
``feedpub build``) and ``spawn`` (a fresh interpreter, for a process with threads, where a
forked child could inherit a lock held by another thread). ``auto`` picks ``fork`` when the
process has one thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, Literal, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
StartMethod = Literal["auto", "fork", "spawn"]

_PR_SET_PDEATHSIG = 1
_PRELOAD = ("feedpub.articles.parse", "feedpub.articles.body", "yaml", "pyromark", "nh3")
_FD_ENV = "FEEDPUB_WORKER_FD"
_READY = "ready"  # a worker's first message: the time budget starts counting after it
STARTUP_SECONDS = 120.0  # a worker that is not ready by then is taken for dead
_PARENT_ENV = "FEEDPUB_WORKER_PARENT"


@dataclass(frozen=True, slots=True)
class Failed:
    """An item whose work did not finish: it ran past the budget, or its worker died."""

    reason: str


class Cancelled(Exception):
    """The caller asked to stop; every worker was stopped."""


def die_with_parent(parent: int) -> None:
    """Ask for SIGKILL when the parent goes (Linux); exit now if it has gone already."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _serve(conn: Connection) -> None:
    """A worker's life: say it is ready, then run (function, items) batches, one result
    message per item."""
    conn.send(_READY)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, items = message
        for i, item in enumerate(items):
            try:
                result: tuple[str, Any] = ("ok", fn(item))
            except Exception as e:  # reported as the item's failure; the worker goes on
                result = ("error", f"{type(e).__name__}: {e}")
            conn.send((i, result))


def spawned_main() -> None:
    """The entry point of a spawned worker (``python -c``)."""
    die_with_parent(int(os.environ[_PARENT_ENV]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    conn = Connection(int(os.environ[_FD_ENV]))
    for name in _PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(name)
    _serve(conn)


@dataclass(slots=True)
class _Worker:
    conn: Connection
    pid: int
    proc: subprocess.Popen[bytes] | None = None  # spawned ones
    batch: list[int] = field(default_factory=list)  # item indices sent, not yet answered
    started: float = 0.0  # when the item at batch[0] started (or the worker, until ready)
    ready: bool = False

    def kill(self) -> int | None:
        """Kill the worker (if it still runs); its exit code (negative: a signal)."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        code = self.reap()
        with contextlib.suppress(OSError):
            self.conn.close()
        return code

    def reap(self) -> int | None:
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return self.proc.wait(5)
            return None
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status)


class Pool(Generic[T, R]):
    """Worker processes for one kind of work. Not thread-safe: one caller at a time."""

    def __init__(
        self,
        size: int,
        *,
        budget: float,
        start: StartMethod = "auto",
        chunk: int = 32,
    ) -> None:
        self.size = max(1, size)
        self.budget = budget
        self.start = start
        self.chunk = max(1, chunk)
        self._idle: list[_Worker] = []

    # -- workers ---------------------------------------------------------------------------

    def _method(self) -> Literal["fork", "spawn"]:
        if self.start == "auto":
            return "fork" if threading.active_count() == 1 else "spawn"
        return self.start

    def _new_worker(self) -> _Worker:
        parent_end, child_end = socket.socketpair()
        parent = os.getpid()
        if self._method() == "fork":
            pid = os.fork()
            if pid == 0:  # the child
                try:
                    keep = child_end.fileno()
                    # nothing of the parent's: its locks, database, sockets, other workers
                    os.closerange(3, keep)
                    os.closerange(keep + 1, _max_fd())
                    die_with_parent(parent)
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    _serve(Connection(child_end.detach()))
                finally:
                    os._exit(0)
            child_end.close()
            return _Worker(conn=Connection(parent_end.detach()), pid=pid)
        fd = child_end.fileno()
        proc = subprocess.Popen(
            [sys.executable, "-c", "from feedpub.pool import spawned_main; spawned_main()"],
            pass_fds=(fd,),
            env={**os.environ, _FD_ENV: str(fd), _PARENT_ENV: str(parent)},
            stdin=subprocess.DEVNULL,
        )
        child_end.close()
        return _Worker(conn=Connection(parent_end.detach()), pid=proc.pid, proc=proc)

    def _take(self) -> _Worker:
        return self._idle.pop() if self._idle else self._new_worker()

    def close(self) -> None:
        """Stop every worker (idle ones are asked; they are gone when this returns)."""
        for w in self._idle:
            with contextlib.suppress(OSError):
                w.conn.send(None)
            with contextlib.suppress(OSError):
                w.conn.close()
            w.reap()
        self._idle.clear()

    def __enter__(self) -> Pool[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running ---------------------------------------------------------------------------

    def run(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[tuple[int, R | Failed]]:
        """``fn`` on every item, in worker processes: yields (index, result) as results come,
        in no fixed order. An item that takes longer than the budget, or whose worker dies,
        yields :class:`Failed`. ``should_stop`` is polled at least every 0.1 s; when it says
        so, every worker is killed and :class:`Cancelled` raised. ``fn`` must be a function
        defined at module level (workers import it by name)."""
        todo = list(range(len(items)))[::-1]  # a stack: pop() gives the next index
        busy: dict[Connection, _Worker] = {}

        def send(w: _Worker, indices: list[int]) -> None:
            w.batch = indices
            w.started = time.monotonic()  # (for a new worker: when it started)
            w.conn.send((fn, [items[i] for i in indices]))
            busy[w.conn] = w

        def feed(w: _Worker) -> None:
            batch = [todo.pop() for _ in range(min(self.chunk, len(todo)))]
            send(w, batch)

        def replace(w: _Worker, why: str | None) -> tuple[int, Failed]:
            """The item ``w`` was on failed: kill ``w``, give the rest to a new worker.
            ``why`` None: the worker died by itself (the reason is how)."""
            del busy[w.conn]
            code = w.kill()
            failed, rest = w.batch[0], w.batch[1:]
            if rest:
                send(self._new_worker(), rest)
            return failed, Failed(why or f"the worker processing it died ({_exit_text(code)})")

        try:
            while todo and len(busy) < self.size:
                feed(self._take())
            while busy:
                if should_stop():
                    raise Cancelled
                now = time.monotonic()
                for w in list(busy.values()):
                    if now - w.started > (self.budget if w.ready else STARTUP_SECONDS):
                        yield replace(w, f"took longer than {self.budget:g} s; stopped")
                ready = wait(list(busy), timeout=0.1)
                for conn in ready:
                    w = busy[cast(Connection, conn)]
                    try:
                        message = w.conn.recv()
                    except (EOFError, OSError):
                        yield replace(w, None)
                        continue
                    if message == _READY:
                        w.ready = True
                        w.started = time.monotonic()
                        continue
                    _, (status, value) = message
                    index = w.batch.pop(0)  # a worker answers for its items in order
                    w.started = time.monotonic()
                    if status == "ok":
                        yield index, value
                    else:
                        yield index, Failed(value)
                    if not w.batch:
                        del busy[cast(Connection, conn)]
                        if todo:
                            feed(w)
                        else:
                            self._idle.append(w)
        except BaseException:
            for w in busy.values():
                w.kill()
            busy.clear()
            raise


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        return 65536


def _exit_text(code: int | None) -> str:
    if code is None:
        return "it exited"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"
