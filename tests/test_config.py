"""config: site.yaml -> SiteConfig, or every located problem (SPEC 2, SPEC 5: exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import article, write_site

from amwgen.config import ConfigError, load_config, with_base_url
from amwgen.model import Editions, Promo, Scale

MINIMAL = "title: T\nbase_url: https://t.example/\n"


def config_problems(tmp_path: Path, text: str | bytes) -> list[str]:
    """The problems of a bad site.yaml, as printed, with the folder left off."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "site.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    return [str(p).replace(f"{tmp_path}/", "") for p in caught.value.problems]


def test_minimal_config_has_the_defaults(tmp_path: Path) -> None:
    write_site(tmp_path, {}, MINIMAL)
    config = load_config(tmp_path)
    assert (config.title, config.base_url, config.base_path) == ("T", "https://t.example/", "/")
    assert (config.language, config.timezone, config.output, config.per_page) == (
        "en",
        "UTC",
        "public",
        20,
    )
    assert config.novelty == config.significance == Scale(0, 3)
    assert (config.unsafe_html, config.search, config.editions, config.promo) == (
        False,
        True,
        Editions(),
        None,
    )


def test_full_config_from_the_spec(tmp_path: Path) -> None:
    text = """\
title: AI Market Watch
base_url: https://news.example.org/digest      # a comment
language: ko
timezone: Asia/Seoul
output: site-out
per_page: 5
scores:
  novelty: {min: 1, max: 5}
  significance: {min: 0, max: 10}
markdown: {unsafe_html: true}
search: false
editions: {weekly: false, monthly: true, top: 3}
promo:
  title: Discover AI Startups
  text: Explore 2,000+ AI companies.
  url: https://example.org/startups
  label: Explore Dashboard
"""
    write_site(tmp_path, {}, text)
    config = load_config(tmp_path)
    assert config.base_url == "https://news.example.org/digest/"
    assert config.base_path == "/digest/"
    assert (config.language, config.timezone, config.output, config.per_page) == (
        "ko",
        "Asia/Seoul",
        "site-out",
        5,
    )
    assert (config.novelty, config.significance) == (Scale(1, 5), Scale(0, 10))
    assert (config.unsafe_html, config.search) == (True, False)
    assert config.editions == Editions(weekly=False, monthly=True, top=3)
    assert config.promo == Promo(
        "Discover AI Startups",
        "Explore 2,000+ AI companies.",
        "https://example.org/startups",
        "Explore Dashboard",
    )


def test_unknown_key_with_did_you_mean_and_line(tmp_path: Path) -> None:
    assert config_problems(tmp_path, MINIMAL + "\ntimezon: Asia/Seoul\n") == [
        "site.yaml:4: unknown key 'timezon' (did you mean 'timezone'?)"
    ]


