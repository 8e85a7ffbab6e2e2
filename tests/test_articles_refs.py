"""Links between articles and to files beside them, as Jekyll, Hugo and Pelican write them."""

from __future__ import annotations

import time

import nh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.articles.refs import (
    localise,
    ref_url,
    refs_in,
    resolve_refs,
    source_path,
    target_url,
)
from feedpub.articles.templates import preprocess

BASE = "https://example.org/blog/"


def pre(text: str, path: str = "2020/post.md") -> tuple[str, list[tuple[int, str]]]:
    out = preprocess(text, path=path, base_url=BASE)
    return out.text, list(out.warnings)


# --- Jekyll (Liquid) ---------------------------------------------------------------------


def test_jekyll_post_url_and_link_become_references() -> None:
    text, warnings = pre(
        "[a]({% post_url 2017-03-02-name %}) [b]({% link _posts/2016-07-26-x.markdown %})\n"
        "[c]({{ site.baseurl }}{% post_url /2017/2017-03-02-name %})"
    )
    assert text == (
        "[a](feedpub-ref:post:2017-03-02-name) "
        "[b](feedpub-ref:name:_posts/2016-07-26-x.markdown)\n"
        "[c](feedpub-ref:post:2017/2017-03-02-name)"
    )
    assert warnings == []


def test_jekyll_site_url_and_url_filters_resolve_to_base_url() -> None:
    text, warnings = pre(
        "![a]({{ site.url }}{{ site.baseurl }}/assets/a.png) "
        "![b]({{ '/assets/b.png' | relative_url }}) ![c]({{ \"c.png\" | absolute_url }})"
    )
    assert text == (
        "![a](https://example.org/blog/assets/a.png) "
        "![b](https://example.org/blog/assets/b.png) ![c](https://example.org/blog/c.png)"
    )
    assert warnings == []


def test_other_liquid_is_removed_with_a_warning_naming_the_line() -> None:
    text, warnings = pre("Hello\n{% include note.html %}\nBy {{ page.author }}.\n")
    assert text == "Hello\n\nBy .\n"
    assert [w[0] for w in warnings] == [1, 2]
    assert "{% include %}" in warnings[0][1] and "page.author" in warnings[1][1]


def test_liquid_in_code_and_raw_blocks_is_left_as_written() -> None:
    source = (
        "```liquid\n{{ keep }} {% if x %}\n```\n\n"
        "~~~~\n{% for %}\n~~~~\n"
        "Use `{{ inline }}` here. {% raw %}{{ raw }} {% if %}{% endraw %}\n"
    )
    text, warnings = pre(source)
    assert "{{ keep }} {% if x %}" in text and "{% for %}" in text
    assert "`{{ inline }}`" in text and "{{ raw }} {% if %}" in text
    assert "{% raw %}" not in text and "{% endraw %}" not in text
    assert warnings == []


def test_liquid_highlight_becomes_a_fenced_block_and_comments_go() -> None:
    text, warnings = pre(
        "{% highlight ruby linenos %}\ndef x; end\n{% endhighlight %}\n"
        "{% comment %}secret {{ x }}{% endcomment %}after"
    )
    assert text == "```ruby\ndef x; end\n```\nafter"
    assert warnings == []


# --- Hugo --------------------------------------------------------------------------------


def test_hugo_ref_and_relref_become_references() -> None:
    text, _ = pre(
        '[a]({{< ref "blog/post.md" >}}) [b]({{< relref "/about.md#team" >}}) [c]({{% ref post %}})'
    )
    assert text == (
        "[a](feedpub-ref:name:blog/post.md) [b](feedpub-ref:path:about.md#team) "
        "[c](feedpub-ref:name:post)"
    )


def test_hugo_figure_and_video_shortcodes_become_html() -> None:
    text, warnings = pre(
        '{{< figure src="pic.jpg" alt="A cat" caption="The <b>cat</b>" >}}\n'
        "{{< youtube abc123 >}}\n"
    )
    assert '<figure><img src="pic.jpg" alt="A cat">' in text
    assert "<figcaption>The &lt;b&gt;cat&lt;/b&gt;</figcaption>" in text
    assert 'href="https://www.youtube.com/watch?v=abc123"' in text
    assert warnings == []


