"""Content -> Index: the selection of articles, taxonomies with their terms, connections."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from amwgen.model import Article, Content, PlainPage, Problem, Profile, SiteConfig
from amwgen.slug import slugify


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """One kind of term; every taxonomy goes through the same code, configured by this row."""

    name: str  # URL segment: /<name>/<slug>/
    field: str  # the Article attribute holding its raw names
    singular: str
    title: str
    weight: int = 0  # weight in Related News (0: not used)
    feed: bool = False
    timeline: bool = False
    profiles: bool = False
    upper: bool = False  # SPEC 3: regions are shown upper-case


TAXONOMIES = (
    Taxonomy(
        "topics", "topics", "topic", "Topics", weight=3, feed=True, timeline=True, profiles=True
    ),
    Taxonomy("players", "players", "player", "Players", weight=2, timeline=True, profiles=True),
    Taxonomy("tags", "tags", "tag", "Tags", weight=1, feed=True),
    Taxonomy("categories", "category", "category", "Categories"),
    Taxonomy("regions", "region", "region", "Regions", upper=True),
)
WEIGHTED = tuple(t for t in TAXONOMIES if t.weight)
RELATED_COUNT = 5
NEWS_WINDOW = timedelta(hours=48)  # SPEC 4: the Google News sitemap's span before "now"
SCORES_WINDOW = timedelta(days=30)  # issue 4: /scores/ lists the top stories of this span
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONNECTS_WINDOW = 5
# Related News: a term shared by more articles than this contributes only its newest ones.
RELATED_POSTINGS_LIMIT = 200


@dataclass(frozen=True, slots=True)
class TermLink:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Entry:
    """An article with its terms resolved to display names and URLs, per taxonomy."""

    article: Article
    links: tuple[tuple[str, tuple[TermLink, ...]], ...]
    # The place in the site order (newest first, then slug): used to rank, never shown, so
    # left out of the repr that page digests are made from.
    rank: int = field(default=0, repr=False)

    def terms(self, taxonomy: str) -> tuple[TermLink, ...]:
        for name, links in self.links:
            if name == taxonomy:
                return links
        return ()


@dataclass(frozen=True, slots=True)
class PlayerStat:
    """One row of a topic's player map."""

    player: TermLink
    count: int
    latest: Entry
    novelty: float
    significance: float


@dataclass(frozen=True, slots=True)
class Term:
    taxonomy: Taxonomy
    slug: str
    name: str
    entries: tuple[Entry, ...]  # newest first
    profile: Profile | None = None

    @property
    def url(self) -> str:
        return f"/{self.taxonomy.name}/{self.slug}/"

    @property
    def link(self) -> TermLink:
        return TermLink(self.name, self.url)

    @property
    def info(self) -> TermInfo:
        return TermInfo(self.taxonomy, self.slug, self.name, len(self.entries), self.profile)


@dataclass(frozen=True, slots=True)
class TermInfo:
    """A term as its pages show it: everything but the list of its entries."""

    taxonomy: Taxonomy
    slug: str
    name: str
    count: int  # how many published articles name it
    profile: Profile | None = None

    @property
    def url(self) -> str:
        return f"/{self.taxonomy.name}/{self.slug}/"


@dataclass(frozen=True, slots=True)
class Connection:
    entry: Entry
    current: bool


@dataclass(frozen=True, slots=True)
class Related:
    entry: Entry
    score: int
    shares: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Index:
    config: SiteConfig
    now: datetime
    entries: tuple[Entry, ...]  # newest first, then slug
    terms: tuple[tuple[Taxonomy, tuple[Term, ...]], ...]  # terms sorted by name
    pages: tuple[PlainPage, ...]

    def taxonomy_terms(self, name: str) -> tuple[Term, ...]:
        for taxonomy, terms in self.terms:
            if taxonomy.name == name:
                return terms
        return ()


def select_articles(
    articles: Iterable[Article], now: datetime, drafts: bool, future: bool
) -> tuple[Article, ...]:
    """Articles to publish, newest first then slug (SPEC 3: drafts and future ones left out)."""
    chosen = [a for a in articles if (drafts or not a.draft) and (future or a.date <= now)]
    return tuple(sorted(chosen, key=lambda a: (-a.date.timestamp(), a.slug)))


