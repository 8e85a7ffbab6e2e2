"""Planning the feeds from candidate articles: ordering, duplicate ids, category names
and merges, per-category overrides, pages, and the cutting of archives (RFC 5005). Pure:
``now`` is a parameter. :func:`feedpub.planning.plan` is the entry point."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from feedpub.model import (
    EPOCH,
    PUBLISHED_ONLY,
    Article,
    ContentMode,
    FeedSpec,
    Plan,
    Podcast,
    Problem,
    Severity,
    Showing,
)
from feedpub.planning.keys import (
    ALL_KEY,
    TAG_SUFFIX,
    feed_names,
    language_of_key,
    other_language,
)

if TYPE_CHECKING:  # (planning needs no config module at run time)
    from feedpub.config import FeedsConfig, SiteConfig

# (`updated` of a feed that has no entries is EPOCH)


ArchiveKey = tuple[int, str]  # (publication time in µs, entry id): the archive order


def archive_pages(
    keys: Sequence[ArchiveKey], *, size: int, sealed: Sequence[ArchiveKey] = ()
) -> tuple[list[tuple[int, int]], list[ArchiveKey]]:
    """Cut a feed's archived entries into archive documents (RFC 5005).

    ``keys`` are the sort keys of the entries that are no longer in the feed's subscription
    document, oldest first. Pages are cut from the oldest, ``size`` entries each; a page once
    full is *sealed*: ``sealed`` holds the key of the newest entry of each page sealed before
    (what the previous build returned), and a sealed page keeps its boundaries, so that a
    back-dated entry lands in the one page its date falls in and moves no other page's
    entries. Only the newest page fills up as entries leave the subscription document.

    Returns the pages as ``(start, end)`` slices of ``keys`` (page n is the n-th, from 1),
    and the boundaries to keep for the next time. A sealed page whose entries are all gone
    is dropped (later pages move down one number); from a page that grew past twice
    ``size`` (an import of old articles) on, pages are cut again by count.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    pages: list[tuple[int, int]] = []
    kept: list[ArchiveKey] = []
    start, n = 0, len(keys)
    for boundary in sealed:
        end = bisect_right(keys, boundary, lo=start)
        if end - start > 2 * size:
            # back-dated entries (an import of old articles) made it too large: cut again
            # by count from here
            break
        if end == start:  # every entry of this page is gone
            continue
        pages.append((start, end))
        kept.append(boundary)
        start = end
    while n - start >= size:
        end = start + size
        pages.append((start, end))
        kept.append(keys[end - 1])
        start = end
    if start < n:
        pages.append((start, n))  # the newest page, not full yet
    return pages, kept


def _newest_first(articles: Iterable[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.date, a.id), reverse=True)


def duplicate_losers(
    claims: Iterable[tuple[str, str, datetime]],
) -> tuple[set[str], list[Problem]]:
    """Given (id, path, when) claims, the paths left out so that no id appears twice.

    The article with the earliest ``when`` (the build passes when each was first seen) keeps
    the id (then the first by path); each other one is reported, naming both files.
    """
    by_id: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for ident, path, date in claims:
        by_id[ident].append((date, path))
    losers: set[str] = set()
    problems: list[Problem] = []
    for ident, group in by_id.items():
        if len(group) < 2:
            continue
        group.sort()
        keeper = group[0][1]
        for _, path in group[1:]:
            if path in losers or path == keeper:
                continue  # (reported already: its id and its Atom id may both collide)
            losers.add(path)
            problems.append(
                Problem(
                    path=path,
                    message=f"duplicate id {ident!r}: {keeper} already has it; "
                    f"{path} is left out of every feed (give it its own id)",
                )
            )
    return losers, problems


def merged_categories(
    spellings: Iterable[tuple[str, str, int, str]],
) -> tuple[dict[str, str], list[Problem]]:
    """(key, name, count, first path) → each key's display name, and a warning per merge.

    The most used spelling names the feed (ties: the first alphabetically).
    """
    by_key: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for key, name, count, path in spellings:
        by_key[key].append((-count, name, path))
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for key, group in by_key.items():
        group.sort()
        names[key] = group[0][1]
        for _, other, path in group[1:]:
            problems.append(
                Problem(
                    path=path,
                    message=f"category {other!r} is merged into {names[key]!r}: "
                    f"both make the feed name {key!r}",
                    severity=Severity.WARNING,
                )
            )
    return names, problems


