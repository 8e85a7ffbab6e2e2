"""``feedpub adopt``, parsing: what each format of old feed says, and what is no feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.adopt import OldEntry, OldFeed, entry_id, parse_feed, shown
from tests.adopt_helpers import HELLO, SECOND, atom_feed, rss_feed


def test_parsing_each_format() -> None:
    atom = parse_feed(("a", atom_feed([HELLO])))
    assert isinstance(atom, OldFeed)
    assert (atom.format, atom.title) == ("atom", "Old blog")
    assert atom.entries == (
        OldEntry(
            id=HELLO[0],
            link=HELLO[0],
            title="Hello World",
            published=datetime(2020, 1, 2, 8, tzinfo=timezone(timedelta(hours=-8))),
        ),
    )
    rss = parse_feed(("r", rss_feed([SECOND], guids=False)))
    assert isinstance(rss, OldFeed)
    (item,) = rss.entries
    assert (item.id, entry_id(item)) == (None, SECOND[2])  # no guid: readers use the link
    assert item.published == datetime(2020, 2, 3, 10, tzinfo=UTC)
    doc = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1",
            "items": [{"id": 7, "title": "T", "date_modified": "2020-01-01T00:00:00Z"}, "junk"],
        }
    ).encode()
    jf = parse_feed(("j", b"\xef\xbb\xbf" + doc))
    assert isinstance(jf, OldFeed)
    assert jf.entries == (
        OldEntry(id="7", link=None, title="T", published=datetime(2020, 1, 1, tzinfo=UTC)),
    )
    html_title = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:1</id>
        <title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; more</title></entry></feed>"""
    parsed = parse_feed(("h", html_title))
    assert isinstance(parsed, OldFeed)
    assert parsed.entries[0].title == "Bold & more"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><p>hi</p></html>", "not a feed (no Atom, RSS or JSON Feed document"),
        (b"", "not a feed (no Atom, RSS or JSON Feed document"),
        (b"{nope", "not a feed (not JSON: "),
        (b"[" * 100_000 + b"]" * 100_000, "not a feed (not JSON: "),
        (b'{"version": "1"}', "not a feed (JSON, but no JSON Feed version)"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', "not a feed (its items"),
    ],
)
def test_what_is_no_feed_says_so(data: bytes, message: str) -> None:
    if data.startswith(b"["):
        data = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + data + b"}"
    result = parse_feed(("x", data))
    assert isinstance(result, str)
    assert result.startswith(message)


def test_text_from_old_feeds_is_shown_safely() -> None:
    assert shown("a\x1b[2Jb\u202ec") == '"a\\u001b[2Jb\\u202ec"'
    assert shown("x" * 100, 10) == '"xxxxxxxxxx..."'


@given(st.binary(max_size=2000))
def test_parsing_any_bytes_gives_a_feed_or_a_reason(data: bytes) -> None:
    assert isinstance(parse_feed(("x", data)), OldFeed | str)
