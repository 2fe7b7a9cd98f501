"""site.yaml -> SiteConfig, or the located problems that stop the build before it starts."""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import SplitResult, quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import idna

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
# The known keys of each mapping of site.yaml, by its dotted key ("": the top).
_KEYS: dict[str, tuple[str, ...]] = {
    "": KNOWN_KEYS,
    "scores": ("novelty", "significance"),
    "scores.novelty": ("min", "max"),
    "scores.significance": ("min", "max"),
    "markdown": ("unsafe_html",),
    "editions": ("weekly", "monthly", "top"),
    "promo": ("title", "text", "url", "label"),
}


class ConfigError(Exception):
    """site.yaml is missing, unreadable or invalid (SPEC 5: exit 2)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class FlagError(ConfigError):
    """A value given on the command line is bad (SPEC 5: exit 2): said as `amwgen COMMAND:
    FLAG: message`, not at a file and line, which it has none of."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__([Problem(Path(flag), 0, None, message)])
        self.flag = flag
        self.message = message


def load_config(site_dir: Path) -> SiteConfig:
    """Read and validate site_dir/site.yaml; raise ConfigError listing every problem."""
    path = site_dir / "site.yaml"
    mapping = read_mapping(path)
    config, problems = parse_config(path, mapping)
    for key, code in yamlfm.uncarried_values(mapping.data):
        line0 = key_line(mapping.key_lines, key)
        problems.append(_problem(path, line0, key, yamlfm.uncarried_message(code)))
    if problems or config is None:
        raise ConfigError(sorted(problems, key=Problem.sort_key))
    return config


def _given(data: dict[str, Any], at: str = "") -> dict[str, Any]:
    """data without the empty values of its known keys (`key:` with nothing after it counts
    as not given, as in front matter: `per_page:` and `promo: {label: }` were errors where
    `timezone:` was not), in nested mappings too; title and base_url kept, whose emptiness
    is their error, and unknown keys, which are errors."""
    known = set(_KEYS.get(at, ())) - ({"title", "base_url"} if not at else set())
    return {
        key: _given(value, f"{at}.{key}".lstrip(".")) if isinstance(value, dict) else value
        for key, value in data.items()
        if value is not None or key not in known
    }


def read_mapping(path: Path) -> yamlfm.Mapping:
    """A settings file (site.yaml, i18n/<language>.yaml) as a YAML mapping with its key
    lines; ConfigError with one located line when it cannot be read as one."""
    try:
        return yamlfm.load_mapping(_read(path))
    except yamlfm.YamlError as err:
        message = f"not valid YAML: {err.message}" if err.syntax else err.message
        raise ConfigError([_problem(path, err.line, None, message)]) from None


