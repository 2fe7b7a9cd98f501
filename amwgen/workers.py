"""Make and render groups of pages and write them, in parallel: forked workers each build
one Jinja env.

Pages are pure (page, templates, settings) -> bytes, so the work splits into batches of group
indices; workers inherit the groups through fork (nothing is pickled but the indices and the
records coming back) and write their files straight into the new output tree. With the records
of the previous build, a group whose key is unchanged is not made at all, a page whose input
digest is unchanged is not rendered, and neither is a re-rendered page whose bytes came out
equal: the previous file is kept (already in the tree when it starts from the spare) or
hard-linked from the previous output.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import jinja2

from amwgen.fingerprint import Fingerprints, combine, hash_bytes
from amwgen.incremental import (
    CardStore,
    Record,
    TemplateDigests,
    TemplateRefs,
    is_file_as_recorded,
)
from amwgen.index import Entry
from amwgen.model import SiteConfig
from amwgen.page import Page
from amwgen.parallel import fork_map
from amwgen.render import (
    CardCache,
    Cards,
    Group,
    SitemapRow,
    joined,
    make_env,
    page_templates,
    render_page,
    sitemap_rows,
)
from amwgen.write import clear, make_parent, through_folders, write_file

MIN_PARALLEL = 400  # below this many pages, forking costs more than it saves
# Up to this many pages (as many as the groups had last time), render_groups makes the
# groups and digests their pages in the build's own process before deciding where to render.
DIGEST_FIRST = 3000


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """Everything a Jinja environment is made from: part of every page's input."""

    # As typed: left out of the digests (repr=False) like `compiled`, for the same reason as
    # RawDoc.path. The templates it leads to are in them by their bytes (build.tree_digest).
    site_dir: Path = field(repr=False)
    config: SiteConfig
    css_digest: str
    js_digest: str
    nav: tuple[tuple[str, str], ...]
    translations: tuple[tuple[str, str], ...]  # issue 6: i18n.load_table, (key, text) pairs
    # Where compiled templates are kept (render.make_env): no page depends on it, so it is
    # left out of the digests (repr=False, as fingerprint leaves such fields out).
    compiled: Path | None = field(default=None, repr=False)

    def make(self) -> jinja2.Environment:
        return make_env(
            self.site_dir,
            self.config,
            self.css_digest,
            self.nav,
            self.translations,
            self.compiled,
            self.js_digest,
        )


@dataclass(frozen=True, slots=True)
class Previous:
    """The last build's output folder and its records (empty for a clean build)."""

    root: Path | None = None
    records: dict[str, Record] = field(default_factory=dict)
    # The files the new tree starts with (the spare, or a clone of the output), each with its
    # inode, size and mtime when listed (write.Listing): one is kept where it is when it is
    # the file to write, the previous output's very file.
    start: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # Each folder below root looked at by _take in this process (write.through_folders).
    folders: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)  # no slots: pickled in bulk, and slotted classes pickle slowly
class Outcome:
    file: str
    record: Record
    rendered: bool  # False: reused from the previous output without rendering


class GroupRecord(NamedTuple):
    """A group of pages as the last build left it (kept in the cache: a named tuple, which
    loads three times faster than a dataclass, fifteen thousand times a build)."""

    key: str  # digest of its function, its arguments and the templates and settings
    files: tuple[str, ...]  # every file of the group, those a static file replaced included
    rows: tuple[SitemapRow, ...]  # its sitemap rows
    # An article group's coarser key, quicker to make: of what the arguments are made from
    # (its terms' newest, its window in its topic, the headlines it shows, its entry)
    # instead of the arguments (build.plan_units); while it holds, so does key. "" for
    # other groups.
    outline: str = ""
    # The URLs of the headlines its pages showed (Group.shows): a change to one of them
    # sends the group back to its key (build._Changed.touches).
    shows: tuple[str, ...] = ()


@dataclass(frozen=True)  # no slots: pickled in bulk, and slotted classes pickle slowly
class GroupOutcome:
    name: str
    record: GroupRecord
    outcomes: tuple[Outcome, ...]  # the files written (not those a static file replaced)


