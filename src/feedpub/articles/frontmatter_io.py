"""Front matter: finding the block, loading it as YAML or TOML, and reporting lines.

The YAML and TOML loaders are python-frontmatter handlers (its YAML handler uses PyYAML's C
safe loader when present); the block is found here, line by line, so that every error can name
the line of the file it is on.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any, Literal

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from feedpub.articles.flat_yaml import TIMESTAMP_TAG, as_written, read_flat_yaml, timestamp
from feedpub.articles.headers import norm_key, parse_header_block
from feedpub.errors import ArticleError

MAX_ALIAS_EXPANSION = 10_000
MAX_FRONT_MATTER_CHARS = 256 * 1024
"""Real front matter holds a few hundred bytes to a few kilobytes; YAML costs microseconds per
value it builds, so a front matter block of megabytes could cost seconds: refused."""

FrontMatterKind = Literal["yaml", "toml", "headers", "none", "rst", "html"]


class TomllibHandler(BaseHandler):
    """python-frontmatter handler for ``+++`` TOML front matter using the standard library."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader (C when present), keeping numbers as written and bad dates as text
    (:func:`~feedpub.articles.flat_yaml.as_written`,
    :func:`~feedpub.articles.flat_yaml.timestamp`)."""


_Loader.add_constructor("tag:yaml.org,2002:int", as_written)
_Loader.add_constructor("tag:yaml.org,2002:float", as_written)
_Loader.add_constructor(TIMESTAMP_TAG, timestamp)

_YAML = YAMLHandler()
_TOML = TomllibHandler()
# Errors on an unclosed quote or bracket are best reported where it was opened.
_OPENED_AT = ("while scanning a quoted scalar", "while parsing a flow", "while scanning a block")

# (bounded: a lazy run before "\s*:" on a long line of spaces would be quadratic)
_YAML_KEY = re.compile(r"""^(["']?)([A-Za-z_][\w -]{0,99}?)\1[ \t]{0,16}:(?:\s|$)""")
_TOML_KEY = re.compile(r"""^(["']?)([A-Za-z_][\w-]*)\1\s*=""")


class FrontMatter:
    """A file's front matter: its data, and (worked out only when a message needs one) the
    line of each key."""

    __slots__ = (
        "_block",
        "_first_line",
        "_lines",
        "_pattern",
        "body",
        "body_line",
        "data",
        "kind",
        "notes",
        "written",
    )

    def __init__(
        self,
        kind: FrontMatterKind,
        data: dict[str, Any],
        body: str,
        body_line: int,
        *,
        lines: dict[str, int] | None = None,
        block: list[str] | None = None,
        first_line: int = 2,
        pattern: re.Pattern[str] | None = None,
        notes: tuple[tuple[int | None, str], ...] = (),
        written: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.data = data
        self.body = body
        self.body_line = body_line  # 1-based line where the body starts
        self._lines = lines
        self._block = block or []
        self._first_line = first_line
        self._pattern = pattern
        self.notes = notes  # warnings about the block, as (line, message)
        self.written = written or {}  # normalised key -> the key as the file wrote it

    def line(self, key: str) -> int | None:
        """The 1-based file line of a (normalised) key, if it can be found."""
        if self._lines is None:
            self._lines = (
                _key_lines(self._block, self._first_line, self._pattern) if self._pattern else {}
            )
        return self._lines.get(key)


def _check_aliases(fm: str, path: str, first_line: int) -> None:
    """Refuse YAML whose aliases expand to a huge structure (a "billion laughs" bomb)."""
    try:
        root = yaml.compose(fm, Loader=_BASE_LOADER)
    except yaml.YAMLError:
        return  # the real load reports it with its line
    budget = MAX_ALIAS_EXPANSION
    size = 2 * len(fm) + 65_536  # the text the values may make, aliases expanded
    stack: list[Any] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        budget -= 1
        if isinstance(node, yaml.ScalarNode):
            size -= len(node.value)
        if budget < 0 or size < 0:
            raise ArticleError(
                f"front matter YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} values "
                "or to more than twice the text; refusing it (a YAML alias bomb?)",
                path=path,
                line=first_line,
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)


def _mark_line(fm: str, first_line: int, mark: Any) -> int:
    # YAML also breaks lines at U+0085, U+2028 and U+2029; count the file's own line ends
    return first_line + fm.count("\n", 0, mark.index)


def _load_yaml(fm: str, path: str, first_line: int) -> Any:
    if "*" in fm:
        _check_aliases(fm, path, first_line)
    try:
        return _YAML.load(fm, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        opened = e.context_mark is not None and (e.context or "").startswith(_OPENED_AT)
        mark = e.context_mark if opened else (e.problem_mark or e.context_mark)
        line = _mark_line(fm, first_line, mark) if mark is not None else first_line
        what = e.problem or "invalid YAML"
        if e.context:
            what = f"{e.context}: {what}"
        if opened and e.problem_mark is not None:
            noticed = _mark_line(fm, first_line, e.problem_mark)
            if noticed != line:
                what += f" (noticed on line {noticed})"
        raise ArticleError(f"front matter: {what}", path=path, line=line) from e
    except yaml.YAMLError as e:
        raise ArticleError(f"front matter: {e}", path=path, line=first_line) from e
    except RecursionError as e:
        raise _too_deep(fm, path, first_line) from e


def _too_deep(fm: str, path: str, first_line: int) -> ArticleError:
    lines = fm.split("\n")
    deepest = max(range(len(lines)), key=lambda i: lines[i].count("[") + lines[i].count("{"))
    return ArticleError("front matter is nested too deeply", path=path, line=first_line + deepest)


MAX_TOML_KEY_PARTS = 32
"""Parts a dotted TOML key or table name may have (``a.b.c`` has 3): the standard library's
reader takes time and memory that grow faster than the square of them (20,000 parts: 4.5 s
and 1.6 GB)."""


_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _longest_dotted_key(fm: str) -> tuple[int, int]:
    """(parts, 0-based line) of the longest dotted key anywhere in TOML text: runs of bare or
    quoted keys joined by ``.``, outside strings. One pass, by hand: a key may be quoted and
    hold ``=`` or ``]``, and inline tables hold keys after an ``=``; over-counting inside an
    odd multi-line string is harmless (it only refuses an absurd file)."""
    best = (0, 0)
    parts = 0  # parts of the chain being read
    dot = False  # a "." after a key part, waiting for the next part
    line = 0
    i, n = 0, len(fm)
    while i < n:
        c = fm[i]
        if c in "\"'":  # a quoted key or a string: one part
            quote = c
            i += 1
            while i < n and fm[i] != quote and fm[i] != "\n":
                i += 2 if quote == '"' and fm[i] == "\\" else 1
            parts = parts + 1 if dot else 1
            dot = False
        elif c in _BARE_KEY:
            while i + 1 < n and fm[i + 1] in _BARE_KEY:
                i += 1
            parts = parts + 1 if dot else 1
            dot = False
        elif c == ".":
            dot = parts > 0
        elif c not in " \t":
            if c == "\n":
                line += 1
            parts, dot = 0, False
        if parts > best[0]:
            best = (parts, line)
        i += 1
    return best


def _check_toml_keys(fm: str, path: str, first_line: int) -> None:
    parts, line = _longest_dotted_key(fm)
    if parts > MAX_TOML_KEY_PARTS:
        raise ArticleError(
            f"front matter: a TOML key with more than {MAX_TOML_KEY_PARTS} dotted parts",
            path=path,
            line=first_line + line,
        )


def _load_toml(fm: str, path: str, first_line: int) -> Any:
    if "." in fm:
        _check_toml_keys(fm, path, first_line)
    try:
        return _TOML.load(fm)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        line = first_line + int(m[1]) - 1 if m else first_line
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise ArticleError(f"front matter: invalid TOML: {msg}", path=path, line=line) from e
    except ValueError as e:
        raise ArticleError(f"front matter: {e}", path=path, line=first_line) from e
    except RecursionError as e:
        raise _too_deep(fm, path, first_line) from e


def _key_lines(lines: list[str], first_line: int, pattern: re.Pattern[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for offset, text in enumerate(lines):
        m = pattern.match(text)
        if m:
            found.setdefault(norm_key(m[2]), first_line + offset)
    return found


def split_front_matter(
    text: str, path: str, known: frozenset[str], *, flat_yaml: bool = True
) -> FrontMatter:
    """Find and load the front matter (YAML, TOML or a ``Key: value`` block) of ``text``.
    ``flat_yaml``: flat YAML is read without PyYAML, to the same values
    (:func:`~feedpub.articles.flat_yaml.read_flat_yaml`); False: PyYAML reads all of it."""
    lines = text.split("\n")
    first = lines[0].rstrip()
    if lines[0].startswith("\ufeff"):  # a second byte-order mark
        lines[0] = lines[0].lstrip("\ufeff")
        first = lines[0].rstrip()
    if first in ("---", "+++"):  # exactly three: "-----" is a Markdown rule, not front matter
        closers = ("---", "...") if first[0] == "-" else ("+++",)
        for i in range(1, len(lines)):
            if lines[i].rstrip() in closers:
                block = "\n".join(lines[1:i])
                if len(block) > MAX_FRONT_MATTER_CHARS:
                    raise ArticleError(
                        f"front matter is {len(block):,} characters, over the limit of "
                        f"{MAX_FRONT_MATTER_CHARS:,} (put long text in the body)",
                        path=path,
                        line=1,
                    )
                body = "\n".join(lines[i + 1 :])
                if first[0] == "-":
                    raw = read_flat_yaml(block) if flat_yaml else None
                    if raw is None:
                        raw = _load_yaml(block, path, 2)
                    pattern = _YAML_KEY
                    kind: FrontMatterKind = "yaml"
                else:
                    raw = _load_toml(block, path, 2)
                    pattern = _TOML_KEY
                    kind = "toml"
                if raw is None:
                    raw = {}
                if not isinstance(raw, dict):
                    raise ArticleError(
                        f"front matter must be a mapping of keys to values, not a "
                        f"{type(raw).__name__}",
                        path=path,
                        line=2,
                    )
                data = {norm_key(str(k)): v for k, v in raw.items()}
                written = {norm_key(str(k)): str(k) for k in raw}
                return FrontMatter(
                    kind,
                    data,
                    body,
                    i + 2,
                    block=lines[1:i],
                    pattern=pattern,
                    written=written,
                )
        raise ArticleError(
            f"front matter opened with {first!r} on line 1 is never closed", path=path, line=1
        )
    headers = parse_header_block(lines, known)
    if headers is not None:
        return FrontMatter(
            "headers",
            dict(headers.data),
            "\n".join(lines[headers.end :]),
            headers.end + 1,
            lines=headers.lines,
            written=headers.written,
        )
    return FrontMatter("none", {}, text, 1, lines={})
