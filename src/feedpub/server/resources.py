"""One file ready to serve (:class:`Resource`: bodies, ETags, its answers with their exact
headers, :class:`Reply`), what it is served as (:func:`media_type`, :func:`compressible`), where
(:func:`url_path`), and whether it is held in memory (:func:`held_in_memory`).

The feeds' media types, suffixes and folders come from :mod:`feedpub.render.paths`."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate

from feedpub.articles.media import is_media
from feedpub.render.paths import ARCHIVE_DIR, EXTENSIONS, FEED_SUFFIXES, INDEX_PATH, MEDIA_TYPES
from feedpub.server.asgi import NOSNIFF
from feedpub.server.conditional import accepts_gzip, not_modified

_TYPES = {
    **{"." + EXTENSIONS[f]: MEDIA_TYPES[f] + "; charset=utf-8" for f in EXTENSIONS},
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    # the feeds' XSLT stylesheet: an XML type (any +xml is), which every browser loads as XSLT
    ".xsl": "application/xslt+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
}
MIN_GZIP_BYTES = 256
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


Headers = list[tuple[bytes, bytes]]


def wire(headers: Headers) -> bytes:
    """Header fields as uvicorn writes them, and the blank line that ends them: the same
    bytes the ASGI path puts on the wire after its status line and ``date``."""
    return b"".join(name.lower() + b": " + value + b"\r\n" for name, value in headers) + b"\r\n"


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer a file gives (``200`` or ``304``, plain or gzipped), in both forms the
    server sends it: the header list (the ASGI path) and those headers as bytes
    (:func:`wire`: the protocol's shortcut, :mod:`feedpub.server.protocol`)."""

    status: int
    headers: Headers
    head: bytes  # wire(headers)
    body: bytes  # what a GET is sent (a HEAD: nothing)


def _reply(status: int, headers: Headers, body: bytes) -> Reply:
    return Reply(status=status, headers=headers, head=wire(headers), body=body)


@dataclass(frozen=True, slots=True)
class Resource:
    """One file, ready to serve: its bodies and its four answers."""

    body: bytes
    gzipped: bytes | None
    etag: bytes
    gzip_etag: bytes
    mtime: int  # whole seconds, as Last-Modified says
    ok: Reply
    ok_gzip: Reply  # (``ok`` when the file is not served gzipped)
    not_modified: Reply
    not_modified_gzip: Reply

    def reply(self, headers: Iterable[tuple[bytes, bytes]]) -> Reply:
        """The answer to a ``GET`` or ``HEAD`` with these request headers (lower-case names,
        as ASGI gives them): gzipped if ``Accept-Encoding`` allows it, ``304`` if
        ``If-None-Match`` or ``If-Modified-Since`` says the reader has it. One pass over the
        headers: this is the hot path."""
        accept = inm = ims = None
        for key, value in headers:
            if key == b"accept-encoding":  # repeated, the values make one list
                accept = value if accept is None else accept + b"," + value
            elif key == b"if-none-match":
                inm = value
            elif key == b"if-modified-since":
                ims = value
        use_gzip = self.gzipped is not None and accept is not None and accepts_gzip(accept)
        if not_modified(inm, ims, self.mtime, self.gzip_etag if use_gzip else self.etag):
            return self.not_modified_gzip if use_gzip else self.not_modified
        return self.ok_gzip if use_gzip else self.ok


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
    common: Headers = [
        (b"last-modified", last_modified),
        (b"cache-control", cache),
        NOSNIFF,
    ]
    if zippable:
        common.append((b"vary", b"Accept-Encoding"))
    for link in links:
        common.append((b"link", link.encode("latin-1", "replace")))
    ctype = (b"content-type", mtype.encode())
    ok = _reply(
        200, [ctype, (b"content-length", str(len(data)).encode()), (b"etag", etag), *common], data
    )
    not_modified = _reply(304, [(b"etag", etag), *common], b"")
    if gz is None:
        ok_gzip, not_modified_gzip = ok, not_modified
    else:
        ok_gzip = _reply(
            200,
            [
                ctype,
                (b"content-length", str(len(gz)).encode()),
                (b"content-encoding", b"gzip"),
                (b"etag", gzip_etag),
                *common,
            ],
            gz,
        )
        not_modified_gzip = _reply(304, [(b"etag", gzip_etag), *common], b"")
    return Resource(
        body=data,
        gzipped=gz,
        etag=etag,
        gzip_etag=gzip_etag if gz is not None else etag,
        mtime=seconds,
        ok=ok,
        ok_gzip=ok_gzip,
        not_modified=not_modified,
        not_modified_gzip=not_modified_gzip,
    )


def held_in_memory(relpath: str) -> bool:
    """Whether a file is held in memory (the feeds, the site index, the OPML, files put there
    by hand), or read from disk when asked for: article pages, archive documents and the
    index's older pages (every HTML page but the index, everything below ``feeds/archive/``),
    whose number grows with the articles; and the files beside the articles that pages link
    to (images, audio, video), whose size does."""
    if relpath.startswith(ARCHIVE_DIR) or is_media(relpath):
        return False
    return relpath == INDEX_PATH or not relpath.endswith(".html")


def url_path(relpath: str) -> str:
    """The URL path a file is served at (``articles/x/index.html`` → ``/articles/x/``)."""
    if relpath == "index.html":
        return "/"
    if relpath.endswith("/index.html"):
        return "/" + relpath[: -len("index.html")]
    return "/" + relpath


def relpath_of(path: str) -> str:
    """The inverse of :func:`url_path`: the file a URL path names."""
    return path.lstrip("/") + ("index.html" if path.endswith("/") else "")
