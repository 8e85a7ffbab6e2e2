"""feedpub.render: every field of every format is text, sanitised HTML or an http(s) URL.

Each test reads a field the way a reader does: an RSS title or description, an OPML ``text``
or an Atom ``type="html"`` element parsed as HTML by lxml; Atom text, JSON Feed strings and
HTML pages as what they are.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from feedpub.articles.text import xml_safe
from feedpub.config import APPLE_CATEGORIES, SiteConfig
from feedpub.model import Article, ArticleMeta, Author, FeedSpec
from feedpub.render import Links
from feedpub.render.jsonfeed import render_json
from feedpub.render.pages import render_index, render_opml
from feedpub.render.safe import either, html_attr, html_text, text
from feedpub.render.xmlfeeds import podcast_guid, render_xml
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


# --- the renderers write text fields safely whatever the config holds -------------------------

SITE = SiteConfig(title="S", base_url="https://example.org/", author="Site Author")
LINKS = Links(site=SITE)


def _spec() -> FeedSpec:
    meta = ArticleMeta(path="a.md", title="A", authors=(Author(name="N"),))
    article = Article(
        meta=meta, date=WHEN, id="tag:x,2025:a", slug="a", url="https://example.org/a/"
    )
    return FeedSpec(
        key="all", title="S", category=None, content="full", entries=(article,), updated=WHEN
    )


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


# --- hostile strings in every field, every output read the way a reader reads it ----------------

PAYLOADS = [
    IMG,
    "<script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "'><body onload=alert(1)>",
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "//evil.example/x.js",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "javascript&colon;alert(1)",
    "<a href='javascript:alert(1)'>x</a>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    '<p style="width:expression(alert(1))">x</p>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<svg><script>alert(1)</script></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "]]><script>alert(1)</script><![CDATA[",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "Invoice\u202efdp.exe",
    "x\x01y\x07z\x0b",
    "Tom & Jerry",
]
URL_ATTRIBUTES = frozenset(
    [
        "href", "src", "action", "formaction", "data", "poster", "cite", "background",
        "longdesc", "codebase", "manifest", "icon", "lowsrc", "dynsrc", "srcset", "ping",
        "profile", "usemap", "classid", "archive", "xlink:href",
    ]
)  # fmt: skip
FORBIDDEN_TAGS = frozenset(
    ["script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form"]
)


def _dangerous_url(value: str, tag: str, attribute: str) -> bool:
    v = re.sub(r"[\x00-\x20]+", "", htmllib.unescape(value)).lower()
    if v.startswith(("javascript:", "vbscript:")):
        return True
    if v.startswith("data:"):
        return not (tag == "img" and attribute == "src" and v.startswith("data:image/"))
    return False


def _dangerous_style(value: str) -> bool:
    v = re.sub(r"\s+|/\*.*?\*/|['\"\\\\]", "", value.lower())
    return any(s in v for s in ("expression(", "url(javascript", "-moz-binding", "behavior:"))


def html_problems(markup: str | None, where: str, *, document: bool = False) -> list[str]:
    """What in ``markup``, rendered as HTML, could run script or leave the page."""
    if not markup:
        return []
    root: html.HtmlElement = html.document_fromstring(markup) if document else as_html(markup)
    found = []
    for el in root.iter("*"):  # elements: comments and processing instructions are inert
        tag = str(el.tag).rsplit("}", 1)[-1].lower()
        if tag in FORBIDDEN_TAGS:
            found.append(f"{where}: <{tag}>")
        if tag == "meta" and str(el.get("http-equiv") or "").strip().lower() == "refresh":
            found.append(f"{where}: <meta http-equiv=refresh>")
        if tag == "style" and _dangerous_style(el.text_content()):
            found.append(f"{where}: <style> {el.text_content()!r}")
        for raw_name, raw_value in el.attrib.items():
            name, value = str(raw_name).lower(), str(raw_value)
            if name.startswith("on"):
                found.append(f"{where}: <{tag} {name}>")
            elif name == "style" and _dangerous_style(value):
                found.append(f"{where}: <{tag} style={value!r}>")
            elif name in URL_ATTRIBUTES or name.endswith("href"):
                urls = (
                    [u.strip().split(" ")[0] for u in value.split(",")]
                    if name == "srcset"
                    else [value]
                )
                found += [
                    f"{where}: <{tag} {name}={u!r}>" for u in urls if _dangerous_url(u, tag, name)
                ]
    return found


def url_problems(value: object, where: str) -> list[str]:
    """A URL field must be an absolute http(s) URL."""
    if value is None:
        return []
    scheme = urlsplit(str(value)).scheme
    if scheme in ("http", "https") and urlsplit(str(value)).netloc:
        return []
    return [f"{where}: not an http(s) URL: {value!r}"]


def atom_problems(data: bytes, where: str) -> list[str]:
    root = etree.fromstring(data)
    found = []
    for el in root.iter("*"):
        if el.get("type") == "html":
            found += html_problems(el.text, f"{where} <{el.tag}>")
        elif el.get("type") == "xhtml":
            inner = "".join(etree.tostring(c, encoding="unicode") for c in el)
            found += html_problems(inner, f"{where} <{el.tag}>")
        for attribute in ("href", "src", "uri"):
            if el.get(attribute) is not None:
                found += url_problems(el.get(attribute), f"{where} <{el.tag} {attribute}>")
        if el.tag in (f"{ATOM}uri", f"{ATOM}icon", f"{ATOM}logo"):
            found += url_problems(el.text, f"{where} <{el.tag}>")
    return found


RSS_NOT_TEXT = frozenset(
    ["link", "docs", "comments", "url", "guid", "pubDate", "lastBuildDate", "language", "ttl"]
)


def rss_problems(data: bytes, where: str) -> list[str]:
    """Every text (title, description, category, author...) read as HTML, as some reader
    renders each of them so; every URL element and attribute http(s). Ids and dates are
    neither."""
    root = etree.fromstring(data)
    found = []
    for el in root.iter("*"):
        if el.tag not in RSS_NOT_TEXT:
            found += html_problems(el.text, f"{where} <{el.tag}>")
        if el.tag in ("link", "docs", "comments", "url") or (
            el.tag == "guid" and el.get("isPermaLink") != "false"
        ):
            found += url_problems(el.text, f"{where} <{el.tag}>")
        for attribute in ("href", "url"):
            if el.get(attribute) is not None:
                found += url_problems(el.get(attribute), f"{where} <{el.tag} {attribute}>")
    return found


JSON_URL_KEYS = frozenset(
    [
        "url", "external_url", "image", "banner_image", "home_page_url", "feed_url", "icon",
        "favicon", "next_url", "avatar",
    ]
)  # fmt: skip


def json_problems(value: object, where: str) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "content_html":
                found += html_problems(item, f"{where}.{key}")
            elif key in JSON_URL_KEYS:
                found += url_problems(item, f"{where}.{key}")
            else:
                found += json_problems(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += json_problems(item, f"{where}[{i}]")
    return found


def opml_problems(data: bytes, where: str) -> list[str]:
    root = etree.fromstring(data)
    found = html_problems(root.findtext("head/title"), f"{where} <title>")
    for outline in root.iter("outline"):
        for attribute in ("text", "title"):
            found += html_problems(outline.get(attribute), f"{where} @{attribute}")
        for attribute in ("xmlUrl", "htmlUrl"):
            found += url_problems(outline.get(attribute), f"{where} @{attribute}")
    return found


HTML_TYPES = ("text/html", "application/xhtml+xml")


def feedparser_problems(value: object, where: str) -> list[str]:
    """What feedparser hands a reader: HTML-typed values rendered, links followed."""
    found = []
    if isinstance(value, dict):
        if value.get("type") in HTML_TYPES and isinstance(value.get("value"), str):
            found += html_problems(value["value"], where)
        for key, item in value.items():
            if key in ("href", "link", "url") and isinstance(item, str):
                found += url_problems(item, f"{where}.{key}")
            elif key.endswith("_detail") and isinstance(item, dict):
                if item.get("type") in HTML_TYPES:
                    found += html_problems(value.get(key[: -len("_detail")]), f"{where}.{key}")
                found += feedparser_problems(item, f"{where}.{key}")
            elif isinstance(item, dict | list):
                found += feedparser_problems(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += feedparser_problems(item, f"{where}[{i}]")
    return found


def output_problems(site: Site) -> list[str]:
    """Everything a reader receives from ``site``'s output, read as a reader reads it."""
    found: list[str] = []
    for path in sorted(site.output.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        rel = str(path.relative_to(site.output))
        data = path.read_bytes()
        if rel.endswith(".atom.xml"):
            found += atom_problems(data, rel)
        elif rel.endswith(".rss.xml"):
            found += rss_problems(data, rel)
        elif rel.endswith(".json"):
            found += json_problems(json.loads(data), rel)
        elif rel.endswith(".opml"):
            found += opml_problems(data, rel)
        elif rel.endswith(".html"):
            found += html_problems(data.decode(), rel, document=True)
        if rel.endswith((".atom.xml", ".rss.xml")):
            parsed = feedparser.parse(data)
            assert not parsed.bozo, (rel, parsed.get("bozo_exception"))
            found += feedparser_problems(parsed.feed, f"{rel} (feedparser) feed")
            found += feedparser_problems(parsed.entries, f"{rel} (feedparser) entries")
    return found


def q(value: str) -> str:
    """``value`` as a YAML or TOML double-quoted string: ASCII, everything else escaped as
    ``\\uXXXX`` or ``\\UXXXXXXXX``, which both read the same way."""

    def escape(c: str) -> str:
        if c in '"\\':
            return "\\" + c
        if " " <= c <= "~":
            return c
        return f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}"

    return '"' + "".join(escape(c) for c in value) + '"'


