"""``feedpub adopt``: an old site's entry ids kept, so that readers see no duplicates."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import ClassVar
from xml.sax.saxutils import escape

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from feedpub.adopt import (
    Match,
    OldEntry,
    OldFeed,
    adopted_identity,
    decide,
    entry_id,
    match,
    parse_feed,
    read_feeds,
    read_source,
    shown,
)
from feedpub.cli import main
from feedpub.errors import FeedReadError
from feedpub.model import Article, ArticleMeta, Identity
from feedpub.store import State
from tests.conftest import NOW, Site

ATOM_NS = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _in_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Feed files are named as a user names them: relative to the working folder."""
    monkeypatch.chdir(tmp_path)


# -- old feeds, in each format ----------------------------------------------------------------

# (id, title, link, published): what the old site's feeds said
HELLO_URL = "https://old.example/2020/01/02/hello-world.html"
HELLO = (HELLO_URL, "Hello World", HELLO_URL, "2020-01-02T08:00:00-08:00")
SECOND = ("1234", "Second  post", "https://old.example/?p=1234", "2020-02-03T11:00:00+01:00")
UNDATED = (
    "tag:old.example,2018:undated",
    "Undated thoughts",
    "https://old.example/?p=7",
    "2018-03-01T11:00:00+01:00",
)
SAME = ("tag:old.example,2020:same", "Same", "https://old.example/?p=3", "2020-03-01T12:00:00Z")
GONE = ("tag:old.example,2019:gone", "Gone", "https://old.example/gone/", "2019-03-01T11:00:00Z")
OLD = [HELLO, SECOND, UNDATED, SAME, GONE]


def atom_feed(entries: list[tuple[str, str, str, str]]) -> bytes:
    items = "".join(
        f"<entry><id>{escape(i)}</id><title>{escape(t)}</title>"
        f'<link rel="alternate" href="{escape(link)}"/>'
        f"<published>{p}</published><updated>2021-01-01T00:00:00Z</updated></entry>"
        for i, t, link, p in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Old blog</title><id>urn:old</id><updated>2021-01-01T00:00:00Z</updated>"
        f"{items}</feed>"
    ).encode()


def rss_feed(entries: list[tuple[str, str, str, str]], guids: bool = True) -> bytes:
    items = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        + (f'<guid isPermaLink="false">{escape(i)}</guid>' if guids else "")
        + f"<pubDate>{format_datetime(datetime.fromisoformat(p))}</pubDate></item>"
        for i, t, link, p in entries
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Old blog</title>'
        f"<link>https://old.example/</link><description>x</description>{items}</channel></rss>"
    ).encode()


def json_feed(entries: list[tuple[str, str, str, str]]) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Old blog",
            "items": [
                {"id": i, "url": link, "title": t, "date_published": p} for i, t, link, p in entries
            ],
        }
    ).encode()


FEEDS = {"atom": atom_feed, "rss": rss_feed, "json": json_feed}


def _articles(site: Site) -> None:
    site.config_text = site.config_text.replace("max_entries = 5", "max_entries = 10")
    site.article("hello-world.md", "Hello World", "2020-01-02")
    site.article("second.md", "Second post", "2020-02-03T10:00:00Z")
    site.write("undated.md", "---\ntitle: Undated thoughts\n---\nNo date.\n")
    site.article("same-a.md", "Same", "2020-03-01")
    site.article("same-b.md", "Same", "2020-03-01", body="Other body.")
    site.article("new.md", "Brand new", "2025-05-01T00:00:00Z")


