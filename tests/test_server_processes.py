"""Serving processes beside the daemon's (``[server] processes``): one count of clients'
connections for all of them, and a real ``feedpub run`` whose other process serves what the
daemon's would (its own process stopped with SIGSTOP, so that only the other one accepts)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from feedpub.server.processes import SharedCounts
from feedpub.server.protocol import ClientCounts
from tests.conftest import BASE_CONFIG
from tests.daemon_helpers import REPO, Daemon, article
from tests.server_helpers import Client, get


def test_shared_counts_count_as_a_plain_count() -> None:
    """Random takes and gives over a small table (collisions, wrapping, removals in the
    middle of a run of entries): the same answers as the one-process count."""
    rng = random.Random(13)
    shared, plain = SharedCounts(64), ClientCounts()
    keys = [f"192.0.2.{i}" for i in range(40)]
    held: list[str] = []
    for _ in range(5000):
        if held and rng.random() < 0.5:
            key = held.pop(rng.randrange(len(held)))
            shared.give(key)
            plain.give(key)
        else:
            key = rng.choice(keys[: rng.randint(1, 32)])
            taken = shared.take(key, 3)
            assert taken == plain.take(key, 3)
            if taken:
                held.append(key)
    for key in held:
        shared.give(key)
    assert bytes(shared._map) == bytes(64 * 24)  # every entry gone


def test_shared_counts_are_one_count_for_every_process() -> None:
    counts = SharedCounts(128)
    code = (
        "import sys; from feedpub.server.processes import SharedCounts\n"
        "c = SharedCounts(128, int(sys.argv[1]))\n"
        "print(c.take('2001:db8::/64', 3), c.take('2001:db8::/64', 3))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(counts.fd)],
        pass_fds=(counts.fd,),
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert out.split() == ["True", "True"]
    assert counts.take("2001:db8::/64", 3)
    assert not counts.take("2001:db8::/64", 3)
    counts.give("2001:db8::/64")
    assert counts.take("2001:db8::/64", 3)


CONFIG = """
[server]
processes = 2
max_connections_per_client = 4
trusted_proxies = ["127.0.0.1"]  # (the test's own requests; 127.0.0.2 is held to 4)
[hub]
enabled = true
[admin]
enabled = true
port = 0
"""


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    (tmp_path / "config.toml").write_text(BASE_CONFIG + CONFIG, encoding="utf-8")
    article(tmp_path, "one.md", "One", "2025-01-01T00:00:00Z")
    d = Daemon(tmp_path)
    yield d
    if d.proc is not None and d.proc.poll() is None:
        os.kill(d.proc.pid, signal.SIGCONT)
        d.stop(signal.SIGKILL)


@contextlib.contextmanager
def _paused(pid: int) -> Iterator[None]:
    """While in it, process ``pid`` is stopped: only the other serving process accepts."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_the_other_process_serves_as_the_daemons_does(daemon: Daemon) -> None:
    daemon.start()
    assert daemon.proc is not None
    main = daemon.proc.pid
    child = int(daemon.wait_for(r"1 more serving processes \(pids (\d+)\)", 10))
    admin = daemon.wait_for(r"admin listener \(/metrics, /status\) at (http://[^/]+)/", 10)
    ours = daemon.get("/feeds/all.atom.xml")
    with _paused(main):  # the other process answers, from its own copy of the files
        theirs = daemon.get("/feeds/all.atom.xml")
        for key in ("content-type", "etag", "last-modified", "link", "cache-control"):
            assert theirs.headers[key] == ours.headers[key]
        assert theirs.content == ours.content
        assert daemon.get("/feeds/all.atom.xml", headers={"If-None-Match": ours.headers["etag"]})
        assert daemon.get("/nothing").status_code == 404

    # a build is over once every process serves its files
    builds = int(str(daemon.health()["builds"]))
    article(daemon.root, "two.md", "Two", "2025-02-01T00:00:00Z")
    daemon.until(lambda: int(str(daemon.health()["builds"])) > builds, "the build")
    with _paused(main):
        assert daemon.titles() == ["Two", "One"]

    # /healthz and the hub: relayed to the daemon's process (answered once it goes on)
    answers: dict[str, requests.Response] = {}

    def ask(name: str, method: str, path: str, **kw: object) -> None:
        answers[name] = requests.request(method, daemon.base + path, timeout=20, **kw)  # type: ignore[arg-type]

    with _paused(main):
        threads = [
            threading.Thread(target=ask, args=("health", "GET", "/healthz")),
            threading.Thread(
                target=ask,
                args=("hub", "POST", "/hub"),
                kwargs={"data": {"hub.mode": "subscribe"}},
            ),
        ]
        for t in threads:
            t.start()
        threads[0].join(0.5)
        assert not answers  # (the other process waits for the daemon's)
    for t in threads:
        t.join(20)
    assert answers["health"].status_code == 200
    assert answers["health"].json()["builds"] == daemon.health()["builds"]
    assert answers["hub"].status_code == 400
    assert answers["hub"].text == "hub.topic is required\n"

    # requests either process answered are counted at /metrics
    def counted() -> float:
        text = requests.get(admin + "/metrics", timeout=5).text
        m = re.search(r'feedpub_http_requests_total\{status="200"\} (\S+)', text)
        return float(m.group(1)) if m else 0.0

    before = counted()
    with _paused(main):
        for _ in range(5):
            assert daemon.get("/feeds/all.json").status_code == 200
    daemon.until(lambda: counted() >= before + 5, "the other process's counts")

    # one bound per client over both processes: 2 connections in each, then a fifth: 503
    clients: list[Client] = []
    for paused in (main, child):
        with _paused(paused):
            for _ in range(2):
                c = Client(int(daemon.base.rsplit(":", 1)[1]), "127.0.0.2")
                c.send(get())
                assert c.response()[0] == 200
                clients.append(c)
    fifth = Client(int(daemon.base.rsplit(":", 1)[1]), "127.0.0.2")
    assert fifth.response()[0] == 503
    fifth.close()
    clients.pop().close()
    daemon.until(lambda: _answered_from("127.0.0.2", daemon.base), "room for one more")
    for c in clients:
        c.close()

    assert daemon.stop() == 0
    assert not Path(f"/proc/{child}").exists() or _zombie(child)
    assert "Traceback" not in daemon.logs()


def _answered_from(source: str, base: str) -> bool:
    c = Client(int(base.rsplit(":", 1)[1]), source)
    try:
        c.send(get())
        return c.response()[0] == 200
    finally:
        c.close()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
