"""amwgen serve: build into a temp folder, serve it, rebuild and reload open tabs on change.

Threads: the main one rebuilds when the watchers report a change; http.server answers
requests, each in its own thread; an event stream (/__amwgen/events) tells every open tab
to reload, or hands it the errors of a failed rebuild to show over the page. The reload
script is added to HTML responses here, at serve time; `build` output never holds it.
"""

from __future__ import annotations

import json
import mimetypes
import os
import queue
import re
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import cast
from urllib.parse import quote, unquote, urlsplit

import jinja2
from watchfiles import Change, DefaultFilter, watch

from amwgen.build import Options, build
from amwgen.config import ConfigError, load_config
from amwgen.incremental import SERVE_CACHE
from amwgen.report import as_text

EVENTS_PATH = "/__amwgen/events"
# Issue 5: what a change to rebuilds for; everything else in the site folder is ignored.
TREE_NAMES = ("content", "layouts", "static", "i18n")  # i18n: the site's own theme strings
ROOT_NAMES = ("site.yaml", *TREE_NAMES)
KEEPALIVE_SECONDS = 15.0
WATCH_TICK_MS = 200  # how often a watcher looks up from waiting (to notice stop)
READY_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class State:
    """The outcome of the latest build: its number and the errors that stopped it, if any."""

    version: int
    errors: tuple[str, ...]


