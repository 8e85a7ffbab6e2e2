"""The two engines behind one connection: SQLite (a file beside the articles) and
PostgreSQL (for several daemons), with what differs between them kept here and nowhere else.

:class:`Db` is the one connection type the store modules see: the same SQL (``?`` marks)
runs on both engines; what differs (how a transaction starts, advisory locks, the schema
version's home, column types, ``SKIP LOCKED``) is a method or attribute of it."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from feedpub.errors import StateError, one_line
from feedpub.redaction import shown_location

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
    """A state location fit for a message: a URL's password and query values hidden."""
    return shown_location(target)


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


_SMALLEST_DATABASE = 512  # bytes: an SQLite database holds at least one page


def _sqlite_file_exists(path: Path) -> bool:
    """Whether the SQLite state file exists. One that is empty (truncated: it never is
    otherwise, see :func:`_create_sqlite_file`) or is no SQLite database is refused: opening
    it would start a new, empty state over it, losing every entry id and first-seen date.

    The file is never opened here but through SQLite: closing a descriptor of one's own on
    a database file drops every POSIX lock this process holds on it, those of its open
    connections too (sqlite.org/howtocorrupt.html, 2.2); another process closing its last
    connection would then take itself for the last one and remove the write-ahead log and
    its index from under them (seen: "disk I/O error", "database disk image is malformed")."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise StateError(f"{path}: cannot read the state file: {one_line(e.strerror or e)}") from e
    if stat.S_ISDIR(st.st_mode):
        raise StateError(f"{path}: is a folder, not the state file (paths.state)")
    if st.st_size == 0:
        raise StateError(
            f"{path}: the state file is empty (0 bytes): the entry ids and first-seen dates it "
            "kept are gone, and feedpub will not start a new state over it; restore it from "
            "a backup (or, to start afresh on purpose, delete it: articles without an "
            "explicit id then get new ids)"
        )
    not_sqlite = StateError(
        f"{path}: not an SQLite database, so not feedpub's state file; check paths.state "
        "(or restore the file from a backup)"
    )
    if st.st_size < _SMALLEST_DATABASE:  # (SQLite would take a few bytes for a new database)
        raise not_sqlite
    try:
        probe = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            probe.execute("PRAGMA schema_version").fetchone()  # (reads the header)
        finally:
            probe.close()
    except sqlite3.DatabaseError as e:
        if "not a database" in str(e):
            raise not_sqlite from e
        raise StateError(f"{path}: cannot read the state file: {one_line(e)}") from e
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


class Cursor(Protocol):
    """What both drivers' cursors offer (rows are tuples of SQL values)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store asks of a connection: ``sqlite3.Connection`` or :class:`_PostgresDb`."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Cursor: ...

    def close(self) -> None: ...


def is_postgres(target: Path | str) -> bool:
    return isinstance(target, str) and target.startswith("postgresql")


