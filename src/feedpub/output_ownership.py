"""Whose the output folder is, and which of its paths feedpub may write.

* :func:`claim_output` decides whether a folder is feedpub's output (absent or empty, holding
  the :data:`~feedpub.output.MARKER`, or holding a file the state's output manifest lists,
  with the bytes listed), and marks it so; :func:`output_id` reads (or makes) the marker's id.
  Builds and daemons both call it before they write or serve anything.
* :func:`may_write` decides whether one path may be written: a path the manifest lists, or a
  new one; never a file feedpub did not write, never a folder.

The files are read and written through :mod:`feedpub.output`, which follows no symlink below
the folder.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from feedpub.errors import OutputError, OutputRefused
from feedpub.output import (
    _TEMPORARY,
    MARKER,
    _reason,
    matches,
    read_file,
    stat_file,
    write_file,
)

IGNORED_IN_EMPTY = frozenset({"lost+found"})  # a fresh file system mounted as the output


def may_write(root: Path, relpath: str, *, owned: bool) -> str | None:
    """Whether feedpub may write ``root/relpath``: why not, or None if it may.

    ``owned``: the manifest lists the path (feedpub wrote it), or the operator adopted the
    folder for this build. An owned path may be replaced whatever is there now (a file
    edited or swapped for a symlink: the symlink is replaced, never followed), except a
    folder; a path nobody owns only if nothing is there."""
    try:
        st = stat_file(root, relpath)
    except OutputError as e:
        return e.message
    if st is None:
        return None
    if stat.S_ISDIR(st.st_mode):
        return "a folder is where feedpub writes this file; left alone"
    if owned:
        return None
    return (
        "exists, and feedpub did not write it (the output manifest does not list it): "
        "left alone; move it away for feedpub to publish this file"
    )


def _empty(root: Path) -> bool:
    with os.scandir(root) as entries:
        return all(
            e.name in IGNORED_IN_EMPTY or _TEMPORARY.fullmatch(e.name) is not None for e in entries
        )


def _holds_a_listed_file(root: Path, manifest: Mapping[str, tuple[str, int]]) -> bool:
    """Whether a file the manifest lists is there with the bytes it lists (sizes first)."""
    return any(matches(root, relpath, digest, size) for relpath, (digest, size) in manifest.items())


def is_feedpub_output(root: Path, manifest: Callable[[], Mapping[str, tuple[str, int]]]) -> bool:
    """The one rule for "this folder is feedpub's output": it does not exist yet, is empty,
    holds the :data:`MARKER`, or holds a file the state's output manifest (``relpath ->
    (sha256, size)``, asked for only when needed) lists, with the bytes it lists (a folder
    published into by an earlier feedpub, before the marker existed)."""
    try:
        st = os.stat(root)
    except FileNotFoundError:
        return True
    except OSError as e:
        raise OutputError(f"cannot read the output folder: {_reason(e)}", path=root) from e
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError("is not a folder (paths.output)", path=root)
    try:
        if stat_file(root, MARKER) is not None or _empty(root):
            return True
    except OSError as e:
        raise OutputError(f"cannot read the output folder: {_reason(e)}", path=root) from e
    return _holds_a_listed_file(root, manifest())


NOT_OURS = (
    "holds files feedpub did not write (no {marker}, and none of the files the state's "
    "output manifest lists): choose an empty folder for paths.output, or, to publish into "
    "this one, run `feedpub build --adopt` once (files at the paths feedpub publishes are "
    "then replaced; the others are left alone, and served)"
)


def claim_output(
    root: Path,
    manifest: Callable[[], Mapping[str, tuple[str, int]]],
    *,
    adopt: bool = False,
) -> str:
    """Make sure ``root`` is feedpub's output folder, create it and its marker if needed,
    and return its id (the marker's content). ``adopt``: take a folder that is not (the
    operator said so). Raises :class:`OutputError` with what to do."""
    if not adopt and not is_feedpub_output(root, manifest):
        raise OutputError(NOT_OURS.format(marker=MARKER), path=root)
    return output_id(root)


def output_id(root: Path) -> str:
    """The id in the output folder's marker, made by whichever process first needs it: two
    daemons (or containers, or NFS clients) writing one folder read the same id, however they
    reach it. Call it only for a folder :func:`claim_output` accepted."""
    path = root / MARKER
    for _ in range(50):
        found = read_file(root, MARKER)
        if found is not None and found[0].strip():
            return found[0].decode("ascii", "replace").strip()
        if found is None:
            try:
                write_file(root, MARKER, secrets.token_hex(16).encode() + b"\n", new=True)
            except OutputRefused:
                pass  # another process made it this very moment: read theirs
            except OutputError as e:
                raise OutputError(e.message, path=path) from e
            continue
        time.sleep(0.01)  # (only without hard links can a marker be seen half-written)
    raise OutputError("the output folder's marker is empty or unreadable", path=path)
