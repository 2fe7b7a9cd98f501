"""The build cache (.amwgen-cache/): validated documents by content hash, and a record per
output file of the digest of everything it was rendered from.

Rules (docs/performance.md):
- a source file is parsed and validated again only when its bytes, its path, the settings
  that validation reads or the amwgen version change;
- a page is rendered again only when its input digest changes: its data (walked field by
  field), the templates it can reach, the settings and the amwgen version;
- a rendered page whose bytes equal the previous output's is hard-linked from it, so its
  mtime stays and uploads see only real changes.
The cache is safe to delete: without it every page is rendered.
"""

from __future__ import annotations

import copyreg
import os
import pickle
import stat
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PosixPath
from typing import Any, BinaryIO

import jinja2
import jinja2.meta

from amwgen.fingerprint import code_digest, combine, hash_bytes
from amwgen.model import Unpickler
from amwgen.parallel import fork_map
from amwgen.render import Text, joined, template_names
from amwgen.write import file_identity, files_below, open_identity

CACHE_DIR = ".amwgen-cache"
# amwgen serve builds with its own base URL into a folder of its own: with the build's cache,
# each would find the other's and start from nothing (every file parsed, every page made).
SERVE_CACHE = "serve"
# The cache of builds into a folder other than the site's output (`-o`): a preview built
# elsewhere leaves the cache of the site's output as it was, so the next ordinary build is
# as quick as it would have been (it rendered every page again).
OTHER_CACHE = "other"
STATE_FILE = "state.pickle"
CARDS_FILE = "cards.pickle"
# Templates reached through Python globals rather than {% extends/include/import %}: a
# template that names the global reaches them.
GLOBAL_TEMPLATES = {"card_html": ("card.html",)}
# What a template that includes or extends a computed name reaches: any template at all.
ANY_TEMPLATE = "*"


# Template name -> the digest of its source and the templates it names.
TemplateRefs = dict[str, tuple[bytes, tuple[str, ...]]]


@dataclass(frozen=True)  # no slots: pickled in bulk, and slotted classes pickle slowly
class Record:
    """One output file as the last build left it."""

    input: str  # digest of what the page was rendered from
    digest: str  # digest of its bytes
    size: int
    mtime_ns: int
    inode: int = 0


@dataclass(frozen=True, slots=True)
class CardStore:
    """The cards of the last build, by headline digest, with the key of the templates and
    settings they were rendered with (kept in the cache)."""

    key: str
    text: Text  # UTF-8
    spans: dict[bytes, tuple[int, int, int]]  # headline digest -> start, h2 end/h4 start, end
    # The cache files text is kept in, in order, with their lengths and CRC-32s
    # (save_cards): a build that adds a few cards writes a file of those only, rather than
    # all ten thousand again. () when none of text is saved yet.
    segments: tuple[tuple[str, int, int], ...] = ()


