"""``config.toml``, a podcast category: what Apple Podcasts requires, checked and named;
defaults from ``[site]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedpub import config
from feedpub.errors import ConfigError
from tests.test_config import MINIMAL, _load

SHOW = 'image = "https://example.org/cover.jpg", category = "Technology", explicit = false'


def _podcast(tmp_path: Path, table: str, site: str = "") -> config.Config:
    return _load(
        tmp_path, MINIMAL + site + f'\n[feeds.categories."Podcast"]\npodcast = {{ {table} }}\n'
    )


def test_a_podcast_category_with_defaults_from_the_site(tmp_path: Path) -> None:
    site = 'author = "Ada"\nauthor_email = "ada@example.org"\n'
    cfg = _podcast(tmp_path, SHOW, site)
    podcast = cfg.feeds.for_category("Podcast").podcast
    assert podcast is not None
    assert (podcast.image, podcast.category, podcast.subcategory) == (
        "https://example.org/cover.jpg",
        "Technology",
        None,
    )
    assert (podcast.author, podcast.owner_name, podcast.owner_email) == (
        "Ada",
        "Ada",
        "ada@example.org",
    )
    assert (podcast.explicit, podcast.type, podcast.guid) == (False, "episodic", None)
    assert cfg.feeds.for_category("News").podcast is None


def test_every_podcast_key(tmp_path: Path) -> None:
    cfg = _podcast(
        tmp_path,
        'image = "https://cdn.example/show.png", category = "society & culture", '
        'subcategory = "documentary", explicit = true, author = "  The  Network ", '
        'owner_name = "Bo", owner_email = "bo@example.org", type = "serial", '
        'guid = "917393E3-1B1E-5CEF-ACE4-EDAA54E1F810"',
    )
    podcast = cfg.feeds.for_category("Podcast").podcast
    assert podcast is not None
    # Apple's spelling of the category; text without leading, trailing or repeated spaces
    assert (podcast.category, podcast.subcategory) == ("Society & Culture", "Documentary")
    assert (podcast.author, podcast.owner_name, podcast.owner_email) == (
        "The Network",
        "Bo",
        "bo@example.org",
    )
    assert (podcast.explicit, podcast.type) == (True, "serial")
    assert podcast.guid == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def test_the_podcast_settings_shape_the_output(tmp_path: Path) -> None:
    a = _podcast(tmp_path, SHOW, 'author_email = "a@example.org"\n')
    b = _podcast(tmp_path, SHOW.replace("false", "true"), 'author_email = "a@example.org"\n')
    assert a.fingerprint() != b.fingerprint()


PODCAST_KEY = "feeds.categories.Podcast.podcast"


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ('category = "Technology", explicit = false', "image", "required"),
        ('image = "cover.jpg", category = "Technology", explicit = false', "image", "http"),
        (SHOW.replace("cover.jpg", "cover.webp"), "image", ".jpg or .png"),
        (SHOW.replace("cover.jpg", "cover.jpg?v=2"), "image", ".jpg or .png"),
        ('image = "https://example.org/c.png", explicit = false', "category", "required"),
        (SHOW.replace("Technology", "Tech"), "category", "not an Apple Podcasts category"),
        (SHOW + ', subcategory = "Tech News"', "subcategory", "not a subcategory of Technology"),
        (SHOW.replace(", explicit = false", ""), "explicit", "required"),
        (SHOW.replace("explicit = false", 'explicit = "no"'), "explicit", "expected bool"),
        (SHOW + ', type = "daily"', "type", "episodic"),
        (SHOW + ', guid = "podcast-1"', "guid", "UUID"),
        (SHOW + ', owner_email = "ada at example"', "owner_email", "not an email"),
        (SHOW + ', author = "' + "x" * 256 + '"', "author", "255"),
        (SHOW + ', owner_name = "a\\u0007b"', "owner_name", "control character"),
        (SHOW + ", owner = 1", "owner", "unknown key"),
    ],
)
def test_bad_podcast_keys_are_named(tmp_path: Path, table: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _podcast(tmp_path, table, 'author_email = "ada@example.org"\n')
    assert info.value.key == f"{PODCAST_KEY}.{key}"
    assert message in str(info.value)


def test_a_podcast_needs_an_owner_email(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _podcast(tmp_path, SHOW)
    assert info.value.key == f"{PODCAST_KEY}.owner_email"
    assert _podcast(tmp_path, SHOW + ', owner_email = "o@example.org"').feeds.categories


def test_a_podcast_as_a_table_of_its_own(tmp_path: Path) -> None:
    cfg = _load(
        tmp_path,
        MINIMAL
        + '[feeds.categories."Podcast".podcast]\nimage = "https://e.org/c.png"\n'
        + 'category = "True Crime"\nexplicit = true\nowner_email = "o@e.org"\n',
    )
    podcast = cfg.feeds.for_category("Podcast").podcast
    assert podcast is not None and podcast.category == "True Crime"
