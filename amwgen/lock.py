"""One build per output folder at a time: an flock on a lock file beside the output (issue 7).

The lock file is <parent>/.<output name>.lock and holds the holder's process id. The lock is
the kernel's (fcntl.flock), not the file's existence: a killed build's lock goes with its
process, so the lock file it leaves never blocks anyone. A build that finishes, well or not,
removes the file while it still holds the lock, so the site folder stays clean.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
    fd = _acquire(path, out, wait)
    try:
        os.ftruncate(fd, 0)  # a killed build's file may still name its pid
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        # Removed while still held, so no lock file stays behind a finished build; a build
        # that opened this file meanwhile sees it is gone and opens the next (_acquire).
        with suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


def _acquire(path: Path, out: Path, wait: float) -> int:
    """A descriptor of the lock file at path, locked by us."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            if time.monotonic() >= deadline:
                waited = f" after waiting {wait:g} s" if wait > 0 else ""
                raise Busy(
                    f"another build of {out} is running{holder}{waited}; "
                    "nothing was written (try again, or pass --wait SECONDS)"
                ) from None
            if not told:
                # Issue 7: say why we are quiet; tests also wait for this line.
                print(
                    f"amwgen: waiting for another build of {out}{holder}",
                    file=sys.stderr,
                    flush=True,
                )
                told = True
            time.sleep(POLL)
            continue
        if _same_file(fd, path):
            return fd
        os.close(fd)  # its holder removed it between our open and our lock: take the new one


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def _holder(fd: int) -> str:
    """The holder as ' (pid N)' from the lock file; '' when the file does not say."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return f" (pid {text})" if text.isdigit() else ""
