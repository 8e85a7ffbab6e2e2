"""Built-in WebSub hub benchmark: subscribe N callbacks, then fan one change out to all of them.

Usage::

    python benchmarks/bench_hub.py [--subscribers 1000] [--concurrency 8] [--articles 20]
                                   [--clients 4] [--post-delay-ms 0] [--work DIR] [--json PATH]

Run it with the Python that has feedpub's dependencies (``/tmp/venv/bin/python``); feedpub
itself is taken from this checkout's ``src``. Everything listens on 127.0.0.1.

1. **Receiver**: one ``ThreadingHTTPServer`` with N callback paths ``/cb/0`` … ``/cb/N-1``. A
   ``GET`` (verification of intent) echoes ``hub.challenge``; a ``POST`` (content distribution)
   is counted per path with its arrival time, and answered ``204`` after ``--post-delay-ms``
   (subscribers far away or slow: where ``[notify] concurrency`` matters). It speaks HTTP/1.0,
   so every delivery is a new TCP connection, as for subscribers that are N different hosts.
2. **Daemon**: ``feedpub run --port 0`` on a fresh site in ``WORK`` (``--articles`` articles,
   ``max_entries = 20``, the hub enabled for 127.0.0.0/8, ``[notify] concurrency`` as given,
   no coalescing). The port is read from its log; then it waits for the first build.
3. **Subscribe**: N ``POST /hub`` requests for ``feeds/all.atom.xml`` from ``--clients``
   threads. Timed: until every request was answered ``202``, and until the daemon's log shows
   every subscription verified and stored (``hub: subscribe verified``).
4. **Fan-out**: the newest article's title is changed (a temporary file renamed over it); t0
   is taken just before. Timed until every callback has received its POST: write → first
   delivery (includes the build), write → last, first → last. Then checks: exactly one POST
   per callback, every body identical to the feed the daemon serves, nothing left pending in
   the outbox, no ERROR or Traceback in the daemon's log.

Prints a table; ``--json PATH`` also writes the figures there. Exit status 1 if a check failed.
Every wait is bounded by a deadline, every loop by a count.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
BASE_URL = "https://example.org/"
TOPIC = BASE_URL + "feeds/all.atom.xml"
FEED_PATH = "/feeds/all.atom.xml"
SERVING = re.compile(r"on http://127\.0\.0\.1:(\d+)/")
VERIFIED = "hub: subscribe verified for "

START_TIMEOUT = 30.0  # the log says "serving ..."
FIRST_BUILD_TIMEOUT = 60.0
SUBSCRIBE_TIMEOUT = 300.0  # all N verified and stored
DELIVER_TIMEOUT = 300.0  # all N deliveries in
DRAIN_TIMEOUT = 30.0  # the outbox empty afterwards
STOP_TIMEOUT = 15.0
POLL = 0.01


class BenchError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_until(check: Callable[[], bool], timeout: float, what: str, poll: float = POLL) -> float:
    """Poll ``check`` until true; return the time (perf_counter) it first was. Bounded."""
    deadline = time.perf_counter() + timeout
    for _ in range(int(timeout / poll) + 2):
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            break
        time.sleep(poll)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")


# -- the receiver ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default listen backlog (5) drops SYNs under fan-out


@dataclass
class Receiver:
    """N callbacks on one server: verification GETs echoed, POSTs counted per callback."""

    count: int
    post_delay: float = 0.0  # seconds before answering each POST (a slow subscriber)
    verifications: int = 0
    posts: dict[int, list[float]] = field(default_factory=dict)  # callback → arrival times
    bodies: set[bytes] = field(default_factory=set)
    bad_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _index(self) -> int | None:
                m = re.fullmatch(r"/cb/(\d+)", urlsplit(self.path).path)
                if m is None or int(m.group(1)) >= receiver.count:
                    return None
                return int(m.group(1))

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                challenge = query.get("hub.challenge", [""])[0]
                if self._index() is None or not challenge:
                    with receiver.lock:
                        receiver.bad_requests += 1
                    self._answer(404)
                    return
                with receiver.lock:
                    receiver.verifications += 1
                self._answer(200, challenge.encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                index = self._index()
                with receiver.lock:
                    if index is None:
                        receiver.bad_requests += 1
                    else:
                        receiver.posts.setdefault(index, []).append(now)
                        receiver.bodies.add(body)
                time.sleep(receiver.post_delay)
                self._answer(204 if index is not None else 404)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def callback(self, i: int) -> str:
        return f"{self.url}/cb/{i}"

    def delivered(self) -> int:
        with self.lock:
            return len(self.posts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the site and the daemon ----------------------------------------------------------------


def article_text(i: int, title: str) -> str:
    paragraph = f"Paragraph of article {i}: " + "lorem ipsum dolor sit amet " * 20
    body = "\n\n".join(paragraph for _ in range(4))
    return (
        f"---\ntitle: {title}\ndate: 2025-01-01T{i // 60 % 24:02}:{i % 60:02}:00Z\n"
        f"categories: [Bench]\n---\n{body}\n"
    )


def prepare_site(work: Path, subscribers: int, concurrency: int, articles: int) -> Path:
    site = work / f"hub-n{subscribers}"
    if site.exists():
        shutil.rmtree(site)
    (site / "articles").mkdir(parents=True)
    for i in range(articles):
        (site / "articles" / f"a{i:04}.md").write_text(article_text(i, f"Article {i}"))
    (site / "config.toml").write_text(
        f"""\
