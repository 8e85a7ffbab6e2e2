"""``feedpub adopt``, reading: files and URLs bounded in size and time, parsing under a
budget, errors fit for a terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedpub.adopt import OldFeed, read_feeds, read_source
from feedpub.errors import FeedReadError
from tests.adopt_helpers import OLD, atom_feed, serve_old_site


@pytest.fixture(autouse=True)
def _in_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Feed files are named as a user names them: relative to the working folder."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def old_site() -> Iterator[str]:
    with serve_old_site() as url:
        yield url


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


def test_error_lines_are_terminal_safe(old_site: str) -> None:
    _, errors = read_feeds([f"{old_site}/evil.xml", "\x1b]0;title\x07.xml"], workers=0)
    assert errors == [
        f"{old_site}/evil.xml: HTTP 500 Oops\\u001b[2J",
        "\\u001b]0;title\\u0007.xml: cannot read: No such file or directory",
    ]
