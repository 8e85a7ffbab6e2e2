"""render/stylesheet.py and feed.xsl: the XSLT stylesheet Atom and RSS feeds name for browsers
(``[feeds] stylesheet``). Feeds transformed with lxml's XSLT (libxslt, the engine Chromium
uses) and the page read with html5lib: the feed's title, description and URL, the entries; no
live markup from any article; readers see the same feed with the processing instruction as
without. Builds publish the stylesheet like any other file. A real Chromium shows what it
does with a feed naming a stylesheet."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.articles.text import xml_safe
from feedpub.model import FeedFormat
from feedpub.render import STYLESHEET_PATH, EntryBody, Links, feed_relpath
from feedpub.render.jsonfeed import render_json
from feedpub.render.paths import stylesheet_href
from feedpub.render.stylesheet import builtin_stylesheet, with_stylesheet
from feedpub.render.xmlfeeds import render_xml
from tests.conftest import Site
from tests.render_helpers import (
    BASE,
    SITE,
    TITLES,
    UNTRUSTED,
    article,
    bodies,
    feed,
    html5_document,
    shown,
    text_of,
)

STYLED = Links(site=SITE, stylesheet=True)
PLAIN = Links(site=SITE)
XML_FORMATS: tuple[FeedFormat, ...] = ("atom", "rss")
HOSTILE_TITLE = 'Q&A <script>alert(1)</script> <img src=x onerror="alert(2)">'
HOSTILE_SUMMARY = "Tom & Jerry <script>alert(3)</script><img src=x onerror=alert(4)> &amp; more"


def transform(document: bytes, stylesheet: bytes | None = None) -> Any:
    """The page a browser applying the stylesheet shows, parsed as HTML5."""
    xslt = etree.XSLT(etree.fromstring(stylesheet or builtin_stylesheet()))
    result = xslt(etree.fromstring(document))
    return html5_document(str(result))


def live(page: Any) -> list[str]:
    """What could run in the page: script-like elements, event handlers, non-http(s) links."""
    found = []
    for el in page.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in ("script", "iframe", "object", "embed", "img", "svg", "base", "form"):
            found.append(el.tag)
        found += [f"{el.tag}@{name}" for name in el.attrib if name.lower().startswith("on")]
        href = el.get("href")
        if href is not None and not href.startswith(("https://", "http://")):
            found.append(f"{el.tag}@href={href}")
    return found


def _pi(document: bytes) -> str:
    """The text of the processing instruction before the document's root element."""
    pi = etree.fromstring(document).getprevious()
    assert pi is not None and pi.target == "xml-stylesheet"  # type: ignore[attr-defined]
    return str(pi.text)


def entries(page: Any) -> list[dict[str, str | None]]:
    out = []
    for art in page.iter("article"):
        a = art.find("h2/a")
        summary = art.find("p")
        time = art.find("time")
        out.append(
            {
                "title": text_of(art.find("h2")),
                "href": a.get("href") if a is not None else None,
                "date": text_of(time) if time is not None else None,
                "summary": text_of(summary) if summary is not None else None,
            }
        )
    return out


# --- the stylesheet itself ---------------------------------------------------------------------


def test_the_shipped_stylesheet_is_xslt_and_never_unescapes() -> None:
    data = builtin_stylesheet()
    root = etree.fromstring(data)
    etree.XSLT(root)  # compiles
    assert root.xpath("//@disable-output-escaping") == []
    assert root.xpath("//*[local-name() = 'script']") == []


def test_processing_instruction_right_after_the_declaration() -> None:
    doc = b"<?xml version='1.0' encoding='UTF-8'?>\n<feed/>"
    assert with_stylesheet(doc, "../../feed.xsl") == (
        b"<?xml version='1.0' encoding='UTF-8'?>\n"
        b'<?xml-stylesheet type="text/xsl" href="../../feed.xsl"?>\n<feed/>'
    )
    for bad_doc, href in ((b"<feed/>", "feed.xsl"), (doc, 'x"?><script/>')):
        with pytest.raises(ValueError, match="cannot name"):
            with_stylesheet(bad_doc, href)


