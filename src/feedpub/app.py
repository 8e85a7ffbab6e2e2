"""The composition root: builds each part from the config and wires them together.

The one clock lives here (tests replace it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feedpub import config as config_mod
from feedpub.build import Builder, Progress
from feedpub.build import check as check_articles
from feedpub.clock import utcnow
from feedpub.config import Config
from feedpub.model import BuildResult, Problem, SkippedFile

if TYPE_CHECKING:
    from feedpub.adopt import AdoptReport


clock = utcnow  # the one clock (feedpub.clock), handed to every part


def load_config(path: Path) -> Config:
    return config_mod.load(path)


def build(
    config: Config,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] = clock,
    adopt: bool = False,
) -> BuildResult:
    """One build. ``adopt``: publish into an output folder feedpub does not recognise as its
    own (see :func:`feedpub.output_ownership.claim_output`), replacing the files found at
    the paths it publishes."""
    with Builder(config, clock=now, workers=workers) as builder:
        return builder.build(progress=progress, adopt=adopt)


def adopt(
    config: Config,
    sources: Sequence[str],
    *,
    force: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
    now: Callable[[], datetime] = clock,
) -> AdoptReport:
    """Keep the entry ids of a site's old feeds (files or http(s) URLs): see
    :mod:`feedpub.adopt`."""
    from feedpub.adopt import run as adopt_ids

    return adopt_ids(config, sources, now=now(), force=force, dry_run=dry_run, workers=workers)


def run(
    config: Config,
    *,
    host: str | None = None,
    port: int | None = None,
    now: Callable[[], datetime] = clock,
) -> bool:
    """The daemon: watch, schedule, build and serve until SIGTERM/SIGINT. Returns False if it
    stopped because another daemon took the lead (its service manager should restart it)."""
    from feedpub.daemon import Daemon

    daemon = Daemon(config, clock=now, host=host, port=port)
    daemon.run()
    return not daemon.lost_lead.is_set()


def serve(
    config: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    drafts: bool = False,
    future: bool = False,
    on_ready: Callable[[str], None] | None = None,
    now: Callable[[], datetime] = clock,
) -> None:
    """The preview: build into a private temporary folder, serve it with live reload and
    rebuild on every save, until SIGTERM/SIGINT. Production's output and state are never
    opened; nobody is notified. ``drafts``/``future``: show drafts, future-dated articles.
    ``on_ready`` is called with the URL to open once the first build is served."""
    from feedpub.model import Showing
    from feedpub.preview import Preview

    preview = Preview(
        config, clock=now, host=host, port=port, showing=Showing(drafts=drafts, future=future)
    )
    preview.run(on_ready)


def notify(
    config: Config, *, dry_run: bool = False, now: Callable[[], datetime] = clock
) -> tuple[int, int]:
    """Send every pending notification now (after a one-shot build): (sent, failed)."""
    from feedpub.notify.notifier import Notifier

    notifier = Notifier(config, clock=now, dry_run=dry_run)
    try:
        return notifier.send_due(everything=True)
    finally:
        notifier.close()


def worker(config: Config, *, now: Callable[[], datetime] = clock) -> None:
    """Send notifications and hub deliveries from the outbox until SIGTERM/SIGINT.

    Any number of workers (and daemons) may share one state store: each row is claimed with a
    lease before it is sent, so two senders never send the same notification, and a sender
    that dies mid-send only delays its rows until the lease runs out."""
    import signal
    import threading

    from feedpub.notify.notifier import Notifier

    notifier = Notifier(config, clock=now)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
        notifier.stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        thread = threading.Thread(target=notifier.run, name="feedpub-worker", daemon=True)
        thread.start()
        while thread.is_alive() and not stop.wait(0.5):
            pass
        thread.join(timeout=notifier.notify.timeout_seconds + 1)
    finally:
        notifier.close()
        for s, handler in previous.items():
            signal.signal(s, handler)


def db_upgrade(config: Config) -> int:
    """Create or migrate the state store's schema; returns its version."""
    from feedpub.store import State

    with State(config.state_target) as state:
        return state.schema_version


def status(config: Config, *, now: Callable[[], datetime] = clock) -> dict[str, object]:
    """What the state store knows, readable while a daemon runs (:mod:`feedpub.status`:
    the admin listener's ``/status`` page shows the same)."""
    from feedpub.status import read_status

    return read_status(config, now=now())


