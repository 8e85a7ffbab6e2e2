"""Build benchmark for feedpub: cold, no-change, one-added and one-edited builds vs Hugo.

Usage::

    python benchmarks/bench_build.py [--count 10000] [--count 50000] [--repeat 3] [--work DIR]

Run it with the Python that has feedpub installed (``/tmp/venv/bin/python``). For each corpus size
it generates (or reuses) ``WORK/nCOUNT/articles`` with ``gen_corpus.py``, writes ``config.toml``
next to it, warms the page cache, then times whole processes
(``sys.executable -m feedpub build --config ... -q``), ``--repeat`` times each, and reports
medians next to Hugo's time on the same corpus (``hugo_baseline.run_hugo``) and a floor (one
Python process reading every file and parsing its front matter with ``yaml.CSafeLoader``).
The table is printed and written as JSON to ``benchmarks/results/latest.json``.

Memory is measured two ways (see ``MEMORY_METHOD``): the kernel's max RSS of the process tree
from ``os.wait4`` (the largest single process, *not* a sum), and a sampled peak of the summed
PSS/RSS of the whole tree (parent + workers), taken in one extra, untimed run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gen_corpus
import hugo_baseline

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.json"
SEED = 1
CATEGORIES = 24  # gen_corpus default
EXPECTED_FEEDS = CATEGORIES + 1  # every category + "all"
MAX_ENTRIES = 20
FEED_SUFFIXES = ("atom.xml", "rss.xml", "json")
ADDED_DIR = "zz-bench-added"  # under articles/; removed before and after every size
ATOM = "{http://www.w3.org/2005/Atom}"
MIB = 1024 * 1024

CONFIG_TOML = """\
[site]
title = "Bench"
base_url = "https://bench.example.dev/"  # (a placeholder host would add a warning line)
timezone = "UTC"
[paths]
articles = "articles"
output = "public"
state = ".feedpub/state.sqlite3"
[feeds]
max_entries = 20
"""

MEMORY_METHOD = (
    "max RSS = ru_maxrss from os.wait4() on the child (same number /usr/bin/time -v prints): "
    "the largest single process in the tree (parent or one worker), NOT a sum over "
    "concurrently running workers. tree PSS/RSS = sum over the child and all its descendants "
    "of Pss/Rss from /proc/PID/smaps_rollup, sampled every 10 ms in one extra untimed run; "
    "PSS splits pages shared by forked workers fairly, RSS sum double-counts them."
)

# Runs in a fresh interpreter: read every article, parse its front matter with CSafeLoader.
FLOOR_SCRIPT = """\
import os, sys, time
t0 = time.perf_counter()
import yaml
load, loader = yaml.load, yaml.CSafeLoader
n = 0
stack = [sys.argv[1]]
while stack:
    with os.scandir(stack.pop()) as it:
        for e in it:
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            elif e.name.endswith(".md"):
                with open(e.path, "rb") as f:
                    text = f.read().decode("utf-8")
                if text.startswith("---\\n"):
                    meta = load(text[4:text.index("\\n---\\n", 3)], Loader=loader)
                    n += isinstance(meta, dict)
print(n, time.perf_counter() - t0)
"""

HUGO_CHILD = """\
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import hugo_baseline
hugo_baseline.run_hugo(Path(sys.argv[2]), Path(sys.argv[3]))
"""


class BenchError(RuntimeError):
    """A measured command failed."""


# ---------------------------------------------------------------------------------------------
# running and measuring child processes


@dataclass
class Proc:
    seconds: float
    maxrss_kib: int  # ru_maxrss of the child tree (largest single process)
    stdout: str
    stderr: str
    tree_pss_kib: int = 0  # sampled peak; 0 unless sampled
    tree_rss_kib: int = 0


class TreeSampler(threading.Thread):
    """Samples the summed Pss/Rss of a process and all its descendants."""

    def __init__(self, root: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak_pss_kib = 0
        self.peak_rss_kib = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(name))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, ()))
        return tree

    def sample(self) -> None:
        pss = rss = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1])
                        elif line.startswith("Rss:"):
                            rss += int(line.split()[1])
            except (OSError, ValueError):
                continue  # exited between listing and reading
        self.samples += 1
        self.peak_pss_kib = max(self.peak_pss_kib, pss)
        self.peak_rss_kib = max(self.peak_rss_kib, rss)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_proc(cmd: Sequence[str], *, sample_tree: bool = False, check: bool = True) -> Proc:
    """Run ``cmd`` to completion; wall time, ru_maxrss via wait4, optionally a tree sampler."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid) if sample_tree else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if sampler:
            sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Proc(
            seconds=seconds,
            maxrss_kib=usage.ru_maxrss,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            tree_pss_kib=sampler.peak_pss_kib if sampler else 0,
            tree_rss_kib=sampler.peak_rss_kib if sampler else 0,
        )
    if check and proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{result.stderr[-2000:]}")
    return result


