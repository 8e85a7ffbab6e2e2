"""The outbox's sending loop: due notifications out, every attempt's outcome recorded.

A notification is in the outbox (written in the same transaction as the build that caused it)
before any attempt, and leaves ``pending`` only once it succeeded, failed for good or grew too
old. ``kill -9`` at any moment loses nothing: at start-up every pending one is due again.
Sends run on a bounded thread pool with a timeout each, so one slow or dead target never holds
up the others, and never the builder or the server. What each outcome does to the outbox
(recorded, retried after a backoff, given up) is :mod:`feedpub.notify.outcomes`.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote

import requests

from feedpub.config import Config
from feedpub.errors import OutputError
from feedpub.logs import fields
from feedpub.metrics import NO_METRICS, Metrics
from feedpub.model import OutboxRow, Subscription
from feedpub.notify.guard import callback_refusal, guarded_session
from feedpub.notify.outcomes import record_outcomes
from feedpub.notify.plan import DELIVERY, WEBLOGUPDATES, WEBSUB, Outcome
from feedpub.notify.send import deliver, user_agent, weblog_ping, websub_publish
from feedpub.notify.targets import TargetWatch, describe
from feedpub.output import read_file, stat_file
from feedpub.render import Links
from feedpub.render.paths import feed_file, feed_links
from feedpub.server import media_type
from feedpub.store import State

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """One claimed notification, ready to send."""

    row: OutboxRow
    sub: Subscription | None = None
    body: bytes | None = None  # a delivery's feed, when read from the state store


def _relpath(base_url: str, topic: str) -> str:
    """A feed URL of this site → its path in the output folder."""
    return unquote(topic[len(base_url) :])


class Notifier:
    """Sends what the outbox holds. ``send_due`` does one pass; ``run`` loops until stopped."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime],
        dry_run: bool = False,
        metrics: Metrics = NO_METRICS,
        targets: TargetWatch | None = None,
    ) -> None:
        """``targets``: what is known of failing targets (the daemon keeps one across the
        notifiers a config reload starts)."""
        self.config = config
        self.metrics = metrics
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
        # subscribers' callbacks are the subscribers' choice: every connection to one is
        # checked against the addresses the hub may call (hubs and pings are configured)
        self.subscribers = guarded_session(self.allowed, pool_size=self.notify.concurrency)
        self._pool = ThreadPoolExecutor(self.notify.concurrency, thread_name_prefix="feedpub-send")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._bodies: dict[str, tuple[object, bytes]] = {}  # relpath → (file key or sha, body)
        self.sent = 0
        self.failed = 0
        self.targets = targets or TargetWatch()  # which targets fail, for the log

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.session.close()
        self.subscribers.close()

    # -- one attempt ------------------------------------------------------------------------

    def _attempt(
        self, row: OutboxRow, sub: Subscription | None, body: bytes | None = None
    ) -> Outcome:
        """One send. A delivery's ``body`` is the feed as published (read from the state
        store on PostgreSQL); without it, the feed is read from the output folder."""
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
            relpath = _relpath(cfg.site.base_url, row.topic)
            try:
                body = body if body is not None else self._feed_body(relpath)
            except (OSError, OutputError) as e:
                return Outcome(ok=False, retryable=True, error=f"cannot read the feed: {e}")
            found = feed_file(relpath)  # (a topic is a feed: its own self link and hubs)
            if found is None:
                return Outcome(ok=False, retryable=False, error=f"{row.topic} is no feed")
            self_link, hub_links = feed_links(
                self.links.feed_url(found.key, found.fmt), self.links.hubs, subscription=True
            )
            links = [*hub_links, self_link]
            return deliver(
                self.subscribers,
                sub.callback,
                body=body,
                content_type=media_type(relpath),
                links=links,
                secret=sub.secret,
                timeout=timeout,
                ua=self.ua,
            )
        return Outcome(ok=False, retryable=False, error=f"unknown kind {row.kind!r}")

    def _feed_body(self, relpath: str) -> bytes:
        """The feed as published now. A fan-out sends one feed to many subscribers: it is
        read once, and again only when the file changes (size or mtime)."""
        root = self.config.paths.output
        st = stat_file(root, relpath)  # (a symlink is never followed: see feedpub.output)
        cached = self._bodies.get(relpath)
        if (
            st is not None
            and cached is not None
            and cached[0]
            == (
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
            )
        ):
            return cached[1]
        found = read_file(root, relpath)
        if found is None:
            raise FileNotFoundError(errno.ENOENT, "not a published file", relpath)
        body, st = found
        self._bodies[relpath] = ((st.st_ino, st.st_size, st.st_mtime_ns), body)
        return body

    # -- passes -----------------------------------------------------------------------------

    @property
    def lease(self) -> timedelta:
        """How long a claimed row is this sender's: a claim batch is at most twice the send
        slots, so a row waits for at most one send ahead of it, and a weblogUpdates ping may
        take two requests; each request is bounded by the timeout. Past it, another sender
        may take the row (this one is presumed dead)."""
        return timedelta(seconds=4 * self.notify.timeout_seconds + 5)

    def send_due(self, *, everything: bool = False) -> tuple[int, int]:
        """One pass: send what is due now (``everything``: all that is pending, backoff or
        not). Returns (sent, failed).

        Rows are claimed in small batches as send slots free up (never more than twice the
        concurrency at once), so that any number of senders share one outbox, each takes only
        what it can send within its lease, and a slow target never holds rows hostage."""
        if self.dry_run or not self.notify.enabled:  # (off: queued and kept, never sent)
            return self._dry_run(everything)
        now = self.clock()
        started = time.monotonic()
        inflight: dict[Future[Outcome | None], OutboxRow] = {}
        with State(self.config.state_target) as state:
            if everything:
                with state.transaction():
                    state.make_due(now)
            try:
                sent, failed = self._drain(state, now, everything, inflight)
            except BaseException:
                # the state store failed mid-pass (or a signal): what has not started goes
                # back to the queue if the store lets us; sends in flight finish unrecorded,
                # and their rows come back when their leases run out (at worst sent twice)
                with contextlib.suppress(Exception):
                    self._hand_back(state, inflight)
                raise
        if sent or failed:  # failures are told per target (notify/targets.py)
            log.log(
                logging.INFO if sent else logging.DEBUG,
                "sent %d notifications, %d failed, in %.1f s",
                sent,
                failed,
                time.monotonic() - started,
                extra=fields(count=sent, duration_ms=round((time.monotonic() - started) * 1000)),
            )
        self.sent += sent
        self.failed += failed
        return sent, failed

    def _drain(
        self,
        state: State,
        now: datetime,
        everything: bool,
        inflight: dict[Future[Outcome | None], OutboxRow],
    ) -> tuple[int, int]:
        """Claim, send and record until nothing due by ``now`` is left: (sent, failed).
        ``inflight`` holds the sends under way (the caller hands them back on failure)."""
        slots = self.notify.concurrency
        sent = failed = 0
        seen: set[int] = set()
        finished: list[tuple[OutboxRow, Outcome]] = []
        flush_at = 0.0
        more = True
        while True:
            if self._stop.is_set():  # stopping: claim no more, hand back the rest
                more = False
                self._hand_back(state, inflight)
            if more and len(inflight) <= slots:  # refill in batches of at least ``slots``
                batch, more = self._claim(state, now, 2 * slots - len(inflight), everything, seen)
                for job in batch:
                    inflight[self._pool.submit(self._attempt_leased, job)] = job.row
                if not inflight and more:
                    continue  # every row claimed was too soon for its target: claim again
            if not inflight:  # (stopping may have handed back what outcomes waited on)
                ok, bad = self._record_outcomes(state, finished) if finished else (0, 0)
                return sent + ok, failed + bad
            # outcomes are recorded in batches (one transaction for up to ``slots`` of them,
            # or every 50 ms): a large fan-out costs few round trips to the store
            timeout = 0.5 if not finished else max(0.0, flush_at - time.monotonic())
            done, _ = wait(inflight, timeout=timeout, return_when=FIRST_COMPLETED)
            for fut in done:
                row = inflight.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as e:  # a bug in one send must not stop the others
                    log.exception("sending %s failed", describe(row))
                    outcome = Outcome(ok=False, retryable=True, error=repr(e))
                if outcome is not None:  # None: its lease ran out before it could start
                    if not finished:
                        flush_at = time.monotonic() + 0.05
                    finished.append((row, outcome))
            if finished and (
                len(finished) >= slots or not inflight or time.monotonic() >= flush_at
            ):
                ok, bad = self._record_outcomes(state, finished)
                sent, failed, finished = sent + ok, failed + bad, []

    def _hand_back(self, state: State, inflight: dict[Future[Outcome | None], OutboxRow]) -> None:
        """Give the rows whose send has not started back to the queue, due as they were, for
        another sender (or this one's next start) to send at once rather than after the
        lease."""
        back = [fut for fut in inflight if fut.cancel()]
        if not back:
            return
        now = self.clock()
        with state.transaction():
            for fut in back:
                row = inflight.pop(fut)
                state.requeue(row.id, row.not_before, at=now, lease=row.lease)
        log.info("stopping: %d notifications handed back unsent", len(back))

    def _claim(
        self, state: State, due_by: datetime, limit: int, everything: bool, seen: set[int]
    ) -> tuple[list[_Job], bool]:
        """Claim up to ``limit`` due rows in one transaction; hand back the sends to start
        now (with their subscriber, and on PostgreSQL the feed body) and whether more may
        be due."""
        now = self.clock()
        until = now + self.lease
        with state.transaction():
            rows = state.claim_due(due_by, now, until, limit)
            more = len(rows) == limit
            ready: list[OutboxRow] = []
            for row in rows:
                if row.id in seen:  # retried within this pass and due again: next pass
                    state.requeue(row.id, row.not_before, at=now, lease=row.lease)
                    more = False
                    continue
                seen.add(row.id)
                earliest = None if everything else self._too_soon(state, row, now)
                if earliest is not None:
                    state.requeue(row.id, earliest, at=now, lease=row.lease)
                    continue
                ready.append(row)
        deliveries = [r for r in ready if r.kind == DELIVERY]
        subs = state.subscriptions_by_id(
            r.subscription_id for r in deliveries if r.subscription_id is not None
        )
        bodies = self._published_bodies(state, deliveries) if state.postgres else {}
        base = self.config.site.base_url
        return [
            _Job(
                row=row,
                sub=subs.get(row.subscription_id) if row.subscription_id is not None else None,
                body=bodies.get(_relpath(base, row.topic)) if row.kind == DELIVERY else None,
            )
            for row in ready
        ], more

    def _published_bodies(self, state: State, deliveries: list[OutboxRow]) -> dict[str, bytes]:
        """relpath → the feed's bytes as published, from the state store: a worker on
        another machine has no output folder (or a standby's, a moment behind). Each feed's
        bytes are fetched once per change: only their digests are read per batch."""
        base = self.config.site.base_url
        wanted = sorted({_relpath(base, r.topic) for r in deliveries})
        if not wanted:
            return {}
        digests = state.published_digests(wanted)
        stale = [p for p, d in digests.items() if (c := self._bodies.get(p)) is None or c[0] != d]
        for relpath, (digest, data) in state.published_content(stale).items():
            self._bodies[relpath] = (digest, data)
        return {
            p: c[1]
            for p, d in digests.items()
            if (c := self._bodies.get(p)) is not None and c[0] == d
        }

    def _dry_run(self, everything: bool) -> tuple[int, int]:
        """Log what is due; claim nothing, send nothing, change nothing."""
        now = self.clock()
        with State(self.config.state_target) as state:
            for row in state.due(now, limit=1_000_000, everything=everything):
                log.info("would notify %s", describe(row))
        return 0, 0

    def _attempt_leased(self, job: _Job) -> Outcome | None:
        """Send, unless so little of the row's lease is left that another sender could take
        it while this one is still sending (then leave it: None)."""
        margin = timedelta(seconds=2 * self.notify.timeout_seconds)
        if job.row.lease is not None and self.clock() + margin > job.row.lease:
            log.warning("lease on %s ran out before sending; leaving it", describe(job.row))
            return None
        return self._attempt(job.row, job.sub, job.body)

    def _too_soon(self, state: State, row: OutboxRow, now: datetime) -> datetime | None:
        """Keep a busy site from being banned: one notification per target per interval.
        Returns when this one may go, if not now."""
        if row.kind == DELIVERY or self.notify.min_interval_seconds <= 0:
            return None
        last = state.last_sent(row.kind, row.target, row.topic if row.kind == WEBSUB else None)
        if last is None:
            return None
        earliest = last + timedelta(seconds=self.notify.min_interval_seconds)
        return earliest if earliest > now else None

    def _record_outcomes(
        self, state: State, finished: list[tuple[OutboxRow, Outcome]]
    ) -> tuple[int, int]:
        counts = record_outcomes(
            state, finished, notify=self.notify, clock=self.clock, targets=self.targets
        )
        for row, outcome in finished:
            self.metrics.notification(row.kind, "sent" if outcome.ok else "error")
        return counts

    def run(self) -> None:
        """Send what is due, then sleep until the next due time or a wake-up; until stopped.

        The first pass sends everything pending, backoff or not: after a restart (or a crash)
        what was waiting goes out within seconds."""
        if not self.notify.enabled:
            # off (staging, or turned off for a while): what is queued stays queued, one row
            # per target and feed however many changes come, and goes when it is turned on
            with contextlib.suppress(Exception):
                self.send_due(everything=True)  # (logs what would go)
            log.info("notify.enabled = false: notifications are queued and kept, not sent")
            self._stop.wait()
            return
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
