"""feedpub.articles.parse: one article file's bytes -> ParsedArticle, or an ArticleError."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from feedpub.articles.metadata import KNOWN_KEYS
from feedpub.articles.parse import ParseContext, ParsedArticle, parse_article
from feedpub.errors import ArticleError
from feedpub.model import Author, Enclosure, Severity

TZ = ZoneInfo("Europe/Berlin")
CTX = ParseContext(tz=TZ, base_url="https://example.org/")
DATA = Path(__file__).parent / "data"


def parse(path: str, source: str | bytes, ctx: ParseContext = CTX) -> ParsedArticle:
    data = source.encode("utf-8") if isinstance(source, str) else source
    return parse_article(path, data, ctx)


def parse_error(path: str, source: str | bytes, ctx: ParseContext = CTX) -> ArticleError:
    with pytest.raises(ArticleError) as info:
        parse(path, source, ctx)
    err = info.value
    assert err.path == path
    assert str(err).startswith(err.location() + ": ")
    return err


def yaml_fm(*lines: str, body: str = "Body.\n") -> str:
    """YAML front matter: ``lines[i]`` is on line ``i + 2`` of the file."""
    return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + body


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def warnings_of(parsed: ParsedArticle) -> list[tuple[int | None, str]]:
    assert all(w.severity is Severity.WARNING for w in parsed.warnings)
    assert all(w.path == parsed.meta.path for w in parsed.warnings)
    return [(w.line, w.message) for w in parsed.warnings]


# --- YAML front matter: every field and alias ---------------------------------------------------


def test_yaml_front_matter_all_fields() -> None:
    parsed = parse(
        "posts/tour.md",
        yaml_fm(
            "title: A short tour",
            "date: 2025-02-03T18:00:00+01:00",
            "updated: 2025-02-04 09:30",
            "categories: [Tutorials, Tech News]",
            "tags: [markdown, feeds]",
            "author: Jane Doe <jane@example.org>",
            "summary: What   feedpub\n  reads.",
            "id: tag:example.org,2025:tour",
            "slug: Short Tour",
            "draft: false",
            "link: /elsewhere/",
            "image: img/cover.png",
            "enclosure: {url: /audio/ep1.mp3, length: 1234, type: audio/mpeg}",
            body="Body in **Markdown**.\n",
        ),
    )
    meta = parsed.meta
    assert meta.path == "posts/tour.md"
    assert meta.title == "A short tour"
    assert meta.date == utc(2025, 2, 3, 17)
    assert meta.updated == utc(2025, 2, 4, 8, 30)  # naive: Europe/Berlin, CET
    assert meta.categories == ("Tutorials", "Tech News")
    assert meta.tags == ("markdown", "feeds")
    assert meta.authors == (Author(name="Jane Doe", email="jane@example.org"),)
    assert meta.summary == "What feedpub reads."
    assert meta.id == "tag:example.org,2025:tour"
    assert meta.slug == "short-tour"
    assert meta.draft is False
    assert meta.link == "https://example.org/elsewhere/"
    assert meta.image == "https://example.org/img/cover.png"
    assert meta.enclosure == Enclosure(
        url="https://example.org/audio/ep1.mp3", type="audio/mpeg", length=1234
    )
    assert len(meta.content_hash) == 64
    assert parsed.body == "Body in **Markdown**.\n"
    assert parsed.body_format == "markdown"
    assert parsed.body_line == 17  # the summary takes two lines
    assert parsed.warnings == ()


def test_content_hash_is_of_the_bytes() -> None:
    a = parse("a.md", yaml_fm("title: Same"))
    b = parse("b.md", yaml_fm("title: Same"))
    c = parse("a.md", yaml_fm("title: Same", body="Other.\n"))
    assert a.meta.content_hash == b.meta.content_hash != c.meta.content_hash


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("categories: [News, Tech]", ("News", "Tech")),
        ("categories: News", ("News",)),
        ("categories: 'a, b; c'", ("a", "b", "c")),
        ("categories: a, b; c", ("a", "b", "c")),
        ("category: a, b; c", ("a", "b", "c")),
        ("category: [News]", ("News",)),
        ("categories: [News, News, Tech]", ("News", "Tech")),
        ("categories: ' News ,  Tech  '", ("News", "Tech")),
        ("categories: 2024", ("2024",)),
        ("categories: []", ()),
    ],
)
def test_categories_forms(line: str, expected: tuple[str, ...]) -> None:
    assert parse("a.md", yaml_fm("title: T", line)).meta.categories == expected


def test_category_and_categories_both_given_are_merged() -> None:
    meta = parse("a.md", yaml_fm("title: T", "category: News", "categories: [Tech, News]")).meta
    assert meta.categories == ("News", "Tech")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tags: [a, b]", ("a", "b")),
        ("tags: a, b; c", ("a", "b", "c")),
        ("tag: solo", ("solo",)),
        ("keywords: [x, y]", ("x", "y")),
        ("tags: [1.0, 3]", ("1.0", "3")),
    ],
)
def test_tags_forms(line: str, expected: tuple[str, ...]) -> None:
    assert parse("a.md", yaml_fm("title: T", line)).meta.tags == expected


def test_empty_category_names_are_dropped_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "categories: 'a,,b'"))
    assert parsed.meta.categories == ("a", "b")
    assert [line for line, _ in warnings_of(parsed)] == [3]


def test_boolean_categories_warn_and_keep_the_rest() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "categories: [yes, Tech]"))
    assert parsed.meta.categories == ("Tech",)
    [(line, message)] = warnings_of(parsed)
    assert line == 3
    assert "quote it" in message
    assert "True" in message


def test_a_boolean_category_alone_gives_no_categories() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "categories: no"))
    assert parsed.meta.categories == ()
    assert len(parsed.warnings) == 1


def test_nested_list_category_is_ignored_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "categories: [[a, b], Tech]"))
    assert parsed.meta.categories == ("Tech",)
    assert [line for line, _ in warnings_of(parsed)] == [3]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "author: Jane Doe <jane@example.org>",
            (Author(name="Jane Doe", email="jane@example.org"),),
        ),
        ("author: Jane Doe", (Author(name="Jane Doe"),)),
        (
            "author: {name: Jane, email: jane@example.org, url: https://jane.example}",
            (Author(name="Jane", email="jane@example.org", url="https://jane.example"),),
        ),
        (
            "author: {email: jane@example.org}",
            (Author(name="jane@example.org", email="jane@example.org"),),
        ),
        (
            "author: {name: Jane, uri: https://j.example}",
            (Author(name="Jane", url="https://j.example"),),
        ),
        (
            "authors: [Jane <jane@example.org>, Bob]",
            (Author(name="Jane", email="jane@example.org"), Author(name="Bob")),
        ),
        (
            "authors: [{name: Jane}, Bob <bob@example.org>]",
            (Author(name="Jane"), Author(name="Bob", email="bob@example.org")),
        ),
        (
            "author: A <a@example.org>; B <b@example.org>",
            (Author(name="A", email="a@example.org"), Author(name="B", email="b@example.org")),
        ),
        ("authors: [Bob, Bob]", (Author(name="Bob"),)),
        (
            "author: <only@example.org>",
            (Author(name="only@example.org", email="only@example.org"),),
        ),
    ],
)
def test_author_forms(line: str, expected: tuple[Author, ...]) -> None:
    parsed = parse("a.md", yaml_fm("title: T", line))
    assert parsed.meta.authors == expected
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "mailto:jane@example.org",
    ],
)
def test_author_url_that_is_not_http_is_dropped_with_a_warning(url: str) -> None:
    parsed = parse("a.md", yaml_fm("title: T", f'author: {{name: Jane, url: "{url}"}}'))
    assert parsed.meta.authors == (Author(name="Jane"),)
    [(line, message)] = warnings_of(parsed)
    assert line == 3
    assert "http(s)" in message


def test_relative_author_url_is_made_absolute() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "author: {name: Jane, uri: /about/jane}"))
    assert parsed.meta.authors == (Author(name="Jane", url="https://example.org/about/jane"),)
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("author: Bob <script>", (Author(name="Bob"),)),
        ('author: {name: Jane, email: "javascript:alert(1)"}', (Author(name="Jane"),)),
        ('author: {name: Jane, email: "a b@example.org"}', (Author(name="Jane"),)),
        ('author: {name: Jane, email: "j\u202e@example.org"}', (Author(name="Jane"),)),
        ("author: {email: not-an-email}", ()),
    ],
)
def test_author_email_that_is_not_an_address_is_dropped_with_a_warning(
    line: str, expected: tuple[Author, ...]
) -> None:
    parsed = parse("a.md", yaml_fm("title: T", line))
    assert parsed.meta.authors == expected
    warnings = warnings_of(parsed)
    assert warnings
    assert all(warned_line == 3 for warned_line, _ in warnings)
    assert "not an email address" in warnings[0][1]


@pytest.mark.parametrize(
    "line",
    [
        'author: "a@' + "." * 200_000 + '@"',
        'author: {name: A, email: "a@' + "." * 200_000 + '<"}',
    ],
)
def test_a_long_email_like_author_is_checked_quickly(line: str) -> None:
    start = time.perf_counter()
    parsed = parse("a.md", yaml_fm("title: T", line))
    assert time.perf_counter() - start < 2
    assert all(not author.email for author in parsed.meta.authors)


def test_author_without_name_or_email_is_ignored_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "author: {url: https://x.example}"))
    assert parsed.meta.authors == ()
    assert [line for line, _ in warnings_of(parsed)] == [3]


@pytest.mark.parametrize("key", ["summary", "description", "excerpt"])
def test_summary_and_aliases(key: str) -> None:
    assert parse("a.md", yaml_fm("title: T", f"{key}: Short text.")).meta.summary == "Short text."


def test_empty_summary_is_none() -> None:
    assert parse("a.md", yaml_fm("title: T", "summary: ''")).meta.summary is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("id: 123", "123"),
        ("id: '0042'", "0042"),
        ("guid: urn:uuid:1234", "urn:uuid:1234"),
        ("id: tag:example.org,2024:x", "tag:example.org,2024:x"),
    ],
)
def test_id_forms(line: str, expected: str) -> None:
    assert parse("a.md", yaml_fm("title: T", line)).meta.id == expected


@pytest.mark.parametrize("value", ["''", "[a, b]", "{a: b}", "'" + "x" * 1001 + "'"])
def test_unusable_id_is_an_error_on_its_line(value: str) -> None:
    err = parse_error("a.md", yaml_fm("title: T", "date: 2024-01-01", f"id: {value}"))
    assert err.line == 4
    assert "id" in err.message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("slug: My Great Post", "my-great-post"),
        ("slug: café-crème", "café-crème"),
        ("slug: ../../etc/passwd", "etc-passwd"),
        ("slug: '!!!'", None),  # hash based, checked below
    ],
)
def test_slug_is_slugified(line: str, expected: str | None) -> None:
    slug = parse("a.md", yaml_fm("title: T", line)).meta.slug
    assert slug is not None
    if expected is None:
        assert slug.startswith("article-")
    else:
        assert slug == expected


def test_empty_slug_is_ignored_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "slug: ''"))
    assert parsed.meta.slug is None
    assert [line for line, _ in warnings_of(parsed)] == [3]


@pytest.mark.parametrize(
    ("lines", "draft"),
    [
        ((), False),
        (("draft: true",), True),
        (("draft: yes",), True),
        (("draft: 'true'",), True),
        (("draft: false",), False),
        (("draft: no",), False),
        (("published: false",), True),
        (("published: 'false'",), True),
        (("published: no",), True),
        (("published: true",), False),
        (("status: draft",), True),
        (("status: Draft",), True),
        (("status: private",), True),
        (("status: published",), False),
        (("published: false", "draft: false"), True),
        (("published: true", "draft: true"), True),
        (("draft: false", "status: draft"), True),
    ],
)
def test_draft_forms(lines: tuple[str, ...], draft: bool) -> None:
    parsed = parse("a.md", yaml_fm("title: T", *lines))
    assert parsed.meta.draft is draft
    assert parsed.warnings == ()


def test_unclear_draft_value_is_false_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "draft: maybe"))
    assert parsed.meta.draft is False
    assert [line for line, _ in warnings_of(parsed)] == [3]


def test_published_with_a_date_is_the_date() -> None:
    meta = parse("a.md", yaml_fm("title: T", "published: 2024-07-01T12:00:00Z")).meta
    assert meta.date == utc(2024, 7, 1, 12)
    assert meta.draft is False


def test_date_wins_over_published() -> None:
    meta = parse("a.md", yaml_fm("title: T", "published: 2024-07-01", "date: 2024-08-01")).meta
    assert meta.date == utc(2024, 7, 31, 22)


@pytest.mark.parametrize("key", ["date", "pubdate", "created"])
def test_date_aliases(key: str) -> None:
    assert parse("a.md", yaml_fm("title: T", f"{key}: 2024-01-15")).meta.date == utc(
        2024, 1, 14, 23
    )


@pytest.mark.parametrize(
    "key", ["updated", "modified", "lastmod", "last_modified", "Last-Modified"]
)
def test_updated_aliases(key: str) -> None:
    meta = parse("a.md", yaml_fm("title: T", f"{key}: 2024-01-15T10:00:00Z")).meta
    assert meta.updated == utc(2024, 1, 15, 10)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("link: https://elsewhere.example/x", "https://elsewhere.example/x"),
        ("link: /local/page/", "https://example.org/local/page/"),
        ("external_url: //cdn.example/x", "https://cdn.example/x"),
        ("image: img/a.png", "https://example.org/img/a.png"),
    ],
)
def test_link_and_image_made_absolute(line: str, expected: str) -> None:
    meta = parse("a.md", yaml_fm("title: T", line)).meta
    assert expected in (meta.link, meta.image)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("""link: 'https://e.example/a b<img src=x onerror=alert(1)>"q"'""",
         "https://e.example/a%20b%3Cimg%20src=x%20onerror=alert(1)%3E%22q%22"),
        ('link: "https://e.example/{x}|^`\\\\"', "https://e.example/%7Bx%7D%7C%5E%60%5C"),
        ('image: "/img/Invoice\\u202efdp.png"', "https://example.org/img/Invoice%E2%80%AEfdp.png"),
        ("link: https://e.example/caf%C3%A9?a=1&b=2#x", "https://e.example/caf%C3%A9?a=1&b=2#x"),
        ("link: https://e.example/café", "https://e.example/café"),
    ],
)  # fmt: skip
def test_characters_urls_cannot_hold_are_percent_encoded(line: str, expected: str) -> None:
    parsed = parse("a.md", yaml_fm("title: T", line))
    assert expected in (parsed.meta.link, parsed.meta.image)
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    "line",
    [
        "link: javascript:alert(1)",
        "link: mailto:a@example.org",
        "image: 'data:image/png;base64,AAAA'",
        "link: ''",
        "link: [a]",
    ],
)
def test_non_http_link_or_image_ignored_with_a_warning(line: str) -> None:
    parsed = parse("a.md", yaml_fm("title: T", line))
    assert parsed.meta.link is None
    assert parsed.meta.image is None
    assert [ln for ln, _ in warnings_of(parsed)] == [3]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "{url: /ep/1.mp3, length: 1234, type: audio/mpeg}",
            Enclosure(url="https://example.org/ep/1.mp3", type="audio/mpeg", length=1234),
        ),
        (
            "{url: /ep/1.mp3}",
            Enclosure(url="https://example.org/ep/1.mp3", type="audio/mpeg", length=0),
        ),
        (
            "{href: /ep/1.ogg, length: '99'}",
            Enclosure(url="https://example.org/ep/1.ogg", type="audio/ogg", length=99),
        ),
        (
            "{url: /ep/1.mp3, type: video/mp4}",
            Enclosure(url="https://example.org/ep/1.mp3", type="video/mp4", length=0),
        ),
        (
            "{url: /ep/1.unknownext, type: notamime}",
            Enclosure(
                url="https://example.org/ep/1.unknownext", type="application/octet-stream", length=0
            ),
        ),
        (
            "https://cdn.example/ep.mp3",
            Enclosure(url="https://cdn.example/ep.mp3", type="audio/mpeg", length=0),
        ),
        (
            """{url: /ep/1.mp3, type: 'audio/mpeg" onload="alert(1)'}""",
            Enclosure(url="https://example.org/ep/1.mp3", type="audio/mpeg", length=0),
        ),
        (
            "{url: /ep/1.mp3, type: '<script>/x'}",
            Enclosure(url="https://example.org/ep/1.mp3", type="audio/mpeg", length=0),
        ),
        (
            "{url: /ep/1.m4a, type: audio/mp4}",
            Enclosure(url="https://example.org/ep/1.m4a", type="audio/mp4", length=0),
        ),
        (
            "{url: /ep/1.x, type: application/vnd.example+json}",
            Enclosure(url="https://example.org/ep/1.x", type="application/vnd.example+json"),
        ),
    ],
)
def test_enclosure_forms(value: str, expected: Enclosure) -> None:
    parsed = parse("a.md", yaml_fm("title: T", f"enclosure: {value}"))
    assert parsed.meta.enclosure == expected
    assert parsed.warnings == ()


@pytest.mark.parametrize("length", ["-1", "'1,234'", "yes", "1.5"])
def test_enclosure_with_bad_length_gets_zero_and_a_warning(length: str) -> None:
    parsed = parse("a.md", yaml_fm("title: T", f"enclosure: {{url: /a.mp3, length: {length}}}"))
    assert parsed.meta.enclosure is not None
    assert parsed.meta.enclosure.length == 0
    assert [line for line, _ in warnings_of(parsed)] == [3]


def test_enclosure_without_url_is_ignored_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "enclosure: {length: 5}"))
    assert parsed.meta.enclosure is None
    assert len(parsed.warnings) == 1


def test_unknown_keys_are_ignored() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "layout: post", "weight: 3", "params: {a: 1}"))
    assert parsed.meta.title == "T"
    assert parsed.warnings == ()


def test_keys_are_case_and_dash_insensitive() -> None:
    meta = parse(
        "a.md",
        yaml_fm("Title: T", "DATE: 2024-01-01T00:00:00Z", "Last-Modified: 2024-02-01T00:00:00Z"),
    ).meta
    assert meta.title == "T"
    assert meta.date == utc(2024, 1, 1)
    assert meta.updated == utc(2024, 2, 1)


def test_empty_yaml_front_matter_then_h1() -> None:
    parsed = parse("a.md", "---\n---\n# Heading\nBody.\n")
    assert parsed.meta.title == "Heading"
    assert parsed.body.strip() == "Body."


def test_front_matter_closed_with_dots() -> None:
    parsed = parse("a.md", "---\ntitle: T\n...\nBody.\n")
    assert parsed.meta.title == "T"
    assert parsed.body == "Body.\n"


def test_body_keeps_later_thematic_breaks() -> None:
    parsed = parse("a.md", yaml_fm("title: T", body="one\n\n---\n\ntwo\n"))
    assert parsed.body == "one\n\n---\n\ntwo\n"


def test_yaml_aliases_within_budget_are_fine() -> None:
    meta = parse("a.md", yaml_fm("title: &t Hello", "summary: *t")).meta
    assert meta.title == meta.summary == "Hello"


# --- titles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("title: 2024-03-05", "2024-03-05"),
        ("title: 2024-03-05 10:00:00", "2024-03-05T10:00:00"),
        ("title: 2024-03-05T10:00:00+02:00", "2024-03-05T10:00:00+02:00"),
        ("title: 1984", "1984"),
        ("title: '  spaced   out  '", "spaced out"),
    ],
)
def test_title_yaml_reads_as_a_non_string_becomes_text(line: str, expected: str) -> None:
    parsed = parse("a.md", yaml_fm(line))
    assert parsed.meta.title == expected
    assert parsed.warnings == ()


@pytest.mark.parametrize(("line", "expected"), [("title: 3.10", "3.10"), ("title: 12:30", "12:30")])
def test_numeric_title_keeps_the_written_text(line: str, expected: str) -> None:
    assert parse("a.md", yaml_fm(line)).meta.title == expected


@pytest.mark.parametrize(("line", "expected"), [("id: 0123", "0123"), ("id: 1_000", "1_000")])
def test_numeric_id_keeps_the_written_text(line: str, expected: str) -> None:
    assert parse("a.md", yaml_fm("title: T", line)).meta.id == expected


@pytest.mark.parametrize("value", ["yes", "[a, b]", "{a: b}"])
def test_title_that_is_not_text_is_an_error(value: str) -> None:
    err = parse_error("a.md", yaml_fm("date: 2024-01-01", f"title: {value}"))
    assert err.line == 3


def test_very_long_title_is_shortened_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: " + "word " * 400))
    assert len(parsed.meta.title) <= 1001
    assert parsed.meta.title.endswith("…")
    assert [line for line, _ in warnings_of(parsed)] == [2]


def test_title_from_first_markdown_h1() -> None:
    parsed = parse("a.md", yaml_fm("date: 2024-01-01", body="\n# The Heading #\n\nBody.\n"))
    assert parsed.meta.title == "The Heading"
    assert "The Heading" not in parsed.body
    assert parsed.body.strip() == "Body."
    assert parsed.warnings == ()


def test_title_from_h1_without_front_matter() -> None:
    parsed = parse("a.md", "# Only a heading\n\nBody.\n")
    assert parsed.meta.title == "Only a heading"
    assert parsed.meta.date is None


def test_h1_after_text_is_not_the_title() -> None:
    parsed = parse("2024-05-06-late_heading-here.md", "Intro.\n\n# Late\n")
    assert parsed.meta.title == "Late heading here"
    assert "# Late" in parsed.body
    [(line, message)] = warnings_of(parsed)
    assert line is None
    assert "file name" in message


def test_h2_is_not_the_title() -> None:
    parsed = parse("notes/my-note.md", "## Second level\n\nBody.\n")
    assert parsed.meta.title == "My note"
    assert len(parsed.warnings) == 1


def test_no_title_at_all_uses_the_file_name_with_a_warning() -> None:
    parsed = parse("dir/2024-01-02-some-file_name.md", yaml_fm("date: 2024-01-02"))
    assert parsed.meta.title == "Some file name"
    [(_, message)] = warnings_of(parsed)
    assert "no title" in message
    assert "Some file name" in message


def test_empty_title_falls_back_like_a_missing_one() -> None:
    parsed = parse("a.md", yaml_fm("title: ''", body="# Real title\n\nBody.\n"))
    assert parsed.meta.title == "Real title"


def test_null_title_falls_back_to_h1() -> None:
    assert parse("a.md", yaml_fm("title: null", body="# H1\n")).meta.title == "H1"


# --- labels: bidi controls that can disguise text -----------------------------------------------

RLO = "\u202e"


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        (f'title: "Invoice{RLO}fdp.exe"', "title", "Invoicefdp.exe"),
        ('title: "\u202aa\u202bb\u202cc\u202dd\u2066e\u2067f\u2068g\u2069"', "title", "abcdefg"),
        (f'categories: ["News", "Ne{RLO}ws"]', "categories", ("News",)),
        (f'category: "a{RLO}b; c"', "categories", ("ab", "c")),
        (f'tags: ["x{RLO}y"]', "tags", ("xy",)),
        ('keywords: "\u2067tag"', "tags", ("tag",)),
    ],
)
def test_bidi_controls_in_labels_are_removed_with_a_warning(
    line: str, field: str, expected: object
) -> None:
    parsed = parse(
        "a.md", yaml_fm("date: 2024-01-01", line, "title: T" if field != "title" else "")
    )
    assert getattr(parsed.meta, field) == expected
    [(warned_line, message)] = warnings_of(parsed)
    assert warned_line == 3
    assert "bidi" in message
    assert "U+202" in message or "U+206" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'author: "Mallory{RLO}eciloA"', (Author(name="MalloryeciloA"),)),
        (
            f'author: "Ma{RLO}llory <m@example.org>"',
            (Author(name="Mallory", email="m@example.org"),),
        ),
        (f'author: {{name: "Ma{RLO}llory"}}', (Author(name="Mallory"),)),
        (f'authors: ["A", "B{RLO}"]', (Author(name="A"), Author(name="B"))),
    ],
)
def test_bidi_controls_in_author_names_are_removed_with_a_warning(
    line: str, expected: tuple[Author, ...]
) -> None:
    parsed = parse("a.md", yaml_fm("title: T", line))
    assert parsed.meta.authors == expected
    [(warned_line, message)] = warnings_of(parsed)
    assert warned_line == 3
    assert "U+202E" in message


def test_bidi_controls_in_a_markdown_h1_title_are_removed_with_its_line() -> None:
    parsed = parse(
        "a.md", yaml_fm("date: 2024-01-01", body=f"\n\n# Invoice{RLO}fdp.exe\n\nBody.\n")
    )
    assert parsed.meta.title == "Invoicefdp.exe"
    [(line, message)] = warnings_of(parsed)
    assert line == 6  # the front matter takes lines 1-3, then two blank lines
    assert "title" in message and "U+202E" in message


def test_bidi_controls_in_a_plain_text_title_line_are_removed_with_its_line() -> None:
    parsed = parse("a.txt", f"Date: 2024-01-01\n\nInvoice{RLO}fdp.exe\n\nThe story.\n")
    assert parsed.meta.title == "Invoicefdp.exe"
    assert [line for line, _ in warnings_of(parsed)] == [3]


def test_bidi_controls_in_a_file_name_title_are_removed() -> None:
    parsed = parse(f"Invoice{RLO}fdp.exe.md", yaml_fm("date: 2024-01-01"))
    assert parsed.meta.title == "Invoicefdp.exe"
    assert len(parsed.warnings) == 2  # no title; and the bidi control


def test_a_label_of_bidi_controls_only_is_empty() -> None:
    parsed = parse("a.md", yaml_fm("title: T", f'categories: ["{RLO}", "News"]'))
    assert parsed.meta.categories == ("News",)
    assert len(parsed.warnings) == 2  # removed; then empty


@pytest.mark.parametrize(
    "title",
    [
        "\U0001f469\u200d\U0001f4bb Coding at night",  # ZWJ emoji sequence
        "می\u200cخواهم",  # Persian with ZWNJ
        "\u200fשלום\u200e (Hello)",  # RLM and LRM
        "مرحبا بالعالم",
    ],
)
def test_joiners_marks_and_right_to_left_titles_are_kept(title: str) -> None:
    parsed = parse("a.md", yaml_fm(f'title: "{title}"', f'categories: ["{title}"]'))
    assert parsed.meta.title == title
    assert parsed.meta.categories == (title,)
    assert parsed.warnings == ()


# --- TOML front matter --------------------------------------------------------------------------


def test_toml_front_matter() -> None:
    parsed = parse(
        "a.md",
        "+++\n"
        'title = "Toml"\n'
        "date = 2024-03-05T10:20:00\n"
        "updated = 2024-03-06T10:20:00+05:00\n"
        'categories = ["A", "B"]\n'
        'tags = "x, y"\n'
        "draft = true\n"
        'author = { name = "Jane", email = "j@example.org" }\n'
        "id = 7\n"
        "+++\n"
        "Body.\n",
    )
    meta = parsed.meta
    assert meta.title == "Toml"
    assert meta.date == utc(2024, 3, 5, 9, 20)
    assert meta.updated == utc(2024, 3, 6, 5, 20)
    assert meta.categories == ("A", "B")
    assert meta.tags == ("x", "y")
    assert meta.draft is True
    assert meta.authors == (Author(name="Jane", email="j@example.org"),)
    assert meta.id == "7"
    assert parsed.body == "Body.\n"
    assert parsed.body_line == 11


def test_toml_local_date() -> None:
    meta = parse("a.md", '+++\ntitle = "T"\ndate = 2024-07-01\n+++\nB\n').meta
    assert meta.date == utc(2024, 6, 30, 22)


def test_toml_syntax_error_names_the_line() -> None:
    err = parse_error("a.md", "+++\ntitle = 'T'\ndate = 2024-01-01\nfoo = bar\n+++\nB\n")
    assert err.line == 4
    assert "TOML" in err.message
    assert "column" not in err.message


def test_toml_error_without_a_line_is_on_the_first_line_of_the_block() -> None:
    err = parse_error("a.md", "+++\ntitle = 'T'\ncategories = [\n+++\nB\n")
    assert err.line == 2


def test_toml_impossible_date_names_the_line() -> None:
    err = parse_error("a.md", "+++\ntitle = 'T'\ndate = 2024-02-30\n+++\nB\n")
    assert err.line == 3


@pytest.mark.parametrize("value", ["[" * 3000 + "]" * 3000, "{a = " * 3000 + "1" + "}" * 3000])
def test_deeply_nested_toml_is_an_article_error(value: str) -> None:
    err = parse_error("a.md", f"+++\ntitle = 'T'\nx = {value}\n+++\nB\n")
    assert err.line == 3


def test_deeply_nested_yaml_is_an_article_error() -> None:
    err = parse_error("a.md", yaml_fm("title: T", "x: " + "[" * 3000 + "]" * 3000))
    assert err.line == 3


# --- Pelican-style headers in Markdown ----------------------------------------------------------


def test_pelican_headers_in_markdown() -> None:
    parsed = parse(
        "a.md",
        "Title: Pelican style\n"
        "Date: 2024-03-05 10:20\n"
        "Modified: 2024-03-06 10:20\n"
        "Category: Python\n"
        "Tags: a, b\n"
        "Tags: c\n"
        "Authors: Jane Doe <jane@example.org>; Bob\n"
        "Summary: Short.\n"
        "Status: draft\n"
        "\n"
        "Body text.\n"
        "Note: this line is body text.\n",
    )
    meta = parsed.meta
    assert meta.title == "Pelican style"
    assert meta.date == utc(2024, 3, 5, 9, 20)
    assert meta.updated == utc(2024, 3, 6, 9, 20)
    assert meta.categories == ("Python",)
    assert meta.tags == ("a", "b", "c")
    assert meta.authors == (Author(name="Jane Doe", email="jane@example.org"), Author(name="Bob"))
    assert meta.summary == "Short."
    assert meta.draft is True
    assert parsed.body == "Body text.\nNote: this line is body text.\n"
    assert parsed.body_line == 11
    assert parsed.body_format == "markdown"


def test_header_lines_without_a_known_key_are_body() -> None:
    text = "Note: something\nAnother: thing\n\nBody.\n"
    parsed = parse("my-note.md", text)
    assert parsed.body == text
    assert parsed.meta.title == "My note"


def test_a_header_block_with_a_non_header_line_is_body() -> None:
    text = "Title: Looks like a header\nbut this is prose\n\nBody.\n"
    parsed = parse("x.md", text)
    assert parsed.body == text


def test_header_error_names_the_header_line() -> None:
    err = parse_error("a.md", "Title: T\nCategory: X\nDate: 2024-02-30\n\nBody.\n")
    assert err.line == 3


# --- plain text ---------------------------------------------------------------------------------


def test_plain_text_headers_are_case_insensitive() -> None:
    parsed = parse(
        "a.txt",
        "TITLE: Plain\ncategories: Tech News\nDaTe: 2024-03-05\n\nFirst paragraph.\n\nSecond.\n",
    )
    assert parsed.body_format == "text"
    assert parsed.meta.title == "Plain"
    assert parsed.meta.categories == ("Tech News",)
    assert parsed.meta.date == utc(2024, 3, 4, 23)
    assert parsed.body == "First paragraph.\n\nSecond.\n"
    assert parsed.body_line == 5
    assert parsed.warnings == ()


def test_plain_text_title_line_without_title_header() -> None:
    parsed = parse(
        "news/storm.txt",
        "Categories: Tech News\nDate: 2025-05-20 07:45\n\n"
        "Storm knocks out power to data centre\n\nA storm cut power overnight.\n",
    )
    assert parsed.meta.title == "Storm knocks out power to data centre"
    assert parsed.meta.date == utc(2025, 5, 20, 5, 45)  # CEST
    assert parsed.body.strip() == "A storm cut power overnight."
    assert parsed.warnings == ()


def test_plain_text_repeated_headline_paragraph_is_dropped() -> None:
    parsed = parse("a.txt", "Headline here\n\nHeadline  here\n\nThe story.\n")
    assert parsed.meta.title == "Headline here"
    assert parsed.body.strip() == "The story."


def test_plain_text_repeated_headline_differing_in_case_is_dropped() -> None:
    parsed = parse("a.txt", "Date: 2024-01-01\n\nHeadline Here\n\nHEADLINE HERE\n\nThe story.\n")
    assert parsed.meta.title == "Headline Here"
    assert parsed.body.strip() == "The story."


def test_plain_text_headline_repeated_under_a_title_header_is_dropped() -> None:
    parsed = parse("a.txt", "Title: The Headline\n\nThe Headline\n\nThe story.\n")
    assert parsed.meta.title == "The Headline"
    assert parsed.body.strip() == "The story."


def test_plain_text_similar_but_different_second_paragraph_is_kept() -> None:
    parsed = parse("a.txt", "Headline here\n\nHeadline here, and more.\n\nThe story.\n")
    assert parsed.body == "Headline here, and more.\n\nThe story."


def test_plain_text_title_line_followed_by_text_in_the_same_paragraph() -> None:
    parsed = parse("a.txt", "Council meeting\nUpdate: the vote passed\n\nMore.\n")
    assert parsed.meta.title == "Council meeting"
    assert parsed.body.startswith("Update: the vote passed")
    assert "More." in parsed.body


def test_plain_text_update_line_in_the_body_stays_body_text() -> None:
    parsed = parse(
        "a.txt",
        "Title: Council votes\nDate: 2024-03-05\n\n"
        "The council met today.\n\nUpdate: the vote passed\n\nMore later.\n",
    )
    assert parsed.meta.title == "Council votes"
    assert "Update: the vote passed" in parsed.body
    assert parsed.meta.updated is None
    assert parsed.meta.date == utc(2024, 3, 4, 23)


def test_plain_text_update_paragraph_right_after_the_headers_stays_body_text() -> None:
    parsed = parse("a.txt", "Title: X\n\nUpdate: the vote passed\n\nMore.\n")
    assert parsed.body == "Update: the vote passed\n\nMore.\n"
    assert parsed.meta.updated is None


def test_plain_text_without_any_headers() -> None:
    parsed = parse(
        "notes/2024-01-05-thoughts.txt", "Some thoughts\n\nFirst paragraph.\n\nSecond one.\n"
    )
    assert parsed.meta.title == "Some thoughts"
    assert parsed.meta.date is None
    assert parsed.meta.categories == ()
    assert parsed.body == "First paragraph.\n\nSecond one."
    assert parsed.body_format == "text"
    assert parsed.warnings == ()


def test_plain_text_with_only_headers_takes_the_file_name() -> None:
    parsed = parse("2024-02-03-just_headers.txt", "Date: 2024-02-03\nCategory: X\n")
    assert parsed.meta.title == "Just headers"
    assert parsed.body == ""
    assert len(parsed.warnings) == 1


def test_txt_suffix_is_case_insensitive() -> None:
    assert parse("A.TXT", "Hello\n\nWorld.\n").body_format == "text"


# --- header blocks as people type them ----------------------------------------------------------


def test_header_keys_in_odd_case_and_spacing() -> None:
    parsed = parse(
        "odd.txt",
        "CATEGORIES :  tech news ;  Science\n"
        "date:2024-03-11T09:00:00Z\n"
        "Title:   Header Keys In Odd Case And Spacing   \n"
        "\n"
        "The story.\n",
    )
    assert parsed.meta.title == "Header Keys In Odd Case And Spacing"
    assert parsed.meta.date == utc(2024, 3, 11, 9)
    assert parsed.meta.categories == ("tech news", "Science")
    assert parsed.body == "The story.\n"
    assert parsed.body_line == 5
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("Date:2024-03-11T09:00:00Z", "date", utc(2024, 3, 11, 9)),
        ("date :2024-03-11 10:00", "date", utc(2024, 3, 11, 9)),
        ("Link:https://elsewhere.example/x", "link", "https://elsewhere.example/x"),
        ("LINK\t:\thttps://elsewhere.example/x\t", "link", "https://elsewhere.example/x"),
        ("Tags:a,b;c  ", "tags", ("a", "b", "c")),
        ("Last Modified: 2024-03-12T00:00:00Z", "updated", utc(2024, 3, 12)),
        ("last-modified:2024-03-12T00:00:00Z", "updated", utc(2024, 3, 12)),
    ],
)
def test_known_header_keys_with_or_without_spaces_around_the_colon(
    line: str, field: str, expected: object
) -> None:
    parsed = parse("a.txt", f"Title: T\n{line}\n\nBody.\n")
    assert getattr(parsed.meta, field) == expected
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    "first",
    [
        "http://example.org/story",
        "https://example.org/story: a link",
        "Breaking: markets fall",
        "Update: 3 dead",
        "Re:Title: a reply",
        "Note: the title line",
        "10:30: the meeting starts",
    ],
)
def test_a_prose_first_line_is_the_title_not_a_header(first: str) -> None:
    parsed = parse("a.txt", f"{first}\n\nThe story.\n")
    assert parsed.meta.title == first
    assert parsed.meta.date is None
    assert parsed.body == "The story."
    assert parsed.warnings == ()


@pytest.mark.parametrize("first", ["Breaking: markets fall", "Tech News: markets fall"])
def test_a_prose_first_line_stays_the_title_when_header_lines_follow(first: str) -> None:
    parsed = parse("a.txt", f"{first}\nDate: 2024-03-05\n\nThe story.\n")
    assert parsed.meta.title == first
    assert parsed.meta.date is None
    assert parsed.warnings == ()


def test_a_misspelt_first_key_starts_a_header_block_when_a_known_key_follows() -> None:
    parsed = parse("a.txt", "Update: 2024-03-06\nDate: 2024-03-05\n\nThe story.\n")
    assert parsed.meta.title == "The story."
    assert parsed.meta.date == utc(2024, 3, 4, 23)
    assert parsed.meta.updated is None
    assert [line for line, _ in warnings_of(parsed)] == [1]


def test_a_url_right_after_the_headers_is_body_text() -> None:
    parsed = parse("a.txt", "Title: T\nhttp://example.org/x\n\nMore.\n")
    assert parsed.meta.title == "T"
    assert parsed.meta.link is None
    assert parsed.body == "http://example.org/x\n\nMore.\n"


@pytest.mark.parametrize(
    ("source", "lines", "suggested"),
    [
        ("Titel: My post\nDate: 2024-03-05\n\nBody.\n", [1], ["title"]),
        ("Title: T\nDat: 2024-03-05\n\nBody.\n", [2], ["date"]),
        ("Title: T\nDat:2024-03-05\n\nBody.\n", [2], ["date"]),
        ("Title: T\nCatgories: News\nTagz: a\n\nBody.\n", [2, 3], ["categories", "tags"]),
        ("Date: 2024-03-05\nUpdate: 2024-03-06\n\nBody.\n", [2], ["updated"]),
        ("Date: 2024-03-05\nAutor: Jane\n\nBody.\n", [2], ["author"]),
    ],
)
def test_near_miss_header_keys_warn_with_their_line(
    source: str, lines: list[int], suggested: list[str]
) -> None:
    for suffix in (".txt", ".md"):
        parsed = parse("a" + suffix, source)
        found = [(line, m) for line, m in warnings_of(parsed) if not m.startswith("no title")]
        assert [line for line, _ in found] == lines
        for (_, message), key in zip(found, suggested, strict=True):
            assert message.endswith(f"did you mean `{key.capitalize()}`?")
        if suffix == ".md":
            assert parsed.body == "Body.\n"


def test_near_miss_values_are_not_used() -> None:
    parsed = parse("a.txt", "Title: T\nDat: 2024-03-05\n\nBody.\n")
    assert parsed.meta.date is None


def test_unknown_header_keys_after_a_known_one_are_ignored_silently() -> None:
    parsed = parse("a.md", "Title: T\nLayout: post\nTemplate: page\nLang: en\n\nBody.\n")
    assert parsed.meta.title == "T"
    assert parsed.body == "Body.\n"
    assert parsed.warnings == ()


def test_title_line_right_after_the_headers_without_a_blank_line() -> None:
    parsed = parse(
        "news/storm.txt",
        "Categories: Tech News\nStorm knocks out power to data centre\n\n"
        "A storm cut power overnight.\n",
    )
    assert parsed.meta.categories == ("Tech News",)
    assert parsed.meta.title == "Storm knocks out power to data centre"
    assert parsed.body.strip() == "A storm cut power overnight."
    assert parsed.body_line == 2
    assert parsed.warnings == ()


def test_several_headers_then_the_title_line_without_a_blank_line() -> None:
    parsed = parse(
        "a.txt",
        "Date: 2025-05-20 07:45\nCategories: Tech News; Weather\n"
        "Storm knocks out power\nA storm cut power overnight.\n",
    )
    assert parsed.meta.date == utc(2025, 5, 20, 5, 45)
    assert parsed.meta.categories == ("Tech News", "Weather")
    assert parsed.meta.title == "Storm knocks out power"
    assert parsed.body.strip() == "A storm cut power overnight."


def test_markdown_heading_right_after_the_headers() -> None:
    parsed = parse("a.md", "Categories: Tech News\n# Storm knocks out power\n\nBody.\n")
    assert parsed.meta.categories == ("Tech News",)
    assert parsed.meta.title == "Storm knocks out power"
    assert parsed.body.strip() == "Body."


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_a_wrapped_sentence_starting_with_a_known_key_is_prose(suffix: str) -> None:
    text = "Summary: the council met today and\nagreed to raise taxes.\n\nMore.\n"
    parsed = parse("a" + suffix, text)
    assert parsed.meta.summary is None
    if suffix == ".txt":
        assert parsed.meta.title == "Summary: the council met today and"


def test_indented_lines_continue_a_header_value() -> None:
    parsed = parse(
        "a.md",
        "Title: A title\n"
        "Summary: A summary that goes on\n"
        "    for a second line\n"
        "\tand a third.\n"
        "Date: 2024-03-05\n"
        "\n"
        "Body.\n",
    )
    assert parsed.meta.title == "A title"
    assert parsed.meta.summary == "A summary that goes on for a second line and a third."
    assert parsed.meta.date == utc(2024, 3, 4, 23)
    assert parsed.body == "Body.\n"
    assert parsed.warnings == ()


def test_indented_lines_continue_a_list_of_names() -> None:
    parsed = parse("a.txt", "Title: T\nTags: a, b\n    c, d\n\nBody.\n")
    assert parsed.meta.tags == ("a", "b", "c", "d")


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (("title: Hi", "date: 2024-01-01", "categories: [a, b", "tags: x"), 4),
        (("title: Hi", "date: 2024-01-01", "foo: bar: baz"), 4),
        (("title: Hi", "  bad: indent"), 3),
        (("title: Hi", 'summary: "never closed', "date: 2024-01-01"), 3),
        (("title: Hi", "date: 2024-01-01", "x: *nope"), 4),
        (("title: Hi", "date: 2024-01-01", "x: !foo bar"), 4),
        (("title: Hi", "date: 2024-01-01", " summary: indented wrong", "tags: x"), 4),
    ],
)
def test_malformed_yaml_names_the_line_in_the_file(lines: tuple[str, ...], line: int) -> None:
    err = parse_error("posts/bad.md", yaml_fm(*lines))
    assert err.line == line
    assert err.message.startswith("front matter:")
    assert str(err).startswith(f"posts/bad.md:{line}: ")


def test_malformed_yaml_message_names_the_problem_line_too() -> None:
    err = parse_error("a.md", yaml_fm("title: Hi", "date: 2024-01-01", "\tfoo: bar"))
    assert err.line == 3 or err.line == 4
    assert err.line == 4 or "noticed on line 4" in err.message


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (("title: Hi", "date: 2024-01-01", "summary: 'it's broken'"), 4),
        (("title: Hi", "date: 2024-01-01", "categories: [a, b]]"), 4),
        (("title: Hi", "date: 2024-01-01", "tags:", "  - a", " - b"), 6),
        (("title: Hi", "date: 2024-01-01", "x: 1", "- item"), 5),
        (("title: Hi", "date: 2024-01-01", "x: 1", "[a]: b"), 5),
        (("title: Hi", "date: 2024-01-01", "\tfoo: bar"), 4),
    ],
)
def test_malformed_yaml_block_mapping_errors_name_the_mistake(
    lines: tuple[str, ...], line: int
) -> None:
    assert parse_error("a.md", yaml_fm(*lines)).line == line


def test_malformed_yaml_line_counts_crlf_files() -> None:
    err = parse_error(
        "a.md", b"---\r\ntitle: Hi\r\ndate: 2024-01-01\r\nfoo: bar: baz\r\n---\r\nB\r\n"
    )
    assert err.line == 4


def test_malformed_yaml_line_after_a_utf8_bom() -> None:
    err = parse_error("a.md", b"\xef\xbb\xbf" + yaml_fm("title: Hi", "x: a: b").encode())
    assert err.line == 3


def test_malformed_yaml_line_with_a_unicode_line_separator() -> None:
    # YAML breaks "a\u2028b" into two lines and stumbles at "title" (line 3 of the file,
    # though YAML itself counts it as line 4)
    err = parse_error("a.md", yaml_fm("summary: a\u2028b", "title: x", "bad: [", "date: 1"))
    assert err.line == 3


@pytest.mark.parametrize(
    "source",
    ["---\ntitle: Hi\n\nBody\n", "+++\ntitle = 'x'\nBody\n", "---\n"],
)
def test_unclosed_front_matter_is_line_1(source: str) -> None:
    err = parse_error("a.md", source)
    assert err.line == 1
    assert "never closed" in err.message


@pytest.mark.parametrize(
    ("data", "line", "byte"),
    [
        (b"---\ntitle: Hi\n---\nline\n\xff\xfe bad\n", 5, "0xff"),
        (b"---\ntitle: Hi\n---\nline\nline2\ncaf\xe9 au lait\n", 6, "0xe9"),
        (b"caf\xe9", 1, "0xe9"),
        (b"\xef\xbb\xbfok\nok\n\x80", 3, "0x80"),
    ],
)
def test_non_utf8_names_the_line(data: bytes, line: int, byte: str) -> None:
    err = parse_error("a.md", data)
    assert err.line == line
    assert "UTF-8" in err.message
    assert byte in err.message


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded_with_a_warning(codec: str) -> None:
    text = "---\ntitle: Grüße aus Köln\ndate: 2024-01-01\n---\nBody ✓\n"
    bom = b"" if codec == "utf-16" else ("\ufeff".encode(codec))
    parsed = parse("a.md", bom + text.encode(codec))
    assert parsed.meta.title == "Grüße aus Köln"
    assert parsed.body == "Body ✓\n"
    [(line, message)] = warnings_of(parsed)
    assert line == 1
    assert "UTF-16" in message


def test_broken_utf16_is_an_error() -> None:
    err = parse_error("a.md", "\ufeffTitle: x\n\nB".encode("utf-16-le") + b"\x00")
    assert "UTF-16" in err.message


def test_utf16_without_bom_is_refused_with_a_hint() -> None:
    err = parse_error("a.md", "Title: x\n\nBody\n".encode("utf-16-le"))
    assert "UTF-16 without a byte-order mark" in err.message


def test_a_markdown_rule_on_line_1_is_not_front_matter() -> None:
    parsed = parse("a.md", "-----\ntitle: x\n\nBody\n")
    assert "title: x" in parsed.body


def test_utf8_bom_is_accepted_silently() -> None:
    parsed = parse("a.md", b"\xef\xbb\xbf---\ntitle: Hi\n---\nBody\n")
    assert parsed.meta.title == "Hi"
    assert parsed.body == "Body\n"
    assert parsed.warnings == ()


def test_utf8_bom_before_pelican_headers() -> None:
    parsed = parse("a.txt", b"\xef\xbb\xbfTitle: Hi\n\nBody\n")
    assert parsed.meta.title == "Hi"
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"\n\n\n",
        b" \t\r\n \n",
        b"\xef\xbb\xbf",
        b"\xef\xbb\xbf \n",
        " \n".encode("utf-16"),
        "\u2003\n".encode(),
    ],
)
def test_empty_or_whitespace_only_file(data: bytes) -> None:
    err = parse_error("empty.md", data)
    assert err.line is None
    assert "empty" in err.message


def test_control_characters_only_is_empty() -> None:
    err = parse_error("a.md", b"\x01\x02\x03\n\x7f")
    assert "empty" in err.message


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PK\x03\x04\x00\x00", b"ok\x00"]
)
def test_binary_file(data: bytes) -> None:
    err = parse_error("image.md", data)
    assert "binary" in err.message


def test_over_the_size_limit() -> None:
    ctx = ParseContext(tz=TZ, base_url="https://example.org/", max_bytes=100)
    data = yaml_fm("title: Hi").encode() + b"x" * 100
    err = parse_error("big.md", data, ctx)
    assert err.line is None
    assert "limit" in err.message
    assert "100" in err.message


def test_at_the_size_limit_is_fine() -> None:
    data = yaml_fm("title: Hi").encode()
    ctx = ParseContext(tz=TZ, base_url="https://example.org/", max_bytes=len(data))
    assert parse("a.md", data, ctx).meta.title == "Hi"


def test_size_limit_is_checked_before_decoding() -> None:
    ctx = ParseContext(tz=TZ, base_url="https://example.org/", max_bytes=10)
    err = parse_error("a.md", b"\x00" * 11, ctx)  # binary too, but the size decides first
    assert "limit" in err.message


def test_xml_illegal_control_characters_removed_with_a_warning() -> None:
    parsed = parse(
        "a.md", yaml_fm("title: Hi\x01there", "date: 2024-01-01", body="x\x0by\x1fz\x7f\n")
    )
    assert parsed.meta.title == "Hithere"
    assert parsed.body == "xyz\n"
    [(line, message)] = warnings_of(parsed)
    assert line == 2
    assert "4 control character" in message
    assert "U+0001" in message


def test_control_character_warning_names_the_first_line_with_one() -> None:
    parsed = parse("a.md", yaml_fm("title: Hi", body="ok\nok\nbad\x08here\n"))
    assert parsed.body == "ok\nok\nbadhere\n"
    assert [line for line, _ in warnings_of(parsed)] == [6]


def test_tab_newline_and_carriage_return_are_not_control_characters() -> None:
    parsed = parse("a.md", b"---\r\ntitle: Hi\r\n---\r\na\tb\rc\n")
    assert parsed.body == "a\tb\nc\n"
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (yaml_fm("title: Hi", "categories: [a]", "date: 2024-02-30"), 4),
        (yaml_fm("title: Hi", "categories: [a]", "date: '2024-02-30'"), 4),
        (yaml_fm("title: Hi", "updated: 2023-02-29 10:00:00"), 3),
        (yaml_fm("title: Hi", "date: 2024-01-01", "updated:", "  2024-04-31"), 4),
        (yaml_fm("title: Hi", "modified: '2024-13-01'"), 3),
        ("Title: Hi\nCategory: x\nDate: 2024-02-30\n\nBody\n", 3),
    ],
)
def test_impossible_date_names_its_line(source: str, line: int) -> None:
    err = parse_error("a.md", source)
    assert err.line == line
    assert "date" in err.message


@pytest.mark.parametrize(
    ("line_text", "line"),
    [
        ("updated: 2023-02-29T10:00:00", 3),
        ("updated: 2023-02-28T25:00:00", 3),
        ("updated: 2023-02-28 24:30:00", 3),
    ],
)
def test_impossible_yaml_timestamp_names_its_line(line_text: str, line: int) -> None:
    assert parse_error("a.md", yaml_fm("title: Hi", line_text)).line == line


def test_impossible_date_in_an_ignored_key_is_harmless() -> None:
    parsed = parse("a.md", yaml_fm("title: Hi", "x: [2024-01-01, 2024-02-30]"))
    assert parsed.meta.title == "Hi"


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01",
        "1800-05-01",
        "'1800-05-01T10:00:00+01:00'",
        "1899-12-31 23:00:00",
        "9999-01-01",
    ],
)
def test_implausible_years_are_errors(value: str) -> None:
    err = parse_error("a.md", yaml_fm("title: Hi", "", f"date: {value}"))
    assert err.line == 4
    assert "year" in err.message


@pytest.mark.parametrize("value", ["tomorrow", "'20.03.2024'", "12345", "[2024, 1, 1]", "10:30:00"])
def test_unreadable_dates_are_errors_on_their_line(value: str) -> None:
    err = parse_error("a.md", yaml_fm("title: Hi", f"updated: {value}"))
    assert err.line == 3


@pytest.mark.parametrize("key", ['"pubdate"', "'date'"])
def test_error_in_a_quoted_key_names_its_line(key: str) -> None:
    err = parse_error("a.md", yaml_fm("title: x", f"{key}: 'not a date'"))
    assert err.line == 3


def test_error_line_is_never_zero_or_negative() -> None:
    err = parse_error("a.md", yaml_fm("title: x", "Pubdate : 'nope'"))
    assert err.line == 3


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    err = parse_error("bomb.md", yaml_fm("title: Bomb", *lines))
    assert time.perf_counter() - start < 2
    assert err.line == 2
    assert "alias" in err.message


def test_yaml_alias_bomb_of_mappings_is_refused() -> None:
    keys = "xyzwvusrq"
    lines = ["a: &a {" + ", ".join(f"{k}: lol" for k in keys) + "}"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} {{" + ", ".join(f"{k}: *{prev}" for k in keys) + "}")
    start = time.perf_counter()
    err = parse_error("bomb.md", yaml_fm("title: Bomb", *lines))
    assert time.perf_counter() - start < 2
    assert "alias" in err.message


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object:os.system {}",
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_are_errors_with_their_line(tag: str) -> None:
    err = parse_error("a.md", yaml_fm("title: Hi", "date: 2024-01-01", f"x: {tag}"))
    assert err.line == 4
    assert "python" in err.message


@pytest.mark.parametrize(
    ("block", "kind"),
    [("- title\n- date\n", "list"), ("just text\n", "str"), ("42\n", "str")],
)
def test_front_matter_that_is_not_a_mapping(block: str, kind: str) -> None:
    err = parse_error("a.md", f"---\n{block}---\nBody\n")
    assert err.line == 2
    assert "mapping" in err.message
    assert kind in err.message


def test_toml_front_matter_of_the_wrong_shape_is_still_a_mapping() -> None:
    # TOML is always a table; an empty block is fine
    parsed = parse("a.md", "+++\n+++\n# T\n")
    assert parsed.meta.title == "T"


# --- dates and zones ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15 12:00", utc(2024, 1, 15, 11)),  # CET, +01:00
        ("2024-07-15 12:00", utc(2024, 7, 15, 10)),  # CEST, +02:00
        ("2024-07-15", utc(2024, 7, 14, 22)),
        ("'2024-07-15T12:00:00'", utc(2024, 7, 15, 10)),
        ("2024-03-31 03:30", utc(2024, 3, 31, 1, 30)),  # just after the spring-forward gap
        ("2024-10-27 01:30", utc(2024, 10, 26, 23, 30)),
    ],
)
def test_naive_dates_are_in_europe_berlin(value: str, expected: datetime) -> None:
    meta = parse("a.md", yaml_fm("title: T", f"date: {value}")).meta
    assert meta.date == expected
    assert meta.date is not None
    assert meta.date.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-15T12:00:00-05:00", utc(2024, 7, 15, 17)),
        ("2024-07-15T12:00:00Z", utc(2024, 7, 15, 12)),
        ("2024-07-15 12:00:00 +05:30", utc(2024, 7, 15, 6, 30)),
        ("'2024-07-15 12:00 UTC'", utc(2024, 7, 15, 12)),
        ("'2024-07-15 12:00 +09:00'", utc(2024, 7, 15, 3)),
    ],
)
def test_dates_with_explicit_offsets(value: str, expected: datetime) -> None:
    assert parse("a.md", yaml_fm("title: T", f"date: {value}")).meta.date == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 05 Mar 2024 10:20:00 +0100", utc(2024, 3, 5, 9, 20)),
        ("Tue, 05 Mar 2024 10:20:00 GMT", utc(2024, 3, 5, 10, 20)),
        ("05 Mar 2024 10:20:00 -0500", utc(2024, 3, 5, 15, 20)),
        ("Tue, 05 Mar 2024 10:20:00 -0000", utc(2024, 3, 5, 9, 20)),  # -0000: zone unknown
        ("Tue, 05 Mar 2024 10:20:00", utc(2024, 3, 5, 9, 20)),
    ],
)
def test_rfc2822_dates(value: str, expected: datetime) -> None:
    assert parse("a.md", yaml_fm("title: T", f"date: '{value}'")).meta.date == expected
    assert parse("a.txt", f"Title: T\nDate: {value}\n\nB\n").meta.date == expected


# --- the sample files in tests/data -------------------------------------------------------------

GOOD = sorted((DATA / "articles_good").iterdir())
# Files that are not valid UTF-8 end in ".bin": ruff format reads every .md file as UTF-8.
BAD_LINES: dict[str, int | None] = {
    "binary.md.bin": None,
    "impossible-date.md": 4,
    "latin1.md.bin": 5,
    "list-front-matter.md": 2,
    "malformed-yaml.md": 4,
    "python-tag.md": 4,
    "unclosed.md": 1,
}


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_good_sample_files_parse(path: Path) -> None:
    parsed = parse_article(path.name, path.read_bytes(), CTX)
    assert parsed.meta.title
    assert parsed.warnings == ()
    assert "\r" not in parsed.body
    assert "\ufeff" not in parsed.meta.title


def test_every_bad_sample_file_is_listed() -> None:
    assert sorted(p.name for p in (DATA / "articles_bad").iterdir()) == sorted(BAD_LINES)


@pytest.mark.parametrize(("name", "line"), sorted(BAD_LINES.items()))
def test_bad_sample_files_fail_on_their_line(name: str, line: int | None) -> None:
    data = (DATA / "articles_bad" / name).read_bytes()
    err = parse_error(f"articles/{name.removesuffix('.bin')}", data)
    assert err.line == line


# --- fuzzing: anything in, a ParsedArticle or an ArticleError out -------------------------------

YAML_VALUES = [
    "", "x", "yes", "no", "null", "~", "1", "0123", "1.5", ".nan", "-.inf", "12:30", "0x1f",
    "2024-01-01", "2024-02-30", "2024-01-01 10:00:00", "2024-01-01T10:00:00+05:00",
    "9999-12-31 23:59:59-12:00", "1900-01-01 00:00:00+14:00", "[]", "{}", "[a, b]", "[yes, no]",
    "[null]", "[1, [2]]", "{url: x}", "{url: /a.mp3, length: -1}", "{name: a}", "[{name: x}]",
    "!!binary aGk=", "!!set {a, b}", "!!timestamp 2024-01-01", "'a, b'", '""', "'  '",
    "javascript:x", "//h/x", "http://", "&a x", "*a", "10000000000000000000000",
]  # fmt: skip


def check_parse_result(path: str, data: bytes) -> None:
    try:
        parsed: ParsedArticle | ArticleError = parse_article(path, data, CTX)
    except ArticleError as e:
        parsed = e
    if isinstance(parsed, ArticleError):
        assert parsed.path == path
        assert parsed.line is None or parsed.line >= 1
        return
    meta = parsed.meta
    assert isinstance(meta.title, str)
    for value in (meta.date, meta.updated):
        assert value is None or value.tzinfo is UTC
    assert all(isinstance(c, str) and c for c in meta.categories + meta.tags)
    assert all(w.line is None or w.line >= 1 for w in parsed.warnings)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([*sorted(KNOWN_KEYS), "Title", "X"]), st.sampled_from(YAML_VALUES)
        ),
        max_size=6,
    ),
    st.sampled_from([".md", ".txt"]),
    st.text(max_size=30),
)
def test_any_yaml_front_matter_parses_or_is_an_article_error(
    items: list[tuple[str, str]], suffix: str, body: str
) -> None:
    source = "---\n" + "".join(f"{k}: {v}\n" for k, v in items) + "---\n" + body
    check_parse_result("f" + suffix, source.encode("utf-8", "surrogatepass"))


@given(
    st.lists(
        st.tuples(
            st.sampled_from([*sorted(KNOWN_KEYS), "Title"]),
            st.sampled_from(YAML_VALUES),
        ),
        max_size=6,
    ),
    st.sampled_from([".md", ".txt"]),
    st.text(max_size=30),
)
def test_any_header_block_parses_or_is_an_article_error(
    items: list[tuple[str, str]], suffix: str, body: str
) -> None:
    source = "".join(f"{k}: {v}\n" for k, v in items) + "\n" + body
    check_parse_result("f" + suffix, source.encode("utf-8", "surrogatepass"))


@given(
    st.binary(max_size=200)
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([".md", ".txt"]),
)
def test_any_bytes_parse_or_are_an_article_error(data: bytes, suffix: str) -> None:
    check_parse_result("f" + suffix, data)


# --- markup that would stall the sanitiser ------------------------------------------------------


def test_html_nested_absurdly_deep_loses_the_deepest_tags_with_a_warning_on_its_line() -> None:
    body = "Intro.\n\n<div>\n" + "<div>" * 300 + "x\n"
    parsed = parse("deep.md", yaml_fm("title: T", "date: 2024-01-01", body=body))
    [warning] = parsed.warnings
    assert warning.line == 8  # 4 lines of front matter, "Intro.", a blank line, "<div>", this
    assert warning.severity is Severity.WARNING
    assert "nested more than 256" in warning.message
    assert parsed.body_html.count("<div>") == 256
    assert "x" in parsed.body_html


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 200 + "x" + "</div>" * 200,  # deep, but within the limit
        ("<div>" * 200 + "x" + "</div>" * 200) * 5,  # closed, then again
        "<ul>" + "<li>item" * 2000 + "</ul>",  # optional end tags do not nest
        "<table>" + "<tr><td>x" * 2000 + "</table>",
        "<p>x" * 2000 + "<br><img src=a.png>" * 1000 + "<hr/>" * 500,
    ],
)
def test_ordinary_markup_is_not_too_deep(html: str) -> None:
    parse("ok.md", yaml_fm("title: T", "date: 2024-01-01", body=html + "\n"))


def test_deep_markup_in_plain_text_is_just_text() -> None:
    parse("ok.txt", "Title: T\nDate: 2024-01-01\n\n" + "<div>" * 1000 + "\n")


@pytest.mark.parametrize("url", ["//[", "http://[::1", "https://[x/", "//]"])
def test_a_url_that_is_no_url_at_all_is_a_warning_not_a_failure(url: str) -> None:
    """urljoin raises on an unclosed IPv6 host; that must cost the field, not the article."""
    parsed = parse(
        "a.md", yaml_fm("title: T", f'link: "{url}"', f'image: "{url}"', "date: 2024-01-01")
    )
    assert (parsed.meta.link, parsed.meta.image) == (None, None)
    assert len(parsed.warnings) == 2


def test_a_toml_key_of_thousands_of_dotted_parts_is_refused() -> None:
    """The standard library's TOML reader took 4.5 s and 1.6 GB for 20,000 parts."""
    err = parse_error("a.md", "+++\ntitle = 'T'\nx" + ".x" * 20_000 + " = 1\n+++\nBody\n")
    assert err.line == 3 and "dotted parts" in err.message
    err = parse_error("b.md", "+++\ntitle = 'T'\n[x" + ".x" * 20_000 + "]\ny = 1\n+++\nB\n")
    assert err.line == 3
    parse("c.md", "+++\ntitle = 'T'\nsite.params.social.x = 1\n+++\nBody\n")


