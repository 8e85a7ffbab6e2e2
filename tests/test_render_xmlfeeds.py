"""render/xmlfeeds.py called directly: Atom 1.0 and RSS 2.0 built from hand-made values, read
back by lxml and feedparser, checked against what RFC 4287 and the RSS 2.0 specification
require, for the same bytes every time, and for hostile text that reaches no reader alive.

(tests/test_render.py reads whole builds: escaping in every field, enclosures, podcasts.)
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.articles.text import xml_safe
from feedpub.config import SiteConfig
from feedpub.errors import RenderError
from feedpub.model import Article, Author, Enclosure, FeedFormat, FeedSpec, Podcast
from feedpub.planning import EPOCH
from feedpub.render import EntryBody, Links
from feedpub.render.jsonfeed import render_json
from feedpub.render.xmlfeeds import _AtomEntryLinks, podcast_guid, render_xml
from tests.render_helpers import (
    ABSOLUTE_IRI,
    BASE,
    BODY,
    HUB,
    LINKS,
    RFC_3339,
    TITLES,
    UNTRUSTED,
    WHEN,
    article,
    bodies,
    elements,
    feed,
    html5_fragment,
    links,
    shown,
    text_of,
)
from tests.test_render import (
    ITUNES,
    PODCAST,
    RFC_2822,
    apple_problems,
    atom_problems,
    feedparser_problems,
    live_markup,
    rss_problems,
)

A = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
ATOM_URL = f"{BASE}feeds/all.atom.xml"
RSS_URL = f"{BASE}feeds/all.rss.xml"
MP3 = f"{BASE}media/one.mp3"


def atom(spec: FeedSpec, lk: Links = LINKS, body: EntryBody | None = BODY) -> bytes:
    return render_xml(spec, "atom", lk, bodies(body))


def rss(spec: FeedSpec, lk: Links = LINKS, body: EntryBody | None = BODY) -> bytes:
    return render_xml(spec, "rss", lk, bodies(body))


# --- what the specifications require, checked element by element ----------------------------


def rfc4287_problems(data: bytes, self_url: str) -> list[str]:
    """What RFC 4287 (and its ``rel="self"`` advice) requires of an Atom feed document."""
    found: list[str] = []
    root = etree.fromstring(data)
    if root.tag != f"{A}feed":
        return [f"the root is {root.tag}, not atom:feed"]

    def at_most_one(parent: etree._Element, names: tuple[str, ...], where: str) -> None:
        for name in names:
            if len(parent.findall(f"{A}{name}")) > 1:
                found.append(f"{where}: more than one atom:{name}")

    def exactly_one(parent: etree._Element, name: str, where: str) -> etree._Element | None:
        els = parent.findall(f"{A}{name}")
        if len(els) != 1:
            found.append(f"{where}: {len(els)} atom:{name}, not 1")
        return els[0] if els else None

    def constructs(parent: etree._Element, where: str) -> None:
        el = exactly_one(parent, "id", where)
        if el is not None and not ABSOLUTE_IRI.fullmatch(el.text or ""):
            found.append(f"{where}: atom:id {el.text!r} is not an absolute IRI (4.2.6)")
        for name in ("updated", "published"):
            for date in parent.findall(f"{A}{name}"):
                if not RFC_3339.fullmatch(date.text or ""):
                    found.append(f"{where}: atom:{name} {date.text!r} is not RFC 3339 (3.3)")
        exactly_one(parent, "title", where)
        exactly_one(parent, "updated", where)
        for name in ("title", "subtitle", "summary", "rights"):
            for el in parent.findall(f"{A}{name}"):
                if el.get("type", "text") not in ("text", "html", "xhtml"):
                    found.append(f"{where}: atom:{name} type {el.get('type')!r} (3.1.1)")
        for person in parent.findall(f"{A}author") + parent.findall(f"{A}contributor"):
            exactly_one(person, "name", f"{where} person")  # 3.2.1
            at_most_one(person, ("uri", "email"), f"{where} person")
        alternates: set[tuple[str | None, str | None]] = set()
        for link in parent.findall(f"{A}link"):
            if not link.get("href"):
                found.append(f"{where}: atom:link without href (4.2.7.1)")
            if link.get("rel", "alternate") == "alternate":
                kind = (link.get("type"), link.get("hreflang"))
                if kind in alternates:
                    found.append(f"{where}: two alternate links of type {kind} (4.1.1, 4.1.2)")
                alternates.add(kind)

    constructs(root, "feed")
    at_most_one(root, ("generator", "icon", "logo", "rights", "subtitle"), "feed")
    selfs = [ln.get("href") for ln in root.findall(f"{A}link") if ln.get("rel") == "self"]
    if selfs != [self_url]:
        found.append(f"feed: self links {selfs}, not [{self_url!r}] (4.2.7.2)")
    feed_authors = root.findall(f"{A}author")
    for i, entry in enumerate(root.findall(f"{A}entry")):
        where = f"entry {i}"
        constructs(entry, where)
        at_most_one(entry, ("content", "published", "rights", "source", "summary"), where)
        if not feed_authors and not entry.findall(f"{A}author"):
            found.append(f"{where}: no atom:author, and the feed has none (4.1.1)")
        alternates = [ln for ln in entry.findall(f"{A}link") if ln.get("rel") == "alternate"]
        if entry.find(f"{A}content") is None and not alternates:
            found.append(f"{where}: neither atom:content nor an alternate link (4.1.2)")
    return found


RSS_ONCE = (
    "language", "copyright", "managingEditor", "webMaster", "pubDate", "lastBuildDate",
    "generator", "docs", "ttl", "image",
)  # fmt: skip
ITEM_ONCE = (
    "title", "link", "description", "author", "comments", "enclosure", "guid", "pubDate",
    "source",
)  # fmt: skip


def rss20_problems(data: bytes, self_url: str) -> list[str]:
    """What the RSS 2.0 specification requires of a channel and its items, and the RSS Best
    Practices Profile's ``atom:link rel="self"``."""
    found: list[str] = []
    root = etree.fromstring(data)
    if root.tag != "rss" or root.get("version") != "2.0":
        return [f"the root is <{root.tag} version={root.get('version')!r}>, not RSS 2.0"]
    channels = root.findall("channel")
    if len(channels) != 1:
        return [f"{len(channels)} channels, not 1"]
    channel = channels[0]
    for name in ("title", "link", "description"):  # required channel elements
        els = channel.findall(name)
        if len(els) != 1 or not els[0].text:
            found.append(f"channel: {len(els)} <{name}> or an empty one; 1 is required")
    if not (channel.findtext("link") or "").startswith(("http://", "https://")):
        found.append("channel: <link> is not an http(s) URL")
    for name in RSS_ONCE:
        if len(channel.findall(name)) > 1:
            found.append(f"channel: more than one <{name}>")
    for el in channel.findall("pubDate") + channel.findall("lastBuildDate"):
        if not RFC_2822.match(el.text or ""):
            found.append(f"channel: <{el.tag}> {el.text!r} is not RFC 822")
    selfs = [ln.get("href") for ln in channel.findall(f"{A}link") if ln.get("rel") == "self"]
    if selfs != [self_url]:
        found.append(f"channel: atom:link rel=self {selfs}, not [{self_url!r}]")
    guids: set[str] = set()
    for i, item in enumerate(channel.findall("item")):
        where = f"item {i}"
        if item.find("title") is None and item.find("description") is None:
            found.append(f"{where}: neither <title> nor <description>")
        for name in ITEM_ONCE:
            if len(item.findall(name)) > 1:
                found.append(f"{where}: more than one <{name}>")
        for enclosure in item.findall("enclosure"):
            if not enclosure.get("url") or not enclosure.get("type"):
                found.append(f"{where}: an enclosure without url or type")
            if not (enclosure.get("length") or "").isdigit():
                found.append(f"{where}: enclosure length {enclosure.get('length')!r}")
        if not RFC_2822.match(item.findtext("pubDate") or ""):
            found.append(f"{where}: <pubDate> is not RFC 822")
        author = item.findtext("author")
        if author is not None and "@" not in author:
            found.append(f"{where}: <author> {author!r} holds no email address")
        guid = item.findtext("guid") or ""
        if guid in guids:
            found.append(f"{where}: guid {guid!r} repeated")
        guids.add(guid)
    return found


