"""The state store, the same tests on SQLite and on a real PostgreSQL server.

PostgreSQL comes from FEEDPUB_TEST_POSTGRES_URL (.ci/run installs and starts one); each test
gets a schema of its own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedpub.model import (
    Article,
    ArticleMeta,
    Author,
    Enclosure,
    Identity,
    IndexRow,
    OutboxItem,
    OutputRecord,
    Problem,
)
from feedpub.planning import ALL_KEY
from feedpub.store import State
from feedpub.store.codec import meta_from_json, meta_to_json, to_us
from feedpub.store.schema import SCHEMA_VERSION
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
        assert state.schema_version == SCHEMA_VERSION
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
            state.put("last_build", "now")
        assert state.outputs()["feeds/all.json"] == rec
        assert state.get("last_build") == "now"


def test_a_file_that_stops_parsing_keeps_its_last_good_version(target: Path | str) -> None:
    meta = ArticleMeta(path="a.md", title="A", categories=("News",), content_hash="h1")
    art = Article(meta=meta, date=NOW, id="tag:a", slug="a", url="https://e/a/")
    good = IndexRow(
        path="a.md",
        size=10,
        mtime_ns=1,
        content_hash="h1",
        meta=meta,
        problems=(),
        body_html="<p>x</p>",
        excerpt="x",
    )
    broken = Problem(path="a.md", line=2, message="front matter: bad")
    failed = IndexRow(
        path="a.md", size=11, mtime_ns=2, content_hash="h2", meta=None, problems=(broken,)
    )
    never = IndexRow(path="b.md", size=1, mtime_ns=1, content_hash=None, meta=None, problems=())
    now_us = to_us(NOW)
    with State(target) as state:
        with state.transaction():
            state.put_articles([good], {"a.md": art})
        assert state.bodies_for(["a.md"]) == {"a.md": ("<p>x</p>", "x")}
        with state.transaction():
            state.put_articles([failed, never], {})
        # the file is indexed as it is now (so it is not read again until it changes) ...
        assert state.index_stats() == {"a.md": (11, 2), "b.md": (1, 1)}
        assert state.problems() == [broken]
        # ... and what is published is the version that parsed
        assert state.parsed_paths(["a.md", "b.md"]) == {"a.md"}
        [kept] = state.load_articles(["a.md", "b.md"])
        assert (kept.meta.title, kept.meta.content_hash) == ("A", "h1")
        assert state.newest_in("news", now_us, 5) == ["a.md"]
        assert state.bodies_for(["a.md"]) == {"a.md": ("<p>x</p>", "x")}
        with state.transaction():
            state.drop_articles(["a.md"])  # deleted: unpublished, body and all
        assert state.bodies_for(["a.md"]) == {}
        assert state.load_articles(["a.md"]) == []


def test_outbox_coalesces_claims_and_retries(target: Path | str) -> None:
    item = OutboxItem(kind="websub", target="https://hub/", topic="https://s/f", not_before=NOW)
    lease = NOW + timedelta(seconds=30)
    with State(target) as state:
        with state.transaction():
            assert state.enqueue([item, item], NOW) == 1  # coalesced
        [row] = state.due(NOW)
        with state.transaction():
            assert state.claim_due(NOW, NOW, lease, 10) == [replace(row, lease=lease)]
            assert state.claim_due(NOW, NOW, lease, 10) == []  # nobody else sends it too
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
            [second] = state.claim_due(NOW, NOW, lease, 10)
        assert second.id == newer.id
        # a sender that dies mid-send: nobody else takes the row while its lease holds...
        soon = NOW + timedelta(seconds=10)
        assert state.due(soon) == []
        assert state.next_due() == lease
        with state.transaction():
            assert state.claim_due(soon, soon, lease, 10) == []
        # ...and once it runs out, the row is due again and another sender may take it
        later = NOW + timedelta(seconds=31)
        assert [r.id for r in state.due(later)] == [second.id]
        with state.transaction():
            [again] = state.claim_due(later, later, later + timedelta(seconds=30), 10)
            assert again.id == second.id
            state.record_attempt(second.id, at=NOW, outcome="ok", status=204, error=None, ms=3)
        assert state.last_sent("websub", "https://hub/", "https://s/f") == NOW
        report = state.outbox_report()
        assert (report["pending"], report["done"]) == (0, 2)


def test_claims_take_the_oldest_first_and_requeue(target: Path | str) -> None:
    items = [
        OutboxItem(
            kind="delivery",
            target=f"subscription:{i}",
            topic="https://s/f",
            not_before=NOW + timedelta(seconds=i % 5),
            subscription_id=i,
        )
        for i in range(10)
    ]
    lease = NOW + timedelta(minutes=1)
    with State(target) as state:
        with state.transaction():
            assert state.enqueue(items, NOW) == 10
        due_by = NOW + timedelta(seconds=2)  # 6 of them are due by then
        with state.transaction():
            first = state.claim_due(due_by, NOW, lease, 4)
        assert [r.not_before for r in first] == sorted(r.not_before for r in first)
        assert first[0].not_before == NOW
        with state.transaction():
            rest = state.claim_due(due_by, NOW, lease, 4)
        assert len(first) == 4 and len(rest) == 2
        assert not {r.id for r in first} & {r.id for r in rest}
        with state.transaction():  # one goes back (too soon for its target, say)
            state.requeue(first[0].id, NOW + timedelta(seconds=1), at=NOW)
            assert state.claim_due(due_by, NOW, lease, 4) == [
                replace(first[0], not_before=NOW + timedelta(seconds=1))
            ]
        with state.transaction():  # a restart: everything pending is due now
            assert state.make_due(NOW) == 4
            assert len(state.claim_due(NOW, NOW, lease, 100)) == 4
        assert state.pending_count() == 10  # claimed ("sending") rows still count as pending


def test_a_sender_whose_lease_ran_out_changes_nothing(target: Path | str) -> None:
    """Fencing: sender A's lease runs out mid-send and B claims the row; A's late outcome is
    written down but changes nothing, so the row stays B's (nobody else sends it meanwhile)."""
    item = OutboxItem(kind="websub", target="https://hub/", topic="https://s/f", not_before=NOW)
    at = [NOW + timedelta(seconds=n) for n in range(100)]
    with State(target) as state:
        with state.transaction():
            state.enqueue([item], NOW)
        with state.transaction():
            [a] = state.claim_due(NOW, NOW, at[45], 10)
        with state.transaction():
            [b] = state.claim_due(at[46], at[46], at[91], 10)  # A's lease ran out
        assert (a.id, a.lease, b.lease) == (b.id, at[45], at[91])
        with state.transaction():  # A's late failure: a retry would make the row pending
            state.record_attempt(
                a.id,
                at=at[50],
                outcome="retry",
                status=503,
                error="x",
                ms=1,
                retry_at=at[50],
                lease=a.lease,
            )
        with state.transaction():
            assert state.claim_due(at[51], at[51], at[96], 10) == []  # still B's
        with state.transaction():  # A's late success does not finish B's claim either
            state.record_successes([(a.id, 204, 1, a.lease)], at=at[52])
            state.record_attempt(
                a.id, at=at[52], outcome="failed", status=404, error="x", ms=1, lease=a.lease
            )
            state.requeue(a.id, at[52], at=at[52], lease=a.lease)
        assert state.outbox_report()["done"] == 0
        assert state.next_due() == at[91]
        with state.transaction():
            state.record_successes([(b.id, 204, 1, b.lease)], at=at[53])
        assert (state.pending_count(), state.outbox_report()["done"]) == (0, 1)


