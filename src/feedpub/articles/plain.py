"""Plain text and HTML: a plain-text body as HTML, an HTML fragment as text, an excerpt."""

from __future__ import annotations

import html
import re

from feedpub.articles.text import collapse_spaces

_SENTENCE_END = (".", "!", ",", ";", ":", "…", '"', "”", "’", "'", ")")
_URL_IN_TEXT = re.compile(r"\bhttps?://[^\s<>\"']*[^\s<>\"'&.,;:!?)\]]")
_TAGS = re.compile(r"<[^>]*>")


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


def _marked_heading(paragraph: str) -> tuple[int, str] | None:
    """(level, text) of a Markdown-style ``## Heading`` line (as scrapers write them)."""
    if "\n" in paragraph or not paragraph.startswith("#"):
        return None
    marks = len(paragraph) - len(paragraph.lstrip("#"))
    text = paragraph[marks:]
    if marks > 6 or not text[:1].isspace():
        return None  # "#hashtag", "#######"
    text = text.strip()
    closed = text.rstrip("#")
    if closed != text and closed[-1:] in (" ", "\t"):
        text = closed.strip()  # a closing run of "#"
    return (marks, text) if text else None


def text_to_html(body: str) -> str:
    """Plain text → HTML: blank-line-separated paragraphs; ``## Heading`` lines, and short
    lines without closing punctuation, as headings."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    out: list[str] = []
    for i, para in enumerate(paragraphs):
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
        marked = _marked_heading(para)
        if marked is not None:
            level, text = marked
            out.append(f"<h{level}>{html.escape(text, quote=False)}</h{level}>")
        elif _is_heading(para, following):
            out.append(f"<h2>{html.escape(para, quote=False)}</h2>")
        else:
            out.append("<p>" + _escape_and_link(para) + "</p>")
    return "\n".join(out)


def html_to_text(fragment: str) -> str:
    return collapse_spaces(html.unescape(_TAGS.sub(" ", fragment)))


def excerpt(content_html: str, limit: int = 300) -> str:
    """A plain-text summary: the first paragraph of the content, cut at a word near ``limit``."""
    start = content_html.find("<p>")
    end = content_html.find("</p>", start + 3) if start >= 0 else -1
    text = html_to_text(content_html[start + 3 : end] if end >= 0 else content_html)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"
