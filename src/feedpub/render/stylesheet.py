"""The XSLT stylesheet Atom and RSS feeds name for browsers (``[feeds] stylesheet``).

A feed names it with ``<?xml-stylesheet type="text/xsl" href="..."?>`` right after the XML
declaration (:func:`with_stylesheet`); feed readers ignore processing instructions, so the
feed's content is the same for them. The href is relative to the feed's own URL
(:func:`feedpub.render.paths.stylesheet_href`): it works wherever the output folder is served
from (the site, a preview on localhost, a mirror), and a browser loads an XSLT stylesheet only
from the feed's own origin anyway. The stylesheet is feedpub's own (``feed.xsl`` in this
package) or the site's; either is published at :data:`feedpub.render.paths.STYLESHEET_PATH`.
"""

from __future__ import annotations

import errno
import os
from importlib import resources
from pathlib import Path

from lxml import etree

from feedpub.errors import RenderError
from feedpub.render.paths import STYLESHEET_PATH

MAX_STYLESHEET_BYTES = 1024 * 1024  # the site's own stylesheet: larger is refused
_XSLT_NS = "http://www.w3.org/1999/XSL/Transform"
_DECLARATION = b"<?xml "


def builtin_stylesheet() -> bytes:
    """feedpub's own stylesheet, as shipped in the package."""
    return resources.files("feedpub.render").joinpath("feed.xsl").read_bytes()


def site_stylesheet(path: Path) -> bytes:
    """The site's own stylesheet file: at most :data:`MAX_STYLESHEET_BYTES`, well-formed XML
    whose root is an ``xsl:stylesheet`` or ``xsl:transform``, read without entities, DTDs or
    the network. Anything else: :class:`RenderError` naming the file."""

    def refuse(why: str) -> RenderError:
        return RenderError(f"{path}: {why} ([feeds] stylesheet)", feed=STYLESHEET_PATH)

    try:
        # (the real path, as the config found it: a link put there since is not followed)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise refuse(f"cannot read: {e.strerror or e}") from e
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_STYLESHEET_BYTES + 1)
        except OSError as e:  # (a folder: EISDIR)
            why = "is a folder" if e.errno == errno.EISDIR else f"cannot read: {e.strerror or e}"
            raise refuse(why) from e
    if len(data) > MAX_STYLESHEET_BYTES:
        raise refuse(f"larger than {MAX_STYLESHEET_BYTES} bytes")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise refuse(f"not well-formed XML: {e}") from e
    if root.tag not in (f"{{{_XSLT_NS}}}stylesheet", f"{{{_XSLT_NS}}}transform"):
        raise refuse("not an XSLT stylesheet (its root is not xsl:stylesheet)")
    return data


def with_stylesheet(document: bytes, href: str) -> bytes:
    """``document`` (an XML document starting with its XML declaration) with the
    ``xml-stylesheet`` processing instruction for ``href`` right after the declaration."""
    if not document.startswith(_DECLARATION) or any(c in href for c in '"<>&?'):
        raise ValueError(f"cannot name the stylesheet {href!r} in this document")
    end = document.index(b"?>") + 2
    pi = f'\n<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
    return document[:end] + pi + document[end:]
