"""Which addresses the hub may call, checked where it matters: on the connected socket.

A subscriber chooses its callback URL, so a hostile one could point the hub at the hub's own
network (loopback, private ranges, cloud metadata addresses). :func:`callback_refusal` checks
every address a callback's host resolves to when a subscription is requested and again before
each call, but the HTTP client resolves the name once more when it connects: a DNS answer that
changes in between ("DNS rebinding") would slip through. So sessions from
:func:`guarded_session` check the peer address of every new connection, after ``connect()``
and before a byte is sent, and refuse one the hub may not call.

Connections through an HTTP proxy (``HTTPS_PROXY`` and friends) are the proxy's to check: the
peer is then the proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(NewConnectionError):
    """A connection reached an address the hub may not call (it was closed unused)."""


def refused(error: BaseException) -> str | None:
    """The refusal behind a ``requests`` error raised by a guarded session, or None."""
    seen: set[int] = set()
    todo: list[object] = [error]
    while todo:
        e = todo.pop()
        if id(e) in seen or not isinstance(e, BaseException):
            continue
        seen.add(id(e))
        if isinstance(e, RefusedAddress):
            return str(e.args[-1]) if e.args else str(e)
        todo += [*e.args, getattr(e, "reason", None), e.__cause__, e.__context__]
    return None


def address_refusal(address: str, allowed: Sequence[Network]) -> str | None:
    """Why the hub must not call ``address``, or None: it must be public (not loopback,
    private, link-local, multicast, reserved or unspecified) or in ``allowed``."""
    addr = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is no help
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(addr in net for net in allowed):
        return None
    if (
        addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    ):
        return f"hub.callback resolves to {addr}, an address this hub does not call"
    return None


def callback_refusal(callback: str, allowed: Sequence[Network]) -> str | None:
    """Why the hub must not call ``callback``, or None. Every address its host resolves to
    must be one :func:`address_refusal` lets through."""
    parts = urlsplit(callback)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        return f"hub.callback host {host!r} does not resolve"
    for info in infos:
        refusal = address_refusal(str(info[4][0]), allowed)
        if refusal is not None:
            return refusal
    return None


def guarded_session(allowed: Sequence[Network], pool_size: int = 10) -> requests.Session:
    """A ``requests`` session whose every new connection is refused (a ``ConnectionError``)
    when the address it reached is one :func:`address_refusal` refuses."""
    nets = tuple(allowed)

    def checked(conn: HTTPConnection, sock: socket.socket) -> socket.socket:
        peer = sock.getpeername()[0]
        refusal = address_refusal(peer, nets)
        if refusal is not None:
            sock.close()
            raise RefusedAddress(conn, f"refused to connect to {peer}: {refusal}")
        return sock

    class Guarded(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return checked(self, super()._new_conn())

    class GuardedTLS(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return checked(self, super()._new_conn())

    class Pool(HTTPConnectionPool):
        ConnectionCls = Guarded

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedTLS

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

    session = requests.Session()
    adapter = Adapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
