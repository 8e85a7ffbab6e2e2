"""The HTTP layer, called as an ASGI app (no sockets): headers, 304s, gzip, safety."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.metrics import Metrics
from feedpub.redirects import locations
from feedpub.server import App, Store, make_resource
from tests.server_helpers import FEED, call, site_app


@pytest.fixture
def app(tmp_path: Path) -> App:
    return site_app(tmp_path)


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


def test_every_answer_says_nosniff(app: App) -> None:
    for path in ("/feeds/all.atom.xml", "/articles/a/", "/nothing", "/healthz"):
        assert call(app, path)[1]["x-content-type-options"] == "nosniff", path
    assert call(app, "/feeds/all.atom.xml", "POST")[1]["x-content-type-options"] == "nosniff"


def test_lifespan_and_other_scopes(app: App) -> None:
    """(make_server turns lifespan off; under another ASGI server the app still answers
    its lifespan messages, and a WebSocket scope gets no answer.)"""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    asyncio.run(app({"type": "websocket", "path": "/"}, receive, send))
    assert sent == []


def test_the_access_log_is_off_by_default_and_one_line_per_answer_when_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    app = site_app(tmp_path)
    with caplog.at_level(logging.INFO, logger="feedpub.access"):
        call(app, "/feeds/all.atom.xml")
        assert not [r for r in caplog.records if r.name == "feedpub.access"]
        app.access_log = True
        call(app, "/feeds/all.atom.xml", headers={"User-Agent": "Reader/1.0"})
        call(app, "/nothing\nhere", headers={"User-Agent": 'x" 9.9.9.9 "GET /admin" 200 "y'})
    lines = [r for r in caplog.records if r.name == "feedpub.access"]
    assert len(lines) == 2
    first, second = lines
    assert re.fullmatch(
        rf'- "GET /feeds/all.atom.xml" 200 {len(FEED)} \d+ ms "Reader/1.0"', first.getMessage()
    )
    assert first.__dict__["status"] == 200 and first.__dict__["bytes"] == len(FEED)
    assert first.__dict__["path"] == "/feeds/all.atom.xml"
    # what a client sends cannot forge a line or a field of the log (escaped as nginx does)
    assert second.getMessage().endswith(
        '"GET /nothing\\x0Ahere" 404 10 ' + second.getMessage().split(" 404 10 ")[1]
    )
    assert second.getMessage().count('"') == 4
    assert second.__dict__["user_agent"] == "x\\x22 9.9.9.9 \\x22GET /admin\\x22 200 \\x22y"
    assert second.__dict__["status"] == 404


def asgi_answer(
    app: App, path: str, method: str, headers: list[tuple[bytes, bytes]]
) -> tuple[MutableMapping[str, Any], bytes]:
    """What the ASGI path sends: its start message as it is, and the body."""
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    asyncio.run(app(scope, receive, send))
    return sent[0], b"".join(m.get("body", b"") for m in sent[1:])


class Recorded(Metrics):
    def __init__(self) -> None:
        self.answered: list[tuple[int, int]] = []

    def request(self, status: int, nbytes: int) -> None:
        self.answered.append((status, nbytes))


def test_answer_now_gives_the_asgi_answer_for_files_held_in_memory(app: App) -> None:
    """The protocol's shortcut asks :meth:`App.answer_now`: the same status, headers and body
    as the ASGI path, counted the same; None for everything that path must decide."""
    etag = call(app, "/feeds/all.atom.xml")[1]["etag"]
    cases: list[dict[str, str]] = [
        {},
        {"accept-encoding": "gzip"},
        {"if-none-match": etag},
        {"accept-encoding": "gzip", "if-none-match": etag},
        {"if-modified-since": "Tue, 01 Jan 2999 00:00:00 GMT"},
    ]
    app.metrics = recorded = Recorded()
    for path in ("/feeds/all.atom.xml", "/feeds/all.json", "/"):
        for headers in cases:
            for method in ("GET", "HEAD"):
                raw = [(k.encode(), v.encode()) for k, v in headers.items()]
                reply = app.answer_now(method == "HEAD", path, raw)
                assert reply is not None
                start, body = asgi_answer(app, path, method, raw)
                status = start["status"]
                assert (reply.status, reply.headers) == (status, start["headers"])
                assert (reply.body if method == "GET" else b"") == body
                # counted once by each path, alike
                assert recorded.answered[-2] == recorded.answered[-1] == (status, len(body))
    for path in ("/healthz", "/hub", "/articles/a/", "/nothing", "/feeds"):
        assert app.answer_now(False, path, []) is None, path
    app.redirects = {"/feeds/all.json": b"https://e.org/x"}
    assert app.answer_now(False, "/feeds/all.json", []) is None
    app.access_log = True  # (the ASGI path writes the line)
    assert app.answer_now(False, "/feeds/all.atom.xml", []) is None
