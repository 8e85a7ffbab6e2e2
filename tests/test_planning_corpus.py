"""The one planner over its two corpora: the state store's index (SQL, for builds) and
:class:`MemoryCorpus` (parsed files, for ``check``) must answer alike, so ``feedpub check``
reports what ``feedpub build`` would. Random corpora, both answers compared."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub.config import FeedsConfig, SiteConfig
from feedpub.model import Article, ArticleMeta, Identity, IndexRow, Plan
from feedpub.planning import MemoryCorpus, plan
from feedpub.store import State
from feedpub.store.codec import to_us

NOW = datetime(2025, 1, 10, 12, tzinfo=UTC)
SITE = SiteConfig(title="S", base_url="https://e.org/", language="en")
NAMES = ["A", "a", "B", "Tech News", "tech-news", "All"]


@st.composite
def corpora(draw: st.DrawFn) -> list[tuple[Article, datetime]]:
    """(article, first seen) pairs: dates around NOW, drafts, hidden, expiring,
    translations, shared ids and Atom ids, categories whose names collide."""
    out: list[tuple[Article, datetime]] = []
    for i in range(draw(st.integers(0, 12))):
        path = f"p{i:02d}.md"
        hours = draw(st.integers(-72, 72))
        date = NOW + timedelta(hours=hours)
        expires = draw(st.none() | st.integers(-48, 96).map(lambda h: NOW + timedelta(hours=h)))
        meta = ArticleMeta(
            path=path,
            title=path,
            categories=tuple(draw(st.lists(st.sampled_from(NAMES), max_size=3))),
            tags=tuple(draw(st.lists(st.sampled_from(["x", "y"]), max_size=2))),
            draft=draw(st.booleans()) and draw(st.booleans()),
            hidden=draw(st.booleans()) and draw(st.booleans()),
            expires=expires,
            lang=draw(st.sampled_from([None, None, "en", "fr", "en-gb"])),
            link=draw(st.sampled_from([None, None, "https://elsewhere.org/x"])),
            content_hash=f"h{i}",
        )
        ident = draw(st.sampled_from(["tag:e.org,2025:1", "tag:e.org,2025:2", f"tag:e.org:{path}"]))
        atom = draw(st.sampled_from(["", "", "tag:e.org,2025:atom"]))
        article = Article(
            meta=meta,
            date=date,
            id=ident,
            atom_id=atom,
            slug=path[:-3],
            url=meta.link or f"https://e.org/{path[:-3]}/",
        )
        seen = NOW - timedelta(days=draw(st.integers(0, 30)), hours=i)
        out.append((article, seen))
    return out


def _stored(root: Path, corpus: list[tuple[Article, datetime]], feeds: FeedsConfig) -> State:
    state = State(root / f"s{len(list(root.iterdir()))}.sqlite3")
    rows = [
        IndexRow(
            path=a.path,
            size=1,
            mtime_ns=1,
            content_hash=a.meta.content_hash,
            meta=a.meta,
            problems=(),
        )
        for a, _ in corpus
    ]
    with state.transaction():
        state.put_articles(
            rows,
            {a.path: a for a, _ in corpus},
            now_us=to_us(NOW),
            language=SITE.language,
            tags=feeds.tags,
        )
        state.put_identities(
            Identity(path=a.path, article_id=a.id, slug=a.slug, first_seen=seen, content_hash="h")
            for a, seen in corpus
        )
        state.expire(to_us(NOW))
    return state


def _shape(p: Plan) -> object:
    return (
        [(f.key, f.title, f.category, [a.path for a in f.entries], f.updated) for f in p.feeds],
        sorted(a.path for a in p.pages),
        sorted(p.problems, key=lambda x: (x.path, x.message)),
        (p.published, p.scheduled, p.drafts, p.hidden),
        (p.next_go_live, p.next_expiry),
        p.left_out,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=corpora(), max_entries=st.integers(1, 4), tags=st.booleans())
def test_the_index_and_memory_plan_alike(
    corpus: list[tuple[Article, datetime]], max_entries: int, tags: bool
) -> None:
    feeds = FeedsConfig(max_entries=max_entries, tags=tags)
    memory = MemoryCorpus(
        [a for a, _ in corpus],
        site_language=SITE.language,
        tags=tags,
        first_seen={a.path: seen for a, seen in corpus},
    )
    with tempfile.TemporaryDirectory() as tmp, _stored(Path(tmp), corpus, feeds) as state:
        from_index = plan(state, site=SITE, feeds=feeds, now=NOW)
    from_memory = plan(memory, site=SITE, feeds=feeds, now=NOW)
    assert _shape(from_memory) == _shape(from_index)
