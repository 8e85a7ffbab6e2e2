"""Article bodies → safe HTML; relative URLs made absolute when the article's URL is known.

Two steps, so that everything that depends on the file's content happens once, when the file
is parsed (in a worker process, under a time budget), and what is stored is ready to publish:

* :func:`prepare_body` (at parse time): Markdown through pulldown-cmark (``pyromark``:
  CommonMark with tables, strikethrough, footnotes, definition lists, task lists and heading
  attributes, in linear time by design, including
  on the inputs that make other Markdown parsers slow), plain text through
  :func:`text_to_html`; raw HTML made balanced by :mod:`feedpub.articles.html`; then
  sanitised by nh3 (the Rust ``ammonia``): scripts, event handlers and dangerous URLs go.
  Every step is linear in the input, and the fixed limits below bound what a hostile file
  can make any step do.
* :func:`absolutise` (at render time): every ``href``/``src``... made absolute against the
  article's URL (many feed readers ignore ``xml:base``); a linear pass over markup that nh3
  wrote, so it cannot be fooled by odd markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

import nh3

from feedpub.articles.context import SLUG_MARK
from feedpub.articles.html import (
    CLEAN_ATTRIBUTE,
    CLEAN_START_TAG,
    MAX_DEPTH,
    URL_ATTRIBUTES,
    normalise,
    rewrite_urls,
)
from feedpub.articles.text import xml_safe

if TYPE_CHECKING:
    from feedpub.articles.parse import BodyFormat

MAX_TAGS = 300_000
"""Most tags an article's HTML may have when it carries raw HTML (which costs a pass in Python
per tag); a 2 MB article of ordinary prose has about 70,000."""
MAX_EXPANSION = 8
"""Rendered HTML may be at most this many times the size of the body (plus 64 KB): Markdown
that expands further (a reference or footnote mark repeated a million times) is refused."""

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
    "*": {"id", "class"},  # ids prefixed per article (_prefix_ids), classes as plain names
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
_SENTENCE_END = (".", "!", ",", ";", ":", "…", '"', "”", "’", "'", ")")
_URL_IN_TEXT = re.compile(r"\bhttps?://[^\s<>\"']*[^\s<>\"'&.,;:!?)\]]")
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
# what could start raw HTML in Markdown (a tag, a comment, a declaration): not an autolink
# (<https://...>, <a@b.org>) or a lone "<"
_RAW_HTML = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*+(?=[\s/>])|/[A-Za-z]|[!?])")
# in pulldown-cmark's output: a tag that opens or closes an element (void ones excluded)
_NESTING_TAG = re.compile(r"<(/?)(?!(?:br|hr|img|input|col|wbr)\b)[a-z]")
# in nh3's output (attributes always double-quoted; "<", ">" and quotes in values escaped)
# one attribute of such a tag: matched from the tag's start, one after the other, so never
# inside a value (a value may hold ' href="', never a double quote)
_ID_VALUE = re.compile(r' (?:id|name)="([^"]*+)"')
ID_PREFIX = SLUG_MARK + ":"
"""What every id of a parsed body starts with (:func:`_prefix_ids`): the article's slug (a
slug never holds a colon) then a colon, so two articles' ids never collide."""


