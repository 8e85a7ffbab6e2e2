"""Atom 1.0 and RSS 2.0 through feedgen (the only module that imports it).

feedgen's traps, handled here: entries are added with ``order="append"`` after sorting; every
``updated``/``lastBuildDate`` is set explicitly (its default is *now*); the ``self`` and ``hub``
links are added before the ``alternate`` one (RSS ``<channel><link>`` is the last link added);
RSS drops ``rel="hub"``, so a small extension writes ``<atom:link rel="hub">``; name-only authors
go to ``dc:creator`` in RSS; enclosures always carry a length; RSS date formatting switches the
process locale, so rendering holds a lock; ``id()`` and ``guid()`` each set both the Atom id
and the RSS guid, so each format sets only its own.

Atom entry links: feedgen 1.0.0 writes an entry's ``<link>`` with its ``href`` only (its loop
rebinds the link's data to the new element before reading ``rel``, ``type`` and ``length`` from
it), so an enclosure became a second alternate link. A small entry extension
(:class:`_AtomEntryLinks`) takes the entry's link data from feedgen's own getter and, once
feedgen has built the ``<entry>`` element, sets each ``<link>``'s attributes from it, matched one
to one in order and checked by ``href``. It is the documented extension hook, not a patch of
feedgen or a second parse of its output, and it stays correct if feedgen is fixed (the same
attributes are set to the same values). An enclosure's ``length`` is written in Atom only when
it is known (RFC 4287 4.2.7.6: an advisory size; ``0`` would claim an empty file); RSS requires
the attribute and writes ``0`` for "unknown", as the RSS Advisory Board recommends.

Podcasts: the RSS feed of a category with a ``podcast`` setting (:class:`feedpub.model.Podcast`,
and only that feed) carries the tags Apple Podcasts requires, through feedgen's podcast
extension (``feedgen.ext.podcast``), subclassed for what feedgen 1.0.0 cannot write:
``itunes:explicit`` as ``true``/``false`` (Apple's values today; feedgen knows only
yes/no/clean) and Podcasting 2.0's ``podcast:guid``. Its text (author, owner) is RSS text,
written with :func:`safe.either` like every other; the artwork URL was checked when the config
was read (feedgen silently drops a channel image not ending in ``.jpg`` or ``.png``). In that
feed an article's image is its episode artwork, never its enclosure (every enclosure there is
an episode). feedgen's ``util`` module uses ``lxml.etree`` without importing it, so lxml is
imported first.

Every value goes through :mod:`feedpub.render.safe`: Atom text is ``type="text"``; RSS titles,
categories and names are written to read the same as text and as HTML (:func:`safe.either`);
the RSS ``description`` is the summary as HTML; content is sanitised HTML.
"""

from __future__ import annotations

import mimetypes
import threading
import uuid
from typing import Any

from lxml import etree  # before feedgen: feedgen.util uses lxml.etree without importing it

# isort: split
from feedgen.ext.base import BaseExtension
from feedgen.ext.podcast import PodcastExtension
from feedgen.ext.podcast_entry import PodcastEntryExtension
from feedgen.feed import FeedGenerator

from feedpub import __version__
from feedpub.config import SiteConfig
from feedpub.errors import RenderError
from feedpub.model import Article, Enclosure, FeedFormat, FeedSpec, Podcast
from feedpub.render import MEDIA_TYPES, BodySource, Links, entry_authors, feed_relpath, safe
from feedpub.render.paths import stylesheet_href
from feedpub.render.stylesheet import with_stylesheet

_ATOM_NS = "http://www.w3.org/2005/Atom"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
_ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# Podcasting 2.0: podcast:guid is the UUIDv5 of the feed's URL, without its scheme and trailing
# slashes, in this namespace (https://podcastindex.org/namespace/1.0#guid)
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
_LOCK = threading.Lock()


def podcast_guid(feed_url: str) -> str:
    """The ``podcast:guid`` Podcasting 2.0 derives from a feed's URL."""
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, feed_url.split("://", 1)[-1].rstrip("/")))


