"""The ASGI types the server and the hub (:mod:`feedpub.notify.hub`) share, and the plain
answer both give: :func:`respond`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

# (ASGI scopes and messages are dictionaries whose values differ by key)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Application = Callable[[Scope, Receive, Send], Awaitable[None]]  # (an ASGI application)

NOSNIFF = (b"x-content-type-options", b"nosniff")  # on every answer


async def respond(
    send: Send,
    status: int,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
    *,
    ctype: bytes = b"text/plain; charset=utf-8",
    length: int | None = None,
) -> None:
    headers = [
        (b"content-type", ctype),
        (b"content-length", str(len(body) if length is None else length).encode()),
        NOSNIFF,
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """A request's whole body, or None if it passes ``limit`` bytes or the client went."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
