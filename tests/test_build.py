"""End to end: article files in, feed files out, read back with feedparser and lxml."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import cast

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html

from feedpub.model import Severity
from feedpub.output import MARKER, WRITING
from tests.conftest import NOW, Site

ATOM = "{http://www.w3.org/2005/Atom}"


def _parse(site: Site, relpath: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(site.read(relpath))
    assert not parsed.bozo, (relpath, parsed.get("bozo_exception"))
    return parsed


def _three(site: Site) -> None:
    site.article("2025-01-01-one.md", "One", "2025-01-01 10:00", "[News, Tech]")
    site.article("two.md", "Two", "2025-02-01T10:00:00Z", "[News]")
    site.write(
        "three.txt",
        """
        Categories: Tech
        Date: 2025-03-01

        Three

        Body of three.
        """,
    )


def test_feeds_for_all_and_each_category_in_every_format(site: Site) -> None:
    _three(site)
    result = site.build()
    assert result.problems == ()
    assert set(result.feeds) == {"all", "news", "tech"}
    for key in ("all", "news", "tech"):
        for ext in ("atom.xml", "rss.xml"):
            _parse(site, f"feeds/{key}.{ext}")
        json.loads(site.read(f"feeds/{key}.json"))
    all_atom = _parse(site, "feeds/all.atom.xml")
    assert [e.title for e in all_atom.entries] == ["Three", "Two", "One"]
    assert [e.title for e in _parse(site, "feeds/tech.rss.xml").entries] == ["Three", "One"]
    jf = json.loads(site.read("feeds/news.json"))
    assert jf["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["title"] for i in jf["items"]] == ["Two", "One"]
    assert jf["feed_url"] == "https://example.org/feeds/news.json"


def test_output_is_deterministic_and_only_written_when_changed(site: Site, tmp_path: Path) -> None:
    _three(site)
    first = site.build()
    before = site.snapshot()
    assert len(first.written) == len(before)
    site.now = NOW + timedelta(days=30)  # a later build time changes nothing
    (site.articles / "two.md").touch()
    again = site.build()
    assert again.written == ()
    assert site.snapshot() == before
    # a second site from the same files, built from scratch, gives the same bytes
    other = Site(tmp_path / "other")
    shutil.copytree(site.articles, other.articles, dirs_exist_ok=True)
    other.build()
    assert other.snapshot() == before


def test_parallel_build_matches_serial(site: Site, tmp_path: Path) -> None:
    for i in range(150):
        site.article(
            f"a{i:03}.md", f"Article {i}", f"2024-01-{1 + i % 28:02} 10:{i % 60:02}", f"[C{i % 4}]"
        )
    site.build(workers=1)
    serial = site.snapshot()
    other = Site(tmp_path / "par")
    shutil.copytree(site.articles, other.articles, dirs_exist_ok=True)
    other.build(workers=2)
    assert other.snapshot() == serial


def test_feed_updated_is_newest_entry_change_not_build_time(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", extra="updated: 2025-01-05T00:00:00Z\n")
    site.article("b.md", "B", "2025-01-03T00:00:00Z")
    site.build()
    root = etree.fromstring(site.read("feeds/all.atom.xml"))
    assert root.findtext(f"{ATOM}updated") == "2025-01-05T00:00:00+00:00"
    rss = _parse(site, "feeds/all.rss.xml")
    assert rss.feed.updated == "Sun, 05 Jan 2025 00:00:00 +0000"


def test_ids_are_permanent(site: Site) -> None:
    site.article("first.md", "Original title", "2025-01-01T00:00:00Z")
    site.build()
    entry_id = _parse(site, "feeds/all.atom.xml").entries[0].id
    # edit the title, rebuild from an empty output folder, with a new Builder
    site.article("first.md", "A new title", "2025-01-01T00:00:00Z", body="Edited.")
    shutil.rmtree(site.output)
    site.build()
    assert _parse(site, "feeds/all.atom.xml").entries[0].id == entry_id
    # move the file into a folder: same bytes at a new path keep the id
    (site.articles / "sub").mkdir()
    (site.articles / "first.md").rename(site.articles / "sub" / "renamed.md")
    site.build()
    entries = _parse(site, "feeds/all.atom.xml").entries
    assert [e.id for e in entries] == [entry_id]
    assert entries[0].link == "https://example.org/articles/first/"


def test_explicit_id_wins_and_duplicate_ids_are_reported(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", extra="id: 42\n")
    site.article("b.md", "B", "2025-01-02T00:00:00Z", extra="id: 42\n")
    result = site.build()
    entries = _parse(site, "feeds/all.atom.xml").entries
    assert [e.id for e in entries] == ["tag:example.org,2025-06-01:id/42"]  # an IRI (RFC 4287)
    assert [e.id for e in _parse(site, "feeds/all.rss.xml").entries] == ["42"]  # as written
    assert entries[0].title == "A"
    [problem] = result.errors
    assert problem.path == "b.md" and "a.md" in problem.message


def test_duplicate_titles_get_distinct_slugs_and_ids(site: Site) -> None:
    site.article("x/post.md", "Same", "2025-01-01T00:00:00Z")
    site.article("y/post.md", "Same", "2025-01-02T00:00:00Z")
    site.build()
    entries = _parse(site, "feeds/all.atom.xml").entries
    assert len({e.id for e in entries}) == 2
    assert len({e.link for e in entries}) == 2
    for e in entries:
        page = site.output / e.link.removeprefix("https://example.org/") / "index.html"
        assert page.is_file()


def test_drafts_and_future_articles(site: Site) -> None:
    site.article("draft.md", "Draft", "2025-01-01T00:00:00Z", extra="draft: true\n")
    site.article("future.md", "Future", "2025-06-01T12:30:00Z")
    site.article("now.md", "Now", "2025-06-01T11:00:00Z")
    result = site.build()
    assert (result.published, result.scheduled, result.drafts) == (1, 1, 1)
    assert result.next_go_live is not None and result.next_go_live.isoformat() == (
        "2025-06-01T12:30:00+00:00"
    )
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Now"]
    site.now = NOW + timedelta(hours=1)
    result = site.build()
    assert result.scheduled == 0 and result.next_go_live is None
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Future", "Now"]


def test_undated_article_keeps_its_first_seen_date(site: Site) -> None:
    site.write("undated.md", "---\ntitle: Undated\n---\nHi\n")
    site.write("2024-03-04-named.md", "---\ntitle: Named\n---\nHi\n")
    site.build()
    dates = {e.title: e.published for e in _parse(site, "feeds/all.atom.xml").entries}
    assert dates["Undated"] == "2025-06-01T12:00:00+00:00"
    assert dates["Named"] == "2024-03-03T23:00:00+00:00"  # midnight in Europe/Berlin
    site.now = NOW + timedelta(days=3)
    site.write("undated.md", "---\ntitle: Undated, edited\n---\nHi again\n")
    site.build()
    dates = {e.title: e.published for e in _parse(site, "feeds/all.atom.xml").entries}
    assert dates["Undated, edited"] == "2025-06-01T12:00:00+00:00"


def test_category_losing_last_article_keeps_an_empty_valid_feed(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[Solo, News]")
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[News]")
    site.build()
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[News]")
    site.build()
    solo = _parse(site, "feeds/solo.atom.xml")
    assert solo.entries == []
    assert json.loads(site.read("feeds/solo.json"))["items"] == []
    _parse(site, "feeds/solo.rss.xml")


def test_deleted_article_leaves_feeds_and_its_page(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    site.build()
    assert (site.output / "articles/a/index.html").is_file()
    (site.articles / "a.md").unlink()
    result = site.build()
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["B"]
    assert not (site.output / "articles/a").exists()
    assert "articles/a/index.html" in result.removed


def test_broken_article_never_stops_the_others(site: Site) -> None:
    site.article("good.md", "Good", "2025-01-01T00:00:00Z")
    site.build()
    before = site.read("feeds/all.atom.xml")
    site.write("broken.md", "---\ntitle: [unclosed\n---\nbody\n")
    site.write("binary.md", b"\x00\x01\x02garbage")
    site.write("latin1.md", "---\ntitle: Café\n---\n".encode("latin-1"))
    site.article("good2.md", "Good 2", "2025-01-02T00:00:00Z")
    result = site.build()
    paths = {p.path for p in result.errors}
    assert paths == {"broken.md", "binary.md", "latin1.md"}
    broken = next(p for p in result.errors if p.path == "broken.md")
    assert broken.line == 2
    titles = [e.title for e in _parse(site, "feeds/all.atom.xml").entries]
    assert titles == ["Good 2", "Good"]
    assert site.read("feeds/all.atom.xml") != before


def test_hostile_content_is_sanitised(site: Site) -> None:
    site.article(
        "evil.md",
        "Evil \x07 title",
        "2025-01-01T00:00:00Z",
        "['../../etc', 'CON', 'all']",
        body="<script>alert(1)</script>\n\n]]> text \x01 [rel](../x/) <img src=a.png onerror=x>",
    )
    result = site.build()
    assert [p.severity for p in result.problems] == [Severity.WARNING] * 2
    assert any("links to a.png, which is not a file" in p.message for p in result.problems)
    files = {p.relative_to(site.root) for p in site.root.rglob("*") if p.is_file()}
    assert all(str(f).startswith(("public/", "articles/", "state/", "config")) for f in files)
    assert {"all", "etc", "con-category", "all-category"} <= set(result.feeds)
    for ext in ("atom.xml", "rss.xml"):
        entry = _parse(site, f"feeds/all.{ext}").entries[0]
        assert entry.title == "Evil title"
        content = entry.content[0].value
        assert "<script" not in content and "onerror" not in content
        assert 'href="https://example.org/articles/x/"' in content
        # (a file beside the article, published at its path from the articles folder)
        assert 'src="https://example.org/a.png"' in content
    item = json.loads(site.read("feeds/all.json"))["items"][0]
    assert "<script" not in item["content_html"]


def test_category_names_that_slug_alike_are_merged(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[Tech News]")
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[tech-news]")
    site.article("c.md", "C", "2025-01-03T00:00:00Z", "[Tech News]")
    result = site.build()
    assert set(result.feeds) == {"all", "tech-news"}
    assert [e.title for e in _parse(site, "feeds/tech-news.atom.xml").entries] == ["C", "B", "A"]
    [warning] = result.problems
    assert warning.severity is Severity.WARNING and "merged" in warning.message


def test_links_self_hub_and_channel_link(site: Site) -> None:
    site.config_text += '\n[notify]\nhubs = ["https://hub.example.net/"]\n'
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    atom = etree.fromstring(site.read("feeds/news.atom.xml"))
    rels = [(ln.get("rel"), ln.get("href")) for ln in atom.findall(f"{ATOM}link")]
    assert rels.count(("self", "https://example.org/feeds/news.atom.xml")) == 1
    assert ("hub", "https://hub.example.net/") in rels
    rss = etree.fromstring(site.read("feeds/news.rss.xml"))
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("link") == "https://example.org/"
    atom_links = [(ln.get("rel"), ln.get("href")) for ln in channel.findall(f"{ATOM}link")]
    assert atom_links == [
        ("self", "https://example.org/feeds/news.rss.xml"),
        ("hub", "https://hub.example.net/"),
    ]
    jf = json.loads(site.read("feeds/news.json"))
    assert jf["hubs"] == [{"type": "WebSub", "url": "https://hub.example.net/"}]


def test_summary_mode_per_category(site: Site) -> None:
    site.config_text += '\n[feeds.categories."Short"]\ncontent = "summary"\n'
    site.article(
        "a.md",
        "A",
        "2025-01-01T00:00:00Z",
        "[Short, Long]",
        body="First paragraph here.\n\nSecond paragraph.",
    )
    site.build()
    short = _parse(site, "feeds/short.atom.xml").entries[0]
    assert "content" not in short and short.summary == "First paragraph here."
    long = _parse(site, "feeds/long.atom.xml").entries[0]
    assert "Second paragraph" in long.content[0].value
    item = json.loads(site.read("feeds/short.json"))["items"][0]
    assert "content_html" not in item and item["content_text"] == "First paragraph here."


def test_max_entries_and_a_page_for_every_article(site: Site) -> None:
    for i in range(8):
        site.article(f"p{i}.md", f"P{i}", f"2025-01-0{i + 1}T00:00:00Z")
    site.build()
    assert len(_parse(site, "feeds/all.atom.xml").entries) == 5
    pages = sorted(p.parent.name for p in (site.output / "articles").glob("*/index.html"))
    assert pages == [f"p{i}" for i in range(8)]  # not only those the feeds list
    page = etree.fromstring(site.read("articles/p7/index.html"), etree.HTMLParser())
    assert page.findtext(".//h1") == "P7"
    assert page.xpath("//html/@lang") == ["en"]


def test_index_and_opml(site: Site) -> None:
    _three(site)
    site.build()
    index = etree.fromstring(site.read("index.html"), etree.HTMLParser())
    alternates = cast(list[str], index.xpath("//link[@rel='alternate']/@href"))
    assert "https://example.org/feeds/tech.atom.xml" in alternates
    assert len(alternates) == 3 * 3
    opml = etree.fromstring(site.read("feeds/index.opml"))
    urls = opml.xpath("//outline/@xmlUrl")
    assert urls == [
        "https://example.org/feeds/all.atom.xml",
        "https://example.org/feeds/news.atom.xml",
        "https://example.org/feeds/tech.atom.xml",
    ]


def test_non_ascii_category_feed_url_is_percent_encoded(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[Café Culture]")
    site.build()
    assert (site.output / "feeds" / "café-culture.atom.xml").is_file()
    atom = _parse(site, "feeds/café-culture.atom.xml")
    self_links = [ln.href for ln in atom.feed.links if ln.rel == "self"]
    assert self_links == ["https://example.org/feeds/caf%C3%A9-culture.atom.xml"]


def test_no_temporary_files_are_left_behind(site: Site) -> None:
    _three(site)
    site.build()
    assert [p.name for p in site.output.rglob("*") if p.name.startswith(".")] == [MARKER]


def test_missing_articles_folder_is_a_config_error(site: Site) -> None:
    from feedpub.errors import ConfigError

    shutil.rmtree(site.articles)
    with pytest.raises(ConfigError, match=r"paths\.articles"):
        site.build()


def test_output_deleted_by_hand_is_rebuilt(site: Site) -> None:
    _three(site)
    site.build()
    before = site.snapshot()
    (site.output / "feeds" / "news.rss.xml").unlink()
    (site.output / "feeds" / "tech.json").write_text("corrupt")
    result = site.build()
    assert sorted(result.written) == ["feeds/news.rss.xml", "feeds/tech.json"]
    assert site.snapshot() == before


def test_huge_file_is_refused_without_reading_it(site: Site) -> None:
    site.config_text = site.config_text.replace(
        "max_entries = 5", "max_entries = 5\nmax_article_bytes = 1000"
    )
    site.article("big.md", "Big", "2025-01-01T00:00:00Z", body="x" * 5000)
    site.article("small.md", "Small", "2025-01-01T00:00:00Z")
    result = site.build()
    [problem] = result.errors
    assert problem.path == "big.md"
    assert "over the limit of 1,000" in problem.message
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Small"]


def test_markup_nested_to_stall_the_sanitiser_is_published_flattened(site: Site) -> None:
    """1.5 MB of nested <div>s would take an HTML sanitiser minutes; the tags beyond the
    depth limit are removed (a warning with the line), and everything is published."""
    site.article("deep.md", "Deep", "2025-01-01T00:00:00Z", body="<div>" * 300_000)
    site.article("fine.md", "Fine", "2025-01-02T00:00:00Z")
    result = site.build()
    assert not result.errors
    [problem] = result.problems
    assert (problem.path, problem.line) == ("deep.md", 6)  # the first line of the body
    assert "nested more than 256" in problem.message
    feed = _parse(site, "feeds/all.atom.xml")
    assert [e.title for e in feed.entries] == ["Fine", "Deep"]


def test_a_build_told_which_paths_changed_looks_at_those_only(site: Site) -> None:
    from feedpub.build import Builder

    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    site.build()
    site.article("c.md", "C", "2025-01-03T00:00:00Z")
    (site.articles / "a.md").unlink()
    site.article("b.md", "B, edited", "2025-01-02T00:00:00Z")
    with Builder(site.config(), clock=lambda: site.now, workers=1) as builder:
        only_c = builder.build(paths={"c.md"})  # a.md and b.md are not looked at
        assert only_c.articles == 3
        assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["C", "B", "A"]
        rest = builder.build(paths={"a.md", "b.md", "ignored~", ".hidden.md"})
        assert rest.articles == 2
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["C", "B, edited"]


def test_a_build_stopped_after_indexing_is_finished_by_the_next(site: Site) -> None:
    from feedpub.build import Builder
    from feedpub.errors import BuildCancelled

    site.article("a.md", "First", "2025-01-01T00:00:00Z")
    site.build()
    site.article("b.md", "Second", "2025-01-02T00:00:00Z")
    calls = iter([False, True])  # stop once the batch is indexed, before rendering
    with (
        Builder(site.config(), clock=lambda: site.now, workers=1) as builder,
        pytest.raises(BuildCancelled),
    ):
        builder.build(should_stop=lambda: next(calls, True))
    site.build()
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Second", "First"]


def test_escaped_control_characters_in_front_matter_cannot_break_a_feed(site: Site) -> None:
    site.write(
        "a.md",
        '---\ntitle: "Bell \\x07 title"\ncategories: ["x\\x02y"]\nsummary: "a\\u0001b"\n'
        "date: 2025-01-01T00:00:00Z\n---\nBody\n",
    )
    result = site.build()
    assert result.errors == ()
    entry = _parse(site, "feeds/all.atom.xml").entries[0]
    assert entry.title == "Bell title"
    _parse(site, "feeds/all.rss.xml")


def test_atom_feed_has_an_author_even_when_none_is_configured(site: Site) -> None:
    site.config_text = site.config_text.replace('author = "Site Author"\n', "")
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    root = etree.fromstring(site.read("feeds/all.atom.xml"))
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Test Site"


# --- faults: a time budget per article, the last good version, leftovers ------------------------


def test_an_article_that_takes_too_long_is_stopped_and_named(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net behind linear parsing: a worker process still busy with one file
    after the budget is killed; the file is named, the others are published."""
    import time

    from feedpub import build
    from feedpub.articles import parse

    real = parse.parse_article

    def stuck(path: str, data: bytes, ctx: parse.ParseContext) -> parse.ParsedArticle:
        if path == "stuck.md":
            time.sleep(120)
        return real(path, data, ctx)

    monkeypatch.setattr(parse, "parse_article", stuck)  # forked workers inherit it
    site.config_text = site.config_text.replace(
        "max_entries = 5", "max_entries = 5\narticle_timeout_seconds = 0.5"
    )
    site.article("stuck.md", "Stuck", "2025-01-01T00:00:00Z")
    site.article("fine.md", "Fine", "2025-01-02T00:00:00Z")
    started = time.monotonic()
    with build.Builder(site.config(), clock=lambda: site.now, workers=1, start="fork") as b:
        result = b.build()
    assert time.monotonic() - started < 30
    [problem] = result.errors
    assert problem.path == "stuck.md"
    assert "took longer than 0.5 s" in problem.message
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Fine"]


