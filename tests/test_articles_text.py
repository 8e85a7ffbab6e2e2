"""feedpub.articles.text: bytes -> clean text, and XML-safe text."""

from __future__ import annotations

import codecs
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from feedpub.articles.text import (
    collapse_spaces,
    decode,
    line_of,
    without_bidi_controls,
    xml_safe,
)
from feedpub.errors import ArticleError


def xml_char_ok(c: str) -> bool:
    """XML 1.0 ``Char``, straight from the specification."""
    o = ord(c)
    return (
        o in (0x9, 0xA, 0xD)
        or 0x20 <= o <= 0xD7FF
        or 0xE000 <= o <= 0xFFFD
        or 0x10000 <= o <= 0x10FFFF
    )


# Every code point, surrogates included, weighted towards the troublesome ones.
ANY_CHAR = st.characters(codec=None, categories=None) | st.sampled_from(
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\x84", "\x85", "\x9f", "\ud800",
     "\udfff", "\ufffe", "\uffff", "\ufeff", "\u2028", "\t", "\n", "\r", "\U0010ffff", "é"]
)  # fmt: skip
ANY_TEXT = st.text(ANY_CHAR, max_size=200)

# Text decode() must give back unchanged: no control characters (tab and LF are fine), no CR
# (line ends are normalised), no U+FEFF (a leading one is a BOM), no non-characters.
PLAIN_CHAR = st.characters(
    codec="utf-8",
    exclude_categories=["Cc", "Cs"],
    exclude_characters="\ufeff\ufffe\uffff",
) | st.sampled_from(["\t", "\n", "é", "日", "\U0001f600", "\u2028", "\x85"])
PLAIN_TEXT = st.text(PLAIN_CHAR, min_size=1, max_size=200).filter(lambda t: t.strip() != "")


# --- xml_safe -----------------------------------------------------------------------------------


@given(ANY_TEXT)
def test_xml_safe_leaves_only_xml_characters(text: str) -> None:
    safe = xml_safe(text)
    assert all(xml_char_ok(c) for c in safe)


@given(ANY_TEXT)
def test_xml_safe_text_goes_into_an_lxml_element_and_back(text: str) -> None:
    safe = xml_safe(text)
    element = etree.Element("entry")
    element.text = safe
    element.set("title", safe)
    parsed = etree.fromstring(etree.tostring(element, encoding="utf-8"))
    assert (parsed.text or "") == safe
    assert parsed.get("title") == safe


@given(ANY_TEXT)
def test_xml_safe_only_removes(text: str) -> None:
    safe = xml_safe(text)
    assert xml_safe(safe) == safe
    assert len(safe) <= len(text)
    it = iter(text)
    assert all(c in it for c in safe)  # a subsequence of the input


@given(st.text(PLAIN_CHAR, max_size=100))
def test_xml_safe_keeps_ordinary_text(text: str) -> None:
    assert xml_safe(text) == text


def removed(c: str) -> bool:
    """What xml_safe removes: what XML cannot carry, and C1 controls and DEL (legal, never
    meant in prose)."""
    return not xml_char_ok(c) or ("\x7f" <= c <= "\x9f" and c != "\x85")


# long enough for xml_safe's check in C (shorter text goes straight to the regular expression)
LONG_TEXT = st.tuples(ANY_TEXT, st.text(PLAIN_CHAR, min_size=201, max_size=400), ANY_TEXT).map(
    "".join
)


@given(LONG_TEXT | st.text(PLAIN_CHAR, min_size=201, max_size=400))
def test_xml_safe_removes_exactly_those_characters(text: str) -> None:
    assert xml_safe(text) == "".join(c for c in text if not removed(c))


@given(LONG_TEXT.filter(lambda t: "\x00" not in t and t.strip() != ""))
def test_decode_removes_exactly_those_characters(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    normalised = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in normalised if not removed(c))
    try:
        decoded, warnings = decode(data, "a.md")
    except ArticleError:  # an encoded surrogate is no UTF-8; nothing left is an empty file
        assert any("\ud800" <= c <= "\udfff" for c in text) or not kept.strip()
        return
    assert decoded == kept
    assert bool(warnings) == (kept != normalised)


@given(
    st.text(st.sampled_from([" ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u3000", "a", "é"]))
)
def test_collapse_spaces_is_one_space_for_each_run_of_whitespace(text: str) -> None:
    assert collapse_spaces(text) == re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x00b", "ab"),
        ("tab\there\nnew\rline", "tab\there\nnew\rline"),
        ("\x0b\x0c\x1f", ""),
        ("del\x7f", "del"),
        ("c1\x80\x9f", "c1"),
        ("nel\x85", "nel\x85"),
        ("\ufffe\uffff", ""),
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("emoji \U0001f600", "emoji \U0001f600"),
        ("\ufffd", "\ufffd"),
    ],
)
def test_xml_safe_examples(text: str, expected: str) -> None:
    assert xml_safe(text) == expected


# --- bidi controls ------------------------------------------------------------------------------

