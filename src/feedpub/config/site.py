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
    if not s.has("title"):
        s.missing("title", "is required")
    elif not s.failed("title") and not title.strip():
        s.error("title", "must not be empty")
    base_url = _base_url(s)
    timezone = s.get("timezone", str, d.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        s.error("timezone", f"unknown time zone {timezone!r}")
        timezone = d.timezone
    article_url = _article_url(s, base_url, s.get("article_url", str, d.article_url))
    site = SiteConfig(
        title=title.strip(),
        base_url=base_url or "",
        author=s.text("author"),
        author_email=s.text("author_email") or None,
        description=s.text("description"),
        language=language(s, "language", s.text("language", d.language)) or d.language,
        # (file names give only these: "socket.io.md" is no article in Io)
        languages=tuple(
            code.replace("_", "-").lower()
            for x in s.str_list("languages", ())
            if (code := language(s, "languages", x))
        ),
        timezone=timezone,
        article_url=article_url,
    )
    s.done()
    return site


def _base_url(s: Section) -> str | None:
    """``[site] base_url`` ending in ``/``; None (reported) when it is missing or not one."""
    if not s.has("base_url"):
        s.get("base_url", str, "")
        s.missing("base_url", "is required: the site's absolute http(s) URL")
        return None
    raw = s.get("base_url", str, "")
    if s.failed("base_url"):
        return None
    base_url = absolute_url(s, "base_url", raw)
    if base_url is None:
        return None
    if "?" in raw or "#" in raw:  # every URL is made by appending to it
        s.error(
            "base_url",
            f"must not have a ?query or #fragment (feed and page URLs are built by appending "
            f"to it), got {raw!r}",
        )
        return None
    return base_url if base_url.endswith("/") else base_url + "/"


def _article_url(s: Section, base_url: str | None, article_url: str) -> str:
    """``[site] article_url``: a template with ``{slug}`` (and ``{base_url}``) that makes
    absolute URLs (checked when ``base_url`` is good)."""
    if s.failed("article_url"):
        return article_url
    if "{slug}" not in article_url:
        s.error("article_url", "must contain {slug}")
        return article_url
    try:
        example = article_url.format(base_url=base_url or "https://example.org/", slug="x")
    except (KeyError, IndexError, ValueError):
        s.error("article_url", "may use only {base_url} and {slug}")
        return article_url
    if base_url is not None or "{base_url}" not in article_url:
        absolute_url(s, "article_url", example)
    return article_url


def read_feeds(root: Section, site: SiteConfig, base_dir: Path, paths: PathsConfig) -> FeedsConfig:
    f, d = root.section("feeds"), FeedsConfig()
    formats = f.str_list("formats", d.formats)
    unknown = [fmt for fmt in formats if fmt not in FEED_FORMATS]
    for fmt in unknown:
        f.error("formats", f"unknown format {fmt!r} (known: {', '.join(FEED_FORMATS)})")
    formats = tuple(fmt for fmt in formats if fmt in FEED_FORMATS)
    if not formats:
        if not f.failed("formats"):
            f.error("formats", "must name at least one format")
        formats = d.formats
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
    table = f.get("redirects", dict, {})
    redirects: tuple[tuple[str, str], ...] = ()
    # (checked against the site's URLs and the formats: only when those are good)
    if table and root.report.clean(("site",)) and not f.failed("formats"):
        checked = check_redirects(
            table,
            formats=feeds.formats,
            base_url=site.base_url,
            article_url=site.article_url,
            article_pages=feeds.article_pages,
        )
        if isinstance(checked, str):
            f.error("redirects", checked)
        else:
            redirects = checked
    f.done()
    return replace(feeds, redirects=redirects)


def _archive_size(f: Section, default: int) -> int:
    size = f.positive("archive_size", default)
    if size > MAX_ARCHIVE_SIZE:
        f.error("archive_size", f"must be at most {MAX_ARCHIVE_SIZE}")
        return default
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
