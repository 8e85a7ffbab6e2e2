"""Reading an old feed: a file or an http(s) URL, bounded in size and time; then parsing
each in a worker process under a time budget (:func:`read_feeds`)."""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable, Sequence

from feedpub import __version__
from feedpub.adopt.feeds import OldFeed, printable
from feedpub.adopt.parsing import parse_feed
from feedpub.errors import FeedReadError, one_line

MAX_FEED_BYTES = 32 * 1024 * 1024  # a feed larger than this is refused (the big ones: ~5 MB)
FETCH_SECONDS = 60.0  # a whole download, however slowly the server sends
CONNECT_SECONDS = 15.0  # to connect, and between two reads
PARSE_SECONDS = 30.0  # parsing one feed, in a worker process


def read_source(
    source: str, *, max_bytes: int = MAX_FEED_BYTES, seconds: float = FETCH_SECONDS
) -> bytes:
    """The bytes of a feed file or http(s) URL; :class:`FeedReadError` when they cannot be
    had."""
    scheme, sep, _ = source.partition("://")
    if sep and scheme.lower() in ("http", "https"):
        return _fetch(source, max_bytes=max_bytes, seconds=seconds)
    if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise FeedReadError("only files and http(s) URLs can be read", source=source)
    return _read_file(source, max_bytes)


def _too_large(max_bytes: int) -> str:
    return f"larger than {max_bytes // (1024 * 1024)} MB; no feed is that large"


def _read_file(path: str, max_bytes: int) -> bytes:
    try:  # (no blocking on a FIFO; a folder or a device is refused below)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise FeedReadError(f"cannot read: {one_line(e.strerror or e)}", source=path) from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise FeedReadError(f"cannot read: {what}", source=path)
        if st.st_size > max_bytes:
            raise FeedReadError(_too_large(max_bytes), source=path)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > max_bytes:  # (it grew while read)
                raise FeedReadError(_too_large(max_bytes), source=path)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise FeedReadError(f"cannot read: {one_line(e.strerror or e)}", source=path) from e
    finally:
        os.close(fd)


_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


def _fetch(url: str, *, max_bytes: int, seconds: float) -> bytes:
    import requests

    deadline = time.monotonic() + seconds
    try:
        with requests.Session() as session:
            session.max_redirects = 5
            with session.get(
                url,
                stream=True,
                timeout=(CONNECT_SECONDS, CONNECT_SECONDS),
                headers={"User-Agent": f"feedpub/{__version__} (adopt)", "Accept": _ACCEPT},
            ) as r:
                if r.status_code != 200:
                    reason = f" {one_line(r.reason)}" if r.reason else ""
                    raise FeedReadError(f"HTTP {r.status_code}{reason}", source=url)
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FeedReadError(_too_large(max_bytes), source=url)
                chunks: list[bytes] = []
                size = 0
                for chunk in r.iter_content(8192):  # (decompressed: a gzip bomb is counted)
                    size += len(chunk)
                    if size > max_bytes:
                        raise FeedReadError(_too_large(max_bytes), source=url)
                    if time.monotonic() > deadline:
                        raise FeedReadError(
                            f"took longer than {seconds:g} s to download; stopped", source=url
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
    except requests.RequestException as e:
        raise FeedReadError(f"cannot fetch: {one_line(e)}", source=url) from e


def read_feeds(
    sources: Sequence[str],
    *,
    workers: int = 1,
    budget: float = PARSE_SECONDS,
    parse: Callable[[tuple[str, bytes]], OldFeed | str] = parse_feed,
) -> tuple[list[OldFeed], list[str]]:
    """Read and parse every source: (the feeds, one line per source that failed). ``parse``
    (a module-level function) runs in a worker process under ``budget`` (``workers=0``: in
    this one, unbounded)."""
    errors: dict[int, str] = {}
    jobs: list[tuple[str, bytes]] = []
    at: list[int] = []
    for i, source in enumerate(sources):
        try:
            data = read_source(source)
        except FeedReadError as e:
            errors[i] = printable(str(e))
            continue
        jobs.append((source, data))
        at.append(i)
    parsed: dict[int, OldFeed | str] = {}
    if workers <= 0:
        parsed = {at[j]: parse(job) for j, job in enumerate(jobs)}
    elif jobs:
        from feedpub.pool import Failed, Pool

        with Pool[tuple[str, bytes], OldFeed | str](workers, budget=budget, chunk=1) as pool:
            for j, result in pool.run(parse, jobs):
                parsed[at[j]] = (
                    f"not read: {result.reason}" if isinstance(result, Failed) else result
                )
    feeds: list[OldFeed] = []
    for i, result in sorted(parsed.items()):
        if isinstance(result, str):
            errors[i] = printable(f"{sources[i]}: {result}")
        else:
            feeds.append(result)
    return feeds, [errors[i] for i in sorted(errors)]
