"""The one configured MarkdownIt: CommonMark + tables, strikethrough, footnotes, heading ids."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

import mdurl
from markdown_it import MarkdownIt, helpers
from markdown_it.common.normalize_url import normalizeLink
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import normalize
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin

from amwgen.slug import slugify

# The only schemes a link may have; a relative link has none. Those that can run code or
# smuggle content (javascript:, vbscript:, file:, data:) are never a link target (SPEC 3,
# issue 3); a list of those alone let `ms-msdt:` and `search-ms:` through, which start
# programs from a mail client (a red team).
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel", "ftp", "irc", "ircs", "xmpp"})
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


@dataclass(frozen=True, slots=True)
class SourceLink:
    """A relative link to another Markdown source file, `[see](../2026/11/other.md#why)`."""

    href: str  # as rendered into the HTML (normalized by markdown-it)
    path: str  # the .md path, percent-decoded, relative to the linking file
    fragment: str  # "#why" or ""
    line: int  # 0-based line within the body


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    summary: str  # plain text of the first paragraph
    words: int
    links: tuple[SourceLink, ...] = ()  # left as written; see with_links


def render_markdown(body: str, unsafe_html: bool = False) -> Rendered:
    """Render a Markdown body to HTML, with its first paragraph as text and its word count."""
    md = markdown_parser(unsafe_html)
    env: dict[str, Any] = {}
    tokens = md.parse(body, env)
    html = md.renderer.render(tokens, md.options, env)
    words, links = _words_and_links(tokens)
    return Rendered(html, _first_paragraph(tokens), words, links)


def with_links(html: str, urls: dict[str, str]) -> str:
    """html with every link whose href is a key of urls pointing at its value instead."""
    for href, url in sorted(urls.items()):
        html = html.replace(f'href="{escapeHtml(href)}"', f'href="{escapeHtml(url)}"')
    return html


def _words_and_links(tokens: Sequence[Token]) -> tuple[int, tuple[SourceLink, ...]]:
    """The body's word count (its text as _plain reads it), and its links to .md files,
    which issue 5 resolves once every document is known (sources.gather); one walk."""
    words = 0
    found: list[SourceLink] = []
    for token in tokens:
        if token.type != "inline":
            continue
        line = token.map[0] if token.map else 0
        text: list[str] = []
        for child in token.children or ():
            kind = child.type
            if kind == "text" or kind == "code_inline":
                text.append(child.content)
            elif kind == "softbreak" or kind == "hardbreak":
                text.append(" ")
                line += 1
            elif kind == "link_open":
                link = _source_link(str(child.attrGet("href") or ""), line)
                if link is not None:
                    found.append(link)
        words += len("".join(text).split())
    return words, tuple(found)


def _source_link(href: str, line: int) -> SourceLink | None:
    if not href or href.startswith(("/", "#", "\\")):
        return None
    # A path that ends in ".md" once unquoted has ".md" or a "%" in it, or a tab or line
    # break, which urlsplit takes out first (a review: "a.\tmd"): any other link (most, to
    # the web) is none, without urlsplit (whose cache keeps 128: 2-3 µs a link).
    if ".md" not in href and "%" not in href and not ("\t" in href or "\r" in href or "\n" in href):
        return None
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    path = unquote(parts.path)
    if parts.scheme or parts.netloc or not path.endswith(".md"):
        return None
    return SourceLink(href, path, f"#{parts.fragment}" if parts.fragment else "", line)


@cache
def markdown_parser(unsafe_html: bool) -> MarkdownIt:
    """Return the MarkdownIt for these options, built once per process."""
    md = (
        MarkdownIt("commonmark", {"html": unsafe_html})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        .use(anchors_plugin, min_level=2, max_level=4, slug_func=_heading_id)
    )
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.normalizeLink = _normalize_link  # type: ignore[method-assign]
    md.helpers = SimpleNamespace(  # type: ignore[assignment]  # what the link rules call
        parseLinkDestination=_link_destination,
        parseLinkLabel=helpers.parseLinkLabel,
        parseLinkTitle=helpers.parseLinkTitle,
    )
    md.core.ruler.at("normalize", _normalize_newlines)
    md.add_render_rule("link_open", _render_link_open)
    return md


def _heading_id(text: str) -> str:
    slug = slugify(text) or "section"
    # The theme's ids start with "amw-": "## AMW Read" made a second id="amw-read" (a red team).
    return f"section-{slug}" if slug.startswith(THEME_ID_PREFIX) else slug


THEME_ID_PREFIX = "amw-"  # every id the theme's templates give starts so


def _validate_link(url: str) -> bool:
    """False for a URL with a scheme not in LINK_SCHEMES (those that could run script among
    them); markdown-it then leaves the text as is."""
    compact = "".join(url.split()).lower()
    scheme = _SCHEME.match(compact)
    return scheme is None or scheme.group(1) in LINK_SCHEMES


# Issue 8: markdown-it's normalizeLink parses a link's URL (mdurl), punycodes its host and
# percent-encodes it, the last two a character at a time in Python: 24 µs for a URL of 65
# characters. Two shortcuts, each taken only where those steps would change nothing:
# - _AS_IT_IS, a web address that each step gives back as it is: http or https in lower
#   case, a host of ASCII letters, digits, dots and hyphens that no length rule of mdurl
#   cuts (63 characters at most), then a path, query or fragment of characters that the
#   parse only splits at "?" and "#" and the encoding keeps;
# - after the parse, a host that punycode keeps (_PLAIN_HOST) and a formatted URL that the
#   encoding keeps (_UNENCODED).
# Anything else goes markdown-it's way. tests/test_properties.py compares the two.
_PLAIN_HOST = re.compile(r"[A-Za-z0-9.\-]*")
_UNENCODED = re.compile(r"[A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]*")
_AS_IT_IS = re.compile(
    r"https?://[A-Za-z0-9.\-]{1,63}"  # the host
    r"(?:[/?#][A-Za-z0-9\-._~/?#=&+,;!*'()$@:]*)?"  # the rest
)


def _normalize_link(url: str) -> str:
    """markdown-it's normalizeLink(url), without the steps that change nothing here."""
    if _AS_IT_IS.fullmatch(url):
        return url
    parsed = mdurl.parse(url, slashes_denote_host=True)
    if _PLAIN_HOST.fullmatch(parsed.hostname or ""):
        text = mdurl.format(parsed)
        if _UNENCODED.fullmatch(text):
            return text
    return normalizeLink(url)


