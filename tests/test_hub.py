"""The built-in WebSub hub, end to end: a real ``feedpub run`` and real subscribers on 127.0.0.1.

A subscriber is a small HTTP server on port 0 that answers the hub's verification ``GET`` by
echoing ``hub.challenge`` (or, per callback, something else), records every request, and answers
content distribution ``POST``\\s with scripted statuses (204 unless told otherwise). Each test
gets its own daemon and site (``one.md`` in News, ``other.md`` in Sports).

Barriers rather than sleeps: a verification's outcome is read from the daemon's log (the line is
written after the subscription is stored); a change is complete once the feed shows it (the
build records its notifications before the server is handed the new files) and the outbox has
nothing pending (every delivery was attempted, its outcome recorded).
"""

from __future__ import annotations

import hashlib
import hmac
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from feedpub.redaction import shown_url
from tests.conftest import BASE_CONFIG
from tests.daemon_helpers import Daemon

BASE = "https://example.org/"  # BASE_CONFIG's site.base_url
HUB = BASE + "hub"
ALL_ATOM = BASE + "feeds/all.atom.xml"
NEWS_ATOM = BASE + "feeds/news.atom.xml"
NEWS_RSS = BASE + "feeds/news.rss.xml"
NEWS_JSON = BASE + "feeds/news.json"
SPORTS_ATOM = BASE + "feeds/sports.atom.xml"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
JSON_TYPE = "application/feed+json; charset=utf-8"
FORM = "application/x-www-form-urlencoded"

HUB_CONFIG = """
[hub]
enabled = true
allowed_callback_networks = ["127.0.0.0/8"]
min_lease_seconds = 1
lease_seconds = 3600

[notify]
coalesce_seconds = 0
min_interval_seconds = 0
retry_base_seconds = 0.2

[schedule]
reconcile_seconds = 3600
"""
STRICT_CONFIG = HUB_CONFIG.replace('allowed_callback_networks = ["127.0.0.0/8"]\n', "")
assert STRICT_CONFIG != HUB_CONFIG


# -- a subscriber ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request a subscriber received, and what it answered."""

    name: str  # the callback's name: its path is /cb/<name>
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    status: int

    @property
    def links(self) -> dict[str, str]:
        """The ``Link`` header as rel → URL."""
        return {
            str(link["rel"]): str(link["url"])
            for link in requests.utils.parse_header_links(self.headers.get("link", ""))
        }


