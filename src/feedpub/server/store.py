"""What the server serves: the files held in memory (swapped as a whole when the builder
publishes), the pages read from disk when asked for (kept in a small cache), and the media
files opened to be streamed (:mod:`feedpub.server.media`)."""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from feedpub.articles.media import is_media
from feedpub.errors import OutputError
from feedpub.output import open_file, read_file, servable, stat_file
from feedpub.render.paths import ARCHIVE_DIR
from feedpub.server.media import OpenedFile, opened_file
from feedpub.server.resources import Resource, held_in_memory, make_resource, relpath_of, url_path

MAX_DISK_BYTES = 64 * 1024 * 1024  # a file read from disk to answer a request, at most
DISK_CACHE_BYTES = 16 * 1024 * 1024  # answers read from disk, kept (least recently used out)


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _held_bytes(res: Resource) -> int:
    """What an answer kept in the disk cache costs: its bodies."""
    return len(res.body) + len(res.gzipped or b"")


def _is_file(root: Path, relpath: str) -> bool:
    try:
        st = stat_file(root, relpath)
    except OutputError:
        return False
    return st is not None and stat.S_ISREG(st.st_mode)


class Store:
    """What the server serves: URL path → Resource, replaced as a whole on every change.

    Served are the files of the output folder that :func:`feedpub.output.servable` allows:
    those feedpub published (its manifest) and regular files an operator put there (a
    ``robots.txt``), never a dotfile, a temporary file, a lock, a database or its journal,
    whatever the config says, and never anything reached through a symlink."""

    def __init__(self, root: Path, links_for: Callable[[str], list[str]] | None = None) -> None:
        self.root = root
        self.links_for = links_for or (lambda relpath: [])
        self.resources: Mapping[str, Resource] = {}  # URL path -> a file held in memory
        # files read from disk: relpath -> (file status, answer), least recently used first
        self._cache: OrderedDict[str, tuple[tuple[int, int, int, int], Resource]] = OrderedDict()
        self._cached_bytes = 0
        self._cache_lock = threading.Lock()
        # files read from disk: relpath -> sha256 as published (what ``differs`` compares)
        self._disk_digests: Mapping[str, str] = {}

    def from_disk(self, path: str) -> Resource | None:
        """The answer for URL ``path`` when it names a file read from disk
        (:func:`held_in_memory`), or None (not such a path, not there, not servable, too
        large). Blocking: call it from a worker thread."""
        relpath = relpath_of(path)
        if held_in_memory(relpath) or not servable(relpath) or is_media(relpath):
            return None  # (media: :meth:`open_media`)
        with self._cache_lock:
            hit = self._cache.get(relpath)

        def same(st: os.stat_result) -> bool:
            return hit is not None and hit[0] == _stat_key(st)

        try:
            found = read_file(self.root, relpath, limit=MAX_DISK_BYTES, cached=same)
        except OutputError:  # ("..", an absolute path, a NUL)
            return None
        if found is None:
            self._forget(relpath)
            return None
        data, st = found
        if hit is not None and same(st):
            with self._cache_lock:
                if relpath in self._cache:
                    self._cache.move_to_end(relpath)
            return hit[1]
        res = make_resource(relpath, data, st.st_mtime, self.links_for(relpath))
        size = _held_bytes(res)
        if size <= DISK_CACHE_BYTES // 16:
            with self._cache_lock:
                old = self._cache.pop(relpath, None)
                if old is not None:
                    self._cached_bytes -= _held_bytes(old[1])
                self._cache[relpath] = (_stat_key(st), res)
                self._cached_bytes += size
                while self._cached_bytes > DISK_CACHE_BYTES and self._cache:
                    _, (_, gone) = self._cache.popitem(last=False)
                    self._cached_bytes -= _held_bytes(gone)
        return res

    def open_media(self, path: str) -> OpenedFile | None:
        """The media file (:func:`feedpub.articles.refs.is_media`) at URL ``path``, opened
        by the rules of :meth:`from_disk` (below the folder, no symlink, servable, a regular
        file of at most :data:`MAX_DISK_BYTES`), or None. Blocking: call it from a worker
        thread; the caller closes the descriptor."""
        relpath = relpath_of(path)
        if not is_media(relpath) or not servable(relpath):
            return None
        with open_file(self.root, relpath) as opened:
            if opened is None or opened[1].st_size > MAX_DISK_BYTES:
                return None
            fd, st = opened
            return opened_file(fd, st, self.links_for(relpath))

    def _forget(self, relpath: str) -> None:
        with self._cache_lock:
            old = self._cache.pop(relpath, None)
            if old is not None:
                self._cached_bytes -= _held_bytes(old[1])

    def _load(self, relpath: str) -> Resource | None:
        if not servable(relpath) or not held_in_memory(relpath):
            return None
        found = read_file(self.root, relpath)  # a regular file, no symlink on the way
        if found is None:
            return None
        data, st = found
        return make_resource(relpath, data, st.st_mtime, self.links_for(relpath))

    def load_all(self) -> int:
        """(Re)load every servable file of the output folder."""
        found: dict[str, Resource] = {}
        if self.root.is_dir():
            for folder, dirs, files in os.walk(self.root):  # (symlinked folders: not entered)
                base = Path(folder).relative_to(self.root).as_posix()
                prefix = "" if base == "." else base + "/"
                dirs[:] = [
                    d
                    for d in dirs
                    if servable(prefix + d + "/x") and (prefix + d + "/") != ARCHIVE_DIR
                ]
                for name in files:
                    res = self._load(prefix + name)
                    if res is not None:
                        found[url_path(prefix + name)] = res
        self.resources = found
        return len(found)

    def differs(self, published: Mapping[str, str]) -> list[str]:
        """Of ``published`` (relpath → sha256), the files not held with these bytes (for
        files read from disk: not known, by the last :meth:`sync`, to have them)."""
        held = self.resources
        on_disk = self._disk_digests
        return [
            relpath
            for relpath, digest in published.items()
            if (
                (res := held.get(url_path(relpath))) is None
                or res.etag != f'"{digest[:32]}"'.encode()
            )
            if held_in_memory(relpath) or on_disk.get(relpath) != digest
        ]

    def sync(self, published: Mapping[str, str]) -> int:
        """Make the served files match ``published`` (relpath → sha256): reload those whose
        bytes differ, drop those whose file is gone. Files feedpub did not publish (a
        ``robots.txt`` put there by hand) stay while they exist. Returns how many changed."""
        held = self.resources
        stale = [r for r in self.differs(published) if held_in_memory(r)]
        self._disk_digests = {r: d for r, d in published.items() if not held_in_memory(r)}
        paths = {url_path(r) for r in published}
        gone = {p for p in held if p not in paths and not _is_file(self.root, relpath_of(p))}
        if not stale and not gone:
            return 0
        new = {k: v for k, v in held.items() if k not in gone}
        for relpath in stale:
            res = self._load(relpath)
            if res is not None:
                new[url_path(relpath)] = res
        self.resources = new
        return len(stale) + len(gone)

    def update(self, written: Iterable[str], removed: Iterable[str]) -> None:
        """Swap in the files a build wrote and drop those it removed, all at once."""
        new = dict(self.resources)
        for relpath in removed:
            new.pop(url_path(relpath), None)
        for relpath in (*written, *removed):
            if not held_in_memory(relpath):
                self._forget(relpath)
        for relpath in written:
            res = self._load(relpath)
            if res is not None:
                new[url_path(relpath)] = res
        self.resources = new
