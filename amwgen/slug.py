"""The one slugify: lower-case, words joined by '-', letters of any script kept."""

from __future__ import annotations

from functools import lru_cache

from slugify import slugify as _slugify

# A file name may hold 255 bytes; keep slugs well under it whatever the script.
MAX_SLUG_BYTES = 120


@lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Return the slug of text ("" when nothing sluggable is left)."""
    slug = _slugify(text, allow_unicode=True)
    encoded = slug.encode("utf-8")
    if len(encoded) > MAX_SLUG_BYTES:
        slug = encoded[:MAX_SLUG_BYTES].decode("utf-8", errors="ignore").strip("-")
    return slug
