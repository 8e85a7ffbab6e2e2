"""Real sockets: limits that hold for every connection and every request."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from feedpub.config import ServerConfig
from feedpub.server import App, bind, client_key, make_resource, make_server, respond
from tests.server_helpers import Client, Running, get, site_app


@pytest.fixture
def app(tmp_path: Path) -> App:
    return site_app(tmp_path)


async def echo_length(scope: Any, receive: Any, send: Any) -> None:
    """A stand-in for the hub: reads the whole body and answers with its length (after a
    pause when asked with ``?slow``)."""
    if scope["query_string"] == b"slow":
        await asyncio.sleep(0.3)
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await respond(send, 200, str(size).encode())


@pytest.fixture(params=["shortcut", "asgi"])
def serve(
    app: App, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Running]]:
    """``serve(**limits)``: ``app`` (with ``echo_length`` as its hub) on a real uvicorn server
    in a thread, held to ``ServerConfig(**limits)``; ``max_connections``: in all. Every test
    runs twice: with the protocol's shortcut (files held in memory answered from the parser's
    callback, as the daemon serves) and without it (every request through the ASGI app)."""
    started: list[tuple[Any, threading.Thread, socket.socket]] = []

    def _serve(max_connections: int = 4096, **limits: Any) -> Running:
        sock = bind("127.0.0.1", 0)
        served = App(app.store, app.health, echo_length)
        server = make_server(
            served,
            sock,
            ServerConfig(**limits),
            max_connections=max_connections,
            answer_now=served.answer_now if request.param == "shortcut" else None,
        )
        server.capture_signals = contextlib.nullcontext  # signals are the main thread's
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread, sock))
        running = Running(sock.getsockname()[1], server, clients)
        running.until(lambda: server.started, "the server to start")
        return running

    clients: list[Client] = []
    yield _serve
    for c in clients:
        c.close()
    for server, thread, sock in started:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_idle_and_incomplete_heads_are_closed_after_the_head_timeout(
    serve: Callable[..., Running],
) -> None:
    s = serve(header_timeout_seconds=0.4)
    silent, crlf, half, trickle = (s.client() for _ in range(4))
    crlf.send(b"\r\n")
    half.send(get()[:30])
    for i in range(3):  # a byte now and then never buys more time
        trickle.send(get()[i : i + 1])
        time.sleep(0.1)
    assert 0.05 < silent.wait_closed() < 2
    assert crlf.wait_closed() < 2
    assert half.response()[0] == 408
    assert half.wait_closed() < 1
    assert trickle.response()[0] == 408
    for c in (silent, crlf, half, trickle):
        c.close()

    # on a kept-alive connection: the next head must come in time too, whole
    kept = s.client()
    for _ in range(3):
        kept.send(get())
        assert kept.response()[0] == 200
    kept.send(get(method="HEAD")[:20])
    started = time.monotonic()
    assert kept.response(head=True)[0] == 408
    assert 0.2 < time.monotonic() - started < 2
    kept.close()
    idle = s.client()
    idle.send(get())
    assert idle.response()[0] == 200
    assert 0.2 < idle.wait_closed() < 2
    idle.close()
    s.until(lambda: s.connections() == 0, "every connection to close")


def test_a_body_must_arrive_within_the_body_timeout(serve: Callable[..., Running]) -> None:
    s = serve(header_timeout_seconds=5, body_timeout_seconds=0.4)
    post = "POST /hub HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n"
    whole = s.client()
    whole.send(post.format(5).encode() + b"hello")
    status, _, body = whole.response()
    assert (status, body) == (200, b"5")
    whole.close()

    stalled, trickle, ignored = s.client(), s.client(), s.client()
    stalled.send(post.format(100).encode() + b"x" * 10)  # stops mid-body
    trickle.send(post.format(100).encode())
    # a GET's body is never read, but it must end in time too
    ignored.send(get(**{"Content-Length": "100"}) + b"x")
    assert ignored.response()[0] == 200
    started = time.monotonic()
    for _ in range(3):  # a byte now and then never buys more time
        trickle.send(b"x")
        time.sleep(0.1)
    assert stalled.response()[0] == 408
    assert trickle.response()[0] == 408
    assert time.monotonic() - started < 1.5
    for c in (stalled, trickle, ignored):
        assert c.wait_closed() < 2
        c.close()
    s.until(lambda: s.connections() == 0, "every connection to close")


BIG = "x" * (100 * 1024)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/feeds/all.atom.xml"), ("HEAD", "/feeds/all.atom.xml"), ("POST", "/hub")],
)
def test_the_head_limit_holds_for_every_request_on_a_connection(
    serve: Callable[..., Running], method: str, path: str
) -> None:
    s = serve()
    head = method == "HEAD"

    def request(**headers: str) -> bytes:
        return get(path, method, **headers)

    near = request(**{"X-Pad": "p" * (15 * 1024)})  # just under 16 KB
    pipelined = s.client()
    pipelined.send(request() + near + request(**{"X-Big": BIG}))
    assert pipelined.response(head)[0] == 200
    assert pipelined.response(head)[0] == 200
    status, headers, _ = pipelined.response(head)
    assert status == 431
    assert headers["connection"] == "close"
    assert pipelined.wait_closed() < 2
    pipelined.close()

    # the same, over a kept-alive connection, the big head sent a piece at a time
    kept = s.client()
    kept.send(request())
    assert kept.response(head)[0] == 200
    big = request(**{"X-Big": BIG})
    with contextlib.suppress(ConnectionError):  # the server may close before the last piece
        for i in range(0, len(big), 4096):
            kept.send(big[i : i + 4096])
            time.sleep(0.001)
    assert kept.response(head)[0] == 431
    kept.close()

    # a first request with a big head, and a big URL
    for first in (
        request(**{"X-Big": BIG}),
        get(path + "?" + BIG, method),
        request(**{f"X-{i}": "v" * 100 for i in range(200)}),
    ):
        c = s.client()
        c.send(first)
        assert c.response(head)[0] == 431
        c.close()


def test_a_head_too_large_behind_an_unanswered_request(serve: Callable[..., Running]) -> None:
    """The answer to an earlier request still comes; then the connection closes."""
    s = serve()
    c = s.client()
    c.send(get("/hub?slow", "POST"))
    big = get(**{"X-Big": BIG})
    with contextlib.suppress(ConnectionError):
        for i in range(0, len(big), 4096):
            c.send(big[i : i + 4096])
            time.sleep(0.001)
    status, _, body = c.response()
    assert (status, body) == (200, b"0")
    assert c.wait_closed() < 2


def test_a_client_at_its_connection_limit_does_not_deny_others(
    serve: Callable[..., Running],
) -> None:
    """The probe: idle connections from one address filled the server, and uvicorn then
    answered 503 to everybody. One address now gets ``max_connections_per_client``."""
    s = serve(max_connections=6, max_connections_per_client=4)
    hog = [s.client("127.0.0.2") for _ in range(4)]
    s.until(lambda: s.connections() == 4, "the four connections")
    refused = [s.client("127.0.0.2") for _ in range(3)]
    for c in refused:
        status, headers, _ = c.response()
        assert status == 503
        assert headers["connection"] == "close"
        assert c.wait_closed() < 2
        c.close()
    for source in ("127.0.0.3", "127.0.0.4", "127.0.0.1"):
        other = s.client(source)
        other.send(get())
        assert other.response()[0] == 200
        other.close()
    # the hog's own connections still work, and a closed one makes room for a new one
    hog[0].send(get())
    assert hog[0].response()[0] == 200
    hog.pop().close()
    s.until(lambda: s.connections() <= 3, "the closed connection to be gone")
    again = s.client("127.0.0.2")
    again.send(get())
    assert again.response()[0] == 200
    for c in [*hog, again]:
        c.close()


def test_trusted_proxies_are_not_held_to_the_per_client_limit(
    serve: Callable[..., Running],
) -> None:
    s = serve(max_connections_per_client=2, trusted_proxies=("127.0.0.5", "127.0.1.0/24"))
    for source in ("127.0.0.5", "127.0.1.7"):
        clients = [s.client(source) for _ in range(5)]
        for c in clients:
            c.send(get())
        for c in clients:
            assert c.response()[0] == 200
            c.close()
    third = [s.client("127.0.0.6") for _ in range(3)]
    assert third[2].response()[0] == 503
    for c in third:
        c.close()


def test_a_reader_that_takes_nothing_is_dropped(serve: Callable[..., Running]) -> None:
    s = serve(send_timeout_seconds=0.4, header_timeout_seconds=5)
    store = s.server.config.app.store
    big = os.urandom(16 * 1024 * 1024)  # more than the socket buffers hold
    small = os.urandom(3 * 1024 * 1024)
    store.resources = {
        "/big.png": make_resource("big.png", big, 0),
        "/small.png": make_resource("small.png", small, 0),
    }
    with socket.socket() as reader:
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.settimeout(5)
        reader.connect(("127.0.0.1", s.port))
        reader.sendall(get("/big.png"))
        s.until(lambda: s.connections() == 1, "the connection")
        started = time.monotonic()
        s.until(lambda: s.connections() == 0, "the stalled connection to be dropped")
        assert time.monotonic() - started < 2
        received = 0
        with contextlib.suppress(ConnectionResetError):
            while chunk := reader.recv(65536):
                received += len(chunk)
        assert received < len(big)

    # a slow reader that keeps taking is not a stalled one
    with socket.socket() as slow:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(5)
        slow.connect(("127.0.0.1", s.port))
        slow.sendall(get("/small.png"))
        started, received = time.monotonic(), 0
        while time.monotonic() - started < 1.0:
            received += len(slow.recv(16384))
            time.sleep(0.01)
        while received < len(small) + 100:
            chunk = slow.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
        assert received > len(small)


def test_client_keys() -> None:
    """Whom a connection counts against: its address, IPv6 by /64, trusted proxies exempt."""
    nets = [ipaddress.ip_network("127.0.0.5"), ipaddress.ip_network("2001:db8:1::/48")]
    assert client_key("192.0.2.1", nets) == "192.0.2.1"
    assert client_key("::ffff:192.0.2.1", nets) == "192.0.2.1"
    assert client_key("2001:db8::1", nets) == client_key("2001:db8::ffff:2", nets)
    assert client_key("2001:db8::1", nets) == "2001:db8::/64"
    assert client_key("2001:db8:0:1::1", nets) == "2001:db8:0:1::/64"
    assert client_key("fe80::1%eth0", nets) == "fe80::/64"
    assert client_key("127.0.0.5", nets) is None
    assert client_key("::ffff:127.0.0.5", nets) is None
    assert client_key("2001:db8:1:2::3", nets) is None


def test_pipelined_requests_never_read_cannot_fill_memory(serve: Callable[..., Running]) -> None:
    """A client sending requests and never reading the answers: uvicorn queued every one of
    them (1 GB in 6 s); the server stops reading such a connection, and closes it if one read
    already held too many."""
    from feedpub.server.protocol import MAX_PIPELINED_IN_ONE_READ

    s = serve(send_timeout_seconds=30, header_timeout_seconds=30)
    request = get("/feeds/all.atom.xml")
    with socket.socket() as greedy:
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.connect(("127.0.0.1", s.port))
        greedy.setblocking(False)
        sent, deadline, largest = 0, time.monotonic() + 1.5, 0
        while time.monotonic() < deadline:
            try:
                sent += greedy.send(request * 64)
            except BlockingIOError:
                pass  # the server stopped reading it
            except (ConnectionResetError, BrokenPipeError):
                break  # or closed it
            for proto in list(s.server.server_state.connections):
                largest = max(largest, len(proto.pipeline))
            time.sleep(0.001)
        assert sent > 50 * len(request)  # many were sent
        assert largest <= MAX_PIPELINED_IN_ONE_READ
    # the server answers others as before
    other = s.client("127.0.0.2")
    other.send(get())
    assert other.response()[0] == 200


def test_the_shortcut_sends_the_asgi_paths_bytes(app: App) -> None:
    """Two servers on one site, one with the shortcut: every answer is the same, byte for
    byte (the ``date`` aside, which may be a second apart), those the shortcut gives
    (``200``, ``304``, ``HEAD``, gzip, a ``Range`` on a file held in memory: the whole
    file, as ever) and those it leaves to the ASGI path, one by one and pipelined."""
    asgi_calls = [0]

    class Counted(App):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            asgi_calls[0] += 1
            await super().__call__(scope, receive, send)

    servers: list[tuple[Any, threading.Thread, socket.socket]] = []
    ports = []
    for shortcut in (False, True):
        sock = bind("127.0.0.1", 0)
        served = Counted(app.store, app.health, echo_length)
        server = make_server(
            served, sock, ServerConfig(), answer_now=served.answer_now if shortcut else None
        )
        server.capture_signals = contextlib.nullcontext
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread, sock))
        ports.append(sock.getsockname()[1])
    try:
        Running(0, servers[0][0], []).until(
            lambda: all(s.started for s, _, _ in servers), "the servers to start"
        )
        etag = app.store.resources["/feeds/all.atom.xml"].etag.decode()
        gz_etag = app.store.resources["/feeds/all.atom.xml"].gzip_etag.decode()
        answered_now = [
            (get(), False),
            (get(method="HEAD"), True),
            (get(**{"Accept-Encoding": "gzip"}), False),
            (get(**{"Accept-Encoding": "gzip", "If-None-Match": gz_etag}), False),
            (get(**{"If-None-Match": etag}), False),
            (get(**{"If-Modified-Since": "Tue, 01 Jan 2999 00:00:00 GMT"}), False),
            (get(Range="bytes=0-9"), False),
            (get(**{"X-Big": "x" * 8000, "Accept-Encoding": "gzip, deflate"}), False),
            (get("/"), False),
            (get("/feeds/all.json", "HEAD"), True),
        ]
        asgi_only = [
            (get("/articles/a/"), False),  # read from disk
            (get("/articles/a"), False),  # 301
            (get("/nothing"), False),
            (get("/feeds/all.atom.xml?x=1"), False),
            (get("/feeds/%61ll.atom.xml"), False),
            (get("/feeds/all.atom.xml", "POST"), False),  # 405
            (get("/healthz"), False),
            (get("/hub", "POST", **{"Content-Length": "3"}) + b"abc", False),
        ]

        def answers(port: int, requests: list[tuple[bytes, bool]], pipelined: bool) -> list[bytes]:
            c = Client(port)
            try:
                got = []
                if pipelined:
                    c.send(b"".join(r for r, _ in requests))
                for request, head in requests:
                    if not pipelined:
                        c.send(request)
                    got.append(re.sub(rb"\r\ndate: [^\r]*", b"\r\ndate: -", c.raw(head)))
                return got
            finally:
                c.close()

        every = answered_now + asgi_only
        mixed = [every[i % len(every)] for i in range(0, 5 * len(every), 3)]
        for requests, pipelined in ((every, False), (mixed, True)):
            before = asgi_calls[0]
            plain = answers(ports[0], requests, pipelined)
            assert asgi_calls[0] - before == len(requests)
            before = asgi_calls[0]
            fast = answers(ports[1], requests, pipelined)
            assert fast == plain
            assert all(b"\r\ndate: -\r\n" in a for a in fast)
            if not pipelined:  # (pipelined, one behind an ASGI answer takes that path too)
                assert asgi_calls[0] - before == len(asgi_only)

        # HTTP/1.0 and "Connection: close": answered by the ASGI path, then closed
        for request in (
            b"GET /feeds/all.atom.xml HTTP/1.0\r\n\r\n",
            get(Connection="close"),
        ):
            closed = []
            for port in ports:
                c = Client(port)
                c.send(request)
                closed.append(re.sub(rb"\r\ndate: [^\r]*", b"", c.raw()))
                assert c.wait_closed() < 2
                c.close()
            assert closed[0] == closed[1]
            assert b"connection: close" in closed[0]
    finally:
        for server, thread, sock in servers:
            server.should_exit = True
            thread.join(10)
            sock.close()