def test_the_line_of_a_yaml_key_is_found_in_linear_time() -> None:
    """A warning looks up its key's line: a lazy match before ':' was quadratic on a long
    line of spaces (50,000 spaces took 5.5 s)."""
    import time

    fm = yaml_fm("title: T", "categories: [yes, News]", "x: [", "a" + " " * 200_000 + "b,", "]")
    started = time.monotonic()
    parsed = parse("a.md", fm)
    assert time.monotonic() - started < 2.0
    assert parsed.warnings[0].line == 3


@pytest.mark.parametrize(
    "front",
    [
        "date: Tue, 05 Mar 2024 10:20:00 +99999999999999999999",
        "enclosure: {url: https://e.org/a.mp3, length: '²'}",
        "enclosure: {url: https://e.org/a.mp3, length: '" + "9" * 5000 + "'}",
    ],
)
def test_library_exceptions_on_odd_values_are_this_fields_problem(front: str) -> None:
    """OverflowError, ValueError from int(): a problem with this field, named, not a crash."""
    source = yaml_fm("title: T", front)
    if front.startswith("date"):
        err = parse_error("a.md", source)
        assert err.line == 3 and err.message.startswith("date: ")
        return
    parsed = parse("a.md", source)
    assert parsed.meta.title == "T"
    assert parsed.warnings[0].line == 3


