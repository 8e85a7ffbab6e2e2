"""Reading article files: discovery, decoding, front matter and headers, bodies."""

from __future__ import annotations

from feedpub.articles.discover import ARTICLE_SUFFIXES, FileStat, is_article_name, scan
from feedpub.articles.parse import ParsedArticle, parse_article

__all__ = [
    "ARTICLE_SUFFIXES",
    "FileStat",
    "ParsedArticle",
    "is_article_name",
    "parse_article",
    "scan",
]
