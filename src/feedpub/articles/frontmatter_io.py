"""Front matter: finding the block, loading it as YAML or TOML, and reporting lines.

The YAML and TOML loaders are python-frontmatter handlers (its YAML handler uses PyYAML's C
safe loader when present); the block is found here, line by line, so that every error can name
the line of the file it is on.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from feedpub.errors import ArticleError

MAX_ALIAS_EXPANSION = 10_000

FrontMatterKind = Literal["yaml", "toml", "headers", "none"]


class TomllibHandler(BaseHandler):
    """python-frontmatter handler for ``+++`` TOML front matter using the standard library."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


_YAML = YAMLHandler()
_TOML = TomllibHandler()
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_ -]{0,39}):(?:[ \t]+(.*))?$")
_YAML_KEY = re.compile(r"^([A-Za-z_][\w -]*?)\s*:(?:\s|$)")
_TOML_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*=")
_BAD_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


@dataclass(frozen=True, slots=True)
class FrontMatter:
    kind: FrontMatterKind
    data: dict[str, Any]
    lines: dict[str, int]  # normalised key -> 1-based line of the file
    body: str
    body_line: int  # 1-based line where the body starts


def norm_key(key: str) -> str:
    return key.strip().lower().replace("-", "_").replace(" ", "_")


def _check_aliases(fm: str, path: str, first_line: int) -> None:
    """Refuse YAML whose aliases expand to a huge structure (a "billion laughs" bomb)."""
    try:
        root = yaml.compose(fm, Loader=_LOADER)
    except yaml.YAMLError:
        return  # the real load reports it with its line
    budget = MAX_ALIAS_EXPANSION
    stack: list[Any] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise ArticleError(
                f"front matter YAML aliases expand to more than {MAX_ALIAS_EXPANSION} values; "
                "refusing it (a YAML alias bomb?)",
                path=path,
                line=first_line,
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)


def _load_yaml(fm: str, path: str, first_line: int) -> Any:
    if "*" in fm:
        _check_aliases(fm, path, first_line)
    try:
        return _YAML.load(fm, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        # For an unclosed bracket or quote the context (where it opened) is the line to fix.
        mark = e.context_mark or e.problem_mark
        line = first_line + mark.line if mark is not None else first_line
        what = e.problem or "invalid YAML"
        if e.context:
            what = f"{e.context}: {what}"
        if e.context_mark and e.problem_mark and e.problem_mark.line != e.context_mark.line:
            what += f" (noticed on line {first_line + e.problem_mark.line})"
        raise ArticleError(f"front matter: {what}", path=path, line=line) from e
    except yaml.YAMLError as e:
        raise ArticleError(f"front matter: {e}", path=path, line=first_line) from e
    except (ValueError, OverflowError) as e:  # PyYAML raises these for impossible dates
        line = first_line
        for offset, text in enumerate(fm.split("\n")):
            m = _BAD_DATE.search(text)
            if m and not _valid_ymd(int(m[1]), int(m[2]), int(m[3])):
                line = first_line + offset
                break
        raise ArticleError(f"front matter: impossible date ({e})", path=path, line=line) from e


def _valid_ymd(y: int, m: int, d: int) -> bool:
    import datetime as _dt

    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _load_toml(fm: str, path: str, first_line: int) -> Any:
    try:
        return _TOML.load(fm)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        line = first_line + int(m[1]) - 1 if m else first_line
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise ArticleError(f"front matter: invalid TOML: {msg}", path=path, line=line) from e
    except ValueError as e:
        raise ArticleError(f"front matter: {e}", path=path, line=first_line) from e


def _key_lines(lines: list[str], first_line: int, pattern: re.Pattern[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for offset, text in enumerate(lines):
        m = pattern.match(text)
        if m:
            found.setdefault(norm_key(m[1]), first_line + offset)
    return found


def _header_block(
    lines: list[str], known: frozenset[str]
) -> tuple[dict[str, Any], dict[str, int], int] | None:
    """A leading block of ``Key: value`` lines (ended by a blank line), if the file has one.

    It counts as headers only if every line of it is a header line and one key is a known field.
    """
    data: dict[str, Any] = {}
    where: dict[str, int] = {}
    end = 0
    for i, text in enumerate(lines):
        if not text.strip():
            end = i
            break
        m = _HEADER_LINE.match(text.rstrip())
        if m is None:
            return None
        key = norm_key(m[1])
        value = (m[2] or "").strip()
        if key in data and isinstance(data[key], str) and key in ("categories", "category", "tags"):
            data[key] = f"{data[key]}, {value}"  # repeated header lines add up
        else:
            data.setdefault(key, value)
        where.setdefault(key, i + 1)
    else:
        end = len(lines)
    if not data or not (set(data) & known):
        return None
    return data, where, end


def split_front_matter(text: str, path: str, known: frozenset[str]) -> FrontMatter:
    """Find and load the front matter (YAML, TOML or a ``Key: value`` block) of ``text``."""
    lines = text.split("\n")
    first = lines[0].rstrip()
    if first in ("---", "+++") or (len(first) > 3 and set(first) in ({"-"}, {"+"})):
        closers = ("---", "...") if first[0] == "-" else ("+++",)
        for i in range(1, len(lines)):
            if lines[i].rstrip() in closers or (
                len(lines[i].rstrip()) >= 3 and set(lines[i].rstrip()) == {first[0]}
            ):
                block = "\n".join(lines[1:i])
                body = "\n".join(lines[i + 1 :])
                if first[0] == "-":
                    raw = _load_yaml(block, path, 2)
                    key_lines = _key_lines(lines[1:i], 2, _YAML_KEY)
                    kind: FrontMatterKind = "yaml"
                else:
                    raw = _load_toml(block, path, 2)
                    key_lines = _key_lines(lines[1:i], 2, _TOML_KEY)
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
                return FrontMatter(kind, data, key_lines, body, i + 2)
        raise ArticleError(
            f"front matter opened with {first!r} on line 1 is never closed", path=path, line=1
        )
    headers = _header_block(lines, known)
    if headers is not None:
        data, where, end = headers
        return FrontMatter("headers", data, where, "\n".join(lines[end + 1 :]), end + 2)
    return FrontMatter("none", {}, {}, text, 1)
