"""Issue 9: weekly and monthly editions, their email versions and their Atom feed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import feedparser
import html5lib
import pytest
from conftest import EPOCH, SITE_YAML, article, tree, write_site
from hypothesis import given
from hypothesis import strategies as st

from amwgen.build import Options, check, differing_files
from amwgen.editions import Edition, build_editions, parse_slug, period_of, previous_period
from amwgen.index import Index
from amwgen.page import Page

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime.fromtimestamp(int(EPOCH), UTC)  # Thursday 2026-11-26 09:00 in Seoul: week 48


def story(
    title: str,
    date: str,
    significance: int = 2,
    novelty: int = 1,
    topics: str = "[]",
    players: str = "[]",
    slug: str | None = None,
) -> str:
    """An article with the scores and terms a ranking test needs."""
    extra = f"slug: {slug}\n" if slug else ""
    return (
        f"---\ntitle: {title}\ndate: {date}\nnovelty: {novelty}\nsignificance: {significance}\n"
        f"read: {{novelty: why new {title}, significance: why it matters {title}}}\n"
        f"topics: {topics}\nplayers: {players}\n{extra}---\n{title} body.\n"
    )


def index_of(site: Path, future: bool = False) -> Index:
    checked = check(site, Options(now=NOW, future=future))
    assert checked.index is not None, [str(p) for p in checked.problems]
    return checked.index


def edition(site: Path, kind: str, slug: str, future: bool = False) -> Edition:
    found = {e.period.slug: e for e in build_editions(index_of(site, future), kind)}
    return found[slug]


def titles(entries: tuple[object, ...]) -> list[str]:
    return [e.article.title for e in entries]  # type: ignore[attr-defined]


# A week 47 (16-22 Nov 2026) with ties on significance, novelty and date.
TIES = {
    "content/a.md": story("A", "2026-11-17", 3, 1, "[Robotics]", "[Acme]"),
    "content/b.md": story("B", "2026-11-16", 3, 2, "[Chips]", "[Acme, Beta]"),
    "content/c.md": story("C", "2026-11-16", 3, 2, "[Robotics]", "[Beta]"),
    "content/d.md": story("D", "2026-11-20", 2, 3, "[Chips, Robotics]", "[Acme]"),
    "content/e.md": story("E", "2026-11-21", 1, 0),
    "content/f.md": story("F", "2026-11-10", 1, 1, "[Robotics]"),  # week 46
    "content/g.md": story("G", "2026-11-11", 1, 1, "[Robotics]"),  # week 46
}


# --- ranking and grouping ------------------------------------------------------------------


def test_ranking_is_significance_novelty_date_then_slug(tmp_path: Path) -> None:
    week = edition(write_site(tmp_path, TIES), "weekly", "2026-w47")
    # B and C tie on all three scores and the date: the slug decides.
    assert titles(week.entries) == ["B", "C", "A", "D", "E"]


def test_groups_follow_first_topic_in_rank_order_topicless_last(tmp_path: Path) -> None:
    week = edition(write_site(tmp_path, TIES), "weekly", "2026-w47")
    groups = [(g.topic.name if g.topic else None, titles(g.entries)) for g in week.groups]
    assert groups == [("Chips", ["B", "D"]), ("Robotics", ["C", "A"]), (None, ["E"])]


def test_top_sets_how_many_stories_lead(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", TIES, SITE_YAML + "editions: {top: 2}\n")
    week = edition(site, "weekly", "2026-w47")
    assert titles(week.lead) == ["B", "C"]
    assert titles(week.rest) == ["A", "D", "E"]
    assert run("build", site, "-o", tmp_path / "out").code == 0
    html = (tmp_path / "out/editions/2026-w47/index.html").read_text()
    rest = html.split("Also this week", 1)[1]
    assert all(f"/news/{s}/" in rest for s in "ade")
    assert "/news/b/" not in rest


def test_what_moved_compares_with_the_week_before(tmp_path: Path) -> None:
    moved = edition(write_site(tmp_path, TIES), "weekly", "2026-w47").moved
    assert moved.previous.slug == "2026-w46"
    assert moved.previous_count == 2
    counts = {m.topic.name: (m.count, m.change) for m in moved.topics}
    assert counts == {"Robotics": (3, 1), "Chips": (2, 2)}
    assert [(p.player.name, p.count) for p in moved.players] == [("Acme", 3), ("Beta", 2)]
    assert moved.top_count == 3


def test_what_moved_is_counted_once_and_only_for_an_edition_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8: a build that plans the editions to key them (every build in which a headline
    changed) counts no topics; a page that shows "what moved" counts them once."""
    import amwgen.editions

    counted: list[str] = []
    real = amwgen.editions.what_moved

    def counting(*args: object) -> object:
        counted.append(args[1].slug)  # type: ignore[attr-defined]
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(amwgen.editions, "what_moved", counting)
    week = edition(write_site(tmp_path, TIES), "weekly", "2026-w47")
    assert counted == []
    assert week.moved is week.moved
    assert week.moved.previous_count == 2
    assert counted == ["2026-w46"]


