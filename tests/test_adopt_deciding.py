"""``feedpub adopt``, deciding (pure): what each format said merged into one identity; a
published id replaced only when forced."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from feedpub.adopt import Match, adopted_identity, decide
from feedpub.model import Identity
from tests.conftest import NOW
from tests.test_adopt_matching import FEED, _article, _entry


def _ident(path: str) -> Identity:
    return Identity(path=path, article_id=f"tag:new,2025:{path}", slug=path, first_seen=NOW)


def test_adopted_identity_merges_what_each_format_said() -> None:
    now = NOW + timedelta(days=1)
    old = datetime(2019, 1, 1, tzinfo=UTC)
    base = _ident("a.md")
    atom = adopted_identity(base, item_id=None, atom_id="urn:a", published=old, now=now)
    assert (atom.article_id, atom.atom_id, atom.first_seen, atom.adopted) == (
        "urn:a",
        "urn:a",
        old,
        now,
    )
    both = adopted_identity(atom, item_id="g-1", atom_id=None, published=None, now=now)
    assert (both.article_id, both.atom_id, both.first_seen) == ("g-1", "urn:a", old)
    again = adopted_identity(
        both, item_id=None, atom_id="urn:b", published=old + timedelta(1), now=now
    )
    assert (again.article_id, again.atom_id, again.first_seen) == ("g-1", "urn:b", old)
    rss = adopted_identity(base, item_id="g-2", atom_id=None, published=None, now=now)
    assert (rss.article_id, rss.atom_id, rss.first_seen) == ("g-2", None, NOW)
    # a derived identity keeps nothing of its own ids
    assert (
        adopted_identity(base, item_id=None, atom_id="urn:c", published=None, now=now).article_id
        == "urn:c"
    )


def test_decide_refuses_to_replace_a_published_id_unless_forced() -> None:
    a = _article("a.md", "A", "2020-01-01T00:00:00Z")
    m = Match(feed=FEED, entry=_entry("A"), path="a.md", how="title and date")
    stored = {"a.md": _ident("a.md")}

    def run(
        matches: list[Match], published: bool, force: bool = False
    ) -> tuple[list[tuple[str, str, Identity | None]], list[str]]:
        adoptions, outcomes = decide(
            matches,
            {"a.md": a},
            stored,
            stored=stored,
            published=lambda path: published,
            now=NOW,
            force=force,
        )
        return (
            [(x.path, x.identity.article_id, x.before) for x in adoptions],
            [o.status for o in outcomes],
        )

    assert run([m], published=True) == ([], ["refused"])
    assert run([m], published=True, force=True) == ([("a.md", "old-1", stored["a.md"])], [])
    assert run([m], published=False) == ([("a.md", "old-1", stored["a.md"])], [])
    # an entry without id or link: nothing to keep
    bare = Match(feed=FEED, entry=replace(_entry("A"), id=None), path="a.md", how="title")
    assert run([bare], published=False) == ([], ["skipped"])
