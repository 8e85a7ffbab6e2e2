"""Daemon benchmark for ``feedpub run``: save → feed latency, idle CPU, HTTP throughput vs nginx.

Usage::

    python benchmarks/bench_daemon.py [--count 10000] [--saves 40] [--adds 5] [--skip-wrk]
        [--http-rounds 3] [--processes N] [--prebuild] [--idle-seconds 20] [--work DIR]

Run it with the Python that has feedpub installed (``/tmp/venv/bin/python``). The corpus is
``WORK/nCOUNT/articles`` as ``bench_build.py`` made it (read only; generated with
``gen_corpus.py`` if missing or stale); it is copied to a fresh ``WORK/daemon-nCOUNT/`` on every
run, next to a ``config.toml`` (``max_entries = 20``, full content), so the daemon's output,
state and edits never touch the build benchmark's corpus. Everything listens on 127.0.0.1.

1. **save → feed**: starts ``feedpub run --port 0`` (the port is read from its log), waits for
   the first build (``/healthz`` ``builds >= 1``), then ``--saves`` times appends a line to the
   newest article (the top entry of every feed it is in), taking t0 just before the write and
   polling ``public/feeds/all.atom.xml`` (stat: mtime_ns, inode, size) every 1 ms until it
   changes; then polls the server (``If-None-Match``) until it serves the new bytes. The same
   for ``--adds`` new article files (newest of all, in an existing folder), then for deleting
   them again. Each change is matched with the daemon's ``build: ... N ms`` log lines to show
   how much of the latency is the build itself. Three misses in a row stop this part.
   By default the daemon starts on an unbuilt site and does the cold build itself;
   ``--prebuild`` runs ``feedpub build`` first, so the daemon starts on a built site.
2. **idle CPU**: utime+stime of the daemon and all its descendants (its build worker pool) from
   ``/proc/PID/stat`` over 20 s with nothing changing, as % of one core.
3. **HTTP** (unless ``--skip-wrk``): ``wrk -t2 -c32 -d10s`` against feedpub (``[server]
   processes = --processes``, default one per CPU as nginx's ``worker_processes auto``) and an
   nginx serving the same folder (config written to the work dir), for a 200, a 304 (each
   server's own ETag) and a gzip 200 of ``/feeds/all.atom.xml``, against nginx gzipping on the
   fly and against nginx ``gzip_static`` serving a precompressed copy (the like-for-like case:
   feedpub gzips once too). ``--http-rounds`` rounds, feedpub and nginx alternating; the
   medians are reported, the ratio being the median of the rounds' ratios. wrk and the
   servers share the machine's CPUs; each run records the CPU the server tree, wrk and
   everything else used.

Also checked: that a keep-alive connection opened before the first build is closed (or still
answered) after the server's keep-alive timeout, which file descriptors the daemon's forked
build workers hold, how long ``/healthz`` takes, and that SIGTERM stops the daemon (exit code,
seconds).

Prints a table and writes JSON to ``benchmarks/results/daemon-latest.json``; the daemon's log
stays in the work dir (``daemon.log``) and is grepped for ERROR/Traceback. Exit status 1 if a
check failed (a save never showed up, errors in the log, a server misbehaved), else 0; targets
missed are reported as FAIL in the table but do not change the exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gzip
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

import bench_build
import gen_corpus

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "daemon-latest.json"
LOOPBACK = "127.0.0.1"
FEED_REL = "feeds/all.atom.xml"
FEED_URL_PATH = "/" + FEED_REL
TARGET_FEED_BYTES = 110_000  # "about 110 KB"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# timeouts and pacing (every loop below is bounded by one of these, and by a count)
START_TIMEOUT = 30.0  # daemon log says "serving ..."
FIRST_BUILD_TIMEOUT = 120.0  # healthz builds >= 1
SAVE_TIMEOUT = 10.0  # one save until the feed file changes
SERVE_TIMEOUT = 5.0  # feed file changed until the server serves it
SAVE_GAP = 0.5  # quiet time between saves
SAVES_BUDGET = 150.0  # all saves and adds together
MAX_MISSES_IN_A_ROW = 3  # then the daemon is not rebuilding: stop timing
QUIET_BEFORE_IDLE = 2.0  # no build line for this long before measuring idle CPU
QUIET_TIMEOUT = 20.0
KEEPALIVE_IDLE = 17.0  # > uvicorn timeout_keep_alive (15 s) as feedpub configures it
IDLE_SECONDS = 20.0
STOP_TIMEOUT = 15.0  # SIGTERM until exit; then SIGKILL
APT_TIMEOUT = 240.0
WRK_ARGS = ("-t2", "-c32", "-d10s")
WRK_TIMEOUT = 40.0
FILE_POLL = 0.001
HTTP_POLL = 0.002

DAEMON_CONFIG = """\
[site]
title = "Bench"
base_url = "https://bench.example.dev/"  # (a placeholder host would add a warning line)
timezone = "UTC"
[paths]
articles = "articles"
output = "public"
state = ".feedpub/state.sqlite3"
[feeds]
max_entries = 20
content = "full"
[server]
processes = {processes}
"""

NGINX_CONF = """\
daemon off;
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 15;
    keepalive_requests 1000000;
    etag on;
    types {{
        application/xml xml;
        application/feed+json json;
        text/html html;
        text/x-opml opml;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/atom+xml application/rss+xml application/feed+json
        application/xml;
    gzip on;
    gzip_types application/atom+xml application/rss+xml application/feed+json application/xml;
    server {{
        listen {host}:{port};
        root {root};
        location ~ \\.atom\\.xml$ {{
            types {{ }}
            default_type application/atom+xml;
        }}
        location ~ \\.rss\\.xml$ {{
            types {{ }}
            default_type application/rss+xml;
        }}
    }}
    # extra, not in the brief: a copy of the feed with a precompressed .gz next to it, served
    # with gzip_static (what feedpub does: gzip once, level 6, serve the bytes)
    server {{
        listen {host}:{static_port};
        root {static_root};
        gzip_static on;
        location ~ \\.atom\\.xml$ {{
            types {{ }}
            default_type application/atom+xml;
        }}
    }}
}}
"""

BUILD_LINE = re.compile(  # (feedpub.daemon.buildloop's line: "build (what changed): ...")
    r"build \(.*\): (?P<articles>\d+) articles, (?P<written>\d+) files written, "
    r"(?P<removed>\d+) removed, (?P<problems>\d+) problems, (?P<ms>\d+) ms"
)
SERVING_LINE = re.compile(r"serving (\d+) files .* on http://127\.0\.0\.1:(\d+)/")
BAD_LOG = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")


class BenchError(RuntimeError):
    """The benchmark cannot go on."""


def log(msg: str) -> None:
    now = datetime.now()  # local time, like the daemon log
    print(f"{now:%H:%M:%S.%f}"[:12] + " " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# results


@dataclass
class Checks:
    results: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append({"check": name, "ok": ok, "detail": detail})
        if not ok:
            log(f"CHECK FAILED: {name} {detail}")
        return ok

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["ok"]]


@dataclass
class Row:
    """One line of the table."""

    section: str
    name: str
    value: str
    target: str = ""
    ok: bool | None = None
    note: str = ""


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (``numpy.percentile``'s default)."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary_ms(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "p90": round(percentile(values, 90), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
        "min": round(min(values), 1),
    }


def fmt_summary(s: dict[str, float | int]) -> str:
    if not s.get("n"):
        return "no samples"
    return (
        f"med {s['median']:.0f} / p90 {s['p90']:.0f} / p99 {s['p99']:.0f} / "
        f"max {s['max']:.0f} ms (n={s['n']})"
    )


# ---------------------------------------------------------------------------------------------
# the site


@dataclass
class Site:
    dir: Path
    count: int

    @property
    def articles(self) -> Path:
        return self.dir / "articles"

    @property
    def config(self) -> Path:
        return self.dir / "config.toml"

    @property
    def public(self) -> Path:
        return self.dir / "public"

    @property
    def feed(self) -> Path:
        return self.public / FEED_REL

    @property
    def log_path(self) -> Path:
        return self.dir / "daemon.log"


def prepare_site(work: Path, count: int, processes: int = 1) -> tuple[Site, str]:
    """A fresh copy of the build benchmark's corpus (generated if it has none) + config."""
    site = Site(work / f"daemon-n{count}", count)
    lock = site.dir / ".feedpub" / "state.sqlite3.daemon.lock"
    if lock.exists():  # a daemon left running by an interrupted run still owns the folder
        with open(lock, "rb") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError as e:
                pid = f.read().decode(errors="replace").strip() or "?"
                raise BenchError(
                    f"a feedpub daemon (pid {pid}) still runs on {site.dir}; stop it first"
                ) from e
    if site.dir.exists():
        shutil.rmtree(site.dir)
    site.dir.mkdir(parents=True)
    source = work / f"n{count}"
    marker = source / "corpus.json"
    want = {
        "count": count,
        "seed": bench_build.SEED,
        "categories": bench_build.CATEGORIES,
        "gen": hashlib.sha256((HERE / "gen_corpus.py").read_bytes()).hexdigest(),
    }
    start = time.perf_counter()
    reusable = (
        marker.is_file()
        and json.loads(marker.read_text(encoding="utf-8")) == want
        and (source / "articles").is_dir()
    )
    if reusable:
        shutil.copytree(
            source / "articles",
            site.articles,
            ignore=shutil.ignore_patterns(bench_build.ADDED_DIR),
        )
        backup = source / "edit-backup.json"  # bench_build was interrupted mid-edit
        if backup.is_file():
            saved = json.loads(backup.read_text(encoding="utf-8"))
            (site.articles / saved["path"]).write_text(saved["text"], encoding="utf-8", newline="")
        n = sum(1 for _, _, files in os.walk(site.articles) for f in files if f.endswith(".md"))
        if n != count:
            raise BenchError(f"{source / 'articles'} holds {n} articles, not {count}")
        note = f"copied from {source} in {time.perf_counter() - start:.1f}s"
    else:
        gen_corpus.generate(
            site.dir, count, seed=bench_build.SEED, categories=bench_build.CATEGORIES
        )
        note = f"generated in {time.perf_counter() - start:.1f}s (no reusable {source})"
    site.config.write_text(DAEMON_CONFIG.format(processes=processes), encoding="utf-8")
    return site, note


