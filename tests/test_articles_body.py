"""feedpub.articles.body: article bodies -> safe HTML with absolute URLs; excerpts."""

from __future__ import annotations

import contextlib
import re
import time

import nh3
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from lxml import etree, html

from feedpub.articles.body import _depth, clean_html, render_body
from feedpub.articles.markdown import markdown_to_html
from feedpub.articles.plain import excerpt, html_to_text, text_to_html
from feedpub.articles.sanitise import (
    _URL_SCHEMES,
    _allowed,
    _id_values,
    keep_url,
    keep_url_or_id,
    sanitise,
)
from feedpub.articles.text import xml_safe

BASE = "https://example.org/posts/hello/"


def fragment(markup: str) -> html.HtmlElement:
    """``markup`` parsed by lxml as the children of one ``<div>``."""
    return html.fragment_fromstring(markup, create_parent="div")


def hrefs(markup: str) -> list[str | None]:
    return [a.get("href") for a in fragment(markup).iter("a")]


# --- clean_html: sanitising ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        "<p>a<script>alert(1)</script>b</p>",
        "<script src='https://evil.example/x.js'></script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<svg><script>alert(1)</script></svg>",
        "<scr<script>ipt>alert(1)</script>",
        "<iframe src='https://evil.example'></iframe>",
        "<object data='x.swf'></object><embed src='x.swf'>",
        "<style>body{display:none}</style>",
        "<form action='https://evil.example'><input name=x></form>",
    ],
)
def test_dangerous_elements_removed(markup: str) -> None:
    out = clean_html(markup, BASE).lower()
    for tag in ("<script", "<iframe", "<object", "<embed", "<style", "<form", "<input"):
        assert tag not in out
    assert "alert(1)" not in out or "<" not in out.split("alert(1)")[0][-1:]


@pytest.mark.parametrize(
    "markup",
    [
        '<p onclick="steal()">x</p>',
        '<img src="a.png" onerror="steal()">',
        '<a href="/x" onmouseover="steal()">x</a>',
        "<div OnClick='steal()'>x</div>",
        '<body onload="steal()">x</body>',
    ],
)
def test_event_handlers_removed(markup: str) -> None:
    out = clean_html(markup, BASE)
    assert "steal" not in out
    for el in fragment(out).iter():
        assert not any(name.lower().startswith("on") for name in el.attrib)


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
    ],
)
def test_javascript_hrefs_removed(href: str) -> None:
    out = clean_html(f'<a href="{href}">x</a>', BASE)
    assert "script:" not in out.lower()
    assert hrefs(out) == [None]


def test_data_html_href_removed() -> None:
    out = clean_html('<a href="data:text/html,<script>alert(1)</script>">x</a>', BASE)
    assert hrefs(out) == [None]


def test_data_image_src_is_kept() -> None:
    out = clean_html('<img src="data:image/png;base64,iVBORw0KGgo=">', BASE)
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in out


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<a href="../other/">x</a>', "https://example.org/posts/other/"),
        ('<a href="rel/page">x</a>', "https://example.org/posts/hello/rel/page"),
        ('<a href="/root">x</a>', "https://example.org/root"),
        ('<a href="#frag">x</a>', "https://example.org/posts/hello/#frag"),
        ('<a href="?q=1">x</a>', "https://example.org/posts/hello/?q=1"),
        ('<a href="//cdn.example/x">x</a>', "https://cdn.example/x"),
        ('<a href="  spaced.html ">x</a>', "https://example.org/posts/hello/spaced.html"),
        ('<a href="https://other.example/a">x</a>', "https://other.example/a"),
        ('<a href="mailto:a@example.org">x</a>', "mailto:a@example.org"),
    ],
)
def test_links_made_absolute(markup: str, expected: str) -> None:
    assert hrefs(clean_html(markup, BASE)) == [expected]


