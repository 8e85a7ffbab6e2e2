"""The hub calls only addresses it may: checked on resolution and on the connected socket."""

from __future__ import annotations

import ipaddress
import socket
import types
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from feedpub.notify import guard
from feedpub.notify.guard import address_refusal, callback_refusal, guarded_session
from feedpub.notify.notifier import Notifier
from feedpub.store import State
from tests.conftest import NOW, Site
from tests.test_notify import Receiver

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.mark.parametrize(
    ("address", "allowed", "refused"),
    [
        ("93.184.216.34", [], False),
        ("2606:2800:220:1:248:1893:25c8:1946", [], False),
        ("127.0.0.1", [], True),
        ("127.0.0.1", LOOPBACK, False),
        ("::1", [], True),
        ("::ffff:127.0.0.1", [], True),  # IPv4-mapped loopback is loopback
        ("::ffff:127.0.0.1", LOOPBACK, False),
        ("10.1.2.3", [], True),
        ("192.168.0.1", [], True),
        ("169.254.169.254", [], True),  # cloud metadata
        ("fe80::1%eth0", [], True),
        ("0.0.0.0", [], True),
        ("224.0.0.1", [], True),
        # shared address space (carrier-grade NAT), home of some cloud metadata services
        ("100.64.0.1", [], True),
        ("100.100.100.200", [], True),
        ("100.127.255.255", [], True),
        ("100.128.0.1", [], False),
        ("192.0.0.9", [], True),  # IETF protocol assignments
        ("192.0.0.192", [], True),
        ("192.0.2.1", [], True),  # documentation
        ("198.18.0.1", [], True),  # benchmarking
        ("192.88.99.1", [], True),  # 6to4 relay anycast
        ("240.0.0.1", [], True),
        ("255.255.255.255", [], True),
        ("239.255.255.250", [], True),
        # IPv4 carried in IPv6: judged by what it carries, and 6to4 / Teredo not at all
        ("2002:7f00:1::", [], True),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", [], True),  # 6to4 of 169.254.169.254
        ("2002:808:808::1", [], True),  # 6to4 of a public address: still not reachable
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", [], True),  # Teredo client 127.0.0.1
        ("2001:0:7f00:1::1", [], True),  # Teredo server 127.0.0.1
        ("64:ff9b::7f00:1", [], True),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", [], True),  # NAT64 of 169.254.169.254
        ("64:ff9b::6464:64c8", [], True),  # NAT64 of 100.100.100.200
        ("64:ff9b::808:808", [], False),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::808:808", [], True),  # local-use NAT64
        ("::7f00:1", [], True),  # IPv4-compatible 127.0.0.1
        ("::808:808", [], True),  # IPv4-compatible: deprecated, never routed
        ("::ffff:0:7f00:1", [], True),  # IPv4-translated 127.0.0.1
        ("::ffff:169.254.169.254", [], True),
        ("::ffff:8.8.8.8", [], False),  # IPv4-mapped public: an IPv4 connection to it
        ("::ffff:100.64.0.1", [], True),
        # IPv6 that is not global unicast
        ("fd00:ec2::254", [], True),  # unique local (a cloud metadata service)
        ("fec0::1", [], True),  # site-local (deprecated)
        ("100::1", [], True),  # discard-only
        ("2001:db8::1", [], True),
        ("3fff::1", [], True),
        ("5f00::1", [], True),
        ("ff02::1", [], True),
        ("ff0e::1", [], True),
        ("::", [], True),
        ("4000::1", [], True),  # not yet allocated
        ("2a00:1450:4001:81b::200e", [], False),
        # allowed networks say where else the hub may call
        ("100.100.100.200", [ipaddress.ip_network("100.64.0.0/10")], False),
        ("2002:7f00:1::", [ipaddress.ip_network("2002::/16")], False),
        ("64:ff9b::7f00:1", LOOPBACK, True),  # allowing 127/8 allows no NAT64 path to it
    ],
)
def test_address_refusal(address: str, allowed: list[Any], refused: bool) -> None:
    assert (address_refusal(address, allowed) is not None) is refused


def test_a_refusal_names_what_an_address_carries() -> None:
    assert address_refusal("2002:a9fe:a9fe::", []) == (
        "hub.callback resolves to 2002:a9fe:a9fe:: (carrying 169.254.169.254), "
        "an address this hub does not call"
    )
    assert "resolves to 127.0.0.1," in str(address_refusal("::ffff:127.0.0.1", []))


