"""How long this machine takes to create a site's worth of files, and after a deletion.

    python benchmarks/files.py [FOLDER] [--count N]

Makes N folders (default 20,000), each holding a 28 KB index.html as a 10,000-article
site's pages do, from two processes: a first tree, a second beside it, then, once both are
deleted, a third. Prints the wall and system CPU seconds of each. On the 2-core test machine
(a VM, ext4 mounted with `discard`) a tree made after a large deletion, anywhere on the file
system, took ten times as long as one made after another: a benchmark whose builds follow
a deletion is slower for it (docs/performance.md, "Measuring").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

PAGE = b"x" * 28_000
BATCH = 100


def _make(root: str, start: int, stop: int) -> None:
    for i in range(start, stop):
        folder = f"{root}/p{i}"
        os.mkdir(folder)
        with open(f"{folder}/index.html", "xb") as f:
            f.write(PAGE)


def create(root: Path, count: int) -> tuple[float, float]:
    """Wall and system CPU seconds to make count folders with a page each under root."""
    root.mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        starts = range(0, count, BATCH)
        list(
            pool.map(
                _make, [str(root)] * len(starts), starts, [min(s + BATCH, count) for s in starts]
            )
        )
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder", nargs="?", type=Path, help="where to write (default: a temp folder)"
    )
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="amwgen-files-", dir=args.folder))
    try:
        for name in ("first", "second"):
            seconds, system = create(work / name, args.count)
            print(f"{name} tree:        {seconds:6.2f} s, system {system:6.2f} s")
        shutil.rmtree(work / "first")
        shutil.rmtree(work / "second")
        os.sync()
        seconds, system = create(work / "third", args.count)
        print(f"after deleting both: {seconds:6.2f} s, system {system:6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
