"""The built-in hub's content distribution: feeds POSTed to subscribers from an event loop of
its own, over connections kept open and reused (aiohttp).

A fan-out sends one feed to every subscriber of a topic, thousands of them, often many on one
host. :class:`FanOut` runs an asyncio loop in a thread of its own (started with the first
delivery), takes batches of :class:`Delivery` from the notifier's sending loop, runs at most
``concurrency`` of them at once and reports each outcome back, from the loop's thread. What
has not started yet can be taken back (the notifier hands it back to the outbox).

Every attempt:

* goes to an address the hub may call: the callback is checked again before the call (its
  host resolved again: DNS may have changed since it subscribed), and every connection is
  made by :func:`~feedpub.notify.guard.guarded_connector`, which refuses a socket to any
  address the hub may not call before it connects; redirects are never followed;
* is bounded in time as a whole (``notify.timeout_seconds``, from the start of the attempt
  to the end of the answer's head) and reads at most
  :data:`~feedpub.notify.send.ERROR_TEXT_BYTES` of an answer's body, within the same time;
  a connection whose answer was not read to its end is closed, never reused;
* carries the feed's ``Content-Type``, its ``Link`` header (hubs and self) and, when the
  subscriber gave a secret, ``X-Hub-Signature``; no cookie, no proxy, no compression asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feedpub.model import OutboxRow
from feedpub.notify.guard import Network, callback_refusal, guarded_connector, refused
from feedpub.notify.plan import Outcome
from feedpub.notify.send import ERROR_TEXT_BYTES, answered
from feedpub.notify.targets import describe

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 5.0  # for the loop to cancel what runs and close its connections
STOPPED = "the sender stopped before the answer came"
MAX_CHECKED = 10_000  # callback hosts whose check is remembered
_NAME = object()  # a callback host that is a name: resolved before every delivery
_UNKNOWN = object()


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One hub delivery, ready to POST: the feed's bytes and the request's headers."""

    row: OutboxRow
    callback: str
    body: bytes
    headers: Mapping[str, str]


# where outcomes go, a few at a time (None: not sent, it was not to start)
Report = Callable[[Sequence[tuple[OutboxRow, Outcome | None]]], None]


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # (not on Windows)
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class FanOut:
    """Sends :class:`Delivery` batches, ``concurrency`` at a time, over reused connections.

    ``may_start(row)`` is asked just before each send (the notifier's lease check): False
    reports None for it, unsent. ``close()`` reports what waits None (unsent), cancels what
    runs (each reported as a failure to retry: it may have been delivered, or not) and
    closes every connection."""

    def __init__(
        self,
        *,
        allowed: Sequence[Network],
        concurrency: int,
        timeout: float,
        may_start: Callable[[OutboxRow], bool],
    ) -> None:
        self.allowed = tuple(allowed)
        self.concurrency = concurrency
        self.timeout = timeout
        self.may_start = may_start
        self._lock = threading.Lock()  # guards _waiting, _loop and _closed
        self._waiting: deque[tuple[Delivery, Report]] = deque()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # (touched on the loop's thread only)
        self._session: aiohttp.ClientSession | None = None
        self._senders: set[asyncio.Task[None]] = set()
        self._ended: dict[Report, list[tuple[OutboxRow, Outcome | None]]] = {}
        self._checked: dict[str, object] = {}  # a callback's start → refusal, or _NAME

    # -- from the notifier's thread ---------------------------------------------------------

    def send(self, deliveries: Sequence[Delivery], report: Report) -> None:
        """Queue ``deliveries``; their outcomes go to ``report`` (from another thread, a
        few at a time). After :meth:`close`, each is reported None at once."""
        with self._lock:
            closed = self._closed
            if not closed:
                self._waiting.extend((d, report) for d in deliveries)
                loop = self._started()
        if closed:
            report([(d.row, None) for d in deliveries])
            return
        loop.call_soon_threadsafe(self._pump)

    def take_back(self) -> list[OutboxRow]:
        """The rows of the deliveries queued and not started: no longer this sender's to
        send (nor reported)."""
        with self._lock:
            back = [d.row for d, _ in self._waiting]
            self._waiting.clear()
        return back

    def close(self) -> None:
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):  # (bounded: a loop that does not answer is left)
            asyncio.run_coroutine_threadsafe(self._shut_down(), loop).result(CLOSE_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CLOSE_TIMEOUT)
        if not thread.is_alive():
            loop.close()

    def _started(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use (under ``_lock``)."""
        if self._loop is None:
            loop = _new_loop()
            self._thread = threading.Thread(
                target=loop.run_forever, name="feedpub-fanout", daemon=True
            )
            self._thread.start()
            self._loop = loop
        return self._loop

    # -- on the loop's thread ---------------------------------------------------------------

    def _pump(self) -> None:
        """Start senders (up to ``concurrency``) for the deliveries waiting."""
        loop = asyncio.get_running_loop()
        with self._lock:
            wanted = min(len(self._waiting), self.concurrency - len(self._senders))
        for _ in range(wanted):
            task = loop.create_task(self._sender())
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)

    async def _sender(self) -> None:
        """Send waiting deliveries one after the other until none waits."""
        try:
            while not self._closed:
                with self._lock:
                    if not self._waiting:
                        return
                    delivery, report = self._waiting.popleft()
                try:
                    outcome = await self._one(delivery)
                except asyncio.CancelledError:  # closing: it may have been delivered, or not
                    stopped = Outcome(ok=False, retryable=True, error=STOPPED)
                    self._report(report, delivery.row, stopped)
                    raise
                self._report(report, delivery.row, outcome)
        finally:  # (no longer counted as soon as it finds nothing waiting: see _pump)
            self._senders.discard(asyncio.current_task())

    async def _one(self, delivery: Delivery) -> Outcome | None:
        """A delivery's outcome; None if its send was not to start."""
        try:
            return await self.attempt(delivery) if self.may_start(delivery.row) else None
        except Exception as e:  # a bug in one send must not stop the others
            log.exception("sending %s failed", describe(delivery.row))
            return Outcome(ok=False, retryable=True, error=repr(e))

    def _report(self, report: Report, row: OutboxRow, outcome: Outcome | None) -> None:
        """Report an outcome with the others of this turn of the loop (one call for them)."""
        if not self._ended:
            asyncio.get_running_loop().call_soon(self._report_ended)
        self._ended.setdefault(report, []).append((row, outcome))

    def _report_ended(self) -> None:
        ended, self._ended = self._ended, {}
        for report, outcomes in ended.items():
            report(outcomes)

    async def attempt(self, delivery: Delivery) -> Outcome:
        """One delivery: checked, POSTed, its answer read (bounded), never raising."""
        started = time.monotonic()
        refusal = self._refusal(delivery.callback)  # DNS may have changed
        if refusal is _NAME:  # resolved off the loop
            refusal = await asyncio.get_running_loop().run_in_executor(
                None, callback_refusal, delivery.callback, self.allowed
            )
        if refusal is not None:
            return Outcome(ok=False, retryable=False, error=str(refusal))
        return await post(self._client(), delivery, timeout=self.timeout, started=started)

    def _refusal(self, callback: str) -> object:
        """:func:`~feedpub.notify.guard.callback_refusal` for a callback whose host is an
        address: it needs no resolver and its answer cannot change, so it is checked once
        (per scheme, host and port: everything before the path); ``_NAME`` for one whose
        host is a name, to be resolved again before every delivery (off the loop)."""
        scheme, _, rest = callback.partition("://")
        key = scheme + "://" + rest.partition("/")[0]
        known = self._checked.get(key, _UNKNOWN)
        if known is _UNKNOWN:
            if len(self._checked) >= MAX_CHECKED:
                self._checked.clear()
            address = _is_address(urlsplit(callback).hostname or "")
            known = self._checked[key] = (
                callback_refusal(callback, self.allowed) if address else _NAME
            )
        return known

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=guarded_connector(self.allowed, self.concurrency),
                cookie_jar=aiohttp.DummyCookieJar(),  # one subscriber's cookies go nowhere
                trust_env=False,  # no proxy (see feedpub.notify.guard), no .netrc
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),  # so the answer is not compressed
                timeout=aiohttp.ClientTimeout(),  # (each attempt is bounded: see post)
            )
        return self._session

    async def _shut_down(self) -> None:
        with self._lock:
            left = list(self._waiting)
            self._waiting.clear()
        for delivery, report in left:
            self._report(report, delivery.row, None)
        for task in list(self._senders):
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        self._report_ended()
        if self._session is not None:
            await self._session.close()


