"""Deciding what to store, and what to say about every article and entry (pure): see
:mod:`feedpub.adopt`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from feedpub.adopt.feeds import entry_id, shown
from feedpub.adopt.matching import Match
from feedpub.model import Article, Identity

Status = Literal[
    "adopted", "unchanged", "refused", "kept", "conflict", "unmatched", "ambiguous", "skipped"
]
STATUSES: tuple[Status, ...] = (
    "adopted",
    "unchanged",
    "refused",
    "kept",
    "conflict",
    "unmatched",
    "ambiguous",
    "skipped",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    status: Status
    subject: str  # an article's path, or "<source>: <entry title>"
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Adoption:
    """An identity to store: ``identity`` replaces ``before`` (None: the article is new)."""

    path: str
    identity: Identity
    before: Identity | None
    matches: tuple[Match, ...]


def _entry_subject(m: Match) -> str:
    title = shown(m.entry.title, 60) if m.entry.title.strip() else "(untitled)"
    return f"{m.feed.source}: {title}"


def _entry_facts(m: Match) -> str:
    facts = []
    if m.entry.link:
        facts.append(f"<{shown(m.entry.link)[1:-1]}>")
    if m.entry.published is not None:
        facts.append(m.entry.published.date().isoformat())
    return f" ({', '.join(facts)})" if facts else ""


def how_matched(matches: Sequence[Match]) -> str:
    """``matched by link in old.xml; slug in feed.json``: how an article's entries were
    matched, for the report."""
    ways = sorted({f"{m.how} in {m.feed.source}" for m in matches})
    return "matched by " + "; ".join(ways)


def adopted_identity(
    current: Identity,
    *,
    item_id: str | None,
    atom_id: str | None,
    published: datetime | None,
    now: datetime,
) -> Identity:
    """``current`` with the ids old entries had: ``item_id`` in RSS or JSON Feed, ``atom_id``
    in Atom (at least one of them), and the earliest date they were published.

    What one run does not say, an earlier adoption may have: adopting the Atom feed, then
    the RSS feed, keeps both ids. ``atom_id`` is set exactly when an Atom id was adopted,
    so an adopted ``article_id`` that differs from it (or stands alone) came from RSS or
    JSON Feed and is kept when only an Atom id comes."""
    was = current if current.adopted is not None else None
    atom = atom_id if atom_id is not None else (was.atom_id if was else None)
    item = item_id
    if item is None and was is not None and was.article_id != was.atom_id:
        item = was.article_id
    dates = [d for d in (published, was.first_seen if was else None) if d is not None]
    return replace(
        current,
        article_id=item or atom or "",
        atom_id=atom,
        first_seen=min(dates) if dates else current.first_seen,
        adopted=now,
    )


def decide(
    matches: Sequence[Match],
    articles: Mapping[str, Article],
    identities: Mapping[str, Identity],
    *,
    stored: Mapping[str, Identity],
    published: Callable[[str], bool],
    now: datetime,
    force: bool = False,
) -> tuple[list[Adoption], list[Outcome]]:
    """What to store, and what to say about every article and entry.

    ``articles`` and ``identities``: every article as settled now (``identities`` holds a
    new article's too, not stored yet). ``stored``: the identities in the state store.
    ``published``: whether an article's id (as its stored identity gives it) has appeared in
    a feed feedpub wrote; such an identity is replaced only with ``force``.
    """
    outcomes: list[Outcome] = []
    by_path: dict[str, list[Match]] = {}
    for m in matches:
        if m.path is not None:
            by_path.setdefault(m.path, []).append(m)
        elif m.ambiguous:
            outcomes.append(
                Outcome(
                    status="ambiguous",
                    subject=_entry_subject(m),
                    detail=f"{', '.join(m.ambiguous)} fit it equally{_entry_facts(m)}: not "
                    f"guessed; give the right one `id: {shown(entry_id(m.entry) or '', 200)}` "
                    "in its front matter",
                )
            )
        else:
            outcomes.append(
                Outcome(
                    status="unmatched", subject=_entry_subject(m), detail=m.why + _entry_facts(m)
                )
            )

    # one old id (and Atom id, and date) per article
    proposals: dict[str, tuple[Identity, list[Match]]] = {}
    for path, ms in sorted(by_path.items()):
        usable = [m for m in ms if entry_id(m.entry)]
        for m in ms:
            if not entry_id(m.entry):
                outcomes.append(
                    Outcome(
                        status="skipped",
                        subject=_entry_subject(m),
                        detail=f"has neither an id nor a link: nothing to keep (it is {path})",
                    )
                )
        if not usable:
            continue
        ids: dict[bool, dict[str, list[str]]] = {True: {}, False: {}}  # is Atom → id → sources
        for m in usable:
            ids[m.feed.format == "atom"].setdefault(entry_id(m.entry) or "", []).append(
                m.feed.source
            )
        clash = next((found for found in ids.values() if len(found) > 1), None)
        if clash is not None:
            listed = "; ".join(
                f"{shown(i)} in {', '.join(sorted(set(s)))}" for i, s in sorted(clash.items())
            )
            outcomes.append(
                Outcome(
                    status="conflict",
                    subject=path,
                    detail=f"old entries with different ids match it: {listed}; not adopted",
                )
            )
            continue
        dates = [m.entry.published for m in usable if m.entry.published is not None]
        new = adopted_identity(
            identities[path],
            item_id=next(iter(ids[False]), None),
            atom_id=next(iter(ids[True]), None),
            published=min(dates) if dates else None,
            now=now,
        )
        proposals[path] = (new, usable)

    owners: dict[str, set[str]] = {}  # old id → the articles entries with it match
    for path, ms in by_path.items():
        for m in ms:
            owners.setdefault(entry_id(m.entry) or "", set()).add(path)
    in_use = {a.id: a.path for a in articles.values()}
    adoptions: list[Adoption] = []
    for path, (new, ms) in sorted(proposals.items()):
        a = articles[path]
        article_id = new.article_id
        how = how_matched(ms)
        if len(owners.get(article_id, ())) > 1:
            detail = (
                f"the old id {shown(article_id)} matches {', '.join(sorted(owners[article_id]))}"
                f"; none adopted ({how})"
            )
            outcomes.append(Outcome(status="conflict", subject=path, detail=detail))
            continue
        other = in_use.get(article_id)
        if other is not None and other != path:
            outcomes.append(
                Outcome(
                    status="conflict",
                    subject=path,
                    detail=f"the old id {shown(article_id)} is the id of {other} already; not "
                    f"adopted ({how})",
                )
            )
            continue
        if a.meta.id:
            same = a.meta.id == article_id
            outcomes.append(
                Outcome(
                    status="unchanged" if same else "kept",
                    subject=path,
                    detail=f"its explicit id {shown(a.meta.id)} (front matter) is the old one"
                    if same
                    else f"its explicit id {shown(a.meta.id)} (front matter) wins over the old "
                    f"id {shown(article_id)}; remove it, or write the old one there ({how})",
                )
            )
            continue
        current = identities[path]
        key = (new.article_id, new.atom_id, new.first_seen)
        if (current.article_id, current.atom_id, current.first_seen) == key:
            outcomes.append(
                Outcome(
                    status="unchanged",
                    subject=path,
                    detail=f"has the old id {shown(article_id)} already ({how})",
                )
            )
            continue
        before = stored.get(path)
        if before is not None and published(path) and not force:
            outcomes.append(
                Outcome(
                    status="refused",
                    subject=path,
                    detail=f"its id {shown(a.id)} has appeared in a feed feedpub wrote: "
                    f"--force gives it the old id {shown(article_id)} (and readers of "
                    f"feedpub's feeds see it once more) ({how})",
                )
            )
            continue
        adoptions.append(Adoption(path=path, identity=new, before=before, matches=tuple(ms)))
    return adoptions, outcomes
