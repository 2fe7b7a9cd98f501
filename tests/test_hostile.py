"""A hostile site builds with every injection neutralised, checked on the parsed HTML."""

from __future__ import annotations

import shutil
from pathlib import Path

import html5lib
import pytest
from conftest import FIXTURES, article, write_site

BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "poster")


def _elements(path: Path):  # type: ignore[no-untyped-def]
    document = html5lib.parse(path.read_bytes(), treebuilder="etree", namespaceHTMLElements=False)
    return list(document.iter())


def assert_inert(path: Path) -> None:
    for el in _elements(path):
        tag = el.tag if isinstance(el.tag, str) else ""
        assert tag.split("}")[-1] not in ("script", "iframe", "object", "embed", "style"), (
            path,
            tag,
        )
        for name, value in el.attrib.items():
            local = name.split("}")[-1].lower()
            assert not local.startswith("on"), (path, tag, name, value)
            if local in URL_ATTRS or name in URL_ATTRS:
                compact = "".join(value.split()).lower()
                assert not compact.startswith(BAD_SCHEMES), (path, tag, name, value)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    from amwgen.cli import main

    os.environ["SOURCE_DATE_EPOCH"] = "1795651200"
    root = tmp_path_factory.mktemp("hostile")
    site = root / "site"
    shutil.copytree(FIXTURES / "hostile", site)
    assert main(["build", str(site), "-o", str(root / "out")]) == 0
    return root / "out"


def test_no_page_carries_script_handlers_or_bad_urls(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        assert_inert(page)


def test_title_with_closing_tag_is_text(built: Path) -> None:
    page = built / "news" / "tmp-escaped" / "index.html"
    titles = [el for el in _elements(page) if el.tag == "title"]
    assert len(titles) == 1
    assert '</title><script>alert("title")</script>' in (titles[0].text or "")
    h1 = [el for el in _elements(page) if el.tag == "h1"]
    assert len(h1) == 1 and "<script>" in "".join(h1[0].itertext())


def test_slug_with_dots_stays_inside_output(built: Path) -> None:
    assert (built / "news" / "tmp-escaped" / "index.html").is_file()
    assert (built / "pages-x" / "index.html").is_file()
    assert not (built.parent / "tmp").exists()
    for path in built.rglob("*"):
        assert path.resolve().is_relative_to(built.resolve())


def test_raw_html_in_body_is_shown_as_text(built: Path) -> None:
    html = (built / "news" / "tmp-escaped" / "index.html").read_text()
    assert "&lt;script&gt;alert(&quot;body&quot;)&lt;/script&gt;" in html


def test_feeds_escape_titles(built: Path) -> None:
    import feedparser

    feed = feedparser.parse((built / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.entries[0].title.startswith("Evil </title><script>")


def test_unsafe_html_setting_passes_raw_html(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    yaml = "title: T\nbase_url: https://t.example/\nmarkdown: {unsafe_html: true}\n"
    site = write_site(
        tmp_path / "s", {"content/a.md": article("A", body='<div class="x">raw</div>')}, yaml
    )
    assert run("build", site).code == 0
    assert '<div class="x">raw</div>' in (site / "public" / "news" / "a" / "index.html").read_text()
