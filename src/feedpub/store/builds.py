"""The history of the last builds (:data:`BUILD_HISTORY` of them): what the operator reads
on ``/status`` and in ``feedpub status``. Bounded: each new one pushes the oldest out."""

from __future__ import annotations

from datetime import datetime

from feedpub.model import BuildRecord
from feedpub.store.base import StoreBase
from feedpub.store.codec import _iso

BUILD_HISTORY = 20  # builds kept

_COLUMNS = (
    "started_at, duration_ms, outcome, articles, published, scheduled, drafts, feeds,"
    " written, removed, errors, warnings, error"
)


class BuildsStore(StoreBase):
    # -- the build history ------------------------------------------------------------------

    def record_build(self, build: BuildRecord) -> None:
        """Keep ``build``, and only the :data:`BUILD_HISTORY` newest. Call inside a
        :meth:`transaction`."""
        b = build
        self._db.execute(
            f"INSERT INTO builds ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _iso(b.started_at),
                b.duration_ms,
                b.outcome,
                b.articles,
                b.published,
                b.scheduled,
                b.drafts,
                b.feeds,
                b.written,
                b.removed,
                b.errors,
                b.warnings,
                b.error,
            ),
        )
        self._db.execute(
            "DELETE FROM builds WHERE id <= (SELECT id FROM builds ORDER BY id DESC"
            " LIMIT 1 OFFSET ?)",
            (BUILD_HISTORY,),
        )

    def recent_builds(self, limit: int = BUILD_HISTORY) -> list[BuildRecord]:
        """The newest builds first."""
        return [
            BuildRecord(
                started_at=datetime.fromisoformat(r[0]),
                duration_ms=r[1],
                outcome=r[2],
                articles=r[3],
                published=r[4],
                scheduled=r[5],
                drafts=r[6],
                feeds=r[7],
                written=r[8],
                removed=r[9],
                errors=r[10],
                warnings=r[11],
                error=r[12],
            )
            for r in self._db.execute(
                f"SELECT {_COLUMNS} FROM builds ORDER BY id DESC LIMIT ?", (limit,)
            )
        ]
