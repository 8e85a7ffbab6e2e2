"""Values for the direct tests of feedpub.render (tests/test_render_*.py): articles, feed specs,
bodies and links built by hand, without a site, a build or a state store; and the text a
reader is shown, read with html5lib (the HTML5 parsing algorithm, a second parser beside the
lxml readings of tests/test_render.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import html5lib
from hypothesis import strategies as st

from feedpub.articles.text import xml_safe
from feedpub.config import SiteConfig
from feedpub.model import Article, ArticleMeta, ContentMode, FeedSpec
from feedpub.planning import EPOCH
from feedpub.render import BodySource, EntryBody, Links
from tests.test_render import HOSTILE

WHEN = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
BASE = "https://example.org/"
SITE = SiteConfig(
    title="Example",
    base_url=BASE,
    author="Ada",
    author_email="ada@example.org",
    description="Notes from an example",
    language="en",
)
LINKS = Links(site=SITE)
HUB = "https://hub.example.net/"
BODY = EntryBody(content_html="<p>Body <em>text</em>.</p>", summary="Body text.")


def article(n: int = 1, *, date: datetime | None = None, **meta: Any) -> Article:
    """Article ``n``: dated ``n`` days after :data:`WHEN` unless ``date`` says otherwise;
    ``meta`` sets any :class:`ArticleMeta` field (``title`` defaults to "Article n")."""
    slug = f"a{n}"
    meta.setdefault("title", f"Article {n}")
    return Article(
        meta=ArticleMeta(path=f"{slug}.md", **meta),
        date=date or WHEN + timedelta(days=n),
        id=f"tag:example.org,2025:{slug}",
        slug=slug,
        url=f"{BASE}articles/{slug}/",
    )


def feed(
    *entries: Article,
    key: str = "all",
    title: str = "Example",
    category: str | None = None,
    content: ContentMode = "full",
    **kw: Any,
) -> FeedSpec:
    """A feed of ``entries`` in the order given (planning sorts them newest first; the
    renderers keep the order they are given); ``updated`` as planning sets it."""
    kw.setdefault("updated", max((a.updated for a in entries), default=EPOCH))
    return FeedSpec(key=key, title=title, category=category, content=content, entries=entries, **kw)


def bodies(body: EntryBody | None = BODY) -> BodySource:
    """The same body for every article (None: no body is known)."""
    return lambda _path: body


def links(site: SiteConfig = SITE, hubs: tuple[str, ...] = ()) -> Links:
    return Links(site=site, hubs=hubs)


# --- untrusted text ---------------------------------------------------------------------------

# what an author can put in a title, a summary, a name or the config: the payloads of
# tests/test_render.py, mixed with text that leans on the characters that matter to XML and
# HTML parsers, controls (XML-illegal ones included), bidi overrides and isolates
_SHARP_CHARACTERS = [
    *"<>&;#'\"/]![CDAT-=x ",
    *"\x00\x01\x0b\x1f\x7f\x85\t\r\n",  # controls, XML-illegal ones among them
    *"\u202e\u2066\u200f\ufffe\U0001f600",  # bidi override and isolate, RLM, a noncharacter
]
SHARP = st.text(st.sampled_from(_SHARP_CHARACTERS) | st.characters(), max_size=24)
UNTRUSTED = st.one_of(HOSTILE, SHARP)
# a title is never empty once the characters XML cannot carry are gone (parsing sees to it)
TITLES = UNTRUSTED.filter(lambda s: xml_safe(s).strip() != "")


def html_newlines(value: str) -> str:
    """``value`` as an HTML parser hands it on: CR LF and CR become LF (HTML's input stream
    preprocessing)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def shown(value: str) -> str:
    """What a reader shows for the text field ``value`` (XML-illegal characters dropped,
    newlines as HTML reads them)."""
    return html_newlines(xml_safe(value))


def html5_fragment(markup: str) -> Any:
    """``markup`` parsed as the HTML5 algorithm does, as the content of a ``<div>``."""
    return html5lib.parseFragment(markup, container="div", namespaceHTMLElements=False)


def html5_document(markup: str | bytes, *, strict: bool = False) -> Any:
    """A whole page parsed by html5lib; ``strict``: any parse error raises."""
    parser = html5lib.HTMLParser(strict=strict, namespaceHTMLElements=False)
    return parser.parse(markup)


def text_of(element: Any) -> str:
    return "".join(element.itertext())


def elements(root: Any) -> list[str]:
    """The tags of the elements below ``root``."""
    return [el.tag for el in root.iter() if isinstance(el.tag, str) and el is not root]


# RFC 3339 date-time (Atom: RFC 4287 3.3; JSON Feed); an HTML "valid global date and time
# string" (the ``datetime`` attribute of ``<time>``: at most three digits of a second)
RFC_3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)
HTML_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})")
# an absolute IRI (RFC 3987): a scheme, then no space
ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
