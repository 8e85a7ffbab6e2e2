"""feedpub.articles.rst: reStructuredText articles (Pelican's default format) through docutils."""

from __future__ import annotations

import socket
import time
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.articles import rst
from feedpub.articles.parse import ParseContext, ParsedArticle, parse_article
from feedpub.errors import ArticleError
from feedpub.model import Author, Severity
from tests.test_articles_parse import check_parse_result, utc

CTX = ParseContext(tz=ZoneInfo("Europe/Berlin"), base_url="https://example.org/")

# Written the way Pelican's documentation shows an article: the title with an over- and
# underline, the docinfo fields right under it, then the body.
PELICAN_STYLE = """\
###################
Cooking with pebbles
###################

:date: 2024-03-10 10:20
:modified: 2024-03-11 18:40
:tags: stones, soup
:category: Kitchen
:slug: pebble-soup
:authors: Ada Stone, Bo Rock
:summary: A soup that needs a *very* patient cook.

Take three pebbles from a `clean river <https://rivers.example/clean>`_ and a pot.

.. code-block:: python

   pot = ["pebble"] * 3
   print(pot)

.. image:: images/pot.png
   :alt: The pot, full

Then wait.
"""


def parse(path: str, source: str, ctx: ParseContext = CTX) -> ParsedArticle:
    return parse_article(path, source.encode("utf-8"), ctx)


def parse_error(path: str, source: str) -> ArticleError:
    with pytest.raises(ArticleError) as info:
        parse(path, source)
    assert info.value.path == path
    return info.value


def warnings_of(parsed: ParsedArticle) -> list[tuple[int | None, str]]:
    assert all(w.severity is Severity.WARNING for w in parsed.warnings)
    assert all(w.path == parsed.meta.path for w in parsed.warnings)
    return [(w.line, w.message) for w in parsed.warnings]


def titled(body: str, fields: str = ":date: 2024-01-01\n") -> str:
    """A title on line 1, its underline on line 2, ``fields`` from line 4, then ``body``."""
    return "Title\n=====\n\n" + fields + "\n" + body


# --- what a Pelican article says --------------------------------------------------------------


def test_a_pelican_article_title_fields_and_body() -> None:
    parsed = parse("posts/pebbles.rst", PELICAN_STYLE)
    meta = parsed.meta
    assert meta.title == "Cooking with pebbles"
    assert meta.date == utc(2024, 3, 10, 9, 20)  # naive: Europe/Berlin, CET
    assert meta.updated == utc(2024, 3, 11, 17, 40)
    assert meta.tags == ("stones", "soup")
    assert meta.categories == ("Kitchen",)
    assert meta.slug == "pebble-soup"
    assert meta.authors == (Author(name="Ada Stone"), Author(name="Bo Rock"))
    assert meta.summary == "A soup that needs a very patient cook."  # text, not markup
    assert parsed.body_format == "html"
    assert parsed.warnings == ()
    html = parsed.body_html
    assert "Cooking with pebbles" not in html  # the title is not repeated in the body
    assert "Kitchen" not in html and "2024" not in html  # nor the docinfo
    assert 'href="https://rivers.example/clean">clean river</a>' in html
    assert 'pot = ["pebble"] * 3\nprint(pot)</code></pre>' in html
    # (a file beside the article: the build resolves it, see refs.py)
    assert '<img alt="The pot, full" src="feedpub-ref:path:posts/images/pot.png">' in html
    assert parsed.excerpt.startswith("Take three pebbles from a clean river")


def test_title_with_underline_only_and_single_author() -> None:
    parsed = parse("a.rst", "A plain title\n=============\n\n:author: Jane Doe\n\nBody.\n")
    assert parsed.meta.title == "A plain title"
    assert parsed.meta.authors == (Author(name="Jane Doe"),)
    assert parsed.body_html == "<p>Body.</p>"


def test_a_title_field_wins_over_the_document_title_as_in_pelican() -> None:
    parsed = parse("a.rst", titled("Body.\n", ":title: The real title\n"))
    assert parsed.meta.title == "The real title"