# ---------------------------------------------------------------------------------------------
# the daemon process


def _tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


@dataclass
class TreeUsage:
    cpu_ticks: dict[int, int]  # pid -> utime+stime+cutime+cstime
    ctx_switches: int  # voluntary + involuntary, all threads of all processes
    threads: int
    rss_kib: int


def tree_usage(root: int) -> TreeUsage:
    ticks: dict[int, int] = {}
    switches = threads = rss = 0
    for pid in _tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/status", encoding="utf-8") as f:
                status = f.read()
        except OSError:
            continue  # exited between listing and reading
        # fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17
        ticks[pid] = sum(int(x) for x in fields[11:15])
        for line in status.splitlines():
            key, _, value = line.partition(":")
            if key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                switches += int(value)
            elif key == "Threads":
                threads += int(value)
            elif key == "VmRSS":
                rss += int(value.split()[0])
    return TreeUsage(ticks, switches, threads, rss)


class Daemon:
    """``feedpub run`` in a child process, its log in a file."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.served_at_start = 0
        self._log_file: Any = None
        self._log_offset = 0
        self.early_conn: http.client.HTTPConnection | None = None
        self.early_conn_at = 0.0
        self.healthz_ms: list[float] = []  # every successful /healthz round trip

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> float:
        """Start; return seconds until the log says it is serving."""
        cmd = [
            sys.executable,
            "-m",
            "feedpub",
            "--log-level",
            "info",
            "run",
            "--config",
            str(self.site.config),
            "--host",
            LOOPBACK,
            "--port",
            "0",
        ]
        self._log_file = open(self.site.log_path, "wb")  # noqa: SIM115 (closed in stop())
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        deadline = t0 + START_TIMEOUT
        while time.perf_counter() < deadline:
            m = SERVING_LINE.search(self.log_text())
            if m:
                self.served_at_start, self.port = int(m.group(1)), int(m.group(2))
                seconds = time.perf_counter() - t0
                self._open_early_conn()
                return seconds
            if self.proc.poll() is not None:
                raise BenchError(f"daemon exited with {self.proc.returncode}:\n{self.log_tail()}")
            time.sleep(0.02)
        raise BenchError(
            f"daemon did not log 'serving ...' in {START_TIMEOUT}s:\n{self.log_tail()}"
        )

    def _open_early_conn(self) -> None:
        """A keep-alive connection opened before the first build, used once; see
        :func:`keepalive_probe`."""
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=3)
        try:
            conn.request("GET", "/healthz")
            conn.getresponse().read()
        except OSError as e:
            log(f"early keep-alive connection failed: {e!r}")
            conn.close()
            return
        self.early_conn = conn
        self.early_conn_at = time.perf_counter()

    def log_text(self) -> str:
        return self.site.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def new_log_lines(self) -> list[str]:
        """Complete log lines written since the last call."""
        with open(self.site.log_path, "rb") as f:
            f.seek(self._log_offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self._log_offset += end
        return data[:end].decode("utf-8", "replace").splitlines()

    def health(self) -> dict[str, Any]:
        # a new connection each time: see keepalive_probe() for why not a pooled one
        t0 = time.perf_counter()
        r = requests.get(self.base_url + "/healthz", timeout=2)
        self.healthz_ms.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    def wait_builds(self, at_least: int, timeout: float) -> dict[str, Any]:
        deadline = time.perf_counter() + timeout
        last: dict[str, Any] = {}
        while time.perf_counter() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise BenchError(f"daemon exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                last = self.health()
                if int(last.get("builds") or 0) >= at_least:
                    return last
            time.sleep(0.05)
        raise BenchError(f"no build #{at_least} within {timeout}s (healthz: {last})")

    def wait_served(self, timeout: float) -> float:
        """Seconds until the server answers 200 for the feed."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            with contextlib.suppress(requests.RequestException):
                r = requests.get(self.base_url + FEED_URL_PATH, timeout=2)
                if r.status_code == 200:
                    return time.perf_counter() - t0
            time.sleep(0.002)
        raise BenchError(f"{FEED_URL_PATH} not served within {timeout}s")

    def stop(self) -> tuple[int | None, float]:
        """SIGTERM; (exit code, seconds to exit). SIGKILL after STOP_TIMEOUT (code None)."""
        if self.early_conn is not None:
            self.early_conn.close()
        if self.proc is None:
            return None, 0.0
        t0 = time.perf_counter()
        code: int | None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                code = None
        else:
            code = self.proc.returncode
        seconds = time.perf_counter() - t0
        # the build worker pool should have gone with it
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return code, seconds