@pytest.mark.parametrize(
    ("markup", "tag", "attribute", "expected"),
    [
        ('<img src="img.png" alt="x">', "img", "src", "https://example.org/posts/hello/img.png"),
        ('<img src="/i/a.jpg">', "img", "src", "https://example.org/i/a.jpg"),
        (
            '<video src="v.mp4" poster="p.jpg"></video>',
            "video",
            "poster",
            "https://example.org/posts/hello/p.jpg",
        ),
        ('<video src="v.mp4"></video>', "video", "src", "https://example.org/posts/hello/v.mp4"),
        (
            '<audio src="../a.mp3" controls></audio>',
            "audio",
            "src",
            "https://example.org/posts/a.mp3",
        ),
        (
            '<blockquote cite="c.html">q</blockquote>',
            "blockquote",
            "cite",
            "https://example.org/posts/hello/c.html",
        ),
    ],
)
def test_images_and_media_made_absolute(
    markup: str, tag: str, attribute: str, expected: str
) -> None:
    [el] = fragment(clean_html(markup, BASE)).iter(tag)
    assert el.get(attribute) == expected


def test_allowed_markup_is_kept() -> None:
    markup = (
        "<h2>H</h2><p><strong>b</strong> <em>i</em> <code>c</code></p><ul><li>x</li></ul>"
        "<figure><img src='https://e.example/a.png' alt='a'><figcaption>c</figcaption></figure>"
        "<table><tr><td colspan='2'>t</td></tr></table><details><summary>s</summary>d</details>"
    )
    tree = fragment(clean_html(markup, BASE))
    for tag in (
        "h2",
        "strong",
        "em",
        "code",
        "ul",
        "li",
        "figure",
        "img",
        "figcaption",
        "td",
        "details",
        "summary",
    ):
        assert tree.find(f".//{tag}") is not None, tag
    [td] = tree.iter("td")
    assert td.get("colspan") == "2"


@pytest.mark.parametrize(
    "markup",
    [
        "<p>x ]]> y</p>",
        "<pre>]]></pre>",
        '<a href="x]]>">q</a>',
        '<img alt="]]>" src="a.png">',
        "<p>]]]]>>]]></p>",
    ],
)
def test_cdata_end_never_left(markup: str) -> None:
    assert "]]>" not in clean_html(markup, BASE)


# --- plain text ---------------------------------------------------------------------------------


def test_plain_text_paragraphs() -> None:
    out = text_to_html("First paragraph.\nSame paragraph.\n\n\n  Second one.  \n\nThird.")
    assert out == "<p>First paragraph.\nSame paragraph.</p>\n<p>Second one.</p>\n<p>Third.</p>"


def test_blank_lines_with_spaces_separate_paragraphs() -> None:
    assert text_to_html("One.\n   \t\nTwo.") == "<p>One.</p>\n<p>Two.</p>"


@pytest.mark.parametrize(
    ("heading", "is_heading"),
    [
        ("A Heading", True),
        ("What happens next?", True),  # short question
        ("Why?", True),
        (
            "Is this a much longer question that goes on and on with many words in it?",
            False,
        ),
        ("This line ends with a full stop.", False),
        ("Ends with a colon:", False),
        ("- a list item", False),
        ("* another item", False),
        (
            "A line that is much too long to be a heading even without any punctuation at the end",
            False,
        ),
        ("one two three four five six seven eight nine ten eleven twelve thirteen", False),
    ],
)
def test_short_lines_become_headings(heading: str, is_heading: bool) -> None:
    out = text_to_html(f"Intro.\n\n{heading}\n\nMore text follows here.")
    escaped = heading
    if is_heading:
        assert f"<h2>{escaped}</h2>" in out
    else:
        assert f"<p>{escaped}</p>" in out


def test_last_paragraph_and_multi_line_paragraph_are_never_headings() -> None:
    out = text_to_html("Short one\nShort two\n\nThe end")
    assert "<h2>" not in out
    assert out == "<p>Short one\nShort two</p>\n<p>The end</p>"


def test_urls_linkified() -> None:
    out = text_to_html(
        "See https://example.org/a?b=1&c=2. Also (http://x.example/y), and https://z.example/p!\n\nEnd."
    )
    assert hrefs(out) == [
        "https://example.org/a?b=1&c=2",
        "http://x.example/y",
        "https://z.example/p",
    ]
    assert "2</a>. Also" in out
    assert "/y</a>), and" in out


def test_non_http_urls_not_linkified() -> None:
    out = text_to_html("ftp://x.example/a and javascript:alert(1) and www.example.org, ok.")
    assert "<a" not in out


