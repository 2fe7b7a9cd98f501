"""argv -> Options -> command -> exit code (SPEC 5: 0 ok, 1 content errors, 2 usage/site.yaml)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import NoReturn

from amwgen import __version__
from amwgen.build import (
    Options,
    build,
    check_site,
    import_problems,
    layout_problems,
    output_dir,
    static_problems,
    verify,
)
from amwgen.config import ConfigError, FlagError
from amwgen.entry import INTERRUPTED
from amwgen.linkcheck import DEFAULT_TIMEOUT, articles_of, check_sources
from amwgen.load import shown
from amwgen.lock import DEFAULT_WAIT, Busy
from amwgen.model import Problem
from amwgen.parallel import WorkerLost
from amwgen.report import (
    FORMATS,
    as_text,
    build_report,
    choose_format,
    one_line,
    print_problems,
    progress,
    write_step_summary,
)
from amwgen.scaffold import BadTitle, NewTerms, Refused, init_site, new_article
from amwgen.schema import schema_json
from amwgen.validate import YEARS

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE's number: what a shell shows for a tool it ended
DEFAULT_PORT = 8000


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        raise _usage(self.prog, message)


def _usage(prog: str, message: str) -> UsageError:
    return UsageError(f"{prog}: {message} (see '{prog} --help')")


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
        "--verify",
        action="store_true",
        help="also build from scratch in a temp folder; fail if the two outputs differ",
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
        "--wait",
        type=_seconds,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help="while another build of the same output runs, wait this long for it, then give "
        "up (default: %(default)g; 0 gives up at once)",
    )
    build_cmd.add_argument(
        "--debug", action="store_true", help="show a traceback on unexpected failures"
    )
    _report_args(build_cmd)
    check_cmd = commands.add_parser("check", help="validate everything, write nothing")
    _site_arg(check_cmd)
    _selection_args(check_cmd)
    check_cmd.add_argument(
        "--sources",
        action="store_true",
        help="also fetch every article's source URL; dead or redirected ones are warnings",
    )
    check_cmd.add_argument(
        "--sources-timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="give up on a source URL after this long (default: %(default)g)",
    )
    check_cmd.add_argument(
        "--debug", action="store_true", help="show a traceback on unexpected failures"
    )
    _report_args(check_cmd, writes=False)
    _add_writing_commands(commands)
    return parser


def _report_args(parser: argparse.ArgumentParser, writes: bool = True) -> None:
    """--format, -q and -v; writes: the command writes files, which -v counts (check takes
    -v too, as build does, but prints nothing more: its help leaves it out)."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="problems also as GitHub annotations or JSON on stdout "
        "(default: github when GITHUB_ACTIONS is set, else text)",
    )
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    loudness.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also count the files written by folder" if writes else argparse.SUPPRESS,
    )


def _add_writing_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """serve, new, init, schema: the author's loop (issue 5)."""
    serve_cmd = commands.add_parser("serve", help="build, serve, rebuild and reload on change")
    _site_arg(serve_cmd)
    _selection_args(serve_cmd)
    serve_cmd.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks one"
    )
    serve_cmd.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default: %(default)s)",
    )
    serve_cmd.add_argument(
        "--debug", action="store_true", help="show a traceback when a rebuild fails unexpectedly"
    )
    new_cmd = commands.add_parser(
        "new",
        help="start an article dated today",
        usage='amwgen new [-h] [--topic TOPIC] [--player PLAYER] [--tag TAG] [SITE] "TITLE"',
    )
    new_cmd.add_argument(
        "words", nargs="+", metavar="[SITE] TITLE", help="the site folder (default: .) and title"
    )
    new_cmd.add_argument("--topic", action="append", default=[], help="a topic (repeatable)")
    new_cmd.add_argument("--player", action="append", default=[], help="a player (repeatable)")
    new_cmd.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    init_cmd = commands.add_parser("init", help="create a new site with one example article")
    init_cmd.add_argument(
        "dir", type=_new_folder, metavar="DIR", help="folder to create the site in"
    )
    schema_cmd = commands.add_parser(
        "schema", help="print the JSON Schema of article front matter (or of site.yaml)"
    )
    schema_cmd.add_argument(
        "site", nargs="?", type=Path, metavar="SITE", help="use this site's score scales"
    )
    schema_cmd.add_argument("--site", dest="of_site", action="store_true", help="of site.yaml")


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number from 0 to 65535")
    return int(text)


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


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds (0 or more)")
    return value


