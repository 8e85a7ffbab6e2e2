"""uvicorn's httptools protocol, held to the ``[server]`` limits (:func:`limited_protocol`):
connections per client, deadlines for a request's head and body and for a reader to take
its answer, the size of a request head, how many pipelined requests wait; and its shortcut:
a ``GET`` or ``HEAD`` of a file held in memory answered from the parser's callback, without
the ASGI machinery (:data:`AnswerNow`)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import struct
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from feedpub.config import ServerConfig
from feedpub.server.asgi import Receive, Scope, Send, respond
from feedpub.server.resources import Headers, Reply

if TYPE_CHECKING:  # (uvicorn is imported when a server is made, not with this module)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_HEAD_BYTES = 16 * 1024  # request line and headers; a feed reader sends well under 2 KB

# (head only: a HEAD; the URL path; the request headers, names in lower case) -> the answer,
# or None: the request takes the ASGI path (:meth:`feedpub.server.App.answer_now`)
AnswerNow = Callable[[bool, str, Headers], Reply | None]


def _raw_response(status: bytes, text: bytes, *extra: bytes) -> bytes:
    """A whole response, written straight to a connection that is about to be closed."""
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"x-content-type-options: nosniff\r\n",
            b"content-length: " + str(len(text)).encode() + b"\r\n",
            *(line + b"\r\n" for line in extra),
            b"connection: close\r\n\r\n",
            text,
        ]
    )


_TOO_MANY = _raw_response(
    b"503 Service Unavailable", b"too many connections from your address\n", b"retry-after: 5"
)
_TIMED_OUT = _raw_response(b"408 Request Timeout", b"the request did not arrive in time\n")
_HEAD_TOO_LARGE = _raw_response(
    b"431 Request Header Fields Too Large", b"the request head is too large\n"
)


async def _head_too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request whose head passed :data:`MAX_HEAD_BYTES` (then the connection
    closes), in its turn after the answers to requests before it on the connection."""
    await respond(send, 431, b"the request head is too large\n", [(b"connection", b"close")])


def client_key(address: str, trusted: Iterable[Network]) -> str | None:
    """Which client ``address`` (a peer's IP address) counts as for the per-client bound, or
    None if it is a trusted proxy's. IPv4-mapped IPv6 addresses are their IPv4 address; IPv6
    clients count by their /64, the smallest network a site is given (one host may use many
    addresses in it)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in trusted):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        return f"{ipaddress.IPv6Address(int(ip) >> 64 << 64)}/64"
    return str(ip)


if sys.platform == "linux":
    import fcntl
    import termios

    _SIOCOUTQ: int | None = termios.TIOCOUTQ  # the same request as SIOCOUTQ
else:  # pragma: no cover
    _SIOCOUTQ = None


def _unsent(transport: asyncio.Transport) -> int:
    """Bytes written to ``transport`` that the peer has not acknowledged yet: those waiting
    in the event loop and, on Linux, those in the socket's send queue (which can hold
    megabytes: whether a reader keeps taking shows there first)."""
    size = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if _SIOCOUTQ is not None and sock is not None:
        with contextlib.suppress(OSError, ValueError):
            size += struct.unpack("i", fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0" * 4))[0]
    return size


class ClientCounts:
    """Connections open per client key, in this process (:func:`limited_protocol`'s own; the
    serving processes share one: :class:`feedpub.server.processes.SharedCounts`)."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def take(self, key: str, most: int) -> bool:
        """Count one more connection of ``key``'s, unless it has ``most`` open already."""
        count = self._open.get(key, 0)
        if count >= most:
            return False
        self._open[key] = count + 1
        return True

    def give(self, key: str) -> None:
        """One connection of ``key``'s closed."""
        left = self._open[key] - 1
        if left:
            self._open[key] = left
        else:
            del self._open[key]


