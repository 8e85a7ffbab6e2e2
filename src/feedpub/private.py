"""What is never served, whatever the config says: a pure rule over relative paths, for the
output folder (:mod:`feedpub.output` re-exports it; the server and the build use it) and for
parsing (which files beside the articles an article may publish). It imports nothing of
feedpub's, so that the parser needs nothing of the output writer.
"""

from __future__ import annotations

import re

# Dotfiles and dot-folders (the marker, temporary files mid-write), temporaries, editor
# leftovers, locks, SQLite databases and their journals, the standby's ledger. One pattern for
# the built-in server (matched against the relative path) and for deploy/nginx.conf (against
# the URI): tests check they agree.
PRIVATE_PATTERN = (
    r"(?:^|/)\.|~$|\.(?:tmp|lock|swp|part|bak)$|\.(?:sqlite3?|db)(?:[-.][^/]*)?$"
    r"|-(?:wal|shm|journal)$|\.published\.json$"
)
_PRIVATE = re.compile(PRIVATE_PATTERN)


def servable(relpath: str) -> bool:
    """Whether a file of the output folder may be served (see :data:`PRIVATE_PATTERN`)."""
    return _PRIVATE.search(relpath) is None