def build_index(
    content: Content, config: SiteConfig, now: datetime, drafts: bool = False, future: bool = False
) -> tuple[Index, list[Problem]]:
    """Resolve terms of the selected articles into taxonomies; alias clashes are problems."""
    articles = select_articles(content.articles, now, drafts, future)
    problems: list[Problem] = []
    resolvers = [_resolver(t, content.profiles_of(t.name), problems) for t in TAXONOMIES]
    slugs, spellings = _resolve_all(articles, resolvers)
    names = [_display_names(counts) for counts in spellings]
    for taxonomy, named in zip(TAXONOMIES, names, strict=True):
        for profile in content.profiles_of(taxonomy.name):
            named[profile.slug] = profile.title
    # One link per term, shared by its entries.
    links = [
        {s: TermLink(n, f"/{t.name}/{s}/") for s, n in named.items()}
        for t, named in zip(TAXONOMIES, names, strict=True)
    ]
    entries, members = _entries(articles, slugs, links)
    terms = tuple(
        (t, _terms(t, members[i], names[i], content.profiles_of(t.name)))
        for i, t in enumerate(TAXONOMIES)
    )
    return Index(config, now, entries, terms, content.pages), problems


Slugs = tuple[tuple[str, ...], ...]  # an article's term slugs, taxonomy by taxonomy


def _resolve_all(
    articles: tuple[Article, ...], resolvers: list[_Resolver]
) -> tuple[list[Slugs], list[dict[str, dict[str, int]]]]:
    """Each article's term slugs per taxonomy (each once, in its order), and per taxonomy
    how many times each spelling names each slug (SPEC 3: the display name is the one most
    articles use). One pass over ten thousand articles' fifty thousand names."""
    fields = [t.field for t in TAXONOMIES]
    used: list[list[str]] = [[] for _ in TAXONOMIES]  # every name as often as it is given
    found: list[Slugs] = []
    for article in articles:
        own: list[tuple[str, ...]] = []
        for key, resolve, names in zip(fields, resolvers, used, strict=True):
            given = article.values(key)
            known = resolve.known
            row = [known.get(name) or resolve(name) for name in given]
            own.append(tuple(dict.fromkeys(row)) if len(row) > 1 else tuple(row))
            names += given
        found.append(tuple(own))
    spellings: list[dict[str, dict[str, int]]] = []
    for taxonomy, resolve, names in zip(TAXONOMIES, resolvers, used, strict=True):
        counts: dict[str, dict[str, int]] = {}
        for name, n in Counter(names).items():
            shown = name.upper() if taxonomy.upper else name
            seen = counts.setdefault(resolve.known[name], {})
            seen[shown] = seen.get(shown, 0) + n
        spellings.append(counts)
    return found, spellings


def _entries(
    articles: tuple[Article, ...], slugs: list[Slugs], links: list[dict[str, TermLink]]
) -> tuple[tuple[Entry, ...], list[dict[str, list[Entry]]]]:
    """The entries in the site order (rank: the place in it), and each taxonomy's terms'
    entries by slug."""
    names = [t.name for t in TAXONOMIES]
    members: list[dict[str, list[Entry]]] = [defaultdict(list) for _ in TAXONOMIES]
    entries = []
    for rank, (article, own) in enumerate(zip(articles, slugs, strict=True)):
        resolved = [
            (name, tuple([by_slug[s] for s in mine]))
            for name, by_slug, mine in zip(names, links, own, strict=True)
        ]
        entry = Entry(article, tuple(resolved), rank)
        entries.append(entry)
        for member, mine in zip(members, own, strict=True):
            for slug in mine:
                member[slug].append(entry)
    return tuple(entries), members