def _read(path: Path) -> str:
    """A settings file as text; ConfigError with one located line when it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        message = f"no {path.name} here; run 'amwgen init DIR' to start a site"
        raise ConfigError([_problem(path, 0, None, message)]) from None
    except OSError as err:
        message = f"cannot read {path.name}: {err.strerror or err}"
        raise ConfigError([_problem(path, 0, None, message)]) from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line0 = data[: err.start].count(b"\n")
        message = f"is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})"
        raise ConfigError([_problem(path, line0, None, message)]) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line0 = text.count("\n", 0, text.index("\x00"))
        raise ConfigError([_problem(path, line0, None, "contains a NUL character")])
    return text


def parse_config(path: Path, mapping: yamlfm.Mapping) -> tuple[SiteConfig | None, list[Problem]]:
    """Validate a site.yaml mapping; every problem is collected, none raised."""
    data, lines = _given(mapping.data), mapping.key_lines
    problems: list[Problem] = []

    def report(key: str, message: str, at: str | None = None) -> None:
        # SPEC 2: each problem at its key's line, or at the line of the nested key `at`.
        problems.append(_problem(path, key_line(lines, at or key), key, message))

    for key, line0 in mapping.duplicates:
        problems.append(_problem(path, line0, key, "key given twice"))
    for key in data:
        if key not in KNOWN_KEYS:
            # SPEC 2: a misspelt setting must not pass silently.
            message = f"unknown key{_did_you_mean(key, KNOWN_KEYS)}"
            problems.append(_problem(path, lines.get(key, 0), None, message))
    for key in ("title", "base_url"):
        if key not in data:
            problems.append(_problem(path, 0, None, f"missing required key '{key}'"))

    title = _string(data, "title", "", report)
    if "title" in data and isinstance(data["title"] or "", str) and not title.strip():
        report("title", "must not be empty")
    base_url = _base_url(data.get("base_url"), report) if "base_url" in data else ""
    timezone = _timezone(data, report)
    per_page = data.get("per_page", 20)
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        report("per_page", f"must be a whole number of 1 or more, not {yamlfm.show(per_page)}")
        per_page = 20
    novelty, significance = _scales(data, report)
    search = data.get("search", True)
    if not isinstance(search, bool):
        report("search", f"must be true or false, not {yamlfm.show(search)}")
        search = True
    config = SiteConfig(
        title=title,
        base_url=base_url,
        language=_language(data, report),
        timezone=timezone,
        description=_string(data, "description", "", report),
        output=_string(data, "output", "public", report) or "public",
        per_page=per_page,
        novelty=novelty,
        significance=significance,
        unsafe_html=_markdown(data, report),
        search=search,
        editions=_editions(data, report),
        promo=_promo(data, report),
    )
    return (None if problems else config), problems


class Report(Protocol):
    def __call__(self, key: str, message: str, at: str | None = None) -> None: ...


def key_line(lines: dict[str, int], key: str) -> int:
    """The 0-based line of key, else of its nearest parent that has one, else 0."""
    while key:
        if key in lines:
            return lines[key]
        key = key.rpartition(".")[0]
    return 0


def _problem(path: Path, line0: int, field: str | None, message: str) -> Problem:
    return Problem(path, line0 + 1, field, message)


def _did_you_mean(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" '{key}' (did you mean '{close[0]}'?)" if close else f" '{key}'"


def _unknown(value: dict[Any, Any], known: tuple[str, ...], key: str, report: Report) -> bool:
    """Report the first unknown key of a nested mapping, with a did-you-mean; True if any."""
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        report(key, f"unknown key{_did_you_mean(unknown[0], known)}", f"{key}.{unknown[0]}")
    return bool(unknown)


def _string(data: dict[str, Any], key: str, default: str, report: Report) -> str:
    value = data.get(key, default)
    if value is None:
        return default
    text = _text(value)
    if text is None:
        report(key, f"must be text, not {yamlfm.show(value)}")
        return default
    return text


def _text(value: Any) -> str | None:
    """A setting's text: a number is its text (`title: 2026`); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


LANGUAGE_PATTERN, LANGUAGE_LENGTH = r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*", 32
# A language tag's shape (BCP 47: en, ko, pt-BR, zh-Hant-TW), up to 32 characters: the
# translation tables are files named after it, and Pagefind fails on longer ones.
_LANGUAGE = re.compile(LANGUAGE_PATTERN)


def _language(data: dict[str, Any], report: Report) -> str:
    """SPEC 2's `language`, shaped as a tag (_LANGUAGE); English when it is not."""
    language = _string(data, "language", "en", report)
    if len(language) > LANGUAGE_LENGTH or not _LANGUAGE.fullmatch(language):
        report("language", f"'{language}' is not a language tag such as en, ko or pt-BR")
        return "en"
    return language


def _timezone(data: dict[str, Any], report: Report) -> str:
    """SPEC 3: dates without an offset are in this IANA zone, never the machine's."""
    timezone = _string(data, "timezone", "UTC", report)
    try:
        if timezone in ("localtime", "posixrules", "Factory"):
            raise ValueError(timezone)
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        report("timezone", f"unknown time zone '{timezone}' (an IANA name such as Asia/Seoul)")
        return "UTC"
    return timezone


