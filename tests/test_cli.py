"""The command line from the outside: argv in, files and exit codes out (SPEC 5)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import EPOCH, FIXTURES, REPO, article, tree, write_site

from amwgen.build import Options, check
from amwgen.render import page_files, plan_groups
from amwgen.write import static_files


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site",
        {
            "content/2026/11/one.md": article("One", "2026-11-20", tags="[Alpha]"),
            "content/2026/11/two.md": article("Two", "2026-11-21", topics="[Robotics]"),
            "content/pages/about.md": "---\ntitle: About us\n---\nHello.\n",
        },
    )


def test_build_writes_article_pages_home_404_robots(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", site)
    assert result.code == 0, result.err
    out = site / "public"
    for rel in (
        "index.html",
        "news/one/index.html",
        "news/two/index.html",
        "about/index.html",
        "404.html",
        "robots.txt",
    ):
        assert (out / rel).is_file(), rel
    assert "Sitemap: https://test.example.org/sitemap.xml" in (out / "robots.txt").read_text()


def test_check_writes_nothing(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("check", site)
    assert result.code == 0
    assert "2 article(s)" in result.out
    assert not (site / "public").exists()


def test_output_flag_is_relative_to_working_folder(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = run("build", site, "-o", "elsewhere")
    assert result.code == 0, result.err
    assert (tmp_path / "elsewhere" / "index.html").is_file()
    assert not (site / "public").exists()


@pytest.mark.parametrize("how", ["flag", "site.yaml", "linked"])
def test_an_output_beyond_dot_dot_is_built(
    run, site: Path, tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """`-o ../public` from inside the site, `output: ../public` in site.yaml: ".." leads where
    the file system says, through a linked folder too (no traceback, as there once was)."""
    monkeypatch.chdir(site)
    if how == "flag":
        args, out = ("-o", "../public"), tmp_path / "public"
    elif how == "site.yaml":
        (site / "site.yaml").write_text((site / "site.yaml").read_text() + "output: ../public\n")
        args, out = (), tmp_path / "public"
    else:
        (tmp_path / "deep" / "er").mkdir(parents=True)
        (site / "link").symlink_to(tmp_path / "deep" / "er")
        args, out = ("-o", "link/../public"), tmp_path / "deep" / "public"
    for _ in range(2):  # clean, then incremental
        result = run("build", ".", *args)
        assert result.code == 0, result.err
        assert (out / "news" / "one" / "index.html").is_file()
    assert not (site / "public").exists()


def test_a_plain_page_may_not_take_a_path_amwgen_uses(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    """pagefind: the search index's folder, which a build writes anew (a page there once
    vanished from incremental builds)."""
    pages = site / "content" / "pages"
    (pages / "pagefind.md").write_text("---\ntitle: Search help\n---\nHow to search.\n")
    (pages / "finding.md").write_text("---\ntitle: Finding\nslug: search\n---\nFind.\n")
    result = run("build", site)
    assert result.code == 1
    assert f"{pages / 'finding.md'}:3: slug: 'search' is a path amwgen uses" in result.err
    assert f"{pages / 'pagefind.md'}:1: 'pagefind' is a path amwgen uses" in result.err
    assert not (site / "public").exists()


def test_site_defaults_to_working_folder(run, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(site)
    assert run("build").code == 0
    assert (site / "public" / "news" / "one" / "index.html").is_file()


def test_base_url_flag_changes_absolute_and_root_relative_urls(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("build", site, "--base-url", "https://x.example/sub").code == 0
    html = (site / "public" / "news" / "one" / "index.html").read_text()
    assert '<link rel="canonical" href="https://x.example/sub/news/one/">' in html
    assert 'href="/sub/tags/alpha/"' in html


def test_a_base_url_beyond_ascii_is_written_as_a_url_holds_it(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # A red team: the sitemap's <loc>, feeds and canonical links carried the host and the
    # path as typed; sitemaps.org wants them escaped, and links within the site were too.
    yaml = (site / "site.yaml").read_text()
    base = re.search(r"^base_url: (.*)$", yaml, re.M)
    assert base is not None
    (site / "site.yaml").write_text(yaml.replace(base[0], "base_url: https://例え.jp/ニュース"))
    assert run("build", site).code == 0
    root = "https://xn--r8jz45g.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/"
    html = (site / "public" / "news" / "one" / "index.html").read_text()
    assert f'<link rel="canonical" href="{root}news/one/">' in html
    assert 'href="/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/tags/alpha/"' in html
    sitemap = (site / "public" / "sitemap.xml").read_text()
    assert f"<loc>{root}news/one/</loc>" in sitemap
    assert sitemap.isascii()
    assert f'<link href="{root}feed.xml" rel="self"/>' in (site / "public" / "feed.xml").read_text()
    # The flag is read alike; ASCII is kept as it is typed.
    assert run("build", site, "--base-url", "https://例え.jp:8080/café").code == 0
    html = (site / "public" / "news" / "one" / "index.html").read_text()
    assert 'href="https://xn--r8jz45g.jp:8080/caf%C3%A9/news/one/"' in html
    assert run("build", site, "--base-url", "HTTPS://X.example/A%C3%A9").code == 0
    html = (site / "public" / "news" / "one" / "index.html").read_text()
    assert 'href="HTTPS://X.example/A%C3%A9/news/one/"' in html


def test_an_output_folder_through_a_link_that_loops_is_an_error(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # A review: a traceback (RuntimeError: Symlink loop), from -o and from site.yaml alike.
    (site / "loop").symlink_to(site / "loop")
    result = run("build", site, "-o", site / "loop" / "x")
    assert result.code == 2
    assert result.err.splitlines() == [
        f"amwgen build: -o: output folder '{site / 'loop' / 'x'}' is, or goes through, a link "
        "that loops; choose another"
    ]
    yaml = (site / "site.yaml").read_text()
    (site / "site.yaml").write_text(yaml + "output: loop\n")
    line = len(yaml.splitlines()) + 1
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 2
        assert result.err.splitlines()[0] == (
            f"{site / 'site.yaml'}:{line}: output: output folder '{site / 'loop'}' is, or goes "
            "through, a link that loops; choose another"
        )
    result = run("build", site, "-o", site / "elsewhere")  # site.yaml's own, compared: no error
    assert result.code == 0, result.err


def test_an_unknown_flag_is_said_of_its_command(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # A review: "amwgen: unrecognized arguments", where the command's other usage errors
    # are "amwgen build: ...".
    result = run("build", site, "--nosuch")
    assert result.code == 2
    assert result.err.splitlines() == [
        "amwgen build: unrecognized arguments: --nosuch (see 'amwgen build --help')"
    ]
    assert not (site / "public").exists()
    # A flag's value is said with its controls escaped: one line, no colours (a review).
    result = run("build", site, "--base-url", "https://ex\x1b[31mample.org/\nforged:1: error")
    assert result.err.splitlines() == [
        "amwgen build: --base-url: 'https://ex\\x1b[31mample.org/\\nforged:1: error' is not "
        "an absolute http(s) URL"
    ]
    # One given to amwgen itself, before the command, is said of amwgen.
    result = run("--nosuch", "build", site)
    assert result.err.splitlines() == [
        "amwgen: unrecognized arguments: --nosuch (see 'amwgen --help')"
    ]


def test_bad_base_url_flag_is_usage_error(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", site, "--base-url", "ftp://nope")
    assert result.code == 2
    # Said of the flag: it was "--base-url:0: ...", a file and line that do not exist.
    expected = "amwgen build: --base-url: 'ftp://nope' is not an absolute http(s) URL"
    assert result.err.splitlines() == [expected]
    # --format json still gives JSON on stdout, the flag as its path (a review).
    result = run("build", site, "--base-url", "ftp://nope", "--format", "json")
    assert result.code == 2
    assert json.loads(result.out)["errors"] == [
        {
            "path": "--base-url",
            "line": 0,
            "field": None,
            "message": "'ftp://nope' is not an absolute http(s) URL",
            "severity": "error",
        }
    ]


def test_drafts_and_future_only_with_flags(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    (site / "content" / "d.md").write_text(article("Draft", "2026-11-01", draft="true"))
    (site / "content" / "f.md").write_text(article("Future", "2026-12-31"))
    assert run("build", site).code == 0
    assert not (site / "public" / "news" / "d").exists()
    assert not (site / "public" / "news" / "f").exists()
    assert run("build", site, "--drafts", "--future").code == 0
    assert (site / "public" / "news" / "d" / "index.html").is_file()
    assert (site / "public" / "news" / "f" / "index.html").is_file()


def test_now_comes_from_source_date_epoch(run, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")  # 2026-11-18: both articles are future
    assert run("build", site).code == 0
    assert not (site / "public" / "news" / "one").exists()


def test_two_builds_are_byte_identical(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("build", site, "-o", tmp_path / "a").code == 0
    assert run("build", site, "-o", tmp_path / "b", "--clean").code == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_static_folder_is_copied_and_can_replace_theme_assets(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    (site / "static" / "img").mkdir(parents=True)
    (site / "static" / "img" / "logo.svg").write_text("<svg/>")
    (site / "static" / "assets").mkdir()
    (site / "static" / "assets" / "amwgen.css").write_text("body{color:red}")
    assert run("build", site).code == 0
    assert (site / "public" / "img" / "logo.svg").read_text() == "<svg/>"
    assert (site / "public" / "assets" / "amwgen.css").read_text() == "body{color:red}"


def test_the_stylesheet_and_script_links_change_with_their_bytes(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Their names are fixed; the ?v= of each link is a digest of the file, so a browser or a
    # CDN that keeps the old one fetches the new (docs/deploy.md). An incremental build
    # re-renders every page that links it, and equals a clean build.
    page = site / "public" / "news" / "one" / "index.html"

    def links() -> tuple[str, str]:
        html = page.read_text()
        css = html.split('href="/assets/amwgen.css?v=')[1].split('"')[0]
        js = html.split('<script src="/assets/amwgen.js?v=')[1].split('"')[0]
        return css, js

    assert run("build", site).code == 0
    css, js = links()
    assert len(css) == len(js) == 10 and css != js
    (site / "static" / "assets").mkdir(parents=True)
    (site / "static" / "assets" / "amwgen.js").write_text("console.log(1)")
    assert run("build", site).code == 0
    assert links()[0] == css and links()[1] not in (js, "")
    (site / "static" / "assets" / "amwgen.css").write_text("body{color:red}")
    assert run("build", site).code == 0
    assert links()[0] != css
    assert run("build", site, "-o", tmp_path / "clean", "--clean").code == 0
    assert tree(site / "public") == tree(tmp_path / "clean")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            "file tags",
            "static/tags:1: cannot go into the output: the build makes a folder at /tags/",
        ),
        (
            "folder feed.xml",
            "static/feed.xml:1: cannot go into the output: the build makes a file at /feed.xml",
        ),
        (  # check saw only files, and passed an empty folder the copy makes (a review)
            "empty feed.xml",
            "static/feed.xml:1: cannot go into the output: the build makes a file at /feed.xml",
        ),
        (
            "file news/one",
            "static/news/one:1: cannot go into the output: the build makes a folder at /news/one/",
        ),
        (
            "folder tags/alpha/index.html",
            "static/tags/alpha/index.html:1: cannot go into the output: the build makes a file "
            "at /tags/alpha/index.html",
        ),
        (
            "folder assets/amwgen.css",
            "static/assets/amwgen.css:1: cannot go into the output: the build makes a file at "
            "/assets/amwgen.css",
        ),
    ],
)
def test_a_static_file_that_cannot_go_into_the_output_is_a_located_error(
    run, site: Path, make: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    # It was one line listing copytree's tuples, with the temporary folder's paths in it.
    # check reports it too, as build does (it said "no errors", and build then failed).
    assert run("build", site).code == 0
    before = tree(site / "public")
    kind, name = make.split()
    static = site / "static"
    static.mkdir()
    (static / "robots.txt").write_text("replaces the page: no clash")
    if kind == "file":
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_text("x")
    elif kind == "empty":
        (static / name).mkdir(parents=True)
    else:
        (static / name).mkdir(parents=True)
        (static / name / "x.txt").write_text("y")
        (static / name / "deeper").mkdir()
        (static / name / "deeper" / "y.txt").write_text("z")  # reported once, at the folder
    result = run("build", site)
    assert result.code == 1
    assert result.err.splitlines() == [f"{site}/{expected}", "1 error(s); nothing was written"]
    assert tree(site / "public") == before
    checked = run("check", site)
    assert checked.code == 1
    assert checked.err.splitlines() == [f"{site}/{expected}", "1 error(s)"]


def test_check_reads_the_builds_cache_writes_nothing_and_sees_every_change(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # check takes what the last build validated for the files unchanged since (10,000
    # articles: 1.0 s against 19.8 s, docs/performance-history.md): an edit since must still show.
    assert run("build", site).code == 0
    cache = site / ".amwgen-cache"
    before = tree(cache)
    two = site / "content" / "2026" / "11" / "two.md"
    text = two.read_text()
    two.write_text(text.replace("novelty: 1\n", "novelty: 9\n"))
    result = run("check", site)
    assert result.code == 1
    assert f"{two}:4: novelty:" in result.err.splitlines()[0], result.err
    two.write_text(text)
    result = run("check", site)
    assert result.code == 0, result.err
    assert "2 article(s), no errors" in result.out + result.err
    assert tree(cache) == before


def test_static_clashes_are_reported_in_the_order_of_their_paths(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # build gave them in the order the copy met them, which is the file system's (a review).
    static = site / "static"
    names = ["tags", "categories", "regions", "topics", "news", "players"]
    for name in names:
        static.mkdir(exist_ok=True)
        (static / name).write_text("x")
    for command in ("build", "check"):
        result = run(command, site)
        assert result.code == 1
        lines = result.err.splitlines()[: len(names)]
        assert lines == sorted(lines) and len(set(lines)) == len(names), command


def test_the_files_check_compares_static_with_are_those_the_build_writes() -> None:
    # static_problems names every page's file without making every group (render.page_files):
    # the golden tree's files, but for static/, the theme's assets and the search index.
    now = datetime.fromtimestamp(int(EPOCH), UTC)
    checked = check(FIXTURES / "golden", Options(now=now))
    assert checked.index is not None
    named = set(page_files(plan_groups(checked.index, checked.notes)))
    golden = tree(REPO / "tests" / "golden" / "golden")
    built = {rel for rel in golden if not rel.startswith(("pagefind/", "assets/"))}
    assert named | {"sitemap.xml", "hello.txt"} == built
    assert any(rel.startswith("tags/") and "/page/2/" in rel for rel in named)  # a term's
    assert any(rel.startswith("editions/") and rel.endswith("/email.txt") for rel in named)


def test_a_link_to_nothing_in_static_is_left_out_by_every_build(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # A clean build failed on it (copytree), while an incremental one, whose input key leaves
    # such a link out, kept the output: the two differed (a crash hunt).
    assert run("build", site).code == 0
    (site / "static").mkdir()
    (site / "static" / "dead.txt").symlink_to(site / "nowhere")
    (site / "static" / "real.txt").write_text("r")
    assert run("build", site).code == 0
    assert run("build", site, "-o", tmp_path / "clean", "--clean").code == 0
    assert tree(site / "public") == tree(tmp_path / "clean")
    assert (tmp_path / "clean" / "real.txt").exists()
    assert not os.path.lexists(tmp_path / "clean" / "dead.txt")


def test_a_link_to_itself_in_layouts_or_static_is_left_out(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # It was "amwgen: cannot write layouts/article.html: Too many levels of symbolic links"
    # from check and build: a read, said as a write, at no line (a red team).
    for folder in ("layouts", "static"):
        (site / folder).mkdir()
    (site / "layouts" / "article.html").symlink_to("article.html")
    (site / "static" / "loop.txt").symlink_to("loop.txt")
    # A link back to a folder it is inside: the copy followed it, and put the whole site,
    # its drafts and cache too, into the output (a review).
    (site / "static" / "up").symlink_to("..")
    result = run("check", site)
    assert result.code == 0, result.err
    assert run("build", site).code == 0
    assert "<h1>One</h1>" in (site / "public" / "news" / "one" / "index.html").read_text()
    assert not os.path.lexists(site / "public" / "loop.txt")
    assert not os.path.lexists(site / "public" / "up")
    # Nor does the listing of static/ that the input key and check read walk through it
    # (it walked the whole site, its output too, while the copy left it out: a re-read).
    assert sorted(static_files(site / "static")) == []
    assert run("build", site, "-o", tmp_path / "clean", "--clean").code == 0
    assert tree(site / "public") == tree(tmp_path / "clean")


def test_two_links_that_lead_to_each_other_are_copied_as_listed(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # static/a -> elsewhere, elsewhere/b -> static: the listing stops at b, but copytree
    # followed the pair twenty times over (a/b/a/b/.../f.txt) until the system gave up.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "f.txt").write_text("f")
    (elsewhere / "empty").mkdir()  # a folder is copied as a folder, empty or not
    (site / "static").mkdir()
    (site / "static" / "a").symlink_to(elsewhere)
    (elsewhere / "b").symlink_to(site / "static")
    assert run("build", site).code == 0
    out = site / "public"
    copied = {rel for rel in tree(out) if rel.startswith("a/")}
    assert copied == {"a/f.txt"} == set(static_files(site / "static"))
    assert (out / "a" / "empty").is_dir() and not os.path.lexists(out / "a" / "b")
    assert run("build", site, "-o", tmp_path / "clean", "--clean").code == 0
    assert tree(out) == tree(tmp_path / "clean")


def test_layouts_override_builtin_templates(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    (site / "layouts").mkdir()
    (site / "layouts" / "404.html").write_text("custom {{ site.title }}\n")
    assert run("build", site).code == 0
    assert (site / "public" / "404.html").read_text() == "custom Test Digest\n"
    assert "<h1>One</h1>" in (site / "public" / "news" / "one" / "index.html").read_text()


def test_missing_site_yaml_exits_2_with_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", tmp_path)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "site.yaml" in result.err and "amwgen init" in result.err


@pytest.mark.parametrize("argv", [["build", "--nope"], ["frobnicate"], ["build", "-j", "0"], []])
def test_usage_errors_exit_2_with_one_line(run, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = run(*argv)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "--help" in lines[0], result.err


@pytest.mark.parametrize("command", ["build", "check"])
def test_help_lists_every_flag(command: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "amwgen", command, "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0
    flags = ["--drafts", "--future"]
    if command == "build":
        flags += ["--output", "--base-url", "--clean", "--jobs", "--verbose"]
    for flag in flags:
        assert flag in proc.stdout
    if command == "check":  # it writes nothing: no "count the files written"
        assert "--verbose" not in proc.stdout and "written" not in proc.stdout


@pytest.mark.parametrize(
    ("epoch", "why"),
    [
        ("soon", "is not a whole number of seconds since 1970"),
        ("²", "is not a whole number of seconds since 1970"),  # a digit to isdigit: a traceback
        ("-5", "is not a whole number of seconds since 1970"),
        ("253370764800", "is after the year 9998"),  # 9999-01-01: a traceback later on
        ("99999999999999999999", "is after the year 9998"),  # beyond datetime: a traceback
    ],
)
def test_a_bad_source_date_epoch_is_a_usage_error(
    run, site: Path, monkeypatch: pytest.MonkeyPatch, epoch: str, why: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 2
        assert result.err.splitlines() == [f"amwgen: SOURCE_DATE_EPOCH '{epoch}' {why}"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "253370764799")  # the last second of 9998
    assert run("build", site).code == 0


def test_new_says_it_takes_one_title() -> None:
    # Its usage read "[SITE] TITLE [[SITE] TITLE ...]"; a second title is a usage error.
    proc = subprocess.run(
        [sys.executable, "-m", "amwgen", "new", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith(
        'usage: amwgen new [-h] [--topic TOPIC] [--player PLAYER] [--tag TAG] [SITE] "TITLE"\n'
    )


def test_content_error_exits_1_and_leaves_previous_output(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "content" / "bad.md").write_text(
        "---\ntitle: Bad\ndate: 2026-11-01\nnovelty: 9\nsignificance: 1\n---\n"
    )
    result = run("build", site)
    assert result.code == 1
    assert "content/bad.md:4: novelty: 9 is outside 0..3" in result.err
    assert tree(site / "public") == before


def test_output_may_not_replace_the_site(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("build", site, "-o", site)
    assert result.code == 2
    assert (site / "content").is_dir()
    result = run("build", site, "-o", site / "content" / "out")
    assert result.code == 2
    # The cache folder, also when it is a link elsewhere (a review).
    elsewhere = site.parent / "cache-elsewhere"
    elsewhere.mkdir()
    (site / ".amwgen-cache").symlink_to(elsewhere)
    result = run("build", site, "-o", site / ".amwgen-cache")
    assert result.code == 2 and "would replace the site's own files" in result.err
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("output", ["site.yaml", "notes.txt", "i18n/out", ".amwgen-cache"])
def test_output_may_not_replace_a_file_or_the_sites_settings(run, site: Path, output: str) -> None:  # type: ignore[no-untyped-def]
    # A crash hunt found `output: site.yaml` (or any file) replaced by the output folder,
    # exit 0: the site's settings gone.
    (site / "notes.txt").write_text("mine\n")
    (site / "i18n").mkdir()
    settings = (site / "site.yaml").read_text()
    (site / "site.yaml").write_text(settings + f"output: {output}\n")
    result = run("build", site)
    assert result.code == 2
    # At the site's site.yaml and the line of `output` (it was "site.yaml:1:" for any site).
    assert result.err.startswith(f"{site}/site.yaml:4: output: "), result.err
    assert (site / "site.yaml").read_text() == settings + f"output: {output}\n"
    assert (site / "notes.txt").read_text() == "mine\n"
    result = run("check", site)  # check finds what build would refuse
    assert result.code == 2
    assert result.err.startswith(f"{site}/site.yaml:4: output: "), result.err
    (site / "site.yaml").write_text(settings)
    result = run("build", site, "-o", site / output)
    assert result.code == 2
    # Said of the flag, not of site.yaml, which does not give it.
    assert result.err.startswith("amwgen build: -o: "), result.err
    assert len(result.err.splitlines()) == 1


def test_unwritable_output_is_one_line_exit_1(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("x")
        result = run("build", site, "-o", blocker / "out")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        result = run("build", site, "-o", locked / "out")
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


@pytest.mark.parametrize("command", [["schema"], ["check"], ["check", "--format", "json"]])
def test_output_to_a_closed_pipe_ends_quietly_with_sigpipes_code(
    site: Path, command: list[str]
) -> None:
    # `amwgen schema | head`: the reader has gone before amwgen writes. Not "cannot write",
    # no traceback: what a tool that SIGPIPE ends says, nothing, with its code (128 + 13).
    if "json" in command:  # a site.yaml error: printed by main's handler of ConfigError
        (site / "site.yaml").write_text((site / "site.yaml").read_text() + "colour: red\n")
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "amwgen", *command, str(site)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "SOURCE_DATE_EPOCH": "1795651200"},
        )
    finally:
        os.close(write)
    assert proc.returncode == 141 and "Traceback" not in proc.stderr, proc.stderr
    if "json" not in command:  # with json, the error's line is on stderr as ever
        assert proc.stderr == ""


def test_console_script_runs_as_module(site: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1795651200"}
    proc = subprocess.run(
        [sys.executable, "-m", "amwgen", "check", str(site)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        (
            "content/2026/11/one.md",
            article('"Bell \\x07"', "2026-11-20"),
            "content/2026/11/one.md:2: title: ",
        ),
        (
            "content/2026/11/one.md",
            article("One", "2026-11-20", body="Ring\x01"),
            "content/2026/11/one.md:7: ",
        ),
        (
            "content/pages/about.md",
            "---\ntitle: About\n---\nA \x1b[31m red\n",
            "content/pages/about.md:4: ",
        ),
    ],
)
def test_a_character_no_feed_can_carry_is_a_located_error(
    run, site: Path, rel: str, text: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    # A review found that a control character in a title (a YAML escape) or a body ended
    # the build in lxml's traceback: feeds are XML, and XML cannot carry it.
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / rel).write_text(text)
    result = run("build", site)
    assert result.code == 1
    assert "Traceback" not in result.err
    first = result.err.splitlines()[0]
    assert first.startswith(f"{site}/{expected}contains the character U+00"), result.err
    assert tree(site / "public") == before


def test_a_content_file_whose_name_is_not_utf8_is_a_located_error(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # Such a name reached the cache's digests as surrogates: a traceback (a crash hunt).
    os.makedirs(os.fsencode(site / "content"), exist_ok=True)
    with open(os.fsencode(site / "content") + b"/caf\xe9.md", "wb") as f:
        f.write(article("Cafe").encode())
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1 and "Traceback" not in result.err
        assert result.err.splitlines()[0] == (
            f"{site}/content/caf\\xe9.md:1: its name is not UTF-8 text; rename the file"
        )


@pytest.mark.parametrize("name", ["base.html", "part.jinja"])
def test_a_layout_that_is_not_utf8_is_a_located_error(run, site: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    # Jinja's UnicodeDecodeError names no file: it ended the build in a traceback (a crash
    # hunt). part.jinja is included, and no check compiles a file of that name.
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "layouts").mkdir()
    (site / "layouts" / name).write_bytes(b"<p>caf\xe9</p>\n")
    if name == "part.jinja":
        (site / "layouts" / "page.html").write_text('{% include "part.jinja" %}\n')
    result = run("build", site, "-j", "2")
    assert (result.code, result.err.splitlines()[0]) == (
        1,
        f"{site}/layouts/{name}:1: template: is not UTF-8 text: invalid continuation byte",
    )
    assert tree(site / "public") == before


def test_check_compiles_every_layout_used_or_not(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # SPEC 5: check validates everything. A build finds a broken template only when a page
    # renders it; check compiles each one in layouts/ and reports it at its line.
    (site / "layouts/partials").mkdir(parents=True)
    (site / "layouts/page.html").write_text(
        "{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}\n"
    )
    (site / "layouts/partials/unused.html").write_text("<p>\n{{ title | no_such_filter }}</p>\n")
    (site / "layouts/feed-note.xml").write_bytes(b"<x>\xff</x>\n")
    (site / "layouts/notes.md").write_text("{% if %} not a template: left alone\n")
    result = run("check", site)
    assert result.code == 1
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert lines == [
        f"{site}/layouts/feed-note.xml:1: template: is not UTF-8 text: invalid start byte",
        f"{site}/layouts/page.html:3: template: Expected an expression, got 'end of statement block'",
        f"{site}/layouts/partials/unused.html:2: template: No filter named 'no_such_filter'.",
        "3 error(s)",
    ], result.err
    assert not (site / "public").exists()
    for path in ("page.html", "partials/unused.html", "feed-note.xml"):
        (site / "layouts" / path).write_text("{{ site.title }}\n")
    assert run("check", site).code == 0


@pytest.mark.parametrize("name", ["base.html", "card.html", "edition-email.html"])
@pytest.mark.parametrize(
    ("body", "line", "needle"),
    # The compiler's error has no line: the file's first.
    [
        ("{{ 10 ** 100000 }}", 1, "cannot be compiled: "),
        ('{{ "\\ud800" }}', 2, "a string that is no text"),
        # Nested deeper than Python compiles, or than Jinja's parser recurses (a red team:
        # tracebacks, IndentationError and RecursionError).
        ("{% if true %}" * 99 + "x" + "{% endif %}" * 99, 1, "cannot be compiled: "),
        ("{{ " + "(" * 300 + "1" + ")" * 300 + " }}", 1, "cannot be compiled: "),
    ],
)
def test_a_layout_that_others_extend_or_include_is_blamed_itself(
    run, site: Path, name: str, body: str, line: int, needle: str
) -> None:  # type: ignore[no-untyped-def]
    # A review: such an error in base.html or card.html was laid at the theme's list.html,
    # and in edition-email.html it was a traceback; check passed a lone surrogate.
    (site / "layouts").mkdir()
    (site / "layouts" / name).write_text(f"<p>\n{body}\n")
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1 and "Traceback" not in result.err, result.err
        assert result.err.startswith(f"{site}/layouts/{name}:{line}: template: {needle}"), (
            result.err
        )


def test_a_name_a_layout_imports_that_is_not_there_is_an_error_where_it_is_missing(
    run, site: Path
) -> None:  # type: ignore[no-untyped-def]
    # An empty layouts/macros.html: build blamed the theme's list.html ("'TemplateModule
    # object' has no attribute 'card'"), and check passed it.
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "layouts").mkdir()
    macros = site / "layouts" / "macros.html"
    macros.write_text("{# nothing yet #}\n")
    wanted = f"{macros}:1: template: defines no 'card', which the theme's list.html uses (its line "
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1 and "Traceback" not in result.err, result.err
        assert result.err.startswith(wanted), result.err
        assert "TemplateModule" not in result.err and "templates/list.html" not in result.err
    assert tree(site / "public") == before
    # A layout that takes a name the theme's macros.html does not define: at its line.
    macros.unlink()
    (site / "layouts" / "404.html").write_text(
        '<p>\n{% from "macros.html" import card, no_such %}\n{% import "macros.html" as m %}\n'
        "{{ m.pager }}{{ m.nor_this }}\n"
    )
    result = run("check", site)
    assert result.code == 1
    layout = site / "layouts" / "404.html"
    assert result.err.splitlines()[:2] == [
        f"{layout}:2: template: uses 'no_such' from macros.html, which defines no such name",
        f"{layout}:4: template: uses 'nor_this' from macros.html, which defines no such name",
    ]
    # The theme's own macros.html copied into layouts/, and a layout that uses it: no error.
    theme = REPO / "amwgen" / "templates"
    macros.write_text((theme / "macros.html").read_text())
    (site / "layouts" / "404.html").write_text(
        '{% import "macros.html" as m %}{{ m.pager }}\n'
        "{% for m in [site] %}{{ m.title }}{% endfor %}\n"  # another m: not looked into
    )
    assert run("check", site).code == 0
    assert run("build", site).code == 0


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ('{% import "nope.html" as n %}', "imports from nope.html, which is no template"),
        ('{% include "nope.html" %}', "includes nope.html, which is no template"),
        ('{% extends "nope.html" %}', "extends nope.html, which is no template"),
        (
            '{% extends "404.html" %}',
            "extends 404.html, which is this template: a replacement cannot extend the "
            "built-in one of its name",
        ),
    ],
)
def test_a_template_a_layout_names_that_is_not_there_is_an_error_in_check_too(
    run, site: Path, statement: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    # A review: check passed these; build said "template: nope.html", or RecursionError.
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "layouts").mkdir()
    layout = site / "layouts" / "404.html"
    layout.write_text(f"<p>\n{statement}\n")
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1, result.err
        assert result.err.splitlines()[:-1] == [f"{layout}:2: template: {message}"]
    assert tree(site / "public") == before
    # `ignore missing` renders without it; another built-in template may be extended.
    layout.write_text('{% include "nope.html" ignore missing %}{% extends "base.html" %}\n')
    assert run("check", site).code == 0


def test_a_layouts_own_recursion_is_kept_beside_a_missing_template(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # A review: any RecursionError of a layout was taken for the work of a missing template
    # the layout named, and dropped; only one that extends itself recurses so.
    (site / "layouts").mkdir()
    layout = site / "layouts" / "page.html"
    layout.write_text(
        '{% extends "base.html" %}\n{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}\n'
        '{% block main %}\n{% if page.never is defined %}{% include "extra.html" %}{% endif %}\n'
        "{{ r(0) }}\n{% endblock %}\n"
    )
    (site / "content" / "pages").mkdir(exist_ok=True)
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nUs.\n")
    result = run("build", site, "-q")
    assert result.code == 1
    said = result.err.splitlines()
    assert said[0] == f"{layout}:4: template: includes extra.html, which is no template"
    assert said[1].startswith(f"{layout}:2: template: RecursionError: maximum recursion depth")
    assert said[2:] == ["2 error(s); nothing was written"]


DUNDER = "a name that starts with '__' is not for templates"
FORMAT = "not for templates (the format filter, or ~, join text)"
RANK = "'rank' is not for templates: no page is made again when it changes"
PATH = "'path' is not for templates: no page is made again when it changes"


@pytest.mark.parametrize(
    ("shown", "said", "in_check"),
    [
        # A red team: a card showing entry.rank (documented then) kept its old rank on the
        # term pages an added story did not reach; entry.article.path kept the site folder
        # as first typed. Neither is in a page's digest: a layout may not show them.
        ("{{ entry.rank }}", RANK, False),
        ("{{ entry.article.path }}", PATH, False),
        ("{{ entry['rank'] }}", RANK, False),
        # A method that reads a field by name: it handed out the path (carried in notes
        # since the sixteenth session; since the twenty-first no digest holds the path).
        ("{{ entry.article.values('path') }}", PATH, False),
        # Shown inside a list: `[Undefined]` (carried in notes since the sixteenth session).
        ("{{ [entry]|map(attribute='rank')|list }}", RANK, False),
        ("{{ entry.article.__dict__['path'] }}", DUNDER, True),
        ("{{ entry.__getattribute__('rank') }}", DUNDER, True),
        ("{{ entry.article|attr('__dict__') }}", DUNDER, True),
        ("{{ entry['__class__'] }}", DUNDER, True),
        # Names made while rendering: refused when the page is rendered, by build.
        ("{% set n = '__' ~ 'dict__' %}{{ entry.article[n] }}", DUNDER, False),
        ("{{ (entry.article|attr('__' ~ 'dict__'))['path'] }}", DUNDER, False),  # a review
        ("{{ [entry.article]|map('attr', '__' ~ 'dict__')|first }}", DUNDER, False),
        ("{{ ('{0.path}'|attr('format'))(entry.article) }}", FORMAT, False),
        # str.format reads fields of values itself (a review).
        ("{{ '{0.path}'.format(entry.article) }}", f"format string: {FORMAT}", True),
        ("{{ '{e[rank]}'.format_map({'e': entry}) }}", f"format string: {FORMAT}", True),
        ("{{ '{0:{1.rank}}'.format(1, entry) }}", f"format string: {FORMAT}", True),
        ("{{ t('read_more').format(entry.article) }}", f"rendering: {FORMAT}", True),
    ],
)
def test_a_field_no_digest_holds_is_an_error_in_a_layout(
    run, site: Path, shown: str, said: str, in_check: bool
) -> None:  # type: ignore[no-untyped-def]
    # Then the ways round: `entry.article.__dict__['path']` (a red team; a page that showed
    # it kept the site's folder as the build that first made it had it typed), and the
    # others here (a review).
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "layouts").mkdir()
    card = (REPO / "amwgen" / "templates" / "card.html").read_text()
    layout = site / "layouts" / "card.html"
    layout.write_text(card.replace("</article>", f"<p>{shown}</p></article>"))
    line = card.split("</article>")[0].count("\n") + 1
    for command in ("check", "build") if in_check else ("build",):
        result = run(command, site)
        assert result.code == 1, command
        first = result.err.splitlines()[0]
        assert first.startswith(f"{layout}:{line}: template: "), first
        assert said in first, first
    assert tree(site / "public") == before


def test_any_field_no_digest_holds_is_an_error_in_a_layout(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # Not only rank and path: every field the digests leave out (repr=False), such as the
    # lines of a profile's title and aliases in its file (a final re-read: a list of two).
    (site / "content" / "topics").mkdir()
    (site / "content" / "topics" / "robotics.md").write_text("---\ntitle: Robotics\n---\nBots.\n")
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "layouts").mkdir()
    term = (REPO / "amwgen" / "templates" / "term.html").read_text()
    shown = term.replace("{% if term.profile %}", "{% if term.profile %}{{ term.profile.lines }}")
    assert shown != term
    (site / "layouts" / "term.html").write_text(shown)
    result = run("build", site)
    assert result.code == 1
    said = result.err.splitlines()[0]
    line = term.split("{% if term.profile %}")[0].count("\n") + 1
    assert said.startswith(f"{site / 'layouts' / 'term.html'}:{line}: template: "), said
    assert said.endswith("'lines' is not for templates: no page is made again when it changes")
    assert tree(site / "public") == before


def test_a_format_string_that_reads_no_field_is_fine_in_a_layout(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    (site / "layouts").mkdir()
    card = (REPO / "amwgen" / "templates" / "card.html").read_text()
    shown = "<p>{{ '{:,} words'.format(12345) }} {{ '{0:>{1}}'.format('x', 3) }}</p>"
    (site / "layouts" / "card.html").write_text(card.replace("</article>", shown + "</article>"))
    assert run("check", site).code == 0 and run("build", site).code == 0
    assert "12,345 words   x" in (site / "public" / "index.html").read_text()


def test_what_a_template_exports_is_what_jinja_exports(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # A review of the check above: names Jinja does not export (in a block, a loop, with a
    # "_") counted as there; one alias for two templates taken for both; a template not
    # there passed; and build dropped an unrelated render error that said the same name.
    layouts = site / "layouts"
    layouts.mkdir()
    (layouts / "parts.html").write_text(
        "{% macro shown() %}{% endmacro %}{% macro _hidden() %}{% endmacro %}\n"
        "{% if true %}{% set in_if = 1 %}{% endif %}{% for x in [1] %}{% set in_for = 1 %}"
        "{% endfor %}{% block b %}{% set in_block = 1 %}{% endblock %}\n"
    )
    (layouts / "other.html").write_text("{% macro bar() %}{% endmacro %}\n")
    (layouts / "uses.html").write_text(
        '{% import "parts.html" as p %}\n{{ p.shown() }}{{ p.in_if }}\n'
        "{{ p._hidden() }}\n{{ p.in_for }}{{ p.in_block }}\n"
        '{% if site.title %}{% import "parts.html" as m %}{{ m.shown() }}'
        '{% else %}{% import "other.html" as m %}{{ m.bar() }}{% endif %}\n'
        '{% from "macro.html" import card %}\n'
    )
    result = run("check", site)
    uses = layouts / "uses.html"
    assert result.err.splitlines()[:-1] == [
        f"{uses}:3: template: uses '_hidden' from parts.html, which defines no such name",
        f"{uses}:4: template: uses 'in_block' from parts.html, which defines no such name",
        f"{uses}:4: template: uses 'in_for' from parts.html, which defines no such name",
        f"{uses}:6: template: imports from macro.html, which is no template",
    ]
    # A page's own error is kept beside them: it names a name one of them names too.
    (layouts / "404.html").write_text("<p>\n{{ in_for.x }}\n")
    result = run("build", site)
    assert result.code == 1
    assert f"{layouts / '404.html'}:2: template: 'in_for' is undefined" in result.err


def test_a_name_read_behind_a_guard_or_in_a_macros_own_import_is_no_error(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # A second review: these render, and check refused them.
    layouts = site / "layouts"
    layouts.mkdir()
    (layouts / "m.html").write_text("{% macro a() %}A{% endmacro %}\n")
    (layouts / "404.html").write_text(
        '{% import "m.html" as m %}{% if m.banner is defined %}{{ m.banner() }}{% endif %}\n'
        "{{ m.c | default('') }}{{ m.__name__ }}{{ m.a() }}\n"
        '{% from "m.html" import b %}{% if b is defined %}{{ b() }}{% endif %}\n'
        '{% macro x() %}{% import "m.html" as site %}{{ site.a() }}{% endmacro %}\n'
        "{{ site.title }}{{ x() }}\n"
    )
    result = run("check", site)
    assert result.code == 0, result.err
    assert run("build", site).code == 0
    assert "A" in (site / "public" / "404.html").read_text()


def test_a_control_character_in_a_layouts_string_is_text(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    # Only a lone surrogate is refused in a literal (a review: clean-up code was refused).
    (site / "layouts").mkdir()
    (site / "layouts" / "404.html").write_text('{{ site.title | replace("\\x0c", " ") }}\n')
    assert run("check", site).code == 0
    assert run("build", site).code == 0


def test_check_reports_a_layout_jinjas_compiler_cannot_write_out(run, site: Path) -> None:  # type: ignore[no-untyped-def]
    (site / "layouts").mkdir()
    (site / "layouts" / "unused.html").write_text("<p>\n{{ 10 ** 100000 }}\n")
    result = run("check", site)
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.startswith(f"{site}/layouts/unused.html:1: template: cannot be compiled: ")


@pytest.mark.parametrize(
    ("template", "line", "needle"),
    [
        (
            "{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}\n",
            3,
            "Expected an expression",
        ),
        (
            "{% extends 'base.html' %}\n{% block main %}\n\n{{ nope.missing }}\n{% endblock %}\n",
            4,
            "'nope' is undefined",
        ),
        # A crash hunt: a page that is no text, a constant Jinja's compiler cannot write out.
        ('{{ "\\ud800" }}\n', 1, "a string that is no text"),
        # A control character in a literal is text, not refused: replace("\x0c", " ") cleans.
        ('\n{{ "%c" | format(55296) }}\n', 1, "the page holds U+D800, which is no text"),
        ("{{ 10 ** 100000 }}\n", 1, "cannot be compiled: Exceeds the limit (4300 digits)"),
    ],
)
@pytest.mark.parametrize("where", ["here", "in-workers"])
def test_broken_layout_is_a_located_error_and_keeps_the_output(
    run,
    site: Path,
    template: str,
    line: int,
    needle: str,
    where: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    if where == "in-workers":
        # Every group made by forked workers: the error, and its traceback with the
        # template's line, come back from a worker (parallel.RemoteTraceback).
        from amwgen import workers

        monkeypatch.setattr(workers, "DIGEST_FIRST", 0)
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "layouts").mkdir()
    (site / "layouts" / "page.html").write_text(template)
    result = run("build", site, "-j", "2")
    assert result.code == 1
    assert "Traceback" not in result.err
    first = result.err.strip().splitlines()[0]
    assert first.startswith(f"{site}/layouts/page.html:{line}: template: "), result.err
    assert needle in first
    assert tree(site / "public") == before


@pytest.mark.usefixtures("render_place")
def test_a_broken_sitemap_layout_is_a_located_error_wherever_it_is_rendered(
    run, site: Path
) -> None:  # type: ignore[no-untyped-def]
    """The sitemap is rendered after the groups, or beside their pages (by a worker when
    they go to workers): its layout's error is located all the same, the output kept."""
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "layouts").mkdir()
    (site / "layouts" / "sitemap.xml").write_text("<urlset>\n{{ page.urls.nowhere }}\n")
    story = site / "content" / "2026" / "11" / "one.md"  # a new headline: pages to render
    story.write_text(story.read_text().replace("title: One", "title: One again"))
    result = run("build", site, "-j", "2")
    assert result.code == 1
    assert "Traceback" not in result.err
    first = result.err.strip().splitlines()[0]
    assert first.startswith(f"{site}/layouts/sitemap.xml:2: template: "), result.err
    assert "nowhere" in first
    assert tree(site / "public") == before


