"""Article bodies → safe HTML; relative URLs made absolute when the article's URL is known.

Two steps, so that everything that depends on the file's content happens once, when the file
is parsed (in a worker process, under a time budget), and what is stored is ready to publish:

* :func:`prepare_body` (at parse time): Markdown through pulldown-cmark
  (:mod:`feedpub.articles.markdown`), plain text through
  :func:`~feedpub.articles.plain.text_to_html`; raw HTML made balanced by
  :mod:`feedpub.articles.html`; then sanitised by nh3 (:mod:`feedpub.articles.sanitise`):
  scripts, event handlers and dangerous URLs go.
  Every step is linear in the input, and the fixed limits below bound what a hostile file
  can make any step do.
* :func:`~feedpub.articles.absolute.absolutise` (at render time): every ``href``/``src``...
  made absolute against the article's URL (many feed readers ignore ``xml:base``); a linear
  pass over markup that nh3 wrote, so it cannot be fooled by odd markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate

from feedpub.articles.absolute import absolutise
from feedpub.articles.context import SLUG_MARK
from feedpub.articles.html import MAX_DEPTH, normalise
from feedpub.articles.markdown import markdown_to_html
from feedpub.articles.plain import excerpt, text_to_html
from feedpub.articles.sanitise import (
    allowed_tags,
    keep_url,
    keep_url_or_id,
    prefix_ids,
    sanitise,
)
from feedpub.articles.text import xml_safe
from feedpub.articles.values import BodyFormat

MAX_TAGS = 300_000
"""Most tags an article's HTML may have when it carries raw HTML (which costs a pass in Python
per tag); a 2 MB article of ordinary prose has about 70,000."""
MAX_EXPANSION = 8
"""Rendered HTML may be at most this many times the size of the body (plus 64 KB): Markdown
that expands further (a reference or footnote mark repeated a million times) is refused."""

# what could start raw HTML in Markdown (a tag, a comment, a declaration): not an autolink
# (<https://...>, <a@b.org>) or a lone "<"
_RAW_HTML = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*+(?=[\s/>])|/[A-Za-z]|[!?])")
# in pulldown-cmark's output: a tag that opens or closes an element (void ones excluded)
_NESTING_TAG = re.compile(r"<(/?)(?!(?:br|hr|img|input|col|wbr)\b)[a-z]")


class BodyError(ValueError):
    """A body that cannot be published as it is; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedBody:
    """A body ready to publish: sanitised HTML whose relative URLs are still relative (see
    :func:`~feedpub.articles.absolute.absolutise`), its plain-text excerpt, and warnings
    about what was changed."""

    html: str
    excerpt: str
    warnings: tuple[tuple[int | None, str], ...] = ()  # (0-based line in the body, message)


def _depth(markup: str) -> int:
    """The deepest element nesting of balanced markup, counted without a Python loop."""
    steps = (-1 if m else 1 for m in _NESTING_TAG.findall(markup))
    return max(accumulate(steps, initial=0))


def _structure(markup: str, *, trusted: bool) -> tuple[str, int]:
    """Bounded-cost structure: ``trusted`` markup (a Markdown renderer's own, balanced) is
    only measured; anything carrying raw HTML goes through the normaliser. Returns the
    markup and how many tags nested too deep were removed."""
    tags = markup.count("<")
    if tags > MAX_TAGS:
        raise BodyError(
            f"its HTML has {tags:,} tags, more than the limit of {MAX_TAGS:,}; not published "
            "(split the article)"
        )
    # (no deeper than the tags that open elements: counted without a pass in Python)
    if trusted and (tags - markup.count("</") <= MAX_DEPTH or _depth(markup) <= MAX_DEPTH):
        return markup, 0
    result = normalise(markup, allowed_tags())
    return result.html, result.flattened


# html5ever (in nh3) reads a run of text or an attribute value holding many "&" or characters
# U+00A0-U+00BF (no-break space, "©", "«", "°" ...) in time that grows with the square of the
# run's length (400 KB of "x©" took 1.3 s; 2 MB, half a minute). Long text runs are cut with
# empty comments, which it drops (its output is the same); long attribute values are refused.
_TEXT_RUN = re.compile(r"(?:^|(?<=>))[^<>]{8192,}")
_LONG_VALUE = re.compile(r'="([^"]{16384,})"')
_SLOW_IN_HTML5EVER = re.compile("[&\u00a0-\u00bf]")
_RUN_PIECE = 4096
MAX_SLOW_IN_ATTRIBUTE = 4096