@pytest.mark.parametrize("fmt", XML_FORMATS)
@pytest.mark.parametrize(
    ("key", "page"), [("all", 0), ("news", 0), ("python.tag", 0), ("all-fr", 0), ("all", 3)]
)
def test_the_href_reaches_the_stylesheet_from_every_feed(
    key: str, fmt: FeedFormat, page: int
) -> None:
    """Relative to the feed: what a browser resolves against the feed's URL is the published
    stylesheet, for subscription and archive documents alike, on any host."""
    relpath = feed_relpath(key, fmt, page)
    href = stylesheet_href(relpath)
    assert not href.startswith(("/", "http"))
    for base in (BASE, "https://example.org/blog/", "http://127.0.0.1:8080/"):
        assert urljoin(base + relpath, href) == base + STYLESHEET_PATH
    spec = feed(article(1), key=key, page=page)
    doc = render_xml(spec, fmt, STYLED, bodies())
    assert _pi(doc) == f'type="text/xsl" href="{href}"'


# --- feeds naming it: the same feed for readers -------------------------------------------------


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_readers_see_the_same_feed(fmt: FeedFormat) -> None:
    spec = feed(article(1, summary="One"), article(2, title="Two & <b>two</b>"))
    plain = render_xml(spec, fmt, PLAIN, bodies())
    styled = render_xml(spec, fmt, STYLED, bodies())
    assert styled == render_xml(spec, fmt, STYLED, bodies())  # deterministic
    pi = f'\n<?xml-stylesheet type="text/xsl" href="{stylesheet_href(feed_relpath("all", fmt))}"?>'
    assert styled == plain.replace(b"?>", b"?>" + pi.encode(), 1)
    a, b = feedparser.parse(plain), feedparser.parse(styled)
    assert not b.bozo
    assert b.feed == a.feed
    assert b.entries == a.entries
    assert etree.tostring(etree.fromstring(styled)) == etree.tostring(etree.fromstring(plain))


def test_json_feed_is_untouched() -> None:
    spec = feed(article(1))
    assert render_json(spec, STYLED, bodies()) == render_json(spec, PLAIN, bodies())


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_the_page_shows_the_feed_its_url_and_entries(fmt: FeedFormat) -> None:
    spec = feed(
        article(2, title="Second", summary="The second one."),
        article(1, title="First"),
        title="Example",
    )
    body = EntryBody(content_html="<p>Body <em>text</em>.</p>", summary="Body text.")
    page = transform(render_xml(spec, fmt, STYLED, bodies(body)))
    assert text_of(page.find(".//h1")) == "Example"
    assert text_of(page.find(".//p[@class='feed-description']")) == SITE.description
    assert "feed reader" in text_of(page.find(".//div[@class='feed-note']"))
    assert page.find(".//input[@class='feed-url']").get("value") == BASE + feed_relpath("all", fmt)
    assert page.find(".//head/title").text.startswith("Example")
    assert entries(page) == [
        {
            "title": "Second",
            "href": f"{BASE}articles/a2/",
            "date": "2025-01-03" if fmt == "atom" else "Fri, 03 Jan 2025",
            "summary": "The second one.",
        },
        {
            "title": "First",
            "href": f"{BASE}articles/a1/",
            "date": "2025-01-02" if fmt == "atom" else "Thu, 02 Jan 2025",
            "summary": "Body text.",
        },
    ]
    assert "Body" not in text_of(page.find(".//main")).replace("Body text.", "")  # no content
    assert live(page) == []


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_script_in_an_article_stays_text(fmt: FeedFormat) -> None:
    spec = feed(article(1, title=HOSTILE_TITLE, summary=HOSTILE_SUMMARY))
    page = transform(render_xml(spec, fmt, STYLED, bodies()))
    assert live(page) == []
    [entry] = entries(page)
    assert entry["title"] == HOSTILE_TITLE  # shown as the author wrote it, as text
    assert entry["summary"] == HOSTILE_SUMMARY
    csp = page.find(".//meta[@http-equiv='Content-Security-Policy']").get("content")
    assert "default-src 'none'" in csp and "script-src" not in csp


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_a_link_that_is_not_http_is_not_a_link(fmt: FeedFormat) -> None:
    from dataclasses import replace

    hostile = replace(article(1), url="javascript:alert(1)")
    page = transform(render_xml(feed(hostile), fmt, STYLED, bodies()))
    assert live(page) == []
    assert entries(page)[0]["href"] is None


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_long_escaped_text_is_read_back_whole(fmt: FeedFormat) -> None:
    """RSS text is read back piece by piece: thousands of references nest no deeper."""
    summary = ("&<>\"' x&amp;y " * 3000)[:29_999]
    page = transform(render_xml(feed(article(1, summary=summary)), fmt, STYLED, bodies()))
    assert entries(page)[0]["summary"] == summary


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(title=TITLES, summary=UNTRUSTED, fmt=st.sampled_from(XML_FORMATS))
def test_untrusted_text_is_shown_as_text_and_never_runs(
    title: str, summary: str, fmt: FeedFormat
) -> None:
    spec = feed(article(1, title=title, summary=summary or None))
    body = EntryBody(content_html="<p>x</p>", summary="")
    page = transform(render_xml(spec, fmt, STYLED, bodies(body)))
    assert live(page) == []
    [entry] = entries(page)
    assert entry["title"] == shown(title)
    if xml_safe(summary).strip():
        assert entry["summary"] == shown(summary)


