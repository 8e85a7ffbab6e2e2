"""A podcast episode's fields: its enclosure (a URL, or a file beside the article, with its
media type and length), duration, episode and season numbers, and whether it is explicit.
"""

from __future__ import annotations

import mimetypes
import re
from datetime import time
from typing import Any
from urllib.parse import unquote, urlsplit

from feedpub.articles.fields import Fields, as_text, as_url
from feedpub.model import Enclosure

# RFC 6838 type and subtype names (restricted-name), without parameters
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w!#$&^.+-]{0,126}/[A-Za-z0-9][\w!#$&^.+-]{0,126}$", re.A)


def as_enclosure(f: Fields, value: Any, *, key: str = "enclosure") -> Enclosure | None:
    length: Any = 0
    mime: Any = None
    if isinstance(value, dict):
        url = as_url(f, key, value.get("url") or value.get("href"))
        mime = value.get("type")
        length = value.get("length", 0)
    else:
        url = as_url(f, key, value)
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


def as_duration(f: Fields, value: Any) -> int | None:
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


def as_number(f: Fields, key: str, value: Any) -> int | None:
    """An episode or season number: a whole number from 1 (Apple Podcasts: non-zero)."""
    text = value.strip() if isinstance(value, str) else None
    if text is not None and text.isascii() and text.isdigit() and len(text) <= 10:
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_NUMBER:
        f.warn(key, f"{key}: {value!r} is not a number from 1; ignored")
        return None
    return value


def as_explicit(f: Fields, value: Any) -> bool | None:
    """Whether an episode is explicit: true/false (and yes/no, explicit/clean)."""
    if isinstance(value, bool):
        return value
    text = (as_text(value) or "").lower()
    if text in ("true", "yes", "explicit"):
        return True
    if text in ("false", "no", "clean"):
        return False
    f.warn("explicit", f"explicit: {value!r} is not true or false; ignored")
    return None
