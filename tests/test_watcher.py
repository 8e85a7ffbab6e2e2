"""feedpub.watcher: file events → the article paths they concern."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feedpub.watcher import Watcher


def _classify(root: Path, *names: str) -> set[str] | None:
    w = Watcher(root, lambda _: None)
    return w._classify({str(root / n) for n in names})


def test_a_symlinked_article_is_reported_under_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text("x")
    os.symlink("real.md", tmp_path / "alias.md")
    assert _classify(tmp_path, "alias.md") == {"alias.md"}


def test_a_symlink_loop_does_not_lose_the_batch(tmp_path: Path) -> None:
    """Resolving a symlink loop raised RuntimeError, and the whole batch was dropped."""
    os.symlink("loop.md", tmp_path / "loop.md")
    (tmp_path / "new.md").write_text("x")
    assert _classify(tmp_path, "loop.md", "new.md") == {"loop.md", "new.md"}


def test_events_outside_or_on_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert _classify(tmp_path, "sub") is None  # a folder: rescan
    assert _classify(tmp_path, ".x.md.swp") == set()


def test_an_event_on_the_folder_itself_or_outside_it(tmp_path: Path) -> None:
    w = Watcher(tmp_path, lambda _: None)
    assert w._classify({str(tmp_path)}) is None  # the folder itself: rescan
    assert w._classify({str(tmp_path.parent / "elsewhere.md")}) == set()  # not ours


# -- watching, in a thread ------------------------------------------------------------------


class Seen:
    """What a watcher reported, in order."""

    def __init__(self) -> None:
        self.batches: list[set[str] | None] = []

    def __call__(self, paths: set[str] | None) -> None:
        self.batches.append(paths)

    def paths(self) -> set[str]:
        return set().union(*(b for b in self.batches if b is not None))


def _until_reported(
    seen: Seen, make_change: Callable[[], object], check: Callable[[], bool], timeout: float = 15
) -> None:
    """Make the change until the watcher reports it (a change made before its watch is set up,
    just after it started, is not seen: nothing says when that is)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not reported; reported: {seen.batches}"
        make_change()
        step = time.monotonic() + 0.5
        while not check() and time.monotonic() < step:
            time.sleep(0.01)


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[tuple[Path, Seen]]:
    root = tmp_path / "articles"
    root.mkdir()
    seen = Seen()
    w = Watcher(root, seen, step_ms=20, debounce_ms=200)
    w.start()
    assert w.ready.wait(10)
    yield root, seen
    t0 = time.monotonic()
    w.stop(timeout=20)
    assert time.monotonic() - t0 < 5  # the thread ended promptly: join did not wait 20 s


def test_an_article_written_is_reported_by_its_path(watching: tuple[Path, Seen]) -> None:
    root, seen = watching
    count = iter(range(1000))
    _until_reported(
        seen,
        lambda: (root / "one.md").write_text(f"# One {next(count)}\n"),
        lambda: "one.md" in seen.paths(),
    )
    assert None not in seen.batches
    seen.batches.clear()
    (root / ".one.md.swp").write_text("scratch")  # an editor's scratch file ...
    time.sleep(0.5)  # (events are grouped for 200 ms at most)
    assert seen.batches == []  # ... is no article: nothing to report
    (root / "one.md").write_text("# One, edited\n")  # ... then the save
    _until_reported(seen, lambda: None, lambda: "one.md" in seen.paths())
    assert seen.paths() == {"one.md"}


def test_a_new_folder_asks_for_a_rescan(watching: tuple[Path, Seen]) -> None:
    root, seen = watching
    count = iter(range(1000))

    def new_folder() -> None:
        (root / f"sub{next(count)}").mkdir()

    _until_reported(seen, new_folder, lambda: None in seen.batches)


def test_a_folder_that_appears_later_is_watched_then(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "later"
    seen = Seen()
    w = Watcher(root, seen, step_ms=20, debounce_ms=200)
    with caplog.at_level(logging.ERROR, logger="feedpub.watcher"):
        w.start()
        try:
            deadline = time.monotonic() + 10
            while "watching it once it is" not in caplog.text:
                assert time.monotonic() < deadline, "the missing folder was not logged"
                time.sleep(0.01)
            root.mkdir()
            count = iter(range(1000))
            _until_reported(
                seen,
                lambda: (root / "one.md").write_text(f"# One {next(count)}\n"),
                lambda: "one.md" in seen.paths(),
            )
        finally:
            w.stop()


def test_a_folder_replaced_whole_is_watched_again(watching: tuple[Path, Seen]) -> None:
    root, seen = watching
    count = iter(range(1000))
    _until_reported(
        seen,
        lambda: (root / "one.md").write_text(f"# One {next(count)}\n"),
        lambda: "one.md" in seen.paths(),
    )
    new = root.parent / "new"  # a deployment swaps in a new folder
    new.mkdir()
    (new / "two.md").write_text("# Two\n")
    shutil.rmtree(root)
    new.rename(root)
    _until_reported(seen, lambda: None, lambda: None in seen.batches)  # rescan: finds two.md
    _until_reported(
        seen,
        lambda: (root / "three.md").write_text(f"# Three {next(count)}\n"),
        lambda: "three.md" in seen.paths(),
        timeout=5,
    )
