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
# Runs of characters that are not letters, digits, "_" or combining marks (which scripts such as
# Devanagari and Arabic need inside words; \w alone would split हिन्दी).
_NOT_WORD = re.compile(
    r"[^\w\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2"
    r"\u05c4\u05c5\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc"
    r"\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u0900-\u0903\u093a-\u094f"
    r"\u0951-\u0957\u0962\u0963\u0981-\u0983\u09bc-\u09d7\u0a01-\u0a03"
    r"\u0a3c-\u0a51\u0a81-\u0a83\u0abc-\u0acd\u0b01-\u0b03\u0b3c-\u0b57"
    r"\u0b82\u0bbe-\u0bcd\u0bd7\u0c00-\u0c04\u0c3c-\u0c56\u0c81-\u0c83"
    r"\u0cbc-\u0cd6\u0d00-\u0d03\u0d3b-\u0d57\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
    r"\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
    r"\ufe20-\ufe2f]+"
)
_DASHES = re.compile(r"-{2,}")


def slugify(text: str, *, fallback_prefix: str = "item") -> str:
    """``text`` as a lowercase slug of letters, digits, ``-`` and ``_``; never empty.

    Letters of every script are kept (``Café Culture`` → ``café-culture``, ``日本`` → ``日本``).
    Text with no letters or digits gets a stable hash-based slug.
    """
    # NFKC again after casefolding, which can leave sequences NFKC would compose (ß́ → ss + ́)
    norm = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
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
