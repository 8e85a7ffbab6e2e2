"""The ``feedpub`` command. Turns :class:`FeedpubError` into messages and exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from feedpub import __version__
from feedpub.errors import FeedpubError

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedpub",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'feedpub COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"feedpub {__version__}")
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="how much to log (default: warning)",
    )
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
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for large builds (default: one per CPU)",
    )

    c = sub.add_parser(
        "check",
        help="validate the config and every article, writing nothing",
        description="Validate the config and every article without writing anything. "
        "Lists each problem as path:line: message; exits 1 if there is any.",
    )
    _add_config(c)

    i = sub.add_parser(
        "init",
        help="create a starter config.toml and articles/ folder",
        description="Create config.toml and articles/ with one example article in DIR "
        "(default: the current folder). Existing files are left alone.",
    )
    i.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR")
    return parser


class _Progress:
    """A one-line progress display on a terminal; silent elsewhere."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.tty and time.monotonic() - self.start > 0.5:
            sys.stderr.write(f"\r{stage}: {done}/{total} ")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _cmd_build(args: argparse.Namespace) -> int:
    from feedpub import app

    config = app.load_config(args.config)
    progress = _Progress()
    started = time.monotonic()
    try:
        result = app.build(config, workers=args.jobs, progress=progress)
    finally:
        progress.clear()
    elapsed = time.monotonic() - started
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if not args.quiet:
        print(
            f"{result.articles} articles ({result.published} published, {result.scheduled} "
            f"scheduled, {result.drafts} drafts); {len(result.feeds)} feeds; "
            f"{len(result.written)} files written, {result.unchanged} unchanged"
            + (f", {len(result.removed)} removed" if result.removed else "")
            + f"; {len(result.problems)} problems; {elapsed:.2f}s"
        )
        if result.next_go_live:
            print(f"next scheduled article goes live at {result.next_go_live.isoformat()}")
        print(f"output: {config.paths.output}")
    if args.strict and result.problems:
        return EXIT_PROBLEMS
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from feedpub import app

    config = app.load_config(args.config)
    count, problems = app.check(config)
    for problem in problems:
        print(problem)
    print(f"{count} articles checked, {len(problems)} problems", file=sys.stderr)
    return EXIT_PROBLEMS if problems else EXIT_OK


def _cmd_init(args: argparse.Namespace) -> int:
    from feedpub import app

    for path, created in app.init(args.dir):
        print(f"{'created' if created else 'exists, left alone'}: {path}")
    print("next: feedpub build")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(levelname)s %(name)s: %(message)s",
    )
    commands = {"build": _cmd_build, "check": _cmd_check, "init": _cmd_init}
    try:
        return commands[args.command](args)
    except FeedpubError as e:
        print(f"feedpub: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
