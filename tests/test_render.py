"""feedpub.render: every field of every format is text, sanitised HTML or an http(s) URL.

Each test reads a field the way a reader does: an RSS title or description, an OPML ``text``
or an Atom ``type="html"`` element parsed as HTML by lxml; Atom text, JSON Feed strings and
HTML pages as what they are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import pytest
from lxml import etree, html

from feedpub.config import SiteConfig
from feedpub.model import Article, ArticleMeta, Author, FeedSpec
from feedpub.render import EntryBody, Links
from feedpub.render.jsonfeed import render_json
from feedpub.render.pages import render_index, render_opml, render_page
from feedpub.render.safe import either, html_attr, html_text, sanitised, text
from feedpub.render.xmlfeeds import render_xml
from tests.conftest import Site

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
IMG = "<img src=x onerror=alert(1)>"
WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def as_html(value: str | None) -> html.HtmlElement:
    """``value`` as a reader that renders it as HTML sees it."""
    return html.fragment_fromstring(value or "", create_parent="div")


def live_markup(value: str | None) -> list[str]:
    """The elements and event-handler attributes in ``value`` read as HTML."""
    found = []
    for el in as_html(value).iter():
        if isinstance(el.tag, str) and el.tag != "div":
            found.append(el.tag)
        found += [name for name in el.attrib if name.lower().startswith("on")]
    return found


def shown_as_html(value: str | None) -> str:
    """The characters a reader rendering ``value`` as HTML shows."""
    return str(as_html(value).text_content())


def rss(site: Site, key: str = "all") -> etree._Element:
    return etree.fromstring(site.read(f"feeds/{key}.rss.xml"))


def atom(site: Site, key: str = "all") -> etree._Element:
    return etree.fromstring(site.read(f"feeds/{key}.atom.xml"))


# --- the rule, one function per kind of field ---------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Plain title",
        "Tom & Jerry",  # no character reference: read either way, the same
        "AT&T; R&D",
        "a < b and c > d",  # "<" before a space starts no tag
        "Ünïcødé 日本語 \U0001f600",
        "\u200fשלום\u200e",
    ],
)
def test_either_leaves_text_that_reads_the_same_as_text_and_as_html(value: str) -> None:
    assert either(value) == value
    assert shown_as_html(either(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        IMG,
        "<script>alert(1)</script>",
        "Vec<T> in Rust",
        "</title><script>alert(1)</script>",
        "<!-- hidden -->",
        "<?php x ?>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;img src=x onerror=alert(1)&#62;",
        "&copy 2025",
        "Fish &amp; Chips",
    ],
)
def test_either_escapes_text_an_html_reading_would_change(value: str) -> None:
    out = either(value)
    assert out != value
    assert live_markup(out) == []
    assert shown_as_html(out) == value


def test_text_removes_only_xml_illegal_characters() -> None:
    assert text("a\x07b <i>c</i> &amp;") == "ab <i>c</i> &amp;"


def test_html_text_and_attribute() -> None:
    assert html_text('<b> & "q"') == '&lt;b&gt; &amp; "q"'
    assert html_attr('"><script>') == '"&quot;&gt;&lt;script&gt;"'


def test_sanitised_removes_script_and_makes_urls_absolute() -> None:
    out = sanitised(f"<p>a<script>alert(1)</script>{IMG}<a href=x>l</a></p>", "https://e.org/p/")
    assert live_markup(out) == ["p", "img", "a"]
    assert 'href="https://e.org/p/x"' in out


# --- RSS: description is HTML; title, category and names may be read either way ----------------


def test_rss_description_of_an_html_looking_summary_is_escaped_text(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", extra=f'summary: "{IMG} & more"\n')
    site.build()
    item = rss(site).find("channel/item")
    assert item is not None
    description = item.findtext("description")
    assert live_markup(description) == []
    assert shown_as_html(description) == f"{IMG} & more"


def test_rss_description_of_an_excerpt_of_code_is_escaped_text(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", body=f"Shows `{IMG}` as code.")
    site.build()
    item = rss(site).find("channel/item")
    assert item is not None
    description = item.findtext("description")
    assert live_markup(description) == []
    assert shown_as_html(description) == f"Shows {IMG} as code."
    assert live_markup(item.findtext(f"{CONTENT}encoded")) == ["p", "code"]


def test_rss_channel_description_with_an_html_category_name_is_inert(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", categories=f'["{IMG}"]')
    result = site.build()
    [key] = [k for k in result.feeds if k != "all"]
    channel = rss(site, key).find("channel")
    assert channel is not None
    for field in ("title", "description", "category"):
        value = channel.findtext(field)
        assert live_markup(value) == [], field
        assert shown_as_html(value).endswith(IMG), field


def test_rss_titles_categories_and_names_are_inert_when_read_as_html(site: Site) -> None:
    site.config_text = site.config_text.replace(
        'title = "Test Site"', 'title = "Site <script>alert(1)</script>"'
    )
    site.write(
        "a.md",
        f"""
        ---
        title: "T {IMG}"
        date: 2025-01-01T00:00:00Z
        categories: ["<b onmouseover=alert(1)>c</b>"]
        tags: ["<svg onload=alert(1)>"]
        authors:
          - {{name: "<i onclick=alert(1)>n</i>", email: n@example.org}}
          - {{name: "<u onclick=alert(1)>m</u>"}}
        ---
        Body.
        """,
    )
    site.build()
    channel = rss(site).find("channel")
    assert channel is not None
    item = channel.find("item")
    assert item is not None
    fields = {
        "channel title": channel.findtext("title"),
        "channel description": channel.findtext("description"),
        "title": item.findtext("title"),
        "author": item.findtext("author"),
        "dc:creator": item.findtext(f"{DC}creator"),
        **{f"category {i}": c.text for i, c in enumerate(item.findall("category"))},
    }
    assert len(fields) == 7
    for name, value in fields.items():
        assert live_markup(value) == [], name
    assert shown_as_html(fields["title"]) == f"T {IMG}"
    assert shown_as_html(fields["author"]) == "n@example.org (<i onclick=alert(1)>n</i>)"
    assert shown_as_html(fields["dc:creator"]) == "<u onclick=alert(1)>m</u>"
    # feedparser, whose readers go by the type it reports, shows the same characters
    entry = feedparser.parse(site.read("feeds/all.rss.xml")).entries[0]
    assert entry.title_detail.type == "text/html"
    assert shown_as_html(entry.title) == f"T {IMG}"


def test_rss_titles_without_markup_are_written_as_they_are(site: Site) -> None:
    site.article("a.md", "'Tom & Jerry: a < b'", "2025-01-01T00:00:00Z", categories="[R&D]")
    site.build()
    item = rss(site).find("channel/item")
    assert item is not None
    assert item.findtext("title") == "Tom & Jerry: a < b"
    assert item.findtext("category") == "R&D"
    entry = feedparser.parse(site.read("feeds/all.rss.xml")).entries[0]
    assert entry.title == "Tom & Jerry: a < b"


# --- Atom: text is type="text", content is sanitised HTML ---------------------------------------


def test_atom_text_stays_text_and_author_uri_is_http(site: Site) -> None:
    site.write(
        "a.md",
        f"""
        ---
        title: "T {IMG}"
        summary: "S {IMG}"
        date: 2025-01-01T00:00:00Z
        author: {{name: "<i>n</i>", url: "javascript:alert(1)"}}
        ---
        Body.
        """,
    )
    site.build()
    entry = atom(site).find(f"{ATOM}entry")
    assert entry is not None
    title = entry.find(f"{ATOM}title")
    assert title is not None
    assert title.get("type") in (None, "text")
    assert title.text == f"T {IMG}"
    assert entry.findtext(f"{ATOM}summary") == f"S {IMG}"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "<i>n</i>"
    assert entry.find(f"{ATOM}author/{ATOM}uri") is None
    parsed = feedparser.parse(site.read("feeds/all.atom.xml")).entries[0]
    assert parsed.title == f"T {IMG}" and parsed.title_detail.type == "text/plain"


# --- JSON Feed: content_html is sanitised, everything else is text ------------------------------


def test_json_feed_strings_are_text_and_author_url_is_http(site: Site) -> None:
    site.write(
        "a.md",
        f"""
        ---
        title: "T {IMG}"
        date: 2025-01-01T00:00:00Z
        author: {{name: N, url: "javascript:alert(1)"}}
        ---
        Body.
        """,
    )
    site.build()
    [item] = json.loads(site.read("feeds/all.json"))["items"]
    assert item["title"] == f"T {IMG}"
    assert item["authors"] == [{"name": "N"}]


# --- OPML: text may be HTML, so it is written to read the same either way -----------------------


def test_opml_text_and_title_are_inert_when_read_as_html(site: Site) -> None:
    site.config_text += f'\n[feeds.categories."News"]\ntitle = "{IMG}"\n'
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    opml = etree.fromstring(site.read("feeds/index.opml"))
    outlines = opml.findall("body/outline")
    assert len(outlines) == 2
    for outline in outlines:
        for attribute in ("text", "title"):
            assert live_markup(outline.get(attribute)) == []
    assert shown_as_html(outlines[1].get("text")) == f"Test Site: {IMG}"


# --- the renderers themselves: HTML they are handed is sanitised again --------------------------

SITE = SiteConfig(title="S", base_url="https://example.org/", author="Site Author")
LINKS = Links(site=SITE)
HOSTILE_BODY = EntryBody(
    content_html=f'<p>x</p><script>alert(1)</script>{IMG}<a href="javascript:alert(1)">l</a>',
    summary="x",
)


def _spec() -> FeedSpec:
    meta = ArticleMeta(path="a.md", title="A", authors=(Author(name="N"),))
    article = Article(
        meta=meta, date=WHEN, id="tag:x,2025:a", slug="a", url="https://example.org/a/"
    )
    return FeedSpec(
        key="all", title="S", category=None, content="full", entries=(article,), updated=WHEN
    )


def _safe_fragment(value: str | None) -> None:
    tree = as_html(value)
    assert tree.find(".//script") is None
    for el in tree.iter():
        assert not [n for n in el.attrib if str(n).lower().startswith("on")]
        assert not str(el.get("href") or "").lower().startswith("javascript:")


def test_feed_renderers_sanitise_the_html_they_are_handed() -> None:
    spec = _spec()
    atom_doc = etree.fromstring(render_xml(spec, "atom", LINKS, lambda _: HOSTILE_BODY))
    _safe_fragment(atom_doc.findtext(f"{ATOM}entry/{ATOM}content"))
    rss_doc = etree.fromstring(render_xml(spec, "rss", LINKS, lambda _: HOSTILE_BODY))
    _safe_fragment(rss_doc.findtext(f"channel/item/{CONTENT}encoded"))
    [item] = json.loads(render_json(spec, LINKS, lambda _: HOSTILE_BODY))["items"]
    _safe_fragment(item["content_html"])


def test_page_renderer_sanitises_the_html_it_is_handed() -> None:
    spec = _spec()
    page = html.document_fromstring(
        render_page(spec.entries[0], HOSTILE_BODY, ["atom"], spec, LINKS)
    )
    assert page.find(".//script") is None
    for el in page.iter():
        assert not [n for n in el.attrib if str(n).lower().startswith("on")]


def test_control_characters_in_the_config_cannot_break_a_feed() -> None:
    site = SiteConfig(
        title="S\x07", base_url="https://example.org/", author="A\x01", description="D\x0b"
    )
    links = Links(site=site)
    spec = _spec()
    for fmt in ("atom", "rss"):
        etree.fromstring(render_xml(spec, fmt, links, lambda _: None))
    json.loads(render_json(spec, links, lambda _: None))
    etree.fromstring(render_opml([spec], ["atom"], links))
    html.document_fromstring(render_index([spec], ["atom"], links))
