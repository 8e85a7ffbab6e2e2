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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, unquote

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
    # (no "{" inside a token: a scan from one start stops at the next; linear)
    r"\{%-?[ \t]*+([A-Za-z_]\w*+)([^%\n{]{0,500}+)%\}"  # Liquid tag (1 name, 2 rest)
    r"|\{\{([<%])[ \t]*+(/?)[ \t]*+([\w./-]{1,100}+)((?:[^\n{>%]|[>%](?!\}\}))*+)[>%]\}\}"
    r"|\{\{(?![<%])-?([^{}\n]{0,500}+)\}\}"  # Liquid output (7)
    r"|[{|](filename|static|attach|tag|category|index|author)[}|]"  # Pelican (8)
    r"|^(?P<fence>[ ]{0,3}(?:`{3,}|~{3,}))"  # a code fence (9)
    r"|`[^`\n]*+`",  # an inline code span
    re.MULTILINE,
)
_PELICAN_TARGET = re.compile(r"[^\s)\"'<>\]]*+")
_QUOTED = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_PARAM = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_OUTPUT_FILTER = re.compile(
    r"""\s*(?:"([^"]*)"|'([^']*)')\s*\|\s*(relative_url|absolute_url)\s*-?$"""
)
_SITE_URL = re.compile(r"\s*site\.(url|baseurl)\s*-?$")


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
    out: dict[str, str] = {}
    for m in _PARAM.finditer(rest):
        out.setdefault(m[1].lower(), next(g for g in m.groups()[1:] if g is not None))
    return out


def preprocess(text: str, *, path: str, base_url: str) -> Preprocessed:
    """A Markdown or HTML body with Liquid, Hugo shortcodes and Pelican placeholders
    rewritten (see the module's notes)."""
    if "{" not in text and "|" not in text:
        return Preprocessed(text, ())
    site = base_url.rstrip("/")
    out: list[str] = []
    warnings: list[tuple[int, str]] = []
    removed = 0
    pos = 0
    fence: str | None = None  # the open code fence's marker
    line_at = _Lines(text)

    def warn(at: int, message: str) -> None:
        nonlocal removed
        removed += 1
        if removed <= MAX_WARNINGS:
            warnings.append((line_at(at), message))

    def skip_to(closing: re.Pattern[str], start: int) -> re.Match[str] | None:
        return closing.search(text, start)

    for m in _TOKEN.finditer(text):
        if m.start() < pos:
            continue  # inside a block already taken ({% raw %}, {% comment %})
        token = m[0]
        if m["fence"]:
            marker = m["fence"].strip()
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None or token.startswith("`"):
            continue  # code: as written
        out.append(text[pos : m.start()])
        pos = m.end()
        if m[1]:  # a Liquid tag
            name, rest = m[1].lower(), m[2].strip().rstrip("-").strip()
            if name == "raw":
                end = skip_to(_ENDRAW, pos)
                stop = end.start() if end else len(text)
                out.append(text[pos:stop])
                pos = end.end() if end else len(text)
            elif name == "comment":
                end = skip_to(_ENDCOMMENT, pos)
                pos = end.end() if end else len(text)
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
        elif m[3]:  # a Hugo shortcode
            closing, name, rest = m[4], m[5].lower(), m[6]
            if closing:
                if name == "highlight":
                    out.append("```")
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
                    url = site_of[name] + quote(video, safe="")
                    out.append(f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>')
            elif name == "highlight":
                out.append("```" + _first_arg(rest))
            else:
                warn(m.start(), f"Hugo shortcode {{{{< {name} >}}}} removed (its content is kept)")
        elif m[7] is not None:  # Liquid output
            expr = m[7]
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
        elif m[8]:  # Pelican
            kind = m[8]
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
    out.append(text[pos:])
    if removed > MAX_WARNINGS:
        warnings.append((warnings[-1][0], f"{removed - MAX_WARNINGS} more template tags removed"))
    return Preprocessed("".join(out), tuple(warnings))


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
    return f"\n<figure>{img}{cap}</figure>\n"


# -- after rendering: relative links → references ------------------------------------------

_START_TAG = re.compile(r"<[a-z][a-z0-9]*+ [^>]*+>")
_URL_ATTR = re.compile(r' (href|src|poster)="([^"]*+)"')
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def localise(markup: str, article_path: str) -> str:
    """Sanitised markup with every relative reference that names a file (``pic.png``,
    ``../2019/other.md``; not ``../other/``, ``#x``, ``?q``, ``/x`` or ``//host``) turned into
    a ``path`` reference from the articles folder. One that leaves the folder is left as
    written (resolved against the article's URL, like the others)."""
    if "=" not in markup:
        return markup

    def attribute(a: re.Match[str]) -> str:
        value = html.unescape(a[2])
        if not value or value[0] in "#?/" or _HAS_SCHEME.match(value):
            return a[0]
        target, tail = _split(value)
        if "." not in target.rsplit("/", 1)[-1]:
            return a[0]  # "../other/": a URL of the site, not a file (resolved as written)
        rel = source_path(article_path, unquote(target))
        if rel is None:
            return a[0]
        return f' {a[1]}="{html.escape(ref_url("path", rel, tail))}"'

    return _START_TAG.sub(lambda m: _URL_ATTR.sub(attribute, m[0]), markup)


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


def name_index(paths: Iterable[str]) -> dict[str, list[str]]:
    """Article paths by file name without suffix (each list sorted), for :func:`find_by_name`."""
    out: dict[str, list[str]] = {}
    for path in sorted(paths):
        out.setdefault(_stem(path).rsplit("/", 1)[-1], []).append(path)
    return out


def find_by_name(index: dict[str, list[str]], name: str, *, by_file_name: bool) -> str | None:
    """The article ``name`` means: the path whose suffix-less form ends with ``name``'s (a
    whole path segment at a time), else the only one of that file name (``_posts/x.md``
    from a site whose articles folder is ``_posts``); ``by_file_name``: the first whose file
    is ``name`` (Jekyll's post_url)."""
    want = _stem(name.strip("/"))
    same_name = index.get(want.rsplit("/", 1)[-1], [])
    for path in same_name:
        if by_file_name or "/" not in want or ("/" + _stem(path)).endswith("/" + want):
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
        # an article's URL; else the file, published beside the site (when it exists)
        return lookup.article_url(value) or base_url + quote(value)
    if kind in ("name", "post"):
        path = lookup.find_article(value, by_file_name=kind == "post")
        return lookup.article_url(path) if path else None
    if kind in ("tag", "category"):
        return lookup.feed_url(kind, value)
    return None


def resolve_refs(markup: str, resolve: Callable[[str, str], str | None], base_url: str) -> str:
    """A body with its references replaced by URLs (``resolve(kind, value)``); one that
    resolves to nothing points at ``base_url + value`` (a path) or the site."""
    if SCHEME not in markup:
        return markup

    def one(m: re.Match[str]) -> str:
        kind, value = m[1], unquote(html.unescape(m[2]))
        url = resolve(kind, value) if kind in KINDS else None
        if url is None:
            url = base_url + quote(value) if kind == "path" else base_url
        return html.escape(url + html.unescape(m[3]) if "#" not in url else url)

    return _REF.sub(one, markup)