def _base_url(value: Any, report: Report) -> str:
    if not isinstance(value, str):
        report("base_url", f"must be an absolute http(s) URL, not {yamlfm.show(value)}")
        return "http://localhost/"
    parts = split_url(value)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        report("base_url", f"'{value}' is not an absolute http(s) URL")
        return "http://localhost/"
    if parts.query or parts.fragment or "?" in value or "#" in value:
        # An empty one too (`https://example.org/#`): every link would follow it.
        report("base_url", f"'{value}' must not have a query or fragment")
        return "http://localhost/"
    if any(c in _NOT_IN_URLS for c in value):
        report("base_url", f"'{value}' holds a character a URL cannot: one of {_NOT_IN_URLS}")
        return "http://localhost/"
    url = value if value.isascii() else _ascii_url(parts)
    if url is None:
        report("base_url", f"'{value}' has a host name that is no internationalised domain name")
        return "http://localhost/"
    return url if url.endswith("/") else url + "/"


def _ascii_url(parts: SplitResult) -> str | None:
    """The URL in ASCII, as sitemaps and feeds must give it (sitemaps.org: escaped): a host
    name as browsers write it (例え.jp: xn--r8jz45g.jp), other characters beyond ASCII
    percent-encoded as UTF-8 (/ニュース/: /%E3%83%8B...); what is ASCII already is kept as it
    is. None when the host name cannot be written in IDNA."""
    netloc = parts.netloc
    if not netloc.isascii():
        user, at, host_port = netloc.rpartition("@")
        if host_port.startswith("["):  # an IPv6 literal: its zone beyond ASCII is refused
            written: str | None = host_port if host_port.isascii() else None
        else:
            host, colon, port = host_port.partition(":")
            ascii_host = _ascii_host(host)
            written = None if ascii_host is None else ascii_host + colon + port
        if written is None:
            return None
        netloc = quote(user, safe=_KEPT) + at + written
    path = quote(parts.path, safe=_KEPT)
    return f"{parts.scheme}://{netloc}{path}"


def _ascii_host(host: str) -> str | None:
    """A host name in ASCII: mapped by UTS 46 as browsers map it (non-transitional: faß.de
    is xn--fa-hia.de, where Python's own IDNA 2003 codec wrote fass.de, another domain),
    each label beyond ASCII then checked and written by IDNA 2008 (`idna.alabel`: joiners,
    combining marks, right-to-left text; an emoji is refused), and each ASCII label checked
    for what no host holds (a mapping makes a backslash of `＼`: a review) and, if it starts with
    `xn--`, for Punycode that reads. None for a name it refuses, one with an empty label too.
    """
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        labels = mapped.removesuffix(".").split(".")
        written = []
        for label in labels:
            if not label.isascii():
                written.append(idna.alabel(label).decode("ascii"))
                continue
            if not label or any(c in _NOT_IN_HOSTS or ord(c) < 33 for c in label):
                return None
            if label.lower().startswith("xn--"):
                idna.ulabel(label)  # raises for Punycode that does not read
            written.append(label)
    except UnicodeError:  # idna.IDNAError is one
        return None
    return ".".join(written) + ("." if mapped.endswith(".") else "")


_KEPT = "/%:@!$&'()*+,;=-._~"  # RFC 3986's characters of a path, and escapes made already


_NOT_IN_URLS = '"<>\\^`{|}'  # RFC 3986 has no place for these, even escaped in HTML
# What no host name holds: WHATWG's forbidden domain code points, with _NOT_IN_URLS.
_NOT_IN_HOSTS = frozenset(f"#%/:?@[]\x7f{_NOT_IN_URLS}")


