"""Every entry reachable: a page per article, RFC 5005 archives, JSON Feed pages, the index
paginated; every link answered by the built-in server; files written per change counted."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import feedparser
import pytest
from lxml import etree

from feedpub.errors import ConfigError
from feedpub.planning import archive_pages
from feedpub.server import App, Store, bind, make_server
from tests.conftest import NOW, Site

BASE = "https://example.org/"
ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"
NS = {"a": ATOM, "fh": FH}
EXTS = ("atom.xml", "rss.xml", "json")


def _small_site(site: Site) -> dict[str, set[str]]:
    """16 articles in two categories (archive_size 3, max_entries 5: the feed of all articles
    has 4 archive pages), a hidden one, a draft and a future one. Returns the titles each
    feed must reach."""
    site.config_text = site.config_text.replace(
        "max_entries = 5", "max_entries = 5\narchive_size = 3"
    )
    want: dict[str, set[str]] = {"all": set(), "news": set(), "tech": set()}
    for i in range(16):
        cat = "News" if i % 2 else "Tech"
        site.article(f"a{i:02}.md", f"Article {i}", f"2025-01-{i + 1:02}T10:00:00Z", f"[{cat}]")
        want["all"].add(f"Article {i}")
        want[cat.lower()].add(f"Article {i}")
    site.article("secret.md", "Secret", "2025-01-20T00:00:00Z", "[News]", extra="status: hidden\n")
    site.article("draft.md", "Draft", "2025-01-21T00:00:00Z", "[News]", extra="draft: true\n")
    site.article("later.md", "Later", (NOW + timedelta(days=3)).isoformat(), "[News]")
    return want


@contextlib.contextmanager
def _serving(root: Path) -> Iterator[str]:
    store = Store(root)
    store.load_all()
    sock = bind("127.0.0.1", 0)
    server = make_server(App(store, lambda: {"status": "ok"}), sock)
    server.capture_signals = contextlib.nullcontext
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # (loopback)
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, b"", {}


def _links_in(relpath: str, data: bytes) -> set[str]:
    """Every URL a feed, archive, JSON page, OPML or HTML page points to."""
    if relpath.endswith(".json"):
        doc = json.loads(data)
        urls = {doc.get("home_page_url"), doc.get("feed_url"), doc.get("next_url")}
        urls |= {item.get("url") for item in doc["items"]}
        return {u for u in urls if u}
    if relpath.endswith((".xml", ".opml")):
        tree = etree.fromstring(data)
        query = "//@href | //@xmlUrl | //@htmlUrl | //link/text() | //guid/text()"
        found = cast(list[Any], tree.xpath(query))
        return {str(u).strip() for u in found}
    tree = etree.fromstring(data, etree.HTMLParser())
    return {str(u) for u in cast(list[Any], tree.xpath("//a/@href | //link/@href"))}


def _relpath(url: str) -> str:
    rel = url[len(BASE) :].split("#", maxsplit=1)[0]
    return rel + "index.html" if rel.endswith("/") or not rel else rel


def _chain(site: Site, key: str, fmt: str) -> list[list[str]]:
    """Follow prev-archive (next_url in JSON) from the subscription document: each
    document's entry titles, newest document first. Checks the RFC 5005 markup on the way."""
    ext = {"atom": "atom.xml", "rss": "rss.xml", "json": "json"}[fmt]
    url: str | None = f"{BASE}feeds/{key}.{ext}"
    docs: list[list[str]] = []
    seen_urls: list[str] = []
    while url:
        assert url not in seen_urls
        seen_urls.append(url)
        data = site.read(_relpath(url))
        archive = len(docs) > 0
        if fmt == "json":
            doc = json.loads(data)
            assert doc["feed_url"] == f"{BASE}feeds/{key}.json"
            docs.append([item["title"] for item in doc["items"]])
            url = doc.get("next_url")
            continue
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        docs.append([e.title for e in parsed.entries])
        tree = etree.fromstring(data)
        root = tree if fmt == "atom" else tree.find("channel")
        assert root is not None

        def rel(name: str, root: Any = root) -> list[str]:
            return [str(h) for h in root.xpath(f"a:link[@rel='{name}']/@href", namespaces=NS)]

        assert len(root.findall(f"{{{FH}}}archive")) == (1 if archive else 0), url
        assert rel("self") == [url]
        if archive:
            assert rel("current") == [f"{BASE}feeds/{key}.{ext}"]
            if len(seen_urls) > 2:  # a newer archive document links back to it
                assert rel("next-archive") == [seen_urls[-2]]
            else:
                assert rel("next-archive") == []
        else:
            assert rel("current") == rel("next-archive") == []
        prev = rel("prev-archive")
        assert len(prev) <= 1
        url = prev[0] if prev else None
    return docs


