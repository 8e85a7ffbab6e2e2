"""The outbox's sending loop: due notifications out, every attempt's outcome recorded.

A notification is in the outbox (written in the same transaction as the build that caused it)
before any attempt, and leaves ``pending`` only once it succeeded, failed for good or grew too
old. ``kill -9`` at any moment loses nothing: at start-up every pending one is due again.
Publishers' pings (WebSub hubs, weblogUpdates) are sent on a bounded thread pool with
``requests``; the built-in hub's deliveries by :class:`~feedpub.notify.fanout.FanOut`, on an
event loop of their own over reused connections. Each send has a timeout, so one slow or dead
target never holds up the others, and never the builder or the server. Rows are claimed, and
outcomes recorded, in batches that grow with the pace of sending (a large fan-out costs few
round trips to the store). What each outcome does to the outbox (recorded, retried after a
backoff, given up) is :mod:`feedpub.notify.outcomes`.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from types import MappingProxyType
from urllib.parse import unquote

import requests

from feedpub.config import Config
from feedpub.errors import OutputError
from feedpub.logs import fields
from feedpub.metrics import NO_METRICS, Metrics
from feedpub.model import OutboxRow, Subscription
from feedpub.notify.fanout import Delivery, FanOut
from feedpub.notify.outcomes import record_outcomes
from feedpub.notify.plan import DELIVERY, WEBLOGUPDATES, WEBSUB, Outcome
from feedpub.notify.send import signature, user_agent, weblog_ping, websub_publish
from feedpub.notify.targets import TargetWatch, describe
from feedpub.output import read_file, stat_file
from feedpub.render import Links
from feedpub.render.paths import feed_file, feed_links
from feedpub.server import media_type
from feedpub.store import State

log = logging.getLogger(__name__)

MAX_CLAIM = 512  # rows one sender holds claimed at most (sending or waiting to)
RECORD_BATCH = 256  # outcomes recorded in one transaction at most ...
RECORD_EVERY = 0.05  # ... or after this many seconds, whichever comes first
PACE_WINDOW = 5.0  # seconds of outcomes the pace of sending is measured over


def _relpath(base_url: str, topic: str) -> str:
    """A feed URL of this site → its path in the output folder."""
    return unquote(topic[len(base_url) :])


class _Finished:
    """The sends of one pass that ended, put from any thread (the ping threads, the fan-out's
    loop) and taken by the pass, which is woken only once as many have ended as it asked for
    (a fan-out's outcomes come by the thousand a second: one by one, they would keep the
    pass's thread and the fan-out's loop taking turns at the interpreter)."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._items: list[tuple[OutboxRow, Outcome | None]] = []
        self._enough = 1

    def put(self, ended: Sequence[tuple[OutboxRow, Outcome | None]]) -> None:
        with self._ready:
            self._items += ended
            if len(self._items) >= self._enough:
                self._ready.notify()

    def take(self, timeout: float, enough: int = 1) -> list[tuple[OutboxRow, Outcome | None]]:
        """What ended, waiting up to ``timeout`` seconds for ``enough`` to have ended."""
        with self._ready:
            if len(self._items) < enough and timeout > 0:
                self._enough = enough
                self._ready.wait(timeout)
                self._enough = 1
            items, self._items = self._items, []
        return items


class _Pass:
    """What one pass holds: the rows it claimed and has not finished (by id), its ping
    sends (cancellable until they start), the sends that ended, the pace of its outcomes."""

    def __init__(self, started: float) -> None:
        self.started = started  # (monotonic)
        self.finished = _Finished()
        self.inflight: dict[int, OutboxRow] = {}
        self.pings: dict[int, Future[Outcome | None]] = {}
        self.paced: deque[tuple[float, int]] = deque()  # (when, outcomes recorded)

    def pace(self, now: float) -> float:
        """Outcomes recorded per second over the last :data:`PACE_WINDOW` seconds (or since
        the pass started, if later)."""
        while self.paced and self.paced[0][0] < now - PACE_WINDOW:
            self.paced.popleft()
        since = max(self.started, now - PACE_WINDOW)
        return sum(n for _, n in self.paced) / max(now - since, RECORD_EVERY)


