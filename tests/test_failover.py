"""Several `feedpub run` on one PostgreSQL state: one leads, the others stand by and take over
when the leader dies (`kill -9`)."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from feedpub import app
from feedpub import config as config_mod
from tests.conftest import BASE_CONFIG
from tests.daemon_helpers import Daemon, article


@pytest.fixture
def pg_root(tmp_path: Path, pg_url: str) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(
        BASE_CONFIG + f'\n[state]\nurl = "{pg_url}"\n' + "[schedule]\nreconcile_seconds = 3600\n"
    )
    return tmp_path


def _standby(root: Path) -> Daemon:
    d = Daemon(root)
    d.start(wait=False)
    port = d.wait_for(r"on http://127\.0\.0\.1:(\d+)/", 20)
    d.base = f"http://127.0.0.1:{port}"
    return d


def _status_daemon(root: Path) -> str:
    """What ``feedpub status`` says of the leading daemon, without host and time."""
    info = app.status(config_mod.load(root / "config.toml"))
    daemon = str(info["daemon"])
    m = re.fullmatch(r"leader: \S+ (pid \d+, \S+) \(since [^)]+\)", daemon)
    assert m is not None, daemon
    return m.group(1)


def test_a_standby_takes_over_within_10_seconds_of_a_kill_9(pg_root: Path) -> None:
    article(pg_root, "one.md", "One", "2025-01-01T00:00:00Z")
    leader = Daemon(pg_root).start()
    standby = _standby(pg_root)
    try:
        standby.until(lambda: standby.health()["role"] == "standby", "the standby")
        assert leader.health()["role"] == "leader"
        assert leader.proc is not None
        assert _status_daemon(pg_root) == f"pid {leader.proc.pid}, {leader.base}/"
        assert standby.titles() == ["One"]  # it serves what the leader published
        assert leader.proc is not None
        leader.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        leader.stop(signal.SIGKILL)
        standby.until(lambda: standby.health()["role"] == "leader", "the takeover", 15)
        assert time.monotonic() - killed < 10
        article(pg_root, "two.md", "Two", "2025-01-02T00:00:00Z")
        standby.until(lambda: standby.titles() == ["Two", "One"], "a build by the new leader")
        assert standby.proc is not None
        assert _status_daemon(pg_root) == f"pid {standby.proc.pid}, {standby.base}/"
    finally:
        assert standby.stop() == 0


def test_postgresql_restarted_while_the_daemon_runs(pg_root: Path) -> None:
    import shutil
    import subprocess

    ctl = shutil.which("pg_ctlcluster")
    if ctl is None:
        pytest.skip("pg_ctlcluster not found (.ci/run installs PostgreSQL)")
    clusters = subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=True
    ).stdout.split()
    version, name = clusters[0], clusters[1]
    article(pg_root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon = Daemon(pg_root).start()
    try:
        subprocess.run([ctl, version, name, "restart"], check=True, timeout=60)
        article(pg_root, "two.md", "Two", "2025-01-02T00:00:00Z")  # while it reconnects
        daemon.until(lambda: daemon.titles() == ["Two", "One"], "a build after the restart", 30)
        daemon.until(lambda: daemon.health()["role"] == "leader", "leadership kept", 10)
        time.sleep(STANDBY_POLL + 0.5)  # the lock was taken again, not lost to a phantom
        assert daemon.proc is not None
        assert daemon.proc.poll() is None
    finally:
        assert daemon.stop() == 0


STANDBY_POLL = 2.0


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_a_standby_on_another_host_keeps_its_own_output_in_step(
    pg_root: Path, tmp_path: Path
) -> None:
    """A standby with an output folder of its own (another machine: no shared storage)
    copies what the leader publishes from PostgreSQL, removes what it unpublishes, and
    takes over with its folder current."""
    article(pg_root, "one.md", "One", "2025-01-01T00:00:00Z")
    article(pg_root, "old.md", "Old", "2024-12-01T00:00:00Z")
    leader = Daemon(pg_root).start()
    other = tmp_path / "other-host"
    other.mkdir()
    config = (pg_root / "config.toml").read_text()
    assert 'articles = "articles"' in config
    (other / "config.toml").write_text(
        config.replace('articles = "articles"', f'articles = "{pg_root / "articles"}"')
    )
    standby = _standby(other)
    mine, theirs = other / "public", pg_root / "public"
    try:
        standby.until(lambda: standby.health()["role"] == "standby", "the standby")
        standby.until(lambda: standby.titles() == ["One", "Old"], "the copy")
        assert _files(mine) == _files(theirs)
        article(pg_root, "two.md", "Two", "2025-01-02T00:00:00Z")
        (pg_root / "articles" / "old.md").unlink()
        standby.until(lambda: standby.titles() == ["Two", "One"], "the change, copied")
        standby.until(lambda: _files(mine) == _files(theirs), "the same files", 5)
        assert not (mine / "articles" / "old").exists()  # its page went with it
        assert leader.proc is not None
        leader.proc.send_signal(signal.SIGKILL)
        leader.stop(signal.SIGKILL)
        standby.until(lambda: standby.health()["role"] == "leader", "the takeover", 15)
        article(pg_root, "three.md", "Three", "2025-01-03T00:00:00Z")
        standby.until(lambda: standby.titles() == ["Three", "Two", "One"], "its own build")
        assert b"<title>Three</title>" in (mine / "feeds" / "all.atom.xml").read_bytes()
        assert b"<title>Three</title>" not in (theirs / "feeds" / "all.atom.xml").read_bytes()
    finally:
        assert standby.stop() == 0
