"""Index -> pages: each page is a template applied to frozen data; rendering gives bytes."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import string
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache, partial
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import jinja2.bccache
import jinja2.ext
import jinja2.filters
import jinja2.lexer
from jinja2 import nodes
from markupsafe import Markup, escape

import amwgen.index
import amwgen.model
import amwgen.page
from amwgen import editions, feeds, i18n
from amwgen.index import (
    SCORES_WINDOW,
    TAXONOMIES,
    WEIGHTED,
    Connection,
    Entry,
    Index,
    PlayerStat,
    Posting,
    Related,
    Taxonomy,
    Term,
    TermInfo,
    TermLink,
    candidates,
    connected,
    headlines,
    player_map,
    positions,
    posting_lists,
    recent,
    related_from,
    site_updated,
    timeline,
    window_of,
)
from amwgen.model import (
    Article,
    PlainPage,
    Problem,
    Scale,
    SiteConfig,
    not_for_templates,
)
from amwgen.page import Page, output_file, page_bytes
from amwgen.write import walk_tree

THEME_DIR = Path(__file__).parent
SCORES_TOP = 10
SCORES_CELL = 36  # dots shown in a cell of the /scores/ grid


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
    term: TermInfo  # the term without its entries: a page depends only on what it lists
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
    # (novelty, significance) -> (the first SCORES_CELL entries of that cell, how many in all)
    cells: tuple[tuple[tuple[int, int], tuple[tuple[Entry, ...], int]], ...] = ()

    def cell(self, novelty: int, significance: int) -> tuple[tuple[Entry, ...], int]:
        """The grid cell's first entries and its count; a template loop over every entry per
        cell would cost as much as the rest of the site's pages."""
        for key, found in self.cells:
            if key == (novelty, significance):
                return found
        return (), 0


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


@dataclass(frozen=True, slots=True)
class Group:
    """Pages made together by one pure function of explicit arguments.

    The group's key is the digest of its function and arguments (build.plan_units): while it
    stays the same, so do the pages, and the build takes them from the last output without
    making them again. Making a group is where the per-article work (Related News, the
    timeline window) happens, so an incremental build does it only for the groups that changed.
    """

    name: str  # unique and stable across builds: the cache files the group's pages under it
    make: Callable[..., Sequence[Page]]  # a module-level function: part of the key
    args: tuple[Any, ...]
    # The articles with their bodies that args hold (index entries, not headlines): the args
    # are a function of what the group sees or follows and shows (below), the notes, the
    # name and these (build.plan_units).
    reads: tuple[Entry, ...] = ()
    # Makes args when they are first needed, if they are not given: a build that takes most
    # groups from the last output untouched (or by their outline key) never needs theirs.
    later: Callable[[], tuple[Any, ...]] | None = None
    # The terms of the headlines index that args are made from, when not the whole of it
    # with "now": then an edit elsewhere in the index leaves the group alone (build.plan_units,
    # which tells a changed term by its digest against the last build's).
    sees: tuple[Term, ...] | None = None
    # Terms whose newest articles (the RELATED_POSTINGS_LIMIT newest, in the site order)
    # alone decide which headlines the pages show, and shows, which reads those off the
    # pages made: that order and the headlines shown then stand for the terms in the outline
    # key, so that a headline edited sends back to the full key only the groups that showed
    # it (an article's page shows a few of the hundreds of headlines its Related News is
    # chosen from), and an article added below a term's newest changes nothing of it.
    follows: tuple[Term, ...] = ()
    shows: Callable[[Sequence[Page]], tuple[Entry, ...]] | None = None
    # A term of which the pages show only a window around one article (an article's topic
    # timeline): the window's articles stand for the term's order in the outline key, so an
    # article added far from it leaves the group alone.
    near: tuple[Term, Callable[[], tuple[Entry, ...]]] | None = None

    def arguments(self) -> tuple[Any, ...]:
        return self.later() if self.later is not None else self.args

    def pages(self) -> tuple[Page, ...]:
        return tuple(self.make(*self.arguments()))


