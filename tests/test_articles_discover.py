"""feedpub.articles.discover: which files below the articles folder are articles."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from feedpub.articles.discover import (
    FileStat,
    is_article_name,
    is_article_relpath,
    scan,
    stat_paths,
)
from feedpub.model import SkippedFile

needs_symlinks = pytest.mark.skipif(
    not hasattr(os, "symlink") or os.name == "nt", reason="POSIX symlinks"
)
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")


def touch(root: Path, relpath: str, data: bytes = b"x") -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    articles = tmp_path / "articles"
    articles.mkdir()
    return articles


def test_finds_articles_in_nested_folders_sorted_with_posix_paths(root: Path) -> None:
    for rel in ["b.md", "a.markdown", "z/y/deep.txt", "z/a.md", "A.MD", "m/n.Txt", "é/ü.md"]:
        touch(root, rel)
    found = scan(root)
    assert list(found) == sorted(found)
    assert set(found) == {
        "b.md",
        "a.markdown",
        "z/y/deep.txt",
        "z/a.md",
        "A.MD",
        "m/n.Txt",
        "é/ü.md",
    }
    assert all("\\" not in rel and not rel.startswith("/") for rel in found)


def test_file_stat_is_size_and_mtime(root: Path) -> None:
    path = touch(root, "a.md", b"12345")
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_123_456_789))
    assert scan(root) == {"a.md": FileStat(size=5, mtime_ns=1_700_000_000_123_456_789)}


def test_empty_and_missing_roots(root: Path, tmp_path: Path) -> None:
    assert scan(root) == {}
    assert scan(tmp_path / "does-not-exist") == {}


@pytest.mark.parametrize(
    "relpath",
    [
        ".hidden.md",
        ".hidden/inside.md",
        "a/.hidden/deep/inside.md",
        "x.md~",
        ".x.md.swp",
        ".x.md.swo",
        "#x.md#",
        ".#x.md",
        "x.md.tmp",
        "x.md.temp",
        "x.part",
        "x.md.part",
        "x.md.crdownload",
        "x.md.bak",
        "x.md.orig",
        "~$x.md",
        "~x.md",
        "x.png",
        "x.mdx",
        "README",
        "x.md.txt~",
        "notes.TMP",
    ],
)
def test_ignored_files(root: Path, relpath: str) -> None:
    touch(root, relpath)
    touch(root, "keep.md")
    assert list(scan(root)) == ["keep.md"]


def test_directory_named_like_an_article_is_a_folder(root: Path) -> None:
    (root / "foo.md").mkdir()
    touch(root, "foo.md/inner.md")
    (root / "empty.txt").mkdir()
    assert list(scan(root)) == ["foo.md/inner.md"]


@needs_fifo
def test_fifo_is_ignored_without_blocking(root: Path) -> None:
    os.mkfifo(root / "pipe.md")
    touch(root, "keep.md")
    assert list(scan(root)) == ["keep.md"]


@needs_symlinks
def test_symlink_to_a_file_outside_is_ignored(root: Path, tmp_path: Path) -> None:
    outside = touch(tmp_path / "elsewhere", "secret.md")
    (root / "link.md").symlink_to(outside)
    (root / "rel-link.md").symlink_to(Path("..") / "elsewhere" / "secret.md")
    assert scan(root) == {}


@needs_symlinks
def test_symlink_to_a_sibling_folder_sharing_the_prefix_is_ignored(
    root: Path, tmp_path: Path
) -> None:
    sibling = touch(tmp_path / "articles-evil", "x.md")  # "/…/articles" is a prefix of it
    (root / "link.md").symlink_to(sibling)
    assert scan(root) == {}


@needs_symlinks
def test_symlink_to_a_file_inside_is_found(root: Path) -> None:
    touch(root, "real/target.md", b"hello")
    (root / "alias.md").symlink_to(Path("real") / "target.md")
    (root / "sub").mkdir()
    (root / "sub" / "up.md").symlink_to(Path("..") / "real" / "target.md")
    found = scan(root)
    assert list(found) == ["alias.md", "real/target.md", "sub/up.md"]
    assert found["alias.md"].size == 5


@needs_symlinks
def test_symlink_inside_to_a_non_article_name_is_found_by_its_own_name(root: Path) -> None:
    touch(root, "data/notes.dat")
    (root / "notes.md").symlink_to(Path("data") / "notes.dat")
    assert list(scan(root)) == ["notes.md"]


@needs_symlinks
def test_dangling_symlinks_are_ignored(root: Path) -> None:
    (root / "gone.md").symlink_to(root / "nowhere.md")
    (root / "loop.md").symlink_to(root / "loop.md")
    touch(root, "keep.md")
    assert list(scan(root)) == ["keep.md"]


@needs_symlinks
def test_symlink_to_a_device_or_folder_is_ignored(root: Path) -> None:
    (root / "null.md").symlink_to("/dev/null")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo")
        (root / "fifolink.md").symlink_to(root / "fifo")
    (root / "dir").mkdir()
    (root / "dirlink.md").symlink_to(root / "dir")
    assert scan(root) == {}


@needs_symlinks
def test_symlinked_folders_are_not_followed(root: Path, tmp_path: Path) -> None:
    touch(tmp_path / "outside", "a.md")
    touch(root, "inner/b.md")
    (root / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "again").symlink_to(root / "inner", target_is_directory=True)
    (root / "self").symlink_to(root, target_is_directory=True)
    assert list(scan(root)) == ["inner/b.md"]


@needs_symlinks
def test_root_given_through_a_symlink(root: Path, tmp_path: Path) -> None:
    touch(root, "a.md")
    touch(root, "real/t.md")
    (root / "link.md").symlink_to(Path("real") / "t.md")
    via = tmp_path / "via"
    via.symlink_to(root, target_is_directory=True)
    assert list(scan(via)) == ["a.md", "link.md", "real/t.md"]


def test_relative_root(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(root, "x/a.md")
    monkeypatch.chdir(root.parent)
    assert list(scan(Path("articles"))) == ["x/a.md"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.md", True),
        ("a.MARKDOWN", True),
        ("a.txt", True),
        ("2024-01-01-x.md", True),
        ("", False),
        (".a.md", False),
        ("#a.md#", False),
        ("a.md~", False),
        ("~$a.md", False),
        ("a.md.swp", False),
        ("a.markdown.bak", False),
        ("a.rst", True),
        ("a.HTML", True),
        ("a.htm", True),
        ("a.png", False),
        ("a.rst.orig", False),
    ],
)
def test_is_article_name(name: str, expected: bool) -> None:
    assert is_article_name(name) is expected


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [
        ("a.md", True),
        ("x/y/a.md", True),
        (".git/a.md", False),
        ("x/.drafts/a.md", False),
        ("x//a.md", False),
        ("x/.a.md", False),
        ("x/a.md~", False),
    ],
)
def test_is_article_relpath(relpath: str, expected: bool) -> None:
    assert is_article_relpath(relpath) is expected


def test_unlistable_folder_is_skipped(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root, so make the listing fail directly
    touch(root, "locked/a.md")
    touch(root, "open/b.md")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert list(scan(root)) == ["open/b.md"]


def test_file_vanishing_during_the_scan_is_skipped(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(root, "a.md")
    touch(root, "gone.md")
    real_scandir = os.scandir

    def scandir(path: str) -> list[os.DirEntry[str]]:
        entries = list(real_scandir(path))
        (root / "gone.md").unlink(missing_ok=True)
        return entries

    monkeypatch.setattr(os, "scandir", scandir)
    assert list(scan(root)) == ["a.md"]


# --- what is skipped is reported ----------------------------------------------------------------


def skipped_by_scan(root: Path) -> list[SkippedFile]:
    skipped: list[SkippedFile] = []
    scan(root, skipped)
    return skipped


def reasons(skipped: list[SkippedFile]) -> dict[str, str]:
    assert [s.path for s in skipped] == sorted(s.path for s in skipped)
    return {s.path: s.reason for s in skipped}


def test_folders_named_like_articles_are_reported_and_still_read(root: Path) -> None:
    (root / "foo.md").mkdir()
    touch(root, "foo.md/inner.md")
    (root / "sub" / "empty.txt").mkdir(parents=True)
    (root / ".hidden.md").mkdir()
    (root / "plain-folder").mkdir()
    skipped: list[SkippedFile] = []
    assert list(scan(root, skipped)) == ["foo.md/inner.md"]
    assert reasons(skipped) == {"foo.md": "not_regular", "sub/empty.txt": "not_regular"}
    assert str(skipped[0]) == (
        "foo.md: skipped: a folder named like an article (the articles inside it are read)"
    )


@needs_fifo
def test_a_fifo_is_reported(root: Path) -> None:
    os.mkfifo(root / "pipe.md")
    [skipped] = skipped_by_scan(root)
    assert (skipped.path, skipped.reason) == ("pipe.md", "not_regular")
    assert str(skipped) == "pipe.md: skipped: a FIFO, not a regular file"


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="Unix sockets")
def test_a_socket_is_reported(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)  # a short path: socket paths are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("sock.md")
        [skipped] = skipped_by_scan(root)
    assert (skipped.path, skipped.reason) == ("sock.md", "not_regular")
    assert "socket" in skipped.detail


@needs_symlinks
def test_symlinks_outside_dangling_or_to_no_file_are_reported(root: Path, tmp_path: Path) -> None:
    outside = touch(tmp_path / "elsewhere", "secret.md")
    (root / "link.md").symlink_to(outside)
    (root / "sub").mkdir()
    (root / "sub" / "rel-link.md").symlink_to(Path("..") / ".." / "elsewhere" / "secret.md")
    (root / "evil.md").symlink_to(touch(tmp_path / "articles-evil", "x.md"))
    (root / "gone.md").symlink_to(root / "nowhere.md")
    (root / "loop.md").symlink_to(root / "loop.md")
    (root / "null.md").symlink_to("/dev/null")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo")
        (root / "fifolink.md").symlink_to(root / "fifo")
    (root / "dir").mkdir()
    (root / "dirlink.md").symlink_to(root / "dir")
    touch(root, "keep.md")
    skipped: list[SkippedFile] = []
    assert list(scan(root, skipped)) == ["keep.md"]
    assert reasons(skipped) == {
        "dirlink.md": "not_regular",
        "evil.md": "outside",
        **({"fifolink.md": "not_regular"} if hasattr(os, "mkfifo") else {}),
        "gone.md": "dangling",
        "link.md": "outside",
        "loop.md": "dangling",
        "null.md": "outside",  # /dev/null is outside too
        "sub/rel-link.md": "outside",
    }
    details = {s.path: s.detail for s in skipped}
    assert details["link.md"] == "a symlink leading outside the articles folder"
    assert details["loop.md"] == "a symlink loop"
    assert details["gone.md"] == "a dangling symlink (nothing at its target)"
    if hasattr(os, "mkfifo"):
        assert details["fifolink.md"] == "a symlink to a FIFO, not to a regular file"
    assert details["dirlink.md"] == "a symlink to a folder, not to a regular file"


@needs_symlinks
def test_symlinked_folders_are_not_reported(root: Path, tmp_path: Path) -> None:
    touch(tmp_path / "outside", "a.md")
    touch(root, "inner/b.md")
    (root / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "again").symlink_to(root / "inner", target_is_directory=True)
    assert skipped_by_scan(root) == []


@needs_symlinks
@pytest.mark.parametrize("name", ["x.md~", ".x.md.swp", "#x.md#", ".#x.md", "x.md.tmp", "x.png"])
def test_backups_and_temporary_files_stay_silent(root: Path, tmp_path: Path, name: str) -> None:
    touch(root, name)
    (root / f"{name}-dir.bak").mkdir()
    (root / "links").mkdir()
    (root / "links" / name).symlink_to(tmp_path / "nowhere")
    if hasattr(os, "mkfifo"):
        (root / "fifos").mkdir()
        os.mkfifo(root / "fifos" / name)
    assert skipped_by_scan(root) == []


def test_an_unlistable_folder_is_reported(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(root, "locked/a.md")
    touch(root, "open/b.md")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    skipped: list[SkippedFile] = []
    assert list(scan(root, skipped)) == ["open/b.md"]
    assert [str(s) for s in skipped] == [
        "locked: skipped: cannot list the folder: Permission denied"
    ]
    assert skipped[0].reason == "unreadable"


@needs_symlinks
def test_a_file_that_cannot_be_looked_at_is_reported(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(root, "real/target.md")
    (root / "alias.md").symlink_to(Path("real") / "target.md")
    real_stat = os.stat

    def stat(path: str, *args: object, **kwargs: object) -> os.stat_result:
        if str(path).endswith("alias.md"):
            raise PermissionError(13, "Permission denied", path)
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", stat)
    skipped: list[SkippedFile] = []
    assert list(scan(root, skipped)) == ["real/target.md"]
    assert [(s.path, s.reason) for s in skipped] == [("alias.md", "unreadable")]
    assert skipped[0].detail == "cannot read it: Permission denied"


def test_a_file_vanishing_during_the_scan_is_not_reported(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(root, "a.md")
    touch(root, "gone.md")
    real_scandir = os.scandir

    def scandir(path: str) -> list[os.DirEntry[str]]:
        entries = list(real_scandir(path))
        (root / "gone.md").unlink(missing_ok=True)
        return entries

    monkeypatch.setattr(os, "scandir", scandir)
    assert skipped_by_scan(root) == []


@needs_symlinks
@needs_fifo
def test_stat_paths_reports_the_named_paths_it_skips(root: Path, tmp_path: Path) -> None:
    touch(root, "keep.md")
    (root / "link.md").symlink_to(touch(tmp_path / "elsewhere", "secret.md"))
    (root / "gone.md").symlink_to(root / "nowhere.md")
    os.mkfifo(root / "pipe.md")
    (root / "folder.md").mkdir()
    (root / "unnamed.md").symlink_to(root / "nowhere.md")
    touch(root, "x.md~")
    skipped: list[SkippedFile] = []
    found = stat_paths(
        root,
        ["keep.md", "link.md", "gone.md", "pipe.md", "folder.md", "deleted.md", "x.md~"],
        skipped,
    )
    assert list(found) == ["keep.md"]
    assert reasons(skipped) == {
        "folder.md": "not_regular",
        "gone.md": "dangling",
        "link.md": "outside",
        "pipe.md": "not_regular",
    }
    assert stat_paths(root, ["link.md"]) == {}  # reporting is optional


def test_markdown_under_every_suffix_pelican_reads() -> None:
    from feedpub.articles.discover import is_article_name

    for name in ("a.md", "a.markdown", "a.mkd", "a.mdown", "a.txt", "A.MKD"):
        assert is_article_name(name), name
    for name in ("a.rst.bak", "a.png", "a.mdx"):
        assert not is_article_name(name), name


def test_other_files_are_counted_by_suffix_and_non_content_is_not(root: Path) -> None:
    from feedpub.articles.discover import NO_SUFFIX
    from feedpub.model import skipped_summary

    for name in ("a.md", "b.rst", "c.html", "x/d.htm"):
        touch(root, name)
    for name in ("p1.png", "x/p2.PNG", "x/y/p3.png", "photo.jpg", "script.py", "Makefile"):
        touch(root, name)
    for name in (".DS_Store", "a.md~", "#a.md#", "a.png.tmp", "Thumbs.db", ".git/objects/ab"):
        touch(root, name)
    (root / "images").mkdir()  # folders are not counted, their files are
    touch(root, "images/logo.svg")
    others: dict[str, int] = {}
    skipped: list[SkippedFile] = []
    found = scan(root, skipped, others)
    assert list(found) == ["a.md", "b.rst", "c.html", "x/d.htm"]
    assert skipped == []
    # (images are files articles link to: published when one does, not mentioned)
    assert others == {".py": 1, NO_SUFFIX: 1, ".svg": 1}
    assert skipped_summary(skipped, sorted(others.items())) == (
        "3 files skipped: 3 not articles ((no suffix) 1, .py 1, .svg 1)"
    )


def test_the_summary_names_the_commonest_suffixes_and_counts_the_rest() -> None:
    from feedpub.model import skipped_summary

    others = [(f".s{i}", i) for i in range(1, 9)]
    skips = [SkippedFile(path="l.md", reason="outside", detail="a symlink leading outside")]
    assert skipped_summary(skips, others) == (
        "37 files skipped: 36 not articles (.s8 8, .s7 7, .s6 6, .s5 5, .s4 4, others 6), "
        "1 symlink outside the articles folder"
    )
    assert skipped_summary([], [(".png", 1)]) == "1 file skipped: 1 not an article (.png 1)"
