"""The values that flow through the pipeline.

    article files --parse--> ArticleMeta --identity--> Article --plan(now)--> FeedSpec
        --render--> bytes --output.write_file (when changed)--> BuildResult --> outbox

Every value is a frozen dataclass; collections are tuples; datetimes are timezone-aware.
"""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, NamedTuple

from feedpub.errors import printable

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def to_us(dt: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (exact, sortable): how
    times are compared in the index and in :class:`feedpub.planning.Corpus` queries."""
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


ContentMode = Literal["full", "summary"]
PodcastType = Literal["episodic", "serial"]
FeedFormat = Literal["atom", "rss", "json"]
FEED_FORMATS: tuple[FeedFormat, ...] = ("atom", "rss", "json")


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Author:
    name: str
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Enclosure:
    url: str
    type: str
    length: int = 0


class Severity(enum.Enum):
    WARNING = "warning"  # the article is published, sanitised
    ERROR = "error"  # the article is left out


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Something wrong with one input file, reported as ``path:line: message``."""

    path: str
    message: str
    line: int | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        path = printable(self.path)
        where = f"{path}:{self.line}" if self.line is not None else path
        return f"{where}: {self.severity.value}: {self.message}"

    def shown(self, articles: Path, cwd: Path) -> str:
        """The problem as a person reads it where they are (``cwd``): its file relative to
        ``cwd`` when it lies below it, else absolute. ``path`` is an article's, relative to
        the articles folder ``articles``, or an absolute one (an output file)."""
        path = Path(os.path.normpath(articles / self.path))  # (an absolute path stays)
        with contextlib.suppress(ValueError):
            path = path.relative_to(cwd)
        return str(replace(self, path=str(path)))


SkipReason = Literal["outside", "dangling", "not_regular", "unreadable"]
_SKIP_LABELS: dict[SkipReason, tuple[str, str]] = {  # (one, several)
    "outside": ("symlink outside the articles folder", "symlinks outside the articles folder"),
    "dangling": ("dangling symlink", "dangling symlinks"),
    "not_regular": ("not a regular file", "not regular files"),
    "unreadable": ("unreadable", "unreadable"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedFile:
    """A file (or folder) named like an article that is not read, and why: a symlink leading
    outside the articles folder or nowhere, a folder, FIFO, socket or device, or one that
    cannot be read. (Hidden files, editor backups and temporary files are no articles: they
    are ignored without a word.)"""

    path: str  # relative to the articles folder, POSIX separators
    reason: SkipReason
    detail: str  # for people: "a FIFO, not a regular file"

    def __str__(self) -> str:
        return f"{self.path}: skipped: {self.detail}"


MAX_SUFFIXES_SHOWN = 5


def skipped_summary(skipped: Sequence[SkippedFile], others: Sequence[tuple[str, int]] = ()) -> str:
    """``15 files skipped: 12 not articles (.png 9, .jpg 3), 2 symlinks outside the articles
    folder, 1 not a regular file``: the files named like articles that were not read (see
    :class:`SkippedFile`) and the count of other files by suffix (most frequent first)."""
    counts: dict[SkipReason, int] = {}
    for s in skipped:
        counts[s.reason] = counts.get(s.reason, 0) + 1
    parts = [
        f"{n} {_SKIP_LABELS[reason][0 if n == 1 else 1]}"
        for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    other_total = sum(n for _, n in others)
    if other_total:
        ranked = sorted(others, key=lambda kv: (-kv[1], kv[0]))
        shown = [f"{suffix} {n}" for suffix, n in ranked[:MAX_SUFFIXES_SHOWN]]
        rest = sum(n for _, n in ranked[MAX_SUFFIXES_SHOWN:])
        if rest:
            shown.append(f"others {rest}")
        label = "not an article" if other_total == 1 else "not articles"
        parts.insert(0, f"{other_total} {label} ({', '.join(shown)})")
    total = len(skipped) + other_total
    return f"{total} file{'' if total == 1 else 's'} skipped: " + ", ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleMeta:
    """Everything an article file says about itself, except the body.

    ``date`` is None when the file gives none (the file name or the first-seen time decides later).
    """

    path: str  # relative to the articles folder, POSIX separators
    title: str
    date: datetime | None = None
    updated: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()
    summary: str | None = None  # plain text
    id: str | None = None
    slug: str | None = None
    draft: bool = False
    hidden: bool = False  # published (its page) but in no feed or index (Pelican's "hidden")
    link: str | None = None
    via: str | None = None  # the original this article is taken from (Source:, Via:)
    # what its body links to ("path:img/a.png", "post:2020-01-02-x"...; see articles/refs.py),
    # with the line each is first written on
    refs: tuple[tuple[str, int | None], ...] = ()
    lang: str | None = None  # its language (lower-case BCP 47), when the file says
    translation_key: str | None = None  # what its translations share (else: the slug)
    image: str | None = None
    enclosure: Enclosure | None = None
    duration: int | None = None  # seconds (podcast episodes)
    episode: int | None = None  # episode number, from 1
    season: int | None = None  # season number, from 1
    explicit: bool | None = None  # None: as the podcast says
    expires: datetime | None = None  # when it goes out of the feeds (Hugo's expiryDate)
    content_hash: str = ""  # sha256 of the file's bytes

    def __post_init__(self) -> None:
        _require_aware("date", self.date)
        _require_aware("updated", self.updated)
        _require_aware("expires", self.expires)


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """An article ready for planning: its date, id, slug and URL are settled."""

    meta: ArticleMeta
    date: datetime
    id: str  # as written (RSS guid, JSON Feed id), or derived
    slug: str
    url: str  # the entry link: ``meta.link`` or the article page's URL
    atom_id: str = ""  # the Atom id, an absolute IRI; "" means ``id`` (already one)

    def __post_init__(self) -> None:
        _require_aware("date", self.date)
        if not self.atom_id:
            object.__setattr__(self, "atom_id", self.id)

    @property
    def path(self) -> str:
        return self.meta.path

    @property
    def updated(self) -> datetime:
        """When the entry last changed: ``updated`` when given and later than ``date``."""
        upd = self.meta.updated
        return upd if upd is not None and upd > self.date else self.date


@dataclass(frozen=True, slots=True, kw_only=True)
class Podcast:
    """A category published as a podcast: what its RSS feed tells podcast directories (the
    iTunes tags Apple Podcasts requires, and Podcasting 2.0's ``podcast:guid``). Validated by
    :mod:`feedpub.config`; defaults taken from ``[site]`` there."""

    image: str  # show artwork: absolute http(s) URL of a .jpg or .png
    category: str  # an Apple Podcasts category, as Apple spells it
    subcategory: str | None = None  # one of that category's subcategories
    explicit: bool  # the show's parental advisory; episodes may say otherwise
    author: str  # itunes:author
    owner_name: str  # itunes:owner
    owner_email: str
    type: PodcastType = "episodic"
    guid: str | None = None  # podcast:guid; None: the UUIDv5 of the RSS feed's URL


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSpec:
    """One feed, planned: which entries it holds and how they are shown. Formats are separate."""

    key: str  # "all" or a category slug; file names derive from it
    title: str
    category: str | None  # the category's display name; None for the all-articles feed
    content: ContentMode
    entries: tuple[Article, ...]  # newest first
    updated: datetime  # newest entry change; a fixed epoch for an empty feed
    podcast: Podcast | None = None  # a podcast category: its RSS carries the podcast tags
    language: str | None = None  # a language's feed (translations); else the site's
    # RFC 5005 archived feeds (and JSON Feed ``next_url``): 0 is the subscription document;
    # n >= 1 the archive document n (1 holds the oldest entries, so its URL never moves)
    page: int = 0
    prev_page: int = 0  # the next older archive document (0: none)
    next_page: int = 0  # an archive's next newer archive document (0: none, or the current)

    def __post_init__(self) -> None:
        _require_aware("updated", self.updated)
        if self.page < 0 or self.prev_page < 0 or self.next_page < 0:
            raise ValueError("archive page numbers are positive (0: none)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Showing:
    """What a build publishes that production does not show yet: nothing, unless this is
    ``feedpub serve --drafts`` (drafts, as if published) or ``--future`` (future-dated
    articles, as if their time had come). Handed to the builder as a value: parsing
    decides what is a draft (:class:`feedpub.articles.context.ParseContext`), planning
    what is live (:meth:`live_until`)."""

    drafts: bool = False
    future: bool = False

    def live_until(self, now: datetime) -> datetime:
        """Articles dated up to this time are live: ``now``, or all of them (``future``).
        (Expiry dates are still compared with ``now``.)"""
        return END_OF_TIME if self.future else now


PUBLISHED_ONLY = Showing()  # what production shows: the default everywhere


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The output of planning: the feeds, and the article pages to publish."""

    feeds: tuple[FeedSpec, ...]
    pages: tuple[Article, ...]  # articles that get an HTML page (those some feed links to)
    problems: tuple[Problem, ...] = ()
    next_go_live: datetime | None = None  # when the next future-dated article appears
    published: int = 0  # articles visible now
    scheduled: int = 0  # future-dated articles
    drafts: int = 0
    hidden: int = 0  # ``status: hidden``: a page, in no feed
    next_expiry: datetime | None = None  # when the next published article expires
    left_out: frozenset[str] = frozenset()  # paths of visible articles whose id another has


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What a build did. Problems are values here; only the CLI turns them into exit codes."""

    articles: int  # article files found
    published: int
    scheduled: int
    drafts: int
    hidden: int = 0  # status: hidden (a page, in no feed)
    written: tuple[str, ...] = ()
    unchanged: int = 0
    removed: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    next_go_live: datetime | None = None
    next_expiry: datetime | None = None  # when the next published article expires
    changed_feeds: tuple[str, ...] = ()  # URLs of the feeds whose bytes changed
    parsed: int = 0  # files actually read and parsed this time (the rest came from the index)
    notifications: int = 0  # notifications this build queued in the outbox
    feeds: tuple[str, ...] = field(default=())  # feed keys planned
    # files named like articles that were not read (see SkippedFile): all of them after a scan
    # of the whole folder, only those among the named paths for a build told what changed
    skipped: tuple[SkippedFile, ...] = ()
    # other files (no articles), counted by suffix: (".png", 9), from the same scan
    not_articles: tuple[tuple[str, int], ...] = ()
    excluded: int = 0  # article files [paths] exclude left out (Pelican pages, drafts...)
    # articles whose go-live time came since the previous build (paths; for the log)
    went_live: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)


# -- what the state store keeps (storage depends on these, never the other way round) --------


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexRow:
    path: str
    size: int
    mtime_ns: int
    content_hash: str | None
    meta: ArticleMeta | None
    problems: tuple[Problem, ...]
    meta_json: str | None = None  # ``meta`` serialised (done by the worker that parsed it)
    body_html: str | None = None  # the sanitised body, relative URLs kept (when meta is set)
    excerpt: str | None = None  # its first paragraph as plain text


class Member(NamedTuple):
    """One article of a feed, as the index knows it (for paging archives and their
    fingerprints without loading metadata)."""

    date_us: int
    article_id: str
    path: str
    content_hash: str | None
    atom_id: str
    url: str
    slug: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    path: str
    article_id: str
    slug: str
    first_seen: datetime
    content_hash: str = ""
    live: bool = True
    # set by ``feedpub adopt`` (an old site's entry id and published date, kept as the identity):
    atom_id: str | None = None  # the old Atom feed's id, when one was adopted
    adopted: datetime | None = None  # when it was adopted


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputRecord:
    relpath: str
    sha256: str
    fingerprint: str
    size: int
    mtime_ns: int
    feed_key: str | None
    kind: str  # "feed", "page", "index"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    kind: str  # websub | weblogupdates | delivery
    target: str
    topic: str
    not_before: datetime
    subscription_id: int | None = None


BuildOutcome = Literal["ok", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildRecord:
    """One build, as the operator sees it (``/status``, ``feedpub status``): when, how long,
    and what it came to. A build that raised (``failed``) has only its ``error``: its
    counts are None."""

    started_at: datetime
    duration_ms: int
    outcome: BuildOutcome
    articles: int | None = None
    published: int | None = None
    scheduled: int | None = None
    drafts: int | None = None
    feeds: int | None = None
    written: int | None = None
    removed: int | None = None
    errors: int | None = None
    warnings: int | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None:
            raise ValueError("BuildRecord.started_at must be timezone-aware")

    @classmethod
    def of(cls, result: BuildResult, *, started_at: datetime, duration_ms: int) -> BuildRecord:
        errors = len(result.errors)
        return cls(
            started_at=started_at,
            duration_ms=duration_ms,
            outcome="ok",
            articles=result.articles,
            published=result.published,
            scheduled=result.scheduled,
            drafts=result.drafts,
            feeds=len(result.feeds),
            written=len(result.written),
            removed=len(result.removed),
            errors=errors,
            warnings=len(result.problems) - errors,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    id: int
    kind: str
    target: str
    topic: str
    subscription_id: int | None
    created_at: datetime
    not_before: datetime
    attempts: int
    lease: datetime | None = None  # set by claim_due: the claim's end, and its fencing token


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    id: int
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int
    expires_at: datetime
