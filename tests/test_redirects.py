"""Old feed URLs answered with 301: the rules, the nginx include, what a build writes."""

from __future__ import annotations

import logging

import pytest

from feedpub.redirects import include_path, location, locations, nginx_include
from tests.conftest import Site

# (BASE_CONFIG ends in its [feeds] table)
REDIRECTS = (
    'redirects = {"feed.xml" = "feeds/all.atom.xml", "index.xml" = "feeds/all.rss.xml", '
    '"feed/" = "feeds/all.rss.xml", "blog/atom.xml" = "feeds/caf\u00e9.atom.xml"}\n'
)


def test_locations_are_absolute_ascii_urls_under_the_base_url() -> None:
    assert location("https://example.org/", "feeds/all.atom.xml") == (
        "https://example.org/feeds/all.atom.xml"
    )
    assert location("https://example.org/blog/", "feeds/café.atom.xml") == (
        "https://example.org/blog/feeds/caf%C3%A9.atom.xml"
    )
    # nothing nginx would read as a variable, even in a base URL
    assert location("https://example.org/$x/", "a") == "https://example.org/%24x/a"
    assert locations("https://e.org/", (("feed.xml", "feeds/all.json"), ("feed/", "x/"))) == {
        "/feed.xml": b"https://e.org/feeds/all.json",
        "/feed/": b"https://e.org/x/",
    }


def test_the_nginx_include() -> None:
    text = nginx_include(
        "https://e.org/", (("feed.xml", "feeds/all.atom.xml"), ("feed/", "feeds/all.rss.xml"))
    ).decode()
    assert text.startswith("# Written by feedpub from [feeds] redirects")
    assert text.splitlines()[3:] == [
        'location = "/feed.xml" { return 301 "https://e.org/feeds/all.atom.xml"; }',
        'location = "/feed/" { return 301 "https://e.org/feeds/all.rss.xml"; }',
    ]
    assert nginx_include("https://e.org/", ()).decode().count("location") == 0


def test_a_build_writes_the_include_beside_the_state_when_the_redirects_change(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.article("one.md", "One", "2025-01-01T00:00:00Z", categories="[Café]")
    include = include_path(site.root / "state" / "state.sqlite3")
    site.build()
    assert not include.exists()  # no redirects, none before: no file
    plain = site.config_text
    site.config_text += REDIRECTS
    with caplog.at_level(logging.WARNING, logger="feedpub.redirects"):
        result = site.build()
    assert result.problems == ()
    assert "reload nginx" in caplog.text
    text = include.read_text()
    assert 'location = "/blog/atom.xml" {' in text
    assert 'location = "/feed.xml" { return 301 "https://example.org/feeds/all.atom.xml"; }' in text
    assert "caf%C3%A9.atom.xml" in text
    assert not include.is_relative_to(site.output)
    # the next build leaves it alone (same bytes, same file)
    stat = include.stat()
    caplog.clear()
    site.build()
    assert include.stat().st_ino == stat.st_ino and include.stat().st_mtime_ns == stat.st_mtime_ns
    assert "reload nginx" not in caplog.text
    # written whole: no temporary file left beside it
    assert sorted(p.name for p in include.parent.iterdir() if "redirects" in p.name) == [
        include.name
    ]
    # the redirects gone: the include answers none (nginx keeps including it)
    site.config_text = plain
    site.build()
    assert "location" not in include.read_text()


def test_an_include_that_cannot_be_written_is_a_problem_not_a_stop(site: Site) -> None:
    site.article("one.md", "One", "2025-01-01T00:00:00Z")
    site.config_text += REDIRECTS
    include = include_path(site.root / "state" / "state.sqlite3")
    include.mkdir(parents=True)  # (a folder in its place)
    result = site.build()
    assert [p.path for p in result.problems] == [str(include)]
    assert result.problems[0].message.startswith("not written: ")
    assert (site.output / "feeds" / "all.atom.xml").is_file()


def test_old_paths_are_listed_nowhere(site: Site) -> None:
    """Readers must not subscribe twice: no index, OPML or page names an old path."""
    site.article("one.md", "One", "2025-01-01T00:00:00Z")
    site.config_text += REDIRECTS
    site.build()
    for relpath, data in site.snapshot().items():
        text = data.decode()
        for old in ("feed.xml", "index.xml", "/feed/", "blog/atom.xml"):
            assert old not in text, (relpath, old)
    assert not (site.output / "feed.xml").exists()