class _Resolver:
    """Maps a raw term name to its canonical slug (aliases of profiles included)."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self.known: dict[str, str] = {}  # the same names recur across thousands of articles

    def __call__(self, name: str) -> str:
        found = self.known.get(name)
        if found is None:
            slug = slugify(name)
            found = self.known[name] = self.aliases.get(slug, slug)
        return found


def _resolver(
    taxonomy: Taxonomy, profiles: tuple[Profile, ...], problems: list[Problem]
) -> _Resolver:
    owner: dict[str, Profile] = {}
    for profile in profiles:
        title_line, aliases_line = profile.lines
        named = [(profile.slug, None, 1), (profile.title, "title", title_line)]
        named += [(alias, "aliases", aliases_line) for alias in profile.aliases]
        for name, key, line in named:
            alias = slugify(name)
            if not alias:  # a title such as "🤖" names no term (validate reports such aliases)
                continue
            other = owner.get(alias)
            if other is not None and other.slug != profile.slug:
                message = f"'{name}' also names the {taxonomy.singular} of {other.path}"
                problems.append(Problem(profile.path, line, key, message))
            owner.setdefault(alias, profile)
    return _Resolver({alias: profile.slug for alias, profile in owner.items()})


def _display_names(spellings: dict[str, dict[str, int]]) -> dict[str, str]:
    """SPEC 3: the spelling most articles use; a tie goes to the one that sorts first."""
    return {
        slug: min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        for slug, counts in spellings.items()
    }


def _terms(
    taxonomy: Taxonomy,
    members: dict[str, list[Entry]],
    names: dict[str, str],
    profiles: tuple[Profile, ...],
) -> tuple[Term, ...]:
    by_slug = {p.slug: p for p in profiles}
    # A profile with no article yet still gets its page.
    for slug in by_slug:
        members.setdefault(slug, [])
    terms = []
    for slug, found in members.items():
        profile = by_slug.get(slug)
        name = profile.title if profile else names[slug]
        terms.append(Term(taxonomy, slug, name, tuple(found), profile))
    return tuple(sorted(terms, key=lambda t: (t.name.casefold(), t.slug)))


def timeline(term: Term) -> tuple[tuple[date, tuple[Entry, ...]], ...]:
    """A term's entries grouped by month (first day of month), newest first."""
    groups: dict[date, list[Entry]] = {}
    for entry in term.entries:
        month = entry.article.date.date().replace(day=1)
        groups.setdefault(month, []).append(entry)
    return tuple((month, tuple(items)) for month, items in groups.items())


def player_map(term: Term) -> tuple[PlayerStat, ...]:
    """Players on a term's articles: most active first, then latest story, then name."""
    by_player: dict[TermLink, list[Entry]] = defaultdict(list)
    for entry in term.entries:
        for player in entry.terms("players"):
            by_player[player].append(entry)
    stats = [
        PlayerStat(
            player=player,
            count=len(found),
            latest=found[0],
            novelty=sum(e.article.novelty for e in found) / len(found),
            significance=sum(e.article.significance for e in found) / len(found),
        )
        for player, found in by_player.items()
    ]
    return tuple(
        sorted(stats, key=lambda s: (-s.count, -s.latest.article.date.timestamp(), s.player.name))
    )


def positions(term: Term) -> dict[str, int]:
    """Article slug -> its place in the term's timeline."""
    return {e.article.slug: i for i, e in enumerate(term.entries)}


def connections(entry: Entry, topic: Term, places: dict[str, int]) -> tuple[Connection, ...]:
    """SPEC 4: a window of the first topic's timeline around the article, newest first."""
    return connected(entry, window_of(entry, topic, places))


def connected(entry: Entry, window: tuple[Entry, ...]) -> tuple[Connection, ...]:
    """A timeline window as How This Connects shows it: the article itself marked current."""
    slug = entry.article.slug
    return tuple(Connection(e, e.article.slug == slug) for e in window)


def headlines(index: Index) -> Index:
    """The index as pages other than an article's own show it: each entry's article without
    its body (body_html empty, words rounded to its reading time).

    Lists, timelines, Related News and editions show titles, summaries, scores and terms:
    they then depend only on those, and an edit of an article's body changes its own page
    and the feeds that carry it, not the pages that list it.
    """
    brief = tuple(Entry(_headline(e.article), e.links, e.rank) for e in index.entries)
    terms = tuple(
        (taxonomy, tuple(replace(t, entries=tuple([brief[e.rank] for e in t.entries])) for t in ts))
        for taxonomy, ts in index.terms
    )
    return replace(index, entries=brief, terms=terms)


def _headline(article: Article) -> Article:
    """replace(article, body_html="", words=...), without replace's cost: a copy of its
    fields (Article is a plain frozen dataclass) with those two set, ten thousand times."""
    brief = object.__new__(Article)
    fields = brief.__dict__
    fields.update(article.__dict__)
    fields["body_html"] = ""
    fields["words"] = article.read_minutes * 200
    return brief


