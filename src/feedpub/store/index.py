"""The article index: every article file's size, time, hash, parsed metadata (or
problems) and body, and the columns the planning queries read. A cache: losing it costs one
full parse. What a build settled (date, id, slug, URL) is written with each row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from feedpub.model import Article, IndexRow, Problem
from feedpub.planning import feed_names, other_language
from feedpub.store.base import StoreBase
from feedpub.store.codec import (
    _problems_from_json,
    _problems_to_json,
    meta_from_json,
    meta_to_json,
    to_us,
)
from feedpub.store.db import _upsert

_ARTICLE_COLUMNS = (
    "size",
    "mtime_ns",
    "content_hash",
    "meta",
    "problems",
    "date_us",
    "draft",
    "article_id",
    "slug",
    "url",
    "external",
    "atom_id",
    "hidden",
    "expires_us",
    "lang",
)


class IndexStore(StoreBase):
    # -- the article index ------------------------------------------------------------------

    def index_stats(self, paths: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
        """path → (size, mtime_ns) of every indexed file (or of ``paths``): the cheap check."""
        if paths is None:
            return {
                row[0]: (row[1], row[2])
                for row in self._db.execute("SELECT path, size, mtime_ns FROM articles")
            }
        out: dict[str, tuple[int, int]] = {}
        for path, size, mtime_ns in self._db.rows_in(
            "SELECT path, size, mtime_ns FROM articles WHERE path IN {in}", paths
        ):
            out[path] = (size, mtime_ns)
        return out

    def article_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def put_articles(
        self,
        rows: Iterable[IndexRow],
        settled: Mapping[str, Article],
        *,
        now_us: int | None = None,
        language: str = "en",
        tags: bool = False,
    ) -> None:
        """Store parsed rows; those in ``settled`` also get their planning columns. An
        article expired at ``now_us`` is stored as a draft; one in another ``language`` than
        the site's is in its language's feed only (:func:`~feedpub.planning.other_language`).

        A row that failed (no ``meta``) replaces only the file's size, time and problems: if
        the file parsed before, that version (its metadata, body and planning columns) stays
        published until the file parses again. A file that never parsed stays out."""
        rows = list(rows)
        self._touched.update(r.path for r in rows)
        good = [r for r in rows if r.meta is not None]
        failed = [r for r in rows if r.meta is None]
        keys = [(r.path,) for r in good]
        self._db.executemany("DELETE FROM article_categories WHERE path = ?", keys)
        values: list[tuple[object, ...]] = []
        categories: list[tuple[str, str, str, int]] = []
        for r in good:
            a = settled.get(r.path)
            expires = to_us(a.meta.expires) if a and a.meta.expires else None
            gone = expires is not None and now_us is not None and expires <= now_us
            lang = other_language(a.meta.lang, language) if a else None
            values.append(
                (
                    r.path,
                    r.size,
                    r.mtime_ns,
                    r.content_hash,
                    r.meta_json or (meta_to_json(r.meta) if r.meta else None),
                    _problems_to_json(r.problems),
                    to_us(a.date) if a else None,
                    # (hidden articles are in no feed: for the feed queries, they are drafts)
                    int(a.meta.draft or a.meta.hidden or gone) if a else 0,
                    a.id if a else None,
                    a.slug if a else None,
                    a.url if a else None,
                    int(a.meta.link is not None) if a else 0,
                    a.atom_id if a and a.atom_id != a.id else None,
                    int(a.meta.hidden and not a.meta.draft and not gone) if a else 0,
                    expires,
                    lang,
                )
            )
            if a is not None and not a.meta.draft and not a.meta.hidden and not gone:
                date_us = to_us(a.date)
                names: dict[str, str] = {}
                for key, name in feed_names(a.meta, language, tags=tags):
                    names.setdefault(key, name)
                categories.extend((r.path, k, n, date_us) for k, n in names.items())
        self._db.executemany(
            "INSERT INTO articles (path, size, mtime_ns, content_hash, meta, problems,"
            " date_us, draft, article_id, slug, url, external, atom_id, hidden, expires_us,"
            " lang)"
            f" VALUES ({', '.join('?' * (len(_ARTICLE_COLUMNS) + 1))})"
            + _upsert("path", _ARTICLE_COLUMNS),
            values,
        )
        self._db.executemany(
            "INSERT INTO article_categories (path, key, name, date_us) VALUES (?, ?, ?, ?)",
            categories,
        )
        self._db.executemany(
            "INSERT INTO article_bodies (path, html, excerpt) VALUES (?, ?, ?)"
            + _upsert("path", ("html", "excerpt")),
            [(r.path, r.body_html or "", r.excerpt or "") for r in good],
        )
        self._db.executemany(
            "INSERT INTO articles (path, size, mtime_ns, content_hash, meta, problems)"
            " VALUES (?, ?, ?, ?, NULL, ?)" + _upsert("path", ("size", "mtime_ns", "problems")),
            [
                (r.path, r.size, r.mtime_ns, r.content_hash, _problems_to_json(r.problems))
                for r in failed
            ],
        )

    def parsed_paths(self, paths: Iterable[str]) -> set[str]:
        """Of ``paths``, those whose indexed version parsed (and so is published)."""
        return {
            row[0]
            for row in self._db.rows_in(
                "SELECT path FROM articles WHERE meta IS NOT NULL AND path IN {in}", paths
            )
        }

    def settled_ids(self, paths: Iterable[str]) -> dict[str, str]:
        """path → the id the last build that read the file settled (and so published, if
        the article was visible), for those of ``paths`` that have one."""
        return dict(
            self._db.rows_in(
                "SELECT path, article_id FROM articles WHERE meta IS NOT NULL"
                " AND article_id IS NOT NULL AND path IN {in}",
                paths,
            )
        )

    def bodies_for(self, paths: Iterable[str]) -> dict[str, tuple[str, str]]:
        """path → (sanitised body HTML, excerpt) of parsed articles."""
        return {
            path: (html, excerpt)
            for path, html, excerpt in self._db.rows_in(
                "SELECT path, html, excerpt FROM article_bodies WHERE path IN {in}", paths
            )
        }

    def drop_articles(self, paths: Iterable[str]) -> None:
        keys = [(p,) for p in paths]
        self._touched.update(p for (p,) in keys)
        self._db.executemany("DELETE FROM articles WHERE path = ?", keys)
        self._db.executemany("DELETE FROM article_categories WHERE path = ?", keys)
        self._db.executemany("DELETE FROM article_bodies WHERE path = ?", keys)

    def clear_index(self) -> None:
        """Make the next build read every file again. What parsed stays, as the version to
        keep publishing if a file no longer parses (under the new config or version)."""
        self._db.execute("UPDATE articles SET mtime_ns = -1")

    def reread(self, paths: Iterable[str]) -> None:
        """Make the next build read (and settle) these files again: their identity changed."""
        self._db.executemany(
            "UPDATE articles SET mtime_ns = -1 WHERE path = ?", ((p,) for p in paths)
        )

    def index_rows(self) -> Iterator[IndexRow]:
        for path, size, mtime_ns, chash, meta, problems in self._db.execute(
            "SELECT path, size, mtime_ns, content_hash, meta, problems FROM articles"
        ):
            yield IndexRow(
                path=path,
                size=size,
                mtime_ns=mtime_ns,
                content_hash=chash,
                meta=meta_from_json(path, chash or "", meta) if meta else None,
                problems=_problems_from_json(path, problems),
            )

    def problems(self, paths: Iterable[str] | None = None) -> list[Problem]:
        """The problems of every indexed file (or of those at ``paths``), by path."""
        query = "SELECT path, problems FROM articles WHERE problems != '[]'"
        rows = (
            self._db.execute(query + " ORDER BY path")
            if paths is None
            else sorted(self._db.rows_in(query + " AND path IN {in}", paths))
        )
        return [p for path, blob in rows for p in _problems_from_json(path, blob)]
