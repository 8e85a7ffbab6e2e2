"""Reading one TOML table (:class:`Section`) and the checks every section shares, each
written once: a key's type, a count, a time limit, a URL, an address or network, a language
code, a content mode. Every error names its key (``feeds.max_entries``)."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from feedpub.articles.text import BIDI_CONTROLS, xml_safe
from feedpub.errors import ConfigError, ConfigProblem
from feedpub.model import ContentMode

T = TypeVar("T")

KeyPath = tuple[str, ...]

# How problems are ordered in a report: unknown keys and sections first (a misspelt key is
# the cause of what follows from it), then the rest, each kind in the file's order.
_UNKNOWN, _OTHER = 0, 1
_CLOSE_ENOUGH = 0.6  # difflib's ratio for a suggestion ("baseurl" / "base_url": 0.93)


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` most likely misspells (difflib), or None."""
    by_fold = {k.casefold(): k for k in known}
    if name.casefold() in by_fold:
        return by_fold[name.casefold()]
    found = difflib.get_close_matches(name.casefold(), list(by_fold), n=1, cutoff=_CLOSE_ENOUGH)
    return by_fold[found[0]] if found else None


class Report:
    """Every problem of one config file, collected while all of it is read: one run of
    ``feedpub check`` shows them all. Each problem gets the line of its key (or, for a key
    that is missing, of its table) from ``lines`` (see :mod:`.lines`)."""

    def __init__(self, lines: Mapping[KeyPath, int], source: Path | None) -> None:
        self._lines = lines
        self.source = source
        self._problems: list[tuple[tuple[int, int, int], KeyPath, ConfigProblem]] = []
        self._missing: set[KeyPath] = set()  # keys reported as missing
        self._meant: set[KeyPath] = set()  # keys that a misspelt one probably meant

    def line(self, path: KeyPath) -> int | None:
        return self._lines.get(path)

    def add(
        self, path: KeyPath, message: str, *, line: int | None = None, kind: int = _OTHER
    ) -> None:
        line = line if line is not None else self.line(path)
        order = (kind, line if line is not None else 1 << 62, len(self._problems))
        self._problems.append((order, path, ConfigProblem(".".join(path), message, line)))

    def missing(self, path: KeyPath, message: str) -> None:
        """A required key that is not there: reported on its table's line, unless a misspelt
        key of that table probably meant it (that one is reported, and says so)."""
        self._missing.add(path)
        self.add(path, message, line=self.line(path[:-1]) if path[:-1] else None)

    def unknown(self, path: KeyPath, known: Iterable[str], *, is_table: bool) -> None:
        name = path[-1]
        meant = closest(name, known)
        what = "unknown section" if is_table and len(path) == 1 else "unknown key"
        if meant is not None:
            self._meant.add((*path[:-1], meant))
            hint = f"[{meant}]" if is_table and len(path) == 1 else meant
            what += f"; did you mean `{hint}`?"
        self.add(path, what, kind=_UNKNOWN)

    def clean(self, prefix: KeyPath) -> bool:
        """Whether no problem was reported about ``prefix`` or a key under it."""
        return not any(path[: len(prefix)] == prefix for _, path, _ in self._problems)

    def problems(self) -> list[ConfigProblem]:
        explained = self._missing & self._meant
        ordered = sorted(self._problems, key=lambda p: p[0])
        return [problem for _, path, problem in ordered if path not in explained]

    def raise_if_any(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(path=self.source, problems=problems)


class Section:
    """Reads one TOML table, checking each key's type; ``done()`` reports what was not read.

    A problem is reported (to the shared :class:`Report`) and reading goes on with the
    key's default, so that one run finds every problem; ``failed(name)`` tells the checks
    that build on a key to leave it alone (one mistake, one message)."""

    def __init__(self, data: Mapping[str, object], path: KeyPath, report: Report) -> None:
        self._data = data
        self.path = path
        self.report = report
        self._seen: set[str] = set()
        self._failed: set[str] = set()

    def key(self, name: str) -> str:
        return ".".join((*self.path, name))

    def error(self, name: str, message: str) -> None:
        """Report a problem with the key ``name``."""
        self._failed.add(name)
        self.report.add((*self.path, name), message)

    def missing(self, name: str, message: str) -> None:
        """Report that the required key ``name`` is not there."""
        self._failed.add(name)
        self.report.missing((*self.path, name), message)

    def failed(self, name: str) -> bool:
        """Whether a problem with ``name`` was reported."""
        return name in self._failed

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
            self.error(name, f"expected {_TYPE_NAMES.get(typ, typ.__name__)}, got {_kind(value)}")
            return default
        return value

    def text(self, name: str, default: str = "") -> str:
        """A string that feeds show: none of the characters XML cannot carry."""
        value = self.get(name, str, default)
        bad = next((c for c in value if xml_safe(c) != c), None)
        if bad is not None:
            self.error(name, f"has a control character that feeds cannot carry (U+{ord(bad):04X})")
            return default
        return value

    def number(self, name: str, default: float) -> float:
        """A non-negative int or float (seconds, hours)."""
        self._seen.add(name)
        value = self._data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.error(name, f"expected a number >= 0, got {value!r}")
            return default
        return float(value)

    def positive(self, name: str, default: int) -> int:
        """An int of at least 1 (a count, a size, a number of seconds)."""
        value = self.get(name, int, default)
        if value < 1:
            self.error(name, f"must be at least 1, got {value}")
            return default
        return value

    def seconds(self, name: str, default: float) -> float:
        """A time limit: a number of seconds above 0."""
        value = self.number(name, default)
        if value <= 0:
            self.error(name, f"must be more than 0 seconds, got {value:g}")
            return default
        return value

    def section(self, name: str) -> Section:
        table = self.get(name, dict, {})
        return Section(table, (*self.path, name), self.report)

    def str_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(name, list, list(default))
        bad = next((item for item in value if not isinstance(item, str)), None)
        if bad is not None:
            self.error(name, f"expected a list of strings, found {bad!r}")
            return default
        return tuple(value)

    def done(self) -> None:
        """Report every key of the table that no reader asked for, with the known key it
        most resembles."""
        for name in self._data:
            if name not in self._seen:
                is_table = isinstance(self._data[name], dict)
                self.report.unknown((*self.path, name), self._seen, is_table=is_table)


_TYPE_NAMES = {str: "str", int: "int", float: "float", bool: "bool", list: "list", dict: "a table"}


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value!r}"


