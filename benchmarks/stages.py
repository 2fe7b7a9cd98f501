"""Where one build's time goes: `amwgen build` with a timer around each of its stages.

    python benchmarks/stages.py SITE [build options, e.g. -j 2]

Runs the build as `python -m amwgen build SITE ...` does, in this process, with a timer
around each stage that build.py calls (the names below), and prints to stderr the seconds
spent importing amwgen, in the whole build, in each stage that ran (in the order they first
started) and in none. A stage nested in another is counted in both: `gather` and
`build_index` in `check`; `render_groups`, `load_cards`, `sitemap_page` and `index_search` in
`write_site` (`load_cards` and `sitemap_page` in `render_groups`, which renders the sitemap
too). What forked workers do is counted as the time the stage that waits for them takes;
"in no stage" is the rest of the build (waiting for the clone of the output, the quick check
that nothing changed, the templates' digest). With `--verify`, the clean build it adds is
timed too. docs/performance.md, "Where the time goes", was measured with it.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

STAGES = (  # in the order a build starts them
    "input_stamp",
    "load_quick",
    "load_state",
    "check",
    "gather",
    "build_index",
    "input_key",
    "headlines",
    "seeded_prints",
    "plan_units",
    "write_site",
    "render_groups",
    "load_cards",
    "sitemap_page",
    "index_search",
    "save_state",
    "_save_quick",
)
# Stages that run inside another (the docstring): left out of the sum "in no stage" subtracts.
NESTED = frozenset(
    {
        "gather",
        "build_index",
        "render_groups",
        "load_cards",
        "sitemap_page",
        "index_search",
    }
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
    staged = sum(spent for name, spent in seconds.items() if name not in NESTED)
    print(f"  (in no stage)  {total - staged:.3f}", file=sys.stderr)
    return code


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(code)  # as amwgen does once a build has left its objects to the exit