def plan_groups(
    index: Index,
    notes: tuple[editions.EditionNote, ...] = (),
    brief: Index | None = None,
    lists: Callable[[], dict[str, Posting]] | None = None,
) -> tuple[Group, ...]:
    """Every page of the site but the sitemap (sitemap_page), as groups to make.

    brief: headlines(index), when the caller has made it already; lists: posting_lists of
    it, made when first called, when the caller needs them too (build.plan_units).
    """
    config = index.config
    # Articles' bodies only where they are shown.
    full, index = index, brief if brief is not None else headlines(index)
    # Each page of the home list a group of its own: an article added shifts the pages after
    # it, not those before, and the pages that change are spread over the workers.
    groups = [
        Group(pager.url(pager.number), list_page, (chunk, pager, config.description))
        for pager, chunk in paginate(index.entries, config.per_page, "/")
    ]
    groups += _article_groups(full, index, lists or cache(partial(posting_lists, index)))
    for plain in index.pages:
        page = Page(plain.url, "page.html", PlainData(plain), plain.title, plain.summary)
        groups.append(_given(page))
    updated = site_updated(index)
    # The headlines' terms beside the full ones, whose feeds carry the bodies.
    for (taxonomy, terms), (_, bodies) in zip(index.terms, full.terms, strict=True):
        listing = tuple((t.link, len(t.entries)) for t in terms)
        data = TaxonomyData(taxonomy, listing)
        groups.append(_given(Page(f"/{taxonomy.name}/", "taxonomy.html", data, taxonomy.title)))
        for term, carried in zip(terms, bodies, strict=True):
            groups.append(Group(term.url, term_pages, (config.per_page, term), sees=(term,)))
            if taxonomy.feed:
                feed = feeds.term_feed(config, carried, updated)
                # Without entries its date is the site's: the whole index is what it sees.
                sees = (term,) if term.entries else None
                groups.append(Group(feed.path, _just, (feed,), feed.data.entries, sees=sees))
    groups.append(_given(_scores_page(index)))
    if config.search:  # issue 6: the search page; Pagefind indexes the site after rendering
        groups.append(_given(Page("/search/", "search.html", Nothing(), "Search")))
    groups.append(_given(Page("/404.html", "404.html", Nothing(), "Page not found")))
    groups.append(_given(Page("/robots.txt", "robots.txt", Nothing())))
    # Feeds carry the bodies.
    groups += [_given(page, page.data.entries) for page in feeds.plan_feeds(full)]
    groups += _edition_groups(index, notes)  # issue 9
    news = Page("/news-sitemap.xml", "news-sitemap.xml", feeds.news_sitemap_data(index))
    groups.append(_given(news))
    return tuple(groups)


TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")  # the templates' file names end so


def is_template_name(name: str) -> bool:
    """Whether a file of layouts/ (its posix path there) is a template: a template's suffix,
    and not hidden (an editor's ._page.html, say)."""
    return name.endswith(TEMPLATE_SUFFIXES) and "/." not in f"/{name}"


def template_files(root: Path, unread: list[Problem] | None = None) -> list[str]:
    """The templates below a folder of them (layouts/), by their names there, sorted: its
    links followed, as Jinja's loader follows them; only what is_template_name takes. A
    folder that cannot be listed is left out; unread gets it as a located problem."""
    walked = walk_tree(root, [] if unread is None else unread)
    return [name for name, _, folder in walked if not folder and is_template_name(name)]


def template_names(env: jinja2.Environment) -> list[str]:
    """Every template env's loaders serve, site layouts/ first (template_files), then the
    theme's."""
    names: set[str] = set()
    loader = env.loader
    for each in loader.loaders if isinstance(loader, jinja2.ChoiceLoader) else [loader]:
        if isinstance(each, jinja2.FileSystemLoader):
            for root in each.searchpath:
                names.update(template_files(Path(root)))
        elif each is not None:
            names.update(filter(is_template_name, each.list_templates()))
    return sorted(names)


def page_files(groups: Iterable[Group]) -> Iterator[str]:
    """The file of every page of groups, as its pages' Page.file, without making the groups
    whose files follow from their arguments alone: an article's (its Related News) and a
    term's (its timelines and player map). What `check` compares static/ with."""
    for group in groups:
        if group.make is article_pages:
            yield output_file(group.name)
        elif group.make is term_pages:
            per_page, term = group.args
            for pager, _ in paginate(term.entries, per_page, term.url):
                yield output_file(pager.url(pager.number))
        else:
            yield from (page.file for page in group.pages())


def _edition_groups(index: Index, notes: tuple[editions.EditionNote, ...]) -> list[Group]:
    """The editions' groups, named from the periods their stories fall in; the editions are
    built (editions.plan_editions) only when a group's arguments are first needed."""
    kinds = editions.enabled_kinds(index.config)
    if not kinds:
        return []
    # Each story's day in the site's calendar, found once for the URLs and the editions;
    # the URLs in plan_editions' order, without building the editions.
    days = editions.story_days(index, ZoneInfo(index.config.timezone))
    urls = [period.url for period in editions.story_periods(index, kinds, days)]
    plan = cache(partial(editions.plan_editions, index, notes, days))

    def page(part: str) -> tuple[Any, ...]:
        made = plan()
        assert made is not None
        return (made.index if part == "index" else made.feed,)

    def edition(at: int, url: str) -> tuple[Any, ...]:
        made = plan()
        assert made is not None and made.editions[at].edition.url == url, url
        return (index.config, made.editions[at])

    return [
        Group("/editions/", _just, (), (), partial(page, "index")),
        *(
            Group(url, editions.edition_pages, (), (), partial(edition, at, url))
            for at, url in enumerate(urls)
        ),
        Group(editions.FEED_PATH, _just, (), (), partial(page, "feed")),
    ]


