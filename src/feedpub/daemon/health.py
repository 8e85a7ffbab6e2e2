"""What ``/healthz`` says: the daemon's role, its last build, the errors an operator must
notice, and the notifications waiting. The state store is opened once per serving thread and
kept (a request does not pay for opening it); a handle that fails is dropped and opened again
on the next request."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from feedpub.daemon.buildloop import BuildLoop
from feedpub.errors import FeedpubError
from feedpub.store import State

MAX_ERRORS_SHOWN = 20  # in /healthz


class Health:
    def __init__(
        self, loop: BuildLoop, *, role: Callable[[], str], open_state: Callable[[], State]
    ) -> None:
        self._loop = loop
        self._role = role
        self._open_state = open_state
        self._local = threading.local()  # (an SQLite connection serves the thread it was made in)

    def report(self) -> dict[str, Any]:
        loop = self._loop
        r = loop.last_result
        return {
            "status": "ok" if loop.last_error is None else "degraded",
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
            "pending_notifications": self._pending_notifications(),
            "last_error": loop.last_error,
        }

    def _pending_notifications(self) -> int | None:
        state: State | None = getattr(self._local, "state", None)
        if state is None:
            try:
                state = self._local.state = self._open_state()
            except FeedpubError:  # (unreachable, or not feedpub's): said elsewhere
                return None
        try:
            return state.pending_count()
        except state.driver_errors:  # (a lost connection, a broken file): open it again
            self.close()
            return None

    def close(self) -> None:
        """Close this thread's handle (the next request opens a new one)."""
        state: State | None = getattr(self._local, "state", None)
        self._local.state = None
        if state is not None:
            with contextlib.suppress(FeedpubError, *state.driver_errors):
                state.close()  # (a broken handle: nothing to keep or report)
