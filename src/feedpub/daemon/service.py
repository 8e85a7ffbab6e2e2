"""The daemon's parts put together: the build loop, the served files, leadership, the
scheduler, the watcher, the notifier, the hub and the admin listener, started and stopped in
order. The metrics hooks (:class:`~feedpub.metrics.Metrics`) are made here and handed to the
parts that count: the server, the build loop, the notifier.

Threads: the watcher and the scheduler only *ask* for builds; the build loop runs them; the
main thread runs the HTTP server, which answers from memory and is handed each build's files.
Nothing here decides what a feed contains: that is the builder's job.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feedpub.build import Builder, output_manifest
from feedpub.config import Config
from feedpub.config.services import clash
from feedpub.daemon.buildloop import BuildLoop
from feedpub.daemon.health import Health
from feedpub.daemon.leading import Leadership
from feedpub.errors import ConfigError, FeedpubError, one_line
from feedpub.ha.replica import Replica
from feedpub.metrics import NO_METRICS, Metrics
from feedpub.model import BuildResult
from feedpub.notify.targets import TargetWatch
from feedpub.output_ownership import claim_output
from feedpub.redirects import locations
from feedpub.render import Links
from feedpub.server import App, Store, bind, make_server
from feedpub.store import State

if TYPE_CHECKING:
    from feedpub.notify.hub import Hub
    from feedpub.notify.notifier import Notifier
    from feedpub.scheduler import Scheduler
    from feedpub.server.processes import ServingProcesses
    from feedpub.watcher import Watcher

log = logging.getLogger(__name__)

ADMIN_CONNECTIONS = 256  # open at once on the admin listener, in all
MAX_CONNECTIONS = 4096  # open at once on the server, in all (shared by its processes)


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime],
        host: str | None = None,
        port: int | None = None,
        workers: int | None = None,
        open_state: Callable[[], State] | None = None,
    ) -> None:
        """``open_state`` opens the state store (default: ``config``'s)."""
        self.config = config
        self.clock = clock
        self.host = host or config.server.host
        self.port = config.server.port if port is None else port
        self._address_given = host is not None or port is not None  # (for messages)
        self.open_state = open_state or (lambda: State(config.state_target))
        self.links = Links(site=config.site, hubs=config.advertised_hubs)
        self.store = Store(config.paths.output, self.links.link_headers)
        self.replica = Replica(config)  # a standby's copy of what the leader publishes
        self.builder = Builder(config, clock=clock, workers=workers, open_state=self.open_state)
        self.metrics: Metrics = NO_METRICS
        self._exposition: Callable[[], tuple[int, bytes, bytes]] | None = None
        if config.admin.enabled:
            from feedpub.admin.metrics import PrometheusMetrics

            prometheus = PrometheusMetrics(open_state=self.open_state, clock=clock)
            self.metrics, self._exposition = prometheus, prometheus.exposition
        self.loop = BuildLoop(
            self.builder,
            articles=config.paths.articles,
            settle_ms=config.schedule.settle_ms,
            clock=clock,
            publish=self._publish,
            metrics=self.metrics,
        )
        self.leadership = Leadership(
            config, clock=clock, open_state=self.open_state, output_id=self.replica.output_id
        )
        self._health = Health(
            self.loop,
            role=lambda: self.leadership.role,
            open_state=self.open_state,
            clock=clock,
            stale_after_seconds=config.notify.stale_after_seconds,
        )
        self.scheduler: Scheduler | None = None
        self.watcher: Watcher | None = None
        self.notifier: Notifier | None = None
        self.hub: Hub | None = None
        self._notifier_thread: threading.Thread | None = None
        self.app: App | None = None
        self.processes: ServingProcesses | None = None  # ([server] processes > 1)
        self.reloads = 0  # config reloads applied (SIGHUP)
        self._targets = TargetWatch()  # failing notification targets, for the log

    # -- what tests and the server reach ----------------------------------------------------

    @property
    def lost_lead(self) -> threading.Event:
        return self.leadership.lost

    @property
    def role(self) -> str:
        return self.leadership.role

    def health(self) -> dict[str, Any]:
        return self._health.report()

    def status_page(self) -> tuple[int, bytes, bytes]:
        """The admin listener's ``/status``: (status, content type, body)."""
        from feedpub.admin.page import render_status, render_unavailable
        from feedpub.status import read_status

        site = self.config.site
        html = b"text/html; charset=utf-8"
        try:
            info = read_status(self.config, now=self.clock(), open_state=self.open_state)
        except Exception as e:  # (the store does not answer: say so, as /healthz does)
            page = render_unavailable(one_line(e), site_title=site.title, language=site.language)
            return 503, html, page
        return 200, html, render_status(info, site_title=site.title, language=site.language)

    def _build(self, paths: set[str] | None) -> None:
        self.loop.build(paths)

    def is_topic(self, url: str) -> bool:
        """Whether ``url`` is a feed this site serves (a topic the hub may take)."""
        relpath = self.links.feed_relpath_of(url)
        return relpath is not None and "/" + relpath in self.store.resources

    # -- after each build -------------------------------------------------------------------

    def _publish(self, result: BuildResult) -> None:
        """Serve a build's files before saying it is done; wake the notifier; schedule the
        next time the feeds change by themselves (an article going live or expiring)."""
        if result.written or result.removed:
            self.store.update(result.written, result.removed)
            if self.processes is not None:
                self.processes.update(result.written, result.removed)
        if not self.builder.undisturbed or self.config.state_target_is_postgres:
            # (another process may have published since our last build; on PostgreSQL the
            # leader also keeps its ledger of the files in its folder)
            self._sync_store()
        if result.notifications and self.notifier is not None:
            self.notifier.wake()
        if self.scheduler is not None:
            self.scheduler.go_live_at(
                min(
                    (t for t in (result.next_go_live, result.next_expiry) if t is not None),
                    default=None,
                )
            )

    def _sync_store(self) -> None:
        """Serve what the manifest says is published, even if another process (a one-shot
        ``feedpub build``) wrote it: reload any file whose bytes differ from what we hold."""
        try:
            with self.open_state() as state:
                records = state.outputs()
                published = {r.relpath: r.sha256 for r in records.values()}
                if state.postgres and self.role == "standby":
                    self.replica.replicate(state, records, published, self.store.differs)
                elif state.postgres:  # the leader's folder holds exactly the manifest
                    self.replica.note_published(set(records))
            if self.store.sync(published) and self.processes is not None:
                self.processes.sync(published)  # (same folder, same calls: same changes)
        except FeedpubError as e:
            log.error("could not bring the served files in step with the manifest: %s", e)
        except Exception:
            log.exception("could not compare the served files with the output manifest")

    # -- the whole life ---------------------------------------------------------------------

    def run(self, *, on_ready: Callable[[str, int], None] | None = None) -> None:
        """Run until SIGTERM or SIGINT; then stop watching, finish or stop the build in
        flight, flush the state and return."""
        early_stop = threading.Event()  # a signal before the server is up still stops cleanly

        def on_signal(signum: int, frame: object) -> None:
            early_stop.set()

        def on_hangup(signum: int, frame: object) -> None:  # (no work in a signal handler)
            threading.Thread(target=self.reload, name="feedpub-reload", daemon=True).start()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
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
        with self.leadership.hold() as lead:
            self._check_start()
            where = "--host/--port" if self._address_given else "[server] host and port"
            if cfg.admin.enabled and clash(self.host, self.port, cfg.admin.host, cfg.admin.port):
                raise ConfigError(
                    f"{self.port} is [admin] port: the server ({where}) needs a port of its own",
                    key="admin.port",
                )
            sock = bind(self.host, self.port, where=where)
            try:
                admin_sock = (
                    bind(cfg.admin.host, cfg.admin.port, where="[admin] host and port")
                    if cfg.admin.enabled
                    else None
                )
            except BaseException:
                sock.close()
                raise
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            self.leadership.url = f"http://{shown}:{port}/"
            if lead.is_set():
                try:
                    self._take_lead()
                except BaseException:
                    sock.close()
                    if admin_sock is not None:
                        admin_sock.close()
                    raise
            served = self.store.load_all()
            log.info(
                "serving %d files from %s on http://%s:%d/", served, cfg.paths.output, shown, port
            )
            if lead.is_set():
                self._lead()
            else:
                log.info("another feedpub daemon leads this state store; standing by")
                self.leadership.role = "standby"
                threading.Thread(
                    target=self.leadership.stand_by,
                    args=(lead, self.loop.stopping),
                    kwargs={"on_lead": self._lead, "sync": self._sync_store},
                    name="feedpub-standby",
                    daemon=True,
                ).start()
            if cfg.hub.enabled:
                self.hub = Hub(
                    cfg, is_topic=self.is_topic, clock=self.clock, open_state=self.open_state
                )
            moved = locations(cfg.site.base_url, cfg.feeds.redirects)
            self.app = app = App(
                self.store,
                self.health,
                self.hub,
                moved,
                metrics=self.metrics,
                access_log=cfg.server.access_log,
            )
            server = self._servers(app, sock, admin_sock)
            if on_ready is not None:
                on_ready(host, port)
            try:
                server.early_stop = early_stop
                server.run(sockets=[sock])
            finally:
                log.info("shutting down")
                if self.processes is not None:
                    self.processes.stop()
                self._shut_down()
                if self.hub is not None:
                    self.hub.close()
                self.builder.close()
                self._health.close()
                sock.close()
                if admin_sock is not None:
                    admin_sock.close()
                log.info("stopped")

    # -- SIGHUP -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read config.toml again and take what a running daemon can (see
        :mod:`feedpub.config.changes`), between builds; a config with errors changes nothing."""
        self.loop.between_builds(self._reload)

    def _reload(self) -> None:
        from feedpub.config import load
        from feedpub.config.changes import live

        source = self.config.source
        if source is None:
            log.error("config reload: this daemon was not started from a config file")
            return
        try:
            new = load(source)
        except ConfigError as e:
            log.error("config reload failed; going on with the running config: %s", e)
            return
        config, taken, waiting = live(self.config, new)
        if waiting:
            log.warning(
                "config reload: these settings take effect at the next restart: %s",
                ", ".join(waiting),
            )
        if not taken:
            log.info("config reloaded from %s: nothing to change", source)
            self.reloads += 1
            return
        self.config = config
        self.links = Links(site=config.site, hubs=config.advertised_hubs)
        self.store.links_for = self.links.link_headers
        self._health.stale_after = config.notify.stale_after_seconds
        if self.app is not None:
            self.app.redirects = locations(config.site.base_url, config.feeds.redirects)
            if self.processes is not None:
                self.processes.reconfigure(self.links, self.app.redirects)
        old = self.builder
        self.builder = Builder(
            config, clock=self.clock, workers=old.workers, open_state=self.open_state
        )
        self.loop.builder = self.builder
        old.close()
        if self.notifier is not None:  # it sends with the new targets, from the same outbox
            self._stop_notifier()
            self._start_notifier()
        log.info("config reloaded from %s: %s", source, ", ".join(taken))
        self.reloads += 1
        self.loop.files_changed(None)  # everything again, with the new settings

    def _servers(self, app: App, sock: socket.socket, admin_sock: socket.socket | None) -> Any:
        """The server on ``sock``, with the admin listener beside it; with ``[server]
        processes`` above 1, the serving processes too (started here), and the Unix socket
        they relay ``/healthz`` and the hub to (:mod:`feedpub.server.processes`)."""
        cfg = self.config
        count = cfg.server.processes
        if count == 1:
            server = make_server(app, sock, cfg.server, answer_now=app.answer_now)
        else:
            from feedpub import logs
            from feedpub.server.processes import ServingProcesses, Setup, SharedCounts, relay_socket

            share = -(-MAX_CONNECTIONS // count)
            counts = SharedCounts(2 * share * count)
            relay_sock = relay_socket()
            level, fmt = logs.settings()
            setup = Setup(
                root=cfg.paths.output,
                limits=cfg.server,
                max_connections=share,
                links=self.links,
                redirects=app.redirects,
                hub=self.hub is not None,
                relay=relay_sock.getsockname(),
                access_log=cfg.server.access_log,
                count=self.metrics is not NO_METRICS,
                log_level=level,
                log_format=fmt,
            )
            self.processes = ServingProcesses(
                count - 1, sock, relay_sock, counts, setup, self.metrics
            )
            server = make_server(
                app,
                sock,
                cfg.server,
                max_connections=share,
                answer_now=app.answer_now,
                counts=counts,
            )
            # (the relayed requests: counted and logged by the process that took them)
            relayed = App(self.store, self.health, self.hub)
            server.beside(make_server(relayed, relay_sock, cfg.server), relay_sock)
            try:
                self.processes.start()
            except BaseException:
                self.processes.stop()
                raise
        if admin_sock is not None:
            server.beside(self._admin_server(admin_sock), admin_sock)
        return server

    def _admin_server(self, sock: socket.socket) -> Any:
        """The admin listener on ``sock``: ``/metrics`` and ``/status``, its clients held to
        the same ``[server]`` limits as the main server's (with a count of their own, so that
        readers filling the main server never lock the operator out)."""
        from feedpub.admin import AdminApp

        assert self._exposition is not None
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        log.info("admin listener (/metrics, /status) at http://%s:%d/", shown, port)
        admin = AdminApp(metrics=self._exposition, status=self.status_page)
        return make_server(admin, sock, self.config.server, max_connections=ADMIN_CONNECTIONS)

    def _check_start(self) -> None:
        """Refuse to start (a :class:`FeedpubError`: one line, exit 2) on what would make
        every build fail: no articles folder, a state store that cannot be opened (or is
        not feedpub's), an output folder that is not feedpub's to fill."""
        cfg = self.config
        if not cfg.paths.articles.is_dir():
            raise ConfigError(
                f"the articles folder {cfg.paths.articles} does not exist", key="paths.articles"
            )
        with self.open_state() as state:
            claim_output(cfg.paths.output, lambda: output_manifest(state))

    def _take_lead(self) -> None:
        """The first steps of leading, those that may fail for good (so that a daemon that
        cannot lead refuses to start, in one line): say who leads, before doing anything
        as leader; start the scheduler with the next scheduled change the state knows."""
        from feedpub.scheduler import Scheduler

        self.leadership.role = "leader"
        self.leadership.record()
        with self.open_state() as state:
            due = state.get("next_go_live")
        scheduler = Scheduler(
            self.loop.request, reconcile_seconds=self.config.schedule.reconcile_seconds
        )
        scheduler.start(datetime.fromisoformat(due) if due else None)
        self.scheduler = scheduler

    def _lead(self) -> None:
        """Start what only the leader runs: watching, scheduling, building, notifying."""
        from feedpub.watcher import Watcher

        if self.scheduler is None:
            self._take_lead()
        self.watcher = Watcher(self.config.paths.articles, self.loop.files_changed)
        self.watcher.start()
        self._start_notifier()  # pending notifications from before a restart go now
        self.loop.start()
        if self.leadership.shared:
            threading.Thread(
                target=self.leadership.keep,
                args=(self.loop.stopping,),
                name="feedpub-lead",
                daemon=True,
            ).start()

    def _shut_down(self) -> None:
        self.loop.stopping.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.notifier is not None:
            self.notifier.stop()
        self.loop.stop()
        self._stop_notifier()

    def _start_notifier(self) -> None:
        from feedpub.notify.notifier import Notifier

        self.notifier = Notifier(
            self.config, clock=self.clock, metrics=self.metrics, targets=self._targets
        )
        self._notifier_thread = threading.Thread(
            target=self.notifier.run, name="feedpub-notifier", daemon=True
        )
        self._notifier_thread.start()

    def _stop_notifier(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
        if self._notifier_thread is not None:
            self._notifier_thread.join(timeout=1.0)
        if self.notifier is not None:
            self.notifier.close()
