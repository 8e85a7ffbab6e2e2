"""feedpub.articles.discover: which files below the articles folder are articles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedpub.articles.discover import FileStat, is_article_name, is_article_relpath, scan

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
        "x.html",
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
        ("a.rst", False),
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
