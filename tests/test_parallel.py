"""Forked helpers: they leave interrupts to the build, and end with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amwgen.parallel import Background, can_fork

ROOT = Path(__file__).resolve().parent.parent

HOLDS_A_HELPER = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import Background
helper = Background(time.sleep, 60)
print(helper.pid, flush=True)
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


def _fails(path: str) -> None:
    raise FileNotFoundError(path)


@pytest.mark.skipif(not can_fork(), reason="no fork: Background works inline")
def test_a_helper_gives_its_result_or_its_error_and_one_that_dies_gives_an_oserror() -> None:
    """What a forked helper worked out comes back; so does the error it raised; one that
    ended without either (killed, out of memory) is an OSError rather than a build that waits
    for ever (the build then goes on without what it would have brought)."""
    helper = Background(sorted, [3, 1, 2])
    try:
        assert helper.pid > 0
        assert helper.result() == [1, 2, 3]
        assert helper.result() == [1, 2, 3]
    finally:
        helper.close()
    assert helper.pid == 0
    failing = Background(_fails, "/nowhere")
    try:
        with pytest.raises(FileNotFoundError, match="nowhere"):
            failing.result()
    finally:
        failing.close()
    dying = Background(os._exit, 3)
    try:
        with pytest.raises(OSError, match="without a result"):
            dying.result()
    finally:
        dying.close()
    killed = Background(time.sleep, 60)
    os.kill(killed.pid, signal.SIGKILL)
    try:
        with pytest.raises(OSError, match="without a result"):
            killed.result()
    finally:
        killed.close()
