"""Permanent identities: path → entry id, slug, first-seen time (kept after a file is
deleted, so a file restored or moved back gets its id again), and the Atom ids made from
explicit ids that are no IRIs. The truth that must never change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from feedpub.model import Identity
from feedpub.store.base import StoreBase
from feedpub.store.db import _upsert


class IdentitiesStore(StoreBase):
    # -- identities -------------------------------------------------------------------------

    _IDENTITY = (
        "SELECT path, article_id, slug, first_seen, content_hash, live, atom_id, adopted"
        " FROM identities WHERE "
    )

    @staticmethod
    def _identity(row: Sequence[Any]) -> Identity:
        return Identity(
            path=row[0],
            article_id=row[1],
            slug=row[2],
            first_seen=datetime.fromisoformat(row[3]),
            content_hash=row[4],
            live=bool(row[5]),
            atom_id=row[6],
            adopted=datetime.fromisoformat(row[7]) if row[7] else None,
        )

    def identities(self) -> dict[str, Identity]:
        return {r[0]: self._identity(r) for r in self._db.execute(self._IDENTITY + "1 = 1")}

    def identities_for(self, paths: Sequence[str]) -> dict[str, Identity]:
        return {
            r[0]: self._identity(r)
            for r in self._db.rows_in(self._IDENTITY + "path IN {in}", paths)
        }

    def orphans_for(self, hashes: Sequence[str]) -> dict[str, Identity]:
        """content hash → identity of a file that is gone, for files that may be it, moved."""
        found = [
            self._identity(r)
            for r in self._db.rows_in(self._IDENTITY + "live = 0 AND content_hash IN {in}", hashes)
        ]
        out: dict[str, Identity] = {}
        for ident in sorted(found, key=lambda i: i.path):
            out.setdefault(ident.content_hash, ident)
        return out

    def live_slugs(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT slug FROM identities WHERE live = 1")}

    def retire_identities(self, paths: Iterable[str]) -> None:
        """The files are gone: keep their identities for a file that comes back or moved."""
        self._db.executemany("UPDATE identities SET live = 0 WHERE path = ?", ((p,) for p in paths))

    def put_identities(self, idents: Iterable[Identity]) -> None:
        self._db.executemany(
            "INSERT INTO identities (path, article_id, slug, first_seen, content_hash, live,"
            " atom_id, adopted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            + _upsert(
                "path",
                ("article_id", "slug", "first_seen", "content_hash", "live", "atom_id", "adopted"),
            ),
            (
                (
                    i.path,
                    i.article_id,
                    i.slug,
                    i.first_seen.astimezone(UTC).isoformat(),
                    i.content_hash,
                    int(i.live),
                    i.atom_id,
                    i.adopted.astimezone(UTC).isoformat() if i.adopted else None,
                )
                for i in idents
            ),
        )

    def atom_ids_for(self, explicit: Iterable[str]) -> dict[str, str]:
        """explicit id → the Atom id made from it, for those that have one."""
        return {
            row[0]: row[1]
            for row in self._db.rows_in(
                "SELECT explicit, atom_id FROM atom_ids WHERE explicit IN {in}", explicit
            )
        }

    def put_atom_ids(self, made: Mapping[str, str]) -> None:
        """New Atom ids (explicit id → Atom id): made once, never replaced."""
        self._db.executemany(
            "INSERT INTO atom_ids (explicit, atom_id) VALUES (?, ?)"
            " ON CONFLICT (explicit) DO NOTHING",
            sorted(made.items()),
        )

    def delete_identities(self, paths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM identities WHERE path = ?", ((p,) for p in paths))
