"""Persistent state: the article index, permanent identities, and the output manifest.

SQLite through the standard library's ``sqlite3``: a one-shot build opens it in a few
milliseconds, where importing SQLAlchemy alone costs ~0.2 s, which would be most of the budget
of a no-change rebuild. (The daemon's job store uses SQLAlchemy; see the README's design notes.)

Tables:

``articles``   the index, a cache: path → size, mtime, hash, parsed metadata or problems.
               Losing it costs one full parse, nothing else.
``identities`` the truth that must never change: path → entry id, slug, first-seen time.
               Kept after a file is deleted (``live = 0``) so that a file restored or moved
               back gets its id again; a moved file (same bytes, new path) takes its identity.
``outputs``    the manifest of published files: relpath → sha256, fingerprint, size, mtime.
``kv``         small values: last build, next go-live time, config fingerprint.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedpub.errors import StateError
from feedpub.model import ArticleMeta, Author, Enclosure, Problem, Severity

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT,
    meta TEXT,
    problems TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS identities (
    path TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    content_hash TEXT NOT NULL DEFAULT '',
    live INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS identities_hash ON identities (content_hash);
CREATE TABLE IF NOT EXISTS outputs (
    relpath TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    feed_key TEXT,
    kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexRow:
    path: str
    size: int
    mtime_ns: int
    content_hash: str | None
    meta: ArticleMeta | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    path: str
    article_id: str
    slug: str
    first_seen: datetime
    content_hash: str = ""
    live: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputRecord:
    relpath: str
    sha256: str
    fingerprint: str
    size: int
    mtime_ns: int
    feed_key: str | None
    kind: str  # "feed", "page", "index"


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def meta_to_json(meta: ArticleMeta) -> str:
    d: dict[str, Any] = {"t": meta.title}
    if meta.date:
        d["d"] = meta.date.isoformat()
    if meta.updated:
        d["u"] = meta.updated.isoformat()
    if meta.categories:
        d["c"] = meta.categories
    if meta.tags:
        d["g"] = meta.tags
    if meta.authors:
        d["a"] = [[a.name, a.email, a.url] for a in meta.authors]
    for key, value in (
        ("s", meta.summary),
        ("i", meta.id),
        ("l", meta.slug),
        ("k", meta.link),
        ("m", meta.image),
    ):
        if value is not None:
            d[key] = value
    if meta.draft:
        d["r"] = 1
    if meta.enclosure:
        e = meta.enclosure
        d["e"] = [e.url, e.type, e.length]
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def meta_from_json(path: str, content_hash: str, blob: str) -> ArticleMeta:
    d = json.loads(blob)
    enc = d.get("e")
    return ArticleMeta(
        path=path,
        title=d["t"],
        date=_dt(d.get("d")),
        updated=_dt(d.get("u")),
        categories=tuple(d.get("c", ())),
        tags=tuple(d.get("g", ())),
        authors=tuple(Author(name=a[0], email=a[1], url=a[2]) for a in d.get("a", ())),
        summary=d.get("s"),
        id=d.get("i"),
        slug=d.get("l"),
        draft=bool(d.get("r")),
        link=d.get("k"),
        image=d.get("m"),
        enclosure=Enclosure(url=enc[0], type=enc[1], length=enc[2]) if enc else None,
        content_hash=content_hash,
    )


def _problems_to_json(problems: Iterable[Problem]) -> str:
    return json.dumps([[p.line, p.message, p.severity.value] for p in problems], ensure_ascii=False)


def _problems_from_json(path: str, blob: str) -> tuple[Problem, ...]:
    return tuple(
        Problem(path=path, line=line, message=msg, severity=Severity(sev))
        for line, msg, sev in json.loads(blob)
    )


class State:
    """The state store. Use as a context manager; writes happen in :meth:`transaction`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()
        except (OSError, sqlite3.Error) as e:
            raise StateError(f"{path}: cannot open the state store: {e}") from e

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.path}: written by a newer feedpub (schema {version}); upgrade feedpub"
            )
        if version < SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

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

    # -- the article index ------------------------------------------------------------------

    def index_stats(self) -> dict[str, tuple[int, int]]:
        """path → (size, mtime_ns) of every indexed file: the cheap check for changes."""
        return {
            row[0]: (row[1], row[2])
            for row in self._db.execute("SELECT path, size, mtime_ns FROM articles")
        }

    def index_rows(self) -> Iterator[IndexRow]:
        for path, size, mtime_ns, chash, meta, problems in self._db.execute(
            "SELECT path, size, mtime_ns, content_hash, meta, problems FROM articles"
        ):
            yield IndexRow(
                path=path,
                size=size,
                mtime_ns=mtime_ns,
                content_hash=chash,
                meta=meta_from_json(path, chash or "", meta) if meta else None,
                problems=_problems_from_json(path, problems),
            )

    def put_index(self, rows: Iterable[IndexRow]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO articles (path, size, mtime_ns, content_hash, meta, problems) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    r.path,
                    r.size,
                    r.mtime_ns,
                    r.content_hash,
                    meta_to_json(r.meta) if r.meta else None,
                    _problems_to_json(r.problems),
                )
                for r in rows
            ),
        )

    def drop_index(self, paths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM articles WHERE path = ?", ((p,) for p in paths))

    # -- identities -------------------------------------------------------------------------

    def identities(self) -> dict[str, Identity]:
        return {
            row[0]: Identity(
                path=row[0],
                article_id=row[1],
                slug=row[2],
                first_seen=datetime.fromisoformat(row[3]),
                content_hash=row[4],
                live=bool(row[5]),
            )
            for row in self._db.execute(
                "SELECT path, article_id, slug, first_seen, content_hash, live FROM identities"
            )
        }

    def put_identities(self, idents: Iterable[Identity]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO identities "
            "(path, article_id, slug, first_seen, content_hash, live) VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    i.path,
                    i.article_id,
                    i.slug,
                    i.first_seen.astimezone(UTC).isoformat(),
                    i.content_hash,
                    int(i.live),
                )
                for i in idents
            ),
        )

    def delete_identities(self, paths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM identities WHERE path = ?", ((p,) for p in paths))

    # -- the output manifest ----------------------------------------------------------------

    def outputs(self) -> dict[str, OutputRecord]:
        return {
            row[0]: OutputRecord(
                relpath=row[0],
                sha256=row[1],
                fingerprint=row[2],
                size=row[3],
                mtime_ns=row[4],
                feed_key=row[5],
                kind=row[6],
            )
            for row in self._db.execute(
                "SELECT relpath, sha256, fingerprint, size, mtime_ns, feed_key, kind FROM outputs"
            )
        }

    def put_outputs(self, records: Iterable[OutputRecord]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO outputs "
            "(relpath, sha256, fingerprint, size, mtime_ns, feed_key, kind) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (r.relpath, r.sha256, r.fingerprint, r.size, r.mtime_ns, r.feed_key, r.kind)
                for r in records
            ),
        )

    def delete_outputs(self, relpaths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM outputs WHERE relpath = ?", ((p,) for p in relpaths))

    def counts(self) -> Mapping[str, int]:
        q = self._db.execute
        return {
            "articles": q("SELECT count(*) FROM articles").fetchone()[0],
            "problem_files": q("SELECT count(*) FROM articles WHERE problems != '[]'").fetchone()[
                0
            ],
            "outputs": q("SELECT count(*) FROM outputs").fetchone()[0],
        }