def _given(page: Page, reads: tuple[Entry, ...] = ()) -> Group:
    """A page whose data costs nothing to make: a group of its own."""
    return Group(page.path, _just, (page,), reads)


def _just(page: Page) -> tuple[Page, ...]:
    return (page,)


SitemapRow = tuple[str, datetime | None]  # an HTML page and its newest article's lastmod


def sitemap_rows(pages: tuple[Page, ...]) -> tuple[SitemapRow, ...]:
    """The sitemap's rows for a group's pages: each HTML page with its lastmod (None: the
    site's, filled in by sitemap_page, so that a group does not depend on every article)."""
    return tuple(
        (page.path, max((e.article.lastmod for e in _entries_of(page.data)), default=None))
        for page in pages
        if page.path.endswith("/")
    )


def sitemap_page(index: Index, rows: list[SitemapRow]) -> Page:
    """/sitemap.xml: every HTML page but 404 with its lastmod, else the site's."""
    site_lastmod = site_updated(index)
    urls = tuple(sorted((path, lastmod or site_lastmod) for path, lastmod in rows))
    return Page("/sitemap.xml", "sitemap.xml", feeds.SitemapData(urls))


def _entries_of(data: object) -> tuple[Entry, ...]:
    entry = getattr(data, "entry", None)
    if isinstance(entry, Entry):
        return (entry,)
    entries = getattr(data, "entries", ())
    return entries if isinstance(entries, tuple) else ()


def list_page(chunk: tuple[Entry, ...], pager: Pager, description: str) -> tuple[Page, ...]:
    """One page of the home list: the home page, or one of its later pages."""
    url = pager.url(pager.number)
    return (Page(url, "list.html", ListData(None, chunk, pager), "", description),)


def _article_groups(
    full: Index, index: Index, lists: Callable[[], dict[str, Posting]]
) -> list[Group]:
    """One group per article: its entry, its topic's timeline window and the posting lists
    its Related News is chosen from (headlines; lists: made when a group's arguments are
    first needed, which most builds need for none); nothing else of the index."""
    by_url = {term.url: term for _, terms in index.terms for term in terms}
    places = cache(lambda: {t.url: positions(t) for t in index.taxonomy_terms("topics")})
    # Its posting lists are the newest articles of its weighted terms, and its timeline
    # window a few articles around it in its first topic: which ones follows from the terms'
    # order alone.
    weighted = {t.name for t in WEIGHTED}
    groups = []
    for entry in full.entries:
        later = partial(_article_args, entry, by_url, places, lists)
        follows = tuple(
            by_url[link.url] for name, links in entry.links if name in weighted for link in links
        )
        topics = entry.terms("topics")
        near = None
        if topics:
            topic = by_url[topics[0].url]
            near = (topic, partial(_window, entry, topic, places))
        url = entry.article.url
        groups.append(
            Group(url, article_pages, (), (entry,), later, (), follows, article_shows, near)
        )
    return groups


def article_shows(pages: Sequence[Page]) -> tuple[Entry, ...]:
    """The headlines an article's page shows: its timeline window and its Related News."""
    (page,) = pages
    data = page.data
    assert isinstance(data, ArticleData)
    return tuple(c.entry for c in data.connections) + tuple(r.entry for r in data.related)


def _article_args(
    entry: Entry,
    terms: dict[str, Term],
    places: Callable[[], dict[str, dict[str, int]]],
    lists: Callable[[], dict[str, Posting]],
) -> tuple[Any, ...]:
    """article_pages' arguments for one entry (_article_groups)."""
    links = entry.terms("topics")
    first = links[0] if links else None
    window = _window(entry, terms[first.url], places) if first else ()
    return (entry, first, window, candidates(entry, lists()))


def _window(
    entry: Entry, topic: Term, places: Callable[[], dict[str, dict[str, int]]]
) -> tuple[Entry, ...]:
    """The entries of an article's timeline window in its first topic (index.window_of)."""
    return window_of(entry, topic, places()[topic.url])