def test_an_author_of_nested_brackets_is_a_name() -> None:
    parsed = parse("a.txt", "Title: T\nAuthor: " + "‹(" * 5000 + "\n\nBody\n")
    assert parsed.meta.title == "T"


def test_headline_update_3_dead_stays_a_headline() -> None:
    parsed = parse("a.txt", "Update: 3 dead in storm\nDate: 2024-01-01\n\nRescue teams.\n")
    assert parsed.meta.title == "Update: 3 dead in storm"


def test_header_values_typed_the_yaml_way() -> None:
    parsed = parse("a.txt", 'Title: "Quoted"\nTags: [a, "b c"]\nDate: 2024-01-01\n\nBody\n')
    assert (parsed.meta.title, parsed.meta.tags) == ("Quoted", ("a", "b c"))


# --- real content: forms other generators and scrapers write ---------------------------------


def test_a_setext_heading_is_a_title_like_an_atx_one() -> None:
    parsed = parse("a.md", "My Title\n========\n\nBody text.\n")
    assert parsed.meta.title == "My Title"
    assert "My Title" not in parsed.body_html and "Body text." in parsed.body_html


def test_a_text_article_that_is_html_gets_a_title_without_markup() -> None:
    """A Medium export saved as .txt: its title was raw tags ('<hr/><h3>Title header...')."""
    body = "<hr/><h3>Title header</h3><p>First <b>paragraph</b>.</p><p>Second.</p>\n"
    parsed = parse("export.txt", body)
    assert parsed.meta.title == "Title header"
    assert "<b>paragraph</b>" in parsed.body_html and "Title header" not in parsed.body_html


