"""Serving the output folder to feed readers: a small ASGI app answering from memory.

The feeds, the index, the OPML and the other small files are held in memory with their gzip
form, strong ETags, ``Last-Modified`` and complete header lists, prepared once when the
builder publishes; a request for one is a dictionary lookup. The builder's changes are
swapped in atomically (one reference), so a reader never sees a feed that is half old and
half new. Those paths never reach the disk, so no request path can lead outside the output
folder: ``..``, encoded or not, backslashes and NULs simply miss.

Article pages, archive documents and the index's older pages (:func:`held_in_memory`: as
many as there are articles) are read from disk when asked for, in a worker thread, through
:func:`feedpub.output.read_file`: below the output folder only (a path with ``..`` is
refused, no symlink is followed), servable files only, at most :data:`MAX_DISK_BYTES`, and
whole from the one file opened, so a file replaced meanwhile is served as it was, never torn.
The answer is prepared as for a file in memory (same ETag, gzip, headers) and kept in a small
cache (:data:`DISK_CACHE_BYTES`), checked against the file's status on every request. Memory
grows with the feeds, not with the number of articles.

Files beside the articles (images, audio, video, documents: :func:`feedpub.articles.refs.is_media`,
up to 64 MiB) are never read whole: :meth:`Store.open_media` opens the file (by the same
rules), and the answer is sent from that one descriptor :data:`STREAM_CHUNK_BYTES` at a time,
as the reader takes it (a file replaced meanwhile is sent whole as it was opened). They are
never gzipped (already compressed), carry an ETag made from the file's status (inode, size,
time: nothing is hashed per request), answer ``304`` and single byte ranges (``206``,
``416``; ``If-Range``; several ranges get the whole file), with ``Accept-Ranges: bytes``.

Served under uvicorn with uvloop and httptools (see :func:`serve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import gzip
import hashlib
import ipaddress
import json
import logging
import mimetypes
import os
import re
import signal
import socket
import stat
import struct
import sys
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feedpub.articles.media import is_media
from feedpub.config import ServerConfig
from feedpub.errors import OutputError, ServerError, one_line
from feedpub.output import open_file, read_file, servable, stat_file
from feedpub.render.paths import ARCHIVE_DIR, EXTENSIONS, FEED_SUFFIXES, INDEX_PATH, MEDIA_TYPES

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TYPES = {
    **{"." + EXTENSIONS[f]: MEDIA_TYPES[f] + "; charset=utf-8" for f in EXTENSIONS},
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
}
MIN_GZIP_BYTES = 256
NOSNIFF = (b"x-content-type-options", b"nosniff")  # on every answer
# a file whose name says it is compressed is served as what it is: never as its contents'
# type (``x.csv.gz`` is not text/csv: a browser would show it as garbled text)
_ENCODED_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}


def media_type(relpath: str) -> str:
    for suffix, mtype in _TYPES.items():
        if relpath.endswith(suffix):
            return mtype
    # (files beside the articles: images, audio, video, documents)
    guessed, encoding = mimetypes.guess_type(relpath, strict=False)
    if encoding is not None:
        return _ENCODED_TYPES.get(encoding, "application/octet-stream")
    return guessed or "application/octet-stream"


def compressible(mtype: str) -> bool:
    """Whether gzip makes a file of this type smaller: text, XML and JSON; never images,
    audio, video, PDF, archives (compressed already: gzip only costs CPU)."""
    base = mtype.split(";", 1)[0].strip()
    return (
        base.startswith("text/")
        or base.endswith(("/xml", "+xml", "/json", "+json"))
        or (base == "application/javascript")
    )


@dataclass(frozen=True, slots=True)
class Resource:
    """One file, ready to serve: bodies and the exact headers of each answer."""

    body: bytes
    gzipped: bytes | None
    etag: bytes
    gzip_etag: bytes
    mtime: int  # whole seconds, as Last-Modified says
    plain_headers: list[tuple[bytes, bytes]]
    gzip_headers: list[tuple[bytes, bytes]]
    not_modified_headers: list[tuple[bytes, bytes]]
    gzip_not_modified_headers: list[tuple[bytes, bytes]]


def make_resource(relpath: str, data: bytes, mtime: float, links: Iterable[str] = ()) -> Resource:
    """Prepare a file for serving. ``links`` are ``Link`` header values (feeds' self and hub)."""
    mtype = media_type(relpath)
    digest = hashlib.sha256(data).hexdigest()[:32]
    etag = f'"{digest}"'.encode()
    gzip_etag = f'"{digest}-gz"'.encode()
    seconds = int(mtime)
    last_modified = formatdate(seconds, usegmt=True).encode()
    cache = b"public, max-age=60" if relpath.endswith(FEED_SUFFIXES) else b"public, max-age=300"
    zippable = compressible(mtype) and len(data) >= MIN_GZIP_BYTES
    gz = gzip.compress(data, compresslevel=6, mtime=0) if zippable else None
    if gz is not None and len(gz) >= len(data):
        gz = None
    common: list[tuple[bytes, bytes]] = [
        (b"last-modified", last_modified),
        (b"cache-control", cache),
        NOSNIFF,
    ]
    if zippable:
        common.append((b"vary", b"Accept-Encoding"))
    for link in links:
        common.append((b"link", link.encode("latin-1", "replace")))
    ctype = (b"content-type", mtype.encode())
    plain = [ctype, (b"content-length", str(len(data)).encode()), (b"etag", etag), *common]
    zipped = (
        [
            ctype,
            (b"content-length", str(len(gz)).encode()),
            (b"content-encoding", b"gzip"),
            (b"etag", gzip_etag),
            *common,
        ]
        if gz is not None
        else plain
    )
    return Resource(
        body=data,
        gzipped=gz,
        etag=etag,
        gzip_etag=gzip_etag if gz is not None else etag,
        mtime=seconds,
        plain_headers=plain,
        gzip_headers=zipped,
        not_modified_headers=[(b"etag", etag), *common],
        gzip_not_modified_headers=[(b"etag", gzip_etag if gz is not None else etag), *common],
    )


MAX_DISK_BYTES = 64 * 1024 * 1024  # a file read from disk to answer a request, at most
STREAM_CHUNK_BYTES = 64 * 1024  # a media file is sent this much at a time


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """A media file opened for one answer (:meth:`Store.open_media`): the caller closes
    ``fd``. Every byte sent is read from ``fd``, so the answer is the file as opened."""

    fd: int
    size: int
    etag: bytes
    mtime: int  # whole seconds, as Last-Modified says
    last_modified: bytes
    headers: list[tuple[bytes, bytes]]  # sent with every answer (200, 206, 304, 416)


def _file_etag(st: os.stat_result) -> bytes:
    """A strong ETag from the file's status: ``os.replace`` gives a new inode, an edit in
    place a new time; the bytes are never hashed per request."""
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'.encode()


DISK_CACHE_BYTES = 16 * 1024 * 1024  # answers read from disk, kept (least recently used out)


def held_in_memory(relpath: str) -> bool:
    """Whether a file is held in memory (the feeds, the site index, the OPML, files put there
    by hand), or read from disk when asked for: article pages, archive documents and the
    index's older pages (every HTML page but the index, everything below ``feeds/archive/``),
    whose number grows with the articles; and the files beside the articles that pages link
    to (images, audio, video), whose size does."""
    from feedpub.articles.media import is_media

    if relpath.startswith(ARCHIVE_DIR) or is_media(relpath):
        return False
    return relpath == INDEX_PATH or not relpath.endswith(".html")


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def url_path(relpath: str) -> str:
    """The URL path a file is served at (``articles/x/index.html`` → ``/articles/x/``)."""
    if relpath == "index.html":
        return "/"
    if relpath.endswith("/index.html"):
        return "/" + relpath[: -len("index.html")]
    return "/" + relpath


def _relpath(path: str) -> str:
    """The inverse of :func:`url_path`."""
    return path.lstrip("/") + ("index.html" if path.endswith("/") else "")


def _is_file(root: Path, relpath: str) -> bool:
    try:
        st = stat_file(root, relpath)
    except OutputError:
        return False
    return st is not None and stat.S_ISREG(st.st_mode)


class Store:
    """What the server serves: URL path → Resource, replaced as a whole on every change.

    Served are the files of the output folder that :func:`feedpub.output.servable` allows:
    those feedpub published (its manifest) and regular files an operator put there (a
    ``robots.txt``), never a dotfile, a temporary file, a lock, a database or its journal,
    whatever the config says, and never anything reached through a symlink."""

    def __init__(self, root: Path, links_for: Callable[[str], list[str]] | None = None) -> None:
        self.root = root
        self.links_for = links_for or (lambda relpath: [])
        self.resources: Mapping[str, Resource] = {}  # URL path -> a file held in memory
        # files read from disk: relpath -> (file status, answer), least recently used first
        self._cache: OrderedDict[str, tuple[tuple[int, int, int, int], Resource]] = OrderedDict()
        self._cached_bytes = 0
        self._cache_lock = threading.Lock()
        # files read from disk: relpath -> sha256 as published (what ``differs`` compares)
        self._disk_digests: Mapping[str, str] = {}

    def from_disk(self, path: str) -> Resource | None:
        """The answer for URL ``path`` when it names a file read from disk
        (:func:`held_in_memory`), or None (not such a path, not there, not servable, too
        large). Blocking: call it from a worker thread."""
        relpath = _relpath(path)
        if held_in_memory(relpath) or not servable(relpath) or is_media(relpath):
            return None  # (media: :meth:`open_media`)
        with self._cache_lock:
            hit = self._cache.get(relpath)

        def same(st: os.stat_result) -> bool:
            return hit is not None and hit[0] == _stat_key(st)

        try:
            found = read_file(self.root, relpath, limit=MAX_DISK_BYTES, cached=same)
        except OutputError:  # ("..", an absolute path, a NUL)
            return None
        if found is None:
            self._forget(relpath)
            return None
        data, st = found
        if hit is not None and same(st):
            with self._cache_lock:
                if relpath in self._cache:
                    self._cache.move_to_end(relpath)
            return hit[1]
        res = make_resource(relpath, data, st.st_mtime, self.links_for(relpath))
        size = len(res.body) + len(res.gzipped or b"")
        if size <= DISK_CACHE_BYTES // 16:
            with self._cache_lock:
                old = self._cache.pop(relpath, None)
                if old is not None:
                    self._cached_bytes -= len(old[1].body) + len(old[1].gzipped or b"")
                self._cache[relpath] = (_stat_key(st), res)
                self._cached_bytes += size
                while self._cached_bytes > DISK_CACHE_BYTES and self._cache:
                    _, (_, gone) = self._cache.popitem(last=False)
                    self._cached_bytes -= len(gone.body) + len(gone.gzipped or b"")
        return res

    def open_media(self, path: str) -> OpenedFile | None:
        """The media file (:func:`feedpub.articles.refs.is_media`) at URL ``path``, opened
        by the rules of :meth:`from_disk` (below the folder, no symlink, servable, a regular
        file of at most :data:`MAX_DISK_BYTES`), or None. Blocking: call it from a worker
        thread; the caller closes the descriptor."""
        relpath = _relpath(path)
        if not is_media(relpath) or not servable(relpath):
            return None
        with open_file(self.root, relpath) as opened:
            if opened is None or opened[1].st_size > MAX_DISK_BYTES:
                return None
            fd, st = opened
            etag = _file_etag(st)
            seconds = int(st.st_mtime)
            last_modified = formatdate(seconds, usegmt=True).encode()
            headers = [
                (b"etag", etag),
                (b"last-modified", last_modified),
                (b"cache-control", b"public, max-age=300"),
                (b"accept-ranges", b"bytes"),
                NOSNIFF,
            ]
            headers += [(b"link", v.encode("latin-1", "replace")) for v in self.links_for(relpath)]
            return OpenedFile(
                fd=os.dup(fd),
                size=st.st_size,
                etag=etag,
                mtime=seconds,
                last_modified=last_modified,
                headers=headers,
            )

    def _forget(self, relpath: str) -> None:
        with self._cache_lock:
            old = self._cache.pop(relpath, None)
            if old is not None:
                self._cached_bytes -= len(old[1].body) + len(old[1].gzipped or b"")

    def _load(self, relpath: str) -> Resource | None:
        if not servable(relpath) or not held_in_memory(relpath):
            return None
        found = read_file(self.root, relpath)  # a regular file, no symlink on the way
        if found is None:
            return None
        data, st = found
        return make_resource(relpath, data, st.st_mtime, self.links_for(relpath))

    def load_all(self) -> int:
        """(Re)load every servable file of the output folder."""
        found: dict[str, Resource] = {}
        if self.root.is_dir():
            for folder, dirs, files in os.walk(self.root):  # (symlinked folders: not entered)
                base = Path(folder).relative_to(self.root).as_posix()
                prefix = "" if base == "." else base + "/"
                dirs[:] = [
                    d
                    for d in dirs
                    if servable(prefix + d + "/x") and (prefix + d + "/") != ARCHIVE_DIR
                ]
                for name in files:
                    res = self._load(prefix + name)
                    if res is not None:
                        found[url_path(prefix + name)] = res
        self.resources = found
        return len(found)

    def differs(self, published: Mapping[str, str]) -> list[str]:
        """Of ``published`` (relpath → sha256), the files not held with these bytes (for
        files read from disk: not known, by the last :meth:`sync`, to have them)."""
        held = self.resources
        on_disk = self._disk_digests
        return [
            relpath
            for relpath, digest in published.items()
            if (
                (res := held.get(url_path(relpath))) is None
                or res.etag != f'"{digest[:32]}"'.encode()
            )
            if held_in_memory(relpath) or on_disk.get(relpath) != digest
        ]

    def sync(self, published: Mapping[str, str]) -> int:
        """Make the served files match ``published`` (relpath → sha256): reload those whose
        bytes differ, drop those whose file is gone. Files feedpub did not publish (a
        ``robots.txt`` put there by hand) stay while they exist. Returns how many changed."""
        held = self.resources
        stale = [r for r in self.differs(published) if held_in_memory(r)]
        self._disk_digests = {r: d for r, d in published.items() if not held_in_memory(r)}
        paths = {url_path(r) for r in published}
        gone = {p for p in held if p not in paths and not _is_file(self.root, _relpath(p))}
        if not stale and not gone:
            return 0
        new = {k: v for k, v in held.items() if k not in gone}
        for relpath in stale:
            res = self._load(relpath)
            if res is not None:
                new[url_path(relpath)] = res
        self.resources = new
        return len(stale) + len(gone)

    def update(self, written: Iterable[str], removed: Iterable[str]) -> None:
        """Swap in the files a build wrote and drop those it removed, all at once."""
        new = dict(self.resources)
        for relpath in removed:
            new.pop(url_path(relpath), None)
        for relpath in (*written, *removed):
            if not held_in_memory(relpath):
                self._forget(relpath)
        for relpath in written:
            res = self._load(relpath)
            if res is not None:
                new[url_path(relpath)] = res
        self.resources = new


# RFC 9110 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\Z")


@functools.lru_cache(maxsize=256)  # readers send a handful of distinct values
def _accepts_gzip(value: bytes) -> bool:
    """Whether an ``Accept-Encoding`` value (RFC 9110 12.5.3) allows gzip: an explicit
    ``gzip`` or ``x-gzip`` with a weight above 0 or, when neither is named, a ``*`` with one.
    The ``q`` parameter's name is case-insensitive and spaces around it are tolerated; a weight
    that is not a valid qvalue (``q=2``, ``q=abc``, ``q=0.0001``) refuses its coding."""
    named: float | None = None
    star: float | None = None
    for element in value.decode("latin-1").split(","):
        coding, *params = element.split(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        weight = 1.0
        for param in params:
            name, eq, raw = param.partition("=")
            if name.strip().lower() == "q":
                raw = raw.strip()
                weight = float(raw) if eq and _QVALUE.match(raw) else 0.0
                break
        if coding == "*":
            star = weight if star is None else max(star, weight)
        else:
            named = weight if named is None else max(named, weight)
    if named is not None:
        return named > 0
    return star is not None and star > 0


def _etag_matches(header: bytes, etag: bytes) -> bool:
    if header.strip() == b"*":
        return True
    for candidate in header.split(b","):
        c = candidate.strip()
        if c.startswith(b"W/"):
            c = c[2:]
        if c == etag:
            return True
    return False


def _not_modified(inm: bytes | None, ims: bytes | None, mtime: int, etag: bytes) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) wins; else If-Modified-Since."""
    if inm is not None:
        return inm == etag or _etag_matches(inm, etag)
    if ims is not None:
        try:
            since = parsedate_to_datetime(ims.decode("latin-1")).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):  # not a date: no condition
            return False
        return mtime <= since
    return False


_RANGE = re.compile(
    rb"[ \t]*bytes[ \t]*=[ \t]*([0-9]{0,18})[ \t]*-[ \t]*([0-9]{0,18})[ \t]*\Z", re.I
)
UNSATISFIABLE = (-1, -1)


def byte_range(value: bytes, size: int) -> tuple[int, int] | None:
    """A ``Range`` header (RFC 9110 14.1.2) for a file of ``size`` bytes: (first, last)
    byte, :data:`UNSATISFIABLE`, or None to send the whole file (not a single byte range
    this server understands: several ranges, another unit, a syntax error)."""
    m = _RANGE.match(value)
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first:
        if not last:
            return None
        suffix = int(last)  # the last ``suffix`` bytes
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # (invalid: ignored, RFC 9110 14.2)
    if start >= size:
        return UNSATISFIABLE
    return start, min(end, size - 1)


def _if_range_holds(value: bytes, f: OpenedFile) -> bool:
    """``If-Range``: a strong ETag equal to the file's, or its exact ``Last-Modified``."""
    value = value.strip()
    return value in (f.etag, f.last_modified)


async def send_file(f: OpenedFile, mtype: bytes, scope: Scope, send: Send) -> None:
    """Answer with a media file, from the descriptor opened (closed here): ``304`` on a
    condition, one byte range (``206``) or the whole file (``200``), never gzipped, sent
    :data:`STREAM_CHUNK_BYTES` at a time as the reader takes it (``send`` waits while the
    connection's buffer is full), so memory does not grow with the file."""
    try:
        inm = ims = ranges = if_range = None
        for key, value in scope["headers"]:
            if key == b"if-none-match":
                inm = value
            elif key == b"if-modified-since":
                ims = value
            elif key == b"range":
                ranges = value
            elif key == b"if-range":
                if_range = value
        if _not_modified(inm, ims, f.mtime, f.etag):
            await send({"type": "http.response.start", "status": 304, "headers": f.headers})
            await send({"type": "http.response.body", "body": b""})
            return
        status, start, length = 200, 0, f.size
        extra: list[tuple[bytes, bytes]] = []
        if ranges is not None and (if_range is None or _if_range_holds(if_range, f)):
            wanted = byte_range(ranges, f.size)
            if wanted == UNSATISFIABLE:
                body = b"range not satisfiable\n"
                await respond(
                    send,
                    416,
                    body if scope["method"] == "GET" else b"",
                    [(b"content-range", f"bytes */{f.size}".encode()), *f.headers],
                    length=len(body),
                )
                return
            if wanted is not None:
                status, start, length = 206, wanted[0], wanted[1] - wanted[0] + 1
                extra.append((b"content-range", f"bytes {wanted[0]}-{wanted[1]}/{f.size}".encode()))
        headers = [
            (b"content-type", mtype),
            (b"content-length", str(length).encode()),
            *extra,
            *f.headers,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope["method"] != "GET" or not length:
            await send({"type": "http.response.body", "body": b""})
            return
        loop = asyncio.get_running_loop()
        offset, end = start, start + length
        while offset < end:
            want = min(STREAM_CHUNK_BYTES, end - offset)
            chunk = await loop.run_in_executor(None, os.pread, f.fd, want, offset)
            if not chunk:  # cut short in place (feedpub never does): close, never pad
                log.warning("a file being served became shorter; the answer was cut")
                return
            offset += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": offset < end})
    finally:
        os.close(f.fd)


HealthFn = Callable[[], dict[str, Any]]
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
    ) -> None:
        self.store = store
        self.health = health
        self.hub = hub
        self.redirects = redirects or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
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
                200,
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
        if res is None and is_media(_relpath(path)):
            opened = await asyncio.get_running_loop().run_in_executor(None, store.open_media, path)
            if opened is not None:
                await send_file(opened, media_type(_relpath(path)).encode(), scope, send)
                return
        if res is None and not held_in_memory(_relpath(path)):
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
        # one pass over the request headers (this is the hot path)
        accept = inm = ims = None
        for key, value in scope["headers"]:
            if key == b"accept-encoding":  # repeated, the values make one list
                accept = value if accept is None else accept + b"," + value
            elif key == b"if-none-match":
                inm = value
            elif key == b"if-modified-since":
                ims = value
        use_gzip = res.gzipped is not None and accept is not None and _accepts_gzip(accept)
        etag = res.gzip_etag if use_gzip else res.etag
        if _not_modified(inm, ims, res.mtime, etag):
            headers = res.gzip_not_modified_headers if use_gzip else res.not_modified_headers
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = res.gzipped if use_gzip and res.gzipped is not None else res.body
        headers = res.gzip_headers if use_gzip else res.plain_headers
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body if method == "GET" else b""})


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


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


