"""The composition root: builds each part from the config and wires them together.

The one clock lives here (tests replace it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from feedpub import config as config_mod
from feedpub.build import Builder, Progress
from feedpub.build import check as check_articles
from feedpub.config import Config
from feedpub.model import BuildResult, Problem


def clock() -> datetime:
    return datetime.now(UTC)


def load_config(path: Path) -> Config:
    return config_mod.load(path)


def build(
    config: Config,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] = clock,
) -> BuildResult:
    with Builder(config, clock=now, workers=workers) as builder:
        return builder.build(progress=progress)


def check(config: Config, *, now: Callable[[], datetime] = clock) -> tuple[int, list[Problem]]:
    return check_articles(config, clock=now)


STARTER_CONFIG = """\
# feedpub configuration. Every key is documented in the README.
[site]
title = "My Site"
base_url = "https://example.org/"
author = "Your Name"
language = "en"
timezone = "UTC"

[paths]
articles = "articles"
output = "public"

[feeds]
formats = ["atom", "rss", "json"]
max_entries = 20
content = "full"
"""

STARTER_ARTICLE = """\
---
title: Hello, world
date: {date}
categories: [News]
summary: The first article on this site.
---
This is an article in **Markdown**. Edit it, or add more files next to it, then run
`feedpub build`.
"""


def init(directory: Path) -> Iterator[tuple[Path, bool]]:
    """Create a starter config and articles folder; yield (path, created)."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "config.toml"
    if cfg.exists():
        yield cfg, False
    else:
        cfg.write_text(STARTER_CONFIG, encoding="utf-8")
        yield cfg, True
    articles = directory / "articles"
    articles.mkdir(exist_ok=True)
    first = articles / "hello-world.md"
    if first.exists():
        yield first, False
    else:
        today = clock().replace(microsecond=0).isoformat()
        first.write_text(STARTER_ARTICLE.format(date=today), encoding="utf-8")
        yield first, True
