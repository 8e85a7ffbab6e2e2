"""`feedpub run` as a real process: files in, feeds out over HTTP, read back with feedparser."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
import requests

from tests.conftest import BASE_CONFIG, without_placeholder_warning
from tests.daemon_helpers import REPO, Daemon, article


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(
        BASE_CONFIG + "\n[schedule]\nreconcile_seconds = 3600\n", encoding="utf-8"
    )
    return tmp_path


@pytest.fixture
def daemon(root: Path) -> Iterator[Daemon]:
    d = Daemon(root)
    yield d
    if d.proc is not None and d.proc.poll() is None:
        d.stop(signal.SIGKILL)


def test_files_in_feeds_out(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    assert daemon.titles() == ["One"]

    # a new article, in a new category
    article(root, "two.md", "Two", "2025-01-02T00:00:00Z", "[Fresh]")
    daemon.until(lambda: daemon.titles() == ["Two", "One"], "the new article")
    assert daemon.titles("fresh") == ["Two"]

    # an editor's save: write a temporary file, then rename it over the article
    tmp = root / "articles" / ".one.md.swp"
    tmp.write_text("---\ntitle: One, edited\ndate: 2025-01-01T00:00:00Z\n---\nNew body.\n")
    tmp.replace(root / "articles" / "one.md")
    daemon.until(lambda: daemon.titles() == ["Two", "One, edited"], "the edit")

    # a move keeps the id
    before = feedparser.parse(daemon.get("/feeds/all.atom.xml").content).entries
    (root / "articles" / "sub").mkdir()
    (root / "articles" / "two.md").rename(root / "articles" / "sub" / "two.md")
    time.sleep(0.5)
    daemon.until(lambda: daemon.titles() == ["Two", "One, edited"], "the move")
    after = feedparser.parse(daemon.get("/feeds/all.atom.xml").content).entries
    assert [e.id for e in after] == [e.id for e in before]

    # a deletion leaves the feeds; the category keeps a valid, empty feed
    (root / "articles" / "sub" / "two.md").unlink()
    daemon.until(lambda: daemon.titles() == ["One, edited"], "the deletion")
    assert daemon.titles("fresh") == []
    assert daemon.stop() == 0


def test_conditional_get_round_trip(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    first = daemon.get("/feeds/all.rss.xml")
    assert first.headers["content-type"] == "application/rss+xml; charset=utf-8"
    again = daemon.get("/feeds/all.rss.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    since = daemon.get(
        "/feeds/all.rss.xml", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status_code == 304
    article(root, "two.md", "Two", "2025-01-02T00:00:00Z")
    daemon.until(
        lambda: (
            daemon.get(
                "/feeds/all.rss.xml", headers={"If-None-Match": first.headers["etag"]}
            ).status_code
            == 200
        ),
        "a changed ETag",
    )
    gz = daemon.get("/feeds/all.rss.xml", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert b"<title>Two</title>" in gz.content  # requests decompresses
    assert daemon.get("/feeds/all.json").headers["link"] == (
        '<https://example.org/feeds/all.json>; rel="self"'
    )
    assert daemon.get("/nope").status_code == 404


def test_future_article_goes_live_on_time(root: Path, daemon: Daemon) -> None:
    article(root, "now.md", "Now", "2025-01-01T00:00:00Z")
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    article(root, "later.md", "Later", when.isoformat())
    daemon.start()
    assert daemon.titles() == ["Now"]
    assert daemon.health()["next_go_live"] == when.isoformat()
    daemon.until(lambda: daemon.titles() == ["Later", "Now"], "go-live", timeout=10)
    live_at = datetime.now(UTC)
    assert live_at - when < timedelta(seconds=2.5)
    assert daemon.health()["next_go_live"] is None


def test_broken_file_while_serving(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    (root / "articles" / "broken.md").write_bytes(b"---\ntitle: [\n---\n\x00\xff")
    daemon.until(lambda: daemon.health()["article_problems"] == 1, "the problem report")
    assert daemon.titles() == ["One"]
    assert daemon.proc is not None
    assert daemon.proc.poll() is None
    assert "broken.md" in daemon.logs()
    assert "Traceback" not in daemon.logs()
    assert daemon.stop() == 0


def test_second_daemon_refuses_and_status_works(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    second = subprocess.run(
        [sys.executable, "-m", "feedpub", "run", "--port", "0"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert second.returncode == 2
    assert "another feedpub daemon" in second.stderr
    status = subprocess.run(
        [sys.executable, "-m", "feedpub", "status"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert status.returncode == 0
    # in prose: where the daemon serves, its last build (one that changed nothing too)
    assert daemon.proc is not None
    assert f"daemon: running (pid {daemon.proc.pid}) at {daemon.base}/" in status.stdout
    assert "1 published, 0 scheduled" in status.stdout
    assert "last build: " in status.stdout and "last change published: " in status.stdout
    assert "{" not in status.stdout  # (no Python dict)
    assert daemon.stop() == 0


def test_sigterm_mid_build_exits_cleanly(root: Path, daemon: Daemon) -> None:
    for i in range(6000):
        article(
            root, f"a/{i:05}.md", f"Article {i}", f"2024-01-01T00:00:{i % 60:02}Z", f"[C{i % 7}]"
        )
    daemon.start(wait=False)
    daemon.wait_for(r"(serving) ", 20)
    time.sleep(0.2)  # the first build is under way
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 5
    # the state is consistent: a restart finishes the job
    restarted = Daemon(root)
    try:  # (the first build writes a page per article and every archive: 7,000 files)
        restarted.start(wait=False)
        port = restarted.wait_for(r"on http://127\.0\.0\.1:(\d+)/", 20)
        restarted.base = f"http://127.0.0.1:{port}"
        restarted.until(lambda: len(restarted.titles()) == 5, "a complete build after restart", 60)
    finally:
        assert restarted.stop() == 0


def test_json_logs(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "--log-format", "json", "run", "--port", "0"],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    first = json.loads(line)  # (the config's warning first: this site is on example.org)
    assert first["level"] == "warning" and ": warning: site.base_url: " in first["message"]
    line = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    proc.wait(10)
    proc.stderr.close()
    record = json.loads(line)
    assert record["level"] == "info"
    assert "serving" in record["message"]
    assert proc.returncode == 0


def test_request_head_is_bounded(root: Path, daemon: Daemon) -> None:
    import socket

    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    host, port = daemon.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 431 ")
    assert daemon.get("/").status_code == 200
    assert daemon.stop() == 0


def test_readers_never_see_a_torn_feed(root: Path, daemon: Daemon) -> None:
    import hashlib
    import threading

    for i in range(30):
        article(root, f"a{i}.md", f"A{i}", f"2025-01-01T00:{i:02}:00Z")
    daemon.start()
    bad: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            r = daemon.get("/feeds/all.atom.xml", headers={"Accept-Encoding": "identity"})
            etag = r.headers["etag"].strip('"')
            if hashlib.sha256(r.content).hexdigest()[:32] != etag:
                bad.append("body does not match its ETag")
            if feedparser.parse(r.content).bozo:
                bad.append("feed does not parse")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for n in range(15):  # rebuild again and again while the readers read
            i = 29 - n % 5  # the five newest: those in the feeds (max_entries = 5)
            article(root, f"a{i}.md", f"A{i} v{n}", f"2025-01-01T00:{i:02}:00Z")
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert bad == []
    daemon.until(lambda: "A25 v14" in daemon.titles(), "the last edit")
    assert daemon.stop() == 0


def test_a_large_first_build_does_not_block_later_ones(root: Path, daemon: Daemon) -> None:
    # enough files for the process pool: its workers must not keep the build lock
    for i in range(300):
        article(root, f"bulk/{i:04}.md", f"Bulk {i}", f"2024-01-01T00:{i % 60:02}:00Z")
    daemon.start()
    article(root, "fresh.md", "Fresh", "2025-06-01T00:00:00Z")
    daemon.until(lambda: daemon.titles()[0] == "Fresh", "a build after the pooled one", 10)
    assert "holds the lock" not in daemon.logs()
    # a keep-alive connection opened before the pool existed still gets answers
    session = requests.Session()
    assert session.get(daemon.base + "/healthz", timeout=5).ok
    article(root, "fresher.md", "Fresher", "2025-06-02T00:00:00Z")
    daemon.until(lambda: daemon.titles()[0] == "Fresher", "another build")
    assert session.get(daemon.base + "/healthz", timeout=5).ok
    session.close()
    assert daemon.stop() == 0


def test_times_that_passed_while_down_are_caught_up_at_start(root: Path, daemon: Daemon) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    article(root, "due.md", "Due while down", when.isoformat())
    article(root, "old.md", "Old", "2025-01-01T00:00:00Z")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    subprocess.run(
        [sys.executable, "-m", "feedpub", "build", "-q"], cwd=root, env=env, check=True, timeout=60
    )
    assert b"Due while down" not in (root / "public" / "feeds" / "all.atom.xml").read_bytes()
    time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()) + 0.5)
    daemon.start()
    assert daemon.titles() == ["Due while down", "Old"]
    assert daemon.stop() == 0


def test_a_one_shot_build_is_served_by_the_running_daemon(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    (root / "config.toml").write_text(
        (root / "config.toml")
        .read_text()
        .replace("reconcile_seconds = 3600", "reconcile_seconds = 1")
    )
    daemon.start()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGSTOP)  # the one-shot build gets there first
    try:
        article(root, "two.md", "Two", "2025-01-02T00:00:00Z")
        subprocess.run(
            [sys.executable, "-m", "feedpub", "build", "-q"],
            cwd=root,
            env=env,
            check=True,
            timeout=60,
        )
    finally:
        daemon.proc.send_signal(signal.SIGCONT)
    daemon.until(lambda: daemon.titles() == ["Two", "One"], "the one-shot build's files", 15)
    assert daemon.stop() == 0


def _heavy(root: Path, count: int) -> None:
    """Articles that take the parser a while (within every limit): 1.5 MB of "[" each."""
    for i in range(count):
        path = root / "articles" / "heavy" / f"{i:02}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: Heavy {i}\ndate: 2025-02-01\n---\n" + "[" * 1_500_000)


def test_readers_are_answered_while_a_build_runs(root: Path, daemon: Daemon) -> None:
    """Parsing happens in worker processes: the server answers /healthz and feeds
    throughout a build of articles that take the parser seconds."""
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    _heavy(root, 16)
    for i in range(1500):
        article(root, f"bulk/{i:04}.md", f"Bulk {i}", f"2024-01-01T00:{i % 60:02}:00Z")
    slowest = 0.0
    answered_before_the_build_ended = 0
    session = requests.Session()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = time.monotonic()
        health = session.get(daemon.base + "/healthz", timeout=5)
        feed = session.get(daemon.base + "/feeds/all.atom.xml", timeout=5)
        slowest = max(slowest, time.monotonic() - started)
        assert health.status_code == feed.status_code == 200
        assert not feedparser.parse(feed.content).bozo  # never torn
        if "Heavy" in feed.text:
            break
        answered_before_the_build_ended += 1
        time.sleep(0.02)
    session.close()
    assert "Heavy" in daemon.get("/feeds/all.atom.xml").text
    assert answered_before_the_build_ended >= 10
    assert slowest < 2.0  # a functional bound; the latency target is in benchmarks/
    assert daemon.stop() == 0


def test_sigterm_while_workers_parse_stops_at_once(root: Path, daemon: Daemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    _heavy(root, 24)
    daemon.wait_for(r"file events: (\w+)", 20)
    time.sleep(0.5)  # the workers are parsing
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 5
    assert "Traceback" not in daemon.logs()


def test_a_skipped_file_is_logged_once_not_on_every_rebuild(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from feedpub import config as config_mod
    from feedpub import daemon as daemon_mod

    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    articles = root / "articles"
    (articles / "out.md").symlink_to(root / "config.toml")
    (articles / "gone.md").symlink_to(articles / "nowhere.md")
    d = daemon_mod.Daemon(
        config_mod.load(root / "config.toml"), clock=lambda: datetime.now(UTC), workers=1
    )

    def logged() -> list[str]:
        lines = [r.getMessage() for r in caplog.records if ": skipped: " in r.getMessage()]
        caplog.clear()
        return lines

    try:
        with caplog.at_level(logging.WARNING, logger="feedpub.daemon"):
            d._build(None)  # the first build scans everything
            assert logged() == [
                "gone.md: skipped: a dangling symlink (nothing at its target)",
                "out.md: skipped: a symlink leading outside the articles folder",
            ]
            d._build(None)  # a periodic rescan: nothing new
            article(root, "two.md", "Two", "2025-01-02T00:00:00Z")
            d._build({"two.md"})
            d._build({"gone.md"})  # looked at again, still the same
            assert logged() == []
            assert d.health()["skipped_files"] == 2
            (articles / "nowhere.md").write_text("# Now here\n", encoding="utf-8")
            d._build({"gone.md", "nowhere.md"})
            assert logged() == []
            assert d.health()["skipped_files"] == 1
            (articles / "nowhere.md").unlink()
            d._build({"gone.md", "nowhere.md"})  # dangling again: said again
            assert logged() == ["gone.md: skipped: a dangling symlink (nothing at its target)"]
            d._build(None)
            assert logged() == []
    finally:
        d.builder.close()


# --- what stops the daemon from starting: one line, exit 2 ----------------------------------


def _refused(root: Path, *args: str, wrap: tuple[str, ...] = ()) -> str:
    """Run ``feedpub run`` (under ``wrap``: ``unshare -n``, say), which must refuse to start:
    exit 2 and one line on stderr, no traceback. Returns the line."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [*wrap, sys.executable, "-m", "feedpub", "run", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    proc.stderr = without_placeholder_warning(proc.stderr)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    # (a problem of config.toml is said as config.toml:LINE: error: ..., the others so)
    assert proc.stderr.startswith(("feedpub: error: ", "config.toml:")), proc.stderr
    assert proc.stderr.startswith("feedpub: error: ") or ": error: " in proc.stderr
    return proc.stderr.strip()