@dataclass(frozen=True, slots=True)
class Unit:
    """One group to make and render (old is None), or to take whole from the last output."""

    group: Group
    key: str
    old: GroupRecord | None = None
    size: int = 1  # pages it had in the last build: how much work making it is, roughly
    outline: str = ""  # GroupRecord.outline
    base: bytes = b""  # the outline key's digest before the headlines shown (outline_key)


@dataclass(frozen=True, slots=True)
class Job:
    spec: EnvSpec
    target: Path
    previous: Previous
    prints: Fingerprints  # seeded with the digests of this build's articles (build.py)
    replaced: frozenset[str]  # files that a file in static/ replaces: not written
    # What the templates name (TemplateDigests.refs), kept across builds: this process's
    # renders add to it, for the cache (forked workers' additions are lost).
    refs: TemplateRefs = field(default_factory=dict)
    render_key: str = ""  # the templates and settings, in every group's key (group_key)


@dataclass
class _Worker:
    env: jinja2.Environment
    env_digest: str
    templates: TemplateDigests
    prints: Fingerprints


# Each process's Jinja environment and digests, made at its first page (a forked worker
# inherits none: render_groups clears it before the pool starts).
_WORKER: _Worker | None = None


# Made ahead of a large render, in the parent, for the workers to share (render_groups).
_CARDS: Cards | None = None
# Cards are made ahead at the theme's heading levels: h2 (lists, tag pages), h4 (timelines).


# A store is written whole again (its cards of articles gone or changed dropped) when its
# text is more than CARDS_SLACK times what its live cards take plus CARDS_SLACK_BYTES, or
# it is kept in CARDS_SEGMENTS files.
CARDS_SLACK = 2
CARDS_SLACK_BYTES = 65536
CARDS_SEGMENTS = 8


def cards_ahead(
    entries: Sequence[Entry], job: Job, jobs: int, key: str, old: CardStore | None
) -> tuple[Cards, CardStore]:
    """Every entry's card at the theme's heading levels, made once for the workers to share
    rather than by each worker for the pages it happens to get. A card is a pure function of
    its headline, the templates and the settings (key): the last build's are reused, the
    others rendered (in parallel when there are many) and added after them."""
    global _WORKER
    known = old.spans if old is not None and old.key == key else {}
    digests = [job.prints.of(entry) for entry in entries]
    missing = [e for e, d in zip(entries, digests, strict=True) if d not in known]
    _WORKER = None
    try:
        made = iter(fork_map(_cards, missing, job, jobs, MIN_PARALLEL))
    finally:
        _WORKER = None
    live = sum(end - start for start, _, end in (known[d] for d in digests if d in known))
    kept = old is not None and bool(known) and _worth_keeping(old, live)
    if kept and old is not None:
        text, segments = old.text, old.segments  # its cards stay where they are
    else:
        text, segments = joined(()), ()
    parts: list[bytes] = []  # the cards made or moved, after text
    at = len(text)
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    store: dict[bytes, tuple[int, int, int]] = {}
    for entry, digest in zip(entries, digests, strict=True):
        span = known.get(digest)
        if span is not None and kept:
            start, middle, end = span
        else:
            if span is not None and old is not None:
                h2, h4 = old.text.cut(span[0], span[1]), old.text.cut(span[1], span[2])
            else:
                h2, h4 = (html.encode("utf-8") for html in next(made))
            start, middle, end = at, at + len(h2), at + len(h2) + len(h4)
            parts += (h2, h4)
            at = end
        slug = entry.article.slug
        spans[(slug, "h2")] = (start, middle)
        spans[(slug, "h4")] = (middle, end)
        store[digest] = (start, middle, end)
    text = text.plus(b"".join(parts))
    return Cards(text, spans), CardStore(key, text, store, segments)


def _worth_keeping(old: CardStore, live: int) -> bool:
    """Whether old's text is kept and new cards added after it, rather than the live cards
    written out afresh: while it is saved, and not mostly cards no entry shows any more."""
    return (
        bool(old.segments)
        and len(old.segments) < CARDS_SEGMENTS
        and len(old.text) <= CARDS_SLACK * live + CARDS_SLACK_BYTES
    )


def _cards(entry: Entry, job: Job) -> tuple[str, str]:
    card = _worker(job).env.globals["card_html"]
    assert isinstance(card, CardCache)
    return str(card(entry, "h2")), str(card(entry, "h4"))


