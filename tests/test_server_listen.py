"""Listening: the address's errors; the server's signal handling."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from types import FrameType

import pytest

from feedpub.server import App, Store, bind, make_server


def test_a_port_in_use_or_out_of_range_is_a_server_error() -> None:
    """(Addresses of other machines and names that do not resolve: tests/test_daemon.py,
    inside a network namespace of their own.)"""
    from feedpub.errors import ServerError

    with pytest.raises(ServerError) as info:
        bind("127.0.0.1", 70000, where="--port")
    assert str(info.value) == "cannot listen on 127.0.0.1:70000 (--port): a port is 0 to 65535"
    with contextlib.closing(bind("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match="the port is in use"):
            bind("127.0.0.1", port)


def test_a_name_that_cannot_be_a_host_name_is_a_server_error() -> None:
    """(Refused before any lookup: no DNS is asked.)"""
    from feedpub.errors import ServerError

    host = "x" * 64 + ".example"  # a label is at most 63 characters
    with pytest.raises(ServerError) as info:
        bind(host, 8080, where="--host")
    assert str(info.value).startswith(f"cannot listen on {host}:8080 (--host): ")
    assert "label" in str(info.value)


def test_the_first_signal_stops_gracefully_the_second_forces(tmp_path: Path) -> None:
    """(The daemon's SIGTERM, in its own process: tests/test_daemon.py.) SIGTERM or SIGINT
    asks the server to stop, a second one forces it; uvicorn's handlers, which re-raise
    SIGTERM after the shutdown, are never installed; the previous handlers come back."""
    caught: list[int] = []

    def previous(signum: int, frame: FrameType | None) -> None:  # (the test's own, meanwhile)
        caught.append(signum)

    with contextlib.closing(bind("127.0.0.1", 0)) as sock:
        before = {sig: signal.signal(sig, previous) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                server = make_server(App(Store(tmp_path), dict), sock)
                with server.capture_signals():
                    assert not server.should_exit
                    signal.raise_signal(sig)
                    assert (server.should_exit, server.force_exit) == (True, False)
                    signal.raise_signal(sig)
                    assert (server.should_exit, server.force_exit) == (True, True)
                assert signal.getsignal(signal.SIGTERM) is previous
                assert signal.getsignal(signal.SIGINT) is previous
            assert caught == []
            signal.raise_signal(signal.SIGTERM)
            assert caught == [signal.SIGTERM]

            # a stop asked for while the server was starting (before its handlers were in)
            server = make_server(App(Store(tmp_path), dict), sock)
            server.early_stop = threading.Event()
            with server.capture_signals():
                assert not server.should_exit
            server.early_stop.set()
            with server.capture_signals():
                assert server.should_exit
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)