# ---------------------------------------------------------------------------------------------
# corpus and site


@dataclass
class Site:
    dir: Path
    count: int

    @property
    def articles(self) -> Path:
        return self.dir / "articles"

    @property
    def config(self) -> Path:
        return self.dir / "config.toml"

    @property
    def public(self) -> Path:
        return self.dir / "public"

    @property
    def feeds(self) -> Path:
        return self.public / "feeds"

    @property
    def hugo_dir(self) -> Path:
        return self.dir / "hugo"

    @property
    def edit_backup(self) -> Path:
        return self.dir / "edit-backup.json"

    def build_cmd(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "feedpub",
            "build",
            "--config",
            str(self.config),
            "-q",
            *extra,
        ]

    def build(self, *, sample_tree: bool = False) -> Proc:
        result = run_proc(self.build_cmd(), sample_tree=sample_tree)
        if result.stderr.strip():
            raise BenchError(f"feedpub reported problems:\n{result.stderr[-2000:]}")
        return result

    def clean_output(self) -> None:
        shutil.rmtree(self.public, ignore_errors=True)
        shutil.rmtree(self.dir / ".feedpub", ignore_errors=True)


def _generator_fingerprint() -> str:
    return hashlib.sha256((HERE / "gen_corpus.py").read_bytes()).hexdigest()


def _count_articles(root: Path) -> int:
    return sum(1 for _, _, files in os.walk(root) for name in files if name.endswith(".md"))


def restore_corpus(site: Site) -> None:
    """Undo what an interrupted earlier run may have left: added files, an edited article."""
    shutil.rmtree(site.articles / ADDED_DIR, ignore_errors=True)
    if site.edit_backup.exists():
        backup = json.loads(site.edit_backup.read_text(encoding="utf-8"))
        (site.articles / backup["path"]).write_text(backup["text"], encoding="utf-8", newline="")
        site.edit_backup.unlink()


def prepare_site(work: Path, count: int) -> tuple[Site, str]:
    site = Site(work / f"n{count}", count)
    site.dir.mkdir(parents=True, exist_ok=True)
    marker = site.dir / "corpus.json"
    want = {"count": count, "seed": SEED, "categories": CATEGORIES, "gen": _generator_fingerprint()}
    restore_corpus(site)
    reused = False
    if marker.exists() and site.articles.is_dir():
        have = json.loads(marker.read_text(encoding="utf-8"))
        reused = have == want and _count_articles(site.articles) == count
    if reused:
        note = "reused"
    else:
        marker.unlink(missing_ok=True)
        start = time.perf_counter()
        gen_corpus.generate(site.dir, count, seed=SEED, categories=CATEGORIES)
        marker.write_text(json.dumps(want), encoding="utf-8")
        note = f"generated in {time.perf_counter() - start:.1f}s"
    site.config.write_text(CONFIG_TOML, encoding="utf-8")
    return site, note


def warm_cache(root: Path) -> int:
    """Read every file under ``root`` once; returns total bytes."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                total += len(f.read())
    return total


def newest_article_path(count: int) -> str:
    """Path (relative to articles/) of the corpus's newest article: the top of every feed."""
    metas = gen_corpus.make_articles(random.Random(SEED), count, CATEGORIES)
    return max(metas, key=lambda a: a.date).path


# ---------------------------------------------------------------------------------------------
# correctness checks


@dataclass
class Checks:
    results: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append({"check": name, "ok": ok, "detail": detail})
        return ok

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["ok"]]


def _atom_entries(path: Path) -> list[ET.Element]:
    return ET.parse(path).getroot().findall(f"{ATOM}entry")


