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
import selectors
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from amwgen.model import unpickle

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")
BATCH = 64

_WORK: tuple[Callable[[Any, Any], Any], Sequence[Any], Any, list[tuple[int, int]]] | None = None


class WorkerLost(Exception):
    """A worker process ended before its work was done: killed from outside, most often by
    the kernel when memory ran out."""

    def __init__(self) -> None:
        super().__init__("a worker process ended before its work was done")


def fork_map(
    fn: Callable[[T, C], R],
    items: Sequence[T],
    context: C,
    jobs: int,
    min_items: int = 200,
    share: bool = False,
) -> list[R]:
    """[fn(item, context) for item in items], in `jobs` forked workers when there are many.

    Each worker has a pipe of its own each way: this process hands it the next batch when it
    sends a result, and a worker that dies (the kernel's out-of-memory killer) closes its
    end, so the map raises WorkerLost rather than waiting for it for ever. An error fn
    raised in a worker is raised here, with the worker's traceback as its cause.

    share: this process works too, in place of one worker. It takes batches from the end
    while the workers are handed them from the start, so that all finish together, and
    looks to the workers between its items. For work that is done in a few tenths of a
    second, where forking the last worker costs more than it brings; fn then runs here too,
    and must leave nothing behind that matters. (It works alone when no worker could be
    forked.)
    """
    global _WORK
    if jobs <= 1 or len(items) < min_items or not can_fork():
        return [fn(item, context) for item in items]
    # Batches small enough that each worker gets several, so that they finish together.
    size = max(1, min(BATCH, len(items) // (jobs * 4)))
    tasks = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    done: list[list[R] | None] = [None] * len(tasks)
    _WORK = (fn, items, context, tasks)
    crew = _Crew()
    try:
        # No more workers than batches for them (with share, this process takes one): a
        # worker with none is a copy of this process for nothing. So each has one at once.
        crew.start(min(jobs, len(tasks)) - (1 if share else 0))
        front, back = 0, len(tasks)  # the batches not yet handed out or taken
        for worker in crew.workers:
            crew.hand(worker, front)
            front += 1
        while crew.busy() or front < back:
            # This process works when it shares, or when no worker is left to (none could
            # be forked, or those that were died idle).
            if (share or not crew.live()) and front < back:
                back -= 1
                start, end = tasks[back]
                mine: list[R] = []
                for item in items[start:end]:
                    mine.append(fn(item, context))
                    front = _collect(crew, done, front, back, wait=False)
                done[back] = mine
            else:
                front = _collect(crew, done, front, back, wait=True)
    finally:
        _WORK = None
        crew.close()
    return [result for batch in done for result in batch]  # type: ignore[union-attr]


def _collect(crew: _Crew, done: list[Any], front: int, back: int, wait: bool) -> int:
    """The results the workers sent (waiting for one if wait), each worker handed the next
    batch from the front; returns the new front."""
    for worker, number, result in crew.results(wait):
        done[number] = result
        if front < back and not worker.ended:
            crew.hand(worker, front)
            front += 1
    return front


class RemoteTraceback(Exception):
    """The traceback of an error raised in a worker, as text: the cause of the error raised
    here (build.template_problem finds the template's file and line in it)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


class _Worker:
    """A forked worker as this process sees it: its pid, the pipe it is handed batches on,
    the pipe its results come back on, and what it was handed and has not sent back."""

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.buffer = bytearray()
        self.pending = 0
        self.open = True  # its pipes, until close()
        self.ended = False  # it closed its end of the results pipe: it died

    def frames(self) -> Iterator[bytes]:
        """The whole results in the buffer, taken out of it."""
        while len(self.buffer) >= 8:
            size = int.from_bytes(self.buffer[:8], "little")
            if len(self.buffer) < 8 + size:
                return
            frame = bytes(self.buffer[8 : 8 + size])
            del self.buffer[: 8 + size]
            yield frame


class _Crew:
    """The workers of one fork_map: forked by start(), stopped and reaped by close()."""

    def __init__(self) -> None:
        self.workers: list[_Worker] = []
        self.selector = selectors.DefaultSelector()
        self.aborted = False

    def start(self, count: int) -> None:
        """Up to count workers: as many as the system gives (none: fork_map works alone)."""
        with _interrupts_held() as mask:
            for _ in range(count):
                try:
                    tasks_read, tasks_write = os.pipe()
                except OSError:  # no file to be had: the map goes on with fewer workers
                    return
                try:
                    results_read, results_write = os.pipe()
                except OSError:
                    os.close(tasks_read)
                    os.close(tasks_write)
                    return
                with contextlib.suppress(OSError, AttributeError):  # fewer wake-ups
                    import fcntl

                    fcntl.fcntl(results_write, fcntl.F_SETPIPE_SZ, 1 << 20)
                # Only its own ends stay open in the worker: the pipes of those forked
                # before it are theirs and this process's.
                theirs = [fd for w in self.workers for fd in (w.tasks, w.results)]
                try:
                    pid = _spawn(
                        mask,
                        [*theirs, tasks_write, results_read],
                        partial(_work, tasks_read, results_write),
                    )
                except OSError:  # no process to be had (EAGAIN): the map goes on with fewer
                    for fd in (tasks_read, tasks_write, results_read, results_write):
                        os.close(fd)
                    return
                self.workers.append(_Worker(pid, tasks_write, results_read))
                os.close(tasks_read)
                os.close(results_write)
                os.set_blocking(results_read, False)
                self.selector.register(results_read, selectors.EVENT_READ, self.workers[-1])

    def hand(self, worker: _Worker, number: int) -> None:
        """Batch number to worker."""
        try:
            os.write(worker.tasks, number.to_bytes(4, "little"))
        except BrokenPipeError:  # it is gone: its end of the pipe closed with it
            raise WorkerLost() from None
        worker.pending += 1

    def busy(self) -> bool:
        return any(worker.pending for worker in self.workers)

    def live(self) -> bool:
        return any(not worker.ended for worker in self.workers)

    def results(self, wait: bool) -> Iterator[tuple[_Worker, int, Any]]:
        """(worker, batch number, results) for each batch the workers sent back; the error
        a batch raised is raised here. A worker ends only when told to (close()): one that
        ended before it sent back all it was handed is WorkerLost; one that died idle, its
        results all in, is only no longer handed any."""
        for key, _ in self.selector.select(None if wait else 0):
            worker: _Worker = key.data
            while True:
                try:
                    data = os.read(worker.results, 1 << 20)
                except BlockingIOError:
                    break
                if not data:
                    worker.ended = True
                    self.selector.unregister(worker.results)
                    break
                worker.buffer += data
            for frame in worker.frames():
                number, ok, value = unpickle(frame)  # one zone object per offset
                worker.pending -= 1
                if not ok:
                    raise _error(value)
                yield worker, number, value
            if worker.ended and (worker.pending or worker.buffer):
                raise WorkerLost()

    def close(self) -> None:
        """Every worker told to stop (the end of its task pipe) and reaped; stopped at once
        (SIGTERM) when it still had work, the map having failed. Ctrl-C meanwhile waits until
        this is done, and is raised after it."""
        try:
            _until_done(self._stop)
        finally:
            self.selector.close()

    def _stop(self) -> bool:
        """close(), each step done once however often it is called (_until_done)."""
        self.aborted = self.aborted or self.busy()
        for worker in self.workers:
            if worker.open:
                with contextlib.suppress(KeyError):
                    self.selector.unregister(worker.results)
                os.close(worker.tasks)
                os.close(worker.results)
                worker.open = False
        while self.workers:
            _end(self.workers[-1].pid, self.aborted)
            self.workers.pop()
        return True


def _work(tasks: int, results: int) -> None:
    """A worker: each batch number it is handed, done, its results (or the error it raised)
    sent back, until this process closes the pipe. What it inherited stays out of the cycle
    collector's sight (the build paused it in the parent); the garbage it makes is
    collected."""
    assert _WORK is not None, "fork_map sets the work before it forks"
    gc.freeze()
    gc.enable()
    fn, items, context, spans = _WORK
    with os.fdopen(tasks, "rb") as handed, os.fdopen(results, "wb") as back:
        while True:
            head = handed.read(4)
            if len(head) < 4:
                return  # told to stop
            number = int.from_bytes(head, "little")
            start, end = spans[number]
            try:
                frame = pickle.dumps(
                    (number, True, [fn(item, context) for item in items[start:end]]),
                    pickle.HIGHEST_PROTOCOL,
                )
            except BaseException as err:  # raised again in the parent, SystemExit too
                frame = _error_frame(number, err)
            back.write(len(frame).to_bytes(8, "little"))
            back.write(frame)
            back.flush()


def _error_frame(number: int, err: BaseException) -> bytes:
    """The error a batch raised, and its traceback as text, for the parent to raise. Only
    an Exception is raised as itself, and only when it survives the way there and back
    (pickled, then made again: an error whose __init__ takes other arguments than it gives
    its base does not); else a RuntimeError that names it."""
    text = "".join(traceback.format_exception(err))
    if isinstance(err, Exception):
        try:
            data = pickle.dumps(err, pickle.HIGHEST_PROTOCOL)
            pickle.loads(data)
            return pickle.dumps((number, False, (data, text)), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - the stand-in below
            pass
    stand_in = pickle.dumps(RuntimeError(f"{type(err).__name__}: {err}"), pickle.HIGHEST_PROTOCOL)
    return pickle.dumps((number, False, (stand_in, text)), pickle.HIGHEST_PROTOCOL)


def _error(value: tuple[bytes, str]) -> BaseException:
    """The error a worker sent (_error_frame), its traceback as its cause."""
    data, text = value
    err: BaseException = pickle.loads(data)
    err.__cause__ = RemoteTraceback(f'\n"""\n{text}"""')
    return err


def _spawn(mask: set[int | signal.Signals], close: list[int], body: Callable[[], None]) -> int:
    """A forked helper that closes the file descriptors close, leaves interrupts to this
    process (with mask, what _interrupts_held gave, as its own), runs body and ends; its
    pid. Call with interrupts held."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in close:
                os.close(fd)
            _leave_interrupts(parent)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            body()
        finally:
            os._exit(0)  # never back into the caller's code, whatever body did
    return pid


def _end(pid: int, kill: bool) -> None:
    """A helper stopped (SIGTERM) if kill, and reaped."""
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    # ChildProcessError: SIGCHLD ignored by whoever started this process, and so the kernel
    # reaped the helper itself.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _until_done(step: Callable[[], bool]) -> None:
    """step() with interrupts held, again until it returns True, however often a Ctrl-C
    cuts it short (so step must do each of its parts once); the first Ctrl-C is raised
    after."""
    interrupted: KeyboardInterrupt | None = None
    done = False
    while not done:
        try:
            with _interrupts_held():
                done = step()
        except KeyboardInterrupt as err:
            interrupted = interrupted or err
    if interrupted is not None:
        raise interrupted


@contextlib.contextmanager
def _interrupts_held() -> Iterator[set[int | signal.Signals]]:
    """SIGINT and SIGTERM held back while helpers are forked or stopped; yields the mask to
    restore in a forked helper, until it has its own way with them (_leave_interrupts: a
    SIGTERM from its parent that reached it with this process's handlers, serve's, could be
    lost).

    Blocking them in this thread is not enough when another thread is alive (the progress
    line's, serve's): the kernel hands the signal to that one, and Python still runs the
    handler here, between any two steps. So in the main thread, where Python runs handlers,
    they are set aside too, and each signal that came meanwhile is handed to them at the end
    (while they are put back, the stand-in hands a signal on at once). The mask is read
    before it is changed, so a handler that raises just then leaves it as it was."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    caught: dict[int, Any] = {}  # signal -> frame, in the order they came
    previous: dict[int, Callable[[int, Any], Any]] = {}
    releasing = False

    def hold(signum: int, frame: Any) -> None:
        if releasing:  # the handlers are being put back: this one acts as its own
            previous[signum](signum, frame)
        else:
            caught.setdefault(signum, frame)

    try:
        if threading.current_thread() is threading.main_thread():
            for held in (signal.SIGINT, signal.SIGTERM):
                handler = signal.getsignal(held)
                if callable(handler):
                    previous[held] = handler
                    signal.signal(held, hold)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        yield mask
    finally:
        releasing = True
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum, frame in caught.items():
            previous[signum](signum, frame)


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
        unused = [read, write]  # the ends this process still has to close
        try:
            with _interrupts_held() as mask:
                try:
                    pid = _spawn(mask, [read], partial(_send, write, fn, args))
                except OSError as err:  # no process to be had: the build goes on without it
                    self._outcome = (False, err)
                    return
                unused.remove(write)
                os.close(write)
                self._pid, self._pipe = pid, os.fdopen(unused.pop(), "rb")
        except BaseException:  # a Ctrl-C held back while it was forked: no helper left
            self.close()
            raise
        finally:
            for fd in unused:
                os.close(fd)

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
        """Stop the process, whether or not its result was taken (a Ctrl-C meanwhile is
        raised once it is stopped and reaped)."""
        _until_done(self._stop)

    def _stop(self) -> bool:
        if self._pid:
            self._pipe.close()  # a helper still writing its result gets EPIPE, and ends
            _end(self._pid, kill=True)
            self._pid = 0
        return True


def _send(write: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In a Background helper: fn's result, or the error it raised, into the pipe."""
    try:
        data = pickle.dumps((True, fn(*args)), pickle.HIGHEST_PROTOCOL)
    except Exception as err:  # handed to result(), which raises it
        data = pickle.dumps((False, err), pickle.HIGHEST_PROTOCOL)
    with os.fdopen(write, "wb") as pipe:
        pipe.write(data)
