"""Scale-out benchmark: one change fanned out to N hub subscribers by W ``feedpub worker``s.

Usage::

    python benchmarks/bench_workers.py [--subscribers 10000] [--workers 1 2 4] [--articles 20]
                                       [--concurrency 8] [--pg URL] [--work DIR] [--json PATH]

Run it with the Python that has feedpub's dependencies (``/tmp/venv/bin/python``); feedpub
itself is taken from this checkout's ``src``. Everything listens on 127.0.0.1. Needs a
PostgreSQL server (``--pg``, default the test database on 127.0.0.1:5432).

For each W (a fresh schema and a fresh build every time):

1. A fresh site (``bench_hub.prepare_site``) whose ``[state] url`` points at PostgreSQL with
   ``search_path`` set to a new schema (created and dropped with psycopg).
2. ``feedpub db upgrade``, then N rows inserted straight into ``subscriptions`` (all for the
   all-articles Atom feed, callbacks ``/cb/0`` … ``/cb/N-1`` on ``bench_hub.Receiver``).
3. ``feedpub build``: the one-shot build queues one hub delivery per subscriber.
4. W ``feedpub worker`` processes are started; t0 is taken just before. Timed until the
   receiver has a POST on every callback (bounded), then a short settle for duplicates.
5. Workers stopped with SIGTERM (bounded; killed if they do not stop).

The baseline, measured in the same run against the same receiver, for each W: W plain sender
processes (``--sender``: a ``requests`` session per thread, ``[notify] concurrency`` threads
each, no state store) POSTing the same feed body to the N callbacks. Its rate is what this
machine's loopback, receiver and Python HTTP stack can carry; feedpub's rate is reported as a
ratio of it (``vs plain``), which is what stays comparable across shared, noisy machines.

Prints a table (W, seconds, deliveries/s, ratio to the baseline, duplicates) and writes JSON to
``benchmarks/results/workers-latest.json`` (or ``--json``). Exit status 1 if a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hub import (
    REPO,
    TOPIC,
    BenchError,
    Receiver,
    log,
    prepare_site,
    wait_until,
)

DEFAULT_PG = "postgresql+psycopg://feedpub:feedpub@127.0.0.1:5432/feedpub_test"
RESULTS = REPO / "benchmarks" / "results" / "workers-latest.json"
EXPIRES = "2030-01-01T00:00:00.000000+00:00"
CREATED = "2025-01-01T00:00:00.000000+00:00"
LEASE = 10 * 365 * 24 * 3600

CMD_TIMEOUT = 300.0  # db upgrade, build
DELIVER_TIMEOUT = 300.0  # all N deliveries in
SETTLE = 1.0  # after the last delivery: anything sent twice arrives by now
STOP_TIMEOUT = 15.0


def feedpub(*args: str) -> list[str]:
    return [sys.executable, "-m", "feedpub", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src")}


def run_cmd(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CMD_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(args[2:])} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return proc.stdout


def plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def insert_subscriptions(conn: psycopg.Connection[Any], schema: str, receiver: Receiver) -> None:
    rows = [
        (TOPIC, receiver.callback(i), None, LEASE, EXPIRES, CREATED) for i in range(receiver.count)
    ]
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {schema}.subscriptions"
            " (topic, callback, secret, lease_seconds, expires_at, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> list[int | None]:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for w in workers:
        try:
            codes.append(w.wait(STOP_TIMEOUT))
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait(5)
            codes.append(None)
    return codes


def one_run(w: int, n: int, pg: str, work: Path, concurrency: int, articles: int) -> dict[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    site = prepare_site(work / f"w{w}", n, concurrency, articles)
    sep = "&" if "?" in pg else "?"
    with open(site / "config.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[state]\nurl = "{pg}{sep}options=-csearch_path%3D{schema}"\n')
    cfg = str(site / "config.toml")
    receiver = Receiver(n)
    result: dict[str, Any] = {"workers": w, "schema": schema}
    problems: list[str] = []
    logs: list[TextIO] = []
    workers: list[subprocess.Popen[bytes]] = []
    with psycopg.connect(plain_url(pg), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            run_cmd(feedpub("db", "upgrade", "--config", cfg), site)
            t = time.perf_counter()
            insert_subscriptions(conn, schema, receiver)
            result["insert_s"] = time.perf_counter() - t
            t = time.perf_counter()
            result["build_stdout"] = run_cmd(feedpub("build", "--config", cfg), site).strip()
            result["build_s"] = time.perf_counter() - t
            queued = conn.execute(f"SELECT count(*) FROM {schema}.outbox").fetchone()
            result["outbox_rows"] = queued[0] if queued else None
            log(f"W={w}: {n} subscriptions, build queued {result['outbox_rows']} rows; starting")
            t0 = time.perf_counter()
            for i in range(w):
                out = open(site / f"worker{i}.log", "w+", encoding="utf-8")  # noqa: SIM115
                logs.append(out)
                workers.append(
                    subprocess.Popen(
                        feedpub("worker", "--config", cfg),
                        cwd=site,
                        env=env(),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=out,
                    )
                )

            def done() -> bool:
                if any(p.poll() is not None for p in workers):
                    raise BenchError("a worker exited early")
                return receiver.delivered() >= n

            wait_until(done, DELIVER_TIMEOUT, f"{n} deliveries", poll=0.01)
            with receiver.lock:
                arrivals = sorted(x for times in receiver.posts.values() for x in times)
            last = arrivals[-1]
            result["seconds"] = last - t0
            result["first_delivery_s"] = arrivals[0] - t0
            result["deliveries_per_s"] = n / (last - t0)
            time.sleep(SETTLE)
            log(f"W={w}: baseline, {w} plain sender processes")
            result["baseline"] = baseline(w, n, concurrency, site / "public/feeds/all.atom.xml")
            result["vs_plain"] = result["deliveries_per_s"] / result["baseline"]["deliveries_per_s"]
        except BenchError as e:
            problems.append(str(e))
            log(f"W={w} FAILED: {e}")
        finally:
            result["exit_codes"] = stop_workers(workers)
            with receiver.lock:
                counts = [len(v) for v in receiver.posts.values()]
                result["bad_requests"] = receiver.bad_requests
            receiver.close()
            result["delivered_callbacks"] = len(counts)
            result["duplicates"] = sum(c - 1 for c in counts)
            for handle in logs:
                handle.seek(0)
                text = handle.read()
                handle.close()
                if "Traceback" in text or " ERROR " in text:
                    problems.append("ERROR or Traceback in a worker's log")
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    if result["delivered_callbacks"] != n:
        problems.append(f"{n - result['delivered_callbacks']} callbacks got no POST")
    if result["duplicates"]:
        problems.append(f"{result['duplicates']} duplicate POSTs")
    if result["bad_requests"]:
        problems.append(f"{result['bad_requests']} requests to unknown paths")
    if any(c != 0 for c in result["exit_codes"]):
        problems.append(f"worker exit codes {result['exit_codes']}")
    result["problems"] = problems
    return result


def sender(url: str, start: int, end: int, concurrency: int, body_path: str) -> None:
    """Baseline sender: POST the body to callbacks start..end-1, ``concurrency`` at a time."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    body = Path(body_path).read_bytes()
    local = threading.local()
    headers = {"Content-Type": "application/atom+xml", "User-Agent": "bench-baseline"}

    def post(i: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        session.post(f"{url}/cb/{i}", data=body, headers=headers, timeout=30).close()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, range(start, end)))


