"""`feedpub worker`: several senders on one outbox, each notification delivered exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from feedpub import config as config_mod
from feedpub.notify.notifier import Notifier
from feedpub.store import State
from tests.conftest import NOW, Site
from tests.daemon_helpers import REPO
from tests.test_notify import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def start_worker(site: Site, *, log: bool = True) -> subprocess.Popen[str]:
    """A real ``feedpub worker`` process on the site's config; its log in ``stderr``."""
    return subprocess.Popen(
        [sys.executable, "-m", "feedpub", "worker", "--config", str(site.config_path)],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if log else subprocess.DEVNULL,
        text=True,
    )


def _assert_all_sent(site: Site, *, done: int) -> None:
    """Within 10 s nothing is left pending in the outbox, and ``done`` rows were sent."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with State(site.config().state_target) as state:
            if state.pending_count() == 0:
                break
        time.sleep(0.1)
    with State(site.config().state_target) as state:
        assert state.pending_count() == 0
        assert state.outbox_report()["done"] == done


def test_two_workers_deliver_every_notification_exactly_once(
    engine_site: Site, receiver: Receiver
) -> None:
    site = engine_site
    site.config_text += (
        f'\n[notify]\nhubs = ["{receiver.url}/hub"]\ncoalesce_seconds = 0\n'
        "min_interval_seconds = 0\nconcurrency = 4\n"
    )
    for i in range(12):
        site.article(f"a{i}.md", f"A{i}", f"2025-01-{i + 1:02}T00:00:00Z", f"[Cat {i}]")
    result = site.build()
    assert result.notifications == 13 * 3  # all + 12 categories, 3 formats each
    workers = [start_worker(site) for _ in range(2)]
    try:
        deadline = time.monotonic() + 30
        while len(receiver.posts) < 39 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # anything sent twice would arrive by now
        counts = Counter(receiver.urls())
        assert len(counts) == 39
        assert set(counts.values()) == {1}
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        codes = [w.wait(15) for w in workers]
        for w in workers:
            assert w.stderr is not None
            w.stderr.close()
    assert codes == [0, 0]
    with State(site.config().state_target) as state:
        assert state.pending_count() == 0
        assert state.outbox_report()["done"] == 39


def test_a_worker_killed_mid_send_loses_nothing(engine_site: Site, receiver: Receiver) -> None:
    site = engine_site
    site.config_text += (
        f'\n[notify]\nhubs = ["{receiver.url}/slow"]\ncoalesce_seconds = 0\n'
        "min_interval_seconds = 0\ntimeout_seconds = 1\nconcurrency = 4\n"
    )
    receiver.hang.add("/slow")  # every send hangs past the timeout: the worker is mid-send
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    assert site.build().notifications == 3

    def worker() -> subprocess.Popen[str]:
        return start_worker(site, log=False)

    first = worker()
    try:
        deadline = time.monotonic() + 20
        while receiver.arrived.count("/slow") < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert receiver.arrived.count("/slow") == 3
        first.kill()  # kill -9 while its three sends are in flight (they hang at the hub)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    with State(site.config().state_target) as state:  # claimed by the dead worker, not lost
        rows = state._db.execute("SELECT status, attempts FROM outbox").fetchall()
    assert sorted(tuple(r) for r in rows) == [("sending", 0)] * 3
    receiver.hang.clear()  # the hub answers again
    time.sleep(3.5)  # the dead worker's requests finish hanging at the receiver...
    with receiver.lock:
        receiver.posts.clear()  # ...and count for nothing: only what the second one sends counts
    second = worker()
    try:
        deadline = time.monotonic() + 30  # the dead worker's lease (4 x timeout + 5 s) runs out
        while len(receiver.urls("/slow")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(set(receiver.urls("/slow"))) == sorted(
            f"https://example.org/feeds/all.{e}" for e in ("atom.xml", "rss.xml", "json")
        )
        _assert_all_sent(site, done=3)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0


def test_a_stopped_worker_hands_back_what_it_has_not_started(
    engine_site: Site, receiver: Receiver
) -> None:
    site = engine_site
    site.config_text += (
        f'\n[notify]\nhubs = ["{receiver.url}/slow"]\ncoalesce_seconds = 0\n'
        "min_interval_seconds = 0\ntimeout_seconds = 2\nconcurrency = 1\n"
    )
    receiver.hang.add("/slow")
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.now = datetime.now(UTC)  # queued now: not yet too old to retry for the worker's clock
    assert site.build().notifications == 3
    worker = start_worker(site)
    try:
        deadline = time.monotonic() + 20
        while "/slow" not in receiver.arrived and time.monotonic() < deadline:
            time.sleep(0.01)
        assert receiver.arrived == ["/slow"]  # one send in flight, one more claimed, queued
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        assert worker.stderr is not None
        log = worker.stderr.read()
        worker.stderr.close()
    assert "1 notifications handed back unsent" in log, log
    with State(site.config().state_target) as state:
        rows = state._db.execute("SELECT status, attempts FROM outbox ORDER BY id").fetchall()
    # the one in flight timed out (a retry); the queued one went back untouched: nothing is
    # left claimed by a worker that is gone, so nothing waits for a lease to run out
    assert sorted(tuple(r) for r in rows) == [("pending", 0), ("pending", 0), ("pending", 1)]


def test_a_worker_on_another_machine_delivers_the_feed_from_postgresql(
    site: Site, pg_url: str, receiver: Receiver
) -> None:
    """A worker with no output folder of its own (another machine) sends hub deliveries with
    the feed's bytes as published, read from the state store."""
    site.config_text += (
        f'\n[state]\nurl = "{pg_url}"\n[hub]\nenabled = true\n'
        'allowed_callback_networks = ["127.0.0.0/8"]\n'
        "[notify]\ncoalesce_seconds = 0\nmin_interval_seconds = 0\n"
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    topic = "https://example.org/feeds/all.atom.xml"
    with State(pg_url) as state, state.transaction():
        state.subscribe(topic, receiver.url + "/cb", None, 3600, NOW)
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[]")
    assert site.build().notifications == 1
    elsewhere = site.root / "worker-host"
    elsewhere.mkdir()
    (elsewhere / "config.toml").write_text(site.config_text)  # its own (empty) paths
    notifier = Notifier(config_mod.load(elsewhere / "config.toml"), clock=lambda: NOW)
    try:
        assert notifier.send_due() == (1, 0)
    finally:
        notifier.close()
    assert not (elsewhere / "public").exists()
    assert receiver.bodies == [site.read("feeds/all.atom.xml")]


def test_a_worker_killed_mid_delivery_loses_nothing(engine_site: Site, receiver: Receiver) -> None:
    """The hub's deliveries (sent by the fan-out's event loop) are claimed as pings are: a
    worker killed while they hang at their subscribers leaves them claimed, and another
    sends each once its lease runs out."""
    site = engine_site
    site.config_text += (
        '\n[hub]\nenabled = true\nallowed_callback_networks = ["127.0.0.0/8"]\n'
        "[notify]\ncoalesce_seconds = 0\nmin_interval_seconds = 0\ntimeout_seconds = 1\n"
        "concurrency = 4\n"
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    paths = [f"/slow{i}" for i in range(3)]
    receiver.hang.update(paths)
    site.now = datetime.now(UTC)  # (the worker's clock: subscriptions valid, rows not too old)
    with State(site.config().state_target) as state, state.transaction():
        for path in paths:
            state.subscribe(
                "https://example.org/feeds/all.atom.xml", receiver.url + path, None, 3600, site.now
            )
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[]")
    assert site.build().notifications == 3
    first = start_worker(site, log=False)
    try:
        deadline = time.monotonic() + 20
        while len(set(receiver.arrived)) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(set(receiver.arrived)) == paths
        first.kill()  # kill -9 while its deliveries are in flight
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    with State(site.config().state_target) as state:
        rows = state._db.execute("SELECT status, attempts FROM outbox").fetchall()
    assert sorted(tuple(r) for r in rows) == [("sending", 0)] * 3
    receiver.hang.clear()
    time.sleep(3.5)  # the dead worker's requests finish hanging at the receiver...
    with receiver.lock:
        receiver.bodies.clear()  # ...and count for nothing
        receiver.posts.clear()
    second = start_worker(site, log=False)
    try:
        deadline = time.monotonic() + 30  # the dead worker's lease (4 x timeout + 5 s)
        while len(receiver.bodies) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # anything sent twice would arrive by now
        with receiver.lock:
            assert sorted(p for p, _ in receiver.posts) == paths
            assert receiver.bodies == [site.read("feeds/all.atom.xml")] * 3
        _assert_all_sent(site, done=3)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0
