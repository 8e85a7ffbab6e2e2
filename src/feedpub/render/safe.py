"""The one rule for every field a reader receives: text is text, HTML is sanitised, and every
URL is http(s).

Every renderer passes every value it writes through one of these functions, chosen by how the
readers of that field treat it:

==========  ==============================================================  ==================
kind        fields                                                          function
==========  ==============================================================  ==================
text        Atom ``type="text"`` (title, subtitle, summary, names, category  :func:`text`
            terms); JSON Feed strings other than ``content_html``
either      RSS title, channel title and description, category, author,      :func:`either`
            ``dc:creator``; OPML ``text`` and ``title``: plain text by the
            spec, rendered as HTML by many readers
html        RSS item ``description`` (a plain-text summary); text in HTML    :func:`html_text`,
            pages, in elements and attributes                                :func:`html_attr`
sanitised   Atom ``content type="html"``, RSS ``content:encoded``, JSON      (sanitised when
            Feed ``content_html``, an article page's body                   parsed: ``EntryBody``)
==========  ==============================================================  ==================

URLs are made safe where they are read, once: article URLs by ``articles.parse._url``
(http(s) only, relative ones made absolute), configured ones by ``config._absolute_url``;
the URLs the renderers build from those (``Links``) are http(s) by construction.

The README's "Text, HTML and URLs" note gives the reasons (the RSS Best Practices Profile,
and what readers actually do).
"""

from __future__ import annotations

import html
import re

from feedpub.articles.text import xml_safe

__all__ = ["either", "html_attr", "html_text", "text"]

# Where an HTML tokenizer leaves text: a tag ("<a", "</a"), a comment or declaration ("<!"),
# or a processing instruction read as a bogus comment ("<?"). "<" before anything else is text.
_MARKUP = re.compile(r"<[A-Za-z/!?]")


def text(value: str) -> str:
    """A text field, for formats whose readers show it as text. Only characters XML cannot
    carry are removed (article fields are clean already; configured ones may not be)."""
    return xml_safe(value)


def html_text(value: str) -> str:
    """Plain text as HTML that shows exactly that text, in an element."""
    return html.escape(xml_safe(value), quote=False)


def html_attr(value: str) -> str:
    """Plain text as a quoted HTML (or XML) attribute value."""
    return '"' + html.escape(xml_safe(value), quote=True) + '"'


def either(value: str) -> str:
    """Plain text for a field that readers show as text or render as HTML, as they choose.

    Unchanged when both readings show the same characters (no markup, no character
    reference); otherwise escaped as HTML, so that a reader rendering it shows the text and
    none runs it (one showing it as text then shows the escapes: the smaller harm).
    """
    value = xml_safe(value)
    if _MARKUP.search(value) is None and ("&" not in value or html.unescape(value) == value):
        return value
    return html.escape(value, quote=False)
