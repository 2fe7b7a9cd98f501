"""Rewrite tests/golden/<site>/ from tests/fixtures/<site>/; review the diff like code.

Run: python tests/update_golden.py   (or: make golden)
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from amwgen.cli import main  # noqa: E402

GOLDEN_SITES = ("golden",)
EPOCH = "1795651200"  # keep equal to conftest.EPOCH


def regenerate(name: str) -> int:
    target = HERE / "golden" / name
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    shutil.rmtree(target, ignore_errors=True)
    code = main(["build", str(HERE / "fixtures" / name), "-o", str(target), "-j", "1"])
    # The search index is Pagefind's output, not ours: test_golden leaves it out.
    shutil.rmtree(target / "pagefind", ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(max(regenerate(name) for name in GOLDEN_SITES))
