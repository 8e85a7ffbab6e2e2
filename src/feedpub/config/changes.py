"""What a reloaded config changes, and what of it a running daemon can take.

``feedpub run`` reloads config.toml on SIGHUP. The site, the feeds and the notifications
take effect at once (the next build renders with them; the notifier restarts with them).
Sections that decide what the daemon *is* (where it listens, which folders and state store
it owns, its timers, the hub it runs) keep their running values until a restart, and the
reload says which of their keys changed, in one line.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any

from feedpub.config.sections import Config

# sections a running daemon keeps as it started with them
RESTART_ONLY = ("paths", "server", "schedule", "hub", "state", "admin")


def changed_keys(old: Config, new: Config) -> list[str]:
    """The dotted names of the settings that differ (``site.title``, ``feeds.max_entries``)."""
    found: list[str] = []
    for f in fields(Config):
        if f.name in ("source", "warnings"):
            continue
        _diff(f.name, _plain(getattr(old, f.name)), _plain(getattr(new, f.name)), found)
    return found


def live(old: Config, new: Config) -> tuple[Config, list[str], list[str]]:
    """The config a running daemon goes on with: ``new``, but with the restart-only sections
    as they were. Also the keys that took effect and those that wait for a restart."""
    changed = changed_keys(old, new)
    waiting = [k for k in changed if k.split(".", 1)[0] in RESTART_ONLY]
    taken = [k for k in changed if k not in waiting]
    kept: dict[str, Any] = {name: getattr(old, name) for name in RESTART_ONLY}
    return replace(new, **kept), taken, waiting


def _plain(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        return asdict(value)  # type: ignore[call-overload]
    except TypeError:
        return value


def _diff(prefix: str, old: object, new: object, found: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            _diff(f"{prefix}.{key}", old.get(key), new.get(key), found)
    elif old != new:
        found.append(prefix)
