"""What the state store says about a site, for the operator: the one home of ``feedpub
status`` (text and ``--json``) and of the admin listener's ``/status`` page, so that the
two never disagree. Readable while a daemon runs.

Nothing secret leaves here: the state store's URL has its password hidden, and every URL
from the outbox (a weblogUpdates endpoint, a subscriber's callback) has its password and
its query's values hidden (:func:`shown_url`): an operator's page is seen by more people
than the config. Lists are bounded (:data:`LIST_LIMIT`); their totals are given beside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedpub.config import Config
from feedpub.errors import printable
from feedpub.model import BuildRecord, Problem, Severity
from feedpub.redaction import shown_url
from feedpub.store import State

LIST_LIMIT = 50  # scheduled articles, subscription topics shown
PROBLEM_PATHS_LIMIT = 200  # articles whose problems are listed one by one


def _build(b: BuildRecord) -> dict[str, object]:
    return {
        "started_at": b.started_at.isoformat(),
        "duration_ms": b.duration_ms,
        "outcome": b.outcome,
        "articles": b.articles,
        "published": b.published,
        "scheduled": b.scheduled,
        "drafts": b.drafts,
        "feeds": b.feeds,
        "written": b.written,
        "removed": b.removed,
        "errors": b.errors,
        "warnings": b.warnings,
        "error": b.error,
    }


def _notifications(rows: object) -> list[dict[str, Any]]:
    assert isinstance(rows, list)
    return [{**r, "target": shown_url(str(r["target"]))} for r in rows]


def read_status(
    config: Config, *, now: datetime, open_state: Callable[[], State] | None = None
) -> dict[str, object]:
    """What the state store knows: who runs, the last builds, the articles, the problems,
    what goes live next, the notifications and the hub's subscriptions."""
    from feedpub.locks import running_daemon_pid
    from feedpub.store.codec import result_from_json, to_us
    from feedpub.store.db import redact

    info: dict[str, object] = {"state": redact(config.state_target)}
    if isinstance(config.state_target, Path):
        pid = running_daemon_pid(config.paths.state)
        info["daemon"] = f"running (pid {pid})" if pid else "not running"
        if not config.state_target.exists():
            info["last_build"] = None
            return info
    with (open_state or (lambda: State(config.state_target)))() as state:
        if state.postgres:
            leader = state.leader()
            if leader is None:
                info["daemon"] = "no daemon leads"
            elif not leader:
                info["daemon"] = "a daemon leads (it is starting up)"
            else:
                info["daemon"] = "leader: {host} pid {pid}, {url} (since {since})".format_map(
                    {"host": "?", "pid": "?", "url": "?", "since": "?", **leader}
                )
                info["url"] = leader.get("url")
        else:
            serving = json.loads(state.get("serving") or "{}")
            if serving and info.get("daemon") == f"running (pid {serving.get('pid')})":
                info["daemon"] = f"running (pid {serving['pid']}) at {serving['url']}"
                info["url"] = serving["url"]
        counts = state.counts()
        blob = state.get("last_result")
        last = result_from_json(blob, articles=0, unchanged=0) if blob else None
        info["last_build"] = state.get("last_build")
        info["articles"] = counts["articles"]
        info["published"] = last.published if last else None
        info["scheduled"] = last.scheduled if last else None
        info["drafts"] = last.drafts if last else None
        info["feeds"] = len(last.feeds) if last else 0
        info["next_go_live"] = state.get("next_go_live")
        problems = last.problems if last else ()
        info["problems"] = [str(p) for p in problems]
        by_path: dict[str, list[dict[str, object]]] = {}
        for p in problems:
            by_path.setdefault(p.path, []).append(
                {"line": p.line, "severity": p.severity.value, "message": p.message}
            )
        info["problems_by_article"] = [
            {"path": path, "problems": found}
            for path, found in list(by_path.items())[:PROBLEM_PATHS_LIMIT]
        ]
        info["articles_with_problems"] = len(by_path)
        info["scheduled_articles"] = [
            {"path": path, "title": title, "goes_live": at.isoformat()}
            for path, title, at in state.scheduled_articles(to_us(now), LIST_LIMIT)
        ]
        info["builds"] = [_build(b) for b in state.recent_builds()]
        outbox = state.outbox_report()
        info["notifications"] = {k: outbox[k] for k in ("pending", "done", "failed")}
        info["pending_notifications"] = _notifications(outbox["pending_list"])
        info["failed_notifications"] = _notifications(outbox["failed_list"])
        info["recent_notifications"] = _notifications(outbox["recent"])
        info["waiting_by_target"] = _notifications(state.waiting_by_target(LIST_LIMIT))
        active, expired, topics = state.subscription_tally(now)
        info["subscriptions"] = {
            "active": active,
            "expired": expired,
            "topics": topics,
            "by_topic": [
                {"topic": topic, "active": n}
                for topic, n in state.subscriptions_by_topic(now, LIST_LIMIT)
            ],
        }
    return info


# -- in prose, for `feedpub status` ---------------------------------------------------------


