"""feedpub.articles.flat_yaml: flat front matter read without PyYAML gives exactly what PyYAML
gives (feedpub's loader: numbers as written, bad dates as text), or None (PyYAML reads it).

The blocks are built from what front matter holds and from what could trip a reader of it:
every scalar kind YAML 1.1 resolves (booleans yes/no/on/off, nulls, ints and floats in every
notation, timestamps real and impossible, merge and value keys), quoted scalars with every
escape (and refused ones), flow and block lists, comments, indicators, tabs and the line
breaks YAML has besides "\\n"."""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from feedpub.articles.flat_yaml import MAX_FLAT_CHARS, read_flat_yaml
from feedpub.articles.frontmatter_io import _load_yaml
from feedpub.articles.parse import ParseContext, parse_article
from feedpub.errors import ArticleError


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (a date is no datetime, True is no 1,
    an offset of +01:00 is no UTC), dict keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime):
        return bool(a == b and a.tzinfo == b.tzinfo and a.utcoffset() == b.utcoffset())
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def pyyaml(block: str) -> Any:
    """What feedpub's PyYAML loader makes of ``block`` (None where it refuses it)."""
    try:
        return _load_yaml(block, "t.md", 2)
    except (ArticleError, UnicodeEncodeError):  # (a lone surrogate: decoding removes them)
        return None


def check(block: str) -> Any:
    got = read_flat_yaml(block)
    if got is not None:
        expected = pyyaml(block)
        assert same(got, expected), (block, got, expected)
    return got


# -- scalars -------------------------------------------------------------------------------

WORDS = "yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF y n yEs tRUE"
NULLS = "~ null Null NULL nULL none None"
NUMBERS = "0 7 012 08 0o17 0x1F 0xG 0b101 0b2 1_000 -5 +3 -0 1:30 190:20:30 1:60 3.10 1e3 1.0e+3"
FLOATS = ".inf -.Inf +.INF .nan .NaN .5 1_0.5 1:30.5 6.8523015e+5 1.0e3"
RESOLVED = [
    # booleans (YAML 1.1) and words that are not, nulls, numbers (feedpub keeps them as written)
    *f"{WORDS} {NULLS} {NUMBERS} {FLOATS}".split(),
    # timestamps, real and not
    "2024-01-02",
    "2024-1-2",
    "2024-02-30",
    "2024-13-01",
    "0000-01-01",
    "2024-01-02T10:20:30",
    "2024-01-02t10:20:30Z",
    "2024-01-02 10:20:30",
    "2024-01-02   10:20:30.5   +5",
    "2024-1-2 1:20:30.123456789-08:30",
    "2024-01-02T25:00:00",
    "2024-01-02T10:20:30+24:00",
    "2024-01-02T10:20:30+23:59",
    "2024-01-02T10:20:30 Z",
    "2024-01-02T10:20:30.",
    "2024-01-02T10:20",
    "2024-01-02 10:20:30 +0100",
    "9999-12-31T23:59:59.999999-23:59",
    # keys of their own
    "<<",
    "=",
    "<<x",
    "==",
]
# characters that mean something somewhere in YAML, or are not read at all
ODD = [
    ":",
    ": ",
    " #",
    "#",
    "-",
    "- ",
    "?",
    ",",
    "[",
    "]",
    "{",
    "}",
    "&",
    "*",
    "!",
    "|",
    ">",
    "'",
    '"',
    "%",
    "@",
    "`",
    "\\",
    "\t",
    "\r",
    "\x85",
    "\u2028",
    "\ufeff",
    "\xa0",
    "\x00",
    "\x7f",
    "\ud800",
    "é",
    "日本",
    "\U0001f600",
    "  ",
]
WORD = st.text("abcXYZ019 ._/", min_size=1, max_size=6)
TEXT = st.lists(st.sampled_from(ODD) | WORD, max_size=6).map("".join)
# what flat front matter holds, mostly: characters that matter only in some places
TAME_TEXT = st.lists(
    WORD | st.sampled_from(["é", "日本", "-", ":", "#", ",", "?", "'"]), min_size=1, max_size=6
).map("".join)
ESCAPES = [
    *(f"\\{c}" for c in '0abtnvfre "/\\N_LP'),
    "\\\t",
    "\\x41",
    "\\xe9",
    "\\x7F",
    "\\u00e9",
    "\\U0001F600",
    "\\U0010FFFF",
    "\\U00110000",
    "\\ud800",
    "\\uDFFF",
    "\\x4",
    "\\u12",
    "\\q",
    "\\'",
    "\\",
]
TRAILERS = ["", " ", "   ", " # a comment", "# no space", " x", "  #", ":", " : x"]


