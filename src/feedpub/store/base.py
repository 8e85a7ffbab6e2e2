"""What every part of the state store shares: the open connection (:class:`Db`), the
schema check on opening, transactions, closing, and the small key/value table.

The aggregates (:mod:`~feedpub.store.index`, :mod:`~feedpub.store.corpus`,
:mod:`~feedpub.store.identities`, :mod:`~feedpub.store.outbox`,
:mod:`~feedpub.store.subscriptions`, :mod:`~feedpub.store.manifest`,
:mod:`~feedpub.store.leader`) each add their tables' queries to this base;
:class:`feedpub.store.State` is all of them over one connection."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from feedpub.errors import StateError, one_line
from feedpub.store.db import Db, redact
from feedpub.store.schema import SCHEMA_VERSION, migrate

log = logging.getLogger(__name__)

SCHEMA_LOCK_KEY = 0x66656564736368  # "feedsch": one schema migration at a time


class StoreBase:
    """The state store's connection. Use as a context manager; writes happen in
    :meth:`transaction`; a driver error that ends the ``with`` block leaves it as a
    :class:`StateError` naming the store.

    ``target`` is the SQLite file (the default: stdlib ``sqlite3``, fast to open) or a
    PostgreSQL SQLAlchemy URL (``postgresql+psycopg://...``): the same SQL runs on both.
    """

    _db: Db

    def __init__(self, target: Path | str) -> None:
        self.path = target
        self._touched: set[str] = set()  # articles whose index rows were written (:meth:`touched`)
        db: Db | None = None
        try:
            db = self._db = Db(target)
            self._migrate()
        except Exception as e:  # sqlite3, psycopg and SQLAlchemy errors alike
            if db is not None:
                with contextlib.suppress(Exception):
                    db.close()
            if isinstance(e, StateError):
                raise
            raise StateError(f"{redact(target)}: cannot open the state store: {one_line(e)}") from e

    @property
    def postgres(self) -> bool:
        """Whether this is a shared PostgreSQL store (several daemons, standbys)."""
        return self._db.postgres

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """The database driver's own exception classes (for an edge that must catch them)."""
        return self._db.errors

    def _migrate(self) -> None:
        if self._db.user_version() == SCHEMA_VERSION:
            return  # the common case: nothing to create (opening stays cheap)
        # Several processes may open a new store at once (a daemon's builder and its
        # notifier, workers): the schema is created in one transaction, one at a time
        # (``CREATE ... IF NOT EXISTS`` alone races on PostgreSQL), and the version is read
        # again once it is this process's turn.
        with self.transaction():
            self._db.lock(SCHEMA_LOCK_KEY)
            self._migrate_locked(self._db.user_version())

    def _migrate_locked(self, version: int) -> None:
        migrate(self._db, version)

    @property
    def schema_version(self) -> int:
        return self._db.user_version()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close; a database error that ends the block (a file corrupted in the middle, a
        full disk, a lost connection) leaves it as a :class:`StateError` naming the store."""
        try:
            self.close()
        except Exception as e:
            if exc is None:
                raise StateError(f"{redact(self.path)}: cannot close: {one_line(e)}") from e
        if isinstance(exc, self._db.errors) and not isinstance(exc, StateError):
            raise StateError(
                f"{redact(self.path)}: the state store failed: {one_line(exc)}"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    # -- key/value --------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM kv WHERE key = ?", (key,))
        else:
            self._db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
