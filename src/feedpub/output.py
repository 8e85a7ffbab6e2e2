"""The output folder: whose it is, what may be written and served in it, and writing there.

Every rule about the output folder lives here, once (whose it is, :func:`claim_output` and
:func:`may_write`, in :mod:`feedpub.output_ownership`):

* :func:`claim_output` decides whether a folder is feedpub's output (empty or absent, holding
  the :data:`MARKER`, or holding a file its manifest lists, with the bytes listed), and marks
  it so. Builds and daemons both call it before they write or serve anything.
* :func:`may_write` decides whether one path may be written: a path the manifest lists, or a
  new one; never a file feedpub did not write, never a folder.
* :func:`servable` decides which files may be served: never dotfiles, temporaries, locks,
  state files (``deploy/nginx.conf`` denies the same pattern). A pure rule over paths, it is
  defined in :mod:`feedpub.private` (parsing uses it too, without this writer) and
  re-exported here.
* :func:`write_file` (and :func:`write_stream`, for large files, a chunk at a time),
  :func:`remove_file`, :func:`read_file`, :func:`open_file` and :func:`matches` work below
  the folder without following a symlink anywhere below it (each folder is opened with
  ``O_NOFOLLOW``, relative to its parent's descriptor), so no symlink placed in the output
  folder can lead a write, a deletion or a read outside it.

A file is written to a temporary file in the same folder, then moved over the old one with
``os.replace``: a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from feedpub.errors import OutputError, OutputRefused
from feedpub.private import PRIVATE_PATTERN as PRIVATE_PATTERN  # noqa: PLC0414 (re-exported)
from feedpub.private import servable as servable  # noqa: PLC0414 (re-exported)

log = logging.getLogger(__name__)

MARKER = ".feedpub-output-id"  # in the output folder: it is feedpub's; tells folders apart

# a relative path of plain names: no empty, "." or leading "/" part, no NUL
_PLAIN = re.compile(r"(?!\.(?:/|$))[^/\x00]+(?:/(?!\.(?:/|$))[^/\x00]+)*")
_TEMPORARY = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")  # what write_file names its files
_TEMP_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO must not block
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NOT_LINKABLE = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parts(root: Path, relpath: str) -> tuple[str, ...]:
    if _PLAIN.fullmatch(relpath):  # (the common case, as PurePosixPath reads it, faster)
        parts = tuple(relpath.split("/"))
        if ".." not in parts:
            return parts
    rel = PurePosixPath(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\x00" in relpath:
        raise OutputError(f"refusing to write outside the output folder: {relpath!r}", path=root)
    return rel.parts


def safe_join(root: Path, relpath: str) -> Path:
    """``root / relpath``, refusing anything that would land outside ``root``."""
    return root.joinpath(*_parts(root, relpath))


# -- working below the folder without following symlinks -----------------------------------


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__


@contextlib.contextmanager
def _folder(root: Path, parts: tuple[str, ...], *, create: bool) -> Iterator[int | None]:
    """A descriptor of the folder ``root/parts...``, reached without following a symlink
    below ``root`` (``root`` itself may be one: the operator chose it). ``None`` when it does
    not exist and ``create`` is false. A symlink or a file on the way: :class:`OutputRefused`.
    """
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        if not create:
            yield None
            return
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, name in enumerate(parts):
            try:
                nfd = os.open(name, _DIR, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    yield None
                    return
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o755, dir_fd=fd)
                nfd = os.open(name, _DIR, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    where = "/".join(parts[: i + 1])
                    raise OutputRefused(
                        f"{where} is a symlink or a file, not a folder: feedpub does not "
                        "write, read or remove anything through it",
                        path=root / where,
                    ) from e
                raise
            os.close(fd)
            fd = nfd
        yield fd
    finally:
        os.close(fd)


def _lstat_at(fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _temporary(fd: int, name: str) -> tuple[str, int]:
    """A new temporary file beside ``name``: (its name, a descriptor open for writing)."""
    while True:
        tmp = f".{name}.{''.join(secrets.choice(_TEMP_ALPHABET) for _ in range(8))}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            return tmp, os.open(tmp, flags, 0o644, dir_fd=fd)
        except FileExistsError:
            continue


_APPEARED = "appeared while feedpub was writing it; left alone"


def _write_at(
    fd: int,
    name: str,
    chunks: Iterable[bytes],
    *,
    new: bool,
    durable: bool,
    expect: str | None = None,
) -> tuple[str, int]:
    """Write ``chunks`` as ``name`` in the folder ``fd`` atomically, one chunk in memory at a
    time; returns their sha256 and size, computed as they are written. ``new``: only if
    nothing is there (:class:`OutputRefused` otherwise), checked as the file is put in place.
    ``expect``: a sha256 the bytes must have, or nothing is put in place (OutputRefused)."""
    tmp, out = _temporary(fd, name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(out, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            os.fchmod(f.fileno(), 0o644)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if expect is not None and digest.hexdigest() != expect:
            raise OutputRefused(
                "the bytes copied are not those recorded (changed meanwhile); not replaced",
                path=Path(name),
            )
        if not new:
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
            return digest.hexdigest(), size
        try:  # a hard link is never made over an existing name: no race with its owner
            os.link(tmp, name, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
        except FileExistsError as e:
            raise OutputRefused(_APPEARED, path=Path(name)) from e
        except OSError as e:
            if e.errno not in _NOT_LINKABLE:
                raise
            if _lstat_at(fd, name) is not None:  # (no hard links here: check, then move)
                raise OutputRefused(_APPEARED, path=Path(name)) from e
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
            return digest.hexdigest(), size
        os.unlink(tmp, dir_fd=fd)
        return digest.hexdigest(), size
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=fd)
        raise


def write_file(
    root: Path, relpath: str, data: bytes, *, new: bool = False, durable: bool = False
) -> None:
    """Replace ``root/relpath`` with ``data`` atomically, creating folders on the way and
    following no symlink below ``root``. ``new``: the file must not exist (a path nobody
    owns yet). Raises :class:`OutputRefused` (this file only) or :class:`OutputError` (the
    folder cannot be written: full, read-only, ...)."""
    write_stream(root, relpath, (data,), new=new, durable=durable)


def write_stream(
    root: Path,
    relpath: str,
    chunks: Iterable[bytes],
    *,
    new: bool = False,
    durable: bool = False,
    expect: str | None = None,
) -> tuple[str, int]:
    """:func:`write_file` for bytes that come in ``chunks`` (a large file copied: never
    whole in memory), by the same rules. Returns the sha256 and size of what was written.
    ``expect``: the sha256 the bytes must have; other bytes are not put in place
    (:class:`OutputRefused`). An error raised by ``chunks`` itself (other than an
    ``OSError``) goes through as it is, and nothing is put in place."""
    parts = _parts(root, relpath)
    path = root.joinpath(*parts)
    try:
        with _folder(root, parts[:-1], create=True) as fd:
            assert fd is not None
            return _write_at(fd, parts[-1], chunks, new=new, durable=durable, expect=expect)
    except OutputRefused as e:
        raise OutputRefused(e.message, path=path) from e
    except OSError as e:
        raise OutputError(f"cannot write: {_reason(e)}", path=path) from e


def write_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Replace ``path`` (anywhere, e.g. beside the state) with ``data`` atomically."""
    write_file(path.parent, path.name, data, durable=durable)


