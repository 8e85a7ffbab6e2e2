"""Pure planning: articles and `now` in, feed specs out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedpub.config import CategoryConfig, FeedsConfig, SiteConfig
from feedpub.model import Article, ArticleMeta
from feedpub.planning import EPOCH, MemoryCorpus, category_key, plan, plan_candidates

SITE = SiteConfig(title="S", base_url="https://e.org/")
NOW = datetime(2025, 1, 10, tzinfo=UTC)


def _a(path: str, day: int, cats: tuple[str, ...] = (), **meta: object) -> Article:
    date = datetime(2025, 1, day, tzinfo=UTC)
    m = ArticleMeta(path=path, title=path, categories=cats, **meta)  # type: ignore[arg-type]
    return Article(meta=m, date=date, id=f"id-{path}", slug=path, url=f"https://e.org/{path}/")


def test_plan_orders_newest_first_and_caps_entries() -> None:
    arts = [_a(f"a{i}", i, ("C",)) for i in range(1, 8)]
    p = plan(MemoryCorpus(arts), site=SITE, feeds=FeedsConfig(max_entries=3), now=NOW)
    all_feed, c = p.feeds
    assert [a.path for a in all_feed.entries] == ["a7", "a6", "a5"]
    assert c.key == "c"
    assert c.title == "S: C"
    assert all_feed.updated == datetime(2025, 1, 7, tzinfo=UTC)


def test_plan_is_pure_in_now() -> None:
    arts = [_a("past", 1), _a("future", 20), _a("draft", 2, draft=True)]
    p = plan(MemoryCorpus(arts), site=SITE, feeds=FeedsConfig(), now=NOW)
    assert [a.path for a in p.feeds[0].entries] == ["past"]
    assert (p.published, p.scheduled, p.drafts) == (1, 1, 1)
    assert p.next_go_live == datetime(2025, 1, 20, tzinfo=UTC)
    later = plan(MemoryCorpus(arts), site=SITE, feeds=FeedsConfig(), now=NOW + timedelta(days=30))
    assert [a.path for a in later.feeds[0].entries] == ["future", "past"]


def test_known_feeds_stay_when_empty() -> None:
    p = plan(
        MemoryCorpus([_a("x", 1)]),
        site=SITE,
        feeds=FeedsConfig(),
        now=NOW,
        known_feeds={"gone": "Gone"},
    )
    gone = next(f for f in p.feeds if f.key == "gone")
    assert gone.entries == ()
    assert gone.updated == EPOCH


def test_category_overrides() -> None:
    feeds = FeedsConfig(
        categories={"News": CategoryConfig(title="Latest", content="summary", max_entries=1)}
    )
    p = plan(
        MemoryCorpus([_a("a", 1, ("News",)), _a("b", 2, ("News",))]),
        site=SITE,
        feeds=feeds,
        now=NOW,
    )
    news = p.feeds[1]
    assert (news.title, news.content, len(news.entries)) == ("S: Latest", "summary", 1)


def test_pages_are_the_linked_articles_without_external_links() -> None:
    arts = [_a(f"a{i}", i) for i in range(1, 5)] + [_a("ext", 5, link="https://x.org/")]
    p = plan(MemoryCorpus(arts), site=SITE, feeds=FeedsConfig(max_entries=2), now=NOW)
    assert [a.path for a in p.feeds[0].entries] == ["ext", "a4"]
    assert [a.path for a in p.pages] == ["a4"]


def test_given_category_names_win_and_are_not_reported() -> None:
    arts = [_a("a", 1, ("Tech News",)), _a("b", 2, ("tech-news",))]
    p = plan_candidates(
        arts, site=SITE, feeds=FeedsConfig(), now=NOW, category_names={"tech-news": "TN"}
    )
    assert p.feeds[1].category == "TN"
    assert p.problems == ()
    reported = plan(MemoryCorpus(arts), site=SITE, feeds=FeedsConfig(), now=NOW)
    assert len(reported.problems) == 1


def test_category_key_reserved_and_unicode() -> None:
    assert category_key("All") == "all-category"
    assert category_key("index") == "index-category"
    assert category_key("Café Culture") == "café-culture"
    assert category_key("../..").startswith("category-")
