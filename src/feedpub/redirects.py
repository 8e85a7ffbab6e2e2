"""Old feed URLs that keep working: ``[feeds] redirects`` answered with ``301``.

A site moved to feedpub had its feeds at other paths (Jekyll's ``feed.xml``, Hugo's
``index.xml``, WordPress's ``feed/``); readers subscribed there must land on the feeds that
replace them, with no second subscription. So each old path answers ``301 Moved
Permanently`` with the absolute URL of its new feed, from the built-in server (:func:`locations`)
and from nginx through an include file written beside the state file
(:func:`write_nginx_include`), never from a page in the output: the old paths are listed
nowhere (not in the OPML, not in the index), so no reader subscribes twice.

The rules (:func:`check`, run when the config is read): sources and targets are paths
relative to ``site.base_url``; a target is a feed feedpub publishes, or at least a path under
the output folder; a source is no path feedpub publishes or serves itself (the index, the
feeds, the OPML, an article's page, ``/hub``, ``/healthz``), and no target of another
redirect (no chains).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from feedpub.output import servable
from feedpub.planning.keys import TAG_SUFFIX, category_key, language_of_key

if TYPE_CHECKING:
    from feedpub.config import Config
    from feedpub.model import FeedFormat

log = logging.getLogger(__name__)

MAX_PATH_CHARS = 512
# A source: segments of unreserved and a few sub-delimiter characters (none that nginx
# would read as a variable or an end of string); a trailing "/" is allowed. The class
# excludes "/", so the repetition cannot backtrack.
_SOURCE = re.compile(r"[A-Za-z0-9._~!+,=:@-]+(?:/[A-Za-z0-9._~!+,=:@-]+)*/?")
_NOT_IN_TARGET = re.compile(r'[\x00-\x20\x7f-\x9f"<>\\^`{|}?#%$]')
_SERVER_PATHS = ("hub", "healthz")  # the daemon answers these itself


def include_path(state: Path) -> Path:
    """The nginx include file: beside the state file, outside the output folder."""
    return state.with_name(state.name + ".redirects.nginx.conf")


def _relpath(path: str) -> str:
    """The output file a URL path names (``feed/`` is ``feed/index.html``)."""
    return path + "index.html" if path.endswith("/") else path


def _segments_ok(path: str) -> bool:
    parts = path.removesuffix("/").split("/")
    return all(p not in ("", ".", "..") for p in parts)


def _is_feed_key(key: str) -> bool:
    """Whether a feed of this key may exist: all, a category's, a tag's, a language's."""
    if key == "all" or language_of_key(key) is not None:
        return True
    name = key.removesuffix(TAG_SUFFIX)
    return category_key(name) == name


def _check_target(
    target: str, formats: tuple[FeedFormat, ...]
) -> str | None:  # the problem, or None
    from feedpub.render.paths import OPML_PATH, feed_file

    if not target or len(target) > MAX_PATH_CHARS:
        return f"a target is a path of 1 to {MAX_PATH_CHARS} characters"
    if target.startswith("/") or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target):
        return f"the target {target!r} must be a path relative to site.base_url, not a URL"
    if _NOT_IN_TARGET.search(target) or not _segments_ok(target):
        return (
            f"the target {target!r} must be a plain path (no spaces, ?, #, %, $, quotes, "
            "empty, . or .. segments)"
        )
    relpath = _relpath(target)
    if not servable(relpath):
        return f"the target {target!r} is a path feedpub never serves"
    if relpath.startswith("feeds/") and relpath != OPML_PATH:
        found = feed_file(relpath)
        fmt = found.fmt if found is not None else None
        if found is None or found.page or not _is_feed_key(found.key):
            return (
                f"the target {target!r} is no feed feedpub publishes (those are "
                "feeds/all.<format>, feeds/<category slug>.<format>, feeds/<tag>.tag.<format>, "
                "feeds/all-<language>.<format>, and feeds/index.opml)"
            )
        if fmt not in formats:
            return f"the target {target!r} is a {fmt} feed, and feeds.formats has no {fmt!r}"
    return None


