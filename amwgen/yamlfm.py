"""Front matter: split with python-frontmatter, compose with PyYAML (C loader), keep key lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import frontmatter
import yaml

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HANDLER = frontmatter.YAMLHandler()


class Yaml12Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader with YAML 1.2 booleans and no timestamp magic.

    `region: NO` stays "NO"; `yes`/`on` stay strings; dates stay strings so the
    validator parses them and reports bad ones with their line.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class YamlError(Exception):
    """YAML that cannot be read; line is 0-based within the YAML text."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Mapping:
    """A YAML mapping as plain data plus the 0-based line of every key ("a.b" for nested)."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    duplicates: tuple[tuple[str, int], ...]


def load_mapping(text: str) -> Mapping:
    """Parse text as a YAML mapping (empty text is an empty mapping)."""
    loader = Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Mapping({}, {}, ())
        if not isinstance(node, yaml.MappingNode):
            raise YamlError(node.start_mark.line, "front matter must be a mapping of keys")
        key_lines: dict[str, int] = {}
        duplicates: list[tuple[str, int]] = []
        _collect_lines(node, "", key_lines, duplicates)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise YamlError(mark.line if mark else 0, _yaml_message(err)) from None
    except yaml.YAMLError as err:
        raise YamlError(0, str(err).splitlines()[0]) from None
    except (ValueError, TypeError, RecursionError) as err:
        raise YamlError(0, f"cannot read value: {err}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise YamlError(0, "front matter keys must be strings")
    return Mapping(data, key_lines, tuple(duplicates))


def _collect_lines(
    node: yaml.MappingNode, prefix: str, lines: dict[str, int], dups: list[tuple[str, int]]
) -> None:
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = prefix + str(key_node.value)
        if key in lines:
            dups.append((key, key_node.start_mark.line))
        lines[key] = key_node.start_mark.line
        if isinstance(value_node, yaml.MappingNode) and not prefix:
            _collect_lines(value_node, key + ".", lines, dups)


def _yaml_message(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or err.context or "invalid YAML"
    return str(problem).strip()


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
        raise YamlError(0, "front matter is not closed by a '---' line") from None
    yaml_line = text.count("\n", 0, start.end())
    body_line = text.count("\n", 0, len(text) - len(body))
    return Split(fm, yaml_line, body, body_line)