def test_markdown_style_headings_in_a_text_body() -> None:
    parsed = parse("a.txt", "Categories: Tech News\n\nHeadline\n\n## Overview\n\nText.\n")
    assert "<h2>Overview</h2>" in parsed.body_html and "##" not in parsed.body_html


@pytest.mark.parametrize("name", ["2024-03-05-post.md", "2024-03-05_post.md"])
def test_a_date_in_the_file_name_with_dash_or_underscore(name: str) -> None:
    from feedpub.articles.dates import date_from_filename

    assert date_from_filename(name, UTC) == datetime(2024, 3, 5, tzinfo=UTC)
    assert parse(name, "Body only.\n").meta.title == "Post"  # (no title: from the file name)


def test_the_folder_names_the_category_when_asked() -> None:
    ctx = ParseContext(tz=UTC, base_url="https://example.org/", category_from_folder=True)
    assert parse("python/post.md", yaml_fm("title: T"), ctx).meta.categories == ("python",)
    assert parse("python/post.md", yaml_fm("title: T", "category: Go"), ctx).meta.categories == (
        "Go",
    )
    assert parse("post.md", yaml_fm("title: T"), ctx).meta.categories == ()
    assert parse("python/post.md", yaml_fm("title: T")).meta.categories == ()  # off by default


