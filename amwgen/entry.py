"""The console entry point, light to import: Ctrl-C while amwgen's modules load (a fifth of
a second) printed a KeyboardInterrupt traceback, as no handler of ours was set yet."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

INTERRUPTED = "amwgen: interrupted; the previous output is untouched"  # cli says it too


def run() -> NoReturn:
    try:
        from amwgen.cli import run as run_command
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        sys.stderr.flush()
        os._exit(130)
    run_command()