def render_groups(
    units: Sequence[Unit],
    job: Job,
    jobs: int,
    ahead: Callable[[], Cards] | None = None,
    closing: Callable[[list[SitemapRow]], Page | None] | None = None,
) -> list[GroupOutcome]:
    """Make and render the groups that changed; take the others' files from the last output.

    A group to reuse whose files are not all intact in the last output is made after all.
    Many pages to make (a clean build, a template edit): forked workers make the groups and
    render their pages, with the cards ahead() makes for them to share. Up to DIGEST_FIRST:
    the groups are made and their pages digested here first, since an edit re-renders a few
    dozen of the hundreds of pages its groups hold (the others' input is unchanged); only the
    pages to render go to the workers, and only when there are MIN_PARALLEL of them. Which
    process renders a page changes nothing in it.

    closing: the page made from every group's sitemap rows (the sitemap), None when there is
    none to make. It comes last, in a group of its own with no key; when the groups are made
    here first, it is rendered beside their pages (its rows are known before any page is),
    not after them.
    """
    global _WORKER, _CARDS
    # Groups to reuse are checked here (each file against the listing of the tree the build
    # starts from, or with a stat): cheaper than forking to do it.
    done = [_reused(u, job) if u.old is not None and _reuse(u.old, job) else None for u in units]
    todo = [replace(u, old=None) for u, d in zip(units, done, strict=True) if not d]
    size = sum(u.size for u in todo)
    _WORKER, _CARDS = None, None
    try:
        if size > DIGEST_FIRST:
            # The biggest first, so that the workers finish together (with -j 1, in turn).
            order = sorted(range(len(todo)), key=lambda i: -todo[i].size)
            _CARDS = ahead() if ahead is not None else None
            outcomes = fork_map(_unit, [todo[i] for i in order], job, jobs, 1)
            made = dict(zip(order, outcomes, strict=True))
            fresh = [made[i] for i in range(len(todo))]
            closed = None
        else:
            fresh, closed = _digest_first(todo, done, job, jobs, ahead, closing)
            closing = None  # made there, when there was one to make
    finally:
        _WORKER, _CARDS = None, None
    urls: dict[str, str] = {}
    shared = iter(_one_copy(outcome, urls) for outcome in fresh)
    finished = [d if d is not None else next(shared) for d in done]
    if closing is not None:
        page = closing([row for group in finished for row in group.record.rows])
        closed = None if page is None else render_one(page, job)
    if closed is not None:
        finished.append(GroupOutcome(closed.file, GroupRecord("", (), ()), (closed,)))
    return finished


def _digest_first(
    todo: list[Unit],
    done: list[GroupOutcome | None],
    job: Job,
    jobs: int,
    ahead: Callable[[], Cards] | None,
    closing: Callable[[list[SitemapRow]], Page | None] | None,
) -> tuple[list[GroupOutcome], Outcome | None]:
    """render_groups for a few groups: made, and their pages digested, in this process; the
    pages whose input changed rendered here, or by workers when there are many. done: the
    groups reused (None for those in todo, in its order), whose rows closing's page shows
    with the made ones'; that page's outcome (None: it made none) comes second."""
    global _WORKER, _CARDS
    worker = _worker(job)
    made = [_make(unit, worker, job) for unit in todo]
    pending = [(page, digest) for _, _, left in made for page, digest in left]
    many = len(pending) >= MIN_PARALLEL and jobs > 1
    last = None
    if closing is not None:
        rows = iter(sitemap_rows(pages) for pages, _, _ in made)
        last = closing([row for d in done for row in (d.record.rows if d else next(rows))])
    if last is not None:
        # Its templates' digest made here, so that what they name reaches the cache (a
        # worker's findings do not); "" has the rest of its digest made where it is
        # rendered, and the page kept when its input is unchanged. Last when rendered here,
        # as after the groups; first, to the first worker, when workers render (this
        # process, sharing the work, takes from the end and hands out batches only between
        # its items).
        worker.templates(page_templates(last))
        pending.insert(0 if many else len(pending), (last, ""))
    if many:
        # This process renders its share too (a few hundred pages: forking the last worker
        # would cost more than it brings), with the cards made ahead, as the workers do.
        _WORKER, _CARDS = None, ahead() if ahead is not None else None
        results = fork_map(_rendered, pending, job, jobs, 1, share=True)
    else:
        results = [_rendered(item, job) for item in pending]
    closed = results.pop(0 if many else -1) if last is not None else None
    rendered = iter(results)
    fresh = []
    for unit, (pages, outcomes, left) in zip(todo, made, strict=True):
        by_file = {o.file: o for o in outcomes}
        by_file.update((page.file, next(rendered)) for page, _ in left)
        final = tuple(by_file[p.file] for p in pages if p.file not in job.replaced)
        fresh.append(_finish(unit, pages, final, worker, job.render_key))
    return fresh, closed


