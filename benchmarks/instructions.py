"""The instructions a command executes, process by process: work the machine's speed does not move.

    python benchmarks/instructions.py -- python -m amwgen build SITE -q -j 2

Runs the command under valgrind's callgrind (`--trace-children=yes`), with this checkout's
amwgen first on PYTHONPATH as benchmarks/run.py has it, waits for every process it started
(those that outlive it too, such as the `rm` of a replaced output), then prints each
process's instruction count and command, and the total. A Python process forked without an
exec (amwgen's workers) counts from the fork on, not what it inherited; a program that
execs another is counted as the one it became. The same build of the same site counts the
same to within a tenth of a percent, where its time moves by a third within an hour on the
test machine: the way to tell whether a change of a percent or two makes a build do less
(docs/performance.md, "Measuring"). Instructions are not time: a cache miss, a system
call's work in the kernel or a page copied on write counts for little or nothing. The
command runs some forty times slower than alone. --keep DIR keeps callgrind's files
(callgrind_annotate reads them). Linux only.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run import checkout_path, compile_checkout  # benchmarks/run.py

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
# Called by os.fork in the child only: a forked worker's count starts there, not with what
# callgrind counted in its parent before the fork (which its file would repeat).
FORK_CHILD = "PyOS_AfterFork_Child"


def count(out_file: Path) -> tuple[int, int, str]:
    """A callgrind file's pid, instruction count and command (its header's lines)."""
    pid, instructions, command = 0, -1, ""
    with out_file.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith("pid:"):
                pid = int(line.split()[1])
            elif line.startswith("cmd:"):
                command = line[4:].strip()
            elif line.startswith("summary:"):
                instructions = int(line.split()[1])
                break
    if instructions < 0:
        raise SystemExit(f"{out_file}: no instruction count (did its process end?)")
    return pid, instructions, command


def measure(command: list[str], folder: Path) -> tuple[int, list[tuple[int, int, str]]]:
    """The command's exit code and, for each process it ran, (pid, instructions, command)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not on PATH (Debian: apt-get install valgrind)")
    # Processes that outlive the command become this one's children, to be waited for:
    # callgrind writes a process's count when it ends.
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("cannot wait for the command's detached processes (prctl failed)")
    proc = subprocess.run(
        [valgrind, "--tool=callgrind", "--trace-children=yes", "--quiet"]
        + [f"--zero-before={FORK_CHILD}", f"--callgrind-out-file={folder}/callgrind.%p"]
        + command,
        env={**os.environ, "PYTHONPATH": checkout_path()},
    )
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    processes = sorted(count(path) for path in folder.glob("callgrind.*"))
    return proc.returncode, processes


def main() -> int:
    """Run the command given after --, print its processes' counts; its exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep callgrind's files in this new folder")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- and the command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command (give it after --)")
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep {args.keep}: already there (give a new folder)")
    compile_checkout()
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        code, processes = measure(command, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="amwgen-instructions-") as folder:
            code, processes = measure(command, Path(folder))
    for _, instructions, name in processes:
        print(f"{instructions:>16,}  {name}")
    many = "process" if len(processes) == 1 else "processes"
    print(f"{sum(n for _, n, _ in processes):>16,}  in all, {len(processes)} {many}")
    if code < 0:
        print(f"the command was killed by signal {-code}", file=sys.stderr)
        return 128 - code
    if code != 0:
        print(f"the command failed (exit code {code})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
