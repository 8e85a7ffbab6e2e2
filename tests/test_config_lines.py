"""The line of each key of a config file (:mod:`feedpub.config.lines`): found for tables,
keys, dotted keys and inline tables, never fooled by strings, comments or arrays; no line
rather than a wrong one."""

from __future__ import annotations

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.config.lines import key_lines

TEXT = """\
# a comment: [site] title = "not this"
[site]
title = "T"   # title = "nor this"
'base_url' = "https://e.org/"
description = \"\"\"
title = "inside a string"
[feeds]
\"\"\"
author = '''
[paths]'''

[feeds]
formats = [
  "atom",  # "rss"
  "rss",
]
categories."Release Notes".title = "Notes"
categories.News = { title = "N", podcast = { image = "x.jpg", explicit = false } }

[feeds.categories."a.b"]
content = "summary"

[[odd]]
x = 1
"""


def test_tables_keys_dotted_keys_and_inline_tables() -> None:
    lines = key_lines(TEXT, tomllib.loads(TEXT))
    assert lines[("site",)] == 2
    assert lines[("site", "title")] == 3
    assert lines[("site", "base_url")] == 4
    assert lines[("site", "description")] == 5
    assert lines[("site", "author")] == 9
    assert lines[("feeds",)] == 12
    assert lines[("feeds", "formats")] == 13
    assert lines[("feeds", "categories", "Release Notes", "title")] == 17
    assert lines[("feeds", "categories", "Release Notes")] == 17
    assert lines[("feeds", "categories", "News", "podcast", "explicit")] == 18
    assert lines[("feeds", "categories", "a.b")] == 20
    assert lines[("feeds", "categories", "a.b", "content")] == 21
    assert ("paths",) not in lines  # (only in a string)
    assert ("odd", "x") not in lines  # an array of tables: no line rather than a guess


def test_text_it_cannot_read_gives_no_lines() -> None:
    assert key_lines("a = 1\n", {"b": 1}) == {}
    assert key_lines("[site\n", {}) == {}


_NAME = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8
)
_SCALAR = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
)


def _str(text: str) -> str:
    """A TOML basic string."""
    escaped = (
        c if c not in '"\\' and c.isprintable() and c != "\x7f" else f"\\U{ord(c):08x}"
        for c in text
    )
    return '"' + "".join(escaped) + '"'


def _toml(value: object) -> str:
    if isinstance(value, str):
        return _str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def _key(name: str, style: int) -> str:
    """A key as TOML may write it: bare when it can be, else basic or literal quotes."""
    if style == 0 and name.isascii() and all(c.isalnum() or c in "_-" for c in name):
        return name
    if style == 1 and "'" not in name and "\n" not in name and name.isprintable():
        return f"'{name}'"
    return _str(name)


def _value(value: object, style: int) -> str:
    if isinstance(value, str) and style == 1:
        return f'"""\n{_str(value)[1:-1]}\nx = 1\n[t]\n"""'  # its lines are no keys
    if isinstance(value, list):
        return "[\n" + "".join(f"  {_toml(v)},  # x = 1\n" for v in value) + "]"
    return _toml(value)


@settings(max_examples=300, deadline=None)
@given(
    tables=st.dictionaries(
        _NAME,
        st.dictionaries(_NAME, st.tuples(_SCALAR, st.integers(0, 2)), max_size=4),
        max_size=4,
    ),
    style=st.integers(0, 2),
    blank=st.lists(st.sampled_from(["", "# x = 1", "  # [t]"]), max_size=2),
)
def test_every_key_of_a_generated_file_gets_its_own_line(
    tables: dict[str, dict[str, tuple[object, int]]], style: int, blank: list[str]
) -> None:
    """Files written in each style (tables under headers, dotted keys, inline tables), with
    bare and quoted names, multi-line strings and arrays with comments: each key's line is
    where it was written, and each table's where it was first written."""
    out: list[str] = []
    expected: dict[tuple[str, ...], int] = {}
    for table, keys in tables.items():
        t = _key(table, style)
        out.extend(blank)
        if style == 2 or (style == 1 and not keys):  # an inline table
            parts = [f"{_key(k, s)} = {_toml(v)}" for k, (v, s) in keys.items()]
            expected[(table,)] = len(out) + 1
            expected.update({(table, k): len(out) + 1 for k in keys})
            out.append(f"{t} = {{ {', '.join(parts)} }}")
            continue
        if style == 0:
            expected[(table,)] = len(out) + 1
            out.append(f"[{t}]  # [{t}.no]")
        for k, (value, value_style) in keys.items():
            expected[(table, k)] = len(out) + 1
            expected.setdefault((table,), len(out) + 1)
            key = _key(k, value_style) if style == 0 else f"{t}.{_key(k, value_style)}"
            out.extend(f"{key} = {_value(value, value_style)}".split("\n"))
    text = "\n".join(out) + "\n"
    lines = key_lines(text, tomllib.loads(text))
    assert lines == expected, text
