"""feedpub.status: `feedpub status` in prose, from the same facts as `--json` and /status."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from feedpub import app
from feedpub.status import read_status, status_lines
from tests.conftest import NOW, Site


def test_status_in_prose_names_builds_problems_and_waiting_notifications(site: Site) -> None:
    site.config_text += '\n[notify]\nhubs = ["http://127.0.0.1:9/hub"]\ncoalesce_seconds = 0\n'
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[News]")
    site.article("later.md", "Later", "2025-07-01T00:00:00Z", "[News]")
    site.write("broken.md", "---\ntitle: [unclosed\n---\nx\n")
    site.build()
    site.now = NOW + timedelta(minutes=5)
    site.build()  # (changes nothing: it is the last build all the same)
    config = site.config()
    now = NOW + timedelta(minutes=10)
    lines = status_lines(read_status(config, now=now), now=now)
    text = "\n".join(lines)
    assert lines[0] == "daemon: not running"
    assert "last build: 2025-06-01 12:05:00 UTC (5 min ago), " in text
    assert ", nothing changed (1 errors)" in text
    assert "last change published: 2025-06-01 12:00:00 UTC (10 min ago)" in text
    assert "articles: 3 files; 1 published, 1 scheduled, 0 drafts or hidden; 2 feeds" in text
    assert "next go-live: 2025-07-01 00:00:00 UTC (in 29 days): later.md (Later)" in text
    assert "problems: 1 in 1 files\n  broken.md:2: error: front matter" in text
    assert "notifications: 6 waiting, 0 failed for good, 0 sent" in text
    assert (
        "  waiting for websub http://127.0.0.1:9/hub: 6, queued 2025-06-01 12:00:00 UTC"
        " (10 min ago), not tried yet"
    ) in text
    assert "recent builds:" in text
    assert "{" not in text  # (no Python dict or JSON anywhere)


def test_status_before_any_build_says_what_to_run(site: Site) -> None:
    lines = app.status_text(site.config(), now=lambda: NOW)
    assert lines[-1] == "last build: never (run `feedpub build` or `feedpub run`)"


def test_json_stays_machine_readable_with_the_same_facts(site: Site) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z", "[News]")
    site.build()
    info = app.status(site.config(), now=lambda: NOW)
    assert json.loads(json.dumps(info)) == info
    assert info["published"] == 1
    assert info["waiting_by_target"] == []


def test_what_comes_from_outside_cannot_drive_the_terminal(site: Site) -> None:
    name = "zz\x1b]0;OWNED\x07\x1b[2J\nFORGED: daemon not running\r.md"
    site.article(name, "Later", "2098-01-01T00:00:00Z", "[]")
    site.build()
    info = read_status(site.config(), now=NOW)
    info["waiting_by_target"] = [
        {
            "kind": "websub",
            "target": "http://127.0.0.1:9/hub?token=***",
            "count": 1,
            "attempts": 2,
            "oldest": NOW.isoformat(),
            "last_error": "HTTP 500: \x1b[31mHUB DOWN\r\nFORGED: line",
        }
    ]
    text = "\n".join(status_lines(info, now=NOW))
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert not [line for line in text.splitlines() if line.startswith("FORGED")]
    assert "zz\\x1b]0;OWNED" in text


def test_problems_are_named_from_where_the_reader_is(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.write("broken.md", "---\ntitle: [unclosed\n---\nx\n")
    site.build()
    monkeypatch.chdir(site.root)
    text = "\n".join(app.status_text(site.config(), now=lambda: NOW))
    assert "  articles/broken.md:2: error: front matter" in text
    monkeypatch.chdir(site.root.parent)
    text = "\n".join(app.status_text(site.config(), now=lambda: NOW))
    assert f"  {site.root.name}/articles/broken.md:2: error: front matter" in text