@st.composite
def scalars(draw: st.DrawFn, *, tame: bool, flow: bool = False) -> str:
    text_ = TAME_TEXT if tame else TEXT
    kind = draw(st.sampled_from(["resolved", "plain", "double", "single"]))
    if kind == "resolved":
        text = draw(st.sampled_from(RESOLVED))
    elif kind == "plain":
        text = draw(text_)
    elif kind == "double":
        escapes = st.sampled_from(ESCAPES[:24] if tame else ESCAPES)
        text = '"' + draw(st.lists(escapes | text_, max_size=4).map("".join)) + '"'
    else:
        text = "'" + draw(text_).replace("'", draw(st.sampled_from(["''", "'"]))) + "'"
    return text if flow else text + draw(st.sampled_from(TRAILERS[:4] if tame else TRAILERS))


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """Timestamps in every shape YAML 1.1 reads, their parts in and out of range."""
    width = st.sampled_from([1, 2])
    year, month, day_ = (
        draw(st.integers(0, 9999)),
        draw(st.integers(0, 19)),
        draw(st.integers(0, 39)),
    )
    day = f"{year:04d}-{month:0{draw(width)}d}-{day_:0{draw(width)}d}"
    if draw(st.booleans()):
        return day
    sep = draw(st.sampled_from(["T", "t", " ", "   "]))
    clock = (
        f"{draw(st.integers(0, 29))}:{draw(st.integers(0, 69)):02d}:{draw(st.integers(0, 69)):02d}"
    )
    fraction = draw(st.sampled_from(["", ".", ".5", ".123456", ".1234567891"]))
    zone = draw(
        st.sampled_from(["", "Z", " Z", "+1", "-08:30", " +05:45", "+24", "-23:59", "+00:00"])
    )
    return day + sep + clock + fraction + zone


TAME_KEYS = st.sampled_from(
    ["title", "date", "tags", "Title", "k-1", "_x", "on", "yes", "No", "null", "y", "x1"]
)
KEYS = TAME_KEYS | st.sampled_from(
    ["key with space", '"q"', "'q'", "1", "-k", "k:", "a b:c", "<<", "? k"]
)


@st.composite
def values(draw: st.DrawFn, *, tame: bool) -> list[str]:
    """A value as the lines it takes (the first one follows ``key:``)."""
    kind = draw(st.sampled_from(["scalar", "scalar", "timestamp", "flow", "block", "empty"]))
    if kind == "scalar":
        return [" " + draw(scalars(tame=tame))]
    if kind == "timestamp":
        return [" " + draw(timestamps())]
    if kind == "flow":
        items = draw(st.lists(scalars(tame=tame, flow=True) | timestamps(), max_size=4))
        sep = draw(st.sampled_from([", ", ",", " , ", ",  "]))
        ends = ["]", " ]", ", ]", "] # c", "]]"]
        return [" [" + sep.join(items) + draw(st.sampled_from(ends[:2] if tame else ends))]
    if kind == "block":
        indent = draw(st.sampled_from(["", "  ", "    "]))
        lines = [""]
        for item in draw(st.lists(scalars(tame=tame) | timestamps(), min_size=1, max_size=4)):
            lines.append(draw(st.sampled_from([indent] if tame else [indent, " "])) + "- " + item)
            if draw(st.integers(0, 5)) == 0:
                lines.append(draw(st.sampled_from(["", "  # c", "-", "  more", indent + "-x"])))
        return lines
    return [draw(st.sampled_from(["", " ", " # c"]))]


