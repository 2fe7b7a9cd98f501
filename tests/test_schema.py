"""Issue 5: `amwgen schema` is built from the validator's own definitions and agrees with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, SITE_YAML, write_site
from jsonschema import Draft202012Validator

from amwgen import yamlfm
from amwgen.config import KNOWN_KEYS, ConfigError, load_config
from amwgen.load import load_content
from amwgen.schema import article_schema, site_schema
from amwgen.validate import ARTICLE_KEYS, REQUIRED_KEYS, validate_article


def _validator(schema: dict[str, object]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schemas_are_valid_draft_2020_12_and_follow_the_validator() -> None:
    article = article_schema()
    assert article["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(article["properties"]) == list(ARTICLE_KEYS)
    assert article["required"] == list(REQUIRED_KEYS)
    assert article["properties"]["novelty"]["maximum"] == 3
    site = site_schema()
    assert list(site["properties"]) == list(KNOWN_KEYS)
    _validator(article)
    _validator(site)


@pytest.mark.parametrize("site", [REPO, FIXTURES / "golden"], ids=["repository", "golden"])
def test_every_example_article_validates(site: Path) -> None:
    loaded = load_content(site)
    validator = _validator(article_schema(load_config(site)))
    assert loaded.articles
    for doc in loaded.articles:
        errors = [e.message for e in validator.iter_errors(doc.fields)]
        assert errors == [], doc.rel


def test_every_site_yaml_validates() -> None:
    validator = _validator(site_schema())
    for site in (REPO, FIXTURES / "golden", FIXTURES / "broken"):
        data = yamlfm.load_mapping((site / "site.yaml").read_text(encoding="utf-8")).data
        assert list(validator.iter_errors(data)) == [], site


@pytest.mark.parametrize(
    "name", ["2026/11/alliance.md", "2026/11/dates.md", "2026/11/missing.md", "2026/11/terms.md"]
)
def test_bad_fixtures_fail_the_schema(name: str) -> None:
    site = FIXTURES / "broken"
    doc = next(d for d in load_content(site).articles if d.rel == name)
    validator = _validator(article_schema(load_config(site)))
    assert list(validator.iter_errors(doc.fields)) != []


GOOD = "title: T\ndate: 2026-11-20\nnovelty: 1\nsignificance: 2\n"
CASES = {
    "minimal": GOOD,
    "everything": GOOD
    + "updated: 2026-11-21T09:30:00+09:00\nslug: x\ncategory: Funding\nregion: kr\n"
    + "source: {url: https://e.org/a, name: E}\nread: {novelty: a, significance: b}\n"
    + "topics: Robotics\nplayers: [A, B]\ntags: [x, 2026]\nsummary: S.\ndraft: true\n",
    "empty optional keys": GOOD + "category:\nregion:\nsource:\nread:\ntags:\ndraft:\n",
    "number as title": GOOD.replace("title: T", "title: 2026"),
    "missing significance": GOOD.replace("significance: 2\n", ""),
    "empty title": GOOD.replace("title: T", "title: ''"),
    "novelty out of scale": GOOD.replace("novelty: 1", "novelty: 4"),
    "novelty negative": GOOD.replace("novelty: 1", "novelty: -1"),
    "novelty as text": GOOD.replace("novelty: 1", "novelty: '1'"),
    "novelty as boolean": GOOD.replace("novelty: 1", "novelty: true"),
    "novelty as float": GOOD.replace("novelty: 1", "novelty: 1.5"),
    "date as word": GOOD.replace("2026-11-20", "yesterday"),
    "date compact": GOOD.replace("2026-11-20", "20261120"),
    "unknown key": GOOD + "tittle: x\n",
    "draft yes": GOOD + "draft: yes\n",
    "region three letters": GOOD + "region: KOR\n",
    "region no code": GOOD + "region: KO\n",
    "region reserved": GOOD + "region: uk\n",
    "a thousand tags": GOOD + "tags: [" + ", ".join(f"t{i}" for i in range(1000)) + "]\n",
    "too many tags": GOOD + "tags: [" + ", ".join(f"t{i}" for i in range(1001)) + "]\n",
    "script source": GOOD + "source: javascript:alert(1)\n",
    "source without url": GOOD + "source: {name: E}\n",
    "source unknown key": GOOD + "source: {url: https://e.org/, nmae: E}\n",
    "read unknown key": GOOD + "read: {novelty: a, signifcance: b}\n",
    "read as text": GOOD + "read: because\n",
    "tags as mapping": GOOD + "tags: {a: b}\n",
    "tag as list": GOOD + "tags: [[a]]\n",
}


@pytest.mark.parametrize("case", CASES)
def test_schema_and_validator_agree(case: str, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {"content/a.md": f"---\n{CASES[case]}---\nBody.\n"})
    config = load_config(site)
    (doc,) = load_content(site).articles
    _, problems = validate_article(doc, config)
    schema_errors = list(_validator(article_schema(config)).iter_errors(doc.fields))
    assert bool(schema_errors) == bool(problems), (problems, [e.message for e in schema_errors])


def test_schema_command(tmp_path: Path) -> None:
    site_yaml = SITE_YAML + "scores:\n  significance: {min: 1, max: 5}\n"
    site = write_site(tmp_path / "site", {}, site_yaml)

    def schema(*args: str | Path) -> dict[str, object]:
        cmd = [sys.executable, "-m", "amwgen", "schema", *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
        return dict(json.loads(proc.stdout))

    assert schema() == article_schema()
    own = schema(site)
    assert own["properties"]["significance"]["minimum"] == 1  # type: ignore[index]
    assert own["properties"]["significance"]["maximum"] == 5  # type: ignore[index]
    assert schema("--site") == site_schema()


MINIMAL_SITE = "title: T\nbase_url: https://t.example/\n"
SITE_CASES = {
    "empty optional keys": MINIMAL_SITE
    + "language:\ntimezone:\ndescription:\noutput:\nper_page:\nsearch:\nmarkdown:\n"
    + "editions: {weekly: , top: }\nscores: {novelty: , significance: {min: , max: 5}}\n",
    "empty promo label": MINIMAL_SITE + "promo: {url: /about/, label: }\n",
    "number as title": MINIMAL_SITE.replace("title: T", "title: 2026"),
    "number as description": MINIMAL_SITE + "description: 2026\n",
    "empty title": MINIMAL_SITE.replace("title: T", "title:"),
    "promo without url": MINIMAL_SITE + "promo: {title: P, url: }\n",
    "promo with an empty url": MINIMAL_SITE + "promo: {title: P, url: ''}\n",
    "per_page zero": MINIMAL_SITE + "per_page: 0\n",
    "search as text": MINIMAL_SITE + "search: yes\n",
    "unknown nested key": MINIMAL_SITE + "editions: {tpo: }\n",
    "promo title number": MINIMAL_SITE + "promo: {title: 5, url: /about/}\n",
    "promo title list": MINIMAL_SITE + "promo: {title: [5], url: /about/}\n",
}


@pytest.mark.parametrize("case", SITE_CASES)
def test_site_schema_and_config_agree(case: str, tmp_path: Path) -> None:
    # A review: the editor's schema refused `timezone:` and `title: 2026`, which check passes.
    write_site(tmp_path, {}, SITE_CASES[case])
    try:
        load_config(tmp_path)
        refused = False
    except ConfigError:
        refused = True
    data = yamlfm.load_mapping(SITE_CASES[case]).data
    errors = [e.message for e in _validator(site_schema()).iter_errors(data)]
    assert bool(errors) == refused, errors