@dataclass
class State:
    """What the last successful build knew; restored from the cache folder."""

    # The code that wrote it: a cache written by other code is not read at all.
    version: str = field(default_factory=lambda: code_digest().hex())
    docs: dict[str, Any] = field(default_factory=dict)  # source key -> validated result
    parts: dict[int, dict[str, Any]] = field(default_factory=dict)  # docs' shards as read
    seen: dict[str, Any] = field(default_factory=dict)  # source path -> (stat, digest)
    output: str = ""  # absolute path of the output folder these records describe
    output_inode: int = 0
    # The output folder's own mtime: a file put into it by hand or by a deploy step (a CNAME)
    # changes it, and a build then removes that file, as a clean one would not write it.
    output_mtime_ns: int = 0
    records: dict[str, Record] = field(default_factory=dict)  # output file -> record
    input_key: str = ""  # digest of the whole input of the last build
    groups: dict[str, Any] = field(default_factory=dict)  # group name -> workers.GroupRecord
    inputs: Any = None  # build.Inputs: the digests the groups were planned from
    briefs: dict[bytes, bytes] = field(default_factory=dict)  # article -> headline digest
    # The cards this build made, kept apart (CARDS_FILE) and read only by a build that
    # makes many pages (load_cards); None: the files stay as they are.
    cards: CardStore | None = None
    template_refs: TemplateRefs = field(default_factory=dict)  # TemplateDigests.refs
    # Each static file's copy in the output: its source's stat when copied, and the copy's
    # inode, size, mtime and mode (write.StaticCopies), so that the next build links the
    # copy rather than copying the bytes again while the source is the same file.
    statics: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    # The output before last, kept beside the output (write.spare_path) to be brought up to
    # date by the next build instead of linking every file anew: its inode (its files are
    # listed, with their inodes, sizes and mtimes, while the next build plans).
    spare_inode: int = 0
    # records and groups are kept in shards too (TABLES): each shard as read, and the mark
    # of the build that wrote each shard file, which state.pickle names (a shard file that
    # is not the one state.pickle was written with leaves the state without what it knew of
    # the output, _without_output).
    tables: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    marks: dict[str, dict[int, str]] = field(default_factory=dict)
    # Each table's journal as read (JOURNAL): what changed since its shards were written.
    journals: dict[str, Journal] = field(default_factory=dict)


# Validated documents are kept in shards by key, so that a build that re-validated a few
# files rewrites a few shards, not every article's HTML.
SHARDS = 32


def _shard_file(number: int) -> str:
    return f"docs-{number:02}.pickle"


def _shard(key: str) -> int:
    return int(key[-4:], 16) % SHARDS  # keys are hex digests


# The output's records and the groups' records, by file and by group name: a build that
# changed a few pages rewrites a few shards of each, not 35,000 records.
TABLES = ("records", "groups")


# A build that changed a few of the 35,000 output records (an article added: 1,270) would
# still rewrite nearly every shard (its changes fall in all of them): 64 files, 0.20-0.26 s.
# Its changes since the shards were last written go into one file per table instead, the
# journal, until they are more than a JOURNAL_SHARE of the table: then the shards that
# differ are written again and the journal is named no more (its file stays, unread). The
# journal is marked, and state.pickle names its mark under the number JOURNAL, as it names
# each shard's.
JOURNAL = -1
JOURNAL_SHARE = 0.25
Journal = tuple[dict[str, Any], frozenset[str]]  # entries changed or new, names gone
_NO_JOURNAL: Journal = ({}, frozenset())


def _table_file(table: str, number: int) -> str:
    if number == JOURNAL:
        return f"{table}-journal.pickle"
    return f"{table}-{number:02}.pickle"


def _name_shard(name: str) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % SHARDS


def load_state(folder: Path, output: bool = True) -> State:
    """The state cached in folder (a cache folder: cache_folder), or an empty one when there
    is none or it cannot be used. output: False reads only what the content gave (the
    validated documents), not what the last build knew of its output (`amwgen check`)."""
    state = _load(folder / STATE_FILE)
    if not isinstance(state, State) or state.version != code_digest().hex():
        return State()
    for number in range(SHARDS):
        found = _load(folder / _shard_file(number))
        if isinstance(found, tuple) and len(found) == 2 and found[0] == state.version:
            state.parts[number] = found[1]
            state.docs.update(found[1])
    if not output:
        return _without_output(state)
    for table in TABLES:
        merged: dict[str, Any] = {}
        parts = state.tables[table] = {}
        journal = _NO_JOURNAL
        for number, mark in state.marks.get(table, {}).items():
            found = _load(folder / _table_file(table, number))
            if not (isinstance(found, tuple) and len(found) == 2 and found[0] == mark):
                return _without_output(state)  # not the file it was saved with (cut short)
            if number == JOURNAL:
                journal = found[1]
            else:
                parts[number] = found[1]
                merged.update(found[1])
        changed, gone = journal  # over the shards
        for name in gone:
            merged.pop(name, None)
        merged.update(changed)
        state.journals[table] = journal
        setattr(state, table, merged)
    return state


