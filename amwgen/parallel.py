"""One parallel map over forked workers, for the stages that work item by item.

Workers inherit the items and the context through fork, so nothing is pickled on the way
in; only the results come back. Where fork is missing (or the job is small), it runs inline.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import signal
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")
BATCH = 64

_WORK: tuple[Callable[[Any, Any], Any], Sequence[Any], Any] | None = None


def fork_map(
    fn: Callable[[T, C], R], items: Sequence[T], context: C, jobs: int, min_items: int = 200
) -> list[R]:
    """[fn(item, context) for item in items], in `jobs` forked workers when there are many."""
    global _WORK
    if jobs <= 1 or len(items) < min_items or not can_fork():
        return [fn(item, context) for item in items]
    _WORK = (fn, items, context)
    try:
        # Batches small enough that each worker gets several, so that they finish together.
        size = max(1, min(BATCH, len(items) // (jobs * 4)))
        tasks = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
        with multiprocessing.get_context("fork").Pool(jobs, initializer=_collect_own) as pool:
            batches = pool.map(_run, tasks, chunksize=1)
    finally:
        _WORK = None
    return [result for batch in batches for result in batch]


def _run(bounds: tuple[int, int]) -> list[Any]:
    assert _WORK is not None, "fork_map sets the work before the pool starts"
    fn, items, context = _WORK
    return [fn(item, context) for item in items[bounds[0] : bounds[1]]]


def _collect_own() -> None:
    """In a worker: what it inherited stays out of the cycle collector's sight (the build
    paused it in the parent), and the garbage the worker makes is collected as usual."""
    _leave_interrupts()
    gc.freeze()
    gc.enable()


def _leave_interrupts() -> None:
    """In a forked helper: Ctrl-C reaches the whole process group, and is the parent's to
    handle; the parent stops its helpers with SIGTERM, which must end one at once. A helper
    that took either for a KeyboardInterrupt (serve turns SIGTERM into one, and a forked
    process inherits that) would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _end_with_parent()


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_parent() -> None:
    """Linux: the kernel sends this helper SIGTERM when the process that forked it dies. A
    build killed outright (SIGKILL) cannot stop its helpers, which would go on rendering or
    cloning for nobody. Elsewhere, nothing happens."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Background(Generic[R]):
    """fn(*args) worked out by a forked process while this one goes on (inline where fork
    is missing); result() waits for it; close() must follow. The process inherits fn and
    args: nothing is pickled but the result."""

    def __init__(self, fn: Callable[..., R], *args: Any) -> None:
        global _LATER
        self._pool: Any = None
        if not can_fork():
            self._value = fn(*args)
            return
        _LATER = (fn, args)
        try:
            self._pool = multiprocessing.get_context("fork").Pool(1, _leave_interrupts)
        finally:
            _LATER = None
        self._async = self._pool.apply_async(_later)

    def result(self) -> R:
        if self._pool is None:
            return self._value
        value: R = self._async.get()
        return value

    def close(self) -> None:
        """Stop the process, whether or not its result was taken."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()


_LATER: tuple[Callable[..., Any], tuple[Any, ...]] | None = None


def _later() -> Any:
    assert _LATER is not None, "Background sets the work before the pool starts"
    fn, args = _LATER
    return fn(*args)
