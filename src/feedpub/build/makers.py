"""Feed documents made lazily (rendered only if their fingerprint changed), within the
body budget, and the fingerprints of archive pages."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from feedpub import __version__
from feedpub.model import (
    Article,
    FeedSpec,
    Member,
)
from feedpub.planning import (
    EPOCH,
)
from feedpub.render import (
    EntryBody,
    Links,
)

log = logging.getLogger(__name__)

FEED_CONTENT_FACTOR = 4
"""A feed carries at most this many times ``feeds.max_content_bytes`` of content in all (2 MiB
by default); later entries carry their summary. Every category feed an article is in holds
its body, and every reader and hub subscriber fetches every feed."""


def within_budget(
    spec: FeedSpec, body: Callable[[str], EntryBody | None], budget: int
) -> Callable[[str], EntryBody | None]:
    """``body``, but for the entries past the feed's content budget (newest first), which
    show their summary."""
    shown: set[str] = set()
    used = 0
    for a in spec.entries:
        b = body(a.path)
        if b is None or not b.in_feeds:
            continue
        used += len(b.content_html)
        if used > budget:
            break
        shown.add(a.path)

    def budgeted(path: str) -> EntryBody | None:
        b = body(path)
        return b if b is None or path in shown else replace(b, in_feeds=False)

    return budgeted


def feed_maker(
    spec: FeedSpec | Callable[[], FeedSpec],
    fmt: str,
    links: Links,
    body: Callable[[str], EntryBody | None],
    budget: int,
) -> Callable[[], bytes]:
    """Renders ``spec`` (or the spec a function makes when called: an archive page's, whose
    articles are loaded only if it is rendered) in one format."""

    def make() -> bytes:
        the_spec = spec if isinstance(spec, FeedSpec) else spec()
        body_of = within_budget(the_spec, body, budget)
        if fmt == "json":
            from feedpub.render.jsonfeed import render_json

            return render_json(the_spec, links, body_of)
        from feedpub.render.xmlfeeds import render_xml

        return render_xml(the_spec, "atom" if fmt == "atom" else "rss", links, body_of)

    return make


def archive_spec(
    page: FeedSpec, members: Sequence[Member], loaded: Mapping[str, Article]
) -> Callable[[], FeedSpec]:
    """An archive page's spec, made when it is rendered (its articles loaded by then):
    its entries newest first, as in every feed document."""

    def make() -> FeedSpec:
        entries = tuple(loaded[m.path] for m in reversed(members) if m.path in loaded)
        return replace(
            page, entries=entries, updated=max((a.updated for a in entries), default=EPOCH)
        )

    return make


def members_digest(members: Sequence[Member]) -> str:
    """A digest of a page of archived articles, from the index's columns (the content hash
    stands for everything the file of an article says): computed once per page and build,
    however many documents (formats, the index's older page) show that page."""
    blob = json.dumps([tuple(m) for m in members], ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def members_fingerprint(config_fp: str, what: str, extra: object, digest: str) -> str:
    """The fingerprint of one document showing a page of archived articles: what it is
    (``what``, ``extra``) and the page's :func:`members_digest`."""
    blob = json.dumps(
        [__version__, config_fp, what, extra, digest], ensure_ascii=False, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()