def _without_output(state: State) -> State:
    """state without what it knew of the output (its records and groups do not go with it):
    every page is rendered, while validated documents, which are keyed by their bytes, are
    still used."""
    return replace(
        state,
        records={},
        groups={},
        tables={},
        marks={},
        journals={},
        output="",
        output_inode=0,
        input_key="",
        inputs=None,
        spare_inode=0,
        statics={},
    )


def state_saved(folder: Path) -> bool:
    """Whether a build saved its state (load_state may still find it unusable)."""
    return (folder / STATE_FILE).is_file()


def load_cards(folder: Path) -> CardStore | None:
    """The cards the cache holds, or None."""
    found = _load(folder / CARDS_FILE)
    if not (isinstance(found, tuple) and len(found) == 4 and found[0] == code_digest().hex()):
        return None
    _, key, segments, spans = found
    parts = []
    try:
        for name, length, crc in segments:
            part = (folder / name).read_bytes()
            # Cut short or damaged (a file renamed into place before its bytes reached the
            # disk may be zeros after a power cut): a card is decoded only when shown.
            if len(part) != length or zlib.crc32(part) != crc:
                return None
            parts.append(part)
    except (OSError, TypeError, ValueError):  # a file removed by another build meanwhile
        return None
    return CardStore(key, joined(parts), spans, segments)


def save_cards(folder: Path, version: str, cards: CardStore) -> None:
    """Write a CardStore: the part of its text that no cache file holds yet, in a
    file of its own, then the index naming its files; files it does not name go. Each file
    is written once and never changed, so a build reading the cache while another writes it
    finds either store whole, or a file missing (and renders its cards)."""
    segments = list(cards.segments)
    saved = sum(length for _, length, _ in segments)
    if saved < len(cards.text) or not segments:
        name = f"cards-{os.urandom(8).hex()}.txt"
        tail = cards.text.cut(saved, len(cards.text))
        _write_whole(folder / name, lambda f: f.write(tail))
        segments.append((name, len(tail), zlib.crc32(tail)))
    _dump(folder / CARDS_FILE, (version, cards.key, tuple(segments), cards.spans))
    named = {name for name, _, _ in segments}
    for path in folder.glob("cards-*.txt*"):
        # Files no store names; a file being written is left alone for an hour (another
        # build sharing the cache may be about to name it), then taken for one a killed
        # build left.
        if path.name not in named and (path.suffix == ".txt" or _older(path, 3600)):
            path.unlink(missing_ok=True)