def _new_folder(text: str) -> Path:
    # An empty name was the working folder (Path("") is "."): `amwgen init "$DIR"` with DIR
    # unset made a site where it ran (a review).
    if not text:
        raise argparse.ArgumentTypeError("'' names no folder")
    return Path(text)


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of 1 or more")
    return int(text)


def build_now(environ: dict[str, str] | os._Environ[str]) -> datetime:
    """SPEC 3: "now" is SOURCE_DATE_EPOCH when set, else the clock; read once, here."""
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch == "":
        return datetime.now(UTC)
    digits = epoch.strip()
    if not (digits.isascii() and digits.isdigit()):  # "²" is a digit to str.isdigit
        # (-5: reproducible-builds.org counts from 1970 on; "is not a whole number" misled.)
        message = "is not a whole number of seconds since 1970"
        raise UsageError(f"amwgen: SOURCE_DATE_EPOCH '{epoch}' {message}")
    try:
        now: datetime | None = datetime.fromtimestamp(int(digits), UTC)
    except (ValueError, OverflowError, OSError):  # after the year 9999
        now = None
    if now is None or now.year > YEARS[1]:  # as a story's date: the calendar goes on after it
        raise UsageError(f"amwgen: SOURCE_DATE_EPOCH '{epoch}' is after the year {YEARS[1]}")
    return now