def test_a_retry_racing_a_newer_change_never_breaks_the_batch(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build commits a newer pending row for the same target between a sender's check for
    one and its requeue (PostgreSQL runs them side by side): the newer row stands for both,
    and the batch the sender is recording (successes too) commits."""
    item = OutboxItem(kind="websub", target="https://hub/", topic="https://s/f", not_before=NOW)
    other = OutboxItem(kind="websub", target="https://hub2/", topic="https://s/g", not_before=NOW)
    with State(pg_url) as sender, State(pg_url) as builder:
        with sender.transaction():
            sender.enqueue([item, other], NOW)
        with sender.transaction():
            rows = sender.claim_due(NOW, NOW, NOW + timedelta(minutes=1), 10)
        x = next(r for r in rows if r.target == "https://hub/")
        ok = next(r for r in rows if r.target == "https://hub2/")
        real = sender._db.execute

        def execute(sql: str, params: Any = ()) -> Any:
            cur = real(sql, params)
            if sql == "SAVEPOINT requeue":  # between deciding to requeue and doing it
                with builder.transaction():  # the build commits a change right now
                    assert builder.enqueue([item], NOW) == 1
            return cur

        monkeypatch.setattr(sender._db, "execute", execute)
        with sender.transaction():  # what the notifier does: successes, then the retry
            sender.record_successes([(ok.id, 204, 5, ok.lease)], at=NOW)
            sender.record_attempt(
                x.id,
                at=NOW,
                outcome="retry",
                status=503,
                error="503",
                ms=5,
                retry_at=NOW + timedelta(seconds=30),
                lease=x.lease,
            )
        monkeypatch.undo()
        statuses = sender._db.execute("SELECT target, status FROM outbox ORDER BY id").fetchall()
    assert [tuple(r) for r in statuses] == [
        ("https://hub/", "done"),  # superseded by the newer change
        ("https://hub2/", "done"),
        ("https://hub/", "pending"),
    ]


def test_concurrent_senders_never_claim_the_same_row(target: Path | str) -> None:
    """Four senders, each with its own connection, claim in small batches at once: every
    row is won exactly once."""
    items = [
        OutboxItem(
            kind="delivery",
            target=f"subscription:{i}",
            topic="https://s/f",
            not_before=NOW,
            subscription_id=i,
        )
        for i in range(400)
    ]
    with State(target) as state, state.transaction():
        state.enqueue(items, NOW)
    won: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def sender(n: int) -> None:
        with State(target) as state:
            start.wait()
            while True:
                with state.transaction():
                    rows = state.claim_due(NOW, NOW, NOW + timedelta(minutes=1), 7)
                if not rows:
                    return
                won[n] += [r.id for r in rows]
                time.sleep(0.002)  # "sending": the others claim meanwhile

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [i for ids in won for i in ids]
    assert len(every) == 400
    assert len(set(every)) == 400
    assert sum(1 for ids in won if ids) >= 2  # they really ran side by side


def test_processes_opening_a_new_store_at_once_all_succeed(target: Path | str) -> None:
    """A daemon's builder and notifier, and workers, may all create the schema at once."""
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_it() -> None:
        try:
            start.wait()
            with State(target) as state:
                assert state.schema_version == SCHEMA_VERSION
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_a_process_waiting_to_migrate_sees_the_schema_another_just_made(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that found no schema waits for the migration lock while another creates
    it; once it has the lock it must see the new schema and leave it alone (running the DDL
    again would lock the tables a build is writing: a deadlock, seen in the hub tests)."""
    from feedpub.store import SCHEMA_LOCK_KEY
    from feedpub.store.db import Db

    seen: list[int] = []
    original = State._migrate_locked

    def spy(self: State, version: int) -> None:
        seen.append(version)
        original(self, version)

    first = State.__new__(State)  # the process that migrates: holds the lock, mid-migration
    first.path, first._db = pg_url, Db(pg_url)
    try:
        first._db.execute("BEGIN")
        first._db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))
        first._migrate_locked(0)
        monkeypatch.setattr(State, "_migrate_locked", spy)
        second: list[State] = []
        waiter = threading.Thread(target=lambda: second.append(State(pg_url)))
        waiter.start()
        deadline = time.monotonic() + 10
        while not first._db.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the second process never waited for the lock"
            time.sleep(0.01)
        first._db.execute("COMMIT")
        waiter.join(10)
        assert seen == [SCHEMA_VERSION]  # it saw the schema: nothing created twice
        second[0].close()
    finally:
        first.close()


def test_a_v5_store_is_migrated_to_v6(target: Path | str) -> None:
    """Bodies moved into the index: v6 reads every file again (the index is a cache), and
    keeps what must never change (identities, the outbox, key/values)."""
    ident = Identity(path="a.md", article_id="tag:x", slug="a", first_seen=NOW, content_hash="h")
    meta = ArticleMeta(path="a.md", title="A", content_hash="h")
    row = IndexRow(path="a.md", size=1, mtime_ns=1, content_hash="h", meta=meta, problems=())
    with State(target) as state:
        with state.transaction():
            state.put("kept", "yes")
            state.put_identities([ident])
            state.put_articles([row], {})
        state._db.execute("DROP TABLE article_bodies")
        state._db.execute("CREATE TABLE bodies (path TEXT PRIMARY KEY, key TEXT)")
        if state.postgres:
            state._db.execute("UPDATE feedpub_schema SET version = 5")
        else:
            state._db.execute("PRAGMA user_version = 5")
    with State(target) as state:
        assert state.schema_version == SCHEMA_VERSION
        assert (state.get("kept"), state.identities()) == ("yes", {"a.md": ident})
        assert state.index_stats() == {}
        assert state.bodies_for(["a.md"]) == {}


def test_a_v6_store_is_migrated_to_v7_keeping_every_identity(target: Path | str) -> None:
    """v7: identities may be adopted from an old site's feeds (two new columns)."""
    ident = Identity(path="a.md", article_id="tag:x", slug="a", first_seen=NOW, content_hash="h")
    with State(target) as state:
        with state.transaction():
            state.put_identities([ident])
        for column in ("atom_id", "adopted"):
            state._db.execute(f"ALTER TABLE identities DROP COLUMN {column}")
        if state.postgres:
            state._db.execute("UPDATE feedpub_schema SET version = 6")
        else:
            state._db.execute("PRAGMA user_version = 6")
    adopted = Identity(
        path="b.md",
        article_id="1234",
        slug="b",
        first_seen=NOW - timedelta(days=900),
        atom_id="tag:old.example,2019:1234",
        adopted=NOW,
    )
    with State(target) as state:
        assert state.schema_version == SCHEMA_VERSION == 12
        assert state.identities() == {"a.md": ident}
        with state.transaction():
            state.put_identities([adopted])
        assert state.identities_for(["b.md"]) == {"b.md": adopted}
        assert state.orphans_for(["h"]) == {}


def test_a_v7_store_is_migrated_to_v8_and_its_files_read_again(target: Path | str) -> None:
    """v8: hidden articles get pages, so the index tells them from drafts (a new column);
    every file is read again to fill it in."""
    row, art = _article("a", 1)
    with State(target) as state:
        with state.transaction():
            state.put_articles([row], {"a": art})
        state._db.execute("ALTER TABLE articles DROP COLUMN hidden")
        if state.postgres:
            state._db.execute("UPDATE feedpub_schema SET version = 7")
        else:
            state._db.execute("PRAGMA user_version = 7")
    with State(target) as state:
        assert state.schema_version == SCHEMA_VERSION == 12
        assert state.index_stats() == {"a": (row.size, -1)}
        assert state.load_articles(["a"]) == [art]  # published as it was until then
        hidden_row, hidden = _article("h", 2)
        hidden = replace(hidden, meta=replace(hidden.meta, hidden=True))
        with state.transaction():
            state.put_articles([replace(hidden_row, meta=hidden.meta)], {"h": hidden})
        now = to_us(NOW + timedelta(days=30))
        assert state.page_paths(now) == {"a", "h"}
        assert _in_all(state, now) == ["a"]  # in no feed


def _in_all(state: State, now_us: int) -> list[str]:
    """The articles in the feed of all articles at ``now_us``."""
    return [m.path for key, m in state.feed_members() if key == ALL_KEY and m.date_us <= now_us]


def test_a_v8_store_is_migrated_to_v9_and_its_files_read_again(target: Path | str) -> None:
    """v9: expiry dates and translations have columns; every file is read again to fill
    them in. An expired article leaves every feed and page at its time; a translation is in
    its language's feed only."""
    row, art = _article("a", 1)
    with State(target) as state:
        with state.transaction():
            state.put_articles([row], {"a": art})
        state._db.execute("DROP INDEX articles_expires")  # (v12's)
        state._db.execute("ALTER TABLE articles DROP COLUMN expires_us")
        state._db.execute("ALTER TABLE articles DROP COLUMN lang")
        if state.postgres:
            state._db.execute("UPDATE feedpub_schema SET version = 8")
        else:
            state._db.execute("PRAGMA user_version = 8")
    with State(target) as state:
        assert state.schema_version == SCHEMA_VERSION == 12
        assert state.index_stats() == {"a": (row.size, -1)}
        assert state.load_articles(["a"]) == [art]
        soon = art.date + timedelta(days=2)
        expiring = replace(art, meta=replace(art.meta, expires=soon))
        fr_row, fr = _article("f", 2)
        fr = replace(fr, meta=replace(fr.meta, lang="fr"))
        with state.transaction():
            state.put_articles([replace(row, meta=expiring.meta)], {"a": expiring}, now_us=0)
            state.put_articles([replace(fr_row, meta=fr.meta)], {"f": fr}, now_us=0)
        before = to_us(soon) - 1
        assert state.next_expiry(before) == to_us(soon)
        assert _in_all(state, before) == ["a"]  # (not the translation)
        assert state.newest_in("all-fr", before, 5) == ["f"]
        with state.transaction():
            assert state.expire(before) == 0
            assert state.expire(to_us(soon)) == 1
        assert _in_all(state, to_us(soon)) == []
        assert state.page_paths(to_us(soon)) == {"f"}
        assert state.next_expiry(to_us(soon)) is None


def _indexes(state: State) -> set[str]:
    if state.postgres:
        return {r[0] for r in state._db.execute("SELECT indexname FROM pg_indexes")}
    return {r[0] for r in state._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_v11_store_gets_the_indexes_of_expiring_articles_and_problems(
    target: Path | str,
) -> None:
    """v12: the articles that expire and those with problems are found from an index (a
    build asks for both; a site has few of either), not by reading every article."""
    row, art = _article("a", 1)
    with State(target) as state:
        with state.transaction():
            state.put_articles([row], {"a": art})
        for name in ("articles_expires", "articles_problems"):
            state._db.execute(f"DROP INDEX {name}")
        if state.postgres:
            state._db.execute("UPDATE feedpub_schema SET version = 11")
        else:
            state._db.execute("PRAGMA user_version = 11")
    with State(target) as state:
        assert state.schema_version == SCHEMA_VERSION == 12
        assert {"articles_expires", "articles_problems"} <= _indexes(state)
        assert state.load_articles(["a"]) == [art]
        if not state.postgres:
            for query in (
                "SELECT path FROM articles WHERE meta IS NOT NULL AND expires_us <= 1"
                " AND (draft = 0 OR hidden = 1)",
                "SELECT path, problems FROM articles WHERE problems != '[]' ORDER BY path",
            ):
                plan = " ".join(r[3] for r in state._db.execute("EXPLAIN QUERY PLAN " + query))
                assert "USING INDEX articles_" in plan, plan


def test_reread_and_wrote_feeds(target: Path | str) -> None:
    row, art = _article("a", 1)
    record = OutputRecord(
        relpath="feeds/all.json",
        sha256="ab",
        fingerprint="f",
        size=2,
        mtime_ns=1,
        feed_key="all",
        kind="feed",
    )
    with State(target) as state:
        assert not state.wrote_feeds()
        with state.transaction():
            state.put_articles([row], {"a": art})
            state.put_outputs([replace(record, relpath="index.html", kind="index")])
        assert not state.wrote_feeds()
        with state.transaction():
            state.put_outputs([record])
            state.reread(["a", "gone"])
        assert state.wrote_feeds()
        assert state.index_stats() == {"a": (row.size, -1)}  # read again by the next build
        assert state.load_articles(["a"]) == [art]  # (published as it was until then)


def test_a_v4_store_is_migrated(target: Path | str) -> None:
    with State(target) as state:
        with state.transaction():
            state.put("kept", "yes")
        state._db.execute("DROP TABLE published")
        if state.postgres:
            state._db.execute("UPDATE feedpub_schema SET version = 4")
        else:
            state._db.execute("PRAGMA user_version = 4")
    with State(target) as state:
        assert state.schema_version == SCHEMA_VERSION
        assert state.get("kept") == "yes"
        with state.transaction():
            state.put_published([("feeds/all.json", "ab", b"{}")])
        assert state.published_content(["feeds/all.json"]) == {"feeds/all.json": ("ab", b"{}")}


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
    # the bytes of every published file are in the state too (for standbys on other hosts)
    with State(pg_url) as state:
        outputs = state.outputs()
        held = state.published_content(sorted(outputs))
        assert {k: v[0] for k, v in held.items()} == {k: r.sha256 for k, r in outputs.items()}
        assert held["feeds/news.atom.xml"][1] == site.read("feeds/news.atom.xml")
        assert state.unpublished() == {}
        # files published before the table existed (a v4 store) are backfilled by a build
        state._db.execute("DELETE FROM published")
        state.put("published_complete", None)
    assert site.build().written == ()
    with State(pg_url) as state:
        assert state.unpublished() == {}


# --- a state file that is not what it should be is refused, never replaced -------------------


def test_an_empty_state_file_is_refused_not_started_afresh(tmp_path: Path) -> None:
    """An empty file is a lost state (truncated, or a failed copy): starting a new one over
    it would give articles without an explicit id new ids, flooding every subscriber."""
    from feedpub.errors import StateError

    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(StateError) as info:
        State(path)
    assert str(info.value).startswith(f"{path}: the state file is empty (0 bytes)")
    assert "restore it from a backup" in str(info.value)
    assert path.read_bytes() == b""  # left as it is
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite3"]


@pytest.mark.parametrize(
    "content", [b"{}", b"SQLite format 2\x00" + b"\x00" * 100, b"x" * 5000, b"\x00" * 4096]
)
def test_a_file_that_is_no_sqlite_database_is_refused(tmp_path: Path, content: bytes) -> None:
    from feedpub.errors import StateError

    path = tmp_path / "state.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StateError, match="not an SQLite database, so not feedpub's state file"):
        State(path)
    assert path.read_bytes() == content
    (tmp_path / "folder.sqlite3").mkdir()
    with pytest.raises(StateError, match="is a folder, not the state file"):
        State(tmp_path / "folder.sqlite3")


def test_a_new_state_file_is_never_seen_empty(tmp_path: Path) -> None:
    """It is made under another name and linked into place whole: processes opening a new
    store at once never find it empty (which would now be refused)."""
    errors: list[BaseException] = []
    for round_ in range(10):
        path = tmp_path / f"s{round_}" / "state.sqlite3"
        start = threading.Barrier(8)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            try:
                start.wait()
                with State(path) as state:
                    assert state.schema_version == SCHEMA_VERSION
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        # (no temporary file left; SQLite may keep its -wal and -shm beside it)
        names = {p.name for p in path.parent.iterdir()}
        assert "state.sqlite3" in names
        assert names <= {"state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"}
    assert errors == []


def test_a_database_error_while_in_use_is_a_state_error(tmp_path: Path) -> None:
    import sqlite3

    from feedpub.errors import StateError

    path = tmp_path / "state.sqlite3"
    with pytest.raises(StateError) as info, State(path) as state:
        state._db.execute("SELECT * FROM no_such_table")
    assert str(info.value) == f"{path}: the state store failed: no such table: no_such_table"
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    with pytest.raises(ValueError, match="not ours"), State(path):
        raise ValueError("not ours")  # anything else passes through as it is


def test_indexed_metadata_keeps_every_field() -> None:
    meta = ArticleMeta(
        path="ep.md",
        title="Episode",
        date=NOW,
        updated=NOW + timedelta(days=1),
        categories=("Podcast",),
        tags=("t",),
        authors=(Author(name="A", email="a@example.org", url="https://example.org/a"),),
        summary="S",
        id="ep-1",
        slug="ep",
        link="https://example.org/x",
        image="https://example.org/cover.png",
        enclosure=Enclosure(url="https://example.org/ep.mp3", type="audio/mpeg", length=5),
        duration=1200,
        episode=3,
        season=1,
        explicit=False,
        expires=NOW + timedelta(days=30),
        content_hash="h",
    )
    assert meta_from_json("ep.md", "h", meta_to_json(meta)) == meta
    assert '"xp":' in meta_to_json(meta)
    bare = ArticleMeta(path="b.md", title="B", content_hash="h2")
    assert meta_from_json("b.md", "h2", meta_to_json(bare)) == bare


def test_the_build_history_keeps_the_newest_twenty(target: Path | str) -> None:
    from feedpub.model import BuildRecord
    from feedpub.store.builds import BUILD_HISTORY

    with State(target) as state:
        for i in range(BUILD_HISTORY + 5):
            record = BuildRecord(
                started_at=NOW + timedelta(minutes=i),
                duration_ms=i,
                outcome="failed" if i % 2 else "ok",
                articles=None if i % 2 else i,
                error="boom <b>" if i % 2 else None,
            )
            with state.transaction():
                state.record_build(record)
        builds = state.recent_builds()
        assert len(builds) == BUILD_HISTORY
        assert [b.duration_ms for b in builds] == list(range(BUILD_HISTORY + 4, 4, -1))
        assert builds[0] == BuildRecord(
            started_at=NOW + timedelta(minutes=24), duration_ms=24, outcome="ok", articles=24
        )
        assert builds[1].error == "boom <b>" and builds[1].articles is None
        assert [b.duration_ms for b in state.recent_builds(2)] == [24, 23]
