"""Links between articles, and to files beside them, as other generators write them.

Parsing turns every such link into a **reference**: a URL ``feedpub-ref:KIND:VALUE`` that
stands in the body until the build knows where its target is published
(:func:`resolve_refs`, called with the build's :class:`Lookup`). Kinds:

* ``path:REL``: a file in the articles folder (``REL`` from its root): an article (its URL)
  or a media file beside the articles (published at ``base_url + REL``). Written as a
  relative link (``![a](pic.png)``, ``[b](../2019/other.md)``) or as Pelican's
  ``{filename}``, ``{static}`` and ``{attach}``.
* ``name:X``: an article named loosely (Jekyll's ``{% link %}``, Hugo's ``ref`` and
  ``relref``): the article whose path, without its suffix, ends with ``X``'s.
* ``post:NAME``: Jekyll's ``{% post_url NAME %}``: the article whose file name is ``NAME``.
* ``tag:X`` and ``category:X``: Pelican's ``{tag}`` and ``{category}``: that feed.

:func:`preprocess` rewrites the generators' template syntax in a body before it is rendered:
Liquid (Jekyll), Hugo shortcodes and Pelican's placeholders. What it cannot resolve is removed
cleanly, with a warning naming the line, and never printed raw; inside fenced code and
``{% raw %}`` it is left as written. Everything here is linear in the body's length.
"""

from __future__ import annotations

import html
import posixpath
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, unquote

from feedpub.articles.html import rewrite_urls

SCHEME = "feedpub-ref:"
KINDS = ("path", "name", "post", "tag", "category")

MEDIA_SUFFIXES = frozenset(
    {
        # images (never SVG: it can carry script, and would be served from the site's origin)
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".bmp",
        # audio and video
        ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac",
        ".mp4", ".m4v", ".webm", ".mov", ".ogv",
        # documents and downloads
        ".pdf", ".epub", ".zip", ".gz", ".tgz", ".csv", ".vtt", ".srt",
    }
)  # fmt: skip
"""Files beside the articles that are published when an article points to them."""

MAX_MEDIA_BYTES = 64 * 1024 * 1024
"""A larger file is not published (serve it from elsewhere and link to it by URL)."""

MAX_WARNINGS = 20  # template tags removed: the first ones are named, then a count


def is_media(relpath: str) -> bool:
    return posixpath.splitext(relpath)[1].lower() in MEDIA_SUFFIXES


def is_ref(url: str) -> bool:
    """Whether a URL is a reference as :func:`ref_url` writes them (any other spelling of
    the scheme is no URL a reader could follow)."""
    return url.startswith(SCHEME) and url[len(SCHEME) :].split(":", 1)[0] in KINDS


def ref_url(kind: str, value: str, tail: str = "") -> str:
    """The stand-in URL for a reference (``tail``: a ``?query`` and/or ``#fragment``)."""
    return f"{SCHEME}{kind}:{quote(value, safe='/')}{tail}"


def source_path(article_path: str, ref: str) -> str | None:
    """A reference relative to an article's folder (``/`` first: to the articles folder) →
    the path from the articles folder; None when it leaves the folder."""
    folder = posixpath.dirname(article_path)
    joined = ref[1:] if ref.startswith("/") else posixpath.join(folder, ref)
    out = posixpath.normpath(joined) if joined else ""
    if out in ("", ".", "..") or out.startswith(("../", "/")):
        return None
    return out


# -- before rendering: the generators' template syntax --------------------------------------

