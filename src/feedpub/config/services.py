"""``[notify]``, ``[hub]``, ``[server]``, ``[admin]`` and ``[schedule]``: the parts that run
beside the build (notifications, the built-in hub, the server, the operator's listener, the
daemon's timers). A key left out
takes the section's default, as the dataclass in :mod:`.sections` gives it."""

from __future__ import annotations

from feedpub.config.checks import Section, networks, url_list
from feedpub.config.sections import (
    AdminConfig,
    HubConfig,
    NotifyConfig,
    ScheduleConfig,
    ServerConfig,
)


def read_notify(root: Section) -> NotifyConfig:
    n, d = root.section("notify"), NotifyConfig()
    notify = NotifyConfig(
        hubs=url_list(n, "hubs"),
        weblogupdates=url_list(n, "weblogupdates", published=False),
        enabled=n.get("enabled", bool, d.enabled),
        coalesce_seconds=n.number("coalesce_seconds", d.coalesce_seconds),
        min_interval_seconds=n.number("min_interval_seconds", d.min_interval_seconds),
        retry_base_seconds=n.number("retry_base_seconds", d.retry_base_seconds),
        retry_max_seconds=n.number("retry_max_seconds", d.retry_max_seconds),
        max_age_hours=n.number("max_age_hours", d.max_age_hours),
        timeout_seconds=n.number("timeout_seconds", d.timeout_seconds),
        concurrency=n.positive("concurrency", d.concurrency),
        stale_after_seconds=n.seconds("stale_after_seconds", d.stale_after_seconds),
    )
    n.done()
    return notify


def read_hub(root: Section) -> HubConfig:
    h, d = root.section("hub"), HubConfig()
    hub = HubConfig(
        allowed_callback_networks=networks(h, "allowed_callback_networks"),
        enabled=h.get("enabled", bool, d.enabled),
        lease_seconds=h.positive("lease_seconds", d.lease_seconds),
        min_lease_seconds=h.positive("min_lease_seconds", d.min_lease_seconds),
        max_lease_seconds=h.positive("max_lease_seconds", d.max_lease_seconds),
        max_subscriptions=h.positive("max_subscriptions", d.max_subscriptions),
        max_per_topic=h.positive("max_per_topic", d.max_per_topic),
    )
    if not hub.min_lease_seconds <= hub.lease_seconds <= hub.max_lease_seconds:
        h.error("lease_seconds", "must lie between min_lease_seconds and max_lease_seconds")
    h.done()
    return hub


def _port(sec: Section, default: int) -> int:
    port = sec.get("port", int, default)
    if not 0 <= port <= 65535:
        sec.error("port", f"must be 0 to 65535, got {port}")
        return default
    return port


MAX_PROCESSES = 64  # [server] processes


def read_server(root: Section) -> ServerConfig:
    sv, d = root.section("server"), ServerConfig()
    port = _port(sv, d.port)
    server = ServerConfig(
        trusted_proxies=networks(sv, "trusted_proxies"),
        host=sv.get("host", str, d.host),
        port=port,
        max_connections_per_client=sv.positive(
            "max_connections_per_client", d.max_connections_per_client
        ),
        header_timeout_seconds=sv.seconds("header_timeout_seconds", d.header_timeout_seconds),
        body_timeout_seconds=sv.seconds("body_timeout_seconds", d.body_timeout_seconds),
        send_timeout_seconds=sv.seconds("send_timeout_seconds", d.send_timeout_seconds),
        access_log=sv.get("access_log", bool, d.access_log),
        processes=sv.positive("processes", d.processes),
    )
    if server.processes > MAX_PROCESSES:
        sv.error("processes", f"at most {MAX_PROCESSES}, got {server.processes}")
    sv.done()
    return server


def clash(host: str, port: int, other_host: str, other_port: int) -> bool:
    """Whether two listeners would want one socket: the same port (not 0, which picks a free
    one) on the same address, or on every address."""
    every = ("", "0.0.0.0", "::")  # noqa: S104 (addresses compared, not bound)
    same_host = host == other_host or host in every or other_host in every
    return port != 0 and port == other_port and same_host


def read_admin(root: Section, server: ServerConfig) -> AdminConfig:
    """``[admin]``: off by default. Its address may not be the server's (one socket cannot
    serve both); port 0 picks a free one (tests)."""
    a, d = root.section("admin"), AdminConfig()
    admin = AdminConfig(
        enabled=a.get("enabled", bool, d.enabled),
        host=a.get("host", str, d.host),
        port=_port(a, d.port),
    )
    a.done()
    if admin.enabled and clash(admin.host, admin.port, server.host, server.port):
        a.error("port", f"{admin.port} is [server] port: the admin listener needs its own")
    return admin


def read_schedule(root: Section) -> ScheduleConfig:
    sc, d = root.section("schedule"), ScheduleConfig()
    schedule = ScheduleConfig(
        reconcile_seconds=sc.positive("reconcile_seconds", d.reconcile_seconds),
        settle_ms=sc.positive("settle_ms", d.settle_ms),
    )
    sc.done()
    return schedule
