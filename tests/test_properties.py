"""Issue 7, point 1: properties that hold for any input (hypothesis).

Front matter and raw bytes have their properties in tests/test_validate.py
(test_any_front_matter_gives_article_or_problems, test_any_bytes_give_article_or_problems,
test_any_bytes_after_front_matter_marker); this file covers Markdown bodies and slugs.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from html.entities import name2codepoint

import html5lib
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_hostile import BAD_SCHEMES, URL_ATTRS

from amwgen.markdown import render_markdown
from amwgen.slug import MAX_SLUG_BYTES, slugify

# Pieces that try to smuggle script through Markdown: raw tags, handlers, URL schemes in
# every spelling a browser still runs, inside links, images, autolinks and references.
SCHEMES = st.sampled_from(
    [
        "javascript:",
        "JaVaScRiPt:",
        "java\tscript:",
        " javascript:",
        "&#106;avascript:",
        "&#x6A;avascript:",
        "javascript&#58;",
        "jav&#x09;ascript:",
        "%6Aavascript:",
        "data:",
        "DATA:",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:",
        "\x00javascript:",
        "\u200bjavascript:",
    ]
)
PAYLOAD = st.sampled_from(["alert(1)", "alert`1`", "//%0aalert(1)", "x", ""])
URL = st.builds(lambda s, p: s + p, SCHEMES, PAYLOAD)


def _piece(url: str, text: str, kind: int) -> str:
    return [
        f"[{text}]({url})",
        f"![{text}]({url})",
        f"[{text}](<{url}>)",
        f'[{text}]({url} "title")',
        f"<{url}>",
        f"[{text}][r]\n\n[r]: {url}\n",
        f'<a href="{url}">{text}</a>',
        f'<img src="{url}" onerror="alert(1)">',
        f"<script>{text}</script>",
        f"<svg onload=alert(1)><script>{text}</script></svg>",
        f'<iframe src="{url}"></iframe>',
        f'<div onclick="{text}">{text}</div>',
        f"<style>*{{background:url({url})}}</style>",
        f"`<script>{text}</script>`",
        f"```\n<script>{text}</script>\n```",
        f"<!-- <script>{text}</script> -->",
        f"[{text}]: {url}\n\n[{text}]",
        f"<form action='{url}'><button formaction={url}>{text}</button></form>",
        f"<object data='{url}'></object><embed src='{url}'>",
        f"| a |\n|---|\n| [{text}]({url}) |",
        f"[^1]\n\n[^1]: [{text}]({url})",
        f"## <img src=x onerror=alert(1)> {text}",
    ][kind]


PIECE = st.builds(_piece, URL, st.text(max_size=20), st.integers(0, 21))
BODY = st.lists(st.one_of(PIECE, st.text(max_size=40)), max_size=8).map("\n\n".join)


def assert_inert_html(html: str) -> None:
    """The rules of tests/test_hostile.py's assert_inert, on a fragment parsed as browsers do."""
    document = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    for el in document.iter():
        tag = el.tag.split("}")[-1] if isinstance(el.tag, str) else ""
        assert tag not in ("script", "iframe", "object", "embed", "style"), (tag, html)
        for name, value in el.attrib.items():
            local = name.split("}")[-1].lower()
            assert not local.startswith("on"), (tag, name, html)
            if local in URL_ATTRS or name in URL_ATTRS:
                compact = "".join(value.split()).lower()
                assert not compact.startswith(BAD_SCHEMES), (tag, name, value, html)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODY)
@example("<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>")
def test_any_body_renders_without_script_handlers_or_bad_urls(body: str) -> None:
    assert_inert_html(render_markdown(body, unsafe_html=False).html)


def test_unsafe_html_really_passes_raw_html() -> None:
    # The property above is not vacuous: the same inputs do carry script when allowed.
    html = render_markdown("<script>alert(1)</script>\n", unsafe_html=True).html
    assert "<script>alert(1)</script>" in html


# --- slugs -------------------------------------------------------------------------------

