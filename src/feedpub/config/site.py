"""``[site]`` and ``[feeds]`` (with its categories and redirects): what the feeds say and
hold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedpub.config.checks import Section, absolute_url, at_least, content_mode, language
from feedpub.config.paths import read_stylesheet
from feedpub.config.podcast import read_podcast
from feedpub.config.sections import CategoryConfig, FeedsConfig, PathsConfig, SiteConfig
from feedpub.model import FEED_FORMATS, FeedFormat
from feedpub.redirects import check as check_redirects

MAX_ARCHIVE_SIZE = 1000  # entries in one archive document: every reader fetches it whole


def read_site(root: Section) -> SiteConfig:
    s, d = root.section("site"), SiteConfig(title="", base_url="")  # (d: the defaults)
    title = s.text("title")
    if not title.strip():
        raise s.error("title", "is required")
    raw_base_url = s.get("base_url", str, "")
    base_url = absolute_url(s, "base_url", raw_base_url)
    if "?" in raw_base_url or "#" in raw_base_url:  # every URL is made by appending to it
        raise s.error(
            "base_url",
            f"must not have a ?query or #fragment (feed and page URLs are built by appending "
            f"to it), got {raw_base_url!r}",
        )
    if not base_url.endswith("/"):
        base_url += "/"
    timezone = s.get("timezone", str, d.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise s.error("timezone", f"unknown time zone {timezone!r}") from e
    article_url = s.get("article_url", str, d.article_url)
    if "{slug}" not in article_url:
        raise s.error("article_url", "must contain {slug}")
    try:
        example = article_url.format(base_url=base_url, slug="x")
    except (KeyError, IndexError, ValueError) as e:
        raise s.error("article_url", "may use only {base_url} and {slug}") from e
    absolute_url(s, "article_url", example)
    site = SiteConfig(
        title=title.strip(),
        base_url=base_url,
        author=s.text("author"),
        author_email=s.text("author_email") or None,
        description=s.text("description"),
        language=language(s, "language", s.text("language", d.language)),
        # (file names give only these: "socket.io.md" is no article in Io)
        languages=tuple(
            language(s, "languages", x).replace("_", "-").lower()
            for x in s.str_list("languages", ())
        ),
        timezone=timezone,
        article_url=article_url,
    )
    s.done()
    return site


def read_feeds(root: Section, site: SiteConfig, base_dir: Path, paths: PathsConfig) -> FeedsConfig:
    f, d = root.section("feeds"), FeedsConfig()
    formats = f.str_list("formats", d.formats)
    for fmt in formats:
        if fmt not in FEED_FORMATS:
            raise f.error("formats", f"unknown format {fmt!r} (known: {', '.join(FEED_FORMATS)})")
    if not formats:
        raise f.error("formats", "must name at least one format")
    content = content_mode(f, "content", f.get("content", str, d.content)) or d.content
    categories = _categories(f.section("categories"), site)
    feeds = FeedsConfig(
        formats=tuple(dict.fromkeys(cast(tuple[FeedFormat, ...], formats))),
        max_entries=f.positive("max_entries", d.max_entries),
        archive_size=_archive_size(f, d.archive_size),
        content=content,
        article_pages=f.get("article_pages", bool, d.article_pages),
        max_article_bytes=f.positive("max_article_bytes", d.max_article_bytes),
        category_from_folder=f.get("category_from_folder", bool, d.category_from_folder),
        tags=f.get("tags", bool, d.tags),
        max_content_bytes=f.positive("max_content_bytes", d.max_content_bytes),
        article_timeout_seconds=at_least(
            f,
            "article_timeout_seconds",
            f.number("article_timeout_seconds", d.article_timeout_seconds),
            0.1,
        ),
        categories=categories,
        stylesheet=read_stylesheet(f, base_dir, paths),
    )
    redirects = check_redirects(
        f.get("redirects", dict, {}),
        formats=feeds.formats,
        base_url=site.base_url,
        article_url=site.article_url,
        article_pages=feeds.article_pages,
    )
    if isinstance(redirects, str):
        raise f.error("redirects", redirects)
    f.done()
    return replace(feeds, redirects=redirects)


def _archive_size(f: Section, default: int) -> int:
    size = f.positive("archive_size", default)
    if size > MAX_ARCHIVE_SIZE:
        raise f.error("archive_size", f"must be at most {MAX_ARCHIVE_SIZE}")
    return size


def _categories(cats: Section, site: SiteConfig) -> dict[str, CategoryConfig]:
    """``[feeds.categories."Name"]``: a category's own title, content, size and podcast."""
    categories: dict[str, CategoryConfig] = {}
    for name in cats.names():
        c = cats.section(name)
        max_entries = c.get("max_entries", int, 0)  # 0 or unset: [feeds] max_entries
        podcast = read_podcast(c.section("podcast"), site) if c.has("podcast") else None
        categories[name] = CategoryConfig(
            title=c.text("title") or None,
            content=content_mode(c, "content", c.get("content", str, "") or None),
            max_entries=c.positive("max_entries", max_entries) if max_entries else None,
            podcast=podcast,
        )
        c.done()
    cats.done()
    return categories
