"""The built-in WebSub hub (W3C WebSub Recommendation, section 5: the hub).

``POST /hub`` with ``hub.mode=subscribe|unsubscribe``, ``hub.callback``, ``hub.topic`` and
optionally ``hub.lease_seconds`` and ``hub.secret``: a request we can act on gets
``202 Accepted``, then the hub verifies the subscriber's intent (``GET`` on the callback with
``hub.mode``, ``hub.topic``, a random single-use ``hub.challenge`` and ``hub.lease_seconds``);
only a 2xx answer echoing the challenge exactly makes the subscription active. A request we
cannot act on (an unknown topic, a callback we will not call, a secret that is too long, limits)
gets a 4xx with a plain-text reason; a subscription that becomes impossible after the 202 (the
limits filled up meanwhile) gets a denial notice (``hub.mode=denied``) on its callback.

Content distribution goes through the outbox (see the notifier); leases expire; a subscriber
answering ``410 Gone`` is dropped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit, urlunsplit

import requests

from feedpub.config import Config
from feedpub.notify.guard import callback_refusal, guarded_session
from feedpub.notify.send import read_bounded, user_agent
from feedpub.redaction import shown_url
from feedpub.server.asgi import Receive, Scope, Send, read_body, respond
from feedpub.store import State

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024
MAX_SECRET_BYTES = 199  # the spec: "less than 200 bytes"
MAX_CALLBACK = 2000
MAX_QUEUED_VERIFICATIONS = 1000  # beyond this, new requests get 429 (a flood cannot queue up)
MAX_QUEUED_PER_HOST = 16  # ... and per callback host, so one subscriber cannot fill the queue


def canonical_url(url: str) -> str:
    """One spelling per URL: the path percent-decoded and encoded again the way feedpub
    writes its feed URLs (so ``%61ll.atom.xml`` and ``all.atom.xml`` are one topic)."""
    parts = urlsplit(url)
    path = quote(unquote(parts.path))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


class Refused(Exception):
    """A subscription request we will not act on; the message is the reason given."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


