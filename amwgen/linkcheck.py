"""`check --sources`: fetch every article's source URL; dead or moved ones become warnings.

Each distinct URL is fetched once (HEAD, then GET where a server refuses HEAD), by a pool of
WORKERS threads with at most PER_HOST requests to one host at a time, each network step
bounded by a timeout. Redirects are followed; a link that ends elsewhere is reported with
the final URL, so the article can be updated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from amwgen import __version__
from amwgen.load import parse_doc
from amwgen.model import Article, Problem
from amwgen.sources import DocResult

DEFAULT_TIMEOUT = 10.0  # seconds for each network step of one request
WORKERS = 8
PER_HOST = 2  # be polite: a newsroom cites one outlet many times
USER_AGENT = f"amwgen/{__version__} (source link check; +https://pypi.org/project/amwgen/)"
HEAD_REFUSED = (405, 501)


@dataclass(frozen=True, slots=True)
class Citation:
    """An article's source URL and where the file says it."""

    path: Path
    line: int
    url: str


def articles_of(results: Mapping[str, DocResult]) -> list[Article]:
    """Every valid article of a check (drafts and future ones too), by path."""
    found = [r.value for r in results.values() if isinstance(r.value, Article)]
    return sorted(found, key=lambda a: str(a.path))


def check_sources(
    articles: Iterable[Article],
    timeout: float = DEFAULT_TIMEOUT,
    workers: int = WORKERS,
    per_host: int = PER_HOST,
) -> list[Problem]:
    """A warning for each article whose source URL is dead or redirects elsewhere."""
    citations = [c for a in articles if (c := citation(a)) is not None]
    urls = sorted({c.url for c in citations})
    gates = _Gates(per_host)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        verdicts = dict(zip(urls, pool.map(lambda u: gates.run(u, timeout), urls), strict=True))
    return [
        Problem(c.path, c.line, "source", verdict, "warning")
        for c in citations
        if (verdict := verdicts[c.url]) is not None
    ]


def citation(article: Article) -> Citation | None:
    """The article's source URL with the line of its `source` key (None without a source)."""
    if article.source is None:
        return None
    line = 1
    try:
        doc = parse_doc(article.path, article.rel, article.path.read_bytes(), [])
    except OSError:
        doc = None
    if doc is not None:
        line = doc.key_lines.get("source.url", doc.key_lines.get("source", 1))
    return Citation(article.path, line, article.source.url)


class _Gates:
    """One semaphore per host, made on first use."""

    def __init__(self, per_host: int) -> None:
        self.per_host = max(1, per_host)
        self.lock = threading.Lock()
        self.hosts: dict[str, threading.Semaphore] = {}

    def run(self, url: str, timeout: float) -> str | None:
        try:
            host = (urlsplit(url).netloc or url).lower()
        except ValueError:
            host = url
        with self.lock:
            gate = self.hosts.setdefault(host, threading.Semaphore(self.per_host))
        with gate:
            return verdict(url, timeout)


def verdict(url: str, timeout: float) -> str | None:
    """None when url answers 2xx where it is; else what is wrong with it, in a few words."""
    # Loaded here, not at start-up: only check --sources goes online.
    import http.client
    import urllib.error

    try:
        try:
            final = _fetch(url, "HEAD", timeout)
        except urllib.error.HTTPError as err:
            if err.code not in HEAD_REFUSED:
                raise
            final = _fetch(url, "GET", timeout)
    except urllib.error.HTTPError as err:
        moved = f" (after a redirect to {err.url})" if err.url != url else ""
        return f"dead link {url}: HTTP {err.code} {err.reason}{moved}"
    except urllib.error.URLError as err:
        return f"dead link {url}: {_reason(err.reason, timeout)}"
    except (OSError, http.client.HTTPException, ValueError) as err:
        return f"dead link {url}: {_reason(err, timeout)}"
    if final != url:
        return f"{url} redirects to {final}"
    return None


def _fetch(url: str, method: str, timeout: float) -> str:
    """The final URL after redirects; HTTPError for a 4xx/5xx answer."""
    import urllib.request

    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return str(response.geturl())


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
