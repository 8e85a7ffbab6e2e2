"""The open elements of :mod:`feedpub.articles.html`'s normaliser, with O(1) answers to "is
there an open X in scope?" (the HTML parsing specification's scopes, kept as stacks of the
indices of the elements that bound each one).
"""

from __future__ import annotations


def element_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# the "special" elements that stop the search for an open <li>, <dd> or <dt>
_SPECIAL = element_set(
    "address applet area article aside base basefont bgsound blockquote body br button caption "
    "center col colgroup dd details dir div dl dt embed fieldset figcaption figure footer form "
    "frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li "
    "link listing main marquee menu meta nav noembed noframes noscript object ol p param "
    "plaintext pre script search section select source style summary table tbody td template "
    "textarea tfoot th thead title tr track ul wbr xmp"
)
# Special elements the specification added after some parsers were written (html5lib's list
# lacks them): an <li> inside one of them closes an open <li> here, explicitly, so that an
# older parser and a newer one read the same tree.
_NEWER_SPECIAL = element_set("figcaption hgroup keygen main search source summary template track")
_LI_STOPS = _SPECIAL - _NEWER_SPECIAL - {"address", "div", "p", "li"}
_DDT_STOPS = _SPECIAL - _NEWER_SPECIAL - {"address", "div", "p", "dd", "dt"}
_SCOPE = element_set("applet caption html table td th marquee object template")
_MARKERS = element_set("applet caption td th marquee object template")
_TABLE_SCOPE = frozenset(["html", "table", "template"])
_LIST_SCOPE = _SCOPE | {"ol", "ul"}


class OpenElements:
    """The open elements, with O(1) answers to "is there an open X in scope?"."""

    def __init__(self, out: list[str], max_depth: int) -> None:
        self.out = out
        self.max_depth = max_depth
        self.names: list[str] = []
        self.at: dict[str, list[int]] = {}  # name -> indices in ``names`` where it is open
        # indices of open elements that bound each kind of scope (innermost last)
        self.bounds: dict[str, list[int]] = {
            "scope": [],
            "table": [],
            "list": [],
            "marker": [],
            "li": [],
            "ddt": [],
        }
        self.flattened = 0
        self.elements = 0
        self.first_flattened: int | None = None
        self.position = 0  # where in the input the tag being handled starts

    @property
    def top(self) -> str | None:
        return self.names[-1] if self.names else None

    def _bound(self, kind: str) -> int:
        b = self.bounds[kind]
        return b[-1] if b else -1

    def open_in(self, name: str, kind: str = "scope") -> int:
        """The index of the innermost open ``name`` not shut off by a ``kind`` boundary, or -1."""
        where = self.at.get(name)
        if not where:
            return -1
        return where[-1] if where[-1] > self._bound(kind) else -1

    def innermost(self, name: str) -> int:
        where = self.at.get(name)
        return where[-1] if where else -1

    def push(self, name: str, attrs: str) -> bool:
        if len(self.names) >= self.max_depth:
            self.flatten()
            return False
        i = len(self.names)
        self.names.append(name)
        self.at.setdefault(name, []).append(i)
        if name in _SCOPE:
            self.bounds["scope"].append(i)
        if name in _TABLE_SCOPE:
            self.bounds["table"].append(i)
        if name in _LIST_SCOPE:
            self.bounds["list"].append(i)
        if name in _MARKERS:
            self.bounds["marker"].append(i)
        if name in _LI_STOPS:
            self.bounds["li"].append(i)
        if name in _DDT_STOPS:
            self.bounds["ddt"].append(i)
        self.out.append(f"<{name}{attrs}>")
        self.elements += 1
        return True

    def flatten(self) -> None:
        self.flattened += 1
        if self.first_flattened is None:
            self.first_flattened = self.position

    def pop(self) -> None:
        name = self.names.pop()
        i = len(self.names)
        self.at[name].pop()
        for stack in self.bounds.values():
            if stack and stack[-1] == i:
                stack.pop()
        self.out.append(f"</{name}>")

    def close_to(self, index: int) -> None:
        """Close every open element from the innermost one down to ``index`` (included)."""
        while len(self.names) > index:
            self.pop()

    def close_all(self) -> None:
        self.close_to(0)
