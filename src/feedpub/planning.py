"""Pure planning: (articles, config, now) → which feeds hold which entries, which pages exist.

Nothing here reads the clock, the disk or the network; ``now`` is a parameter.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from feedpub.config import FeedsConfig, SiteConfig
from feedpub.model import Article, FeedSpec, Plan, Problem, Severity
from feedpub.slug import slugify

ALL_KEY = "all"
RESERVED_KEYS = frozenset([ALL_KEY, "index"])
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # `updated` of a feed that has no entries


def category_key(name: str) -> str:
    """The slug a category's feed files are named after (never ``all`` or ``index``)."""
    key = slugify(name, fallback_prefix="category")
    return f"{key}-category" if key in RESERVED_KEYS else key


def _newest_first(articles: Iterable[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.date, a.id), reverse=True)


def _drop_duplicate_ids(articles: list[Article], problems: list[Problem]) -> list[Article]:
    """Keep one article per id (the oldest, then the first by path); report the rest."""
    by_id: dict[str, list[Article]] = defaultdict(list)
    for a in articles:
        by_id[a.id].append(a)
    keep: list[Article] = []
    for group in by_id.values():
        group.sort(key=lambda a: (a.date, a.path))
        keep.append(group[0])
        for dup in group[1:]:
            problems.append(
                Problem(
                    path=dup.path,
                    message=f"duplicate id {dup.id!r}: {group[0].path} already has it; "
                    f"{dup.path} is left out of every feed (give it its own id)",
                )
            )
    return keep


def _category_names(
    articles: Iterable[Article], problems: list[Problem]
) -> tuple[dict[str, str], dict[str, list[Article]]]:
    """Group articles by category key; two names that slug alike are merged and reported."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    members: dict[str, list[Article]] = defaultdict(list)
    first_user: dict[tuple[str, str], str] = {}
    for a in articles:
        for name in a.meta.categories:
            key = category_key(name)
            spellings[key][name] += 1
            first_user.setdefault((key, name), a.path)
            if not members[key] or members[key][-1] is not a:
                members[key].append(a)
    names: dict[str, str] = {}
    for key, counts in spellings.items():
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        names[key] = ranked[0][0]
        for other, _ in ranked[1:]:
            problems.append(
                Problem(
                    path=first_user[(key, other)],
                    message=f"category {other!r} is merged into {ranked[0][0]!r}: "
                    f"both make the feed name {key!r}",
                    severity=Severity.WARNING,
                )
            )
    return names, members


def plan(
    articles: Iterable[Article],
    *,
    site: SiteConfig,
    feeds: FeedsConfig,
    now: datetime,
    known_feeds: Mapping[str, str] | None = None,
    keep_pages: frozenset[str] = frozenset(),
) -> Plan:
    """Plan every feed and article page.

    ``known_feeds`` (key → category name) are feeds published before: one that lost its last
    article stays, empty, so its subscribers get a valid feed rather than a 404.
    ``keep_pages`` are paths of articles whose page was published before; their pages stay
    while the article is visible, even once it has dropped out of every feed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    problems: list[Problem] = []
    visible: list[Article] = []
    scheduled: list[Article] = []
    drafts = 0
    for a in articles:
        if a.meta.draft:
            drafts += 1
        elif a.date > now:
            scheduled.append(a)
        else:
            visible.append(a)
    visible = _newest_first(_drop_duplicate_ids(visible, problems))
    next_go_live = min((a.date for a in scheduled), default=None)

    names, members = _category_names(visible, problems)
    for key, name in (known_feeds or {}).items():
        if key != ALL_KEY:
            names.setdefault(key, name)

    specs = [
        FeedSpec(
            key=ALL_KEY,
            title=site.title,
            category=None,
            content=feeds.content,
            entries=tuple(visible[: feeds.max_entries]),
            updated=max((a.updated for a in visible[: feeds.max_entries]), default=EPOCH),
        )
    ]
    for key in sorted(names):
        name = names[key]
        override = feeds.for_category(name)
        entries = tuple(members.get(key, ())[: override.max_entries or feeds.max_entries])
        specs.append(
            FeedSpec(
                key=key,
                title=f"{site.title}: {override.title or name}",
                category=name,
                content=override.content or feeds.content,
                entries=entries,
                updated=max((a.updated for a in entries), default=EPOCH),
            )
        )

    pages: tuple[Article, ...] = ()
    if feeds.article_pages:
        linked = {a.path for spec in specs for a in spec.entries}
        pages = tuple(
            sorted(
                (
                    a
                    for a in visible
                    if a.meta.link is None and (a.path in linked or a.path in keep_pages)
                ),
                key=lambda a: a.path,
            )
        )
    return Plan(
        feeds=tuple(specs),
        pages=pages,
        problems=tuple(problems),
        next_go_live=next_go_live,
        published=len(visible),
        scheduled=len(scheduled),
        drafts=drafts,
    )
