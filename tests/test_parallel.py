"""Forked helpers: they leave interrupts to the build, and end with it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from amwgen.parallel import can_fork

ROOT = Path(__file__).resolve().parent.parent

HOLDS_A_HELPER = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import Background
helper = Background(time.sleep, 60)
print(helper._pool._pool[0].pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie that nobody reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux") or not can_fork(), reason="Linux only")
def test_a_helper_ends_when_its_build_is_killed_outright() -> None:
    build = subprocess.Popen([sys.executable, "-c", HOLDS_A_HELPER], stdout=subprocess.PIPE, text=True)
    assert build.stdout is not None
    helper = int(build.stdout.readline())
    assert _alive(helper)
    build.kill()  # SIGKILL: the build cannot stop its helpers itself
    build.wait()
    deadline = time.monotonic() + 10
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(helper)