def article_pages(
    entry: Entry,
    topic: TermLink | None,
    window: tuple[Entry, ...],
    postings: tuple[Posting, ...],
) -> tuple[Page, ...]:
    """An article's page: the entry, "How This Connects" and Related News (from postings,
    index.candidates)."""
    data = ArticleData(entry, topic, connected(entry, window), related_from(entry, postings))
    article = entry.article
    return (Page(article.url, "article.html", data, article.title, article.summary),)


def term_pages(per_page: int, term: Term) -> tuple[Page, ...]:
    """A term's pages: its entries, by month on timeline taxonomies, the player map on page 1."""
    taxonomy = term.taxonomy
    stats = player_map(term) if taxonomy.timeline and taxonomy.name != "players" else ()
    description = term.profile.summary if term.profile else ""
    pages = []
    for pager, chunk in paginate(term.entries, per_page, term.url):
        months = timeline(Term(taxonomy, term.slug, term.name, chunk)) if taxonomy.timeline else ()
        # The player map is shown on page 1 only; later pages do not depend on it.
        shown = stats if pager.number == 1 else ()
        data = TermData(term.info, chunk, pager, months, shown)
        pages.append(Page(pager.url(pager.number), "term.html", data, term.name, description))
    return tuple(pages)


def _scores_page(index: Index) -> Page:
    window = recent(index, SCORES_WINDOW)
    top = sorted(
        window,
        key=lambda e: (-e.article.significance, -e.article.novelty, -e.article.date.timestamp()),
    )
    cells: dict[tuple[int, int], list[Entry]] = {}
    for entry in index.entries:
        a = entry.article
        cells.setdefault((a.novelty, a.significance), []).append(entry)
    shown = tuple(sorted((k, (tuple(v[:SCORES_CELL]), len(v))) for k, v in cells.items()))
    data = ScoresData(index.entries, tuple(top[:SCORES_TOP]), shown)
    return Page("/scores/", "scores.html", data, "Scores")


# --- rendering -------------------------------------------------------------------------


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Issue 8: compiled templates kept in the cache folder (Jinja checks each against its
    source), so that the next build's processes load them rather than compile them. Best
    effort, as the rest of the cache: a template that cannot be read or written there is
    compiled as usual."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # missing, cut short or damaged: compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _undigested(*namespaces: dict[str, Any]) -> dict[str, tuple[type, ...]]:
    """The fields a template may not read, by name, with the dataclasses that have them:
    those no page's digest holds (repr=False, which fingerprint leaves out), so that a page
    that showed one kept it stale in an incremental build (a red team). An entry's rank
    moves with every story that comes in; a document's path is the site's folder as typed
    on the command line (its `rel`, below content/, is what a layout may show)."""
    kinds = {
        kind
        for namespace in namespaces
        for kind in namespace.values()
        if isinstance(kind, type) and dataclasses.is_dataclass(kind)
    }
    found: dict[str, tuple[type, ...]] = {}
    for kind in sorted(kinds, key=lambda kind: kind.__qualname__):
        for item in dataclasses.fields(kind):
            if not item.repr:
                found[item.name] = (*found.get(item.name, ()), kind)
    return found


# Every module whose values pages carry, and this one's page data, defined above.
_UNSHOWN = _undigested(
    *(vars(module) for module in (amwgen.model, amwgen.index, amwgen.page, editions, feeds)),
    globals(),
)


_DUNDER = "a name that starts with '__' is not for templates"


def _dunder(name: str) -> bool:
    """A name that starts with "__" but `__name__` (an imported template's: `m.__name__`,
    a second review's), which holds no value of a page's data."""
    return name.startswith("__") and name != "__name__"


class _Undefined(jinja2.StrictUndefined):
    """Jinja's StrictUndefined, an error also when shown inside another value: a list of
    them showed as `[Undefined]` (`{{ entries|map(attribute='rank')|list }}`, so also what
    no page's digest holds)."""

    __slots__ = ()
    __repr__ = jinja2.StrictUndefined._fail_with_undefined_error


