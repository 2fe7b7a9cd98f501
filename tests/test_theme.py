"""Issue 6: lean pages, social and search-engine tags, JSON-LD, and the search switch."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, SITE_YAML, article, tree, write_site

from amwgen import search

ARTICLE = "news/korea-physical-ai-alliance-2/index.html"
LIMIT = 60 * 1024  # bytes: an article page's HTML plus its CSS, uncompressed


class _Head(HTMLParser):
    """The <head>'s meta, link and script elements, and the JSON-LD text."""

    def __init__(self) -> None:
        super().__init__()
        self.in_head = False
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "head":
            self.in_head = True
        elif tag == "meta" and (a.get("name") or a.get("property")):
            self.meta[str(a.get("name") or a.get("property"))] = str(a.get("content"))
        elif tag == "link" and a.get("rel"):
            self.links[str(a["rel"])] = str(a.get("href"))
        elif tag == "script":
            self.scripts.append({**a, "in_head": "1" if self.in_head else None})
            self._in_ld = a.get("type") == "application/ld+json"

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(data)


def head_of(path: Path) -> _Head:
    parser = _Head()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    from amwgen.cli import main

    os.environ["SOURCE_DATE_EPOCH"] = "1795651200"
    out = tmp_path_factory.mktemp("theme") / "public"
    assert main(["build", str(REPO), "-o", str(out)]) == 0
    return out


def test_article_page_is_lean(example: Path) -> None:
    html = (example / ARTICLE).read_bytes()
    css = (example / "assets" / "amwgen.css").read_bytes()
    total = len(html) + len(css)
    print(f"article page: {len(html)} B HTML + {len(css)} B CSS = {total} B")
    assert total < LIMIT


def test_no_render_blocking_script(example: Path) -> None:
    for page in sorted(example.rglob("*.html")):
        if page.is_relative_to(example / "pagefind"):
            continue
        for script in head_of(page).scripts:
            if script.get("type") == "application/ld+json" or not script["in_head"]:
                continue
            assert "defer" in script or "async" in script or script.get("type") == "module", page


def test_every_page_has_canonical_description_and_social_tags(example: Path) -> None:
    pages = [p for p in sorted(example.rglob("*.html")) if "email.html" not in p.name]
    assert len(pages) > 30
    for page in pages:
        head = head_of(page)
        assert head.links["canonical"].startswith("https://news.example.org/"), page
        for name in ("description", "og:title", "og:description", "og:url", "og:type"):
            assert head.meta.get(name), (page, name)
        assert head.meta["twitter:card"] == "summary", page
        assert head.meta["og:url"] == head.links["canonical"], page


def test_article_page_carries_news_article_json_ld(example: Path) -> None:
    head = head_of(example / ARTICLE)
    (text,) = head.json_ld
    assert "<" not in text
    data = json.loads(text)
    assert data["@type"] == "NewsArticle"
    assert data["headline"].startswith("South Korea launches 2nd Physical AI Alliance")
    assert data["datePublished"] == "2026-11-21T00:00:00+09:00"
    assert data["dateModified"].startswith("2026-11-2")
    assert data["publisher"]["name"] == "AI Market Watch"
    assert "Physical AI" in data["keywords"]
    assert data["url"] == "https://news.example.org/news/korea-physical-ai-alliance-2/"
    assert data["description"]
    assert head.meta["og:type"] == "article"