def test_without_a_document_title_the_first_heading_or_text_is_used() -> None:
    """As for any HTML body: the first heading, else the first line of text."""
    two_sections = "First\n=====\n\nOne.\n\nSecond\n======\n\nTwo.\n"
    assert parse("a.rst", two_sections).meta.title == "First"
    assert parse("a.rst", "Just a paragraph.\n").meta.title == "Just a paragraph."
    parsed = parse("2024-01-01-empty.rst", ".. a comment only\n")
    assert parsed.meta.title == "Empty"
    assert any("no title" in m for _, m in warnings_of(parsed))


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (":status: draft", {"draft": True}),
        (":status: hidden", {"hidden": True}),
        (":status: published", {"draft": False, "hidden": False}),
        (":Category: News", {"categories": ("News",)}),
        (":keywords: a, b", {"tags": ("a", "b")}),
        (":link: /elsewhere/", {"link": "https://example.org/elsewhere/"}),
        (":id: post-42", {"id": "post-42"}),
    ],
)
def test_fields_use_the_front_matter_rules(field: str, expected: dict[str, object]) -> None:
    meta = parse("a.rst", titled("Body.\n", field + "\n")).meta
    for key, value in expected.items():
        assert getattr(meta, key) == value


def test_a_bad_field_names_its_line() -> None:
    err = parse_error("a.rst", titled("Body.\n", ":tags: a\n:date: the day after\n"))
    assert err.line == 5
    assert "date" in err.message
    parsed = parse("a.rst", titled("Body.\n", ":date: 2024-01-01\n:link: javascript:alert(1)\n"))
    assert [line for line, _ in warnings_of(parsed)] == [5]


def test_a_title_with_bidi_controls_is_cleaned_with_a_warning_on_its_line() -> None:
    parsed = parse("a.rst", "\n\nEvil \u202etitle\n===========\n\nBody.\n")
    assert parsed.meta.title == "Evil title"
    assert [line for line, _ in warnings_of(parsed)] == [3]


# --- docutils on untrusted text -----------------------------------------------------------------