# the shapes a feed comes in: with and without a site author, authors, content, archives
NO_AUTHOR = SiteConfig(title="Anonymous site", base_url=BASE)
SHAPES: dict[str, tuple[FeedSpec, Links]] = {
    "empty": (feed(), LINKS),
    "one": (feed(article(1)), LINKS),
    "no site author, none in articles": (feed(article(1), article(2)), links(NO_AUTHOR)),
    "no site author, an author in one": (
        feed(article(2, authors=(Author(name="Bo"),)), article(1)),
        links(NO_AUTHOR),
    ),
    "authors, via, enclosure, image": (
        feed(
            article(3, authors=(Author(name="Bo", email="bo@example.org"), Author(name="Cy"))),
            article(2, via="https://elsewhere.example/x", image=f"{BASE}img/cover.webp"),
            article(1, enclosure=Enclosure(url=MP3, type="audio/mpeg", length=1234)),
        ),
        LINKS,
    ),
    "a category's feed, hubs": (
        feed(article(1, categories=("News",)), key="news", title="Example: News", category="News"),
        links(hubs=(HUB, "https://hub2.example.net/")),
    ),
    "archive document": (feed(article(1), page=2, prev_page=1, next_page=3), links(hubs=(HUB,))),
    "summaries only": (feed(article(1, summary="Short."), content="summary"), LINKS),
}


