"""How feedpub logs: one line per event, as text for people or JSON for log pipelines.

A log call says what happened in prose and passes the facts as fields
(``log.warning("...", extra=fields(target=url, attempt=3))``). The text format shows the
prose; ``--log-format json`` writes the prose as ``message`` and each fact as a field of
its own, named as in :data:`FIELDS`, so a pipeline filters on ``target`` or
``duration_ms`` without parsing sentences.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

from feedpub.errors import printable

# the facts a log line may carry, as JSON fields (one name for one fact, everywhere)
FIELDS = (
    "event",  # what kind of line this is: build, notify_failing, notify_recovered, ...
    "path",  # an article file, relative to the articles folder
    "paths",  # several of them
    "feed",  # a feed's path in the output folder
    "feeds",
    "article",  # an article's title or id
    "went_live",  # the articles (paths) a build published because their time came
    "target",  # a notification target (hub, ping endpoint, subscriber callback)
    "kind",  # the kind of notification (websub, weblogupdates, delivery)
    "topic",  # the feed URL a notification is about
    "attempt",  # which attempt this was (1 for the first)
    "error",
    "retry_in_s",
    "failing_for_s",
    "duration_ms",
    "count",
    "client",  # an HTTP client's address
    "method",
    "status",
    "bytes",
    "user_agent",
)
_FIELD_SET = frozenset(FIELDS)
# third-party loggers that say too much at INFO for a daemon's log
_NOISY = ("apscheduler", "uvicorn.error", "uvicorn.access", "watchfiles", "asyncio", "urllib3")


def fields(**facts: Any) -> dict[str, Any]:
    """``extra=`` for a log call: the facts, checked against :data:`FIELDS` (a misspelt
    field would silently become a fact nobody filters on)."""
    unknown = set(facts) - _FIELD_SET
    if unknown:
        raise ValueError(f"not a log field: {', '.join(sorted(unknown))}")
    return facts


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message``, one line per event: what a message carries from
    outside (a file name, a hub's answer, a client's header) cannot start a line of its own
    or send the terminal escape sequences (:func:`feedpub.errors.printable`). A traceback
    after it is feedpub's own, and keeps its lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the facts."""

    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                data[name] = list(value) if isinstance(value, tuple | set | frozenset) else value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


_SET = ["warning", "text"]  # what setup() was last given: (level, fmt)


def settings() -> tuple[str, str]:
    """The level and format :func:`setup` was last given (a child process logs alike)."""
    return _SET[0], _SET[1]


def setup(level: str, fmt: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Log to ``stream`` (stderr) at ``level`` in ``fmt`` ("text" or "json"); returns the
    handler, so the CLI can keep a progress line clear of it."""
    _SET[:] = [level, fmt]
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def listing(items: list[str] | tuple[str, ...], *, most: int = 5) -> str:
    """``a, b, c`` — or the first ``most`` and ``(+N more)``: a list for a log line."""
    shown = ", ".join(items[:most])
    return f"{shown} (+{len(items) - most} more)" if len(items) > most else shown