def baseline(w: int, n: int, concurrency: int, body: Path) -> dict[str, Any]:
    """W plain sender processes delivering ``body`` to N callbacks: deliveries per second."""
    receiver = Receiver(n)
    try:
        bounds = [n * i // w for i in range(w + 1)]
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--sender",
                    receiver.url,
                    str(bounds[i]),
                    str(bounds[i + 1]),
                    str(concurrency),
                    str(body),
                ],
                stdin=subprocess.DEVNULL,
            )
            for i in range(w)
        ]
        codes = [p.wait(DELIVER_TIMEOUT) for p in procs]
        with receiver.lock:
            arrivals = sorted(x for times in receiver.posts.values() for x in times)
            delivered = len(receiver.posts)
    finally:
        receiver.close()
    if any(codes) or delivered != n:
        raise BenchError(f"baseline W={w}: exit codes {codes}, {delivered}/{n} delivered")
    return {"seconds": arrivals[-1] - t0, "deliveries_per_s": n / (arrivals[-1] - t0)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--sender"]:
        url, start, end, conc, body = argv[1:6]
        sender(url, int(start), int(end), int(conc), body)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", "-n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=8, help="[notify] concurrency")
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--pg", default=DEFAULT_PG, help="SQLAlchemy URL of the PostgreSQL db")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "feedpub-bench-workers"
    )
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not 1 <= args.subscribers <= 100_000 or not 1 <= args.articles <= 1000:
        parser.error("--subscribers: 1..100000, --articles: 1..1000")
    if args.concurrency < 1 or not all(1 <= w <= 64 for w in args.workers):
        parser.error("--concurrency: at least 1; --workers: 1..64 each")

    n = args.subscribers
    runs = [
        one_run(w, n, args.pg, args.work.resolve(), args.concurrency, args.articles)
        for w in args.workers
    ]
    report: dict[str, Any] = {
        "subscribers": n,
        "notify_concurrency": args.concurrency,
        "articles": args.articles,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "runs": runs,
    }
    print()
    print(f"subscribers: {n}   [notify] concurrency per worker: {args.concurrency}")
    print(
        f"{'W':>3}  {'seconds':>9}  {'deliveries/s':>12}  {'plain/s':>9}  {'vs plain':>8}"
        f"  {'duplicates':>10}  checks"
    )
    for r in runs:
        secs = f"{r['seconds']:9.3f}" if "seconds" in r else f"{'-':>9}"
        rate = f"{r['deliveries_per_s']:12.1f}" if "deliveries_per_s" in r else f"{'-':>12}"
        plain = f"{r['baseline']['deliveries_per_s']:9.1f}" if "baseline" in r else f"{'-':>9}"
        ratio = f"{r['vs_plain']:7.2f}x" if "vs_plain" in r else f"{'-':>8}"
        checks = "ok" if not r["problems"] else "; ".join(r["problems"])
        print(
            f"{r['workers']:>3}  {secs}  {rate}  {plain}  {ratio}  {r['duplicates']:>10}  {checks}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["problems"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
