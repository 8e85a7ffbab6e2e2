"""Scale-out benchmark: one change fanned out to N hub subscribers by W ``feedpub worker``s,
against a plain aiohttp loop posting the same body to the same receiver.

Usage::

    python benchmarks/bench_workers.py [--subscribers 10000] [--workers 1 2] [--rounds 3]
                                       [--concurrency 8] [--old-src DIR] [--articles 20]
                                       [--pg URL] [--work DIR] [--json PATH]

Run it with the Python that has feedpub's dependencies; feedpub itself is taken from this
checkout's ``src``. Everything listens on 127.0.0.1. Needs a PostgreSQL server (``--pg``,
default the test database on 127.0.0.1:5432).

**The receiver** is a process of its own (``--receiver``): uvicorn (uvloop, httptools) with
a tiny ASGI app that answers every ``POST /cb/<i>`` with ``204`` on kept-alive connections,
and counts per callback (with the arrival time of the first and the last POST, the distinct
bodies by CRC-32 and length, the client connections seen). It is one event loop in its own
process, so it is not what limits a sender; ``GET /stats`` reads its counts, ``POST /reset``
clears them between measurements.

**Each round**, for each W, measures in turn (the order rotating from round to round, so no
kind always goes first):

* ``feedpub``: a fresh site (``bench_hub.prepare_site``) whose ``[state] url`` is PostgreSQL
  with ``search_path`` set to a new schema; ``feedpub db upgrade``; N rows inserted straight
  into ``subscriptions`` (all for the all-articles Atom feed, callbacks ``/cb/0`` …); ``feedpub
  build`` queues one hub delivery per subscriber; then W ``feedpub worker`` processes are
  started and timed until the receiver has a POST on every callback (bounded), then a short
  settle for duplicates, then SIGTERM (bounded; killed if they do not stop);
* ``plain``: W processes of a plain aiohttp loop (``--plain``: one session, ``--concurrency``
  POSTs in flight, the same body and headers, no state store) sharing the N callbacks;
* ``old`` (with ``--old-src DIR``, a checkout's ``src`` of an earlier feedpub): as ``feedpub``,
  the workers running that code.

A rate is N divided by the time from the first POST to the last (all senders' start-up, a
Python interpreter and its imports, is left out of every kind alike); the table also shows
N divided by the time from starting the processes to the last POST. Per W it prints the
median of the rounds for each kind and the ratio ``feedpub / plain`` (the median of each
round's ratio): what stays comparable across shared, noisy machines. JSON goes to
``benchmarks/results/workers-latest.json`` (or ``--json``). Exit status 1 if a check failed
(a callback without its POST, a duplicate, a body other than the feed, an error in a log).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hub import REPO, TOPIC, BenchError, log, prepare_site, wait_until

DEFAULT_PG = "postgresql+psycopg://feedpub:feedpub@127.0.0.1:5432/feedpub_test"
RESULTS = REPO / "benchmarks" / "results" / "workers-latest.json"
EXPIRES = "2030-01-01T00:00:00.000000+00:00"
CREATED = "2025-01-01T00:00:00.000000+00:00"
LEASE = 10 * 365 * 24 * 3600
LINKS = f'<{TOPIC.rsplit("/feeds/", 1)[0]}/hub>; rel="hub", <{TOPIC}>; rel="self"'

CMD_TIMEOUT = 300.0  # db upgrade, build
DELIVER_TIMEOUT = 300.0  # all N deliveries in
RECEIVER_TIMEOUT = 20.0  # the receiver process says its port
SETTLE = 1.0  # after the last delivery: anything sent twice arrives by now
STOP_TIMEOUT = 15.0
KINDS = ("feedpub", "plain", "old")


def feedpub(*args: str) -> list[str]:
    return [sys.executable, "-m", "feedpub", *args]


def env(src: Path = REPO / "src") -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src)}


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


# -- the receiver: its own process -------------------------------------------------------------


def serve_receiver(count: int) -> None:
    """``--receiver N``: uvicorn with a tiny ASGI app on 127.0.0.1, port 0; prints the port,
    then serves until SIGTERM."""
    import uvicorn

    posts = [0] * count
    tally: dict[str, Any] = {}

    def reset() -> None:
        posts[:] = [0] * count
        tally.update(first=None, last=None, bad=0, bodies=set(), clients=set())

    reset()

    async def respond(send: Any, status: int, body: bytes = b"") -> None:
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        if scope["method"] == "POST" and path.startswith("/cb/"):
            now = time.monotonic()
            index = path[4:]
            if index.isdigit() and int(index) < count:
                posts[int(index)] += 1
                tally["bodies"].add((zlib.crc32(body), len(body)))
                tally["clients"].add(tuple(scope.get("client") or ()))
                tally["first"] = tally["first"] or now
                tally["last"] = now
            else:
                tally["bad"] += 1
            await respond(send, 204)
        elif path == "/stats":
            stats = {
                "delivered": sum(1 for c in posts if c),
                "posts": sum(posts),
                "duplicates": sum(c - 1 for c in posts if c > 1),
                "bad": tally["bad"],
                "first": tally["first"],
                "last": tally["last"],
                "bodies": sorted(tally["bodies"]),
                "connections": len(tally["clients"]),
            }
            await respond(send, 200, json.dumps(stats).encode())
        elif path == "/reset" and scope["method"] == "POST":
            reset()
            await respond(send, 204)
        else:
            await respond(send, 404)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=60,
        backlog=2048,
    )
    uvicorn.Server(config).run(sockets=[sock])


class AsyncReceiver:
    """The receiver process, seen from the benchmark."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--receiver", str(count)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        port = ""
        deadline = time.monotonic() + RECEIVER_TIMEOUT
        while not port and time.monotonic() < deadline and self.proc.poll() is None:
            port = self.proc.stdout.readline().strip()
        if not port.isdigit():
            self.close()
            raise BenchError("the receiver did not start")
        self.url = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        wait_until(self._up, RECEIVER_TIMEOUT, "the receiver to answer", poll=0.05)

    def _up(self) -> bool:
        try:
            return self.session.get(self.url + "/stats", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def callback(self, i: int) -> str:
        return f"{self.url}/cb/{i}"

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.session.get(self.url + "/stats", timeout=10).json()
        return data

    def reset(self) -> None:
        self.session.post(self.url + "/reset", timeout=10).raise_for_status()

    def close(self) -> None:
        if hasattr(self, "session"):
            self.session.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# -- the plain loop: its own processes ---------------------------------------------------------


def plain_sender(url: str, start: int, end: int, concurrency: int, body_path: str) -> None:
    """``--plain``: POST the body to callbacks start..end-1 with aiohttp, ``concurrency`` at
    a time over one session (uvloop, as feedpub's fan-out)."""
    import asyncio

    import aiohttp
    import uvloop

    body = Path(body_path).read_bytes()
    headers = {
        "Content-Type": "application/atom+xml; charset=utf-8",
        "Link": LINKS,
        "User-Agent": "bench-plain",
    }

    async def main() -> None:
        todo = iter(range(start, end))
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one_at_a_time() -> None:
                for i in todo:
                    async with session.post(f"{url}/cb/{i}", data=body, headers=headers) as r:
                        await r.read()
                        if r.status != 204:
                            raise BenchError(f"plain: HTTP {r.status}")
                    if not cpu:
                        cpu.append(time.process_time())
                    done[0] += 1

            await asyncio.gather(*(one_at_a_time() for _ in range(concurrency)))

    cpu: list[float] = []  # when the first POST was answered
    done = [0]
    uvloop.run(main())
    # for the parent: CPU seconds from the first answer on, and the deliveries they carried
    print(json.dumps({"cpu_s": time.process_time() - cpu[0], "deliveries": done[0] - 1}))


# -- one measurement ---------------------------------------------------------------------------


def rates(stats: dict[str, Any], n: int, t0: float) -> dict[str, float]:
    first, last = stats["first"], stats["last"]
    return {
        "seconds": last - t0,
        "first_to_last_s": last - first,
        "deliveries_per_s": n / (last - first) if last > first else float("inf"),
        "deliveries_per_s_from_start": n / (last - t0),
    }


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a live process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def until_delivered(
    receiver: AsyncReceiver, procs: Sequence[subprocess.Popen[Any]], n: int, *, live: bool
) -> dict[str, Any]:
    """Wait for N deliveries, then settle; the receiver's stats. ``live``: the senders stay
    up until stopped (workers), so their CPU from the first delivery on is read from /proc
    (``cpu_s``, with ``cpu_deliveries`` it carried)."""
    at_first: list[tuple[int, list[float]]] = []

    def done() -> bool:
        if any(p.poll() not in (None, 0) for p in procs):
            raise BenchError("a sender exited with an error")
        delivered = int(receiver.stats()["delivered"])
        if live and delivered and not at_first:
            at_first.append((delivered, [cpu_seconds(p.pid) for p in procs]))
        return delivered >= n

    wait_until(done, DELIVER_TIMEOUT, f"{n} deliveries", poll=0.02)
    stats = receiver.stats()
    if live and at_first:
        delivered, cpu = at_first[0]
        stats["cpu_s"] = sum(cpu_seconds(p.pid) - c for p, c in zip(procs, cpu, strict=True))
        stats["cpu_deliveries"] = n - delivered
    time.sleep(SETTLE)
    return {**receiver.stats(), **{k: v for k, v in stats.items() if k.startswith("cpu_")}}


def checks(stats: dict[str, Any], n: int, feed: bytes) -> list[str]:
    problems = []
    if stats["delivered"] != n:
        problems.append(f"{n - stats['delivered']} callbacks got no POST")
    if stats["duplicates"]:
        problems.append(f"{stats['duplicates']} duplicate POSTs")
    if stats["bad"]:
        problems.append(f"{stats['bad']} requests to unknown paths")
    if stats["bodies"] != [[zlib.crc32(feed), len(feed)]]:
        problems.append(f"bodies {stats['bodies']} are not just the feed")
    return problems


def measure_feedpub(
    receiver: AsyncReceiver, w: int, args: argparse.Namespace, src: Path, label: str
) -> dict[str, Any]:
    n = args.subscribers
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    site = prepare_site(args.work.resolve() / f"{label}-w{w}", n, args.concurrency, args.articles)
    sep = "&" if "?" in args.pg else "?"
    with open(site / "config.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[state]\nurl = "{args.pg}{sep}options=-csearch_path%3D{schema}"\n')
    cfg = str(site / "config.toml")
    result: dict[str, Any] = {"kind": label, "workers": w}
    problems: list[str] = []
    logs: list[TextIO] = []
    workers: list[subprocess.Popen[bytes]] = []
    with psycopg.connect(plain_url(args.pg), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            run_cmd(feedpub("db", "upgrade", "--config", cfg), site)
            rows = [(TOPIC, receiver.callback(i), None, LEASE, EXPIRES, CREATED) for i in range(n)]
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {schema}.subscriptions"
                    " (topic, callback, secret, lease_seconds, expires_at, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    rows,
                )
            run_cmd(feedpub("build", "--config", cfg), site)
            queued = conn.execute(f"SELECT count(*) FROM {schema}.outbox").fetchone()
            if not queued or queued[0] != n:
                raise BenchError(f"the build queued {queued} deliveries, not {n}")
            receiver.reset()
            t0 = time.monotonic()
            for i in range(w):
                out = open(site / f"worker{i}.log", "w+", encoding="utf-8")  # noqa: SIM115
                logs.append(out)
                workers.append(
                    subprocess.Popen(
                        feedpub("worker", "--config", cfg),
                        cwd=site,
                        env=env(src),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=out,
                    )
                )
            stats = until_delivered(receiver, workers, n, live=True)
            result.update(rates(stats, n, t0), connections=stats["connections"])
            result["cpu_us_per_delivery"] = 1e6 * stats["cpu_s"] / stats["cpu_deliveries"]
            problems += checks(stats, n, (site / "public/feeds/all.atom.xml").read_bytes())
        except BenchError as e:
            problems.append(str(e))
            log(f"{label} W={w} FAILED: {e}")
        finally:
            codes = stop(workers)
            for handle in logs:
                handle.seek(0)
                text = handle.read()
                handle.close()
                if "Traceback" in text or " ERROR " in text:
                    problems.append("ERROR or Traceback in a worker's log")
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    if any(c != 0 for c in codes):
        problems.append(f"worker exit codes {codes}")
    result["problems"] = problems
    return result


def measure_plain(
    receiver: AsyncReceiver, w: int, args: argparse.Namespace, feed: Path
) -> dict[str, Any]:
    n = args.subscribers
    result: dict[str, Any] = {"kind": "plain", "workers": w}
    problems: list[str] = []
    receiver.reset()
    bounds = [n * i // w for i in range(w + 1)]
    t0 = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--plain",
                receiver.url,
                str(bounds[i]),
                str(bounds[i + 1]),
                str(args.concurrency),
                str(feed),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(w)
    ]
    try:
        stats = until_delivered(receiver, procs, n, live=False)
        result.update(rates(stats, n, t0), connections=stats["connections"])
        cpu = [json.loads(p.communicate(timeout=STOP_TIMEOUT)[0]) for p in procs]
        result["cpu_us_per_delivery"] = (
            1e6 * sum(c["cpu_s"] for c in cpu) / sum(c["deliveries"] for c in cpu)
        )
        problems += checks(stats, n, feed.read_bytes())
    except BenchError as e:
        problems.append(str(e))
        log(f"plain W={w} FAILED: {e}")
    finally:
        codes = stop(procs)
    if any(c != 0 for c in codes):
        problems.append(f"plain sender exit codes {codes}")
    result["problems"] = problems
    return result


def stop(procs: Sequence[subprocess.Popen[Any]]) -> list[int | None]:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for p in procs:
        try:
            codes.append(p.wait(STOP_TIMEOUT))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
            codes.append(None)
    return codes


# -- the whole run -----------------------------------------------------------------------------


def feed_file(args: argparse.Namespace) -> Path:
    """The feed every kind delivers: built once, as the workers' sites build it."""
    site = prepare_site(args.work.resolve() / "feed", 1, args.concurrency, args.articles)
    run_cmd(feedpub("build", "--config", str(site / "config.toml")), site)
    return site / "public/feeds/all.atom.xml"


def summary(
    runs: list[dict[str, Any]], workers: list[int], kinds: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for w in workers:
        row: dict[str, Any] = {"workers": w}
        for kind in kinds:
            ok = [r for r in runs if r["kind"] == kind and r["workers"] == w and not r["problems"]]
            if ok:
                row[kind] = statistics.median(r["deliveries_per_s"] for r in ok)
                row[kind + "_from_start"] = statistics.median(
                    r["deliveries_per_s_from_start"] for r in ok
                )
                row[kind + "_connections"] = statistics.median(r["connections"] for r in ok)
                row[kind + "_cpu_us"] = statistics.median(r["cpu_us_per_delivery"] for r in ok)
        ratios = []
        for r in {r["round"] for r in runs}:
            by = {x["kind"]: x for x in runs if x["round"] == r and x["workers"] == w}
            if all(k in by and not by[k]["problems"] for k in ("feedpub", "plain")):
                ratios.append(by["feedpub"]["deliveries_per_s"] / by["plain"]["deliveries_per_s"])
        if ratios:
            row["ratio"] = statistics.median(ratios)
            row["ratios"] = ratios
        rows.append(row)
    return rows


def measure(
    receiver: AsyncReceiver, w: int, args: argparse.Namespace, feed: Path, kind: str
) -> dict[str, Any]:
    """One measurement of ``kind``; once more if PostgreSQL went away meanwhile (on a shared
    machine, another's test suite may restart it)."""

    def once() -> dict[str, Any]:
        if kind == "plain":
            return measure_plain(receiver, w, args, feed)
        src = REPO / "src" if kind == "feedpub" else args.old_src
        return measure_feedpub(receiver, w, args, src, kind)

    try:
        return once()
    except psycopg.OperationalError as e:
        log(f"PostgreSQL went away ({e}); measuring again in 10 s")
        time.sleep(10)
    return once()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--receiver"]:
        serve_receiver(int(argv[1]))
        return 0
    if argv[:1] == ["--plain"]:
        url, start, end, conc, body = argv[1:6]
        plain_sender(url, int(start), int(end), int(conc), body)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", "-n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="[notify] concurrency")
    parser.add_argument("--old-src", type=Path, help="an earlier feedpub's src, measured too")
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
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds: 1..20")
    if args.old_src is not None and not (args.old_src / "feedpub").is_dir():
        parser.error("--old-src: a folder holding the feedpub package")

    n = args.subscribers
    kinds = [k for k in KINDS if k != "old" or args.old_src is not None]
    feed = feed_file(args)
    receiver = AsyncReceiver(n)
    runs: list[dict[str, Any]] = []
    try:
        for rnd in range(args.rounds):
            for w in args.workers:
                order = kinds[rnd % len(kinds) :] + kinds[: rnd % len(kinds)]
                for kind in order:
                    log(f"round {rnd + 1}/{args.rounds}, W={w}: {kind}")
                    run = measure(receiver, w, args, feed, kind)
                    run["round"] = rnd
                    runs.append(run)
                    if "deliveries_per_s" in run:
                        log(
                            f"  {run['deliveries_per_s']:8.1f} deliveries/s first→last,"
                            f" {run['deliveries_per_s_from_start']:8.1f} from start,"
                            f" {run['connections']} connections,"
                            f" {run.get('cpu_us_per_delivery', 0):.0f} CPU µs/delivery"
                            + (f"  PROBLEMS: {run['problems']}" if run["problems"] else "")
                        )
    finally:
        receiver.close()
    table = summary(runs, args.workers, kinds)
    report: dict[str, Any] = {
        "subscribers": n,
        "notify_concurrency": args.concurrency,
        "rounds": args.rounds,
        "articles": args.articles,
        "feed_bytes": feed.stat().st_size,
        "old_src": str(args.old_src) if args.old_src else None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "summary": table,
        "runs": runs,
    }
    print()
    print(
        f"subscribers: {n}   feed: {feed.stat().st_size} bytes   concurrency per sender:"
        f" {args.concurrency}   rounds: {args.rounds} (medians; rates first POST → last)"
    )
    head = f"{'W':>3}  {'feedpub/s':>10}  {'plain/s':>10}  {'feedpub/plain':>13}"
    if "old" in kinds:
        head += f"  {'old/s':>8}  {'feedpub/old':>11}"
    print(
        head + "  CPU µs/delivery (feedpub, plain)  connections (feedpub, plain)"
        "  from start (feedpub, plain)"
    )
    for row in table:
        line = (
            f"{row['workers']:>3}  {row.get('feedpub', 0):10.1f}  {row.get('plain', 0):10.1f}"
            f"  {row.get('ratio', 0):12.2f}x"
        )
        if "old" in kinds:
            old = row.get("old", 0)
            line += f"  {old:8.1f}  {row.get('feedpub', 0) / old if old else 0:10.2f}x"
        line += (
            f"  {row.get('feedpub_cpu_us', 0):>15.0f} {row.get('plain_cpu_us', 0):>6.0f}"
            f"  {row.get('feedpub_connections', 0):>19.0f} {row.get('plain_connections', 0):>6.0f}"
            f"   {row.get('feedpub_from_start', 0):>14.1f} {row.get('plain_from_start', 0):>8.1f}"
        )
        print(line)
    failed = [r for r in runs if r["problems"]]
    for r in failed:
        print(f"round {r['round'] + 1} {r['kind']} W={r['workers']}: {'; '.join(r['problems'])}")
    print("checks: " + ("ok" if not failed else f"{len(failed)} measurements failed"))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