def hostile_site(root: Path, v: list[str]) -> Site:
    """A site where every field an article or the config can set holds one of ``v``.

    (The config's strings lose the characters XML cannot carry: the config is refused for
    those, as test_config checks.)"""
    c = [xml_safe(value) for value in v[:5]]
    site = Site(root)
    site.config_text = f"""\
[site]
title = {q("S " + c[0])}
base_url = "https://example.org/"
description = {q(c[1])}
author = {q(c[2])}
author_email = {q(c[3])}

[paths]
articles = "articles"
output = "public"
state = "state/state.sqlite3"

[feeds]
max_entries = 5

[feeds.categories."News"]
title = {q(c[4])}
podcast = {{ image = "https://example.org/c.jpg", category = "News", explicit = false, \
author = {q(c[0])}, owner_name = {q(c[2])}, owner_email = "o@example.org" }}
"""
    site.write(
        "a.md",
        f"""---
title: {q(v[5])}
date: 2025-01-01T00:00:00Z
summary: {q(v[6])}
categories: [{q(v[7])}, "News"]
tags: [{q(v[8])}, {q(v[9])}]
authors:
  - {{name: {q(v[10])}, email: {q(v[11])}, url: {q(v[12])}}}
  - {q(v[13])}
image: {q(v[14])}
enclosure: {{url: {q(v[15])}, type: {q(v[16])}, length: 5}}
slug: {q(v[17])}
id: {q("x" + v[18])}
---
`{v[19]}` is shown as code, and the summary above says {v[20]}

{v[21]}
""",
    )
    site.write(
        "b.md",
        f"""---
date: 2025-01-02T00:00:00Z
link: {q(v[22])}
categories: {q(v[23])}
author: {q(v[24])}
---
`{v[25]}` first, so that the summary is an excerpt of it
""",
    )
    first_line = " ".join(v[26].split()) or "x"
    site.write("c.txt", f"Categories: News\nDate: 2025-01-03\n\n{first_line}\n\n{v[27]}\n")
    return site


