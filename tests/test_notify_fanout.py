"""The hub's deliveries (notify/fanout.py) against real HTTP/1.1 subscribers on 127.0.0.1:
connections reused, answers read only so far and so long, redirects not followed, refused
addresses never connected to, signatures, 410 Gone, and rows that cannot start in time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import socket
import threading
import time
import types
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from feedpub.model import OutboxRow
from feedpub.notify import guard
from feedpub.notify.fanout import STOPPED, Delivery, FanOut, post
from feedpub.notify.guard import guarded_connector
from feedpub.notify.notifier import Notifier
from feedpub.notify.plan import Outcome
from feedpub.store import State
from tests.conftest import NOW, Site

LOOPBACK = [ipaddress.ip_network("127.0.0.1/32")]
TOPIC = "https://example.org/feeds/all.atom.xml"


class Subscribers:
    """An HTTP/1.1 server (keep-alive) on ``host``: every POST is recorded (path, headers,
    body) and answered as ``behaviour[path]`` says: a status (default 204), ``"hang"`` (no
    answer for 5 s), ``"huge"`` (500 with a 64 MB body, written as fast as it is taken),
    ``"drip"`` (200, then a byte every 0.2 s of a 1,000-byte body), ``"redirect"`` (307 to
    ``redirect_to``). ``connections`` counts the TCP connections accepted."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.behaviour: dict[str, object] = {}
        self.redirect_to = ""
        self.connections = 0
        self.lock = threading.Lock()
        subs = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with subs.lock:
                    subs.posts.append(
                        (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    how = subs.behaviour.get(self.path, 204)
                if how == "hang":
                    time.sleep(5)
                    self.close_connection = True
                    return
                if how == "huge":
                    self._huge()
                    return
                if how == "drip":
                    self._drip()
                    return
                if how == "redirect":
                    self.send_response(307)
                    self.send_header("Location", subs.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                assert isinstance(how, int)
                self.send_response(how)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _huge(self) -> None:
                self.send_response(500)
                self.send_header("Content-Length", str(64 * 2**20))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(1024):
                        self.wfile.write(chunk)
                except OSError:  # the hub closed the connection: what it should do
                    pass
                self.close_connection = True

            def _drip(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(50):  # at most 10 s
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    pass
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request: Any, client_address: Any) -> None:
                with subs.lock:
                    subs.connections += 1
                super().process_request(request, client_address)

        self.server = Server((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _, _ in self.posts]


@pytest.fixture
def subscribers() -> Iterator[Subscribers]:
    s = Subscribers()
    yield s
    s.close()


def _row(i: int, lease: datetime | None = None) -> OutboxRow:
    return OutboxRow(
        id=i,
        kind="delivery",
        target=f"subscription:{i}",
        topic=TOPIC,
        subscription_id=i,
        created_at=NOW,
        not_before=NOW,
        attempts=0,
        lease=lease,
    )


def _delivery(i: int, callback: str, body: bytes = b"<feed/>") -> Delivery:
    headers = {"Content-Type": "application/atom+xml; charset=utf-8", "User-Agent": "test"}
    return Delivery(row=_row(i), callback=callback, body=body, headers=headers)


def _fan_out(
    deliveries: list[Delivery], *, concurrency: int = 4, timeout: float = 5.0
) -> dict[int, Outcome | None]:
    """Send ``deliveries`` through a FanOut (the loopback allowed); their outcomes by id."""
    outcomes: dict[int, Outcome | None] = {}
    done = threading.Event()
    lock = threading.Lock()

    def report(ended: Sequence[tuple[OutboxRow, Outcome | None]]) -> None:
        with lock:
            outcomes.update((row.id, outcome) for row, outcome in ended)
            if len(outcomes) == len(deliveries):
                done.set()

    fanout = FanOut(
        allowed=LOOPBACK, concurrency=concurrency, timeout=timeout, may_start=lambda row: True
    )
    try:
        fanout.send(deliveries, report)
        assert done.wait(30)
    finally:
        fanout.close()
    return outcomes


def test_a_fan_out_reuses_its_connections(subscribers: Subscribers) -> None:
    n = 60
    outcomes = _fan_out([_delivery(i, f"{subscribers.url}/cb/{i}") for i in range(n)])
    assert all(o is not None and o.ok and o.status == 204 for o in outcomes.values())
    assert sorted(subscribers.paths()) == sorted(f"/cb/{i}" for i in range(n))
    assert 1 <= subscribers.connections <= 4  # (concurrency 4): not one connection each


def test_the_request_carries_the_body_and_headers(subscribers: Subscribers) -> None:
    body = "<feed>é</feed>".encode()
    [outcome] = _fan_out([_delivery(1, subscribers.url + "/cb", body)]).values()
    assert outcome is not None and outcome.ok
    [(_, headers, received)] = subscribers.posts
    assert received == body
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert headers["user-agent"] == "test"
    assert headers["content-length"] == str(len(body))
    assert "cookie" not in headers and "accept-encoding" not in headers


def test_an_oversize_answer_is_read_no_further_and_its_connection_closed(
    subscribers: Subscribers,
) -> None:
    subscribers.behaviour["/huge"] = "huge"
    started = time.monotonic()
    outcomes = _fan_out(
        [_delivery(1, subscribers.url + "/huge"), _delivery(2, subscribers.url + "/after")],
        concurrency=1,
    )
    assert time.monotonic() - started < 5
    huge = outcomes[1]
    assert huge is not None and not huge.ok and huge.retryable and huge.status == 500
    assert huge.error == "HTTP 500: " + "x" * 200  # the first 200 bytes, no more
    after = outcomes[2]
    assert after is not None and after.ok
    assert subscribers.connections == 2  # the unread rest was not left on a reused connection


def test_a_subscriber_that_never_answers_times_out(subscribers: Subscribers) -> None:
    subscribers.behaviour["/hang"] = "hang"
    started = time.monotonic()
    [outcome] = _fan_out([_delivery(1, subscribers.url + "/hang")], timeout=1.0).values()
    assert time.monotonic() - started < 3
    assert outcome is not None and not outcome.ok and outcome.retryable
    assert outcome.error == "timed out"


def test_an_answer_dripping_in_is_read_only_until_the_timeout(subscribers: Subscribers) -> None:
    subscribers.behaviour["/drip"] = "drip"
    started = time.monotonic()
    [outcome] = _fan_out([_delivery(1, subscribers.url + "/drip")], timeout=1.0).values()
    assert time.monotonic() - started < 3
    assert outcome is not None and outcome.ok and outcome.status == 200  # its status counts


def test_one_hanging_subscriber_does_not_hold_up_the_others(subscribers: Subscribers) -> None:
    subscribers.behaviour["/cb/0"] = "hang"
    started = time.monotonic()
    arrived = threading.Event()

    def all_others_in() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if len(subscribers.paths()) == 20:
                arrived.set()
                return
            time.sleep(0.01)

    threading.Thread(target=all_others_in, daemon=True).start()
    outcomes = _fan_out(
        [_delivery(i, f"{subscribers.url}/cb/{i}") for i in range(20)], concurrency=2, timeout=2.0
    )
    assert arrived.wait(1)
    assert sum(1 for o in outcomes.values() if o is not None and o.ok) == 19
    assert time.monotonic() - started < 5


def test_a_redirect_is_not_followed_least_of_all_to_an_address_the_hub_may_not_call(
    subscribers: Subscribers,
) -> None:
    elsewhere = Subscribers("127.0.0.2")  # loopback, but not allowed (LOOPBACK is 127.0.0.1)
    try:
        subscribers.behaviour["/cb"] = "redirect"
        subscribers.redirect_to = elsewhere.url + "/stolen"
        [outcome] = _fan_out([_delivery(1, subscribers.url + "/cb")]).values()
        assert outcome is not None and not outcome.ok and not outcome.retryable
        assert outcome.status == 307
        assert elsewhere.connections == 0 and elsewhere.posts == []
    finally:
        elsewhere.close()


def _post_directly(url: str, allowed: list[Any]) -> Outcome:
    """One POST through a guarded connector, on an event loop of the test's own."""

    async def go() -> Outcome:
        import aiohttp

        async with aiohttp.ClientSession(connector=guarded_connector(allowed, 2)) as session:
            return await post(session, _delivery(1, url), timeout=5.0, started=time.monotonic())

    return asyncio.run(go())


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_the_connector_never_connects_to_an_address_the_hub_may_not_call(host: str) -> None:
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.bind((host.strip("[]"), 0))
        listener.listen(8)
        listener.settimeout(0.2)
        url = f"http://{host}:{listener.getsockname()[1]}/cb"
        outcome = _post_directly(url, [])
        assert not outcome.ok and not outcome.retryable
        assert f"refused to connect to {host.strip('[]')}" in str(outcome.error)
        with pytest.raises(TimeoutError):
            listener.accept()  # not even a connection was made


def test_the_connector_connects_where_the_hub_may_call(subscribers: Subscribers) -> None:
    assert _post_directly(subscribers.url + "/cb", LOOPBACK).ok
    assert subscribers.paths() == ["/cb"]


def test_a_name_that_resolves_to_a_refused_address_at_connect_time_is_refused(
    subscribers: Subscribers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding by name: ``localhost`` resolves to a public address when the callback is
    checked, to loopback when the connection is made: refused, nothing sent."""
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]
    monkeypatch.setattr(
        guard,
        "socket",
        types.SimpleNamespace(getaddrinfo=lambda *a, **k: public, SOCK_STREAM=socket.SOCK_STREAM),
    )
    port = subscribers.server.server_address[1]
    fanout = FanOut(allowed=[], concurrency=1, timeout=5.0, may_start=lambda row: True)
    got: list[Outcome | None] = []
    done = threading.Event()

    def report(ended: Sequence[tuple[OutboxRow, Outcome | None]]) -> None:
        got.extend(outcome for _, outcome in ended)
        done.set()

    try:
        fanout.send([_delivery(1, f"http://localhost:{port}/cb")], report)
        assert done.wait(10)
    finally:
        fanout.close()
    [outcome] = got
    assert outcome is not None and not outcome.ok and not outcome.retryable
    assert "refused to connect to" in str(outcome.error)
    assert subscribers.connections == 0


def test_what_has_not_started_can_be_taken_back(subscribers: Subscribers) -> None:
    subscribers.behaviour["/cb/0"] = "hang"
    fanout = FanOut(allowed=LOOPBACK, concurrency=1, timeout=1.0, may_start=lambda row: True)
    got: list[tuple[int, Outcome | None]] = []
    try:
        fanout.send(
            [_delivery(i, f"{subscribers.url}/cb/{i}") for i in range(5)],
            lambda ended: got.extend((row.id, outcome) for row, outcome in ended),
        )
        deadline = time.monotonic() + 5
        while not subscribers.paths() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [r.id for r in fanout.take_back()] == [1, 2, 3, 4]
    finally:
        fanout.close()
    assert [i for i, _ in got] == [0]  # only the one started is reported
    assert subscribers.paths() == ["/cb/0"]


def test_closing_fails_what_runs_and_leaves_what_waits_unsent(subscribers: Subscribers) -> None:
    subscribers.behaviour["/cb/0"] = "hang"
    fanout = FanOut(allowed=LOOPBACK, concurrency=1, timeout=10.0, may_start=lambda row: True)
    got: dict[int, Outcome | None] = {}

    def report(ended: Sequence[tuple[OutboxRow, Outcome | None]]) -> None:
        got.update((row.id, outcome) for row, outcome in ended)

    try:
        fanout.send([_delivery(i, f"{subscribers.url}/cb/{i}") for i in range(3)], report)
        deadline = time.monotonic() + 5
        while not subscribers.paths() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        started = time.monotonic()
        fanout.close()
    assert time.monotonic() - started < 2  # (the hanging send is not waited for)
    # the one under way may have been delivered: a failure, retried; the others never left
    assert got == {0: Outcome(ok=False, retryable=True, error=STOPPED), 1: None, 2: None}
    fanout.send([_delivery(3, subscribers.url + "/cb/3")], report)  # closed: not sent
    assert got[3] is None
    assert subscribers.paths() == ["/cb/0"]


# -- through the notifier --------------------------------------------------------------------


def _subscribed_site(
    site: Site, subscribers: Subscribers, *callbacks: tuple[str, str | None]
) -> None:
    site.config_text += (
        '\n[hub]\nenabled = true\nallowed_callback_networks = ["127.0.0.1/32"]\n'
        "[notify]\ncoalesce_seconds = 0\nmin_interval_seconds = 0\n"
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    with State(site.config().state_target) as state, state.transaction():
        for name, secret in callbacks:
            state.subscribe(TOPIC, f"{subscribers.url}/cb/{name}", secret, 3600, NOW)
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[]")
    assert site.build().notifications == len(callbacks)


def test_a_delivery_is_signed_and_links_its_hub_and_itself(
    engine_site: Site, subscribers: Subscribers
) -> None:
    _subscribed_site(engine_site, subscribers, ("signed", "s3cret"), ("plain", None))
    notifier = Notifier(engine_site.config(), clock=lambda: NOW)
    try:
        assert notifier.send_due() == (2, 0)
    finally:
        notifier.close()
    posts = {path: (headers, body) for path, headers, body in subscribers.posts}
    headers, body = posts["/cb/signed"]
    assert body == engine_site.read("feeds/all.atom.xml")
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature"] == expected
    assert headers["link"] == (
        '<https://example.org/hub>; rel="hub", <https://example.org/feeds/all.atom.xml>; rel="self"'
    )
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "x-hub-signature" not in posts["/cb/plain"][0]


def test_410_gone_ends_the_subscription(
    engine_site: Site, subscribers: Subscribers, caplog: pytest.LogCaptureFixture
) -> None:
    subscribers.behaviour["/cb/gone"] = 410
    _subscribed_site(engine_site, subscribers, ("gone", None), ("stays", None))
    notifier = Notifier(engine_site.config(), clock=lambda: NOW)
    caplog.set_level(logging.INFO)
    try:
        assert notifier.send_due() == (1, 1)
    finally:
        notifier.close()
    with State(engine_site.config().state_target) as state:
        left = state._db.execute("SELECT callback FROM subscriptions").fetchall()
        report: Any = state.outbox_report()
    assert [r[0] for r in left] == [subscribers.url + "/cb/stays"]
    [failed] = report["failed_list"]
    assert failed["last_error"].startswith("HTTP 410")
    assert "subscriber answered 410 Gone; subscription ended" in caplog.text


def test_rows_whose_lease_runs_short_before_they_start_are_handed_back(
    engine_site: Site, subscribers: Subscribers, caplog: pytest.LogCaptureFixture
) -> None:
    """One send slot, every callback hangs past the timeout: while the first send hangs, the
    clock runs past the point where the row queued behind it could still start within its
    lease; it goes back to the queue at once (not left claimed until its lease ends)."""
    _subscribed_site(engine_site, subscribers, *((f"s{i}", None) for i in range(4)))
    engine_site.config_text += "timeout_seconds = 1\nconcurrency = 1\n"
    for i in range(4):
        subscribers.behaviour[f"/cb/s{i}"] = "hang"
    skew = [timedelta(0)]

    def clock() -> datetime:
        if subscribers.posts:  # the first send is under way: time flies
            skew[0] = timedelta(seconds=8)
        return NOW + skew[0]

    notifier = Notifier(engine_site.config(), clock=clock)
    caplog.set_level(logging.INFO)
    try:
        # claimed: two rows (twice the one slot); the first is sent (it times out: a retry),
        # the second handed back: claimed again with the rest (in this pass it is left for
        # the next one, as a row retried within a pass is), or left while others are sent
        sent, failed = notifier.send_due()
    finally:
        notifier.close()
    assert sent == 0 and failed == len(subscribers.posts) >= 1  # each POST timed out
    assert "leases running out: 1 notifications handed back unsent" in caplog.text
    with State(engine_site.config().state_target) as state:
        rows = state._db.execute("SELECT status, attempts FROM outbox").fetchall()
    assert {r[0] for r in rows} == {"pending"}  # none left claimed until its lease ends
    assert sum(r[1] for r in rows) == failed
    assert 0 in {r[1] for r in rows}  # the one handed back: no attempt counted