@pytest.mark.parametrize(
    "key",
    [
        '"a=b"' + ".x" * 40 + " = 1",  # a quoted key holding "="
        "y = {" + "x." * 40 + "x = 1}",  # dotted keys inside an inline table
        "['a]'" + ".x" * 40 + "]",  # a table header whose first part holds "]"
    ],
)
def test_no_way_around_the_toml_key_parts_limit(key: str) -> None:
    err = parse_error("a.md", "+++\ntitle = 'T'\n" + key + "\n+++\nBody\n")
    assert "dotted parts" in err.message and err.line == 3


def test_yaml_aliases_of_long_strings_are_bounded_by_size() -> None:
    """The alias check counted values, not their size: a 200 KB string aliased a thousand
    times took 17 s (and made a 400 MB state file)."""
    fm = yaml_fm('x: &a "' + "y" * 200_000 + '"', "tags: [" + ", ".join(["*a"] * 1000) + "]")
    assert "alias" in parse_error("a.md", fm).message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "s " * 200_000),
        ("link", "https://example.org/" + "a" * 10_000),
        ("image", "https://example.org/" + "b" * 10_000),
        ("author", "Name " * 100_000),
    ],
)
def test_fields_every_feed_repeats_are_bounded(field: str, value: str) -> None:
    """Each category feed repeats them: a 2 MB summary in 50 categories made 1.2 GB of feeds."""
    parsed = parse("a.txt", f"Title: T\n{field.title()}: {value}\n\nBody.\n")
    meta = parsed.meta
    assert len(meta.summary or "") <= 2001
    assert meta.link is None and meta.image is None
    assert all(len(a.name) <= 200 for a in meta.authors)
    assert parsed.warnings


