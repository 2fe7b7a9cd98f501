"""content/ -> RawDoc per Markdown file, grouped by kind; unreadable files become problems."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from amwgen import faults, yamlfm
from amwgen.config import key_line
from amwgen.model import Problem, RawDoc, cannot_read

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
        special.get(top, articles).append(doc)
    return Loaded(
        tuple(articles),
        tuple((name, tuple(docs)) for name, docs in special.items()),
        tuple(problems),
        tuple(warnings),
    )


def find_sources(site_dir: Path, warnings: list[Problem], problems: list[Problem]) -> list[str]:
    """Sorted posix paths below content/ of every Markdown file to read."""
    found = sorted(_walk(site_dir, site_dir / "content", warnings, problems))
    faults.reach("walk")  # issue 7: tests delete a file here, between the walk and the read
    return found


def _walk(
    site_dir: Path, content: Path, warnings: list[Problem], problems: list[Problem]
) -> list[str]:
    """Posix paths below content/ of the Markdown files to read; odd entries are reported.

    Hidden entries are skipped; linked folders are not followed (a folder named like a
    Markdown file is reported, linked or not); a file that is not a plain regular file gets
    a closer look (_odd_file)."""
    found: list[str] = []
    if not content.is_dir():
        return found
    root = site_dir.resolve()
    todo = [(str(content), "")]
    while todo:  # in os.walk's order: a folder's subfolders, then its files, by name
        folder, rel = todo.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted((e for e in listing if not e.name.startswith(".")), key=_name)
        except FileNotFoundError:
            continue  # a folder that vanished holds nothing to read
        except OSError as err:
            # Unreadable (its permissions): check said "ok", and build "cannot write".
            problems.append(cannot_read(Path(folder), err))
            continue
        folders = [e for e in entries if _is_dir(e)]
        for entry in folders:
            if entry.name.endswith(".md"):
                problems.append(_at(Path(entry.path), "is a folder named like a Markdown file"))
        todo += [(e.path, f"{rel}{e.name}/") for e in reversed(folders) if not e.is_symlink()]
        skip = {e.name for e in folders}
        for entry in entries:
            if not entry.name.endswith(".md") or entry.name in skip:
                continue
            # The common case costs no system call: the listing says it is a regular file.
            plain = entry.is_file(follow_symlinks=False)
            problem = None if plain else _odd_file(Path(entry.path), root)
            if problem is None and not is_utf8(f"{rel}{entry.name}"):
                # Its URL and every message would carry bytes that are no text.
                message = "its name is not UTF-8 text; rename the file"
                problem = _at(Path(shown(entry.path)), message)
            if problem is None:
                found.append(f"{rel}{entry.name}")
            else:
                (problems if problem.severity == "error" else warnings).append(problem)
    return found


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder, or a link to one (as os.walk sees it: a link that loops is not)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _odd_file(path: Path, root: Path) -> Problem | None:
    """Why path cannot be read as an article (a link out of the site only warns); None if it can."""
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            target = path.resolve(strict=True)
            if not target.is_relative_to(root):
                return _at(path, "is a link to outside the site; not followed", "warning")
            mode = os.stat(path).st_mode
    except FileNotFoundError:
        return _at(path, "is a link to a file that does not exist")
    except RuntimeError:  # Python 3.11 reports a symlink loop so; later ones raise ELOOP
        return _at(path, "is a link that loops")
    except OSError as err:
        if err.errno == errno.ELOOP:
            return _at(path, "is a link that loops")
        return cannot_read(path, err)
    if not stat.S_ISREG(mode):
        return _at(path, "is not a regular file")
    return None


def shown(name: str) -> str:
    """A name the system gave (a file's, an argument), as text a message can carry anywhere:
    its bytes that are not UTF-8 as \\xNN."""
    try:
        data = os.fsencode(name)
    except UnicodeEncodeError:  # a lone surrogate no system gave (a YAML escape, say)
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return data.decode("utf-8", "backslashreplace")


def is_utf8(name: str) -> bool:
    """Whether a name the system gave (a file's, an argument) is text: Python keeps bytes
    that are not UTF-8 as lone surrogates."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _at(path: Path, message: str, severity: str = "error") -> Problem:
    return Problem(path, 1, None, message, severity)


def read_doc(site_dir: Path, rel: str, problems: list[Problem]) -> RawDoc | None:
    """Read one file as UTF-8 and split its front matter; problems are appended, not raised."""
    path = site_dir / "content" / rel
    try:
        data = path.read_bytes()
    except OSError as err:
        problems.append(cannot_read(path, err))
        return None
    return parse_doc(path, rel, data, problems)


def parse_doc(path: Path, rel: str, data: bytes, problems: list[Problem]) -> RawDoc | None:
    """Turn a file's bytes into a RawDoc (None, with a problem, when that cannot be done)."""
    text = _decode(path, data, problems)
    if text is None:
        return None
    try:
        split = yamlfm.split(text)
    except yamlfm.YamlError as err:
        problems.append(Problem(path, err.line + 1, None, err.message))
        return None
    if split is None:
        problems.append(
            Problem(path, 1, None, "no front matter: the file must start with a '---' line")
        )
        return None
    try:
        mapping = yamlfm.load_mapping(split.yaml_text)
    except yamlfm.YamlError as err:
        # SPEC 6: YAML's own line plus the front matter's offset.
        kind = "is not valid YAML:" if err.syntax else ""
        message = " ".join(filter(None, ("front matter", kind, err.message)))
        problems.append(Problem(path, split.yaml_line + err.line + 1, None, message))
        return None
    for key, line in mapping.duplicates:
        problems.append(Problem(path, split.yaml_line + line + 1, key, "key given twice"))
    key_lines = {k: split.yaml_line + v + 1 for k, v in mapping.key_lines.items()}
    bad = yamlfm.uncarried_values(mapping.data)
    for key, code in bad:
        line = key_line(key_lines, key) or 1
        problems.append(Problem(path, line, key, yamlfm.uncarried_message(code)))
    if bad:
        return None
    return RawDoc(path, rel, mapping.data, key_lines, split.body, split.body_line + 1)


def _decode(path: Path, data: bytes, problems: list[Problem]) -> str | None:
    """The file as text with LF line ends; None, with a located problem, if it is not UTF-8."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # a BOM is allowed and dropped
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = bom + err.start
        line = data[:offset].count(b"\n") + 1
        bad = data[offset : offset + 1].hex()
        message = f"is not UTF-8 text (byte 0x{bad} at offset {offset}); save the file as UTF-8"
        problems.append(Problem(path, line, None, message))
        return None
    # CRLF (Windows) and lone CR (old Mac) both end a line, as in YAML and CommonMark.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = yamlfm.uncarried(text)
    if found is not None:
        at, code = found
        line = text.count("\n", 0, at) + 1
        if code == "U+0000":
            message = "contains a NUL character (is it a binary file?)"
        else:
            message = yamlfm.uncarried_message(code)
        problems.append(Problem(path, line, None, message))
        return None
    return text