_TOKEN = re.compile(
    # (no "{" inside a token, but where it starts no other: a scan from one start stops at
    # the next start; linear)
    r"\{%-?[ \t]*+([A-Za-z_]\w*+)([^%\n{]{0,500}+)%\}"  # Liquid tag (1 name, 2 rest)
    r"|\{\{([<%])/\*([^\n{]{0,1000}?)\*/[>%]\}\}"  # Hugo's escaped shortcode (3, 4)
    # a Hugo shortcode (5 <|%, 6 closing, 7 name, 8 parameters; "{{ x }}" may be inside)
    r"|\{\{([<%])[ \t]*+(/?)[ \t]*+([\w./-]{1,100}+)"
    r"((?:[^\n{>%]|\{(?!\{[<%])|[>%](?!\}\}))*+)[>%]\}\}"
    r"|\{\{(?![<%])-?([^{}\n]{0,500}+)\}\}"  # Liquid output (9)
    # Pelican, where a URL goes: "(" of a Markdown link, an attribute, a reference definition
    r"|(?:(?<=\()|(?<==\")|(?<==')|(?<==)|(?<=\]: ))"
    r"[{|](filename|static|attach|tag|category|index|author)[}|]"  # (10)
    r"|\{::(comment|nomarkdown|options)\b[^}\n]{0,200}+\}",  # kramdown extensions (11)
    re.MULTILINE,
)
_PELICAN_TARGET = re.compile(r"[^\s)\"'<>\]]*+")
_QUOTED = re.compile(r"""\s*+(?:"([^"]*+)"|'([^']*+)'|(\S++))""")
# one parameter at a time, from where the last ended: linear (finditer over the text from
# every position would try each "aaaa..." run again at each of its letters)
_PARAM_AT = re.compile(r"""\s*+(?:(\w++)\s*+=\s*+)?(?:"([^"]*+)"|'([^']*+)'|([^\s"'=]++))""")
_OUTPUT_FILTER = re.compile(
    r"""\s*(?:"([^"]*)"|'([^']*)')\s*\|\s*(relative_url|absolute_url)\s*-?$"""
)
_SITE_URL = re.compile(r"\s*site\.(url|baseurl)\s*-?$")
MAX_PARAMS = 50


@dataclass(frozen=True, slots=True)
class Preprocessed:
    text: str
    warnings: tuple[tuple[int, str], ...]  # (line within the body, from 0; message)


def _split(value: str) -> tuple[str, str]:
    """``x#frag`` → (``x``, ``#frag``); the query goes with the tail too."""
    cut = min((i for i in (value.find("?"), value.find("#")) if i >= 0), default=len(value))
    return value[:cut], value[cut:]


def _first_arg(rest: str) -> str:
    m = _QUOTED.match(rest)
    if m is None:
        return ""
    return next((g for g in m.groups() if g is not None), "")


