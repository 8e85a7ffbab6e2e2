"""Persistent state: :class:`State`, one connection with every aggregate's queries.

SQLite through the standard library's ``sqlite3`` by default: a one-shot build opens it in a
few milliseconds, where importing SQLAlchemy alone costs ~0.2 s. PostgreSQL (through
SQLAlchemy and psycopg) for several daemons. Where a change goes:

``db.py``            the two engines behind one connection; every difference between them
``schema.py``        the tables, and one migration function per schema version
``codec.py``         how values (metadata, problems, results, times) are written into columns
``base.py``          opening, transactions, closing, the key/value table
``index.py``         the article index (a cache: losing it costs one full parse)
``corpus.py``        the planning queries over the index (visible, newest, duplicates, ...)
``identities.py``    permanent ids, slugs and first-seen times (must never change)
``manifest.py``      the published files, and their bytes for standbys (PostgreSQL)
``outbox.py``        notifications to send, with leases and attempts
``builds.py``        the history of the last builds (for the operator)
``subscriptions.py`` the built-in hub's subscribers
``leader.py``        which daemon leads (PostgreSQL)
"""

from __future__ import annotations

from feedpub.store.base import SCHEMA_LOCK_KEY, StoreBase
from feedpub.store.builds import BuildsStore
from feedpub.store.corpus import CorpusStore
from feedpub.store.identities import IdentitiesStore
from feedpub.store.index import IndexStore
from feedpub.store.leader import LEADER_LOCK_KEY, LeaderStore
from feedpub.store.manifest import ManifestStore
from feedpub.store.outbox import OutboxStore
from feedpub.store.subscriptions import SUBSCRIPTIONS_LOCK_KEY, SubscriptionsStore

__all__ = ["LEADER_LOCK_KEY", "SCHEMA_LOCK_KEY", "SUBSCRIPTIONS_LOCK_KEY", "State"]


class State(
    IndexStore,
    CorpusStore,
    IdentitiesStore,
    ManifestStore,
    OutboxStore,
    SubscriptionsStore,
    LeaderStore,
    BuildsStore,
    StoreBase,
):
    """The state store: every aggregate over one connection (as lemon24/reader's storage
    is its mixins over one). Use as a context manager; writes happen in
    :meth:`transaction`."""
