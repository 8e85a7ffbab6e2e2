"""Rendering planned feeds and pages to bytes. Pure: values in, bytes out.

``xmlfeeds`` is the only module that imports feedgen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from feedpub.config import SiteConfig
from feedpub.model import Article, Author, FeedFormat

MEDIA_TYPES: dict[FeedFormat, str] = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
EXTENSIONS: dict[FeedFormat, str] = {"atom": "atom.xml", "rss": "rss.xml", "json": "json"}
OPML_PATH = "feeds/index.opml"
INDEX_PATH = "index.html"


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


ARCHIVE_DIR = "feeds/archive/"  # RFC 5005 archive documents: feeds/archive/<key>/<n>.<ext>
INDEX_PAGES_DIR = "page/"  # the index's older pages: page/<n>/index.html


def feed_relpath(key: str, fmt: FeedFormat, page: int = 0) -> str:
    """A feed's file (``page`` 0), or its archive document ``page`` (1 is the oldest)."""
    if page:
        return f"{ARCHIVE_DIR}{key}/{page}.{EXTENSIONS[fmt]}"
    return f"feeds/{key}.{EXTENSIONS[fmt]}"


def index_relpath(page: int = 0) -> str:
    """The site index (``page`` 0), or its older page ``page`` (1 lists the oldest)."""
    return f"{INDEX_PAGES_DIR}{page}/index.html" if page else INDEX_PATH


@dataclass(frozen=True, slots=True, kw_only=True)
class Links:
    """Every URL the renderers put in documents."""

    site: SiteConfig
    hubs: tuple[str, ...] = ()

    def feed_url(self, key: str, fmt: FeedFormat, page: int = 0) -> str:
        return self.site.base_url + quote(feed_relpath(key, fmt, page))

    def index_url(self, page: int = 0) -> str:
        return self.site.base_url + (f"{INDEX_PAGES_DIR}{page}/" if page else "")

    @property
    def home(self) -> str:
        return self.site.base_url