def _self_url(spec: FeedSpec, fmt: FeedFormat, lk: Links) -> str:
    return lk.feed_url(spec.key, fmt, spec.page)


@pytest.mark.parametrize("shape", SHAPES)
def test_atom_meets_rfc_4287_and_reads_back_in_feedparser(shape: str) -> None:
    spec, lk = SHAPES[shape]
    data = atom(spec, lk)
    assert rfc4287_problems(data, _self_url(spec, "atom", lk)) == []
    assert atom_problems(data, shape) == []
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.id for e in parsed.entries] == [a.atom_id for a in spec.entries]
    assert [e.title for e in parsed.entries] == [a.meta.title for a in spec.entries]
    assert [e.link for e in parsed.entries] == [a.url for a in spec.entries]
    assert [
        datetime.fromisoformat(e.updated) for e in parsed.entries
    ] == [a.updated for a in spec.entries]  # fmt: skip
    assert datetime.fromisoformat(parsed.feed.updated) == spec.updated


@pytest.mark.parametrize("shape", SHAPES)
def test_rss_has_what_rss_2_0_requires_and_reads_back_in_feedparser(shape: str) -> None:
    spec, lk = SHAPES[shape]
    data = rss(spec, lk)
    assert rss20_problems(data, _self_url(spec, "rss", lk)) == []
    assert rss_problems(data, shape) == []
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.link == lk.home
    assert [e.id for e in parsed.entries] == [a.id for a in spec.entries]
    assert [e.link for e in parsed.entries] == [a.url for a in spec.entries]
    assert [parsedate_to_datetime(e.published) for e in parsed.entries] == [
        a.date for a in spec.entries
    ]
    assert parsedate_to_datetime(parsed.feed.updated) == spec.updated


def test_the_checks_find_what_the_specifications_forbid() -> None:
    """The checkers above, on documents that break each rule they read."""
    bad_atom = (
        f'<feed xmlns="{A[1:-1]}"><id>not-an-iri</id><title>t</title>'
        "<entry><id>tag:x,2025:a</id><title>a</title><title>b</title><updated>2025</updated>"
        '<link href="https://x/" rel="alternate"/><link href="https://y/"/></entry></feed>'
    ).encode()
    assert rfc4287_problems(bad_atom, ATOM_URL) == [
        "feed: atom:id 'not-an-iri' is not an absolute IRI (4.2.6)",
        "feed: 0 atom:updated, not 1",
        f"feed: self links [], not [{ATOM_URL!r}] (4.2.7.2)",
        "entry 0: atom:updated '2025' is not RFC 3339 (3.3)",
        "entry 0: 2 atom:title, not 1",
        "entry 0: two alternate links of type (None, None) (4.1.1, 4.1.2)",
        "entry 0: no atom:author, and the feed has none (4.1.1)",
    ]
    bad_rss = (
        b'<rss version="2.0"><channel><title>t</title><link>/</link>'
        b"<item><author>Bo</author><pubDate>today</pubDate><guid>g</guid></item>"
        b'<item><title>x</title><enclosure url="u" type="t"/><guid>g</guid></item>'
        b"</channel></rss>"
    )
    assert rss20_problems(bad_rss, RSS_URL) == [
        "channel: 0 <description> or an empty one; 1 is required",
        "channel: <link> is not an http(s) URL",
        f"channel: atom:link rel=self [], not [{RSS_URL!r}]",
        "item 0: neither <title> nor <description>",
        "item 0: <pubDate> is not RFC 822",
        "item 0: <author> 'Bo' holds no email address",
        "item 1: enclosure length None",
        "item 1: <pubDate> is not RFC 822",
        "item 1: guid 'g' repeated",
    ]


