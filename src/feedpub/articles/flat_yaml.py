"""Flat YAML front matter read without PyYAML, to exactly the values PyYAML gives (as
feedpub configures it), or not at all; and the rules for values that both readers follow.

Most front matter is a few ``key: value`` lines, some values lists of scalars (``tags: [a,
b]``, or ``- a`` lines). PyYAML takes ~100 microseconds to build that (its C scanner, then a
node per value built and resolved in Python): as long as rendering the article's Markdown.
:func:`read_flat_yaml` reads only what it is sure of: keys of letters, digits, ``_`` and
``-`` at the start of a line; a value on its own line that is a plain scalar, a quoted one
(every escape libyaml knows, but for code points it refuses), a one-line flow list of
scalars, or a block list of ``- scalar`` lines; blank and comment lines. Plain scalars are
resolved as YAML 1.1 does (``yes``/``no``/``on``/``off`` and ``true``/``false`` as booleans,
``~``/``null``/an empty value as None, timestamps as dates); numbers stay as written, as
they do in feedpub's loader (:mod:`~feedpub.articles.frontmatter_io`). Anything else (an
indicator it does not read, a tab, a line break other than ``\\n``, an alias, a multi-line
value, a block over 16 KiB ...) returns None, and PyYAML reads the block, and reports what
is wrong with it, line and all. ``tests/test_articles_flat_yaml.py`` checks the reader
against PyYAML with hypothesis; ``ParseContext.flat_yaml = False`` parses with PyYAML only.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import yaml

MAX_FLAT_CHARS = 16 * 1024
"""Larger blocks go to PyYAML (real front matter is a few hundred bytes to a few KB)."""

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


# -- the rules for values, whichever reader read them ----------------------------------------


def as_written(loader: Any, node: yaml.ScalarNode) -> str:
    """A number as written: ``id: 0123`` stays ``"0123"`` (not octal 83), ``title: 3.10``
    stays ``"3.10"``."""
    return str(node.value)


def timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    """A YAML timestamp as a date or datetime; one that is no real date (``2024-02-30``) stays
    a string, so the field that uses it reports it with its key and line, and a key feedpub
    ignores never fails the article."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return str(node.value)


# -- the flat reader --------------------------------------------------------------------------


class _Unsure(Exception):
    """Raised inside this module (never out of it) where the block needs PyYAML."""