# ---------------------------------------------------------------------------------------------
# 1. save -> feed latency


def feed_sig(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ino, st.st_size)


@dataclass
class Sample:
    kind: str  # "edit", "add" or "delete"
    i: int
    file_ms: float | None = None  # write -> all.atom.xml replaced (None: never, in time)
    served_ms: float | None = None  # write -> server answers with the new ETag
    seen_in_feed: bool = False
    builds: list[dict[str, int]] = field(default_factory=list)  # build log lines after it

    def describe(self) -> str:
        def ms(v: float | None) -> str:
            return "never" if v is None else f"{v:.0f} ms"

        builds = [b["ms"] for b in self.builds]
        return f"file {ms(self.file_ms)}, served {ms(self.served_ms)}, build log ms {builds}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "i": self.i,
            "file_ms": None if self.file_ms is None else round(self.file_ms, 2),
            "served_ms": None if self.served_ms is None else round(self.served_ms, 2),
            "seen_in_feed": self.seen_in_feed,
            "builds": self.builds,
        }


def served_etag(daemon: Daemon, session: requests.Session) -> str:
    r = session.get(
        daemon.base_url + FEED_URL_PATH, headers={"Accept-Encoding": "identity"}, timeout=2
    )
    r.raise_for_status()
    return r.headers.get("etag", "")


def measure_change(
    daemon: Daemon, sample: Sample, marker: str, write: Callable[[], None], present: bool
) -> None:
    """Run ``write``; time until the feed file holds ``marker`` (or, ``present=False``, no
    longer holds it), then until the server serves such bytes."""
    with requests.Session() as session:
        _measure_change(daemon, session, sample, lambda text: (marker in text) == present, write)


def _measure_change(
    daemon: Daemon,
    session: requests.Session,
    sample: Sample,
    done: Callable[[str], bool],
    write: Callable[[], None],
) -> None:
    site = daemon.site
    before = feed_sig(site.feed)
    old_etag = served_etag(daemon, session)
    t0 = time.perf_counter()
    write()
    deadline = t0 + SAVE_TIMEOUT
    sig = before
    while time.perf_counter() < deadline:  # tight loop on the file
        sig = feed_sig(site.feed)
        if sig != before:
            t_file = time.perf_counter()
            try:
                text = site.feed.read_text(encoding="utf-8")
            except OSError:
                text = ""
            if done(text):
                sample.file_ms = (t_file - t0) * 1000
                sample.seen_in_feed = True
                break
            before = sig  # changed, but not (yet) by this save: keep waiting
        time.sleep(FILE_POLL)
    if sample.file_ms is None:
        return
    deadline = time.perf_counter() + SERVE_TIMEOUT
    headers = {"Accept-Encoding": "identity", "If-None-Match": old_etag}
    while time.perf_counter() < deadline:  # then the server
        try:
            r = session.get(daemon.base_url + FEED_URL_PATH, headers=headers, timeout=2)
        except requests.RequestException:
            r = None
        if r is not None and r.status_code == 200 and r.headers.get("etag") != old_etag:
            if done(r.text):
                sample.served_ms = (time.perf_counter() - t0) * 1000
                return
            headers["If-None-Match"] = r.headers.get("etag", old_etag)
        time.sleep(HTTP_POLL)


def wait_build_line(daemon: Daemon, timeout: float) -> list[dict[str, int]]:
    deadline = time.perf_counter() + timeout
    found = collect_builds(daemon)
    while not found and time.perf_counter() < deadline:
        time.sleep(0.02)
        found = collect_builds(daemon)
    return found


def collect_builds(daemon: Daemon) -> list[dict[str, int]]:
    out = []
    for line in daemon.new_log_lines():
        m = BUILD_LINE.search(line)
        if m:
            out.append({k: int(v) for k, v in m.groupdict().items()})
    return out


