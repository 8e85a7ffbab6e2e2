"""The build: scan → index (parse what changed) → settle identities → plan → render → write.

O(changed): unchanged files come from the index (path, size, mtime); a feed whose inputs are
unchanged (same fingerprint) and whose file on disk is intact is not rendered again; a body is
rendered only when a feed or page that shows it is rendered. Parsing and body rendering use
every core on large batches. Where a change goes:

``builder.py``  the phases in order (detect, index, plan, render, write, commit) and what
                each hands the next
``sources.py``  reading an article file and parsing it (in worker processes)
``index.py``    parsing changed files in batches and settling their identities
``render.py``   what to render again, and rendering it (feeds, archives, pages, index)
``makers.py``   feed documents made lazily within the body budget; archive fingerprints
``write.py``    writing what differs, copying media, the manifest, bytes for standbys
``check.py``    ``feedpub check``
``values.py``   the values the phases pass each other
"""

from __future__ import annotations

from feedpub.build.builder import Builder
from feedpub.build.check import check
from feedpub.build.values import Progress
from feedpub.build.write import output_manifest
from feedpub.clock import utcnow

__all__ = ["Builder", "Progress", "check", "output_manifest", "utcnow"]
