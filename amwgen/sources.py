"""content/ -> Content, reusing each file's validated result while its bytes are unchanged.

Every source file is validated on its own (validate.validate_article and its siblings): a
file whose key (its path below content/, bytes, settings, amwgen version) is in the cache, and
whose links still lead where they led, is not parsed again. Neither the key nor the files'
stats kept between builds hold the site's folder as typed (`site` from above, `.` inside it):
a cached result is given this build's spelling of its file's path (_named). Files that must
be parsed are parsed once, in forked workers when there are many; only those linking to other
files are validated a second time, once every file's URL is known.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from amwgen.fingerprint import Fingerprints, combine, hash_bytes
from amwgen.load import SPECIAL_DIRS, find_sources, parse_doc
from amwgen.model import Content, PlainPage, Problem, Profile, RawDoc, SiteConfig, cannot_read
from amwgen.parallel import fork_map
from amwgen.validate import (
    PROFILE_KEYS,
    LinkUse,
    Targets,
    duplicate_slugs,
    link_key,
    link_target,
    slug_of,
    validate_article,
    validate_page,
    validate_profile,
)

MIN_PARALLEL = 200  # files to parse before forking workers pays off
# A file changed this recently may change again within the same timestamp tick, unseen by
# its stat ("racy stat", as git calls it): its bytes are read rather than trusted by stat.
RACY_SECONDS = 2.0

Stat = tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns
Seen = dict[str, tuple[Stat, str]]  # path below content/ -> its stat and the digest of its bytes


@dataclass(frozen=True)  # no slots: pickled in bulk, and slotted classes pickle slowly
class DocResult:
    """What one source file yields; cached by its key."""

    kind: str  # "articles", "pages", "topics", "players" or "editions"
    target: str | None  # the URL links to this file lead to
    slug_line: int
    value: Any  # Article | PlainPage | Profile | RawDoc (editions) | None
    problems: tuple[Problem, ...]
    needs: tuple[tuple[str, str | None], ...]  # link targets it consulted, with their URLs
    # An article or page that failed: the slug it would have, which another may share (that
    # is reported in the same run, not once its own errors are fixed).
    slug: str = ""
    # Its links to source files, each with the URL it leads to (validate.LinkUse): to tell a
    # link to a page this build does not make (a draft's, one dated later) once it is known.
    links: tuple[LinkUse, ...] = ()


@dataclass(frozen=True, slots=True)
class Gathered:
    content: Content
    problems: tuple[Problem, ...]
    notes: tuple[RawDoc, ...]  # content/editions/*.md, validated by the editions stage
    results: dict[str, DocResult]  # key -> result: the cache for the next build
    seen: Seen  # stat and digest of each file read: the next build reads only changed ones


@dataclass(frozen=True, slots=True)
class _Source:
    rel: str
    name: str  # its path, as a string: a Path per file is slow to make
    kind: str
    data: bytes | None  # None: known unchanged by its stat, read only if it must be parsed
    key: str
    digest: str  # of its bytes

    @property
    def path(self) -> Path:
        return Path(self.name)


def gather(
    site_dir: Path,
    config: SiteConfig,
    cache: dict[str, DocResult],
    jobs: int,
    seen: Seen | None = None,
    stats: dict[str, os.stat_result] | None = None,
) -> Gathered:
    """Validate every file below content/, reusing cached results for unchanged files.

    Files are parsed once (in forked workers when there are many); only those that link to
    other files are validated a second time, once every file's URL is known.
    seen: the last build's stats; a file whose stat is unchanged is not read again.
    stats: this build's stats by path, taken before any file was read (input_stamp).
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    settings = combine(Fingerprints().of(config))
    before, now_seen = seen or {}, Seen()
    racy = time.time() - RACY_SECONDS
    content = str(site_dir / "content")
    sources = [
        _read(content, rel, settings, problems, (before, now_seen, racy), stats or {})
        for rel in find_sources(site_dir, warnings, problems)
    ]
    # A file known by its stat is read only if it must be parsed; should its bytes have
    # changed since the stat, it gets the key of what is read (_with_bytes).
    present = [s if s.key in cache else _with_bytes(s, settings) for s in sources if s is not None]
    # Pass 1: validate new files as if no link led anywhere, noting which links each has.
    fresh = [s for s in present if s.key not in cache]
    validated = fork_map(_validate, fresh, (config, {}), jobs, MIN_PARALLEL)
    results = {s.key: cache.get(s.key) for s in present}
    results.update(zip((s.key for s in fresh), validated, strict=True))
    targets: Targets = {}
    for source in present:
        target = results[source.key].target  # type: ignore[union-attr]
        if target is not None:
            targets[link_key(source.rel)] = target
    # Pass 2: again, with every file's URL known, those whose links now lead elsewhere.
    # (Few: only files with links to other .md files.)
    for i, source in enumerate(present):
        if not _still_valid(results[source.key], targets):
            present[i] = _with_bytes(source, settings)
            results.setdefault(present[i].key, None)
    stale = [s for s in present if not _still_valid(results[s.key], targets)]
    again = fork_map(_validate, stale, (config, targets), jobs, MIN_PARALLEL)
    results.update(zip((s.key for s in stale), again, strict=True))
    final = {key: result for key, result in results.items() if result is not None}
    return _assemble(present, final, problems, warnings, now_seen)


def _with_bytes(source: _Source, settings: str) -> _Source:
    """source with its bytes read (when only its stat was), keyed by what was read."""
    if source.data is not None:
        return source
    try:
        data = _bytes_of(source.name)
    except OSError:
        return source  # _validate reads it again and reports why it cannot
    digest = hash_bytes(data).hex()
    if digest == source.digest:
        return replace(source, data=data)
    key = _key(settings, source.kind, source.rel, digest)
    return replace(source, data=data, digest=digest, key=key)


