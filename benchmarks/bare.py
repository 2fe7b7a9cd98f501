"""The floor: read, parse front matter (C loader), render Markdown, write one file per article.

    python benchmarks/bare.py SITE OUT [--jobs N]

By default on one core, with no validation, no templates, no taxonomy pages: what any Python
generator must at least spend on the same corpus. With --jobs N, the same work split between
this process and N-1 forked ones (every Nth file each): what N cores of the machine give
this work at that time, which is not N times one core's on a shared virtual machine
(docs/performance.md, "Measuring").
"""

from __future__ import annotations

import argparse
import os
import shutil
import traceback
from pathlib import Path

import yaml
from markdown_it import MarkdownIt


def main(site: Path, out: Path, jobs: int = 1) -> None:
    """The site's articles converted into out, in jobs processes."""
    shutil.rmtree(out, ignore_errors=True)
    paths = sorted((site / "content").rglob("*.md"))
    children = []
    for part in range(1, jobs):
        pid = os.fork()
        if pid == 0:  # a worker: its part, then gone without running the parent's cleanup
            code = 1
            try:
                convert(paths[part::jobs], out)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        children.append(pid)
    try:
        convert(paths[::jobs], out)
    finally:  # every worker waited for, even when this process's share failed
        failed = [code for code in map(_exit_code, children) if code != 0]
    if failed:
        raise SystemExit(f"{len(failed)} worker(s) failed (exit codes {failed})")


def _exit_code(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def convert(paths: list[Path], out: Path) -> None:
    """Each article read, its front matter parsed, its Markdown rendered, written in out."""
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in paths:
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        meta = yaml.load(front, Loader=loader)
        html = f"<h1>{meta['title']}</h1>\n{md.render(body)}"
        target = out / path.stem / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text}: not a positive number")
    return number


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--jobs", type=_positive, default=1)
    args = parser.parse_args()
    main(args.site, args.out, args.jobs)
