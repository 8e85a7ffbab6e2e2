"""What the daemon's parts count as they work, for ``/metrics``: the hooks, and a no-op
:class:`Metrics` that does nothing.

The server, the build loop and the notifier call these hooks where a thing happens (one
call, no library); the composition root hands them either this no-op or the Prometheus one
(:class:`feedpub.admin.metrics.PrometheusMetrics`, when ``[admin] enabled``). Only that one
imports ``prometheus_client``.
"""

from __future__ import annotations

from collections.abc import Mapping


class Metrics:
    """The hooks. This base counts nothing (the admin listener is off)."""

    def request(self, status: int, nbytes: int) -> None:
        """The main server answered a request with ``status``, its body ``nbytes`` long."""

    def requests(self, answered: Mapping[int, int], nbytes: int) -> None:
        """Another serving process answered ``answered[status]`` requests with each status,
        their bodies ``nbytes`` long in all (:mod:`feedpub.server.processes`)."""

    def build(self, outcome: str, seconds: float) -> None:
        """A build ended: ``ok``, or ``failed`` (it raised), after ``seconds``."""

    def notification(self, kind: str, outcome: str) -> None:
        """One attempt to send a notification of ``kind`` (websub, weblogupdates,
        delivery): ``sent``, or ``error`` (retried later or given up)."""


NO_METRICS = Metrics()