FIELDS = 28


@pytest.mark.parametrize("payload", PAYLOADS)
def test_one_hostile_string_in_every_field_reaches_no_reader_alive(
    payload: str, tmp_path: Path
) -> None:
    site = hostile_site(tmp_path, [payload] * FIELDS)
    result = site.build()
    assert result.published == 3, result.problems
    assert not [p for p in result.problems if p.path not in ("a.md", "b.md", "c.txt")]
    assert output_problems(site) == []


HOSTILE = st.one_of(
    st.sampled_from(PAYLOADS),
    st.tuples(st.sampled_from(PAYLOADS), st.text(max_size=6), st.sampled_from(PAYLOADS)).map(
        "".join
    ),
    st.text(max_size=20),
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=FIELDS, max_size=FIELDS))
def test_hostile_strings_in_every_field_reach_no_reader_alive(values: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = hostile_site(Path(tmp), values)
        result = site.build()
        assert not [p for p in result.problems if p.path not in ("a.md", "b.md", "c.txt")]
        assert output_problems(site) == []


# --- enclosures: every format carries them as its readers expect ------------------------------

MP3 = "https://example.org/media/episode-1.mp3"
PAGE = "https://example.org/articles/ep/"


def _episode(site: Site, enclosure: str, name: str = "ep.md", extra: str = "") -> None:
    site.write(
        name,
        f"""
        ---
        title: Episode
        slug: ep
        date: 2025-01-01T00:00:00Z
        categories: [Podcast]
        enclosure: {enclosure}
        {extra}
        ---
        Show notes.
        """,
    )


def attributes(el: etree._Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in el.attrib.items()}


def _atom_entry_links(site: Site, key: str = "all") -> list[dict[str, str]]:
    entry = atom(site, key).find(f"{ATOM}entry")
    assert entry is not None
    return [attributes(link) for link in entry.findall(f"{ATOM}link")]


def test_an_enclosure_reaches_readers_of_every_format(site: Site) -> None:
    _episode(site, f"{{url: {MP3}, type: audio/mpeg, length: 18400000}}")
    site.build()
    # Atom, as a reader parses it: one alternate link (the page) and one enclosure
    entry = feedparser.parse(site.read("feeds/all.atom.xml")).entries[0]
    assert entry.enclosures == [{"href": MP3, "type": "audio/mpeg", "length": "18400000"}]
    assert [link.href for link in entry.links if link.rel == "alternate"] == [PAGE]
    # ... and the raw XML: every attribute written, nothing else taken for an alternate link
    assert _atom_entry_links(site) == [
        {"href": PAGE, "rel": "alternate", "type": "text/html"},
        {"href": MP3, "rel": "enclosure", "type": "audio/mpeg", "length": "18400000"},
    ]
    # RSS
    item = feedparser.parse(site.read("feeds/all.rss.xml")).entries[0]
    assert item.enclosures == [{"href": MP3, "type": "audio/mpeg", "length": "18400000"}]
    enclosure = rss(site).find("channel/item/enclosure")
    assert enclosure is not None
    assert attributes(enclosure) == {"url": MP3, "length": "18400000", "type": "audio/mpeg"}
    # JSON Feed 1.1 (feedparser reads no JSON Feed): attachments as the spec names them
    [json_item] = json.loads(site.read("feeds/all.json"))["items"]
    assert json_item["attachments"] == [
        {"url": MP3, "mime_type": "audio/mpeg", "size_in_bytes": 18400000}
    ]
    # the category feed carries it the same way
    assert _atom_entry_links(site, "podcast")[1]["rel"] == "enclosure"


def test_an_enclosure_of_unknown_size_has_no_atom_length_and_rss_length_0(site: Site) -> None:
    _episode(site, MP3)  # a bare URL: type guessed, length unknown
    site.build()
    assert _atom_entry_links(site)[1] == {"href": MP3, "rel": "enclosure", "type": "audio/mpeg"}
    entry = feedparser.parse(site.read("feeds/all.atom.xml")).entries[0]
    assert [(e.href, e.type) for e in entry.enclosures] == [(MP3, "audio/mpeg")]
    enclosure = rss(site).find("channel/item/enclosure")
    assert enclosure is not None
    assert enclosure.get("length") == "0"  # required in RSS; 0 means unknown
    [json_item] = json.loads(site.read("feeds/all.json"))["items"]
    assert json_item["attachments"] == [{"url": MP3, "mime_type": "audio/mpeg"}]


def test_an_image_is_the_enclosure_when_there_is_none(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", extra="image: /img/cover.png\n")
    site.build()
    cover = "https://example.org/img/cover.png"
    links = _atom_entry_links(site)
    assert links[1] == {"href": cover, "rel": "enclosure", "type": "image/png"}
    entry = feedparser.parse(site.read("feeds/all.atom.xml")).entries[0]
    assert [link.href for link in entry.links if link.rel == "alternate"] == [links[0]["href"]]
    item = feedparser.parse(site.read("feeds/all.rss.xml")).entries[0]
    assert item.enclosures == [{"href": cover, "type": "image/png", "length": "0"}]
    [json_item] = json.loads(site.read("feeds/all.json"))["items"]
    assert json_item["image"] == cover and "attachments" not in json_item


def test_every_atom_link_says_what_it_is(site: Site) -> None:
    site.config_text += '\n[notify]\nhubs = ["https://hub.example/"]\n'
    _episode(site, f"{{url: {MP3}, type: audio/mpeg, length: 5}}")
    site.article("b.md", "B", "2025-01-02T00:00:00Z", extra="link: https://elsewhere.example/b\n")
    site.build()
    for key in ("all", "podcast", "news"):
        root = atom(site, key)
        links = root.findall(f".//{ATOM}link")
        assert links
        for link in links:
            assert link.get("rel") in ("self", "hub", "alternate", "enclosure"), link.attrib
            if link.get("rel") in ("alternate", "self", "enclosure"):
                assert link.get("type"), link.attrib
        for entry in root.findall(f"{ATOM}entry"):
            alternates = [lk for lk in entry.findall(f"{ATOM}link") if lk.get("rel") == "alternate"]
            assert [lk.get("type") for lk in alternates] == ["text/html"]


def test_the_bundled_podcast_sample_has_an_episode_in_atom(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    site = Site(tmp_path)
    site.config_text = (repo / "config.toml").read_text(encoding="utf-8")
    for article in (repo / "articles").iterdir():
        site.write(article.name, article.read_bytes())
    site.now = datetime(2026, 1, 1, tzinfo=UTC)  # the episode is dated 2025-07-07
    site.build()
    entry = feedparser.parse(site.read("feeds/podcast.atom.xml")).entries[0]
    assert [(e.href, e.type, e.length) for e in entry.enclosures] == [
        ("https://example.org/media/episode-1.mp3", "audio/mpeg", "18400000")
    ]
    assert len([link for link in entry.links if link.rel == "alternate"]) == 1
    data = site.read("feeds/podcast.rss.xml")
    assert apple_problems(data, "https://example.org/feeds/podcast.rss.xml") == []
    assert feedparser.parse(data).entries[0].itunes_duration == "1200"


# --- podcasts: a podcast category's RSS carries what podcast directories require ----------------

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC_2822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
SHOW = (
    'image = "https://example.org/media/cover.jpg", category = "Technology", explicit = false, '
    'owner_email = "ada@example.org"'
)


def podcast_site(site: Site, show: str = SHOW) -> Site:
    site.config_text += (
        f'\n[feeds.categories."Podcast"]\ntitle = "Feeds, explained"\npodcast = {{ {show} }}\n'
    )
    _episode(
        site,
        f"{{url: {MP3}, type: audio/mpeg, length: 18400000}}",
        extra="duration: 00:20:00\n        episode: 1\n        season: 1\n"
        "        image: /media/ep1.jpg",
    )
    site.write(
        "ep2.md",
        """
        ---
        title: Episode 2
        date: 2025-01-08T00:00:00Z
        categories: [Podcast]
        enclosure: {url: /media/ep2.m4a, type: audio/x-m4a, length: 1000}
        duration: "1:02:03"
        episode: 2
        season: 1
        explicit: yes
        ---
        Notes.
        """,
    )
    site.article("news.md", "News", "2025-01-05T00:00:00Z", extra="image: /img/n.jpg\n")
    return site


def apple_problems(data: bytes, feed_url: str) -> list[str]:
    """What Apple Podcasts (A Podcaster's Guide to RSS) and Podcasting 2.0 require of a
    podcast's RSS, checked tag by tag."""
    found: list[str] = []
    root = etree.fromstring(data)
    if root.nsmap.get("itunes") != ITUNES.strip("{}"):
        found.append("the itunes namespace is not declared as Apple spells it")
    channel = root.find("channel")
    assert channel is not None

    def single(parent: etree._Element, tag: str, where: str) -> etree._Element | None:
        elements = parent.findall(tag)
        if len(elements) != 1:
            found.append(f"{where}: {len(elements)} <{tag}>, not 1")
            return None
        return elements[0]

    def text(parent: etree._Element, tag: str, where: str, limit: int = 255) -> str:
        el = single(parent, tag, where)
        value = (el.text or "") if el is not None else ""
        if el is not None and not value:
            found.append(f"{where}: <{tag}> is empty")
        if value != value.strip() or len(value.encode()) > limit:
            found.append(f"{where}: <{tag}> has outer spaces or is over {limit} bytes")
        return value

    text(channel, "title", "channel")
    text(channel, "description", "channel", limit=4000)
    text(channel, "link", "channel")
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z]{2})?", text(channel, "language", "channel").lower()):
        found.append("channel: <language> is not an ISO 639 code")
    image = single(channel, f"{ITUNES}image", "channel")
    if image is not None and not re.fullmatch(r"https?://\S+\.(jpg|png)", image.get("href", "")):
        found.append(f"channel: itunes:image {image.get('href')!r} is no .jpg or .png URL")
    categories = channel.findall(f"{ITUNES}category")
    if not categories:
        found.append("channel: no itunes:category")
    for category in categories:
        name = category.get("text", "")
        if name not in APPLE_CATEGORIES:
            found.append(f"channel: itunes:category {name!r} is not Apple's")
        for sub in category.findall(f"{ITUNES}category"):
            if sub.get("text") not in APPLE_CATEGORIES.get(name, ()):
                found.append(f"channel: {sub.get('text')!r} is not a subcategory of {name!r}")
    if text(channel, f"{ITUNES}explicit", "channel") not in ("true", "false"):
        found.append("channel: itunes:explicit is not true or false")
    text(channel, f"{ITUNES}author", "channel")
    owner = single(channel, f"{ITUNES}owner", "channel")
    if owner is not None:
        text(owner, f"{ITUNES}name", "itunes:owner")
        if "@" not in text(owner, f"{ITUNES}email", "itunes:owner"):
            found.append("itunes:owner: no email address")
    kind = text(channel, f"{ITUNES}type", "channel")
    if kind not in ("episodic", "serial"):
        found.append(f"channel: itunes:type {kind!r}")
    guid = text(channel, f"{PODCAST}guid", "channel")
    if not UUID_RE.match(guid):
        found.append(f"channel: podcast:guid {guid!r} is not a UUIDv5")
    guids: set[str] = set()
    for i, item in enumerate(channel.findall("item")):
        where = f"item {i}"
        text(item, "title", where)
        enclosure = single(item, "enclosure", where)
        if enclosure is not None:
            if not re.fullmatch(r"https?://\S+", enclosure.get("url", "")):
                found.append(f"{where}: enclosure url {enclosure.get('url')!r}")
            if not enclosure.get("length", "").isdigit():
                found.append(f"{where}: enclosure length {enclosure.get('length')!r}")
            if not re.fullmatch(
                r"(audio|video)/[\w.+-]+|application/pdf", enclosure.get("type", "")
            ):
                found.append(f"{where}: enclosure type {enclosure.get('type')!r}")
        guid = text(item, "guid", where)
        if guid in guids:
            found.append(f"{where}: guid {guid!r} repeated")
        guids.add(guid)
        if not RFC_2822.match(text(item, "pubDate", where)):
            found.append(f"{where}: pubDate is not RFC 2822")
        if not text(item, f"{ITUNES}duration", where).isdigit():
            found.append(f"{where}: itunes:duration is not a number of seconds")
        if text(item, f"{ITUNES}explicit", where) not in ("true", "false"):
            found.append(f"{where}: itunes:explicit is not true or false")
        for tag in ("episode", "season"):
            for number in item.findall(f"{ITUNES}{tag}"):
                if not (number.text or "").isdigit() or int(number.text or "0") < 1:
                    found.append(f"{where}: itunes:{tag} {number.text!r} is not a number from 1")
        if kind == "serial" and item.find(f"{ITUNES}episode") is None:
            found.append(f"{where}: a serial show numbers every episode (itunes:episode)")
    return found


def test_podcast_guid_is_podcasting_2_0s_uuidv5_of_the_feed_url() -> None:
    # the examples of https://podcastindex.org/namespace/1.0#guid
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    assert podcast_guid("http://podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_a_podcast_rss_has_what_directories_require(site: Site) -> None:
    podcast_site(site).build()
    data = site.read("feeds/podcast.rss.xml")
    feed_url = "https://example.org/feeds/podcast.rss.xml"
    assert apple_problems(data, feed_url) == []
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    assert channel.findtext(f"{PODCAST}guid") == podcast_guid(feed_url)
    assert channel.findtext(f"{ITUNES}author") == "Site Author"
    assert channel.findtext(f"{ITUNES}owner/{ITUNES}name") == "Site Author"
    assert channel.findtext(f"{ITUNES}owner/{ITUNES}email") == "ada@example.org"
    assert [c.get("text") for c in channel.iter(f"{ITUNES}category")] == ["Technology"]
    ep2, ep1 = channel.findall("item")  # newest first
    assert [ep.findtext(f"{ITUNES}duration") for ep in (ep1, ep2)] == ["1200", "3723"]
    assert [ep.findtext(f"{ITUNES}explicit") for ep in (ep1, ep2)] == ["false", "true"]
    image = ep1.find(f"{ITUNES}image")
    assert image is not None and image.get("href") == "https://example.org/media/ep1.jpg"
    assert ep2.find(f"{ITUNES}image") is None
    # ... read back as a reader does
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert parsed.feed.image.href == "https://example.org/media/cover.jpg"
    assert parsed.feed.itunes_type == "episodic"
    assert parsed.feed.publisher_detail == {"name": "Site Author", "email": "ada@example.org"}
    assert {"term": "Technology", "scheme": "http://www.itunes.com/", "label": None} in (
        parsed.feed.tags
    )
    assert parsed.feed.podcast_guid == podcast_guid(feed_url)
    first, second = parsed.entries
    assert (first.itunes_duration, first.itunes_episode, first.itunes_season) == ("3723", "2", "1")
    assert (second.itunes_duration, second.itunes_episode) == ("1200", "1")
    assert second.id == "tag:example.org,2025-01-01:ep" and second.guidislink is False
    assert second.enclosures == [{"href": MP3, "type": "audio/mpeg", "length": "18400000"}]
    assert second.image.href == "https://example.org/media/ep1.jpg"


def test_the_podcast_tags_are_in_its_rss_only(site: Site) -> None:
    podcast_site(site).build()
    for relpath in ("feeds/podcast.atom.xml", "feeds/all.rss.xml", "feeds/news.rss.xml"):
        data = site.read(relpath)
        assert b"itunes" not in data and b"podcastindex" not in data, relpath
    # elsewhere an episode's image is still its enclosure when it has none; in the podcast's
    # RSS, where every enclosure is an episode, it is not
    news = rss(site, "news").find("channel/item/enclosure")
    assert news is not None and news.get("type") == "image/jpeg"
    # the JSON Feed attachment says how long the episode is (duration_in_seconds)
    items = json.loads(site.read("feeds/podcast.json"))["items"]
    assert [item["attachments"][0]["duration_in_seconds"] for item in items] == [3723, 1200]


def test_a_serial_podcast_with_a_subcategory_and_its_own_guid(site: Site) -> None:
    guid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    podcast_site(
        site,
        'image = "https://example.org/media/cover.png", type = "serial", '
        'category = "society & culture", subcategory = "Documentary", '
        f'guid = "{guid}", author = "The Network", owner_name = "Bo", explicit = true, '
        'owner_email = "bo@example.org"',
    ).build()
    data = site.read("feeds/podcast.rss.xml")
    assert apple_problems(data, "https://example.org/feeds/podcast.rss.xml") == []
    assert (
        b'<itunes:category text="Society &amp; Culture">\n'
        b'      <itunes:category text="Documentary"/>\n'
        b"    </itunes:category>"
    ) in data
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    assert channel.findtext(f"{PODCAST}guid") == guid
    assert channel.findtext(f"{ITUNES}type") == "serial"
    assert channel.findtext(f"{ITUNES}author") == "The Network"
    assert channel.findtext(f"{ITUNES}owner/{ITUNES}name") == "Bo"
    # episodes inherit the show's rating unless they say otherwise
    assert [i.findtext(f"{ITUNES}explicit") for i in channel.findall("item")] == ["true", "true"]


def test_the_checks_catch_what_directories_refuse(site: Site) -> None:
    """The rules above, on an RSS feed that is no podcast, and on a serial show missing an
    episode number: each finds what Apple Podcasts would refuse."""
    podcast_site(site, SHOW + ', type = "serial"')
    site.write(
        "ep3.md", "---\ntitle: Three\ndate: 2025-01-09T00:00:00Z\ncategories: [Podcast]\n---\nx\n"
    )
    site.build()
    problems = apple_problems(site.read("feeds/podcast.rss.xml"), "")
    assert "item 0: 0 <enclosure>, not 1" in problems
    assert "item 0: a serial show numbers every episode (itunes:episode)" in problems
    assert len(apple_problems(site.read("feeds/all.rss.xml"), "")) > 8


def test_podcast_rss_is_deterministic(site: Site, tmp_path: Path) -> None:
    podcast_site(site).build()
    again = podcast_site(Site(tmp_path / "again"))
    again.build()
    assert site.read("feeds/podcast.rss.xml") == again.read("feeds/podcast.rss.xml")
