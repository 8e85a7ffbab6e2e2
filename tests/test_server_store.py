"""What is served: the files held in memory, swapped at once; the pages read from disk."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pytest

from feedpub.server import App, Store, make_resource
from tests.server_helpers import FEED, call


def test_store_swaps_changes_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    store = Store(tmp_path)
    store.load_all()
    before = store.resources
    (tmp_path / "b.json").write_text("[]")
    (tmp_path / "a.json").unlink()
    store.update(["b.json"], ["a.json"])
    assert set(store.resources) == {"/b.json"}
    assert set(before) == {"/a.json"}  # the old mapping is untouched: readers see one or the other


def test_the_store_serves_only_what_may_be_served(tmp_path: Path) -> None:
    """Published files and files put there by hand; never state, locks, temporaries,
    dotfiles, anything through a symlink, and a FIFO does not hang the loading."""
    public = tmp_path / "public"
    (public / "feeds").mkdir(parents=True)
    (public / "feeds" / "all.json").write_text("{}")
    (public / "robots.txt").write_text("User-agent: *\n")
    for name in (
        ".feedpub-output-id",
        "state.sqlite3",
        "state.sqlite3-wal",
        "state.sqlite3.lock",
        "state.sqlite3.published.json",
        "feeds/.all.json.abcd1234.tmp",
        "index.html~",
    ):
        (public / name).write_text("private")
    (public / ".git").mkdir()
    (public / ".git" / "config").write_text("private")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.txt").write_text("private")
    (public / "key.txt").symlink_to(tmp_path / "secret" / "key.txt")
    (public / "secret").symlink_to(tmp_path / "secret")
    os.mkfifo(public / "pipe.txt")
    store = Store(public)
    assert store.load_all() == 2
    assert set(store.resources) == {"/feeds/all.json", "/robots.txt"}
    store.update(["state.sqlite3", "key.txt", "feeds/all.json"], [])
    assert set(store.resources) == {"/feeds/all.json", "/robots.txt"}
    store.sync({"state.sqlite3": "0" * 64, "feeds/all.json": "0" * 64})
    assert set(store.resources) == {"/feeds/all.json", "/robots.txt"}


def test_pages_and_archives_are_served_from_disk_like_the_feeds(tmp_path: Path) -> None:
    """Article pages and archive documents are not held in memory: read when asked for,
    with the same headers, ETag, 304 and gzip; a file replaced is served anew; nothing
    outside the folder, through a symlink, or over the size limit."""
    page = b"<!DOCTYPE html><p>" + b"page " * 200 + b"</p>"
    (tmp_path / "articles" / "a").mkdir(parents=True)
    (tmp_path / "articles" / "a" / "index.html").write_bytes(page)
    (tmp_path / "feeds" / "archive" / "all").mkdir(parents=True)
    (tmp_path / "feeds" / "archive" / "all" / "1.atom.xml").write_bytes(FEED)
    (tmp_path / "secret.html").write_text("x")
    (tmp_path / "articles" / "link").mkdir()
    (tmp_path / "articles" / "link" / "index.html").symlink_to(tmp_path / "secret.html")
    store = Store(tmp_path)
    store.load_all()
    assert set(store.resources) == set()  # nothing held: all of these are read from disk
    app = App(store, dict)
    status, headers, body = call(app, "/articles/a/")
    assert (status, body) == (200, page)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["etag"] == make_resource("x.html", page, 0).etag.decode()
    assert call(app, "/articles/a/", headers={"If-None-Match": headers["etag"]})[0] == 304
    zipped = call(app, "/articles/a/", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(zipped[2]) == page
    status, headers, _ = call(app, "/articles/a")
    assert (status, headers["location"]) == (301, "/articles/a/")
    status, headers, body = call(app, "/feeds/archive/all/1.atom.xml")
    assert (status, body) == (200, FEED)
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    for path in ("/articles/link/", "/articles/../secret.html", "/articles/%2e%2e/x.html"):
        assert call(app, path)[0] == 404, path
    # replaced atomically: the new bytes, whatever was cached
    new = tmp_path / "articles" / "a" / ".new"
    new.write_bytes(b"<p>new</p>")
    os.replace(new, tmp_path / "articles" / "a" / "index.html")
    assert call(app, "/articles/a/")[2] == b"<p>new</p>"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("feedpub.server.store.MAX_DISK_BYTES", 5)
        assert call(App(Store(tmp_path), dict), "/feeds/archive/all/1.atom.xml")[0] == 404


def test_a_file_replaced_while_read_is_read_whole_as_it_was(tmp_path: Path) -> None:
    from feedpub.output import read_file

    (tmp_path / "f.html").write_bytes(b"old " * 1000)

    def replace_it(st: os.stat_result) -> bool:  # (between the open and the read)
        (tmp_path / "g").write_bytes(b"new " * 10)
        os.replace(tmp_path / "g", tmp_path / "f.html")
        return False

    found = read_file(tmp_path, "f.html", limit=1 << 20, cached=replace_it)
    assert found is not None and found[0] == b"old " * 1000
    assert (tmp_path / "f.html").read_bytes() == b"new " * 10


# -- what the daemon does with a store (in its own process in tests/test_daemon.py) ----------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_sync_reloads_what_changed_and_drops_what_is_gone(tmp_path: Path) -> None:
    """``sync`` (a daemon starting, a standby following its leader): files whose published
    bytes differ are reloaded, files gone are dropped, files put there by hand stay."""
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "a.json").write_bytes(b"[1]")
    (tmp_path / "feeds" / "b.json").write_bytes(b"[2]")
    (tmp_path / "robots.txt").write_text("User-agent: *\n")
    store = Store(tmp_path)
    assert store.load_all() == 3
    published = {"feeds/a.json": _sha(b"[1]"), "feeds/b.json": _sha(b"[2]")}
    assert store.differs(published) == []
    assert store.sync(published) == 0
    (tmp_path / "feeds" / "a.json").write_bytes(b"[10]")
    (tmp_path / "feeds" / "b.json").unlink()
    published = {"feeds/a.json": _sha(b"[10]")}
    assert store.differs(published) == ["feeds/a.json"]
    before = store.resources
    assert store.sync(published) == 2  # a.json reloaded, b.json dropped
    assert set(store.resources) == {"/feeds/a.json", "/robots.txt"}
    assert store.resources["/feeds/a.json"].body == b"[10]"
    assert set(before) == {"/feeds/a.json", "/feeds/b.json", "/robots.txt"}  # swapped whole
    assert store.differs(published) == []


def test_differs_knows_pages_read_from_disk_by_their_last_sync(tmp_path: Path) -> None:
    """Pages are not held: whether one has the published bytes is what the last ``sync``
    recorded (a standby asks ``differs`` which files to copy from its leader)."""
    (tmp_path / "articles" / "a").mkdir(parents=True)
    (tmp_path / "articles" / "a" / "index.html").write_bytes(b"<p>a</p>")
    store = Store(tmp_path)
    store.load_all()
    page = {"articles/a/index.html": _sha(b"<p>a</p>")}
    assert store.differs(page) == ["articles/a/index.html"]  # not known yet
    assert store.sync(page) == 0  # (nothing held to reload)
    assert store.differs(page) == []
    assert store.differs({"articles/a/index.html": _sha(b"<p>b</p>")}) == ["articles/a/index.html"]


def test_the_disk_cache_stays_within_its_bound(tmp_path: Path) -> None:
    """Answers read from disk are kept least recently used first, up to ``DISK_CACHE_BYTES``
    (one answer at most a sixteenth of it); the count of bytes kept stays exact."""
    pages = [os.urandom(3000) for _ in range(20)]  # (random: gzip does not shrink them)
    for i, data in enumerate(pages):
        (tmp_path / f"p{i}").mkdir()
        (tmp_path / f"p{i}" / "index.html").write_bytes(data)
    store = Store(tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("feedpub.server.store.DISK_CACHE_BYTES", 16 * 3000)  # room for 16
        for _ in range(2):
            for i, data in enumerate(pages):
                res = store.from_disk(f"/p{i}/")
                assert res is not None and res.body == data
        kept = store._cache
        assert list(kept) == [f"p{i}/index.html" for i in range(4, 20)]  # the most recent
        held = sum(len(r.body) + len(r.gzipped or b"") for _, r in kept.values())
        assert store._cached_bytes == held == 16 * 3000
        (tmp_path / "p19" / "index.html").unlink()
        assert store.from_disk("/p19/") is None
        store.update([], ["p18/index.html"])  # a page the build removed: forgotten too
        assert list(kept) == [f"p{i}/index.html" for i in range(4, 18)]
        assert store._cached_bytes == 14 * 3000
