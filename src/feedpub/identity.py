"""Settling each article's permanent id, slug, date and URL. Pure: state in, state out.

* An explicit ``id`` wins. Otherwise an id is derived once, when the article is first seen
  (``tag:<host>,<date>:<slug>``, RFC 4151), stored, and never derived again: editing the title,
  touching the file, a rebuild from scratch or a restart leave it alone.
* Atom ids must be absolute IRIs (RFC 4287 4.2.6). An explicit id that is not one (``post-42``,
  ``12345``: common in Jekyll, Hugo and CMS exports) gets an Atom id built from it once,
  ``tag:<host>,<first-seen date>:<id>``, stored with the identity and kept for good; RSS guids
  and JSON Feed ids carry the explicit id as written, which is valid there.
* An adopted id (``feedpub adopt``: the entry id an article had in the old site's feeds, and
  the date it was published there, stored as its identity) is kept as a derived one is, and
  comes second to an explicit ``id`` only: RSS guids and JSON Feed ids carry it as it was; the
  Atom id is the old Atom feed's id (stored beside it, when an Atom feed was adopted), else
  the adopted id, each made an IRI as an explicit id is when it is none.
* A moved or renamed file (same bytes at a new path, old path gone) keeps its identity, and so
  does a deleted file that comes back.
* Slugs come from ``slug``, else the file name (without a ``YYYY-MM-DD-`` prefix); two articles
  never share one (the later one gets ``-2``, ``-3``...), and a slug once given is kept.
* No date: the file name's, else the first-seen time.

Works on a batch (the files that changed); the caller supplies what the state store knows about
them, so a rebuild costs O(changed), not O(corpus).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from urllib.parse import quote

from feedpub.articles.dates import date_from_filename
from feedpub.model import Article, ArticleMeta, Identity, Problem, Severity
from feedpub.planning import other_language
from feedpub.slug import slugify


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    articles: tuple[Article, ...]  # the batch, settled (drafts and future ones included)
    identities: tuple[Identity, ...]  # new or changed identities to store
    retired: tuple[str, ...]  # paths whose stored identity moved to another path
    slugs: frozenset[str]  # slugs the batch now uses
    problems: tuple[Problem, ...]
    atom_ids: Mapping[str, str] = field(default_factory=dict)  # new: explicit id -> Atom id


def _file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _stem_slug(path: str, lang: str | None = None) -> str:
    stem = _file_name(path).rsplit(".", 1)[0]
    if lang and stem.lower().endswith("." + lang):  # Hugo's "about.fr.md": "about", in French
        stem = stem[: -len(lang) - 1]
    if stem.lower() in ("index", "_index") and "/" in path:  # a page bundle (Hugo): its folder's
        stem = path.rsplit("/", 2)[-2]
    if date_from_filename(stem + "-", UTC) is not None:
        stem = stem[11:] or stem
    return slugify(stem, fallback_prefix="article")


def wanted_slug(meta: ArticleMeta, language: str = "en") -> str:
    """The slug an article asks for: its ``slug``, else its file name's (it may get another
    when that one is taken). A translation (an article in another ``language`` than the
    site's) asks for its original's with its language after it (``hello-fr``), as Pelican
    names translations: sharing a slug with the original is how Pelican writes them."""
    slug = meta.slug or _stem_slug(meta.path, meta.lang)
    lang = other_language(meta.lang, language)
    if lang is not None and not slug.endswith("-" + lang):
        slug = f"{slug}-{lang}"
    return slug


def _unique(base: str, taken: Set[str], tried: dict[str, int]) -> str:
    """``base``, or ``base-2``, ``base-3``... the first not ``taken``. ``tried`` remembers where
    each base's search got to, so a batch of thousands of ``index.md`` stays linear."""
    if base not in taken:
        return base
    n = tried.get(base, 2)
    while f"{base}-{n}" in taken:
        n += 1
    tried[base] = n + 1
    return f"{base}-{n}"


def _slug_taken(path: str, wanted: str, used: str) -> Problem:
    return Problem(
        path=path,
        message=f"slug {wanted!r} is already used by another article; using {used!r}",
        severity=Severity.WARNING,
    )


def derived_id(host: str, day: str, slug: str) -> str:
    return f"tag:{host},{day}:{slug}"


# RFC 3987 absolute-IRI: a scheme, ":", then IRI characters only (no space, no <>"{}|\^`,
# no controls, no noncharacters, none of the bidi formatting characters it forbids), every
# "%" starting an escape, at most one "#". (Square brackets, which only an IPv6 host may
# hold, are refused: such an id gets a tag IRI made from it.)
_UCS = (
    "\u00a0-\u061b\u061d-\u200d\u2010-\u2029\u202f-\u2065\u206a-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    + "".join(f"{chr(plane << 16)}-{chr((plane << 16) | 0xFFFD)}" for plane in range(1, 15))
)
_IRI_CHARS = rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?{_UCS}]|%[0-9A-Fa-f]{{2}})*+"
_IRI = re.compile(rf"[A-Za-z][A-Za-z0-9+.-]*+:{_IRI_CHARS}(?:#{_IRI_CHARS})?")
_TAG_SPECIFIC_SAFE = "-._~!$&'()*+,;=:@/?"  # RFC 4151: pchar, "/" and "?"


