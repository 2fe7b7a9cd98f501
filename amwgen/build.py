"""The pipeline on one screen: load -> validate -> index -> render -> write."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from amwgen.config import ConfigError, load_config, with_base_url
from amwgen.index import Index, build_index
from amwgen.load import load_content
from amwgen.model import Problem, SiteConfig
from amwgen.page import Page
from amwgen.render import THEME_DIR, css_digest, make_env, plan_pages, render_page
from amwgen.validate import validate_content
from amwgen.write import write_site


@dataclass(frozen=True, slots=True)
class Options:
    now: datetime
    output: Path | None = None  # None: site.yaml's output, relative to the site
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    clean: bool = False
    jobs: int = 1


@dataclass(frozen=True, slots=True)
class Result:
    problems: tuple[Problem, ...]  # errors: nothing was written
    warnings: tuple[Problem, ...] = ()
    output: Path | None = None
    pages: tuple[tuple[str, int], ...] = ()  # pages written by template
    terms: tuple[tuple[str, int], ...] = ()  # terms by taxonomy
    seconds: float = 0.0
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Checked:
    config: SiteConfig
    index: Index | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = field(default=())


def check(site_dir: Path, options: Options) -> Checked:
    """Load, validate and index the site; ConfigError when site.yaml is unusable."""
    config = load_config(site_dir)
    if options.base_url:
        config = with_base_url(config, options.base_url)
    loaded = load_content(site_dir)
    content, problems = validate_content(loaded, config)
    index, index_problems = build_index(
        content, config, options.now, options.drafts, options.future
    )
    problems += index_problems
    errors = sorted((p for p in problems if p.severity == "error"), key=Problem.sort_key)
    warnings = sorted(
        [*content.warnings, *(p for p in problems if p.severity != "error")], key=Problem.sort_key
    )
    return Checked(config, None if errors else index, tuple(errors), tuple(warnings))


def output_dir(site_dir: Path, config: SiteConfig, options: Options) -> Path:
    """Where the site goes; ConfigError if that folder would hold the site's own sources."""
    out = options.output if options.output is not None else site_dir / config.output
    resolved, site = out.resolve(), site_dir.resolve()
    owned = [site / name for name in ("content", "layouts", "static")]
    if site.is_relative_to(resolved) or any(resolved.is_relative_to(o) for o in owned):
        message = f"output folder '{out}' would replace the site's own files; choose another"
        raise ConfigError([Problem(Path("site.yaml"), 1, "output", message)])
    return out


def build(site_dir: Path, options: Options) -> Result:
    """Build the site into its output folder; with problems, nothing is written."""
    started = time.perf_counter()
    checked = check(site_dir, options)
    if checked.index is None:
        return Result(checked.problems, checked.warnings)
    out = output_dir(site_dir, checked.config, options)
    pages = plan_pages(checked.index)
    theme_static = THEME_DIR / "static"
    site_css = site_dir / "static" / "assets" / "amwgen.css"
    css = site_css if site_css.is_file() else theme_static / "assets" / "amwgen.css"
    nav = tuple((p.title, p.url) for p in checked.index.pages)
    env = make_env(site_dir, checked.config, css_digest(css.read_bytes()), nav)
    files = ((page.file, render_page(page, env)) for page in pages)
    count = write_site(out, files, _static_dirs(site_dir, theme_static))
    return Result(
        problems=(),
        warnings=checked.warnings,
        output=out,
        pages=_count_pages(pages),
        terms=tuple((t.name, len(terms)) for t, terms in checked.index.terms),
        seconds=time.perf_counter() - started,
        files=count,
    )


def _static_dirs(site_dir: Path, theme_static: Path) -> list[Path]:
    """Theme assets first, so that the site's static/ can replace any of them."""
    return [theme_static, site_dir / "static"]


def _count_pages(pages: tuple[Page, ...]) -> tuple[tuple[str, int], ...]:
    counts = Counter(page.template for page in pages)
    return tuple(sorted(counts.items()))
