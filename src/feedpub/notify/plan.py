"""Pure decisions: what a change needs, when to try again, what an HTTP answer means."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from feedpub.config import NotifyConfig
from feedpub.model import OutboxItem

WEBSUB = "websub"
WEBLOGUPDATES = "weblogupdates"
DELIVERY = "delivery"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What one attempt came to."""

    ok: bool
    retryable: bool = False
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header
    gone: bool = False  # 410 from a subscriber: end the subscription
    ms: int = 0


def notifications_for(
    changed_feed_urls: Iterable[str],
    *,
    config: NotifyConfig,
    main_feed_url: str,
    subscribers: Mapping[str, list[int]],
    hub_url: str | None,
    now: datetime,
) -> list[OutboxItem]:
    """The notifications a set of changed feeds calls for, due after the coalescing window.

    Every changed feed URL to every configured hub; one weblogUpdates ping per endpoint (about
    the site, however many feeds changed); the feed body to every active subscriber of the
    built-in hub. Pings to our own hub are not needed: it learns of changes directly.
    """
    due = now + timedelta(seconds=config.coalesce_seconds)
    urls = list(dict.fromkeys(changed_feed_urls))
    items: list[OutboxItem] = []
    for hub in config.hubs:
        if hub == hub_url:
            continue
        items += [OutboxItem(kind=WEBSUB, target=hub, topic=url, not_before=due) for url in urls]
    if urls:
        items += [
            OutboxItem(kind=WEBLOGUPDATES, target=endpoint, topic=main_feed_url, not_before=due)
            for endpoint in config.weblogupdates
        ]
    for url in urls:
        for sid in subscribers.get(url, ()):
            items.append(
                OutboxItem(
                    kind=DELIVERY,
                    target=f"subscription:{sid}",
                    topic=url,
                    not_before=now,
                    subscription_id=sid,
                )
            )
    return items


def retry_delay(
    attempts: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempts + 1``: exponential with jitter, or what the
    server asked for in ``Retry-After`` (never less than ``base``, never more than ``cap``)."""
    step = backoff_step(attempts, base=base, cap=cap, retry_after=retry_after)
    if retry_after is not None:
        return step
    r = rng.random() if rng is not None else random.random()
    return step * (0.5 + r / 2)  # "equal jitter": spreads retries, keeps the backoff


def backoff_step(
    attempts: int, *, base: float, cap: float, retry_after: float | None = None
) -> float:
    """The backoff step after ``attempts`` failed attempts, before jitter: ``base`` doubled
    per attempt up to ``cap``, or what ``Retry-After`` asked for (within the same bounds)."""
    if retry_after is not None:
        return min(cap, max(base, retry_after))
    return min(cap, base * 2.0 ** max(0, attempts - 1))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (when - now).total_seconds())


def classify(status: int) -> tuple[bool, bool]:
    """An HTTP status → (ok, retryable). 2xx ok; 408, 429 and 5xx are worth retrying; any other
    4xx (or odd status) is a permanent failure."""
    if 200 <= status < 300:
        return True, False
    if status in (408, 429) or status >= 500:
        return False, True
    return False, False
