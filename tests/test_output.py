from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedpub.errors import OutputError
from feedpub.output import file_matches, remove, safe_join, sha256, write_atomic


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "feed.xml"
    write_atomic(target, b"one")
    inode = target.stat().st_ino
    write_atomic(target, b"two", durable=True)
    assert target.read_bytes() == b"two"
    assert target.stat().st_ino != inode  # a new file moved in, not rewritten in place
    assert os.listdir(target.parent) == ["feed.xml"]
    assert file_matches(target, sha256(b"two"))
    assert not file_matches(target, sha256(b"one"))


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    write_atomic(target, b"old")
    (tmp_path / "feed.xml.d").mkdir()
    with pytest.raises(OutputError):
        write_atomic(tmp_path / "feed.xml.d", b"new")  # cannot replace a folder with a file
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["feed.xml", "feed.xml.d"]


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "", "a\x00b"])
def test_safe_join_refuses_escapes(tmp_path: Path, bad: str) -> None:
    with pytest.raises(OutputError):
        safe_join(tmp_path, bad)


def test_remove_prunes_empty_folders(tmp_path: Path) -> None:
    f = tmp_path / "articles" / "x" / "index.html"
    write_atomic(f, b"x")
    remove(f, tmp_path)
    assert list(tmp_path.iterdir()) == []
