"""``/metrics``: the Prometheus exposition, from a registry of this daemon's own (never the
global one: tests and several daemons in one process do not collide).

Two kinds of values:

* what happens in this process, counted where it happens through the hooks of
  :class:`feedpub.metrics.Metrics` (requests, bytes, builds, notification attempts);
* what the state store holds (the last build's articles and problems, the outbox, the hub's
  subscriptions), read when scraped by :class:`StateCollector`, in a few queries whose cost
  is bounded: the last builds (at most :data:`~feedpub.store.builds.BUILD_HISTORY`), the
  waiting notifications (from an index of them), the subscriptions (at most
  ``hub.max_subscriptions``). A store that does not answer gives ``feedpub_state_up 0``.

No label holds a URL: nothing secret (a callback's token), and no series per subscriber.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from feedpub.metrics import Metrics
from feedpub.notify.plan import DELIVERY, WEBLOGUPDATES, WEBSUB
from feedpub.store import State

log = logging.getLogger(__name__)

BUILD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
KINDS = (WEBSUB, WEBLOGUPDATES, DELIVERY)


class StateCollector(Collector):
    """What the state store holds, read at each scrape."""

    def __init__(self, open_state: Callable[[], State], clock: Callable[[], datetime]) -> None:
        self._open_state = open_state
        self._clock = clock

    def describe(self) -> list[Metric]:
        return []  # (registering it must not open the state store)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "feedpub_state_up", "Whether the state store answered this scrape (1) or not (0)"
        )
        try:
            found = list(self._read())
        except Exception as e:  # a driver error, a StateError: the store is not there
            log.debug("the state store did not answer the scrape: %s", e)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _read(self) -> Iterator[Metric]:
        now = self._clock()
        with self._open_state() as state:
            builds = state.recent_builds()
            waiting = state.waiting()
            active, expired, topics = state.subscription_tally(now)
        last_ok = next((b for b in builds if b.outcome == "ok"), None)
        if last_ok is not None:
            articles = GaugeMetricFamily(
                "feedpub_articles",
                "Articles as of the last successful build, by state",
                labels=["state"],
            )
            for name, value in (
                ("published", last_ok.published),
                ("scheduled", last_ok.scheduled),
                ("drafts", last_ok.drafts),
            ):
                articles.add_metric([name], value or 0)
            yield articles
            yield GaugeMetricFamily(
                "feedpub_feeds", "Feeds planned by the last successful build", last_ok.feeds or 0
            )
            problems = GaugeMetricFamily(
                "feedpub_problems",
                "Article problems found by the last successful build, by severity",
                labels=["severity"],
            )
            problems.add_metric(["error"], last_ok.errors or 0)
            problems.add_metric(["warning"], last_ok.warnings or 0)
            yield problems
            yield GaugeMetricFamily(
                "feedpub_last_successful_build_timestamp_seconds",
                "When the last successful build started (Unix time)",
                last_ok.started_at.timestamp(),
            )
        depth = GaugeMetricFamily(
            "feedpub_outbox_waiting",
            "Notifications waiting to be sent (pending or being sent), by kind",
            labels=["kind"],
        )
        age = GaugeMetricFamily(
            "feedpub_outbox_oldest_waiting_age_seconds",
            "How long the oldest waiting notification of each kind has waited (0: none)",
            labels=["kind"],
        )
        for kind in KINDS:
            count, oldest = waiting.get(kind, (0, now))
            depth.add_metric([kind], count)
            age.add_metric([kind], max(0.0, (now - oldest).total_seconds()))
        yield depth
        yield age
        subs = GaugeMetricFamily(
            "feedpub_hub_subscriptions",
            "The built-in hub's subscriptions, by state",
            labels=["state"],
        )
        subs.add_metric(["active"], active)
        subs.add_metric(["expired"], expired)
        yield subs
        yield GaugeMetricFamily(
            "feedpub_hub_topics", "Feeds with at least one active hub subscription", topics
        )


class PrometheusMetrics(Metrics):
    """The hooks, counted into this daemon's own registry, and the state store's values."""

    def __init__(self, *, open_state: Callable[[], State], clock: Callable[[], datetime]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self._builds = Counter(
            "feedpub_builds", "Builds run by this daemon, by outcome", ["outcome"], registry=r
        )
        self._build_seconds = Histogram(
            "feedpub_build_duration_seconds",
            "How long builds took (failed ones too)",
            buckets=BUILD_BUCKETS,
            registry=r,
        )
        self._requests = Counter(
            "feedpub_http_requests",
            "Requests the server answered, by status",
            ["status"],
            registry=r,
        )
        self._bytes = Counter(
            "feedpub_http_response_bytes",
            "Bytes of response bodies the server sent",
            registry=r,
        )
        self._notifications = Counter(
            "feedpub_notifications",
            "Attempts to send a notification (hub pings, weblogUpdates pings, hub deliveries)"
            " by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        for outcome in ("ok", "failed"):
            self._builds.labels(outcome)
        for kind in KINDS:
            for outcome in ("sent", "error"):
                self._notifications.labels(kind, outcome)
        r.register(StateCollector(open_state, clock))

    # -- the hooks (any thread) --------------------------------------------------------------

    def request(self, status: int, nbytes: int) -> None:
        self._requests.labels(str(status)).inc()
        if nbytes:
            self._bytes.inc(nbytes)

    def requests(self, answered: Mapping[int, int], nbytes: int) -> None:
        for status, count in answered.items():
            self._requests.labels(str(status)).inc(count)
        if nbytes:
            self._bytes.inc(nbytes)

    def build(self, outcome: str, seconds: float) -> None:
        self._builds.labels(outcome).inc()
        self._build_seconds.observe(seconds)

    def notification(self, kind: str, outcome: str) -> None:
        self._notifications.labels(kind, outcome).inc()

    # -- the exposition ----------------------------------------------------------------------

    def exposition(self) -> tuple[int, bytes, bytes]:
        """(status, content type, body) of ``/metrics``. Blocking (it reads the state
        store)."""
        return 200, CONTENT_TYPE_LATEST.encode(), generate_latest(self.registry)
