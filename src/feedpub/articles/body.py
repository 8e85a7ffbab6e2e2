"""Article bodies → safe HTML with absolute URLs.

Markdown goes through markdown-it-py (CommonMark, plus tables and strikethrough); plain text
through :func:`text_to_html`. Either way the HTML is then cleaned by nh3 (the Rust ``ammonia``
sanitiser): scripts, event handlers and ``javascript:`` URLs go, and every relative ``href`` and
``src`` is made absolute against the article's URL, since many feed readers ignore ``xml:base``.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from feedpub.articles.parse import BodyFormat

_URL_ATTRIBUTES = frozenset(["href", "src", "cite", "poster", "longdesc"])
_EXTRA_TAGS = frozenset(
    [
        "figure",
        "figcaption",
        "picture",
        "source",
        "video",
        "audio",
        "track",
        "details",
        "summary",
        "mark",
        "time",
    ]
)
_EXTRA_ATTRIBUTES = {
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "source": {"src", "type", "media"},
    "video": {"src", "controls", "poster", "width", "height"},
    "audio": {"src", "controls"},
    "track": {"src", "kind", "srclang", "label"},
    "time": {"datetime"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start", "reversed", "type"},
}
_SENTENCE_END = (".", "!", ",", ";", ":", "…", '"', "”", "’", "'", ")")
_URL_IN_TEXT = re.compile(r"\bhttps?://[^\s<>\"']*[^\s<>\"'&.,;:!?)\]]")
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


MAX_HTML_DEPTH = 256
"""Deepest nesting of raw HTML elements an article may have. The sanitiser's time grows with
the square of the depth (40,000 nested ``<div>`` take seconds; a 2 MB file of them, minutes),
so deeper markup is refused rather than allowed to stall every build that shows it."""

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)>")
_VOID = "area base br col embed hr img input link meta param source track wbr keygen"
_OPTIONAL_END = "li p dt dd option optgroup tr td th thead tbody tfoot colgroup caption rb rt rp"
# void elements, and those whose end tag is optional (usually left out: they do not nest)
_NOT_NESTING = frozenset(f"{_VOID} {_OPTIONAL_END} html head body rtc".split())


def html_too_deep(text: str, limit: int = MAX_HTML_DEPTH) -> int | None:
    """Where raw HTML in ``text`` first nests deeper than ``limit`` elements: the 0-based
    line, or None. An upper bound on what a browser builds (end tags the parser would imply
    are not modelled), so only markup that is absurd anyway is caught."""
    depth = 0
    for m in _TAG.finditer(text):
        if m[2].lower() in _NOT_NESTING or m[3]:
            continue
        if m[1]:
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > limit:
            return text.count("\n", 0, m.start())
    return None


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@lru_cache(maxsize=1)
def _allowed() -> tuple[set[str], dict[str, set[str]]]:
    tags = set(nh3.ALLOWED_TAGS) | _EXTRA_TAGS
    attributes = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, names in _EXTRA_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(names)
    return tags, attributes


def clean_html(fragment: str, base_url: str) -> str:
    """Sanitise an HTML fragment and make its URLs absolute against ``base_url``."""

    def absolute(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            value = value.strip()
            if value[:5].lower() == "data:":  # inline images only, never a link or a script
                return value if tag == "img" and attribute == "src" else None
            return urljoin(base_url, value)
        return value

    tags, attributes = _allowed()
    cleaned = nh3.clean(
        fragment,
        tags=tags,
        attributes=attributes,
        attribute_filter=absolute,
        link_rel=None,
        url_schemes={"http", "https", "mailto", "tel", "ftp", "data"},
    )
    # "]]>" cannot appear inside a CDATA section (RSS content:encoded uses one).
    return cleaned.replace("]]>", "]]&gt;")


def _escape_and_link(text: str) -> str:
    """Escape plain text for HTML, turning bare http(s) URLs into links (found before escaping)."""
    out: list[str] = []
    last = 0
    for m in _URL_IN_TEXT.finditer(text):
        out.append(html.escape(text[last : m.start()], quote=False))
        url = html.escape(m[0], quote=True)
        out.append(f'<a href="{url}">{url}</a>')
        last = m.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def _is_heading(paragraph: str, next_paragraph: str | None) -> bool:
    """A short single line with no closing punctuation, followed by more text, is a heading."""
    if "\n" in paragraph or next_paragraph is None or "://" in paragraph:
        return False
    words = paragraph.split()
    if not words or len(paragraph) > 80 or len(words) > 12:
        return False
    if paragraph.endswith("?"):
        return len(words) <= 8  # "What happens next?" reads as a heading; long questions don't
    return not paragraph.endswith(_SENTENCE_END) and not paragraph.startswith(("-", "*", "•"))


def text_to_html(body: str) -> str:
    """Plain text → HTML: blank-line-separated paragraphs, short lines as ``<h2>`` headings."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    out: list[str] = []
    for i, para in enumerate(paragraphs):
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
        if _is_heading(para, following):
            out.append(f"<h2>{html.escape(para, quote=False)}</h2>")
        else:
            out.append("<p>" + _escape_and_link(para) + "</p>")
    return "\n".join(out)


def render_body(body: str, body_format: BodyFormat, base_url: str) -> str:
    """An article body → clean HTML with absolute URLs."""
    raw = _markdown().render(body) if body_format == "markdown" else text_to_html(body)
    return clean_html(raw, base_url).strip()


def html_to_text(fragment: str) -> str:
    return _SPACES.sub(" ", html.unescape(_TAGS.sub(" ", fragment))).strip()


def excerpt(content_html: str, limit: int = 300) -> str:
    """A plain-text summary: the first paragraph of the content, cut at a word near ``limit``."""
    m = re.search(r"<p>(.*?)</p>", content_html, re.S)
    text = html_to_text(m[1] if m else content_html)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"