async def post(
    session: aiohttp.ClientSession, delivery: Delivery, *, timeout: float, started: float
) -> Outcome:
    """POST ``delivery`` on ``session`` and read at most :data:`ERROR_TEXT_BYTES` of the
    answer's body, all within ``timeout`` of ``started`` (monotonic); an answer whose head
    came in time counts, however much of its body did."""
    import aiohttp

    loop = asyncio.get_running_loop()
    resp: aiohttp.ClientResponse | None = None
    text = bytearray()
    whole = False
    ms = 0
    try:
        async with asyncio.timeout_at(loop.time() + timeout - (time.monotonic() - started)):
            resp = await session.post(
                delivery.callback,
                data=delivery.body,
                headers=delivery.headers,
                allow_redirects=False,
            )
            ms = int((time.monotonic() - started) * 1000)
            whole = await _read_bounded(resp.content, text, ERROR_TEXT_BYTES)
    except TimeoutError:
        if resp is None:
            return _failed("timed out", started)
    except (aiohttp.ClientError, OSError) as e:
        if resp is None:
            reason = refused(e)
            if reason is not None:  # an address the hub may not call: retrying will not help
                return _failed(reason, started, retryable=False)
            if isinstance(e, aiohttp.ClientConnectionError | OSError):
                return _failed(f"connection failed: {type(e).__name__}", started)
            return _failed(f"request failed: {e}", started)
    finally:
        if resp is not None and whole:
            resp.release()  # read to its end: the connection is reused
        elif resp is not None:
            resp.close()  # the rest unread (too long, too slow, broken): it is closed
    text_read = bytes(text).decode("utf-8", "replace")
    return answered(resp.status, text_read, resp.headers.get("Retry-After"), ms)


async def _read_bounded(stream: aiohttp.StreamReader, into: bytearray, limit: int) -> bool:
    """Read into ``into`` until the body ends or ``limit`` bytes are in: whether it ended."""
    while len(into) < limit:
        chunk = await stream.read(limit - len(into))
        if not chunk:
            return True
        into += chunk
    return stream.at_eof()


def _failed(error: str, started: float, *, retryable: bool = True) -> Outcome:
    return Outcome(
        ok=False, retryable=retryable, error=error, ms=int((time.monotonic() - started) * 1000)
    )