def test_unknown_key_exits_2_through_the_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(
        tmp_path, {"content/a.md": article()}, "tittle: T\nbase_url: https://t.example/\n"
    )
    for command in ("check", "build"):
        result = run(command, site)
        assert result.code == 2
        assert result.err.splitlines() == [
            f"{site}/site.yaml:1: missing required key 'title'",
            f"{site}/site.yaml:1: unknown key 'tittle' (did you mean 'title'?)",
        ]
    assert not (site / "public").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("base_url: https://t.example/\n", ["site.yaml:1: missing required key 'title'"]),
        ("title: T\n", ["site.yaml:1: missing required key 'base_url'"]),
        (
            "",
            [
                "site.yaml:1: missing required key 'base_url'",
                "site.yaml:1: missing required key 'title'",
            ],
        ),
        (
            "# nothing\n",
            [
                "site.yaml:1: missing required key 'base_url'",
                "site.yaml:1: missing required key 'title'",
            ],
        ),
        (MINIMAL.replace("T\n", "\n"), ["site.yaml:1: title: must not be empty"]),
        (
            "title: [T]\nbase_url: https://t.example/\n",
            ["site.yaml:1: title: must be text, not a list"],
        ),
    ],
)
def test_missing_or_empty_required_keys(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert config_problems(tmp_path, text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://t.example/",
        "t.example",
        "/relative/",
        "https://",
        "'https://t.example/?q=1'",
        "'http://[::1'",
        "'https://a b/'",
        "[x]",
        # A crash hunt: an empty fragment or query passed, and every link then followed it;
        # characters no URL holds went into every page's links.
        "'https://t.example/#'",
        "'https://t.example/?'",
        "'https://t.example/a\"b/'",
        "'https://t.example/<x>/'",
    ],
)
def test_bad_base_url(tmp_path: Path, url: str) -> None:
    (problem,) = config_problems(tmp_path, f"title: T\nbase_url: {url}\n")
    assert problem.startswith("site.yaml:2: base_url: ")


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("https://faß.de/nachrichten", "https://xn--fa-hia.de/nachrichten/"),  # not fass.de
        ("https://Ünïcode.COM:8080/x", "https://xn--ncode-cta3g.com:8080/x/"),
        ("https://user:pä@例え.jp/", "https://user:p%C3%A4@xn--r8jz45g.jp/"),
        ("https://EXAMPLE.org/A%20b", "https://EXAMPLE.org/A%20b/"),  # ASCII: as typed
        # An ASCII label as browsers take it, beside one beyond ASCII (a second review).
        ("https://news_desk.例え.jp/", "https://news_desk.xn--r8jz45g.jp/"),
        ("https://例え。jp/", "https://xn--r8jz45g.jp/"),  # an ideographic full stop
        ("https://ü@[::1]/", "https://%C3%BC@[::1]/"),
    ],
)
def test_a_base_url_beyond_ascii_is_written_in_idna_2008_and_percent_encoded(
    tmp_path: Path, given: str, written: str
) -> None:
    # A review: Python's "idna" codec is IDNA 2003, which wrote faß.de as fass.de. Written
    # as browsers do (WHATWG's URL).
    write_site(tmp_path, {}, f"title: T\nbase_url: {given}\n")
    assert load_config(tmp_path).base_url == written


@pytest.mark.parametrize(
    "url",
    [
        "https://a..例.jp/",
        "http://[fe80::1%25ü]/",
        # What UTS 46 maps to a character no host holds, a joiner out of place, a label
        # written as Punycode that is none, an emoji (IDNA 2008): a third review.
        "https://a＼b.例え.jp/",
        "https://a％41.例え.jp/",
        "https://a\u200db.例え.jp/",
        "https://xn--ü.com/",
        "https://xn--a.例え.jp/",
        "https://i❤.ws/",
    ],
)
def test_a_host_name_with_no_idna_form_is_refused(tmp_path: Path, url: str) -> None:
    assert config_problems(tmp_path, f"title: T\nbase_url: {url}\n") == [
        f"site.yaml:2: base_url: '{url}' has a host name that is no internationalised domain name"
    ]


@pytest.mark.parametrize(
    "empty",
    [
        "timezone:",
        "per_page:",
        "search:",
        "output:",
        "editions: {top: }",
        "markdown: {unsafe_html: }",
        "scores: {novelty: {min: }}",
        "scores:",
    ],
)
def test_an_empty_value_counts_as_not_given(tmp_path: Path, empty: str) -> None:
    # A review: `per_page:`, `search:` and `editions: {top: }` were errors ("not an empty
    # value"), where `timezone:` and front matter's empty values count as not given.
    write_site(tmp_path, {}, MINIMAL + empty + "\n")
    assert load_config(tmp_path) == load_config(write_site(tmp_path / "plain", {}, MINIMAL))


def test_an_empty_promo_label_is_the_default_and_an_empty_unknown_key_is_still_unknown(
    tmp_path: Path,
) -> None:
    write_site(tmp_path, {}, MINIMAL + "promo: {title: P, url: /about/, label: }\n")
    assert load_config(tmp_path).promo == Promo("P", "", "/about/", "Learn more")
    # A number is its text, as for the site's title (a review: "must be text").
    write_site(tmp_path, {}, MINIMAL + "promo: {title: 2026, text: 5, url: /about/}\n")
    assert load_config(tmp_path).promo == Promo("2026", "5", "/about/", "Learn more")
    assert config_problems(tmp_path, MINIMAL + "per_pgae:\neditions: {tpo: }\n") == [
        "site.yaml:3: unknown key 'per_pgae' (did you mean 'per_page'?)",
        "site.yaml:4: editions: unknown key 'tpo' (did you mean 'top'?)",
    ]


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "asia/seoul", "../../etc/passwd", "''", "localtime", "9"]
)
def test_bad_timezone(tmp_path: Path, zone: str) -> None:
    (problem,) = config_problems(tmp_path, MINIMAL + f"timezone: {zone}\n")
    assert problem.startswith("site.yaml:3: timezone: unknown time zone ")
    assert problem.endswith("(an IANA name such as Asia/Seoul)")