# What a flat block may hold: "\n" and printable characters, but none that YAML reads as a
# line break (U+0085, U+2028, U+2029), a byte-order mark, U+FFFE/U+FFFF, or a tab.
_UNSURE_CHARACTER = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*+):(?: ++(.*+))?\Z")
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*+)"')
_SINGLE = re.compile(r"'((?:[^']|'')*+)'")
_ESCAPE = re.compile(
    r"\\(?:([0abtnvfre \"/\\N_LP])|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|)"
)
_ESCAPED = {
    "0": "\x00",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
# Characters that start something other than a plain scalar (or may: "-", "?" and ":"
# start one when a non-space follows; not read here).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# In a one-line flow list, what makes an item other than a plain scalar (or may)
_NOT_PLAIN_IN_FLOW = re.compile(r"[\[\]{}#:\"']")
# One item of a one-line flow list and what follows it: a quoted scalar, or a plain one
# without the characters that would make it anything else.
_FLOW_ITEM = re.compile(
    r' *+(?:"((?:[^"\\]|\\.)*+)"|'
    r"'((?:[^']|'')*+)'|"
    r"""([^-?:,\[\]{}#&*!|>'"%@` ][^,\[\]{}#:"']*+)) *+(?:(,)|\Z)"""
)
_WORDS: dict[str, Any] = {
    **dict.fromkeys(["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
    **dict.fromkeys(["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False),
    **dict.fromkeys(["~", "null", "Null", "NULL"], None),
}
# YAML 1.1's timestamp: a date, or a date and a time with an optional fraction and zone
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z"
    r"|([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]| ++)([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]*+))?(?: *+(?:(Z)|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?\Z"
)


@lru_cache(maxsize=64)
def _zone(sign: str, hours: str, minutes: str | None) -> timezone:
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-offset if sign == "-" else offset)


def _timestamp(m: re.Match[str]) -> Any:
    """The date or datetime PyYAML makes of a timestamp (the fraction cut to microseconds),
    or the text where it is no real date or time (as :func:`timestamp` does)."""
    day_y, day_m, day_d, y, mo, d, h, mi, sec, fraction, utc, sign, zh, zm = m.groups()
    try:
        if day_y is not None:
            return date(int(day_y), int(day_m), int(day_d))
        zone = _zone(sign, zh, zm) if sign else UTC if utc else None
        micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), micro, zone)
    except (ValueError, OverflowError):
        return m[0]


def _resolve(text: str) -> Any:
    """A plain scalar's value (YAML 1.1's implicit types; numbers as written)."""
    if text in _WORDS:
        return _WORDS[text]
    if "0" <= text[0] <= "9":
        m = _TIMESTAMP.match(text)
        if m is not None:
            return _timestamp(m)
    elif text in ("<<", "="):  # a merge key, a value key: PyYAML's to judge
        raise _Unsure
    return text


def _unescape_one(m: re.Match[str]) -> str:
    if m[1] is not None:
        return _ESCAPED[m[1]]
    digits = m[2] or m[3] or m[4]
    if digits is None:  # an escape libyaml refuses
        raise _Unsure
    code = int(digits, 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:  # (libyaml refuses these too)
        raise _Unsure
    return chr(code)


def _double(inner: str) -> str:
    return _ESCAPE.sub(_unescape_one, inner) if "\\" in inner else inner


def _check_end(text: str, at: int) -> None:
    """Nothing may follow a quoted value on its line but spaces and a comment."""
    rest = text[at:]
    if (rest and rest.lstrip(" ")[:1] not in ("", "#")) or rest[:1] == "#":
        raise _Unsure


def _quoted(text: str) -> str:
    """A quoted scalar that starts ``text``, with nothing after it but a comment."""
    quote = text[0]
    end = text.find(quote, 1)
    if end < 0:
        raise _Unsure
    value = text[1:end]
    if quote == '"' and "\\" in value:  # the closing quote is the first one not escaped
        m = _DOUBLE.match(text)
        if m is None:
            raise _Unsure
        value, end = _double(m[1]), m.end() - 1
    elif quote == "'" and text[end + 1 : end + 2] == "'":  # a quote written twice
        m = _SINGLE.match(text)
        if m is None:
            raise _Unsure
        value, end = m[1].replace("''", "'"), m.end() - 1
    _check_end(text, end + 1)
    return value


def _flow_list(text: str) -> list[Any]:
    """``[a, "b", 'c']`` on one line (nothing after the ``]`` but spaces)."""
    inner = text.rstrip(" ")
    if inner[-1] != "]":
        raise _Unsure
    inner = inner[1:-1]
    if not inner.strip(" "):
        return []
    items: list[Any] = []
    if _NOT_PLAIN_IN_FLOW.search(inner) is None:  # plain scalars only
        for part in inner.split(","):
            item = part.strip(" ")
            if not item or item[0] in _INDICATORS:  # (also a "," with nothing after it)
                raise _Unsure
            items.append(_resolve(item))
        return items
    if "[" in inner or "]" in inner:
        raise _Unsure
    pos = 0
    while True:
        m = _FLOW_ITEM.match(inner, pos)
        if m is None:
            raise _Unsure
        if m[1] is not None:
            items.append(_double(m[1]))
        elif m[2] is not None:
            items.append(m[2].replace("''", "'"))
        else:
            items.append(_resolve(m[3].rstrip(" ")))
        if m[4] is None:
            return items
        pos = m.end()


def _value(text: str) -> Any:
    """A value that starts at ``text`` (no space before it) and runs to the end of its line."""
    if not text:
        raise _Unsure
    first = text[0]
    if first in ('"', "'"):
        return _quoted(text)
    if first == "[":
        return _flow_list(text)
    if first in _INDICATORS:
        raise _Unsure
    cut = text.find(" #")
    plain = (text if cut < 0 else text[:cut]).rstrip(" ")
    if ": " in plain or plain[-1] == ":":
        raise _Unsure
    return _resolve(plain)


def read_flat_yaml(block: str) -> dict[Any, Any] | None:
    """The mapping PyYAML (as feedpub's loader sets it up) makes of ``block``, if the block is
    flat front matter (see the module's description); else None, for PyYAML to read."""
    if len(block) > MAX_FLAT_CHARS or "*" in block or _UNSURE_CHARACTER.search(block):
        return None  # ("*": PyYAML's reader first counts what aliases expand to)
    out: dict[Any, Any] = {}
    lines = block.split("\n")
    i, n = 0, len(lines)
    try:
        while i < n:
            line = lines[i]
            i += 1
            m = _KEY_LINE.match(line)
            if m is None:
                rest = line.lstrip(" ")
                if rest and rest[0] != "#":
                    return None
                continue  # a blank or comment line
            key: Any = m[1]
            if key in _WORDS:  # ("on:", "no:", "null:" ...)
                key = _WORDS[key]
            if m[2]:
                out[key] = _value(m[2])
                continue
            items: list[Any] = []
            indent = -1
            while i < n:  # "- item" lines, all indented alike, or no value
                line = lines[i]
                rest = line.lstrip(" ")
                if rest and rest[0] != "#":
                    if rest[:2] != "- ":
                        break
                    width = len(line) - len(rest)
                    if indent not in (-1, width):
                        return None
                    indent = width
                    items.append(_value(rest[2:].lstrip(" ")))
                i += 1
            out[key] = items if indent >= 0 else None
    except _Unsure:
        return None
    return out or None
