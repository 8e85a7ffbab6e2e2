"""The build: scan → index (parse what changed) → settle identities → plan → render → write.

O(changed): unchanged files come from the index (path, size, mtime); a feed whose inputs are
unchanged (same fingerprint) and whose file on disk is intact is not rendered again; a body is
rendered only when a feed or page that shows it is rendered. Parsing and body rendering use
every core on large batches.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote, unquote

from feedpub import __version__
from feedpub.articles.context import SLUG_MARK, ParseContext
from feedpub.articles.discover import FileStat, excluding, file_beside, scan, stat_paths
from feedpub.articles.refs import SCHEME, name_index, resolve_refs
from feedpub.config import Config
from feedpub.errors import (
    ArticleError,
    BuildCancelled,
    ConfigError,
    OutputError,
    OutputRefused,
    RenderError,
)
from feedpub.identity import atom_id_keys, resolve
from feedpub.linking import RefLookup, unresolved_names
from feedpub.locks import build_lock
from feedpub.model import (
    Article,
    BuildResult,
    FeedSpec,
    IndexRow,
    Member,
    OutputRecord,
    Plan,
    Problem,
    PublishEvent,
    Severity,
    SkippedFile,
)
from feedpub.output import (
    matches,
    open_file,
    read_chunks,
    read_file,
    remove_file,
    servable,
    sha256,
    stat_file,
    sweep_temporaries,
    write_file,
    write_stream,
)
from feedpub.output_ownership import claim_output, may_write
from feedpub.planning import (
    ALL_KEY,
    EPOCH,
    ArchiveKey,
    archive_pages,
    duplicate_losers,
    merged_categories,
    plan,
)
from feedpub.pool import Cancelled, Failed, Pool, StartMethod
from feedpub.render import (
    INDEX_PAGES_DIR,
    INDEX_PATH,
    OPML_PATH,
    EntryBody,
    Links,
    feed_relpath,
    index_relpath,
)
from feedpub.state import State
from feedpub.store.codec import from_us, meta_to_json, result_from_json, result_to_json, to_us
from feedpub.store.db import chunked

log = logging.getLogger(__name__)

BATCH = 2000  # files parsed, settled and stored at a time: memory stays bounded
# kv: output paths a build is writing that the manifest does not list yet (they are
# feedpub's: a build that stops before recording them must not take them for someone else's)
CLAIMS = "output_claims"
Progress = Callable[[str, int, int], None]
T = TypeVar("T")
R = TypeVar("R")


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- work done in worker processes (module level, so they can be pickled) -------------------


@functools.cache
def _real(root: str) -> str:
    return os.path.realpath(root)


def _open_source(root: str, path: str) -> BinaryIO:
    """A file of the articles folder, opened for reading (non-blocking: a FIFO put in the
    file's place must not hang the read). What was opened is checked to be a regular file
    inside the articles folder: the scan checked the path, but a symlink swapped in since
    (or a folder on the way) could lead anywhere."""
    fd = os.open(os.path.join(root, path), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    f = os.fdopen(fd, "rb")
    try:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ArticleError("not a regular file (any more); not read", path=path)
        with contextlib.suppress(OSError):  # (no /proc: not Linux)
            opened = os.readlink(f"/proc/self/fd/{f.fileno()}")
            inside = _real(root)
            if os.path.commonpath([inside, opened]) != inside:
                raise ArticleError(
                    "leads outside the articles folder (a symlink); not read", path=path
                )
    except BaseException:
        f.close()
        raise
    return f


def _read(root: str, path: str, max_bytes: int, limit: str = "feeds.max_article_bytes") -> bytes:
    """An article file's bytes; a file over the size limit is refused without reading it
    (and one inside the articles folder only: :func:`_open_source`)."""
    too_big = f"over the limit of {max_bytes:,} ({limit})"
    with _open_source(root, path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ArticleError(f"file is {size:,} bytes, {too_big}", path=path)
        data = f.read(size + 1)
        if len(data) > size:  # it grew while being read
            data += f.read(max_bytes + 1 - len(data))
            if len(data) > max_bytes:
                raise ArticleError(
                    f"file grew to more than {max_bytes:,} bytes, {too_big}", path=path
                )
        return data


def _source_chunks(root: str, path: str, max_bytes: int, limit: str) -> Iterator[bytes]:
    """A file of the articles folder a chunk at a time (never whole in memory), by the rules
    of :func:`_read`. Any failure (reading included) is an :class:`ArticleError`, never an
    ``OSError``: the file beside the articles is at fault, not the output folder."""
    too_big = f"over the limit of {max_bytes:,} ({limit})"
    try:
        with _open_source(root, path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise ArticleError(f"file is {size:,} bytes, {too_big}", path=path)
            read = 0
            for chunk in read_chunks(f.fileno()):
                read += len(chunk)
                if read > max_bytes:
                    raise ArticleError(
                        f"file grew to more than {max_bytes:,} bytes, {too_big}", path=path
                    )
                yield chunk
    except OSError as e:
        raise ArticleError(f"cannot read: {e.strerror or e}", path=path) from e


def _parse_one(root: str, path: str, st: FileStat, ctx: ParseContext) -> IndexRow:
    """Read and parse one file into an index row; every failure becomes a problem in the row."""
    from feedpub.articles.parse import parse_article

    try:
        data = _read(root, path, ctx.max_bytes)
    except ArticleError as e:
        return _failed_row(path, st, e.message)
    except OSError as e:  # gone or unreadable now: look at it again next time
        return _failed_row(path, st, f"cannot read: {e.strerror}", retry=True)
    try:
        parsed = parse_article(path, data, ctx)
    except ArticleError as e:
        return _failed_row(path, st, e.message, e.line, hashlib.sha256(data).hexdigest())
    except Exception as e:  # a bug or a library failure must not stop the other articles
        log.exception("%s: unexpected error while parsing", path)
        return _failed_row(path, st, f"could not be parsed: {type(e).__name__}: {e}")
    return IndexRow(
        path=path,
        size=st.size,
        mtime_ns=st.mtime_ns,
        content_hash=parsed.meta.content_hash,
        meta=parsed.meta,
        problems=parsed.warnings,
        meta_json=meta_to_json(parsed.meta),
        body_html=parsed.body_html,
        excerpt=parsed.excerpt,
    )


def _failed_row(
    path: str,
    st: FileStat,
    message: str,
    line: int | None = None,
    digest: str | None = None,
    *,
    retry: bool = False,
) -> IndexRow:
    """A file that cannot be published now. ``retry``: index it as never seen, so the next
    build reads it again even if it comes back with the same size and time (a save or a
    move in progress)."""
    return IndexRow(
        path=path,
        size=st.size,
        mtime_ns=-1 if retry else st.mtime_ns,
        content_hash=digest,
        meta=None,
        problems=(Problem(path=path, line=line, message=message),),
    )


def _parse_job(job: tuple[str, str, FileStat, ParseContext]) -> IndexRow:
    return _parse_one(*job)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rendered:
    relpath: str
    data: bytes
    fingerprint: str
    kind: str
    feed_key: str | None
    copy: bool = False  # no ``data``: a file beside the articles, copied a chunk at a time


class Builder:
    """Builds the output folder from the articles folder. One per config; not thread-safe."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        workers: int | None = None,
        start: StartMethod = "auto",
    ) -> None:
        """``workers``: processes that parse articles (default: one per CPU); 0 parses in
        this process, without the time budget (for tests and embedding). ``start``: how
        they are started (see :mod:`feedpub.pool`)."""
        self.config = config
        self.clock = clock
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.start: StartMethod = start
        self.ctx = ParseContext(
            tz=config.site.tz,
            base_url=config.site.base_url,
            max_bytes=config.feeds.max_article_bytes,
            max_content_bytes=config.feeds.max_content_bytes,
            article_url=config.site.article_url,
            category_from_folder=config.feeds.category_from_folder,
            root=str(config.paths.articles),
            languages=(*config.site.languages, config.site.language.lower()),
        )
        self.links = Links(site=config.site, hubs=config.advertised_hubs)
        self._pool: Pool[tuple[str, str, FileStat, ParseContext], IndexRow] | None = None
        self._swept = False  # leftovers of a killed build removed (once per process)
        self.output_id: str | None = None  # the output folder's marker, once a build claimed it

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Builder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parse_files(
        self,
        items: Sequence[tuple[str, FileStat]],
        progress: Progress | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[list[IndexRow]]:
        """Parse files, yielding rows in batches of about ``BATCH`` (bounded memory).

        Each file is parsed in a worker process under the time budget
        (``feeds.article_timeout_seconds``): one that takes longer is stopped and reported,
        and the others go on."""
        root = str(self.config.paths.articles)
        jobs = [(root, path, st, self.ctx) for path, st in items]
        if self.workers <= 0:
            for chunk in chunked(jobs, BATCH):
                if should_stop():
                    raise BuildCancelled("stopped while parsing; the next build carries on")
                yield [_parse_job(job) for job in chunk]
            return
        if self._pool is None:
            self._pool = Pool(
                self.workers,
                budget=self.config.feeds.article_timeout_seconds,
                start=self.start,
                chunk=max(1, min(64, len(jobs) // (self.workers * 4))),
            )
        pending: list[IndexRow] = []
        done = 0
        try:
            for i, result in self._pool.run(_parse_job, jobs, should_stop=should_stop):
                if isinstance(result, Failed):
                    _, path, st, _ = jobs[i]
                    log.error("%s: %s", path, result.reason)
                    pending.append(_failed_row(path, st, f"not published: {result.reason}"))
                else:
                    pending.append(result)
                done += 1
                if len(pending) >= BATCH:
                    yield pending
                    pending = []
                if progress and done % 50 == 0:
                    progress("parse", done, len(jobs))
        except Cancelled as e:
            raise BuildCancelled("stopped while parsing; the next build carries on") from e
        if pending:
            yield pending

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
                    self.clock(),
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

    def build(
        self,
        *,
        progress: Progress | None = None,
        paths: set[str] | None = None,
        should_stop: Callable[[], bool] | None = None,
        adopt: bool = False,
    ) -> BuildResult:
        """Bring the output folder up to date. Article problems are returned, not raised.

        ``paths`` (relative article paths a watcher saw change) limits the look at the folder
        to those files; ``None`` scans it all. ``should_stop`` is polled between batches and
        cancels the build (:class:`BuildCancelled`), leaving the state consistent.

        The output folder must be feedpub's (:func:`feedpub.output.claim_output`), else
        :class:`OutputError`; ``adopt`` takes it anyway, and lets this build replace the
        files it finds at the paths it publishes. A file that cannot be written because the
        folder is full, read-only or gone raises :class:`OutputError` too (what was written
        is whole); a file that is not feedpub's to replace is a problem in the result.
        """
        articles_dir = self.config.paths.articles
        if not articles_dir.is_dir():
            raise ConfigError(
                f"the articles folder {articles_dir} does not exist", key="paths.articles"
            )
        stop = should_stop or (lambda: False)
        with (
            build_lock(self.config.paths.state, should_stop=stop),
            State(self.config.state_target) as state,
        ):
            self.output_id = claim_output(
                self.config.paths.output, lambda: output_manifest(state), adopt=adopt
            )
            if not self._swept:  # what a killed build left behind, once per process
                self._swept = True
                sweep_temporaries(self.config.paths.output)
            unwritten = self._write_redirects()
            result = self._build(state, progress, paths, stop, adopt)
            return replace(result, problems=result.problems + unwritten) if unwritten else result

    def _write_redirects(self) -> tuple[Problem, ...]:
        """The nginx include for ``[feeds] redirects``, beside the state file (when they
        changed); a problem if it cannot be written (the feeds are published anyway)."""
        from feedpub.redirects import include_path, write_nginx_include

        try:
            write_nginx_include(self.config)
        except OSError as e:
            path = include_path(self.config.paths.state)
            log.error("%s: not written: %s", path, e.strerror or e)
            return (Problem(path=str(path), message=f"not written: {e.strerror or e}"),)
        return ()

    def _build(
        self,
        state: State,
        progress: Progress | None,
        hint: set[str] | None,
        should_stop: Callable[[], bool],
        adopt: bool = False,
    ) -> BuildResult:
        cfg = self.config
        now = self.clock()
        now_us = to_us(now)
        config_fp = cfg.fingerprint()
        config_changed = state.get("config") != config_fp or state.get("version") != __version__
        if config_changed:  # dates, slugs and URLs may all read differently: parse everything
            with state.transaction():
                state.clear_index()
        skipped: list[SkippedFile] = []
        others: dict[str, int] = {}  # files that are no articles, by suffix (full scans only)
        if hint is not None and not config_changed:  # look at the named files only
            indexed = state.index_stats(hint)
            stats, excluded = excluding(
                stat_paths(cfg.paths.articles, hint, skipped), cfg.paths.exclude
            )
            changed = [(p, st) for p, st in stats.items() if indexed.get(p) != st]
            removed = [p for p in hint if p in indexed and p not in stats]
            article_count = state.article_count() + len(stats) - len(indexed)
        else:
            indexed = state.index_stats()
            stats, excluded = excluding(
                scan(cfg.paths.articles, skipped, others), cfg.paths.exclude
            )
            changed = [(p, st) for p, st in stats.items() if indexed.get(p) != st]
            removed = [p for p in indexed if p not in stats]
            article_count = len(stats)
        next_live = state.get("next_go_live")
        outputs = state.outputs()
        claims: set[str] = set(json.loads(state.get(CLAIMS) or "[]"))
        if (
            not changed
            and not claims  # a build stopped while writing: finish its job
            and not adopt
            and not removed
            and not config_changed
            and state.get("dirty") is None  # an earlier build indexed changes it never published
            and (next_live is None or datetime.fromisoformat(next_live) > now)
            and self._outputs_intact(outputs)
            and self._media_unchanged(outputs, config_fp, state.media_refs(now_us))
            and not (state.postgres and state.get("published_complete") is None)  # backfill
            and (cached := state.get("last_result")) is not None
        ):
            log.debug("nothing changed")
            cached_result = result_from_json(cached, articles=article_count, unchanged=len(outputs))
            return replace(
                cached_result,
                skipped=tuple(skipped),
                not_articles=tuple(sorted(others.items())),
                excluded=len(excluded),
            )

        with state.transaction():
            state.drop_articles(removed)
            state.retire_identities(removed)
            if removed:
                state.put("dirty", "1")
        batch = self._index(state, changed, now, progress, should_stop)
        if should_stop():
            raise BuildCancelled("stopped before rendering; the next build carries on")

        # plan: the index finds each feed's newest articles; only those are loaded
        with state.transaction():
            if state.expire(now_us):  # (Hugo's expiryDate: out of every feed and page)
                state.put("dirty", "1")
        visible, scheduled, drafts, next_us = state.tally(now_us)
        hidden = state.hidden_count()
        drafts -= hidden
        expiry_us = state.next_expiry(now_us)
        losers, problems = duplicate_losers(state.duplicate_ids(now_us))
        names, merge_problems = merged_categories(state.category_spellings(now_us))
        problems = state.problems() + problems + merge_problems
        wanted = set(state.newest(now_us, cfg.feeds.max_entries + len(losers)))
        for key in state.category_keys():
            name = names.get(key)
            limit = (cfg.feeds.for_category(name).max_entries if name else None) or (
                cfg.feeds.max_entries
            )
            wanted.update(state.newest_in(key, now_us, limit + len(losers)))
        candidates = state.load_articles(wanted - losers)
        known_feeds: dict[str, str] = json.loads(state.get("feeds") or "{}")
        the_plan = plan(
            candidates,
            site=cfg.site,
            feeds=cfg.feeds,
            now=now,
            known_feeds=known_feeds,
            category_names=names,
        )

        # pages: every published article of ours has one (hidden ones too). Rendered when
        # the article was read by this build or has none yet (a new, or newly live, article);
        # the others are carried as they are. A full scan also looks for pages gone from disk.
        # what each article's links to other articles resolve to now: a page or feed that
        # shows an article whose link target moved (a new slug, published, gone) is redone
        linked = self._link_digests(state, now)
        linked_before: dict[str, str] = json.loads(state.get("link_digests") or "{}")
        pages: list[Article] = []
        carried: set[str] = set()
        translations: dict[str, list[tuple[str, str]]] = {}
        if cfg.feeds.article_pages:
            wanted_pages = state.page_paths(now_us) - losers
            have = {r.feed_key: r for r in outputs.values() if r.kind == "page" and r.feed_key}
            now_pages = {p for p in wanted_pages if p in batch or p not in have}
            if hint is None:
                now_pages |= {p for p in wanted_pages - now_pages if not self._intact(have[p])}
            # translations: a page shows its article's other versions (hreflang alternates)
            translations = state.translations(now_us, cfg.site.language)
            before = json.loads(state.get("translations") or "{}")
            now_pages |= {
                p
                for p in wanted_pages
                if translations.get(p, []) != [tuple(t) for t in before.get(p, [])]
                or linked.get(p) != linked_before.get(p)
            }
            loaded = {a.path: a for a in the_plan.pages if a.path in now_pages}
            pages = list(loaded.values()) + state.load_articles(now_pages - set(loaded))
            carried = (wanted_pages & set(have)) - now_pages

        # archives (RFC 5005): every feed's entries older than its subscription document, cut
        # into pages from the oldest; a full page keeps its boundaries (``archive_pages``)
        the_plan, archives, sealed = self._archives(state, the_plan, losers, now_us)

        rendered = self._render(
            state,
            the_plan,
            archives,
            pages,
            outputs,
            config_fp,
            progress,
            problems,
            translations,
            linked,
        )
        rendered += self._media(state.media_refs(now_us), outputs, config_fp, problems)
        written, changed_feed_urls, records, changed_bytes = self._write(
            state, rendered, outputs, claims, problems, adopt=adopt
        )
        produced = {r.relpath for r in rendered} | {
            r.relpath for r in outputs.values() if r.kind == "page" and r.feed_key in carried
        }
        stale = sorted({p for p in outputs if p not in produced} | (claims - produced))
        for relpath in stale:
            try:
                remove_file(cfg.paths.output, relpath)
            except OutputRefused as e:
                log.error("%s", e)
                problems.append(Problem(path=str(e.path), message=f"not removed: {e.message}"))
        next_go_live = from_us(next_us) if next_us is not None else None
        next_expiry = from_us(expiry_us) if expiry_us is not None else None
        result = BuildResult(
            articles=article_count,
            published=visible - len(losers),
            scheduled=scheduled,
            drafts=drafts,
            hidden=hidden,
            written=tuple(written),
            unchanged=len(rendered) - len(written) + len(carried),
            removed=tuple(stale),
            problems=tuple(sorted(problems, key=lambda p: (p.path, p.line or 0, p.message))),
            next_go_live=next_go_live,
            next_expiry=next_expiry,
            event=PublishEvent(
                changed_feed_urls=tuple(changed_feed_urls),
                written=tuple(written),
                removed=tuple(stale),
                at=now,
            ),
            parsed=len(changed),
            feeds=tuple(s.key for s in the_plan.feeds),
            skipped=tuple(skipped),
            not_articles=tuple(sorted(others.items())),
            excluded=len(excluded),
        )
        notifications = 0
        with state.transaction():
            if changed_feed_urls:  # recorded with the change itself: a crash cannot lose it
                from feedpub.notify.plan import notifications_for

                notifications = state.enqueue(
                    notifications_for(
                        changed_feed_urls,
                        config=cfg.notify,
                        main_feed_url=self.links.feed_url("all", cfg.feeds.formats[0]),
                        subscribers=state.subscribers(changed_feed_urls, now)
                        if cfg.hub.enabled
                        else {},
                        hub_url=cfg.hub_url,
                        now=now,
                    ),
                    now,
                )
            state.put_outputs(records)
            state.delete_outputs(stale)
            if state.postgres:  # the bytes too, for standby daemons on other hosts
                self._publish_bytes(state, changed_bytes, stale)
            state.put("config", config_fp)
            state.put("version", __version__)
            state.put(
                "feeds",
                json.dumps(
                    {
                        s.key: s.category or s.language
                        for s in the_plan.feeds
                        if s.category or s.language
                    },
                    ensure_ascii=False,
                    sort_keys=True,
                ),
            )
            state.put("archives", sealed)
            # (the next time the feeds change by themselves: a build is due then)
            due = min((t for t in (next_go_live, next_expiry) if t is not None), default=None)
            state.put("next_go_live", due.isoformat() if due else None)
            state.put("last_build", now.isoformat())
            state.put(
                "link_digests",
                json.dumps(linked, ensure_ascii=False, sort_keys=True) if linked else None,
            )
            state.put(
                "translations",
                json.dumps(translations, ensure_ascii=False, sort_keys=True)
                if translations
                else None,
            )
            state.put("last_result", result_to_json(result))
            state.put("dirty", None)
            state.put(CLAIMS, None)  # every claimed path is in the manifest, or removed
        if notifications:
            log.info("%d notifications queued", notifications)
        return replace(result, notifications=notifications)

    def _index(
        self,
        state: State,
        changed: Sequence[tuple[str, FileStat]],
        now: datetime,
        progress: Progress | None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> set[str]:
        """Parse the changed files, settle their identities, store them. Returns their paths."""
        cfg = self.config
        batch: set[str] = set()
        if not changed:
            return batch
        taken: set[str] | None = None  # loaded once a new article or a new slug needs it
        names: dict[str, list[str]] = {}

        def names_now() -> dict[str, list[str]]:  # (once an article names another)
            if not names:
                names.update(name_index(set(state.article_paths()) | {p for p, _ in changed}))
            return names

        for parsed in self.parse_files(changed, progress, should_stop):
            if should_stop():
                raise BuildCancelled("stopped while parsing; the next build carries on")
            rows = _keeping_last_good(parsed, state.parsed_paths([r.path for r in parsed]))
            metas = [r.meta for r in rows if r.meta is not None]
            known = state.identities_for([m.path for m in metas])
            new_hashes = [m.content_hash for m in metas if m.path not in known]
            if taken is None and (new_hashes or any(m.slug for m in metas)):
                taken = state.live_slugs()
            orphans = state.orphans_for(new_hashes) if new_hashes else {}
            settled = resolve(
                metas,
                known,
                orphans=orphans,
                taken=taken or set(),
                now=now,
                tz=cfg.site.tz,
                host=cfg.site.host,
                article_url=cfg.site.article_url,
                base_url=cfg.site.base_url,
                language=cfg.site.language,
                atom_ids=state.atom_ids_for(
                    atom_id_keys(metas, [*known.values(), *orphans.values()])
                ),
            )
            if taken is not None:
                taken |= settled.slugs
            unnamed = unresolved_names(rows, names_now)
            if settled.problems or unnamed:  # kept with the file's own problems, reported
                extra: dict[str, list[Problem]] = {}
                for p in (*settled.problems, *unnamed):
                    extra.setdefault(p.path, []).append(p)
                rows = [
                    replace(r, problems=r.problems + tuple(extra[r.path])) if r.path in extra else r
                    for r in rows
                ]
            with state.transaction():
                state.put("dirty", "1")  # cleared when a build publishes: never skip it
                state.put_articles(
                    rows,
                    {a.path: a for a in settled.articles},
                    now_us=to_us(now),
                    language=cfg.site.language,
                    tags=cfg.feeds.tags,
                )
                state.delete_identities(settled.retired)
                state.put_identities(settled.identities)
                state.put_atom_ids(settled.atom_ids)
            batch.update(r.path for r in rows)
        return batch

    def _archives(
        self, state: State, the_plan: Plan, losers: set[str], now_us: int
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
            current = {a.path for a in spec.entries}
            members = state.members(now_us, None if spec.key == ALL_KEY else spec.key)
            archived = sorted(
                (m for m in members if m.path not in current and m.path not in losers),
                key=lambda m: (m.date_us, m.article_id),
            )
            cuts, kept[spec.key] = archive_pages(
                [(m.date_us, m.article_id) for m in archived],
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

    def _intact(self, rec: OutputRecord) -> bool:
        """Whether the file of an output record is on disk as recorded."""
        try:
            st = stat_file(self.config.paths.output, rec.relpath)
        except (OSError, OutputError):
            return False
        return st is not None and st.st_size == rec.size and st.st_mtime_ns == rec.mtime_ns

    def _outputs_intact(self, outputs: dict[str, OutputRecord]) -> bool:
        root = self.config.paths.output
        for rec in outputs.values():
            try:
                st = stat_file(root, rec.relpath)
            except (OSError, OutputError):
                return False
            if st is None or st.st_size != rec.size or st.st_mtime_ns != rec.mtime_ns:
                return False
        return bool(outputs)

    def _link_digests(self, state: State, now: datetime) -> dict[str, str]:
        """Path → a digest of where the article's links to other articles lead now."""
        refs = state.article_refs(to_us(now))
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

    def _media_unchanged(
        self, outputs: dict[str, OutputRecord], config_fp: str, wanted: set[str]
    ) -> bool:
        """Whether every published file beside the articles is as it was copied, and every
        file articles link to that is not published is still not there (one added since, or
        back, is published now)."""
        root = str(self.config.paths.articles)
        from feedpub.articles.refs import MAX_MEDIA_BYTES

        for rel in wanted:
            st = _publishable(root, rel) if rel not in outputs else None
            if st is not None and st.st_size <= MAX_MEDIA_BYTES:
                return False
        for rec in outputs.values():
            if rec.kind != "media":
                continue
            try:
                st = os.stat(os.path.join(root, rec.relpath))
            except (OSError, ValueError):
                return False
            if rec.fingerprint != self._media_fingerprint(config_fp, rec.relpath, st):
                return False
        return True

    def _media_fingerprint(self, config_fp: str, relpath: str, st: os.stat_result) -> str:
        return self._fingerprint(config_fp, "media", [], [relpath, st.st_size, st.st_mtime_ns])

    def _fingerprint(
        self, config_fp: str, what: str, articles: Sequence[Article], extra: object = None
    ) -> str:
        blob = json.dumps(
            [
                __version__,
                config_fp,
                what,
                extra,
                [
                    (
                        a.path,
                        a.meta.content_hash,
                        a.id,
                        a.atom_id,
                        a.url,
                        a.slug,
                        a.date.isoformat(),
                    )
                    for a in articles
                ],
            ],
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _render(
        self,
        state: State,
        the_plan: Plan,
        archives: dict[str, list[list[Member]]],
        pages: Sequence[Article],
        outputs: dict[str, OutputRecord],
        config_fp: str,
        progress: Progress | None,
        problems: list[Problem],
        translations: Mapping[str, Sequence[tuple[str, str]]],
        linked: Mapping[str, str],
    ) -> list[_Rendered]:
        """Render what changed: each file's fingerprint (of everything it shows) is compared
        with the manifest's, and a file whose fingerprint is unchanged and whose bytes on
        disk are intact is not rendered at all. Articles and bodies are loaded only for what
        is rendered (an archive page's articles only when the page changed)."""
        from feedpub.render.pages import (
            render_index,
            render_index_page,
            render_opml,
            render_page,
        )

        cfg = self.config
        formats = cfg.feeds.formats
        # (relpath, kind, key, fingerprint, make, paths of the articles it shows)
        todo: list[tuple[str, str, str | None, str, Callable[[], bytes], Sequence[str]]] = []
        skipped: list[_Rendered] = []

        def fresh(relpath: str, fp: str) -> bool:
            rec = outputs.get(relpath)
            return rec is not None and rec.fingerprint == fp and self._intact(rec)

        def want(
            relpath: str,
            kind: str,
            key: str | None,
            fp: str,
            make: Callable[[], bytes],
            shows: Sequence[str] = (),
        ) -> None:
            if fresh(relpath, fp):
                skipped.append(
                    _Rendered(relpath=relpath, data=b"", fingerprint=fp, kind=kind, feed_key=key)
                )
            else:
                todo.append((relpath, kind, key, fp, make, shows))

        bodies: dict[str, EntryBody | None] = {}
        loaded: dict[str, Article] = {}  # articles of the archive pages being rendered

        def body(path: str) -> EntryBody | None:
            return bodies.get(path)

        budget = FEED_CONTENT_FACTOR * cfg.feeds.max_content_bytes
        for spec in the_plan.feeds:
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
                want(
                    feed_relpath(spec.key, fmt),
                    "feed",
                    spec.key,
                    fp,
                    _feed_maker(spec, fmt, self.links, body, budget),
                    shows,
                )
            for n, members in enumerate(archives.get(spec.key, ()), start=1):
                last = len(archives[spec.key])
                page = replace(
                    spec,
                    entries=(),
                    page=n,
                    prev_page=n - 1,
                    next_page=n + 1 if n < last else 0,
                )
                head = [
                    spec.key,
                    spec.title,
                    spec.content,
                    n,
                    page.prev_page,
                    page.next_page,
                    [linked[m.path] for m in members if m.path in linked],
                ]
                shows = [m.path for m in members]
                make_spec = _archive_spec(page, members, loaded)
                for fmt in formats:
                    fp = _members_fingerprint(config_fp, f"archive-{fmt}", head, members)
                    want(
                        feed_relpath(spec.key, fmt, n),
                        "archive",
                        spec.key,
                        fp,
                        _feed_maker(make_spec, fmt, self.links, body, budget),
                        shows,
                    )
        all_feed = the_plan.feeds[0]
        for a in pages:
            relpath = self._page_relpath(a)
            if relpath is None:
                continue
            if relpath in (INDEX_PATH, OPML_PATH) or relpath.startswith(
                ("feeds/", INDEX_PAGES_DIR)
            ):
                problems.append(
                    Problem(
                        path=a.path,
                        message=f"its page would be {relpath}, which the site's index or feeds "
                        "use: no page written (give it another slug)",
                        severity=Severity.WARNING,
                    )
                )
                continue
            versions = translations.get(a.path, ())
            fp = self._fingerprint(
                config_fp, "page", [a], [[list(v) for v in versions], linked.get(a.path)]
            )

            def make_page(a: Article = a, versions: Sequence[tuple[str, str]] = versions) -> bytes:
                b = bodies.get(a.path) or EntryBody(content_html="", summary="")
                return render_page(a, b, formats, all_feed, self.links, versions)

            want(relpath, "page", a.path, fp, make_page, [a.path])
        feeds_fp = hashlib.sha256(
            json.dumps(
                [
                    __version__,
                    config_fp,
                    [
                        (
                            s.key,
                            s.title,
                            s.category,
                            [(a.id, a.url, a.meta.title, a.date.isoformat()) for a in s.entries],
                        )
                        for s in the_plan.feeds
                    ],
                ],
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
        want(
            INDEX_PATH,
            "index",
            None,
            hashlib.sha256(f"{feeds_fp} {all_feed.prev_page}".encode()).hexdigest(),
            lambda: render_index(the_plan.feeds, formats, self.links, older=all_feed.prev_page),
        )
        want(
            OPML_PATH,
            "index",
            None,
            feeds_fp,
            lambda: render_opml(the_plan.feeds, formats, self.links),
        )
        # the index's older pages: those of the feed of all articles' archive documents
        all_pages = archives.get(all_feed.key, [])
        for n, members in enumerate(all_pages, start=1):
            page = replace(
                all_feed,
                entries=(),
                page=n,
                prev_page=n - 1,
                next_page=n + 1 if n < len(all_pages) else 0,
            )
            make_spec = _archive_spec(page, members, loaded)
            want(
                index_relpath(n),
                "index",
                None,
                _members_fingerprint(
                    config_fp, "index-page", [n, page.next_page, all_feed.title], members
                ),
                lambda make_spec=make_spec: render_index_page(  # type: ignore[misc]
                    make_spec(), formats, self.links, all_feed=all_feed
                ),
                [m.path for m in members],
            )

        # articles and bodies for exactly the files being rendered
        known: dict[str, Article] = {a.path: a for a in pages}
        for spec in the_plan.feeds:
            known.update((a.path, a) for a in spec.entries)
        paths = {p for item in todo for p in item[5]}
        missing = [p for p in paths if p not in known]
        if missing:
            for a in state.load_articles(missing):
                known[a.path] = a
        loaded.update((p, known[p]) for p in paths if p in known)
        need = [known[p] for p in paths if p in known]
        if need:
            if progress:
                progress("render", 0, len(need))
            bodies.update(self._bodies(state, need))
        out = list(skipped)
        for i, (relpath, kind, key, fp, make, _) in enumerate(todo):
            try:
                data = make()
            except RenderError as e:
                # keep whatever was published before; report, and carry on with the rest
                log.error("%s", e)
                problems.append(Problem(path=relpath, message=str(e)))
                data = b""
            out.append(
                _Rendered(relpath=relpath, data=data, fingerprint=fp, kind=kind, feed_key=key)
            )
            if progress and i % 50 == 0:
                progress("write", i, len(todo))
        return out

    def _media(
        self,
        wanted: set[str],
        outputs: dict[str, OutputRecord],
        config_fp: str,
        problems: list[Problem],
    ) -> list[_Rendered]:
        """The files beside the articles that pages link to, copied to the same path in the
        output folder: read and written again only when the file changed (its size or time)
        or the published copy did. Copied, not linked: editing the file in the articles
        folder never changes a published file in place. Nothing is read here: a file to copy
        is marked ``copy``, and :meth:`_write` streams it, one file and one chunk at a time."""
        src_root = str(self.config.paths.articles)
        out_root = self.config.paths.output
        out: list[_Rendered] = []
        for rel in sorted(wanted):
            if not servable(rel) or (rel in outputs and outputs[rel].kind != "media"):
                continue  # (a dotfile; or a path the site itself publishes)
            st = _publishable(src_root, rel)
            if st is None:
                continue  # gone (the article's warning says so), hidden, too large...
            fp = self._media_fingerprint(config_fp, rel, st)
            rec = outputs.get(rel)
            if rec is not None and rec.fingerprint == fp:
                try:
                    now_st = stat_file(out_root, rel)
                except (OSError, OutputError):
                    now_st = None
                if (
                    now_st is not None
                    and now_st.st_size == rec.size
                    and now_st.st_mtime_ns == rec.mtime_ns
                ):
                    out.append(
                        _Rendered(
                            relpath=rel, data=b"", fingerprint=fp, kind="media", feed_key=None
                        )
                    )
                    continue
            out.append(
                _Rendered(
                    relpath=rel, data=b"", fingerprint=fp, kind="media", feed_key=None, copy=True
                )
            )
        return out

    def _page_relpath(self, a: Article) -> str | None:
        base = self.config.site.base_url
        if not a.url.startswith(base):
            return None
        rel = unquote(a.url[len(base) :].split("#", 1)[0].split("?", 1)[0])
        if not rel or rel.endswith("/"):
            rel += "index.html"
        return rel

    def _publish_bytes(
        self, state: State, changed: list[tuple[str, str, bytes | None]], stale: list[str]
    ) -> None:
        """Keep ``published`` (the bytes behind the manifest) in step with it: what changed,
        what went, and anything the manifest lists without bytes (files published before
        the table existed, or by a build that stopped) read back from the output folder.
        Files beside the articles (``bytes`` None; media, up to 64 MiB) are read back from
        the output folder and stored in pieces, never whole in memory."""
        from feedpub.articles.refs import is_media

        state.put_published([(p, d, b) for p, d, b in changed if b is not None])
        complete = all(self._publish_chunks(state, p, d) for p, d, b in changed if b is None)
        state.delete_published(stale)
        if state.get("published_complete") is not None and complete:
            return  # every build since the backfill kept it complete (same transaction)
        missing = state.unpublished()
        backfill: list[tuple[str, str, bytes]] = []
        done = 0
        for relpath, digest in sorted(missing.items()):
            if is_media(relpath):
                done += self._publish_chunks(state, relpath, digest)
                continue
            found = read_file(self.config.paths.output, relpath)
            if found is not None and sha256(found[0]) == digest:
                backfill.append((relpath, digest, found[0]))
        state.put_published(backfill)
        done += len(backfill)
        if done:
            log.info("stored the bytes of %d earlier files in the state store", done)
        if done == len(missing):
            state.put("published_complete", "1")
        else:
            state.put("published_complete", None)

    def _publish_chunks(self, state: State, relpath: str, digest: str) -> bool:
        """Store a published file in ``published_chunks``, read back from the output folder
        a chunk at a time. False (nothing stored) when its bytes are not ``digest`` now."""
        with open_file(self.config.paths.output, relpath) as opened:
            if opened is None:
                return False
            hashed = hashlib.sha256()

            def chunks() -> Iterator[bytes]:
                for chunk in read_chunks(opened[0]):
                    hashed.update(chunk)
                    yield chunk

            try:
                state.put_published_chunks(relpath, digest, chunks())
            except OSError:
                hashed.update(b"\0")  # (unreadable: not these bytes)
            if hashed.hexdigest() == digest:
                return True
        state.delete_published([relpath])
        return False

    def _write(
        self,
        state: State,
        rendered: list[_Rendered],
        outputs: dict[str, OutputRecord],
        claims: set[str],
        problems: list[Problem],
        *,
        adopt: bool = False,
    ) -> tuple[list[str], list[str], list[OutputRecord], list[tuple[str, str, bytes | None]]]:
        """Write what differs on disk. A feed counts as changed (for notifications) when its
        bytes differ from what the manifest says was published: so a crash after writing a
        file but before recording it still notifies on the next build. Also returns
        (relpath, sha256, bytes) of every file whose published bytes changed (bytes None: a
        file beside the articles, copied a chunk at a time and never held whole).

        Only paths the manifest lists (or ``claims``: a build that stopped was writing them,
        or, with ``adopt``, every path) are replaced, and new paths written; a file that is
        there and is not feedpub's is left alone and reported as a problem
        (:func:`feedpub.output.may_write`). Paths about to be written that the manifest does
        not list are claimed in the state first. A file the folder cannot take (full,
        read-only) stops the build: :class:`OutputError`."""
        root = self.config.paths.output
        written: list[str] = []
        feed_urls: list[str] = []
        records: list[OutputRecord] = []
        changed: list[tuple[str, str, bytes | None]] = []
        todo: list[tuple[_Rendered, str, bool, bool]] = []  # (file, sha256, on disk, owned)
        for r in rendered:
            if not r.data and not r.copy:  # fresh: nothing rendered, nothing to write
                continue
            digest = "" if r.copy else sha256(r.data)  # (a copy's: known once copied)
            if not r.copy and matches(root, r.relpath, digest, len(r.data)):
                todo.append((r, digest, True, True))  # (these very bytes are ours too)
                continue
            owned = adopt or r.relpath in outputs or r.relpath in claims
            refusal = may_write(root, r.relpath, owned=owned)
            if refusal is not None:
                path = root / r.relpath
                log.error("%s: not written: %s", path, refusal)
                problems.append(Problem(path=str(path), message=f"not written: {refusal}"))
                continue
            todo.append((r, digest, False, owned))
        new_claims = {r.relpath for r, _, _, _ in todo if r.relpath not in outputs} - claims
        if new_claims:
            claims |= new_claims
            with state.transaction():
                state.put(CLAIMS, json.dumps(sorted(claims), ensure_ascii=False))
        for r, known, on_disk, owned in todo:
            old = outputs.get(r.relpath)
            digest = known
            if not on_disk:
                try:  # a path nobody owned must still be free as the file is put in place
                    if r.copy:
                        digest = self._copy(r.relpath, new=not owned)
                    else:
                        write_file(root, r.relpath, r.data, new=not owned)
                except OutputRefused as e:
                    log.error("%s", e)
                    problems.append(Problem(path=str(e.path), message=f"not written: {e.message}"))
                    continue
                except ArticleError as e:  # (the file beside the articles: unreadable, ...)
                    problems.append(Problem(path=r.relpath, message=f"not published: {e.message}"))
                    continue
                written.append(r.relpath)
            elif old is None or old.sha256 != digest:
                written.append(r.relpath)  # on disk already, but never recorded
            st = stat_file(root, r.relpath)
            if st is None:  # removed this very moment: absent, so written again next time
                log.warning("%s: vanished as it was written", root / r.relpath)
                continue
            if old is None or old.sha256 != digest:
                changed.append((r.relpath, digest, None if r.copy else r.data))
                if r.kind == "feed":
                    feed_urls.append(self.config.site.base_url + quote(r.relpath))
            records.append(
                OutputRecord(
                    relpath=r.relpath,
                    sha256=digest,
                    fingerprint=r.fingerprint,
                    size=st.st_size,
                    mtime_ns=st.st_mtime_ns,
                    feed_key=r.feed_key,
                    kind=r.kind,
                )
            )
        return written, feed_urls, records, changed

    def _copy(self, relpath: str, *, new: bool) -> str:
        """Copy a file beside the articles to the same path in the output folder, streaming
        (by :func:`feedpub.output.write_stream`'s rules); returns its sha256."""
        from feedpub.articles.refs import MAX_MEDIA_BYTES

        chunks = _source_chunks(
            str(self.config.paths.articles),
            relpath,
            MAX_MEDIA_BYTES,
            "for a file beside the articles",
        )
        return write_stream(self.config.paths.output, relpath, chunks, new=new)[0]


def _publishable(root: str, relpath: str) -> os.stat_result | None:
    """The status of a file beside the articles if it may be published (see
    :func:`~feedpub.articles.discover.file_beside`; its size is checked as it is read)."""
    return file_beside(root, relpath) if servable(relpath) else None


def output_manifest(state: State) -> dict[str, tuple[str, int]]:
    """The output manifest as :func:`feedpub.output.claim_output` reads it."""
    return {r.relpath: (r.sha256, r.size) for r in state.outputs().values()}


def _keeping_last_good(rows: list[IndexRow], good: set[str]) -> list[IndexRow]:
    """Rows of files that fail now, whose earlier version parsed (``good``), say that the
    earlier version stays published (the state store keeps it: see ``put_articles``)."""
    return [
        replace(
            r,
            problems=tuple(
                replace(p, message=p.message + LAST_GOOD_NOTE)
                if p.severity is Severity.ERROR
                else p
                for p in r.problems
            ),
        )
        if r.meta is None and r.path in good
        else r
        for r in rows
    ]


LAST_GOOD_NOTE = "; the version published before stays published until this is fixed"


FEED_CONTENT_FACTOR = 4
"""A feed carries at most this many times ``feeds.max_content_bytes`` of content in all (2 MiB
by default); later entries carry their summary. Every category feed an article is in holds
its body, and every reader and hub subscriber fetches every feed."""


def _within_budget(
    spec: FeedSpec, body: Callable[[str], EntryBody | None], budget: int
) -> Callable[[str], EntryBody | None]:
    """``body``, but for the entries past the feed's content budget (newest first), which
    show their summary."""
    shown: set[str] = set()
    used = 0
    for a in spec.entries:
        b = body(a.path)
        if b is None or not b.in_feeds:
            continue
        used += len(b.content_html)
        if used > budget:
            break
        shown.add(a.path)

    def budgeted(path: str) -> EntryBody | None:
        b = body(path)
        return b if b is None or path in shown else replace(b, in_feeds=False)

    return budgeted


def _feed_maker(
    spec: FeedSpec | Callable[[], FeedSpec],
    fmt: str,
    links: Links,
    body: Callable[[str], EntryBody | None],
    budget: int,
) -> Callable[[], bytes]:
    """Renders ``spec`` (or the spec a function makes when called: an archive page's, whose
    articles are loaded only if it is rendered) in one format."""

    def make() -> bytes:
        the_spec = spec if isinstance(spec, FeedSpec) else spec()
        body_of = _within_budget(the_spec, body, budget)
        if fmt == "json":
            from feedpub.render.jsonfeed import render_json

            return render_json(the_spec, links, body_of)
        from feedpub.render.xmlfeeds import render_xml

        return render_xml(the_spec, "atom" if fmt == "atom" else "rss", links, body_of)

    return make


def _archive_spec(
    page: FeedSpec, members: Sequence[Member], loaded: Mapping[str, Article]
) -> Callable[[], FeedSpec]:
    """An archive page's spec, made when it is rendered (its articles loaded by then):
    its entries newest first, as in every feed document."""

    def make() -> FeedSpec:
        entries = tuple(loaded[m.path] for m in reversed(members) if m.path in loaded)
        return replace(
            page, entries=entries, updated=max((a.updated for a in entries), default=EPOCH)
        )

    return make


def _members_fingerprint(
    config_fp: str, what: str, extra: object, members: Sequence[Member]
) -> str:
    """The fingerprint of a page of archived articles, from the index's columns (the
    content hash stands for everything the file of an article says)."""
    blob = json.dumps(
        [__version__, config_fp, what, extra, [tuple(m) for m in members]],
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


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
    known = {}
    if not isinstance(config.state_target, Path) or config.state_target.exists():
        with State(config.state_target) as state:
            known = state.identities_for([m.path for m in metas])
    resolved = resolve(
        metas,
        known,
        orphans={},
        taken=set(),
        now=now,
        tz=config.site.tz,
        host=config.site.host,
        article_url=config.site.article_url,
        base_url=config.site.base_url,
        language=config.site.language,
    )
    the_plan = plan(resolved.articles, site=config.site, feeds=config.feeds, now=now)
    problems += list(resolved.problems) + list(the_plan.problems)
    return len(stats), sorted(problems, key=lambda p: (p.path, p.line or 0, p.message)), skipped
