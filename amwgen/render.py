"""Index -> pages: each page is a template applied to frozen data; rendering gives bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from amwgen import editions, feeds
from amwgen.index import (
    SCORES_WINDOW,
    TAXONOMIES,
    Connection,
    Entry,
    Index,
    PlayerStat,
    Related,
    Taxonomy,
    Term,
    TermLink,
    connections,
    player_map,
    positions,
    recent,
    related,
    timeline,
)
from amwgen.model import PlainPage, SiteConfig
from amwgen.page import Page

THEME_DIR = Path(__file__).parent
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
SCORES_TOP = 10


@dataclass(frozen=True, slots=True)
class Pager:
    number: int
    count: int
    base: str  # URL of page 1

    def url(self, number: int) -> str:
        return self.base if number == 1 else f"{self.base}page/{number}/"

    @property
    def prev_url(self) -> str | None:
        return self.url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.number + 1) if self.number < self.count else None


@dataclass(frozen=True, slots=True)
class ListData:
    heading: str | None
    entries: tuple[Entry, ...]
    pager: Pager


@dataclass(frozen=True, slots=True)
class ArticleData:
    entry: Entry
    topic: TermLink | None
    connections: tuple[Connection, ...]
    related: tuple[Related, ...]


@dataclass(frozen=True, slots=True)
class TermData:
    term: Term
    entries: tuple[Entry, ...]
    pager: Pager
    months: tuple[tuple[date, tuple[Entry, ...]], ...]  # this page's entries by month
    players: tuple[PlayerStat, ...]  # the player map (timeline taxonomies other than players)


@dataclass(frozen=True, slots=True)
class TaxonomyData:
    taxonomy: Taxonomy
    terms: tuple[tuple[TermLink, int], ...]


@dataclass(frozen=True, slots=True)
class ScoresData:
    entries: tuple[Entry, ...]
    top: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class PlainData:
    page: PlainPage


@dataclass(frozen=True, slots=True)
class Nothing:
    """Data of pages that need only the site settings (404, robots.txt)."""


def paginate(
    entries: tuple[Entry, ...], per_page: int, base: str
) -> Iterator[tuple[Pager, tuple[Entry, ...]]]:
    """SPEC 5: pages of per_page entries; page 1 at base, page N at base/page/N/."""
    count = max(1, -(-len(entries) // per_page))
    for number in range(1, count + 1):
        chunk = entries[(number - 1) * per_page : number * per_page]
        yield Pager(number, count, base), chunk


def plan_pages(index: Index, notes: tuple[editions.EditionNote, ...] = ()) -> tuple[Page, ...]:
    """Every page of the site, in path order."""
    config = index.config
    pages: list[Page] = []
    for pager, chunk in paginate(index.entries, config.per_page, "/"):
        pages.append(
            Page(
                pager.url(pager.number),
                "list.html",
                ListData(None, chunk, pager),
                "",
                config.description,
            )
        )
    terms_by_url = {term.url: term for _, terms in index.terms for term in terms}
    pages += _article_pages(index, terms_by_url)
    for plain in index.pages:
        pages.append(Page(plain.url, "page.html", PlainData(plain), plain.title, plain.summary))
    for taxonomy, terms in index.terms:
        pages += _taxonomy_pages(config, taxonomy, terms)
    pages.append(_scores_page(index))
    pages.append(Page("/404.html", "404.html", Nothing(), "Page not found"))
    pages.append(Page("/robots.txt", "robots.txt", Nothing()))
    pages += feeds.plan_feeds(index)
    pages += editions.plan_editions(index, notes)  # issue 9; before the sitemap lists pages
    pages.append(Page("/sitemap.xml", "sitemap.xml", feeds.sitemap_data(index, pages)))
    pages.append(Page("/news-sitemap.xml", "news-sitemap.xml", feeds.news_sitemap_data(index)))
    return tuple(sorted(pages, key=lambda p: p.path))


def _article_pages(index: Index, terms_by_url: dict[str, Term]) -> list[Page]:
    places = {
        url: positions(term) for url, term in terms_by_url.items() if term.taxonomy.name == "topics"
    }
    pages = []
    for entry in index.entries:
        topics = entry.terms("topics")
        first = topics[0] if topics else None
        window = connections(entry, terms_by_url[first.url], places[first.url]) if first else ()
        data = ArticleData(entry, first, window, related(entry, terms_by_url))
        article = entry.article
        pages.append(Page(article.url, "article.html", data, article.title, article.summary))
    return pages


def _taxonomy_pages(config: SiteConfig, taxonomy: Taxonomy, terms: tuple[Term, ...]) -> list[Page]:
    listing = tuple((t.link, len(t.entries)) for t in terms)
    pages = [
        Page(f"/{taxonomy.name}/", "taxonomy.html", TaxonomyData(taxonomy, listing), taxonomy.title)
    ]
    for term in terms:
        stats = player_map(term) if taxonomy.timeline and taxonomy.name != "players" else ()
        description = term.profile.summary if term.profile else ""
        for pager, chunk in paginate(term.entries, config.per_page, term.url):
            months = (
                timeline(Term(taxonomy, term.slug, term.name, chunk)) if taxonomy.timeline else ()
            )
            data = TermData(term, chunk, pager, months, stats)
            pages.append(Page(pager.url(pager.number), "term.html", data, term.name, description))
    return pages


def _scores_page(index: Index) -> Page:
    window = recent(index, SCORES_WINDOW)
    top = sorted(
        window,
        key=lambda e: (-e.article.significance, -e.article.novelty, -e.article.date.timestamp()),
    )
    data = ScoresData(index.entries, tuple(top[:SCORES_TOP]))
    return Page("/scores/", "scores.html", data, "Scores")


# --- rendering -------------------------------------------------------------------------


def make_env(
    site_dir: Path, config: SiteConfig, css_digest: str, nav: tuple[tuple[str, str], ...] = ()
) -> jinja2.Environment:
    """The Jinja environment: site layouts/ first, then the built-in theme."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(site_dir / "layouts"),
                jinja2.PackageLoader("amwgen", "templates"),
            ]
        ),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        site=config,
        taxonomies=TAXONOMIES,
        url=lambda path: site_url(config, path),
        abs_url=lambda path: absolute_url(config, path),
        css_url=site_url(config, "/assets/amwgen.css") + f"?v={css_digest}",
        date_text=date_text,
        month_text=month_text,
        scale=score_scale,
        nav=nav,
    )
    env.globals["card_html"] = _CardCache(env)
    return env