def _members(
    articles: Iterable[Article], site_language: str, *, tags: bool = False
) -> tuple[dict[str, list[Article]], list[tuple[str, str, int, str]]]:
    """Articles by feed key (order kept), and (key, name, count, first path) spellings."""
    members: dict[str, list[Article]] = defaultdict(list)
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], str] = {}
    for a in articles:
        for key, name in feed_names(a.meta, site_language, tags=tags):
            counts[(key, name)] += 1
            first.setdefault((key, name), a.path)
            if not members[key] or members[key][-1] is not a:
                members[key].append(a)
    spellings = [(k, n, c, first[(k, n)]) for (k, n), c in counts.items()]
    return members, spellings


def plan_candidates(
    articles: Iterable[Article],
    *,
    site: SiteConfig,
    feeds: FeedsConfig,
    now: datetime,
    known_feeds: Mapping[str, str] | None = None,
    category_names: Mapping[str, str] | None = None,
    showing: Showing = PUBLISHED_ONLY,
) -> Plan:
    """Plan every feed, and the article pages the feeds link to.

    ``articles`` may be the whole corpus, or (as the builder does) only the candidates: the
    newest visible articles of each feed, found by the state store's index. ``category_names``
    (key → display name), when given, was worked out over the whole corpus and is used as is;
    otherwise names, merges and duplicate ids are worked out (and reported) from ``articles``.
    ``known_feeds`` (key → name) are feeds published before: one that lost its last article
    stays, empty, so its subscribers get a valid feed rather than a 404. ``showing``: what
    the preview shows beyond what is live ``now`` (future-dated articles).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    live_until = showing.live_until(now)
    problems: list[Problem] = []
    visible: list[Article] = []
    scheduled: list[Article] = []
    drafts = 0
    for a in articles:
        if a.meta.draft or (a.meta.expires is not None and a.meta.expires <= now):
            drafts += 1  # (an expired article is out of every feed, as a draft is)
        elif a.date > live_until:
            scheduled.append(a)
        else:
            visible.append(a)
    losers, dup_problems = duplicate_losers((a.id, a.path, a.date) for a in visible)
    problems += dup_problems
    visible = _newest_first(a for a in visible if a.path not in losers)
    next_go_live = min((a.date for a in scheduled), default=None)

    members, spellings = _members(visible, site.language, tags=feeds.tags)
    if category_names is None:
        names, merge_problems = merged_categories(spellings)
        problems += merge_problems
    else:
        names = {k: category_names.get(k, n) for k, n in merged_categories(spellings)[0].items()}
        names.update(category_names)
    for key, name in (known_feeds or {}).items():
        if key != ALL_KEY and (feeds.tags or not key.endswith(TAG_SUFFIX)):
            names.setdefault(key, name)  # (tag feeds go with [feeds] tags = false)

    own = [a for a in visible if other_language(a.meta.lang, site.language) is None]
    top = tuple(own[: feeds.max_entries])
    specs = [
        FeedSpec(
            key=ALL_KEY,
            title=site.title,
            category=None,
            content=feeds.content,
            entries=top,
            updated=max((a.updated for a in top), default=EPOCH),
        )
    ]
    for key in sorted(names):
        name = names[key]
        lang = language_of_key(key)
        title = f"{site.title}: {name}"
        category: str | None = name
        content: ContentMode | None = None
        limit: int | None = None
        podcast: Podcast | None = None
        if lang is not None:  # the articles in another language (translations)
            title, category = f"{site.title} ({lang})", None
        elif not key.endswith(TAG_SUFFIX):  # a category's feed (a tag's takes no override)
            override = feeds.for_category(name)
            title = f"{site.title}: {override.title or name}"
            content, limit, podcast = override.content, override.max_entries, override.podcast
        entries = tuple(members.get(key, ())[: limit or feeds.max_entries])
        specs.append(
            FeedSpec(
                key=key,
                title=title,
                category=category,
                content=content or feeds.content,
                entries=entries,
                updated=max((a.updated for a in entries), default=EPOCH),
                podcast=podcast,
                language=lang,
            )
        )

    pages: tuple[Article, ...] = ()
    if feeds.article_pages:
        linked = {a.path: a for spec in specs for a in spec.entries if a.meta.link is None}
        pages = tuple(linked[p] for p in sorted(linked))
    return Plan(
        feeds=tuple(specs),
        pages=pages,
        problems=tuple(problems),
        next_go_live=next_go_live,
        published=len(visible),
        scheduled=len(scheduled),
        drafts=drafts,
    )