def test_rfc_2822_dates_with_two_digit_years() -> None:
    from feedpub.articles.dates import parse_date

    assert parse_date("Tue, 05 Mar 24 10:20:00 +0100", UTC) == datetime(
        2024, 3, 5, 9, 20, tzinfo=UTC
    )


# --- podcast episode fields: duration, episode, season, explicit --------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1200", 1200),
        ("'1200'", 1200),
        ("20:00", 1200),  # YAML 1.1 reads this as the sexagesimal integer 1200
        ("'20:00'", 1200),
        ("00:20:00", 1200),  # a leading 0: YAML keeps the string
        ("'0:20:00'", 1200),
        ("1:02:03", 3723),
        ("'01:02:03'", 3723),
        ("1234.6", 1235),
        ("'1:00:00.4'", 3600),
        ("' 45 '", 45),
    ],
)
def test_duration_forms_are_seconds(value: str, seconds: int) -> None:
    parsed = parse("a.md", yaml_fm("title: T", f"duration: {value}"))
    assert parsed.meta.duration == seconds
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    "value", ["abc", "-5", "0", "'12:60'", "'1:2:3'", "'1:02:03:04'", "[1]", "true", "'1e3'"]
)
def test_a_duration_that_is_none_is_ignored_with_a_warning(value: str) -> None:
    parsed = parse("a.md", yaml_fm("title: T", f"duration: {value}"))
    assert parsed.meta.duration is None
    [(line, message)] = warnings_of(parsed)
    assert line == 3 and message.startswith("duration: ")


