"""The two engines behind one connection: SQLite (a file beside the articles) and
PostgreSQL (for several daemons), with what differs between them kept here."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from feedpub.errors import StateError, one_line

log = logging.getLogger(__name__)

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _upsert(key: str, columns: Sequence[str]) -> str:
    """``ON CONFLICT ... DO UPDATE``: standard upsert SQL that SQLite and PostgreSQL share
    (unlike SQLite's ``INSERT OR REPLACE``)."""
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns)
    return f" ON CONFLICT ({key}) DO UPDATE SET {sets}"


def redact(target: Path | str) -> str:
    """A state location fit for a message: a URL's password hidden."""
    text = str(target)
    if "://" in text and "@" in text:
        scheme, rest = text.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return text


class _PostgresDb:
    """A psycopg connection (opened through SQLAlchemy) behind the few ``sqlite3`` calls the
    store makes, so one body of SQL serves both: ``?`` marks become ``%s``."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self._engine = create_engine(url, poolclass=NullPool)
        self._raw: Any = self._engine.raw_connection()
        self._conn: Any = self._raw.driver_connection
        assert self._conn is not None
        self._conn.autocommit = True

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        rows = [tuple(r) for r in rows]
        cur = self._conn.cursor()
        if rows:
            cur.executemany(self._sql(sql), rows)
        return cur

    def close(self) -> None:
        self._raw.close()
        self._engine.dispose()


_SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database


def _sqlite_file_exists(path: Path) -> bool:
    """Whether the SQLite state file exists. One that is empty (truncated: it never is
    otherwise, see :func:`_create_sqlite_file`) or is no SQLite database is refused: opening
    it would start a new, empty state over it, losing every entry id and first-seen date."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return False
    except IsADirectoryError as e:
        raise StateError(f"{path}: is a folder, not the state file (paths.state)") from e
    except OSError as e:
        raise StateError(f"{path}: cannot read the state file: {one_line(e.strerror or e)}") from e
    if not head:
        raise StateError(
            f"{path}: the state file is empty (0 bytes): the entry ids and first-seen dates it "
            "kept are gone, and feedpub will not start a new state over it; restore it from "
            "a backup (or, to start afresh on purpose, delete it: articles without an "
            "explicit id then get new ids)"
        )
    if head != _SQLITE_HEADER:
        raise StateError(
            f"{path}: not an SQLite database, so not feedpub's state file; check paths.state "
            "(or restore the file from a backup)"
        )
    return True


def _create_sqlite_file(path: Path) -> None:
    """Create a new, empty SQLite database at ``path`` whole: made under another name and
    linked into place, so that no process ever sees the state file empty (between
    ``connect`` creating it and the first write, it would be), which means a lost one."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # writes the header, and the mode for good
        finally:
            db.close()
        try:
            os.link(tmp, path)  # never over a file another process created meanwhile
        except FileExistsError:
            pass
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if not path.exists():  # (no hard links on this file system)
                os.rename(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _wal_mode(db: sqlite3.Connection, wait: float = 30.0) -> None:
    """Put the SQLite file in WAL mode (persistent: usually it already is). Switching takes
    a lock that SQLite's busy timeout does not wait for, so when another process is
    switching or creating the same new file at this moment, try again for a while."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
