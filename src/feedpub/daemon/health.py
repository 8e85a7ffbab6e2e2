"""What ``/healthz`` says: the daemon's role, its last build, the errors an operator must
notice, the notifications waiting, and whether the service can do its job: ``status`` is
``ok``, or ``unavailable`` (the server answers ``503``) with the ``reasons``:

* the state store does not answer (it cannot be opened, or a query on it failed);
* builds fail as a whole (the last one raised: a full disk, a lost store; an article's own
  error is no failure of the service, it is in ``article_errors``);
* a notification of the publisher's (a hub ping, a weblogUpdates ping) has waited longer
  than ``notify.stale_after_seconds``: changes are not getting out. Deliveries to the built-in
  hub's subscribers do not count: a subscriber chooses its callback, and one that fails must
  not take the site out of a load balancer (``/metrics`` shows their age).

The state store is opened once per serving thread and kept (a request does not pay for
opening it); a handle that fails is dropped and opened again on the next request."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from feedpub.daemon.buildloop import BuildLoop
from feedpub.errors import FeedpubError, one_line
from feedpub.notify.plan import DELIVERY
from feedpub.store import State

MAX_ERRORS_SHOWN = 20  # in /healthz


class Health:
    def __init__(
        self,
        loop: BuildLoop,
        *,
        role: Callable[[], str],
        open_state: Callable[[], State],
        clock: Callable[[], datetime],
        stale_after_seconds: float,
    ) -> None:
        self._loop = loop
        self._role = role
        self._open_state = open_state
        self._clock = clock
        self.stale_after = stale_after_seconds
        self._local = threading.local()  # (an SQLite connection serves the thread it was made in)

    def report(self) -> dict[str, Any]:
        loop = self._loop
        r = loop.last_result
        reasons: list[str] = []
        waiting: dict[str, tuple[int, datetime]] | None = None
        try:
            waiting = self._waiting()
        except Exception as e:  # (FeedpubError, or the driver's: said once, in one line)
            reasons.append(f"the state store does not answer: {one_line(e)}")
        if loop.last_error is not None:
            reasons.append(f"builds are failing: {loop.last_error}")
        oldest_age: float | None = None
        if waiting is not None:
            ours = [oldest for kind, (_, oldest) in waiting.items() if kind != DELIVERY]
            if ours:
                oldest_age = round((self._clock() - min(ours)).total_seconds(), 1)
                if oldest_age > self.stale_after:
                    reasons.append(
                        f"a notification has waited {oldest_age:.0f} s to be sent (more than "
                        f"notify.stale_after_seconds = {self.stale_after:g})"
                    )
        return {
            "status": "unavailable" if reasons else "ok",
            "reasons": reasons,
            "role": self._role(),
            "last_build": loop.last_build.isoformat() if loop.last_build else None,
            "builds": loop.builds,
            "articles": r.articles if r else None,
            "published": r.published if r else None,
            "article_problems": len(r.problems) if r else None,
            # errors, named: an article that stopped parsing (its last good version stays
            # published) must be noticed
            "article_errors": [str(p) for p in r.errors[:MAX_ERRORS_SHOWN]] if r else None,
            "skipped_files": len(loop.skipped) if r else None,
            "next_go_live": r.next_go_live.isoformat() if r and r.next_go_live else None,
            "pending_notifications": (
                sum(n for n, _ in waiting.values()) if waiting is not None else None
            ),
            "oldest_notification_seconds": oldest_age,
            "last_error": loop.last_error,
        }

    def _waiting(self) -> dict[str, tuple[int, datetime]]:
        """The waiting notifications (:meth:`State.waiting`), from this thread's handle;
        raises if the store cannot be opened or the query fails (the handle is dropped)."""
        state: State | None = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = self._open_state()
        try:
            return state.waiting()
        except state.driver_errors:  # (a lost connection, a broken file): open it again
            self.close()
            raise

    def close(self) -> None:
        """Close this thread's handle (the next request opens a new one)."""
        state: State | None = getattr(self._local, "state", None)
        self._local.state = None
        if state is not None:
            with contextlib.suppress(FeedpubError, *state.driver_errors):
                state.close()  # (a broken handle: nothing to keep or report)
