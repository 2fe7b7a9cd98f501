"""Issue 7, point 7: `amwgen check --sources` against a local server (loopback only)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import article, write_site

from amwgen.linkcheck import USER_AGENT, check_sources, verdict
from amwgen.model import Article, Source

TIMEOUT = 0.5  # seconds; the "never" path answers only when the test ends


class Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0  # the most requests in flight at once
        self.seen: list[tuple[str, str, str]] = []  # (method, path, user agent)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Origin

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, send_body: bool) -> None:
        origin = self.server
        with origin.lock:
            origin.seen.append((self.command, self.path, self.headers.get("User-Agent", "")))
            origin.active += 1
            origin.most = max(origin.most, origin.active)
        self.counted = True
        try:
            self._route(send_body)
        finally:
            self._done()

    def _done(self) -> None:
        """The request is no longer in flight: before its answer is sent, since the client
        may start its next request as soon as it has the answer."""
        if self.counted:
            self.counted = False
            with self.server.lock:
                self.server.active -= 1

    def _route(self, send_body: bool) -> None:
        path = self.path
        if path == "/never":
            self.server.stop.wait(30)  # far past the client's timeout
            return
        if path.startswith("/moved"):
            self._send(301, location="/ok")
        elif path == "/gone":
            self._send(404)
        elif path == "/no-head" and not send_body:
            self._send(405)
        elif path == "/broken":
            self._send(500)
        elif path.startswith("/slow"):
            # Slow enough that requests overlap, so the per-host limit has something to do.
            self.server.stop.wait(0.05)
            self._send(200)
        else:
            self._send(200 if path in ("/ok", "/no-head") else 404)

    def _send(self, status: int, location: str | None = None) -> None:
        self._done()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def origin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Origin]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = Origin()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


def _site(tmp_path: Path, base: str) -> Path:
    files = {
        "content/ok.md": article("Ok", source=f"{base}/ok"),
        "content/moved.md": article("Moved", source=f"{base}/moved"),
        "content/gone.md": article("Gone", source=f"{base}/gone"),
        "content/never.md": article("Never", source=f"{base}/never"),
        "content/nohead.md": article("No head", source=f"{base}/no-head"),
        "content/named.md": article(
            "Named", region="KR", source=f"{{url: '{base}/gone', name: Gone Daily}}"
        ),
        "content/plain.md": article("No source"),
    }
    return write_site(tmp_path / "site", files)


def test_check_sources_warns_about_dead_and_moved_links(
    run, origin: Origin, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    site = _site(tmp_path, origin.base)
    result = run("check", site, "--sources", "--sources-timeout", str(TIMEOUT))
    assert result.code == 0, result.err  # warnings only
    content = site / "content"
    base = origin.base
    assert result.err.splitlines() == [
        f"{content}/gone.md:6: warning: source: dead link {base}/gone: HTTP 404 Not Found",
        f"{content}/moved.md:6: warning: source: {base}/moved redirects to {base}/ok",
        f"{content}/named.md:7: warning: source: dead link {base}/gone: HTTP 404 Not Found",
        f"{content}/never.md:6: warning: source: dead link {base}/never: "
        f"no answer within {TIMEOUT:g} s",
    ]
    assert "ok: 7 article(s), no errors" in result.out
    # One request per distinct URL (HEAD), GET only where HEAD was refused; our User-Agent.
    heads = sorted(path for method, path, _ in origin.seen if method == "HEAD")
    assert heads[:5] == ["/gone", "/moved", "/never", "/no-head", "/ok"]
    gets = sorted(path for method, path, _ in origin.seen if method == "GET")
    assert "/no-head" in gets
    # The redirect's target is fetched too (urllib follows a HEAD's redirect with GET).
    assert sorted(path for _, path, _ in origin.seen if path != "/no-head") == [
        "/gone",
        "/moved",
        "/never",
        "/ok",
        "/ok",
    ]
    assert {agent for _, _, agent in origin.seen} == {USER_AGENT}


def test_without_the_flag_nothing_is_fetched(run, origin: Origin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = _site(tmp_path, origin.base)
    result = run("check", site)
    assert result.code == 0 and result.err == ""
    assert origin.seen == []


def test_bad_timeout_is_a_usage_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {"content/a.md": article()})
    assert run("check", site, "--sources", "--sources-timeout", "soon").code == 2


def test_errors_and_refused_connections(origin: Origin) -> None:
    assert verdict(f"{origin.base}/broken", TIMEOUT) == (
        f"dead link {origin.base}/broken: HTTP 500 Internal Server Error"
    )
    # A port nobody listens on: take one from a socket that is then closed.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert verdict(f"http://127.0.0.1:{port}/", TIMEOUT) == (
        f"dead link http://127.0.0.1:{port}/: Connection refused"
    )


def test_requests_to_one_host_are_limited(origin: Origin) -> None:
    articles = [_article(f"{origin.base}/slow/{n}") for n in range(12)]
    assert check_sources(articles, TIMEOUT * 10, workers=8, per_host=2) == []
    assert len(origin.seen) == 12
    assert 1 <= origin.most <= 2


def _article(url: str) -> Article:
    from datetime import UTC, datetime

    path = Path("/nonexistent") / f"{abs(hash(url))}.md"
    return Article(
        path=path,
        rel=path.name,
        slug=path.stem,
        title="T",
        date=datetime(2026, 11, 20, tzinfo=UTC),
        updated=None,
        category=None,
        region=None,
        source=Source(url, "x"),
        novelty=1,
        significance=1,
        read_novelty="",
        read_significance="",
        topics=(),
        players=(),
        tags=(),
        summary="",
        body_html="",
        words=1,
    )