def _report(finished: _Finished, row: OutboxRow, ping: Future[Outcome | None]) -> None:
    """Report what a ping's future came to: its outcome; None if it did not start."""
    outcome: Outcome | None = None
    if not ping.cancelled():
        try:
            outcome = ping.result()
        except Exception as e:  # a bug in one send must not stop the others
            log.error("sending %s failed", describe(row), exc_info=e)
            outcome = Outcome(ok=False, retryable=True, error=repr(e))
    finished.put([(row, outcome)])


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
        self._pool = ThreadPoolExecutor(self.notify.concurrency, thread_name_prefix="feedpub-send")
        # subscribers' callbacks are the subscribers' choice: every connection to one is
        # checked against the addresses the hub may call (hubs and pings are configured)
        self.fanout = FanOut(
            allowed=self.allowed,
            concurrency=self.notify.concurrency,
            timeout=self.notify.timeout_seconds,
            may_start=self._may_start,
        )
        # how much of its lease a row must have left for its send to start
        self._margin = timedelta(seconds=2 * self.notify.timeout_seconds)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._bodies: dict[str, tuple[object, bytes]] = {}  # relpath → (file key or sha, body)
        self._feeds: dict[str, Mapping[str, str] | None] = {}  # relpath → its headers
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
        self.fanout.close()
        self.session.close()

    # -- one attempt ------------------------------------------------------------------------

    def _ping(self, row: OutboxRow) -> Outcome:
        """One publisher's notification (a WebSub publish ping, a weblogUpdates ping)."""
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
        return Outcome(ok=False, retryable=False, error=f"unknown kind {row.kind!r}")

    def _delivery(
        self, row: OutboxRow, sub: Subscription | None, body: bytes | None = None
    ) -> Delivery | Outcome:
        """A hub delivery ready to send, or why it will not be sent (an outcome). Its
        ``body`` is the feed as published (read from the state store on PostgreSQL);
        without it, the feed is read from the output folder."""
        if sub is None:
            return Outcome(ok=False, retryable=False, error="subscription gone")
        if sub.expires_at <= self.clock():
            return Outcome(ok=False, retryable=False, error="the subscription's lease expired")
        relpath = _relpath(self.config.site.base_url, row.topic)
        feed = self._feed(relpath)
        if feed is None:
            return Outcome(ok=False, retryable=False, error=f"{row.topic} is no feed")
        try:
            body = body if body is not None else self._feed_body(relpath)
        except (OSError, OutputError) as e:
            return Outcome(ok=False, retryable=True, error=f"cannot read the feed: {e}")
        if sub.secret:
            feed = {**feed, "X-Hub-Signature": signature(sub.secret, body)}
        return Delivery(row=row, callback=sub.callback, body=body, headers=feed)

    def _feed(self, relpath: str) -> Mapping[str, str] | None:
        """The headers of every delivery of a feed: its media type, its ``Link`` header (its
        hubs and itself: a topic is a subscription document), the User-Agent; None if
        ``relpath`` is no feed. (One mapping, shared by all of them, never changed.)"""
        if relpath not in self._feeds:
            found = feed_file(relpath)
            if found is None:
                self._feeds[relpath] = None
            else:
                self_link, hub_links = feed_links(
                    self.links.feed_url(found.key, found.fmt), self.links.hubs, subscription=True
                )
                self._feeds[relpath] = MappingProxyType(
                    {
                        "Content-Type": media_type(relpath),
                        "Link": ", ".join([*hub_links, self_link]),
                        "User-Agent": self.ua,
                    }
                )
        return self._feeds[relpath]

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
        """How long a claimed row is this sender's: time for a send to start behind one
        ahead of it and to finish (a weblogUpdates ping may take two requests; each request
        is bounded by the timeout). Claims are sized for their rows to start well within it
        (:meth:`_claim_size`), and a row that could not start in time is handed back. Past
        it, another sender may take the row (this one is presumed dead)."""
        return timedelta(seconds=4 * self.notify.timeout_seconds + 5)

    def send_due(self, *, everything: bool = False) -> tuple[int, int]:
        """One pass: send what is due now (``everything``: all that is pending, backoff or
        not). Returns (sent, failed).

        Rows are claimed in batches as sends end (twice the concurrency at first, more as
        the pace of sending shows how many this sender gets through within a lease), so
        that any number of senders share one outbox, each takes only what it can send
        within its lease, and a slow target never holds rows hostage."""
        if self.dry_run or not self.notify.enabled:  # (off: queued and kept, never sent)
            return self._dry_run(everything)
        now = self.clock()
        started = time.monotonic()
        held = _Pass(started)
        with State(self.config.state_target) as state:
            if everything:
                with state.transaction():
                    state.make_due(now)
            try:
                sent, failed = self._drain(state, now, everything, held)
            except BaseException:
                # the state store failed mid-pass (or a signal): what has not started goes
                # back to the queue if the store lets us; sends in flight finish unrecorded,
                # and their rows come back when their leases run out (at worst sent twice)
                with contextlib.suppress(Exception):
                    self._hand_back(state, held, self._unstarted(held), "stopping")
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

    def _drain(self, state: State, now: datetime, everything: bool, held: _Pass) -> tuple[int, int]:
        """Claim, send and record until nothing due by ``now`` is left: (sent, failed).
        ``held`` holds the rows claimed and not finished (the caller hands them back on
        failure)."""
        sent = failed = 0
        seen: set[int] = set()
        finished: list[tuple[OutboxRow, Outcome]] = []
        flush_at = 0.0
        more = True
        while True:
            if self._stop.is_set():  # stopping: claim no more, hand back the rest
                more = False
                self._hand_back(state, held, self._unstarted(held), "stopping")
            want = self._claim_size(held)
            if more and len(held.inflight) <= want // 2:  # refill in batches of half or more
                rows, more = self._claim(state, now, want - len(held.inflight), everything, seen)
                settled = self._start(state, held, rows)
                if settled and not finished:
                    flush_at = time.monotonic() + RECORD_EVERY
                finished += settled
            if not held.inflight:  # (stopping may have handed back what outcomes waited on)
                if finished:
                    ok, bad = self._record(state, held, finished)
                    sent, failed, finished = sent + ok, failed + bad, []
                if more:
                    continue  # (every row claimed was settled, or too soon for its target)
                return sent, failed
            # outcomes are recorded in batches (one transaction for up to RECORD_BATCH of
            # them, or every RECORD_EVERY seconds): a large fan-out costs few round trips
            timeout = RECORD_EVERY if not finished else max(0.0, flush_at - time.monotonic())
            # woken when enough sends ended to refill the claim or fill a record batch
            enough = min(len(held.inflight) - want // 2, RECORD_BATCH - len(finished))
            late: list[OutboxRow] = []
            for row, outcome in held.finished.take(timeout, max(1, enough)):
                if held.inflight.pop(row.id, None) is None:
                    continue  # (handed back already)
                held.pings.pop(row.id, None)
                if outcome is None:  # its lease ran out before it could start
                    late.append(row)
                    continue
                if not finished:
                    flush_at = time.monotonic() + RECORD_EVERY
                finished.append((row, outcome))
            self._hand_back(state, held, late, "leases running out")
            if finished and (
                len(finished) >= RECORD_BATCH or not held.inflight or time.monotonic() >= flush_at
            ):
                ok, bad = self._record(state, held, finished)
                sent, failed, finished = sent + ok, failed + bad, []

    def _claim_size(self, held: _Pass) -> int:
        """How many rows to hold claimed: as many as this sender sends, at its pace of the
        last :data:`PACE_WINDOW` seconds, in a quarter of the time a lease leaves a row to
        start in; at least twice the concurrency, at most :data:`MAX_CLAIM`."""
        start_within = (self.lease - self._margin).total_seconds()
        by_pace = int(held.pace(time.monotonic()) * start_within / 4)
        return max(2 * self.notify.concurrency, min(MAX_CLAIM, by_pace))

    def _start(
        self, state: State, held: _Pass, rows: list[OutboxRow]
    ) -> list[tuple[OutboxRow, Outcome]]:
        """Start sending claimed rows: pings on the thread pool, deliveries on the fan-out.
        Returns the outcomes of the deliveries settled without a send (a subscription gone
        or expired, a topic that is no feed, a feed that cannot be read)."""
        deliveries = [r for r in rows if r.kind == DELIVERY]
        subs = state.subscriptions_by_id(
            r.subscription_id for r in deliveries if r.subscription_id is not None
        )
        bodies = self._published_bodies(state, deliveries) if state.postgres else {}
        base = self.config.site.base_url
        settled: list[tuple[OutboxRow, Outcome]] = []
        ready: list[Delivery] = []
        for row in rows:
            if row.kind != DELIVERY:
                held.inflight[row.id] = row
                ping = held.pings[row.id] = self._pool.submit(self._send_ping, row)
                ping.add_done_callback(partial(_report, held.finished, row))
                continue
            sub = subs.get(row.subscription_id) if row.subscription_id is not None else None
            job = self._delivery(row, sub, bodies.get(_relpath(base, row.topic)))
            if isinstance(job, Outcome):
                settled.append((row, job))
            else:
                held.inflight[row.id] = row
                ready.append(job)
        if ready:
            self.fanout.send(ready, held.finished.put)
        return settled

    def _unstarted(self, held: _Pass) -> list[OutboxRow]:
        """The rows claimed and queued whose send has not started: no longer queued."""
        pings = [held.inflight[i] for i, f in list(held.pings.items()) if f.cancel()]
        return pings + self.fanout.take_back()

    def _hand_back(self, state: State, held: _Pass, rows: list[OutboxRow], why: str) -> None:
        """Give rows whose send has not started back to the queue, due as they were, for
        another sender (or this one's next pass) to send at once rather than after the
        lease."""
        if not rows:
            return
        now = self.clock()
        with state.transaction():
            for row in rows:
                held.inflight.pop(row.id, None)
                held.pings.pop(row.id, None)
                state.requeue(row.id, row.not_before, at=now, lease=row.lease)
        log.log(
            logging.INFO if why == "stopping" else logging.WARNING,
            "%s: %d notifications handed back unsent",
            why,
            len(rows),
            extra=fields(count=len(rows)),
        )

    def _claim(
        self, state: State, due_by: datetime, limit: int, everything: bool, seen: set[int]
    ) -> tuple[list[OutboxRow], bool]:
        """Claim up to ``limit`` due rows in one transaction; hand back the rows to send
        now and whether more may be due."""
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
        return ready, more

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

    def _may_start(self, row: OutboxRow) -> bool:
        """Whether a claimed row's send may start now: not when so little of its lease is
        left that another sender could take it while this one is still sending."""
        return row.lease is None or self.clock() + self._margin <= row.lease

    def _send_ping(self, row: OutboxRow) -> Outcome | None:
        """Send, unless the row's lease is running out (then None: it is handed back)."""
        return self._ping(row) if self._may_start(row) else None

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

    def _record(
        self, state: State, held: _Pass, finished: list[tuple[OutboxRow, Outcome]]
    ) -> tuple[int, int]:
        counts = record_outcomes(
            state, finished, notify=self.notify, clock=self.clock, targets=self.targets
        )
        for row, outcome in finished:
            self.metrics.notification(row.kind, "sent" if outcome.ok else "error")
        held.paced.append((time.monotonic(), len(finished)))
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