class Subscriber:
    """Callbacks ``/cb/<name>``. ``verify[name]``: how to answer a verification: ``echo`` (the
    default), ``wrong``, ``newline`` (challenge + LF), ``404`` (challenge with a 404),
    ``empty``; ``verify_delay[name]``: seconds to wait before answering it; ``statuses[name]``:
    statuses for its POSTs in turn (then 204)."""

    def __init__(self) -> None:
        self.arrived: list[str] = []  # names, as each verification GET comes in
        self.gets: list[Seen] = []  # once answered
        self.posts: list[Seen] = []
        self.verify: dict[str, str] = {}
        self.verify_delay: dict[str, float] = {}
        self.statuses: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        sub = self

        class Handler(BaseHTTPRequestHandler):
            def _seen(self, body: bytes, status: int) -> Seen:
                parts = urlsplit(self.path)
                headers: dict[str, str] = {}
                for key, value in self.headers.items():
                    k = key.lower()
                    headers[k] = f"{headers[k]}, {value}" if k in headers else value
                return Seen(
                    name=parts.path.removeprefix("/cb/"),
                    query={k: v[0] for k, v in parse_qs(parts.query, True).items()},
                    headers=headers,
                    body=body,
                    status=status,
                )

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                seen = self._seen(b"", 200)
                challenge = seen.query.get("hub.challenge", "")
                with sub.lock:
                    sub.arrived.append(seen.name)
                    mode = sub.verify.get(seen.name, "echo")
                    delay = sub.verify_delay.get(seen.name, 0.0)
                time.sleep(delay)
                status, text = {
                    "echo": (200, challenge),
                    "wrong": (200, "not-" + challenge),
                    "newline": (200, challenge + "\n"),
                    "404": (404, challenge),
                    "empty": (200, ""),
                }[mode]
                with sub.lock:
                    sub.gets.append(replace(seen, status=status))
                self._answer(status, text.encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                name = urlsplit(self.path).path.removeprefix("/cb/")
                with sub.lock:
                    script = sub.statuses.get(name, [])
                    status = script.pop(0) if script else 204
                    sub.posts.append(self._seen(body, status))
                self._answer(status, b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def callback(self, name: str) -> str:
        return f"{self.url}/cb/{name}"

    def gets_to(self, name: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.gets if s.name == name]

    def posts_to(self, name: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.posts if s.name == name]

    def topics_posted(self, name: str) -> list[str]:
        """The ``rel="self"`` of each POST to ``name``, in order."""
        return [s.links.get("self", "?") for s in self.posts_to(name)]


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    s = Subscriber()
    yield s
    s.close()


# -- the daemon -----------------------------------------------------------------------------


def write_article(root: Path, name: str, title: str, date: str, cats: str) -> None:
    """Write an article the way an editor saves: a hidden temporary file renamed over it."""
    path = root / "articles" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{name}.swp")
    tmp.write_text(f"---\ntitle: {title}\ndate: {date}\ncategories: {cats}\n---\nBody: {title}\n")
    tmp.replace(path)


def _stop(d: Daemon) -> None:
    if d.proc is None:
        return
    try:
        d.stop()
    except subprocess.TimeoutExpired:
        d.proc.kill()
        d.proc.wait(5)


@pytest.fixture
def start(tmp_path: Path, engine: str) -> Iterator[Callable[..., Daemon]]:
    """``start(config)``: a daemon on a fresh site with ``config`` after BASE_CONFIG, its
    state on each engine in turn (every hub test runs on SQLite and on PostgreSQL)."""
    started: list[Daemon] = []

    def _start(config: str = HUB_CONFIG, *, cats: str = "[News]") -> Daemon:
        root = tmp_path / f"site{len(started)}"
        (root / "articles").mkdir(parents=True)
        (root / "config.toml").write_text(BASE_CONFIG + engine + config, encoding="utf-8")
        write_article(root, "one.md", "One", "2025-01-02T00:00:00Z", cats)
        write_article(root, "other.md", "Other", "2025-01-01T00:00:00Z", "[Sports]")
        d = Daemon(root)
        started.append(d)
        return d.start()

    yield _start
    for d in started:
        _stop(d)


@pytest.fixture
def hub(start: Callable[..., Daemon]) -> Daemon:
    return start()


def hub_post(d: Daemon, form: dict[str, str]) -> requests.Response:
    return requests.post(d.base + "/hub", data=form, timeout=10)


def subscribe(
    d: Daemon, topic: str, callback: str, mode: str = "subscribe", **extra: str
) -> requests.Response:
    """A hub request; ``extra`` keys become ``hub.<key>`` (lease_seconds, secret)."""
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    form.update({f"hub.{k}": v for k, v in extra.items()})
    return hub_post(d, form)


def accepted(d: Daemon, topic: str, callback: str, mode: str = "subscribe", **extra: str) -> None:
    r = subscribe(d, topic, callback, mode, **extra)
    assert r.status_code == 202, r.text
    assert r.headers["content-type"].startswith("text/plain")


def wait_verified(
    d: Daemon, topic: str, callback: str, mode: str = "subscribe", times: int = 1
) -> None:
    """Until the hub has stored (or removed) the subscription after a confirmed intent."""
    line = f"hub: {mode} verified for {topic} at {shown_url(callback)}\n"  # (as logged)
    d.until(lambda: d.logs().count(line) >= times, line.strip())


def wait_unconfirmed(d: Daemon, callback: str, mode: str = "subscribe") -> None:
    line = f"hub: {mode} not confirmed by {shown_url(callback)}; ignored\n"
    d.until(lambda: line in d.logs(), line.strip())


def active(d: Daemon, topic: str, callback: str, **extra: str) -> None:
    """Subscribe and wait until the subscription is stored."""
    accepted(d, topic, callback, **extra)
    wait_verified(d, topic, callback)


def publish(d: Daemon, title: str) -> None:
    """Edit the News article; return once the change is served and every delivery it caused
    has been attempted (nothing pending in the outbox)."""
    write_article(d.root, "one.md", title, "2025-01-02T00:00:00Z", "[News]")
    d.until(lambda: title in d.titles(), f"the feed to show {title!r}")
    d.until(lambda: d.health()["pending_notifications"] == 0, "the outbox to drain")


def served(d: Daemon, topic: str) -> bytes:
    r = d.get("/" + topic.removeprefix(BASE), headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    return r.content


def sha256_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def no_tracebacks(d: Daemon) -> None:
    assert "Traceback" not in d.logs()


# -- discovery ------------------------------------------------------------------------------


def test_feeds_advertise_the_hub(hub: Daemon) -> None:
    atom = hub.get("/feeds/all.atom.xml")
    assert f'<link href="{HUB}" rel="hub"/>' in atom.text
    assert atom.links["hub"]["url"] == HUB
    assert atom.links["self"]["url"] == ALL_ATOM
    rss = hub.get("/feeds/news.rss.xml")
    assert f'href="{HUB}"' in rss.text
    assert rss.links["hub"]["url"] == HUB
    feed = hub.get("/feeds/all.json").json()
    assert feed["hubs"] == [{"type": "WebSub", "url": HUB}]
    assert hub.get("/feeds/all.json").links["hub"]["url"] == HUB


# -- subscription and verification of intent ------------------------------------------------


def test_subscribe_verify_and_deliver(hub: Daemon, subscriber: Subscriber) -> None:
    secret = "s3cret-ü€"  # not ASCII: the HMAC key is its UTF-8 bytes
    signed, plain, multi = (subscriber.callback(n) for n in ("signed", "plain", "multi"))
    active(hub, ALL_ATOM, signed, secret=secret)
    active(hub, ALL_ATOM, plain)
    for topic in (ALL_ATOM, NEWS_RSS, NEWS_JSON, SPORTS_ATOM):  # Sports does not change below
        active(hub, topic, multi)

    [check] = subscriber.gets_to("signed")
    assert check.status == 200
    assert check.query["hub.mode"] == "subscribe"
    assert check.query["hub.topic"] == ALL_ATOM
    assert check.query["hub.lease_seconds"] == "3600"
    assert len(check.query["hub.challenge"]) >= 16
    assert "hub.secret" not in check.query  # the secret never travels back
    challenges = [s.query["hub.challenge"] for s in subscriber.gets]
    assert len(set(challenges)) == len(challenges) == 6
    assert subscriber.posts == []  # subscribing alone sends nothing

    publish(hub, "One, edited")

    [post] = subscriber.posts_to("signed")
    assert post.body == served(hub, ALL_ATOM)
    assert b"One, edited" in post.body
    assert post.headers["content-type"] == ATOM_TYPE
    assert post.links == {"hub": HUB, "self": ALL_ATOM}
    assert post.headers["x-hub-signature"] == sha256_signature(secret, post.body)
    assert post.headers["user-agent"].startswith("feedpub/")

    [post] = subscriber.posts_to("plain")
    assert post.body == served(hub, ALL_ATOM)
    assert "x-hub-signature" not in post.headers

    # one POST per changed topic; none for the topic that did not change
    assert sorted(subscriber.topics_posted("multi")) == [ALL_ATOM, NEWS_JSON, NEWS_RSS]
    ctypes = {ALL_ATOM: ATOM_TYPE, NEWS_RSS: RSS_TYPE, NEWS_JSON: JSON_TYPE}
    for post in subscriber.posts_to("multi"):
        topic = post.links["self"]
        assert post.headers["content-type"] == ctypes[topic]
        assert post.body == served(hub, topic)
        assert post.links["hub"] == HUB
        assert "x-hub-signature" not in post.headers
    assert len(subscriber.posts) == 5
    no_tracebacks(hub)


def test_the_lease_granted_is_in_the_verification(hub: Daemon, subscriber: Subscriber) -> None:
    asks = {"default": None, "one": "1", "zero": "0", "huge": "99999999"}
    for name, lease in asks.items():
        extra = {} if lease is None else {"lease_seconds": lease}
        accepted(hub, NEWS_ATOM, subscriber.callback(name), **extra)
    # a callback with a query of its own keeps it; the hub's parameters are added
    with_query = subscriber.callback("query") + "?token=abc&x=1"
    active(hub, NEWS_ATOM, with_query)
    for name in asks:
        wait_verified(hub, NEWS_ATOM, subscriber.callback(name))
    granted = {name: subscriber.gets_to(name)[0].query["hub.lease_seconds"] for name in asks}
    # [hub] lease_seconds = 3600, min_lease_seconds = 1, max_lease_seconds = 30 days (default)
    assert granted == {"default": "3600", "one": "1", "zero": "1", "huge": str(30 * 86_400)}
    [check] = subscriber.gets_to("query")
    assert check.query["token"] == "abc"
    assert check.query["x"] == "1"
    assert check.query["hub.topic"] == NEWS_ATOM
    publish(hub, "One, edited")
    [post] = subscriber.posts_to("query")
    assert post.links["self"] == NEWS_ATOM


def test_only_an_exact_echo_of_the_challenge_subscribes(
    hub: Daemon, subscriber: Subscriber
) -> None:
    refusing = ("wrong", "newline", "404", "empty")
    for name in refusing:
        subscriber.verify[name] = name
        accepted(hub, ALL_ATOM, subscriber.callback(name))
    active(hub, ALL_ATOM, subscriber.callback("good"))
    for name in refusing:
        wait_unconfirmed(hub, subscriber.callback(name))
        [check] = subscriber.gets_to(name)
        assert check.query["hub.mode"] == "subscribe"
    publish(hub, "One, edited")
    assert [s.name for s in subscriber.posts] == ["good"]


def test_unsubscribe_needs_confirmed_intent(hub: Daemon, subscriber: Subscriber) -> None:
    cb = subscriber.callback("u")
    active(hub, ALL_ATOM, cb)
    active(hub, NEWS_ATOM, cb)
    publish(hub, "One, v1")
    assert sorted(subscriber.topics_posted("u")) == [ALL_ATOM, NEWS_ATOM]

    # someone else asks to unsubscribe us: we do not confirm, nothing changes
    subscriber.verify["u"] = "404"
    accepted(hub, ALL_ATOM, cb, mode="unsubscribe")
    wait_unconfirmed(hub, cb, mode="unsubscribe")
    subscriber.verify["u"] = "echo"
    publish(hub, "One, v2")
    assert sorted(subscriber.topics_posted("u")[2:]) == [ALL_ATOM, NEWS_ATOM]

    # we unsubscribe from one topic: the other one stays
    accepted(hub, ALL_ATOM, cb, mode="unsubscribe")
    wait_verified(hub, ALL_ATOM, cb, mode="unsubscribe")
    check = subscriber.gets_to("u")[-1]
    assert check.query["hub.mode"] == "unsubscribe"
    assert check.query["hub.topic"] == ALL_ATOM
    assert check.query["hub.challenge"]
    assert "hub.lease_seconds" not in check.query
    publish(hub, "One, v3")
    assert subscriber.topics_posted("u")[4:] == [NEWS_ATOM]
    no_tracebacks(hub)


def test_resubscribing_renews_without_duplicates(hub: Daemon, subscriber: Subscriber) -> None:
    cb = subscriber.callback("r")
    active(hub, ALL_ATOM, cb, lease_seconds="1", secret="old")
    first_verified = time.monotonic()
    accepted(hub, ALL_ATOM, cb, secret="new")  # the default lease: 3600 s
    wait_verified(hub, ALL_ATOM, cb, times=2)
    assert [s.query["hub.lease_seconds"] for s in subscriber.gets_to("r")] == ["1", "3600"]
    time.sleep(max(0.0, 1.5 - (time.monotonic() - first_verified)))  # the first lease is over
    publish(hub, "One, edited")
    [post] = subscriber.posts_to("r")
    assert post.headers["x-hub-signature"] == sha256_signature("new", post.body)


def test_an_expired_lease_gets_nothing(hub: Daemon, subscriber: Subscriber) -> None:
    active(hub, ALL_ATOM, subscriber.callback("short"), lease_seconds="1")
    active(hub, ALL_ATOM, subscriber.callback("long"))
    assert subscriber.gets_to("short")[0].query["hub.lease_seconds"] == "1"
    time.sleep(2)  # the lease
    publish(hub, "One, edited")
    assert [s.name for s in subscriber.posts] == ["long"]


# -- content distribution: failures ---------------------------------------------------------


def test_410_gone_ends_the_subscription(hub: Daemon, subscriber: Subscriber) -> None:
    subscriber.statuses["gone"] = [410, 410, 410]
    active(hub, ALL_ATOM, subscriber.callback("gone"))
    active(hub, ALL_ATOM, subscriber.callback("control"))
    publish(hub, "One, v1")
    assert [s.status for s in subscriber.posts_to("gone")] == [410]
    assert "subscriber answered 410 Gone; subscription ended" in hub.logs()
    publish(hub, "One, v2")
    assert len(subscriber.posts_to("gone")) == 1  # no retry, no later delivery
    assert len(subscriber.posts_to("control")) == 2


def test_500_then_204_is_delivered_once_after_a_retry(hub: Daemon, subscriber: Subscriber) -> None:
    subscriber.statuses["flaky"] = [500]
    active(hub, ALL_ATOM, subscriber.callback("flaky"), secret="k")
    publish(hub, "One, edited")
    posts = subscriber.posts_to("flaky")
    assert [p.status for p in posts] == [500, 204]
    assert posts[0].body == posts[1].body == served(hub, ALL_ATOM)
    assert posts[1].headers["x-hub-signature"] == sha256_signature("k", posts[1].body)
    assert posts[1].links == {"hub": HUB, "self": ALL_ATOM}


# -- requests the hub will not act on ---------------------------------------------------------


def _refused(r: requests.Response, status: int, reason: str = "") -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.strip()
    assert reason.lower() in r.text.lower(), r.text


def test_unacceptable_requests_get_a_4xx_and_a_reason(hub: Daemon, subscriber: Subscriber) -> None:
    cb = subscriber.callback("refused")
    for topic in (
        "",
        BASE + "feeds/nope.atom.xml",
        BASE + "feeds/index.opml",  # a file we publish, not a feed
        BASE,
        BASE + "articles/one/",
        "https://elsewhere.example/feeds/all.atom.xml",
        ALL_ATOM + "?x=1",
    ):
        _refused(subscribe(hub, topic, cb), 404, "unknown topic")
    for callback in (
        "ftp://127.0.0.1/cb",
        "javascript:alert(1)",
        "/cb/relative",
        "http:///cb/nohost",
        "127.0.0.1/cb",
        "mailto:someone@example.org",
        subscriber.url + "/" + "x" * 2100,
    ):
        _refused(subscribe(hub, ALL_ATOM, callback), 400, "hub.callback")
    _refused(hub_post(hub, {"hub.topic": ALL_ATOM, "hub.callback": cb}), 400, "hub.mode")
    _refused(subscribe(hub, ALL_ATOM, cb, mode="publish"), 400, "hub.mode")
    _refused(subscribe(hub, ALL_ATOM, cb, lease_seconds="ten"), 400, "lease")
    _refused(subscribe(hub, ALL_ATOM, cb, lease_seconds="-5"), 400, "lease")
    _refused(subscribe(hub, ALL_ATOM, cb, secret="s" * 200), 400, "secret")
    _refused(subscribe(hub, ALL_ATOM, cb, secret="é" * 100), 400, "secret")  # 200 bytes
    _refused(subscribe(hub, ALL_ATOM, cb, secret="s" * 1000), 400, "secret")
    twice = f"hub.mode=subscribe&hub.topic={ALL_ATOM}&hub.topic={NEWS_ATOM}&hub.callback={cb}"
    r = requests.post(hub.base + "/hub", data=twice, headers={"Content-Type": FORM}, timeout=5)
    _refused(r, 400, "more than once")
    r = requests.post(
        hub.base + "/hub", data=b"hub.mode=\xff", headers={"Content-Type": FORM}, timeout=5
    )
    _refused(r, 400, "utf-8")

    # the wrong content type
    form = urlencode({"hub.mode": "subscribe", "hub.topic": ALL_ATOM, "hub.callback": cb})
    for ctype in ("text/plain", "application/json", "multipart/form-data; boundary=x"):
        r = requests.post(hub.base + "/hub", data=form, headers={"Content-Type": ctype}, timeout=5)
        _refused(r, 415)
    r = requests.post(hub.base + "/hub", data=form.encode(), timeout=5)  # no Content-Type
    _refused(r, 415)

    # too large: over 8 KB
    big = form + "&pad=" + "x" * (8 * 1024 - len(form) - len("&pad=") + 1)
    assert len(big) == 8 * 1024 + 1
    r = requests.post(hub.base + "/hub", data=big, headers={"Content-Type": FORM}, timeout=5)
    _refused(r, 413)
    r = requests.post(
        hub.base + "/hub", data=big + "x" * 4000, headers={"Content-Type": FORM}, timeout=5
    )
    _refused(r, 413)  # (bodies over 16 KB: see test_a_large_body_is_413_not_431)

    # other methods
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        r = requests.request(method, hub.base + "/hub", timeout=5)
        assert r.status_code == 405, method
        assert r.headers["allow"] == "POST"

    # just inside the limits: a 199-byte secret, a body of exactly 8 KB
    active(hub, ALL_ATOM, subscriber.callback("secret199"), secret="s" * 199)
    ok_form = urlencode(
        {"hub.mode": "subscribe", "hub.topic": ALL_ATOM, "hub.callback": subscriber.callback("8k")}
    )
    exact = ok_form + "&pad=" + "x" * (8 * 1024 - len(ok_form) - len("&pad="))
    assert len(exact) == 8 * 1024
    r = requests.post(hub.base + "/hub", data=exact, headers={"Content-Type": FORM}, timeout=5)
    assert r.status_code == 202, r.text
    wait_verified(hub, ALL_ATOM, subscriber.callback("8k"))
    # a refused request never reaches the callback
    assert subscriber.gets_to("refused") == []
    assert hub.proc is not None
    assert hub.proc.poll() is None
    no_tracebacks(hub)


def test_callbacks_on_private_addresses_are_refused(
    start: Callable[..., Daemon], subscriber: Subscriber
) -> None:
    """Without ``allowed_callback_networks`` the hub calls no address that is not globally
    reachable (loopback, private, shared, link-local, unspecified ...), however it is spelt,
    nor an IPv6 address carrying one."""
    d = start(STRICT_CONFIG)
    for callback in (
        subscriber.callback("loopback"),
        "http://localhost:9/cb",
        "http://127.1:9/cb",
        "http://2130706433:9/cb",  # 127.0.0.1 as one number
        "http://0x7f.1:9/cb",
        "http://[::1]:9/cb",
        "http://[::ffff:127.0.0.1]:9/cb",
        "http://0.0.0.0:9/cb",
        "http://0:9/cb",
        "http://10.1.2.3/cb",
        "http://192.168.1.1/cb",
        "http://172.16.0.1/cb",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/cb",
        "http://100.64.0.1/cb",  # shared address space
        "http://100.100.100.200/latest/meta-data/",
        "http://[2002:7f00:1::]:9/cb",  # 6to4 of 127.0.0.1
        "http://[2002:a9fe:a9fe::]/latest/meta-data/",  # 6to4 of 169.254.169.254
        "http://[64:ff9b::7f00:1]:9/cb",  # NAT64 of 127.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:9/cb",  # Teredo, client 127.0.0.1
        "http://[::127.0.0.1]:9/cb",  # IPv4-compatible
        "http://[fd00:ec2::254]/latest/meta-data/",  # unique local
    ):
        r = subscribe(d, ALL_ATOM, callback)
        _refused(r, 403, "does not call")
        r = subscribe(d, ALL_ATOM, callback, mode="unsubscribe")
        _refused(r, 403, "does not call")
    assert subscriber.gets == []
    no_tracebacks(d)


LIMITED_CONFIG = HUB_CONFIG.replace(
    "lease_seconds = 3600\n", "lease_seconds = 3600\nmax_per_topic = 1\n"
)


def test_limits_refuse_with_429_but_not_renewals(
    start: Callable[..., Daemon], subscriber: Subscriber
) -> None:
    d = start(LIMITED_CONFIG)
    active(d, ALL_ATOM, subscriber.callback("first"))
    _refused(subscribe(d, ALL_ATOM, subscriber.callback("second")), 429, "too many")
    active(d, NEWS_ATOM, subscriber.callback("second"))  # another topic has room
    accepted(d, ALL_ATOM, subscriber.callback("first"))  # a renewal never counts
    wait_verified(d, ALL_ATOM, subscriber.callback("first"), times=2)
    publish(d, "One, edited")
    assert subscriber.topics_posted("first") == [ALL_ATOM]
    assert subscriber.topics_posted("second") == [NEWS_ATOM]


# -- bugs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lease", ["²", "9" * 5000], ids=["superscript", "5000-digits"])
def test_odd_lease_seconds_get_an_answer(hub: Daemon, subscriber: Subscriber, lease: str) -> None:
    r = subscribe(hub, ALL_ATOM, subscriber.callback("odd"), lease_seconds=lease)
    # a reason (400), or the lease clamped to [min, max] (202); not a crash
    assert r.status_code in (202, 400), (r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/plain")


def test_content_type_is_case_insensitive(hub: Daemon, subscriber: Subscriber) -> None:
    form = urlencode(
        {"hub.mode": "subscribe", "hub.topic": ALL_ATOM, "hub.callback": subscriber.callback("c")}
    )
    r = requests.post(
        hub.base + "/hub",
        data=form,
        headers={"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"},
        timeout=5,
    )
    assert r.status_code == 202, (r.status_code, r.text)


def test_an_equivalent_topic_spelling_is_refused_or_delivered(
    start: Callable[..., Daemon], subscriber: Subscriber
) -> None:
    d = start(cats="[News, Café]")
    cafe = BASE + "feeds/caf%C3%A9.atom.xml"  # as the feed's own rel="self" spells it
    assert d.get("/feeds/café.atom.xml").links["self"]["url"] == cafe
    spellings = {
        "escaped": BASE + "feeds/%61ll.atom.xml",
        "lowerhex": BASE + "feeds/caf%c3%a9.atom.xml",
    }
    taken = []
    for name, topic in spellings.items():
        r = subscribe(d, topic, subscriber.callback(name))
        assert r.status_code in (202, 404), r.text
        if r.status_code == 202:
            wait_verified(d, topic, subscriber.callback(name))
            taken.append(name)
    write_article(d.root, "one.md", "One, edited", "2025-01-02T00:00:00Z", "[News, Café]")
    d.until(lambda: "One, edited" in d.titles(), "the edit")
    d.until(lambda: d.health()["pending_notifications"] == 0, "the outbox to drain")
    assert sorted(s.name for s in subscriber.posts) == sorted(taken)


def test_a_large_body_is_413_not_431(hub: Daemon) -> None:
    body = b"hub.mode=subscribe&pad=" + b"x" * 64 * 1024
    head = (
        f"POST /hub HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    assert len(head) < 200
    host, port = hub.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(head + body)  # one write: the server reads head and body together
        answer = s.recv(100)
    assert answer.startswith(b"HTTP/1.1 413 "), answer


def test_limits_hold_for_concurrent_verifications(
    start: Callable[..., Daemon], subscriber: Subscriber
) -> None:
    d = start(LIMITED_CONFIG)
    taken = []
    for name in ("a", "b"):
        subscriber.verify_delay[name] = 0.5
        r = subscribe(d, ALL_ATOM, subscriber.callback(name))
        assert r.status_code in (202, 429), r.text
        if r.status_code == 202:
            taken.append(name)

    def decided(cb: str) -> bool:
        log = d.logs()
        return any(
            o in log
            for o in (f"verified for {ALL_ATOM} at {cb}\n", f"denying {cb} ", f"by {cb}; ignored")
        )

    d.until(lambda: all(decided(subscriber.callback(n)) for n in taken), "the outcomes")
    publish(d, "One, edited")
    assert len({s.name for s in subscriber.posts}) == 1, [s.name for s in subscriber.posts]


def test_slow_callbacks_do_not_stall_the_endpoint(hub: Daemon, subscriber: Subscriber) -> None:
    for i in range(4):
        subscriber.verify_delay[f"slow{i}"] = 3.0
        accepted(hub, ALL_ATOM, subscriber.callback(f"slow{i}"))
    hub.until(lambda: len(subscriber.arrived) == 4, "the four verification GETs")
    started = time.monotonic()
    r = subscribe(hub, ALL_ATOM, subscriber.callback("quick"))
    took = time.monotonic() - started
    assert r.status_code == 202
    assert took < 1.0, f"a hub request took {took:.1f} s"


def test_daemon_stops_cleanly_with_the_hub(hub: Daemon, subscriber: Subscriber) -> None:
    active(hub, ALL_ATOM, subscriber.callback("x"))
    assert hub.stop(signal.SIGTERM) == 0
    assert "stopped" in hub.logs()


def _raw_hub_request(d: Daemon, head: str, source: str = "127.0.0.1") -> socket.socket:
    host, port = d.base.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=5, source_address=(source, 0))
    s.sendall(head.encode())
    return s


def _until_closed(s: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := s.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_an_announced_body_over_the_limit_is_refused_at_once(hub: Daemon) -> None:
    """A POST announcing ``Content-Length: 1000000000000`` used to hang for good (the hub
    waited for the body): the announcement alone gets 413, nothing of the body is read, and
    the connection closes."""
    for length, expect in ((8 * 1024 + 1, ""), (10**12, ""), (10**12, "Expect: 100-continue\r\n")):
        head = (
            f"POST /hub HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
            f"Content-Length: {length}\r\n{expect}\r\n"
        )
        started = time.monotonic()
        with _raw_hub_request(hub, head) as s:
            answer = _until_closed(s)
        assert time.monotonic() - started < 2
        assert answer.startswith(b"HTTP/1.1 413 "), answer  # and no "100 Continue" first
        assert b"\r\nconnection: close\r\n" in answer.lower()
    no_tracebacks(hub)


def test_the_server_limits_come_from_the_config(
    start: Callable[..., Daemon], subscriber: Subscriber
) -> None:
    d = start(
        HUB_CONFIG + "\n[server]\nmax_connections_per_client = 2\nheader_timeout_seconds = 0.5\n"
    )
    held = [_raw_hub_request(d, "", "127.0.0.9") for _ in range(2)]
    with _raw_hub_request(d, "", "127.0.0.9") as third:
        assert _until_closed(third).startswith(b"HTTP/1.1 503 ")
    active(d, ALL_ATOM, subscriber.callback("other"))  # another address is served
    started = time.monotonic()
    for s in held:  # idle: closed after the head timeout
        with s:
            assert _until_closed(s) == b""
    assert time.monotonic() - started < 2


def test_one_callback_host_cannot_fill_the_verification_queue(
    hub: Daemon, subscriber: Subscriber
) -> None:
    """A callback that never answers holds its place for the timeout: one subscriber sending
    a thousand of them shut everyone else out for ten minutes."""
    from feedpub.notify.hub import MAX_QUEUED_PER_HOST

    for i in range(MAX_QUEUED_PER_HOST):
        subscriber.verify_delay[f"stuck{i}"] = 5.0
        accepted(hub, ALL_ATOM, subscriber.callback(f"stuck{i}"))
    _refused(subscribe(hub, ALL_ATOM, subscriber.callback("one-more")), 429, "too many")
    other = subscriber.callback("other").replace("127.0.0.1", "localhost")
    assert subscribe(hub, ALL_ATOM, other).status_code == 202  # another host is served
