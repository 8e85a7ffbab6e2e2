"""feedpub.articles.headers: where a ``Key: value`` header block starts and ends; misspelt keys."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from feedpub.articles.headers import (
    HeaderBlock,
    header_line,
    near_miss,
    norm_key,
    parse_header_block,
)
from feedpub.articles.metadata import KNOWN_KEYS


def block(text: str) -> HeaderBlock | None:
    return parse_header_block(text.split("\n"), KNOWN_KEYS)


# --- examples ---------------------------------------------------------------------------------


def test_the_block_people_type() -> None:
    found = block(
        "CATEGORIES :  tech news ;  Science\n"
        "date:2024-03-11T09:00:00Z\n"
        "Title:   Header Keys In Odd Case And Spacing  \n"
        "\n"
        "Body\n"
    )
    assert found is not None
    assert found.data == {
        "categories": "tech news ;  Science",
        "date": "2024-03-11T09:00:00Z",
        "title": "Header Keys In Odd Case And Spacing",
    }
    assert found.lines == {"categories": 1, "date": 2, "title": 3}
    assert found.end == 4
    assert found.written == {"categories": "CATEGORIES", "date": "date", "title": "Title"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Title: x", ("Title", "title", "x")),
        ("title:x", ("title", "title", "x")),
        ("TITLE  :  x  ", ("TITLE", "title", "x")),
        ("Date:2024-03-11T09:00:00Z", ("Date", "date", "2024-03-11T09:00:00Z")),
        ("Link: http://x.example/a:b", ("Link", "link", "http://x.example/a:b")),
        ("Last Modified: 1", ("Last Modified", "last_modified", "1")),
        ("Layout: post", ("Layout", "layout", "post")),
        ("Layout:", ("Layout", "layout", "")),
        ("Dat:2024-01-01", ("Dat", "dat", "2024-01-01")),  # a near miss may skip the space
        ("http://x.example", None),
        ("mailto:a@example.org", None),
        ("Re:Subject", None),
        ("Layout:post", None),
        (" Title: x", None),
        ("Título: x", None),
        ("2024: a year", None),
        (": x", None),
        ("no colon here", None),
        ("A" * 41 + ": too long a key", None),
        ("A very long sentence, with a comma: then a colon", None),
    ],
)
def test_header_line(line: str, expected: tuple[str, str, str] | None) -> None:
    assert header_line(line, KNOWN_KEYS) == expected


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("Dat", "date"),
        ("Catgories", "categories"),
        ("Titel", "title"),
        ("Tagz", "tags"),
        ("Autor", "author"),
        ("Sumary", "summary"),
        ("Update", "updated"),
        ("Lastmodified", "last_modified"),
        ("Categroy", "category"),
        ("Title", None),
        ("title", None),
        ("Last-Modified", None),
        ("Breaking", None),
        ("Note", None),
        ("Layout", None),
        ("Subtitle", None),
        ("Name", None),
        ("http", None),
        ("ids", None),  # "id" is too short to guess at
        ("", None),
    ],
)
def test_near_miss(key: str, meant: str | None) -> None:
    assert near_miss(key, KNOWN_KEYS) == meant
    assert near_miss(key, sorted(KNOWN_KEYS)) == meant  # any iterable of keys


@pytest.mark.parametrize(
    "text",
    [
        "Breaking: markets fall\n\nText",
        "Update: 3 dead\n\nText",
        "Update: 3 dead\nThe storm killed three.\n\nText",
        "Breaking: markets fall\nDate: 2024-01-01\n\nText",
        "Layout: post\nTitle: T\n\nText",
        "Titel: T\n\nText",  # a lone near miss is a headline too
        "Title: Looks like a header\nbut this is prose\n\nText",
        "Summary: the council met and\nagreed, after a long debate\n",
        "http://example.org\nTitle: T\n",
        "\nTitle: T\n",
        "",
    ],
)
def test_not_a_header_block(text: str) -> None:
    assert block(text) is None


@pytest.mark.parametrize(
    ("text", "data", "end"),
    [
        ("Title: T\nStorm hits\n\nText", {"title": "T"}, 1),
        ("Categories: News\nStorm hits\n\nText", {"categories": "News"}, 1),
        ("Title: T\nhttp://example.org/\n", {"title": "T"}, 1),
        ("Title: T\n# Heading\n", {"title": "T"}, 1),
        ("Title: T\n3 dead\n", {"title": "T"}, 1),
        ("Title: T\neBay sells\n", {"title": "T"}, 1),
        ("Title: T\nDate: 1\nthe story\n", {"title": "T", "date": "1"}, 2),
        ("Title: T\n\nUpdate: later\n", {"title": "T"}, 2),
        ("Title: T\n \nText\n", {"title": "T"}, 2),
        ("Title: T", {"title": "T"}, 1),
        ("Title: T\n", {"title": "T"}, 2),
        ("Title: T\nLayout: post\n\n", {"title": "T", "layout": "post"}, 3),
        ("Tags: a\nTags: b\nTag: c\n\n", {"tags": "a, b", "tag": "c"}, 4),
        ("Title: T\nTitle: U\n\n", {"title": "T"}, 3),
        ("Title: T\n  more\n\tand more\n\nText", {"title": "T\nmore\nand more"}, 4),
        ("Titel: T\nDate: 1\n\n", {"titel": "T", "date": "1"}, 3),
    ],
)
def test_header_block(text: str, data: dict[str, str], end: int) -> None:
    found = block(text)
    assert found is not None
    assert found.data == data
    assert found.end == end


def test_misspelt_keys_are_kept_as_written_with_their_lines() -> None:
    """(The warning about them is the fields' reader's: tests/test_articles_parse.py.)"""
    found = block("Title: T\nLayout: post\nDat: 2024-01-01\nCatgories: x\n\n")
    assert found is not None
    assert found.lines == {"title": 1, "layout": 2, "dat": 3, "catgories": 4}
    assert found.written["catgories"] == "Catgories"


# --- properties --------------------------------------------------------------------------------

KEYS = sorted(KNOWN_KEYS)
# One line of text: anything but a line break (the caller splits the file at "\n").
LINE = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=40)
BLANKS = st.text(" \t", max_size=3)


@st.composite
def spelled(draw: st.DrawFn, key: str) -> str:
    """``key`` as people type it: any case, ``-`` or ``_``, spaces before the colon."""
    chars = [c.upper() if draw(st.booleans()) else c for c in key]
    if "_" in key and draw(st.booleans()):
        chars = ["-" if c == "_" else c for c in chars]
    return "".join(chars) + draw(st.text(" ", max_size=2))


@given(
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=8, unique_by=norm_key).flatmap(
        lambda keys: st.tuples(
            st.just(keys),
            st.tuples(*[spelled(k) for k in keys]),
            st.lists(LINE, min_size=len(keys), max_size=len(keys)),
            st.lists(BLANKS, min_size=len(keys), max_size=len(keys)),
        )
    ),
    st.sampled_from(["\n", "\n  \n", ""]),
    LINE,
)
def test_any_block_of_known_keys_is_read_back(
    parts: tuple[list[str], tuple[str, ...], list[str], list[str]], gap: str, after: str
) -> None:
    keys, spellings, values, spaces = parts
    lines = [f"{s}:{sp}{v}{sp}" for s, sp, v in zip(spellings, spaces, values, strict=True)]
    text = "\n".join(lines) + gap + "\n" + after
    assume(gap.strip("\n") or not after[:1].isspace())  # an indented line would continue it
    assume(gap or len(keys) > 1 or not after.split(None, 1) or after[:1].isupper())
    found = block(text)
    assert found is not None
    assert found.data == {k: v.strip() for k, v in zip(keys, values, strict=True)}
    assert found.lines == {k: i + 1 for i, k in enumerate(keys)}
    body = "\n".join(text.split("\n")[found.end :])
    assert body.strip() == after.strip() or (not gap and body.startswith(after))


# Lines that look like headers, or nearly, or not at all: what the fuzzing below combines.
ROUGH_LINE = st.one_of(
    st.tuples(
        st.sampled_from([*KEYS, "Titel", "Dat", "Tagz", "Update", "Layout", "Breaking", "http"]),
        st.sampled_from([":", ": ", " : ", ":\t", "::", "://"]),
        LINE,
    ).map("".join),
    st.tuples(st.sampled_from([" ", "\t", "    "]), LINE).map("".join),
    st.just(""),
    LINE,
)


@given(st.lists(ROUGH_LINE, max_size=12), LINE)
def test_an_accepted_block_written_out_again_reads_back_the_same(
    lines: list[str], tail: str
) -> None:
    found = parse_header_block(lines, KNOWN_KEYS)
    if found is None:
        return
    in_order = sorted(found.data.items(), key=lambda kv: found.lines.get(kv[0], 0))
    out = [f"{key}: " + value.replace("\n", "\n    ") for key, value in in_order]
    again = block("\n".join(out) + "\n\n" + tail)
    assert again is not None
    known = {k: v for k, v in found.data.items() if k in KNOWN_KEYS}
    assert {k: v for k, v in again.data.items() if k in KNOWN_KEYS} == known


@st.composite
def prose_line(draw: st.DrawFn) -> str:
    """A first line that is no header: no key, a word that is not a field (nor one typo from
    one), or a URL."""
    kind = draw(st.sampled_from(["text", "word", "url"]))
    if kind == "text":
        line = draw(LINE)
        assume(header_line(line, KNOWN_KEYS) is None)
        return line
    if kind == "url":
        scheme = draw(st.sampled_from(["http", "https", "mailto", "tag", "urn", "data"]))
        return f"{scheme}:{draw(LINE)}".replace(":", "://", 1 if scheme.startswith("h") else 0)
    word = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9 _-]{0,20}", fullmatch=True))
    assume(norm_key(word) not in KNOWN_KEYS and near_miss(word, KNOWN_KEYS) is None)
    return f"{word}: {draw(LINE)}"


@given(prose_line(), st.lists(ROUGH_LINE, max_size=8))
def test_a_prose_first_line_never_starts_a_header_block(first: str, rest: list[str]) -> None:
    assume(not first.startswith(("tag:", "data:")) or header_line(first, KNOWN_KEYS) is None)
    assert parse_header_block([first, *rest], KNOWN_KEYS) is None


@given(st.text(max_size=300))
def test_any_text_is_a_block_or_none(text: str) -> None:
    lines = text.split("\n")
    found = parse_header_block(lines, KNOWN_KEYS)
    if found is None:
        return
    assert 1 <= found.end <= len(lines)
    assert all(1 <= line <= found.end for line in found.lines.values())
    assert set(found.written) == set(found.data)
    assert set(found.lines) == set(found.data)
    assert found.lines[next(iter(found.data))] == 1


MB = 1_000_000


@pytest.mark.parametrize(
    "text",
    [
        "a" * MB,
        ":" * MB,
        "Title:" + " " * MB + "x",
        "Title: " + "x:" * (MB // 2),
        "T" * 40 + ":" + "x" * MB,
        ("T" * 39 + " ") * (MB // 40),
        "Title: x\n" + " " * MB + "y",
        "Title: x\n" + "y" * MB,
        "a " * (MB // 2),
    ],
    ids=lambda t: repr(t[:12]),
)
def test_a_megabyte_line_is_read_in_well_under_a_second(text: str) -> None:
    lines = text.split("\n")
    start = time.perf_counter()
    parse_header_block(lines, KNOWN_KEYS)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "\n" * MB,
        "Title: x\n" + " v\n" * (MB // 3),
        "Title: x\n" + "k: v\n" * (MB // 5),
        "Title: x\n" + "Tagz: v\n" * (MB // 8),
    ],
    ids=lambda t: repr(t[:12]),
)
def test_a_megabyte_of_short_lines_takes_time_in_proportion(text: str) -> None:
    """Hundreds of thousands of header lines: linear (a few microseconds a line)."""
    lines = text.split("\n")
    start = time.perf_counter()
    parse_header_block(lines, KNOWN_KEYS)
    assert time.perf_counter() - start < 3


# --- Pelican: values continued on indented lines ------------------------------------------------


def test_pelican_values_continue_on_indented_lines() -> None:
    """Python-Markdown's meta extension (which Pelican uses): a line indented by four spaces
    continues the value above; a key may have nothing after its colon."""
    found = block(
        "Title: Moving the blog\n"
        "Date: 2024-05-02 10:20\n"
        "Summary:\n"
        "    Why we left the shared host,\n"
        "    and what it cost.\n"
        "Multiline: one\n"
        "    two\n"
        "Authors: Ana Lima\n"
        "         Ben Okafor\n"
        "\n"
        "Body\n"
    )
    assert found is not None
    assert found.data == {
        "title": "Moving the blog",
        "date": "2024-05-02 10:20",
        "summary": "\nWhy we left the shared host,\nand what it cost.",
        "multiline": "one\ntwo",
        "authors": "Ana Lima\nBen Okafor",
    }
    assert found.lines == {"title": 1, "date": 2, "summary": 3, "multiline": 6, "authors": 8}
    assert found.end == 10  # the body's first line (0-based), after the blank one


def test_an_unknown_first_key_stays_text_even_when_continued() -> None:
    """The rule that keeps headlines text holds for a continued first line too."""
    assert block("Multiline: one\n    two\nTitle: T\n\nBody\n") is None


@given(st.lists(st.text(st.characters(exclude_characters="\n"), max_size=20), max_size=30))
def test_continuation_lines_are_the_value_whatever_they_hold(more: list[str]) -> None:
    lines = ["Title: T", "Summary: first", *("    " + m for m in more), "Date: 2024-01-01", ""]
    found = parse_header_block(lines, KNOWN_KEYS)
    assert found is not None
    parts = ["first", *(m.strip() for m in more)]
    # a blank (or all-space) line ends the block: what follows it is the body
    if any(not m.strip() for m in more):
        cut = next(i for i, m in enumerate(more) if not m.strip())
        parts = parts[: cut + 1]
        assert "date" not in found.data
    else:
        assert found.data["date"] == "2024-01-01"
    assert found.data["summary"] == "\n".join(parts)  # (it starts with "first": never quoted)
    assert found.data["title"] == "T"


def test_a_hundred_thousand_continuation_lines_stay_linear() -> None:
    lines = ["Title: T", "Summary: s", *["    more words"] * 100_000, "Date: 2024-01-01", ""]
    start = time.perf_counter()
    found = parse_header_block(lines, KNOWN_KEYS)
    assert time.perf_counter() - start < 1
    assert found is not None
    assert found.data["date"] == "2024-01-01"
    assert found.data["summary"].count("\n") == 100_000
