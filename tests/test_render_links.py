"""render/__init__.py: the URLs every renderer writes (``Links``), who an entry's authors are
(``entry_authors``), and the agreement between a published file's path and its URL."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.config import SiteConfig
from feedpub.model import Author, FeedFormat
from feedpub.render import EntryBody, Links, entry_authors, feed_relpath, index_relpath
from feedpub.render.paths import EXTENSIONS
from tests.render_helpers import BASE, LINKS, SITE, article


def test_feed_urls_are_the_feeds_paths_below_the_base_url_percent_encoded() -> None:
    assert LINKS.feed_url("all", "atom") == f"{BASE}feeds/all.atom.xml"
    assert LINKS.feed_url("python.tag", "json") == f"{BASE}feeds/python.tag.json"
    assert LINKS.feed_url("caf\u00e9", "rss") == f"{BASE}feeds/caf%C3%A9.rss.xml"
    assert LINKS.feed_url("all", "rss", 3) == f"{BASE}feeds/archive/all/3.rss.xml"
    sub = Links(site=dataclasses.replace(SITE, base_url="https://example.org/blog/"))
    assert sub.feed_url("all", "json") == "https://example.org/blog/feeds/all.json"


def test_index_urls_are_where_the_index_pages_are_published() -> None:
    assert LINKS.home == LINKS.index_url() == LINKS.index_url(0) == BASE
    assert LINKS.index_url(4) == f"{BASE}page/4/"
    for page in (0, 1, 4, 1000):
        # (a folder's URL serves its index.html)
        assert LINKS.index_url(page) + "index.html" == BASE + index_relpath(page)


@given(
    st.from_regex(r"[a-z0-9-]{1,20}(\.tag)?", fullmatch=True),
    st.sampled_from(list(EXTENSIONS)),
    st.integers(0, 10_000),
)
def test_a_feeds_url_is_its_path_and_its_self_link_header(
    key: str, fmt: FeedFormat, page: int
) -> None:
    links = Links(site=SITE, hubs=("https://hub.example.net/",))
    url = links.feed_url(key, fmt, page)
    assert url == BASE + feed_relpath(key, fmt, page)
    headers = links.link_headers(feed_relpath(key, fmt, page))
    assert headers[0] == f'<{url}>; rel="self"'
    assert headers[1:] == ([] if page else ['<https://hub.example.net/>; rel="hub"'])


@pytest.mark.parametrize(
    "relpath", ["feeds/index.opml", "feeds/notes.txt", "index.html", "page/2/index.html"]
)
def test_files_that_are_no_feed_get_no_link_header(relpath: str) -> None:
    assert Links(site=SITE, hubs=("https://hub.example.net/",)).link_headers(relpath) == []


def test_an_articles_own_authors_else_the_sites_else_none() -> None:
    bo = Author(name="Bo", url="https://bo.example/")
    assert entry_authors(article(1, authors=(bo,)), SITE) == (bo,)
    assert entry_authors(article(1), SITE) == (Author(name="Ada", email="ada@example.org"),)
    anonymous = SiteConfig(title="T", base_url=BASE)
    assert entry_authors(article(1), anonymous) == ()
    assert entry_authors(article(1, authors=(bo,)), anonymous) == (bo,)


def test_an_entry_body_goes_in_feeds_unless_told_otherwise() -> None:
    body = EntryBody(content_html="<p>x</p>", summary="x")
    assert body.in_feeds
    with pytest.raises(dataclasses.FrozenInstanceError):
        body.in_feeds = False  # type: ignore[misc]
