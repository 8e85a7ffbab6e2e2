"""A long-lived builder (the daemon's) keeps what its last build knew (feedpub.build.memo):
after any sequence of edits, adds, deletions, renames of categories, back-dating, links,
translations, duplicate ids, hidden and expiring articles and the clock moving on, its
output is byte for byte what a builder that knows nothing writes from the same store."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.build import Builder
from feedpub.build.memo import FeedMembers
from feedpub.model import Member
from feedpub.output import MARKER
from feedpub.store import State
from tests.conftest import NOW, Site

CATEGORIES = ("News", "Tech", "Café", "Long Reads")


def _front(rng: random.Random, n: int, date: datetime, names: list[str]) -> str:
    """The text of article ``n``: random categories, and now and then a link to another
    article, an id shared with another, a hidden status, an expiry, a translation."""
    cats = ", ".join(rng.sample(CATEGORIES, rng.randint(0, 2)))
    extra = ""
    body = f"Body {rng.random()} of article {n}.\n"
    roll = rng.random()
    if roll < 0.1:
        extra += f"id: shared-{rng.randint(1, 2)}\n"
    elif roll < 0.15:
        extra += "status: hidden\n"
    elif roll < 0.22:
        expires = date + timedelta(hours=rng.randint(1, 96))
        extra += f"expiryDate: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
    elif roll < 0.3:
        extra += f"lang: fr\ntranslationKey: t{rng.randint(1, 3)}\n"
    elif roll < 0.32:
        extra += "draft: true\n"
    if names and rng.random() < 0.25:
        body += f"\nSee [the other one]({rng.choice(names)}).\n"
    return (
        f"---\ntitle: Article {n} {rng.randint(0, 9)}\n"
        f"date: {date.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f"categories: [{cats}]\n{extra}---\n{body}"
    )


def _fresh_output(site: Site, tmp: Path, now: datetime) -> dict[str, bytes]:
    """What a builder with no memo writes from a copy of the site (store included), its
    output folder emptied so that every file is written again."""
    copy = Site(tmp)
    shutil.copytree(site.root, tmp, dirs_exist_ok=True)
    copy.config_text = site.config_text
    for child in copy.output.iterdir():
        if child.name != MARKER:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    with Builder(copy.config(), clock=lambda: now, workers=0) as b:
        b.build()
    return copy.snapshot()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_kept_memo_writes_what_a_fresh_builder_writes(
    site: Site, tmp_path_factory: pytest.TempPathFactory, seed: int
) -> None:
    rng = random.Random(seed)
    site.config_text = site.config_text.replace(
        "max_entries = 5\n", "max_entries = 3\narchive_size = 3\n", 1
    )
    assert "archive_size = 3" in site.config_text
    start = NOW - timedelta(days=60)
    names: list[str] = []
    for n in range(24):
        name = f"a{n:03}.md"
        date = start + timedelta(hours=rng.randint(0, 24 * 50))
        site.write(name, _front(rng, n, date, names))
        names.append(name)
    now = NOW
    with Builder(site.config(), clock=lambda: now, workers=0) as kept:
        kept.build()
        next_n = len(names)
        for step in range(20):
            changed: set[str] = set()
            for _ in range(rng.randint(1, 3)):
                op = rng.choice(["edit", "edit", "edit", "add", "delete", "redate", "clock"])
                if op == "clock":
                    now += timedelta(hours=rng.randint(1, 30))
                elif op == "add" or not names:
                    name = f"a{next_n:03}.md"
                    date = now + timedelta(hours=rng.randint(-24 * 60, 48))
                    site.write(name, _front(rng, next_n, date, names))
                    names.append(name)
                    next_n += 1
                    changed.add(name)
                elif op == "delete":
                    name = names.pop(rng.randrange(len(names)))
                    (site.articles / name).unlink()
                    changed.add(name)
                else:
                    name = rng.choice(names)
                    text = (site.articles / name).read_text()
                    if op == "redate":  # (a new date, back or forward: another archive page)
                        date = now - timedelta(hours=rng.randint(0, 24 * 60))
                        n = int(name[1:4])
                        text = _front(rng, n, date, [x for x in names if x != name])
                    else:  # the text only, or (now and then) the whole front matter
                        text = text + f"\nMore {rng.random()}.\n"
                    (site.articles / name).write_text(text)
                    changed.add(name)
            # the daemon: the watcher's paths, now and then a full rescan
            result = kept.build(paths=None if rng.random() < 0.2 else changed)
            assert not [p for p in result.problems if "Traceback" in p.message]
            fresh = _fresh_output(site, tmp_path_factory.mktemp("fresh"), now)
            assert site.snapshot() == fresh, f"seed {seed}, step {step}"


def test_the_memo_is_not_trusted_after_another_build(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Another builder (a one-shot build, another daemon) writes the store in between: the
    kept builder reads it again rather than trusting what it knew."""
    site.config_text = site.config_text.replace(
        "max_entries = 5\n", "max_entries = 2\narchive_size = 2\n", 1
    )
    for n in range(8):
        site.article(f"a{n}.md", f"A{n}", f"2025-01-0{n + 1} 10:00", "[News]")
    with Builder(site.config(), clock=lambda: NOW, workers=0) as kept:
        kept.build()
        site.article("a0.md", "A0 renamed", "2025-01-01 10:00", "[Tech]")
        site.build()  # (another process)
        with State(site.config().state_target) as state:
            stamp = state.get("build_stamp")
        site.article("a1.md", "A1 renamed", "2025-01-02 10:00", "[Tech]")
        kept.build(paths={"a1.md"})
        with State(site.config().state_target) as state:
            assert state.get("build_stamp") != stamp
    assert site.snapshot() == _fresh_output(site, tmp_path_factory.mktemp("fresh"), NOW)
    assert b"A0 renamed" in site.read("feeds/tech.atom.xml")


