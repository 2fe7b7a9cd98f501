"""Issue 6: the theme's strings come from a table for site.yaml `language`; dates via Babel."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from conftest import SITE_YAML, article, write_site

from amwgen import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
STORY = article(
    "Alliance",
    date="2026-11-21",
    topics="[Robotics]",
    tags="[Chips]",
    source="https://example.org/a",
)
OTHER = article("Earlier", date="2026-11-10", topics="[Robotics]", tags="[Chips]")


def _flat(path: Path) -> set[str]:
    table: dict[str, str] = {}
    i18n._flatten(yaml.safe_load(path.read_text()), "", table, [], path, {})
    return set(table)


def test_every_key_the_templates_use_is_in_english() -> None:
    english = _flat(i18n.TRANSLATIONS / "en.yaml")
    used: set[str] = set()
    for template in TEMPLATES.iterdir():
        text = template.read_text()
        used |= set(re.findall(r"\bt\(\s*[\"']([\w.]+)[\"']", text))
        used |= {f"{k}.other" for k in re.findall(r"\btn\(\s*[\"']([\w.]+)[\"']", text)}
    used = {key for key in used if not key.endswith(".")}  # t("also_this." ~ noun)
    assert used and used - english == set()


def test_korean_has_no_keys_english_lacks() -> None:
    english = {
        k.rsplit(".", 1)[0] if k.endswith(".one") else k
        for k in _flat(i18n.TRANSLATIONS / "en.yaml")
    }
    korean = _flat(i18n.TRANSLATIONS / "ko.yaml")
    assert korean - english == set()
    assert len(korean) > 0.9 * len(english)


def test_dates_follow_the_language() -> None:
    moment = datetime(2026, 11, 21, 0, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    en = i18n.Translator("en", i18n.load_table(Path("/nonexistent"), "en"))
    ko = i18n.Translator("ko", i18n.load_table(Path("/nonexistent"), "ko"))
    assert en.date_text(moment) == "Nov 21, 2026"
    assert en.month_text(date(2026, 11, 1)) == "November 2026"
    assert ko.date_text(moment) == "2026년 11월 21일"
    assert ko.month_text(moment) == "2026년 11월"


def test_plurals_follow_the_language() -> None:
    en = i18n.Translator("en", i18n.load_table(Path("/x"), "en"))
    ko = i18n.Translator("ko", i18n.load_table(Path("/x"), "ko"))
    assert (en.plural("stories", 1), en.plural("stories", 3)) == ("1 story", "3 stories")
    assert (ko.plural("stories", 1), ko.plural("stories", 3)) == ("기사 1건", "기사 3건")
    assert ko("search_results.one", n=1, query="q") == "“q” 검색 결과 1건"


def _korean(run, tmp_path: Path, settings: str = "") -> Path:  # type: ignore[no-untyped-def]
    """The output of a Korean site of two stories (settings: more of site.yaml)."""
    yaml_text = SITE_YAML + "language: ko\n" + settings
    site = write_site(tmp_path / "s", {"content/a.md": STORY, "content/b.md": OTHER}, yaml_text)
    assert run("build", site).code == 0
    return site / "public"


def test_a_korean_site_reads_korean(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    public = _korean(run, tmp_path)
    html = (public / "news/a/index.html").read_text()
    assert '<html lang="ko">' in html
    for text in (
        "원문 보기",
        "이 기사의 맥락",
        "이 기사",
        "1분 분량",
        "2026년 11월 21일",
        "AMW의 평가",
    ):
        assert text in html, text
    for english in ("Read Original", "How This Connects", "min read", "This article"):
        assert english not in html, english
    topic = (public / "topics/robotics/index.html").read_text()
    assert "2026년 11월" in topic and "기사 2건" in topic and "플레이어 맵" in topic


def test_a_site_overrides_and_adds_strings(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {
        "content/a.md": STORY,
        "i18n/en.yaml": "read_original: Go to the source\nmy_note: Hello from the site\n",
        "layouts/404.html": '{% extends "base.html" %}{% block main %}{{ t("my_note") }}{% endblock %}',
    }
    site = write_site(tmp_path / "s", files)
    assert run("build", site).code == 0
    assert "Go to the source" in (site / "public/news/a/index.html").read_text()
    assert "Hello from the site" in (site / "public/404.html").read_text()


def test_a_korean_sites_english_file_does_not_reach_over_korean(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # i18n/en.yaml was laid over the built-in Korean table of a `language: ko` site, and a
    # plural given as one text (Korean has one form) was left unused in silence (a red team).
    files = {
        "content/a.md": STORY,
        "content/b.md": OTHER,
        "i18n/en.yaml": "read_original: Go to the source\nmy_note: English only\n",
        "i18n/ko.yaml": 'stories: "{n}개의 기사"\n',
        "layouts/404.html": '{% extends "base.html" %}{% block main %}{{ t("my_note") }}{% endblock %}',
    }
    site = write_site(tmp_path / "s", files, SITE_YAML + "language: ko\n")
    assert run("build", site).code == 0
    html = (site / "public/news/a/index.html").read_text()
    assert "원문 보기" in html and "Go to the source" not in html
    assert "English only" in (site / "public/404.html").read_text()  # English: the fallback
    topic = (site / "public/topics/robotics/index.html").read_text()
    assert "2개의 기사" in topic and "기사 2건" not in topic


def test_changing_a_string_rebuilds_the_pages(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "s", {"content/a.md": STORY})
    assert run("build", site).code == 0
    (site / "i18n").mkdir()
    (site / "i18n/en.yaml").write_text("read_original: Source\n")
    assert run("build", site).code == 0
    assert ">Source</a>" in (site / "public/news/a/index.html").read_text()


def test_a_bad_translation_file_is_a_located_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {"content/a.md": STORY, "i18n/en.yaml": "read_original: [not, text]\n"}
    site = write_site(tmp_path / "s", files)
    result = run("build", site)
    assert result.code == 2
    assert "i18n/en.yaml:1: read_original: must be text" in result.err
    assert not (site / "public").exists()


def test_check_reports_a_bad_translation_file_at_its_lines(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # check reads the strings as build does (SPEC 5: it validates everything), each problem
    # at its own line: not valid YAML, a key given twice, a value that is not text.
    site = write_site(tmp_path / "s", {"content/a.md": STORY})
    (site / "i18n").mkdir()
    (site / "i18n/en.yaml").write_text("read_original: Source\nnav_news: [oops\n")
    result = run("check", site)
    assert result.code == 2
    assert result.err.splitlines()[0].startswith(f"{site}/i18n/en.yaml:3: not valid YAML: ")
    (site / "i18n/en.yaml").write_text(
        "read_original: Source\nstories:\n  one: [a list]\n  other: '{n} stories'\n"
        "read_original: Again\n"
    )
    result = run("check", site)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{site}/i18n/en.yaml:3: stories.one: must be text",
        f"{site}/i18n/en.yaml:5: read_original: key given twice",
    ]
    (site / "i18n/en.yaml").write_text("a: &r {b: *r}\n")  # a mapping nested in itself
    result = run("check", site)
    assert (result.code, result.err) == (
        2,
        f"{site}/i18n/en.yaml:1: a.b.b.b: is nested too deeply (keys have at most 4 parts)\n",
    )
    (site / "i18n/en.yaml").write_text('read_original: "So\\x01urce"\n')
    result = run("check", site)
    assert result.code == 2
    assert "en.yaml:1: read_original: contains the character U+0001" in result.err
    (site / "i18n/en.yaml").write_text("read_original: Source\n")
    assert run("check", site).code == 0


def test_a_korean_sites_editions_describe_themselves_in_korean(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    public = _korean(run, tmp_path, "editions: {weekly: true, monthly: false, top: 1}\n")
    week = (public / "editions/2026-w47/index.html").read_text()
    assert '<meta name="description" content="Test Digest: 기사 1건, 중요도순.">' in week
    assert 'title="Test Digest: 에디션"' in week and 'aria-label="에디션"' in week
    feed = (public / "editions/feed.xml").read_text()
    for text in (
        "Test Digest: 에디션",
        "Test Digest: 2026년 47주차",
        "기사 1건을 중요도순으로 정리했습니다.",
        "중요도 ",
    ):
        assert text in feed, text
    for english in (
        "ranked",
        "1 story",
        " stories",
        "Week 4",
        "Other stories",
        "Also this",
        "significance 2/3",
    ):
        assert english not in feed and english not in week, english


def test_a_korean_sites_feeds_carry_korean_words(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    public = _korean(run, tmp_path)
    feeds = {
        name: (public / name).read_text()
        for name in ("feed.xml", "significant.xml", "feed.json", "tags/chips/feed.xml")
    }
    assert "새로움 " in feeds["feed.xml"] and "중요도 " in feeds["tags/chips/feed.xml"]
    assert "<title>Test Digest: 주요 뉴스</title>" in feeds["significant.xml"]
    for name, text in feeds.items():
        for english in ("Novelty ", "significance ", "most significant"):
            assert english not in text, (name, english)


def test_an_empty_feed_title_suffix_leaves_the_site_title_alone(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {"content/a.md": STORY, "i18n/en.yaml": 'significant_feed_title: ""\n'}
    site = write_site(tmp_path / "s", files)
    assert run("build", site).code == 0
    assert "<title>Test Digest</title>" in (site / "public/significant.xml").read_text()


def test_a_string_that_holds_links_keeps_its_links_and_references_only(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A review of the escaping t_html brought: a translator's &nbsp; was escaped twice, and a
    # `</a>` closing an <a> that was shown as text was kept, a stray end tag.
    files = {
        "content/x.md": article("X", updated="2026-11-21"),
        "i18n/en.yaml": (
            "updated: 'updated&nbsp;{date}'\n"
            'not_found_text: \'Q&A &mdash; <a href="{home}" class="x">news</a>, '
            '<a href="{topics}">topics</a>.\'\n'
        ),
    }
    site = write_site(tmp_path / "site", files)
    assert run("build", site, "-q").code == 0
    page = (site / "public" / "404.html").read_text()
    assert (
        "<p>Q&amp;A &mdash; &lt;a href=&#34;/&#34; class=&#34;x&#34;&gt;news&lt;/a&gt;, "
        '<a href="/topics/">topics</a>.</p>'
    ) in page
    story = (site / "public" / "news" / "x" / "index.html").read_text()
    assert "updated&nbsp;<time" in story
    # A value of markup (the date's <time>) is no address: it went into href as it was.
    (site / "i18n" / "en.yaml").write_text("updated: 'updated <a href=\"{date}\">then</a>'\n")
    assert run("build", site, "-q").code == 0
    story = (site / "public" / "news" / "x" / "index.html").read_text()
    assert 'updated <a href="">then</a>' in story
