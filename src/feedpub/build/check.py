"""``feedpub check``: every article parsed, settled and planned as a build would, nothing
written."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from feedpub.articles.discover import excluding, scan
from feedpub.build.builder import Builder
from feedpub.clock import utcnow
from feedpub.config import Config
from feedpub.errors import (
    ConfigError,
)
from feedpub.identity import atom_id_keys, resolve
from feedpub.model import (
    ArticleMeta,
    Identity,
    Problem,
    SkippedFile,
)
from feedpub.planning import (
    MemoryCorpus,
    plan,
)
from feedpub.store import State

log = logging.getLogger(__name__)


def check(
    config: Config, *, clock: Callable[[], datetime] = utcnow, workers: int | None = None
) -> tuple[int, list[Problem], list[SkippedFile]]:
    """Parse and plan every article without writing anything: (article count, problems, files
    named like articles that were skipped)."""
    articles_dir = config.paths.articles
    if not articles_dir.is_dir():
        raise ConfigError(
            f"the articles folder {articles_dir} does not exist", key="paths.articles"
        )
    now = clock()
    with Builder(config, clock=clock, workers=workers) as builder:
        skipped: list[SkippedFile] = []
        stats, _ = excluding(scan(articles_dir, skipped), config.paths.exclude)
        rows = [r for batch in builder.parse_files(list(stats.items())) for r in batch]
    problems = [p for r in rows for p in r.problems]
    metas = [r.meta for r in rows if r.meta is not None]
    # settled as the build would settle them: against the stored identities (files gone
    # since the last build give theirs up first, as the build retires them)
    stored: dict[str, Identity] = {}
    orphans: dict[str, Identity] = {}
    atom_ids: dict[str, str] = {}
    if not isinstance(config.state_target, Path) or config.state_target.exists():
        with State(config.state_target) as state:
            stored = state.identities()
            orphans = _check_orphans(stored, stats, metas)
            atom_ids = state.atom_ids_for(
                atom_id_keys(metas, [*stored.values(), *orphans.values()])
            )
    known = {m.path: stored[m.path] for m in metas if m.path in stored}
    parsed = {m.path for m in metas}
    resolved = resolve(
        metas,
        known,
        orphans=orphans,
        taken={i.slug for i in stored.values() if i.live and i.path in stats}
        - {known[p].slug for p in parsed if p in known},
        now=now,
        tz=config.site.tz,
        host=config.site.host,
        article_url=config.site.article_url,
        base_url=config.site.base_url,
        language=config.site.language,
        atom_ids=atom_ids,
    )
    first_seen = {i.path: i.first_seen for i in (*known.values(), *resolved.identities)}
    corpus = MemoryCorpus(
        resolved.articles,
        site_language=config.site.language,
        tags=config.feeds.tags,
        first_seen=first_seen,
    )
    the_plan = plan(corpus, site=config.site, feeds=config.feeds, now=now)
    problems += list(resolved.problems) + list(the_plan.problems)
    return len(stats), sorted(problems, key=lambda p: (p.path, p.line or 0, p.message)), skipped


def _check_orphans(
    stored: Mapping[str, Identity], present: Mapping[str, object], metas: Sequence[ArticleMeta]
) -> dict[str, Identity]:
    """content hash → identity of a file gone (retired, or gone since the last build), for
    the parsed files that have no identity of their own: the moved files."""
    new_hashes = {m.content_hash for m in metas if m.path not in stored}
    out: dict[str, Identity] = {}
    for ident in sorted(stored.values(), key=lambda i: i.path):
        if (not ident.live or ident.path not in present) and ident.content_hash in new_hashes:
            out.setdefault(ident.content_hash, ident)
    return out
