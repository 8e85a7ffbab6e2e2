"""feedpub.redaction: no password or token in anything people read."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from feedpub import logs
from feedpub.redaction import shown_location, shown_url
from feedpub.store.db import redact


def test_passwords_in_the_userinfo_the_query_and_a_dsn_are_hidden() -> None:
    assert (
        shown_url("postgresql+psycopg://feedpub:s3cret@127.0.0.1:5432/db")
        == "postgresql+psycopg://feedpub:***@127.0.0.1:5432/db"
    )
    assert (
        shown_url("postgresql+psycopg://feedpub@127.0.0.1:5432/db?password=s3cret")
        == "postgresql+psycopg://feedpub@127.0.0.1:5432/db?password=***"
    )
    assert (
        shown_url("postgresql+psycopg:///db?host=127.0.0.1&user=u&password=s3cret")
        == "postgresql+psycopg:///db?host=***&user=***&password=***"
    )
    assert shown_url("https://hub.test/?token=T0K") == "https://hub.test/?token=***"
    assert shown_url("host=h user=u password='a b\\' c' dbname=x") == (
        "host=h user=u password=*** dbname=x"
    )
    assert shown_location(Path("/srv/state.sqlite3")) == "/srv/state.sqlite3"
    assert redact("postgresql://u:p@h/db?password=q") == "postgresql://u:***@h/db?password=***"


@given(st.text(alphabet="abcXYZ019-._~%!$", min_size=1, max_size=40))
def test_a_secret_never_shows(secret: str) -> None:
    secret = "S" + secret
    for url in (
        f"postgresql://user:{secret}@host/db",
        f"https://hub.test/path?token={secret}",
    ):
        shown = shown_url(url)
        assert secret not in shown


def test_a_text_log_line_cannot_be_forged_by_what_it_quotes() -> None:
    out = io.StringIO()
    handler = logs.setup("info", "text", stream=out)
    try:
        logging.getLogger("feedpub.test").info(
            "hub answered: %s", "HTTP 500: \x1b[31mDOWN\r\n2026-01-01 ERROR forged"
        )
    finally:
        logging.getLogger().removeHandler(handler)
    text = out.getvalue()
    assert text.count("\n") == 1
    assert "\x1b" not in text and "\r" not in text
    assert "\\x1b[31mDOWN\\r\\n2026-01-01 ERROR forged" in text
