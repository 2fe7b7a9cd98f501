"""site.yaml -> SiteConfig, or the located problems that stop the build before it starts."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amwgen import yamlfm
from amwgen.model import Editions, Problem, Promo, Scale, SiteConfig

KNOWN_KEYS = (
    "title",
    "base_url",
    "language",
    "timezone",
    "description",
    "output",
    "per_page",
    "scores",
    "markdown",
    "search",
    "editions",
    "promo",
)


class ConfigError(Exception):
    """site.yaml is missing, unreadable or invalid (SPEC 5: exit 2)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def load_config(site_dir: Path) -> SiteConfig:
    """Read and validate site_dir/site.yaml; raise ConfigError listing every problem."""
    path = site_dir / "site.yaml"
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([_problem(path, 0, None, "no site.yaml here; run 'amwgen init DIR'")])
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([_problem(path, 0, None, f"cannot read site.yaml: {err}")]) from None
    try:
        mapping = yamlfm.load_mapping(text)
    except yamlfm.YamlError as err:
        raise ConfigError([_problem(path, err.line, None, f"not valid YAML: {err.message}")])
    config, problems = parse_config(path, mapping)
    if problems or config is None:
        raise ConfigError(sorted(problems, key=Problem.sort_key))
    return config


def parse_config(path: Path, mapping: yamlfm.Mapping) -> tuple[SiteConfig | None, list[Problem]]:
    """Validate a site.yaml mapping; every problem is collected, none raised."""
    data, lines = mapping.data, mapping.key_lines
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(_problem(path, lines.get(key, 0), key, message))

    for key in data:
        if key not in KNOWN_KEYS:
            report(key, f"unknown key{_did_you_mean(key, KNOWN_KEYS)}")
    for key in ("title", "base_url"):
        if key not in data:
            problems.append(_problem(path, 0, None, f"missing required key '{key}'"))

    title = _string(data, "title", "", report)
    base_url = _base_url(data.get("base_url"), report)
    language = _string(data, "language", "en", report)
    timezone = _string(data, "timezone", "UTC", report)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        report("timezone", f"unknown time zone '{timezone}' (an IANA name such as Asia/Seoul)")
    per_page = data.get("per_page", 20)
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        report("per_page", f"{per_page!r} is not a whole number of 1 or more")
        per_page = 20
    search = data.get("search", True)
    if not isinstance(search, bool):
        report("search", "must be true or false")
        search = True
    config = SiteConfig(
        title=title,
        base_url=base_url,
        language=language,
        timezone=timezone,
        description=_string(data, "description", "", report),
        output=_string(data, "output", "public", report) or "public",
        per_page=per_page,
        novelty=_scale(data, "novelty", report),
        significance=_scale(data, "significance", report),
        unsafe_html=_markdown(data, report),
        search=search,
        editions=_editions(data, report),
        promo=_promo(data, report),
    )
    return (None if problems else config), problems


Report = Callable[[str, str], None]


def _problem(path: Path, line0: int, field: str | None, message: str) -> Problem:
    return Problem(path, line0 + 1, field, message)


def _did_you_mean(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" '{key}' (did you mean '{close[0]}'?)" if close else f" '{key}'"


def _string(data: dict[str, Any], key: str, default: str, report: Report) -> str:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        report(key, "must be a string")
        return default
    return str(value)


def _base_url(value: Any, report: Report) -> str:
    if value is None:
        return "http://localhost/"
    if not isinstance(value, str):
        report("base_url", "must be an absolute http(s) URL")
        return "http://localhost/"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        report("base_url", f"'{value}' is not an absolute http(s) URL")
        return "http://localhost/"
    return value if value.endswith("/") else value + "/"


def _scale(data: dict[str, Any], name: str, report: Report) -> Scale:
    scores = data.get("scores", {})
    if not isinstance(scores, dict):
        report("scores", "must be a mapping with novelty and significance")
        return Scale(0, 3)
    for key in scores:
        if key not in ("novelty", "significance"):
            report(f"scores.{key}", "unknown scale (novelty or significance)")
    spec = scores.get(name, {"min": 0, "max": 3})
    key = f"scores.{name}"
    if not isinstance(spec, dict) or set(spec) - {"min", "max"}:
        report(key, "must be a mapping {min: N, max: M}")
        return Scale(0, 3)
    low, high = spec.get("min", 0), spec.get("max", 3)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)) or low >= high:
        report(key, f"min and max must be whole numbers with min < max, not {low!r}..{high!r}")
        return Scale(0, 3)
    return Scale(low, high)


def _markdown(data: dict[str, Any], report: Report) -> bool:
    markdown = data.get("markdown", {})
    if not isinstance(markdown, dict) or set(markdown) - {"unsafe_html"}:
        report("markdown", "must be a mapping {unsafe_html: true|false}")
        return False
    unsafe = markdown.get("unsafe_html", False)
    if not isinstance(unsafe, bool):
        report("markdown", "unsafe_html must be true or false")
        return False
    return unsafe


def _editions(data: dict[str, Any], report: Report) -> Editions:
    editions = data.get("editions", {})
    default = Editions()
    if not isinstance(editions, dict) or set(editions) - {"weekly", "monthly", "top"}:
        report("editions", "must be a mapping {weekly: bool, monthly: bool, top: N}")
        return default
    weekly = editions.get("weekly", default.weekly)
    monthly = editions.get("monthly", default.monthly)
    top = editions.get("top", default.top)
    if not isinstance(weekly, bool) or not isinstance(monthly, bool):
        report("editions", "weekly and monthly must be true or false")
        return default
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        report("editions", f"top must be a whole number of 1 or more, not {top!r}")
        return default
    return Editions(weekly, monthly, top)


def _promo(data: dict[str, Any], report: Report) -> Promo | None:
    promo = data.get("promo")
    if promo is None:
        return None
    keys = ("title", "text", "url", "label")
    if not isinstance(promo, dict) or set(promo) - set(keys):
        report("promo", "must be a mapping with title, text, url and label")
        return None
    values = {k: promo.get(k, "") for k in keys}
    if not all(isinstance(v, str) for v in values.values()) or not values["url"]:
        report("promo", "title, text, url and label must be strings, and url is required")
        return None
    if urlsplit(values["url"]).scheme not in ("http", "https", ""):
        report("promo", f"url '{values['url']}' must be http(s) or a site path")
        return None
    return Promo(values["title"], values["text"], values["url"], values["label"] or "Learn more")


def with_base_url(config: SiteConfig, base_url: str) -> SiteConfig:
    """Return config with base_url replaced (from --base-url); ConfigError if it is bad."""
    problems: list[str] = []
    url = _base_url(base_url, lambda _k, m: problems.append(m))
    if problems:
        raise ConfigError([Problem(Path("--base-url"), 0, None, problems[0])])
    return replace(config, base_url=url)