def stat_file(root: Path, relpath: str) -> os.stat_result | None:
    """``lstat`` of ``root/relpath`` (a symlink is not followed); None if absent."""
    path = os.path.join(root, *_parts(root, relpath))
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise OutputError(f"cannot read: {_reason(e)}", path=Path(path)) from e


@contextlib.contextmanager
def open_file(root: Path, relpath: str) -> Iterator[tuple[int, os.stat_result] | None]:
    """A descriptor (open for reading, closed on leaving) and the status of the regular file
    ``root/relpath``, reached without following a symlink; None for a symlink, a folder,
    nothing, or a path outside ``root``. Reads through it see the one file opened: a file
    replaced meanwhile (``os.replace``) is read whole as it was, never half old, half new."""
    try:
        parts = _parts(root, relpath)
    except OutputError:
        yield None
        return
    f: int | None = None
    st: os.stat_result | None = None
    try:
        with _folder(root, parts[:-1], create=False) as fd:
            if fd is not None:
                with contextlib.suppress(OSError):
                    f = os.open(parts[-1], _READ, dir_fd=fd)
    except (OutputRefused, OSError):
        f = None
    try:
        if f is not None:
            st = os.fstat(f)
            if not stat.S_ISREG(st.st_mode):
                st = None
        yield (f, st) if f is not None and st is not None else None
    finally:
        if f is not None:
            os.close(f)


CHUNK_BYTES = 1024 * 1024  # a file hashed or copied is read this much at a time


def read_chunks(fd: int, *, start: int = 0, size: int | None = None) -> Iterator[bytes]:
    """The bytes of an open file from ``start``, ``size`` of them (None: to its end), at most
    :data:`CHUNK_BYTES` at a time (``os.pread``: the descriptor's offset is not used)."""
    offset = start
    end = None if size is None else start + size
    while end is None or offset < end:
        want = CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - offset)
        chunk = os.pread(fd, want, offset)
        if not chunk:
            return
        offset += len(chunk)
        yield chunk