class _Environment(jinja2.Environment):
    """Jinja's environment, giving each template its globals as one dict.

    Jinja chains a template's globals to the environment's (a ChainMap) and copies them
    into a new dict for every page, card and import: key by key through Python-level
    lookups, some forty globals, tens of thousands of times a build. Ours are all set
    before any template is loaded (make_env, workers._worker), so a merged dict is the same.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Template names -> the first that exists (render._select): Jinja caches templates it
        # found, not the search for one that is missing (term-tags.html, on every term page).
        self.chosen: dict[tuple[str, ...], jinja2.Template] = {}
        self.filters["attr"] = _attr  # also what map('attr', ...) calls

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Jinja's, but for what no page's digest holds (_UNSHOWN): undefined, so that a
        layout showing it fails at its line instead of going stale."""
        if attribute in _UNSHOWN and isinstance(obj, _UNSHOWN[attribute]):
            return self.undefined(obj=obj, name=attribute, hint=not_for_templates(attribute))
        try:  # Jinja's own, here rather than through super(): it runs for every `a.b`
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str):
            hidden = _UNSHOWN.get(argument)
            if hidden is not None and isinstance(obj, hidden):
                return self.undefined(obj=obj, name=argument, hint=not_for_templates(argument))
            if _dunder(argument):  # as _refuse_ways_round, for a name made meanwhile
                return self.undefined(obj=obj, name=argument, hint=_DUNDER)
        return super().getitem(obj, argument)

    def compile(self, source: Any, name: Any = None, filename: Any = None, *args: Any) -> Any:
        """Jinja's, with what its compiler raises as another error (ValueError on a constant
        it cannot write out, `{{ 10 ** 100000 }}`; Python's own SyntaxError on code nested
        deeper than it compiles, a hundred `{% if %}`) made a syntax error at the template."""
        try:
            return super().compile(source, name, filename, *args)
        except (ValueError, OverflowError, RecursionError, SyntaxError) as err:
            raise _uncompiled(err, name, filename) from None

    def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
        """Jinja's parser, with its RecursionError on a template nested too deep (three
        hundred brackets) a syntax error at the template: build parses each template a page
        uses to find what it includes (incremental.TemplateDigests), compiled or not."""
        try:
            parsed = super()._parse(source, name, filename)
        except RecursionError as err:
            raise _uncompiled(err, name, filename) from None
        _refuse_ways_round(parsed, name, filename)
        return parsed


def _refuse_ways_round(parsed: nodes.Template, name: str | None, filename: str | None) -> None:
    """A syntax error at the first read of what a layout may not read, each a way round
    getattr's check of what no page's digest holds: a name that starts with "__" read from a
    value (`a.__dict__['path']`, `a.__getattribute__('rank')`, `a['__dict__']`,
    `a|attr('__dict__')`: a red team), and str.format reading a field of a value
    (`'{0.path}'.format(a)`: a review), or given text made while rendering. Names made while
    rendering reach getitem and the attr filter, which refuse them too."""
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Call)):
        said: object = None
        if isinstance(node, nodes.Getattr):
            said = node.attr
        elif isinstance(node, nodes.Getitem):
            said = node.arg.value if isinstance(node.arg, nodes.Const) else None
        elif isinstance(node, nodes.Filter):
            first = node.args[0] if node.name == "attr" and node.args else None
            said = first.value if isinstance(first, nodes.Const) else None
        elif (
            isinstance(node, nodes.Call)
            and isinstance(node.node, nodes.Getattr)
            and node.node.attr in _FORMATS
        ):
            text = node.node.node
            if not (isinstance(text, nodes.Const) and isinstance(text.value, str)):
                message = f"'{node.node.attr}' of text made while rendering: {_FORMAT}"
                raise jinja2.TemplateSyntaxError(message, node.lineno, name, filename)
            if _reads_fields(text.value):
                message = f"a field read in a format string: {_FORMAT}"
                raise jinja2.TemplateSyntaxError(message, node.lineno, name, filename)
        if isinstance(said, str) and _dunder(said):
            message = f"'{said}': {_DUNDER}"
            raise jinja2.TemplateSyntaxError(message, node.lineno, name, filename)


_FORMATS = frozenset({"format", "format_map"})
_FORMAT = "not for templates (the format filter, or ~, join text)"


def _reads_fields(text: str) -> bool:
    """Whether a str.format string reads an attribute or item of a value (`{0.path}`,
    `{a[rank]}`), in a field or in a field nested in its format spec."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:  # a string str.format refuses too
        return False
    return any(
        field is not None and ("." in field or "[" in field or _reads_fields(spec or ""))
        for _, field, spec, _ in fields
    )


@jinja2.pass_environment
def _attr(environment: jinja2.Environment, obj: Any, name: str) -> Any:
    """Jinja's attr filter, but for a name that starts with "__" and str.format (_DUNDER,
    _FORMATS), which a layout can name only here as it renders."""
    if isinstance(name, str) and (_dunder(name) or (name in _FORMATS and isinstance(obj, str))):
        hint = _DUNDER if _dunder(name) else _FORMAT
        return environment.undefined(obj=obj, name=name, hint=hint)
    return jinja2.filters.do_attr(environment, obj, name)


def _uncompiled(err: Exception, name: str | None, filename: str | None) -> jinja2.TemplateError:
    message = f"cannot be compiled: {err.msg if isinstance(err, SyntaxError) else err}"
    return jinja2.TemplateSyntaxError(message, 1, name, filename)


class _Layouts(jinja2.FileSystemLoader):
    """The site's layouts/: a template that is not UTF-8 is a syntax error at its file (Jinja's
    UnicodeDecodeError names none)."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as err:
            path = Path(self.searchpath[0], *template.split("/"))
            message = f"is not UTF-8 text: {err.reason}"
            raise jinja2.TemplateSyntaxError(message, 1, template, str(path)) from None


