"""Reading article files (inside the articles folder only, bounded in size) and parsing
them: the work done in worker processes (module level, so it can be pickled), and the rule
that a file which stops parsing keeps its last good version published."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from typing import BinaryIO

from feedpub.articles.context import ParseContext
from feedpub.articles.discover import FileStat
from feedpub.errors import (
    ArticleError,
)
from feedpub.model import (
    IndexRow,
    Problem,
    Severity,
)
from feedpub.output import (
    read_chunks,
)
from feedpub.store.codec import meta_to_json

log = logging.getLogger(__name__)

# -- work done in worker processes (module level, so they can be pickled) -------------------


@functools.cache
def _real(root: str) -> str:
    return os.path.realpath(root)


def _open_source(root: str, path: str) -> BinaryIO:
    """A file of the articles folder, opened for reading (non-blocking: a FIFO put in the
    file's place must not hang the read). What was opened is checked to be a regular file
    inside the articles folder: the scan checked the path, but a symlink swapped in since
    (or a folder on the way) could lead anywhere."""
    fd = os.open(os.path.join(root, path), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    f = os.fdopen(fd, "rb")
    try:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ArticleError("not a regular file (any more); not read", path=path)
        with contextlib.suppress(OSError):  # (no /proc: not Linux)
            opened = os.readlink(f"/proc/self/fd/{f.fileno()}")
            inside = _real(root)
            if os.path.commonpath([inside, opened]) != inside:
                raise ArticleError(
                    "leads outside the articles folder (a symlink); not read", path=path
                )
    except BaseException:
        f.close()
        raise
    return f


def read_source(
    root: str, path: str, max_bytes: int, limit: str = "feeds.max_article_bytes"
) -> bytes:
    """An article file's bytes; a file over the size limit is refused without reading it
    (and one inside the articles folder only: :func:`_open_source`)."""
    too_big = f"over the limit of {max_bytes:,} ({limit})"
    with _open_source(root, path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ArticleError(f"file is {size:,} bytes, {too_big}", path=path)
        data = f.read(size + 1)
        if len(data) > size:  # it grew while being read
            data += f.read(max_bytes + 1 - len(data))
            if len(data) > max_bytes:
                raise ArticleError(
                    f"file grew to more than {max_bytes:,} bytes, {too_big}", path=path
                )
        return data


def source_chunks(root: str, path: str, max_bytes: int, limit: str) -> Iterator[bytes]:
    """A file of the articles folder a chunk at a time (never whole in memory), by the rules
    of :func:`read_source`. Any failure (reading included) is an :class:`ArticleError`, never an
    ``OSError``: the file beside the articles is at fault, not the output folder."""
    too_big = f"over the limit of {max_bytes:,} ({limit})"
    try:
        with _open_source(root, path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise ArticleError(f"file is {size:,} bytes, {too_big}", path=path)
            read = 0
            for chunk in read_chunks(f.fileno()):
                read += len(chunk)
                if read > max_bytes:
                    raise ArticleError(
                        f"file grew to more than {max_bytes:,} bytes, {too_big}", path=path
                    )
                yield chunk
    except OSError as e:
        raise ArticleError(f"cannot read: {e.strerror or e}", path=path) from e


def parse_one(root: str, path: str, st: FileStat, ctx: ParseContext) -> IndexRow:
    """Read and parse one file into an index row; every failure becomes a problem in the row."""
    from feedpub.articles.parse import parse_article

    try:
        data = read_source(root, path, ctx.max_bytes)
    except ArticleError as e:
        return failed_row(path, st, e.message)
    except OSError as e:  # gone or unreadable now: look at it again next time
        return failed_row(path, st, f"cannot read: {e.strerror}", retry=True)
    try:
        parsed = parse_article(path, data, ctx)
    except ArticleError as e:
        return failed_row(path, st, e.message, e.line, hashlib.sha256(data).hexdigest())
    except Exception as e:  # a bug or a library failure must not stop the other articles
        log.exception("%s: unexpected error while parsing", path)
        return failed_row(path, st, f"could not be parsed: {type(e).__name__}: {e}")
    return IndexRow(
        path=path,
        size=st.size,
        mtime_ns=st.mtime_ns,
        content_hash=parsed.meta.content_hash,
        meta=parsed.meta,
        problems=parsed.warnings,
        meta_json=meta_to_json(parsed.meta),
        body_html=parsed.body_html,
        excerpt=parsed.excerpt,
    )


def failed_row(
    path: str,
    st: FileStat,
    message: str,
    line: int | None = None,
    digest: str | None = None,
    *,
    retry: bool = False,
) -> IndexRow:
    """A file that cannot be published now. ``retry``: index it as never seen, so the next
    build reads it again even if it comes back with the same size and time (a save or a
    move in progress)."""
    return IndexRow(
        path=path,
        size=st.size,
        mtime_ns=-1 if retry else st.mtime_ns,
        content_hash=digest,
        meta=None,
        problems=(Problem(path=path, line=line, message=message),),
    )


def parse_job(job: tuple[str, str, FileStat, ParseContext]) -> IndexRow:
    return parse_one(*job)


def keeping_last_good(rows: list[IndexRow], good: set[str]) -> list[IndexRow]:
    """Rows of files that fail now, whose earlier version parsed (``good``), say that the
    earlier version stays published (the state store keeps it: see ``put_articles``)."""
    return [
        replace(
            r,
            problems=tuple(
                replace(p, message=p.message + LAST_GOOD_NOTE)
                if p.severity is Severity.ERROR
                else p
                for p in r.problems
            ),
        )
        if r.meta is None and r.path in good
        else r
        for r in rows
    ]


LAST_GOOD_NOTE = "; the version published before stays published until this is fixed"
