"""A `feedpub run` process for tests: start it, wait for it, talk to it, stop it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import feedparser
import requests

REPO = Path(__file__).parent.parent


STARTED: list[subprocess.Popen[str]] = []  # every daemon a test started: none outlives it
LOGS: list[IO[str]] = []  # and their log files


def kill_leftovers() -> None:
    """Kill every daemon a test started and left running (a test that failed half way):
    one left running would hold the PostgreSQL leader lock, and every later daemon on the
    same database would stand by. Called after every test (tests/conftest.py)."""
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    STARTED.clear()
    for log in LOGS:
        log.close()
    LOGS.clear()


class Daemon:
    count = 0

    def __init__(self, root: Path) -> None:
        self.root = root
        self.proc: subprocess.Popen[str] | None = None
        self.base = ""
        Daemon.count += 1
        self.log_path = root / f"daemon-{Daemon.count}.log"

    def start(self, *extra: str, wait: bool = True) -> Daemon:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        self.log = open(self.log_path, "a")  # noqa: SIM115
        LOGS.append(self.log)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedpub", "--log-level", "debug", "run", "--port", "0", *extra],
            cwd=self.root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        STARTED.append(self.proc)
        if wait:
            port = self.wait_for(r"on http://127\.0\.0\.1:(\d+)/", 20)
            self.base = f"http://127.0.0.1:{port}"
            self.until(lambda: int(str(self.health()["builds"])) >= 1, "the first build")
        return self

    def logs(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.logs())
            if m:
                return m.group(1)
            assert self.proc is not None
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the log:\n{self.logs()}")

    def until(self, check: Callable[[], bool], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (requests.RequestException, KeyError, AssertionError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.logs()}")

    def get(self, path: str, **kw: object) -> requests.Response:
        return requests.get(self.base + path, timeout=5, **kw)  # type: ignore[arg-type]

    def health(self) -> dict[str, object]:
        data: dict[str, object] = self.get("/healthz").json()
        return data

    def titles(self, feed: str = "all") -> list[str]:
        parsed = feedparser.parse(self.get(f"/feeds/{feed}.atom.xml").content)
        assert not parsed.bozo
        return [e.title for e in parsed.entries]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()


def article(root: Path, name: str, title: str, date: str, cats: str = "[News]") -> Path:
    path = root / "articles" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\ntitle: {title}\ndate: {date}\ncategories: {cats}\n---\nBody of {title}.\n"
    )
    return path