_SURROGATE = re.compile("[\ud800-\udfff]")  # no UTF-8 can hold one; a page with one is none


class _TextOnly(jinja2.ext.Extension):
    """A string in a template that is no text (`"\\ud800"`, which Jinja's escapes make) is a
    syntax error at its line, rather than a page that cannot be written. (A control
    character is text: `replace("\\x0c", " ")` cleans one up.)"""

    def filter_stream(self, stream: jinja2.lexer.TokenStream) -> Iterator[jinja2.lexer.Token]:
        for token in stream:
            if token.type == "string" and _SURROGATE.search(token.value):
                message = "a string that is no text (a lone surrogate)"
                raise jinja2.TemplateSyntaxError(
                    message, token.lineno, stream.name, stream.filename
                )
            yield token


class _Context(jinja2.runtime.Context):
    """Jinja's context, calling plain functions straight away.

    Jinja asks every callable a template calls whether it wants the context, environment
    or evaluation context passed in (two failed hasattr lookups a call, each an exception
    made and dropped): a tenth of rendering, at some hundred calls a page. Functions and
    methods that carry no such mark, builtins (which cannot) and the two classes of ours
    the globals hold are called as Jinja would call them; anything else goes Jinja's way.
    """

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        kind = type(__obj)
        if kind in _PLAIN_CALLABLES or (
            kind in _MARKABLE and "jinja_pass_arg" not in _own_attributes(__obj)
        ):
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:  # as Jinja answers it
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        return super().call(__obj, *args, **kwargs)


def _own_attributes(obj: Any) -> dict[str, Any]:
    """A function's attributes (a method's: its function's), where Jinja's mark would be;
    for a method of anything but a function, a mark (Jinja's way, then)."""
    if type(obj) is MethodType:
        obj = obj.__func__
        if type(obj) is not FunctionType:
            return {"jinja_pass_arg": None}
    attributes: dict[str, Any] = obj.__dict__
    return attributes


def make_env(
    site_dir: Path,
    config: SiteConfig,
    css_digest: str,
    nav: tuple[tuple[str, str], ...] = (),
    translations: i18n.Table | None = None,
    compiled: Path | None = None,
    js_digest: str = "",
) -> jinja2.Environment:
    """The Jinja environment: site layouts/ first, then the built-in theme.

    css_digest, js_digest: asset_digest of the stylesheet and the script, for their links
    (the script's link has none when js_digest is empty).
    translations: the theme's strings (i18n.load_table); None reads them for site_dir.
    compiled: a folder to keep compiled templates in, if any.
    """
    env = _Environment(
        loader=jinja2.ChoiceLoader(
            [
                _Layouts(site_dir / "layouts"),
                jinja2.PackageLoader("amwgen", "templates"),
            ]
        ),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=_Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # One environment serves one build: templates are not looked at again on each use.
        auto_reload=False,
        bytecode_cache=_CompiledTemplates(str(compiled)) if compiled is not None else None,
        extensions=[_TextOnly],
    )
    env.context_class = _Context
    env.globals.update(
        site=config,
        taxonomies=TAXONOMIES,
        url=lru_cache(maxsize=65536)(config.site_url),
        abs_url=lru_cache(maxsize=65536)(config.absolute_url),
        css_url=config.site_url("/assets/amwgen.css") + f"?v={css_digest}",
        scale=score_scale,
        nav=nav,
        json_ld=json_ld,
    )
    # Issue 6: every string the theme shows comes from the table for site.yaml `language`.
    table = translations if translations is not None else i18n.load_table(site_dir, config.language)
    translator = i18n.Translator(config.language, table)
    env.globals.update(
        t=translator,
        t_html=translator.markup,
        tn=translator.plural,
        date_text=translator.date_text,
        month_text=translator.month_text,
        period_title=lambda period: editions.period_title(translator, period),
        js_url=config.site_url("/assets/amwgen.js") + (f"?v={js_digest}" if js_digest else ""),
    )
    env.globals.update(_fragments(env, translator))
    env.globals["card_html"] = CardCache(env)
    return env


