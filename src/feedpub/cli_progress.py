"""``feedpub build``'s progress on a terminal (the CLI's; the build only reports
``(stage, done, total)``, see :data:`feedpub.build.values.Progress`).

While a stage runs, one live line (``parse: 4,200/10,000 files, 4,760/s, 1 s left``) is
redrawn in place, clipped to the terminal's width so it never wraps; when the stage ends it is
erased and one line that stays is written (``parse: 10,000 files in 2.1 s (4,760/s)``). A log
record written meanwhile erases the live line first and redraws it after
(:meth:`StageProgress.around_logging`), so the two never share a line. Anywhere but a
terminal, or with ``-q``, nothing is written at all.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

ERASE_LINE = "\r\x1b[K"  # to the line's start, then erase to its end
REDRAW_SECONDS = 0.1  # the live line is redrawn at most this often


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{math.ceil(seconds)} s"
    minutes, rest = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {rest:02d} s"


class StageProgress:
    """The build's progress callback, and what it shows on ``stream`` (``live``: a terminal
    that wants it; otherwise every call does nothing)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.live = live
        self._clock = clock
        self.lock = threading.RLock()
        self._stage: str | None = None
        self._start = 0.0
        self._done = 0
        self._total = 0
        self._drawn_at: float | None = None
        self._shown = False  # the live line is on the screen

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.live:
            return
        with self.lock:
            now = self._clock()
            if stage != self._stage:
                self._erase()  # (a stage that never said it ended: the build left it)
                self._stage, self._start, self._drawn_at = stage, now, None
            self._done, self._total = done, total
            if done >= total:
                self._erase()
                elapsed = now - self._start
                rate = f" ({total / elapsed:,.0f}/s)" if elapsed >= 0.05 else ""
                self._write(f"{stage}: {total:,} files in {elapsed:.1f} s{rate}\n")
                self._stage = None
            elif self._drawn_at is None or now - self._drawn_at >= REDRAW_SECONDS:
                self._draw(now)

    def close(self) -> None:
        """Erase the live line (a build that ended in a stage, or was stopped)."""
        with self.lock:
            self._erase()
            self._stage = None

    @contextlib.contextmanager
    def around_logging(self) -> Iterator[None]:
        """While inside: every root logging handler erases the live line before it writes a
        record and redraws it after."""
        if not self.live:
            yield
            return
        root = logging.getLogger()
        before = list(root.handlers)
        root.handlers[:] = [_AroundProgress(h, self) for h in before]
        try:
            yield
        finally:
            root.handlers[:] = before

    # -- drawing (under the lock) ------------------------------------------------------------

    def _draw(self, now: float) -> None:
        stage, done, total = self._stage, self._done, self._total
        elapsed = now - self._start
        text = f"{stage}: {done:,}/{total:,} files"
        if done and elapsed > 0:
            rate = done / elapsed
            text += f", {rate:,.0f}/s, {_duration((total - done) / rate)} left"
        self._write(ERASE_LINE + text[: self._width() - 1])
        self._shown = True
        self._drawn_at = now

    def redraw(self) -> None:
        with self.lock:
            if self.live and self._stage is not None and not self._shown:
                self._draw(self._clock())

    def erase(self) -> None:
        with self.lock:
            self._erase()

    def _erase(self) -> None:
        if self._shown:
            self._write(ERASE_LINE)
            self._shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # (a terminal gone: the build goes on)
            self.live = False

    def _width(self) -> int:
        try:
            return max(20, os.get_terminal_size(self.stream.fileno()).columns)
        except (OSError, ValueError):
            return 80


class _AroundProgress(logging.Handler):
    """A logging handler that lets ``inner`` write a record with the live line out of the
    way: erased before, redrawn after, under the progress display's lock."""

    def __init__(self, inner: logging.Handler, progress: StageProgress) -> None:
        super().__init__(inner.level)
        self.inner = inner
        self.progress = progress
        self.pid = os.getpid()

    def emit(self, record: logging.LogRecord) -> None:
        if os.getpid() != self.pid:  # a forked worker: it knows nothing of the line now
            with contextlib.suppress(OSError, ValueError):
                self.progress.stream.write(ERASE_LINE)  # (the next redraw puts it back)
            self.inner.handle(record)
            return
        with self.progress.lock:
            self.progress.erase()
            self.inner.handle(record)
            self.progress.redraw()
