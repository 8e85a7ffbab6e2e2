"""feedpub.articles.htmlfile: HTML articles (``.html``, ``.htm``) as Pelican reads them."""

from __future__ import annotations

import contextlib
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.articles.htmlfile import read_html
from feedpub.articles.parse import ParseContext, ParsedArticle, parse_article
from feedpub.errors import ArticleError
from feedpub.model import Author
from tests.test_articles_parse import check_parse_result, utc
from tests.test_articles_rst import live_content, warnings_of

CTX = ParseContext(tz=ZoneInfo("Europe/Berlin"), base_url="https://example.org/")

# The way Pelican's documentation shows an HTML article: metadata in the head's meta tags.
PELICAN_STYLE = """\
<html>
    <head>
        <title>Stones &amp; soup</title>
        <meta name="tags" content="stones, soup" />
        <meta name="date" content="2024-03-10 22:28" />
        <meta name="modified" content="2024-03-11 20:14" />
        <meta name="category" content="Kitchen" />
        <meta name="authors" content="Ada Stone, Bo Rock" />
        <meta name="summary" content="A soup for patient cooks." />
        <meta name="slug" content="stone-soup" />
    </head>
    <body>
        <p>Take three <a href="rivers/clean.html">pebbles</a>.</p>
        <img src="images/pot.png" alt="The pot">
        <script>alert("not published")</script>
    </body>
</html>
"""


def parse(path: str, source: str) -> ParsedArticle:
    return parse_article(path, source.encode("utf-8"), CTX)


def test_a_pelican_html_article() -> None:
    parsed = parse("posts/soup.html", PELICAN_STYLE)
    meta = parsed.meta
    assert meta.title == "Stones & soup"
    assert meta.date == utc(2024, 3, 10, 21, 28)
    assert meta.updated == utc(2024, 3, 11, 19, 14)
    assert meta.tags == ("stones", "soup")
    assert meta.categories == ("Kitchen",)
    assert meta.authors == (Author(name="Ada Stone"), Author(name="Bo Rock"))
    assert meta.summary == "A soup for patient cooks."
    assert meta.slug == "stone-soup"
    assert parsed.body_format == "html"
    assert parsed.body_line == 12  # the line of <body>, where it starts
    assert parsed.warnings == ()
    html = parsed.body_html
    assert "<title>" not in html and "Stones" not in html
    assert "<script" not in html and "not published" not in html
    # relative links are to files beside the article: the build resolves them (refs.py)
    assert '<a href="feedpub-ref:path:posts/rivers/clean.html">' in html
    assert [r for r, _ in parsed.meta.refs] == [
        "path:posts/rivers/clean.html",
        "path:posts/images/pot.png",
    ]
    assert "<p>Take three" in html


def test_htm_upper_case_tags_and_unquoted_attributes() -> None:
    source = (
        "<!DOCTYPE html>\n<!-- exported -->\n<HTML><HEAD>\n<TITLE>Old page</TITLE>\n"
        "<META NAME=Date CONTENT=2020-01-02>\n<META http-equiv=refresh content=0>\n"
        "<META charset=utf-8>\n</HEAD>\n<BODY bgcolor=white>\n<P>Text.</P>\n</BODY></HTML>\n"
    )
    parsed = parse("old.htm", source)
    assert parsed.meta.title == "Old page"
    assert parsed.meta.date == utc(2020, 1, 1, 23)
    assert parsed.body_html == "<p>Text.</p>"
    assert parsed.body_line == 9


def test_the_title_is_text_never_markup() -> None:
    source = "<title>A <b>bold</b> &lt;move&gt;\n  here</title><p>Body.</p>"
    assert parse("a.html", source).meta.title == "A bold <move> here"


def test_a_meta_field_error_or_warning_names_its_line() -> None:
    head = "<html><head>\n<title>T</title>\n<meta name='tags' content='a'>\n"
    with pytest.raises(ArticleError) as info:
        parse("a.html", head + "<meta name='date' content='the day after'>\n</head></html>")
    assert (info.value.path, info.value.line) == ("a.html", 4)
    parsed = parse("a.html", head + "<meta name='category' content='News\u202e'>\n</head><p>x</p>")
    assert parsed.meta.categories == ("News",)
    assert [line for line, _ in warnings_of(parsed)] == [4]


def test_status_and_keywords_use_the_front_matter_rules() -> None:
    source = (
        "<head><title>T</title><meta name='status' content='draft'>"
        "<meta name='keywords' content='x; y'></head><body>b</body>"
    )
    meta = parse("a.html", source).meta
    assert meta.draft is True
    assert meta.tags == ("x", "y")


def test_without_a_body_tag_the_body_starts_after_the_head() -> None:
    doc = read_html("<title>T</title>\n<meta name=date content=2024-01-01>\n<h2>Hi</h2>\n", "a")
    assert doc.body_html == "<h2>Hi</h2>\n"
    assert doc.body_line == 3
    assert doc.fields == {"title": "T", "date": "2024-01-01"}
    assert doc.lines == {"title": 1, "date": 2}


def test_a_fragment_without_a_head_takes_its_first_heading_as_title() -> None:
    parsed = parse("a.html", "<h1>Heading</h1>\n<p>Text.</p>\n")
    assert parsed.meta.title == "Heading"
    assert parsed.body_html == "<p>Text.</p>"


def test_metas_in_the_body_are_no_fields() -> None:
    parsed = parse("a.html", "<title>T</title><body><meta name=date content=nonsense>x</body>")
    assert parsed.meta.date is None


def test_the_body_ends_at_the_last_body_end_tag() -> None:
    doc = read_html("<title>T</title><body>a</body>b</body>\n<!-- after -->\n", "a")
    assert doc.body_html == "a</body>b"


@pytest.mark.parametrize(
    "hostile",
    [
        "<" * 2_000_000,
        "<!--" * 500_000,
        "<title>" + "<a " * 600_000,
        "<meta name=x content=" + "'" * 2_000_000,
        "</" * 1_000_000,
        "<head>" + "<meta a=b " * 200_000,
    ],
)
def test_hostile_markup_is_read_in_linear_time(hostile: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(ArticleError):
        parse_article(
            "h.html",
            hostile.encode(),
            ParseContext(tz=CTX.tz, base_url=CTX.base_url, max_bytes=4_000_000),
        )
    assert time.perf_counter() - started < 10


HTML_PIECES = [
    "<html>",
    "<head>",
    "</head>",
    "<body>",
    "</body>",
    "<title>",
    "</title>",
    "<meta name='date' content='2024-01-01'>",
    "<meta name=tags content=a,b>",
    "<meta name='title' content='<script>x</script>'>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href=' java\tscript:alert(1)'>x</a>",
    "<svg><script>alert(1)</script></svg>",
    "<style>body{}</style>",
    "<!--",
    "-->",
    "<iframe src=//e.org>",
    "<p>text</p>",
    "&lt;script&gt;",
]


@given(st.lists(st.sampled_from(HTML_PIECES) | st.text(max_size=30), max_size=10))
def test_any_html_is_read_or_an_article_error_and_never_live(pieces: list[str]) -> None:
    data = "".join(pieces).encode("utf-8", "surrogatepass")
    check_parse_result("x.html", data)
    try:
        parsed = parse_article("x.html", data, CTX)
    except ArticleError:
        return
    assert live_content(parsed.body_html) == []
