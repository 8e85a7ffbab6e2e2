"""The preview's parts put together: a private folder, the builder, the build loop, the
watcher and the scheduler the daemon uses, the server, the event streams; started and
stopped in order.

Threads: the watcher and the scheduler only ask for builds; the build loop runs them and,
when one changed the site, hands its files to the server and tells the open pages; the
main thread runs the server. Nothing here decides what a feed contains."""

from __future__ import annotations

import logging
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feedpub.build import Builder
from feedpub.config import Config
from feedpub.daemon.buildloop import BuildLoop
from feedpub.errors import ConfigError
from feedpub.model import PUBLISHED_ONLY, BuildResult, Showing
from feedpub.preview.app import PreviewApp, no_hub
from feedpub.preview.events import Events
from feedpub.preview.site import local_base_url, preview_config, site_folder
from feedpub.redirects import locations
from feedpub.render import Links
from feedpub.server import App, Store, bind, make_server

if TYPE_CHECKING:
    from feedpub.scheduler import Scheduler
    from feedpub.watcher import Watcher

log = logging.getLogger(__name__)

# what stops the preview, before and while it serves (SIGHUP: the terminal it ran in closed;
# it stops and removes its folder all the same)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Preview:
    """``feedpub serve``: build the site into a private temporary folder (removed when it
    stops), serve it at ``host``:``port`` with live reload, rebuild on every save, until
    SIGTERM or SIGINT."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime],
        host: str = "127.0.0.1",
        port: int = 8000,
        showing: Showing = PUBLISHED_ONLY,
        workers: int | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.host = host
        self.port = port
        self.showing = showing
        self.workers = workers
        self.events = Events()
        self.loop: BuildLoop | None = None

    def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Build, then serve until SIGTERM or SIGINT; ``on_ready`` is called with the URL
        to open once the first build is served."""
        if not self.config.paths.articles.is_dir():
            raise ConfigError(
                f"the articles folder {self.config.paths.articles} does not exist",
                key="paths.articles",
            )
        stop = threading.Event()  # a signal before the server is up stops too

        def on_signal(signum: int, frame: object) -> None:
            stop.set()
            if self.loop is not None:
                self.loop.stopping.set()  # (the first build is cancelled)

        previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
        try:
            with tempfile.TemporaryDirectory(prefix="feedpub-serve-") as folder:
                self._run(Path(folder), stop, on_ready)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _run(
        self, folder: Path, stop: threading.Event, on_ready: Callable[[str], None] | None
    ) -> None:
        from feedpub.scheduler import Scheduler
        from feedpub.watcher import Watcher

        sock = bind(self.host, self.port, where="--host/--port")
        watcher: Watcher | None = None
        scheduler: Scheduler | None = None
        try:
            folder_path = site_folder(self.config)  # (served where it will be published)
            url = local_base_url(self.host, sock.getsockname()[1], folder_path)
            cfg = preview_config(self.config, base_url=url, folder=folder)
            links = Links(site=cfg.site, hubs=cfg.advertised_hubs)
            store = Store(cfg.paths.output, links.link_headers)

            def publish(result: BuildResult) -> None:
                """Serve a build's files, then tell the open pages."""
                if result.written or result.removed:
                    store.update(result.written, result.removed)
                    self.events.published()
                due = (result.next_go_live, result.next_expiry)
                timer.go_live_at(min((t for t in due if t is not None), default=None))

            builder = Builder(cfg, clock=self.clock, workers=self.workers, showing=self.showing)
            loop = self.loop = BuildLoop(
                builder,
                articles=cfg.paths.articles,
                settle_ms=cfg.schedule.settle_ms,
                clock=self.clock,
                publish=publish,
            )
            # (articles going live or expiring while the preview runs: rebuilt then)
            timer = scheduler = Scheduler(
                loop.request, reconcile_seconds=cfg.schedule.reconcile_seconds
            )
            if stop.is_set():
                loop.stopping.set()
            log.info("building a preview of %s in %s", cfg.paths.articles, folder)
            try:
                scheduler.start()
                loop.build(None)  # (the first build, here: the URL is shown once it is served)
                if loop.stopping.is_set():
                    return
                watcher = Watcher(cfg.paths.articles, loop.files_changed)
                watcher.start()
                loop.start()  # (scans once more: what was saved while the watch began)
                self._serve(cfg, sock, store, stop, url, on_ready, folder_path)
            finally:
                log.info("shutting down")
                loop.stop()
                builder.close()
        finally:
            if watcher is not None:
                watcher.stop()
            if scheduler is not None:
                scheduler.shutdown()
            sock.close()
            log.info("stopped; %s removed", folder)

    def _serve(
        self,
        cfg: Config,
        sock: socket.socket,
        store: Store,
        stop: threading.Event,
        url: str,
        on_ready: Callable[[str], None] | None,
        folder: str,
    ) -> None:
        app = App(
            store,
            self._health,
            no_hub if cfg.hub.enabled else None,
            locations(cfg.site.base_url, cfg.feeds.redirects),
        )
        server = make_server(PreviewApp(app, self.events, folder=folder), sock, cfg.server)
        server.early_stop = stop
        server.before_shutdown = self.events.close
        server.stop_signals = STOP_SIGNALS
        log.info("serving a preview on %s", url)
        if on_ready is not None:
            on_ready(url)
        server.run(sockets=[sock])

    def _health(self) -> Mapping[str, object]:
        loop = self.loop
        r = loop.last_result if loop is not None else None
        return {
            "status": "ok" if loop is not None and loop.last_error is None else "degraded",
            "role": "preview",
            "builds": loop.builds if loop is not None else 0,
            "site": self.events.current,
            "articles": r.articles if r else None,
            "published": r.published if r else None,
            "article_errors": [str(p) for p in r.errors] if r else None,
            "last_error": loop.last_error if loop is not None else None,
            "event_streams": self.events.streams,
        }
