"""JSON Schema (draft 2020-12) of article front matter and of site.yaml, for editors (issue 5).

Keys, required keys, scales, defaults and date forms come from the validator and the model
(validate.ARTICLE_KEYS, REQUIRED_KEYS, DATE_RE; config.KNOWN_KEYS; SiteConfig and its parts),
so a key added there without a schema here fails loudly instead of drifting.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from amwgen.config import (
    KNOWN_KEYS,
    LANGUAGE_LENGTH,
    LANGUAGE_PATTERN,
    SCALE_BOUND,
    load_config,
)
from amwgen.i18n import region_codes
from amwgen.model import Editions, Promo, Scale, SiteConfig
from amwgen.validate import (
    ARTICLE_KEYS,
    DATE_FORMS,
    DATE_RE,
    DATETIME_RE,
    MAX_TERMS,
    REQUIRED_KEYS,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

# The validator reads numbers as text too ("title: 2026"); null means "not given".
TEXT: Schema = {"type": ["string", "number"]}
NONEMPTY_TEXT: Schema = {"type": ["string", "number"], "pattern": r"\S"}
HTTP_URL: Schema = {"type": "string", "pattern": r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^\s/]+"}
DATE: Schema = {
    "type": "string",
    "pattern": rf"^\s*(?:{DATE_RE.pattern}|{DATETIME_RE.pattern})\s*$",
    "description": DATE_FORMS,
}
TERMS: Schema = {"anyOf": [TEXT, {"type": "array", "items": TEXT, "maxItems": MAX_TERMS}]}


def _region_pattern() -> str:
    """The region codes the validator takes (i18n.region_codes), in either case: JSON
    Schema's patterns have no flag for case."""
    codes = "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in sorted(region_codes()))
    return rf"^\s*(?:{codes})\s*$"


def _optional(schema: Schema) -> Schema:
    """An optional key may also be left empty (`category:`), which the validator skips."""
    return {"anyOf": [schema, {"type": "null"}]}


def _article_keys(config: SiteConfig) -> dict[str, Schema]:
    def score(name: str, scale: Scale) -> Schema:
        return {
            "type": "integer",
            "minimum": scale.min,
            "maximum": scale.max,
            "description": f"required: how {name} the story is, {scale.min} to {scale.max}",
        }

    return {
        "title": {**NONEMPTY_TEXT, "description": "required: the headline"},
        "date": {**DATE, "description": f"required: {DATE_FORMS}; the site's zone if none"},
        "updated": _optional({**DATE, "description": f"when the story changed: {DATE_FORMS}"}),
        "slug": _optional({**TEXT, "description": "the URL name; default: the file name"}),
        "category": _optional({**TEXT, "description": "one label: Funding, Product, Policy ..."}),
        "region": _optional(
            {
                "type": "string",
                "pattern": _region_pattern(),
                "description": "ISO 3166-1 alpha-2, in either case",
            }
        ),
        "source": _optional(
            {
                "description": "the original: an http(s) URL, or {url, name}",
                "anyOf": [
                    HTTP_URL,
                    {
                        "type": "object",
                        "properties": {"url": HTTP_URL, "name": _optional(TEXT)},
                        "required": ["url"],
                        "additionalProperties": False,
                    },
                ],
            }
        ),
        "novelty": score("new", config.novelty),
        "significance": score("significant", config.significance),
        "read": _optional(
            {
                "type": "object",
                "description": "The AMW Read: one line on why each score",
                "properties": {"novelty": _optional(TEXT), "significance": _optional(TEXT)},
                "additionalProperties": False,
            }
        ),
        "topics": _optional({**TERMS, "description": "the player maps the story sits on"}),
        "players": _optional({**TERMS, "description": "organisations the story is about"}),
        "tags": _optional({**TERMS, "description": "a string or a list of strings"}),
        "summary": _optional({**TEXT, "description": "default: the body's first paragraph"}),
        "draft": _optional({"type": "boolean", "description": "true: left out unless --drafts"}),
    }