def at_least(sec: Section, name: str, value: float, low: float) -> float:
    if value < low:
        sec.error(name, f"must be at least {low:g}, got {value:g}")
    return value


_UNSAFE_IN_URL = re.compile(r'[\x00-\x20\x7f<>"\\^`{|}]')


def absolute_url(sec: Section, name: str, value: str, *, published: bool = True) -> str | None:
    """An absolute http(s) URL with nothing that could break a header or a document (spaces,
    control characters, ``<>"``); its scheme and host lowercased, as URLs compare. A
    ``published`` one (every feed shows it) holds no user name or password. None (reported)
    if it is not one."""
    problem = _url_problem(value, published=published)
    if problem is not None:
        sec.error(name, problem)
        return None
    parts = urlsplit(value)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
    )


def _url_problem(value: str, *, published: bool) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be an absolute http(s) URL, got {value!r}"
    if _UNSAFE_IN_URL.search(value):
        return f"has spaces, control or unsafe characters: {value!r}"
    try:
        parts.port  # noqa: B018 (reading it checks it: a port over 65535 raises)
    except ValueError:
        return f"has a port that is no port: {value!r}"
    if not parts.netloc.isascii() and BIDI_CONTROLS.search(parts.netloc):
        return f"has bidi control characters in its host: {value!r}"
    if "@" in parts.netloc and published:
        return "must not hold a user name or password (every feed shows it)"
    return None


def url_list(sec: Section, name: str, *, published: bool = True) -> tuple[str, ...]:
    """A list of URLs, each checked by :func:`absolute_url`, kept as written (the bad ones
    reported and left out)."""
    urls = sec.str_list(name, ())
    return tuple(url for url in urls if absolute_url(sec, name, url, published=published))


def networks(sec: Section, name: str) -> tuple[str, ...]:
    """A list of IP addresses or networks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``)."""
    values = sec.str_list(name, ())
    if not values:
        return values
    import ipaddress  # here: only configs naming networks need it, and it is slow to import

    good = []
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            sec.error(name, f"not an address or network: {value!r}")
        else:
            good.append(value)
    return tuple(good)


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


def language(sec: Section, name: str, value: str) -> str | None:
    """A language code (``en``, ``fr``, ``pt-BR``), as written; None (reported) if not."""
    if not _LANGUAGE_TAG.fullmatch(value):
        sec.error(name, f"expected a language code (like en, fr, pt-BR), got {value!r}")
        return None
    return value


def content_mode(sec: Section, name: str, value: str | None) -> ContentMode | None:
    if value is None:
        return None
    if value not in ("full", "summary"):
        sec.error(name, f'must be "full" or "summary", got {value!r}')
        return None
    return cast(ContentMode, value)


# hosts that are nobody's site: RFC 2606/6761 names, loopback (checked on [site] base_url)
_PLACEHOLDER_NAMES = ("example.com", "example.net", "example.org", "localhost")
_PLACEHOLDER_TLDS = (".example", ".test", ".invalid", ".localhost")


def placeholder_host(url: str) -> str | None:
    """The host of ``url`` when it is a placeholder (``example.org`` and the other names
    reserved for examples and tests, ``localhost``, a loopback address), else None."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if not host:
        return None
    if host in _PLACEHOLDER_NAMES or host.endswith(_PLACEHOLDER_TLDS):
        return host
    if any(host.endswith("." + name) for name in _PLACEHOLDER_NAMES):
        return host
    try:
        return host if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None
