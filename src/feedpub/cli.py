"""The ``feedpub`` command. Turns :class:`FeedpubError` into messages and exit codes."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from feedpub import __version__, logs
from feedpub.cli_progress import StageProgress
from feedpub.errors import ConfigError, FeedpubError, one_line

if TYPE_CHECKING:
    from feedpub.config import Config

log = logging.getLogger("feedpub")

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2

_DESCRIPTION = """\
feedpub turns a folder of articles (Markdown with YAML/TOML front matter, or plain text with
'Key: value' headers) into Atom, RSS and JSON feeds: one for everything and one per category.
"""


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path("config.toml"),
        metavar="PATH",
        help="the configuration file (default: ./config.toml)",
    )


def _add_global(p: argparse.ArgumentParser, *, default: object) -> None:
    """The options every command takes, before or after the command's name: on the
    commands, ``default`` is SUPPRESS, so that one given before the name stands."""
    levels = ["debug", "info", "warning", "error"]
    p.add_argument(
        "--log-level",
        default=default if default is argparse.SUPPRESS else None,
        choices=levels,
        help="how much to log (default: info for run and serve, warning otherwise)",
    )
    p.add_argument(
        "--log-format",
        default=default if default is argparse.SUPPRESS else "text",
        choices=["text", "json"],
        help="log lines as text or as JSON objects, one per line (default: text)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedpub",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'feedpub COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"feedpub {__version__}")
    _add_global(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    b = sub.add_parser(
        "build",
        help="build every feed once, then exit",
        description="Build the feeds from the articles folder, writing only what changed. "
        "Prints a summary; article problems are warnings (exit 0) unless --strict.",
    )
    _add_config(b)
    b.add_argument(
        "--strict", action="store_true", help="exit 1 if any article has a problem (for CI)"
    )
    b.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    b.add_argument(
        "--adopt",
        action="store_true",
        help="publish into an output folder that holds files feedpub did not write (once: "
        "it is then marked as feedpub's); files at the paths feedpub publishes are replaced, "
        "the others left alone",
    )
    b.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for large builds (default: one per CPU)",
    )

    a = sub.add_parser(
        "adopt",
        help="keep the entry ids of a site's old feeds (moving a site to feedpub)",
        description="Read the old site's feeds (files or http(s) URLs; Atom, RSS or JSON "
        "Feed), match each entry to an article (by link, slug, or title and date) and keep "
        "the entry's id and published date as the article's identity, so that readers "
        "subscribed to the old feeds see no duplicates. Prints what matched, what did not, "
        "and why. An id that has already appeared in a feed feedpub wrote is not replaced "
        "without --force. Exit 2 if no feed could be read, 1 if some could not.",
    )
    a.add_argument("feeds", nargs="+", metavar="FEED", help="an old feed: a file or a URL")
    _add_config(a)
    a.add_argument(
        "--force",
        action="store_true",
        help="also replace ids that have appeared in feeds feedpub wrote (their readers see "
        "those entries once more)",
    )
    a.add_argument("--dry-run", action="store_true", help="print what would be done; store nothing")

    c = sub.add_parser(
        "check",
        help="validate the config and every article, writing nothing",
        description="Validate the config and every article without writing anything. "
        "Lists each problem as path:line: message; exits 1 if there is any.",
    )
    _add_config(c)

    r = sub.add_parser(
        "run",
        help="run the daemon: watch articles, publish on time, serve the feeds",
        description="Keep the feeds true to the articles folder and serve them over HTTP: "
        "a file watcher rebuilds the feeds an edit touches, a scheduler publishes "
        "future-dated articles on time and rescans periodically, and the built-in server "
        "answers feed readers (ETag, Last-Modified, gzip, WebSub Link headers). Stops "
        "cleanly on SIGTERM or SIGINT.",
    )
    _add_config(r)
    r.add_argument("--host", help="address to listen on (default: [server] host, 127.0.0.1)")
    r.add_argument(
        "--port",
        type=int,
        help="port to listen on (default: [server] port, 8080; 0 picks a free one)",
    )

    sv = sub.add_parser(
        "serve",
        help="preview the site while writing: live reload, drafts and future articles",
        description="Build the site into a private temporary folder (never the configured "
        "output or state; removed on exit) with every link pointing at this preview, serve "
        "it, and rebuild on every save: open pages reload themselves. Notifies nobody. "
        "Stops on SIGTERM or SIGINT (Ctrl-C).",
    )
    _add_config(sv)
    sv.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; links name 127.0.0.1 when it is 0.0.0.0)",
    )
    sv.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: 8000; 0: any free)"
    )
    sv.add_argument("--drafts", action="store_true", help="show drafts too")
    sv.add_argument(
        "--future", action="store_true", help="show future-dated (scheduled) articles too"
    )
    sv.add_argument("--open", action="store_true", help="open the preview in a web browser")

    n = sub.add_parser(
        "notify",
        help="send pending notifications now (after a one-shot build)",
        description="Send every pending notification in the outbox now: WebSub publish pings, "
        "weblogUpdates pings and hub deliveries that `feedpub build` recorded. Failures stay "
        "queued for retry. --dry-run (or notify.enabled = false) logs what would be sent.",
    )
    _add_config(n)
    n.add_argument("--dry-run", action="store_true", help="log what would be sent; send nothing")

    w = sub.add_parser(
        "worker",
        help="send notifications and hub deliveries only (scale out senders)",
        description="Drain the outbox: WebSub pings, weblogUpdates pings and hub deliveries, "
        "with retries. Any number of workers may share one state store (PostgreSQL, or one "
        "SQLite file on one machine): rows are claimed with a lease, so none is sent twice, "
        "and a worker killed mid-send loses nothing. Stops on SIGTERM or SIGINT.",
    )
    _add_config(w)

    d = sub.add_parser(
        "db",
        help="manage the state store's schema",
        description="'feedpub db upgrade' creates the state store's tables, or migrates them "
        "to this version of feedpub, and prints the schema version. (Every command does this "
        "on its own when needed; run it explicitly before starting several processes.)",
    )
    d.add_argument("action", choices=["upgrade"], help="what to do")
    _add_config(d)

    s = sub.add_parser(
        "status",
        help="show articles, feeds, the last build and problems",
        description="Show what the state store knows: articles, feeds, the last build, "
        "problems, the next scheduled publication and pending notifications. Works while "
        "a daemon runs.",
    )
    _add_config(s)
    s.add_argument("--json", action="store_true", help="print JSON")

    i = sub.add_parser(
        "init",
        help="create a starter config.toml and articles/ folder",
        description="Create config.toml and articles/ with one example article in DIR "
        "(default: the current folder). Existing files are left alone.",
    )
    i.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR")
    i.add_argument(
        "--base-url",
        default="https://example.org/",
        metavar="URL",
        help="where the site will be published: entry ids derived from it stay for good",
    )
    i.add_argument("--title", default="My Site", help="the site's title")

    new = sub.add_parser(
        "new",
        help="write a new article (a draft) and print its path",
        description="Write a new Markdown article with YAML front matter: the title, the time "
        "now, the category, 'draft: true' (remove it to publish), in a file named after a slug "
        "no other article has. Prints its path.",
    )
    new.add_argument("title", help="the article's title")
    new.add_argument("--category", help="its category")
    _add_config(new)
    for command in sub.choices.values():
        _add_global(command, default=argparse.SUPPRESS)
    return parser


def _load_saying_warnings(path: Path, *, logged: bool = False) -> Config:
    """The config, its warnings said first, one line each on stderr (``logged``: as log
    records, for the daemon's log); a warning never changes the exit code."""
    from feedpub import app

    config = app.load_config(path)
    for warning in config.warnings:
        if logged:
            log.warning("%s", warning.render(config.source))
        else:
            print(warning.render(config.source), file=sys.stderr)
    return config


def _cmd_build(args: argparse.Namespace) -> int:
    from feedpub import app
    from feedpub.model import skipped_summary

    config = _load_saying_warnings(args.config)
    # a live line per stage on a terminal (stderr); nothing anywhere else, nor with -q
    progress = StageProgress(sys.stderr, live=not args.quiet and sys.stderr.isatty())
    started = time.monotonic()
    with progress.around_logging():
        try:
            result = app.build(
                config,
                workers=args.jobs,
                progress=progress if progress.live else None,
                adopt=args.adopt,
            )
        finally:
            progress.close()
    elapsed = time.monotonic() - started
    here = Path.cwd()
    for problem in result.problems:  # (paths relative to here when below it)
        print(problem.shown(config.paths.articles, here), file=sys.stderr)
    for skipped in result.skipped:
        log.warning("%s", skipped)
    if not args.quiet:
        print(
            f"{result.articles} articles ({result.published} published, {result.scheduled} "
            f"scheduled, {result.drafts} drafts"
            + (f", {result.hidden} hidden" if result.hidden else "")
            + f"); {len(result.feeds)} feeds; "
            f"{len(result.written)} files written, {result.unchanged} unchanged"
            + (f", {len(result.removed)} removed" if result.removed else "")
            + f"; {len(result.problems)} problems"
            + (
                f"; {skipped_summary(result.skipped, result.not_articles)}"
                if result.skipped or result.not_articles
                else ""
            )
            + (f"; {result.excluded} excluded ([paths] exclude)" if result.excluded else "")
            + f"; {elapsed:.2f}s"
        )
        if result.next_go_live:
            print(f"next scheduled article goes live at {result.next_go_live.isoformat()}")
        if result.next_expiry:
            print(f"next article expires at {result.next_expiry.isoformat()}")
        print(f"output: {config.paths.output}")
    if args.strict and result.problems:
        return EXIT_PROBLEMS
    return EXIT_OK


def _cmd_adopt(args: argparse.Namespace) -> int:
    from feedpub import app

    config = app.load_config(args.config)
    report = app.adopt(config, args.feeds, force=args.force, dry_run=args.dry_run)
    for error in report.errors:
        print(f"feedpub: error: {error}", file=sys.stderr)
    if not report.feeds:
        return EXIT_ERROR
    for line in report.lines():
        print(line)
    return EXIT_PROBLEMS if report.errors else EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from feedpub import app
    from feedpub.model import skipped_summary

    config = _load_saying_warnings(args.config)
    count, problems, skipped = app.check(config)
    here = Path.cwd()
    for problem in problems:  # (paths relative to here when below it)
        print(problem.shown(config.paths.articles, here))
    for s in skipped:
        log.warning("%s", s)
    print(
        f"{count} articles checked, {len(problems)} problems"
        + (f", {skipped_summary(skipped)}" if skipped else ""),
        file=sys.stderr,
    )
    return EXIT_PROBLEMS if problems else EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from feedpub import app

    config = _load_saying_warnings(args.config, logged=True)
    if not app.run(config, host=args.host, port=args.port):
        print("feedpub: error: another daemon took the lead; restart this one", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from feedpub import app

    config = app.load_config(args.config)

    def ready(url: str) -> None:
        print(f"preview: {url} (Ctrl-C to stop)", flush=True)
        if args.open:
            import webbrowser

            if not webbrowser.open(url):
                log.warning("no web browser could be opened; open %s", url)

    app.serve(
        config,
        host=args.host,
        port=args.port,
        drafts=args.drafts,
        future=args.future,
        on_ready=ready,
    )
    return EXIT_OK


def _cmd_notify(args: argparse.Namespace) -> int:
    from feedpub import app

    config = app.load_config(args.config)
    if args.dry_run and logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    sent, failed = app.notify(config, dry_run=args.dry_run)
    if not args.dry_run:
        print(f"{sent} notifications sent, {failed} failed")
    return EXIT_PROBLEMS if failed else EXIT_OK


def _cmd_worker(args: argparse.Namespace) -> int:
    from feedpub import app

    app.worker(app.load_config(args.config))
    return EXIT_OK


def _cmd_db(args: argparse.Namespace) -> int:
    from feedpub import app

    version = app.db_upgrade(app.load_config(args.config))
    print(f"state store at schema version {version}")
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    import json

    from feedpub import app

    config = app.load_config(args.config)
    if args.json:
        print(json.dumps(app.status(config), indent=2))
    else:
        print("\n".join(app.status_text(config)))
    return EXIT_OK


def _cmd_new(args: argparse.Namespace) -> int:
    from feedpub import app

    print(app.new_article(app.load_config(args.config), args.title, category=args.category))
    return EXIT_OK


def _cmd_init(args: argparse.Namespace) -> int:
    from feedpub import app

    for path, created in app.init(args.dir, base_url=args.base_url, title=args.title):
        print(f"{'created' if created else 'exists, left alone'}: {path}")
    here = args.dir.resolve() == Path.cwd().resolve()
    print(
        "next: feedpub build" if here else f"next: cd {shlex.quote(str(args.dir))} && feedpub build"
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = args.log_level or ("info" if args.command in ("run", "serve", "worker") else "warning")
    logs.setup(level, args.log_format)
    commands = {
        "adopt": _cmd_adopt,
        "build": _cmd_build,
        "check": _cmd_check,
        "init": _cmd_init,
        "new": _cmd_new,
        "run": _cmd_run,
        "serve": _cmd_serve,
        "notify": _cmd_notify,
        "worker": _cmd_worker,
        "db": _cmd_db,
        "status": _cmd_status,
    }
    try:
        return commands[args.command](args)
    except ConfigError as e:
        if e.path is None:  # (not about the file: a key of it, or an option)
            print(f"feedpub: error: {one_line(e)}", file=sys.stderr)
        for line in e.lines() if e.path is not None else ():
            print(line, file=sys.stderr)  # one a line: config.toml:3: error: site.x: ...
        return EXIT_ERROR
    except FeedpubError as e:
        print(f"feedpub: error: {one_line(e)}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as e:  # the net under every layer: a file that could not be used
        where = f"{e.filename}: " if e.filename else ""
        print(f"feedpub: error: {where}{one_line(e.strerror or e)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
