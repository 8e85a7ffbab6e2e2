"""render/pages.py called directly: the index, its older pages, article pages and the OPML list
of feeds, built from hand-made values, parsed by html5lib (strictly: no HTML5 parse error) and
lxml, for the links readers and feed readers follow, and for hostile text that reaches no
reader alive.

(tests/test_render.py reads whole builds; here each function is called with what it is given.)
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.articles.text import xml_safe
from feedpub.config import SiteConfig
from feedpub.model import Article, Author, FeedFormat, FeedSpec
from feedpub.render import EntryBody, Links
from feedpub.render.pages import render_index, render_index_page, render_opml, render_page
from tests.render_helpers import (
    BASE,
    BODY,
    HTML_DATETIME,
    LINKS,
    TITLES,
    UNTRUSTED,
    WHEN,
    article,
    elements,
    feed,
    html5_document,
    html5_fragment,
    links,
    shown,
    text_of,
)
from tests.test_render import (
    URL_ATTRIBUTES,
    html_problems,
    live_markup,
    opml_problems,
    shown_as_html,
)

FORMATS: tuple[FeedFormat, ...] = ("atom", "rss", "json")
TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


def news(*entries: Article, **kw: Any) -> FeedSpec:
    return feed(*entries, key="news", title="Example: News", category="News", **kw)


def page_of(markup: bytes) -> Any:
    """A page as a browser builds it, refusing any HTML5 parse error."""
    return html5_document(markup, strict=True)


def alternates(doc: Any) -> list[tuple[str | None, str | None, str | None]]:
    return [
        (ln.get("type"), ln.get("title"), ln.get("href"))
        for ln in doc.iter("link")
        if ln.get("rel") == "alternate" and ln.get("type")
    ]


def time_problems(doc: Any) -> list[str]:
    """Every ``<time datetime>`` is a valid global date and time string (HTML: at most
    three digits of a second, an offset in hours and minutes)."""
    return [
        f"<time datetime={t.get('datetime')!r}>"
        for t in doc.iter("time")
        if not HTML_DATETIME.fullmatch(t.get("datetime") or "")
    ]


# --- the index -----------------------------------------------------------------------------


def test_the_index_lists_every_feed_in_every_format_and_the_newest_articles() -> None:
    a1, a2 = article(1), article(2)
    specs = [feed(a2, a1), news(a1)]
    data = render_index(specs, FORMATS, LINKS, older=3)
    doc = page_of(data)
    assert doc.find("head/title").text == "Example"
    assert doc.get("lang") == "en"
    assert alternates(doc) == [  # autodiscovery: every feed, every format
        (TYPES[fmt], f"{spec.title} ({name})", f"{BASE}feeds/{spec.key}.{ext}")
        for spec in specs
        for fmt, name, ext in (
            ("atom", "Atom", "atom.xml"),
            ("rss", "RSS", "rss.xml"),
            ("json", "JSON Feed", "json"),
        )
    ]
    feeds_list, recent = doc.findall(".//main/section/ul")
    assert [text_of(li) for li in feeds_list] == [
        "All articles (2 recent): Atom, RSS, JSON Feed",
        "News (1 recent): Atom, RSS, JSON Feed",
    ]
    assert [a.get("href") for a in feeds_list.iter("a")][:3] == [
        f"{BASE}feeds/all.atom.xml",
        f"{BASE}feeds/all.rss.xml",
        f"{BASE}feeds/all.json",
    ]
    assert [(a.get("href"), a.text) for a in recent.iter("a")] == [
        (a2.url, "Article 2"),
        (a1.url, "Article 1"),
    ]
    [older] = [a for a in doc.iter("a") if a.get("rel") == "next"]
    assert older.get("href") == f"{BASE}page/3/"
    assert not [a for a in doc.iter("a") if a.get("rel") == "prev"]
    assert time_problems(doc) == []
    assert html_problems(data.decode(), "index", document=True) == []


def test_an_index_without_articles_has_no_recent_section_and_no_pager() -> None:
    doc = page_of(render_index([feed()], ["atom"], LINKS))
    assert [h.text for h in doc.iter("h2")] == ["Feeds"]
    assert doc.find(".//nav") is None
    assert page_of(render_index([], ["atom"], LINKS)).find(".//main") is not None


def test_the_index_labels_each_feed_so_that_readers_can_tell_them_apart() -> None:
    """A language's feed (translations: ``all-fr``) has no category, like the feed of all
    articles: the index must not list both as "All articles".

    Bug found by this test: both were listed as "All articles (n recent)"."""
    fr = article(3, lang="fr")
    specs = [feed(article(1)), feed(fr, key="all-fr", title="Example (fr)", language="fr")]
    doc = page_of(render_index(specs, ["atom"], LINKS))
    feeds_list = doc.find(".//main/section/ul")
    labels = [re.sub(r" \(\d+ recent\): .*", "", text_of(li)) for li in feeds_list]
    assert len(set(labels)) == len(labels), labels
    assert labels == ["All articles", "All articles (fr)"]


def test_no_site_description_no_empty_paragraph() -> None:
    site = SiteConfig(title="T", base_url=BASE)
    doc = page_of(render_index([feed(article(1))], ["atom"], links(site)))
    assert [text_of(p) for p in doc.find(".//header").iter("p")] == []
    with_description = page_of(render_index([feed(article(1))], ["atom"], LINKS))
    assert [p.text for p in with_description.find(".//header").iter("p")] == [
        "Notes from an example"
    ]


# --- the index's older pages ---------------------------------------------------------------


def test_an_index_page_links_newer_and_older_pages_and_names_its_span() -> None:
    entries = (article(5), article(4))
    spec = feed(*entries, page=2, prev_page=1, next_page=3)
    all_feed = feed(article(9))
    doc = page_of(render_index_page(spec, ["atom", "rss"], LINKS, all_feed=all_feed))
    assert doc.find("head/title").text == "Example: articles, page 2"
    assert [ln.get("href") for ln in doc.iter("link") if ln.get("rel") == "canonical"] == [
        f"{BASE}page/2/"
    ]
    assert [href for _, _, href in alternates(doc)] == [
        f"{BASE}feeds/all.atom.xml",
        f"{BASE}feeds/all.rss.xml",
    ]
    pager = {a.get("rel"): a.get("href") for a in doc.iter("a") if a.get("rel")}
    assert pager == {"prev": f"{BASE}page/3/", "next": f"{BASE}page/1/"}
    span = doc.find(".//main/p")
    assert [t.get("datetime") for t in span.iter("time")] == [
        entries[1].date.isoformat(),  # from the oldest
        entries[0].date.isoformat(),  # to the newest
    ]
    assert [a.text for a in doc.find(".//main/ul").iter("a")] == ["Article 5", "Article 4"]


def test_the_newest_index_page_leads_back_to_the_index_and_the_oldest_to_nothing() -> None:
    spec = feed(article(1), page=1)  # the only archive page: newer is the index itself
    doc = page_of(render_index_page(spec, ["atom"], LINKS, all_feed=feed()))
    pager = {a.get("rel"): a.get("href") for a in doc.iter("a") if a.get("rel")}
    assert pager == {"prev": BASE}
    empty = page_of(render_index_page(feed(page=1), ["atom"], LINKS, all_feed=feed()))
    assert empty.find(".//main/p/time") is None


# --- article pages -------------------------------------------------------------------------


def test_an_article_page_shows_the_article_and_links_what_readers_follow() -> None:
    a = article(
        1,
        summary="What it says.",
        authors=(Author(name="Bo"), Author(name="Cy")),
        categories=("News", "Tech"),
        tags=("not-shown",),
        via="https://elsewhere.example/x",
        lang="de",
    )
    translations = [("fr", f"{BASE}fr/a1/"), ("en", f"{BASE}en/a1/")]
    data = render_page(a, BODY, FORMATS, feed(a), LINKS, translations)
    doc = page_of(data)
    assert doc.get("lang") == "de"
    assert doc.find("head/title").text == "Article 1"
    head_links = [(ln.get("rel"), ln.get("hreflang"), ln.get("href")) for ln in doc.iter("link")]
    assert head_links == [
        ("canonical", None, a.url),
        ("alternate", None, f"{BASE}feeds/all.atom.xml"),
        ("alternate", None, f"{BASE}feeds/all.rss.xml"),
        ("alternate", None, f"{BASE}feeds/all.json"),
        ("alternate", "de", a.url),  # hreflang alternates name the page itself too
        ("alternate", "fr", f"{BASE}fr/a1/"),
        ("alternate", "en", f"{BASE}en/a1/"),
    ]
    [description] = [m for m in doc.iter("meta") if m.get("name") == "description"]
    assert description.get("content") == "What it says."
    article_el = doc.find(".//main/article")
    assert article_el.find("h1").text == "Article 1"
    paragraphs = [text_of(p) for p in article_el.findall("p")]
    assert paragraphs == [
        f"{a.date:%Y-%m-%d} · Bo, Cy",
        "Body text.",  # the body, as it was sanitised when parsed
        "Source: https://elsewhere.example/x",
        "Filed under: News, Tech",
        "Also in: fr, en",
    ]
    assert [e.tag for e in article_el.find("p[2]")] == ["em"]
    also = article_el.findall("p")[-1].findall("a")
    assert [(x.get("href"), x.get("hreflang"), x.get("lang")) for x in also] == [
        (f"{BASE}fr/a1/", "fr", "fr"),
        (f"{BASE}en/a1/", "en", "en"),
    ]
    assert doc.find(".//header/a").get("href") == BASE
    assert time_problems(doc) == []


def test_a_bare_article_page_has_no_empty_parts() -> None:
    a = article(1)
    doc = page_of(render_page(a, EntryBody(content_html="", summary=""), ["atom"], feed(a), LINKS))
    assert doc.get("lang") == "en"  # the site's language
    assert not [m for m in doc.iter("meta") if m.get("name") == "description"]
    assert not [ln for ln in doc.iter("link") if ln.get("hreflang")]
    assert [text_of(p) for p in doc.find(".//article").findall("p")] == [f"{a.date:%Y-%m-%d}"]


def test_every_date_is_a_valid_html_date_time() -> None:
    """A ``<time datetime>`` holds at most three digits of a second. An article dated by the
    time its file was first seen (or by a front matter time with a fraction) has six.

    Bug found by this test: ``datetime="2025-01-02T09:30:00.123456+00:00"`` was written,
    which HTML validators refuse."""
    a = article(1, date=WHEN + timedelta(days=1, microseconds=123456))
    spec = feed(a, page=1)
    pages = [
        render_page(a, BODY, ["atom"], feed(a), LINKS),
        render_index([feed(a)], ["atom"], LINKS),
        render_index_page(spec, ["atom"], LINKS, all_feed=feed(a)),
    ]
    for data in pages:
        doc = page_of(data)
        assert time_problems(doc) == []
        # the date shown is the one the machine-readable value gives
        for t in doc.iter("time"):
            assert t.get("datetime", "").startswith(t.text or "-")


# --- the same bytes every time -------------------------------------------------------------


def test_pages_render_to_the_same_bytes_every_time() -> None:
    a = article(1, authors=(Author(name="Bo"),), categories=("News",))
    specs = [feed(a), news(a)]

    def everything() -> list[bytes]:
        return [
            render_index(specs, FORMATS, LINKS, older=1),
            render_index_page(feed(a, page=1), FORMATS, LINKS, all_feed=specs[0]),
            render_page(a, BODY, FORMATS, specs[0], LINKS, [("fr", f"{BASE}fr/")]),
            render_opml(specs, FORMATS, LINKS),
        ]

    first = everything()
    assert everything() == first
    assert all(b"\r" not in data for data in first)


# --- OPML ----------------------------------------------------------------------------------


def test_opml_lists_every_feed_in_its_first_format() -> None:
    specs = [feed(article(1)), news(article(1))]
    data = render_opml(specs, ["rss", "atom"], LINKS)
    root = etree.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Example"
    outlines = root.findall("body/outline")
    assert [dict(o.attrib) for o in outlines] == [
        {
            "type": "rss",
            "text": spec.title,
            "title": spec.title,
            "xmlUrl": f"{BASE}feeds/{spec.key}.rss.xml",
            "htmlUrl": BASE,
        }
        for spec in specs
    ]
    assert opml_problems(data, "opml") == []
    assert render_opml(specs, ["rss", "atom"], LINKS) == data


def test_opml_escapes_every_quote_and_bracket_in_attributes() -> None:
    title = """Tom's "quoted" <b>bold</b> & more"""
    data = render_opml([feed(title=title)], ["json"], LINKS)
    outline = etree.fromstring(data).find("body/outline")
    assert outline is not None
    assert live_markup(outline.get("text")) == []
    assert shown_as_html(outline.get("text")) == title
    assert outline.get("xmlUrl") == f"{BASE}feeds/all.json"


