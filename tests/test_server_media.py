"""Media files: streamed from disk, byte ranges, never gzipped."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
import os
import threading
import time
import tracemalloc
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from feedpub.config import ServerConfig
from feedpub.server import App, Store, bind, make_server, send_file
from tests.server_helpers import Client, Running, call, get

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


def test_a_media_file_cut_short_in_place_ends_the_answer(
    media: App, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file truncated in place while it is sent (feedpub never does: it replaces files)
    ends the answer where the file now ends, unfinished (the reader sees it cut), never
    padded; the descriptor is closed."""
    path = tmp_path / "ep" / "1.mp3"
    opened = media.store.open_media("/ep/1.mp3")
    assert opened is not None
    scope = {"type": "http", "method": "GET", "path": "/ep/1.mp3", "headers": []}
    bodies: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message)
            if len(bodies) == 2:
                os.truncate(path, 100_000)

    with caplog.at_level(logging.WARNING, logger="feedpub.server"):
        asyncio.run(send_file(opened, b"audio/mpeg", scope, send))
    assert b"".join(m["body"] for m in bodies) == EPISODE[: 2 * 64 * 1024]
    assert bodies[-1]["more_body"]  # never said to be complete
    assert "became shorter" in caplog.text
    with contextlib.suppress(FileNotFoundError):
        assert os.readlink(f"/proc/self/fd/{opened.fd}") != str(path)
