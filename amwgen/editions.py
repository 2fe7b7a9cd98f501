"""Index -> digest editions: weekly and monthly pages, email versions and an Atom feed (issue 9).

SPEC 4: `/editions/`, `/editions/<yyyy>-w<ww>/` (ISO weeks) and `/editions/<yyyy>-<mm>/`,
periods in the site's timezone, stories ranked by significance, then novelty.
An edition is a function of the articles dated inside its period; only "what moved" also
reads the period before it, and nothing reads the build's clock but the running flag.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html import escape, unescape
from html.parser import HTMLParser
from operator import attrgetter
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import jinja2

from amwgen.feeds import new_feed
from amwgen.i18n import Translator
from amwgen.index import Entry, Index, TermLink, site_updated
from amwgen.markdown import render_markdown
from amwgen.model import Problem, RawDoc, SiteConfig
from amwgen.page import Page, TemplateFault, page_bytes
from amwgen.validate import YEARS, Checker

KINDS = ("weekly", "monthly")
NOTE_KEYS = ("title",)
WEEK_SLUG = re.compile(r"([0-9]{4})-w([0-9]{2})")
MONTH_SLUG = re.compile(r"([0-9]{4})-([0-9]{2})")
SLUG_FORMS = "yyyy-wWW for a week (2026-w47) or yyyy-mm for a month (2026-11)"
MOVED_TOPICS = 8  # topics shown in "what moved"
MOVED_PLAYERS = 5  # most active players shown
FEED_SIZE = 20  # finished editions in /editions/feed.xml
FEED_PATH = "/editions/feed.xml"
# A URL with a scheme (https:, mailto:): not relative.
LINK_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
# What might be a relative href or src in a page's bytes with ASCII lowered, in any quoting
# (text too: only a hint; str.lower would turn the Kelvin sign into a "k"). One pattern a
# name, which the regex engine finds by its letters: a month's email is scanned in 0.4 ms,
# where one case-blind pattern for both names took 6 ms (issue 8: every email of a clean
# build is scanned).
MAYBE_RELATIVE = tuple(
    re.compile(name + rb"""\s*=\s*(?:["'](?![a-z][a-z0-9+.-]*:)|(?!["'a-z][a-z0-9+.-]*:))""")
    for name in (b"href", b"src")
)
# An attribute of a start tag, as the HTML standard's tokenizer reads it: a quoted value runs
# to its closing quote, newlines and all; an unquoted one to HTML's whitespace (only these
# five: not \s, which takes a no-break space for one) or ">".
TAG_ATTR = re.compile(
    r"""[\t\n\f\r /]*(?P<name>[^\t\n\f\r />][^\t\n\f\r /=>]*)"""
    r"""(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?P<value>"[^"]*"|'[^']*'|(?!["'])[^\t\n\f\r >]*))?"""
)
# What an unquoted value cannot hold: a resolved link with one of these is left as written.
UNQUOTED_UNSAFE = re.compile(r"""[\t\n\f\r "'=<>`]""")
MARKDOWN_LINK = re.compile(r"\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:)([^)\s]*)")
MONTHS = ("January", "February", "March", "April", "May", "June") + (
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# --- data ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """An ISO week or a calendar month in the site's timezone: [start, end)."""

    kind: str  # "weekly" | "monthly"
    slug: str  # "2026-w47" | "2026-11"
    start: datetime  # midnight of the first day, site timezone
    end: datetime  # midnight after the last day

    @property
    def url(self) -> str:
        return f"/editions/{self.slug}/"

    @property
    def last_day(self) -> date:
        return self.end.date() - timedelta(days=1)

    @property
    def title(self) -> str:
        """ "Week 47, 2026" or "November 2026"."""
        if self.kind == "weekly":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year}"
        return f"{MONTHS[self.start.month - 1]} {self.start.year}"

    @property
    def noun(self) -> str:
        return "week" if self.kind == "weekly" else "month"


@dataclass(frozen=True, slots=True)
class EditionNote:
    """An editor's note: content/editions/<slug>.md (title and body)."""

    path: Path = field(repr=False)  # as RawDoc's
    slug: str
    title: str  # "" when not given: the theme shows its translation table's editors_note
    body_html: str
    body_text: str  # the Markdown source with absolute link targets, for email.txt


@dataclass(frozen=True, slots=True)
class Group:
    """Stories under their first topic; topic None holds the stories without one."""

    topic: TermLink | None
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class TopicMove:
    topic: TermLink
    count: int  # stories on this topic in the edition
    previous: int  # ... and in the period before

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True, slots=True)
class PlayerCount:
    player: TermLink
    count: int


