"""Which addresses the hub may call, checked where it matters: on the connected socket.

A subscriber chooses its callback URL, so a hostile one could point the hub at the hub's own
network (loopback, private and shared ranges, cloud metadata addresses such as
169.254.169.254 or 100.100.100.200), directly or through an IPv6 address that carries an
IPv4 one (6to4, Teredo, NAT64, IPv4-mapped). The hub calls only globally reachable addresses
(:func:`address_refusal`), unless ``[hub] allowed_callback_networks`` allows more.
:func:`callback_refusal` checks
every address a callback's host resolves to when a subscription is requested and again before
each call, but the HTTP client resolves the name once more when it connects: a DNS answer that
changes in between ("DNS rebinding") would slip through. So every connection is checked on
the address it is made to, before a byte is sent, and one the hub may not call is refused:

* ``requests`` sessions from :func:`guarded_session` (the hub's verification of intent)
  check the peer address of every new connection, after ``connect()``;
* aiohttp connectors from :func:`guarded_connector` (content distribution, see
  :mod:`feedpub.notify.fanout`) check the address of every socket before it connects: the
  connector connects only sockets its factory made, each to the one address it was made for.

The verification's ``requests`` session honours ``HTTPS_PROXY`` and friends: its connections
through a proxy are the proxy's to check (the peer is then the proxy). Deliveries never go
through a proxy: they connect to the callback's own addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Sequence
from functools import lru_cache
from socket import socket as new_socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import requests.utils
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

if TYPE_CHECKING:
    import aiohttp

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(NewConnectionError):
    """A connection reached an address the hub may not call (it was closed unused)."""


class RefusedConnection(OSError):
    """A socket was to connect to an address the hub may not call (it was never made)."""


def refused(error: BaseException) -> str | None:
    """The refusal behind an error raised by a guarded session or connector, or None."""
    seen: set[int] = set()
    todo: list[object] = [error]
    while todo:
        e = todo.pop()
        if id(e) in seen or not isinstance(e, BaseException):
            continue
        seen.add(id(e))
        if isinstance(e, RefusedAddress | RefusedConnection):
            return str(e.args[-1]) if e.args else str(e)
        todo += [
            *e.args,
            getattr(e, "reason", None),
            getattr(e, "os_error", None),
            e.__cause__,
            e.__context__,
        ]
    return None


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _nets(*names: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n) for n in names)


# Not globally reachable: the IANA special-purpose address registries (RFC 6890 and later)
# and multicast, written out so that the answer does not depend on the Python release (its
# ipaddress learnt 192.0.0.0/24, 2002::/16 and 64:ff9b:1::/48 only in 3.12.4 and 3.13).
_NOT_GLOBAL_V4 = _nets(
    "0.0.0.0/8",  # this network
    "10.0.0.0/8",
    "100.64.0.0/10",  # shared address space (carrier-grade NAT; some cloud metadata services)
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local (cloud metadata services)
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",
    "192.88.99.0/24",  # the deprecated 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
)
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")  # all that is not reserved or local
_NOT_GLOBAL_V6 = _nets(
    "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID ...
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4
    "3fff::/20",  # documentation
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # reaches the IPv4 address it carries
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(addr: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: the last 32 bits of an IPv4-mapped
    (``::ffff:0:0/96``), IPv4-translated (``::ffff:0:0:0/96``), IPv4-compatible (``::/96``)
    or NAT64 (``64:ff9b::/96``, ``64:ff9b:1::/48``) address; bits 16-47 of a 6to4 address
    (``2002::/16``); the server and the (inverted) client of a Teredo address
    (``2001::/32``)."""
    if addr.teredo is not None:
        return addr.teredo
    if addr.sixtofour is not None:
        return (addr.sixtofour,)
    if any(addr in net for net in (_MAPPED, _TRANSLATED, _COMPATIBLE, _NAT64, _LOCAL_NAT64)):
        return (ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF),)
    return ()


def globally_reachable(addr: Address) -> bool:
    """Whether ``addr`` is a unicast address anyone on the internet could reach, as opposed
    to a private, shared, loopback, link-local, documentation, reserved or multicast one. An
    IPv6 address counts by its own range only (see :func:`embedded_ipv4` for what it
    carries): NAT64's ``64:ff9b::/96`` is reachable, 6to4 and Teredo are not."""
    if not addr.is_global or addr.is_multicast:
        return False
    if isinstance(addr, ipaddress.IPv4Address):
        return not any(addr in net for net in _NOT_GLOBAL_V4)
    if addr in _NAT64:
        return True
    return addr in _GLOBAL_UNICAST_V6 and not any(addr in net for net in _NOT_GLOBAL_V6)


def address_refusal(address: str, allowed: Sequence[Network]) -> str | None:
    """Why the hub must not call ``address``, or None. It may when the address is in
    ``allowed``, or when it is globally reachable and so is every IPv4 address it carries
    (an IPv4-mapped address is its IPv4 address). (A pure function of its arguments,
    remembered for the addresses seen last: a fan-out asks it once per delivery.)"""
    return _address_refusal(address, tuple(allowed))


@lru_cache(maxsize=4096)
def _address_refusal(address: str, allowed: tuple[Network, ...]) -> str | None:
    addr: Address = ipaddress.ip_address(address.split("%", 1)[0])  # a zone index is no help
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(addr in net for net in allowed):
        return None
    carried = embedded_ipv4(addr) if isinstance(addr, ipaddress.IPv6Address) else ()
    if globally_reachable(addr) and all(globally_reachable(a) for a in carried):
        return None
    inside = f" (carrying {', '.join(map(str, carried))})" if carried else ""
    return f"hub.callback resolves to {addr}{inside}, an address this hub does not call"


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


def guarded_connector(allowed: Sequence[Network], limit: int) -> aiohttp.TCPConnector:
    """An aiohttp connector (call it on the event loop that will use it) that makes at most
    ``limit`` connections at once and refuses (an aiohttp ``ClientConnectorError`` caused
    by :class:`RefusedConnection`) every one to an address :func:`address_refusal` refuses,
    before the socket connects: whatever the callback's name resolves to by then. TLS is
    verified against the same certificate authorities as ``requests`` (certifi's)."""
    import aiohttp

    nets = tuple(allowed)

    def checked_socket(addr_info: tuple[Any, ...]) -> new_socket:
        family, kind, proto, _, sockaddr = addr_info
        peer = str(sockaddr[0])
        refusal = address_refusal(peer, nets)
        if refusal is not None:
            raise RefusedConnection(f"refused to connect to {peer}: {refusal}")
        return new_socket(family, kind, proto)

    return aiohttp.TCPConnector(
        limit=limit,
        ssl=ssl.create_default_context(cafile=requests.utils.DEFAULT_CA_BUNDLE_PATH),
        socket_factory=checked_socket,
    )
