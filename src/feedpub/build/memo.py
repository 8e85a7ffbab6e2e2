"""What a long-lived builder (the daemon's) keeps between its builds, so that one edit costs
work in proportion to the edit, not to the site: the output manifest, every feed's members
in archive order, and the digests of archive pages.

It is only ever a copy of what the state store holds, trusted while the store is as this
builder's last build left it: every build that commits writes a new random stamp to the
store, and a build starts from the memo only if the store still holds that stamp and the
time of the last build. Anything else (a one-shot build, another daemon that led meanwhile,
a build that stopped half-way, a new config) makes the build read the store afresh."""

from __future__ import annotations

import secrets
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from feedpub.build.makers import members_digest, members_fingerprint
from feedpub.model import Article, Member, OutputRecord, Problem
from feedpub.store import State

BUILD_STAMP = "build_stamp"  # kv: written by every build that commits (see the module's text)


def new_stamp() -> str:
    return secrets.token_hex(8)


class FeedMembers:
    """Every feed's members, oldest first (by date, id, path), future-dated ones included:
    the members of a feed at a time are a prefix (:meth:`live`)."""

    def __init__(self, rows: Iterable[tuple[str, Member]]) -> None:
        self._feeds: dict[str, list[Member]] = {}
        self._of: dict[str, list[tuple[str, Member]]] = {}  # path -> where it is
        for key, m in rows:
            self._feeds.setdefault(key, []).append(m)
            self._of.setdefault(m.path, []).append((key, m))
        for members in self._feeds.values():
            members.sort()

    def live(self, key: str, live_us: int) -> list[Member]:
        """The members of feed ``key`` dated up to ``live_us``, oldest first."""
        members = self._feeds.get(key, [])
        return members[: bisect_right(members, live_us, key=lambda m: m.date_us)]

    def archived(self, key: str, live_us: int, leaving: AbstractSet[str]) -> list[Member]:
        """:meth:`live`, but the articles at ``leaving`` (found where they are, not by
        looking at every member)."""
        members = self._feeds.get(key, [])
        end = bisect_right(members, live_us, key=lambda m: m.date_us)
        cuts = sorted(
            i
            for path in leaving
            for k, m in self._of.get(path, ())
            if k == key and (i := bisect_left(members, m, 0, end)) < end and members[i] is m
        )
        out: list[Member] = []
        start = 0
        for i in cuts:
            out += members[start:i]
            start = i + 1
        out += members[start:end]
        return out

    def replace(self, paths: Iterable[str], rows: Iterable[tuple[str, Member]]) -> None:
        """Forget every membership of ``paths``, then add ``rows`` (theirs as they are now)."""
        for path in paths:
            for key, m in self._of.pop(path, ()):
                members = self._feeds[key]
                i = bisect_left(members, m)
                if i < len(members) and members[i] is m:
                    del members[i]
        for key, m in rows:
            insort(self._feeds.setdefault(key, []), m)
            self._of.setdefault(m.path, []).append((key, m))


