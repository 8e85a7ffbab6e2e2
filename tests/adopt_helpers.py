"""Old feeds for the ``adopt`` tests: what an old site's feeds said, in each format, and a
local HTTP server that serves them (and misbehaves)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import format_datetime
from typing import ClassVar
from xml.sax.saxutils import escape

# (id, title, link, published): what the old site's feeds said
HELLO_URL = "https://old.example/2020/01/02/hello-world.html"
HELLO = (HELLO_URL, "Hello World", HELLO_URL, "2020-01-02T08:00:00-08:00")
SECOND = ("1234", "Second  post", "https://old.example/?p=1234", "2020-02-03T11:00:00+01:00")
UNDATED = (
    "tag:old.example,2018:undated",
    "Undated thoughts",
    "https://old.example/?p=7",
    "2018-03-01T11:00:00+01:00",
)
SAME = ("tag:old.example,2020:same", "Same", "https://old.example/?p=3", "2020-03-01T12:00:00Z")
GONE = ("tag:old.example,2019:gone", "Gone", "https://old.example/gone/", "2019-03-01T11:00:00Z")
OLD = [HELLO, SECOND, UNDATED, SAME, GONE]


def atom_feed(entries: list[tuple[str, str, str, str]]) -> bytes:
    items = "".join(
        f"<entry><id>{escape(i)}</id><title>{escape(t)}</title>"
        f'<link rel="alternate" href="{escape(link)}"/>'
        f"<published>{p}</published><updated>2021-01-01T00:00:00Z</updated></entry>"
        for i, t, link, p in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Old blog</title><id>urn:old</id><updated>2021-01-01T00:00:00Z</updated>"
        f"{items}</feed>"
    ).encode()


def rss_feed(entries: list[tuple[str, str, str, str]], guids: bool = True) -> bytes:
    items = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        + (f'<guid isPermaLink="false">{escape(i)}</guid>' if guids else "")
        + f"<pubDate>{format_datetime(datetime.fromisoformat(p))}</pubDate></item>"
        for i, t, link, p in entries
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Old blog</title>'
        f"<link>https://old.example/</link><description>x</description>{items}</channel></rss>"
    ).encode()


def json_feed(entries: list[tuple[str, str, str, str]]) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Old blog",
            "items": [
                {"id": i, "url": link, "title": t, "date_published": p} for i, t, link, p in entries
            ],
        }
    ).encode()


FEEDS = {"atom": atom_feed, "rss": rss_feed, "json": json_feed}


class OldSite(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_GET(self) -> None:
        if self.path == "/evil.xml":  # a reason phrase that would clear a terminal
            self.send_response(500, "Oops\x1b[2J")
            self.end_headers()
            return
        if self.path == "/moved.xml":
            self.send_response(301)
            self.send_header("Location", "/feed.xml")
            self.end_headers()
            return
        if self.path == "/slow.xml":  # sends a byte now and then, for ever
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b" " * 10000)
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
            return
        found = self.files.get(self.path)
        if found is None:
            self.send_error(404, "Not Found")
            return
        ctype, body = found
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_old_site() -> Iterator[str]:
    """The old site's feeds (and misbehaving URLs) at the URL it yields."""
    OldSite.files = {
        "/feed.xml": ("application/atom+xml", atom_feed(OLD)),
        "/index.xml": ("application/rss+xml", rss_feed(OLD)),
        "/feed.json": ("application/feed+json", json_feed(OLD)),
        "/big.xml": ("application/xml", b" " * 5000),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OldSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
