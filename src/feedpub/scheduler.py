"""APScheduler 3 wiring, and nothing else: when to ask for a build.

Two jobs:

``go-live``    a date job at the next time the feeds change by themselves (an article goes
               live or expires);
``reconcile``  an interval job that rescans the whole folder (a missed file event, an edit made
               while the daemon was down).

The jobs live in APScheduler's in-memory job store, rebuilt from the state store when the
daemon starts to lead: the time of the next change is kept there (``next_go_live``, written
by every build with the change it comes from), so scheduled work survives a restart without a
second copy of it in a table feedpub's migrations do not manage. (The first build after a start
scans everything and publishes what came due while the daemon was down, too.) In memory, the
jobs call the daemon directly: no pickling, no module global.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)

BuildRequest = Callable[[str], None]

GO_LIVE = "go-live"
RECONCILE = "reconcile"


class Scheduler:
    def __init__(self, request: BuildRequest, *, reconcile_seconds: int) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self._request = request
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self.reconcile_seconds = reconcile_seconds

    def _go_live(self) -> None:
        self._request("go-live")

    def _reconcile(self) -> None:
        self._request("reconcile")

    def start(self, next_change: datetime | None = None) -> None:
        """Start, with the go-live job at ``next_change`` (read from the state store)."""
        self._scheduler.start()
        self._scheduler.add_job(
            self._reconcile,
            "interval",
            seconds=self.reconcile_seconds,
            id=RECONCILE,
            replace_existing=True,
        )
        self.go_live_at(next_change)

    def go_live_at(self, when: datetime | None) -> None:
        """(Re)schedule the go-live job; ``None`` removes it."""
        if when is None:
            if self._scheduler.get_job(GO_LIVE) is not None:
                self._scheduler.remove_job(GO_LIVE)
            return
        self._scheduler.add_job(
            self._go_live, "date", run_date=when, id=GO_LIVE, replace_existing=True
        )
        log.info("next scheduled change (an article goes live or expires) at %s", when.isoformat())

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)