def _adopt(
    site: Site, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[str], str]:
    code = main(["adopt", "--config", str(site.config_path), *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def _ids(site: Site) -> dict[str, dict[str, str]]:
    """Title → the entry's id in each format, read as readers read them."""
    out: dict[str, dict[str, str]] = {}
    atom = etree.fromstring(site.read("feeds/all.atom.xml"))
    for e in atom.iterfind(f"{ATOM_NS}entry"):
        out.setdefault(str(e.findtext(f"{ATOM_NS}title")), {})["atom"] = str(
            e.findtext(f"{ATOM_NS}id")
        )
    for item in feedparser.parse(site.read("feeds/all.rss.xml")).entries:
        out.setdefault(item.title, {})["rss"] = item.id
    for item in json.loads(site.read("feeds/all.json"))["items"]:
        out.setdefault(item["title"], {})["json"] = item["id"]
    return out


def _published(site: Site) -> dict[str, str]:
    return {
        str(e.findtext(f"{ATOM_NS}title")): str(e.findtext(f"{ATOM_NS}published"))
        for e in etree.fromstring(site.read("feeds/all.atom.xml")).iterfind(f"{ATOM_NS}entry")
    }


EXPECTED = {
    "Hello World": dict.fromkeys(("atom", "rss", "json"), HELLO[0]),
    # an old id that is no IRI: as it was in RSS and JSON Feed, an IRI made from it in Atom
    "Second post": {"atom": "tag:example.org,2020-02-03:id/1234", "rss": "1234", "json": "1234"},
    "Undated thoughts": dict.fromkeys(("atom", "rss", "json"), UNDATED[0]),
}


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_adopted_ids_are_every_formats_ids_and_survive_a_rebuild_from_scratch(
    site: Site, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    _articles(site)
    (site.root / f"old.{fmt}").write_bytes(FEEDS[fmt](OLD))
    code, lines, err = _adopt(site, capsys, f"old.{fmt}")
    assert (code, err) == (0, "")
    kind = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}[fmt]
    assert lines[0] == f'read old.{fmt}: {kind} feed "Old blog", 5 entries'
    assert lines[1].startswith(
        f'adopted     hello-world.md: id "{HELLO[0]}", first seen 2020-01-02T16:00:00+00:00 '
        "(matched by slug in old."
    )
    assert lines[2].startswith('adopted     second.md: id "1234", Atom id "tag:example.org,')
    assert "(matched by title and date in old." in lines[2]
    assert "(matched by title (the article has no date)" in lines[3]
    assert lines[4].startswith(
        "ambiguous   old." + fmt + ': "Same": same-a.md, same-b.md fit it equally'
    )
    assert "not guessed" in lines[4]
    assert lines[5].startswith(
        f'unmatched   old.{fmt}: "Gone": no article has its link\'s path "/gone"'
    )
    assert lines[6] == "5 entries in 1 feed: 3 adopted, 1 unmatched, 1 ambiguous"

    site.build()
    ids = _ids(site)
    for title, expected in EXPECTED.items():
        assert ids[title] == expected, title
    assert ids["Brand new"]["atom"] == "tag:example.org,2025-05-01:new"  # not in the old feed
    assert _published(site)["Undated thoughts"] == "2018-03-01T10:00:00+00:00"  # the old date

    # a rebuild from scratch (no output; every file read again under a changed config), later
    shutil.rmtree(site.output)
    site.config_text = site.config_text.replace('author = "Site Author"', 'author = "Someone"')
    site.now += timedelta(days=40)
    result = site.build()
    assert result.parsed == 6
    assert _ids(site) == ids
    # and adopting again changes nothing
    code, lines, _ = _adopt(site, capsys, f"old.{fmt}")
    assert code == 0
    assert lines[-1] == "5 entries in 1 feed: 3 unchanged, 1 unmatched, 1 ambiguous"


def test_atom_and_rss_ids_that_differ_are_kept_each_for_its_format(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """An old site whose Atom ids and RSS guids differ: Atom readers and RSS readers each
    keep theirs, adopted in one run or one feed after the other."""
    site.article("hello-world.md", "Hello World", "2020-01-02")
    site.article("second.md", "Second post", "2020-02-03T10:00:00Z")
    (site.root / "feed.xml").write_bytes(atom_feed([HELLO, ("tag:old,2020:2", *SECOND[1:])]))
    (site.root / "index.xml").write_bytes(rss_feed([("g-1", *HELLO[1:]), SECOND]))
    code, lines, _ = _adopt(site, capsys, "feed.xml")
    assert code == 0
    code, lines, _ = _adopt(site, capsys, "index.xml")  # a second run, before any build
    assert code == 0
    assert lines[1] == (
        f'adopted     hello-world.md: id "g-1", Atom id "{HELLO[0]}", first seen '
        f'2020-01-02T16:00:00+00:00; was "{HELLO[0]}" (matched by slug in index.xml)'
    )
    site.build()
    ids = _ids(site)
    assert ids["Hello World"] == {"atom": HELLO[0], "rss": "g-1", "json": "g-1"}
    assert ids["Second post"] == {"atom": "tag:old,2020:2", "rss": "1234", "json": "1234"}
    # both at once: the same
    code, lines, _ = _adopt(site, capsys, "index.xml", "feed.xml")
    assert lines[-1] == "4 entries in 2 feeds: 2 unchanged"
    assert lines[2].endswith("(matched by slug in feed.xml; slug in index.xml)")


def test_an_id_already_published_is_replaced_only_with_force(
    engine_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site = engine_site
    _articles(site)
    site.build()
    before = _ids(site)
    (site.root / "old.json").write_bytes(json_feed(OLD))
    code, lines, _ = _adopt(site, capsys, "old.json")
    assert code == 0
    assert lines[1].startswith(
        'refused     hello-world.md: its id "tag:example.org,2020-01-02:hello-world" has appeared '
        f'in a feed feedpub wrote: --force gives it the old id "{HELLO[0]}"'
    )
    assert lines[-1] == (
        "5 entries in 1 feed: 3 refused (--force replaces them), 1 unmatched, 1 ambiguous"
    )
    site.build()
    assert _ids(site) == before
    # --dry-run --force: says what it would do, stores nothing
    code, lines, _ = _adopt(site, capsys, "old.json", "--force", "--dry-run")
    assert code == 0
    assert lines[1].startswith(f'would adopt hello-world.md: id "{HELLO[0]}", first seen')
    assert '; was "tag:example.org,2020-01-02:hello-world"' in lines[1]
    assert lines[-1].endswith("3 to adopt, 1 unmatched, 1 ambiguous; dry run: nothing stored")
    site.build()
    assert _ids(site) == before
    code, lines, _ = _adopt(site, capsys, "old.json", "--force")
    assert lines[-1] == "5 entries in 1 feed: 3 adopted, 1 unmatched, 1 ambiguous"
    site.build()
    for title, expected in EXPECTED.items():
        assert _ids(site)[title] == expected


def test_an_adoption_not_built_yet_may_be_redone_without_force(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Published means: in a feed feedpub wrote. An article built before, adopted since,
    and not built again has published only its derived id."""
    site.article("hello-world.md", "Hello World", "2020-01-02")
    site.build()
    (site.root / "a.json").write_bytes(json_feed([("a-1", *HELLO[1:])]))
    (site.root / "b.json").write_bytes(json_feed([("b-1", *HELLO[1:])]))
    assert _adopt(site, capsys, "a.json", "--force")[1][1].startswith("adopted ")
    _, lines, _ = _adopt(site, capsys, "b.json")
    assert lines[1].startswith('adopted     hello-world.md: id "b-1"')
    site.build()
    _, lines, _ = _adopt(site, capsys, "a.json")
    assert lines[1].startswith('refused     hello-world.md: its id "b-1" has appeared')


def test_dry_run_stores_nothing_not_even_a_state_file(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    _articles(site)
    (site.root / "old.xml").write_bytes(atom_feed(OLD))
    code, lines, _ = _adopt(site, capsys, "old.xml", "--dry-run")
    assert code == 0
    assert lines[1].startswith("would adopt hello-world.md:")
    assert lines[-1] == (
        "5 entries in 1 feed: 3 to adopt, 1 unmatched, 1 ambiguous; dry run: nothing stored"
    )
    assert not (site.root / "state").exists()
    site.build()
    assert _ids(site)["Hello World"]["atom"] == "tag:example.org,2020-01-02:hello-world"
    code, lines, _ = _adopt(site, capsys, "old.xml", "--dry-run")
    assert lines[-1].endswith("; dry run: nothing stored")
    with State(site.config().state_target) as state:
        assert all(i.adopted is None for i in state.identities().values())


def test_an_explicit_id_wins_and_one_old_id_goes_to_one_article(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("hello-world.md", "Hello World", "2020-01-02", extra="id: post-1\n")
    site.article("second.md", "Second post", "2020-02-03T10:00:00Z", extra="id: '1234'\n")
    site.article("third.md", "Third", "2020-04-01")
    site.article("fourth.md", "Fourth", "2020-04-02")
    (site.root / "old.xml").write_bytes(
        rss_feed(
            [
                HELLO,
                SECOND,
                ("x-1", "Third", "https://old.example/third/", "2020-04-01T10:00:00Z"),
                ("x-1", "Fourth", "https://old.example/fourth/", "2020-04-02T10:00:00Z"),
                ("1235", "Third", "https://old.example/?p=9", "2020-04-01T10:00:00Z"),
            ]
        )
    )
    code, lines, _ = _adopt(site, capsys, "old.xml")
    assert code == 0
    assert lines[1:5] == [
        'conflict    fourth.md: the old id "x-1" matches fourth.md, third.md; none adopted '
        "(matched by slug in old.xml)",
        'kept        hello-world.md: its explicit id "post-1" (front matter) wins over the old '
        f'id "{HELLO[0]}"; remove it, or write the old one there (matched by slug in old.xml)',
        'unchanged   second.md: its explicit id "1234" (front matter) is the old one',
        'conflict    third.md: old entries with different ids match it: "1235" in old.xml; '
        '"x-1" in old.xml; not adopted',
    ]
    assert lines[-1] == "5 entries in 1 feed: 1 unchanged, 1 kept, 2 conflict"


def test_unreadable_feeds_are_one_line_each_and_exit_2_only_when_none_was_read(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    _articles(site)
    (site.root / "good.xml").write_bytes(atom_feed([HELLO]))
    (site.root / "page.html").write_text("<html><body>Not a feed</body></html>")
    (site.root / "data.json").write_text('{"a": 1}')
    (site.root / "folder").mkdir()
    code, lines, err = _adopt(site, capsys, "missing.xml", "good.xml", "page.html")
    assert code == 1
    assert err.splitlines() == [
        "feedpub: error: missing.xml: cannot read: No such file or directory",
        "feedpub: error: page.html: not a feed (no Atom, RSS or JSON Feed document)",
    ]
    assert lines[-1] == "1 entry in 1 feed: 1 adopted"
    code, lines, err = _adopt(site, capsys, "data.json", "folder", "ftp://old.example/feed")
    assert (code, lines) == (2, [])
    assert err.splitlines() == [
        "feedpub: error: data.json: not a feed (JSON, but no JSON Feed version)",
        "feedpub: error: folder: cannot read: a folder",
        "feedpub: error: ftp://old.example/feed: only files and http(s) URLs can be read",
    ]


# -- over HTTP, from a local server ----------------------------------------------------------


class _OldSite(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_GET(self) -> None:
        if self.path == "/evil.xml":  # a reason phrase that would clear a terminal
            self.send_response(500, "Oops\x1b[2J")
            self.end_headers()
            return
        if self.path == "/moved.xml":
            self.send_response(301)
            self.send_header("Location", "/feed.xml")
            self.end_headers()
            return
        if self.path == "/slow.xml":  # sends a byte now and then, for ever
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b" " * 10000)
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
            return
        found = self.files.get(self.path)
        if found is None:
            self.send_error(404, "Not Found")
            return
        ctype, body = found
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def old_site() -> Iterator[str]:
    _OldSite.files = {
        "/feed.xml": ("application/atom+xml", atom_feed(OLD)),
        "/index.xml": ("application/rss+xml", rss_feed(OLD)),
        "/feed.json": ("application/feed+json", json_feed(OLD)),
        "/big.xml": ("application/xml", b" " * 5000),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OldSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_adopt_from_urls(site: Site, capsys: pytest.CaptureFixture[str], old_site: str) -> None:
    _articles(site)
    code, lines, err = _adopt(
        site, capsys, f"{old_site}/moved.xml", f"{old_site}/index.xml", f"{old_site}/nope.xml"
    )
    assert code == 1
    assert err == f"feedpub: error: {old_site}/nope.xml: HTTP 404 Not Found\n"
    assert lines[0] == f'read {old_site}/moved.xml: Atom feed "Old blog", 5 entries'
    assert lines[1] == f'read {old_site}/index.xml: RSS feed "Old blog", 5 entries'
    assert lines[-1] == "10 entries in 2 feeds: 3 adopted, 2 unmatched, 2 ambiguous"
    site.build()
    for title, expected in EXPECTED.items():
        assert _ids(site)[title] == expected


def test_reading_is_bounded_in_size_and_time(old_site: str, tmp_path: Path) -> None:
    with pytest.raises(FeedReadError, match=r"big\.xml: larger than"):
        read_source(f"{old_site}/big.xml", max_bytes=4096)  # (says its length)
    with pytest.raises(FeedReadError, match=r"slow\.xml: larger than"):
        read_source(f"{old_site}/slow.xml", max_bytes=50_000)  # (does not)
    started = time.monotonic()
    with pytest.raises(FeedReadError, match=r"took longer than 0\.5 s to download; stopped"):
        read_source(f"{old_site}/slow.xml", seconds=0.5)
    assert time.monotonic() - started < 5
    (tmp_path / "big.xml").write_bytes(b" " * 5000)
    with pytest.raises(FeedReadError, match=r"big\.xml: larger than"):
        read_source(str(tmp_path / "big.xml"), max_bytes=4096)
    with pytest.raises(FeedReadError, match=r"cannot fetch: "):
        read_source("http://127.0.0.1:9/feed.xml")


def _slow_parse(job: tuple[str, bytes]) -> OldFeed | str:
    time.sleep(30)
    return "never"


def test_parsing_runs_under_a_time_budget(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(atom_feed(OLD))
    started = time.monotonic()
    feeds, errors = read_feeds([str(tmp_path / "a.xml")], budget=0.5, parse=_slow_parse)
    assert feeds == []
    assert errors == [f"{tmp_path / 'a.xml'}: not read: took longer than 0.5 s; stopped"]
    assert time.monotonic() - started < 20
    feeds, errors = read_feeds([str(tmp_path / "a.xml")])  # the real parser: well within it
    assert (len(feeds[0].entries), errors) == (5, [])


# -- parsing -----------------------------------------------------------------------------------


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


# -- matching and deciding (pure) ---------------------------------------------------------------


def _article(
    path: str, title: str, day: str | None, url: str | None = None, **kw: object
) -> Article:
    meta = ArticleMeta(
        path=path,
        title=title,
        date=datetime.fromisoformat(day) if day else None,
        content_hash=path,
        **kw,  # type: ignore[arg-type]
    )
    slug = path.rsplit("/", 1)[-1].removesuffix(".md")
    return Article(
        meta=meta,
        date=meta.date or NOW,
        id=f"tag:new,2025:{slug}",
        slug=slug,
        url=url or f"https://new.example/posts/{slug}/",
    )


FEED = OldFeed(source="old.xml", format="rss", title="", entries=())
BERLIN = __import__("zoneinfo").ZoneInfo("Europe/Berlin")


def _match(entry: OldEntry, *articles: Article) -> Match:
    (found,) = match([replace(FEED, entries=(entry,))], articles, BERLIN)
    return found


def _entry(title: str = "T", link: str | None = None, when: str | None = None) -> OldEntry:
    return OldEntry(
        id="old-1", link=link, title=title, published=datetime.fromisoformat(when) if when else None
    )


def test_matching_by_link_slug_then_title_and_date() -> None:
    a = _article("a.md", "Alpha", "2020-01-02T00:00:00+01:00")
    b = _article("2020/b.md", "Beta", "2020-01-03T00:00:00+01:00", slug="beta")
    ext = _article(
        "ext.md", "Elsewhere", "2020-01-04T00:00:00+00:00", url="https://other.example/x"
    )
    # the same URL structure on the new host: by link
    assert _match(_entry(link="https://old.example/posts/a/index.html"), a, b).how == "link"
    assert _match(_entry(link="https://other.example/x"), a, b, ext).path == "ext.md"
    # Jekyll, Hugo and dated slugs: by slug
    for link in ("/2020/01/03/beta.html", "https://old.example/blog/beta/", "/2020-01-03-beta/"):
        got = _match(_entry(link=link), a, b)
        assert (got.path, got.how) == ("2020/b.md", "slug"), link
    # no path to go by: title and date, the date in whichever zone the old site used
    late = _entry("  alpha ", "https://old.example/?p=1", "2020-01-01T23:30:00-08:00")
    assert (_match(late, a, b).path, _match(late, a, b).how) == ("a.md", "title and date")
    wrong_day = _match(_entry("Alpha", None, "2020-03-01T00:00:00Z"), a, b)
    assert wrong_day.path is None
    assert wrong_day.why == (
        "no article has its title and date (its title is that of a.md (2020-01-02): another date)"
    )
    assert _match(_entry("Alpha", "http://[nope/a/", "2020-01-02T00:00:00Z"), a).path == "a.md"
    nothing = _match(_entry("Zeta", "https://old.example/zeta.html", "2020-01-01T00:00:00Z"), a)
    assert nothing.why == (
        'no article has its link\'s path "/zeta.html", its slug "zeta" or its title and date'
    )


def test_two_articles_that_fit_equally_are_reported_not_guessed() -> None:
    a1 = _article("a.md", "Same", "2020-01-02T00:00:00+01:00")
    a2 = _article("b.md", "Same", "2020-01-02T12:00:00+01:00")
    got = _match(_entry("Same", None, "2020-01-02T10:00:00Z"), a1, a2)
    assert (got.path, got.ambiguous) == (None, ("a.md", "b.md"))
    # two slugs alike (one got "-2"): the title tells them apart, else ambiguous
    p1 = _article("x/post.md", "First", "2020-01-01T00:00:00Z")
    p2 = replace(_article("y/post.md", "Second", "2020-01-01T00:00:00Z"), slug="post-2")
    assert _match(_entry("Second", "/post/"), p1, p2).path == "y/post.md"
    assert _match(_entry("Second", "/post/"), p1, p2).how == "slug and title"
    assert _match(_entry("Third", "/post/"), p1, p2).ambiguous == ("x/post.md", "y/post.md")


def _ident(path: str, **kw: object) -> Identity:
    return Identity(path=path, article_id=f"tag:new,2025:{path}", slug=path, first_seen=NOW, **kw)  # type: ignore[arg-type]


def test_adopted_identity_merges_what_each_format_said() -> None:
    now = NOW + timedelta(days=1)
    old = datetime(2019, 1, 1, tzinfo=UTC)
    base = _ident("a.md")
    atom = adopted_identity(base, item_id=None, atom_id="urn:a", published=old, now=now)
    assert (atom.article_id, atom.atom_id, atom.first_seen, atom.adopted) == (
        "urn:a",
        "urn:a",
        old,
        now,
    )
    both = adopted_identity(atom, item_id="g-1", atom_id=None, published=None, now=now)
    assert (both.article_id, both.atom_id, both.first_seen) == ("g-1", "urn:a", old)
    again = adopted_identity(
        both, item_id=None, atom_id="urn:b", published=old + timedelta(1), now=now
    )
    assert (again.article_id, again.atom_id, again.first_seen) == ("g-1", "urn:b", old)
    rss = adopted_identity(base, item_id="g-2", atom_id=None, published=None, now=now)
    assert (rss.article_id, rss.atom_id, rss.first_seen) == ("g-2", None, NOW)
    # a derived identity keeps nothing of its own ids
    assert (
        adopted_identity(base, item_id=None, atom_id="urn:c", published=None, now=now).article_id
        == "urn:c"
    )


def test_decide_refuses_to_replace_a_published_id_unless_forced() -> None:
    a = _article("a.md", "A", "2020-01-01T00:00:00Z")
    m = Match(feed=FEED, entry=_entry("A"), path="a.md", how="title and date")
    stored = {"a.md": _ident("a.md")}

    def run(
        matches: list[Match], published: bool, force: bool = False
    ) -> tuple[list[tuple[str, str, Identity | None]], list[str]]:
        adoptions, outcomes = decide(
            matches,
            {"a.md": a},
            stored,
            stored=stored,
            published=lambda path: published,
            now=NOW,
            force=force,
        )
        return (
            [(x.path, x.identity.article_id, x.before) for x in adoptions],
            [o.status for o in outcomes],
        )

    assert run([m], published=True) == ([], ["refused"])
    assert run([m], published=True, force=True) == ([("a.md", "old-1", stored["a.md"])], [])
    assert run([m], published=False) == ([("a.md", "old-1", stored["a.md"])], [])
    # an entry without id or link: nothing to keep
    bare = Match(feed=FEED, entry=replace(_entry("A"), id=None), path="a.md", how="title")
    assert run([bare], published=False) == ([], ["skipped"])


# -- whatever an old feed holds -----------------------------------------------------------------


@given(st.binary(max_size=2000))
def test_parsing_any_bytes_gives_a_feed_or_a_reason(data: bytes) -> None:
    assert isinstance(parse_feed(("x", data)), OldFeed | str)


@given(st.text(max_size=200))
def test_any_link_title_and_date_text_is_matched_or_explained(text: str) -> None:
    from feedpub.adopt import _date, _link_path, _link_slug

    a = _article("a.md", "Alpha", "2020-01-02T00:00:00+01:00")
    found = _match(OldEntry(id=text or None, link=text, title=text, published=_date(text)), a)
    assert found.path in (None, "a.md")
    assert found.path or found.why or found.ambiguous
    assert _link_path(text) is None or _link_path(text) == _link_path(text + "/")
    slug = _link_slug(text)
    assert slug is None or "/" not in slug
    assert printable_is_safe(shown(text))


def printable_is_safe(text: str) -> bool:
    import unicodedata

    return all(unicodedata.category(c) not in ("Cc", "Cf") for c in text)


def test_error_lines_are_terminal_safe(old_site: str) -> None:
    _, errors = read_feeds([f"{old_site}/evil.xml", "\x1b]0;title\x07.xml"], workers=0)
    assert errors == [
        f"{old_site}/evil.xml: HTTP 500 Oops\\u001b[2J",
        "\\u001b]0;title\\u0007.xml: cannot read: No such file or directory",
    ]