def test_an_edit_that_breaks_an_article_keeps_its_last_good_version(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", body="First version.")
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    site.build()
    page = site.read("articles/a/index.html")
    feeds = site.snapshot()
    site.write("a.md", "---\ntitle: [unclosed\ndate: 2025-01-01\n---\nSecond version.\n")
    result = site.build()
    [problem] = result.errors
    assert (problem.path, problem.line) == ("a.md", 2)
    assert "stays published" in problem.message
    assert result.written == () and result.removed == ()  # nothing unpublished, nobody pinged
    assert site.snapshot() == feeds
    assert site.read("articles/a/index.html") == page
    assert site.build().errors == result.errors  # reported again, every build
    site.article("a.md", "A, fixed", "2025-01-01T00:00:00Z", body="Third version.")
    result = site.build()
    assert not result.errors
    assert "Third version." in site.read("articles/a/index.html").decode()
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["B", "A, fixed"]


def test_a_broken_article_that_never_parsed_stays_out_and_a_deleted_one_goes(site: Site) -> None:
    site.write("never.md", "---\ntitle: [unclosed\n---\nx\n")
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["A"]
    site.write("a.md", "---\ntitle: [unclosed\n---\nx\n")
    site.build()
    (site.articles / "a.md").unlink()
    result = site.build()
    assert [p.path for p in result.problems] == ["never.md"]
    assert _parse(site, "feeds/all.atom.xml").entries == []
    assert not (site.output / "articles" / "a").exists()


def test_bodies_come_from_the_index_not_from_the_files_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that vanished between indexing and rendering (an editor's save, a move in
    progress) was published with an empty body, and stayed so when it came back with the same
    bytes. Bodies are read once now, when the file is indexed."""
    from feedpub.build import sources

    site.article("a.md", "A", "2025-01-01T00:00:00Z", body="The body of A.")
    real = sources.read_source
    reads: list[str] = []

    def vanishing(root: str, path: str, max_bytes: int) -> bytes:
        reads.append(path)
        if path == "a.md" and reads.count(path) > 1:  # gone after it was indexed
            raise FileNotFoundError(2, "No such file or directory")
        return real(root, path, max_bytes)

    monkeypatch.setattr(sources, "read_source", vanishing)
    assert not site.build().problems
    monkeypatch.setattr(sources, "read_source", real)  # back, the same bytes
    site.build()
    [a] = _parse(site, "feeds/all.atom.xml").entries
    assert "The body of A." in a.content[0].value
    assert "The body of A." in site.read("articles/a/index.html").decode()


def test_a_file_that_vanished_while_read_is_read_again_when_it_is_back(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedpub.build import sources

    site.article("a.md", "A", "2025-01-01T00:00:00Z", body="The body of A.")
    real = sources.read_source

    def vanished(root: str, path: str, max_bytes: int) -> bytes:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(sources, "read_source", vanished)
    [problem] = site.build().errors
    assert "cannot read" in problem.message
    monkeypatch.setattr(sources, "read_source", real)  # back, with the same size and time
    result = site.build()
    assert not result.problems
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["A"]


def test_temporary_files_of_a_killed_build_are_removed_at_the_next_start(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    left = [
        site.output / "feeds" / ".all.atom.xml.x1y2z3w4.tmp",
        site.output / "articles" / "a" / ".index.html.abcd_123.tmp",
    ]
    for path in left:
        path.write_bytes(b"half a file")
    kept = site.output / ".well-known.tmp"  # not one of ours
    kept.write_bytes(b"x")
    site.build()  # (no build was interrupted: nothing is looked for)
    assert all(p.exists() for p in left)
    (site.output / WRITING).write_bytes(b"")  # what a build killed while writing leaves
    site.build()
    assert not any(p.exists() for p in left)
    assert kept.exists()
    assert not (site.output / WRITING).exists()


def _unusable_files(site: Site) -> None:
    """Two symlinks leading outside the articles folder and a folder named like an article,
    besides an editor backup and a hidden file (which are no articles: never reported)."""
    site.article("good.md", "Good", "2025-01-01T00:00:00Z")
    secret = site.root / "elsewhere" / "secret.md"
    secret.parent.mkdir()
    secret.write_text("---\ntitle: Secret\n---\nNot for feeds.\n", encoding="utf-8")
    (site.articles / "link.md").symlink_to(secret)
    (site.articles / "sub").mkdir()
    (site.articles / "sub" / "up.txt").symlink_to(Path("..") / ".." / "elsewhere" / "secret.md")
    (site.articles / "folder.md").mkdir()
    site.write("good.md~", "backup")
    site.write(".hidden.md", "hidden")


SKIPPED = {"folder.md": "not_regular", "link.md": "outside", "sub/up.txt": "outside"}


def test_skipped_files_are_part_of_the_build_result(site: Site) -> None:
    from feedpub.model import skipped_summary

    _unusable_files(site)
    result = site.build()
    assert result.articles == 1
    assert result.problems == ()
    assert {s.path: s.reason for s in result.skipped} == SKIPPED
    assert skipped_summary(result.skipped) == (
        "3 files skipped: 2 symlinks outside the articles folder, 1 not a regular file"
    )
    again = site.build()  # nothing changed: the result comes from the store, the count does not
    assert again.written == ()
    assert again.skipped == result.skipped


def test_a_build_told_what_changed_reports_only_those_paths(site: Site) -> None:
    from feedpub.build import Builder

    _unusable_files(site)
    site.build()
    (site.articles / "gone.md").symlink_to(site.articles / "nowhere.md")
    with Builder(site.config(), clock=lambda: site.now, workers=1) as builder:
        result = builder.build(paths={"gone.md", "good.md"})
    assert [(s.path, s.reason) for s in result.skipped] == [("gone.md", "dangling")]


def test_check_reports_skipped_files(site: Site) -> None:
    from feedpub.build import check

    _unusable_files(site)
    count, problems, skipped = check(site.config(), clock=lambda: site.now, workers=1)
    assert (count, problems) == (1, [])
    assert {s.path: s.reason for s in skipped} == SKIPPED


def test_atom_ids_are_absolute_iris_whatever_ids_articles_carry(site: Site) -> None:
    """RFC 4287: an Atom id is an absolute IRI. Ids such as post-42 are common in front matter
    (Jekyll, Hugo, CMS exports): Atom gets an IRI made from them, once; RSS and JSON Feed keep
    them as written, which is valid there."""
    from feedpub.identity import is_absolute_iri

    site.article("a.md", "A", "2025-01-01T00:00:00Z", extra="id: post-42\n")
    site.article("b.md", "B", "2025-01-02T00:00:00Z", extra="id: 12345\n")
    site.article("c.md", "C", "2025-01-03T00:00:00Z", extra="id: urn:isbn:0451450523\n")
    site.build()

    def atom_ids() -> list[str]:
        doc = etree.fromstring(site.read("feeds/all.atom.xml"))
        return [
            str(e.text)
            for e in doc.iterfind(
                "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}id"
            )
        ]

    ids = atom_ids()
    assert all(is_absolute_iri(i) for i in ids)
    assert ids == [
        "urn:isbn:0451450523",
        "tag:example.org,2025-06-01:id/12345",
        "tag:example.org,2025-06-01:id/post-42",
    ]
    rss = etree.fromstring(site.read("feeds/all.rss.xml"))
    guids = [(g.text, g.get("isPermaLink")) for g in rss.iterfind("channel/item/guid")]
    assert guids == [
        ("urn:isbn:0451450523", "false"),
        ("12345", "false"),
        ("post-42", "false"),
    ]
    items = json.loads(site.read("feeds/all.json"))["items"]
    assert [i["id"] for i in items] == ["urn:isbn:0451450523", "12345", "post-42"]
    # permanent: a rebuild from scratch, later, gives the same ids
    shutil.rmtree(site.output)
    site.now += timedelta(days=30)
    site.build()
    assert atom_ids() == ids


def test_a_body_too_large_for_a_feed_entry_is_shown_as_its_summary(site: Site) -> None:
    site.config_text = site.config_text.replace(
        "max_entries = 5", "max_entries = 5\nmax_content_bytes = 2000"
    )
    site.article("big.md", "Big", "2025-01-01T00:00:00Z", body="First words. " + "x " * 2000)
    site.article("small.md", "Small", "2025-01-02T00:00:00Z", body="Small body.")
    result = site.build()
    [warning] = result.problems
    assert warning.path == "big.md" and "feeds show its summary" in warning.message
    entries = {e.title: e for e in _parse(site, "feeds/all.atom.xml").entries}
    assert "content" not in entries["Big"] and entries["Big"].summary.startswith("First words.")
    assert entries["Small"].content[0].value == "<p>Small body.</p>"
    items = {i["title"]: i for i in json.loads(site.read("feeds/all.json"))["items"]}
    assert "content_html" not in items["Big"] and "content_text" in items["Big"]
    assert "x x x" in site.read("articles/big/index.html").decode()  # the page has it all


def test_relative_urls_resolve_against_the_article_url_its_slug_settled(site: Site) -> None:
    """The body is parsed before identity resolution settles the slug: the URLs in it are
    resolved with a stand-in for the slug, replaced when the body is published. A link to a
    file is a link to the file beside the article (published at its path in the articles
    folder), not to one beside its URL."""
    body = "[rel](../other/) ![i](pic.png) [top](/about/) [frag](#n)"
    site.article("a/hello.md", "Hello", "2025-01-01T00:00:00Z", body=body)
    site.article("b/hello.md", "Hello again", "2025-01-02T00:00:00Z", body=body)
    site.article(
        "c.md",
        "Elsewhere",
        "2025-01-03T00:00:00Z",
        body=body,
        extra="link: https://elsewhere.example/x/post\n",
    )
    site.build()
    entries = {e.title: e.content[0].value for e in _parse(site, "feeds/all.atom.xml").entries}
    first, second = entries["Hello"], entries["Hello again"]
    assert 'href="https://example.org/articles/other/"' in first
    assert 'src="https://example.org/a/pic.png"' in first
    assert 'href="https://example.org/about/"' in first
    assert 'href="https://example.org/articles/hello/#n"' in first
    assert 'src="https://example.org/b/pic.png"' in second
    assert 'href="https://example.org/articles/hello-2/#n"' in second
    assert 'src="https://elsewhere.example/x/pic.png"' in entries["Elsewhere"]
    page = site.read("articles/hello-2/index.html").decode()
    assert 'src="https://example.org/b/pic.png"' in page
    assert "\x01" not in "".join(entries.values()) + page


# --- the output folder: only feedpub's, only its files ---------------------------------------


def test_a_file_feedpub_did_not_write_is_never_overwritten(site: Site) -> None:
    """Pages pointed at a file someone else put in the output folder: the file is left as it
    is, named in a problem, and everything else is published."""
    site.config_text = site.config_text.replace(
        'timezone = "Europe/Berlin"',
        'timezone = "Europe/Berlin"\narticle_url = "{base_url}{slug}.md"',
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    (site.output / "robots.txt").write_bytes(b"User-agent: *\n")
    (site.output / "b.md").write_bytes(b"the source of b, kept here by hand")
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    result = site.build()
    assert (site.output / "b.md").read_bytes() == b"the source of b, kept here by hand"
    [problem] = result.problems
    assert problem.path == str(site.output / "b.md")
    assert "feedpub did not write it" in problem.message
    assert "b.md" not in result.written
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["B", "A"]
    (site.articles / "b.md").unlink()
    site.build()  # b's page was never feedpub's: it is not removed either
    assert (site.output / "b.md").exists()
    assert (site.output / "robots.txt").exists()


def test_a_file_with_feedpubs_very_bytes_is_taken_as_its_own(site: Site) -> None:
    """The state was lost, the output kept (its marker says it is feedpub's): files that
    hold exactly what the build publishes are recorded as feedpub's, not refused."""
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    site.build()
    before = site.snapshot()
    shutil.rmtree(site.root / "state")
    result = site.build()
    assert result.problems == ()
    assert site.snapshot() == before
    (site.articles / "b.md").unlink()
    assert "articles/b/index.html" in site.build().removed


def test_a_symlink_in_the_output_folder_never_leads_a_write_outside(
    site: Site, tmp_path: Path
) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    shutil.rmtree(site.output / "feeds")
    (site.output / "feeds").symlink_to(elsewhere)
    (site.output / "articles" / "a" / "index.html").unlink()
    (site.output / "articles" / "a" / "index.html").symlink_to(elsewhere / "keep.txt")
    site.article("a.md", "A, edited", "2025-01-01T00:00:00Z")
    result = site.build()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    assert (elsewhere / "keep.txt").read_text() == "keep"
    feeds = ("all", "news")
    names = [f"{f}.{ext}" for f in feeds for ext in ("atom.xml", "rss.xml", "json")]
    assert {p.path for p in result.problems} == {
        str(site.output / "feeds" / name) for name in [*names, "index.opml"]
    }
    assert all("is a symlink or a file" in p.message for p in result.problems)
    page = site.output / "articles" / "a" / "index.html"
    assert not page.is_symlink()  # a link at feedpub's own path is replaced, not followed
    assert "A, edited" in page.read_text()


def test_an_output_folder_of_someone_elses_is_refused_then_adopted(site: Site) -> None:
    from feedpub.build import Builder
    from feedpub.errors import OutputError

    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.output.mkdir()
    (site.output / "index.html").write_text("the old site")
    (site.output / "robots.txt").write_text("User-agent: *\n")
    with pytest.raises(OutputError) as info:
        site.build()
    assert "feedpub build --adopt" in str(info.value)
    assert (site.output / "index.html").read_text() == "the old site"
    assert sorted(p.name for p in site.output.iterdir()) == ["index.html", "robots.txt"]
    with Builder(site.config(), clock=lambda: site.now, workers=1) as builder:
        result = builder.build(adopt=True)
    assert result.problems == ()
    assert "index.html" in result.written  # replaced: a path feedpub publishes
    assert (site.output / "robots.txt").read_text() == "User-agent: *\n"  # left alone
    assert (site.output / MARKER).exists()
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    assert site.build().problems == ()  # adopted for good


def test_an_output_folder_from_before_the_marker_keeps_building(site: Site) -> None:
    """An upgrade: the folder has no marker, but its files are those the manifest lists."""
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.build()
    (site.output / MARKER).unlink()
    (site.output / "robots.txt").write_text("User-agent: *\n")
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    result = site.build()
    assert result.problems == ()
    assert (site.output / MARKER).exists()
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["B", "A"]


def test_files_a_stopped_build_wrote_are_still_feedpubs(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that stops halfway (the disk filled up) wrote files it never recorded in the
    manifest: they are claimed first, so the next build replaces or removes them."""
    from feedpub.errors import OutputError
    from feedpub.output import write_file as real

    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.article("b.md", "B", "2025-01-02T00:00:00Z")
    calls = {"n": 0}

    def fails_on_the_fifth(root: Path, relpath: str, data: bytes, **kw: bool) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OutputError("cannot write: No space left on device", path=root / relpath)
        real(root, relpath, data, **kw)

    monkeypatch.setattr("feedpub.build.write.write_file", fails_on_the_fifth)
    with pytest.raises(OutputError, match="No space left"):
        site.build()
    monkeypatch.undo()
    assert (site.output / "feeds" / "all.atom.xml").exists()  # written, never recorded
    site.article("a.md", "A, edited", "2025-01-01T00:00:00Z")
    (site.articles / "b.md").unlink()
    result = site.build()
    assert result.problems == ()
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["A, edited"]
    assert not (site.output / "articles" / "b").exists()
    assert sorted(site.snapshot()) == _manifest(site)  # nothing left over, nothing missing


def _manifest(site: Site) -> list[str]:
    from feedpub.store import State

    with State(site.config().state_target) as state:
        return sorted(state.outputs())


def test_a_feed_carries_at_most_four_times_max_content_bytes_of_content(site: Site) -> None:
    """Every category feed an article is in holds its body: a feed's content is bounded as
    a whole (newest entries first), the rest carry their summaries."""
    site.config_text = site.config_text.replace(
        "max_entries = 5", "max_entries = 5\nmax_content_bytes = 2000"
    )
    for i in range(5):
        site.article(f"a{i}.md", f"A{i}", f"2025-01-0{i + 1}T00:00:00Z", body="w " * 850)
    site.build()
    entries = _parse(site, "feeds/news.atom.xml").entries
    assert [("content" in e) for e in entries] == [True, True, True, True, False]


def test_a_page_never_takes_the_place_of_the_site_index(site: Site) -> None:
    site.config_text = site.config_text.replace(
        'author = "Site Author"', 'author = "Site Author"\narticle_url = "{base_url}{slug}.html"'
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z", extra="slug: index\n")
    result = site.build()
    [warning] = result.problems
    assert warning.path == "a.md" and "index.html" in warning.message
    assert "<h1>Test Site</h1>" in site.read("index.html").decode()


def test_a_file_read_through_a_symlink_swapped_in_is_not_read(tmp_path: Path) -> None:
    """The scan checked the path; a symlink put in its place before the read (a race) must
    not lead the read outside the articles folder."""
    import os

    from feedpub.build.sources import read_source as _read
    from feedpub.errors import ArticleError

    root = tmp_path / "articles"
    root.mkdir()
    (tmp_path / "secret.toml").write_text("password = 'x'")
    os.symlink(tmp_path / "secret.toml", root / "x.md")
    with pytest.raises(ArticleError, match="outside the articles folder"):
        _read(str(root), "x.md", 1000)
    (root / "inside.md").write_text("fine")
    os.symlink("inside.md", root / "alias.md")
    assert _read(str(root), "alias.md", 1000) == b"fine"


def test_a_new_file_dated_in_the_past_cannot_take_a_published_id(site: Site) -> None:
    """The article seen first keeps the id: the one dated earlier used to, so a new file
    with an old date took over a published article's guid."""
    site.article("legit.md", "Legit", "2025-01-01T00:00:00Z", extra="id: post-1\n")
    site.build()
    site.now += timedelta(hours=1)  # seen later
    site.article("evil.md", "Evil", "2000-01-01T00:00:00Z", extra="id: post-1\n")
    result = site.build()
    [problem] = result.errors
    assert problem.path == "evil.md" and "legit.md already has it" in problem.message
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Legit"]


def test_an_explicit_id_equal_to_an_atom_id_made_for_another_is_a_duplicate(
    site: Site,
) -> None:
    site.article("b.md", "B", "2025-01-01T00:00:00Z", extra="id: hello\n")
    site.build()
    made = "tag:example.org,2025-06-01:id/hello"
    site.article("f.md", "F", "2025-01-02T00:00:00Z", extra=f'id: "{made}"\n')
    result = site.build()
    assert [p.path for p in result.errors] == ["f.md"]
    ids = [e.id for e in _parse(site, "feeds/all.atom.xml").entries]
    assert ids == [made]


def test_a_fifo_in_a_files_place_does_not_hang_the_read(tmp_path: Path) -> None:
    import os

    from feedpub.build.sources import read_source as _read
    from feedpub.errors import ArticleError

    os.mkfifo(tmp_path / "x.md")
    with pytest.raises(ArticleError, match="not a regular file"):
        _read(str(tmp_path), "x.md", 1000)


def test_a_file_name_cannot_forge_a_line_of_a_report() -> None:
    from feedpub.model import Problem

    text = str(Problem(path="a.md\nconfig.toml:1: error: FORGED", message="bad"))
    assert "\n" not in text and text.startswith("a.md\\nconfig.toml")


def test_a_source_header_links_the_original_in_every_format(site: Site) -> None:
    site.write(
        "scraped.txt",
        "Categories: Tech News\nSource: https://news.example/story/42\n\nHeadline\n\nText.\n",
    )
    site.build()
    [entry] = _parse(site, "feeds/all.atom.xml").entries
    via = [link for link in entry.links if link.rel == "via"]
    assert [v.href for v in via] == ["https://news.example/story/42"]
    [item] = json.loads(site.read("feeds/all.json"))["items"]
    assert item["external_url"] == "https://news.example/story/42"
    page = site.read("articles/scraped/index.html").decode()
    assert 'Source: <a href="https://news.example/story/42">' in page


def test_pelican_statuses(site: Site) -> None:
    site.write("skip.md", "Title: Skipped\nDate: 2025-01-01\nStatus: skip\n\nx\n")
    site.write("hidden.md", "Title: Hidden\nDate: 2025-01-01\nStatus: hidden\n\nx\n")
    site.write("draft.md", "Title: Draft\nDate: 2025-01-01\nStatus: draft\n\nx\n")
    site.article("shown.md", "Shown", "2025-01-02T00:00:00Z")
    site.build()
    titles = [e.title for e in _parse(site, "feeds/all.atom.xml").entries]
    assert titles == ["Shown"]  # (a hidden article is in no feed or index)


def test_what_other_generators_keep_beside_articles_is_not_an_article(site: Site) -> None:
    """Pelican's pages/, Jekyll's _drafts/, Hugo's _index.md section files: excluded by
    default ([paths] exclude), and counted."""
    site.article("post.md", "Post", "2025-01-01T00:00:00Z")
    site.article("pages/about.md", "About", "2025-01-01T00:00:00Z")
    site.article("_drafts/idea.md", "Idea", "2025-01-01T00:00:00Z")
    site.article("_index.md", "Section", "2025-01-01T00:00:00Z")
    site.article("posts/_index.md", "Posts section", "2025-01-01T00:00:00Z")
    result = site.build()
    assert result.excluded == 4
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Post"]
    site.config_text = site.config_text.replace(
        'state = "state/state.sqlite3"', 'state = "state/state.sqlite3"\nexclude = []'
    )
    result = site.build()
    assert result.excluded == 0 and len(_parse(site, "feeds/all.atom.xml").entries) == 5


# --- links between articles and files beside them (articles/refs.py) ------------------------


def test_links_to_articles_and_files_resolve_and_files_are_published(site: Site) -> None:
    """Jekyll's post_url, Pelican's {filename} and {static}, Hugo's ref and plain relative
    links all reach the published article or file; the files are copied to the output
    folder (only when changed); a link to a missing file is a warning naming the line."""
    site.article("2019/2019-05-01-other.md", "Other", "2019-05-01T00:00:00Z")
    site.write("2019/images/cat.png", b"\x89PNG fake")
    site.write("2019/talk.pdf", b"%PDF fake")
    site.write(".private/key.png", b"secret")
    body = (
        "[j]({% post_url 2019-05-01-other %}) [p]({filename}/2019/2019-05-01-other.md) "
        '[h]({{< ref "2019-05-01-other" >}}) [r](2019-05-01-other.md)\n\n'
        "![cat](images/cat.png) ![s]({static}/2019/images/cat.png) [slides](talk.pdf)\n\n"
        "[gone](missing.png) [dot](../.private/key.png)\n"
    )
    site.article("2019/post.md", "Post", "2019-06-01T00:00:00Z", body=body)
    result = site.build()
    warnings = [(p.path, p.line, p.message) for p in result.problems]
    assert (
        "2019/post.md",
        10,
        "links to 2019/missing.png, which is not a file in the articles folder",
    ) in warnings
    entry = next(e for e in _parse(site, "feeds/all.atom.xml").entries if e.title == "Post")
    content = entry.content[0].value
    assert content.count('href="https://example.org/articles/other/"') == 4
    assert content.count('src="https://example.org/2019/images/cat.png"') == 2
    assert 'href="https://example.org/2019/talk.pdf"' in content
    assert "feedpub-ref" not in content
    assert site.read("2019/images/cat.png") == b"\x89PNG fake"
    assert site.read("2019/talk.pdf") == b"%PDF fake"
    assert not (site.output / ".private").exists()  # never published, even when linked
    assert not (site.output / "2019/missing.png").exists()

    # unchanged: not copied again; changed: copied; no longer linked: removed
    again = site.build()
    assert "2019/images/cat.png" not in again.written
    site.write("2019/images/cat.png", b"\x89PNG new")
    again = site.build()
    assert (
        "2019/images/cat.png" in again.written
        and site.read("2019/images/cat.png") == b"\x89PNG new"
    )
    site.article("2019/post.md", "Post", "2019-06-01T00:00:00Z", body="No links now.")
    again = site.build()
    assert "2019/images/cat.png" in again.removed
    assert not (site.output / "2019/images/cat.png").exists()


def test_a_published_file_is_a_copy_not_a_link(site: Site) -> None:
    site.write("a/pic.png", b"one")
    site.article("a/post.md", "Post", "2019-06-01T00:00:00Z", body="![p](pic.png)")
    site.build()
    published = site.output / "a/pic.png"
    assert published.stat().st_ino != (site.articles / "a/pic.png").stat().st_ino
    (site.articles / "a/pic.png").write_bytes(b"two")  # in place
    assert published.read_bytes() == b"one"


def test_liquid_that_cannot_run_is_removed_with_a_warning(site: Site) -> None:
    site.article(
        "post.md",
        "Post",
        "2019-06-01T00:00:00Z",
        body="Hi {{ page.title }}.\n\n{% include aside.html %}\n\n```\n{{ kept }}\n```\n",
    )
    result = site.build()
    assert sorted((p.line, p.severity) for p in result.problems) == [
        (6, Severity.WARNING),
        (8, Severity.WARNING),
    ]
    content = _parse(site, "feeds/all.atom.xml").entries[0].content[0].value
    assert "{{ page.title }}" not in content and "{% include" not in content
    assert "{{ kept }}" in content


def test_an_enclosure_and_image_beside_the_article_are_published_with_their_size(
    site: Site,
) -> None:
    site.write("podcast/episode-1.mp3", b"ID3" + b"\x00" * 997)
    site.write("podcast/cover.jpg", b"\xff\xd8 jpeg")
    site.article(
        "podcast/episode-1.md",
        "Episode 1",
        "2024-01-01T00:00:00Z",
        extra="enclosure: episode-1.mp3\nimage: cover.jpg\n",
    )
    result = site.build()
    assert result.problems == ()
    entry = _parse(site, "feeds/all.rss.xml").entries[0]
    [enclosure] = entry.enclosures
    assert enclosure.href == "https://example.org/podcast/episode-1.mp3"
    assert (enclosure.length, enclosure.type) == ("1000", "audio/mpeg")
    assert site.read("podcast/episode-1.mp3") == b"ID3" + b"\x00" * 997
    assert site.read("podcast/cover.jpg") == b"\xff\xd8 jpeg"


def test_a_link_to_an_article_that_is_not_there_is_a_warning(site: Site) -> None:
    site.article(
        "post.md",
        "Post",
        "2019-06-01T00:00:00Z",
        body='See [this]({% post_url 2010-01-01-gone %}).\n\nAnd [that]({{< ref "nowhere" >}}).',
    )
    result = site.build()
    assert [(p.line, p.message) for p in result.problems] == [
        (6, "links to the article '2010-01-01-gone', which no article file is"),
        (8, "links to the article 'nowhere', which no article file is"),
    ]
    content = _parse(site, "feeds/all.atom.xml").entries[0].content[0].value
    assert content.count('href="https://example.org/"') == 2  # the site, not a broken link


def test_footnote_ids_are_the_slugs_and_never_collide_in_a_feed(site: Site) -> None:
    """pulldown-cmark numbers footnotes from 1 in every article: in a feed (or a page) that
    shows several, "#1" would jump to another article's note. Ids carry the slug."""
    note = "A claim.[^1] See [the end](#end).\n\n[^1]: The source.\n\n## End {#end}\n"
    site.article("one.md", "One", "2024-03-01T09:00:00Z", body=note)
    site.article("two.md", "Two", "2024-03-02T09:00:00Z", body=note)
    site.build()
    atom = site.read("feeds/all.atom.xml").decode()
    assert "\x01" not in atom
    ids: list[str] = []
    for entry in _parse(site, "feeds/all.atom.xml").entries:
        tree = lxml_html.fragment_fromstring(entry.content[0].value, create_parent="div")
        found = [el.get("id") for el in tree.iter() if el.get("id")]
        slug = entry.link.rstrip("/").rsplit("/", 1)[-1]
        assert found == [f"{slug}:1", f"{slug}:end"]
        assert [a.get("href") for a in tree.iter("a")] == [f"#{slug}:1", f"#{slug}:end"]
        ids += found
    assert len(ids) == len(set(ids)) == 4
    page = lxml_html.fromstring(site.read("articles/one/index.html"))
    assert [el.get("id") for el in page.iter() if el.get("id")] == ["one:1", "one:end"]
    assert [a.get("href") for a in page.iter("a") if (a.get("href") or "")[:1] == "#"] == [
        "#one:1",
        "#one:end",
    ]


def test_the_server_answers_for_a_published_file_from_disk(site: Site) -> None:
    from feedpub.server import Store, held_in_memory

    site.write("a/pic.png", b"\x89PNG" + b"x" * 5000)
    site.article("a/post.md", "Post", "2019-06-01T00:00:00Z", body="![p](pic.png)")
    site.build()
    assert not held_in_memory("a/pic.png")
    store = Store(site.output)
    store.load_all()
    assert store.from_disk("/a/pic.png") is None  # (media: streamed from an open file)
    opened = store.open_media("/a/pic.png")
    assert opened is not None
    try:
        assert os.pread(opened.fd, 10_000, 0) == b"\x89PNG" + b"x" * 5000
        assert (b"accept-ranges", b"bytes") in opened.headers
    finally:
        os.close(opened.fd)


def test_large_media_are_copied_a_chunk_at_a_time(engine_site: Site) -> None:
    """Files beside the articles are copied one at a time, streaming: the build's peak
    memory stays far below their total (six of 12 MB here), each is recorded in the
    manifest with the sha256 of its bytes, copied again only when it changed, and on
    PostgreSQL stored in pieces for standbys."""
    from feedpub.store import State

    site = engine_site
    size = 12 * 1024 * 1024
    names = [f"ep/{i}.mp3" for i in range(6)]
    for i, name in enumerate(names):
        site.write(name, bytes([i]) * size)
    body = " ".join(f"[e{i}]({n.split('/')[1]})" for i, n in enumerate(names))
    site.article("ep/show.md", "Show", "2019-06-01T00:00:00Z", body=body)
    tracemalloc.start()
    try:
        result = site.build()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert set(names) <= set(result.written)
    assert peak < 24 * 1024 * 1024, f"peak {peak:,} bytes for {6 * size:,} bytes of media"
    digests = {n: hashlib.sha256(bytes([i]) * size).hexdigest() for i, n in enumerate(names)}
    for i, name in enumerate(names):
        assert site.read(name) == bytes([i]) * size
    with State(site.config().state_target) as state:
        records = state.outputs()
        assert {n: (records[n].kind, records[n].sha256) for n in names} == {
            n: ("media", digests[n]) for n in names
        }
        if state.postgres:
            for name in names:
                hashed = hashlib.sha256()
                for chunk in state.published_chunks(name):
                    hashed.update(chunk)
                assert hashed.hexdigest() == digests[name]
            assert state.published_digests(names) == digests
            assert not state.unpublished()
    # unchanged: not copied again; changed: copied again, alone
    assert not set(names) & set(site.build().written)
    site.write(names[2], b"new" * 1000)
    again = site.build()
    assert [n for n in again.written if n in names] == [names[2]]
    assert site.read(names[2]) == b"new" * 1000


def test_a_media_file_over_the_limit_is_not_published(site: Site) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("feedpub.articles.refs.MAX_MEDIA_BYTES", 1000)
        site.write("a/big.pdf", b"%PDF" + b"x" * 2000)
        site.article("a/post.md", "Post", "2019-06-01T00:00:00Z", body="[d](big.pdf)")
        result = site.build()
    assert not (site.output / "a" / "big.pdf").exists()
    assert not list(site.output.rglob("*.tmp"))
    assert any(p.path == "a/big.pdf" and "over the limit" in p.message for p in result.problems)


# --- translations (Pelican's lang and shared slug; Hugo's about.fr.md) ------------------------


def test_translations_are_one_article_in_several_languages(site: Site) -> None:
    """A translation shares its original's slug (Pelican) or file name (Hugo): no slug
    collision; the site-language feeds carry the original, each other language has its own
    feed (feeds/all-fr.atom.xml, as Pelican's), and the pages point to each other."""
    site.config_text = site.config_text.replace("[site]", '[site]\nlanguages = ["de"]', 1)
    site.write(
        "hello.md",
        "Title: Hello\nDate: 2024-01-01 10:00\nCategory: News\nSlug: hello\n\nHi.\n",
    )
    site.write(
        "hello-fr.md",
        "Title: Bonjour\nDate: 2024-01-02 10:00\nCategory: News\nSlug: hello\nLang: fr\n\nSalut.\n",
    )
    site.write("about.md", "---\ntitle: About\ndate: 2024-02-01\n---\nAbout us.\n")
    site.write("about.de.md", "---\ntitle: Über uns\ndate: 2024-02-02\n---\nWir.\n")
    result = site.build()
    assert result.problems == ()
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["About", "Hello"]
    assert [e.title for e in _parse(site, "feeds/news.atom.xml").entries] == ["Hello"]
    fr = _parse(site, "feeds/all-fr.atom.xml")
    assert [e.title for e in fr.entries] == ["Bonjour"]
    assert fr.feed.language == "fr"
    assert fr.entries[0].link == "https://example.org/articles/hello-fr/"
    assert [e.title for e in _parse(site, "feeds/all-de.atom.xml").entries] == ["Über uns"]
    page = site.read("articles/hello/index.html").decode()
    assert (
        '<link rel="alternate" hreflang="fr" href="https://example.org/articles/hello-fr/">' in page
    )
    french = site.read("articles/hello-fr/index.html").decode()
    assert '<html lang="fr">' in french
    assert 'hreflang="en" href="https://example.org/articles/hello/"' in french
    assert (
        'hreflang="de" href="https://example.org/articles/about-de/"'
        in site.read("articles/about/index.html").decode()
    )

    # a translation removed: the original's page no longer points to it
    (site.articles / "about.de.md").unlink()
    site.build()
    assert "hreflang" not in site.read("articles/about/index.html").decode()


def test_an_expired_article_leaves_every_feed_at_its_time(site: Site) -> None:
    """Hugo's expiryDate: scheduled like a go-live; the feeds change (and notify) then."""
    from datetime import UTC, datetime, timedelta

    site.article("a.md", "Stays", "2025-01-01T00:00:00Z")
    site.article(
        "b.md", "Expires", "2025-01-02T00:00:00Z", extra="expiryDate: 2025-07-01T00:00:00Z\n"
    )
    result = site.build()
    assert result.next_expiry == datetime(2025, 7, 1, tzinfo=UTC)
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Expires", "Stays"]
    assert (site.output / "articles/b/index.html").exists()
    later = site.now + timedelta(days=60)
    result = site.build(clock=lambda: later)
    assert [e.title for e in _parse(site, "feeds/all.atom.xml").entries] == ["Stays"]
    assert "feeds/all.atom.xml" in result.written and result.next_expiry is None
    assert not (site.output / "articles/b/index.html").exists()


def test_markdown_rst_and_html_articles_build_together(site: Site) -> None:
    """A Pelican content folder: Markdown, reStructuredText and HTML articles side by side,
    with the images and other files next to them counted, not read."""
    site.article("one.md", "Markdown one", "2025-01-01 10:00", "[Notes]")
    site.write(
        "two.rst",
        """
        ############
        Rest of two
        ############

        :date: 2025-02-01 10:00
        :category: Essays
        :tags: docutils, pelican

        A paragraph with a `link <https://example.com/>`_.

        .. code-block:: python

           print("two")
        """,
    )
    site.write(
        "sub/three.html",
        """
        <html>
          <head>
            <title>HTML &amp; three</title>
            <meta name="date" content="2025-03-01 10:00">
            <meta name="category" content="Essays">
          </head>
          <body><p>Three's body.</p><script>alert(3)</script></body>
        </html>
        """,
    )
    site.write("images/pot.png", b"\x89PNG")
    site.write("images/cup.png", b"\x89PNG")
    site.write("notes.json", "{}")
    site.write(".hidden.png", b"x")
    result = site.build()
    assert result.problems == ()
    assert result.articles == 3
    assert result.not_articles == ((".json", 1),)  # (images: published when linked)
    atom = _parse(site, "feeds/all.atom.xml")
    entries = [
        (e.title, e.published[:10], [t.term for t in e.get("tags", [])]) for e in atom.entries
    ]
    assert entries == [
        ("HTML & three", "2025-03-01", ["Essays"]),
        ("Rest of two", "2025-02-01", ["Essays", "docutils", "pelican"]),
        ("Markdown one", "2025-01-01", ["Notes"]),
    ]
    three, two, _ = atom.entries
    assert "Three's body." in three.content[0].value
    assert "<script" not in three.content[0].value
    assert 'href="https://example.com/">link</a>' in two.content[0].value
    assert 'print("two")' in two.content[0].value
    essays = _parse(site, "feeds/essays.atom.xml")
    assert [e.title for e in essays.entries] == ["HTML & three", "Rest of two"]


def test_tag_feeds_are_opt_in_and_listed_with_the_others(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", extra="tags: [Python, Feeds]\n")
    site.article("b.md", "B", "2025-01-02T00:00:00Z", extra="tags: [python]\n")
    site.article("c.md", "C", "2025-01-03T00:00:00Z", body="See [all of it]({tag}Python).\n")
    result = site.build()
    assert not (site.output / "feeds/python.tag.atom.xml").exists()
    assert "python.tag" not in result.feeds
    site.config_text = site.config_text.replace("[feeds]", "[feeds]\ntags = true", 1)
    result = site.build()
    assert {"python.tag", "feeds.tag"} <= set(result.feeds)
    tagged = _parse(site, "feeds/python.tag.atom.xml")
    assert [e.title for e in tagged.entries] == ["B", "A"]
    assert tagged.feed.title.endswith(": Python")
    assert "feeds/python.tag.atom.xml" in site.read("feeds/index.opml").decode()
    assert "python.tag.atom.xml" in site.read("index.html").decode()
    c = next(e for e in _parse(site, "feeds/all.atom.xml").entries if e.title == "C")
    assert 'href="https://example.org/feeds/python.tag.atom.xml"' in c.content[0].value


def test_a_linked_file_added_later_is_published_and_links_into_articles_name_their_ids(
    site: Site,
) -> None:
    site.article("g.md", "Guide", "2025-01-01T00:00:00Z", body="## Setup {#setup}\n\nDo it.")
    site.article(
        "a.md",
        "A",
        "2025-01-02T00:00:00Z",
        body="![l](later.png) [s](g.md#setup) [d](draft.md) see {% post_url g %}.",
    )
    site.article("draft.md", "Draft", "2025-01-01T00:00:00Z", extra="draft: true\n")
    site.build()
    assert not (site.output / "later.png").exists()
    site.write("later.png", b"\x89PNG")
    result = site.build()  # (nothing else changed: the fast path must not skip it)
    assert "later.png" in result.written
    entry = next(e for e in _parse(site, "feeds/all.atom.xml").entries if e.title == "A")
    content = entry.content[0].value
    assert 'href="https://example.org/articles/g/#g:setup"' in content
    assert 'id="g:setup"' in site.read("articles/g/index.html").decode()
    assert "draft.md" not in content  # (a draft: the site, its file name never shown)
    assert "feedpub-ref" not in entry.summary and "https://example.org/articles/g/." in (
        entry.summary
    )


def test_pages_and_feeds_follow_a_linked_article_that_moves(site: Site) -> None:
    """A link to another article is resolved when the page or feed is written: when the
    target's URL changes, every page and feed that shows the link is written again."""
    site.article("target.md", "Target", "2025-01-01T00:00:00Z", "[T]", extra="slug: one\n")
    site.article(
        "linker.md", "Linker", "2025-01-02T00:00:00Z", "[L]", body="[t]({filename}target.md)"
    )
    site.build()
    assert "/articles/one/" in site.read("articles/linker/index.html").decode()
    site.article("target.md", "Target", "2025-01-01T00:00:00Z", "[T]", extra="slug: two\n")
    result = site.build()
    assert "articles/linker/index.html" in result.written
    for relpath in ("articles/linker/index.html", "feeds/l.json", "feeds/all.atom.xml"):
        text = site.read(relpath).decode()
        assert "/articles/two/" in text and "/articles/one/" not in text, relpath


def test_translations_as_hugo_and_pelican_sites_hold_them(site: Site) -> None:
    """What a review found: file names give only the site's languages; Hugo's about.en.md
    and a page bundle's index.fr.md; a language feed that loses its last article stays;
    scripts are languages; one version per language; a category named like a language feed."""
    site.config_text = site.config_text.replace(
        'timezone = "Europe/Berlin"', 'timezone = "Europe/Berlin"\nlanguages = ["fr"]', 1
    )
    site.write("socket.io.md", "---\ntitle: Sockets\ndate: 2024-01-01\n---\nx\n")
    site.write("about.en.md", "---\ntitle: About\ndate: 2024-01-02\n---\nx\n")
    site.write("about.fr.md", "---\ntitle: À propos\ndate: 2024-01-03\n---\nx\n")
    site.write("trip/index.md", "---\ntitle: Trip\ndate: 2024-01-04\n---\nx\n")
    site.write("trip/index.fr.md", "---\ntitle: Voyage\ndate: 2024-01-05\n---\nx\n")
    site.write("hans.md", "---\ntitle: Hans\ndate: 2024-01-06\nlang: zh-Hans\n---\nx\n")
    site.article("cat.md", "Cat", "2024-01-07T00:00:00Z", "[all-fr]")
    result = site.build()
    assert result.problems == ()
    all_titles = [e.title for e in _parse(site, "feeds/all.atom.xml").entries]
    assert all_titles == ["Cat", "Trip", "About", "Sockets"]
    assert [e.title for e in _parse(site, "feeds/all-fr.atom.xml").entries] == [
        "Voyage",
        "À propos",
    ]
    assert [e.title for e in _parse(site, "feeds/all-zh-hans.atom.xml").entries] == ["Hans"]
    assert _parse(site, "feeds/category-all-fr.atom.xml").feed.title.endswith(": all-fr")
    page = site.read("articles/about/index.html").decode()
    assert 'hreflang="fr" href="https://example.org/articles/about-fr/"' in page
    page = site.read("articles/trip/index.html").decode()
    assert 'hreflang="fr" href="https://example.org/articles/trip-fr/"' in page

    # the French feed loses its last articles: it stays, empty, for its subscribers
    (site.articles / "about.fr.md").unlink()
    (site.articles / "trip/index.fr.md").unlink()
    site.build()
    assert _parse(site, "feeds/all-fr.atom.xml").entries == []


def test_redirects_may_point_at_tag_and_language_feeds(site: Site) -> None:
    site.config_text = site.config_text.replace(
        "[feeds]",
        '[feeds]\ntags = true\nredirects = {"tag/py.xml" = "feeds/py.tag.atom.xml", '
        '"fr/index.xml" = "feeds/all-fr.atom.xml"}',
        1,
    )
    site.article("a.md", "A", "2024-01-01T00:00:00Z", extra="tags: [py]\n")
    assert site.build().problems == ()


def test_check_reports_what_the_build_reports(site: Site) -> None:
    """One planner: ``check`` settles ids against the stored identities and plans as the
    build does. A new file claiming a published article's id, dated earlier, is the one left
    out by both (first seen decides, not the date): ``check`` used to blame the published
    one."""
    from feedpub.build import check

    site.article("first.md", "First", "2025-01-05T00:00:00Z", extra="id: urn:x:1\n")
    assert site.build().problems == ()
    site.article("copy.md", "Copy", "2025-01-01T00:00:00Z", extra="id: urn:x:1\n")
    later = site.now + timedelta(days=1)
    _, checked, _ = check(site.config(), clock=lambda: later, workers=1)
    built = site.build(clock=lambda: later).problems
    assert [(p.path, p.message) for p in checked] == [(p.path, p.message) for p in built]
    assert [p.path for p in built] == ["copy.md"]
