"""Issue 5: `amwgen serve` over real HTTP: pages, reload and error events, traversal, Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from conftest import EPOCH, REPO, article, tree, write_site

from amwgen.serve import EVENTS_PATH, Hub, inject, locate, reload_script, url_path

DEADLINE = 15.0  # seconds for anything to arrive; a pass takes well under one
ESCAPES = (
    "/../secret.txt",
    "/%2e%2e/%2e%2e/secret.txt",
    "/..%2f..%2fsecret.txt",
    "/news/..%2f..%2f..%2fsecret.txt",
    "//etc/passwd",
    "/%2e%2e%5csecret.txt",
)


# --- the request path rules, without a server ----------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "news" / "a").mkdir(parents=True)
    (out / "news" / "a" / "index.html").write_text("<p>a</p>")
    (out / "feed.xml").write_text("<feed/>")
    (out / "index.html").write_text("<p>home</p>")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "secret-dir").mkdir()
    (out / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (out / "leak-dir").symlink_to(tmp_path / "secret-dir", target_is_directory=True)
    (out / "alias.xml").symlink_to(out / "feed.xml")
    return out.resolve()


def test_pretty_urls(root: Path) -> None:
    assert locate(root, "/news/a/") == root / "news" / "a" / "index.html"
    assert locate(root, "/news/a/?utm=x#top") == root / "news" / "a" / "index.html"
    assert locate(root, "/news/a") == "/news/a/"  # redirect, as static hosts do
    assert locate(root, "/news/a?q=x&p=2#top") == "/news/a/?q=x&p=2"  # with its query
    assert locate(root, "/news/a?q=\x01%20\xe9") == "/news/a/?q=%01%20%C3%A9"  # a URL's bytes
    assert locate(root, "/") == root / "index.html"
    assert locate(root, "/feed.xml") == root / "feed.xml"
    assert locate(root, "/alias.xml") == root / "feed.xml"  # a link that stays inside is fine
    assert locate(root, "/nothing/") is None
    # A file's name with a slash after it is no page: it would work here and not when hosted.
    assert locate(root, "/feed.xml/") is None
    assert locate(root, "/news/a/index.html/") is None


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/news/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/news/..%2f..%2fsecret.txt",
        "/.%2e/secret.txt",
        "/..%5csecret.txt",
        "/%00",
        "//etc/passwd",
        "/%2fetc/passwd",
        "etc/passwd",
        "/leak.txt",
        "/leak-dir/",
        "/%ff",
    ],
)
def test_nothing_outside_the_output_is_served(root: Path, target: str) -> None:
    found = locate(root, target)
    assert found is None or (isinstance(found, Path) and found.is_relative_to(root)), found
    assert found is None


def test_build_output_never_holds_the_reload_script(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {"content/a.md": article()})
    assert run("build", site, "-q").code == 0
    for page in (site / "public").rglob("*"):
        assert not page.is_file() or b"amwgen-serve" not in page.read_bytes(), page


def test_url_path_decodes_ordinary_paths() -> None:
    assert url_path("/tags/%EB%A1%9C%EB%B4%87/") == "/tags/로봇/"
    assert url_path("http://127.0.0.1:8000/x/?q") == "/x/"
    assert url_path(EVENTS_PATH + "?t=1") == EVENTS_PATH


def test_a_name_longer_than_the_file_system_allows_is_404(root: Path) -> None:
    """A red team: a path segment of 300 bytes raised ENAMETOOLONG in the handler (no
    response, a traceback in the terminal); nothing can be built at such a name."""
    long = "a" * 300
    for target in (f"/{long}", f"/news/{long}/", f"/news/{long}", f"/{long}/x/"):
        assert locate(root, target) is None, target


def test_script_goes_before_the_last_body_end() -> None:
    hub = Hub()
    script = reload_script(hub)
    assert b"EventSource" in script and EVENTS_PATH.encode() in script
    html = b"<html><body><p>&lt;/body&gt;</p></BODY></html>"
    assert inject(html, b"<s>") == b"<html><body><p>&lt;/body&gt;</p><s></BODY></html>"
    assert inject(b"<p>x", b"<s>") == b"<p>x<s>"
    # A red team: a </body> in a comment after the real one took the script into the
    # comment, and the page never reloaded.
    html = b"<body>a</body></html><!-- </BODY> -->"
    assert inject(html, b"<s>") == b"<body>a<s></body></html><!-- </BODY> -->"
    assert inject(b"<body>a</body><!-- </body>", b"<s>") == b"<body>a<s></body><!-- </body>"


# --- the real server, over HTTP --------------------------------------------------------------


class _Client:
    """Requests to a server on a port of this machine."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self, path: str, method: str = "GET", **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        try:
            conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name.replace("_", "-"), value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def page(self, path: str, text: str) -> bytes:
        """The page at path once it holds text (rebuilds swap the output in whole)."""
        end = time.monotonic() + DEADLINE
        while True:
            try:
                status, _, body = self.request(path)
            except ConnectionRefusedError:  # not listening yet
                status, body = 0, b""
            if status == 200 and text.encode() in body:
                return body
            if time.monotonic() > end:
                raise AssertionError(f"{path} never held {text!r}: {status} {body[:200]!r}")
            time.sleep(0.05)


