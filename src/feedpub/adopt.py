"""``feedpub adopt``: a moved site keeps the entry ids of its old feeds, so that no subscriber
sees its articles twice. (Not ``feedpub build --adopt``, which takes over an output folder.)

Feed readers tell entries apart by id: the Atom ``id``, the RSS ``guid``, the JSON Feed
``id``. A site moved to feedpub would give every article a new one, and every reader would
show every article again. ``adopt`` reads the old site's feeds, matches each entry to an
article, and stores the entry's id and published date as that article's identity, which
:mod:`feedpub.identity` then gives to every format, for good.

* **Reading** is an edge: a file or an http(s) URL, at most :data:`MAX_FEED_BYTES`, fetched
  within :data:`FETCH_SECONDS`. Parsing (feedparser for Atom and RSS, ``json`` for JSON Feed)
  runs in a worker process under :data:`PARSE_SECONDS`, like every untrusted input.
* **Matching** is pure (:func:`match`): by link (the old URL's path is the article's URL's),
  then by slug (the old URL's last segment), then by title and date. When two articles fit
  equally, the entry is reported, never guessed at.
* **Deciding** is pure (:func:`decide`): an explicit ``id`` in front matter wins, as it always
  does; an identity that has already appeared in a feed feedpub wrote is replaced only when
  forced; one old id never goes to two articles.
* **Storing** (:func:`run`) writes the identities under the build lock, and has the next build
  read those articles again.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import re
import stat
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from feedpub import __version__
from feedpub.articles.dates import date_from_filename
from feedpub.config import Config
from feedpub.errors import ConfigError, FeedReadError, one_line
from feedpub.identity import atom_id_keys, resolve, wanted_slug
from feedpub.model import Article, ArticleMeta, Identity
from feedpub.slug import slugify
from feedpub.store import State

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 32 * 1024 * 1024  # a feed larger than this is refused (the big ones: ~5 MB)
FETCH_SECONDS = 60.0  # a whole download, however slowly the server sends
CONNECT_SECONDS = 15.0  # to connect, and between two reads
PARSE_SECONDS = 30.0  # parsing one feed, in a worker process

OldFormat = Literal["atom", "rss", "json"]
_FORMAT_NAMES: dict[OldFormat, str] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


@dataclass(frozen=True, slots=True, kw_only=True)
class OldEntry:
    """One entry of an old feed, as much of it as matching and keeping its id need."""

    id: str | None  # Atom id, RSS guid, JSON Feed id (None: an RSS item without a guid)
    link: str | None
    title: str  # text
    published: datetime | None  # published, else updated; aware, in the feed's own offset


@dataclass(frozen=True, slots=True, kw_only=True)
class OldFeed:
    source: str  # the file or URL it was read from, as given
    format: OldFormat
    title: str
    entries: tuple[OldEntry, ...]


def entry_id(entry: OldEntry) -> str | None:
    """The id readers know an entry by: its id; for an RSS item without a guid, its link
    (which readers take in its place)."""
    return entry.id or entry.link


# -- reading ---------------------------------------------------------------------------------


def read_source(
    source: str, *, max_bytes: int = MAX_FEED_BYTES, seconds: float = FETCH_SECONDS
) -> bytes:
    """The bytes of a feed file or http(s) URL; :class:`FeedReadError` when they cannot be
    had."""
    scheme, sep, _ = source.partition("://")
    if sep and scheme.lower() in ("http", "https"):
        return _fetch(source, max_bytes=max_bytes, seconds=seconds)
    if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise FeedReadError("only files and http(s) URLs can be read", source=source)
    return _read_file(source, max_bytes)


def _too_large(max_bytes: int) -> str:
    return f"larger than {max_bytes // (1024 * 1024)} MB; no feed is that large"


def _read_file(path: str, max_bytes: int) -> bytes:
    try:  # (no blocking on a FIFO; a folder or a device is refused below)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise FeedReadError(f"cannot read: {one_line(e.strerror or e)}", source=path) from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise FeedReadError(f"cannot read: {what}", source=path)
        if st.st_size > max_bytes:
            raise FeedReadError(_too_large(max_bytes), source=path)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > max_bytes:  # (it grew while read)
                raise FeedReadError(_too_large(max_bytes), source=path)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise FeedReadError(f"cannot read: {one_line(e.strerror or e)}", source=path) from e
    finally:
        os.close(fd)


_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


def _fetch(url: str, *, max_bytes: int, seconds: float) -> bytes:
    import requests

    deadline = time.monotonic() + seconds
    try:
        with requests.Session() as session:
            session.max_redirects = 5
            with session.get(
                url,
                stream=True,
                timeout=(CONNECT_SECONDS, CONNECT_SECONDS),
                headers={"User-Agent": f"feedpub/{__version__} (adopt)", "Accept": _ACCEPT},
            ) as r:
                if r.status_code != 200:
                    reason = f" {one_line(r.reason)}" if r.reason else ""
                    raise FeedReadError(f"HTTP {r.status_code}{reason}", source=url)
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FeedReadError(_too_large(max_bytes), source=url)
                chunks: list[bytes] = []
                size = 0
                for chunk in r.iter_content(8192):  # (decompressed: a gzip bomb is counted)
                    size += len(chunk)
                    if size > max_bytes:
                        raise FeedReadError(_too_large(max_bytes), source=url)
                    if time.monotonic() > deadline:
                        raise FeedReadError(
                            f"took longer than {seconds:g} s to download; stopped", source=url
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
    except requests.RequestException as e:
        raise FeedReadError(f"cannot fetch: {one_line(e)}", source=url) from e


# -- parsing (in a worker process) -----------------------------------------------------------


def parse_feed(job: tuple[str, bytes]) -> OldFeed | str:
    """(source, bytes) → the feed, or why it is none. Runs in a worker process."""
    source, data = job
    body = data.removeprefix(b"\xef\xbb\xbf")
    if body.lstrip()[:1] == b"{":
        return _parse_json(source, body)
    return _parse_xml(source, data)


_TAG = re.compile(r"<[^<>]*>")  # one character class, no nesting: linear


def _text(value: object, markup: bool = False) -> str:
    if not isinstance(value, str):
        return ""
    return html.unescape(_TAG.sub("", value)) if markup else value


def _date(raw: object, parsed: object = None) -> datetime | None:
    """A feed's date, aware, in its own offset when it says one (RFC 3339 or RFC 822)."""
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        found: datetime | None = None
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                found = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                found = None
        if found is not None:
            return found if found.tzinfo is not None else found.replace(tzinfo=UTC)
    if isinstance(parsed, time.struct_time):  # feedparser's reading, in UTC
        try:
            return datetime(*parsed[:6]).replace(tzinfo=UTC)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _parse_xml(source: str, data: bytes) -> OldFeed | str:
    import feedparser

    # No base URL: feedparser would make a relative Atom id absolute with it, which the old
    # feed never said (relative links need none: matching goes by their paths).
    d = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    version = str(d.get("version") or "")
    if not version:
        cause = d.get("bozo_exception")
        detail = f": {one_line(cause)}" if cause else ""
        return f"not a feed (no Atom, RSS or JSON Feed document{detail})"
    fmt: OldFormat = "atom" if version.startswith("atom") else "rss"
    entries = []
    for e in d.get("entries", []):
        title_type = str((e.get("title_detail") or {}).get("type") or "")
        entries.append(
            OldEntry(
                id=_clean(e.get("id")),
                link=_clean(e.get("link")),
                title=_text(e.get("title"), markup="html" in title_type),
                published=_date(
                    e.get("published") or e.get("updated"),
                    e.get("published_parsed") or e.get("updated_parsed"),
                ),
            )
        )
    feed = d.get("feed") or {}
    return OldFeed(
        source=source, format=fmt, title=_text(feed.get("title")), entries=tuple(entries)
    )


