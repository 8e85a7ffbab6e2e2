"""Reading one TOML table (:class:`Section`) and the checks every section shares, each
written once: a key's type, a count, a time limit, a URL, an address or network, a language
code, a content mode. Every error names its key (``feeds.max_entries``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from feedpub.articles.text import BIDI_CONTROLS, xml_safe
from feedpub.errors import ConfigError
from feedpub.model import ContentMode

T = TypeVar("T")


class Section:
    """Reads one TOML table, checking each key's type; ``done()`` rejects what was not read."""

    def __init__(self, data: Mapping[str, object], prefix: str, path: Path | None) -> None:
        self._data = data
        self._prefix = prefix
        self._path = path
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self._prefix}.{name}" if self._prefix else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(message, path=self._path, key=self.key(name))

    def has(self, name: str) -> bool:
        """Whether the table holds the key (it is not read by asking)."""
        return name in self._data

    def names(self) -> list[str]:
        """The table's keys, in the file's order."""
        return list(self._data)

    def get(self, name: str, typ: type[T], default: T) -> T:
        self._seen.add(name)
        if name not in self._data:
            return default
        value = self._data[name]
        # bool is an int subclass: never accept one for the other
        if (typ is int and isinstance(value, bool)) or not isinstance(value, typ):
            raise self.error(name, f"expected {typ.__name__}, got {type(value).__name__} {value!r}")
        return value

    def text(self, name: str, default: str = "") -> str:
        """A string that feeds show: none of the characters XML cannot carry."""
        value = self.get(name, str, default)
        bad = next((c for c in value if xml_safe(c) != c), None)
        if bad is not None:
            raise self.error(
                name, f"has a control character that feeds cannot carry (U+{ord(bad):04X})"
            )
        return value

    def number(self, name: str, default: float) -> float:
        """A non-negative int or float (seconds, hours)."""
        self._seen.add(name)
        value = self._data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.error(name, f"expected a number >= 0, got {value!r}")
        return float(value)

    def positive(self, name: str, default: int) -> int:
        """An int of at least 1 (a count, a size, a number of seconds)."""
        value = self.get(name, int, default)
        if value < 1:
            raise self.error(name, f"must be at least 1, got {value}")
        return value

    def seconds(self, name: str, default: float) -> float:
        """A time limit: a number of seconds above 0."""
        value = self.number(name, default)
        if value <= 0:
            raise self.error(name, f"must be more than 0 seconds, got {value:g}")
        return value

    def section(self, name: str) -> Section:
        table = self.get(name, dict, {})
        return Section(table, self.key(name), self._path)

    def str_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(name, list, list(default))
        for item in value:
            if not isinstance(item, str):
                raise self.error(name, f"expected a list of strings, found {item!r}")
        return tuple(value)

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise self.error(unknown[0], "unknown key")


def at_least(sec: Section, name: str, value: float, low: float) -> float:
    if value < low:
        raise sec.error(name, f"must be at least {low:g}, got {value:g}")
    return value


_UNSAFE_IN_URL = re.compile(r'[\x00-\x20\x7f<>"\\^`{|}]')


def absolute_url(sec: Section, name: str, value: str, *, published: bool = True) -> str:
    """An absolute http(s) URL with nothing that could break a header or a document (spaces,
    control characters, ``<>"``); its scheme and host lowercased, as URLs compare. A
    ``published`` one (every feed shows it) holds no user name or password."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise sec.error(name, f"must be an absolute http(s) URL, got {value!r}")
    if _UNSAFE_IN_URL.search(value):
        raise sec.error(name, f"has spaces, control or unsafe characters: {value!r}")
    try:
        parts.port  # noqa: B018 (reading it checks it: a port over 65535 raises)
    except ValueError as e:
        raise sec.error(name, f"has a port that is no port: {value!r}") from e
    if not parts.netloc.isascii() and BIDI_CONTROLS.search(parts.netloc):
        raise sec.error(name, f"has bidi control characters in its host: {value!r}")
    if "@" in parts.netloc and published:
        raise sec.error(name, "must not hold a user name or password (every feed shows it)")
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
    )


def url_list(sec: Section, name: str, *, published: bool = True) -> tuple[str, ...]:
    """A list of URLs, each checked by :func:`absolute_url`, kept as written."""
    urls = sec.str_list(name, ())
    for url in urls:
        absolute_url(sec, name, url, published=published)
    return urls


def networks(sec: Section, name: str) -> tuple[str, ...]:
    """A list of IP addresses or networks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``)."""
    values = sec.str_list(name, ())
    if not values:
        return values
    import ipaddress  # here: only configs naming networks need it, and it is slow to import

    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as e:
            raise sec.error(name, f"not an address or network: {value!r}") from e
    return values


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


def language(sec: Section, name: str, value: str) -> str:
    """A language code (``en``, ``fr``, ``pt-BR``), as written."""
    if not _LANGUAGE_TAG.fullmatch(value):
        raise sec.error(name, f"expected a language code (like en, fr, pt-BR), got {value!r}")
    return value


def content_mode(sec: Section, name: str, value: str | None) -> ContentMode | None:
    if value is None:
        return None
    if value not in ("full", "summary"):
        raise sec.error(name, f'must be "full" or "summary", got {value!r}')
    return cast(ContentMode, value)
