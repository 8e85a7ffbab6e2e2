"""feedpub.watcher: file events → the article paths they concern."""

from __future__ import annotations

import os
from pathlib import Path

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