class Server(_Client):
    """`python -m amwgen serve SITE --port 0`, its output lines and its event stream."""

    def __init__(self, site: Path, hangup: bool = True, **environ: str) -> None:
        env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONUNBUFFERED": "1", **environ}
        env.pop("GITHUB_ACTIONS", None)
        # SIGHUP as a terminal leaves it (default), or ignored as under nohup (hangup False),
        # whatever the tests' own process has.
        disposition = signal.SIG_DFL if hangup else signal.SIG_IGN
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "amwgen", "serve", str(site), "--port", "0"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGHUP, disposition),
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        _pump(self.proc.stdout, self.out.put)
        _pump(self.proc.stderr, self.err.append)
        line = self.next_line(r"at http://127\.0\.0\.1:(\d+)/")
        self.port = int(re.search(r":(\d+)/", line).group(1))  # type: ignore[union-attr]
        self.events: queue.Queue[tuple[str, dict[str, object]]] = queue.Queue()

    def next_line(self, pattern: str) -> str:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            try:
                line = self.out.get(timeout=0.1)
            except queue.Empty:
                assert self.proc.poll() is None, "".join(self.err)
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line like {pattern!r}; stderr: {''.join(self.err)}")

    def stderr_holds(self, text: str) -> None:
        end = time.monotonic() + DEADLINE
        while not any(text in line for line in self.err):
            assert time.monotonic() < end, f"stderr never held {text!r}: {''.join(self.err)}"
            time.sleep(0.05)

    def listen(self) -> None:
        """Read the event stream in a thread; return once its hello has arrived."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", EVENTS_PATH)
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("text/event-stream")

        def read() -> None:
            name = ""
            try:
                for raw in iter(response.readline, b""):
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        name = line[len("event: ") :]
                    elif line.startswith("data: "):
                        self.events.put((name, json.loads(line[len("data: ") :])))
            except OSError:
                pass

        threading.Thread(target=read, daemon=True).start()
        self.next_event("hello")

    def next_event(self, name: str, containing: str = "") -> dict[str, object]:
        """The next event called name (whose errors hold containing); others are skipped."""
        end = time.monotonic() + DEADLINE
        seen = []
        while time.monotonic() < end:
            try:
                event, data = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append((event, data))
            errors = data["errors"]
            assert isinstance(errors, list)
            if event == name and (not containing or any(containing in e for e in errors)):
                return data
        raise AssertionError(f"no {name!r} event in time; saw {seen}; stderr: {''.join(self.err)}")


def _pump(stream: IO[str], put: object) -> None:
    def run() -> None:
        for line in stream:
            put(line)  # type: ignore[operator]

    threading.Thread(target=run, daemon=True).start()


def _edit(path: Path, text: str) -> None:
    """Replace a file in one step, as editors that save atomically do."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    site = write_site(
        tmp_path / "site",
        {"content/2026/11/story.md": article("A story", "2026-11-20", "Body text one.")},
    )
    (tmp_path / "secret.txt").write_text("top secret")
    started = Server(site)
    try:
        yield started
    finally:
        if started.proc.poll() is None:
            # Ctrl-C, so that the server removes its temporary output folder; killed only
            # if it does not stop.
            started.proc.send_signal(signal.SIGINT)
            try:
                started.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                started.proc.kill()
                started.proc.wait()


