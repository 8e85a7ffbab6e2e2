"""Pure notification decisions: what a change needs, backoff, Retry-After, status classes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.config import NotifyConfig
from feedpub.notify.plan import (
    DELIVERY,
    WEBLOGUPDATES,
    WEBSUB,
    classify,
    notifications_for,
    parse_retry_after,
    retry_delay,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_every_changed_feed_to_every_hub_one_ping_per_endpoint() -> None:
    cfg = NotifyConfig(
        hubs=("https://hub.a/", "https://hub.b/"), weblogupdates=("https://p/",), coalesce_seconds=5
    )
    items = notifications_for(
        ["https://s/feeds/all.atom.xml", "https://s/feeds/all.rss.xml"],
        config=cfg,
        main_feed_url="https://s/feeds/all.atom.xml",
        subscribers={"https://s/feeds/all.rss.xml": [7]},
        hub_url=None,
        now=NOW,
    )
    websub = {(i.target, i.topic) for i in items if i.kind == WEBSUB}
    assert len(websub) == 4
    pings = [i for i in items if i.kind == WEBLOGUPDATES]
    assert [(p.target, p.topic) for p in pings] == [("https://p/", "https://s/feeds/all.atom.xml")]
    [delivery] = [i for i in items if i.kind == DELIVERY]
    assert delivery.subscription_id == 7
    assert delivery.not_before == NOW
    assert all(i.not_before == NOW + timedelta(seconds=5) for i in items if i.kind != DELIVERY)


def test_nothing_changed_nothing_sent_and_own_hub_not_pinged() -> None:
    cfg = NotifyConfig(hubs=("https://s/hub",), weblogupdates=("https://p/",))
    assert (
        notifications_for([], config=cfg, main_feed_url="x", subscribers={}, hub_url=None, now=NOW)
        == []
    )
    items = notifications_for(
        ["https://s/feeds/a.json"],
        config=cfg,
        main_feed_url="x",
        subscribers={},
        hub_url="https://s/hub",
        now=NOW,
    )
    assert [i.kind for i in items] == [WEBLOGUPDATES]


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0, max_value=1))
def test_backoff_grows_with_jitter_and_is_capped(attempts: int, r: float) -> None:
    class Fixed(random.Random):
        def random(self) -> float:
            return r

    delay = retry_delay(attempts, base=2, cap=600, rng=Fixed())
    exp = min(600, 2 * 2 ** (attempts - 1))
    assert exp / 2 <= delay <= exp


def test_retry_after_is_honoured_within_bounds() -> None:
    assert retry_delay(1, base=5, cap=600, retry_after=120) == 120
    assert retry_delay(1, base=5, cap=600, retry_after=0) == 5
    assert retry_delay(1, base=5, cap=600, retry_after=10**6) == 600
    assert parse_retry_after("30", NOW) == 30
    assert parse_retry_after("Wed, 01 Jan 2025 00:01:00 GMT", NOW) == 60
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize(
    ("status", "ok", "retry"),
    [
        (200, True, False),
        (202, True, False),
        (204, True, False),
        (301, False, False),
        (400, False, False),
        (404, False, False),
        (408, False, True),
        (410, False, False),
        (429, False, True),
        (500, False, True),
        (503, False, True),
    ],
)
def test_status_classes(status: int, ok: bool, retry: bool) -> None:
    assert classify(status) == (ok, retry)
