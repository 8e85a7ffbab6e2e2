"""The command line, run as a real process where it matters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from feedpub.cli import main
from tests.conftest import Site

REPO = Path(__file__).parent.parent


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "feedpub", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_build_the_bundled_sample_site(tmp_path: Path) -> None:
    shutil.copytree(REPO / "articles", tmp_path / "articles")
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    proc = _run("build", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "9 articles (7 published, 1 scheduled, 1 drafts)" in proc.stdout
    assert "next scheduled article goes live at 2098-12-31T23:00:00+00:00" in proc.stdout
    assert "0 problems" in proc.stdout
    for name in ("all", "news", "tech-news", "café-culture", "tutorials", "podcast"):
        assert (tmp_path / "public" / "feeds" / f"{name}.atom.xml").is_file()
    again = _run("build", cwd=tmp_path)
    assert "0 files written" in again.stdout
    check = _run("check", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_help_on_every_command(tmp_path: Path) -> None:
    for args in (["--help"], ["build", "--help"], ["check", "--help"], ["init", "--help"]):
        proc = _run(*args, cwd=tmp_path)
        assert proc.returncode == 0
        assert "usage: feedpub" in proc.stdout
        assert "--config" in proc.stdout or args in (["--help"], ["init", "--help"])


def test_problems_exit_codes(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.article("good.md", "Good", "2025-01-01T00:00:00Z")
    site.write("bad.md", "---\ntitle: x\ndate: 2024-02-30\n---\n")
    cfg = str(site.config_path)
    assert main(["build", "--config", cfg]) == 0
    out = capsys.readouterr()
    assert "bad.md:3: error: " in out.err
    assert "1 problems" in out.out
    assert main(["build", "--config", cfg, "--strict"]) == 1
    capsys.readouterr()
    assert main(["check", "--config", cfg]) == 1
    assert capsys.readouterr().out.startswith("bad.md:3: error: ")


def test_config_error_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[site]\ntitle = "T"\nbase_url = "https://e.org/"\nextra = 1\n')
    assert main(["build", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err == f"feedpub: error: {cfg}: site.extra: unknown key\n"


def test_init_then_build(tmp_path: Path) -> None:
    proc = _run("init", str(tmp_path / "new"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "new" / "config.toml").is_file()
    build = _run("build", cwd=tmp_path / "new")
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "new" / "public" / "feeds" / "news.atom.xml").is_file()
    again = _run("init", str(tmp_path / "new"), cwd=tmp_path)
    assert "exists, left alone" in again.stdout


def test_build_and_check_name_every_skipped_file(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("good.md", "Good", "2025-01-01T00:00:00Z")
    secret = site.root / "secret.md"
    secret.write_text("---\ntitle: Secret\n---\n", encoding="utf-8")
    (site.articles / "a-link.md").symlink_to(secret)
    (site.articles / "b-link.md").symlink_to(secret)
    (site.articles / "folder.md").mkdir()
    site.write("good.md~", "an editor backup: no article, never reported")
    cfg = str(site.config_path)
    assert main(["build", "--config", cfg]) == 0
    out = capsys.readouterr()
    assert (
        "; 0 problems; 3 files skipped: 2 symlinks outside the articles folder, "
        "1 not a regular file; "
    ) in out.out
    lines = [line for line in out.err.splitlines() if "skipped" in line]
    assert len(lines) == 3
    assert "WARNING" in lines[0]
    assert lines[0].endswith("a-link.md: skipped: a symlink leading outside the articles folder")
    assert lines[2].endswith(
        "folder.md: skipped: a folder named like an article (the articles inside it are read)"
    )
    assert "good.md~" not in out.err
    assert main(["build", "--config", cfg, "--strict"]) == 0  # not article problems
    capsys.readouterr()
    assert main(["check", "--config", cfg]) == 0
    out = capsys.readouterr()
    assert out.out == ""
    assert len([line for line in out.err.splitlines() if ": skipped: " in line]) == 3
    assert out.err.rstrip().endswith(
        "1 articles checked, 0 problems, "
        "3 files skipped: 2 symlinks outside the articles folder, 1 not a regular file"
    )


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _descendants(pid: int) -> set[int]:
    """Every live process whose parent chain leads to ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for child, parent in parents.items():
            if parent == p and child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_kill_9_of_a_build_leaves_no_process_and_no_temporary_file(site: Site) -> None:
    """Workers die with the build that started them; what it left half-written is removed
    by the next build."""
    import signal
    import time

    for i in range(40):  # files that keep the workers busy for a while
        site.write(f"heavy/{i:02}.md", "---\ntitle: H\ndate: 2025-01-01\n---\n" + "[" * 1_500_000)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "build", "--config", str(site.config_path), "-j", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while len(_descendants(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = _descendants(proc.pid)
    assert len(workers) >= 2  # parsing, in worker processes
    (site.output / "feeds").mkdir(parents=True, exist_ok=True)
    half = site.output / "feeds" / ".all.atom.xml.k1ll3d9x.tmp"
    half.write_bytes(b"<feed")  # as a write cut short would leave it
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)]
    for path in (site.articles / "heavy").iterdir():  # quick to parse this time
        path.write_text("---\ntitle: H\ndate: 2025-01-01\n---\nLight.\n")
    done = _run("build", "--config", str(site.config_path), cwd=site.root)
    assert done.returncode == 0, done.stderr
    assert not half.exists()
