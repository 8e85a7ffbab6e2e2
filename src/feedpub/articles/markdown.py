"""Markdown → HTML: pulldown-cmark (through ``pyromark``: CommonMark with tables,
strikethrough, footnotes, definition lists, task lists and heading attributes, in linear time
by design, including on the inputs that make other Markdown parsers slow), then what
CommonMark leaves as text that other generators' Markdown reads: task list boxes as
characters, Kramdown and Python-Markdown attribute lists removed, headings given the ids
Jekyll and Hugo give them. The result is not yet sanitised (:mod:`feedpub.articles.body`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyromark


def markdown_to_html(text: str) -> str:
    """Markdown → unsanitised HTML whose headings have ids (:func:`_heading_ids`)."""
    return _heading_ids(_markdown(text))


@cache
def _options() -> pyromark.Options:
    import pyromark  # (imported when first needed: 40 ms that most commands never need)

    o = pyromark.Options
    return (
        o.ENABLE_TABLES
        | o.ENABLE_STRIKETHROUGH
        | o.ENABLE_FOOTNOTES
        | o.ENABLE_DEFINITION_LIST
        | o.ENABLE_HEADING_ATTRIBUTES
        | o.ENABLE_TASKLISTS
    )


def _markdown(text: str) -> str:
    import pyromark

    out = str(pyromark.html(text, options=_options()))
    if "<input " in out:  # task list boxes: as characters (feed readers drop form controls)
        out = out.replace(_TASK_DONE, "\u2611 ").replace(_TASK_OPEN, "\u2610 ")
    if "{" in out:
        out = _outside_code(out, _without_attribute_lists)
    return out


# pulldown-cmark's task list boxes, exactly as it writes them
_TASK_DONE = '<input disabled="" type="checkbox" checked=""/>\n'
_TASK_OPEN = '<input disabled="" type="checkbox"/>\n'

# Kramdown and Python-Markdown attribute lists, which CommonMark leaves as text: "{: .cls #id}"
# or "{:toc}" on a line after a block, "{:.right}" after an image or a link, "{.cls}" and
# "{#id}" (Python-Markdown). Removed (their classes and ids are not applied), never shown:
# see _strip_attribute_lists.
_BRACED = re.compile(
    r"[ \t]?\{[^\n<>]*+"
)  # from a "{" (and a space before) to the end of its run of text
_BRACE = re.compile(r"[{}]")
_ATTRIBUTE_LIST_START = re.compile(r"\{(?::|[ \t]?[.#][A-Za-z])")
MAX_ATTRIBUTE_LIST_CHARS = 200
_TOC_LIST = re.compile(r"<([ou]l)>\n<li>[^<\n]{0,100}\n\{:toc\}</li>\n</\1>\n?")
_EMPTY_PARAGRAPH = re.compile(r"<p>[ \t\n]{0,8}</p>\n?")
_CODE_START = re.compile(r"<(pre|code)\b", re.IGNORECASE)
_CODE_END = {
    "pre": re.compile(r"</pre\s{0,8}>", re.IGNORECASE),
    "code": re.compile(r"</code\s{0,8}>", re.IGNORECASE),
}


def _strip_attribute_lists(m: re.Match[str]) -> str:
    """A run of text without its attribute lists: every ``{:...}`` (``{.x...}``, ``{#x...}``)
    of at most 200 characters, with the space before it. Braces are matched as they come,
    on what is left of the run, so removing one never makes another (``{{: .c}:x}``, or
    ``{:{: .c}}``): one pass, each brace pushed and popped once."""
    run = m[0]
    out: list[str] = []
    size = 0
    opened: list[tuple[int, int]] = []  # (pieces, size) before each "{" still open
    last = 0
    for b in _BRACE.finditer(run):
        i = b.start()
        if i > last:
            out.append(run[last:i])
            size += i - last
        last = i + 1
        if b[0] == "{":
            opened.append((len(out), size))
        elif opened:
            at, at_size = opened.pop()
            if size - at_size <= MAX_ATTRIBUTE_LIST_CHARS + 1 and _ATTRIBUTE_LIST_START.match(
                "".join(out[at : at + 5])  # (pieces are never empty)
            ):
                del out[at:]
                size = at_size
                if out and out[-1][-1:] in (" ", "\t"):
                    out[-1] = out[-1][:-1]
                    size -= 1
                    if not out[-1]:
                        out.pop()
                continue
        out.append(b[0])
        size += 1
    out.append(run[last:])
    return "".join(out)


def _without_attribute_lists(text: str) -> str:
    if "{" not in text:
        return text
    out = _BRACED.sub(_strip_attribute_lists, _TOC_LIST.sub("", text))
    return _EMPTY_PARAGRAPH.sub("", out) if "<p>" in out else out


def _outside_code(markup: str, change: Callable[[str], str]) -> str:
    """``markup`` with ``change`` applied to everything outside ``<pre>`` and ``<code>``
    elements (whose text is shown as written). One pass: an unclosed one runs to the end."""
    out: list[str] = []
    pos = 0
    while True:
        m = _CODE_START.search(markup, pos)
        if m is None:
            out.append(change(markup[pos:]))
            return "".join(out)
        out.append(change(markup[pos : m.start()]))
        end = _CODE_END[m[1].lower()].search(markup, m.end())
        stop = len(markup) if end is None else end.end()
        out.append(markup[m.start() : stop])
        pos = stop


_HEADING = re.compile(r"<h([1-6])>([^\n]{0,2000}?)</h\1>")
_NOT_IN_ID = re.compile(r"[^\w\- ]+")


def _heading_ids(markup: str) -> str:
    """Rendered Markdown whose headings without an id get the one Jekyll (kramdown) and Hugo
    give them, the text in lower case, spaces as ``-``, punctuation gone (``## Set up!`` is
    ``set-up``; a second one ``set-up-1``): links written for those sites (``[x](#set-up)``)
    keep working. (Ids are then published per article: see
    :func:`feedpub.articles.sanitise.prefix_ids`.)"""
    if "<h" not in markup:
        return markup
    used: dict[str, int] = {}

    def heading(m: re.Match[str]) -> str:
        text = html.unescape(_TAG.sub("", m[2])).strip().lower()
        base = _NOT_IN_ID.sub("", text).strip().replace(" ", "-")[:100] or "section"
        n = used.get(base, 0)
        used[base] = n + 1
        ident = base if n == 0 else f"{base}-{n}"
        return f'<h{m[1]} id="{html.escape(ident)}">{m[2]}</h{m[1]}>'

    return _HEADING.sub(heading, markup)


_TAG = re.compile(r"<[^>\n]{0,2000}>")
