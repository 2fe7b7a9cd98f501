"""Stable digests of page inputs: frozen data, templates and settings -> a hex string.

A page is re-rendered only when the digest of everything it is rendered from changes, so the
digest must cover every value a template can reach. It walks dataclasses, tuples and scalars
generically (nothing is skipped), memoising shared objects such as entries and terms by id
for the duration of one build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from amwgen import __version__
from amwgen.model import Article, PlainPage, Profile, SiteConfig

# Dataclasses whose fields hold nothing but scalars, dates, paths and tuples of those.
FLAT = frozenset({Article, Profile, PlainPage, SiteConfig})


class Fingerprints:
    """Digests of values for one build; shared sub-values are hashed once."""

    def __init__(self) -> None:
        self._memo: dict[int, bytes] = {}
        self._keep: list[Any] = []  # keeps memoised objects alive so ids stay unique

    def of(self, value: Any) -> bytes:
        """The 16-byte digest of value."""
        if isinstance(value, str | int | float | bool | type(None)):
            return _digest(_scalar(value))
        key = id(value)
        found = self._memo.get(key)
        if found is None:
            found = _digest(b"".join(self._parts(value)))
            self._memo[key] = found
            self._keep.append(value)
        return found

    def _parts(self, value: Any) -> list[bytes]:
        if type(value) in FLAT:
            # Only scalars, dates and tuples of them inside: pickle serialises them exactly,
            # and far faster than walking field by field.
            return [b"P", pickle.dumps(value, protocol=5)]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            parts = [b"D", type(value).__qualname__.encode()]
            for f in dataclasses.fields(value):
                parts += [f.name.encode(), self.of(getattr(value, f.name))]
            return parts
        if isinstance(value, tuple | list):
            return [b"T", *(self.of(item) for item in value)]
        if isinstance(value, frozenset | set):
            return [b"S", *sorted(self.of(item) for item in value)]
        if isinstance(value, dict):
            items = sorted((self.of(k), self.of(v)) for k, v in value.items())
            return [b"M", *(k + v for k, v in items)]
        if isinstance(value, datetime | date):
            return [b"t", value.isoformat().encode()]
        if isinstance(value, PurePath):
            return [b"p", str(value).encode()]
        name = type(value).__name__
        raise TypeError(f"cannot fingerprint {name}: page data must be frozen values")


def _scalar(value: str | int | float | bool | None) -> bytes:
    return f"{type(value).__name__}:{value!r}".encode()


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def combine(*parts: bytes | str) -> str:
    """A hex digest of several digests or strings, with the amwgen version in it."""
    h = hashlib.blake2b(__version__.encode(), digest_size=16)
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()
