"""`feedpub worker`: several senders on one outbox, each notification delivered exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from feedpub.state import State
from tests.conftest import Site
from tests.daemon_helpers import REPO
from tests.test_notify import Receiver
from tests.test_state import postgres_url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_site(request: pytest.FixtureRequest, site: Site) -> Iterator[Site]:
    if request.param == "sqlite":
        yield site
        return
    import psycopg

    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    site.config_text += f'\n[state]\nurl = "{url}{sep}options=-csearch_path%3D{schema}"\n'
    try:
        yield site
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_two_workers_deliver_every_notification_exactly_once(
    shared_site: Site, receiver: Receiver
) -> None:
    site = shared_site
    site.config_text += (
        f'\n[notify]\nhubs = ["{receiver.url}/hub"]\ncoalesce_seconds = 0\n'
        "min_interval_seconds = 0\nconcurrency = 4\n"
    )
    for i in range(12):
        site.article(f"a{i}.md", f"A{i}", f"2025-01-{i + 1:02}T00:00:00Z", f"[Cat {i}]")
    result = site.build()
    assert result.notifications == 13 * 3  # all + 12 categories, 3 formats each
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cfg = str(site.config_path)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "feedpub", "worker", "--config", cfg],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
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