def test_other_hugo_shortcodes_go_and_keep_their_content() -> None:
    text, warnings = pre("{{< notice warning >}}\nCareful.\n{{< /notice >}}\n")
    assert text == "\nCareful.\n\n"
    assert warnings == [(0, "Hugo shortcode {{< notice >}} removed (its content is kept)")]


# --- Pelican -----------------------------------------------------------------------------


def test_pelican_placeholders_become_references() -> None:
    text, _ = pre(
        "[a]({filename}/2019/other.md) [b]({filename}../2019/other.rst) "
        "![c]({static}images/c.png) [d](|filename|x.md) [t]({tag}python) "
        "[k]({category}Tech News) [i]({index})"
    )
    assert text == (
        "[a](feedpub-ref:path:2019/other.md) [b](feedpub-ref:path:2019/other.rst) "
        "![c](feedpub-ref:path:2020/images/c.png) [d](feedpub-ref:path:2020/x.md) "
        "[t](feedpub-ref:tag:python) [k](feedpub-ref:category:Tech News) [i](https://example.org/blog/)"
    )


def test_more_than_twenty_removals_are_counted_not_listed() -> None:
    _, warnings = pre("{% x %}\n" * 50)
    assert len(warnings) == 21 and warnings[-1][1] == "30 more template tags removed"


# --- after rendering ----------------------------------------------------------------------


def test_relative_file_links_become_path_references() -> None:
    html = (
        '<p><a href="../2019/other.md#x">a</a> <img src="pic.png" alt=""> '
        '<a href="../other/">b</a> <a href="#n">c</a> <a href="/x.png">d</a> '
        '<a href="../../out.png">e</a> <a href="https://e.org/f.png">f</a></p>'
    )
    out = localise(html, "2020/post.md")
    assert 'href="feedpub-ref:path:2019/other.md#x"' in out
    assert 'src="feedpub-ref:path:2020/pic.png"' in out
    for kept in ('"../other/"', '"#n"', '"/x.png"', '"../../out.png"', '"https://e.org/f.png"'):
        assert kept in out
    assert refs_in(out) == [("path", "2019/other.md"), ("path", "2020/pic.png")]


def test_source_path_never_leaves_the_folder() -> None:
    assert source_path("a/b.md", "../c.png") == "c.png"
    assert source_path("a/b.md", "/x/y.png") == "x/y.png"
    assert source_path("a/b.md", "../../c.png") is None
    assert source_path("b.md", "/../c.png") is None


class FakeLookup:
    def article_url(self, path: str) -> str | None:
        return {"2019/other.md": BASE + "articles/other/"}.get(path)

    def find_article(self, name: str, *, by_file_name: bool) -> str | None:
        return "2019/other.md" if name.endswith("other") else None

    def feed_url(self, kind: str, name: str) -> str | None:
        return BASE + f"feeds/{name}.atom.xml" if kind == "category" else None


def test_references_resolve_to_articles_files_and_feeds() -> None:
    lookup = FakeLookup()
    html = "\n".join(
        f'<a href="{ref_url(kind, value, tail)}">x</a>'
        for kind, value, tail in [
            ("path", "2019/other.md", "#sec"),
            ("path", "img/a b.png", ""),
            ("post", "2019-01-01-other", ""),
            ("name", "missing", ""),
            ("category", "tech", ""),
            ("tag", "python", ""),
        ]
    )
    out = resolve_refs(html, lambda k, v: target_url(k, v, lookup, BASE), BASE)
    assert out.split("\n") == [
        f'<a href="{BASE}articles/other/#sec">x</a>',
        f'<a href="{BASE}img/a%20b.png">x</a>',
        f'<a href="{BASE}articles/other/">x</a>',
        f'<a href="{BASE}">x</a>',
        f'<a href="{BASE}feeds/tech.atom.xml">x</a>',
        f'<a href="{BASE}">x</a>',
    ]


# --- untrusted text -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}%<>|/\"' \n`~abc-#", max_size=300))
def test_preprocess_takes_any_text(text: str) -> None:
    out = preprocess(text, path="a/b.md", base_url=BASE)
    assert isinstance(out.text, str)
    for line, _ in out.warnings:
        assert 0 <= line <= text.count("\n")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="<>\"'=/.#?a: \n", max_size=200))