class BodyError(ValueError):
    """A body that cannot be published as it is; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedBody:
    """A body ready to publish: sanitised HTML whose relative URLs are still relative (see
    :func:`absolutise`), its plain-text excerpt, and warnings about what was changed."""

    html: str
    excerpt: str
    warnings: tuple[tuple[int | None, str], ...] = ()  # (0-based line in the body, message)


@lru_cache(maxsize=1)
def _allowed() -> tuple[set[str], dict[str, set[str]]]:
    tags = set(nh3.ALLOWED_TAGS) | _EXTRA_TAGS
    attributes = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, names in _EXTRA_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(names)
    return tags, attributes


@lru_cache(maxsize=1)
def _allowed_tags() -> frozenset[str]:
    return frozenset(_allowed()[0])


def _markdown(text: str) -> str:
    import pyromark

    o = pyromark.Options
    options = (
        o.ENABLE_TABLES
        | o.ENABLE_STRIKETHROUGH
        | o.ENABLE_FOOTNOTES
        | o.ENABLE_DEFINITION_LIST
        | o.ENABLE_HEADING_ATTRIBUTES
        | o.ENABLE_TASKLISTS
    )
    out = str(pyromark.html(text, options=options))
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


# As browsers read a URL (WHATWG): tabs and line breaks anywhere removed, controls and spaces
# at either end; then the scheme, if there is one.
_URL_NOISE = re.compile("[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SAFE_SCHEMES = frozenset(["http", "https", "mailto", "tel", "ftp"])
_INLINE_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp|avif);", re.IGNORECASE)


def _url_as_published(value: str) -> str:
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


def _keep_url(tag: str, attribute: str, value: str) -> str | None:
    """A URL attribute's value if a reader may follow it: http(s), mailto, tel, ftp or a
    relative reference; ``data:`` only as a raster image's ``src``. Judged on the value as
    published and as browsers read it (:func:`_url_as_published`), so that ``da&#9;ta:``,
    ``java&#1;script:`` or ``java\\nscript:`` cannot pass for something else. Ids go (only
    an article body's are kept, prefixed: :func:`_keep_url_or_id`); classes are plain names."""
    if attribute in _ID_ATTRIBUTES:
        return None
    if attribute == "class":
        return _keep_class(value)
    if attribute not in URL_ATTRIBUTES:
        return value
    url = _url_as_published(value)
    m = _SCHEME.match(url)
    if m is None:
        return url  # relative
    scheme = m[1].lower()
    if scheme == "feedpub-ref":  # a stand-in the build replaces (articles/refs.py): exactly
        from feedpub.articles.refs import is_ref

        return url if is_ref(url) else None
    if scheme == "data":  # inline images only, never a link or a script
        return url if tag == "img" and attribute == "src" and _INLINE_IMAGE.match(url) else None
    return url if scheme in _SAFE_SCHEMES else None


def _keep_url_or_id(tag: str, attribute: str, value: str) -> str | None:
    """:func:`_keep_url`, keeping ids (an article body's, prefixed afterwards)."""
    if attribute in _ID_ATTRIBUTES:
        return _keep_id(value)
    return _keep_url(tag, attribute, value)


def _sanitise(fragment: str, attribute_filter: Callable[[str, str, str], str | None]) -> str:
    tags, attributes = _allowed()
    cleaned = nh3.clean(
        fragment,
        tags=tags,
        attributes=attributes,
        attribute_filter=attribute_filter,
        link_rel=None,
        url_schemes={"http", "https", "mailto", "tel", "ftp", "data", "feedpub-ref"},
    )
    # "]]>" cannot appear inside a CDATA section (RSS content:encoded uses one).
    return cleaned.replace("]]>", "]]&gt;")


def _depth(markup: str) -> int:
    """The deepest element nesting of balanced markup, counted without a Python loop."""
    steps = (-1 if m else 1 for m in _NESTING_TAG.findall(markup))
    return max(accumulate(steps, initial=0))


def _structure(markup: str, *, trusted: bool) -> tuple[str, int]:
    """Bounded-cost structure: ``trusted`` markup (a Markdown renderer's own, balanced) is
    only measured; anything carrying raw HTML goes through the normaliser. Returns the
    markup and how many tags nested too deep were removed."""
    tags = markup.count("<")
    if tags > MAX_TAGS:
        raise BodyError(
            f"its HTML has {tags:,} tags, more than the limit of {MAX_TAGS:,}; not published "
            "(split the article)"
        )
    if trusted and _depth(markup) <= MAX_DEPTH:
        return markup, 0
    result = normalise(markup, _allowed_tags())
    return result.html, result.flattened


# html5ever (in nh3) reads a run of text or an attribute value holding many "&" or characters
# U+00A0-U+00BF (no-break space, "©", "«", "°" ...) in time that grows with the square of the
# run's length (400 KB of "x©" took 1.3 s; 2 MB, half a minute). Long text runs are cut with
# empty comments, which it drops (its output is the same); long attribute values are refused.
_TEXT_RUN = re.compile(r"(?:^|(?<=>))[^<>]{8192,}")
_LONG_VALUE = re.compile(r'="([^"]{16384,})"')
_SLOW_IN_HTML5EVER = re.compile("[&\u00a0-\u00bf]")
_RUN_PIECE = 4096
MAX_SLOW_IN_ATTRIBUTE = 4096