def _own_network() -> tuple[str, ...]:
    """A command prefix running a command in a network namespace of its own: loopback only
    (brought up: without it Linux lets any address be bound), no DNS, nothing reachable."""
    import shutil

    if shutil.which("unshare") is None or shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("needs root, unshare(1) and ip(8)")
    return ("unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh")


def test_a_port_in_use_is_one_line(root: Path) -> None:
    import socket

    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _refused(root, "--port", str(port))
    assert line == (
        f"feedpub: error: cannot listen on 127.0.0.1:{port} (--host/--port): "
        "the port is in use (another process listens on it)"
    )


def test_an_address_of_another_machine_is_one_line(root: Path) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    line = _refused(root, "--host", "203.0.113.9", "--port", "0", wrap=_own_network())
    assert line == (
        "feedpub: error: cannot listen on 203.0.113.9:0 (--host/--port): "
        "not an address of this machine"
    )


def test_a_host_name_that_does_not_resolve_is_one_line(root: Path) -> None:
    """Inside a network namespace of its own there is no DNS at all."""
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    (root / "config.toml").write_text(
        (root / "config.toml").read_text() + '[server]\nhost = "feeds.example.org"\n'
    )
    line = _refused(root, "--port", "0", wrap=_own_network())
    assert line.startswith(
        "feedpub: error: cannot listen on feeds.example.org:0 (--host/--port): "
        "the name 'feeds.example.org' does not resolve ("
    )