def is_absolute_iri(text: str) -> bool:
    """Whether ``text`` is an absolute IRI (RFC 3987), as an Atom id must be."""
    return _IRI.fullmatch(text) is not None


def atom_id_for(explicit: str, host: str, day: str) -> str:
    """The Atom id for an explicit id that is not an absolute IRI: a tag URI (RFC 4151) whose
    specific part is ``id/`` and the id, percent-encoded where a URI needs it. (A derived id's
    specific part is a slug, which never holds a ``/``: the two never meet.)"""
    return f"tag:{host},{day}:id/{quote(explicit, safe=_TAG_SPECIFIC_SAFE)}"


def _atom_source(meta: ArticleMeta, ident: Identity) -> str | None:
    """What the Atom id is made from: the explicit id, else the adopted one (the old Atom
    id, else the old id); None for a derived id, which is its own Atom id."""
    if meta.id:
        return meta.id
    if ident.adopted is None:
        return None
    return ident.atom_id or ident.article_id


def atom_id_keys(metas: Iterable[ArticleMeta], identities: Iterable[Identity]) -> set[str]:
    """The ids that are no IRIs among those Atom ids may be made from (the articles' explicit
    ids, and the ids adopted by these identities): what to look up in the store's ``atom_ids``
    for :func:`resolve`."""
    keys = {m.id for m in metas if m.id}
    for i in identities:
        if i.adopted is not None:
            keys.add(i.atom_id or i.article_id)
    return {k for k in keys if not is_absolute_iri(k)}


def resolve(
    metas: Iterable[ArticleMeta],
    known: Mapping[str, Identity],
    *,
    orphans: Mapping[str, Identity],
    taken: Set[str],
    now: datetime,
    tz: tzinfo,
    host: str,
    article_url: str,
    base_url: str,
    atom_ids: Mapping[str, str] | None = None,
    language: str = "en",
) -> Resolved:
    """Settle a batch of parsed articles.

    ``known``: the stored identities of the batch's paths. ``orphans``: content hash → stored
    identity of a file that is gone (a moved file with those bytes takes it). ``taken``: slugs
    in use by live articles outside the batch. ``atom_ids``: explicit (or adopted) id → the
    Atom id made from it before (kept by that id, so a renamed and edited file keeps it too).
    """
    made: dict[str, str] = {}
    tried: dict[str, int] = {}
    metas = sorted(metas, key=lambda m: m.path)
    taken_now = set(taken)
    orphans_left = dict(orphans)
    changed: list[Identity] = []
    retired: list[str] = []
    problems: list[Problem] = []
    articles: list[Article] = []
    # the batch's own stored slugs stay theirs
    taken_now.update(known[m.path].slug for m in metas if m.path in known)
    for meta in metas:
        stored = known.get(meta.path)
        ident = stored
        if ident is None and meta.content_hash in orphans_left:
            old = orphans_left.pop(meta.content_hash)
            retired.append(old.path)
            ident = replace(old, path=meta.path, live=True)
            if ident.slug in taken_now:  # a new article took the slug while this one was away
                ident = replace(ident, slug=_unique(ident.slug, taken_now, tried))
            taken_now.add(ident.slug)
        if ident is None:
            wanted = wanted_slug(meta, language)
            slug = _unique(wanted, taken_now, tried)
            taken_now.add(slug)
            if meta.slug and slug != wanted:
                problems.append(_slug_taken(meta.path, wanted, slug))
            when = meta.date or date_from_filename(_file_name(meta.path), tz) or now
            ident = Identity(
                path=meta.path,
                article_id=derived_id(host, when.astimezone(tz).date().isoformat(), slug),
                slug=slug,
                first_seen=now,
                content_hash=meta.content_hash,
            )
        wanted = wanted_slug(meta, language)
        if meta.slug and wanted != ident.slug and not ident.slug.startswith(wanted + "-"):
            if wanted in taken_now:
                problems.append(_slug_taken(meta.path, wanted, ident.slug))
            else:
                taken_now.discard(ident.slug)
                taken_now.add(meta.slug)
                ident = replace(ident, slug=meta.slug)
        if not ident.live or ident.content_hash != meta.content_hash:
            ident = replace(ident, content_hash=meta.content_hash, live=True)
        source = _atom_source(meta, ident)
        atom = ident.article_id if source is None else source  # (a derived id is its own)
        if source is not None and not is_absolute_iri(source):
            known_atom = (atom_ids or {}).get(source) or made.get(source)
            if known_atom is None:
                day = ident.first_seen.astimezone(tz).date().isoformat()
                known_atom = made[source] = atom_id_for(source, host, day)
            atom = known_atom
        if stored != ident:
            changed.append(ident)
        date = meta.date or date_from_filename(_file_name(meta.path), tz) or ident.first_seen
        articles.append(
            Article(
                meta=meta,
                date=date,
                id=meta.id or ident.article_id,
                atom_id=atom,
                slug=ident.slug,
                url=meta.link or article_url.format(base_url=base_url, slug=ident.slug),
            )
        )
    return Resolved(
        articles=tuple(articles),
        identities=tuple(changed),
        retired=tuple(retired),
        slugs=frozenset(a.slug for a in articles),
        problems=tuple(problems),
        atom_ids=made,
    )
