"""The file locks beside the state file: one build at a time per state store, one daemon per
state store. Both are ``flock`` locks on a file named after the state file, so they hold
across processes and vanish with the process that held them."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from feedpub.errors import BuildCancelled, StateError


def _open(lock_path: Path) -> int:
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StateError(f"{lock_path}: cannot create the lock file: {e.strerror}") from e


def _taken(fd: int, lock_path: Path, mode: int) -> bool:
    """Take the lock at once (True), or find it held (False)."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            raise StateError(f"{lock_path}: cannot lock: {e.strerror}") from e
        return False
    return True


@contextlib.contextmanager
def build_lock(
    state_path: Path, timeout: float = 60.0, should_stop: Callable[[], bool] = lambda: False
) -> Iterator[None]:
    """One build at a time per state store (a daemon and a one-shot build take turns):
    waits up to ``timeout`` seconds, or until ``should_stop`` (:class:`BuildCancelled`)."""
    lock_path = state_path.with_name(state_path.name + ".lock")
    fd = _open(lock_path)
    try:
        deadline = time.monotonic() + timeout
        while not _taken(fd, lock_path, fcntl.LOCK_EX):
            if should_stop():
                raise BuildCancelled("stopped while waiting for another build")
            if time.monotonic() > deadline:
                raise StateError(f"{lock_path}: another feedpub build holds the lock")
            time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _daemon_lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".daemon.lock")


@contextlib.contextmanager
def daemon_lock(state_path: Path) -> Iterator[None]:
    """Held for the daemon's life: a second daemon on the same state refuses to start."""
    lock_path = _daemon_lock_path(state_path)
    fd = _open(lock_path)
    try:
        if not _taken(fd, lock_path, fcntl.LOCK_EX):
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise StateError(
                f"another feedpub daemon (pid {pid}) is already running on {state_path}; "
                "stop it first, or give this one its own [paths] state"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def running_daemon_pid(state_path: Path) -> int | None:
    """The pid of the daemon holding this state's lock, if one does (-1: one does, its pid
    unreadable)."""
    try:
        fd = os.open(_daemon_lock_path(state_path), os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        return None
    finally:
        os.close(fd)