def _cut_run(m: re.Match[str]) -> str:
    run = m[0]
    pieces = []
    start = 0
    while len(run) - start > _RUN_PIECE:
        cut = start + _RUN_PIECE
        amp = run.rfind("&", cut - 40, cut)
        if amp > start and run.find(";", amp, cut) < 0:
            cut = amp  # never inside a character reference
        pieces.append(run[start:cut])
        start = cut
    pieces.append(run[start:])
    return "<!---->".join(pieces)


def _for_html5ever(markup: str) -> str:
    """``markup`` (balanced, with ``<`` and ``>`` only in tags) in a shape nh3 reads in linear
    time: see above."""
    if len(markup) <= 8192:
        return markup
    for m in _LONG_VALUE.finditer(markup):
        slow = len(_SLOW_IN_HTML5EVER.findall(m[1]))
        if slow > MAX_SLOW_IN_ATTRIBUTE:
            raise BodyError(
                f"an HTML attribute value of {len(m[1]):,} characters holds {slow:,} "
                f"ampersands or characters U+00A0-U+00BF (the limit is "
                f"{MAX_SLOW_IN_ATTRIBUTE:,}); not published"
            )
    return _TEXT_RUN.sub(_cut_run, markup)


def prepare_body(body: str, body_format: BodyFormat) -> PreparedBody:
    """An article body → sanitised HTML (relative URLs kept) and its excerpt.

    Raises :class:`BodyError` when the body cannot be published within the fixed limits.
    Linear in ``len(body)``."""
    if body_format == "markdown":
        raw = markdown_to_html(body)
        trusted = _RAW_HTML.search(body) is None  # the renderer's own markup only
    elif body_format == "html":
        raw, trusted = body, False
    else:
        raw = text_to_html(body)
        trusted = True
    if len(raw) > MAX_EXPANSION * len(body) + 65_536:
        raise BodyError(
            f"its HTML would be {len(raw):,} bytes, more than {MAX_EXPANSION} times the "
            "article; not published"
        )
    structured, flattened = _structure(raw, trusted=trusted)
    structured = _for_html5ever(structured)
    warnings: list[tuple[int | None, str]] = []
    if flattened:
        # where: the first raw tag too deep in the file itself, when raw HTML made it so
        first = None if trusted else normalise(body, allowed_tags()).first_flattened
        warnings.append(
            (
                None if first is None else body.count("\n", 0, first),
                f"HTML nested more than {MAX_DEPTH} elements deep: {flattened:,} tag(s) "
                "deeper than that were removed (their text is kept)",
            )
        )
    # character references may have made characters XML cannot carry (&#1;): feeds would
    # fail to render with them
    cleaned = prefix_ids(xml_safe(sanitise(structured, keep_url_or_id)).strip())
    return PreparedBody(html=cleaned, excerpt=excerpt(cleaned), warnings=tuple(warnings))


def fits_in_feeds(html: str, limit: int) -> bool:
    """Whether a prepared body is small enough for a feed entry to carry (``feeds.
    max_content_bytes``); a larger one is shown whole on its page, and feeds carry its
    summary. A feed holds many entries, and is fetched by every reader and sent to every
    hub subscriber: 20 entries of 2 MB would make it 60 MB."""
    return len(html) <= limit


def clean_html(fragment: str, base_url: str) -> str:
    """Sanitise an HTML fragment and make its URLs absolute against ``base_url``."""
    structured, _ = _structure(fragment, trusted=False)
    return absolutise(sanitise(_for_html5ever(structured), keep_url), base_url)


def render_body(body: str, body_format: BodyFormat, base_url: str, slug: str = "article") -> str:
    """An article body → clean HTML with absolute URLs (both steps at once), as published for
    the article ``slug`` (see :data:`~feedpub.articles.sanitise.ID_PREFIX`)."""
    return absolutise(prepare_body(body, body_format).html, base_url).replace(SLUG_MARK, slug)
