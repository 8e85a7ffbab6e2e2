"""The HTML index (with feed autodiscovery), article pages, and the OPML list of feeds.

Text goes in escaped (:func:`safe.html_text`, :func:`safe.html_attr`), an article's body as
parsed (sanitised then: :func:`feedpub.articles.body.prepare_body`); OPML ``text`` may be
HTML, so titles there are written to read the same as text and as HTML (:func:`safe.either`).
"""

from __future__ import annotations

from collections.abc import Sequence

from feedpub.model import Article, FeedFormat, FeedSpec
from feedpub.render import MEDIA_TYPES, EntryBody, Links, safe
from feedpub.render.safe import html_attr, html_text

_FORMAT_NAMES: dict[FeedFormat, str] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
_STYLE = (
    "body{font:1.05rem/1.6 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1b1b1b;background:#fff}a{color:#0645ad}header,footer{color:#555}"
    "img{max-width:100%;height:auto}pre{overflow-x:auto}"
    "@media (prefers-color-scheme:dark){body{color:#e8e8e8;background:#161616}a{color:#8ab4f8}"
    "header,footer{color:#aaa}}"
)


def _head(title: str, language: str, extra: Sequence[str]) -> str:
    lines = [
        "<!DOCTYPE html>",
        f"<html lang={html_attr(language)}>",
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html_text(title)}</title>",
        *extra,
        f"<style>{_STYLE}</style>",
        "</head>",
    ]
    return "\n".join(lines)


def _alternates(
    specs: Sequence[FeedSpec], formats: Sequence[FeedFormat], links: Links
) -> list[str]:
    return [
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
        f"title={html_attr(f'{spec.title} ({_FORMAT_NAMES[fmt]})')} "
        f"href={html_attr(links.feed_url(spec.key, fmt))}>"
        for spec in specs
        for fmt in formats
    ]


def _date(a: Article) -> str:
    # to the second: an HTML date-time holds at most three digits of a second, and a date
    # taken from the time a file was first seen has six
    when = a.date.isoformat(timespec="seconds")
    return f'<time datetime="{when}">{a.date.strftime("%Y-%m-%d")}</time>'


def _article_list(entries: Sequence[Article]) -> list[str]:
    return [
        f"<li>{_date(a)} <a href={html_attr(a.url)}>{html_text(a.meta.title)}</a></li>"
        for a in entries
    ]


def _pager(links: Links, newer: str | None, older: int) -> str:
    """Links to the index page of newer articles (a URL) and of older ones (its number)."""
    parts = []
    if newer is not None:
        parts.append(f'<a rel="prev" href={html_attr(newer)}>Newer articles</a>')
    if older:
        parts.append(f'<a rel="next" href={html_attr(links.index_url(older))}>Older articles</a>')
    return f'<nav aria-label="Pages"><p>{" · ".join(parts)}</p></nav>' if parts else ""


def render_index(
    specs: Sequence[FeedSpec], formats: Sequence[FeedFormat], links: Links, *, older: int = 0
) -> bytes:
    """``index.html``: every feed in every format, and the newest articles (those of the
    feed of all articles); ``older`` is the index page that lists the articles before them
    (:func:`render_index_page`)."""
    site = links.site
    body = [
        "<body>",
        "<header>",
        f"<h1>{html_text(site.title)}</h1>",
        f"<p>{html_text(site.description)}</p>" if site.description else "",
        "</header>",
        "<main>",
        '<section aria-labelledby="feeds">',
        '<h2 id="feeds">Feeds</h2>',
        "<p>Subscribe in any feed reader with one of these addresses.</p>",
        "<ul>",
    ]
    for spec in specs:
        fmts = ", ".join(
            f'<a href={html_attr(links.feed_url(spec.key, fmt))} type="{MEDIA_TYPES[fmt]}">'
            f"{_FORMAT_NAMES[fmt]}</a>"
            for fmt in formats
        )
        label = spec.category or (  # (a language's feed has no category either)
            f"All articles ({spec.language})" if spec.language else "All articles"
        )
        count = len(spec.entries)
        body.append(f"<li>{html_text(label)} ({count} recent): {fmts}</li>")
    body += ["</ul>", "</section>"]
    newest = specs[0].entries if specs else ()
    if newest:
        body += [
            '<section aria-labelledby="recent">',
            '<h2 id="recent">Recent articles</h2>',
            "<ul>",
        ]
        body += _article_list(newest)
        body += ["</ul>", _pager(links, None, older), "</section>"]
    body += ["</main>", "</body>", "</html>", ""]
    head = _head(site.title, site.language, _alternates(specs, formats, links))
    return (head + "\n" + "\n".join(line for line in body if line)).encode()