def read_file(
    root: Path,
    relpath: str,
    *,
    limit: int | None = None,
    cached: Callable[[os.stat_result], bool] | None = None,
) -> tuple[bytes, os.stat_result] | None:
    """The bytes and status of the regular file ``root/relpath``, reached without following
    a symlink (a symlink, a folder or nothing: None).

    The bytes are those of the one file opened: a file replaced meanwhile (``os.replace``)
    is read whole as it was, never half old and half new. ``limit``: a larger file is not
    read (None). ``cached(status)``: when it says the caller holds these bytes already
    (same file, size and time), they are not read (``b""`` is returned with the status)."""
    _parts(root, relpath)  # (OutputError: outside the folder)
    with open_file(root, relpath) as opened:
        if opened is None:
            return None
        f, st = opened
        try:
            if cached is not None and cached(st):
                return b"", st
            if limit is not None and st.st_size > limit:
                return None
            data = b"".join(read_chunks(f, size=None if limit is None else limit + 1))
        except OSError:
            return None
        return (data, st) if limit is None or len(data) <= limit else None


def file_digest(root: Path, relpath: str) -> tuple[str, int] | None:
    """The sha256 and size of the regular file ``root/relpath`` (no symlink followed), read
    a chunk at a time; None when it is not such a file."""
    with open_file(root, relpath) as opened:
        if opened is None:
            return None
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in read_chunks(opened[0]):
                digest.update(chunk)
                size += len(chunk)
        except OSError:
            return None
        return digest.hexdigest(), size


def matches(root: Path, relpath: str, digest: str, size: int | None = None) -> bool:
    """Whether ``root/relpath`` is a regular file (not a symlink) holding bytes with this
    sha256 (a size check first; the file is hashed a chunk at a time)."""
    try:
        st = stat_file(root, relpath)
    except OutputError:
        return False
    if st is None or not stat.S_ISREG(st.st_mode) or (size is not None and st.st_size != size):
        return False
    found = file_digest(root, relpath)
    return found is not None and found[0] == digest


def file_matches(path: Path, digest: str, size: int | None = None) -> bool:
    """Whether ``path`` exists and holds bytes with this sha256 (a size check first)."""
    return matches(path.parent, path.name, digest, size)


def remove_file(root: Path, relpath: str) -> None:
    """Delete ``root/relpath`` (a symlink itself, never its target) and the folders it leaves
    empty, up to ``root``."""
    parts = _parts(root, relpath)
    path = root.joinpath(*parts)
    try:
        with _folder(root, parts[:-1], create=False) as fd:
            if fd is None:
                return
            st = _lstat_at(fd, parts[-1])
            if st is None:
                return
            if stat.S_ISDIR(st.st_mode):
                raise OutputRefused("is a folder now; left alone", path=path)
            os.unlink(parts[-1], dir_fd=fd)
            for depth in range(len(parts) - 1, 0, -1):  # prune the folders left empty
                try:
                    os.rmdir(root.joinpath(*parts[:depth]))
                except OSError:
                    break
    except OutputRefused as e:
        raise OutputRefused(e.message, path=path) from e
    except OSError as e:
        raise OutputError(f"cannot remove: {_reason(e)}", path=path) from e


def remove(path: Path, root: Path) -> None:
    """Delete ``path`` (below ``root``) and the folders it leaves empty, up to ``root``."""
    remove_file(root, path.relative_to(root).as_posix())


WRITING = ".feedpub-writing"  # in the output folder while files are written into it


@contextlib.contextmanager
def writing(root: Path) -> Iterator[None]:
    """Files are written below ``root`` in this block: a marker says so until the block
    ends, so that a process killed in it (or a write that failed) leaves the marker, and
    the next build sweeps the temporary files it may have left
    (:func:`sweep_if_interrupted`): no build walks the whole folder otherwise."""
    marker = os.path.join(root, WRITING)
    try:
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
    except OSError as e:
        raise OutputError(f"cannot write: {_reason(e)}", path=Path(marker)) from e
    yield
    os.unlink(marker)  # (not on an error: the next build sweeps)


def sweep_if_interrupted(root: Path) -> int:
    """:func:`sweep_temporaries` if writing into ``root`` was interrupted (:func:`writing`)
    and the marker, once swept. Returns how many temporary files were removed."""
    marker = os.path.join(root, WRITING)
    if not os.path.lexists(marker):
        return 0
    removed = sweep_temporaries(root)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(marker)
    return removed


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
