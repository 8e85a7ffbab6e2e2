"""The output manifest (every published file: relpath → sha256, fingerprint, size, time,
feed, kind) and, on PostgreSQL, the published bytes behind it, which standby daemons on
other hosts copy into their own output folder."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from feedpub.model import OutputRecord
from feedpub.store.base import StoreBase
from feedpub.store.db import _upsert


class ManifestStore(StoreBase):
    # -- the output manifest ----------------------------------------------------------------

    def outputs(self) -> dict[str, OutputRecord]:
        return {
            row[0]: OutputRecord(
                relpath=row[0],
                sha256=row[1],
                fingerprint=row[2],
                size=row[3],
                mtime_ns=row[4],
                feed_key=row[5],
                kind=row[6],
            )
            for row in self._db.execute(
                "SELECT relpath, sha256, fingerprint, size, mtime_ns, feed_key, kind FROM outputs"
            )
        }

    def wrote_feeds(self) -> bool:
        """Whether the manifest lists a feed: some build published one."""
        row = self._db.execute("SELECT 1 FROM outputs WHERE kind = 'feed' LIMIT 1").fetchone()
        return row is not None

    def put_outputs(self, records: Iterable[OutputRecord]) -> None:
        self._db.executemany(
            "INSERT INTO outputs (relpath, sha256, fingerprint, size, mtime_ns, feed_key, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            + _upsert("relpath", ("sha256", "fingerprint", "size", "mtime_ns", "feed_key", "kind")),
            (
                (r.relpath, r.sha256, r.fingerprint, r.size, r.mtime_ns, r.feed_key, r.kind)
                for r in records
            ),
        )

    def delete_outputs(self, relpaths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM outputs WHERE relpath = ?", ((p,) for p in relpaths))

    # -- published bytes (PostgreSQL: for standbys on other hosts) ---------------------------

    def put_published(self, files: Iterable[tuple[str, str, bytes]]) -> None:
        """(relpath, sha256, bytes) of files just published."""
        files = list(files)
        self._db.executemany(
            "DELETE FROM published_chunks WHERE relpath = ?", ((p,) for p, _, _ in files)
        )
        self._db.executemany(
            "INSERT INTO published (relpath, sha256, content) VALUES (?, ?, ?)"
            + _upsert("relpath", ("sha256", "content")),
            files,
        )

    def put_published_chunks(self, relpath: str, digest: str, chunks: Iterable[bytes]) -> None:
        """A file just published, in ``chunks`` (each stored as it comes: never whole in
        memory); its ``published`` row holds the sha256 and no content."""
        self._db.execute("DELETE FROM published_chunks WHERE relpath = ?", (relpath,))
        for seq, chunk in enumerate(chunks):
            self._db.execute(
                "INSERT INTO published_chunks (relpath, seq, content) VALUES (?, ?, ?)",
                (relpath, seq, chunk),
            )
        self.put_published_row(relpath, digest)

    def put_published_row(self, relpath: str, digest: str) -> None:
        self._db.execute(
            "INSERT INTO published (relpath, sha256, content) VALUES (?, ?, ?)"
            + _upsert("relpath", ("sha256", "content")),
            (relpath, digest, b""),
        )

    def published_chunks(self, relpath: str) -> Iterator[bytes]:
        """The pieces of a file stored by :meth:`put_published_chunks`, in order, one query
        (and one piece in memory) at a time; none for a file stored whole."""
        seq = 0
        while True:
            row = self._db.execute(
                "SELECT content FROM published_chunks WHERE relpath = ? AND seq = ?",
                (relpath, seq),
            ).fetchone()
            if row is None:
                return
            yield bytes(row[0])
            seq += 1

    def delete_published(self, relpaths: Iterable[str]) -> None:
        relpaths = list(relpaths)
        self._db.executemany("DELETE FROM published WHERE relpath = ?", ((p,) for p in relpaths))
        self._db.executemany(
            "DELETE FROM published_chunks WHERE relpath = ?", ((p,) for p in relpaths)
        )

    def unpublished(self) -> dict[str, str]:
        """relpath → sha256 of manifest entries whose bytes are not (or not as recorded) in
        ``published``: files a build wrote before this table existed, for a backfill."""
        return dict(
            self._db.execute(
                "SELECT o.relpath, o.sha256 FROM outputs o LEFT JOIN published p"
                " ON p.relpath = o.relpath WHERE p.sha256 IS NULL OR p.sha256 != o.sha256"
            ).fetchall()
        )

    def published_digests(self, relpaths: Sequence[str]) -> dict[str, str]:
        """relpath → sha256 of those of ``relpaths`` held in ``published``."""
        return dict(
            self._db.rows_in(
                "SELECT relpath, sha256 FROM published WHERE relpath IN {in}", relpaths
            )
        )

    def published_content(self, relpaths: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """relpath → (sha256, bytes) of those of ``relpaths`` held in ``published``."""
        return {
            relpath: (digest, bytes(content))
            for relpath, digest, content in self._db.rows_in(
                "SELECT relpath, sha256, content FROM published WHERE relpath IN {in}", relpaths
            )
        }

    def counts(self) -> Mapping[str, int]:
        q = self._db.execute
        return {
            "articles": q("SELECT count(*) FROM articles").fetchone()[0],
            "problem_files": q("SELECT count(*) FROM articles WHERE problems != '[]'").fetchone()[
                0
            ],
            "outputs": q("SELECT count(*) FROM outputs").fetchone()[0],
        }
