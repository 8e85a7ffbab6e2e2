"""HTML articles (``.html``, ``.htm``) as Pelican reads them.

The ``<title>`` is the title (as text: tags in it are dropped, references decoded); each
``<meta name="..." content="...">`` of the head (``date``, ``category``, ``tags``,
``summary``, ``authors``, ``slug``, ``status`` ... any field front matter may hold) is a field,
read by the same rules as front matter, with its line; what ``<body>`` holds is the body,
which parse_article sanitises like any other.

One pass, left to right, with the tokenizer rules of :mod:`feedpub.articles.html` (possessive
patterns, nothing to backtrack): the head is read as an HTML parser reads it ("in head": the
doctype, comments, ``<html>``, ``<head>``, ``<title>``, ``<meta>``, ``<link>``, ``<base>``,
``<script>``, ``<style>``, white space); the first thing of any other kind (``<body>``, any
other tag, text) starts the body. The body ends at the last ``</body>`` (or ``</html>``).
"""

from __future__ import annotations

import html
import re

from feedpub.articles.document import ReadDocument
from feedpub.articles.headers import norm_key
from feedpub.articles.html import ATTRIBUTE, END_TAG, START_TAG, TAG_REST
from feedpub.articles.text import collapse_spaces

MAX_TITLE_SOURCE = 65_536  # characters of a <title> looked at (a title keeps 1,000)
MAX_FIELD_CHARS = 65_536  # characters of a meta content kept (each field has its own limit)
_HEAD_TAGS = frozenset(["html", "head", "title", "meta", "link", "base", "script", "style"])
_HEAD_RAW = frozenset(["title", "script", "style"])
_RAW_END = {name: re.compile(rf"</{name}(?=[\t\n\f\r />])", re.IGNORECASE) for name in _HEAD_RAW}
_TAGS = re.compile(r"<[^<>]*+>")  # (possessive: each "<" starts at most one attempt)


def _text(markup: str) -> str:
    """Text of a title: tags dropped, references decoded, white space collapsed."""
    return collapse_spaces(html.unescape(_TAGS.sub(" ", markup)))


def _attributes(rest: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in ATTRIBUTE.finditer(rest):
        name = m[1].lower()
        value = m[2] if m[2] is not None else m[3] if m[3] is not None else m[4] or ""
        out.setdefault(name, html.unescape(value))
    return out


_CLOSERS = (re.compile("</body", re.IGNORECASE), re.compile("</html", re.IGNORECASE))


def _body_end(text: str, start: int) -> int:
    """Where the last ``</body>`` (or ``</html>``) after ``start`` is, else the end."""
    for closer in _CLOSERS:
        last = None
        for last in closer.finditer(text, start):  # noqa: B007 (the last one is wanted)
            pass
        if last is not None:
            return last.start()
    return len(text)


def read_html(text: str, path: str) -> ReadDocument:
    """An HTML document → its fields (title and head metas) and its body (not yet sanitised)."""
    fields: dict[str, object] = {}
    lines: dict[str, int] = {}
    pos = 0
    line = 1
    counted = 0  # text[:counted] holds line - 1 line breaks

    def line_at(index: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, index)
        counted = index
        return line

    n = len(text)
    body_start = n
    while pos < n:
        lt = text.find("<", pos)
        if lt < 0:
            if text[pos:].strip():
                body_start = pos
            break
        if text[pos:lt].strip():  # text: the body has begun
            body_start = pos
            break
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            pos = n if end < 0 else end + 3
            continue
        if text.startswith(("<!", "<?"), lt):  # a doctype or processing instruction
            end = text.find(">", lt)
            pos = n if end < 0 else end + 1
            continue
        m = START_TAG.match(text, lt) or END_TAG.match(text, lt)
        if m is None:  # a "<" that starts no tag is text
            body_start = lt
            break
        name = m[1].lower()
        closing = text.startswith("</", lt)
        rest = TAG_REST.match(text, m.end())
        tag_end = rest.end() if rest is not None else m.end()
        if name == "body" and not closing:
            body_start = tag_end
            break
        if name not in _HEAD_TAGS:
            body_start = lt
            break
        pos = tag_end
        if closing:
            continue
        if name in _HEAD_RAW:
            end_m = _RAW_END[name].search(text, tag_end)
            end = end_m.start() if end_m is not None else n
            if name == "title" and "title" not in fields:
                fields["title"] = _text(text[tag_end : min(end, tag_end + MAX_TITLE_SOURCE)])
                lines["title"] = line_at(lt)
            close = END_TAG.match(text, end) if end < n else None
            rest_end = TAG_REST.match(text, close.end()) if close is not None else None
            pos = rest_end.end() if rest_end is not None else n
        elif name == "meta" and rest is not None:
            attrs = _attributes(rest[0])
            key = norm_key(attrs.get("name", ""))
            if key and "content" in attrs and key not in fields:
                fields[key] = attrs["content"][:MAX_FIELD_CHARS]
                lines[key] = line_at(lt)
    body_end = _body_end(text, body_start) if body_start < n else n
    return ReadDocument(
        fields=fields,
        lines=lines,
        body_html=text[body_start:body_end],
        body_line=line_at(min(body_start, n)),
        body_is_source=True,
    )
