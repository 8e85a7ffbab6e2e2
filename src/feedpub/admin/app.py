"""The admin listener's ASGI application: ``/metrics`` and ``/status``, ``GET`` and
``HEAD`` only. Both read the state store: never on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from feedpub.server.asgi import Receive, Scope, Send, respond

# what the page may load: nothing but its own inline style (no script, no image, no frame)
_PAGE_HEADERS = [
    (b"cache-control", b"no-store"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        b"form-action 'none'; frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
]

Answer = tuple[int, bytes, bytes]  # (status, content type, body)


class AdminApp:
    """``metrics`` and ``status`` each give (status, content type, body); they may block."""

    def __init__(self, *, metrics: Callable[[], Answer], status: Callable[[], Answer]) -> None:
        self.routes = {"/metrics": metrics, "/status": status}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"]
        make = self.routes.get(scope["path"])
        if make is None:
            body = b"not found\n"
            await respond(send, 404, body if method == "GET" else b"", length=len(body))
            return
        if method not in ("GET", "HEAD"):
            await respond(send, 405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
            return
        status, ctype, body = await asyncio.get_running_loop().run_in_executor(None, make)
        await respond(
            send,
            status,
            body if method == "GET" else b"",
            _PAGE_HEADERS,
            ctype=ctype,
            length=len(body),
        )