# --- hostile text, read by a browser and by an OPML reader ---------------------------------


def _scripts(doc: Any) -> list[str]:
    """What a browser would run in a page html5lib built: script elements, event handlers,
    and javascript: URLs."""
    found = [f"<{tag}>" for tag in elements(doc) if tag in ("script", "iframe", "object")]
    for el in doc.iter():
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"<{el.tag} {name}>")
            url = name.lower() in URL_ATTRIBUTES
            if url and re.sub(r"[\x00-\x20]", "", value).lower().startswith("javascript:"):
                found.append(f"<{el.tag} {name}={value!r}>")
    return found


@settings(max_examples=100)
@given(
    title=TITLES,
    summary=UNTRUSTED,
    names=st.lists(TITLES, max_size=2),
    category=TITLES,
    site_title=TITLES,
    description=UNTRUSTED,
    feed_title=TITLES,
)
def test_hostile_text_is_text_in_every_page(
    title: str,
    summary: str,
    names: list[str],
    category: str,
    site_title: str,
    description: str,
    feed_title: str,
) -> None:
    site = SiteConfig(title=site_title, base_url=BASE, description=description)
    lk = Links(site=site)
    a = article(
        1,
        title=title,
        summary=summary or None,
        authors=tuple(Author(name=n) for n in names),
        categories=(category,),
    )
    specs = [feed(a, title=feed_title), feed(a, key="news", title=feed_title, category=category)]
    pages = {
        "page": render_page(a, BODY, FORMATS, specs[0], lk),
        "index": render_index(specs, FORMATS, lk),
        "index page": render_index_page(feed(a, page=1), FORMATS, lk, all_feed=specs[0]),
    }
    for where, data in pages.items():
        doc = html5_document(data)
        assert _scripts(doc) == [], where
        assert html_problems(data.decode(), where, document=True) == []
        assert [t.tag for t in doc.find("head")].count("title") == 1, where
        assert len(list(doc.iter("body"))) == 1, where
    page = html5_document(pages["page"])
    assert page.find("head/title").text == shown(title)
    assert page.find(".//article/h1").text == shown(title)
    if summary and xml_safe(summary):
        [meta] = [m for m in page.iter("meta") if m.get("name") == "description"]
        assert meta.get("content") == shown(summary)
    byline = text_of(page.find(".//article/p"))
    assert byline.endswith((" · " + ", ".join(shown(n) for n in names)) if names else "")
    assert text_of(page.find(".//header/a")) == shown(site_title)
    assert [text_of(p) for p in page.iter("p") if text_of(p).startswith("Filed under: ")] == [
        "Filed under: " + shown(category)
    ]
    index = html5_document(pages["index"])
    assert index.find("head/title").text == shown(site_title)
    assert [a.text for a in index.find(".//section[2]/ul").iter("a")] == [shown(title)]
    assert [ln.get("title") for ln in index.iter("link") if ln.get("rel") == "alternate"][:1] == [
        shown(f"{feed_title} (Atom)")
    ]


