"""Incremental builds: unchanged pages are reused, and the output always equals a clean build."""

from __future__ import annotations

import gc
import io
import os
import pickle
import random
import shutil
import stat
import textwrap
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import FIXTURES, article, tree, write_site

from amwgen.build import Options, differing_files
from amwgen.config import load_config
from amwgen.fingerprint import RENDERING_PACKAGES, code_digest, installed_versions, time_zone_data
from amwgen.render import make_env
from amwgen.write import Listing, clone_tree, write_file

Edit = Callable[[Path, random.Random], None]


def _articles(site: Path) -> list[Path]:
    return sorted(p for p in (site / "content" / "2026").glob("*.md"))


def add_article(site: Path, rng: random.Random) -> None:
    n = rng.randrange(10_000)
    topic = rng.choice(["Robotics", "Semiconductors", "Energy"])
    text = article(
        f"Added {n}",
        f"2026-11-{rng.randint(1, 25):02}",
        topics=f"[{topic}]",
        players="[Newco]",
        tags="[added, Physical AI]",
    )
    (site / "content" / "2026" / f"added-{n}.md").write_text(text)


def edit_body(site: Path, rng: random.Random) -> None:
    path = rng.choice(_articles(site))
    path.write_text(path.read_text() + f"\nOne more line {rng.randrange(1000)}.\n")


def edit_scores(site: Path, rng: random.Random) -> None:
    path = rng.choice(_articles(site))
    text = path.read_text()
    for key in ("novelty", "significance"):
        text = "\n".join(
            f"{key}: {rng.randint(0, 3)}" if line.startswith(f"{key}:") else line
            for line in text.split("\n")
        )
    path.write_text(text)


def retag(site: Path, rng: random.Random) -> None:
    path = rng.choice(_articles(site))
    lines = [line for line in path.read_text().split("\n") if not line.startswith("tags:")]
    lines.insert(2, f"tags: [{rng.choice(['funding', 'NPU', 'policy', 'fresh'])}, 로봇]")
    path.write_text("\n".join(lines))


def rename_topic(site: Path, rng: random.Random) -> None:
    new = rng.choice(["Robots", "Physical AI", "Robotics"])
    for path in _articles(site):
        text = path.read_text().replace("Robotics", new).replace("robotics", new)
        path.write_text(text)


def delete_article(site: Path, rng: random.Random) -> None:
    paths = _articles(site)
    if len(paths) > 2:
        rng.choice(paths).unlink()


def change_template(site: Path, rng: random.Random) -> None:
    layouts = site / "layouts"
    layouts.mkdir(exist_ok=True)
    name = rng.choice(["article.html", "card.html", "base.html"])
    source = (Path(__file__).resolve().parent.parent / "amwgen" / "templates" / name).read_text()
    (layouts / name).write_text(source.replace("</", f"<!-- v{rng.randrange(99)} --></", 1))


def change_site_yaml(site: Path, rng: random.Random) -> None:
    path = site / "site.yaml"
    text = "\n".join(
        line for line in path.read_text().split("\n") if not line.startswith("per_page")
    )
    path.write_text(text.rstrip("\n") + f"\nper_page: {rng.randint(1, 4)}\n")


def change_static(site: Path, rng: random.Random) -> None:
    """Add or remove a static file; sometimes one that replaces a page."""
    rel = rng.choice(["extra/note.txt", "about/index.html"])
    path = site / "static" / rel
    if path.exists():
        path.unlink()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"static {rng.randrange(99)}\n")


EDITS: list[Edit] = [
    add_article,
    edit_body,
    edit_scores,
    retag,
    rename_topic,
    delete_article,
    change_template,
    change_site_yaml,
    change_static,
]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    # Other tests build the fixture in place: its cache and output are not part of it.
    leftovers = shutil.ignore_patterns(".amwgen-cache", "public", ".public.*")
    shutil.copytree(FIXTURES / "golden", root, ignore=leftovers)
    return root


