"""load + yamlfm: bytes -> RawDoc with file lines, or located problems; never an exception."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import article, write_site

from amwgen import yamlfm
from amwgen.load import load_content, parse_doc
from amwgen.model import Problem, RawDoc

PATH = Path("content/x.md")


def parse(data: bytes | str) -> tuple[RawDoc | None, list[Problem]]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    problems: list[Problem] = []
    doc = parse_doc(PATH, "x.md", raw, problems)
    return doc, problems


def only_problem(data: bytes | str) -> Problem:
    doc, problems = parse(data)
    assert doc is None
    assert len(problems) == 1, problems
    return problems[0]


# --- yamlfm -----------------------------------------------------------------------------


def test_yaml_12_booleans() -> None:
    # SPEC 3: only true/false are booleans; Norway stays "NO".
    text = "region: NO\na: yes\nb: on\nc: off\nd: n\ne: true\nf: False\n"
    data = yamlfm.load_mapping(text).data
    assert data == {
        "region": "NO",
        "a": "yes",
        "b": "on",
        "c": "off",
        "d": "n",
        "e": True,
        "f": False,
    }


def test_yaml_12_whole_numbers_and_no_base_60() -> None:
    # A review: YAML 1.1 read `title: 10:30` as 630 (base 60), a score `010` as 8 (octal),
    # `1_000` as 1000 and `0b11` as 3, in silence. And a second review: `0800` stays text,
    # as it was (its zero is part of what was written), and so does `-.5`.
    text = (
        "a: 10:30\nb: 010\nc: 1_000\nd: 0b11\ne: 1:30.5\nf: 1_0.5\ng: 0o17\nh: 0x1F\n"
        "i: -12\nj: 2.5\nk: .5\nl: 1e3\nm: 1.5e+3\nn: .inf\no: 0800\np: -.5\nq: -0x1F\nr: 0\n"
        "s: 01.5\nt: 0.5\n"
    )
    data = yamlfm.load_mapping(text).data
    assert data == {
        "a": "10:30",
        "b": "010",
        "c": "1_000",
        "d": "0b11",
        "e": "1:30.5",
        "f": "1_0.5",
        "g": "0o17",
        "h": 31,
        "i": -12,
        "j": 2.5,
        "k": 0.5,
        "l": "1e3",  # a point is wanted, as before
        "m": 1500.0,
        "n": float("inf"),
        "o": "0800",
        "p": "-.5",
        "q": -31,
        "r": 0,
        "s": "01.5",  # a leading zero, as 010 (a second review)
        "t": 0.5,
    }


def test_a_title_of_a_time_is_its_text(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {"content/x.md": article("10:30", slug="0900")})
    assert run("build", site, "-q").code == 0
    assert "<h1>10:30</h1>" in (site / "public/news/0900/index.html").read_text()
    (site / "content/x.md").write_text(article("10:30").replace("novelty: 1", "novelty: 010"))
    result = run("check", site)
    assert result.code == 1
    assert f"{site / 'content' / 'x.md'}:" in result.err
    assert "novelty: must be a whole number" in result.err, result.err


def test_dates_stay_strings_for_the_validator() -> None:
    data = yamlfm.load_mapping("date: 2026-11-21\nupdated: 2026-11-22T09:30:00+09:00\n").data
    assert data == {"date": "2026-11-21", "updated": "2026-11-22T09:30:00+09:00"}


def test_key_lines_are_zero_based_and_nested() -> None:
    text = "title: A\n\nread:\n  novelty: x\n  significance: y\nscores:\n  novelty:\n    max: 5\n"
    mapping = yamlfm.load_mapping(text)
    assert mapping.key_lines["title"] == 0
    assert mapping.key_lines["read"] == 2
    assert mapping.key_lines["read.novelty"] == 3
    assert mapping.key_lines["read.significance"] == 4
    assert mapping.key_lines["scores.novelty.max"] == 7
    assert "__line__" not in str(mapping.data)


def test_duplicate_keys_are_listed_with_their_line() -> None:
    mapping = yamlfm.load_mapping("title: a\ntags: [x]\ntitle: b\n")
    assert mapping.duplicates == (("title", 2),)


def test_number_and_null_keys_are_kept_as_written() -> None:
    mapping = yamlfm.load_mapping("1: a\n~: b\ntrue: c\n2.5: d\nread: {3: e}\n")
    assert mapping.data == {"1": "a", "~": "b", "true": "c", "2.5": "d", "read": {"3": "e"}}
    assert mapping.key_lines["~"] == 1


def test_empty_yaml_is_an_empty_mapping() -> None:
    assert yamlfm.load_mapping("").data == {}
    assert yamlfm.load_mapping("# only a comment\n").data == {}


@pytest.mark.parametrize(
    ("text", "line", "syntax", "words"),
    [
        ("a: 1\nb: c: d\n", 1, True, "mapping values are not allowed"),
        ("- a\n- b\n", 0, False, "not a list"),
        ("\n\njust words\n", 2, False, "not a single value"),
        ("a: !!python/object:os.system x\n", 0, True, "could not determine a constructor"),
        ("a: 1\nb: \x01\n", 1, True, "control characters are not allowed"),
        ("a: [1, 2\n", 1, True, ""),
        ("a:\n\t- x\n", 1, True, "cannot start any token"),
        ("? [a, b]\n: 1\n", 0, True, "unhashable"),
        ("<<: 3\n", 0, True, "merging"),
    ],
)
def test_bad_yaml_is_a_yaml_error_with_its_line(
    text: str, line: int, syntax: bool, words: str
) -> None:
    with pytest.raises(yamlfm.YamlError) as caught:
        yamlfm.load_mapping(text)
    assert caught.value.line == line
    assert caught.value.syntax is syntax
    assert words in caught.value.message


def test_control_character_line_counts_utf8_text_correctly() -> None:
    with pytest.raises(yamlfm.YamlError) as caught:
        yamlfm.load_mapping("제목: 한국어\n다음: 값\nc: \x02\n")
    assert caught.value.line == 2


def test_unicode_line_separators_do_not_shift_lines() -> None:
    # PyYAML counts U+2028 and U+0085 as line breaks; editors (and SPEC 6's lines) do not.
    mapping = yamlfm.load_mapping("a: 'x\u2028y'\nb: 'p\x85q'\nc: 1\n")
    assert mapping.key_lines == {"a": 0, "b": 1, "c": 2}
    with pytest.raises(yamlfm.YamlError) as caught:
        yamlfm.load_mapping("a: 'x\u2028y'\nb: c: d\n")
    assert caught.value.line == 1


def test_split_finds_front_matter_and_its_offset() -> None:
    split = yamlfm.split("---\ntitle: a\n---\nbody\n")
    assert split is not None
    assert (split.yaml_line, split.body, split.body_line) == (0, "body\n", 3)
    assert yamlfm.split("no front matter\n") is None
    assert yamlfm.split("") is None


def test_show_spells_values_as_yaml_does() -> None:
    assert yamlfm.show(True) == "true"
    assert yamlfm.show("NO") == "'NO'"
    assert yamlfm.show(5) == "5"
    assert yamlfm.show(None) == "an empty value"
    assert yamlfm.show([1]) == "a list"
    assert yamlfm.show(16**5000) == "a very large number"


# --- parse_doc ----------------------------------------------------------------------------


def test_a_good_file_gives_fields_with_file_lines() -> None:
    doc, problems = parse("---\ntitle: A\n\nread:\n  novelty: why\n---\nBody\n")
    assert problems == []
    assert doc is not None
    assert doc.fields == {"title": "A", "read": {"novelty": "why"}}
    assert doc.key_lines == {"title": 2, "read": 4, "read.novelty": 5}
    assert doc.body == "Body\n"
    assert doc.body_line == 7  # 1-based: the line after the closing '---'


def test_invalid_yaml_is_at_yaml_line_plus_offset() -> None:
    # SPEC 6: content/x.md:4: front matter is not valid YAML: ...
    problem = only_problem("---\ntitle: A\ndate: 2026-11-21\ntitle: B: C\n---\n")
    assert str(problem).startswith("content/x.md:4: front matter is not valid YAML: mapping values")


def test_invalid_yaml_after_blank_lines_in_front_matter() -> None:
    problem = only_problem("---\n\n\ntitle: [a\nnovelty: 1\n---\n")
    assert problem.line in (5, 6)  # YAML notices the unclosed list on the next line
    assert "not valid YAML" in problem.message


def test_duplicate_key_is_a_problem_at_the_second_line() -> None:
    doc, problems = parse("---\ntitle: a\ndate: x\ntitle: b\n---\n")
    assert doc is not None
    assert [str(p) for p in problems] == ["content/x.md:4: title: key given twice"]


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", 1, "no front matter"),
        (b"Just a body\n", 1, "no front matter"),
        (b"---\n", 1, "not closed"),
        (b"---\ntitle: a\ndate: 2026-01-01\n", 1, "not closed"),
        (b"---\n- a\n- b\n---\n", 2, "must be a mapping of 'key: value' lines, not a list"),
        (b"---\nhello\n---\n", 2, "not a single value"),
        (b"---\ntitle: !!python/object:os.system x\n---\n", 2, "not valid YAML"),
        (b"---\ntitle: !!python/object/apply:os.system [ls]\n---\n", 2, "not valid YAML"),
        (b"---\ntitle: a\ntags: [x, \x00]\n---\n", 3, "NUL"),
        (b"---\ntitle: a\n---\nbody\x00\n", 4, "NUL"),
        # What no feed or XML can carry (lxml refused it with a traceback): the character's
        # code, at its line, in the body or in a value a YAML escape makes.
        (b"---\ntitle: a\n---\nbody\n\nline \x01 and \x0b\n", 6, "the character U+0001"),
        (b"---\ntitle: a\n---\nform\x0cfeed\n", 4, "the character U+000C"),
        (b'---\ntitle: "bell \\x07"\n---\n', 2, "contains the character U+0007"),
        (b'---\nread:\n  novelty: "\\uFFFE"\n---\n', 3, "the character U+FFFE"),
        (b'---\ntitle: a\ntags: [b, "\\ud800"]\n---\n', 3, "invalid Unicode character escape"),
        (b"---\ntitle: " + b"[" * 5000 + b"]" * 5000 + b"\n---\n", 2, "not valid YAML"),
        (b"---\ntitle: a\ndate: \xff\xfe\n---\n", 3, "not UTF-8"),
        (b"\xef\xbb\xbf---\n\xc3\n---\n", 2, "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "not UTF-8"),
    ],
)
def test_odd_files_are_one_located_problem(data: bytes, line: int, words: str) -> None:
    problem = only_problem(data)
    assert problem.line == line, problem
    assert words in problem.message, problem
    assert problem.path == PATH


@pytest.mark.parametrize(
    "front",
    [
        "read: &r {novelty: *r}",  # a value nested in itself through an anchor
        "read: " + "{a: " * 995 + "x" + "}" * 995,  # as deep as PyYAML allows
    ],
)
def test_values_nested_in_themselves_or_deep_are_looked_through_without_recursion(
    front: str,
) -> None:
    # The look for characters no feed can carry met both with a RecursionError (a review).
    doc, problems = parse(f"---\ntitle: a\n{front}\n---\n")
    assert problems == [] and doc is not None


def test_deep_but_legal_nesting_is_data() -> None:
    doc, problems = parse("---\ntitle: " + "[" * 100 + "]" * 100 + "\n---\n")
    assert problems == [] and doc is not None


def test_not_utf8_names_the_byte() -> None:
    problem = only_problem(b"---\ntitle: caf\xe9\n---\n")
    assert str(problem) == (
        "content/x.md:2: is not UTF-8 text (byte 0xe9 at offset 14); save the file as UTF-8"
    )


def test_number_keys_become_names_with_lines() -> None:
    doc, problems = parse("---\ntitle: a\n2026: x\n---\n")
    assert problems == [] and doc is not None
    assert doc.fields["2026"] == "x" and doc.key_lines["2026"] == 3


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_ends(newline: str) -> None:
    text = "---\ntitle: a\n\ndate: b: c\n---\n".replace("\n", newline)
    assert only_problem(text).line == 4


def test_bom_is_dropped() -> None:
    doc, problems = parse(b"\xef\xbb\xbf---\ntitle: a\n---\n")
    assert problems == [] and doc is not None and doc.key_lines == {"title": 2}


def test_body_may_hold_more_dashes() -> None:
    doc, problems = parse("---\ntitle: a\n---\nabove\n\n---\n\nbelow\n")
    assert problems == [] and doc is not None
    assert "below" in doc.body


# --- load_content ---------------------------------------------------------------------------


def test_load_content_sorts_and_groups(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {
            "content/2026/b.md": article("B"),
            "content/a.md": article("A"),
            "content/topics/robotics.md": "---\ntitle: Robotics\n---\n",
            "content/pages/about.md": "---\ntitle: About\n---\n",
            "content/notes.txt": "ignored",
            "content/.hidden.md": "ignored",
        },
    )
    loaded = load_content(site)
    assert [d.rel for d in loaded.articles] == ["2026/b.md", "a.md"]
    assert [d.rel for d in loaded.docs("topics")] == ["topics/robotics.md"]
    assert [d.rel for d in loaded.docs("pages")] == ["pages/about.md"]
    assert loaded.problems == ()


def test_load_content_gathers_every_problem(tmp_path: Path) -> None:
    site = write_site(tmp_path, {"content/ok.md": article("Ok")})
    (site / "content" / "bad.md").write_bytes(b"---\ntitle: \xff\n---\n")
    (site / "content" / "worse.md").write_bytes(b"---\n- list\n---\n")
    (site / "content" / "folder.md").mkdir()
    loaded = load_content(site)
    assert [d.rel for d in loaded.articles] == ["ok.md"]
    found = sorted((p.path.name, p.line) for p in loaded.problems)
    assert found == [("bad.md", 2), ("folder.md", 1), ("worse.md", 2)]


def test_missing_content_folder_is_empty(tmp_path: Path) -> None:
    loaded = load_content(write_site(tmp_path, {}))
    assert loaded.articles == () and loaded.problems == ()


def test_odd_entries_are_located_problems(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {"content/a.md": article("A")})
    content = site / "content"
    (content / "loop.md").symlink_to("loop.md")
    (content / "dangling.md").symlink_to("missing.md")
    (content / "inside.md").symlink_to("a.md")
    outside = tmp_path / "outside.md"
    outside.write_text(article("Outside"))
    (content / "outside.md").symlink_to(outside)
    os.mkfifo(content / "fifo.md")
    loaded = load_content(site)
    assert [d.rel for d in loaded.articles] == ["a.md", "inside.md"]
    assert [(p.path.name, p.message) for p in loaded.problems] == [
        ("dangling.md", "is a link to a file that does not exist"),
        ("fifo.md", "is not a regular file"),
        ("loop.md", "is a link that loops"),
    ]
    assert [(p.path.name, p.severity) for p in loaded.warnings] == [("outside.md", "warning")]
