"""Page: one output file, as a template name applied to frozen, hashable data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2


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
        return output_file(self.path)


def output_file(path: str) -> str:
    """The file a page at URL path path is written to, relative to the output root."""
    rel = path.lstrip("/")
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


class TemplateFault(jinja2.TemplateError):
    """A page a template made that is no text (a lone surrogate, from a filter): located at
    that template's file (build.template_problem). Picklable, from a worker to the build."""

    def __init__(self, message: str, filename: str | None, name: str) -> None:
        super().__init__(message)
        self.filename = filename
        self.name = name

    def __reduce__(self) -> tuple[type[TemplateFault], tuple[str, str | None, str]]:
        return (TemplateFault, (str(self), self.filename, self.name))


def page_bytes(html: str, template: jinja2.Template) -> bytes:
    """A rendered page as UTF-8; TemplateFault when it holds what is no text."""
    try:
        return html.encode("utf-8")
    except UnicodeEncodeError as err:
        message = f"the page holds U+{ord(html[err.start]):04X}, which is no text"
        raise TemplateFault(message, template.filename, template.name or "") from None