def test_a_config_refused_or_a_store_unusable_at_start_is_one_line(root: Path) -> None:
    config = (root / "config.toml").read_text()
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    cases = {
        '[state]\nurl = "garbage://x"\n': "state.url: must be a PostgreSQL URL",
        '[state]\nurl = "postgresql://feedpub:pw@127.0.0.1:1/x"\n': (
            "postgresql+psycopg://feedpub:***@127.0.0.1:1/x: cannot open the state store: "
        ),
    }
    for extra, message in cases.items():
        (root / "config.toml").write_text(config + extra)
        assert message in _refused(root, "--port", "0")
    (root / "config.toml").write_text(config.replace('"public"', '"state"'))
    assert "paths.output: " in _refused(root, "--port", "0")
    (root / "config.toml").write_text(config)
    (root / "state").mkdir(exist_ok=True)
    (root / "state" / "state.sqlite3").write_bytes(b"")
    assert "the state file is empty" in _refused(root, "--port", "0")


def test_an_output_folder_feedpub_does_not_own_or_no_articles_is_one_line(root: Path) -> None:
    (root / "public").mkdir()
    (root / "public" / "index.html").write_text("another site")
    line = _refused(root, "--port", "0")
    assert line.startswith(f"feedpub: error: {root / 'public'}: holds files feedpub did not")
    (root / "public" / "index.html").unlink()
    (root / "articles").rmdir()
    line = _refused(root, "--port", "0")
    assert line == (
        f"feedpub: error: paths.articles: the articles folder {root / 'articles'} does not exist"
    )


def test_an_edit_that_breaks_an_article_keeps_it_served_and_says_so(
    root: Path, daemon: Daemon
) -> None:
    """Its last good version stays published; the error is in the log and /healthz."""
    path = article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    page = daemon.get("/articles/one/")
    assert page.status_code == 200
    path.write_text("---\ntitle: [unclosed\n---\nBroken now.\n")
    daemon.until(lambda: bool(daemon.health()["article_errors"]), "the error in /healthz")
    errors = daemon.health()["article_errors"]
    assert isinstance(errors, list) and len(errors) == 1
    assert errors[0].startswith("one.md:2: error:") and "stays published" in errors[0]
    assert daemon.titles() == ["One"]
    assert daemon.get("/articles/one/").content == page.content
    assert "one.md:2" in daemon.logs()
    assert daemon.stop() == 0


def test_a_port_given_that_is_the_admin_port_is_named_so(root: Path) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    config = root / "config.toml"
    config.write_text(config.read_text() + "\n[admin]\nenabled = true\nport = 18773\n")
    line = _refused(root, "--port", "18773")
    assert line == (
        "feedpub: error: admin.port: 18773 is [admin] port: the server (--host/--port) needs"
        " a port of its own"
    )
