"""Names in an article's fields: categories and tags (lists, or strings separated by commas,
semicolons or line breaks), and authors (names, ``Name <email>``, mappings), each bounded.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any

from feedpub.articles.fields import Fields, as_label, as_text, as_url
from feedpub.articles.text import BIDI_CONTROLS
from feedpub.model import Author

MAX_CATEGORIES = 50
MAX_LIST_ITEMS = 1000  # items of a categories or tags value looked at (then MAX_CATEGORIES kept)
MAX_AUTHORS_CHARS = 2000  # an author field as a whole, before it is read as names
MAX_NAME_CHARS = 200
_EMAIL = re.compile(r"^[^@\s<>]+@([^@\s<>]+)$")  # one unbounded run each side of "@": linear
MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a path


def as_names(f: Fields, key: str, value: Any) -> tuple[str, ...]:
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
        text = as_text(item)
        if text is None:
            f.warn(key, f"{key}: {item!r} is not a name; ignored")
            continue
        text = as_label(f, key, text)
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


def _email(f: Fields, text: str | None) -> str | None:
    """An author's email address, or None (with a warning) when it is not one."""
    if not text:
        return None
    if _is_email(text):
        return text
    f.warn("authors", f"author: {text!r} is not an email address; ignored")
    return None


def as_authors(f: Fields, value: Any) -> tuple[Author, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    if len(items) == 1 and isinstance(items[0], str) and "\n" in items[0]:
        items = items[0].split("\n", MAX_LIST_ITEMS)[:MAX_LIST_ITEMS]  # one per line (Pelican)
    out: list[Author] = []
    for item in items:
        if isinstance(item, dict):
            name = as_label(f, "authors", (as_text(item.get("name")) or "")[:MAX_NAME_CHARS])
            email = _email(f, as_text(item.get("email")))
            raw_url = item.get("url") or item.get("uri")
            url = as_url(f, "authors", raw_url) if raw_url else None
            if name or email:
                out.append(Author(name=name or (email or ""), email=email, url=url))
            else:
                f.warn("authors", f"author: {item!r} has no name; ignored")
            continue
        text = as_text(item)
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
            name = as_label(f, "authors", pair[0].strip()[:MAX_NAME_CHARS]) or address or ""
            if name:
                out.append(Author(name=name, email=address))
    return tuple(dict.fromkeys(out))
