"""``config.toml``, ``[paths]`` and ``[state]``: what the output folder may be (real paths
compared), and the state store's URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedpub.errors import ConfigError
from tests.test_config import MINIMAL, _load


@pytest.mark.parametrize(
    "url", ["garbage://x", "mysql://u@h/db", "postgresql+asyncpg://u@h/db", "postgresql://", "x"]
)
def test_state_url_must_be_postgresql(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, MINIMAL + f'[state]\nurl = "{url}"\n')
    assert info.value.key == "state.url"
    assert "PostgreSQL URL" in str(info.value)


def test_state_url_forms(tmp_path: Path) -> None:
    cfg = _load(tmp_path, MINIMAL + '[state]\nurl = "PostgreSQL://u:secret@db/x"\n')
    assert cfg.state_target == "postgresql+psycopg://u:secret@db/x"  # the driver feedpub has
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, MINIMAL + '[state]\nurl = "mysql://u:secret@db/x"\n')
    assert "secret" not in str(info.value)
    assert _load(tmp_path, MINIMAL + '[state]\nurl = ""\n').state_target == (
        tmp_path / ".feedpub" / "state.sqlite3"
    )


def _paths(tmp_path: Path, **paths: str) -> str:
    return MINIMAL + "[paths]\n" + "".join(f'{k} = "{v}"\n' for k, v in paths.items())


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ({"output": "/"}, "is the root of the file system"),
        ({"output": "/root"}, "is a home folder"),
        ({"output": "/home/someone"}, "is a home folder"),
        ({"output": "~"}, "is a home folder"),
        ({"output": "/home"}, "holds home folders"),
        ({"output": "articles"}, "is the articles folder (paths.articles)"),
        ({"output": "articles/public"}, "lies inside the articles folder"),
        ({"output": "site", "articles": "site/articles"}, "holds the articles folder"),
        ({"output": ".", "articles": "/srv/a", "state": "/srv/s.sqlite3"}, "holds the config"),
        ({"output": "public", "state": "public/state.sqlite3"}, "is the folder of the state"),
        ({"output": "public", "state": "public/x/state.sqlite3"}, "holds the state file"),
        ({"output": "state", "state": "state/state.sqlite3"}, "is the folder of the state file"),
    ],
)
def test_output_folders_that_are_not_feedpubs_to_fill(
    tmp_path: Path, paths: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, _paths(tmp_path, **paths))
    assert info.value.key == "paths.output"
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_output_folders_are_compared_as_real_paths(tmp_path: Path) -> None:
    """A symlink cannot disguise the articles folder or the state's folder, even where the
    output folder does not exist yet (its nearest existing parent is resolved)."""
    (tmp_path / "articles").mkdir()
    (tmp_path / "to-articles").symlink_to(tmp_path / "articles")
    (tmp_path / "var").mkdir()
    (tmp_path / "to-var").symlink_to(tmp_path / "var")
    for paths, message in [
        ({"output": "to-articles"}, "is the articles folder"),
        ({"output": "to-articles/not-yet/public"}, "lies inside the articles folder"),
        ({"output": "to-var", "state": "var/state.sqlite3"}, "is the folder of the state"),
        ({"output": "to-var/../to-var", "state": "var/s.sqlite3"}, "is the folder of the state"),
    ]:
        with pytest.raises(ConfigError, match=r"paths\.output") as info:
            _load(tmp_path, _paths(tmp_path, **paths))
        assert message in str(info.value), paths
    job_store = f'[state]\nurl = "sqlite:///{tmp_path}/to-var/public/jobs/jobs.db"\n'
    with pytest.raises(ConfigError, match=r"holds the state file .*jobs\.db \(state\.url\)"):
        _load(tmp_path, _paths(tmp_path, output="var/public") + job_store)


def test_output_folders_that_are_fine(tmp_path: Path) -> None:
    for paths in [
        {},  # public/ beside the config, state in .feedpub/
        {"output": "public", "state": "state.sqlite3"},  # a folder inside the state's folder
        {"output": "/srv/www/site", "articles": "/srv/articles"},
        {"output": "out/public", "articles": "out-articles"},  # a common prefix is no parent
    ]:
        _load(tmp_path, _paths(tmp_path, **paths))


# --- [feeds] stylesheet -------------------------------------------------------------------------


def _stylesheet(tmp_path: Path, value: str) -> Path | bool:
    found = _load(tmp_path, MINIMAL + f"[feeds]\nstylesheet = {value}\n").feeds.stylesheet
    assert isinstance(found, bool | Path)
    return found


def test_stylesheet_off_by_default_on_or_the_sites_own(tmp_path: Path) -> None:
    assert _load(tmp_path, MINIMAL).feeds.stylesheet is False
    assert _stylesheet(tmp_path, "true") is True
    assert _stylesheet(tmp_path, "false") is False
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme" / "feed.xsl").write_text("<x/>")
    assert _stylesheet(tmp_path, '"theme/feed.xsl"') == tmp_path.resolve() / "theme" / "feed.xsl"
    assert _stylesheet(tmp_path, f'"{tmp_path}/theme/feed.xsl"') == (
        tmp_path.resolve() / "theme" / "feed.xsl"
    )


def test_which_stylesheet_it_is_does_not_change_the_feeds(tmp_path: Path) -> None:
    """The feeds only name it (their bytes and fingerprint depend on on/off only)."""
    (tmp_path / "a.xsl").write_text("<x/>")
    on = _load(tmp_path, MINIMAL + "[feeds]\nstylesheet = true\n").fingerprint()
    own = _load(tmp_path, MINIMAL + '[feeds]\nstylesheet = "a.xsl"\n').fingerprint()
    off = _load(tmp_path, MINIMAL).fingerprint()
    assert on == own != off


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('""', "expected true, false or the path of an .xsl file"),
        ("1", "expected true, false or the path of an .xsl file, got 1"),
        ('["a.xsl"]', "expected true, false"),
        ('"missing.xsl"', "'missing.xsl': no such file"),
        ('"theme"', "must be an XSLT file named .xsl or .xslt"),
        ('"folder.xsl"', "is not a file"),
        ('"notes.txt"', "must be an XSLT file named .xsl or .xslt"),
        ('"../outside.xsl"', "must be a file inside the site's folder"),
        ('"/etc/passwd"', "must be a file inside the site's folder"),
        ('"link.xsl"', "must be a file inside the site's folder"),  # a symlink leading out
        ('"public/feeds/feed.xsl"', "lies inside the output folder"),
        ('"public/../public/x.xsl"', "lies inside the output folder"),
        ('".feedpub/x.xsl"', "lies inside the state's folder"),
        ('"."', "must be a file inside the site's folder"),
    ],
)
def test_stylesheets_refused(tmp_path: Path, value: str, message: str) -> None:
    site = tmp_path / "site"
    (site / "theme").mkdir(parents=True)
    (site / "folder.xsl").mkdir()
    (site / "notes.txt").write_text("x")
    (tmp_path / "outside.xsl").write_text("<x/>")
    (site / "link.xsl").symlink_to(tmp_path / "outside.xsl")
    (site / "public" / "feeds").mkdir(parents=True)
    (site / "public" / "feeds" / "feed.xsl").write_text("<x/>")
    (site / "public" / "x.xsl").write_text("<x/>")
    (site / ".feedpub").mkdir()
    (site / ".feedpub" / "x.xsl").write_text("<x/>")
    with pytest.raises(ConfigError) as info:
        _load(site, MINIMAL + f"[feeds]\nstylesheet = {value}\n")
    assert info.value.key == "feeds.stylesheet"
    assert message in str(info.value)