def test_nothing_outside_the_text_is_read(tmp_path: pytest.TempPathFactory) -> None:
    """include, raw (inline, from a file, from a URL) and csv-table from a file or URL are all
    refused, with a warning on their line; nothing connects to the URL."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/x"
        source = titled(
            "\n".join(
                [
                    ".. include:: /etc/passwd",  # line 6
                    "",
                    ".. raw:: html",  # line 8
                    "",
                    "   <script>alert(1)</script>",
                    "",
                    ".. raw:: html",  # line 12
                    f"   :url: {url}",
                    "",
                    ".. raw:: html",  # line 15
                    "   :file: /etc/passwd",
                    "",
                    ".. csv-table:: Users",  # line 18
                    "   :file: /etc/passwd",
                    "",
                    ".. csv-table:: Remote",  # line 21
                    f"   :url: {url}",
                    "",
                    "Still here.",
                    "",
                ]
            )
        )
        parsed = parse("a.rst", source)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert parsed.body_html == "<p>Still here.</p>"
    assert "root:" not in parsed.body_html
    lines = [line for line, _ in warnings_of(parsed)]
    assert lines == [6, 8, 12, 15, 18, 21]


def test_docutils_errors_become_warnings_with_lines_and_nothing_is_printed(
    capfd: pytest.CaptureFixture[str],
) -> None:
    source = titled("Fine.\n\nAn :unknown:`role` and a missing_ reference.\n")
    parsed = parse("a.rst", source)
    assert warnings_of(parsed) == [
        (8, 'reStructuredText: Unknown interpreted text role "unknown".'),
        (8, 'reStructuredText: Unknown target name: "missing".'),
    ]
    assert "An :unknown:`role` and a missing_ reference." in parsed.body_html
    assert parse("a.rst", titled("Some ``code``.\n")).body_html == "<p>Some <code>code</code>.</p>"
    assert "system-message" not in parsed.body_html
    assert capfd.readouterr() == ("", "")


def test_warnings_are_capped() -> None:
    parsed = parse("a.rst", titled("".join(f"x{i}_\n\n" for i in range(50))))
    warnings = warnings_of(parsed)
    assert len(warnings) == 21
    assert warnings[-1] == (None, "30 more warning(s) like these not shown")


def test_a_role_one_article_defines_is_gone_for_the_next() -> None:
    defines = titled(".. role:: shout\n\n:shout:`hey`\n")
    assert "hey" in parse("a.rst", defines).body_html
    assert parse("a.rst", defines).warnings == ()
    later = parse("b.rst", titled(":shout:`hey`\n"))
    assert [m for _, m in warnings_of(later)] == [
        'reStructuredText: Unknown interpreted text role "shout".'
    ]


def test_a_docutils_failure_is_an_article_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from docutils.parsers.rst import Parser

    def broken(self: object, inputstring: str, document: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(Parser, "parse", broken)
    err = parse_error("a.rst", titled("Body.\n"))
    assert "reStructuredText could not be read: IndexError" in err.message


# --- bounds: each measured blow-up, guarded -----------------------------------------------------


def test_nesting_too_deep_is_an_article_error_on_its_line() -> None:
    """Block quotes nested deeper than docutils' recursion allows (about 170 levels here):
    a RecursionError inside docutils, reported with the line where the last block started."""
    deep = "".join(" " * i + f"level {i}\n\n" for i in range(400))
    err = parse_error("deep.rst", titled(deep))
    assert "nested too deeply" in err.message
    assert err.line is not None and 100 < err.line < 800
    one_line = "- " * 1000 + "x\n"  # lists nested on one line
    assert parse_error("deep.rst", titled(one_line)).line == 6


def test_nesting_that_docutils_can_read_is_published() -> None:
    nested = "".join(" " * (2 * i) + f"- item {i}\n\n" for i in range(40))
    parsed = parse("lists.rst", titled(nested))
    assert parsed.body_html.count("<ul>") + parsed.body_html.count("<ul class=") == 40


def test_a_line_over_the_docutils_limit_is_an_article_error_naming_it() -> None:
    err = parse_error("long.rst", titled("short\n\n" + "word " * 2001 + "\n"))
    assert err.line == 8
    assert "10,000" in err.message


def test_more_elements_than_an_article_may_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rst, "MAX_ELEMENTS", 2000)
    fine = titled("".join(f"Paragraph *{i}*.\n\n" for i in range(150)))
    assert parse("a.rst", fine).body_html.count("<em>") == 150
    err = parse_error("a.rst", titled("".join(f"Paragraph *{i}*.\n\n" for i in range(400))))
    assert "split the article" in err.message
    assert err.line is not None and err.line > 100


def test_a_long_paragraph_is_read_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """docutils copies the rest of a paragraph after each inline element: a 2 MB paragraph
    took seconds. Long ones are read in pieces cut at line ends; markup inside a line is
    kept, and the lines of messages stay right."""
    monkeypatch.setattr(rst, "INLINE_PIECE", 100)
    lines = [f"word *{i}* and ``code {i}``" for i in range(200)]
    lines[150] = "a :bad:`role` here"
    parsed = parse("a.rst", titled("\n".join(lines) + "\n"))
    assert parsed.body_html.count("<em>") == 199
    assert parsed.body_html.count("<code>") == 199
    assert [line for line, _ in warnings_of(parsed)] == [6 + 150]


def test_a_two_megabyte_paragraph_is_never_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from docutils.parsers.rst.states import Inliner

    lengths: list[int] = []
    original = Inliner.parse

    def recording(self: Inliner, text: str, *args: object) -> object:
        lengths.append(len(text))
        return original(self, text, *args)

    monkeypatch.setattr(Inliner, "parse", recording)
    paragraph = "Some *words* here.\n" * 50_000  # 950 KB, one paragraph
    parsed = parse("big.rst", titled(paragraph), ParseContext(tz=CTX.tz, base_url=CTX.base_url))
    assert max(lengths) <= rst.INLINE_PIECE
    assert sum(lengths) >= len(paragraph)
    assert parsed.meta.title == "Title"


def test_system_messages_are_removed_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """docutils removes each message from the tree with list.remove (20,000 duplicate targets
    took 14 s, quadratic): its transform is replaced by one pass over the tree."""
    from docutils.transforms import universal

    def quadratic(self: object) -> None:
        raise AssertionError("docutils' FilterMessages ran")

    monkeypatch.setattr(universal.FilterMessages, "apply", quadratic)
    lines = "".join(f"Para :bad{i % 3}:`x` and missing{i}_.\n\n" for i in range(300))
    parsed = parse("msgs.rst", titled(lines))
    assert "system-message" not in parsed.body_html and "problematic" not in parsed.body_html
    assert parsed.body_html.count(":bad1:`x`") == 100
    assert len(parsed.warnings) == 21  # capped


# --- properties ---------------------------------------------------------------------------------


_URL_ATTRIBUTES = frozenset(
    ["href", "src", "srcset", "action", "formaction", "poster", "cite", "background", "data"]
)


class _LiveContent(HTMLParser):
    """Finds what a browser would run: script elements, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "style"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(name)
            v = "".join((value or "").split()).lower()
            if name in _URL_ATTRIBUTES and v.startswith(("javascript:", "vbscript:", "data:t")):
                self.found.append(f"{name}={value}")


