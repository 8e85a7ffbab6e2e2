"""Hostile-input benchmark: the worst articles we can construct, against an ordinary one.

Usage::

    python benchmarks/bench_hostile.py [--size 2000000] [--runs 3] [--only NAME ...]
        [--skip-daemon] [--skip-articles] [--json PATH]

Part 1, **per-article cost.** For every parser on an article's path (YAML and TOML front
matter, the header block, Markdown, raw HTML, the plain-text reader, titles and slugs, dates,
authors and categories) it builds files of ``--size`` bytes shaped to make that parser work
hardest (the shapes that were slow in this or other parsers: unclosed brackets and emphasis,
unclosed tags, formatting left open before many paragraphs, deep nesting, long runs of
spaces before a trailing ``#``, ...). Each file goes through what a build does with it:
``parse_article`` (front matter, body rendered, made balanced, sanitised) and, when it
parses, rendering it into an Atom, an RSS and a JSON feed. Each case runs in a fresh process
(``--runs`` times, median), alternating with the ordinary 2 MB Markdown article (prose with
headings, emphasis, links, code, lists and a table) as the baseline, so every ratio compares
two runs made side by side on this shared machine. Peak memory is the process's maximum
resident set, less that of the same process before the file was read.

Target: every case at most 10 times the ordinary article's time (and memory).

Part 2, **the daemon during builds** (unless ``--skip-daemon``): ``feedpub run`` on a site of
ordinary articles; once it serves, every hostile file is dropped into its articles folder at
once, and ``/healthz`` and ``/feeds/all.atom.xml`` are requested one after the other, without
pause, until the build has published them; the latency of those requests (and of the same
requests with nothing happening, before) is reported. Then the files are touched again and
SIGTERM is sent in the middle of that build; the time until the process has exited is
reported. Targets: under 100 ms during builds; under 5 s to stop.

Prints a table; ``--json`` writes the figures too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
YAML_HEAD = "---\ntitle: Hostile\ndate: 2025-01-02T03:04:05Z\ncategories: [Tests]\n---\n"


def _fill(unit: str, size: int, head: str = "") -> str:
    room = max(0, size - len(head.encode()))
    count = room // max(1, len(unit.encode())) + 1
    return head + (unit * count)[: room if unit.isascii() else count * len(unit)]


def ordinary(size: int) -> str:
    """A long Markdown article of the kind people write: sections of prose with emphasis,
    links and code, a list, a code block and a table now and then."""
    section = (
        "## A section heading\n\n"
        "Lorem ipsum dolor sit amet, *consectetur* adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "[exercitation](https://example.org/docs/exercitation) ullamco laboris nisi ut "
        "aliquip ex ea commodo consequat. Duis aute irure dolor in `reprehenderit` in "
        "voluptate velit esse cillum dolore eu fugiat nulla pariatur.\n\n"
        "Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt "
        "mollit anim id est laborum. **Sed ut perspiciatis** unde omnis iste natus error sit "
        "voluptatem accusantium doloremque laudantium, totam rem aperiam.\n\n"
        "- first point, with a [link](../other/)\n- second point\n- third point\n\n"
        "```python\ndef example(x):\n    return x * 2\n```\n\n"
        "| name | value |\n|------|-------|\n| a | 1 |\n| b | 2 |\n\n"
    )
    return _fill(section, size, YAML_HEAD)


def ordinary_text(size: int) -> str:
    para = (
        "The council met on Tuesday to discuss the new budget. Members agreed that the "
        "library and the swimming pool would stay open, and that more money would go to "
        "road repairs next year. See https://example.org/council/minutes for the minutes.\n\n"
    )
    return _fill(para, size, "Categories: Tech News\nDate: 2025-01-02 10:00\n\nA headline\n\n")


def _html_reconstruct(size: int) -> str:
    head = YAML_HEAD + "<p>" + "".join(f"<i class=c{i}>" for i in range(250))
    return _fill("x</p><p>x", size, head)


def _yaml_many_keys(size: int) -> str:
    lines = []
    total = 0
    i = 0
    while total < size - 200:
        line = f"key{i}: value number {i}\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "---\ntitle: Many keys\ndate: 2025-01-02\n" + "".join(lines) + "---\nBody.\n"


def _toml_many_keys(size: int) -> str:
    lines = []
    total = 0
    i = 0
    while total < size - 200:
        line = f'key{i} = "value number {i}"\n'
        lines.append(line)
        total += len(line)
        i += 1
    return '+++\ntitle = "Many keys"\ndate = 2025-01-02\n' + "".join(lines) + "+++\nBody.\n"


def _yaml_list(size: int) -> str:
    return _fill("x, ", size - 10, "---\ntitle: T\ndate: 2025-01-02\ncategories: [") + "]\n---\nB\n"


def _headers_many(size: int) -> str:
    return (
        _fill("Tags: a, b, c\n", size - 20, "Title: Many headers\nDate: 2025-01-02\n") + "\nBody\n"
    )


FM_ROOM = 255_000  # front matter is refused over 256 KiB: the worst shapes just under it


def _fm(block: str, size: int, fence: str = "---") -> str:
    """A front matter block (its lines; cut to FM_ROOM), then an ordinary body up to ``size``."""
    block = block[:FM_ROOM].rsplit("\n", 1)[0] if len(block) > FM_ROOM else block
    head = f"{fence}\n{block}\n{fence}\n"
    body = ordinary(size).split("---\n", 2)[2]
    return head + body[: max(0, size - len(head.encode()))]


def _keys(fmt: str) -> str:
    return "".join(fmt.format(i=i) for i in range(FM_ROOM // 12))


# name -> (suffix, maker)
CASES: dict[str, tuple[str, Callable[[int], str]]] = {
    # -- front matter ----------------------------------------------------------------------
    "yaml: 2 MB of keys": (".md", _yaml_many_keys),
    "yaml: one 2 MB string": (".md", lambda n: _fill("a", n - 40, '---\ntitle: "') + '"\n---\nB\n'),
    "yaml: unclosed flow [[[": (
        ".md",
        lambda n: _fill("[", n - 20, "---\ntitle: T\ntags: ") + "\n---\nB\n",
    ),
    "yaml: 100k categories": (".md", _yaml_list),
    "yaml: anchors and aliases": (
        ".md",
        lambda n: _fill("- *a\n", n - 20, "---\ntitle: T\nx: &a [1, 2]\ny:\n") + "\n---\nB\n",
    ),
    "yaml: unclosed quote": (
        ".md",
        lambda n: _fill("a ", n - 20, '---\ntitle: "') + "\n---\nB\n",
    ),
    "toml: 2 MB of keys": (".md", _toml_many_keys),
    "toml: nested arrays": (
        ".md",
        lambda n: _fill("[", n - 20, '+++\ntitle = "T"\nx = ') + "\n+++\nB\n",
    ),
    "yaml 256K: keys": (
        ".md",
        lambda n: _fm("title: T\ndate: 2025-01-02\n" + _keys("k{i}: v{i}\n"), n),
    ),
    "yaml 256K: flow list": (
        ".md",
        lambda n: _fm("title: T\ncategories: [" + "x, " * (FM_ROOM // 3 - 10) + "x]", n),
    ),
    "yaml 256K: nested flow": (".md", lambda n: _fm("title: T\nx: " + "[" * 5000 + "]" * 5000, n)),
    "yaml 256K: aliases": (
        ".md",
        lambda n: _fm("title: T\na: &a [1, 2, 3]\nb: [" + "*a, " * (FM_ROOM // 4 - 20) + "*a]", n),
    ),
    "yaml 256K: long string": (".md", lambda n: _fm('title: "' + "é" * (FM_ROOM // 2) + '"', n)),
    "toml 256K: keys": (
        ".md",
        lambda n: _fm('title = "T"\n' + _keys('k{i} = "v{i}"\n'), n, "+++"),
    ),
    "toml 256K: nested arrays": (
        ".md",
        lambda n: _fm('title = "T"\nx = ' + "[" * 5000 + "]" * 5000, n, "+++"),
    ),
    "date 256K: a date then junk": (
        ".md",
        lambda n: _fm("title: T\ndate: 2024-01-01 10:00 " + "x " * (FM_ROOM // 2 - 40), n),
    ),
    "author 256K: a@ repeated": (
        ".md",
        lambda n: _fm("title: T\nauthor: " + "a@" * (FM_ROOM // 2 - 20), n),
    ),
    "categories 256K: a; repeated": (
        ".md",
        lambda n: _fm("title: T\ncategories: " + "a;" * (FM_ROOM // 2 - 20), n),
    ),
    "slug 256K: punctuation": (
        ".md",
        lambda n: _fm("title: T\nslug: " + "-_.~!" * (FM_ROOM // 5 - 10), n),
    ),
    "title 256K: letters": (".md", lambda n: _fm("title: " + "Ab " * (FM_ROOM // 3 - 10), n)),
    "headers: 2 MB of header lines": (".txt", _headers_many),
    "headers: one 2 MB value": (".txt", lambda n: _fill("a", n - 10, "Title: ") + "\n\nBody\n"),
    "headers: near misses": (".txt", lambda n: _fill("Titel: x\n", n, "Title: T\n")),
    # -- titles, slugs, dates, authors, categories -----------------------------------------
    "title: 2 MB of letters": (".md", lambda n: _fill("é", n - 40, "---\ntitle: ") + "\n---\nB\n"),
    "title: # then spaces then x": (".md", lambda n: _fill(" ", n - 10, "# a") + "x#\n"),
    "slug: 2 MB of punctuation": (
        ".md",
        lambda n: _fill("-_.~!", n - 60, "---\ntitle: T\nslug: ") + "\n---\nB\n",
    ),
    "date: digits": (".md", lambda n: _fill("1", n - 40, "---\ntitle: T\ndate: ") + "\n---\nB\n"),
    "date: a date then junk": (
        ".md",
        lambda n: _fill("x ", n - 40, "---\ntitle: T\ndate: 2024-01-01 10:00 ") + "\n---\nB\n",
    ),
    "author: a@ repeated": (
        ".md",
        lambda n: _fill("a@", n - 40, "---\ntitle: T\nauthor: ") + "\n---\nB\n",
    ),
    "categories: a; repeated": (
        ".md",
        lambda n: _fill("a;", n - 50, "---\ntitle: T\ncategories: ") + "\n---\nB\n",
    ),
    # -- Markdown --------------------------------------------------------------------------
    "md: [ repeated": (".md", lambda n: _fill("[", n, YAML_HEAD)),
    "md: *a repeated": (".md", lambda n: _fill("*a ", n, YAML_HEAD)),
    "md: [a]( repeated": (".md", lambda n: _fill("[a](", n, YAML_HEAD)),
    "md: ![ repeated": (".md", lambda n: _fill("![", n, YAML_HEAD)),
    "md: **_ repeated": (".md", lambda n: _fill("**_", n, YAML_HEAD)),
    "md: nested strong/emph": (
        ".md",
        lambda n: YAML_HEAD + "*a **a " * (n // 14) + "b" + " a** a*" * (n // 14),
    ),
    "md: > nested 1M deep": (".md", lambda n: _fill("> ", n, YAML_HEAD)),
    "md: list nested 1000 deep": (
        ".md",
        lambda n: YAML_HEAD + "".join("  " * i + "* a\n" for i in range(1000)),
    ),
    "md: reference uses": (".md", lambda n: _fill("[x] ", n, YAML_HEAD + "[x]: /u\n\n")),
    "md: footnote marks": (".md", lambda n: _fill("a[^1] ", n - 20, YAML_HEAD) + "\n\n[^1]: n\n"),
    "md: backtick runs": (
        ".md",
        lambda n: YAML_HEAD + "".join("`" * i + "a" for i in range(1, 1990)),
    ),
    "md: table 2 MB wide": (
        ".md",
        lambda n: YAML_HEAD + "|" + "a|" * (n // 4) + "\n|" + "-|" * (n // 4) + "\n",
    ),
    "md: entities": (".md", lambda n: _fill("&#1234;&amp;&bogus ", n, YAML_HEAD)),
    "md: autolinks": (".md", lambda n: _fill("<http://a.b/c> ", n, YAML_HEAD)),
    "md: 2 MB of x©": (".md", lambda n: _fill("x©", n, YAML_HEAD)),
    "md: 2 MB of x&": (".md", lambda n: _fill("x&", n, YAML_HEAD)),
    "md: code block of <": (
        ".md",
        lambda n: _fill("<<<<\n", n - 10, YAML_HEAD + "```\n") + "\n```\n",
    ),
    "md: link title of ©": (
        ".md",
        lambda n: _fill("©", n - 20, YAML_HEAD + '[a](/u "') + '")\n',
    ),
    # -- raw HTML --------------------------------------------------------------------------
    "html: '<a ' repeated": (".md", lambda n: _fill("<a ", n, YAML_HEAD)),
    "html: formatting left open": (".md", _html_reconstruct),
    "html: <div> nested": (".md", lambda n: _fill("<div>", n, YAML_HEAD)),
    "html: <b> unclosed": (".md", lambda n: _fill("<b>x", n, YAML_HEAD)),
    "html: table soup": (".md", lambda n: _fill("<table><td>x", n, YAML_HEAD)),
    "html: attributes": (
        ".md",
        lambda n: _fill('<a href=x title="y" class=z>t</a> ', n, YAML_HEAD),
    ),
    "html: comments unclosed": (".md", lambda n: _fill("<!-- ", n, YAML_HEAD)),
    "html: unclosed quote": (".md", lambda n: _fill("x", n, YAML_HEAD + '<a title="')),
    "html: <p><div> misnested": (
        ".md",
        lambda n: _fill("<p><b>x<div>y</div></b></p>", n, YAML_HEAD),
    ),
    # -- plain text ------------------------------------------------------------------------
    "txt: one 2 MB paragraph": (".txt", lambda n: _fill("word ", n, "Title: T\n\n")),
    "txt: blank lines of spaces": (
        ".txt",
        lambda n: _fill("\n \t \n", n - 10, "Title: T\n\nx") + "y\n",
    ),
    "txt: http:// repeated": (".txt", lambda n: _fill("http://", n, "Title: T\n\n")),
    "txt: a URL of dots": (".txt", lambda n: _fill(".", n, "Title: T\n\nhttp://x")),
    "txt: short lines (headings)": (".txt", lambda n: _fill("Short line\n\n", n, "Title: T\n\n")),
    "txt: HTML-looking text": (".txt", lambda n: _fill("<b>x", n, "Title: T\n\n")),
    # -- other generators' syntax (articles/refs.py) ---------------------------------------
    "refs: Liquid tags": (".md", lambda n: _fill("{% include x.html %} ", n, YAML_HEAD)),
    "refs: post_url links": (
        ".md",
        lambda n: _fill("[a]({% post_url 2020-01-01-x %}) ", n, YAML_HEAD),
    ),
    "refs: Hugo shortcodes unclosed": (".md", lambda n: _fill('{{< x a=">" ', n, YAML_HEAD)),
    "refs: Hugo parameters": (
        ".md",
        lambda n: _fill("a", n - 20, YAML_HEAD + "{{< figure ") + " >}}\n",
    ),
    "refs: relative links": (".md", lambda n: _fill("[a](img/p.png) ", n, YAML_HEAD)),
    "refs: {% raw %} unclosed": (".md", lambda n: _fill("{%raw%}", n, YAML_HEAD)),
    "refs: code spans and fences": (".md", lambda n: _fill("`` x ` ```\n", n, YAML_HEAD)),
    "md: headings (ids)": (".md", lambda n: _fill("## Heading text\n\n", n, YAML_HEAD)),
    # -- reStructuredText and HTML articles ------------------------------------------------
    "rst: one 2 MB paragraph": (".rst", lambda n: _fill("word word\n", n, "Title\n=====\n\n")),
    "rst: dense inline markup": (".rst", lambda n: _fill("*a* *b*\n", n, "Title\n=====\n\n")),
    "rst: many short paragraphs": (".rst", lambda n: _fill("x\n\n", n, "Title\n=====\n\n")),
    "html file: 2 MB body": (
        ".html",
        lambda n: (
            _fill("<p>word</p>", n - 20, "<html><head><title>T</title></head><body>")
            + "</body></html>"
        ),
    ),
}


def measure(text: str, suffix: str) -> dict[str, Any]:
    """In this (fresh) process: the time to parse the article and render it into three feeds,
    and the memory that took."""
    from datetime import UTC, datetime

    from feedpub.articles.context import SLUG_MARK, ParseContext
    from feedpub.articles.parse import parse_article
    from feedpub.config import SiteConfig
    from feedpub.errors import ArticleError
    from feedpub.model import Article, FeedSpec
    from feedpub.render import EntryBody, Links
    from feedpub.render.jsonfeed import render_json
    from feedpub.render.xmlfeeds import render_xml

    data = text.encode("utf-8")
    ctx = ParseContext(tz=UTC, base_url="https://example.org/", max_bytes=len(data) + 1)
    site = SiteConfig(title="Bench", base_url="https://example.org/")
    links = Links(site=site)
    # imports and first-call costs out of the figure
    parse_article("warm.md", YAML_HEAD.encode() + b"Warm *up* <b>x</b>.\n", ctx)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = "published"
    try:
        parsed = parse_article("hostile" + suffix, data, ctx)
    except ArticleError as e:
        outcome = f"refused: {e.message[:70]}"
    else:
        url = "https://example.org/articles/hostile/"
        date = parsed.meta.date or datetime(2025, 1, 1, tzinfo=UTC)
        article = Article(meta=parsed.meta, date=date, id="tag:x,2025:h", slug="h", url=url)
        html = parsed.body_html.replace(SLUG_MARK, "h")  # as a build publishes it
        body = EntryBody(content_html=html, summary=parsed.excerpt)
        spec = FeedSpec(
            key="all", title="B", category=None, content="full", entries=(article,), updated=date
        )
        for fmt in ("atom", "rss"):
            render_xml(spec, fmt, links, lambda _: body)
        render_json(spec, links, lambda _: body)
        if parsed.warnings:
            outcome = f"published, warned: {parsed.warnings[0].message[:60]}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "memory_mb": max(0, peak - before) / 1024, "outcome": outcome}


def run_one(name: str, size: int) -> dict[str, Any]:
    """One measurement in a fresh process (so peak memory is this case's own)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, "--size", str(size)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=False,
    )
    if proc.returncode != 0:
        return {"seconds": float("nan"), "memory_mb": float("nan"), "outcome": proc.stderr[-300:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def make(name: str, size: int) -> tuple[str, str]:
    if name == "ordinary":
        return ordinary(size), ".md"
    if name == "ordinary text":
        return ordinary_text(size), ".txt"
    suffix, maker = CASES[name]
    return maker(size), suffix


def per_article(size: int, runs: int, only: list[str] | None) -> list[dict[str, Any]]:
    names = only or ["ordinary text", *CASES]
    rows = []
    print(f"{'case':36} {'outcome':42} {'seconds':>8} {'x ord.':>7} {'MB':>7} {'x ord.':>7}")
    for name in names:
        mine: list[dict[str, Any]] = []
        base: list[dict[str, Any]] = []
        for _ in range(runs):  # alternate: the baseline is measured beside each run
            base.append(run_one("ordinary", size))
            mine.append(run_one(name, size))
        t = statistics.median(r["seconds"] for r in mine)
        t0 = statistics.median(r["seconds"] for r in base)
        m = statistics.median(r["memory_mb"] for r in mine)
        m0 = statistics.median(r["memory_mb"] for r in base)
        row = {
            "case": name,
            "outcome": mine[0]["outcome"],
            "seconds": t,
            "ordinary_seconds": t0,
            "time_ratio": t / t0,
            "memory_mb": m,
            "ordinary_memory_mb": m0,
            "memory_ratio": m / m0 if m0 else float("nan"),
        }
        rows.append(row)
        flag = "" if row["time_ratio"] <= 10 else "  FAIL (over 10x)"
        print(
            f"{name[:36]:36} {row['outcome'][:42]:42} {t:8.3f} {row['time_ratio']:7.2f} "
            f"{m:7.1f} {row['memory_ratio']:7.2f}{flag}",
            flush=True,
        )
    return rows


# -- part 2: the daemon ---------------------------------------------------------------------


def _get(url: str, timeout: float = 10) -> float:
    import urllib.request

    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        resp.read()
    return time.perf_counter() - started


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"n": len(ordered), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": ordered[-1] * 1000}


def daemon(size: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="feedpub-hostile-"))
    (work / "articles").mkdir()
    (work / "config.toml").write_text(
        '[site]\ntitle = "Bench"\nbase_url = "https://example.org/"\n'
        '[paths]\narticles = "articles"\noutput = "public"\nstate = "state/state.sqlite3"\n'
        "[feeds]\nmax_entries = 20\n[schedule]\nreconcile_seconds = 3600\n"
    )
    for i in range(200):
        (work / "articles" / f"a{i:03}.md").write_text(
            f"---\ntitle: Article {i}\ndate: 2024-01-01T00:{i % 60:02}:00Z\n---\nBody {i}.\n"
        )
    log = open(work / "daemon.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "--log-level", "debug", "run", "--port", "0"],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    try:
        base = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not base:
            m = re.search(r"on http://127\.0\.0\.1:(\d+)/", (work / "daemon.log").read_text())
            base = f"http://127.0.0.1:{m[1]}" if m else ""
            time.sleep(0.05)
        while "build: " not in (work / "daemon.log").read_text():
            time.sleep(0.05)
        idle: list[float] = []
        for _ in range(200):
            idle.append(_get(base + "/healthz"))
            idle.append(_get(base + "/feeds/all.atom.xml"))
        # every hostile file at once
        hostile = work / "articles" / "hostile"
        hostile.mkdir()
        started = time.monotonic()
        for i, name in enumerate(CASES):
            text, suffix = make(name, size)
            (hostile / f"h{i:02}{suffix}").write_text(text, encoding="utf-8")
        during: list[float] = []
        logged = (work / "daemon.log").read_text().count("build: ")
        while time.monotonic() - started < 600:
            during.append(_get(base + "/healthz"))
            during.append(_get(base + "/feeds/all.atom.xml"))
            if (work / "daemon.log").read_text().count("build: ") > logged:
                break
        build_seconds = time.monotonic() - started
        # SIGTERM in the middle of a build of all of them again
        for path in hostile.iterdir():
            path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        while "building:" not in (work / "daemon.log").read_text().rsplit("build: ", 1)[-1]:
            time.sleep(0.01)
        time.sleep(1.0)
        stop_started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        stop_seconds = time.monotonic() - stop_started
        leftovers = subprocess.run(
            ["pgrep", "-f", "feedpub.pool import spawned_main"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        return {
            "idle": _percentiles(idle),
            "during_build": _percentiles(during),
            "build_seconds": build_seconds,
            "sigterm_seconds": stop_seconds,
            "exit_code": code,
            "workers_left": len(leftovers),
        }
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--skip-daemon", action="store_true")
    parser.add_argument("--skip-articles", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        text, suffix = make(args.child, args.size)
        print(json.dumps(measure(text, suffix)))
        return 0
    out: dict[str, Any] = {"size": args.size}
    if not args.skip_articles:
        print(f"per article, {args.size:,} bytes each, {args.runs} runs each, medians:")
        rows = per_article(args.size, args.runs, args.only)
        worst = max(rows, key=lambda r: r["time_ratio"])
        print(f"worst: {worst['case']}: {worst['time_ratio']:.2f}x the ordinary article")
        out["articles"] = rows
    if not args.skip_daemon:
        d = daemon(args.size)
        out["daemon"] = d
        print(
            f"daemon idle:   p50 {d['idle']['p50_ms']:.1f} ms, p99 {d['idle']['p99_ms']:.1f} ms, "
            f"max {d['idle']['max_ms']:.1f} ms ({d['idle']['n']} requests)"
        )
        dur = d["during_build"]
        print(
            f"daemon during a {d['build_seconds']:.1f} s build of every hostile file: "
            f"p50 {dur['p50_ms']:.1f} ms, p99 {dur['p99_ms']:.1f} ms, max {dur['max_ms']:.1f} ms "
            f"({dur['n']} requests){'' if dur['max_ms'] < 100 else '  FAIL (target < 100 ms)'}"
        )
        print(
            f"SIGTERM mid-build: exit {d['exit_code']} after {d['sigterm_seconds']:.2f} s, "
            f"{d['workers_left']} workers left"
            + ("" if d["sigterm_seconds"] < 5 else "  FAIL (target < 5 s)")
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
