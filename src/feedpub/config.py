"""``config.toml`` → a frozen, validated :class:`Config`.

Parsed once. Unknown keys and wrong types are errors that name the key (``feeds.max_entries``).
Relative paths are resolved against the folder holding the config file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedpub.articles.discover import DEFAULT_EXCLUDE
from feedpub.articles.text import BIDI_CONTROLS, xml_safe
from feedpub.errors import ConfigError
from feedpub.model import FEED_FORMATS, ContentMode, FeedFormat, Podcast, PodcastType
from feedpub.redirects import check as check_redirects

DEFAULT_CONFIG_NAME = "config.toml"
DEFAULT_MAX_ARTICLE_BYTES = 2_000_000
DEFAULT_MAX_CONTENT_BYTES = 512 * 1024

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteConfig:
    title: str
    base_url: str  # absolute http(s) URL ending in "/"
    author: str = ""
    author_email: str | None = None
    description: str = ""
    language: str = "en"
    # the site's other languages, which file names may give (Hugo's "about.fr.md")
    languages: tuple[str, ...] = ()
    timezone: str = "UTC"
    article_url: str = "{base_url}articles/{slug}/"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"


@dataclass(frozen=True, slots=True, kw_only=True)
class PathsConfig:
    articles: Path
    output: Path
    state: Path
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE  # article paths that are not articles


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryConfig:
    title: str | None = None
    content: ContentMode | None = None
    max_entries: int | None = None
    podcast: Podcast | None = None  # the category is a podcast: its RSS carries the tags


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedsConfig:
    formats: tuple[FeedFormat, ...] = FEED_FORMATS
    max_entries: int = 20
    archive_size: int = 50  # entries per archive document (RFC 5005), JSON page, index page
    content: ContentMode = "full"
    article_pages: bool = True
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    article_timeout_seconds: float = 30.0  # a worker parsing one file longer is stopped
    max_content_bytes: int = DEFAULT_MAX_CONTENT_BYTES  # larger bodies: feeds show a summary
    category_from_folder: bool = False  # an article without categories: its folder's name
    tags: bool = False  # each tag gets feeds too (feeds/<tag>.tag.atom.xml...)
    categories: Mapping[str, CategoryConfig] = field(default_factory=dict)
    # old feed paths → the paths that replace them (301s; see feedpub.redirects)
    redirects: tuple[tuple[str, str], ...] = ()

    def for_category(self, name: str) -> CategoryConfig:
        return self.categories.get(name) or self.categories.get(name.casefold()) or CategoryConfig()


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyConfig:
    enabled: bool = True  # false: log what would be sent, send nothing (staging)
    hubs: tuple[str, ...] = ()  # WebSub hubs: advertised in feeds, pinged on change
    weblogupdates: tuple[str, ...] = ()  # XML-RPC weblogUpdates endpoints
    coalesce_seconds: float = 2.0  # changes within this window make one notification
    min_interval_seconds: float = 30.0  # per target: never notify it more often
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    max_age_hours: float = 48.0  # give up on a notification this old
    timeout_seconds: float = 10.0
    concurrency: int = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class HubConfig:
    enabled: bool = False
    lease_seconds: int = 86_400 * 7
    min_lease_seconds: int = 300
    max_lease_seconds: int = 86_400 * 30
    max_subscriptions: int = 100_000
    max_per_topic: int = 10_000
    allowed_callback_networks: tuple[str, ...] = ()  # e.g. ["127.0.0.0/8"] for tests


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # reverse proxies (addresses or networks): every reader arrives from their address, so
    # they are exempt from max_connections_per_client
    trusted_proxies: tuple[str, ...] = ()
    max_connections_per_client: int = 64  # open at once from one address (one /64 in IPv6)
    header_timeout_seconds: float = 10.0  # for a whole request head, and for idle keep-alive
    body_timeout_seconds: float = 10.0  # for a whole request body
    send_timeout_seconds: float = 30.0  # a reader that takes nothing of a response this long


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleConfig:
    reconcile_seconds: int = 300  # full rescan of the articles folder
    settle_ms: int = 30  # quiet time after the last file event before a rebuild


@dataclass(frozen=True, slots=True, kw_only=True)
class StateConfig:
    url: str  # SQLAlchemy URL of the job store (default: the SQLite state file)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    site: SiteConfig
    paths: PathsConfig
    feeds: FeedsConfig
    notify: NotifyConfig
    hub: HubConfig = field(default_factory=HubConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    state: StateConfig | None = None
    source: Path | None = None  # the file it came from

    @property
    def hub_url(self) -> str | None:
        """The built-in hub's URL, when it is enabled."""
        return f"{self.site.base_url}hub" if self.hub.enabled else None

    @property
    def advertised_hubs(self) -> tuple[str, ...]:
        """Hubs the feeds name: the configured ones, and the built-in one."""
        return self.notify.hubs + ((self.hub_url,) if self.hub_url else ())

    @property
    def state_target(self) -> Path | str:
        """Where the state store lives: the SQLite file, or a PostgreSQL URL from [state] url."""
        if self.state and self.state.url.startswith("postgresql"):
            return self.state.url
        return self.paths.state

    @property
    def state_target_is_postgres(self) -> bool:
        return isinstance(self.state_target, str)

    @property
    def state_url(self) -> str:
        return self.state.url if self.state else f"sqlite:///{self.paths.state}"

    def fingerprint(self) -> str:
        """A hash of every setting that shapes the output (paths excluded; so are redirects,
        which the servers answer: no feed or page holds them)."""
        feeds = asdict(self.feeds)
        del feeds["redirects"]
        data = {
            "site": asdict(self.site),
            "feeds": feeds,
            "hubs": self.advertised_hubs,
        }
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


