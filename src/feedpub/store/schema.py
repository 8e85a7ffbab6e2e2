"""The state store's tables, and how a store written by an older feedpub is brought up to
date: one function per version step in :data:`MIGRATIONS`, run in order, in one
transaction, one process at a time (the caller holds the schema lock).

A new version: bump :data:`SCHEMA_VERSION`, change the DDL below (a new store is made
from it whole), and add the step from the version before to :data:`MIGRATIONS`."""

from __future__ import annotations

from collections.abc import Callable

from feedpub.errors import StateError
from feedpub.store.db import Db

SCHEMA_VERSION = 12

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
_BUILDS = """
CREATE TABLE IF NOT EXISTS builds (           -- the last builds (BUILD_HISTORY of them), for
    id {serial},                              -- the operator: /status, feedpub status
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,                    -- ok | failed (the build raised)
    articles INTEGER,                         -- the rest: a build that succeeded
    published INTEGER,
    scheduled INTEGER,
    drafts INTEGER,
    feeds INTEGER,
    written INTEGER,
    removed INTEGER,
    errors INTEGER,
    warnings INTEGER,
    error TEXT                                -- why a failed build failed (one line)
);
CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (created_at)
    WHERE status IN ('pending', 'sending');
"""
# the few articles that expire, or have problems: found without reading every article
_SPARSE = """
CREATE INDEX IF NOT EXISTS articles_expires ON articles (expires_us)
    WHERE expires_us IS NOT NULL;
CREATE INDEX IF NOT EXISTS articles_problems ON articles (path) WHERE problems != '[]';
"""


def _v2(db: Db) -> None:
    """The article index gained columns; it is a cache: rebuild it."""
    db.execute("DROP TABLE IF EXISTS articles")
    db.ddl(_SCHEMA)


def _v3(db: Db) -> None:
    """The outbox and hub tables."""
    db.ddl(_SCHEMA)


def _v4(db: Db) -> None:
    """Senders' leases on outbox rows."""
    db.ddl(_SCHEMA)
    db.add_column("outbox", "claimed_until", "TEXT")


def _v5(db: Db) -> None:
    """The bytes of every output file (PostgreSQL standbys copy them)."""
    db.ddl(_PUBLISHED)


def _v6(db: Db) -> None:
    """Bodies are stored with the index (they were rendered from the files), and Atom ids
    made from explicit ids that are no IRIs: the index is a cache, read again."""
    db.ddl(_BODIES)
    db.execute("DROP TABLE IF EXISTS bodies")
    db.execute("DELETE FROM articles")
    db.execute("DELETE FROM article_categories")
    db.add_column("articles", "atom_id", "TEXT")


def _v7(db: Db) -> None:
    """Identities adopted from an old site's feeds."""
    db.add_column("identities", "atom_id", "TEXT")
    db.add_column("identities", "adopted", "TEXT")


def _v8(db: Db) -> None:
    """Hidden articles (their pages): every file is read again to know."""
    db.add_column("articles", "hidden", "INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE articles SET mtime_ns = -1")


def _v9(db: Db) -> None:
    """Expiry dates and translations: every file is read again to know."""
    db.add_column("articles", "expires_us", "BIGINT")
    db.add_column("articles", "lang", "TEXT")
    db.execute("UPDATE articles SET mtime_ns = -1")


def _v10(db: Db) -> None:
    """Large published files (media) in pieces."""
    db.ddl(_PUBLISHED_CHUNKS)


def _v11(db: Db) -> None:
    """The history of the last builds, and the age of the oldest waiting notification
    (what /healthz and /metrics ask) from an index."""
    db.ddl(_BUILDS)


def _v12(db: Db) -> None:
    """Indexes of the articles that expire and of those with problems (a build asks for
    both, and they are few)."""
    db.ddl(_SPARSE)


# version → the step that brings a store of the version before it up to it. From 4 on a
# step makes only what is new: re-running every CREATE INDEX IF NOT EXISTS would lock the
# tables a build of an older feedpub may be writing (a rolling upgrade).
MIGRATIONS: dict[int, Callable[[Db], None]] = {
    2: _v2,
    3: _v3,
    4: _v4,
    5: _v5,
    6: _v6,
    7: _v7,
    8: _v8,
    9: _v9,
    10: _v10,
    11: _v11,
    12: _v12,
}
assert sorted(MIGRATIONS) == list(range(2, SCHEMA_VERSION + 1))


def migrate(db: Db, version: int) -> None:
    """Bring a store written with schema ``version`` (0: a new one) to
    :data:`SCHEMA_VERSION`, in the caller's transaction (which holds the schema lock)."""
    if version == SCHEMA_VERSION:
        return  # another process did it meanwhile
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{db.where}: written by a newer feedpub (schema {version}); upgrade feedpub"
        )
    if version == 0:
        db.ddl(_SCHEMA + _PUBLISHED + _BODIES + _PUBLISHED_CHUNKS + _BUILDS + _SPARSE)
    else:
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](db)
    db.set_user_version(SCHEMA_VERSION)
