"""File events → "these article paths changed". No business rules here.

watchfiles (Rust's ``notify``: inotify on Linux) does the watching and groups bursts: it yields
once events have paused for ``step`` ms, at most every ``debounce`` ms, so a ``git pull`` of 500
files arrives as one batch. Events on anything that is not an article file name (a folder moved
or deleted, say) ask for a full rescan, since their articles are not named one by one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from feedpub.articles.discover import is_article_relpath, is_scratch_name

log = logging.getLogger(__name__)

# A set of article paths (relative, POSIX), or None for "rescan everything".
ChangeCallback = Callable[[set[str] | None], None]


class Watcher:
    """Watches the articles folder in a thread and reports changes to ``on_change``."""

    def __init__(
        self,
        root: Path,
        on_change: ChangeCallback,
        *,
        step_ms: int = 30,
        debounce_ms: int = 1000,
    ) -> None:
        self.root = root.resolve()
        self.on_change = on_change
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feedpub-watcher", daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _is_root(self, raw: str) -> bool:
        return Path(os.path.realpath(os.path.dirname(raw))) / os.path.basename(raw) == self.root

    def _classify(self, paths: set[str]) -> set[str] | None:
        articles: set[str] = set()
        for raw in paths:
            # the folder resolved, not the file: a symlinked article is reported under its
            # own name (not its target's), and a symlink loop is just a name
            where = Path(os.path.realpath(os.path.dirname(raw))) / os.path.basename(raw)
            try:
                rel = where.relative_to(self.root).as_posix()
            except ValueError:
                continue
            if rel == ".":
                return None
            if is_article_relpath(rel):
                articles.add(rel)
            elif not any(is_scratch_name(part) for part in rel.split("/")):
                return None  # a folder, most likely: rescan to find what moved with it
        return articles

    def _run(self) -> None:
        from watchfiles import watch

        started = missing = False
        while not self._stop.is_set():
            try:
                if not self.root.is_dir():  # the folder is gone (being replaced?): wait for it
                    if not missing:
                        log.error("%s is not there; watching it once it is", self.root)
                    missing = True
                    self._stop.wait(0.2)
                    continue
                missing = False
                if started:  # what happened while no watch was on: the build looks at all
                    self.on_change(None)
                started = True
                self.ready.set()
                for changes in watch(
                    self.root,
                    watch_filter=None,
                    debounce=self.debounce_ms,
                    step=self.step_ms,
                    stop_event=self._stop,
                    rust_timeout=1000,
                    yield_on_timeout=False,
                    raise_interrupt=False,
                ):
                    raw = {path for _, path in changes}
                    found = self._classify(raw)
                    log.debug("file events: %s", "rescan" if found is None else sorted(found))
                    if found is None or found:
                        self.on_change(found)
                    if any(self._is_root(p) for p in raw):
                        # the folder itself went or was replaced (a deployment swapping in
                        # a new one): the watch is on the old one; watch the folder anew
                        log.info("%s was replaced; watching it again", self.root)
                        break
            except Exception:  # the folder vanished, a watch limit was hit...: keep trying
                log.exception("watching %s failed; retrying in 1 s", self.root)
                self._stop.wait(1.0)
