"""Which daemon leads (PostgreSQL): the session holding the leader lock, and the record
it wrote of itself. Taking the lock is :class:`feedpub.ha.leadership.LeaderLock`'s job."""

from __future__ import annotations

import json
from typing import Any

from feedpub.store.base import StoreBase

LEADER_LOCK_KEY = 0x66656564707562  # "feedpub": the advisory lock a leading daemon holds


class LeaderStore(StoreBase):
    def leader(self) -> dict[str, Any] | None:
        """On PostgreSQL, the daemon that leads now (the one holding the leader lock, as it
        recorded itself: host, pid, since, url, output); ``{}`` if one leads but has not
        recorded itself yet; None if none leads (always, on SQLite)."""
        holder = self._db.lock_holder(LEADER_LOCK_KEY)
        if holder is None:
            return None
        recorded = json.loads(self.get("leader") or "{}")
        # the record counts only if it was written by the session holding the lock now (a
        # new leader that has not recorded itself yet must not pass for the old one)
        return dict(recorded) if recorded.get("backend_pid") == holder else {}