@pytest.mark.parametrize(
    "language",
    ["../../../../tmp/x/evil", "en US", "e", "en-US-x-privateuse-abcdefghij-klmnop", "ko-"],
)
def test_language_must_be_shaped_as_a_tag(tmp_path: Path, language: str) -> None:
    # A crash hunt: `language` names the translation files (a path leading anywhere was read
    # as one, a long one failed to open), and Pagefind panicked on 35 characters.
    assert config_problems(tmp_path, MINIMAL + f"language: {language}\n") == [
        f"site.yaml:3: language: '{language}' is not a language tag such as en, ko or pt-BR"
    ]


@pytest.mark.parametrize("language", ["en", "ko", "pt-BR", "zh-Hant-TW", "en_GB", "zz"])
def test_language_tags_of_any_shape_pass(tmp_path: Path, language: str) -> None:
    write_site(tmp_path, {}, MINIMAL + f"language: {language}\n")
    assert load_config(tmp_path).language == language


@pytest.mark.parametrize(
    ("value", "shown"),
    [("0", "0"), ("-3", "-3"), ("ten", "'ten'"), ("2.5", "2.5"), ("true", "true")],
)
def test_bad_per_page(tmp_path: Path, value: str, shown: str) -> None:
    assert config_problems(tmp_path, MINIMAL + f"per_page: {value}\n") == [
        f"site.yaml:3: per_page: must be a whole number of 1 or more, not {shown}"
    ]


