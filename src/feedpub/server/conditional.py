"""The request headers that decide an answer, read: ``Accept-Encoding`` (gzip or not),
``If-None-Match`` and ``If-Modified-Since`` (``304``), ``Range`` and ``If-Range`` (``206``,
``416``). Pure functions of header values (bytes, as ASGI gives them)."""

from __future__ import annotations

import functools
import re
from email.utils import parsedate_to_datetime

# RFC 9110 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\Z")


@functools.lru_cache(maxsize=256)  # readers send a handful of distinct values
def accepts_gzip(value: bytes) -> bool:
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


def etag_matches(header: bytes, etag: bytes) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison), or is ``*``."""
    if header.strip() == b"*":
        return True
    for candidate in header.split(b","):
        c = candidate.strip()
        if c.startswith(b"W/"):
            c = c[2:]
        if c == etag:
            return True
    return False


def not_modified(inm: bytes | None, ims: bytes | None, mtime: int, etag: bytes) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) wins; else If-Modified-Since."""
    if inm is not None:
        return inm == etag or etag_matches(inm, etag)
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


def if_range_holds(value: bytes, etag: bytes, last_modified: bytes) -> bool:
    """``If-Range``: a strong ETag equal to the file's, or its exact ``Last-Modified``."""
    value = value.strip()
    return value in (etag, last_modified)
