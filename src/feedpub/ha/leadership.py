"""Leadership among daemons sharing a PostgreSQL state store: the one holding an advisory
lock leads (watches, schedules, builds, notifies); the others stand by and serve. The daemon
(:mod:`feedpub.daemon`) decides when to try; this module holds the lock."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class LeaderLock:
    """The leader's lock: a PostgreSQL session-level advisory lock, on a connection of its
    own held for the daemon's life. PostgreSQL releases it with the connection (a crash,
    ``kill -9``, a lost network), and another daemon then takes it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db: Any = None
        self.backend_pid: int | None = None  # the session holding the lock (pg_locks.pid)

    def try_acquire(self) -> bool:
        from feedpub.store.db import _PostgresDb
        from feedpub.store.leader import LEADER_LOCK_KEY

        if self._db is None:
            self._db = _PostgresDb(self.url)
        row = self._db.execute("SELECT pg_try_advisory_lock(?)", (LEADER_LOCK_KEY,)).fetchone()
        if row[0]:
            self.backend_pid = int(self._db.execute("SELECT pg_backend_pid()").fetchone()[0])
        return bool(row[0])

    def still_held(self) -> bool:
        """Whether the lock's session is alive (it dies with the connection, e.g. when
        PostgreSQL restarts); if not, try to take the lock again on a new connection."""
        try:
            if self._db is not None:
                self._db.execute("SELECT 1").fetchone()
                return True
        except Exception:
            log.warning("lost the connection that holds the leader lock")
        self.close_quietly()
        try:
            return self.try_acquire()
        except Exception:
            self.close_quietly()
            raise

    def close_quietly(self) -> None:
        try:
            self.close()
        except Exception:
            self._db = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
