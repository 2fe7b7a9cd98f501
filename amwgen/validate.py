"""RawDoc -> Article (or Profile, PlainPage) plus the problems found; nothing is raised."""

from __future__ import annotations

import difflib
import posixpath
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from amwgen import i18n, yamlfm
from amwgen.config import split_url
from amwgen.markdown import Rendered, render_markdown, with_links
from amwgen.model import (
    Article,
    PlainPage,
    Problem,
    Profile,
    RawDoc,
    Scale,
    SiteConfig,
    Source,
    fixed_offset,
)
from amwgen.slug import slugify

ARTICLE_KEYS = (
    "title",
    "date",
    "updated",
    "slug",
    "category",
    "region",
    "source",
    "novelty",
    "significance",
    "read",
    "topics",
    "players",
    "tags",
    "summary",
    "draft",
)
REQUIRED_KEYS = ("title", "date", "novelty", "significance")
MAX_TERMS = 1000  # names in one of a story's topics, players, tags (or a profile's aliases)
PROFILE_KEYS = {"players": ("title", "url", "kind", "aliases"), "topics": ("title", "aliases")}
PAGE_KEYS = ("title", "slug", "summary")
# SPEC 4: top-level paths the generator owns; a plain page may not take them (pagefind: the
# search index's folder, which every incremental build clears for Pagefind to write anew).
RESERVED_SLUGS = frozenset(
    ("news", "tags", "topics", "players", "categories", "regions")
    + ("scores", "editions", "page", "assets", "search", "pagefind")
)
# SPEC 3: a date, or a datetime with or without offset; nothing looser (no ISO weeks, no 20261121).
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_RE = re.compile(  # an offset's minutes below 60: `+09:60` is a typo, not +10:00
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?"
)
DATE_FORMS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"
# Issue 5: {source path below content/: URL path} of every document a body may link to.
Targets = dict[str, str]
# A body's link to a source file, as resolved: the URL, the line, the link as typed.
LinkUse = tuple[str, int, str]
# Years whose dates survive conversion to any offset and one day either side.
YEARS = (1000, 9998)


