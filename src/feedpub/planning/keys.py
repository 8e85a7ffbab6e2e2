"""Feed keys: which feed an article belongs to, and what each feed's files are named
after (``all``, a category's slug, ``<tag>.tag``, ``all-<lang>``). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator

from feedpub.model import ArticleMeta
from feedpub.slug import slugify

ALL_KEY = "all"
RESERVED_KEYS = frozenset([ALL_KEY, "index"])


_LANGUAGE_KEY = re.compile(r"all-[a-z]{2,3}(?:-[a-z0-9]{2,8}){0,3}")


def category_key(name: str) -> str:
    """The slug a category's feed files are named after (never ``all``, ``index`` or a
    language's ``all-fr``)."""
    key = slugify(name, fallback_prefix="category")
    if _LANGUAGE_KEY.fullmatch(key):  # ("All FR": never a language's feed)
        return f"category-{key}"
    return f"{key}-category" if key in RESERVED_KEYS else key


TAG_SUFFIX = ".tag"


def tag_key(name: str) -> str:
    """The key of a tag's feeds (``[feeds] tags``): ``python.tag`` names
    ``feeds/python.tag.atom.xml``, Pelican's usual form; category keys hold no ``.``."""
    return slugify(name, fallback_prefix="tag") + TAG_SUFFIX


def other_language(lang: str | None, site_language: str) -> str | None:
    """An article's language when it is not the site's (``fr`` on an ``en`` site; ``en-gb``
    is English), else None: such an article is a translation, in its language's feed."""
    if lang is None:
        return None
    site = site_language.lower().replace("_", "-")
    if lang == site:
        return None
    # the same language when they differ at most in a region one of them leaves out ("en"
    # and "en-gb"); not "pt-pt" and "pt-br", nor scripts ("zh-hant", "zh-hans")
    mine, theirs = lang.split("-"), site.split("-")
    if mine[0] != theirs[0]:
        return lang
    mine_regions = [t for t in mine[1:] if _REGION.fullmatch(t)]
    site_regions = [t for t in theirs[1:] if _REGION.fullmatch(t)]
    if [t for t in mine[1:] if t not in mine_regions] != [
        t for t in theirs[1:] if t not in site_regions
    ]:
        return lang  # another script or variant
    if mine_regions and site_regions and mine_regions != site_regions:
        return lang  # another region, both named
    return None


_REGION = re.compile(r"[a-z]{2}|\d{3}")


def language_key(lang: str) -> str:
    """The key of a language's feed (``all-fr``: ``feeds/all-fr.atom.xml``, as Pelican's)."""
    return f"{ALL_KEY}-{lang}"


def language_of_key(key: str) -> str | None:
    return key[len(ALL_KEY) + 1 :] if _LANGUAGE_KEY.fullmatch(key) else None


def feed_names(meta: ArticleMeta, site_language: str, *, tags: bool) -> Iterator[tuple[str, str]]:
    """(key, name) of every feed besides the all-articles one that holds an article: its
    categories' (and with ``tags``, its tags'); a translation's language's only."""
    lang = other_language(meta.lang, site_language)
    if lang is not None:
        yield language_key(lang), lang
        return
    for name in meta.categories:
        yield category_key(name), name
    if tags:
        for name in meta.tags:
            yield tag_key(name), name
