"""An article's title when its fields give none: a plain-text article's first line, a
Markdown article's ``# Heading``, an HTML body's first heading, else the file's name. Each
returns the title and the body without it.
"""

from __future__ import annotations

import re

from feedpub.articles.plain import html_to_text
from feedpub.articles.text import collapse_spaces


def plain_title(body: str) -> tuple[str | None, str]:
    """A plain-text article's title line, and the body after it (a repeated headline dropped)."""
    paragraphs = re.split(r"\n\s*\n", body.strip("\n"), maxsplit=2)
    if not paragraphs or not paragraphs[0].strip():
        return None, body
    first = paragraphs[0].split("\n", 1)
    title = collapse_spaces(first[0])
    rest_of_first = first[1] if len(first) > 1 else ""
    rest = paragraphs[1:]
    if rest_of_first.strip():
        rest.insert(0, rest_of_first)
    elif rest and collapse_spaces(rest[0]).casefold() == title.casefold():
        rest = rest[1:]  # scraped articles often carry the headline twice
    return title, "\n\n".join(rest)


def _atx_h1(line: str) -> str | None:
    """The text of a ``# Heading`` line (CommonMark's ATX rules), or None. String methods,
    not a regular expression: a lazy match before trailing spaces and ``#`` would be
    quadratic on a long line of spaces."""
    text = line.lstrip(" ")
    if len(line) - len(text) > 3 or not text.startswith("#"):
        return None
    rest = text[1:]
    if rest and rest[0] not in " \t":
        return None  # "#tag" or "##": not a level-one heading
    rest = rest.strip(" \t")
    stripped = rest.rstrip("#")
    if stripped != rest and (not stripped or stripped[-1] in " \t"):
        rest = stripped.rstrip(" \t")  # a closing sequence of "#"
    return rest or None


def markdown_title(body: str) -> tuple[str | None, str]:
    """The first non-blank line as a title if it is a ``# Heading`` (or a setext one: the
    line, then a line of ``=``), and the body without it."""
    start = 0
    while start < len(body):
        end = body.find("\n", start)
        end = len(body) if end < 0 else end
        line = body[start:end]
        if line.strip():
            title = _atx_h1(line)
            if title is not None:
                return title, body[:start] + body[end + 1 :]
            after = body.find("\n", end + 1)
            after = len(body) if after < 0 else after
            underline = body[end + 1 : after].strip()
            if underline and not underline.strip("="):  # "Title" then "====="
                return line.strip(), body[:start] + body[after + 1 :]
            return None, body
        start = end + 1
    return None, body


_HTML_BODY = re.compile(
    r"</?(?:p|div|h[1-6]|hr|br|section|article|header|ul|ol|li|table|blockquote|figure|img)\b",
    re.IGNORECASE,
)
_HTML_HEADING = re.compile(
    r"<h([1-3])\b[^>]{0,200}>(.{0,2000}?)</h\1\s*>", re.IGNORECASE | re.DOTALL
)


def is_html(body: str) -> bool:
    """Whether a plain-text article is really HTML (a Medium or CMS export): it begins with a
    tag, and HTML block tags show in its first 4 KB."""
    head = body.lstrip()[:4096]
    return head.startswith("<") and _HTML_BODY.search(head) is not None


def html_title(body: str) -> tuple[str | None, str]:
    """An HTML body's title: its first ``<h1>``-``<h3>`` (as text, never markup), taken out
    of the body; else its first line of text."""
    m = _HTML_HEADING.search(body, 0, 65_536)
    if m is not None:
        title = html_to_text(m[2])
        if title:
            return title, body[: m.start()] + body[m.end() :]
    text = html_to_text(body[:65_536])
    return (text[:200].rsplit(" ", 1)[0] if len(text) > 200 else text) or None, body


def title_from_name(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}[-_]", "", stem)
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem
