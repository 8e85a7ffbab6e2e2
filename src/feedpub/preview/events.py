"""The live reload: every HTML page the preview serves carries :data:`RELOAD_JS`, which
opens a server-sent event stream (``EventSource``: no browser plugin, no WebSocket) and
reloads the page when the preview says that a build changed the site.

Each event names the build the site is at (:attr:`Events.current`); a page is served with
the build it was read at, and reloads when the stream names another one. So a build that
lands between a page being read and its stream opening is not missed (the stream's first
event names it), and a preview started anew (its builds named afresh) reloads the pages
still open from the last one.

Bounded: at most :data:`MAX_STREAMS` streams at once (one more gets ``503``), a comment
every :data:`KEEPALIVE_SECONDS` (which also finds streams whose reader left), a stream
ends when its reader disconnects, and every stream ends at once when the server shuts
down (:meth:`Events.close`), so Ctrl-C never waits for open pages."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

from feedpub.server.asgi import NOSNIFF, Receive, Send, respond

MAX_STREAMS = 32  # open pages at once (a browser opens at most 6 per server over HTTP/1.1)
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 1000  # how soon a browser reconnects a dropped stream

PREFIX = "/_feedpub/"  # the preview's own URLs: no file of the site is served below it
EVENTS_PATH = PREFIX + "events"
SCRIPT_PATH = PREFIX + "reload.js"

RELOAD_JS = b"""\
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.EventSource) { return; }
  var build = me.getAttribute("data-build");
  var events = new EventSource(me.getAttribute("data-events"));
  events.addEventListener("build", function (e) {
    if (e.data !== build) {
      events.close();
      window.location.reload();
    }
  });
})();
"""


class Events:
    """The open event streams, and the build the site is at. :meth:`published` may be
    called from any thread; the streams run on the server's event loop."""

    def __init__(
        self, *, max_streams: int = MAX_STREAMS, keepalive_seconds: float = KEEPALIVE_SECONDS
    ) -> None:
        self.max_streams = max_streams
        self.keepalive_seconds = keepalive_seconds
        self._run = secrets.token_hex(4)  # (this preview's builds, told from another's)
        self._count = 0
        self.current = f"{self._run}-0"  # (one reference: read from any thread)
        self.streams = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None  # set and replaced on every change

    def published(self) -> None:
        """A build changed what the preview serves (call it after the new files are
        served): every open page reloads."""
        self._count += 1
        self.current = f"{self._run}-{self._count}"
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # (the loop has closed: nobody listens)
                loop.call_soon_threadsafe(self._wake)

    def close(self) -> None:
        """End every stream, and refuse new ones (the server is shutting down). Call it on
        the event loop."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def stream(self, receive: Receive, send: Send) -> None:
        """Answer a ``GET`` of :data:`EVENTS_PATH`: events until the reader leaves or the
        server shuts down."""
        if self._closed or self.streams >= self.max_streams:
            await respond(send, 503, b"too many open preview pages\n", [(b"retry-after", b"5")])
            return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._changed = asyncio.Event()
        self.streams += 1
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"no-store"),
                        (b"x-accel-buffering", b"no"),
                        NOSNIFF,
                    ],
                }
            )
            await _event(send, f"retry: {RETRY_MS}\n".encode())
            told = None
            while not self._closed and not left.done():
                changed = self._changed
                assert changed is not None
                if self.current != told:
                    told = self.current
                    await _event(send, f"event: build\ndata: {told}\n".encode())
                    continue
                waiting = asyncio.ensure_future(changed.wait())
                done, _ = await asyncio.wait(
                    {waiting, left},
                    timeout=self.keepalive_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiting.cancel()
                if not done:
                    await _event(send, b": keep-alive\n")
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            left.cancel()
            self.streams -= 1


async def _event(send: Send, lines: bytes) -> None:
    await send({"type": "http.response.body", "body": lines + b"\n", "more_body": True})


async def _disconnected(receive: Receive) -> None:
    """Return when the reader has gone (or the answer is complete)."""
    while (await receive())["type"] != "http.disconnect":
        pass
