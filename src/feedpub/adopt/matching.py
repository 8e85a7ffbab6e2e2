"""Matching old entries to articles (pure): see :mod:`feedpub.adopt`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from urllib.parse import unquote, urlsplit

from feedpub.adopt.feeds import OldEntry, OldFeed, shown
from feedpub.articles.dates import date_from_filename
from feedpub.identity import wanted_slug
from feedpub.model import Article
from feedpub.slug import slugify


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
