"""deploy/: the nginx config in front of a live daemon, and the systemd unit's shape."""

from __future__ import annotations

import configparser
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import BASE_CONFIG
from tests.daemon_helpers import REPO, Daemon, article

DEPLOY = REPO / "deploy"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def nginx_in_front(tmp_path: Path) -> Iterator[tuple[str, Daemon]]:
    binary = _nginx_binary()
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(BASE_CONFIG)
    article(tmp_path, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon = Daemon(tmp_path).start()
    port = _free_port()
    site = (DEPLOY / "nginx-proxy.conf").read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("server 127.0.0.1:8080;", f"server {daemon.base.removeprefix('http://')};"),
    ):
        assert old in site
        site = site.replace(old, new)
    proc = _start_nginx(binary, tmp_path / "nginx", site)
    base = f"http://127.0.0.1:{port}"
    try:
        daemon.until(lambda: requests.get(base + "/healthz", timeout=2).ok, "nginx")
        yield base, daemon
    finally:
        proc.terminate()
        proc.wait(10)
        daemon.stop()


def test_nginx_passes_feedpub_through(nginx_in_front: tuple[str, Daemon]) -> None:
    base, daemon = nginx_in_front
    direct = daemon.get("/feeds/all.atom.xml")
    via = requests.get(base + "/feeds/all.atom.xml", timeout=5)
    assert via.status_code == 200
    assert via.content == direct.content
    assert via.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert via.headers["etag"] == direct.headers["etag"]
    assert via.headers["last-modified"] == direct.headers["last-modified"]
    assert via.headers["link"] == '<https://example.org/feeds/all.atom.xml>; rel="self"'
    again = requests.get(
        base + "/feeds/all.atom.xml", timeout=5, headers={"If-None-Match": via.headers["etag"]}
    )
    assert again.status_code == 304
    gz = requests.get(base + "/feeds/all.rss.xml", timeout=5, headers={"Accept-Encoding": "gzip"})
    assert gz.headers.get("content-encoding") == "gzip"
    assert requests.get(base + "/nope", timeout=5).status_code == 404
    assert requests.get(base + "/state.sqlite3", timeout=5).status_code == 404
    # a change published by the daemon shows through nginx at once
    article(daemon.root, "two.md", "Two", "2025-01-02T00:00:00Z")
    deadline = time.monotonic() + 10
    while (
        b"<title>Two</title>" not in requests.get(base + "/feeds/all.atom.xml", timeout=5).content
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _nginx_binary() -> str:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        pytest.skip("nginx is not installed (.ci/run installs it)")
    return binary


def _start_nginx(binary: str, run: Path, site: str) -> subprocess.Popen[bytes]:
    run.mkdir(exist_ok=True)
    (run / "site.conf").write_text(site)
    temp = " ".join(
        f"{k}_temp_path {run}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (run / "nginx.conf").write_text(
        # as root (tests run as root in CI), workers read the test's private folders
        f"daemon off; worker_processes 1; pid {run}/nginx.pid; error_log {run}/error.log;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + "events { worker_connections 64; }\n"
        f"http {{ access_log off; {temp} include {run}/site.conf; }}\n"
    )
    check = subprocess.run(
        [binary, "-t", "-c", str(run / "nginx.conf"), "-p", str(run)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    return subprocess.Popen(
        [binary, "-c", str(run / "nginx.conf"), "-p", str(run)], stderr=subprocess.DEVNULL
    )


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The built-in server and nginx serving the same output folder (deploy/nginx.conf)."""
    binary = _nginx_binary()
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(
        BASE_CONFIG
        + REDIRECTS
        + "stylesheet = true\n"
        + '\n[hub]\nenabled = true\nallowed_callback_networks = ["127.0.0.0/8"]\n'
    )
    article(tmp_path, "one.md", "One", "2025-01-01T00:00:00Z", "[News, Café]")
    public = tmp_path / "public"
    (public / "feeds").mkdir(parents=True)
    (public / ".feedpub-output-id").write_text("secret\n")  # feedpub's, never served
    for relpath in PRIVATE:  # whatever else lands there: never served either
        (public / relpath).parent.mkdir(parents=True, exist_ok=True)
        (public / relpath).write_text("private")
    (public / "robots.txt").write_text("User-agent: *\n")  # put there by hand: served
    (tmp_path / "secret.txt").write_text("outside the output folder")
    (public / "link.txt").symlink_to(tmp_path / "secret.txt")  # not followed
    daemon = Daemon(tmp_path).start()
    port = _free_port()
    site = (DEPLOY / "nginx.conf").read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("server 127.0.0.1:8080;", f"server {daemon.base.removeprefix('http://')};"),
        ("root /srv/feedpub/public;", f"root {tmp_path / 'public'};"),
        (
            "include /srv/feedpub/.feedpub/state.sqlite3.redirects.nginx.con[f];",
            f"include {tmp_path}/state/state.sqlite3.redirects.nginx.con[f];",
        ),
    ):
        assert old in site
        site = site.replace(old, new)
    proc = _start_nginx(binary, tmp_path / "nginx", site)
    base = f"http://127.0.0.1:{port}"
    try:
        daemon.until(lambda: requests.get(base + "/healthz", timeout=2).ok, "nginx")
        yield {"builtin": daemon.base, "nginx": base}
    finally:
        proc.terminate()
        proc.wait(10)
        daemon.stop()


# (BASE_CONFIG ends in its [feeds] table)
REDIRECTS = (
    'redirects = {"feed.xml" = "feeds/all.atom.xml", "index.xml" = "feeds/all.rss.xml", '
    '"feed/" = "feeds/all.rss.xml", "blog/atom.xml" = "feeds/caf\u00e9.atom.xml"}\n'
)
MOVED = {
    "/feed.xml": "https://example.org/feeds/all.atom.xml",
    "/index.xml?utm=x": "https://example.org/feeds/all.rss.xml",
    "/feed/": "https://example.org/feeds/all.rss.xml",
    "/blog/atom.xml": "https://example.org/feeds/caf%C3%A9.atom.xml",
}

PRIVATE = [
    "feeds/.all.atom.xml.x1y2z3w4.tmp",  # mid-write
    ".well-known/x",
    "state.sqlite3",
    "state.sqlite3-wal",
    "state.sqlite3-shm",
    "jobs.db",
    "state.sqlite3.lock",
    "state.sqlite3.daemon.lock",
    "state.sqlite3.published.json",
    "feeds/all.atom.xml.tmp",
    "index.html~",
    "notes.md.swp",
]

PATHS = {
    "/feeds/all.atom.xml": "application/atom+xml; charset=utf-8",
    "/feeds/news.rss.xml": "application/rss+xml; charset=utf-8",
    "/feeds/all.json": "application/feed+json; charset=utf-8",
    "/feeds/caf%C3%A9.json": "application/feed+json; charset=utf-8",
    "/feeds/index.opml": "text/x-opml; charset=utf-8",
    "/feeds/feed.xsl": "application/xslt+xml; charset=utf-8",
    "/": "text/html; charset=utf-8",
    "/articles/one/": "text/html; charset=utf-8",
}


@pytest.mark.parametrize("server", ["builtin", "nginx"])
def test_http_conformance(two_servers: dict[str, str], server: str) -> None:
    base = two_servers[server]
    plain = {"Accept-Encoding": "identity"}
    for path, ctype in PATHS.items():
        r = requests.get(base + path, timeout=5, headers=plain)
        assert r.status_code == 200, (server, path)
        assert r.headers["content-type"] == ctype, (server, path)
        assert r.headers["cache-control"].startswith("public, max-age=")
        etag, modified = r.headers["etag"], r.headers["last-modified"]
        assert (
            requests.get(
                base + path, timeout=5, headers={**plain, "If-None-Match": etag}
            ).status_code
            == 304
        )
        assert (
            requests.get(
                base + path, timeout=5, headers={**plain, "If-Modified-Since": modified}
            ).status_code
            == 304
        )
        head = requests.head(base + path, timeout=5, headers=plain)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(r.content))
    feed = requests.get(
        base + "/feeds/all.atom.xml", timeout=5, headers={"Accept-Encoding": "gzip"}
    )
    assert feed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in feed.headers["vary"]
    assert feed.links["self"]["url"] == "https://example.org/feeds/all.atom.xml"
    assert feed.links["hub"]["url"] == "https://example.org/hub"
    # a feed whose name is not ASCII: its self link is percent-encoded, as in the feed itself
    cafe = requests.get(base + "/feeds/caf%C3%A9.atom.xml?utm=x", timeout=5)
    assert cafe.status_code == 200
    assert cafe.headers["link"].isascii()
    assert cafe.links["self"]["url"] == "https://example.org/feeds/caf%C3%A9.atom.xml"
    assert b'href="https://example.org/feeds/caf%C3%A9.atom.xml" rel="self"' in cafe.content
    assert requests.get(base + "/nope", timeout=5).status_code == 404
    assert requests.get(base + "/feeds/", timeout=5).status_code in (403, 404)  # no listing
    assert requests.get(base + "/.feedpub-output-id", timeout=5).status_code == 404  # private
    for relpath in PRIVATE:
        assert requests.get(f"{base}/{relpath}", timeout=5).status_code == 404, (server, relpath)
    robots = requests.get(base + "/robots.txt", timeout=5)
    assert (robots.status_code, robots.text) == (200, "User-agent: *\n")
    assert requests.get(base + "/link.txt", timeout=5).status_code in (403, 404)
    refused = requests.post(
        base + "/hub",
        timeout=5,
        data={
            "hub.mode": "subscribe",
            "hub.topic": "https://x/",
            "hub.callback": "http://127.0.0.1:9/",
        },
    )
    assert refused.status_code == 404  # the hub answers through nginx too
    assert refused.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("server", ["builtin", "nginx"])
def test_old_feed_urls_move_permanently(two_servers: dict[str, str], server: str) -> None:
    """[feeds] redirects: the built-in server answers them itself; nginx through the include
    file feedpub wrote beside its state file."""
    base = two_servers[server]
    for path, new in MOVED.items():
        for method in ("GET", "HEAD"):
            r = requests.request(method, base + path, timeout=5, allow_redirects=False)
            assert (r.status_code, r.headers["location"]) == (301, new), (server, path)
        # where it leads is a feed, served
        assert requests.get(base + new.removeprefix("https://example.org"), timeout=5).ok
    for path in ("/feed", "/feed.xml/", "/blog/"):  # exact paths only
        assert requests.get(base + path, timeout=5, allow_redirects=False).status_code in (
            403,
            404,
        ), (server, path)


@pytest.mark.parametrize("name", ["nginx.conf", "nginx-proxy.conf"])
def test_nginx_refuses_what_feedpub_never_serves(name: str) -> None:
    """One pattern: the built-in server's (feedpub.output.PRIVATE_PATTERN) is nginx's."""
    from feedpub.output import PRIVATE_PATTERN

    assert f'location ~ "{PRIVATE_PATTERN}" {{\n        return 404;' in (DEPLOY / name).read_text()


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    assert unit.read(DEPLOY / name)
    return unit


@pytest.mark.parametrize(
    ("name", "command"),
    [("feedpub.service", "run"), ("feedpub-worker@.service", "worker")],
)
def test_systemd_units(name: str, command: str) -> None:
    unit = _unit(name)
    service = unit["Service"]
    feedpub, *args = service["ExecStart"].split()
    assert feedpub.endswith("/bin/feedpub")
    assert args[:2] == [command, "--config"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["Restart"] == "on-failure"  # a daemon that lost the lead exits 2: restarted
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    # the command line is one feedpub accepts
    from feedpub.cli import _parser

    parsed = _parser().parse_args(args)
    assert parsed.command == command


@pytest.mark.parametrize("name", ["nginx.conf", "nginx-proxy.conf"])
def test_nginx_never_routes_the_admin_listener(name: str) -> None:
    """The admin listener (/metrics, /status) is for the operator: the nginx configs proxy
    the main server's port only, and no location names the admin paths."""
    import re

    from feedpub.config import AdminConfig, ServerConfig

    text = (REPO / "deploy" / name).read_text()
    upstreams = set(re.findall(r"^\s*server\s+([^\s;]+);", text, re.M))
    assert upstreams == {f"127.0.0.1:{ServerConfig().port}"}
    assert str(AdminConfig().port) not in text
    assert not re.search(r"location[^{]*/(?:metrics|status)\b", text)
    targets = set(re.findall(r"proxy_pass\s+([^\s;]+);", text))
    assert targets == {"http://feedpub"}
