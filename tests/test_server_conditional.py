"""The request headers that decide an answer, read directly (the same rules, through the
app: tests/test_server_app.py and tests/test_server_media.py)."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.server.conditional import (
    UNSATISFIABLE,
    accepts_gzip,
    byte_range,
    etag_matches,
    if_range_holds,
    not_modified,
)

ETAG = b'"abc"'
MTIME = 1_700_000_000


@pytest.mark.parametrize(
    ("value", "wanted"),
    [
        (b"bytes=0-99", (0, 99)),
        (b"bytes=100-", (100, 999)),
        (b"bytes=-1", (999, 999)),
        (b"bytes=-5000", (0, 999)),
        (b"bytes=990-5000", (990, 999)),
        (b"BYTES = 5 - 5 ", (5, 5)),
        (b"bytes=999-999", (999, 999)),
        (b"bytes=1000-", UNSATISFIABLE),
        (b"bytes=-0", UNSATISFIABLE),
        (b"bytes=9-3", None),  # invalid: ignored
        (b"bytes=-", None),
        (b"bytes=0-1,5-6", None),  # several ranges: the whole file
        (b"items=0-3", None),
        (b"bytes=0-" + b"9" * 19, None),  # (more digits than a file size has)
        (b"bytes=" + b"9" * 18 + b"-", UNSATISFIABLE),
    ],
)
def test_byte_range(value: bytes, wanted: tuple[int, int] | None) -> None:
    assert byte_range(value, 1000) == wanted


def test_an_empty_file_satisfies_no_range() -> None:
    assert byte_range(b"bytes=0-1", 0) == UNSATISFIABLE
    assert byte_range(b"bytes=-1", 0) == UNSATISFIABLE


@given(
    size=st.integers(0, 10**6),
    first=st.one_of(st.none(), st.integers(0, 2 * 10**6)),
    last=st.one_of(st.none(), st.integers(0, 2 * 10**6)),
)
def test_a_range_is_within_the_file(size: int, first: int | None, last: int | None) -> None:
    value = f"bytes={'' if first is None else first}-{'' if last is None else last}".encode()
    got = byte_range(value, size)
    if got is not None and got != UNSATISFIABLE:
        start, end = got
        assert 0 <= start <= end < size


def test_if_none_match() -> None:
    assert etag_matches(b"*", ETAG)
    assert etag_matches(b' "x" , W/"abc"', ETAG)  # weak comparison
    assert not etag_matches(b'"abcd", "ab"', ETAG)
    assert not_modified(ETAG, None, MTIME, ETAG)
    assert not not_modified(b'"other"', None, MTIME, ETAG)


def test_if_modified_since() -> None:
    same = formatdate(MTIME, usegmt=True).encode()
    earlier = formatdate(MTIME - 1, usegmt=True).encode()
    assert not_modified(None, same, MTIME, ETAG)
    assert not not_modified(None, earlier, MTIME, ETAG)
    assert not not_modified(None, b"yesterday", MTIME, ETAG)  # not a date: no condition
    assert not not_modified(None, None, MTIME, ETAG)
    assert not not_modified(b'"other"', same, MTIME, ETAG)  # If-None-Match wins


def test_if_range() -> None:
    modified = formatdate(MTIME, usegmt=True).encode()
    assert if_range_holds(b' "abc" ', ETAG, modified)
    assert if_range_holds(modified, ETAG, modified)
    assert not if_range_holds(b'W/"abc"', ETAG, modified)  # a weak ETag never holds
    assert not if_range_holds(formatdate(MTIME + 1, usegmt=True).encode(), ETAG, modified)


@pytest.mark.parametrize(
    ("value", "gzip"),
    [(b"gzip", True), (b"br;q=1, *;q=0.1", True), (b"gzip;q=0, *", False), (b"gzip;q=2", False)],
)
def test_accepts_gzip(value: bytes, gzip: bool) -> None:
    assert accepts_gzip(value) is gzip
