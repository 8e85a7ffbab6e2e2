"""The preview's HTTP answers: the site as :class:`feedpub.server.App` serves it, with every
HTML page carrying the reload script (:data:`~feedpub.preview.events.RELOAD_JS`), nothing
cached by the browser (a writer sees each save), and the preview's own URLs below
:data:`~feedpub.preview.events.PREFIX`.

The script is a file of the preview's own origin, not inline: a Content-Security-Policy
allowing ``script-src 'self'`` and ``connect-src 'self'`` allows it. (Neither the built
pages nor the server set such a policy today.) Built files never hold the script: it is
added to the answer only."""

from __future__ import annotations

import re

from feedpub.preview.events import EVENTS_PATH, PREFIX, RELOAD_JS, SCRIPT_PATH, Events
from feedpub.server import App, Message, Receive, Scope, Send, respond
from feedpub.server.resources import relpath_of

NO_CACHE = b"no-cache"  # (every answer: revalidated on every use)
# headers that ask for another answer than the whole page: the page is sent as it is now
_CONDITIONS = {b"accept-encoding", b"if-none-match", b"if-modified-since", b"range", b"if-range"}
# headers that describe the file, not the page with the script in it
_FILE_HEADERS = {b"content-length", b"etag", b"last-modified", b"cache-control", b"vary"}
_HEAD_END = re.compile(rb"</head\s*>", re.I)
_BODY_END = re.compile(rb"</body\s*>", re.I)


def with_script(html: bytes, build: str) -> bytes:
    """``html`` with the reload script, for a page read at ``build``: before ``</head>``
    (or ``</body>``, or at the end)."""
    tag = (
        f'<script src="{SCRIPT_PATH}" data-events="{EVENTS_PATH}" data-build="{build}" defer>'
        "</script>"
    ).encode()
    for end in (_HEAD_END, _BODY_END):
        found = end.search(html)
        if found is not None:
            return html[: found.start()] + tag + html[found.start() :]
    return html + tag


async def no_hub(scope: Scope, receive: Receive, send: Send) -> None:
    """``/hub``, which the preview's feeds name when the site runs the built-in hub."""
    await respond(send, 503, b"feedpub serve runs no WebSub hub: subscribe to the published site\n")


class PreviewApp:
    """The ASGI application of ``feedpub serve``. ``folder``: the path of the site's address
    (``/blog/`` for ``https://example.org/blog/``): the site is served below it, as it
    will be published, so that links written root-relative (``/blog/about/``) lead where
    they will lead."""

    def __init__(self, site: App, events: Events, *, folder: str = "/") -> None:
        self.site = site
        self.events = events
        self.folder = folder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.site(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path.startswith(PREFIX):
            await self._own(path, method, receive, send)
            return
        folder = self.folder
        if folder != "/" and path != "/healthz":
            if not path.startswith(folder):
                if path in ("/", folder[:-1]):
                    await respond(send, 302, b"", [(b"location", folder.encode())])
                else:
                    await respond(
                        send, 404, b"not found (the site is at " + folder.encode() + b")\n"
                    )
                return
            scope = {**scope, "path": path[len(folder) - 1 :]}
            path = scope["path"]
        if method in ("GET", "HEAD") and relpath_of(path).endswith(".html"):
            build = self.events.current  # (read first: a page never names a later build)
            headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _CONDITIONS]
            page = {**scope, "method": "GET", "headers": headers}
            answer = _Page(self._answer(send), build, head=method == "HEAD")
            await self.site(page, receive, answer)
            return
        await self.site(scope, receive, self._answer(send))

    def _answer(self, send: Send) -> Send:
        """``send``, with nothing cached and local redirects kept below the folder."""
        folder = self.folder.encode()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for key, given in message.get("headers", ()):
                    if key == b"cache-control":
                        continue
                    local = key == b"location" and given.startswith(b"/")
                    headers.append((key, folder + given[1:] if local else given))
                message = {**message, "headers": [*headers, (b"cache-control", NO_CACHE)]}
            await send(message)

        return sending

    async def _own(self, path: str, method: str, receive: Receive, send: Send) -> None:
        if method not in ("GET", "HEAD"):
            await respond(send, 405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
        elif path == EVENTS_PATH and method == "GET":
            await self.events.stream(receive, send)
        elif path == SCRIPT_PATH:
            await respond(
                send,
                200,
                RELOAD_JS if method == "GET" else b"",
                [(b"cache-control", NO_CACHE)],
                ctype=b"text/javascript; charset=utf-8",
                length=len(RELOAD_JS),
            )
        else:
            await respond(send, 404, b"not found\n")


class _Page:
    """Sends an HTML page with the reload script in it (held whole first: pages are read
    whole, at most the server's limit); any other answer as it is. (``send``: the
    preview's, which marks every answer not to be cached.)"""

    def __init__(self, send: Send, build: str, *, head: bool) -> None:
        self._send = send
        self._build = build
        self._head = head
        self._start: Message | None = None
        self._body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            given = dict(message.get("headers", ()))
            html = given.get(b"content-type", b"").startswith(b"text/html")
            if message["status"] == 200 and html:
                self._start = message
                return
            await self._send(message)
            return
        if self._start is None:  # (not a page: passed on as it is)
            await self._send(message)
            return
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = with_script(b"".join(self._body), self._build)
        headers = [
            (k, v) for k, v in self._start.get("headers", ()) if k.lower() not in _FILE_HEADERS
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send({**self._start, "headers": headers})
        await self._send({"type": "http.response.body", "body": b"" if self._head else body})