def split_url(value: str) -> SplitResult | None:
    """urlsplit, or None for a URL it rejects or one holding spaces or control characters."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return None
    return parts


SCALE_STEPS, SCALE_BOUND = 100, 1000  # an editorial scale: 0..3, 1..5, 0..10, 0..100


def _scales(data: dict[str, Any], report: Report) -> tuple[Scale, Scale]:
    """SPEC 2: `scores:` sets the novelty and significance scales (default 0..3)."""
    scores = data.get("scores")
    if scores is None:
        return Scale(0, 3), Scale(0, 3)
    if not isinstance(scores, dict):
        report(
            "scores", f"must be a mapping with novelty and significance, not {yamlfm.show(scores)}"
        )
        return Scale(0, 3), Scale(0, 3)
    _unknown(scores, _KEYS["scores"], "scores", report)
    return _scale(scores, "novelty", report), _scale(scores, "significance", report)


def _scale(scores: dict[str, Any], name: str, report: Report) -> Scale:
    key = f"scores.{name}"
    spec = scores.get(name)
    if spec is None:
        return Scale(0, 3)
    if not isinstance(spec, dict):
        report(key, f"must be a mapping {{min: N, max: M}}, not {yamlfm.show(spec)}")
        return Scale(0, 3)
    if _unknown(spec, _KEYS[key], key, report):
        return Scale(0, 3)
    low, high = spec.get("min", 0), spec.get("max", 3)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)) or low >= high:
        shown = f"{yamlfm.show(low)}..{yamlfm.show(high)}"
        report(key, f"min and max must be whole numbers with min < max, not {shown}")
        return Scale(0, 3)
    if high - low > SCALE_STEPS or max(abs(low), abs(high)) > SCALE_BOUND:
        # /scores/ has a row or a column for each value, and player maps scale by them.
        message = (
            f"a scale has at most {SCALE_STEPS + 1} values, "
            f"within ±{SCALE_BOUND}, not {low}..{high}"
        )
        report(key, message)
        return Scale(0, 3)
    return Scale(low, high)


def _markdown(data: dict[str, Any], report: Report) -> bool:
    markdown = data.get("markdown")
    if markdown is None:
        return False
    if not isinstance(markdown, dict):
        report(
            "markdown",
            f"must be a mapping {{unsafe_html: true|false}}, not {yamlfm.show(markdown)}",
        )
        return False
    if _unknown(markdown, _KEYS["markdown"], "markdown", report):
        return False
    unsafe = markdown.get("unsafe_html", False)
    if not isinstance(unsafe, bool):
        report("markdown.unsafe_html", f"must be true or false, not {yamlfm.show(unsafe)}")
        return False
    return unsafe


def _editions(data: dict[str, Any], report: Report) -> Editions:
    editions = data.get("editions")
    default = Editions()
    if editions is None:
        return default
    if not isinstance(editions, dict):
        shape = "{weekly: bool, monthly: bool, top: N}"
        report("editions", f"must be a mapping {shape}, not {yamlfm.show(editions)}")
        return default
    if _unknown(editions, _KEYS["editions"], "editions", report):
        return default
    weekly = editions.get("weekly", default.weekly)
    monthly = editions.get("monthly", default.monthly)
    top = editions.get("top", default.top)
    for key, flag in (("weekly", weekly), ("monthly", monthly)):
        if not isinstance(flag, bool):
            report(f"editions.{key}", f"must be true or false, not {yamlfm.show(flag)}")
            return default
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        report("editions.top", f"must be a whole number of 1 or more, not {yamlfm.show(top)}")
        return default
    return Editions(weekly, monthly, top)


def _promo(data: dict[str, Any], report: Report) -> Promo | None:
    promo = data.get("promo")
    if promo is None:
        return None
    keys = _KEYS["promo"]
    if not isinstance(promo, dict):
        report(
            "promo", f"must be a mapping with title, text, url and label, not {yamlfm.show(promo)}"
        )
        return None
    if _unknown(promo, keys, "promo", report):
        return None
    values: dict[str, str] = {}
    for key in keys:  # a number is its text, as for title and description (a review)
        text = _text(promo.get(key, ""))
        if text is None:
            report(f"promo.{key}", f"must be text, not {yamlfm.show(promo[key])}")
            return None
        values[key] = text
    if not values["url"]:
        report("promo", "needs a url")
        return None
    parts = split_url(values["url"])
    if (
        parts is None
        or parts.scheme not in ("http", "https", "")
        or (parts.netloc and not parts.scheme)
    ):
        # `//host/x` is neither: a site path that the base path would be put before.
        report("promo.url", f"'{values['url']}' must be an http(s) URL or a site path")
        return None
    return Promo(values["title"], values["text"], values["url"], values["label"] or "Learn more")


def with_base_url(config: SiteConfig, base_url: str) -> SiteConfig:
    """Return config with base_url replaced (from --base-url); ConfigError if it is bad."""
    problems: list[str] = []

    def report(key: str, message: str, at: str | None = None) -> None:
        problems.append(message)

    url = _base_url(base_url, report)
    if problems:
        raise FlagError("--base-url", problems[0])
    return replace(config, base_url=url)
