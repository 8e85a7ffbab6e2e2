"""Slugs: Unicode-aware, safe as a file name on every OS, bounded, never a path."""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_SLUG_CHARS = 80
MAX_SLUG_BYTES = 180  # well under the 255-byte name limit, with room for ".atom.xml"

# Names Windows will not create, whatever the extension.
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)]
)
_NOT_WORD = re.compile(r"[^\w]+")
_DASHES = re.compile(r"-{2,}")


def slugify(text: str, *, fallback_prefix: str = "item") -> str:
    """``text`` as a lowercase slug of letters, digits, ``-`` and ``_``; never empty.

    Letters of every script are kept (``Café Culture`` → ``café-culture``, ``日本`` → ``日本``).
    Text with no letters or digits gets a stable hash-based slug.
    """
    norm = unicodedata.normalize("NFKC", text).casefold()
    slug = _NOT_WORD.sub("-", norm)
    slug = _DASHES.sub("-", slug).strip("-_")
    if len(slug) > MAX_SLUG_CHARS or len(slug.encode()) > MAX_SLUG_BYTES:
        slug = _truncate(slug)
    if not slug:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        return f"{fallback_prefix}-{digest}"
    if slug in _WINDOWS_RESERVED:
        slug = f"{slug}-{fallback_prefix}"
    return slug


def _truncate(slug: str) -> str:
    out = slug[:MAX_SLUG_CHARS]
    while len(out.encode()) > MAX_SLUG_BYTES:
        out = out[:-1]
    # cut at a word boundary when one is near
    cut = out.rfind("-")
    if cut > len(out) // 2:
        out = out[:cut]
    return out.strip("-_")
