"""Indexing: the changed files parsed (in batches), their identities settled, and stored in
the index with their problems."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from feedpub.articles.discover import FileStat
from feedpub.articles.refs import name_index
from feedpub.build.base import BuilderBase
from feedpub.build.sources import keeping_last_good
from feedpub.build.values import (
    Progress,
)
from feedpub.errors import (
    BuildCancelled,
)
from feedpub.identity import atom_id_keys, resolve
from feedpub.linking import unresolved_names
from feedpub.model import (
    Problem,
)
from feedpub.store import State
from feedpub.store.codec import to_us

log = logging.getLogger(__name__)


class IndexPhase(BuilderBase):
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
            rows = keeping_last_good(parsed, state.parsed_paths([r.path for r in parsed]))
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
