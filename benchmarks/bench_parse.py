"""Parse throughput: articles parsed per CPU second, the fast paths against the reference.

Usage::

    python benchmarks/bench_parse.py [--count 10000] [--rounds 5] [--against REV] [--work DIR]
        [--json PATH]

Run it with the Python that has feedpub's dependencies; feedpub is taken from this checkout's
``src``. The corpus is ``gen_corpus.py``'s (the one ``bench_build.py`` builds: seed 1, 24
categories, 500 words), generated once under ``--work``.

Each measurement is one fresh process that reads every file into memory, parses 200 of them
to warm up, then times ``parse_article`` over all of them (process CPU time: the machine is
shared and noisy, wall time says little), and prints a digest of every ``ParsedArticle``
(its ``repr``: every field, zones of datetimes included) and of every error. The modes:

* ``flat``: this checkout as a build runs it;
* ``pyyaml``: this checkout with ``ParseContext(flat_yaml=False)``, PyYAML reading every
  front matter block (the reference path the flat reader is tested against);
* ``base`` (with ``--against REV``): the ``src`` of git revision REV (``git archive``, into a
  temporary folder), for the whole before/after.

Each round runs every mode once, in an order that alternates from round to round; the ratios
are taken within a round (two runs side by side on this machine) and their median reported.
A run whose digest differs from ``flat``'s is reported (and the exit status is 1): the fast
paths must give the same articles.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gen_corpus

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "parse-latest.json"
WARM = 200

# Runs in a fresh interpreter (PYTHONPATH: the src to measure): argv = mode, articles folder.
WORKER = """\
import hashlib, json, os, sys, time
from dataclasses import fields
from datetime import UTC
from feedpub.articles.context import ParseContext
from feedpub.articles.parse import parse_article
from feedpub.errors import ArticleError
mode, root = sys.argv[1], sys.argv[2]
files = []
for folder, _, names in sorted(os.walk(root)):
    for name in sorted(names):
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            files.append((os.path.relpath(path, root), f.read()))
options = {"flat_yaml": False} if mode == "pyyaml" else {}
if options and "flat_yaml" not in {f.name for f in fields(ParseContext)}:
    sys.exit("this feedpub has no ParseContext.flat_yaml")
ctx = ParseContext(tz=UTC, base_url="https://bench.example.dev/", root=root, **options)
for path, data in files[:WARM]:
    try:
        parse_article(path, data, ctx)
    except ArticleError:
        pass
digest = hashlib.sha256()
out = []
t0 = time.process_time()
for path, data in files:
    try:
        out.append(parse_article(path, data, ctx))
    except ArticleError as e:
        out.append((e.message, e.line))
cpu = time.process_time() - t0
for item in out:
    digest.update(repr(item).encode("utf-8", "surrogatepass"))
print(json.dumps({"files": len(files), "cpu": cpu, "digest": digest.hexdigest()}))
""".replace("WARM", str(WARM))


def corpus(work: Path, count: int) -> Path:
    """The generated corpus of ``count`` articles (made once, reused after)."""
    site = work / f"n{count}"
    articles = site / "articles"
    marker = site / ".complete"
    if not marker.exists():
        gen_corpus.generate(site, count)
        marker.write_text(str(count), "utf-8")
    return articles


def checkout(rev: str, into: Path) -> Path:
    """``src`` of git revision ``rev``, unpacked into ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def run(src: Path, mode: str, articles: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, mode, str(articles)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode}: the worker failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Parse throughput, fast paths vs reference.")
    parser.add_argument("--count", type=int, default=10_000, help="articles in the corpus")
    parser.add_argument("--rounds", type=int, default=5, help="runs of every mode (median)")
    parser.add_argument("--against", metavar="REV", help="also time the src of git REV")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-parse")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the figures")
    args = parser.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    articles = corpus(args.work, args.count)
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as tmp:
        sources = {"flat": REPO / "src", "pyyaml": REPO / "src"}
        if args.against:
            sources["base"] = checkout(args.against, Path(tmp))
        modes = list(sources)
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
        for i in range(args.rounds):
            order = modes if i % 2 == 0 else modes[::-1]
            for mode in order:
                result = run(sources[mode], mode, articles)
                runs[mode].append(result)
                us = result["cpu"] / result["files"] * 1e6
                print(f"round {i + 1}: {mode:6} {us:7.1f} us/article", flush=True)

    digests = {mode: {r["digest"] for r in rs} for mode, rs in runs.items()}
    same = all(d == digests["flat"] and len(d) == 1 for d in digests.values())
    files = runs["flat"][0]["files"]
    summary: dict[str, Any] = {
        "count": files,
        "rounds": args.rounds,
        "against": args.against,
        "identical_articles": same,
        "modes": {},
    }
    print(f"\n{files:,} generated articles, {args.rounds} rounds (CPU time of parse_article)")
    print(f"{'mode':8} {'us/article':>10} {'articles/s':>11} {'vs flat (median of rounds)':>28}")
    for mode in modes:
        cpu = [r["cpu"] for r in runs[mode]]
        ratios = [r["cpu"] / f["cpu"] for r, f in zip(runs[mode], runs["flat"], strict=True)]
        us = statistics.median(cpu) / files * 1e6
        ratio = statistics.median(ratios)
        summary["modes"][mode] = {
            "us_per_article": round(us, 1),
            "articles_per_s": round(1e6 / us),
            "cpu_ratio_to_flat": round(ratio, 3),
            "cpu_seconds": cpu,
        }
        print(f"{mode:8} {us:10.1f} {1e6 / us:11,.0f} {ratio:27.2f}x")
    print(f"same ParsedArticle values in every mode: {'yes' if same else 'NO'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return 0 if same else 1


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"({time.monotonic() - started:.0f} s)")
    sys.exit(status)
