"""The outbox's sending loop: due notifications out, every attempt's outcome recorded.

A notification is in the outbox (written in the same transaction as the build that caused it)
before any attempt, and leaves ``pending`` only once it succeeded, failed for good or grew too
old. ``kill -9`` at any moment loses nothing: at start-up every pending one is due again.
Sends run on a bounded thread pool with a timeout each, so one slow or dead target never holds
up the others, and never the builder or the server.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from urllib.parse import unquote

import requests

from feedpub.config import Config
from feedpub.notify.hub import callback_refusal
from feedpub.notify.plan import DELIVERY, WEBLOGUPDATES, WEBSUB, Outcome, retry_delay
from feedpub.notify.send import deliver, user_agent, weblog_ping, websub_publish
from feedpub.output import safe_join
from feedpub.render import Links
from feedpub.server import media_type
from feedpub.state import OutboxRow, State, Subscription

log = logging.getLogger(__name__)


class Notifier:
    """Sends what the outbox holds. ``send_due`` does one pass; ``run`` loops until stopped."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime],
        dry_run: bool = False,
    ) -> None:
        self.config = config
        self.clock = clock
        self.dry_run = dry_run
        self.notify = config.notify
        self.links = Links(site=config.site, hubs=config.advertised_hubs)
        self.ua = user_agent(config.site.base_url)
        self.allowed = [
            ipaddress.ip_network(n, strict=False) for n in config.hub.allowed_callback_networks
        ]
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=self.notify.concurrency, pool_maxsize=self.notify.concurrency
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._pool = ThreadPoolExecutor(self.notify.concurrency, thread_name_prefix="feedpub-send")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.session.close()

    # -- one attempt ------------------------------------------------------------------------

    def _attempt(self, row: OutboxRow, sub: Subscription | None) -> Outcome:
        cfg = self.config
        timeout = self.notify.timeout_seconds
        if row.kind == WEBSUB:
            return websub_publish(self.session, row.target, row.topic, timeout=timeout, ua=self.ua)
        if row.kind == WEBLOGUPDATES:
            return weblog_ping(
                self.session,
                row.target,
                site_name=cfg.site.title,
                site_url=cfg.site.base_url,
                changed_url=cfg.site.base_url,
                feed_url=row.topic,
                timeout=timeout,
                ua=self.ua,
            )
        if row.kind == DELIVERY:
            if sub is None:
                return Outcome(ok=False, retryable=False, error="subscription gone")
            if sub.expires_at <= self.clock():
                return Outcome(ok=False, retryable=False, error="the subscription's lease expired")
            refusal = callback_refusal(sub.callback, self.allowed)  # DNS may have changed
            if refusal is not None:
                return Outcome(ok=False, retryable=False, error=refusal)
            relpath = unquote(row.topic[len(cfg.site.base_url) :])
            try:
                body = safe_join(cfg.paths.output, relpath).read_bytes()
            except OSError as e:
                return Outcome(ok=False, retryable=True, error=f"cannot read the feed: {e}")
            key, _, ext = relpath.removeprefix("feeds/").partition(".")
            fmt = {"atom.xml": "atom", "rss.xml": "rss", "json": "json"}.get(ext, "atom")
            self_url = self.links.feed_url(key, fmt)  # type: ignore[arg-type]
            links = [f'<{hub}>; rel="hub"' for hub in self.links.hubs] + [
                f'<{self_url}>; rel="self"'
            ]
            return deliver(
                self.session,
                sub.callback,
                body=body,
                content_type=media_type(relpath),
                links=links,
                secret=sub.secret,
                timeout=timeout,
                ua=self.ua,
            )
        return Outcome(ok=False, retryable=False, error=f"unknown kind {row.kind!r}")

    def _describe(self, row: OutboxRow) -> str:
        return f"{row.kind} {row.target} ({row.topic})"

    # -- passes -----------------------------------------------------------------------------

    def send_due(self, *, everything: bool = False) -> tuple[int, int]:
        """Send what is due now (``everything``: all that is pending). Returns (sent, failed)."""
        state_path = self.config.state_target
        now = self.clock()
        with State(state_path) as state:
            rows = state.due(now, everything=everything)
            ready: list[OutboxRow] = []
            with state.transaction():
                for row in rows:
                    if not everything and self._too_soon(state, row, now):
                        continue
                    ready.append(row)
                if not self.dry_run and ready:
                    lease = now + timedelta(seconds=self.notify.timeout_seconds * 3 + 5)
                    claimed = set(state.claim([r.id for r in ready], now, lease))
                    ready = [r for r in ready if r.id in claimed]
            # the subscribers of hub deliveries, looked up here once (not per send)
            subs = {
                r.id: state.subscription(r.subscription_id)
                for r in ready
                if r.kind == DELIVERY and r.subscription_id is not None
            }
        if not ready:
            return 0, 0
        if self.dry_run or not self.notify.enabled:
            for row in ready:
                log.info("would notify %s", self._describe(row))
            if not self.dry_run:  # notify.enabled = false: staged, logged, not sent
                with State(state_path) as state, state.transaction():
                    for row in ready:
                        state.record_attempt(
                            row.id,
                            at=now,
                            outcome="ok",
                            status=None,
                            error="not sent: notify.enabled = false",
                            ms=0,
                        )
            return 0, 0
        sent = failed = 0
        futures: dict[Future[Outcome], OutboxRow] = {
            self._pool.submit(self._attempt, row, subs.get(row.id)): row for row in ready
        }
        with State(state_path) as state:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                with state.transaction():
                    for fut in done:
                        row = futures[fut]
                        try:
                            outcome = fut.result()
                        except Exception as e:  # a bug in one send must not stop the others
                            log.exception("sending %s failed", self._describe(row))
                            outcome = Outcome(ok=False, retryable=True, error=repr(e))
                        if self._record(state, row, outcome):
                            sent += 1
                        elif outcome.ok is False:
                            failed += 1
        self.sent += sent
        self.failed += failed
        return sent, failed

    def _too_soon(self, state: State, row: OutboxRow, now: datetime) -> bool:
        """Keep a busy site from being banned: one notification per target per interval."""
        if row.kind == DELIVERY or self.notify.min_interval_seconds <= 0:
            return False
        last = state.last_sent(row.kind, row.target, row.topic if row.kind == WEBSUB else None)
        if last is None:
            return False
        earliest = last + timedelta(seconds=self.notify.min_interval_seconds)
        if earliest > now:
            state.postpone(row.id, earliest)
            return True
        return False

    def _record(self, state: State, row: OutboxRow, outcome: Outcome) -> bool:
        now = self.clock()
        what = self._describe(row)
        if outcome.ok:
            state.record_attempt(
                row.id, at=now, outcome="ok", status=outcome.status, error=None, ms=outcome.ms
            )
            log.info("notified %s in %d ms", what, outcome.ms)
            return True
        if outcome.gone and row.subscription_id is not None:
            state.drop_subscription(row.subscription_id)
            log.info("subscriber answered 410 Gone; subscription ended: %s", what)
        too_old = now - row.created_at > timedelta(hours=self.notify.max_age_hours)
        if outcome.retryable and not too_old and not outcome.gone:
            delay = retry_delay(
                row.attempts + 1,
                base=self.notify.retry_base_seconds,
                cap=self.notify.retry_max_seconds,
                retry_after=outcome.retry_after,
            )
            state.record_attempt(
                row.id,
                at=now,
                outcome="retry",
                status=outcome.status,
                error=outcome.error,
                ms=outcome.ms,
                retry_at=now + timedelta(seconds=delay),
            )
            log.warning("notifying %s failed (%s); retrying in %.0f s", what, outcome.error, delay)
            return False
        reason = outcome.error or "failed"
        if too_old:
            reason = f"gave up after {row.attempts + 1} attempts: {reason}"
        state.record_attempt(
            row.id, at=now, outcome="failed", status=outcome.status, error=reason, ms=outcome.ms
        )
        log.error("notifying %s failed for good: %s", what, reason)
        return False

    def run(self) -> None:
        """Send what is due, then sleep until the next due time or a wake-up; until stopped.

        The first pass sends everything pending, backoff or not: after a restart (or a crash)
        what was waiting goes out within seconds."""
        first = True
        while not self._stop.is_set():
            try:
                self.send_due(everything=first)
                first = False
                with State(self.config.state_target) as state:
                    next_due = state.next_due()
            except Exception:  # the loop must survive anything (a locked or broken state...)
                log.exception("the notification loop failed; retrying in 5 s")
                next_due = self.clock() + timedelta(seconds=5)
            timeout = 60.0
            if next_due is not None:
                timeout = max(0.05, min(60.0, (next_due - self.clock()).total_seconds()))
            self._wake.wait(timeout)
            self._wake.clear()
