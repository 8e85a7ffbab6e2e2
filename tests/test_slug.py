"""feedpub.slug.slugify: Unicode-aware, file-name-safe, bounded, never a path."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.slug import MAX_SLUG_BYTES, MAX_SLUG_CHARS, slugify

FORBIDDEN = set('/\\:*?"<>|\x00')
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(10)
}

ANY_TEXT = st.lists(
    st.characters(codec=None, categories=None)
    | st.sampled_from([*'/\\:*?"<>|.-_ \x00\u0301\u0307', "..", "CON", "İ", "ß", "ﬁ", "日本", "é"])
    | st.sampled_from(["con", "com1", "word", "-" * 30, "日" * 70, "x" * 79]),
    max_size=60,
).map("".join)


@given(ANY_TEXT)
def test_slug_is_never_empty_and_bounded(text: str) -> None:
    slug = slugify(text)
    assert slug
    assert len(slug) <= MAX_SLUG_CHARS == 80
    assert len(slug.encode("utf-8")) <= MAX_SLUG_BYTES == 180


@given(ANY_TEXT)
def test_slug_is_a_safe_file_name(text: str) -> None:
    slug = slugify(text)
    assert not FORBIDDEN & set(slug)
    assert slug not in (".", "..")
    assert "." not in slug
    assert not any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in slug)
    assert slug == slug.strip()
    assert not slug.startswith(("-", "_"))
    assert not slug.endswith(("-", "_", " ", "."))
    assert "--" not in slug
    assert slug.split(".")[0].lower() not in WINDOWS_RESERVED
    assert slug == slug.casefold() or not slug.isascii()
    slug.encode("utf-8")  # no lone surrogates


@given(ANY_TEXT)
def test_slug_is_idempotent(text: str) -> None:
    slug = slugify(text)
    assert slugify(slug) == slug


@given(ANY_TEXT)
def test_slug_is_deterministic(text: str) -> None:
    assert slugify(text) == slugify(text)
    assert slugify(text, fallback_prefix="item") == slugify(text)


@given(st.text(st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=40))
def test_letters_and_digits_are_kept(text: str) -> None:
    slug = slugify(text)
    if len(slug) < MAX_SLUG_CHARS and not slug.startswith("item-"):
        # letters, digits, "-" and "_", and the combining marks some letters casefold into
        assert all(c in "-_" or unicodedata.category(c)[0] in "LNM" for c in slug), slug


@given(st.text(st.sampled_from("!@#$%^&*()[]{}.,;:'\"/\\|<>?`~ \t\n-"), max_size=30))
def test_text_without_letters_gets_a_hash_slug(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(r"item-[0-9a-f]{8}", slug)
    assert slugify(text, fallback_prefix="article").startswith("article-")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café Culture", "café-culture"),
        ("日本", "日本"),
        ("Hello, World!", "hello-world"),
        ("  many   spaces  ", "many-spaces"),
        ("snake_case_name", "snake_case_name"),
        ("Straße", "strasse"),
        ("ﬁsh", "fish"),
        ("Cafe\u0301", "café"),  # NFKC composes
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("2024 Review", "2024-review"),
        ("release-0.1", "release-0-1"),
        ("C++ & C#", "c-c"),
        ("Ελληνικά", "ελληνικά"),
        ("Русский текст", "русский-текст"),
        ("ไทย ภาษา", "ไทย-ภาษา"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert slugify(text) == expected


@pytest.mark.parametrize(
    "name", ["CON", "con", "Prn", "AUX", "NUL", "COM1", "lpt9", "com¹", "CON.txt"]
)
def test_windows_reserved_names_are_avoided(name: str) -> None:
    slug = slugify(name)
    assert slug.split("-")[0] != slug or slug.lower() not in WINDOWS_RESERVED
    assert slug not in WINDOWS_RESERVED
    assert slug.split(".")[0] not in WINDOWS_RESERVED


@pytest.mark.parametrize(
    "text", ["../../etc", "..", ".", "../", "/etc/passwd", "a/../b", "C:\\Windows\\x", ".hidden"]
)
def test_paths_are_flattened(text: str) -> None:
    slug = slugify(text)
    assert "." not in slug
    assert "/" not in slug
    assert "\\" not in slug
    assert ":" not in slug


def test_path_traversal_example() -> None:
    assert slugify("../../etc") == "etc"


@pytest.mark.parametrize("text", ["!!!", "", "   ", "---", "___", "...", "\x00"])
def test_hash_based_fallback(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(r"item-[0-9a-f]{8}", slug)


def test_hash_fallback_differs_per_input_and_prefix() -> None:
    assert slugify("!!!") != slugify("???")
    assert slugify("!!!", fallback_prefix="article").startswith("article-")
    assert slugify("!!!")[5:] == slugify("!!!", fallback_prefix="article")[8:]


def test_long_text_is_cut_at_a_word_boundary() -> None:
    slug = slugify(" ".join(["word"] * 40))
    assert len(slug) <= MAX_SLUG_CHARS
    assert slug.endswith("word")
    assert not slug.endswith("-")


def test_long_cjk_text_is_cut_by_bytes() -> None:
    slug = slugify("日" * 200)
    assert slug == "日" * 60  # 3 bytes each: 180 bytes
    assert len(slug.encode()) == MAX_SLUG_BYTES


def test_long_single_word_is_cut_at_the_limit() -> None:
    assert slugify("a" * 500) == "a" * MAX_SLUG_CHARS


@pytest.mark.parametrize(
    "word",
    ["हिन्दी", "العَرَبِيَّة", "עִבְרִית", "İstanbul", "தமிழ்", "ǰob"],
)
def test_words_with_combining_marks_stay_one_word(word: str) -> None:
    assert "-" not in slugify(word)


def test_casefolding_that_decomposes_is_normalised_again() -> None:
    # found by hypothesis: "ß" casefolds to "ss", and an accent after it then composes
    assert slugify("ß\u0301") == slugify(slugify("ß\u0301")) == "s\u015b"