class Db:
    """One open store connection (SQLite file or PostgreSQL URL), and every difference
    between the two engines. ``errors`` are the driver's own exception classes (the store
    turns them into :class:`StateError` at its edge)."""

    IN_CHUNK = 500  # keys per ``IN (...)``: under every engine's limit on bound parameters

    def __init__(self, target: Path | str) -> None:
        self.where = redact(target)
        self.postgres = is_postgres(target)
        self.conn: Connection
        if self.postgres:
            import psycopg

            self.integrity_errors: tuple[type[BaseException], ...] = (
                psycopg.errors.IntegrityError,
            )
            self.errors: tuple[type[BaseException], ...] = (psycopg.Error,)
            self.conn = _PostgresDb(str(target))
        else:
            self.integrity_errors = (sqlite3.IntegrityError,)
            self.errors = (sqlite3.Error,)
            path = Path(target)
            if not _sqlite_file_exists(path):
                path.parent.mkdir(parents=True, exist_ok=True)
                _create_sqlite_file(path)
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            try:
                _wal_mode(db)
                db.execute("PRAGMA synchronous=NORMAL")
            except BaseException:
                db.close()
                raise
            self.conn = db
        # the end of a claim query: concurrent senders skip each other's rows (SQLite
        # serialises writers, so its plain select is just as exclusive)
        self.skip_locked = " FOR UPDATE SKIP LOCKED" if self.postgres else ""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        return self.conn.executemany(sql, rows)

    def rows_in(self, sql: str, keys: Iterable[object], *before: object) -> Iterator[Any]:
        """The rows of ``sql``, whose ``IN {in}`` stands for a list of ``keys``: one query per
        :data:`IN_CHUNK` of them on SQLite (``IN (?, ?, ...)``), one for all of them on
        PostgreSQL (``= ANY(?)``, an array: one short statement, prepared once, however
        many keys); ``before`` are the arguments ahead of them."""
        for sql_in, args in self._in(sql, list(keys), before):
            yield from self.conn.execute(sql_in, args)

    def execute_in(self, sql: str, keys: Iterable[object], *before: object) -> None:
        """Run ``sql`` (an update or delete whose ``IN {in}`` stands for a list of ``keys``)
        for every one of ``keys``, as :meth:`rows_in` does."""
        for sql_in, args in self._in(sql, list(keys), before):
            self.conn.execute(sql_in, args)

    def insert_rows(
        self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[object]]
    ) -> None:
        """Insert ``rows`` into ``table``, whose ``columns`` are (name, SQL type): on
        PostgreSQL one short statement, each column an array (``unnest``), prepared once
        however many rows; on SQLite multi-row ``VALUES``, :data:`IN_CHUNK` values each."""
        if not rows:
            return
        names = ", ".join(name for name, _ in columns)
        if self.postgres:
            arrays = ", ".join(f"?::{kind}[]" for _, kind in columns)
            self.conn.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",
                [list(values) for values in zip(*rows, strict=True)],
            )
            return
        marks = "(" + ", ".join("?" * len(columns)) + ")"
        for chunk in chunked(rows, max(1, self.IN_CHUNK // len(columns))):
            self.conn.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(chunk))}",
                [v for row in chunk for v in row],
            )

    def _in(
        self, sql: str, keys: list[object], before: tuple[object, ...]
    ) -> Iterator[tuple[str, tuple[object, ...]]]:
        if not keys:
            return
        if self.postgres:
            yield sql.replace(" IN {in}", " = ANY(?)"), (*before, keys)
            return
        for chunk in chunked(keys, self.IN_CHUNK):
            yield sql.replace("{in}", f"({','.join('?' * len(chunk))})"), (*before, *chunk)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction. SQLite's ``BEGIN IMMEDIATE`` takes the write lock at once
        (one writer at a time, no upgrade deadlocks)."""
        self.conn.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def lock(self, key: int) -> None:
        """Inside a transaction: hold ``key`` until it ends, so one process at a time does
        what follows. (On SQLite the transaction's write lock already does that.)"""
        if self.postgres:
            self.conn.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    def lock_holder(self, key: int) -> int | None:
        """The backend pid of the session holding the advisory lock ``key`` (PostgreSQL);
        None if none holds it, and always on SQLite (no sessions to lead)."""
        if not self.postgres:
            return None
        row = self.conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = ? AND objid = ? AND objsubid = 1",
            (key >> 32, key & 0xFFFFFFFF),
        ).fetchone()
        return None if row is None else int(row[0])

    def user_version(self) -> int:
        """The schema version the store was written with (0: none yet)."""
        if not self.postgres:
            return int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        # (an MVCC read of the catalog: ``to_regclass`` may answer from this session's
        # stale cache, missing a table another process has just created)
        if not self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'feedpub_schema')"
        ).fetchone()[0]:
            return 0
        row = self.conn.execute("SELECT max(version) FROM feedpub_schema").fetchone()
        return int(row[0] or 0)

    def set_user_version(self, version: int) -> None:
        if self.postgres:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS feedpub_schema (version INTEGER NOT NULL)"
            )
            self.conn.execute("DELETE FROM feedpub_schema")
            self.conn.execute("INSERT INTO feedpub_schema VALUES (?)", (version,))
        else:
            self.conn.execute(f"PRAGMA user_version = {int(version)}")

    def ddl(self, schema: str) -> None:
        """Run ``CREATE`` statements written for both engines: ``{serial}`` is an
        auto-numbered key, ``{blob}`` bytes, and every ``INTEGER`` 64 bits wide."""
        if self.postgres:
            schema = schema.replace("{serial}", "BIGSERIAL PRIMARY KEY")
            schema = schema.replace("{blob}", "BYTEA").replace(" INTEGER", " BIGINT")
        else:
            schema = schema.replace("{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT")
            schema = schema.replace("{blob}", "BLOB")
        for statement in schema.split(";"):  # not executescript: it would commit first
            if statement.strip():
                self.conn.execute(statement)

    def add_column(self, table: str, column: str, kind: str) -> None:
        """``ALTER TABLE ... ADD COLUMN`` unless the table has the column already."""
        if self.postgres:
            self.conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        elif column not in {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}:
            self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def close(self) -> None:
        self.conn.close()