def status_lines(
    info: dict[str, object], *, now: datetime, articles: Path | None = None, cwd: Path | None = None
) -> list[str]:
    """:func:`read_status` in prose, for a terminal: a line per fact, then the lists
    (problems by file, notifications waiting by target, the last builds). Every text
    from outside (file names, titles, a hub's error) is shown escaped: it cannot send the
    terminal an escape sequence or start a line of its own."""
    info = _printable(info)
    out: list[str] = [f"daemon: {info.get('daemon', 'not running')}"]
    out.append(f"state: {info['state']}")
    builds = _dicts(info.get("builds"))
    if builds:
        b = builds[0]
        out.append(f"last build: {_when(str(b['started_at']), now)}, {_build_line(b)}")
    changed = info.get("last_build")
    if changed:
        out.append(f"last change published: {_when(str(changed), now)}")
    elif not builds:
        out.append("last build: never (run `feedpub build` or `feedpub run`)")
        return out
    out.append(
        f"articles: {info.get('articles', 0)} files; {info.get('published') or 0} published,"
        f" {info.get('scheduled') or 0} scheduled, {info.get('drafts') or 0} drafts or hidden;"
        f" {info.get('feeds', 0)} feeds"
    )
    upcoming = _dicts(info.get("scheduled_articles"))
    if upcoming:
        first = upcoming[0]
        more = f" (+{len(upcoming) - 1} more after it)" if len(upcoming) > 1 else ""
        out.append(
            f"next go-live: {_when(str(first['goes_live']), now)}: {first['path']}"
            f" ({first['title']}){more}"
        )
    problems = [str(p) for p in _list(info.get("problems"))]
    total = len(problems)
    if articles is not None and cwd is not None:  # (files named from where the reader is)
        problems = [
            printable(
                Problem(
                    path=str(entry["path"]),
                    message=str(found["message"]),
                    line=found["line"],
                    severity=Severity(found["severity"]),
                ).shown(articles, cwd)
            )
            for entry in _dicts(info.get("problems_by_article"))
            for found in _dicts(entry.get("problems"))
        ]
    if problems:
        out.append(f"problems: {total} in {info.get('articles_with_problems', '?')} files")
        out.extend(f"  {line}" for line in problems)
        if len(problems) < total:
            out.append(f"  (+{total - len(problems)} more: feedpub status --json)")
    else:
        out.append("problems: none")
    counts = info.get("notifications")
    if isinstance(counts, dict):
        out.append(
            f"notifications: {counts['pending']} waiting, {counts['failed']} failed for good,"
            f" {counts['done']} sent"
        )
    for group in _dicts(info.get("waiting_by_target")):
        error = f"; last error: {group['last_error']}" if group.get("last_error") else ""
        tried = f"up to {group['attempts']} attempts" if group["attempts"] else "not tried yet"
        out.append(
            f"  waiting for {group['kind']} {group['target']}: {group['count']}, queued"
            f" {_when(str(group['oldest']), now)}, {tried}{error}"
        )
    for item in _dicts(info.get("failed_notifications")):
        out.append(
            f"  failed: {item['kind']} {item['target']} {item['topic']}"
            f" after {item['attempts']} attempts: {item.get('last_error') or '-'}"
        )
    subs = info.get("subscriptions")
    if isinstance(subs, dict) and (subs.get("active") or subs.get("expired")):
        out.append(
            f"hub: {subs['active']} subscriptions on {subs['topics']} feeds,"
            f" {subs['expired']} expired"
        )
    if len(builds) > 1:
        out.append("recent builds:")
        for b in builds[:10]:
            out.append(f"  {_time(str(b['started_at']))}  {_build_line(b)}")
    return out


def _build_line(b: dict[str, Any]) -> str:
    took = f"{b['duration_ms']} ms"
    if b["outcome"] == "failed":
        return f"{took}, failed: {b['error']}"
    written = int(b["written"])
    what = f"{written} file{'s' if written != 1 else ''} written" if written else "nothing changed"
    if b["removed"]:
        what += f", {b['removed']} removed"
    issues = []
    if b["errors"]:
        issues.append(f"{b['errors']} errors")
    if b["warnings"]:
        issues.append(f"{b['warnings']} warnings")
    return f"{took}, {what}" + (f" ({', '.join(issues)})" if issues else "")


def _time(iso: str) -> str:
    """A stored time as the operator reads it: UTC, to the second."""
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _when(iso: str, now: datetime) -> str:
    """``2026-12-02 07:05:31 UTC (3 min ago)`` or ``(in 2 h)``."""
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    seconds = (now - at).total_seconds()
    span = abs(seconds)
    if span < 90:
        ago = f"{span:.0f} s"
    elif span < 5400:
        ago = f"{span / 60:.0f} min"
    elif span < 172_800:
        ago = f"{span / 3600:.0f} h"
    elif span < 63_115_200:  # (two years)
        ago = f"{span / 86_400:.0f} days"
    else:
        ago = f"{span / 31_557_600:.0f} years"
    return f"{_time(iso)} ({ago} ago)" if seconds >= 0 else f"{_time(iso)} (in {ago})"


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in _list(value) if isinstance(v, dict)]


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value
