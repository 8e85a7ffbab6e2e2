"""``config.toml`` read into a :class:`Config`: defaults, every key checked and named;
[site], [feeds] and its redirects, [notify], [hub], [server], [schedule]."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub import config
from feedpub.errors import ConfigError

MINIMAL = '[site]\ntitle = "T"\nbase_url = "https://example.org"\n'


def _load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    cfg = _load(tmp_path, MINIMAL)
    assert cfg.site.base_url == "https://example.org/"
    assert cfg.paths.articles == tmp_path / "articles"
    assert cfg.paths.output == tmp_path / "public"
    assert cfg.feeds.formats == ("atom", "rss", "json")
    assert cfg.feeds.max_entries == 20
    assert cfg.feeds.content == "full"


def test_the_bundled_config_is_valid() -> None:
    cfg = config.load(Path(__file__).parent.parent / "config.toml")
    assert cfg.feeds.for_category("Release Notes").content == "summary"
    podcast = cfg.feeds.for_category("Podcast").podcast
    assert podcast is not None and podcast.owner_email == cfg.site.author_email


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ("[site]\nbogus = 1\n", "site.bogus", "unknown key"),
        ('[feeds]\nmax_entries = "20"\n', "feeds.max_entries", "expected int"),
        ("[feeds]\nmax_entries = true\n", "feeds.max_entries", "expected int"),
        ("[feeds]\nmax_entries = 0\n", "feeds.max_entries", "at least 1"),
        ('[feeds]\nformats = ["atom", "rdf"]\n', "feeds.formats", "unknown format"),
        ('[feeds]\ncontent = "most"\n', "feeds.content", "full"),
        ('[feeds.categories.News]\ncolour = "red"\n', "feeds.categories.News.colour", "unknown"),
        ('[notify]\nhubs = ["ftp://x"]\n', "notify.hubs", "http"),
        (
            '[hub]\nallowed_callback_networks = ["10.0.0.0/33"]\n',
            "hub.allowed_callback_networks",
            "network",
        ),
        ('[server]\ntrusted_proxies = ["nginx"]\n', "server.trusted_proxies", "network"),
        ('[server]\ntrusted_proxies = "127.0.0.1"\n', "server.trusted_proxies", "expected list"),
        ("[server]\ntrusted_proxies = [1]\n", "server.trusted_proxies", "list of strings"),
        (
            "[server]\nmax_connections_per_client = 0\n",
            "server.max_connections_per_client",
            "at least 1",
        ),
        (
            "[server]\nmax_connections_per_client = 1.5\n",
            "server.max_connections_per_client",
            "int",
        ),
        ("[server]\nprocesses = 0\n", "server.processes", "at least 1"),
        ("[server]\nprocesses = 65\n", "server.processes", "at most 64"),
        ("[server]\nheader_timeout_seconds = 0\n", "server.header_timeout_seconds", "more than 0"),
        ("[server]\nbody_timeout_seconds = -1\n", "server.body_timeout_seconds", "number"),
        ('[server]\nsend_timeout_seconds = "30"\n', "server.send_timeout_seconds", "number"),
        ("[server]\nread_timeout = 5\n", "server.read_timeout", "unknown key"),
        ("[typo]\n", "typo", "unknown section"),
    ],
)
def test_bad_keys_are_named(tmp_path: Path, extra: str, key: str, message: str) -> None:
    text = MINIMAL.replace("[site]\n", "[site]\n") + extra
    if extra.startswith("[site]"):
        text = MINIMAL + extra.removeprefix("[site]\n")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert info.value.key == key
    assert message in str(info.value)
    assert str(tmp_path / "config.toml") in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[site]\nbase_url = "https://e.org/"\n', "site.title"),
        ('[site]\ntitle = "T"\n', "site.base_url"),
        ('[site]\ntitle = "T"\nbase_url = "example.org"\n', "site.base_url"),
        (MINIMAL + 'timezone = "Mars/Olympus"\n', "site.timezone"),
        (MINIMAL + 'article_url = "{base_url}posts/"\n', "site.article_url"),
        (MINIMAL + 'article_url = "{base_url}{year}/{slug}"\n', "site.article_url"),
    ],
)
def test_site_validation(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert info.value.key == key


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        _load(tmp_path, "[site\n")


def test_fingerprint_changes_with_output_settings(tmp_path: Path) -> None:
    a = _load(tmp_path, MINIMAL)
    b = _load(tmp_path, MINIMAL + "[feeds]\nmax_entries = 3\n")
    assert a.fingerprint() == _load(tmp_path, MINIMAL).fingerprint()
    assert a.fingerprint() != b.fingerprint()


def test_urls_are_normalised_and_unsafe_ones_refused(tmp_path: Path) -> None:
    cfg = _load(tmp_path, '[site]\ntitle = "T"\nbase_url = "HTTPS://Example.ORG/Blog"\n')
    assert cfg.site.base_url == "https://example.org/Blog/"
    for bad in (
        '"https://hub.example/x\\r\\nSet-Cookie: a=b"',
        '"https://hub.example/a>b"',
        '"https://hub.example/a b"',
    ):
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, MINIMAL + f"[notify]\nhubs = [{bad}]\n")
        assert info.value.key == "notify.hubs"


@pytest.mark.parametrize(
    ("section", "key", "full_key"),
    [
        ("site", "title", "site.title"),
        ("site", "description", "site.description"),
        ("site", "author", "site.author"),
        ("site", "author_email", "site.author_email"),
        ("site", "language", "site.language"),
        ('feeds.categories."News"', "title", "feeds.categories.News.title"),
    ],
)
def test_text_feeds_cannot_carry_is_refused(
    tmp_path: Path, section: str, key: str, full_key: str
) -> None:
    text = MINIMAL if section == "site" else MINIMAL + f"[{section}]\n"
    text += f'{key} = "a\\u0008b"\n'
    if section == "site" and key == "title":
        text = text.replace('title = "T"\n', "")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert info.value.key == full_key
    assert "U+0008" in str(info.value)


def test_server_limits(tmp_path: Path) -> None:
    cfg = _load(tmp_path, MINIMAL)
    assert cfg.server.trusted_proxies == ()
    assert cfg.server.max_connections_per_client == 64
    assert cfg.server.header_timeout_seconds == 10
    assert cfg.server.body_timeout_seconds == 10
    assert cfg.server.send_timeout_seconds == 30
    assert cfg.server.processes == 1
    cfg = _load(
        tmp_path,
        MINIMAL
        + "[server]\n"
        + 'trusted_proxies = ["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"]\n'
        + "max_connections_per_client = 8\n"
        + "header_timeout_seconds = 0.5\n"
        + "body_timeout_seconds = 2\n"
        + "send_timeout_seconds = 60\n"
        + "processes = 4\n",
    )
    assert cfg.server.processes == 4
    assert cfg.server.trusted_proxies == ("127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8")
    assert cfg.server.max_connections_per_client == 8
    assert cfg.server.header_timeout_seconds == 0.5
    assert cfg.server.body_timeout_seconds == 2.0
    assert cfg.server.send_timeout_seconds == 60.0


@pytest.mark.parametrize(
    "base_url",
    ["https://e.org/?lang=en", "https://e.org/blog#top", "https://e.org/?", "https://e.org#"],
)
def test_base_url_with_a_query_or_fragment_is_refused(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, f'[site]\ntitle = "T"\nbase_url = "{base_url}"\n')
    assert info.value.key == "site.base_url"
    assert "?query or #fragment" in str(info.value)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('base_url = "https://user:secret@example.org/"', "site.base_url"),
        ('article_url = "https://u:p@example.org/{slug}/"', "site.article_url"),
    ],
)
def test_credentials_in_published_urls_are_refused(tmp_path: Path, line: str, key: str) -> None:
    base = 'base_url = "https://example.org"\n'
    text = '[site]\ntitle = "T"\n' + (base if "article_url" in line else "") + line + "\n"
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert info.value.key == key


# --- [feeds] redirects: old feed URLs -----------------------------------------------------------


def test_redirects_are_read_sorted_and_leave_the_fingerprint_alone(tmp_path: Path) -> None:
    plain = _load(tmp_path, MINIMAL)
    cfg = _load(
        tmp_path,
        MINIMAL + '[feeds]\nredirects = {"index.xml" = "feeds/all.rss.xml", "feed.xml" = '
        '"feeds/all.atom.xml", "feed/" = "feeds/all.rss.xml", "blog/atom.xml" = '
        '"feeds/café.atom.xml", "feeds/old.xml" = "feeds/index.opml", "about" = "about/"}\n',
    )
    assert cfg.feeds.redirects == (
        ("about", "about/"),
        ("blog/atom.xml", "feeds/café.atom.xml"),
        ("feed.xml", "feeds/all.atom.xml"),
        ("feed/", "feeds/all.rss.xml"),
        ("feeds/old.xml", "feeds/index.opml"),
        ("index.xml", "feeds/all.rss.xml"),
    )
    assert plain.feeds.redirects == ()
    # the servers answer them: no feed or page changes, so nothing is read or rendered again
    assert cfg.fingerprint() == plain.fingerprint()


@pytest.mark.parametrize(
    ("redirects", "message"),
    [
        ('"feed.xml" = 1', "must map to a path (a string)"),
        ('"feed.xml" = "feeds/all.xml"', "is no feed feedpub publishes"),
        ('"feed.xml" = "feeds/News.atom.xml"', "is no feed feedpub publishes"),  # not a slug
        ('"feed.xml" = "feeds/index.atom.xml"', "is no feed feedpub publishes"),  # reserved
        ('"feed.xml" = "feeds/all.json"', "feeds.formats has no 'json'"),
        ('"feed.xml" = "https://example.org/feeds/all.atom.xml"', "not a URL"),
        ('"feed.xml" = "/feeds/all.atom.xml"', "not a URL"),
        ('"feed.xml" = "feeds/../state.sqlite3"', "must be a plain path"),
        ('"feed.xml" = "feeds/all.atom.xml?x=1"', "must be a plain path"),
        ('"feed.xml" = "a b"', "must be a plain path"),
        ('"feed.xml" = ""', "1 to 512 characters"),
        ('"feed.xml" = "state.sqlite3"', "never serves"),
        ('"/feed.xml" = "feeds/all.atom.xml"', "must be a path relative to site.base_url"),
        ('"feed.xml?x" = "feeds/all.atom.xml"', "must be a path relative to site.base_url"),
        ('"a//b" = "feeds/all.atom.xml"', "must be a path relative to site.base_url"),
        ('"$host" = "feeds/all.atom.xml"', "must be a path relative to site.base_url"),
        ('"caf\u00e9.xml" = "feeds/all.atom.xml"', "must be a path relative to site.base_url"),
        ('".feed.xml" = "feeds/all.atom.xml"', "never serves"),
        ('"index.html" = "feeds/all.atom.xml"', "feedpub's own"),
        ('"healthz" = "feeds/all.atom.xml"', "feedpub's own"),
        ('"hub/" = "feeds/all.atom.xml"', "feedpub's own"),
        ('"feeds/all.rss.xml" = "feeds/all.atom.xml"', "publishes a feed or the OPML"),
        ('"feeds/news.json" = "feeds/all.atom.xml"', "publishes a feed or the OPML"),
        ('"feeds/index.opml" = "feeds/all.atom.xml"', "publishes a feed or the OPML"),
        ('"articles/hello/" = "feeds/all.atom.xml"', "an article's page"),
        ('"articles/hello/index.html" = "feeds/all.atom.xml"', "an article's page"),
        ('"a.xml" = "b.xml", "b.xml" = "feeds/all.atom.xml"', "no chains"),
        ('"a.xml" = "a.xml"', "no chains"),
    ],
)
def test_bad_redirects_are_refused(tmp_path: Path, redirects: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(
            tmp_path,
            MINIMAL + f'[feeds]\nformats = ["atom", "rss"]\nredirects = {{{redirects}}}\n',
        )
    assert err.value.key == "feeds.redirects"
    assert message in err.value.message


def test_a_redirect_where_no_page_of_ours_can_be(tmp_path: Path) -> None:
    """Pages follow site.article_url (a slug holds no "/" nor "."), and only when feedpub
    publishes pages."""
    redirect = '[feeds]\nredirects = {"articles/hello/" = "feeds/all.atom.xml"}\n'
    with pytest.raises(ConfigError):
        _load(tmp_path, MINIMAL + redirect)
    assert _load(tmp_path, MINIMAL + redirect + "article_pages = false\n").feeds.redirects
    elsewhere = MINIMAL.replace(
        "[site]\n", '[site]\narticle_url = "https://blog.example.org/{slug}.html"\n'
    )
    assert _load(tmp_path, elsewhere + redirect).feeds.redirects
    posts = MINIMAL.replace("[site]\n", '[site]\narticle_url = "{base_url}{slug}.html"\n')
    with pytest.raises(ConfigError, match="an article's page"):
        _load(tmp_path, posts + '[feeds]\nredirects = {"feed.html" = "feeds/all.atom.xml"}\n')
    ok = '[feeds]\nredirects = {"feed.xml" = "feeds/all.atom.xml", "a/b.html" = "index.html"}\n'
    assert len(_load(tmp_path, posts + ok).feeds.redirects) == 2


def test_admin_is_off_by_default_on_loopback(tmp_path: Path) -> None:
    cfg = _load(tmp_path, MINIMAL)
    assert (cfg.admin.enabled, cfg.admin.host, cfg.admin.port) == (False, "127.0.0.1", 9180)
    assert cfg.notify.stale_after_seconds == 900
    cfg = _load(tmp_path, MINIMAL + "[admin]\nenabled = true\nport = 9200\n")
    assert (cfg.admin.enabled, cfg.admin.port) == (True, 9200)


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("[admin]\nenabled = 1\n", "admin.enabled", "expected bool"),
        ("[admin]\nport = 70000\n", "admin.port", "must be 0 to 65535"),
        ("[admin]\nport = true\n", "admin.port", "expected int"),
        ("[admin]\nhost = 127\n", "admin.host", "expected str"),
        ("[admin]\npath = '/metrics'\n", "admin.path", "unknown key"),
        (
            "[admin]\nenabled = true\nport = 8080\n",
            "admin.port",
            "8080 is [server] port: the admin listener needs its own",
        ),
        (
            "[server]\nhost = '0.0.0.0'\nport = 9000\n[admin]\nenabled = true\nport = 9000\n",
            "admin.port",
            "the admin listener needs its own",
        ),
        ("[notify]\nstale_after_seconds = 0\n", "notify.stale_after_seconds", "more than 0"),
        ("[notify]\nstale_after_seconds = '15m'\n", "notify.stale_after_seconds", "a number"),
    ],
)
def test_admin_and_staleness_refused(tmp_path: Path, text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, MINIMAL + text)
    assert info.value.key == key
    assert message in str(info.value)


def test_admin_on_the_servers_port_of_another_address_or_disabled_is_fine(tmp_path: Path) -> None:
    both = "[server]\nhost = '127.0.0.1'\nport = 9000\n[admin]\nhost = '127.0.0.2'\nport = 9000\n"
    assert _load(tmp_path, MINIMAL + both + "enabled = true\n").admin.port == 9000
    assert not _load(tmp_path, MINIMAL + "[admin]\nport = 8080\n").admin.enabled


# --- every problem at once, each with its line ---------------------------------------------------

# section -> key -> (a good value, a bad value, a misspelling of the key), as TOML
_CATALOGUE: dict[str, dict[str, tuple[str, str, str]]] = {
    "site": {
        "title": ('"T"', "5", "titel"),
        "base_url": ('"https://e.org/"', '"ftp://x"', "baseurl"),
        "timezone": ('"UTC"', '"Mars/Olympus"', "time_zone"),
        "language": ('"fr"', '"x-!!"', "langauge"),
    },
    "feeds": {
        "max_entries": ("3", "0", "max_entires"),
        "content": ('"summary"', '"most"', "contnet"),
        "archive_size": ("10", "5000", "archive_sise"),
        "formats": ('["atom"]', '["rdf"]', "format"),
    },
    "server": {
        "port": ("8081", "70000", "prot"),
        "host": ('"::1"', "5", "hots"),
    },
    "notify": {
        "hubs": ('["https://h.example/"]', '["ftp://h"]', "hubz"),
        "concurrency": ("2", "0", "concurency"),
    },
    "schedule": {"settle_ms": ("10", '"x"', "settle_mss")},
}
_REQUIRED = (("site", "title"), ("site", "base_url"))  # (in the order they are read)
_CHOICES = ("absent", "good", "bad", "misspelt")


@settings(max_examples=150, deadline=None)
@given(
    choices=st.fixed_dictionaries(
        {
            (section, key): st.sampled_from(_CHOICES)
            for section, keys in _CATALOGUE.items()
            for key in keys
        }
    ),
    blank_lines=st.integers(0, 2),
)
def test_every_problem_is_reported_at_once_with_its_line(
    choices: dict[tuple[str, str], str], blank_lines: int
) -> None:
    """Generated configs, each key absent, good, bad or misspelt: the report names every bad
    and misspelt key on its line (a misspelt one with the key it meant, first; never as the
    key it meant, missing), every missing required key on its table's line; a config with
    none is read, with the good values."""
    lines: list[str] = []
    expected: list[tuple[int, str, int | None, str]] = []  # (order, key, line, text)
    section_line: dict[str, int] = {}
    for section, keys in _CATALOGUE.items():
        lines.extend([""] * blank_lines)
        lines.append(f"[{section}]")
        section_line[section] = len(lines)
        for key, (good, bad, typo) in keys.items():
            choice = choices[(section, key)]
            if choice == "good":
                lines.append(f"{key} = {good}")
            elif choice == "bad":
                lines.append(f"{key} = {bad}")
                expected.append((1, f"{section}.{key}", len(lines), ""))
            elif choice == "misspelt":
                lines.append(f"{typo} = {good}")
                expected.append(
                    (0, f"{section}.{typo}", len(lines), f"unknown key; did you mean `{key}`?")
                )
    for section, key in _REQUIRED:
        if choices[(section, key)] == "absent":
            expected.append((1, f"{section}.{key}", section_line[section], "is required"))
    expected.sort(key=lambda e: (e[0], e[2] or 0))
    text = "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        path.write_text(text, encoding="utf-8")
        if not expected:
            cfg = config.load(path)
        else:
            with pytest.raises(ConfigError) as info:
                config.load(path)
            got = [(p.key, p.line, p.message) for p in info.value.problems]
            assert [(k, n) for k, n, _ in got] == [(k, n) for _, k, n, _ in expected], text
            for (_, _, message), (_, _, _, want) in zip(got, expected, strict=True):
                assert message.startswith(want), (message, want)
            assert len(info.value.lines()) == len(expected)
            return
    assert not expected, text
    assert cfg.site.title == "T"
    if choices[("feeds", "max_entries")] == "good":
        assert cfg.feeds.max_entries == 3
    if choices[("server", "port")] == "good":
        assert cfg.server.port == 8081
