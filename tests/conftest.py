"""Shared fixtures: a site folder with a config and articles, a fixed clock."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pluggy
import pytest
from hypothesis import settings

from feedpub import config as config_mod
from feedpub.build import Builder
from feedpub.config import Config
from feedpub.model import BuildResult
from feedpub.output import MARKER

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

# Hypothesis: no per-example deadline (CI machines are shared and noisy), and in CI the same
# examples every run, so a submission's result does not depend on luck; locally it explores.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(
    "ci" if os.environ.get("CI") or os.environ.get("FEEDPUB_REQUIRE_ALL") else "dev"
)

BASE_CONFIG = """\
[site]
title = "Test Site"
base_url = "https://example.org/"
author = "Site Author"
timezone = "Europe/Berlin"

[paths]
articles = "articles"
output = "public"
state = "state/state.sqlite3"

[feeds]
max_entries = 5
"""


# the config warning every site on a placeholder host gets (tests use example.org)
PLACEHOLDER_WARNING = ": warning: site.base_url: example.org is a placeholder"


def without_placeholder_warning(text: str) -> str:
    """``text`` (a command's stderr) without the line warning of the placeholder host."""
    return "".join(
        line for line in text.splitlines(keepends=True) if PLACEHOLDER_WARNING not in line
    )


class Site:
    """A throwaway site: ``write()`` articles, ``build()``, then read ``public/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.articles = root / "articles"
        self.output = root / "public"
        self.articles.mkdir(parents=True, exist_ok=True)
        self.config_text = BASE_CONFIG
        self.now = NOW

    @property
    def config_path(self) -> Path:
        path = self.root / "config.toml"
        path.write_text(self.config_text, encoding="utf-8")
        return path

    def config(self) -> Config:
        return config_mod.load(self.config_path)

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.articles / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def article(
        self,
        name: str,
        title: str,
        date: str,
        categories: str = "[News]",
        body: str = "Body text.",
        extra: str = "",
    ) -> Path:
        return self.write(
            name,
            f"---\ntitle: {title}\ndate: {date}\ncategories: {categories}\n{extra}---\n{body}\n",
        )

    def build(self, workers: int = 1, clock: Callable[[], datetime] | None = None) -> BuildResult:
        with Builder(self.config(), clock=clock or (lambda: self.now), workers=workers) as b:
            return b.build()

    def read(self, relpath: str) -> bytes:
        return (self.output / relpath).read_bytes()

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the output folder but its marker (a random id)."""
        return {
            str(p.relative_to(self.output)): p.read_bytes()
            for p in sorted(self.output.rglob("*"))
            if p.is_file() and p.name != MARKER
        }


PG_ENV = "FEEDPUB_TEST_POSTGRES_URL"


@pytest.fixture
def pg_url() -> Generator[str, None, None]:
    """A PostgreSQL SQLAlchemy URL whose tables live in a fresh schema, dropped afterwards.

    The server comes from FEEDPUB_TEST_POSTGRES_URL (.ci/run installs and starts one)."""
    import uuid

    import psycopg

    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL: set {PG_ENV} (.ci/run starts a server and sets it)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    """Config text choosing the state store a test runs on: nothing (the default SQLite
    file), or a ``[state]`` table naming a fresh PostgreSQL schema. Tests taking it run on
    both."""
    if request.param == "sqlite":
        return ""
    return f'\n[state]\nurl = "{request.getfixturevalue("pg_url")}"\n'


@pytest.fixture
def engine_site(site: Site, engine: str) -> Site:
    """``site``, on each state engine in turn."""
    site.config_text += engine
    return site


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """In CI (FEEDPUB_REQUIRE_ALL=1) a test that skips for a missing component fails instead."""
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("FEEDPUB_REQUIRE_ALL")
        and report.skipped
        and not hasattr(report, "wasxfail")  # an expected failure is not a missing component
        and call.excinfo is not None
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI, where every component must be present: {call.excinfo.value}"
        )


@pytest.fixture(autouse=True)
def _no_daemon_outlives_its_test() -> Iterator[None]:
    """A daemon subprocess left by a failing test is killed with it (not left holding the
    PostgreSQL leader lock for every later test and run)."""
    yield
    from tests.daemon_helpers import kill_leftovers

    kill_leftovers()