@dataclass(frozen=True, slots=True)
class Moved:
    """Issue 9: "what moved", computed from the data against the period before."""

    previous: Period
    previous_count: int  # stories in the period before (0: no edition there)
    topics: tuple[TopicMove, ...]
    players: tuple[PlayerCount, ...]
    top_count: int  # stories at the scale's maximum significance
    top_score: int


@dataclass(frozen=True, slots=True)
class Edition:
    period: Period
    entries: tuple[Entry, ...]  # every story of the period, ranked
    lead: tuple[Entry, ...]  # the first `editions.top` of them
    groups: tuple[Group, ...]  # the lead, grouped by first topic
    rest: tuple[Entry, ...]  # the others, ranked
    previous: Period  # the period before, which "what moved" compares with
    previous_count: int  # its stories (0: no edition there)
    # Its stories per topic, by URL: all that "what moved" reads of it, so that an edit of a
    # story there that leaves its topics as they were leaves this edition's pages alone.
    previous_topics: tuple[tuple[TermLink, int], ...]
    top_score: int  # the scale's maximum significance
    running: bool  # the period is not over at the build's "now"
    note: EditionNote | None
    # What moved, made when a page first shows it (issue 8: a build that only keys the
    # editions, to find that one of them changed, counts no players): a function of the
    # fields above, so neither shown in the repr nor part of a page's digest, and made
    # anew for a copy (init=False: dataclasses.replace does not carry it over).
    _moved: list[Moved] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def moved(self) -> Moved:
        """Issue 9: "what moved" against the period before."""
        if not self._moved:
            self._moved.append(
                what_moved(
                    self.entries,
                    self.previous,
                    self.previous_count,
                    self.previous_topics,
                    self.top_score,
                )
            )
        return self._moved[0]

    @property
    def url(self) -> str:
        return self.period.url

    @property
    def updated(self) -> datetime:
        """When the edition last changed: its end, or a later change to one of its stories."""
        return max((self.period.end, *(e.article.lastmod for e in self.entries)))


@dataclass(frozen=True, slots=True)
class EditionPage:
    """Data of an edition's page and of its email versions."""

    edition: Edition
    newer: Period | None  # the neighbours of the same kind, for navigation
    older: Period | None

    @property
    def entries(self) -> tuple[Entry, ...]:
        # The sitemap takes a page's lastmod from its entries.
        return self.edition.entries


@dataclass(frozen=True, slots=True)
class EditionsIndex:
    """Data of /editions/: each kind's editions, newest first."""

    kinds: tuple[tuple[str, tuple[Edition, ...]], ...]


@dataclass(frozen=True, slots=True)
class EditionsFeed:
    path: str
    page: str
    editions: tuple[Edition, ...]  # finished ones, newest first
    updated: datetime


# --- periods -----------------------------------------------------------------------------


def period_of(kind: str, day: date, zone: ZoneInfo) -> Period:
    """The ISO week or month holding a day of the site's calendar."""
    if kind == "weekly":
        year, week, weekday = day.isocalendar()
        first = day - timedelta(days=weekday - 1)
        return _period(kind, f"{year}-w{week:02d}", first, first + timedelta(days=7), zone)
    first = day.replace(day=1)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return _period(kind, f"{first.year}-{first.month:02d}", first, after, zone)


def _period(kind: str, slug: str, first: date, after: date, zone: ZoneInfo) -> Period:
    # Midnight in the zone from the calendar date, so a DST change never shifts a boundary.
    return Period(
        kind, slug, datetime.combine(first, time(), zone), datetime.combine(after, time(), zone)
    )


def parse_slug(slug: str, zone: ZoneInfo) -> Period | None:
    """The period an edition slug names, or None if it names none (2026-w54, 2026-13)."""
    match = WEEK_SLUG.fullmatch(slug) or MONTH_SLUG.fullmatch(slug)
    if match is None or not YEARS[0] <= int(match[1]) <= YEARS[1]:
        return None  # the years an article's date may have (validate.YEARS)
    if match.re is WEEK_SLUG:
        year, week = int(match[1]), int(match[2])
        try:
            first = date.fromisocalendar(year, week, 1)
        except ValueError:
            return None
        return period_of("weekly", first, zone)
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        return None
    return period_of("monthly", date(year, month, 1), zone)