def _fragments(env: jinja2.Environment, t: i18n.Translator) -> dict[str, Callable[..., Markup]]:
    """The theme's small repeated pieces as Python functions (the macros in macros.html call
    them): a Jinja macro call costs more than the markup it makes, thousands of times a build.
    """
    config = env.globals["site"]
    url = env.globals["url"]  # the same cached function the templates call
    assert isinstance(config, SiteConfig) and callable(url)
    times: dict[tuple[datetime | date, timedelta | None], Markup] = {}
    links: dict[tuple[tuple[TermLink, ...], str], Markup] = {}
    scores: dict[tuple[str, int, Scale], Markup] = {}
    pairs: dict[tuple[int, int], Markup] = {}

    # Plain string building with escape(): Markup.format goes through string.Formatter,
    # which costs more than the rest of a card. Each piece is memoised by its inputs.
    def time_tag(moment: datetime | date) -> Markup:
        # By its offset too: one moment spelt two ways (02:30-05:00 and 03:30-04:00 in New
        # York's spring gap; a layout's own datetime beside a story's) is one key of a dict,
        # though its text and `datetime` differ.
        key = (moment, moment.utcoffset()) if isinstance(moment, datetime) else (moment, None)
        html = times.get(key)
        if html is None:
            text = escape(t.date_text(moment))
            html = times[key] = Markup(f'<time datetime="{_html_time(moment)}">{text}</time>')
        return html

    def term_links(items: tuple[TermLink, ...], sep: str = ", ") -> Markup:
        key = (items, sep)
        html = links.get(key)
        if html is None:
            html = links[key] = Markup(escape(sep)).join(
                Markup(f'<a href="{escape(url(i.url))}">{escape(i.name)}</a>') for i in items
            )
        return html

    def score_html(key: str, value: int, s: Scale) -> Markup:
        memo = (key, value, s)
        html = scores.get(memo)
        if html is None:
            html = scores[memo] = _score(key, value, s)
        return html

    def _score(key: str, value: int, s: Scale) -> Markup:
        label = escape(t(key))
        dots = "".join(
            '<span class="dot on"></span>' if on else '<span class="dot"></span>'
            for on in score_scale(value, s.min, s.max)
        )
        title = escape(t("score_title", label=t(key), value=value, max=s.max))
        level = f"{escape(key)} level-{value - s.min}-of-{s.max - s.min}"
        return Markup(
            f'<span class="score score-{level}" title="{title}">'
            f'<span class="score-label">{label}</span> '
            f'<span class="dots" aria-hidden="true">{dots}</span> '
            f'<span class="score-value">{value}/{s.max}</span></span>'
        )

    def scores_html(article: Article) -> Markup:
        memo = (article.novelty, article.significance)
        html = pairs.get(memo)
        if html is None:
            novelty = score_html("novelty", article.novelty, config.novelty)
            significance = score_html("significance", article.significance, config.significance)
            html = pairs[memo] = Markup(f'<span class="scores">{novelty} {significance}</span>')
        return html

    return {
        "time_tag": time_tag,
        "term_links": term_links,
        "score_html": score_html,
        "scores_html": scores_html,
    }


@dataclass(frozen=True, slots=True)
class Text:
    """Byte strings read as the one they make end to end, which is never made: the cards of
    10,000 articles are 28 MB, and each copy of them cost the build that added a story
    7,000 page faults, some 2.4 µs each on the machine of issue 8 (two copies were made:
    docs/performance-history.md, twenty-fifth session)."""

    parts: tuple[bytes, ...]
    starts: tuple[int, ...]  # where each part starts in the whole

    def __len__(self) -> int:
        return self.starts[-1] + len(self.parts[-1]) if self.parts else 0

    def cut(self, start: int, end: int) -> bytes:
        """The bytes from start to end (0 <= start), as text[start:end] of the whole would be."""
        at = bisect_right(self.starts, start) - 1
        if at >= 0 and end - self.starts[at] <= len(self.parts[at]):  # in one part: a card
            base = self.starts[at]
            return self.parts[at][start - base : end - base]
        pieces = []
        while start < end and 0 <= at < len(self.parts):
            base, part = self.starts[at], self.parts[at]
            pieces.append(part[start - base : end - base])
            start, at = base + len(part), at + 1
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def plus(self, part: bytes) -> Text:
        """This text with part after it."""
        return joined((*self.parts, part))


def joined(parts: Iterable[bytes]) -> Text:
    """The Text of parts end to end (empty ones left out)."""
    kept = tuple(part for part in parts if part)
    starts, at = [], 0
    for part in kept:
        starts.append(at)
        at += len(part)
    return Text(kept, tuple(starts))


