"""One attempt of each publisher's notification (a WebSub publish ping, a weblogUpdates
ping), over HTTP with ``requests``; what an HTTP answer means for any notification; the
signature of a hub delivery. (Hub deliveries themselves are :mod:`feedpub.notify.fanout`'s.)

Every call has a timeout and a clear User-Agent, and none raises: network failures come back as
a retryable :class:`~feedpub.notify.plan.Outcome`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import xmlrpc.client
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from xml.parsers.expat import ExpatError

import requests

from feedpub import __version__
from feedpub.notify.guard import refused
from feedpub.notify.plan import Outcome, classify, parse_retry_after


def user_agent(site_url: str) -> str:
    return f"feedpub/{__version__} (+{site_url})"


MAX_ANSWER_BYTES = 64 * 1024  # of a response body we ever read (XML-RPC answers are small)


def read_bounded(resp: requests.Response, limit: int, deadline: float) -> bytes:
    """At most ``limit`` bytes of a streamed response, read before ``deadline`` (monotonic):
    a peer dripping an endless body never holds a thread or memory for long."""
    buf = bytearray()
    try:
        for chunk in resp.iter_content(4096):
            buf += chunk
            if len(buf) >= limit or time.monotonic() > deadline:
                break
    finally:
        resp.close()
    return bytes(buf[:limit])


def answered(status: int, text: str, retry_after: str | None, ms: int) -> Outcome:
    """What an HTTP answer means for a notification: its status, the start of its body
    (for the error) and its ``Retry-After`` header."""
    ok, retryable = classify(status)
    if ok:
        return Outcome(ok=True, status=status, ms=ms)
    return Outcome(
        ok=False,
        retryable=retryable,
        status=status,
        error=f"HTTP {status}: {text.strip()}",
        retry_after=parse_retry_after(retry_after, datetime.now(UTC)),
        gone=status == 410,
        ms=ms,
    )


ERROR_TEXT_BYTES = 200  # of an answer's body, kept for the error


def _from_response(resp: requests.Response, started: float, timeout: float = 10.0) -> Outcome:
    ms = int((time.monotonic() - started) * 1000)
    text = read_bounded(resp, ERROR_TEXT_BYTES, started + timeout).decode("utf-8", "replace")
    return answered(resp.status_code, text, resp.headers.get("Retry-After"), ms)


def _guard(call: Callable[[], Outcome], started: float) -> Outcome:
    try:
        return call()
    except requests.Timeout:
        error = "timed out"
    except requests.ConnectionError as e:
        reason = refused(e)
        if reason is not None:  # an address the hub may not call: retrying will not help
            return Outcome(
                ok=False, retryable=False, error=reason, ms=int((time.monotonic() - started) * 1000)
            )
        error = f"connection failed: {type(e).__name__}"
    except requests.RequestException as e:
        error = f"request failed: {e}"
    return Outcome(
        ok=False, retryable=True, error=error, ms=int((time.monotonic() - started) * 1000)
    )


def websub_publish(
    session: requests.Session, hub: str, feed_url: str, *, timeout: float, ua: str
) -> Outcome:
    """``POST hub.mode=publish&hub.url=<feed>`` to a WebSub hub; 2xx is success."""
    started = time.monotonic()
    return _guard(
        lambda: _from_response(
            session.post(
                hub,
                data={"hub.mode": "publish", "hub.url": feed_url},
                timeout=timeout,
                headers={"User-Agent": ua},
                allow_redirects=False,
                stream=True,
            ),
            started,
            timeout,
        ),
        started,
    )


def _xmlrpc(
    session: requests.Session,
    endpoint: str,
    method: str,
    params: tuple[str, ...],
    timeout: float,
    ua: str,
) -> tuple[requests.Response, Any]:
    body = xmlrpc.client.dumps(params, method, allow_none=False).encode()
    resp = session.post(
        endpoint,
        data=body,
        timeout=timeout,
        headers={"Content-Type": "text/xml", "User-Agent": ua},
        allow_redirects=False,
        stream=True,
    )
    if not 200 <= resp.status_code < 300:
        return resp, None
    answer = read_bounded(resp, MAX_ANSWER_BYTES, time.monotonic() + timeout)
    (result,), _ = xmlrpc.client.loads(answer)
    return resp, result


def weblog_ping(
    session: requests.Session,
    endpoint: str,
    *,
    site_name: str,
    site_url: str,
    changed_url: str,
    feed_url: str,
    timeout: float,
    ua: str,
) -> Outcome:
    """``weblogUpdates.extendedPing``, falling back to ``weblogUpdates.ping`` on a fault.

    A response struct with ``flerror`` true is a failure; its ``message`` is kept.
    """
    started = time.monotonic()

    def attempt() -> Outcome:
        try:
            resp, result = _xmlrpc(
                session,
                endpoint,
                "weblogUpdates.extendedPing",
                (site_name, site_url, changed_url, feed_url),
                timeout,
                ua,
            )
        except xmlrpc.client.Fault:
            try:
                resp, result = _xmlrpc(
                    session, endpoint, "weblogUpdates.ping", (site_name, site_url), timeout, ua
                )
            except xmlrpc.client.Fault as e:
                return Outcome(
                    ok=False,
                    retryable=False,
                    error=f"XML-RPC fault {e.faultCode}: {e.faultString}",
                    ms=int((time.monotonic() - started) * 1000),
                )
        except (xmlrpc.client.ResponseError, ValueError, ExpatError) as e:
            return Outcome(
                ok=False,
                retryable=True,
                error=f"not an XML-RPC answer: {e}",
                ms=int((time.monotonic() - started) * 1000),
            )
        if result is None:
            return _from_response(resp, started)
        ms = int((time.monotonic() - started) * 1000)
        if isinstance(result, dict) and result.get("flerror"):
            return Outcome(
                ok=False,
                retryable=False,
                status=resp.status_code,
                error=f"flerror: {result.get('message', '')}",
                ms=ms,
            )
        return Outcome(ok=True, status=resp.status_code, ms=ms)

    return _guard(attempt, started)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