# every way an IPv6 address can carry an IPv4 one, as a function of the IPv4 address
IPV4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
LOW = st.integers(0, 2**64 - 1)
FORMS: dict[str, Any] = {
    "mapped": lambda v, r: (0xFFFF << 32) | int(v),
    "translated": lambda v, r: (0xFFFF << 48) | int(v),
    "compatible": lambda v, r: int(v),
    "nat64": lambda v, r: (0x64FF9B << 96) | int(v),
    "local-nat64": lambda v, r: (0x64FF9B0001 << 80) | (r & (0xFFFF << 32)) | int(v),
    "6to4": lambda v, r: (0x2002 << 112) | (int(v) << 80) | (r & (2**80 - 1)),
    "teredo-server": lambda v, r: (0x20010000 << 96) | (int(v) << 64) | (r & (2**64 - 1)),
    "teredo-client": lambda v, r: (
        (0x20010000 << 96) | (r & (2**64 - 1) << 32) | (~int(v) & 0xFFFFFFFF)
    ),
}


def _form(name: str, v: ipaddress.IPv4Address, r: int) -> str:
    return str(ipaddress.IPv6Address(FORMS[name](v, r)))


@given(v=IPV4, form=st.sampled_from(sorted(FORMS)), r=st.integers(0, 2**128 - 1))
def test_an_ipv4_address_the_hub_may_not_call_is_refused_in_every_disguise(
    v: ipaddress.IPv4Address, form: str, r: int
) -> None:
    address = _form(form, v, r)
    assert ipaddress.IPv6Address(address).teredo is None or form.startswith("teredo")
    if address_refusal(str(v), []) is not None:
        assert address_refusal(address, []) is not None, (form, v, address)
    # only the IPv4-mapped and NAT64 forms are ever called, and then exactly as v is
    if form in ("mapped", "nat64"):
        assert (address_refusal(address, []) is None) is (address_refusal(str(v), []) is None)
    else:
        assert address_refusal(address, []) is not None
    # an IPv4-mapped address is its IPv4 address for the allowed networks too
    one = [ipaddress.ip_network(v)]
    assert address_refusal(_form("mapped", v, r), one) is None
    assert address_refusal(str(v), one) is None


@given(st.one_of(IPV4, st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)))
def test_no_address_python_deems_not_global_is_called(addr: Any) -> None:
    if not addr.is_global or addr.is_multicast or addr.is_private or addr.is_reserved:
        assert address_refusal(str(addr), []) is not None, addr


@given(st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address))
def test_only_global_unicast_ipv6_is_called(addr: ipaddress.IPv6Address) -> None:
    if address_refusal(str(addr), []) is None:
        mapped_or_nat64 = addr.ipv4_mapped is not None or addr in ipaddress.ip_network(
            "64:ff9b::/96"
        )
        assert addr in ipaddress.ip_network("2000::/3") or mapped_or_nat64, addr
        assert addr.sixtofour is None
        assert addr.teredo is None


def test_callback_refusal_checks_every_resolved_address() -> None:
    assert callback_refusal("http://127.0.0.1:9/cb", []) is not None
    assert callback_refusal("http://127.0.0.1:9/cb", LOOPBACK) is None
    assert "does not resolve" in str(callback_refusal("http://no-such-host.invalid/cb", []))


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def test_a_guarded_session_refuses_on_the_connected_address(receiver: Receiver) -> None:
    url = receiver.url + "/hub"
    with guarded_session([]) as refusing:
        with pytest.raises(requests.ConnectionError) as info:
            refusing.post(url, data={"hub.url": "x"}, timeout=5)
        assert "refused to connect to 127.0.0.1" in str(guard.refused(info.value))
    assert receiver.arrived == []  # not a byte was sent
    with guarded_session(LOOPBACK) as allowing:
        assert allowing.post(url, data={"hub.url": "x"}, timeout=5).status_code == 204
    assert receiver.arrived == ["/hub"]


def test_dns_rebinding_cannot_reach_a_private_address(
    site: Site, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The callback's name resolves to a public address when checked, then to loopback when
    the delivery connects (a rebinding attack): the connection is refused, for good."""
    site.config_text += (
        "\n[hub]\nenabled = true\n[notify]\ncoalesce_seconds = 0\nmin_interval_seconds = 0\n"
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[]")
    site.build()
    topic = "https://example.org/feeds/all.atom.xml"
    with State(site.config().state_target) as state, state.transaction():
        state.subscribe(topic, receiver.url + "/cb", None, 3600, NOW)
    site.article("b.md", "B", "2025-01-02T00:00:00Z", "[]")
    assert site.build().notifications == 1  # one delivery, to the subscriber
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]
    monkeypatch.setattr(
        guard,
        "socket",
        types.SimpleNamespace(getaddrinfo=lambda *a, **k: public, SOCK_STREAM=socket.SOCK_STREAM),
    )
    notifier = Notifier(site.config(), clock=lambda: NOW)
    try:
        assert notifier.send_due() == (0, 1)
    finally:
        notifier.close()
    assert receiver.arrived == []
    with State(site.config().state_target) as state:
        report: Any = state.outbox_report()
    [failed] = report["failed_list"]
    assert "refused to connect to 127.0.0.1" in failed["last_error"]
