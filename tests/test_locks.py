"""locks.py: one build at a time per state store; one daemon per state store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedpub.errors import BuildCancelled, StateError
from feedpub.locks import build_lock, daemon_lock, running_daemon_pid


def test_a_second_build_waits_then_gives_up_or_stops(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with build_lock(state):
        held = pytest.raises(StateError, match="another feedpub build holds the lock")
        with held, build_lock(state, timeout=0.1):
            pass
        with pytest.raises(BuildCancelled), build_lock(state, should_stop=lambda: True):
            pass
    with build_lock(state, timeout=0.1):  # released
        pass


def test_one_daemon_per_state_and_its_pid_is_known(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    assert running_daemon_pid(state) is None
    with daemon_lock(state):
        assert running_daemon_pid(state) == os.getpid()
        with pytest.raises(StateError, match=f"pid {os.getpid()}"), daemon_lock(state):
            pass
    assert running_daemon_pid(state) is None