MAX_PIPELINED = 8  # requests queued on a connection before it stops being read
MAX_PIPELINED_IN_ONE_READ = 32  # ... and before it is closed (one read can hold many): with
# 4096 connections in all, what pipelining can queue stays within a few hundred MB


def limited_protocol(
    limits: ServerConfig, answer_now: AnswerNow | None = None, counts: ClientCounts | None = None
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, held to ``limits`` so that no client can tie the server up,
    answering what ``answer_now`` answers from the parser's callback (its shortcut); clients'
    connections are counted in ``counts`` (default: a count of this server's own).

    * At most ``max_connections_per_client`` connections at once from one address (one /64 in
      IPv6), proxies in ``trusted_proxies`` exempt: one more gets ``503`` and is closed, so one
      client holding idle connections never fills the server for the others.
    * A request head must arrive, whole, within ``header_timeout_seconds`` of the connection
      being accepted or of the previous answer being sent (idle keep-alive included); a
      connection that sends nothing is closed then, one that sent part of a head gets ``408``.
    * A request body must arrive within ``body_timeout_seconds`` of its head, or ``408``.
    * A reader that takes nothing of an answer for ``send_timeout_seconds`` is dropped.
    * Every request head on a connection (pipelined, kept-alive, ``HEAD`` or the hub's) is
      held to :data:`MAX_HEAD_BYTES`: ``431``, then the connection closes.

    The deadlines are one timer per connection phase, armed and cancelled when a phase
    begins or ends (never per read), and the head size is counted only when a read could
    hold a head that large: a plain ``GET`` costs nothing more than under plain uvicorn.

    The shortcut: when ``answer_now`` has the answer to a ``GET`` or ``HEAD`` (a file held in
    memory), it is written at once, status line, ``date``, headers and body in one write,
    the very bytes the ASGI path would send, without a scope, a task or ASGI messages: most
    of what a request costs in Python. Every limit above holds for it too (it is answered
    where the ASGI path would start its task, after the head's checks), and it steps aside
    whenever the ASGI path must decide: see ``_answered_now``.
    """
    import httptools
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

    trusted = tuple(ipaddress.ip_network(n, strict=False) for n in limits.trusted_proxies)
    max_per_client = limits.max_connections_per_client
    head_timeout = limits.header_timeout_seconds
    body_timeout = limits.body_timeout_seconds
    send_timeout = limits.send_timeout_seconds
    open_per_client = counts or ClientCounts()  # (called from one event loop)
    warned = [-1e9]  # when the per-client bound was last logged (not more than once a minute)
    # uvicorn's default headers (``date``) as bytes, made again when uvicorn replaces them
    # (once a second): [(the list they were made from, the bytes)]
    default_head: list[tuple[object, bytes]] = [(None, b"")]

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        _client: str | None = None  # the key counted in open_per_client
        _refused = False  # closed at once: over the per-client bound
        _head_started = False  # a request head has begun and is not complete yet
        _head_carry = 0  # its bytes in reads after the one it began in (-1: began in this one)
        _read_size = 0  # the size of the read being parsed
        _in_body = False  # a request head is complete, its body is not
        _body_timer: asyncio.TimerHandle | None = None
        _send_timer: asyncio.TimerHandle | None = None
        _answered = False  # the request being parsed was answered by the shortcut

        # -- connections: the per-client bound, the first head deadline ----------------------

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            peer = transport.get_extra_info("peername")
            key = client_key(peer[0], trusted) if isinstance(peer, tuple) else None
            if key is not None:
                if not open_per_client.take(key, max_per_client):
                    self._refused = True
                    self._refuse_client(transport, key)
                    return
                self._client = key
            super().connection_made(transport)
            # pause_writing as soon as anything waits in user space: a stalled reader is
            # noticed whatever the size of the answer it does not take
            self.transport.set_write_buffer_limits(high=0)
            # the first head's deadline; uvicorn arms the next ones (its keep-alive timer,
            # which here is never cancelled by a read, only by a complete head)
            self.timeout_keep_alive = head_timeout  # type: ignore[assignment]
            self.timeout_keep_alive_task = self.loop.call_later(
                head_timeout, self.timeout_keep_alive_handler
            )

        def _refuse_client(self, transport: asyncio.Transport, key: str) -> None:
            now = self.loop.time()
            if now - warned[0] >= 60:
                warned[0] = now
                log.warning(
                    "refusing connections from %s: it has %d open "
                    "(server.max_connections_per_client; a reverse proxy belongs in "
                    "server.trusted_proxies)",
                    key,
                    max_per_client,
                )
            transport.write(_TOO_MANY)
            transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            key = self._client
            if key is not None:
                self._client = None
                open_per_client.give(key)
            for timer in (self._body_timer, self._send_timer):
                if timer is not None:
                    timer.cancel()
            self._body_timer = self._send_timer = None
            super().connection_lost(exc)

        # -- reading: head size, the body deadline ---------------------------------------------

        def data_received(self, data: bytes) -> None:
            # uvicorn's, except that a read does not cancel the head deadline
            self._read_size = len(data)
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:  # answered as plain HTTP: no WebSockets here
                log.debug("a request asked to upgrade its connection (not supported)")
            except httptools.HttpParserError:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
                return
            if self._head_started:  # a head is still incomplete at the end of this read
                if self._head_carry < 0:
                    # it began in this read, after its last blank line (a head has none)
                    end = data.rfind(b"\r\n\r\n")
                    self._head_carry = len(data) - (end + 4 if end >= 0 else 0)
                else:
                    self._head_carry += len(data)
                if self._head_carry > MAX_HEAD_BYTES:
                    self._refuse_head()
            elif self._in_body and self._body_timer is None:
                self._body_timer = self.loop.call_later(body_timeout, self._body_timed_out)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_started = True
            self._head_carry = -1
            self._answered = False

        def on_headers_complete(self) -> None:
            self._head_started = False
            self._in_body = True
            self._unset_keepalive_if_required()  # the head came in time
            # a read no larger than the limit cannot hold a head over it: only a larger read
            # (or a head spread over several) is worth measuring
            if (
                max(self._head_carry, 0) + self._read_size > MAX_HEAD_BYTES
                and self._head_size() > MAX_HEAD_BYTES
            ):
                # refused whatever it asked for (httptools cannot parse a URL over 64 KB)
                self.url = b"/"
                app, self.app = self.app, _head_too_large
                try:
                    super().on_headers_complete()
                finally:
                    self.app = app
                return
            # uvicorn queues pipelined requests without a bound (and reads on after every
            # answer): a client sending requests it never reads answers to would fill memory.
            # Past a bound the connection is no longer read; one read can hold thousands of
            # requests, so past a second one the rest are dropped and the connection closed.
            if len(self.pipeline) >= MAX_PIPELINED_IN_ONE_READ:
                if not self.transport.is_closing():
                    self.transport.close()
                return
            if answer_now is not None and self._answered_now(answer_now):
                return
            super().on_headers_complete()
            if len(self.pipeline) >= MAX_PIPELINED:
                self.flow.pause_reading()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if len(self.pipeline) >= MAX_PIPELINED // 2:
                self.flow.pause_reading()  # (uvicorn resumed reading)

        def _head_size(self) -> int:
            """The request line and header fields as parsed (whitespace around them aside)."""
            return len(self.url) + sum(len(k) + len(v) + 4 for k, v in self.headers)

        def _refuse_head(self) -> None:
            """A head passed the limit before it was complete: ``431`` and close, or, when an
            earlier request on the connection is still being answered, close after that."""
            self._head_started = False
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                cycle.keep_alive = False
                self.flow.pause_reading()
                return
            self.transport.write(_HEAD_TOO_LARGE)
            self.transport.close()

        def on_body(self, body: bytes) -> None:
            if not self._answered:  # (a GET's body, once answered: nothing reads it)
                super().on_body(body)

        def on_message_complete(self) -> None:
            self._in_body = False
            if self._body_timer is not None:
                self._body_timer.cancel()
                self._body_timer = None
            if not self._answered:
                super().on_message_complete()

        # -- the shortcut ---------------------------------------------------------------------

        def _answered_now(self, answer: AnswerNow) -> bool:
            """Answer the request whose head is complete here and now, if ``answer`` has its
            answer, as the ASGI path would; or return False, and it takes that path. It
            does: anything but a ``GET`` or ``HEAD`` of an origin-form path (no query, no
            ``%``, ASCII), HTTP/1.0, ``Connection: close`` and upgrades (uvicorn closes the
            connection after the answer), a request behind one not answered yet on this
            connection (pipelined answers go in order), a reader that has not taken what
            it was sent (the ASGI path waits for it), a server at ``limit_concurrency``
            (uvicorn answers ``503``)."""
            cycle = self.cycle
            limit = self.limit_concurrency
            if (
                (cycle is not None and not cycle.response_complete)
                or self.pipeline
                or self.flow.write_paused
                or (limit is not None and len(self.connections) >= limit)
                or (limit is not None and len(self.tasks) >= limit)
            ):
                return False
            parser = self.parser
            method = parser.get_method()
            url: bytes = self.url
            if (
                method not in (b"GET", b"HEAD")
                or url[:1] != b"/"
                or url[:2] == b"//"
                or b"?" in url
                or b"%" in url
                or not url.isascii()
                or parser.get_http_version() != "1.1"
                or not parser.should_keep_alive()
                or parser.should_upgrade()
            ):
                return False
            head_only = method == b"HEAD"
            reply = answer(head_only, url.decode("ascii"), self.headers)
            if reply is None:
                return False
            defaults = self.server_state.default_headers
            if defaults is not default_head[0][0]:
                default_head[0] = (defaults, b"".join(k + b": " + v + b"\r\n" for k, v in defaults))
            head = STATUS_LINE[reply.status] + default_head[0][1] + reply.head
            if head_only or not reply.body:
                self.transport.write(head)
            else:  # (one writev: the body is not copied)
                self.transport.writelines((head, reply.body))
            self._answered = True
            self.on_response_complete()
            return True

        # -- deadlines ------------------------------------------------------------------------

        def timeout_keep_alive_handler(self) -> None:
            """No complete head in time: close; ``408`` if part of one came."""
            self.timeout_keep_alive_task = None
            if self.transport.is_closing():
                return
            if self._head_started:
                self.transport.write(_TIMED_OUT)
            self.transport.close()

        def _body_timed_out(self) -> None:
            self._body_timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if not self._answered and (cycle is None or not cycle.response_started):
                self.transport.write(_TIMED_OUT)
            self.transport.close()

        # -- writing: a reader must keep taking ------------------------------------------------

        def pause_writing(self) -> None:
            super().pause_writing()
            if self._send_timer is None:
                self._arm_send_timer(_unsent(self.transport))

        def resume_writing(self) -> None:
            super().resume_writing()
            if self._send_timer is not None:
                self._send_timer.cancel()
                self._send_timer = None

        def _arm_send_timer(self, unsent: int) -> None:
            self._send_timer = self.loop.call_later(send_timeout, self._send_stalled, unsent)

        def _send_stalled(self, unsent: int) -> None:
            """``send_timeout`` after the reader stopped keeping up: still taking, wait
            again; taken nothing meanwhile, drop the connection (and what it did not take)."""
            self._send_timer = None
            if not self.transport.get_write_buffer_size():
                return
            left = _unsent(self.transport)
            if left < unsent:
                self._arm_send_timer(left)
                return
            self.transport.abort()

    return LimitedHttpToolsProtocol
