"""URL attributes of sanitised markup: one walk over them, for everything that changes URLs
in a body after nh3 wrote it (:func:`feedpub.articles.absolute.absolutise`,
:func:`feedpub.articles.refs.localise`) and for what adds article prefixes to its ids
(:mod:`feedpub.articles.sanitise`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

URL_ATTRIBUTES = frozenset(["href", "src", "cite", "poster", "longdesc"])
# (the common ones first: the search stops at the first found)
_URL_ATTRIBUTE_STARTS = tuple(
    f' {name}="' for name in sorted(URL_ATTRIBUTES, key=lambda n: (n not in ("href", "src"), n))
)
CLEAN_START_TAG = re.compile(r"<[a-z][a-z0-9]*+ [^>]*+>")  # (sanitised: with attributes)
CLEAN_ATTRIBUTE = re.compile(r' ([^ ="]++)="([^"]*+)"')


def rewrite_urls(markup: str, change: Callable[[str, str, str], str | None]) -> str:
    """Sanitised markup with each URL attribute's value (as written: escaped) passed to
    ``change(tag, attribute, value)``: what it returns (escaped) replaces the value, None
    removes the attribute. Linear: nh3 writes every attribute double-quoted, with ``<``,
    ``>`` and quotes in values escaped, so a tag is ``<`` to the next ``>``, and attributes
    are read one after another (a value holding `` href=`` is no attribute)."""
    if not any(needle in markup for needle in _URL_ATTRIBUTE_STARTS):
        return markup  # (no URL attribute anywhere: nothing to walk)

    def tag(m: re.Match[str]) -> str:
        name = m[0][1 : m[0].index(" ")]

        def attribute(a: re.Match[str]) -> str:
            if a[1] not in URL_ATTRIBUTES:
                return a[0]
            new = change(name, a[1], a[2])
            if new is None:
                return ""
            return a[0] if new == a[2] else f' {a[1]}="{new}"'

        return CLEAN_ATTRIBUTE.sub(attribute, m[0])

    return CLEAN_START_TAG.sub(tag, markup)
