"""Listening: :func:`bind` a socket (errors that say what is wrong with the address), and
:func:`make_server`, a uvicorn server with feedpub's protocol (:mod:`feedpub.server.protocol`)
and signal handling. Another server (the admin listener) may run beside it on the same event
loop, started and stopped with it (``server.beside(other, sock)``)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from feedpub.config import ServerConfig
from feedpub.errors import ServerError, one_line
from feedpub.server.asgi import Application
from feedpub.server.protocol import AnswerNow, ClientCounts, limited_protocol

if TYPE_CHECKING:  # (uvicorn is imported when a server is made, not with this module)
    import uvicorn

_BIND_ERRORS = {
    errno.EADDRINUSE: "the port is in use (another process listens on it)",
    errno.EADDRNOTAVAIL: "not an address of this machine",
    errno.EACCES: "permission denied (a port below 1024 needs privileges)",
}


def bind(host: str, port: int, *, where: str = "[server] host and port") -> socket.socket:
    """A listening socket on host:port (port 0: any free port). IPv6 hosts work too. A name
    that does not resolve, an address that is not this machine's, a port in use: a
    :class:`ServerError` saying so, and where the address came from (``where``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not 0 <= port <= 65535:
        raise ServerError(f"cannot listen on {shown} ({where}): a port is 0 to 65535")
    try:  # ("" is every address, as it always was)
        address = socket.getaddrinfo(
            host or None, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )[0][4]
    except socket.gaierror as e:
        raise ServerError(
            f"cannot listen on {shown} ({where}): the name {host!r} does not resolve "
            f"({one_line(e.strerror or e)})"
        ) from e
    except (OSError, UnicodeError, OverflowError) as e:
        raise ServerError(f"cannot listen on {shown} ({where}): {one_line(e)}") from e
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        reason = _BIND_ERRORS.get(e.errno or 0) or one_line(e.strerror or e)
        raise ServerError(f"cannot listen on {shown} ({where}): {reason}") from e
    sock.set_inheritable(True)
    return sock


def make_server(
    app: Application,
    sock: socket.socket,
    limits: ServerConfig | None = None,
    *,
    max_connections: int = 4096,
    answer_now: AnswerNow | None = None,
    counts: ClientCounts | None = None,
) -> Any:  # (a uvicorn.Server: callers set early_stop on it, tests replace capture_signals)
    """A uvicorn server for ``app`` on ``sock`` (run it with ``server.run(sockets=[sock])``),
    holding clients to ``limits`` (``[server]`` in the config); ``max_connections`` in all.
    ``answer_now``: what the protocol answers without calling ``app``
    (:meth:`feedpub.server.App.answer_now`), the very answers ``app`` gives; ``counts``:
    where clients' connections are counted (shared by the serving processes)."""
    limits = limits or ServerConfig()
    import uvicorn

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover (not on every platform)
        loop = "asyncio"
    config = uvicorn.Config(
        app,
        loop=loop,
        http=limited_protocol(limits, answer_now, counts),
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=15,  # (the head timeout, set per connection)
        timeout_graceful_shutdown=3,
        limit_concurrency=max_connections,
        ws="none",  # no WebSockets: a request asking to upgrade is an HTTP request
    )
    return _server_class()(config)


def _server_class() -> type[uvicorn.Server]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, with feedpub's own signal handling.

        uvicorn re-raises SIGTERM after a graceful shutdown, so the process would end "killed
        by SIGTERM"; a service manager wants exit status 0. The first SIGTERM or SIGINT stops
        the server gracefully, a second one forces it.
        """

        early_stop: threading.Event | None = None  # set: stop as soon as the server started
        # the signals that stop it while it serves (the preview adds SIGHUP: a closed terminal)
        stop_signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
        # called on the event loop as the shutdown begins, before uvicorn waits for the open
        # connections: what holds a response open (the preview's event streams) ends it there
        before_shutdown: Callable[[], None] | None = None

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if self.before_shutdown is not None:
                self.before_shutdown()
            await super().shutdown(sockets)

        signals = True  # False: a server run beside another, which handles the signals
        companions: list[tuple[uvicorn.Server, socket.socket]]

        def beside(self, other: uvicorn.Server, sock: socket.socket) -> None:
            """Serve ``other`` (made by :func:`make_server`) on ``sock`` beside this one, on
            the same event loop: it starts with this one and stops when this one stops."""
            other.signals = False  # type: ignore[attr-defined]
            self.companions = [*getattr(self, "companions", []), (other, sock)]

        async def serve(self, sockets: list[socket.socket] | None = None) -> None:
            with self.capture_signals():
                others = getattr(self, "companions", [])
                tasks = [asyncio.ensure_future(o.serve(sockets=[s])) for o, s in others]
                try:
                    await self._serve(sockets)
                finally:
                    for other, _ in others:
                        other.should_exit = True
                    if tasks:
                        await asyncio.gather(*tasks, return_exceptions=True)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if not self.signals:
                yield
                return

            def handle(signum: int, frame: object) -> None:
                if self.should_exit:
                    self.force_exit = True
                self.should_exit = True

            previous = {sig: signal.signal(sig, handle) for sig in self.stop_signals}
            early = self.early_stop
            if early is not None and early.is_set():  # asked to stop while starting up
                self.should_exit = True
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server
