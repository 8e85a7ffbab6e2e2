"""Parsing an old feed (in a worker process): feedparser for Atom and RSS, ``json`` for JSON
Feed; what matching needs of each entry, or why the bytes are no feed."""

from __future__ import annotations

import html
import json
import re
import time
from datetime import UTC, datetime

from feedpub.adopt.feeds import OldEntry, OldFeed, OldFormat
from feedpub.errors import one_line


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
        doc: object = json.loads(body)
    except (ValueError, RecursionError) as e:
        return f"not a feed (not JSON: {one_line(e)})"
    version = doc.get("version") if isinstance(doc, dict) else None
    if not (
        isinstance(doc, dict)
        and isinstance(version, str)
        and version.startswith("https://jsonfeed.org/version/")
    ):
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
