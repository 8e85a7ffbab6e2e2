"""Sites written for other generators (tests/data/sites: Pelican, Jekyll, Hugo, written for
these tests in the forms those generators document) build as their authors meant: the
categories, dates, titles, links and files they meant, read back by feedparser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from lxml import etree

from feedpub import config as config_mod
from feedpub.build import Builder
from feedpub.model import BuildResult

SITES = Path(__file__).parent / "data" / "sites"
BASE = "https://example.org/"
ATOM = "{http://www.w3.org/2005/Atom}"


class Built:
    def __init__(self, root: Path, result: BuildResult) -> None:
        self.root = root
        self.out = root / "public"
        self.result = result

    def feed(self, name: str = "all") -> feedparser.FeedParserDict:
        parsed = feedparser.parse((self.out / "feeds" / f"{name}.atom.xml").read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        return parsed

    def entry(self, title: str) -> feedparser.FeedParserDict:
        return next(e for e in self.feed().entries if e.title == title)

    def content(self, title: str) -> str:
        return str(self.entry(title).content[0].value)


def build(tmp_path: Path, site: str, articles: str, extra: str = "", site_extra: str = "") -> Built:
    root = tmp_path / site
    shutil.copytree(SITES / site, root)
    (root / "config.toml").write_text(
        f'[site]\ntitle = "A {site} site"\nbase_url = "{BASE}"\n{site_extra}'
        f'[paths]\narticles = "{articles}"\noutput = "public"\nstate = "state/state.sqlite3"\n'
        + extra,
        encoding="utf-8",
    )
    from datetime import UTC, datetime

    config = config_mod.load(root / "config.toml")
    with Builder(config, clock=lambda: datetime(2025, 1, 1, tzinfo=UTC), workers=0) as b:
        return Built(root, b.build())


def _check_published(built: Built) -> None:
    """Every feed is read without error by feedparser; Atom ids are IRIs; every URL under
    base_url that a feed holds is a file in the output folder."""
    for path in sorted((built.out / "feeds").glob("*")):
        if path.name.endswith(".atom.xml"):
            tree = etree.fromstring(path.read_bytes())
            for ident in tree.iter(f"{ATOM}id"):
                assert re.match(r"[a-z][a-z0-9+.-]*:", ident.text or ""), ident.text
            assert len(tree.findall(f"{ATOM}link[@rel='self']")) == 1  # RFC 4287 4.1.1
            for stamp in (*tree.iter(f"{ATOM}updated"), *tree.iter(f"{ATOM}published")):
                assert re.search(r"(Z|[+-]\d\d:\d\d)$", stamp.text or ""), stamp.text
            for entry in tree.iter(f"{ATOM}entry"):  # id, title, updated: each exactly once
                for name in ("id", "title", "updated"):
                    assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        if path.name.endswith(".rss.xml"):
            for date in etree.fromstring(path.read_bytes()).iter("pubDate"):
                assert re.search(r"([+-]\d{4}|GMT|UT)$", date.text or ""), date.text
        if path.name.endswith(".json"):
            doc = json.loads(path.read_bytes())
            assert doc["version"] == "https://jsonfeed.org/version/1.1" and "title" in doc
            assert all("id" in item for item in doc["items"])
        else:
            assert feedparser.parse(path.read_bytes()).bozo == 0, path
        text = path.read_text(encoding="utf-8")
        for url in set(re.findall(r'(?:href|src)=(?:"|&quot;)(https://example\.org/[^"&]*)', text)):
            rel = unquote(url[len(BASE) :].split("#", 1)[0])
            if rel == "" or rel.endswith("/"):
                rel += "index.html"
            assert (built.out / rel).is_file(), f"{path.name}: {url} is not published"
        assert "feedpub-ref" not in text and "{%" not in text and "{{<" not in text
    _walk(built)


def _walk(built: Built) -> None:
    """Every URL under base_url that any published file holds (feeds, archives, pages, the
    OPML, the index; links in entry content too) answers 200 from the built-in server."""
    from tests.test_archives import _fetch, _links_in, _serving

    urls: set[str] = set()
    for path in sorted(p for p in built.out.rglob("*") if p.is_file()):
        rel = path.relative_to(built.out).as_posix()
        if not rel.endswith((".xml", ".json", ".opml", ".html")):
            continue
        data = path.read_bytes()
        urls |= {u for u in _links_in(rel, data) if u.startswith(BASE)}
        urls |= set(
            re.findall(
                r'(?:href|src)=(?:"|&quot;|\\")(https://example\.org/[^"&\\]*)', data.decode()
            )
        )
    assert len(urls) > 10
    with _serving(built.out) as local:
        for url in sorted(urls):
            status, _, _ = _fetch(local + url[len(BASE) :])
            assert status == 200, url


def test_a_pelican_site(tmp_path: Path) -> None:
    built = build(tmp_path, "pelican", "content")
    feed = built.feed()
    assert [e.title for e in feed.entries] == [
        "Stones & soup",
        "Cooking with pebbles",
        "A summary on several lines",
        "Second thoughts",
        "First steps with a static site",
    ]
    pebbles = built.entry("Cooking with pebbles")  # reStructuredText
    assert pebbles.link == BASE + "articles/pebbles/"
    assert pebbles.published == "2020-04-01T10:20:00+00:00"
    assert pebbles.summary == "A soup that needs a very patient cook."
    assert f'href="{BASE}articles/first-steps/"' in built.content(pebbles.title)
    assert f'src="{BASE}images/logo.png"' in built.content(pebbles.title)
    assert f'href="{BASE}articles/pebbles/"' in built.content("Stones & soup")  # HTML
    french = built.feed("all-fr")  # a translation: its language's feed, not the site's
    assert [e.title for e in french.entries] == ["Cuisiner avec des galets"]
    assert french.entries[0].link == BASE + "articles/pebbles-fr/"
    page = (built.out / "articles/pebbles/index.html").read_text(encoding="utf-8")
    assert f'hreflang="fr" href="{BASE}articles/pebbles-fr/"' in page
    assert (built.out / "articles/a-hidden-note/index.html").is_file()
    summary = built.entry("A summary on several lines").summary
    assert summary == "This summary goes on over an indented second line, and a third."
    first = built.entry("First steps with a static site")
    assert first.published == "2019-03-04T10:20:00+00:00"
    assert first.updated == "2019-03-05T19:30:00+00:00"
    assert first.link == BASE + "articles/first-steps/"
    assert [a.name for a in first.authors] == ["Ada Lovelace", "Grace Hopper"]
    assert first.summary == "How this blog was set up, in a few short steps."
    assert {t.term for t in first.tags} >= {"Python"}
    assert f'src="{BASE}images/logo.png"' in built.content(first.title)
    second = built.content("Second thoughts")
    assert f'href="{BASE}articles/first-steps/"' in second
    assert f'href="{BASE}feeds/python.atom.xml"' in second
    assert (built.out / "images/logo.png").read_bytes() == (
        SITES / "pelican/content/images/logo.png"
    ).read_bytes()
    assert built.result.excluded == 1  # pages/about.md
    assert (built.result.drafts, built.result.hidden) == (1, 1)  # the hidden note: its page
    assert "A note for those who have the link" not in {e.title for e in feed.entries}
    assert {p.path for p in built.result.problems} == set()
    _check_published(built)


def test_a_jekyll_site(tmp_path: Path) -> None:
    built = build(tmp_path, "jekyll", "_posts")
    feed = built.feed()
    assert [e.title for e in feed.entries] == [
        "Moving day",
        "Charts, and a look back",
        "Welcome to Jekyll!",
    ]
    assert built.entry("Moving day").published == "2023-01-29T00:00:00+00:00"
    welcome = built.entry("Welcome to Jekyll!")
    assert welcome.published == "2017-03-02T13:32:10+00:00"
    assert {t.term for t in welcome.tags} == {"jekyll", "update"}
    assert welcome.link == BASE + "articles/welcome-to-jekyll/"
    assert '<pre><code class="language-ruby">def print_hi' in built.content(welcome.title)
    charts = built.content("Charts, and a look back")
    assert charts.count(f'href="{BASE}articles/welcome-to-jekyll/"') == 2
    assert f'src="{BASE}chart.png"' in charts
    assert (built.out / "chart.png").is_file()
    include, date = sorted(built.result.problems, key=lambda p: p.path)
    assert (include.path, include.line) == ("2017-03-05-charts.md", 13)
    assert "{% include %}" in include.message
    assert (date.path, date.line) == ("2023-01-29-moving-day.md", 4)
    assert "using 2023-01-29 from the file name" in date.message
    _check_published(built)


def test_a_hugo_site(tmp_path: Path) -> None:
    built = build(tmp_path, "hugo", "content", site_extra='languages = ["fr"]\n')
    feed = built.feed()
    assert [e.title for e in feed.entries] == ["A trip to the sea", "My First Post"]
    # publishDate in 2030: scheduled; expiryDate passed: gone; about.fr.md: in French
    assert built.result.next_go_live is not None and built.result.next_go_live.year == 2030
    assert [e.title for e in built.feed("all-fr").entries] == ["Mon premier article"]
    assert not (built.out / "articles/old-offer/index.html").exists()
    first = built.entry("My First Post")
    assert first.published == "2024-01-14T06:07:07+00:00"
    assert {t.term for t in first.tags} == {"Travel", "red", "green"}
    trip = built.entry("A trip to the sea")
    assert trip.link == BASE + "articles/my-trip/"  # a page bundle: its folder's name
    content = built.content(trip.title)
    assert f'href="{BASE}articles/my-first-post/"' in content
    assert f'src="{BASE}posts/my-trip/harbour.png"' in content and "<figcaption>" in content
    assert (built.out / "posts/my-trip/harbour.png").is_file()
    assert built.result.excluded == 1  # _index.md
    assert built.result.drafts == 2  # the draft; the expired offer
    assert built.result.problems == ()  # (aliases: known, ignored)
    _check_published(built)


@pytest.mark.parametrize(("site", "articles"), [("pelican", "content"), ("hugo", "content")])
def test_a_second_build_of_a_site_writes_nothing(tmp_path: Path, site: str, articles: str) -> None:
    first = build(tmp_path, site, articles)
    assert first.result.written
    from datetime import UTC, datetime

    config = config_mod.load(first.root / "config.toml")
    with Builder(config, clock=lambda: datetime(2025, 1, 1, tzinfo=UTC), workers=0) as b:
        assert b.build().written == ()
