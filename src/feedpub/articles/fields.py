"""One file's fields as they are read: :class:`Fields` collects the names the file used and
the warnings, and the readers here turn a raw value (from YAML, TOML, headers or a document's
own fields) into text, a label, a boolean, a URL, a language or a date. YAML's surprises
(unquoted dates, ``no`` as ``False``, numbers) are handled here, once, whatever the format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from feedpub.articles.context import ParseContext
from feedpub.articles.dates import DateError, ZoneError, date_from_filename, parse_date
from feedpub.articles.discover import file_beside
from feedpub.articles.frontmatter_io import FrontMatter
from feedpub.articles.media import is_media
from feedpub.articles.refs import source_path
from feedpub.articles.text import (
    BIDI_CONTROLS,
    collapse_spaces,
    without_bidi_controls,
    xml_safe,
)
from feedpub.errors import ArticleError
from feedpub.model import Problem, Severity
from feedpub.private import servable

# Every field a feed repeats is bounded (a 2 MB summary, link or author name would be copied
# into every feed the article is in, in every format); summaries, titles and ids in
# metadata.py, names in names.py:
MAX_URL_CHARS = 2048
TRUE = frozenset(["true", "yes", "on", "1", "y"])
FALSE = frozenset(["false", "no", "off", "0", "n", ""])
# Characters a URL cannot hold (RFC 3986), and the bidi controls that could disguise one:
# percent-encoded, so no reader can take them for the end of an attribute or for markup.
_NOT_IN_URL = re.compile('[\x00-\x20\x7f"<>\\\\^`{|}\u202a-\u202e\u2066-\u2069]')
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


class Fields:
    """Collects normalised fields and warnings for one file."""

    def __init__(self, path: str, fm: FrontMatter, ctx: ParseContext) -> None:
        self.path = path
        self.fm = fm
        self.ctx = ctx
        self.warnings: list[Problem] = []
        self.spelled: dict[str, str] = {}  # canonical field -> the key the file used
        self.files: dict[str, int] = {}  # files beside the article its fields name -> size

    def line(self, key: str) -> int | None:
        return self.fm.line(self.spelled.get(key, key))

    def warn(self, key: str | None, message: str, *, line: int | None = None) -> None:
        line = line if line is not None else self.line(key) if key else None
        self.warnings.append(
            Problem(path=self.path, line=line, message=message, severity=Severity.WARNING)
        )

    def fail(self, key: str, message: str) -> ArticleError:
        # (named as the file spells it: "publishDate: ...", not the field it fills)
        return ArticleError(
            f"{self.spelled.get(key, key)}: {message}", path=self.path, line=self.line(key)
        )


def as_label(f: Fields, key: str | None, text: str, *, line: int | None = None) -> str:
    """A title, category, tag or author name without the bidi controls that could disguise it
    (removed with a warning)."""
    found = BIDI_CONTROLS.findall(text)
    if not found:
        return text
    what = key or "title"
    f.warn(
        key,
        f"{what}: removed {len(found)} bidi control character(s) that can disguise text "
        f"(first: U+{ord(found[0]):04X})",
        line=line,
    )
    return collapse_spaces(without_bidi_controls(text))


def as_text(value: Any) -> str | None:
    """A scalar as text: dates as ISO, numbers as written; None for containers and booleans."""
    if isinstance(value, str):  # (escapes in YAML or TOML can make XML-illegal characters)
        return collapse_spaces(xml_safe(value))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return None


def as_bool(f: Fields, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = (as_text(value) or "").lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    f.warn(key, f"{key}: {value!r} is not true or false; taken as false")
    return False


def as_url(f: Fields, key: str, value: Any) -> str | None:
    text = as_text(value)
    if not text:
        f.warn(key, f"{key}: {value!r} is not a URL; ignored")
        return None
    if len(text) > MAX_URL_CHARS:
        f.warn(
            key,
            f"{key}: a URL of {len(text):,} characters (the limit is {MAX_URL_CHARS:,}); ignored",
        )
        return None
    local = _beside(f, text)
    if local is not None:  # a file beside the article: published at its path (refs.py)
        return f.ctx.base_url + quote(local)
    try:
        url = urljoin(f.ctx.base_url, text)
        parts = urlsplit(url)
    except ValueError:  # "//[", an unclosed IPv6 host: no URL at all
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        f.warn(key, f"{key}: {text!r} is not an http(s) URL; ignored")
        return None
    return _NOT_IN_URL.sub(lambda m: quote(m[0], safe=""), url)


def as_language(f: Fields, key: str, value: Any) -> str | None:
    """A language tag (``fr``, ``pt-BR``, ``zh_Hant``) → its lower-case BCP 47 form."""
    text = as_text(value)
    if not text or not _LANGUAGE.fullmatch(text):
        f.warn(key, f"{key}: {value!r} is not a language code (like en, fr, pt-br); ignored")
        return None
    return text.replace("_", "-").lower()


def language_in_name(path: str, languages: Iterable[str]) -> str | None:
    """The language a file name gives, as Hugo reads it (``about.fr.md``: ``fr``): one of
    the site's ``languages`` (``[site] languages``: ``socket.io.md`` is no article in Io),
    just before the suffix."""
    parts = path.rsplit("/", 1)[-1].split(".")
    if len(parts) < 3:
        return None
    code = parts[-2].lower()
    return code if code in languages else None


def _beside(f: Fields, text: str) -> str | None:
    """A relative file name in a field (``image: cover.jpg``, ``enclosure: episode.mp3``)
    naming an image, audio, video or document beside the article: its path from the
    articles folder (and its size is noted), else None."""
    if f.ctx.root is None or _HAS_SCHEME.match(text) or text.startswith(("/", "#", "?")):
        return None
    rel = source_path(f.path, unquote(text))
    if rel is None or not is_media(rel) or not servable(rel):
        return None
    size = file_size(f.ctx.root, rel)
    if size is None:
        return None
    f.files[rel] = size
    return rel


def file_size(root: str, relpath: str) -> int | None:
    st = file_beside(root, relpath)
    return None if st is None else st.st_size


def as_date(f: Fields, key: str, value: Any, *, or_file_name: bool = False) -> datetime | None:
    """A date field; one that cannot be read fails the article, except (``or_file_name``)
    when the file name starts with a date: that one is taken, with a warning (Jekyll writes
    ``date: 2023-01-29 18:30:22 2023 -0800`` in some posts), but for a time zone that does
    not exist. A wall time that the clocks skip or repeat is a warning saying which instant
    was taken."""
    try:
        spelled = f.spelled.get(key, key)
        return parse_date(value, f.ctx.tz, lambda note: f.warn(key, f"{spelled}: {note}"))
    except DateError as e:
        name = f.path.rsplit("/", 1)[-1]
        from_name = date_from_filename(name, f.ctx.tz) if or_file_name else None
        if isinstance(e, ZoneError):
            from_name = None
        if from_name is None:
            raise f.fail(key, str(e)) from e
        day = from_name.astimezone(f.ctx.tz).date().isoformat()
        f.warn(key, f"{key}: {e}; using {day} from the file name")
        return from_name
