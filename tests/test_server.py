"""The HTTP layer, called as an ASGI app (no sockets): headers, 304s, gzip, safety."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import ipaddress
import json
import os
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.config import ServerConfig
from feedpub.redirects import locations
from feedpub.server import (
    App,
    Store,
    bind,
    client_key,
    make_resource,
    make_server,
    respond,
    send_file,
    url_path,
)

FEED = b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'>" + b"x" * 2000 + b"</feed>"


def call(
    app: App, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    start, bodies = sent[0], sent[1:]
    assert bodies and not bodies[-1].get("more_body")  # the answer is complete
    out: dict[str, str] = {}
    for k, v in start["headers"]:
        name = k.decode()
        out[name] = out[name] + ", " + v.decode() if name in out else v.decode()
    return start["status"], out, b"".join(b["body"] for b in bodies)


@pytest.fixture
def app(tmp_path: Path) -> App:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "all.atom.xml").write_bytes(FEED)
    (tmp_path / "feeds" / "all.json").write_text('{"version": "x"}')
    (tmp_path / "index.html").write_text("<!DOCTYPE html><title>x</title>")
    (tmp_path / "articles" / "a").mkdir(parents=True)
    (tmp_path / "articles" / "a" / "index.html").write_text("<p>a</p>")
    store = Store(
        tmp_path,
        lambda rel: (
            ['<https://e.org/feeds/all.atom.xml>; rel="self"', '<https://hub/>; rel="hub"']
            if rel.startswith("feeds/")
            else []
        ),
    )
    store.load_all()
    return App(store, lambda: {"status": "ok"})


def test_feed_headers(app: App) -> None:
    status, headers, body = call(app, "/feeds/all.atom.xml")
    assert status == 200
    assert body == FEED
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert headers["etag"].startswith('"')
    assert headers["last-modified"].endswith("GMT")
    assert headers["vary"] == "Accept-Encoding"
    assert (
        headers["link"]
        == '<https://e.org/feeds/all.atom.xml>; rel="self", <https://hub/>; rel="hub"'
    )
    assert "max-age" in headers["cache-control"]
    assert call(app, "/feeds/all.json")[1]["content-type"] == "application/feed+json; charset=utf-8"
    assert call(app, "/")[1]["content-type"] == "text/html; charset=utf-8"


def test_conditional_get(app: App) -> None:
    _, headers, _ = call(app, "/feeds/all.atom.xml")
    status, h304, body = call(
        app, "/feeds/all.atom.xml", headers={"If-None-Match": headers["etag"]}
    )
    assert (status, body) == (304, b"")
    assert h304["etag"] == headers["etag"]
    assert call(app, "/feeds/all.atom.xml", headers={"If-None-Match": '"other"'})[0] == 200
    assert (
        call(app, "/feeds/all.atom.xml", headers={"If-None-Match": f'"a", W/{headers["etag"]}'})[0]
        == 304
    )
    lm = headers["last-modified"]
    assert call(app, "/feeds/all.atom.xml", headers={"If-Modified-Since": lm})[0] == 304
    assert (
        call(
            app,
            "/feeds/all.atom.xml",
            headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        )[0]
        == 200
    )
    # If-None-Match wins over If-Modified-Since
    assert (
        call(app, "/feeds/all.atom.xml", headers={"If-None-Match": '"x"', "If-Modified-Since": lm})[
            0
        ]
        == 200
    )


def test_gzip(app: App) -> None:
    status, headers, body = call(
        app, "/feeds/all.atom.xml", headers={"Accept-Encoding": "br, gzip"}
    )
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == FEED
    assert int(headers["content-length"]) == len(body)
    plain_etag = call(app, "/feeds/all.atom.xml")[1]["etag"]
    assert headers["etag"] != plain_etag  # two representations, two strong validators
    again = call(
        app,
        "/feeds/all.atom.xml",
        headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]},
    )
    assert again[0] == 304
    assert (
        call(app, "/feeds/all.atom.xml", headers={"Accept-Encoding": "gzip;q=0"})[1].get(
            "content-encoding"
        )
        is None
    )


def test_head_and_methods(app: App) -> None:
    status, headers, body = call(app, "/feeds/all.atom.xml", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len(FEED))
    status, headers, _ = call(app, "/feeds/all.atom.xml", method="POST")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/../config.toml",
        "/feeds/../../etc/passwd",
        "/feeds/..%2f..%2fetc",
        "/feeds\\all.json",
        "/feeds/all.json\x00",
        "/feeds/",
        "/articles/",
        "//etc/passwd",
    ],
)
def test_not_found_and_no_traversal(app: App, path: str) -> None:
    assert call(app, path)[0] == 404


def test_directory_index_and_redirect(app: App) -> None:
    assert call(app, "/articles/a/")[2] == b"<p>a</p>"
    status, headers, _ = call(app, "/articles/a")
    assert status == 301
    assert headers["location"] == "/articles/a/"


def test_healthz(app: App) -> None:
    status, headers, body = call(app, "/healthz")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"status": "ok"}


def test_store_swaps_changes_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    store = Store(tmp_path)
    store.load_all()
    before = store.resources
    (tmp_path / "b.json").write_text("[]")
    (tmp_path / "a.json").unlink()
    store.update(["b.json"], ["a.json"])
    assert set(store.resources) == {"/b.json"}
    assert set(before) == {"/a.json"}  # the old mapping is untouched: readers see one or the other


def test_small_files_are_not_gzipped() -> None:
    res = make_resource("feeds/x.json", b"{}", 0)
    assert res.gzipped is None
    assert url_path("articles/x/index.html") == "/articles/x/"


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("br, gzip;q=0.5", True),
        ("gzip;q=1", True),
        ("gzip;q=1.000", True),
        ("gzip;q=0.001", True),
        ("gzip; q=0.5", True),
        ("gzip;level=1;q=0.5", True),  # a parameter other than q is no reason to refuse
        ("gzip;q=0", False),
        ("gzip;Q=0", False),  # parameter names are case-insensitive
        ("gzip; q = 0", False),
        ("gzip ;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip;q=0.", False),
        ("x-gzip;q=0", False),
        ("*;q=0", False),
        ("", False),
        ("identity", False),
        ("br, deflate", False),
        ("gzipper", False),
        # an explicit gzip wins over "*", whichever comes first
        ("*, gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("*;q=0, gzip", True),
        # a weight that is not an RFC 9110 qvalue refuses its coding
        ("gzip;q=abc", False),
        ("gzip;q=", False),
        ("gzip;q", False),
        ("gzip;q=2", False),
        ("gzip;q=1.5", False),
        ("gzip;q=1.0001", False),
        ("gzip;q=0.0001", False),
        ("gzip;q=-1", False),
        ("gzip;q=.5", False),
        ("gzip;q=1e0", False),
        ("gzip;q=inf", False),
        ("gzip;q=nan", False),
        ("gzip;q=0x1", False),
    ],
)
def test_accept_encoding_weights(app: App, accept: str, gzipped: bool) -> None:
    status, headers, body = call(app, "/feeds/all.atom.xml", headers={"Accept-Encoding": accept})
    assert status == 200
    assert (headers.get("content-encoding") == "gzip") is gzipped
    assert (body != FEED) is gzipped


def test_repeated_accept_encoding_headers_are_one_list(app: App) -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/feeds/all.atom.xml",
        "headers": [(b"accept-encoding", b"gzip"), (b"accept-encoding", b"identity")],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    assert (b"content-encoding", b"gzip") in sent[0]["headers"]


@given(
    coding=st.sampled_from(["gzip", "GZip", "x-gzip", "*"]),
    name=st.sampled_from(["q", "Q"]),
    before=st.sampled_from(["", " ", "\t"]),
    around=st.sampled_from(["", " "]),
    weight=st.one_of(
        st.from_regex(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?", fullmatch=True),
        st.text(alphabet="0123456789.-+eE", max_size=6),
    ),
)
def test_accept_encoding_weight_property(
    coding: str, name: str, before: str, around: str, weight: str
) -> None:
    """gzip is sent exactly when the weight is a valid qvalue above zero."""
    valid = re.fullmatch(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?", weight) is not None
    expected = valid and float(weight) > 0
    value = f"{coding}{before};{before}{name}{around}={around}{weight}"
    res = make_resource("feeds/x.json", b"[" + b"1," * 400 + b"1]", 0)
    app = App(Store(Path(".")), dict)
    app.store.resources = {"/x": res}
    _, headers, _ = call(app, "/x", headers={"Accept-Encoding": value})
    assert (headers.get("content-encoding") == "gzip") is expected, value


# -- real sockets: limits that hold for every connection and every request -------------------


class Client:
    """One HTTP/1.1 connection to a test server, from ``source`` (127.0.0.2 and up are other
    clients: every 127/8 address is this machine's)."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
        )
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, head: bool = False) -> tuple[int, dict[str, str], bytes]:
        line = self.file.readline()
        if not line:
            raise EOFError("the server closed the connection")
        status = int(line.split()[1])
        headers: dict[str, str] = {}
        while (raw := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        return status, headers, self.file.read(length)

    def wait_closed(self) -> float:
        """Seconds until the server closes the connection (with nothing more sent)."""
        started = time.monotonic()
        try:
            extra = self.file.read()
        except ConnectionResetError:
            extra = b""
        assert extra == b"", extra
        return time.monotonic() - started

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def get(path: str = "/feeds/all.atom.xml", method: str = "GET", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: t"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


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


@dataclass
class Running:
    port: int
    server: Any
    clients: list[Client]

    def client(self, source: str = "127.0.0.1") -> Client:
        c = Client(self.port, source)
        self.clients.append(c)
        return c

    def connections(self) -> int:
        return len(self.server.server_state.connections)

    def until(self, check: Callable[[], bool], what: str, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.01)


@pytest.fixture
def serve(app: App, tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """``serve(**limits)``: ``app`` (with ``echo_length`` as its hub) on a real uvicorn server
    in a thread, held to ``ServerConfig(**limits)``; ``max_connections``: in all."""
    started: list[tuple[Any, threading.Thread, socket.socket]] = []

    def _serve(max_connections: int = 4096, **limits: Any) -> Running:
        sock = bind("127.0.0.1", 0)
        served = App(app.store, app.health, echo_length)
        server = make_server(served, sock, ServerConfig(**limits), max_connections=max_connections)
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


def test_the_store_serves_only_what_may_be_served(tmp_path: Path) -> None:
    """Published files and files put there by hand; never state, locks, temporaries,
    dotfiles, anything through a symlink, and a FIFO does not hang the loading."""
    public = tmp_path / "public"
    (public / "feeds").mkdir(parents=True)
    (public / "feeds" / "all.json").write_text("{}")
    (public / "robots.txt").write_text("User-agent: *\n")
    for name in (
        ".feedpub-output-id",
        "state.sqlite3",
        "state.sqlite3-wal",
        "state.sqlite3.lock",
        "state.sqlite3.published.json",
        "feeds/.all.json.abcd1234.tmp",
        "index.html~",
    ):
        (public / name).write_text("private")
    (public / ".git").mkdir()
    (public / ".git" / "config").write_text("private")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.txt").write_text("private")
    (public / "key.txt").symlink_to(tmp_path / "secret" / "key.txt")
    (public / "secret").symlink_to(tmp_path / "secret")
    os.mkfifo(public / "pipe.txt")
    store = Store(public)
    assert store.load_all() == 2
    assert set(store.resources) == {"/feeds/all.json", "/robots.txt"}
    store.update(["state.sqlite3", "key.txt", "feeds/all.json"], [])
    assert set(store.resources) == {"/feeds/all.json", "/robots.txt"}
    store.sync({"state.sqlite3": "0" * 64, "feeds/all.json": "0" * 64})
    assert set(store.resources) == {"/feeds/all.json", "/robots.txt"}


def test_a_port_in_use_or_out_of_range_is_a_server_error() -> None:
    """(Addresses of other machines and names that do not resolve: tests/test_daemon.py,
    inside a network namespace of their own.)"""
    from feedpub.errors import ServerError

    with pytest.raises(ServerError) as info:
        bind("127.0.0.1", 70000, where="--port")
    assert str(info.value) == "cannot listen on 127.0.0.1:70000 (--port): a port is 0 to 65535"
    with contextlib.closing(bind("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match="the port is in use"):
            bind("127.0.0.1", port)


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


def test_a_date_too_large_to_read_is_no_condition(app: App) -> None:
    for ims in (
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
        "Mon, 01 Jan 2001 00:00:00 +99999999999999999999",
    ):
        assert call(app, "/feeds/all.atom.xml", headers={"If-Modified-Since": ims})[0] == 200


def test_a_redirect_is_answered_before_a_file_left_at_its_path(tmp_path: Path) -> None:
    """(An old site's feed.xml left in an adopted output folder: the 301 wins, in the
    built-in server as in nginx, whose ``location =`` comes first.)"""
    (tmp_path / "feed.xml").write_text("<rss/>")
    (tmp_path / "other.xml").write_text("<rss/>")
    store = Store(tmp_path)
    store.load_all()
    app = App(
        store, dict, redirects=locations("https://e.org/", (("feed.xml", "feeds/all.rss.xml"),))
    )
    for method in ("GET", "HEAD"):
        status, headers, body = call(app, "/feed.xml", method)
        assert (status, headers["location"], body) == (301, "https://e.org/feeds/all.rss.xml", b"")
    assert call(app, "/feed.xml", "POST")[0] == 405
    assert call(app, "/other.xml")[0] == 200
    assert call(app, "/feed.xml/")[0] == 404


def test_pages_and_archives_are_served_from_disk_like_the_feeds(tmp_path: Path) -> None:
    """Article pages and archive documents are not held in memory: read when asked for,
    with the same headers, ETag, 304 and gzip; a file replaced is served anew; nothing
    outside the folder, through a symlink, or over the size limit."""
    page = b"<!DOCTYPE html><p>" + b"page " * 200 + b"</p>"
    (tmp_path / "articles" / "a").mkdir(parents=True)
    (tmp_path / "articles" / "a" / "index.html").write_bytes(page)
    (tmp_path / "feeds" / "archive" / "all").mkdir(parents=True)
    (tmp_path / "feeds" / "archive" / "all" / "1.atom.xml").write_bytes(FEED)
    (tmp_path / "secret.html").write_text("x")
    (tmp_path / "articles" / "link").mkdir()
    (tmp_path / "articles" / "link" / "index.html").symlink_to(tmp_path / "secret.html")
    store = Store(tmp_path)
    store.load_all()
    assert set(store.resources) == set()  # nothing held: all of these are read from disk
    app = App(store, dict)
    status, headers, body = call(app, "/articles/a/")
    assert (status, body) == (200, page)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["etag"] == make_resource("x.html", page, 0).etag.decode()
    assert call(app, "/articles/a/", headers={"If-None-Match": headers["etag"]})[0] == 304
    zipped = call(app, "/articles/a/", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(zipped[2]) == page
    status, headers, _ = call(app, "/articles/a")
    assert (status, headers["location"]) == (301, "/articles/a/")
    status, headers, body = call(app, "/feeds/archive/all/1.atom.xml")
    assert (status, body) == (200, FEED)
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    for path in ("/articles/link/", "/articles/../secret.html", "/articles/%2e%2e/x.html"):
        assert call(app, path)[0] == 404, path
    # replaced atomically: the new bytes, whatever was cached
    new = tmp_path / "articles" / "a" / ".new"
    new.write_bytes(b"<p>new</p>")
    os.replace(new, tmp_path / "articles" / "a" / "index.html")
    assert call(app, "/articles/a/")[2] == b"<p>new</p>"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("feedpub.server.store.MAX_DISK_BYTES", 5)
        assert call(App(Store(tmp_path), dict), "/feeds/archive/all/1.atom.xml")[0] == 404


def test_a_file_replaced_while_read_is_read_whole_as_it_was(tmp_path: Path) -> None:
    from feedpub.output import read_file

    (tmp_path / "f.html").write_bytes(b"old " * 1000)

    def replace_it(st: os.stat_result) -> bool:  # (between the open and the read)
        (tmp_path / "g").write_bytes(b"new " * 10)
        os.replace(tmp_path / "g", tmp_path / "f.html")
        return False

    found = read_file(tmp_path, "f.html", limit=1 << 20, cached=replace_it)
    assert found is not None and found[0] == b"old " * 1000
    assert (tmp_path / "f.html").read_bytes() == b"new " * 10


# -- media: streamed from disk, byte ranges, never gzipped ------------------------------------

EPISODE = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def media(tmp_path: Path) -> App:
    (tmp_path / "ep").mkdir()
    (tmp_path / "ep" / "1.mp3").write_bytes(EPISODE)
    (tmp_path / "ep" / "doc.pdf").write_bytes(b"%PDF-1.4 " + b"a" * 5000)
    (tmp_path / "ep" / "data.csv.gz").write_bytes(gzip.compress(b"a,b\n" * 100))
    (tmp_path / "ep" / "empty.mp3").write_bytes(b"")
    (tmp_path / "secret.mp3").write_bytes(b"secret")
    (tmp_path / "ep" / "link.mp3").symlink_to(tmp_path / "secret.mp3")
    (tmp_path / "ep" / ".hidden.mp3").write_bytes(b"x")
    store = Store(tmp_path)
    store.load_all()
    return App(store, dict)


def test_media_whole_with_validators_and_no_gzip(media: App) -> None:
    status, headers, body = call(media, "/ep/1.mp3", headers={"Accept-Encoding": "gzip"})
    assert (status, body) == (200, EPISODE)
    assert headers["content-type"] == "audio/mpeg"
    assert headers["content-length"] == str(len(EPISODE))
    assert headers["accept-ranges"] == "bytes"
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in headers and "vary" not in headers
    etag, modified = headers["etag"], headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert call(media, "/ep/1.mp3", headers={"If-None-Match": etag})[:3:2] == (304, b"")
    assert call(media, "/ep/1.mp3", headers={"If-Modified-Since": modified})[0] == 304
    assert call(media, "/ep/1.mp3", headers={"If-None-Match": '"other"'})[0] == 200
    status, headers, body = call(media, "/ep/1.mp3", "HEAD")
    assert (status, body, headers["content-length"]) == (200, b"", str(len(EPISODE)))
    # a PDF is never gzipped either; a .csv.gz is a gzip file, not text/csv
    status, headers, body = call(media, "/ep/doc.pdf", headers={"Accept-Encoding": "gzip"})
    assert (status, headers["content-type"]) == (200, "application/pdf")
    assert "content-encoding" not in headers and body.startswith(b"%PDF")
    status, headers, body = call(media, "/ep/data.csv.gz", headers={"Accept-Encoding": "gzip"})
    assert (status, headers["content-type"]) == (200, "application/gzip")
    assert "content-encoding" not in headers and gzip.decompress(body) == b"a,b\n" * 100
    assert call(media, "/ep/empty.mp3")[::2] == (200, b"")
    for path in ("/ep/link.mp3", "/ep/.hidden.mp3", "/ep/none.mp3", "/ep/../secret.mp3"):
        assert call(media, path)[0] == 404, path


@pytest.mark.parametrize(
    ("value", "status", "first", "last"),
    [
        ("bytes=0-99", 206, 0, 99),
        ("bytes=100-", 206, 100, len(EPISODE) - 1),
        ("bytes=-500", 206, len(EPISODE) - 500, len(EPISODE) - 1),
        ("bytes=1000-99999999", 206, 1000, len(EPISODE) - 1),
        ("bytes=-99999999", 206, 0, len(EPISODE) - 1),
        ("bytes = 5 - 5", 206, 5, 5),
        ("bytes=0-1,5-6", 200, 0, len(EPISODE) - 1),  # several ranges: the whole file
        ("bytes=9-3", 200, 0, len(EPISODE) - 1),  # invalid: ignored
        ("items=0-3", 200, 0, len(EPISODE) - 1),
        ("bytes=-", 200, 0, len(EPISODE) - 1),
    ],
)
def test_media_byte_ranges(media: App, value: str, status: int, first: int, last: int) -> None:
    got, headers, body = call(media, "/ep/1.mp3", headers={"Range": value})
    assert got == status
    assert body == EPISODE[first : last + 1]
    assert headers["content-length"] == str(last - first + 1)
    if status == 206:
        assert headers["content-range"] == f"bytes {first}-{last}/{len(EPISODE)}"
    else:
        assert "content-range" not in headers


def test_media_unsatisfiable_ranges_and_if_range(media: App) -> None:
    for value in (f"bytes={len(EPISODE)}-", "bytes=-0", f"bytes={len(EPISODE) + 5}-9999999"):
        status, headers, _ = call(media, "/ep/1.mp3", headers={"Range": value})
        assert (status, headers["content-range"]) == (416, f"bytes */{len(EPISODE)}"), value
    assert call(media, "/ep/empty.mp3", headers={"Range": "bytes=0-1"})[0] == 416
    etag = call(media, "/ep/1.mp3", "HEAD")[1]["etag"]
    ranged = {"Range": "bytes=0-9", "If-Range": etag}
    assert call(media, "/ep/1.mp3", headers=ranged)[::2] == (206, EPISODE[:10])
    stale = {"Range": "bytes=0-9", "If-Range": '"not-it"'}
    assert call(media, "/ep/1.mp3", headers=stale)[::2] == (200, EPISODE)
    weak = {"Range": "bytes=0-9", "If-Range": "W/" + etag}
    assert call(media, "/ep/1.mp3", headers=weak)[0] == 200
    status, headers, body = call(media, "/ep/1.mp3", "HEAD", headers={"Range": "bytes=0-9"})
    assert (status, body, headers["content-length"]) == (206, b"", "10")


def test_every_answer_says_nosniff(app: App) -> None:
    for path in ("/feeds/all.atom.xml", "/articles/a/", "/nothing", "/healthz"):
        assert call(app, path)[1]["x-content-type-options"] == "nosniff", path
    assert call(app, "/feeds/all.atom.xml", "POST")[1]["x-content-type-options"] == "nosniff"


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_a_large_media_file_is_streamed_not_held(tmp_path: Path) -> None:
    """Eight parallel GETs of a 48 MB file, read slowly, over real connections: the server
    never holds the file (its memory grows far less than the file's size), an article page
    is answered meanwhile, and each reader gets the whole file."""
    size = 48 * 1024 * 1024
    with open(tmp_path / "big.pdf", "wb") as f:
        for i in range(48):
            f.write(bytes([i]) * (1024 * 1024))
    (tmp_path / "articles" / "a").mkdir(parents=True)
    (tmp_path / "articles" / "a" / "index.html").write_text("<p>a</p>")
    store = Store(tmp_path)
    store.load_all()
    sock = bind("127.0.0.1", 0)
    server = make_server(App(store, dict), sock, ServerConfig())
    server.capture_signals = contextlib.nullcontext
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        Running(sock.getsockname()[1], server, []).until(lambda: server.started, "start")
        port = sock.getsockname()[1]
        before = _rss_bytes()
        tracemalloc.start()
        clients = [Client(port, timeout=30) for _ in range(8)]
        for c in clients:
            c.send(get("/big.pdf"))
        heads = []
        for c in clients:
            heads.append(c.response(head=True))
            c.file.read(1024 * 1024)  # a little of each, then a pause
        time.sleep(0.3)
        page = Client(port)
        started = time.monotonic()
        page.send(get("/articles/a/"))
        assert page.response()[0] == 200
        assert time.monotonic() - started < 2
        page.close()
        _, peak = tracemalloc.get_traced_memory()
        grown = _rss_bytes() - before
        received = []
        for c in clients:
            hashed = hashlib.sha256()
            left = size - 1024 * 1024
            while left:
                chunk = c.file.read(min(left, 1 << 20))
                assert chunk
                hashed.update(chunk)
                left -= len(chunk)
            received.append(hashed.digest())
            c.close()
        tracemalloc.stop()
        assert all(h[0] == 200 and h[1]["content-length"] == str(size) for h in heads)
        assert len(set(received)) == 1
        # (the test reads too: both bounds are generous, and far below 8 × 48 MB, or one file)
        assert peak < 16 * 1024 * 1024, peak
        assert grown < 48 * 1024 * 1024, grown
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_a_media_file_replaced_mid_answer_is_sent_as_it_was(media: App, tmp_path: Path) -> None:
    """The answer comes from the descriptor opened: a file replaced (``os.replace``) while it
    is being sent is sent whole as it was, never half old and half new."""
    store = media.store
    opened = store.open_media("/ep/1.mp3")
    assert opened is not None
    scope = {"type": "http", "method": "GET", "path": "/ep/1.mp3", "headers": []}
    sent: list[bytes] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message["body"])
            if len(sent) == 2:  # mid-answer: a new file takes the name
                new = tmp_path / "ep" / ".new"
                new.write_bytes(b"N" * len(EPISODE))
                os.replace(new, tmp_path / "ep" / "1.mp3")

    asyncio.run(send_file(opened, b"audio/mpeg", scope, send))
    assert len(sent) > 2
    assert b"".join(sent) == EPISODE
    assert call(media, "/ep/1.mp3")[2] == b"N" * len(EPISODE)  # the next answer: the new one
