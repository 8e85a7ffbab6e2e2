"""``/status``: what :func:`feedpub.status.read_status` says, as a plain HTML page. One
document, no script, nothing loaded from anywhere (its style is inline), readable by a
screen reader (a language, a title, headings, tables whose headers say what they head).

Every value is escaped (:func:`html.escape`): titles, problem messages, URLs and errors come
from articles and from the network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #111; background: #fff; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; }
thead th { background: #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.failed, .error { color: #a00; font-weight: 600; }
code { overflow-wrap: anywhere; }
"""


def _e(value: object) -> str:
    return "—" if value is None else escape(str(value), quote=True)


def _table(
    caption: str, heads: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: set[int]
) -> str:
    """A table; the first cell of each row heads its row."""
    out = [f"<table><caption>{_e(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col">{_e(h)}</th>' for h in heads]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            if i == 0:
                out.append(f'<th scope="row">{_e(cell)}</th>')
            else:
                cls = ' class="n"' if i in numeric else ""
                out.append(f"<td{cls}>{_e(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _none(text: str) -> str:
    return f"<p>{_e(text)}</p>"


_SUMMARY = (
    ("daemon", "Daemon"),
    ("state", "State store"),
    ("last_build", "Last change published"),
    ("articles", "Article files"),
    ("published", "Published"),
    ("scheduled", "Scheduled"),
    ("drafts", "Drafts"),
    ("feeds", "Feeds"),
    ("next_go_live", "Next go-live"),
)


def _summary(info: Mapping[str, Any]) -> str:
    out = ["<table><caption>The site as the state store knows it</caption><tbody>"]
    for key, label in _SUMMARY:
        out.append(
            f'<tr id="summary-{key}"><th scope="row">{_e(label)}</th>'
            f"<td>{_e(info.get(key))}</td></tr>"
        )
    notes = info.get("notifications") or {}
    for key in ("pending", "failed", "done"):
        out.append(
            f'<tr id="summary-notifications-{key}"><th scope="row">Notifications {key}</th>'
            f"<td>{_e(notes.get(key))}</td></tr>"
        )
    out.append(
        f'<tr id="summary-problems"><th scope="row">Problems</th>'
        f"<td>{_e(len(info.get('problems') or []))}</td></tr>"
    )
    out.append("</tbody></table>")
    return "".join(out)


def _builds(builds: Sequence[Mapping[str, Any]]) -> str:
    if not builds:
        return _none("No build recorded yet.")
    return _table(
        "The last builds, newest first",
        ["Started", "Outcome", "Duration (ms)", "Articles", "Published", "Files written",
         "Errors", "Warnings", "Why it failed"],
        (
            [b["started_at"], b["outcome"], b["duration_ms"], b["articles"], b["published"],
             b["written"], b["errors"], b["warnings"], b["error"]]
            for b in builds
        ),
        numeric={2, 3, 4, 5, 6, 7},
    )  # fmt: skip


def _problems(info: Mapping[str, Any]) -> str:
    by_article: Sequence[Mapping[str, Any]] = info.get("problems_by_article") or []
    if not by_article:
        return _none("No article has a problem.")
    rows = [
        [a["path"], p["line"], p["severity"], p["message"]]
        for a in by_article
        for p in a["problems"]
    ]
    shown = len(by_article)
    total = info.get("articles_with_problems", shown)
    more = f"<p>{_e(total - shown)} more articles have problems (see feedpub check).</p>"
    return _table(
        f"Problems of {total} articles", ["Article", "Line", "Severity", "Message"], rows,
        numeric={1},
    ) + (more if total > shown else "")  # fmt: skip


def _scheduled(items: Sequence[Mapping[str, Any]]) -> str:
    if not items:
        return _none("No article is scheduled.")
    return _table(
        "Articles that go live next",
        ["Goes live", "Article", "Title"],
        ([a["goes_live"], a["path"], a["title"]] for a in items),
        numeric=set(),
    )


def _notifications(caption: str, items: Sequence[Mapping[str, Any]], empty: str) -> str:
    if not items:
        return _none(empty)
    return _table(
        caption,
        ["Kind", "Target", "Feed", "Attempts", "Last status", "Last error", "Due or finished"],
        (
            [n["kind"], n["target"], n["topic"], n["attempts"], n["status"], n["last_error"],
             n["at"]]
            for n in items
        ),
        numeric={3, 4},
    )  # fmt: skip


def _subscriptions(subs: Mapping[str, Any]) -> str:
    text = (
        f"<p>{_e(subs.get('active', 0))} active subscriptions on {_e(subs.get('topics', 0))} "
        f"feeds; {_e(subs.get('expired', 0))} expired.</p>"
    )
    by_topic: Sequence[Mapping[str, Any]] = subs.get("by_topic") or []
    if not by_topic:
        return text
    return text + _table(
        "Active subscriptions by feed",
        ["Feed", "Subscriptions"],
        ([t["topic"], t["active"]] for t in by_topic),
        numeric={1},
    )


def render_status(info: Mapping[str, Any], *, site_title: str, language: str = "en") -> bytes:
    """The page for ``info`` (:func:`feedpub.status.read_status`)."""
    sections = [
        ("summary", "Summary", _summary(info)),
        ("builds", "Recent builds", _builds(info.get("builds") or [])),
        ("problems", "Problems by article", _problems(info)),
        ("scheduled", "Scheduled articles", _scheduled(info.get("scheduled_articles") or [])),
        (
            "pending",
            "Pending notifications",
            _notifications(
                "Notifications waiting to be sent, newest first",
                info.get("pending_notifications") or [],
                "No notification is waiting.",
            ),
        ),
        (
            "failed",
            "Failed notifications",
            _notifications(
                "Notifications given up on, newest first",
                info.get("failed_notifications") or [],
                "No notification has failed.",
            ),
        ),
        ("hub", "Hub subscriptions", _subscriptions(info.get("subscriptions") or {})),
    ]
    body = "".join(
        f'<section aria-labelledby="{key}"><h2 id="{key}">{_e(title)}</h2>{html}</section>'
        for key, title, html in sections
    )
    title = f"feedpub status: {site_title}"
    page = (
        f'<!DOCTYPE html>\n<html lang="{_e(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{_e(title)}</h1>{body}</main></body></html>\n"
    )
    return page.encode("utf-8")


def render_unavailable(reason: str, *, site_title: str, language: str = "en") -> bytes:
    """The page when the state store does not answer."""
    title = f"feedpub status: {site_title}"
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(language)}"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title></head><body><main><h1>{_e(title)}</h1>"
        f"<p>The state store does not answer: {_e(reason)}</p></main></body></html>\n"
    ).encode()