def test_html_in_plain_text_is_escaped() -> None:
    out = render_body(
        "Use <script>alert(1)</script> & <b>bold</b>.\n\nA <i>x</i> heading\n\nEnd.", "text", BASE
    )
    assert "<script" not in out
    assert "<b>" not in out
    assert "&lt;script&gt;" in out
    assert "&lt;b&gt;bold&lt;/b&gt;" in out
    assert "&amp;" in out
    assert fragment(out).text_content().count("<script>") == 1


def test_plain_text_url_followed_by_a_quote() -> None:
    out = render_body(
        'Look: https://e.example/a"onmouseover="x" and \'https://e.example/b\'', "text", BASE
    )
    assert hrefs(out) == ["https://e.example/a", "https://e.example/b"]
    for el in fragment(out).iter():
        assert "onmouseover" not in el.attrib


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("Look <https://e.example/b>.", "https://e.example/b"),
        ("See https://x.example/?a=1& ok", "https://x.example/?a=1"),
        ("Tag https://x.example/<b>", "https://x.example/"),
    ],
)
def test_plain_text_url_next_to_an_escaped_character(text: str, href: str) -> None:
    out = render_body(text, "text", BASE)
    assert fragment(out).text_content() == text
    assert hrefs(out) == [href]


# --- render_body --------------------------------------------------------------------------------


def test_markdown_rendered_sanitised_and_absolute() -> None:
    body = (
        "Hello *world* <span onclick='x()'>hi</span><script>alert(1)</script>\n\n"
        "[rel](../other/) ![img](pic.png) [js](javascript:alert(1))\n"
        "<a href='javascript:x'>raw</a>\n\n"
        "| a | b |\n|---|---|\n| 1 | ~~2~~ |\n"
    )
    out = render_body(body, "markdown", BASE)
    tree = fragment(out)
    assert tree.find(".//em") is not None
    assert tree.find(".//table") is not None
    assert tree.find(".//s") is not None or tree.find(".//del") is not None
    assert "<script" not in out
    assert "onclick" not in out
    assert not any("javascript" in (h or "") for h in hrefs(out))
    [img] = tree.iter("img")
    assert img.get("src") == "https://example.org/posts/hello/pic.png"
    assert "https://example.org/posts/other/" in hrefs(out)


def test_markdown_cdata_end_in_code_and_text() -> None:
    out = render_body("a ]]> b\n\n```\n]]>\n```\n\n`]]>`\n", "markdown", BASE)
    assert "]]>" not in out
    assert fragment(out).text_content().count("]]>") == 3


def test_render_body_is_stripped_and_deterministic() -> None:
    a = render_body("\n\nHello.\n\n", "markdown", BASE)
    assert a == "<p>Hello.</p>"
    assert render_body("\n\nHello.\n\n", "markdown", BASE) == a
    assert render_body("Hello.", "text", BASE) == "<p>Hello.</p>"


def test_render_body_empty() -> None:
    assert render_body("", "markdown", BASE) == ""
    assert render_body("", "text", BASE) == ""


TOKENS = ["<", ">", "&", '"', "'", "]]>", "<script>", "</script>", "\n\n", "\n", "http://", "`"]
BODY_TEXT = st.lists(st.characters(codec="utf-8") | st.sampled_from(TOKENS), max_size=120).map(
    "".join
)
# Text without characters that end a URL early.
WORDS_TEXT = st.lists(
    st.characters(codec="utf-8", exclude_characters="<>&")
    | st.sampled_from(["\n\n", "\n", "http://", "https://e.example/x", "?", ". ", "]]"]),
    max_size=120,
).map("".join)
MARKUP = st.lists(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "<ScRiPt>",
            "<scr<script>ipt>",
            "<a href='javascript:alert(1)'>",
            "<img src=x onerror=alert(1)>",
            "]]>",
            "<![CDATA[",
            "<!--",
            "-->",
            "<p>",
            "</p>",
            "<svg>",
            "<math>",
            "<style>",
            "<textarea>",
            "<noscript>",
            "<a href='rel'>",
            "\n\n",
            "```\n",
            "    ",
            "x",
            "é",
        ]
    )
    | BODY_TEXT,
    max_size=12,
).map("".join)


