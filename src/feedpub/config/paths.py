"""``[paths]`` and ``[state]``: where feedpub reads articles, writes its output and keeps its
state; and the rule for what the output folder may be (real paths compared)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from feedpub.articles.discover import DEFAULT_EXCLUDE
from feedpub.config.checks import Report, Section
from feedpub.config.sections import PathsConfig, StateConfig


def read_paths(root: Section, base_dir: Path) -> PathsConfig:
    """``[paths]``: relative paths resolve against ``base_dir`` (the config file's folder),
    ``~`` against the home folder."""
    p = root.section("paths")

    def resolve(name: str, default: str) -> Path:
        raw = p.get(name, str, default)
        if not raw.strip():
            p.error(name, "must not be empty")
            raw = default
        path = Path(raw).expanduser()
        return path if path.is_absolute() else base_dir / path

    paths = PathsConfig(
        articles=resolve("articles", "articles"),
        output=resolve("output", "public"),
        state=resolve("state", ".feedpub/state.sqlite3"),
        exclude=p.str_list("exclude", DEFAULT_EXCLUDE),
    )
    p.done()
    return paths


def read_state(root: Section) -> StateConfig | None:
    """``[state]``: None for the SQLite file at ``paths.state``."""
    st = root.section("state")
    url = _state_url(st, st.get("url", str, ""))
    st.done()
    return StateConfig(url=url) if url else None


def real_path(path: Path) -> Path:
    """``path`` with every symlink resolved, also where it does not exist yet: its nearest
    existing parent is resolved, and the rest appended as written."""
    return Path(os.path.realpath(path))


def _within(inner: Path, outer: Path) -> bool:
    """Whether ``inner`` is ``outer`` or lies inside it (real paths)."""
    return inner == outer or outer in inner.parents


_HOME_PARENTS = (Path("/home"), Path("/Users"))


def _homes() -> set[Path]:
    homes = {Path("/root")}
    with contextlib.suppress(RuntimeError, KeyError):
        homes.add(real_path(Path.home()))
    return homes


def check_output(paths: PathsConfig, state: StateConfig | None, report: Report) -> None:
    """The output folder is where feedpub writes, replaces and deletes files, and what it
    serves: it may not be, hold or lie inside the articles folder; be or hold the state's
    folder (the state file, its journals, lock files and ledger), or hold the config file;
    be the root of the file system or a home folder. Real paths are compared (symlinks
    resolved), so no link can disguise one folder as another. Checked only when
    ``[paths]`` and ``[state]`` are good; a problem is reported to ``report``."""
    if not (report.clean(("paths",)) and report.clean(("state",))):
        return
    problem = _output_problem(paths, state, report.source)
    if problem is not None:
        report.add(
            ("paths", "output"),
            f"{real_path(paths.output)} {problem}; choose a folder of its own, such as ./public",
        )


def _output_problem(
    paths: PathsConfig, state: StateConfig | None, source: Path | None
) -> str | None:
    """What is wrong with the output folder, or None."""
    out = real_path(paths.output)
    if out.parent == out:
        return "is the root of the file system"
    homes = _homes()
    if out in homes or out.parent in _HOME_PARENTS:
        return "is a home folder"
    if any(_within(home, out) for home in (*homes, *_HOME_PARENTS)):
        return "holds home folders"
    articles = real_path(paths.articles)
    if out == articles:
        return "is the articles folder (paths.articles)"
    if _within(out, articles):
        return f"lies inside the articles folder {articles} (paths.articles)"
    if _within(articles, out):
        return f"holds the articles folder {articles} (paths.articles)"
    state_files = [(paths.state, "paths.state"), (real_path(paths.state), "paths.state")]
    if state is not None and state.url.startswith("sqlite:///"):  # the daemon's job store
        job_store = real_path(Path(state.url.removeprefix("sqlite:///")))
        state_files.append((job_store, "state.url"))
    for file, key in state_files:
        folder = real_path(file.parent)
        if out == folder:
            return f"is the folder of the state file {file} ({key})"
        if _within(folder, out):
            return f"holds the state file {file} ({key}) and its lock files"
    if source is not None and _within(real_path(source), out):
        return f"holds the config file {real_path(source)}"
    return None


STYLESHEET_SUFFIXES = (".xsl", ".xslt")


def read_stylesheet(f: Section, base_dir: Path, paths: PathsConfig) -> bool | Path:
    """``[feeds] stylesheet``: ``false`` (the default), ``true`` (feedpub's own), or the path
    of the site's own XSLT file (relative to the config file's folder). That file must lie
    inside the site's folder (real paths: no link leads out of it), outside the output
    folder (the build publishes it there as ``feeds/feed.xsl``) and the state's folder, and
    be a ``.xsl`` or ``.xslt`` file that exists."""
    raw = f.get("stylesheet", object, False)
    if isinstance(raw, bool):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        f.error("stylesheet", f"expected true, false or the path of an .xsl file, got {raw!r}")
        return False
    given = Path(raw).expanduser()
    path = real_path(given if given.is_absolute() else base_dir / given)
    site = real_path(base_dir)
    wrong = None
    if not _within(path, site) or path == site:
        wrong = f"must be a file inside the site's folder {site}"
    elif _within(path, real_path(paths.output)):
        wrong = f"lies inside the output folder {real_path(paths.output)} (paths.output)"
    elif _within(path, real_path(paths.state.parent)):
        wrong = f"lies inside the state's folder {real_path(paths.state.parent)}"
    elif path.suffix.lower() not in STYLESHEET_SUFFIXES:
        wrong = "must be an XSLT file named .xsl or .xslt"
    elif not path.is_file():
        wrong = "no such file" if not path.exists() else "is not a file"
    if wrong is not None:
        f.error("stylesheet", f"{raw!r}: {wrong}")
        return False
    return path


_STATE_SCHEMES = ("postgresql+psycopg", "postgresql", "sqlite")


def _state_url(sec: Section, value: str) -> str:
    """``[state] url``: empty (the SQLite file at ``paths.state``), a PostgreSQL URL
    (``postgresql://`` means the psycopg driver feedpub installs), or an ``sqlite:///`` URL
    (the daemon's job store only). Anything else is refused here, not by a traceback when
    the daemon starts."""
    if not value:
        return value
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in _STATE_SCHEMES or not rest:
        sec.error(
            "url",
            "must be a PostgreSQL URL such as postgresql+psycopg://user:password@host/db "
            f"(or empty, for the SQLite file at paths.state), got {_redacted(value)!r}",
        )
        return ""
    scheme = scheme.lower()
    return f"{'postgresql+psycopg' if scheme == 'postgresql' else scheme}://{rest}"


def _redacted(url: str) -> str:
    """A URL fit for a message: its password hidden."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