def article_schema(config: SiteConfig | None = None) -> Schema:
    """The schema of an article's front matter, with config's scales (default: SiteConfig's)."""
    config = config or SiteConfig(title="", base_url="/")
    keys = _article_keys(config)
    return {
        "$schema": DRAFT,
        "title": "amwgen article front matter",
        "type": "object",
        "properties": {key: keys[key] for key in ARTICLE_KEYS},
        "required": list(REQUIRED_KEYS),
        "additionalProperties": False,
    }


def _object(
    cls: type, types: dict[str, Schema], defaults: object | None = None, kept: tuple[str, ...] = ()
) -> Schema:
    """An object whose keys are the dataclass's fields, with defaults from an instance; each
    may be left empty (`top:`, counted as not given) but those kept."""
    props: dict[str, Schema] = {}
    for f in fields(cls):
        prop = dict(types[f.name]) if f.name in kept else _optional(types[f.name])
        if defaults is not None:
            prop["default"] = getattr(defaults, f.name)
        props[f.name] = prop
    return {"type": "object", "properties": props, "additionalProperties": False}


def _site_keys() -> dict[str, Schema]:
    """site.yaml's keys as config reads them: text may be a number (`title: 2026`), and an
    optional key may be left empty, in nested mappings too (a review: the editor flagged
    `timezone:`, which `check` passes)."""
    defaults = SiteConfig(title="", base_url="/")
    integer: Schema = {"type": "integer"}
    boolean: Schema = {"type": "boolean"}
    bounded = {**integer, "minimum": -SCALE_BOUND, "maximum": SCALE_BOUND}
    scale = _object(Scale, {"min": bounded, "max": bounded})
    promo_types = {f.name: TEXT for f in fields(Promo)} | {"url": NONEMPTY_TEXT}

    def optional(schema: Schema, default: object) -> Schema:
        return {**_optional(schema), "default": default}

    return {
        "title": {**NONEMPTY_TEXT, "description": "required: the site's name"},
        "base_url": {**HTTP_URL, "description": "required: absolute URL the site lives at"},
        "language": optional(
            {"type": "string", "pattern": rf"^{LANGUAGE_PATTERN}$", "maxLength": LANGUAGE_LENGTH},
            defaults.language,
        ),
        "timezone": {
            **optional({"type": "string"}, defaults.timezone),
            "description": "IANA zone for dates written without an offset, e.g. Asia/Seoul",
        },
        "description": optional(TEXT, defaults.description),
        "output": optional(TEXT, defaults.output),
        "per_page": optional({"type": "integer", "minimum": 1}, defaults.per_page),
        "scores": _optional(
            {
                "type": "object",
                "properties": {
                    "novelty": optional(scale, _scale(defaults.novelty)),
                    "significance": optional(scale, _scale(defaults.significance)),
                },
                "additionalProperties": False,
            }
        ),
        "markdown": _optional(
            {
                "type": "object",
                "properties": {"unsafe_html": optional(boolean, defaults.unsafe_html)},
                "additionalProperties": False,
            }
        ),
        "search": optional(boolean, defaults.search),
        "editions": _optional(
            _object(
                Editions,
                {"weekly": boolean, "monthly": boolean, "top": {**integer, "minimum": 1}},
                defaults.editions,
            )
        ),
        "promo": _optional({**_object(Promo, promo_types, kept=("url",)), "required": ["url"]}),
    }


def _scale(scale: Scale) -> dict[str, int]:
    return {"min": scale.min, "max": scale.max}


def site_schema() -> Schema:
    """The schema of site.yaml."""
    keys = _site_keys()
    return {
        "$schema": DRAFT,
        "title": "amwgen site.yaml",
        "type": "object",
        "properties": {key: keys[key] for key in KNOWN_KEYS},
        "required": ["title", "base_url"],
        "additionalProperties": False,
    }


def schema_json(site_dir: Path | None, of_site: bool) -> str:
    """`amwgen schema`: the article schema (with site_dir's scales), or site.yaml's."""
    if of_site:
        schema = site_schema()
    else:
        schema = article_schema(load_config(site_dir) if site_dir is not None else None)
    return json.dumps(schema, indent=2, ensure_ascii=False)