def _explicit(value: bool) -> str:
    return "true" if value else "false"  # Apple Podcasts' values (feedgen knows yes/no/clean)


class _Podcast(PodcastExtension):  # type: ignore[misc]
    """feedgen's podcast extension, and what it cannot write: ``itunes:explicit`` as
    ``true``/``false`` (Apple's values; feedgen 1.0.0 writes only yes/no/clean) and the
    Podcasting 2.0 ``podcast:guid``."""

    def __init__(self) -> None:
        super().__init__()
        self.explicit: bool | None = None
        self.guid: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {**super().extend_ns(), "podcast": _PODCAST_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        rss_feed = super().extend_rss(rss_feed)
        channel = rss_feed[0]
        if self.explicit is not None:
            etree.SubElement(channel, f"{{{_ITUNES_NS}}}explicit").text = _explicit(self.explicit)
        if self.guid:
            etree.SubElement(channel, f"{{{_PODCAST_NS}}}guid").text = self.guid
        return rss_feed


class _PodcastEntry(PodcastEntryExtension):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.explicit: bool | None = None

    def extend_rss(self, entry: Any) -> Any:
        entry = super().extend_rss(entry)
        if self.explicit is not None:
            etree.SubElement(entry, f"{{{_ITUNES_NS}}}explicit").text = _explicit(self.explicit)
        return entry


def _podcast_channel(ext: Any, podcast: Podcast, feed_url: str) -> None:
    """The channel's iTunes tags (text as the other RSS text: :func:`safe.either`)."""
    ext.itunes_author(safe.either(podcast.author))
    ext.itunes_owner(name=safe.either(podcast.owner_name), email=safe.either(podcast.owner_email))
    ext.itunes_image(podcast.image)  # a .jpg or .png (config): feedgen drops others silently
    category = {"cat": podcast.category}
    if podcast.subcategory:
        category["sub"] = podcast.subcategory
    ext.itunes_category(category)
    ext.itunes_type(podcast.type)
    ext.explicit = podcast.explicit
    ext.guid = podcast.guid or podcast_guid(feed_url)


def _podcast_item(ext: Any, a: Article, podcast: Podcast) -> None:
    """An episode's iTunes tags: duration in seconds (Apple's advice), episode and season
    numbers when given, its artwork when it is a .jpg or .png, and whether it is explicit
    (the show's rating unless the article says otherwise)."""
    meta = a.meta
    if meta.duration:
        ext.itunes_duration(str(meta.duration))
    if meta.episode:
        ext.itunes_episode(meta.episode)
    if meta.season:
        ext.itunes_season(meta.season)
    if meta.image and meta.image.endswith((".jpg", ".png")):
        ext.itunes_image(meta.image)
    ext.explicit = podcast.explicit if meta.explicit is None else meta.explicit


class _RssExtras(BaseExtension):  # type: ignore[misc]
    """Adds ``<atom:link rel="hub">`` and the RFC 5005 links (``prev-archive``,
    ``next-archive``, ``current``: feedgen writes no RSS link but ``self``) to the RSS
    channel, ``<fh:archive/>`` to an archive document, and ``dc:creator`` to items."""

    def __init__(self) -> None:
        self.hubs: list[str] = []
        self.links: list[tuple[str, str]] = []  # (rel, href)
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"atom": _ATOM_NS, "dc": _DC_NS, **({"fh": _FH_NS} if self.archive else {})}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        for rel, href in [("hub", hub) for hub in self.hubs] + self.links:
            link = etree.SubElement(channel, f"{{{_ATOM_NS}}}link")
            link.set("href", href)
            link.set("rel", rel)
        if self.archive:
            etree.SubElement(channel, f"{{{_FH_NS}}}archive")
        return rss_feed


class _AtomArchive(BaseExtension):  # type: ignore[misc]
    """``<fh:archive/>`` in an Atom archive document (RFC 5005 4)."""

    def extend_ns(self) -> dict[str, str]:
        return {"fh": _FH_NS}

    def extend_atom(self, atom_feed: Any) -> Any:
        etree.SubElement(atom_feed, f"{{{_FH_NS}}}archive")
        return atom_feed