class Hub:
    def __init__(
        self,
        config: Config,
        *,
        is_topic: Callable[[str], bool],
        clock: Callable[[], datetime],
        open_state: Callable[[], State] | None = None,
    ) -> None:
        """``open_state`` opens the state store (default: the config's)."""
        self.config = config
        self.cfg = config.hub
        self.open_state = open_state or (lambda: State(config.state_target))
        self.is_topic = is_topic
        self.clock = clock
        self.allowed = [
            ipaddress.ip_network(n, strict=False) for n in self.cfg.allowed_callback_networks
        ]
        self.ua = user_agent(config.site.base_url)
        # verification waits on subscribers (up to the timeout each): it gets its own threads,
        # so slow callbacks never hold up the endpoint's quick checks
        self._pool = ThreadPoolExecutor(16, thread_name_prefix="feedpub-verify")
        self._checks = ThreadPoolExecutor(4, thread_name_prefix="feedpub-hubcheck")
        self._queued = threading.BoundedSemaphore(MAX_QUEUED_VERIFICATIONS)
        self._per_host: dict[str, int] = {}  # callback host -> verifications queued
        self._per_host_lock = threading.Lock()
        self.session = guarded_session(self.allowed, pool_size=16)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._checks.shutdown(wait=False, cancel_futures=True)
        self.session.close()

    # -- the endpoint -----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, b"the hub takes POST requests\n", [(b"allow", b"POST")])
            return
        headers = dict(scope["headers"])
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != b"application/x-www-form-urlencoded":
            await respond(send, 415, b"send application/x-www-form-urlencoded\n")
            return
        # a body announced too large is refused before a byte of it is read (nor is a client
        # that sent "Expect: 100-continue" asked for it); the rest of it is never read either,
        # so the connection closes
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await too_large(send)
            return
        body = await read_body(receive, MAX_BODY)
        if body is None:
            await too_large(send)
            return
        try:
            mode, topic, given_topic, callback, lease, secret = self._parse(body)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._checks, self._check_callback, callback)
            if mode == "subscribe":
                await loop.run_in_executor(self._checks, self._check_limits, topic, callback)
        except Refused as e:
            log.info("hub refused a request: %s", e)
            await respond(send, e.status, f"{e}\n".encode())
            return
        host = (urlsplit(callback).hostname or "").lower()
        if not self._take_slot(host):
            await respond(
                send,
                429,
                b"too many verifications in progress; try again later\n",
                [(b"retry-after", b"30")],
            )
            return
        future = self._pool.submit(self._verify, mode, topic, given_topic, callback, lease, secret)
        future.add_done_callback(lambda _: self._free_slot(host))
        await respond(send, 202, b"accepted; verifying intent\n")

    def _take_slot(self, host: str) -> bool:
        """A place in the verification queue: at most MAX_QUEUED_VERIFICATIONS in all and
        MAX_QUEUED_PER_HOST for one callback host (callbacks that never answer hold theirs
        for the timeout: one subscriber must not shut the others out)."""
        with self._per_host_lock:
            if self._per_host.get(host, 0) >= MAX_QUEUED_PER_HOST:
                return False
            if not self._queued.acquire(blocking=False):
                return False
            self._per_host[host] = self._per_host.get(host, 0) + 1
            return True

    def _free_slot(self, host: str) -> None:
        with self._per_host_lock:
            left = self._per_host.get(host, 1) - 1
            if left:
                self._per_host[host] = left
            else:
                self._per_host.pop(host, None)
            self._queued.release()

    def _parse(self, body: bytes) -> tuple[str, str, str, str, int, str | None]:
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as e:
            raise Refused("the request is not UTF-8") from e

        def one(name: str, required: bool = True) -> str | None:
            values = form.get(name)
            if not values:
                if required:
                    raise Refused(f"{name} is required")
                return None
            if len(values) > 1:
                raise Refused(f"{name} given more than once")
            return values[0]

        mode = one("hub.mode")
        if mode not in ("subscribe", "unsubscribe"):
            raise Refused(f"hub.mode must be subscribe or unsubscribe, not {mode!r}")
        given_topic = one("hub.topic") or ""
        callback = one("hub.callback") or ""
        topic = canonical_url(given_topic)
        if not self.is_topic(topic):
            raise Refused(f"unknown topic: {given_topic} is not a feed published here", 404)
        parts = urlsplit(callback)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or len(callback) > MAX_CALLBACK
        ):
            raise Refused("hub.callback must be an absolute http(s) URL")
        raw_lease = one("hub.lease_seconds", required=False)
        lease = self.cfg.lease_seconds
        if raw_lease:
            if not re.fullmatch(r"[0-9]{1,12}", raw_lease):
                raise Refused("hub.lease_seconds must be a whole number of seconds")
            lease = min(self.cfg.max_lease_seconds, max(self.cfg.min_lease_seconds, int(raw_lease)))
        secret = one("hub.secret", required=False)
        if secret is not None and len(secret.encode()) > MAX_SECRET_BYTES:
            raise Refused("hub.secret must be shorter than 200 bytes")
        return mode, topic, given_topic, callback, lease, secret or None

    def _check_callback(self, callback: str) -> None:
        reason = callback_refusal(callback, self.allowed)
        if reason is not None:
            raise Refused(reason, 403 if "resolves to" in reason else 400)

    def _over_limits(self, state: State, topic: str, callback: str) -> str | None:
        now = self.clock()
        if state.find_subscription(topic, callback) is not None:
            return None  # a renewal never counts against the limits
        if state.count_subscriptions(now, topic) >= self.cfg.max_per_topic:
            return "too many subscriptions to this topic"
        if state.count_subscriptions(now) >= self.cfg.max_subscriptions:
            return "this hub has all the subscriptions it takes"
        return None

    def _check_limits(self, topic: str, callback: str) -> None:
        with self.open_state() as state:
            refusal = self._over_limits(state, topic, callback)
        if refusal is not None:
            raise Refused(refusal, 429)

    # -- verification of intent (worker threads) --------------------------------------------

    def _verify(
        self,
        mode: str,
        topic: str,
        given_topic: str,
        callback: str,
        lease: int,
        secret: str | None,
    ) -> None:
        """Verify intent (echoing the topic as the subscriber spelt it); store ``topic``."""
        try:
            if mode == "subscribe":
                try:
                    self._check_limits(topic, callback)
                except Refused as e:
                    self._deny(given_topic, callback, str(e))
                    return
            refusal = callback_refusal(callback, self.allowed)  # again: DNS may have changed
            if refusal is not None:
                log.info("hub: not verifying %s: %s", shown_url(callback), refusal)
                return
            challenge = secrets.token_urlsafe(24)
            params = {"hub.mode": mode, "hub.topic": given_topic, "hub.challenge": challenge}
            if mode == "subscribe":
                params["hub.lease_seconds"] = str(lease)
            if self._get(callback, params, challenge):
                with self.open_state() as state, state.transaction():
                    if mode == "subscribe":
                        # the limits again, in the same transaction as the insert and with
                        # subscription changes locked: concurrent verifications cannot
                        # overfill a topic
                        state.lock_subscriptions()
                        refusal = self._over_limits(state, topic, callback)
                        if refusal is None:
                            state.subscribe(topic, callback, secret, lease, self.clock())
                    else:
                        refusal = None
                        state.unsubscribe(topic, callback)
                if refusal is not None:
                    self._deny(given_topic, callback, refusal)
                    return
                log.info("hub: %s verified for %s at %s", mode, given_topic, shown_url(callback))
            else:
                log.info("hub: %s not confirmed by %s; ignored", mode, shown_url(callback))
        except Exception:  # a verification never takes the hub down
            log.exception("hub: verifying %s for %s failed", mode, shown_url(callback))

    def _get(self, callback: str, params: dict[str, str], challenge: str | None) -> bool:
        sep = "&" if urlsplit(callback).query else "?"
        timeout = self.config.notify.timeout_seconds
        try:
            resp = self.session.get(
                callback + sep + urlencode(params),
                timeout=timeout,
                headers={"User-Agent": self.ua},
                allow_redirects=False,
                stream=True,
            )
            # never more than the challenge's worth of body, never longer than the timeout
            answer = read_bounded(resp, 1024, time.monotonic() + timeout)
        except requests.RequestException as e:
            log.info("hub: callback %s unreachable: %s", shown_url(callback), type(e).__name__)
            return False
        if challenge is None:
            return 200 <= resp.status_code < 300
        return 200 <= resp.status_code < 300 and answer == challenge.encode()

    def _deny(self, topic: str, callback: str, reason: str) -> None:
        log.info("hub: denying %s for %s: %s", shown_url(callback), topic, reason)
        self._get(callback, {"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason}, None)


async def too_large(send: Send) -> None:
    """The answer to a request whose body passes :data:`MAX_BODY` (the rest of it is not
    read, so the connection closes)."""
    await respond(send, 413, b"request too large\n", [(b"connection", b"close")])