def check_cold_output(site: Site, checks: Checks) -> None:
    prefix = f"n={site.count}"
    atom = site.feeds / "all.atom.xml"
    if checks.add(f"{prefix}: all.atom.xml exists", atom.is_file(), str(atom)):
        n = len(_atom_entries(atom))
        checks.add(f"{prefix}: all.atom.xml has {MAX_ENTRIES} entries", n == MAX_ENTRIES, f"{n}")
    rss = site.feeds / "all.rss.xml"
    if rss.is_file():
        n = len(ET.parse(rss).getroot().findall("channel/item"))
        checks.add(f"{prefix}: all.rss.xml has {MAX_ENTRIES} items", n == MAX_ENTRIES, f"{n}")
    jsn = site.feeds / "all.json"
    if jsn.is_file():
        n = len(json.loads(jsn.read_text(encoding="utf-8")).get("items", []))
        checks.add(f"{prefix}: all.json has {MAX_ENTRIES} items", n == MAX_ENTRIES, f"{n}")
    names = [p.name for p in site.feeds.iterdir()] if site.feeds.is_dir() else []
    per_format = {s: sum(1 for n in names if n.endswith("." + s)) for s in FEED_SUFFIXES}
    total = sum(per_format.values())
    checks.add(
        f"{prefix}: {EXPECTED_FEEDS} feeds x {len(FEED_SUFFIXES)} formats",
        all(v == EXPECTED_FEEDS for v in per_format.values()),
        f"{total} feed files {per_format}",
    )


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for folder, _, files in os.walk(root):
        for name in files:
            st = os.stat(os.path.join(folder, name))
            out[os.path.relpath(os.path.join(folder, name), root)] = (st.st_mtime_ns, st.st_size)
    return out


def all_feed_text(site: Site) -> str:
    return (site.feeds / "all.atom.xml").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# the benchmark


@dataclass
class Metric:
    name: str
    unit: str  # "s" or "MiB"
    runs: list[float]
    target: str = ""
    ok: bool | None = None
    ratio_to_hugo: float | None = None
    note: str = ""

    @property
    def value(self) -> float:
        return statistics.median(self.runs)

    def as_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "median": round(self.value, 4),
            "runs": [round(r, 4) for r in self.runs],
            "ratio_to_hugo": None if self.ratio_to_hugo is None else round(self.ratio_to_hugo, 3),
            "target": self.target or None,
            "ok": self.ok,
            "note": self.note or None,
        }


def _repeat(n: int, before: Callable[[int], None], run: Callable[[int], Proc]) -> list[Proc]:
    results = []
    for i in range(n):
        before(i)
        results.append(run(i))
    return results


