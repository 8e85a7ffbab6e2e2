"""The hub calls only addresses it may: checked on resolution and on the connected socket."""

from __future__ import annotations

import ipaddress
import socket
import types
from typing import Any

import pytest
import requests

from feedpub.notify import guard
from feedpub.notify.guard import address_refusal, callback_refusal, guarded_session
from feedpub.notify.notifier import Notifier
from feedpub.state import State
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
    ],
)
def test_address_refusal(address: str, allowed: list[Any], refused: bool) -> None:
    assert (address_refusal(address, allowed) is not None) is refused


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