# --- authors: Atom always names one; RSS names them as its readers expect --------------------


def test_an_atom_feed_without_any_author_names_the_site() -> None:
    root = etree.fromstring(atom(feed(article(1)), links(NO_AUTHOR)))
    assert root.findtext(f"{A}author/{A}name") == "Anonymous site"
    assert root.find(f"{A}entry/{A}author") is None


def test_article_authors_win_over_the_sites_and_the_site_stands_in_when_none() -> None:
    spec = feed(article(2, authors=(Author(name="Bo", url="https://bo.example/"),)), article(1))
    root = etree.fromstring(atom(spec))
    bo, ada = root.findall(f"{A}entry")
    assert [el.text for el in bo.iter(f"{A}name", f"{A}uri")] == ["Bo", "https://bo.example/"]
    assert [el.text for el in ada.iter(f"{A}name", f"{A}email")] == ["Ada", "ada@example.org"]
    assert [el.text for el in root.findall(f"{A}author/{A}name")] == ["Ada"]


def test_rss_writes_authors_with_an_email_as_author_and_the_others_as_dc_creator() -> None:
    authors = (Author(name="Bo", email="bo@example.org"), Author(name="Cy"), Author(name="Di"))
    item = etree.fromstring(rss(feed(article(1, authors=authors)))).find("channel/item")
    assert item is not None
    assert [el.text for el in item.findall("author")] == ["bo@example.org (Bo)"]
    assert [el.text for el in item.findall(f"{DC}creator")] == ["Cy", "Di"]


# --- ids and links --------------------------------------------------------------------------


def test_ids_atom_uses_the_atom_id_rss_the_id_as_written() -> None:
    a = article(1)
    derived = Article(
        meta=a.meta, date=a.date, id="post-1", slug=a.slug, url=a.url, atom_id="tag:x,2025:1"
    )
    permalink = Article(meta=a.meta, date=a.date, id=a.url, slug=a.slug, url=a.url)
    spec = feed(derived, permalink)
    assert [e.findtext(f"{A}id") for e in etree.fromstring(atom(spec)).iter(f"{A}entry")] == [
        "tag:x,2025:1",
        a.url,
    ]
    guids = etree.fromstring(rss(spec)).findall("channel/item/guid")
    assert [(g.text, g.get("isPermaLink")) for g in guids] == [("post-1", "false"), (a.url, "true")]
    # the feed's id is its subscription document's Atom URL, whichever document this is
    for page in (0, 4):
        root = etree.fromstring(atom(feed(a, page=page, prev_page=max(page - 1, 0))))
        assert root.findtext(f"{A}id") == ATOM_URL


def test_a_subscription_document_advertises_its_hubs_and_newest_archive() -> None:
    lk = links(hubs=(HUB,))
    spec = feed(article(1), prev_page=7)
    root = etree.fromstring(atom(spec, lk))
    assert [(ln.get("rel"), ln.get("href")) for ln in root.findall(f"{A}link")] == [
        ("self", ATOM_URL),
        ("hub", HUB),
        ("prev-archive", f"{BASE}feeds/archive/all/7.atom.xml"),
        ("alternate", BASE),
    ]
    assert root.find(f"{FH}archive") is None
    channel = etree.fromstring(rss(spec, lk)).find("channel")
    assert channel is not None
    assert [(ln.get("rel"), ln.get("href")) for ln in channel.findall(f"{A}link")] == [
        ("self", RSS_URL),
        ("hub", HUB),
        ("prev-archive", f"{BASE}feeds/archive/all/7.rss.xml"),
    ]
    assert channel.find(f"{FH}archive") is None


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_an_archive_document_is_marked_links_its_neighbours_and_names_no_hub(
    fmt: FeedFormat,
) -> None:
    ext = {"atom": "atom.xml", "rss": "rss.xml"}[fmt]
    spec = feed(article(1), page=3, prev_page=2, next_page=4)
    root = etree.fromstring(render_xml(spec, fmt, links(hubs=(HUB,)), bodies()))
    assert len(list(root.iter(f"{FH}archive"))) == 1  # RFC 5005 4
    rels = {ln.get("rel"): ln.get("href") for ln in _feed_links(root)}
    assert rels == {
        "self": f"{BASE}feeds/archive/all/3.{ext}",
        "current": f"{BASE}feeds/all.{ext}",
        "prev-archive": f"{BASE}feeds/archive/all/2.{ext}",
        "next-archive": f"{BASE}feeds/archive/all/4.{ext}",
        **({"alternate": BASE} if fmt == "atom" else {}),
    }
    # the newest archive document's next newer one is the subscription document: "current"
    newest = feed(article(1), page=4, prev_page=3)
    root = etree.fromstring(render_xml(newest, fmt, LINKS, bodies()))
    assert "next-archive" not in {ln.get("rel") for ln in _feed_links(root)}


