"""Writing output files: atomically, and only when the bytes changed.

A file is written to a temporary file in the same folder, flushed, then moved over the old one
with ``os.replace``: a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path, PurePosixPath

from feedpub.errors import OutputError

log = logging.getLogger(__name__)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_join(root: Path, relpath: str) -> Path:
    """``root / relpath``, refusing anything that would land outside ``root``."""
    rel = PurePosixPath(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\x00" in relpath:
        raise OutputError(f"refusing to write outside the output folder: {relpath!r}", path=root)
    return root.joinpath(*rel.parts)


_TEMPORARY = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")  # what write_atomic names its files


def write_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically. ``durable`` fsyncs the file first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror}", path=path) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write: {e.strerror}", path=path) from e


def sweep_temporaries(root: Path) -> int:
    """Remove the temporary files a killed writer left below ``root`` (call it holding the
    build lock, when nothing else writes there). Returns how many."""
    removed = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if _TEMPORARY.fullmatch(name):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))
                    removed += 1
    if removed:
        log.info("removed %d temporary files left by an interrupted build", removed)
    return removed


def file_matches(path: Path, digest: str, size: int | None = None) -> bool:
    """Whether ``path`` exists and holds bytes with this sha256 (a size check first)."""
    try:
        if size is not None and path.stat().st_size != size:
            return False
        return sha256(path.read_bytes()) == digest
    except OSError:
        return False


def remove(path: Path, root: Path) -> None:
    """Delete ``path`` and the folders it leaves empty, up to ``root``."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as e:
        raise OutputError(f"cannot remove: {e.strerror}", path=path) from e
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
