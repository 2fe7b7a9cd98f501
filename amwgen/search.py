"""Full-text search: Pagefind indexes the new output tree before it is swapped in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

from amwgen.config import ConfigError
from amwgen.model import Problem, SiteConfig

BUNDLE = "pagefind"  # the folder below the output root that Pagefind writes


def index_search(root: Path, config: SiteConfig) -> None:
    """Write root/pagefind/ from the pages below root; ConfigError when Pagefind fails.

    Raising inside write_site's fill discards the new tree, so the old output stays
    (SPEC 6). Pagefind's output is a pure function of the pages: same pages, same bytes.
    """
    if not config.search:
        return
    command = [str(pagefind_binary()), "--site", str(root), "--output-subdir", BUNDLE, "--silent"]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as err:
        _fail(f"cannot run Pagefind: {err}")
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        _fail(f"Pagefind failed: {detail[-1] if detail else f'exit {proc.returncode}'}")


def pagefind_binary() -> Path:
    """The Pagefind executable: the one the pagefind[bin] wheel brings, else on PATH."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        found = None
    else:
        found = get_executable()
    if found is None:
        on_path = shutil.which("pagefind")
        if on_path is None:
            _fail("Pagefind is not installed (pip install 'pagefind[bin]')")
        return Path(on_path)
    return found


def _fail(message: str) -> NoReturn:
    hint = "; set `search: false` to build without search"
    raise ConfigError([Problem(Path("site.yaml"), 1, "search", message + hint)])
