"""Stable digests of page inputs: frozen data, templates and settings -> a hex string.

A page is re-rendered only when the digest of everything it is rendered from changes, so the
digest must cover every value a template can reach. It walks dataclasses, tuples and scalars
generically (nothing is skipped), memoising shared objects such as entries and terms by id
for the duration of one build.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import sys
import zoneinfo
from array import array
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, cast

from amwgen import __version__
from amwgen.editions import Edition, Period
from amwgen.feeds import SitemapData
from amwgen.index import Entry, Posting, Taxonomy, Term, TermLink
from amwgen.model import Article, PlainPage, Profile, SiteConfig

if TYPE_CHECKING:
    from hashlib import _Hash  # typeshed's name for a hasher; not there at run time

# Dataclasses whose fields hold nothing but scalars, dates, paths, tuples and such flat
# dataclasses; their repr is their digest input.
# (Related and Connection are walked instead: they hold entries that many pages share, and
# the memo then serialises each entry once.)
# (Period: an edition's week or month, two of them in each edition's digest. SitemapData
# has a way of its own: _sitemap_parts.)
FLAT = frozenset({Article, Profile, PlainPage, SiteConfig, Entry, TermLink, Taxonomy, Period})
# Values that many pages or groups share: digested once per build, kept by identity (an
# edition is in its own pages, the editions index and the editions feed; a taxonomy is in
# each of its thousands of terms; a term's link, one per term, in every edition's topics).
SHARED = frozenset({Article, Entry, Posting, Term, TermLink, Edition, Taxonomy})


class Fingerprints:
    """Digests of values for one build; shared sub-values are hashed once."""

    def __init__(self) -> None:
        self._memo: dict[int, bytes] = {}
        self._keep: list[Any] = []  # keeps memoised objects alive so ids stay unique

    def of(self, value: Any) -> bytes:
        """The 16-byte digest of value."""
        if type(value) in _SCALARS:
            return hash_bytes(_scalar(value))
        if type(value) not in SHARED:
            # Tuples, pages' data and the like are used once: a memo entry would keep them
            # alive to the end of the build (in a render worker, every page it renders).
            return hash_bytes(b"".join(self._parts(value)))
        key = id(value)
        found = self._memo.get(key)
        if found is None:
            found = hash_bytes(b"".join(self._parts(value)))
            self._memo[key] = found
            self._keep.append(value)
        return found

    def joined(self, values: tuple[Any, ...]) -> bytes:
        """The digests of values one after another: memoised ones straight from the memo."""
        memo = self._memo
        return b"".join([memo.get(id(v)) or self.of(v) for v in values])

    def seed(self, value: Any, digest: bytes) -> None:
        """Take digest as value's, unhashed: for values whose digest is known from their
        source (an article from its file's cache key), which is far cheaper than a walk."""
        self._memo[id(value)] = digest
        self._keep.append(value)

    def _item(self, value: Any) -> bytes:
        """A field or item in its parent's digest input: scalars inline, the rest digested."""
        if type(value) in _SCALARS:
            data = _scalar(value)
            return b"s" + len(data).to_bytes(4, "little") + data
        return b"h" + self.of(value)

    def _parts(self, value: Any) -> list[bytes]:
        kind: type = type(value)
        if kind is SitemapData:
            return _sitemap_parts(value)
        if kind in FLAT:
            # Only scalars, dates, paths and tuples of them inside: the generated repr spells
            # every field unambiguously (names, quoted strings), far faster than walking.
            return [b"R", repr(value).encode("utf-8", "surrogatepass")]
        if _is_dataclass(kind):
            parts = [b"D", kind.__qualname__.encode()]
            item = self._item
            for name in _field_names(kind):
                parts += [name.encode(), item(getattr(value, name))]
            return parts
        if isinstance(value, tuple | list):
            # The hot loop (a term's entries, a posting list): memoised items straight from
            # the memo, encoded as _item would; when all are (entries are), in one join.
            memo = self._memo
            known = [memo.get(id(v)) for v in value]
            if known and None not in known:
                return [b"T", b"h" + b"h".join(cast(list[bytes], known))]
            item = self._item
            parts = [b"T"]
            for v, digest in zip(value, known, strict=True):
                parts.append(b"h" + digest if digest is not None else item(v))
            return parts
        if isinstance(value, frozenset | set):
            return [b"S", *sorted(self.of(item) for item in value)]
        if isinstance(value, dict):
            items = sorted((self.of(k), self.of(v)) for k, v in value.items())
            return [b"M", *(k + v for k, v in items)]
        if isinstance(value, datetime | date):
            return [b"t", value.isoformat().encode()]
        if isinstance(value, PurePath):
            return [b"p", str(value).encode("utf-8", "surrogatepass")]
        if isinstance(value, str | int | float):  # subclasses: Markup, enums ...
            return [b"x", _scalar(value)]
        raise TypeError(f"cannot fingerprint {kind.__name__}: page data must be frozen values")


_SCALARS = frozenset({str, bytes, int, float, bool, type(None)})


def _sitemap_parts(data: SitemapData) -> list[bytes]:
    """The sitemap's twenty thousand rows: their paths, their dates as pickle spells a date
    (its fields, fold too, in ten bytes), and their zones, each the number of its spelling
    (repr: offset and name) among the few there are. Issue 8: the sitemap's repr, which
    spells every date's zone again, took 28-36 ms of every build that changed a page; this
    takes 11 ms. Rows whose dates are not all datetimes go repr's way."""
    paths = [path for path, _ in data.urls]
    dates = [when for _, when in data.urls]
    if not set(map(type, dates)) <= {datetime}:
        return [b"R", repr(data).encode("utf-8", "surrogatepass")]
    # pickle's spelling: (the class, (ten bytes, the zone if any)).
    states = cast(list[tuple[bytes, ...]], [when.__reduce_ex__(4)[1] for when in dates])
    zones = [when.tzinfo for when in dates]
    spelt = {id(zone): zone for zone in zones}  # alive in the dates while this runs
    number = {key: i for i, key in enumerate(spelt)}
    return [
        b"U",
        repr(paths).encode("utf-8", "surrogatepass"),
        b"".join([state[0] for state in states]),
        array("I", [number[id(zone)] for zone in zones]).tobytes(),
        repr(list(spelt.values())).encode("utf-8", "surrogatepass"),
    ]


@cache
def _is_dataclass(kind: type) -> bool:
    return dataclasses.is_dataclass(kind)


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    """The fields that make a value: those with repr=False are derived, never shown
    (Entry.rank, Posting.ranks), and follow from the others."""
    return tuple(f.name for f in dataclasses.fields(kind) if f.repr)


def _scalar(value: str | bytes | int | float | bool | None) -> bytes:
    return f"{type(value).__name__}:{value!r}".encode("utf-8", "surrogatepass")


# Issue 8: SHA-256 rather than BLAKE2b. With the SHA extensions of the x86 and ARM processors
# of the last years, OpenSSL's SHA-256 digests a 30 KB page in 20 µs where BLAKE2b takes 49 µs
# (the benchmark machine; a cold build digests the bytes of 20,000 pages, 550 MB). amwgen's
# digests are its first DIGEST_SIZE bytes.
DIGEST_SIZE = 16


def new_hasher(data: bytes = b"") -> _Hash:
    """A new hasher of amwgen's digests (final_digest finishes it)."""
    return hashlib.sha256(data)


def final_digest(h: _Hash) -> bytes:
    """The DIGEST_SIZE-byte digest of what h has been given."""
    return h.digest()[:DIGEST_SIZE]


def hash_bytes(data: bytes) -> bytes:
    """The 16-byte digest amwgen keys its caches with."""
    return hashlib.sha256(data).digest()[:DIGEST_SIZE]  # called a million times a build


@cache
def code_digest() -> bytes:
    """Digest of amwgen's own version and Python source: new code, new cache keys.

    A cached result or page is only as good as the code that made it; the version alone
    would keep stale pages across an edit of amwgen that kept its version number.
    """
    h = new_hasher(__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    # The libraries that turn content into bytes: an upgrade may change every page.
    h.update(sys.version.encode())
    versions = installed_versions(RENDERING_PACKAGES)
    for package in RENDERING_PACKAGES:
        h.update(f"{package}={versions.get(package, '-')}".encode())
    h.update(time_zone_data().encode())
    return final_digest(h)


def time_zone_data() -> str:
    """The system's time-zone database, which zoneinfo reads before the tzdata package: the
    size and mtime of its `tzdata.zi` (which names its version) in each folder of
    zoneinfo.TZPATH. An upgrade may move the dates of pages in the zones it changes."""
    parts = []
    for folder in zoneinfo.TZPATH:
        try:
            st = os.stat(os.path.join(folder, "tzdata.zi"))
        except OSError:
            parts.append(f"{folder}=-")
            continue
        parts.append(f"{folder}={st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


def installed_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """The installed version of each package that is installed, as importlib.metadata gives
    it: the first found along sys.path.

    Issue 8: every build, even one with nothing to do, digests amwgen's code. Importing
    importlib.metadata took 13 ms of a 0.3 s build (`python -X importtime`); the names of
    the `.dist-info` folders (`name-version.dist-info`) are read from the folders of sys.path
    instead. importlib.metadata is asked for a package not found so, and for one that an
    entry before its `.dist-info` may hold otherwise: an `.egg-info` or `.egg` of it, or a
    zip file on sys.path.
    """
    wanted = {_normal(name): name for name in packages}
    found: dict[str, str] = {}
    ask: set[str] = set()  # for importlib.metadata
    for folder in sys.path:
        try:
            entries = os.scandir(folder or ".")
        except NotADirectoryError:  # a zip file: any package not found yet may be in it
            ask.update(name for name in packages if name not in found)
            continue
        except OSError:  # gone
            continue
        with entries:
            for entry in entries:
                if entry.name.endswith(".dist-info"):
                    name, _, version = entry.name[: -len(".dist-info")].partition("-")
                    package = wanted.get(_normal(name))
                    known = package in found or package in ask
                    if package is not None and version and not known:
                        found[package] = version
                elif entry.name.endswith((".egg-info", ".egg")):
                    stem = entry.name.removesuffix(".egg-info").removesuffix(".egg")
                    package = wanted.get(_normal(stem.split("-")[0]))
                    if package is not None and package not in found:
                        ask.add(package)
    ask.update(name for name in packages if name not in found)
    if ask:
        from importlib import metadata  # takes a while to import: only when needed

        for name in ask:
            with contextlib.suppress(metadata.PackageNotFoundError):
                found[name] = metadata.version(name)
    return found


def _normal(name: str) -> str:
    """A distribution's name as PEP 503 compares them (the dist-info folder's spelling of
    it uses "_" for "-")."""
    return re.sub(r"[-_.]+", "-", name).lower()


RENDERING_PACKAGES = (
    "markdown-it-py",
    "mdit-py-plugins",
    "mdurl",  # markdown-it-py's link normalising
    "Jinja2",
    "MarkupSafe",
    "PyYAML",
    "python-frontmatter",
    "python-slugify",
    "text-unidecode",  # python-slugify's transliteration
    "feedgen",
    "lxml",  # feedgen's XML
    "python-dateutil",  # feedgen's dates
    "Babel",
    "css-inline",
    "pagefind",
    "pagefind-bin",
    "tzdata",
)


def combine(*parts: bytes | str) -> str:
    """A hex digest of several digests or strings, with amwgen's code digest in it."""
    h = new_hasher(code_digest())
    for part in parts:
        # A file name that is not UTF-8 holds surrogates (input_stamp's lines): still a key.
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return final_digest(h).hex()