class _Section:
    """Reads one TOML table, checking each key's type; ``done()`` rejects what was not read."""

    def __init__(self, data: Mapping[str, Any], prefix: str, path: Path | None) -> None:
        self._data = data
        self._prefix = prefix
        self._path = path
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self._prefix}.{name}" if self._prefix else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(message, path=self._path, key=self.key(name))

    def get(self, name: str, typ: type[T], default: T) -> T:
        self._seen.add(name)
        if name not in self._data:
            return default
        value = self._data[name]
        # bool is an int subclass: never accept one for the other
        if (typ is int and isinstance(value, bool)) or not isinstance(value, typ):
            raise self.error(name, f"expected {typ.__name__}, got {type(value).__name__} {value!r}")
        return value

    def text(self, name: str, default: str = "") -> str:
        """A string that feeds show: none of the characters XML cannot carry."""
        value = self.get(name, str, default)
        bad = next((c for c in value if xml_safe(c) != c), None)
        if bad is not None:
            raise self.error(
                name, f"has a control character that feeds cannot carry (U+{ord(bad):04X})"
            )
        return value

    def number(self, name: str, default: float) -> float:
        """A non-negative int or float (seconds, hours)."""
        self._seen.add(name)
        value = self._data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.error(name, f"expected a number >= 0, got {value!r}")
        return float(value)

    def section(self, name: str) -> _Section:
        table = self.get(name, dict, {})
        return _Section(table, self.key(name), self._path)

    def str_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(name, list, list(default))
        for item in value:
            if not isinstance(item, str):
                raise self.error(name, f"expected a list of strings, found {item!r}")
        return tuple(value)

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise self.error(unknown[0], "unknown key")


_UNSAFE_IN_URL = re.compile(r'[\x00-\x20\x7f<>"\\^`{|}]')


