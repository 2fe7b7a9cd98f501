"""new and init: an article dated today, and a new site that builds at once (issue 5)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from amwgen.config import load_config
from amwgen.load import is_utf8, shown
from amwgen.model import SiteConfig
from amwgen.slug import slugify
from amwgen.yamlfm import uncarried, uncarried_message


class Refused(Exception):
    """The command would overwrite a file or a site that is already there."""


class BadTitle(ValueError):
    """A title that gives no file name."""


@dataclass(frozen=True, slots=True)
class NewTerms:
    topics: tuple[str, ...] = ()
    players: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def new_article(site_dir: Path, title: str, now: datetime, terms: NewTerms) -> Path:
    """Write content/YYYY/MM/<slug>.md dated today in the site's time zone; return its path."""
    config = load_config(site_dir)
    title = " ".join(title.split())
    for given in (title, *terms.topics, *terms.players, *terms.tags):
        if not is_utf8(given):  # bytes of another encoding on the command line
            raise BadTitle(f"'{shown(given)}' is not UTF-8 text")
        bad = uncarried(given)
        if bad is not None:  # check would refuse the article written (a review: a BEL)
            raise BadTitle(f"'{shown(given)}' {uncarried_message(bad[1])}")
    slug = slugify(title)
    if not slug:
        raise BadTitle(f"'{title}' has no letters or digits to make a file name from")
    for option, names in (("topic", terms.topics), ("player", terms.players), ("tag", terms.tags)):
        for name in names:
            if not slugify(name):  # check would refuse the article written (SPEC 3)
                raise BadTitle(f"--{option} '{name}' has no letters or digits to name a term")
    # SPEC 3: the site's time zone, never the machine's.
    today = now.astimezone(ZoneInfo(config.timezone)).date()
    path = site_dir / "content" / f"{today:%Y}" / f"{today:%m}" / f"{slug}.md"
    _create(path, article_text(title, today, terms, config))
    return path


def article_text(title: str, today: date, terms: NewTerms, config: SiteConfig) -> str:
    """Front matter with every key filled in or commented; the scores are left for the author."""
    nov, sig = config.novelty, config.significance
    return f"""\
---
title: {_yaml(title)}
date: {today.isoformat()}
# updated: {today.isoformat()}T09:00:00      # when the story changed after it went out
# slug: {slugify(title)}   # default: the file name
category:                 # one word-ish label: Funding, Product, Policy, Partnership ...
region:                   # ISO 3166-1 alpha-2 code, e.g. KR, US
source:                   # https://... or {{url: https://..., name: Publisher}}
novelty:                  # required: a whole number from {nov.min} to {nov.max}
significance:             # required: a whole number from {sig.min} to {sig.max}
read:
  novelty:                # why this novelty score, in one line
  significance:           # why this significance score, in one line
topics: {_yaml(list(terms.topics))}
players: {_yaml(list(terms.players))}
tags: {_yaml(list(terms.tags))}
# summary: One or two sentences.   # default: the body's first paragraph
draft: false
---
What happened, in one or two sentences: this paragraph is the summary unless `summary:` is set.

## Why it matters

## Grounded expert take
"""


def init_site(site_dir: Path, now: datetime) -> list[Path]:
    """Create a site (site.yaml, one example article, README, .gitignore); return the paths."""
    today = now.date()  # the new site's time zone is UTC
    name = site_dir.resolve().name
    # The folder's name as the title, if it is text (a name in another encoding is not).
    title = " ".join(name.replace("-", " ").replace("_", " ").split()) if is_utf8(name) else ""
    files = {
        "site.yaml": SITE_YAML.format(title=_yaml(title.title() or "AI Digest")),
        f"content/{today:%Y}/{today:%m}/welcome.md": EXAMPLE.format(date=today.isoformat()),
        "README.md": README,
        ".gitignore": "public/\n.public.*/\n.amwgen-cache/\n",
    }
    # All refused before one is written (no half-made site), and a site's content/ too.
    for rel in dict.fromkeys(["site.yaml", "content", *files]):
        if os.path.lexists(site_dir / rel):
            raise Refused(f"{site_dir / rel} already exists; not overwritten")
    written = []
    for rel, text in files.items():
        path = site_dir / rel
        _create(path, text)
        written.append(path)
    return written


def _create(path: Path, text: str) -> None:
    data = text.encode("utf-8")  # before the file is made: no empty file left by an error
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "xb") as file:
            file.write(data)
    except FileExistsError:
        raise Refused(f"{path} already exists; not overwritten") from None


# Characters YAML does not allow in a file, even quoted (DEL, C1, two non-characters), or
# reads as a line break (NEL, U+2028, U+2029): written as escapes, which it reads back as the
# same characters. JSON escapes C0 already.
_NOT_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def _yaml(value: str | list[str]) -> str:
    """A YAML flow value for value (JSON is YAML: quotes and escapes are safe)."""
    text = json.dumps(value, ensure_ascii=False)
    return _NOT_YAML.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


SITE_YAML = """\
# Settings of this amwgen site; every key but title and base_url is optional.
title: {title}
base_url: https://example.org/   # where the site will live: feeds, sitemaps and canonical links
language: en
timezone: UTC                    # an IANA zone such as Asia/Seoul, for dates written without one
output: public                   # the output folder, relative to this file
per_page: 20
scores:
  novelty: {{min: 0, max: 3}}
  significance: {{min: 0, max: 3}}
"""

EXAMPLE = """\
---
title: Our digest goes live
date: {date}
category: Product
region: US
source: {{url: https://example.org/, name: Example}}
novelty: 1
significance: 1
read:
  novelty: a new digest, built from Markdown files
  significance: useful to whoever reads it, news to nobody else
topics: [Publishing]
players: [Example]
tags: [amwgen, getting started]
---
This is the first story of the digest. Replace it with your own, or start a new one with
`amwgen new "Title"`.

## Why it matters

Every story carries two scores and one line of reasoning for each, so readers can see at a
glance what is new and what is big.
"""

README = """\
# An amwgen digest

Build the site into `public/` with `amwgen build`; write with `amwgen serve` running (it rebuilds
and reloads the browser on every save) and start a story with `amwgen new "Title"`.
"""
