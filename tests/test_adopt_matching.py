"""``feedpub adopt``, matching (pure): old entries to articles, by link, slug, or title and
date; what fits twice is reported, not guessed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from feedpub.adopt import Match, OldEntry, OldFeed, match, shown
from feedpub.adopt.matching import _link_path, _link_slug
from feedpub.adopt.parsing import _date
from feedpub.model import Article, ArticleMeta
from tests.conftest import NOW


def _article(
    path: str, title: str, day: str | None, url: str | None = None, slug: str | None = None
) -> Article:
    """An article at ``path``; ``slug``: the one its front matter asks for."""
    meta = ArticleMeta(
        path=path,
        title=title,
        date=datetime.fromisoformat(day) if day else None,
        content_hash=path,
        slug=slug,
    )
    name = path.rsplit("/", 1)[-1].removesuffix(".md")
    return Article(
        meta=meta,
        date=meta.date or NOW,
        id=f"tag:new,2025:{name}",
        slug=name,
        url=url or f"https://new.example/posts/{name}/",
    )


FEED = OldFeed(source="old.xml", format="rss", title="", entries=())
BERLIN = __import__("zoneinfo").ZoneInfo("Europe/Berlin")


def _match(entry: OldEntry, *articles: Article) -> Match:
    (found,) = match([replace(FEED, entries=(entry,))], articles, BERLIN)
    return found


def _entry(title: str = "T", link: str | None = None, when: str | None = None) -> OldEntry:
    return OldEntry(
        id="old-1", link=link, title=title, published=datetime.fromisoformat(when) if when else None
    )


def test_matching_by_link_slug_then_title_and_date() -> None:
    a = _article("a.md", "Alpha", "2020-01-02T00:00:00+01:00")
    b = _article("2020/b.md", "Beta", "2020-01-03T00:00:00+01:00", slug="beta")
    ext = _article(
        "ext.md", "Elsewhere", "2020-01-04T00:00:00+00:00", url="https://other.example/x"
    )
    # the same URL structure on the new host: by link
    assert _match(_entry(link="https://old.example/posts/a/index.html"), a, b).how == "link"
    assert _match(_entry(link="https://other.example/x"), a, b, ext).path == "ext.md"
    # Jekyll, Hugo and dated slugs: by slug
    for link in ("/2020/01/03/beta.html", "https://old.example/blog/beta/", "/2020-01-03-beta/"):
        got = _match(_entry(link=link), a, b)
        assert (got.path, got.how) == ("2020/b.md", "slug"), link
    # no path to go by: title and date, the date in whichever zone the old site used
    late = _entry("  alpha ", "https://old.example/?p=1", "2020-01-01T23:30:00-08:00")
    assert (_match(late, a, b).path, _match(late, a, b).how) == ("a.md", "title and date")
    wrong_day = _match(_entry("Alpha", None, "2020-03-01T00:00:00Z"), a, b)
    assert wrong_day.path is None
    assert wrong_day.why == (
        "no article has its title and date (its title is that of a.md (2020-01-02): another date)"
    )
    assert _match(_entry("Alpha", "http://[nope/a/", "2020-01-02T00:00:00Z"), a).path == "a.md"
    nothing = _match(_entry("Zeta", "https://old.example/zeta.html", "2020-01-01T00:00:00Z"), a)
    assert nothing.why == (
        'no article has its link\'s path "/zeta.html", its slug "zeta" or its title and date'
    )


def test_two_articles_that_fit_equally_are_reported_not_guessed() -> None:
    a1 = _article("a.md", "Same", "2020-01-02T00:00:00+01:00")
    a2 = _article("b.md", "Same", "2020-01-02T12:00:00+01:00")
    got = _match(_entry("Same", None, "2020-01-02T10:00:00Z"), a1, a2)
    assert (got.path, got.ambiguous) == (None, ("a.md", "b.md"))
    # two slugs alike (one got "-2"): the title tells them apart, else ambiguous
    p1 = _article("x/post.md", "First", "2020-01-01T00:00:00Z")
    p2 = replace(_article("y/post.md", "Second", "2020-01-01T00:00:00Z"), slug="post-2")
    assert _match(_entry("Second", "/post/"), p1, p2).path == "y/post.md"
    assert _match(_entry("Second", "/post/"), p1, p2).how == "slug and title"
    assert _match(_entry("Third", "/post/"), p1, p2).ambiguous == ("x/post.md", "y/post.md")


@given(st.text(max_size=200))
def test_any_link_title_and_date_text_is_matched_or_explained(text: str) -> None:
    a = _article("a.md", "Alpha", "2020-01-02T00:00:00+01:00")
    found = _match(OldEntry(id=text or None, link=text, title=text, published=_date(text)), a)
    assert found.path in (None, "a.md")
    assert found.path or found.why or found.ambiguous
    assert _link_path(text) is None or _link_path(text) == _link_path(text + "/")
    slug = _link_slug(text)
    assert slug is None or "/" not in slug
    assert printable_is_safe(shown(text))


def printable_is_safe(text: str) -> bool:
    import unicodedata

    return all(unicodedata.category(c) not in ("Cc", "Cf") for c in text)