def render_index_page(
    spec: FeedSpec, formats: Sequence[FeedFormat], links: Links, *, all_feed: FeedSpec
) -> bytes:
    """``page/<n>/index.html``: the articles of the feed of all articles' archive document
    ``n`` (``spec``, newest first), with links to the newer and older pages. Page 1 lists the
    oldest, so that a page's URL keeps its articles as new ones are published."""
    site = links.site
    newer = links.index_url(spec.next_page) if spec.next_page else links.home
    first, last = (spec.entries[-1], spec.entries[0]) if spec.entries else (None, None)
    span = f"{_date(first)} to {_date(last)}" if first and last else ""
    title = f"{site.title}: articles, page {spec.page}"
    body = [
        "<body>",
        f"<header><a href={html_attr(links.home)}>{html_text(site.title)}</a></header>",
        "<main>",
        f"<h1>Articles, page {spec.page}</h1>",
        f"<p>{span}</p>" if span else "",
        "<ul>",
        *_article_list(spec.entries),
        "</ul>",
        _pager(links, newer, spec.prev_page),
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    extra = [
        f'<link rel="canonical" href={html_attr(links.index_url(spec.page))}>',
        *_alternates([all_feed], formats, links),
    ]
    head = _head(title, site.language, extra)
    return (head + "\n" + "\n".join(line for line in body if line)).encode()


def render_page(
    a: Article,
    body: EntryBody,
    formats: Sequence[FeedFormat],
    all_feed: FeedSpec,
    links: Links,
    translations: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A plain, readable, accessible page for one article. ``translations``: (language,
    URL) of the article in other languages (``hreflang`` alternates, and links)."""
    site = links.site
    meta = a.meta
    language = meta.lang or site.language
    extra = [
        f'<link rel="canonical" href={html_attr(a.url)}>',
        *_alternates([all_feed], formats, links),
    ]
    if translations:
        extra += [
            f'<link rel="alternate" hreflang={html_attr(lang)} href={html_attr(url)}>'
            for lang, url in [(language, a.url), *translations]
        ]
    also = ", ".join(
        f"<a href={html_attr(url)} hreflang={html_attr(lang)} lang={html_attr(lang)}>"
        f"{html_text(lang)}</a>"
        for lang, url in translations
    )
    if meta.summary:
        extra.append(f'<meta name="description" content={html_attr(meta.summary)}>')
    byline = ", ".join(html_text(au.name) for au in meta.authors)
    cats = ", ".join(html_text(c) for c in meta.categories)
    parts = [
        "<body>",
        f"<header><a href={html_attr(links.home)}>{html_text(site.title)}</a></header>",
        "<main>",
        "<article>",
        f"<h1>{html_text(meta.title)}</h1>",
        f"<p>{_date(a)}" + (f" · {byline}" if byline else "") + "</p>",
        body.content_html,
        f"<p>Source: <a href={html_attr(meta.via)}>{html_text(meta.via)}</a></p>"
        if meta.via
        else "",
        f"<p>Filed under: {cats}</p>" if cats else "",
        f"<p>Also in: {also}</p>" if also else "",
        "</article>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return (_head(meta.title, language, extra) + "\n" + "\n".join(p for p in parts if p)).encode()


def render_opml(specs: Sequence[FeedSpec], formats: Sequence[FeedFormat], links: Links) -> bytes:
    """``feeds/index.opml``: one outline per feed (its first configured format), for import."""
    fmt = formats[0]
    site = links.site
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{html_text(safe.either(site.title))}</title>",
        "  </head>",
        "  <body>",
    ]
    for spec in specs:
        title = html_attr(safe.either(spec.title))  # OPML 2.0: text may contain HTML
        lines.append(
            f'    <outline type="rss" text={title} title={title}'
            f" xmlUrl={html_attr(links.feed_url(spec.key, fmt))}"
            f" htmlUrl={html_attr(links.home)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode()
