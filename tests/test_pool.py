"""feedpub.pool: untrusted work in worker processes, each item under a wall-clock budget."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedpub.pool import Cancelled, Failed, Pool, StartMethod

REPO = Path(__file__).parent.parent
METHODS: list[StartMethod] = ["fork", "spawn"]


def work(item: str) -> str:
    """What the test workers do, by item: module level, so workers can import it."""
    if item == "slow":
        time.sleep(60)
    elif item == "crash":
        ctypes.string_at(0)  # a segmentation fault, as a buggy C library would cause
    elif item == "exit":
        os._exit(3)
    elif item == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif item == "raise":
        raise ValueError("no good")
    elif item == "pid":
        return str(os.getpid())
    return item.upper()


@pytest.fixture(params=METHODS)
def pool(request: pytest.FixtureRequest) -> Iterator[Pool[str, str]]:
    with Pool[str, str](2, budget=1.0, start=request.param, chunk=3) as p:
        yield p


def results(pool: Pool[str, str], items: list[str]) -> dict[str, str | Failed]:
    return {items[i]: r for i, r in pool.run(work, items)}


def test_every_item_is_done_once(pool: Pool[str, str]) -> None:
    items = [f"item{i}" for i in range(50)]
    got = list(pool.run(work, items))
    assert sorted(i for i, _ in got) == list(range(50))
    assert all(r == items[i].upper() for i, r in got)


def test_an_item_over_the_budget_is_stopped_and_the_others_go_on(pool: Pool[str, str]) -> None:
    started = time.monotonic()
    got = results(pool, ["a", "slow", "b", "c", "d", "e", "f"])
    assert time.monotonic() - started < 10  # not the 60 s the slow item would take
    slow = got.pop("slow")
    assert isinstance(slow, Failed)
    assert "took longer than 1 s" in slow.reason
    assert got == {x: x.upper() for x in "abcdef"}


@pytest.mark.parametrize(
    ("item", "how"), [("crash", "SIGSEGV"), ("kill", "SIGKILL"), ("exit", "exit status 3")]
)
def test_a_worker_that_dies_fails_its_item_only(pool: Pool[str, str], item: str, how: str) -> None:
    got = results(pool, ["a", item, "b", "c", "d"])
    failed = got.pop(item)
    assert isinstance(failed, Failed)
    assert "died" in failed.reason and how in failed.reason
    assert got == {x: x.upper() for x in "abcd"}


def test_an_exception_fails_its_item_and_the_worker_carries_on(pool: Pool[str, str]) -> None:
    got = results(pool, ["pid", "raise", "pid"])
    assert got["raise"] == Failed("ValueError: no good")


def test_workers_are_kept_between_runs(pool: Pool[str, str]) -> None:
    first = {r for _, r in pool.run(work, ["pid"])}
    second = {r for _, r in pool.run(work, ["pid"])}
    assert first == second  # the same (warm) worker process


def test_stopping_kills_the_workers_at_once(pool: Pool[str, str]) -> None:
    started = time.monotonic()
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(Cancelled):
        list(pool.run(work, ["slow", "slow"], should_stop=stop))
    assert time.monotonic() - started < 5


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("method", METHODS)
def test_workers_die_with_their_parent(tmp_path: Path, method: str) -> None:
    """kill -9 of the process that started them leaves no worker behind."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from tests.test_pool import work
        from feedpub.pool import Pool
        pool = Pool(2, budget=120, start={method!r}, chunk=1)
        pids = [r for _, r in pool.run(work, ["pid", "pid", "pid", "pid"])]
        print(" ".join(sorted(set(pids))), flush=True)
        for _ in pool.run(work, ["slow", "slow"]):
            pass
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert pids and all(_alive(p) for p in pids)
    time.sleep(0.3)  # the slow items are running now
    proc.kill()
    proc.wait()
    proc.stdout.close()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)
