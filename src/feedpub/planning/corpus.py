"""The one planner: :func:`plan` asks a :class:`Corpus` what is visible, the newest
articles of each feed and the duplicate id claims, loads only those articles, and plans
the feeds from them. The state store's index is one corpus (SQL, for builds); a
:class:`MemoryCorpus` over parsed articles is another (``feedpub check``, tests): the same
questions, the same answers, so ``check`` reports what ``build`` would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from feedpub.model import PUBLISHED_ONLY, Article, Plan, Showing, from_us, to_us
from feedpub.planning.feeds import duplicate_losers, merged_categories, plan_candidates
from feedpub.planning.keys import feed_names, other_language

if TYPE_CHECKING:  # (planning needs no config module at run time)
    from feedpub.config import FeedsConfig, SiteConfig


class Corpus(Protocol):
    """The questions planning asks of the articles (times in µs since the epoch: see
    :func:`feedpub.model.to_us`). A *draft* here is anything in no feed: a draft, a hidden
    article, an expired one. The time the visibility questions take is the time articles
    must be dated by to be live (:meth:`feedpub.model.Showing.live_until`: now, except in
    the preview's ``--future``); :meth:`hidden_count` and :meth:`next_expiry` take now.
    (:class:`MemoryCorpus` compares expiry dates with the time it is given: it serves
    ``feedpub check``, which shows what production would.)"""

    def tally(self, now_us: int) -> tuple[int, int, int, int | None]:
        """(visible, scheduled, drafts, next go-live µs)."""
        ...

    def hidden_count(self, now_us: int) -> int:
        """Hidden articles, not expired (counted among the drafts by :meth:`tally`)."""
        ...

    def next_expiry(self, now_us: int) -> int | None: ...

    def duplicate_ids(self, now_us: int) -> list[tuple[str, str, datetime]]:
        """(id, path, first seen) of every visible article whose id, or Atom id, another
        visible one shares."""
        ...

    def category_spellings(self, now_us: int) -> list[tuple[str, str, int, str]]:
        """(key, name, articles, first path) of every feed name visible articles use."""
        ...

    def newest(self, now_us: int, limit: int) -> list[str]:
        """Paths of the newest visible articles in the site's language."""
        ...

    def category_keys(self) -> list[str]: ...

    def newest_in(self, key: str, now_us: int, limit: int) -> list[str]: ...

    def load_articles(self, paths: Iterable[str]) -> list[Article]: ...


def plan(
    corpus: Corpus,
    *,
    site: SiteConfig,
    feeds: FeedsConfig,
    now: datetime,
    known_feeds: Mapping[str, str] | None = None,
    showing: Showing = PUBLISHED_ONLY,
) -> Plan:
    """Plan every feed, and the article pages the feeds link to, from ``corpus`` at ``now``.
    ``showing``: what the preview shows beyond that (future-dated articles, as live).

    Of two visible articles with one id, the one seen first keeps it; the other is left
    out (``Plan.left_out``) and reported. Category names are settled over the whole corpus.
    ``known_feeds`` (key → name) are feeds published before: one that lost its last
    article stays, empty, so its subscribers get a valid feed rather than a 404."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_us = to_us(now)
    live_us = to_us(showing.live_until(now))  # (articles dated up to it are live)
    losers, problems = duplicate_losers(corpus.duplicate_ids(live_us))
    names, merges = merged_categories(corpus.category_spellings(live_us))
    wanted = set(corpus.newest(live_us, feeds.max_entries + len(losers)))
    for key in corpus.category_keys():
        name = names.get(key)
        limit = (feeds.for_category(name).max_entries if name else None) or feeds.max_entries
        wanted.update(corpus.newest_in(key, live_us, limit + len(losers)))
    planned = plan_candidates(
        corpus.load_articles(wanted - losers),
        site=site,
        feeds=feeds,
        now=now,
        known_feeds=known_feeds,
        category_names=names,
        showing=showing,
    )
    visible, scheduled, drafts, next_us = corpus.tally(live_us)
    hidden = corpus.hidden_count(now_us)
    expiry_us = corpus.next_expiry(now_us)
    return replace(
        planned,
        problems=(*problems, *merges, *planned.problems),
        published=visible - len(losers),
        scheduled=scheduled,
        drafts=drafts - hidden,
        hidden=hidden,
        next_go_live=from_us(next_us) if next_us is not None else None,
        next_expiry=from_us(expiry_us) if expiry_us is not None else None,
        left_out=frozenset(losers),
    )


class MemoryCorpus:
    """A :class:`Corpus` over articles in memory, answering as the state store's index
    does. ``first_seen`` (path → when the article was first seen) decides who keeps a
    shared id; an article missing from it counts as first seen at its date."""

    def __init__(
        self,
        articles: Iterable[Article],
        *,
        site_language: str = "en",
        tags: bool = False,
        first_seen: Mapping[str, datetime] | None = None,
    ) -> None:
        self._by_path = {a.path: a for a in articles}
        self._language = site_language
        self._first_seen = dict(first_seen or {})
        # worked out once: each article's feeds, and every feed's articles newest first
        self._ordered = sorted(
            self._by_path.values(), key=lambda a: (to_us(a.date), a.id), reverse=True
        )
        self._names: dict[str, dict[str, str]] = {}
        self._in_feed: dict[str, list[Article]] = {}
        for a in self._ordered:
            names = self._names[a.path] = {}
            for key, name in feed_names(a.meta, site_language, tags=tags):
                names.setdefault(key, name)
            for key in names:
                self._in_feed.setdefault(key, []).append(a)

    def _expired(self, a: Article, now_us: int) -> bool:
        return a.meta.expires is not None and to_us(a.meta.expires) <= now_us

    def _in_no_feed(self, a: Article, now_us: int) -> bool:
        return a.meta.draft or a.meta.hidden or self._expired(a, now_us)

    def _visible(self, now_us: int) -> list[Article]:
        return [
            a
            for a in self._by_path.values()
            if not self._in_no_feed(a, now_us) and to_us(a.date) <= now_us
        ]

    def _feeds(self, a: Article) -> dict[str, str]:
        return self._names[a.path]

    def _newest(self, newest_first: Iterable[Article], now_us: int, limit: int) -> list[str]:
        """The first ``limit`` visible ones of ``newest_first``."""
        out: list[str] = []
        for a in newest_first:
            if len(out) >= limit:
                break
            if not self._in_no_feed(a, now_us) and to_us(a.date) <= now_us:
                out.append(a.path)
        return out

    def tally(self, now_us: int) -> tuple[int, int, int, int | None]:
        live = [a for a in self._by_path.values() if not self._in_no_feed(a, now_us)]
        future = [to_us(a.date) for a in live if to_us(a.date) > now_us]
        drafts = len(self._by_path) - len(live)
        return len(live) - len(future), len(future), drafts, min(future, default=None)

    def hidden_count(self, now_us: int) -> int:
        return sum(
            1
            for a in self._by_path.values()
            if a.meta.hidden and not a.meta.draft and not self._expired(a, now_us)
        )

    def next_expiry(self, now_us: int) -> int | None:
        return min(
            (
                to_us(a.meta.expires)
                for a in self._by_path.values()
                if a.meta.expires is not None
                and not a.meta.draft
                and to_us(a.meta.expires) > now_us
            ),
            default=None,
        )

    def duplicate_ids(self, now_us: int) -> list[tuple[str, str, datetime]]:
        out: list[tuple[str, str, datetime]] = []
        visible = sorted(self._visible(now_us), key=lambda a: a.path)
        for atom in (False, True):  # its id, then its Atom id (the id, unless it has one)
            claims: dict[str, list[Article]] = {}
            for a in visible:
                claims.setdefault((a.atom_id or a.id) if atom else a.id, []).append(a)
            out += [
                (ident, a.path, self._first_seen.get(a.path, a.date))
                for ident, group in claims.items()
                if len(group) > 1
                for a in group
            ]
        return list(dict.fromkeys(out))

    def category_spellings(self, now_us: int) -> list[tuple[str, str, int, str]]:
        counts: dict[tuple[str, str], list[str]] = {}
        for a in self._visible(now_us):
            for key, name in self._feeds(a).items():
                counts.setdefault((key, name), []).append(a.path)
        return [(k, n, len(paths), min(paths)) for (k, n), paths in counts.items()]

    def newest(self, now_us: int, limit: int) -> list[str]:
        own = (a for a in self._ordered if other_language(a.meta.lang, self._language) is None)
        return self._newest(own, now_us, limit)

    def category_keys(self) -> list[str]:
        keys = {
            key
            for a in self._by_path.values()
            if not (a.meta.draft or a.meta.hidden)
            for key in self._feeds(a)
        }
        return sorted(keys)

    def newest_in(self, key: str, now_us: int, limit: int) -> list[str]:
        return self._newest(self._in_feed.get(key, ()), now_us, limit)

    def load_articles(self, paths: Iterable[str]) -> list[Article]:
        return [self._by_path[p] for p in paths if p in self._by_path]
