"""The golden fixture site builds to exactly the checked-in tree (python tests/update_golden.py)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from conftest import FIXTURES, tree

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("name", ["golden"])
def test_output_equals_golden_tree(name: str, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", FIXTURES / name, "-o", tmp_path / "out", "-j", "1")
    assert result.code == 0, result.err
    got, want = _pages(tree(tmp_path / "out")), _pages(tree(GOLDEN / name))
    assert sorted(got) == sorted(want), "file list differs; run python tests/update_golden.py"
    for rel in sorted(want):
        if got[rel] != want[rel]:
            diff = difflib.unified_diff(
                want[rel].decode(errors="replace").splitlines(),
                got[rel].decode(errors="replace").splitlines(),
                f"golden/{rel}",
                f"built/{rel}",
                lineterm="",
            )
            pytest.fail("\n".join(list(diff)[:60]))


def _pages(files: dict[str, bytes]) -> dict[str, bytes]:
    """The tree without pagefind/: the search index is Pagefind's bytes, not ours, and any
    upgrade of it would rewrite them (tests/test_theme.py checks it is deterministic)."""
    return {rel: data for rel, data in files.items() if not rel.startswith("pagefind/")}


def test_golden_covers_every_page_kind() -> None:
    files = set(tree(GOLDEN / "golden"))
    for expected in (
        "index.html",
        "page/2/index.html",
        "news/alpha/index.html",
        "about/index.html",
        "tags/index.html",
        "tags/로봇/index.html",
        "tags/physical-ai/page/2/index.html",
        "topics/robotics/index.html",
        "players/msit/index.html",
        "categories/funding/index.html",
        "regions/kr/index.html",
        "scores/index.html",
        "feed.xml",
        "feed.json",
        "significant.xml",
        "tags/funding/feed.xml",
        "topics/robotics/feed.xml",
        "sitemap.xml",
        "news-sitemap.xml",
        "robots.txt",
        "404.html",
        "hello.txt",
        "editions/index.html",
        "editions/2026-w47/index.html",
        "editions/2026-w47/email.html",
        "editions/2026-w47/email.txt",
        "editions/2026-11/index.html",
        "editions/feed.xml",
    ):
        assert expected in files, expected