class _AtomEntryLinks(BaseExtension):  # type: ignore[misc]
    """Gives every Atom entry ``<link>`` the ``rel``, ``type``, ``hreflang``, ``title`` and
    ``length`` feedgen drops (see the module docstring)."""

    _ATTRIBUTES = ("rel", "type", "hreflang", "title", "length")

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        elements = [el for el in entry if el.tag in ("link", f"{{{_ATOM_NS}}}link")]
        if len(elements) != len(self.links):
            raise ValueError(f"expected {len(self.links)} links in an entry, found {len(elements)}")
        for el, data in zip(elements, self.links, strict=True):
            if el.get("href") != data["href"]:
                raise ValueError(f"entry link {el.get('href')!r} is not {data['href']!r}")
            for name in self._ATTRIBUTES:
                value = data.get(name)
                if value:
                    el.set(name, value)
        return entry


class _RssEntryExtras(BaseExtension):  # type: ignore[misc]
    def __init__(self) -> None:
        self.creators: list[str] = []

    def extend_rss(self, item: Any) -> Any:
        for name in self.creators:
            etree.SubElement(item, f"{{{_DC_NS}}}creator").text = name
        return item


def _entry(
    fg: Any, a: Article, spec: FeedSpec, bodies: BodySource, fmt: FeedFormat, spec_site: SiteConfig
) -> None:
    body = bodies(a.path)
    label = safe.either if fmt == "rss" else safe.text  # RSS readers may render it as HTML
    fe = fg.add_entry(order="append")
    # (feedgen's id() and guid() each set both the Atom id and the RSS guid)
    if fmt == "atom":
        fe.id(a.atom_id)  # an absolute IRI (RFC 4287): see identity.atom_id
    else:
        fe.guid(safe.text(a.id), permalink=a.id == a.url)  # as written: any string is a guid
    fe.title(label(a.meta.title))
    fe.link(href=a.url, rel="alternate", type="text/html")
    if fmt == "atom" and a.meta.via:  # the original this article is taken from
        fe.link(href=a.meta.via, rel="via")
    fe.published(a.date)
    fe.updated(a.updated)
    authors = entry_authors(a, spec_site)
    with_email = [au for au in authors if au.email]
    if fmt == "atom":
        for au in authors:
            fe.author(
                {
                    k: safe.text(v)
                    for k, v in (("name", au.name), ("email", au.email), ("uri", au.url))
                    if v
                }
            )
    else:
        for au in with_email:
            fe.author({"name": label(au.name), "email": label(au.email or "")})
        fe.feedpub_rss.creators = [label(au.name) for au in authors if not au.email]
    terms = [{"term": label(c)} for c in a.meta.categories + a.meta.tags]
    if terms:
        fe.category(terms)
    summary = a.meta.summary or (body.summary if body else "")
    if summary:  # RSS: HTML (RSS 2.0, "entity-encoded HTML is allowed"); Atom: type="text"
        fe.summary(safe.html_text(summary) if fmt == "rss" else safe.text(summary))
    if body is not None and spec.content == "full" and body.in_feeds:
        content = body.content_html
        fe.content(content, type="CDATA" if fmt == "rss" else "html")
    podcast = spec.podcast if fmt == "rss" else None
    if podcast is not None:
        _podcast_item(fe.podcast, a, podcast)
    enc = a.meta.enclosure
    if enc is None and a.meta.image and podcast is None:  # (a podcast's episodes are media)
        mime = mimetypes.guess_type(a.meta.image)[0] or "image/jpeg"
        enc = Enclosure(url=a.meta.image, type=mime, length=0)
    if enc is not None:
        if fmt == "rss":
            fe.enclosure(enc.url, str(enc.length), enc.type)  # length="0": unknown (required)
        else:  # Atom: length only when known
            size = {"length": str(enc.length)} if enc.length > 0 else {}
            fe.link(href=enc.url, rel="enclosure", type=enc.type, **size)
    if fmt == "atom":
        fe.feedpub_atom.links = [dict(link) for link in fe.link()]


