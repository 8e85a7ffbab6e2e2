"""cli_progress.py: ``feedpub build``'s progress. The real command on a pseudo-terminal, its
output read back as a terminal shows it (carriage returns, erase-line, wrapping): one line per
stage, nothing left of the live line, a log record mid-stage on a line of its own; through a
pipe or with ``-q``, no progress byte at all. And the display alone, on a fake clock."""

from __future__ import annotations

import fcntl
import importlib.util
import io
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from feedpub.cli_progress import ERASE_LINE, StageProgress
from tests.conftest import BASE_CONFIG

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 500  # (wide: the summary and log lines fit on one line each)
STAGE_LINE = re.compile(r"^(parse|render|write): [\d,]+ files in \d+\.\d s( \([\d,]+/s\))?$")


def screen(output: bytes, columns: int = COLUMNS) -> list[str]:
    """The lines a terminal ``columns`` wide shows after ``output``: printable characters
    overwrite, CR returns to the line's start, LF goes down, ESC [ K erases to the line's end,
    a full line wraps. Any other control or escape sequence fails the test (garbage)."""
    lines: list[list[str]] = [[]]
    row = col = 0
    text = output.decode("utf-8")
    i = 0
    while i < len(text):
        c = text[i]
        if text.startswith("\x1b[K", i):
            del lines[row][col:]
            i += 3
            continue
        i += 1
        if c == "\r":
            col = 0
        elif c == "\n":
            row += 1
            col = 0
            if row == len(lines):
                lines.append([])
        elif c < " " or c == "\x7f":
            raise AssertionError(f"unexpected control character {c!r} at {i - 1}: {text!r}")
        else:
            if col == columns:  # wrapped
                row, col = row + 1, 0
                if row == len(lines):
                    lines.append([])
            line = lines[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = c
            else:
                line.append(c)
            col += 1
    while lines and not lines[-1]:
        lines.pop()
    return ["".join(line) for line in lines]


def test_the_screen_reader_itself() -> None:
    assert screen(b"render: 0/114\rparse: 10000/10000 \x1b[K\r\nx") == ["parse: 10000/10000 ", "x"]
    assert screen(b"parse: 10000/10000 \rrender: 0/114 ") == ["render: 0/114 0000 "]  # the old bug
    assert screen(b"a" * 7, columns=5) == ["aaaaa", "aa"]
    with pytest.raises(AssertionError, match="unexpected control"):
        screen(b"\x1b[2J")


# --- the real command -----------------------------------------------------------------------


def _corpus(tmp_path: Path, count: int, extra: str = "") -> Path:
    """A site of ``count`` generated articles (benchmarks/gen_corpus.py)."""
    spec = importlib.util.spec_from_file_location("gen_corpus", ROOT / "benchmarks/gen_corpus.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules["gen_corpus"] = gen  # (its dataclasses look their module up)
    spec.loader.exec_module(gen)
    gen.generate(tmp_path, count, words=60)
    config = tmp_path / "config.toml"
    # (a real host: the placeholder warning of example.org is not what this looks at)
    config.write_text(BASE_CONFIG.replace("example.org", "blog.example.dev") + extra, "utf-8")
    return config


def _on_a_terminal(args: list[str], cwd: Path, timeout: float = 240.0) -> tuple[int, bytes]:
    """Run ``feedpub ARGS`` with stdin, stdout and stderr on a pseudo-terminal COLUMNS wide;
    its exit status and every byte it wrote there."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, COLUMNS, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", *args],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every end of the terminal is closed
                break
            if not chunk:
                break
            out += chunk
        else:
            raise AssertionError(f"feedpub {' '.join(args)} did not end: {bytes(out)!r}")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        status = proc.wait(30)
    return status, bytes(out)


def test_one_line_per_stage_on_a_terminal(tmp_path: Path) -> None:
    config = _corpus(tmp_path, 300)
    status, out = _on_a_terminal(["build", "-c", str(config), "-j", "2"], tmp_path)
    assert status == 0, out
    assert ERASE_LINE.encode() in out  # the live line was drawn, and erased
    lines = screen(out)
    stages = [line for line in lines if STAGE_LINE.match(line)]
    assert [s.split(":")[0] for s in stages] == ["parse", "render"], lines
    assert stages[0].startswith("parse: 300 files in ")
    assert lines[:2] == stages  # first, and nothing between them
    assert lines[2].startswith("300 articles (300 published"), lines
    assert lines[-1] == f"output: {tmp_path / 'public'}"
    assert len(lines) == 4, lines
    # nothing to do: no stage, no progress
    status, out = _on_a_terminal(["build", "-c", str(config)], tmp_path)
    assert status == 0
    assert b"\x1b" not in out and b"\r" not in out.replace(b"\r\n", b"\n")
    assert screen(out)[0].startswith("300 articles")


def test_a_log_record_mid_stage_gets_a_line_of_its_own(tmp_path: Path) -> None:
    """A broken stylesheet of the site's is logged as an error while the render stage's live
    line is on the screen: the line is erased first, the record stands alone, the stage
    still ends with its one line."""
    (tmp_path / "feed.xsl").write_text("<xsl:stylesheet", encoding="utf-8")
    config = _corpus(tmp_path, 120, 'stylesheet = "feed.xsl"\n')
    status, out = _on_a_terminal(["build", "-c", str(config), "-j", "0"], tmp_path)
    assert status == 0, out
    lines = screen(out)
    logged = [i for i, line in enumerate(lines) if " ERROR feedpub.build.render: " in line]
    assert len(logged) == 1, lines
    record = lines[logged[0]]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ERROR feedpub\.build\.render: ", record)
    assert record.endswith("([feeds] stylesheet)"), record
    stages = [line for line in lines if STAGE_LINE.match(line)]
    assert [s.split(":")[0] for s in stages] == ["parse", "render"], lines
    assert lines.index(stages[1]) > logged[0]  # (logged during the render stage)
    for line in lines:  # every line is whole: a stage's, the record, the problem, the summary
        assert (
            STAGE_LINE.match(line)
            or line == record
            or line.startswith(("public/feeds/feed.xsl: error: ", "120 articles (", "output: "))
        ), line


def test_no_progress_through_a_pipe_or_with_q(tmp_path: Path) -> None:
    config = _corpus(tmp_path, 120)
    done = subprocess.run(
        [sys.executable, "-m", "feedpub", "build", "-c", str(config)],
        cwd=tmp_path,
        capture_output=True,
        timeout=240,
        check=True,
    )
    assert done.stderr == b""  # no progress byte at all
    assert done.stdout.startswith(b"120 articles (120 published")
    (tmp_path / "articles" / "000" / "00001-new.md").write_text("---\ntitle: New\n---\nx\n")
    status, out = _on_a_terminal(["build", "-c", str(config), "-q"], tmp_path)
    assert status == 0
    assert out == b""


# --- the display alone ------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_live_line_then_one_line_per_stage() -> None:
    out, clock = io.StringIO(), _Clock()
    progress = StageProgress(out, live=True, clock=clock)
    progress("parse", 0, 10_000)
    for done in range(50, 10_000, 50):
        clock.now += 0.0105
        progress("parse", done, 10_000)
    clock.now += 0.0105
    progress("parse", 10_000, 10_000)
    progress("render", 0, 114)
    progress.close()
    text = out.getvalue()
    assert "\r\x1b[Kparse: 5,000/10,000 files, 4,762/s, 2 s left\r" in text
    assert screen(text.encode()) == ["parse: 10,000 files in 2.1 s (4,762/s)"]
    # redrawn at most every 0.1 s: about 21 times in 2.1 s, not 200
    assert 15 <= text.count(ERASE_LINE) <= 30


def test_a_stage_the_build_left_is_erased_not_reported() -> None:
    out = io.StringIO()
    progress = StageProgress(out, live=True, clock=_Clock())
    progress("parse", 0, 10)
    progress("render", 0, 3)
    progress("render", 3, 3)
    assert screen(out.getvalue().encode()) == ["render: 3 files in 0.0 s"]


def test_not_live_writes_nothing() -> None:
    out = io.StringIO()
    progress = StageProgress(out, live=False)
    progress("parse", 0, 10)
    progress("parse", 10, 10)
    progress.close()
    with progress.around_logging():
        pass
    assert out.getvalue() == ""


def test_a_long_stage_name_never_wraps(monkeypatch: pytest.MonkeyPatch) -> None:
    out, clock = io.StringIO(), _Clock()
    progress = StageProgress(out, live=True, clock=clock)
    monkeypatch.setattr(progress, "_width", lambda: 30)
    progress("x" * 50, 0, 10)
    clock.now += 1
    progress("x" * 50, 5, 10)
    assert all(len(line) < 30 for line in screen(out.getvalue().encode(), columns=30))


def test_log_records_around_the_live_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    out = io.StringIO()
    progress = StageProgress(out, live=True, clock=_Clock())
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    with progress.around_logging():
        progress("render", 0, 10)
        logging.getLogger("feedpub.x").warning("careful")
        progress("render", 10, 10)
    assert root.handlers == [handler]
    assert out.getvalue() == (
        f"{ERASE_LINE}render: 0/10 files{ERASE_LINE}careful\n"
        f"{ERASE_LINE}render: 0/10 files{ERASE_LINE}render: 10 files in 0.0 s\n"
    )
    # in a forked worker (another pid) the record erases the line and writes, no more
    out.truncate(0)
    out.seek(0)
    with progress.around_logging():
        progress("parse", 0, 10)
        monkeypatch.setattr(os, "getpid", lambda: -1)
        logging.getLogger("feedpub.x").warning("from a worker")
    assert out.getvalue() == f"{ERASE_LINE}parse: 0/10 files{ERASE_LINE}from a worker\n"
