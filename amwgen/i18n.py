"""The theme's strings: a translation table for site.yaml `language`, and dates via Babel.

Built-in tables live in amwgen/translations/<lang>.yaml; English fills any gap. A site adds
or overrides strings in i18n/<lang>.yaml beside its site.yaml (docs/theme.md).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from markupsafe import Markup, escape

from amwgen import yamlfm
from amwgen.config import ConfigError, key_line, read_mapping
from amwgen.model import Problem

TRANSLATIONS = Path(__file__).parent / "translations"
FALLBACK = "en"
Table = tuple[tuple[str, str], ...]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_LINK = re.compile(r'<a href="\{(\w+)\}">|</a>')  # the markup Translator.markup keeps
# A character reference as escape() leaves it: put back, as a translator wrote it.
_REFERENCE = re.compile(r"&amp;(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _filled(text: str, values: dict[str, object]) -> Markup:
    """text escaped but for its character references (`&nbsp;`, `&#8212;`: a translator's,
    inert), its placeholders filled with their values, escaped in turn."""

    def value(found: re.Match[str]) -> str:
        given = values.get(found.group(1))
        return found.group(0) if given is None else str(escape(given))

    escaped = _REFERENCE.sub(r"&\1;", str(escape(text)))
    return Markup(_PLACEHOLDER.sub(value, escaped))


PLURAL_FORMS = ("zero", "one", "two", "few", "many")
KEY_LEVELS = 4  # "taxonomy.tags", "stories.one": a key's parts at most


def load_table(site_dir: Path, language: str) -> Table:
    """Code by code (English, the base language, the full tag: _codes), the built-in table
    and then the site's i18n/<code>.yaml: a site's en.yaml words its English, and does not
    reach over the built-in Korean of a Korean site (it did: a red team)."""
    merged: dict[str, str] = {}
    for code in _codes(language):
        for folder in (TRANSLATIONS, site_dir / "i18n"):
            _overlay(merged, _read(folder / f"{code}.yaml"))
    return tuple(sorted(merged.items()))


def _overlay(merged: dict[str, str], layer: dict[str, str]) -> None:
    """layer over merged; a plural that layer gives replaces every form of the one below,
    and one given as a single text (`stories: "{n}개의 기사"`: Korean has one form) is
    every form (it was left unused, in silence)."""
    for key in [k for k in layer if f"{k}.other" in merged]:
        layer[f"{key}.other"] = layer.pop(key)
    for key in layer:
        base, _, form = key.rpartition(".")
        if form == "other":
            for gone in PLURAL_FORMS:
                merged.pop(f"{base}.{gone}", None)
    merged.update(layer)


def _codes(language: str) -> list[str]:
    """en, then the base language, then the full tag: "pt-BR" -> en, pt, pt-BR."""
    base = language.replace("_", "-").split("-")[0]
    codes = [FALLBACK, base, language.replace("_", "-")]
    return list(dict.fromkeys(codes))


def _read(path: Path) -> dict[str, str]:
    """A flat {key: text} from a YAML mapping; nested mappings become dotted keys.
    ConfigError with every problem at its line (SPEC 6), as for site.yaml."""
    if not path.is_file():
        return {}
    mapping = read_mapping(path)  # as site.yaml is read
    flat: dict[str, str] = {}
    problems = [Problem(path, n + 1, key, "key given twice") for key, n in mapping.duplicates]
    for key, code in yamlfm.uncarried_values(mapping.data):
        line = key_line(mapping.key_lines, key) + 1
        problems.append(Problem(path, line, key, yamlfm.uncarried_message(code)))
    _flatten(mapping.data, "", flat, problems, path, mapping.key_lines)
    if problems:
        raise ConfigError(sorted(problems, key=Problem.sort_key))
    return flat


def _flatten(
    data: dict[str, Any],
    prefix: str,
    flat: dict[str, str],
    problems: list[Problem],
    path: Path,
    lines: dict[str, int],
) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name.count(".") >= KEY_LEVELS - 1:
            # Also what ends a mapping that YAML's anchors nest in itself (`a: &r {b: *r}`).
            message = f"is nested too deeply (keys have at most {KEY_LEVELS} parts)"
            problems.append(Problem(path, key_line(lines, name) + 1, name, message))
        elif isinstance(value, dict):
            _flatten(value, f"{name}.", flat, problems, path, lines)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            flat[name] = str(value)
        else:
            problems.append(Problem(path, key_line(lines, name) + 1, name, "must be text"))


class Translator:
    """t(key, **values) and dates for one language; what templates call as t, date_text ..."""

    def __init__(self, language: str, table: Table) -> None:
        self.table = dict(table)
        self.locale = locale_for(language)
        self._formatted: dict[tuple[str, date], str] = {}  # Babel is slow; days repeat
        self._plain: dict[str, str] = {}  # strings without values, as the theme shows them

    def __call__(self, key: str, **values: object) -> str:
        if not values:
            plain = self._plain.get(key)
            if plain is None:
                plain = self._plain[key] = self._text(key)
            return plain
        return self._text(key, **values)

    def _text(self, key: str, **values: object) -> str:
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), self._raw(key))

    def _raw(self, key: str) -> str:
        text = self.table.get(key)
        if text is None:
            # A language without a plural form ("one" in Korean) uses its "other".
            base, _, form = key.rpartition(".")
            fallback = f"{base}.other" if form in PLURAL_FORMS else key
            text = self.table.get(fallback, key)
        return text

    def markup(self, key: str, **values: object) -> Markup:
        """The string key as HTML, for the few that hold links (`not_found_text`): its own
        `<a href="{name}">` and `</a>` kept, every other character of it escaped, as a site's
        i18n/ file is content (a red team put a script into /404.html through it), and each
        value escaped unless it is markup already (time_tag's)."""
        text, found, at, open_links = self._raw(key), [], 0, 0
        for link in _LINK.finditer(text):
            found.append(_filled(text[at : link.start()], values))
            name = link.group(1)
            if name is not None:
                # A value of markup (time_tag's) is no address: it went in unescaped (a review).
                href = values.get(name, "")
                href = "" if isinstance(href, Markup) else str(href)
                found.append(Markup('<a href="{}">').format(href))
                open_links += 1
            elif open_links:  # a `</a>` closes only a link kept (a review: stray ones)
                found.append(Markup("</a>"))
                open_links -= 1
            else:
                found.append(_filled(link.group(0), values))
            at = link.end()
        found.append(_filled(text[at:], values))
        found += [Markup("</a>")] * open_links  # what the string left open
        return Markup("").join(found)

    def plural(self, key: str, count: int, **values: object) -> str:
        """key.<form> for count by the language's plural rules (key.other when missing)."""
        return self(f"{key}.{self.locale.plural_form(count)}", n=count, **values)

    def date_text(self, moment: datetime | date) -> str:
        """A day in the language's medium form: "Nov 21, 2026", "2026년 11월 21일"."""
        return self._format("yMMMd", _day(moment))

    def month_text(self, moment: datetime | date) -> str:
        """A month and year: "November 2026", "2026년 11월"."""
        return self._format("yMMMM", _day(moment).replace(day=1))

    def _format(self, skeleton: str, day: date) -> str:
        key = (skeleton, day)
        text = self._formatted.get(key)
        if text is None:
            text = self._formatted[key] = format_skeleton(skeleton, day, locale=self.locale)
        return text


# Codes CLDR lists as regions that ISO leaves for private use: not a place.
_PRIVATE_USE = frozenset({"QO", "XA", "XB", "ZZ"})
# Not in CLDR's list, reserved by ISO for the United Kingdom, and what newsrooms write.
_RESERVED = frozenset({"UK"})


@cache
def region_codes() -> frozenset[str]:
    """SPEC 3's ISO 3166-1 alpha-2 codes, as CLDR knows them: the assigned ones, and those ISO
    reserves that newsrooms use (EU, UN, UK, XK for Kosovo). Loaded when an article first
    names a region."""
    codes = {str(code) for code in Locale(FALLBACK).territories}
    alpha2 = frozenset(c for c in codes if len(c) == 2 and c.isalpha())
    return (alpha2 - _PRIVATE_USE) | _RESERVED


def locale_for(language: str) -> Locale:
    """Babel's locale for a language tag; English when Babel does not know it."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)


def _day(moment: datetime | date) -> date:
    # The moment is already in the site's timezone (SPEC 3); Babel would convert to UTC.
    return moment.date() if isinstance(moment, datetime) else moment