def _older(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            return Unpickler(f).load()
    except Exception:  # missing, cut short, or written by other code: only speed is lost
        return None


def save_state(folder: Path, state: State, loaded: State | None = None) -> None:
    """Write the state atomically, with the shards of documents that changed since loaded
    was read; a cache that cannot be written only costs speed."""
    parts: dict[int, dict[str, Any]] = {number: {} for number in range(SHARDS)}
    for key, value in state.docs.items():
        parts[_shard(key)][key] = value
    # What was read, if this code wrote it: its shards, as they are on disk.
    before = loaded if loaded is not None and loaded.version == state.version else State()
    mark = f"{state.version}-{os.urandom(8).hex()}"  # this save's shard files
    marks: dict[str, dict[int, str]] = {}
    try:
        make_cache_folder(folder)
        for number, part in parts.items():
            if _changed(part, before.parts.get(number)):
                _dump(folder / _shard_file(number), (state.version, part))
        for table in TABLES:
            marks[table] = _save_table(folder, table, getattr(state, table), before, mark)
        if state.cards is not None:
            save_cards(folder, state.version, state.cards)
        kept = replace(
            state, docs={}, parts={}, cards=None, records={}, groups={}, tables={}, journals={}
        )
        _dump(folder / STATE_FILE, replace(kept, marks=marks))
    except OSError:
        pass


def _save_table(
    folder: Path, table: str, now: dict[str, Any], before: State, mark: str
) -> dict[int, str]:
    """Save a table (records or groups) as its journal, or as the shards that changed; the
    marks of the files it is then kept in, by number."""
    shards_then = before.tables.get(table, {})
    old_marks = before.marks.get(table, {})
    if all(number in old_marks for number in range(SHARDS)):
        # What changed since the shards were written: the journal read, and this build's
        # changes to what was read (values compared by identity, as _changed does).
        read: dict[str, Any] = getattr(before, table)
        changed, gone = before.journals.get(table, _NO_JOURNAL)
        new = {name: value for name, value in now.items() if read.get(name) is not value}
        left = read.keys() - now.keys()
        if new or left:
            changed = {name: v for name, v in changed.items() if name not in left} | new
            gone = frozenset((gone | left) - changed.keys())
        if len(changed) + len(gone) <= JOURNAL_SHARE * len(now):
            marks = {number: old_marks[number] for number in range(SHARDS)}
            if not (new or left):  # the journal, if any, stands as it is
                if JOURNAL in old_marks:
                    marks[JOURNAL] = old_marks[JOURNAL]
            else:  # new or left: changed or gone holds them
                _dump(folder / _table_file(table, JOURNAL), (mark, (changed, gone)))
                marks[JOURNAL] = mark
            return marks
    shards: dict[int, dict[str, Any]] = {number: {} for number in range(SHARDS)}
    for name, value in now.items():
        shards[_name_shard(name)][name] = value
    marks = {}
    for number, shard in shards.items():
        if not _changed(shard, shards_then.get(number)) and number in old_marks:
            marks[number] = old_marks[number]
        else:
            _dump(folder / _table_file(table, number), (mark, shard))
            marks[number] = mark
    # No journal named: the shards hold the table whole (a journal file left is not read).
    return marks


def _changed(part: dict[str, Any], old: dict[str, Any] | None) -> bool:
    """Whether a shard differs from the one read (values compared by identity: what a build
    takes over from the last one is the very object it read)."""
    return old is None or old.keys() != part.keys() or any(part[k] is not old[k] for k in part)


def cache_folder(site_dir: Path, name: str = "") -> Path:
    """The cache folder of a site: CACHE_DIR beside site.yaml, or its subfolder name, for
    builds that keep a cache of their own (serve's, SERVE_CACHE)."""
    return site_dir / CACHE_DIR / name if name else site_dir / CACHE_DIR


def make_cache_folder(folder: Path) -> Path:
    """folder (a cache folder), made if need be, with the .gitignore that keeps it out of
    git; OSError if it cannot be."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return folder


def _dump(path: Path, value: Any) -> None:
    _write_whole(path, lambda f: _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(value))


def _write_whole(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write path whole or not at all: into a file beside it (its name and this process's
    id), renamed over it; the temporary file goes when writing fails."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}")
    try:
        with tmp.open("wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _path_of(text: str, drv: str = "", root: str = "", parts: tuple[str, ...] = ()) -> Path:
    """The path of that text; on Python 3.11, made from its parts as pathlib parsed them when
    the cache was written (_path_parts), when they are given."""
    if parts and _PARSED_PARTS:
        made: Path = PosixPath._from_parsed_parts(drv, root, list(parts))  # type: ignore[attr-defined]
        return made
    return Path(text)


# Issue 8: Python 3.11's pathlib parses a path's text part by part (10 µs a path): for the
# ten thousand articles' paths, a third of loading the cache. That version keeps the parsed
# parts in three attributes, from which it makes a path without parsing; later versions
# keep the text and parse it when first asked (and need no help), so only the text is used.
_PARSED_PARTS = sys.version_info[:2] == (3, 11)


def _path_parts(path: PosixPath) -> tuple[Callable[..., Path], tuple[Any, ...]]:
    text = str(path)
    if _PARSED_PARTS:
        parts = tuple(path._parts)  # type: ignore[attr-defined]
        return _path_of, (text, path._drv, path._root, parts)  # type: ignore[attr-defined]
    return _path_of, (text,)


class _Pickler(pickle.Pickler):
    """Paths as their text (with their parsed parts on Python 3.11: _path_of): a path
    pickled by its parts is made again from them part by part, which for every article's
    path is a good share of loading the cache."""

    dispatch_table = {**copyreg.dispatch_table, PosixPath: _path_parts}


def output_name(out: Path) -> str:
    """The output folder as the cache records it: the real path of the folder it is in, so
    that a site typed through a link (`ln` to `site`: `ln/public`) has the same output,
    and its own name, not followed (a link there is what a build swaps)."""
    return os.path.join(os.path.realpath(out.parent), out.name)


def output_intact(state: State, out: Path) -> bool:
    """True when out is still the very folder the recorded build swapped in."""
    try:
        return state.output == output_name(out) and out.stat().st_ino == state.output_inode
    except OSError:
        return False


def output_untouched(state: State, out: Path) -> bool:
    """True when nothing was added to or taken from the output folder itself since the
    recorded build (its mtime): deeper down, records_intact finds only the recorded files."""
    try:
        return out.stat().st_mtime_ns == state.output_mtime_ns
    except OSError:
        return False


class TemplateDigests:
    """Digest of a template and every template it can reach, by name, for one build."""

    def __init__(self, env: jinja2.Environment, refs: TemplateRefs | None = None) -> None:
        self.env = env
        self.memo: dict[tuple[str, ...], str] = {}
        self.filenames: dict[str, str | None] = {}  # for located template errors
        # The templates each one names, by the digest of its source: kept across builds, so
        # that a template is parsed only when it changed (a tenth of a second each time).
        self.refs: TemplateRefs = refs if refs is not None else {}
        self.every: list[str] | None = None  # render.template_names, once needed

    def __call__(self, names: tuple[str, ...]) -> str:
        found = self.memo.get(names)
        if found is None:
            parts = [self._source(name) for name in sorted(self._closure(names))]
            found = self.memo[names] = combine(*parts)
        return found

    def _closure(self, names: tuple[str, ...]) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            source = self._load(name)
            if source is None:
                continue
            printed = hash_bytes(source.encode())
            known = self.refs.get(name)
            if known is None or known[0] != printed:
                filename = self.filenames.get(name)
                parsed = self.env.parse(source, name, filename)
                known = self.refs[name] = (printed, _named(parsed))
            for ref in known[1]:
                if ref == ANY_TEMPLATE:
                    todo += self._every()
                else:
                    todo.append(ref)
        return seen

    def _every(self) -> list[str]:
        """What a computed name may reach: every template, listed once for the build."""
        if self.every is None:
            self.every = template_names(self.env)
        return self.every

    def _source(self, name: str) -> str:
        source = self._load(name)
        return f"{name}\0{source}" if source is not None else f"{name}\0(missing)"

    def _load(self, name: str) -> str | None:
        assert self.env.loader is not None
        try:
            source, filename, _ = self.env.loader.get_source(self.env, name)
        except jinja2.TemplateNotFound:
            return None
        self.filenames[name] = filename
        return source


def _named(parsed: jinja2.nodes.Template) -> tuple[str, ...]:
    """The templates a template reaches: those it names ({% include "x.html" %} and the
    like), those the globals it names render (GLOBAL_TEMPLATES), and ANY_TEMPLATE when it
    includes, imports or extends a name it computes, which may be any of them."""
    named = list(jinja2.meta.find_referenced_templates(parsed))
    found = [name for name in named if name is not None]
    if None in named:
        found.append(ANY_TEMPLATE)
    for variable in {node.name for node in parsed.find_all(jinja2.nodes.Name)}:
        found += GLOBAL_TEMPLATES.get(variable, ())
    return tuple(found)


def is_file_as_recorded(path: str, size: int, mtime_ns: int, inode: int) -> bool:
    """The file at path is the one recorded: same inode, size and mtime (the file itself: a
    symbolic link put in its place is not it, whatever it leads to; a file edited and its
    mtime set back, as `sed -i` then `touch -r` leave it, is another)."""
    try:
        stat = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return stat.st_ino == inode and stat.st_size == size and stat.st_mtime_ns == mtime_ns


def records_intact(out: Path, records: dict[str, Record]) -> bool:
    """True when every recorded output file is still the recorded file (is_file_as_recorded)."""
    base = str(out)
    return all(
        is_file_as_recorded(f"{base}/{name}", r.size, r.mtime_ns, r.inode)
        for name, r in records.items()
    )


# Fewer recorded files than this are checked in this process alone.
ADOPT_PARALLEL = 500


def adopt_output(state: State, out: Path, jobs: int) -> State:
    """Issue 8, docs/deploy.md: the output folder taken as the last build's where it is not
    the very folder that build swapped in, but holds its files: a CI cache step restored it
    (new inodes), or it was copied or moved. The folder is listed without following links;
    each recorded file found there as a file of the recorded size (not a link, nor below
    one) is read, and recorded again as it is now, by its inode, size and mtime, when its
    bytes have the recorded digest (one that is still the recorded inode, size and mtime, in
    a folder moved whole, is not read). The others are left out, and their pages rendered
    again. The folder's mtime is not taken (output_untouched): a file put into it goes only
    with a build that makes its tree. state as it is when out is not a folder it can list."""
    try:
        found = os.lstat(out)
        if not stat.S_ISDIR(found.st_mode) or not state.records:
            return state
        listed, _ = files_below(out)
    except OSError:
        return state
    base = str(out)
    now: dict[str, tuple[int, int, int]] = {}  # name -> inode, size, mtime
    unread: list[tuple[str, tuple[str, int, str]]] = []
    for name, record in state.records.items():
        here = listed.get(name)
        if here is None or here[0] <= 0 or here[1] != record.size:
            continue  # gone, a link (what is below one is not listed), or another size
        if here == (record.inode, record.size, record.mtime_ns):
            now[name] = here
        else:
            unread.append((name, (f"{base}/{name}", here[0], record.digest)))
    items = [item for _, item in unread]
    read = fork_map(_as_recorded, items, None, jobs, ADOPT_PARALLEL, share=True)
    now.update((name, got) for (name, _), got in zip(unread, read, strict=True) if got)
    records = {
        name: Record(record.input, record.digest, now[name][1], now[name][2], now[name][0])
        for name, record in state.records.items()
        if name in now
    }
    return replace(
        state,
        output=output_name(out),
        output_inode=found.st_ino,
        output_mtime_ns=-1,
        records=records,
        spare_inode=0,  # a spare restored beside it is not the one recorded either
    )


def _as_recorded(item: tuple[str, int, str], _: None) -> tuple[int, int, int] | None:
    """The inode, size and mtime of the file at path when it is the file listed (its inode)
    and holds the bytes of the digest, unchanged while it is read; else None. item: path,
    inode, digest."""
    path, inode, digest = item
    try:
        with open(path, "rb", opener=_no_follow) as f:
            before = open_identity(f)  # device, inode, size, mtime; None: not a regular file
            if before is None or before[1] != inode:
                return None
            data = f.read(before[2] + 1)
            if open_identity(f) != before:
                return None  # written to while it was read
    except OSError:
        return None
    if len(data) != before[2] or hash_bytes(data).hex() != digest:
        return None
    return before[1], before[2], before[3]


def _no_follow(path: str, flags: int) -> int:
    """Never through a link in the last place, and never waiting for a pipe's writer."""
    return os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK)


