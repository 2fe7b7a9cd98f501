"""Forked helpers: they leave interrupts to the build, and end with it."""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from amwgen.model import fixed_offset
from amwgen.parallel import Background, can_fork, fork_map

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
    build = subprocess.Popen(
        [sys.executable, "-c", HOLDS_A_HELPER], stdout=subprocess.PIPE, text=True
    )
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
    _result_raises(Background(_fails, "/nowhere"), FileNotFoundError, "nowhere")
    _result_raises(Background(os._exit, 3), OSError, "without a result")
    killed = Background(time.sleep, 60)
    os.kill(killed.pid, signal.SIGKILL)
    _result_raises(killed, OSError, "without a result")


def _result_raises(helper: Background[object], error: type[Exception], match: str) -> None:
    try:
        with pytest.raises(error, match=match):
            helper.result()
    finally:
        helper.close()


CLOSES_AT_ONCE = f"""
import signal, sys
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import Background

def interrupt(signum, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, interrupt)  # as serve has it
for _ in range(100):
    Background(bytes, 1 << 20).close()  # a result larger than a pipe holds, never taken
print("closed", flush=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not can_fork(), reason="Linux only")
def test_a_helper_closed_at_once_ends_even_under_a_sigterm_handler() -> None:
    """The SIGTERM that close() sends a helper is not lost to the handler the helper
    inherited (serve's) while it starts: close() would then wait for a helper blocked on
    writing a result nobody reads."""
    done = subprocess.run(
        [sys.executable, "-c", CLOSES_AT_ONCE], capture_output=True, text=True, timeout=120
    )
    assert done.stdout == "closed\n", done.stderr[-2000:]


@pytest.mark.skipif(not can_fork(), reason="no fork: Background works inline")
def test_a_helper_that_cannot_start_or_is_reaped_by_the_kernel_costs_no_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No process to be had: the result is an OSError (the build goes on without the help)
    and no pipe is left open. SIGCHLD ignored (as a parent may leave it): close() does not
    fail because the kernel reaped the helper itself."""
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fork", no_fork)
        helper = Background(sorted, [2, 1])
        with pytest.raises(OSError, match="temporarily unavailable"):
            helper.result()
        helper.close()
    if before:
        assert len(os.listdir("/proc/self/fd")) == before
    was = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        reaped = Background(sorted, [2, 1])
        assert reaped.result() == [1, 2]
        time.sleep(0.1)  # the helper has ended, and the kernel has reaped it
        reaped.close()
    finally:
        signal.signal(signal.SIGCHLD, was)


def _where(item: int, delay: float) -> tuple[int, int]:
    if item < 0:
        raise ValueError(f"item {item}")
    time.sleep(delay)
    return item, os.getpid()


def _noted(item: int, log: str) -> tuple[int, int]:
    """_where, with each call noted in a file every process appends to."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{item}\n".encode())
    finally:
        os.close(fd)
    return _where(item, 0.002)


@pytest.mark.skipif(not can_fork(), reason="needs fork")
@pytest.mark.parametrize("jobs", [2, 3])
def test_a_shared_map_does_each_item_once_in_order_here_and_in_the_workers(
    jobs: int, tmp_path: Path
) -> None:
    """fork_map(share=True): this process takes batches from the end while the workers take
    them from the start; each batch is done once, and the results come in the items' order."""
    from amwgen.parallel import fork_map

    items = list(range(300))
    log = tmp_path / "calls"
    results = fork_map(_noted, items, str(log), jobs, 1, share=True)
    assert [item for item, _ in results] == items
    assert sorted(int(line) for line in log.read_text().split()) == items  # once each
    pids = [pid for _, pid in results]
    # The last batch is this process's: a worker reaches it only after all the others.
    assert pids[-1] == os.getpid()
    assert len(set(pids)) == jobs  # this process and jobs - 1 workers
    # This process's share is one run at the end.
    mine = [i for i, pid in enumerate(pids) if pid == os.getpid()]
    assert mine == list(range(mine[0], len(items)))


@pytest.mark.skipif(not can_fork(), reason="needs fork")
@pytest.mark.parametrize("bad", [0, 299], ids=["in-a-worker", "here"])
def test_a_shared_map_raises_the_error_of_an_item_wherever_it_was_done(bad: int) -> None:
    from amwgen.parallel import fork_map

    items = list(range(300))
    items[bad] = -1
    with pytest.raises(ValueError, match="item -1"):
        fork_map(_where, items, 0.001, 2, 1, share=True)


# For the scripts below: whether this process has a child left (asks the kernel, not
# multiprocessing, which knows only the processes it started).
CHILDREN_LEFT = """
def children_left():
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return 0
    return "some"
"""

# A worker dies in the ways the kernel or a user can end it; the map must neither wait for
# ever nor leave a process behind.
KILLS_A_WORKER = f"""
import os, signal, sys, threading, time
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import WorkerLost, fork_map

here = os.getpid()
how, share = sys.argv[1], sys.argv[2] == "share"
real_fdopen = os.fdopen


class DiesMidSend:
    # A worker's end of its results pipe that dies half-way through a large result.
    def __init__(self, f):
        self.f = f
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.f.close()
    def write(self, data):
        if len(data) > 100_000:
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return self.f.write(data)
    def flush(self):
        self.f.flush()


def fdopen(fd, mode="r", *args, **kwargs):
    f = real_fdopen(fd, mode, *args, **kwargs)
    return DiesMidSend(f) if how == "mid-send" and mode == "wb" and os.getpid() != here else f


os.fdopen = fdopen


def work(item, victim):
    if item == victim and os.getpid() != here:
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer does
        if how == "exits":
            os._exit(3)
    time.sleep(0.002)
    return bytes(5000) if how == "mid-send" else item  # batches of 25: 125 KB

{CHILDREN_LEFT}

try:
    fork_map(work, list(range(300)), 100, 3, 1, share=share)
except WorkerLost as err:
    print("lost:", err)
print("children left:", children_left())
"""


@pytest.mark.skipif(not can_fork(), reason="needs fork")
@pytest.mark.parametrize("share", ["share", "workers-only"])
@pytest.mark.parametrize("how", ["killed", "exits", "mid-send"])
def test_a_worker_that_dies_fails_the_map_rather_than_leaving_it_waiting(
    how: str, share: str
) -> None:
    """The batch a dead worker held is never done: the map says so (WorkerLost) rather than
    waiting for it for ever, and stops and reaps its other workers. mid-send: the worker
    dies with half of a result written, which the map must not wait for the rest of."""
    done = subprocess.run(
        [sys.executable, "-c", KILLS_A_WORKER, how, share],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.splitlines() == [
        "lost: a worker process ended before its work was done",
        "children left: 0",
    ], done.stderr[-2000:]


INTERRUPTS_MAPS = f"""
import os, signal, sys, threading, time
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import fork_map

here = os.getpid()


def work(item, context):
    time.sleep(0.001)
    return bytes(3000)  # batches of results larger than a pipe holds

{CHILDREN_LEFT}

interrupted = 0
for attempt in range(30):
    # Ctrl-C at a different moment of each map: forking, working, sending, reaping.
    timer = threading.Timer(0.003 * attempt, os.kill, (here, signal.SIGINT))
    try:
        try:
            timer.start()
            fork_map(work, list(range(400)), None, 3, 1, share=attempt % 2 == 0)
        finally:
            timer.join()
            time.sleep(0.01)  # a Ctrl-C that came after the map: taken here, not in the next
    except KeyboardInterrupt:
        interrupted += 1
    left = children_left()
    if left:
        print("children left after attempt", attempt)
print("interrupted", "some" if interrupted else "none", flush=True)
"""


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_an_interrupted_map_ends_at_once_and_leaves_no_worker() -> None:
    """Ctrl-C anywhere in a map (as the build takes it: KeyboardInterrupt here, ignored by
    the workers) stops and reaps every worker, whatever each was doing, and never hangs."""
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTS_MAPS], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.splitlines() == ["interrupted some"], (done.stdout, done.stderr[-2000:])


BUILDS_WITH_A_WORKER_KILLED = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
from amwgen import workers
from amwgen.cli import main

here, make = os.getpid(), workers._unit

def killed(unit, job):
    if os.getpid() != here:
        os.kill(os.getpid(), signal.SIGKILL)
    return make(unit, job)

workers.DIGEST_FIRST = 0  # every group made by forked workers
workers._unit = killed
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_a_build_whose_worker_is_killed_fails_in_one_line_and_keeps_the_output(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from conftest import FIXTURES, tree

    site = tmp_path / "site"
    leftovers = shutil.ignore_patterns(".amwgen-cache", "public", ".public.*")
    shutil.copytree(FIXTURES / "golden", site, ignore=leftovers)
    out = tmp_path / "out"
    assert run("build", site, "-o", out, "-j", "2").code == 0
    before = tree(out)
    command = [sys.executable, "-c", BUILDS_WITH_A_WORKER_KILLED]
    args = ["build", str(site), "-o", str(out), "-j", "2", "--clean", "-q"]
    failed = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [
        "amwgen: a worker process ended before its work was done (killed? out of memory?);"
        " the previous output is untouched"
    ]
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "site"]
    assert run("build", site, "-o", out, "-j", "2").code == 0
    assert tree(out) == before


CTRL_C_AT = f"""
import os, signal, sys, threading, time
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import Background, fork_map

where, share = sys.argv[1], sys.argv[2] == "share"
here = os.getpid()
# A thread alive, as the progress line's is on a terminal: the kernel may hand it the
# signal, and Python then raises KeyboardInterrupt in the main thread at its next step.
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
real_fork, real_waitpid = os.fork, os.waitpid
calls = {{"fork": 0, "waitpid": 0}}


def fork():
    pid = real_fork()
    if pid and where == "fork":
        calls["fork"] += 1
        os.kill(here, signal.SIGINT)  # Ctrl-C just as a worker was forked
        time.sleep(0.05)  # time for the other thread to take it, and Python to act on it
    return pid


def waitpid(pid, options):
    calls["waitpid"] += 1
    if where == "waitpid" and calls["waitpid"] == 1:
        os.kill(here, signal.SIGINT)  # Ctrl-C while the map stops its workers
    return real_waitpid(pid, options)


os.fork, os.waitpid = fork, waitpid
fds = len(os.listdir("/proc/self/fd"))
try:
    if sys.argv[2] == "background":
        Background(time.sleep, 30).close()
    else:
        fork_map(lambda item, _: time.sleep(0.001) or item, list(range(200)), None, 3, 1, share=share)
    print("finished")
except KeyboardInterrupt:
    print("interrupted")
os.waitpid = real_waitpid
try:
    os.waitpid(-1, os.WNOHANG)
    print("children left")
except ChildProcessError:
    print("no child left")
print("fds left", len(os.listdir("/proc/self/fd")) - fds)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not can_fork(), reason="Linux only")
@pytest.mark.parametrize("share", ["share", "workers-only", "background"])
@pytest.mark.parametrize("where", ["fork", "waitpid"])
def test_ctrl_c_while_workers_are_forked_or_stopped_leaves_none_behind(
    where: str, share: str
) -> None:
    """A Ctrl-C as a worker (or a Background helper) is forked, with another thread alive
    which the signal may reach, or while they are stopped, is raised once they are all
    tracked, stopped and reaped: no process or pipe is left behind."""
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_AT, where, share], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines() == ["interrupted", "no child left", "fds left 0"], done.stderr[
        -2000:
    ]


def _state(item: int, parent: int) -> tuple[object, ...]:
    """How a worker (not fork_map's own process) stands towards signals and the collector."""
    if os.getpid() == parent:
        return ()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    death = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(2, ctypes.byref(death))  # PR_GET_PDEATHSIG
    return (
        signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
        signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
        signal.SIGINT in blocked or signal.SIGTERM in blocked,
        death.value == signal.SIGTERM,
        gc.isenabled(),
        gc.get_freeze_count() > 0,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux") or not can_fork(), reason="Linux only")
@pytest.mark.parametrize("share", [True, False])
def test_workers_leave_ctrl_c_to_the_build_end_on_sigterm_and_with_it(share: bool) -> None:
    """Each worker ignores Ctrl-C (the build's to handle), ends at SIGTERM (nothing blocks
    it), gets SIGTERM from the kernel when the build dies, and collects its own garbage
    without walking what it inherited."""
    from amwgen.parallel import fork_map

    was = gc.isenabled()
    gc.disable()  # as the build has it
    try:
        states = {s for s in fork_map(_state, list(range(100)), os.getpid(), 3, 1, share) if s}
    finally:
        if was:
            gc.enable()
    assert states == {(True, True, False, True, True, True)}


def _fails_oddly(item: int, kind: str) -> int:
    if item == 7 and kind == "unpicklable":
        raise _TwoArguments("a", "b")
    if item == 7 and kind == "exit":
        sys.exit(4)
    if item == 7:
        raise ValueError("item 7")
    return item


class _TwoArguments(Exception):
    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} and {second}")  # pickles, but cannot be made again so


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_a_workers_error_comes_back_with_its_traceback_or_as_a_stand_in() -> None:
    """Raised here with the worker's traceback as its cause (where a template's line is
    found); an error that cannot be made again here, or one that is no Exception (exit),
    as a RuntimeError that names it, rather than a confusing error or a lost worker."""
    from amwgen.parallel import RemoteTraceback, fork_map

    with pytest.raises(ValueError, match="item 7") as plain:
        fork_map(_fails_oddly, list(range(100)), "plain", 2, 1)
    assert isinstance(plain.value.__cause__, RemoteTraceback)
    assert "_fails_oddly" in str(plain.value.__cause__)
    with pytest.raises(RuntimeError, match="_TwoArguments: a and b"):
        fork_map(_fails_oddly, list(range(100)), "unpicklable", 2, 1)
    with pytest.raises(RuntimeError, match="SystemExit: 4"):
        fork_map(_fails_oddly, list(range(100)), "exit", 2, 1)


@pytest.mark.skipif(not sys.platform.startswith("linux") or not can_fork(), reason="Linux only")
@pytest.mark.parametrize("forks", [0, 1])
def test_a_map_goes_on_with_the_workers_it_could_fork_and_leaks_nothing(
    forks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No more processes to be had (EAGAIN) after `forks` workers: the map goes on with
    those, or alone; and no map, whole or failed, leaves a pipe open or a worker unreaped."""
    from amwgen.parallel import fork_map

    fds = len(os.listdir("/proc/self/fd"))
    real_fork, made = os.fork, []

    def fork() -> int:
        if len(made) == forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        made.append(1)
        return real_fork()

    with monkeypatch.context() as patch:
        patch.setattr(os, "fork", fork)
        results = fork_map(_where, list(range(300)), 0.0, 3, 1)
    assert [item for item, _ in results] == list(range(300))
    assert len({pid for _, pid in results}) == max(forks, 1)
    with pytest.raises(ValueError, match="item -1"):
        fork_map(_where, [*range(150), -1, *range(150)], 0.001, 3, 1)
    assert len(os.listdir("/proc/self/fd")) == fds
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_every_worker_takes_a_share_of_the_batches() -> None:
    """Batches go to whichever worker is free: with three, each does some."""
    from amwgen.parallel import fork_map

    pids = [pid for _, pid in fork_map(_where, list(range(600)), 0.001, 3, 1)]
    assert os.getpid() not in pids
    counts = sorted(pids.count(pid) for pid in set(pids))
    assert len(counts) == 3 and counts[0] >= 2 * 600 // 12, counts  # batches of 50: two each


STOPS_BUSY_WORKERS = f"""
import os, sys, time
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import fork_map

def work(item, _):
    if item == 0:
        raise ValueError("item 0")
    time.sleep(600)  # the other workers' batches: far longer than the test waits

try:
    fork_map(work, list(range(30)), None, 3, 1)
except ValueError as err:
    print("raised", err)
"""


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_a_failed_map_stops_its_busy_workers_rather_than_waiting_for_them() -> None:
    """An error in one batch ends the map at once: workers still busy with theirs are
    stopped (SIGTERM), not waited for."""
    done = subprocess.run(
        [sys.executable, "-c", STOPS_BUSY_WORKERS], capture_output=True, text=True, timeout=60
    )
    assert done.stdout == "raised item 0\n", done.stderr[-2000:]


DIES_IDLE = f"""
import os, signal, sys, threading, time
sys.path.insert(0, {str(ROOT)!r})
from amwgen.parallel import fork_map

here = os.getpid()

def work(item, _):
    if item == 0 and os.getpid() != here:
        # Killed once its only batch is sent back: idle, with nothing more to be handed.
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGKILL)).start()
    else:
        time.sleep(0.5)  # the map is still running when it dies
    return item

print(fork_map(work, [0, 1, 2], None, 3, 1))  # three workers, a batch each
{CHILDREN_LEFT}
print("children left:", children_left())
"""


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_a_worker_that_dies_idle_with_its_results_all_in_costs_the_map_nothing() -> None:
    """Killed after it sent back everything it was handed (the out-of-memory killer picks
    the largest process, busy or not): the map has all it needs from it, and finishes."""
    done = subprocess.run(
        [sys.executable, "-c", DIES_IDLE], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines() == ["[0, 1, 2]", "children left: 0"], done.stderr[-2000:]


def _dated(day: int, hours: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=timezone(timedelta(hours=hours), "KST"))


def test_results_from_workers_share_one_zone_object_for_each_offset() -> None:
    """Each worker's batch came back with zone objects of its own: thousands of them in a
    10,000-article site's documents, which the cache then kept (model.Unpickler)."""
    results = fork_map(_dated, list(range(1, 29)), 9, 2, 1)
    assert results == [_dated(day, 9) for day in range(1, 29)]
    assert {id(r.tzinfo) for r in results} == {id(fixed_offset(timedelta(hours=9), "KST"))}