def _cut_run(m: re.Match[str]) -> str:
    run = m[0]
    pieces = []
    start = 0
    while len(run) - start > _RUN_PIECE:
        cut = start + _RUN_PIECE
        amp = run.rfind("&", cut - 40, cut)
        if amp > start and run.find(";", amp, cut) < 0:
            cut = amp  # never inside a character reference
        pieces.append(run[start:cut])
        start = cut
    pieces.append(run[start:])
    return "<!---->".join(pieces)


def _for_html5ever(markup: str) -> str:
    """``markup`` (balanced, with ``<`` and ``>`` only in tags) in a shape nh3 reads in linear
    time: see above."""
    if len(markup) <= 8192:
        return markup
    for m in _LONG_VALUE.finditer(markup):
        slow = len(_SLOW_IN_HTML5EVER.findall(m[1]))
        if slow > MAX_SLOW_IN_ATTRIBUTE:
            raise BodyError(
                f"an HTML attribute value of {len(m[1]):,} characters holds {slow:,} "
                f"ampersands or characters U+00A0-U+00BF (the limit is "
                f"{MAX_SLOW_IN_ATTRIBUTE:,}); not published"
            )
    return _TEXT_RUN.sub(_cut_run, markup)


def prepare_body(body: str, body_format: BodyFormat) -> PreparedBody:
    """An article body → sanitised HTML (relative URLs kept) and its excerpt.

    Raises :class:`BodyError` when the body cannot be published within the fixed limits.
    Linear in ``len(body)``."""
    if body_format == "markdown":
        raw = _heading_ids(_markdown(body))
        trusted = _RAW_HTML.search(body) is None  # the renderer's own markup only
    elif body_format == "html":
        raw, trusted = body, False
    else:
        raw = text_to_html(body)
        trusted = True
    if len(raw) > MAX_EXPANSION * len(body) + 65_536:
        raise BodyError(
            f"its HTML would be {len(raw):,} bytes, more than {MAX_EXPANSION} times the "
            "article; not published"
        )
    structured, flattened = _structure(raw, trusted=trusted)
    structured = _for_html5ever(structured)
    warnings: list[tuple[int | None, str]] = []
    if flattened:
        # where: the first raw tag too deep in the file itself, when raw HTML made it so
        first = None if trusted else normalise(body, _allowed_tags()).first_flattened
        warnings.append(
            (
                None if first is None else body.count("\n", 0, first),
                f"HTML nested more than {MAX_DEPTH} elements deep: {flattened:,} tag(s) "
                "deeper than that were removed (their text is kept)",
            )
        )
    # character references may have made characters XML cannot carry (&#1;): feeds would
    # fail to render with them
    cleaned = _prefix_ids(xml_safe(_sanitise(structured, _keep_url_or_id)).strip())
    return PreparedBody(html=cleaned, excerpt=excerpt(cleaned), warnings=tuple(warnings))


_HEADING = re.compile(r"<h([1-6])>([^\n]{0,2000}?)</h\1>")
_NOT_IN_ID = re.compile(r"[^\w\- ]+")


def _heading_ids(markup: str) -> str:
    """Rendered Markdown whose headings without an id get the one Jekyll (kramdown) and Hugo
    give them, the text in lower case, spaces as ``-``, punctuation gone (``## Set up!`` is
    ``set-up``; a second one ``set-up-1``): links written for those sites (``[x](#set-up)``)
    keep working. (Ids are then published per article: see :func:`_prefix_ids`.)"""
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


def _prefix_ids(markup: str) -> str:
    """Sanitised markup with every ``id`` and ``name`` (footnotes', headings', raw HTML's)
    prefixed with :data:`ID_PREFIX`, and every ``href="#x"`` that points to one of them
    likewise (kept relative: it points into the same entry wherever that is shown, on its
    page, in an index or in a reader). Two passes over nh3's regular output: linear."""
    if ' id="' not in markup and ' name="' not in markup:
        return markup
    # (a value may hold ' id="' and its closing quote: such a false find only adds a name no
    # fragment points to)
    ids = {html.unescape(v) for v in _ID_VALUE.findall(markup)}

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


def fits_in_feeds(html: str, limit: int) -> bool:
    """Whether a prepared body is small enough for a feed entry to carry (``feeds.
    max_content_bytes``); a larger one is shown whole on its page, and feeds carry its
    summary. A feed holds many entries, and is fetched by every reader and sent to every
    hub subscriber: 20 entries of 2 MB would make it 60 MB."""
    return len(html) <= limit