def test_every_url_answers_and_every_entry_is_reached_once(site: Site) -> None:
    want = _small_site(site)
    site.build()
    out = site.output
    assert (out / "feeds/archive/all/4.atom.xml").is_file()
    assert not (out / "feeds/archive/all/5.atom.xml").exists()
    # pages: every published article, the hidden one too; no draft, no future article
    pages = {p.parent.name for p in (out / "articles").glob("*/index.html")}
    assert pages == {f"a{i:02}" for i in range(16)} | {"secret"}

    for key, titles in want.items():
        for fmt in ("atom", "rss", "json"):
            docs = _chain(site, key, fmt)
            reached = [t for doc in docs for t in doc]
            assert sorted(reached) == sorted(titles), (key, fmt)  # each once, hidden none
            assert len(docs[0]) == min(5, len(titles))  # the subscription document's size
            assert all(len(doc) <= 3 for doc in docs[1:])
        # archive page 1 holds the oldest entries
        first = json.loads(site.read(f"feeds/archive/{key}/1.json"))
        assert "next_url" not in first
        oldest = sorted(titles, key=lambda t: int(t.split()[1]))[:3]
        assert sorted(i["title"] for i in first["items"]) == sorted(oldest)

    # the index lists every article but the hidden one, over its pages
    listed: list[str] = []
    relpath: str | None = "index.html"
    while relpath:
        html = etree.fromstring(site.read(relpath), etree.HTMLParser())
        listed += [str(t) for t in cast(list[Any], html.xpath("//main//li[time]/a/text()"))]
        older = cast(list[Any], html.xpath("//nav//a[@rel='next']/@href"))
        relpath = _relpath(str(older[0])) if older else None
    assert sorted(listed) == sorted(want["all"])

    # every URL under base_url in every feed, archive, JSON page, the OPML and the index
    # pages answers 200 from the built-in server
    with _serving(out) as served:
        todo = ["index.html", "feeds/index.opml"]
        todo += [str(p.relative_to(out)) for p in (out / "feeds").rglob("*") if p.is_file()]
        crawled: set[str] = set()
        checked: set[str] = set()
        while todo:
            rel = todo.pop()
            if rel in crawled:
                continue
            crawled.add(rel)
            status, body, _ = _fetch(served + rel.removesuffix("index.html"))
            assert status == 200, rel
            for url in _links_in(rel, body):
                if not url.startswith(BASE):
                    continue
                target = _relpath(url)
                if target not in checked:
                    checked.add(target)
                    status, _, _ = _fetch(served + url[len(BASE) :])
                    assert status == 200, (rel, url)
                if target.endswith((".xml", ".json", ".opml")) or target.startswith("page/"):
                    todo.append(target)
        assert "articles/secret/index.html" not in checked  # linked from nowhere
        assert _fetch(served + "articles/secret/")[0] == 200  # but there
        assert _fetch(served + "articles/draft/")[0] == 404
        assert {"feeds/archive/all/1.atom.xml", "page/1/index.html"} <= crawled


def _written(site: Site) -> set[str]:
    return set(site.build().written)