def test_duration_in_toml_and_in_a_header_block() -> None:
    # TOML reads an unquoted 00:20:00 as a local time
    assert parse("a.md", '+++\ntitle = "T"\nduration = 00:20:00\n+++\nB\n').meta.duration == 1200
    assert parse("a.md", '+++\ntitle = "T"\nduration = "1:02:03"\n+++\nB\n').meta.duration == 3723
    parsed = parse("a.txt", "Title: T\nDuration: 01:02:03\nEpisode: 4\n\nBody\n")
    assert (parsed.meta.duration, parsed.meta.episode) == (3723, 4)


@pytest.mark.parametrize(
    "headline", ["Episode: The return", "Season: finale tonight", "Duration: 3 hours of talks"]
)
def test_a_headline_that_starts_like_an_episode_field_stays_a_headline(headline: str) -> None:
    parsed = parse("a.txt", f"{headline}\n\nBody text.\n")
    assert parsed.meta.title == headline
    assert parsed.warnings == ()
    parsed = parse("b.txt", "Title: T\nReason: weather\nSeason: 2\n\nBody\n")
    assert (parsed.meta.season, parsed.warnings) == (2, ())  # "Reason" is no typo of "season"


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
def test_any_clock_reads_as_its_seconds(h: int, m: int, s: int) -> None:
    total = h * 3600 + m * 60 + s
    for text in (f"{h}:{m:02d}:{s:02d}", f"{h:02d}:{m:02d}:{s:02d}", str(total)):
        parsed = parse("a.md", yaml_fm("title: T", f"duration: '{text}'"))
        assert parsed.meta.duration == (total or None), text


@given(st.text(alphabet="0123456789:.-+ eax\u0663\u00b2", max_size=30))
def test_any_duration_text_is_seconds_or_a_warning(text: str) -> None:
    parsed = parse("a.md", yaml_fm("title: T", "duration: " + json.dumps(text)))
    assert parsed.meta.duration is None or parsed.meta.duration > 0
    assert (parsed.meta.duration is None) == bool(parsed.warnings)


@pytest.mark.parametrize(
    ("front", "episode", "season"),
    [
        (["episode: 3", "season: 2"], 3, 2),
        (["episode: '12'", "season: ' 1 '"], 12, 1),
    ],
)
def test_episode_and_season_numbers(front: list[str], episode: int, season: int) -> None:
    parsed = parse("a.md", yaml_fm("title: T", *front))
    assert (parsed.meta.episode, parsed.meta.season) == (episode, season)
    assert parsed.warnings == ()


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "yes", "two", "[1]", "'99999999999'"])
def test_an_episode_number_that_is_none_is_ignored_with_a_warning(value: str) -> None:
    parsed = parse("a.md", yaml_fm("title: T", f"episode: {value}", f"season: {value}"))
    assert (parsed.meta.episode, parsed.meta.season) == (None, None)
    assert [(line, message.split(":")[0]) for line, message in warnings_of(parsed)] == [
        (3, "episode"),
        (4, "season"),
    ]


@pytest.mark.parametrize(
    ("value", "explicit"),
    [
        ("true", True),
        ("yes", True),
        ("'explicit'", True),
        ("false", False),
        ("no", False),
        ("'clean'", False),
        ("'No'", False),
    ],
)
def test_explicit(value: str, explicit: bool) -> None:
    parsed = parse("a.md", yaml_fm("title: T", f"explicit: {value}"))
    assert parsed.meta.explicit is explicit
    assert parsed.warnings == ()


def test_explicit_that_is_neither_is_ignored_with_a_warning() -> None:
    parsed = parse("a.md", yaml_fm("title: T", "explicit: maybe"))
    assert parsed.meta.explicit is None
    assert [line for line, _ in warnings_of(parsed)] == [3]
    assert parse("b.md", yaml_fm("title: T")).meta.explicit is None


# --- sites written for Pelican, Jekyll and Hugo ---------------------------------------------------


def test_a_pelican_file_with_continued_values_keeps_its_title_and_date() -> None:
    parsed = parse(
        "content/moving.md",
        "Title: Moving the blog\n"
        "Date: 2024-05-02 10:20\n"
        "Category: Meta\n"
        "Summary:\n"
        "    Why we left the shared host,\n"
        "    and what it cost.\n"
        "Multiline: one\n"
        "    two\n"
        "Authors: Ana Lima\n"
        "    Ben Okafor\n"
        "\n"
        "We moved.\n",
    )
    m = parsed.meta
    assert m.title == "Moving the blog"
    assert m.date == datetime(2024, 5, 2, 10, 20, tzinfo=TZ).astimezone(UTC)
    assert m.categories == ("Meta",)
    assert m.summary == "Why we left the shared host, and what it cost."
    assert m.authors == (Author(name="Ana Lima"), Author(name="Ben Okafor"))
    assert parsed.body == "We moved.\n"
    assert warnings_of(parsed) == []


