"""render/jsonfeed.py called directly: JSON Feed 1.1 built from hand-made values, checked
against what the specification requires, for the same bytes every time, and for hostile text
that stays text.

(feedparser reads no JSON Feed: the document is read back with the standard json module.)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.articles.text import xml_safe
from feedpub.config import SiteConfig
from feedpub.model import Author, Enclosure, FeedSpec
from feedpub.render import EntryBody, Links
from feedpub.render.jsonfeed import render_json
from tests.render_helpers import (
    BASE,
    BODY,
    HUB,
    LINKS,
    RFC_3339,
    TITLES,
    UNTRUSTED,
    article,
    bodies,
    feed,
    links,
)
from tests.test_render import json_problems

VERSION = "https://jsonfeed.org/version/1.1"
FEED_URL = f"{BASE}feeds/all.json"


def render(spec: FeedSpec, lk: Links = LINKS, body: EntryBody | None = BODY) -> dict[str, Any]:
    data = render_json(spec, lk, bodies(body))
    document = json.loads(data)
    assert isinstance(document, dict)
    return document


def jsonfeed_problems(doc: dict[str, Any]) -> list[str]:
    """What JSON Feed 1.1 requires: the version URL, a title, items each with a string id and
    content (html or text), authors naming someone, RFC 3339 dates, attachments with a URL
    and a type; strings where strings go."""
    found: list[str] = []
    if doc.get("version") != VERSION:
        found.append(f"version {doc.get('version')!r}")
    if not isinstance(doc.get("title"), str):
        found.append("no title")
    if not isinstance(doc.get("items"), list):
        return [*found, "no items"]
    for key in ("home_page_url", "feed_url", "description", "language", "next_url"):
        if key in doc and not isinstance(doc[key], str):
            found.append(f"{key} is not a string")

    def authors(value: object, where: str) -> None:
        if not isinstance(value, list) or not value:
            found.append(f"{where}: authors is not a list of authors")
            return
        for author in value:
            if not isinstance(author, dict) or not ({"name", "url", "avatar"} & author.keys()):
                found.append(f"{where}: an author names no one: {author!r}")

    if "authors" in doc:
        authors(doc["authors"], "feed")
    for hub in doc.get("hubs", []):
        if not (isinstance(hub.get("type"), str) and isinstance(hub.get("url"), str)):
            found.append(f"hub {hub!r}: type and url are required")
    ids: set[str] = set()
    for i, item in enumerate(doc["items"]):
        where = f"item {i}"
        if not isinstance(item.get("id"), str) or not item["id"]:
            found.append(f"{where}: id {item.get('id')!r} is not a string")
        elif item["id"] in ids:
            found.append(f"{where}: id {item['id']!r} repeated")
        else:
            ids.add(item["id"])
        if "content_html" not in item and "content_text" not in item:
            found.append(f"{where}: neither content_html nor content_text")
        for key in ("date_published", "date_modified"):
            if key in item and not RFC_3339.fullmatch(item[key]):
                found.append(f"{where}: {key} {item[key]!r} is not RFC 3339")
        if "authors" in item:
            authors(item["authors"], where)
        if "tags" in item and not all(isinstance(t, str) for t in item["tags"]):
            found.append(f"{where}: tags are not strings")
        for att in item.get("attachments", []):
            if not (isinstance(att.get("url"), str) and isinstance(att.get("mime_type"), str)):
                found.append(f"{where}: an attachment without url or mime_type")
    return found


SHAPES: dict[str, tuple[FeedSpec, Links]] = {
    "empty": (feed(), LINKS),
    "one": (feed(article(1)), LINKS),
    "no site author": (feed(article(1)), links(SiteConfig(title="T", base_url=BASE))),
    "everything": (
        feed(
            article(
                2,
                summary="Sum.",
                authors=(Author(name="Bo", url="https://bo.example/"), Author(name="Cy")),
                categories=("News", "Tech"),
                tags=("tech", "News"),
                via="https://elsewhere.example/x",
                image=f"{BASE}img/c.png",
                enclosure=Enclosure(url=f"{BASE}m.mp3", type="audio/mpeg", length=5),
                duration=61,
            ),
            article(1),
        ),
        links(hubs=(HUB,)),
    ),
    "archive page": (feed(article(1), page=2, prev_page=1, next_page=3), links(hubs=(HUB,))),
    "summaries": (feed(article(1), content="summary"), LINKS),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_json_feed_has_what_json_feed_1_1_requires(shape: str) -> None:
    spec, lk = SHAPES[shape]
    doc = render(spec, lk)
    assert jsonfeed_problems(doc) == []
    assert json_problems(doc, shape) == []  # content_html sanitised, URLs http(s)
    assert doc["feed_url"] == FEED_URL
    assert doc["home_page_url"] == BASE
    assert [item["id"] for item in doc["items"]] == [a.id for a in spec.entries]
    assert [item["url"] for item in doc["items"]] == [a.url for a in spec.entries]
    assert [datetime.fromisoformat(item["date_published"]) for item in doc["items"]] == [
        a.date for a in spec.entries
    ]


def test_the_checks_find_what_json_feed_forbids() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1",
        "items": [
            {"id": 1, "authors": [{}], "date_published": "yesterday"},
            {"id": "a", "content_text": "", "attachments": [{"url": "u"}]},
            {"id": "a", "content_text": "", "tags": [1]},
        ],
    }
    assert jsonfeed_problems(doc) == [
        "version 'https://jsonfeed.org/version/1'",
        "no title",
        "item 0: id 1 is not a string",
        "item 0: neither content_html nor content_text",
        "item 0: date_published 'yesterday' is not RFC 3339",
        "item 0: an author names no one: {}",
        "item 1: an attachment without url or mime_type",
        "item 2: id 'a' repeated",
        "item 2: tags are not strings",
    ]


def test_every_field_of_an_item() -> None:
    spec, lk = SHAPES["everything"]
    first, second = render(spec, lk)["items"]
    assert first == {
        "id": "tag:example.org,2025:a2",
        "url": f"{BASE}articles/a2/",
        "title": "Article 2",
        "external_url": "https://elsewhere.example/x",
        "content_html": BODY.content_html,
        "summary": "Sum.",
        "image": f"{BASE}img/c.png",
        "date_published": "2025-01-03T09:30:00+00:00",
        "date_modified": "2025-01-03T09:30:00+00:00",
        "authors": [{"name": "Bo", "url": "https://bo.example/"}, {"name": "Cy"}],
        "tags": ["News", "Tech", "tech"],  # categories then tags, each once
        "attachments": [
            {
                "url": f"{BASE}m.mp3",
                "mime_type": "audio/mpeg",
                "size_in_bytes": 5,
                "duration_in_seconds": 61,
            }
        ],
    }
    assert second["authors"] == [{"name": "Ada"}]  # the site's author when it names none
    assert "tags" not in second and "attachments" not in second


def test_feed_fields_pages_and_hubs() -> None:
    spec = feed(article(1), prev_page=4)
    doc = render(spec, links(hubs=(HUB,)))
    assert {k: v for k, v in doc.items() if k != "items"} == {
        "version": VERSION,
        "title": "Example",
        "home_page_url": BASE,
        "feed_url": FEED_URL,
        "description": "Notes from an example",
        "language": "en",
        "next_url": f"{BASE}feeds/archive/all/4.json",  # the next page holds older items
        "authors": [{"name": "Ada"}],
        "hubs": [{"type": "WebSub", "url": HUB}],
    }
    # an archive page is nobody's WebSub topic; its feed_url is still the feed's
    page = render(feed(article(1), page=4, prev_page=3, next_page=5), links(hubs=(HUB,)))
    assert "hubs" not in page
    assert page["feed_url"] == FEED_URL
    assert page["next_url"] == f"{BASE}feeds/archive/all/3.json"
    # the oldest page has no older one; a feed's own language wins over the site's
    oldest = render(feed(article(1), page=1, next_page=2, language="fr"))
    assert "next_url" not in oldest
    assert oldest["language"] == "fr"
    site = SiteConfig(title="T", base_url=BASE)
    assert "authors" not in render(feed(article(1)), links(site))
    assert render(feed(article(1), title="Only"), links(site))["description"] == "Only"


@pytest.mark.parametrize(
    ("content", "body", "expected"),
    [
        ("full", BODY, {"content_html": BODY.content_html, "summary": "Body text."}),
        ("summary", BODY, {"content_text": "Body text.", "summary": "Body text."}),
        (
            "full",
            EntryBody(content_html="<p>big</p>", summary="Big.", in_feeds=False),
            {"content_text": "Big.", "summary": "Big."},
        ),
        ("full", None, {"content_text": ""}),  # no body known: empty text, still content
    ],
)
def test_content_html_only_when_the_feed_shows_it_and_it_fits(
    content: str, body: EntryBody | None, expected: dict[str, str]
) -> None:
    spec = feed(article(1), content="full" if content == "full" else "summary")
    [item] = render(spec, body=body)["items"]
    got = {k: item[k] for k in ("content_html", "content_text", "summary") if k in item}
    assert got == expected


def test_bytes_are_utf_8_pretty_and_the_same_every_time() -> None:
    spec = feed(article(1, title="Ünïcødé 日本語 \U0001f600 \u200f"))
    data = render_json(spec, LINKS, bodies())
    assert data == render_json(spec, LINKS, bodies())
    assert data.endswith(b"}\n")
    assert "日本語 \U0001f600".encode() in data  # not \\u-escaped
    assert data == (json.dumps(json.loads(data), ensure_ascii=False, indent=2) + "\n").encode()


@settings(max_examples=20)
@given(st.permutations(list(SHAPES)))
def test_rendering_order_changes_no_feeds_bytes(order: list[str]) -> None:
    expected = {name: render_json(s, lk, bodies()) for name, (s, lk) in SHAPES.items()}
    for name in order:
        spec, lk = SHAPES[name]
        assert render_json(spec, lk, bodies()) == expected[name]


@settings(max_examples=150)
@given(
    title=TITLES,
    summary=UNTRUSTED,
    names=st.lists(TITLES, min_size=1, max_size=3),
    labels=st.lists(UNTRUSTED, max_size=4),
    site_title=TITLES,
    description=UNTRUSTED,
    mime=UNTRUSTED,
)
def test_hostile_text_stays_text_in_json_feed(
    title: str,
    summary: str,
    names: list[str],
    labels: list[str],
    site_title: str,
    description: str,
    mime: str,
) -> None:
    """Every string but ``content_html`` is plain text (JSON Feed 1.1): what was written,
    less the characters XML cannot carry (the same text in every format), valid UTF-8."""
    site = SiteConfig(title=site_title, base_url=BASE, author=names[0], description=description)
    a = article(
        1,
        title=title,
        summary=summary or None,
        authors=tuple(Author(name=n) for n in names),
        categories=tuple(labels[:2]),
        tags=tuple(labels[2:]),
        enclosure=Enclosure(url=f"{BASE}m.mp3", type=mime),
    )
    data = render_json(feed(a, title=site_title), links(site), bodies(None))
    doc = json.loads(data.decode("utf-8"))  # strict UTF-8: no lone surrogate got through
    assert jsonfeed_problems(doc) == []
    assert json_problems(doc, "json") == []
    assert doc["title"] == xml_safe(site_title)
    assert doc["description"] == xml_safe(description or site_title)
    assert doc["authors"] == [{"name": xml_safe(names[0])}]
    [item] = doc["items"]
    assert item["title"] == xml_safe(title)
    assert item["content_text"] == xml_safe(summary)
    assert item.get("summary", "") == xml_safe(summary)
    assert item["authors"] == [{"name": xml_safe(n)} for n in names if xml_safe(n)]
    assert item.get("tags", []) == list(dict.fromkeys(xml_safe(t) for t in labels))
    assert item["attachments"][0]["mime_type"] == xml_safe(mime)
