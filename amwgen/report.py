"""What check and build print: problems as text, GitHub annotations or JSON; the build report."""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from amwgen.build import Result
from amwgen.model import Problem

FORMATS = ("text", "github", "json")
# Issue 5: the bar appears only for builds that take longer than this.
PROGRESS_DELAY = 1.0


def choose_format(given: str | None, environ: Mapping[str, str]) -> str:
    """The --format given, else github inside GitHub Actions, else text."""
    if given:
        return given
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def print_problems(
    errors: Sequence[Problem],
    warnings: Sequence[Problem],
    fmt: str,
    out: TextIO,
    err: TextIO | None,
    quiet: bool = False,
) -> None:
    """Print each problem as a line on err (SPEC 6, any format; None: the caller said them
    otherwise), and for github or json on out.

    quiet leaves the warnings out of the text lines and the annotations.
    """
    listed = () if quiet else warnings
    for problem in (*listed, *errors) if err is not None else ():
        print(as_text(problem), file=err)
    if fmt == "json":
        data = {"errors": [as_json(p) for p in errors], "warnings": [as_json(p) for p in warnings]}
        print(json.dumps(data, ensure_ascii=False, indent=2), file=out)
    elif fmt == "github":
        for problem in (*listed, *errors):
            print(annotation(problem), file=out)


def as_text(problem: Problem) -> str:
    """SPEC 6: `path:line: field: message`, one line; a warning says so after the line."""
    if problem.severity == "error":
        return one_line(str(problem))
    where = f"{problem.field}: " if problem.field else ""
    return one_line(f"{problem.path}:{problem.line}: warning: {where}{problem.message}")


# Line breaks and other controls, which a file's name may hold: a name with a newline
# printed as it is made a second line that read as another error, in another file.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """text with its line breaks and other controls escaped (\\n, \\x1b): one line, and
    nothing that moves or colours a terminal."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode(), text)


def as_json(problem: Problem) -> dict[str, object]:
    return {
        "path": problem.path.as_posix(),
        "line": problem.line,
        "field": problem.field,
        "message": problem.message,
        "severity": problem.severity,
    }


def annotation(problem: Problem) -> str:
    """A GitHub workflow command that puts the problem on its file's line in a pull request."""
    kind = "error" if problem.severity == "error" else "warning"
    props = [f"file={_escape_property(problem.path.as_posix())}"]
    if problem.line >= 1:
        props.append(f"line={problem.line}")
    title = f"amwgen: {problem.field}" if problem.field else "amwgen"
    props.append(f"title={_escape_property(title)}")
    where = f"{problem.field}: " if problem.field else ""
    return f"::{kind} {','.join(props)}::{_escape_data(where + problem.message)}"


def _escape_data(text: str) -> str:
    # The runner's own escaping (actions/toolkit, core/src/command.ts: escapeData).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write_step_summary(
    command: str, errors: Sequence[Problem], warnings: Sequence[Problem], path: str
) -> None:
    """Append every problem as a Markdown table to $GITHUB_STEP_SUMMARY (annotations are capped)."""
    lines = [f"### amwgen {command}: {len(errors)} error(s), {len(warnings)} warning(s)", ""]
    if errors or warnings:
        lines += ["| file | line | severity | field | message |", "|---|---:|---|---|---|"]
        for p in (*errors, *warnings):
            cells = (p.path.as_posix(), str(p.line), p.severity, p.field or "", p.message)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    with open(path, "a", encoding="utf-8") as summary:
        summary.write("\n".join(lines) + "\n\n")


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`") or " "


def build_report(result: Result, verbose: bool = False) -> str:
    """Issue 5: pages by kind, terms by taxonomy, warnings, the pages rendered (the others
    kept from the last output: a CI log shows whether the restored cache and output were
    used, docs/deploy.md), time; verbose adds files by folder."""
    rows = [("pages", "")]
    rows += [(f"  {kind}", str(count)) for kind, count in result.pages]
    rows += [("terms", "")]
    rows += [(f"  {name}", str(count)) for name, count in result.terms]
    if verbose and result.output is not None:
        rows += [("files by folder", "")]
        rows += [(f"  {folder}", str(count)) for folder, count in files_by_folder(result.output)]
    rows += [("warnings", str(len(result.warnings))), ("rendered", str(result.rendered))]
    rows += [("time", f"{result.seconds:.2f} s")]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {count:>6}".rstrip() for name, count in rows)


def files_by_folder(out: Path) -> list[tuple[str, int]]:
    """How many files the output holds below each top-level folder ("/" for the root)."""
    counts: Counter[str] = Counter()
    for dirpath, _dirnames, filenames in os.walk(out):
        rel = Path(dirpath).relative_to(out).parts
        counts[f"{rel[0]}/" if rel else "/"] += len(filenames)
    return sorted(counts.items())


@contextmanager
def progress(enabled: bool, label: str = "building") -> Iterator[None]:
    """An indeterminate bar on the terminal, shown only once the work outlasts PROGRESS_DELAY."""
    if not enabled:
        yield
        return
    # Imported here: only a build on a terminal shows the bar, and rich takes a while to load.
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    done = threading.Event()
    bar = Progress(
        SpinnerColumn(),
        TextColumn(label),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(),
        transient=True,
    )

    def show_when_slow() -> None:
        if done.wait(PROGRESS_DELAY):
            return
        with bar:
            bar.add_task(label, total=None)
            done.wait()

    shower = threading.Thread(target=show_when_slow, name="amwgen-progress", daemon=True)
    shower.start()
    try:
        yield
    finally:
        done.set()
        shower.join(timeout=5)