[site]
title = "Hub Bench"
base_url = "{BASE_URL}"

[paths]
articles = "articles"
output = "public"
state = "state/state.sqlite3"

[feeds]
max_entries = 20

[hub]
enabled = true
allowed_callback_networks = ["127.0.0.0/8"]
max_per_topic = {max(10_000, subscribers)}
max_subscriptions = {max(100_000, subscribers)}

[notify]
coalesce_seconds = 0
min_interval_seconds = 0
retry_base_seconds = 1
concurrency = {concurrency}

[schedule]
reconcile_seconds = 3600
""",
        encoding="utf-8",
    )
    return site


class Daemon:
    def __init__(self, site: Path) -> None:
        self.site = site
        self.log_path = site / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""
        self.session = requests.Session()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def start(self) -> float:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        cmd = [sys.executable, "-m", "feedpub", "--log-level", "info", "run", "--port", "0"]
        t0 = time.perf_counter()
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=self.site, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )

        def serving() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise BenchError(f"the daemon exited ({self.proc.returncode}):\n{self.tail()}")
            return SERVING.search(self.log_text()) is not None

        wait_until(serving, START_TIMEOUT, "the daemon to serve", poll=0.02)
        m = SERVING.search(self.log_text())
        assert m is not None
        self.base = f"http://{LOOPBACK}:{m.group(1)}"
        wait_until(
            lambda: int(self.health().get("builds") or 0) >= 1,
            FIRST_BUILD_TIMEOUT,
            "the first build",
            poll=0.05,
        )
        return time.perf_counter() - t0

    def health(self) -> dict[str, Any]:
        try:
            r = self.session.get(self.base + "/healthz", timeout=5)
            data: dict[str, Any] = r.json()
        except (requests.RequestException, ValueError):
            return {}
        return data

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def stop(self) -> int | None:
        self.session.close()
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return None


# -- the phases -----------------------------------------------------------------------------


def subscribe_all(daemon: Daemon, receiver: Receiver, clients: int) -> dict[str, Any]:
    n = receiver.count
    local = threading.local()

    def one(i: int) -> int:
        session: requests.Session | None = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": receiver.callback(i)}
        try:
            return session.post(daemon.base + "/hub", data=form, timeout=30).status_code
        except requests.RequestException:
            return 0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(one, range(n)))
    t_answered = time.perf_counter()
    refused = sum(1 for s in statuses if s != 202)
    if refused:
        raise BenchError(f"{refused} of {n} subscription requests were not accepted")
    t_stored = wait_until(
        lambda: daemon.log_text().count(VERIFIED) >= n,
        SUBSCRIBE_TIMEOUT,
        f"{n} subscriptions verified",
        poll=0.05,
    )
    return {
        "requests_answered_s": t_answered - t0,
        "all_verified_s": t_stored - t0,
        "requests_per_s": n / (t_answered - t0),
        "subscriptions_per_s": n / (t_stored - t0),
        "verification_gets": receiver.verifications,
    }


def fan_out(daemon: Daemon, receiver: Receiver, articles: int) -> dict[str, Any]:
    n = receiver.count
    newest = articles - 1  # dated last
    path = daemon.site / "articles" / f"a{newest:04}.md"
    tmp = path.with_name("." + path.name + ".swp")
    tmp.write_text(article_text(newest, "Changed for the fan-out"))
    t0 = time.perf_counter()
    tmp.replace(path)
    wait_until(lambda: receiver.delivered() >= n, DELIVER_TIMEOUT, f"{n} deliveries")
    with receiver.lock:
        arrivals = sorted(t for times in receiver.posts.values() for t in times)
    first, last = arrivals[0], arrivals[-1]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    wait_until(
        lambda: daemon.health().get("pending_notifications") == 0,
        DRAIN_TIMEOUT,
        "the outbox to drain",
        poll=0.05,
    )
    return {
        "write_to_first_delivery_s": first - t0,
        "write_to_all_delivered_s": last - t0,
        "first_to_last_delivery_s": last - first,
        "deliveries_per_s_from_write": n / (last - t0),
        "deliveries_per_s_first_to_last": n / (last - first) if last > first else float("inf"),
        "largest_gap_s": max(gaps, default=0.0),  # a stall: no delivery arrived for this long
        "deliveries_by_second": _histogram([t - t0 for t in arrivals]),
    }


def _histogram(offsets: list[float]) -> list[int]:
    """How many deliveries arrived in each whole second after the write."""
    counts = [0] * (int(max(offsets, default=0.0)) + 1)
    for t in offsets:
        counts[int(t)] += 1
    return counts


def checks(daemon: Daemon, receiver: Receiver) -> list[str]:
    problems: list[str] = []
    with receiver.lock:
        counts = {i: len(times) for i, times in receiver.posts.items()}
        bodies = set(receiver.bodies)
    missing = receiver.count - len(counts)
    extra = sum(c - 1 for c in counts.values() if c > 1)
    if missing:
        problems.append(f"{missing} callbacks got no POST")
    if extra:
        problems.append(f"{extra} duplicate POSTs")
    if receiver.bad_requests:
        problems.append(f"{receiver.bad_requests} requests to unknown paths")
    served = daemon.session.get(
        daemon.base + FEED_PATH, headers={"Accept-Encoding": "identity"}, timeout=5
    ).content
    if bodies != {served}:
        problems.append(f"{len(bodies)} distinct bodies delivered, not just the served feed")
    if b"Changed for the fan-out" not in served:
        problems.append("the served feed does not show the change")
    text = daemon.log_text()
    if " ERROR " in text or "Traceback" in text:
        problems.append("ERROR or Traceback in the daemon's log")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", "-n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8, help="[notify] concurrency")
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4, help="threads sending POST /hub")
    parser.add_argument(
        "--post-delay-ms", type=float, default=0.0, help="each callback answers its POST this late"
    )
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "feedpub-bench-hub"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not 1 <= args.subscribers <= 100_000 or not 1 <= args.articles <= 1000:
        parser.error("--subscribers: 1..100000, --articles: 1..1000")
    if args.concurrency < 1 or args.clients < 1 or not 0 <= args.post_delay_ms <= 10_000:
        parser.error("--concurrency and --clients: at least 1; --post-delay-ms: 0..10000")

    n = args.subscribers
    site = prepare_site(args.work.resolve(), n, args.concurrency, args.articles)
    receiver = Receiver(n, post_delay=args.post_delay_ms / 1000)
    daemon = Daemon(site)
    report: dict[str, Any] = {
        "subscribers": n,
        "notify_concurrency": args.concurrency,
        "hub_verification_threads": 4,  # fixed in feedpub.notify.hub
        "clients": args.clients,
        "post_delay_ms": args.post_delay_ms,
        "articles": args.articles,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "site": str(site),
    }
    problems: list[str] = []
    try:
        report["daemon_start_s"] = daemon.start()
        report["feed_bytes"] = len(
            daemon.session.get(
                daemon.base + FEED_PATH, headers={"Accept-Encoding": "identity"}, timeout=5
            ).content
        )
        log(f"daemon up at {daemon.base}; subscribing {n} callbacks")
        report["subscribe"] = subscribe_all(daemon, receiver, args.clients)
        log("all subscribed; changing one article")
        report["fan_out"] = fan_out(daemon, receiver, args.articles)
        problems = checks(daemon, receiver)
    except BenchError as e:
        problems.append(str(e))
        log(f"FAILED: {e}\n{daemon.tail() if daemon.log_path.exists() else ''}")
    finally:
        report["exit_code"] = daemon.stop()
        receiver.close()
    report["problems"] = problems

    sub = report.get("subscribe", {})
    fan = report.get("fan_out", {})
    rows = [
        ("subscribers (callbacks)", f"{n}"),
        ("[notify] concurrency", f"{args.concurrency}"),
        ("callback answers a POST after", f"{args.post_delay_ms:g} ms"),
        ("feed body", f"{report.get('feed_bytes', '?')} bytes"),
        ("POST /hub answered (202)", _s(sub, "requests_answered_s", "requests_per_s", "req/s")),
        ("all verified and stored", _s(sub, "all_verified_s", "subscriptions_per_s", "subs/s")),
        ("write → first delivery", _s(fan, "write_to_first_delivery_s")),
        (
            "write → all delivered",
            _s(fan, "write_to_all_delivered_s", "deliveries_per_s_from_write", "deliveries/s"),
        ),
        (
            "first → last delivery",
            _s(fan, "first_to_last_delivery_s", "deliveries_per_s_first_to_last", "deliveries/s"),
        ),
        ("largest gap between deliveries", _s(fan, "largest_gap_s")),
        ("deliveries in each second", " ".join(map(str, fan.get("deliveries_by_second", [])))),
        ("checks", "ok" if not problems else "; ".join(problems)),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if problems else 0


def _s(d: dict[str, Any], seconds: str, rate: str | None = None, unit: str = "") -> str:
    if seconds not in d:
        return "-"
    text = f"{d[seconds]:8.3f} s"
    if rate is not None:
        text += f"   {d[rate]:9.1f} {unit}"
    return text


if __name__ == "__main__":
    sys.exit(main())
