"""The one slugify: lower-case, words joined by '-', letters of any script kept."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from functools import cache, lru_cache
from html.entities import name2codepoint

from slugify import slugify as _slugify

# A file name may hold 255 bytes; keep slugs well under it whatever the script.
MAX_SLUG_BYTES = 120

# Turkish capital dotted I: lower-cased it is "i" and a combining dot, which split the word
# ("i-stanbul"); it is the letter I.
_REPLACEMENTS = (("İ", "I"),)

# Marks that are no part of a letter one sees: variation selectors (the emoji form of a
# digit, "3️⃣"), the grapheme joiner (an "ai" that looks like "ai" and is another slug).
_INVISIBLE = re.compile("[\u034f\ufe00-\ufe0f\U000e0100-\U000e01ef]")


@lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Return the slug of text ("" when nothing sluggable is left)."""
    text = _read(text)
    marks = _marks(text)
    if marks:
        # A vowel sign or other combining mark is part of its letter (भारत, தமிழ், ไทย), but
        # python-slugify's pattern (`[\W_]+`) takes it for punctuation: "भारत" and "भारती"
        # were both "भ-रत", one tag page for two tags (a red team). Allowed here, and
        # dropped where it follows no letter (after a '-', or at the start).
        disallowed, orphans = _patterns(marks)
        slug = _library(text, disallowed)
        slug = re.sub("-{2,}", "-", orphans.sub(r"\1", slug)).strip("-")
    else:
        slug = _library(text, None)
    encoded = slug.encode("utf-8")
    if len(encoded) > MAX_SLUG_BYTES:
        slug = encoded[:MAX_SLUG_BYTES].decode("utf-8", errors="ignore").strip("-")
    return slug


def _library(text: str, disallowed: re.Pattern[str] | None) -> str:
    """python-slugify with Unicode allowed, without reading references again (_read has)."""
    return str(
        _slugify(
            text,
            allow_unicode=True,
            regex_pattern=disallowed,
            entities=False,
            decimal=False,
            hexadecimal=False,
        )
    )


@cache
def _named() -> re.Pattern[str]:
    """HTML's named references, one pattern of 252 names: 3 ms to compile, so not at every
    start, only when a text holds an '&'."""
    return re.compile("&({});".format("|".join(name2codepoint)))


_DECIMAL = re.compile(r"&#(\d+);")
_HEX = re.compile(r"&#x([\da-fA-F]+);")


def _read(text: str) -> str:
    """text with its HTML character references read as python-slugify reads them (after
    its first NFKC; named, then decimal, then hexadecimal, each kind all or nothing), and
    Turkish İ replaced: done here, so that the marks are found in what is slugified (a
    mark spelt `&#2366;` was kept or not by what the process had slugified before: a
    review) and `&#304;` is replaced too."""
    if "&" in text:
        text = unicodedata.normalize("NFKC", text)
        text = _named().sub(lambda m: chr(name2codepoint[m[1]]), text)
        with contextlib.suppress(ValueError, OverflowError):
            text = _DECIMAL.sub(lambda m: chr(int(m[1])), text)
        with contextlib.suppress(ValueError, OverflowError):
            text = _HEX.sub(lambda m: chr(int(m[1], 16)), text)
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return text


def _marks(text: str) -> frozenset[str]:
    """The combining marks (Unicode categories Mn and Mc, not enclosing marks, nor the
    invisible ones) of text as slugify reads it (NFKC, lower-cased); none for ASCII."""
    if text.isascii():
        return frozenset()
    read = set(unicodedata.normalize("NFKC", text).lower())
    return frozenset(
        c for c in read if unicodedata.category(c) in ("Mn", "Mc") and not _INVISIBLE.match(c)
    )


_ALLOWED: set[str] = set()  # every mark allowed so far: one pattern for all texts
_PATTERNS: list[tuple[re.Pattern[str], re.Pattern[str]]] = []


def _patterns(marks: frozenset[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """slugify's pattern of what to replace by '-', with marks (and those of texts before:
    a mark a text does not hold changes nothing in it) allowed; and a pattern of marks that
    follow no letter. Compiled again only when a text brings a mark new to the process."""
    if not _PATTERNS or not marks <= _ALLOWED:
        _ALLOWED.update(marks)
        allowed = "".join(re.escape(c) for c in sorted(_ALLOWED))
        _PATTERNS[:] = [(re.compile(rf"(?:[^\w{allowed}]|_)+"), re.compile(rf"(^|-)[{allowed}]+"))]
    return _PATTERNS[0]
