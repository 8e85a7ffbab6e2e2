"""A real headless Chromium for the tests that check what a browser shows (Debian's package).

``dump_dom(url)`` loads a page, runs its scripts and returns the document as the browser
sees it. ``Browser(url)`` keeps a page open (for pages that change themselves, such as the
preview's live reload); ``Browser.pages()`` asks Chromium's DevTools HTTP endpoint which
pages are open, with their current URL and title, so no WebSocket client is needed.

Without Chromium these tests skip locally and fail in CI (``FEEDPUB_REQUIRE_ALL``);
``.ci/run`` installs it. The flags keep Chromium off the network (this machine's is closed,
and background fetches would be refused many at a time) and out of the user's profile.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")


def dump_dom(url: str, *, budget_ms: int = 3000, timeout: float = 60.0) -> str:
    """The document after the page's scripts ran (up to ``budget_ms`` of virtual time)."""
    with tempfile.TemporaryDirectory(prefix="feedpub-chromium-") as profile:
        done = subprocess.run(
            [
                chromium_binary(),
                *_FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise AssertionError(
            f"chromium exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}"
        )
    return done.stdout.decode("utf-8")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Browser:
    """One headless Chromium with ``url`` open, until closed (a context manager)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self._profile = tempfile.mkdtemp(prefix="feedpub-chromium-")
        self.port = _free_port()
        self._log = Path(self._profile) / "chromium.log"
        with self._log.open("wb") as log:
            self._proc = self._start(url, log)
        self.until(lambda: any(p["url"] == url for p in self.pages()), "the page opens", timeout)

    def _start(self, url: str, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                chromium_binary(),
                *_FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-address=127.0.0.1",
                f"--remote-debugging-port={self.port}",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )

    def pages(self) -> list[dict[str, Any]]:
        """The open pages: each with ``url`` and ``title`` as the browser has them now."""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/json/list", timeout=5
            ) as answer:
                listed: list[dict[str, Any]] = json.load(answer)
        except OSError:
            return []
        return [p for p in listed if p.get("type") == "page"]

    def until(self, ready: Any, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise AssertionError(f"chromium exited while waiting for {what}: {self.log()}")
            if ready():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; pages: {self.pages()}")

    def log(self) -> str:
        return self._log.read_text(errors="replace")[-2000:]

    def close(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
