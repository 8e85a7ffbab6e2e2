"""One exception hierarchy for everything feedpub reports.

Every error carries the data a person needs to act on it (a path and a line, a feed, a URL),
and renders itself as one line through ``str()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def one_line(error: BaseException | str) -> str:
    """An error's text on one line (drivers such as psycopg write several), or its type's
    name when it has no text."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return text or (type(error).__name__ if isinstance(error, BaseException) else "")


def printable(text: str) -> str:
    """``text`` with line breaks and other control characters escaped: a file named
    ``a.md\nconfig.toml:1: error: ...`` must not forge a line of a report."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class FeedpubError(Exception):
    """The root of every error feedpub raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a config file: the dotted ``key`` it is about (empty for the file
    as a whole), the 1-based ``line`` of config.toml when it can be told, and what is wrong."""

    key: str
    message: str
    line: int | None = None
    severity: str = "error"  # or "warning": the config is used all the same

    def where(self, path: Path | None) -> str:
        """``config.toml:3`` (or what of it is known)."""
        file = printable(str(path)) if path is not None else ""
        if self.line is None:
            return file
        return f"{file}:{self.line}" if file else f"line {self.line}"

    def render(self, path: Path | None) -> str:
        """The problem as a report line: ``config.toml:3: error: site.baseurl: unknown key``."""
        where = self.where(path)
        what = f"{printable(self.key)}: " if self.key else ""
        return f"{where + ': ' if where else ''}{self.severity}: {what}{self.message}"


class ConfigError(FeedpubError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` holds every problem found (a config is checked whole, so that one run
    shows them all), in the order to report them; ``message``, ``key`` and ``line`` are
    the first one's. ``key`` is the dotted name of the offending key (``feeds.max_entries``),
    when there is one. ``str()`` is one line: the first problem, and how many more there are.
    """

    def __init__(
        self,
        message: str = "",
        *,
        path: Path | None = None,
        key: str | None = None,
        line: int | None = None,
        problems: Sequence[ConfigProblem] = (),
    ) -> None:
        self.problems = tuple(problems) or (ConfigProblem(key or "", message, line),)
        first = self.problems[0]
        self.message = first.message
        self.path = path
        self.key = first.key or None
        self.line = first.line
        where = first.where(path)
        what = f"{first.key}: " if first.key else ""
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{where + ': ' if where else ''}{what}{first.message}{tail}")

    def lines(self) -> list[str]:
        """Every problem as a report line (``config.toml:3: error: site.x: ...``)."""
        return [problem.render(self.path) for problem in self.problems]


class ArticleError(FeedpubError):
    """One article file cannot be published as it is.

    ``line`` is 1-based when known. ``str()`` gives the familiar ``path:line: message``.
    """

    def __init__(self, message: str, *, path: Path | str, line: int | None = None) -> None:
        self.message = message
        self.path = str(path)
        self.line = line
        super().__init__(self.location() + ": " + message)

    def location(self) -> str:
        path = printable(self.path)
        return f"{path}:{self.line}" if self.line is not None else path


class RenderError(FeedpubError):
    """A feed (or one entry of it) could not be rendered."""

    def __init__(self, message: str, *, feed: str, article: str | None = None) -> None:
        self.message = message
        self.feed = feed
        self.article = article
        about = f" (article {article})" if article else ""
        super().__init__(f"feed {feed}{about}: {message}")


class OutputError(FeedpubError):
    """An output file could not be written; the previous version is left in place."""

    def __init__(self, message: str, *, path: Path) -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}")


class OutputRefused(OutputError):
    """One output file is not feedpub's to write (a file it did not write, a folder, a
    symlink on the way): it is left as it is, and the build reports it and goes on."""


class ServerError(FeedpubError):
    """The HTTP server cannot start: its address cannot be resolved or bound."""


class BuildCancelled(FeedpubError):
    """A build was asked to stop; what it stored so far is consistent, the rest waits."""


class StateError(FeedpubError):
    """The state store cannot be opened or used."""


class NotifyError(FeedpubError):
    """A notification could not be delivered to ``url``."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None, retryable: bool = True
    ) -> None:
        self.message = message
        self.url = url
        self.status = status
        self.retryable = retryable
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{url}{code}: {message}")


class FeedReadError(FeedpubError):
    """An old site's feed given to ``feedpub adopt`` could not be read or is no feed."""

    def __init__(self, message: str, *, source: str) -> None:
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}")
