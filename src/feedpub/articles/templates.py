"""The generators' template syntax in a body, rewritten before it is rendered:
:func:`preprocess` turns Liquid (Jekyll), Hugo shortcodes and Pelican's placeholders into
references (:mod:`feedpub.articles.refs`) or plain Markdown and HTML. What it cannot resolve is
removed cleanly, with a warning naming the line, and never printed raw; inside fenced code and
``{% raw %}`` it is left as written. Everything here is linear in the body's length.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from feedpub.articles.codespans import Inside, code_spans
from feedpub.articles.refs import ref_url, source_path, split_tail

MAX_WARNINGS = 20  # template tags removed: the first ones are named, then a count


_TOKEN = re.compile(
    # (no "{" inside a token, but where it starts no other: a scan from one start stops at
    # the next start; linear)
    r"\{%-?[ \t]*+([A-Za-z_]\w*+)([^%\n{]{0,500}+)%\}"  # Liquid tag (1 name, 2 rest)
    r"|\{\{([<%])/\*([^\n{]{0,1000}?)\*/[>%]\}\}"  # Hugo's escaped shortcode (3, 4)
    # a Hugo shortcode (5 <|%, 6 closing, 7 name, 8 parameters; "{{ x }}" may be inside)
    r"|\{\{([<%])[ \t]*+(/?)[ \t]*+([\w./-]{1,100}+)"
    r"((?:[^\n{>%]|\{(?!\{[<%])|[>%](?!\}\}))*+)[>%]\}\}"
    r"|\{\{(?![<%])-?([^{}\n]{0,500}+)\}\}"  # Liquid output (9)
    # Pelican, where a URL goes: "(" of a Markdown link, an attribute, a reference definition
    r"|(?:(?<=\()|(?<==\")|(?<==')|(?<==)|(?<=\]: ))"
    r"[{|](filename|static|attach|tag|category|index|author)[}|]"  # (10)
    r"|\{::(comment|nomarkdown|options)\b[^}\n]{0,200}+\}",  # kramdown extensions (11)
    re.MULTILINE,
)
_PELICAN_TARGET = re.compile(r"[^\s)\"'<>\]]*+")
_QUOTED = re.compile(r"""\s*+(?:"([^"]*+)"|'([^']*+)'|(\S++))""")
# one parameter at a time, from where the last ended: linear (finditer over the text from
# every position would try each "aaaa..." run again at each of its letters)
_PARAM_AT = re.compile(r"""\s*+(?:(\w++)\s*+=\s*+)?(?:"([^"]*+)"|'([^']*+)'|([^\s"'=]++))""")
_OUTPUT_FILTER = re.compile(
    r"""\s*(?:"([^"]*)"|'([^']*)')\s*\|\s*(relative_url|absolute_url)\s*-?$"""
)
_SITE_URL = re.compile(r"\s*site\.(url|baseurl)\s*-?$")
MAX_PARAMS = 50


@dataclass(frozen=True, slots=True)
class Preprocessed:
    text: str
    warnings: tuple[tuple[int, str], ...]  # (line within the body, from 0; message)


def _first_arg(rest: str) -> str:
    m = _QUOTED.match(rest)
    if m is None:
        return ""
    return next((g for g in m.groups() if g is not None), "")


