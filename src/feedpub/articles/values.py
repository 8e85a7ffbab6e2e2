"""Small types shared by the modules that read an article: the body formats, and what
parsing one file gives (:func:`feedpub.articles.parse.parse_article`). Imports no parser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from feedpub.model import ArticleMeta, Problem

BodyFormat = Literal["markdown", "text", "html"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedArticle:
    meta: ArticleMeta
    body: str
    body_format: BodyFormat
    body_line: int
    body_html: str  # sanitised, URLs absolute, the slug in them as SLUG_MARK (settled later)
    excerpt: str  # the body's first paragraph as plain text
    warnings: tuple[Problem, ...] = ()
