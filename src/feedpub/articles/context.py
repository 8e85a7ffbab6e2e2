"""What parsing needs from the configuration (a light module: no parser imports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseContext:
    tz: tzinfo
    base_url: str
    max_bytes: int = 2_000_000
