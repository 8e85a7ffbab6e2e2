"""Where a Markdown or HTML body holds code, in which template syntax is left as written
(:mod:`feedpub.articles.templates`): fenced and indented blocks, code spans, ``<pre>`` and
``<code>`` elements. Linear in the body's length.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_FENCE = re.compile(r"^[ \t]*+(`{3,}+|~{3,}+)([^\n]*+)$", re.MULTILINE)
_BACKTICKS = re.compile(r"`++")
_BLANK_LINE = re.compile(r"\n[ \t]*+\n")
_PRE = re.compile(r"<(pre|code)\b[^>]*+>", re.IGNORECASE)
_INDENTED = re.compile(r"^(?: {4}|\t)[^\n]*+$", re.MULTILINE)
_LIST_ITEM = re.compile(r"[ \t]*+(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def code_spans(text: str, *, markdown: bool = True) -> list[tuple[int, int]]:
    """Where ``text`` holds code (start, end), sorted: fenced blocks (closed by a fence of
    the same character at least as long), indented blocks (after a blank line, not in a
    list), code spans of any number of backticks, ``<pre>`` and ``<code>`` elements."""
    spans: list[tuple[int, int]] = []
    if not markdown:  # HTML: only its code elements
        _code_elements(text, spans)
        return _merged(spans)
    open_at: tuple[int, str] | None = None
    for m in _FENCE.finditer(text):
        marker = m[1]
        if open_at is None:
            if marker[0] == "`" and "`" in m[2]:
                continue  # (not a fence: an info string holding a backtick)
            open_at = (m.start(), marker)
        elif marker[0] == open_at[1][0] and len(marker) >= len(open_at[1]) and not m[2].strip():
            spans.append((open_at[0], m.end()))
            open_at = None
    if open_at is not None:  # an unclosed fence runs to the end, as CommonMark reads it
        spans.append((open_at[0], len(text)))
    previous_blank = True
    previous_code = False
    last_text = ""
    for m in re.finditer(r"[^\n]*+\n?", text):
        line = m[0].rstrip("\n")
        if not m[0]:
            break
        if not line.strip():
            previous_blank = True
            continue
        is_code = _INDENTED.match(line) is not None and (
            previous_code or (previous_blank and not _LIST_ITEM.match(last_text))
        )
        if is_code:
            spans.append((m.start(), m.end()))
        else:
            last_text = line
        previous_code = is_code
        previous_blank = False
    # a code span: a run of backticks to the next run as long, within its paragraph
    blanks = [m.start() for m in _BLANK_LINE.finditer(text)]
    opened: int | None = None
    width = 0
    for m in _BACKTICKS.finditer(text):
        if opened is not None:
            at = bisect_right(blanks, opened)
            if at < len(blanks) and blanks[at] < m.start():
                opened = None  # (a paragraph ended: that run was a plain backtick)
        if opened is None:
            opened, width = m.start(), len(m[0])
        elif len(m[0]) == width:
            spans.append((opened, m.end()))
            opened = None
    _code_elements(text, spans)
    return _merged(spans)


def _code_elements(text: str, spans: list[tuple[int, int]]) -> None:
    if _PRE.search(text):
        lower = text.lower()
        for m in _PRE.finditer(text):
            close = lower.find(f"</{m[1].lower()}>", m.end())
            spans.append((m.start(), len(text) if close < 0 else close))


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


class Inside:
    """Whether offsets, asked in increasing order, fall in the spans: linear."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = spans
        self.i = 0

    def __call__(self, offset: int) -> bool:
        while self.i < len(self.spans) and self.spans[self.i][1] <= offset:
            self.i += 1
        return self.i < len(self.spans) and self.spans[self.i][0] <= offset
