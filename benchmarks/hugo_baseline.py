"""Hugo baseline: time Hugo building only the RSS feeds (home + one per category) of a corpus.

Usage::

    python benchmarks/hugo_baseline.py CORPUS_DIR [--runs 3] [--work-dir DIR]

CORPUS_DIR is the output directory of ``gen_corpus.py`` (it holds ``articles/``).
Checked against Hugo v0.111.3 (Debian 12).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

# Feeds only: pages are kept for listing (and get permalinks) but never rendered; sections,
# the taxonomy list page, sitemap, robots.txt and 404 are disabled; home and terms emit RSS only.
CONFIG_TEMPLATE = """\
baseURL = "https://example.org/"
title = "Hugo baseline"
contentDir = {content_dir}
disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]
ignoreErrors = ["error-disable-taxonomy"]
buildFuture = true

[taxonomies]
category = "categories"

[outputs]
home = ["RSS"]
term = ["RSS"]

[services.rss]
limit = 20

[[cascade]]
[cascade._build]
render = "link"
list = "always"
[cascade._target]
kind = "page"
"""


class HugoError(RuntimeError):
    """Hugo is missing or failed."""


def hugo_available() -> str | None:
    """Path of the ``hugo`` binary, or None if it is not on PATH."""
    return shutil.which("hugo")


def hugo_config(corpus_dir: Path) -> str:
    content_dir = (corpus_dir / "articles").resolve()
    # A JSON string is a valid TOML basic string.
    return CONFIG_TEMPLATE.format(content_dir=json.dumps(str(content_dir)))


def run_hugo(corpus_dir: Path, work_dir: Path) -> float:
    """Build the feeds of ``corpus_dir`` into ``work_dir/public``; return wall-clock seconds."""
    hugo = hugo_available()
    if hugo is None:
        raise HugoError("hugo not found on PATH (apt-get install hugo)")
    if not (corpus_dir / "articles").is_dir():
        raise HugoError(f"{corpus_dir / 'articles'} is not a directory")
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "config.toml").write_text(hugo_config(corpus_dir), encoding="utf-8")
    shutil.rmtree(work_dir / "public", ignore_errors=True)
    cmd = [hugo, "--quiet", "--source", str(work_dir), "--cacheDir", str(work_dir / "cache")]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        output = (proc.stderr + proc.stdout).strip()
        raise HugoError(f"hugo exited with status {proc.returncode}:\n{output}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time Hugo building feeds for a corpus.")
    parser.add_argument("corpus_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, help="keep the Hugo site here (default: temp)")
    args = parser.parse_args(argv)
    if hugo_available() is None:
        parser.error("hugo not found on PATH")
    with tempfile.TemporaryDirectory(prefix="hugo-baseline-") as tmp:
        work_dir = args.work_dir or Path(tmp)
        try:
            times = [run_hugo(args.corpus_dir, work_dir) for _ in range(args.runs)]
        except HugoError as exc:
            parser.exit(1, f"error: {exc}\n")
    for i, seconds in enumerate(times, start=1):
        print(f"run {i}: {seconds:.3f}s")
    if times:
        print(f"median: {statistics.median(times):.3f}s  best: {min(times):.3f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
