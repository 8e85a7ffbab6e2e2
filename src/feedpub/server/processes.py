"""More than one process serving the one listening socket (``[server] processes``).

The daemon's own process builds, leads, notifies, runs the hub and the admin listener, and
serves; ``processes - 1`` more processes serve the same socket beside it (the kernel gives
each new connection to a process that accepts it), each its own interpreter, started as the
build workers are (:mod:`feedpub.pool`: a fresh ``python``, killed with its parent). Each
holds its own :class:`~feedpub.server.store.Store`, loaded from the output folder, and is
handed every change the daemon's store is (:meth:`ServingProcesses.update`,
:meth:`~ServingProcesses.sync`: the same calls, so the same files from the same folder); the
daemon waits until each has taken a change before its build is done, so no process serves an
older feed than another once a build is over.

What only the daemon's process can answer, the others relay to it over a Unix socket in a
folder of its own (:class:`Relay`): ``/healthz`` (the build loop's state) and the hub's
``POST /hub``. Clients' connections are counted across every process (:class:`SharedCounts`),
so ``max_connections_per_client`` holds for the server as a whole; the connections in all are
shared evenly; each process counts the requests it answers and sends the counts to the daemon
every second (``/metrics``); an access log line is written by the process that answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import http.client
import json
import logging
import mmap
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from feedpub import logs
from feedpub.config import ServerConfig
from feedpub.errors import one_line
from feedpub.metrics import NO_METRICS, Metrics
from feedpub.pool import die_with_parent
from feedpub.render import Links
from feedpub.server.asgi import Receive, Scope, Send, read_body, respond
from feedpub.server.protocol import ClientCounts

log = logging.getLogger(__name__)

READY_SECONDS = 60.0  # for a serving process to start and load the served files
ACK_SECONDS = 30.0  # for every serving process to take a change (then the build goes on)
STOP_SECONDS = 10.0  # for a serving process to finish its answers and exit; then SIGKILL
FLUSH_SECONDS = 1.0  # a serving process sends its request counts this often
RELAY_SECONDS = 30.0  # for the daemon's process to answer a relayed request
_ENV = "FEEDPUB_SERVING_FDS"  # listening socket, pipe, shared counts
_PARENT_ENV = "FEEDPUB_SERVING_PARENT"


# -- connections per client, counted across processes ---------------------------------------

_SLOT = struct.Struct("=QQQ")  # a client key's digest (two words, never both 0), its count


class SharedCounts(ClientCounts):
    """Open connections per client key, in a table every serving process maps (a memfd the
    children inherit), locked with a POSIX record lock (held per process, so the processes
    exclude each other). Linear probing, entries removed when their count drops to 0 (by
    shifting back the ones after them: no tombstones, probes stay short); ``slots`` at least
    twice the connections the server takes in all keeps the table at most half full."""

    def __init__(self, slots: int, fd: int | None = None) -> None:
        self.slots = slots
        if fd is None:
            fd = os.memfd_create("feedpub-clients", 0)
            os.ftruncate(fd, slots * _SLOT.size)
        self.fd = fd
        self._map = mmap.mmap(fd, slots * _SLOT.size)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)

    def _read(self, i: int) -> tuple[int, int, int]:
        hi, lo, count = _SLOT.unpack_from(self._map, i * _SLOT.size)
        return hi, lo, count

    def _write(self, i: int, hi: int, lo: int, count: int) -> None:
        _SLOT.pack_into(self._map, i * _SLOT.size, hi, lo, count)

    def _find(self, key: str) -> tuple[int, int, int, int]:
        """(slot, digest hi, digest lo, count): the key's slot, or the empty one where it goes."""
        hi, lo = struct.unpack("=QQ", hashlib.blake2b(key.encode(), digest_size=16).digest())
        hi |= 1
        i = lo % self.slots
        for _ in range(self.slots):
            h, low, count = self._read(i)
            if (h, low) == (hi, lo) or not h:
                return i, hi, lo, count if h else 0
            i = (i + 1) % self.slots
        raise RuntimeError("the table of clients' connections is full")  # (never half full)

    def take(self, key: str, most: int) -> bool:
        with self._locked():
            i, hi, lo, count = self._find(key)
            if count >= most:
                return False
            self._write(i, hi, lo, count + 1)
            return True

    def give(self, key: str) -> None:
        with self._locked():
            i, hi, lo, count = self._find(key)
            if count > 1:
                self._write(i, hi, lo, count - 1)
                return
            if not count:
                return
            j = i  # remove it: move back each later entry of the run that may sit in its place
            for _ in range(self.slots):
                j = (j + 1) % self.slots
                h, low, c = self._read(j)
                if not h:
                    break
                home = low % self.slots
                if (i < home <= j) if i <= j else (home > i or home <= j):
                    continue  # (its probe starts after the hole: it stays)
                self._write(i, h, low, c)
                i = j
            self._write(i, 0, 0, 0)


