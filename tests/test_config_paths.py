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
