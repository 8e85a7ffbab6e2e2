"""The state store, the same tests on SQLite and on a real PostgreSQL server.

PostgreSQL comes from FEEDPUB_TEST_POSTGRES_URL (.ci/run installs and starts one); each test
gets a schema of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedpub.model import Article, ArticleMeta, Problem
from feedpub.state import Identity, IndexRow, OutboxItem, OutputRecord, State, to_us
from tests.conftest import Site

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "state.sqlite3"
    return str(request.getfixturevalue("pg_url"))


def _article(
    path: str, day: int, cats: tuple[str, ...] = ("News",), draft: bool = False
) -> tuple[IndexRow, Article]:
    meta = ArticleMeta(
        path=path, title=path.upper(), categories=cats, draft=draft, content_hash=f"h-{path}"
    )
    row = IndexRow(
        path=path,
        size=10 + day,
        mtime_ns=day * 1_000_000_000,
        content_hash=meta.content_hash,
        meta=meta,
        problems=(Problem(path=path, message="note"),) if day == 2 else (),
    )
    art = Article(
        meta=meta,
        date=NOW - timedelta(days=10 - day),
        id=f"id-{path}",
        slug=path,
        url=f"https://e.org/{path}/",
    )
    return row, art


def test_index_and_planning_queries(target: Path | str) -> None:
    rows = [_article(f"a{d}", d) for d in range(1, 6)]
    future = _article("later", 30)
    draft = _article("draft", 4, draft=True)
    with State(target) as state:
        assert state.schema_version == 4
        with state.transaction():
            everything = [*rows, future, draft]
            state.put_articles([r for r, _ in everything], {a.path: a for _, a in everything})
        assert state.article_count() == 7
        assert state.index_stats(["a1", "nope"]) == {"a1": (11, 1_000_000_000)}
        now_us = to_us(NOW)
        assert state.newest(now_us, 3) == ["a5", "a4", "a3"]
        assert state.newest_in("news", now_us, 2) == ["a5", "a4"]
        assert state.tally(now_us) == (5, 1, 1, to_us(future[1].date))
        assert [p.path for p in state.problems()] == ["a2"]
        [loaded] = state.load_articles(["a3"])
        assert (loaded.id, loaded.date, loaded.meta.title) == ("id-a3", rows[2][1].date, "A3")
        # re-storing a row replaces it (an upsert)
        with state.transaction():
            state.put_articles([rows[0][0]], {"a1": rows[0][1]})
            state.drop_articles(["a5"])
        assert state.article_count() == 6
        assert state.newest(now_us, 1) == ["a4"]


def test_identities_outputs_and_bodies(target: Path | str) -> None:
    ident = Identity(path="a.md", article_id="tag:x", slug="a", first_seen=NOW, content_hash="h")
    with State(target) as state:
        with state.transaction():
            state.put_identities([ident])
            state.put_identities([ident])  # idempotent
            state.retire_identities(["a.md"])
        assert state.orphans_for(["h"])["h"].article_id == "tag:x"
        assert state.live_slugs() == set()
        rec = OutputRecord(
            relpath="feeds/all.json",
            sha256="s",
            fingerprint="f",
            size=1,
            mtime_ns=2,
            feed_key="all",
            kind="feed",
        )
        with state.transaction():
            state.put_outputs([rec, rec])
            state.put_bodies([("a.md", "k1", "<p>x</p>", "x")])
            state.put_bodies([("a.md", "k2", "<p>y</p>", "y")])
            state.put("last_build", "now")
        assert state.outputs()["feeds/all.json"] == rec
        assert state.cached_bodies({"a.md": "k2"}) == {"a.md": ("<p>y</p>", "y")}
        assert state.cached_bodies({"a.md": "k1"}) == {}
        with state.transaction():
            state.prune_bodies([])
        assert state.cached_bodies({"a.md": "k2"}) == {}
        assert state.get("last_build") == "now"


def test_outbox_coalesces_claims_and_retries(target: Path | str) -> None:
    item = OutboxItem(kind="websub", target="https://hub/", topic="https://s/f", not_before=NOW)
    with State(target) as state:
        with state.transaction():
            assert state.enqueue([item, item], NOW) == 1  # coalesced
        [row] = state.due(NOW)
        lease = NOW + timedelta(seconds=30)
        with state.transaction():
            assert state.claim([row.id], NOW, lease) == [row.id]
            assert state.enqueue([item], NOW) == 1  # a change during the send: its own row
            state.record_attempt(
                row.id,
                at=NOW,
                outcome="retry",
                status=503,
                error="busy",
                ms=5,
                retry_at=NOW + timedelta(seconds=30),
            )
        # the retry was superseded by the newer pending row: one row left to send
        [newer] = state.due(NOW, everything=True)
        assert newer.id != row.id
        assert state.pending_count() == 1
        assert state.next_due() == NOW
        with state.transaction():
            [second] = state.claim([newer.id], NOW, lease)
        # a sender that dies mid-send: nobody else takes the row while its lease holds...
        assert state.due(NOW + timedelta(seconds=10)) == []
        assert state.next_due() == lease
        with state.transaction():
            assert state.claim([second], NOW + timedelta(seconds=10), lease) == []
        # ...and once it runs out, the row is due again and another sender may take it
        later = NOW + timedelta(seconds=31)
        assert [r.id for r in state.due(later)] == [second]
        with state.transaction():
            assert state.claim([second], later, later + timedelta(seconds=30)) == [second]
            state.record_attempt(second, at=NOW, outcome="ok", status=204, error=None, ms=3)
        assert state.last_sent("websub", "https://hub/", "https://s/f") == NOW
        report = state.outbox_report()
        assert (report["pending"], report["done"]) == (0, 2)


def test_subscriptions(target: Path | str) -> None:
    with State(target) as state:
        with state.transaction():
            state.subscribe("https://s/f", "https://cb/1", "sec", 60, NOW)
            state.subscribe("https://s/f", "https://cb/1", None, 120, NOW)  # renewal
            state.subscribe("https://s/f", "https://cb/2", None, 1, NOW - timedelta(seconds=5))
        assert state.count_subscriptions(NOW) == 1
        sub = state.find_subscription("https://s/f", "https://cb/1")
        assert sub is not None
        assert (sub.secret, sub.lease_seconds) == (None, 120)
        assert state.subscribers(["https://s/f"], NOW) == {"https://s/f": [sub.id]}
        with state.transaction():
            assert state.purge_expired(NOW) == 1
            state.unsubscribe("https://s/f", "https://cb/1")
        assert state.count_subscriptions(NOW) == 0


def test_a_whole_site_on_postgresql(site: Site, pg_url: str) -> None:
    site.config_text += f'\n[state]\nurl = "{pg_url}"\n'
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[News]")
    first = site.build()
    assert len(first.written) > 0
    assert site.build().written == ()
    assert not (site.root / "state" / "state.sqlite3").exists()
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[News]")
    assert "feeds/news.atom.xml" in site.build().written