def test_a_file_name_with_a_line_break_is_reported_on_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # SPEC 6: one line an error. The name printed as it is made a second line that read as
    # an error in another file, real.md (a red team).
    name = "real.md:1: title: forged\nx\u2028y\x85.md"
    text = article("A").replace("novelty: 1", "novelty: 9")
    site = write_site(tmp_path / "site", {f"content/{name}": text})
    result = run("check", site)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{site}/content/real.md:1: title: forged\\nx\\u2028y\\x85.md:4: novelty: 9 is outside 0..3",
        "1 error(s)",
    ]


@pytest.mark.parametrize(
    ("name", "made"),
    [
        ("content", "file"),
        ("layouts", "file"),
        ("static", "file"),
        ("i18n", "file"),
        ("content", "link to nothing"),
        ("content", "link to itself"),  # a traceback from the output's checks (a review)
    ],
)
def test_a_file_named_as_a_sites_folder_is_an_error(run, site: Path, name: str, made: str) -> None:  # type: ignore[no-untyped-def]
    # A review: such a file was passed over in silence (`content`: a site of no articles).
    assert run("build", site).code == 0
    before = tree(site / "public")
    target = site / name
    if target.is_dir():
        shutil.rmtree(target)
    if made == "file":
        target.write_text("not a folder\n")
        said = "is a file; amwgen reads a folder of this name here"
    else:
        target.symlink_to(site / "nowhere" if made == "link to nothing" else target)
        said = "is a link that leads to no folder"
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1, result.err
        assert result.err.splitlines()[0] == f"{target}:1: {said}"
    assert tree(site / "public") == before


@pytest.mark.parametrize(
    "folder", ["content/news", "content/topics", "static/locked", "layouts/parts"]
)
def test_a_content_folder_that_cannot_be_read_is_a_located_error(
    run, site: Path, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # A folder without read permission: check said "ok" (its articles or profiles dropped),
    # and build "amwgen: cannot write content/2026: Permission denied" (a red team, who
    # dropped root's override of permissions; here the listing is refused as it was).
    (site / folder).mkdir(parents=True)
    text = article("X") if folder == "content/news" else "---\ntitle: X\n---\nA topic.\n"
    # (static/: the copy and check said "amwgen: cannot write static/locked", unlocated;
    # layouts/: check said so, and build used the theme's templates in silence.)
    (site / folder / "x.md").write_text(text)
    (site / folder / "x.html").write_text("<p>a part</p>\n")
    assert run("build", site).code == 0
    before = tree(site / "public")
    listing = os.scandir

    def refused(path: str | os.PathLike[str] | int) -> object:
        if not isinstance(path, int) and os.fspath(path).endswith(folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", refused)
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1, result.err
        assert result.err.startswith(f"{site / folder}:1: cannot read: Permission denied")
    assert tree(site / "public") == before
