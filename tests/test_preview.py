"""``feedpub serve``: a real preview process on a free port, read as a browser and feed
readers read it; live reload in a real headless Chromium."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import pytest
import requests
from lxml import etree, html

from feedpub.preview.app import with_script
from feedpub.preview.events import Events
from feedpub.preview.site import local_base_url
from tests.browser import Browser
from tests.daemon_helpers import LOGS, REPO, STARTED

CONFIG = """\
[site]
title = "Preview Site"
base_url = "https://example.org/blog/"
article_url = "https://example.org/blog/posts/{{slug}}/"
author = "Writer"

[paths]
articles = "articles"
output = "public"
state = "state/state.sqlite3"

[notify]
hubs = ["{pings}hub"]
weblogupdates = ["{pings}rpc"]
coalesce_seconds = 0
min_interval_seconds = 0

[hub]
enabled = true
"""

# URLs that name a vocabulary or the generator, not a page: they may point anywhere
_NOT_LINKS = (
    "http://www.w3.org/",
    "https://www.w3.org/",
    "http://purl.org/",
    "http://backend.userland.com/",
    "http://www.rssboard.org/",  # (RSS <docs>)
    "https://jsonfeed.org/version/",
    "https://pypi.org/project/feedpub/",
    "http://www.itunes.com/",
    "http://search.yahoo.com/",
    "http://podlove.org/",
    "http://ogp.me/",
    "https://github.com/",
)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def _record(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(204)
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pings() -> Iterator[tuple[str, list[str]]]:
    """A loopback WebSub hub and weblogUpdates endpoint that records every request."""
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()
        server.server_close()


def _article(root: Path, name: str, title: str, date: str, extra: str = "") -> Path:
    path = root / "articles" / name
    path.write_text(
        f"---\ntitle: {title}\ndate: {date}\ncategories: [News]\n{extra}---\n"
        f"Body of {title}, with [a relative link](/blog/about/) and ![a picture](pic.png).\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def site(tmp_path: Path, pings: tuple[str, list[str]]) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(CONFIG.format(pings=pings[0]), encoding="utf-8")
    (tmp_path / "articles" / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    _article(tmp_path, "old.md", "An Old One", "2020-01-02")
    _article(tmp_path, "draft.md", "A Draft", "2020-02-03", "draft: true\n")
    _article(tmp_path, "later.md", "Not Yet", "2999-01-01")
    return tmp_path


class Serve:
    """A ``feedpub serve`` process."""

    def __init__(self, root: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.log_path = root / f"serve-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        LOGS.append(self.log)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedpub", "--log-level", "debug", "serve", "--port=0", *extra],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        STARTED.append(self.proc)
        self.base = self.wait_for(r"preview: (http://\S+/) ")
        self.folder = Path(self.wait_for(r"building a preview of \S+ in (\S+)"))

    def logs(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.logs())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the log:\n{self.logs()}")

    def get(self, path: str, **kw: Any) -> requests.Response:
        """``path`` below the site's folder; the preview's own below the server's root."""
        if path.startswith(("/_feedpub/", "/healthz")):
            url = urljoin(self.base, path)
        else:
            url = path if path.startswith("http") else self.base + path.lstrip("/")
        return requests.get(url, timeout=10, **kw)

    def health(self) -> dict[str, Any]:
        found: dict[str, Any] = self.get("/healthz").json()
        return found

    def until(self, check: Any, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (requests.RequestException, KeyError, AssertionError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.logs()}")

    def titles(self) -> list[str]:
        parsed = feedparser.parse(self.get("/feeds/all.atom.xml").content)
        assert not parsed.bozo, parsed.bozo_exception
        return sorted(e.title for e in parsed.entries)

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(30)
        finally:
            self.log.close()


def _tree_digest(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (and its mode): what must not change."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        if stat.S_ISREG(st.st_mode):
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[str(path.relative_to(folder))] = oct(st.st_mode)
    return out


def _build_production(root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "feedpub", "build"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _urls(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>)\\]+", text))


def _own(url: str) -> bool:
    return not url.startswith(_NOT_LINKS)


def test_every_link_in_every_format_leads_to_the_preview(site: Path) -> None:
    serve = Serve(site)
    try:
        base = serve.base
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/blog/", base)  # where it will be
        # crawl what the preview serves, from its index, following every link to it
        todo, seen = [base, f"{base}feeds/index.opml"], set[str]()
        bodies: dict[str, requests.Response] = {}
        while todo and len(seen) < 60:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            answer = serve.get(path)
            if path == f"{base}about/":  # (a link to a page no article is: not found)
                assert answer.status_code == 404
                continue
            if path == f"{base}hub":  # (the preview runs no hub)
                assert answer.status_code == 503
                continue
            assert answer.status_code == 200, path
            bodies[path] = answer
            for url in _urls(answer.text) | {
                urljoin(answer.url, h) for h in re.findall(r'(?:href|src)="([^"]+)"', answer.text)
            }:
                if url.startswith(base) and not url.endswith(".png"):
                    todo.append(url.split("#")[0])
        kinds = {p.rsplit(".", 1)[-1] if "." in p.rsplit("/", 1)[-1] else "page" for p in seen}
        assert {"page", "xml", "json", "opml"} <= kinds, seen
        assert f"{base}posts/old/" in seen, seen  # article pages, moved along
        for path, answer in bodies.items():
            assert "example.org" not in answer.text, path
            leaving = {u for u in _urls(answer.text) if _own(u) and not u.startswith(base)}
            assert not leaving, (path, leaving)
            for value in answer.headers.get("link", "").split(","):
                if value.strip():
                    assert value.strip().startswith(f"<{base}"), (path, value)

        # Atom: ids of feeds, self, alternate and hub links, entry links; content absolute
        atom = etree.fromstring(bodies[f"{base}feeds/all.atom.xml"].content)
        ns = {"a": "http://www.w3.org/2005/Atom"}
        links = {(link.get("rel"), link.get("href")) for link in atom.findall("a:link", ns)}
        assert ("self", f"{base}feeds/all.atom.xml") in links
        assert ("hub", f"{base}hub") in links
        assert ("alternate", base) in links
        entries = feedparser.parse(bodies[f"{base}feeds/all.atom.xml"].content).entries
        assert [e.title for e in entries] == ["An Old One"]
        assert entries[0].link == f"{base}posts/old/"
        content = entries[0].content[0].value
        assert f'href="{base}about/"' in content  # (written /blog/about/)
        assert f'src="{base}' in content
        # RSS: channel link, atom:link self and hub, item links
        rss = feedparser.parse(serve.get("/feeds/all.rss.xml").content)
        assert rss.feed.link == base
        assert {(link.rel, link.href) for link in rss.feed.links} >= {
            ("self", f"{base}feeds/all.rss.xml"),
            ("hub", f"{base}hub"),
        }
        assert rss.entries[0].link == f"{base}posts/old/"
        # JSON Feed
        feed = json.loads(serve.get("/feeds/all.json").content)
        assert feed["home_page_url"] == base
        assert feed["feed_url"] == f"{base}feeds/all.json"
        assert [h["url"] for h in feed.get("hubs", [])] == [f"{base}hub"]
        assert feed["items"][0]["url"] == f"{base}posts/old/"
        # OPML
        opml = etree.fromstring(serve.get("/feeds/index.opml").content)
        urls = [str(o.get("xmlUrl")) for o in opml.iter("outline") if o.get("xmlUrl")]
        assert urls and all(u.startswith(base) for u in urls)
        # the hub the feeds name is the preview's, which runs none
        assert serve.get("/hub").status_code == 503
        # HTML pages carry the reload script; the built files do not
        page = html.fromstring(serve.get("/posts/old/").content)
        scripts = page.xpath("//script/@src")
        assert scripts == ["/_feedpub/reload.js"]
        built = (serve.folder / "public" / "posts" / "old" / "index.html").read_text()
        assert "_feedpub" not in built
        assert (
            serve.get("/_feedpub/reload.js").headers["content-type"].startswith("text/javascript")
        )
    finally:
        assert serve.stop() == 0


def test_production_untouched_and_nobody_pinged(site: Path, pings: tuple[str, list[str]]) -> None:
    _build_production(site)
    before = {name: _tree_digest(site / name) for name in ("public", "state", "articles")}
    serve = Serve(site, "--drafts", "--future")
    try:
        builds = serve.health()["builds"]
        _article(site, "new.md", "Brand New", "2021-05-05")
        serve.until(lambda: "Brand New" in serve.titles(), "the new article in the preview")
        assert serve.health()["builds"] > builds
        state = serve.folder / "state" / "state.sqlite3"
        assert state.exists()
    finally:
        assert serve.stop() == 0
    (site / "articles" / "new.md").unlink()
    after = {name: _tree_digest(site / name) for name in ("public", "state", "articles")}
    assert after == before
    assert pings[1] == []
    assert not serve.folder.exists()  # the private folder is gone
    # the preview's own state had no outbox rows either: it is gone, so ask the log
    assert "notifications queued" not in serve.logs()


def test_drafts_and_future_articles_only_when_asked(site: Path) -> None:
    plain = Serve(site)
    try:
        assert plain.titles() == ["An Old One"]
        assert plain.get("/posts/draft/").status_code == 404
    finally:
        plain.stop()
    drafts = Serve(site, "--drafts")
    try:
        assert drafts.titles() == ["A Draft", "An Old One"]
        assert drafts.get("/posts/draft/").status_code == 200
    finally:
        drafts.stop()
    future = Serve(site, "--future")
    try:
        assert future.titles() == ["An Old One", "Not Yet"]
        assert future.get("/posts/later/").status_code == 200
    finally:
        future.stop()
    both = Serve(site, "--drafts", "--future")
    try:
        assert both.titles() == ["A Draft", "An Old One", "Not Yet"]
    finally:
        both.stop()


def test_a_saved_title_reloads_the_open_page_in_a_browser(site: Path) -> None:
    serve = Serve(site)
    try:
        url = serve.base + "posts/old/"
        with Browser(url) as browser:
            browser.until(
                lambda: any("An Old One" in p["title"] for p in browser.pages()), "the page"
            )
            # the page's stream is open before the change (else the first event says it)
            serve.until(lambda: serve.health()["event_streams"] >= 1, "the event stream")
            _article(site, "old.md", "A Renamed One", "2020-01-02")
            browser.until(
                lambda: any("A Renamed One" in p["title"] for p in browser.pages()),
                "the page to reload with its new title",
                timeout=60,
            )
    finally:
        assert serve.stop() == 0


def test_a_broken_article_is_logged_and_the_preview_keeps_serving(site: Path) -> None:
    serve = Serve(site)
    try:
        (site / "articles" / "broken.md").write_text(
            "---\ntitle: [unclosed\ndate: 2020-01-01\n---\nBody.\n", encoding="utf-8"
        )
        serve.wait_for(r"(broken\.md:\d+: .+)")
        assert serve.get("/").status_code == 200
        assert serve.titles() == ["An Old One"]
        _article(site, "broken.md", "Mended", "2020-03-01")
        serve.until(lambda: "Mended" in serve.titles(), "the mended article")
    finally:
        assert serve.stop() == 0


def test_shutdown_is_prompt_with_open_event_streams(site: Path) -> None:
    serve = Serve(site)
    port = int(serve.base.split(":")[2].split("/")[0])
    streams = []
    try:
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(b"GET /_feedpub/events HTTP/1.1\r\nHost: x\r\n\r\n")
            streams.append(sock)
        for sock in streams:
            head = sock.recv(4096)
            assert head.startswith(b"HTTP/1.1 200"), head
        serve.until(lambda: serve.health()["event_streams"] == 3, "three open streams")
        assert serve.stop(signal.SIGTERM) == 0
        for sock in streams:  # each stream was ended, not cut
            rest = b""
            while chunk := sock.recv(4096):
                rest += chunk
            assert rest.endswith(b"0\r\n\r\n"), rest
        assert "timeout graceful shutdown exceeded" not in serve.logs()
    finally:
        for sock in streams:
            sock.close()
        serve.stop()


def test_a_closed_terminal_sighup_stops_it_and_removes_its_folder(site: Path) -> None:
    serve = Serve(site)
    try:
        assert serve.folder.is_dir()
        assert serve.stop(signal.SIGHUP) == 0
        assert not serve.folder.exists()
    finally:
        serve.stop()


def test_open_starts_a_browser_on_the_preview(site: Path) -> None:
    opened = site / "opened.txt"
    browser = site / "fake-browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    serve = Serve(site, "--open", env={"BROWSER": str(browser)})
    try:
        serve.until(lambda: opened.exists() and opened.read_text().strip(), "the browser")
        assert opened.read_text().strip() == serve.base
    finally:
        serve.stop()


def test_a_port_in_use_is_one_clear_line(site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        done = subprocess.run(
            [sys.executable, "-m", "feedpub", "serve", "--port", str(taken.getsockname()[1])],
            cwd=site,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert "(--host/--port): the port is in use" in done.stderr
    assert "Traceback" not in done.stderr


# -- the parts, in process ----------------------------------------------------------------


def test_local_base_url() -> None:
    assert local_base_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert local_base_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert local_base_url("::", 8000) == "http://[::1]:8000/"
    assert local_base_url("::1", 8000) == "http://[::1]:8000/"


def test_the_script_goes_into_the_head_or_at_the_end() -> None:
    page = with_script(b"<html><HEAD ><title>x</title></HEAD ><body>y</body></html>", "r-1")
    assert page.index(b"<script") < page.index(b"</HEAD >")
    assert b'data-build="r-1"' in page
    bare = with_script(b"<p>no head</p></body>", "r-2")
    assert bare.index(b"<script") < bare.index(b"</body>")
    assert with_script(b"text", "r-3").startswith(b"text<script")


def test_event_streams_are_bounded_kept_alive_and_closed() -> None:
    async def scenario() -> None:
        events = Events(max_streams=2, keepalive_seconds=0.05)
        sent: list[list[bytes]] = [[], [], []]
        gone = [asyncio.Event() for _ in range(3)]
        statuses: list[int] = []

        def client(i: int) -> tuple[Any, Any]:
            async def receive() -> dict[str, Any]:
                await gone[i].wait()
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
                else:
                    sent[i].append(message["body"])

            return receive, send

        tasks = [asyncio.ensure_future(events.stream(*client(i))) for i in range(2)]
        while events.streams < 2:
            await asyncio.sleep(0.01)
        await events.stream(*client(2))  # a third: refused at once
        assert statuses == [200, 200, 503]
        events.published()
        while not any(b"-1\n" in b for b in sent[0]) or b": keep-alive\n\n" not in sent[0]:
            await asyncio.sleep(0.01)
        gone[1].set()  # a reader leaves: its stream ends, and its place is free
        await asyncio.wait_for(tasks[1], 5)
        assert events.streams == 1
        events.close()  # shutting down: every stream ends
        await asyncio.wait_for(tasks[0], 5)
        assert sent[0][-1] == b""
        assert events.streams == 0

    asyncio.run(scenario())


def test_the_preview_config_opens_nothing_of_production(tmp_path: Path) -> None:
    from dataclasses import replace

    from feedpub.config import StateConfig, from_mapping
    from feedpub.preview import preview_config

    config = from_mapping(
        {
            "site": {
                "title": "T",
                "base_url": "https://example.org/blog/",
                "article_url": "https://example.org/blog/p/{slug}.html",
            },
            "notify": {"hubs": ["https://hub.example/"], "weblogupdates": ["https://rpc.example/"]},
            "hub": {"enabled": True},
        },
        base_dir=tmp_path,
    )
    config = replace(config, state=StateConfig(url="postgresql+psycopg://u:p@db/feeds"))
    local = preview_config(config, base_url="http://127.0.0.1:9/blog/", folder=tmp_path / "p")
    assert local.state_target == tmp_path / "p" / "state" / "state.sqlite3"  # never production's
    assert local.paths.output == tmp_path / "p" / "public"
    assert local.paths.articles == config.paths.articles
    assert local.site.article_url == "{base_url}p/{slug}.html"
    assert local.advertised_hubs == ("http://127.0.0.1:9/blog/hub",)
    assert local.notify.weblogupdates == () and not local.notify.enabled