def previous_period(period: Period, zone: ZoneInfo) -> Period:
    return period_of(period.kind, period.start.date() - timedelta(days=1), zone)


# --- building editions -------------------------------------------------------------------


def rank(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """Issue 9: significance desc, then novelty desc, then date desc, then slug (the site
    order, which an entry's rank is its place in)."""
    return tuple(
        sorted(entries, key=lambda e: (-e.article.significance, -e.article.novelty, e.rank))
    )


def group_by_topic(ranked: tuple[Entry, ...]) -> tuple[Group, ...]:
    """Groups by first topic in the order of their best story; topic-less stories last."""
    groups: dict[TermLink | None, list[Entry]] = {}
    for entry in ranked:
        topics = entry.terms("topics")
        groups.setdefault(topics[0] if topics else None, []).append(entry)
    ordered = [Group(t, tuple(es)) for t, es in groups.items() if t is not None]
    if None in groups:
        ordered.append(Group(None, tuple(groups[None])))
    return tuple(ordered)


def what_moved(
    entries: tuple[Entry, ...],
    previous: Period,
    previous_count: int,
    previous_topics: tuple[tuple[TermLink, int], ...],
    top_score: int,
) -> Moved:
    """Stories per topic against the period before (its stories per topic given), the most
    active players, top stories."""
    now_counts = _counts(entries, "topics")
    then_counts = Counter(dict(previous_topics))
    topics = [
        TopicMove(link, now_counts[link], then_counts[link]) for link in {*now_counts, *then_counts}
    ]
    topics.sort(key=lambda m: (-m.count, -m.previous, m.topic.name.casefold(), m.topic.url))
    players = sorted(
        (PlayerCount(link, n) for link, n in _counts(entries, "players").items()),
        key=lambda p: (-p.count, p.player.name.casefold(), p.player.url),
    )
    top_count = sum(1 for e in entries if e.article.significance == top_score)
    return Moved(
        previous,
        previous_count,
        tuple(topics[:MOVED_TOPICS]),
        tuple(players[:MOVED_PLAYERS]),
        top_count,
        top_score,
    )


def topic_counts(entries: Iterable[Entry]) -> tuple[tuple[TermLink, int], ...]:
    """How many of entries are on each topic, by the topic's URL."""
    counts = _counts(entries, "topics")
    return tuple(sorted(counts.items(), key=lambda item: item[0].url))


def _counts(entries: Iterable[Entry], taxonomy: str) -> Counter[TermLink]:
    # Counted by URL: a term's URL names it, and a string hashes much faster than a link.
    links = [link for e in entries for link in e.terms(taxonomy)]
    urls = list(map(_URL, links))
    link_of = dict(zip(urls, links, strict=True))
    return Counter({link_of[url]: n for url, n in Counter(urls).items()})


_URL = attrgetter("url")


def build_editions(
    index: Index, kind: str, notes: tuple[EditionNote, ...] = (), days: list[date] | None = None
) -> tuple[Edition, ...]:
    """Every non-empty edition of one kind, newest first.

    days: each entry's day in the site's timezone (story_days), when the caller has them."""
    zone = ZoneInfo(index.config.timezone)
    days = story_days(index, zone) if days is None else days
    by_day = _periods_by_day(days, kind, zone)
    periods = {period.slug: period for period in by_day.values()}
    members: dict[str, list[Entry]] = {}
    for entry, day in zip(index.entries, days, strict=True):
        members.setdefault(by_day[day].slug, []).append(entry)
    by_slug = {n.slug: n for n in notes}
    config = index.config
    editions = []
    for slug, found in members.items():
        period = periods[slug]
        before = previous_period(period, zone)
        ranked = rank(tuple(found))
        lead = ranked[: config.editions.top]
        earlier = members.get(before.slug, [])
        editions.append(
            Edition(
                period=period,
                entries=ranked,
                lead=lead,
                groups=group_by_topic(lead),
                rest=ranked[config.editions.top :],
                previous=before,
                previous_count=len(earlier),
                previous_topics=topic_counts(earlier),
                top_score=config.significance.max,
                running=index.now < period.end,
                note=by_slug.get(period.slug),
            )
        )
    return tuple(sorted(editions, key=lambda e: e.period.start, reverse=True))


def enabled_kinds(config: SiteConfig) -> tuple[str, ...]:
    """SPEC 2: site.yaml `editions: {weekly, monthly}` switches each kind."""
    flags = {"weekly": config.editions.weekly, "monthly": config.editions.monthly}
    return tuple(kind for kind in KINDS if flags[kind])


@dataclass(frozen=True, slots=True)
class EditionsPlan:
    """The editions' pages, in the parts that each depend on as little as they can (issue 8:
    an edit outside a week leaves that week's pages be): render.plan_groups makes the groups."""

    index: Page  # /editions/
    editions: tuple[EditionPage, ...]  # each: edition_pages
    feed: Page  # /editions/feed.xml


def story_periods(
    index: Index, kinds: tuple[str, ...], days: list[date] | None = None
) -> list[Period]:
    """The periods of these kinds in which some story is dated: kind by kind, newest first,
    as plan_editions orders the editions (days: story_days, when the caller has them)."""
    zone = ZoneInfo(index.config.timezone)
    days = story_days(index, zone) if days is None else days
    found: list[Period] = []
    for kind in kinds:
        periods = {p.slug: p for p in _periods_by_day(days, kind, zone).values()}
        found += sorted(periods.values(), key=lambda p: p.start, reverse=True)
    return found


def story_days(index: Index, zone: ZoneInfo) -> list[date]:
    """Each entry's day in the site's calendar, in the order of the entries."""
    return [entry.article.date.astimezone(zone).date() for entry in index.entries]


def _periods_by_day(days: Iterable[date], kind: str, zone: ZoneInfo) -> dict[date, Period]:
    """Each day -> its period of that kind, made once per day (days repeat, and a Period is
    slow to make)."""
    return {day: period_of(kind, day, zone) for day in set(days)}


def plan_editions(
    index: Index, notes: tuple[EditionNote, ...] = (), days: list[date] | None = None
) -> EditionsPlan | None:
    """SPEC 4: /editions/, each edition with email.html and email.txt, /editions/feed.xml;
    None when no kind of edition is on."""
    kinds = enabled_kinds(index.config)
    if not kinds:
        return None
    days = story_days(index, ZoneInfo(index.config.timezone)) if days is None else days
    built = tuple((kind, build_editions(index, kind, notes, days)) for kind in kinds)
    pages = []
    for _, editions in built:
        for i, edition in enumerate(editions):
            newer = editions[i - 1].period if i > 0 else None
            older = editions[i + 1].period if i + 1 < len(editions) else None
            pages.append(EditionPage(edition, newer, older))
    finished = sorted(
        (e for _, editions in built for e in editions if not e.running),
        key=lambda e: (e.period.end, e.period.kind),
        reverse=True,
    )[:FEED_SIZE]
    updated = max((e.updated for e in finished), default=site_updated(index))  # never the clock
    feed = EditionsFeed(FEED_PATH, "/editions/", tuple(finished), updated)
    return EditionsPlan(
        Page("/editions/", "editions.html", EditionsIndex(built), "Editions"),
        tuple(pages),
        Page(feed.path, "editions-atom", feed),
    )


def edition_pages(config: SiteConfig, data: EditionPage) -> tuple[Page, ...]:
    edition = data.edition
    title = f"{edition.period.title}"
    count = len(edition.entries)
    description = f"{config.title}: {count} {'story' if count == 1 else 'stories'}, ranked."
    url = edition.url
    return (
        Page(url, "edition.html", data, title, description),
        Page(f"{url}email.html", "edition-email", data, title, description),
        Page(f"{url}email.txt", "edition-email.txt", data, title, description),
    )


# --- editor's notes ----------------------------------------------------------------------


def validate_notes(
    docs: tuple[RawDoc, ...], config: SiteConfig
) -> tuple[tuple[EditionNote, ...], list[Problem]]:
    """content/editions/<slug>.md -> notes; a bad file name or unknown key is a located error."""
    zone = ZoneInfo(config.timezone)
    notes: list[EditionNote] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for doc in docs:
        note, found = _note(doc, config, zone)
        problems += found
        if note is None:
            continue
        if note.slug in seen:
            message = f"'{note.slug}' also has a note in {seen[note.slug]}"
            problems.append(Problem(doc.path, 1, None, message))
            continue
        seen[note.slug] = doc.path
        notes.append(note)
    return tuple(notes), problems


def _note(
    doc: RawDoc, config: SiteConfig, zone: ZoneInfo
) -> tuple[EditionNote | None, list[Problem]]:
    check = Checker(doc)
    check.known_keys(NOTE_KEYS)
    title = check.text("title")
    slug = doc.rel.rsplit("/", 1)[-1].removesuffix(".md")
    period = parse_slug(slug, zone)
    if period is None:
        check.report(None, f"'{slug}' is not an edition: name the file {SLUG_FORMS}", 1)
    elif period.kind not in enabled_kinds(config):
        message = (
            f"{period.kind} editions are off in site.yaml (editions: {{{period.kind}: false}})"
        )
        check.problems.append(Problem(doc.path, 1, None, message, "warning"))
    errors = [p for p in check.problems if p.severity == "error"]
    if errors or period is None:
        return None, check.problems
    body = render_markdown(doc.body, config.unsafe_html).html
    depth = html_depth(body) if config.unsafe_html else 0
    if depth > EMAIL_DEPTH:
        # css-inline (Rust) recurses once for each level, and at some ten thousand levels
        # it overflowed its stack: the build died of a segmentation fault, unsaid.
        message = f"its HTML is nested {depth} elements deep: the email holds {EMAIL_DEPTH}"
        check.report(None, message, doc.body_line)
        return None, check.problems
    if config.unsafe_html and "style" in body.lower():
        # Its HTML goes into the email, whose CSS is inlined: a style css-inline cannot
        # read (`style="color"`, pasted from a mail tool) failed the build with a traceback.
        problem = inline_problem(f"<style>*{{}}</style>{body}")  # a rule for every element
        if problem is not None:
            check.report(None, f"its HTML cannot go into the email: {problem}", doc.body_line)
            return None, check.problems
    text = absolute_markdown(doc.body.strip(), config.absolute_url(period.url))
    note = EditionNote(doc.path, slug, title or "", body, text)
    return note, check.problems


EMAIL_DEPTH = 1000  # elements within elements, at most, in a note's HTML


class _Depth(HTMLParser):
    """How deep elements go, at least as deep as in the tree a browser (or css-inline) makes:
    an end tag closes the elements open since its start tag, one with none open is passed
    over, `<div/>` opens a div (only a void element or one in SVG has no content), and an
    element a browser closes by itself (`<p>` at the next) counts as open (more, not less)."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link"})
    VOID |= {"meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.opened: Counter[str] = Counter()
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)
            self.opened[tag] += 1
            self.deepest = max(self.deepest, len(self.stack))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # `<div/>` is `<div>` in HTML

    def handle_endtag(self, tag: str) -> None:
        if self.opened[tag]:
            while (closed := self.stack.pop()) != tag:
                self.opened[closed] -= 1
            self.opened[tag] -= 1


def html_depth(html: str) -> int:
    """The deepest nesting of elements in html, as _Depth counts it."""
    parser = _Depth()
    parser.feed(html)
    parser.close()
    return parser.deepest


def unused_notes(index: Index, notes: tuple[EditionNote, ...]) -> list[Problem]:
    """Warnings for notes whose period has no story: issue 9, empty periods make no page."""
    if not notes:
        return []
    slugs = {period.slug for period in story_periods(index, KINDS)}
    return [
        # "published": a draft's or a story's dated after now does not count (yet).
        Problem(
            n.path,
            1,
            None,
            f"no published story is dated in {n.slug}, so it has no edition",
            "warning",
        )
        for n in notes
        if n.slug not in slugs
    ]


# --- rendering: email HTML and Atom ------------------------------------------------------


def email_html(data: EditionPage, env: jinja2.Environment, meta: Page) -> bytes:
    """The email version: the template's <style> inlined into style attributes, then dropped."""
    template = env.get_template("edition-email.html")
    html = template.render(page=data, meta=meta)
    config = env.globals["site"]
    assert isinstance(config, SiteConfig)
    # The links first: in what css-inline writes, an editor's note with `href="` in its
    # text and `<` in an image's alt would read as an attribute and then as markup. They
    # are resolved as the note's own page, the edition's, reads them (as in email.txt): a
    # link to `?page=2` or `#fn1` is the edition's, not email.html's.
    base = config.absolute_url(data.edition.url)
    linked = absolute_links(html, base)
    try:
        inlined = inline_css(linked)
    except _inline_error() as err:  # the template's CSS (a note's is checked with it: _note)
        name = template.name or "edition-email.html"
        raise TemplateFault(f"its CSS cannot be inlined: {err}", template.filename, name) from None
    return page_bytes(inlined, template)


def _inliner() -> Any:
    """css-inline, offline: no stylesheet is fetched, no <style>/<link> or at-rule is kept."""
    import css_inline  # only editions' email pages need it, and it takes a while to load

    return css_inline.CSSInliner(
        keep_style_tags=False,
        keep_link_tags=False,
        keep_at_rules=False,
        load_remote_stylesheets=False,
    )


def inline_css(html: str) -> str:
    """html with its CSS inlined (_inliner)."""
    return str(_inliner().inline(html))


def inline_problem(html: str) -> str | None:
    """Why css-inline cannot inline html's CSS (a style attribute it cannot read, on an
    element a rule applies to), or None."""
    try:
        inline_css(html)
    except _inline_error() as err:
        return str(err)
    return None


def _inline_error() -> type[Exception]:
    import css_inline

    error: type[Exception] = css_inline.InlineError
    return error


def absolute_links(html: str, base: str) -> str:
    """Issue 9: a mail has no base URL, so relative href/src (an editor's note) are resolved.

    The start tags are found by the standard library's HTML parser (raw HTML of a note, with
    `unsafe_html`, may quote an attribute otherwise, or not at all, or write it in capitals);
    in each that holds such a link, only that value is written again, as it was written
    (its entities as they were) after the base, in its own quotes; no text is touched."""
    lowered = html.encode("utf-8", "surrogatepass").lower()  # ASCII letters only
    if not any(pattern.search(lowered) for pattern in MAYBE_RELATIVE):
        return html  # the theme's links are absolute: most mails hold none to resolve (7 ms)
    tags = _LinkTags()
    tags.feed(html)
    tags.close()
    starts = [0]
    starts += [i + 1 for i, c in enumerate(html) if c == "\n"]
    parts, at = [], 0
    for line, column, text, attributes in tags.found:
        offset = starts[line - 1] + column
        if not html.startswith(text, offset):  # never, as the parser reads: left as it is
            continue
        parts += [html[at:offset], _tag_resolved(text, base, attributes)]
        at = offset + len(text)
    return "".join([*parts, html[at:]])


def _tag_resolved(text: str, base: str, attributes: list[tuple[str, str | None]]) -> str:
    """A start tag's text with each relative href or src value resolved against base, or as
    it is when its attributes, walked here, are not those the parser found (attributes): a
    value is only written again where the parser read it (a review: a newline in an alt let
    the walk take text inside a value for an attribute)."""
    name_end = re.match(r"<[^\s/>]+", text)
    at = name_end.end() if name_end else 0
    walked: list[tuple[str, str | None]] = []
    links: list[tuple[int, int, str, str]] = []  # a value's span, its quote and its text
    while (match := TAG_ATTR.match(text, at)) is not None:
        name, raw = match["name"].lower(), match["value"]
        quote = raw[0] if raw and raw[0] in ("'", '"') else ""  # "": unquoted, or no value
        value = raw[1:-1] if quote else raw
        walked.append((name, unescape(value) if value else value))
        if value and _relative(name, value) and _relative(name, unescape(value)):
            links.append((match.start("value"), match.end("value"), quote, value))
        at = match.end()
    if walked != attributes:
        return text
    parts, at = [], 0
    for start, end, quote, value in links:
        # The value as written (its entities as they were) after the base, in the quotes it
        # had, or none: what the standard library's parser takes for a tag may be text to a
        # browser (in a <textarea>, a comment, another attribute's value), where a quote
        # added, or a "<" or ">" that urljoin makes by dropping a tab, would end it.
        joined = _joined(base, value)
        if not quote and UNQUOTED_UNSAFE.search(joined):
            return text
        if quote:
            joined = joined.replace(quote, "&quot;" if quote == '"' else "&#39;")
            joined = joined.replace("<", "&lt;").replace(">", "&gt;")
        parts += [text[at:start], f"{quote}{joined}{quote}"]
        at = end
    return "".join([*parts, text[at:]])


class _LinkTags(HTMLParser):
    """Where the start tags with a relative href or src are: line, column and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, int, str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if any(_relative(name, value) for name, value in attrs):
            text = self.get_starttag_text()
            if text is not None:
                self.found.append((*self.getpos(), text, attrs))

    handle_startendtag = handle_starttag


def _relative(name: str, value: str | None) -> bool:
    """Whether an attribute is an href or src with no scheme (a link to resolve)."""
    return name in ("href", "src") and value is not None and not LINK_SCHEME.match(value)


def absolute_markdown(text: str, base: str) -> str:
    """Markdown with inline link and image targets made absolute, for a plain-text mail."""

    def resolve(match: re.Match[str]) -> str:
        return f"]({_joined(base, match[1])}"

    return MARKDOWN_LINK.sub(resolve, text)


def _joined(base: str, url: str) -> str:
    """url made absolute against base; as written when it cannot be (`//[a`, a host that
    is no URL's)."""
    # urljoin splits ";parameters" off each segment, as RFC 1808 did: it dropped an empty
    # one (`page;` became `.../page`) and took `..;` for `..`. RFC 3986, which browsers
    # follow, has no parameters: the ";" are kept out of its sight.
    hidden = ";" in url and _STAND_IN not in url + base
    if hidden:
        base, url = base.replace(";", _STAND_IN), url.replace(";", _STAND_IN)
    try:
        joined = urljoin(base, url)
    except ValueError:
        joined = url
    return joined.replace(_STAND_IN, ";") if hidden else joined


_STAND_IN = "\ue000"  # a private-use character: no special meaning to urljoin, nor stripped


def atom(data: EditionsFeed, config: SiteConfig, t: Translator) -> bytes:
    """Issue 9: one Atom entry per finished edition, its content the edition's stories, in
    the site's language (t)."""
    title = f"{config.title}: {t('editions_title')}"
    fg = new_feed(config, title, data.path, data.page, data.updated)
    for edition in data.editions:
        url = config.absolute_url(edition.url)
        fe = fg.add_entry(order="append")
        fe.id(url)
        fe.title(f"{config.title}: {period_title(t, edition.period)}")
        fe.link(href=url, rel="alternate")
        fe.published(edition.period.end)
        fe.updated(edition.updated)
        fe.summary(t("edition_summary", stories=t.plural("stories", len(edition.entries))))
        fe.content(feed_content(edition, config, t), type="html")
    return fg.atom_str(pretty=True)  # type: ignore[no-any-return]


def period_title(t: Translator, period: Period) -> str:
    """An edition's title in the site's language: "Week 47, 2026", "November 2026"."""
    if period.kind == "weekly":
        year, week, _ = period.start.isocalendar()
        return t("week_title", week=week, year=year)
    return t.month_text(period.start)


def feed_content(edition: Edition, config: SiteConfig, t: Translator) -> str:
    """The stories of an edition as HTML for a feed reader: groups, then the rest."""
    parts: list[str] = []
    if edition.note:
        # Its relative links as its page reads them (as in the emails), not the feed's.
        body = absolute_links(edition.note.body_html, config.absolute_url(edition.url))
        title = edition.note.title or t("editors_note")
        parts.append(f"<h2>{escape(title)}</h2>{body}")
    for group in edition.groups:
        name = group.topic.name if group.topic else t("other_stories")
        items = "".join(_feed_item(e, config, t) for e in group.entries)
        parts.append(f"<h2>{escape(name)}</h2><ul>{items}</ul>")
    if edition.rest:
        items = "".join(_feed_item(e, config, t) for e in edition.rest)
        parts.append(f"<h2>{escape(t('also_this.' + edition.period.noun))}</h2><ul>{items}</ul>")
    return "\n".join(parts)


def _feed_item(entry: Entry, config: SiteConfig, t: Translator) -> str:
    a = entry.article
    scores = t(
        "significance_novelty",
        s=a.significance,
        smax=config.significance.max,
        n=a.novelty,
        nmax=config.novelty.max,
    )
    summary = f" {escape(a.summary)}" if a.summary else ""
    link = f'<a href="{escape(config.absolute_url(a.url))}">{escape(a.title)}</a>'
    return f"<li>{link} ({escape(scores)}).{summary}</li>"
