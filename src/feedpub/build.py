"""The build: scan → index (parse what changed) → settle identities → plan → render → write.

O(changed): unchanged files come from the index (path, size, mtime); a feed whose inputs are
unchanged (same fingerprint) and whose file on disk is intact is not rendered again; a body is
rendered only when a feed or page that shows it is rendered. Parsing and body rendering use
every core on large batches.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, unquote

from feedpub import __version__
from feedpub.articles.context import SLUG_MARK, ParseContext
from feedpub.articles.discover import FileStat, excluding, scan, stat_paths
from feedpub.config import Config
from feedpub.errors import (
    ArticleError,
    BuildCancelled,
    ConfigError,
    OutputError,
    OutputRefused,
    RenderError,
    StateError,
)
from feedpub.identity import atom_id_keys, resolve
from feedpub.model import (
    Article,
    BuildResult,
    FeedSpec,
    Plan,
    Problem,
    PublishEvent,
    Severity,
    SkippedFile,
)
from feedpub.output import (
    claim_output,
    matches,
    may_write,
    read_file,
    remove_file,
    sha256,
    stat_file,
    sweep_temporaries,
    write_file,
)
from feedpub.planning import duplicate_losers, merged_categories, plan
from feedpub.pool import Cancelled, Failed, Pool, StartMethod
from feedpub.render import (
    INDEX_PATH,
    OPML_PATH,
    EntryBody,
    Links,
    feed_relpath,
)
from feedpub.state import IndexRow, OutputRecord, State, from_us, meta_to_json, to_us

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


def _read(root: str, path: str, max_bytes: int) -> bytes:
    """An article file's bytes; a file over the size limit is refused without reading it.

    What was opened is checked to lie inside the articles folder: the scan checked the path,
    but a symlink swapped in since (or a folder on the way) could lead anywhere."""
    too_big = f"over the limit of {max_bytes:,} (feeds.max_article_bytes)"
    # (non-blocking: a FIFO put in the file's place must not hang the read)
    fd = os.open(os.path.join(root, path), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ArticleError("not a regular file (any more); not read", path=path)
        with contextlib.suppress(OSError):  # (no /proc: not Linux)
            opened = os.readlink(f"/proc/self/fd/{f.fileno()}")
            inside = _real(root)
            if os.path.commonpath([inside, opened]) != inside:
                raise ArticleError(
                    "leads outside the articles folder (a symlink); not read", path=path
                )
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


def _chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + size]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rendered:
    relpath: str
    data: bytes
    fingerprint: str
    kind: str
    feed_key: str | None


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
            for chunk in _chunked(jobs, BATCH):
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
        out: dict[str, EntryBody | None] = {}
        for a in articles:
            found = stored.get(a.path)
            out[a.path] = (
                None
                if found is None
                else EntryBody(
                    content_html=found[0].replace(SLUG_MARK, a.slug),
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
            _lock(self.config.paths.state, should_stop=stop),
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
            and not (state.postgres and state.get("published_complete") is None)  # backfill
            and (cached := state.get("last_result")) is not None
        ):
            log.debug("nothing changed")
            cached_result = _result_from_json(
                cached, articles=article_count, unchanged=len(outputs)
            )
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
        visible, scheduled, drafts, next_us = state.tally(now_us)
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

        # pages: those the feeds link to, and those published before that are still wanted
        pages = list(the_plan.pages)
        carried: set[str] = set()
        if cfg.feeds.article_pages:
            linked = {a.path for a in pages}
            kept = state.valid_kept_pages(now_us) - linked
            reload = [p for p in kept if p in batch]
            pages += state.load_articles(reload)
            carried = kept - set(reload)

        rendered = self._render(state, the_plan, pages, outputs, config_fp, progress, problems)
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
        result = BuildResult(
            articles=article_count,
            published=visible - len(losers),
            scheduled=scheduled,
            drafts=drafts,
            written=tuple(written),
            unchanged=len(rendered) - len(written) + len(carried),
            removed=tuple(stale),
            problems=tuple(sorted(problems, key=lambda p: (p.path, p.line or 0, p.message))),
            next_go_live=next_go_live,
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
                    {s.key: s.category for s in the_plan.feeds if s.category},
                    ensure_ascii=False,
                    sort_keys=True,
                ),
            )
            state.put("next_go_live", next_go_live.isoformat() if next_go_live else None)
            state.put("last_build", now.isoformat())
            state.put("last_result", _result_to_json(result))
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
                atom_ids=state.atom_ids_for(
                    atom_id_keys(metas, [*known.values(), *orphans.values()])
                ),
            )
            if taken is not None:
                taken |= settled.slugs
            if settled.problems:  # kept with the file's own problems, reported every build
                extra: dict[str, list[Problem]] = {}
                for p in settled.problems:
                    extra.setdefault(p.path, []).append(p)
                rows = [
                    replace(r, problems=r.problems + tuple(extra[r.path])) if r.path in extra else r
                    for r in rows
                ]
            with state.transaction():
                state.put("dirty", "1")  # cleared when a build publishes: never skip it
                state.put_articles(rows, {a.path: a for a in settled.articles})
                state.delete_identities(settled.retired)
                state.put_identities(settled.identities)
                state.put_atom_ids(settled.atom_ids)
            batch.update(r.path for r in rows)
        return batch

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
        pages: Sequence[Article],
        outputs: dict[str, OutputRecord],
        config_fp: str,
        progress: Progress | None,
        problems: list[Problem],
    ) -> list[_Rendered]:
        from feedpub.render.pages import render_index, render_opml, render_page

        cfg = self.config
        formats = cfg.feeds.formats
        root = cfg.paths.output
        todo: list[tuple[str, str, str | None, str, Callable[[], bytes]]] = []
        skipped: list[_Rendered] = []

        def fresh(relpath: str, fp: str) -> bool:
            rec = outputs.get(relpath)
            if rec is None or rec.fingerprint != fp:
                return False
            try:
                st = stat_file(root, relpath)
            except (OSError, OutputError):
                return False
            return st is not None and st.st_size == rec.size and st.st_mtime_ns == rec.mtime_ns

        def want(
            relpath: str, kind: str, key: str | None, fp: str, make: Callable[[], bytes]
        ) -> None:
            if fresh(relpath, fp):
                skipped.append(
                    _Rendered(relpath=relpath, data=b"", fingerprint=fp, kind=kind, feed_key=key)
                )
            else:
                todo.append((relpath, kind, key, fp, make))

        bodies: dict[str, EntryBody | None] = {}

        def body(path: str) -> EntryBody | None:
            return bodies.get(path)

        for spec in the_plan.feeds:
            extra = [spec.key, spec.title, spec.content, spec.updated.isoformat()]
            for fmt in formats:
                fp = self._fingerprint(config_fp, fmt, spec.entries, extra)
                want(
                    feed_relpath(spec.key, fmt),
                    "feed",
                    spec.key,
                    fp,
                    _feed_maker(
                        spec,
                        fmt,
                        self.links,
                        body,
                        FEED_CONTENT_FACTOR * cfg.feeds.max_content_bytes,
                    ),
                )
        all_feed = the_plan.feeds[0]
        for a in pages:
            relpath = self._page_relpath(a)
            if relpath is None:
                continue
            if relpath in (INDEX_PATH, OPML_PATH) or relpath.startswith("feeds/"):
                problems.append(
                    Problem(
                        path=a.path,
                        message=f"its page would be {relpath}, which the site's index or feeds "
                        "use: no page written (give it another slug)",
                        severity=Severity.WARNING,
                    )
                )
                continue
            fp = self._fingerprint(config_fp, "page", [a])

            def make_page(a: Article = a) -> bytes:
                b = bodies.get(a.path) or EntryBody(content_html="", summary="")
                return render_page(a, b, formats, all_feed, self.links)

            want(relpath, "page", a.path, fp, make_page)
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
            feeds_fp,
            lambda: render_index(the_plan.feeds, formats, self.links),
        )
        want(
            OPML_PATH,
            "index",
            None,
            feeds_fp,
            lambda: render_opml(the_plan.feeds, formats, self.links),
        )

        # bodies for exactly the feeds and pages being rendered
        need: dict[str, Article] = {}
        todo_keys = {key for _, kind, key, _, _ in todo if kind == "feed"}
        for spec in the_plan.feeds:
            if spec.key in todo_keys:
                for a in spec.entries:
                    need.setdefault(a.path, a)
        todo_pages = {key for _, kind, key, _, _ in todo if kind == "page"}
        for a in pages:
            if a.path in todo_pages:
                need.setdefault(a.path, a)
        if need:
            if progress:
                progress("render", 0, len(need))
            bodies.update(self._bodies(state, list(need.values())))
        out = list(skipped)
        for i, (relpath, kind, key, fp, make) in enumerate(todo):
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

    def _page_relpath(self, a: Article) -> str | None:
        base = self.config.site.base_url
        if not a.url.startswith(base):
            return None
        rel = unquote(a.url[len(base) :].split("#", 1)[0].split("?", 1)[0])
        if not rel or rel.endswith("/"):
            rel += "index.html"
        return rel

    def _publish_bytes(
        self, state: State, changed: list[tuple[str, str, bytes]], stale: list[str]
    ) -> None:
        """Keep ``published`` (the bytes behind the manifest) in step with it: what changed,
        what went, and anything the manifest lists without bytes (files published before
        the table existed, or by a build that stopped) read back from the output folder."""
        state.put_published(changed)
        state.delete_published(stale)
        if state.get("published_complete") is not None:
            return  # every build since the backfill kept it complete (same transaction)
        missing = state.unpublished()
        backfill: list[tuple[str, str, bytes]] = []
        for relpath, digest in sorted(missing.items()):
            found = read_file(self.config.paths.output, relpath)
            if found is not None and sha256(found[0]) == digest:
                backfill.append((relpath, digest, found[0]))
        state.put_published(backfill)
        if backfill:
            log.info("stored the bytes of %d earlier files in the state store", len(backfill))
        if len(backfill) == len(missing):
            state.put("published_complete", "1")

    def _write(
        self,
        state: State,
        rendered: list[_Rendered],
        outputs: dict[str, OutputRecord],
        claims: set[str],
        problems: list[Problem],
        *,
        adopt: bool = False,
    ) -> tuple[list[str], list[str], list[OutputRecord], list[tuple[str, str, bytes]]]:
        """Write what differs on disk. A feed counts as changed (for notifications) when its
        bytes differ from what the manifest says was published: so a crash after writing a
        file but before recording it still notifies on the next build. Also returns
        (relpath, sha256, bytes) of every file whose published bytes changed.

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
        changed: list[tuple[str, str, bytes]] = []
        todo: list[tuple[_Rendered, str, bool, bool]] = []  # (file, sha256, on disk, owned)
        for r in rendered:
            if not r.data:  # fresh: nothing rendered, nothing to write
                continue
            digest = sha256(r.data)
            if matches(root, r.relpath, digest, len(r.data)):
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
        for r, digest, on_disk, owned in todo:
            old = outputs.get(r.relpath)
            if not on_disk:
                try:  # a path nobody owned must still be free as the file is put in place
                    write_file(root, r.relpath, r.data, new=not owned)
                except OutputRefused as e:
                    log.error("%s", e)
                    problems.append(Problem(path=str(e.path), message=f"not written: {e.message}"))
                    continue
                written.append(r.relpath)
            elif old is None or old.sha256 != digest:
                written.append(r.relpath)  # on disk already, but never recorded
            st = stat_file(root, r.relpath)
            if st is None:  # removed this very moment: absent, so written again next time
                log.warning("%s: vanished as it was written", root / r.relpath)
                continue
            if old is None or old.sha256 != digest:
                changed.append((r.relpath, digest, r.data))
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
    spec: FeedSpec,
    fmt: str,
    links: Links,
    body: Callable[[str], EntryBody | None],
    budget: int,
) -> Callable[[], bytes]:
    def make() -> bytes:
        body_of = _within_budget(spec, body, budget)
        if fmt == "json":
            from feedpub.render.jsonfeed import render_json

            return render_json(spec, links, body_of)
        from feedpub.render.xmlfeeds import render_xml

        return render_xml(spec, "atom" if fmt == "atom" else "rss", links, body_of)

    return make


