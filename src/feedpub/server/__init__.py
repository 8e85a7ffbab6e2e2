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
refused, no symlink is followed), servable files only, at most :data:`~store.MAX_DISK_BYTES`, and
whole from the one file opened, so a file replaced meanwhile is served as it was, never torn.
The answer is prepared as for a file in memory (same ETag, gzip, headers) and kept in a small
cache (:data:`~store.DISK_CACHE_BYTES`), checked against the file's status on every request. Memory
grows with the feeds, not with the number of articles.

Files beside the articles (images, audio, video, documents: :func:`feedpub.articles.refs.is_media`,
up to 64 MiB) are never read whole: :meth:`Store.open_media` opens the file (by the same
rules), and the answer is sent from that one descriptor :data:`~media.STREAM_CHUNK_BYTES` at a time,
as the reader takes it (a file replaced meanwhile is sent whole as it was opened). They are
never gzipped (already compressed), carry an ETag made from the file's status (inode, size,
time: nothing is hashed per request), answer ``304`` and single byte ranges (``206``,
``416``; ``If-Range``; several ranges get the whole file), with ``Accept-Ranges: bytes``.

Served under uvicorn with uvloop and httptools (:func:`make_server`).

The modules, in the order a request meets them:

* :mod:`~feedpub.server.listen`: :func:`bind` the socket, :func:`make_server` (uvicorn);
* :mod:`~feedpub.server.protocol`: the connection, held to the ``[server]`` limits;
* :mod:`~feedpub.server.app`: :class:`App`, a request → its answer;
* :mod:`~feedpub.server.conditional`: ``Accept-Encoding``, ``If-None-Match``,
  ``If-Modified-Since``, ``Range``, ``If-Range`` read (pure functions);
* :mod:`~feedpub.server.store`: :class:`Store`, what is served, from memory or from disk;
* :mod:`~feedpub.server.resources`: :class:`Resource`, one file ready to serve, its media
  type and URL path;
* :mod:`~feedpub.server.media`: a media file's answer, streamed from its descriptor;
* :mod:`~feedpub.server.asgi`: the ASGI types and :func:`respond` (shared with the hub).

The limits (:data:`~store.MAX_DISK_BYTES`, :data:`~protocol.MAX_HEAD_BYTES`, ...) are not
exported here: each lives in the module that uses it, the one place to change it.
"""

from __future__ import annotations

from feedpub.server.app import App, HealthFn, HubFn
from feedpub.server.asgi import Message, Receive, Scope, Send, respond
from feedpub.server.conditional import byte_range
from feedpub.server.listen import bind, make_server
from feedpub.server.media import OpenedFile, send_file
from feedpub.server.protocol import client_key
from feedpub.server.resources import (
    Resource,
    compressible,
    held_in_memory,
    make_resource,
    media_type,
    url_path,
)
from feedpub.server.store import Store

__all__ = [
    "App",
    "HealthFn",
    "HubFn",
    "Message",
    "OpenedFile",
    "Receive",
    "Resource",
    "Scope",
    "Send",
    "Store",
    "bind",
    "byte_range",
    "client_key",
    "compressible",
    "held_in_memory",
    "make_resource",
    "make_server",
    "media_type",
    "respond",
    "send_file",
    "url_path",
]
