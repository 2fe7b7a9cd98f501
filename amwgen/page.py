"""Page: one output file, as a template name applied to frozen, hashable data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Page:
    """One output file: a path below the output root, how to render it, and its data."""

    path: str  # URL path: "/news/x/" (written as news/x/index.html) or "/feed.xml"
    template: str  # a Jinja template name, or a renderer of feeds.RENDERERS
    data: Any  # a frozen, hashable dataclass
    title: str = ""
    description: str = ""

    @property
    def file(self) -> str:
        """The output file's path relative to the output root."""
        rel = self.path.lstrip("/")
        return rel + "index.html" if rel == "" or rel.endswith("/") else rel
