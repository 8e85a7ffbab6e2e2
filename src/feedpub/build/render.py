"""Rendering: every feed, archive page, article page, index page and the OPML whose inputs
changed (compared by fingerprint with the manifest), with bodies loaded and links resolved
only for what is rendered; and cutting the archives (RFC 5005)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, overload
from urllib.parse import unquote

from feedpub import __version__
from feedpub.articles.context import SLUG_MARK
from feedpub.articles.refs import SCHEME, resolve_refs
from feedpub.build.makers import (
    FEED_CONTENT_FACTOR,
    archive_spec,
    feed_maker,
)
from feedpub.build.memo import FeedMembers, PageDigests
from feedpub.build.values import (
    BATCH,
    Detected,
    Progress,
    Rendered,
    Work,
    Wrote,
)
from feedpub.build.write import WritePhase
from feedpub.errors import (
    RenderError,
)
from feedpub.linking import RefLookup
from feedpub.model import (
    Article,
    FeedSpec,
    Member,
    OutputRecord,
    Plan,
    Problem,
    Severity,
)
from feedpub.planning import (
    ArchiveKey,
    archive_pages,
)
from feedpub.render import (
    INDEX_PAGES_DIR,
    INDEX_PATH,
    OPML_PATH,
    STYLESHEET_PATH,
    EntryBody,
    feed_relpath,
    index_relpath,
)
from feedpub.store import State
from feedpub.store.db import chunked

log = logging.getLogger(__name__)


def _archive_page(spec: FeedSpec, n: int, last: int) -> FeedSpec:
    """The spec of archive document ``n`` of ``last`` (RFC 5005: linked to its neighbours)."""
    return replace(spec, entries=(), page=n, prev_page=n - 1, next_page=n + 1 if n < last else 0)


# a file to render: relpath, kind, feed key, fingerprint, how to make it, the articles it shows
_Job = tuple[str, str, str | None, str, Callable[[], bytes], Sequence[str]]
# files rendered, then written, at a time (memory stays bounded by a batch): at most this many,
# showing at most RENDER_ARTICLES articles between them (an archive document shows a page of
# them, each with its body)
RENDER_BATCH = 200
RENDER_ARTICLES = 1000


def _batches(todo: Sequence[_Job]) -> Iterator[Sequence[_Job]]:
    """``todo`` cut into batches (see :data:`RENDER_BATCH`), in order."""
    start = shown = 0
    for i, job in enumerate(todo):
        if i > start and (i - start >= RENDER_BATCH or shown + len(job[5]) > RENDER_ARTICLES):
            yield todo[start:i]
            start, shown = i, 0
        shown += len(job[5])
    if start < len(todo):
        yield todo[start:]


class _ArchiveKeys(Sequence[ArchiveKey]):
    """The archive keys of members, read when asked (cutting pages looks at a few)."""

    def __init__(self, members: Sequence[Member]) -> None:
        self._members = members

    def __len__(self) -> int:
        return len(self._members)

    @overload
    def __getitem__(self, i: int) -> ArchiveKey: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[ArchiveKey]: ...

    def __getitem__(self, i: int | slice) -> ArchiveKey | Sequence[ArchiveKey]:
        if isinstance(i, slice):
            return [(m.date_us, m.article_id) for m in self._members[i]]
        m = self._members[i]
        return (m.date_us, m.article_id)


class _Jobs:
    """What one build renders: the files whose fingerprint changed (``todo``: relpath, kind,
    feed key, fingerprint, how to make it, the articles it shows), those that stay as they
    are (``skipped``), and the bodies and archive articles loaded for the first."""

    def __init__(self, fresh: Callable[[str, str], bool], digest: PageDigests) -> None:
        self._fresh = fresh
        self.digest = digest
        self.todo: list[_Job] = []
        self.skipped: list[Rendered] = []
        self.bodies: dict[str, EntryBody | None] = {}
        self.loaded: dict[str, Article] = {}  # articles of the archive pages being rendered

    def want(
        self,
        relpath: str,
        kind: str,
        key: str | None,
        fp: str,
        make: Callable[[], bytes],
        shows: Sequence[str] = (),
    ) -> None:
        if self._fresh(relpath, fp):
            self.skipped.append(
                Rendered(relpath=relpath, data=b"", fingerprint=fp, kind=kind, feed_key=key)
            )
        else:
            self.todo.append((relpath, kind, key, fp, make, shows))

    def body(self, path: str) -> EntryBody | None:
        return self.bodies.get(path)


class RenderPhase(WritePhase):
    def _bodies(self, state: State, articles: Sequence[Article]) -> dict[str, EntryBody | None]:
        """The articles' bodies as parsed (stored in the index), with their slugs."""
        from feedpub.articles.body import fits_in_feeds

        stored = state.bodies_for([a.path for a in articles])
        lookup: RefLookup | None = None
        out: dict[str, EntryBody | None] = {}
        for a in articles:
            found = stored.get(a.path)
            html = found[0] if found is not None else ""
            if a.meta.refs:  # links to other articles and files, as they are published now
                lookup = lookup or RefLookup(
                    state,
                    self.links,
                    self.config.feeds.formats[0],
                    self.showing.live_until(self.clock()),
                    tags=self.config.feeds.tags,
                )
                base = self.config.site.base_url
                html = resolve_refs(html, lookup.resolve, base, id_prefix=lookup.id_prefix)
                if found is not None and SCHEME in found[1]:  # (a reference in its prose)
                    found = (found[0], resolve_refs(found[1], lookup.resolve, base, text=True))
            out[a.path] = (
                None
                if found is None
                else EntryBody(
                    content_html=html.replace(SLUG_MARK, a.slug),
                    summary=a.meta.summary or found[1],
                    in_feeds=fits_in_feeds(found[0], self.ctx.max_content_bytes),
                )
            )
        return out

    # -- the build --------------------------------------------------------------------------

    def _link_digests(
        self, state: State, refs: Mapping[str, list[str]], now: datetime
    ) -> dict[str, str]:
        """Path → a digest of where the article's links to other articles (``refs``: as
        :meth:`State.article_refs` finds them) lead now."""
        if not refs:
            return {}
        lookup = RefLookup(
            state, self.links, self.config.feeds.formats[0], now, tags=self.config.feeds.tags
        )
        out: dict[str, str] = {}
        for path, found in refs.items():
            resolved = []
            for ref in found:
                kind, _, value = ref.partition(":")
                resolved.append((ref, lookup.resolve(kind, value), lookup.id_prefix(kind, value)))
            blob = json.dumps(resolved, ensure_ascii=False)
            out[path] = hashlib.sha256(blob.encode()).hexdigest()[:16]
        return out

    def _render(self, state: State, work: Work, found: Detected) -> _Jobs:
        """What to render: each file's fingerprint (of everything it shows) is compared with
        the manifest's, and a file whose fingerprint is unchanged and whose bytes on disk are
        intact is not rendered at all (:meth:`_render_and_write` renders the others)."""
        # (a file the manifest lists with the same fingerprint is taken as it is; a full
        # scan also checks that it is on disk as written)
        jobs = _Jobs(
            lambda relpath, fp: self._fresh(found.outputs, relpath, fp, on_disk=found.full),
            found.memo.digests,
        )
        self._want_feeds(jobs, work, found.config_fp)
        self._want_pages(state, jobs, work, found.config_fp)
        self._want_index(jobs, work, found.config_fp)
        return jobs

    def _render_and_write(
        self,
        state: State,
        jobs: _Jobs,
        media: list[Rendered],
        work: Work,
        found: Detected,
        *,
        adopt: bool,
        progress: Progress | None,
    ) -> tuple[Wrote, list[str]]:
        """Render the files to do a batch at a time (:data:`RENDER_BATCH`), each batch
        written before the next is rendered (articles and bodies loaded for that batch only:
        memory stays bounded by a batch, whatever the size of the site), then copy the files
        beside the articles. Returns what :meth:`_write` found, and the path of every file
        this build publishes, rendered or taken as it was."""
        written: list[str] = []
        feed_urls: list[str] = []
        records: list[OutputRecord] = []
        changed: list[tuple[str, str, bytes | None]] = []
        produced = [r.relpath for r in jobs.skipped]
        total = len(jobs.todo)
        if progress and total:
            progress("render", 0, total)
        done = 0
        for batch in [*_batches(jobs.todo), ()]:  # (the files beside the articles: last)
            rendered = media if not batch else []
            if batch:
                self._load_for(state, jobs, work, batch)
                rendered = self._make(jobs, batch, work.problems)
            w = self._write(
                state, rendered, found.outputs, found.claims, work.problems, adopt=adopt
            )
            written += w[0]
            feed_urls += w[1]
            records += w[2]
            if state.postgres:  # (the bytes for standby daemons: see _publish_bytes)
                changed += w[3]
            produced += [r.relpath for r in rendered]
            done += len(batch)
            if progress and batch:
                progress("render", done, total)
        return (written, feed_urls, records, changed), produced

    def _fresh(
        self, outputs: Mapping[str, OutputRecord], relpath: str, fp: str, *, on_disk: bool
    ) -> bool:
        rec = outputs.get(relpath)
        return rec is not None and rec.fingerprint == fp and (not on_disk or self._intact(rec))

    def _want_feeds(self, jobs: _Jobs, work: Work, config_fp: str) -> None:
        """Every feed document in every format, and its archive documents."""
        formats = self.config.feeds.formats
        linked = work.linked
        budget = FEED_CONTENT_FACTOR * self.config.feeds.max_content_bytes
        for spec in work.plan.feeds:
            extra = [
                spec.key,
                spec.title,
                spec.content,
                spec.updated.isoformat(),
                spec.prev_page,
                [linked[a.path] for a in spec.entries if a.path in linked],
            ]
            shows = [a.path for a in spec.entries]
            for fmt in formats:
                fp = self._fingerprint(config_fp, fmt, spec.entries, extra)
                maker = feed_maker(spec, fmt, self.links, jobs.body, budget)
                jobs.want(feed_relpath(spec.key, fmt), "feed", spec.key, fp, maker, shows)
            pages = work.archives.get(spec.key, [])
            for n, members in enumerate(pages, start=1):
                page = _archive_page(spec, n, len(pages))
                head = (
                    spec.key,
                    spec.title,
                    spec.content,
                    n,
                    page.prev_page,
                    page.next_page,
                    tuple(linked[m.path] for m in members if m.path in linked) if linked else (),
                )
                shows = [m.path for m in members]
                make_spec = archive_spec(page, members, jobs.loaded)
                digest = jobs.digest(members)
                for fmt in formats:
                    fp = jobs.digest.fingerprint(config_fp, f"archive-{fmt}", head, digest)
                    maker = feed_maker(make_spec, fmt, self.links, jobs.body, budget)
                    jobs.want(feed_relpath(spec.key, fmt, n), "archive", spec.key, fp, maker, shows)

    def _want_pages(self, state: State, jobs: _Jobs, work: Work, config_fp: str) -> None:
        """The page of every article the plan phase chose to render again (loaded a batch
        at a time, for its fingerprint: the page loads it again when it is rendered)."""
        known = {a.path: a for a in work.plan.pages}  # (loaded by the plan already)
        for chunk in chunked(work.pages, BATCH):
            found = [known[p] for p in chunk if p in known]
            found += state.load_articles([p for p in chunk if p not in known])
            for a in sorted(found, key=lambda a: a.path):
                self._want_page(jobs, work, config_fp, a)

    def _want_page(self, jobs: _Jobs, work: Work, config_fp: str, a: Article) -> None:
        from feedpub.render.pages import render_page

        relpath = self._page_relpath(a)
        if relpath is None:
            return
        if relpath in (INDEX_PATH, OPML_PATH) or relpath.startswith(("feeds/", INDEX_PAGES_DIR)):
            work.problems.append(
                Problem(
                    path=a.path,
                    message=f"its page would be {relpath}, which the site's index or feeds "
                    "use: no page written (give it another slug)",
                    severity=Severity.WARNING,
                )
            )
            return
        versions = work.translations.get(a.path, ())
        fp = self._fingerprint(
            config_fp, "page", [a], [[list(v) for v in versions], work.linked.get(a.path)]
        )
        formats = self.config.feeds.formats
        all_feed = work.plan.feeds[0]

        def make_page(path: str = a.path, versions: Sequence[tuple[str, str]] = versions) -> bytes:
            b = jobs.bodies.get(path) or EntryBody(content_html="", summary="")
            return render_page(jobs.loaded[path], b, formats, all_feed, self.links, versions)

        jobs.want(relpath, "page", a.path, fp, make_page, [a.path])

    def _want_index(self, jobs: _Jobs, work: Work, config_fp: str) -> None:
        """The site index, its older pages, and the OPML."""
        from feedpub.render.pages import render_index, render_opml

        formats = self.config.feeds.formats
        feeds = work.plan.feeds
        all_feed = feeds[0]
        listed = [
            (
                s.key,
                s.title,
                s.category,
                [(a.id, a.url, a.meta.title, a.date.isoformat()) for a in s.entries],
            )
            for s in feeds
        ]
        feeds_fp = hashlib.sha256(
            json.dumps([__version__, config_fp, listed], ensure_ascii=False).encode()
        ).hexdigest()
        jobs.want(
            INDEX_PATH,
            "index",
            None,
            hashlib.sha256(f"{feeds_fp} {all_feed.prev_page}".encode()).hexdigest(),
            lambda: render_index(feeds, formats, self.links, older=all_feed.prev_page),
        )
        jobs.want(
            OPML_PATH, "index", None, feeds_fp, lambda: render_opml(feeds, formats, self.links)
        )
        stylesheet = self._stylesheet()
        if stylesheet is not None:
            jobs.want(STYLESHEET_PATH, "index", None, *stylesheet)
        # the index's older pages: those of the feed of all articles' archive documents
        all_pages = work.archives.get(all_feed.key, [])
        for n, members in enumerate(all_pages, start=1):
            page = _archive_page(all_feed, n, len(all_pages))
            jobs.want(
                index_relpath(n),
                "index",
                None,
                jobs.digest.fingerprint(
                    config_fp,
                    "index-page",
                    (n, page.next_page, all_feed.title),
                    jobs.digest(members),
                ),
                functools.partial(
                    self._index_page, archive_spec(page, members, jobs.loaded), all_feed
                ),
                [m.path for m in members],
            )

    def _stylesheet(self) -> tuple[str, Callable[[], bytes]] | None:
        """The XSLT stylesheet the Atom and RSS feeds name (None: they name none): its
        fingerprint (its bytes') and how to make it. feedpub's own, or the site's file, read
        each build (a build whose articles are unchanged still notices an edit to it); the
        site's file unreadable or not a stylesheet: making it fails (a problem), and the one
        published before stays."""
        from feedpub.render.stylesheet import builtin_stylesheet, site_stylesheet

        source = self.config.feeds.stylesheet
        if not source:
            return None
        try:
            data = site_stylesheet(source) if isinstance(source, Path) else builtin_stylesheet()
        except RenderError as e:
            failed = e

            def fail() -> bytes:
                raise failed

            return "", fail
        digest = hashlib.sha256(STYLESHEET_PATH.encode() + b"\0" + data).hexdigest()
        return digest, lambda: data

    def _stylesheet_unchanged(self, outputs: Mapping[str, OutputRecord]) -> bool:
        found = self._stylesheet()
        if found is None:
            return True
        rec = outputs.get(STYLESHEET_PATH)
        return rec is not None and rec.fingerprint == found[0]

    def _load_for(self, state: State, jobs: _Jobs, work: Work, batch: Sequence[_Job]) -> None:
        """The articles and bodies of exactly the files of ``batch`` (those of the batch
        before are let go)."""
        known: dict[str, Article] = {}
        for spec in work.plan.feeds:
            known.update((a.path, a) for a in spec.entries)
        paths = {p for item in batch for p in item[5]}
        missing = [p for p in paths if p not in known]
        if missing:
            for a in state.load_articles(missing):
                known[a.path] = a
        jobs.loaded.clear()
        jobs.loaded.update((p, known[p]) for p in paths if p in known)
        jobs.bodies.clear()
        need = [known[p] for p in paths if p in known]
        if need:
            jobs.bodies.update(self._bodies(state, need))

    def _make(self, jobs: _Jobs, batch: Sequence[_Job], problems: list[Problem]) -> list[Rendered]:
        """Render each file of ``batch``; one that fails keeps what was published before."""
        out: list[Rendered] = []
        for relpath, kind, key, fp, make, _ in batch:
            try:
                data = make()
            except RenderError as e:
                log.error("%s", e)
                # (an output file: its absolute path; an article's path is relative)
                path = str(self.config.paths.output / relpath)
                problems.append(Problem(path=path, message=str(e)))
                data = b""
            out.append(
                Rendered(relpath=relpath, data=data, fingerprint=fp, kind=kind, feed_key=key)
            )
        return out

    def _index_page(self, make_spec: Callable[[], FeedSpec], all_feed: FeedSpec) -> bytes:
        """An older page of the site index (made when its fingerprint changed)."""
        from feedpub.render.pages import render_index_page

        return render_index_page(
            make_spec(), self.config.feeds.formats, self.links, all_feed=all_feed
        )

    def _page_relpath(self, a: Article) -> str | None:
        base = self.config.site.base_url
        if not a.url.startswith(base):
            return None
        rel = unquote(a.url[len(base) :].split("#", 1)[0].split("?", 1)[0])
        if not rel or rel.endswith("/"):
            rel += "index.html"
        return rel

    def _archives(
        self,
        state: State,
        the_plan: Plan,
        losers: AbstractSet[str],
        members: FeedMembers,
        now_us: int,
    ) -> tuple[Plan, dict[str, list[list[Member]]], str]:
        """Each feed's archive pages (oldest first; the index's members, no metadata loaded),
        the plan with each subscription document pointing to its newest archive page, and
        the page boundaries to store for the next build."""
        size = self.config.feeds.archive_size
        stored = json.loads(state.get("archives") or "{}")
        before: dict[str, list[list[Any]]] = (
            stored.get("feeds", {}) if stored.get("size") == size else {}
        )
        archives: dict[str, list[list[Member]]] = {}
        kept: dict[str, list[ArchiveKey]] = {}
        specs: list[FeedSpec] = []
        for spec in the_plan.feeds:
            archived = members.archived(spec.key, now_us, {a.path for a in spec.entries} | losers)
            cuts, kept[spec.key] = archive_pages(
                _ArchiveKeys(archived),
                size=size,
                sealed=[(int(k[0]), str(k[1])) for k in before.get(spec.key, ())],
            )
            archives[spec.key] = [archived[start:end] for start, end in cuts]
            specs.append(replace(spec, prev_page=len(cuts)))
        sealed = json.dumps(
            {"size": size, "feeds": {k: v for k, v in sorted(kept.items()) if v}},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return replace(the_plan, feeds=tuple(specs)), archives, sealed