def bench_size(
    work: Path, count: int, repeat: int, checks: Checks, log: Callable[[str], None]
) -> dict[str, Any]:
    t_size = time.perf_counter()
    site, note = prepare_site(work, count)
    log(f"[n={count}] corpus {site.articles} {note}")
    warmed = warm_cache(site.articles)
    log(f"[n={count}] page cache warmed ({warmed / MIB:.0f} MiB)")
    metrics: dict[str, Metric] = {}
    prefix = f"n={count}"

    # cold
    cold = _repeat(repeat, lambda _: site.clean_output(), lambda _: site.build())
    check_cold_output(site, checks)
    metrics["cold"] = Metric("cold build", "s", [p.seconds for p in cold])
    log(f"[n={count}] cold: {[round(p.seconds, 3) for p in cold]}")

    # cold, once more, untimed, with the process-tree memory sampler
    site.clean_output()
    sampled = site.build(sample_tree=True)
    metrics["cold_maxrss"] = Metric(
        "cold peak max RSS (largest process)", "MiB", [p.maxrss_kib / 1024 for p in cold]
    )
    metrics["cold_tree_pss"] = Metric(
        "cold peak tree PSS (sum, sampled)", "MiB", [sampled.tree_pss_kib / 1024]
    )
    metrics["cold_tree_rss"] = Metric(
        "cold peak tree RSS (sum, sampled)", "MiB", [sampled.tree_rss_kib / 1024]
    )

    # no change
    before = snapshot(site.public)
    nochange = _repeat(repeat, lambda _: None, lambda _: site.build())
    after = snapshot(site.public)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    checks.add(
        f"{prefix}: no-change rebuild leaves public/ untouched",
        not changed,
        f"{len(changed)} files changed/added/removed {changed[:3]}",
    )
    metrics["nochange"] = Metric("no-change rebuild", "s", [p.seconds for p in nochange])
    log(f"[n={count}] no-change: {[round(p.seconds, 3) for p in nochange]}")

    # one added (a distinct new article each time, newest of all, existing category)
    token = f"{os.getpid()}-{int(time.time())}"
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    added_dir = site.articles / ADDED_DIR
    added_titles: list[str] = []

    def add_one(i: int) -> None:
        art = gen_corpus.Article(
            number=count + 1 + i,
            title=f"Bench added {i} {token}",
            slug=f"bench-added-{i}-{token}",
            date=base + timedelta(minutes=i),
            categories=["Category 1"],
            tags=["tag1"],
            author="Ada Lovelace",
            summary="A benchmark article.",
        )
        added_dir.mkdir(exist_ok=True)
        text = gen_corpus.render(art, f"Added by the benchmark, run {i}.\n")
        (added_dir / f"{art.stem}.md").write_text(text, encoding="utf-8", newline="\n")
        added_titles.append(art.title)

    def build_and_check_added(i: int) -> Proc:
        p = site.build()
        if i == 0:
            checks.add(
                f"{prefix}: one-added article appears in all.atom.xml",
                added_titles[-1] in all_feed_text(site),
            )
        return p

    try:
        added = _repeat(repeat, add_one, build_and_check_added)
    finally:
        shutil.rmtree(added_dir, ignore_errors=True)
    site.build()  # untimed: back to the corpus as generated
    metrics["added"] = Metric(
        "one-added rebuild", "s", [p.seconds for p in added], note="distinct new file each run"
    )
    log(f"[n={count}] one-added: {[round(p.seconds, 3) for p in added]}")

    # one edited: append a line to the newest article (in 'all' and its category feeds)
    rel = newest_article_path(count)
    target = site.articles / rel
    original = target.read_text(encoding="utf-8")
    checks.add(
        f"{prefix}: edit target is in all.atom.xml",
        original.split("\n", 2)[1].removeprefix("title: ").strip('"') in all_feed_text(site),
        rel,
    )
    site.edit_backup.write_text(json.dumps({"path": rel, "text": original}), encoding="utf-8")
    marks: list[str] = []

    def edit_one(i: int) -> None:
        marks.append(f"Benchedit{i}x{token.replace('-', 'x')}")
        with open(target, "a", encoding="utf-8", newline="\n") as f:
            f.write(f"\n{marks[-1]} appended line.\n")

    def build_and_check_edit(i: int) -> Proc:
        p = site.build()
        if i == 0:
            checks.add(
                f"{prefix}: edited text appears in all.atom.xml", marks[-1] in all_feed_text(site)
            )
        return p

    try:
        edited = _repeat(repeat, edit_one, build_and_check_edit)
    finally:
        restore_corpus(site)
    site.build()  # untimed
    metrics["edited"] = Metric("one-edited rebuild", "s", [p.seconds for p in edited])
    log(f"[n={count}] one-edited: {[round(p.seconds, 3) for p in edited]}")

    # Hugo
    hugo: dict[str, Any] = {"available": hugo_baseline.hugo_available() is not None}
    if hugo["available"]:
        try:
            times = [hugo_baseline.run_hugo(site.dir, site.hugo_dir) for _ in range(repeat)]
            metrics["hugo"] = Metric("hugo (feeds only)", "s", times)
            hp = run_proc(
                [sys.executable, "-c", HUGO_CHILD, str(HERE), str(site.dir), str(site.hugo_dir)],
                sample_tree=True,
            )
            metrics["hugo_maxrss"] = Metric(
                "hugo peak max RSS (largest process)", "MiB", [hp.maxrss_kib / 1024]
            )
            metrics["hugo_tree_pss"] = Metric(
                "hugo peak tree PSS (sum, sampled)",
                "MiB",
                [hp.tree_pss_kib / 1024],
                note="includes a ~10 MiB Python wrapper",
            )
            log(f"[n={count}] hugo: {[round(t, 3) for t in times]}")
        except hugo_baseline.HugoError as e:
            hugo["error"] = str(e)
            checks.add(f"{prefix}: hugo ran", False, str(e))

    # floor: read + CSafeLoader front matter, one process
    floor = [
        run_proc([sys.executable, "-c", FLOOR_SCRIPT, str(site.articles)]) for _ in range(repeat)
    ]
    parsed = {int(p.stdout.split()[0]) for p in floor}
    checks.add(f"{prefix}: floor parsed every article", parsed == {count}, f"{parsed}")
    metrics["floor"] = Metric(
        "floor: read+CSafeLoader (whole process)", "s", [p.seconds for p in floor]
    )
    metrics["floor_inproc"] = Metric(
        "floor: in-process part",
        "s",
        [float(p.stdout.split()[1]) for p in floor],
        note="includes 'import yaml'",
    )
    log(f"[n={count}] floor: {[round(p.seconds, 3) for p in floor]}")

    # ratios and targets
    reference = {"cold_maxrss": "hugo_maxrss", "cold_tree_pss": "hugo_tree_pss"}
    for key, m in metrics.items():
        ref_key = "hugo" if m.unit == "s" else reference.get(key)
        if ref_key in metrics:
            m.ratio_to_hugo = m.value / metrics[ref_key].value
    cold_m = metrics["cold"]
    cold_m.target = "<= 0.6x hugo"
    cold_m.ok = None if cold_m.ratio_to_hugo is None else cold_m.ratio_to_hugo <= 0.6
    if count == 10_000:
        for key in ("nochange", "added"):
            metrics[key].target = "< 0.25 s @10k"
            metrics[key].ok = metrics[key].value < 0.25
    if count == 50_000:
        for key in ("cold_maxrss", "cold_tree_pss"):
            metrics[key].target = "< 150 MiB @50k"
            metrics[key].ok = metrics[key].value < 150
    return {
        "count": count,
        "corpus": str(site.dir),
        "corpus_note": note,
        "seconds_for_this_size": round(time.perf_counter() - t_size, 1),
        "metrics": {k: {"name": m.name, **m.as_json()} for k, m in metrics.items()},
        "hugo": hugo,
        "_metrics": metrics,
    }


