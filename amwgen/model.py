"""Frozen dataclasses that flow between the stages: load -> validate -> index -> render."""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class Problem:
    """A located content problem: printed as `path:line: field: message`."""

    path: Path
    line: int
    field: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.path}:{self.line}: {where}{self.message}"

    def sort_key(self) -> tuple[str, int, str]:
        return (str(self.path), self.line, self.message)


def cannot_read(path: Path, err: OSError) -> Problem:
    """A file or folder that cannot be read, at its line 1, with the system's reason."""
    return Problem(path, 1, None, f"cannot read: {err.strerror or err}")


def not_for_templates(name: str) -> str:
    """Why a layout may not read a field that no page's digest holds (render._UNSHOWN)."""
    return f"'{name}' is not for templates: no page is made again when it changes"


@dataclass(frozen=True, slots=True)
class RawDoc:
    """One Markdown file split into front matter (with key lines) and body."""

    # As shown to the user: the site's folder as typed / content / ... In no digest (its
    # repr, fingerprint.FLAT) and not for templates (render._UNSHOWN): a build that names
    # the site another way (`site` from above, `.` inside it) reuses what the last made.
    path: Path = field(repr=False)
    rel: str  # posix path below content/
    fields: dict[str, Any]
    key_lines: dict[str, int]  # "title" -> 2, "read.novelty" -> 9
    body: str
    body_line: int  # file line on which the body starts


@dataclass(frozen=True, slots=True)
class Scale:
    min: int
    max: int


@dataclass(frozen=True, slots=True)
class Promo:
    title: str
    text: str
    url: str
    label: str


@dataclass(frozen=True, slots=True)
class Editions:
    weekly: bool = True
    monthly: bool = True
    top: int = 10


@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str
    base_url: str  # always ends with "/"
    language: str = "en"
    timezone: str = "UTC"
    description: str = ""
    output: str = "public"
    per_page: int = 20
    novelty: Scale = Scale(0, 3)
    significance: Scale = Scale(0, 3)
    unsafe_html: bool = False
    search: bool = True
    editions: Editions = Editions()
    promo: Promo | None = None

    @property
    def base_path(self) -> str:
        """The path part of base_url, e.g. "/" or "/digest/"."""
        rest = self.base_url.split("://", 1)[-1]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else "/"

    def absolute_url(self, path: str) -> str:
        """An absolute, percent-encoded URL from base_url (feeds, sitemaps, canonical links)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + _encoded(path)

    def site_url(self, path: str) -> str:
        """A root-relative, percent-encoded URL for a site path (base_url's path prefixed):
        what the pages link (render's url(), and a body's link to another document)."""
        if path.startswith(("http://", "https://", "mailto:", "#")):
            return path
        return self.base_path + _encoded(path)


@cache
def fixed_offset(offset: timedelta, name: str | None = None) -> timezone:
    """A date's zone as the site's zone has it at that moment: its offset from UTC and its
    name ("KST", "EDT"), one object for each. Not the site's ZoneInfo itself: datetimes
    that share a tzinfo compare and hash by their wall-clock time alone, so in the hour
    a clock falls back 01:30 EDT would equal 01:30 EST, and 01:10 EST come before 01:50
    EDT (in `updated` against `date`, the newest date of a feed or a sitemap, memos, a
    layout's sort). The arguments are timezone's own, so the object is the one they
    make: Unpickler makes every timezone through here."""
    return timezone(offset) if name is None else timezone(offset, name)


class Unpickler(pickle.Unpickler):
    """Every fixed-offset zone through fixed_offset: one object for each offset and name,
    as validation makes them. Documents validated in forked workers come back with a zone
    object for each batch, thousands in all, which the cache then kept (loading its
    documents took a tenth longer); and dates of one zone object compare fastest."""

    def find_class(self, module: str, name: str, /) -> Any:
        if module == "datetime" and name == "timezone":
            return fixed_offset
        return super().find_class(module, name)


def unpickle(data: bytes) -> Any:
    """pickle.loads, through Unpickler."""
    return Unpickler(io.BytesIO(data)).load()


def _encoded(path: str) -> str:
    """A site path, without its leading '/', percent-encoded (its query and fragment kept)."""
    return quote(path.lstrip("/"), safe="/#?=&%")


@dataclass(frozen=True)  # no slots: pickled in bulk, and slotted classes pickle slowly
class Source:
    url: str
    name: str


@dataclass(frozen=True)  # no slots: pickled in bulk, and slotted classes pickle slowly
class Article:
    path: Path = field(repr=False)  # as RawDoc's
    rel: str
    slug: str
    title: str
    date: datetime
    updated: datetime | None
    category: str | None
    region: str | None
    source: Source | None
    novelty: int
    significance: int
    read_novelty: str
    read_significance: str
    topics: tuple[str, ...]
    players: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str
    body_html: str
    words: int
    draft: bool = False

    @property
    def url(self) -> str:
        return f"/news/{self.slug}/"

    @property
    def lastmod(self) -> datetime:
        return self.updated or self.date

    @property
    def read_minutes(self) -> int:
        # SPEC 3: words / 200, at least 1
        return max(1, self.words // 200)

    def values(self, field_name: str) -> tuple[str, ...]:
        """The raw term names this article gives for a taxonomy's field (text, or a tuple of
        texts); any field of text works, but not one that no digest holds (`path`), which
        templates may not read (render._UNSHOWN)."""
        if field_name in _ARTICLE_UNDIGESTED:
            raise AttributeError(not_for_templates(field_name))
        value = getattr(self, field_name)
        if value is None:
            return ()
        return value if isinstance(value, tuple) else (value,)


# The fields of an article that no digest holds (repr=False: fingerprint leaves them out).
_ARTICLE_UNDIGESTED = frozenset(f.name for f in fields(Article) if not f.repr)


@dataclass(frozen=True, slots=True)
class Profile:
    """Prose for a term: content/topics/<slug>.md or content/players/<slug>.md."""

    path: Path = field(repr=False)  # as RawDoc's
    slug: str
    title: str
    url: str | None = None
    kind: str | None = None
    aliases: tuple[str, ...] = ()
    body_html: str = ""
    summary: str = ""
    # The lines of title and aliases in its file, where a clash of its names is reported
    # (index._resolver); never shown, so neither in its repr nor in its digest.
    lines: tuple[int, int] = field(default=(1, 1), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class PlainPage:
    """A page from content/pages, served at /<slug>/."""

    path: Path = field(repr=False)  # as RawDoc's
    slug: str
    title: str
    body_html: str
    summary: str

    @property
    def url(self) -> str:
        return f"/{self.slug}/"


@dataclass(frozen=True, slots=True)
class Content:
    """Everything validated from content/: the input of the index stage."""

    articles: tuple[Article, ...]
    profiles: tuple[tuple[str, tuple[Profile, ...]], ...]  # (taxonomy name, profiles)
    pages: tuple[PlainPage, ...]
    warnings: tuple[Problem, ...] = field(default=())

    def profiles_of(self, taxonomy: str) -> tuple[Profile, ...]:
        for name, profiles in self.profiles:
            if name == taxonomy:
                return profiles
        return ()