def _escape_attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("\u00a0", "&nbsp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


# URL references whose resolution is plain concatenation (checked against urljoin by a
# property test): path segments of ordinary characters (none "." or "..", none empty), an
# optional non-empty query and fragment; relative ones must not start with a scheme.
_SEGMENT = r"[A-Za-z0-9_~%!$&'()*+,=@-][A-Za-z0-9_.~%!$&'()*+,=:@-]*"
_TAIL = r"(?:\?[^#\s]+)?(?:#\S+)?"
_SIMPLE_RELATIVE = re.compile(rf"(?!\.\.?(?:[/?#]|$))(?:{_SEGMENT}/)*(?:{_SEGMENT})?{_TAIL}")
_SIMPLE_ABSOLUTE_PATH = re.compile(rf"/(?:{_SEGMENT}/)*(?:{_SEGMENT})?{_TAIL}")
_SIMPLE_URL = re.compile(
    rf"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/(?:{_SEGMENT}/)*(?:{_SEGMENT})?)?{_TAIL}"
)
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$|[?#])")


def _urljoin(base_url: str, ref: str) -> str | None:
    try:
        return urljoin(base_url, ref)
    except ValueError:  # "//[": no URL at all (an unclosed IPv6 host)
        return None


def _joiner(base_url: str) -> Callable[[str], str | None]:
    """``urljoin(base_url, ref)`` (None where urljoin fails), with the common shapes of
    ``ref`` done by concatenation (urljoin costs ~25 microseconds a call: 500,000 links would
    take seconds)."""
    origin = urljoin(base_url, "/")[:-1]
    folder = urljoin(base_url, "x")[:-1]
    plain = base_url.split("#", 1)[0]
    simple = (
        _DOT_SEGMENT.search(urlsplit(base_url).path) is None and "//" not in urlsplit(base_url).path
    )
    memo: dict[str, str | None] = {}

    def join(ref: str) -> str | None:
        if ref in memo:
            return memo[ref]
        out: str | None
        if not ref or not simple or _DOT_SEGMENT.search(ref.split("?", 1)[0].split("#", 1)[0]):
            out = _urljoin(base_url, ref)
        elif ref[:1] == "#" and len(ref) > 1:
            out = plain + ref
        elif _SIMPLE_URL.fullmatch(ref):
            out = ref
        elif ref[:1] == "/" and ref[1:2] != "/" and _SIMPLE_ABSOLUTE_PATH.fullmatch(ref):
            out = origin + ref
        elif ref[:1] not in ("/", "?", "#") and _SIMPLE_RELATIVE.fullmatch(ref):
            out = (folder + ref) if ":" not in ref.split("/", 1)[0] else _urljoin(base_url, ref)
        else:
            out = _urljoin(base_url, ref)
        if len(memo) < 10_000:
            memo[ref] = out
        return out

    return join


def absolutise(markup: str, base_url: str) -> str:
    """Sanitised markup (from :func:`prepare_body`) with every URL made absolute against
    ``base_url``. Linear: nh3 writes every attribute double-quoted, with ``<``, ``>`` and
    quotes in values escaped, so a tag is ``<`` to the next ``>``."""
    join = _joiner(base_url)
    same_entry = "#" + ID_PREFIX

    def change(tag: str, attribute: str, value: str) -> str | None:
        if value.startswith(same_entry):
            return value  # (a link to an id of the same entry stays relative)
        url = join(_url_as_published(html.unescape(value)))
        # judged again, absolute: the rule holds for what is published, whatever came
        # (with a slug for the stand-in a parsed body's base holds, see SLUG_MARK)
        if url is None or _keep_url(tag, attribute, url.replace(SLUG_MARK, "slug")) is None:
            return None
        return _escape_attribute(url)

    return rewrite_urls(markup, change).replace("]]>", "]]&gt;")


def clean_html(fragment: str, base_url: str) -> str:
    """Sanitise an HTML fragment and make its URLs absolute against ``base_url``."""
    structured, _ = _structure(fragment, trusted=False)
    return absolutise(_sanitise(_for_html5ever(structured), _keep_url), base_url)


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


def render_body(body: str, body_format: BodyFormat, base_url: str, slug: str = "article") -> str:
    """An article body → clean HTML with absolute URLs (both steps at once), as published for
    the article ``slug`` (see :data:`ID_PREFIX`)."""
    return absolutise(prepare_body(body, body_format).html, base_url).replace(SLUG_MARK, slug)


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