def _history_links(spec: FeedSpec, fmt: FeedFormat, links: Links) -> list[tuple[str, str]]:
    """RFC 5005 links: (rel, href). The subscription document points to the newest archive
    document; an archive document to the subscription document (``current``) and to its
    neighbours."""
    out: list[tuple[str, str]] = []
    if spec.page:
        out.append(("current", links.feed_url(spec.key, fmt)))
    if spec.prev_page:
        out.append(("prev-archive", links.feed_url(spec.key, fmt, spec.prev_page)))
    if spec.page and spec.next_page:
        out.append(("next-archive", links.feed_url(spec.key, fmt, spec.next_page)))
    return out


def render_xml(spec: FeedSpec, fmt: FeedFormat, links: Links, bodies: BodySource) -> bytes:
    """One feed as Atom (``fmt="atom"``) or RSS (``fmt="rss"``): its subscription document,
    or (``spec.page``) one of its archive documents (RFC 5005: ``<fh:archive/>``, links to
    the ``current`` feed and the neighbouring archives)."""
    site = links.site
    fg = FeedGenerator()
    history = _history_links(spec, fmt, links)
    if fmt == "atom":
        fg.register_extension("feedpub_atom", BaseExtension, _AtomEntryLinks, atom=True, rss=False)
        if spec.page:
            fg.register_extension("feedpub_history", _AtomArchive, atom=True, rss=False)
    if fmt == "rss":
        fg.register_extension("feedpub_rss", _RssExtras, _RssEntryExtras, atom=False, rss=True)
        fg.feedpub_rss.links = history
        fg.feedpub_rss.archive = bool(spec.page)
        if not spec.page:  # (an archive document is nobody's WebSub topic)
            fg.feedpub_rss.hubs = list(links.hubs)
        if spec.podcast is not None:
            fg.register_extension("podcast", _Podcast, _PodcastEntry, atom=False, rss=True)
    label = safe.either if fmt == "rss" else safe.text  # RSS readers may render it as HTML
    self_url = links.feed_url(spec.key, fmt, spec.page)
    fg.id(links.feed_url(spec.key, "atom"))  # (one feed, whichever document of it)
    fg.title(label(spec.title))
    fg.link(href=self_url, rel="self", type=MEDIA_TYPES[fmt])
    if fmt == "rss" and spec.podcast is not None:
        _podcast_channel(fg.podcast, spec.podcast, links.feed_url(spec.key, fmt))
    if fmt == "atom":
        if not spec.page:
            for hub in links.hubs:
                fg.link(href=hub, rel="hub")
        for rel, href in history:
            fg.link(href=href, rel=rel, type=MEDIA_TYPES[fmt])
    fg.link(href=links.home, rel="alternate", type="text/html")
    fg.description(label(site.description) or label(spec.title))  # RSS requires one
    fg.language(safe.text(spec.language or site.language))
    if site.author:
        fg.author(
            {
                k: v
                for k, v in (
                    ("name", label(site.author)),
                    ("email", label(site.author_email or "")),
                )
                if v
            }
        )
    elif fmt == "atom":  # RFC 4287 4.1.1: a feed without one needs every entry to have one
        fg.author({"name": safe.text(site.title)})
    fg.generator("feedpub", version=__version__, uri="https://pypi.org/project/feedpub/")
    fg.updated(spec.updated)
    fg.lastBuildDate(spec.updated)
    if spec.category:
        fg.category({"term": label(spec.category)})
    try:
        for article in spec.entries:
            _entry(fg, article, spec, bodies, fmt, site)
        with _LOCK:
            out: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    except (ValueError, TypeError) as e:
        raise RenderError(f"cannot render {fmt}: {e}", feed=spec.key) from e
    if links.stylesheet:  # for browsers (feed readers ignore it): see render/stylesheet.py
        out = with_stylesheet(out, stylesheet_href(feed_relpath(spec.key, fmt, spec.page)))
    return out