# --- the stat shortcut ---------------------------------------------------------------------

QUICK_FILE = "quick.pickle"
INPUT_FOLDERS = ("content", "layouts", "static", "i18n")


@dataclass(frozen=True, slots=True)
class Quick:
    """What the last build needs to know to say "nothing changed" without reading a file."""

    stamp: str  # digest of every input file's path, inode, size, mtime and ctime
    valid_from: float  # the build's "now" (a timestamp): time may move on, not back
    valid_until: float  # from when "now" changes a page (timestamp; index.valid_until)
    output: str
    output_inode: int
    output_mtime_ns: int  # State.output_mtime_ns
    files: tuple[tuple[str, int, int, int], ...]  # output file, size, mtime_ns, inode
    summary: Any  # what the build reported (build.Result), returned as it was
    site: str  # the site's folder as that build was given it, which summary's paths hold


def input_stamp(site_dir: Path, extra: str, stats: dict[str, os.stat_result] | None = None) -> str:
    """Digest of the stat of every input file: any write changes a file's ctime, which no
    user-space tool can set back, so an equal stamp means the same bytes everywhere.

    stats: filled with each file's stat by its path, for the build to use rather than
    stat every file again.
    """
    parts = [extra]
    for name in ("site.yaml", *INPUT_FOLDERS):
        # Spelt as sources.gather spells the files it looks up in stats (site_dir / name:
        # "content/..." for the site ".", where os.path.join would give "./content/...").
        parts += stat_lines(str(site_dir / name), name, None, stats)
    return combine(*parts)