def test_a_new_article_rewrites_the_current_feed_and_the_newest_archive_only(
    site: Site,
) -> None:
    _small_site(site)
    site.build()
    # a new article: the feeds it is in, their newest archive page, the index (and its
    # newest page), its page; no other archive document. (Tech's archive had one full
    # page: the entry leaving its feed starts page 2, and page 1 gains its next-archive
    # link, in Atom and RSS; JSON Feed pages link only to older ones.)
    site.article("new.md", "New", "2025-02-01T00:00:00Z", "[Tech]")
    written = _written(site)
    archives = {p for p in written if p.startswith("feeds/archive/")}
    assert archives == {
        f"feeds/archive/{k}/{n}.{e}"
        for k, n in (("all", 4), ("tech", 2))
        for e in ("atom.xml", "rss.xml", "json")
    } | {"feeds/archive/tech/1.atom.xml", "feeds/archive/tech/1.rss.xml"}
    # the next one: the newest archive pages only
    site.article("new2.md", "New 2", "2025-02-02T00:00:00Z", "[Tech]")
    assert {p for p in _written(site) if p.startswith("feeds/archive/")} == {
        f"feeds/archive/{k}/{n}.{e}"
        for k, n in (("all", 5), ("all", 4), ("tech", 2))
        for e in ("atom.xml", "rss.xml", "json")
    } - {"feeds/archive/all/4.json"}
    assert written - archives == {
        *(f"feeds/{k}.{e}" for k in ("all", "tech") for e in ("atom.xml", "rss.xml", "json")),
        "index.html",
        "page/4/index.html",
        "articles/new/index.html",
    }
    # nothing changed: nothing written
    assert _written(site) == set()
    # a back-dated article lands in the oldest page: only that page is rewritten
    site.article("old.md", "Old", "2024-06-01T00:00:00Z", "[News]")
    written = _written(site)
    assert written == {
        *(
            f"feeds/archive/{k}/1.{e}"
            for k in ("all", "news")
            for e in ("atom.xml", "rss.xml", "json")
        ),
        "page/1/index.html",
        "articles/old/index.html",
    }
    # an edit of an archived article rewrites the pages it is in, and its page
    site.article("a02.md", "Article 2, edited", "2025-01-03T10:00:00Z", "[Tech]")
    written = _written(site)
    assert written == {
        *(
            f"feeds/archive/{k}/1.{e}"
            for k in ("all", "tech")
            for e in ("atom.xml", "rss.xml", "json")
        ),
        "page/1/index.html",
        "articles/a02/index.html",
    }
    # a deleted article: its page goes
    (site.articles / "a05.md").unlink()
    result = site.build()
    assert "articles/a05/index.html" in result.removed
    assert not (site.output / "articles/a05").exists()
    # the hidden article made a draft: its page goes too
    site.article("secret.md", "Secret", "2025-01-20T00:00:00Z", "[News]", extra="draft: true\n")
    assert "articles/secret/index.html" in site.build().removed


def test_archive_pages_keep_their_boundaries() -> None:
    keys = [(i, f"id{i}") for i in range(10)]
    pages, sealed = archive_pages(keys, size=3)
    assert pages == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert sealed == [(2, "id2"), (5, "id5"), (8, "id8")]
    # a back-dated key lands in the page its date falls in; no other page moves
    more = sorted([*keys, (4, "id4b")])
    pages, again = archive_pages(more, size=3, sealed=sealed)
    assert pages == [(0, 3), (3, 7), (7, 10), (10, 11)]
    assert again == sealed
    # a key gone: its page shrinks
    fewer = [k for k in keys if k != (1, "id1")]
    assert archive_pages(fewer, size=3, sealed=sealed)[0] == [(0, 2), (2, 5), (5, 8), (8, 9)]
    # the newest sealed page keeps its boundary too (keys after it start a new page)
    assert archive_pages(keys[:9], size=3, sealed=sealed) == ([(0, 3), (3, 6), (6, 9)], sealed)
    assert archive_pages(keys[:8], size=3, sealed=sealed) == ([(0, 3), (3, 6), (6, 8)], sealed)
    assert archive_pages(keys[:6], size=3, sealed=sealed) == ([(0, 3), (3, 6)], sealed[:2])
    # a page grown past twice the size (an import of old articles) is cut again
    imported = sorted([*keys, *((0, f"old{i}") for i in range(7))])
    pages, _ = archive_pages(imported, size=3, sealed=sealed)
    assert max(end - start for start, end in pages) <= 3
    assert archive_pages([], size=3, sealed=sealed) == ([], [])


@pytest.mark.parametrize("value", ["0", "1001", '"50"'])
def test_archive_size_is_validated(site: Site, value: str) -> None:
    site.config_text += f"archive_size = {value}\n"
    with pytest.raises(ConfigError, match=r"feeds\.archive_size"):
        site.config()