TEXT = st.one_of(
    st.text(),
    st.text(min_size=60, max_size=400),  # long enough to be cut at MAX_SLUG_BYTES
    st.text(alphabet=st.sampled_from("./\\-_ .\t\n\x00\u200b\u0301ﬁ①№İ로봇Ω"), max_size=30),
)


def _has_word_chars(text: str) -> bool:
    # Letters or digits once HTML character references are read ("&lt;" is "<", "&#65;"
    # "A": only with their ";", as the slug library reads them) and compatibility forms
    # folded ("№" is "No", "①" is "1"), as the slug library does before it keeps word
    # characters. (Without the references, CI found "&lt;" by chance: an empty slug.)
    text = re.sub(r"&([A-Za-z][A-Za-z0-9]*);", lambda m: _named(m[0], m[1]), text)
    text = re.sub(r"&#(\d+);", lambda m: _code(int(m[1]), m[0]), text)
    text = re.sub(r"&#x([0-9a-fA-F]+);", lambda m: _code(int(m[1], 16), m[0]), text)
    return any(c.isalnum() for c in unicodedata.normalize("NFKC", text))


def _named(written: str, name: str) -> str:
    return chr(name2codepoint[name]) if name in name2codepoint else written


def _code(point: int, written: str) -> str:
    return chr(point) if point <= sys.maxunicode else written


@settings(max_examples=1000, deadline=None)
@given(TEXT)
@example("../../etc/passwd")
@example("..\\..\\windows")
@example("로봇 " * 100)
@example("\x00\x01\x7f")
@example("&lt;")
@example("&#65;&lt")
def test_slug_is_total_idempotent_and_a_safe_file_name(text: str) -> None:
    slug = slugify(text)
    assert isinstance(slug, str)
    assert slugify(slug) == slug
    assert "/" not in slug and "\\" not in slug and ".." not in slug
    assert not any(unicodedata.category(c).startswith("C") for c in slug), repr(slug)
    assert len(slug.encode("utf-8")) <= MAX_SLUG_BYTES
    assert slug == slug.strip("-")
    # Empty exactly when there is nothing to make a name of; callers report "" as an error.
    assert bool(slug) == _has_word_chars(text), (text, slug)


# Issue 8: amwgen's shortcuts through markdown-it's steps (markdown._normalize_link,
# _link_destination, _normalize_newlines) give what markdown-it's own steps give, and its
# own source-link shortcut what urlsplit gives, for any input. (A review's differential
# tests drew millions of each; these keep a few thousand in the suite.)
URL_PIECES = st.sampled_from(
    [
        "http://",
        "https://",
        "HTTPS://",
        "mailto:",
        "ftp://",
        "//",
        "/",
        "./",
        "../",
        "#",
        "?",
        "&",
        "=",
        "@",
        ":",
        "%",
        "%20",
        "%zz",
        "%C3%BC",
        " ",
        "\t",
        "\\",
        "[",
        "]",
        "example.com",
        "EXAMPLE.com",
        "xn--r8jz45g.jp",
        "例え.jp",
        "ü",
        "user:pw@",
        ":8080",
        "[::1]",
        "a.b-c",
        "news/2026/11/story",
        "q=1",
        ".md",
        "'",
        "(",
        ")",
        "*",
        "~",
        "!",
        "\u3002",
        "\uff0e",
        "\x7f",
        "\ud83e\udd16",
        "🤖",
        "<",
        ">",
        '"',
        "`",
        "{",
        "}",
        "|",
    ]
)


# Web addresses near those normalizeLink gives back as they are: schemes in any case, hosts
# of any length and characters, paths of any characters.
WEB_ADDRESSES = st.builds(
    "{}{}{}".format,
    st.sampled_from(["http://", "https://", "HTTPS://", "Http://", "ftp://", "https:/", ""]),
    st.text(st.sampled_from("abcXYZ019.-"), min_size=1, max_size=70)
    | st.text(st.sampled_from("abcXYZ019.-_+:@%ü[] "), max_size=70),
    st.lists(
        st.sampled_from("/?#=&+,;!*'()$@:~._-aZ9%<> \\\"`{}|^ü") | st.sampled_from(["%2F", "%zz"])
    ).map("".join),
)