def _clean(value: object) -> str | None:
    """An id or link as a string (JSON Feed ids are sometimes numbers), None when empty."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _parse_json(source: str, body: bytes) -> OldFeed | str:
    try:
        doc: Any = json.loads(body)
    except (ValueError, RecursionError) as e:
        return f"not a feed (not JSON: {one_line(e)})"
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        return "not a feed (JSON, but no JSON Feed version)"
    items = doc.get("items", [])
    if not isinstance(items, list):
        return "not a feed (its items are not a list)"
    entries = [
        OldEntry(
            id=_clean(item.get("id")),
            link=_clean(item.get("url")),
            title=_text(item.get("title")),
            published=_date(item.get("date_published") or item.get("date_modified")),
        )
        for item in items
        if isinstance(item, dict)
    ]
    return OldFeed(
        source=source, format="json", title=_text(doc.get("title")), entries=tuple(entries)
    )


def read_feeds(
    sources: Sequence[str],
    *,
    workers: int = 1,
    budget: float = PARSE_SECONDS,
    parse: Callable[[tuple[str, bytes]], OldFeed | str] = parse_feed,
) -> tuple[list[OldFeed], list[str]]:
    """Read and parse every source: (the feeds, one line per source that failed). ``parse``
    (a module-level function) runs in a worker process under ``budget`` (``workers=0``: in
    this one, unbounded)."""
    errors: dict[int, str] = {}
    jobs: list[tuple[str, bytes]] = []
    at: list[int] = []
    for i, source in enumerate(sources):
        try:
            data = read_source(source)
        except FeedReadError as e:
            errors[i] = printable(str(e))
            continue
        jobs.append((source, data))
        at.append(i)
    parsed: dict[int, OldFeed | str] = {}
    if workers <= 0:
        parsed = {at[j]: parse(job) for j, job in enumerate(jobs)}
    elif jobs:
        from feedpub.pool import Failed, Pool

        with Pool[tuple[str, bytes], OldFeed | str](workers, budget=budget, chunk=1) as pool:
            for j, result in pool.run(parse, jobs):
                parsed[at[j]] = (
                    f"not read: {result.reason}" if isinstance(result, Failed) else result
                )
    feeds: list[OldFeed] = []
    for i, result in sorted(parsed.items()):
        if isinstance(result, str):
            errors[i] = printable(f"{sources[i]}: {result}")
        else:
            feeds.append(result)
    return feeds, [errors[i] for i in sorted(errors)]


# -- matching (pure) -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """An old entry and the article it belongs to (``path``), or why none."""

    feed: OldFeed
    entry: OldEntry
    path: str | None = None
    how: str = ""  # "link", "slug", "title and date", ...
    ambiguous: tuple[str, ...] = ()  # articles that fit equally: not guessed between
    why: str = ""  # no article: why


_INDEX_FILES = ("index.html", "index.htm", "index.php")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}\Z")
_DATE_PREFIX = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}-")


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:  # (an old feed's link such as http://[nope)
        return ""


def _link_path(url: str) -> str | None:
    """A link's path as pages compare (``/p/x/``, ``/p/x``, ``/p/x/index.html`` alike);
    None for a site's root, which is no article's, or a link that is no URL."""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return None
    for name in _INDEX_FILES:
        if path.endswith("/" + name):
            path = path[: -len(name)]
    path = path.rstrip("/")
    return path or None


def _link_slug(url: str) -> str | None:
    """The slug an old link's last segment makes: ``/2020/01/02/hello-world.html``,
    ``/posts/hello-world/`` and ``/2020-01-02-hello-world/`` all say ``hello-world``."""
    path = _link_path(url)
    if path is None:
        return None
    last = _DATE_PREFIX.sub("", _EXTENSION.sub("", path.rsplit("/", 1)[-1]))
    if not any(c.isalnum() for c in last):
        return None
    return slugify(last, fallback_prefix="article")


def _title_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _days(when: datetime, tz: tzinfo) -> set[date]:
    """The calendar days ``when`` falls on: in its own offset, the site's zone and UTC (an
    old site and this one may have dated the same article in different zones)."""
    return {when.date(), when.astimezone(tz).date(), when.astimezone(UTC).date()}


class _Articles:
    """The articles, indexed for matching."""

    def __init__(self, articles: Iterable[Article], tz: tzinfo) -> None:
        self.tz = tz
        self.by_url: dict[tuple[str, str], set[str]] = {}
        self.by_path: dict[str, set[str]] = {}
        self.by_slug: dict[str, set[str]] = {}
        self.by_title: dict[str, list[Article]] = {}
        self.undated: set[str] = set()
        for a in articles:
            path = _link_path(a.url)
            if path is not None:
                self.by_url.setdefault((_host(a.url), path), set()).add(a.path)
                self.by_path.setdefault(path, set()).add(a.path)
            for slug in (a.slug, wanted_slug(a.meta)):
                self.by_slug.setdefault(slug, set()).add(a.path)
            self.by_title.setdefault(_title_key(a.meta.title), []).append(a)
            name = a.path.rsplit("/", 1)[-1]
            if a.meta.date is None and date_from_filename(name, tz) is None:
                self.undated.add(a.path)

    def _by_title(self, paths: set[str], title: str) -> set[str]:
        return {a.path for a in self.by_title.get(_title_key(title), []) if a.path in paths}

    def match(self, feed: OldFeed, entry: OldEntry) -> Match:
        found = Match(feed=feed, entry=entry)
        tried: list[str] = []
        if entry.link:
            path = _link_path(entry.link)
            if path is not None:
                tried.append(f"its link's path {shown(path)}")
                full = self.by_url.get((_host(entry.link), path), set())
                hit = self._narrow(found, full or self.by_path.get(path, set()), "link")
                if hit is not None:
                    return hit
            slug = _link_slug(entry.link)
            if slug is not None:
                tried.append(f"its slug {shown(slug)}")
                hit = self._narrow(found, self.by_slug.get(slug, set()), "slug")
                if hit is not None:
                    return hit
        key = _title_key(entry.title)
        if not key:
            return replace(found, why=f"no article has {' or '.join(tried) or 'its link'}")
        same_title = self.by_title.get(key, [])
        fits = [
            a
            for a in same_title
            if a.path in self.undated
            or (
                entry.published is not None
                and _days(a.date, self.tz) & _days(entry.published, self.tz)
            )
        ]
        if len(fits) == 1:
            a = fits[0]
            how = "title (the article has no date)" if a.path in self.undated else "title and date"
            return replace(found, path=a.path, how=how)
        if fits:
            return replace(found, ambiguous=tuple(sorted(a.path for a in fits)))
        tried.append("its title and date")
        why = f"no article has {', '.join(tried[:-1])}{' or ' if len(tried) > 1 else ''}{tried[-1]}"
        if same_title:
            others = ", ".join(
                f"{a.path} ({a.date.astimezone(self.tz).date().isoformat()})"
                for a in sorted(same_title, key=lambda a: a.path)[:3]
            )
            why += f" (its title is that of {others}: another date)"
        return replace(found, why=why)

    def _narrow(self, found: Match, paths: set[str], how: str) -> Match | None:
        """One article: matched. Several: the one with the entry's title, else ambiguous."""
        if len(paths) == 1:
            return replace(found, path=next(iter(paths)), how=how)
        if not paths:
            return None
        titled = self._by_title(paths, found.entry.title)
        if len(titled) == 1:
            return replace(found, path=next(iter(titled)), how=f"{how} and title")
        return replace(found, ambiguous=tuple(sorted(titled or paths)))


