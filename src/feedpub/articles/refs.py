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

:func:`feedpub.articles.templates.preprocess` writes them for the generators' template syntax
before a body is rendered; :func:`localise` for the relative links left in the rendered body.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable, Iterable
from typing import Protocol
from urllib.parse import quote, unquote

from feedpub.articles.attributes import rewrite_urls
from feedpub.articles.media import is_media

SCHEME = "feedpub-ref:"
KINDS = ("path", "name", "post", "tag", "category")

MAX_MEDIA_BYTES = 64 * 1024 * 1024
"""A larger file is not published (serve it from elsewhere and link to it by URL)."""


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


def split_tail(value: str) -> tuple[str, str]:
    """``x#frag`` → (``x``, ``#frag``); the query goes with the tail too."""
    cut = min((i for i in (value.find("?"), value.find("#")) if i >= 0), default=len(value))
    return value[:cut], value[cut:]


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
        target, tail = split_tail(value)
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
    see :data:`feedpub.articles.sanitise.ID_PREFIX`)."""
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
