"""Test-only hooks: pause a build at a named stage, or make it fail there (issue 7).

Nothing here runs unless one of these environment variables is set, which only the tests do:

  AMWGEN_TEST_PAUSE_AT=<stage>   print "amwgen-test: paused at <stage>" on stderr, then wait
                                 until the file named by AMWGEN_TEST_RELEASE exists (or up
                                 to PAUSE_LIMIT seconds), so a test can kill the build there
  AMWGEN_TEST_FAULT=<stage>:<ERRNO>   raise OSError(errno.<ERRNO>) at that stage, e.g.
                                 "render:ENOSPC" (disk full) or "output:EACCES"

Stages: "walk" (content/ listed, nothing read yet), "output" (before the temp folder beside
the output is made), "render" (before each page file is written; a pause waits for the
RENDER_PAUSE_AFTER-th page, so some are on disk), "swap" (the new tree is complete, just
before it is swapped in), "swapped" (between the exchange and the removal of the old tree),
"exchange" (a fault there makes the swap take its two-rename fallback) and "renamed"
(between the fallback's two renames).
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections import Counter
from pathlib import Path

PAUSE_ENV, RELEASE_ENV, FAULT_ENV = (
    "AMWGEN_TEST_PAUSE_AT",
    "AMWGEN_TEST_RELEASE",
    "AMWGEN_TEST_FAULT",
)
PAUSE_LIMIT = 120.0
RENDER_PAUSE_AFTER = 5
_reached: Counter[str] = Counter()


def reach(stage: str, path: Path | str | None = None) -> None:
    """Pause or fail at stage when a test asked for it; return at once otherwise."""
    pause, fault = os.environ.get(PAUSE_ENV), os.environ.get(FAULT_ENV)
    if pause is None and fault is None:
        return
    _reached[stage] += 1
    if pause == stage and _reached[stage] == (RENDER_PAUSE_AFTER if stage == "render" else 1):
        print(f"amwgen-test: paused at {stage}", file=sys.stderr, flush=True)
        release = os.environ.get(RELEASE_ENV)
        deadline = time.monotonic() + PAUSE_LIMIT
        while time.monotonic() < deadline and not (release and os.path.exists(release)):
            time.sleep(0.02)
    if fault is not None and fault.partition(":")[0] == stage:
        code = getattr(errno, fault.partition(":")[2], errno.EIO)
        raise OSError(code, os.strerror(code), None if path is None else str(path))
