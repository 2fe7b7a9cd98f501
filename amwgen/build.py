"""The pipeline on one screen: load -> validate -> index -> render -> write."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import shutil
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from amwgen.config import (
    ConfigError,
    FlagError,
    key_line,
    load_config,
    read_mapping,
    with_base_url,
)
from amwgen.editions import EditionNote, unused_notes, validate_notes
from amwgen.fingerprint import (
    Fingerprints,
    code_digest,
    combine,
    final_digest,
    hash_bytes,
    new_hasher,
)
from amwgen.i18n import Table, load_table
from amwgen.imports import Missing, missing_imports
from amwgen.incremental import (
    CACHE_DIR,
    INPUT_FOLDERS,
    OTHER_CACHE,
    CardStore,
    Quick,
    Record,
    State,
    adopt_output,
    cache_folder,
    input_stamp,
    load_cards,
    load_quick,
    load_state,
    make_cache_folder,
    output_intact,
    output_name,
    output_untouched,
    quick_holds,
    records_intact,
    save_quick,
    save_state,
    stat_lines,
    state_saved,
)
from amwgen.index import (
    EPOCH,
    Entry,
    Index,
    Posting,
    Term,
    TermLink,
    build_index,
    headlines,
    newest,
    newest_before,
    now_signature,
    posting_lists,
    related_stays,
    valid_until,
)
from amwgen.lock import DEFAULT_WAIT, output_lock
from amwgen.model import Article, Problem, SiteConfig
from amwgen.page import Page, TemplateFault
from amwgen.parallel import Background, can_fork
from amwgen.render import (
    THEME_DIR,
    Cards,
    Group,
    SitemapRow,
    article_shows,
    asset_digest,
    make_env,
    page_files,
    plan_groups,
    sitemap_page,
    template_files,
)
from amwgen.search import BUNDLE, index_search
from amwgen.sources import DocResult, Seen, gather
from amwgen.workers import (
    EnvSpec,
    GroupOutcome,
    GroupRecord,
    Job,
    Previous,
    Unit,
    cards_ahead,
    group_key,
    make_name,
    outline_key,
    render_groups,
)
from amwgen.write import (
    Listing,
    StaticClash,
    StaticCopies,
    clash_problem,
    clone_path,
    clone_tree,
    discard,
    files_below,
    parent_folders,
    prune,
    spare_path,
    static_files,
    unlink_links,
    walk_files,
    walk_tree,
    write_site,
)

if TYPE_CHECKING:
    from hashlib import _Hash  # typeshed's name for a hasher; not there at run time


@dataclass(frozen=True, slots=True)
class Options:
    now: datetime
    output: Path | None = None  # None: site.yaml's output, relative to the site
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    clean: bool = False  # ignore the cache (it is still written afterwards)
    jobs: int = 1
    save_cache: bool = True  # False: leave .amwgen-cache/ as it is (verify's clean build)
    cache: str = ""  # a subfolder of .amwgen-cache/ to keep the cache in (serve's: SERVE_CACHE)
    wait: float = DEFAULT_WAIT  # seconds to wait for another build of the same output
    # The process ends right after this build (cli.run): what the build made is left for the
    # exit to drop with the process's memory, not freed object by object (_LEFT).
    exiting: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    problems: tuple[Problem, ...]  # errors: nothing was written
    warnings: tuple[Problem, ...] = ()
    output: Path | None = None
    pages: tuple[tuple[str, int], ...] = ()  # pages written by template
    terms: tuple[tuple[str, int], ...] = ()  # terms by taxonomy
    seconds: float = 0.0
    files: int = 0  # pages in the output
    rendered: int = 0  # pages rendered this time (the others were unchanged)
    # When the passing of time next changes a page (a timestamp: index.valid_until): a story
    # comes out, leaves a window, an edition ends. serve rebuilds then.
    valid_until: float = float("inf")

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Checked:
    config: SiteConfig
    index: Index | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = field(default=())
    notes: tuple[EditionNote, ...] = field(default=())  # issue 9: editors' notes
    sources: dict[str, DocResult] = field(default_factory=dict)  # per-file results, to cache
    valid_until: float = float("inf")  # when the passing of time next changes a page
    seen: Seen = field(default_factory=dict)  # per-file stats and digests, to cache
    translations: Table = ()  # the theme's strings (i18n.load_table)


def check(
    site_dir: Path,
    options: Options,
    cache: dict[str, DocResult] | None = None,
    seen: Seen | None = None,
    stats: dict[str, os.stat_result] | None = None,
) -> Checked:
    """Load, validate and index the site; ConfigError when site.yaml is unusable.

    cache: per-file results of an earlier run; unchanged files are not parsed again.
    seen: per-file stats of an earlier run; files with unchanged stats are not read again.
    stats: stats taken already in this run, by path (input_stamp's).
    """
    config = load_config(site_dir)
    if options.base_url:
        config = with_base_url(config, options.base_url)
    table = load_table(site_dir, config.language)  # issue 6: site i18n/ overrides; ConfigError
    found = cache if cache is not None else {}
    gathered = gather(site_dir, config, found, options.jobs, seen, stats)
    content, problems = gathered.content, [*gathered.problems, *not_folders(site_dir)]
    index, index_problems = build_index(
        content, config, options.now, options.drafts, options.future
    )
    problems += index_problems
    problems += links_to_unpublished(gathered.results.values(), index, options.drafts)
    notes, note_problems = validate_notes(gathered.notes, config)
    problems += note_problems + unused_notes(index, notes)
    errors = sorted((p for p in problems if p.severity == "error"), key=Problem.sort_key)
    warnings = sorted(
        [*content.warnings, *(p for p in problems if p.severity != "error")], key=Problem.sort_key
    )
    index_or_none = None if errors else index
    # Drafts left out are no page at any time: their dates would only expire the shortcut
    # early (and make serve rebuild for nothing).
    shown = [a for a in content.articles if options.drafts or not a.draft]
    until = valid_until(shown, options.now, config.timezone)
    return Checked(
        config,
        index_or_none,
        tuple(errors),
        tuple(warnings),
        notes,
        gathered.results,
        until,
        gathered.seen,
        table,
    )


def not_folders(site_dir: Path) -> list[Problem]:
    """A file named as one of the site's folders, or a link of that name that leads to no
    folder, which was passed over in silence (a review: a file `content` made a site of no
    articles): an error at it."""
    problems = []
    for path in (site_dir / name for name in INPUT_FOLDERS):
        if path.is_dir():
            continue
        if path.is_symlink():  # to nothing, or to itself: it was passed over too
            problems.append(Problem(path, 1, None, "is a link that leads to no folder"))
        elif path.exists():
            message = "is a file; amwgen reads a folder of this name here"
            problems.append(Problem(path, 1, None, message))
    return problems


def links_to_unpublished(
    results: Iterable[DocResult], index: Index, drafts: bool = False
) -> list[Problem]:
    """A published page's link to an article this build leaves out, a draft or one dated
    after now: it leads to no page (a 404, and the slug of a story not yet out) until that
    article is published. A warning at the link; the build that publishes both is silent.
    drafts: this build publishes drafts (--drafts), so one left out is left out by its date."""
    shown = {id(entry.article) for entry in index.entries}
    later = {
        r.target: r.value
        for r in results
        if r.kind == "articles" and isinstance(r.value, Article) and id(r.value) not in shown
    }
    problems: list[Problem] = []
    for result in results if later else ():
        value = result.value
        if not result.links or value is None:
            continue
        if result.kind == "articles" and id(value) not in shown:
            continue  # not published itself
        for url, line, typed in result.links:
            article = later.get(url)
            if article is None:
                continue
            if article.draft and not drafts:
                message = f"'{typed}' is a draft: the link leads to no page until it is published"
            else:
                day = article.date.date().isoformat()
                message = (
                    f"'{typed}' is dated {day}, after now: the link leads to no page till then"
                )
            problems.append(Problem(value.path, line, "link", message, "warning"))
    return problems


def check_site(site_dir: Path, options: Options) -> Checked:
    """check, for `amwgen check`: a file the last build validated and unchanged since is not
    validated again (the cache is read, never written: check writes nothing), the others
    are on every core, and the cycle collector waits, as in a build."""
    paused = gc.isenabled()
    gc.disable()
    try:
        state = load_state(cache_folder(site_dir, options.cache), output=False)
        everywhere = replace(options, jobs=os.cpu_count() or 1)
        return check(site_dir, everywhere, state.docs, state.seen)
    finally:
        if paused:
            gc.enable()


def layout_problems(site_dir: Path, checked: Checked) -> list[Problem]:
    """Every template in the site's layouts/ compiled (SPEC 5: check validates everything):
    a syntax error, or a filter or test that does not exist, at its file and line, whether a
    page uses the template or not. (What fails only when rendered, build reports.)"""
    layouts = site_dir / "layouts"
    if not layouts.is_dir():
        return []
    env = _check_env(site_dir, checked)
    problems: list[Problem] = []  # a folder that cannot be listed, first
    for name in template_files(layouts, problems):  # not hidden ones (an editor's ._page.html)
        try:
            env.get_template(name)
        except jinja2.TemplateError as err:
            problem = template_problem(err, site_dir)
            assert problem is not None  # a TemplateError always is one
            problems.append(problem)
    return problems


def _caused(missing: Missing, problem: Problem) -> bool:
    """Whether problem, a render error, is what missing (a name or a template not there, a
    template extending itself) made happen: Jinja names a missing template bare, and a
    template extending itself recurses."""
    message = problem.message
    if missing.kind == "itself":  # only that recursion: a macro's own is its error (a review)
        said = message.startswith("RecursionError")
    elif missing.kind == "template":
        said = message == missing.name
    else:
        said = f"'{missing.name}'" in message
    return said and missing.user.resolve() == problem.path.resolve()


def import_problems(site_dir: Path, checked: Checked) -> list[Problem]:
    """Names a template takes from another that the other does not export, when either is
    the site's (imports.missing_imports)."""
    return [missing.problem for missing in _missing_imports(site_dir, checked)]


def _missing_imports(site_dir: Path, checked: Checked) -> list[Missing]:
    return missing_imports(_check_env(site_dir, checked), site_dir)


def _check_env(site_dir: Path, checked: Checked) -> jinja2.Environment:
    """The site's templates as a build loads them, for what `check` looks at in them."""
    return make_env(site_dir, checked.config, "", translations=checked.translations)


def static_problems(site_dir: Path, checked: Checked) -> list[Problem]:
    """The files and folders of the site's static/ that cannot go into the output (SPEC 5:
    check validates everything): a file where the build makes a folder, a folder where it
    makes a file, each as the build reports it when it copies static/ (write._copy_static).
    A file where the build makes a file replaces the page."""
    static = site_dir / "static"
    if checked.index is None or not static.is_dir():
        return []
    made = set(page_files(plan_groups(checked.index, checked.notes)))
    made.add(sitemap_page(checked.index, []).file)
    made.update(rel for rel, _ in walk_files(THEME_DIR / "static"))  # copied first
    folders = {folder for rel in made for folder in parent_folders(rel)}
    if checked.config.search:
        folders.add(BUNDLE)  # Pagefind's, written before static/ is copied
    problems: list[Problem] = []
    reported: set[str] = set()
    for rel, _, is_folder in walk_tree(static, problems):  # as the copy walks it, folders too
        # The copy stops at a folder of static/ where the build made a file: that folder.
        above = [*reversed(parent_folders(rel)), *([rel] if is_folder else [])]
        clash = next((folder for folder in above if folder in made), None)
        if clash is not None:
            if clash not in reported:
                reported.add(clash)
                problems.append(clash_problem(static / clash, clash, folder=False))
        elif not is_folder and rel in folders:
            problems.append(clash_problem(static / rel, rel, folder=True))
    return problems


def output_dir(site_dir: Path, config: SiteConfig, options: Options) -> Path:
    """Where the site goes; ConfigError if that folder would hold the site's own sources."""
    out = options.output if options.output is not None else site_dir / config.output
    try:
        if out.is_symlink() or ".." in out.parts:
            # The swap replaces a folder; through a link, it is the folder pointed to. And
            # `-o ../public`, `output: ../public`: where ".." leads (the file system's
            # answer, as a linked folder before it may lead elsewhere than its parent), as
            # each page's path is checked against the output's spelt without it
            # (write.write_file).
            out = out.resolve()
        resolved = out.resolve()
    except (RuntimeError, OSError):  # a link that loops: a traceback (a review)
        message = f"output folder '{out}' is, or goes through, a link that loops; choose another"
        raise _output_error(site_dir, options, message) from None
    site = site_dir.resolve()
    mine = (*INPUT_FOLDERS, "site.yaml", CACHE_DIR)
    owned = [_leads_to(site / name) for name in mine]  # a linked one: where it leads
    if site.is_relative_to(resolved) or any(resolved.is_relative_to(o) for o in owned):
        message = f"output folder '{out}' would replace the site's own files; choose another"
        raise _output_error(site_dir, options, message)
    if resolved.exists() and not resolved.is_dir():
        # The swap puts the new output where it is: a file of the user's would be gone.
        message = f"'{out}' is a file, not a folder; choose another output"
        raise _output_error(site_dir, options, message)
    return out


def _leads_to(path: Path) -> Path:
    """Where path leads (Path.resolve); a link that loops leads nowhere but to itself (its
    RuntimeError was a traceback: a review). check says what is wrong with it (not_folders)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.absolute()


def _output_error(site_dir: Path, options: Options, message: str) -> ConfigError:
    """The output folder refused: that of -o, or at site.yaml's `output` line."""
    if options.output is not None:
        return FlagError("-o", message)
    path = site_dir / "site.yaml"
    line0 = key_line(read_mapping(path).key_lines, "output")
    return ConfigError([Problem(path, line0 + 1, "output", message)])


def build(site_dir: Path, options: Options) -> Result:
    """Build the site into its output folder; with problems, nothing is written."""
    # Issue 8: the cache, the content and the index are hundreds of thousands of objects
    # that live until the build ends; the cycle collector would walk them all, again and
    # again, as new ones are made (a third of a 10,000-article rebuild). It is paused for
    # the build (workers collect their own garbage: parallel.fork_map) and runs after it
    # (serve builds again in the same process).
    paused = gc.isenabled()
    gc.disable()
    clones: list[_Clone | _SpareListing] = []
    result = None
    try:
        result = _build(site_dir, options, clones)
        return result
    finally:
        for clone in clones:  # one the build did not take: it failed, or had nothing to do
            clone.close(failed=result is None or bool(result.problems))
        if options.exiting:
            # What it left (_LEFT) out of the cycle collector's sight too: its next pass
            # would walk them all.
            gc.freeze()
        if paused:
            gc.enable()


# Issue 8: what builds made in a process that exits right after them (Options.exiting).
# Freeing the cache, the index and the plan of 10,000 articles when the build returns took
# 0.11-0.16 s of every build; the exit (cli.run) drops the process's memory whole.
_LEFT: list[object] = []


def _build(site_dir: Path, options: Options, clones: list[_Clone | _SpareListing]) -> Result:
    """build, which closes the helpers this adds to (a _Clone or a _SpareListing), and
    leaves its variables in _LEFT when it did not fail and the process exits after it
    (Options.exiting)."""
    started = time.perf_counter()
    config = load_config(site_dir)
    out = output_dir(site_dir, config, options)
    if (
        not options.cache
        and options.output is not None
        and out.resolve() != _leads_to(site_dir / config.output)
    ):
        options = replace(options, cache=OTHER_CACHE)
    # Issue 8: taken before any input is read, so a file that changes during this build
    # makes the next one look again.
    stats: dict[str, os.stat_result] = {}
    stamp = input_stamp(site_dir, _stamp_extra(options, out), stats)
    folder = cache_folder(site_dir, options.cache)
    quick = None if options.clean else load_quick(folder)
    if quick is not None and quick_holds(quick, stamp, options.now.timestamp(), out):
        # Not one input file, and nothing that "now" decides, changed: the output stands.
        summary = quick.summary
        assert isinstance(summary, Result)
        summary = _respelt(summary, Path(quick.site), site_dir, out)
        return replace(summary, seconds=time.perf_counter() - started, rendered=0)
    clone = _Clone.wanted(folder, out, options)  # before the cache is read: it takes seconds
    if clone is not None:
        clones.append(clone)
    spare = _SpareListing.wanted(out, options)
    if spare is not None:
        clones.append(spare)
    # --clean reads nothing from the cache (it writes it afterwards), and verify's clean
    # build neither reads nor writes it.
    use_cache = options.save_cache and not options.clean
    state = load_state(folder) if use_cache else State()
    checked = check(site_dir, options, state.docs, state.seen, stats)
    if checked.index is None:
        return Result(checked.problems, checked.warnings)
    index = checked.index
    theme_static = THEME_DIR / "static"
    statics = _static_dirs(site_dir, theme_static)
    # A site's static/assets/ file replaces the theme's; its digest goes into its links.
    css, js = (_asset(site_dir, theme_static, name) for name in ("amwgen.css", "amwgen.js"))
    nav = tuple((p.title, p.url) for p in index.pages)
    spec = EnvSpec(
        site_dir,
        checked.config,
        asset_digest(css),
        asset_digest(js),
        nav,
        checked.translations,
        _compiled(folder, options),
    )
    unread: list[Problem] = []
    templates = tree_digest(_template_dirs(site_dir), contents=True, unread=unread)
    if unread:  # a layout that cannot be read would leave the theme's in its place, unsaid
        return Result(tuple(unread), checked.warnings)
    key = input_key(options, out, checked, spec, templates, statics)
    render_key = combine(Fingerprints().of(spec), templates)
    # Issue 7: one build of an output at a time; the output and the cache change together.
    with output_lock(out, options.wait):
        intact = output_intact(state, out)  # before the swap changes the output folder
        if use_cache and not intact:
            # An output folder a CI cache step restored: the last build's, where its files are.
            state = adopt_output(state, out, options.jobs)
            intact = output_intact(state, out)
        if (
            intact
            and key == state.input_key
            and output_untouched(state, out)
            and records_intact(out, state.records)
        ):
            # Issue 8: nothing that any page is made from has changed; the output stands.
            result = _result(checked, out, started, state.records, 0)
            _save_quick(folder, site_dir, options, out, stamp, checked, state.records, result)
            if options.exiting:
                _LEFT.append(locals())
            return result
        # A file in the site's static/ replaces the page at its path: that page is not made.
        replaced = static_files(site_dir / "static")
        # Issue 8: the output before last, brought up to date, rather than a new tree in
        # which every file is linked anew (a file system operation per page).
        from_spare = intact and spare is not None and spare.holds(out) and _spare_intact(state, out)
        brief = headlines(index)
        prints, briefs = seeded_prints(checked, brief, state.briefs)
        old_groups = state.groups if intact else {}
        then = state.inputs if intact else None
        units, inputs = plan_units(index, brief, checked, prints, render_key, old_groups, then)
        found = spare.listing() if spare is not None and from_spare else None
        from_spare = found is not None
        # The tree to start from, as listed: the spare, or a clone of the output, or none.
        start = spare_path(out) if from_spare else None
        if intact and not from_spare and clone is not None:
            found = clone.listing()
            if found is not None:
                start = clone.path
        listed = found[0] if found is not None else {}
        previous = Previous(out.absolute(), state.records, listed) if intact else Previous()
        refs = dict(state.template_refs)  # filled in by this process's renders
        job = Job(spec, Path(), previous, prints, replaced, refs, render_key)

        made_cards: list[CardStore] = []
        # The static files' copies the last build made, in the live output: linked while
        # their sources are the files they were copied from.
        copies = StaticCopies(out.absolute(), state.statics) if intact else StaticCopies()

        def fill(target: Path) -> list[GroupOutcome]:
            here = replace(job, target=target)
            if start is not None:
                shutil.rmtree(target / BUNDLE, ignore_errors=True)  # Pagefind writes it anew
                unlink_links(target, listed)  # never a page through a link out of the tree

            def ahead() -> Cards:
                # Many pages to render: every card made once, ahead, for all to share; for a
                # few, the pages make the cards they show (and the cached ones stay as they are).
                before = None if options.clean else load_cards(folder)
                cards, store = cards_ahead(brief.entries, here, options.jobs, render_key, before)
                made_cards.append(store)
                return cards

            def sitemap(rows: list[SitemapRow]) -> Page | None:
                page = sitemap_page(index, rows)
                return page if page.file not in replaced else None

            done = render_groups(units, here, options.jobs, ahead, sitemap)
            if found is not None:
                # Every file of the tree it started from that no page wrote goes, recorded
                # or not (one put into the output by a deploy step, say); static files are
                # copied after this.
                written = {o.file for group in done for o in group.outcomes}
                files, empty = found
                prune(target, sorted(files.keys() - written), empty)
            index_search(target, checked.config)  # issue 6: last step, before the swap
            return done

        try:
            # The replaced output is the next build's spare when the cache describes it;
            # not after --clean, which shares no file with it (every page rendered anew):
            # bringing it up to date would replace every file, where a clone of the new
            # output (_Clone) replaces none.
            done = write_site(out, fill, statics, start, keep_spare=intact, copies=copies)
        except StaticClash as err:
            return Result(err.problems, checked.warnings)
        except Exception as err:
            # A broken layout is the site's error, not ours: located, exit 1, output kept.
            problem = template_problem(err, site_dir)
            if problem is None:
                raise
            # A name a layout imports that is not there: said where it is missing, and the
            # error it caused left out (the theme's template was blamed for it) when that
            # error is the template that uses the name, saying the name.
            missing = _missing_imports(site_dir, checked)
            said = [m.problem for m in missing]
            if not any(_caused(m, problem) for m in missing):
                said.append(problem)
            return Result(tuple(said), checked.warnings)
        outcomes = [o for group in done for o in group.outcomes]
        groups = {group.name: group.record for group in done if group.record.key}
        records = {o.file: o.record for o in outcomes}
        if options.save_cache:
            kept = state if intact else State()  # its output is now the spare
            swapped = out.stat()
            now = State(
                docs=checked.sources,
                seen=checked.seen,
                output=output_name(out),
                output_inode=swapped.st_ino,
                output_mtime_ns=swapped.st_mtime_ns,
                records=records,
                input_key=key,
                groups=groups,
                inputs=inputs,
                briefs=briefs,
                cards=made_cards[0] if made_cards else None,
                spare_inode=kept.output_inode,
                template_refs=refs,
                statics=copies.now,
            )
            save_state(folder, now, state)
        result = _result(checked, out, started, records, sum(o.rendered for o in outcomes))
        _save_quick(folder, site_dir, options, out, stamp, checked, records, result)
    if options.exiting:
        _LEFT.append(locals())
    return result


class _Clone:
    """Issue 8: a build with no spare to start from would link every unchanged page into a
    new tree, a file system operation per page (seconds at 20,000 files). Instead a second
    process makes that tree (write.clone_tree) while this one reads the content and plans;
    the build then starts from it as from the spare, and, as with the spare's, each of its
    files is used only if it is the recorded one."""

    def __init__(self, out: Path) -> None:
        self.path = clone_path(out.absolute())
        try:
            self._job = Background(_clone_behind, out.absolute(), self.path)
        except BaseException:  # a Ctrl-C as it was forked: the helper is stopped, its tree goes
            shutil.rmtree(self.path, ignore_errors=True)
            raise

    @staticmethod
    def wanted(folder: Path, out: Path, options: Options) -> _Clone | None:
        """A clone for an incremental build of an output that has no spare, else None (the
        build uses it only if the cache in folder describes the output, section 8 of
        architecture.md; without a cache there is nothing to reuse, and so no clone)."""
        if options.clean or not options.save_cache or not can_fork() or not out.is_dir():
            return None
        if os.path.lexists(spare_path(out)) or not state_saved(folder):
            return None
        return _Clone(out)

    def listing(self) -> Listing | None:
        """What files_below(self.path) would give, once it is made; None if it failed."""
        return _listed(self._job)

    def close(self, failed: bool) -> None:
        """Stop it. A tree the build did not take (by renaming it) goes: at once when the
        build failed, which leaves nothing beside the output; else in the background."""
        self._job.close()
        if not os.path.lexists(self.path):
            return
        if failed:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            discard(self.path)


def _clone_behind(out: Path, path: Path) -> Listing:
    """clone_tree in the forked process, behind the build: its threads must not take a core
    from the build's own work, only what the build leaves."""
    with contextlib.suppress(OSError):
        os.nice(5)
    return clone_tree(out, path)


class _SpareListing:
    """Issue 8: the spare's files, listed by a forked process (to prune those no page
    writes, fill) while this one reads the cache and plans. It is forked before the cache is
    read: a process forked from a large one slows it down, each page the two share copied
    when it first writes to it.

    The listing is of the spare as it was before the build took the output lock: holds()
    tells, under the lock, that no build has taken the spare since. Every build that takes it
    renames it (into its new tree, which it swaps in) or, failing, removes it; a rename
    changes a folder's ctime, so that two builds in a row, which swap the output and the spare
    and then swap them back, are seen too."""

    def __init__(self, out: Path) -> None:
        self._before = _identity(out)
        self._job = Background(files_below, spare_path(out))

    @staticmethod
    def wanted(out: Path, options: Options) -> _SpareListing | None:
        """A listing for a build that may start from the spare, else None."""
        if options.clean or not options.save_cache or not can_fork():
            return None
        if not os.path.isdir(spare_path(out)) or os.path.islink(spare_path(out)):
            return None
        return _SpareListing(out)

    def holds(self, out: Path) -> bool:
        """The spare and the output are the folders they were when the listing began, not
        renamed since."""
        return self._before is not None and _identity(out) == self._before

    def listing(self) -> Listing | None:
        """What files_below gave for the spare; None if it failed."""
        return _listed(self._job)

    def close(self, failed: bool) -> None:
        self._job.close()


def _listed(job: Background[Listing]) -> Listing | None:
    """The listing a forked process made; None if it could not list the folder."""
    try:
        return job.result()
    except OSError:
        return None


def _identity(out: Path) -> tuple[int, int, int, int] | None:
    """The inode and ctime of the output and of its spare, or None."""
    try:
        now, spare = os.lstat(out), os.lstat(spare_path(out))
    except OSError:
        return None
    return now.st_ino, now.st_ctime_ns, spare.st_ino, spare.st_ctime_ns


def _compiled(folder: Path, options: Options) -> Path | None:
    """Where compiled templates are kept: in the cache folder, one folder per version of
    amwgen's code (Jinja checks a template's source, not the code that compiles it); None
    for a build that leaves the cache as it is (verify's clean build), or when the folder
    cannot be made. A --clean build starts the folder afresh, as it does the rest."""
    if not options.save_cache:
        return None
    version = code_digest().hex()
    try:
        root = make_cache_folder(folder) / "templates"
        root.mkdir(exist_ok=True)
        for other in root.iterdir():
            if other.name != version or options.clean:
                shutil.rmtree(other, ignore_errors=True)  # another version's: never used again
        folder = root / version
        folder.mkdir(exist_ok=True)
    except OSError:
        return None
    return folder


def _stamp_extra(options: Options, out: Path) -> str:
    """What besides the site's files decides the output: options, amwgen's code and theme."""
    theme = [str(THEME_DIR / name) for name in ("templates", "static", "translations")]
    stats = [part for folder in theme for part in stat_lines(folder, folder)]
    selection = (options.drafts, options.future, options.base_url, output_name(out))
    return combine(repr(selection), *stats)


def _respelt(result: Result, then: Path, site_dir: Path, out: Path) -> Result:
    """The last build's report in this build's spelling: its output, and the paths of its
    warnings below the site (`amwgen build site` from above, then `amwgen build .` inside
    it, said `-> site/public` and `site/content/...` again)."""
    if then == site_dir and result.output == out:
        return result

    def moved(problem: Problem) -> Problem:
        try:
            return replace(problem, path=site_dir / problem.path.relative_to(then))
        except ValueError:  # not below the site as then typed: as it was
            return problem

    return replace(result, output=out, warnings=tuple(map(moved, result.warnings)))


def _save_quick(
    folder: Path,
    site_dir: Path,
    options: Options,
    out: Path,
    stamp: str,
    checked: Checked,
    records: dict[str, Record],
    result: Result,
) -> None:
    if not options.save_cache:
        return
    files = tuple((name, r.size, r.mtime_ns, r.inode) for name, r in sorted(records.items()))
    folder_stat = out.stat()
    quick = Quick(
        stamp=stamp,
        valid_from=options.now.timestamp(),
        valid_until=checked.valid_until,
        output=output_name(out),
        output_inode=folder_stat.st_ino,
        output_mtime_ns=folder_stat.st_mtime_ns,
        files=files,
        summary=result,
        site=str(site_dir),
    )
    save_quick(folder, quick)


def input_key(
    options: Options,
    out: Path,
    checked: Checked,
    spec: EnvSpec,
    templates: str,
    statics: list[Path],
) -> str:
    """Digest of everything a build's output is made from, "now" included as far as it shows.

    templates: tree_digest of layouts/ and the theme's templates, with their bytes.
    """
    assert checked.index is not None
    prints = Fingerprints()
    selection = (options.drafts, options.future, output_name(out))
    return combine(
        prints.of(spec),
        prints.of(selection),
        "\n".join(sorted(checked.sources)),  # hex digests: one per line is unambiguous
        prints.of(checked.notes),
        prints.of(now_signature(checked.index)),
        templates,
        tree_digest(statics, contents=False),
    )


def _spare_intact(state: State, out: Path) -> bool:
    """The spare is the very folder the last build kept (spare_path)."""
    try:
        return state.spare_inode != 0 and os.lstat(spare_path(out)).st_ino == state.spare_inode
    except OSError:
        return False


def _asset(site_dir: Path, theme_static: Path, name: str) -> bytes:
    """The bytes of assets/<name>: the site's static/ copy, else the theme's."""
    site = site_dir / "static" / "assets" / name
    return (site if site.is_file() else theme_static / "assets" / name).read_bytes()


def _template_dirs(site_dir: Path) -> list[Path]:
    return [site_dir / "layouts", THEME_DIR / "templates"]


def seeded_prints(
    checked: Checked, brief: Index, briefs: dict[bytes, bytes]
) -> tuple[Fingerprints, dict[bytes, bytes]]:
    """Fingerprints that know each article's and entry's digest without walking it.

    An article is a pure function of its file's cache key (path, bytes, settings, code) and
    the link targets it consulted; its headline (index.headlines), of the article, so the
    headline's digest is kept across builds in briefs (article digest -> headline digest);
    an entry, of its article and its resolved terms. Returns the briefs of this build.
    """
    assert checked.index is not None
    prints = Fingerprints()
    known: dict[int, bytes] = {}
    for key, result in checked.sources.items():
        if result.kind == "articles" and result.value is not None:
            # The key is a digest already; with link targets consulted, their reprs (strings
            # and tuples of strings: unambiguous, and quick to make) go in with it.
            needs = result.needs
            digest = bytes.fromhex(key) if not needs else _digest_of(repr((key, needs)))
            prints.seed(result.value, digest)
            known[id(result.value)] = digest
    spelled: dict[int, str] = {}  # a term's link, shared by its entries, spelled once
    now_briefs: dict[bytes, bytes] = {}
    for entry, headline in zip(checked.index.entries, brief.entries, strict=True):
        article = known.get(id(entry.article)) or prints.of(entry.article)
        links = _links_text(entry.links, spelled)
        prints.seed(entry, _digest_of(links, article))
        short = briefs.get(article) or prints.of(headline.article)
        prints.seed(headline.article, short)
        prints.seed(headline, _digest_of(links, short))
        now_briefs[article] = short
    return prints, now_briefs


def _digest_of(text: str, prefix: bytes = b"") -> bytes:
    return hash_bytes(prefix + text.encode("utf-8", "surrogatepass"))


def _links_text(
    links: tuple[tuple[str, tuple[TermLink, ...]], ...], spelled: dict[int, str]
) -> str:
    """An entry's resolved terms, unambiguously: each link's name and URL as reprs."""
    parts = []
    for name, terms in links:
        parts.append(name)
        for link in terms:
            text = spelled.get(id(link))
            if text is None:
                text = spelled[id(link)] = f"{link.name!r}{link.url!r}"
            parts.append(text)
        parts.append("\n")
    return "".join(parts)


@dataclass(frozen=True)
class Inputs:
    """What a build planned its groups from, digest by name (kept in the cache): the next
    build looks again only at the groups that read, see, follow or show one that changed
    (plan_units)."""

    common: bytes  # the templates, settings and notes
    whole: bytes  # the headlines index with "now" (Group.sees None)
    terms: dict[str, bytes]  # term URL -> digest (Group.sees)
    orders: dict[str, bytes]  # term URL -> digest of its order (Group.near)
    newest: dict[str, bytes]  # term URL -> digest of its newest articles' order (Group.follows)
    entries: dict[str, bytes]  # article URL -> digest of its entry (Group.reads)
    headlines: dict[str, bytes]  # article URL -> digest of its headline (Group.shows)


@dataclass(frozen=True)
class _Changed:
    """What changed since the last build's Inputs: objects of this build by id, URLs."""

    whole: bool
    terms: set[int]
    orders: set[int]
    newest: set[int]
    entries: set[int]
    headlines: set[str]

    def touches(self, group: Group, before: GroupRecord) -> bool:
        if group.sees is None:
            if self.whole:
                return True
        elif not self.terms.isdisjoint(map(id, group.sees)):
            return True
        return not (
            self.newest.isdisjoint(map(id, group.follows))
            and (group.near is None or id(group.near[0]) not in self.orders)
            and self.entries.isdisjoint(map(id, group.reads))
            and self.headlines.isdisjoint(before.shows)
        )


def _changes(index: Index, terms: list[Term], now: Inputs, then: Inputs | None) -> _Changed | None:
    """What changed between then and now; None when everything may have. (now's dicts are
    in the order of terms and of the entries: _inputs.)"""
    if then is None or then.common != now.common:
        return None
    return _Changed(
        whole=then.whole != now.whole,
        terms=_differ(terms, now.terms, then.terms),
        orders=_differ(terms, now.orders, then.orders),
        newest=_differ(terms, now.newest, then.newest),
        entries=_differ(index.entries, now.entries, then.entries),
        headlines={url for url, d in now.headlines.items() if then.headlines.get(url) != d}
        | (then.headlines.keys() - now.headlines.keys()),
    )


def _differ(values: Sequence[object], now: dict[str, bytes], then: dict[str, bytes]) -> set[int]:
    """The ids of values (one per item of now, in its order) whose digest is not then's."""
    get = then.get
    return {id(v) for v, (name, d) in zip(values, now.items(), strict=True) if get(name) != d}


def _inputs(
    index: Index,
    brief: Index,
    terms: list[Term],
    urls: list[str],
    prints: Fingerprints,
    common: bytes,
    whole: bytes,
) -> tuple[Inputs, list[bytes]]:
    """The Inputs of this build (terms are brief's, urls the entries', both in order), and
    each entry's place in the site order as _order_keys spells it, by rank."""
    names = [t.url for t in terms]
    of = prints.of
    keys = _order_keys(brief.entries)
    orders, heads = _orders(keys, terms, names)
    inputs = Inputs(
        common,
        whole,
        dict(zip(names, map(of, terms), strict=True)),
        orders,
        heads,
        dict(zip(urls, map(of, index.entries), strict=True)),
        dict(zip(urls, map(of, brief.entries), strict=True)),
    )
    return inputs, keys


def _order_keys(entries: tuple[Entry, ...]) -> list[bytes]:
    """Each entry's date, slug and URL (what the site order and the links are made from, not
    its headline), by rank: an entry's place in entries."""
    return [
        f"{a.date.timestamp()!r}\x1f{a.slug}\x1f{a.url}\x1e".encode()
        for a in (e.article for e in entries)
    ]


def _orders(
    keys: list[bytes], terms: list[Term], names: list[str]
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Term URL (names) -> the digest of which articles it holds in which order, and of its
    newest (index.newest; the same digest for a term that holds no more)."""
    orders, heads = {}, {}
    for name, term in zip(names, terms, strict=True):
        orders[name] = digest = hash_bytes(_spelt(keys, term.entries))
        head = newest(term)
        if len(head) < len(term.entries):
            digest = hash_bytes(_spelt(keys, head))
        heads[name] = digest
    return orders, heads


def _spelt(keys: list[bytes], entries: Sequence[Entry]) -> bytes:
    """Entries in their order, each as _order_keys spells it: what the digests of a term's
    order and newest, and of a group's window, are made from."""
    return b"".join([keys[e.rank] for e in entries])


def plan_units(
    index: Index,
    brief: Index,
    checked: Checked,
    prints: Fingerprints,
    render_key: str,
    old: dict[str, GroupRecord],
    then: Inputs | None = None,
) -> tuple[list[Unit], Inputs]:
    """Every group of pages, each to make, or to reuse when its key is the last build's.

    The key covers the group's function and arguments, and every template and setting: a
    template edit makes every group again, and each page is then re-rendered only if its
    own templates changed (workers._one). A group's arguments are a function of its name,
    the notes, the full entries it reads (Group.reads), the parts of the headlines index it
    sees (Group.sees; the whole index with "now" when it does not say) and, for an article's
    page, the order of the newest articles of the terms it follows, its window in its topic
    and the headlines it showed (Group.follows, Group.near, Group.shows): while these are as
    they were, the key is the last build's. When one changed, the key is made from the
    arguments; for an article's page with a topic, first its outline key, made from these
    without making the arguments (Related News), which holds when the only change was to
    its topic's order outside its window. An article's body edited changes no headline; its
    scores edited change the terms it is on, and only the groups that see those or showed
    it are looked at again; an article added, the groups whose terms it is among the newest
    of, and those of its topics' articles (whose windows are looked at).
    """
    # "now" as far as pages show it (the input key has the same).
    timeless = replace(brief, now=EPOCH)
    whole = prints.of(timeless) + prints.of(now_signature(index))
    # Fourteen thousand groups: the common part hashed once, each group's added to a copy.
    common = new_hasher(render_key.encode() + prints.of(checked.notes))
    terms = [term for _, ts in brief.terms for term in ts]
    urls = [entry.article.url for entry in index.entries]  # the headlines' too, by rank
    now, keys = _inputs(index, brief, terms, urls, prints, final_digest(common), whole)
    changed = _changes(index, terms, now, then)
    headline = dict(zip(urls, brief.entries, strict=True))
    lists = cache(partial(posting_lists, brief))  # for the article groups and arrivals
    arrivals = _arrivals(brief, terms, keys, now, then, changed, lists)
    units = []
    for group in plan_groups(index, checked.notes, brief, lists):
        before = old.get(group.name)
        if before is not None and changed is not None and not changed.touches(group, before):
            # Nothing its key is a function of changed: the key is the last build's,
            # found without hashing (base b"": a group made after all, its files damaged,
            # records no outline key, workers._unit).
            units.append(Unit(group, before.key, before, len(before.files), before.outline))
            continue
        size = len(before.files) if before else 1
        # A group the last build did not make has no key to hold to: the key goes in its
        # record only, and is made by the process that makes the group (workers.group_key),
        # beside the others, rather than here one by one (a clean build's fourteen thousand).
        key = ""
        if group.near is None:
            # Only a group that shows a window of what it follows (an article's topic) can
            # keep its outline key when looked at again: its topic's order changed, but not
            # around it. Any other's outline changes with what touched it (a term it sees or
            # follows, an entry it reads, a headline it showed). Its key, then: a record
            # whose key holds stays as it was.
            if (
                arrivals is not None
                and before is not None
                and changed is not None
                and group.shows is article_shows
                and changed.entries.isdisjoint(map(id, group.reads))
                and changed.headlines.isdisjoint(before.shows)
                and arrivals.keep(group, before.shows, headline)
            ):
                # An article without a topic, reached only by articles that arrived in
                # the newest of its terms, none of which makes its Related News.
                units.append(Unit(group, before.key, before, size))
                continue
            if before is not None:
                key = group_key(render_key, group, prints)
            same = before if before and before.key == key else None
            units.append(Unit(group, key, same, size))
            continue
        prefix = _prefix(common, group, whole, prints)
        window = group.near[1]()
        base = _base(prefix, group, now.newest, window, keys, prints)
        # The headlines the last build's pages showed: the same ones, in the same order,
        # while the terms followed hold the same articles (workers._unit records them).
        shown = [headline.get(url) for url in before.shows] if before is not None else []
        rough = outline_key(base, prints, shown)
        if before is not None and before.outline == rough:
            units.append(Unit(group, before.key, before, size, rough, base))
            continue
        if (
            arrivals is not None
            and before is not None
            and then is not None
            and outline_key(_base(prefix, group, then.newest, window, keys, prints), prints, shown)
            == before.outline
            and arrivals.keep(group, before.shows[len(window) :], headline)
        ):
            # All that changed is the newest of its terms, by articles that arrived there,
            # and its Related News stays: its page is the last build's (index.related_stays).
            units.append(Unit(group, before.key, before, size, rough, base))
            continue
        if before is not None:
            key = group_key(render_key, group, prints)
        same = before if before and before.key == key else None
        units.append(Unit(group, key, same, size, rough, base))
    return units, now


def _prefix(common: _Hash, group: Group, whole: bytes, prints: Fingerprints) -> _Hash:
    """The hasher of a group's outline key, up to the terms it follows (_base)."""
    hasher = common.copy()
    hasher.update(f"\0{make_name(group)}\0{group.name}\0".encode())
    if group.sees is None:
        hasher.update(whole)
    else:
        # Terms, each digested once (for the whole index) for all the groups that see it.
        hasher.update(prints.joined(group.sees))
    return hasher


def _base(
    prefix: _Hash,
    group: Group,
    newest: dict[str, bytes],
    window: tuple[Entry, ...],
    keys: list[bytes],
    prints: Fingerprints,
) -> bytes:
    """A group's outline digest before the headlines shown (workers.outline_key): what it
    sees, its terms' newest (this build's or, to tell what changed, the last build's), its
    window and the full entries it reads."""
    hasher = prefix.copy()
    for term in group.follows:
        hasher.update(newest.get(term.url, b""))
    hasher.update(b"\x1d" + _spelt(keys, window))
    for entry in group.reads:
        hasher.update(prints.of(entry))
    return final_digest(hasher)


@dataclass(frozen=True)
class _Arrivals:
    """Issue 8: articles new to the site, and the URLs they pushed out of their terms'
    newest, when that is all that changed in the newest of any term (the usual case: a
    story published). An article group reached only by that keeps its page when its Related
    News stays (index.related_stays): of the thousands of articles on a new story's terms,
    only those it comes among the five of are made again."""

    arrived: tuple[Entry, ...]
    left: frozenset[str]
    lists: Callable[[], dict[str, Posting]]  # index.posting_lists(brief), made when first needed

    def keep(self, group: Group, shown: Sequence[str], headline: dict[str, Entry]) -> bool:
        """Whether the article group's Related News, shown (URLs) by the last build, stays."""
        entries = [found for found in map(headline.get, shown) if found is not None]
        if len(entries) < len(shown):  # one of them is gone
            return False
        (entry,) = group.reads
        return related_stays(entry, entries, self.arrived, self.left, self.lists())


def _arrivals(
    brief: Index,
    terms: list[Term],
    keys: list[bytes],
    now: Inputs,
    then: Inputs | None,
    changed: _Changed | None,
    lists: Callable[[], dict[str, Posting]],
) -> _Arrivals | None:
    """The _Arrivals of this build against the last (terms are brief's, in now's order),
    or None: no term's newest changed, or one changed otherwise than by articles arriving
    (its newest before them is not the one the last build digested)."""
    if then is None or changed is None or not changed.newest:
        return None
    arrived = tuple(e for e in brief.entries if e.article.url not in then.headlines)
    fresh = {id(e) for e in arrived}
    left: set[str] = set()
    none = hash_bytes(b"")  # a term new to the site (a story's new tag) held no article
    for term in terms:
        if id(term) not in changed.newest:
            continue
        older = newest_before(term, fresh)
        if hash_bytes(_spelt(keys, older)) != then.newest.get(term.url, none):
            return None
        held = {id(e) for e in newest(term)}
        left.update(e.article.url for e in older if id(e) not in held)
    return _Arrivals(arrived, frozenset(left), lists)


def tree_digest(roots: list[Path], contents: bool, unread: list[Problem] | None = None) -> str:
    """Digest of the files below roots: names and bytes, or names, sizes and mtimes.
    unread gets each folder that cannot be listed, as a located problem. A file is named by
    its root's place in roots and its path below it: not by the site's folder as typed."""
    parts: list[str] = []
    for number, root in enumerate(roots):
        # Linked folders are followed, as Jinja's loader and the static copy follow them;
        # one that cannot be listed counts as such (the copy or check says so, located).
        # Folders count too: the copy makes an empty one (a review: static/empty was not in
        # the output until a clean build).
        found: list[Problem] = []
        walked = list(walk_tree(root, found))
        parts += [f"{number}:{rel}\0folder" for rel, _, folder in walked if folder]
        parts += [f"{number}:{os.path.relpath(problem.path, root)}\0unread" for problem in found]
        if unread is not None:
            unread += found
        for rel, path, folder in walked:
            if folder:
                continue
            stat = path.stat()
            seen = f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"
            body = path.read_bytes().hex() if contents else seen
            parts.append(f"{number}:{rel}\0{body}")
    return combine(*parts)


def _result(
    checked: Checked, out: Path, started: float, records: dict[str, Record], rendered: int
) -> Result:
    assert checked.index is not None
    return Result(
        problems=(),
        warnings=checked.warnings,
        output=out,
        pages=_count_files(records),
        terms=tuple((t.name, len(terms)) for t, terms in checked.index.terms),
        seconds=time.perf_counter() - started,
        files=len(records),
        rendered=rendered,
        valid_until=checked.valid_until,
    )


def _static_dirs(site_dir: Path, theme_static: Path) -> list[Path]:
    """Theme assets first, so that the site's static/ can replace any of them."""
    return [theme_static, site_dir / "static"]


def _count_files(records: dict[str, Record]) -> tuple[tuple[str, int], ...]:
    """Output files by kind: the first folder of their path (news, tags ...), or the file."""
    counts = Counter(
        name.split("/", 1)[0] if "/" in name else name.removesuffix(".html") for name in records
    )
    return tuple(sorted(counts.items()))


def verify(site_dir: Path, options: Options, output: Path) -> list[str]:
    """Issue 8: build from scratch into a temp folder beside output; the files that differ.

    Returns the relative paths whose bytes differ (or exist on one side only), sorted.
    """
    with tempfile.TemporaryDirectory(prefix=".amwgen-verify-", dir=output.parent) as tmp:
        clean = replace(options, output=Path(tmp) / "site", clean=True, save_cache=False)
        result = build(site_dir, clean)
        if result.problems or result.output is None:
            return ["(the clean build failed)"]
        return differing_files(output, result.output)


def differing_files(a: Path, b: Path) -> list[str]:
    """Relative paths of files that differ between two trees, byte for byte."""
    files_a, files_b = _files(a), _files(b)
    differ = set(files_a) ^ set(files_b)
    for rel in set(files_a) & set(files_b):
        if files_a[rel].stat().st_size != files_b[rel].stat().st_size or (
            files_a[rel].read_bytes() != files_b[rel].read_bytes()
        ):
            differ.add(rel)
    return sorted(differ)


def _files(root: Path) -> dict[str, Path]:
    return dict(walk_files(root))


_TEMPLATE_FRAME = re.compile(r'File "([^"]+\.(?:html|xml|txt))", line (\d+)')


def template_problem(err: BaseException, site_dir: Path) -> Problem | None:
    """An error raised while rendering a template, as a located problem at the template's
    file and line; None when no template is involved (a bug of ours)."""
    path, line = "", 1
    if isinstance(err, jinja2.TemplateSyntaxError):
        path, line = err.filename or err.name or "", err.lineno
    elif isinstance(err, TemplateFault):
        path = err.filename or err.name
    else:
        # Jinja rewrites tracebacks to template lines; from a worker they come back as text.
        text = "".join(traceback.format_tb(err.__traceback__)) + str(err.__cause__ or "")
        frames = _TEMPLATE_FRAME.findall(text)
        if frames:
            path, line = frames[-1][0], int(frames[-1][1])
        elif not isinstance(err, jinja2.TemplateError):
            return None
    shown = Path(path) if path else Path("layouts")
    if shown.is_absolute() and shown.is_relative_to(site_dir.absolute()):
        shown = site_dir / shown.relative_to(site_dir.absolute())
    if isinstance(err, jinja2.TemplateError):
        message = err.message or type(err).__name__
    else:
        message = f"{type(err).__name__}: {err}"
    return Problem(shown, line, "template", message)