def test_a_jekyll_date_with_the_year_repeated_takes_the_file_names() -> None:
    parsed = parse(
        "_posts/2023-01-29-snow-day.md",
        yaml_fm("layout: post", "title: Snow day", "date: 2023-01-29 18:30:22 2023 -0800"),
    )
    assert parsed.meta.date == datetime(2023, 1, 29, tzinfo=TZ).astimezone(UTC)
    [(line, message)] = warnings_of(parsed)
    assert line == 4
    assert message.startswith("date: ")
    assert message.endswith("; using 2023-01-29 from the file name")


@pytest.mark.parametrize("key", ["date", "published"])
def test_an_unreadable_date_without_a_date_in_the_file_name_still_fails(key: str) -> None:
    err = parse_error(
        "_posts/snow-day.md", yaml_fm("title: Snow", f"{key}: 2023-01-29 18:30 2023 x")
    )
    assert err.line == 3


def test_an_unreadable_updated_date_still_fails_whatever_the_file_name() -> None:
    err = parse_error("_posts/2023-01-29-snow.md", yaml_fm("title: Snow", "updated: tomorrow"))
    assert err.line == 3


@pytest.mark.parametrize(
    ("lines", "date"),
    [
        (("date: 2024-03-01", "publishDate: 2024-03-05T08:00:00Z"), utc(2024, 3, 5, 8)),
        (("publishDate: 2024-03-05T08:00:00Z",), utc(2024, 3, 5, 8)),
        (("publishdate: 2024-03-05T08:00:00Z",), utc(2024, 3, 5, 8)),
        (("date: 2024-03-09T00:00:00Z", "publishDate: 2024-03-05T08:00:00Z"), utc(2024, 3, 9)),
        (("date: 2024-03-09T00:00:00Z",), utc(2024, 3, 9)),
    ],
)
def test_hugo_publish_date_is_when_the_article_goes_live(
    lines: tuple[str, ...], date: datetime
) -> None:
    parsed = parse("content/posts/p.md", yaml_fm("title: P", *lines))
    assert parsed.meta.date == date
    assert warnings_of(parsed) == []


@pytest.mark.parametrize("key", ["expiryDate", "expirydate", "unpublishdate"])
def test_hugo_expiry_date_is_read(key: str) -> None:
    parsed = parse("p.md", yaml_fm("title: P", "date: 2024-03-01T00:00:00Z", f"{key}: 2024-04-01"))
    assert parsed.meta.expires == datetime(2024, 4, 1, tzinfo=TZ).astimezone(UTC)
    assert parsed.meta.expires.tzinfo is UTC


def test_hugo_expiry_date_in_toml_front_matter() -> None:
    parsed = parse(
        "p.md",
        '+++\ntitle = "P"\ndate = 2024-03-01T00:00:00Z\nexpiryDate = 2024-04-01T12:00:00+02:00\n'
        "draft = true\naliases = ['/old/p/']\n+++\nBody\n",
    )
    assert parsed.meta.expires == utc(2024, 4, 1, 10)
    assert parsed.meta.draft is True
    assert warnings_of(parsed) == []


def test_an_unreadable_expiry_date_fails_on_its_line() -> None:
    err = parse_error("p.md", yaml_fm("title: P", "expiryDate: someday"))
    assert err.line == 3


def test_hugo_aliases_and_draft() -> None:
    parsed = parse(
        "p.md", yaml_fm("title: P", "draft: true", "aliases:", "  - /old/p/", "  - /p.html")
    )
    assert parsed.meta.draft is True
    assert warnings_of(parsed) == []


# --- dates with an IANA zone name -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("a.md", yaml_fm("title: A", "date: 2024-07-05 10:20 America/New_York")),
        ("a.md", '+++\ntitle = "A"\ndate = "2024-07-05 10:20 America/New_York"\n+++\nBody.\n'),
        ("a.txt", "Title: A\nDate: 2024-07-05 10:20 America/New_York\n\nBody.\n"),
    ],
)
def test_a_date_with_a_zone_name_is_that_wall_time_there(path: str, source: str) -> None:
    parsed = parse(path, source)  # (the site's zone is Berlin's)
    assert parsed.meta.date == utc(2024, 7, 5, 14, 20)
    assert warnings_of(parsed) == []


def test_a_date_with_an_unknown_zone_is_an_error_on_its_line_even_with_a_dated_name() -> None:
    err = parse_error("2024-03-05-a.md", yaml_fm("title: A", "date: 2024-03-05 10:20 Europe/Berln"))
    assert err.line == 3
    assert err.message == (
        "date: unknown time zone 'Europe/Berln' in '2024-03-05 10:20 Europe/Berln'; did you "
        "mean `Europe/Berlin`?"
    )


def test_a_wall_time_the_clocks_skip_is_a_warning_on_its_line() -> None:
    parsed = parse("a.txt", "Title: A\nDate: 2024-03-31 02:30\n\nBody.\n")
    assert parsed.meta.date == utc(2024, 3, 31, 1, 30)  # 03:30 summer time
    assert warnings_of(parsed) == [
        (
            2,
            "date: 2024-03-31 02:30 does not exist in Europe/Berlin (the clocks were put "
            "forward); read as 03:30 (+02:00)",
        )
    ]


# --- keys one typo away from a field: a warning on their line ------------------------------------


def test_misspelt_front_matter_keys_are_warnings_naming_the_line_and_the_key() -> None:
    parsed = parse(
        "x.md", yaml_fm("titel: Hello", "dat: 2024-03-05", "catgories: [News]", "layout: post")
    )
    assert warnings_of(parsed)[:3] == [
        (2, "unknown key `titel`; did you mean `title`?"),
        (3, "unknown key `dat`; did you mean `date`?"),
        (4, "unknown key `catgories`; did you mean `categories`?"),
    ]
    assert parsed.meta.date is None and parsed.meta.categories == ()  # (ignored, as before)


@pytest.mark.parametrize(
    ("path", "source", "line", "message"),
    [
        (
            "y.txt",
            "Title: Plain\nDate: 2024-03-05\nCategroies: News\n\nBody.\n",
            3,
            "unknown key `Categroies`; did you mean `Categories`?",
        ),
        (
            "t.md",
            '+++\ntitle = "T"\npublishdat = 2024-03-05\n+++\nBody.\n',
            3,
            "unknown key `publishdat`; did you mean `publishDate`?",
        ),
        ("e.md", yaml_fm("title: T", "duraton: 20:00"), 3, "did you mean `duration`?"),
        ("d.md", yaml_fm("title: T", "data: 2024-03-05"), 3, "did you mean `date`?"),
    ],
)
def test_misspelt_keys_in_every_format(path: str, source: str, line: int, message: str) -> None:
    [(at, said)] = warnings_of(parse(path, source))
    assert at == line
    assert said.endswith(message)


def test_keys_of_the_sites_own_stay_silent() -> None:
    assert warnings_of(parse("a.md", yaml_fm("title: T", "data: {a: 1}", "mood: calm"))) == []


def test_misspelt_key_warnings_are_bounded() -> None:
    from feedpub.articles.document import MAX_NOTES
    from feedpub.articles.headers import near_miss

    typos = sorted(
        {
            key[:i] + key[i + 1 :]
            for key in ("categories", "description", "translation_key", "external_url")
            for i in range(len(key))
        }
    )
    typos = [t for t in typos if near_miss(t, KNOWN_KEYS)]
    assert len(typos) > MAX_NOTES + 5
    found = warnings_of(parse("a.md", yaml_fm("title: T", *(f"{t}: x" for t in typos))))
    assert len(found) == MAX_NOTES + 1
    assert found[-1] == (None, f"{len(typos) - MAX_NOTES:,} more warning(s) like these not shown")
    assert [line for line, _ in found[:3]] == [3, 4, 5]


# Front matter as each generator's documentation writes it: none of its keys is a near miss.
JEKYLL = """\
---
layout: post
title: Blogging Like a Hacker
permalink: /blog/hacker/
published: true
date: 2024-03-05 10:20:00 +0100
categories: [jekyll, update]
tags: [a, b]
excerpt: A short one.
excerpt_separator: <!--more-->
author: Ada
image: /assets/x.png
redirect_from: /old/
last_modified_at: 2024-03-06
sitemap: false
---
Body.
"""
HUGO_TOML = """\
+++
title = 'Example'
date = 2024-02-02T04:14:54-08:00
draft = false
weight = 10
publishDate = 2024-02-01
expiryDate = 2030-01-01
lastmod = 2024-02-03
aliases = ['/old']
images = ['a.jpg']
series = ['s']
url = '/x/'
slug = 'x'
summary = 'S'
description = 'D'
keywords = ['k']
linkTitle = 'E'
type = 'post'
layout = 'single'
tags = ['a']
categories = ['c']
isCJKLanguage = false
headless = false
markup = 'md'
outputs = ['html']
translationKey = 't'
[params]
author = 'John Smith'
[build]
list = 'always'
[sitemap]
priority = 0.5
+++
Body.
"""
HUGO_YAML = """\
---
title: Example
date: 2024-02-02T04:14:54-08:00
draft: false
weight: 10
publishDate: 2024-02-01
expiryDate: 2030-01-01
lastmod: 2024-02-03
aliases: [/old]
images: [a.jpg]
series: [s]
url: /x/
params:
  author: John Smith
---
Body.
"""
PELICAN = """\
Title: My super title
Date: 2010-12-03 10:20
Modified: 2010-12-05 19:30
Category: Python
Tags: pelican, publishing
Slug: my-super-post
Authors: Alexis Metaireau, Conan Doyle
Summary: Short version for index and feeds
Lang: en
Translation: false
Status: published
Template: custom
Save_as: x.html
Url: x.html

This is the content of my super blog post.
"""


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("2024-03-05-hacker.md", JEKYLL),
        ("example.md", HUGO_TOML),
        ("example.md", HUGO_YAML),
        ("my-super-post.md", PELICAN),
        ("my-super-post.txt", PELICAN),
    ],
)
def test_real_sites_keys_are_never_taken_for_misspellings(path: str, source: str) -> None:
    parsed = parse(path, source)
    assert not [m for _, m in warnings_of(parsed) if "unknown key" in m]
    assert parsed.meta.date is not None


@given(
    key=st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,15}", fullmatch=True),
    value=st.sampled_from(["x", "2024-03-05", "[a, b]", "{a: 1}", "1"]),
)
def test_an_unknown_key_is_a_warning_exactly_when_it_is_a_near_miss(key: str, value: str) -> None:
    from feedpub.articles.headers import near_miss, norm_key, plausible
    from feedpub.articles.metadata import _ALIASES

    assume(norm_key(key) not in _ALIASES and norm_key(key) != "title")
    parsed = parse("a.md", yaml_fm("title: T", f"{key}: {value}"))
    said = [(line, m) for line, m in warnings_of(parsed) if "unknown key" in m]
    meant = near_miss(key, frozenset(_ALIASES))
    import yaml

    loaded = yaml.safe_load(f"v: {value}")["v"]
    if meant is not None and plausible(meant, loaded):
        assert said and said[0][0] == 3 and f"`{key}`" in said[0][1]
    else:
        assert said == []
