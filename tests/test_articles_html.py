"""feedpub.articles.html: raw HTML made balanced, so that no HTML parser repairs anything.

The oracle is html5lib, an HTML5 parser written to the specification (as browsers, feed
readers and nh3's html5ever are): parsing the normaliser's output must give exactly the tree
the output spells out, element for element, in the same places.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import html5lib
import nh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.articles.body import clean_html
from feedpub.articles.html import MAX_DEPTH, normalise
from feedpub.articles.sanitise import allowed_tags

ALLOWED = allowed_tags()
VOID = {"area", "br", "col", "hr", "img", "source", "track", "wbr"}
_TOKEN = re.compile(r"<(/?)([a-z0-9]+)((?: [a-z_:][a-z0-9_:.-]*=\"[^\"]*\")*)>|([^<]+)")
_ATTR = re.compile(r' ([a-z_:][a-z0-9_:.-]*)="([^"]*)"')


def spelled_out(markup: str) -> list[tuple[str, ...]]:
    """The tree the normaliser's output spells out: (depth, "<tag attrs>") and (depth, text)
    in document order, read with a plain stack (the output is balanced by contract)."""
    out: list[tuple[str, ...]] = []
    stack: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(markup):
        assert m.start() == pos, f"unexpected markup at {markup[pos : pos + 40]!r}"
        pos = m.end()
        if m[4] is not None:
            text = html.unescape(m[4])
            after_pre = out and out[-1][:3] == ("tag", str(len(stack) - 1), "pre")
            if after_pre and markup[m.start() - 1] == ">" and text.startswith("\n"):
                text = text[1:]  # a parser drops a newline right after <pre>
                if not text:
                    continue
            if out and out[-1][0] == "text" and out[-1][1] == str(len(stack)):
                out[-1] = ("text", str(len(stack)), out[-1][2] + text)
            else:
                out.append(("text", str(len(stack)), text))
        elif m[1]:
            assert stack and stack[-1] == m[2], f"unbalanced </{m[2]}> in {markup!r}"
            stack.pop()
        else:
            attrs = tuple(sorted((k, html.unescape(v)) for k, v in _ATTR.findall(m[3])))
            out.append(("tag", str(len(stack)), m[2], repr(attrs)))
            if m[2] not in VOID:
                stack.append(m[2])
    assert pos == len(markup)
    assert not stack, f"left open: {stack}"
    return out


def parsed(markup: str) -> list[tuple[str, ...]]:
    """The tree an HTML5 parser builds from ``markup``, in the same form."""
    root = html5lib.parseFragment(markup, treebuilder="etree", namespaceHTMLElements=False)
    out: list[tuple[str, ...]] = []

    def text(value: str | None, depth: int) -> None:
        if not value:
            return
        if out and out[-1][0] == "text" and out[-1][1] == str(depth):
            out[-1] = ("text", str(depth), out[-1][2] + value)
        else:
            out.append(("text", str(depth), value))

    def walk(el: ET.Element, depth: int) -> None:
        text(el.text, depth + 1)
        for child in el:
            attrs = tuple(sorted(child.attrib.items()))
            out.append(("tag", str(depth + 1), str(child.tag), repr(attrs)))
            walk(child, depth + 1)
            text(child.tail, depth + 1)

    walk(root, -1)
    return out


def check_needs_no_repair(markup: str, max_depth: int = MAX_DEPTH) -> str:
    result = normalise(markup, ALLOWED, max_depth=max_depth)
    mine = spelled_out(result.html)
    assert parsed(result.html) == mine
    opened = (int(t[1]) + 1 for t in mine if t[0] == "tag" and t[2] not in VOID)
    assert max(opened, default=0) <= max_depth
    return result.html


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>a<div>b</div>c</p>", "<p>a</p><div>b</div>c"),
        ("<b><i>x</b>y</i>", "<b><i>x</i></b>y"),
        ("<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>"),
        (
            "<table><tr><td>a<td>b<tr><td>c</table>",
            "<table><tbody><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></tbody></table>",
        ),
        (
            "<table>text<b>x</b></table>",
            "<table><tbody><tr><td>text<b>x</b></td></tr></tbody></table>",
        ),
        ("<a href=x>1<a href=y>2</a>", '<a href="x">1</a><a href="y">2</a>'),
        ("<p>x<table><td>y</table>", "<p>x</p><table><tbody><tr><td>y</td></tr></tbody></table>"),
        ("<script>alert(1)</script>ok", "ok"),
        ("<style>p{}</style>ok", "ok"),
        ("<textarea><b>x</b></textarea>", "&lt;b&gt;x&lt;/b&gt;"),
        ("<xmp><b>&amp;</b></xmp>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"),
        ("<!-- c -->t<!x>u<?y>v<!---->w<!-->z", "tuvwz"),
        (
            '<div title="a>b" data-x=\'q"\' x=y>t</div>',
            '<div title="a&gt;b" data-x="q&quot;" x="y">t</div>',
        ),
        ("a < b > c & d &amp; e", "a &lt; b &gt; c & d &amp; e"),
        ("<h1>a<h2>b</h2>", "<h1>a</h1><h2>b</h2>"),
        ("<dl><dt>a<dd>b<dt>c</dl>", "<dl><dt>a</dt><dd>b</dd><dt>c</dt></dl>"),
        ("<p>a</p></p></div>", "<p>a</p>"),
        (
            "<table><col><col><tr><th>h</table>",
            "<table><colgroup><col><col></colgroup><tbody><tr><th>h</th></tr></tbody></table>",
        ),
        ("<br/><hr/>x<div/>y", "<br><hr>x<div>y</div>"),
        ("<plaintext><b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("<unknown-el>x</unknown-el><font color=red>y</font>", "xy"),
        ("<td>cell</td><tr>row</tr>", "cellrow"),  # table parts outside a table: text only
        ("x<a title='never closed", "x"),  # a tag that runs to the end of the file
        (
            "<div><table><tr><td></div>x",
            "<div><table><tbody><tr><td>x</td></tr></tbody></table></div>",
        ),
        ("<b>x<p>y", "<b>x<p>y</p></b>"),
        ("<ruby>a<rt>b<rt>c</ruby>", "<ruby>a<rt>b</rt><rt>c</rt></ruby>"),
    ],
)
def test_markup_is_made_balanced(markup: str, expected: str) -> None:
    assert normalise(markup, ALLOWED).html == expected
    check_needs_no_repair(markup)


def test_nesting_beyond_the_limit_loses_its_tags_not_its_text() -> None:
    markup = "<div>" * 300 + "deep" + "</div>" * 300
    result = normalise(markup, ALLOWED)
    assert result.flattened == 300 - MAX_DEPTH
    assert result.first_flattened == 5 * MAX_DEPTH
    assert result.html.count("<div>") == MAX_DEPTH
    assert "deep" in result.html
    check_needs_no_repair(markup)


def test_a_table_too_deep_for_its_cells_keeps_its_text() -> None:
    markup = "<div>" * 10 + "<table><tr><td>cell</td></tr></table>"
    out = check_needs_no_repair(markup, max_depth=12)
    assert "<table" not in out
    assert "cell" in out


def test_formatting_left_open_is_never_repeated_by_a_parser() -> None:
    """The attack: hundreds of distinct formatting elements left open, then many paragraphs.
    An HTML5 parser re-opens every one of them in every paragraph (43 KB became 7.8 MB);
    after the normaliser there is nothing to re-open."""
    markup = "<p>" + "".join(f"<i class=c{i}>" for i in range(250)) + "x</p><p>x" * 5000
    out = normalise(markup, ALLOWED).html
    assert len(out) < 2 * len(markup)
    assert len(nh3.clean(out)) < 2 * len(markup)
    assert len(clean_html(markup, "https://example.org/")) < 2 * len(markup)


def test_unclosed_tag_soup_costs_one_pass() -> None:
    """'<a ' repeated: a tag that never ends; the rest of the file is inside it."""
    result = normalise("<a " * 100_000, ALLOWED)
    assert result.html == ""


SOUP = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<div>",
            "</div>",
            "<b>",
            "</b>",
            "<i class=x>",
            "</i>",
            "<a href='/x'>",
            "</a>",
            "<ul>",
            "<ol>",
            "</ul>",
            "<li>",
            "</li>",
            "<dl>",
            "<dt>",
            "<dd>",
            "</dl>",
            "<table>",
            "</table>",
            "<tr>",
            "</tr>",
            "<td>",
            "</td>",
            "<th>",
            "<tbody>",
            "<thead>",
            "</tbody>",
            "<caption>",
            "</caption>",
            "<colgroup>",
            "<col>",
            "<h1>",
            "</h1>",
            "<h3>",
            "</h2>",
            "<blockquote>",
            "</blockquote>",
            "<pre>",
            "</pre>",
            "<span>",
            "</span>",
            "<em>",
            "<strong>",
            "</strong>",
            "<code>",
            "<br>",
            "<hr>",
            "<img src=a.png>",
            "<ruby>",
            "<rt>",
            "<rp>",
            "</ruby>",
            "<details>",
            "<summary>",
            "<figure>",
            "<figcaption>",
            "<script>x</script>",
            "<textarea>",
            "</textarea>",
            "<!--",
            "-->",
            "<svg>",
            "<math>",
            "<font>",
            "<nobr>",
            "<select>",
            "<option>",
            "<button>",
            "<form>",
            "<html>",
            "<body>",
            "<frameset>",
            "<template>",
            "</template>",
            "<object>",
            "<center>",
            "<hgroup>",
            "<section>",
            "<s>",
            "<u>",
            "<small>",
            "<table><tr><td>",
            "x",
            " ",
            "\n",
            "&amp;",
            "<",
            ">",
            "&",
            '"',
        ]
    ),
    max_size=60,
).map("".join)


@given(SOUP)
def test_any_tag_soup_needs_no_repair(markup: str) -> None:
    check_needs_no_repair(markup)


@given(SOUP, st.integers(min_value=1, max_value=8))
def test_any_tag_soup_stays_within_the_depth(markup: str, depth: int) -> None:
    check_needs_no_repair(markup, max_depth=depth + 4)


@given(SOUP)
def test_normalising_twice_changes_nothing(markup: str) -> None:
    once = normalise(markup, ALLOWED).html
    assert normalise(once, ALLOWED).html == once


@given(st.text(max_size=200))
def test_any_text_is_kept(text: str) -> None:
    """Text without markup comes out as the same text (escaped where needed)."""
    text = text.replace("<", "").replace("\x00", "")
    out = normalise(text, ALLOWED).html
    assert html.unescape(out) == html.unescape(text)


@given(SOUP)
def test_html5ever_reads_the_same_tree(markup: str) -> None:
    """nh3's parser (html5ever, a browser engine's) keeps every element where it is."""
    out = normalise(markup, ALLOWED).html
    again = nh3.clean(
        out,
        tags=set(ALLOWED),
        attributes={"*": {"class", "href", "src"}},
        link_rel=None,
        url_schemes={"http", "https"},
        strip_comments=True,
    )
    newlines = re.compile(r"<pre>\n+")  # (a parser drops one; html5ever writes none back)
    assert spelled_out(newlines.sub("<pre>", again)) == spelled_out(newlines.sub("<pre>", out))
