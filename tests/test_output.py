from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.errors import OutputError, OutputRefused
from feedpub.output import (
    MARKER,
    WRITING,
    _parts,
    file_matches,
    matches,
    read_file,
    remove,
    remove_file,
    safe_join,
    servable,
    sha256,
    sweep_if_interrupted,
    write_atomic,
    write_file,
    writing,
)
from feedpub.output_ownership import claim_output, may_write, output_id


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


# --- symlinks never lead a write, a read or a removal out of the folder ---------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the output folder, with a file feedpub must never touch."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "all.atom.xml").write_bytes(b"not yours")
    return folder


def test_a_symlinked_folder_inside_the_output_is_not_written_through(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "public"
    root.mkdir()
    (root / "feeds").symlink_to(outside)
    (root / "inner").mkdir()
    (root / "also-feeds").symlink_to(root / "inner")  # even one that stays inside
    for relpath in ("feeds/all.atom.xml", "feeds/new.xml", "also-feeds/x.xml"):
        with pytest.raises(OutputRefused, match="is a symlink or a file, not a folder"):
            write_file(root, relpath, b"mine")
    assert sorted(os.listdir(outside)) == ["all.atom.xml"]
    assert (outside / "all.atom.xml").read_bytes() == b"not yours"
    assert os.listdir(root / "inner") == []
    assert read_file(root, "feeds/all.atom.xml") is None  # nor read through it
    assert not matches(root, "feeds/all.atom.xml", sha256(b"not yours"))
    with pytest.raises(OutputRefused):
        remove_file(root, "feeds/all.atom.xml")
    assert (outside / "all.atom.xml").exists()


def test_a_symlink_at_a_path_feedpub_writes_is_replaced_not_followed(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "public"
    root.mkdir()
    (root / "index.html").symlink_to(outside / "all.atom.xml")
    assert read_file(root, "index.html") is None
    write_file(root, "index.html", b"mine")
    assert not (root / "index.html").is_symlink()
    assert (root / "index.html").read_bytes() == b"mine"
    assert (outside / "all.atom.xml").read_bytes() == b"not yours"
    (root / "gone.html").symlink_to(outside / "all.atom.xml")
    remove_file(root, "gone.html")  # the link goes, never its target
    assert (outside / "all.atom.xml").exists()


def test_the_temporary_file_cannot_be_planted_as_a_symlink(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file is created with O_EXCL | O_NOFOLLOW: a symlink with its name
    (guessed, or left there) is never written through; another name is taken."""
    root = tmp_path / "public"
    root.mkdir()
    (root / ".a.xml.00000000.tmp").symlink_to(outside / "all.atom.xml")
    letters = iter("0" * 8 + "1" * 8)
    monkeypatch.setattr("feedpub.output.secrets.choice", lambda alphabet: next(letters))
    write_file(root, "a.xml", b"mine")
    assert (root / "a.xml").read_bytes() == b"mine"
    assert (outside / "all.atom.xml").read_bytes() == b"not yours"
    assert sorted(os.listdir(root)) == [".a.xml.00000000.tmp", "a.xml"]


def test_new_never_replaces_a_file(tmp_path: Path) -> None:
    (tmp_path / "robots.txt").write_bytes(b"theirs")
    with pytest.raises(OutputRefused, match="appeared while feedpub was writing it"):
        write_file(tmp_path, "robots.txt", b"mine", new=True)
    assert (tmp_path / "robots.txt").read_bytes() == b"theirs"
    assert os.listdir(tmp_path) == ["robots.txt"]
    write_file(tmp_path, "sub/new.txt", b"mine", new=True)
    assert (tmp_path / "sub" / "new.txt").read_bytes() == b"mine"


def test_reading_a_fifo_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.xml")
    assert read_file(tmp_path, "pipe.xml") is None


def test_may_write(tmp_path: Path) -> None:
    (tmp_path / "robots.txt").write_bytes(b"theirs")
    (tmp_path / "folder.html").mkdir()
    assert may_write(tmp_path, "new.html", owned=False) is None
    assert may_write(tmp_path, "robots.txt", owned=True) is None
    refusal = may_write(tmp_path, "robots.txt", owned=False)
    assert refusal is not None and "feedpub did not write it" in refusal
    assert may_write(tmp_path, "folder.html", owned=True) is not None


# --- what is served ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "served"),
    [
        ("index.html", True),
        ("feeds/all.atom.xml", True),
        ("feeds/café.json", True),
        ("articles/x/index.html", True),
        ("robots.txt", True),
        ("favicon.ico", True),
        ("articles/the-wal/index.html", True),
        (".feedpub-output-id", False),
        ("feeds/.all.atom.xml.abcd1234.tmp", False),
        (".well-known/x", False),
        ("a/.git/config", False),
        ("state.sqlite3", False),
        ("state.sqlite3-wal", False),
        ("state.sqlite3-shm", False),
        ("s.sqlite", False),
        ("jobs.db", False),
        ("jobs.db-journal", False),
        ("state-wal", False),
        ("state.sqlite3.lock", False),
        ("state.sqlite3.daemon.lock", False),
        ("state.sqlite3.published.json", False),
        ("x.tmp", False),
        ("index.html~", False),
        ("x.swp", False),
        ("download.part", False),
        ("old.bak", False),
    ],
)
def test_servable(relpath: str, served: bool) -> None:
    assert servable(relpath) is served


# --- whose folder it is --------------------------------------------------------------------


def _nothing() -> dict[str, tuple[str, int]]:
    return {}


def test_a_new_or_empty_folder_is_claimed_and_marked(tmp_path: Path) -> None:
    root = tmp_path / "public"
    first = claim_output(root, _nothing)
    assert (root / MARKER).read_text().strip() == first
    assert claim_output(root, _nothing) == first == output_id(root)
    empty = tmp_path / "empty"
    (empty / "lost+found").mkdir(parents=True)  # a fresh file system mounted there
    assert claim_output(empty, _nothing)


def test_a_folder_with_files_feedpub_did_not_write_is_refused(tmp_path: Path) -> None:
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("someone's site")
    with pytest.raises(OutputError) as info:
        claim_output(tmp_path / "www", lambda: {"index.html": (sha256(b"other"), 5)})
    assert "feedpub did not write" in str(info.value)
    assert "feedpub build --adopt" in str(info.value)
    assert not (tmp_path / "www" / MARKER).exists()
    assert claim_output(tmp_path / "www", _nothing, adopt=True)
    assert (tmp_path / "www" / MARKER).exists()
    assert claim_output(tmp_path / "www", _nothing)  # from now on: the marker says so


def test_a_folder_an_earlier_feedpub_published_into_is_recognised(tmp_path: Path) -> None:
    """Before the marker existed: a file the manifest lists, with the bytes it lists."""
    root = tmp_path / "public"
    write_file(root, "feeds/all.atom.xml", b"<feed/>")
    write_file(root, "robots.txt", b"User-agent: *\n")  # put there by hand
    manifest = {"feeds/all.atom.xml": (sha256(b"<feed/>"), 7), "gone.html": (sha256(b"x"), 1)}
    assert claim_output(root, lambda: manifest)
    assert (root / MARKER).exists()


def test_an_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "public").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        claim_output(tmp_path / "public", _nothing)


def test_every_process_reads_the_same_output_id(tmp_path: Path) -> None:
    import threading

    ids: list[str] = []
    threads = [threading.Thread(target=lambda: ids.append(output_id(tmp_path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    assert len(ids[0]) == 32


def _parts_as_pathlib(relpath: str) -> tuple[str, ...] | None:
    """What the output's paths are, as PurePosixPath reads them (None: refused)."""
    rel = PurePosixPath(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\x00" in relpath:
        return None
    return rel.parts


@settings(max_examples=3000)
@given(st.text(alphabet="ab./\x00", max_size=14) | st.text(max_size=20))
def test_the_fast_reading_of_a_relative_path_is_pathlibs(relpath: str) -> None:
    """A plain path is split by hand (the common case, and ~10x faster): the same parts,
    and the same refusals, as PurePosixPath."""
    try:
        mine: tuple[str, ...] | None = _parts(Path("/r"), relpath)
    except OutputError:
        mine = None
    assert mine == _parts_as_pathlib(relpath)


def test_temporaries_are_swept_only_after_an_interrupted_write(tmp_path: Path) -> None:
    """A writer marks the folder while it writes (feedpub.output.writing); an error (or a
    kill) leaves the mark, and only then does the next build walk the folder."""
    left = tmp_path / "a" / ".x.html.abcd1234.tmp"
    left.parent.mkdir()
    left.write_bytes(b"half")
    assert sweep_if_interrupted(tmp_path) == 0 and left.exists()
    with writing(tmp_path):
        assert (tmp_path / WRITING).exists()
    assert not (tmp_path / WRITING).exists()
    with pytest.raises(OSError, match="disk full"), writing(tmp_path):
        raise OSError("disk full")
    assert (tmp_path / WRITING).exists()
    assert sweep_if_interrupted(tmp_path) == 1
    assert not left.exists() and not (tmp_path / WRITING).exists()
