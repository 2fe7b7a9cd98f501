"""How long Related News takes for every article of a site, in one process.

    python benchmarks/related.py SITE [--rounds N]

Checks the site as `amwgen check` does (a file the last build validated, unchanged since, is
taken from the cache), makes the posting lists once, then chooses every article's Related
News (`index.related_from`) N times (default 3) and prints the seconds of each round, the
articles and the Related News found. It uses only what amwgen's index has had since Related
News was first chosen from posting lists, so that another version of the code can be timed
the same way (`PYTHONPATH=<a copy of it> python benchmarks/related.py SITE`).
docs/performance-history.md (twenty-eighth session) was measured so.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    gc.disable()  # as a build: its objects live till it ends
    from amwgen.build import Options, check_site
    from amwgen.index import candidates, posting_lists, related_from

    checked = check_site(args.site, Options(now=datetime.now(UTC)))
    if checked.index is None:
        for problem in checked.problems:
            print(problem, file=sys.stderr)
        return 1
    lists = posting_lists(checked.index)
    chosen = [(entry, candidates(entry, lists)) for entry in checked.index.entries]
    found = 0
    for number in range(1, args.rounds + 1):
        started = time.perf_counter()
        found = sum(len(related_from(entry, postings)) for entry, postings in chosen)
        print(f"round {number}: {time.perf_counter() - started:.3f} s")
    print(f"{len(chosen)} articles, {found} Related News")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
