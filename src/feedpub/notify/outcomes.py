"""What each attempt's outcome does to the outbox: a success recorded; a failure retried after
a backoff (:func:`feedpub.notify.plan.retry_delay`, or the target's ``Retry-After``); a failure
for good when it cannot be retried or the notification grew older than ``notify.max_age_hours``;
a subscription ended when its subscriber answers 410 Gone. A batch of outcomes is recorded in
one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from feedpub.config import NotifyConfig
from feedpub.logs import fields
from feedpub.model import OutboxRow
from feedpub.notify.plan import Outcome, backoff_step, retry_delay
from feedpub.notify.targets import TargetWatch, describe
from feedpub.store import State

# the sending loop's logger: these lines are logged under the name they always had
log = logging.getLogger("feedpub.notify.notifier")


def record_outcomes(
    state: State,
    finished: list[tuple[OutboxRow, Outcome]],
    *,
    notify: NotifyConfig,
    clock: Callable[[], datetime],
    targets: TargetWatch,
) -> tuple[int, int]:
    """Record a batch of outcomes in one transaction: (sent, failed); ``failed`` counts the
    attempts that did not succeed, retried or not."""
    now = clock()
    failed = 0
    with state.transaction():
        successes = [(row.id, out.status, out.ms, row.lease) for row, out in finished if out.ok]
        state.record_successes(successes, at=now)
        for row, out in finished:
            if out.ok:
                targets.succeeded(row, out, now=now)
            else:
                record_failure(state, row, out, notify=notify, now=clock(), targets=targets)
                failed += 1
    return len(successes), failed


def record_failure(
    state: State,
    row: OutboxRow,
    outcome: Outcome,
    *,
    notify: NotifyConfig,
    now: datetime,
    targets: TargetWatch,
) -> None:
    """Record one attempt that did not succeed (a retry, or a failure for good)."""
    what = describe(row)
    if outcome.gone and row.subscription_id is not None:
        state.drop_subscription(row.subscription_id)
        log.info(
            "subscriber answered 410 Gone; subscription ended: %s",
            what,
            extra=fields(event="subscription_gone", target=row.target, topic=row.topic),
        )
    too_old = now - row.created_at > timedelta(hours=notify.max_age_hours)
    if outcome.retryable and not too_old and not outcome.gone:
        base, cap, asked = notify.retry_base_seconds, notify.retry_max_seconds, outcome.retry_after
        delay = retry_delay(row.attempts + 1, base=base, cap=cap, retry_after=asked)
        state.record_attempt(
            row.id,
            at=now,
            outcome="retry",
            status=outcome.status,
            error=outcome.error,
            ms=outcome.ms,
            retry_at=now + timedelta(seconds=delay),
            lease=row.lease,
        )
        targets.failed(
            row,
            outcome,
            step=backoff_step(row.attempts + 1, base=base, cap=cap, retry_after=asked),
            delay=delay,
            now=now,
        )
        return
    reason = outcome.error or "failed"
    if too_old:
        reason = f"gave up after {row.attempts + 1} attempts: {reason}"
    state.record_attempt(
        row.id,
        at=now,
        outcome="failed",
        status=outcome.status,
        error=reason,
        ms=outcome.ms,
        lease=row.lease,
    )
    targets.gave_up(row, reason)
