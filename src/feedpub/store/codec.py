"""How the state store writes values: times as whole microseconds, article metadata,
problems and a build's result as compact JSON. Pure: values in, text out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from feedpub.model import (
    EPOCH,
    ArticleMeta,
    Author,
    BuildResult,
    Enclosure,
    Problem,
    Severity,
    from_us,
    to_us,
)

__all__ = ["EPOCH", "from_us", "to_us"]


def result_to_json(r: BuildResult) -> str:
    """A build's result as the store keeps it (``last_result``)."""
    return json.dumps(
        {
            "published": r.published,
            "scheduled": r.scheduled,
            "drafts": r.drafts,
            "hidden": r.hidden,
            "next_go_live": r.next_go_live.isoformat() if r.next_go_live else None,
            "next_expiry": r.next_expiry.isoformat() if r.next_expiry else None,
            "problems": [[p.path, p.line, p.message, p.severity.value] for p in r.problems],
            "feeds": list(r.feeds),
        },
        ensure_ascii=False,
    )


def result_from_json(blob: str, *, articles: int, unchanged: int) -> BuildResult:
    d = json.loads(blob)
    return BuildResult(
        articles=articles,
        published=d["published"],
        scheduled=d["scheduled"],
        drafts=d["drafts"],
        hidden=d.get("hidden", 0),
        unchanged=unchanged,
        next_go_live=datetime.fromisoformat(d["next_go_live"]) if d["next_go_live"] else None,
        next_expiry=datetime.fromisoformat(d["next_expiry"]) if d.get("next_expiry") else None,
        problems=tuple(
            Problem(path=p, line=ln, message=m, severity=Severity(s))
            for p, ln, m, s in d["problems"]
        ),
        feeds=tuple(d["feeds"]),
    )


def _iso(dt: datetime) -> str:
    """UTC ISO 8601 with a fixed width, so that text order is time order."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def meta_to_json(meta: ArticleMeta) -> str:
    d: dict[str, Any] = {"t": meta.title}
    if meta.date:
        d["d"] = meta.date.isoformat()
    if meta.updated:
        d["u"] = meta.updated.isoformat()
    if meta.expires:
        d["xp"] = meta.expires.isoformat()
    if meta.categories:
        d["c"] = meta.categories
    if meta.tags:
        d["g"] = meta.tags
    if meta.authors:
        d["a"] = [[a.name, a.email, a.url] for a in meta.authors]
    for key, value in (
        ("s", meta.summary),
        ("i", meta.id),
        ("l", meta.slug),
        ("k", meta.link),
        ("v", meta.via),
        ("lg", meta.lang),
        ("tk", meta.translation_key),
        ("m", meta.image),
        ("du", meta.duration),
        ("ep", meta.episode),
        ("sn", meta.season),
        ("x", meta.explicit),
    ):
        if value is not None:
            d[key] = value
    if meta.draft:
        d["r"] = 1
    if meta.hidden:
        d["h"] = 1
    if meta.refs:
        d["rf"] = [list(r) for r in meta.refs]
    if meta.enclosure:
        e = meta.enclosure
        d["e"] = [e.url, e.type, e.length]
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def meta_from_json(path: str, content_hash: str, blob: str) -> ArticleMeta:
    d = json.loads(blob)
    enc = d.get("e")
    return ArticleMeta(
        path=path,
        title=d["t"],
        date=_dt(d.get("d")),
        updated=_dt(d.get("u")),
        expires=_dt(d.get("xp")),
        categories=tuple(d.get("c", ())),
        tags=tuple(d.get("g", ())),
        authors=tuple(Author(name=a[0], email=a[1], url=a[2]) for a in d.get("a", ())),
        summary=d.get("s"),
        id=d.get("i"),
        slug=d.get("l"),
        draft=bool(d.get("r")),
        hidden=bool(d.get("h")),
        link=d.get("k"),
        via=d.get("v"),
        lang=d.get("lg"),
        translation_key=d.get("tk"),
        refs=tuple((r[0], r[1]) for r in d.get("rf", ())),
        image=d.get("m"),
        enclosure=Enclosure(url=enc[0], type=enc[1], length=enc[2]) if enc else None,
        duration=d.get("du"),
        episode=d.get("ep"),
        season=d.get("sn"),
        explicit=d.get("x"),
        content_hash=content_hash,
    )


def _problems_to_json(problems: Iterable[Problem]) -> str:
    return json.dumps([[p.line, p.message, p.severity.value] for p in problems], ensure_ascii=False)


def _problems_from_json(path: str, blob: str) -> tuple[Problem, ...]:
    return tuple(
        Problem(path=path, line=line, message=msg, severity=Severity(sev))
        for line, msg, sev in json.loads(blob)
    )