def check_safe_fragment(out: str) -> None:
    assert "<script" not in out.lower()
    assert "]]>" not in out
    tree = fragment(out)
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue  # comments and processing instructions
        assert el.tag.lower() != "script"
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on")
            assert not value.strip().lower().startswith("javascript:")
    # the text survives a round trip through an XML tree (what feed renderers do)
    wrapper = etree.Element("content")
    wrapper.text = out
    etree.fromstring(etree.tostring(wrapper))


@given(MARKUP, st.sampled_from(["markdown", "text"]))
def test_render_body_of_anything_is_safe(body: str, body_format: str) -> None:
    assert body_format in ("markdown", "text")
    out = render_body(xml_safe(body), "markdown" if body_format == "markdown" else "text", BASE)
    check_safe_fragment(out)


@given(MARKUP)
def test_clean_html_of_anything_is_safe(markup: str) -> None:
    check_safe_fragment(clean_html(xml_safe(markup), BASE))


@given(
    MARKUP | st.sampled_from(['<a id="x" href="#x" class="a b" name="n">t</a>', "<h2 id=s>h</h2>"])
)
def test_sanitiser_built_once_cleans_as_nh3_clean(markup: str) -> None:
    """The sanitiser is an ``nh3.Cleaner`` built once per attribute filter: it cleans
    exactly as ``nh3.clean`` called with the same rules every time (as it was before)."""
    tags, attributes = _allowed()
    for rule in (keep_url, keep_url_or_id):
        expected = nh3.clean(
            markup,
            tags=tags,
            attributes=attributes,
            attribute_filter=rule,
            link_rel=None,
            url_schemes=set(_URL_SCHEMES),
        )
        assert sanitise(markup, rule) == expected.replace("]]>", "]]&gt;")


@given(WORDS_TEXT)
def test_plain_text_keeps_every_word(body: str) -> None:
    body = xml_safe(body)
    out = render_body(body, "text", BASE)
    expected = " ".join(body.split())
    assert " ".join(fragment(out).text_content().split()) == expected


# --- excerpt ------------------------------------------------------------------------------------


PARAGRAPHS = st.lists(
    st.sampled_from(["<p>", "</p>", "<p >", "</p >", "<em>", "</em>", "x", "y z", "\n", "&amp;"])
).map("".join)


@given(
    st.lists(st.sampled_from([' id="', ' name="', '"', "a", " ", "id=", "<h2", ">"])).map("".join)
)
def test_id_values_are_found_as_the_regular_expression_finds_them(markup: str) -> None:
    assert _id_values(markup) == re.findall(r' (?:id|name)="([^"]*)"', markup)


@given(PARAGRAPHS)
def test_excerpt_is_of_the_first_paragraph_closed(markup: str) -> None:
    m = re.search(r"<p>(.*?)</p>", markup, re.DOTALL)
    assert excerpt(markup, limit=10_000) == html_to_text(m[1] if m else markup)


@given(
    st.lists(st.sampled_from(["> ", "* ", "1. ", "x", "*y*", "\n", "\n\n", "<br>"])).map("".join)
)
def test_depth_is_at_most_the_tags_that_open(markdown: str) -> None:
    raw = markdown_to_html(markdown)
    assert _depth(raw) <= raw.count("<") - raw.count("</")


def test_excerpt_is_the_first_paragraph_as_text() -> None:
    content = "<h2>Heading</h2><p>A &amp; <em>B</em>\n  c.</p><p>Second.</p>"
    assert excerpt(content) == "A & B c."


def test_excerpt_without_paragraph_uses_all_text() -> None:
    assert excerpt("<h2>Only</h2><ul><li>a</li></ul>") == "Only a"


def test_excerpt_cut_at_a_word_near_the_limit() -> None:
    content = "<p>" + "word " * 100 + "</p>"
    out = excerpt(content, limit=52)
    assert out == "word word word word word word word word word word…"
    assert len(out) <= 53


def test_excerpt_of_one_long_word_is_cut_at_the_limit() -> None:
    out = excerpt("<p>" + "x" * 500 + "</p>", limit=100)
    assert out == "x" * 100 + "…"


