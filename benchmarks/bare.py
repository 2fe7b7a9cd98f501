"""The floor: read, parse front matter (C loader), render Markdown, write one file per article.

    python benchmarks/bare.py SITE OUT

Single core, no validation, no templates, no taxonomy pages: what any Python generator must
at least spend on the same corpus.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml
from markdown_it import MarkdownIt


def main(site: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted((site / "content").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        meta = yaml.load(front, Loader=loader)
        html = f"<h1>{meta['title']}</h1>\n{md.render(body)}"
        target = out / path.stem / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
