"""The one clock: what "now" is, in UTC. ``app.py`` hands it to every part (builder, daemon,
notifier, hub); a part given no clock uses this one; tests pass their own."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