def test_an_edit_that_leaves_a_weeks_topics_leaves_the_next_weeks_edition_alone(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run,  # type: ignore[no-untyped-def]
) -> None:
    """What moved reads only the stories per topic of the week before: new scores for a
    story there re-render its own week's edition, not the next week's; a new topic there
    re-renders both."""
    import amwgen.workers

    rendered: list[str] = []
    real = amwgen.workers.render_page

    def recording(page: Page, env: object) -> bytes:
        rendered.append(page.path)
        return real(page, env)  # type: ignore[arg-type]

    site = write_site(tmp_path / "site", TIES)
    out = tmp_path / "out"
    assert run("build", site, "-o", out, "-j", "1").code == 0
    weeks = ("/editions/2026-w46/", "/editions/2026-w47/")
    monkeypatch.setattr(amwgen.workers, "render_page", recording)
    (site / "content/f.md").write_text(TIES["content/f.md"].replace("novelty: 1", "novelty: 3"))
    assert run("build", site, "-o", out, "-j", "1").code == 0
    assert {p for p in rendered if p.startswith(weeks)} == {
        f"{weeks[0]}{n}" for n in ("", "email.html", "email.txt")
    }
    rendered.clear()
    (site / "content/f.md").write_text(TIES["content/f.md"].replace("[Robotics]", "[Chips]"))
    assert run("build", site, "-o", out, "-j", "1").code == 0
    assert {p for p in rendered if p.startswith(weeks)} == {
        f"{week}{n}" for week in weeks for n in ("", "email.html", "email.txt")
    }
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_edition_page_shows_stories_in_rank_order_with_reads_and_players(
    tmp_path: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    site = write_site(tmp_path / "site", TIES)
    assert run("build", site, "-o", tmp_path / "out").code == 0
    html = (tmp_path / "out/editions/2026-w47/index.html").read_text()
    places = [html.index(f'href="/news/{s}/"') for s in "bdcae"]
    assert places == sorted(places)
    for needle in ("What moved", "why it matters B", "why new B", 'href="/players/acme/"'):
        assert needle in html, needle
    assert "In progress" not in html


# --- periods -------------------------------------------------------------------------------


def test_sunday_night_in_seoul_stays_in_the_seoul_week(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {
            # Sunday 23:30 in Seoul is Sunday 14:30 UTC: week 47 either way.
            "content/sun.md": story("Sun", "2026-11-22T23:30:00"),
            # Monday 00:30 in Seoul is still Sunday 15:30 UTC: week 48 in Seoul.
            "content/mon.md": story("Mon", "2026-11-23T00:30:00+09:00"),
            # Written in UTC on Sunday, it is Monday in Seoul.
            "content/utc.md": story("Utc", "2026-11-22T15:30:00Z"),
        },
    )
    weeks = {e.period.slug: titles(e.entries) for e in build_editions(index_of(site), "weekly")}
    # Mon and Utc are the same instant: the slug breaks the tie.
    assert weeks == {"2026-w47": ["Sun"], "2026-w48": ["Mon", "Utc"]}


def test_periods_are_midnight_to_midnight_in_the_site_zone() -> None:
    week = period_of("weekly", date(2026, 11, 22), SEOUL)
    assert (week.slug, week.start.isoformat(), week.end.isoformat()) == (
        "2026-w47",
        "2026-11-16T00:00:00+09:00",
        "2026-11-23T00:00:00+09:00",
    )
    assert week.start.astimezone(UTC).isoformat() == "2026-11-15T15:00:00+00:00"
    # Across a DST change the week is still Monday midnight to Monday midnight, local time.
    york = period_of("weekly", date(2026, 11, 1), ZoneInfo("America/New_York"))
    assert york.end.astimezone(UTC) - york.start.astimezone(UTC) == timedelta(days=7, hours=1)
    assert (york.start.hour, york.end.hour) == (0, 0)


def test_week_53_and_the_new_year() -> None:
    # 2026-12-31 is a Thursday, so 2026 has an ISO week 53 running into January 2027.
    assert period_of("weekly", date(2027, 1, 1), SEOUL).slug == "2026-w53"
    assert period_of("weekly", date(2027, 1, 3), SEOUL).slug == "2026-w53"
    assert period_of("weekly", date(2027, 1, 4), SEOUL).slug == "2027-w01"
    assert period_of("monthly", date(2027, 1, 1), SEOUL).slug == "2027-01"
    # 2026-01-01 is a Thursday: week 1 of 2026 starts on Monday 2025-12-29.
    assert period_of("weekly", date(2025, 12, 29), SEOUL).slug == "2026-w01"
    assert period_of("weekly", date(2025, 12, 28), SEOUL).slug == "2025-w52"
    assert period_of("monthly", date(2025, 12, 31), SEOUL).end.date() == date(2026, 1, 1)
    w53 = parse_slug("2026-w53", SEOUL)
    assert w53 is not None and w53.start.date() == date(2026, 12, 28)
    for bad in ("2025-w53", "2026-w54", "2026-w00", "2026-13", "2026-00", "2026-W47", "47"):
        assert parse_slug(bad, SEOUL) is None, bad


def test_new_year_editions_are_built(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    site = write_site(
        tmp_path / "site",
        {
            "content/eve.md": story("Eve", "2025-12-30"),
            "content/nye.md": story("Nye", "2027-01-01"),
        },
    )
    assert run("build", site, "-o", tmp_path / "out", "--future").code == 0
    out = tmp_path / "out/editions"
    assert "Eve" in (out / "2026-w01/index.html").read_text()
    assert "Eve" in (out / "2025-12/index.html").read_text()
    nye = (out / "2026-w53/index.html").read_text()
    assert "Week 53, 2026" in nye and "Nye" in nye
    assert "Nye" in (out / "2027-01/index.html").read_text()
    assert not (out / "2027-w01").exists()


def test_an_empty_week_makes_no_page(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    site = write_site(
        tmp_path / "site",
        {
            "content/early.md": story("Early", "2026-11-03", topics="[Robotics]"),
            "content/late.md": story("Late", "2026-11-18", topics="[Robotics]"),
        },
    )
    assert run("build", site, "-o", tmp_path / "out").code == 0
    out = tmp_path / "out/editions"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "2026-11",
        "2026-w45",
        "2026-w47",
    ]
    listing = (out / "index.html").read_text()
    assert "/editions/2026-w46/" not in listing
    week = edition(site, "weekly", "2026-w47")
    assert (week.moved.previous.slug, week.moved.previous_count) == ("2026-w46", 0)


def test_the_running_edition_is_marked(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    site = write_site(
        tmp_path / "site",
        {
            "content/now.md": story("Now", "2026-11-24"),
            "content/then.md": story("Then", "2026-11-18"),
        },
    )
    assert run("build", site, "-o", tmp_path / "out").code == 0
    out = tmp_path / "out/editions"
    assert "In progress" in (out / "2026-w48/index.html").read_text()
    assert "In progress" in (out / "2026-w48/email.html").read_text()
    assert "In progress" in (out / "2026-w48/email.txt").read_text()
    assert "In progress" not in (out / "2026-w47/index.html").read_text()


def test_site_yaml_switches_kinds_off(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    files = {"content/x.md": story("X", "2026-11-18")}
    site = write_site(tmp_path / "a", files, SITE_YAML + "editions: {weekly: false}\n")
    assert run("build", site, "-o", tmp_path / "out-a").code == 0
    names = {p.name for p in (tmp_path / "out-a/editions").iterdir()}
    assert names == {"2026-11", "index.html", "feed.xml"}
    off = "editions: {weekly: false, monthly: false}\n"
    site = write_site(tmp_path / "b", files, SITE_YAML + off)
    assert run("build", site, "-o", tmp_path / "out-b").code == 0
    assert not (tmp_path / "out-b/editions").exists()
    assert "/editions/" not in (tmp_path / "out-b/index.html").read_text()
    assert "/editions/" not in (tmp_path / "out-b/sitemap.xml").read_text()


# --- editor's note -------------------------------------------------------------------------


NOTE = """\
---
title: A busy week for robots
---
Robots everywhere. See [our method](/about/) and ![a chart](chart.png), [page two](?page=2),
[a footnote](#fn1).
"""


def test_editors_note_on_page_and_in_both_emails(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    files = {**TIES, "content/editions/2026-w47.md": NOTE}
    site = write_site(tmp_path / "site", files)
    assert run("build", site, "-o", tmp_path / "out").code == 0
    out = tmp_path / "out/editions/2026-w47"
    assert "A busy week for robots" in (out / "index.html").read_text()
    mail = (out / "email.html").read_text()
    assert "Robots everywhere." in mail
    assert 'href="https://test.example.org/about/"' in mail
    assert 'src="https://test.example.org/editions/2026-w47/chart.png"' in mail
    text = (out / "email.txt").read_text()
    assert "A BUSY WEEK FOR ROBOTS" in text
    assert "[our method](https://test.example.org/about/)" in text
    # Both emails resolve a link as the edition's page reads it, not as email.html does.
    for link in ("?page=2", "#fn1"):
        assert f'href="https://test.example.org/editions/2026-w47/{link}"' in mail, link
        assert f"(https://test.example.org/editions/2026-w47/{link})" in text, link
    assert "A busy week" not in (tmp_path / "out/editions/2026-w46/index.html").read_text()


def test_a_note_link_whose_path_ends_in_a_semicolon_keeps_it(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # urljoin drops a ";" that ends a path (empty parameters): `page;` became `.../page`, in
    # both emails (carried in notes since the fifteenth session).
    body = "See [a](page;), [b](../w46/;?x=1) and [c](..;)."  # `..;` is no `..` (a review)
    files = {**TIES, "content/editions/2026-w47.md": f"---\ntitle: N\n---\n{body}\n"}
    site = write_site(tmp_path / "site", files)
    assert run("build", site, "-o", tmp_path / "out").code == 0
    out = tmp_path / "out/editions/2026-w47"
    base = "https://test.example.org/editions/"
    assert f'href="{base}2026-w47/page;"' in (out / "email.html").read_text()
    text = (out / "email.txt").read_text()
    assert f"[a]({base}2026-w47/page;)" in text and f"[b]({base}w46/;?x=1)" in text
    assert f"[c]({base}2026-w47/..;)" in text


@pytest.mark.parametrize("unsafe", [False, True])
def test_a_note_link_that_no_url_can_join_stays_as_written(
    tmp_path: Path, run, unsafe: bool
) -> None:  # type: ignore[no-untyped-def]
    # `//[a` is a host no URL has: making it absolute for the emails raised ValueError, a
    # traceback from check and build (a crash hunt); it is left as written.
    body = '<a href="//[a">raw</a>' if unsafe else "See [mirror](//[a)."
    files = {**TIES, "content/editions/2026-w47.md": f"---\ntitle: N\n---\n{body}\n"}
    yaml = SITE_YAML + ("markdown: {unsafe_html: true}\n" if unsafe else "")
    site = write_site(tmp_path / "site", files, yaml)
    assert run("check", site).code == 0
    result = run("build", site, "-o", tmp_path / "out")
    assert result.code == 0, result.err
    out = tmp_path / "out/editions/2026-w47"
    if unsafe:
        assert 'href="//[a"' in (out / "email.html").read_text()
    else:
        assert "[mirror](//[a)" in (out / "email.txt").read_text()


def test_raw_html_links_in_a_note_are_made_absolute_however_they_are_quoted(
    tmp_path: Path, run
) -> None:  # type: ignore[no-untyped-def]
    # With unsafe_html, a note's raw HTML may quote otherwise, or not at all; the links are
    # found by the HTML parser, as the reader's mail program would read them (a review).
    body = (
        '<a href=\'/about/\'>a</a> <A HREF="chart/">b</A> <img src=logo.png alt=l> href="x"'
        ' <a href="/s/?id=1&section=news&copy=2" title="a &sect b">c</a>'
    )
    files = {**TIES, "content/editions/2026-w47.md": f"---\ntitle: N\n---\n{body}\n"}
    site = write_site(tmp_path / "site", files, SITE_YAML + "markdown: {unsafe_html: true}\n")
    assert run("build", site, "-o", tmp_path / "out").code == 0
    mail = (tmp_path / "out/editions/2026-w47/email.html").read_text()
    for url in ("about/", "editions/2026-w47/chart/", "editions/2026-w47/logo.png"):
        assert f'="https://test.example.org/{url}"' in mail, url
    assert 'alt="l"> href="x"' in mail  # text, left as it is
    # Its value as written, after the base: Python's parser decodes "&sect" in "&section"
    # as §, where HTML, in a value, does not before a letter or "=" (a review). (Before a
    # space it does: the title's "&sect b" is "§ b" to a browser as to css-inline.)
    assert 'href="https://test.example.org/s/?id=1&amp;section=news&amp;copy=2"' in mail
    assert "©" not in mail and 'title="a § b"' in mail


def test_a_note_nested_too_deep_for_the_email_is_an_error_at_the_note(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # Twenty thousand nested <div>s: css-inline overflowed its stack, and the build died of
    # a segmentation fault (carried in notes since the seventeenth session).
    deep = "<div>" * 20_000 + "x" + "</div>" * 20_000
    note = f"---\ntitle: N\n---\n\n{deep}\n"
    files = {**TIES, "content/editions/2026-w47.md": note}
    site = write_site(tmp_path / "site", files, SITE_YAML + "markdown: {unsafe_html: true}\n")
    path = site / "content/editions/2026-w47.md"
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1, result.err
        assert result.err.startswith(
            f"{path}:5: its HTML is nested 20000 elements deep: the email holds 1000"
        ), result.err
    # As deep as the email holds: built.
    fine = "<div>" * 1000 + "x" + "</div>" * 1000
    (site / "content/editions/2026-w47.md").write_text(f"---\ntitle: N\n---\n\n{fine}\n")
    assert run("build", site).code == 0


def test_a_style_the_email_cannot_inline_is_an_error_at_the_note(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # `style="color"` (HTML pasted from a mail tool): check passed it, and build failed
    # with css-inline's traceback (a red team).
    note = '---\ntitle: N\n---\n\n<p style="color">x</p>\n'
    files = {**TIES, "content/editions/2026-w47.md": note}
    site = write_site(tmp_path / "site", files, SITE_YAML + "markdown: {unsafe_html: true}\n")
    path = site / "content/editions/2026-w47.md"
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 1 and "Traceback" not in result.err, result.err
        assert result.err.startswith(f"{path}:5: its HTML cannot go into the email: "), result.err
    # The email template's own CSS, if a layout breaks it: at that template.
    (site / "content/editions/2026-w47.md").unlink()
    (site / "layouts").mkdir()
    (site / "layouts" / "edition-email.html").write_text(
        '<style>p{margin:0}</style><p style="{color:red}">x</p>\n'
    )
    result = run("build", site)
    layout = site / "layouts" / "edition-email.html"
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert result.err.startswith(f"{layout}:1: template: its CSS cannot be inlined: "), result.err


def test_note_with_an_unknown_key_is_a_located_error(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    note = "---\ntitle: ok\ntitel: typo\n---\nBody.\n"
    files = {**TIES, "content/editions/2026-w47.md": note}
    site = write_site(tmp_path / "site", files)
    result = run("build", site, "-o", tmp_path / "out")
    assert result.code == 1
    path = site / "content/editions/2026-w47.md"
    assert f"{path}:3: unknown key 'titel' (did you mean 'title'?)" in result.err
    assert not (tmp_path / "out").exists()


def test_note_file_must_be_named_like_an_edition(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    files = {**TIES, "content/editions/week-47.md": NOTE, "content/editions/2026-w54.md": NOTE}
    site = write_site(tmp_path / "site", files)
    result = run("check", site)
    assert result.code == 1
    for name in ("week-47", "2026-w54"):
        path = site / f"content/editions/{name}.md"
        assert f"{path}:1: '{name}' is not an edition: name the file yyyy-wWW" in result.err


def test_note_for_an_empty_period_is_a_warning(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    files = {**TIES, "content/editions/2026-w40.md": NOTE}
    site = write_site(tmp_path / "site", files)
    result = run("build", site, "-o", tmp_path / "out")
    assert result.code == 0, result.err
    assert "2026-w40.md:1: warning: no published story is dated in 2026-w40" in result.err
    assert not (tmp_path / "out/editions/2026-w40").exists()


def test_a_note_for_a_period_whose_story_is_not_out_yet_says_so(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # A story is dated in 2026-w49 (after now, 2026-11-26), but none is published there: the
    # warning said "no story is dated in 2026-w49" (a red team).
    later = article("Later", "2026-12-01", summary="Later.")
    files = {**TIES, "content/later.md": later, "content/editions/2026-w49.md": NOTE}
    site = write_site(tmp_path / "site", files)
    result = run("build", site, "-o", tmp_path / "out")
    assert result.code == 0, result.err
    assert "2026-w49.md:1: warning: no published story is dated in 2026-w49, so it" in result.err


# --- true to the data, reproducible --------------------------------------------------------


def test_a_late_article_changes_only_its_past_week(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", TIES)
    assert run("build", site, "-o", tmp_path / "one").code == 0
    (site / "content/late.md").write_text(story("Late", "2026-11-12", 3, 3, "[Robotics]"))
    assert run("build", site, "-o", tmp_path / "two").code == 0
    one, two = tree(tmp_path / "one/editions"), tree(tmp_path / "two/editions")
    assert b"Late" not in one["2026-w46/index.html"]
    assert b"Late" in two["2026-w46/index.html"]
    assert b"Late" in two["2026-w46/email.txt"]
    changed = sorted(rel.split("/")[0] for rel in one if one[rel] != two[rel])
    # Week 46 and its month change; week 47 only in "what moved" (against week 46).
    assert set(changed) == {"2026-w46", "2026-11", "2026-w47", "feed.xml", "index.html"}
    assert (
        one["2026-w47/email.txt"].split(b"ROBOTICS")[1]
        == two["2026-w47/email.txt"].split(b"ROBOTICS")[1]
    )


def test_same_content_gives_same_bytes(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {**TIES, "content/editions/2026-w47.md": NOTE})
    assert run("build", site, "-o", tmp_path / "one").code == 0
    assert run("build", site, "-o", tmp_path / "two", "--clean").code == 0
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert any(rel.startswith("editions/") for rel in one)
    assert one == two


# --- feed ----------------------------------------------------------------------------------


def test_atom_feed_has_finished_editions_only(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    files = {
        **TIES,
        "content/now.md": story("Now", "2026-11-24"),
        "content/oct.md": story("Oct", "2026-10-05"),
    }
    site = write_site(tmp_path / "site", files)
    assert run("build", site, "-o", tmp_path / "out").code == 0
    feed = feedparser.parse((tmp_path / "out/editions/feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Test Digest: Editions"
    ids = [e.id for e in feed.entries]
    base = "https://test.example.org/editions/"
    # Week 48 and November are still running; the most recently finished first.
    assert ids == [f"{base}2026-w47/", f"{base}2026-w46/", f"{base}2026-10/", f"{base}2026-w41/"]
    w47 = feed.entries[0]
    assert w47.title == "Test Digest: Week 47, 2026"
    assert w47.link == f"{base}2026-w47/"
    content = w47.content[0].value
    for slug in "abcde":
        assert f"https://test.example.org/news/{slug}/" in content
    assert content.index("/news/b/") < content.index("/news/d/") < content.index("/news/c/")
    assert "Now" not in " ".join(e.content[0].value for e in feed.entries)


# --- email ---------------------------------------------------------------------------------


def _mail(tmp_path: Path, run) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    files = {
        **TIES,
        "content/x.md": story('R&D <AI> "quoted"', "2026-11-19", 0, 0, "[Robotics]", slug="x"),
    }
    site = write_site(tmp_path / "site", files, SITE_YAML + "editions: {top: 3}\n")
    assert run("build", site, "-o", tmp_path / "out").code == 0
    out = tmp_path / "out/editions/2026-w47"
    return (out / "email.html").read_text(), (out / "email.txt").read_text()


def test_email_html_is_self_contained(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    mail, _ = _mail(tmp_path, run)
    lower = mail.lower()
    for tag in ("<style", "<link", "<script", "@import", "@font-face"):
        assert tag not in lower, tag
    document = html5lib.parse(mail, namespaceHTMLElements=False)
    hrefs = [a.get("href") for a in document.iter("a")]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
    assert all(img.get("alt") is not None for img in document.iter("img"))
    main = [t for t in document.iter("table") if "max-width: 600px" in (t.get("style") or "")]
    assert len(main) == 1
    assert "R&amp;D &lt;AI&gt;" in mail


def test_email_txt_has_the_same_stories_and_links(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    mail, text = _mail(tmp_path, run)
    document = html5lib.parse(mail, namespaceHTMLElements=False)
    html_links = {a.get("href") for a in document.iter("a")}
    text_links = set(re.findall(r"https?://\S+", text))
    assert html_links == text_links
    for title in ("A", "B", "C", "D", "E"):
        assert re.search(rf"^\* {title}\b", text, re.MULTILINE), title
    # Plain text is not HTML-escaped (make_env autoescapes only .html and .xml).
    assert 'R&D <AI> "quoted"' in text
    assert "&amp;" not in text and "&lt;" not in text
    assert "ALSO THIS WEEK" in text
    assert all(len(line) <= 100 or "://" in line for line in text.splitlines())


@pytest.mark.parametrize("name", ["email.html", "email.txt", "index.html"])
def test_every_edition_has_its_three_files(tmp_path: Path, run, name: str) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", TIES)
    assert run("build", site, "-o", tmp_path / "out").code == 0
    for slug in ("2026-w46", "2026-w47", "2026-11"):
        assert (tmp_path / "out/editions" / slug / name).is_file()


@given(st.dates(date(1000, 1, 8), date(9998, 12, 24)), st.sampled_from(["weekly", "monthly"]))
def test_every_day_lies_in_the_period_its_slug_names(day: date, kind: str) -> None:
    period = period_of(kind, day, SEOUL)
    start = datetime.combine(day, datetime.min.time(), SEOUL)
    assert period.start <= start < period.end
    assert parse_slug(period.slug, SEOUL) == period
    assert previous_period(period, SEOUL).end == period.start


def test_a_notes_links_in_the_editions_feed_are_its_pages(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # A feed reader resolves a relative link against the feed's own address: the note's
    # links are made absolute as the edition's page reads them, as in the emails (a review).
    files = {**TIES, "content/editions/2026-w47.md": NOTE}
    site = write_site(tmp_path / "site", files)
    assert run("build", site, "-o", tmp_path / "out").code == 0
    feed = feedparser.parse((tmp_path / "out/editions/feed.xml").read_bytes())
    (entry,) = [e for e in feed.entries if e.link.endswith("/2026-w47/")]
    content = entry.content[0].value
    base = "https://test.example.org/editions/2026-w47/"
    for link in (
        'href="https://test.example.org/about/"',
        f'src="{base}chart.png"',
        f'href="{base}?page=2"',
        f'href="{base}#fn1"',
    ):
        assert link in content, link


def test_a_note_without_a_title_is_headed_in_the_sites_language(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    files = {**TIES, "content/editions/2026-w47.md": "---\n---\nBody of the note.\n"}
    site = write_site(tmp_path / "site", files, SITE_YAML + "language: ko\n")
    assert run("build", site, "-o", tmp_path / "out").code == 0
    out = tmp_path / "out/editions"
    for name in ("2026-w47/index.html", "2026-w47/email.html", "2026-w47/email.txt", "feed.xml"):
        text = (out / name).read_text()
        assert "편집자 노트" in text and "Body of the note." in text, name
        assert (
            "Editor's note" not in text
            and "EDITOR'S NOTE" not in text
            and "Editor&#39;s note" not in text
        ), name


def test_translated_words_in_the_feeds_are_text_whatever_they_hold(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # A site's translations go into the feeds' text and the editions feed's HTML escaped, as
    # everywhere else (a review tried markup in each new key).
    evil = '<script>alert(1)</script> & \\"q\\"'
    keys = (
        "editions_title",
        "edition_summary",
        "other_stories",
        "also_this: {week",
        "significance_novelty",
        "feed_scores",
        "significant_feed_title",
    )
    lines = [
        f'{key}: "{evil}"' if ":" not in key else f'also_this: {{week: "{evil}", month: "{evil}"}}'
        for key in keys
    ]
    files = {**TIES, "i18n/en.yaml": "\n".join(lines) + "\n"}
    site = write_site(
        tmp_path / "site", files, SITE_YAML + "editions: {weekly: true, monthly: true, top: 1}\n"
    )
    assert run("build", site, "-o", tmp_path / "out").code == 0
    for name in ("editions/feed.xml", "feed.xml", "significant.xml", "feed.json"):
        text = (tmp_path / "out" / name).read_text()
        assert "<script>" not in text, name
    feed = feedparser.parse((tmp_path / "out/editions/feed.xml").read_bytes())
    assert not feed.bozo and feed.feed.title_detail.type == "text/plain"  # shown as text
    assert feed.feed.title == 'Test Digest: <script>alert(1)</script> & "q"'
    # Each entry's HTML as written (feedparser would clean it): the words are text in it.
    atom = "{http://www.w3.org/2005/Atom}"
    root = ElementTree.fromstring((tmp_path / "out/editions/feed.xml").read_bytes())
    contents = [element.text or "" for element in root.iter(f"{atom}content")]
    assert contents and all("<script" not in html and "&lt;script&gt;" in html for html in contents)


@pytest.mark.parametrize(
    ("tag", "made"),
    [
        # A value is written again only where the parser reads it, and whole (a review).
        (
            '<img src="p.png" alt="A\nsrc=y onerror=z">',
            '<img src="{b}p.png" alt="A\nsrc=y onerror=z">',
        ),
        ('<a href=q"r>d</a>', '<a href=q"r>d</a>'),  # unquoted with a quote: left as written
        ("<img src=logo.png alt=l>", "<img src={b}logo.png alt=l>"),  # unquoted stays unquoted
        ('<a href="\u212ax:y">k</a>', '<a href="{b}\u212ax:y">k</a>'),  # no scheme: ASCII only
        ('<a href="&#104;ttps://x.org/">a</a>', '<a href="&#104;ttps://x.org/">a</a>'),  # https
        ("<a href==x>e</a>", "<a href==x>e</a>"),  # read otherwise by parsers: left as written
    ],
)
def test_a_notes_links_are_resolved_where_the_parser_reads_them(tag: str, made: str) -> None:
    from amwgen.editions import absolute_links

    base = "https://s.example/editions/2026-w47/"
    assert absolute_links(tag, base) == made.format(b=base)


def _shape(html: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each element with its attributes' names, as a browser parses html (html5lib)."""
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    return [(el.tag, tuple(sorted(el.attrib))) for el in fragment.iter() if isinstance(el.tag, str)]


@pytest.mark.parametrize(
    "raw",
    [
        # A red team, with unsafe_html: the standard library's parser reads a tag where a
        # browser reads text, a comment or another attribute's value; a quote the rewrite
        # added, or a "<" urljoin made by dropping a tab, ended it there.
        "<div>\n<img src=x\xa0/onerror=alert(1)>\n</div>",
        "<div>\n<img src=x\u3000/onerror=alert(1)>\n</div>",
        '<textarea><a href="</text\tarea><img src=2 onerror=alert(2)>"></textarea>',
        '<!--><img src=x title="--><img src=3 onerror=alert(3)>">',
        '<![CDATA[ x > <img src=a title="]]><img src=b onerror=alert(1)>">',
        '<!-- --\t> <a href="--\t><img src=1 onerror=alert(1)>"> -->',
    ],
)
def test_resolving_a_notes_links_makes_no_element_or_attribute(raw: str) -> None:
    from amwgen.editions import absolute_links

    assert _shape(absolute_links(raw, "https://s.example/editions/2026-w47/")) == _shape(raw)
