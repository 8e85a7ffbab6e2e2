"""The admin listener of a real ``feedpub run`` (``[admin] enabled``): ``/metrics`` parsed
with prometheus_client's own parser, ``/status`` read by html5lib and by a real headless
Chromium and compared with ``feedpub status --json``, what neither may show (a password, a
hub secret, a token, a live script), its bounds; and ``/healthz`` answering 503 when the
service cannot do its job (the state store gone, builds failing, notifications stuck). On
SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import html5lib
import psycopg
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from feedpub import config as config_mod
from feedpub.model import OutboxItem
from feedpub.store import State
from tests.conftest import BASE_CONFIG, PG_ENV
from tests.daemon_helpers import REPO, Daemon, article

ADMIN = "\n[admin]\nenabled = true\nport = 0\n"
XHTML = "{http://www.w3.org/1999/xhtml}"


def _dead_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AdminDaemon(Daemon):
    admin = ""

    def start(self, *extra: str, wait: bool = True) -> AdminDaemon:
        super().start(*extra, wait=wait)
        port = self.wait_for(
            r"admin listener \(/metrics, /status\) at http://127\.0\.0\.1:(\d+)/", 20
        )
        self.admin = f"http://127.0.0.1:{port}"
        return self

    def admin_get(self, path: str) -> requests.Response:
        return requests.get(self.admin + path, timeout=10)

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = self.admin_get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }


def _status_json(root: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "feedpub", "status", "--json"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@pytest.fixture
def root(tmp_path: Path, engine: str) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(
        BASE_CONFIG + "\n[schedule]\nreconcile_seconds = 3600\n" + ADMIN + engine,
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def daemon(root: Path) -> Iterator[AdminDaemon]:
    d = AdminDaemon(root)
    yield d
    if d.proc is not None and d.proc.poll() is None:
        d.stop(signal.SIGKILL)


def _add_config(root: Path, text: str) -> None:
    """Add tables before the ``[admin]`` table (and the ``[state]`` one after it)."""
    path = root / "config.toml"
    path.write_text(path.read_text().replace(ADMIN, f"\n{text}\n{ADMIN}"), encoding="utf-8")


def _articles(root: Path) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    article(root, "two.md", "Two", "2025-02-01T00:00:00Z", "[Tech]")
    article(root, "later.md", "Later", "2099-01-01T00:00:00Z")
    (root / "articles" / "draft.md").write_text(
        "---\ntitle: Draft\ndate: 2025-01-01T00:00:00Z\ndraft: true\n---\nx\n"
    )
    (root / "articles" / "broken.md").write_text("---\ntitle: [unclosed\n---\nx\n")


def test_metrics_of_a_real_daemon(root: Path, daemon: AdminDaemon) -> None:
    _articles(root)
    _add_config(
        root,
        f'[notify]\nhubs = ["http://127.0.0.1:{_dead_port()}/hub"]\ncoalesce_seconds = 0\n'
        "retry_base_seconds = 3600",
    )
    daemon.start()
    feed = daemon.get("/feeds/all.atom.xml")
    assert feed.status_code == 200
    assert daemon.get("/nothing").status_code == 404

    def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        return (name, tuple(sorted(labels.items())))

    def attempted() -> bool:
        m = daemon.metrics()
        return m[key("feedpub_notifications_total", kind="websub", outcome="error")] >= 1

    daemon.until(attempted, "the notifier's first attempt")
    m = daemon.metrics()
    assert m[key("feedpub_state_up")] == 1
    assert m[key("feedpub_builds_total", outcome="ok")] >= 1
    assert m[key("feedpub_builds_total", outcome="failed")] == 0
    assert m[key("feedpub_build_duration_seconds_count")] >= 1
    assert m[key("feedpub_http_requests_total", status="200")] >= 2  # (the feed, /healthz)
    assert m[key("feedpub_http_requests_total", status="404")] == 1
    assert m[key("feedpub_http_response_bytes_total")] >= len(feed.content)
    assert m[key("feedpub_articles", state="published")] == 2
    assert m[key("feedpub_articles", state="scheduled")] == 1
    assert m[key("feedpub_articles", state="drafts")] == 1
    assert m[key("feedpub_feeds")] == 3  # all, News, Tech
    assert m[key("feedpub_problems", severity="error")] == 1
    waiting = m[key("feedpub_outbox_waiting", kind="websub")]  # (each feed's ping: one hour)
    assert waiting == 9  # (3 feeds, 3 formats)
    assert m[key("feedpub_outbox_oldest_waiting_age_seconds", kind="websub")] >= 0
    assert m[key("feedpub_hub_subscriptions", state="active")] == 0
    assert m[key("feedpub_notifications_total", kind="delivery", outcome="sent")] == 0
    status = _status_json(root)
    assert status["notifications"]["pending"] == waiting
    assert status["published"] == 2
    assert daemon.stop() == 0


def _subscribe(config_path: Path, callback: str, secret: str) -> None:
    config = config_mod.load(config_path)
    with State(config.state_target) as state, state.transaction():
        state.subscribe(
            "https://example.org/feeds/all.atom.xml", callback, secret, 3600, datetime.now(UTC)
        )


def _no_script(page: bytes) -> Any:
    doc = html5lib.parse(page, namespaceHTMLElements=True)
    assert doc.findall(f".//{XHTML}script") == []
    for element in doc.iter():
        assert not any(name.lower().startswith("on") for name in element.attrib)
    return doc


def test_status_page_matches_status_json_holds_no_secret_and_no_script(
    root: Path, daemon: AdminDaemon, engine: str
) -> None:
    from tests.browser import dump_dom

    dead = _dead_port()
    _articles(root)
    (root / "articles" / "<script>alert(1)<.md").write_text("---\ntitle: [x\n---\nx\n")
    article(root, "soon.md", "<script>alert(2)</script>", "2099-02-01T00:00:00Z")
    _add_config(
        root,
        f'[notify]\nweblogupdates = ["http://pinger:pingpass-xyz@127.0.0.1:{dead}/RPC2"]\n'
        "coalesce_seconds = 0\nretry_base_seconds = 3600\n"
        '[hub]\nenabled = true\nallowed_callback_networks = ["127.0.0.0/8"]',
    )
    callback = f"http://127.0.0.1:{dead}/<script>alert(3)</script>?token=t0ken-xyz"
    daemon.start()
    _subscribe(root / "config.toml", callback, "hubs3cret-xyz")
    article(root, "new.md", "New", "2025-03-01T00:00:00Z")  # a change: a delivery too

    def queued() -> bool:
        pending = _status_json(root)["pending_notifications"]
        return {n["kind"] for n in pending} == {"weblogupdates", "delivery"} and all(
            n["attempts"] >= 1 for n in pending
        )

    daemon.until(queued, "a ping and a delivery tried once", timeout=30)
    for _ in range(3):  # (read when nothing moves: the same numbers twice around the page)
        before = _status_json(root)
        page = daemon.admin_get("/status")
        dom = dump_dom(daemon.admin + "/status")
        after = _status_json(root)
        if {k: v for k, v in before.items() if k != "daemon"} == {
            k: v for k, v in after.items() if k != "daemon"
        }:
            break
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    raw = page.content
    metrics = daemon.admin_get("/metrics").content
    shown = [raw, dom.encode(), metrics, json.dumps(after).encode()]
    secrets = ["hubs3cret-xyz", "t0ken-xyz", "pingpass-xyz"]
    if engine:
        pg = os.environ[PG_ENV]
        password = pg.split("://", 1)[1].split("@", 1)[0]  # user:password
        assert ":" in password
        secrets.append(password + "@")
    for text in shown:
        for secret in secrets:
            assert secret.encode() not in text
    # escaped, never live: the article's title, the file name in a problem
    assert b"&lt;script&gt;alert(2)&lt;/script&gt;" in raw
    assert b"&lt;script&gt;alert(1)&lt;.md" in raw
    # (a delivery names its subscription, never the subscriber's callback: nowhere shown)
    assert b"<td>subscription:1</td>" in raw
    assert all(b"alert(3)" not in text for text in shown)
    assert b"http://pinger:***@127.0.0.1:" in raw
    doc = _no_script(raw)
    _no_script(dom.encode())
    html = doc.getroot() if hasattr(doc, "getroot") else doc
    assert html.get("lang") == "en"
    assert (html.find(f"{XHTML}head/{XHTML}title").text or "").startswith("feedpub status")
    for th in doc.iter(f"{XHTML}th"):
        assert th.get("scope") in ("row", "col")
    # the numbers the browser shows are those of feedpub status --json
    browser = html5lib.parse(dom, namespaceHTMLElements=False)
    cells = {
        tr.get("id"): "".join(tr.find("td").itertext())
        for tr in browser.iter("tr")
        if (tr.get("id") or "").startswith("summary-")
    }
    for key in ("articles", "published", "scheduled", "drafts", "feeds", "next_go_live"):
        assert cells[f"summary-{key}"] == str(after[key]), key
    for key in ("pending", "failed", "done"):
        assert cells[f"summary-notifications-{key}"] == str(after["notifications"][key])
    assert cells["summary-problems"] == str(len(after["problems"])) == "2"
    assert after["scheduled"] == 2 and after["published"] == 3
    tables = {
        section.get("aria-labelledby"): len(section.findall(".//tbody/tr"))
        for section in browser.iter("section")
    }
    assert tables["builds"] == len(after["builds"]) >= 2
    assert tables["problems"] == 2
    assert tables["scheduled"] == len(after["scheduled_articles"]) == 2
    assert tables["pending"] == len(after["pending_notifications"]) == 2
    assert tables["hub"] == len(after["subscriptions"]["by_topic"]) == 1
    assert after["subscriptions"]["active"] == 1
    assert daemon.stop() == 0


def _health(daemon: Daemon) -> tuple[int, dict[str, Any]]:
    response = daemon.get("/healthz")
    data: dict[str, Any] = response.json()
    return response.status_code, data


def test_healthz_503_when_the_state_store_is_gone(
    root: Path, daemon: AdminDaemon, engine: str
) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    assert _health(daemon)[0] == 200
    config = config_mod.load(root / "config.toml")
    if engine:  # PostgreSQL: the tables dropped (the schema, as the database's owner would)
        url = str(config.state_target)
        schema = url.rsplit("search_path%3D", 1)[1]
        plain = os.environ[PG_ENV].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    else:  # SQLite: the file (and its shared memory index) overwritten
        for name in ("state.sqlite3", "state.sqlite3-shm"):
            path = root / "state" / name
            with open(path, "r+b") as f:
                f.write(b"garbage!" * (path.stat().st_size // 8))
    daemon.until(lambda: _health(daemon)[0] == 503, "503")
    report = _health(daemon)[1]
    assert report["status"] == "unavailable"
    assert report["reasons"][0].startswith("the state store does not answer: ")
    assert "feedpub:feedpub@" not in json.dumps(report)
    assert daemon.admin_get("/status").status_code == 503
    m = daemon.admin_get("/metrics")
    assert m.status_code == 200 and "feedpub_state_up 0.0" in m.text
    if engine:  # back: the daemon opens the store again (and makes its tables)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        daemon.until(lambda: _health(daemon)[0] == 200, "200 again")
    daemon.stop(signal.SIGKILL)


def test_healthz_503_while_builds_fail_then_200(root: Path, daemon: AdminDaemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    daemon.start()
    output = root / "public"
    output.rename(root / "public.moved")
    output.write_text("a file where the output folder was\n")
    article(root, "two.md", "Two", "2025-02-01T00:00:00Z")
    daemon.until(lambda: _health(daemon)[0] == 503, "503")
    report = _health(daemon)[1]
    assert report["reasons"][0].startswith("builds are failing: ")
    failed = _status_json(root)["builds"][0]
    assert failed["outcome"] == "failed" and str(output) in failed["error"]
    output.unlink()
    (root / "public.moved").rename(output)
    daemon.until(lambda: _health(daemon)[0] == 200, "200 after a good build")
    assert daemon.titles() == ["Two", "One"]  # (served before /healthz says 200)
    assert daemon.stop() == 0


def test_healthz_503_when_a_notification_waits_too_long(root: Path, daemon: AdminDaemon) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    _add_config(root, "[notify]\nstale_after_seconds = 60\nretry_base_seconds = 3600")
    daemon.start()
    config = config_mod.load(root / "config.toml")
    queued = datetime.now(UTC) - timedelta(hours=1)
    with State(config.state_target) as state, state.transaction():
        item = OutboxItem(
            kind="websub",
            target=f"http://127.0.0.1:{_dead_port()}/hub",
            topic="https://example.org/feeds/all.atom.xml",
            not_before=queued + timedelta(hours=2),  # (not due: left waiting)
        )
        state.enqueue([item], queued)
    code, report = _health(daemon)
    assert code == 503
    assert report["reasons"] == [
        f"a notification has waited {report['oldest_notification_seconds']:.0f} s to be sent "
        "(more than notify.stale_after_seconds = 60)"
    ]
    assert report["oldest_notification_seconds"] >= 3600
    metrics = daemon.admin_get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    ages = {
        s.labels["kind"]: s.value
        for s in families["feedpub_outbox_oldest_waiting_age_seconds"].samples
    }
    assert ages["websub"] >= 3600
    daemon.stop(signal.SIGKILL)


def test_the_admin_listener_answers_get_and_head_and_holds_clients_to_the_bounds(
    root: Path, daemon: AdminDaemon
) -> None:
    article(root, "one.md", "One", "2025-01-01T00:00:00Z")
    _add_config(root, "[server]\nmax_connections_per_client = 2")
    daemon.start()
    assert requests.head(daemon.admin + "/status", timeout=10).content == b""
    assert requests.post(daemon.admin + "/metrics", timeout=10).status_code == 405
    for path in ("/", "/healthz", "/feeds/all.atom.xml", "/metrics/", "/status?x"):
        code = requests.get(daemon.admin + path, timeout=10).status_code
        assert code == (200 if path == "/status?x" else 404), path
    host, main_port = "127.0.0.1", int(daemon.base.rsplit(":", 1)[1])
    admin_port = int(daemon.admin.rsplit(":", 1)[1])
    held = [socket.create_connection((host, main_port), timeout=5) for _ in range(2)]
    try:  # the main server's clients do not count on the admin listener
        assert daemon.admin_get("/status").status_code == 200
        held += [socket.create_connection((host, admin_port), timeout=5) for _ in range(2)]
        with socket.create_connection((host, admin_port), timeout=5) as third:
            third.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = third.recv(4096)
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert b"too many connections from your address" in answer
    finally:
        for s in held:
            s.close()
    assert daemon.stop() == 0
