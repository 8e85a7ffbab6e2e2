"""What the server tests share: calling the ASGI app without sockets, a small site, an
HTTP/1.1 client for the tests on real connections."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedpub.server import App, Store

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


def site_app(tmp_path: Path) -> App:
    """The site most tests serve: two feeds (with Link headers), the index, a page."""
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

    def raw(self, head: bool = False) -> bytes:
        """One answer as it came, byte for byte (its body by ``content-length``)."""
        lines = [self.file.readline()]
        while lines[-1] not in (b"\r\n", b""):
            lines.append(self.file.readline())
        length = 0
        for line in lines:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and not head:
                length = int(value)
        return b"".join(lines) + self.file.read(length)

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