@dataclass(frozen=True, slots=True)
class Cards:
    """Cards rendered ahead, in one UTF-8 text: forked workers read it without each making
    a copy of thousands of small objects (reading a slice writes nothing to it)."""

    text: Text
    spans: dict[tuple[str, str], tuple[int, int]]  # (slug, heading) -> start, end in bytes


class CardCache:
    """card.html for an entry and heading level, rendered once per process and reused.

    A card is a pure function of its entry, the templates and the settings, so every list
    page that shows the entry can share one rendering (and cards made ahead, `ahead`).
    """

    def __init__(self, env: jinja2.Environment, ahead: Cards | None = None) -> None:
        self.env = env
        self.ahead = ahead
        self.memo: dict[tuple[str, str], Markup] = {}

    def __call__(self, entry: Entry, heading: str = "h2") -> Markup:
        key = (entry.article.slug, heading)
        if self.ahead is not None:
            span = self.ahead.spans.get(key)
            if span is not None:
                return Markup(self.ahead.text.cut(*span).decode("utf-8"))
        html = self.memo.get(key)
        if html is None:
            html = Markup(self.env.get_template("card.html").render(entry=entry, heading=heading))
            self.memo[key] = html
        return html


# What _Context calls straight away: builtins (no attributes, so no mark) and our globals'
# classes; functions, methods and lru_cache wrappers unless they carry Jinja's mark.
_PLAIN_CALLABLES = frozenset({BuiltinFunctionType, i18n.Translator, CardCache})
_MARKABLE = frozenset({FunctionType, MethodType, type(lru_cache(maxsize=1)(len))})


def _html_time(moment: datetime | date) -> str:
    """A `<time datetime>` value: HTML allows at most three digits of a second's fraction."""
    if isinstance(moment, datetime) and moment.microsecond:
        return moment.isoformat(timespec="milliseconds")
    return moment.isoformat()


def json_ld(data: object) -> Markup:
    """JSON for a <script type="application/ld+json">: < > & escaped so no text closes it."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text)


def score_scale(value: int, low: int, high: int) -> list[bool]:
    """One flag per step above the scale's minimum: filled up to value."""
    return [step <= value for step in range(low + 1, high + 1)]


def _site(env: jinja2.Environment) -> SiteConfig:
    config = env.globals["site"]
    assert isinstance(config, SiteConfig)
    return config


def _translator(env: jinja2.Environment) -> i18n.Translator:
    translator = env.globals["t"]
    assert isinstance(translator, i18n.Translator)
    return translator


Renderer = Callable[[Page, jinja2.Environment], bytes]

# Pages whose template names one of these are not Jinja templates but code.
RENDERERS: dict[str, Renderer] = {
    "atom": lambda page, env: feeds.atom(page.data, _site(env), _translator(env)),
    "jsonfeed": lambda page, env: feeds.json_feed(page.data, _site(env), _translator(env)),
    # Issue 9: an edition's email.html (template, then CSS inlined) and /editions/feed.xml.
    "edition-email": lambda page, env: editions.email_html(page.data, env, page),
    "editions-atom": lambda page, env: editions.atom(page.data, _site(env), _translator(env)),
}


def render_page(page: Page, env: jinja2.Environment) -> bytes:
    """Render one page to bytes; a pure function of the page, the templates and the settings."""
    special = RENDERERS.get(page.template)
    if special is not None:
        return special(page, env)
    template = _select(env, _template_names(page))
    return page_bytes(template.render(page=page.data, meta=page), template)


def _select(env: jinja2.Environment, names: tuple[str, ...]) -> jinja2.Template:
    """The first of names that exists, found once per environment (_Environment.chosen)."""
    if not isinstance(env, _Environment):
        return env.select_template(names)
    template = env.chosen.get(names)
    if template is None:
        template = env.chosen[names] = env.select_template(names)
    return template


# Templates that code renderers use, for the digest of each page's inputs.
RENDERER_TEMPLATES: dict[str, tuple[str, ...]] = {"edition-email": ("edition-email.html",)}


def page_templates(page: Page) -> tuple[str, ...]:
    """The templates a page is rendered with (their includes are found from these)."""
    if page.template in RENDERERS:
        return RENDERER_TEMPLATES.get(page.template, ())
    return _template_names(page)


def _template_names(page: Page) -> tuple[str, ...]:
    """A term page uses term-<taxonomy>.html when the site or theme has one."""
    if isinstance(page.data, TermData):
        return (f"term-{page.data.term.taxonomy.name}.html", page.template)
    return (page.template,)


def asset_digest(data: bytes) -> str:
    """The ?v= of an asset's link (the stylesheet, the script): it changes with the bytes,
    so a browser or CDN that keeps the old file fetches the new one."""
    return hashlib.sha256(data).hexdigest()[:10]
