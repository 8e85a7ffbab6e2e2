"""Finding article files: regular files with an article suffix, nothing else.

Ignored: hidden files and folders, editor backups, swaps and locks (``x.md~``, ``.x.md.swp``,
``#x.md#``, ``.#x.md``), temporary and partial downloads, FIFOs and devices, and symlinks whose
target leaves the articles folder (or is not a regular file). Symlinked folders are not followed.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
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


def is_article_relpath(relpath: str) -> bool:
    """Whether a path relative to the articles folder could be an article (no hidden folders)."""
    parts = relpath.split("/")
    return all(p and not p.startswith(".") for p in parts[:-1]) and is_article_name(parts[-1])


def stat_paths(root: Path, relpaths: Iterable[str]) -> dict[str, FileStat]:
    """Of these relative paths, the article files that exist now (the rules of :func:`scan`)."""
    real_root = os.path.realpath(root)
    found: dict[str, FileStat] = {}
    for rel in relpaths:
        if not is_article_relpath(rel):
            continue
        path = os.path.join(root, rel)
        try:
            if os.path.islink(path):
                target = os.path.realpath(path)
                if os.path.commonpath([real_root, target]) != real_root:
                    continue
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            found[rel] = FileStat(st.st_size, st.st_mtime_ns)
    return found


def scan(root: Path) -> dict[str, FileStat]:
    """Every article file below ``root``: POSIX relative path → size and mtime, sorted by path."""
    found: dict[str, FileStat] = {}
    real_root = os.path.realpath(root)
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as e:
            log.warning("%s: cannot list folder: %s", folder, e.strerror)
            continue
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not name.startswith("."):
                        stack.append((entry.path, f"{prefix}{name}/"))
                    continue
                if not is_article_name(name):
                    continue
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if os.path.commonpath([real_root, target]) != real_root:
                        log.debug("%s: symlink leaves the articles folder; ignored", entry.path)
                        continue
                    st = os.stat(entry.path)
                else:
                    st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished or unreadable while scanning: the next scan sees it
            if stat.S_ISREG(st.st_mode):
                found[prefix + name] = FileStat(st.st_size, st.st_mtime_ns)
    return dict(sorted(found.items()))