BIDI_CONTROL_CHARS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Invoice\u202efdp.exe", "Invoicefdp.exe"),  # RLO: shown as "Invoiceexe.pdf"
        ("".join(f"{c}x" for c in BIDI_CONTROL_CHARS), "x" * 9),
        ("\u2067שלום\u2069 world", "שלום world"),
    ],
)
def test_bidi_controls_are_removed(text: str, expected: str) -> None:
    assert without_bidi_controls(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f469\u200d\U0001f4bb coder",  # ZWJ emoji sequence
        "می\u200cخواهم",  # Persian with ZWNJ
        "abc\u200e\u200f\u061c",  # LRM, RLM, ALM: marks, not controls
        "עברית and English",
        "العربية",
    ],
)
def test_joiners_marks_and_right_to_left_text_stay(text: str) -> None:
    assert without_bidi_controls(text) == text


@given(ANY_TEXT)
def test_without_bidi_controls_removes_exactly_those(text: str) -> None:
    out = without_bidi_controls(text)
    assert out == "".join(c for c in text if c not in BIDI_CONTROL_CHARS)
    assert without_bidi_controls(out) == out


def test_line_of() -> None:
    text = "one\ntwo\nthree"
    assert [line_of(text, i) for i in (0, 3, 4, 8, len(text))] == [1, 1, 2, 3, 3]


# --- decode -------------------------------------------------------------------------------------


@given(PLAIN_TEXT)
def test_decode_round_trips_utf8(text: str) -> None:
    decoded, warnings = decode(text.encode("utf-8"), "a.md")
    assert decoded == text
    assert warnings == []


@given(PLAIN_TEXT)
def test_decode_round_trips_utf8_with_bom(text: str) -> None:
    decoded, warnings = decode(codecs.BOM_UTF8 + text.encode("utf-8"), "a.md")
    assert decoded == text
    assert warnings == []


@given(PLAIN_TEXT, st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]))
def test_decode_round_trips_utf16_with_a_warning(text: str, codec: str) -> None:
    data = text.encode(codec)
    if codec != "utf-16":  # the plain "utf-16" codec writes its own BOM
        data = "\ufeff".encode(codec) + data
    decoded, warnings = decode(data, "a.md")
    assert decoded == text
    assert [line for line, _ in warnings] == [1]


LINE = st.text(PLAIN_CHAR.filter(lambda c: c != "\n"), max_size=30)


@given(st.lists(LINE, min_size=1, max_size=6), st.sampled_from(["\r\n", "\r", "\n"]))
def test_decode_normalises_line_ends(lines: list[str], sep: str) -> None:
    decoded, _ = decode(("x" + sep.join(lines)).encode(), "a.md")
    assert decoded == "x" + "\n".join(lines)


def try_decode(data: bytes) -> tuple[str, list[tuple[int, str]]] | ArticleError:
    try:
        return decode(data, "x/a.md")
    except ArticleError as e:
        return e


@given(st.binary(max_size=300))
def test_decode_any_bytes_gives_clean_text_or_an_article_error(data: bytes) -> None:
    result = try_decode(data)
    if isinstance(result, ArticleError):
        assert result.path == "x/a.md"
        return
    text, warnings = result
    assert text.strip()
    assert "\r" not in text
    assert all(xml_char_ok(c) for c in text)
    for line, message in warnings:
        assert 1 <= line <= text.count("\n") + 1 or "control" in message


@given(ANY_TEXT.filter(lambda t: "\x00" not in t))
def test_decode_of_any_utf8_text_is_xml_safe(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    try:
        decoded, _ = decode(data, "a.md")
    except ArticleError:
        return
    assert all(xml_char_ok(c) for c in decoded)


def test_decode_warns_about_control_characters_on_their_line() -> None:
    text, warnings = decode(b"one\ntwo\nth\x01ree\x02\nfour\x1b\n", "a.md")
    assert text == "one\ntwo\nthree\nfour\n"
    [(line, message)] = warnings
    assert line == 3
    assert "3 control character" in message
    assert "U+0001" in message


def test_decode_control_character_line_counts_crlf_once() -> None:
    _, [(line, _)] = decode(b"a\r\nb\r\n\x07c\r\n", "a.md")
    assert line == 3


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"\xff", 1),
        (b"ok\n\xc3\x28", 2),
        (b"ok\nok\nok\n\xe2\x82", 4),
        (b"\xef\xbb\xbfok\n\xed\xa0\x80", 2),  # an encoded surrogate is not UTF-8
        (b"ok\n\xc0\xaf", 2),  # overlong
    ],
)
def test_decode_refuses_invalid_utf8_with_its_line(data: bytes, line: int) -> None:
    with pytest.raises(ArticleError) as info:
        decode(data, "p/a.md")
    assert info.value.path == "p/a.md"
    assert info.value.line == line
    assert "UTF-8" in info.value.message


@pytest.mark.parametrize(
    "data", [b"", b" \n\t\r\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"\x01\x02"]
)
def test_decode_refuses_empty(data: bytes) -> None:
    with pytest.raises(ArticleError, match="empty"):
        decode(data, "a.md")


def test_decode_refuses_binary() -> None:
    with pytest.raises(ArticleError, match="binary"):
        decode(b"GIF89a\x00\x01", "a.md")


def test_decode_odd_length_utf16() -> None:
    with pytest.raises(ArticleError, match="UTF-16"):
        decode(codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"\x00", "a.md")