def test_excerpt_strips_trailing_punctuation_before_the_ellipsis() -> None:
    out = excerpt("<p>" + "abc, " * 100 + "</p>", limit=50)
    assert out.endswith("abc…")


def test_short_excerpt_unchanged() -> None:
    assert excerpt("<p>Short.</p>", limit=300) == "Short."


@given(st.text(max_size=600), st.integers(min_value=10, max_value=400))
def test_excerpt_is_bounded_plain_text(text: str, limit: int) -> None:
    content = render_body(xml_safe(text), "text", BASE)
    out = excerpt(content, limit=limit)
    assert len(out) <= limit + 1
    assert "<" not in out.replace("&lt;", "") or "<" in text


def test_html_to_text() -> None:
    assert html_to_text("<p>a<br>b &lt;c&gt;</p>\n<p>d</p>") == "a b <c> d"


# --- absolutise: URLs resolved as urljoin does, the common shapes by concatenation ------------

BASES = st.sampled_from(
    [
        "https://example.org/posts/hello/",
        "https://example.org/posts/hello.html",
        "https://example.org/",
        "http://example.org:8080/a/b/c",
        "https://example.org/a//b/",
        "https://example.org/a/./b/",
        "https://example.org/p/?q=1#f",
        "https://ex.org/caf%C3%A9/x",
        "https://example.org/articles/\x01/",  # (a parsed body's base: SLUG_MARK)
        "https://example.org/a/b/c/d/e.html",
    ]
)
REF_PARTS = st.sampled_from(
    [
        "a",
        "b.png",
        "..",
        "../",
        "../../",
        ".",
        "",
        "/",
        "//",
        "?q=1",
        "?",
        "#f",
        "#",
        "x:y",
        "%20",
        "é",
        ";p",
        "https://",
        "http://",
        "other.org",
        ":8080",
        "mailto:",
        "data:image/png;base64,AA",
        " ",
    ]
)


@given(BASES, st.lists(REF_PARTS, max_size=6).map("".join))
def test_urls_are_resolved_exactly_as_urljoin_does(base: str, ref: str) -> None:
    from urllib.parse import urljoin

    from feedpub.articles.absolute import _joiner

    try:
        expected: str | None = urljoin(base, ref)
    except ValueError:
        expected = None  # no URL at all: the attribute is dropped
    assert _joiner(base)(ref) == expected


@pytest.mark.parametrize("href", ["//[", "//]", "http://[::1", "https://[x/"])
def test_a_url_urljoin_cannot_read_is_dropped_not_fatal(href: str) -> None:
    out = render_body(f'<a href="{href}">x</a> [y]({href})', "markdown", BASE)
    assert "x" in out


# --- found by an adversarial review ---------------------------------------------------------


@pytest.mark.parametrize("ref", ["&#1;", "&#8;", "&#11;", "&#x1F;", "&#xFFFE;", "&#xFFFF;"])
def test_a_character_reference_to_what_xml_cannot_carry_is_removed(ref: str) -> None:
    """pulldown-cmark and html5ever decode it; a feed with it would not render at all."""
    for body in (f"A stray {ref} entity.", f"<p>raw {ref} html</p>"):
        out = render_body(body, "markdown", BASE)
        assert xml_safe(out) == out
        assert "stray" in out or "raw" in out


@pytest.mark.parametrize(
    ("markup", "attribute"),
    [
        ('<a href="da&#9;ta:text/html,x">l</a>', "href"),
        ('<a href="da&#10;ta:text/html,x">l</a>', "href"),
        ('<a href="&#1;javascript:alert(1)">l</a>', "href"),
        ('<blockquote cite="javascript:alert(1)">q</blockquote>', "cite"),
        ('<video poster="java&#9;script:alert(1)"></video>', "poster"),
        ('<img src="data:image/svg+xml,&lt;svg onload=alert(1)&gt;">', "src"),
        ('<source src="data:text/html,x">', "src"),
    ],
)
def test_urls_are_judged_as_browsers_read_them(markup: str, attribute: str) -> None:
    out = render_body(markup, "markdown", BASE)
    for el in fragment(out).iter():
        assert el.get(attribute) is None, out


def test_inline_raster_images_stay() -> None:
    out = render_body('<img src="data:image/png;base64,iVBORw0KGgo=">', "markdown", BASE)
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in out