def bench_saves(
    daemon: Daemon, saves: int, adds: int, checks: Checks, deadline: float
) -> dict[str, Any]:
    site = daemon.site
    rel = bench_build.newest_article_path(site.count)
    target = site.articles / rel
    title = target.read_text(encoding="utf-8").split("\n", 2)[1].removeprefix("title: ")
    checks.add(
        "edit target (newest article) is in all.atom.xml",
        title.strip('"') in site.feed.read_text(encoding="utf-8"),
        rel,
    )
    token = f"{os.getpid()}x{int(time.time())}"
    samples: list[Sample] = []
    daemon.new_log_lines()  # skip the startup lines

    def settle(sample: Sample) -> None:
        time.sleep(SAVE_GAP)
        sample.builds = collect_builds(daemon)

    # every change to time: (kind, index, marker, the write, whether the marker must appear in
    # the feed or disappear from it)
    changes: list[tuple[str, int, str, Callable[[], None], bool]] = []
    for i in range(saves):
        marker = f"Benchsave{i}x{token}"

        def append(marker: str = marker) -> None:
            with open(target, "a", encoding="utf-8", newline="\n") as f:
                f.write(f"\n{marker} appended line.\n")

        changes.append(("edit", i, marker, append, True))
    # new articles: the newest of all, in an existing folder (a new folder means a rescan)
    folder = site.articles / f"{(site.count - 1) // gen_corpus.FILES_PER_FOLDER:03d}"
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    added: list[tuple[str, Path]] = []
    for i in range(adds):
        art = gen_corpus.Article(
            number=site.count + 1 + i,
            title=f"Benchadd{i}x{token}",
            slug=f"bench-daemon-added-{i}-{token.lower()}",
            date=base + timedelta(minutes=i),
            categories=["Category 1"],
            tags=["tag1"],
            author="Ada Lovelace",
            summary="A benchmark article.",
        )
        path = folder / f"{art.stem}.md"
        text = gen_corpus.render(art, f"Added by the daemon benchmark, run {i}.\n")

        def create(path: Path = path, text: str = text) -> None:
            path.write_text(text, encoding="utf-8", newline="\n")

        changes.append(("add", i, art.title, create, True))
        added.append((art.title, path))
    # then delete them again, newest first (each delete brings a full-size entry back)
    for i, (title, path) in enumerate(reversed(added)):
        changes.append(("delete", i, title, path.unlink, False))

    aborted: str | None = None
    misses_in_a_row = 0
    totals = {"edit": saves, "add": adds, "delete": adds}
    for kind, i, marker, write, present in changes:
        if time.perf_counter() > deadline:
            aborted = f"time budget ({SAVES_BUDGET:.0f}s) spent before {kind} {i}"
            break
        sample = Sample(kind, i)
        measure_change(daemon, sample, marker, write, present)
        settle(sample)
        samples.append(sample)
        log(f"  {kind} {i + 1}/{totals[kind]}: {sample.describe()}")
        misses_in_a_row = misses_in_a_row + 1 if sample.file_ms is None else 0
        if misses_in_a_row >= MAX_MISSES_IN_A_ROW:
            health = daemon.health()
            aborted = (
                f"{MAX_MISSES_IN_A_ROW} changes in a row never reached the feed; "
                f"healthz: builds={health.get('builds')} status={health.get('status')} "
                f"last_error={health.get('last_error')!r}"
            )
            break
    checks.add("all changes were timed", aborted is None, aborted or "")

    out: dict[str, Any] = {
        "edit_target": rel,
        "aborted": aborted,
        "samples": [s.as_json() for s in samples],
    }
    for kind in ("edit", "add", "delete"):
        mine = [s for s in samples if s.kind == kind]
        missed = [s.i for s in mine if s.file_ms is None]
        unserved = [s.i for s in mine if s.file_ms is not None and s.served_ms is None]
        if mine:
            checks.add(
                f"every {kind} reached all.atom.xml within {SAVE_TIMEOUT:.0f}s",
                not missed,
                f"missed: {missed}",
            )
            checks.add(
                f"every {kind} was served within {SERVE_TIMEOUT:.0f}s of the file",
                not unserved,
                f"not served: {unserved}",
            )
            not_one = [(s.i, len(s.builds)) for s in mine if len(s.builds) != 1]
            checks.add(
                f"every {kind} caused exactly one build",
                not not_one,
                f"(index, builds): {not_one}",
            )
        file_ms = [s.file_ms for s in mine if s.file_ms is not None]
        served = [s.served_ms for s in mine if s.served_ms is not None]
        build_ms = [float(sum(b["ms"] for b in s.builds)) for s in mine if s.builds]
        # how much of "write -> served" is not the build: watcher batching, settle, queueing
        overhead = [
            s.served_ms - sum(b["ms"] for b in s.builds)
            for s in mine
            if s.served_ms is not None and s.builds
        ]
        out[kind] = {
            "file_ms": summary_ms(file_ms),
            "served_ms": summary_ms(served),
            "build_log_ms": summary_ms(build_ms),
            "served_minus_build_ms": summary_ms(overhead),
            "files_written_per_build": sorted({b["written"] for s in mine for b in s.builds}),
            "missed": missed,
        }
    return out


# ---------------------------------------------------------------------------------------------
# keep-alive connections and forked workers


def inherited_fds(root: int) -> dict[str, dict[str, Any]]:
    """Per descendant of the daemon (its build workers): socket fds and lock files it holds."""
    out: dict[str, dict[str, Any]] = {}
    for pid in _tree_pids(root):
        if pid == root:
            continue
        try:
            targets = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        out[str(pid)] = {
            "sockets": sum(t.startswith("socket:") for t in targets),
            "lock_files": sorted(t for t in targets if t.endswith(".lock")),
        }
    return out


def keepalive_probe(daemon: Daemon) -> dict[str, Any]:
    """Is the keep-alive connection opened before the first build closed (uvicorn's
    timeout_keep_alive is 15 s) or at least still answered?"""
    conn = daemon.early_conn
    if conn is None or conn.sock is None:
        return {"result": "no early connection"}
    idle = time.perf_counter() - daemon.early_conn_at
    if idle < KEEPALIVE_IDLE:
        time.sleep(KEEPALIVE_IDLE - idle)
        idle = KEEPALIVE_IDLE
    sock = conn.sock
    sock.setblocking(False)
    try:
        state = "closed by the server" if sock.recv(1, socket.MSG_PEEK) == b"" else "has data"
    except BlockingIOError:
        state = "still open"
    except OSError as e:
        state = f"error {e!r}"
    sock.setblocking(True)
    sock.settimeout(3)
    answer: str
    try:
        conn.request("GET", "/healthz")
        answer = f"HTTP {conn.getresponse().status}"
    except TimeoutError:
        answer = "no answer in 3 s"
    except (OSError, http.client.HTTPException) as e:
        answer = type(e).__name__
    finally:
        conn.close()
        daemon.early_conn = None
    return {"idle_seconds": round(idle, 1), "state": state, "next_request": answer}


# ---------------------------------------------------------------------------------------------
# 2. idle CPU


def wait_quiet(daemon: Daemon, quiet: float, timeout: float) -> bool:
    """Until no build line has appeared for ``quiet`` seconds (at most ``timeout``)."""
    start = last = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if collect_builds(daemon):
            last = time.perf_counter()
        elif time.perf_counter() - last >= quiet:
            return True
        time.sleep(0.1)
    return False


