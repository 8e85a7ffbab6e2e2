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
               ``feedpub adopt`` stores an old site's entry id (and its Atom id, when that
               differs) and published date here, as the identity, marked ``adopted``.
``outputs``    the manifest of published files: relpath → sha256, fingerprint, size, mtime.
``kv``         small values: last build, next go-live time, config fingerprint.
``published``  (PostgreSQL only) the bytes behind the manifest: a standby daemon on another
               host copies what the leader published into its own output folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from feedpub.errors import StateError, one_line
from feedpub.model import (
    Article,
    Identity,
    IndexRow,
    Member,
    OutboxItem,
    OutboxRow,
    OutputRecord,
    Problem,
    Subscription,
)
from feedpub.planning import feed_names, other_language
from feedpub.store.codec import (
    EPOCH,
    _dt,
    _iso,
    _problems_from_json,
    _problems_to_json,
    from_us,
    meta_from_json,
    meta_to_json,
    to_us,
)
from feedpub.store.db import (
    _create_sqlite_file,
    _PostgresDb,
    _sqlite_file_exists,
    _upsert,
    _wal_mode,
    chunked,
    redact,
)
from feedpub.store.schema import SCHEMA_VERSION, migrate, schema_version

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x66656564707562  # "feedpub": the advisory lock a leading daemon holds
SCHEMA_LOCK_KEY = 0x66656564736368  # "feedsch": one schema migration at a time
SUBSCRIPTIONS_LOCK_KEY = 0x66656564737562  # "feedsub": one subscription change at a time


_ARTICLE_COLUMNS = (
    "size",
    "mtime_ns",
    "content_hash",
    "meta",
    "problems",
    "date_us",
    "draft",
    "article_id",
    "slug",
    "url",
    "external",
    "atom_id",
    "hidden",
    "expires_us",
    "lang",
)


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(
        id=row[0],
        topic=row[1],
        callback=row[2],
        secret=row[3],
        lease_seconds=row[4],
        expires_at=datetime.fromisoformat(row[5]),
    )


