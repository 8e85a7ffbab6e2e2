"""A file ready to serve: its answers, media type, URL path, where it is held."""

from __future__ import annotations

import gzip

import pytest

from feedpub.render.paths import ARCHIVE_DIR, EXTENSIONS, MEDIA_TYPES, feed_relpath, index_relpath
from feedpub.server import compressible, held_in_memory, make_resource, media_type, url_path
from feedpub.server.resources import relpath_of


def test_small_files_are_not_gzipped() -> None:
    res = make_resource("feeds/x.json", b"{}", 0)
    assert res.gzipped is None
    assert url_path("articles/x/index.html") == "/articles/x/"


def test_a_feed_is_served_as_render_paths_names_it() -> None:
    for fmt in EXTENSIONS:
        for relpath in (feed_relpath("all", fmt), feed_relpath("all", fmt, page=2)):
            assert media_type(relpath) == MEDIA_TYPES[fmt] + "; charset=utf-8", relpath


@pytest.mark.parametrize(
    ("relpath", "mtype", "zippable"),
    [
        ("feeds/index.opml", "text/x-opml; charset=utf-8", True),
        ("index.html", "text/html; charset=utf-8", True),
        ("robots.txt", "text/plain; charset=utf-8", True),
        ("sitemap.xml", "application/xml; charset=utf-8", True),
        ("feeds/feed.xsl", "application/xslt+xml; charset=utf-8", True),
        ("a/logo.svg", "image/svg+xml", True),
        ("a/photo.jpg", "image/jpeg", False),
        ("ep/1.mp3", "audio/mpeg", False),
        ("ep/doc.pdf", "application/pdf", False),
        ("ep/data.csv.gz", "application/gzip", False),  # never text/csv
        ("ep/data.tar.xz", "application/x-xz", False),
        ("ep/unknown.zzz", "application/octet-stream", False),
    ],
)
def test_media_types(relpath: str, mtype: str, zippable: bool) -> None:
    assert media_type(relpath) == mtype
    assert compressible(mtype) is zippable


def test_what_is_held_in_memory() -> None:
    """The feeds, the index, the OPML, files put there by hand; not the pages, the archive
    documents, the index's older pages or the media, whose number or size grows."""
    for relpath in ("feeds/all.atom.xml", index_relpath(), "feeds/index.opml", "robots.txt"):
        assert held_in_memory(relpath), relpath
    for relpath in (
        "articles/a/index.html",
        index_relpath(2),
        feed_relpath("all", "atom", page=1),
        ARCHIVE_DIR + "index.html",
        "ep/1.mp3",
        "a/photo.jpg",
    ):
        assert not held_in_memory(relpath), relpath


@pytest.mark.parametrize(
    "relpath", ["index.html", "articles/x/index.html", "feeds/all.json", "page/2/index.html"]
)
def test_url_path_and_back(relpath: str) -> None:
    assert relpath_of(url_path(relpath)) == relpath


def test_the_gzip_answer_has_its_own_etag_and_headers() -> None:
    data = b"<feed>" + b"entry " * 100 + b"</feed>"
    res = make_resource(
        "feeds/all.atom.xml", data, 1_700_000_000.7, ['<https://e.org/>; rel="self"']
    )
    assert res.gzipped is not None and gzip.decompress(res.gzipped) == data
    assert res.mtime == 1_700_000_000
    assert res.gzip_etag == res.etag[:-1] + b'-gz"'
    plain, zipped = dict(res.ok.headers), dict(res.ok_gzip.headers)
    assert plain[b"content-length"] == str(len(data)).encode()
    assert zipped[b"content-length"] == str(len(res.gzipped)).encode()
    assert zipped[b"content-encoding"] == b"gzip" and b"content-encoding" not in plain
    assert plain[b"cache-control"] == b"public, max-age=60"  # a feed
    assert plain[b"link"] == b'<https://e.org/>; rel="self"'
    assert dict(res.not_modified_gzip.headers)[b"etag"] == res.gzip_etag
    assert b"content-length" not in dict(res.not_modified.headers)
