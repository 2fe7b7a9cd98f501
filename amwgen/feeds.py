"""Atom (feedgen), JSON Feed 1.1 and the data of the two sitemaps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from amwgen import __version__
from amwgen.index import NEWS_WINDOW, Entry, Index, Term, recent, site_updated
from amwgen.model import SiteConfig
from amwgen.page import Page

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

    from amwgen.i18n import Translator

FEED_SIZE = 20


@dataclass(frozen=True, slots=True)
class FeedData:
    title: str
    # A string of the translation table that follows the title (SPEC 4's most significant
    # feed: "Digest: most significant"), in the site's language; "" for none.
    suffix: str
    path: str  # the feed's own path
    page: str  # the HTML page it follows
    entries: tuple[Entry, ...]  # newest first, at most FEED_SIZE
    updated: datetime


@dataclass(frozen=True, slots=True)
class SitemapData:
    urls: tuple[tuple[str, datetime], ...]


@dataclass(frozen=True, slots=True)
class NewsSitemapData:
    entries: tuple[Entry, ...]


def plan_feeds(index: Index) -> list[Page]:
    """SPEC 4: the site's feeds, the top-significance feed (term_feed: one per tag and topic)."""
    config = index.config
    fallback = site_updated(index)
    top = config.significance.max
    significant = tuple(e for e in index.entries if e.article.significance == top)
    return [
        _feed(config.title, "/feed.xml", "/", index.entries, fallback),
        _feed(config.title, "/feed.json", "/", index.entries, fallback, "jsonfeed"),
        _feed(config.title, "/significant.xml", "/scores/", significant, fallback, "atom", SUFFIX),
    ]


def term_feed(config: SiteConfig, term: Term, fallback: datetime) -> Page:
    """SPEC 4: a tag's or topic's feed (only its taxonomy.feed says whether it has one).

    fallback: its updated time if it has no entries, the site's (site_updated).
    """
    title = f"{config.title}: {term.name}"
    return _feed(title, f"{term.url}feed.xml", term.url, term.entries, fallback)


def _feed(
    title: str,
    path: str,
    page: str,
    entries: tuple[Entry, ...],
    fallback: datetime,
    kind: str = "atom",
    suffix: str = "",
) -> Page:
    newest = entries[:FEED_SIZE]
    updated = max((e.article.lastmod for e in newest), default=fallback)
    return Page(path, kind, FeedData(title, suffix, path, page, newest, updated))


SUFFIX = "significant_feed_title"
FEED_TAXONOMIES = ("topics", "players", "tags")  # an entry's categories, in this order


def feed_title(data: FeedData, t: Translator) -> str:
    """The feed's title in the site's language."""
    suffix = t(data.suffix) if data.suffix else ""
    return f"{data.title}: {suffix}" if suffix else data.title


def _scores_text(entry: Entry, config: SiteConfig, t: Translator) -> str:
    a = entry.article
    smax, nmax = config.significance.max, config.novelty.max
    return t("feed_scores", n=a.novelty, nmax=nmax, s=a.significance, smax=smax)


def new_feed(
    config: SiteConfig, title: str, path: str, page: str, updated: datetime
) -> FeedGenerator:
    """An Atom feed with its id, title, author, links, language and generator set."""
    # Imported here: feedgen (with lxml and dateutil) takes 15 ms to load, which a build that
    # renders no feed (no change, or an older article edited) need not spend.
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(config.absolute_url(path))
    fg.title(title)
    fg.author({"name": config.title})
    fg.link(href=config.absolute_url(page), rel="alternate")
    fg.link(href=config.absolute_url(path), rel="self")
    fg.language(config.language)
    fg.generator("amwgen", __version__)
    fg.updated(updated)
    return fg


def atom(data: FeedData, config: SiteConfig, t: Translator) -> bytes:
    """An Atom 1.0 feed; ids are the articles' absolute URLs, stable across builds. Its few
    words of its own (the scores in each summary) are in the site's language (t)."""
    fg = new_feed(config, feed_title(data, t), data.path, data.page, data.updated)
    if config.description:
        fg.subtitle(config.description)
    # Issue 8: each address made once (a percent-encoding each), not once for every use: a
    # feed's twenty entries named the taxonomies' three pages 160 times.
    schemes = {name: config.absolute_url(f"/{name}/") for name in FEED_TAXONOMIES}
    for entry in data.entries:
        a = entry.article
        url = config.absolute_url(a.url)
        fe = fg.add_entry(order="append")
        fe.id(url)
        fe.title(a.title)
        fe.link(href=url, rel="alternate")
        fe.published(a.date)
        fe.updated(a.lastmod)
        fe.summary(f"{a.summary} ({_scores_text(entry, config, t)})")
        fe.content(a.body_html, type="html")
        categories = [
            {"term": link.name, "scheme": schemes[name], "label": link.name}
            for name in FEED_TAXONOMIES
            for link in entry.terms(name)
        ]
        if categories:
            # One call: feedgen rebuilds its list on every call, quadratic in the tags.
            fe.category(categories)
    return fg.atom_str(pretty=True)  # type: ignore[no-any-return]


def json_feed(data: FeedData, config: SiteConfig, t: Translator) -> bytes:
    """A JSON Feed 1.1; scores travel in the `_amwgen` extension object of each item."""
    items = []
    for entry in data.entries:
        a = entry.article
        url = config.absolute_url(a.url)
        item: dict[str, Any] = {
            "id": url,
            "url": url,
            "title": a.title,
            "summary": a.summary,
            "content_html": a.body_html,
            "date_published": a.date.isoformat(),
            "date_modified": a.lastmod.isoformat(),
            "tags": [link.name for name in FEED_TAXONOMIES for link in entry.terms(name)],
            "_amwgen": {
                "novelty": a.novelty,
                "significance": a.significance,
                "read": {"novelty": a.read_novelty, "significance": a.read_significance},
            },
        }
        if a.source:
            item["external_url"] = a.source.url
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed_title(data, t),
        "home_page_url": config.absolute_url(data.page),
        "feed_url": config.absolute_url(data.path),
        "language": config.language,
        "items": items,
    }
    if config.description:
        feed["description"] = config.description
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def news_sitemap_data(index: Index) -> NewsSitemapData:
    """SPEC 4: articles of the 48 hours before "now"."""
    return NewsSitemapData(recent(index, NEWS_WINDOW))
