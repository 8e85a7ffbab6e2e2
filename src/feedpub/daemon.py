"""``feedpub run``: keeps the feeds true to the articles folder and serves them.

Threads: the watcher and the scheduler only *ask* for builds; one build thread runs them, one
at a time (feedgen's RSS rendering is not thread-safe, and a build owns the state store); the
main thread runs the HTTP server, which answers from memory and is handed each build's files.
Nothing here decides what a feed contains: that is the builder's job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from feedpub.build import Builder
from feedpub.config import Config
from feedpub.errors import (
    BuildCancelled,
    ConfigError,
    FeedpubError,
    StateError,
    one_line,
)
from feedpub.ha.leadership import LeaderLock
from feedpub.ha.replica import Replica
from feedpub.locks import daemon_lock
from feedpub.model import BuildResult
from feedpub.redirects import locations
from feedpub.render import Links
from feedpub.server import App, Store, bind, make_server

log = logging.getLogger(__name__)


MAX_ERRORS_SHOWN = 20  # in /healthz
STANDBY_POLL_SECONDS = 2.0  # how often a standby tries to take the lead


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime],
        host: str | None = None,
        port: int | None = None,
        workers: int | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.host = host or config.server.host
        self.port = config.server.port if port is None else port
        self._address_given = host is not None or port is not None  # (for messages)
        self.builder = Builder(config, clock=clock, workers=workers)
        links = Links(site=config.site, hubs=config.advertised_hubs)
        self.store = Store(config.paths.output, self._link_headers(links))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: set[str] = set()
        self._full = True  # the first build scans everything: catch up on what happened while down
        self._replan = False  # plan again without looking at files (a go-live time came)
        self._thread = threading.Thread(target=self._work, name="feedpub-builder", daemon=True)
        self.last_result: BuildResult | None = None
        self.last_build: datetime | None = None
        self.last_error: str | None = None
        self.builds = 0
        self._reported: set[str] = set()
        self._skipped: dict[str, str] = {}  # path -> the skipped file's line, as logged
        self.scheduler: Any = None
        self.watcher: Any = None
        self.notifier: Any = None
        self.hub: Any = None
        self.role = "leader"
        self.lost_lead = threading.Event()
        self._leader_lock: LeaderLock | None = None
        self._notifier_thread: threading.Thread | None = None
        self.url = ""
        self.replica = Replica(config)  # a standby's copy of what the leader publishes
        self._recorded_pid: int | None = None  # the lock session named in the leader record

    def _link_headers(self, links: Links) -> Callable[[str], list[str]]:
        return links.link_headers  # (render/paths.py knows which files are feeds)

    # -- asking for builds (any thread) -----------------------------------------------------

    def files_changed(self, paths: set[str] | None) -> None:
        with self._lock:
            if paths is None:
                self._full = True
            else:
                self._pending |= paths
        self._wake.set()

    def request(self, reason: str) -> None:
        log.info("build requested: %s", reason)
        with self._lock:
            if reason == "reconcile":
                self._full = True
            else:
                self._replan = True
        self._wake.set()

    # -- the build thread -------------------------------------------------------------------

    def _settled(self, paths: set[str]) -> set[str]:
        """Of ``paths``, those still changing (a copy or an editor's save in progress)."""
        root = self.config.paths.articles

        def sig(p: str) -> tuple[int, int] | None:
            try:
                st = os.stat(root / p)
            except OSError:
                return None
            return (st.st_size, st.st_mtime_ns)

        before = {p: sig(p) for p in paths}
        time.sleep(self.config.schedule.settle_ms / 1000)
        return {p for p in paths if sig(p) != before[p]}

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # the build thread must outlive anything that goes wrong
                log.exception("the build loop failed; carrying on")
                self._stop.wait(1.0)

    def _step(self) -> None:
        """Wait for a request, then run one build."""
        self._wake.wait(timeout=1.0)
        if self._stop.is_set():
            return
        self._wake.clear()
        with self._lock:
            full, paths, replan = self._full, self._pending, self._replan
            self._full, self._pending, self._replan = False, set(), False
        if not (full or paths or replan):
            return
        if not full and paths:
            busy = self._settled(paths)
            if busy:  # come back for these once they stop changing
                log.debug("still being written: %s", ", ".join(sorted(busy)))
                self.files_changed(busy)
                paths -= busy
                if not paths and not replan:
                    return
        self._build(None if full else paths)

    def _build(self, paths: set[str] | None) -> None:
        started = time.monotonic()
        log.debug("building: %s", "everything" if paths is None else f"{len(paths)} changed files")
        try:
            result = self.builder.build(paths=paths, should_stop=self._stop.is_set)
        except BuildCancelled:
            log.info("build stopped for shutdown")
            return
        except FeedpubError as e:
            self.last_error = str(e)
            log.error("build failed: %s", e)
            self._retry_later(paths)
            return
        except Exception as e:  # never let one build kill the daemon
            self.last_error = f"{type(e).__name__}: {e}"
            log.exception("build failed unexpectedly")
            self._retry_later(paths)
            return
        self.last_error = None
        if result.written or result.removed:  # serve the new files before saying they are done
            self.store.update(result.written, result.removed)
        self._sync_store()
        self.builds += 1
        self.last_result = result
        self.last_build = self.clock()
        if result.notifications and self.notifier is not None:
            self.notifier.wake()
        if self.scheduler is not None:
            # (an article going live or expiring: the feeds change by themselves then)
            self.scheduler.go_live_at(
                min(
                    (t for t in (result.next_go_live, result.next_expiry) if t is not None),
                    default=None,
                )
            )
        current = {str(p) for p in result.problems}
        for text in sorted(current - self._reported):
            log.warning("%s", text)
        self._reported = current
        self._report_skipped(result, paths)
        if result.written or result.removed or paths is None:
            log.info(
                "build: %d articles, %d parsed, %d files written, %d removed, %d problems, %.0f ms",
                result.articles,
                result.parsed,
                len(result.written),
                len(result.removed),
                len(result.problems),
                (time.monotonic() - started) * 1000,
            )

    def _report_skipped(self, result: BuildResult, paths: set[str] | None) -> None:
        """Log each skipped file once, when it first shows (or its reason changes), not on
        every rebuild. A build told which paths changed looked at those only: what it says
        about them replaces what we knew; the rest stands until the next full scan."""
        now = {s.path: str(s) for s in result.skipped}
        if paths is None:
            known = now
        else:
            known = {p: t for p, t in self._skipped.items() if p not in paths} | now
        for path in sorted(known):
            if self._skipped.get(path) != known[path]:
                log.warning("%s", known[path])
        self._skipped = known

    def _sync_store(self) -> None:
        """Serve what the manifest says is published, even if another process (a one-shot
        ``feedpub build``) wrote it: reload any file whose bytes differ from what we hold."""
        from feedpub.state import State

        try:
            with State(self.config.state_target) as state:
                records = state.outputs()
                published = {r.relpath: r.sha256 for r in records.values()}
                if state.postgres and self.role == "standby":
                    self.replica.replicate(state, records, published, self.store.differs)
                elif state.postgres:  # the leader's folder holds exactly the manifest
                    self.replica.note_published(set(records))
            self.store.sync(published)
        except FeedpubError as e:
            log.error("could not bring the served files in step with the manifest: %s", e)
        except Exception:
            log.exception("could not compare the served files with the output manifest")

    def _output_id(self) -> str:
        return self.replica.output_id()

    def _retry_later(self, paths: set[str] | None) -> None:
        """A failed build loses nothing: its changes are asked for again after a pause."""
        with self._lock:
            if paths is None:
                self._full = True
            else:
                self._pending |= paths
                self._replan = True  # a go-live (or any) replan comes back too
        self._stop.wait(2.0)
        self._wake.set()

    # -- health -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        r = self.last_result
        return {
            "status": "ok" if self.last_error is None else "degraded",
            "role": self.role,
            "last_build": self.last_build.isoformat() if self.last_build else None,
            "builds": self.builds,
            "articles": r.articles if r else None,
            "published": r.published if r else None,
            "article_problems": len(r.problems) if r else None,
            # errors, named: an article that stopped parsing (its last good version stays
            # published) must be noticed
            "article_errors": [str(p) for p in r.errors[:MAX_ERRORS_SHOWN]] if r else None,
            "skipped_files": len(self._skipped) if r else None,
            "next_go_live": r.next_go_live.isoformat() if r and r.next_go_live else None,
            "pending_notifications": self._pending_notifications(),
            "last_error": self.last_error,
        }

    def _pending_notifications(self) -> int | None:
        from feedpub.state import State

        try:
            with State(self.config.state_target) as state:
                return state.pending_count()
        except Exception:
            return None

    def is_topic(self, url: str) -> bool:
        """Whether ``url`` is a feed this site publishes (a topic the hub may take)."""
        base = self.config.site.base_url
        if not url.startswith(base):
            return False
        from urllib.parse import unquote

        path = "/" + unquote(url[len(base) :])
        return (
            path.startswith("/feeds/")
            and not path.endswith(".opml")
            and (path in self.store.resources)
        )

    # -- the whole life ---------------------------------------------------------------------

    def run(self, *, on_ready: Callable[[str, int], None] | None = None) -> None:
        """Run until SIGTERM or SIGINT; then stop watching, finish or stop the build in
        flight, flush the state and return."""
        early_stop = threading.Event()  # a signal before the server is up still stops cleanly

        def on_signal(signum: int, frame: object) -> None:
            early_stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._run(early_stop, on_ready)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _run(
        self, early_stop: threading.Event, on_ready: Callable[[str, int], None] | None
    ) -> None:
        from feedpub.notify.hub import Hub

        cfg = self.config
        with self._leadership() as lead:
            self._check_start()
            where = "--host/--port" if self._address_given else "[server] host and port"
            sock = bind(self.host, self.port, where=where)
            host, port = sock.getsockname()[:2]
            self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
            if lead.is_set():
                try:
                    self._take_lead()
                except BaseException:
                    sock.close()
                    raise
            served = self.store.load_all()
            log.info(
                "serving %d files from %s on http://%s:%d/",
                served,
                cfg.paths.output,
                f"[{host}]" if ":" in host else host,
                port,
            )
            if lead.is_set():
                self._lead()
            else:
                log.info("another feedpub daemon leads this state store; standing by")
                self.role = "standby"
                threading.Thread(
                    target=self._stand_by, args=(lead,), name="feedpub-standby", daemon=True
                ).start()
            if cfg.hub.enabled:
                self.hub = Hub(cfg, is_topic=self.is_topic, clock=self.clock)
            moved = locations(cfg.site.base_url, cfg.feeds.redirects)
            server = make_server(App(self.store, self.health, self.hub, moved), sock, cfg.server)
            if on_ready is not None:
                on_ready(host, port)
            try:
                server.early_stop = early_stop
                server.run(sockets=[sock])
            finally:
                log.info("shutting down")
                self._shut_down()
                if self.hub is not None:
                    self.hub.close()
                self.builder.close()
                sock.close()
                log.info("stopped")

    def _check_start(self) -> None:
        """Refuse to start (a :class:`FeedpubError`: one line, exit 2) on what would make
        every build fail: no articles folder, a state store that cannot be opened (or is
        not feedpub's), an output folder that is not feedpub's to fill."""
        from feedpub.build import output_manifest
        from feedpub.output_ownership import claim_output
        from feedpub.state import State

        cfg = self.config
        if not cfg.paths.articles.is_dir():
            raise ConfigError(
                f"the articles folder {cfg.paths.articles} does not exist", key="paths.articles"
            )
        with State(cfg.state_target) as state:
            claim_output(cfg.paths.output, lambda: output_manifest(state))

    @contextlib.contextmanager
    def _leadership(self) -> Iterator[threading.Event]:
        """Decide who builds. On SQLite, one daemon per state file (a second one refuses to
        start). On PostgreSQL, any number may run: the one holding an advisory lock leads,
        the others stand by, serve, and take over when the leader's session ends (a crash,
        ``kill -9``: PostgreSQL releases the lock with the connection)."""
        lead = threading.Event()
        if not self.config.state_target_is_postgres:
            with daemon_lock(self.config.paths.state):
                lead.set()
                yield lead
            return
        self._leader_lock = LeaderLock(str(self.config.state_target))
        try:
            try:
                if self._leader_lock.try_acquire():
                    lead.set()
            except Exception as e:  # psycopg and SQLAlchemy errors alike: one line
                from feedpub.store.db import redact

                raise StateError(
                    f"{redact(self.config.state_target)}: cannot open the state store: "
                    f"{one_line(e)}"
                ) from e
            yield lead
        finally:
            self._leader_lock.close_quietly()

    def _stand_by(self, lead: threading.Event) -> None:
        """Until this daemon leads: keep serving what the leader publishes, and try to lead."""
        while not self._stop.is_set():
            try:
                if self._leader_lock is not None and self._leader_lock.try_acquire():
                    lead.set()
                    log.info("the leader is gone: this daemon leads now")
                    self._lead()
                    return
                self._sync_store()
            except Exception:
                log.exception("standing by failed; trying again")
            self._stop.wait(STANDBY_POLL_SECONDS)

    def _record_leader(self) -> None:
        """Say in the state store who leads (``feedpub status`` shows it while the lock is
        held): this host, pid and address."""
        import json
        import socket

        from feedpub.state import State

        assert self._leader_lock is not None
        me = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": self.clock().isoformat(timespec="seconds"),
            "url": self.url,
            "output": self._output_id(),
            "backend_pid": self._leader_lock.backend_pid,  # ties the record to the lock
        }
        try:
            with State(self.config.state_target) as state:
                state.put("leader", json.dumps(me))
            self._recorded_pid = self._leader_lock.backend_pid
        except Exception:
            log.exception("could not record this daemon as the leader")

    def _keep_lead(self) -> None:
        """While leading on PostgreSQL: check the lock's session; after PostgreSQL restarts,
        take the lock again; if another daemon took it meanwhile, stop (two leaders must never
        build at once), so that the service manager restarts this one as a standby."""
        while not self._stop.wait(STANDBY_POLL_SECONDS):
            try:
                held = self._leader_lock is not None and self._leader_lock.still_held()
            except Exception as e:  # PostgreSQL still down: keep trying, builds wait too
                log.warning("cannot check leadership (%s); retrying", type(e).__name__)
                continue
            if not held:
                log.error("another daemon leads now; stopping this one")
                self.lost_lead.set()
                os.kill(os.getpid(), signal.SIGTERM)
                return
            if (
                self._leader_lock is not None
                and self._leader_lock.backend_pid != self._recorded_pid
            ):
                self._record_leader()  # the lock was taken again on a new session

    def _take_lead(self) -> None:
        """The first steps of leading, those that may fail for good (so that a daemon that
        cannot lead refuses to start, in one line): say who leads, before doing anything
        as leader; start the scheduler on its job store."""
        from feedpub import scheduler as scheduler_mod

        cfg = self.config
        self.role = "leader"
        if self._leader_lock is not None:
            self._record_leader()
        try:
            scheduler = scheduler_mod.Scheduler(
                cfg.state_url, reconcile_seconds=cfg.schedule.reconcile_seconds
            )
            scheduler_mod.attach(self.request)
            scheduler.start()
        except Exception as e:  # SQLAlchemy's errors: the job store cannot be used
            scheduler_mod.attach(None)
            from feedpub.store.db import redact

            raise StateError(
                f"{redact(cfg.state_url)}: the scheduler's job store cannot be used: {one_line(e)}"
            ) from e
        self.scheduler = scheduler

    def _lead(self) -> None:
        """Start what only the leader runs: watching, scheduling, building, notifying."""
        from feedpub.notify.notifier import Notifier
        from feedpub.watcher import Watcher

        cfg = self.config
        if self.scheduler is None:
            self._take_lead()
        self.watcher = Watcher(cfg.paths.articles, self.files_changed)
        self.watcher.start()
        self.notifier = Notifier(cfg, clock=self.clock)
        self._notifier_thread = threading.Thread(
            target=self.notifier.run, name="feedpub-notifier", daemon=True
        )
        self._notifier_thread.start()  # pending notifications from before a restart go now
        self._thread.start()
        self._wake.set()
        if self._leader_lock is not None:
            threading.Thread(target=self._keep_lead, name="feedpub-lead", daemon=True).start()

    def _shut_down(self) -> None:
        from feedpub import scheduler as scheduler_mod

        self._stop.set()
        self._wake.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown()
            scheduler_mod.attach(None)
        if self.notifier is not None:
            self.notifier.stop()
        if self._thread.is_alive():
            self._thread.join(timeout=4.0)
        if self._notifier_thread is not None:
            self._notifier_thread.join(timeout=1.0)
        if self.notifier is not None:
            self.notifier.close()
