"""Issue 7, points 2 and 3: builds killed at any point, and two builds of one output at once.

The builds run as `python -m amwgen build` subprocesses; the test-only hooks of
amwgen/faults.py stop them at a named stage (they print "amwgen-test: paused at <stage>")
so that a SIGKILL lands exactly there, whatever the machine's speed.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import EPOCH, REPO, article, tree, write_site

from amwgen.build import Options, build, differing_files
from amwgen.cli import build_now

DEADLINE = 60.0  # seconds for a subprocess to reach a stage; a pass takes about one


class Build:
    """`python -m amwgen build SITE -o OUT -j 1`, with test hooks set in its environment."""

    def __init__(self, site: Path, out: Path, *args: str, **hooks: str) -> None:
        env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONUNBUFFERED": "1", **hooks}
        env.pop("GITHUB_ACTIONS", None)
        command = [sys.executable, "-m", "amwgen", "build", str(site), "-o", str(out), "-j", "1"]
        self.proc = subprocess.Popen(
            [*command, "-q", *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        assert self.proc.stderr is not None
        stream = self.proc.stderr

        def pump() -> None:
            for line in stream:
                self.err.append(line)
                self.lines.put(line)

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()

    def wait_for(self, text: str) -> None:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                assert self.proc.poll() is None or self.pump.is_alive(), self.stderr()
                continue
            if text in line:
                return
        raise AssertionError(f"no {text!r} on stderr in time: {self.stderr()}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=DEADLINE) == -signal.SIGKILL

    def finish(self) -> int:
        code = self.proc.wait(timeout=DEADLINE)
        self.pump.join(timeout=DEADLINE)
        return code

    def stderr(self) -> str:
        return "".join(self.err)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    files = {
        f"content/2026/11/story-{n}.md": article(
            f"Story {n}", f"2026-11-{n + 10:02}", f"Body {n}.", tags=f"[t{n % 3}, shared]"
        )
        for n in range(6)
    }
    return write_site(tmp_path / "site", files)


def edit(site: Path) -> None:
    """A change that touches every page (the site's title) and adds one."""
    yaml = site / "site.yaml"
    yaml.write_text(yaml.read_text().replace("Test Digest", "Edited Digest"))
    (site / "content" / "2026" / "11" / "new.md").write_text(article("New one", "2026-11-24"))


def clean_build(site: Path, out: Path) -> Path:
    """A from-scratch build of site into out that leaves the site's cache alone."""
    options = Options(now=build_now(os.environ), output=out, clean=True, save_cache=False)
    result = build(site, options)
    assert result.ok, result.problems
    return out


def leftovers(out: Path) -> list[str]:
    """Entries beside out that a build made and should have removed (lock files too)."""
    keep = {out.name, "site", "clean", "release", f".{out.name}.spare"}  # the output before last
    end = time.monotonic() + DEADLINE
    while True:  # the replaced tree is removed in the background (write.discard)
        extra = sorted(p.name for p in out.parent.iterdir() if p.name not in keep)
        if not extra or time.monotonic() > end:
            return extra
        time.sleep(0.05)


# --- point 2: SIGKILL at every stage -----------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "fault"),
    [
        ("walk", None),  # early: nothing read yet
        ("output", None),  # checked, about to make the temp tree
        ("render", None),  # some pages written into the temp tree
        ("swap", None),  # the new tree complete, not yet swapped in
        ("swapped", None),  # exchanged; the old tree not yet moved aside
        ("renamed", "exchange:ENOSYS"),  # no renameat2: between the two renames
    ],
)
def test_killed_build_leaves_a_whole_output_and_the_next_build_equals_a_clean_one(
    run,  # type: ignore[no-untyped-def]
    site: Path,
    tmp_path: Path,
    stage: str,
    fault: str | None,
) -> None:
    out = tmp_path / "out"
    assert run("build", site, "-o", out, "-q").code == 0
    before = tree(out)
    edit(site)
    hooks = {"AMWGEN_TEST_PAUSE_AT": stage}
    if fault:
        hooks["AMWGEN_TEST_FAULT"] = fault
    killed = Build(site, out, **hooks)
    killed.wait_for(f"paused at {stage}")
    if stage == "render":
        assert list(tmp_path.glob(".out.tmp-*")), "the temp tree should be half written"
    killed.kill()

    clean = clean_build(site, tmp_path / "clean")
    if stage == "swapped":
        # The exchange is one step: the new tree is in, whole.
        assert differing_files(out, clean) == []
    elif stage == "renamed":
        # Without renameat2 the output is missing for a moment; the old tree is kept aside.
        assert not out.exists()
        assert [tree(p) for p in tmp_path.glob(".out.old-*")] == [before]
    else:
        assert tree(out) == before

    result = run("build", site, "-o", out, "-q")
    assert result.code == 0, result.err
    assert differing_files(out, clean) == []
    assert leftovers(out) == []


# --- point 3: two builds of one output -----------------------------------------------------


def test_second_build_waits_for_the_first_and_never_mixes(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    release = tmp_path / "release"
    first = Build(site, out, AMWGEN_TEST_PAUSE_AT="render", AMWGEN_TEST_RELEASE=str(release))
    first.wait_for("paused at render")
    edit(site)  # the first build has read the old content; the second reads the new
    second = Build(site, out, "--wait", "120")
    second.wait_for("waiting for another build of")
    assert f"(pid {first.proc.pid})" in second.stderr()
    assert not out.exists()  # the second did not write while the first holds the lock
    release.touch()
    assert first.finish() == 0, first.stderr()
    assert second.finish() == 0, second.stderr()
    assert differing_files(out, clean_build(site, tmp_path / "clean")) == []
    assert leftovers(out) == []


def test_second_build_refuses_with_one_line_when_told_not_to_wait(
    site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    release = tmp_path / "release"
    Build(site, out).finish()
    before = tree(out)
    edit(site)  # else the first build finds nothing to do and never swaps
    first = Build(site, out, AMWGEN_TEST_PAUSE_AT="swap", AMWGEN_TEST_RELEASE=str(release))
    first.wait_for("paused at swap")
    second = Build(site, out, "--wait", "0")
    assert second.finish() == 1
    message = second.stderr().strip().splitlines()
    assert len(message) == 1, message
    assert message[0].startswith(f"amwgen: another build of {out} is running (pid ")
    assert "nothing was written" in message[0] and "Traceback" not in message[0]
    assert tree(out) == before
    release.touch()
    assert first.finish() == 0, first.stderr()


def test_a_killed_builds_lock_does_not_block(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = Build(site, out, AMWGEN_TEST_PAUSE_AT="swap")
    holder.wait_for("paused at swap")
    holder.kill()
    assert (tmp_path / ".out.lock").exists()  # the file stays; the kernel's lock went
    after = Build(site, out, "--wait", "0")
    assert after.finish() == 0, after.stderr()
    assert leftovers(out) == []  # the next build removed it


def test_ctrl_c_while_amwgen_loads_is_one_line_not_a_traceback() -> None:
    # Ctrl-C in the first fifth of a second, while the modules load, printed a
    # KeyboardInterrupt traceback (a red team). Here the interrupt arrives as amwgen.cli is
    # imported: deterministic, where a real signal would race the import.
    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'amwgen.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "import runpy\n"
        "runpy.run_module('amwgen', run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "build"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 130
    assert proc.stderr == "amwgen: interrupted; the previous output is untouched\n"
    # The console script is this entry point too.
    assert 'amwgen = "amwgen.entry:run"' in (REPO / "pyproject.toml").read_text()