def _absolute_url(sec: _Section, name: str, value: str) -> str:
    """An absolute http(s) URL with nothing that could break a header or a document (spaces,
    control characters, ``<>"``); its scheme and host lowercased, as URLs compare."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise sec.error(name, f"must be an absolute http(s) URL, got {value!r}")
    if _UNSAFE_IN_URL.search(value):
        raise sec.error(name, f"has spaces, control or unsafe characters: {value!r}")
    try:
        parts.port  # noqa: B018 (reading it checks it: a port over 65535 raises)
    except ValueError as e:
        raise sec.error(name, f"has a port that is no port: {value!r}") from e
    if not parts.netloc.isascii() and BIDI_CONTROLS.search(parts.netloc):
        raise sec.error(name, f"has bidi control characters in its host: {value!r}")
    if "@" in parts.netloc and name != "weblogupdates":  # published in every feed
        raise sec.error(name, "must not hold a user name or password (every feed shows it)")
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
    )


# Apple Podcasts' categories and their subcategories, as Apple spells them (Podcasts Connect
# refuses any other): https://podcasters.apple.com/support/1691-apple-podcasts-categories
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": (
        "Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit",
    ),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": (
        "Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality",
    ),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
        "Home & Garden", "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
        "Sports News", "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality",
    ),
    "Science": (
        "Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
        "Natural Sciences", "Nature", "Physics", "Social Sciences",
    ),
    "Society & Culture": (
        "Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships",
    ),
    "Sports": (
        "Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey",
        "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}  # fmt: skip
APPLE_TEXT_LIMIT = 255  # Apple Podcasts: "tag values are limited to 255 characters"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _is_email(value: str) -> bool:
    """``local@domain.tld``: one ``@``, a dot inside the domain, no spaces or ``<>``, at most
    255 characters."""
    local, at, domain = value.rpartition("@")
    return (
        bool(local and at)
        and len(value) <= APPLE_TEXT_LIMIT
        and "@" not in local
        and "." in domain[1:-1]
        and not any(c.isspace() or c in "<>" for c in value)
    )


def _apple_text(sec: _Section, name: str, *defaults: str) -> str:
    """An iTunes text value: no leading, trailing or repeated spaces, at most 255 characters
    (Apple). Missing or blank: the first default that is not (cut to 255 characters)."""
    value = " ".join(sec.text(name).split())
    if len(value) > APPLE_TEXT_LIMIT:
        raise sec.error(name, f"at most {APPLE_TEXT_LIMIT} characters (Apple Podcasts)")
    for default in defaults:
        value = value or " ".join(default.split())[:APPLE_TEXT_LIMIT].rstrip()
    return value


def _podcast(sec: _Section, site: SiteConfig) -> Podcast:
    """``[feeds.categories."Name"] podcast = {...}``: what the category's RSS tells podcast
    directories. ``image``, ``category`` and ``explicit`` are required (Apple Podcasts
    refuses a feed without them); the author and owner default to ``[site]``."""
    image_url = sec.get("image", str, "")
    if not image_url:
        raise sec.error("image", "is required: the show's artwork (a .jpg or .png URL)")
    image = _absolute_url(sec, "image", image_url)
    if not image.endswith((".jpg", ".png")):
        raise sec.error(
            "image",
            "must be the URL of a JPEG or PNG file, ending in .jpg or .png (Apple Podcasts: "
            f"artwork 1400 to 3000 pixels square), got {image_url!r}",
        )
    by_fold = {name.casefold(): name for name in APPLE_CATEGORIES}
    raw_category = sec.text("category").strip()
    if not raw_category:
        raise sec.error("category", "is required: an Apple Podcasts category, such as Technology")
    category = by_fold.get(raw_category.casefold())
    if category is None:
        raise sec.error(
            "category",
            f"{raw_category!r} is not an Apple Podcasts category (one of: "
            f"{', '.join(APPLE_CATEGORIES)})",
        )
    raw_sub = sec.text("subcategory").strip()
    subcategory = None
    if raw_sub:
        subs = {name.casefold(): name for name in APPLE_CATEGORIES[category]}
        subcategory = subs.get(raw_sub.casefold())
        if subcategory is None:
            known = ", ".join(APPLE_CATEGORIES[category]) or "none"
            raise sec.error(
                "subcategory", f"{raw_sub!r} is not a subcategory of {category} (known: {known})"
            )
    if "explicit" not in sec._data:
        raise sec.error(
            "explicit",
            "is required: true if the show has explicit content, false if not (Apple Podcasts)",
        )
    explicit = sec.get("explicit", bool, False)
    author = _apple_text(sec, "author", site.author, site.title)
    owner_email = sec.text("owner_email").strip() or site.author_email or ""
    if not owner_email:
        raise sec.error(
            "owner_email",
            "is required (or site.author_email): the address directories use to verify the "
            "podcast's owner (itunes:owner; it is published in the feed)",
        )
    if not _is_email(owner_email):
        raise sec.error("owner_email", f"not an email address: {owner_email!r}")
    owner_name = _apple_text(sec, "owner_name", author)
    kind = sec.get("type", str, "episodic")
    if kind not in ("episodic", "serial"):
        raise sec.error("type", f'must be "episodic" or "serial", got {kind!r}')
    guid = sec.get("guid", str, "").strip()
    if guid and not _UUID.match(guid):
        raise sec.error(
            "guid", f"must be a UUID such as 917393e3-1b1e-5cef-ace4-edaa54e1f810, got {guid!r}"
        )
    sec.done()
    return Podcast(
        image=image,
        category=category,
        subcategory=subcategory,
        explicit=explicit,
        author=author,
        owner_name=owner_name,
        owner_email=owner_email,
        type=cast(PodcastType, kind),
        guid=guid.lower() or None,
    )


def _content_mode(sec: _Section, name: str, value: str | None) -> ContentMode | None:
    if value is None:
        return None
    if value not in ("full", "summary"):
        raise sec.error(name, f'must be "full" or "summary", got {value!r}')
    return cast(ContentMode, value)


def _at_least(sec: _Section, name: str, value: float, low: float) -> float:
    if value < low:
        raise sec.error(name, f"must be at least {low:g}, got {value:g}")
    return value


MAX_ARCHIVE_SIZE = 1000  # entries in one archive document: every reader fetches it whole


def _archive_size(f: _Section) -> int:
    size = _positive(f, "archive_size", f.get("archive_size", int, 50))
    if size > MAX_ARCHIVE_SIZE:
        raise f.error("archive_size", f"must be at most {MAX_ARCHIVE_SIZE}")
    return size


def _positive(sec: _Section, name: str, value: int) -> int:
    if value < 1:
        raise sec.error(name, f"must be at least 1, got {value}")
    return value


def _seconds(sec: _Section, name: str, default: float) -> float:
    """A time limit: a number of seconds above 0."""
    value = sec.number(name, default)
    if value <= 0:
        raise sec.error(name, f"must be more than 0 seconds, got {value:g}")
    return value


def _network(sec: _Section, name: str, value: str) -> None:
    """An IP address or network (``127.0.0.1``, ``10.0.0.0/8``, ``::1``)."""
    import ipaddress  # here: only configs naming networks need it, and it is slow to import

    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as e:
        raise sec.error(name, f"not an address or network: {value!r}") from e


def real_path(path: Path) -> Path:
    """``path`` with every symlink resolved, also where it does not exist yet: its nearest
    existing parent is resolved, and the rest appended as written."""
    return Path(os.path.realpath(path))


def _within(inner: Path, outer: Path) -> bool:
    """Whether ``inner`` is ``outer`` or lies inside it (real paths)."""
    return inner == outer or outer in inner.parents


_HOME_PARENTS = (Path("/home"), Path("/Users"))


def _homes() -> set[Path]:
    homes = {Path("/root")}
    with contextlib.suppress(RuntimeError, KeyError):
        homes.add(real_path(Path.home()))
    return homes


def _check_output(p: _Section, paths: PathsConfig, state_url: str, source: Path | None) -> None:
    """The output folder is where feedpub writes, replaces and deletes files, and what it
    serves: it may not be, hold or lie inside the articles folder; be or hold the state's
    folder (the state file, its journals, lock files and ledger), or hold the config file;
    be the root of the file system or a home folder. Real paths are compared (symlinks
    resolved), so no link can disguise one folder as another."""
    out = real_path(paths.output)

    def refuse(what: str) -> ConfigError:
        return p.error("output", f"{out} {what}; choose a folder of its own, such as ./public")

    if out.parent == out:
        raise refuse("is the root of the file system")
    homes = _homes()
    if out in homes or out.parent in _HOME_PARENTS:
        raise refuse("is a home folder")
    if any(_within(home, out) for home in (*homes, *_HOME_PARENTS)):
        raise refuse("holds home folders")
    articles = real_path(paths.articles)
    if out == articles:
        raise refuse("is the articles folder (paths.articles)")
    if _within(out, articles):
        raise refuse(f"lies inside the articles folder {articles} (paths.articles)")
    if _within(articles, out):
        raise refuse(f"holds the articles folder {articles} (paths.articles)")
    state_files = [(paths.state, "paths.state"), (real_path(paths.state), "paths.state")]
    if state_url.startswith("sqlite:///"):  # the daemon's job store
        job_store = real_path(Path(state_url.removeprefix("sqlite:///")))
        state_files.append((job_store, "state.url"))
    for state, key in state_files:
        folder = real_path(state.parent)
        if out == folder:
            raise refuse(f"is the folder of the state file {state} ({key})")
        if _within(folder, out):
            raise refuse(f"holds the state file {state} ({key}) and its lock files")
    if source is not None and _within(real_path(source), out):
        raise refuse(f"holds the config file {real_path(source)}")


_STATE_SCHEMES = ("postgresql+psycopg", "postgresql", "sqlite")


def _state_url(sec: _Section, value: str) -> str:
    """``[state] url``: empty (the SQLite file at ``paths.state``), a PostgreSQL URL
    (``postgresql://`` means the psycopg driver feedpub installs), or an ``sqlite:///`` URL
    (the daemon's job store only). Anything else is refused here, not by a traceback when
    the daemon starts."""
    if not value:
        return value
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in _STATE_SCHEMES or not rest:
        raise sec.error(
            "url",
            "must be a PostgreSQL URL such as postgresql+psycopg://user:password@host/db "
            f"(or empty, for the SQLite file at paths.state), got {_redacted(value)!r}",
        )
    scheme = scheme.lower()
    return f"{'postgresql+psycopg' if scheme == 'postgresql' else scheme}://{rest}"


def _redacted(url: str) -> str:
    """A URL fit for a message: its password hidden."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


def _language(s: _Section, key: str, value: str) -> str:
    if not _LANGUAGE_TAG.fullmatch(value):
        raise s.error(key, f"expected a language code (like en, fr, pt-BR), got {value!r}")
    return value.replace("_", "-").lower() if key == "languages" else value


def from_mapping(data: Mapping[str, Any], *, base_dir: Path, source: Path | None = None) -> Config:
    """Validate already-parsed TOML data. Relative paths resolve against ``base_dir``."""
    root = _Section(data, "", source)

    s = root.section("site")
    title = s.text("title")
    if not title.strip():
        raise s.error("title", "is required")
    raw_base_url = s.get("base_url", str, "")
    base_url = _absolute_url(s, "base_url", raw_base_url)
    if "?" in raw_base_url or "#" in raw_base_url:  # every URL is made by appending to it
        raise s.error(
            "base_url",
            f"must not have a ?query or #fragment (feed and page URLs are built by appending "
            f"to it), got {raw_base_url!r}",
        )
    if not base_url.endswith("/"):
        base_url += "/"
    timezone = s.get("timezone", str, "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise s.error("timezone", f"unknown time zone {timezone!r}") from e
    article_url = s.get("article_url", str, "{base_url}articles/{slug}/")
    if "{slug}" not in article_url:
        raise s.error("article_url", "must contain {slug}")
    try:
        article_url.format(base_url=base_url, slug="x")
    except (KeyError, IndexError, ValueError) as e:
        raise s.error("article_url", "may use only {base_url} and {slug}") from e
    _absolute_url(s, "article_url", article_url.format(base_url=base_url, slug="x"))
    site = SiteConfig(
        title=title.strip(),
        base_url=base_url,
        author=s.text("author"),
        author_email=s.text("author_email") or None,
        description=s.text("description"),
        language=_language(s, "language", s.text("language", "en")),
        languages=tuple(_language(s, "languages", x) for x in s.str_list("languages", ())),
        # (file names give only these: "socket.io.md" is no article in Io)
        timezone=timezone,
        article_url=article_url,
    )
    s.done()

    p = root.section("paths")

    def resolve(name: str, default: str) -> Path:
        raw = p.get(name, str, default)
        if not raw.strip():
            raise p.error(name, "must not be empty")
        path = Path(raw).expanduser()
        return path if path.is_absolute() else base_dir / path

    paths = PathsConfig(
        articles=resolve("articles", "articles"),
        output=resolve("output", "public"),
        state=resolve("state", ".feedpub/state.sqlite3"),
        exclude=p.str_list("exclude", DEFAULT_EXCLUDE),
    )
    p.done()

    f = root.section("feeds")
    formats = f.str_list("formats", FEED_FORMATS)
    for fmt in formats:
        if fmt not in FEED_FORMATS:
            raise f.error("formats", f"unknown format {fmt!r} (known: {', '.join(FEED_FORMATS)})")
    if not formats:
        raise f.error("formats", "must name at least one format")
    content = _content_mode(f, "content", f.get("content", str, "full")) or "full"
    categories: dict[str, CategoryConfig] = {}
    cats = f.section("categories")
    for name in list(cats._data):
        c = cats.section(name)
        max_entries = c.get("max_entries", int, 0)
        podcast = _podcast(c.section("podcast"), site) if "podcast" in c._data else None
        categories[name] = CategoryConfig(
            title=c.text("title") or None,
            content=_content_mode(c, "content", c.get("content", str, "") or None),
            max_entries=_positive(c, "max_entries", max_entries) if max_entries else None,
            podcast=podcast,
        )
        c.done()
    cats.done()
    feeds = FeedsConfig(
        formats=tuple(dict.fromkeys(cast(tuple[FeedFormat, ...], formats))),
        max_entries=_positive(f, "max_entries", f.get("max_entries", int, 20)),
        archive_size=_archive_size(f),
        content=content,
        article_pages=f.get("article_pages", bool, True),
        max_article_bytes=_positive(
            f, "max_article_bytes", f.get("max_article_bytes", int, DEFAULT_MAX_ARTICLE_BYTES)
        ),
        category_from_folder=f.get("category_from_folder", bool, False),
        tags=f.get("tags", bool, False),
        max_content_bytes=_positive(
            f, "max_content_bytes", f.get("max_content_bytes", int, DEFAULT_MAX_CONTENT_BYTES)
        ),
        article_timeout_seconds=_at_least(
            f, "article_timeout_seconds", f.number("article_timeout_seconds", 30.0), 0.1
        ),
        categories=categories,
    )
    redirects = check_redirects(
        f.get("redirects", dict, {}),
        formats=feeds.formats,
        base_url=site.base_url,
        article_url=site.article_url,
        article_pages=feeds.article_pages,
    )
    if isinstance(redirects, str):
        raise f.error("redirects", redirects)
    feeds = replace(feeds, redirects=redirects)
    f.done()

    n = root.section("notify")
    hubs = n.str_list("hubs", ())
    for hub in hubs:
        _absolute_url(n, "hubs", hub)
    pings = n.str_list("weblogupdates", ())
    for ping in pings:
        _absolute_url(n, "weblogupdates", ping)

    notify = NotifyConfig(
        enabled=n.get("enabled", bool, True),
        hubs=hubs,
        weblogupdates=pings,
        coalesce_seconds=n.number("coalesce_seconds", 2.0),
        min_interval_seconds=n.number("min_interval_seconds", 30.0),
        retry_base_seconds=n.number("retry_base_seconds", 5.0),
        retry_max_seconds=n.number("retry_max_seconds", 3600.0),
        max_age_hours=n.number("max_age_hours", 48.0),
        timeout_seconds=n.number("timeout_seconds", 10.0),
        concurrency=_positive(n, "concurrency", n.get("concurrency", int, 8)),
    )
    n.done()

    h = root.section("hub")
    networks = h.str_list("allowed_callback_networks", ())
    for net in networks:
        _network(h, "allowed_callback_networks", net)
    hub_cfg = HubConfig(
        enabled=h.get("enabled", bool, False),
        lease_seconds=_positive(h, "lease_seconds", h.get("lease_seconds", int, 86_400 * 7)),
        min_lease_seconds=_positive(h, "min_lease_seconds", h.get("min_lease_seconds", int, 300)),
        max_lease_seconds=_positive(
            h, "max_lease_seconds", h.get("max_lease_seconds", int, 86_400 * 30)
        ),
        max_subscriptions=_positive(
            h, "max_subscriptions", h.get("max_subscriptions", int, 100_000)
        ),
        max_per_topic=_positive(h, "max_per_topic", h.get("max_per_topic", int, 10_000)),
        allowed_callback_networks=networks,
    )
    if not hub_cfg.min_lease_seconds <= hub_cfg.lease_seconds <= hub_cfg.max_lease_seconds:
        raise h.error("lease_seconds", "must lie between min_lease_seconds and max_lease_seconds")
    h.done()

    sv = root.section("server")
    port = sv.get("port", int, 8080)
    if not 0 <= port <= 65535:
        raise sv.error("port", f"must be 0 to 65535, got {port}")
    proxies = sv.str_list("trusted_proxies", ())
    for proxy in proxies:
        _network(sv, "trusted_proxies", proxy)
    server = ServerConfig(
        host=sv.get("host", str, "127.0.0.1"),
        port=port,
        trusted_proxies=proxies,
        max_connections_per_client=_positive(
            sv, "max_connections_per_client", sv.get("max_connections_per_client", int, 64)
        ),
        header_timeout_seconds=_seconds(sv, "header_timeout_seconds", 10.0),
        body_timeout_seconds=_seconds(sv, "body_timeout_seconds", 10.0),
        send_timeout_seconds=_seconds(sv, "send_timeout_seconds", 30.0),
    )
    sv.done()

    sc = root.section("schedule")
    schedule = ScheduleConfig(
        reconcile_seconds=_positive(sc, "reconcile_seconds", sc.get("reconcile_seconds", int, 300)),
        settle_ms=_positive(sc, "settle_ms", sc.get("settle_ms", int, 30)),
    )
    sc.done()

    st = root.section("state")
    url = _state_url(st, st.get("url", str, ""))
    state = StateConfig(url=url) if url else None
    st.done()

    root.done()
    _check_output(p, paths, url, source)
    return Config(
        site=site,
        paths=paths,
        feeds=feeds,
        notify=notify,
        hub=hub_cfg,
        server=server,
        schedule=schedule,
        state=state,
        source=source,
    )


def load(path: Path | str = DEFAULT_CONFIG_NAME) -> Config:
    """Read and validate a config file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError("no such file (try `feedpub init`)", path=path) from e
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", path=path) from e
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 (byte {e.start})", path=path) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", path=path) from e
    return from_mapping(data, base_dir=path.resolve().parent, source=path)
