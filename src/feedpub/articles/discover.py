"""Finding article files: regular files with an article suffix, nothing else.

Ignored silently (they are no articles): hidden files and folders, editor backups, swaps and
locks (``x.md~``, ``.x.md.swp``, ``#x.md#``, ``.#x.md``), temporary and partial downloads,
the files operating systems leave in folders (``Thumbs.db``, ``desktop.ini``).
Counted (:func:`count_other`, one line in the build summary: ``12 not articles (.png 9,
.jpg 3)``): every other file that is no article (images, scripts, data...).
Skipped and reported (:class:`SkippedFile`, for the build summary and the log): anything named
like an article that cannot be one: a symlink leading outside the articles folder, or to
nothing, or to something other than a regular file; a folder, FIFO, socket or device; a file or
folder that cannot be read. Symlinked folders are not followed.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from feedpub.articles.media import MEDIA_SUFFIXES
from feedpub.model import SkippedFile

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mkd", ".mdown")  # (Pelican's, and the usual ones)
ARTICLE_SUFFIXES = (*MARKDOWN_SUFFIXES, ".txt", ".rst", ".html", ".htm")
_TEMP_SUFFIXES = (".swp", ".swo", ".swx", ".tmp", ".temp", ".part", ".crdownload", ".bak", ".orig")


class FileStat(NamedTuple):
    size: int
    mtime_ns: int


def is_article_name(name: str) -> bool:
    """Whether a file name (no folder) is one feedpub reads as an article."""
    if name.endswith(".md") and name[0] not in ".#~":  # the common case, fast
        return not name.startswith("~$")
    if not name or name[0] in ".#~" or name.endswith(("~", "#")):
        return False
    lower = name.lower()
    if lower.endswith(_TEMP_SUFFIXES) or lower.startswith("~$"):
        return False
    return lower.endswith(ARTICLE_SUFFIXES)


def is_scratch_name(name: str) -> bool:
    """Hidden files, editor backups, swaps and locks, temporary and partial files."""
    if not name or name[0] in ".#~" or name.endswith(("~", "#")):
        return True
    lower = name.lower()
    return lower.endswith(_TEMP_SUFFIXES) or lower.startswith("~$")


_SYSTEM_FILES = frozenset(["thumbs.db", "desktop.ini", "ehthumbs.db"])
NO_SUFFIX = "(no suffix)"


def count_other(others: dict[str, int] | None, name: str) -> None:
    """Count a file that is no article under its suffix (lowercase) in ``others``, unless it is
    not worth a word (hidden, a backup or temporary file, an operating system's file) or is
    a file articles may link to (an image, audio, a document: published when one does). The
    one place that decides which other files a build mentions."""
    if others is None or is_scratch_name(name) or name.lower() in _SYSTEM_FILES:
        return
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else NO_SUFFIX
    if suffix in MEDIA_SUFFIXES:
        return  # (images, audio, documents: published when an article links to them)
    others[suffix] = others.get(suffix, 0) + 1


def is_article_relpath(relpath: str) -> bool:
    """Whether a path relative to the articles folder could be an article (no hidden folders)."""
    parts = relpath.split("/")
    return all(p and not p.startswith(".") for p in parts[:-1]) and is_article_name(parts[-1])


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "something other than a file"


def _not_regular(rel: str, mode: int, *, link: bool) -> SkippedFile:
    if link:
        detail = f"a symlink to {_kind(mode)}, not to a regular file"
    elif stat.S_ISDIR(mode):
        detail = "a folder named like an article (the articles inside it are read)"
    else:
        detail = f"{_kind(mode)}, not a regular file"
    return SkippedFile(path=rel, reason="not_regular", detail=detail)


def _outside(rel: str) -> SkippedFile:
    return SkippedFile(
        path=rel, reason="outside", detail="a symlink leading outside the articles folder"
    )


def _unusable(rel: str, e: OSError, *, link: bool) -> SkippedFile | None:
    """Why stat() failed, as a skipped file; None when the file is simply gone."""
    if e.errno == errno.ELOOP:
        return SkippedFile(path=rel, reason="dangling", detail="a symlink loop")
    if e.errno in (errno.ENOENT, errno.ENOTDIR):
        if not link:
            return None  # deleted while we looked: the next look sees it
        return SkippedFile(
            path=rel, reason="dangling", detail="a dangling symlink (nothing at its target)"
        )
    return SkippedFile(path=rel, reason="unreadable", detail=f"cannot read it: {e.strerror}")


DEFAULT_EXCLUDE = ("pages/*", "_drafts/*", "_index.md", "*/_index.md")
"""Not articles, in the layouts of other generators: Pelican's pages, Jekyll's drafts, Hugo's
section files (``[paths] exclude``; ``*`` matches across folders)."""


def excluding(
    stats: dict[str, FileStat], patterns: Iterable[str]
) -> tuple[dict[str, FileStat], list[str]]:
    """``stats`` without the paths ``patterns`` exclude, and those paths (sorted)."""
    patterns = tuple(patterns)
    if not patterns:
        return stats, []
    out = [p for p in stats if any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]
    if not out:
        return stats, []
    gone = set(out)
    return {p: st for p, st in stats.items() if p not in gone}, sorted(out)


def file_beside(root: str, relpath: str) -> os.stat_result | None:
    """The status of ``relpath`` if it is a regular file that lies inside ``root`` (symlinks
    followed only as far as that, as for articles) and in no hidden folder, nor hidden
    itself, wherever a symlink leads (.git, .private); else None. The one rule for files
    beside the articles that articles link to."""
    path = os.path.join(root, relpath)
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    if not stat.S_ISREG(st.st_mode) or not real.startswith(real_root + os.sep):
        return None
    if any(part.startswith(".") for part in real[len(real_root) + 1 :].split(os.sep)):
        return None
    return st


def stat_paths(
    root: Path, relpaths: Iterable[str], skipped: list[SkippedFile] | None = None
) -> dict[str, FileStat]:
    """Of these relative paths, the article files that exist now (the rules of :func:`scan`).

    Those named like articles that cannot be used are added to ``skipped``, when given."""
    real_root = os.path.realpath(root)
    found: dict[str, FileStat] = {}
    unusable: list[SkippedFile] = []
    for rel in relpaths:
        if not is_article_relpath(rel):
            continue
        path = os.path.join(root, rel)
        link = False
        try:
            link = os.path.islink(path)
            if link:
                target = os.path.realpath(path)
                if os.path.commonpath([real_root, target]) != real_root:
                    unusable.append(_outside(rel))
                    continue
            st = os.stat(path)
        except OSError as e:
            if (skip := _unusable(rel, e, link=link)) is not None:
                unusable.append(skip)
            continue
        if stat.S_ISREG(st.st_mode):
            found[rel] = FileStat(st.st_size, st.st_mtime_ns)
        else:
            unusable.append(_not_regular(rel, st.st_mode, link=link))
    if skipped is not None:
        skipped.extend(sorted(unusable, key=lambda s: s.path))
    return found


def scan(
    root: Path, skipped: list[SkippedFile] | None = None, others: dict[str, int] | None = None
) -> dict[str, FileStat]:
    """Every article file below ``root``: POSIX relative path → size and mtime, sorted by path.

    Files named like articles that cannot be used (symlinks leading outside the folder or
    nowhere, folders, FIFOs, sockets and devices, and files and folders that cannot be read)
    are added to ``skipped``, sorted by path, when it is given. Other files are counted by
    suffix in ``others``, when it is given (:func:`count_other`; no extra system call)."""
    found: dict[str, FileStat] = {}
    unusable: list[SkippedFile] = []
    real_root = os.path.realpath(root)
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue  # gone meanwhile (a missing articles folder is the caller's to report)
        except OSError as e:
            unusable.append(
                SkippedFile(
                    path=prefix.rstrip("/") or ".",
                    reason="unreadable",
                    detail=f"cannot list the folder: {e.strerror}",
                )
            )
            continue
        for entry in entries:
            name = entry.name
            rel = prefix + name
            link = False
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not name.startswith("."):
                        stack.append((entry.path, f"{rel}/"))
                        if is_article_name(name):
                            unusable.append(_not_regular(rel, stat.S_IFDIR, link=False))
                    continue
                if not is_article_name(name):
                    if others is not None and entry.is_file(follow_symlinks=False):
                        count_other(others, name)
                    continue
                link = entry.is_symlink()
                if link:
                    target = os.path.realpath(entry.path)
                    if os.path.commonpath([real_root, target]) != real_root:
                        log.debug("%s: symlink leaves the articles folder; ignored", entry.path)
                        unusable.append(_outside(rel))
                        continue
                    st = os.stat(entry.path)
                else:
                    st = entry.stat(follow_symlinks=False)
            except OSError as e:
                if (skip := _unusable(rel, e, link=link)) is not None:
                    unusable.append(skip)
                continue
            if stat.S_ISREG(st.st_mode):
                found[rel] = FileStat(st.st_size, st.st_mtime_ns)
            else:
                unusable.append(_not_regular(rel, st.st_mode, link=link))
    if skipped is not None:
        skipped.extend(sorted(unusable, key=lambda s: s.path))
    return dict(sorted(found.items()))
