"""Issue 5: links between articles by source path become URLs; a missing one is located."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from conftest import article, write_site

from amwgen.markdown import render_markdown

SITE_YAML = """\
title: Links
base_url: https://links.example.org/digest/
timezone: Asia/Seoul
"""


def _site(root: Path, body: str, **extra: str) -> Path:
    files = {
        "content/2026/11/first.md": article("First", "2026-11-20", body),
        "content/2026/10/other.md": article("Other", "2026-10-02", "The other story."),
        "content/2026/10/named.md": article("Named", "2026-10-03", "Named.", slug="Custom Name"),
        "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
        "content/topics/robotics.md": "---\ntitle: Robotics\n---\nRobots.\n",
        **extra,
    }
    return write_site(root, files, SITE_YAML)


def test_link_to_a_source_path_becomes_the_article_url(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    body = (
        "See [other](../10/other.md), [why](../10/other.md#why-it-matters),\n"
        "[named](../10/named.md), [about](../../pages/about.md),\n"
        "[topic](../../topics/robotics.md) and [web](https://example.org/x.md)."
    )
    site = _site(tmp_path / "site", body)
    result = run("build", site, "-q")
    assert result.code == 0, result.err
    html = (site / "public" / "news" / "first" / "index.html").read_text(encoding="utf-8")
    assert 'href="/digest/news/other/"' in html
    assert 'href="/digest/news/other/#why-it-matters"' in html
    assert 'href="/digest/news/custom-name/"' in html  # the target's slug, not its file name
    assert 'href="/digest/about/"' in html
    assert 'href="/digest/topics/robotics/"' in html
    assert 'href="https://example.org/x.md"' in html  # not a source path: left alone
    assert ".md" not in html.replace("https://example.org/x.md", "")


def test_a_link_finds_its_file_whatever_the_form_of_its_names_accents(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # macOS writes "café.md" with its accent apart (NFD); a link typed "café.md" (NFC) was
    # "no article at 'café.md'" (a red team). And the other way round.
    nfd, nfc = unicodedata.normalize("NFD", "café"), unicodedata.normalize("NFC", "café")
    body = f"See [one](../10/{nfc}.md) and [two](../10/{nfd}-2.md)."
    extra = {
        f"content/2026/10/{nfd}.md": article("Cafe one", "2026-10-04", "One."),
        f"content/2026/10/{nfc}-2.md": article("Cafe two", "2026-10-05", "Two."),
    }
    site = _site(tmp_path / "site", body, **extra)
    result = run("build", site, "-q")
    assert result.code == 0, result.err
    html = (site / "public" / "news" / "first" / "index.html").read_text(encoding="utf-8")
    # Percent-encoded, as the cards link them (a review: bodies had `/news/café/`).
    assert 'href="/digest/news/caf%C3%A9/"' in html
    assert 'href="/digest/news/caf%C3%A9-2/"' in html
    home = (site / "public" / "index.html").read_text(encoding="utf-8")
    assert 'href="/digest/news/caf%C3%A9/"' in home


def test_links_to_a_page_and_a_profile_beyond_ascii_are_percent_encoded(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    body = "See [who](../../players/과기부.md) and [faq](../../pages/질문.md)."
    extra = {
        "content/players/과기부.md": "---\ntitle: 과기부\n---\nA ministry.\n",
        "content/pages/질문.md": "---\ntitle: 질문\n---\nQuestions.\n",
    }
    site = _site(tmp_path / "site", body, **extra)
    assert run("build", site, "-q").code == 0
    html = (site / "public" / "news" / "first" / "index.html").read_text(encoding="utf-8")
    assert 'href="/digest/players/%EA%B3%BC%EA%B8%B0%EB%B6%80/"' in html
    assert 'href="/digest/%EC%A7%88%EB%AC%B8/"' in html


def test_link_from_a_page_and_with_dot_segments(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = _site(
        tmp_path / "site",
        "See [other](./../10/other.md).",
        **{"content/pages/links.md": "---\ntitle: Links\n---\n[first](../2026/11/first.md)\n"},
    )
    assert run("build", site, "-q").code == 0
    page = (site / "public" / "links" / "index.html").read_text(encoding="utf-8")
    assert 'href="/digest/news/first/"' in page
    news = (site / "public" / "news" / "first" / "index.html").read_text(encoding="utf-8")
    assert 'href="/digest/news/other/"' in news


def test_base_url_override_reaches_the_links(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = _site(tmp_path / "site", "[other](../10/other.md)")
    assert run("build", site, "-q", "--base-url", "https://elsewhere.example/").code == 0
    html = (site / "public" / "news" / "first" / "index.html").read_text(encoding="utf-8")
    assert 'href="/news/other/"' in html


def test_missing_target_is_a_located_error_in_check_and_build(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    body = "First line.\n\nA paragraph\nthat links [gone](../09/gone.md#x)\nand [out](../../../site.yaml.md)."
    site = _site(tmp_path / "site", body)
    path = site / "content" / "2026" / "11" / "first.md"
    # Front matter is lines 1-6; the body starts on line 7, the paragraph on 9.
    expected = [
        f"{path}:10: link: no article at '../09/gone.md#x'",
        f"{path}:11: link: no article at '../../../site.yaml.md'",
    ]
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1, result.err
        assert [line for line in result.err.splitlines() if ": link: " in line] == expected
    assert not (site / "public").exists()


def test_a_link_to_a_story_not_out_yet_is_a_warning_at_the_link(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A red team: a published page linked in silence to a draft's URL, or to that of a story
    # dated after now (an embargo): a 404, and the slug of a story not yet out.
    body = "Intro.\n\nSee [soon](../12/soon.md#x)\nand [wip](../10/wip.md)."
    extra = {
        "content/2026/12/soon.md": article("Soon", "2026-12-24", "See [first](../11/first.md)."),
        "content/2026/10/wip.md": article("Work in progress", "2026-10-09", "WIP.", draft="true"),
        "content/pages/faq.md": "---\ntitle: FAQ\n---\nSee [wip](../2026/10/wip.md).\n",
    }
    site = _site(tmp_path / "site", body, **extra)
    first, faq = (
        site / "content" / "2026" / "11" / "first.md",
        site / "content" / "pages" / "faq.md",
    )
    expected = [
        f"{first}:9: warning: link: '../12/soon.md#x' is dated 2026-12-24, after now: the link "
        "leads to no page till then",
        f"{first}:10: warning: link: '../10/wip.md' is a draft: the link leads to no page until "
        "it is published",
        f"{faq}:4: warning: link: '../2026/10/wip.md' is a draft: the link leads to no page until "
        "it is published",
    ]
    for command in ("check", "build", "build"):  # the second build from the cache
        result = run(command, site)
        assert result.code == 0, result.err
        assert [line for line in result.err.splitlines() if ": link: " in line] == expected
    assert 'href="/digest/news/soon/#x"' in (site / "public/news/first/index.html").read_text()
    # With --drafts, the draft is out; a draft dated after now is left out by its date (a
    # review: "is a draft" was said of it).
    wip = site / "content/2026/10/wip.md"
    wip.write_text(wip.read_text().replace("2026-10-09", "2026-12-30"))
    result = run("build", site, "--drafts")
    assert [line for line in result.err.splitlines() if ": link: " in line] == [
        expected[0],
        f"{first}:10: warning: link: '../10/wip.md' is dated 2026-12-30, after now: the link "
        "leads to no page till then",
        f"{faq}:4: warning: link: '../2026/10/wip.md' is dated 2026-12-30, after now: the link "
        "leads to no page till then",
    ]
    # Built with them (the scheduled story links back, unpublished itself: no warning), none.
    result = run("build", site, "--drafts", "--future")
    assert result.code == 0, result.err
    assert ": link: " not in result.err
    assert (site / "public/news/soon/index.html").is_file()


def test_rendering_alone_leaves_links_as_written() -> None:
    rendered = render_markdown(
        "[a](x.md) [b](<a b.md#top>) [c](/abs.md) [d](#x.md) [e](mailto:x.md)"
    )
    assert [(link.path, link.fragment) for link in rendered.links] == [
        ("x.md", ""),
        ("a b.md", "#top"),
    ]
    assert 'href="x.md"' in rendered.html and 'href="a%20b.md#top"' in rendered.html