def live_content(markup: str) -> list[str]:
    finder = _LiveContent()
    finder.feed(markup)
    finder.close()
    return finder.found


RST_PIECES = [
    "Title\n=====\n",
    "#####\nTitle\n#####\n",
    ":date: 2024-01-01\n",
    ":tags: a, b\n",
    ":category: x\n",
    ":summary: *s*\n",
    ":authors: A; B\n",
    ":title: T\n",
    ".. raw:: html\n\n   <script>alert(1)</script>\n",
    ".. raw:: html\n   :url: http://127.0.0.1:9/\n",
    ".. include:: /etc/passwd\n",
    "`x <javascript:alert(1)>`_\n",
    ".. image:: javascript:alert(1)\n",
    ".. image:: x.png\n   :target: javascript:alert(1)\n",
    ".. code-block:: html\n\n   <script>alert(1)</script>\n",
    ".. role:: r(raw)\n   :format: html\n\n:r:`<script>x</script>`\n",
    ".. |s| replace:: <script>\n\n|s|\n",
    ".. math::\n\n   \\frac{<script>}{x}\n",
    "* a\n\n  * b\n",
    "  quoted\n",
    "+---+\n| a |\n+---+\n",
    "[#]_\n\n.. [#] note\n",
    "<script>alert(1)</script>\n",
    "\n",
    "`",
    "*",
    "::\n\n  literal\n",
]


@given(
    st.lists(
        st.sampled_from(RST_PIECES) | st.text(max_size=40),
        max_size=8,
    )
)
def test_any_rst_is_read_or_an_article_error_and_never_live(pieces: list[str]) -> None:
    data = "".join(pieces).encode("utf-8", "surrogatepass")
    check_parse_result("x.rst", data)  # an ArticleError naming the file, or a good article
    try:
        parsed = parse_article("x.rst", data, CTX)
    except ArticleError:
        return
    assert live_content(parsed.body_html) == []


def test_more_explicit_markup_blocks_than_an_article_may_hold() -> None:
    """20,000 substitution definitions took 35 s (the garbage of docutils' nested state
    machines makes the collector's work grow with the square of their number)."""
    definitions = "".join(f".. |s{i}| replace:: v\n" for i in range(rst.MAX_EXPLICIT_MARKUP + 1))
    started = time.perf_counter()
    err = parse_error("subs.rst", titled(definitions))
    assert time.perf_counter() - started < 2
    assert err.line == 6 + rst.MAX_EXPLICIT_MARKUP
    assert "explicit markup" in err.message
    fine = "".join(f".. |s{i}| replace:: v{i}\n" for i in range(50)) + "\n|s7| |s49|\n"
    assert parse("subs.rst", titled(fine)).body_html == "<p>v7 v49</p>"
