"""Write a Hugo site equivalent to an amwgen benchmark site, for timing Hugo in the same run.

Same articles (front matter and bodies), and the page kinds the performance issue compares:
article pages with their terms, tag/topic/player/category/region lists and term pages, the
paginated home page and feeds. Not Related News: Hugo's `.Related` (Debian's Hugo 0.111) took
389 s at 10,000 articles, against 9 s without it, so it is left out and the comparison is
kinder to Hugo than to amwgen, which does compute related news, editions and more feeds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CONFIG = """\
baseURL = "https://bench.example.org/"
title = "Bench Digest"
languageCode = "en"
disableKinds = ["robotsTXT", "404"]
timeZone = "Asia/Seoul"

[pagination]
  pagerSize = 20

paginate = 20

[taxonomies]
  tag = "tags"
  topic = "topics"
  player = "players"
  category = "category"
  region = "region"

[outputs]
  home = ["HTML", "RSS"]
  section = ["HTML"]
  taxonomy = ["HTML"]
  term = ["HTML", "RSS"]
"""

BASEOF = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ .Title }} · {{ .Site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}"></head>
<body><header><a href="/">{{ .Site.Title }}</a>
<nav><a href="/topics/">Topics</a> <a href="/players/">Players</a> <a href="/tags/">Tags</a></nav>
</header><main>{{ block "main" . }}{{ end }}</main></body></html>
"""

CARD = """<article><p><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">
{{ .Date.Format "2 Jan 2006" }}</time></p>
<h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2><p>{{ .Summary | plainify }}</p>
<p>Novelty {{ .Params.novelty }}/3 · Significance {{ .Params.significance }}/3
{{ range .GetTerms "players" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
</article>
"""

SINGLE = """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p><time>{{ .Date.Format "2 Jan 2006" }}</time> · {{ .ReadingTime }} min read</p>
<section><h2>The AMW Read</h2><p>Novelty {{ .Params.novelty }}/3: {{ .Params.read.novelty }}</p>
<p>Significance {{ .Params.significance }}/3: {{ .Params.read.significance }}</p></section>
{{ range .GetTerms "topics" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }} · Player Map</a>{{ end }}
{{ .Content }}
<p>{{ range .GetTerms "tags" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
<p>{{ range .GetTerms "players" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
</article>{{ end }}
"""

LIST = """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $pager := .Paginate .Pages }}{{ range $pager.Pages }}{{ partial "card.html" . }}{{ end }}
{{ with $pager.Next }}<a href="{{ .URL }}">Older</a>{{ end }}{{ end }}
"""

TAXONOMY = """{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a>
{{ .Count }}</li>{{ end }}</ul>{{ end }}
"""

HOME = """{{ define "main" }}<h1>Latest news</h1>
{{ $pager := .Paginate (where .Site.RegularPages "Section" "news") }}
{{ range $pager.Pages }}{{ partial "card.html" . }}{{ end }}
{{ with $pager.Next }}<a href="{{ .URL }}">Older</a>{{ end }}{{ end }}
"""


def write(site: Path, target: Path) -> None:
    """Copy site's articles into a Hugo site at target with equivalent layouts."""
    shutil.rmtree(target, ignore_errors=True)
    news = target / "content" / "news"
    news.mkdir(parents=True)
    (target / "hugo.toml").write_text(CONFIG, encoding="utf-8")
    layouts = target / "layouts"
    for rel, text in {
        "_default/baseof.html": BASEOF,
        "_default/single.html": SINGLE,
        "_default/list.html": LIST,
        "_default/taxonomy.html": TAXONOMY,
        "_default/term.html": LIST,
        "partials/card.html": CARD,
        "index.html": HOME,
    }.items():
        path = layouts / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in sorted((site / "content").rglob("*.md")):
        (news / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
