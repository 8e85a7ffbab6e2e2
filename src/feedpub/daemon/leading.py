"""Who builds, for a daemon. On SQLite, one daemon per state file (a second one refuses to
start). On PostgreSQL, any number may run: the one holding an advisory lock
(:class:`~feedpub.ha.leadership.LeaderLock`) leads, records itself in the state store, and
checks its lock; the others stand by, serve what the leader publishes, and take over when
the leader's session ends (a crash, ``kill -9``: PostgreSQL releases the lock with the
connection)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime

from feedpub.config import Config
from feedpub.errors import StateError, one_line
from feedpub.ha.leadership import LeaderLock
from feedpub.locks import daemon_lock
from feedpub.store import State
from feedpub.store.db import redact

log = logging.getLogger(__name__)

STANDBY_POLL_SECONDS = 2.0  # how often a standby tries to take the lead


class Leadership:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime],
        open_state: Callable[[], State],
        output_id: Callable[[], str],
    ) -> None:
        self.config = config
        self.clock = clock
        self.open_state = open_state
        self.output_id = output_id
        self.role = "leader"
        self.url = ""  # where this daemon serves (for the leader record)
        self.lost = threading.Event()  # another daemon took the lead: stopped for it
        self._lock: LeaderLock | None = None
        self._recorded_pid: int | None = None  # the lock session named in the leader record

    @property
    def shared(self) -> bool:
        """Whether other daemons may lead this store (PostgreSQL)."""
        return self._lock is not None

    @contextlib.contextmanager
    def hold(self) -> Iterator[threading.Event]:
        """For the daemon's life: an event set while this daemon leads."""
        lead = threading.Event()
        if not self.config.state_target_is_postgres:
            with daemon_lock(self.config.paths.state):
                lead.set()
                yield lead
            return
        self._lock = LeaderLock(str(self.config.state_target))
        try:
            try:
                if self._lock.try_acquire():
                    lead.set()
            except Exception as e:  # psycopg and SQLAlchemy errors alike: one line
                raise StateError(
                    f"{redact(self.config.state_target)}: cannot open the state store: "
                    f"{one_line(e)}"
                ) from e
            yield lead
        finally:
            self._lock.close_quietly()

    def record(self) -> None:
        """Say in the state store who leads (``feedpub status`` shows it while the lock is
        held): this host, pid and address. On SQLite, where the lock is a file, only where
        this daemon serves is said (the pid in the lock file tells whether it still runs)."""
        if self._lock is None:
            here = {"pid": os.getpid(), "url": self.url, "since": self._since()}
            try:
                with self.open_state() as state:
                    state.put("serving", json.dumps(here))
            except Exception:
                log.exception("could not record where this daemon serves")
            return
        me = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": self._since(),
            "url": self.url,
            "output": self.output_id(),
            "backend_pid": self._lock.backend_pid,  # ties the record to the lock
        }
        try:
            with self.open_state() as state:
                state.put("leader", json.dumps(me))
            self._recorded_pid = self._lock.backend_pid
        except Exception:
            log.exception("could not record this daemon as the leader")

    def _since(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def stand_by(
        self,
        lead: threading.Event,
        stop: threading.Event,
        *,
        on_lead: Callable[[], None],
        sync: Callable[[], None],
    ) -> None:
        """Until this daemon leads: keep serving what the leader publishes (``sync``), and
        try to lead; then ``on_lead``."""
        while not stop.is_set():
            try:
                if self._lock is not None and self._lock.try_acquire():
                    lead.set()
                    log.info("the leader is gone: this daemon leads now")
                    on_lead()
                    return
                sync()
            except Exception:
                log.exception("standing by failed; trying again")
                if self._lock is not None and not lead.is_set():
                    # (its session may be gone: PostgreSQL restarted. Not leading, it holds
                    # nothing: the next try opens a new one, not the dead one for ever)
                    self._lock.close_quietly()
            stop.wait(STANDBY_POLL_SECONDS)

    def keep(self, stop: threading.Event) -> None:
        """While leading on PostgreSQL: check the lock's session; after PostgreSQL restarts,
        take the lock again; if another daemon took it meanwhile, stop (two leaders must never
        build at once), so that the service manager restarts this one as a standby."""
        while not stop.wait(STANDBY_POLL_SECONDS):
            try:
                held = self._lock is not None and self._lock.still_held()
            except Exception as e:  # PostgreSQL still down: keep trying, builds wait too
                log.warning("cannot check leadership (%s); retrying", type(e).__name__)
                continue
            if not held:
                log.error("another daemon leads now; stopping this one")
                self.lost.set()
                os.kill(os.getpid(), signal.SIGTERM)
                return
            if self._lock is not None and self._lock.backend_pid != self._recorded_pid:
                self.record()  # the lock was taken again on a new session
