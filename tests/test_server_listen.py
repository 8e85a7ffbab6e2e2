"""Listening: the address's errors."""

from __future__ import annotations

import contextlib

import pytest

from feedpub.server import bind


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