# --- builds publish it ------------------------------------------------------------------------


def _styled_site(site: Site, value: str = "true") -> Site:
    site.config_text += f"stylesheet = {value}\narchive_size = 1\n"
    for n in range(1, 8):  # (max_entries = 5: the oldest go to archive documents)
        site.article(f"a{n}.md", f"Article {n}", f"2025-01-0{n}T10:00:00Z")
    return site


def _xml_feeds(site: Site) -> list[str]:
    return [
        str(p.relative_to(site.output))
        for p in sorted(site.output.rglob("*.xml"))
        if p.name.endswith((".atom.xml", ".rss.xml"))
    ]


def test_a_build_publishes_it_and_every_feed_finds_it(site: Site) -> None:
    result = _styled_site(site).build()
    assert not result.problems
    assert site.read(STYLESHEET_PATH) == builtin_stylesheet()
    assert STYLESHEET_PATH in result.written
    relpaths = _xml_feeds(site)
    assert any("/archive/" in r for r in relpaths)  # archive documents, in subfolders
    for relpath in relpaths:
        href = _pi(site.read(relpath)).split('href="', 1)[1].rstrip('"')
        assert urljoin(BASE + relpath, href) == BASE + STYLESHEET_PATH, relpath
    for json_path in site.output.rglob("*.json"):
        assert b"xml-stylesheet" not in json_path.read_bytes()
    again = site.build()
    assert again.written == ()  # the same bytes: nothing written


def test_turned_off_it_goes_and_the_feeds_name_it_no_more(site: Site) -> None:
    _styled_site(site).build()
    site.config_text = site.config_text.replace("stylesheet = true", "stylesheet = false")
    result = site.build()
    assert STYLESHEET_PATH in result.removed
    assert not (site.output / STYLESHEET_PATH).exists()
    for relpath in _xml_feeds(site):
        assert b"xml-stylesheet" not in site.read(relpath)