_BIND_ERRORS = {
    errno.EADDRINUSE: "the port is in use (another process listens on it)",
    errno.EADDRNOTAVAIL: "not an address of this machine",
    errno.EACCES: "permission denied (a port below 1024 needs privileges)",
}


def bind(host: str, port: int, *, where: str = "[server] host and port") -> socket.socket:
    """A listening socket on host:port (port 0: any free port). IPv6 hosts work too. A name
    that does not resolve, an address that is not this machine's, a port in use: a
    :class:`ServerError` saying so, and where the address came from (``where``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not 0 <= port <= 65535:
        raise ServerError(f"cannot listen on {shown} ({where}): a port is 0 to 65535")
    try:  # ("" is every address, as it always was)
        address = socket.getaddrinfo(
            host or None, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )[0][4]
    except socket.gaierror as e:
        raise ServerError(
            f"cannot listen on {shown} ({where}): the name {host!r} does not resolve "
            f"({one_line(e.strerror or e)})"
        ) from e
    except (OSError, UnicodeError, OverflowError) as e:
        raise ServerError(f"cannot listen on {shown} ({where}): {one_line(e)}") from e
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        reason = _BIND_ERRORS.get(e.errno or 0) or one_line(e.strerror or e)
        raise ServerError(f"cannot listen on {shown} ({where}): {reason}") from e
    sock.set_inheritable(True)
    return sock


def make_server(
    app: App,
    sock: socket.socket,
    limits: ServerConfig | None = None,
    *,
    max_connections: int = 4096,
) -> Any:
    """A uvicorn server for ``app`` on ``sock`` (run it with ``server.run(sockets=[sock])``),
    holding clients to ``limits`` (``[server]`` in the config); ``max_connections`` in all."""
    limits = limits or ServerConfig()
    import uvicorn

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover (not on every platform)
        loop = "asyncio"
    config = uvicorn.Config(
        app,
        loop=loop,
        http=_limited_protocol(limits),
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=15,  # (the head timeout, set per connection)
        timeout_graceful_shutdown=3,
        limit_concurrency=max_connections,
        ws="none",  # no WebSockets: a request asking to upgrade is an HTTP request
    )
    return _Server(config)


MAX_HEAD_BYTES = 16 * 1024  # request line and headers; a feed reader sends well under 2 KB


def _raw_response(status: bytes, text: bytes, *extra: bytes) -> bytes:
    """A whole response, written straight to a connection that is about to be closed."""
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"x-content-type-options: nosniff\r\n",
            b"content-length: " + str(len(text)).encode() + b"\r\n",
            *(line + b"\r\n" for line in extra),
            b"connection: close\r\n\r\n",
            text,
        ]
    )


_TOO_MANY = _raw_response(
    b"503 Service Unavailable", b"too many connections from your address\n", b"retry-after: 5"
)
_TIMED_OUT = _raw_response(b"408 Request Timeout", b"the request did not arrive in time\n")
_HEAD_TOO_LARGE = _raw_response(
    b"431 Request Header Fields Too Large", b"the request head is too large\n"
)


async def _head_too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request whose head passed :data:`MAX_HEAD_BYTES` (then the connection
    closes), in its turn after the answers to requests before it on the connection."""
    await respond(send, 431, b"the request head is too large\n", [(b"connection", b"close")])