@settings(max_examples=2500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(URL_PIECES | st.text(max_size=3)).map("".join), WEB_ADDRESSES))
@example("https://example.com/news/2026/11/story-226?id=1#part")
@example("HTTP://Example.COM:8080/a(b)")
@example("mailto:someone@example.org")
@example("https://user@host@example.com/")
@example("https://" + "a" * 63 + "/x")
@example("https://" + "a" * 64 + "/x")
@example("https://example.com")
@example("https://a..b/?x#y?z")
@example("https://example.com/100%")
@example("https://example.com/a<b")
def test_links_are_normalized_as_markdown_it_normalizes_them(url: str) -> None:
    from markdown_it.common.normalize_url import normalizeLink

    from amwgen.markdown import _normalize_link

    assert _outcome(_normalize_link, url) == _outcome(normalizeLink, url)


def _outcome(function: Callable[[str], str], url: str) -> tuple[str, str]:
    """What function gives, or the error it raises (markdown-it's, for lone surrogates)."""
    try:
        return ("gives", function(url))
    except Exception as err:  # the same error from both is the same outcome
        return ("raises", type(err).__name__)


@given(st.lists(st.sampled_from(["a", " ", "\n", "\r", "\r\n", "\0", "é", "#", "*"])).map("".join))
def test_newlines_are_normalized_as_markdown_it_normalizes_them(src: str) -> None:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import normalize
    from markdown_it.rules_core.state_core import StateCore

    from amwgen.markdown import _normalize_newlines

    ours, theirs = (StateCore(src, MarkdownIt(), {}) for _ in range(2))
    _normalize_newlines(ours)
    normalize(theirs)
    assert ours.src == theirs.src


DESTINATION_PIECES = st.sampled_from(
    [
        "a",
        "é",
        "/",
        ".",
        ":",
        " ",
        "\t",
        "\n",
        "\x00",
        "\x1f",
        "\x7f",
        "\\",
        "\\ ",
        "(",
        ")",
        "<",
        ">",
        "&amp;",
        "&#x41;",
        "&bogus;",
        "%20",
        '"',
        "'",
        "https://example.com/x",
        "🤖",
    ]
)


@settings(max_examples=1500)
@given(st.lists(DESTINATION_PIECES).map("".join), st.integers(0, 40), st.integers(0, 40))
@example("[safety](https://example.com/news/226) rest", 9, 43)
@example("(a(b)c)", 0, 7)
@example("a\\", 0, 2)
def test_link_destinations_are_read_as_markdown_it_reads_them(
    text: str, start: int, cut: int
) -> None:
    from markdown_it.helpers import parseLinkDestination

    from amwgen.markdown import _link_destination

    start, end = min(start, len(text)), min(max(start, cut), len(text))
    ours, theirs = _link_destination(text, start, end), parseLinkDestination(text, start, end)
    assert (ours.ok, ours.pos, ours.str) == (theirs.ok, theirs.pos, theirs.str)


@settings(max_examples=1500)
@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                ".",
                "m",
                "d",
                ".md",
                "%2E",
                "%2e",
                "%6D",
                "%",
                "\t",
                "\r",
                "\n",
                "/",
                "#",
                "?",
                ":",
                "x:",
                "//h",
                "\\",
                "[",
                "é",
            ]
        )
    ).map("".join)
)
@example("a.\tmd")  # a review: urlsplit takes tabs and line breaks out first
@example("docs/a.m\nd#x")
def test_a_link_is_to_a_source_file_when_its_path_ends_in_md(href: str) -> None:
    """markdown._source_link's shortcut (no ".md", "%", tab or line break: no source link)
    gives what its reading with urlsplit gives."""
    from urllib.parse import unquote, urlsplit

    from amwgen.markdown import _source_link

    try:
        parts = urlsplit(href)
    except ValueError:
        expected = False
    else:
        expected = (
            bool(href)
            and not href.startswith(("/", "#", "\\"))
            and not parts.scheme
            and not parts.netloc
            and unquote(parts.path).endswith(".md")
        )
    assert (_source_link(href, 0) is not None) == expected