def _key(settings: str, kind: str, rel: str, digest: str) -> str:
    """A source file's cache key: the settings, its kind and path below content/, and its
    bytes' digest."""
    return combine(settings, kind, rel, digest)


def _named(result: DocResult, source: _Source) -> DocResult:
    """result with its file's path as this build names it: a cached one has the path the
    build that made it was given, which may have named the site another way. (Its problems
    are all in its own file: problems between files, such as a slug taken twice, are found
    by each build.)"""
    value, name = result.value, source.name
    if (value is None or str(value.path) == name) and all(
        str(problem.path) == name for problem in result.problems
    ):
        return result
    path = source.path
    return replace(
        result,
        value=None if value is None else replace(value, path=path),
        problems=tuple(replace(problem, path=path) for problem in result.problems),
    )


def _read(
    content: str,
    rel: str,
    settings: str,
    problems: list[Problem],
    seen: tuple[Seen, Seen, float],
    stats: dict[str, os.stat_result],
) -> _Source | None:
    """content: the content folder's path; rel: the file's posix path below it."""
    before, now_seen, racy = seen
    name = f"{content}/{rel}"
    data: bytes | None = None
    try:
        st = stats.get(name) or os.stat(name)
        stat = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        known = before.get(rel)
        if known is not None and known[0] == stat:
            digest = known[1]
        else:
            data = _bytes_of(name)
            digest = hash_bytes(data).hex()
    except OSError as err:
        problems.append(cannot_read(Path(name), err))
        return None
    if st.st_ctime_ns / 1e9 < racy and st.st_mtime_ns / 1e9 < racy:
        now_seen[rel] = (stat, digest)
    top = rel.split("/", 1)[0] if "/" in rel else ""
    kind = top if top in SPECIAL_DIRS else "articles"
    return _Source(rel, name, kind, data, _key(settings, kind, rel, digest), digest)


def _bytes_of(name: str) -> bytes:
    with open(name, "rb") as f:
        return f.read()


def _still_valid(result: DocResult | None, targets: Targets) -> bool:
    return result is not None and all(targets.get(rel) == url for rel, url in result.needs)


class _Recording(dict[str, str]):
    """Link targets that remember which of them a document asked for."""

    def __init__(self, targets: Targets) -> None:
        super().__init__(targets)
        self.asked: dict[str, str | None] = {}

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key)
        self.asked[key] = value
        return value if value is not None else default


def _validate(source: _Source, context: tuple[SiteConfig, Targets]) -> DocResult:
    config, targets = context
    problems: list[Problem] = []
    data = source.data
    if data is None:
        try:
            data = _bytes_of(source.name)
        except OSError as err:
            problem = cannot_read(source.path, err)
            return DocResult(source.kind, None, 1, None, (problem,), ())
    doc = parse_doc(source.path, source.rel, data, problems)
    if doc is None:
        return DocResult(source.kind, None, 1, None, tuple(problems), ())
    recording = _Recording(targets)
    value: Any
    found: list[Problem]
    links: list[LinkUse] = []
    if source.kind == "articles":
        value, found = validate_article(doc, config, recording, links)
    elif source.kind == "pages":
        value, found = validate_page(doc, config, recording, links)
    elif source.kind in PROFILE_KEYS:
        value, found = validate_profile(doc, source.kind, config, recording, links)
    else:
        value, found = doc, []
    target = link_target(doc, source.kind, config)
    needs = tuple(sorted(recording.asked.items()))
    line = doc.key_lines.get("slug", 1)
    failed = slug_of(doc) if value is None and source.kind in ("articles", "pages") else ""
    problems += found
    return DocResult(source.kind, target, line, value, tuple(problems), needs, failed, tuple(links))


def _assemble(
    sources: list[_Source],
    results: dict[str, DocResult],
    problems: list[Problem],
    warnings: list[Problem],
    seen: Seen,
) -> Gathered:
    by_kind: dict[str, list[Any]] = {kind: [] for kind in ("articles", *SPECIAL_DIRS)}
    failed: dict[str, list[tuple[str, Path]]] = {kind: [] for kind in by_kind}
    line_of: dict[str, int] = {}
    for source in sources:
        result = results[source.key] = _named(results[source.key], source)
        problems.extend(result.problems)
        line_of[source.name] = result.slug_line
        if result.value is not None:
            by_kind[source.kind].append(result.value)
        elif result.slug:
            failed[source.kind].append((result.slug, source.path))
    articles, pages = by_kind["articles"], by_kind["pages"]
    # Two profiles of one term (topics/robotics.md, topics/sub/Robotics.md) too: one title
    # would win, in silence.
    for kind in ("articles", "pages", *PROFILE_KEYS):
        keys = [(doc.slug, doc.path) for doc in by_kind[kind]] + failed[kind]
        twice = {slug for slug, n in Counter(slug for slug, _ in keys).items() if n > 1}
        lines = {path: line_of.get(str(path), 1) for slug, path in keys if slug in twice}
        problems += duplicate_slugs(keys, lines)
    profiles: list[tuple[str, tuple[Profile, ...]]] = [
        (taxonomy, tuple(by_kind[taxonomy])) for taxonomy in PROFILE_KEYS
    ]
    plain: tuple[PlainPage, ...] = tuple(pages)
    content = Content(tuple(articles), tuple(profiles), plain, tuple(warnings))
    notes = tuple(by_kind["editions"])
    results_now = {s.key: results[s.key] for s in sources}
    return Gathered(content, tuple(problems), notes, results_now, seen)