def bench_idle(daemon: Daemon, seconds: float, checks: Checks) -> dict[str, Any]:
    checks.add(
        "daemon went quiet before the idle measurement",
        wait_quiet(daemon, QUIET_BEFORE_IDLE, QUIET_TIMEOUT),
    )
    builds_before = int(daemon.health().get("builds") or 0)
    daemon.new_log_lines()
    a = tree_usage(daemon.pid)
    machine_a = machine_cpu()
    t0 = time.perf_counter()
    time.sleep(seconds)
    b = tree_usage(daemon.pid)
    wall = time.perf_counter() - t0
    machine = busy_percent(machine_a, machine_cpu())
    lines = daemon.new_log_lines()
    builds_after = int(daemon.health().get("builds") or 0)
    per_pid = {pid: (b.cpu_ticks[pid] - a.cpu_ticks.get(pid, 0)) / CLK_TCK for pid in b.cpu_ticks}
    cpu = sum(per_pid.values())
    gone = sorted(set(a.cpu_ticks) - set(b.cpu_ticks))
    checks.add(
        "no build during the idle window",
        builds_after == builds_before,
        f"builds {builds_before} -> {builds_after}",
    )
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 3),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 3),
        "per_process_cpu_seconds": {str(pid): round(s, 3) for pid, s in per_pid.items()},
        "processes": len(b.cpu_ticks),
        "processes_gone_during_window": gone,
        "threads": b.threads,
        "context_switches_per_s": round((b.ctx_switches - a.ctx_switches) / wall, 1),
        "tree_rss_mib": round(b.rss_kib / 1024, 1),
        "machine_busy_percent": round(machine, 1),
        "log_lines_during_window": lines[-10:],
        "clock_ticks_per_s": CLK_TCK,
    }


# ---------------------------------------------------------------------------------------------
# 3. HTTP throughput: wrk against feedpub and nginx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def ensure_tools() -> str | None:
    """Install wrk and nginx from Debian if missing. None if ready, else why not."""
    missing = [
        t
        for t in ("wrk", "nginx")
        if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()
    ]
    if not missing:
        return None
    if os.geteuid() != 0:
        return f"{', '.join(missing)} missing and not root: skipped"
    log(f"installing {' '.join(missing)} with apt-get ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk", "nginx"]):
            r = subprocess.run(
                cmd, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT, check=False
            )
            if r.returncode != 0:
                return f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-500:]}"
    except subprocess.TimeoutExpired as e:
        return f"{e.cmd} timed out"
    return None


def tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


class Nginx:
    def __init__(self, root: Path, dir: Path) -> None:
        self.root = root
        self.dir = dir
        self.static_root = dir / "static"
        self.port = 0
        self.static_port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def static_url(self) -> str:
        return f"http://{LOOPBACK}:{self.static_port}"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # the gzip_static server's copy: the feed and its .gz (same level as feedpub's)
        feed = self.root / FEED_REL
        copy = self.static_root / FEED_REL
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(feed, copy)
        gz = copy.with_name(copy.name + ".gz")
        gz.write_bytes(gzip.compress(feed.read_bytes(), compresslevel=6, mtime=0))
        shutil.copystat(feed, gz)
        self.port = free_port()
        self.static_port = free_port()
        conf = self.dir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                dir=self.dir,
                host=LOOPBACK,
                port=self.port,
                root=self.root,
                static_port=self.static_port,
                static_root=self.static_root,
            ),
            encoding="utf-8",
        )
        cmd = [
            tool("nginx"),
            "-p",
            str(self.dir),
            "-c",
            str(conf),
            "-e",
            str(self.dir / "error.log"),
        ]
        test = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=20, check=False)
        if test.returncode != 0:
            raise BenchError(f"nginx -t failed: {test.stderr}")
        with open(self.dir / "stderr.log", "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"nginx exited with {self.proc.returncode}")
            with contextlib.suppress(requests.RequestException):
                requests.get(self.base_url + FEED_URL_PATH, timeout=1)
                return
            time.sleep(0.05)
        raise BenchError("nginx did not answer within 10 s")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_LAT = re.compile(r"Latency\s+([\d.]+)(us|ms|s)\s")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_ERRORS = re.compile(r"Socket errors: (.*)")
WRK_TRANSFER = re.compile(r"Transfer/sec:\s+([\d.]+)(\w+)")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields)
    return total - idle, total


def busy_percent(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Machine CPU busy between two machine_cpu() readings, % of one core."""
    cpus = os.cpu_count() or 1
    return 100 * cpus * (b[0] - a[0]) / max(1, b[1] - a[1])


def tree_cpu_seconds(root: int) -> float:
    return sum(tree_usage(root).cpu_ticks.values()) / CLK_TCK


def run_wrk(url: str, headers: dict[str, str], server_pid: int) -> dict[str, Any]:
    """wrk against ``url``; also the CPU time the server's process tree and wrk used."""
    cmd = [tool("wrk"), *WRK_ARGS]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(url)
    server_before = tree_cpu_seconds(server_pid)
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before = machine_cpu()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=WRK_TIMEOUT, check=False)
    wall = time.perf_counter() - t0
    machine = busy_percent(machine_before, machine_cpu())
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = tree_cpu_seconds(server_pid) - server_before
    wrk_cpu = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    if r.returncode != 0:
        raise BenchError(f"wrk failed ({r.returncode}): {r.stderr}")
    out = r.stdout
    rps = WRK_RPS.search(out)
    lat = WRK_LAT.search(out)
    non = WRK_NON2XX.search(out)
    err = WRK_ERRORS.search(out)
    transfer = WRK_TRANSFER.search(out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "requests_per_s": float(rps.group(1)) if rps else None,
        "latency_avg_ms": round(float(lat.group(1)) * scale[lat.group(2)], 3) if lat else None,
        "non_2xx_3xx": int(non.group(1)) if non else 0,
        "socket_errors": err.group(1).strip() if err else None,
        "transfer_per_s": f"{transfer.group(1)}{transfer.group(2)}" if transfer else None,
        "server_cpu_percent": round(100 * server_cpu / wall, 1),
        "wrk_cpu_percent": round(100 * wrk_cpu / wall, 1),
        "machine_busy_percent": round(machine, 1),
        "other_cpu_percent": round(machine - 100 * (server_cpu + wrk_cpu) / wall, 1),
        "cmd": " ".join(cmd),
        "output": out,
    }


