"""feedpub.admin.page: any text from articles or the network is escaped (html5lib reads
back exactly the text given, and never an element it did not write); feedpub.status's
URLs shown without their secrets."""

from __future__ import annotations

from typing import Any

import html5lib
from hypothesis import given
from hypothesis import strategies as st

from feedpub.admin.page import render_status
from feedpub.redaction import shown_url

HTML = "{http://www.w3.org/1999/xhtml}"
# what an HTML document can carry (no NUL, no other control characters, no surrogates)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"), min_size=1
)


def _info(title: str, message: str, error: str) -> dict[str, Any]:
    return {
        "articles": 1,
        "problems": [f"a.md:1: error: {message}"],
        "problems_by_article": [
            {"path": title, "problems": [{"line": 1, "severity": "error", "message": message}]}
        ],
        "articles_with_problems": 1,
        "scheduled_articles": [{"path": "s.md", "title": title, "goes_live": "2099-01-01"}],
        "builds": [
            {
                "started_at": "2025-01-01T00:00:00+00:00",
                "duration_ms": 5,
                "outcome": "failed",
                "articles": None,
                "published": None,
                "written": None,
                "errors": None,
                "warnings": None,
                "error": error,
            }
        ],
        "failed_notifications": [
            {
                "kind": "websub",
                "target": "https://hub.example/",
                "topic": "https://example.org/feeds/all.atom.xml",
                "attempts": 3,
                "status": 500,
                "last_error": error,
                "at": "2025-01-01T00:00:00+00:00",
            }
        ],
    }


@given(title=TEXT, message=TEXT, error=TEXT, site=TEXT)
def test_every_text_is_escaped(title: str, message: str, error: str, site: str) -> None:
    page = render_status(_info(title, message, error), site_title=site)
    doc = html5lib.parse(page)
    tags = {el.tag for el in doc.iter()}
    assert f"{HTML}script" not in tags
    assert tags <= {
        f"{HTML}{t}"
        for t in [
            "html",
            "head",
            "meta",
            "title",
            "style",
            "body",
            "main",
            "h1",
            "h2",
            "section",
            "table",
            "caption",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "p",
        ]
    }
    assert all(not name.startswith("on") for el in doc.iter() for name in el.attrib)
    title_el = doc.find(f"{HTML}head/{HTML}title")
    assert title_el is not None and title_el.text == f"feedpub status: {site}".replace("\r", "\n")
    cells = ["".join(el.itertext()) for el in doc.iter() if el.tag in (f"{HTML}th", f"{HTML}td")]

    def norm(text: str) -> str:  # (HTML parsing normalises line breaks)
        return text.replace("\r\n", "\n").replace("\r", "\n")

    assert norm(title) in cells and norm(message) in cells and norm(error) in cells


def test_urls_are_shown_without_passwords_or_query_values() -> None:
    assert shown_url("https://user:pw@host.example/x?token=abc&b=") == (
        "https://user:***@host.example/x?token=***&b=***"
    )
    assert shown_url("https://hub.example/") == "https://hub.example/"
    assert shown_url("http://[::1/") == "(not a URL)"
