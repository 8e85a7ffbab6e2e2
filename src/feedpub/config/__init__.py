"""``config.toml`` → a frozen, validated :class:`Config`.

Parsed once. Unknown keys and wrong types are errors that name the key (``feeds.max_entries``).
Relative paths are resolved against the folder holding the config file.

* :mod:`.sections`: the typed sections (``SiteConfig``, ``FeedsConfig``, ... and ``Config``);
* :mod:`.checks`: reading one table, and the checks every section shares (each written once);
* :mod:`.site` (``[site]``, ``[feeds]``), :mod:`.podcast` (a podcast category),
  :mod:`.paths` (``[paths]``, ``[state]``, what the output folder may be),
  :mod:`.services` (``[notify]``, ``[hub]``, ``[server]``, ``[admin]``, ``[schedule]``):
  one reader each;
* :mod:`.reading`: the file, its TOML, and the sections in order.
"""

from __future__ import annotations

from feedpub.config.paths import real_path
from feedpub.config.podcast import APPLE_CATEGORIES, APPLE_TEXT_LIMIT
from feedpub.config.reading import DEFAULT_CONFIG_NAME, from_mapping, load
from feedpub.config.sections import (
    DEFAULT_MAX_ARTICLE_BYTES,
    DEFAULT_MAX_CONTENT_BYTES,
    AdminConfig,
    CategoryConfig,
    Config,
    FeedsConfig,
    HubConfig,
    NotifyConfig,
    PathsConfig,
    ScheduleConfig,
    ServerConfig,
    SiteConfig,
    StateConfig,
)
from feedpub.config.site import MAX_ARCHIVE_SIZE

__all__ = [
    "APPLE_CATEGORIES",
    "APPLE_TEXT_LIMIT",
    "DEFAULT_CONFIG_NAME",
    "DEFAULT_MAX_ARTICLE_BYTES",
    "DEFAULT_MAX_CONTENT_BYTES",
    "MAX_ARCHIVE_SIZE",
    "AdminConfig",
    "CategoryConfig",
    "Config",
    "FeedsConfig",
    "HubConfig",
    "NotifyConfig",
    "PathsConfig",
    "ScheduleConfig",
    "ServerConfig",
    "SiteConfig",
    "StateConfig",
    "from_mapping",
    "load",
    "real_path",
]