def _result_to_json(r: BuildResult) -> str:
    return json.dumps(
        {
            "published": r.published,
            "scheduled": r.scheduled,
            "drafts": r.drafts,
            "next_go_live": r.next_go_live.isoformat() if r.next_go_live else None,
            "problems": [[p.path, p.line, p.message, p.severity.value] for p in r.problems],
            "feeds": list(r.feeds),
        },
        ensure_ascii=False,
    )


def _result_from_json(blob: str, *, articles: int, unchanged: int) -> BuildResult:
    d = json.loads(blob)
    return BuildResult(
        articles=articles,
        published=d["published"],
        scheduled=d["scheduled"],
        drafts=d["drafts"],
        unchanged=unchanged,
        next_go_live=datetime.fromisoformat(d["next_go_live"]) if d["next_go_live"] else None,
        problems=tuple(
            Problem(path=p, line=ln, message=m, severity=Severity(s))
            for p, ln, m, s in d["problems"]
        ),
        feeds=tuple(d["feeds"]),
    )


@contextlib.contextmanager
def _lock(
    state_path: Path, timeout: float = 60.0, should_stop: Callable[[], bool] = lambda: False
) -> Iterator[None]:
    """One build at a time per state store (a daemon and a one-shot build take turns)."""
    lock_path = state_path.with_name(state_path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StateError(f"{lock_path}: cannot create the lock file: {e.strerror}") from e
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise StateError(f"{lock_path}: cannot lock: {e.strerror}") from e
                if should_stop():
                    raise BuildCancelled("stopped while waiting for another build") from e
                if time.monotonic() > deadline:
                    raise StateError(f"{lock_path}: another feedpub build holds the lock") from e
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


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
    )
    the_plan = plan(resolved.articles, site=config.site, feeds=config.feeds, now=now)
    problems += list(resolved.problems) + list(the_plan.problems)
    return len(stats), sorted(problems, key=lambda p: (p.path, p.line or 0, p.message)), skipped