class Checker:
    """Collects problems for one document, each at the line of its key."""

    def __init__(self, doc: RawDoc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def report(self, key: str | None, message: str, line: int | None = None) -> None:
        where = line if line is not None else self.doc.key_lines.get(key or "", 1)
        self.problems.append(Problem(self.doc.path, where, key, message))

    def known_keys(self, known: tuple[str, ...]) -> None:
        for key in self.doc.fields:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.report(None, f"unknown key '{key}'{hint}", self.doc.key_lines.get(key, 1))

    def required(self, keys: tuple[str, ...]) -> None:
        # SPEC 6: a missing key is reported at line 1; an empty one at its own line.
        for key in keys:
            if key not in self.doc.fields:
                self.report(None, f"missing required key '{key}'", 1)
            elif self.doc.fields[key] is None:
                self.report(key, "must not be empty")

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.doc.fields.get(key)
        if value is None:
            return None  # absent, or empty (required() reports that)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.report(key, f"must be text, not {_kind(value)}")
            return None
        text = " ".join(_scalar_text(value).split())
        if required and not text:
            self.report(key, "must not be empty")
            return None
        return text

    def terms(self, key: str) -> tuple[str, ...]:
        """SPEC 3: a string or a list of strings; one name per slug, first spelling kept."""
        value = self.doc.fields.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_TERMS:
            # Each term's feed lists every term of its stories: a story on thousands of
            # tags makes feeds that grow with their square (1,000 tags: 84 MB).
            self.report(key, f"names {len(items)} terms; at most {MAX_TERMS} may be given")
            return ()
        names: list[str] = []
        seen: set[str] = set()
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.report(key, f"each item must be text, not {_kind(item)}")
                continue
            name = " ".join(_scalar_text(item).split())
            slug = self.term_slug(key, name)
            if slug and slug not in seen:
                seen.add(slug)
                names.append(name)
        return tuple(names)

    def term_slug(self, key: str, name: str) -> str:
        """A term's slug (SPEC 3: its URL), reported at key when name makes none."""
        slug = slugify(name)
        if not slug:
            self.report(key, f"'{name}' has no letters or digits to make a slug from")
        return slug


def _scalar_text(value: str | int | float) -> str:
    """A YAML scalar as text; a huge number (str() would raise) is shown as its kind."""
    if isinstance(value, int) and value.bit_length() > 128:
        return yamlfm.show(value)
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "an empty value"
    names = (
        (str, "text"),
        (int | float, "a number"),
        (dict, "a mapping"),
        (list, "a list"),
        (bytes, "binary data"),
        (set, "a set"),
    )
    return next((name for kind, name in names if isinstance(value, kind)), type(value).__name__)


def validate_article(
    doc: RawDoc,
    config: SiteConfig,
    targets: Targets | None = None,
    used: list[LinkUse] | None = None,
) -> tuple[Article | None, list[Problem]]:
    """Return the Article a RawDoc describes, or None with every problem found.

    With targets, links to source .md files become their URLs (else they are left as written);
    used, when given, gets each such link (LinkUse).
    """
    check = Checker(doc)
    check.known_keys(ARTICLE_KEYS)
    check.required(REQUIRED_KEYS)
    zone = ZoneInfo(config.timezone)
    title = check.text("title", required=True)
    published = _date(check, "date", zone)
    updated = _date(check, "updated", zone)
    if published and updated and updated < published:
        given = (yamlfm.show(doc.fields.get(k)) for k in ("updated", "date"))
        check.report("updated", "{} is before date {}".format(*given))
    novelty = _score(check, "novelty", config.novelty)
    significance = _score(check, "significance", config.significance)
    read = _read(check)
    slug = _slug(check, doc.rel.rsplit("/", 1)[-1].removesuffix(".md"))
    draft = _draft(check)
    rendered = render_markdown(doc.body, config.unsafe_html)
    body_html = _resolve_links(check, rendered, targets, used)
    fields = (
        _category(check),
        _region(check),
        _source(check),
        check.terms("topics"),
        check.terms("players"),
        check.terms("tags"),
        check.text("summary"),
    )
    category, region, source, topics, players, tags, summary = fields
    if check.problems:
        return None, check.problems
    if (
        title is None
        or published is None
        or novelty is None
        or significance is None
        or slug is None
    ):
        # Every None above comes with a problem; this guards that promise.
        return None, [
            Problem(doc.path, 1, None, "article could not be read (amwgen bug: no reason given)")
        ]
    article = Article(
        path=doc.path,
        rel=doc.rel,
        slug=slug,
        title=title,
        date=published,
        updated=updated,
        category=category,
        region=region,
        source=source,
        novelty=novelty,
        significance=significance,
        read_novelty=read.get("novelty", ""),
        read_significance=read.get("significance", ""),
        topics=topics,
        players=players,
        tags=tags,
        summary=summary or rendered.summary,
        body_html=body_html,
        words=rendered.words,
        draft=draft,
    )
    return article, []


def _date(check: Checker, key: str, zone: ZoneInfo) -> datetime | None:
    """SPEC 3: a date is midnight, a time without offset local time, both in the site's zone."""
    value = check.doc.fields.get(key)
    if value is None:
        return None
    if isinstance(value, date):  # an explicit !!timestamp tag
        value = value.isoformat()
    text = value.strip() if isinstance(value, str) else ""
    try:
        if DATE_RE.fullmatch(text):
            moment = datetime.combine(date.fromisoformat(text), time())
        elif DATETIME_RE.fullmatch(text):
            moment = datetime.fromisoformat(text)
        else:
            raise ValueError(text)
    except ValueError:
        check.report(key, f"{yamlfm.show(value)} is not a date ({DATE_FORMS})")
        return None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        check.report(key, f"{yamlfm.show(value)} is out of range (years {YEARS[0]} to {YEARS[1]})")
        return None
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    if not YEARS[0] <= local.year <= YEARS[1]:  # in the site's calendar: its editions' years
        check.report(
            key,
            f"{yamlfm.show(value)} is out of range (years {YEARS[0]} to {YEARS[1]} "
            f"in the site's time zone, {zone.key})",
        )
        return None
    return local.replace(tzinfo=fixed_offset(local.utcoffset() or timedelta(), local.tzname()))


def _score(check: Checker, key: str, scale: Scale) -> int | None:
    """SPEC 3: a whole number within the site's scale (site.yaml `scores:`)."""
    value = check.doc.fields.get(key)
    if value is None:
        return None  # absent or empty: required() reports it
    if isinstance(value, bool) or not isinstance(value, int):
        check.report(
            key, f"must be a whole number from {scale.min} to {scale.max}, not {yamlfm.show(value)}"
        )
        return None
    if not scale.min <= value <= scale.max:
        check.report(key, f"{yamlfm.show(value)} is outside {scale.min}..{scale.max}")
        return None
    return value


def _draft(check: Checker) -> bool:
    # SPEC 3: YAML 1.2 booleans; `draft: yes` is the string "yes", not true.
    draft = check.doc.fields.get("draft", False)
    if draft is None:
        return False
    if not isinstance(draft, bool):
        check.report("draft", f"must be true or false, not {yamlfm.show(draft)}")
        return False
    return draft


def _read(check: Checker) -> dict[str, str]:
    """SPEC 3: `read:` holds one line of text for novelty and for significance."""
    value = check.doc.fields.get("read")
    if value is None:
        return {}
    if not isinstance(value, dict):
        check.report(
            "read", f"must be a mapping with novelty and significance lines, not {_kind(value)}"
        )
        return {}
    out: dict[str, str] = {}
    for key, line in value.items():
        where = f"read.{key}"
        if key not in ("novelty", "significance"):
            close = difflib.get_close_matches(str(key), ("novelty", "significance"), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            check.report("read", f"unknown key '{key}'{hint}", check.doc.key_lines.get(where))
        elif line is None:
            continue
        elif isinstance(line, bool) or not isinstance(line, str | int | float):
            check.report(
                where,
                f"must be one line of text, not {_kind(line)}",
                check.doc.key_lines.get(where),
            )
        else:
            out[str(key)] = " ".join(_scalar_text(line).split())
    return out


def slug_of(doc: RawDoc) -> str:
    """The slug an article or page that failed would have, as its validation made it: what
    duplicate_slugs compares it by. "" when its `slug:` is unusable (validation reported
    it): the file name is not the slug its author meant, and would clash falsely."""
    check = Checker(doc)
    slug = _slug(check, doc.rel.rsplit("/", 1)[-1].removesuffix(".md"))
    return slug if slug is not None and not check.problems else ""


def _slug(check: Checker, default: str) -> str | None:
    """SPEC 3: an explicit slug is slugified like a file name (`../../etc/x` -> `etc-x`)."""
    given = check.text("slug")
    slug = slugify(given if given is not None else default)
    if not slug:
        if given is not None:  # "set 'slug:'" said to a slug that was set: a review
            check.report("slug", f"'{given}' has no letters or digits to make a slug from")
        else:
            check.report(None, "has no letters or digits to make a slug from; set 'slug:'")
        return None
    return slug


def _category(check: Checker) -> str | None:
    """SPEC 3: a term, like a tag: one that makes no slug would be the page of every
    category (/categories/ itself), in place of their index."""
    category = check.text("category")
    if category is not None and not check.term_slug("category", category):
        return None
    return category


def _region(check: Checker) -> str | None:
    region = check.text("region")
    if region is None:
        return None
    if region.upper() not in i18n.region_codes():
        check.report("region", f"'{region}' is not an ISO 3166-1 alpha-2 code such as KR or US")
        return None
    return region.upper()


def _source(check: Checker) -> Source | None:
    """SPEC 3: an http(s) URL, or {url: ..., name: ...}."""
    value = check.doc.fields.get("source")
    if value is None:
        return None
    name: Any = ""
    lines = check.doc.key_lines
    line = None  # the url's line: source's own, or source.url's
    before = len(check.problems)
    if isinstance(value, dict):
        # Each problem at its key's line, and all of them: an unknown key hid a bad url.
        unknown = sorted(str(k) for k in value if k not in ("url", "name"))
        for key in unknown:
            close = difflib.get_close_matches(key, ("url", "name"), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else " (url, name)"
            check.report("source", f"unknown key '{key}'{hint}", lines.get(f"source.{key}"))
        name = value.get("name") or ""
        if isinstance(name, bool) or not isinstance(name, str | int | float):
            check.report(
                "source", f"name must be text, not {_kind(name)}", lines.get("source.name")
            )
        if "url" not in value:
            if not unknown:  # the unknown key is what is wrong ('ulr') if there is one
                check.report("source", "needs a url ({url: ..., name: ...})")
            return None
        value = value.get("url")
        line = lines.get("source.url")
    if not isinstance(value, str):
        check.report(
            "source", f"must be a URL or {{url: ..., name: ...}}, not {_kind(value)}", line
        )
        return None
    url = value.strip()
    host = http_host(url)
    if host is None:
        check.report("source", f"{yamlfm.show(value)} is not an http(s) URL", line)
        return None
    if len(check.problems) > before:  # an unknown key, or a name that is no text
        return None
    return Source(url, " ".join(_scalar_text(name).split()) or host)


def http_host(url: str) -> str | None:
    """The host[:port] of an absolute http(s) URL; None for anything else (SPEC 3)."""
    parts = split_url(url) if url else None
    if parts is None:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.netloc


def validate_profile(
    doc: RawDoc,
    taxonomy: str,
    config: SiteConfig,
    targets: Targets | None = None,
    used: list[LinkUse] | None = None,
) -> tuple[Profile | None, list[Problem]]:
    """Return the Profile of a topic or player file, with its problems.

    A profile with problems is returned too (what of it is sound), when it has a slug: the
    build fails, but the index still sees its names, so that a clash with another profile's
    is reported in the same run (SPEC 6: all errors of a run), not once this one is fixed.
    """
    check = Checker(doc)
    check.known_keys(PROFILE_KEYS[taxonomy])
    title = check.text("title", required=True)
    slug = slugify(doc.rel.rsplit("/", 1)[-1].removesuffix(".md"))
    if not slug:
        check.report(None, "the file name has no letters or digits to make a slug from", 1)
    url = check.text("url")
    if url is not None and http_host(url) is None:
        check.report("url", f"'{url}' is not an http(s) URL")
        url = None
    kind = check.text("kind")
    aliases = check.terms("aliases")
    rendered = render_markdown(doc.body, config.unsafe_html)
    body_html = _resolve_links(check, rendered, targets, used)
    if not slug:
        return None, check.problems
    profile = Profile(
        path=doc.path,
        slug=slug,
        title=title or slug,
        url=url,
        kind=kind,
        aliases=aliases,
        body_html=body_html,
        summary=rendered.summary,
        lines=(doc.key_lines.get("title", 1), doc.key_lines.get("aliases", 1)),
    )
    return profile, check.problems


def validate_page(
    doc: RawDoc,
    config: SiteConfig,
    targets: Targets | None = None,
    used: list[LinkUse] | None = None,
) -> tuple[PlainPage | None, list[Problem]]:
    """Return the PlainPage of a content/pages file, or None with its problems."""
    check = Checker(doc)
    check.known_keys(PAGE_KEYS)
    check.required(("title",))
    title = check.text("title", required=True)
    slug = _slug(check, doc.rel.rsplit("/", 1)[-1].removesuffix(".md"))
    if slug in RESERVED_SLUGS:
        check.report("slug" if "slug" in doc.fields else None, f"'{slug}' is a path amwgen uses")
    summary = check.text("summary")
    rendered = render_markdown(doc.body, config.unsafe_html)
    body_html = _resolve_links(check, rendered, targets, used)
    if check.problems or title is None or slug is None:
        return None, check.problems
    return PlainPage(doc.path, slug, title, body_html, summary or rendered.summary), []


def link_target(doc: RawDoc, kind: str, config: SiteConfig) -> str | None:
    """The URL that a link to this document's source path leads to (None: it has no page)."""
    name = doc.rel.rsplit("/", 1)[-1].removesuffix(".md")
    # Percent-encoded, as every other link to the page is (SiteConfig.site_url): a review
    # found `/news/café/` in bodies where cards had `/news/caf%C3%A9/`.
    if kind in PROFILE_KEYS:
        term = slugify(name)
        return config.site_url(f"/{kind}/{term}/") if term else None
    if kind not in ("articles", "pages"):
        return None
    slug = _slug(Checker(doc), name)
    if not slug:
        return None
    return config.site_url(f"/news/{slug}/" if kind == "articles" else f"/{slug}/")


def _resolve_links(
    check: Checker, rendered: Rendered, targets: Targets | None, used: list[LinkUse] | None
) -> str:
    """The body's HTML with links to source .md files pointing at their pages (issue 5)."""
    if targets is None:
        return rendered.html
    urls: dict[str, str] = {}
    folder = posixpath.dirname(check.doc.rel)
    for link in rendered.links:
        url = targets.get(link_key(posixpath.normpath(posixpath.join(folder, link.path))))
        line = check.doc.body_line + link.line
        if url is None:
            check.report("link", f"no article at '{link.path}{link.fragment}'", line)
        else:
            urls[link.href] = url + link.fragment
            if used is not None:
                used.append((url, line, f"{link.path}{link.fragment}"))
    return with_links(rendered.html, urls)


def link_key(rel: str) -> str:
    """A source file's path below content/ as links find it: in NFC, as a link is typed,
    whatever form the file system keeps the name in (macOS writes NFD: `café.md` with its
    accent apart, which a link typed `café.md` did not find)."""
    return rel if rel.isascii() else unicodedata.normalize("NFC", rel)


def duplicate_slugs(keys: list[tuple[str, Path]], lines: dict[Path, int]) -> list[Problem]:
    """SPEC 3: two documents with one slug is an error in each, naming the other files."""
    groups: dict[str, list[Path]] = {}
    for slug, path in keys:
        groups.setdefault(slug, []).append(path)
    problems: list[Problem] = []
    for slug, paths in groups.items():
        for path in paths if len(paths) > 1 else ():
            others = ", ".join(str(p) for p in paths if p != path)
            message = f"'{slug}' is also the slug of {others}"
            problems.append(Problem(path, lines.get(path, 1), "slug", message))
    return problems