# What markdown-it's parseLinkDestination reads a character at a time (4 µs for a URL of 30
# characters) until a space, a control character, a backslash or a bracket: one match.
_PLAIN_DESTINATION = re.compile(r"[^\x00-\x20\x7f\\()]*")


@dataclass(slots=True)
class _Destination:
    """What parseLinkDestination gives the link rules."""

    ok: bool
    pos: int
    str: str


def _link_destination(string: str, pos: int, maximum: int) -> Any:
    """markdown-it's parseLinkDestination(string, pos, maximum): one match for a destination
    that ends at a space, a control character or a closing bracket; markdown-it's own loop
    for one in angle brackets, or that meets a backslash or an opening bracket first."""
    if string.startswith("<", pos):
        return helpers.parseLinkDestination(string, pos, maximum)
    end = _PLAIN_DESTINATION.match(string, pos, maximum).end()  # type: ignore[union-attr]
    if end < maximum and string[end] in "\\(":
        return helpers.parseLinkDestination(string, pos, maximum)
    if end == pos:
        return _Destination(False, 0, "")
    return _Destination(True, end, unescapeAll(string[pos:end]))


def _normalize_newlines(state: StateCore) -> None:
    """markdown-it's first core rule (\r\n and \r to \n, NUL to U+FFFD), run only when there
    is one to change: its regular expression replaced every newline with itself, 30 µs for a
    body of 4,600 characters."""
    if "\r" in state.src or "\0" in state.src:
        normalize(state)


def _render_link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    if href.startswith(("http://", "https://", "//")):
        token.attrSet("rel", "noopener")
    return self.renderToken(tokens, idx, options, env)


def _first_paragraph(tokens: Sequence[Token]) -> str:
    for i, token in enumerate(tokens):
        if token.type == "paragraph_open" and i + 1 < len(tokens):
            text = _plain(tokens[i + 1])
            if text:
                return text
    return ""


def _plain(inline: Token) -> str:
    out: list[str] = []
    for child in inline.children or ():
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return " ".join("".join(out).split())
