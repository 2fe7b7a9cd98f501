"""Where one build's time goes: `amwgen build` with a timer around each of its stages.

    python benchmarks/stages.py SITE [build options, e.g. -j 2]

Runs the build as `python -m amwgen build SITE ...` does, in this process, with a timer
around each stage that build.py calls (the names below), and prints to stderr the seconds
spent importing amwgen, in the whole build, and in each stage that ran, in the order they
first started. A stage nested in another is counted in both (`gather` and `build_index` in
`check`, `render_groups` in `write_site`); what forked workers do is counted only as the
time the stage that waits for them takes. docs/performance.md, "Where the time goes", was
measured with it.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

STAGES = (
    "input_stamp",
    "load_quick",
    "load_state",
    "check",
    "gather",
    "build_index",
    "headlines",
    "seeded_prints",
    "input_key",
    "plan_units",
    "write_site",
    "load_cards",
    "render_groups",
    "sitemap_page",
    "render_one",
    "index_search",
    "save_state",
    "_save_quick",
)


def timed(name: str, fn: Callable[..., Any], seconds: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        seconds.setdefault(name, 0.0)  # in the order the stages start
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started

    return inner


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    import amwgen.build
    import amwgen.cli

    imported = time.perf_counter() - started
    seconds: dict[str, float] = {}
    for name in STAGES:
        setattr(amwgen.build, name, timed(name, getattr(amwgen.build, name), seconds))
    started = time.perf_counter()
    code = amwgen.cli.main(["build", *argv], exiting=True)
    total = time.perf_counter() - started
    print(f"imports {imported:.3f} s, build {total:.3f} s, exit code {code}", file=sys.stderr)
    for name, spent in seconds.items():
        print(f"  {name:14s} {spent:.3f}", file=sys.stderr)
    return code


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(code)  # as amwgen does once a build has left its objects to the exit