def status_text(config: Config, *, now: Callable[[], datetime] = clock) -> list[str]:
    """:func:`status` in prose, a line per fact (``feedpub status``)."""
    from feedpub.status import read_status, status_lines

    at = now()
    info = read_status(config, now=at)
    return status_lines(info, now=at, articles=config.paths.articles, cwd=Path.cwd())


def check(
    config: Config, *, now: Callable[[], datetime] = clock
) -> tuple[int, list[Problem], list[SkippedFile]]:
    return check_articles(config, clock=now)


STARTER_CONFIG = """\
# feedpub configuration. Every key is documented in the README.
[site]
title = {title}
base_url = {base_url}
author = "Your Name"
language = "en"
timezone = "UTC"

[paths]
articles = "articles"
output = "public"

[feeds]
formats = ["atom", "rss", "json"]
max_entries = 20
content = "full"
"""

STARTER_ARTICLE = """\
---
title: Hello, world
date: {date}
categories: [News]
summary: The first article on this site.
---
This is an article in **Markdown**. Edit it, or add more files next to it, then run
`feedpub build`.
"""


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (control characters escaped)."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def starter_config(
    directory: Path, *, base_url: str = "https://example.org/", title: str = "My Site"
) -> str:
    """The starter config.toml, for the site at ``base_url`` (checked as the config
    checks it: an absolute http(s) URL) called ``title``."""
    import tomllib

    from feedpub.config import from_mapping
    from feedpub.errors import ConfigError

    if not title.strip():
        raise ConfigError("--title may not be empty")
    base = base_url if base_url.endswith("/") else base_url + "/"
    text = STARTER_CONFIG.format(title=_toml_string(title.strip()), base_url=_toml_string(base))
    try:
        from_mapping(tomllib.loads(text), base_dir=directory)
    except ConfigError as e:
        raise ConfigError(f"--base-url or --title: {e}") from e
    return text


def init(
    directory: Path, *, base_url: str = "https://example.org/", title: str = "My Site"
) -> Iterator[tuple[Path, bool]]:
    """Create a starter config and articles folder; yield (path, created)."""
    text = starter_config(directory, base_url=base_url, title=title)  # (checked first)
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "config.toml"
    if cfg.exists():
        yield cfg, False
    else:
        cfg.write_text(text, encoding="utf-8")
        yield cfg, True
    articles = directory / "articles"
    articles.mkdir(exist_ok=True)
    first = articles / "hello-world.md"
    if first.exists():
        yield first, False
    else:
        today = clock().replace(microsecond=0).isoformat()
        first.write_text(STARTER_ARTICLE.format(date=today), encoding="utf-8")
        yield first, True


NEW_ARTICLE_BODY = "Write the article here, then remove `draft: true` to publish it.\n"


def new_article(
    config: Config, title: str, *, category: str | None = None, now: Callable[[], datetime] = clock
) -> Path:
    """Write a new draft article in the articles folder, in a file named after a slug that
    no file and no published article has; its path (relative to the current folder when
    it lies below it)."""
    import yaml

    from feedpub.errors import ConfigError
    from feedpub.slug import slugify
    from feedpub.store import State

    if not title.strip():
        raise ConfigError("the title of a new article may not be empty")
    folder = config.paths.articles
    if not folder.is_dir():
        raise ConfigError(f"the articles folder {folder} does not exist", key="paths.articles")
    taken: set[str] = set()
    if not isinstance(config.state_target, Path) or config.state_target.exists():
        with State(config.state_target) as state:
            taken = state.live_slugs()
    base = slugify(title, fallback_prefix="article")
    slug, n = base, 1
    while slug in taken or (folder / f"{slug}.md").exists():
        n += 1
        slug = f"{base}-{n}"
    fields: dict[str, object] = {
        "title": title.strip(),
        "date": now().astimezone(config.site.tz).replace(microsecond=0),
    }
    if category:
        fields["categories"] = [category]
    fields["draft"] = True
    front = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False, width=2**31 - 1)
    if yaml.safe_load(front) != fields:  # (a character YAML reads as a line break: NEL...)
        front = yaml.safe_dump(fields, sort_keys=False, width=2**31 - 1)  # all escaped
    text = f"---\n{front}---\n{NEW_ARTICLE_BODY}"
    path = folder / f"{slug}.md"
    with open(path, "x", encoding="utf-8") as f:  # never over a file made meanwhile
        f.write(text)
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