@pytest.mark.parametrize(("seed", "newest"), [(1, None), (2, None), (3, None), (4, 2), (5, 2)])
def test_random_edits_always_equal_a_clean_build(
    run, site: Path, tmp_path: Path, seed: int, newest: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """newest: Related News from each term's two newest articles only, so that the fixture's
    terms hold more than that (as a large site's do: build.plan_units follows the newest)."""
    if newest is not None:
        from amwgen import index

        monkeypatch.setattr(index, "RELATED_POSTINGS_LIMIT", newest)
    rng = random.Random(seed)
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    steps = EDITS + [rng.choice(EDITS) for _ in range(6)]
    rng.shuffle(steps)
    for step in steps:
        step(site, rng)
        # --verify makes the clean build beside it without touching the cache, so that each
        # incremental build starts from the last one's (a clean build of ours would not).
        incremental = run("build", site, "-o", out, "-j", rng.choice(["1", "2"]), "--verify")
        assert incremental.code == 0, (step.__name__, incremental.err)
        assert "verify: identical to a clean build" in incremental.out, step.__name__


def test_the_output_before_last_becomes_the_next_output(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Steady state: each build brings the spare up to date and swaps it in; the replaced
    output becomes the spare. A --clean build, which shares no file with the output it
    replaces, keeps no spare: the next build starts from a clone of its output."""
    out, spare = tmp_path / "out", tmp_path / ".out.spare"
    rng = random.Random(9)
    assert run("build", site, "-o", out).code == 0
    assert not spare.exists()
    for flags in ([], [], ["--clean"], [], []):
        edit_body(site, rng)
        live = out.stat().st_ino
        was_spare = spare.stat().st_ino if spare.exists() else None
        assert run("build", site, "-o", out, *flags).code == 0
        if flags:
            assert not spare.exists()
            continue
        assert spare.stat().st_ino == live
        if was_spare is not None:
            assert out.stat().st_ino == was_spare


def test_a_damaged_spare_does_not_reach_the_output(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The output before last is kept beside the output and brought up to date by the next
    build; a file missing or changed in it is taken from the output or rendered again."""
    out = tmp_path / "out"
    rng = random.Random(5)
    assert run("build", site, "-o", out).code == 0
    edit_body(site, rng)
    assert run("build", site, "-o", out).code == 0
    spare = tmp_path / ".out.spare"
    assert spare.is_dir()
    (spare / "about" / "index.html").unlink()
    victim = sorted(spare.glob("news/*/index.html"))[0]
    victim.unlink()
    victim.write_bytes(b"damaged")
    edit_body(site, rng)
    assert run("build", site, "-o", out).code == 0
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_without_a_spare_the_build_starts_from_a_checked_clone_of_the_output(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The first build after a clean one has no spare: a second process clones the output
    (hard links) while the build plans, and the build starts from the clone; a file changed,
    missing or added in the clone does not reach the output."""
    from amwgen import build as build_module
    from amwgen.write import files_below

    out = tmp_path / "out"
    assert run("build", site, "-o", out, "--clean").code == 0
    marker = tmp_path / "cloned"

    def damaged_clone(source: Path, dest: Path) -> Listing:
        clone_tree(source, dest)
        marker.write_text(dest.name)  # the clone is made in a forked process
        (dest / "about" / "index.html").unlink()
        victim = sorted(dest.glob("news/*/index.html"))[0]
        victim.unlink()
        victim.write_bytes(b"damaged")
        (dest / "stray.txt").write_text("not a page")
        return files_below(dest)

    monkeypatch.setattr(build_module, "clone_tree", damaged_clone)
    kept = (out / "tags" / "index.html").stat().st_ino
    edit_body(site, random.Random(3))
    assert run("build", site, "-o", out).code == 0
    assert marker.read_text() == f".out.clone-{os.getpid()}"
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []
    # An unchanged page is the same file as before, and nothing is left beside the output.
    assert (out / "tags" / "index.html").stat().st_ino == kept
    trash_gone(out)  # removed in the background
    assert sorted(p.name for p in tmp_path.glob(".out*")) == [".out.spare"]


def test_no_clone_is_made_when_there_is_nothing_to_reuse(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Without a cache (deleted) or with --clean, no page can be reused: no clone is made."""
    from amwgen import build as build_module

    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    marker = tmp_path / "cloned"

    def noted_clone(source: Path, dest: Path) -> Listing:
        marker.write_text("cloned")  # made in a forked process
        return clone_tree(source, dest)

    monkeypatch.setattr(build_module, "clone_tree", noted_clone)
    shutil.rmtree(site / ".amwgen-cache")
    assert run("build", site, "-o", out).code == 0
    assert not (tmp_path / ".out.spare").exists()  # nothing was shared with the output before
    assert run("build", site, "-o", out, "--clean").code == 0
    assert not marker.exists()
    edit_body(site, random.Random(6))
    assert run("build", site, "-o", out).code == 0
    assert marker.exists()  # the first build after --clean, which keeps no spare


def test_a_spare_listing_taken_before_another_build_swapped_is_not_used(
    site: Path, tmp_path: Path
) -> None:
    """The spare is listed before the output lock is taken: a build that ran in between
    (taking the spare, or replacing it) makes the listing unusable, and it is not used."""
    from datetime import UTC, datetime

    from amwgen.build import Options, _SpareListing, build

    out = tmp_path / "out"
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=out)
    build(site, options)
    edit_body(site, random.Random(1))
    build(site, options)  # the first output is now the spare
    quiet = _SpareListing(out)
    assert quiet.holds(out)
    quiet.close(failed=False)
    early = _SpareListing(out)
    edit_body(site, random.Random(2))
    build(site, options)  # takes the spare listed above and swaps in a new output
    assert not early.holds(out)
    early.close(failed=False)
    # Two builds swap the output and the spare, then swap them back: the same two inodes.
    inodes = (out.stat().st_ino, (tmp_path / ".out.spare").stat().st_ino)
    twice = _SpareListing(out)
    for seed in (3, 4):
        edit_body(site, random.Random(seed))
        build(site, options)
    assert (out.stat().st_ino, (tmp_path / ".out.spare").stat().st_ino) == inodes
    assert not twice.holds(out)
    twice.close(failed=False)


@pytest.mark.parametrize("put_back", ["state", "shard", "journal"])
def test_a_save_cut_short_leaves_no_record_trusted_by_its_stat(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_back: str
) -> None:
    """The output's records are kept in shards, each rewritten only when it changed, or in a
    journal of what changed since; state.pickle is written last: a save cut short between
    them leaves files that state.pickle does not name, and the next build then trusts none
    of the records by their files' stat (documents, keyed by their bytes, are still used). put_back: the
    state.pickle before them (a save cut short), or one shard or journal as it was (a file
    from another save). For the shards, every save writes them (no journal). The state
    before them is whole, but of the output before this one: its records are taken only
    where a file holds the bytes they name (adopt_output), and the pages edited since are
    rendered again."""
    from datetime import UTC, datetime

    from amwgen import incremental, sources
    from amwgen.build import build

    if put_back == "shard":
        monkeypatch.setattr(incremental, "JOURNAL_SHARE", 0)
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    # Built into tmp_path: the cache of builds into another folder (OTHER_CACHE).
    cache = site / ".amwgen-cache" / "other"
    delta = site / "content" / "2026" / "delta.md"

    def tables() -> dict[str, bytes]:
        files = [*cache.glob("*-[0-9][0-9].pickle"), *cache.glob("*-journal.pickle")]
        return {p.name: p.read_bytes() for p in files if not p.name.startswith("docs")}

    build(site, options)
    if put_back == "journal":  # a first journal, to put back after the next save
        delta.write_text(delta.read_text() + "\nA first paragraph.\n")
        build(site, options)
    state = (cache / "state.pickle").read_bytes()
    first = tables()
    assert {name.split("-")[0] for name in first} == {"records", "groups"}
    delta.write_text(delta.read_text() + "\nA new paragraph.\n")
    assert 0 < build(site, options).rendered < 10
    now = tables()
    rewritten = [name for name, data in now.items() if first.get(name) != data]
    if put_back == "shard":
        assert 0 < len(rewritten) < len(first)  # a few shards, not all of them
    else:  # the journals alone
        assert sorted(rewritten) == ["groups-journal.pickle", "records-journal.pickle"]
    if put_back == "state":
        (cache / "state.pickle").write_bytes(state)  # the new files under the state before them
    else:
        (cache / rewritten[0]).write_bytes(first[rewritten[0]])
    delta.write_text(delta.read_text() + "\nAnother paragraph.\n")
    parsed: list[object] = []
    validate = sources._validate
    monkeypatch.setattr(
        sources,
        "_validate",
        lambda source, context: parsed.append(source) or validate(source, context),
    )
    third = build(site, options)
    if put_back == "state":  # delta's page and the feeds that carry it, twice edited
        assert 0 < third.rendered < 10
    else:
        assert third.rendered == third.files  # everything rendered again: no record trusted
    assert len(parsed) == 1  # only the edited file parsed again
    monkeypatch.undo()
    clean = build(
        site, Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False)
    )
    assert tree(tmp_path / "out") == tree(tmp_path / "clean") and clean.files == third.files


def test_records_go_into_a_journal_until_it_holds_a_share_of_them(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small changes go into the journal, not the shards; once the journal holds more than
    JOURNAL_SHARE of a table, the shards that differ are written again and it is named no
    more. Each build trusts what the last one saved: it renders only what its edit changed."""
    from datetime import UTC, datetime

    from amwgen import incremental
    from amwgen.build import build
    from amwgen.incremental import JOURNAL, OTHER_CACHE, cache_folder, load_state

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    folder = cache_folder(site, OTHER_CACHE)
    build(site, options)
    monkeypatch.setattr(incremental, "JOURNAL_SHARE", 12 / len(load_state(folder).records))

    def shards() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in folder.glob("records-[0-9][0-9].pickle")}

    before = shards()
    sizes = []
    shown = [
        site / "content" / "2026" / f"{name}.md" for name in ("alpha", "beta", "delta", "gamma")
    ]
    for path in shown * 2:  # another article each time: the journal grows
        path.write_text(path.read_text() + "\nOne more paragraph.\n")
        made = build(site, options)
        assert 0 < made.rendered < 12
        state = load_state(folder)
        assert len(state.records) == made.files
        if JOURNAL in state.marks["records"]:
            changed, gone = state.journals["records"]
            sizes.append(len(changed) + len(gone))
            assert shards() == before  # the shards untouched
        else:
            sizes.append(0)
            before = shards()
    assert 0 in sizes and max(sizes) > 0 and sizes != sorted(sizes), sizes  # grew, folded in
    clean = build(
        site, Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False)
    )
    assert tree(tmp_path / "out") == tree(tmp_path / "clean") and clean.files == made.files


def test_a_page_gone_and_back_and_a_build_that_changes_no_record_keep_the_journal_true(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While journaled: a page that goes is gone from the records read back (else the next
    build would find the output not as recorded), one that comes back is there again, and a
    build that changes no record (a static file) keeps the journal as it is."""
    from datetime import UTC, datetime

    from amwgen import incremental
    from amwgen.build import build
    from amwgen.incremental import (
        JOURNAL,
        OTHER_CACHE,
        cache_folder,
        load_state,
        records_intact,
    )

    monkeypatch.setattr(incremental, "JOURNAL_SHARE", 0.9)
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    folder = cache_folder(site, OTHER_CACHE)
    build(site, options)
    articles = site / "content" / "2026"
    delta = (articles / "delta.md").read_text()

    def step(change: Callable[[], object]) -> incremental.State:
        change()
        made = build(site, options)
        state = load_state(folder)
        assert JOURNAL in state.marks["records"]
        assert len(state.records) == made.files and records_intact(tmp_path / "out", state.records)
        return state

    state = step(lambda: (articles / "delta.md").write_text(delta + "\nMore.\n"))
    assert "news/delta/index.html" in state.journals["records"][0]
    state = step((articles / "delta.md").unlink)  # journaled, then gone
    assert "news/delta/index.html" in state.journals["records"][1]
    state = step(lambda: (articles / "delta.md").write_text(delta))
    assert "news/delta/index.html" in state.journals["records"][0]
    mark = state.marks["records"][JOURNAL]
    state = step(lambda: (site / "static" / "hello.txt").write_text("hello again\n"))
    assert state.marks["records"][JOURNAL] == mark  # no record changed: the journal stands
    (articles / "beta.md").write_text((articles / "beta.md").read_text() + "\nMore.\n")
    assert 0 < build(site, options).rendered < 12  # the records read back are trusted
    clean = build(
        site, Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False)
    )
    assert tree(tmp_path / "out") == tree(tmp_path / "clean") and clean.files == len(
        load_state(folder).records
    )


def test_a_journal_holds_up_to_its_share_of_a_table_and_is_folded_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from amwgen import incremental
    from amwgen.incremental import JOURNAL, Record, State, load_state, save_state

    monkeypatch.setattr(incremental, "JOURNAL_SHARE", 0.25)

    def record(n: int) -> Record:
        return Record(f"in{n}", f"out{n}", n, n, n)

    save_state(tmp_path, State(records={f"f{i}": record(i) for i in range(100)}))
    state = load_state(tmp_path)
    records = dict(state.records) | {f"f{i}": record(1000 + i) for i in range(23)}
    records["g0"] = record(3000)
    del records["f99"]  # 23 changed, one new and one gone: a quarter of the 100, just
    save_state(tmp_path, replace(state, records=records), state)
    state = load_state(tmp_path)
    assert JOURNAL in state.marks["records"] and state.records == records
    records = dict(state.records) | {"f50": record(2000)}  # one more: past a quarter
    save_state(tmp_path, replace(state, records=records), state)
    state = load_state(tmp_path)
    assert JOURNAL not in state.marks["records"] and state.records == records


def test_the_sitemaps_digest_changes_with_any_row_and_only_then() -> None:
    """The sitemap's rows are digested field by field (fingerprint._sitemap_parts), not by
    repr: any change a layout could show changes the digest: a path, a date, its fold,
    its zone's name at the same offset; equal rows made of other objects do not."""
    from datetime import datetime, timedelta, timezone

    from amwgen.feeds import SitemapData
    from amwgen.fingerprint import Fingerprints

    kst = timezone(timedelta(hours=9), "KST")
    day = datetime(2026, 11, 1, 1, 30, tzinfo=kst)
    rows = (("/news/a/", day), ("/news/b/", day + timedelta(hours=1)))

    def digest(urls: tuple[tuple[str, datetime], ...]) -> bytes:
        return Fingerprints().of(SitemapData(urls))

    first = digest(rows)
    same = pickle.loads(pickle.dumps(rows))  # equal rows, other objects
    assert same[0][1].tzinfo is not kst and digest(same) == first
    changed = [
        (("/news/c/", day), rows[1]),
        (rows[0], ("/news/b/", day + timedelta(hours=2))),
        (rows[0], ("/news/b/", (day + timedelta(hours=1)).replace(fold=1))),
        (
            rows[0],
            (
                "/news/b/",
                (day + timedelta(hours=1)).replace(tzinfo=timezone(timedelta(hours=9), "JST")),
            ),
        ),
        (rows[0], ("/news/b/", (day + timedelta(hours=1)).replace(tzinfo=None))),
        (rows[0],),
    ]
    digests = [digest(tuple(urls)) for urls in changed]
    assert first not in digests and len(set(digests)) == len(digests)
    assert digest(((rows[0][0], day.date()),)) != digest(((rows[0][0], day),))  # type: ignore[arg-type]


def test_a_clone_lists_what_it_copied(tmp_path: Path) -> None:
    """clone_tree copies the folders below a tree in threads: its listing is the copy's, with
    the empty folders, and every file in it is the source's own (the same inode)."""
    from amwgen.write import files_below

    source = tmp_path / "source"
    for rel in (
        "index.html",
        "robots.txt",
        "news/a/index.html",
        "news/b/index.html",
        "tags/x/index.html",
        "tags/x/feed.xml",
    ):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(rel)
    (source / "empty").mkdir()
    (source / "news" / "empty").mkdir()
    (source / "tags" / "link.html").symlink_to("x/index.html")
    (source / "latest.html").symlink_to("index.html")  # links at the top, to a file and a folder
    (source / "current").symlink_to("news")
    found, empty = clone_tree(source, tmp_path / "copy")
    copied, hollow = files_below(tmp_path / "copy")
    assert found == copied and sorted(empty) == sorted(hollow) == ["empty", "news/empty"]
    listed, _ = files_below(source)
    assert found.keys() == listed.keys()
    links = {"tags/link.html", "latest.html", "current"}  # copied as links: inodes of their own
    assert all(found[name][0] == listed[name][0] for name in found.keys() - links)
    assert (tmp_path / "copy" / "current").is_symlink()
    assert (tmp_path / "copy" / "tags" / "link.html").read_text() == "tags/x/index.html"


@pytest.mark.parametrize("kind", ["clone", "trash"])
def test_a_clone_left_by_a_killed_build_is_removed(
    run, site: Path, tmp_path: Path, kind: str
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    stale = tmp_path / f".out.{kind}-999999999"
    (stale / "news").mkdir(parents=True)
    (stale / "news" / "index.html").write_text("left behind")
    edit_body(site, random.Random(4))
    assert run("build", site, "-o", out).code == 0
    assert not stale.exists()  # moved away at once, removed in the background (write.discard)
    trash_gone(out)  # under its .gone- name too


def trash_gone(out: Path) -> None:
    """Wait for the trash folders beside out to be removed (write.discard, in the background),
    whose links to the files the builds replaced count in those files' link counts; also
    under the name remove_stale gives one a next build found still there (.gone-)."""

    def left() -> list[Path]:
        return [p for kind in ("trash", "gone") for p in out.parent.glob(f".{out.name}.{kind}-*")]

    deadline = time.monotonic() + 30
    while left() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left()


def test_a_file_once_written_is_never_changed_so_a_reader_of_an_old_page_keeps_its_bytes(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A page's file is never written over, even when two builds later only the spare still
    holds it: a reader that opened it (a slow download, a web server's open-file cache, an
    upload running while builds follow each other) keeps the bytes it opened. (Writing over
    the spare's own copies was tried and not kept, docs/performance-history.md.)"""
    out, spare = tmp_path / "out", tmp_path / ".out.spare"
    alpha = site / "content" / "2026" / "alpha.md"
    beta = site / "content" / "2026" / "beta.md"
    page, other = "news/alpha/index.html", "news/beta/index.html"
    assert run("build", site, "-o", out).code == 0
    alpha.write_text(alpha.read_text() + "\nA first added line.\n")
    assert run("build", site, "-o", out).code == 0
    trash_gone(out)  # its links to the pages the build replaced
    # alpha's page changed: the spare's copy is its own. beta's did not: the two share it.
    assert (spare / page).stat().st_nlink == 1
    assert (out / other).stat().st_nlink == 2
    with (
        (out / page).open("rb") as live,
        (spare / page).open("rb") as own,
        (out / other).open("rb") as shared,
    ):
        opened = [f.read() for f in (live, own, shared)]
        for text in ("A second added line.", "A third added line."):
            alpha.write_text(alpha.read_text() + f"\n{text}\n")
            beta.write_text(beta.read_text() + f"\n{text}\n")
            result = run("build", site, "-o", out, "--verify")
            assert result.code == 0, result.err
        trash_gone(out)
        for f, before in zip((live, own, shared), opened, strict=True):
            f.seek(0)
            assert f.read() == before
            assert os.fstat(f.fileno()).st_nlink == 0  # replaced by a new file
    assert b"A third added line." in (out / page).read_bytes()
    assert b"A third added line." in (out / other).read_bytes()


@pytest.mark.parametrize("trash", [False, True], ids=["unlinked", "trash"])
@pytest.mark.parametrize("listed", [False, True], ids=["unlisted", "listed"])
def test_a_file_of_the_spare_is_replaced_by_a_new_file_whatever_it_is(
    tmp_path: Path, listed: bool, trash: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write_file over what a tree started from the spare may hold at a page's path: never
    through it, and never waiting on it; whether or not the tree's listing had a file
    there (listed: then it is taken out first, with no look at what it is); whether it is
    unlinked alone or linked into the build's trash folder first (write.take_out), which
    then holds every file and link replaced, and no folder."""
    from amwgen import write

    bin_ = tmp_path / "trash"
    if trash:
        bin_.mkdir()
        monkeypatch.setattr(write, "_TRASH", [str(bin_)])
    root, live = tmp_path / "tree", tmp_path / "live.html"
    live.write_bytes(b"the live page")
    names = ("own", "shared", "mode", "symlink", "fifo", "folder")
    for name in names:
        (root / name).mkdir(parents=True)
    (root / "own" / "index.html").write_bytes(b"x" * 100)
    os.link(live, root / "shared" / "index.html")
    (root / "mode" / "index.html").write_bytes(b"old")
    (root / "mode" / "index.html").chmod(0o600)
    (root / "symlink" / "index.html").symlink_to(live)
    os.mkfifo(root / "fifo" / "index.html")
    (root / "folder" / "index.html").mkdir()
    (root / "folder" / "index.html" / "stray").write_text("x")
    with (root / "own" / "index.html").open("rb") as held:
        done = threading.Event()

        def write_all() -> None:  # a FIFO opened for writing would wait for a reader
            for name in names:
                write_file(root, f"{name}/index.html", b"new", listed)
            done.set()

        threading.Thread(target=write_all, daemon=True).start()
        assert done.wait(10)
        assert held.read() == b"x" * 100
        if trash:  # the spare's own file, the live page's link, the link and the FIFO
            moved = sorted(os.lstat(p).st_mode & 0o170000 for p in bin_.iterdir())
            assert moved == sorted([stat.S_IFREG] * 3 + [stat.S_IFLNK, stat.S_IFIFO])
            shutil.rmtree(bin_)
        assert os.fstat(held.fileno()).st_nlink == 0
    assert live.read_bytes() == b"the live page"
    assert os.stat(live).st_nlink == 1
    umask = os.umask(0)
    os.umask(umask)
    for name in names:
        path = root / name / "index.html"
        assert not path.is_symlink() and path.read_bytes() == b"new", name
        assert path.stat().st_nlink == 1 and stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_folder_made_where_a_file_is_taken_out_stays_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """take_out with a trash folder: another worker may turn the path into a folder of its
    pages between the file's link into the trash and its unlink (write.make_parent, a page
    below a path the spare had as a file). The folder stays, with its page, and the
    error is os.unlink's; a folder is never taken out."""
    from amwgen import write

    bin_, path = tmp_path / "trash", tmp_path / "tree" / "a"
    bin_.mkdir()
    path.parent.mkdir()
    path.write_text("the spare's file")
    monkeypatch.setattr(write, "_TRASH", [str(bin_)])
    link = os.link

    def meanwhile(source: str, dest: str, **kwargs: bool) -> None:
        link(source, dest, **kwargs)
        os.unlink(source)  # the other worker's take_out, then its folder and page
        os.mkdir(source)
        Path(source, "index.html").write_text("its page")

    monkeypatch.setattr(write.os, "link", meanwhile)
    with pytest.raises(IsADirectoryError):
        write.take_out(str(path))
    assert (path / "index.html").read_text() == "its page"
    monkeypatch.setattr(write.os, "link", link)
    with pytest.raises(IsADirectoryError):
        write.take_out(str(path))
    assert (path / "index.html").read_text() == "its page"
    assert [p.read_text() for p in bin_.iterdir()] == ["the spare's file"]


def test_a_static_file_left_as_it_was_is_linked_not_copied_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live output's copy of a static file is linked into the next tree while its source
    is the file it was copied from (same device, inode, size, mtime, ctime and mode): a large
    static folder is not copied by every build. A source touched (its bytes the same) keeps
    its copy too, after one reading of both; the copy is never the source itself. Any change
    of bytes or mode is copied, also one that keeps the size and mtime (a tool that keeps the
    mtime; fixed mtimes as npm gives them, over two builds, meeting the spare's older copy: a
    red team); one removed goes; the output is a clean build's."""
    from datetime import UTC, datetime

    from amwgen import write
    from amwgen.build import build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out", jobs=2)
    media = site / "static" / "media"
    media.mkdir(parents=True)
    chart, other = media / "chart.bin", media / "other.bin"
    chart.write_bytes(os.urandom(4096))
    other.write_bytes(b"another file")
    copy = tmp_path / "out" / "media" / "chart.bin"

    def edit(n: int) -> None:
        story = _articles(site)[n % 3]
        story.write_text(story.read_text() + f"\nA line more, {n}.\n")
        assert build(site, options).rendered > 0

    def equals_a_clean_build() -> bool:
        clean = Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False)
        build(site, clean)
        return tree(tmp_path / "out") == tree(tmp_path / "clean")

    def rewrite(path: Path, data: bytes) -> None:  # its size and mtime kept
        before = path.stat()
        path.write_bytes(data)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    build(site, options)
    first = copy.stat().st_ino
    for n in range(3):  # from a clone of the output, then from the spare
        edit(n)
        assert copy.stat().st_ino == first
    assert equals_a_clean_build()
    os.utime(chart)  # touched: another mtime, the same bytes: the copy stays, with its mtime
    edit(3)
    assert copy.stat().st_ino == first
    compared: list[str] = []  # and the next build links it as recorded, unread
    same_bytes = write._same_bytes
    monkeypatch.setattr(write, "_same_bytes", lambda *a: compared.append(a[0]) or same_bytes(*a))
    edit(3)
    assert copy.stat().st_ino == first and compared == []
    monkeypatch.undo()
    chart.unlink()  # the live copy linked as the source itself (`cp -al`): never taken
    os.link(copy, chart)
    edit(3)
    assert copy.stat().st_ino != chart.stat().st_ino and copy.read_bytes() == chart.read_bytes()
    rewrite(chart, os.urandom(4096))
    edit(3)
    assert copy.read_bytes() == chart.read_bytes()
    fixed = chart.read_bytes()
    for version in (b"v1.2.10" + fixed[7:] + b"x", b"v1.2.4" + fixed[6:]):
        replacement = media / "next.bin"  # a new file, renamed over it, with the fixed mtime
        replacement.write_bytes(version)
        os.utime(replacement, ns=(10**18, 10**18))
        replacement.replace(chart)
        edit(4)
        assert copy.read_bytes() == version
    chart.chmod(0o600)
    edit(5)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    copy.chmod(0o644)  # a deploy step's, in the output (a review): copied anew
    edit(5)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    other.unlink()
    edit(6)
    assert not (tmp_path / "out" / "media" / "other.bin").exists()
    assert equals_a_clean_build()


def test_a_static_copy_is_compared_only_as_the_very_file_found(tmp_path: Path) -> None:
    """write._same_bytes, which lets a build keep a live static copy that holds its source's
    bytes, reads the copy only as the regular file that was found (device, inode, size and
    mtime): another one put in its place, one written to since, or a pipe (never waited
    on) is not taken."""
    from amwgen.write import _same_bytes

    source, copy, other = tmp_path / "source.bin", tmp_path / "copy.bin", tmp_path / "other"
    for path in (source, copy, other):
        path.write_bytes(b"the same bytes")
    found = os.lstat(copy)
    assert _same_bytes(str(source), str(copy), found)
    os.utime(copy, ns=(found.st_atime_ns, found.st_mtime_ns + 10**9))  # written to since
    assert not _same_bytes(str(source), str(copy), found)
    os.replace(other, copy)  # another file, with the same bytes
    assert not _same_bytes(str(source), str(copy), found)
    copy.unlink()
    os.mkfifo(copy)
    assert not _same_bytes(str(source), str(copy), os.lstat(copy))


def test_a_file_put_into_the_output_does_not_survive_through_the_spare(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A deploy step writes into the output; two builds later that tree is the spare the
    build starts from, and the file must still go, as a clean build would not make it."""
    out = tmp_path / "out"
    rng = random.Random(11)
    assert run("build", site, "-o", out).code == 0
    edit_body(site, rng)
    assert run("build", site, "-o", out).code == 0
    (out / "CNAME").write_text("news.example.org\n")
    (out / "news" / "stray").mkdir()
    (out / "news" / "stray" / "index.html").write_text("not a page")
    for _ in range(2):
        edit_body(site, rng)
        assert run("build", site, "-o", out).code == 0
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []
    assert not (out / "news" / "stray").exists()


@pytest.mark.parametrize(
    ("linked", "moved", "jobs"),
    [
        ("news", False, "1"),
        ("news", True, "2"),
        ("news/alpha", True, "1"),
        ("news/beta/index.html", True, "2"),
        ("assets", False, "1"),
        ("assets", True, "2"),
    ],
)
def test_a_part_of_the_output_replaced_by_a_link_leads_no_page_out_of_the_output(
    run, site: Path, tmp_path: Path, linked: str, moved: bool, jobs: str
) -> None:  # type: ignore[no-untyped-def]
    """A deploy step replaces a folder or a page of the output with a link to a copy of it
    elsewhere, or moves it there and leaves a link. The next builds start from a clone of
    that output, then from it as the spare: no page is written through the link, the link
    does not stay, and nothing outside changes (review of the tenth session)."""
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    alpha = site / "content" / "2026" / "alpha.md"
    assert run("build", site, "-o", out, "-j", jobs).code == 0
    if moved:
        shutil.move(out / linked, elsewhere)
    elif (out / linked).is_dir():
        shutil.copytree(out / linked, elsewhere)
        shutil.rmtree(out / linked)
    (out / linked).symlink_to(elsewhere)

    def outside() -> dict[Path, tuple[int, bytes]]:
        files = (
            [elsewhere] if elsewhere.is_file() else [p for p in elsewhere.rglob("*") if p.is_file()]
        )
        return {p: (p.stat().st_ino, p.read_bytes()) for p in files}

    before = outside()
    for i in range(3):
        alpha.write_text(alpha.read_text() + f"\nEdit {i}.\n")
        result = run("build", site, "-o", out, "-j", jobs, "--verify")
        assert result.code == 0, result.err
        assert [p for p in out.rglob("*") if p.is_symlink()] == []
        assert outside() == before
        # Nor is a file outside linked in (a static file's copy, moved out, is copied anew).
        inodes = {p.stat().st_ino for p in out.rglob("*") if p.is_file()}
        assert inodes.isdisjoint(inode for inode, _ in before.values())


def test_a_file_of_the_spare_where_a_folder_of_pages_now_goes(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The spare, listed before the pages are written, holds a file where this build makes
    a folder of pages: the stale listing must not trip the removal of files no page wrote."""
    out = tmp_path / "out"
    (site / "static").mkdir(exist_ok=True)
    (site / "static" / "background").write_text("a file, later a page's folder\n")
    assert run("build", site, "-o", out).code == 0
    (site / "static" / "background").unlink()
    assert run("build", site, "-o", out).code == 0  # the tree with the file is now the spare
    (site / "content" / "pages" / "background.md").write_text(
        "---\ntitle: Background\n---\nWho we are.\n"
    )
    result = run("build", site, "-o", out, "--verify")
    assert result.code == 0, result.err
    assert (out / "background" / "index.html").is_file()


def test_a_linked_folder_in_static_is_followed_both_ways(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Files of a linked static folder are copied and listed; one deleted there is gone."""
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "a.js").write_text("a")
    (vendor / "b.js").write_text("b")
    (site / "static").mkdir(exist_ok=True)
    (site / "static" / "lib").symlink_to(vendor, target_is_directory=True)
    out = tmp_path / "out"
    rng = random.Random(12)
    for _ in range(2):
        edit_body(site, rng)
        assert run("build", site, "-o", out).code == 0
    assert (out / "lib" / "a.js").read_text() == "a"
    (vendor / "a.js").unlink()
    for _ in range(2):
        edit_body(site, rng)
        assert run("build", site, "-o", out).code == 0
    assert not (out / "lib" / "a.js").exists() and (out / "lib" / "b.js").exists()


def test_a_static_folder_linked_under_a_second_name_is_copied_under_both(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    static = site / "static"
    (static / "img").mkdir(parents=True)
    (static / "img" / "logo.svg").write_text("<svg/>")
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    (static / "images").symlink_to("img", target_is_directory=True)
    rng = random.Random(14)
    for _ in range(3):
        edit_body(site, rng)
        assert run("build", site, "-o", out).code == 0
        assert (out / "img" / "logo.svg").exists() and (out / "images" / "logo.svg").exists()
    (static / "images").unlink()
    (out / ".well-known").mkdir()  # an empty folder a deploy step made
    for _ in range(3):
        edit_body(site, rng)
        assert run("build", site, "-o", out).code == 0
    assert not (out / "images").exists() and not (out / ".well-known").exists()


def test_a_template_edit_in_a_linked_layouts_folder_reaches_every_page(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "foot.html").write_text("<p>foot one</p>\n")
    layouts = site / "layouts"
    layouts.mkdir(exist_ok=True)
    (layouts / "partials").symlink_to(shared, target_is_directory=True)
    theme = (
        Path(__file__).resolve().parent.parent / "amwgen" / "templates" / "base.html"
    ).read_text()
    (layouts / "base.html").write_text(
        theme.replace("</body>", '{% include "partials/foot.html" %}</body>')
    )
    out = tmp_path / "out"
    rng = random.Random(13)
    assert run("build", site, "-o", out).code == 0
    (shared / "foot.html").write_text("<p>foot two</p>\n")
    edit_body(site, rng)
    assert run("build", site, "-o", out).code == 0
    assert "foot two" in (out / "about" / "index.html").read_text()
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_the_files_a_build_replaces_go_to_a_trash_folder_removed_after_the_swap(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build whose tree starts from the spare links the files it replaces into a trash
    folder beside the output before unlinking them, so that their blocks are freed once the
    new output is in place (the folder removed with the replaced trees: write.discard), not
    as it goes: the last link of a file takes the disk long to free, and a template edit
    replaces every article's page. The forked workers that make the groups link theirs
    there too; the output is a clean build's."""
    from datetime import UTC, datetime

    from amwgen import workers, write
    from amwgen.build import build

    discarded: list[Path] = []
    monkeypatch.setattr(write, "discard", discarded.append)  # kept, to look into
    monkeypatch.setattr(workers, "DIGEST_FIRST", 0)  # every group made by a forked worker
    out = tmp_path / "out"
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=out, jobs=2)
    rng = random.Random(5)
    for _ in range(3):  # cold; from a clone of the output; from the spare
        edit_body(site, rng)
        assert build(site, options).ok
    spare = tmp_path / ".out.spare"
    pages = {p.relative_to(spare): p.stat().st_ino for p in (spare / "news").rglob("*.html")}
    assert len(pages) >= 4
    (layouts := site / "layouts").mkdir(exist_ok=True)
    theme = Path(__file__).resolve().parent.parent / "amwgen" / "templates" / "article.html"
    (layouts / "article.html").write_text(theme.read_text().replace("</article>", "<hr></article>"))
    result = build(site, options)
    assert result.ok and result.rendered >= len(pages)
    trash = discarded[-1]  # this build's, after the trees remove_stale found
    assert trash.name.startswith(".out.trash-") and trash.name.endswith(f"-{os.getpid()}")
    held = {p.stat().st_ino for p in trash.iterdir()}
    assert set(pages.values()) <= held  # every article page of the spare, none unlinked
    assert all(p.is_file() for p in trash.iterdir())  # files only, no folder
    assert {p.name.split("-")[0] for p in trash.iterdir()} - {str(os.getpid())}  # workers' too
    for rel in pages:
        assert "<hr></article>" in (out / rel).read_text()
    clean = replace(options, output=tmp_path / "clean", clean=True, save_cache=False)
    assert build(site, clean).ok
    assert differing_files(out, tmp_path / "clean") == []


def test_no_change_rebuild_renders_nothing_and_keeps_mtimes(site: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    first = build(site, options)
    assert first.rendered == first.files > 40
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.html")}
    second = build(site, options)
    assert second.rendered == 0 and second.files == first.files
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.html")} == mtimes


@pytest.mark.parametrize("touched", [False, True])
def test_a_file_put_into_the_output_folder_goes_at_the_next_build(
    site: Path, tmp_path: Path, touched: bool
) -> None:
    """A red team: a file a person or a deploy step put into the output (a CNAME) stayed
    through builds that found nothing changed, and went at the next one that did. Both
    shortcuts (by the stamp; by the input key, after a source was touched) now see the
    output folder's mtime change, and the build removes it, as a clean build has none."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    out = tmp_path / "out"
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=out)
    assert build(site, options).ok and build(site, options).rendered == 0
    (out / "CNAME").write_text("example.org\n")
    if touched:  # the stamp changes, the input key does not
        source = next((site / "content").rglob("*.md"))
        os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    assert build(site, options).rendered == 0
    assert not (out / "CNAME").exists()
    clean = tmp_path / "clean"
    build(site, Options(now=options.now, output=clean, clean=True, save_cache=False))
    assert tree(out) == tree(clean)


@pytest.mark.parametrize("touched", [False, True])
def test_a_page_edited_with_its_mtime_set_back_is_made_again(
    site: Path, tmp_path: Path, touched: bool
) -> None:
    """A red team: a page edited to the same size and given its old mtime back (`sed -i`,
    then `touch -r`) passed both shortcuts, which looked at size and mtime; it is another
    file (inode), and the build puts the page back."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    out = tmp_path / "out"
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=out)
    assert build(site, options).ok and build(site, options).rendered == 0
    page = out / "tags" / "index.html"
    before = page.stat()
    edited = page.with_name("edited.tmp")
    edited.write_bytes(page.read_bytes().replace(b"<h1>", b"<h2>", 1))
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(edited, page)
    assert page.stat().st_size == before.st_size and page.stat().st_mtime_ns == before.st_mtime_ns
    if touched:
        source = next((site / "content").rglob("*.md"))
        os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    build(site, options)
    clean = tmp_path / "clean"
    build(site, Options(now=options.now, output=clean, clean=True, save_cache=False))
    assert tree(out) == tree(clean)


@pytest.mark.parametrize("parallel", [False, True])
def test_an_output_restored_with_its_cache_is_the_last_output_where_its_files_are(
    run, site: Path, tmp_path: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """docs/deploy.md: a CI run restores the cache and the output with a cache step, and
    every file of the output is a new one (inode). A restored page whose bytes are the
    recorded ones is the last build's: not rendered, not written again (its mtime stays).
    One edited in the restored output, put there as a link or reached through a linked
    folder is made again (never a link to a file out of the output); the output equals a
    clean build."""
    from datetime import UTC, datetime

    from amwgen.build import build

    if parallel:  # the files checked by forked workers, as at thousands of pages
        from amwgen import incremental

        monkeypatch.setattr(incremental, "ADOPT_PARALLEL", 1)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    assert build(site, Options(now=now)).ok
    ci = tmp_path / "ci"
    shutil.copytree(site, ci, ignore=shutil.ignore_patterns(".public.*"))  # no spare
    out = ci / "public"
    then = 1_000_000_000 * 10**9  # 2001: what the restored files' mtimes are set to
    files = [p for p in out.rglob("*") if p.is_file() and "pagefind" not in p.parts]
    for path in files:
        os.utime(path, ns=(then, then))
    edited = out / "tags" / "index.html"  # the same size, another byte
    edited.write_bytes(edited.read_bytes().replace(b"<h1>", b"<h2>", 1))
    os.utime(edited, ns=(then, then))
    linked = out / "regions" / "kr" / "index.html"
    (tmp_path / "elsewhere.html").write_bytes(linked.read_bytes())
    linked.unlink()
    linked.symlink_to(tmp_path / "elsewhere.html")
    folder = out / "regions" / "tw"  # a folder moved out of the output and linked back
    shutil.move(folder, tmp_path / "tw")
    folder.symlink_to(tmp_path / "tw")
    outside = (tmp_path / "tw" / "index.html").stat().st_ino
    delta = ci / "content" / "2026" / "delta.md"
    delta.write_text(delta.read_text() + "\nA new paragraph.\n")
    result = build(ci, Options(now=now, jobs=2))
    assert result.ok
    # delta's page and the feeds that carry it, and the three pages not taken.
    assert 3 < result.rendered < 15 < result.files
    rewritten = {p.relative_to(out).as_posix() for p in files if p.stat().st_mtime_ns != then}
    assert {"news/delta/index.html", "tags/index.html"} <= rewritten
    assert not linked.is_symlink() and not folder.is_symlink()
    assert (folder / "index.html").stat().st_ino != outside
    assert "about/index.html" not in rewritten and "players/index.html" not in rewritten
    # Static files: the restored copies are new files (and the site's sources too, copied
    # as a fresh checkout gives them), but hold the sources' bytes: they stay.
    assert "assets/amwgen.css" not in rewritten and "assets/favicon.svg" not in rewritten
    assert "hello.txt" not in rewritten
    assert len(rewritten) < len(files) / 4, sorted(rewritten)
    clean = tmp_path / "clean"
    build(ci, Options(now=now, output=clean, clean=True, save_cache=False))
    assert tree(out) == tree(clean)
    assert run("build", ci, "--verify").code == 0  # and from the command line, as it stands


def test_a_build_from_another_folder_reports_paths_from_there(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A red team: `amwgen build site` from above, then `amwgen build . --verify` inside it,
    repeated the first report (`-> site/public`, warnings at `site/content/...`), and
    --verify then compared with a folder that is not there. The shortcut still holds (a
    review: not taking it rendered every page again), and says its report in the spelling
    of this build."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    site = write_site(
        tmp_path / "site",
        {
            "content/2026/11/a.md": article("A", "2026-11-20", "See [the draft](b.md)."),
            "content/2026/11/b.md": article("B", "2026-11-21", draft="true"),
        },
    )
    monkeypatch.chdir(tmp_path)
    first = run("build", "site")
    assert first.code == 0 and "-> site/public" in first.out
    assert "site/content/2026/11/a.md:" in first.err
    monkeypatch.chdir(site)
    second = run("build", ".", "--verify")
    assert second.code == 0, second.err
    assert "-> public" in second.out and "site/public" not in second.out
    assert "\ncontent/2026/11/a.md:" in "\n" + second.err and "site/content" not in second.err
    third = build(site.absolute(), Options(now=datetime(2026, 11, 26, tzinfo=UTC)))
    assert third.rendered == 0 and third.output == site.absolute() / "public"
    assert [w.path for w in third.warnings] == [site.absolute() / "content/2026/11/a.md"]


def test_an_empty_folder_added_to_static_is_copied_by_the_next_build(
    site: Path, tmp_path: Path
) -> None:
    # The input key counted the files of static/ only: a folder added empty was in the
    # output only after a clean build (a second review).
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    now = datetime(2026, 11, 26, tzinfo=UTC)
    assert not build(site, Options(now=now)).problems
    (site / "static" / "empty").mkdir(parents=True)
    assert not build(site, Options(now=now)).problems
    assert (site / "public" / "empty").is_dir()
    clean = build(site, Options(now=now, output=tmp_path / "clean", clean=True, save_cache=False))
    assert not clean.problems and (tmp_path / "clean" / "empty").is_dir()


def test_a_build_into_another_folder_leaves_the_cache_of_the_output_alone(
    site: Path, tmp_path: Path
) -> None:
    # `build -o OTHER` (a preview, a check of a clean build) rewrote the cache to describe
    # OTHER, and the next ordinary build rendered every page again.
    from datetime import UTC, datetime

    from amwgen.build import Options, build
    from amwgen.incremental import CACHE_DIR, OTHER_CACHE

    now = datetime(2026, 11, 26, tzinfo=UTC)
    first = build(site, Options(now=now))
    assert first.rendered == first.files > 40
    for clean in (True, False):
        elsewhere = build(site, Options(now=now, output=tmp_path / "preview", clean=clean))
        assert elsewhere.files == first.files and not elsewhere.problems
    assert elsewhere.rendered == 0  # the second preview: its own cache
    assert (site / CACHE_DIR / OTHER_CACHE).is_dir()
    again = build(site, Options(now=now))
    assert again.rendered == 0 and again.files == first.files
    # The site's output named with -o is the site's output: its cache is the usual one.
    delta = site / "content" / "2026" / "delta.md"
    delta.write_text(delta.read_text() + "\nA new paragraph.\n")
    edited = build(site, Options(now=now, output=site / "public"))
    assert 0 < edited.rendered < first.files / 2


def test_one_article_edit_renders_only_what_shows_it(site: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    first = build(site, options)
    delta = site / "content" / "2026" / "delta.md"
    delta.write_text(delta.read_text() + "\nA new paragraph.\n")
    second = build(site, options)
    assert 0 < second.rendered < first.files / 2
    # Pages that do not show delta's body keep their file (same inode: hard-linked).
    assert (tmp_path / "out" / "about" / "index.html").stat().st_nlink >= 1


def test_a_body_edit_renders_only_the_article_and_the_feeds_that_carry_it(
    site: Path, tmp_path: Path
) -> None:
    """Lists, timelines and Related News show headlines: a body edit leaves them alone."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    build(site, options)
    out = tmp_path / "out"
    # Pagefind's index is written anew by every build (it is not a page).
    kept = {
        p: p.stat().st_mtime_ns
        for p in out.rglob("*.*")
        if p.is_file() and "pagefind" not in p.parts
    }
    delta = site / "content" / "2026" / "delta.md"
    delta.write_text(delta.read_text() + "\nA new paragraph.\n")
    second = build(site, options)
    changed = sorted(p.relative_to(out).as_posix() for p in kept if p.stat().st_mtime_ns != kept[p])
    assert "news/delta/index.html" in changed
    pages = changed
    assert [c for c in pages if not c.endswith((".xml", ".json"))] == ["news/delta/index.html"]
    assert second.rendered == len(pages)


def _groups_looked_at(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the groups whose arguments a build makes from now on (a group that keeps
    its outline key never makes them)."""
    from amwgen import render

    made: list[str] = []
    arguments = render.Group.arguments

    def counted(group: render.Group) -> tuple[object, ...]:
        made.append(group.name)
        return arguments(group)

    monkeypatch.setattr(render.Group, "arguments", counted)
    return made


def test_a_score_edit_looks_again_only_at_the_groups_that_see_the_article(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A headline edited: the groups on other terms keep their outline key, unexamined."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    build(site, options)
    made = _groups_looked_at(monkeypatch)
    delta = site / "content" / "2026" / "delta.md"  # Semiconductors, Delta Chips, NPU
    delta.write_text(delta.read_text().replace("novelty: 3", "novelty: 1"))
    second = build(site, options)
    assert second.rendered > 0
    # Its own page, the pages of its terms, and the articles that share one of them.
    assert {"/news/delta/", "/topics/semiconductors/", "/tags/npu/feed.xml", "/news/beta/"} <= set(
        made
    )
    # Terms it is not on, and articles that share none of its terms, are not looked at.
    assert not {
        "/topics/robotics/",
        "/topics/robotics/feed.xml",
        "/news/alpha/",
        "/news/gamma/",
    } & set(made)
    assert (tmp_path / "out" / "news" / "delta" / "index.html").read_text().count("Novelty") >= 1


def test_a_score_edit_leaves_the_record_of_a_group_whose_key_holds_as_it_was(
    site: Path, tmp_path: Path
) -> None:
    """A headline edited reaches every site-wide group (the whole index is what they see);
    one whose key holds keeps its record as it was, so the cache's shard holding it is not
    written again. (Only an article group keeps an outline key, which can change while the
    key holds.)"""
    from datetime import UTC, datetime

    from amwgen.build import Options, build
    from amwgen.incremental import CACHE_DIR, OTHER_CACHE, load_state

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    build(site, options)
    before = load_state(site / CACHE_DIR / OTHER_CACHE).groups
    delta = site / "content" / "2026" / "delta.md"
    delta.write_text(delta.read_text().replace("novelty: 3", "novelty: 1"))
    assert build(site, options).rendered > 0
    after = load_state(site / CACHE_DIR / OTHER_CACHE).groups
    kept = {
        name
        for name, record in after.items()
        if not name.startswith("/news/") and name in before and before[name].key == record.key
    }
    assert {"/topics/", "/players/", "/tags/"} <= kept  # site-wide, and no count changed
    assert {name: after[name] for name in kept} == {name: before[name] for name in kept}


def _twelve_stories(tmp_path: Path) -> tuple[Path, Options]:
    """A site of twelve stories on one topic and tag, one a day, built once."""
    from datetime import UTC, datetime

    from conftest import write_site

    from amwgen.build import Options, build

    files = {
        f"content/2026/s{day:02}.md": article(
            f"Story {day}", f"2026-11-{day:02}", topics="[Robotics]", tags="[robots]"
        )
        for day in range(1, 13)
    }
    site = write_site(tmp_path / "site", files)
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    build(site, options)
    return site, options


def test_a_score_edit_looks_again_only_at_the_article_pages_that_show_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article's page shows a few of the headlines on its terms (its timeline window and
    Related News): a headline edited leaves the pages that do not show it unexamined."""
    from amwgen.build import Options, build

    # Twelve stories on one topic: windows of five, and Related News the five newest others.
    site, options = _twelve_stories(tmp_path)
    made = _groups_looked_at(monkeypatch)
    oldest = site / "content" / "2026" / "s01.md"
    oldest.write_text(oldest.read_text().replace("novelty: 1", "novelty: 3"))
    assert build(site, options).rendered > 0
    # Its own page and the two whose windows reach back to it; not the nine that show it nowhere.
    news = {name.split("/")[2] for name in made if name.startswith("/news/")}
    assert news == {"s01", "s02", "s03"}
    monkeypatch.undo()
    build(site, Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False))
    assert tree(tmp_path / "out") == tree(tmp_path / "clean")


def test_an_article_added_below_a_terms_newest_looks_again_only_at_its_neighbours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Related News is chosen from each term's newest articles, and an article's timeline
    shows a window around it: an article added further back changes neither for the
    articles it is not beside, and their pages are not looked at again."""
    from amwgen import index
    from amwgen.build import Options, build

    # Posting lists of the four newest: the twelve stories' Related News is s09 to s12.
    monkeypatch.setattr(index, "RELATED_POSTINGS_LIMIT", 4)
    site, options = _twelve_stories(tmp_path)
    made = _groups_looked_at(monkeypatch)
    added = site / "content" / "2026" / "s03b.md"
    added.write_text(article("Story 3b", "2026-11-03", topics="[Robotics]", tags="[robots]"))
    assert build(site, options).rendered > 0
    # The new story, and those whose windows of five now hold it (s01 to s05: it is the
    # ninth of thirteen); none of the newer ones.
    news = {name.split("/")[2] for name in made if name.startswith("/news/")}
    assert "s03b" in news
    assert news <= {"s01", "s02", "s03", "s03b", "s04", "s05"}
    build(site, Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False))
    assert tree(tmp_path / "out") == tree(tmp_path / "clean")
    # The timeline shows the new story beside its neighbours, as a clean build does.
    assert "Story 3b" in (tmp_path / "out" / "news" / "s04" / "index.html").read_text()


def test_a_body_edit_hashes_only_the_groups_that_read_the_article(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning compares what each outline key is made from with the last build's: the
    groups that read, see, follow or show nothing that changed are not hashed at all."""
    from datetime import UTC, datetime

    from amwgen import build as build_module
    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    first = build(site, options)
    hashed: list[bytes] = []
    outline_key = build_module.outline_key

    def counted(base: bytes, *args: object) -> str:
        hashed.append(base)
        return outline_key(base, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "outline_key", counted)
    delta = site / "content" / "2026" / "delta.md"
    delta.write_text(delta.read_text() + "\nA new paragraph.\n")
    second = build(site, options)
    # Its page and the feeds that carry its body; of more than forty groups.
    assert 0 < len(hashed) <= 8 < first.files
    assert second.rendered > 0
    monkeypatch.undo()
    build(site, Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False))
    assert tree(tmp_path / "out") == tree(tmp_path / "clean")


@pytest.mark.usefixtures("render_place")
def test_where_pages_are_made_and_rendered_changes_no_byte(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """render_groups makes groups in workers, or here with only the pages to render sent to
    workers, or everything here: the output is a clean build's every time."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out", jobs=2)
    build(site, options)
    for edit, seed in ((edit_scores, 1), (add_article, 2), (change_template, 3)):
        edit(site, random.Random(seed))
        assert build(site, options).rendered > 0
    monkeypatch.undo()
    build(site, Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False))
    assert tree(tmp_path / "out") == tree(tmp_path / "clean")


@pytest.mark.parametrize("min_parallel", [1, 10**6], ids=["by-workers", "here"])
def test_what_the_sitemaps_layout_names_reaches_the_cache_wherever_it_is_rendered(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_parallel: int
) -> None:
    """The templates each layout names are kept in the cache by the digest of its source,
    so that the next build parses only the layouts that changed: the sitemap's too when it
    is rendered beside the pages that workers render (a review: a worker's findings do not
    reach the cache)."""
    from datetime import UTC, datetime

    from amwgen import workers
    from amwgen.build import build
    from amwgen.fingerprint import hash_bytes
    from amwgen.incremental import CACHE_DIR, OTHER_CACHE, load_state
    from amwgen.render import THEME_DIR

    monkeypatch.setattr(workers, "MIN_PARALLEL", min_parallel)
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out", jobs=2)
    build(site, options)
    source = (THEME_DIR / "templates" / "sitemap.xml").read_text() + "{# the site's own #}\n"
    (site / "layouts").mkdir(exist_ok=True)
    (site / "layouts" / "sitemap.xml").write_text(source)
    story = _articles(site)[0]  # a new headline: pages to render beside the sitemap
    story.write_text(story.read_text().replace("title: ", "title: Again ", 1))
    assert build(site, options).rendered > 1
    refs = load_state(site / CACHE_DIR / OTHER_CACHE).template_refs
    assert refs["sitemap.xml"][0] == hash_bytes(source.encode())


@pytest.mark.usefixtures("render_place")
def test_a_static_sitemap_has_the_sitemap_page_made_once_and_not_rendered(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """static/sitemap.xml replaces the page: it is planned once a build (a review: with
    none to make, the render asked for it a second time) and never rendered."""
    from datetime import UTC, datetime

    from amwgen import build as build_module
    from amwgen.build import build

    made: list[int] = []
    planned = build_module.sitemap_page

    def counted(*args: object) -> object:
        made.append(1)
        return planned(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "sitemap_page", counted)
    (site / "static").mkdir(exist_ok=True)
    (site / "static" / "sitemap.xml").write_text("<urlset>mine</urlset>\n")
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out", jobs=2)
    build(site, options)
    story = _articles(site)[0]
    story.write_text(story.read_text().replace("title: ", "title: Again ", 1))
    build(site, options)
    assert len(made) == 2
    assert (tmp_path / "out" / "sitemap.xml").read_text() == "<urlset>mine</urlset>\n"


def test_the_cards_text_reads_its_parts_as_one_without_joining_them() -> None:
    """The cards' text (render.Text) is the cache files' bytes end to end, never copied into
    one: a cut is the slice of the whole, wherever the parts meet."""
    from amwgen.render import joined

    whole = b"abcdefgh"
    text = joined([b"abc", b"", b"defg"]).plus(b"h")
    assert len(text) == len(whole) and len(joined(())) == 0 and joined(()).cut(0, 3) == b""
    for start in range(len(whole) + 1):
        for end in range(start, len(whole) + 2):
            assert text.cut(start, end) == whole[start:end], (start, end)


def test_cards_a_build_adds_are_saved_apart_and_the_others_not_written_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cards made ahead are kept in cache files that are written once: a build that
    adds a card writes a file with it alone; the store is written whole again only when
    its files grow many, or hold mostly cards no entry shows, or the templates change. A
    file gone from the cache or damaged costs only speed. Every output equals a clean
    build's."""
    from datetime import UTC, datetime

    from amwgen import workers
    from amwgen.build import Options, build
    from amwgen.incremental import CACHE_DIR, OTHER_CACHE, load_cards

    monkeypatch.setattr(workers, "MIN_PARALLEL", 1)  # cards made ahead at every build
    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out", jobs=2)
    cache = site / CACHE_DIR / OTHER_CACHE

    def files() -> dict[str, tuple[int, int]]:
        return {p.name: (p.stat().st_ino, p.stat().st_size) for p in cache.glob("cards-*.txt")}

    def retitle(step: int) -> None:  # a new headline: its card made anew
        path = _articles(site)[step % 3]
        path.write_text(path.read_text().replace("title: ", f"title: {step} ", 1))

    def equals_a_clean_build() -> bool:
        clean = Options(now=options.now, output=tmp_path / "clean", clean=True, save_cache=False)
        build(site, clean)
        return tree(tmp_path / "out") == tree(tmp_path / "clean")

    build(site, options)
    (first,) = files().items()
    for step in range(workers.CARDS_SEGMENTS - 1):
        retitle(step)
        build(site, options)
        assert equals_a_clean_build()
        now = files()
        assert now[first[0]] == first[1]  # the first file, as it was written
        assert len(now) == step + 2
        # Each later file holds the one card that build made (the site has four articles).
        assert all(size < first[1][1] / 2 for name, (_, size) in now.items() if name != first[0])
    store = load_cards(cache)
    assert store is not None and store.segments[0][0] == first[0]
    assert {segment[0] for segment in store.segments} == files().keys()
    retitle(99)
    build(site, options)
    assert len(files()) == 1 and first[0] not in files()  # written whole again: eight files
    assert equals_a_clean_build()

    # Written whole again when most of its text is cards no entry shows any more.
    monkeypatch.setattr(workers, "CARDS_SLACK", 1)
    monkeypatch.setattr(workers, "CARDS_SLACK_BYTES", 0)
    before = files()
    retitle(100)  # the retitled article's old card is no entry's any more
    build(site, options)
    assert len(files()) == 1 and not files().keys() & before.keys()
    assert equals_a_clean_build()

    # Other templates, other cards: none of the old ones is used.
    change_template(site, random.Random(3))
    (site / "layouts" / "card.html").write_text(
        (Path(workers.__file__).parent / "templates" / "card.html")
        .read_text()
        .replace("<article", "<article data-v=2", 1)
    )
    build(site, options)
    assert len(files()) == 1
    assert equals_a_clean_build()

    # A file missing, cut short or damaged (zeros of the same length: what a power cut may
    # leave of a file renamed into place) costs only speed.
    for damage in ("remove", "truncate", "zeros"):
        add_article(site, random.Random(len(damage)))
        build(site, options)
        path = cache / max(files(), key=lambda name: files()[name][1])
        if damage == "remove":
            path.unlink()
        elif damage == "truncate":
            path.write_bytes(path.read_bytes()[:-1])
        else:
            path.write_bytes(bytes(path.stat().st_size))
        assert load_cards(cache) is None
        retitle(len(damage))
        build(site, options)
        assert equals_a_clean_build(), damage

    # What a build killed while saving left goes, once it is an hour old; a file another
    # build may be writing stays.
    left, writing = cache / "cards-0123.txt.99999", cache / "cards-4567.txt.99998"
    left.write_bytes(b"x")
    writing.write_bytes(b"x")
    os.utime(left, (time.time() - 7200, time.time() - 7200))
    retitle(7)
    build(site, options)
    assert not left.exists() and writing.exists()


def test_only_a_build_the_process_ends_after_leaves_what_it_made_to_the_exit(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line (cli.run) exits right after a build: the build's cache, index and
    plan are left for the exit, not freed one by one. Builds in a process that goes on
    (serve, these tests, --verify's second build) free theirs as usual."""
    from amwgen import build as build_module
    from amwgen.cli import main

    left: list[object] = []
    monkeypatch.setattr(build_module, "_LEFT", left)
    out = str(tmp_path / "out")
    assert main(["build", str(site), "-o", out, "-q"]) == 0
    assert left == []
    edit_body(site, random.Random(8))
    assert main(["build", str(site), "-o", out, "-q", "--verify"], exiting=True) == 0
    assert left == []
    edit_body(site, random.Random(9))
    try:
        assert main(["build", str(site), "-o", out, "-q"], exiting=True) == 0
    finally:
        gc.unfreeze()  # the build froze what this process holds, as an exiting one does
    (made,) = left
    assert isinstance(made, dict) and {"state", "checked", "units"} <= made.keys()


def test_deleted_cache_means_a_full_render(site: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    first = build(site, options)
    shutil.rmtree(site / ".amwgen-cache")
    again = build(site, options)
    assert again.rendered == first.files
    assert tree(tmp_path / "out")


def test_a_tampered_output_file_is_rendered_again(site: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    build(site, options)
    page = tmp_path / "out" / "about" / "index.html"
    good = page.read_bytes()
    page.write_bytes(b"tampered")
    os.utime(page, ns=(0, 0))
    # The swap makes a new output folder; a changed file in it must not be reused as is.
    build(site, options)
    assert page.read_bytes() == good


def test_cache_folder_is_ignored_by_git(site: Path, run) -> None:  # type: ignore[no-untyped-def]
    assert run("build", site).code == 0
    assert (site / ".amwgen-cache" / ".gitignore").read_text() == "*\n"


def test_verify_flag_passes_on_a_sound_build(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    edit_body(site, random.Random(5))
    result = run("build", site, "-o", out, "--verify")
    assert result.code == 0, result.err
    assert "verify: identical to a clean build" in result.out
    assert not list(tmp_path.glob(".amwgen-verify-*"))


def test_verify_flag_catches_an_output_that_differs(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    # Forge a change the cache cannot see: same size, same mtime, other bytes.
    page = out / "about" / "index.html"
    stat = page.stat()
    data = page.read_bytes()
    page.write_bytes(data.replace(b"About", b"Abuot", 1))
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = run("build", site, "-o", out, "--verify")
    assert result.code == 1
    assert "verify: 1 file(s) differ from a clean build: about/index.html" in result.err


def test_unchanged_site_is_rebuilt_when_time_publishes_a_story(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    (site / "content" / "2026" / "soon.md").write_text(article("Soon", "2026-11-26T12:00:00"))
    assert run("build", site, "-o", out).code == 0  # "now": 2026-11-26 09:00 in Seoul
    assert not (out / "news" / "soon").exists()
    assert run("build", site, "-o", out).code == 0  # nothing changed: the shortcut
    assert not (out / "news" / "soon").exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1795651200 + 6 * 3600))  # 15:00 in Seoul
    assert run("build", site, "-o", out).code == 0
    assert (out / "news" / "soon" / "index.html").is_file()
    assert b"/news/soon/" in (out / "news-sitemap.xml").read_bytes()
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


@pytest.mark.parametrize(
    ("span", "page"), [(48 * 3600, "news-sitemap.xml"), (30 * 86400, "scores/index.html")]
)
def test_a_story_leaves_a_window_the_second_after_a_build_at_its_very_end(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, span: int, page: str
) -> None:  # type: ignore[no-untyped-def]
    """A story is in the news sitemap's (scores page's) window up to its end, and gone the
    second after: a build at that very second does not let the next skip its work."""
    out, clean = tmp_path / "out", tmp_path / "clean"
    alpha = 1795134600  # alpha.md: 2026-11-20T09:30:00 in Seoul
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(alpha + span))
    assert run("build", site, "-o", out).code == 0
    before = (out / page).read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(alpha + span + 1))
    assert run("build", site, "-o", out).code == 0
    assert (out / page).read_bytes() != before
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_touching_a_file_without_changing_it_renders_nothing(site: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    options = Options(now=datetime(2026, 11, 26, tzinfo=UTC), output=tmp_path / "out")
    first = build(site, options)
    path = site / "content" / "2026" / "beta.md"
    path.write_bytes(path.read_bytes())  # new mtime and ctime, same bytes
    again = build(site, options)
    assert again.rendered == 0 and again.files == first.files


def test_an_edit_behind_a_linked_layouts_folder_is_seen(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    theme = tmp_path / "theme"
    theme.mkdir()
    card = (
        Path(__file__).resolve().parent.parent / "amwgen" / "templates" / "card.html"
    ).read_text()
    (theme / "card.html").write_text(card)
    (site / "layouts").symlink_to(theme)
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    assert run("build", site, "-o", out).code == 0
    (theme / "card.html").write_text(card.replace('class="card"', 'class="card shared-theme"'))
    assert run("build", site, "-o", out).code == 0
    assert b"shared-theme" in (out / "index.html").read_bytes()


def test_time_moving_back_is_not_taken_for_no_change(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    assert run("build", site, "-o", out).code == 0
    assert (out / "news" / "alpha" / "index.html").is_file()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1794700000")  # 2026-11-15: alpha is in the future
    assert run("build", site, "-o", out).code == 0
    assert not (out / "news" / "alpha").exists()


def test_a_static_file_replaces_the_page_and_never_writes_through(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    before = (out / "404.html").read_bytes()
    (site / "static" / "404.html").write_text("custom 404")
    monkeypatch.setenv("AMWGEN_TEST_FAULT", "swap:EIO")
    assert run("build", site, "-o", out).code == 1
    assert (out / "404.html").read_bytes() == before  # the failed build changed nothing
    monkeypatch.delenv("AMWGEN_TEST_FAULT")
    result = run("build", site, "-o", out)
    assert result.code == 0
    assert (out / "404.html").read_text() == "custom 404"
    again = run("build", site, "-o", out)
    assert again.code == 0
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_a_runtime_error_in_a_layout_is_located(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (site / "layouts").mkdir()
    (site / "layouts" / "page.html").write_text(
        "{% extends 'base.html' %}\n{% block main %}\n{{ 1 / 0 }}\n{% endblock %}\n"
    )
    result = run("build", site, "-o", tmp_path / "out")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert f"{site}/layouts/page.html:3: template: ZeroDivisionError" in result.err


def test_an_output_that_is_a_link_fills_the_folder_it_points_to(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    www = tmp_path / "www"
    www.mkdir()
    link = tmp_path / "out"
    link.symlink_to(www)
    assert run("build", site, "-o", link).code == 0
    assert link.is_symlink()
    assert (www / "index.html").is_file()


def test_compiled_templates_are_kept_in_the_cache_and_best_effort(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Templates compile once into .amwgen-cache/templates/<code version>; damaged or out of
    reach, they are compiled as usual (the cache only ever saves time)."""
    out = tmp_path / "out"
    assert not (site / ".amwgen-cache").exists()
    assert run("build", site, "-o", out).code == 0
    # Kept per version of amwgen's code: Jinja checks only the template's source.
    versions = site / ".amwgen-cache" / "other" / "templates"  # built into another folder
    assert [p.name for p in versions.iterdir()] == [code_digest().hex()]
    kept = [p for p in versions.rglob("*") if p.is_file()]
    assert kept
    (versions / "other-code").mkdir()  # another version's: removed, never read
    for compiled in kept:  # cut short: not a template any more
        compiled.write_bytes(compiled.read_bytes()[:20])
    edit_body(site, random.Random(3))
    result = run("build", site, "-o", out, "--verify")
    assert result.code == 0, result.err
    assert "verify: identical to a clean build" in result.out
    assert [p.name for p in versions.iterdir()] == [code_digest().hex()]
    # A path that is a file, not a folder: neither reading nor writing there can work.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    env = make_env(site, load_config(site), "digest", compiled=blocked)
    assert env.get_template("404.html").name == "404.html"


def test_what_a_template_includes_is_followed_after_each_edit(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Which templates a template names is kept in the cache by the digest of its source: an
    edit that adds an include is seen, and so is every later edit of the included file."""
    out = tmp_path / "out"
    layouts = site / "layouts"
    layouts.mkdir(exist_ok=True)
    theme = (
        Path(__file__).resolve().parent.parent / "amwgen" / "templates" / "article.html"
    ).read_text()
    (layouts / "extra.html").write_text("<p>extra one</p>\n")
    assert run("build", site, "-o", out).code == 0
    page = out / "news" / "delta" / "index.html"
    assert "extra one" not in page.read_text()
    (layouts / "article.html").write_text(
        theme.replace("{% block main %}", '{% block main %}{% include "extra.html" %}', 1)
    )
    assert run("build", site, "-o", out).code == 0
    assert "extra one" in page.read_text()
    for text in ("extra two", "extra three"):
        (layouts / "extra.html").write_text(f"<p>{text}</p>\n")
        assert run("build", site, "-o", out).code == 0
        assert text in page.read_text()
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


THEME = Path(__file__).resolve().parent.parent / "amwgen" / "templates"


def test_an_include_of_a_computed_name_is_followed(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # It may name any template: the walk dropped it, and the pages kept the old text of the
    # included file, --verify failing (a red team). Any template: one in a linked folder
    # too; not a file of layouts/ that is no template (a review of the first fix: such a
    # file failed the build, and a linked folder's templates were not listed).
    out = tmp_path / "out"
    layouts = site / "layouts"
    layouts.mkdir(exist_ok=True)
    shared = tmp_path / "shared"
    shared.mkdir()
    (layouts / "partials").symlink_to(shared)
    (layouts / "README.md").write_text("notes {% oops\n")
    (layouts / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    theme = (THEME / "article.html").read_text()
    computed = '{% block main %}{% include "partials/ex" ~ "tra.html" %}'
    (layouts / "article.html").write_text(theme.replace("{% block main %}", computed, 1))
    (shared / "extra.html").write_text("<p>extra one</p>\n")
    assert run("check", site).code == 0
    assert run("build", site, "-o", out).code == 0
    for text in ("two", "three"):
        (shared / "extra.html").write_text(f"<p>extra {text}</p>\n")
        result = run("build", site, "-o", out)
        assert result.code == 0, result.err
        assert f"extra {text}" in (out / "news" / "delta" / "index.html").read_text()
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_a_template_that_calls_card_html_itself_follows_card_html(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Without macros.html imported, card.html was not followed: the home pages kept the old
    # cards after an edit of it (a red team).
    out = tmp_path / "out"
    layouts = site / "layouts"
    layouts.mkdir(exist_ok=True)
    theme = (THEME / "list.html").read_text()
    for old, new in (
        ('{% import "macros.html" as m %}', ""),
        ("{{ m.card(entry) }}", "{{ card_html(entry) }}"),
        ("{{ m.pager(page.pager) }}", ""),
    ):
        assert old in theme
        theme = theme.replace(old, new)
    (layouts / "list.html").write_text(theme)
    card = (THEME / "card.html").read_text()
    assert run("build", site, "-o", out).code == 0
    for text in ("two", "three"):
        (layouts / "card.html").write_text(f"<!-- card {text} -->\n{card}")
        assert run("build", site, "-o", out).code == 0
        assert f"<!-- card {text} -->" in (out / "index.html").read_text()
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_a_clean_build_compiles_its_templates_afresh(run, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--clean reads nothing from the cache, compiled templates included, and leaves a cache
    for the next build."""
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    kept = site / ".amwgen-cache" / "other" / "templates" / code_digest().hex()
    stale = next(p for p in kept.iterdir() if p.is_file())
    stale.write_bytes(b"not what this build compiled")
    assert run("build", site, "-o", out, "--clean").code == 0
    assert stale.read_bytes() != b"not what this build compiled"
    assert any(kept.iterdir())


@pytest.mark.parametrize("spelling", [".", "site", "ABSOLUTE"])
def test_the_files_the_input_stamp_took_stats_of_are_not_stat_again(
    run, site: Path, spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A build stats every input file once, for its input stamp, and reads those stats when it
    gathers the content, however the site's path is spelt (built from inside the site: ".")."""
    import amwgen.sources

    class NoStatAgain:
        def __getattr__(self, name: str) -> object:
            return getattr(os, name)

        @staticmethod
        def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
            raise AssertionError(f"stat again: {path}")

    monkeypatch.chdir(site.parent)
    where = {".": ".", "site": "site", "ABSOLUTE": str(site)}[spelling]
    if spelling == ".":
        monkeypatch.chdir(site)
    monkeypatch.setattr(amwgen.sources, "os", NoStatAgain())
    assert run("build", where, "-o", site.parent / "out").code == 0
    edit_body(site, random.Random(1))
    assert run("build", where, "-o", site.parent / "out").code == 0


def _archive(root: Path) -> Path:
    """Forty stories over ten days: all on one tag, in four topics, with one of six players
    each, so that every story has Related News and each term more than its four newest."""
    files = {
        f"content/s{n:02}.md": article(
            f"Story {n}",
            f"2026-11-{10 + n % 10:02}",
            topics=f"[Topic {n % 4}]",
            players=f"[Player {n % 6}]",
            tags="[shared]",
        )
        for n in range(40)
    }
    return write_site(root, files)


@pytest.mark.parametrize(
    ("date", "tags", "delete", "at_most"),
    [
        ("2026-11-25", "[shared]", None, 20),  # the newest story
        ("2026-11-25", "[shared, brand-new]", None, 20),  # with a tag new to the site
        ("2026-11-14", "[shared]", None, 20),  # dated in the middle of the archive
        ("2026-11-25", "[shared]", "s05", 41),  # with a story deleted: every article again
    ],
)
def test_a_published_story_makes_again_only_the_articles_it_changes(
    run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    date: str,
    tags: str,
    delete: str | None,
    at_most: int,
) -> None:  # type: ignore[no-untyped-def]
    """A new story comes into the newest articles of each of its terms, and so into the
    candidates of every article on them; only the articles whose Related News it enters, or
    whose window in their topic it moves, are made again (build._Arrivals), and the output
    is a clean build's. A story deleted in the same build turns that off (the newest of its
    terms changed otherwise than by a story coming in)."""
    from amwgen import build, index

    monkeypatch.setattr(index, "RELATED_POSTINGS_LIMIT", 4)
    made: list[str] = []
    plan = build.plan_units

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        units, inputs = plan(*args, **kwargs)
        made.extend(
            u.group.name
            for u in units
            if u.old is None and u.group.make.__name__ == "article_pages"
        )
        return units, inputs

    monkeypatch.setattr(build, "plan_units", recording)
    site = _archive(tmp_path / "site")
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    pages = {p: p.read_bytes() for p in (out / "news").glob("*/index.html")}
    made.clear()
    text = article("Story new", date, topics="[Topic 1]", players="[Player 5]", tags=tags)
    (site / "content" / "new.md").write_text(text)
    if delete:
        (site / "content" / f"{delete}.md").unlink()
    assert run("build", site, "-o", out).code == 0
    changed = {
        f"/news/{p.parent.name}/"
        for p, data in pages.items()
        if p.exists() and p.read_bytes() != data
    }
    assert "/news/new/" in made
    assert changed <= set(made)
    # Of the forty, all of which have it among their candidates; made again, besides those
    # it changes: those that showed a story it pushed out of a term's newest.
    assert len(made) <= at_most, (len(made), len(changed))
    clean = tmp_path / "clean"
    assert run("build", site, "-o", clean, "--clean").code == 0
    assert differing_files(out, clean) == []


def test_the_versions_in_the_code_digest_are_those_importlib_metadata_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code digest reads the rendering libraries' versions from the names of their
    .dist-info folders (importlib.metadata takes a while to import): the first along
    sys.path, as importlib.metadata's; one installed otherwise is asked of importlib.metadata."""
    from importlib import metadata

    found = installed_versions(RENDERING_PACKAGES)
    for package in RENDERING_PACKAGES:
        try:
            assert found[package] == metadata.version(package), package
        except metadata.PackageNotFoundError:
            assert package not in found
    first, second, eggs, later = (tmp_path / name for name in ("first", "second", "eggs", "later"))
    for folder, name, version in (
        (first / "Some_Lib-2.0.dist-info", "some-lib", "2.0"),
        (second / "some_lib-1.0.dist-info", "some-lib", "1.0"),
        (later / "egg_lib-9.0.dist-info", "egg-lib", "9.0"),
        (later / "zip_lib-6.0.dist-info", "zip-lib", "6.0"),
    ):
        folder.mkdir(parents=True)
        (folder / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
    (eggs / "Egg.Lib-3.1-py3.11.egg-info").mkdir(parents=True)
    (eggs / "Egg.Lib-3.1-py3.11.egg-info" / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: Egg.Lib\nVersion: 3.1\n"
    )
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr(
            "zip_lib-5.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zip-lib\nVersion: 5.0\n"
        )
    for folder in (later, second, bundle, eggs, first):  # first, eggs, bundle, second, later
        monkeypatch.syspath_prepend(str(folder))
    # An egg or a zip before a .dist-info holds the version imported: importlib.metadata's.
    names = ("some-lib", "egg-lib", "zip-lib", "no-such-lib")
    assert installed_versions(names) == {"some-lib": "2.0", "egg-lib": "3.1", "zip-lib": "5.0"}
    assert [metadata.version(name) for name in names[:3]] == ["2.0", "3.1", "5.0"]


def test_the_code_digest_sees_the_system_time_zone_database_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zoneinfo reads the system's time-zone database before the tzdata package: an upgrade
    of it (its tzdata.zi rewritten) changes what the code digest is made from."""
    import zoneinfo

    system, missing = tmp_path / "zoneinfo", tmp_path / "none"
    system.mkdir()
    (system / "tzdata.zi").write_text("# version 2025a\n")
    monkeypatch.setattr(zoneinfo, "TZPATH", (str(system), str(missing)))
    before = time_zone_data()
    assert before == time_zone_data() and f"{missing}=-" in before
    (system / "tzdata.zi").write_text("# version 2025bb\n")
    assert time_zone_data() != before


@pytest.mark.parametrize(
    "text",
    [
        "/tmp/site/content/2026/a.md",
        "content/x.md",
        ".",
        "/",
        "//host/x",
        "/tmp/ü 한/x y.md",
        "a/../b",
    ],
)
def test_a_path_comes_out_of_the_cache_as_the_path_that_went_in(text: str) -> None:
    from amwgen.incremental import _path_of, _Pickler

    path = Path(text)
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((path, path.parent))
    loaded, parent = pickle.loads(buffer.getvalue())
    assert type(loaded) is type(path)
    assert (loaded, str(loaded), loaded.parts, hash(loaded)) == (
        path,
        str(path),
        path.parts,
        hash(path),
    )
    assert (loaded.parent, loaded.name, loaded / "x", parent) == (
        path.parent,
        path.name,
        path / "x",
        path.parent,
    )
    # A cache another Python version wrote has the text alone.
    assert _path_of(text) == path


def test_stories_in_the_hour_a_clock_falls_back_keep_their_own_offsets(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """01:30 EDT and 01:30 EST are one wall-clock time and two instants (a red team): each
    page says its own, the feed's `updated` is the later, and an edit leaves the output a
    clean build's (the `<time>` markup was memoised by a key under which the two were one)."""
    zone = "title: T\nbase_url: https://t.example/\ntimezone: America/New_York\nsearch: false\n"
    files = {
        "content/a.md": article("A", "2026-11-01T05:30:00Z", summary="A."),  # 01:30 EDT
        "content/b.md": article("B", "2026-11-01T06:30:00Z", summary="B."),  # 01:30 EST
        "content/c.md": article("C", "2026-11-01T05:50:00Z"),  # 01:50 EDT
        "content/d.md": article("D", "2026-11-01T06:10:00Z"),  # 01:10 EST
    }
    site = write_site(tmp_path / "site", files, zone)
    assert run("build", site, "-j", "1").code == 0
    out = site / "public"
    for slug, offset, other in (("a", "-04:00", "-05:00"), ("b", "-05:00", "-04:00")):
        page = (out / "news" / slug / "index.html").read_text()
        assert f'<time datetime="2026-11-01T01:30:00{offset}">' in page
        assert f"01:30:00{other}" not in page
    # The newest is B (06:30Z), though 01:50 (C) is the latest wall-clock time.
    newest = "2026-11-01T01:30:00-05:00"
    feed = (out / "feed.xml").read_text()
    assert feed.index(f"<updated>{newest}</updated>") < feed.index("<entry>")
    sitemap = (out / "sitemap.xml").read_text()
    assert f"<loc>https://t.example/</loc><lastmod>{newest}</lastmod>" in sitemap
    home = (out / "index.html").read_text()
    places = [home.index(f">{title}</a>") for title in "BDCA"]
    assert places == sorted(places)
    (site / "content" / "a.md").write_text(
        article("A", "2026-11-01T05:30:00Z", "Edited.", summary="A.")
    )
    result = run("build", site, "-j", "1", "--verify")
    assert result.code == 0, result.err


def test_the_cache_loads_one_zone_object_for_each_offset_and_name(tmp_path: Path) -> None:
    """Dates validated in forked workers come back with a zone object for each batch; the
    cache, loaded, holds one for each offset and name (model.fixed_offset), each the very
    zone its arguments make (the same repr: digests are made from reprs)."""
    from datetime import UTC, datetime, timedelta, timezone

    from amwgen import incremental
    from amwgen.model import fixed_offset

    kst = [timezone(timedelta(hours=9), "KST") for _ in range(50)]  # as from 50 batches
    dates = [datetime(2026, 11, day % 28 + 1, tzinfo=zone) for day, zone in enumerate(kst)]
    unnamed = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=-4)))
    utc = datetime(2026, 11, 1, tzinfo=UTC)
    incremental._dump(tmp_path / "x.pickle", (dates, unnamed, utc))
    loaded, loaded_unnamed, loaded_utc = incremental._load(tmp_path / "x.pickle")
    assert loaded == dates and [repr(d) for d in loaded] == [repr(d) for d in dates]
    assert {id(d.tzinfo) for d in loaded} == {id(fixed_offset(timedelta(hours=9), "KST"))}
    assert repr(loaded_unnamed) == repr(unnamed) and loaded_utc.tzinfo is UTC


def test_one_moment_spelt_two_ways_where_the_clock_springs_forward_keeps_each_spelling(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """02:30 on 2026-03-08 never happens in New York: written without an offset it is taken at
    -05:00 (07:30Z, docs/content.md 3.4), the moment another story gives as 07:30Z, which the
    zone spells 03:30-04:00. One moment, two spellings: the `<time>` memo was keyed by the
    moment alone, so the first spelling went on both pages (a review)."""
    zone = "title: T\nbase_url: https://t.example/\ntimezone: America/New_York\nsearch: false\n"
    files = {
        "content/a.md": article("A", "2026-03-08T02:30"),
        "content/b.md": article("B", "2026-03-08T07:30:00Z"),
    }
    site = write_site(tmp_path / "site", files, zone)
    assert run("build", site, "-j", "1").code == 0
    pages = {slug: (site / "public" / "news" / slug / "index.html").read_text() for slug in "ab"}
    assert '<time datetime="2026-03-08T02:30:00-05:00">' in pages["a"]
    assert '<time datetime="2026-03-08T03:30:00-04:00">' in pages["b"]
    assert "02:30:00-05:00" not in pages["b"] and "03:30:00-04:00" not in pages["a"]


def test_a_site_named_another_way_reuses_the_last_build(
    run, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """`amwgen build site` from above, then `amwgen build .` inside the site, then with its
    absolute path, then through a link to it: each an edit later, each renders only what the
    edit shows (every page was rendered again: the cache's keys held the site's folder as
    typed; through a link, the output's path), and says its errors and warnings in its own
    spelling, also those of files it did not read again."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    now = datetime(2026, 11, 26, tzinfo=UTC)
    delta = site / "content" / "2026" / "delta.md"
    (site / "content" / "2026" / "linked.md").write_text(
        textwrap.dedent(article("Linked", "2026-11-20", "See [the draft](draft.md)."))
    )
    (site / "content" / "2026" / "draft.md").write_text(
        textwrap.dedent(article("Draft", "2026-11-21", draft="true"))
    )
    monkeypatch.chdir(tmp_path)
    first = build(Path("site"), Options(now=now))
    assert first.ok and first.rendered == first.files > 40
    assert [str(w.path) for w in first.warnings] == ["site/content/2026/linked.md"]
    (tmp_path / "ln").symlink_to("site")
    here = [(site, Path(".")), (site, site.absolute()), (tmp_path, Path("ln"))]
    for cwd, spelling in [*here, (tmp_path, tmp_path / "ln"), (tmp_path, Path("site"))]:
        monkeypatch.chdir(cwd)
        delta.write_text(delta.read_text() + "\nA new paragraph.\n")
        edited = build(spelling, Options(now=now))
        assert edited.ok and 0 < edited.rendered < first.files / 2, spelling
        assert [w.path for w in edited.warnings] == [spelling / "content/2026/linked.md"]
        assert build(spelling, Options(now=now, output=tmp_path / "clean", clean=True)).ok
        assert tree(tmp_path / "clean") == tree(site / "public")
    # A file with an error, read by a build from above, is reported in the next one's terms.
    (site / "content" / "2026" / "bad.md").write_text(
        textwrap.dedent(article("Bad", "2026-11-22", novelty="9"))
    )
    monkeypatch.chdir(tmp_path)
    assert "site/content/2026/bad.md:" in run("build", "site").err
    monkeypatch.chdir(site)
    again = run("build", ".")
    assert again.code == 1 and "\ncontent/2026/bad.md:" in "\n" + again.err, again.err
    assert "site/" not in again.err


def test_a_term_that_lost_an_article_or_changed_its_profile_is_made_again(
    run, site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """An article that leaves a term (retagged, deleted) changes no headline the term still
    holds, nor does a profile's text; a headline edited leaves its terms' names and sizes as
    they were. Each still changes the term's pages."""
    out = tmp_path / "out"
    assert run("build", site, "-o", out).code == 0
    content = site / "content"
    gamma, topic = content / "2026" / "gamma.md", content / "topics" / "robotics.md"
    beta = content / "2026" / "beta.md"

    def retag() -> None:
        gamma.write_text(gamma.read_text().replace("tags: [Physical AI, policy]", "tags: [policy]"))

    def delete() -> None:
        (content / "2026" / "delta.md").unlink()

    def profile() -> None:
        topic.write_text(topic.read_text().replace("Robots and the", "Machines that move and the"))

    def retitle() -> None:  # a headline changed: its terms hold as many articles as before
        beta.write_text(beta.read_text().replace("ships a robot arm", "ships a second arm"))

    steps = [
        (retitle, "tags/hardware/index.html", "ships a second arm", True),
        (retag, "tags/physical-ai/index.html", "robot test bed", False),
        (delete, "topics/semiconductors/index.html", "tapes out an npu", False),
        (profile, "topics/robotics/index.html", "machines that move", True),
    ]
    for step, page, text, shown in steps:
        step()
        result = run("build", site, "-o", out, "--verify")
        assert result.code == 0, (step.__name__, result.err)
        assert "verify: identical to a clean build" in result.out, step.__name__
        assert (text in (out / page).read_text().lower()) is shown, step.__name__
