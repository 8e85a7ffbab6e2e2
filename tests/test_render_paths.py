"""render/paths.py: the one place that knows which file is which feed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.config import SiteConfig
from feedpub.model import FeedFormat
from feedpub.render import Links
from feedpub.render.paths import EXTENSIONS, FeedFile, feed_file, feed_relpath


@pytest.mark.parametrize(
    ("relpath", "found"),
    [
        ("feeds/all.atom.xml", FeedFile("all", "atom", 0)),
        ("feeds/python.tag.rss.xml", FeedFile("python.tag", "rss", 0)),  # (a "." in the key)
        ("feeds/all-fr.json", FeedFile("all-fr", "json", 0)),
        ("feeds/archive/tech/3.atom.xml", FeedFile("tech", "atom", 3)),
        ("feeds/index.opml", None),
        ("feeds/archive/tech/03.atom.xml", None),
        ("feeds/archive/tech/x.json", None),
        ("feeds/a/b.json", None),
        ("articles/x/index.html", None),
        ("feeds/.json", None),
    ],
)
def test_feed_files_are_named_one_way(relpath: str, found: FeedFile | None) -> None:
    assert feed_file(relpath) == found


@given(
    st.from_regex(r"[a-z0-9-]{1,20}(\.tag)?", fullmatch=True),
    st.sampled_from(list(EXTENSIONS)),
    st.integers(0, 10_000),
)
def test_a_feed_path_reads_back_as_what_made_it(key: str, fmt: FeedFormat, page: int) -> None:
    assert feed_file(feed_relpath(key, fmt, page)) == FeedFile(key, fmt, page)


def test_link_headers_name_the_feed_and_hubs_only_for_subscription_documents() -> None:
    links = Links(
        site=SiteConfig(title="T", base_url="https://e.org/"), hubs=("https://hub.e.org/",)
    )
    assert links.link_headers("feeds/python.tag.atom.xml") == [
        '<https://e.org/feeds/python.tag.atom.xml>; rel="self"',
        '<https://hub.e.org/>; rel="hub"',
    ]
    assert links.link_headers("feeds/archive/all/2.json") == [
        '<https://e.org/feeds/archive/all/2.json>; rel="self"'
    ]
    assert links.link_headers("index.html") == []
