"""feedpub.daemon.buildloop, in process: a real Builder on a site folder, run by the loop's own
thread; the builder is wrapped only to note what it was asked, hold a build, or fail one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from feedpub.build import Builder
from feedpub.build.values import Progress
from feedpub.config import Config
from feedpub.daemon.buildloop import BuildLoop
from feedpub.errors import OutputError
from feedpub.locks import build_lock
from feedpub.model import BuildResult
from tests.conftest import Site
from tests.waiting import until

LOGGER = "feedpub.daemon.buildloop"


class Recording(Builder):
    """A real builder that notes the paths of each build it is asked for, and on demand
    holds builds at a gate or fails the next ones."""

    def __init__(self, config: Config, clock: Callable[[], datetime]) -> None:
        super().__init__(config, clock=clock, workers=0)
        self.calls: list[set[str] | None] = []
        self.started = threading.Event()
        self.gate: threading.Event | None = None  # when given: builds wait for it
        self.failures: list[Exception] = []  # raised, in turn, by the next builds

    def build(
        self,
        *,
        progress: Progress | None = None,
        paths: set[str] | None = None,
        should_stop: Callable[[], bool] | None = None,
        adopt: bool = False,
    ) -> BuildResult:
        self.calls.append(None if paths is None else set(paths))
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        if self.failures:
            raise self.failures.pop(0)
        return super().build(progress=progress, paths=paths, should_stop=should_stop, adopt=adopt)


class Harness:
    def __init__(self, site: Site, settle_ms: int) -> None:
        self.site = site
        config = site.config()
        self.builder = Recording(config, clock=lambda: site.now)
        self.published: list[BuildResult] = []
        self.publish_failures: list[Exception] = []
        self.loop = BuildLoop(
            self.builder,
            articles=config.paths.articles,
            settle_ms=settle_ms,
            clock=lambda: site.now,
            publish=self._publish,
        )

    def _publish(self, result: BuildResult) -> None:
        if self.publish_failures:
            raise self.publish_failures.pop(0)
        self.published.append(result)

    def error(self) -> str | None:
        """The loop's last error, read afresh (the build thread sets it)."""
        return self.loop.last_error

    def builds(self, n: int, timeout: float = 10.0) -> None:
        until(lambda: self.loop.builds >= n, f"{n} builds (calls: {self.builder.calls})", timeout)


@pytest.fixture
def make(site: Site) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(settle_ms: int = 30) -> Harness:
        h = Harness(site, settle_ms)
        made.append(h)
        return h

    site.article("one.md", "One", "2025-01-01T00:00:00Z")
    yield make
    for h in made:
        if h.builder.gate is not None:
            h.builder.gate.set()
        h.loop.stop()
        h.builder.close()


def _quiet(h: Harness, seconds: float = 0.3) -> None:
    """Give the loop a moment in which it must not build again."""
    n = len(h.builder.calls)
    time.sleep(seconds)
    assert h.builder.calls[n:] == []


def test_the_first_build_scans_everything_once(make: Callable[..., Harness]) -> None:
    h = make()
    h.loop.start()
    h.builds(1)
    _quiet(h)
    assert h.builder.calls == [None]
    result = h.loop.last_result
    assert result is not None and result.published == 1
    assert h.published == [result]  # published before it counts as done
    assert h.loop.last_build == h.site.now
    assert h.error() is None
    assert b"One" in h.site.read("feeds/all.atom.xml")


def test_changes_asked_for_during_a_build_make_one_build(make: Callable[..., Harness]) -> None:
    h = make()
    h.loop.start()
    h.builds(1)
    names = [f"n{i:02}.md" for i in range(20)]
    for i, name in enumerate(names):
        h.site.article(name, f"N{i}", f"2025-02-{i + 1:02}T00:00:00Z")
    h.builder.gate = threading.Event()
    h.loop.files_changed({names[0]})
    until(lambda: len(h.builder.calls) == 2, "the second build to start")
    for name in names[1:]:  # while it runs: a burst of changes, one at a time
        h.loop.files_changed({name})
    h.builder.gate.set()
    h.builds(3)
    _quiet(h)
    assert h.builder.calls == [None, {names[0]}, set(names[1:])]
    assert h.loop.last_result is not None and h.loop.last_result.published == 21


