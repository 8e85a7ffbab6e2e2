"""``feedpub adopt`` itself: read the old feeds, settle the articles as the next build
would, match, decide, and store the identities under the build lock (:func:`run`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedpub.adopt.deciding import STATUSES, Adoption, Outcome, Status, decide, how_matched
from feedpub.adopt.feeds import OldFeed, OldFormat, shown
from feedpub.adopt.matching import match
from feedpub.adopt.reading import read_feeds
from feedpub.config import Config
from feedpub.errors import ConfigError
from feedpub.identity import atom_id_keys, resolve
from feedpub.model import Article, ArticleMeta, Identity
from feedpub.store import State

log = logging.getLogger(__name__)

_FORMAT_NAMES: dict[OldFormat, str] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptReport:
    """What ``feedpub adopt`` read, did (or, dry, would do) and why."""

    feeds: tuple[OldFeed, ...]
    errors: tuple[str, ...]  # one line per feed that could not be read
    outcomes: tuple[Outcome, ...]
    dry_run: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def lines(self) -> list[str]:
        """The report, one line each: what was read, then ``<status> <subject>: <detail>``
        (articles by path, then entries in their feeds' order), then the counts."""
        out = [
            f"read {feed.source}: {_FORMAT_NAMES[feed.format]} feed "
            f"{shown(feed.title, 60) if feed.title else '(untitled)'}, "
            f"{len(feed.entries)} entr{'y' if len(feed.entries) == 1 else 'ies'}"
            for feed in self.feeds
        ]
        articles = sorted(
            (o for o in self.outcomes if o.status not in ("unmatched", "ambiguous", "skipped")),
            key=lambda o: o.subject,
        )
        entries = [o for o in self.outcomes if o.status in ("unmatched", "ambiguous", "skipped")]
        for o in [*articles, *entries]:
            label = "would adopt" if self.dry_run and o.status == "adopted" else o.status
            out.append(f"{label:<11} {o.subject}: {o.detail}")
        entries_read = sum(len(f.entries) for f in self.feeds)
        counts = [
            f"{n} {'to adopt' if self.dry_run and s == 'adopted' else s}"
            + (" (--force replaces them)" if s == "refused" else "")
            for s in STATUSES
            if (n := self.count(s))
        ]
        out.append(
            f"{entries_read} entr{'y' if entries_read == 1 else 'ies'} in {len(self.feeds)} "
            f"feed{'' if len(self.feeds) == 1 else 's'}"
            + (f": {', '.join(counts)}" if counts else "")
            + ("; dry run: nothing stored" if self.dry_run else "")
        )
        return out


def _adopted_detail(a: Article, adoption: Adoption) -> str:
    ident = adoption.identity
    ids = f"id {shown(a.id)}" + (f", Atom id {shown(a.atom_id)}" if a.atom_id != a.id else "")
    was = f"; was {shown(adoption.before.article_id)}" if adoption.before else ""
    first = ident.first_seen.astimezone(UTC).isoformat()
    return f"{ids}, first seen {first}{was} ({how_matched(adoption.matches)})"


def run(
    config: Config,
    sources: Sequence[str],
    *,
    now: datetime,
    force: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
) -> AdoptReport:
    """Read the old feeds, match their entries to the articles, and store the identities to
    adopt (unless ``dry_run``). Feeds that cannot be read are reported in the result."""
    from feedpub.articles.discover import excluding, scan
    from feedpub.build import Builder
    from feedpub.locks import build_lock

    feeds, errors = read_feeds(sources, workers=1 if workers is None or workers > 0 else 0)
    if not feeds:
        return AdoptReport(feeds=(), errors=tuple(errors), outcomes=(), dry_run=dry_run)
    articles_dir = config.paths.articles
    if not articles_dir.is_dir():
        raise ConfigError(
            f"the articles folder {articles_dir} does not exist", key="paths.articles"
        )
    with Builder(config, workers=workers) as builder:
        stats, _ = excluding(scan(articles_dir, []), config.paths.exclude)
        rows = [r for batch in builder.parse_files(list(stats.items())) for r in batch]
    metas = [r.meta for r in rows if r.meta is not None]
    target = config.state_target
    if dry_run and isinstance(target, Path) and not target.exists():  # (not created)
        adoptions, outcomes, final = _settle(config, None, feeds, metas, set(stats), now, force)
        return _report(feeds, errors, adoptions, outcomes, final, dry_run)
    # one writer at a time: a build (of a daemon too) waits, and then reads these files again
    with (
        contextlib.nullcontext() if dry_run else build_lock(config.paths.state),
        State(target) as state,
    ):
        adoptions, outcomes, final = _settle(config, state, feeds, metas, set(stats), now, force)
        if adoptions and not dry_run:
            with state.transaction():
                state.put_identities(a.identity for a in adoptions)
                state.reread(a.path for a in adoptions)
            log.info("adopted the old ids of %d articles", len(adoptions))
    return _report(feeds, errors, adoptions, outcomes, final, dry_run)


def _report(
    feeds: Sequence[OldFeed],
    errors: Sequence[str],
    adoptions: Sequence[Adoption],
    outcomes: Sequence[Outcome],
    final: Mapping[str, Article],
    dry_run: bool,
) -> AdoptReport:
    done = [
        Outcome(status="adopted", subject=a.path, detail=_adopted_detail(final[a.path], a))
        for a in adoptions
    ]
    return AdoptReport(
        feeds=tuple(feeds),
        errors=tuple(errors),
        outcomes=(*done, *outcomes),
        dry_run=dry_run,
    )


def _settle(
    config: Config,
    state: State | None,
    feeds: Sequence[OldFeed],
    metas: Sequence[ArticleMeta],
    files: set[str],
    now: datetime,
    force: bool,
) -> tuple[list[Adoption], list[Outcome], dict[str, Article]]:
    """Settle the articles as the next build would, match, decide; and the adopted articles
    as the build after adopting will publish them (their ids in every format)."""
    site = config.site
    stored_all = state.identities() if state is not None else {}
    paths = {m.path for m in metas}
    known = {p: i for p, i in stored_all.items() if p in paths}
    new_hashes = [m.content_hash for m in metas if m.path not in known]
    orphans = state.orphans_for(new_hashes) if state is not None and new_hashes else {}
    # slugs of files that are there but do not parse now stay theirs
    taken = {i.slug for p, i in stored_all.items() if i.live and p in files and p not in paths}

    def settle(
        batch: Sequence[ArticleMeta],
        idents: Mapping[str, Identity],
        orphans: Mapping[str, Identity],
    ) -> tuple[dict[str, Article], dict[str, Identity]]:
        keys = atom_id_keys(batch, [*idents.values(), *orphans.values()])
        settled = resolve(
            batch,
            idents,
            orphans=orphans,
            taken=taken,
            now=now,
            tz=site.tz,
            host=site.host,
            article_url=site.article_url,
            base_url=site.base_url,
            atom_ids=state.atom_ids_for(keys) if state is not None else {},
            language=site.language,
        )
        return (
            {a.path: a for a in settled.articles},
            {**idents, **{i.path: i for i in settled.identities}},
        )

    articles, identities = settle(metas, known, orphans)
    last_build = state.get("last_build") if state is not None else None
    wrote = state is not None and last_build is not None and state.wrote_feeds()
    built = state.settled_ids(known) if state is not None and wrote else {}

    def published(path: str) -> bool:
        """Whether the article's id, as its stored identity gives it, has appeared in a feed
        feedpub wrote: a build settled it so (the index holds it) and published feeds. With
        no index to go by (a new schema emptied it), its identity was settled (first seen,
        or adopted) by the last build or before."""
        if not wrote or last_build is None:
            return False
        if path in built:
            return built[path] == articles[path].id
        ident = known[path]
        return (ident.adopted or ident.first_seen) <= datetime.fromisoformat(last_build)

    adoptions, outcomes = decide(
        match(feeds, articles.values(), site.tz),
        articles,
        identities,
        stored=known,
        published=published,
        now=now,
        force=force,
    )
    adopted = {a.path: a.identity for a in adoptions}
    final, _ = settle([m for m in metas if m.path in adopted], adopted, {})
    return adoptions, outcomes, final
