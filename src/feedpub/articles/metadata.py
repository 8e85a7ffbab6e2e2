"""An article's fields (front matter of any format, headers, a document's own fields) →
:class:`~feedpub.model.ArticleMeta` keyword arguments: every field goes through one
normaliser (:func:`normalise`), whatever format it came from, so YAML's surprises
(unquoted dates, ``no`` as ``False``, numbers) are handled in one place. The names files use
for each field (Jekyll's, Hugo's, Pelican's) are :data:`_ALIASES`.
"""

from __future__ import annotations

from typing import Any

from feedpub.articles.document import capped
from feedpub.articles.episode import as_duration, as_enclosure, as_explicit, as_number
from feedpub.articles.fields import (
    FALSE,
    TRUE,
    Fields,
    as_bool,
    as_date,
    as_label,
    as_language,
    as_text,
    as_url,
    language_in_name,
)
from feedpub.articles.headers import near_miss, plausible
from feedpub.articles.names import as_authors, as_names
from feedpub.slug import slugify

# Every field a feed repeats is bounded (copied into every feed the article is in, in every
# format); URLs in fields.py, names in names.py:
MAX_SUMMARY_CHARS = 2000
MAX_TITLE_CHARS = 1000
MAX_ID_CHARS = 1000

_ALIASES = {
    "title": "title",
    "date": "date",
    "pubdate": "date",
    "created": "date",
    "published": "published",
    "publishdate": "publish_date",  # Hugo's publishDate
    "expirydate": "expires",  # Hugo's expiryDate (and its alias unpublishdate)
    "unpublishdate": "expires",
    "updated": "updated",
    "modified": "updated",
    "lastmod": "updated",
    "last_modified": "updated",
    "categories": "categories",
    "category": "categories",
    "tags": "tags",
    "tag": "tags",
    "keywords": "tags",
    "author": "authors",
    "authors": "authors",
    "summary": "summary",
    "description": "summary",
    "excerpt": "summary",
    "id": "id",
    "guid": "id",
    "slug": "slug",
    "draft": "draft",
    "status": "status",
    "link": "link",
    "external_url": "link",
    "source": "via",
    "via": "via",
    "original": "via",
    "image": "image",
    "lang": "lang",
    "language": "lang",
    "translationkey": "translation_key",
    "translation_key": "translation_key",
    "enclosure": "enclosure",
    "duration": "duration",
    "episode": "episode",
    "season": "season",
    "explicit": "explicit",
}
# Fields a plain-text header block may not start with, and whose near misses are no typos:
# ordinary words that headlines begin with ("Episode: The return", "Reason: ..."). Inside a
# header block (and in front matter) they are read like any field.
_EPISODE_KEYS = frozenset(["duration", "episode", "season", "explicit"])
KNOWN_KEYS = frozenset(_ALIASES) - _EPISODE_KEYS  # the fields that start a header block
# A suggested key as people write it (Hugo's camelCase), capitalised when the file's key is
_SHOWN = {
    "publishdate": "publishDate",
    "expirydate": "expiryDate",
    "unpublishdate": "unpublishDate",
    "translationkey": "translationKey",
}


def _misspelt_keys(f: Fields) -> None:
    """Warn about each key one typo away from a field (``dat:``, ``catgories:``, ``Titel:``),
    naming its line and the field it probably meant: such a key is ignored, and the article
    would go out without its date or categories. Other unknown keys are the site's own, and
    stay silent. (In a header block, no key is taken for a misspelt episode field: headlines
    begin with those words.)"""
    known = KNOWN_KEYS if f.fm.kind == "headers" else frozenset(_ALIASES)
    notes: list[tuple[int | None, str]] = []
    for key, value in f.fm.data.items():
        meant = None if key in _ALIASES else near_miss(key, known)
        if meant is None or not plausible(meant, value):
            continue
        written = f.fm.written.get(key, key)
        shown = _SHOWN.get(meant, meant)
        if written[:1].isupper():
            shown = shown[0].upper() + shown[1:]
        notes.append((f.fm.line(key), f"unknown key `{written}`; did you mean `{shown}`?"))
    for line, message in capped(notes):
        f.warn(None, message, line=line)