def window_of(entry: Entry, topic: Term, places: dict[str, int]) -> tuple[Entry, ...]:
    """The entries of connections(): up to CONNECTS_WINDOW around the article."""
    items = topic.entries
    here = places.get(entry.article.slug)
    if here is None:
        return ()
    start = max(0, min(here - CONNECTS_WINDOW // 2, len(items) - CONNECTS_WINDOW))
    return items[start : start + CONNECTS_WINDOW]


@dataclass(frozen=True)  # not slotted: bits is cached on it
class Posting:
    """One weighted term's newest articles: candidates for Related News."""

    url: str
    weight: int
    entries: tuple[Entry, ...]  # newest first, at most RELATED_POSTINGS_LIMIT
    # The entries' places in the site order. Left out of the value that page digests are
    # made from (repr=False), like Entry.rank: their order is the entries'.
    ranks: tuple[int, ...] = field(default=(), repr=False)

    @cached_property
    def bits(self) -> int:
        """The ranks as the bits of one integer (bit r set for rank r): what Related News
        adds up, made once per term rather than once per article on it, and only where
        Related News is chosen (a build that only asks whether it stays needs none)."""
        found = bytearray(max(self.ranks, default=0) // 8 + 1)
        for rank in self.ranks:
            found[rank >> 3] |= 1 << (rank & 7)
        return int.from_bytes(found, "little")


def newest(term: Term) -> tuple[Entry, ...]:
    """A term's articles that Related News is chosen from: its RELATED_POSTINGS_LIMIT newest."""
    return term.entries[:RELATED_POSTINGS_LIMIT]


def newest_before(term: Term, arrived: set[int]) -> list[Entry]:
    """newest(term) as it was before the entries arrived (ids) came into the term: the
    articles after them move up into the RELATED_POSTINGS_LIMIT newest."""
    older = [
        e for e in term.entries[: RELATED_POSTINGS_LIMIT + len(arrived)] if id(e) not in arrived
    ]
    return older[:RELATED_POSTINGS_LIMIT]


def posting_lists(index: Index) -> dict[str, Posting]:
    """Term URL -> its posting list, for every term of a weighted taxonomy."""
    lists = {}
    for taxonomy, terms in index.terms:
        if taxonomy.weight:
            for term in terms:
                head = newest(term)
                ranks = tuple(e.rank for e in head)
                lists[term.url] = Posting(term.url, taxonomy.weight, head, ranks)
    return lists


def related(entry: Entry, lists: dict[str, Posting]) -> tuple[Related, ...]:
    """Related News of an entry, from the posting lists of every term (posting_lists)."""
    return related_from(entry, candidates(entry, lists))


def candidates(entry: Entry, lists: dict[str, Posting]) -> tuple[Posting, ...]:
    """The posting lists of an entry's weighted terms: where its Related News comes from."""
    return tuple(lists[link.url] for t in WEIGHTED for link in entry.terms(t.name))


def related_from(entry: Entry, candidates: tuple[Posting, ...]) -> tuple[Related, ...]:
    """Up to 5 other articles by shared topics (3), players (2) and tags (1); newest wins ties.

    candidates: the posting lists of the entry's weighted terms. They come from the term
    index (never all pairs); a term shared by more than RELATED_POSTINGS_LIMIT articles
    contributes only its newest ones.
    """
    # Issue 8: every article's score is added up at once, as integers whose bits stand for
    # articles (Posting.bits; bit r: the article of rank r): scores[i] holds bit i of each
    # score. Counting them one by one in a Counter took four times as long.
    scores: list[int] = []
    for posting in candidates:
        for level in range(posting.weight.bit_length()):
            if posting.weight >> level & 1:
                _add(scores, posting.bits, level)
    left = 0
    for bits in scores:
        left |= bits
    left &= ~(1 << entry.rank)
    # The best score first, and at each score the lowest ranks: ranks follow the site order
    # (newest first, then slug), and the lower rank wins a tie.
    found: list[Related] = []
    while left and len(found) < RELATED_COUNT:
        best, score = left, 0
        for level in reversed(range(len(scores))):
            higher = best & scores[level]
            if higher:
                best, score = higher, score | 1 << level
        left &= ~best
        while best and len(found) < RELATED_COUNT:
            lowest = best & -best
            best ^= lowest
            other = _by_rank(lowest.bit_length() - 1, candidates)
            found.append(Related(other, score, _shared(entry, other)))
    return tuple(found)


def _add(scores: list[int], bits: int, level: int) -> None:
    """Add 2**level to the score of each article in bits (scores: related_from's)."""
    carry = bits
    while carry:
        if level >= len(scores):
            scores += [0] * (level - len(scores))
            scores.append(carry)
            return
        held = scores[level]
        scores[level], carry = held ^ carry, held & carry
        level += 1


def related_stays(
    entry: Entry,
    shown: Sequence[Entry],
    arrived: Sequence[Entry],
    left: Collection[str],
    lists: dict[str, Posting],
) -> bool:
    """Whether entry's Related News is still shown (its entries, best first, as the last
    build chose them), when all that changed in the posting lists since is that the
    articles arrived (new to the site) came into some and those left (URLs) went out of some.

    The score of every other article is as it was: one that left can only have lost, and
    so stays out unless it was shown; one that arrived is in only if it beats the fifth
    shown (or fills a place, when fewer than RELATED_COUNT were). Ranks moved, but not
    their order among the articles that were there before.
    """
    if any(other.article.url in left for other in shown):
        return False
    postings = candidates(entry, lists)
    coming = [
        (_score(other, postings), -other.rank) for other in arrived if other.rank != entry.rank
    ]
    coming = [found for found in coming if found[0] > 0]
    if not coming:
        return True
    if len(shown) < RELATED_COUNT:
        return False
    last = shown[-1]
    bar = (_score(last, postings), -last.rank)
    return all(found < bar for found in coming)


def _score(other: Entry, postings: Sequence[Posting]) -> int:
    """other's Related News score from these posting lists (related_from counts the same)."""
    return sum(p.weight for p in postings if _place(p, other.rank) >= 0)


def _by_rank(rank: int, candidates: tuple[Posting, ...]) -> Entry:
    """The entry of that rank in the first posting list that has it."""
    for posting in candidates:
        at = _place(posting, rank)
        if at >= 0:
            return posting.entries[at]
    raise KeyError(rank)


def _place(posting: Posting, rank: int) -> int:
    """Where the entry of that rank is in the posting list (its ranks ascend), or -1."""
    ranks = posting.ranks
    at = bisect_left(ranks, rank)
    return at if at < len(ranks) and ranks[at] == rank else -1


def _shared(entry: Entry, other: Entry) -> tuple[str, ...]:
    """Names of the weighted terms two entries share, topics first."""
    shared = []
    for taxonomy in WEIGHTED:
        theirs = set(other.terms(taxonomy.name))
        shared += [link.name for link in entry.terms(taxonomy.name) if link in theirs]
    return tuple(shared)


def recent(index: Index, span: timedelta) -> tuple[Entry, ...]:
    """Entries dated within span before "now" (never after it, even with --future)."""
    since, now = index.now - span, index.now
    found = []
    for entry in index.entries:  # newest first: the window is a run at the start
        date = entry.article.date
        if date < since:
            break
        if date <= now:
            found.append(entry)
    return tuple(found)


def site_updated(index: Index) -> datetime:
    """The newest modification time of any article; the Unix epoch for an empty site.

    Never the clock: a page's bytes depend on its content, not on when it was built.
    """
    return max((e.article.lastmod for e in index.entries), default=EPOCH)


def now_signature(index: Index) -> tuple[object, ...]:
    """All that pages take from "now": which stories are in each time window, and the
    current ISO week and month (editions mark the running one)."""
    today = index.now.astimezone(ZoneInfo(index.config.timezone))
    return (
        tuple(e.article.slug for e in index.entries),
        tuple(e.article.slug for e in recent(index, NEWS_WINDOW)),
        tuple(e.article.slug for e in recent(index, SCORES_WINDOW)),
        today.isocalendar()[:2],
        (today.year, today.month),
    )


def valid_until(articles: Iterable[Article], now: datetime, timezone: str) -> float:
    """The moment from which the passing of time changes a page (a timestamp): the first
    after now, or now itself when a story's window ends at this very moment.

    An article appears at its date and leaves the 48-hour and 30-day windows after it; the
    running edition finishes at the end of the current week and month.
    """
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    points = [
        datetime.combine(monday + timedelta(days=7), time(), zone),
        datetime.combine(next_month, time(), zone),
    ]
    for article in articles:
        # In UTC: a window is absolute time (recent() subtracts it from "now"), and adding
        # hours to a local time across a change of daylight saving time would not be.
        date = article.date.astimezone(UTC)
        if date > now:
            points.append(date)
        for end in (date + NEWS_WINDOW, date + SCORES_WINDOW):
            # In the window up to its end and gone the moment after (recent()): a build at
            # the very end holds for no later moment.
            if end >= now:
                points.append(end)
    return min(points).timestamp()
