"""The last steps of parsing an article, once its fields are read: its body rendered and
sanitised, its links made references, the files they name checked, its URLs made absolute.
"""

from __future__ import annotations

from dataclasses import replace

from feedpub.articles.absolute import absolutise
from feedpub.articles.body import BodyError, fits_in_feeds, prepare_body
from feedpub.articles.context import SLUG_MARK, ParseContext
from feedpub.articles.discover import is_article_relpath
from feedpub.articles.fields import Fields, file_size
from feedpub.articles.media import is_media
from feedpub.articles.refs import localise, refs_in
from feedpub.articles.templates import preprocess
from feedpub.articles.values import BodyFormat, ParsedArticle
from feedpub.errors import ArticleError
from feedpub.model import ArticleMeta, Problem, Severity
from feedpub.private import servable


def assemble(
    fields: Fields, meta: ArticleMeta, body: str, body_format: BodyFormat, *, link: str | None
) -> ParsedArticle:
    """The parsed article: ``meta`` (read from ``fields``) with the references of ``body``
    (after its title is taken out), and the body rendered. ``link``: the article's ``link``
    field (its relative URLs are relative to that page, not to the article's). Raises
    :class:`ArticleError` when the body cannot be published."""
    path, ctx, fm = fields.path, fields.ctx, fields.fm
    source = body
    if body_format != "text":  # Liquid, Hugo shortcodes, Pelican's {filename}...
        pre = preprocess(body, path=path, base_url=ctx.base_url, markdown=body_format == "markdown")
        body = pre.text
        for lines_in, message in pre.warnings:
            fields.warn(None, message, line=fm.body_line + lines_in)
    try:
        prepared = prepare_body(body, body_format)
    except BodyError as e:
        raise ArticleError(str(e), path=path, line=fm.body_line) from e
    if not fits_in_feeds(prepared.html, ctx.max_content_bytes):
        prepared = replace(
            prepared,
            warnings=(
                *prepared.warnings,
                (
                    None,
                    f"its HTML is {len(prepared.html):,} characters, over the "
                    f"{ctx.max_content_bytes:,} a feed entry carries "
                    "(feeds.max_content_bytes): feeds show its summary, its page all of it",
                ),
            ),
        )
    for offset, message in prepared.warnings:
        # (offsets in HTML docutils wrote are no lines of the file)
        at_line = fm.body_line + (offset or 0) if fm.kind != "rst" else None
        fields.warnings.append(
            Problem(
                path=path,
                line=at_line,
                message=message,
                severity=Severity.WARNING,
            )
        )
    html = prepared.html
    if body_format != "text" and not link:  # (else relative to the original)
        html = localise(html, path)
    refs = _references(html, source, fm.body_line, fields, ctx)
    named = {r for r, _ in refs}
    refs = tuple((f"path:{rel}", None) for rel in fields.files if f"path:{rel}" not in named) + refs
    if refs:
        meta = replace(meta, refs=refs)
    return ParsedArticle(
        meta=meta,
        body=body,
        body_format=body_format,
        body_line=fm.body_line,
        body_html=absolutise(
            html,
            link or ctx.article_url.format(base_url=ctx.base_url, slug=SLUG_MARK),
        ),
        excerpt=prepared.excerpt,
        warnings=tuple(fields.warnings),
    )


def _references(
    html: str, source: str, body_line: int, f: Fields, ctx: ParseContext
) -> tuple[tuple[str, int | None], ...]:
    """The body's references (see :mod:`feedpub.articles.refs`) with the line each is first
    written on; a file one names that is not in the articles folder is a warning."""
    found = refs_in(html)
    if not found:
        return ()
    out: list[tuple[str, int | None]] = []
    for kind, value in found[:MAX_REFS]:
        needle = value.rsplit("/", 1)[-1] or value
        at = source.find(needle)
        line = body_line + source.count("\n", 0, at) if at >= 0 else None
        out.append((f"{kind}:{value}", line))
        if kind != "path" or ctx.root is None:
            continue
        if not _is_file(ctx.root, value):
            f.warn(None, f"links to {value}, which is not a file in the articles folder", line=line)
        elif not is_article_relpath(value) and not (is_media(value) and servable(value)):
            f.warn(
                None,
                f"links to {value}, which is not published (only images, audio, video and "
                "documents beside the articles are; never hidden files)",
                line=line,
            )
    return tuple(out)


MAX_REFS = 1000  # references an article's index entry keeps (links beyond still work)


def _is_file(root: str, relpath: str) -> bool:
    return file_size(root, relpath) is not None
