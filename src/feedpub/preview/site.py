"""The preview's config: the production config with the site at the local server's address
(so that every link a build writes, in every format, leads back to the preview: config is
the one place that says where the site lives), its output and state in a private folder,
and nobody to notify."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from feedpub.config import Config

_WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 (read, not bound)


def local_base_url(host: str, port: int, folder: str = "/") -> str:
    """Where a browser on this machine finds the site served below ``folder`` by a server
    listening on ``host``:``port`` (every address, ``0.0.0.0`` or ``::``: the loopback
    address)."""
    host = _WILDCARDS.get(host, host)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{folder}"


def site_folder(config: Config) -> str:
    """The path of the site's address: ``/blog/`` for ``https://example.org/blog/``."""
    return urlsplit(config.site.base_url).path or "/"


def preview_config(config: Config, *, base_url: str, folder: Path) -> Config:
    """``config`` for the preview at ``base_url``, building into ``folder``.

    * ``[site] base_url`` is the preview's: feed, page, self, archive, OPML and JSON Feed
      URLs, the URLs made absolute in content and the built-in hub's link all lead to it.
      An ``article_url`` written out with the production address is moved along with it.
    * The output folder and the state store (SQLite, even when production's is PostgreSQL)
      are in ``folder``: nothing of production's is opened, so no production id, manifest
      or outbox row can change.
    * No hub is pinged and no weblogUpdates endpoint: the other hubs are not named (a reader
      would subscribe there to a feed that exists only here), notifications are off, and
      the preview runs no notifier and no hub (``/hub`` is named when the site has one).
    """
    site = config.site
    article_url = site.article_url
    if article_url.startswith(site.base_url):  # (the address written out, not {base_url})
        article_url = "{base_url}" + article_url[len(site.base_url) :]
    return replace(
        config,
        site=replace(site, base_url=base_url, article_url=article_url),
        paths=replace(
            config.paths, output=folder / "public", state=folder / "state" / "state.sqlite3"
        ),
        notify=replace(config.notify, enabled=False, hubs=(), weblogupdates=()),
        state=None,
    )