# -- what only the daemon's process answers ------------------------------------------------


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


_NOT_RELAYED = frozenset(
    {b"host", b"content-length", b"transfer-encoding", b"expect", b"connection"}
)
_NOT_RELAYED_BACK = frozenset({"date", "transfer-encoding", "content-length"})


class Relay:
    """``/healthz`` and the hub's endpoint, asked of the daemon's process over its Unix
    socket (``path``) by a serving process that cannot answer them itself."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _ask(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = _UnixConnection(self.path, RELAY_SECONDS)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            conn.putheader("host", "localhost")
            for name, value in headers:
                conn.putheader(name, value)
            conn.putheader("content-length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()

    def health(self) -> Mapping[str, object]:
        """The daemon's ``/healthz`` (blocking: the app calls it from a worker thread)."""
        try:
            _, _, body = self._ask("GET", "/healthz", [], b"")
            answer: dict[str, object] = json.loads(body)
        except (OSError, http.client.HTTPException, ValueError) as e:
            return {
                "status": "unavailable",
                "reasons": [f"the daemon's process does not answer: {one_line(e)}"],
            }
        return answer

    async def hub(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The hub's endpoint (an ASGI app): the request, its body read whole (as the hub
        reads it, refused as the hub refuses one too large), and the hub's answer."""
        from feedpub.notify.hub import MAX_BODY, too_large

        body = await read_body(receive, MAX_BODY)
        if body is None:
            await too_large(send)
            return
        target = scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k not in _NOT_RELAYED
        ]
        loop = asyncio.get_running_loop()
        try:
            status, answer_headers, answer = await loop.run_in_executor(
                None, self._ask, scope["method"], target, headers, body
            )
        except (OSError, http.client.HTTPException) as e:
            log.error("the hub's endpoint did not answer a relayed request: %s", one_line(e))
            await respond(send, 503, b"the hub is not available\n", [(b"retry-after", b"5")])
            return
        out = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in answer_headers
            if k.lower() not in _NOT_RELAYED_BACK
        ]
        out.append((b"content-length", str(len(answer)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": answer})


def relay_socket() -> socket.socket:
    """A Unix socket, listening, in a new folder only this user may enter (both gone with
    :meth:`ServingProcesses.stop`)."""
    folder = tempfile.mkdtemp(prefix="feedpub-relay-")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.path.join(folder, "daemon.sock"))
    sock.listen(256)
    return sock


# -- the serving processes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """What a serving process is told when it starts (pickled over its pipe)."""

    root: Path  # the output folder
    limits: ServerConfig
    max_connections: int  # its share of the server's
    links: Links  # the Link headers of feeds
    redirects: Mapping[str, bytes]
    hub: bool  # the hub is on: POST /hub is relayed
    relay: str  # the daemon's Unix socket
    access_log: bool
    count: bool  # count requests for /metrics
    log_level: str
    log_format: str


@dataclass(slots=True)
class _Child:
    proc: subprocess.Popen[bytes]
    conn: Connection
    ready: bool = False
    acked: int = 0
    gone: bool = False
    reader: threading.Thread | None = field(default=None)


class ServingProcesses:
    """The ``count`` serving processes beside the daemon's own, on ``sock``; they relay to
    ``relay_sock`` (:func:`relay_socket`, served by the daemon's process)."""

    def __init__(
        self,
        count: int,
        sock: socket.socket,
        relay_sock: socket.socket,
        counts: SharedCounts,
        setup: Setup,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.count = count
        self.sock = sock
        self.relay_sock = relay_sock
        self.counts = counts
        self.setup = setup
        self.metrics = metrics
        self._children: list[_Child] = []
        self._changed = threading.Condition()
        self._sending = threading.Lock()  # (the build thread and the standby thread)
        self._sent = 0
        self._stopping = False

    def start(self) -> None:
        """Start them; return once each has loaded the served files (or gone)."""
        fds = (self.sock.fileno(), self.counts.fd)
        for _ in range(self.count):
            parent_end, child_end = socket.socketpair()
            env = {
                **os.environ,
                _ENV: f"{fds[0]},{child_end.fileno()},{fds[1]}",
                _PARENT_ENV: str(os.getpid()),
            }
            proc = subprocess.Popen(
                [sys.executable, "-c", "from feedpub.server.processes import main; main()"],
                pass_fds=(*fds, child_end.fileno()),
                env=env,
                stdin=subprocess.DEVNULL,
            )
            child_end.close()
            child = _Child(proc=proc, conn=Connection(parent_end.detach()))
            child.conn.send(self.setup)
            child.reader = threading.Thread(
                target=self._read, args=(child,), name="feedpub-serving", daemon=True
            )
            child.reader.start()
            self._children.append(child)
        self._wait(lambda c: c.ready, READY_SECONDS, "start")
        log.info(
            "%d more serving processes (pids %s)",
            self.count,
            ", ".join(str(c.proc.pid) for c in self._children),
        )

    def _read(self, child: _Child) -> None:
        """What a serving process says: ready, a change taken, its request counts."""
        while True:
            try:
                message = child.conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "requests":
                self.metrics.requests(message[1], message[2])
                continue
            with self._changed:
                if message[0] == "ready":
                    child.ready = True
                elif message[0] == "ack":
                    child.acked = message[1]
                self._changed.notify_all()
        with self._changed:
            child.gone = True
            self._changed.notify_all()
        if not self._stopping:
            code = child.proc.wait()
            log.error(
                "serving process %d exited (code %s); the other processes go on serving",
                child.proc.pid,
                code,
            )

    def _wait(self, done: Any, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                late = [c for c in self._children if not c.gone and not done(c)]
                left = deadline - time.monotonic()
                if not late or left <= 0:
                    break
                self._changed.wait(left)
        for c in late:
            log.error("serving process %d did not %s within %g s", c.proc.pid, what, seconds)

    def _tell(self, *command: Any) -> None:
        """Send a change to every serving process and wait until each has taken it."""
        with self._sending:
            self._sent += 1
            seq = self._sent
            for child in self._children:
                if not child.gone:
                    with contextlib.suppress(OSError):
                        child.conn.send((seq, *command))
            self._wait(lambda c: c.acked >= seq, ACK_SECONDS, "take a change to the files")

    def update(self, written: Iterable[str], removed: Iterable[str]) -> None:
        """:meth:`Store.update <feedpub.server.store.Store.update>`, in every process."""
        self._tell("update", tuple(written), tuple(removed))

    def sync(self, published: Mapping[str, str]) -> None:
        """:meth:`Store.sync <feedpub.server.store.Store.sync>`, in every process."""
        self._tell("sync", dict(published))

    def reconfigure(self, links: Links, redirects: Mapping[str, bytes]) -> None:
        """A reloaded config's Link headers and redirects, in every process."""
        self._tell("config", links, dict(redirects))

    def stop(self) -> None:
        """Ask each to stop (it finishes its answers), wait, kill those that do not."""
        self._stopping = True
        for child in self._children:
            with contextlib.suppress(OSError):
                child.conn.send(("stop",))
        deadline = time.monotonic() + STOP_SECONDS
        for child in self._children:
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("serving process %d did not stop: killed", child.proc.pid)
                child.proc.kill()
                child.proc.wait(5)
            child.conn.close()
            if child.reader is not None:
                child.reader.join(1)
        self._children.clear()
        folder = os.path.dirname(self.setup.relay)
        with contextlib.suppress(OSError):  # (uvloop may have closed it with its server)
            self.relay_sock.close()
        shutil.rmtree(folder, ignore_errors=True)


# -- inside a serving process ---------------------------------------------------------------


class _Counted(Metrics):
    """Requests answered, kept until sent to the daemon (:data:`FLUSH_SECONDS`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answered: dict[int, int] = {}
        self._bytes = 0

    def request(self, status: int, nbytes: int) -> None:
        with self._lock:
            self._answered[status] = self._answered.get(status, 0) + 1
            self._bytes += nbytes

    def take(self) -> tuple[dict[int, int], int]:
        with self._lock:
            taken = self._answered, self._bytes
            self._answered, self._bytes = {}, 0
        return taken


def main() -> None:
    """A serving process (``python -c``): serve the socket until the daemon says stop (or
    goes), taking each change to the served files as the daemon's store does."""
    from feedpub.server.app import App
    from feedpub.server.listen import make_server
    from feedpub.server.store import Store

    listen_fd, conn_fd, counts_fd = (int(x) for x in os.environ[_ENV].split(","))
    die_with_parent(int(os.environ[_PARENT_ENV]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # (a terminal's ^C: the daemon stops us)
    conn = Connection(conn_fd)
    setup: Setup = conn.recv()
    logs.setup(setup.log_level, setup.log_format)
    sock = socket.socket(fileno=listen_fd)
    store = Store(setup.root, setup.links.link_headers)
    store.load_all()
    counted = _Counted() if setup.count else None
    relay = Relay(setup.relay)
    app = App(
        store,
        relay.health,
        relay.hub if setup.hub else None,
        setup.redirects,
        metrics=counted or NO_METRICS,
        access_log=setup.access_log,
    )
    size = os.fstat(counts_fd).st_size // _SLOT.size
    server = make_server(
        app,
        sock,
        setup.limits,
        max_connections=setup.max_connections,
        answer_now=app.answer_now,
        counts=SharedCounts(size, counts_fd),
    )
    server.stop_signals = (signal.SIGTERM,)

    def control() -> None:
        """The daemon's changes, applied in order and acknowledged; the counts, sent."""
        next_flush = time.monotonic() + FLUSH_SECONDS
        while True:
            try:
                if conn.poll(max(0.0, next_flush - time.monotonic())):
                    message = conn.recv()
                    if message[0] == "stop":
                        break
                    seq, kind, *args = message
                    try:
                        if kind == "update":
                            store.update(args[0], args[1])
                        elif kind == "sync":
                            store.sync(args[0])
                        elif kind == "config":
                            store.links_for = args[0].link_headers
                            app.redirects = args[1]
                    except Exception:  # (as the daemon's own store: said, and served on)
                        log.exception("could not take a change to the served files")
                    conn.send(("ack", seq))
                if counted is not None and time.monotonic() >= next_flush:
                    answered, nbytes = counted.take()
                    if answered:
                        conn.send(("requests", answered, nbytes))
                if time.monotonic() >= next_flush:
                    next_flush = time.monotonic() + FLUSH_SECONDS
            except (EOFError, OSError):
                break
        server.should_exit = True

    threading.Thread(target=control, name="feedpub-control", daemon=True).start()
    conn.send(("ready",))
    server.run(sockets=[sock])
