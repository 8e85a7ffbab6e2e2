"""One article file → :class:`ParsedArticle` (metadata, body source, warnings).

Pure: takes the file's bytes and a :class:`ParseContext`, never touches the disk or the clock.
Every field goes through one normaliser (:func:`_normalise`), whatever format it came from, so
YAML's surprises (unquoted dates, ``no`` as ``False``, numbers) are handled in one place.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from email.utils import parseaddr
from typing import Any, Literal
from urllib.parse import quote, unquote, urljoin, urlsplit

from feedpub.articles.context import SLUG_MARK, ParseContext
from feedpub.articles.dates import DateError, date_from_filename, parse_date
from feedpub.articles.frontmatter_io import FrontMatter, FrontMatterKind, split_front_matter
from feedpub.articles.text import BIDI_CONTROLS, decode, without_bidi_controls, xml_safe
from feedpub.errors import ArticleError
from feedpub.model import ArticleMeta, Author, Enclosure, Problem, Severity
from feedpub.slug import slugify

BodyFormat = Literal["markdown", "text", "html"]

__all__ = ["BodyFormat", "ParseContext", "ParsedArticle", "parse_article"]

MAX_CATEGORIES = 50
MAX_LIST_ITEMS = 1000  # items of a categories or tags value looked at (then MAX_CATEGORIES kept)
# Every field a feed repeats is bounded (a 2 MB summary, link or author name would be copied
# into every feed the article is in, in every format):
MAX_SUMMARY_CHARS = 2000
MAX_URL_CHARS = 2048
MAX_AUTHORS_CHARS = 2000  # an author field as a whole, before it is read as names
MAX_NAME_CHARS = 200
MAX_TITLE_CHARS = 1000
MAX_ID_CHARS = 1000

_ALIASES = {
    "title": "title",
    "date": "date",
    "pubdate": "date",
    "created": "date",
    "published": "published",
    "publishdate": "publish_date",  # Hugo's publishDate
    "expirydate": "expires",  # Hugo's expiryDate (and its alias unpublishdate)
    "unpublishdate": "expires",
    "updated": "updated",
    "modified": "updated",
    "lastmod": "updated",
    "last_modified": "updated",
    "categories": "categories",
    "category": "categories",
    "tags": "tags",
    "tag": "tags",
    "keywords": "tags",
    "author": "authors",
    "authors": "authors",
    "summary": "summary",
    "description": "summary",
    "excerpt": "summary",
    "id": "id",
    "guid": "id",
    "slug": "slug",
    "draft": "draft",
    "status": "status",
    "link": "link",
    "external_url": "link",
    "source": "via",
    "via": "via",
    "original": "via",
    "image": "image",
    "lang": "lang",
    "language": "lang",
    "translationkey": "translation_key",
    "translation_key": "translation_key",
    "enclosure": "enclosure",
    "duration": "duration",
    "episode": "episode",
    "season": "season",
    "explicit": "explicit",
}
# Fields a plain-text header block may not start with, and whose near misses are no typos:
# ordinary words that headlines begin with ("Episode: The return", "Reason: ..."). Inside a
# header block (and in front matter) they are read like any field.
_EPISODE_KEYS = frozenset(["duration", "episode", "season", "explicit"])
KNOWN_KEYS = frozenset(_ALIASES) - _EPISODE_KEYS  # the fields that start a header block
_TRUE = frozenset(["true", "yes", "on", "1", "y"])
_FALSE = frozenset(["false", "no", "off", "0", "n", ""])
_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^@\s<>]+@([^@\s<>]+)$")  # one unbounded run each side of "@": linear
MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a path
# Characters a URL cannot hold (RFC 3986), and the bidi controls that could disguise one:
# percent-encoded, so no reader can take them for the end of an attribute or for markup.
_NOT_IN_URL = re.compile('[\x00-\x20\x7f"<>\\\\^`{|}\u202a-\u202e\u2066-\u2069]')
# RFC 6838 type and subtype names (restricted-name), without parameters
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w!#$&^.+-]{0,126}/[A-Za-z0-9][\w!#$&^.+-]{0,126}$", re.A)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedArticle:
    meta: ArticleMeta
    body: str
    body_format: BodyFormat
    body_line: int
    body_html: str  # sanitised, URLs absolute, the slug in them as SLUG_MARK (settled later)
    excerpt: str  # the body's first paragraph as plain text
    warnings: tuple[Problem, ...] = ()


class _Fields:
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


def _label(f: _Fields, key: str | None, text: str, *, line: int | None = None) -> str:
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
    return _SPACES.sub(" ", without_bidi_controls(text)).strip()


def _text(value: Any) -> str | None:
    """A scalar as text: dates as ISO, numbers as written; None for containers and booleans."""
    if isinstance(value, str):  # (escapes in YAML or TOML can make XML-illegal characters)
        return _SPACES.sub(" ", xml_safe(value)).strip()
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return None


def _names(f: _Fields, key: str, value: Any) -> tuple[str, ...]:
    """Categories or tags: a list, or a string separated by commas, semicolons or line breaks
    (a header value continued on an indented line)."""
    items: list[Any]
    if isinstance(value, str):
        items = re.split(r"[,;\n]", value, maxsplit=MAX_LIST_ITEMS)
    elif isinstance(value, list | tuple):
        items = list(value[: MAX_LIST_ITEMS + 1])
    else:
        items = [value]
    if len(items) > MAX_LIST_ITEMS:
        f.warn(key, f"{key}: more than {MAX_LIST_ITEMS:,} items; the rest are ignored")
        items = items[:MAX_LIST_ITEMS]
    out: dict[str, None] = {}
    for item in items:
        if isinstance(item, bool):
            f.warn(
                key,
                f"{key}: {item!r} is not a name (YAML reads yes/no/on/off as true/false: "
                "quote it); ignored",
            )
            continue
        text = _text(item)
        if text is None:
            f.warn(key, f"{key}: {item!r} is not a name; ignored")
            continue
        text = _label(f, key, text)
        if not text:
            f.warn(key, f"{key}: empty name ignored")
            continue
        if len(text) > MAX_NAME_CHARS:
            f.warn(key, f"{key}: name longer than {MAX_NAME_CHARS} characters ignored")
            continue
        out.setdefault(text, None)
    names = tuple(out)
    if len(names) > MAX_CATEGORIES:
        f.warn(key, f"{key}: more than {MAX_CATEGORIES}; kept the first {MAX_CATEGORIES}")
        names = names[:MAX_CATEGORIES]
    return names


def _is_email(text: str) -> bool:
    """``local@domain.tld``, no spaces, ``<>`` or bidi controls, at most 254 characters."""
    if len(text) > MAX_EMAIL_CHARS or BIDI_CONTROLS.search(text):
        return False
    m = _EMAIL.match(text)
    return m is not None and "." in m[1][1:-1]


def _email(f: _Fields, text: str | None) -> str | None:
    """An author's email address, or None (with a warning) when it is not one."""
    if not text:
        return None
    if _is_email(text):
        return text
    f.warn("authors", f"author: {text!r} is not an email address; ignored")
    return None


