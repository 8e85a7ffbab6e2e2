"""The build, phase by phase: detect → index → plan → render → write → commit."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from feedpub import __version__
from feedpub.articles.discover import excluding, scan, stat_paths
from feedpub.build.index import IndexPhase
from feedpub.build.memo import BUILD_STAMP, Answers, Memo, Recall, kept, new_stamp
from feedpub.build.render import RenderPhase
from feedpub.build.values import (
    CLAIMS,
    Detected,
    Progress,
    Work,
    Wrote,
)
from feedpub.build.write import output_manifest
from feedpub.errors import (
    BuildCancelled,
    ConfigError,
    FeedpubError,
    OutputRefused,
    one_line,
)
from feedpub.locks import build_lock
from feedpub.model import (
    BuildRecord,
    BuildResult,
    Problem,
    SkippedFile,
)
from feedpub.output import (
    remove_file,
    sweep_if_interrupted,
    writing,
)
from feedpub.output_ownership import claim_output
from feedpub.planning import (
    plan,
)
from feedpub.store import State
from feedpub.store.codec import result_from_json, result_to_json, to_us

log = logging.getLogger(__name__)


class Builder(RenderPhase, IndexPhase):
    """Builds the output folder from the articles folder. One per config; not thread-safe."""

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

        The output folder must be feedpub's (:func:`feedpub.output_ownership.claim_output`), else
        :class:`OutputError`; ``adopt`` takes it anyway, and lets this build replace the
        files it finds at the paths it publishes. A file that cannot be written because the
        folder is full, read-only or gone raises :class:`OutputError` too (what was written
        is whole); a file that is not feedpub's to replace is a problem in the result.

        Every build is kept in the state store's short history (:meth:`State.record_build`):
        when, how long, and what it came to, or why it failed.
        """
        started_at = self.clock()
        started = time.monotonic()
        try:
            return self._build_recorded(progress, paths, should_stop, adopt, started_at, started)
        except BuildCancelled:
            raise
        except Exception as e:
            error = str(e) if isinstance(e, FeedpubError) else f"{type(e).__name__}: {e}"
            failed = BuildRecord(
                started_at=started_at,
                duration_ms=int((time.monotonic() - started) * 1000),
                outcome="failed",
                error=one_line(error)[:1000],
            )
            # (best effort: the state store may be what failed)
            with (
                contextlib.suppress(Exception),
                self.open_state() as state,
                state.transaction(),
            ):
                state.record_build(failed)
            raise

    def _build_recorded(
        self,
        progress: Progress | None,
        paths: set[str] | None,
        should_stop: Callable[[], bool] | None,
        adopt: bool,
        started_at: datetime,
        started: float,
    ) -> BuildResult:
        articles_dir = self.config.paths.articles
        if not articles_dir.is_dir():
            raise ConfigError(
                f"the articles folder {articles_dir} does not exist", key="paths.articles"
            )
        stop = should_stop or (lambda: False)
        with (
            build_lock(self.config.paths.state, should_stop=stop),
            self.open_state() as state,
        ):
            self.output_id = claim_output(
                self.config.paths.output, lambda: output_manifest(state), adopt=adopt
            )
            sweep_if_interrupted(self.config.paths.output)  # (what a killed build left)
            unwritten = self._write_redirects()
            result = self._build(state, progress, paths, stop, adopt)
            if unwritten:
                result = replace(result, problems=result.problems + unwritten)
            done = BuildRecord.of(
                result,
                started_at=started_at,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
            with state.transaction():
                state.record_build(done)
            return result

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
        """The phases: detect → index → plan → render → write → commit."""
        now = self.clock()
        memo, self._memo = kept(self._memo, state), None  # (None until this build commits)
        self.undisturbed = memo is not None
        found = self._detect(state, hint, now, adopt, memo)
        if isinstance(found, BuildResult):
            self._memo = memo
            return found  # nothing changed
        kept_answers = found.memo.answers
        before = (
            state.planning_rows([p for p, _ in found.changed] + found.removed)
            if kept_answers
            else {}
        )
        live_us, now_us = to_us(self.showing.live_until(now)), to_us(now)
        batch = self._index_changes(
            state,
            found,
            now,
            progress,
            should_stop,
            expire=not (kept_answers and kept_answers.hold(live_us, now_us)),
        )
        work = self._plan(state, found, self._recall(state, found, before, now), batch, now)
        jobs = self._render(state, work, found)
        media = self._media(work.media, found.outputs, found.config_fp, work.problems)
        some = bool(jobs.todo) or any(r.copy for r in media)  # (else: nothing is written)
        with writing(self.config.paths.output) if some else contextlib.nullcontext():
            wrote, produced = self._render_and_write(
                state, jobs, media, work, found, adopt=adopt, progress=progress
            )
        stale = self._remove_stale(found, work, produced)
        return self._commit(state, found, work, wrote, len(produced), stale, now)

    def _detect(
        self, state: State, hint: set[str] | None, now: datetime, adopt: bool, memo: Memo | None
    ) -> Detected | BuildResult:
        """Which article files changed or went (only those in ``hint``, when given), and
        whether anything at all is to do: if not, the last build's result. ``memo``: what
        this builder's last build left (:mod:`feedpub.build.memo`), if the store is as it
        left it."""
        cfg = self.config
        config_fp = cfg.fingerprint()
        config_changed = state.get("config") != config_fp or state.get("version") != __version__
        if config_changed:  # dates, slugs and URLs may all read differently: parse everything
            memo = None
            with state.transaction():
                state.clear_index()
        memo = memo or Memo.read(state)
        skipped: list[SkippedFile] = []
        others: dict[str, int] = {}  # files that are no articles, by suffix (full scans only)
        if hint is not None and not config_changed:  # look at the named files only
            indexed = state.index_stats(hint)
            stats, excluded = excluding(
                stat_paths(cfg.paths.articles, hint, skipped), cfg.paths.exclude
            )
            removed = [p for p in hint if p in indexed and p not in stats]
            article_count = state.article_count() + len(stats) - len(indexed)
        else:
            indexed = state.index_stats()
            stats, excluded = excluding(
                scan(cfg.paths.articles, skipped, others), cfg.paths.exclude
            )
            removed = [p for p in indexed if p not in stats]
            article_count = len(stats)
        found = Detected(
            config_fp=config_fp,
            full=hint is None,
            changed=[(p, st) for p, st in stats.items() if indexed.get(p) != st],
            removed=removed,
            articles=article_count,
            outputs=memo.outputs,
            memo=memo,
            claims=set(json.loads(state.get(CLAIMS) or "[]")),
            skipped=tuple(skipped),
            not_articles=tuple(sorted(others.items())),
            excluded=len(excluded),
        )
        next_live = state.get("next_go_live")
        if (
            not found.changed
            and not found.claims  # a build stopped while writing: finish its job
            and not adopt
            and not removed
            and not config_changed
            and state.get("dirty") is None  # an earlier build indexed changes it never published
            and (next_live is None or datetime.fromisoformat(next_live) > now)
            and self._outputs_intact(found.outputs)
            and self._stylesheet_unchanged(found.outputs)
            and self._media_unchanged(
                found.outputs, config_fp, state.media_refs(to_us(self.showing.live_until(now)))
            )
            and not (state.postgres and state.get("published_complete") is None)  # backfill
            and (cached := state.get("last_result")) is not None
        ):
            log.debug("nothing changed")
            last = result_from_json(cached, articles=article_count, unchanged=len(found.outputs))
            return replace(
                last,
                skipped=found.skipped,
                not_articles=found.not_articles,
                excluded=found.excluded,
            )
        return found

    def _index_changes(
        self,
        state: State,
        found: Detected,
        now: datetime,
        progress: Progress | None,
        should_stop: Callable[[], bool],
        *,
        expire: bool = True,
    ) -> set[str]:
        """Forget the files that went; parse and settle those that changed; take the
        articles whose expiry came out of the feeds (``expire``: unless none can have)."""
        with state.transaction():
            state.drop_articles(found.removed)
            state.retire_identities(found.removed)
            if found.removed:
                state.put("dirty", "1")
        batch = self._index(state, found.changed, now, progress, should_stop)
        if should_stop():
            raise BuildCancelled("stopped before rendering; the next build carries on")
        if expire:
            with state.transaction():
                if state.expire(to_us(now)):  # (Hugo's expiryDate: out of every feed and page)
                    state.put("dirty", "1")
        return batch

    def _recall(
        self, state: State, found: Detected, before: dict[str, tuple[object, ...]], now: datetime
    ) -> Recall:
        """The store as planning asks it: the answers of the last build's planning queries
        kept if they hold (``before``: the planning rows of the files this build read, as
        they were), and the articles it loaded, but those this build wrote."""
        memo = found.memo
        live_us, now_us = to_us(self.showing.live_until(now)), to_us(now)
        touched = state.touched()
        answers = memo.answers
        if answers is not None and answers.hold(live_us, now_us):
            after = state.planning_rows(touched)
            if any(before.get(p) != after.get(p) for p in touched | before.keys()):
                answers = None
        else:
            answers = None
        if answers is None:
            answers = Answers(
                live_us=live_us, now_us=now_us, until=state.next_change(live_us, now_us)
            )
        articles = {p: a for p, a in memo.articles.items() if p not in touched}
        return Recall(state, answers, articles)

    def _plan(
        self, state: State, found: Detected, recall: Recall, batch: set[str], now: datetime
    ) -> Work:
        """The plan (the index finds each feed's newest articles; only those are loaded),
        the pages to render again, and the archives. ``recall``: the store as planning asks
        it (:class:`~feedpub.build.memo.Recall`)."""
        cfg = self.config
        live = self.showing.live_until(now)  # (articles dated up to it are live: now, mostly)
        live_us = to_us(live)
        known_feeds: dict[str, str] = json.loads(state.get("feeds") or "{}")
        the_plan = plan(
            recall,
            site=cfg.site,
            feeds=cfg.feeds,
            now=now,
            known_feeds=known_feeds,
            showing=self.showing,
        )
        # what each article's links to other articles resolve to now: a page or feed that
        # shows an article whose link target moved (a new slug, published, gone) is redone
        linked = self._link_digests(state, recall.article_refs(live_us), live)
        linked_before: dict[str, str] = json.loads(state.get("link_digests") or "{}")
        # pages: every published article of ours has one (hidden ones too). Rendered when
        # the article was read by this build or has none yet (a new, or newly live, article);
        # the others are carried as they are. A full scan also looks for pages gone from disk.
        pages: list[str] = []
        carried: set[str] = set()
        translations: dict[str, list[tuple[str, str]]] = {}
        if cfg.feeds.article_pages:
            wanted = recall.page_paths(live_us) - the_plan.left_out
            have = {
                r.feed_key: r for r in found.outputs.values() if r.kind == "page" and r.feed_key
            }
            now_pages = {p for p in wanted if p in batch or p not in have}
            if found.full:
                now_pages |= {p for p in wanted - now_pages if not self._intact(have[p])}
            # translations: a page shows its article's other versions (hreflang alternates)
            translations = recall.translations(live_us, cfg.site.language)
            before = json.loads(state.get("translations") or "{}")
            now_pages |= wanted & {
                p
                for p in translations.keys() | before.keys()
                if translations.get(p, []) != [tuple(t) for t in before.get(p, [])]
            }
            now_pages |= wanted & {
                p
                for p in linked.keys() | linked_before.keys()
                if linked.get(p) != linked_before.get(p)
            }
            pages = sorted(now_pages)
            carried = (wanted & set(have)) - now_pages
        # archives (RFC 5005): every feed's entries older than its subscription document, cut
        # into pages from the oldest; a full page keeps its boundaries (``archive_pages``)
        the_plan, archives, sealed = self._archives(
            state, the_plan, the_plan.left_out, found.memo.feeds(state), live_us
        )
        return Work(
            plan=the_plan,
            archives=archives,
            sealed=sealed,
            pages=pages,
            carried=carried,
            translations=translations,
            linked=linked,
            media=recall.media_refs(live_us),
            problems=found.memo.file_problems(state) + list(the_plan.problems),
            recall=recall,
        )

    def _remove_stale(self, found: Detected, work: Work, rendered: Sequence[str]) -> list[str]:
        """Remove the files a build published before and this one did not (``rendered``:
        what it published, changed or not)."""
        outputs, claims = found.outputs, found.claims
        produced = set(rendered) | {
            r.relpath for r in outputs.values() if r.kind == "page" and r.feed_key in work.carried
        }
        stale = sorted({p for p in outputs if p not in produced} | (claims - produced))
        for relpath in stale:
            try:
                remove_file(self.config.paths.output, relpath)
            except OutputRefused as e:
                log.error("%s", e)
                work.problems.append(Problem(path=str(e.path), message=f"not removed: {e.message}"))
        return stale

    def _commit(
        self,
        state: State,
        found: Detected,
        work: Work,
        wrote: Wrote,
        rendered: int,
        stale: list[str],
        now: datetime,
    ) -> BuildResult:
        """The result, recorded with the manifest and the notifications it causes, in one
        transaction: a crash cannot publish a change and lose its notification."""
        cfg = self.config
        the_plan = work.plan
        written, changed_feed_urls, records, changed_bytes = wrote
        before = state.get("last_build")
        went_live = (
            state.went_live(to_us(datetime.fromisoformat(before)), to_us(now)) if before else []
        )
        result = BuildResult(
            articles=found.articles,
            published=the_plan.published,
            scheduled=the_plan.scheduled,
            drafts=the_plan.drafts,
            hidden=the_plan.hidden,
            written=tuple(written),
            unchanged=rendered - len(written) + len(work.carried),
            removed=tuple(stale),
            problems=tuple(sorted(work.problems, key=lambda p: (p.path, p.line or 0, p.message))),
            next_go_live=the_plan.next_go_live,
            next_expiry=the_plan.next_expiry,
            changed_feeds=tuple(changed_feed_urls),
            parsed=len(found.changed),
            feeds=tuple(s.key for s in the_plan.feeds),
            skipped=found.skipped,
            not_articles=found.not_articles,
            excluded=found.excluded,
            went_live=tuple(went_live),
        )
        notifications = 0
        stamp = (new_stamp(), now.isoformat())
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
            state.put("config", found.config_fp)
            state.put("version", __version__)
            feeds = {s.key: s.category or s.language for s in the_plan.feeds}
            state.put(
                "feeds",
                json.dumps(
                    {k: v for k, v in feeds.items() if v}, ensure_ascii=False, sort_keys=True
                ),
            )
            state.put("archives", work.sealed)
            # (the next time the feeds change by themselves: a build is due then)
            due = min(
                (t for t in (the_plan.next_go_live, the_plan.next_expiry) if t is not None),
                default=None,
            )
            state.put("next_go_live", due.isoformat() if due else None)
            state.put("last_build", stamp[1])
            state.put(BUILD_STAMP, stamp[0])
            for key, value in (("link_digests", work.linked), ("translations", work.translations)):
                state.put(
                    key, json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None
                )
            state.put("last_result", result_to_json(result))
            state.put("dirty", None)
            state.put(CLAIMS, None)  # every claimed path is in the manifest, or removed
        found.memo.committed(stamp, records, stale, work.recall)
        self._memo = found.memo
        if notifications:
            log.info("%d notifications queued", notifications)
        return replace(result, notifications=notifications)
