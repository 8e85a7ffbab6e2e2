"""What the state store says about a site, for the operator: the one home of ``feedpub
status`` (text and ``--json``) and of the admin listener's ``/status`` page, so that the
two never disagree. Readable while a daemon runs.

Nothing secret leaves here: the state store's URL has its password hidden, and every URL
from the outbox (a weblogUpdates endpoint, a subscriber's callback) has its password and
its query's values hidden (:func:`shown_url`): an operator's page is seen by more people
than the config. Lists are bounded (:data:`LIST_LIMIT`); their totals are given beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from feedpub.config import Config
from feedpub.model import BuildRecord
from feedpub.store import State

LIST_LIMIT = 50  # scheduled articles, subscription topics shown
PROBLEM_PATHS_LIMIT = 200  # articles whose problems are listed one by one


def shown_url(url: str) -> str:
    """``url`` with its password and its query's values replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            creds, host = netloc.rsplit("@", 1)
            netloc = f"{creds.split(':', 1)[0]}:***@{host}"
        query = parts.query
        if query:
            query = urlencode(
                [(k, "***") for k, _ in parse_qsl(query, keep_blank_values=True)], safe="*"
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:  # (not a URL: shown as nothing that could hold a secret)
        return "(not a URL)"


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
