"""Issue 9: an edition's email.html in headless Chromium at 600 px and 375 px, no sideways scroll."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SITE_YAML, write_site

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no {CHROMIUM}")
sync_api = pytest.importorskip("playwright.sync_api")

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LONG_WORD = "Supercalifragilisticexpialidocious" * 4
STORY = """\
---
title: "{title}"
date: {date}
novelty: {novelty}
significance: 3
category: Funding
region: KR
source: {{url: "https://example.com/{long}", name: Example Wire}}
read: {{novelty: "{long} is new", significance: a very long reason that wraps over lines}}
topics: [Robotics]
players: [Alpha Robotics, Ministry of Science and ICT, {long}]
---
Body.
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def email_html(tmp_path: Path, run) -> str:  # type: ignore[no-untyped-def]
    files = {
        f"content/s{i}.md": STORY.format(
            title=f"Story {i}: {LONG_WORD if i == 0 else 'a headline of ordinary length'}",
            date=f"2026-11-{17 + i}",
            novelty=i % 4,
            long=LONG_WORD,
        )
        for i in range(4)
    }
    note = f"---\ntitle: Note\n---\nSee https://example.com/{LONG_WORD}/{LONG_WORD} and more.\n"
    files["content/editions/2026-w47.md"] = note
    site = write_site(tmp_path / "site", files, SITE_YAML + "editions: {top: 2}\n")
    result = run("build", site, "-o", tmp_path / "out")
    assert result.code == 0, result.err
    return (tmp_path / "out/editions/2026-w47/email.html").read_text()


@pytest.mark.parametrize("width", [600, 375])
def test_email_fits_without_horizontal_scroll(browser: Any, email_html: str, width: int) -> None:
    assert "<style" not in email_html and "<link" not in email_html
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.route("**/*", lambda route: route.abort())  # offline: the mail must need nothing
        page.set_content(email_html)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width
        column = page.evaluate(
            "Math.max(...[...document.querySelectorAll('table')]"
            ".map(t => t.getBoundingClientRect().width))"
        )
        assert column <= width
        main = page.evaluate(
            "[...document.querySelectorAll('table')]"
            ".filter(t => t.style.maxWidth === '600px')[0].getBoundingClientRect().width"
        )
        assert main <= 600
        assert page.evaluate("document.querySelectorAll('script, style, link').length") == 0
    finally:
        page.close()
