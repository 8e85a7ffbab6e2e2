"""What the log says about a failing notification target (notify/targets.py): one line when
it starts failing, one per backoff step at most, one when it works again; facts as fields."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from feedpub import logs
from feedpub.notify.notifier import Notifier
from feedpub.notify.plan import Outcome
from tests.conftest import NOW, Site
from tests.test_notify import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lines(caplog: pytest.LogCaptureFixture, logger: str = "feedpub.notify.notifier") -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == logger and r.levelno >= logging.INFO
    ]


def test_a_dead_hub_is_one_line_per_backoff_step_not_one_per_attempt(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    hub = f"http://127.0.0.1:{_closed_port()}/"
    site.config_text += (
        f'\n[notify]\nhubs = ["{hub}"]\ncoalesce_seconds = 0\nmin_interval_seconds = 0\n'
        "retry_base_seconds = 10\nretry_max_seconds = 40\n"
    )
    for n in range(4):
        site.article(f"a{n}.md", f"A{n}", "2025-01-01T00:00:00Z", f"[C{n}]")
    assert site.build().notifications == 15  # (all + 4 categories) x 3 formats
    clock = [NOW]
    notifier = Notifier(site.config(), clock=lambda: clock[0])
    caplog.set_level(logging.INFO)
    try:
        attempts = 0
        for _ in range(8):  # 8 rounds of 15 failures: 120 failed attempts
            attempts += notifier.send_due(everything=True)[1]
            clock[0] += timedelta(seconds=100)
    finally:
        notifier.close()
    assert attempts == 120
    lines = [m for m in _lines(caplog) if hub in m]
    # started failing; then the steps 20 s and 40 s (the cap): 3 lines for 120 failures
    assert len(lines) == 3, lines
    assert "are failing" in lines[0]
    assert "still failing after 16 attempts" in lines[1]
    assert all("ConnectionError" in m for m in lines)
    assert not [m for m in _lines(caplog) if m.startswith("sent 0 notifications")]


def test_a_target_that_works_again_says_so_once(
    site: Site, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    site.config_text += (
        f'\n[notify]\nhubs = ["{receiver.url}/flaky"]\ncoalesce_seconds = 0\n'
        "min_interval_seconds = 0\nretry_base_seconds = 10\n"
    )
    receiver.script["/flaky"] = [503, 503, 503]
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    clock = [NOW]
    notifier = Notifier(site.config(), clock=lambda: clock[0])
    caplog.set_level(logging.INFO)
    try:
        assert notifier.send_due() == (0, 3)
        clock[0] += timedelta(seconds=30)
        assert notifier.send_due() == (3, 0)
        clock[0] += timedelta(seconds=30)
    finally:
        notifier.close()
    lines = _lines(caplog)
    failing = [m for m in lines if "are failing" in m]
    again = [m for m in lines if "work again" in m]
    assert len(failing) == 1 and "503" in failing[0]
    assert again == [
        f"notifications to {receiver.url}/flaky work again, after 3 failed attempts over 30 s"
    ]


def test_json_log_lines_carry_the_facts_as_fields(site: Site) -> None:
    from feedpub.model import OutboxRow
    from feedpub.notify.targets import TargetWatch

    out = io.StringIO()
    handler = logs.setup("info", "json", stream=out)
    try:
        row = OutboxRow(
            id=1,
            kind="websub",
            target="http://127.0.0.1:9/",
            topic="https://example.org/feeds/all.atom.xml",
            subscription_id=None,
            created_at=NOW,
            not_before=NOW,
            attempts=2,
        )
        watch = TargetWatch()
        failure = Outcome(ok=False, retryable=True, error="HTTP 503", status=503, ms=12)
        watch.failed(row, failure, step=20.0, delay=14.2, now=NOW)
        watch.succeeded(row, Outcome(ok=True, status=204, ms=7), now=NOW + timedelta(seconds=90))
    finally:
        logging.getLogger().removeHandler(handler)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    first = records[0]
    assert first["level"] == "warning"
    assert first["event"] == "notify_failing"
    assert first["target"] == "http://127.0.0.1:9/"
    assert first["kind"] == "websub"
    assert first["attempt"] == 3
    assert first["retry_in_s"] == 14
    assert first["error"] == "HTTP 503"
    assert records[1]["duration_ms"] == 7
    assert records[2]["event"] == "notify_recovered"
    assert records[2]["failing_for_s"] == 90
    assert isinstance(datetime.fromisoformat(first["time"].replace("Z", "+00:00")), datetime)


def test_a_misspelt_log_field_is_refused() -> None:
    with pytest.raises(ValueError, match="targte"):
        logs.fields(targte="x")
