"""The planning queries: which articles are visible, scheduled, drafts, expired; the
newest of each feed; duplicate id claims; category spellings; pages; translations. The
index's SQL side of :class:`feedpub.planning.Corpus`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from feedpub.articles.media import is_media
from feedpub.model import Article, Member
from feedpub.planning.keys import ALL_KEY
from feedpub.store.base import StoreBase
from feedpub.store.codec import EPOCH, _dt, from_us, meta_from_json


def _one_per_language(found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(language, URL, path) versions of one article, one per language (the first by
    path): two versions in one language are no translations of each other."""
    best: dict[str, tuple[str, str, str]] = {}
    for version in sorted(found, key=lambda v: (v[0], v[2])):
        best.setdefault(version[0], version)
    return sorted(best.values())


class CorpusStore(StoreBase):
    # -- planning queries (only publishable articles: parsed, not drafts) ---------------------

    def load_articles(self, paths: Iterable[str]) -> list[Article]:
        """The settled articles at ``paths`` (those that parsed), in no particular order."""
        out: list[Article] = []
        for path, chash, meta, date_us, aid, slug, url, atom_id in self._db.rows_in(
            "SELECT path, content_hash, meta, date_us, article_id, slug, url, atom_id"
            " FROM articles WHERE meta IS NOT NULL AND path IN {in}",
            paths,
        ):
            out.append(
                Article(
                    meta=meta_from_json(path, chash or "", meta),
                    date=from_us(date_us),
                    id=aid,
                    atom_id=atom_id or "",
                    slug=slug,
                    url=url,
                )
            )
        return out

    _VISIBLE = "meta IS NOT NULL AND draft = 0 AND date_us <= ?"
    # (hidden articles are stored as drafts, for the feeds; their pages are published)
    _PAGED = "meta IS NOT NULL AND date_us <= ? AND (draft = 0 OR hidden = 1)"

    def article_links(self, now_us: int) -> dict[str, tuple[str, str]]:
        """Path → (URL, slug) of every article with a page now (published or hidden)."""
        return {
            path: (url, slug)
            for path, url, slug in self._db.execute(
                f"SELECT path, url, slug FROM articles WHERE {self._PAGED} AND url IS NOT NULL",
                (now_us,),
            )
        }

    def article_paths(self) -> list[str]:
        """The path of every indexed article that parsed."""
        return [r[0] for r in self._db.execute("SELECT path FROM articles WHERE meta IS NOT NULL")]

    def article_refs(self, now_us: int) -> dict[str, list[str]]:
        """Path → the references (``kind:value``) of every article with a page now that
        names another article (see :mod:`feedpub.articles.refs`)."""
        out: dict[str, list[str]] = {}
        for path, meta in self._db.execute(
            f"SELECT path, meta FROM articles WHERE {self._PAGED} AND meta LIKE '%\"rf\":%'",
            (now_us,),
        ):
            refs = [
                ref
                for ref, _ in json.loads(meta).get("rf", ())
                if ref.startswith(("name:", "post:"))
                or (ref.startswith("path:") and not is_media(ref[5:]))
            ]
            if refs:
                out[path] = refs
        return out

    def media_refs(self, now_us: int) -> set[str]:
        """The files that articles with a page now link to (``path`` references)."""
        out: set[str] = set()
        for (meta,) in self._db.execute(
            f"SELECT meta FROM articles WHERE {self._PAGED} AND meta LIKE '%\"rf\":%'",
            (now_us,),
        ):
            for ref, _ in json.loads(meta).get("rf", ()):
                kind, _, value = ref.partition(":")
                if kind == "path" and is_media(value):
                    out.add(value)
        return out

    def newest(self, now_us: int, limit: int) -> list[str]:
        return [
            row[0]
            for row in self._db.execute(
                f"SELECT path FROM articles WHERE {self._VISIBLE} AND lang IS NULL"
                " ORDER BY date_us DESC, article_id DESC LIMIT ?",
                (now_us, limit),
            )
        ]

    def category_keys(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT key FROM article_categories")]

    def newest_in(self, key: str, now_us: int, limit: int) -> list[str]:
        return [
            row[0]
            for row in self._db.execute(
                "SELECT ac.path FROM article_categories ac JOIN articles a ON a.path = ac.path"
                " WHERE ac.key = ? AND ac.date_us <= ? AND a.meta IS NOT NULL"
                " ORDER BY ac.date_us DESC, a.article_id DESC LIMIT ?",
                (key, now_us, limit),
            )
        ]

    def category_spellings(self, now_us: int) -> list[tuple[str, str, int, str]]:
        """(key, name, articles, first path) of every category name in use by visible articles."""
        return list(
            self._db.execute(
                "SELECT key, name, count(*), min(path) FROM article_categories"
                " WHERE date_us <= ? GROUP BY key, name",
                (now_us,),
            )
        )

    def duplicate_ids(self, now_us: int) -> list[tuple[str, str, datetime]]:
        """(id, path, first seen) of every visible article whose id, or Atom id, another
        visible one shares. (First seen, not its date: a new file dated in the past must not
        take the id of an article published before it.)"""
        out: list[tuple[str, str, datetime]] = []
        for column in ("a.article_id", "COALESCE(a.atom_id, a.article_id)"):
            visible = self._VISIBLE.replace("meta", "a.meta").replace("draft", "a.draft")
            visible = visible.replace("date_us", "a.date_us")
            rows = self._db.execute(
                f"SELECT {column}, a.path, i.first_seen FROM articles a"
                " LEFT JOIN identities i ON i.path = a.path"
                f" WHERE {visible} AND {column} IN (SELECT {column} FROM articles a"
                f" WHERE {visible} GROUP BY {column} HAVING count(*) > 1)",
                (now_us, now_us),
            )
            out += [(ident, path, _dt(seen) or EPOCH) for ident, path, seen in rows]
        return list(dict.fromkeys(out))  # (an id that is its own Atom id is found twice)

    def tally(self, now_us: int) -> tuple[int, int, int, int | None]:
        """(visible, scheduled, drafts, next go-live µs) over the parsed articles."""
        row = self._db.execute(
            "SELECT sum(CASE WHEN draft = 0 AND date_us <= ? THEN 1 ELSE 0 END),"
            " sum(CASE WHEN draft = 0 AND date_us > ? THEN 1 ELSE 0 END),"
            " sum(draft), min(CASE WHEN draft = 0 AND date_us > ? THEN date_us END)"
            " FROM articles WHERE meta IS NOT NULL",
            (now_us, now_us, now_us),
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), row[3]

    def went_live(self, since_us: int, now_us: int, *, limit: int = 100) -> list[str]:
        """The articles (paths) whose time to go live came after ``since_us`` and by
        ``now_us``: for the log of the build that publishes them (at most ``limit``)."""
        rows = self._db.execute(
            f"SELECT path FROM articles WHERE {self._PAGED} AND date_us > ?"
            " ORDER BY date_us, path LIMIT ?",
            (now_us, since_us, limit),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def scheduled_articles(self, now_us: int, limit: int) -> list[tuple[str, str, datetime]]:
        """(path, title, when it goes live) of the next ``limit`` articles to go live."""
        return [
            (path, str(json.loads(meta).get("t", "")), from_us(date_us))
            for path, meta, date_us in self._db.execute(
                "SELECT path, meta, date_us FROM articles WHERE meta IS NOT NULL AND draft = 0"
                " AND date_us > ? ORDER BY date_us, path LIMIT ?",
                (now_us, limit),
            )
        ]

    def hidden_count(self, now_us: int) -> int:
        """Hidden articles (``status: hidden``: a page, in no feed; tallied as drafts),
        not expired."""
        row = self._db.execute(
            "SELECT count(*) FROM articles WHERE meta IS NOT NULL AND hidden = 1"
            " AND (expires_us IS NULL OR expires_us > ?)",
            (now_us,),
        ).fetchone()
        return int(row[0] or 0)

    def feed_members(self, paths: Iterable[str] | None = None) -> list[tuple[str, Member]]:
        """(feed, member) for every article in a feed's archive order, future-dated ones
        included (a build takes those dated up to its time), by feed key (:data:`ALL_KEY`,
        categories, other languages). Only index columns are read, no
        metadata. ``paths``: only those articles' (what a build changed)."""
        columns = (
            "a.date_us, a.article_id, a.path, a.content_hash,"
            " COALESCE(a.atom_id, a.article_id), a.url, a.slug"
        )
        everything = (
            f"SELECT '{ALL_KEY}', {columns} FROM articles a"
            " WHERE a.meta IS NOT NULL AND a.draft = 0 AND a.lang IS NULL",
            f"SELECT ac.key, {columns} FROM article_categories ac"
            " JOIN articles a ON a.path = ac.path WHERE a.meta IS NOT NULL",
        )
        out: list[tuple[str, Member]] = []
        for query in everything:
            rows = (
                self._db.execute(query)
                if paths is None
                else self._db.rows_in(query + " AND a.path IN {in}", paths)
            )
            out += [(row[0], Member(*row[1:])) for row in rows]
        return out

    def planning_rows(self, paths: Iterable[str]) -> dict[str, tuple[object, ...]]:
        """Path → everything the planning queries here read of an article (its columns, its
        feeds, the references and translation key in its metadata): an edit that leaves it
        equal changes none of their answers."""
        out: dict[str, tuple[object, ...]] = {}
        feeds: dict[str, list[tuple[str, str, int]]] = {}
        for path, key, name, date_us in self._db.rows_in(
            "SELECT path, key, name, date_us FROM article_categories WHERE path IN {in}", paths
        ):
            feeds.setdefault(path, []).append((key, name, date_us))
        for row in self._db.rows_in(
            "SELECT path, meta, date_us, draft, hidden, external, expires_us, lang, article_id,"
            " atom_id, slug, url FROM articles WHERE path IN {in}",
            paths,
        ):
            path, meta = row[0], row[1]
            d = json.loads(meta) if meta is not None else {}
            out[path] = (
                meta is not None,
                *row[2:],
                d.get("rf"),
                d.get("tk"),
                d.get("l"),
                sorted(feeds.get(path, ())),
            )
        return out

    def next_change(self, live_us: int, now_us: int) -> tuple[int | None, int | None]:
        """When the planning queries' answers next change by themselves: the first date after
        ``live_us`` of an article that will be in a feed or have a page, and the first expiry
        after ``now_us`` of one that is."""
        row = self._db.execute(
            "SELECT min(CASE WHEN date_us > ? THEN date_us END),"
            " min(CASE WHEN expires_us > ? THEN expires_us END)"
            " FROM articles WHERE meta IS NOT NULL AND (draft = 0 OR hidden = 1)",
            (live_us, now_us),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def touched(self) -> set[str]:
        """The articles whose index rows this connection wrote (or removed)."""
        return self._touched

    def expire(self, now_us: int) -> int:
        """Take the articles whose expiry date has come out of every feed and page (they
        become drafts until their file changes); how many."""
        gone = [
            row[0]
            for row in self._db.execute(
                "SELECT path FROM articles WHERE meta IS NOT NULL AND expires_us <= ?"
                " AND (draft = 0 OR hidden = 1)",
                (now_us,),
            )
        ]
        self._touched.update(gone)
        self._db.execute_in("UPDATE articles SET draft = 1, hidden = 0 WHERE path IN {in}", gone)
        self._db.execute_in("DELETE FROM article_categories WHERE path IN {in}", gone)
        return len(gone)

    def next_expiry(self, now_us: int) -> int | None:
        """When the next published article expires (µs), if one does."""
        row = self._db.execute(
            "SELECT min(expires_us) FROM articles WHERE meta IS NOT NULL"
            " AND (draft = 0 OR hidden = 1) AND expires_us > ?",
            (now_us,),
        ).fetchone()
        return row[0] if row else None

    def translations(self, now_us: int, language: str) -> dict[str, list[tuple[str, str]]]:
        """Path → (language, URL) of each other version of the article, for every published
        article that has translations. Versions share their ``translationKey``, else the
        original's slug (a translation's slug is the original's with ``-<lang>`` after it)."""
        group: dict[str, list[tuple[str, str, str]]] = {}
        for path, lang, url, slug, meta in self._db.execute(
            "SELECT path, lang, url, slug, meta FROM articles"
            f" WHERE {self._VISIBLE} AND lang IS NOT NULL AND url IS NOT NULL",
            (now_us,),
        ):  # (published ones: a hidden version is linked from nowhere)
            d = json.loads(meta)
            key = d.get("tk") or d.get("l") or slug.removesuffix("-" + lang)
            group.setdefault(key, []).append((lang, url, path))
        if not group:
            return {}
        for path, url, slug, meta in self._db.rows_in(
            "SELECT path, url, slug, meta FROM articles WHERE lang IS NULL AND url IS NOT NULL"
            f" AND {self._VISIBLE} AND (slug IN {{in}} OR meta LIKE '%\"tk\":%')",
            list(group),
            now_us,
        ):
            key = json.loads(meta).get("tk") or slug
            if key in group and (language, url, path) not in group[key]:  # (once per chunk)
                group[key].append((language, url, path))
        out: dict[str, list[tuple[str, str]]] = {}
        for found in group.values():
            versions = _one_per_language(found)
            if len(versions) < 2:
                continue
            for _, _, path in versions:
                out[path] = [(lang, url) for lang, url, p in versions if p != path]
        return out

    def page_paths(self, now_us: int) -> set[str]:
        """Articles that get a page: every published article of ours (not drafts, not
        future ones, not those with their own link), hidden ones included."""
        return {
            row[0]
            for row in self._db.execute(
                "SELECT path FROM articles WHERE meta IS NOT NULL AND external = 0"
                " AND (draft = 0 OR hidden = 1) AND date_us <= ?",
                (now_us,),
            )
        }

    def valid_kept_pages(self, now_us: int) -> set[str]:
        """Article paths that have a page and are still visible articles of ours."""
        return {
            row[0]
            for row in self._db.execute(
                "SELECT a.path FROM outputs o JOIN articles a ON a.path = o.feed_key"
                " WHERE o.kind = 'page' AND a.external = 0 AND a.meta IS NOT NULL AND a.draft = 0"
                " AND a.date_us <= ?",
                (now_us,),
            )
        }
