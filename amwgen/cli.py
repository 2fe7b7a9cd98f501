"""argv -> Options -> command -> exit code (SPEC 5: 0 ok, 1 content errors, 2 usage/site.yaml)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from amwgen import __version__
from amwgen.build import Options, build, check
from amwgen.config import ConfigError
from amwgen.model import Problem

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="amwgen", description="Build an AI-news digest from Markdown.")
    parser.add_argument("--version", action="version", version=f"amwgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    build_cmd = commands.add_parser("build", help="build the site into its output folder")
    _site_arg(build_cmd)
    build_cmd.add_argument(
        "-o", "--output", type=Path, help="output folder (default: site.yaml's output)"
    )
    _selection_args(build_cmd)
    build_cmd.add_argument("--base-url", help="override site.yaml's base_url")
    build_cmd.add_argument(
        "--clean", action="store_true", help="build from scratch, ignoring any cache"
    )
    build_cmd.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=os.cpu_count() or 1,
        metavar="N",
        help="parallel workers (default: all cores)",
    )
    build_cmd.add_argument(
        "--debug", action="store_true", help="show a traceback on unexpected failures"
    )
    check_cmd = commands.add_parser("check", help="validate everything, write nothing")
    _site_arg(check_cmd)
    _selection_args(check_cmd)
    check_cmd.add_argument(
        "--debug", action="store_true", help="show a traceback on unexpected failures"
    )
    return parser


def _site_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "site",
        nargs="?",
        type=Path,
        default=Path("."),
        metavar="SITE",
        help="folder holding site.yaml (default: .)",
    )


def _selection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drafts", action="store_true", help="include articles with draft: true")
    parser.add_argument("--future", action="store_true", help="include articles dated after now")


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of 1 or more")
    return int(text)


def build_now(environ: dict[str, str] | os._Environ[str]) -> datetime:
    """SPEC 3: "now" is SOURCE_DATE_EPOCH when set, else the clock; read once, here."""
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch == "":
        return datetime.now(UTC)
    if not epoch.strip().isdigit():
        raise UsageError(f"amwgen: SOURCE_DATE_EPOCH '{epoch}' is not a whole number of seconds")
    return datetime.fromtimestamp(int(epoch), UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = make_parser().parse_args(argv)
        return _run(args)
    except UsageError as err:
        print(err, file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as err:
        _print_problems(err.problems)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("amwgen: interrupted; the previous output is untouched", file=sys.stderr)
        return 130
    except OSError as err:
        if debug:
            traceback.print_exc()
        where = f" {err.filename}" if err.filename else ""
        print(f"amwgen: cannot write{where}: {err.strerror or err}", file=sys.stderr)
        return EXIT_CONTENT


def _run(args: argparse.Namespace) -> int:
    options = Options(
        now=build_now(os.environ),
        output=getattr(args, "output", None),
        drafts=args.drafts,
        future=args.future,
        base_url=getattr(args, "base_url", None),
        clean=getattr(args, "clean", False),
        jobs=getattr(args, "jobs", 1),
    )
    if args.command == "check":
        checked = check(args.site, options)
        _print_problems(checked.warnings)
        _print_problems(checked.problems)
        if checked.problems:
            print(f"{len(checked.problems)} error(s)", file=sys.stderr)
            return EXIT_CONTENT
        count = len(checked.index.entries) if checked.index else 0
        print(f"ok: {count} article(s), no errors")
        return EXIT_OK
    result = build(args.site, options)
    _print_problems(result.warnings)
    _print_problems(result.problems)
    if result.problems:
        print(f"{len(result.problems)} error(s); nothing was written", file=sys.stderr)
        return EXIT_CONTENT
    print(f"built {result.files} files in {result.seconds:.2f} s -> {result.output}")
    return EXIT_OK


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        if problem.severity == "error":
            print(problem, file=sys.stderr)
        else:
            where = f"{problem.field}: " if problem.field else ""
            print(
                f"{problem.path}:{problem.line}: warning: {where}{problem.message}", file=sys.stderr
            )