def test_localise_never_makes_script(text: str) -> None:
    html = nh3.clean(f'<a href="{text}">x</a><img src="{text}">')
    out = localise(html, "a/b.md")
    assert "javascript:" not in out.lower() or "javascript:" in html.lower()


def test_preprocess_is_linear_on_hostile_input() -> None:
    """Unclosed tags, shortcodes and fences by the hundred thousand: one pass each."""
    started = time.monotonic()
    for chunk in ("{{<a ", "{% x ", "{{ ", "{%raw%}", "`", "{filename}", '{{< x a=">" '):
        preprocess(chunk * 200_000, path="a.md", base_url=BASE)
    assert time.monotonic() - started < 10.0


# --- what a review found -------------------------------------------------------------------


def test_shortcode_parameters_are_read_in_linear_time() -> None:
    """`{{< figure aaaa... >}}`: a regex over the parameters from every position was
    quadratic (40 KB took 19 s)."""
    started = time.monotonic()
    for name in ("figure", "youtube"):
        pre(f"{{{{< {name} " + "a" * 400_000 + " >}}")
        pre(f'{{{{< {name} id="' + "a" * 400_000 + '" >}}')
    assert time.monotonic() - started < 5.0


@pytest.mark.parametrize(
    "source",
    [
        "- item\n\n    ```\n    {{ keep }} {% if x %}\n    ```\n",  # a fence in a list item
        "Text.\n\n    {{ keep }} {% if x %}\n    {filename}/x.md\n",  # an indented block
        "Use ``{{ keep }} `x` {% if x %}`` here.\n",  # a span of two backticks
        "````\n```\n{{ keep }} {% if x %}\n```\n````\n",  # a longer fence around a shorter
        "<pre>{{ keep }} {% if x %}</pre>\n",
        "<p><code>{{ keep }} {% if x %}</code></p>\n",
    ],
)
def test_template_syntax_in_code_is_left_as_written(source: str) -> None:
    text, warnings = pre(source)
    assert text == source and warnings == []


def test_hugo_highlight_content_is_code() -> None:
    text, warnings = pre("{{< highlight go >}}\n{{ .Title }} {{< x >}}\n{{< /highlight >}}\n")
    assert text == "\n```go\n{{ .Title }} {{< x >}}\n```\n\n" and warnings == []


def test_pelican_placeholders_count_only_where_a_url_goes() -> None:
    table = "name|category|count\n---|---|---\na|b|1\n"
    assert pre(table) == (table, [])
    assert pre("Go to {index} or {category}x.")[0] == "Go to {index} or {category}x."
    assert pre("[a]: {filename}/x.md\n")[0] == "[a]: feedpub-ref:path:x.md\n"
    assert pre('<a href="{filename}/x.md">')[0] == '<a href="feedpub-ref:path:x.md">'


def test_kramdown_comments_go_and_nomarkdown_stays() -> None:
    text, _ = pre("A {::comment}PRIVATE NOTE{:/comment} B {::nomarkdown}<b>x</b>{:/} C")
    assert text == "A  B <b>x</b> C"


def test_an_unclosed_comment_or_raw_keeps_the_rest_with_a_warning() -> None:
    text, warnings = pre("Before.\n{% comment %}\nAfter.\n")
    assert text == "Before.\n\nAfter.\n"
    assert warnings == [(1, "{% comment %} without {% endcomment %}: the tag removed")]
    started = time.monotonic()
    pre("{%raw%}" * 100_000)  # (each looked for its end to the end of the text)
    assert time.monotonic() - started < 5.0


def test_nested_and_escaped_shortcodes() -> None:
    text, warnings = pre('{{< figure src="x.png" caption="From {{ site.title }}" >}}')
    assert '<img src="x.png"' in text and "From {{ site.title }}" in text
    assert warnings == []
    assert pre("Write {{</* figure src=x */>}} to show one.")[0] == (
        "Write {{< figure src=x >}} to show one."
    )


def test_text_after_a_video_is_markdown() -> None:
    from feedpub.articles.body import prepare_body

    text, _ = pre("{{< youtube abc >}}\n**bold**\n")
    assert "<strong>bold</strong>" in prepare_body(text, "markdown").html
