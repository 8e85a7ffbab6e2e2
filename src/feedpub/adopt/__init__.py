"""``feedpub adopt``: a moved site keeps the entry ids of its old feeds, so that no subscriber
sees its articles twice. (Not ``feedpub build --adopt``, which takes over an output folder.)

Feed readers tell entries apart by id: the Atom ``id``, the RSS ``guid``, the JSON Feed
``id``. A site moved to feedpub would give every article a new one, and every reader would
show every article again. ``adopt`` reads the old site's feeds, matches each entry to an
article, and stores the entry's id and published date as that article's identity, which
:mod:`feedpub.identity` then gives to every format, for good.

* **Reading** (:mod:`.reading`) is an edge: a file or an http(s) URL, at most
  :data:`MAX_FEED_BYTES`, fetched within :data:`FETCH_SECONDS`. Parsing (:mod:`.parsing`:
  feedparser for Atom and RSS, ``json`` for JSON Feed) runs in a worker process under
  :data:`PARSE_SECONDS`, like every untrusted input.
* **Matching** (:mod:`.matching`) is pure (:func:`match`): by link (the old URL's path is
  the article's URL's), then by slug (the old URL's last segment), then by title and date.
  When two articles fit equally, the entry is reported, never guessed at.
* **Deciding** (:mod:`.deciding`) is pure (:func:`decide`): an explicit ``id`` in front
  matter wins, as it always does; an identity that has already appeared in a feed feedpub
  wrote is replaced only when forced; one old id never goes to two articles.
* **Storing** (:mod:`.command`: :func:`run`) writes the identities under the build lock, and
  has the next build read those articles again.

What an old feed is, to each step, is in :mod:`.feeds`.
"""

from __future__ import annotations

from feedpub.adopt.command import AdoptReport, run
from feedpub.adopt.deciding import STATUSES, Adoption, Outcome, Status, adopted_identity, decide
from feedpub.adopt.feeds import OldEntry, OldFeed, OldFormat, entry_id, printable, shown
from feedpub.adopt.matching import Match, match
from feedpub.adopt.parsing import parse_feed
from feedpub.adopt.reading import (
    CONNECT_SECONDS,
    FETCH_SECONDS,
    MAX_FEED_BYTES,
    PARSE_SECONDS,
    read_feeds,
    read_source,
)

__all__ = [
    "CONNECT_SECONDS",
    "FETCH_SECONDS",
    "MAX_FEED_BYTES",
    "PARSE_SECONDS",
    "STATUSES",
    "AdoptReport",
    "Adoption",
    "Match",
    "OldEntry",
    "OldFeed",
    "OldFormat",
    "Outcome",
    "Status",
    "adopted_identity",
    "decide",
    "entry_id",
    "match",
    "parse_feed",
    "printable",
    "read_feeds",
    "read_source",
    "run",
    "shown",
]
