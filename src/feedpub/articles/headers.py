"""Pelican-style ``Key: value`` header blocks: where one starts and ends, and misspelt keys.

The rule (the README's "Article format" states it for users):

* A *header line* starts at the first column with a key (an ASCII letter, then letters, digits,
  ``_``, ``-`` or spaces; at most 40 characters), optional spaces, and a colon. For a known
  field, or a near miss of one, the value may follow the colon directly
  (``date:2024-03-11T09:00:00Z``); any other key needs a space or the end of the line after
  its colon, so ``http://x`` or ``Re:subject`` is never a header. The value is everything after
  the first colon, stripped; it may contain colons.
* A line indented by a space or a tab right after a header line continues its value.
* The block is the run of header lines (and continuations) at the top of the file. It is a header
  block only when its *first* line names a known field (or misspells one, when another line of
  the run names a known field): a headline such as ``Breaking: markets fall`` or
  ``Update: 3 dead`` stays text, whatever follows it.
* The block ends at a blank line (skipped) or at the first line that is not a header line,
  which starts the body (in plain text, the title line).
* One exception keeps wrapped prose prose: a lone header line followed by a line that begins with
  a lowercase word (``Summary: the council met and`` / ``agreed to ...``) is the start of a
  sentence, not a header block.

Unknown keys inside a header block are kept, as written (:attr:`HeaderBlock.written`): the
fields' reader (:mod:`~feedpub.articles.metadata`) warns about a key one typo away from a known
field (:func:`near_miss`), as it does for front matter. Everything here is linear in the length
of the text: no regular expression, and every key is at most 40 characters.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC

from feedpub.articles.dates import DateError, parse_date

MAX_KEY_CHARS = 40
_KEY_FIRST = frozenset(string.ascii_letters)
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "_- \t")
_TYPO_CHARS = string.ascii_lowercase + string.digits + "_"
_LIST_KEYS = ("categories", "category", "tags", "tag", "keywords")


# Keys other generators' articles carry that are one typo from a field of ours: never a near
# miss (Hugo's `images`, themes' `links` and `sources`, note-taking tools' `uuid`).
OTHER_KEYS = frozenset(["images", "links", "sources", "uuid"])


def norm_key(key: str) -> str:
    """A key as compared: lowercase, with ``-`` and spaces as ``_`` (``Last-Modified``)."""
    return key.strip().lower().replace("-", "_").replace(" ", "_")


@functools.lru_cache(maxsize=8)
def _typos(known: frozenset[str]) -> dict[str, str]:
    """Every key one typo away from a known key of three or more characters → that key.

    A wrong or swapped letter (same length) is preferred over a missing or extra one, so
    ``tagz`` suggests ``tags``, not ``tag``."""
    keys = sorted((k for k in known if len(k) >= 3), key=lambda k: (len(k), k))
    same_length: dict[str, str] = {}
    other: dict[str, str] = {}
    for key in keys:
        for i in range(len(key) + 1):
            head, tail = key[:i], key[i:]
            if tail:
                other.setdefault(head + tail[1:], key)  # a letter missing
                for c in _TYPO_CHARS:
                    same_length.setdefault(head + c + tail[1:], key)  # a wrong letter
            if len(tail) > 1:
                same_length.setdefault(head + tail[1] + tail[0] + tail[2:], key)  # swapped
            for c in _TYPO_CHARS:
                other.setdefault(head + c + tail, key)  # a letter too many
    out = {**other, **same_length}
    return {
        typo: key
        for typo, key in out.items()
        if len(typo) >= 3 and typo not in known and typo not in OTHER_KEYS
    }


def near_miss(key: str, known: Iterable[str]) -> str | None:
    """The known key that ``key`` is most likely a misspelling of (one letter missing, extra,
    wrong, or two letters swapped: ``Dat``, ``Catgories``, ``Titel``), or None. A known key, one
    of :data:`OTHER_KEYS`, or one of fewer than three characters, is no near miss. For header
    and front-matter keys."""
    k = norm_key(key)
    known_set = known if isinstance(known, frozenset) else frozenset(known)
    if k in known_set:
        return None
    return _typos(known_set).get(k)


@dataclass(frozen=True, slots=True)
class HeaderBlock:
    """A file's header block: normalised key → value, the 1-based line of each key, the index
    of the first body line, and each key as the file wrote it."""

    data: dict[str, str]
    lines: dict[str, int]
    end: int
    written: dict[str, str]


def header_line(text: str, known: frozenset[str]) -> tuple[str, str, str] | None:
    """(key as written, normalised key, value) if ``text`` is a header line, else None."""
    colon = text.find(":", 0, MAX_KEY_CHARS + 1)
    if colon <= 0 or text[0] not in _KEY_FIRST:
        return None
    raw = text[:colon]
    if not _KEY_CHARS.issuperset(raw):
        return None
    key = norm_key(raw)
    after = text[colon + 1 : colon + 2]
    if after not in ("", " ", "\t") and key not in known and key not in _typos(known):
        return None  # "http://x", "Re:subject": a colon inside a word, not a header
    return raw.strip(), key, text[colon + 1 :].strip()


_DATE_KEYS = frozenset(
    [
        "date",
        "pubdate",
        "publishdate",
        "created",
        "published",
        "updated",
        "modified",
        "lastmod",
        "last_modified",
        "expirydate",
        "unpublishdate",
    ]
)


def plausible(meant: str, value: object) -> bool:
    """Whether a misspelt key's value could be meant for the key it resembles: a date for a
    date key (so that the headline "Update: 3 dead in storm" stays a headline, and a site's
    own ``data:`` table is no misspelt ``date``)."""
    if meant not in _DATE_KEYS:
        return True
    try:
        parse_date(value, UTC)
    except DateError:
        return False
    return True


def _unquoted(key: str, value: str) -> str:
    """A value as YAML would read it, for those typed the YAML way: ``"A title"`` without
    its quotes, ``[a, "b"]`` as a list."""
    if key in _LIST_KEYS and len(value) >= 2 and value[0] == "[" and value[-1] == "]":
        return ", ".join(_unquoted("", item.strip()) for item in value[1:-1].split(","))
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _starts_lowercase(text: str) -> bool:
    """Whether ``text`` begins with a lowercase word (``but``, ``agreed,``; not a URL)."""
    words = text.split(None, 1)
    word = words[0].rstrip(",.;:!?") if words else ""
    return word.isalpha() and word.islower()


def parse_header_block(lines: Sequence[str], known: frozenset[str]) -> HeaderBlock | None:
    """The header block at the top of ``lines`` (a file split at ``\\n``), if it has one."""
    entries: list[tuple[int, str, str, list[str]]] = []  # line, key as written, key, value parts
    end = 0
    while end < len(lines):
        text = lines[end]
        if not text.strip():
            break
        found = header_line(text, known)
        if found is not None:
            entries.append((end + 1, found[0], found[1], [found[2]]))
        elif entries and text[0] in " \t":  # continues the value above (Pelican style)
            entries[-1][3].append(text.strip())
        else:
            break
        end += 1
    if not entries:
        return None
    typos = _typos(known)  # (the keys here are normalised already)
    first = entries[0][2]
    if first not in known and not (
        first in typos
        and any(e[2] in known for e in entries)
        and plausible(typos[first], entries[0][3][0])
    ):
        return None
    if end == 1 and end < len(lines) and _starts_lowercase(lines[end]):
        return None  # "Summary: the council met and" / "agreed ...": a wrapped sentence
    data: dict[str, str] = {}
    where: dict[str, int] = {}
    written: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for line, raw, key, parts in entries:
        value = _unquoted(key, "\n".join(parts))
        written.setdefault(key, raw)
        if key in _LIST_KEYS:  # repeated header lines add up (joined once, below)
            lists.setdefault(key, []).append(value)
        else:
            data.setdefault(key, value)
        where.setdefault(key, line)
    for key, values in lists.items():
        data[key] = ", ".join(v for v in values if v)
    if end < len(lines) and not lines[end].strip():
        end += 1  # the blank line that ended the block
    return HeaderBlock(data=data, lines=where, end=end, written=written)
