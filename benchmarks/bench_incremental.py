"""The daemon's build for one edit, this checkout against another revision, in the same run.

Usage::

    python benchmarks/bench_incremental.py [--count 10000] [--edits 20] [--rounds 2]
                                           [--against REV] [--work DIR]

For each tree (this checkout's ``src``, and REV's checked out with ``git worktree`` into the
work folder) a copy of the generated corpus (``bench_build.prepare_site``) is built once, cold
(not timed). Then, rounds alternating between the trees, one process per tree and round holds
a long-lived :class:`~feedpub.build.Builder`, as ``feedpub run`` does, and ``--edits`` times
appends a line to the newest article and builds with that path (the watcher's build),
timing each build's CPU (``time.process_time``: the machine may be shared) and wall time.
Prints medians per tree and the ratio of this checkout's to REV's, per round and overall.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_build

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

EDIT_LOOP = """
import json, sys, time
from pathlib import Path
from feedpub.app import load_config
from feedpub.build import Builder

site, edits = Path(sys.argv[1]), int(sys.argv[2])
rel = sys.argv[3]
path = site / "articles" / rel
cpu, wall = [], []
with Builder(load_config(site / "config.toml"), workers=1) as builder:
    builder.build()  # (what the daemon does at start: nothing to do on a built site)
    for i in range(edits):
        with path.open("a", encoding="utf-8") as f:
            f.write(f"\\nAn edit, {i} {time.time()}.\\n")
        c, w = time.process_time(), time.perf_counter()
        builder.build(paths={rel})
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
print(json.dumps({"cpu": cpu, "wall": wall}))
"""


def _tree(work: Path, rev: str) -> Path:
    """REV's source, checked out (once) below ``work``."""
    where = work / f"rev-{rev}"
    if not where.exists():
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), rev],
            check=True,
            capture_output=True,
        )
    return where / "src"


def _site(corpus: bench_build.Site, work: Path, name: str, src: Path) -> Path:
    """A built copy of the corpus for one tree."""
    site = work / f"site-{name}"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    shutil.copytree(corpus.articles, site / "articles")
    shutil.copy(corpus.config, site / "config.toml")
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "-m", "feedpub", "build", "-q", "--config", str(site / "config.toml")],
        check=True,
        env=env,
        timeout=3600,
    )
    return site


def _round(site: Path, src: Path, edits: int, rel: str) -> dict[str, list[float]]:
    out = subprocess.run(
        [sys.executable, "-c", EDIT_LOOP, str(site), str(edits), rel],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        timeout=3600,
    )
    found: dict[str, list[float]] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--against", default="017c82f", help="the revision to compare with")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "feedpub-bench")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    corpus, note = bench_build.prepare_site(work, args.count)
    print(f"corpus: {args.count} articles ({note})", flush=True)
    rel = bench_build.newest_article_path(args.count)
    trees = {"this": REPO / "src", args.against: _tree(work, args.against)}
    sites = {name: _site(corpus, work, name, src) for name, src in trees.items()}
    cpu: dict[str, list[float]] = {name: [] for name in trees}
    for n in range(1, args.rounds + 1):
        medians = {}
        for name, src in trees.items():
            found = _round(sites[name], src, args.edits, rel)
            cpu[name] += found["cpu"]
            medians[name] = statistics.median(found["cpu"]) * 1000
            wall = statistics.median(found["wall"]) * 1000
            print(f"round {n} {name:>10}: cpu med {medians[name]:7.1f} ms, wall med {wall:7.1f} ms")
        print(f"round {n}: this / {args.against} = {medians['this'] / medians[args.against]:.2f}")
    this = statistics.median(cpu["this"]) * 1000
    base = statistics.median(cpu[args.against]) * 1000
    print(
        f"all rounds: cpu per build {this:.1f} ms vs {base:.1f} ms at {args.against}: "
        f"{this / base:.2f}x ({args.edits} edits x {args.rounds} rounds each)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