def test_serve_rebuilds_reloads_shows_errors_and_stops_on_ctrl_c(
    server: Server, tmp_path: Path
) -> None:
    # Pages are served with the reload script; the build output never holds it.
    body = server.page("/news/story/", "Body text one.")
    assert b"data-amwgen-serve" in body and EVENTS_PATH.encode() in body
    status, headers, _ = server.request("/news/story")
    assert status == 301 and headers["Location"] == "/news/story/"
    status, _, body = server.request("/no/such/page/")
    assert status == 404 and b"Page not found" in body and b"data-amwgen-serve" in body
    status, headers, body = server.request("/feed.xml", "HEAD")
    assert status == 200 and body == b"" and "xml" in headers["Content-Type"]

    # Nothing outside the output, however the path is spelt.
    for target in ESCAPES:
        status, _, body = server.request(target)
        assert status == 404 and b"top secret" not in body, target

    # A save rebuilds; open tabs are told to reload; the page has the new text.
    server.listen()
    story = tmp_path / "site" / "content" / "2026" / "11" / "story.md"
    _edit(story, article("A story", "2026-11-20", "Body text two."))
    server.next_event("reload")
    server.page("/news/story/", "Body text two.")

    # A broken save: the located error reaches the terminal and the tab; the last good build
    # stays served.
    _edit(
        story,
        article("A story", "2026-11-20", "Body text three.").replace("novelty: 1", "novelty: 9"),
    )
    message = f"{story}:4: novelty: 9 is outside 0..3"
    data = server.next_event("errors", message)
    assert data["errors"] == [message]
    server.next_line("changed: ")
    status, _, body = server.request("/news/story/")
    assert status == 200 and b"Body text two." in body
    server.stderr_holds(message)

    # Fixing it clears the overlay: a reload, and the new text.
    _edit(story, article("A story", "2026-11-20", "Body text four."))
    server.next_event("reload")
    server.page("/news/story/", "Body text four.")

    # Ctrl-C: a clean stop.
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=DEADLINE) == 0
    assert "Traceback" not in "".join(server.err)
    server.next_line("^stopped")


def test_serve_keeps_its_cache_apart_so_the_next_build_has_nothing_to_redo(
    run,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """serve builds for its own base URL into a folder of its own: were its cache the
    build's, a build after it would parse every file and render every page again, and
    serve's own rebuilds, reading the build's cache, would too."""
    from amwgen.build import Options, build
    from amwgen.cli import build_now
    from amwgen.incremental import CACHE_DIR, SERVE_CACHE

    stories = {
        f"content/2026/11/story-{n}.md": article(f"Story {n}", f"2026-11-{n + 1:02}", f"Body {n}.")
        for n in range(12)
    }
    site = write_site(tmp_path / "site", stories)
    assert run("build", site).code == 0
    cache = site / CACHE_DIR

    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    def written(folder: Path) -> dict[str, tuple[int, int]]:
        """The document shards, each as the file a save wrote (a save replaces it whole)."""
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("docs-*")}

    before = files(cache)
    server = Server(site)
    try:
        server.page("/news/story-0/", "Body 0.")
        documents = written(cache / SERVE_CACHE)
        story = site / "content" / "2026" / "11" / "story-0.md"
        _edit(story, article("Story 0", "2026-11-01", "Body zero, edited."))
        server.next_line("^changed: ")
        server.next_line("^built ")  # printed once the rebuild has saved its cache
        server.page("/news/story-0/", "Body zero, edited.")
        # Its rebuild read its own cache: only the edited article's documents were saved
        # again (its old and new key's shards), not every article's shard.
        after = written(cache / SERVE_CACHE)
        assert len(documents) >= 8
        assert 1 <= sum(after.get(name) != data for name, data in documents.items()) <= 2
    finally:
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(timeout=DEADLINE) == 0
    assert files(cache) == before  # the build's cache, byte for byte
    now = build_now(os.environ)
    again = build(site, Options(now=now))
    # The pages that show the edited article (13 of 41), the files of the others as they were.
    assert again.ok and 0 < again.rendered < again.files / 2
    clean = Options(now=now, output=tmp_path / "clean", clean=True, save_cache=False)
    assert build(site, clean).ok
    assert tree(site / "public") == tree(tmp_path / "clean")


# --- issue 7, point 6: the dev server is not a way in ----------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/../secret.txt",  # absolute-form, as a proxy would send it
        "http://127.0.0.1/%2e%2e/secret.txt",
        "/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/news/%2e%2e/%2e%2e/secret.txt",
        "/news/a/index.html/../../../secret.txt",
        "/..\\secret.txt",
        "/%252e%252e/secret.txt",  # double encoding decodes once: a name, not a way up
        "/leak-dir/inner.txt",  # a file through a linked folder that leads out
        "/news/../leak.txt",
        "/" + "../" * 20 + "secret.txt",
    ],
)
def test_more_ways_out_are_404(root: Path, target: str) -> None:
    (root.parent / "secret-dir" / "inner.txt").write_text("secret")
    assert locate(root, target) is None


