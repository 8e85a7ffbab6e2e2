"""The command line, run as a real process where it matters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.cli import main
from feedpub.output import WRITING
from tests.conftest import Site, without_placeholder_warning

REPO = Path(__file__).parent.parent


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``feedpub ARGS`` in ``cwd``; its stderr without the placeholder-host warning every
    test site gets (tests/test_cli_config_warnings.py tests that one)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "feedpub", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    proc.stderr = without_placeholder_warning(proc.stderr)
    return proc


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
    for args in (
        ["--help"],
        ["build", "--help"],
        ["check", "--help"],
        ["init", "--help"],
        ["adopt", "--help"],
    ):
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
    # (from a folder the site is not in: the absolute path)
    assert capsys.readouterr().out.startswith(f"{site.articles / 'bad.md'}:3: error: ")


def test_config_error_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[site]\ntitle = "T"\nbase_url = "https://e.org/"\nextra = 1\n')
    assert main(["build", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err == f"{cfg}:4: error: site.extra: unknown key\n"


@pytest.mark.parametrize("command", ["build", "check", "run", "status", "notify", "new"])
def test_every_config_error_at_once_with_its_line_and_the_key_meant(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """The new user's first config: a misspelt key reported as such (not as the key it
    meant, missing), a misspelt section, a bad value: all of them, in the file's order."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text(
        '[site]\ntitle = "T"\nbaseurl = "https://x/"\n\n[feed]\nmax_entries = 3\n\n'
        '[server]\nport = "8080"\n'
    )
    assert main([command, *(["A title"] if command == "new" else [])]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "config.toml:3: error: site.baseurl: unknown key; did you mean `base_url`?",
        "config.toml:5: error: feed: unknown section; did you mean `[feeds]`?",
        "config.toml:9: error: server.port: expected int, got str '8080'",
    ]


def test_a_toml_syntax_error_keeps_its_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[site]\ntitle = "T"\nbase url = "https://x/"\n')
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "config.toml:3: error: invalid TOML: Expected '=' after a key in a key/value pair "
        "(column 6)\n"
    )


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
    half.write_bytes(b"<feed")  # as a write cut short would leave it, with the marker
    (site.output / WRITING).write_bytes(b"")  # its writer set (feedpub.output.writing)
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


def test_an_output_folder_feedpub_did_not_write_is_exit_2_then_adopted(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.output.mkdir()
    (site.output / "index.html").write_text("an old site")
    cfg = str(site.config_path)
    assert main(["build", "--config", cfg]) == 2
    err = without_placeholder_warning(capsys.readouterr().err)
    assert err.count("\n") == 1
    assert err.startswith(f"feedpub: error: {site.output}: holds files feedpub did not write")
    assert "run `feedpub build --adopt` once" in err
    assert main(["build", "--config", cfg, "--adopt"]) == 0
    assert main(["build", "--config", cfg]) == 0
    assert "an old site" not in (site.output / "index.html").read_text()


def _one_line_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str], starts: str, *contains: str
) -> None:
    assert main(argv) == 2
    err = without_placeholder_warning(capsys.readouterr().err)
    assert err.count("\n") == 1, err
    assert err.startswith(f"feedpub: error: {starts}"), err
    for text in contains:
        assert text in err, err