def run() -> NoReturn:
    """The console entry point: main, then exit at once. Issue 8: a large site's cache and
    index are millions of objects, a fifth of a second to free one by one at the
    interpreter's exit; the system frees the process's memory whole. Nothing is left to do
    by then: pools are closed, files written, the lock released. For the same reason a
    build leaves what it made to the exit (Options.exiting)."""
    try:
        code = main(exiting=True)
    except BrokenPipeError:  # while a handler in main printed an error: as main's own
        code = EXIT_BROKEN_PIPE
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None, exiting: bool = False) -> int:
    """Run one command; return its exit code. exiting: the process ends right after (run)."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    args: argparse.Namespace | None = None
    try:
        given = list(argv if argv is not None else sys.argv[1:])
        args, extra = make_parser().parse_known_args(given)
        if extra:  # said of the command's parser, as its other usage errors are (a review),
            # unless given before the command, to amwgen itself
            before = given[: given.index(args.command)] if args.command in given else []
            prog = "amwgen" if any(arg in before for arg in extra) else f"amwgen {args.command}"
            raise _usage(prog, f"unrecognized arguments: {' '.join(extra)}")
        return _run(args, exiting)
    except UsageError as err:
        # An argument is said as given: its controls escaped (a review: `new --tag` with an
        # escape sequence coloured the terminal).
        print(one_line(str(err)), file=sys.stderr)
        return EXIT_USAGE
    except FlagError as err:
        command = getattr(args, "command", None)
        print(one_line(f"amwgen {command}: {err.flag}: {err.message}"), file=sys.stderr)
        fmt = choose_format(getattr(args, "format", None), os.environ)
        # The flag as the path in --format json and github, as for a site.yaml problem.
        print_problems(err.problems, (), fmt, sys.stdout, None)
        return EXIT_USAGE
    except ConfigError as err:
        fmt = choose_format(getattr(args, "format", None), os.environ)
        print_problems(err.problems, (), fmt, sys.stdout, sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Busy as err:
        print(f"amwgen: {err}", file=sys.stderr)
        return EXIT_CONTENT
    except WorkerLost as err:
        # Killed from outside, most often by the kernel when memory runs out (-j 1 needs less).
        print(
            f"amwgen: {err} (killed? out of memory?); the previous output is untouched",
            file=sys.stderr,
        )
        return EXIT_CONTENT
    except BrokenPipeError:
        # What reads our output went away (`amwgen schema | head`): nothing more is said, as
        # for a tool that SIGPIPE ends, and with its exit code (run's flush fails quietly).
        return EXIT_BROKEN_PIPE
    except OSError as err:
        if debug:
            traceback.print_exc()
        where = f" {err.filename}" if err.filename else ""
        print(f"amwgen: cannot write{where}: {err.strerror or err}", file=sys.stderr)
        return EXIT_CONTENT


def _run(args: argparse.Namespace, exiting: bool = False) -> int:
    if args.command in ("new", "init", "schema"):
        return _write_command(args)
    options = Options(
        now=build_now(os.environ),
        output=getattr(args, "output", None),
        drafts=args.drafts,
        future=args.future,
        base_url=getattr(args, "base_url", None),
        clean=getattr(args, "clean", False),
        jobs=getattr(args, "jobs", 1),
        wait=getattr(args, "wait", DEFAULT_WAIT),
    )
    if args.command == "serve":
        clock = partial(build_now, os.environ)  # read again for each rebuild
        from amwgen.serve import serve  # its server and watcher load only when serving

        return serve(args.site, options, args.bind, args.port, clock, args.debug)
    if args.command == "check":
        checked = check_site(args.site, options)
        output_dir(args.site, checked.config, options)  # ConfigError, as for build
        # What build finds only when rendering, and when copying static/.
        more = [
            *layout_problems(args.site, checked),
            *import_problems(args.site, checked),
            *static_problems(args.site, checked),
        ]
        if more:
            problems = sorted((*checked.problems, *more), key=Problem.sort_key)
            checked = replace(checked, problems=tuple(problems))
        if args.sources:
            # Issue 7: dead or moved sources are warnings; the exit code stays as it was.
            found = check_sources(articles_of(checked.sources), args.sources_timeout)
            warnings = sorted((*checked.warnings, *found), key=Problem.sort_key)
            checked = replace(checked, warnings=tuple(warnings))
        fmt = _show_problems("check", checked.problems, checked.warnings, args)
        if checked.problems:
            print(f"{len(checked.problems)} error(s)", file=sys.stderr)
            return EXIT_CONTENT
        count = len(checked.index.entries) if checked.index else 0
        if fmt != "json" and not args.quiet:
            print(f"ok: {count} article(s), no errors")
        return EXIT_OK
    fmt = choose_format(args.format, os.environ)
    # Issue 5: a bar only on a terminal; progress() shows it only after a second.
    with progress(sys.stdout.isatty() and not args.quiet and fmt != "json"):
        # --verify builds again in this process: then this build's objects are freed.
        result = build(args.site, replace(options, exiting=exiting and not args.verify))
    _show_problems("build", result.problems, result.warnings, args)
    if result.problems:
        print(f"{len(result.problems)} error(s); nothing was written", file=sys.stderr)
        return EXIT_CONTENT
    if fmt != "json" and not args.quiet:
        print(build_report(result, args.verbose))
        print(
            f"built {result.files} files in {result.seconds:.2f} s -> {shown(str(result.output))}"
        )
    if args.verify and result.output is not None:
        return _verify(args.site, options, result.output)
    return EXIT_OK


def _verify(site: Path, options: Options, output: Path) -> int:
    """Issue 8: the incremental output must equal a clean build, byte for byte."""
    differing = verify(site, options, output)
    if differing:
        shown = ", ".join(differing[:10]) + (" ..." if len(differing) > 10 else "")
        print(
            f"verify: {len(differing)} file(s) differ from a clean build: {shown}",
            file=sys.stderr,
        )
        return EXIT_CONTENT
    print("verify: identical to a clean build")
    return EXIT_OK


def _show_problems(
    command: str, errors: Sequence[Problem], warnings: Sequence[Problem], args: argparse.Namespace
) -> str:
    """Print a run's problems in the format asked for; return that format."""
    fmt = choose_format(args.format, os.environ)
    print_problems(errors, warnings, fmt, sys.stdout, sys.stderr, args.quiet)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary:
        # Issue 5: a workflow shows only the first few annotations; the summary has them all.
        write_step_summary(command, errors, warnings, summary)
    return fmt


def _write_command(args: argparse.Namespace) -> int:
    """new, init and schema: commands that write or print one file, not a site."""
    if args.command == "schema":
        print(schema_json(args.site, args.of_site))
        return EXIT_OK
    now = build_now(os.environ)
    try:
        if args.command == "init":
            for path in init_site(args.dir, now):
                print(shown(str(path)))
            print(f"next: amwgen serve {shown(str(args.dir))}")
            return EXIT_OK
        words = args.words
        if len(words) > 2:
            raise UsageError('amwgen new: give [SITE] "Title"; quote a title that has spaces')
        site, title = (".", words[0]) if len(words) == 1 else (words[0], words[1])
        terms = NewTerms(tuple(args.topic), tuple(args.player), tuple(args.tag))
        print(shown(str(new_article(Path(site), title, now, terms))))
        return EXIT_OK
    except BadTitle as err:
        raise UsageError(f"amwgen new: {err}") from None
    except Refused as err:
        # Issue 5: never overwrite an author's file.
        print(one_line(f"amwgen {args.command}: {err}"), file=sys.stderr)
        return EXIT_CONTENT


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(as_text(problem), file=sys.stderr)
