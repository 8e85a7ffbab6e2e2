"""Raw HTML → balanced, well-nested HTML that every HTML parser reads the same way, in one pass.

Why this exists: an HTML5 parser (html5ever inside nh3, and every browser and feed reader)
repairs bad markup by re-opening formatting elements (``<b>``, ``<i>``, ``<a>`` ...) that an
enclosing block closed before them. A few hundred such elements left open, followed by many
short paragraphs, make it build hundreds of times more elements than the input holds: 43 KB
became 7.8 MB and 0.6 s; 2 MB would take minutes and gigabytes, in our build and in every
reader of the feed. Deep nesting costs it quadratic time as well.

So before the sanitiser sees an article's HTML, this pass rewrites it so that no parser has
anything to repair:

* it tokenises the markup once, left to right, by the HTML tokenizer's rules (tags, quoted
  attribute values, comments, raw-text elements such as ``<script>``): each character is
  looked at a bounded number of times, with regular expressions that cannot backtrack
  (possessive quantifiers), so the cost is linear in the input;
* it keeps only the elements the sanitiser allows (others lose their tags and keep their
  text; ``<script>`` and ``<style>`` lose their content too), and drops comments;
* it closes, explicitly and in order, every element a parser would close implicitly (a block
  inside ``<p>``, a ``<li>`` after a ``<li>``, an ``<a>`` inside an ``<a>``, table cells and
  rows), inserts the table parts a parser would insert (``<tbody>``, ``<tr>``, ``<td>``), and
  never leaves an element open: what comes out is balanced and needs no repair, so a parser
  never re-opens anything;
* elements nested deeper than :data:`MAX_DEPTH` lose their tags (their text stays), and the
  caller is told how many did.

It decides structure only. Which attributes and URLs are allowed is the sanitiser's rule
(:mod:`feedpub.articles.sanitise`), which runs on this pass's output.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass

from feedpub.articles.html_tree import OpenElements, element_set

MAX_DEPTH = 256
"""The deepest element nesting kept. Real articles stay under 30; an HTML parser's work per tag
grows with the depth, so deeper elements lose their tags (their text is kept)."""

_VOID = element_set("area base br col embed hr img input keygen link meta param source track wbr")
# elements whose content the tokenizer reads as text up to their end tag
_RAW_TEXT = element_set(
    "script style xmp iframe noembed noframes noscript textarea title plaintext"
)
_DROP_CONTENT = frozenset(["script", "style"])  # raw text that is never shown
_RCDATA = frozenset(["textarea", "title"])  # raw text whose character references count
# start tags that close an open <p> (a "p element in button scope")
_CLOSES_P = element_set(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup main menu nav ol p search section summary ul "
    "h1 h2 h3 h4 h5 h6 pre listing form hr table li dd dt"
)
_HEADINGS = element_set("h1 h2 h3 h4 h5 h6")
_SECTIONS = frozenset(["thead", "tbody", "tfoot"])
_TABLE_PARTS = frozenset(
    ["caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th"]
)
_TABLE_CONTEXT = frozenset(["table", "colgroup", "thead", "tbody", "tfoot", "tr"])  # no text here
_IMPLIED_END = element_set("dd dt li p rb rp rt rtc")
_RUBY_PARTS = element_set("rb rp rt rtc")

_WS = "\t\n\f\r "
_START = re.compile(r"<([A-Za-z][^\t\n\f\r />]*+)")
_END = re.compile(r"</([A-Za-z][^\t\n\f\r />]*+)")
# the rest of a tag: attributes (a quote opens a value only after "="), up to ">"
_TAG_REST = re.compile(
    r"(?:[\t\n\f\r /]++"
    r"|[^\t\n\f\r />][^\t\n\f\r /=>]*+"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+))?+"
    r")*+(>?)"
)
_ATTR = re.compile(
    r"([^\t\n\f\r />][^\t\n\f\r /=>]*+)"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    r"(?:\"([^\"]*+)\"|'([^']*+)'|([^\t\n\f\r >\"'][^\t\n\f\r >]*+)))?+"
)
# the tokenizer's patterns, for readers of whole HTML documents
START_TAG, END_TAG, TAG_REST, ATTRIBUTE = _START, _END, _TAG_REST, _ATTR
_NAME_OK = re.compile(r"[a-z_:][a-z0-9_:.-]*+")
_RAW_END: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"</{name}(?=[\t\n\f\r />])", re.IGNORECASE) for name in _RAW_TEXT
}
_NOT_WS = re.compile(r"[^\t\n\f\r ]")
_COMMENT_END = re.compile(r"--!?>")
MAX_ATTRIBUTES = 64
"""Attributes kept per element: an HTML parser checks each new one against those before it."""


def _text(s: str) -> str:
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _attr_value(s: str) -> str:
    return s.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True, slots=True)
class Normalised:
    html: str
    flattened: int  # start tags dropped because they nested deeper than the limit
    elements: int  # elements written
    first_flattened: int | None = None  # where in the input the first of those was


class _Normaliser:
    def __init__(self, allowed: Set[str], max_depth: int) -> None:
        self.allowed = allowed
        self.out: list[str] = []
        self.tree = OpenElements(self.out, max_depth)

    # -- text ------------------------------------------------------------------------------

    def text(self, s: str) -> None:
        if not s:
            return
        if self.tree.top in _TABLE_CONTEXT and _NOT_WS.search(s):
            self._cell()  # text straight inside a table goes into a cell, not before the table
        self.out.append(_text(s))

    # -- tables ----------------------------------------------------------------------------

    def _cell(self) -> None:
        """Open the parts that must surround cell content here (a parser would add them)."""
        t = self.tree
        if t.top == "colgroup":
            t.pop()
        if t.top == "table":
            t.push("tbody", "")
        if t.top in _SECTIONS:
            t.push("tr", "")
        if t.top == "tr":
            t.push("td", "")

    def _table_start(self, name: str, attrs: str) -> None:
        """A start tag of a table part: only inside a table (a parser ignores it elsewhere),
        with the parts a parser would insert, closing what a parser would close."""
        t = self.tree
        table = t.innermost("table")
        if table < 0:
            return
        if name in ("td", "th", "tr"):
            row = t.open_in("tr", "table") if name != "tr" else -1
            if row >= 0:
                t.close_to(row + 1)
            else:
                section = max(t.open_in(s, "table") for s in _SECTIONS)
                if section >= 0:
                    t.close_to(section + 1)
                else:
                    t.close_to(table + 1)
                    t.push("tbody", "")
                if name != "tr":
                    t.push("tr", "")
        elif name == "col":
            if t.top != "colgroup":
                t.close_to(table + 1)
                t.push("colgroup", "")
            self.out.append(f"<col{attrs}>")
            t.elements += 1
            return
        else:  # caption, colgroup, thead, tbody, tfoot
            t.close_to(table + 1)
        t.push(name, attrs)

    # -- tags ------------------------------------------------------------------------------

    def start(self, name: str, attrs: str) -> None:
        t = self.tree
        if name not in self.allowed:
            return
        if name in _TABLE_PARTS:
            self._table_start(name, attrs)
            return
        if t.top in _TABLE_CONTEXT:
            self._cell()
        if name in _CLOSES_P:
            p = t.open_in("p", "scope")
            if p >= 0:
                t.close_to(p)
        if name in _HEADINGS and t.top in _HEADINGS:
            t.pop()
        elif name == "li":
            li = t.open_in("li", "li")
            if li >= 0:
                t.close_to(li)
        elif name in ("dd", "dt"):
            ddt = max(t.open_in("dd", "ddt"), t.open_in("dt", "ddt"))
            if ddt >= 0:
                t.close_to(ddt)
        elif name == "a":
            a = t.open_in("a", "marker")
            if a >= 0:
                t.close_to(a)
        elif name in _RUBY_PARTS and t.open_in("ruby") >= 0:
            keep = "rtc" if name in ("rp", "rt") else None
            while t.top in _IMPLIED_END and t.top != keep:
                t.pop()
        if name == "table" and len(t.names) > t.max_depth - 4:
            t.flatten()  # no room for its rows and cells: its text stays, in place
            return
        if name in _VOID:
            self.out.append(f"<{name}{attrs}>")
            t.elements += 1
            return
        t.push(name, attrs)

    def end(self, name: str) -> None:
        t = self.tree
        if name not in self.allowed or name in _VOID:
            return
        if name in _HEADINGS:
            i = max(t.open_in(h) for h in _HEADINGS)
        elif name == "li":
            i = t.open_in("li", "list")
        elif name == "table":
            i = t.innermost("table")
        elif name in _TABLE_PARTS:
            i = t.open_in(name, "table")  # only the innermost table's own parts
        else:
            i = t.open_in(name)
        if i >= 0:
            t.close_to(i)

    def attrs(self, raw: str) -> str:
        seen: set[str] = set()
        parts: list[str] = []
        for m in _ATTR.finditer(raw):
            name = m[1].lower()
            if name in seen or _NAME_OK.fullmatch(name) is None:
                continue
            if len(seen) == MAX_ATTRIBUTES:
                break
            seen.add(name)
            value = m[2] if m[2] is not None else m[3] if m[3] is not None else m[4] or ""
            parts.append(f' {name}="{_attr_value(value)}"')
        return "".join(parts)


def normalise(markup: str, allowed: Set[str], *, max_depth: int = MAX_DEPTH) -> Normalised:
    """``markup`` with only ``allowed`` elements, balanced and needing no repair (see the
    module's docstring). Linear in ``len(markup)``."""
    n = _Normaliser(allowed, max_depth)
    out = n.out
    pos = 0
    size = len(markup)
    while pos < size:
        lt = markup.find("<", pos)
        if lt < 0:
            n.text(markup[pos:])
            break
        if lt > pos:
            n.text(markup[pos:lt])
        pos = lt
        nxt = markup[lt + 1 : lt + 2]
        if nxt.isascii() and nxt.isalpha():  # a start tag
            m = _START.match(markup, lt)
            assert m is not None
            rest = _TAG_REST.match(markup, m.end())
            assert rest is not None
            if not rest[1]:
                break  # the tag never ends: the rest of the file is inside it
            pos = rest.end()
            name = m[1].lower()
            attr_text = markup[m.end() : pos - 1]
            if name == "plaintext":  # everything after it is text
                n.text(markup[pos:].replace("&", "&amp;"))
                break
            if name in _RAW_TEXT:
                raw_end = _RAW_END[name].search(markup, pos)
                content = markup[pos : raw_end.start() if raw_end else size]
                pos = raw_end.start() if raw_end else size
                if name not in _DROP_CONTENT:
                    n.text(content if name in _RCDATA else content.replace("&", "&amp;"))
                continue
            n.tree.position = lt
            n.start(name, n.attrs(attr_text) if name in n.allowed else "")
        elif nxt == "/":
            m = _END.match(markup, lt)
            if m is None:  # "</>" is nothing; "</3" and the like are bogus comments
                if markup.startswith("</>", lt):
                    pos = lt + 3
                    continue
                gt = markup.find(">", lt)
                if gt < 0:
                    break
                pos = gt + 1
                continue
            rest = _TAG_REST.match(markup, m.end())
            assert rest is not None
            if not rest[1]:
                break
            pos = rest.end()
            n.end(m[1].lower())
        elif nxt == "!" and markup.startswith("<!--", lt):
            if markup.startswith("<!-->", lt):
                pos = lt + 5
                continue
            if markup.startswith("<!--->", lt):
                pos = lt + 6
                continue
            close = _COMMENT_END.search(markup, lt + 4)  # one search: "-->" or "--!>"
            if close is None:
                break
            pos = close.end()
        elif nxt in ("!", "?"):  # <!DOCTYPE ...>, <![CDATA[ ...>, <?xml ...>: bogus comments
            gt = markup.find(">", lt)
            if gt < 0:
                break
            pos = gt + 1
        else:
            n.text("<")
            pos = lt + 1
    n.tree.close_all()
    t = n.tree
    return Normalised(
        html="".join(out),
        flattened=t.flattened,
        elements=t.elements,
        first_flattened=t.first_flattened,
    )