def test_a_state_file_that_is_empty_or_no_database_is_exit_2(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    cfg = str(site.config_path)
    state = site.root / "state" / "state.sqlite3"
    state.parent.mkdir()
    state.write_bytes(b"")
    for command in ("build", "check", "status"):
        _one_line_exit_2([command, "--config", cfg], capsys, f"{state}: the state file is empty")
    assert state.read_bytes() == b""
    assert not site.output.exists()
    state.write_text("[site]\ntitle = 'not a database'\n")
    _one_line_exit_2(["build", "--config", cfg], capsys, f"{state}: not an SQLite database")


def test_a_state_file_with_garbage_in_the_middle_is_exit_2(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(300):
        site.article(f"a{i:03}.md", f"Article {i}", f"2025-01-01T00:{i % 60:02}:00Z")
    cfg = str(site.config_path)
    assert main(["build", "--config", cfg, "-q"]) == 0
    state = site.root / "state" / "state.sqlite3"
    data = bytearray(state.read_bytes())
    assert len(data) > 100_000
    # the header and the schema (the first pages) are intact: it opens; a build fails on
    # the first page it reads in the garbage
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 8 * 4096] = b"\xa5" * (8 * 4096)
    state.write_bytes(bytes(data))
    site.article("a000.md", "Article 0, edited", "2025-01-01T00:00:00Z")
    _one_line_exit_2(
        ["build", "--config", cfg], capsys, f"{state}: the state store failed: ", "malformed"
    )


# --- output and state that cannot be written: exit 2, one line, nothing half-written ---------


def _mount_namespace() -> None:
    if shutil.which("unshare") is None or shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root, unshare(1) and mount(8)")


def _in_own_mounts(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a mount namespace of its own (``$FEEDPUB`` runs feedpub): the
    small file systems it mounts vanish with it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "FEEDPUB": f"{sys.executable} -m feedpub",
    }
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", "set -e\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    proc.stderr = without_placeholder_warning(proc.stderr)
    return proc


def _many(site: Site, count: int = 300) -> None:
    for i in range(count):
        site.article(
            f"a{i:03}.md", f"Article {i}", f"2025-01-01T00:{i % 60:02}:00Z", body="x" * 800
        )


def test_a_full_disk_stops_the_build_with_one_line(site: Site) -> None:
    """The output on a small file system: the build stops at the first file that does not
    fit (exit 2, one line: it went on and said "3057 unchanged", with a line per file),
    leaves every file whole, and the next build, with room, finishes the job."""
    _mount_namespace()
    _many(site)
    site.config_text = site.config_text.replace("max_entries = 5", "max_entries = 300")
    config = site.config_path
    site.output.mkdir()
    proc = _in_own_mounts(
        f"""
        mount -t tmpfs -o size=2m tmpfs {site.output}
        set +e
        $FEEDPUB build -q --config {config} > full.out 2> full.err
        echo $? > full.rc
        set -e
        cp -a {site.output} full-copy
        mount -o remount,size=64m {site.output}
        $FEEDPUB build -q --config {config}
        cp -a {site.output} roomy-copy
        """,
        site.root,
    )
    assert proc.returncode == 0, proc.stderr
    assert (site.root / "full.rc").read_text().strip() == "2"
    err = without_placeholder_warning((site.root / "full.err").read_text())
    assert err.count("\n") == 1, err
    assert err.startswith(f"feedpub: error: {site.output}/"), err
    assert err.endswith(": cannot write: No space left on device\n"), err
    full = site.root / "full-copy"
    files = [p for p in full.rglob("*") if p.is_file()]
    assert (full / "feeds" / "all.atom.xml") in files  # it got somewhere before it filled up
    assert not [p for p in files if p.name.endswith(".tmp")]  # no temporary file left
    for path in files:  # and every file whole
        if path.suffix == ".xml":
            etree.fromstring(path.read_bytes())
        elif path.name.endswith(".html"):
            assert path.read_bytes().rstrip().endswith(b"</html>")
    roomy = site.root / "roomy-copy"
    assert len(feedparser.parse((roomy / "feeds" / "all.atom.xml").read_bytes()).entries) == 300
    assert len(list((roomy / "articles").iterdir())) == 300


def test_a_state_on_a_full_disk_is_one_line(site: Site) -> None:
    """Room for the schema, not for the index of 300 articles: it fills up mid-build."""
    _mount_namespace()
    _many(site)
    state = site.root / "state"
    state.mkdir()
    proc = _in_own_mounts(
        f"""
        mount -t tmpfs -o size=320k tmpfs {state}
        $FEEDPUB build -q --config {site.config_path}
        """,
        site.root,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr == (
        f"feedpub: error: {state}/state.sqlite3: the state store failed: database or disk is full\n"
    )


def test_a_read_only_output_folder_is_one_line(site: Site) -> None:
    _mount_namespace()
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.output.mkdir()
    config = site.config_path
    proc = _in_own_mounts(
        f"""
        mount -t tmpfs tmpfs {site.output}
        $FEEDPUB build -q --config {config}
        mount -o remount,ro {site.output}
        printf -- '---\\ntitle: B\\ndate: 2025-01-02\\n---\\nB\\n' > articles/b.md
        $FEEDPUB build -q --config {config}
        """,
        site.root,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"feedpub: error: {site.output}/"), proc.stderr
    assert proc.stderr.endswith(": cannot write: Read-only file system\n"), proc.stderr


def test_an_output_that_is_a_file_is_one_line(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    site.output.write_text("a file")
    _one_line_exit_2(
        ["build", "--config", str(site.config_path)],
        capsys,
        f"{site.output}: is not a folder (paths.output)",
    )
    site.output.unlink()
    site.output.parent.joinpath("file").write_text("x")
    site.config_text = site.config_text.replace('output = "public"', 'output = "file/public"')
    _one_line_exit_2(
        ["build", "--config", str(site.config_path)], capsys, f"{site.root / 'file' / 'public'}"
    )


def test_any_other_file_that_cannot_be_used_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    _one_line_exit_2(["init", str(tmp_path / "file" / "site")], capsys, f"{tmp_path / 'file'}")


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ('output = "articles"', "is the articles folder (paths.articles)"),
        ('output = "public"\nstate = "public/state.sqlite3"', "is the folder of the state"),
    ],
)
@pytest.mark.parametrize("command", ["build", "check", "run"])
def test_an_output_folder_that_is_not_feedpubs_to_fill_writes_nothing(
    site: Site, capsys: pytest.CaptureFixture[str], paths: str, message: str, command: str
) -> None:
    """Found by probes: a page written over an article's source (article_url ending in
    .md); the state served by the daemon. (The file system's root, the third probe, is
    tested in tests/test_config.py only: a test must never write there if it fails.)"""
    site.config_text = site.config_text.replace(
        'output = "public"\nstate = "state/state.sqlite3"\n', paths + "\n"
    ).replace(
        'timezone = "Europe/Berlin"',
        'timezone = "Europe/Berlin"\narticle_url = "{base_url}{slug}.md"',
    )
    site.article("a.md", "A", "2025-01-01T00:00:00Z")
    cfg = str(site.config_path)
    before = sorted(site.root.rglob("*"))
    assert main([command, "--config", cfg]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{cfg}:") and ": error: paths.output: " in err, err
    assert err.count("\n") == 1 and message in err, err
    assert sorted(site.root.rglob("*")) == before
    assert (site.articles / "a.md").read_text().startswith("---\ntitle: A\n")


def test_new_writes_a_draft_named_by_a_unique_slug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import frontmatter

    monkeypatch.chdir(tmp_path)
    assert main(["init", "."]) == 0
    capsys.readouterr()
    assert main(["new", "Hello, World: été", "--category", "Tech News"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["new", "Hello, World: été"]) == 0
    second = capsys.readouterr().out.strip()
    assert (first, second) == ("articles/hello-world-été.md", "articles/hello-world-été-2.md")
    assert main(["new", "Hello world"]) == 0  # (init's article has hello-world)
    assert capsys.readouterr().out.strip() == "articles/hello-world-2.md"
    post = frontmatter.load(tmp_path / first)
    assert (post["title"], post["categories"], post["draft"]) == (
        "Hello, World: été",
        ["Tech News"],
        True,
    )
    assert main(["check"]) == 0  # a clean article, and a draft: not published
    assert main(["build", "-q"]) == 0
    assert "été" not in (tmp_path / "public" / "feeds" / "all.atom.xml").read_text()
    assert main(["new", "   "]) == 2


def test_global_options_work_after_the_command_too() -> None:
    from feedpub.cli import _parser

    def parsed(*argv: str) -> tuple[object, object]:
        args = _parser().parse_args(argv)
        return args.log_level, args.log_format

    assert parsed("build") == (None, "text")
    assert parsed("--log-level", "debug", "build") == ("debug", "text")
    assert parsed("build", "--log-level", "debug", "--log-format", "json") == ("debug", "json")
    assert parsed("--log-format", "json", "run", "--log-level", "info") == ("info", "json")


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=st.text(min_size=1, max_size=60).filter(lambda t: t.strip()))
def test_a_new_article_says_its_title_back_whatever_it_is(title: str, tmp_path: Path) -> None:
    """A title is untrusted text: quotes, colons, '#', '---', line breaks, control and
    non-BMP characters all come back from the front matter as given (stripped), and the
    front matter block ends where it should."""
    import uuid

    import frontmatter

    from feedpub.app import new_article
    from feedpub.config import load
    from tests.conftest import BASE_CONFIG

    root = tmp_path / uuid.uuid4().hex
    (root / "articles").mkdir(parents=True)
    (root / "config.toml").write_text(BASE_CONFIG)
    path = new_article(load(root / "config.toml"), title)
    path = path if path.is_absolute() else Path.cwd() / path
    text = path.read_text(encoding="utf-8")
    assert text.splitlines().count("---") == 2
    post = frontmatter.loads(text)
    assert post["title"] == title.strip()
    assert post["draft"] is True


def test_init_takes_the_base_url_and_title_and_says_what_to_run_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from feedpub.config import load

    monkeypatch.chdir(tmp_path)
    assert (
        main(["init", "site", "--base-url", "https://blog.example.com/me", "--title", 'A "B"']) == 0
    )
    assert capsys.readouterr().out.splitlines()[-1] == "next: cd site && feedpub build"
    config = load(tmp_path / "site" / "config.toml")
    assert (config.site.base_url, config.site.title) == ("https://blog.example.com/me/", 'A "B"')
    assert main(["init", "bad", "--base-url", "ftp://x"]) == 2
    assert "must be an absolute http(s) URL" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()  # (checked before anything is made)
    assert main(["init"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "next: feedpub build"


@settings(max_examples=80, deadline=None)
@given(title=st.text(min_size=1, max_size=40).filter(lambda t: t.strip()))
def test_init_says_any_title_back_or_refuses_it(title: str) -> None:
    import tempfile

    from feedpub.app import starter_config
    from feedpub.config import from_mapping
    from feedpub.errors import ConfigError

    with tempfile.TemporaryDirectory() as tmp:
        try:
            text = starter_config(Path(tmp), title=title)
        except ConfigError:
            return  # (refused with a message: exit 2)
        import tomllib

        config = from_mapping(tomllib.loads(text), base_dir=Path(tmp))
    assert config.site.title == title.strip()


def test_problems_name_files_from_where_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """From the site's folder: articles/x.md:3 (as the README shows); from a folder above
    it: the path from there; from elsewhere: the absolute path. A misspelt key is a warning
    (check: exit 1; build: exit 0, --strict: exit 1)."""
    from tests.conftest import BASE_CONFIG

    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    (site / "config.toml").write_text(BASE_CONFIG)
    (site / "articles" / "x.md").write_text(
        "---\ntitle: X\ndat: 2024-03-05\ncatgories: [News]\n---\nBody.\n"
    )
    want = [
        "x.md:3: warning: unknown key `dat`; did you mean `date`?",
        "x.md:4: warning: unknown key `catgories`; did you mean `categories`?",
    ]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd, config, prefix in [
        (site, "config.toml", "articles/"),
        (tmp_path, "site/config.toml", "site/articles/"),
        (elsewhere, "../site/config.toml", f"{site}/articles/"),
    ]:
        monkeypatch.chdir(cwd)
        assert main(["check", "--config", config]) == 1
        assert capsys.readouterr().out.splitlines() == [prefix + line for line in want]
        assert main(["build", "--config", config, "-q"]) == 0
        err = without_placeholder_warning(capsys.readouterr().err)
        assert err.splitlines() == [prefix + line for line in want]
        assert main(["build", "--config", config, "-q", "--strict"]) == 1
        capsys.readouterr()
