"""A file ready to serve: its answers, media type, URL path, where it is held."""

from __future__ import annotations

from feedpub.server import make_resource, url_path


def test_small_files_are_not_gzipped() -> None:
    res = make_resource("feeds/x.json", b"{}", 0)
    assert res.gzipped is None
    assert url_path("articles/x/index.html") == "/articles/x/"
