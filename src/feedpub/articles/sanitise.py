"""The sanitiser's rules: which elements, attributes and URLs a published body keeps (nh3,
the Rust ``ammonia``: scripts, event handlers and dangerous URLs go), and the article prefix
every id of a body gets. Applied once, when an article is parsed (:mod:`feedpub.articles.body`),
and again to URLs as they are made absolute (:mod:`feedpub.articles.absolute`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote

import nh3

from feedpub.articles.attributes import CLEAN_ATTRIBUTE, CLEAN_START_TAG, URL_ATTRIBUTES
from feedpub.articles.context import SLUG_MARK
from feedpub.articles.refs import is_ref
from feedpub.articles.text import xml_safe

_ID_ATTRIBUTES = frozenset(["id", "name"])
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
    "*": {"id", "class"},  # ids prefixed per article (prefix_ids), classes as plain names
    "a": {"name"},
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
ID_PREFIX = SLUG_MARK + ":"
"""What every id of a parsed body starts with (:func:`prefix_ids`): the article's slug (a
slug never holds a colon) then a colon, so two articles' ids never collide."""


@lru_cache(maxsize=1)
def _allowed() -> tuple[set[str], dict[str, set[str]]]:
    tags = set(nh3.ALLOWED_TAGS) | _EXTRA_TAGS
    attributes = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, names in _EXTRA_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(names)
    return tags, attributes


@lru_cache(maxsize=1)
def allowed_tags() -> frozenset[str]:
    return frozenset(_allowed()[0])


# As browsers read a URL (WHATWG): tabs and line breaks anywhere removed, controls and spaces
# at either end; then the scheme, if there is one.
_URL_NOISE = re.compile("[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SAFE_SCHEMES = frozenset(["http", "https", "mailto", "tel", "ftp"])
_INLINE_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp|avif);", re.IGNORECASE)


def url_as_published(value: str) -> str:
    """A URL attribute's value as it will be published and as a browser reads it: without
    the characters feeds cannot carry (removed from everything published), without tabs and
    line breaks anywhere, without controls and spaces at either end. Every later step keeps
    it as it is: what is judged is what is published."""
    return _URL_NOISE.sub("", xml_safe(value)).strip(_C0_AND_SPACE)


MAX_ID_CHARS = 200
MAX_CLASSES = 16
_CLASS_NAME = re.compile(r"[A-Za-z_-][A-Za-z0-9_-]{0,63}")
_CLASS_NAMES = re.compile(r"[A-Za-z_-][A-Za-z0-9_-]{0,63}(?: [A-Za-z_-][A-Za-z0-9_-]{0,63}){0,15}")


def _keep_class(value: str) -> str | None:
    """Plain class names (letters, digits, ``-``, ``_``; at most 16 of 64 characters)."""
    if _CLASS_NAMES.fullmatch(value):
        return value
    names = [n for n in value.split(None, MAX_CLASSES)[:MAX_CLASSES] if _CLASS_NAME.fullmatch(n)]
    return " ".join(names) or None


def _keep_id(value: str) -> str | None:
    """An ``id`` or ``name`` as written (later prefixed per article): no spaces, bounded."""
    value = value.strip()
    if not value or len(value) > MAX_ID_CHARS or len(value.split(None, 1)) > 1:
        return None
    return value


def keep_url(tag: str, attribute: str, value: str) -> str | None:
    """A URL attribute's value if a reader may follow it: http(s), mailto, tel, ftp or a
    relative reference; ``data:`` only as a raster image's ``src``. Judged on the value as
    published and as browsers read it (:func:`url_as_published`), so that ``da&#9;ta:``,
    ``java&#1;script:`` or ``java\\nscript:`` cannot pass for something else. Ids go (only
    an article body's are kept, prefixed: :func:`keep_url_or_id`); classes are plain names."""
    if attribute in _ID_ATTRIBUTES:
        return None
    if attribute == "class":
        return _keep_class(value)
    if attribute not in URL_ATTRIBUTES:
        return value
    url = url_as_published(value)
    m = _SCHEME.match(url)
    if m is None:
        return url  # relative
    scheme = m[1].lower()
    if scheme == "feedpub-ref":  # a stand-in the build replaces (articles/refs.py): exactly
        return url if is_ref(url) else None
    if scheme == "data":  # inline images only, never a link or a script
        return url if tag == "img" and attribute == "src" and _INLINE_IMAGE.match(url) else None
    return url if scheme in _SAFE_SCHEMES else None