def _one_copy(made: GroupOutcome, urls: dict[str, str]) -> GroupOutcome:
    """The group's record with each URL it shows as one string object shared by the groups
    made in this build: a hundred thousand of them, the cache then holds each once."""
    record = made.record
    if not record.shows:
        return made
    shows = tuple([urls.setdefault(url, url) for url in record.shows])
    return replace(made, record=record._replace(shows=shows))


def _reused(unit: Unit, job: Job) -> GroupOutcome:
    assert unit.old is not None
    files = (f for f in unit.old.files if f not in job.replaced)
    outcomes = tuple(Outcome(f, job.previous.records[f], False) for f in files)
    record = (
        unit.old if unit.old.outline == unit.outline else unit.old._replace(outline=unit.outline)
    )
    return GroupOutcome(unit.group.name, record, outcomes)


def render_one(page: Page, job: Job) -> Outcome:
    """One page, rendered (or reused) in this process: the sitemap, made from every group."""
    global _WORKER
    _WORKER = None
    try:
        return _one(page, _worker(job), job.target, job.previous)
    finally:
        _WORKER = None


def _unit(unit: Unit, job: Job) -> GroupOutcome:
    """A group made: its pages rendered, or reused one by one where their input is unchanged."""
    worker = _worker(job)
    pages = unit.group.pages()
    outcomes = tuple(
        _one(page, worker, job.target, job.previous)
        for page in pages
        if page.file not in job.replaced
    )
    return _finish(unit, pages, outcomes, worker, job.render_key)


Pending = tuple[Page, str]  # a page to render, with its input digest ("": to be made)


def _make(
    unit: Unit, worker: _Worker, job: Job
) -> tuple[tuple[Page, ...], list[Outcome], list[Pending]]:
    """A group made: its pages, those reused (their input unchanged), and those to render."""
    pages = unit.group.pages()
    reused: list[Outcome] = []
    left: list[Pending] = []
    for page in pages:
        if page.file in job.replaced:
            continue
        digest = _digest(page, worker)
        outcome = _kept(page.file, digest, job.target, job.previous)
        if outcome is None:
            left.append((page, digest))
        else:
            reused.append(outcome)
    return pages, reused, left


def _rendered(pending: Pending, job: Job) -> Outcome:
    """A pending page rendered; one with no digest yet ("") digested first, and kept when
    its input is unchanged."""
    page, digest = pending
    worker = _worker(job)
    if not digest:
        return _one(page, worker, job.target, job.previous)
    return _render(page, digest, worker, job.target, job.previous)


def _finish(
    unit: Unit,
    pages: tuple[Page, ...],
    outcomes: tuple[Outcome, ...],
    worker: _Worker,
    render_key: str,
) -> GroupOutcome:
    """The group's outcome: its pages' files and the record the next build reads (with the
    group's key, made here when planning left it to the process that makes the group)."""
    group = unit.group
    outline = unit.outline
    shows: tuple[str, ...] = ()
    if group.shows is not None:
        # The outline key with the headlines these pages show, which planning could only
        # take from the last build's; none when planning did not hash it (build.plan_units).
        shown = group.shows(pages)
        outline = outline_key(unit.base, worker.prints, shown) if unit.base else ""
        shows = tuple(entry.article.url for entry in shown)
    files = tuple(p.file for p in pages)
    key = unit.key or group_key(render_key, group, worker.prints)
    record = GroupRecord(key, files, sitemap_rows(pages), outline, shows)
    return GroupOutcome(group.name, record, outcomes)