def test_json_ld_escapes_what_could_close_the_script(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    title = '"</script><script>alert(1)</script> & <!--"'
    site = write_site(tmp_path / "s", {"content/a.md": article(title, tags="[a<b]")})
    assert run("build", site).code == 0
    html = (site / "public/news/a/index.html").read_text()
    ld = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in ld and ">" not in ld and "&" not in ld
    data = json.loads(ld)
    assert data["headline"] == title.strip('"') and data["keywords"] == ["a<b"]


def test_search_page_box_and_index(example: Path) -> None:
    assert (example / "search" / "index.html").is_file()
    assert (example / "pagefind" / "pagefind.js").is_file()
    assert 'role="search"' in (example / "index.html").read_text()
    assert "data-pagefind-body" in (example / ARTICLE).read_text()


def test_search_false_turns_it_off(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "s", {"content/a.md": article()}, SITE_YAML + "search: false\n")
    assert run("build", site).code == 0
    out = site / "public"
    assert not (out / "search").exists() and not (out / "pagefind").exists()
    for page in out.rglob("*.html"):
        assert 'role="search"' not in page.read_text(), page
    assert "/search/" not in (out / "sitemap.xml").read_text()


def test_failed_indexing_leaves_the_old_output(
    run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    site = write_site(tmp_path / "s", {"content/a.md": article("First")})
    assert run("build", site).code == 0
    before = tree(site / "public")
    (site / "content/a.md").write_text(article("Second"))
    monkeypatch.setattr(search, "pagefind_binary", lambda: Path("/bin/false"))
    result = run("build", site)
    assert result.code == 2
    assert "site.yaml:1: search: Pagefind failed" in result.err
    assert tree(site / "public") == before


def test_search_index_is_deterministic(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outs = []
    for name in ("one", "two"):
        assert run("build", REPO, "-o", tmp_path / name, "--clean").code == 0
        outs.append(tree(tmp_path / name / "pagefind"))
    assert outs[0] == outs[1] and outs[0]


def test_theme_makes_no_third_party_requests(example: Path) -> None:
    """Only the site's own host in src/href of stylesheets, scripts, icons and fonts."""
    css = (example / "assets" / "amwgen.css").read_text()
    assert "@import" not in css and "url(http" not in css
    for page in sorted(example.rglob("*.html")):
        if page.is_relative_to(example / "pagefind") or page.name == "email.html":
            continue
        head = head_of(page)
        for script in head.scripts:
            assert not str(script.get("src") or "").startswith(("http:", "https:", "//"))
        for rel in ("stylesheet", "icon"):
            assert head.links[rel].startswith("/"), (page, rel)


def test_template_calls_reach_functions_as_jinja_would(tmp_path: Path) -> None:
    """render._Context calls plain functions straight away; whatever asks for the context,
    the environment or the evaluation context still gets it, as with Jinja's own context."""
    import functools

    import jinja2
    from jinja2.runtime import Context

    from amwgen.config import load_config
    from amwgen.render import make_env

    site = write_site(tmp_path / "site", {})
    env = make_env(site, load_config(site), "digest")

    class Holder:
        def plain(self, x: str) -> str:
            return f"method {x}"

        @jinja2.pass_context
        def marked(self, context: Context, x: str) -> str:
            return f"marked method {x} {context['who']}"

    def stops() -> str:
        raise StopIteration

    env.globals.update(
        plain=lambda x: f"plain {x}",
        with_context=jinja2.pass_context(lambda c, x: f"context {x} {c['who']}"),
        with_env=jinja2.pass_environment(lambda e, x: f"env {x} {e is env}"),
        with_eval=jinja2.pass_eval_context(lambda e, x: f"eval {x} {e.autoescape}"),
        cached=functools.lru_cache(jinja2.pass_context(lambda c, x: f"cached {x} {c['who']}")),
        holder=Holder(),
        stops=stops,
    )
    source = (
        "{% macro m(x) %}macro {{ x }}{% endmacro %}"
        "{% for i in [1] %}{{ plain(i) }}|{{ with_context(i) }}|{{ with_env(i) }}|"
        "{{ with_eval(i) }}|{{ cached(i) }}|{{ holder.plain(i) }}|{{ holder.marked(i) }}|"
        "{{ stops() is undefined }}|{{ m(i) }}|{{ '<{}>'.format(i) }}|{{ t('atom_feed') }}{% endfor %}"
    )
    fast = env.from_string(source).render(who="w")
    env.context_class = Context
    assert fast == env.from_string(source).render(who="w")
    assert fast == (
        "plain 1|context 1 w|env 1 True|eval 1 True|cached 1 w|method 1|marked method 1 w|"
        "True|macro 1|&lt;1&gt;|Atom feed"
    )


def test_an_environment_is_freed_once_unused(tmp_path: Path) -> None:
    """`serve` builds again and again in one process: what render keeps per environment
    (the templates it chose) must go with the environment."""
    import gc
    import weakref

    from amwgen import render
    from amwgen.config import load_config

    site = write_site(tmp_path / "site", {})
    env = render.make_env(site, load_config(site), "digest")
    assert render._select(env, ("term-tags.html", "term.html")).name == "term.html"
    freed = weakref.ref(env)
    del env
    gc.collect()
    assert freed() is None


def test_a_sites_card_macro_is_used_on_every_list(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """templates.md: a template in layouts/ replaces the theme's wherever it is used; the
    home list, term pages and /scores/ show cards through macros.html's card()."""
    theme = (REPO / "amwgen" / "templates" / "macros.html").read_text()
    ours = theme.replace(
        "{% set card = card_html %}",
        '{% macro card(entry, heading="h2") %}<p class="our-card">{{ entry.article.title }}</p>{% endmacro %}',
    )
    assert ours != theme
    files = {
        "content/a.md": article("Ours", topics="[Robotics]", tags="[robots]"),
        "layouts/macros.html": ours,
    }
    site = write_site(tmp_path / "s", files)
    assert run("build", site).code == 0
    for page in (
        "index.html",
        "topics/robotics/index.html",
        "tags/robots/index.html",
        "scores/index.html",
    ):
        assert '<p class="our-card">Ours</p>' in (site / "public" / page).read_text(), page


def test_a_body_heading_never_takes_an_id_the_theme_gives(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # "## AMW Read" made a second id="amw-read" on the page, beside the theme's section
    # (a red team); such a heading's id gets "section-" before it.
    body = "## AMW Read\n\nOurs.\n\n## AMW: Connects\n\nMore.\n\n## Related\n\nAnd more.\n"
    # An editor's note beside the edition's groups (their ids were "group-1": a review).
    note = "---\ntitle: N\n---\n## Group 1\n\nText.\n"
    files = {
        "content/a.md": article("A", body=body, topics="[robotics]"),
        "content/editions/2026-w47.md": note,
    }
    site = write_site(tmp_path, files)
    assert run("build", site).code == 0
    html = (site / "public" / "news" / "a" / "index.html").read_text()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(ids)
    assert {"amw-read", "section-amw-read", "section-amw-connects", "related"} <= set(ids)
    edition = (site / "public" / "editions" / "2026-w47" / "index.html").read_text()
    ids = re.findall(r'\sid="([^"]+)"', edition)
    assert len(ids) == len(set(ids)) and {"group-1", "amw-group-1"} <= set(ids), sorted(ids)