def test_serve_sends_the_part_of_a_file_a_range_asks_for(tmp_path: Path) -> None:
    # Suspected by a red team (twentieth session): no Range requests, and Safari plays a
    # <video> only from a server that answers them.
    site = write_site(tmp_path / "site", {"content/2026/11/a.md": article("A", "2026-11-20")})
    (site / "static").mkdir()
    (site / "static" / "clip.mp4").write_bytes(bytes(range(100)))
    (site / "static" / "empty.txt").write_bytes(b"")
    server = Server(site)
    try:
        server.page("/", "A")
        status, headers, body = server.request("/clip.mp4")
        assert (status, headers["Accept-Ranges"], body) == (200, "bytes", bytes(range(100)))
        for asked, span in [
            ("bytes=10-19", (10, 20)),
            ("bytes=95-", (95, 100)),
            ("bytes=-3", (97, 100)),
            ("bytes=90-500", (90, 100)),
        ]:
            status, headers, body = server.request("/clip.mp4", Range=asked)
            assert status == 206, asked
            assert headers["Content-Range"] == f"bytes {span[0]}-{span[1] - 1}/100", asked
            assert body == bytes(range(*span)), asked
        status, headers, body = server.request("/clip.mp4", Range="bytes=100-")
        assert (status, headers["Content-Range"], body) == (416, "bytes */100", b"")
        # Several ranges, an If-Range (no validator to match), a number of more digits than
        # Python converts (a traceback: a review) or an HTML page: the whole.
        for extra in [
            {"Range": "bytes=0-1,5-6"},
            {"Range": "bytes=0-1", "If_Range": "x"},
            {"Range": "bytes=0-" + "9" * 5000},
        ]:
            assert server.request("/clip.mp4", **extra)[:3:2] == (200, bytes(range(100)))
        # An empty file: a suffix is whole (the RFC counts it satisfiable), a start is past it.
        assert server.request("/empty.txt", Range="bytes=-5")[:3:2] == (200, b"")
        assert server.request("/empty.txt", Range="bytes=0-")[0] == 416
        status, _, body = server.request("/", Range="bytes=0-1")
        assert status == 200 and body.startswith(b"<!doctype html>")
    finally:
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(timeout=DEADLINE) == 0


def test_serve_binds_loopback_unless_told_otherwise(server: Server) -> None:
    from amwgen.cli import make_parser

    assert make_parser().parse_args(["serve"]).bind == "127.0.0.1"
    assert make_parser().parse_args(["serve", "--bind", "0.0.0.0"]).bind == "0.0.0.0"
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("no /proc/net/tcp to read the listening address from")
    listening = []
    for row in table.read_text().splitlines()[1:]:
        local, state = row.split()[1], row.split()[3]
        address, port = local.split(":")
        if state == "0A" and int(port, 16) == server.port:  # 0A: LISTEN
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian hex


def test_serve_prints_each_error_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file name with a line break printed as it is made a second, forged error line: serve
    # printed problems as they are, without the text format's escapes (a review).
    from datetime import UTC, datetime

    from amwgen.build import Options
    from amwgen.serve import rebuild

    name = "real.md:1: title: forged\nx.md"
    site = write_site(
        tmp_path / "site", {f"content/{name}": article("A").replace("novelty: 1", "novelty: 9")}
    )
    now = datetime.fromtimestamp(int(EPOCH), UTC)
    hub = Hub()
    state, _ = rebuild(site, Options(now=now, output=tmp_path / "out"), hub, debug=False)
    expected = f"{site}/content/real.md:1: title: forged\\nx.md:4: novelty: 9 is outside 0..3"
    assert state.errors == (expected,)
    assert capsys.readouterr().err.splitlines()[0] == expected


@pytest.mark.parametrize("stop", ["SIGHUP", "SIGTERM"])
def test_serve_stops_cleanly_when_its_terminal_closes_or_it_is_told_to(
    tmp_path: Path, stop: str
) -> None:
    """A red team: SIGHUP (a terminal closed, an SSH session dropped) left the temporary
    folder behind, a copy of the whole built site; it stops serve as Ctrl-C does."""
    site = write_site(tmp_path / "site", {"content/2026/11/story.md": article()})
    temp = tmp_path / "temp"
    temp.mkdir()
    server = Server(site, TMPDIR=str(temp))
    try:
        assert [p.name for p in temp.iterdir()][0].startswith("amwgen-serve-")
        server.proc.send_signal(getattr(signal, stop))
        server.next_line("^stopped")
        assert server.proc.wait(timeout=DEADLINE) == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
    assert list(temp.iterdir()) == []
    assert "Traceback" not in "".join(server.err)


