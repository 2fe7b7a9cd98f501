"""Issue 5: `amwgen new` and `amwgen init` round-trip through check and build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SITE_YAML, write_site

from amwgen import yamlfm


def _fill_scores(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^novelty:.*$", "novelty: 2", text, count=1, flags=re.M)
    text = re.sub(r"^significance:.*$", "significance: 1", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")


def test_init_creates_a_site_that_checks_and_builds(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "my-digest"
    result = run("init", site)
    assert result.code == 0, result.err
    assert (site / "site.yaml").is_file() and (site / "README.md").is_file()
    # SOURCE_DATE_EPOCH is 2026-11-26T00:00Z; a new site's zone is UTC.
    example = site / "content" / "2026" / "11" / "welcome.md"
    assert str(example) in result.out
    assert "amwgen build" in (site / "README.md").read_text(encoding="utf-8")
    assert run("check", site).code == 0
    built = run("build", site)
    assert built.code == 0, built.err
    assert (site / "public" / "news" / "welcome" / "index.html").is_file()
    assert 'title: "My Digest"' in (site / "site.yaml").read_text(encoding="utf-8")


def test_init_never_overwrites(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {})
    before = (site / "site.yaml").read_bytes()
    result = run("init", site)
    assert result.code == 1
    assert "already exists" in result.err
    assert (site / "site.yaml").read_bytes() == before
    assert not (site / "content").exists()


def test_new_with_one_argument_uses_the_current_folder(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {})
    monkeypatch.chdir(site)
    result = run(
        "new", 'Robots: "Alpha" #1 — 로봇', "--topic", "Robotics", "--tag", "A", "--tag", "B"
    )
    assert result.code == 0, result.err
    rel = Path(result.out.strip())
    # 2026-11-26T00:00Z is 09:00 on the 26th in Asia/Seoul.
    assert rel.parent == Path("content/2026/11")
    assert rel.name == "robots-alpha-1-로봇.md"
    text = (site / rel).read_text(encoding="utf-8")
    fields = yamlfm.load_mapping(text.split("---\n")[1]).data
    assert fields["title"] == 'Robots: "Alpha" #1 — 로봇'
    assert fields["date"] == "2026-11-26"
    assert fields["topics"] == ["Robotics"] and fields["tags"] == ["A", "B"]
    assert fields["novelty"] is None and fields["significance"] is None


def test_new_uses_the_sites_time_zone(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site_yaml = SITE_YAML.replace("Asia/Seoul", "America/Los_Angeles")
    site = write_site(tmp_path / "site", {}, site_yaml)
    result = run("new", site, "Late news")
    assert result.code == 0, result.err
    # Still the 25th in Los Angeles.
    assert Path(result.out.strip()) == site / "content" / "2026" / "11" / "late-news.md"
    assert "date: 2026-11-25\n" in Path(result.out.strip()).read_text(encoding="utf-8")


def test_new_article_checks_once_the_scores_are_filled_in(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {})
    result = run("new", site, "Alliance formed", "--player", "MSIT", "--topic", "Robotics")
    path = Path(result.out.strip())
    checked = run("check", site)
    assert checked.code == 1
    assert f"{path}:9: novelty: must not be empty" in checked.err
    assert f"{path}:10: significance: must not be empty" in checked.err
    _fill_scores(path)
    assert run("check", site).code == 0
    built = run("build", site)
    assert built.code == 0, built.err
    page = (site / "public" / "news" / "alliance-formed" / "index.html").read_text(encoding="utf-8")
    assert "Alliance formed" in page and "MSIT" in page


def test_new_never_overwrites(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {})
    path = Path(run("new", site, "Same title").out.strip())
    path.write_text("mine\n", encoding="utf-8")
    result = run("new", site, "Same title")
    assert result.code == 1
    assert "already exists" in result.err and result.out == ""
    assert path.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("argv", [["new", "!!!"], ["new", "a", "b", "c"]])
def test_new_usage_errors_exit_2(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(write_site(tmp_path / "site", {}))
    result = run(*argv)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1


def test_new_without_a_site_exits_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("new", tmp_path, "Title")
    assert result.code == 2
    assert "site.yaml" in result.err


@pytest.mark.parametrize(
    "argv",
    [["Caf\udce9 news"], ["Fine", "--tag", "b\udcffad"], ["Fine", "--player", "\udc80"]],
)
def test_new_refuses_words_that_are_not_utf8_and_writes_nothing(
    run, tmp_path: Path, argv: list[str]
) -> None:  # type: ignore[no-untyped-def]
    # Bytes of another encoding in an argument (a Latin-1 terminal) reach Python as lone
    # surrogates: it was a traceback, and an empty article that check then refused.
    site = write_site(tmp_path / "site", {})
    result = run("new", site, *argv)
    assert result.code == 2
    assert result.err.startswith("amwgen new: '") and "is not UTF-8 text" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (site / "content").exists() or not list((site / "content").rglob("*.md"))


@pytest.mark.parametrize(("option", "name"), [("--tag", ""), ("--tag", "🤖"), ("--topic", "..")])
def test_new_refuses_a_term_that_makes_no_slug_and_writes_nothing(
    run, tmp_path: Path, option: str, name: str
) -> None:  # type: ignore[no-untyped-def]
    # It wrote an article that check then refused (a red team); a title of the kind was
    # refused up front already.
    site = write_site(tmp_path / "site", {})
    result = run("new", site, "Fine", option, name)
    assert result.code == 2
    expected = f"amwgen new: {option} '{name}' has no letters or digits to name a term"
    assert result.err.strip() == expected
    assert not (site / "content").exists() or not list((site / "content").rglob("*.md"))


@pytest.mark.parametrize(
    ("args", "given"),
    [
        (["bell\x07"], "bell\x07"),
        (["Fine", "--tag", "a\x01"], "a\x01"),
        (["\x1b[31mred"], "\x1b[31mred"),
    ],
)
def test_new_refuses_a_character_no_page_can_carry_and_writes_nothing(
    run, tmp_path: Path, args: list[str], given: str
) -> None:  # type: ignore[no-untyped-def]
    # It wrote `title: "bell\u0007"`, which check then refused (a review).
    site = write_site(tmp_path / "site", {})
    result = run("new", site, *args)
    assert result.code == 2
    code = f"U+{ord(next(c for c in given if ord(c) < 32)):04X}"
    # Said escaped (a review: an escape sequence coloured the terminal).
    escaped = given.encode("unicode_escape").decode()
    assert f"'{escaped}' contains the character {code}, which no page or feed" in result.err
    assert not any(ord(c) < 32 for c in result.err.rstrip("\n"))
    assert not (site / "content").exists() or not list((site / "content").rglob("*.md"))


def test_init_refuses_an_empty_folder_name_and_writes_nothing(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # `amwgen init ""` made a site in the working folder (Path("") is "."): a review.
    monkeypatch.chdir(tmp_path)
    result = run("init", "")
    assert result.code == 2
    assert (
        result.err.strip()
        == "amwgen init: argument DIR: '' names no folder (see 'amwgen init --help')"
    )
    assert list(tmp_path.iterdir()) == []


def test_new_writes_characters_yaml_forbids_as_escapes(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # DEL and C1 controls: written as they were, the new article was not valid YAML.
    site = write_site(tmp_path / "site", {})
    title = "Tab\x7fle \x9f end"
    # NEL and U+2028 are allowed, but read as line breaks: a review found "a\x85b" read
    # back as "a b".
    result = run("new", site, title, "--tag", "\x80x", "--tag", "a\x85b", "--tag", "c\u2028d")
    assert result.code == 0, result.err
    path = Path(result.out.strip())
    fields = yamlfm.load_mapping(path.read_text(encoding="utf-8").split("---\n")[1]).data
    assert fields["title"] == title and fields["tags"] == ["\x80x", "a\x85b", "c\u2028d"]
    _fill_scores(path)
    assert run("check", site).code == 0


def test_init_refuses_before_writing_anything(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # It wrote site.yaml and the example article, then refused the README that was there.
    site = tmp_path / "half"
    site.mkdir()
    (site / "README.md").write_text("# mine\n")
    result = run("init", site)
    assert result.code == 1
    assert (
        result.err.strip() == f"amwgen init: {site / 'README.md'} already exists; not overwritten"
    )
    assert sorted(p.name for p in site.iterdir()) == ["README.md"]
    assert (site / "README.md").read_text() == "# mine\n"


def test_init_in_a_folder_whose_name_is_not_utf8_builds(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "bad\udcffname"  # the title is the default one, not the name
    assert run("init", site).code == 0
    settings = (site / "site.yaml").read_text(encoding="utf-8")
    assert 'title: "AI Digest"' in settings
    # (Pagefind takes no such path: it fails, located, and says how to build without it.)
    (site / "site.yaml").write_text(settings + "search: false\n", encoding="utf-8")
    result = run("build", site)  # a digest of the folder's path was a traceback
    assert result.code == 0, result.err
    assert (site / "public" / "news" / "welcome" / "index.html").is_file()
