"""feedpub.daemon.health, in process: what /healthz says of a real build loop, and the state
store handle it keeps per thread (counted through the ``open_state`` factory it is given)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feedpub.build import Builder
from feedpub.daemon.buildloop import BuildLoop
from feedpub.daemon.health import Health
from feedpub.store import State
from tests.conftest import NOW, PG_ENV, Site


class Opener:
    """An ``open_state`` factory that keeps what it opened (and counts its attempts)."""

    def __init__(self, target: Path | str) -> None:
        self.target = target
        self.attempts = 0
        self.opened: list[State] = []

    def __call__(self) -> State:
        self.attempts += 1
        state = State(self.target)
        self.opened.append(state)
        return state

    def close_all(self) -> None:
        """Close what this thread opened (closing twice is harmless)."""
        for state in self.opened:
            with contextlib.suppress(sqlite3.ProgrammingError):  # another thread's
                state.close()


class Parts:
    def __init__(
        self,
        site: Site,
        clock: Callable[[], datetime] | None = None,
        stale_after_seconds: float = 900.0,
    ) -> None:
        """``clock``: the build loop's (when it says a build ended), the site's by default."""
        config = site.config()
        self.builder = Builder(config, clock=lambda: site.now, workers=0)
        self.loop = BuildLoop(
            self.builder,
            articles=config.paths.articles,
            settle_ms=30,
            clock=clock or (lambda: site.now),
            publish=lambda result: None,
        )
        self.opener = Opener(config.state_target)
        self.health = Health(
            self.loop,
            role=lambda: "leader",
            open_state=self.opener,
            clock=lambda: site.now,
            stale_after_seconds=stale_after_seconds,
        )


@pytest.fixture
def parts(site: Site) -> Iterator[Parts]:
    p = Parts(site)
    yield p
    p.health.close()
    p.opener.close_all()
    p.builder.close()


def in_thread(parts: Parts, reports: int) -> list[int | None]:
    """``reports`` reports from a new thread, which then closes its handle (SQLite's
    connections are bound to their thread: it is checked closed there)."""
    pending: list[int | None] = []
    closed: list[bool] = []

    def run() -> None:
        pending.extend(parts.health.report()["pending_notifications"] for _ in range(reports))
        parts.health.close()
        try:
            parts.opener.opened[-1].pending_count()
        except sqlite3.ProgrammingError as e:
            closed.append("closed database" in str(e))

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    assert closed == [True]
    return pending


def test_before_the_first_build(parts: Parts) -> None:
    assert parts.health.report() == {
        "status": "ok",
        "reasons": [],
        "role": "leader",
        "last_build": None,
        "builds": 0,
        "articles": None,
        "published": None,
        "article_problems": None,
        "article_errors": None,
        "skipped_files": None,
        "next_go_live": None,
        "pending_notifications": 0,
        "oldest_notification_seconds": None,
        "last_error": None,
    }


def test_after_builds(site: Site) -> None:
    site.article("one.md", "One", "2025-01-01T00:00:00Z")
    site.article("later.md", "Later", "2025-07-01T00:00:00Z")
    site.write("broken.md", "---\ntitle: [unclosed\n---\nx\n")
    (site.articles / "out.md").symlink_to(site.root / "config.toml")
    p = Parts(site)
    try:
        p.loop.build(None)
        report = p.health.report()
        assert report["status"] == "ok"
        assert report["last_build"] == NOW.isoformat()
        assert (report["builds"], report["articles"], report["published"]) == (1, 3, 1)
        assert report["article_problems"] == 1
        errors = report["article_errors"]
        assert isinstance(errors, list) and len(errors) == 1
        assert errors[0].startswith("broken.md:2: error: front matter")
        assert report["skipped_files"] == 1
        assert report["next_go_live"] == "2025-07-01T00:00:00+00:00"
        assert report["pending_notifications"] == 0
        p.loop.last_error = "public: no space left on device"  # as a failed build leaves it
        report = p.health.report()
        assert report["status"] == "unavailable"
        assert report["reasons"] == ["builds are failing: public: no space left on device"]
        assert report["last_error"] == "public: no space left on device"
    finally:
        p.health.close()
        p.opener.close_all()
        p.builder.close()


def test_a_build_is_counted_once_its_result_and_time_are_there(site: Site) -> None:
    """Whoever sees the count of builds go up (a test, a monitor polling /healthz) sees that
    build's time and result with it, never the count alone."""
    site.article("one.md", "One", "2025-01-01T00:00:00Z")
    seen: list[tuple[object, object, object]] = []

    def clock() -> datetime:  # the loop asks the time as it records the build: look then
        report = p.health.report()
        seen.append((report["builds"], report["last_build"], report["articles"]))
        return site.now

    p = Parts(site, clock=clock)
    try:
        p.loop.build(None)
        p.loop.build(None)
        assert seen == [(0, None, None), (1, NOW.isoformat(), 1)]
    finally:
        p.health.close()
        p.opener.close_all()
        p.builder.close()