_members = st.lists(
    st.tuples(
        st.sampled_from(["all", "news", "tech"]),
        st.integers(0, 6),  # (dates that collide)
        st.sampled_from(["id-a", "id-b", "id-c"]),  # (ids that collide: duplicates)
        st.integers(0, 12),
    ),
    max_size=40,
)


def _member(date: int, ident: str, n: int) -> Member:
    return Member(date, ident, f"p{n}.md", f"h{n}", ident, f"u{n}", f"s{n}")


def _rows(found: list[tuple[str, int, str, int]]) -> list[tuple[str, Member]]:
    seen: set[tuple[str, int]] = set()
    out = []
    for key, date, ident, n in found:
        if (key, n) not in seen:  # (an article is in a feed once)
            seen.add((key, n))
            out.append((key, _member(date, ident, n)))
    return out


@settings(max_examples=300, deadline=None)
@given(
    _members, _members, st.sets(st.integers(0, 12)), st.integers(-1, 7), st.sets(st.integers(0, 12))
)
def test_feed_members_patched_are_feed_members_read_afresh(
    first: list[tuple[str, int, str, int]],
    then: list[tuple[str, int, str, int]],
    changed: set[int],
    live: int,
    leaving: set[int],
) -> None:
    """What a build patches into the members it kept (the articles it wrote, as they are
    now) is what reading every member afresh gives; and the archived members of a feed are
    its live ones but those leaving, found without looking at every member."""
    before = _rows(first)
    paths = {f"p{n}.md" for n in changed}
    now_rows = [r for r in before if r[1].path not in paths] + [
        r for r in _rows(then) if r[1].path in paths
    ]
    kept = FeedMembers(before)
    kept.replace(paths, [r for r in now_rows if r[1].path in paths])
    fresh = FeedMembers(now_rows)
    gone = {f"p{n}.md" for n in leaving}
    for key in ("all", "news", "tech"):
        assert kept.live(key, live) == fresh.live(key, live)
        assert kept.archived(key, live, gone) == [
            m for m in fresh.live(key, live) if m.path not in gone
        ]