class _CardCache:
    """card.html for an entry and heading level, rendered once per process and reused.

    A card is a pure function of its entry, the templates and the settings, so every list
    page that shows the entry can share one rendering.
    """

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.memo: dict[tuple[str, str], Markup] = {}

    def __call__(self, entry: Entry, heading: str = "h2") -> Markup:
        key = (entry.article.slug, heading)
        html = self.memo.get(key)
        if html is None:
            html = Markup(self.env.get_template("card.html").render(entry=entry, heading=heading))
            self.memo[key] = html
        return html


def site_url(config: SiteConfig, path: str) -> str:
    """A root-relative, percent-encoded URL for a site path (base_url's path prefixed)."""
    if path.startswith(("http://", "https://", "mailto:", "#")):
        return path
    return config.base_path + quote(path.lstrip("/"), safe="/#?=&%")


def absolute_url(config: SiteConfig, path: str) -> str:
    """An absolute URL from base_url, for feeds, sitemaps and canonical links."""
    if path.startswith(("http://", "https://")):
        return path
    return config.base_url + quote(path.lstrip("/"), safe="/#?=&%")


def date_text(moment: datetime | date) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1][:3]} {moment.year}"


def month_text(moment: datetime | date) -> str:
    return f"{MONTHS[moment.month - 1]} {moment.year}"


def score_scale(value: int, low: int, high: int) -> list[bool]:
    """One flag per step above the scale's minimum: filled up to value."""
    return [step <= value for step in range(low + 1, high + 1)]


def _site(env: jinja2.Environment) -> SiteConfig:
    config = env.globals["site"]
    assert isinstance(config, SiteConfig)
    return config


Renderer = Callable[[Page, jinja2.Environment], bytes]

# Pages whose template names one of these are not Jinja templates but code.
RENDERERS: dict[str, Renderer] = {
    "atom": lambda page, env: feeds.atom(page.data, _site(env)),
    "jsonfeed": lambda page, env: feeds.json_feed(page.data, _site(env)),
    # Issue 9: an edition's email.html (template, then CSS inlined) and /editions/feed.xml.
    "edition-email": lambda page, env: editions.email_html(page.data, env, page),
    "editions-atom": lambda page, env: editions.atom(page.data, _site(env)),
}


def render_page(page: Page, env: jinja2.Environment) -> bytes:
    """Render one page to bytes; a pure function of the page, the templates and the settings."""
    special = RENDERERS.get(page.template)
    if special is not None:
        return special(page, env)
    template = env.select_template(_template_names(page))
    return template.render(page=page.data, meta=page).encode("utf-8")


# Templates that code renderers use, for the digest of each page's inputs.
RENDERER_TEMPLATES: dict[str, tuple[str, ...]] = {"edition-email": ("edition-email.html",)}


def page_templates(page: Page) -> tuple[str, ...]:
    """The templates a page is rendered with (their includes are found from these)."""
    if page.template in RENDERERS:
        return RENDERER_TEMPLATES.get(page.template, ())
    return tuple(_template_names(page))


def _template_names(page: Page) -> list[str]:
    """A term page uses term-<taxonomy>.html when the site or theme has one."""
    if isinstance(page.data, TermData):
        return [f"term-{page.data.term.taxonomy.name}.html", page.template]
    return [page.template]


def css_digest(css: bytes) -> str:
    return hashlib.sha256(css).hexdigest()[:10]