@st.composite
def blocks(draw: st.DrawFn, *, tame: bool = False) -> str:
    """Front matter blocks; ``tame``: most of them flat (what front matter mostly is)."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        choice = draw(st.integers(0, 7 if tame else 9))
        if choice < 7:
            first, *more = draw(values(tame=tame))
            lines.append(draw(TAME_KEYS if tame else KEYS) + ":" + first)
            lines.extend(more)
        elif choice == 7:
            lines.append(draw(st.sampled_from(["", "   ", "# comment", "  # indented comment"])))
        else:  # lines no flat block has
            lines.append(
                draw(
                    st.sampled_from(
                        ["  indented: x", "- orphan", "%YAML 1.1", "--- x", "key:value", "...x"]
                    )
                )
            )
    return "\n".join(lines)


# -- the properties ------------------------------------------------------------------------


@given(blocks() | blocks(tame=True))
@example("title: Hello\ndate: 2024-01-02\ntags: [a, b]\n")
@example("tags:\n- a\n- 'b'\n  # c\n\nnext: ~")
@example('title: "a \\"b\\" \\u00e9"  # c\non: yes\nno: NULL\n1x: 012')
@example("a: 1\na: 2\nb: [x, ' y ']")
def test_flat_reader_gives_what_pyyaml_gives_or_nothing(block: str) -> None:
    check(block)


@given(st.lists(st.sampled_from(ODD) | TEXT | KEYS | st.sampled_from([": ", "\n"])).map("".join))
def test_flat_reader_on_any_text(block: str) -> None:
    check(block)


@given(timestamps())
def test_timestamps_as_pyyaml_makes_them(text: str) -> None:
    for block in (f"d: {text}", f"d: [{text}]", f"d:\n - {text}"):
        check(block)


@given(st.sampled_from(RESOLVED), st.sampled_from(["k: {}", "k: [{}]", "{}: k", "k:\n- {}"]))
def test_every_resolved_kind(scalar: str, shape: str) -> None:
    check(shape.format(scalar))


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            'title: "Hello, world"\ndate: 2025-06-19T07:37:00+00:00\ncategories: [A, B c]\n'
            "tags: [t1]\nauthor: José Núñez\nsummary: 'It''s'",
            {
                "title": "Hello, world",
                "date": datetime.fromisoformat("2025-06-19T07:37:00+00:00"),
                "categories": ["A", "B c"],
                "tags": ["t1"],
                "author": "José Núñez",
                "summary": "It's",
            },
        ),
        ("id: 0123\nversion: 3.10\ndraft: no", {"id": "0123", "version": "3.10", "draft": False}),
        ("date: 2024-02-30\nday: 2024-02-29", {"date": "2024-02-30", "day": date(2024, 2, 29)}),
        ("tags:\n  - a\n  - b\nlink:", {"tags": ["a", "b"], "link": None}),
        ("on: x\nnull: y\nyes: [no, ~, null]", {True: [False, None, None], None: "y"}),
    ],
)
def test_common_front_matter_is_read_flat(block: str, expected: dict[Any, Any]) -> None:
    got = read_flat_yaml(block)
    assert got is not None
    assert same(got, pyyaml(block))
    assert same(got, expected)


@pytest.mark.parametrize(
    "block",
    [
        "a: &x 1\nb: *x",  # aliases: PyYAML counts what they expand to first
        "a: |\n  text",
        "a: >\n  text",
        "a: !!str 1",
        "a: b: c",
        "a: [1, [2]]",
        "a: {b: c}",
        "a: x\n  continued",
        "a:\n  b: c",
        "a:\tb",
        "a: b\u2028c",
        "a: -1",
        "a: <<",
        "a: =",
        '"a": b',
        "a: [x, ]",
        "a: 'unclosed",
        'a: "\\q"',
        "x" * MAX_FLAT_CHARS + ": y",
    ],
)
def test_what_it_leaves_to_pyyaml(block: str) -> None:
    assert read_flat_yaml(block) is None


# -- whole articles, with and without the flat reader ----------------------------------------

ROOT = Path(__file__).resolve().parent.parent
FLAT = ParseContext(tz=ZoneInfo("Europe/Berlin"), base_url="https://example.org/blog/")
PYYAML_ONLY = replace(FLAT, flat_yaml=False)
ARTICLE_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".html", ".htm")
FRONT_MATTER_CASES = ("yaml", "toml", "headers", "date", "author", "categories", "slug", "title")


def _benchmark_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def _outcome(path: str, data: bytes, ctx: ParseContext) -> tuple[str, Any]:
    try:
        parsed = parse_article(path, data, ctx)
    except ArticleError as e:
        return ("error", (e.message, e.line))
    # (dataclass equality compares datetimes as instants; their reprs show the zones too)
    return ("parsed", (parsed, repr(parsed)))


def _varied_corpus(tmp_path: Path) -> list[tuple[str, bytes]]:
    """Every article file that ships with feedpub or its tests (Jekyll, Hugo and Pelican
    sites, good and bad files), 300 generated articles (benchmarks/gen_corpus.py), and the
    hostile front matter of benchmarks/bench_hostile.py at 20 KB."""
    files: list[tuple[str, bytes]] = []
    for folder in (ROOT / "articles", ROOT / "tests" / "data"):
        for path in sorted(folder.rglob("*")):
            name = path.name.removesuffix(".bin")
            if path.is_file() and name.endswith(ARTICLE_SUFFIXES):
                files.append((path.relative_to(ROOT).as_posix(), path.read_bytes()))
    gen = _benchmark_module("gen_corpus")
    gen.generate(tmp_path, 300, words=80)
    for path in sorted((tmp_path / "articles").rglob("*.md")):
        files.append((path.relative_to(tmp_path).as_posix(), path.read_bytes()))
    hostile = _benchmark_module("bench_hostile")
    for name, (suffix, make) in hostile.CASES.items():
        if name.startswith(FRONT_MATTER_CASES):
            data = make(20_000).encode("utf-8", "replace")
            files.append((f"hostile/{len(files)}{suffix}", data))
    return files


def test_articles_parse_alike_with_and_without_the_flat_reader(tmp_path: Path) -> None:
    files = _varied_corpus(tmp_path)
    assert len(files) > 350
    flat = 0
    for path, data in files:
        assert _outcome(path, data, FLAT) == _outcome(path, data, PYYAML_ONLY), path
        text = data.decode("utf-8", "replace")
        if text.startswith("---\n") and read_flat_yaml(text[4:].split("\n---\n", 1)[0]):
            flat += 1
    assert flat >= 300  # (the generated articles, and most of the others)