def _params(rest: str) -> dict[str, str]:
    """A shortcode's named parameters (``src="x" alt='y' id=z``), read left to right."""
    out: dict[str, str] = {}
    pos = 0
    for _ in range(MAX_PARAMS):
        m = _PARAM_AT.match(rest, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m[1]:
            out.setdefault(m[1].lower(), next(g for g in m.groups()[1:] if g is not None))
    return out


def preprocess(text: str, *, path: str, base_url: str, markdown: bool = True) -> Preprocessed:
    """A Markdown or HTML body with Liquid, Hugo shortcodes and Pelican placeholders
    rewritten (see the module's notes). Code is left as written."""
    if "{" not in text and "|" not in text:
        return Preprocessed(text, ())
    site = base_url.rstrip("/")
    out: list[str] = []
    warnings: list[tuple[int, str]] = []
    removed = 0
    pos = 0
    in_code = Inside(code_spans(text, markdown=markdown))
    line_at = _Lines(text)

    def warn(at: int, message: str) -> None:
        nonlocal removed
        removed += 1
        if removed <= MAX_WARNINGS:
            warnings.append((line_at(at), message))

    missing: dict[str, int] = {}  # closing tags not found after a position: not after any later

    def closing_tag(pattern: re.Pattern[str], start: int) -> re.Match[str] | None:
        if missing.get(pattern.pattern, len(text) + 1) <= start:
            return None
        found = pattern.search(text, start)
        if found is None:
            missing[pattern.pattern] = start
        return found

    for m in _TOKEN.finditer(text):
        if m.start() < pos or in_code(m.start()):
            continue  # inside a block already taken ({% raw %}, {% comment %}), or code
        out.append(text[pos : m.start()])
        pos = m.end()
        if m[1]:  # a Liquid tag
            name, rest = m[1].lower(), m[2].strip().rstrip("-").strip()
            if name in ("raw", "comment"):
                end = closing_tag(_ENDRAW if name == "raw" else _ENDCOMMENT, pos)
                if end is None:
                    warn(m.start(), f"{{% {name} %}} without {{% end{name} %}}: the tag removed")
                    continue
                if name == "raw":
                    out.append(text[pos : end.start()])
                pos = end.end()
            elif name == "post_url" and rest:
                out.append(ref_url("post", rest.split()[0].strip("/")))
            elif name == "link" and rest:
                target, tail = split_tail(rest.split()[0])
                out.append(ref_url("name", target.strip("/"), tail))
            elif name == "highlight":
                out.append("```" + (rest.split()[0] if rest else ""))
            elif name == "endhighlight":
                out.append("```")
            elif name in ("endraw", "endcomment"):
                pass
            else:
                warn(m.start(), f"Liquid tag {{% {name} %}} removed (feedpub runs no templates)")
        elif m[3]:  # Hugo's way to show a shortcode: {{</* x */>}} is "{{< x >}}" as text
            out.append("{{" + m[3] + m[4] + ("%" if m[3] == "%" else ">") + "}}")
        elif m[5]:  # a Hugo shortcode
            closing, name, rest = m[6], m[7].lower(), m[8]
            if closing:
                continue
            if name in ("ref", "relref"):
                target, tail = split_tail(_first_arg(rest))
                if target:
                    value = source_path(path, target) if target.startswith("/") else None
                    out.append(
                        ref_url("path", value, tail) if value and "." in value.rsplit("/", 1)[-1]
                        else ref_url("name", target.strip("/"), tail)
                    )  # fmt: skip
                else:
                    warn(m.start(), f"Hugo shortcode {name} without a target removed")
            elif name == "figure":
                out.append(_figure(_params(rest)))
            elif name in ("youtube", "vimeo"):
                video = _params(rest).get("id") or _first_arg(rest)
                site_of = {
                    "youtube": "https://www.youtube.com/watch?v=",
                    "vimeo": "https://vimeo.com/",
                }
                if video:
                    url = html.escape(site_of[name] + quote(video, safe=""))
                    out.append(f'\n\n<p><a href="{url}">{url}</a></p>\n\n')
            elif name == "highlight":  # its content is code, as written
                end = closing_tag(_END_HIGHLIGHT, pos)
                stop = end.start() if end else len(text)
                out.append("\n```" + _first_arg(rest) + "\n" + text[pos:stop].strip("\n"))
                out.append("\n```\n")
                pos = end.end() if end else len(text)
            else:
                warn(m.start(), f"Hugo shortcode {{{{< {name} >}}}} removed (its content is kept)")
        elif m[9] is not None:  # Liquid output
            expr = m[9]
            if _SITE_URL.match(expr):
                # {{ site.url }}{{ site.baseurl }}{% post_url x %}: the reference is absolute
                following = text[pos : pos + 40].lstrip()
                if not following.startswith(("{% post_url", "{%post_url", "{% link", "{{")):
                    out.append(site)
            elif f := _OUTPUT_FILTER.match(expr):
                value = f[1] if f[1] is not None else f[2] or ""
                out.append(site + "/" + value.lstrip("/"))
            else:
                shown = expr.strip()[:60]
                warn(
                    m.start(),
                    f"Liquid output {{{{ {shown} }}}} removed (feedpub runs no templates)",
                )
        elif m[10]:  # Pelican
            kind = m[10]
            if kind == "index":
                out.append(base_url)
                continue
            target_m = _PELICAN_TARGET.match(text, pos)
            raw = target_m[0] if target_m else ""
            pos += len(raw)
            target, tail = split_tail(unquote(raw))
            if kind in ("tag", "category"):
                out.append(ref_url(kind, target, tail) if target else base_url)
            elif kind == "author":
                out.append(base_url)
            else:
                value = source_path(path, target) if target else None
                out.append(ref_url("path", value, tail) if value else ref_url("name", target, tail))
        elif m[11]:  # kramdown: {::comment}...{:/comment} is gone; {::nomarkdown} kept as is
            if m[11] == "options" or m[0].endswith("/}"):
                continue
            end = closing_tag(re.compile(r"\{:/(?:" + m[11] + r")?\}"), pos)
            if m[11] == "nomarkdown":
                out.append(text[pos : end.start() if end else len(text)])
            pos = end.end() if end else len(text)
    out.append(text[pos:])
    if removed > MAX_WARNINGS:
        warnings.append((warnings[-1][0], f"{removed - MAX_WARNINGS} more template tags removed"))
    return Preprocessed("".join(out), tuple(warnings))


_END_HIGHLIGHT = re.compile(r"\{\{[<%][ \t]*+/[ \t]*+highlight[ \t]*+[>%]\}\}")
_ENDRAW = re.compile(r"\{%-?[ \t]*+endraw[ \t]*+-?%\}")
_ENDCOMMENT = re.compile(r"\{%-?[ \t]*+endcomment[ \t]*+-?%\}")


class _Lines:
    """Offset → line number (from 0), for offsets asked in increasing order: linear."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 0

    def __call__(self, offset: int) -> int:
        if offset < self.pos:
            self.pos, self.line = 0, 0
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def _figure(params: dict[str, str]) -> str:
    src = params.get("src", "")
    if not src:
        return ""
    img = f'<img src="{html.escape(src)}" alt="{html.escape(params.get("alt", ""))}">'
    caption = params.get("caption") or params.get("title") or ""
    link = params.get("link")
    if link:
        img = f'<a href="{html.escape(link)}">{img}</a>'
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"\n\n<figure>{img}{cap}</figure>\n\n"
