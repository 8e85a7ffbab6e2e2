"""The headless Chromium the browser tests use works here (tests/browser.py)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from tests.browser import Browser, dump_dom

PAGE = b"""<!doctype html><html><head><title>before</title></head><body>
<p id="static">served</p>
<script>document.title = "after"; document.body.dataset.ran = "yes";</script>
</body></html>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def page_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_dump_dom_runs_the_page_scripts(page_url: str) -> None:
    dom = dump_dom(page_url)
    assert 'data-ran="yes"' in dom
    assert "<title>after</title>" in dom


def test_an_open_page_is_listed_with_its_live_title(page_url: str) -> None:
    with Browser(page_url) as browser:
        browser.until(
            lambda: any(p["title"] == "after" for p in browser.pages()), "the script's title"
        )
