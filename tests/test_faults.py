"""Issue 7, point 4: faults on disk and odd files are one clear line, exit 1, nothing half-written.

Disk faults that root cannot meet for real (a full disk, a folder it may not write) are
injected with the test-only hook AMWGEN_TEST_FAULT (amwgen/faults.py); the chmod variant
runs as well where the tests do not run as root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import article, tree, write_site
from test_interrupt import Build

ERROR_LINE = "amwgen: cannot write "


@pytest.fixture
def site(tmp_path: Path) -> Path:
    files = {f"content/s{n}.md": article(f"Story {n}", f"2026-11-1{n}") for n in range(3)}
    return write_site(tmp_path / "site", files)


@pytest.fixture
def built(run, site: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:  # type: ignore[no-untyped-def]
    """The site built once into tmp/out; the output and its files."""
    out = tmp_path / "out"
    assert run("build", site, "-o", out, "-q").code == 0
    # A change, so that the next build has pages to write.
    (site / "content" / "s0.md").write_text(article("Story 0 again", "2026-11-10"))
    return out, tree(out)


def assert_untouched(out: Path, before: dict[str, bytes]) -> None:
    """The previous output as it was, and nothing left beside it (no temp tree, no lock)."""
    assert tree(out) == before
    beside = sorted(p.name for p in out.parent.iterdir())
    assert beside == sorted(["site", out.name]), beside


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("stage", ["render", "swap"])
def test_disk_full_is_one_line_and_leaves_the_previous_output(
    run,  # type: ignore[no-untyped-def]
    site: Path,
    built: tuple[Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
) -> None:
    out, before = built
    monkeypatch.setenv("AMWGEN_TEST_FAULT", f"{stage}:ENOSPC")
    result = run("build", site, "-o", out, "-q")
    assert result.code == 1
    line = one_line(result.err)
    assert line.startswith(ERROR_LINE) and line.endswith("No space left on device"), line
    assert_untouched(out, before)


def test_debug_shows_the_traceback(run, site: Path, built, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    out, before = built
    monkeypatch.setenv("AMWGEN_TEST_FAULT", "render:ENOSPC")
    result = run("build", site, "-o", out, "-q", "--debug")
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert "OSError: [Errno 28] No space left on device" in result.err
    assert result.err.strip().splitlines()[-1].startswith(ERROR_LINE)
    assert_untouched(out, before)


def test_unwritable_output_folder_even_for_root(
    run, site: Path, built, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    out, before = built
    monkeypatch.setenv("AMWGEN_TEST_FAULT", "output:EACCES")
    result = run("build", site, "-o", out, "-q")
    assert result.code == 1
    line = one_line(result.err)
    assert line.startswith(ERROR_LINE) and line.endswith("Permission denied"), line
    assert_untouched(out, before)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_read_only_output_parent(run, site: Path, built) -> None:  # type: ignore[no-untyped-def]
    out, before = built
    out.parent.chmod(0o555)
    try:
        result = run("build", site, "-o", out, "-q")
    finally:
        out.parent.chmod(0o755)
    assert result.code == 1
    assert one_line(result.err).endswith("Permission denied")
    assert_untouched(out, before)


def test_output_below_a_regular_file(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("build", site, "-o", blocker / "out", "-q")
    assert result.code == 1
    assert one_line(result.err).startswith(ERROR_LINE)
    assert blocker.read_text() == "x"


def test_file_vanishing_between_walk_and_read(site: Path, built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, before = built
    release = tmp_path / "release"
    proc = Build(site, out, AMWGEN_TEST_PAUSE_AT="walk", AMWGEN_TEST_RELEASE=str(release))
    proc.wait_for("paused at walk")
    gone = site / "content" / "s1.md"
    gone.unlink()
    release.touch()
    assert proc.finish() == 1
    lines = [line for line in proc.err if not line.startswith("amwgen-test:")]
    assert lines[0].rstrip("\n") == f"{gone}:1: cannot read: No such file or directory"
    assert lines[1:] == ["1 error(s); nothing was written\n"]
    release.unlink()
    assert_untouched(out, before)


def test_fifo_is_a_located_error_and_does_not_hang(run, site: Path, built) -> None:  # type: ignore[no-untyped-def]
    out, before = built
    fifo = site / "content" / "pipe.md"
    os.mkfifo(fifo)
    result = run("build", site, "-o", out, "-q")
    assert result.code == 1
    assert result.err.splitlines()[0] == f"{fifo}:1: is not a regular file"
    assert_untouched(out, before)


def test_folder_named_like_markdown_is_a_located_error(run, site: Path, built) -> None:  # type: ignore[no-untyped-def]
    out, before = built
    folder = site / "content" / "folder.md"
    folder.mkdir()
    result = run("build", site, "-o", out, "-q")
    assert result.code == 1
    assert result.err.splitlines()[0] == f"{folder}:1: is a folder named like a Markdown file"
    assert_untouched(out, before)


def test_link_to_outside_the_site_is_not_followed(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "elsewhere.md"
    outside.write_text(article("Not ours", "2026-11-12", "Secret words."))
    link = site / "content" / "elsewhere.md"
    link.symlink_to(outside)
    result = run("build", site, "-o", tmp_path / "out")
    assert result.code == 0  # a warning, not an error
    assert f"{link}:1: warning: is a link to outside the site; not followed" in result.err
    assert not (tmp_path / "out" / "news" / "elsewhere").exists()
    assert all(b"Secret words." not in data for data in tree(tmp_path / "out").values())
