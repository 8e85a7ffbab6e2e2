"""The config file → TOML → a :class:`Config`, one section after another."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from feedpub.config.checks import Section
from feedpub.config.paths import check_output, read_paths, read_state
from feedpub.config.sections import Config
from feedpub.config.services import (
    read_admin,
    read_hub,
    read_notify,
    read_schedule,
    read_server,
)
from feedpub.config.site import read_feeds, read_site
from feedpub.errors import ConfigError

DEFAULT_CONFIG_NAME = "config.toml"


def from_mapping(
    data: Mapping[str, object], *, base_dir: Path, source: Path | None = None
) -> Config:
    """Validate already-parsed TOML data. Relative paths resolve against ``base_dir``."""
    root = Section(data, "", source)
    site = read_site(root)
    paths = read_paths(root, base_dir)
    feeds = read_feeds(root, site, base_dir, paths)
    notify = read_notify(root)
    hub = read_hub(root)
    server = read_server(root)
    admin = read_admin(root, server)
    schedule = read_schedule(root)
    state = read_state(root)
    root.done()
    check_output(paths, state, source)
    return Config(
        site=site,
        paths=paths,
        feeds=feeds,
        notify=notify,
        hub=hub,
        server=server,
        admin=admin,
        schedule=schedule,
        state=state,
        source=source,
    )


def load(path: Path | str = DEFAULT_CONFIG_NAME) -> Config:
    """Read and validate a config file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError("no such file (try `feedpub init`)", path=path) from e
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", path=path) from e
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 (byte {e.start})", path=path) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", path=path) from e
    return from_mapping(data, base_dir=path.resolve().parent, source=path)
