"""Pure planning: (articles, config, now) → which feeds hold which entries, which pages
exist, what is reported. Nothing here reads the clock, the disk or the network; ``now`` is
a parameter. Where a change goes:

``keys.py``    which feeds an article belongs to, and the keys feed files are named after
``feeds.py``   ordering, duplicate ids, category names, overrides, pages, archive cutting
``corpus.py``  :func:`plan`, the one entry point, over a :class:`Corpus` (the state store's
               index for builds, :class:`MemoryCorpus` for ``check`` and tests)
"""

from __future__ import annotations

from feedpub.model import EPOCH
from feedpub.planning.corpus import Corpus, MemoryCorpus, plan
from feedpub.planning.feeds import (
    ArchiveKey,
    archive_pages,
    duplicate_losers,
    merged_categories,
    plan_candidates,
)
from feedpub.planning.keys import (
    ALL_KEY,
    RESERVED_KEYS,
    TAG_SUFFIX,
    category_key,
    feed_names,
    language_key,
    language_of_key,
    other_language,
    tag_key,
)

__all__ = [
    "ALL_KEY",
    "EPOCH",
    "RESERVED_KEYS",
    "TAG_SUFFIX",
    "ArchiveKey",
    "Corpus",
    "MemoryCorpus",
    "archive_pages",
    "category_key",
    "duplicate_losers",
    "feed_names",
    "language_key",
    "language_of_key",
    "merged_categories",
    "other_language",
    "plan",
    "plan_candidates",
    "tag_key",
]
