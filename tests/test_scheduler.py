"""feedpub.scheduler, in process: a real APScheduler asks for builds through the callback it
is given, at the next scheduled change and every reconcile interval."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from feedpub.scheduler import Scheduler
from tests.waiting import until


@pytest.fixture
def make() -> Iterator[Callable[..., tuple[Scheduler, list[str]]]]:
    """``make(reconcile_seconds)``: a scheduler, and the build requests it made so far."""
    made: list[Scheduler] = []

    def make(reconcile_seconds: int = 3600) -> tuple[Scheduler, list[str]]:
        requests: list[str] = []
        scheduler = Scheduler(requests.append, reconcile_seconds=reconcile_seconds)
        made.append(scheduler)
        return scheduler, requests

    yield make
    for scheduler in made:
        scheduler.shutdown()


def soon(seconds: float = 0.2) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def stays(requests: list[str], expected: list[str], seconds: float = 0.5) -> None:
    """Nothing more is asked for during ``seconds``."""
    time.sleep(seconds)
    assert requests == expected


def test_go_live_asks_for_a_build_at_its_time(
    make: Callable[..., tuple[Scheduler, list[str]]],
) -> None:
    scheduler, requests = make()
    scheduler.start()
    assert requests == []
    scheduler.go_live_at(soon())
    until(lambda: requests == ["go-live"], "the go-live request")
    stays(requests, ["go-live"])  # a date job runs once


def test_start_schedules_the_next_change_it_is_given(
    make: Callable[..., tuple[Scheduler, list[str]]],
) -> None:
    scheduler, requests = make()
    scheduler.start(soon())
    until(lambda: requests == ["go-live"], "the go-live request")


def test_a_change_that_came_due_while_down_is_asked_for_at_once(
    make: Callable[..., tuple[Scheduler, list[str]]],
) -> None:
    scheduler, requests = make()
    scheduler.start(datetime.now(UTC) - timedelta(hours=1))  # (read from the state at start)
    until(lambda: requests == ["go-live"], "the go-live request", timeout=5)


def test_rescheduling_keeps_one_go_live_job(
    make: Callable[..., tuple[Scheduler, list[str]]],
) -> None:
    scheduler, requests = make()
    scheduler.start(soon(30))
    scheduler.go_live_at(soon(0.3))  # a build found an earlier change
    until(lambda: requests == ["go-live"], "the go-live request")
    stays(requests, ["go-live"])


def test_no_next_change_removes_the_go_live_job(
    make: Callable[..., tuple[Scheduler, list[str]]],
) -> None:
    scheduler, requests = make()
    scheduler.start()
    scheduler.go_live_at(None)  # nothing scheduled: nothing to remove
    scheduler.go_live_at(soon(0.3))
    scheduler.go_live_at(None)  # the article went back to draft
    stays(requests, [], 0.8)


def test_reconcile_asks_for_a_scan_every_interval(
    make: Callable[..., tuple[Scheduler, list[str]]],
) -> None:
    scheduler, requests = make(reconcile_seconds=1)
    scheduler.start()
    until(lambda: requests.count("reconcile") >= 2, "two reconcile requests", timeout=10)
    assert set(requests) == {"reconcile"}


def test_shutdown_stops_asking() -> None:
    requests: list[str] = []
    scheduler = Scheduler(requests.append, reconcile_seconds=1)
    scheduler.start(soon(0.3))
    scheduler.shutdown()  # (once: APScheduler refuses to shut down a stopped scheduler)
    scheduler.go_live_at(soon(0.1))  # a build finishing during the shutdown: no error
    scheduler.go_live_at(None)
    stays(requests, [], 1.5)
