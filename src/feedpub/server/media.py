"""Files beside the articles (images, audio, video, documents), answered from one open
descriptor: never read whole, never gzipped, an ETag from the file's status, ``304``, single
byte ranges (``206``, ``416``, ``If-Range``). :meth:`feedpub.server.store.Store.open_media`
decides which file may be opened; this module makes and sends the answer."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate

from feedpub.server.asgi import NOSNIFF, Scope, Send, respond
from feedpub.server.conditional import UNSATISFIABLE, byte_range, if_range_holds, not_modified

log = logging.getLogger(__name__)

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


def file_etag(st: os.stat_result) -> bytes:
    """A strong ETag from the file's status: ``os.replace`` gives a new inode, an edit in
    place a new time; the bytes are never hashed per request."""
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'.encode()


def opened_file(fd: int, st: os.stat_result, links: Iterable[str]) -> OpenedFile:
    """The file open as ``fd`` (status ``st``), ready to answer with: its descriptor is a
    duplicate of ``fd`` (which stays the caller's), ``links`` are ``Link`` header values."""
    etag = file_etag(st)
    seconds = int(st.st_mtime)
    last_modified = formatdate(seconds, usegmt=True).encode()
    headers = [
        (b"etag", etag),
        (b"last-modified", last_modified),
        (b"cache-control", b"public, max-age=300"),
        (b"accept-ranges", b"bytes"),
        NOSNIFF,
    ]
    headers += [(b"link", v.encode("latin-1", "replace")) for v in links]
    return OpenedFile(
        fd=os.dup(fd),
        size=st.st_size,
        etag=etag,
        mtime=seconds,
        last_modified=last_modified,
        headers=headers,
    )


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
        if not_modified(inm, ims, f.mtime, f.etag):
            await send({"type": "http.response.start", "status": 304, "headers": f.headers})
            await send({"type": "http.response.body", "body": b""})
            return
        status, start, length = 200, 0, f.size
        extra: list[tuple[bytes, bytes]] = []
        if ranges is not None and (
            if_range is None or if_range_holds(if_range, f.etag, f.last_modified)
        ):
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