def test_the_sites_own_stylesheet(site: Site) -> None:
    own = site.root / "theme" / "feed.xsl"
    own.parent.mkdir()
    mine = builtin_stylesheet().replace(b"This is a web feed.", b"Our feed!")
    own.write_bytes(mine)
    _styled_site(site, '"theme/feed.xsl"').build()
    assert site.read(STYLESHEET_PATH) == mine
    feeds_before = {r: site.read(r) for r in _xml_feeds(site)}
    # edited: only the stylesheet is written again
    own.write_bytes(mine.replace(b"Our feed!", b"Our own feed!"))
    result = site.build()
    assert result.written == (STYLESHEET_PATH,)
    assert {r: site.read(r) for r in _xml_feeds(site)} == feeds_before
    # broken: a problem naming the file; the stylesheet published before stays
    own.write_bytes(b"<xsl:stylesheet")
    result = site.build()
    [problem] = result.problems
    assert str(own) in problem.message and "not well-formed" in problem.message
    assert b"Our own feed!" in site.read(STYLESHEET_PATH)
    own.write_bytes(b"<html><script>alert(1)</script></html>")
    [problem] = site.build().problems
    assert "not an XSLT stylesheet" in problem.message


# --- a real browser -----------------------------------------------------------------------------


class _Feeds(http.server.BaseHTTPRequestHandler):
    """Serves one feed naming ``feed.xsl`` as a given media type (``/as/<type>``)."""

    document = b""

    def do_GET(self) -> None:
        if self.path == "/feed.xsl":
            body, ctype = builtin_stylesheet(), "application/xslt+xml"
        else:
            body, ctype = self.document, self.path.removeprefix("/as/").replace("_", "/")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served() -> Iterator[str]:
    spec = feed(article(1, title=HOSTILE_TITLE, summary=HOSTILE_SUMMARY), article(2))
    doc = render_xml(spec, "atom", STYLED, bodies())
    _Feeds.document = doc.replace(b'href="feed.xsl"', b'href="/feed.xsl"')  # (served at /as/...)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_chromium_shows_a_feed_served_as_a_feed_as_text(served: str) -> None:
    """What Chromium 156 does (the README says so): a feed served as application/atom+xml (or
    rss+xml), as feedpub serves them, is shown as plain text; the stylesheet is not applied,
    and nothing in the feed runs. If this fails, Chromium changed: update the README."""
    from tests.browser import dump_dom

    dom = dump_dom(served + "/as/application_atom+xml")
    page = html5_document(dom)
    assert page.find(".//pre") is not None  # the feed's text
    assert "&lt;?xml-stylesheet" in dom
    assert page.find(".//h1") is None
    assert [el.tag for el in page.iter() if el.tag in ("script", "img")] == []


def test_chromium_applies_the_stylesheet_to_a_feed_served_as_xml(served: str) -> None:
    """The same feed served as application/xml: Chromium's XSLT (libxslt) makes the page,
    with the entries, and the article's script is text."""
    from tests.browser import dump_dom

    page = html5_document(dump_dom(served + "/as/application_xml"))
    assert text_of(page.find(".//h1")) == "Example"
    found = entries(page)
    assert [e["title"] for e in found] == [HOSTILE_TITLE, "Article 2"]
    assert found[0]["summary"] == HOSTILE_SUMMARY
    assert [el.tag for el in page.iter() if el.tag in ("script", "img", "svg")] == []


def test_the_sites_stylesheet_is_read_bounded_and_never_through_a_link(tmp_path: Path) -> None:
    from feedpub.errors import RenderError
    from feedpub.render.stylesheet import MAX_STYLESHEET_BYTES, site_stylesheet

    own = tmp_path / "feed.xsl"
    own.write_bytes(builtin_stylesheet())
    assert site_stylesheet(own) == builtin_stylesheet()
    link = tmp_path / "link.xsl"
    link.symlink_to(own)  # (the config resolves links; one put there since is refused)
    with pytest.raises(RenderError, match="cannot read"):
        site_stylesheet(link)
    own.write_bytes(b"<!-- " + b"x" * MAX_STYLESHEET_BYTES + b" -->")
    with pytest.raises(RenderError, match="larger than"):
        site_stylesheet(own)
    lol = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    own.write_bytes(lol + b"<x>&b;</x>")
    with pytest.raises(RenderError, match="not an XSLT stylesheet"):
        site_stylesheet(own)
