"""Permanent ids, slugs and first-seen dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from feedpub.identity import resolve
from feedpub.model import ArticleMeta
from feedpub.state import Identity

NOW = datetime(2025, 1, 10, 12, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")


def _resolve(
    metas: list[ArticleMeta], idents: dict[str, Identity], now: datetime = NOW
) -> tuple[dict[str, tuple[str, str, datetime]], dict[str, Identity]]:
    r = resolve(
        metas,
        idents,
        now=now,
        tz=TZ,
        host="e.org",
        article_url="{base_url}p/{slug}/",
        base_url="https://e.org/",
    )
    store = dict(idents)
    for i in r.identities:
        store[i.path] = i
    return {a.path: (a.id, a.slug, a.date) for a in r.articles}, store


def _m(path: str, h: str, **kw: object) -> ArticleMeta:
    kw.setdefault("title", "T")
    return ArticleMeta(path=path, content_hash=h, **kw)  # type: ignore[arg-type]


def test_derived_id_is_kept_across_edits_and_time() -> None:
    got, store = _resolve([_m("2024-05-06-hello.md", "h1")], {})
    id1, slug, date = got["2024-05-06-hello.md"]
    assert id1 == "tag:e.org,2024-05-06:hello"
    assert slug == "hello"
    assert date == datetime(2024, 5, 5, 22, tzinfo=UTC)
    got2, _ = _resolve(
        [_m("2024-05-06-hello.md", "h2", title="New")], store, NOW + timedelta(days=9)
    )
    assert got2["2024-05-06-hello.md"][0] == id1


def test_move_keeps_identity_and_restored_file_comes_back() -> None:
    got, store = _resolve([_m("a.md", "same")], {})
    got_moved, store = _resolve([_m("dir/b.md", "same")], store)
    assert got_moved["dir/b.md"][:2] == got["a.md"][:2]
    assert store["a.md"].live is False


def test_first_seen_date_for_undated_articles() -> None:
    got, store = _resolve([_m("undated.md", "h")], {})
    assert got["undated.md"][2] == NOW
    later, _ = _resolve([_m("undated.md", "h2")], store, NOW + timedelta(days=5))
    assert later["undated.md"][2] == NOW


def test_slugs_are_unique_and_explicit_slug_wins() -> None:
    got, store = _resolve([_m("x/post.md", "1"), _m("y/post.md", "2")], {})
    assert {got["x/post.md"][1], got["y/post.md"][1]} == {"post", "post-2"}
    got2, _ = _resolve([_m("x/post.md", "1", slug="custom"), _m("y/post.md", "2")], store)
    assert got2["x/post.md"][1] == "custom"


def test_explicit_id_wins() -> None:
    got, _ = _resolve([_m("a.md", "1", id="urn:uuid:1")], {})
    assert got["a.md"][0] == "urn:uuid:1"
