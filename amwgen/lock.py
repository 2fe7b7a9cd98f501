"""One build per output folder at a time: an flock on a lock file beside the output (issue 7).

The lock file is <parent>/.<output name>.lock and holds the holder's process id. The lock is
the kernel's (fcntl.flock), not the file's existence: a killed build's lock goes with its
process, so a stale lock file never blocks anyone. The file itself stays; it is empty of
meaning once nobody holds it.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_WAIT = 60.0  # seconds a build waits for another build of the same output
POLL = 0.05


class Busy(Exception):
    """Another build holds the output's lock and did not let go in time."""


def lock_path(out: Path) -> Path:
    """Where the lock of the output folder out lives: beside it, hidden."""
    out = out.absolute()
    return out.parent / f".{out.name}.lock"


@contextmanager
def output_lock(out: Path, wait: float = DEFAULT_WAIT) -> Iterator[None]:
    """Hold the output's lock while the block runs; Busy if it stays taken for wait seconds."""
    path = lock_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, out, wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock, if we held it


def _acquire(fd: int, out: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = _holder(fd)
        if time.monotonic() >= deadline:
            waited = f" after waiting {wait:g} s" if wait > 0 else ""
            raise Busy(
                f"another build of {out} is running{holder}{waited}; "
                "nothing was written (try again, or pass --wait SECONDS)"
            )
        if not told:
            # Issue 7: say why we are quiet; tests also wait for this line.
            print(
                f"amwgen: waiting for another build of {out}{holder}", file=sys.stderr, flush=True
            )
            told = True
        time.sleep(POLL)


def _holder(fd: int) -> str:
    """The holder as ' (pid N)' from the lock file; '' when the file does not say."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return f" (pid {text})" if text.isdigit() else ""
