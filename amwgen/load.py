"""content/ -> RawDoc per Markdown file, grouped by kind; unreadable files become problems."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from amwgen import yamlfm
from amwgen.model import Problem, RawDoc

# SPEC 1: folders directly below content/ that hold something other than articles.
SPECIAL_DIRS = ("topics", "players", "pages", "editions")


@dataclass(frozen=True, slots=True)
class Loaded:
    articles: tuple[RawDoc, ...]
    special: tuple[tuple[str, tuple[RawDoc, ...]], ...]  # ("players", docs) ...
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]

    def docs(self, kind: str) -> tuple[RawDoc, ...]:
        for name, docs in self.special:
            if name == kind:
                return docs
        return ()


def load_content(site_dir: Path) -> Loaded:
    """Read every *.md below site_dir/content, sorted by path."""
    content = site_dir / "content"
    problems: list[Problem] = []
    warnings: list[Problem] = []
    files = sorted(_walk(site_dir, content, warnings, problems))
    articles: list[RawDoc] = []
    special: dict[str, list[RawDoc]] = {name: [] for name in SPECIAL_DIRS}
    for rel in files:
        doc = read_doc(site_dir, rel, problems)
        if doc is None:
            continue
        top = rel.split("/", 1)[0] if "/" in rel else ""
        (special[top] if top in special else articles).append(doc)
    return Loaded(
        tuple(articles),
        tuple((name, tuple(docs)) for name, docs in special.items()),
        tuple(problems),
        tuple(warnings),
    )


def _walk(site_dir: Path, content: Path, warnings: list[Problem], problems: list[Problem]) -> list[str]:
    """Posix paths below content/ of the Markdown files to read; odd entries are reported."""
    found: list[str] = []
    if not content.is_dir():
        return found
    root = site_dir.resolve()
    for dirpath, dirnames, filenames in os.walk(content, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in list(dirnames):
            if name.endswith(".md"):
                problems.append(_at(Path(dirpath) / name, "is a folder named like a Markdown file"))
        for name in sorted(filenames):
            if name.startswith(".") or not name.endswith(".md"):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(content).as_posix()
            try:
                mode = os.lstat(path).st_mode
            except OSError as err:
                problems.append(_at(path, f"cannot read: {err.strerror}"))
                continue
            if stat.S_ISLNK(mode):
                target = path.resolve()
                if not target.is_relative_to(root):
                    warnings.append(_at(path, "is a link to outside the site; not followed", "warning"))
                    continue
                mode = os.stat(path).st_mode if target.exists() else 0
            if not stat.S_ISREG(mode):
                problems.append(_at(path, "is not a regular file"))
                continue
            found.append(rel)
    return found


def _at(path: Path, message: str, severity: str = "error") -> Problem:
    return Problem(path, 1, None, message, severity)


def read_doc(site_dir: Path, rel: str, problems: list[Problem]) -> RawDoc | None:
    """Read one file as UTF-8 and split its front matter; problems are appended, not raised."""
    path = site_dir / "content" / rel
    try:
        data = path.read_bytes()
    except OSError as err:
        problems.append(_at(path, f"cannot read: {err.strerror}"))
        return None
    return parse_doc(path, rel, data, problems)


def parse_doc(path: Path, rel: str, data: bytes, problems: list[Problem]) -> RawDoc | None:
    """Turn a file's bytes into a RawDoc (None, with a problem, when that cannot be done)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problems.append(Problem(path, line, None, f"not valid UTF-8 (byte {err.start})"))
        return None
    text = text.replace("\r\n", "\n")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        problems.append(Problem(path, line, None, "contains a NUL character"))
        return None
    try:
        split = yamlfm.split(text)
    except yamlfm.YamlError as err:
        problems.append(Problem(path, 1, None, err.message))
        return None
    if split is None:
        problems.append(Problem(path, 1, None, "no front matter: the file must start with '---'"))
        return None
    try:
        mapping = yamlfm.load_mapping(split.yaml_text)
    except yamlfm.YamlError as err:
        message = f"front matter is not valid YAML: {err.message}"
        if err.message.startswith("front matter"):
            message = err.message
        problems.append(Problem(path, split.yaml_line + err.line + 1, None, message))
        return None
    for key, line in mapping.duplicates:
        problems.append(Problem(path, split.yaml_line + line + 1, key, "key given twice"))
    key_lines = {k: split.yaml_line + v + 1 for k, v in mapping.key_lines.items()}
    return RawDoc(path, rel, mapping.data, key_lines, split.body, split.body_line + 1)