class Hub:
    """The latest State, and a way for each event stream to wait for the next one."""

    def __init__(self) -> None:
        self.session = secrets.token_hex(4)  # a restarted server is a new session: tabs reload
        self._changed = threading.Condition()
        self._state = State(0, ())
        self._closed = False

    def state(self) -> State:
        with self._changed:
            return self._state

    def publish(self, errors: tuple[str, ...]) -> State:
        with self._changed:
            self._state = State(self._state.version + 1, errors)
            self._changed.notify_all()
            return self._state

    def wait(self, seen: int, timeout: float) -> State | None:
        """The state once it is newer than seen, or the same after timeout; None once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._state.version != seen, timeout)
            return None if self._closed else self._state

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def build_id(self, state: State) -> str:
        return f"{self.session}.{state.version}"


def serve(
    site_dir: Path,
    options: Options,
    bind: str,
    port: int,
    clock: Callable[[], datetime],
    debug: bool = False,
) -> int:
    """Serve the site until Ctrl-C; 0 then, 2 if the site or the address cannot be used."""
    load_config(site_dir)  # SPEC 5: a missing or invalid site.yaml stops us before we start
    hub = Hub()
    with tempfile.TemporaryDirectory(prefix="amwgen-serve-") as tmp:
        out = Path(tmp) / "site"
        try:
            server = DevServer((bind, port), out.resolve(), hub)
        except OSError as err:
            reason = err.strerror or err
            print(f"amwgen serve: cannot listen on {bind}:{port}: {reason}", file=sys.stderr)
            return 2
        url = f"http://{_url_host(bind)}:{server.server_address[1]}/"
        # Pages link to the server itself; -j 1: a rebuild must not fork workers per save.
        # A cache of its own: the build's, made for another base URL and output, stays whole.
        options = replace(options, output=out, base_url=url, jobs=1, cache=SERVE_CACHE)
        with server, _stops_as_interrupt():
            _run(site_dir, options, clock, server, hub, url, debug)
    return 0


def _run(
    site_dir: Path,
    options: Options,
    clock: Callable[[], datetime],
    server: DevServer,
    hub: Hub,
    url: str,
    debug: bool,
) -> None:
    changes: queue.Queue[set[str]] = queue.Queue()
    stop = threading.Event()
    watchers: list[threading.Thread] = []
    serving = threading.Thread(target=server.serve_forever, name="amwgen-http", daemon=True)
    try:
        watchers = start_watchers(site_dir, changes, stop)
        now = clock()
        _, until = rebuild(site_dir, replace(options, now=now), hub, debug)
        serving.start()
        print(f"serving {site_dir} at {url} (Ctrl-C to stop)", flush=True)
        while True:
            changed = _next_changes(changes, partial(_due, clock, now.timestamp(), until))
            if changed:
                shown = sorted(os.path.relpath(p, site_dir) for p in changed)
                more = " ..." if len(shown) > 5 else ""
                print(f"changed: {', '.join(shown[:5])}{more}", flush=True)
            else:
                print("time passed: a story came out, or a window or an edition ended", flush=True)
            now = clock()
            _, until = rebuild(site_dir, replace(options, now=now), hub, debug)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        stop.set()
        hub.close()
        if serving.is_alive():
            server.shutdown()
        for watcher in watchers:
            watcher.join(timeout=2)


def rebuild(site_dir: Path, options: Options, hub: Hub, debug: bool) -> tuple[State, float]:
    """Build once; print the outcome; publish it to every open tab. Returns the state
    published and when the passing of time next changes a page (a timestamp; never, after
    a failed build: the next save rebuilds)."""
    started = time.perf_counter()
    errors: tuple[str, ...] = ()
    files = 0
    until = float("inf")
    try:
        result = build(site_dir, options)
        for warning in result.warnings:
            print(as_text(warning), file=sys.stderr)
        # One line an error, as build and check print them (report.as_text).
        errors, files = tuple(map(as_text, result.problems)), result.files
        if result.ok:
            until = result.valid_until
    except ConfigError as err:
        errors = tuple(map(as_text, err.problems))
    except jinja2.TemplateSyntaxError as err:
        errors = (f"{err.filename or err.name}:{err.lineno}: template: {err.message}",)
    except Exception as err:  # a bad layout or a bug: the server must keep running (issue 5)
        if debug:
            traceback.print_exc()
        errors = (f"amwgen: the build failed: {type(err).__name__}: {err}",)
    for error in errors:
        print(error, file=sys.stderr)
    state = hub.publish(errors)
    seconds = time.perf_counter() - started
    if errors:
        last = options.output is not None and options.output.exists()
        serving = "still serving the last good build" if last else "nothing to serve yet"
        print(f"{len(errors)} error(s); {serving}", file=sys.stderr, flush=True)
    else:
        print(f"built {files} files in {seconds:.2f} s", flush=True)
    return state, until


def _due(clock: Callable[[], datetime], built: float, until: float) -> bool:
    """Whether the clock has reached until, a moment after built (the last build's "now"): a
    clock held by SOURCE_DATE_EPOCH never does, not even when until is that very moment."""
    moment = clock().timestamp()
    return moment >= until and moment > built


def _next_changes(changes: queue.Queue[set[str]], due: Callable[[], bool]) -> set[str]:
    """The next batch of changed paths, merged with any that queued up during a rebuild; an
    empty set when due() says it is time to rebuild though no file changed."""
    while True:
        try:
            batch = changes.get(timeout=0.5)  # a timeout keeps Ctrl-C prompt
            break
        except queue.Empty:
            if due():
                return set()
    while True:
        try:
            batch |= changes.get_nowait()
        except queue.Empty:
            return batch


# --- watching -------------------------------------------------------------------------------


class _Either:
    """Set when either event is: watchfiles' stop_event only asks is_set()."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()


def start_watchers(
    site_dir: Path, changes: queue.Queue[set[str]], stop: threading.Event
) -> list[threading.Thread]:
    """Watch site.yaml and the content, layouts and static trees; return once both watch."""
    restart = threading.Event()
    ready = (threading.Event(), threading.Event())
    threads = [
        threading.Thread(
            target=_watch_root, args=(site_dir, changes, stop, restart, ready[0]), daemon=True
        ),
        threading.Thread(
            target=_watch_trees, args=(site_dir, changes, stop, restart, ready[1]), daemon=True
        ),
    ]
    for thread in threads:
        thread.start()
    for event in ready:
        event.wait(READY_SECONDS)
    return threads


def _watch_root(
    site_dir: Path,
    changes: queue.Queue[set[str]],
    stop: threading.Event,
    restart: threading.Event,
    ready: threading.Event,
) -> None:
    """The site folder itself, not below: site.yaml (editors often save it by renaming a new
    file over it, which a watch on the file alone would lose) and the trees coming and going."""

    def wanted(change: Change, path: str) -> bool:
        return os.path.basename(path) in ROOT_NAMES

    for batch in _watch([site_dir], stop, wanted, recursive=False):
        ready.set()
        if batch:
            changes.put({path for _, path in batch})
            moved = (Change.added, Change.deleted)
            if any(c in moved and os.path.basename(p) in TREE_NAMES for c, p in batch):
                restart.set()


def _watch_trees(
    site_dir: Path,
    changes: queue.Queue[set[str]],
    stop: threading.Event,
    restart: threading.Event,
    ready: threading.Event,
) -> None:
    """content/, layouts/ and static/ with all below them; restarted when one appears or goes.

    After a restart, once it watches again, it names the trees as changed: the rebuild the
    tree's coming caused may have read it before a file written in it a moment later, which
    this watch, not yet started then, did not see either.
    """
    ignore = DefaultFilter()  # editor swap files, .git, __pycache__ ...
    restarted = False
    while not stop.is_set():
        restart.clear()
        trees = [site_dir / name for name in TREE_NAMES if (site_dir / name).is_dir()]
        announce, restarted = restarted, True
        if not trees:
            ready.set()
            while not (stop.is_set() or restart.wait(WATCH_TICK_MS / 1000)):
                pass
            continue
        for batch in _watch(trees, _Either(stop, restart), ignore, recursive=True):
            ready.set()
            if announce:  # the first tick: the watch has begun
                changes.put({str(tree) for tree in trees})
                announce = False
            if batch:
                changes.put({path for _, path in batch})


def _watch(
    paths: list[Path],
    stop: threading.Event | _Either,
    wanted: Callable[[Change, str], bool],
    recursive: bool,
) -> Iterator[set[tuple[Change, str]]]:
    """watchfiles.watch, yielding an empty set at every tick so the caller knows it watches."""
    yield from watch(
        *paths,
        watch_filter=wanted,
        stop_event=stop,
        recursive=recursive,
        step=50,
        rust_timeout=WATCH_TICK_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
    )


# Stop on these as on Ctrl-C: SIGTERM (kill, a service manager), SIGHUP (the terminal closed,
# an SSH session dropped). Windows has no SIGHUP.
STOP_NAMES = ("SIGTERM", "SIGHUP")
STOP_SIGNALS = tuple(getattr(signal, name) for name in STOP_NAMES if hasattr(signal, name))


@contextmanager
def _stops_as_interrupt() -> Iterator[None]:
    """Stop on STOP_SIGNALS as on Ctrl-C, so the temp folder is removed either way; one that
    was ignored stays ignored (`nohup amwgen serve` outlives its terminal)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = [number for number in STOP_SIGNALS if signal.getsignal(number) is not signal.SIG_IGN]
    previous = [(number, signal.signal(number, interrupt)) for number in caught]
    try:
        yield
    finally:
        for number, handler in previous:
            signal.signal(number, handler)


# --- HTTP -----------------------------------------------------------------------------------


class DevServer(ThreadingHTTPServer):
    daemon_threads = True  # open event streams must not keep the process alive

    def __init__(self, address: tuple[str, int], root: Path, hub: Hub) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.root = root
        self.hub = hub
        super().__init__(address, DevHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a tab closed mid-response: nothing to report
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class DevHandler(BaseHTTPRequestHandler):
    server_version = "amwgen-serve"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the terminal is for build output; requests are noise there

    @property
    def dev(self) -> DevServer:
        return cast(DevServer, self.server)

    def _respond(self, send_body: bool) -> None:
        if url_path(self.path) == EVENTS_PATH and send_body:
            self._events()
            return
        found = locate(self.dev.root, self.path)
        if isinstance(found, str):
            self.send_response(301)
            self.send_header("Location", found)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif found is None:
            page = locate(self.dev.root, "/404.html")
            body = page.read_bytes() if isinstance(page, Path) else NOT_FOUND
            self._send(404, "text/html; charset=utf-8", body, send_body)
        else:
            self._send(200, content_type(found), found.read_bytes(), send_body)

    def _send(self, status: int, ctype: str, body: bytes, send_body: bool) -> None:
        span: tuple[int, int] | None = None
        html = ctype.startswith("text/html")
        if html:
            body = inject(body, reload_script(self.dev.hub))
        # A part of a file, as static hosts send one: Safari plays a <video> only so.
        ranged = status == 200 and not html
        if ranged and "If-Range" not in self.headers:  # no validators to match
            span = byte_range(self.headers.get("Range"), len(body))
        if span is not None and span[0] >= len(body):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            return
        self.send_response(status if span is None else 206)
        self.send_header("Content-Type", ctype)
        if span is not None:
            self.send_header("Content-Range", f"bytes {span[0]}-{span[1] - 1}/{len(body)}")
            body = body[span[0] : span[1]]
        elif ranged:
            self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _events(self) -> None:
        """Server-Sent Events: hello, then reload or errors after each build."""
        hub = self.dev.hub
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        state = hub.state()
        try:
            self._event(hub, "hello", state)
            if state.errors:
                self._event(hub, "errors", state)
            seen = state.version
            while True:
                latest = hub.wait(seen, KEEPALIVE_SECONDS)
                if latest is None:
                    return
                if latest.version == seen:
                    self.wfile.write(b": keep-alive\n\n")
                    continue
                seen = latest.version
                self._event(hub, "errors" if latest.errors else "reload", latest)
        except OSError:
            return  # the tab went away

    def _event(self, hub: Hub, name: str, state: State) -> None:
        data = json.dumps({"build": hub.build_id(state), "errors": list(state.errors)})
        self.wfile.write(f"event: {name}\ndata: {data}\n\n".encode())


def url_path(target: str) -> str | None:
    """The decoded path of a request target; None for one that could leave the output folder."""
    raw = target.split("#", 1)[0].split("?", 1)[0]
    if raw.startswith(("http://", "https://")):  # absolute-form, as a proxy would send it
        raw = urlsplit(raw).path or "/"
    if not raw.startswith("/") or raw.startswith("//"):
        return None
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\\" in path or "\0" in path or any(part in (".", "..") for part in path.split("/")):
        return None
    return path


def locate(root: Path, target: str) -> Path | str | None:
    """The file a request target names below root, a path to redirect to, or None (404).

    Pretty URLs as on static hosting: /x/ serves /x/index.html, /x redirects to /x/. Nothing
    outside root is served, through `..`, encoded or not, or through a symbolic link.
    """
    path = url_path(target)
    if path is None:
        return None
    try:
        real = Path(os.path.realpath(root / path.lstrip("/")))
        if not real.is_relative_to(root):
            return None
        if real.is_dir():
            if not path.endswith("/"):
                # The query kept, as static hosts keep it (a link to /search?q=x), with
                # what a URL may not hold percent-encoded (escapes kept as they are).
                query = target.split("#", 1)[0].partition("?")[2]
                query = quote(query, safe="/?&=%+;:@,!$'()*~")
                return quote(path, safe="/") + "/" + (f"?{query}" if query else "")
            real = Path(os.path.realpath(real / "index.html"))
            if not real.is_relative_to(root):
                return None
        elif path.endswith("/"):
            return None  # /feed.xml/: no static host serves a file there (a red team)
        return real if real.is_file() else None
    except OSError:  # a name longer than the file system allows: nothing is built there
        return None


# Eighteen digits at most: Python converts no number of over 4,300 (a review); a file of
# an exabyte is not served here.
_RANGE = re.compile(r"bytes=(?:([0-9]{1,18})-([0-9]{0,18})|-([0-9]{1,18}))")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The bytes [start, end) a Range header asks of a file of size bytes (RFC 9110 14.1.2:
    `bytes=5-9`, `bytes=5-`, `bytes=-4`); a start at or past the end when none of them is
    there (416), None for no header, one not understood or several ranges (the whole file,
    as the RFC allows)."""
    found = _RANGE.fullmatch(header.strip()) if header else None
    if found is None:
        return None
    first, last, suffix = found.groups()
    if suffix is not None:
        if not int(suffix):
            return size, size  # `bytes=-0`: no byte at all
        # An empty file: no part to send, and the RFC counts this one satisfiable: whole.
        return (max(size - int(suffix), 0), size) if size else None
    start = int(first)
    if last and int(last) < start:
        return None  # `bytes=9-5`: not a range at all
    return start, min(int(last) + 1, size) if last else size


def content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    textual = guessed.startswith("text/") or guessed.endswith(("xml", "json", "javascript"))
    return f"{guessed}; charset=utf-8" if textual else guessed


# A comment, or one left open at the end: a </body> inside it is no end of the body.
_COMMENT = re.compile(rb"<!--.*?(?:-->|\Z)", re.DOTALL)


def inject(html: bytes, script: bytes) -> bytes:
    """html with script before its last </body> outside comments, or at its end."""
    shown = _COMMENT.sub(lambda m: b" " * len(m.group()), html)  # same offsets
    at = shown.lower().rfind(b"</body>")
    return html + script if at < 0 else html[:at] + script + html[at:]


def reload_script(hub: Hub) -> bytes:
    build_id = json.dumps(hub.build_id(hub.state()))
    return RELOAD_SCRIPT.replace("BUILD_ID", build_id).encode()


def _url_host(bind: str) -> str:
    if bind in ("", "0.0.0.0", "::"):
        return "localhost"
    return f"[{bind}]" if ":" in bind else bind


NOT_FOUND = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1><p>Nothing is built at this address.</p></body></html>
"""

# One event stream for all of a site's tabs: browsers open six connections to a host over
# HTTP/1.1 and each stream holds one, so a seventh tab never loaded. The tab holding the lock
# listens and passes what it hears to the others (a BroadcastChannel); when it goes, another
# takes the lock. A tab that comes in asks for what was heard last (a failed build's errors).
# Where there are no Web Locks (not a secure context: --bind 0.0.0.0, opened by its address),
# each tab listens for itself.
RELOAD_SCRIPT = """<script data-amwgen-serve>
(() => {
  const served = BUILD_ID;
  const show = (errors) => {
    let box = document.getElementById("amwgen-errors");
    if (!box) {
      box = document.createElement("pre");
      box.id = "amwgen-errors";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;max-height:60vh;overflow:auto;"
        + "z-index:2147483647;margin:0;padding:1em 1.5em;background:#2b0b0b;color:#ffe9e9;"
        + "font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap;border-top:4px solid #e5484d";
      document.body.appendChild(box);
    }
    box.textContent = "amwgen: the build failed; this is the last good page.\\n\\n"
      + errors.join("\\n");
  };
  const heard = (name, state) => {
    if (name === "reload") location.reload();
    else if (name === "errors") show(state.errors);
    else if (state.build !== served && state.errors.length === 0) location.reload();
  };
  const shared = window.BroadcastChannel && navigator.locks;
  const channel = shared ? new BroadcastChannel("amwgen-serve") : null;
  let now = null;  // the state last heard: the build served now, and its errors
  const listen = () => {
    const source = new EventSource(EVENTS);
    for (const name of ["hello", "reload", "errors"]) {
      source.addEventListener(name, (e) => {
        now = JSON.parse(e.data);
        if (channel) channel.postMessage({name: name, state: now});
        heard(name, now);
      });
    }
  };
  if (!shared) return listen();
  let listening = false;
  channel.onmessage = (e) => {
    if (e.data !== "ask") heard(e.data.name, e.data.state);
    else if (listening && now) {
      // As the stream greets a tab: the build now (a failed one's too: no reload then,
      // the page being its), then its errors.
      channel.postMessage({name: "hello", state: now});
      if (now.errors.length) channel.postMessage({name: "errors", state: now});
    }
  };
  channel.postMessage("ask");
  navigator.locks.request("amwgen-serve", () => {
    listening = true;
    listen();
    return new Promise(() => {});  // held while the tab is open
  });
})();
</script>
""".replace("EVENTS", json.dumps(EVENTS_PATH))