def probe(base: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(base + FEED_URL_PATH, headers=headers, timeout=5)


def _paired(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> dict[str, Any]:
    """One case over the rounds: each side's median run (by req/s), the median of the
    rounds' ratios (each round's runs back to back), every round's figures."""

    def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
        ranked = sorted(runs, key=lambda x: x["requests_per_s"] or 0)
        return ranked[(len(ranked) - 1) // 2]

    ratios = [
        f["requests_per_s"] / n["requests_per_s"]
        for f, n in zip(ours, theirs, strict=True)
        if f["requests_per_s"] and n["requests_per_s"]
    ]
    return {
        "feedpub": median_run(ours),
        "nginx": median_run(theirs),
        "ratio": round(statistics.median(ratios), 3) if ratios else None,
        "rounds": [
            {"feedpub": f["requests_per_s"], "nginx": n["requests_per_s"]}
            for f, n in zip(ours, theirs, strict=True)
        ],
    }


def bench_http(daemon: Daemon, checks: Checks, rounds: int = 1) -> dict[str, Any]:
    site = daemon.site
    why = ensure_tools()
    if why:
        checks.add("wrk and nginx available", False, why)
        return {"skipped": why}
    nginx = Nginx(site.public, site.dir / "nginx")
    out: dict[str, Any] = {
        "wrk": WRK_ARGS,
        "feed_bytes": site.feed.stat().st_size,
        "nginx_version": subprocess.run(
            [tool("nginx"), "-v"], capture_output=True, text=True, check=False
        ).stderr.strip(),
        "nginx_conf": str(nginx.dir / "nginx.conf"),
        "rounds": rounds,
        "cases": {},
    }
    try:
        nginx.start()
        assert nginx.proc is not None
        servers = {"feedpub": daemon.base_url, "nginx": nginx.base_url}
        pids = {"feedpub": daemon.pid, "nginx": nginx.proc.pid}
        identity = {"Accept-Encoding": "identity"}
        body = site.feed.read_bytes()
        etags: dict[str, str] = {}
        for name, base in servers.items():
            r = probe(base, identity)
            etags[name] = r.headers.get("etag", "")
            checks.add(
                f"{name}: 200 with the feed's bytes",
                r.status_code == 200 and r.content == body,
                f"status {r.status_code}, {len(r.content)} bytes, etag {etags[name]}",
            )
            r304 = probe(base, {**identity, "If-None-Match": etags[name]})
            checks.add(
                f"{name}: 304 for its own ETag",
                r304.status_code == 304,
                f"status {r304.status_code}",
            )
            rgz = requests.get(
                base + FEED_URL_PATH, headers={"Accept-Encoding": "gzip"}, timeout=5, stream=True
            )
            gz_len = len(rgz.raw.read(decode_content=False))
            checks.add(
                f"{name}: gzip 200 is gzipped",
                rgz.headers.get("content-encoding") == "gzip",
                f"content-encoding {rgz.headers.get('content-encoding')}, {gz_len} bytes sent",
            )
            out[f"{name}_headers"] = dict(r.headers)
            out[f"{name}_gzip_bytes"] = gz_len
        cases: dict[str, Callable[[str], dict[str, str]]] = {
            "200": lambda _n: {},
            "304": lambda n: {"If-None-Match": etags[n]},
            "200 gzip": lambda _n: {"Accept-Encoding": "gzip"},
        }
        gz_hdr = {"Accept-Encoding": "gzip"}
        rs = requests.get(nginx.static_url + FEED_URL_PATH, headers=gz_hdr, timeout=5, stream=True)
        static_len = len(rs.raw.read(decode_content=False))
        static = checks.add(
            "nginx gzip_static: serves the .gz",
            rs.status_code == 200 and static_len == out["feedpub_gzip_bytes"],
            f"status {rs.status_code}, {static_len} bytes (feedpub {out['feedpub_gzip_bytes']})",
        )
        urls = {**servers, "nginx gzip_static": nginx.static_url}
        pids["nginx gzip_static"] = nginx.proc.pid
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for turn in range(rounds):  # alternating: feedpub first in even rounds, nginx in odd
            for case, hdrs in cases.items():
                names = ["feedpub", "nginx"]
                if case == "200 gzip" and static:
                    names.append("nginx gzip_static")
                for name in names if turn % 2 == 0 else names[::-1]:
                    log(f"  round {turn + 1}/{rounds}: wrk {case} {name} ...")
                    got = run_wrk(urls[name] + FEED_URL_PATH, hdrs(name), pids[name])
                    runs.setdefault((case, name), []).append(got)
                    if got["non_2xx_3xx"] or got["socket_errors"]:
                        checks.add(
                            f"wrk {case} {name}: no errors",
                            False,
                            f"non-2xx/3xx {got['non_2xx_3xx']}, "
                            f"socket errors {got['socket_errors']}",
                        )
        for case in cases:
            out["cases"][case] = _paired(runs[(case, "feedpub")], runs[(case, "nginx")])
        if static:
            out["cases"]["200 gzip, nginx gzip_static"] = _paired(
                runs[("200 gzip", "feedpub")], runs[("200 gzip", "nginx gzip_static")]
            )
    finally:
        out["nginx_exit"] = nginx.stop()
    return out


# ---------------------------------------------------------------------------------------------
# report


def build_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    saves = report.get("saves") or {}
    if saves.get("aborted"):
        rows.append(Row("latency", "changes timed", "ABORTED", "", False, saves["aborted"]))
    for kind, label in (
        ("edit", "save (append line)"),
        ("add", "new article"),
        ("delete", "article deleted"),
    ):
        k = saves.get(kind)
        if not k:
            continue
        s = k["file_ms"]
        ok = None
        target = ""
        if kind == "edit" and s.get("n"):
            target = "med<300 p99<1000"
            ok = s["median"] < 300 and s["p99"] < 1000 and not k["missed"]
        rows.append(
            Row(
                "latency",
                f"{label} -> all.atom.xml",
                fmt_summary(s),
                target,
                ok,
                f"missed {k['missed']}" if k["missed"] else "",
            )
        )
        rows.append(Row("latency", f"{label} -> served (HTTP)", fmt_summary(k["served_ms"])))
        rows.append(Row("latency", f"{label}: daemon 'build' ms", fmt_summary(k["build_log_ms"])))
        rows.append(
            Row("latency", f"{label}: served - build", fmt_summary(k["served_minus_build_ms"]))
        )
    feed = report.get("feed")
    if feed:
        size = feed["bytes_after_first_build"]
        rows.append(
            Row(
                "feed",
                "all.atom.xml size (20 entries, full)",
                f"{size:,} B = {size / 1000:.1f} KB",
                f"~{TARGET_FEED_BYTES // 1000} KB",
                None,
                f"{100 * (size - TARGET_FEED_BYTES) / TARGET_FEED_BYTES:+.0f}% vs target size",
            )
        )
    idle = report.get("idle")
    if idle:
        pct = idle["cpu_percent_of_one_core"]
        rows.append(
            Row(
                "idle",
                f"idle CPU over {idle['seconds']:.0f}s (tree)",
                f"{pct:.2f} %",
                "< 1 %",
                pct < 1,
                f"{idle['cpu_seconds']:.2f} cpu-s, {idle['processes']} procs, "
                f"{idle['threads']} threads, {idle['context_switches_per_s']:.0f} ctxsw/s; "
                f"whole machine busy {idle['machine_busy_percent']:.0f}% meanwhile",
            )
        )
        rows.append(Row("idle", "tree RSS at idle", f"{idle['tree_rss_mib']:.0f} MiB"))
    http = report.get("http") or {}
    if http.get("skipped"):
        rows.append(Row("http", "wrk", "skipped", note=str(http["skipped"])))
    if "feed_bytes" in http:
        rows.append(
            Row(
                "http",
                "all.atom.xml size at wrk time",
                f"{http['feed_bytes']:,} B",
                note=f"gzip on the wire: feedpub {http.get('feedpub_gzip_bytes', 0):,} B, "
                f"nginx {http.get('nginx_gzip_bytes', 0):,} B",
            )
        )
    for case, res in (http.get("cases") or {}).items():
        f, n, ratio = res["feedpub"]["requests_per_s"], res["nginx"]["requests_per_s"], res["ratio"]
        want = 0.8
        # nginx gzips on the fly at level 1 there: the like-for-like case is gzip_static's
        extra = case == "200 gzip"
        rounds = http.get("rounds", 1)
        rows.append(
            Row(
                "http",
                f"GET {case} req/s feedpub | nginx"
                + (f" (medians of {rounds} rounds)" if rounds > 1 else ""),
                f"{f or 0:,.0f} | {n or 0:,.0f} = " + ("?" if ratio is None else f"{ratio:.2f}x"),
                "(extra)" if extra else f">= {want}x nginx",
                None if ratio is None or extra else ratio >= want,
                f"server CPU {res['feedpub']['server_cpu_percent']:.0f}% | "
                f"{res['nginx']['server_cpu_percent']:.0f}%, wrk CPU "
                f"{res['feedpub']['wrk_cpu_percent']:.0f}% | {res['nginx']['wrk_cpu_percent']:.0f}%"
                f"; other CPU {res['feedpub']['other_cpu_percent']:.0f}% | "
                f"{res['nginx']['other_cpu_percent']:.0f}%"
                f"; avg latency {res['feedpub']['latency_avg_ms']} | "
                f"{res['nginx']['latency_avg_ms']} ms",
            )
        )
    hz = report.get("healthz_round_trip_ms")
    if hz:
        rows.append(Row("daemon", "GET /healthz round trip (new conn)", fmt_summary(hz)))
    start = report.get("startup")
    if start:
        rows.append(
            Row(
                "daemon",
                "start -> first build done",
                f"{start['seconds_to_first_build']:.2f} s",
                note=f"prebuilt: {'yes' if report.get('prebuild') else 'no'}; first build "
                f"{[b['ms'] for b in start['first_build_log']]} ms, written "
                f"{[b['written'] for b in start['first_build_log']]}; feed served "
                f"{start['feed_served_after_healthz_ms']:.0f} ms after healthz builds=1",
            )
        )
    ka = report.get("keepalive")
    if ka:
        ok = ka.get("state") == "closed by the server" or ka.get("next_request") == "HTTP 200"
        rows.append(
            Row(
                "daemon",
                "keep-alive conn opened before 1st build",
                f"{ka.get('state')}; next request: {ka.get('next_request')}",
                "closed/answers",
                ok,
                f"after {ka.get('idle_seconds')} s idle",
            )
        )
    fds = report.get("worker_fds")
    if fds is not None:
        rows.append(
            Row(
                "daemon",
                "build workers (forked)",
                f"{len(fds)} procs",
                note="; ".join(
                    f"pid {pid}: {v['sockets']} sockets, locks "
                    + ", ".join(Path(x).name for x in v["lock_files"])
                    for pid, v in fds.items()
                ),
            )
        )
    stop = report.get("stop") or {}
    if stop:
        rows.append(
            Row(
                "stop",
                "SIGTERM -> exit",
                f"code {stop['exit_code']} in {stop['seconds']:.2f} s",
                "code 0",
                stop["exit_code"] == 0,
            )
        )
    return rows


def format_table(rows: list[Row]) -> str:
    w_name = max([len(r.name) for r in rows] + [6])
    w_value = max([len(r.value) for r in rows] + [5])
    head = f"{'metric':<{w_name}}  {'value':<{w_value}}  {'target':<17} {'ok':<4}  note"
    lines = [head, "-" * len(head)]
    section = None
    for r in rows:
        if section is not None and r.section != section:
            lines.append("")
        section = r.section
        ok = "" if r.ok is None else ("PASS" if r.ok else "FAIL")
        lines.append(
            f"{r.name:<{w_name}}  {r.value:<{w_value}}  {r.target:<17} {ok:<4}  {r.note}".rstrip()
        )
    return "\n".join(lines)


def scan_log(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    lines = text.splitlines()
    bad = [ln for ln in lines if BAD_LOG.search(ln)]
    warnings = [ln for ln in lines if " WARNING " in ln]
    return {
        "path": str(path),
        "lines": len(lines),
        "error_lines": bad[:20],
        "error_count": len(bad),
        "warning_count": len(warnings),
        "warnings": warnings[:10],
        "build_lines": sum(1 for ln in lines if BUILD_LINE.search(ln)),
        "reconcile_requests": sum(1 for ln in lines if "build requested: reconcile" in ln),
    }


@contextlib.contextmanager
def stopping(daemon: Daemon, report: dict[str, Any]) -> Iterator[None]:
    try:
        yield
    finally:
        code, seconds = daemon.stop()
        report["stop"] = {"exit_code": code, "seconds": round(seconds, 3)}
        # the fork server and resource tracker notice their parent is gone within a moment
        deadline = time.monotonic() + 3.0
        while True:
            leftovers = [p for p in report.get("_tree", []) if Path(f"/proc/{p}").exists()]
            if not leftovers or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        report["stop"]["leftover_pids"] = leftovers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the feedpub daemon.")
    parser.add_argument("--count", type=int, default=10_000, help="corpus size")
    parser.add_argument("--saves", type=int, default=40, help="edits to time")
    parser.add_argument("--adds", type=int, default=5, help="new articles to time")
    parser.add_argument("--idle-seconds", type=float, default=IDLE_SECONDS)
    parser.add_argument("--skip-wrk", action="store_true", help="no HTTP throughput part")
    parser.add_argument(
        "--http-rounds",
        type=int,
        default=3,
        help="wrk rounds per case, feedpub and nginx alternating (medians are reported)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="the daemon's [server] processes (default: one per CPU, as nginx's "
        "worker_processes auto; 1: the daemon's own process only)",
    )
    parser.add_argument(
        "--prebuild",
        action="store_true",
        help="run 'feedpub build' before starting the daemon, so the daemon starts on a built "
        "site (its first build parses nothing) instead of doing the cold build itself",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedpub-bench",
        help="holds nCOUNT/ (the build benchmark's corpus, read only) and daemon-nCOUNT/ "
        "(default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if (
        args.count < bench_build.MAX_ENTRIES
        or not 1 <= args.saves <= 200
        or not 0 <= args.adds <= 20
    ):
        parser.error(
            f"--count >= {bench_build.MAX_ENTRIES}, 1 <= --saves <= 200, 0 <= --adds <= 20"
        )
    if not 1 <= args.idle_seconds <= 120:
        parser.error("--idle-seconds must be 1 to 120")
    if not 1 <= args.http_rounds <= 15 or not 1 <= args.processes <= 64:
        parser.error("--http-rounds must be 1 to 15, --processes 1 to 64")

    started = time.perf_counter()
    checks = Checks()
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg(),
        },
        "count": args.count,
        "config": DAEMON_CONFIG.format(processes=args.processes),
    }
    failure: str | None = None
    site, note = prepare_site(args.work.resolve(), args.count, args.processes)
    report["work"] = str(site.dir)
    report["corpus_note"] = note
    log(f"corpus: {site.articles} ({note})")
    bench_build.warm_cache(site.articles)
    report["prebuild"] = None
    if args.prebuild:
        t = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "feedpub", "build", "--config", str(site.config), "-q"],
            capture_output=True,
            text=True,
            timeout=FIRST_BUILD_TIMEOUT,
            check=False,
        )
        report["prebuild"] = {"seconds": round(time.perf_counter() - t, 3), "exit": r.returncode}
        log(f"prebuild: feedpub build exited {r.returncode} in {report['prebuild']['seconds']}s")
        checks.add("prebuild succeeded", r.returncode == 0, r.stderr[-500:])
    daemon = Daemon(site)
    try:
        with stopping(daemon, report):
            t_serving = daemon.start()
            t0 = time.perf_counter()
            health = daemon.wait_builds(1, FIRST_BUILD_TIMEOUT)
            t_healthy = time.perf_counter()
            lag = daemon.wait_served(FIRST_BUILD_TIMEOUT)
            checks.add(
                "healthz builds>=1 only once the build's files are served",
                lag < 0.02,
                f"feed served {lag * 1000:.0f} ms after healthz said builds=1",
            )
            first = wait_build_line(daemon, 5.0)
            report["startup"] = {
                "seconds_to_serving": round(t_serving, 3),
                "seconds_to_first_build": round(t_serving + t_healthy - t0, 3),
                "feed_served_after_healthz_ms": round(lag * 1000, 1),
                "served_files_at_start": daemon.served_at_start,
                "first_build_log": first,
                "health": health,
                "port": daemon.port,
            }
            log(f"daemon pid {daemon.pid} on port {daemon.port}; first build {first}")
            checks.add("first build wrote all.atom.xml", site.feed.is_file())
            report["feed"] = {"bytes_after_first_build": site.feed.stat().st_size}
            report["_tree"] = _tree_pids(daemon.pid)

            log(f"saves: {args.saves} edits, {args.adds} new articles")
            report["saves"] = bench_saves(
                daemon, args.saves, args.adds, checks, time.perf_counter() + SAVES_BUDGET
            )
            report["worker_fds"] = inherited_fds(daemon.pid)
            report["keepalive"] = keepalive_probe(daemon)
            ka = report["keepalive"]
            checks.add(
                "keep-alive connection from before the first build: closed or answered",
                ka.get("state") == "closed by the server" or ka.get("next_request") == "HTTP 200",
                json.dumps(ka) + "; worker fds: " + json.dumps(report["worker_fds"]),
            )
            log(f"idle: {args.idle_seconds:.0f}s")
            report["idle"] = bench_idle(daemon, args.idle_seconds, checks)
            report["_tree"] = _tree_pids(daemon.pid)
            if args.skip_wrk:
                report["http"] = {"skipped": "--skip-wrk"}
            else:
                log("http: wrk against feedpub and nginx")
                report["http"] = bench_http(daemon, checks, args.http_rounds)
            report["health_at_end"] = daemon.health()
            report["healthz_round_trip_ms"] = summary_ms(daemon.healthz_ms)
    except (BenchError, requests.RequestException, subprocess.SubprocessError, OSError) as e:
        failure = f"{type(e).__name__}: {e}"
        report["traceback"] = traceback.format_exc()
        log(report["traceback"])
        checks.add("benchmark completed", False, failure)
    report.pop("_tree", None)
    logscan = scan_log(site.log_path)
    report["daemon_log"] = logscan
    checks.add(
        "no ERROR/Traceback in the daemon log",
        logscan["error_count"] == 0,
        f"{logscan['error_count']} lines; first: {logscan['error_lines'][:3]}",
    )
    stop = report.get("stop", {})
    checks.add("daemon exited 0 on SIGTERM", stop.get("exit_code") == 0, str(stop))
    checks.add(
        "no daemon processes left after exit",
        not stop.get("leftover_pids"),
        str(stop.get("leftover_pids")),
    )
    runtime = time.perf_counter() - started
    report["runtime_seconds"] = round(runtime, 1)
    report["failure"] = failure
    report["checks"] = checks.results

    table = format_table(build_rows(report))
    report["table"] = table
    print(table)
    http = report.get("http") or {}
    if "cases" in http:
        print(
            f"HTTP: wrk {' '.join(WRK_ARGS)}; wrk, feedpub ([server] processes = "
            f"{args.processes}) and nginx share {os.cpu_count()} CPUs (nginx worker_processes "
            f"auto); {http.get('rounds', 1)} rounds per case, feedpub and nginx alternating, "
            "medians (ratio: the median of the rounds' ratios). nginx gzips on the fly "
            "(gzip_comp_level 1) in the brief's case; feedpub serves gzip it compressed once "
            "(level 6); the extra gzip_static row is nginx serving a precompressed level-6 .gz "
            "copy. Server CPU = CPU time of the server's process tree / wall time (200% = both "
            "cores); other CPU = whole-machine busy minus server and wrk (other processes)."
        )
    print(
        f"daemon log: {logscan['path']} ({logscan['lines']} lines, {logscan['build_lines']} "
        f"builds, {logscan['error_count']} ERROR/Traceback, {logscan['warning_count']} WARNING)"
    )
    for c in checks.results:
        print(
            f"check {'ok  ' if c['ok'] else 'FAIL'} {c['check']}"
            + (f"  ({c['detail']})" if c["detail"] else "")
        )
    print(f"total runtime: {runtime:.1f}s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    print(f"wrote {RESULTS}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
