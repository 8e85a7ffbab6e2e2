"""The state store's tables, and how a store written by an older feedpub is brought up to
date (in one transaction, one process at a time)."""

from __future__ import annotations

from typing import Any

from feedpub.errors import StateError

SCHEMA_VERSION = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT,
    meta TEXT,                                -- NULL when the file has an error
    problems TEXT NOT NULL DEFAULT '[]',
    -- settled by identity resolution, for planning in SQL (NULL when meta is NULL):
    date_us INTEGER,                          -- publication time, µs since the epoch (UTC)
    draft INTEGER NOT NULL DEFAULT 0,
    article_id TEXT,
    slug TEXT,
    url TEXT,
    external INTEGER NOT NULL DEFAULT 0,      -- has its own link: no page of ours
    atom_id TEXT,                             -- when not article_id (see atom_ids)
    hidden INTEGER NOT NULL DEFAULT 0,        -- status: hidden (draft = 1 too: in no feed)
    expires_us BIGINT,                        -- Hugo's expiryDate (draft = 1 once past)
    lang TEXT                                 -- a translation: not the site's language
);
CREATE INDEX IF NOT EXISTS articles_date ON articles (date_us) WHERE meta IS NOT NULL;
CREATE INDEX IF NOT EXISTS articles_id ON articles (article_id);
CREATE TABLE IF NOT EXISTS article_categories (
    path TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    date_us INTEGER NOT NULL,
    PRIMARY KEY (path, key)
);
CREATE INDEX IF NOT EXISTS article_categories_key ON article_categories (key, date_us);
CREATE TABLE IF NOT EXISTS identities (
    path TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    content_hash TEXT NOT NULL DEFAULT '',
    live INTEGER NOT NULL DEFAULT 1,
    atom_id TEXT,                             -- adopted: the old Atom feed's id, if any
    adopted TEXT                              -- when ``feedpub adopt`` set the identity
);
CREATE INDEX IF NOT EXISTS identities_hash ON identities (content_hash) WHERE live = 0;
CREATE TABLE IF NOT EXISTS outputs (
    relpath TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    feed_key TEXT,
    kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (           -- notifications, written before they are sent
    id {serial},
    kind TEXT NOT NULL,                       -- websub | weblogupdates | delivery
    target TEXT NOT NULL,                     -- hub, XML-RPC endpoint or subscriber callback
    topic TEXT NOT NULL,                      -- the feed URL concerned
    subscription_id INTEGER,
    created_at TEXT NOT NULL,
    not_before TEXT NOT NULL,                 -- due time (coalescing, min interval, backoff)
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | sending | done | failed
    claimed_until TEXT,                       -- a sender's lease: past it, another may send
    last_status INTEGER,
    last_error TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, not_before);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_one_pending
    ON outbox (kind, target, topic) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS outbox_attempts (
    outbox_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,                    -- ok | retry | failed
    status INTEGER,
    error TEXT,
    ms INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_attempts_id ON outbox_attempts (outbox_id);
CREATE TABLE IF NOT EXISTS subscriptions (    -- the built-in WebSub hub's subscribers
    id {serial},
    topic TEXT NOT NULL,
    callback TEXT NOT NULL,
    secret TEXT,
    lease_seconds INTEGER NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (topic, callback)
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_BODIES = """
CREATE TABLE IF NOT EXISTS atom_ids (         -- explicit ids that are no IRIs: the Atom id
    explicit TEXT PRIMARY KEY,                -- made from each, once, kept for good
    atom_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS article_bodies (   -- each parsed article's body, ready to publish:
    path TEXT PRIMARY KEY,                    -- sanitised HTML, relative URLs as written
    html TEXT NOT NULL,
    excerpt TEXT NOT NULL
);
"""
_PUBLISHED = """
CREATE TABLE IF NOT EXISTS published (        -- on PostgreSQL: the bytes of every output file,
    relpath TEXT PRIMARY KEY,                 -- so that standbys on other hosts serve them
    sha256 TEXT NOT NULL,
    content {blob} NOT NULL
);
"""
_PUBLISHED_CHUNKS = """
CREATE TABLE IF NOT EXISTS published_chunks ( -- large files (media) in pieces, in order: a
    relpath TEXT NOT NULL,                    -- build or a standby never holds one whole
    seq INTEGER NOT NULL,                     -- (their ``published`` row has no content)
    content {blob} NOT NULL,
    PRIMARY KEY (relpath, seq)
);
"""


def schema_version(db: Any, *, postgres: bool) -> int:
    """The schema version a store was written with (0: none yet)."""
    if not postgres:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    # (an MVCC read of the catalog: ``to_regclass`` may answer from this session's
    # stale cache, missing a table another process has just created)
    if not db.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
        " WHERE schemaname = current_schema() AND tablename = 'feedpub_schema')"
    ).fetchone()[0]:
        return 0
    row = db.execute("SELECT max(version) FROM feedpub_schema").fetchone()
    return int(row[0] or 0)


def migrate(db: Any, version: int, *, postgres: bool, where: str) -> None:
    """Bring a store written with schema ``version`` to :data:`SCHEMA_VERSION` (in the
    caller's transaction, which holds the schema lock on PostgreSQL)."""
    if version == SCHEMA_VERSION:
        return  # another process did it meanwhile
    if version > SCHEMA_VERSION:
        raise StateError(f"{where}: written by a newer feedpub (schema {version}); upgrade feedpub")
    if 0 < version < 2:  # the article index gained columns; it is a cache: rebuild it
        db.execute("DROP TABLE IF EXISTS articles")
    serial = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    # from 4, only what is new: re-running every CREATE INDEX IF NOT EXISTS would lock
    # the tables a build of an older feedpub may be writing (a rolling upgrade)
    if version == 4:
        schema = _PUBLISHED + _BODIES + _PUBLISHED_CHUNKS
    elif version == 5:
        schema = _BODIES + _PUBLISHED_CHUNKS
    elif version in (6, 7, 8, 9):
        schema = _PUBLISHED_CHUNKS
    else:
        schema = _SCHEMA + _PUBLISHED + _BODIES + _PUBLISHED_CHUNKS
    if 0 < version < 6:
        # bodies are stored with the index now (they were rendered from the files): the
        # index is a cache, so it is read again from the files by the next build
        db.execute("DROP TABLE IF EXISTS bodies")
        if version >= 2:
            db.execute("DELETE FROM articles")
            db.execute("DELETE FROM article_categories")
    schema = schema.replace("{serial}", serial)
    schema = schema.replace("{blob}", "BYTEA" if postgres else "BLOB")
    if postgres:  # 64-bit integers (SQLite's INTEGER already is)
        schema = schema.replace(" INTEGER", " BIGINT")
        schema += "CREATE TABLE IF NOT EXISTS feedpub_schema (version INTEGER NOT NULL);"
    for statement in schema.split(";"):  # not executescript: it would commit first
        if statement.strip():
            db.execute(statement)
    if 0 < version < 4:  # senders' leases on outbox rows (a v3 outbox lacks the column)
        _add_column(db, postgres, "outbox", "claimed_until", "TEXT")
    if 0 < version < 6:  # Atom ids built from explicit ids that are no IRIs
        _add_column(db, postgres, "articles", "atom_id", "TEXT")
    if 0 < version < 7:  # identities adopted from an old site's feeds
        _add_column(db, postgres, "identities", "atom_id", "TEXT")
        _add_column(db, postgres, "identities", "adopted", "TEXT")
    if 0 < version < 8:  # hidden articles (their pages): read every file again to know
        _add_column(db, postgres, "articles", "hidden", "INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE articles SET mtime_ns = -1")
    if 0 < version < 9:  # expiry dates and translations: read every file again to know
        _add_column(db, postgres, "articles", "expires_us", "BIGINT")
        _add_column(db, postgres, "articles", "lang", "TEXT")
        db.execute("UPDATE articles SET mtime_ns = -1")
    if postgres:
        db.execute("DELETE FROM feedpub_schema")
        db.execute("INSERT INTO feedpub_schema VALUES (?)", (SCHEMA_VERSION,))
    else:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _add_column(db: Any, postgres: bool, table: str, column: str, kind: str) -> None:
    """``ALTER TABLE ... ADD COLUMN`` unless the table has the column already."""
    if postgres:
        db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
    elif column not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
