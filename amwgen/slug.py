"""The one slugify: lower-case, words joined by '-', letters of any script kept."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from slugify import slugify as _slugify

# A file name may hold 255 bytes; keep slugs well under it whatever the script.
MAX_SLUG_BYTES = 120


@lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Return the slug of text ("" when nothing sluggable is left)."""
    marks = _marks(text)
    if marks:
        # A vowel sign or other combining mark is part of its letter (भारत, தமிழ், ไทย), but
        # python-slugify's pattern (`[\W_]+`) takes it for punctuation: "भारत" and "भारती"
        # were both "भ-रत", one tag page for two tags (a red team). Allowed here, and
        # dropped where it follows no letter (after a '-', or at the start).
        pattern = rf"(?:[^\w{marks}]|_)+"
        slug = _slugify(text, allow_unicode=True, regex_pattern=pattern)
        slug = re.sub(rf"(^|-)[{marks}]+", r"\1", slug).strip("-")
        slug = re.sub("-{2,}", "-", slug)
    else:
        slug = _slugify(text, allow_unicode=True)
    encoded = slug.encode("utf-8")
    if len(encoded) > MAX_SLUG_BYTES:
        slug = encoded[:MAX_SLUG_BYTES].decode("utf-8", errors="ignore").strip("-")
    return slug


def _marks(text: str) -> str:
    """The combining marks (Unicode categories Mn, Mc, Me) of text as slugify reads it
    (NFKC), each once, escaped for a character class; "" when it has none (ASCII: at once)."""
    if text.isascii():
        return ""
    found = {c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c)[0] == "M"}
    return "".join(re.escape(c) for c in sorted(found))
