"""feedpub.config.changes: what a reloaded config changes, and what a running daemon takes."""

from __future__ import annotations

from pathlib import Path

from feedpub.config import Config, load
from feedpub.config.changes import changed_keys, live
from tests.conftest import BASE_CONFIG


def _config(tmp_path: Path, text: str, name: str = "config.toml") -> Config:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load(path)


def test_the_same_file_changes_nothing(tmp_path: Path) -> None:
    a = _config(tmp_path, BASE_CONFIG, "a.toml")
    b = _config(tmp_path, BASE_CONFIG, "b.toml")
    assert changed_keys(a, b) == []  # (the file's own path is not a setting)
    _, taken, waiting = live(a, b)
    assert (taken, waiting) == ([], [])


def test_nested_keys_are_named_and_restart_only_sections_are_kept(tmp_path: Path) -> None:
    a = _config(tmp_path, BASE_CONFIG, "a.toml")
    text = (
        BASE_CONFIG.replace('title = "Test Site"', 'title = "New"').replace(
            'output = "public"', 'output = "elsewhere"'
        )
        + '\n[feeds.categories."Release Notes"]\ntitle = "Releases"\n'
        + "\n[server]\nport = 9000\n"
    )
    b = _config(tmp_path, text, "b.toml")
    assert changed_keys(a, b) == [
        "site.title",
        "paths.output",
        "feeds.categories.Release Notes",
        "server.port",
    ]
    config, taken, waiting = live(a, b)
    assert taken == ["site.title", "feeds.categories.Release Notes"]
    assert waiting == ["paths.output", "server.port"]
    assert config.site.title == "New"
    assert config.paths.output == a.paths.output
    assert config.server.port == a.server.port
    assert config.feeds.for_category("Release Notes").title == "Releases"
