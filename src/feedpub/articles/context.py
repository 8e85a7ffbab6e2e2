"""What parsing needs from the configuration (a light module: no parser imports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

SLUG_MARK = "\x01"
"""Stands for the article's slug in the URLs of a parsed body (the slug is settled later, by
identity resolution): replaced when the body is published. Files never hold it: decoding
removes the control characters XML cannot carry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseContext:
    tz: tzinfo
    base_url: str
    max_bytes: int = 2_000_000
    max_content_bytes: int = 512 * 1024  # larger bodies: feeds carry the summary
    article_url: str = "{base_url}articles/{slug}/"  # site.article_url
    category_from_folder: bool = False  # feeds.category_from_folder (Pelican's default)
    languages: tuple[str, ...] = ()  # site.languages: the languages file names may give
    root: str | None = None  # the articles folder: links to files beside an article are checked
    drafts: bool = False  # drafts read as published (``feedpub serve --drafts``: Showing.drafts)
    # flat YAML front matter read without PyYAML, to the same values (articles/flat_yaml.py);
    # False: PyYAML reads all of it (the reference the tests and benchmarks compare it with)
    flat_yaml: bool = True