def test_unclosed_comments_cost_one_pass() -> None:
    """Each "<!--" used to look for "--!>" to the end of the file: quadratic."""
    from feedpub.articles.html import _COMMENT_END  # one search for either ending

    assert [m[0] for m in _COMMENT_END.finditer("x --> y --!>")] == ["-->", "--!>"]
    out = render_body("<!-- -->x" * 20_000, "markdown", BASE)
    assert out.count("x") == 20_000


def test_an_element_keeps_at_most_64_attributes() -> None:
    from feedpub.articles.html import MAX_ATTRIBUTES, normalise

    markup = "<b " + " ".join(f"a{i}" for i in range(10_000)) + ">x</b>"
    out = normalise(markup, {"b"}).html
    assert out.count('=""') == MAX_ATTRIBUTES


@pytest.mark.parametrize(
    "markup",
    [
        '<a href="java&#1;script:alert(1)">x</a>',
        '<a href="java&#x7f;script:alert(1)">x</a>',
        '<blockquote cite="java&#xFFFE;script:alert(1)">q</blockquote>',
        '<img src="da&#1;ta:image/svg+xml,&lt;svg onload=alert(1)&gt;">',
        '<a href="&#xA0;javascript:alert(1)">x</a>',
        '<a href="&#x2028;javascript:alert(1)">x</a>',
        '<a href="&#x3000;javascript:alert(1)">x</a>',
        '<a href="\u0085javascript:alert(1)">x</a>',
    ],
)
def test_no_later_step_turns_a_url_into_a_script(markup: str) -> None:
    """Characters removed after the URL was judged (XML-illegal ones), or whitespace a later
    strip() took off, made 'java&#1;script:' a javascript: link. Judged as published now."""
    out = render_body(markup, "markdown", BASE)
    for el in fragment(out).iter():
        for name in ("href", "src", "cite"):
            value = (el.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:image/svg")), out


# --- Markdown as sites write it (Pelican, Jekyll, Hugo) ----------------------------------------

SITE_POST = """\
## Why we moved {#moving .lead}

We left the old host[^host] after the outage.[^1] ~~Never again~~ until next time.

Uptime
: The share of the month the site answered.

Latency
: How long it took.

| Month | Uptime |
|-------|-------:|
| May   | 99.1 % |

- [x] move the DNS
- [ ] move the mail

See [the reasons](#moving) and [the list](#todo).

[^host]: A shared host, since 2014.
[^1]: Three days in March.
"""


def test_markdown_features_real_sites_use() -> None:
    out = render_body(SITE_POST, "markdown", BASE, slug="moved")
    tree = fragment(out)
    [h2] = tree.iter("h2")
    assert (h2.get("id"), h2.get("class"), h2.text) == ("moved:moving", "lead", "Why we moved")
    assert [dt.text for dt in tree.iter("dt")] == ["Uptime", "Latency"]
    assert [dd.text for dd in tree.iter("dd")] == [
        "The share of the month the site answered.",
        "How long it took.",
    ]
    assert tree.find(".//table/tbody/tr/td") is not None
    assert tree.find(".//del") is not None
    assert [li.text for li in tree.iter("li")] == ["\u2611 move the DNS", "\u2610 move the mail"]
    assert "<input" not in out
    # footnotes: every reference points to a definition of the same entry, relative
    ids = {el.get("id") for el in tree.iter() if el.get("id")}
    refs = [
        a.get("href")
        for a in tree.iter("a")
        if "footnote-reference" in (a.getparent().get("class") or "")
    ]
    assert refs == ["#moved:host", "#moved:1"]
    assert {r[1:] for r in refs} <= ids
    assert "#moved:moving" in hrefs(out)  # the author's link to a heading of the entry
    # a fragment the entry has no id for is left to the page: made absolute as before
    assert "https://example.org/posts/hello/#todo" in hrefs(out)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("A paragraph\n{: .note #first}\n", "A paragraph"),
        ("## Heading\n{: #custom}\n\nText\n", "HeadingText"),
        ("> quoted\n{: .pull}\n", "quoted"),
        ("![A cat](cat.jpg){: .right width=200} sat.\n", "sat."),
        ("[A link](x.html){:.button} here\n", "A link here"),
        ("Python-Markdown {: #pm } and { .cls } and {#x}\n", "Python-Markdown and and"),
        ("* Table of contents\n{:toc}\n\n# One\n", "One"),
        ("1. TOC\n{:toc}\n\nText\n", "Text"),
        ("{:toc}\n\nText\n", "Text"),
        ("{:.ald: .x}\n\nText {::nomarkdown}\n", "Text"),
        ("term\n: definition {: .x}\n", "termdefinition"),
    ],
)
def test_attribute_lists_are_removed(body: str, text: str) -> None:
    out = render_body(body, "markdown", BASE)
    assert "{:" not in out
    assert "{" not in fragment(out).text_content()
    assert fragment(out).text_content().replace("\n", "").strip() == text