def _page_pattern(base_url: str, article_url: str) -> re.Pattern[str] | None:
    """The output paths of article pages, whatever their slugs (a slug holds no "/" nor
    "."), or None when pages lie outside the site."""
    url = article_url.format(base_url=base_url, slug="\0")
    if not url.startswith(base_url):
        return None
    rel = url[len(base_url) :].split("#", 1)[0].split("?", 1)[0]
    rel = _relpath(rel) if rel else "index.html"
    return re.compile("[^/.]+".join(re.escape(part) for part in rel.split("\0")))


def _check_source(source: str, base_url: str, article_url: str, article_pages: bool) -> str | None:
    from feedpub.render.paths import INDEX_PATH, OPML_PATH, feed_file

    if len(source) > MAX_PATH_CHARS or not _SOURCE.fullmatch(source) or not _segments_ok(source):
        return (
            f"the old path {source!r} must be a path relative to site.base_url: letters, "
            "digits and -._~!+,=:@ in segments split by / (no empty, . or .. segments)"
        )
    relpath = _relpath(source)
    if not servable(relpath):
        return f"the old path {source!r} is a path feedpub never serves"
    if relpath == INDEX_PATH or source.removesuffix("/") in _SERVER_PATHS:
        return f"the old path {source!r} is feedpub's own (the site index, /hub or /healthz)"
    if relpath == OPML_PATH or feed_file(relpath) is not None:
        return f"the old path {source!r} is where feedpub publishes a feed or the OPML"
    pages = _page_pattern(base_url, article_url) if article_pages else None
    if pages is not None and pages.fullmatch(relpath):
        return (
            f"the old path {source!r} is where an article's page may be published "
            "(site.article_url)"
        )
    return None


def check(
    redirects: Mapping[str, object],
    *,
    formats: tuple[FeedFormat, ...],
    base_url: str,
    article_url: str,
    article_pages: bool,
) -> tuple[tuple[str, str], ...] | str:
    """``[feeds] redirects`` as (old path, new path) pairs, sorted; or the first problem."""
    pairs: list[tuple[str, str]] = []
    for source, target in redirects.items():
        if not isinstance(target, str):
            return f"the old path {source!r} must map to a path (a string), got {target!r}"
        problem = _check_source(source, base_url, article_url, article_pages) or _check_target(
            target, formats
        )
        if problem:
            return problem
        pairs.append((source, target))
    for source, target in pairs:
        if target in redirects:
            return f"the target {target!r} of {source!r} is an old path itself (no chains)"
    return tuple(sorted(pairs))


def location(base_url: str, target: str) -> str:
    """The absolute URL a redirect answers with: ASCII, percent-encoded where a URL needs
    it, and no ``$`` (which nginx would read as a variable)."""
    return quote(base_url, safe=":/?#[]@!&'()*+,;=-._~%") + quote(target, safe="/-._~!&'()*+,;=:@")


def locations(base_url: str, redirects: tuple[tuple[str, str], ...]) -> dict[str, bytes]:
    """URL path → ``Location`` header value, for the built-in server."""
    return {"/" + s: location(base_url, t).encode("ascii") for s, t in redirects}


def nginx_include(base_url: str, redirects: tuple[tuple[str, str], ...]) -> bytes:
    """The nginx include that answers the redirects (``location =`` wins over every other
    location, so an old path is answered even if a file lies there)."""
    lines = [
        "# Written by feedpub from [feeds] redirects on every build that changes them:",
        "# do not edit. deploy/nginx.conf includes it in its server block; reload nginx",
        "# (nginx -s reload) after it changed.",
    ]
    lines += [
        f'location = "/{source}" {{ return 301 "{location(base_url, target)}"; }}'
        for source, target in redirects
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


def write_nginx_include(config: Config) -> Path | None:
    """Write the nginx include beside the state file, atomically, when its bytes change
    (and only when there are redirects, or were). Returns its path when it was written."""
    path = include_path(config.paths.state)
    data = nginx_include(config.site.base_url, config.feeds.redirects)
    try:
        old: bytes | None = path.read_bytes()
    except FileNotFoundError:
        old = None
    if old == data or (old is None and not config.feeds.redirects):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    log.warning("%s: the redirects changed; reload nginx to apply them (nginx -s reload)", path)
    return path
