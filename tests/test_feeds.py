"""Feeds and sitemaps, read back with a real feed client and an XML parser."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from conftest import FIXTURES, article, write_site

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    from amwgen.cli import main

    os.environ["SOURCE_DATE_EPOCH"] = "1795651200"
    out = tmp_path_factory.mktemp("feeds") / "out"
    assert main(["build", str(FIXTURES / "golden"), "-o", str(out)]) == 0
    return out


def parse(path: Path) -> feedparser.FeedParserDict:
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    return feed


def test_site_feed_entries(golden: Path) -> None:
    feed = parse(golden / "feed.xml")
    assert feed.feed.title == "Golden Digest"
    assert [e.title for e in feed.entries] == [
        "Alpha Robotics raises $50M",
        "Beta Labs ships a robot arm",
        "Ministry of Science and ICT funds a robot test bed",
        "Delta Chips tapes out an NPU",
    ]
    alpha = feed.entries[0]
    assert alpha.id == alpha.link == "https://golden.example.org/digest/news/alpha/"
    assert "Novelty 1/3, significance 3/3" in alpha.summary
    assert {t.term for t in alpha.tags} >= {"Robotics", "Ministry of Science and ICT", "로봇"}
    assert alpha.published.startswith("2026-11-20T09:30:00+09:00")
    beta = feed.entries[1]
    assert beta.updated.startswith("2026-11-19T08:00:00+09:00")


def test_term_feeds_and_significant_feed(golden: Path) -> None:
    robotics = parse(golden / "topics" / "robotics" / "feed.xml")
    assert [e.title for e in robotics.entries][0] == "Alpha Robotics raises $50M"
    assert len(robotics.entries) == 3
    korean = parse(golden / "tags" / "로봇" / "feed.xml")
    assert len(korean.entries) == 1
    significant = parse(golden / "significant.xml")
    assert [e.title for e in significant.entries] == ["Alpha Robotics raises $50M"]


def test_json_feed(golden: Path) -> None:
    feed = json.loads((golden / "feed.json").read_text())
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "https://golden.example.org/digest/feed.json"
    first = feed["items"][0]
    assert first["url"] == "https://golden.example.org/digest/news/alpha/"
    assert first["_amwgen"]["novelty"] == 1 and first["_amwgen"]["significance"] == 3
    assert first["external_url"] == "https://example.com/alpha"
    assert "Robotics" in first["tags"]


def test_pages_link_their_feeds(golden: Path) -> None:
    home = (golden / "index.html").read_text()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Golden Digest" href="/digest/feed.xml">'
        in home
    )
    assert 'type="application/feed+json"' in home
    topic = (golden / "topics" / "robotics" / "index.html").read_text()
    assert 'href="/digest/topics/robotics/feed.xml"' in topic


def test_feed_keeps_the_newest_twenty(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {f"content/a{i:02}.md": article(f"A{i:02}", f"2026-10-{i + 1:02}") for i in range(25)}
    site = write_site(tmp_path, files)
    assert run("build", site).code == 0
    feed = parse(site / "public" / "feed.xml")
    assert len(feed.entries) == 20
    assert feed.entries[0].title == "A24" and feed.entries[-1].title == "A05"


def test_sitemap_lists_every_page_with_lastmod(golden: Path) -> None:
    root = ET.parse(golden / "sitemap.xml").getroot()
    urls = {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in root.findall(f"{SM}url")}
    base = "https://golden.example.org/digest/"
    rels = (p.parent.relative_to(golden).as_posix() for p in golden.rglob("index.html"))
    pages = {base if rel == "." else f"{base}{rel}/" for rel in rels}
    assert {unquote(u) for u in urls} == pages
    assert all(lastmod and lastmod.startswith("20") for lastmod in urls.values())
    assert urls["https://golden.example.org/digest/news/beta/"].startswith("2026-11-19T08:00:00")


def test_news_sitemap_has_the_last_two_days(golden: Path) -> None:
    root = ET.parse(golden / "news-sitemap.xml").getroot()
    # "now" is 2026-11-26 00:00 UTC: nothing in the fixture is that recent.
    assert root.findall(f"{SM}url") == []


def test_news_sitemap_format(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {
        "content/fresh.md": article("Fresh", "2026-11-25T12:00:00"),
        "content/stale.md": article("Stale", "2026-11-20"),
    }
    site = write_site(tmp_path, files)
    assert run("build", site).code == 0
    root = ET.parse(site / "public" / "news-sitemap.xml").getroot()
    (url,) = root.findall(f"{SM}url")
    assert url.findtext(f"{SM}loc") == "https://test.example.org/news/fresh/"
    news = url.find(f"{NEWS}news")
    assert news is not None
    assert news.findtext(f"{NEWS}title") == "Fresh"
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "Test Digest"
    assert news.findtext(f"{NEWS}publication_date") == "2026-11-25T12:00:00+09:00"