def test_serve_under_nohup_outlives_its_terminal(tmp_path: Path) -> None:
    """A review: SIGHUP ignored when serve starts (`nohup amwgen serve &`) stays ignored."""
    site = write_site(tmp_path / "site", {"content/2026/11/story.md": article()})
    server = Server(site, hangup=False)
    try:
        server.proc.send_signal(signal.SIGHUP)
        # Still serving after it: a save is built and served.
        story = site / "content" / "2026" / "11" / "story.md"
        _edit(story, article(body="Body after the hangup."))
        server.page("/news/story/", "Body after the hangup.")
        assert server.proc.poll() is None
    finally:
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(timeout=DEADLINE) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_rebuilds_when_a_story_comes_out(tmp_path: Path) -> None:
    """A red team: a story dated ahead never appeared until some file was saved; serve
    rebuilds by itself once the clock passes the moment the passing of time changes a page
    (a story comes out, leaves a window, an edition ends), as a build then would. serve
    runs here in a thread, with a clock the test moves."""
    from datetime import UTC, datetime

    from amwgen.build import Options
    from amwgen.serve import serve

    site = write_site(
        tmp_path / "site",
        {
            "content/2026/11/old.md": article("Old story", "2026-11-01"),
            "content/2026/11/due.md": article("Due story", "'2026-11-27T12:00:00+00:00'"),
            # A draft comes out at no time: no rebuild waits for it.
            "content/2026/11/draft.md": article(
                "Draft", "'2026-11-27T11:30:00+00:00'", draft="true"
            ),
        },
    )
    moments = [datetime(2026, 11, 27, 11, 0, tzinfo=UTC)]
    stop = threading.Event()

    def clock() -> datetime:
        if stop.is_set():
            raise KeyboardInterrupt  # as Ctrl-C would, in the loop that asks the time
        return moments[-1]

    port = _free_port()
    options = Options(now=clock())
    done: list[int] = []
    thread = threading.Thread(
        target=lambda: done.append(serve(site, options, "127.0.0.1", port, clock)), daemon=True
    )
    thread.start()
    try:
        server = _Client(port)
        server.page("/", "Old story")
        assert server.request("/news/due/")[0] == 404
        moments.append(datetime(2026, 11, 27, 12, 0, 1, tzinfo=UTC))
        server.page("/news/due/", "Due story")
        server.page("/", "Due story")
    finally:
        stop.set()
        thread.join(timeout=DEADLINE)
    assert done == [0]


def test_a_draft_sets_no_moment_to_build_again(tmp_path: Path) -> None:
    """A review: a draft dated ahead set the moment the build's output expires (serve
    rebuilt for nothing then, and again 48 hours and 30 days on); with --drafts it counts."""
    from datetime import UTC, datetime

    from amwgen.build import Options, build

    site = write_site(
        tmp_path / "site",
        {"content/2026/11/draft.md": article("Draft", "'2026-11-27T12:00:00+00:00'", draft="true")},
    )
    now = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    moment = datetime(2026, 11, 27, 12, 0, tzinfo=UTC).timestamp()
    plain = build(site, Options(now=now, output=tmp_path / "plain", save_cache=False))
    shown = build(site, Options(now=now, output=tmp_path / "drafts", drafts=True, save_cache=False))
    assert plain.ok and shown.ok
    assert shown.valid_until == moment
    assert plain.valid_until > moment


def test_a_tree_made_while_serving_is_watched_before_the_rebuild_that_reads_it(
    tmp_path: Path,
) -> None:
    """A red team: a file written about 0.1 s after its folder (static/, layouts/, i18n/) was
    made could fall between the rebuild the folder caused and the start of the watch on it,
    and was never served. Once the restarted watch watches, it names its trees as changed,
    so one more rebuild reads what was written meanwhile."""
    from amwgen.serve import start_watchers

    site = write_site(tmp_path / "site", {"content/2026/11/story.md": article()})
    changes: queue.Queue[set[str]] = queue.Queue()
    stop = threading.Event()
    watchers = start_watchers(site, changes, stop)
    try:
        (site / "static").mkdir()
        wanted = {str(site / "content"), str(site / "static")}
        end = time.monotonic() + DEADLINE
        batches: list[set[str]] = []
        while wanted not in batches:
            assert time.monotonic() < end, batches
            try:
                batches.append(changes.get(timeout=0.1))
            except queue.Empty:
                continue
    finally:
        stop.set()
        for watcher in watchers:
            watcher.join(timeout=5)
