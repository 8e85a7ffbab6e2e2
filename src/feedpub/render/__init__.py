"""Rendering planned feeds and pages to bytes. Pure: values in, bytes out.

``xmlfeeds`` is the only module that imports feedgen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from feedpub.config import SiteConfig
from feedpub.model import Article, Author, FeedFormat
from feedpub.render.paths import (  # (where files live: render/paths.py)
    ARCHIVE_DIR,
    EXTENSIONS,
    INDEX_PAGES_DIR,
    INDEX_PATH,
    MEDIA_TYPES,
    OPML_PATH,
    STYLESHEET_PATH,
    feed_file,
    feed_links,
    feed_relpath,
    index_relpath,
)

__all__ = [
    "ARCHIVE_DIR",
    "EXTENSIONS",
    "INDEX_PAGES_DIR",
    "INDEX_PATH",
    "MEDIA_TYPES",
    "OPML_PATH",
    "STYLESHEET_PATH",
    "BodySource",
    "EntryBody",
    "Links",
    "entry_authors",
    "feed_relpath",
    "index_relpath",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryBody:
    """An article's rendered body: HTML sanitised when the article was parsed
    (:func:`feedpub.articles.body.prepare_body`, the one place that decides what HTML a
    reader may receive), with absolute URLs, and a plain-text summary."""

    content_html: str
    summary: str
    in_feeds: bool = True  # False: too large for a feed entry, which shows the summary


BodySource = Callable[[str], "EntryBody | None"]


def entry_authors(a: Article, site: SiteConfig) -> tuple[Author, ...]:
    """The article's authors, or the site's author when the article names none."""
    if a.meta.authors or not site.author:
        return a.meta.authors
    return (Author(name=site.author, email=site.author_email),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Links:
    """Every URL the renderers put in documents."""

    site: SiteConfig
    hubs: tuple[str, ...] = ()
    stylesheet: bool = False  # Atom and RSS documents name the stylesheet ([feeds] stylesheet)

    def feed_url(self, key: str, fmt: FeedFormat, page: int = 0) -> str:
        return self.site.base_url + quote(feed_relpath(key, fmt, page))

    def link_headers(self, relpath: str) -> list[str]:
        """The ``Link`` header values a published file is served with: a feed's ``self``
        (and, for a subscription document, its hubs); nothing for other files."""
        found = feed_file(relpath)
        if found is None:
            return []
        self_link, hub_links = feed_links(
            self.feed_url(found.key, found.fmt, found.page), self.hubs, subscription=not found.page
        )
        return [self_link, *hub_links]

    def feed_relpath_of(self, url: str) -> str | None:
        """The output path of the feed (or archive document) at ``url`` on this site, or
        None when ``url`` names no feed of ours (what the hub may take as a topic)."""
        if not url.startswith(self.site.base_url):
            return None
        relpath = unquote(url[len(self.site.base_url) :])
        return relpath if feed_file(relpath) is not None else None

    def index_url(self, page: int = 0) -> str:
        return self.site.base_url + (f"{INDEX_PAGES_DIR}{page}/" if page else "")

    @property
    def home(self) -> str:
        return self.site.base_url