def client_key(address: str, trusted: Iterable[Network]) -> str | None:
    """Which client ``address`` (a peer's IP address) counts as for the per-client bound, or
    None if it is a trusted proxy's. IPv4-mapped IPv6 addresses are their IPv4 address; IPv6
    clients count by their /64, the smallest network a site is given (one host may use many
    addresses in it)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in trusted):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        return f"{ipaddress.IPv6Address(int(ip) >> 64 << 64)}/64"
    return str(ip)


if sys.platform == "linux":
    import fcntl
    import termios

    _SIOCOUTQ: int | None = termios.TIOCOUTQ  # the same request as SIOCOUTQ
else:  # pragma: no cover
    _SIOCOUTQ = None


def _unsent(transport: asyncio.Transport) -> int:
    """Bytes written to ``transport`` that the peer has not acknowledged yet: those waiting
    in the event loop and, on Linux, those in the socket's send queue (which can hold
    megabytes: whether a reader keeps taking shows there first)."""
    size = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if _SIOCOUTQ is not None and sock is not None:
        with contextlib.suppress(OSError, ValueError):
            size += struct.unpack("i", fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0" * 4))[0]
    return size


MAX_PIPELINED = 8  # requests queued on a connection before it stops being read
MAX_PIPELINED_IN_ONE_READ = 32  # ... and before it is closed (one read can hold many): with
# 4096 connections in all, what pipelining can queue stays within a few hundred MB


def _limited_protocol(limits: ServerConfig) -> Any:
    """uvicorn's httptools protocol, held to ``limits`` so that no client can tie the server up.

    * At most ``max_connections_per_client`` connections at once from one address (one /64 in
      IPv6), proxies in ``trusted_proxies`` exempt: one more gets ``503`` and is closed, so one
      client holding idle connections never fills the server for the others.
    * A request head must arrive, whole, within ``header_timeout_seconds`` of the connection
      being accepted or of the previous answer being sent (idle keep-alive included); a
      connection that sends nothing is closed then, one that sent part of a head gets ``408``.
    * A request body must arrive within ``body_timeout_seconds`` of its head, or ``408``.
    * A reader that takes nothing of an answer for ``send_timeout_seconds`` is dropped.
    * Every request head on a connection (pipelined, kept-alive, ``HEAD`` or the hub's) is
      held to :data:`MAX_HEAD_BYTES`: ``431``, then the connection closes.

    The deadlines are one timer per connection phase, armed and cancelled when a phase
    begins or ends (never per read), and the head size is counted only when a read could
    hold a head that large: a plain ``GET`` costs nothing more than under plain uvicorn.
    """
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    trusted = tuple(ipaddress.ip_network(n, strict=False) for n in limits.trusted_proxies)
    max_per_client = limits.max_connections_per_client
    head_timeout = limits.header_timeout_seconds
    body_timeout = limits.body_timeout_seconds
    send_timeout = limits.send_timeout_seconds
    open_per_client: dict[str, int] = {}  # client key -> open connections (one event loop)
    warned = [-1e9]  # when the per-client bound was last logged (not more than once a minute)

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        _client: str | None = None  # the key counted in open_per_client
        _refused = False  # closed at once: over the per-client bound
        _head_started = False  # a request head has begun and is not complete yet
        _head_carry = 0  # its bytes in reads after the one it began in (-1: began in this one)
        _read_size = 0  # the size of the read being parsed
        _in_body = False  # a request head is complete, its body is not
        _body_timer: asyncio.TimerHandle | None = None
        _send_timer: asyncio.TimerHandle | None = None

        # -- connections: the per-client bound, the first head deadline ----------------------

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            peer = transport.get_extra_info("peername")
            key = client_key(peer[0], trusted) if isinstance(peer, tuple) else None
            if key is not None:
                count = open_per_client.get(key, 0)
                if count >= max_per_client:
                    self._refused = True
                    self._refuse_client(transport, key)
                    return
                open_per_client[key] = count + 1
                self._client = key
            super().connection_made(transport)
            # pause_writing as soon as anything waits in user space: a stalled reader is
            # noticed whatever the size of the answer it does not take
            self.transport.set_write_buffer_limits(high=0)
            # the first head's deadline; uvicorn arms the next ones (its keep-alive timer,
            # which here is never cancelled by a read, only by a complete head)
            self.timeout_keep_alive = head_timeout  # type: ignore[assignment]
            self.timeout_keep_alive_task = self.loop.call_later(
                head_timeout, self.timeout_keep_alive_handler
            )

        def _refuse_client(self, transport: asyncio.Transport, key: str) -> None:
            now = self.loop.time()
            if now - warned[0] >= 60:
                warned[0] = now
                log.warning(
                    "refusing connections from %s: it has %d open "
                    "(server.max_connections_per_client; a reverse proxy belongs in "
                    "server.trusted_proxies)",
                    key,
                    max_per_client,
                )
            transport.write(_TOO_MANY)
            transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            key = self._client
            if key is not None:
                self._client = None
                left = open_per_client[key] - 1
                if left:
                    open_per_client[key] = left
                else:
                    del open_per_client[key]
            for timer in (self._body_timer, self._send_timer):
                if timer is not None:
                    timer.cancel()
            self._body_timer = self._send_timer = None
            super().connection_lost(exc)

        # -- reading: head size, the body deadline ---------------------------------------------

        def data_received(self, data: bytes) -> None:
            # uvicorn's, except that a read does not cancel the head deadline
            self._read_size = len(data)
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:  # answered as plain HTTP: no WebSockets here
                log.debug("a request asked to upgrade its connection (not supported)")
            except httptools.HttpParserError:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
                return
            if self._head_started:  # a head is still incomplete at the end of this read
                if self._head_carry < 0:
                    # it began in this read, after its last blank line (a head has none)
                    end = data.rfind(b"\r\n\r\n")
                    self._head_carry = len(data) - (end + 4 if end >= 0 else 0)
                else:
                    self._head_carry += len(data)
                if self._head_carry > MAX_HEAD_BYTES:
                    self._refuse_head()
            elif self._in_body and self._body_timer is None:
                self._body_timer = self.loop.call_later(body_timeout, self._body_timed_out)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_started = True
            self._head_carry = -1

        def on_headers_complete(self) -> None:
            self._head_started = False
            self._in_body = True
            self._unset_keepalive_if_required()  # the head came in time
            # a read no larger than the limit cannot hold a head over it: only a larger read
            # (or a head spread over several) is worth measuring
            if (
                max(self._head_carry, 0) + self._read_size > MAX_HEAD_BYTES
                and self._head_size() > MAX_HEAD_BYTES
            ):
                # refused whatever it asked for (httptools cannot parse a URL over 64 KB)
                self.url = b"/"
                app, self.app = self.app, _head_too_large
                try:
                    super().on_headers_complete()
                finally:
                    self.app = app
                return
            # uvicorn queues pipelined requests without a bound (and reads on after every
            # answer): a client sending requests it never reads answers to would fill memory.
            # Past a bound the connection is no longer read; one read can hold thousands of
            # requests, so past a second one the rest are dropped and the connection closed.
            if len(self.pipeline) >= MAX_PIPELINED_IN_ONE_READ:
                if not self.transport.is_closing():
                    self.transport.close()
                return
            super().on_headers_complete()
            if len(self.pipeline) >= MAX_PIPELINED:
                self.flow.pause_reading()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if len(self.pipeline) >= MAX_PIPELINED // 2:
                self.flow.pause_reading()  # (uvicorn resumed reading)

        def _head_size(self) -> int:
            """The request line and header fields as parsed (whitespace around them aside)."""
            return len(self.url) + sum(len(k) + len(v) + 4 for k, v in self.headers)

        def _refuse_head(self) -> None:
            """A head passed the limit before it was complete: ``431`` and close, or, when an
            earlier request on the connection is still being answered, close after that."""
            self._head_started = False
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                cycle.keep_alive = False
                self.flow.pause_reading()
                return
            self.transport.write(_HEAD_TOO_LARGE)
            self.transport.close()

        def on_message_complete(self) -> None:
            self._in_body = False
            if self._body_timer is not None:
                self._body_timer.cancel()
                self._body_timer = None
            super().on_message_complete()

        # -- deadlines ------------------------------------------------------------------------

        def timeout_keep_alive_handler(self) -> None:
            """No complete head in time: close; ``408`` if part of one came."""
            self.timeout_keep_alive_task = None
            if self.transport.is_closing():
                return
            if self._head_started:
                self.transport.write(_TIMED_OUT)
            self.transport.close()

        def _body_timed_out(self) -> None:
            self._body_timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if cycle is None or not cycle.response_started:
                self.transport.write(_TIMED_OUT)
            self.transport.close()

        # -- writing: a reader must keep taking ------------------------------------------------

        def pause_writing(self) -> None:
            super().pause_writing()
            if self._send_timer is None:
                self._arm_send_timer(_unsent(self.transport))

        def resume_writing(self) -> None:
            super().resume_writing()
            if self._send_timer is not None:
                self._send_timer.cancel()
                self._send_timer = None

        def _arm_send_timer(self, unsent: int) -> None:
            self._send_timer = self.loop.call_later(send_timeout, self._send_stalled, unsent)

        def _send_stalled(self, unsent: int) -> None:
            """``send_timeout`` after the reader stopped keeping up: still taking, wait
            again; taken nothing meanwhile, drop the connection (and what it did not take)."""
            self._send_timer = None
            if not self.transport.get_write_buffer_size():
                return
            left = _unsent(self.transport)
            if left < unsent:
                self._arm_send_timer(left)
                return
            self.transport.abort()

    return LimitedHttpToolsProtocol


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, with feedpub's own signal handling.

        uvicorn re-raises SIGTERM after a graceful shutdown, so the process would end "killed
        by SIGTERM"; a service manager wants exit status 0. The first SIGTERM or SIGINT stops
        the server gracefully, a second one forces it.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            def handle(signum: int, frame: object) -> None:
                if self.should_exit:
                    self.force_exit = True
                self.should_exit = True

            previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
            early = getattr(self, "early_stop", None)
            if early is not None and early.is_set():  # asked to stop while starting up
                self.should_exit = True
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _Server(config: Any) -> Any:
    return _server_class()(config)