def test_a_file_still_being_written_is_built_once_it_settles(
    make: Callable[..., Harness],
) -> None:
    h = make(settle_ms=300)
    h.loop.start()
    h.builds(1)
    h.site.article("ready.md", "Ready", "2025-01-02T00:00:00Z")
    slow = h.site.article("slow.md", "Slow", "2025-01-03T00:00:00Z", body="line 0")
    done = threading.Event()

    def keep_writing() -> None:  # a slow copy: more bytes every 20 ms, for ~0.4 s
        for i in range(1, 21):
            time.sleep(0.02)
            with slow.open("a", encoding="utf-8") as f:
                f.write(f"line {i}\n")
        done.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        h.loop.files_changed({"ready.md", "slow.md"})
        until(lambda: any(c and "slow.md" in c for c in h.builder.calls), "slow.md's build")
        assert done.is_set()  # not built while it was still changing
    finally:
        writer.join()
    h.builds(3)
    _quiet(h)
    # the settled file did not wait for the other; the other was built once, whole
    assert h.builder.calls == [None, {"ready.md"}, {"slow.md"}]
    assert b"line 20" in h.site.read("feeds/all.atom.xml")


def test_a_deleted_article_is_built_at_once(make: Callable[..., Harness]) -> None:
    h = make(settle_ms=200)
    h.loop.start()
    h.builds(1)
    (h.site.articles / "one.md").unlink()  # (nothing left to settle)
    h.loop.files_changed({"one.md"})
    h.builds(2)
    assert h.builder.calls == [None, {"one.md"}]
    assert h.loop.last_result is not None and h.loop.last_result.published == 0
    assert b"One" not in h.site.read("feeds/all.atom.xml")


