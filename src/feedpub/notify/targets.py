"""What the log says about a notification target that fails.

A hub that is down fails every notification sent to it, each retried with backoff: logged
per attempt, one dead hub filled the log (164 lines in 32 s). Here a target gets one line
when it starts failing, at most one more per backoff step while it goes on failing (the
step doubles up to ``notify.retry_max_seconds``, so a few lines a day at most), and one
when it works again. A notification given up for good is still logged, each one: it is
lost, and the operator needs to know which.

Failing hubs and ping endpoints are warnings (the publisher's announcement does not go
out); a subscriber's callback that fails is the subscriber's problem, logged at INFO.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedpub.logs import fields
from feedpub.model import OutboxRow
from feedpub.notify.plan import DELIVERY, Outcome
from feedpub.redaction import shown_url

# the sending loop's logger: these lines are logged under the name they always had
log = logging.getLogger("feedpub.notify.notifier")


@dataclass(slots=True)
class _Failing:
    since: datetime
    attempts: int  # failed attempts at this target since it started failing
    step: float  # the largest backoff step logged so far, in seconds


def describe(row: OutboxRow) -> str:
    """A notification, for the log: its kind, target and topic."""
    return f"{row.kind} {shown_url(row.target)} ({row.topic})"


class TargetWatch:
    """Which targets are failing, and since when (per process; thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing: dict[tuple[str, str], _Failing] = {}

    def failing(self) -> int:
        """How many targets are failing now."""
        with self._lock:
            return len(self._failing)

    def failed(
        self, row: OutboxRow, outcome: Outcome, *, step: float, delay: float, now: datetime
    ) -> None:
        """An attempt failed and will be retried after ``delay`` s (backoff ``step``)."""
        key = (row.kind, row.target)
        with self._lock:
            known = self._failing.get(key)
            if known is None:
                known = self._failing[key] = _Failing(since=now, attempts=0, step=0.0)
            known.attempts += 1
            first, grew = known.attempts == 1, step > known.step
            if grew:
                known.step = step
            attempts, since = known.attempts, known.since
        if not (first or grew):
            return
        facts = fields(
            event="notify_failing",
            target=shown_url(row.target),
            kind=row.kind,
            topic=row.topic,
            attempt=row.attempts + 1,
            error=outcome.error,
            retry_in_s=round(delay),
            failing_for_s=round((now - since).total_seconds()),
        )
        level = logging.INFO if row.kind == DELIVERY else logging.WARNING
        if first:
            log.log(
                level,
                "notifications to %s are failing (%s): %s; retrying in %.0f s",
                shown_url(row.target),
                row.kind,
                outcome.error,
                delay,
                extra=facts,
            )
        else:
            log.log(
                level,
                "notifications to %s still failing after %d attempts over %s (%s);"
                " next retries within %.0f s",
                shown_url(row.target),
                attempts,
                _duration(now - since),
                outcome.error,
                step,
                extra=facts,
            )

    def succeeded(self, row: OutboxRow, outcome: Outcome, *, now: datetime) -> None:
        """An attempt succeeded: if its target was failing, say it works again."""
        key = (row.kind, row.target)
        with self._lock:
            known = self._failing.pop(key, None)
        level = logging.DEBUG if row.kind == DELIVERY else logging.INFO
        if log.isEnabledFor(level):  # (a fan-out's thousands of lines are rarely wanted)
            log.log(
                level,
                "notified %s in %d ms",
                describe(row),
                outcome.ms,
                extra=fields(
                    target=shown_url(row.target),
                    kind=row.kind,
                    topic=row.topic,
                    duration_ms=outcome.ms,
                ),
            )
        if known is not None:
            log.log(
                logging.INFO,
                "notifications to %s work again, after %d failed attempts over %s",
                shown_url(row.target),
                known.attempts,
                _duration(now - known.since),
                extra=fields(
                    event="notify_recovered",
                    target=shown_url(row.target),
                    kind=row.kind,
                    count=known.attempts,
                    failing_for_s=round((now - known.since).total_seconds()),
                ),
            )

    def gave_up(self, row: OutboxRow, reason: str) -> None:
        """A notification failed for good: lost, so always logged."""
        log.error(
            "notifying %s failed for good: %s",
            describe(row),
            reason,
            extra=fields(
                event="notify_gave_up",
                target=shown_url(row.target),
                kind=row.kind,
                topic=row.topic,
                attempt=row.attempts + 1,
                error=reason,
            ),
        )


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