def test_attribute_lists_in_code_are_kept() -> None:
    body = "`{: .x}` and\n\n```\n{:toc}\n{#id}\n```\n\n    {: .y}\n"
    out = render_body(body, "markdown", BASE)
    assert [c.text for c in fragment(out).iter("code")] == ["{: .x}", "{:toc}\n{#id}\n", "{: .y}\n"]


def test_braces_that_are_no_attribute_list_stay() -> None:
    body = "A set {1, 2}, {x: 1} and {.5} and {% raw %}\n"
    assert fragment(render_body(body, "markdown", BASE)).text_content().strip() == body.strip()


@pytest.mark.parametrize(
    ("markup", "kept"),
    [
        ('<p class="lead intro">x</p>', "lead intro"),
        ('<p class="a b&quot;c d">x</p>', "a d"),
        ('<p class="x:expression(alert(1))">x</p>', None),
        ('<p class="' + "a " * 40 + '">x</p>', " ".join(["a"] * 16)),
    ],
)
def test_classes_are_plain_names(markup: str, kept: str | None) -> None:
    [p] = fragment(render_body(markup, "markdown", BASE)).iter("p")
    assert p.get("class") == kept


def test_raw_html_ids_and_names_are_prefixed_with_their_links() -> None:
    body = (
        '<p id="top">Top</p>\n\n<a name="old-anchor"></a>Text [up](#top) '
        "[old](#old-anchor) [caf](#café) [away](#elsewhere) [other](other/#top)\n\n"
        "## Café {#café}\n"
    )
    out = render_body(body, "markdown", BASE, slug="my-post")
    tree = fragment(out)
    assert [el.get("id") for el in tree.iter() if el.get("id")] == ["my-post:top", "my-post:café"]
    assert [a.get("name") for a in tree.iter("a") if a.get("name")] == ["my-post:old-anchor"]
    assert [h for h in hrefs(out) if h] == [
        "#my-post:top",
        "#my-post:old-anchor",
        "#my-post:caf%C3%A9",  # a browser matches the decoded fragment to the id
        "https://example.org/posts/hello/#elsewhere",
        "https://example.org/posts/hello/other/#top",
    ]


@pytest.mark.parametrize("value", ["", "   ", "two words", "x" * 201])
def test_unusable_ids_are_dropped(value: str) -> None:
    out = render_body(f'<p id="{value}">x</p>', "markdown", BASE)
    assert out == "<p>x</p>"


def test_clean_html_keeps_no_ids() -> None:
    """Only an article body's ids are kept (prefixed); any other HTML loses them."""
    out = clean_html('<p id="a" class="c"><a name="n" href="#a">x</a></p>', BASE)
    assert out == '<p class="c"><a href="https://example.org/posts/hello/#a">x</a></p>'


def test_an_attribute_value_holding_href_is_not_taken_for_one() -> None:
    """Values may hold ' href=' (never a double quote): attributes are read one after the
    other from the tag's start, never from inside a value."""
    out = clean_html("<img alt='x href=' src='y'><a title=' href=' href='#q'>z</a>", BASE)
    [img] = fragment(out).iter("img")
    assert (img.get("alt"), img.get("src")) == ("x href=", "https://example.org/posts/hello/y")
    assert hrefs(out) == ["https://example.org/posts/hello/#q"]


