"""Issue 7, point 5: one huge article body, 1,000 tags, a 10,000-character title build fine.

(The 50,000-article site is measured with benchmarks/run.py, not here: it takes minutes.)
"""

from __future__ import annotations

from pathlib import Path

from conftest import article, write_site

PARAGRAPH = "Compute prices fell again as new fabs came online in Kumamoto and Arizona. " * 10


def test_five_megabyte_body(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    body = (PARAGRAPH.strip() + "\n\n") * (5 * 1024 * 1024 // (len(PARAGRAPH) + 1))
    assert len(body.encode()) >= 5 * 1024 * 1024 - 1024
    site = write_site(tmp_path / "site", {"content/huge.md": article("Huge", body=body)})
    result = run("build", site, "-q")
    assert result.code == 0, result.err
    page = (site / "public" / "news" / "huge" / "index.html").read_bytes()
    assert len(page) > 5 * 1024 * 1024 and page.count(b"<p>Compute prices") > 1000


def test_a_thousand_tags_on_one_article(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tags = ", ".join(f"tag {n}" for n in range(1000))
    site = write_site(tmp_path / "site", {"content/tagged.md": article("Tagged", tags=f"[{tags}]")})
    result = run("build", site, "-q")
    assert result.code == 0, result.err
    assert len(list((site / "public" / "tags").glob("tag-*/index.html"))) == 1000
    page = (site / "public" / "news" / "tagged" / "index.html").read_text()
    assert "tag 999" in page


def test_a_ten_thousand_character_title(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    title = ("Very long headline " * 600)[:10_000].strip()
    site = write_site(tmp_path / "site", {"content/long.md": article(title)})
    result = run("build", site, "-q")
    assert result.code == 0, result.err
    page = (site / "public" / "news" / "long" / "index.html").read_text()
    assert title in page
    # A slug made from such a title stays a legal file name (slug.MAX_SLUG_BYTES).
    site2 = write_site(
        tmp_path / "site2", {"content/long.md": article(title, slug=title.replace(" ", "-"))}
    )
    assert run("build", site2, "-q").code == 0
    (folder,) = (site2 / "public" / "news").iterdir()
    assert len(folder.name.encode()) <= 120
