"""One parallel map over forked workers, for the stages that work item by item.

Workers inherit the items and the context through fork, so nothing is pickled on the way
in; only the results come back. Where fork is missing (or the job is small), it runs inline.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")
BATCH = 64

_WORK: tuple[Callable[[Any, Any], Any], Sequence[Any], Any, Any] | None = None


def fork_map(
    fn: Callable[[T, C], R],
    items: Sequence[T],
    context: C,
    jobs: int,
    min_items: int = 200,
    share: bool = False,
) -> list[R]:
    """[fn(item, context) for item in items], in `jobs` forked workers when there are many.

    share: this process works too, in place of one worker. It takes batches from the end
    while the workers take them from the start, each batch claimed by whoever comes first
    (a flag per batch in memory the workers share), so that all finish together. For work
    that is done in a few tenths of a second, where forking the last worker costs more
    than it brings; fn then runs here too, and must leave nothing behind that matters.
    """
    global _WORK
    if jobs <= 1 or len(items) < min_items or not can_fork():
        return [fn(item, context) for item in items]
    # Batches small enough that each worker gets several, so that they finish together.
    size = max(1, min(BATCH, len(items) // (jobs * 4)))
    tasks = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    forking = multiprocessing.get_context("fork")
    claimed = forking.Array("b", len(tasks)) if share else None
    mine: dict[int, list[R]] = {}
    _WORK = (fn, items, context, claimed)
    try:
        with forking.Pool(
            jobs - 1 if share else jobs, initializer=_collect_own, initargs=(os.getpid(),)
        ) as pool:
            pending = pool.map_async(_run, list(enumerate(tasks)), chunksize=1)
            if claimed is not None:
                for number in reversed(range(len(tasks))):
                    if not _claim(claimed, number):
                        break  # the workers have come this far: the rest is theirs
                    start, end = tasks[number]
                    mine[number] = [fn(item, context) for item in items[start:end]]
            theirs = pending.get()  # None for each batch this process took
    finally:
        _WORK = None
    batches = (mine[n] if batch is None else batch for n, batch in enumerate(theirs))
    return [result for batch in batches for result in batch]


def _claim(claimed: Any, number: int) -> bool:
    """Whether batch number is the caller's: the first to ask gets it."""
    with claimed.get_lock():
        if claimed[number]:
            return False
        claimed[number] = 1
        return True


def _run(task: tuple[int, tuple[int, int]]) -> list[Any] | None:
    """A worker's batch; None when fork_map's own process took it (share)."""
    assert _WORK is not None, "fork_map sets the work before the pool starts"
    fn, items, context, claimed = _WORK
    number, (start, end) = task
    if claimed is not None and not _claim(claimed, number):
        return None
    return [fn(item, context) for item in items[start:end]]


def _collect_own(parent: int) -> None:
    """In a worker: what it inherited stays out of the cycle collector's sight (the build
    paused it in the parent), and the garbage the worker makes is collected as usual."""
    _leave_interrupts(parent)
    gc.freeze()
    gc.enable()


def _leave_interrupts(parent: int) -> None:
    """In a forked helper: Ctrl-C reaches the whole process group, and is the parent's to
    handle; the parent stops its helpers with SIGTERM, which must end one at once. A helper
    that took either for a KeyboardInterrupt (serve turns SIGTERM into one, and a forked
    process inherits that) would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _end_with_parent(parent)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_parent(parent: int) -> None:
    """Linux: the kernel sends this helper SIGTERM when the process that forked it (parent)
    dies. A build killed outright (SIGKILL) cannot stop its helpers, which would go on
    rendering or cloning for nobody. Elsewhere, nothing happens."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # it died before the signal was asked for
            os._exit(1)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Background(Generic[R]):
    """fn(*args) worked out by a forked process while this one goes on (inline where fork
    is missing); result() waits for it; close() must follow. The process inherits fn and
    args: nothing is pickled but the result, which comes back through a pipe that result()
    reads (no thread of this process waits on it meanwhile, taking turns with the build)."""

    def __init__(self, fn: Callable[..., R], *args: Any) -> None:
        self._pid = 0
        self._outcome: tuple[bool, Any] | None = None  # (done, result or error), once known
        if not can_fork():
            self._outcome = (True, fn(*args))
            return
        read, write = os.pipe()
        parent = os.getpid()
        # Interrupts wait until the helper has its own way with them (_leave_interrupts): a
        # SIGTERM from close() that reached it with this process's handlers (serve's) could
        # be lost, and close() would wait for a helper that goes on to the end.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            pid = os.fork()
        except OSError as err:  # no process to be had: the build goes on without its help
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(read)
            os.close(write)
            self._outcome = (False, err)
            return
        if pid == 0:  # the helper: its result, or why it has none, into the pipe; then gone
            try:
                os.close(read)
                _leave_interrupts(parent)
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                try:
                    data = pickle.dumps((True, fn(*args)), pickle.HIGHEST_PROTOCOL)
                except Exception as err:  # handed to result(), which raises it
                    data = pickle.dumps((False, err), pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(data)
            finally:
                os._exit(0)  # nothing in the pipe (killed, or no pickle): result() says so
        try:
            os.close(write)
            self._pid, self._pipe = pid, os.fdopen(read, "rb")
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    @property
    def pid(self) -> int:
        """The helper's process id (0: the work was done inline, or the helper is closed)."""
        return self._pid

    def result(self) -> R:
        """fn's result, or the exception it raised; OSError if the helper ended without
        either (killed, say), could not be started, or was closed before it gave one."""
        if self._outcome is None:
            self._outcome = self._receive()
        done, value = self._outcome
        if not done:
            raise value
        result: R = value
        return result

    def _receive(self) -> tuple[bool, Any]:
        lost = (False, OSError("the background process ended without a result"))
        if self._pid == 0:
            return lost
        try:
            outcome: tuple[bool, Any] = pickle.load(self._pipe)
        except Exception:  # cut short, or an error that cannot be made again here
            return lost
        return outcome

    def close(self) -> None:
        """Stop the process, whether or not its result was taken."""
        if self._pid == 0:
            return
        pid, self._pid = self._pid, 0
        self._pipe.close()  # a helper still writing its result gets EPIPE, and ends
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        # ChildProcessError: SIGCHLD ignored by whoever started this process, and so the
        # kernel reaped the helper itself.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