def _feed_links(root: etree._Element) -> list[etree._Element]:
    """The Atom feed's links, or the RSS channel's ``atom:link`` elements (not the entries')."""
    return root.findall(f"{A}link") + root.findall(f"channel/{A}link")


def test_via_is_an_atom_link_and_is_not_taken_for_the_entry_page() -> None:
    data = atom(feed(article(1, via="https://elsewhere.example/x")))
    entry = feedparser.parse(data).entries[0]
    assert entry.link == f"{BASE}articles/a1/"
    assert [(ln.rel, ln.href) for ln in entry.links] == [
        ("alternate", f"{BASE}articles/a1/"),
        ("via", "https://elsewhere.example/x"),
    ]
    assert b"elsewhere" not in rss(feed(article(1, via="https://elsewhere.example/x")))


# --- content and summaries -----------------------------------------------------------------


BIG = EntryBody(content_html="<p>big</p>", summary="Big.", in_feeds=False)  # (over the limit)


@pytest.mark.parametrize(
    ("content", "body", "has_content", "summary"),
    [
        ("full", BODY, True, "Body text."),
        ("summary", BODY, False, "Body text."),
        ("full", BIG, False, "Big."),
        ("full", None, False, None),  # no body known: nothing to show but the title
    ],
)  # fmt: skip
def test_content_goes_in_when_the_feed_shows_it_and_it_fits(
    content: str, body: EntryBody | None, has_content: bool, summary: str | None
) -> None:
    spec = feed(article(1), content="full" if content == "full" else "summary")
    entry = etree.fromstring(atom(spec, body=body)).find(f"{A}entry")
    item = etree.fromstring(rss(spec, body=body)).find("channel/item")
    assert entry is not None and item is not None
    assert (entry.find(f"{A}content") is not None) is has_content
    assert (item.find(f"{CONTENT}encoded") is not None) is has_content
    if has_content:
        assert entry.findtext(f"{A}content") == BODY.content_html
        assert item.findtext(f"{CONTENT}encoded") == BODY.content_html
    assert entry.findtext(f"{A}summary") == summary
    assert item.findtext("description") == summary


def test_the_articles_own_summary_wins_over_the_bodys_excerpt() -> None:
    spec = feed(article(1, summary="Written by hand."))
    assert feedparser.parse(atom(spec)).entries[0].summary == "Written by hand."
    assert feedparser.parse(rss(spec)).entries[0].summary == "Written by hand."


def test_content_holding_the_end_of_a_cdata_section_reads_back_whole() -> None:
    """RSS ``content:encoded`` is a CDATA section: a ``]]>`` in the content must not end it
    (sanitised HTML has none outside markup, but the renderer must not rely on it)."""
    html = "<p>a ]]> b <code>x[i[j]]>0</code> ]]]]><![CDATA[</p>"
    body = EntryBody(content_html=html, summary="s")
    for data in (rss(feed(article(1)), body=body), atom(feed(article(1)), body=body)):
        root = etree.fromstring(data)
        found = [el.text for el in root.iter(f"{CONTENT}encoded", f"{A}content")]
        assert found == [html]
        assert feedparser.parse(data).entries[0].content[0].value.count("]]") == html.count("]]")


