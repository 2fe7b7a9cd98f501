"""Smoke test: the benchmark script generates a valid digest and runs end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from amwgen.build import Options, check
from amwgen.index import posting_lists, related

sys.path.insert(0, str(REPO / "benchmarks"))

import run as bench  # noqa: E402
import stages as stage_timer  # noqa: E402


def test_generated_digest_is_deterministic_and_valid(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bench.generate(tmp_path / "a", 40)
    bench.generate(tmp_path / "b", 40)
    files_a = sorted((tmp_path / "a").rglob("*.md"))
    assert len(files_a) == 40
    for path in files_a:
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.read_bytes() == twin.read_bytes()
    result = run("check", tmp_path / "a")
    assert result.code == 0, result.err


def test_benchmark_runs_and_writes_results(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--articles", "30", "-j", "1", "--repeat", "2",
         "--work", str(tmp_path / "work"), "--results", str(results)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = results.read_text()
    for column in (
        "cold s",
        "pages/s",
        "cold CPU s",
        "cold sys s",
        "bare sys s",
        "bare -j s",
        "cold/bare -j",
        "peak MB",
        "no-change s",
        "edit s",
        "edit again s",
        "scores s",
        "add s",
        "template s",
        "restored s",
        "--repeat 2",
    ):
        assert column in table
    assert "| 30 |" in table
    header, _, row = (line.strip("|").split(" | ") for line in table.splitlines()[-3:])
    # Peak memory comes from a sampled run of its own; the timed runs are not sampled.
    assert float(row[header.index("peak MB")]) > 0
    # Which interpreter ran it: two builds of Python 3.11 differ by a sixth in speed.
    assert f"Python {sys.version.split()[0]} (" in table
    assert os.path.realpath(getattr(sys, "_base_executable", sys.executable)) in table
    # Each run in a folder of its own, nothing of it deleted before the benchmark ends (a
    # deletion slows the file creation of the runs after it); --work keeps them all.
    for run in ("30-0", "30-1"):
        assert (tmp_path / "work" / run / "site" / "public" / "index.html").is_file()
        assert len(list((tmp_path / "work" / run / "bare-out").iterdir())) == 31  # and the added
        assert len(list((tmp_path / "work" / run / "bare-out-j").iterdir())) == 31
        # The template edit reached every article's page: a template edit that changes
        # no page would time no rendering.
        news = list((tmp_path / "work" / run / "site" / "public" / "news").rglob("index.html"))
        assert len(news) == 31
        assert all(bench.TEMPLATE_IS in page.read_text() for page in news)
        # A CI run's restored folders: the site copied with its cache and output, then built.
        restored = tmp_path / "work" / run / "restored"
        assert (restored / ".amwgen-cache" / "state.pickle").is_file()
        pages = (restored / "public" / "news").rglob("index.html")
        assert sum("A sentence from CI." in page.read_text() for page in pages) == 1


def test_the_bare_pipeline_on_two_cores_writes_what_it_writes_on_one(tmp_path: Path) -> None:
    site = tmp_path / "site"
    bench.generate(site, 25)
    bare = [sys.executable, str(REPO / "benchmarks" / "bare.py"), str(site)]
    outs = {}
    for jobs in (1, 2):
        out = outs[jobs] = tmp_path / f"out-{jobs}"
        proc = subprocess.run(
            [*bare, str(out), "--jobs", str(jobs)], capture_output=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
    one = {p.relative_to(outs[1]): p.read_bytes() for p in outs[1].rglob("index.html")}
    two = {p.relative_to(outs[2]): p.read_bytes() for p in outs[2].rglob("index.html")}
    assert len(one) == 25 and one == two
    # The 26th file, which the worker converts (every other file from the second on), cannot
    # be parsed: the worker fails, and with it the pipeline.
    (site / "content" / "broken.md").write_text("no front matter\n", encoding="utf-8")
    proc = subprocess.run(
        [*bare, str(tmp_path / "x"), "--jobs", "2"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0 and "1 worker(s) failed (exit codes [1])" in proc.stderr
    assert "ValueError" in proc.stderr  # the worker's traceback
    # One file more before it: its own share fails, after the worker is waited for.
    (site / "content" / "aaa.md").write_text("---\ntitle: A\n---\nA body.\n", encoding="utf-8")
    proc = subprocess.run(
        [*bare, str(tmp_path / "y"), "--jobs", "2"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0 and "ValueError" in proc.stderr and "worker" not in proc.stderr
    proc = subprocess.run(
        [*bare, str(tmp_path / "z"), "--jobs", "0"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and "not a positive number" in proc.stderr


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_instruction_counter_counts_every_process_of_a_command(tmp_path: Path) -> None:
    script = REPO / "benchmarks" / "instructions.py"
    # Work before a fork, which the forked process's count must not repeat, and a process
    # that outlives the command (as the `rm` of a replaced output does).
    forks = (
        "import os, subprocess\n"
        "sum(range(2_000_000))\n"
        "pid = os.fork()\n"
        "if pid == 0: os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "subprocess.Popen(['/bin/sh', '-c', 'sleep 1; exec /bin/true'], start_new_session=True)"
    )
    keep = tmp_path / "kept"
    command = [sys.executable, str(script), "--keep", str(keep), "--", sys.executable, "-c", forks]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    *processes, total = proc.stdout.splitlines()
    counts = [int(line.split()[0].replace(",", "")) for line in processes]
    names = [line.split(None, 1)[1] for line in processes]
    assert len(counts) == 4, proc.stdout
    # The command; the process it forked, counted from the fork on; the detached shell's two
    # programs, each counted once it ended, under the name it took last.
    assert all(f"{sys.executable} -c" in name for name in names[:2])
    assert sorted(name.rsplit("/", 1)[-1] for name in names[2:]) == ["sleep 1", "true"]
    assert counts[0] > 100_000_000 and 0 < counts[1] < counts[0] // 100 and min(counts) > 0
    assert total.split()[:2] == [f"{sum(counts):,}", "in"] and total.endswith("4 processes")
    assert len(list(keep.iterdir())) == 4  # callgrind's files, for callgrind_annotate
    # The command's failure is the script's; --keep wants a new folder.
    failing = [sys.executable, str(script), "--", sys.executable, "-c", "raise SystemExit(3)"]
    proc = subprocess.run(failing, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3 and "exit code 3" in proc.stderr
    again = [sys.executable, str(script), "--keep", str(keep), "--", "/bin/true"]
    proc = subprocess.run(again, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "already there" in proc.stderr


def test_the_template_edit_changes_the_themes_article_template_or_stops() -> None:
    theme = (REPO / "amwgen" / "templates" / "article.html").read_text(encoding="utf-8")
    edited = bench.edited_template(theme)
    assert edited != theme and bench.TEMPLATE_IS in edited
    with pytest.raises(SystemExit, match="article.html"):
        bench.edited_template(theme.replace(bench.TEMPLATE_WAS, "Back"))


def test_the_file_system_script_times_three_trees_and_leaves_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "files.py"), str(tmp_path), "--count", "250"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0].strip() for line in lines] == [
        "first tree",
        "second tree",
        "after deleting both",
    ]
    assert all(" s, system " in line for line in lines)
    assert list(tmp_path.iterdir()) == []


def test_the_stage_timer_times_a_builds_stages(tmp_path: Path) -> None:
    site = tmp_path / "site"
    bench.generate(site, 30)
    command = [sys.executable, str(REPO / "benchmarks" / "stages.py"), str(site), "-q", "-j", "1"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    stages = [line.split()[0] for line in first.stderr.splitlines()[1:-1]]
    # Every stage a first build runs in one process, in the order they start (load_cards only
    # when workers render): a stage build.py no longer calls by its name would not be timed.
    assert stages == [name for name in stage_timer.STAGES if name != "load_cards"]
    assert first.stderr.splitlines()[-1].startswith("  (in no stage)  ")
    assert first.stderr.startswith("imports ") and ", exit code 0" in first.stderr
    assert (site / "public" / "index.html").is_file()
    # A build that finds nothing changed stops after the stamp, and says so by its stages.
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    stages = [line.split()[0] for line in again.stderr.splitlines()[1:-1]]
    assert stages == ["input_stamp", "load_quick"]


def test_the_related_news_timer_chooses_for_every_article(tmp_path: Path) -> None:
    site = tmp_path / "site"
    bench.generate(site, 30)
    command = [sys.executable, str(REPO / "benchmarks" / "related.py"), str(site), "--rounds", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["round 1", "round 2"]
    assert all(line.endswith(" s") for line in lines[:-1])
    index = check(site, Options(now=datetime.now(UTC))).index
    assert index is not None
    lists = posting_lists(index)
    found = sum(len(related(entry, lists)) for entry in index.entries)
    assert found > 30  # most of the 30 share a term with five others
    assert lines[-1] == f"30 articles, {found} Related News"


def test_a_timed_run_is_not_sampled_and_a_memory_run_is() -> None:
    # The sampler reads every process's page tables (/proc/PID/smaps_rollup) from another
    # thread: on two cores, CPU taken from the build it times.
    command = [sys.executable, "-c", "import time; time.sleep(0.3)"]
    assert bench.measure(command).peak_mb == 0
    assert bench.measure(command, memory=True).peak_mb > 0


def test_nothing_is_deleted_before_every_timed_run_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On the test machine's file system (ext4 without a journal) a file made in the minutes
    # after a deletion costs time in proportion to what was deleted: the memory runs, whose
    # cold build replaces (deletes) an output, come after every timed run of every size, and
    # nothing the benchmark made is deleted before then.
    events: list[str] = []
    measure, rmtree = bench.measure, shutil.rmtree

    def timed(cmd: list[str], cwd: Path | None = None, memory: bool = False) -> bench.Run:
        events.append("memory" if memory else "timed")
        return measure(cmd, cwd, memory)

    def deleted(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> None:
        if os.path.exists(path):
            events.append(f"deleted {path}")
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(bench, "measure", timed)
    monkeypatch.setattr(shutil, "rmtree", deleted)
    results = tmp_path / "results.md"
    argv = ["run.py", "--articles", "20", "30", "-j", "1", "--no-hugo", "--results", str(results)]
    monkeypatch.setattr(sys, "argv", argv)
    source = bench.source_digest()
    assert bench.main() == 0
    assert bench.source_digest() == source  # nothing a run does changes it
    last_timed = max(i for i, event in enumerate(events) if event == "timed")
    assert events[last_timed + 1 :] == ["memory", "memory", events[-1]], events
    assert events[-1].startswith("deleted ") and "amwgen-bench-" in events[-1]  # the end
    assert events.count("timed") == 2 * 10  # per size: 8 builds, the bare pipeline twice
    assert "| 20 |" in results.read_text() and "| 30 |" in results.read_text()


def test_the_benchmark_wants_a_work_folder_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "left.txt").write_text("an earlier run's\n")
    for args in (["--work", str(tmp_path)], ["--articles", "20", "20"]):
        proc = subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "run.py"), *args, "--no-hugo",
             "--results", str(tmp_path / "results.md")],
            capture_output=True, text=True, cwd=REPO, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "not empty" in proc.stderr or "a size given twice" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["left.txt"]  # no results either


def test_the_benchmark_stops_when_amwgens_source_changes_under_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every build imports amwgen from the checkout: an edit made while the benchmark runs
    # would time the builds after it with other code, from an empty cache.
    digests = iter(["before", *["before"] * 3, "after"])
    monkeypatch.setattr(bench, "source_digest", lambda: next(digests, "after"))
    monkeypatch.setattr(bench, "_SOURCE", [])
    timed: list[list[str]] = []
    measure = bench.measure

    def counted(cmd: list[str], cwd: Path | None = None, memory: bool = False) -> bench.Run:
        timed.append(cmd)
        return measure(cmd, cwd, memory)

    monkeypatch.setattr(bench, "measure", counted)
    results = tmp_path / "results.md"
    argv = ["run.py", "--articles", "20", "-j", "1", "--no-hugo", "--results", str(results)]
    monkeypatch.setattr(sys, "argv", [*argv, "--work", str(tmp_path / "w")])
    with pytest.raises(SystemExit, match="amwgen's source changed while the benchmark ran"):
        bench.main()
    # The cold build, the no-change build and the first edit ran; the second edit did not.
    assert len(timed) == 3 and all(cmd[1:4] == ["-P", "-m", "amwgen"] for cmd in timed)
    assert not results.exists()