def _params(rest: str) -> dict[str, str]:
    """A shortcode's named parameters (``src="x" alt='y' id=z``), read left to right."""
    out: dict[str, str] = {}
    pos = 0
    for _ in range(MAX_PARAMS):
        m = _PARAM_AT.match(rest, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m[1]:
            out.setdefault(m[1].lower(), next(g for g in m.groups()[1:] if g is not None))
    return out


# -- code, where template syntax is left as written -----------------------------------------

_FENCE = re.compile(r"^[ \t]*+(`{3,}+|~{3,}+)([^\n]*+)$", re.MULTILINE)
_BACKTICKS = re.compile(r"`++")
_BLANK_LINE = re.compile(r"\n[ \t]*+\n")
_PRE = re.compile(r"<(pre|code)\b[^>]*+>", re.IGNORECASE)
_INDENTED = re.compile(r"^(?: {4}|\t)[^\n]*+$", re.MULTILINE)
_LIST_ITEM = re.compile(r"[ \t]*+(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def _code_spans(text: str, *, markdown: bool = True) -> list[tuple[int, int]]:
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


class _Inside:
    """Whether offsets, asked in increasing order, fall in the spans: linear."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = spans
        self.i = 0

    def __call__(self, offset: int) -> bool:
        while self.i < len(self.spans) and self.spans[self.i][1] <= offset:
            self.i += 1
        return self.i < len(self.spans) and self.spans[self.i][0] <= offset


def preprocess(text: str, *, path: str, base_url: str, markdown: bool = True) -> Preprocessed:
    """A Markdown or HTML body with Liquid, Hugo shortcodes and Pelican placeholders
    rewritten (see the module's notes). Code is left as written."""
    if "{" not in text and "|" not in text:
        return Preprocessed(text, ())
    site = base_url.rstrip("/")
    out: list[str] = []
    warnings: list[tuple[int, str]] = []
    removed = 0
    pos = 0
    in_code = _Inside(_code_spans(text, markdown=markdown))
    line_at = _Lines(text)

    def warn(at: int, message: str) -> None:
        nonlocal removed
        removed += 1
        if removed <= MAX_WARNINGS:
            warnings.append((line_at(at), message))

    missing: dict[str, int] = {}  # closing tags not found after a position: not after any later

    def closing_tag(pattern: re.Pattern[str], start: int) -> re.Match[str] | None:
        if missing.get(pattern.pattern, len(text) + 1) <= start:
            return None
        found = pattern.search(text, start)
        if found is None:
            missing[pattern.pattern] = start
        return found

    for m in _TOKEN.finditer(text):
        if m.start() < pos or in_code(m.start()):
            continue  # inside a block already taken ({% raw %}, {% comment %}), or code
        out.append(text[pos : m.start()])
        pos = m.end()
        if m[1]:  # a Liquid tag
            name, rest = m[1].lower(), m[2].strip().rstrip("-").strip()
            if name in ("raw", "comment"):
                end = closing_tag(_ENDRAW if name == "raw" else _ENDCOMMENT, pos)
                if end is None:
                    warn(m.start(), f"{{% {name} %}} without {{% end{name} %}}: the tag removed")
                    continue
                if name == "raw":
                    out.append(text[pos : end.start()])
                pos = end.end()
            elif name == "post_url" and rest:
                out.append(ref_url("post", rest.split()[0].strip("/")))
            elif name == "link" and rest:
                target, tail = _split(rest.split()[0])
                out.append(ref_url("name", target.strip("/"), tail))
            elif name == "highlight":
                out.append("```" + (rest.split()[0] if rest else ""))
            elif name == "endhighlight":
                out.append("```")
            elif name in ("endraw", "endcomment"):
                pass
            else:
                warn(m.start(), f"Liquid tag {{% {name} %}} removed (feedpub runs no templates)")
        elif m[3]:  # Hugo's way to show a shortcode: {{</* x */>}} is "{{< x >}}" as text
            out.append("{{" + m[3] + m[4] + ("%" if m[3] == "%" else ">") + "}}")
        elif m[5]:  # a Hugo shortcode
            closing, name, rest = m[6], m[7].lower(), m[8]
            if closing:
                continue
            if name in ("ref", "relref"):
                target, tail = _split(_first_arg(rest))
                if target:
                    value = source_path(path, target) if target.startswith("/") else None
                    out.append(
                        ref_url("path", value, tail) if value and "." in value.rsplit("/", 1)[-1]
                        else ref_url("name", target.strip("/"), tail)
                    )  # fmt: skip
                else:
                    warn(m.start(), f"Hugo shortcode {name} without a target removed")
            elif name == "figure":
                out.append(_figure(_params(rest)))
            elif name in ("youtube", "vimeo"):
                video = _params(rest).get("id") or _first_arg(rest)
                site_of = {
                    "youtube": "https://www.youtube.com/watch?v=",
                    "vimeo": "https://vimeo.com/",
                }
                if video:
                    url = html.escape(site_of[name] + quote(video, safe=""))
                    out.append(f'\n\n<p><a href="{url}">{url}</a></p>\n\n')
            elif name == "highlight":  # its content is code, as written
                end = closing_tag(_END_HIGHLIGHT, pos)
                stop = end.start() if end else len(text)
                out.append("\n```" + _first_arg(rest) + "\n" + text[pos:stop].strip("\n"))
                out.append("\n```\n")
                pos = end.end() if end else len(text)
            else:
                warn(m.start(), f"Hugo shortcode {{{{< {name} >}}}} removed (its content is kept)")
        elif m[9] is not None:  # Liquid output
            expr = m[9]
            if _SITE_URL.match(expr):
                # {{ site.url }}{{ site.baseurl }}{% post_url x %}: the reference is absolute
                following = text[pos : pos + 40].lstrip()
                if not following.startswith(("{% post_url", "{%post_url", "{% link", "{{")):
                    out.append(site)
            elif f := _OUTPUT_FILTER.match(expr):
                value = f[1] if f[1] is not None else f[2] or ""
                out.append(site + "/" + value.lstrip("/"))
            else:
                shown = expr.strip()[:60]
                warn(
                    m.start(),
                    f"Liquid output {{{{ {shown} }}}} removed (feedpub runs no templates)",
                )
        elif m[10]:  # Pelican
            kind = m[10]
            if kind == "index":
                out.append(base_url)
                continue
            target_m = _PELICAN_TARGET.match(text, pos)
            raw = target_m[0] if target_m else ""
            pos += len(raw)
            target, tail = _split(unquote(raw))
            if kind in ("tag", "category"):
                out.append(ref_url(kind, target, tail) if target else base_url)
            elif kind == "author":
                out.append(base_url)
            else:
                value = source_path(path, target) if target else None
                out.append(ref_url("path", value, tail) if value else ref_url("name", target, tail))
        elif m[11]:  # kramdown: {::comment}...{:/comment} is gone; {::nomarkdown} kept as is
            if m[11] == "options" or m[0].endswith("/}"):
                continue
            end = closing_tag(re.compile(r"\{:/(?:" + m[11] + r")?\}"), pos)
            if m[11] == "nomarkdown":
                out.append(text[pos : end.start() if end else len(text)])
            pos = end.end() if end else len(text)
    out.append(text[pos:])
    if removed > MAX_WARNINGS:
        warnings.append((warnings[-1][0], f"{removed - MAX_WARNINGS} more template tags removed"))
    return Preprocessed("".join(out), tuple(warnings))


_END_HIGHLIGHT = re.compile(r"\{\{[<%][ \t]*+/[ \t]*+highlight[ \t]*+[>%]\}\}")
_ENDRAW = re.compile(r"\{%-?[ \t]*+endraw[ \t]*+-?%\}")
_ENDCOMMENT = re.compile(r"\{%-?[ \t]*+endcomment[ \t]*+-?%\}")


class _Lines:
    """Offset → line number (from 0), for offsets asked in increasing order: linear."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 0

    def __call__(self, offset: int) -> int:
        if offset < self.pos:
            self.pos, self.line = 0, 0
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def _figure(params: dict[str, str]) -> str:
    src = params.get("src", "")
    if not src:
        return ""
    img = f'<img src="{html.escape(src)}" alt="{html.escape(params.get("alt", ""))}">'
    caption = params.get("caption") or params.get("title") or ""
    link = params.get("link")
    if link:
        img = f'<a href="{html.escape(link)}">{img}</a>'
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"\n\n<figure>{img}{cap}</figure>\n\n"


# -- after rendering: relative links → references ------------------------------------------

_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def localise(markup: str, article_path: str) -> str:
    """Sanitised markup with every relative reference that names a file (``pic.png``,
    ``../2019/other.md``; not ``../other/``, ``#x``, ``?q``, ``/x`` or ``//host``) turned into
    a ``path`` reference from the articles folder. One that leaves the folder is left as
    written (resolved against the article's URL, like the others)."""
    if "=" not in markup:
        return markup

    def change(tag: str, attribute: str, written: str) -> str:
        value = html.unescape(written)
        if not value or value[0] in "#?/" or _HAS_SCHEME.match(value):
            return written
        target, tail = _split(value)
        if "." not in target.rsplit("/", 1)[-1]:
            return written  # "../other/": a URL of the site, not a file (resolved as written)
        rel = source_path(article_path, unquote(target))
        return written if rel is None else html.escape(ref_url("path", rel, tail))

    return rewrite_urls(markup, change)


_REF = re.compile(r"feedpub-ref:([a-z]+):([^\"#?\s<>]*+)([^\"\s<>]*+)")


def refs_in(markup: str) -> list[tuple[str, str]]:
    """The distinct references in a body, in order: (kind, value)."""
    seen: dict[tuple[str, str], None] = {}
    for m in _REF.finditer(markup):
        if m[1] in KINDS:
            seen.setdefault((m[1], unquote(html.unescape(m[2]))), None)
    return list(seen)


# -- in the build: references → URLs ------------------------------------------------------


def _stem(path: str) -> str:
    base, dot, suffix = path.rpartition(".")
    return base if dot and "/" not in suffix else path


def _name(path: str) -> str:
    """A path without its suffix, and a page bundle's (``posts/trip/index.md``) without its
    ``index``: what a name given in a link is compared with."""
    stem = _stem(path)
    folder, _, last = stem.rpartition("/")
    return folder if folder and last.lower() in ("index", "_index") else stem


def name_index(paths: Iterable[str]) -> dict[str, list[str]]:
    """Article paths by name (see :func:`_name`; each list sorted), for :func:`find_by_name`."""
    out: dict[str, list[str]] = {}
    for path in sorted(paths):
        out.setdefault(_name(path).rsplit("/", 1)[-1], []).append(path)
    return out


def find_by_name(index: dict[str, list[str]], name: str, *, by_file_name: bool) -> str | None:
    """The article ``name`` means: the path whose suffix-less form ends with ``name``'s (a
    whole path segment at a time), else the only one of that file name (``_posts/x.md``
    from a site whose articles folder is ``_posts``); ``by_file_name``: the first whose file
    is ``name`` (Jekyll's post_url)."""
    want = _name(name.strip("/"))
    same_name = index.get(want.rsplit("/", 1)[-1], [])
    for path in same_name:
        if by_file_name or "/" not in want or ("/" + _name(path)).endswith("/" + want):
            return path
    return same_name[0] if len(same_name) == 1 else None


class Lookup(Protocol):
    """Where the build finds what references point to."""

    def article_url(self, path: str) -> str | None: ...  # a published article's URL

    def find_article(self, name: str, *, by_file_name: bool) -> str | None: ...  # its path

    def feed_url(self, kind: str, name: str) -> str | None: ...  # a tag's or category's


def target_url(kind: str, value: str, lookup: Lookup, base_url: str) -> str | None:
    """The URL a reference resolves to; None when nothing is there."""
    if kind == "path":
        # an article's URL; else the file, published beside the site (when it exists); an
        # article that is not published (a draft, a future one): nothing, no file name shown
        url = lookup.article_url(value)
        if url is None and not is_media(value):
            return None
        return url or base_url + quote(value)
    if kind in ("name", "post"):
        path = lookup.find_article(value, by_file_name=kind == "post")
        return lookup.article_url(path) if path else None
    if kind in ("tag", "category"):
        return lookup.feed_url(kind, value)
    return None


def resolve_refs(
    markup: str,
    resolve: Callable[[str, str], str | None],
    base_url: str,
    *,
    id_prefix: Callable[[str, str], str | None] = lambda kind, value: None,
    text: bool = False,
) -> str:
    """A body (``text``: plain text, such as an excerpt) with its references replaced by
    URLs (``resolve(kind, value)``); one that resolves to nothing points at where its file
    would be published (an image, a document) or at the site. A ``#fragment`` into another
    article names the id as that article publishes it (``id_prefix``: its slug and ``:``,
    see :mod:`feedpub.articles.body`)."""
    if SCHEME not in markup:
        return markup
    done: dict[str, str] = {}  # (a body may hold the same reference thousands of times)

    def once(m: re.Match[str]) -> str:
        found = done.get(m[0])
        if found is None:
            found = one(m)
            if len(done) < 10_000:
                done[m[0]] = found
        return found

    def one(m: re.Match[str]) -> str:
        kind, raw, tail = m[1], m[2], html.unescape(m[3])
        kept = raw.rstrip(".,;:!?)") if text else raw  # (prose: "see feedpub-ref:post:x.")
        after = raw[len(kept) :]
        value = unquote(html.unescape(kept))
        url = resolve(kind, value) if kind in KINDS else None
        if url is None:
            url = base_url + quote(value) if kind == "path" and is_media(value) else base_url
            tail = ""
        elif tail.startswith("#") and (prefix := id_prefix(kind, value)):
            tail = "#" + prefix + tail[1:]
        out = url + tail if "#" not in url else url
        return (out if text else html.escape(out)) + after

    return _REF.sub(once, markup)