def normalise(f: Fields) -> dict[str, Any]:
    """Front matter (any format) → ArticleMeta keyword arguments."""
    merged: dict[str, list[Any]] = {}
    jekyll_post = f.fm.kind != "headers" and (
        "/_posts/" in "/" + f.path
        or (f.ctx.root is not None and f.ctx.root.rstrip("/").endswith("/_posts"))
    )
    for key, given in f.fm.data.items():
        canonical = _ALIASES.get(key)
        value = given
        if jekyll_post and key in ("categories", "tags") and isinstance(given, str):
            value = given.split()  # Jekyll: "categories: jekyll update" is two of them
        if canonical is not None:
            merged.setdefault(canonical, []).append(value)
            f.spelled.setdefault(canonical, key)

    _misspelt_keys(f)

    def one(key: str) -> Any:
        values = merged.get(key)
        return None if not values else values[0]

    out: dict[str, Any] = {}
    title = one("title")
    if title is not None:
        text = as_text(title)
        if text is None:
            raise f.fail("title", f"{title!r} is not a title")
        text = as_label(f, "title", text)
        if len(text) > MAX_TITLE_CHARS:
            f.warn("title", f"title longer than {MAX_TITLE_CHARS} characters; shortened")
            text = text[:MAX_TITLE_CHARS].rstrip() + "…"
        if text:
            out["title"] = text
        else:
            f.warn("title", "title is empty")
    published = one("published")
    if isinstance(published, bool) or (
        isinstance(published, str) and published.strip().lower() in TRUE | FALSE
    ):
        out["draft"] = not as_bool(f, "published", published)
    elif published is not None and one("date") is None:
        out["date"] = as_date(f, "published", published, or_file_name=True)
    if one("date") is not None:
        out["date"] = as_date(f, "date", one("date"), or_file_name=True)
    if one("publish_date") is not None:  # Hugo: when it goes live, if later than its date
        goes_live = as_date(f, "publish_date", one("publish_date"))
        if goes_live is not None and (out.get("date") is None or goes_live > out["date"]):
            out["date"] = goes_live
    if one("updated") is not None:
        out["updated"] = as_date(f, "updated", one("updated"))
    if one("expires") is not None:
        if as_text(one("expires")) == "":  # (an empty expiryDate: it never expires)
            f.warn("expires", "expiryDate is empty; ignored")
        else:
            out["expires"] = as_date(f, "expires", one("expires"))
    for key in ("categories", "tags"):
        if key in merged:
            names: list[str] = []
            for value in merged[key]:
                names.extend(as_names(f, key, value))
            out[key] = tuple(dict.fromkeys(names))
    if one("authors") is not None:
        out["authors"] = as_authors(f, one("authors"))
    summary = one("summary")
    if summary is not None:
        text = as_text(summary) or None
        if text and len(text) > MAX_SUMMARY_CHARS:
            f.warn("summary", f"summary longer than {MAX_SUMMARY_CHARS:,} characters; shortened")
            text = text[:MAX_SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
        out["summary"] = text
    ident = one("id")
    if ident is not None:
        text = as_text(ident)
        if not text or len(text) > MAX_ID_CHARS:
            raise f.fail("id", f"{ident!r} is not a usable id")
        out["id"] = text
    slug = one("slug")
    if slug is not None:
        text = as_text(slug)
        if not text:
            f.warn("slug", f"slug: {slug!r} is not a slug; ignored")
        else:
            out["slug"] = slugify(text, fallback_prefix="article")
    if one("draft") is not None:
        out["draft"] = as_bool(f, "draft", one("draft")) or out.get("draft", False)
    status = (as_text(one("status")) or "").lower()
    if status in ("draft", "private", "unpublished", "skip"):  # (Pelican's skip: never published)
        out["draft"] = True
    elif status == "hidden":  # Pelican: its page is published, it is in no feed or index
        out["hidden"] = True
    if out.get("draft") and f.ctx.drafts:  # (the preview's --drafts: shown as if published)
        del out["draft"]
    if one("link") is not None:
        out["link"] = as_url(f, "link", one("link"))
    if one("via") is not None:
        out["via"] = as_url(f, "via", one("via"))
    lang = as_language(f, "lang", one("lang")) if one("lang") is not None else None
    if lang is None:  # Hugo's translations by file name: "about.fr.md"
        lang = language_in_name(f.path, f.ctx.languages)
    if lang is not None:
        out["lang"] = lang
    if one("translation_key") is not None:
        shared = as_text(one("translation_key"))
        if shared and len(shared) <= MAX_ID_CHARS:
            out["translation_key"] = shared
        else:
            f.warn("translation_key", f"translationKey: {one('translation_key')!r} ignored")
    if one("image") is not None:
        out["image"] = as_url(f, "image", one("image"))
    if one("enclosure") is not None:
        out["enclosure"] = as_enclosure(f, one("enclosure"))
    if one("duration") is not None:
        out["duration"] = as_duration(f, one("duration"))
    for key in ("episode", "season"):
        if one(key) is not None:
            out[key] = as_number(f, key, one(key))
    if one("explicit") is not None:
        out["explicit"] = as_explicit(f, one("explicit"))
    return out
