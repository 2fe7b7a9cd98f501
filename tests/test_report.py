"""Issue 5: the build report, -q/-v, and problems as GitHub annotations or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import article, write_site

from amwgen.model import Problem
from amwgen.report import annotation, choose_format


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests choose the format themselves, whether or not they run in GitHub Actions.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site",
        {
            "content/a.md": article("A", "2026-11-20", tags="[One, Two]", topics="Robotics"),
            "content/b.md": article("B", "2026-11-21", tags="One"),
        },
    )


@pytest.fixture
def broken(site: Path) -> Path:
    (site / "content" / "bad.md").write_text(
        "---\ntitle: Bad\ndate: 2026-11-01\nnovelty: 9\nsignificance: 1\ntitel: x\n---\n"
    )
    return site


def _sections(out: str) -> dict[str, dict[str, str]]:
    """The report's rows: {section: {name: count}}; single rows sit under their own name."""
    sections: dict[str, dict[str, str]] = {}
    current = ""
    for line in out.splitlines()[:-1]:
        words = line.split()
        if not line.startswith(" "):
            current = words[0]
            sections[current] = {"": " ".join(words[1:])}
        else:
            sections[current][words[0]] = words[1]
    return sections


def test_build_prints_a_report_then_the_built_line(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", site)
    assert result.code == 0, result.err
    last = result.out.splitlines()[-1]
    assert last.startswith("built ") and last.endswith(str(site / "public"))
    report = _sections(result.out)
    assert report["pages"]["news"] == "2"
    assert report["terms"]["tags"] == "2" and report["terms"]["topics"] == "1"
    assert report["warnings"][""] == "0"
    assert report["rendered"][""] == last.split()[1]  # every page of a first build
    assert report["time"][""].endswith(" s")
    assert "files" not in report
    assert "\x1b" not in result.out  # stdout is not a terminal: no bar, no colours
    (site / "content" / "b.md").write_text(article("B", "2026-11-21", tags="One", body="More."))
    again = _sections(run("build", site).out)
    assert 0 < int(again["rendered"][""]) < int(last.split()[1])  # b's page and its feeds
    assert _sections(run("build", site).out)["rendered"][""] == "0"  # nothing changed


def test_verbose_counts_files_by_folder(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", site, "-v")
    assert "files by folder" in result.out
    assert any(line.split() == ["news/", "2"] for line in result.out.splitlines())


def test_quiet_prints_only_errors(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    (site / "content" / "x.txt").write_text("not markdown")  # a warning, perhaps; never shown
    result = run("build", site, "-q")
    assert result.code == 0
    assert result.out == "" and result.err == ""
    (site / "content" / "bad.md").write_text("---\ntitle: Bad\ndate: 2026-11-01\n---\n")
    failed = run("build", site, "-q")
    assert failed.code == 1 and "missing required key 'novelty'" in failed.err


def test_quiet_and_verbose_exclude_each_other(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("build", site, "-q", "-v").code == 2


def test_check_format_github_annotates_and_summarises(
    run, broken: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run("check", broken, "--format", "github")
    assert result.code == 1
    path = (broken / "content" / "bad.md").as_posix().replace(":", "%3A").replace(",", "%2C")
    assert result.out.splitlines() == [
        f"::error file={path},line=4,title=amwgen%3A novelty::novelty: 9 is outside 0..3",
        f"::error file={path},line=6,title=amwgen::unknown key 'titel' (did you mean 'title'?)",
    ]
    assert f"{broken / 'content' / 'bad.md'}:4: novelty: 9 is outside 0..3" in result.err  # SPEC 6
    text = summary.read_text()
    assert text.startswith("earlier step\n### amwgen check: 2 error(s), 0 warning(s)")
    assert "| 4 | error | novelty | 9 is outside 0..3 |" in text


def test_github_format_is_automatic_in_github_actions(
    run, broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert choose_format(None, {"GITHUB_ACTIONS": "true"}) == "github"
    assert choose_format("text", {"GITHUB_ACTIONS": "true"}) == "text"
    assert run("check", broken).out.startswith("::error file=")
    assert run("build", broken).out.startswith("::error file=")
    assert run("check", broken, "--format", "text").out == ""


def test_annotation_escapes_data_and_properties() -> None:
    problem = Problem(Path("content/a,b:c.md"), 3, "read", "100% sure\r\nnext, line: end")
    assert annotation(problem) == (
        "::error file=content/a%2Cb%3Ac.md,line=3,title=amwgen%3A read::"
        "read: 100%25 sure%0D%0Anext, line: end"
    )
    warning = Problem(Path("site.yaml"), 0, None, "odd", "warning")
    assert annotation(warning) == "::warning file=site.yaml,title=amwgen::odd"


@pytest.mark.parametrize("command", ["check", "build"])
def test_format_json(run, broken: Path, command: str) -> None:  # type: ignore[no-untyped-def]
    result = run(command, broken, "--format", "json")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["warnings"] == []
    assert data["errors"][0] == {
        "path": (broken / "content" / "bad.md").as_posix(),
        "line": 4,
        "field": "novelty",
        "message": "9 is outside 0..3",
        "severity": "error",
    }
    assert data["errors"][1]["field"] is None


def test_format_json_of_a_good_build_is_json_only(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", site, "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == {"errors": [], "warnings": []}


def test_site_yaml_errors_follow_the_format(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {}, "title: X\nbase_url: https://x.org/\ntitel: y\n")
    result = run("check", site, "--format", "json")
    assert result.code == 2
    assert json.loads(result.out)["errors"][0]["line"] == 3