class PageDigests:
    """:func:`members_digest` of archive pages and :func:`members_fingerprint` of the
    documents that show them, computed once per page and document: kept from one build to
    the next for the pages that are still there (an edit changes one page's)."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int, int], tuple[tuple[Member, ...], str]] = {}
        self._used: dict[tuple[int, int, int], tuple[tuple[Member, ...], str]] = {}
        self._fps: dict[tuple[object, ...], str] = {}
        self._fps_used: dict[tuple[object, ...], str] = {}

    def __call__(self, members: Sequence[Member]) -> str:
        """The digest of a page (known by its first and last member objects and its length,
        checked member by member: :class:`FeedMembers` keeps an unchanged article's)."""
        if not members:
            return members_digest(members)
        key = (id(members[0]), id(members[-1]), len(members))
        page = tuple(members)
        found = self._used.get(key) or self._known.get(key)
        if found is None or found[0] != page:
            found = (page, members_digest(page))
        self._used[key] = found
        return found[1]

    def fingerprint(self, config_fp: str, what: str, head: tuple[object, ...], digest: str) -> str:
        """:func:`members_fingerprint` (``head``: hashable)."""
        key = (config_fp, what, head, digest)
        fp = self._fps_used.get(key) or self._fps.get(key)
        if fp is None:
            fp = members_fingerprint(config_fp, what, head, digest)
        self._fps_used[key] = fp
        return fp

    def next_build(self) -> None:
        """Keep only what the last build used (memory bounded by the archives)."""
        self._known, self._used = self._used, {}
        self._fps, self._fps_used = self._fps_used, {}


@dataclass(slots=True, kw_only=True)
class Answers:
    """The answers of the store's planning queries that read every article, as one build
    asked them (at ``live_us``, ``now_us``). They hold for a later build as long as no
    article's planning inputs changed (:meth:`State.planning_rows`) and no article went live
    or expired in between (:meth:`State.next_change`): an edit of an article's text, the
    daemon's commonest build, asks none of them again."""

    live_us: int
    now_us: int
    until: tuple[int | None, int | None]  # (next go-live, next expiry) after those times
    found: dict[str, Any] = field(default_factory=dict)

    def hold(self, live_us: int, now_us: int) -> bool:
        go_live, expiry = self.until
        return (
            self.live_us <= live_us
            and self.now_us <= now_us
            and (go_live is None or live_us < go_live)
            and (expiry is None or now_us < expiry)
        )


class Recall:
    """The state store as planning asks it (a :class:`~feedpub.planning.Corpus`, and the
    builder's own page, translation and reference questions): the answers that read every
    article taken from ``answers`` when known, asked and kept otherwise; articles loaded
    once and kept (``articles``) until their file changes. Every other question goes to the
    store."""

    def __init__(self, state: State, answers: Answers, articles: dict[str, Article]) -> None:
        self._state = state
        self.answers = answers
        self._articles = articles
        self.loaded: dict[str, Article] = {}  # (what this build loaded: kept for the next)

    def _ask(self, name: str, *args: Any) -> Any:
        found = self.answers.found
        if name not in found:
            found[name] = getattr(self._state, name)(*args)
        return found[name]

    def tally(self, now_us: int) -> tuple[int, int, int, int | None]:
        return cast("tuple[int, int, int, int | None]", self._ask("tally", now_us))

    def hidden_count(self, now_us: int) -> int:
        return cast(int, self._ask("hidden_count", now_us))

    def next_expiry(self, now_us: int) -> int | None:
        return cast("int | None", self._ask("next_expiry", now_us))

    def duplicate_ids(self, now_us: int) -> list[tuple[str, str, datetime]]:
        return cast("list[tuple[str, str, datetime]]", self._ask("duplicate_ids", now_us))

    def category_spellings(self, now_us: int) -> list[tuple[str, str, int, str]]:
        return cast("list[tuple[str, str, int, str]]", self._ask("category_spellings", now_us))

    def category_keys(self) -> list[str]:
        return cast("list[str]", self._ask("category_keys"))

    def page_paths(self, now_us: int) -> set[str]:
        return cast("set[str]", self._ask("page_paths", now_us))

    def translations(self, now_us: int, language: str) -> dict[str, list[tuple[str, str]]]:
        return cast("dict[str, list[tuple[str, str]]]", self._ask("translations", now_us, language))

    def article_refs(self, now_us: int) -> dict[str, list[str]]:
        return cast("dict[str, list[str]]", self._ask("article_refs", now_us))

    def media_refs(self, now_us: int) -> set[str]:
        return cast("set[str]", self._ask("media_refs", now_us))

    def newest(self, now_us: int, limit: int) -> list[str]:
        return self._state.newest(now_us, limit)

    def newest_in(self, key: str, now_us: int, limit: int) -> list[str]:
        return self._state.newest_in(key, now_us, limit)

    def load_articles(self, paths: Iterable[str]) -> list[Article]:
        out: list[Article] = []
        missing: list[str] = []
        for p in paths:
            a = self.loaded.get(p) or self._articles.get(p)
            if a is None:
                missing.append(p)
            else:
                out.append(a)
        if missing:
            out += self._state.load_articles(missing)
        self.loaded.update((a.path, a) for a in out)
        return out


@dataclass(slots=True, kw_only=True)
class Memo:
    """The store as this builder's last build left it (see the module's text); or, in a
    build that has none, what it read of the store."""

    stamp: tuple[str | None, str | None]  # (the build stamp, the last build's time)
    outputs: dict[str, OutputRecord]
    members: FeedMembers | None = None  # (read when planning needs them)
    digests: PageDigests = field(default_factory=PageDigests)
    answers: Answers | None = None  # (see :class:`Answers`)
    articles: dict[str, Article] = field(default_factory=dict)  # the last build loaded
    problems: list[Problem] | None = None  # every indexed file's, by path

    def file_problems(self, state: State) -> list[Problem]:
        """Every indexed file's problems, by path: read from the store, or (kept from the
        last build) those of the files this build wrote read again."""
        touched = state.touched()
        if self.problems is None:
            self.problems = state.problems()
        elif touched:
            kept = [p for p in self.problems if p.path not in touched]
            self.problems = sorted(
                kept + state.problems(touched), key=lambda p: p.path
            )  # (stable: a file's problems keep their order)
        return self.problems

    @classmethod
    def read(cls, state: State) -> Memo:
        return cls(stamp=(None, None), outputs=state.outputs())

    def feeds(self, state: State) -> FeedMembers:
        """Every feed's members now: read from the store, or (kept from the last build)
        brought up to date with the articles this build wrote. Once per build."""
        if self.members is None:
            self.members = FeedMembers(state.feed_members())
        elif touched := state.touched():
            self.members.replace(touched, state.feed_members(touched))
        return self.members

    def committed(
        self,
        stamp: tuple[str, str],
        records: Iterable[OutputRecord],
        removed: Iterable[str],
        recall: Recall,
    ) -> None:
        """What a build committed: its stamp, the new manifest rows, the files removed, and
        what it asked and loaded of the store."""
        self.stamp = stamp
        self.answers = recall.answers
        self.articles = recall.loaded
        for rec in records:
            self.outputs[rec.relpath] = rec
        for relpath in removed:
            self.outputs.pop(relpath, None)
        self.digests.next_build()


def kept(memo: Memo | None, state: State) -> Memo | None:
    """``memo`` if the store is as its build left it, else None."""
    if memo is None or None in memo.stamp:
        return None
    return memo if (state.get(BUILD_STAMP), state.get("last_build")) == memo.stamp else None