def _authors(f: _Fields, value: Any) -> tuple[Author, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    if len(items) == 1 and isinstance(items[0], str) and "\n" in items[0]:
        items = items[0].split("\n", MAX_LIST_ITEMS)[:MAX_LIST_ITEMS]  # one per line (Pelican)
    out: list[Author] = []
    for item in items:
        if isinstance(item, dict):
            name = _label(f, "authors", (_text(item.get("name")) or "")[:MAX_NAME_CHARS])
            email = _email(f, _text(item.get("email")))
            raw_url = item.get("url") or item.get("uri")
            url = _url(f, "authors", raw_url) if raw_url else None
            if name or email:
                out.append(Author(name=name or (email or ""), email=email, url=url))
            else:
                f.warn("authors", f"author: {item!r} has no name; ignored")
            continue
        text = _text(item)
        if not text:
            f.warn("authors", f"author: {item!r} is not a name; ignored")
            continue
        if len(text) > MAX_AUTHORS_CHARS:
            f.warn("authors", f"author: longer than {MAX_AUTHORS_CHARS:,} characters; ignored")
            continue
        # "A; B"; Pelican's plural "Authors: A, B" (a singular "Author: Smith, John" is one)
        plural = f.spelled.get("authors", "").lower() == "authors"
        for raw in re.split(";" if ";" in text or not plural else "[;,]", text):
            part = raw.strip()
            if "<" in part:
                try:
                    pair: tuple[str, str] = parseaddr(part)
                except RecursionError:  # "<(" nested thousands deep: not an address
                    pair = (part, "")
            elif _is_email(part):
                pair = (part, part)
            else:
                pair = (part, "")
            address = _email(f, pair[1])
            name = _label(f, "authors", pair[0].strip()[:MAX_NAME_CHARS]) or address or ""
            if name:
                out.append(Author(name=name, email=address))
    return tuple(dict.fromkeys(out))


def _bool(f: _Fields, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    f.warn(key, f"{key}: {value!r} is not true or false; taken as false")
    return False


def _url(f: _Fields, key: str, value: Any) -> str | None:
    text = _text(value)
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


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


def _language(f: _Fields, key: str, value: Any) -> str | None:
    """A language tag (``fr``, ``pt-BR``, ``zh_Hant``) → its lower-case BCP 47 form."""
    text = _text(value)
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


def _beside(f: _Fields, text: str) -> str | None:
    """A relative file name in a field (``image: cover.jpg``, ``enclosure: episode.mp3``)
    naming an image, audio, video or document beside the article: its path from the
    articles folder (and its size is noted), else None."""
    from feedpub.articles.refs import is_media, source_path
    from feedpub.output import servable

    if f.ctx.root is None or _HAS_SCHEME.match(text) or text.startswith(("/", "#", "?")):
        return None
    rel = source_path(f.path, unquote(text))
    if rel is None or not is_media(rel) or not servable(rel):
        return None
    size = _file_size(f.ctx.root, rel)
    if size is None:
        return None
    f.files[rel] = size
    return rel


_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _enclosure(f: _Fields, value: Any, *, key: str = "enclosure") -> Enclosure | None:
    length: Any = 0
    mime: Any = None
    if isinstance(value, dict):
        url = _url(f, key, value.get("url") or value.get("href"))
        mime = value.get("type")
        length = value.get("length", 0)
    else:
        url = _url(f, key, value)
    if url is None:
        return None
    if not isinstance(mime, str) or not _MEDIA_TYPE.match(mime.strip()):
        mime = mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"
    if not length and url.startswith(f.ctx.base_url):  # a file beside the article: its size
        beside = unquote(url[len(f.ctx.base_url) :])
        length = f.files.get(beside, 0)
    digits = length.strip() if isinstance(length, str) else ""
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        length = int(digits)
    if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length < 10**18:
        f.warn(key, f"{key}: length {length!r} is not a byte count; using 0")
        length = 0
    return Enclosure(url=url, type=mime.strip(), length=length)


MAX_SECONDS = 10**8  # a duration beyond three years is a typo
MAX_NUMBER = 10**9  # episode and season numbers


def _seconds(text: str) -> float | None:
    """``SS``, ``M:SS``, ``MM:SS``, ``H:MM:SS`` (the last part may have a fraction) → seconds.
    String methods only: linear, nothing to backtrack."""
    parts = text.split(":", 3)
    if len(parts) > 3:
        return None
    *whole, last = parts
    digits, dot, fraction = last.partition(".")
    if dot and not (fraction.isascii() and fraction.isdigit() and len(fraction) <= 9):
        return None
    units = [*whole, digits]
    if not all(u.isascii() and u.isdigit() and len(u) <= 12 for u in units):
        return None
    # after a colon, two digits below 60 (Apple: H:MM:SS, MM:SS, M:SS)
    if any(len(u) != 2 or int(u) >= 60 for u in units[1:]):
        return None
    seconds = 0
    for u in units:
        seconds = seconds * 60 + int(u)
    return seconds + (float("0." + fraction) if dot else 0.0)


def _duration(f: _Fields, value: Any) -> int | None:
    """An episode's length in whole seconds, from seconds (``1200``, ``1200.4``) or a clock
    (``20:00``, ``00:20:00``; YAML reads an unquoted ``20:00`` as 1200 already, TOML an
    unquoted ``00:20:00`` as a time of day)."""
    seconds: float | None = None
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _seconds(value.strip())
    if seconds is None or not 0 < round(seconds) < MAX_SECONDS:
        f.warn("duration", f"duration: {value!r} is not a duration (HH:MM:SS or seconds); ignored")
        return None
    return round(seconds)


def _number(f: _Fields, key: str, value: Any) -> int | None:
    """An episode or season number: a whole number from 1 (Apple Podcasts: non-zero)."""
    text = value.strip() if isinstance(value, str) else None
    if text is not None and text.isascii() and text.isdigit() and len(text) <= 10:
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_NUMBER:
        f.warn(key, f"{key}: {value!r} is not a number from 1; ignored")
        return None
    return value


def _explicit(f: _Fields, value: Any) -> bool | None:
    """Whether an episode is explicit: true/false (and yes/no, explicit/clean)."""
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    if text in ("true", "yes", "explicit"):
        return True
    if text in ("false", "no", "clean"):
        return False
    f.warn("explicit", f"explicit: {value!r} is not true or false; ignored")
    return None


def _date(f: _Fields, key: str, value: Any, *, or_file_name: bool = False) -> datetime | None:
    """A date field; one that cannot be read fails the article, except (``or_file_name``)
    when the file name starts with a date: that one is taken, with a warning (Jekyll writes
    ``date: 2023-01-29 18:30:22 2023 -0800`` in some posts)."""
    try:
        return parse_date(value, f.ctx.tz)
    except DateError as e:
        name = f.path.rsplit("/", 1)[-1]
        from_name = date_from_filename(name, f.ctx.tz) if or_file_name else None
        if from_name is None:
            raise f.fail(key, str(e)) from e
        day = from_name.astimezone(f.ctx.tz).date().isoformat()
        f.warn(key, f"{key}: {e}; using {day} from the file name")
        return from_name


def _normalise(f: _Fields) -> dict[str, Any]:
    """Front matter (any format) → ArticleMeta keyword arguments."""
    merged: dict[str, list[Any]] = {}
    jekyll_post = f.fm.kind != "headers" and (
        "/_posts/" in "/" + f.path
        or (f.ctx.root is not None and f.ctx.root.rstrip("/").endswith("/_posts"))
    )
    for key, given in f.fm.data.items():
        canonical = _ALIASES.get(key)
        value = given
        if jekyll_post and key in ("categories", "tags") and isinstance(given, str):
            value = given.split()  # Jekyll: "categories: jekyll update" is two of them
        if canonical is not None:
            merged.setdefault(canonical, []).append(value)
            f.spelled.setdefault(canonical, key)

    def one(key: str) -> Any:
        values = merged.get(key)
        return None if not values else values[0]

    out: dict[str, Any] = {}
    title = one("title")
    if title is not None:
        text = _text(title)
        if text is None:
            raise f.fail("title", f"{title!r} is not a title")
        text = _label(f, "title", text)
        if len(text) > MAX_TITLE_CHARS:
            f.warn("title", f"title longer than {MAX_TITLE_CHARS} characters; shortened")
            text = text[:MAX_TITLE_CHARS].rstrip() + "…"
        if text:
            out["title"] = text
        else:
            f.warn("title", "title is empty")
    published = one("published")
    if isinstance(published, bool) or (
        isinstance(published, str) and published.strip().lower() in _TRUE | _FALSE
    ):
        out["draft"] = not _bool(f, "published", published)
    elif published is not None and one("date") is None:
        out["date"] = _date(f, "published", published, or_file_name=True)
    if one("date") is not None:
        out["date"] = _date(f, "date", one("date"), or_file_name=True)
    if one("publish_date") is not None:  # Hugo: when it goes live, if later than its date
        goes_live = _date(f, "publish_date", one("publish_date"))
        if goes_live is not None and (out.get("date") is None or goes_live > out["date"]):
            out["date"] = goes_live
    if one("updated") is not None:
        out["updated"] = _date(f, "updated", one("updated"))
    if one("expires") is not None:
        if _text(one("expires")) == "":  # (an empty expiryDate: it never expires)
            f.warn("expires", "expiryDate is empty; ignored")
        else:
            out["expires"] = _date(f, "expires", one("expires"))
    for key in ("categories", "tags"):
        if key in merged:
            names: list[str] = []
            for value in merged[key]:
                names.extend(_names(f, key, value))
            out[key] = tuple(dict.fromkeys(names))
    if one("authors") is not None:
        out["authors"] = _authors(f, one("authors"))
    summary = one("summary")
    if summary is not None:
        text = _text(summary) or None
        if text and len(text) > MAX_SUMMARY_CHARS:
            f.warn("summary", f"summary longer than {MAX_SUMMARY_CHARS:,} characters; shortened")
            text = text[:MAX_SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
        out["summary"] = text
    ident = one("id")
    if ident is not None:
        text = _text(ident)
        if not text or len(text) > MAX_ID_CHARS:
            raise f.fail("id", f"{ident!r} is not a usable id")
        out["id"] = text
    slug = one("slug")
    if slug is not None:
        text = _text(slug)
        if not text:
            f.warn("slug", f"slug: {slug!r} is not a slug; ignored")
        else:
            out["slug"] = slugify(text, fallback_prefix="article")
    if one("draft") is not None:
        out["draft"] = _bool(f, "draft", one("draft")) or out.get("draft", False)
    status = (_text(one("status")) or "").lower()
    if status in ("draft", "private", "unpublished", "skip"):  # (Pelican's skip: never published)
        out["draft"] = True
    elif status == "hidden":  # Pelican: its page is published, it is in no feed or index
        out["hidden"] = True
    if one("link") is not None:
        out["link"] = _url(f, "link", one("link"))
    if one("via") is not None:
        out["via"] = _url(f, "via", one("via"))
    lang = _language(f, "lang", one("lang")) if one("lang") is not None else None
    if lang is None:  # Hugo's translations by file name: "about.fr.md"
        lang = language_in_name(f.path, f.ctx.languages)
    if lang is not None:
        out["lang"] = lang
    if one("translation_key") is not None:
        shared = _text(one("translation_key"))
        if shared and len(shared) <= MAX_ID_CHARS:
            out["translation_key"] = shared
        else:
            f.warn("translation_key", f"translationKey: {one('translation_key')!r} ignored")
    if one("image") is not None:
        out["image"] = _url(f, "image", one("image"))
    if one("enclosure") is not None:
        out["enclosure"] = _enclosure(f, one("enclosure"))
    if one("duration") is not None:
        out["duration"] = _duration(f, one("duration"))
    for key in ("episode", "season"):
        if one(key) is not None:
            out[key] = _number(f, key, one(key))
    if one("explicit") is not None:
        out["explicit"] = _explicit(f, one("explicit"))
    return out


def _plain_title(body: str) -> tuple[str | None, str]:
    """A plain-text article's title line, and the body after it (a repeated headline dropped)."""
    paragraphs = re.split(r"\n\s*\n", body.strip("\n"), maxsplit=2)
    if not paragraphs or not paragraphs[0].strip():
        return None, body
    first = paragraphs[0].split("\n", 1)
    title = _SPACES.sub(" ", first[0]).strip()
    rest_of_first = first[1] if len(first) > 1 else ""
    rest = paragraphs[1:]
    if rest_of_first.strip():
        rest.insert(0, rest_of_first)
    elif rest and _SPACES.sub(" ", rest[0]).strip().casefold() == title.casefold():
        rest = rest[1:]  # scraped articles often carry the headline twice
    return title, "\n\n".join(rest)


def _atx_h1(line: str) -> str | None:
    """The text of a ``# Heading`` line (CommonMark's ATX rules), or None. String methods,
    not a regular expression: a lazy match before trailing spaces and ``#`` would be
    quadratic on a long line of spaces."""
    text = line.lstrip(" ")
    if len(line) - len(text) > 3 or not text.startswith("#"):
        return None
    rest = text[1:]
    if rest and rest[0] not in " \t":
        return None  # "#tag" or "##": not a level-one heading
    rest = rest.strip(" \t")
    stripped = rest.rstrip("#")
    if stripped != rest and (not stripped or stripped[-1] in " \t"):
        rest = stripped.rstrip(" \t")  # a closing sequence of "#"
    return rest or None


def _markdown_title(body: str) -> tuple[str | None, str]:
    """The first non-blank line as a title if it is a ``# Heading`` (or a setext one: the
    line, then a line of ``=``), and the body without it."""
    start = 0
    while start < len(body):
        end = body.find("\n", start)
        end = len(body) if end < 0 else end
        line = body[start:end]
        if line.strip():
            title = _atx_h1(line)
            if title is not None:
                return title, body[:start] + body[end + 1 :]
            after = body.find("\n", end + 1)
            after = len(body) if after < 0 else after
            underline = body[end + 1 : after].strip()
            if underline and not underline.strip("="):  # "Title" then "====="
                return line.strip(), body[:start] + body[after + 1 :]
            return None, body
        start = end + 1
    return None, body


_HTML_BODY = re.compile(
    r"</?(?:p|div|h[1-6]|hr|br|section|article|header|ul|ol|li|table|blockquote|figure|img)\b",
    re.IGNORECASE,
)
_HTML_HEADING = re.compile(
    r"<h([1-3])\b[^>]{0,200}>(.{0,2000}?)</h\1\s*>", re.IGNORECASE | re.DOTALL
)


def _is_html(body: str) -> bool:
    """Whether a plain-text article is really HTML (a Medium or CMS export): it begins with a
    tag, and HTML block tags show in its first 4 KB."""
    head = body.lstrip()[:4096]
    return head.startswith("<") and _HTML_BODY.search(head) is not None


def _html_title(body: str) -> tuple[str | None, str]:
    """An HTML body's title: its first ``<h1>``-``<h3>`` (as text, never markup), taken out
    of the body; else its first line of text."""
    from feedpub.articles.body import html_to_text

    m = _HTML_HEADING.search(body, 0, 65_536)
    if m is not None:
        title = html_to_text(m[2])
        if title:
            return title, body[: m.start()] + body[m.end() :]
    text = html_to_text(body[:65_536])
    return (text[:200].rsplit(" ", 1)[0] if len(text) > 200 else text) or None, body


def _title_from_name(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}[-_]", "", stem)
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


def _references(
    html: str, source: str, body_line: int, f: _Fields, ctx: ParseContext
) -> tuple[tuple[str, int | None], ...]:
    """The body's references (see :mod:`feedpub.articles.refs`) with the line each is first
    written on; a file one names that is not in the articles folder is a warning."""
    from feedpub.articles.discover import is_article_relpath
    from feedpub.articles.refs import is_media, refs_in
    from feedpub.output import servable

    found = refs_in(html)
    if not found:
        return ()
    out: list[tuple[str, int | None]] = []
    for kind, value in found[:MAX_REFS]:
        needle = value.rsplit("/", 1)[-1] or value
        at = source.find(needle)
        line = body_line + source.count("\n", 0, at) if at >= 0 else None
        out.append((f"{kind}:{value}", line))
        if kind != "path" or ctx.root is None:
            continue
        if not _is_file(ctx.root, value):
            f.warn(None, f"links to {value}, which is not a file in the articles folder", line=line)
        elif not is_article_relpath(value) and not (is_media(value) and servable(value)):
            f.warn(
                None,
                f"links to {value}, which is not published (only images, audio, video and "
                "documents beside the articles are; never hidden files)",
                line=line,
            )
    return tuple(out)


MAX_REFS = 1000  # references an article's index entry keeps (links beyond still work)


def _is_file(root: str, relpath: str) -> bool:
    return _file_size(root, relpath) is not None


def _file_size(root: str, relpath: str) -> int | None:
    from feedpub.articles.discover import file_beside

    st = file_beside(root, relpath)
    return None if st is None else st.st_size


RST_SUFFIXES = (".rst",)
HTML_SUFFIXES = (".html", ".htm")


def _read(path: str, text: str) -> FrontMatter:
    """The file's fields and body: front matter and Markdown or text, or a whole
    reStructuredText or HTML document whose fields are read here like front matter."""
    lower = path.lower()
    if lower.endswith(RST_SUFFIXES):
        from feedpub.articles.rst import read_rst

        doc = read_rst(text.lstrip("\ufeff"), path)
        kind: FrontMatterKind = "rst"
    elif lower.endswith(HTML_SUFFIXES):
        from feedpub.articles.htmlfile import read_html

        doc = read_html(text, path)
        kind = "html"
    else:
        return split_front_matter(text, path, KNOWN_KEYS)
    return FrontMatter(
        kind, doc.fields, doc.body_html, doc.body_line, lines=doc.lines, notes=doc.notes
    )


def parse_article(path: str, data: bytes, ctx: ParseContext) -> ParsedArticle:
    """Parse one article file. Raises :class:`ArticleError` when it cannot be published."""
    if len(data) > ctx.max_bytes:
        raise ArticleError(
            f"file is {len(data):,} bytes, over the limit of {ctx.max_bytes:,} "
            "(feeds.max_article_bytes)",
            path=path,
        )
    text, decode_warnings = decode(data, path)
    fm = _read(path, text)
    fields = _Fields(path, fm, ctx)
    for line, message in (*decode_warnings, *fm.notes):
        fields.warnings.append(
            Problem(path=path, line=line, message=message, severity=Severity.WARNING)
        )
    kwargs = _normalise(fields)
    lower = path.lower()
    body_format: BodyFormat = "text" if lower.endswith(".txt") else "markdown"
    if fm.kind in ("rst", "html"):
        body_format = "html"
    body = fm.body
    if body_format == "text" and _is_html(body):
        body_format = "html"
    if "categories" not in kwargs and ctx.category_from_folder and "/" in path:
        kwargs["categories"] = (path.rsplit("/", 2)[-2],)
    if "title" not in kwargs:
        title_source = body
        take = {"text": _plain_title, "markdown": _markdown_title, "html": _html_title}
        title, body = take[body_format](body)
        if title:  # the first line or heading: any bidi control before it is on its line
            found = BIDI_CONTROLS.search(title_source)
            at = fm.body_line + title_source.count("\n", 0, found.start()) if found else None
            title = _label(fields, None, title, line=at)
        if not title:
            title = _label(fields, None, _title_from_name(path))
            fields.warn(None, f"no title; using {title!r} from the file name")
        kwargs["title"] = title[:MAX_TITLE_CHARS]
    elif body_format == "text":
        _, body_after = _plain_title(body)
        first_line = body.strip("\n").split("\n", 1)[0].strip()
        if first_line and first_line.casefold() == kwargs["title"].casefold():
            body = body_after  # the headline repeated under a Title header
    try:
        meta = ArticleMeta(path=path, content_hash=hashlib.sha256(data).hexdigest(), **kwargs)
    except ValueError as e:  # a naive datetime slipped through: a bug, but name the file
        raise ArticleError(str(e), path=path) from e
    from feedpub.articles.body import BodyError, absolutise, fits_in_feeds, prepare_body
    from feedpub.articles.refs import localise, preprocess

    source = body
    if body_format != "text":  # Liquid, Hugo shortcodes, Pelican's {filename}...
        pre = preprocess(body, path=path, base_url=ctx.base_url, markdown=body_format == "markdown")
        body = pre.text
        for lines_in, message in pre.warnings:
            fields.warn(None, message, line=fm.body_line + lines_in)
    try:
        prepared = prepare_body(body, body_format)
    except BodyError as e:
        raise ArticleError(str(e), path=path, line=fm.body_line) from e
    if not fits_in_feeds(prepared.html, ctx.max_content_bytes):
        prepared = replace(
            prepared,
            warnings=(
                *prepared.warnings,
                (
                    None,
                    f"its HTML is {len(prepared.html):,} characters, over the "
                    f"{ctx.max_content_bytes:,} a feed entry carries "
                    "(feeds.max_content_bytes): feeds show its summary, its page all of it",
                ),
            ),
        )
    for offset, message in prepared.warnings:
        # (offsets in HTML docutils wrote are no lines of the file)
        at_line = fm.body_line + (offset or 0) if fm.kind != "rst" else None
        fields.warnings.append(
            Problem(
                path=path,
                line=at_line,
                message=message,
                severity=Severity.WARNING,
            )
        )
    html = prepared.html
    if body_format != "text" and not kwargs.get("link"):  # (else relative to the original)
        html = localise(html, path)
    refs = _references(html, source, fm.body_line, fields, ctx)
    named = {r for r, _ in refs}
    refs = tuple((f"path:{rel}", None) for rel in fields.files if f"path:{rel}" not in named) + refs
    if refs:
        meta = replace(meta, refs=refs)
    return ParsedArticle(
        meta=meta,
        body=body,
        body_format=body_format,
        body_line=fm.body_line,
        body_html=absolutise(
            html,
            kwargs.get("link") or ctx.article_url.format(base_url=ctx.base_url, slug=SLUG_MARK),
        ),
        excerpt=prepared.excerpt,
        warnings=tuple(fields.warnings),
    )
