"""One article file → :class:`ParsedArticle` (metadata, body source, warnings).

Pure: takes the file's bytes and a :class:`ParseContext`, never touches the disk or the clock.
The steps, each in its module: the file read as front matter and a body
(:mod:`~feedpub.articles.frontmatter_io`), or as a whole reStructuredText or HTML document
(:mod:`~feedpub.articles.rst`, :mod:`~feedpub.articles.htmlfile`); every field normalised
by one function (:mod:`~feedpub.articles.metadata`); a title found in the body when the
fields give none (:mod:`~feedpub.articles.titles`); then the body rendered, sanitised and its
links made references (:mod:`~feedpub.articles.assemble`).
"""

from __future__ import annotations

import hashlib

from feedpub.articles.assemble import assemble
from feedpub.articles.context import ParseContext
from feedpub.articles.fields import Fields, as_label
from feedpub.articles.frontmatter_io import FrontMatter, FrontMatterKind, split_front_matter
from feedpub.articles.htmlfile import read_html
from feedpub.articles.metadata import KNOWN_KEYS, MAX_TITLE_CHARS, normalise
from feedpub.articles.rst import read_rst
from feedpub.articles.text import BIDI_CONTROLS, decode
from feedpub.articles.titles import (
    html_title,
    is_html,
    markdown_title,
    plain_title,
    title_from_name,
)
from feedpub.articles.values import BodyFormat, ParsedArticle
from feedpub.errors import ArticleError
from feedpub.model import ArticleMeta, Problem, Severity

__all__ = ["BodyFormat", "ParseContext", "ParsedArticle", "parse_article"]

RST_SUFFIXES = (".rst",)
HTML_SUFFIXES = (".html", ".htm")


def _read(path: str, text: str, ctx: ParseContext) -> FrontMatter:
    """The file's fields and body: front matter and Markdown or text, or a whole
    reStructuredText or HTML document whose fields are read here like front matter."""
    lower = path.lower()
    if lower.endswith(RST_SUFFIXES):
        doc = read_rst(text.lstrip("\ufeff"), path)
        kind: FrontMatterKind = "rst"
    elif lower.endswith(HTML_SUFFIXES):
        doc = read_html(text, path)
        kind = "html"
    else:
        return split_front_matter(text, path, KNOWN_KEYS, flat_yaml=ctx.flat_yaml)
    return FrontMatter(
        kind, doc.fields, doc.body_html, doc.body_line, lines=doc.lines, notes=doc.notes
    )


def parse_article(path: str, data: bytes, ctx: ParseContext) -> ParsedArticle:
    """Parse one article file. Raises :class:`ArticleError` when it cannot be published."""
    if len(data) > ctx.max_bytes:
        raise ArticleError(
            f"file is {len(data):,} bytes, over the limit of {ctx.max_bytes:,} "
            "(feeds.max_article_bytes)",
            path=path,
        )
    text, decode_warnings = decode(data, path)
    fm = _read(path, text, ctx)
    fields = Fields(path, fm, ctx)
    for line, message in (*decode_warnings, *fm.notes):
        fields.warnings.append(
            Problem(path=path, line=line, message=message, severity=Severity.WARNING)
        )
    kwargs = normalise(fields)
    lower = path.lower()
    body_format: BodyFormat = "text" if lower.endswith(".txt") else "markdown"
    if fm.kind in ("rst", "html"):
        body_format = "html"
    body = fm.body
    if body_format == "text" and is_html(body):
        body_format = "html"
    if "categories" not in kwargs and ctx.category_from_folder and "/" in path:
        kwargs["categories"] = (path.rsplit("/", 2)[-2],)
    if "title" not in kwargs:
        title_source = body
        take = {"text": plain_title, "markdown": markdown_title, "html": html_title}
        title, body = take[body_format](body)
        if title:  # the first line or heading: any bidi control before it is on its line
            found = BIDI_CONTROLS.search(title_source)
            at = fm.body_line + title_source.count("\n", 0, found.start()) if found else None
            title = as_label(fields, None, title, line=at)
        if not title:
            title = as_label(fields, None, title_from_name(path))
            fields.warn(None, f"no title; using {title!r} from the file name")
        kwargs["title"] = title[:MAX_TITLE_CHARS]
    elif body_format == "text":
        _, body_after = plain_title(body)
        first_line = body.strip("\n").split("\n", 1)[0].strip()
        if first_line and first_line.casefold() == kwargs["title"].casefold():
            body = body_after  # the headline repeated under a Title header
    try:
        meta = ArticleMeta(path=path, content_hash=hashlib.sha256(data).hexdigest(), **kwargs)
    except ValueError as e:  # a naive datetime slipped through: a bug, but name the file
        raise ArticleError(str(e), path=path) from e
    return assemble(fields, meta, body, body_format, link=kwargs.get("link"))