def _one_per_language(found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(language, URL, path) versions of one article, one per language (the first by
    path): two versions in one language are no translations of each other."""
    best: dict[str, tuple[str, str, str]] = {}
    for version in sorted(found, key=lambda v: (v[0], v[2])):
        best.setdefault(version[0], version)
    return sorted(best.values())


class State:
    """The state store. Use as a context manager; writes happen in :meth:`transaction`.

    ``target`` is the SQLite file (the default: stdlib ``sqlite3``, fast to open) or a
    PostgreSQL SQLAlchemy URL (``postgresql+psycopg://...``): the same SQL runs on both.
    """

    def __init__(self, target: Path | str) -> None:
        self.path = target
        self.postgres = isinstance(target, str) and target.startswith("postgresql")
        self._integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)
        self._errors: tuple[type[BaseException], ...] = (sqlite3.Error,)  # see __exit__
        self._db: Any = None
        try:
            if self.postgres:
                import psycopg

                self._integrity_errors = (psycopg.errors.IntegrityError,)
                self._errors = (psycopg.Error,)
                self._db = _PostgresDb(str(target))
            else:
                path = Path(target)
                if not _sqlite_file_exists(path):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _create_sqlite_file(path)
                self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
                _wal_mode(self._db)
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except Exception as e:  # sqlite3, psycopg and SQLAlchemy errors alike
            if self._db is not None:
                with contextlib.suppress(Exception):
                    self._db.close()
            if isinstance(e, StateError):
                raise
            raise StateError(f"{redact(target)}: cannot open the state store: {one_line(e)}") from e

    def _rows_in(self, sql: str, keys: Iterable[object], *before: object) -> Iterator[Any]:
        """The rows of ``sql``, whose ``{in}`` stands for ``(?, ?, ...)``, for every one of
        ``keys``: one query per 500 of them; ``before`` are the arguments ahead of them."""
        for chunk in chunked(list(keys), 500):
            yield from self._db.execute(
                sql.replace("{in}", f"({','.join('?' * len(chunk))})"), (*before, *chunk)
            )

    def _execute_in(self, sql: str, keys: Iterable[object], *before: object) -> None:
        """Run ``sql`` (an update or delete whose ``{in}`` stands for ``(?, ?, ...)``) for
        every one of ``keys``: one statement per 500 of them."""
        for chunk in chunked(list(keys), 500):
            self._db.execute(
                sql.replace("{in}", f"({','.join('?' * len(chunk))})"), (*before, *chunk)
            )

    def _version(self) -> int:
        return schema_version(self._db, postgres=self.postgres)

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:
            return  # the common case: nothing to create (opening stays cheap)
        # Several processes may open a new store at once (a daemon's builder and its
        # notifier, workers): the schema is created in one transaction, one at a time
        # (``CREATE ... IF NOT EXISTS`` alone races on PostgreSQL), and the version is read
        # again once it is this process's turn.
        with self.transaction():
            if self.postgres:
                self._db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))
            self._migrate_locked(self._version())

    def _migrate_locked(self, version: int) -> None:
        migrate(self._db, version, postgres=self.postgres, where=redact(self.path))

    def leader(self) -> dict[str, Any] | None:
        """On PostgreSQL, the daemon that leads now (the one holding the leader lock, as it
        recorded itself: host, pid, since, url, output); ``{}`` if one leads but has not
        recorded itself yet; None if none leads."""
        if not self.postgres:
            return None
        holder = self._db.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = ? AND objid = ? AND objsubid = 1",
            (LEADER_LOCK_KEY >> 32, LEADER_LOCK_KEY & 0xFFFFFFFF),
        ).fetchone()
        if holder is None:
            return None
        recorded = json.loads(self.get("leader") or "{}")
        # the record counts only if it was written by the session holding the lock now (a
        # new leader that has not recorded itself yet must not pass for the old one)
        return dict(recorded) if recorded.get("backend_pid") == holder[0] else {}

    @property
    def schema_version(self) -> int:
        return self._version()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> State:
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
        if isinstance(exc, self._errors) and not isinstance(exc, StateError):
            raise StateError(
                f"{redact(self.path)}: the state store failed: {one_line(exc)}"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
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

    def index_stats(self, paths: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
        """path → (size, mtime_ns) of every indexed file (or of ``paths``): the cheap check."""
        if paths is None:
            return {
                row[0]: (row[1], row[2])
                for row in self._db.execute("SELECT path, size, mtime_ns FROM articles")
            }
        out: dict[str, tuple[int, int]] = {}
        for path, size, mtime_ns in self._rows_in(
            "SELECT path, size, mtime_ns FROM articles WHERE path IN {in}", paths
        ):
            out[path] = (size, mtime_ns)
        return out

    def article_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def put_articles(
        self,
        rows: Iterable[IndexRow],
        settled: Mapping[str, Article],
        *,
        now_us: int | None = None,
        language: str = "en",
        tags: bool = False,
    ) -> None:
        """Store parsed rows; those in ``settled`` also get their planning columns. An
        article expired at ``now_us`` is stored as a draft; one in another ``language`` than
        the site's is in its language's feed only (:func:`~feedpub.planning.other_language`).

        A row that failed (no ``meta``) replaces only the file's size, time and problems: if
        the file parsed before, that version (its metadata, body and planning columns) stays
        published until the file parses again. A file that never parsed stays out."""
        rows = list(rows)
        good = [r for r in rows if r.meta is not None]
        failed = [r for r in rows if r.meta is None]
        keys = [(r.path,) for r in good]
        self._db.executemany("DELETE FROM article_categories WHERE path = ?", keys)
        values: list[tuple[object, ...]] = []
        categories: list[tuple[str, str, str, int]] = []
        for r in good:
            a = settled.get(r.path)
            expires = to_us(a.meta.expires) if a and a.meta.expires else None
            gone = expires is not None and now_us is not None and expires <= now_us
            lang = other_language(a.meta.lang, language) if a else None
            values.append(
                (
                    r.path,
                    r.size,
                    r.mtime_ns,
                    r.content_hash,
                    r.meta_json or (meta_to_json(r.meta) if r.meta else None),
                    _problems_to_json(r.problems),
                    to_us(a.date) if a else None,
                    # (hidden articles are in no feed: for the feed queries, they are drafts)
                    int(a.meta.draft or a.meta.hidden or gone) if a else 0,
                    a.id if a else None,
                    a.slug if a else None,
                    a.url if a else None,
                    int(a.meta.link is not None) if a else 0,
                    a.atom_id if a and a.atom_id != a.id else None,
                    int(a.meta.hidden and not a.meta.draft and not gone) if a else 0,
                    expires,
                    lang,
                )
            )
            if a is not None and not a.meta.draft and not a.meta.hidden and not gone:
                date_us = to_us(a.date)
                names: dict[str, str] = {}
                for key, name in feed_names(a.meta, language, tags=tags):
                    names.setdefault(key, name)
                categories.extend((r.path, k, n, date_us) for k, n in names.items())
        self._db.executemany(
            "INSERT INTO articles (path, size, mtime_ns, content_hash, meta, problems,"
            " date_us, draft, article_id, slug, url, external, atom_id, hidden, expires_us,"
            " lang)"
            f" VALUES ({', '.join('?' * (len(_ARTICLE_COLUMNS) + 1))})"
            + _upsert("path", _ARTICLE_COLUMNS),
            values,
        )
        self._db.executemany(
            "INSERT INTO article_categories (path, key, name, date_us) VALUES (?, ?, ?, ?)",
            categories,
        )
        self._db.executemany(
            "INSERT INTO article_bodies (path, html, excerpt) VALUES (?, ?, ?)"
            + _upsert("path", ("html", "excerpt")),
            [(r.path, r.body_html or "", r.excerpt or "") for r in good],
        )
        self._db.executemany(
            "INSERT INTO articles (path, size, mtime_ns, content_hash, meta, problems)"
            " VALUES (?, ?, ?, ?, NULL, ?)" + _upsert("path", ("size", "mtime_ns", "problems")),
            [
                (r.path, r.size, r.mtime_ns, r.content_hash, _problems_to_json(r.problems))
                for r in failed
            ],
        )

    def parsed_paths(self, paths: Iterable[str]) -> set[str]:
        """Of ``paths``, those whose indexed version parsed (and so is published)."""
        return {
            row[0]
            for row in self._rows_in(
                "SELECT path FROM articles WHERE meta IS NOT NULL AND path IN {in}", paths
            )
        }

    def settled_ids(self, paths: Iterable[str]) -> dict[str, str]:
        """path → the id the last build that read the file settled (and so published, if
        the article was visible), for those of ``paths`` that have one."""
        return dict(
            self._rows_in(
                "SELECT path, article_id FROM articles WHERE meta IS NOT NULL"
                " AND article_id IS NOT NULL AND path IN {in}",
                paths,
            )
        )

    def bodies_for(self, paths: Iterable[str]) -> dict[str, tuple[str, str]]:
        """path → (sanitised body HTML, excerpt) of parsed articles."""
        return {
            path: (html, excerpt)
            for path, html, excerpt in self._rows_in(
                "SELECT path, html, excerpt FROM article_bodies WHERE path IN {in}", paths
            )
        }

    def drop_articles(self, paths: Iterable[str]) -> None:
        keys = [(p,) for p in paths]
        self._db.executemany("DELETE FROM articles WHERE path = ?", keys)
        self._db.executemany("DELETE FROM article_categories WHERE path = ?", keys)
        self._db.executemany("DELETE FROM article_bodies WHERE path = ?", keys)

    def clear_index(self) -> None:
        """Make the next build read every file again. What parsed stays, as the version to
        keep publishing if a file no longer parses (under the new config or version)."""
        self._db.execute("UPDATE articles SET mtime_ns = -1")

    def reread(self, paths: Iterable[str]) -> None:
        """Make the next build read (and settle) these files again: their identity changed."""
        self._db.executemany(
            "UPDATE articles SET mtime_ns = -1 WHERE path = ?", ((p,) for p in paths)
        )

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

    def problems(self) -> list[Problem]:
        return [
            p
            for path, blob in self._db.execute(
                "SELECT path, problems FROM articles WHERE problems != '[]' ORDER BY path"
            )
            for p in _problems_from_json(path, blob)
        ]

    # -- planning queries (only publishable articles: parsed, not drafts) ---------------------

    def load_articles(self, paths: Iterable[str]) -> list[Article]:
        """The settled articles at ``paths`` (those that parsed), in no particular order."""
        out: list[Article] = []
        for chunk in chunked(list(paths), 500):
            marks = ",".join("?" * len(chunk))
            for path, chash, meta, date_us, aid, slug, url, atom_id in self._db.execute(
                "SELECT path, content_hash, meta, date_us, article_id, slug, url, atom_id"
                f" FROM articles WHERE meta IS NOT NULL AND path IN ({marks})",
                chunk,
            ):
                out.append(
                    Article(
                        meta=meta_from_json(path, chash or "", meta),
                        date=from_us(date_us),
                        id=aid,
                        atom_id=atom_id or "",
                        slug=slug,
                        url=url,
                    )
                )
        return out

    _VISIBLE = "meta IS NOT NULL AND draft = 0 AND date_us <= ?"
    # (hidden articles are stored as drafts, for the feeds; their pages are published)
    _PAGED = "meta IS NOT NULL AND date_us <= ? AND (draft = 0 OR hidden = 1)"

    def article_links(self, now_us: int) -> dict[str, tuple[str, str]]:
        """Path → (URL, slug) of every article with a page now (published or hidden)."""
        return {
            path: (url, slug)
            for path, url, slug in self._db.execute(
                f"SELECT path, url, slug FROM articles WHERE {self._PAGED} AND url IS NOT NULL",
                (now_us,),
            )
        }

    def article_paths(self) -> list[str]:
        """The path of every indexed article that parsed."""
        return [r[0] for r in self._db.execute("SELECT path FROM articles WHERE meta IS NOT NULL")]

    def article_refs(self, now_us: int) -> dict[str, list[str]]:
        """Path → the references (``kind:value``) of every article with a page now that
        names another article (see :mod:`feedpub.articles.refs`)."""
        from feedpub.articles.media import is_media

        out: dict[str, list[str]] = {}
        for path, meta in self._db.execute(
            f"SELECT path, meta FROM articles WHERE {self._PAGED} AND meta LIKE '%\"rf\":%'",
            (now_us,),
        ):
            refs = [
                ref
                for ref, _ in json.loads(meta).get("rf", ())
                if ref.startswith(("name:", "post:"))
                or (ref.startswith("path:") and not is_media(ref[5:]))
            ]
            if refs:
                out[path] = refs
        return out

    def media_refs(self, now_us: int) -> set[str]:
        """The files that articles with a page now link to (``path`` references)."""
        from feedpub.articles.media import is_media

        out: set[str] = set()
        for (meta,) in self._db.execute(
            f"SELECT meta FROM articles WHERE {self._PAGED} AND meta LIKE '%\"rf\":%'",
            (now_us,),
        ):
            for ref, _ in json.loads(meta).get("rf", ()):
                kind, _, value = ref.partition(":")
                if kind == "path" and is_media(value):
                    out.add(value)
        return out

    def newest(self, now_us: int, limit: int) -> list[str]:
        return [
            row[0]
            for row in self._db.execute(
                f"SELECT path FROM articles WHERE {self._VISIBLE} AND lang IS NULL"
                " ORDER BY date_us DESC, article_id DESC LIMIT ?",
                (now_us, limit),
            )
        ]

    def category_keys(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT key FROM article_categories")]

    def newest_in(self, key: str, now_us: int, limit: int) -> list[str]:
        return [
            row[0]
            for row in self._db.execute(
                "SELECT ac.path FROM article_categories ac JOIN articles a ON a.path = ac.path"
                " WHERE ac.key = ? AND ac.date_us <= ? AND a.meta IS NOT NULL"
                " ORDER BY ac.date_us DESC, a.article_id DESC LIMIT ?",
                (key, now_us, limit),
            )
        ]

    def category_spellings(self, now_us: int) -> list[tuple[str, str, int, str]]:
        """(key, name, articles, first path) of every category name in use by visible articles."""
        return list(
            self._db.execute(
                "SELECT key, name, count(*), min(path) FROM article_categories"
                " WHERE date_us <= ? GROUP BY key, name",
                (now_us,),
            )
        )

    def duplicate_ids(self, now_us: int) -> list[tuple[str, str, datetime]]:
        """(id, path, first seen) of every visible article whose id, or Atom id, another
        visible one shares. (First seen, not its date: a new file dated in the past must not
        take the id of an article published before it.)"""
        out: list[tuple[str, str, datetime]] = []
        for column in ("a.article_id", "COALESCE(a.atom_id, a.article_id)"):
            visible = self._VISIBLE.replace("meta", "a.meta").replace("draft", "a.draft")
            visible = visible.replace("date_us", "a.date_us")
            rows = self._db.execute(
                f"SELECT {column}, a.path, i.first_seen FROM articles a"
                " LEFT JOIN identities i ON i.path = a.path"
                f" WHERE {visible} AND {column} IN (SELECT {column} FROM articles a"
                f" WHERE {visible} GROUP BY {column} HAVING count(*) > 1)",
                (now_us, now_us),
            )
            out += [(ident, path, _dt(seen) or EPOCH) for ident, path, seen in rows]
        return list(dict.fromkeys(out))  # (an id that is its own Atom id is found twice)

    def tally(self, now_us: int) -> tuple[int, int, int, int | None]:
        """(visible, scheduled, drafts, next go-live µs) over the parsed articles."""
        row = self._db.execute(
            "SELECT sum(CASE WHEN draft = 0 AND date_us <= ? THEN 1 ELSE 0 END),"
            " sum(CASE WHEN draft = 0 AND date_us > ? THEN 1 ELSE 0 END),"
            " sum(draft), min(CASE WHEN draft = 0 AND date_us > ? THEN date_us END)"
            " FROM articles WHERE meta IS NOT NULL",
            (now_us, now_us, now_us),
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), row[3]

    def hidden_count(self) -> int:
        """Hidden articles (``status: hidden``: a page, in no feed; tallied as drafts)."""
        row = self._db.execute(
            "SELECT count(*) FROM articles WHERE meta IS NOT NULL AND hidden = 1"
        ).fetchone()
        return int(row[0] or 0)

    def members(self, now_us: int, key: str | None = None) -> list[Member]:
        """Every visible article of a feed (all articles, or category ``key``), oldest first
        (by date, then id): what the feed's archive documents are cut from. Only index
        columns are read, no metadata."""
        if key is None:
            rows = self._db.execute(
                "SELECT date_us, article_id, path, content_hash, COALESCE(atom_id, article_id),"
                f" url, slug FROM articles WHERE {self._VISIBLE} AND lang IS NULL"
                " ORDER BY date_us, article_id",
                (now_us,),
            )
        else:
            rows = self._db.execute(
                "SELECT a.date_us, a.article_id, a.path, a.content_hash,"
                " COALESCE(a.atom_id, a.article_id), a.url, a.slug"
                " FROM article_categories ac JOIN articles a ON a.path = ac.path"
                " WHERE ac.key = ? AND ac.date_us <= ? AND a.meta IS NOT NULL"
                " ORDER BY a.date_us, a.article_id",
                (key, now_us),
            )
        return [Member(*row) for row in rows]

    def expire(self, now_us: int) -> int:
        """Take the articles whose expiry date has come out of every feed and page (they
        become drafts until their file changes); how many."""
        gone = [
            row[0]
            for row in self._db.execute(
                "SELECT path FROM articles WHERE meta IS NOT NULL AND expires_us <= ?"
                " AND (draft = 0 OR hidden = 1)",
                (now_us,),
            )
        ]
        self._execute_in("UPDATE articles SET draft = 1, hidden = 0 WHERE path IN {in}", gone)
        self._execute_in("DELETE FROM article_categories WHERE path IN {in}", gone)
        return len(gone)

    def next_expiry(self, now_us: int) -> int | None:
        """When the next published article expires (µs), if one does."""
        row = self._db.execute(
            "SELECT min(expires_us) FROM articles WHERE meta IS NOT NULL"
            " AND (draft = 0 OR hidden = 1) AND expires_us > ?",
            (now_us,),
        ).fetchone()
        return row[0] if row else None

    def translations(self, now_us: int, language: str) -> dict[str, list[tuple[str, str]]]:
        """Path → (language, URL) of each other version of the article, for every published
        article that has translations. Versions share their ``translationKey``, else the
        original's slug (a translation's slug is the original's with ``-<lang>`` after it)."""
        group: dict[str, list[tuple[str, str, str]]] = {}
        for path, lang, url, slug, meta in self._db.execute(
            "SELECT path, lang, url, slug, meta FROM articles"
            f" WHERE {self._VISIBLE} AND lang IS NOT NULL AND url IS NOT NULL",
            (now_us,),
        ):  # (published ones: a hidden version is linked from nowhere)
            d = json.loads(meta)
            key = d.get("tk") or d.get("l") or slug.removesuffix("-" + lang)
            group.setdefault(key, []).append((lang, url, path))
        if not group:
            return {}
        for path, url, slug, meta in self._rows_in(
            "SELECT path, url, slug, meta FROM articles WHERE lang IS NULL AND url IS NOT NULL"
            f" AND {self._VISIBLE} AND (slug IN {{in}} OR meta LIKE '%\"tk\":%')",
            list(group),
            now_us,
        ):
            key = json.loads(meta).get("tk") or slug
            if key in group and (language, url, path) not in group[key]:  # (once per chunk)
                group[key].append((language, url, path))
        out: dict[str, list[tuple[str, str]]] = {}
        for found in group.values():
            versions = _one_per_language(found)
            if len(versions) < 2:
                continue
            for _, _, path in versions:
                out[path] = [(lang, url) for lang, url, p in versions if p != path]
        return out

    def page_paths(self, now_us: int) -> set[str]:
        """Articles that get a page: every published article of ours (not drafts, not
        future ones, not those with their own link), hidden ones included."""
        return {
            row[0]
            for row in self._db.execute(
                "SELECT path FROM articles WHERE meta IS NOT NULL AND external = 0"
                " AND (draft = 0 OR hidden = 1) AND date_us <= ?",
                (now_us,),
            )
        }

    def valid_kept_pages(self, now_us: int) -> set[str]:
        """Article paths that have a page and are still visible articles of ours."""
        return {
            row[0]
            for row in self._db.execute(
                "SELECT a.path FROM outputs o JOIN articles a ON a.path = o.feed_key"
                " WHERE o.kind = 'page' AND a.external = 0 AND a.meta IS NOT NULL AND a.draft = 0"
                " AND a.date_us <= ?",
                (now_us,),
            )
        }

    # -- identities -------------------------------------------------------------------------

    def _identities(self, where: str, args: Sequence[object]) -> dict[str, Identity]:
        return {
            row[0]: Identity(
                path=row[0],
                article_id=row[1],
                slug=row[2],
                first_seen=datetime.fromisoformat(row[3]),
                content_hash=row[4],
                live=bool(row[5]),
                atom_id=row[6],
                adopted=datetime.fromisoformat(row[7]) if row[7] else None,
            )
            for row in self._db.execute(
                "SELECT path, article_id, slug, first_seen, content_hash, live, atom_id, adopted"
                f" FROM identities WHERE {where}",
                args,
            )
        }

    def identities(self) -> dict[str, Identity]:
        return self._identities("1 = 1", ())

    def identities_for(self, paths: Sequence[str]) -> dict[str, Identity]:
        out: dict[str, Identity] = {}
        for chunk in chunked(list(paths), 500):
            out.update(self._identities(f"path IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def orphans_for(self, hashes: Sequence[str]) -> dict[str, Identity]:
        """content hash → identity of a file that is gone, for files that may be it, moved."""
        out: dict[str, Identity] = {}
        for chunk in chunked(list(hashes), 500):
            found = self._identities(
                f"live = 0 AND content_hash IN ({','.join('?' * len(chunk))})", chunk
            )
            for ident in sorted(found.values(), key=lambda i: i.path):
                out.setdefault(ident.content_hash, ident)
        return out

    def live_slugs(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT slug FROM identities WHERE live = 1")}

    def retire_identities(self, paths: Iterable[str]) -> None:
        """The files are gone: keep their identities for a file that comes back or moved."""
        self._db.executemany("UPDATE identities SET live = 0 WHERE path = ?", ((p,) for p in paths))

    def put_identities(self, idents: Iterable[Identity]) -> None:
        self._db.executemany(
            "INSERT INTO identities (path, article_id, slug, first_seen, content_hash, live,"
            " atom_id, adopted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            + _upsert(
                "path",
                ("article_id", "slug", "first_seen", "content_hash", "live", "atom_id", "adopted"),
            ),
            (
                (
                    i.path,
                    i.article_id,
                    i.slug,
                    i.first_seen.astimezone(UTC).isoformat(),
                    i.content_hash,
                    int(i.live),
                    i.atom_id,
                    i.adopted.astimezone(UTC).isoformat() if i.adopted else None,
                )
                for i in idents
            ),
        )

    def atom_ids_for(self, explicit: Iterable[str]) -> dict[str, str]:
        """explicit id → the Atom id made from it, for those that have one."""
        return {
            row[0]: row[1]
            for row in self._rows_in(
                "SELECT explicit, atom_id FROM atom_ids WHERE explicit IN {in}", explicit
            )
        }

    def put_atom_ids(self, made: Mapping[str, str]) -> None:
        """New Atom ids (explicit id → Atom id): made once, never replaced."""
        self._db.executemany(
            "INSERT INTO atom_ids (explicit, atom_id) VALUES (?, ?)"
            " ON CONFLICT (explicit) DO NOTHING",
            sorted(made.items()),
        )

    def delete_identities(self, paths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM identities WHERE path = ?", ((p,) for p in paths))

    # -- the outbox -------------------------------------------------------------------------

    def enqueue(self, items: Iterable[OutboxItem], now: datetime) -> int:
        """Record notifications to send; one already pending for the same target and topic
        absorbs the new one (that is the coalescing). Returns how many were added."""
        added = 0
        for row in (
            (i.kind, i.target, i.topic, i.subscription_id, _iso(now), _iso(i.not_before))
            for i in items
        ):
            added += self._db.execute(
                "INSERT INTO outbox (kind, target, topic, subscription_id, created_at,"
                " not_before) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                row,
            ).rowcount
        return added

    _OUTBOX_COLUMNS = "id, kind, target, topic, subscription_id, created_at, not_before, attempts"

    @staticmethod
    def _outbox_row(r: Sequence[Any]) -> OutboxRow:
        return OutboxRow(
            id=r[0],
            kind=r[1],
            target=r[2],
            topic=r[3],
            subscription_id=r[4],
            created_at=datetime.fromisoformat(r[5]),
            not_before=datetime.fromisoformat(r[6]),
            attempts=r[7],
        )

    _DUE = "(status = 'pending' AND not_before <= ?) OR (status = 'sending' AND claimed_until <= ?)"

    def due(self, now: datetime, limit: int = 500, *, everything: bool = False) -> list[OutboxRow]:
        """Notifications due by ``now`` (``everything``: all pending ones), and those whose
        sender's lease ran out (a sender that died mid-send); read only, nothing claimed."""
        where = self._DUE
        if everything:
            where = "status = 'pending' OR (status = 'sending' AND claimed_until <= ?)"
        args = ((_iso(now),) if everything else (_iso(now), _iso(now))) + (limit,)
        return [
            self._outbox_row(r)
            for r in self._db.execute(
                f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE {where}"
                " ORDER BY not_before, id LIMIT ?",
                args,
            )
        ]

    def claim_due(
        self, due_by: datetime, now: datetime, until: datetime, limit: int
    ) -> list[OutboxRow]:
        """Take up to ``limit`` notifications to send: pending ones due by ``due_by``, and
        those whose sender's lease ran out by ``now``, each with a lease until ``until``.

        While the lease holds no other sender (another worker) takes them, a change queued
        meanwhile gets a row of its own, and if this sender dies they are due again once it
        runs out. On PostgreSQL this is one statement (``FOR UPDATE SKIP LOCKED``: concurrent
        senders skip each other's rows instead of waiting or racing for them); SQLite
        serialises writers, so a plain select and update inside the caller's
        :meth:`transaction` is just as exclusive. Returns the rows won, oldest due first,
        each with its ``lease``: what the sender records about a row later counts only while
        the row is still claimed with that lease (a sender whose lease ran out and whose row
        another took meanwhile changes nothing: fencing)."""
        args = (_iso(due_by), _iso(now), limit)
        if self.postgres:
            rows = [
                self._outbox_row(r)
                for r in self._db.execute(
                    "UPDATE outbox SET status = 'sending', claimed_until = ? WHERE id IN"
                    f" (SELECT id FROM outbox WHERE {self._DUE} ORDER BY not_before, id"
                    f" LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING {self._OUTBOX_COLUMNS}",
                    (_iso(until), *args),
                )
            ]
            rows.sort(key=lambda r: (r.not_before, r.id))
        else:
            rows = [
                self._outbox_row(r)
                for r in self._db.execute(
                    f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE {self._DUE}"
                    " ORDER BY not_before, id LIMIT ?",
                    args,
                )
            ]
            self._execute_in(
                "UPDATE outbox SET status = 'sending', claimed_until = ? WHERE id IN {in}",
                [r.id for r in rows],
                _iso(until),
            )
        return [replace(r, lease=until) for r in rows]

    def make_due(self, now: datetime) -> int:
        """Every pending notification is due at ``now`` (after a restart, or ``feedpub
        notify``: what waited for a retry or a coalescing window goes out at once)."""
        cur = self._db.execute(
            "UPDATE outbox SET not_before = ? WHERE status = 'pending' AND not_before > ?",
            (_iso(now), _iso(now)),
        )
        return int(cur.rowcount)

    _OWNED = " AND status = 'sending' AND claimed_until = ?"

    @classmethod
    def _owned(cls, lease: datetime | None) -> tuple[str, tuple[object, ...]]:
        """The condition (and its argument) that a row is still claimed with ``lease``."""
        if lease is None:
            return "", ()
        return cls._OWNED, (_iso(lease),)

    def requeue(
        self,
        outbox_id: int,
        not_before: datetime,
        *,
        at: datetime,
        note: str | None = None,
        lease: datetime | None = None,
    ) -> None:
        """A claimed notification goes back to the queue, due at ``not_before``: unless a
        later change queued one of its own for the same target and topic meanwhile, which
        then stands for both (at most one pending row per target and topic). With ``lease``,
        only if the row is still claimed with it. Call inside a :meth:`transaction`."""
        owned, owned_args = self._owned(lease)
        # At most one pending row per (kind, target, topic): if a later change queued one
        # (even one committed this instant by a build running beside us, on PostgreSQL), the
        # unique index refuses this one and the newer row stands for both.
        self._db.execute("SAVEPOINT requeue")
        try:
            self._db.execute(
                "UPDATE outbox SET status = 'pending', claimed_until = NULL, not_before = ?"
                f" WHERE id = ?{owned}",
                (_iso(not_before), outbox_id, *owned_args),
            )
        except self._integrity_errors:
            self._db.execute("ROLLBACK TO SAVEPOINT requeue")
            reason = "superseded by a newer notification" + (f" ({note})" if note else "")
            self._db.execute(
                "UPDATE outbox SET last_error = ?, status = 'done', claimed_until = NULL,"
                f" finished_at = ? WHERE id = ?{owned}",
                (reason, _iso(at), outbox_id, *owned_args),
            )
        self._db.execute("RELEASE SAVEPOINT requeue")

    def pending_count(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return int(row[0])

    def next_due(self) -> datetime | None:
        """When something is next due: a pending row's time, or a sender's lease running out."""
        row = self._db.execute(
            "SELECT min(CASE WHEN status = 'pending' THEN not_before ELSE claimed_until END)"
            " FROM outbox WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row[0] else None

    def last_sent(self, kind: str, target: str, topic: str | None) -> datetime | None:
        """When this target (and topic, if given) was last notified successfully."""
        sql = (
            "SELECT max(finished_at) FROM outbox WHERE status = 'done' AND kind = ? AND target = ?"
        )
        args: tuple[str, ...] = (kind, target)
        if topic is not None:
            sql += " AND topic = ?"
            args += (topic,)
        row = self._db.execute(sql, args).fetchone()
        return datetime.fromisoformat(row[0]) if row[0] else None

    def record_successes(
        self, items: Sequence[tuple[int, int | None, int, datetime | None]], *, at: datetime
    ) -> None:
        """Record successful attempts, (outbox id, status, ms, lease) each, in two
        statements. A row no longer claimed with its lease is left as it is (its attempt is
        still written down)."""
        if not items:
            return
        self._db.executemany(
            "INSERT INTO outbox_attempts (outbox_id, at, outcome, status, error, ms)"
            " VALUES (?, ?, 'ok', ?, NULL, ?)",
            ((i, _iso(at), status, ms) for i, status, ms, _ in items),
        )
        done = (
            "UPDATE outbox SET attempts = attempts + 1, last_status = ?, last_error = NULL,"
            " status = 'done', claimed_until = NULL, finished_at = ? WHERE id = ?"
        )
        self._db.executemany(
            done + self._OWNED,
            ((st, _iso(at), i, _iso(lease)) for i, st, _, lease in items if lease is not None),
        )
        self._db.executemany(
            done, ((st, _iso(at), i) for i, st, _, lease in items if lease is None)
        )

    def record_attempt(
        self,
        outbox_id: int,
        *,
        at: datetime,
        outcome: str,
        status: int | None,
        error: str | None,
        ms: int,
        retry_at: datetime | None = None,
        lease: datetime | None = None,
    ) -> None:
        """Record one attempt: ``ok`` and ``failed`` finish the notification; ``retry`` moves
        it to ``retry_at``. With ``lease`` (the claim's), the row changes only if it is still
        claimed with it; the attempt is written down either way. Call inside a
        :meth:`transaction`."""
        owned, owned_args = self._owned(lease)
        self._db.execute(
            "INSERT INTO outbox_attempts (outbox_id, at, outcome, status, error, ms)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (outbox_id, _iso(at), outcome, status, error, ms),
        )
        if outcome == "retry":
            assert retry_at is not None
            cur = self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_status = ?, last_error = ?"
                f" WHERE id = ?{owned}",
                (status, error, outbox_id, *owned_args),
            )
            if cur.rowcount:
                self.requeue(outbox_id, retry_at, at=at, note=error, lease=lease)
        else:
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_status = ?, last_error = ?,"
                f" status = ?, claimed_until = NULL, finished_at = ? WHERE id = ?{owned}",
                (
                    status,
                    error,
                    "done" if outcome == "ok" else "failed",
                    _iso(at),
                    outbox_id,
                    *owned_args,
                ),
            )

    def outbox_report(self, recent: int = 10) -> dict[str, object]:
        counts = dict(
            self._db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        )

        def rows(where: str) -> list[dict[str, object]]:
            return [
                {
                    "kind": r[0],
                    "target": r[1],
                    "topic": r[2],
                    "attempts": r[3],
                    "status": r[4],
                    "last_error": r[5],
                    "at": r[6],
                }
                for r in self._db.execute(
                    "SELECT kind, target, topic, attempts, last_status, last_error,"
                    f" coalesce(finished_at, not_before) FROM outbox WHERE {where}"
                    " ORDER BY id DESC LIMIT ?",
                    (recent,),
                )
            ]

        return {
            "pending": counts.get("pending", 0) + counts.get("sending", 0),
            "done": counts.get("done", 0),
            "failed": counts.get("failed", 0),
            "pending_list": rows("status = 'pending'"),
            "failed_list": rows("status = 'failed'"),
            "recent": rows("status = 'done'"),
        }

    # -- hub subscriptions ------------------------------------------------------------------

    def subscribers(self, topics: Sequence[str], now: datetime) -> dict[str, list[int]]:
        """topic → ids of its active (unexpired) subscriptions."""
        out: dict[str, list[int]] = {}
        for sid, topic in self._rows_in(
            "SELECT id, topic FROM subscriptions WHERE expires_at > ? AND topic IN {in}",
            topics,
            _iso(now),
        ):
            out.setdefault(topic, []).append(sid)
        return out

    def subscriptions_by_id(self, ids: Iterable[int]) -> dict[int, Subscription]:
        """id → subscription, for those of ``ids`` that still exist."""
        return {
            row[0]: _subscription(row)
            for row in self._rows_in(
                "SELECT id, topic, callback, secret, lease_seconds, expires_at FROM subscriptions"
                " WHERE id IN {in}",
                sorted(set(ids)),
            )
        }

    def find_subscription(self, topic: str, callback: str) -> Subscription | None:
        row = self._db.execute(
            "SELECT id, topic, callback, secret, lease_seconds, expires_at FROM subscriptions"
            " WHERE topic = ? AND callback = ?",
            (topic, callback),
        ).fetchone()
        return None if row is None else _subscription(row)

    def lock_subscriptions(self) -> None:
        """Inside a transaction: no other one changes subscriptions until it ends, so a check
        of the limits and the insert it allows are one step. (SQLite's ``BEGIN IMMEDIATE``
        does that already; PostgreSQL's READ COMMITTED would let two verifications both see
        room for one more.)"""
        if self.postgres:
            self._db.execute("SELECT pg_advisory_xact_lock(?)", (SUBSCRIPTIONS_LOCK_KEY,))

    def subscribe(
        self, topic: str, callback: str, secret: str | None, lease_seconds: int, now: datetime
    ) -> None:
        self._db.execute(
            "INSERT INTO subscriptions (topic, callback, secret, lease_seconds, expires_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (topic, callback) DO UPDATE SET"
            " secret = excluded.secret, lease_seconds = excluded.lease_seconds,"
            " expires_at = excluded.expires_at",
            (
                topic,
                callback,
                secret,
                lease_seconds,
                _iso(now + timedelta(seconds=lease_seconds)),
                _iso(now),
            ),
        )

    def unsubscribe(self, topic: str, callback: str) -> None:
        self._db.execute(
            "DELETE FROM subscriptions WHERE topic = ? AND callback = ?", (topic, callback)
        )

    def drop_subscription(self, sid: int) -> None:
        self._db.execute("DELETE FROM subscriptions WHERE id = ?", (sid,))

    def count_subscriptions(self, now: datetime, topic: str | None = None) -> int:
        sql = "SELECT count(*) FROM subscriptions WHERE expires_at > ?"
        args: tuple[str, ...] = (_iso(now),)
        if topic is not None:
            sql += " AND topic = ?"
            args += (topic,)
        return int(self._db.execute(sql, args).fetchone()[0])

    def purge_expired(self, now: datetime) -> int:
        cur = self._db.execute("DELETE FROM subscriptions WHERE expires_at <= ?", (_iso(now),))
        return int(cur.rowcount)

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

    def wrote_feeds(self) -> bool:
        """Whether the manifest lists a feed: some build published one."""
        row = self._db.execute("SELECT 1 FROM outputs WHERE kind = 'feed' LIMIT 1").fetchone()
        return row is not None

    def put_outputs(self, records: Iterable[OutputRecord]) -> None:
        self._db.executemany(
            "INSERT INTO outputs (relpath, sha256, fingerprint, size, mtime_ns, feed_key, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            + _upsert("relpath", ("sha256", "fingerprint", "size", "mtime_ns", "feed_key", "kind")),
            (
                (r.relpath, r.sha256, r.fingerprint, r.size, r.mtime_ns, r.feed_key, r.kind)
                for r in records
            ),
        )

    def delete_outputs(self, relpaths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM outputs WHERE relpath = ?", ((p,) for p in relpaths))

    # -- published bytes (PostgreSQL: for standbys on other hosts) ---------------------------

    def put_published(self, files: Iterable[tuple[str, str, bytes]]) -> None:
        """(relpath, sha256, bytes) of files just published."""
        files = list(files)
        self._db.executemany(
            "DELETE FROM published_chunks WHERE relpath = ?", ((p,) for p, _, _ in files)
        )
        self._db.executemany(
            "INSERT INTO published (relpath, sha256, content) VALUES (?, ?, ?)"
            + _upsert("relpath", ("sha256", "content")),
            files,
        )

    def put_published_chunks(self, relpath: str, digest: str, chunks: Iterable[bytes]) -> None:
        """A file just published, in ``chunks`` (each stored as it comes: never whole in
        memory); its ``published`` row holds the sha256 and no content."""
        self._db.execute("DELETE FROM published_chunks WHERE relpath = ?", (relpath,))
        for seq, chunk in enumerate(chunks):
            self._db.execute(
                "INSERT INTO published_chunks (relpath, seq, content) VALUES (?, ?, ?)",
                (relpath, seq, chunk),
            )
        self.put_published_row(relpath, digest)

    def put_published_row(self, relpath: str, digest: str) -> None:
        self._db.execute(
            "INSERT INTO published (relpath, sha256, content) VALUES (?, ?, ?)"
            + _upsert("relpath", ("sha256", "content")),
            (relpath, digest, b""),
        )

    def published_chunks(self, relpath: str) -> Iterator[bytes]:
        """The pieces of a file stored by :meth:`put_published_chunks`, in order, one query
        (and one piece in memory) at a time; none for a file stored whole."""
        seq = 0
        while True:
            row = self._db.execute(
                "SELECT content FROM published_chunks WHERE relpath = ? AND seq = ?",
                (relpath, seq),
            ).fetchone()
            if row is None:
                return
            yield bytes(row[0])
            seq += 1

    def delete_published(self, relpaths: Iterable[str]) -> None:
        relpaths = list(relpaths)
        self._db.executemany("DELETE FROM published WHERE relpath = ?", ((p,) for p in relpaths))
        self._db.executemany(
            "DELETE FROM published_chunks WHERE relpath = ?", ((p,) for p in relpaths)
        )

    def unpublished(self) -> dict[str, str]:
        """relpath → sha256 of manifest entries whose bytes are not (or not as recorded) in
        ``published``: files a build wrote before this table existed, for a backfill."""
        return dict(
            self._db.execute(
                "SELECT o.relpath, o.sha256 FROM outputs o LEFT JOIN published p"
                " ON p.relpath = o.relpath WHERE p.sha256 IS NULL OR p.sha256 != o.sha256"
            ).fetchall()
        )

    def published_digests(self, relpaths: Sequence[str]) -> dict[str, str]:
        """relpath → sha256 of those of ``relpaths`` held in ``published``."""
        return dict(
            self._rows_in("SELECT relpath, sha256 FROM published WHERE relpath IN {in}", relpaths)
        )

    def published_content(self, relpaths: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """relpath → (sha256, bytes) of those of ``relpaths`` held in ``published``."""
        return {
            relpath: (digest, bytes(content))
            for relpath, digest, content in self._rows_in(
                "SELECT relpath, sha256, content FROM published WHERE relpath IN {in}", relpaths
            )
        }

    def counts(self) -> Mapping[str, int]:
        q = self._db.execute
        return {
            "articles": q("SELECT count(*) FROM articles").fetchone()[0],
            "problem_files": q("SELECT count(*) FROM articles WHERE problems != '[]'").fetchone()[
                0
            ],
            "outputs": q("SELECT count(*) FROM outputs").fetchone()[0],
        }
