"""Secrets kept out of what people read: logs, ``feedpub status``, ``/status``, errors.

One rule for every URL shown: its password and the values of its query are replaced by
``***`` (a token or a password travels in either: ``https://hub/?token=…``,
``postgresql://u@h/db?password=…``). A libpq connection string (``host=h password=p``) has
its password hidden too. Paths are shown as they are.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

HIDDEN = "***"
# a libpq key/value connection string's password (quoted or not): bounded, no backtracking
_DSN_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def shown_url(url: str) -> str:
    """``url`` with its password and its query's values replaced by ``***``."""
    if "://" not in url:
        return _DSN_PASSWORD.sub(rf"\g<1>{HIDDEN}", url)
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            creds, host = netloc.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            netloc = f"{user}:{HIDDEN}@{host}" if ":" in creds else f"{user}@{host}"
        query = parts.query
        if query:
            query = urlencode(
                [(k, HIDDEN) for k, _ in parse_qsl(query, keep_blank_values=True)], safe="*"
            )
        # (joined by hand: urlunsplit drops the "//" of an empty host, as in "postgresql:///db")
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    except ValueError:  # (not a URL: shown as nothing that could hold a secret)
        return "(not a URL)"


def shown_location(target: Path | str) -> str:
    """Where the state store is, fit for a message: a file's path, or a URL's (hidden)."""
    return str(target) if isinstance(target, Path) else shown_url(target)
