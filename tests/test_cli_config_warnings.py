"""A placeholder base_url (example.org, localhost...) is one warning line from check, build
and run: a config warning, never an exit code, and not an article problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedpub.config.checks import placeholder_host
from tests.conftest import BASE_CONFIG
from tests.daemon_helpers import REPO


def _feedpub(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedpub", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.org/", "example.org"),
        ("https://www.example.com/blog/", "www.example.com"),
        ("http://example.net", "example.net"),
        ("http://localhost:8080/", "localhost"),
        ("http://127.0.0.1:8000/", "127.0.0.1"),
        ("http://[::1]/", "::1"),
        ("https://blog.test/", "blog.test"),
        ("https://EXAMPLE.ORG./", "example.org"),
        ("https://blog.example.dev/", None),
        ("https://example.org.uk/", None),
        ("https://myexample.org/", None),
        ("https://192.0.2.1/", None),
    ],
)
def test_placeholder_hosts(url: str, host: str | None) -> None:
    assert placeholder_host(url) == host


def test_check_build_and_run_say_it_once_and_strict_does_not_fail_on_it(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\n---\nx\n")
    (tmp_path / "config.toml").write_text(BASE_CONFIG)
    want = (
        "config.toml:3: warning: site.base_url: example.org is a placeholder, not a real"
        " site's address: entry ids derived while it is set keep example.org for good (ids"
        " never change); set base_url to the address readers will use"
    )
    for command in (["check"], ["build", "--strict"]):
        done = _feedpub(*command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines().count(want) == 1, done.stderr
    # run: the same line in its log (it refuses to start here: the port is not a number)
    done = _feedpub("run", "--port", "0", "--host", "256.0.0.1", cwd=tmp_path)
    assert [line for line in done.stderr.splitlines() if want in line] != []
    # a real address: not a word
    (tmp_path / "config.toml").write_text(BASE_CONFIG.replace("example.org", "blog.example.dev"))
    done = _feedpub("check", cwd=tmp_path)
    assert "warning: site.base_url" not in done.stderr