def group_key(render_key: str, group: Group, prints: Fingerprints) -> str:
    """A group's key: its function and arguments, and the templates and settings (render_key)."""
    return combine(render_key, make_name(group), prints.of(group.arguments()))


def make_name(group: Group) -> str:
    """The group's function by its dotted name: part of its key and its outline key."""
    return f"{group.make.__module__}.{group.make.__qualname__}"


def outline_key(base: bytes, prints: Fingerprints, shown: Sequence[Entry | None]) -> str:
    """A group's outline key: base (what it sees, follows and reads) with the digests of the
    headlines its pages show (None for one that is gone, which no digest matches)."""
    return hash_bytes(base + prints.joined(tuple(shown))).hex()


def _reuse(old: GroupRecord, job: Job) -> bool:
    """Put the group's files from the last output in place; False if one is not intact."""
    records = job.previous.records
    for file in old.files:
        if file in job.replaced:
            continue
        record = records.get(file)
        if record is None or not _take(file, record, job.previous, job.target):
            return False
    return True


def _worker(job: Job) -> _Worker:
    global _WORKER
    if _WORKER is None:
        spec, prints = job.spec, job.prints
        env = spec.make()
        env.globals["card_html"] = CardCache(env, _CARDS)
        env_digest = combine(
            prints.of(spec.config),
            spec.css_digest,
            spec.js_digest,
            prints.of(spec.nav),
            prints.of(spec.translations),
        )
        _WORKER = _Worker(env, env_digest, TemplateDigests(env, job.refs), prints)
    return _WORKER


def _one(page: Page, worker: _Worker, target: Path, previous: Previous) -> Outcome:
    digest = _digest(page, worker)
    kept = _kept(page.file, digest, target, previous)
    return kept if kept is not None else _render(page, digest, worker, target, previous)


def _digest(page: Page, worker: _Worker) -> str:
    """The digest of everything the page is rendered from."""
    templates = worker.templates(page_templates(page))
    return combine(worker.env_digest, templates, worker.prints.of(page))


def _kept(file: str, digest: str, target: Path, previous: Previous) -> Outcome | None:
    """The last output's file, when the page's input is unchanged and the file intact."""
    old = previous.records.get(file)
    if old is not None and old.input == digest and _take(file, old, previous, target):
        return Outcome(file, old, False)  # the very record: the cache's shard is unchanged
    return None


def _render(page: Page, digest: str, worker: _Worker, target: Path, previous: Previous) -> Outcome:
    """The page rendered, and written unless its bytes are the last output's file's."""
    file = page.file
    old = previous.records.get(file)
    data = render_page(page, worker.env)
    digest_out = hash_bytes(data).hex()
    if old is not None and old.digest == digest_out and _take(file, old, previous, target):
        return Outcome(file, replace(old, input=digest), True)
    # Not the spare's copy even when its bytes are these: it is older than the live file it
    # would replace, and sync tools that upload only newer files would skip it.
    write_file(target, file, data, file in previous.start)
    stat = os.stat(target / file)
    record = Record(digest, digest_out, stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return Outcome(file, record, True)


def _take(file: str, record: Record, previous: Previous, target: Path) -> bool:
    """Put the last output's file (as record says it is) at target/file; False if it is
    not as recorded any more. Nothing is done when that very file is there already: the
    new tree was made from the output before last, and the file is unchanged since."""
    dest = f"{target}/{file}"  # strings: this runs for every page of every build
    if previous.start.get(file) == (record.inode, record.size, record.mtime_ns):
        return True  # as listed while the build planned: no stat
    if previous.root is None:
        return False
    source = f"{previous.root}/{file}"
    if not is_file_as_recorded(source, record.size, record.mtime_ns, record.inode):
        return False
    # A file reached through a linked folder is outside the output: never linked into it,
    # where a write out there would change a page.
    if not through_folders(str(previous.root), file, previous.folders):
        return False
    _link(source, dest)
    return True


def _link(source: str, dest: str) -> None:
    """Put the previous output's file into the new tree without rewriting its bytes."""
    make_parent(dest)
    try:
        os.link(source, dest)
    except FileExistsError:
        # A file of the spare, or one written by a group made after all: replace it.
        clear(dest)
        _link(source, dest)
    except OSError:
        shutil.copy2(source, dest)
