"""Where everything feedpub publishes lives, and how each file names itself: the one place
that knows feed paths (``feeds/<key>.<ext>``, archives, the index's pages), the feeds' media
types and the ``Link`` headers a feed is served and sent with. The builder, the server, the
daemon, the notifier and the redirects all ask here."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import NamedTuple

from feedpub.model import FeedFormat

MEDIA_TYPES: dict[FeedFormat, str] = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
EXTENSIONS: dict[FeedFormat, str] = {"atom": "atom.xml", "rss": "rss.xml", "json": "json"}
FEED_SUFFIXES = tuple("." + ext for ext in EXTENSIONS.values())
FEEDS_DIR = "feeds/"
OPML_PATH = "feeds/index.opml"
INDEX_PATH = "index.html"
ARCHIVE_DIR = "feeds/archive/"  # RFC 5005 archive documents: feeds/archive/<key>/<n>.<ext>
INDEX_PAGES_DIR = "page/"  # the index's older pages: page/<n>/index.html
STYLESHEET_PATH = "feeds/feed.xsl"  # the XSLT stylesheet Atom and RSS feeds name ([feeds])


def feed_relpath(key: str, fmt: FeedFormat, page: int = 0) -> str:
    """A feed's file (``page`` 0), or its archive document ``page`` (1 is the oldest)."""
    if page:
        return f"{ARCHIVE_DIR}{key}/{page}.{EXTENSIONS[fmt]}"
    return f"{FEEDS_DIR}{key}.{EXTENSIONS[fmt]}"


def stylesheet_href(relpath: str) -> str:
    """The stylesheet's URL as a feed at ``relpath`` names it: relative to the feed, so
    that it works for archive documents in subfolders and wherever the output folder is
    served from (the site, a preview, a mirror)."""
    return posixpath.relpath(STYLESHEET_PATH, posixpath.dirname(relpath))


def index_relpath(page: int = 0) -> str:
    """The site index (``page`` 0), or its older page ``page`` (1 lists the oldest)."""
    return f"{INDEX_PAGES_DIR}{page}/index.html" if page else INDEX_PATH


class FeedFile(NamedTuple):
    key: str  # "all", a category's, a tag's ("python.tag"), a language's ("all-fr")
    fmt: FeedFormat
    page: int  # 0: the subscription document; n: its archive document n


def feed_file(relpath: str) -> FeedFile | None:
    """What :func:`feed_relpath` made ``relpath`` of, or None when it names no feed."""
    if not relpath.startswith(FEEDS_DIR) or relpath == OPML_PATH:
        return None
    for fmt, ext in EXTENSIONS.items():
        if not relpath.endswith("." + ext):
            continue
        stem = relpath[: -len(ext) - 1]
        if stem.startswith(ARCHIVE_DIR):
            key, _, page = stem[len(ARCHIVE_DIR) :].rpartition("/")
            if key and page.isascii() and page.isdigit() and page[0] != "0":
                return FeedFile(key, fmt, int(page))
            return None
        key = stem[len(FEEDS_DIR) :]
        return FeedFile(key, fmt, 0) if key and "/" not in key else None
    return None


def feed_links(self_url: str, hubs: Sequence[str], *, subscription: bool) -> tuple[str, list[str]]:
    """A feed's ``Link`` header values: its ``self`` link, and its ``hub`` links (WebSub
    topics are subscription documents only: an archive document advertises no hub)."""
    return f'<{self_url}>; rel="self"', (
        [f'<{hub}>; rel="hub"' for hub in hubs] if subscription else []
    )
