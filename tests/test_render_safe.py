"""render/safe.py, for any text: what each function returns reads, in an HTML5 parser (html5lib,
the algorithm browsers and most feed readers follow), as exactly the text it was given, and
never as markup.

(tests/test_render.py checks chosen values with lxml; these are properties over any text.)
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.articles.text import xml_safe
from feedpub.render.safe import either, html_attr, html_text, text
from tests.render_helpers import UNTRUSTED, elements, html5_document, html5_fragment, shown, text_of

ANY = st.one_of(UNTRUSTED, st.text())
EXAMPLES = [
    "<script>alert(1)</script>",
    "a <b",  # a tag cut off by the end: an HTML parser drops it
    "</>",  # read as nothing at all
    "x < y > z",
    "&amp;&copy &#60; &#x3C; &notit; &",
    "]]><![CDATA[",
    "\r\n\x00\x0b\u202e\u2066 \ufeff",
]


def _examples(*values: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Hypothesis tries each of ``values`` first, every run."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for value in values:
            test = example(value)(test)
        return test

    return decorate


def _reads_as(markup: str) -> tuple[list[str], str]:
    """(the elements, the text) an HTML parser reads ``markup`` as, in a ``<div>``."""
    root = html5_fragment(markup)
    return elements(root), text_of(root)


@settings(max_examples=300)
@given(ANY)
@_examples(*EXAMPLES)
def test_either_reads_as_the_text_given_and_is_unchanged_only_when_html_reads_it_so(
    value: str,
) -> None:
    out = either(value)
    assert _reads_as(out) == ([], shown(value))
    if out == xml_safe(value):  # left as it is: an HTML reading of it shows the same
        assert _reads_as(xml_safe(value)) == ([], shown(value))
    else:  # escaped: a reader showing it as text sees escapes, so only when needed
        assert _reads_as(xml_safe(value)) != ([], shown(value))


@settings(max_examples=300)
@given(ANY)
@_examples(*EXAMPLES)
def test_html_text_reads_as_the_text_in_an_element_and_in_a_title(value: str) -> None:
    assert _reads_as(html_text(value)) == ([], shown(value))
    page = html5_document(f"<!DOCTYPE html><title>{html_text(value)}</title><p>after</p>")
    assert (page.find("head/title").text or "") == shown(value)
    assert [p.text for p in page.iter("p")] == ["after"]  # nothing escaped the title


@settings(max_examples=300)
@given(ANY)
@_examples(*EXAMPLES, '"><script>alert(1)</script>', "' onmouseover=alert(1) x='")
def test_html_attr_reads_as_the_text_in_an_attribute(value: str) -> None:
    root = html5_fragment(f"<p title={html_attr(value)} class=after>x</p>")
    assert elements(root) == ["p"]
    [p] = root.iter("p")
    assert dict(p.attrib) == {"title": shown(value), "class": "after"}


@settings(max_examples=200)
@given(ANY)
def test_text_goes_through_an_xml_document_unchanged(value: str) -> None:
    el = etree.Element("t", a=text(value))
    el.text = text(value)
    back = etree.fromstring(etree.tostring(el))
    assert (back.text or "") == text(value)
    assert back.get("a") == text(value) == xml_safe(value)
