"""The values the build's phases hand each other."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from feedpub.articles.discover import FileStat
from feedpub.build.memo import Memo, Recall
from feedpub.model import (
    Member,
    OutputRecord,
    Plan,
    Problem,
    SkippedFile,
)

log = logging.getLogger(__name__)

BATCH = 2000  # files parsed, settled and stored at a time: memory stays bounded
# kv: output paths a build is writing that the manifest does not list yet (they are
# feedpub's: a build that stops before recording them must not take them for someone else's)
CLAIMS = "output_claims"
# progress(stage, done, total): a stage ("parse", "render", "write") that has work reports
# (0, total) when it starts, (done, total) now and then, and (total, total) when it is done;
# how to show it is the CLI's business
Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 50  # files between two reports of a stage


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    relpath: str
    data: bytes
    fingerprint: str
    kind: str
    feed_key: str | None
    copy: bool = False  # no ``data``: a file beside the articles, copied a chunk at a time


@dataclass(frozen=True, slots=True, kw_only=True)
class Detected:
    """What the first phase found: the changed and removed article files, and the output
    manifest as the last build left it."""

    config_fp: str
    full: bool  # the whole folder was scanned (not only the paths a watcher named)
    changed: list[tuple[str, FileStat]]
    removed: list[str]
    articles: int
    outputs: dict[str, OutputRecord]
    claims: set[str]  # paths a stopped build was writing
    skipped: tuple[SkippedFile, ...]
    not_articles: tuple[tuple[str, int], ...]
    excluded: int
    memo: Memo  # (``outputs`` is its manifest)


@dataclass(frozen=True, slots=True, kw_only=True)
class Work:
    """What the plan phase decided to render: feeds, archives, pages, and the problems so
    far (later phases add theirs)."""

    plan: Plan
    archives: dict[str, list[list[Member]]]
    sealed: str  # the archive page boundaries to keep
    pages: list[str]  # the articles whose page is rendered (loaded a batch at a time)
    carried: set[str]  # article paths whose page stays as it is
    translations: dict[str, list[tuple[str, str]]]
    linked: dict[str, str]
    media: set[str]
    problems: list[Problem]
    recall: Recall  # (what the plan asked and loaded of the store: kept for the next build)


# (written relpaths, changed feed URLs, manifest records, changed bytes for standbys)
Wrote = tuple[list[str], list[str], list[OutputRecord], list[tuple[str, str, bytes | None]]]
