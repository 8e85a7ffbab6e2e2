"""SIGHUP: `feedpub run` reads config.toml again, takes what it can at once, names what waits
for a restart, and goes on unchanged when the new config has errors (a real process)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.conftest import BASE_CONFIG
from tests.daemon_helpers import Daemon, article


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(BASE_CONFIG, encoding="utf-8")
    return tmp_path


@pytest.fixture
def daemon(root: Path) -> Iterator[Daemon]:
    d = Daemon(root)
    yield d
    if d.proc is not None and d.proc.poll() is None:
        d.stop(signal.SIGKILL)


def _feed_title(daemon: Daemon) -> str:
    return str(feedparser.parse(daemon.get("/feeds/all.atom.xml").content).feed.title)


def _hangup(daemon: Daemon) -> None:
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGHUP)


def test_sighup_takes_the_new_site_settings_at_once(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    assert _feed_title(daemon) == "Test Site"
    config = root / "config.toml"
    config.write_text(
        config.read_text().replace('title = "Test Site"', 'title = "Renamed Site"')
        + "\n[server]\nport = 8999\n"
    )
    _hangup(daemon)
    daemon.until(lambda: _feed_title(daemon) == "Renamed Site", "the feed with the new title")
    logs = daemon.logs()
    assert "config reloaded from" in logs and "site.title" in logs
    # the listen address cannot change under a running server: said once, still served here
    assert logs.count("take effect at the next restart: server.port") == 1
    assert daemon.get("/healthz").status_code == 200
    assert daemon.stop() == 0


def test_a_broken_config_on_sighup_changes_nothing(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    config = root / "config.toml"
    good = config.read_text()
    config.write_text(good.replace("max_entries = 5", "max_entries = -1"))
    _hangup(daemon)
    daemon.wait_for(r"(config reload failed; going on with the running config: .*)", 10)
    assert "max_entries" in daemon.logs().split("config reload failed")[1].splitlines()[0]
    article(root, "two.md", "Two", "2025-01-02T00:00:00Z")
    daemon.until(lambda: daemon.titles() == ["Two", "One"], "the next build, with the old config")
    assert _feed_title(daemon) == "Test Site"
    config.write_text(good + "\n[notify]\nenabled = false\n")
    _hangup(daemon)
    daemon.wait_for(r"config reloaded from .*: (notify\.enabled)", 10)
    assert daemon.stop() == 0
