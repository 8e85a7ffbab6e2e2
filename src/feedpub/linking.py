"""Where references in article bodies lead (:mod:`feedpub.articles.refs` makes them; the
build resolves them when a page or feed is written): the lookup over the state store's
index, and the check of names no article file has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from feedpub.articles.refs import find_by_name, name_index, target_url
from feedpub.model import FeedFormat, IndexRow, Problem, Severity
from feedpub.render import Links
from feedpub.store import State
from feedpub.store.codec import to_us


class RefLookup:
    """Where references in bodies point (:mod:`feedpub.articles.refs`), from the index."""

    def __init__(
        self, state: State, links: Links, fmt: FeedFormat, now: datetime, *, tags: bool
    ) -> None:
        self._tags = tags
        self._state = state
        self._links = links
        self._format = fmt
        self._links_by_path = state.article_links(to_us(now))
        self._names: dict[str, list[str]] | None = None
        self._memo: dict[tuple[str, str], str | None] = {}

    def article_url(self, path: str) -> str | None:
        found = self._links_by_path.get(path)
        return found[0] if found else None

    def id_prefix(self, kind: str, value: str) -> str | None:
        """How the ids of the article a reference names are published (its slug, ":")."""
        path = value if kind == "path" else None
        if kind in ("name", "post"):
            path = self.find_article(value, by_file_name=kind == "post")
        found = self._links_by_path.get(path) if path else None
        return found[1] + ":" if found else None

    def find_article(self, name: str, *, by_file_name: bool) -> str | None:
        if self._names is None:
            self._names = name_index(self._state.article_paths())
        return find_by_name(self._names, name, by_file_name=by_file_name)

    def feed_url(self, kind: str, name: str) -> str | None:
        from feedpub.planning import category_key, tag_key

        if kind == "category":
            return self._links.feed_url(category_key(name), self._format)
        return self._links.feed_url(tag_key(name), self._format) if self._tags else None

    def resolve(self, kind: str, value: str) -> str | None:
        key = (kind, value)
        if key not in self._memo:
            self._memo[key] = target_url(kind, value, self, self._links.site.base_url)
        return self._memo[key]


def unresolved_names(
    rows: Sequence[IndexRow], names: Callable[[], dict[str, list[str]]]
) -> list[Problem]:
    """A warning for each article named by a link (Jekyll's post_url and link, Hugo's ref)
    that no article file is (paths are checked as the file is parsed)."""
    out: list[Problem] = []
    for r in rows:
        for ref, line in r.meta.refs if r.meta else ():
            kind, _, value = ref.partition(":")
            if kind in ("name", "post") and (
                find_by_name(names(), value, by_file_name=kind == "post") is None
            ):
                out.append(
                    Problem(
                        path=r.path,
                        line=line,
                        message=f"links to the article {value!r}, which no article file is",
                        severity=Severity.WARNING,
                    )
                )
    return out