def keep_url_or_id(tag: str, attribute: str, value: str) -> str | None:
    """:func:`keep_url`, keeping ids (an article body's, prefixed afterwards)."""
    if attribute in _ID_ATTRIBUTES:
        return _keep_id(value)
    return keep_url(tag, attribute, value)


_URL_SCHEMES = frozenset(["http", "https", "mailto", "tel", "ftp", "data", "feedpub-ref"])


@lru_cache(maxsize=4)
def _cleaner(attribute_filter: Callable[[str, str, str], str | None]) -> nh3.Cleaner:
    """The sanitiser for one attribute filter, built once: ``nh3.clean`` builds its rules
    from the Python sets on every call, which cost as much as cleaning a 4 KB article."""
    tags, attributes = _allowed()
    return nh3.Cleaner(
        tags=tags,
        attributes=attributes,
        attribute_filter=attribute_filter,
        link_rel=None,
        url_schemes=set(_URL_SCHEMES),
    )


def sanitise(fragment: str, attribute_filter: Callable[[str, str, str], str | None]) -> str:
    cleaned = _cleaner(attribute_filter).clean(fragment)
    # "]]>" cannot appear inside a CDATA section (RSS content:encoded uses one).
    return cleaned.replace("]]>", "]]&gt;")


def _id_values(markup: str) -> list[str]:
    """Every ``id="..."`` and ``name="..."`` value, read left to right as a regular
    expression would find them (`` (?:id|name)="([^"]*)"``), with ``str.find`` (the
    expression tries every space of the text: ten times as long)."""
    values: list[str] = []
    ident, name = markup.find(' id="'), markup.find(' name="')  # the next of each, or -1
    while ident >= 0 or name >= 0:
        start = (ident + 5) if name < 0 or 0 <= ident < name else (name + 7)
        end = markup.find('"', start)
        if end < 0:
            break
        values.append(markup[start:end])
        # (each looked for again only once passed: linear)
        if 0 <= ident <= end:
            ident = markup.find(' id="', end + 1)
        if 0 <= name <= end:
            name = markup.find(' name="', end + 1)
    return values


def prefix_ids(markup: str) -> str:
    """Sanitised markup with every ``id`` and ``name`` (footnotes', headings', raw HTML's)
    prefixed with :data:`ID_PREFIX`, and every ``href="#x"`` that points to one of them
    likewise (kept relative: it points into the same entry wherever that is shown, on its
    page, in an index or in a reader). Two passes over nh3's regular output: linear."""
    if ' id="' not in markup and ' name="' not in markup:
        return markup
    # (a value may hold ' id="' and its closing quote: such a false find only adds a name no
    # fragment points to)
    ids = {html.unescape(v) for v in _id_values(markup)}

    def attribute(a: re.Match[str]) -> str:
        name, value = a[1], a[2]
        if name in _ID_ATTRIBUTES:
            return f' {name}="{ID_PREFIX}{value}"'
        if name == "href" and value[:1] == "#":
            target = html.unescape(value[1:])
            if target in ids or unquote(target) in ids:
                return f' href="#{ID_PREFIX}{value[1:]}"'
        return a[0]

    def tag(m: re.Match[str]) -> str:
        t = m[0]
        if ' id="' in t or ' name="' in t or ' href="#' in t:
            return CLEAN_ATTRIBUTE.sub(attribute, t)
        return t

    return CLEAN_START_TAG.sub(tag, markup)