def match(feeds: Iterable[OldFeed], articles: Iterable[Article], tz: tzinfo) -> list[Match]:
    """Each entry of each feed, matched to an article (by link, slug, or title and date),
    in the feeds' order."""
    index = _Articles(articles, tz)
    return [index.match(feed, entry) for feed in feeds for entry in feed.entries]


# -- deciding (pure) -------------------------------------------------------------------------

Status = Literal[
    "adopted", "unchanged", "refused", "kept", "conflict", "unmatched", "ambiguous", "skipped"
]
STATUSES: tuple[Status, ...] = (
    "adopted",
    "unchanged",
    "refused",
    "kept",
    "conflict",
    "unmatched",
    "ambiguous",
    "skipped",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    status: Status
    subject: str  # an article's path, or "<source>: <entry title>"
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Adoption:
    """An identity to store: ``identity`` replaces ``before`` (None: the article is new)."""

    path: str
    identity: Identity
    before: Identity | None
    matches: tuple[Match, ...]


_UNSAFE_SHOWN = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))


def printable(text: str) -> str:
    """Text fit for a terminal: controls and format characters (escape sequences, bidi
    overrides) escaped."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in _UNSAFE_SHOWN else c for c in text
    )


def shown(text: str, limit: int = 80) -> str:
    """Text from an old feed, fit for a terminal: quoted, :func:`printable`, long ones cut."""
    cut = text[:limit] if len(text) > limit else text
    return f'"{printable(cut)}{"..." if len(text) > limit else ""}"'


def _entry_subject(m: Match) -> str:
    title = shown(m.entry.title, 60) if m.entry.title.strip() else "(untitled)"
    return f"{m.feed.source}: {title}"


def _entry_facts(m: Match) -> str:
    facts = []
    if m.entry.link:
        facts.append(f"<{shown(m.entry.link)[1:-1]}>")
    if m.entry.published is not None:
        facts.append(m.entry.published.date().isoformat())
    return f" ({', '.join(facts)})" if facts else ""


def _how(matches: Sequence[Match]) -> str:
    ways = sorted({f"{m.how} in {m.feed.source}" for m in matches})
    return "matched by " + "; ".join(ways)


def adopted_identity(
    current: Identity,
    *,
    item_id: str | None,
    atom_id: str | None,
    published: datetime | None,
    now: datetime,
) -> Identity:
    """``current`` with the ids old entries had: ``item_id`` in RSS or JSON Feed, ``atom_id``
    in Atom (at least one of them), and the earliest date they were published.

    What one run does not say, an earlier adoption may have: adopting the Atom feed, then
    the RSS feed, keeps both ids. ``atom_id`` is set exactly when an Atom id was adopted,
    so an adopted ``article_id`` that differs from it (or stands alone) came from RSS or
    JSON Feed and is kept when only an Atom id comes."""
    was = current if current.adopted is not None else None
    atom = atom_id if atom_id is not None else (was.atom_id if was else None)
    item = item_id
    if item is None and was is not None and was.article_id != was.atom_id:
        item = was.article_id
    dates = [d for d in (published, was.first_seen if was else None) if d is not None]
    return replace(
        current,
        article_id=item or atom or "",
        atom_id=atom,
        first_seen=min(dates) if dates else current.first_seen,
        adopted=now,
    )


def decide(
    matches: Sequence[Match],
    articles: Mapping[str, Article],
    identities: Mapping[str, Identity],
    *,
    stored: Mapping[str, Identity],
    published: Callable[[str], bool],
    now: datetime,
    force: bool = False,
) -> tuple[list[Adoption], list[Outcome]]:
    """What to store, and what to say about every article and entry.

    ``articles`` and ``identities``: every article as settled now (``identities`` holds a
    new article's too, not stored yet). ``stored``: the identities in the state store.
    ``published``: whether an article's id (as its stored identity gives it) has appeared in
    a feed feedpub wrote; such an identity is replaced only with ``force``.
    """
    outcomes: list[Outcome] = []
    by_path: dict[str, list[Match]] = {}
    for m in matches:
        if m.path is not None:
            by_path.setdefault(m.path, []).append(m)
        elif m.ambiguous:
            outcomes.append(
                Outcome(
                    status="ambiguous",
                    subject=_entry_subject(m),
                    detail=f"{', '.join(m.ambiguous)} fit it equally{_entry_facts(m)}: not "
                    f"guessed; give the right one `id: {shown(entry_id(m.entry) or '', 200)}` "
                    "in its front matter",
                )
            )
        else:
            outcomes.append(
                Outcome(
                    status="unmatched", subject=_entry_subject(m), detail=m.why + _entry_facts(m)
                )
            )

    # one old id (and Atom id, and date) per article
    proposals: dict[str, tuple[Identity, list[Match]]] = {}
    for path, ms in sorted(by_path.items()):
        usable = [m for m in ms if entry_id(m.entry)]
        for m in ms:
            if not entry_id(m.entry):
                outcomes.append(
                    Outcome(
                        status="skipped",
                        subject=_entry_subject(m),
                        detail=f"has neither an id nor a link: nothing to keep (it is {path})",
                    )
                )
        if not usable:
            continue
        ids: dict[bool, dict[str, list[str]]] = {True: {}, False: {}}  # is Atom → id → sources
        for m in usable:
            ids[m.feed.format == "atom"].setdefault(entry_id(m.entry) or "", []).append(
                m.feed.source
            )
        clash = next((found for found in ids.values() if len(found) > 1), None)
        if clash is not None:
            listed = "; ".join(
                f"{shown(i)} in {', '.join(sorted(set(s)))}" for i, s in sorted(clash.items())
            )
            outcomes.append(
                Outcome(
                    status="conflict",
                    subject=path,
                    detail=f"old entries with different ids match it: {listed}; not adopted",
                )
            )
            continue
        dates = [m.entry.published for m in usable if m.entry.published is not None]
        new = adopted_identity(
            identities[path],
            item_id=next(iter(ids[False]), None),
            atom_id=next(iter(ids[True]), None),
            published=min(dates) if dates else None,
            now=now,
        )
        proposals[path] = (new, usable)

    owners: dict[str, set[str]] = {}  # old id → the articles entries with it match
    for path, ms in by_path.items():
        for m in ms:
            owners.setdefault(entry_id(m.entry) or "", set()).add(path)
    in_use = {a.id: a.path for a in articles.values()}
    adoptions: list[Adoption] = []
    for path, (new, ms) in sorted(proposals.items()):
        a = articles[path]
        article_id = new.article_id
        how = _how(ms)
        if len(owners.get(article_id, ())) > 1:
            detail = (
                f"the old id {shown(article_id)} matches {', '.join(sorted(owners[article_id]))}"
                f"; none adopted ({how})"
            )
            outcomes.append(Outcome(status="conflict", subject=path, detail=detail))
            continue
        other = in_use.get(article_id)
        if other is not None and other != path:
            outcomes.append(
                Outcome(
                    status="conflict",
                    subject=path,
                    detail=f"the old id {shown(article_id)} is the id of {other} already; not "
                    f"adopted ({how})",
                )
            )
            continue
        if a.meta.id:
            same = a.meta.id == article_id
            outcomes.append(
                Outcome(
                    status="unchanged" if same else "kept",
                    subject=path,
                    detail=f"its explicit id {shown(a.meta.id)} (front matter) is the old one"
                    if same
                    else f"its explicit id {shown(a.meta.id)} (front matter) wins over the old "
                    f"id {shown(article_id)}; remove it, or write the old one there ({how})",
                )
            )
            continue
        current = identities[path]
        key = (new.article_id, new.atom_id, new.first_seen)
        if (current.article_id, current.atom_id, current.first_seen) == key:
            outcomes.append(
                Outcome(
                    status="unchanged",
                    subject=path,
                    detail=f"has the old id {shown(article_id)} already ({how})",
                )
            )
            continue
        before = stored.get(path)
        if before is not None and published(path) and not force:
            outcomes.append(
                Outcome(
                    status="refused",
                    subject=path,
                    detail=f"its id {shown(a.id)} has appeared in a feed feedpub wrote: "
                    f"--force gives it the old id {shown(article_id)} (and readers of "
                    f"feedpub's feeds see it once more) ({how})",
                )
            )
            continue
        adoptions.append(Adoption(path=path, identity=new, before=before, matches=tuple(ms)))
    return adoptions, outcomes


# -- the command -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptReport:
    """What ``feedpub adopt`` read, did (or, dry, would do) and why."""

    feeds: tuple[OldFeed, ...]
    errors: tuple[str, ...]  # one line per feed that could not be read
    outcomes: tuple[Outcome, ...]
    dry_run: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def lines(self) -> list[str]:
        """The report, one line each: what was read, then ``<status> <subject>: <detail>``
        (articles by path, then entries in their feeds' order), then the counts."""
        out = [
            f"read {feed.source}: {_FORMAT_NAMES[feed.format]} feed "
            f"{shown(feed.title, 60) if feed.title else '(untitled)'}, "
            f"{len(feed.entries)} entr{'y' if len(feed.entries) == 1 else 'ies'}"
            for feed in self.feeds
        ]
        articles = sorted(
            (o for o in self.outcomes if o.status not in ("unmatched", "ambiguous", "skipped")),
            key=lambda o: o.subject,
        )
        entries = [o for o in self.outcomes if o.status in ("unmatched", "ambiguous", "skipped")]
        for o in [*articles, *entries]:
            label = "would adopt" if self.dry_run and o.status == "adopted" else o.status
            out.append(f"{label:<11} {o.subject}: {o.detail}")
        entries_read = sum(len(f.entries) for f in self.feeds)
        counts = [
            f"{n} {'to adopt' if self.dry_run and s == 'adopted' else s}"
            + (" (--force replaces them)" if s == "refused" else "")
            for s in STATUSES
            if (n := self.count(s))
        ]
        out.append(
            f"{entries_read} entr{'y' if entries_read == 1 else 'ies'} in {len(self.feeds)} "
            f"feed{'' if len(self.feeds) == 1 else 's'}"
            + (f": {', '.join(counts)}" if counts else "")
            + ("; dry run: nothing stored" if self.dry_run else "")
        )
        return out


def _adopted_detail(a: Article, adoption: Adoption) -> str:
    ident = adoption.identity
    ids = f"id {shown(a.id)}" + (f", Atom id {shown(a.atom_id)}" if a.atom_id != a.id else "")
    was = f"; was {shown(adoption.before.article_id)}" if adoption.before else ""
    first = ident.first_seen.astimezone(UTC).isoformat()
    return f"{ids}, first seen {first}{was} ({_how(adoption.matches)})"


def run(
    config: Config,
    sources: Sequence[str],
    *,
    now: datetime,
    force: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
) -> AdoptReport:
    """Read the old feeds, match their entries to the articles, and store the identities to
    adopt (unless ``dry_run``). Feeds that cannot be read are reported in the result."""
    from feedpub.articles.discover import excluding, scan
    from feedpub.build import Builder
    from feedpub.locks import build_lock

    feeds, errors = read_feeds(sources, workers=1 if workers is None or workers > 0 else 0)
    if not feeds:
        return AdoptReport(feeds=(), errors=tuple(errors), outcomes=(), dry_run=dry_run)
    articles_dir = config.paths.articles
    if not articles_dir.is_dir():
        raise ConfigError(
            f"the articles folder {articles_dir} does not exist", key="paths.articles"
        )
    with Builder(config, workers=workers) as builder:
        stats, _ = excluding(scan(articles_dir, []), config.paths.exclude)
        rows = [r for batch in builder.parse_files(list(stats.items())) for r in batch]
    metas = [r.meta for r in rows if r.meta is not None]
    target = config.state_target
    if dry_run and isinstance(target, Path) and not target.exists():  # (not created)
        adoptions, outcomes, final = _settle(config, None, feeds, metas, set(stats), now, force)
        return _report(feeds, errors, adoptions, outcomes, final, dry_run)
    # one writer at a time: a build (of a daemon too) waits, and then reads these files again
    with (
        contextlib.nullcontext() if dry_run else build_lock(config.paths.state),
        State(target) as state,
    ):
        adoptions, outcomes, final = _settle(config, state, feeds, metas, set(stats), now, force)
        if adoptions and not dry_run:
            with state.transaction():
                state.put_identities(a.identity for a in adoptions)
                state.reread(a.path for a in adoptions)
            log.info("adopted the old ids of %d articles", len(adoptions))
    return _report(feeds, errors, adoptions, outcomes, final, dry_run)


def _report(
    feeds: Sequence[OldFeed],
    errors: Sequence[str],
    adoptions: Sequence[Adoption],
    outcomes: Sequence[Outcome],
    final: Mapping[str, Article],
    dry_run: bool,
) -> AdoptReport:
    done = [
        Outcome(status="adopted", subject=a.path, detail=_adopted_detail(final[a.path], a))
        for a in adoptions
    ]
    return AdoptReport(
        feeds=tuple(feeds),
        errors=tuple(errors),
        outcomes=(*done, *outcomes),
        dry_run=dry_run,
    )


def _settle(
    config: Config,
    state: State | None,
    feeds: Sequence[OldFeed],
    metas: Sequence[ArticleMeta],
    files: set[str],
    now: datetime,
    force: bool,
) -> tuple[list[Adoption], list[Outcome], dict[str, Article]]:
    """Settle the articles as the next build would, match, decide; and the adopted articles
    as the build after adopting will publish them (their ids in every format)."""
    site = config.site
    stored_all = state.identities() if state is not None else {}
    paths = {m.path for m in metas}
    known = {p: i for p, i in stored_all.items() if p in paths}
    new_hashes = [m.content_hash for m in metas if m.path not in known]
    orphans = state.orphans_for(new_hashes) if state is not None and new_hashes else {}
    # slugs of files that are there but do not parse now stay theirs
    taken = {i.slug for p, i in stored_all.items() if i.live and p in files and p not in paths}

    def settle(
        batch: Sequence[ArticleMeta],
        idents: Mapping[str, Identity],
        orphans: Mapping[str, Identity],
    ) -> tuple[dict[str, Article], dict[str, Identity]]:
        keys = atom_id_keys(batch, [*idents.values(), *orphans.values()])
        settled = resolve(
            batch,
            idents,
            orphans=orphans,
            taken=taken,
            now=now,
            tz=site.tz,
            host=site.host,
            article_url=site.article_url,
            base_url=site.base_url,
            atom_ids=state.atom_ids_for(keys) if state is not None else {},
            language=site.language,
        )
        return (
            {a.path: a for a in settled.articles},
            {**idents, **{i.path: i for i in settled.identities}},
        )

    articles, identities = settle(metas, known, orphans)
    last_build = state.get("last_build") if state is not None else None
    wrote = state is not None and last_build is not None and state.wrote_feeds()
    built = state.settled_ids(known) if state is not None and wrote else {}

    def published(path: str) -> bool:
        """Whether the article's id, as its stored identity gives it, has appeared in a feed
        feedpub wrote: a build settled it so (the index holds it) and published feeds. With
        no index to go by (a new schema emptied it), its identity was settled (first seen,
        or adopted) by the last build or before."""
        if not wrote or last_build is None:
            return False
        if path in built:
            return built[path] == articles[path].id
        ident = known[path]
        return (ident.adopted or ident.first_seen) <= datetime.fromisoformat(last_build)

    adoptions, outcomes = decide(
        match(feeds, articles.values(), site.tz),
        articles,
        identities,
        stored=known,
        published=published,
        now=now,
        force=force,
    )
    adopted = {a.path: a.identity for a in adoptions}
    final, _ = settle([m for m in metas if m.path in adopted], adopted, {})
    return adoptions, outcomes, final
