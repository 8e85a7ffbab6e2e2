"""The builder's shared parts: config, clock, links, and parsing files in worker processes."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Self

from feedpub.articles.context import ParseContext
from feedpub.articles.discover import FileStat
from feedpub.build.memo import Memo
from feedpub.build.sources import failed_row, parse_job
from feedpub.build.values import (
    BATCH,
    PROGRESS_EVERY,
    Progress,
)
from feedpub.clock import utcnow
from feedpub.config import Config
from feedpub.errors import (
    BuildCancelled,
)
from feedpub.model import (
    PUBLISHED_ONLY,
    IndexRow,
    Showing,
)
from feedpub.pool import Cancelled, Failed, Pool, StartMethod
from feedpub.render import (
    Links,
)
from feedpub.store import State
from feedpub.store.db import chunked

log = logging.getLogger(__name__)


class BuilderBase:
    """What every phase of the build shares: the config, the clock, the links, the pool of
    parsing processes."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        workers: int | None = None,
        start: StartMethod = "auto",
        open_state: Callable[[], State] | None = None,
        showing: Showing = PUBLISHED_ONLY,
    ) -> None:
        """``workers``: processes that parse articles (default: one per CPU); 0 parses in
        this process, without the time budget (for tests and embedding). ``start``: how
        they are started (see :mod:`feedpub.pool`). ``open_state`` opens the state store
        (default: the config's). ``showing``: drafts or future articles published anyway
        (the preview's switches; never in production)."""
        self.config = config
        self.clock = clock
        self.showing = showing
        self.open_state = open_state or (lambda: State(config.state_target))
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
            drafts=showing.drafts,
        )
        self.links = Links(
            site=config.site,
            hubs=config.advertised_hubs,
            stylesheet=bool(config.feeds.stylesheet),
        )
        self._pool: Pool[tuple[str, str, FileStat, ParseContext], IndexRow] | None = None
        self._memo: Memo | None = None  # what the last build left (:mod:`feedpub.build.memo`)
        # whether the last build started from what the one before it left (no other process
        # wrote the store in between: what it published is all that changed)
        self.undisturbed = False
        self.output_id: str | None = None  # the output folder's marker, once a build claimed it

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Self:
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
        if progress and jobs:
            progress("parse", 0, len(jobs))
        if self.workers <= 0:
            done = 0
            for chunk in chunked(jobs, BATCH):
                if should_stop():
                    raise BuildCancelled("stopped while parsing; the next build carries on")
                rows = []
                for job in chunk:
                    rows.append(parse_job(job))
                    done += 1
                    if progress and done % PROGRESS_EVERY == 0 and done < len(jobs):
                        progress("parse", done, len(jobs))
                yield rows
            if progress and jobs:
                progress("parse", len(jobs), len(jobs))
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
            for i, result in self._pool.run(parse_job, jobs, should_stop=should_stop):
                if isinstance(result, Failed):
                    _, path, st, _ = jobs[i]
                    log.error("%s: %s", path, result.reason)
                    pending.append(failed_row(path, st, f"not published: {result.reason}"))
                else:
                    pending.append(result)
                done += 1
                if len(pending) >= BATCH:
                    yield pending
                    pending = []
                if progress and done % PROGRESS_EVERY == 0 and done < len(jobs):
                    progress("parse", done, len(jobs))
        except Cancelled as e:
            raise BuildCancelled("stopped while parsing; the next build carries on") from e
        if pending:
            yield pending
        if progress and jobs:
            progress("parse", len(jobs), len(jobs))