# --- enclosures -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enclosure", "image", "atom_link", "rss_enclosure"),
    [
        (
            Enclosure(url=MP3, type="audio/mpeg", length=99),
            None,
            {"href": MP3, "rel": "enclosure", "type": "audio/mpeg", "length": "99"},
            {"url": MP3, "length": "99", "type": "audio/mpeg"},
        ),
        (  # size unknown: no Atom length (advisory), RSS length 0 (required)
            Enclosure(url=MP3, type="audio/mpeg"),
            None,
            {"href": MP3, "rel": "enclosure", "type": "audio/mpeg"},
            {"url": MP3, "length": "0", "type": "audio/mpeg"},
        ),
        (  # no enclosure: the image is one, its type guessed
            None,
            f"{BASE}img/c.png",
            {"href": f"{BASE}img/c.png", "rel": "enclosure", "type": "image/png"},
            {"url": f"{BASE}img/c.png", "length": "0", "type": "image/png"},
        ),
        (  # ... or image/jpeg when its name says nothing
            None,
            f"{BASE}img/cover",
            {"href": f"{BASE}img/cover", "rel": "enclosure", "type": "image/jpeg"},
            {"url": f"{BASE}img/cover", "length": "0", "type": "image/jpeg"},
        ),
    ],
)
def test_enclosures_in_atom_and_rss(
    enclosure: Enclosure | None,
    image: str | None,
    atom_link: dict[str, str],
    rss_enclosure: dict[str, str],
) -> None:
    spec = feed(article(1, enclosure=enclosure, image=image))
    entry = etree.fromstring(atom(spec)).find(f"{A}entry")
    assert entry is not None
    assert [dict(ln.attrib) for ln in entry.findall(f"{A}link")][1:] == [atom_link]
    item = etree.fromstring(rss(spec)).find("channel/item")
    assert item is not None
    assert [dict(el.attrib) for el in item.findall("enclosure")] == [rss_enclosure]


def test_atom_entry_links_are_checked_against_feedgens_data() -> None:
    """The extension that restores the attributes feedgen 1.0.0 drops refuses an entry whose
    links are not the ones it was given, rather than write wrong attributes."""
    ext = _AtomEntryLinks()
    ext.links = [{"href": "https://a/", "rel": "alternate", "type": "text/html"}]
    entry = etree.Element(f"{A}entry")
    etree.SubElement(entry, f"{A}link", href="https://a/")
    assert ext.extend_atom(entry) is entry
    assert dict(entry[0].attrib) == {"href": "https://a/", "rel": "alternate", "type": "text/html"}
    entry[0].set("href", "https://b/")
    with pytest.raises(ValueError, match="is not"):
        ext.extend_atom(entry)
    etree.SubElement(entry, f"{A}link", href="https://c/")
    with pytest.raises(ValueError, match="expected 1 links"):
        ext.extend_atom(entry)


# --- podcasts (tests/test_render.py checks them through whole builds) -----------------------

SHOW = Podcast(
    image=f"{BASE}media/cover.jpg",
    category="News",
    subcategory="Tech News",
    explicit=False,
    author="Ada <ada@example.org>",
    owner_name="Ada",
    owner_email="ada@example.org",
)


def test_a_podcast_specs_rss_is_what_directories_require_and_only_its_rss() -> None:
    episode = Enclosure(url=MP3, type="audio/mpeg", length=18_400_000)
    spec = feed(
        article(
            2, enclosure=episode, duration=3723, episode=2, explicit=True, image=f"{BASE}e.gif"
        ),
        article(1, enclosure=episode, duration=60, season=1, image=f"{BASE}e1.png"),
        key="podcast",
        title="Example: Podcast",
        category="Podcast",
        podcast=SHOW,
    )
    data = rss(spec)
    feed_url = f"{BASE}feeds/podcast.rss.xml"
    assert apple_problems(data, feed_url) == []
    assert rss20_problems(data, feed_url) == []
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    assert channel.findtext(f"{ITUNES}author") == "Ada &lt;ada@example.org&gt;"  # (either)
    assert channel.findtext(f"{PODCAST}guid") == podcast_guid(feed_url)
    [category] = channel.findall(f"{ITUNES}category")
    assert [c.get("text") for c in category.iter(f"{ITUNES}category")] == ["News", "Tech News"]
    two, one = channel.findall("item")
    assert [
        (i.findtext(f"{ITUNES}explicit"), i.findtext(f"{ITUNES}duration")) for i in (two, one)
    ] == [
        ("true", "3723"),  # the episode's own rating
        ("false", "60"),  # the show's
    ]
    assert two.find(f"{ITUNES}image") is None  # artwork only as .jpg or .png
    assert [i.get("href") for i in one.iter(f"{ITUNES}image")] == [f"{BASE}e1.png"]
    # an episode's image is its artwork, never a second enclosure
    assert [len(i.findall("enclosure")) for i in (two, one)] == [1, 1]
    for other in (atom(spec), render_json(spec, LINKS, bodies()), rss(feed(*spec.entries))):
        assert b"itunes" not in other and b"podcastindex" not in other


