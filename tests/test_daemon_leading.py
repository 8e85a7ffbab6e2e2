"""feedpub.daemon.leading, in process: the SQLite daemon lock, and on PostgreSQL (a real
server, a fresh schema) two daemons' leadership: one leads and records itself, the other
stands by and takes over when the leader's lock session ends.

The leader lock is an advisory lock of the whole database (not of a schema), so a daemon of
another test run on the same server holds it too: the PostgreSQL tests first wait for no one
to lead."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from types import FrameType

import pytest

from feedpub import config as config_mod
from feedpub.config import Config
from feedpub.daemon import leading
from feedpub.daemon.leading import Leadership
from feedpub.errors import StateError
from feedpub.locks import running_daemon_pid
from feedpub.store import State
from tests.conftest import NOW, PG_ENV, Site
from tests.waiting import until


def leadership(config: Config, output: str = "out-a") -> Leadership:
    return Leadership(
        config,
        clock=lambda: NOW,
        open_state=lambda: State(config.state_target),
        output_id=lambda: output,
    )


def test_one_daemon_per_sqlite_state(site: Site) -> None:
    config = site.config()
    first, second = leadership(config), leadership(config)
    with first.hold() as lead:
        assert lead.is_set()
        assert not first.shared
        assert running_daemon_pid(config.paths.state) == os.getpid()
        with (
            pytest.raises(StateError, match=rf"another feedpub daemon \(pid {os.getpid()}\)"),
            second.hold(),
        ):
            pass
        first.record()  # nothing to record: on SQLite the lock file names the daemon
        with State(config.state_target) as state:
            assert state.get("leader") is None
            assert state.leader() is None
    assert running_daemon_pid(config.paths.state) is None
    with second.hold() as lead:  # the first one stopped: the next may start
        assert lead.is_set()


def test_an_unreachable_postgresql_is_one_line_without_the_password(site: Site) -> None:
    # (port 1 on the loopback address: nothing listens, the connection is refused at once)
    site.config_text += '\n[state]\nurl = "postgresql+psycopg://feedpub:s3cret@127.0.0.1:1/x"\n'
    with pytest.raises(StateError) as caught, leadership(site.config()).hold():
        pass
    text = str(caught.value)
    assert text.startswith(
        "postgresql+psycopg://feedpub:***@127.0.0.1:1/x: cannot open the state store: "
    )
    assert "s3cret" not in text
    assert "\n" not in text


# -- PostgreSQL: a leader and a standby ------------------------------------------------------


@pytest.fixture
def pg_config(site: Site, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A config on a fresh PostgreSQL schema, once no daemon leads that database; standbys
    and leaders check every 50 ms instead of every 2 s."""
    site.config_text += f'\n[state]\nurl = "{pg_url}"\n'
    config = site.config()
    monkeypatch.setattr(leading, "STANDBY_POLL_SECONDS", 0.05)
    with State(config.state_target) as state:
        until(lambda: state.leader() is None, "another test's daemon to stop leading", 120)
    return config


def leader_record(config: Config) -> dict[str, object] | None:
    with State(config.state_target) as state:
        return state.leader()


def terminate(backend_pid: object) -> None:
    """End a PostgreSQL session from outside (as a crash or a restart would)."""
    import psycopg

    plain = os.environ[PG_ENV].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        row = conn.execute("SELECT pg_terminate_backend(%s)", (backend_pid,)).fetchone()
    assert row is not None and row[0] is True


def terminate_named(application_name: str) -> int:
    """End the PostgreSQL sessions of this name; how many there were."""
    import psycopg

    plain = os.environ[PG_ENV].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


@contextlib.contextmanager
def standing_by(
    standby: Leadership, lead: threading.Event, *, fail_first_sync: bool = False
) -> Iterator[tuple[threading.Event, list[int]]]:
    """``standby.stand_by`` in a thread, as the daemon runs it: yields (an event set when it
    takes the lead, the syncs so far)."""
    led, synced, stop = threading.Event(), [], threading.Event()

    def sync() -> None:
        synced.append(1)
        if fail_first_sync and len(synced) == 1:
            raise RuntimeError("the leader's files could not be fetched")

    t = threading.Thread(
        target=standby.stand_by, args=(lead, stop), kwargs={"on_lead": led.set, "sync": sync}
    )
    t.start()
    try:
        yield led, synced
    finally:
        stop.set()
        t.join(10)
        assert not t.is_alive()


def test_on_postgresql_one_leads_and_records_itself(pg_config: Config) -> None:
    a, b = leadership(pg_config, "out-a"), leadership(pg_config, "out-b")
    with a.hold() as lead_a, b.hold() as lead_b:
        assert lead_a.is_set()
        assert not lead_b.is_set()
        assert a.shared and b.shared
        assert leader_record(pg_config) == {}  # one leads, but has not said who yet
        a.url = "http://127.0.0.1:8080/"
        a.record()
        record = leader_record(pg_config)
        assert record is not None
        assert isinstance(record.pop("backend_pid"), int)
        assert record == {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": "2025-06-01T12:00:00+00:00",
            "url": "http://127.0.0.1:8080/",
            "output": "out-a",
        }
        stopped = threading.Event()
        stopped.set()
        b.stand_by(lead_b, stopped, on_lead=stopped.clear, sync=stopped.clear)  # returns at once
        assert stopped.is_set()
    assert leader_record(pg_config) is None  # both gone: the lock went with them