ID_TEXT = st.lists(
    st.sampled_from(
        [
            "[^1]",
            "[^a]",
            "\n\n[^1]: n\n\n",
            "\n\n[^a]: m\n\n",
            "\n## H {#h}\n",
            "\n## H {#a}\n",
            '<a id="h" href="#h">',
            '<b id="1">',
            '<a name="a">',
            "[l](#h)",
            "[l](#1)",
            '<a href="#javascript:alert(1)">',
            "<script>alert(1)</script>",
            "{: #h}",
            "x",
            "\n\n",
        ]
    )
    | st.text(max_size=8),
    max_size=20,
).map("".join)
SLUGS = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,12}", fullmatch=True)


@given(ID_TEXT, ID_TEXT, SLUGS, SLUGS)
def test_two_entries_ids_never_collide(one: str, two: str, slug1: str, slug2: str) -> None:
    assume(slug1 != slug2)
    ids: list[set[str]] = []
    for body, slug in ((one, slug1), (two, slug2)):
        out = render_body(xml_safe(body), "markdown", BASE, slug=slug)
        check_safe_fragment(out)
        tree = fragment(out)
        found = {v for el in tree.iter() for k, v in el.attrib.items() if k in ("id", "name")}
        assert all(v.startswith(slug + ":") for v in found)
        for href in hrefs(out):
            assert href is None or not href.startswith("#") or href[1:].startswith(slug + ":")
        ids.append(found)
    assert not ids[0] & ids[1]


ATTRIBUTE_LIST_TEXT = st.lists(
    st.sampled_from(
        [
            "{:",
            "{: .c}",
            "{:toc}",
            '{: #i .c key="v"}',
            "{:.x}",
            "{",
            "}",
            ":",
            ".c",
            "#i",
            "\n",
            "\n\n",
            "* TOC\n",
            "![i](a.png)",
            "[l](b)",
            "## H",
            "> ",
            "x",
            " ",
        ]
    )
    | st.text(max_size=6),
    max_size=25,
).map("".join)


@given(ATTRIBUTE_LIST_TEXT)
def test_no_attribute_list_is_ever_shown(body: str) -> None:
    out = render_body(xml_safe(body), "markdown", BASE)
    check_safe_fragment(out)
    tree = fragment(out)
    for code in list(tree.iter("code", "pre")):
        code.drop_tree()  # (code shows what was written)
    text = tree.text_content()
    for m in re.finditer(r"\{:[^{}\n<>]{0,200}\}", text):
        raise AssertionError(f"shown: {m[0]!r} in {out!r}")


@pytest.mark.parametrize(
    "body",
    [
        ("{:" + "a" * 199) * 10_000,
        "{: .c #i}" * 200_000,
        "para\n{: .c}\n\n" * 140_000,
        "{#a" * 600_000,
        ("{" * 100 + ":x" + "}" * 100) * 9_000,
        "{:{" * 600_000,
        "<pre" * 450_000,
        "## H {#h .c}\n\n" * 130_000,
        '<span id="a1">x</span><a href="#a1">y</a>' * 45_000,
        ("Words and a note[^1].\n\n" * 80_000) + "[^1]: note\n",
    ],
    ids=lambda b: repr(b[:14]),
)
def test_two_megabytes_of_attribute_lists_and_ids_stay_fast(body: str) -> None:
    from feedpub.articles.body import BodyError

    start = time.perf_counter()
    with contextlib.suppress(BodyError):  # (a fixed limit is a bound too)
        render_body(body, "markdown", BASE)
    assert time.perf_counter() - start < 8  # about 1-2 s on a shared 2-core machine


def test_headings_get_the_ids_jekyll_and_hugo_give_them() -> None:
    """A link written for those sites (``[x](#set-up)``) reaches its heading; the ids are
    published per article (``<slug>:set-up``) like every other id."""
    from feedpub.articles.body import prepare_body

    out = prepare_body(
        "## Set up!\n\nSee [it](#set-up).\n\n## Set up!\n\n## Own {#mine}\n", "markdown"
    ).html.replace("\x01", "post")
    assert '<h2 id="post:set-up">Set up!</h2>' in out
    assert '<a href="#post:set-up">it</a>' in out
    assert '<h2 id="post:set-up-1">' in out and '<h2 id="post:mine">' in out
