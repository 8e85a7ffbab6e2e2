"""Notifications against real servers on 127.0.0.1: a WebSub hub receiver, an XML-RPC
weblogUpdates endpoint; retries, coalescing, rate limits, crash safety."""

from __future__ import annotations

import os
import signal
import threading
import time
import xmlrpc.client
import xmlrpc.server
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from feedpub import app
from feedpub import config as config_mod
from feedpub.notify.notifier import Notifier
from feedpub.store import State
from tests.conftest import NOW, Site
from tests.daemon_helpers import Daemon, article


class Receiver:
    """An HTTP server that records POSTs and answers each path with scripted statuses."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, list[str]]]] = []
        self.script: dict[str, list[int]] = {}  # path -> statuses to answer, in turn
        self.headers: dict[str, dict[str, str]] = {}  # path -> extra response headers
        self.hang: set[str] = set()
        self.arrived: list[str] = []  # the path of every POST, as it comes in
        self.bodies: list[bytes] = []  # the raw body of every POST answered with success
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                body = raw.decode("utf-8", "replace")
                with receiver.lock:
                    receiver.arrived.append(self.path)
                if self.path in receiver.hang:
                    time.sleep(3)
                with receiver.lock:
                    statuses = receiver.script.get(self.path, [])
                    status = statuses.pop(0) if statuses else 204
                    if status < 300:
                        receiver.posts.append((self.path, parse_qs(body)))
                        receiver.bodies.append(raw)
                self.send_response(status)
                for k, v in receiver.headers.get(self.path, {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def urls(self, path: str = "/hub") -> list[str]:
        return sorted(form["hub.url"][0] for p, form in self.posts if p == path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class Pinged:
    """A real weblogUpdates XML-RPC endpoint."""

    def __init__(self, mode: str = "ok") -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.server = xmlrpc.server.SimpleXMLRPCServer(
            ("127.0.0.1", 0), logRequests=False, allow_none=True
        )

        def extended(*args: str) -> dict[str, object]:
            if mode == "fault":
                raise xmlrpc.client.Fault(-32601, "extendedPing not supported")
            self.calls.append(("extendedPing", args))
            if mode == "flerror":
                return {"flerror": True, "message": "Sorry, you are pinging too often."}
            return {"flerror": False, "message": "Thanks for the ping."}

        def ping(*args: str) -> dict[str, object]:
            self.calls.append(("ping", args))
            return {"flerror": False, "message": "Thanks for the ping."}

        self.server.register_function(extended, "weblogUpdates.extendedPing")
        self.server.register_function(ping, "weblogUpdates.ping")
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/RPC2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(site: Site, engine: str) -> Site:
    """Every site here runs on each state engine in turn: SQLite and PostgreSQL."""
    site.config_text += engine
    return site


def _configure(site: Site, notify: str) -> None:
    site.config_text += "\n[notify]\n" + notify + "\n"


def _outbox(site: Site) -> list[tuple[str, str, str, int]]:
    with State(site.config().state_target) as state:
        rows = state._db.execute(
            "SELECT kind, target, status, attempts FROM outbox ORDER BY id"
        ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def test_websub_publish_for_every_changed_feed(site: Site, receiver: Receiver) -> None:
    _configure(site, f'hubs = ["{receiver.url}/hub"]\ncoalesce_seconds = 0')
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[News]")
    result = site.build()
    assert result.notifications == 6  # (all + news) x (atom, rss, json)
    assert app.notify(site.config()) == (6, 0)
    assert receiver.urls() == sorted(
        f"https://example.org/feeds/{k}.{e}"
        for k in ("all", "news")
        for e in ("atom.xml", "rss.xml", "json")
    )
    form = receiver.posts[0][1]
    assert form["hub.mode"] == ["publish"]
    # the feed advertises the hub, in RSS too
    assert f'<atom:link href="{receiver.url}/hub" rel="hub"/>'.encode() in site.read(
        "feeds/all.rss.xml"
    )
    # a build that changes nothing sends nothing
    again = site.build()
    assert again.notifications == 0
    assert app.notify(site.config()) == (0, 0)
    assert len(receiver.posts) == 6


def test_changes_within_the_window_coalesce(site: Site, receiver: Receiver) -> None:
    _configure(site, f'hubs = ["{receiver.url}/hub"]')
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[News]")
    site.build()
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[News]")
    site.build()
    assert len(_outbox(site)) == 6  # still one pending row per hub and feed URL
    assert app.notify(site.config()) == (6, 0)


def test_weblogupdates_extended_ping(site: Site) -> None:
    pinged = Pinged()
    try:
        _configure(site, f'weblogupdates = ["{pinged.url}"]')
        site.article("a.md", "A", "2025-01-01T00:00:00Z")
        site.build()
        assert app.notify(site.config()) == (1, 0)
        assert pinged.calls == [
            (
                "extendedPing",
                (
                    "Test Site",
                    "https://example.org/",
                    "https://example.org/",
                    "https://example.org/feeds/all.atom.xml",
                ),
            )
        ]
    finally:
        pinged.close()


def test_weblogupdates_fault_falls_back_to_ping(site: Site) -> None:
    pinged = Pinged("fault")
    try:
        _configure(site, f'weblogupdates = ["{pinged.url}"]')
        site.article("a.md", "A", "2025-01-01T00:00:00Z")
        site.build()
        assert app.notify(site.config()) == (1, 0)
        assert pinged.calls == [("ping", ("Test Site", "https://example.org/"))]
    finally:
        pinged.close()


def test_weblogupdates_flerror_is_a_failure_with_its_message(site: Site) -> None:
    pinged = Pinged("flerror")
    try:
        _configure(site, f'weblogupdates = ["{pinged.url}"]')
        site.article("a.md", "A", "2025-01-01T00:00:00Z")
        site.build()
        assert app.notify(site.config()) == (0, 1)
        report = app.status(site.config())
        failed: Any = report["failed_notifications"]
        assert len(failed) == 1
        assert "pinging too often" in failed[0]["last_error"]
    finally:
        pinged.close()


def _notifier(site: Site, clock: list[datetime]) -> Notifier:
    return Notifier(site.config(), clock=lambda: clock[0])


def test_500_then_204_is_delivered_once_after_a_retry(site: Site, receiver: Receiver) -> None:
    _configure(
        site, f'hubs = ["{receiver.url}/flaky"]\ncoalesce_seconds = 0\nretry_base_seconds = 10'
    )
    receiver.script["/flaky"] = [500]
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    clock = [NOW]
    notifier = _notifier(site, clock)
    try:
        rows = _outbox(site)
        assert len(rows) == 3
        receiver.script["/flaky"] = [500, 204, 204]
        assert notifier.send_due() == (2, 1)  # the first attempt hit the 500
        assert notifier.send_due() == (0, 0)  # not due yet: backing off
        clock[0] = NOW + timedelta(seconds=11)
        assert notifier.send_due() == (1, 0)
        assert len(receiver.urls("/flaky")) == 3
        assert {r[2] for r in _outbox(site)} == {"done"}
        with State(site.config().state_target) as state:
            outcomes = [r[0] for r in state._db.execute("SELECT outcome FROM outbox_attempts")]
        assert sorted(outcomes) == ["ok", "ok", "ok", "retry"]
    finally:
        notifier.close()


def test_429_retry_after_is_honoured(site: Site, receiver: Receiver) -> None:
    _configure(site, f'hubs = ["{receiver.url}/busy"]\ncoalesce_seconds = 0')
    receiver.script["/busy"] = [429, 429, 429]
    receiver.headers["/busy"] = {"Retry-After": "120"}
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    clock = [NOW]
    notifier = _notifier(site, clock)
    try:
        assert notifier.send_due() == (0, 3)
        with State(site.config().state_target) as state:
            due = state.next_due()
        assert due == NOW + timedelta(seconds=120)
    finally:
        notifier.close()


def test_4xx_is_permanent(site: Site, receiver: Receiver) -> None:
    _configure(site, f'hubs = ["{receiver.url}/nope"]\ncoalesce_seconds = 0')
    receiver.script["/nope"] = [404, 404, 404]
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    assert app.notify(site.config()) == (0, 3)
    assert {r[2] for r in _outbox(site)} == {"failed"}


def test_a_hanging_target_does_not_delay_the_others(site: Site, receiver: Receiver) -> None:
    other = Receiver()
    try:
        _configure(
            site,
            f'hubs = ["{receiver.url}/slow", "{other.url}/hub"]\n'
            "coalesce_seconds = 0\ntimeout_seconds = 1",
        )
        receiver.hang.add("/slow")
        site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
        site.build()
        clock = [NOW]
        notifier = _notifier(site, clock)
        started = time.monotonic()
        done = threading.Event()

        def run() -> None:
            notifier.send_due()
            done.set()

        threading.Thread(target=run, daemon=True).start()
        deadline = time.monotonic() + 5
        while len(other.posts) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(other.posts) == 3
        assert time.monotonic() - started < 1.0  # delivered while the slow one still hangs
        assert done.wait(10)
        statuses = {(r[1].split("/")[-1], r[2]) for r in _outbox(site)}
        assert statuses == {("slow", "pending"), ("hub", "done")}  # the timeout is retried
        notifier.close()
    finally:
        other.close()


def test_min_interval_per_target(site: Site, receiver: Receiver) -> None:
    _configure(
        site, f'hubs = ["{receiver.url}/hub"]\ncoalesce_seconds = 0\nmin_interval_seconds = 60'
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    clock = [datetime.now().astimezone()]
    notifier = _notifier(site, clock)
    try:
        assert notifier.send_due() == (3, 0)
        site.article("b.md", "B", "2025-01-02T00:00:00Z", "[]")
        site.now = clock[0]
        site.build()
        assert notifier.send_due() == (0, 0)  # too soon after the last one
        clock[0] += timedelta(seconds=61)
        assert notifier.send_due() == (3, 0)
    finally:
        notifier.close()


def test_old_notifications_are_given_up(site: Site, receiver: Receiver) -> None:
    _configure(site, f'hubs = ["{receiver.url}/down"]\ncoalesce_seconds = 0\nmax_age_hours = 1')
    receiver.script["/down"] = [503] * 10
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    clock = [datetime.now().astimezone() + timedelta(hours=2)]
    notifier = _notifier(site, clock)
    try:
        notifier.send_due()
        assert {r[2] for r in _outbox(site)} == {"failed"}
        report = app.status(site.config())
        assert "gave up" in report["failed_notifications"][0]["last_error"]  # type: ignore[index]
    finally:
        notifier.close()


def test_dry_run_and_disabled(
    site: Site, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    _configure(site, f'hubs = ["{receiver.url}/hub"]\ncoalesce_seconds = 0')
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    with caplog.at_level(logging.INFO):
        assert app.notify(site.config(), dry_run=True) == (0, 0)
    assert "would notify websub" in caplog.text
    assert receiver.posts == []
    assert {r[2] for r in _outbox(site)} == {"pending"}
    site.config_text = site.config_text.replace("[notify]\n", "[notify]\nenabled = false\n")
    assert app.notify(site.config()) == (0, 0)
    assert receiver.posts == []
    # off is not lost: what is queued stays queued, and goes once notify is on again
    assert {r[2] for r in _outbox(site)} == {"pending"}
    site.config_text = site.config_text.replace("enabled = false\n", "")
    assert app.notify(site.config()) == (3, 0)
    assert len(receiver.urls("/hub")) == 3


def test_daemon_killed_with_pending_notifications_delivers_them_once(
    tmp_path: Path, receiver: Receiver, engine: str
) -> None:
    from tests.conftest import BASE_CONFIG

    (tmp_path / "articles").mkdir()
    # the hub is down at first: notifications stay pending (retry in 30 s)
    receiver.script["/hub"] = [503] * 3
    (tmp_path / "config.toml").write_text(
        BASE_CONFIG + engine + f'\n[notify]\nhubs = ["{receiver.url}/hub"]\ncoalesce_seconds = 0\n'
        "retry_base_seconds = 30\n"
    )
    article(tmp_path, "a.md", "A", "2025-01-01T00:00:00Z", "[]")
    first = Daemon(tmp_path).start()

    def attempts_recorded() -> bool:
        # (the hub has answered all three once its script is empty, but the daemon may not
        # have recorded the answers yet: killed then, its rows would stay claimed until
        # their lease ran out, 45 s)
        with State(config_mod.load(tmp_path / "config.toml").state_target) as state:
            rows = state._db.execute("SELECT status, attempts FROM outbox").fetchall()
        return sorted(tuple(r) for r in rows) == [("pending", 1)] * 3

    first.until(attempts_recorded, "the failed attempts recorded")
    assert first.health()["pending_notifications"] == 3
    assert first.proc is not None
    os.kill(first.proc.pid, signal.SIGKILL)
    first.stop(signal.SIGKILL)
    # back up: a restart sends what was pending, straight away, once
    second = Daemon(tmp_path)
    try:
        second.start()
        second.until(lambda: len(receiver.urls()) == 3, "the deliveries after restart")
        time.sleep(0.5)
        assert len(receiver.urls()) == 3
        assert second.health()["pending_notifications"] == 0
    finally:
        second.stop()


def test_a_change_while_a_notification_is_in_flight_gets_its_own(site: Site) -> None:
    from feedpub.model import OutboxItem

    with State(site.config().state_target) as state:
        item = OutboxItem(kind="websub", target="https://hub/", topic="https://s/f", not_before=NOW)
        with state.transaction():
            assert state.enqueue([item], NOW) == 1
        [row] = state.due(NOW, everything=True)
        lease = NOW + timedelta(seconds=30)
        with state.transaction():
            assert state.claim_due(NOW, NOW, lease, 10) == [replace(row, lease=lease)]
            assert state.claim_due(NOW, NOW, lease, 10) == []  # nobody else sends it too
            assert state.enqueue([item], NOW) == 1  # the newer change is not absorbed
            state.record_attempt(row.id, at=NOW, outcome="ok", status=204, error=None, ms=1)
        [newer] = state.due(NOW, everything=True)
        assert newer.id != row.id
