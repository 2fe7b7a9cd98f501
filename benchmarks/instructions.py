"""The instructions a command executes, process by process: work the machine's speed does not move.

    python benchmarks/instructions.py -- python -m amwgen build SITE -q -j 2

Runs the command under valgrind's callgrind (`--trace-children=yes`: every forked worker and
every program it starts is counted too), then prints each process's instruction count and
command, and the total. The same build of the same site counts the same to within a tenth of
a percent, where its time moves by a quarter within an hour on the test machine: the way to
tell whether a change of a few percent makes a build do less (docs/performance.md,
"Measuring"). Instructions are not time: a cache miss, a system call's work in the kernel or
a page copied on write counts for little or nothing. The command runs some forty times
slower than alone. --keep DIR keeps callgrind's files (callgrind_annotate reads them).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def count(out_file: Path) -> tuple[int, str]:
    """A callgrind file's instruction count and command (its header's summary and cmd)."""
    instructions, command = 0, ""
    with out_file.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith("cmd:"):
                command = line[4:].strip()
            elif line.startswith(("summary:", "totals:")):
                instructions = int(line.split()[1])
                break
    return instructions, command


def measure(command: list[str], folder: Path) -> tuple[int, list[tuple[int, str]]]:
    """The command's exit code and, for each process it ran, (instructions, command)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not on PATH (Debian: apt-get install valgrind)")
    proc = subprocess.run(
        [valgrind, "--tool=callgrind", "--trace-children=yes", "--quiet"]
        + [f"--callgrind-out-file={folder}/callgrind.%p", *command]
    )
    files = sorted(folder.glob("callgrind.*"), key=lambda p: int(p.name.split(".")[1]))
    return proc.returncode, [count(path) for path in files]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep callgrind's files in this new folder")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- and the command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command (give it after --)")
    # amwgen as installed: its bytecode made once. Under PYTHONDONTWRITEBYTECODE a module
    # edited since its last compilation would be compiled again in every process, and
    # counted (benchmarks/run.py does the same).
    package = Path(__file__).resolve().parent.parent / "amwgen"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        code, processes = measure(command, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="amwgen-instructions-") as folder:
            code, processes = measure(command, Path(folder))
    for instructions, name in processes:
        print(f"{instructions:>16,}  {name}")
    many = "process" if len(processes) == 1 else "processes"
    print(f"{sum(n for n, _ in processes):>16,}  in all, {len(processes)} {many}")
    if code != 0:
        print(f"the command failed (exit code {code})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
