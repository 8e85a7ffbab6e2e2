"""Bounded waits for in-process tests of threads: poll a condition until a deadline (the
machine is shared and noisy, so the deadlines are generous and never asserted on)."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Return as soon as ``check()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)