def test_a_failed_build_is_retried_with_its_changes(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    h.loop.start()
    h.builds(1)
    h.builder.failures.append(OutputError("no space left on device", path=h.site.output))
    h.site.article("two.md", "Two", "2025-01-02T00:00:00Z")
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        h.loop.files_changed({"two.md"})
        until(lambda: "build failed: " in caplog.text, "the failure to be logged")
    assert "no space left on device" in str(h.error())
    # another change while the loop waits to try again: both are in the next build
    h.site.article("three.md", "Three", "2025-01-03T00:00:00Z")
    h.loop.files_changed({"three.md"})
    h.builds(2)
    assert h.builder.calls == [None, {"two.md"}, {"two.md", "three.md"}]
    assert h.error() is None
    assert h.loop.last_result is not None and h.loop.last_result.published == 3


def test_an_unexpected_failure_of_the_first_build_scans_again(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    h.builder.failures.append(RuntimeError("boom"))
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        h.loop.start()
        until(lambda: h.error() is not None, "the failure")
        assert h.error() == "RuntimeError: boom"
        h.builds(1)
    assert "build failed unexpectedly" in caplog.text
    assert h.builder.calls == [None, None]
    assert h.error() is None


def test_stop_during_a_build_returns_promptly(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    # a one-shot build holds the lock: the loop's first build waits for it, polling for stop
    with build_lock(h.site.config().paths.state), caplog.at_level(logging.INFO, logger=LOGGER):
        h.loop.start()
        h.builder.started.wait(10)
        time.sleep(0.1)  # (inside the build, waiting for the lock)
        t0 = time.monotonic()
        h.loop.stop(timeout=20)
        assert time.monotonic() - t0 < 5  # the thread ended: join did not wait 20 s
    assert "build stopped for shutdown" in caplog.text
    assert h.loop.builds == 0 and h.error() is None
    assert h.builder.calls == [None]


def test_stop_while_waiting_to_retry_returns_promptly(make: Callable[..., Harness]) -> None:
    h = make()
    h.builder.failures.append(OutputError("read-only file system", path=h.site.output))
    h.loop.start()
    until(lambda: h.error() is not None, "the failure")
    t0 = time.monotonic()
    h.loop.stop(timeout=20)
    assert time.monotonic() - t0 < 5
    assert h.builder.calls == [None]


def test_go_live_replans_without_a_scan_and_reconcile_scans(make: Callable[..., Harness]) -> None:
    h = make()
    h.site.article("later.md", "Later", "2025-06-01T13:00:00Z")  # an hour after the clock
    h.loop.start()
    h.builds(1)
    first = h.loop.last_result
    assert first is not None and first.published == 1
    assert first.next_go_live is not None and first.next_go_live.isoformat().startswith(
        "2025-06-01T13:00"
    )
    h.site.now = first.next_go_live
    h.loop.request("go-live")
    h.builds(2)
    assert h.builder.calls == [None, set()]  # no file looked at
    assert h.loop.last_result is not None and h.loop.last_result.published == 2
    h.loop.request("reconcile")
    h.builds(3)
    assert h.builder.calls == [None, set(), None]
    h.loop.files_changed(None)  # the watcher could not name the files: a scan too
    h.builds(4)
    assert h.builder.calls[3] is None


def test_each_problem_and_skipped_file_is_logged_once(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    s = h.site
    s.write("broken.md", "---\ntitle: [unclosed\n---\nx\n")
    (s.articles / "out.md").symlink_to(s.root / "config.toml")

    def said(text: str) -> int:
        return sum(text in r.getMessage() for r in caplog.records if r.name == LOGGER)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        h.loop.start()
        h.builds(1)
        assert said("broken.md:2: error: front matter") == 1
        assert said("out.md: skipped: a symlink leading outside") == 1
        s.article("one.md", "One, edited", "2025-01-01T00:00:00Z")
        h.loop.files_changed({"one.md"})
        h.builds(2)
        h.loop.request("reconcile")
        h.builds(3)
        h.loop.files_changed({"out.md"})  # looked at again, still the same
        h.builds(4)
        assert said("broken.md:2: error: front matter") == 1
        assert said("out.md: skipped") == 1
        assert len(h.loop.skipped) == 1
        s.article("broken.md", "Mended", "2025-01-02T00:00:00Z")
        h.loop.files_changed({"broken.md"})
        h.builds(5)
        s.write("broken.md", "---\ntitle: [unclosed\n---\nx\n")
        h.loop.files_changed({"broken.md"})
        h.builds(6)
        assert said("broken.md:2: error: front matter") == 2  # gone, then back: said again
        assert said("out.md: skipped") == 1


def test_the_loop_outlives_a_failing_publish(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    h.publish_failures.append(RuntimeError("the served files could not be swapped"))
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        h.loop.start()
        until(lambda: "carrying on" in caplog.text, "the loop to log the failure")
    h.loop.files_changed({"one.md"})
    until(lambda: len(h.published) == 1, "the next build's publication")
    assert h.loop.builds == 1
    assert h.builder.calls == [None, {"one.md"}]


def test_the_build_log_names_the_changed_file_the_feeds_and_what_went_live(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    h.site.article("later.md", "Later", "2025-06-01T13:00:00Z")  # an hour after the clock
    with caplog.at_level(logging.INFO, logger=LOGGER):
        h.loop.start()
        h.builds(1)
        h.site.article("one.md", "One, edited", "2025-01-01T00:00:00Z")
        h.loop.files_changed({"one.md"})
        h.builds(2)
        first = h.loop.last_result
        assert first is not None and first.next_go_live is not None
        h.site.now = first.next_go_live
        h.loop.request("go-live")
        h.builds(3)
    lines = [r for r in caplog.records if r.name == LOGGER and r.getMessage().startswith("build (")]
    assert len(lines) == 3
    assert lines[0].getMessage().startswith("build (full scan; 6 feeds changed: feeds/all.")
    edited = lines[1].getMessage()
    assert edited.startswith("build (1 changed: one.md; 6 feeds changed: feeds/all.")
    assert lines[1].__dict__["paths"] == ["one.md"]
    live = lines[2].getMessage()
    assert live.startswith("build (went live: later.md; 6 feeds changed"), live
    assert lines[2].__dict__["went_live"] == ["later.md"]
    assert lines[2].__dict__["duration_ms"] >= 0
