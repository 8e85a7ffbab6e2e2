"""The ASGI application: a request → its answer, from the :class:`Store` (files held in
memory, pages read from disk, media streamed), the hub's endpoint, ``/healthz`` and the old
feed URLs' redirects. Each answer is counted through the :class:`~feedpub.metrics.Metrics`
hooks it is given (status, bytes sent), when there are any."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote

from feedpub.articles.media import is_media
from feedpub.logs import fields
from feedpub.metrics import NO_METRICS, Metrics
from feedpub.server.asgi import Message, Receive, Scope, Send, respond
from feedpub.server.media import send_file
from feedpub.server.resources import Headers, Reply, held_in_memory, media_type, relpath_of
from feedpub.server.store import Store

# (a JSON object; its "status" is "ok", or /healthz answers 503: the service cannot do its job)
access = logging.getLogger("feedpub.access")

HealthFn = Callable[[], Mapping[str, object]]
HubFn = Callable[[Scope, Receive, Send], Awaitable[None]]


class App:
    """The ASGI application. ``redirects``: URL path → the absolute URL it moved to, answered
    with ``301`` (old feed URLs: see :mod:`feedpub.redirects`)."""

    def __init__(
        self,
        store: Store,
        health: HealthFn,
        hub: HubFn | None = None,
        redirects: Mapping[str, bytes] | None = None,
        metrics: Metrics = NO_METRICS,
        access_log: bool = False,
    ) -> None:
        self.store = store
        self.health = health
        self.hub = hub
        self.redirects = redirects or {}
        self.metrics = metrics
        self.access_log = access_log  # one line per request (logger ``feedpub.access``)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        if self.metrics is NO_METRICS and not self.access_log:
            await self._answer(scope, receive, send)
            return
        status = 0
        sent = 0
        started = time.monotonic()

        async def counted(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self._answer(scope, receive, counted)
        finally:
            if status:  # (a connection lost before any answer: nothing was answered)
                self.metrics.request(status, sent)
                if self.access_log:
                    _log_access(scope, status, sent, time.monotonic() - started)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        path = scope["path"]
        if path == "/hub" and self.hub is not None:
            await self.hub(scope, receive, send)
            return
        if method not in ("GET", "HEAD"):
            await respond(send, 405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
            return
        if path == "/healthz":  # (it may read the state store: never on the event loop)
            health = await asyncio.get_running_loop().run_in_executor(None, self.health)
            body = json.dumps(health, sort_keys=True).encode() + b"\n"
            await respond(
                send,
                200 if health.get("status") == "ok" else 503,
                body if method == "GET" else b"",
                [(b"cache-control", b"no-store")],
                ctype=b"application/json",
                length=len(body),
            )
            return
        moved = self.redirects.get(path) if self.redirects else None
        if moved is not None:  # (before any file, as nginx's "location =" is)
            await respond(send, 301, b"", [(b"location", moved)])
            return
        store = self.store
        res = store.resources.get(path)
        if res is None and is_media(relpath_of(path)):
            opened = await asyncio.get_running_loop().run_in_executor(None, store.open_media, path)
            if opened is not None:
                await send_file(opened, media_type(relpath_of(path)).encode(), scope, send)
                return
        if res is None and not held_in_memory(relpath_of(path)):
            res = await asyncio.get_running_loop().run_in_executor(None, store.from_disk, path)
        if res is None:
            if not path.endswith("/") and (
                path + "/" in store.resources
                or await asyncio.get_running_loop().run_in_executor(
                    None, store.from_disk, path + "/"
                )
                is not None
            ):
                # (one leading slash: "//host/x/" would send the browser to another host)
                location = quote("/" + path.lstrip("/") + "/").encode()
                await respond(send, 301, b"", [(b"location", location)])
                return
            await respond(send, 404, b"not found\n" if method == "GET" else b"")
            return
        reply = res.reply(scope["headers"])
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.headers}
        )
        await send({"type": "http.response.body", "body": reply.body if method == "GET" else b""})

    def answer_now(self, head_only: bool, path: str, headers: Headers) -> Reply | None:
        """The answer to a ``GET`` (or, ``head_only``, a ``HEAD``) of URL ``path`` when it is a
        file held in memory, counted as answered; None for any other request, which takes the
        ASGI path (:meth:`__call__`): the hub, ``/healthz``, a redirect, a file read from
        disk, a miss, and every request while the access log is kept. The protocol's shortcut
        (:mod:`feedpub.server.protocol`) calls it from the parser's callback and writes the
        answer itself: the same answer, with the same bytes, as the ASGI path gives."""
        if self.access_log or path in self.redirects or path in _SPECIAL:
            return None
        res = self.store.resources.get(path)
        if res is None:
            return None
        reply = res.reply(headers)
        if self.metrics is not NO_METRICS:
            self.metrics.request(reply.status, 0 if head_only else len(reply.body))
        return reply


_SPECIAL = frozenset({"/hub", "/healthz"})  # (answered before any file: the ASGI path decides)


def _log_access(scope: Scope, status: int, sent: int, seconds: float) -> None:
    """One line for one answer: who, what, the status, the bytes, how long, which client
    software (as nginx's access log says it, with the facts as fields for JSON logs). What
    the client sent is escaped as nginx escapes it (``"`` and bytes that are not printable
    ASCII as ``\\xHH``), so it cannot forge a field or a line."""
    client = scope.get("client")
    who = str(client[0]) if client else "-"
    agent = next((v for k, v in scope["headers"] if k == b"user-agent"), b"-")
    path = scope.get("raw_path") or scope["path"].encode()
    target = path + (b"?" + scope["query_string"] if scope.get("query_string") else b"")
    shown, ua = _escaped(target[:2000]), _escaped(agent[:500])
    ms = round(seconds * 1000)
    access.info(
        '%s "%s %s" %d %d %d ms "%s"',
        who,
        scope["method"],
        shown,
        status,
        sent,
        ms,
        ua,
        extra=fields(
            client=who,
            method=scope["method"],
            path=shown,
            status=status,
            bytes=sent,
            duration_ms=ms,
            user_agent=ua,
        ),
    )


def _escaped(raw: bytes) -> str:
    return "".join(
        chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\x{b:02X}" for b in raw
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
