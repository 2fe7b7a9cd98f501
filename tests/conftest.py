"""Shared helpers: write small sites into tmp folders and run the real CLI on them."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from amwgen.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# 2026-11-26T00:00:00Z: "now" for every test build (SPEC 3: SOURCE_DATE_EPOCH).
EPOCH = "1795651200"

SITE_YAML = """\
title: Test Digest
base_url: https://test.example.org/
timezone: Asia/Seoul
"""

ARTICLE = """\
---
title: {title}
date: {date}
novelty: 1
significance: 2
{extra}---
{body}
"""


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    # Inside GitHub Actions the CLI would switch to annotations and write the job summary.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(
    params=[(0, 1), (10**6, 1), (10**6, 10**6)],
    ids=["workers-make-groups", "digested-here-rendered-by-workers", "all-here"],
)
def render_place(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each place render_groups makes groups and renders pages, on a small site: forked
    workers make the groups (workers.DIGEST_FIRST 0); or this process makes them and
    digests their pages, and workers render those to render (workers.MIN_PARALLEL 1); or
    this process does everything."""
    from amwgen import workers

    digest_first, min_parallel = request.param
    monkeypatch.setattr(workers, "DIGEST_FIRST", digest_first)
    monkeypatch.setattr(workers, "MIN_PARALLEL", min_parallel)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `amwgen ARGS` in-process; return exit code, stdout and stderr."""

    def _run(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return _run


def write_site(root: Path, files: dict[str, str], site_yaml: str = SITE_YAML) -> Path:
    """Create a site at root from {relative path: text}; return root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(site_yaml, encoding="utf-8")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def article(
    title: str = "A story", date: str = "2026-11-20", body: str = "Body text.", **extra: str
) -> str:
    """Front matter and body of a valid article; extra keys are added as YAML lines."""
    lines = "".join(f"{k}: {v}\n" for k, v in extra.items())
    return ARTICLE.format(title=title, date=date, extra=lines, body=body)


def tree(root: Path) -> dict[str, bytes]:
    """Every file below root as {posix relative path: bytes}."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
