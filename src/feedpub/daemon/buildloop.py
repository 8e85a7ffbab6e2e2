"""The build thread: the watcher and the scheduler only *ask* for builds; this thread runs
them, one at a time (feedgen's RSS rendering is not thread-safe, and a build owns the state
store), waits for files still being written, retries a failed build later, and logs what
each build did (each problem and skipped file once, not on every rebuild)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from feedpub.build import Builder
from feedpub.errors import BuildCancelled, FeedpubError
from feedpub.logs import fields, listing
from feedpub.metrics import NO_METRICS, Metrics
from feedpub.model import BuildResult

log = logging.getLogger(__name__)


class BuildLoop:
    """Runs builds on its own thread when asked; ``publish`` is called with each build's
    result before the build counts as done (the daemon serves the new files then)."""

    def __init__(
        self,
        builder: Builder,
        *,
        articles: Path,
        settle_ms: int,
        clock: Callable[[], datetime],
        publish: Callable[[BuildResult], None],
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.builder = builder
        self._metrics = metrics
        self._articles = articles
        self._settle_ms = settle_ms
        self._clock = clock
        self._publish = publish
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.stopping = threading.Event()
        self._pending: set[str] = set()
        self._full = True  # the first build scans everything: catch up on what happened while down
        self._replan = False  # plan again without looking at files (a go-live time came)
        self._calls: list[Callable[[], None]] = []  # to run between builds (a config reload)
        self._thread = threading.Thread(target=self._work, name="feedpub-builder", daemon=True)
        self.last_result: BuildResult | None = None
        self.last_build: datetime | None = None
        self.last_error: str | None = None
        self.builds = 0
        self._reported: set[str] = set()
        self.skipped: dict[str, str] = {}  # path -> the skipped file's line, as logged

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

    def between_builds(self, call: Callable[[], None]) -> None:
        """Run ``call`` in the build thread before the next build (at once if the thread
        does not run: a standby builds nothing)."""
        if not self._thread.is_alive():
            call()
            return
        with self._lock:
            self._calls.append(call)
        self._wake.set()

    # -- the thread -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 4.0) -> None:
        self.stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def _settled(self, paths: set[str]) -> set[str]:
        """Of ``paths``, those still changing (a copy or an editor's save in progress)."""

        def sig(p: str) -> tuple[int, int] | None:
            try:
                st = os.stat(self._articles / p)
            except OSError:
                return None
            return (st.st_size, st.st_mtime_ns)

        before = {p: sig(p) for p in paths}
        time.sleep(self._settle_ms / 1000)
        return {p for p in paths if sig(p) != before[p]}

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                self._step()
            except Exception:  # the build thread must outlive anything that goes wrong
                log.exception("the build loop failed; carrying on")
                self.stopping.wait(1.0)

    def _step(self) -> None:
        """Wait for a request, then run one build."""
        self._wake.wait(timeout=1.0)
        if self.stopping.is_set():
            return
        self._wake.clear()
        with self._lock:
            calls, self._calls = self._calls, []
        for call in calls:
            try:
                call()
            except Exception:  # (a reload that failed leaves the builds it wanted to come)
                log.exception("a task between builds failed")
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
        self.build(None if full else paths)

    def build(self, paths: set[str] | None) -> None:
        """One build (of ``paths``, or of everything), in the calling thread."""
        started = time.monotonic()
        log.debug("building: %s", "everything" if paths is None else f"{len(paths)} changed files")
        try:
            result = self.builder.build(paths=paths, should_stop=self.stopping.is_set)
        except BuildCancelled:
            log.info("build stopped for shutdown")
            return
        except FeedpubError as e:
            self.last_error = str(e)
            self._metrics.build("failed", time.monotonic() - started)
            log.error("build failed: %s", e)
            self._retry_later(paths)
            return
        except Exception as e:  # never let one build kill the daemon
            self.last_error = f"{type(e).__name__}: {e}"
            self._metrics.build("failed", time.monotonic() - started)
            log.exception("build failed unexpectedly")
            self._retry_later(paths)
            return
        self._metrics.build("ok", time.monotonic() - started)
        try:
            self._publish(result)  # (served before /healthz may say the builds work again)
        finally:
            self.last_error = None
        self.last_build = self._clock()
        self.last_result = result
        current = {str(p) for p in result.problems}
        for text in sorted(current - self._reported):
            log.warning("%s", text)
        self._reported = current
        self._report_skipped(result, paths)
        if result.written or result.removed or paths is None:
            _log_build(result, paths, ms=round((time.monotonic() - started) * 1000))
        self.builds += 1  # last: whoever sees the count sees this build's result, time and logs

    def _report_skipped(self, result: BuildResult, paths: set[str] | None) -> None:
        """Log each skipped file once, when it first shows (or its reason changes), not on
        every rebuild. A build told which paths changed looked at those only: what it says
        about them replaces what we knew; the rest stands until the next full scan."""
        now = {s.path: str(s) for s in result.skipped}
        if paths is None:
            known = now
        else:
            known = {p: t for p, t in self.skipped.items() if p not in paths} | now
        for path in sorted(known):
            if self.skipped.get(path) != known[path]:
                log.warning("%s", known[path])
        self.skipped = known

    def _retry_later(self, paths: set[str] | None) -> None:
        """A failed build loses nothing: its changes are asked for again after a pause."""
        with self._lock:
            if paths is None:
                self._full = True
            else:
                self._pending |= paths
                self._replan = True  # a go-live (or any) replan comes back too
        self.stopping.wait(2.0)
        self._wake.set()


def _log_build(result: BuildResult, paths: set[str] | None, *, ms: int) -> None:
    """One line for a build that changed something: the files that changed (or "all" for
    a full scan), the articles that went live, the feeds written, the counts."""
    changed = sorted(paths) if paths is not None else []
    feeds = [urlsplit(u).path.lstrip("/") for u in result.changed_feeds]
    what = ["full scan"] if paths is None else []
    if changed:
        what.append(f"{len(changed)} changed: {listing(changed)}")
    if result.went_live:
        what.append(f"went live: {listing(result.went_live)}")
    if feeds:
        what.append(f"{len(feeds)} feeds changed: {listing(feeds, most=3)}")
    log.info(
        "build (%s): %d articles, %d files written, %d removed, %d problems, %d ms",
        "; ".join(what) or "no file changed",
        result.articles,
        len(result.written),
        len(result.removed),
        len(result.problems),
        ms,
        extra=fields(
            event="build",
            paths=changed or None,
            feeds=feeds or None,
            went_live=list(result.went_live) or None,
            count=len(result.written),
            duration_ms=ms,
        ),
    )
