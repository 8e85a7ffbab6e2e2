"""Which files beside the articles are media: images, audio, video and documents, published
when an article points to them (:mod:`feedpub.articles.refs`) and not counted as stray files
when the articles folder is scanned (:mod:`feedpub.articles.discover`)."""

from __future__ import annotations

import posixpath

MEDIA_SUFFIXES = frozenset(
    {
        # images (never SVG: it can carry script, and would be served from the site's origin)
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".bmp",
        # audio and video
        ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac",
        ".mp4", ".m4v", ".webm", ".mov", ".ogv",
        # documents and downloads
        ".pdf", ".epub", ".zip", ".gz", ".tgz", ".csv", ".vtt", ".srt",
    }
)  # fmt: skip
"""Files beside the articles that are published when an article points to them."""


def is_media(relpath: str) -> bool:
    return posixpath.splitext(relpath)[1].lower() in MEDIA_SUFFIXES