# --- failures are the renderer's, and name the feed -----------------------------------------


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_an_entry_feedgen_cannot_write_is_a_render_error_naming_the_feed(fmt: FeedFormat) -> None:
    # no title left once made XML-safe, and (RSS: an item needs one or the other) no summary
    spec = feed(article(1, title="\x01"), key="news")
    with pytest.raises(RenderError, match=f"cannot render {fmt}") as e:
        render_xml(spec, fmt, LINKS, bodies(None))
    assert "news" in str(e.value)


# --- the same bytes, whatever else is rendered, in whatever order ---------------------------


XML_FORMATS: tuple[FeedFormat, ...] = ("atom", "rss")
JOBS = [(spec, fmt, lk) for spec, lk in SHAPES.values() for fmt in XML_FORMATS]


def test_the_same_values_render_to_the_same_bytes() -> None:
    for spec, fmt, lk in JOBS:
        assert render_xml(spec, fmt, lk, bodies()) == render_xml(spec, fmt, lk, bodies())


@settings(max_examples=25)
@given(st.permutations(range(len(JOBS))))
def test_rendering_order_changes_no_feeds_bytes(order: list[int]) -> None:
    """No state carries over from one rendering to the next (feedgen's extensions, the
    locale RSS dates are formatted in): any order of rendering gives each feed its bytes."""
    expected = [render_xml(spec, fmt, lk, bodies()) for spec, fmt, lk in JOBS]
    for i in order:
        spec, fmt, lk = JOBS[i]
        assert render_xml(spec, fmt, lk, bodies()) == expected[i]


def test_rendering_in_threads_gives_the_same_bytes() -> None:
    """Four threads rendering at once (RSS dates are formatted under a lock that holds the
    process locale) write what one thread writes."""
    expected = [render_xml(spec, fmt, lk, bodies()) for spec, fmt, lk in JOBS]
    order = list(range(len(JOBS))) * 4
    random.Random(7).shuffle(order)
    got: list[tuple[int, bytes]] = []
    errors: list[BaseException] = []

    def work(chunk: list[int]) -> None:
        try:
            for i in chunk:
                spec, fmt, lk = JOBS[i]
                got.append((i, render_xml(spec, fmt, lk, bodies())))
        except BaseException as e:  # (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(order[n::4],)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(got) == len(order)
    assert all(data == expected[i] for i, data in got)


@settings(max_examples=30)
@given(st.permutations([article(n) for n in range(1, 6)]))
def test_entries_are_written_in_the_order_given(entries: list[Article]) -> None:
    """feedgen prepends entries by default; the renderer keeps the planned order."""
    spec = feed(*entries)
    ids = [e.findtext(f"{A}id") for e in etree.fromstring(atom(spec)).iter(f"{A}entry")]
    assert ids == [a.atom_id for a in entries]
    guids = [g.text for g in etree.fromstring(rss(spec)).iter("guid")]
    assert guids == [a.id for a in entries]


def test_no_date_but_the_ones_given_is_written() -> None:
    """feedgen's default ``updated`` and ``lastBuildDate`` are *now*: every date in the output
    is the feed's or an entry's, so bytes do not change with the clock."""
    old = WHEN - timedelta(days=4000)
    a = article(1, date=old, updated=old + timedelta(days=1))
    spec = feed(a, updated=old + timedelta(days=1))
    given_dates = {old, old + timedelta(days=1)}
    atom_root = etree.fromstring(atom(spec))
    atom_dates = {
        datetime.fromisoformat(el.text or "")
        for el in atom_root.iter(f"{A}updated", f"{A}published")
    }
    assert atom_dates == given_dates
    rss_root = etree.fromstring(rss(spec))
    rss_dates = {
        parsedate_to_datetime(el.text or "") for el in rss_root.iter("pubDate", "lastBuildDate")
    }
    assert rss_dates == given_dates
    empty = etree.fromstring(atom(feed()))
    assert [el.text for el in empty.iter(f"{A}updated")] == [EPOCH.isoformat()]


