"""Settling each article's permanent id, slug, date and URL. Pure: state in, state out.

* An explicit ``id`` wins. Otherwise an id is derived once, when the article is first seen
  (``tag:<host>,<date>:<slug>``, RFC 4151), stored, and never derived again: editing the title,
  touching the file, a rebuild from scratch or a restart leave it alone.
* A moved or renamed file (same bytes at a new path, old path gone) keeps its identity, and so
  does a deleted file that comes back.
* Slugs come from ``slug``, else the file name (without a ``YYYY-MM-DD-`` prefix); two articles
  never share one (the later one gets ``-2``, ``-3``...), and a slug once given is kept.
* No date: the file name's, else the first-seen time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from feedpub.articles.dates import date_from_filename
from feedpub.model import Article, ArticleMeta, Problem, Severity
from feedpub.slug import slugify
from feedpub.state import Identity


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    articles: tuple[Article, ...]  # every live, parsed article (drafts and future ones included)
    identities: tuple[Identity, ...]  # new or changed identities to store
    problems: tuple[Problem, ...]


def _stem_slug(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    if date_from_filename(stem + "-", UTC) is not None:
        stem = stem[11:] or stem
    return slugify(stem, fallback_prefix="article")


def _unique(base: str, taken: set[str]) -> str:
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def derived_id(host: str, day: str, slug: str) -> str:
    return f"tag:{host},{day}:{slug}"


def resolve(
    metas: Iterable[ArticleMeta],
    identities: Mapping[str, Identity],
    *,
    now: datetime,
    tz: tzinfo,
    host: str,
    article_url: str,
    base_url: str,
) -> Resolved:
    metas = sorted(metas, key=lambda m: m.path)
    live_paths = {m.path for m in metas}
    changed: dict[str, Identity] = {}
    problems: list[Problem] = []

    # Identities of paths that are gone can be adopted by a file with the same bytes.
    orphans: dict[str, Identity] = {}
    for known in identities.values():
        if known.path not in live_paths:
            if known.live:
                changed[known.path] = known = replace(known, live=False)  # noqa: PLW2901
            if known.content_hash:
                orphans.setdefault(known.content_hash, known)

    taken = {i.slug for p, i in identities.items() if p in live_paths}
    current: dict[str, Identity] = {}
    for meta in metas:
        ident: Identity | None = identities.get(meta.path)
        if ident is None and meta.content_hash in orphans:
            old = orphans.pop(meta.content_hash)
            ident = replace(old, path=meta.path, live=True)
            changed[old.path] = replace(old, live=False, content_hash="")
            if ident.slug in taken:  # a new article took the slug while this one was away
                ident = replace(ident, slug=_unique(ident.slug, taken))
            taken.add(ident.slug)
        if ident is None:
            slug = _unique(meta.slug or _stem_slug(meta.path), taken)
            taken.add(slug)
            when = meta.date or date_from_filename(meta.path.rsplit("/", 1)[-1], tz) or now
            ident = Identity(
                path=meta.path,
                article_id=derived_id(host, when.astimezone(tz).date().isoformat(), slug),
                slug=slug,
                first_seen=now,
                content_hash=meta.content_hash,
            )
        if meta.slug and meta.slug != ident.slug:
            if meta.slug in taken:
                problems.append(
                    Problem(
                        path=meta.path,
                        message=f"slug {meta.slug!r} is already used by another article; "
                        f"keeping {ident.slug!r}",
                        severity=Severity.WARNING,
                    )
                )
            else:
                taken.discard(ident.slug)
                taken.add(meta.slug)
                ident = replace(ident, slug=meta.slug)
        if not ident.live or ident.content_hash != meta.content_hash:
            ident = replace(ident, live=True, content_hash=meta.content_hash)
        if identities.get(meta.path) != ident:
            changed[meta.path] = ident
        current[meta.path] = ident

    articles: list[Article] = []
    for meta in metas:
        ident = current[meta.path]
        date = meta.date or date_from_filename(meta.path.rsplit("/", 1)[-1], tz) or ident.first_seen
        articles.append(
            Article(
                meta=meta,
                date=date,
                id=meta.id or ident.article_id,
                slug=ident.slug,
                url=meta.link or article_url.format(base_url=base_url, slug=ident.slug),
            )
        )
    return Resolved(
        articles=tuple(articles), identities=tuple(changed.values()), problems=tuple(problems)
    )