def stat_lines(
    path: str,
    rel: str,
    seen: set[tuple[int, int]] | None = None,
    stats: dict[str, os.stat_result] | None = None,
) -> list[str]:
    """One line per file and folder below path: its name and the stat fields writes change.

    Links are followed, as the build follows them: a linked layouts/ or article counts by
    what it points to, and a link's own change counts too. A folder is walked once.
    stats: filled with the stat of every path below path (links followed).
    """
    seen = set() if seen is None else seen
    try:
        own = os.lstat(path)
        st = os.stat(path) if stat.S_ISLNK(own.st_mode) else own
    except OSError:
        return [f"{rel}\0-"]
    if stats is not None:
        stats[path] = st
    linked = f"\0{file_identity(own)}" if own.st_ino != st.st_ino else ""
    out = [f"{rel}\0{file_identity(st)}{linked}"]
    if stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
        seen.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(path) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError:  # a folder that cannot be listed: what reads it says so
            return [*out, f"{rel}\0unlisted"]
        for name in names:
            out += stat_lines(os.path.join(path, name), f"{rel}/{name}", seen, stats)
    return out


def load_quick(folder: Path) -> Quick | None:
    try:
        with (folder / QUICK_FILE).open("rb") as f:
            quick = pickle.load(f)
    except Exception:  # missing, or written by other code: only the shortcut is lost
        return None
    return quick if isinstance(quick, Quick) else None


def save_quick(folder: Path, quick: Quick | None) -> None:
    """Write (or, with None, remove) the shortcut's record."""
    path = folder / QUICK_FILE
    try:
        if quick is None:
            path.unlink(missing_ok=True)
            return
        make_cache_folder(folder)
        _write_whole(path, lambda f: pickle.dump(quick, f, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass


def quick_holds(quick: Quick, stamp: str, now: float, out: Path) -> bool:
    """True when the last build's output is still exactly what a build now would write."""
    if quick.stamp != stamp or not quick.valid_from <= now < quick.valid_until:
        return False
    try:
        folder = out.stat()
        if (
            output_name(out) != quick.output
            or folder.st_ino != quick.output_inode
            or folder.st_mtime_ns != quick.output_mtime_ns
        ):
            return False
    except OSError:
        return False
    base = quick.output
    return all(
        is_file_as_recorded(f"{base}/{name}", size, mtime_ns, inode)
        for name, size, mtime_ns, inode in quick.files
    )
