"""The typed sections of a :class:`Config`: frozen values, each read and checked by the
module of its section (:mod:`.site`, :mod:`.paths`, :mod:`.services`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from feedpub.articles.discover import DEFAULT_EXCLUDE
from feedpub.errors import ConfigProblem
from feedpub.model import FEED_FORMATS, ContentMode, FeedFormat, Podcast

DEFAULT_MAX_ARTICLE_BYTES = 2_000_000
DEFAULT_MAX_CONTENT_BYTES = 512 * 1024


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
    # the XSLT stylesheet Atom and RSS feeds name for browsers: off (False), feedpub's own
    # (True), or the site's own .xsl file (its real path, inside the site's folder)
    stylesheet: bool | Path = False

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
    # /healthz answers 503 when a publisher's notification (a hub ping, a weblogUpdates
    # ping) has waited longer than this: notifications are not getting out
    stale_after_seconds: float = 900.0


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
    access_log: bool = False  # one log line per request (logger feedpub.access)
    processes: int = 1  # serving processes on the one socket (feedpub.server.processes)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminConfig:
    """The admin listener (``/metrics``, ``/status``): off unless enabled, on loopback by
    default; never for the public (it is not behind the reverse proxy)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9180


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
    admin: AdminConfig = field(default_factory=AdminConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    state: StateConfig | None = None
    source: Path | None = None  # the file it came from
    # what is worth saying but not wrong (a placeholder base_url): said by check, build, run
    warnings: tuple[ConfigProblem, ...] = ()

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
        which the servers answer: no feed or page holds them; and which stylesheet it is)."""
        feeds = asdict(self.feeds)
        del feeds["redirects"]
        # the feeds name a stylesheet or not; which one (and where the site's own file is)
        # is the stylesheet file's own business (its fingerprint is its bytes)
        feeds["stylesheet"] = bool(self.feeds.stylesheet)
        data = {
            "site": asdict(self.site),
            "feeds": feeds,
            "hubs": self.advertised_hubs,
        }
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()
