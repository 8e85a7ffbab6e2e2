"""``feedpub adopt``: an old site's entry ids kept, so that readers see no duplicates.

The command, end to end; its steps are tested in ``test_adopt_<step>.py``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feedpub.cli import main
from feedpub.store import State
from tests.adopt_helpers import (
    FEEDS,
    HELLO,
    OLD,
    SECOND,
    UNDATED,
    atom_feed,
    json_feed,
    rss_feed,
    serve_old_site,
)
from tests.conftest import Site

ATOM_NS = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _in_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Feed files are named as a user names them: relative to the working folder."""
    monkeypatch.chdir(tmp_path)


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


@pytest.fixture
def old_site() -> Iterator[str]:
    with serve_old_site() as url:
        yield url


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