def test_one_handle_per_thread_kept_across_reports(parts: Parts) -> None:
    for _ in range(3):
        assert parts.health.report()["pending_notifications"] == 0
    assert parts.opener.attempts == 1
    assert in_thread(parts, reports=3) == [0, 0, 0]  # a thread has its own, closed there
    assert parts.opener.attempts == 2
    assert parts.health.report()["pending_notifications"] == 0  # this thread's is still there
    assert parts.opener.attempts == 2
    parts.health.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        parts.opener.opened[0].pending_count()
    parts.health.close()  # (nothing left to close)
    assert parts.health.report()["pending_notifications"] == 0  # opened again
    assert parts.opener.attempts == 3


def test_a_broken_handle_is_dropped_and_opened_again(parts: Parts) -> None:
    assert parts.health.report()["pending_notifications"] == 0
    parts.opener.opened[0].close()  # broken underneath the report
    assert parts.health.report()["pending_notifications"] is None
    assert parts.health.report()["pending_notifications"] == 0
    assert parts.opener.attempts == 2
    parts.opener.opened[1].close()
    parts.health.close()  # closing a broken handle says nothing either
    assert parts.health.report()["pending_notifications"] == 0


def test_a_store_that_cannot_be_opened_counts_nothing(parts: Parts) -> None:
    target = parts.opener.target
    assert isinstance(target, Path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"these are not the bytes of an SQLite database\n")
    report = parts.health.report()
    assert report["pending_notifications"] is None
    assert report["status"] == "unavailable"
    assert report["reasons"] == [
        f"the state store does not answer: {target}: not an SQLite database, so not feedpub's"
        " state file; check paths.state (or restore the file from a backup)"
    ]
    assert parts.health.report()["pending_notifications"] is None
    assert parts.opener.attempts == 2 and parts.opener.opened == []  # tried on each request
    target.unlink()
    assert parts.health.report()["pending_notifications"] == 0
    assert parts.opener.attempts == 3


def test_a_lost_postgresql_connection_is_opened_again(site: Site, pg_url: str) -> None:
    import psycopg

    name = f"feedpub-health-{uuid.uuid4().hex[:12]}"  # finds this test's sessions only
    site.config_text += f'\n[state]\nurl = "{pg_url}&application_name={name}"\n'
    p = Parts(site)
    try:
        assert p.health.report()["pending_notifications"] == 0
        admin = os.environ[PG_ENV].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert killed is not None and killed[0] == 1
        assert p.health.report()["pending_notifications"] is None  # the lost one, dropped
        assert p.health.report()["pending_notifications"] == 0
        assert p.opener.attempts == 2
    finally:
        p.health.close()
        p.builder.close()


def _queue(site: Site, kind: str, created: datetime) -> None:
    from feedpub.model import OutboxItem

    with State(site.config().state_target) as state, state.transaction():
        item = OutboxItem(
            kind=kind,
            target="http://127.0.0.1:9/hub",
            topic="https://example.org/feeds/all.atom.xml",
            not_before=created,
        )
        assert state.enqueue([item], created) == 1


def test_a_notification_waiting_too_long_makes_the_service_unavailable(site: Site) -> None:
    p = Parts(site, stale_after_seconds=60)
    try:
        _queue(site, "websub", site.now - timedelta(seconds=30))
        report = p.health.report()
        assert (report["status"], report["reasons"]) == ("ok", [])
        assert report["oldest_notification_seconds"] == 30
        _queue(site, "weblogupdates", site.now - timedelta(minutes=15))
        report = p.health.report()
        assert report["status"] == "unavailable"
        assert report["reasons"] == [
            "a notification has waited 900 s to be sent (more than notify.stale_after_seconds = 60)"
        ]
        assert report["pending_notifications"] == 2
    finally:
        p.health.close()
        p.opener.close_all()
        p.builder.close()


def test_an_old_delivery_to_a_subscriber_does_not(site: Site) -> None:
    """A subscriber picks its callback: one that keeps failing must not take the site out of
    a load balancer."""
    p = Parts(site, stale_after_seconds=60)
    try:
        _queue(site, "delivery", site.now - timedelta(days=1))
        report = p.health.report()
        assert (report["status"], report["pending_notifications"]) == ("ok", 1)
        assert report["oldest_notification_seconds"] is None
    finally:
        p.health.close()
        p.opener.close_all()
        p.builder.close()


def test_a_build_that_raises_makes_the_service_unavailable_until_one_succeeds(
    site: Site,
) -> None:
    """A real failing build (the output folder is a file), then a good one."""
    site.article("one.md", "One", "2025-01-01T00:00:00Z")
    p = Parts(site)
    try:
        site.output.write_text("not a folder")
        p.loop.build(None)  # (then it pauses before asking for a retry)
        report = p.health.report()
        assert report["status"] == "unavailable"
        assert len(report["reasons"]) == 1
        assert report["reasons"][0].startswith("builds are failing: ")
        assert str(site.output) in report["reasons"][0]
        site.output.unlink()
        p.loop.build(None)
        assert p.health.report()["status"] == "ok"
        with State(site.config().state_target) as state:
            builds = state.recent_builds()
        assert [b.outcome for b in builds] == ["ok", "failed"]
        assert builds[1].error is not None and str(site.output) in builds[1].error
        assert (builds[0].published, builds[0].articles, builds[0].errors) == (1, 1, 0)
    finally:
        p.health.close()
        p.opener.close_all()
        p.builder.close()
