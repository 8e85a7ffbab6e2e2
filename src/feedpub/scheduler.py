"""APScheduler 3 wiring, and nothing else: when to ask for a build.

Two jobs, both in a persistent job store (SQLAlchemy; the SQLite state file by default), so
they survive a restart:

``go-live``    a date job at the time the next future-dated article appears;
``reconcile``  an interval job that rescans the whole folder (a missed file event, an edit made
               while the daemon was down).

APScheduler 3 pickles jobs into a persistent store, so the job functions are module-level and
take only picklable arguments; they reach the running daemon through :func:`attach`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

BuildRequest = Callable[[str], None]
_request: BuildRequest | None = None

GO_LIVE = "go-live"
RECONCILE = "reconcile"


def attach(request: BuildRequest | None) -> None:
    """Route the jobs of this process to ``request`` (None: drop them)."""
    global _request  # noqa: PLW0603  (the documented way to reach a live object from a job)
    _request = request


def go_live_job() -> None:
    """Job: a scheduled article's time has come."""
    if _request is not None:
        _request("go-live")


def reconcile_job() -> None:
    """Job: rescan the articles folder."""
    if _request is not None:
        _request("reconcile")


class Scheduler:
    def __init__(self, url: str, *, reconcile_seconds: int) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler: Any = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=url, tablename="feedpub_jobs")},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self.reconcile_seconds = reconcile_seconds

    def start(self) -> None:
        self._scheduler.start()
        self._scheduler.add_job(
            reconcile_job,
            "interval",
            seconds=self.reconcile_seconds,
            id=RECONCILE,
            replace_existing=True,
        )

    def go_live_at(self, when: datetime | None) -> None:
        """(Re)schedule the go-live job; ``None`` removes it."""
        if when is None:
            if self._scheduler.get_job(GO_LIVE) is not None:
                self._scheduler.remove_job(GO_LIVE)
            return
        self._scheduler.add_job(
            go_live_job, "date", run_date=when, id=GO_LIVE, replace_existing=True
        )
        log.info("next scheduled change (an article goes live or expires) at %s", when.isoformat())

    def next_go_live(self) -> datetime | None:
        job = self._scheduler.get_job(GO_LIVE)
        return None if job is None else job.next_run_time

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)