def test_bad_yaml_is_located(tmp_path: Path) -> None:
    assert config_problems(tmp_path, MINIMAL + "scores: {novelty: [}\n") == [
        "site.yaml:3: not valid YAML: did not find expected node content"
    ]
    assert config_problems(tmp_path, "title: T\nbase_url: https://t.example/: x\n") == [
        "site.yaml:2: not valid YAML: mapping values are not allowed in this context"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "- title\n- base_url\n",
            "site.yaml:1: must be a mapping of 'key: value' lines, not a list",
        ),
        (
            "just a title\n",
            "site.yaml:1: must be a mapping of 'key: value' lines, not a single value",
        ),
        (b"title: T\xe9\n", "site.yaml:1: is not UTF-8 text (byte 0xe9 at offset 8)"),
        (b"title: T\nbase_url: \x00\n", "site.yaml:2: contains a NUL character"),
        (
            'title: "T \\x07"\nbase_url: https://t.example/\n',
            "site.yaml:1: title: contains the character U+0007, which no page or feed can carry",
        ),
        (
            "title: !!python/object/apply:os.system [ls]\n",
            "site.yaml:1: not valid YAML: could not determine a constructor",
        ),
    ],
)
def test_unreadable_site_yaml_is_one_located_problem(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    (problem,) = config_problems(tmp_path, text)
    assert problem.startswith(expected)


def test_missing_site_yaml_exits_2_with_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for command in ("check", "build"):
        result = run(command, tmp_path)
        assert result.code == 2
        assert result.err.splitlines() == [
            f"{tmp_path}/site.yaml:1: no site.yaml here; run 'amwgen init DIR' to start a site"
        ]


def test_site_yaml_that_is_a_folder(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "site.yaml").mkdir()
    result = run("check", tmp_path)
    assert result.code == 2
    assert len(result.err.splitlines()) == 1 and "cannot read site.yaml" in result.err


def test_every_problem_is_reported_sorted(tmp_path: Path) -> None:
    text = """\
title: T
base_url: https://t.example/
timezone: Nowhere/City
per_page: 0
scores:
  novelty:
    min: 3
    max: 1
  signifcance: {min: 0, max: 3}
markdown: {unsafe: true}
search: yes
editions: {weekly: yes}
promo: {url: 'javascript:alert(1)'}
outptu: dist
"""
    assert config_problems(tmp_path, text) == [
        "site.yaml:3: timezone: unknown time zone 'Nowhere/City' (an IANA name such as Asia/Seoul)",
        "site.yaml:4: per_page: must be a whole number of 1 or more, not 0",
        "site.yaml:6: scores.novelty: min and max must be whole numbers with min < max, not 3..1",
        "site.yaml:9: scores: unknown key 'signifcance' (did you mean 'significance'?)",
        "site.yaml:10: markdown: unknown key 'unsafe' (did you mean 'unsafe_html'?)",
        "site.yaml:11: search: must be true or false, not 'yes'",
        "site.yaml:12: editions.weekly: must be true or false, not 'yes'",
        "site.yaml:13: promo.url: 'javascript:alert(1)' must be an http(s) URL or a site path",
        "site.yaml:14: unknown key 'outptu' (did you mean 'output'?)",
    ]


def test_nested_unknown_key_is_at_its_own_line(tmp_path: Path) -> None:
    text = MINIMAL + "scores:\n  novelty:\n    min: 0\n    maxx: 5\n"
    assert config_problems(tmp_path, text) == [
        "site.yaml:6: scores.novelty: unknown key 'maxx' (did you mean 'max'?)"
    ]


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    assert config_problems(tmp_path, MINIMAL + "title: Again\n") == [
        "site.yaml:3: title: key given twice"
    ]


def test_custom_scores_reach_the_validator(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = MINIMAL + "scores:\n  significance: {min: 1, max: 5}\n"
    site = write_site(tmp_path, {"content/a.md": article()}, text)
    assert load_config(site).significance == Scale(1, 5)
    assert run("check", site).code == 0


def test_yaml_12_in_site_yaml(tmp_path: Path) -> None:
    write_site(tmp_path, {}, MINIMAL + "language: no\nsearch: false\n")
    config = load_config(tmp_path)
    assert (config.language, config.search) == ("no", False)


@pytest.mark.parametrize(
    "span", ["0, max: 101", "-1001, max: -998", f"{10**309}, max: {10**309 + 3}"]
)
def test_a_scale_has_at_most_101_values_within_a_thousand(tmp_path: Path, span: str) -> None:
    # A crash hunt: 0..300 made a 7 MB /scores/ page (a row or column per value), 0..10**6
    # never ended, and 10**309 overflowed the player map's floats (a traceback).
    low, high = span.split(", max: ")
    assert config_problems(tmp_path, MINIMAL + f"scores: {{novelty: {{min: {span}}}}}\n") == [
        f"site.yaml:3: scores.novelty: a scale has at most 101 values, within ±1000, not {low}..{high}"
    ]


@pytest.mark.parametrize(("low", "high"), [(0, 100), (-1000, -900), (900, 1000), (1, 5)])
def test_scales_up_to_101_values_within_a_thousand_pass(
    tmp_path: Path, low: int, high: int
) -> None:
    write_site(tmp_path, {}, MINIMAL + f"scores: {{significance: {{min: {low}, max: {high}}}}}\n")
    assert load_config(tmp_path).significance == Scale(low, high)


@pytest.mark.parametrize("url", ["//evil.example/x", "ftp://x.example/"])
def test_promo_url_that_is_neither_http_nor_a_site_path(tmp_path: Path, url: str) -> None:
    # `//host/x` was taken as a site path and shown as `/host/x` (a crash hunt).
    assert config_problems(tmp_path, MINIMAL + f"promo: {{title: P, text: T, url: '{url}'}}\n") == [
        f"site.yaml:3: promo.url: '{url}' must be an http(s) URL or a site path"
    ]


def test_with_base_url(tmp_path: Path) -> None:
    write_site(tmp_path, {}, MINIMAL)
    config = with_base_url(load_config(tmp_path), "https://x.example/sub")
    assert (config.base_url, config.base_path) == ("https://x.example/sub/", "/sub/")
    with pytest.raises(ConfigError) as caught:
        with_base_url(config, "ftp://nope")
    assert "not an absolute http(s) URL" in str(caught.value)


def test_a_value_python_cannot_read_is_at_its_line(tmp_path: Path) -> None:
    # A 5,000-digit scale maximum: reported at line 1 (a red team).
    text = MINIMAL + "scores:\n  novelty: {min: 0, max: 1" + "0" * 5000 + "}\n"
    (problem,) = config_problems(tmp_path, text)
    assert problem.startswith("site.yaml:4: not valid YAML: cannot read value:"), problem
