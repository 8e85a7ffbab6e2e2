"""What a reader of a whole-document format (reStructuredText, an HTML page) hands to
:func:`feedpub.articles.parse.parse_article`: the fields it found, where, and a body as HTML.

The fields are raw values under the names the file used (normalised like front matter keys);
every rule about what a field means lives in :mod:`feedpub.articles.metadata` (and the
field readers it uses), which reads these exactly as it reads front matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_NOTES = 20
"""Warnings one file's reader reports one by one; the rest are counted in one more."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDocument:
    fields: dict[str, Any]  # key (as front matter keys are normalised) -> raw value
    lines: dict[str, int]  # key -> 1-based line of the file it is on
    body_html: str  # not yet sanitised: parse_article sends it through prepare_body
    body_line: int  # 1-based line where the body starts
    body_is_source: bool  # offsets in body_html are offsets in the file from body_line
    notes: tuple[tuple[int | None, str], ...] = field(default=())  # (line, warning)


def capped(notes: list[tuple[int | None, str]]) -> tuple[tuple[int | None, str], ...]:
    """At most :data:`MAX_NOTES` warnings, then one saying how many more there were."""
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    rest = len(notes) - MAX_NOTES
    return (*notes[:MAX_NOTES], (None, f"{rest:,} more warning(s) like these not shown"))
