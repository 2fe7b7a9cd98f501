"""Front matter: split with python-frontmatter, compose with PyYAML (C loader), keep key lines."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HANDLER = YAMLHandler()
_STR_TAG = "tag:yaml.org,2002:str"
# Key lines are kept this many levels deep; deeper values are data nobody names by line.
KEY_DEPTH = 3
# Scalar keys that YAML would read as numbers, null or booleans; we keep them as written.
_KEY_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("int", "float", "null", "bool"))


class Yaml12Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader with YAML 1.2 booleans, plain numbers and no timestamp magic.

    `region: NO` stays "NO"; `yes`/`on` stay strings; dates stay strings so the
    validator parses them and reports bad ones with their line. YAML 1.1's other numbers
    are text: it read `title: 10:30` as 630 (base 60), `010` as 8 (octal), `1_000` as 1000
    and `0b11` as 3, in silence (a review). A number with a leading zero (`010`, `0800`)
    is text too, as `0800` was: its zero is part of what was written.
    """


_YAML11 = {f"tag:yaml.org,2002:{name}" for name in ("bool", "timestamp", "int", "float")}
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|[-+]?0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    # YAML 1.1's, without its "_" and base 60 (`1:30.5` was 90.5): a point after a number
    # with no leading zero (`01.5` is text, as `010` is), or at the start with no sign
    # (`-.5` stays text, as it was), and the infinities.
    re.compile(
        r"^(?:[-+]?(?:0|[1-9][0-9]*)\.[0-9]*(?:[eE][-+][0-9]+)?|\.[0-9]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)


# A value tagged by hand (`novelty: !!int 010`) is read by YAML 1.2's core schema too: PyYAML
# reads !!int and !!float as YAML 1.1 did (`010` was 8, `1_0` 10, `1:30` 90) and !!timestamp
# into a datetime with any offset (`+09:60` was +10:00). A date stays text, checked as any.
_INT_12 = re.compile(r"[-+]?[0-9]+|0o[0-7]+|[-+]?0x[0-9a-fA-F]+")
_FLOAT_12 = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


def _int_12(loader: Yaml12Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if not _INT_12.fullmatch(text):
        raise ValueError(f"{show(text)} is no int (digits, or 0o or 0x and digits)")
    return int(text, 8 if "0o" in text else 16 if "0x" in text else 10)  # prefix and sign too


def _float_12(loader: Yaml12Loader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    if not _FLOAT_12.fullmatch(text):
        raise ValueError(f"{show(text)} is no float")
    return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int_12)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _float_12)
Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", Yaml12Loader.construct_yaml_str)


class YamlError(Exception):
    """YAML that cannot be read; line is 0-based within the YAML text.

    syntax is False when the YAML parses but is not a mapping of keys.
    """

    def __init__(self, line: int, message: str, syntax: bool = True) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.syntax = syntax


@dataclass(frozen=True, slots=True)
class Mapping:
    """A YAML mapping as plain data plus the 0-based line of every key ("a.b" for nested)."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    duplicates: tuple[tuple[str, int], ...]


class _Lines:
    """0-based line of a character index, counting only '\\n' as YAML's marks do not.

    PyYAML also breaks lines at U+0085, U+2028 and U+2029; editors do not, so lines
    come from the mark's character index instead of its line (SPEC 6: the file's line).
    """

    def __init__(self, text: str) -> None:
        # str.find, not a loop over every character: eight times faster (issue 8).
        breaks = []
        at = text.find("\n")
        while at >= 0:
            breaks.append(at)
            at = text.find("\n", at + 1)
        self.breaks = breaks

    def of(self, mark: Any) -> int:
        index = getattr(mark, "index", None)
        if not isinstance(index, int):
            return int(getattr(mark, "line", 0) or 0)
        return bisect.bisect_left(self.breaks, index)


def load_mapping(text: str) -> Mapping:
    """Parse text as a YAML mapping (empty text is an empty mapping)."""
    lines = _Lines(text)
    try:
        loader = Yaml12Loader(text)
    except (UnicodeError, ValueError, TypeError) as err:
        raise YamlError(0, f"cannot read text: {err}") from None
    node = None
    try:
        node = loader.get_single_node()
        if node is None:
            return Mapping({}, {}, ())
        if not isinstance(node, yaml.MappingNode):
            message = f"must be a mapping of 'key: value' lines, not {_node_kind(node)}"
            raise YamlError(lines.of(node.start_mark), message, syntax=False)
        key_lines: dict[str, int] = {}
        duplicates: list[tuple[str, int]] = []
        _collect_lines(node, "", lines, key_lines, duplicates)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise YamlError(lines.of(mark) if mark else 0, _yaml_message(err)) from None
    except yaml.reader.ReaderError as err:
        raise YamlError(_byte_line(text, err.position), str(err).splitlines()[0]) from None
    except yaml.YAMLError as err:
        raise YamlError(0, (str(err).splitlines() or ["invalid YAML"])[0]) from None
    except _UNREADABLE as err:
        line, bad = _unreadable(loader, node, lines) if node is not None else (0, None)
        why = str(err)
        if isinstance(err, KeyError | AttributeError):  # PyYAML's own words would be ours
            why = "a value is not what its tag says"
            if bad is not None:
                why = f"{show(bad.value)} is no {bad.tag.rsplit(':', 1)[-1]}"
        raise YamlError(line, f"cannot read value: {why}") from None
    except RecursionError:
        raise YamlError(0, "values are nested too deeply") from None
    finally:
        loader.dispose()
    return Mapping(_string_keys(data, node, lines), key_lines, tuple(duplicates))


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a single value"


def _byte_line(text: str, position: int) -> int:
    # ReaderError positions count UTF-8 bytes under the C loader, characters otherwise.
    if _BaseLoader is not yaml.SafeLoader:
        return text.encode("utf-8", "replace")[:position].count(b"\n")
    return text.count("\n", 0, position)


def _collect_lines(
    node: yaml.MappingNode,
    prefix: str,
    lines: _Lines,
    key_lines: dict[str, int],
    dups: list[tuple[str, int]],
    depth: int = 0,
    merging: frozenset[int] = frozenset(),
) -> None:
    """Record each key's line (three levels deep: "scores.novelty.max") and keep keys as written.

    A key a merge (`<<: *defaults`, `<<: {novelty: 9}`) brings in is at its line in the
    mapping merged, unless the mapping gives the key itself, which then wins, as in YAML."""
    merged: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        if key_node.tag == _MERGE_TAG:
            merged.append(value_node)
            continue
        if key_node.tag in _KEY_TAGS:
            # `1: x` or `~: x` is a key named "1" or "~": reported as unknown, never a crash.
            key_node.tag = _STR_TAG
        key = prefix + str(key_node.value)
        line = lines.of(key_node.start_mark)
        if key in key_lines:
            dups.append((key, line))
        key_lines[key] = line
        if isinstance(value_node, yaml.MappingNode) and depth < KEY_DEPTH - 1:
            _collect_lines(value_node, key + ".", lines, key_lines, dups, depth + 1)
    inside = merging | {id(node)}  # a mapping that merges itself (`&a {<<: *a}`) is valid
    for value_node in merged:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if isinstance(source, yaml.MappingNode) and id(source) not in inside:
                found: dict[str, int] = {}
                _collect_lines(source, prefix, lines, found, [], depth, inside)
                for key, line in found.items():
                    key_lines.setdefault(key, line)


_MERGE_TAG = "tag:yaml.org,2002:merge"
# KeyError, AttributeError: a tag that cannot read its value (`!!bool maybe`,
# `!!timestamp tomorrow`: PyYAML's constructors look the text up, or match it, unchecked).
_UNREADABLE = (ValueError, TypeError, OverflowError, UnicodeError, KeyError, AttributeError)


def _unreadable(
    loader: Yaml12Loader, node: yaml.Node, lines: _Lines
) -> tuple[int, yaml.ScalarNode | None]:
    """The line and node of the first value, in the order written, that cannot be read (a
    5,000-digit integer: Python's limit on converting one; `!!bool maybe`); 0 and None when
    none alone fails."""
    loader.constructed_objects, loader.recursive_objects = {}, {}  # as the failure left them
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            try:
                loader.construct_object(current)
            except _UNREADABLE:
                return lines.of(current.start_mark), current
            except yaml.YAMLError:
                continue
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            stack.extend(item for pair in reversed(current.value) for item in reversed(pair))
    return 0, None


def _string_keys(data: Any, node: yaml.MappingNode, lines: _Lines) -> dict[str, Any]:
    """data when every top-level key is text; else YamlError at the first odd key."""
    if isinstance(data, dict) and all(isinstance(k, str) for k in data):
        return data
    line = next(
        (lines.of(k.start_mark) for k, _v in node.value if not isinstance(k, yaml.ScalarNode)),
        lines.of(node.start_mark),
    )
    raise YamlError(line, "keys must be plain names such as 'title'")


def _yaml_message(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or err.context or "invalid YAML"
    return str(problem).strip()


# What no XML document (a feed, the sitemap) can hold, nor HTML show: C0 controls but tab and
# line feed (a carriage return is a line end by then), the non-characters U+FFFE and U+FFFF,
# and lone surrogates (a YAML escape can make one; no UTF-8 file can).
_UNCARRIED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def uncarried(text: str) -> tuple[int, str] | None:
    """The position and U+ code of the first character of text that no page or feed can
    carry (_UNCARRIED), or None."""
    found = _UNCARRIED.search(text)
    return (found.start(), f"U+{ord(found[0]):04X}") if found else None


def uncarried_values(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(dotted key, U+ code) of each value in data, text nested at any depth in mappings and
    lists, that holds a character no page or feed can carry: a YAML escape such as "\\x01"
    makes one. Without recursion, and each mapping or list once: YAML's anchors can nest
    a value in itself (`read: &r {novelty: *r}`)."""
    found: dict[str, str] = {}
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in reversed(data.items())]
    while stack:
        name, value = stack.pop()
        if isinstance(value, str):
            bad = uncarried(value)
            if bad is not None and name not in found:
                found[name] = bad[1]
        elif isinstance(value, dict | list) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            children = [(name if k is None else f"{name}.{k}", v) for k, v in items]
            stack += reversed(children)
    return list(found.items())


def uncarried_message(code: str) -> str:
    """The message for a character of uncarried's (its U+ code), wherever it is found."""
    return f"contains the character {code}, which no page or feed can carry; remove it"


def show(value: Any) -> str:
    """value as YAML spells it, for messages: true, 'text', 3, [a list]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, int) and value.bit_length() > 128:
        return "a very large number"  # str() of a huge int can raise ValueError
    if isinstance(value, int | float | date):
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else type(value).__name__


@dataclass(frozen=True, slots=True)
class Split:
    """A Markdown file cut into YAML text and body, with their 0-based start lines."""

    yaml_text: str
    yaml_line: int
    body: str
    body_line: int


def split(text: str) -> Split | None:
    """Cut front matter from body; None when the file has no `---` block at the top."""
    start = _HANDLER.FM_BOUNDARY.match(text)
    if start is None:
        return None
    try:
        fm, body = _HANDLER.split(text)
    except ValueError:
        raise YamlError(0, "front matter is not closed by a '---' line", syntax=False) from None
    yaml_line = text.count("\n", 0, start.end())
    body = body.removeprefix("\n")  # the end of the closing '---' line
    body_line = text.count("\n", 0, len(text) - len(body))
    return Split(fm, yaml_line, body, body_line)