def test_an_updated_date_before_the_publication_date_is_not_written() -> None:
    a = article(2, updated=WHEN)  # published on day 2, "updated" on day 0
    entry = etree.fromstring(atom(feed(a))).find(f"{A}entry")
    assert entry is not None
    assert entry.findtext(f"{A}updated") == entry.findtext(f"{A}published") == a.date.isoformat()


# --- hostile text, read as readers read it ---------------------------------------------------


@settings(max_examples=100)
@given(
    title=TITLES,
    summary=UNTRUSTED,
    category=TITLES,
    tag=TITLES,
    name=TITLES,
    site_title=TITLES,
    description=UNTRUSTED,
    feed_title=TITLES,
)
def test_hostile_text_stays_text_in_atom(
    title: str,
    summary: str,
    category: str,
    tag: str,
    name: str,
    site_title: str,
    description: str,
    feed_title: str,
) -> None:
    site = SiteConfig(title=site_title, base_url=BASE, author=name, description=description)
    a = article(
        1,
        title=title,
        summary=summary or None,
        categories=(category,),
        tags=(tag,),
        authors=(Author(name=name),),
    )
    spec = feed(a, title=feed_title, category=category, key="news")
    data = render_xml(spec, "atom", links(site), bodies(None))
    root = etree.fromstring(data)  # well-formed, whatever the text
    assert rfc4287_problems(data, f"{BASE}feeds/news.atom.xml") == []
    entry = root.find(f"{A}entry")
    assert entry is not None
    # Atom text constructs are type="text": a reader shows exactly the characters
    assert all(el.get("type") in (None, "text") for el in root.iter(f"{A}title", f"{A}summary"))
    # (lxml writes CR, and tabs and line ends in attributes, as character references: an
    # XML parser hands on every character that XML can carry)
    assert root.findtext(f"{A}title") == xml_safe(feed_title)
    assert root.findtext(f"{A}subtitle") == (xml_safe(description) or xml_safe(feed_title))
    assert root.findtext(f"{A}author/{A}name") == xml_safe(name)
    assert [c.get("term") for c in root.findall(f"{A}category")] == [xml_safe(category)]
    assert entry.findtext(f"{A}title") == xml_safe(title)
    assert (entry.findtext(f"{A}summary") or "") == xml_safe(summary)
    assert [c.get("term") for c in entry.findall(f"{A}category")] == [
        xml_safe(category),
        xml_safe(tag),
    ]
    assert entry.findtext(f"{A}author/{A}name") == xml_safe(name)
    assert atom_problems(data, "atom") == []
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries[0].title_detail.type == "text/plain"
    assert feedparser_problems(parsed.feed, "feed") == []
    assert feedparser_problems(parsed.entries, "entries") == []


@settings(max_examples=100)
@given(
    title=TITLES,
    summary=UNTRUSTED,
    category=TITLES,
    name=TITLES,
    email_name=TITLES,
    site_title=TITLES,
    description=UNTRUSTED,
)
def test_hostile_text_is_inert_in_rss_read_as_text_or_as_html(
    title: str,
    summary: str,
    category: str,
    name: str,
    email_name: str,
    site_title: str,
    description: str,
) -> None:
    site = SiteConfig(title=site_title, base_url=BASE, description=description)
    authors = (Author(name=email_name, email="e@example.org"), Author(name=name))
    a = article(1, title=title, summary=summary or None, categories=(category,), authors=authors)
    spec = feed(a, title=site_title, category=category, key="news")
    data = render_xml(spec, "rss", links(site), bodies(None))
    assert rss20_problems(data, f"{BASE}feeds/news.rss.xml") == []
    assert rss_problems(data, "rss") == []  # every text read as HTML: nothing alive
    item = etree.fromstring(data).find("channel/item")
    assert item is not None
    # a reader rendering each field as HTML shows the characters written
    fields = {
        "title": (item.findtext("title"), title),
        "category": (item.findtext("category"), category),
        "dc:creator": (item.findtext(f"{DC}creator"), name),
        "description": (item.findtext("description"), summary),
    }
    for field, (value, written) in fields.items():
        assert live_markup(value) == [], field
        html5 = html5_fragment(value or "")  # (a second HTML parser, which keeps every space)
        assert (elements(html5), text_of(html5)) == ([], shown(written)), field
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert feedparser_problems(parsed.feed, "feed") == []
    assert feedparser_problems(parsed.entries, "entries") == []
