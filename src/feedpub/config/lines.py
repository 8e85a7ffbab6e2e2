"""Where each key of a TOML file is: tomllib gives values, not lines, so the text is read here
once more, by hand, for the line of every ``[table]`` header, ``key =`` (dotted keys too) and
key inside an inline table (``podcast = { image = "..." }``).

It runs only on text tomllib has already read without error, skips strings (multi-line ones
too), comments and arrays as TOML does, and keeps a line only for a key that the parsed data
holds at that path: a key it cannot place gets no line, never a wrong one. One pass, linear in
the text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping

Path = tuple[str, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SPACE = " \t"


class _Unreadable(Exception):
    """The text is not what this reader expects (it gives up: no lines)."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.found: dict[Path, int] = {}  # where each path is written
        self.implied: dict[Path, int] = {}  # where a table is first implied (a.b = 1: a)

    # --- characters ---------------------------------------------------------------------------

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def advance(self, n: int = 1) -> None:
        self.line += self.text.count("\n", self.i, self.i + n)
        self.i += n

    def spaces(self) -> None:
        while self.peek() and self.peek() in _SPACE:
            self.i += 1

    def to_line_end(self) -> None:
        end = self.text.find("\n", self.i)
        self.i = len(self.text) if end < 0 else end

    def blank(self) -> None:
        """Spaces, line breaks and comments (inside arrays, and between statements)."""
        while True:
            self.spaces()
            c = self.peek()
            if c == "#":
                self.to_line_end()
            elif c in ("\n", "\r") and c:
                self.advance()
            else:
                return

    # --- keys -----------------------------------------------------------------------------------

    def key(self) -> Path:
        """A dotted key (``a."b c".d``) as its parts."""
        parts: list[str] = []
        while True:
            self.spaces()
            c = self.peek()
            if c in {'"', "'"}:
                start = self.i
                self.string()
                raw = self.text[start : self.i]
                parts.append(str(tomllib.loads(f"k = {raw}")["k"]))
            elif c and c in _BARE:
                start = self.i
                while self.peek() and self.peek() in _BARE:
                    self.i += 1
                parts.append(self.text[start : self.i])
            else:
                raise _Unreadable
            self.spaces()
            if self.peek() != ".":
                return tuple(parts)
            self.i += 1

    def record(self, path: Path, line: int, *, implies: int = 0) -> None:
        """``path`` is written on ``line``; so are the tables its last ``implies`` parts
        are in (a dotted key, a table header), unless they are written elsewhere."""
        self.found.setdefault(path, line)
        for n in range(len(path) - implies, len(path)):
            if n > 0:
                self.implied.setdefault(path[:n], line)

    # --- values ---------------------------------------------------------------------------------

    def string(self) -> None:
        """Past one string of any of TOML's four kinds."""
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.advance(3)
            while True:
                c = self.peek()
                if not c:
                    raise _Unreadable
                if c == "\\" and quote == '"':
                    self.advance(2)
                elif self.peek(3) == quote * 3:
                    run = 3
                    while self.peek(run + 1) == quote * (run + 1) and run < 5:
                        run += 1
                    self.advance(run)
                    return
                else:
                    self.advance()
        self.i += 1
        while True:
            c = self.peek()
            if not c or c == "\n":
                raise _Unreadable
            if c == "\\" and quote == '"':
                self.i += 2
            elif c == quote:
                self.i += 1
                return
            else:
                self.i += 1

    def value(self, path: Path | None) -> None:
        """Past one value; the keys of an inline table are recorded under ``path`` (None: in
        an array, where they are not)."""
        self.spaces()
        c = self.peek()
        if c in {'"', "'"}:
            self.string()
        elif c == "[":
            self.i += 1
            while True:
                self.blank()
                if self.peek() == "]":
                    self.i += 1
                    return
                self.value(None)
                self.blank()
                if self.peek() == ",":
                    self.i += 1
                elif self.peek() != "]":
                    raise _Unreadable
        elif c == "{":
            self.i += 1
            self.spaces()
            if self.peek() == "}":
                self.i += 1
                return
            while True:
                self.spaces()
                line = self.line
                key = self.key()
                if path is not None:
                    self.record(path + key, line, implies=len(key) - 1)
                if self.peek() != "=":
                    raise _Unreadable
                self.i += 1
                self.value(None if path is None else path + key)
                self.spaces()
                if self.peek() == ",":
                    self.i += 1
                elif self.peek() == "}":
                    self.i += 1
                    return
                else:
                    raise _Unreadable
        elif c:
            while self.peek() and self.peek() not in ",]}#\n\r" + _SPACE:
                self.i += 1
        else:
            raise _Unreadable

    # --- the file -------------------------------------------------------------------------------

    def document(self) -> None:
        table: Path = ()
        while True:
            self.blank()
            if not self.peek():
                return
            line = self.line
            if self.peek() == "[":
                double = self.peek(2) == "[["
                self.i += 2 if double else 1
                table = self.key()
                if self.peek(2 if double else 1) != ("]]" if double else "]"):
                    raise _Unreadable
                self.i += 2 if double else 1
                self.record(table, line, implies=len(table) - 1)
            else:
                key = self.key()
                if self.peek() != "=":
                    raise _Unreadable
                self.i += 1
                self.record(table + key, line, implies=len(key) - 1)
                self.value(table + key)
            self.spaces()
            if self.peek() == "#":
                self.to_line_end()


def _holds(data: Mapping[str, object], path: Path) -> bool:
    node: object = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def key_lines(text: str, data: Mapping[str, object]) -> dict[Path, int]:
    """The 1-based line of each table and key of ``text`` (TOML that parsed as ``data``),
    by path: ``("feeds", "categories", "News", "title")``. Only paths ``data`` holds."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (_Unreadable, tomllib.TOMLDecodeError, KeyError, RecursionError):
        return {}
    found = {**scanner.implied, **scanner.found}
    return {path: line for path, line in found.items() if _holds(data, path)}
