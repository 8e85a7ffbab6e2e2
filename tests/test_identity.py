"""Permanent ids, slugs and first-seen dates (pure resolution over a batch)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.identity import resolve
from feedpub.model import ArticleMeta, Identity

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


# --- Atom ids: always absolute IRIs (RFC 4287 4.2.6) --------------------------------------------


ATOMS: dict[int, dict[str, str]] = {}  # the state's atom_ids table, per test store


def _atom_ids(store: Store, metas: list[ArticleMeta], now: datetime = NOW) -> dict[str, str]:
    from feedpub.identity import resolve as resolve_

    atoms = ATOMS.setdefault(id(store), {})
    paths = {m.path for m in metas}
    r = resolve_(
        metas,
        {p: i for p, i in store.rows.items() if p in paths},
        orphans={},
        taken=set(),
        now=now,
        tz=TZ,
        host="e.org",
        article_url="{base_url}p/{slug}/",
        base_url="https://e.org/",
        atom_ids=atoms,
    )
    for ident in r.identities:
        store.rows[ident.path] = ident
    atoms.update(r.atom_ids)
    return {a.path: a.atom_id for a in r.articles} | {f"{a.path}#id": a.id for a in r.articles}


def test_an_explicit_id_that_is_no_iri_gets_a_tag_iri_kept_for_good() -> None:
    store = Store()
    got = _atom_ids(store, [_m("a.md", "h1", id="post-42"), _m("b.md", "h2", id="12345")])
    assert got["a.md"] == "tag:e.org,2025-01-10:id/post-42"
    assert got["b.md"] == "tag:e.org,2025-01-10:id/12345"
    assert got["a.md#id"] == "post-42"  # RSS guid and JSON Feed id: as written
    # later, edited, with the clock and the date moved on: the same Atom id
    later = NOW + timedelta(days=400)
    again = _atom_ids(store, [_m("a.md", "h3", id="post-42", date=later)], now=later)
    assert again["a.md"] == "tag:e.org,2025-01-10:id/post-42"
    # renamed and edited at once (no move recognised): the explicit id keeps its Atom id
    moved = _atom_ids(store, [_m("b/renamed.md", "h9", id="post-42")], now=later)
    assert moved["b/renamed.md"] == "tag:e.org,2025-01-10:id/post-42"
    # a new explicit id is a new entry
    changed = _atom_ids(store, [_m("a.md", "h4", id="post-43")], now=later)
    assert changed["a.md"] == "tag:e.org,2025-01-10:id/post-43"  # (a.md first seen then)


def test_an_atom_id_made_from_an_explicit_id_never_meets_a_derived_one() -> None:
    store = Store()
    got = _atom_ids(store, [_m("hello.md", "h1"), _m("imported.md", "h2", id="hello")])
    assert got["hello.md"] == "tag:e.org,2025-01-10:hello"
    assert got["imported.md"] == "tag:e.org,2025-01-10:id/hello"


def test_explicit_ids_that_are_iris_are_untouched() -> None:
    store = Store()
    for explicit in (
        "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
        "https://e.org/p/1",
        "tag:x,2020:y",
    ):
        assert _atom_ids(store, [_m("a.md", explicit, id=explicit)])["a.md"] == explicit


def test_derived_ids_are_their_own_atom_ids() -> None:
    got = _atom_ids(Store(), [_m("2024-05-06-hello.md", "h1")])
    assert (
        got["2024-05-06-hello.md"] == got["2024-05-06-hello.md#id"] == "tag:e.org,2024-05-06:hello"
    )


@pytest.mark.parametrize(
    ("text", "iri"),
    [
        ("post-42", False),
        ("12345", False),
        ("urn:isbn:0451450523", True),
        ("https://example.org/a b", False),
        ("mailto:x@example.org", True),
        ("tag:example.org,2024:Café", True),
        ("x:%zz", False),
        ("C:\\files\\a", False),
        (":nothing", False),
        ("1abc:x", False),
        ("urn:a#b#c", False),  # one fragment at most
        ("x:[", False),
        ("a:\u202eb", False),  # bidi formatting characters are not IRI characters
        ("a:\U0001fffe", False),  # nor are noncharacters
        ("tag:x,2020:y#f", True),
    ],
)
def test_is_absolute_iri(text: str, iri: bool) -> None:
    from feedpub.identity import is_absolute_iri

    assert is_absolute_iri(text) is iri


@given(st.text(min_size=1, max_size=60))
def test_any_explicit_id_makes_an_absolute_iri(explicit: str) -> None:
    from feedpub.identity import atom_id_for, is_absolute_iri

    made = atom_id_for(explicit, "e.org", "2025-01-10")
    assert is_absolute_iri(made)
    assert made.isascii()


# --- adopted ids (feedpub adopt: an old site's entry ids, kept as the identity) ----------------

OLD_DAY = datetime(2019, 3, 4, 9, tzinfo=UTC)


def _adopt(store: Store, path: str, article_id: str, atom_id: str | None = None) -> None:
    """What ``feedpub adopt`` stores: the old id (and Atom id) and the old published date."""
    store.rows[path] = replace(
        store.rows[path], article_id=article_id, atom_id=atom_id, first_seen=OLD_DAY, adopted=NOW
    )


def test_an_adopted_id_is_the_id_of_every_format_and_is_kept() -> None:
    store = Store()
    _atom_ids(store, [_m("hello.md", "h1")])
    _adopt(store, "hello.md", "https://old.example/posts/hello/")
    got = _atom_ids(store, [_m("hello.md", "h2", title="Edited")], now=NOW + timedelta(days=3))
    assert got["hello.md#id"] == got["hello.md"] == "https://old.example/posts/hello/"
    # moved (same bytes, new path): the adopted identity goes with the file
    store.rows["hello.md"] = replace(store.rows["hello.md"], live=False)
    moved = store.run([_m("2025/hello.md", "h2")], removed=())
    assert moved["2025/hello.md"][0] == "https://old.example/posts/hello/"
    assert store.rows["2025/hello.md"].adopted == NOW
    # an undated article is dated by its adopted first-seen date: the old published date
    assert moved["2025/hello.md"][2] == OLD_DAY


def test_an_adopted_id_that_is_no_iri_gets_a_tag_iri_as_an_explicit_one_does() -> None:
    store = Store()
    _atom_ids(store, [_m("a.md", "h1")])
    _adopt(store, "a.md", "1234")
    got = _atom_ids(store, [_m("a.md", "h1")])
    assert got["a.md#id"] == "1234"  # RSS guid, JSON Feed id: the old guid as it was
    assert got["a.md"] == "tag:e.org,2019-03-04:id/1234"  # made from the old date, kept
    later = _atom_ids(store, [_m("a.md", "h5")], now=NOW + timedelta(days=500))
    assert later["a.md"] == "tag:e.org,2019-03-04:id/1234"


def test_an_adopted_atom_id_that_differs_from_the_old_guid_is_the_atom_id() -> None:
    store = Store()
    _atom_ids(store, [_m("a.md", "h1"), _m("b.md", "h2")])
    _adopt(store, "a.md", "1234", atom_id="tag:old.example,2019:post-1234")
    _adopt(store, "b.md", "99", atom_id="not an iri")
    got = _atom_ids(store, [_m("a.md", "h1"), _m("b.md", "h2")])
    assert (got["a.md#id"], got["a.md"]) == ("1234", "tag:old.example,2019:post-1234")
    assert (got["b.md#id"], got["b.md"]) == ("99", "tag:e.org,2019-03-04:id/not%20an%20iri")


def test_an_explicit_id_wins_over_an_adopted_one() -> None:
    store = Store()
    _atom_ids(store, [_m("a.md", "h1")])
    _adopt(store, "a.md", "https://old.example/1", atom_id="tag:old,2019:1")
    got = _atom_ids(store, [_m("a.md", "h2", id="urn:uuid:7")])
    assert got["a.md#id"] == got["a.md"] == "urn:uuid:7"


def test_atom_id_keys_are_the_explicit_and_adopted_ids_that_are_no_iris() -> None:
    from feedpub.identity import atom_id_keys

    def ident(path: str, aid: str, **kw: object) -> Identity:
        return Identity(path=path, article_id=aid, slug=path, first_seen=NOW, **kw)  # type: ignore[arg-type]

    keys = atom_id_keys(
        [_m("a.md", "1", id="post-1"), _m("b.md", "2", id="urn:x:1"), _m("c.md", "3")],
        [
            ident("c.md", "tag:e.org,2025-01-10:c"),  # derived: its own Atom id
            ident("d.md", "77", adopted=NOW),
            ident("e.md", "88", atom_id="tag:o,2019:88", adopted=NOW),
            ident("f.md", "https://o/1", atom_id="x-1", adopted=NOW),
        ],
    )
    assert keys == {"post-1", "77", "x-1"}
