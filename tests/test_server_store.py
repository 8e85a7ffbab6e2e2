"""What is served: the files held in memory, swapped at once; the pages read from disk."""

from __future__ import annotations

import gzip
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
