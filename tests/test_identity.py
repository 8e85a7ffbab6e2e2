"""Permanent ids, slugs and first-seen dates (pure resolution over a batch)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from feedpub.identity import resolve
from feedpub.model import ArticleMeta
from feedpub.state import Identity

NOW = datetime(2025, 1, 10, 12, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")


class Store:
    """A stand-in for the state store's identity table, applying what resolve returns."""

    def __init__(self) -> None:
        self.rows: dict[str, Identity] = {}

    def run(
        self, metas: list[ArticleMeta], now: datetime = NOW, removed: tuple[str, ...] = ()
    ) -> dict[str, tuple[str, str, datetime]]:
        for path in removed:
            self.rows[path] = replace(self.rows[path], live=False)
        paths = {m.path for m in metas}
        orphans = {i.content_hash: i for i in self.rows.values() if not i.live}
        taken = {i.slug for i in self.rows.values() if i.live and i.path not in paths}
        r = resolve(
            metas,
            {p: i for p, i in self.rows.items() if p in paths},
            orphans=orphans,
            taken=taken,
            now=now,
            tz=TZ,
            host="e.org",
            article_url="{base_url}p/{slug}/",
            base_url="https://e.org/",
        )
        for path in r.retired:
            del self.rows[path]
        for ident in r.identities:
            self.rows[ident.path] = ident
        return {a.path: (a.id, a.slug, a.date) for a in r.articles}


def _m(path: str, h: str, **kw: object) -> ArticleMeta:
    kw.setdefault("title", "T")
    return ArticleMeta(path=path, content_hash=h, **kw)  # type: ignore[arg-type]


def test_derived_id_is_kept_across_edits_and_time() -> None:
    store = Store()
    got = store.run([_m("2024-05-06-hello.md", "h1")])
    id1, slug, date = got["2024-05-06-hello.md"]
    assert id1 == "tag:e.org,2024-05-06:hello"
    assert slug == "hello"
    assert date == datetime(2024, 5, 5, 22, tzinfo=UTC)
    got2 = store.run([_m("2024-05-06-hello.md", "h2", title="New")], NOW + timedelta(days=9))
    assert got2["2024-05-06-hello.md"][0] == id1


def test_move_keeps_identity() -> None:
    store = Store()
    got = store.run([_m("a.md", "same")])
    moved = store.run([_m("dir/b.md", "same")], removed=("a.md",))
    assert moved["dir/b.md"][:2] == got["a.md"][:2]
    assert set(store.rows) == {"dir/b.md"}


def test_deleted_file_that_comes_back_gets_its_id_and_slug() -> None:
    store = Store()
    got = store.run([_m("a.md", "bytes")])
    store.run([], removed=("a.md",))
    back = store.run([_m("a.md", "bytes")])
    assert back == got


def test_returning_file_whose_slug_was_taken_gets_a_new_slug_same_id() -> None:
    store = Store()
    got = store.run([_m("x/post.md", "old")])
    store.run([], removed=("x/post.md",))
    store.run([_m("y/post.md", "new")])
    back = store.run([_m("z/moved.md", "old")])
    assert back["z/moved.md"][0] == got["x/post.md"][0]
    assert back["z/moved.md"][1] == "post-2"


def test_first_seen_date_for_undated_articles() -> None:
    store = Store()
    got = store.run([_m("undated.md", "h")])
    assert got["undated.md"][2] == NOW
    later = store.run([_m("undated.md", "h2")], NOW + timedelta(days=5))
    assert later["undated.md"][2] == NOW


def test_slugs_are_unique_and_explicit_slug_wins() -> None:
    store = Store()
    got = store.run([_m("x/post.md", "1"), _m("y/post.md", "2")])
    assert {got["x/post.md"][1], got["y/post.md"][1]} == {"post", "post-2"}
    got2 = store.run([_m("x/post.md", "1", slug="custom")])
    assert got2["x/post.md"][1] == "custom"
    got3 = store.run([_m("new.md", "3", slug="custom")])
    assert got3["new.md"][1] == "custom-2"  # the slug is taken (a warning says so)


def test_explicit_id_wins() -> None:
    got = Store().run([_m("a.md", "1", id="urn:uuid:1")])
    assert got["a.md"][0] == "urn:uuid:1"