def test_a_standby_takes_over_when_the_leader_lets_go(
    pg_config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = leadership(pg_config, "out-a"), leadership(pg_config, "out-b")
    with contextlib.ExitStack() as leader:
        assert leader.enter_context(a.hold()).is_set()
        a.record()
        with (
            b.hold() as lead_b,
            caplog.at_level(logging.INFO, logger="feedpub.daemon.leading"),
            standing_by(b, lead_b, fail_first_sync=True) as (led, synced),
        ):
            until(lambda: len(synced) >= 3, "the standby to serve what the leader published")
            assert not lead_b.is_set() and not led.is_set()
            leader.close()  # the leader stops: its lock session ends
            until(led.is_set, "the standby to take the lead")
            assert lead_b.is_set()
            # the record names a session that is gone: it does not pass for the new leader
            assert leader_record(pg_config) == {}
            b.record()
            record = leader_record(pg_config)
            assert record is not None and record["output"] == "out-b"
    assert caplog.text.count("standing by failed; trying again") == 1  # and it carried on
    assert "this daemon leads now" in caplog.text


def test_a_leader_whose_session_ended_takes_the_lock_again_and_says_so(
    pg_config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    a = leadership(pg_config)
    stop = threading.Event()
    with a.hold() as lead:
        assert lead.is_set()
        a.record()
        first = leader_record(pg_config)
        assert first is not None
        keeper = threading.Thread(target=a.keep, args=(stop,))
        keeper.start()
        try:
            with caplog.at_level(logging.WARNING, logger="feedpub.ha.leadership"):
                terminate(first["backend_pid"])  # as when PostgreSQL restarts
                until(
                    lambda: (
                        (leader_record(pg_config) or {}).get("backend_pid")
                        not in (None, first["backend_pid"])
                    ),
                    "the leader to record its new session",
                )
        finally:
            stop.set()
            keeper.join(10)
        assert not a.lost.is_set()
        assert "lost the connection that holds the leader lock" in caplog.text


def test_a_record_that_failed_is_written_by_the_next_check(
    pg_config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    opened: list[State] = []

    def open_state() -> State:  # the store is unreachable the first time
        if not opened:
            opened.append(State(pg_config.state_target))
            opened[0].close()
            raise StateError("the state store is unreachable")
        opened.append(State(pg_config.state_target))
        return opened[-1]

    a = Leadership(pg_config, clock=lambda: NOW, open_state=open_state, output_id=lambda: "o")
    stop = threading.Event()
    with a.hold() as lead:
        assert lead.is_set()
        with caplog.at_level(logging.ERROR, logger="feedpub.daemon.leading"):
            a.record()
        assert "could not record this daemon as the leader" in caplog.text
        assert leader_record(pg_config) == {}
        keeper = threading.Thread(target=a.keep, args=(stop,))
        keeper.start()
        try:
            until(lambda: leader_record(pg_config) != {}, "the record, at the next check")
            recorded = len(opened)
            time.sleep(0.3)  # several checks, nothing changed: nothing written again
            assert len(opened) == recorded
        finally:
            stop.set()
            keeper.join(10)


def test_a_leader_whose_lock_another_took_stops(pg_config: Config) -> None:
    a, b = leadership(pg_config, "out-a"), leadership(pg_config, "out-b")
    signalled = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signalled.set()

    with a.hold() as lead_a, b.hold() as lead_b:
        assert lead_a.is_set()
        a.record()
        record = leader_record(pg_config)
        assert record is not None
        terminate(record["backend_pid"])  # the leader's session ends (a network cut) ...
        with standing_by(b, lead_b) as (led, _):  # ... and the standby takes over
            until(led.is_set, "the standby to take the lead")
        # the old leader's check finds another leading: it must stop (SIGTERM to itself)
        previous = signal.signal(signal.SIGTERM, on_sigterm)
        stop = threading.Event()
        keeper = threading.Thread(target=a.keep, args=(stop,))
        try:
            keeper.start()
            until(a.lost.is_set, "the old leader to see it lost the lead")
            until(signalled.is_set, "the old leader to stop itself")
            keeper.join(10)
            assert not keeper.is_alive()
        finally:
            stop.set()
            if keeper.is_alive():
                keeper.join(10)
            signal.signal(signal.SIGTERM, previous)


def test_a_standby_whose_session_ended_can_still_take_over(
    site: Site, pg_url: str, pg_config: Config
) -> None:
    """A standby's lock session ends (PostgreSQL restarted, a network cut): it must try again
    on a new one, not on the dead one for ever, and so take over when the leader goes."""
    import uuid

    name = f"feedpub-standby-{uuid.uuid4().hex[:12]}"  # finds the standby's sessions only
    (site.root / "standby.toml").write_text(
        site.config_text.replace(pg_url, f"{pg_url}&application_name={name}"), encoding="utf-8"
    )
    a, b = leadership(pg_config, "out-a"), leadership(config_mod.load(site.root / "standby.toml"))
    with contextlib.ExitStack() as leader:
        assert leader.enter_context(a.hold()).is_set()
        with b.hold() as lead_b:
            assert not lead_b.is_set()
            assert terminate_named(name) == 1
            with standing_by(b, lead_b) as (led, _):
                leader.close()  # the leader goes
                until(led.is_set, "the standby to take the lead", timeout=10)
