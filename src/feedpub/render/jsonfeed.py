"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1).

``content_html`` is the only HTML in the format (sanitised); every other string is plain text
(:mod:`feedpub.render.safe`); every URL is http(s).
"""

from __future__ import annotations

import json
from typing import Any

from feedpub.model import FeedSpec
from feedpub.render import BodySource, Links, entry_authors, safe


def render_json(spec: FeedSpec, links: Links, bodies: BodySource) -> bytes:
    site = links.site
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": safe.text(spec.title),
        "home_page_url": links.home,
        "feed_url": links.feed_url(spec.key, "json"),  # (the feed's, on every page of it)
        "description": safe.text(site.description or spec.title),
        "language": safe.text(spec.language or site.language),
    }
    if spec.prev_page:  # JSON Feed 1.1 pagination: the next page holds older items
        feed["next_url"] = links.feed_url(spec.key, "json", spec.prev_page)
    if site.author:
        feed["authors"] = [{"name": safe.text(site.author)}]
    if links.hubs and not spec.page:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in links.hubs]
    items: list[dict[str, Any]] = []
    for a in spec.entries:
        body = bodies(a.path)
        item: dict[str, Any] = {"id": a.id, "url": a.url, "title": safe.text(a.meta.title)}
        if a.meta.via:
            item["external_url"] = a.meta.via  # the original it is taken from
        summary = safe.text(a.meta.summary or (body.summary if body else ""))
        if body is not None and spec.content == "full" and body.in_feeds:
            item["content_html"] = body.content_html
        else:
            item["content_text"] = summary
        if summary:
            item["summary"] = summary
        if a.meta.image:
            item["image"] = a.meta.image
        item["date_published"] = a.date.isoformat()
        item["date_modified"] = a.updated.isoformat()
        authors = entry_authors(a, site)
        if authors:
            item["authors"] = [
                {k: v for k, v in (("name", safe.text(au.name)), ("url", au.url)) if v}
                for au in authors
            ]
        tags = list(dict.fromkeys(safe.text(t) for t in a.meta.categories + a.meta.tags))
        if tags:
            item["tags"] = tags
        if a.meta.enclosure:
            enc = a.meta.enclosure
            att: dict[str, Any] = {"url": enc.url, "mime_type": safe.text(enc.type)}
            if enc.length:
                att["size_in_bytes"] = enc.length
            if a.meta.duration:
                att["duration_in_seconds"] = a.meta.duration
            item["attachments"] = [att]
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode()
