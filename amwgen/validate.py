"""RawDoc -> Article (or Profile, PlainPage) plus the problems found; nothing is raised."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from amwgen.load import Loaded
from amwgen.markdown import render_markdown
from amwgen.model import Article, Content, PlainPage, Problem, Profile, RawDoc, Scale, SiteConfig, Source
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
PROFILE_KEYS = {"players": ("title", "url", "kind", "aliases"), "topics": ("title", "aliases")}
PAGE_KEYS = ("title", "slug", "summary")
# SPEC 4: top-level paths the generator owns; a plain page may not take them.
RESERVED_SLUGS = frozenset(
    "news tags topics players categories regions scores editions page assets search".split()
)


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
        for key in keys:
            if key not in self.doc.fields:
                self.report(None, f"missing required key '{key}'", 1)

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.doc.fields.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.report(key, f"must be text, not {_kind(value)}")
            return None
        text = " ".join(str(value).split())
        if required and not text:
            self.report(key, "must not be empty")
            return None
        return text

    def terms(self, key: str) -> tuple[str, ...]:
        value = self.doc.fields.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        names: list[str] = []
        seen: set[str] = set()
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.report(key, f"each item must be text, not {_kind(item)}")
                continue
            name = " ".join(str(item).split())
            slug = slugify(name)
            if not slug:
                self.report(key, f"'{name}' has no letters or digits to make a slug from")
            elif slug not in seen:
                seen.add(slug)
                names.append(name)
        return tuple(names)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list"}.get(type(value), type(value).__name__)


def validate_article(doc: RawDoc, config: SiteConfig) -> tuple[Article | None, list[Problem]]:
    """Return the Article a RawDoc describes, or None with every problem found."""
    check = Checker(doc)
    check.known_keys(ARTICLE_KEYS)
    check.required(REQUIRED_KEYS)
    zone = ZoneInfo(config.timezone)
    title = check.text("title", required=True)
    published = _date(check, "date", zone)
    updated = _date(check, "updated", zone)
    if published and updated and updated < published:
        check.report("updated", "is before date")
    novelty = _score(check, "novelty", config.novelty)
    significance = _score(check, "significance", config.significance)
    read = _read(check)
    slug = _slug(check, doc.rel.rsplit("/", 1)[-1].removesuffix(".md"))
    draft = doc.fields.get("draft", False)
    if not isinstance(draft, bool):
        check.report("draft", "must be true or false")
    rendered = render_markdown(doc.body, config.unsafe_html)
    fields = (
        check.text("category"),
        _region(check),
        _source(check),
        check.terms("topics"),
        check.terms("players"),
        check.terms("tags"),
        check.text("summary"),
    )
    category, region, source, topics, players, tags, summary = fields
    if check.problems or title is None or published is None or novelty is None:
        return None, check.problems
    if significance is None or slug is None:
        return None, check.problems
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
        body_html=rendered.html,
        words=rendered.words,
        draft=draft is True,
    )
    return article, []


def _date(check: Checker, key: str, zone: ZoneInfo) -> datetime | None:
    value = check.doc.fields.get(key)
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, str | int) else ""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        check.report(key, f"'{value}' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])")
        return None
    # SPEC 3: a time without an offset is local time in the site's timezone.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _score(check: Checker, key: str, scale: Scale) -> int | None:
    value = check.doc.fields.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        check.report(key, f"{value!r} is not a whole number")
        return None
    if not scale.min <= value <= scale.max:
        check.report(key, f"{value} is outside {scale.min}..{scale.max}")
        return None
    return value


def _read(check: Checker) -> dict[str, str]:
    value = check.doc.fields.get("read")
    if value is None:
        return {}
    if not isinstance(value, dict):
        check.report("read", "must be a mapping with novelty and significance lines")
        return {}
    out: dict[str, str] = {}
    for key, line in value.items():
        where = f"read.{key}"
        if key not in ("novelty", "significance"):
            close = difflib.get_close_matches(str(key), ("novelty", "significance"), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            check.report("read", f"unknown key '{key}'{hint}", check.doc.key_lines.get(where))
        elif isinstance(line, bool) or not isinstance(line, str | int | float):
            check.report(where, "must be one line of text", check.doc.key_lines.get(where))
        else:
            out[str(key)] = " ".join(str(line).split())
    return out


def _slug(check: Checker, default: str) -> str | None:
    given = check.text("slug")
    slug = slugify(given if given is not None else default)
    if not slug:
        key = "slug" if given is not None else None
        check.report(key, "has no letters or digits to make a slug from; set 'slug:'")
        return None
    return slug


def _region(check: Checker) -> str | None:
    region = check.text("region")
    if region is None:
        return None
    if len(region) != 2 or not region.isascii() or not region.isalpha():
        check.report("region", f"'{region}' is not an ISO 3166-1 alpha-2 code such as KR or US")
        return None
    return region.upper()


def _source(check: Checker) -> Source | None:
    value = check.doc.fields.get("source")
    if value is None:
        return None
    name = ""
    if isinstance(value, dict):
        unknown = set(value) - {"url", "name"}
        if unknown:
            check.report("source", f"unknown key '{sorted(map(str, unknown))[0]}' (url, name)")
            return None
        name = str(value.get("name") or "")
        value = value.get("url")
    if not isinstance(value, str):
        check.report("source", "must be a URL or {url: ..., name: ...}")
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        check.report("source", f"'{value}' is not an http(s) URL")
        return None
    return Source(value.strip(), " ".join(name.split()) or parts.netloc)


def validate_profile(doc: RawDoc, taxonomy: str, config: SiteConfig) -> tuple[Profile | None, list[Problem]]:
    """Return the Profile of a topic or player file, or None with its problems."""
    check = Checker(doc)
    check.known_keys(PROFILE_KEYS[taxonomy])
    title = check.text("title", required=True)
    slug = slugify(doc.rel.rsplit("/", 1)[-1].removesuffix(".md"))
    if not slug:
        check.report(None, "the file name has no letters or digits to make a slug from", 1)
    url = check.text("url")
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        check.report("url", f"'{url}' is not an http(s) URL")
    aliases = check.terms("aliases")
    rendered = render_markdown(doc.body, config.unsafe_html)
    if check.problems:
        return None, check.problems
    profile = Profile(
        path=doc.path,
        slug=slug,
        title=title or slug,
        url=url,
        kind=check.text("kind"),
        aliases=aliases,
        body_html=rendered.html,
        summary=rendered.summary,
    )
    return profile, []


def validate_page(doc: RawDoc, config: SiteConfig) -> tuple[PlainPage | None, list[Problem]]:
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
    if check.problems or title is None or slug is None:
        return None, check.problems
    return PlainPage(doc.path, slug, title, rendered.html, summary or rendered.summary), []


def validate_content(loaded: Loaded, config: SiteConfig) -> tuple[Content, list[Problem]]:
    """Validate every loaded document; the Content holds only the valid ones."""
    problems = list(loaded.problems)
    articles = _collect(loaded.articles, lambda d: validate_article(d, config), problems)
    problems += _duplicates([(a.slug, a.path, "slug") for a in articles])
    pages = _collect(loaded.docs("pages"), lambda d: validate_page(d, config), problems)
    problems += _duplicates([(p.slug, p.path, "slug") for p in pages])
    profiles = []
    for taxonomy in PROFILE_KEYS:
        found = _collect(loaded.docs(taxonomy), lambda d, t=taxonomy: validate_profile(d, t, config), problems)
        profiles.append((taxonomy, tuple(found)))
    content = Content(tuple(articles), tuple(profiles), tuple(pages), loaded.warnings)
    return content, problems


def _collect(docs: tuple[RawDoc, ...], check: Callable[[RawDoc], tuple[Any, list[Problem]]], problems: list[Problem]) -> list[Any]:
    valid = []
    for doc in docs:
        value, found = check(doc)
        problems.extend(found)
        if value is not None:
            valid.append(value)
    return valid


def _duplicates(keys: list[tuple[str, Any, str]]) -> list[Problem]:
    first: dict[str, Any] = {}
    problems: list[Problem] = []
    for slug, path, field in keys:
        if slug in first:
            message = f"'{slug}' is also the slug of {first[slug]}"
            problems.append(Problem(path, 1, field, message))
        else:
            first[slug] = path
    return problems
