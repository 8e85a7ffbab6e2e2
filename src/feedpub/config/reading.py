"""The config file → TOML → a :class:`Config`, one section after another."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from feedpub.config.checks import KeyPath, Report, Section, placeholder_host
from feedpub.config.lines import key_lines
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
from feedpub.errors import ConfigError, ConfigProblem

DEFAULT_CONFIG_NAME = "config.toml"


def from_mapping(
    data: Mapping[str, object],
    *,
    base_dir: Path,
    source: Path | None = None,
    lines: Mapping[KeyPath, int] | None = None,
) -> Config:
    """Validate already-parsed TOML data. Relative paths resolve against ``base_dir``.

    Every section is read whole, and every problem found is raised at the end, in one
    :class:`ConfigError` (``problems``), each with its line from ``lines`` (see
    :func:`.lines.key_lines`) when given."""
    report = Report(lines or {}, source)
    root = Section(data, (), report)
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
    check_output(paths, state, report)
    report.raise_if_any()
    warnings: list[ConfigProblem] = []
    host = placeholder_host(site.base_url)
    if host is not None:
        warnings.append(
            ConfigProblem(
                "site.base_url",
                f"{host} is a placeholder, not a real site's address: entry ids derived "
                f"while it is set keep {host} for good (ids never change); set base_url to "
                "the address readers will use",
                (lines or {}).get(("site", "base_url")),
                severity="warning",
            )
        )
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
        warnings=tuple(warnings),
    )


_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


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
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"not UTF-8 (byte {e.start})", path=path, line=raw.count(b"\n", 0, e.start) + 1
        ) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # tomllib says where: "... (at line 3, column 5)"; the line goes where every line goes
        found = _TOML_AT.search(str(e))
        message = _TOML_AT.sub("", str(e))
        column = f" (column {found[2]})" if found else ""
        raise ConfigError(
            f"invalid TOML: {message}{column}", path=path, line=int(found[1]) if found else None
        ) from e
    return from_mapping(
        data, base_dir=path.resolve().parent, source=path, lines=key_lines(text, data)
    )