def format_table(sizes: list[dict[str, Any]]) -> str:
    head = f"{'n':>6}  {'metric':<40} {'median':>10} {'x hugo':>7}  {'target':<15} {'ok':<4}"
    lines = [head, "-" * len(head)]
    for size in sizes:
        for m in size["_metrics"].values():
            value = f"{m.value:.3f} s" if m.unit == "s" else f"{m.value:.0f} MiB"
            ratio = "" if m.ratio_to_hugo is None else f"{m.ratio_to_hugo:.2f}"
            ok = "" if m.ok is None else ("PASS" if m.ok else "FAIL")
            lines.append(
                f"{size['count']:>6}  {m.name:<40} {value:>10} {ratio:>7}  {m.target:<15} {ok:<4}"
            )
        lines.append("")
    return "\n".join(lines)


def _hugo_version() -> str | None:
    hugo = hugo_baseline.hugo_available()
    if hugo is None:
        return None
    out = subprocess.run([hugo, "version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark feedpub builds against Hugo.")
    parser.add_argument("--count", type=int, action="append", help="corpus size (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedpub-bench",
        help="where corpora and outputs live; reused between runs (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    counts: list[int] = args.count or [10_000]
    if args.repeat < 1 or any(c < MAX_ENTRIES for c in counts):
        parser.error(f"--repeat must be >= 1 and --count >= {MAX_ENTRIES}")
    probe = subprocess.run(
        [sys.executable, "-c", "import feedpub, yaml; yaml.CSafeLoader"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        parser.error(
            f"{sys.executable} cannot import feedpub and yaml (CSafeLoader):\n{probe.stderr}"
        )

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    checks = Checks()
    sizes: list[dict[str, Any]] = []
    failure: str | None = None
    for count in counts:
        try:
            sizes.append(bench_size(args.work.resolve(), count, args.repeat, checks, log))
        except BenchError as e:
            failure = f"n={count}: {e}"
            checks.add(f"n={count}: benchmark completed", False, str(e))
            break
    runtime = time.perf_counter() - started

    table = format_table(sizes)
    print(table)
    print(f"memory: {MEMORY_METHOD}")
    for c in checks.results:
        print(
            f"check {'ok  ' if c['ok'] else 'FAIL'} {c['check']}"
            + (f"  ({c['detail']})" if c["detail"] else "")
        )
    print(f"total runtime: {runtime:.1f}s")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "hugo_version": _hugo_version(),
        "repeat": args.repeat,
        "work": str(args.work),
        "runtime_seconds": round(runtime, 1),
        "memory_method": MEMORY_METHOD,
        "sizes": [{k: v for k, v in s.items() if k != "_metrics"} for s in sizes],
        "checks": checks.results,
        "failure": failure,
        "table": table,
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