def _read_as_html(value: str | None) -> tuple[list[str], str]:
    """(the elements, the text) of ``value`` read as HTML, as an OPML reader may."""
    root = html5_fragment(value or "")
    return elements(root), text_of(root)


@settings(max_examples=100)
@given(site_title=TITLES, titles=st.lists(TITLES, min_size=1, max_size=3))
def test_hostile_titles_are_inert_in_opml_read_as_text_or_as_html(
    site_title: str, titles: list[str]
) -> None:
    site = SiteConfig(title=site_title, base_url=BASE)
    specs = [feed(key=f"k{i}", title=t) for i, t in enumerate(titles)]
    data = render_opml(specs, ["atom"], Links(site=site))
    root = etree.fromstring(data)  # well-formed, whatever the titles
    assert opml_problems(data, "opml") == []
    assert _read_as_html(root.findtext("head/title")) == ([], shown(site_title))
    for outline, t in zip(root.iter("outline"), titles, strict=True):
        # (XML reads a tab or a line end in an attribute as a space)
        assert _read_as_html(outline.get("text")) == ([], re.sub(r"[\t\n]", " ", shown(t)))
        assert outline.get("title") == outline.get("text")


def test_a_bidi_override_in_a_title_stays_in_the_element_that_shows_it() -> None:
    """A right-to-left override reorders the text after it up to the end of its paragraph:
    in every page it is inside the element that shows the title, and nothing else of the
    page's text follows it there."""
    a = article(1, title="Invoice\u202efdp.exe")
    pages = [
        render_page(a, BODY, ["atom"], feed(a), LINKS),
        render_index([feed(a)], ["atom"], LINKS),
        render_index_page(feed(a, page=1), ["atom"], LINKS, all_feed=feed(a)),
    ]
    for data in pages:
        doc = page_of(data)
        holders = [
            el for el in doc.iter() if isinstance(el.tag, str) and "\u202e" in (el.text or "")
        ]
        assert holders
        for el in holders:
            assert el.tag in ("title", "h1", "a")
            assert el.text == "Invoice\u202efdp.exe"
            assert not (el.tail or "").strip()  # nothing shown after it in its block


def test_pages_for_a_site_with_no_author_language_or_description() -> None:
    site = SiteConfig(title="T", base_url=BASE, language="pt-br")
    a = article(1)
    doc = page_of(render_page(a, BODY, ["json"], feed(a, title="T"), Links(site=site)))
    assert doc.get("lang") == "pt-br"
    assert alternates(doc) == [("application/feed+json", "T (JSON Feed)", f"{BASE}feeds/all.json")]
