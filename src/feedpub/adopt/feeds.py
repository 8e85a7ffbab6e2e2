"""What ``adopt`` knows of an old feed (:class:`OldFeed`, :class:`OldEntry`), and how text
from one is shown on a terminal (:func:`shown`)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

OldFormat = Literal["atom", "rss", "json"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OldEntry:
    """One entry of an old feed, as much of it as matching and keeping its id need."""

    id: str | None  # Atom id, RSS guid, JSON Feed id (None: an RSS item without a guid)
    link: str | None
    title: str  # text
    published: datetime | None  # published, else updated; aware, in the feed's own offset


@dataclass(frozen=True, slots=True, kw_only=True)
class OldFeed:
    source: str  # the file or URL it was read from, as given
    format: OldFormat
    title: str
    entries: tuple[OldEntry, ...]


def entry_id(entry: OldEntry) -> str | None:
    """The id readers know an entry by: its id; for an RSS item without a guid, its link
    (which readers take in its place)."""
    return entry.id or entry.link


_UNSAFE_SHOWN = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))


def printable(text: str) -> str:
    """Text fit for a terminal: controls and format characters (escape sequences, bidi
    overrides) escaped."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in _UNSAFE_SHOWN else c for c in text
    )


def shown(text: str, limit: int = 80) -> str:
    """Text from an old feed, fit for a terminal: quoted, :func:`printable`, long ones cut."""
    cut = text[:limit] if len(text) > limit else text
    return f'"{printable(cut)}{"..." if len(text) > limit else ""}"'
