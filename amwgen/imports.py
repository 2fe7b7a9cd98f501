"""Templates a layout names (extends, includes, imports) that are not there, and names
that templates take from one another (`{% from "macros.html" import card %}`, `m.card`
after `{% import "macros.html" as m %}`), checked against what the other template exports,
when either of the two is the site's (layouts/).

An empty `layouts/macros.html` broke the theme's list.html, which build then blamed, and
`check` passed it. What is missing is said at the site's file: a layout that uses a name at
its line, or a layout that lacks a name the theme uses at line 1.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import nodes

from amwgen.model import Problem
from amwgen.render import template_files, template_names


@dataclass(frozen=True, slots=True)
class Missing:
    """A name a template uses that the template it takes it from does not export; or a
    template it names that is not there (kind "template"), or its own name that it extends
    (kind "itself")."""

    problem: Problem  # said at the site's file
    name: str  # the name, or the template's
    user: Path  # the file of the template that uses it (the site's or the theme's)
    kind: str = "name"


def missing_imports(env: jinja2.Environment, site_dir: Path) -> list[Missing]:
    """Every Missing of env's templates (site layouts/ first, then the theme's), sorted."""
    layouts = site_dir / "layouts"
    if not layouts.is_dir():
        return []
    own_names = set(template_files(layouts))
    replaced = "|".join(map(re.escape, own_names or ["\0"]))
    named = re.compile(rf"""(?:import|from)\s+["'](?:{replaced})["']""")
    parsed: dict[str, tuple[Path, nodes.Template] | str] = {}

    def parse(name: str) -> tuple[Path, nodes.Template] | str:
        """name's file and syntax tree; "missing" or "broken" (layout_problems says how)."""
        if name not in parsed:
            assert env.loader is not None
            try:
                source, filename, _ = env.loader.get_source(env, name)
                parsed[name] = (Path(filename or name), env.parse(source, name, filename))
            except jinja2.TemplateNotFound:
                parsed[name] = "missing"
            except (jinja2.TemplateError, OSError, RecursionError, UnicodeError):
                parsed[name] = "broken"
        return parsed[name]

    def own(path: Path) -> bool:
        return path.absolute().is_relative_to(layouts.absolute())

    def shown(path: Path) -> Path:
        return site_dir / path.absolute().relative_to(site_dir.absolute())

    found: list[Missing] = []
    for name in template_names(env):
        if name not in own_names:
            # The theme's templates take names only from the theme's, unless the site
            # replaces one they import: only those are parsed (a check of every one costs
            # a tenth of a second).
            assert env.loader is not None
            source = env.loader.get_source(env, name)[0]
            if not named.search(source):
                continue
        user = parse(name)
        if isinstance(user, str):
            continue  # layout_problems reports a layout that does not parse
        path, tree = user
        if own(path):
            for verb, other, line in _named(tree):
                if verb == "extends" and other == name:
                    kind = "itself"
                    message = (
                        f"extends {other}, which is this template: a replacement cannot extend "
                        "the built-in one of its name"
                    )
                elif parse(other) == "missing":
                    kind, message = "template", f"{verb} {other}, which is no template"
                else:
                    continue
                problem = Problem(shown(path), line, "template", message)
                found.append(Missing(problem, other, path, kind))
        for imported, wanted, line in _imports(tree):
            target = parse(imported)
            if isinstance(target, str) or not (own(path) or own(target[0])):
                continue
            where, module = target
            if any(module.find_all((nodes.Extends, nodes.Include))):
                continue  # what it exports is then not only its own
            exported = _exported(module.body)
            for missing in (n for n in wanted if n not in exported):
                if own(path):
                    message = f"uses '{missing}' from {imported}, which defines no such name"
                    problem = Problem(shown(path), line, "template", message)
                else:
                    message = (
                        f"defines no '{missing}', which the theme's {name} uses (its line {line})"
                    )
                    problem = Problem(shown(where), 1, "template", message)
                found.append(Missing(problem, missing, path))
    unique = {(m.problem, m.name, m.user): m for m in found}
    return sorted(unique.values(), key=lambda m: m.problem.sort_key())


def _named(tree: nodes.Template) -> list[tuple[str, str, int]]:
    """Each template tree names by a constant: (how, name, line), how being "extends",
    "includes" (not `ignore missing`) or "imports from"; Jinja fails on one that is not
    there when the page renders it (a review: `check` passed them)."""
    found: list[tuple[str, str, int]] = []
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        if isinstance(node, nodes.Extends):
            verb, template = "extends", node.template
        elif isinstance(node, nodes.Include):
            if node.ignore_missing:
                continue
            verb, template = "includes", node.template
        else:
            assert isinstance(node, nodes.Import | nodes.FromImport)  # what find_all took
            verb, template = "imports from", node.template
        if isinstance(template, nodes.Const) and isinstance(template.value, str):
            found.append((verb, template.value, node.lineno))
    return sorted(found, key=lambda each: each[2])


def _exported(body: list[nodes.Node]) -> set[str]:
    """What a template exports, as Jinja does: its macros and `{% set %}` names at the top
    level, in `{% if %}` too (_top_level: not in a block, a loop, a macro or `with`), but for
    names that start with "_"."""
    names: set[str] = set()
    for node in _top_level(body):
        if isinstance(node, nodes.Macro):
            names.add(node.name)
        elif isinstance(node, nodes.Assign | nodes.AssignBlock):
            target = node.target
            names.update(
                n.name for n in [target, *target.find_all(nodes.Name)] if isinstance(n, nodes.Name)
            )
    return {name for name in names if not name.startswith("_")}


def _imports(tree: nodes.Template) -> list[tuple[str, list[str], int]]:
    """What a template takes from others by name: (template, names, line) for each
    `{% from "t" import a, b %}`, and for each `{% import "t" as m %}` at the top level
    the names it reads as `m.name`, at the line of the first. Left out: computed template
    names; an alias the template binds otherwise too (`{% for m in ... %}`, a second
    import); a name read only behind `is defined` or through `default` (which render
    without it: a review), and Python's own (`m.__name__`)."""
    found = []
    guarded = _guarded(tree)
    top = {id(node) for node in _top_level(tree.body)}
    bound = Counter(n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param"))
    for each in tree.find_all(nodes.FromImport):
        bound.update(n if isinstance(n, str) else n[1] for n in each.names)
        if isinstance(each.template, nodes.Const):
            pairs = [(n, n) if isinstance(n, str) else n for n in each.names]
            names = [name for name, alias in pairs if (alias, None) not in guarded]
            found.append((str(each.template.value), names, each.lineno))
    wholes = list(tree.find_all(nodes.Import))
    bound.update(whole.target for whole in wholes)
    for whole in wholes:
        alias = whole.target
        if not isinstance(whole.template, nodes.Const) or bound[alias] != 1:
            continue
        if id(whole) not in top:
            continue  # in a macro or a block: the alias is that one's, not the template's
        uses: dict[str, int] = {}
        for got in tree.find_all(nodes.Getattr):
            named = isinstance(got.node, nodes.Name) and got.node.name == alias
            if named and not got.attr.startswith("__") and (alias, got.attr) not in guarded:
                uses.setdefault(got.attr, got.lineno)
        for attr, line in uses.items():
            found.append((str(whole.template.value), [attr], line))
    return found


def _top_level(body: list[nodes.Node]) -> list[nodes.Node]:
    """The nodes of a template's top level, those in its `{% if %}` branches too."""
    found: list[nodes.Node] = []
    for node in body:
        found.append(node)
        if isinstance(node, nodes.If):
            found += _top_level(node.body)
            for branch in node.elif_:
                found += _top_level([branch])
            found += _top_level(node.else_)
    return found


def _guarded(tree: nodes.Template) -> set[tuple[str, str | None]]:
    """Names (None) and module attributes read behind `is defined`, `is undefined` or
    through the `default` filter anywhere in tree."""
    read: list[nodes.Node | None] = [
        test.node for test in tree.find_all(nodes.Test) if test.name in ("defined", "undefined")
    ]
    read += [each.node for each in tree.find_all(nodes.Filter) if each.name in ("default", "d")]
    found: set[tuple[str, str | None]] = set()
    for node in read:
        if isinstance(node, nodes.Name):
            found.add((node.name, None))
        elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            found.add((node.node.name, node.attr))
    return found
